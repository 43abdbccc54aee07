// MATMUL_BIAS_ACT: act(a·b + bias) for 2-D operands, and GEMM_ACC.
// The GEMM writes the product (beta = 0, the very call MATMUL makes), then one pass over the
// result, while it is still in cache, adds the bias and applies the activation with the same
// arithmetic as the elementwise VM: an add in the operands' type, then vmath.h's function of the
// micro-op.  So act(x·W + b) has the same bits fused or as MATMUL followed by ELEMWISE, in float32
// and float64, whatever the GEMM's blocking.
#include <cstring>

#include "../../runtime/internal.h"
#include "bias_act.h"
#include "gemm.h"

namespace {

// One multiversioned entry per type, like the elementwise VM's kernels (ST_HOT): in portable builds
// both then run the same clone of the math (bias_act.h's, which the convolutions' epilogue shares).
ST_HOT void bias_act_f32(float *c, const float *bias, int64_t r0, int64_t r1, int64_t n, int act) {
  st::kern::bias_act_rows(c + r0 * n, bias, r1 - r0, n, n, act);
}
ST_HOT void bias_act_f64(double *c, const double *bias, int64_t r0, int64_t r1, int64_t n, int act) {
  st::kern::bias_act_rows(c + r0 * n, bias, r1 - r0, n, n, act);
}
inline void bias_act(float *c, const float *bias, int64_t r0, int64_t r1, int64_t n, int act) {
  bias_act_f32(c, bias, r0, r1, n, act);
}
inline void bias_act(double *c, const double *bias, int64_t r0, int64_t r1, int64_t n, int act) {
  bias_act_f64(c, bias, r0, r1, n, act);
}

// m, n, k of op(a)·op(b) from the 2-D operands and [transA, transB] (no checks).
struct Mnk {
  int64_t m, n, k, kb;
};

Mnk mnk_of(const st_instr *ins, const st_tensor &a, const st_tensor &b) {
  const bool ta = ins->iattr[0] != 0, tb = ins->iattr[1] != 0;
  return {ta ? a.shape[1] : a.shape[0], tb ? b.shape[0] : b.shape[1], ta ? a.shape[0] : a.shape[1],
          tb ? b.shape[1] : b.shape[0]};
}

// GEMM_ACC: out = alpha·op(a)·op(b) + beta·c.
st_code check_gemm_acc(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &c = ins->in[0], &a = ins->in[1], &b = ins->in[2];
  const st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 2 && ins->n_fattr == 2, ST_ERR_ARG, "%s: expected [transA, transB] and [alpha, beta]", op);
  ST_REQUIRE(st, a.ndim == 2 && b.ndim == 2 && c.ndim == 2 && out.ndim == 2, ST_ERR_SHAPE,
             "%s: needs 2-D operands, got c %s, a %s, b %s", op, st::ShapeStr(c).c_str(), st::ShapeStr(a).c_str(),
             st::ShapeStr(b).c_str());
  ST_REQUIRE(st, a.dtype == b.dtype && a.dtype == c.dtype && a.dtype == out.dtype && (a.dtype == ST_F32 || a.dtype == ST_F64),
             ST_ERR_DTYPE, "%s: needs float32 or float64 operands of one dtype", op);
  const Mnk d = mnk_of(ins, a, b);
  ST_REQUIRE(st, d.k == d.kb && c.shape[0] == d.m && c.shape[1] == d.n && out.shape[0] == d.m && out.shape[1] == d.n,
             ST_ERR_SHAPE, "%s: cannot accumulate %s x %s into %s", op, st::ShapeStr(a).c_str(), st::ShapeStr(b).c_str(),
             st::ShapeStr(c).c_str());
  return ST_OK;
}

// When out is c's buffer (an SGD step written into the weights), the GEMM accumulates straight into it.
st_code run_gemm_acc(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const st_tensor &c = ins->in[0], &a = ins->in[1], &b = ins->in[2];
  st_tensor &out = ins->out[0];
  const Mnk d = mnk_of(ins, a, b);
  if (d.m == 0 || d.n == 0) return ST_OK;
  if (out.data != c.data) std::memcpy(out.data, c.data, (size_t)(d.m * d.n) * st_dtype_size(c.dtype));
  return st_gemm(ctx, c.dtype, ins->iattr[0] != 0, ins->iattr[1] != 0, d.m, d.n, d.k, ins->fattr[0], a.data,
                 a.shape[1], b.data, b.shape[1], ins->fattr[1], out.data, d.n, st);
}

