// ELEMWISE: a register bytecode VM for fused elementwise programs (layout in ops.def).
//
// The program is validated and planned once per call: registers are renamed to single-assignment
// values, dead ops are dropped, values that are the same for every element (constants, one-element
// inputs and anything computed only from those) are evaluated once per thread, and the remaining
// values get physical block buffers with a small liveness-based allocator.  The flattened output is
// then processed in blocks of a few hundred elements: each op is one tight loop over a block, so
// the register file stays in L1 and the loops vectorize.
//
// float32 transcendental functions use the vectorizable approximations below (a few ulp over the
// whole range, with IEEE behaviour for inf/NaN/overflow/underflow); float64 uses <cmath>.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "../../runtime/internal.h"

#define EW_INLINE inline __attribute__((always_inline))

namespace {

const int kArity[] = {
#define ST_EW(e, name, arity) arity,
#include "../../ops.def"
#undef ST_EW
};
static_assert(sizeof(kArity) / sizeof(kArity[0]) == ST_EW_COUNT, "arity table out of sync with ops.def");
// ew_body has one case per micro-op; a new ST_EW entry in ops.def needs one here too.
static_assert(ST_EW_COUNT == ST_EW_ERF + 1, "elementwise.cc: implement the micro-ops added to ops.def");

// ---------------------------------------------------------------------------------------------
// Scalar helpers (all branch-free selects so that loops calling them vectorize)

EW_INLINE uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
EW_INLINE float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr float kNanF = std::numeric_limits<float>::quiet_NaN();

// float -> int32: truncation toward zero, NaN -> 0, saturating at the int32 range.
EW_INLINE int32_t to_i32(float x) {
  float y = x != x ? 0.0f : x;
  y = y < -2147483648.0f ? -2147483648.0f : y;
  return y >= 2147483648.0f ? INT32_MAX : (int32_t)y;
}
EW_INLINE int32_t to_i32(double x) {
  double y = x != x ? 0.0 : x;
  y = y < -2147483648.0 ? -2147483648.0 : y;
  y = y > 2147483647.0 ? 2147483647.0 : y;
  return (int32_t)y;
}

// The conversion every register/input/output cast goes through.
template <class D, class S>
EW_INLINE D cvt(S x) {
  if constexpr (std::is_same<D, S>::value) {
    return x;
  } else if constexpr (std::is_same<D, uint8_t>::value) {
    return (uint8_t)(x != 0);
  } else if constexpr (std::is_same<D, int32_t>::value && std::is_floating_point<S>::value) {
    return to_i32(x);
  } else {
    return (D)x;
  }
}

// Round half to even for |x| < 2^23 by the add-and-subtract trick (needs no SSE4.1); larger
// magnitudes (and inf/NaN) are already integers.
EW_INLINE float round_even_f(float x) {
  float ax = std::fabs(x);
  float r = (ax + 8388608.0f) - 8388608.0f;
  return ax < 8388608.0f ? std::copysign(r, x) : x;
}
EW_INLINE float floor_f(float x) {
  float t = round_even_f(x);
  t = t > x ? t - 1.0f : t;
  return std::copysign(t, x);  // floor keeps the sign of x (or is zero with it)
}
EW_INLINE float ceil_f(float x) {
  float t = round_even_f(x);
  t = t < x ? t + 1.0f : t;
  return std::copysign(t, x);
}

// ---- float32 approximations -----------------------------------------------------------------

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;        // 16 significant bits: k * kLn2Hi is exact
constexpr float kLn2Lo = 1.42860682030941723e-6f;   // ln 2 - kLn2Hi
constexpr float kRoundMagic = 12582912.0f;          // 1.5 * 2^23

// e^x.  x = k ln2 + r, |r| <= ln2/2; e^r = 1 + r + r^2 P(r) (fitted, rel. error 3e-9); 2^k is
// applied as two exactly representable factors so that results in the subnormal range round once.
EW_INLINE float exp_f(float x) {
  float xs = x > 88.8f ? 88.8f : x;
  xs = xs < -104.0f ? -104.0f : xs;
  xs = xs != xs ? 0.0f : xs;
  float kf = (xs * kLog2e + kRoundMagic) - kRoundMagic;
  float r = xs - kf * kLn2Hi;
  r = r - kf * kLn2Lo;
  float p = 0.0013814458804305395f;
  p = p * r + 0.008368781192327944f;
  p = p * r + 0.04166839438369803f;
  p = p * r + 0.16666520099404966f;
  p = p * r + 0.49999993411640203f;
  float er = 1.0f + (r + (r * r) * p);
  int32_t k = (int32_t)kf;
  int32_t k1 = k >> 1, k2 = k - k1;
  float s1 = float_of((uint32_t)(k1 + 127) << 23), s2 = float_of((uint32_t)(k2 + 127) << 23);
  float res = er * s1 * s2;
  return x != x ? x : res;
}

// e^y - 1 for y in [-30, 20] (finite): expm1(r) = r + r^2/2 + r^3 Q(r) (rel. error 4e-10), then
// 2^k (expm1(r) + 1) - 1 = 2^k expm1(r) + (2^k - 1), exact for k = 0.
EW_INLINE float expm1_core_f(float y) {
  float kf = (y * kLog2e + kRoundMagic) - kRoundMagic;
  float r = y - kf * kLn2Hi;
  r = r - kf * kLn2Lo;
  float q = 0.00019824087596667303f;
  q = q * r + 0.0013933334040544415f;
  q = q * r + 0.008333419969977478f;
  q = q * r + 0.04166648196604342f;
  q = q * r + 0.16666666297063984f;
  float r2 = r * r;
  float p = r + (0.5f * r2 + (r2 * r) * q);
  int32_t k = (int32_t)kf;
  float s = float_of((uint32_t)(k + 127) << 23);
  return s * p + (s - 1.0f);
}

EW_INLINE float expm1_f(float x) {
  float y = x < -30.0f ? -30.0f : x;
  y = y > 20.0f ? 20.0f : y;
  y = y != y ? 0.0f : y;
  float v = expm1_core_f(y);
  v = x > 20.0f ? exp_f(x) : v;  // expm1(x) == exp(x) in float beyond here
  v = x == 0.0f ? x : v;          // keeps -0
  return x != x ? x : v;
}

// ln x.  x = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f):
// ln(1+f) = 2 atanh(s) = f - hfsq + s (hfsq + R(s^2)), R the atanh series (truncation 2e-9).
EW_INLINE float log_f(float x) {
  bool sub = x < 1.17549435e-38f;  // subnormal (or <= 0, fixed below)
  float xn = sub ? x * 8388608.0f : x;
  uint32_t ix = bits_of(xn);
  int32_t k = (int32_t)(ix - 0x3f3504f3u) >> 23;
  float m = float_of(ix - ((uint32_t)k << 23));
  float f = m - 1.0f;
  float kf = (float)k + (sub ? -23.0f : 0.0f);
  float s = f / (2.0f + f);
  float z = s * s;
  float R = 0.22222222222222222f;
  R = R * z + 0.28571428571428571f;
  R = R * z + 0.4f;
  R = R * z + 0.66666666666666667f;
  R = R * z;
  float hfsq = 0.5f * f * f;
  float lg = kf * kLn2Hi - ((hfsq - (s * (hfsq + R) + kf * kLn2Lo)) - f);
  lg = x < 0.0f ? kNanF : lg;
  lg = x == 0.0f ? -kInfF : lg;
  lg = x == kInfF ? kInfF : lg;
  return x != x ? x : lg;
}

// ln(1 + x) = ln(u) * x / (u - 1) with u = fl(1 + x): the factor corrects the rounding of u.
EW_INLINE float log1p_f(float x) {
  float u = 1.0f + x;
  float um1 = u - 1.0f;
  float r = log_f(u) * (x / um1);
  r = um1 == 0.0f ? x : r;
  return x == kInfF ? x : r;
}

// tanh |x| = t / (t + 2) with t = expm1(2|x|): no cancellation near 0; tanh(9.1) is 1 in float.
EW_INLINE float tanh_f(float x) {
  float ax = std::fabs(x);
  float y = ax > 9.1f ? 9.1f : ax;
  y = y != y ? 0.0f : y;
  float t = expm1_core_f(2.0f * y);
  float r = std::copysign(t / (t + 2.0f), x);
  return x != x ? x : r;
}

// 1 / (1 + e^-x), written with e = e^-|x| so that it is accurate and saturates on both sides.
EW_INLINE float sigmoid_f(float x) {
  float e = exp_f(-std::fabs(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

EW_INLINE float softplus_f(float x) {
  float m = x > 0.0f ? x : 0.0f;
  float r = m + log1p_f(exp_f(-std::fabs(x)));
  return x != x ? x : r;
}

// sin/cos for |x| <= kTrigMax: reduction by pi/2 in double (three-part Cody-Waite, exact for
// k < 2^20), Taylor polynomials on [-pi/4, pi/4].  Other lanes are fixed up with std::sin/cos.
constexpr float kTrigMax = 1.5e6f;
EW_INLINE float sincos_f(float xf, int quadrant_shift) {
  double x = xf;
  double xs = std::fabs(x) <= (double)kTrigMax ? x : 0.0;
  double kd = (xs * 0.63661977236758134 + 6755399441055744.0) - 6755399441055744.0;
  double r = ((xs - kd * 1.5707963267341256) - kd * 6.077100506303966e-11) - kd * 2.0222662487959506e-21;
  int32_t q = (int32_t)kd + quadrant_shift;
  double z = r * r;
  double s = r + (r * z) * (-1.0 / 6 + z * (1.0 / 120 + z * (-1.0 / 5040 + z * (1.0 / 362880))));
  double c = 1.0 - 0.5 * z + (z * z) * (1.0 / 24 + z * (-1.0 / 720 + z * (1.0 / 40320 + z * (-1.0 / 3628800))));
  double v = (q & 1) ? c : s;
  v = (q & 2) ? -v : v;
  return (xf == 0.0f && quadrant_shift == 0) ? xf : (float)v;  // sin(-0) = -0
}

// erf/erfc, evaluated in double on float inputs.  |z| < 0.9: erf(z) = z P(z^2) (fitted, rel. error
// 1.2e-8).  z >= 0.9: erfc(z) = e^(-z^2) t Q(t) with t = 1 / (1 + z/2) (fitted, 1.8e-8); e^(-z^2)
// is exp_f of the float part of 40 - z^2, times 1 + the rest and e^-40, so it stays a normal
// float far into the tail and the split of z^2 costs no accuracy.
EW_INLINE double erf_small_d(double z) {
  double z2 = z * z;
  double p = -0.0006090496061186973;
  p = p * z2 + 0.005011993343404672;
  p = p * z2 - 0.026778933852489584;
  p = p * z2 + 0.11282141705042845;
  p = p * z2 - 0.3761252340712365;
  p = p * z2 + 1.1283791538511285;
  return z * p;
}
EW_INLINE double erfc_tail_d(double z) {  // z in [0.9, 10.5]
  double t = 1.0 / (1.0 + 0.5 * z);
  double q = 0.08868817796706452;
  q = q * t - 0.21272555614256852;
  q = q * t + 0.06660714947760046;
  q = q * t + 0.07097808370249387;
  q = q * t + 0.1751474222495451;
  q = q * t + 0.24772820535263912;
  q = q * t + 0.2819536821828881;
  q = q * t + 0.28210238333722837;
  q = q * t;
  double a = 40.0 - z * z;
  float ah = (float)a;
  double e = (double)exp_f(ah) * (1.0 + (a - (double)ah)) * 4.248354255291589e-18;
  return q * e;
}

EW_INLINE float erf_f(float x) {
  double z = std::fabs((double)x);
  z = z < 6.0 ? z : 6.0;  // erf(6) rounds to 1; NaN is fixed below
  double r = z < 0.9 ? erf_small_d(z) : 1.0 - erfc_tail_d(z);
  float res = std::copysign((float)r, x);
  return x != x ? x : res;
}

// x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, with the negative side from erfc so it stays accurate.
EW_INLINE float gelu_f(float x) {
  double xd = x;
  double zx = std::fabs(xd) * 0.70710678118654752;
  double z = zx < 10.5 ? zx : 10.5;  // beyond, x Phi(x) underflows for negative x; NaN is fixed below
  double ec = erfc_tail_d(z < 0.9 ? 0.9 : z), es = erf_small_d(z);
  bool small = z < 0.9;
  double pos = small ? 0.5 + 0.5 * es : 1.0 - 0.5 * ec;
  double neg = small ? 0.5 - 0.5 * es : 0.5 * ec;
  neg = zx < 10.5 ? neg : 0.0;
  double phi = xd >= 0 ? pos : neg;
  float res = (float)(xd * phi);
  res = x == -kInfF ? kNanF : res;  // -inf * 0, like the formula
  return x != x ? x : res;
}

EW_INLINE double double_of(uint64_t u) {
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}

// x^y for float inputs with C99 pow semantics: log2|x| and 2^w in double (relative error of
// w = y log2|x| about 1e-15), so the float result is as good as rounding std::pow's.
EW_INLINE float pow_f(float xf, float yf) {
  const double y = yf;
  const float axf = std::fabs(xf);
  // log2 |x| = k + ln(1 + f) / ln 2, ln(1 + f) = 2 atanh(s) as in log_f, series to s^17
  bool sub = axf < 1.17549435e-38f;
  uint32_t ix = bits_of(sub ? axf * 8388608.0f : axf);
  int32_t k = (int32_t)(ix - 0x3f3504f3u) >> 23;
  double f = (double)float_of(ix - ((uint32_t)k << 23)) - 1.0;
  double s = f / (2.0 + f), z = s * s;
  double p = 1.0 / 17;
  p = p * z + 1.0 / 15;
  p = p * z + 1.0 / 13;
  p = p * z + 1.0 / 11;
  p = p * z + 1.0 / 9;
  p = p * z + 1.0 / 7;
  p = p * z + 1.0 / 5;
  p = p * z + 1.0 / 3;
  double ln1pf = 2.0 * s + (2.0 * s) * (z * p);
  double l2 = ((double)k + (sub ? -23.0 : 0.0)) + ln1pf * 1.4426950408889634;
  l2 = axf == 0.0f ? -(double)kInfF : l2;
  l2 = axf == kInfF ? (double)kInfF : l2;
  double w = y * l2;
  // 2^w = 2^kw e^(r ln 2), |r| <= 1/2; anything beyond +-200 is inf/0 in float
  double wc = w < -200.0 ? -200.0 : w;
  wc = wc > 200.0 ? 200.0 : wc;
  wc = wc != wc ? 0.0 : wc;
  double kw = (wc + 6755399441055744.0) - 6755399441055744.0;
  double t = (wc - kw) * 0.69314718055994531;
  double e = 1.0 / 3628800;
  e = e * t + 1.0 / 362880;
  e = e * t + 1.0 / 40320;
  e = e * t + 1.0 / 5040;
  e = e * t + 1.0 / 720;
  e = e * t + 1.0 / 120;
  e = e * t + 1.0 / 24;
  e = e * t + 1.0 / 6;
  e = e * t + 0.5;
  e = e * t + 1.0;
  e = e * t + 1.0;
  double mag = e * double_of((uint64_t)((int64_t)kw + 1023) << 52);
  mag = axf == 1.0f ? 1.0 : mag;  // also for y = +-inf
  // sign and domain: negative x needs an integer y; odd y keeps the sign (of -0 and -inf too).
  // (bitwise & and | keep the loop free of branches)
  const double big = 4503599627370496.0;  // 2^52: every double beyond is an even integer
  double ay = std::fabs(y), ah = 0.5 * ay;
  bool y_int = (ay >= big) | (((ay + big) - big) == ay);
  bool y_odd = y_int & (ah < big) & (((ah + big) - big) != ah);
  float res = (float)mag;
  res = (std::signbit(xf) & y_odd) ? -res : res;
  res = ((xf < 0.0f) & (xf > -kInfF) & !y_int) ? kNanF : res;
  res = ((xf != xf) | (yf != yf)) ? kNanF : res;
  return ((yf == 0.0f) | (xf == 1.0f)) ? 1.0f : res;
}

// ---- overloads used by the generic op bodies --------------------------------------------------

EW_INLINE float m_exp(float x) { return exp_f(x); }
EW_INLINE float m_expm1(float x) { return expm1_f(x); }
EW_INLINE float m_log(float x) { return log_f(x); }
EW_INLINE float m_log1p(float x) { return log1p_f(x); }
EW_INLINE float m_tanh(float x) { return tanh_f(x); }
EW_INLINE float m_sigmoid(float x) { return sigmoid_f(x); }
EW_INLINE float m_softplus(float x) { return softplus_f(x); }
EW_INLINE float m_floor(float x) { return floor_f(x); }
EW_INLINE float m_ceil(float x) { return ceil_f(x); }
EW_INLINE float m_round(float x) { return round_even_f(x); }
EW_INLINE float m_gelu(float x) { return gelu_f(x); }
EW_INLINE float m_erf(float x) { return erf_f(x); }

EW_INLINE double m_exp(double x) { return std::exp(x); }
EW_INLINE double m_expm1(double x) { return std::expm1(x); }
EW_INLINE double m_log(double x) { return std::log(x); }
EW_INLINE double m_log1p(double x) { return std::log1p(x); }
EW_INLINE double m_tanh(double x) { return std::tanh(x); }
EW_INLINE double m_sigmoid(double x) {
  double e = std::exp(-std::fabs(x));
  return (x >= 0 ? 1.0 : e) / (1.0 + e);
}
EW_INLINE double m_softplus(double x) {
  double r = (x > 0 ? x : 0.0) + std::log1p(std::exp(-std::fabs(x)));
  return x != x ? x : r;
}
EW_INLINE double m_floor(double x) { return std::floor(x); }
EW_INLINE double m_ceil(double x) { return std::ceil(x); }
EW_INLINE double m_round(double x) { return std::nearbyint(x); }
EW_INLINE double m_gelu(double x) { return 0.5 * x * std::erfc(x * -0.70710678118654752); }
EW_INLINE double m_erf(double x) { return std::erf(x); }

// ---- int32 arithmetic (wrapping, never UB) ----------------------------------------------------

EW_INLINE int32_t i_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
EW_INLINE int32_t i_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
EW_INLINE int32_t i_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }
EW_INLINE int32_t i_neg(int32_t a) { return (int32_t)(0u - (uint32_t)a); }
// Floor division (like numpy //); x / 0 = 0.
EW_INLINE int32_t i_div(int32_t a, int32_t b) {
  if (b == 0) return 0;
  if (b == -1) return i_neg(a);
  int32_t q = a / b, r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q;
}
// Remainder with the sign of the divisor; x mod 0 = 0.
EW_INLINE int32_t i_mod(int32_t a, int32_t b) {
  if (b == 0 || b == -1) return 0;
  int32_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
EW_INLINE int32_t i_pow(int32_t base, int32_t e) {
  if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
  uint32_t r = 1, b = (uint32_t)base;
  for (uint32_t k = (uint32_t)e; k; k >>= 1) {
    if (k & 1) r *= b;
    b *= b;
  }
  return (int32_t)r;
}
EW_INLINE int32_t i_clip_lo(double p) { return to_i32(std::ceil(p)); }
EW_INLINE int32_t i_clip_hi(double p) { return to_i32(std::floor(p)); }

template <class T>
EW_INLINE T mod_float(T x, T y) {
  T r = std::fmod(x, y);
  r = (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
  return r == 0 ? std::copysign(T(0), y) : r;
}

template <class T>
EW_INLINE void fill_n(T *__restrict d, T v, int n) {
  for (int i = 0; i < n; i++) d[i] = v;
}

// ---------------------------------------------------------------------------------------------
// One micro-op over n elements.  d never aliases a, b or c (the planner guarantees it).

template <class T>
EW_INLINE void ew_body(int ew, int n, T *__restrict d, const T *__restrict a, const T *__restrict b,
                       const T *__restrict c, double p0, double p1) {
  constexpr bool I = std::is_same<T, int32_t>::value;
  using F = typename std::conditional<I, double, T>::type;  // what float-valued ops compute in
  const F f0 = (F)p0;
  (void)p1;

#define EW_U(expr)                  \
  for (int i = 0; i < n; i++) {     \
    const T x = a[i];               \
    d[i] = (expr);                  \
  }                                 \
  return
#define EW_B(expr)                  \
  for (int i = 0; i < n; i++) {     \
    const T x = a[i], y = b[i];     \
    d[i] = (expr);                  \
  }                                 \
  return
#define EW_F(expr)                                   \
  for (int i = 0; i < n; i++) {                      \
    const F x = (F)a[i];                             \
    d[i] = cvt<T>(expr);                             \
  }                                                  \
  return

  switch (ew) {
    case ST_EW_CONST: {
      const T v = cvt<T>(p0);
      for (int i = 0; i < n; i++) d[i] = v;
      return;
    }
    case ST_EW_IDENTITY: EW_U(x);
    case ST_EW_NEG:
      if constexpr (I) { EW_U(i_neg(x)); } else { EW_U(-x); }
    case ST_EW_ABS:
      if constexpr (I) { EW_U(x < 0 ? i_neg(x) : x); } else { EW_U(std::fabs(x)); }
    case ST_EW_SIGN: EW_U(x > 0 ? T(1) : x < 0 ? T(-1) : x);
    case ST_EW_EXP: EW_F(m_exp(x));
    case ST_EW_EXPM1: EW_F(m_expm1(x));
    case ST_EW_LOG: EW_F(m_log(x));
    case ST_EW_LOG1P: EW_F(m_log1p(x));
    case ST_EW_SQRT: EW_F(std::sqrt(x));
    case ST_EW_RSQRT: EW_F(F(1) / std::sqrt(x));
    case ST_EW_SQUARE:
      if constexpr (I) { EW_U(i_mul(x, x)); } else { EW_U(x * x); }
    case ST_EW_RECIPROCAL:
      if constexpr (I) { EW_U((x == 1 || x == -1) ? x : 0); } else { EW_U(T(1) / x); }
    case ST_EW_SIN:
    case ST_EW_COS:
      if constexpr (std::is_same<T, float>::value) {
        const int shift = ew == ST_EW_COS ? 1 : 0;
        for (int i = 0; i < n; i++) d[i] = sincos_f(a[i], shift);
        for (int i = 0; i < n; i++)
          if (!(std::fabs(a[i]) <= kTrigMax))
            d[i] = (float)(shift ? std::cos((double)a[i]) : std::sin((double)a[i]));
        return;
      } else {
        if (ew == ST_EW_COS) { EW_F(std::cos(x)); }
        EW_F(std::sin(x));
      }
    case ST_EW_TANH: EW_F(m_tanh(x));
    case ST_EW_SIGMOID: EW_F(m_sigmoid(x));
    case ST_EW_RELU: EW_U(x <= T(0) ? T(0) : x);
    case ST_EW_LEAKY_RELU:
      if constexpr (I) { EW_U(x > 0 ? x : to_i32(p0 * (double)x)); } else { EW_U(x > 0 ? x : f0 * x); }
    case ST_EW_ELU: EW_F(x > 0 ? x : f0 * m_expm1(x));
    case ST_EW_SELU: EW_F(F(1.0507009873554805) * (x > 0 ? x : F(1.6732632423543772) * m_expm1(x)));
    case ST_EW_GELU: EW_F(m_gelu(x));
    case ST_EW_SOFTPLUS: EW_F(m_softplus(x));
    case ST_EW_FLOOR:
      if constexpr (I) { EW_U(x); } else { EW_U(m_floor(x)); }
    case ST_EW_CEIL:
      if constexpr (I) { EW_U(x); } else { EW_U(m_ceil(x)); }
    case ST_EW_ROUND:
      if constexpr (I) { EW_U(x); } else { EW_U(m_round(x)); }
    case ST_EW_CLIP:
      if constexpr (I) {
        const int32_t lo = i_clip_lo(p0), hi = i_clip_hi(p1);
        EW_U(std::min(std::max(x, lo), hi));
      } else {
        const T lo = (T)p0, hi = (T)p1;
        for (int i = 0; i < n; i++) {
          T x = a[i];
          x = x < lo ? lo : x;  // NaN stays NaN
          d[i] = x > hi ? hi : x;
        }
        return;
      }
    case ST_EW_ISNAN:
      if constexpr (I) { fill_n(d, T(0), n); return; } else { EW_U(x != x ? T(1) : T(0)); }
    case ST_EW_ISFINITE:
      if constexpr (I) {
        fill_n(d, T(1), n);
        return;
      } else {
        EW_U(std::fabs(x) <= std::numeric_limits<T>::max() ? T(1) : T(0));
      }
    case ST_EW_LOGICAL_NOT: EW_U(x == T(0) ? T(1) : T(0));
    case ST_EW_ADD:
      if constexpr (I) { EW_B(i_add(x, y)); } else { EW_B(x + y); }
    case ST_EW_SUB:
      if constexpr (I) { EW_B(i_sub(x, y)); } else { EW_B(x - y); }
    case ST_EW_MUL:
      if constexpr (I) { EW_B(i_mul(x, y)); } else { EW_B(x * y); }
    case ST_EW_DIV:
      if constexpr (I) { EW_B(i_div(x, y)); } else { EW_B(x / y); }
    case ST_EW_POW:
      if constexpr (I) {
        EW_B(i_pow(x, y));
      } else if constexpr (std::is_same<T, float>::value) {
        EW_B(pow_f(x, y));
      } else {
        EW_B(std::pow(x, y));
      }
    case ST_EW_MAXIMUM: EW_B(x != x ? x : (x > y ? x : y));
    case ST_EW_MINIMUM: EW_B(x != x ? x : (x < y ? x : y));
    case ST_EW_MOD:
      if constexpr (I) { EW_B(i_mod(x, y)); } else { EW_B(mod_float(x, y)); }
    case ST_EW_EQUAL: EW_B(x == y ? T(1) : T(0));
    case ST_EW_NOT_EQUAL: EW_B(x != y ? T(1) : T(0));
    case ST_EW_LESS: EW_B(x < y ? T(1) : T(0));
    case ST_EW_LESS_EQUAL: EW_B(x <= y ? T(1) : T(0));
    case ST_EW_GREATER: EW_B(x > y ? T(1) : T(0));
    case ST_EW_GREATER_EQUAL: EW_B(x >= y ? T(1) : T(0));
    case ST_EW_LOGICAL_AND: EW_B(((x != T(0)) & (y != T(0))) ? T(1) : T(0));
    case ST_EW_LOGICAL_OR: EW_B(((x != T(0)) | (y != T(0))) ? T(1) : T(0));
    case ST_EW_WHERE:
      for (int i = 0; i < n; i++) d[i] = a[i] != T(0) ? b[i] : c[i];
      return;
    case ST_EW_ERF: EW_F(m_erf(x));
  }
#undef EW_U
#undef EW_B
#undef EW_F
}

// ---------------------------------------------------------------------------------------------
// Plan

enum InKind { IN_DIRECT, IN_SPLAT, IN_BCAST };

// An input broadcast to the output, as collapsed (shape, stride) pairs over the output's dims.
struct InPlan {
  int kind = IN_DIRECT;
  int dtype = ST_F32;
  const void *data = nullptr;
  int nd = 0;
  int64_t shape[ST_MAX_DIMS] = {}, stride[ST_MAX_DIMS] = {};
  // > 0 when the broadcast repeats with this period along the flat output (the outermost collapsed
  // dim is broadcast, e.g. a bias [C] over [N, C]): one period is expanded per thread and read in place
  int64_t period = 0;
  size_t tile_off = 0;  // where that expansion lives in the thread's buffer (elements)
};

struct Step {
  int ew, dst, a, b, c;  // value ids; -1 for unused operands
  double p0, p1;
};

struct Plan {
  int64_t n = 0;                 // output elements
  int n_vals = 0;                // inputs + ops
  int n_slots = 0;               // block buffers per thread
  std::vector<InPlan> in;
  std::vector<int> slot;         // per value: buffer index, or -1 (input read in place)
  std::vector<int> gathered;     // non-uniform inputs that are converted/gathered every block
  std::vector<int> direct;       // inputs read in place
  std::vector<int> splat;        // one-element inputs (filled once per thread)
  std::vector<int> tiled;        // periodic broadcasts (expanded once per thread)
  size_t tile_elems = 0;         // per thread, after the block buffers
  std::vector<Step> uniform;     // evaluated once per thread
  std::vector<Step> varying;     // evaluated per block
  std::vector<int> out_val;      // per output: the value it stores
  int64_t cost = 1;              // per element, for the thread split
};

constexpr int64_t kMaxPeriod = 16384;  // longest broadcast period expanded per thread

int op_cost(int ew) {
  switch (ew) {
    case ST_EW_EXP: case ST_EW_EXPM1: case ST_EW_LOG: case ST_EW_LOG1P: case ST_EW_SIN: case ST_EW_COS:
    case ST_EW_TANH: case ST_EW_SIGMOID: case ST_EW_ELU: case ST_EW_SELU: case ST_EW_SOFTPLUS:
    case ST_EW_ERF: case ST_EW_GELU: case ST_EW_POW: return 8;
    case ST_EW_MOD: return 16;
    default: return 1;
  }
}

// Right-aligned numpy broadcast of input `t` to the output shape; collapses dims.
bool plan_input(const st_tensor &t, const st_tensor &out, int64_t n, InPlan *ip) {
  ip->dtype = t.dtype;
  ip->data = t.data;
  if (t.ndim > out.ndim) return false;
  int off = out.ndim - t.ndim;
  for (int d = 0; d < t.ndim; d++)
    if (t.shape[d] != out.shape[off + d] && t.shape[d] != 1) return false;
  int64_t m = st_numel(&t);
  if (m == n) {
    ip->kind = IN_DIRECT;
    return true;
  }
  if (m == 1) {
    ip->kind = IN_SPLAT;
    return true;
  }
  ip->kind = IN_BCAST;
  // strides of the input over the output dims (0 where broadcast), size-1 output dims dropped
  int64_t shp[ST_MAX_DIMS], str[ST_MAX_DIMS];
  int k = 0;
  int64_t s = 1;
  for (int d = out.ndim - 1; d >= 0; d--) {
    int td = d - off;
    int64_t tdim = td >= 0 ? t.shape[td] : 1;
    if (out.shape[d] != 1) {
      shp[k] = out.shape[d];
      str[k] = tdim == 1 ? 0 : s;
      k++;
    }
    s *= tdim;
  }
  // shp/str are innermost first; merge neighbours that step uniformly, then store outermost first
  int nd = 0;
  int64_t cs[ST_MAX_DIMS], cst[ST_MAX_DIMS];
  for (int i = 0; i < k; i++) {
    if (nd > 0 && str[i] == cst[nd - 1] * cs[nd - 1]) {
      cs[nd - 1] *= shp[i];
      continue;
    }
    cs[nd] = shp[i], cst[nd] = str[i], nd++;
  }
  ip->nd = nd;
  for (int i = 0; i < nd; i++) ip->shape[i] = cs[nd - 1 - i], ip->stride[i] = cst[nd - 1 - i];
  return true;
}

// ---------------------------------------------------------------------------------------------
// Block loaders/stores

template <class T, class S>
EW_INLINE void convert_n(const S *__restrict s, T *__restrict d, int n) {
  for (int i = 0; i < n; i++) d[i] = cvt<T>(s[i]);
}

// Elements [start, start + len) of the broadcast input, converted to T.
template <class T, class S>
EW_INLINE void gather_t(const InPlan &ip, int64_t start, int len, T *__restrict dst) {
  const S *src = static_cast<const S *>(ip.data);
  if (ip.kind == IN_DIRECT) {
    convert_n(src + start, dst, len);
    return;
  }
  if (ip.kind == IN_SPLAT) {
    fill_n(dst, cvt<T>(src[0]), len);
    return;
  }
  const int nd = ip.nd;
  int64_t idx[ST_MAX_DIMS];
  int64_t off = 0, rem = start;
  for (int d = nd - 1; d >= 0; d--) {
    idx[d] = rem % ip.shape[d];
    rem /= ip.shape[d];
    off += idx[d] * ip.stride[d];
  }
  const int64_t inner = ip.shape[nd - 1], s = ip.stride[nd - 1];
  auto carry = [&]() {  // the inner index wrapped: step the outer ones
    off -= inner * s;
    idx[nd - 1] = 0;
    for (int d = nd - 2; d >= 0; d--) {
      off += ip.stride[d];
      if (++idx[d] < ip.shape[d]) break;
      off -= ip.shape[d] * ip.stride[d];
      idx[d] = 0;
    }
  };
  if (inner < 6) {  // very short runs: element by element
    for (int i = 0; i < len; i++) {
      dst[i] = cvt<T>(src[off]);
      off += s;
      if (++idx[nd - 1] == inner) carry();
    }
    return;
  }
  int pos = 0;
  while (pos < len) {
    int run = (int)std::min<int64_t>(inner - idx[nd - 1], len - pos);
    if (s == 1)
      convert_n(src + off, dst + pos, run);
    else if (s == 0)
      fill_n(dst + pos, cvt<T>(src[off]), run);
    else
      for (int i = 0; i < run; i++) dst[pos + i] = cvt<T>(src[off + i * s]);
    pos += run;
    off += run * s;
    idx[nd - 1] += run;
    if (idx[nd - 1] == inner) carry();
  }
}

template <class T>
EW_INLINE void gather_any(const InPlan &ip, int64_t start, int len, T *__restrict dst) {
  switch (ip.dtype) {
    case ST_F32: gather_t<T, float>(ip, start, len, dst); break;
    case ST_F64: gather_t<T, double>(ip, start, len, dst); break;
    case ST_I32: gather_t<T, int32_t>(ip, start, len, dst); break;
    default: gather_t<T, uint8_t>(ip, start, len, dst); break;
  }
}

template <class T>
EW_INLINE void store_any(const T *__restrict src, int dtype, void *data, int64_t start, int len) {
  switch (dtype) {
    case ST_F32: convert_n(src, static_cast<float *>(data) + start, len); break;
    case ST_F64: convert_n(src, static_cast<double *>(data) + start, len); break;
    case ST_I32: convert_n(src, static_cast<int32_t *>(data) + start, len); break;
    default: convert_n(src, static_cast<uint8_t *>(data) + start, len); break;
  }
}

// The multiversioned entry points, one set per compute type.
#define EW_DEFINE_HOT(T, SUF)                                                                          \
  ST_HOT void ew_kernel_##SUF(int ew, int n, T *__restrict d, const T *__restrict a, const T *__restrict b, \
                              const T *__restrict c, double p0, double p1) {                           \
    ew_body<T>(ew, n, d, a, b, c, p0, p1);                                                             \
  }                                                                                                    \
  ST_HOT void ew_gather_##SUF(const InPlan &ip, int64_t start, int len, T *__restrict dst) {           \
    gather_any<T>(ip, start, len, dst);                                                                \
  }                                                                                                    \
  ST_HOT void ew_store_##SUF(const T *__restrict src, int dtype, void *data, int64_t start, int len) { \
    store_any<T>(src, dtype, data, start, len);                                                        \
  }
EW_DEFINE_HOT(float, f32)
EW_DEFINE_HOT(double, f64)
EW_DEFINE_HOT(int32_t, i32)
#undef EW_DEFINE_HOT

template <class T>
struct Hot;
template <>
struct Hot<float> {
  static void kernel(int ew, int n, float *d, const float *a, const float *b, const float *c, double p0, double p1) {
    ew_kernel_f32(ew, n, d, a, b, c, p0, p1);
  }
  static void gather(const InPlan &ip, int64_t s, int len, float *d) { ew_gather_f32(ip, s, len, d); }
  static void store(const float *src, int dt, void *data, int64_t s, int len) { ew_store_f32(src, dt, data, s, len); }
};
template <>
struct Hot<double> {
  static void kernel(int ew, int n, double *d, const double *a, const double *b, const double *c, double p0,
                     double p1) {
    ew_kernel_f64(ew, n, d, a, b, c, p0, p1);
  }
  static void gather(const InPlan &ip, int64_t s, int len, double *d) { ew_gather_f64(ip, s, len, d); }
  static void store(const double *src, int dt, void *data, int64_t s, int len) { ew_store_f64(src, dt, data, s, len); }
};
template <>
struct Hot<int32_t> {
  static void kernel(int ew, int n, int32_t *d, const int32_t *a, const int32_t *b, const int32_t *c, double p0,
                     double p1) {
    ew_kernel_i32(ew, n, d, a, b, c, p0, p1);
  }
  static void gather(const InPlan &ip, int64_t s, int len, int32_t *d) { ew_gather_i32(ip, s, len, d); }
  static void store(const int32_t *src, int dt, void *data, int64_t s, int len) { ew_store_i32(src, dt, data, s, len); }
};

// ---------------------------------------------------------------------------------------------
// Execution

template <class T>
struct BlockSize {
  static constexpr int value = sizeof(T) == 8 ? 512 : 1024;
};

template <class T>
void run_range(const Plan &p, const st_instr *ins, int64_t blk_begin, int64_t blk_end, T *buf, const T **vp) {
  constexpr int B = BlockSize<T>::value;
  const int64_t first = std::min<int64_t>(B, p.n);
  auto reg = [&](int v) { return buf + (size_t)p.slot[v] * B; };  // a value's block buffer
  auto ptr = [&](int v) { return v >= 0 ? vp[v] : nullptr; };
  for (int v = 0; v < p.n_vals; v++) vp[v] = p.slot[v] >= 0 ? reg(v) : nullptr;
  // once per thread: uniform values (one block's worth) and the expanded periodic broadcasts
  for (int i : p.splat) Hot<T>::gather(p.in[i], 0, (int)first, reg(i));
  for (const Step &s : p.uniform)
    Hot<T>::kernel(s.ew, (int)first, reg(s.dst), ptr(s.a), ptr(s.b), ptr(s.c), s.p0, s.p1);
  T *tiles = buf + (size_t)p.n_slots * B;
  for (int i : p.tiled) {
    const InPlan &ip = p.in[i];
    T *t = tiles + ip.tile_off;
    Hot<T>::gather(ip, 0, (int)ip.period, t);
    for (int64_t j = ip.period; j < ip.period + first; j++) t[j] = t[j - ip.period];
  }
  for (int64_t blk = blk_begin; blk < blk_end; blk++) {
    const int64_t start = blk * B;
    const int len = (int)std::min<int64_t>(B, p.n - start);
    for (int i : p.direct) vp[i] = static_cast<const T *>(p.in[i].data) + start;
    for (int i : p.tiled) vp[i] = tiles + p.in[i].tile_off + start % p.in[i].period;
    for (int i : p.gathered) Hot<T>::gather(p.in[i], start, len, reg(i));
    for (const Step &s : p.varying) Hot<T>::kernel(s.ew, len, reg(s.dst), ptr(s.a), ptr(s.b), ptr(s.c), s.p0, s.p1);
    for (int j = 0; j < ins->n_out; j++)
      Hot<T>::store(vp[p.out_val[j]], ins->out[j].dtype, ins->out[j].data, start, len);
  }
}

template <class T>
st_code run_plan(st_ctx *ctx, const Plan &p, const st_instr *ins, st_status *st) {
  constexpr int B = BlockSize<T>::value;
  const int64_t n_blocks = (p.n + B - 1) / B;
  const size_t buf_elems = (size_t)p.n_slots * B + p.tile_elems;
  std::atomic<bool> alloc_failed{false};
  st::parallel(ctx, p.n * p.cost, [&](int ith, int nth) {
    int64_t b0, b1;
    st::split_range(n_blocks, ith, nth, &b0, &b1);
    if (b0 >= b1) return;
    // register file: on the stack when small, else one heap block for this call and thread
    constexpr size_t kStackBytes = 32768;
    alignas(64) unsigned char stack_buf[kStackBytes];
    const T *stack_vp[64];
    std::unique_ptr<unsigned char[]> heap_buf;
    std::unique_ptr<const T *[]> heap_vp;
    unsigned char *raw = stack_buf;
    const T **vp = stack_vp;
    const size_t bytes = buf_elems * sizeof(T) + 64;
    if (bytes > kStackBytes) {
      heap_buf.reset(new (std::nothrow) unsigned char[bytes]);
      if (!heap_buf) {
        alloc_failed = true;
        return;
      }
      raw = heap_buf.get();
    }
    if (p.n_vals > 64) {
      heap_vp.reset(new (std::nothrow) const T *[(size_t)p.n_vals]);
      if (!heap_vp) {
        alloc_failed = true;
        return;
      }
      vp = heap_vp.get();
    }
    T *buf = reinterpret_cast<T *>(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    run_range<T>(p, ins, b0, b1, buf, vp);
  });
  ST_REQUIRE(st, !alloc_failed, ST_ERR_ALLOC, "elemwise: out of memory for %d block registers", p.n_slots);
  return ST_OK;
}

}  // namespace

st_code st_exec_elemwise(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const int64_t *ia = ins->iattr;
  const int n_in = ins->n_in, n_out = ins->n_out;
  ST_REQUIRE(st, ins->n_iattr >= 2, ST_ERR_ARG,
             "elemwise: int attributes must start with [ctype, n_ops], got %d values", (int)ins->n_iattr);
  const int64_t ctype = ia[0], n_ops64 = ia[1];
  ST_REQUIRE(st, ctype == ST_F32 || ctype == ST_F64 || ctype == ST_I32, ST_ERR_DTYPE,
             "elemwise: compute dtype %lld is not float32 (0), float64 (1) or int32 (2)", (long long)ctype);
  ST_REQUIRE(st, n_ops64 >= 0 && n_ops64 <= ins->n_iattr, ST_ERR_ARG, "elemwise: invalid op count %lld",
             (long long)n_ops64);
  const int n_ops = (int)n_ops64;
  ST_REQUIRE(st, (int64_t)ins->n_iattr == 2 + 5 * n_ops64 + n_out, ST_ERR_ARG,
             "elemwise: %d ops and %d outputs need %lld int attributes (2 + 5 per op + 1 per output), got %d", n_ops,
             n_out, (long long)(2 + 5 * n_ops64 + n_out), (int)ins->n_iattr);
  ST_REQUIRE(st, (int64_t)ins->n_fattr == 2 * n_ops64, ST_ERR_ARG,
             "elemwise: %d ops need %d float attributes (p0, p1 per op), got %d", n_ops, 2 * n_ops, (int)ins->n_fattr);

  Plan p;
  const int n_regs = n_in + n_ops;
  p.n_vals = n_regs;
  std::vector<Step> steps((size_t)n_ops);
  std::vector<int> cur((size_t)n_regs, -1);  // register -> value currently held
  for (int i = 0; i < n_in; i++) cur[i] = i;
  for (int k = 0; k < n_ops; k++) {
    const int64_t *o = ia + 2 + 5 * k;
    const int64_t ew = o[0];
    ST_REQUIRE(st, ew >= 0 && ew < ST_EW_COUNT, ST_ERR_ARG, "elemwise: op %d has invalid micro-op code %lld", k,
               (long long)ew);
    const char *name = st_ew_name((int)ew);
    Step &s = steps[k];
    s.ew = (int)ew;
    s.a = s.b = s.c = -1;
    s.p0 = ins->fattr[2 * k];
    s.p1 = ins->fattr[2 * k + 1];
    int *operand[3] = {&s.a, &s.b, &s.c};
    for (int j = 0; j < kArity[ew]; j++) {
      const int64_t r = o[2 + j];
      ST_REQUIRE(st, r >= 0 && r < n_regs, ST_ERR_ARG,
                 "elemwise: op %d (%s) operand %d reads register %lld, outside [0, %d)", k, name, j, (long long)r,
                 n_regs);
      ST_REQUIRE(st, cur[r] >= 0, ST_ERR_ARG,
                 "elemwise: op %d (%s) operand %d reads register %lld before anything writes it", k, name, j,
                 (long long)r);
      *operand[j] = cur[r];
    }
    const int64_t dst = o[1];
    ST_REQUIRE(st, dst >= n_in && dst < n_regs, ST_ERR_ARG,
               "elemwise: op %d (%s) writes register %lld, outside [%d, %d) (inputs are read-only)", k, name,
               (long long)dst, n_in, n_regs);
    s.dst = n_in + k;
    cur[dst] = s.dst;
  }
  p.out_val.resize((size_t)n_out);
  for (int j = 0; j < n_out; j++) {
    const int64_t r = ia[2 + 5 * n_ops + j];
    ST_REQUIRE(st, r >= 0 && r < n_regs && cur[r] >= 0, ST_ERR_ARG,
               "elemwise: output %d reads register %lld, which is not defined (%d registers)", j, (long long)r,
               n_regs);
    p.out_val[j] = cur[r];
  }

  // shapes
  const st_tensor &out0 = ins->out[0];
  for (int j = 1; j < n_out; j++) {
    bool same = ins->out[j].ndim == out0.ndim;
    for (int d = 0; same && d < out0.ndim; d++) same = ins->out[j].shape[d] == out0.shape[d];
    ST_REQUIRE(st, same, ST_ERR_SHAPE, "elemwise: output %d has shape %s but output 0 has %s", j,
               st::ShapeStr(ins->out[j]).c_str(), st::ShapeStr(out0).c_str());
  }
  p.n = st::numel(out0);
  p.in.resize((size_t)n_in);
  for (int i = 0; i < n_in; i++) {
    if (plan_input(ins->in[i], out0, p.n, &p.in[i])) continue;
    const char *user = "no op";
    for (int k = 0; k < n_ops; k++)
      if (steps[k].a == i || steps[k].b == i || steps[k].c == i) {
        user = st_ew_name(steps[k].ew);
        break;
      }
    return st_fail(st, ST_ERR_SHAPE, "elemwise: input %d %s (read by %s) does not broadcast to the output shape %s", i,
                   st::ShapeStr(ins->in[i]).c_str(), user, st::ShapeStr(out0).c_str());
  }
  if (p.n == 0) return ST_OK;

  // liveness (dead ops are dropped) and uniformity
  std::vector<char> live((size_t)n_regs, 0), uni((size_t)n_regs, 0);
  for (int v : p.out_val) live[v] = 1;
  for (int k = n_ops - 1; k >= 0; k--) {
    const Step &s = steps[k];
    if (!live[s.dst]) continue;
    for (int v : {s.a, s.b, s.c})
      if (v >= 0) live[v] = 1;
  }
  for (int i = 0; i < n_in; i++) uni[i] = p.in[i].kind == IN_SPLAT;
  for (int k = 0; k < n_ops; k++) {
    const Step &s = steps[k];
    bool u = true;
    for (int v : {s.a, s.b, s.c})
      if (v >= 0) u = u && uni[v];
    uni[s.dst] = u;
  }

  // buffers: uniform values and gathered inputs first, then the varying ops with reuse
  p.slot.assign((size_t)n_regs, -1);
  int n_slots = 0;
  std::vector<int> free_slots;
  for (int i = 0; i < n_in; i++) {
    if (!live[i]) continue;
    InPlan &ip = p.in[i];
    if (ip.kind == IN_DIRECT && ip.dtype == ctype) {
      p.direct.push_back(i);
      continue;
    }
    if (ip.kind == IN_BCAST && ip.nd >= 2 && ip.stride[0] == 0 && p.n / ip.shape[0] <= kMaxPeriod) {
      ip.period = p.n / ip.shape[0];
      ip.tile_off = p.tile_elems;
      const int64_t block = ctype == ST_F64 ? BlockSize<double>::value : BlockSize<float>::value;
      const int64_t len = ip.period + std::min<int64_t>(p.n, block);
      p.tile_elems += (size_t)(len + 15) / 16 * 16;  // keeps the next one 64-byte aligned
      p.tiled.push_back(i);
      continue;
    }
    p.slot[i] = n_slots++;
    (uni[i] ? p.splat : p.gathered).push_back(i);
  }
  std::vector<int> last_use((size_t)n_regs, -1);
  const int kForever = n_ops;
  for (int k = 0; k < n_ops; k++) {
    const Step &s = steps[k];
    if (!live[s.dst] || uni[s.dst]) continue;
    for (int v : {s.a, s.b, s.c})
      if (v >= 0) last_use[v] = k;
  }
  for (int v : p.out_val) last_use[v] = kForever;
  int64_t cost = 2 + n_out;
  for (int k = 0; k < n_ops; k++) {
    const Step &s = steps[k];
    if (!live[s.dst]) continue;
    if (uni[s.dst]) {
      p.slot[s.dst] = n_slots++;
      p.uniform.push_back(s);
      continue;
    }
    cost += op_cost(s.ew);
    if (free_slots.empty()) {
      p.slot[s.dst] = n_slots++;
    } else {
      p.slot[s.dst] = free_slots.back();
      free_slots.pop_back();
    }
    p.varying.push_back(s);
    // operands whose last reader is this op give their buffer back (after dst was chosen, so dst
    // never aliases an operand)
    const int ops[3] = {s.a, s.b, s.c};
    for (int j = 0; j < 3; j++) {
      const int v = ops[j];
      if (v < 0 || uni[v] || p.slot[v] < 0 || last_use[v] != k) continue;
      bool seen = false;
      for (int q = 0; q < j; q++) seen = seen || ops[q] == v;
      if (!seen) free_slots.push_back(p.slot[v]);
    }
  }
  p.n_slots = n_slots;
  p.cost = cost;

  switch (ctype) {
    case ST_F64: return run_plan<double>(ctx, p, ins, st);
    case ST_I32: return run_plan<int32_t>(ctx, p, ins, st);
    default: return run_plan<float>(ctx, p, ins, st);
  }
}
