// GATHER (rows of an [outer, axis_dim, inner] view picked by int32 indices), ONE_HOT and CHECK_INDEX.
#include <cstring>

#include "../../runtime/internal.h"
#include "common.h"

namespace {

using st::kern::check_extents;

// Output rows [rb, re) of a gather (row r = outer index r / n_idx, index r % n_idx; indices valid).
template <class T>
ST_HOT void gather_rows(const T *__restrict x, const int32_t *__restrict idx, T *__restrict y, int64_t rb,
                        int64_t re, int64_t n_idx, int64_t dim, int64_t inner) {
  int64_t o = rb / n_idx, k = rb % n_idx;
  for (int64_t r = rb; r < re; r++) {
    const int64_t i = idx[k] < 0 ? idx[k] + dim : idx[k];
    const T *src = x + (o * dim + i) * inner;
    T *dst = y + r * inner;
    if (inner == 1)
      *dst = *src;
    else if (inner < 16)
      for (int64_t j = 0; j < inner; j++) dst[j] = src[j];
    else
      std::memcpy(dst, src, (size_t)inner * sizeof(T));
    if (++k == n_idx) k = 0, o++;
  }
}

st_code check_gather(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &x = ins->in[0], &ind = ins->in[1];
  const st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 3, ST_ERR_ARG, "%s: expected 3 int attributes [outer, axis_dim, inner], got %d", op,
             (int)ins->n_iattr);
  ST_REQUIRE(st, ind.dtype == ST_I32, ST_ERR_DTYPE, "%s: indices must be int32, got %s", op, st_dtype_name(ind.dtype));
  ST_REQUIRE(st, out.dtype == x.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(x.dtype),
             st_dtype_name(out.dtype));
  ST_CHECK(check_extents(op, "[outer, axis_dim, inner]", x, ins->iattr, st));
  const int64_t outer = ins->iattr[0], inner = ins->iattr[2];
  const int64_t n_idx = st::numel(ind);
  int64_t want;
  const bool overflow = __builtin_mul_overflow(outer * inner, n_idx, &want);
  ST_REQUIRE(st, !overflow && st::numel(out) == want, ST_ERR_SHAPE,
             "%s: output %s should have outer*n_idx*inner = %lld*%lld*%lld elements (input %s, indices %s)", op,
             st::ShapeStr(out).c_str(), (long long)outer, (long long)n_idx, (long long)inner, st::ShapeStr(x).c_str(),
             st::ShapeStr(ind).c_str());
  return ST_OK;
}

// Checks the indices (data), then gathers.
st_code run_gather(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &x = ins->in[0], &ind = ins->in[1];
  st_tensor &out = ins->out[0];
  const int64_t outer = ins->iattr[0], dim = ins->iattr[1], inner = ins->iattr[2];
  const int64_t n_idx = st::numel(ind), want = outer * inner * n_idx;
  const int32_t *idx = static_cast<const int32_t *>(ind.data);
  for (int64_t k = 0; k < n_idx; k++)
    ST_REQUIRE(st, idx[k] >= -dim && idx[k] < dim, ST_ERR_INDEX,
               "%s: index %d is out of range for axis of size %lld (input %s, indices %s)", op, (int)idx[k],
               (long long)dim, st::ShapeStr(x).c_str(), st::ShapeStr(ind).c_str());
  if (want == 0) return ST_OK;
  const int64_t rows = outer * n_idx;
  return st::dispatch_dtype(x.dtype, [&](auto z) {
    using T = decltype(z);
    const T *src = static_cast<const T *>(x.data);
    T *dst = static_cast<T *>(out.data);
    st::parallel(ctx, want, [&](int ith, int nth) {
      int64_t b, e;
      st::split_range(rows, ith, nth, &b, &e);
      if (b < e) gather_rows<T>(src, idx, dst, b, e, n_idx, dim, inner);
    });
    return ST_OK;
  });
}