st_code check_bias_act(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &a = ins->in[0], &b = ins->in[1], &bias = ins->in[2];
  const st_tensor &c = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 3, ST_ERR_ARG, "%s: expected [transA, transB, act]", op);
  const int64_t act = ins->iattr[2];
  ST_REQUIRE(st, act >= 0 && act < ST_ACT_COUNT, ST_ERR_ARG, "%s: unknown activation %lld", op, (long long)act);
  ST_REQUIRE(st, a.ndim == 2 && b.ndim == 2 && c.ndim == 2 && bias.ndim == 1, ST_ERR_SHAPE,
             "%s: needs 2-D operands and a 1-D bias, got %s, %s, bias %s", op, st::ShapeStr(a).c_str(),
             st::ShapeStr(b).c_str(), st::ShapeStr(bias).c_str());
  ST_REQUIRE(st, a.dtype == b.dtype && a.dtype == bias.dtype && a.dtype == c.dtype && (a.dtype == ST_F32 || a.dtype == ST_F64),
             ST_ERR_DTYPE, "%s: needs float32 or float64 operands of one dtype", op);
  const Mnk d = mnk_of(ins, a, b);
  ST_REQUIRE(st, d.k == d.kb && c.shape[0] == d.m && c.shape[1] == d.n && bias.shape[0] == d.n, ST_ERR_SHAPE,
             "%s: cannot compute %s x %s + bias %s into %s", op, st::ShapeStr(a).c_str(), st::ShapeStr(b).c_str(),
             st::ShapeStr(bias).c_str(), st::ShapeStr(c).c_str());
  return ST_OK;
}

st_code run_bias_act(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const st_tensor &a = ins->in[0], &b = ins->in[1], &bias = ins->in[2];
  st_tensor &c = ins->out[0];
  const bool tb = ins->iattr[1] != 0;
  const int act = (int)ins->iattr[2];
  const Mnk d = mnk_of(ins, a, b);
  const int64_t m = d.m, n = d.n, k = d.k;
  if (m == 0 || n == 0) return ST_OK;
  // MATMUL reads a transposed single row a [k, 1] as the row [1, k]: do the same, for the same bits.
  const bool ta = ins->iattr[0] != 0 && m != 1;
  const int64_t lda = ta ? m : k;
  ST_CHECK(st_gemm(ctx, c.dtype, ta, tb, m, n, k, 1.0, a.data, lda, b.data, b.shape[1], 0.0, c.data, n, st));
  return st::dispatch_dtype(c.dtype, [&](auto z) -> st_code {
    using T = decltype(z);
    if constexpr (std::is_floating_point<T>::value) {
      T *cp = static_cast<T *>(c.data);
      const T *bp = static_cast<const T *>(bias.data);
      st::parallel(ctx, m * n * (act == ST_ACT_NONE || act == ST_ACT_RELU ? 1 : 8), [&](int ith, int nth) {
        int64_t r0, r1;
        st::split_range(m, ith, nth, &r0, &r1);
        if (r0 < r1) bias_act(cp, bp, r0, r1, n, act);
      });
    }
    return ST_OK;
  });
}

st_code check_epilogue(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_MATMUL_BIAS_ACT: return check_bias_act(ins, st);
    case ST_OP_GEMM_ACC: return check_gemm_acc(ins, st);
  }
  return st_fail(st, ST_ERR_INTERNAL, "%s: not an epilogue op", st_op_name(ins->opcode));
}

st_code run_epilogue(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  return ins->opcode == ST_OP_GEMM_ACC ? run_gemm_acc(ctx, ins, st) : run_bias_act(ctx, ins, st);
}

}  // namespace

const st::Family st_epilogue_family = {check_epilogue, run_epilogue};
