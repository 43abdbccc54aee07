// Adjoints of the gathering instructions: GATHER_GRAD (scatter-add of rows at their indices) and
// SCATTER_STRIDED (the inverse of a non-overlapping strided COPY, i.e. slice gradients).
#include <cstring>
#include <vector>

#include "common.h"

namespace {

st_code check_gather_grad(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &dy = ins->in[0], &idx = ins->in[1];
  const st_tensor &dx = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 3, ST_ERR_ARG, "%s: expected [outer, axis_dim, inner]", op);
  const int64_t outer = ins->iattr[0], dim = ins->iattr[1], inner = ins->iattr[2];
  ST_REQUIRE(st, outer >= 0 && dim >= 0 && inner >= 0, ST_ERR_ARG, "%s: negative extents", op);
  ST_REQUIRE(st, idx.dtype == ST_I32, ST_ERR_DTYPE, "%s: indices must be int32, got %s", op, st_dtype_name(idx.dtype));
  ST_REQUIRE(st, dy.dtype == dx.dtype && (dx.dtype == ST_F32 || dx.dtype == ST_F64), ST_ERR_DTYPE,
             "%s: dy and dx must be float32 or float64 of one dtype, got %s and %s", op, st_dtype_name(dy.dtype),
             st_dtype_name(dx.dtype));
  const int64_t n_idx = st::numel(idx);
  int64_t oi, n_dx, n_dy;  // the products are checked: the attributes come from the caller
  const bool overflow = __builtin_mul_overflow(outer, inner, &oi) || __builtin_mul_overflow(oi, dim, &n_dx) ||
                        __builtin_mul_overflow(oi, n_idx, &n_dy);
  ST_REQUIRE(st, !overflow && st::numel(dx) == n_dx, ST_ERR_SHAPE, "%s: output %s is not [%lld, %lld, %lld]", op,
             st::ShapeStr(dx).c_str(), (long long)outer, (long long)dim, (long long)inner);
  ST_REQUIRE(st, st::numel(dy) == n_dy, ST_ERR_SHAPE, "%s: dy %s does not hold %lld x %lld x %lld", op,
             st::ShapeStr(dy).c_str(), (long long)outer, (long long)n_idx, (long long)inner);
  return ST_OK;
}

// Checks the indices (data), then scatters.
st_code run_gather_grad(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &dy = ins->in[0], &idx = ins->in[1];
  st_tensor &dx = ins->out[0];
  const int64_t outer = ins->iattr[0], dim = ins->iattr[1], inner = ins->iattr[2];
  const int64_t n_idx = st::numel(idx);
  const int32_t *ix = static_cast<const int32_t *>(idx.data);
  for (int64_t j = 0; j < n_idx; j++)
    ST_REQUIRE(st, ix[j] >= -dim && ix[j] < dim, ST_ERR_INDEX, "%s: index %d is out of range for an axis of size %lld",
               op, ix[j], (long long)dim);
  return st::dispatch_dtype(dx.dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_floating_point<T>::value) {
      T *out = static_cast<T *>(dx.data);
      const T *g = static_cast<const T *>(dy.data);
      st::kern::zero_fill(ctx, out, outer * dim * inner);
      // threads split the outer extent (and the inner one when outer is small): rows never collide
      const int64_t parts = outer >= 2 ? outer : inner;
      st::parallel(ctx, outer * n_idx * inner, [&](int ith, int nth) {
        int64_t b, e;
        st::split_range(parts, ith, nth, &b, &e);
        const bool by_outer = outer >= 2;
        for (int64_t o = by_outer ? b : 0; o < (by_outer ? e : outer); o++)
          for (int64_t j = 0; j < n_idx; j++) {
            int64_t r = ix[j] < 0 ? ix[j] + dim : ix[j];
            T *dst = out + (o * dim + r) * inner;
            const T *src = g + (o * n_idx + j) * inner;
            for (int64_t i = by_outer ? 0 : b; i < (by_outer ? inner : e); i++) dst[i] += src[i];
          }
      });
    }
    return ST_OK;
  });
}

st_code check_scatter_strided(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  const st_tensor &out = ins->out[0];
  ST_REQUIRE(st, in.dtype == out.dtype, ST_ERR_DTYPE, "%s: input %s and output %s differ", op, st_dtype_name(in.dtype),
             st_dtype_name(out.dtype));
  ST_REQUIRE(st, ins->n_iattr == 1 + in.ndim, ST_ERR_ARG, "%s: expected [offset, %d strides]", op, (int)in.ndim);
  const int64_t n = st::numel(in), n_out = st::numel(out);
  const int64_t offset = ins->iattr[0];
  const int64_t *strides = ins->iattr + 1;
  if (n > 0) {
    int64_t lo = offset, hi = offset;
    bool overflow = false;
    for (int d = 0; d < in.ndim; d++) {
      int64_t span;
      overflow |= __builtin_mul_overflow(in.shape[d] - 1, strides[d], &span);
      overflow |= span < 0 ? __builtin_add_overflow(lo, span, &lo) : __builtin_add_overflow(hi, span, &hi);
    }
    ST_REQUIRE(st, !overflow && lo >= 0 && hi < n_out, ST_ERR_SHAPE, "%s: %s scattered from offset %lld reaches [%lld, %lld] outside %s", op,
               st::ShapeStr(in).c_str(), (long long)offset, (long long)lo, (long long)hi, st::ShapeStr(out).c_str());
  }
  return ST_OK;
}

st_code run_scatter_strided(const st_instr *ins) {
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
  const int64_t n = st::numel(in), n_out = st::numel(out);
  const int64_t offset = ins->iattr[0];
  const int64_t *strides = ins->iattr + 1;
  const size_t es = st_dtype_size(out.dtype);
  uint8_t *dst = static_cast<uint8_t *>(out.data);
  const uint8_t *src = static_cast<const uint8_t *>(in.data);
  if (n_out) std::memset(dst, 0, (size_t)n_out * es);
  if (!n) return ST_OK;
  // walk the input in order with a multi-index (serial: slices are small next to the copies around them)
  std::vector<int64_t> pos(in.ndim > 0 ? in.ndim : 1, 0);
  int64_t o = offset;
  for (int64_t i = 0; i < n; i++) {
    std::memcpy(dst + o * es, src + i * es, es);
    for (int d = in.ndim - 1; d >= 0; d--) {
      if (++pos[d] < in.shape[d]) {
        o += strides[d];
        break;
      }
      o -= (in.shape[d] - 1) * strides[d];
      pos[d] = 0;
    }
  }
  return ST_OK;
}

st_code check_adjoint(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_GATHER_GRAD: return check_gather_grad(ins, st);
    case ST_OP_SCATTER_STRIDED: return check_scatter_strided(ins, st);
  }
  return st_fail(st, ST_ERR_INTERNAL, "%s: not an adjoint op", st_op_name(ins->opcode));
}

st_code run_adjoint(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  return ins->opcode == ST_OP_GATHER_GRAD ? run_gather_grad(ctx, ins, st) : run_scatter_strided(ins);
}

}  // namespace

const st::Family st_adjoint_family = {check_adjoint, run_adjoint};