st_code check_one_hot(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &ind = ins->in[0];
  const st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 1, ST_ERR_ARG, "%s: expected 1 int attribute [depth], got %d", op, (int)ins->n_iattr);
  ST_REQUIRE(st, ins->n_fattr == 2, ST_ERR_ARG, "%s: expected 2 float attributes [on, off], got %d", op,
             (int)ins->n_fattr);
  ST_REQUIRE(st, ind.dtype == ST_I32, ST_ERR_DTYPE, "%s: indices must be int32, got %s", op, st_dtype_name(ind.dtype));
  const int64_t depth = ins->iattr[0];
  ST_REQUIRE(st, depth >= 0, ST_ERR_ARG, "%s: depth must be >= 0, got %lld", op, (long long)depth);
  bool ok = out.ndim == ind.ndim + 1 && out.shape[ind.ndim] == depth;
  for (int d = 0; ok && d < ind.ndim; d++) ok = out.shape[d] == ind.shape[d];
  ST_REQUIRE(st, ok, ST_ERR_SHAPE, "%s: output %s should be indices %s plus [%lld]", op, st::ShapeStr(out).c_str(),
             st::ShapeStr(ind).c_str(), (long long)depth);
  return ST_OK;
}

st_code run_one_hot(st_ctx *ctx, const st_instr *ins) {
  const st_tensor &ind = ins->in[0];
  st_tensor &out = ins->out[0];
  const int64_t depth = ins->iattr[0];
  const int64_t rows = st::numel(ind);
  if (rows * depth == 0) return ST_OK;
  const int32_t *idx = static_cast<const int32_t *>(ind.data);
  const double on = ins->fattr[0], off = ins->fattr[1];
  return st::dispatch_dtype(out.dtype, [&](auto z) {
    using T = decltype(z);
    const T von = st::cast_value<T>(on), voff = st::cast_value<T>(off);
    T *y = static_cast<T *>(out.data);
    st::parallel(ctx, rows * depth, [&](int ith, int nth) {
      int64_t b, e;
      st::split_range(rows, ith, nth, &b, &e);
      for (int64_t r = b; r < e; r++) {
        T *row = y + r * depth;
        for (int64_t j = 0; j < depth; j++) row[j] = voff;
        if (idx[r] >= 0 && idx[r] < depth) row[idx[r]] = von;
      }
    });
    return ST_OK;
  });
}

st_code check_check_index(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &ind = ins->in[0], &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 2, ST_ERR_ARG, "%s: expected 2 int attributes [n, allow_negative], got %d", op,
             (int)ins->n_iattr);
  ST_REQUIRE(st, ind.dtype == ST_I32 && out.dtype == ST_I32, ST_ERR_DTYPE, "%s: indices and output must be int32, got %s and %s",
             op, st_dtype_name(ind.dtype), st_dtype_name(out.dtype));
  ST_REQUIRE(st, ins->iattr[0] >= 0 && ins->iattr[0] <= INT32_MAX, ST_ERR_ARG, "%s: n must be in [0, 2^31), got %lld", op,
             (long long)ins->iattr[0]);
  ST_REQUIRE(st, st::numel(out) == st::numel(ind), ST_ERR_SHAPE, "%s: output %s should have the %lld elements of indices %s",
             op, st::ShapeStr(out).c_str(), (long long)st::numel(ind), st::ShapeStr(ind).c_str());
  return ST_OK;
}

// Indices are data: every one is checked before any is written (the output may alias nothing).
st_code run_check_index(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &ind = ins->in[0];
  const int64_t n = ins->iattr[0], lo = ins->iattr[1] ? -n : 0, count = st::numel(ind);
  const int32_t *idx = static_cast<const int32_t *>(ind.data);
  int32_t *out = static_cast<int32_t *>(ins->out[0].data);
  for (int64_t k = 0; k < count; k++)
    ST_REQUIRE(st, idx[k] >= lo && idx[k] < n, ST_ERR_INDEX, "%s: index %d is out of range [%lld, %lld) (indices %s)", op,
               (int)idx[k], (long long)lo, (long long)n, st::ShapeStr(ind).c_str());
  for (int64_t k = 0; k < count; k++) out[k] = idx[k] < 0 ? (int32_t)(idx[k] + n) : idx[k];
  return ST_OK;
}

st_code check_gather_family(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_GATHER: return check_gather(ins, st);
    case ST_OP_ONE_HOT: return check_one_hot(ins, st);
    case ST_OP_CHECK_INDEX: return check_check_index(ins, st);
  }
  return st_fail(st, ST_ERR_INTERNAL, "%s: not a gather op", st_op_name(ins->opcode));
}

st_code run_gather_family(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_GATHER: return run_gather(ctx, ins, st);
    case ST_OP_CHECK_INDEX: return run_check_index(ins, st);
  }
  return run_one_hot(ctx, ins);
}

}  // namespace

const st::Family st_gather_family = {check_gather_family, run_gather_family};
