// Optimizer updates as single instructions: ADAM_UPDATE streams p, g, m, v once and writes p, m, v
// in the same pass (the fused elementwise VM would make one pass per micro-op over its blocks).
#include <cmath>
#include <cstring>

#include "common.h"

namespace {

// The constants of one step, in the parameter's dtype (as the elementwise form rounds them).
template <class T>
struct AdamConsts {
  T c1, c2, eps, alpha;
};

// One range [b, e) of the update.  Outputs may coincide with inputs (in-place updates): every element
// is read before it is written and no element depends on another, so there is no loop-carried
// dependency and ivdep lets the loop vectorize without runtime overlap checks.
template <class T>
ST_INLINE void adam_range(const T *p, const T *g, const T *m, const T *v, T *po, T *mo, T *vo, int64_t b, int64_t e,
                          AdamConsts<T> k) {
#pragma GCC ivdep
  for (int64_t i = b; i < e; i++) {
    const T gi = g[i], mi = m[i], vi = v[i], pi = p[i];
    const T mn = mi + (gi - mi) * k.c1;
    const T vn = vi + (gi * gi - vi) * k.c2;
    const T pn = pi - (mn * k.alpha) / (std::sqrt(vn) + k.eps);
    mo[i] = mn;
    vo[i] = vn;
    po[i] = pn;
  }
}

// One multiversioned entry per dtype (ST_HOT): portable builds pick the AVX2+FMA clone at run time.
ST_HOT void adam_f32(const float *p, const float *g, const float *m, const float *v, float *po, float *mo, float *vo,
                     int64_t b, int64_t e, AdamConsts<float> k) {
  adam_range(p, g, m, v, po, mo, vo, b, e, k);
}
ST_HOT void adam_f64(const double *p, const double *g, const double *m, const double *v, double *po, double *mo,
                     double *vo, int64_t b, int64_t e, AdamConsts<double> k) {
  adam_range(p, g, m, v, po, mo, vo, b, e, k);
}
inline void adam(const float *p, const float *g, const float *m, const float *v, float *po, float *mo, float *vo,
                 int64_t b, int64_t e, AdamConsts<float> k) {
  adam_f32(p, g, m, v, po, mo, vo, b, e, k);
}
inline void adam(const double *p, const double *g, const double *m, const double *v, double *po, double *mo,
                 double *vo, int64_t b, int64_t e, AdamConsts<double> k) {
  adam_f64(p, g, m, v, po, mo, vo, b, e, k);
}

const char *const kAdamIn[] = {"p", "g", "m", "v", "alpha"};
const char *const kAdamOut[] = {"p'", "m'", "v'"};

st_code check_adam(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  ST_REQUIRE(st, ins->n_fattr == 3, ST_ERR_ARG, "%s: expected fattr [beta1, beta2, epsilon], got %d values", op,
             (int)ins->n_fattr);
  const double b1 = ins->fattr[0], b2 = ins->fattr[1], eps = ins->fattr[2];
  ST_REQUIRE(st, std::isfinite(b1) && std::isfinite(b2) && std::isfinite(eps), ST_ERR_ARG,
             "%s: beta1 %g, beta2 %g and epsilon %g must be finite", op, b1, b2, eps);
  ST_REQUIRE(st, ins->n_iattr == 0, ST_ERR_ARG, "%s: takes no int attributes, got %d", op, (int)ins->n_iattr);
  const st_tensor &p = ins->in[0];
  ST_REQUIRE(st, p.dtype == ST_F32 || p.dtype == ST_F64, ST_ERR_DTYPE, "%s: p must be float32 or float64, got %s", op,
             st_dtype_name(p.dtype));
  const auto same_shape = [&](const st_tensor &t) {
    if (t.ndim != p.ndim) return false;
    for (int d = 0; d < p.ndim; d++)
      if (t.shape[d] != p.shape[d]) return false;
    return true;
  };
  for (int i = 1; i < 5; i++) {
    const st_tensor &t = ins->in[i];
    ST_REQUIRE(st, t.dtype == p.dtype, ST_ERR_DTYPE, "%s: %s is %s but p is %s (one dtype for all operands)", op,
               kAdamIn[i], st_dtype_name(t.dtype), st_dtype_name(p.dtype));
    if (i < 4)
      ST_REQUIRE(st, same_shape(t), ST_ERR_SHAPE, "%s: %s has shape %s but p has shape %s", op, kAdamIn[i],
                 st::ShapeStr(t).c_str(), st::ShapeStr(p).c_str());
  }
  ST_REQUIRE(st, st::numel(ins->in[4]) == 1, ST_ERR_SHAPE, "%s: alpha must hold one element, got shape %s", op,
             st::ShapeStr(ins->in[4]).c_str());
  for (int j = 0; j < 3; j++) {
    const st_tensor &t = ins->out[j];
    ST_REQUIRE(st, t.dtype == p.dtype, ST_ERR_DTYPE, "%s: output %s is %s but p is %s", op, kAdamOut[j],
               st_dtype_name(t.dtype), st_dtype_name(p.dtype));
    ST_REQUIRE(st, same_shape(t), ST_ERR_SHAPE, "%s: output %s has shape %s but p has shape %s", op, kAdamOut[j],
               st::ShapeStr(t).c_str(), st::ShapeStr(p).c_str());
  }
  return ST_OK;
}

// [start, end) of a tensor's bytes.
struct Span {
  const char *b, *e;
};
Span span_of(const st_tensor &t) {
  const char *b = static_cast<const char *>(t.data);
  return {b, b + st::numel(t) * (int64_t)st_dtype_size(t.dtype)};
}
bool overlap(Span a, Span b) { return a.b < b.e && b.b < a.e; }

// Each output may be exactly an input's buffer (an in-place update), never a partial overlap of
// one, and the outputs are pairwise disjoint; the elementwise pass would be wrong otherwise.
st_code check_buffers(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  for (int j = 0; j < 3; j++) {
    const Span o = span_of(ins->out[j]);
    if (o.b == o.e) continue;
    for (int i = 0; i < 5; i++) {
      const Span s = span_of(ins->in[i]);
      ST_REQUIRE(st, !overlap(o, s) || (s.b == o.b && s.e == o.e), ST_ERR_ARG,
                 "%s: output %s partly overlaps input %s (an output may only reuse an input's whole buffer)", op,
                 kAdamOut[j], kAdamIn[i]);
    }
    for (int k = 0; k < j; k++)
      ST_REQUIRE(st, !overlap(o, span_of(ins->out[k])), ST_ERR_ARG, "%s: outputs %s and %s overlap", op, kAdamOut[k],
                 kAdamOut[j]);
  }
  return ST_OK;
}

template <class T>
st_code run_adam_t(st_ctx *ctx, const st_instr *ins) {
  const int64_t n = st::numel(ins->in[0]);
  const T *p = static_cast<const T *>(ins->in[0].data), *g = static_cast<const T *>(ins->in[1].data);
  const T *m = static_cast<const T *>(ins->in[2].data), *v = static_cast<const T *>(ins->in[3].data);
  T *po = static_cast<T *>(ins->out[0].data), *mo = static_cast<T *>(ins->out[1].data);
  T *vo = static_cast<T *>(ins->out[2].data);
  // 1 - beta in double, then rounded once to T: the same constants the elementwise form multiplies by
  const AdamConsts<T> k{T(1 - ins->fattr[0]), T(1 - ins->fattr[1]), T(ins->fattr[2]),
                        *static_cast<const T *>(ins->in[4].data)};
  if (n == 0) return ST_OK;
  // memory-bound: about 7 streams per element, so a thread earns its wake-up only on large tensors
  constexpr int64_t kAlign = 64 / sizeof(T);  // split on cache lines so threads never share one
  st::parallel(ctx, n * 8, [&](int ith, int nth) {
    const int64_t lines = (n + kAlign - 1) / kAlign;
    int64_t b, e;
    st::split_range(lines, ith, nth, &b, &e);
    b *= kAlign;
    e = std::min(n, e * kAlign);
    if (b < e) adam(p, g, m, v, po, mo, vo, b, e, k);
  });
  return ST_OK;
}

st_code check_optim(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  if (ins->opcode == ST_OP_ADAM_UPDATE) return check_adam(ins, st);
  return st_fail(st, ST_ERR_INTERNAL, "%s: not an optimizer op", st_op_name(ins->opcode));
}

st_code run_optim(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  ST_CHECK(check_buffers(ins, st));
  return ins->in[0].dtype == ST_F64 ? run_adam_t<double>(ctx, ins) : run_adam_t<float>(ctx, ins);
}

}  // namespace

const st::Family st_optim_family = {check_optim, run_optim};
