// MATMUL_BIAS_ACT: act(a·b + bias) for 2-D operands.  The output rows start as the bias, the
// GEMM accumulates into them (beta = 1), and the activation runs over the result while it is
// still in cache, in row blocks on the pool.
#include <cmath>
#include <cstring>

#include "../../runtime/internal.h"
#include "gemm.h"

namespace {

template <class T>
void bias_rows(st_ctx *ctx, T *c, const T *bias, int64_t m, int64_t n) {
  st::parallel(ctx, m * n, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(m, ith, nth, &b, &e);
    for (int64_t r = b; r < e; r++)
      for (int64_t j = 0; j < n; j++) c[r * n + j] = bias[j];
  });
}

template <class T>
void activate(st_ctx *ctx, T *c, int64_t count, int act) {
  st::parallel(ctx, count * (act == 1 ? 1 : 8), [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(count, ith, nth, &b, &e);
    T *p = c + b;
    const int64_t len = e - b;
    switch (act) {
      case 1:
        for (int64_t i = 0; i < len; i++) p[i] = p[i] > T(0) ? p[i] : T(0);
        break;
      case 2:
        for (int64_t i = 0; i < len; i++) p[i] = T(1) / (T(1) + std::exp(-p[i]));
        break;
      case 3:
        for (int64_t i = 0; i < len; i++) p[i] = std::tanh(p[i]);
        break;
    }
  });
}

}  // namespace

// GEMM_ACC: out = alpha·op(a)·op(b) + beta·c.  When out is c's buffer (an SGD step written into the
// weights), the GEMM accumulates straight into it.
static st_code gemm_acc(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &c = ins->in[0], &a = ins->in[1], &b = ins->in[2];
  st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 2 && ins->n_fattr == 2, ST_ERR_ARG, "%s: expected [transA, transB] and [alpha, beta]", op);
  const bool ta = ins->iattr[0] != 0, tb = ins->iattr[1] != 0;
  ST_REQUIRE(st, a.ndim == 2 && b.ndim == 2 && c.ndim == 2 && out.ndim == 2, ST_ERR_SHAPE,
             "%s: needs 2-D operands, got c %s, a %s, b %s", op, st::ShapeStr(c).c_str(), st::ShapeStr(a).c_str(),
             st::ShapeStr(b).c_str());
  ST_REQUIRE(st, a.dtype == b.dtype && a.dtype == c.dtype && a.dtype == out.dtype && (a.dtype == ST_F32 || a.dtype == ST_F64),
             ST_ERR_DTYPE, "%s: needs float32 or float64 operands of one dtype", op);
  const int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  const int64_t kb = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1];
  ST_REQUIRE(st, k == kb && c.shape[0] == m && c.shape[1] == n && out.shape[0] == m && out.shape[1] == n, ST_ERR_SHAPE,
             "%s: cannot accumulate %s x %s into %s", op, st::ShapeStr(a).c_str(), st::ShapeStr(b).c_str(),
             st::ShapeStr(c).c_str());
  if (m == 0 || n == 0) return ST_OK;
  if (out.data != c.data) std::memcpy(out.data, c.data, (size_t)(m * n) * st_dtype_size(c.dtype));
  return st_gemm(ctx, c.dtype, ta, tb, m, n, k, ins->fattr[0], a.data, a.shape[1], b.data, b.shape[1], ins->fattr[1],
                 out.data, n, st);
}

st_code st_exec_epilogue(st_ctx *ctx, const st_instr *ins, st_status *st) {
  if (ins->opcode == ST_OP_GEMM_ACC) return gemm_acc(ctx, ins, st);
  const char *op = st_op_name(ins->opcode);
  const st_tensor &a = ins->in[0], &b = ins->in[1], &bias = ins->in[2];
  st_tensor &c = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 3, ST_ERR_ARG, "%s: expected [transA, transB, act]", op);
  const bool ta = ins->iattr[0] != 0, tb = ins->iattr[1] != 0;
  const int act = (int)ins->iattr[2];
  ST_REQUIRE(st, act >= 0 && act <= 3, ST_ERR_ARG, "%s: unknown activation %d", op, act);
  ST_REQUIRE(st, a.ndim == 2 && b.ndim == 2 && c.ndim == 2 && bias.ndim == 1, ST_ERR_SHAPE,
             "%s: needs 2-D operands and a 1-D bias, got %s, %s, bias %s", op, st::ShapeStr(a).c_str(),
             st::ShapeStr(b).c_str(), st::ShapeStr(bias).c_str());
  ST_REQUIRE(st, a.dtype == b.dtype && a.dtype == bias.dtype && a.dtype == c.dtype && (a.dtype == ST_F32 || a.dtype == ST_F64),
             ST_ERR_DTYPE, "%s: needs float32 or float64 operands of one dtype", op);
  const int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  const int64_t kb = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1];
  ST_REQUIRE(st, k == kb && c.shape[0] == m && c.shape[1] == n && bias.shape[0] == n, ST_ERR_SHAPE,
             "%s: cannot compute %s x %s + bias %s into %s", op, st::ShapeStr(a).c_str(), st::ShapeStr(b).c_str(),
             st::ShapeStr(bias).c_str(), st::ShapeStr(c).c_str());
  if (m == 0 || n == 0) return ST_OK;
  return st::dispatch_dtype(c.dtype, [&](auto z) -> st_code {
    using T = decltype(z);
    if constexpr (std::is_floating_point<T>::value) {
      T *cp = static_cast<T *>(c.data);
      bias_rows(ctx, cp, static_cast<const T *>(bias.data), m, n);
      ST_CHECK(st_gemm(ctx, c.dtype, ta, tb, m, n, k, 1.0, a.data, a.shape[1], b.data, b.shape[1], 1.0, cp, n, st));
      if (act) activate(ctx, cp, m * n, act);
    }
    return ST_OK;
  });
}
