// Vectorizable scalar math shared by the CPU kernels: each function is a branch-free sequence of
// selects, so that a loop calling it vectorizes.
//
// float32: approximations of exp, expm1, log, log1p, tanh, sigmoid, softplus, sin/cos, erf, gelu and
// pow (a few ulp over the whole range, with IEEE behaviour for inf/NaN/overflow/underflow), and
// rounding without SSE4.1.  float64: exp_d for softmax; the elementwise ops use <cmath> for float64
// (the m_* overloads pick per type).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "../../runtime/internal.h"

namespace st {
namespace vmath {

// ---- bits and constants -------------------------------------------------------------------------

ST_INLINE uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
ST_INLINE float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr float kNanF = std::numeric_limits<float>::quiet_NaN();

ST_INLINE double double_of(uint64_t u) {
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}

// ---- rounding -----------------------------------------------------------------------------------

// Round half to even for |x| < 2^23 by the add-and-subtract trick (needs no SSE4.1); larger
// magnitudes (and inf/NaN) are already integers.
ST_INLINE float round_even_f(float x) {
  float ax = std::fabs(x);
  float r = (ax + 8388608.0f) - 8388608.0f;
  return ax < 8388608.0f ? std::copysign(r, x) : x;
}
ST_INLINE float floor_f(float x) {
  float t = round_even_f(x);
  t = t > x ? t - 1.0f : t;
  return std::copysign(t, x);  // floor keeps the sign of x (or is zero with it)
}
ST_INLINE float ceil_f(float x) {
  float t = round_even_f(x);
  t = t < x ? t + 1.0f : t;
  return std::copysign(t, x);
}

// ---- float32 approximations ---------------------------------------------------------------------

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;        // 16 significant bits: k * kLn2Hi is exact
constexpr float kLn2Lo = 1.42860682030941723e-6f;   // ln 2 - kLn2Hi
constexpr float kRoundMagic = 12582912.0f;          // 1.5 * 2^23

// e^x.  x = k ln2 + r, |r| <= ln2/2; e^r = 1 + r + r^2 P(r) (fitted, rel. error 3e-9); 2^k is
// applied as two exactly representable factors so that results in the subnormal range round once.
ST_INLINE float exp_f(float x) {
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
ST_INLINE float expm1_core_f(float y) {
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

ST_INLINE float expm1_f(float x) {
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
ST_INLINE float log_f(float x) {
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
ST_INLINE float log1p_f(float x) {
  float u = 1.0f + x;
  float um1 = u - 1.0f;
  float r = log_f(u) * (x / um1);
  r = um1 == 0.0f ? x : r;
  return x == kInfF ? x : r;
}

// tanh |x| = t / (t + 2) with t = expm1(2|x|): no cancellation near 0; tanh(9.1) is 1 in float.
ST_INLINE float tanh_f(float x) {
  float ax = std::fabs(x);
  float y = ax > 9.1f ? 9.1f : ax;
  y = y != y ? 0.0f : y;
  float t = expm1_core_f(2.0f * y);
  float r = std::copysign(t / (t + 2.0f), x);
  return x != x ? x : r;
}

// 1 / (1 + e^-x), written with e = e^-|x| so that it is accurate and saturates on both sides.
ST_INLINE float sigmoid_f(float x) {
  float e = exp_f(-std::fabs(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

ST_INLINE float softplus_f(float x) {
  float m = x > 0.0f ? x : 0.0f;
  float r = m + log1p_f(exp_f(-std::fabs(x)));
  return x != x ? x : r;
}

// sin/cos for |x| <= kTrigMax: reduction by pi/2 in double (three-part Cody-Waite, exact for
// k < 2^20), Taylor polynomials on [-pi/4, pi/4].  Other lanes are fixed up with std::sin/cos.
constexpr float kTrigMax = 1.5e6f;
ST_INLINE float sincos_f(float xf, int quadrant_shift) {
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
ST_INLINE double erf_small_d(double z) {
  double z2 = z * z;
  double p = -0.0006090496061186973;
  p = p * z2 + 0.005011993343404672;
  p = p * z2 - 0.026778933852489584;
  p = p * z2 + 0.11282141705042845;
  p = p * z2 - 0.3761252340712365;
  p = p * z2 + 1.1283791538511285;
  return z * p;
}
ST_INLINE double erfc_tail_d(double z) {  // z in [0.9, 10.5]
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

ST_INLINE float erf_f(float x) {
  double z = std::fabs((double)x);
  z = z < 6.0 ? z : 6.0;  // erf(6) rounds to 1; NaN is fixed below
  double r = z < 0.9 ? erf_small_d(z) : 1.0 - erfc_tail_d(z);
  float res = std::copysign((float)r, x);
  return x != x ? x : res;
}

// x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, with the negative side from erfc so it stays accurate.
ST_INLINE float gelu_f(float x) {
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

// x^y for float inputs with C99 pow semantics: log2|x| and 2^w in double (relative error of
// w = y log2|x| about 1e-15), so the float result is as good as rounding std::pow's.
ST_INLINE float pow_f(float xf, float yf) {
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

// ---- float64 ------------------------------------------------------------------------------------

// e^x: x = k ln2 + r with |r| <= ln2/2 (ln2 split in a high part that k multiplies exactly and a
// low part), a Taylor polynomial for e^r, then 2^k applied as two halves so that results down to
// the subnormal range come out right.  Measured against exp(): at most ~2.6 ulp; NaN stays NaN,
// -inf gives 0.
ST_INLINE double exp_d(double x) {
  const bool nan = x != x;
  double xc = nan ? 0.0 : x;
  xc = xc < -746.0 ? -746.0 : xc;
  xc = xc > 709.8 ? 709.8 : xc;
  const double kf = (xc * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0;
  const double r = (xc - kf * 6.93147180369123816490e-01) - kf * 1.90821492927058770002e-10;
  double p = 1.0 / 479001600;
  p = p * r + 1.0 / 39916800;
  p = p * r + 1.0 / 3628800;
  p = p * r + 1.0 / 362880;
  p = p * r + 1.0 / 40320;
  p = p * r + 1.0 / 5040;
  p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const int32_t k = (int32_t)kf, k1 = k >> 1, k2 = k - k1;
  const double s1 = double_of((uint64_t)(k1 + 1023) << 52), s2 = double_of((uint64_t)(k2 + 1023) << 52);
  return nan ? x : p * s1 * s2;
}

// ---- overloads for code templated on the float type ---------------------------------------------

// The elementwise ops: float32 approximations, float64 from <cmath>.  The GEMM epilogue calls the
// same functions, so a fused activation has the bits of the elementwise one.

// max(x, 0) with NaN kept (a NaN compares false) and -0 mapped to +0; any arithmetic type.
template <class T>
ST_INLINE T m_relu(T x) {
  return x <= T(0) ? T(0) : x;
}
ST_INLINE float m_exp(float x) { return exp_f(x); }
ST_INLINE float m_expm1(float x) { return expm1_f(x); }
ST_INLINE float m_log(float x) { return log_f(x); }
ST_INLINE float m_log1p(float x) { return log1p_f(x); }
ST_INLINE float m_tanh(float x) { return tanh_f(x); }
ST_INLINE float m_sigmoid(float x) { return sigmoid_f(x); }
ST_INLINE float m_softplus(float x) { return softplus_f(x); }
ST_INLINE float m_floor(float x) { return floor_f(x); }
ST_INLINE float m_ceil(float x) { return ceil_f(x); }
ST_INLINE float m_round(float x) { return round_even_f(x); }
ST_INLINE float m_gelu(float x) { return gelu_f(x); }
ST_INLINE float m_erf(float x) { return erf_f(x); }

ST_INLINE double m_exp(double x) { return std::exp(x); }
ST_INLINE double m_expm1(double x) { return std::expm1(x); }
ST_INLINE double m_log(double x) { return std::log(x); }
ST_INLINE double m_log1p(double x) { return std::log1p(x); }
ST_INLINE double m_tanh(double x) { return std::tanh(x); }
ST_INLINE double m_sigmoid(double x) {
  double e = std::exp(-std::fabs(x));
  return (x >= 0 ? 1.0 : e) / (1.0 + e);
}
ST_INLINE double m_softplus(double x) {
  double r = (x > 0 ? x : 0.0) + std::log1p(std::exp(-std::fabs(x)));
  return x != x ? x : r;
}
ST_INLINE double m_floor(double x) { return std::floor(x); }
ST_INLINE double m_ceil(double x) { return std::ceil(x); }
ST_INLINE double m_round(double x) { return std::nearbyint(x); }
ST_INLINE double m_gelu(double x) { return 0.5 * x * std::erfc(x * -0.70710678118654752); }
ST_INLINE double m_erf(double x) { return std::erf(x); }

// e^x that vectorizes in either precision (softmax).
ST_INLINE float exp_vec(float x) { return exp_f(x); }
ST_INLINE double exp_vec(double x) { return exp_d(x); }

}  // namespace vmath
}  // namespace st
