// ELEMWISE: a register bytecode VM for fused elementwise programs (layout in ops.def).
//
// The program is validated and planned once (per call of st_exec; once per program in a compiled
// program, which keeps the plan): registers are renamed to single-assignment
// values, dead ops are dropped, values that are the same for every element (constants, one-element
// inputs and anything computed only from those) are evaluated once per thread, and the remaining
// values get physical block buffers with a small liveness-based allocator.  The flattened output is
// then processed in blocks of a few hundred elements: each op is one tight loop over a block, so
// the register file stays in L1 and the loops vectorize.
//
// float32 transcendental functions use the vectorizable approximations in vmath.h (a few ulp over
// the whole range, with IEEE behaviour for inf/NaN/overflow/underflow); float64 uses <cmath>.
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
#include "vmath.h"

namespace {

using namespace st::vmath;

const int kArity[] = {
#define ST_EW(e, name, arity) arity,
#include "../../ops.def"
#undef ST_EW
};
static_assert(sizeof(kArity) / sizeof(kArity[0]) == ST_EW_COUNT, "arity table out of sync with ops.def");
// ew_body has one case per micro-op; a new ST_EW entry in ops.def needs one here too.
static_assert(ST_EW_COUNT == ST_EW_ERF + 1, "elementwise.cc: implement the micro-ops added to ops.def");
// The compute-dtype message below spells out these codes.
static_assert(ST_F32 == 0 && ST_F64 == 1 && ST_I32 == 2, "elementwise.cc: dtype codes in ops.def changed");

// ---------------------------------------------------------------------------------------------
// Scalar helpers (all branch-free selects so that loops calling them vectorize)

// float -> int32: truncation toward zero, NaN -> 0, saturating at the int32 range.
ST_INLINE int32_t to_i32(float x) {
  float y = x != x ? 0.0f : x;
  y = y < -2147483648.0f ? -2147483648.0f : y;
  return y >= 2147483648.0f ? INT32_MAX : (int32_t)y;
}
ST_INLINE int32_t to_i32(double x) {
  double y = x != x ? 0.0 : x;
  y = y < -2147483648.0 ? -2147483648.0 : y;
  y = y > 2147483647.0 ? 2147483647.0 : y;
  return (int32_t)y;
}

// The conversion every register/input/output cast goes through.
template <class D, class S>
ST_INLINE D cvt(S x) {
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

// ---- int32 arithmetic (wrapping, never UB) ----------------------------------------------------

ST_INLINE int32_t i_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
ST_INLINE int32_t i_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
ST_INLINE int32_t i_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }
ST_INLINE int32_t i_neg(int32_t a) { return (int32_t)(0u - (uint32_t)a); }
// Floor division (like numpy //); x / 0 = 0.
ST_INLINE int32_t i_div(int32_t a, int32_t b) {
  if (b == 0) return 0;
  if (b == -1) return i_neg(a);
  int32_t q = a / b, r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q;
}
// Remainder with the sign of the divisor; x mod 0 = 0.
ST_INLINE int32_t i_mod(int32_t a, int32_t b) {
  if (b == 0 || b == -1) return 0;
  int32_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
ST_INLINE int32_t i_pow(int32_t base, int32_t e) {
  if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
  uint32_t r = 1, b = (uint32_t)base;
  for (uint32_t k = (uint32_t)e; k; k >>= 1) {
    if (k & 1) r *= b;
    b *= b;
  }
  return (int32_t)r;
}
ST_INLINE int32_t i_clip_lo(double p) { return to_i32(std::ceil(p)); }
ST_INLINE int32_t i_clip_hi(double p) { return to_i32(std::floor(p)); }

template <class T>
ST_INLINE T mod_float(T x, T y) {
  T r = std::fmod(x, y);
  r = (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
  return r == 0 ? std::copysign(T(0), y) : r;
}

template <class T>
ST_INLINE void fill_n(T *__restrict d, T v, int n) {
  for (int i = 0; i < n; i++) d[i] = v;
}

// ---------------------------------------------------------------------------------------------
// One micro-op over n elements.  d is either disjoint from a, b and c or exactly one of them (an
// output written over the input it is computed from, see direct_outputs): every loop below but
// SIN/COS's reads element i of its operands only before it writes d[i], so both are safe.  No
// pointer is __restrict: the compiler checks for overlap at run time (once per call), and its check
// lets equal pointers take the vector loop.
template <class T>
ST_INLINE void ew_body(int ew, int n, T *d, const T *a, const T *b, const T *c, double p0, double p1) {
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
    case ST_EW_RELU: EW_U(m_relu(x));
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
  int out = -1;  // varying steps: the output this step may write in place of its block buffer
};

struct Plan : st::Prepared {
  int ctype = ST_F32;            // compute dtype
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
  // Outputs whose value a varying step computes in the compute dtype are written by that step
  // straight into the output (no block buffer, no copy) unless, in a given call, the output's
  // memory overlaps a direct input read at or after that step (checked per call: see direct_outputs).
  std::vector<int> out_step;     // per output: index into varying of the step writing it, or -1
  std::vector<int> last_read;    // per input: index into varying of its last reader, or -1
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
ST_INLINE void convert_n(const S *__restrict s, T *__restrict d, int n) {
  for (int i = 0; i < n; i++) d[i] = cvt<T>(s[i]);
}

// Elements [start, start + len) of the broadcast input (whose data is `data`), converted to T.
template <class T, class S>
ST_INLINE void gather_t(const InPlan &ip, const void *data, int64_t start, int len, T *__restrict dst) {
  const S *src = static_cast<const S *>(data);
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
ST_INLINE void gather_any(const InPlan &ip, const void *data, int64_t start, int len, T *__restrict dst) {
  switch (ip.dtype) {
    case ST_F32: gather_t<T, float>(ip, data, start, len, dst); break;
    case ST_F64: gather_t<T, double>(ip, data, start, len, dst); break;
    case ST_I32: gather_t<T, int32_t>(ip, data, start, len, dst); break;
    default: gather_t<T, uint8_t>(ip, data, start, len, dst); break;
  }
}

template <class T>
ST_INLINE void store_any(const T *__restrict src, int dtype, void *data, int64_t start, int len) {
  switch (dtype) {
    case ST_F32: convert_n(src, static_cast<float *>(data) + start, len); break;
    case ST_F64: convert_n(src, static_cast<double *>(data) + start, len); break;
    case ST_I32: convert_n(src, static_cast<int32_t *>(data) + start, len); break;
    default: convert_n(src, static_cast<uint8_t *>(data) + start, len); break;
  }
}

// The multiversioned entry points, one set per compute type.
#define EW_DEFINE_HOT(T, SUF)                                                                          \
  ST_HOT void ew_kernel_##SUF(int ew, int n, T *d, const T *a, const T *b, const T *c, double p0,        \
                              double p1) {                                                             \
    ew_body<T>(ew, n, d, a, b, c, p0, p1);                                                             \
  }                                                                                                    \
  ST_HOT void ew_gather_##SUF(const InPlan &ip, const void *data, int64_t start, int len,              \
                              T *__restrict dst) {                                                     \
    gather_any<T>(ip, data, start, len, dst);                                                          \
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
  static void gather(const InPlan &ip, const void *data, int64_t s, int len, float *d) {
    ew_gather_f32(ip, data, s, len, d);
  }
  static void store(const float *src, int dt, void *data, int64_t s, int len) { ew_store_f32(src, dt, data, s, len); }
};
template <>
struct Hot<double> {
  static void kernel(int ew, int n, double *d, const double *a, const double *b, const double *c, double p0,
                     double p1) {
    ew_kernel_f64(ew, n, d, a, b, c, p0, p1);
  }
  static void gather(const InPlan &ip, const void *data, int64_t s, int len, double *d) {
    ew_gather_f64(ip, data, s, len, d);
  }
  static void store(const double *src, int dt, void *data, int64_t s, int len) { ew_store_f64(src, dt, data, s, len); }
};
template <>
struct Hot<int32_t> {
  static void kernel(int ew, int n, int32_t *d, const int32_t *a, const int32_t *b, const int32_t *c, double p0,
                     double p1) {
    ew_kernel_i32(ew, n, d, a, b, c, p0, p1);
  }
  static void gather(const InPlan &ip, const void *data, int64_t s, int len, int32_t *d) {
    ew_gather_i32(ip, data, s, len, d);
  }
  static void store(const int32_t *src, int dt, void *data, int64_t s, int len) { ew_store_i32(src, dt, data, s, len); }
};

// ---------------------------------------------------------------------------------------------
// Execution

template <class T>
struct BlockSize {
  static constexpr int value = sizeof(T) == 8 ? 512 : 1024;
};

template <class T>
void run_range(const Plan &p, const st_instr *ins, const char *direct, int64_t blk_begin, int64_t blk_end, T *buf,
               const T **vp) {
  constexpr int B = BlockSize<T>::value;
  const int64_t first = std::min<int64_t>(B, p.n);
  auto reg = [&](int v) { return buf + (size_t)p.slot[v] * B; };  // a value's block buffer
  auto ptr = [&](int v) { return v >= 0 ? vp[v] : nullptr; };
  for (int v = 0; v < p.n_vals; v++) vp[v] = p.slot[v] >= 0 ? reg(v) : nullptr;
  // once per thread: uniform values (one block's worth) and the expanded periodic broadcasts
  for (int i : p.splat) Hot<T>::gather(p.in[i], ins->in[i].data, 0, (int)first, reg(i));
  for (const Step &s : p.uniform)
    Hot<T>::kernel(s.ew, (int)first, reg(s.dst), ptr(s.a), ptr(s.b), ptr(s.c), s.p0, s.p1);
  T *tiles = buf + (size_t)p.n_slots * B;
  for (int i : p.tiled) {
    const InPlan &ip = p.in[i];
    T *t = tiles + ip.tile_off;
    Hot<T>::gather(ip, ins->in[i].data, 0, (int)ip.period, t);
    for (int64_t j = ip.period; j < ip.period + first; j++) t[j] = t[j - ip.period];
  }
  for (int64_t blk = blk_begin; blk < blk_end; blk++) {
    const int64_t start = blk * B;
    const int len = (int)std::min<int64_t>(B, p.n - start);
    for (int i : p.direct) vp[i] = static_cast<const T *>(ins->in[i].data) + start;
    for (int i : p.tiled) vp[i] = tiles + p.in[i].tile_off + start % p.in[i].period;
    for (int i : p.gathered) Hot<T>::gather(p.in[i], ins->in[i].data, start, len, reg(i));
    for (const Step &s : p.varying) {
      T *d = reg(s.dst);
      if (s.out >= 0 && direct[s.out]) vp[s.dst] = d = static_cast<T *>(ins->out[s.out].data) + start;
      Hot<T>::kernel(s.ew, len, d, ptr(s.a), ptr(s.b), ptr(s.c), s.p0, s.p1);
    }
    for (int j = 0; j < ins->n_out; j++)
      if (!direct[j]) Hot<T>::store(vp[p.out_val[j]], ins->out[j].dtype, ins->out[j].data, start, len);
  }
}

// Which outputs this call writes in place of their block buffers (see Plan::out_step).  An output
// stored exactly over a direct input (an in-place update) qualifies when no step after the one
// writing it reads that input (each block reads its part of the input before it overwrites it),
// and that step reads it in one pass (not SIN/COS, whose second loop reads its operand again); an
// output overlapping a direct input in any other way never does.
void direct_outputs(const Plan &p, const st_instr *ins, char *direct) {
  for (int j = 0; j < ins->n_out; j++) {
    direct[j] = p.out_step[j] >= 0;
    if (!direct[j]) continue;
    const st_tensor &o = ins->out[j];
    const char *o0 = static_cast<const char *>(o.data), *o1 = o0 + p.n * st_dtype_size(o.dtype);
    for (int i : p.direct) {
      const st_tensor &t = ins->in[i];
      const char *i0 = static_cast<const char *>(t.data), *i1 = i0 + p.n * st_dtype_size(t.dtype);
      if (i1 <= o0 || o1 <= i0) continue;  // disjoint
      const int k = p.out_step[j], ew = p.varying[(size_t)k].ew;
      if (i0 == o0 && (p.last_read[i] < k || (p.last_read[i] == k && ew != ST_EW_SIN && ew != ST_EW_COS))) continue;
      direct[j] = 0;
      break;
    }
  }
}

template <class T>
st_code run_plan(st_ctx *ctx, const Plan &p, const st_instr *ins, st_status *st) {
  constexpr int B = BlockSize<T>::value;
  char direct_buf[64];
  std::vector<char> direct_heap;
  char *direct = direct_buf;
  if (ins->n_out > 64) {
    try {
      direct_heap.resize((size_t)ins->n_out);
    } catch (const std::bad_alloc &) {
      return st_fail(st, ST_ERR_ALLOC, "elemwise: out of memory for %d outputs", (int)ins->n_out);
    }
    direct = direct_heap.data();
  }
  direct_outputs(p, ins, direct);
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
    run_range<T>(p, ins, direct, b0, b1, buf, vp);
  });
  ST_REQUIRE(st, !alloc_failed, ST_ERR_ALLOC, "elemwise: out of memory for %d block registers", p.n_slots);
  return ST_OK;
}

// Decodes and validates the bytecode and the shapes, and plans the evaluation into *p.
st_code plan_elemwise(const st_instr *ins, Plan &p, st_status *st) {
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

  p.ctype = (int)ctype;
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
  p.last_read.assign((size_t)n_in, -1);
  for (size_t k = 0; k < p.varying.size(); k++)
    for (int v : {p.varying[k].a, p.varying[k].b, p.varying[k].c})
      if (v >= 0 && v < n_in) p.last_read[v] = (int)k;
  p.out_step.assign((size_t)n_out, -1);
  for (size_t k = 0; k < p.varying.size(); k++)
    for (int j = 0; j < n_out; j++)
      if (p.out_val[j] == p.varying[k].dst && ins->out[j].dtype == ctype && p.varying[k].out < 0) {
        p.varying[k].out = j;  // one output per step; another output of the same value copies it
        p.out_step[j] = (int)k;
      }
  return ST_OK;
}

st_code check_elemwise(const st_instr *ins, st::PreparedPtr *prep, st_status *st) {
  std::unique_ptr<Plan> p(new (std::nothrow) Plan());
  ST_REQUIRE(st, p, ST_ERR_ALLOC, "elemwise: out of memory for the plan");
  try {
    ST_CHECK(plan_elemwise(ins, *p, st));
  } catch (const std::bad_alloc &) {
    return st_fail(st, ST_ERR_ALLOC, "elemwise: out of memory for the plan");
  }
  *prep = std::move(p);
  return ST_OK;
}

st_code run_elemwise(st_ctx *ctx, const st_instr *ins, const st::Prepared *prep, st_status *st) {
  const Plan &p = *static_cast<const Plan *>(prep);
  if (p.n == 0) return ST_OK;
  switch (p.ctype) {
    case ST_F64: return run_plan<double>(ctx, p, ins, st);
    case ST_I32: return run_plan<int32_t>(ctx, p, ins, st);
    default: return run_plan<float>(ctx, p, ins, st);
  }
}

}  // namespace

const st::Family st_elemwise_family = {check_elemwise, run_elemwise};
