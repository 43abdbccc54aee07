// SOFTMAX and LOG_SOFTMAX over the middle extent of [outer, n, inner], shifted by the maximum.
//
// The maxima and sums use the fixed-order reductions of reduce.h, so the result does not depend on
// the thread count; e^x is vmath.h's vectorizable exp_vec.
//
// Small local arrays that the vectorizer touches are declared alignas(64) (see reduce.h: GCC 12
// with AVX-512 misaligns such stack arrays otherwise).
#include <algorithm>
#include <cmath>

#include "../../runtime/internal.h"
#include "common.h"
#include "reduce.h"
#include "vmath.h"

namespace {

using namespace st::reduce;
using st::kern::check_extents;
using st::vmath::exp_vec;

// Sum of a contiguous row in the fixed chunked order.
template <class T>
double sum_row(const T *x, int64_t n) {
  double t = 0;
  for (int64_t c = 0; c < n; c += kChunk) t += reduce_contig<T, OpSum<T>>(x + c, std::min(kChunk, n - c));
  return t;
}

template <class T>
ST_HOT void softmax_row(const T *__restrict x, T *__restrict y, int64_t n, bool log_out) {
  T m = OpMax<T>::id();
  for (int64_t c = 0; c < n; c += kChunk) m = OpMax<T>::comb(m, reduce_contig<T, OpMax<T>>(x + c, std::min(kChunk, n - c)));
  for (int64_t i = 0; i < n; i++) y[i] = exp_vec(x[i] - m);
  const double s = sum_row(y, n);
  if (log_out) {
    const double shift = (double)m + std::log(s);
    for (int64_t i = 0; i < n; i++) y[i] = (T)((double)x[i] - shift);
  } else {
    const T inv = (T)(1.0 / s);
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
  }
}

// G consecutive short rows (n < kShort): sequential maxima and sums, G rows interleaved.
template <class T, int G>
inline void softmax_group(const T *__restrict x, T *__restrict y, int64_t n, bool log_out) {
  alignas(64) T m[G];
  alignas(64) double s[G];
  for (int k = 0; k < G; k++) m[k] = OpMax<T>::id(), s[k] = 0;
  for (int64_t r = 0; r < n; r++)
    for (int k = 0; k < G; k++) m[k] = OpMax<T>::step(m[k], x[k * n + r]);
  // one flat loop over the G rows (they are contiguous) vectorizes better than G short ones
  alignas(64) T shift[G * kShort];
  for (int k = 0; k < G; k++)
    for (int64_t r = 0; r < n; r++) shift[k * n + r] = m[k];
  for (int64_t i = 0; i < G * n; i++) y[i] = exp_vec(x[i] - shift[i]);
  for (int64_t r = 0; r < n; r++)
    for (int k = 0; k < G; k++) s[k] += y[k * n + r];
  if (log_out) {
    for (int k = 0; k < G; k++) {
      const double shift = (double)m[k] + std::log(s[k]);
      for (int64_t r = 0; r < n; r++) y[k * n + r] = (T)((double)x[k * n + r] - shift);
    }
  } else {
    for (int k = 0; k < G; k++) {
      const T inv = (T)(1.0 / s[k]);
      for (int64_t r = 0; r < n; r++) y[k * n + r] *= inv;
    }
  }
}

template <class T>
ST_HOT void softmax_short_rows(const T *__restrict x, T *__restrict y, int64_t o0, int64_t o1, int64_t n,
                               bool log_out) {
  int64_t o = o0;
  for (; o + 8 <= o1; o += 8) softmax_group<T, 8>(x + o * n, y + o * n, n, log_out);
  for (; o < o1; o++) softmax_group<T, 1>(x + o * n, y + o * n, n, log_out);
}

// Columns j0 .. j0 + w of one [n, inner] slab.
template <class T>
ST_HOT void softmax_cols(const T *__restrict x, T *__restrict y, int64_t n, int64_t inner, int64_t w, bool log_out) {
  alignas(64) T m[kBlock];
  alignas(64) double s[kBlock];
  for (int64_t j = 0; j < w; j++) m[j] = OpMax<T>::id(), s[j] = 0;
  for (int64_t r = 0; r < n; r++)
    for (int64_t j = 0; j < w; j++) m[j] = OpMax<T>::step(m[j], x[r * inner + j]);
  if (log_out) {
    for (int64_t r = 0; r < n; r++)
      for (int64_t j = 0; j < w; j++) s[j] += exp_vec(x[r * inner + j] - m[j]);
    for (int64_t j = 0; j < w; j++) s[j] = (double)m[j] + std::log(s[j]);
    for (int64_t r = 0; r < n; r++)
      for (int64_t j = 0; j < w; j++) y[r * inner + j] = (T)((double)x[r * inner + j] - s[j]);
  } else {
    for (int64_t r = 0; r < n; r++)
      for (int64_t j = 0; j < w; j++) {
        const T e = exp_vec(x[r * inner + j] - m[j]);
        y[r * inner + j] = e;
        s[j] += e;
      }
    alignas(64) T inv[kBlock];
    for (int64_t j = 0; j < w; j++) inv[j] = (T)(1.0 / s[j]);
    for (int64_t r = 0; r < n; r++)
      for (int64_t j = 0; j < w; j++) y[r * inner + j] *= inv[j];
  }
}

st_code check_softmax(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  const st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 3, ST_ERR_ARG, "%s: expected 3 int attributes [outer, n, inner], got %d", op,
             (int)ins->n_iattr);
  ST_REQUIRE(st, in.dtype == ST_F32 || in.dtype == ST_F64, ST_ERR_DTYPE, "%s: input must be float32 or float64, got %s",
             op, st_dtype_name(in.dtype));
  ST_REQUIRE(st, out.dtype == in.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(in.dtype),
             st_dtype_name(out.dtype));
  bool same = in.ndim == out.ndim;
  for (int d = 0; same && d < in.ndim; d++) same = in.shape[d] == out.shape[d];
  ST_REQUIRE(st, same, ST_ERR_SHAPE, "%s: output %s differs from input %s", op, st::ShapeStr(out).c_str(),
             st::ShapeStr(in).c_str());
  return check_extents(op, "[outer, n, inner]", in, ins->iattr, st);
}

st_code run_softmax(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
  const int64_t outer = ins->iattr[0], n = ins->iattr[1], inner = ins->iattr[2];
  if (outer * n * inner == 0) return ST_OK;
  const bool log_out = ins->opcode == ST_OP_LOG_SOFTMAX;
  const int64_t work = outer * n * inner * 8;
  return st::dispatch_dtype(in.dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (is_float<T>()) {
      const T *x = static_cast<const T *>(in.data);
      T *y = static_cast<T *>(out.data);
      if (inner == 1) {
        st::parallel(ctx, work, [&](int ith, int nth) {
          int64_t b, e;
          st::split_range(outer, ith, nth, &b, &e);
          if (n < kShort)
            softmax_short_rows<T>(x, y, b, e, n, log_out);
          else
            for (int64_t o = b; o < e; o++) softmax_row<T>(x + o * n, y + o * n, n, log_out);
        });
      } else {
        const int64_t nb = (inner + kBlock - 1) / kBlock;
        st::parallel(ctx, work, [&](int ith, int nth) {
          int64_t b, e;
          st::split_range(outer * nb, ith, nth, &b, &e);
          for (int64_t k = b; k < e; k++) {
            const int64_t o = k / nb, j0 = (k % nb) * kBlock, off = o * n * inner + j0;
            softmax_cols<T>(x + off, y + off, n, inner, std::min(kBlock, inner - j0), log_out);
          }
        });
      }
      return ST_OK;
    } else {
      return st_fail(st, ST_ERR_INTERNAL, "%s: unexpected dtype", op);
    }
  });
}

}  // namespace

const st::Family st_softmax_family = {check_softmax, run_softmax};
