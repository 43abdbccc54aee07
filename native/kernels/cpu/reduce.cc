// REDUCE and ARGREDUCE.
//
// Reductions see their input as [outer, red, inner] and reduce the middle extent.  A reduction is
// always evaluated in the same order, whatever the thread count: a contiguous row (inner == 1) is
// cut into chunks of kChunk elements, each chunk is reduced with 32 independent accumulators
// (combined pairwise), and the chunk results are combined left to right.  With inner > 1, blocks
// of up to kBlock columns are accumulated row by row, over chunks of rows combined left to right.
// Rows shorter than kShort fold sequentially instead, several rows interleaved.  Threads either
// take whole outputs or, when there are too few outputs, chunks whose partial results are combined
// afterwards in the same order.  float32 sums, means and products accumulate
// in double; int32 sums and products wrap like int32 arithmetic.
//
// Small local arrays that the vectorizer touches are declared alignas(64) (see reduce.h: GCC 12
// with AVX-512 misaligns such stack arrays otherwise).
#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#include "../../runtime/internal.h"
#include "common.h"
#include "reduce.h"

namespace {

using namespace st::reduce;
using st::kern::check_extents;

enum Rop { kSum = 0, kMean = 1, kProd = 2, kMax = 3, kMin = 4, kAll = 5, kAny = 6 };
const char *const kRopNames[] = {"sum", "mean", "prod", "max", "min", "all", "any"};

constexpr int64_t kMaxChunks = 64;  // chunks of rows per column block, at most

int pool_threads(st_ctx *ctx) { return ctx && ctx->pool ? st_pool_threads(ctx->pool) : 1; }

// Accumulates rows [r0, r1) of a [red, inner] slab into acc[0, w) (columns j0 .. j0 + w).
template <class T, class Op>
ST_HOT void reduce_cols(const T *__restrict x, int64_t inner, int64_t r0, int64_t r1, int64_t w,
                        typename Op::A *__restrict acc) {
  int64_t r = r0;
  // four rows per pass keep acc in registers longer; the order per column is still row by row
  for (; r + 4 <= r1; r += 4) {
    const T *p0 = x + r * inner, *p1 = p0 + inner, *p2 = p1 + inner, *p3 = p2 + inner;
    for (int64_t j = 0; j < w; j++)
      acc[j] = Op::step(Op::step(Op::step(Op::step(acc[j], p0[j]), p1[j]), p2[j]), p3[j]);
  }
  for (; r < r1; r++) {
    const T *p = x + r * inner;
    for (int64_t j = 0; j < w; j++) acc[j] = Op::step(acc[j], p[j]);
  }
}

// Rows [o0, o1) of a [rows, n] array with short rows (n < kShort): each row folds sequentially, eight
// rows at a time so that their dependency chains overlap.
template <class T, class Op>
ST_HOT void reduce_short_rows(const T *__restrict x, T *__restrict y, int64_t o0, int64_t o1, int64_t n) {
  using A = typename Op::A;
  int64_t o = o0;
  for (; o + 8 <= o1; o += 8) {
    const T *p = x + o * n;
    alignas(64) A acc[8];
    for (int k = 0; k < 8; k++) acc[k] = Op::id();
    for (int64_t r = 0; r < n; r++)
      for (int k = 0; k < 8; k++) acc[k] = Op::step(acc[k], p[k * n + r]);
    for (int k = 0; k < 8; k++) y[o + k] = Op::fin(acc[k], n);
  }
  for (; o < o1; o++) {
    A t = Op::id();
    for (int64_t r = 0; r < n; r++) t = Op::step(t, x[o * n + r]);
    y[o] = Op::fin(t, n);
  }
}

template <class T, class Op>
st_code reduce_typed(st_ctx *ctx, const T *x, T *y, int64_t outer, int64_t red, int64_t inner, st_status *st) {
  using A = typename Op::A;
  const int64_t n_out = outer * inner;
  if (n_out == 0) return ST_OK;
  const int threads = pool_threads(ctx);
  const int64_t work = outer * red * inner;
  try {
    if (inner == 1 && red < kShort) {
      st::parallel(ctx, work, [&](int ith, int nth) {
        int64_t b, e;
        st::split_range(outer, ith, nth, &b, &e);
        reduce_short_rows<T, Op>(x, y, b, e, red);
      });
      return ST_OK;
    }
    if (inner == 1) {
      const int64_t nch = red > kChunk ? (red + kChunk - 1) / kChunk : 1;
      if (nch == 1 || outer >= 2 * threads) {
        st::parallel(ctx, work, [&](int ith, int nth) {
          int64_t b, e;
          st::split_range(outer, ith, nth, &b, &e);
          for (int64_t o = b; o < e; o++) {
            const T *row = x + o * red;
            A t = Op::id();
            for (int64_t c = 0; c < red; c += kChunk) t = Op::comb(t, reduce_contig<T, Op>(row + c, std::min(kChunk, red - c)));
            y[o] = Op::fin(t, red);
          }
        });
      } else {
        std::vector<A> part((size_t)(outer * nch));
        st::parallel(ctx, work, [&](int ith, int nth) {
          int64_t b, e;
          st::split_range(outer * nch, ith, nth, &b, &e);
          for (int64_t k = b; k < e; k++) {
            const int64_t o = k / nch, c = (k % nch) * kChunk;
            part[k] = reduce_contig<T, Op>(x + o * red + c, std::min(kChunk, red - c));
          }
        });
        for (int64_t o = 0; o < outer; o++) {
          A t = Op::id();
          for (int64_t c = 0; c < nch; c++) t = Op::comb(t, part[o * nch + c]);
          y[o] = Op::fin(t, red);
        }
      }
      return ST_OK;
    }

    // inner > 1: column blocks, rows in chunks of cr
    const int64_t nb = (inner + kBlock - 1) / kBlock;
    int64_t cr = std::max<int64_t>(1, kChunk / inner);
    cr = std::max(cr, (red + kMaxChunks - 1) / kMaxChunks);
    const int64_t nch = red > cr ? (red + cr - 1) / cr : 1;
    if (nch == 1 || outer * nb >= 2 * threads) {
      st::parallel(ctx, work, [&](int ith, int nth) {
        int64_t b, e;
        st::split_range(outer * nb, ith, nth, &b, &e);
        alignas(64) A total[kBlock], acc[kBlock];
        for (int64_t k = b; k < e; k++) {
          const int64_t o = k / nb, j0 = (k % nb) * kBlock, w = std::min(kBlock, inner - j0);
          const T *slab = x + o * red * inner + j0;
          for (int64_t j = 0; j < w; j++) total[j] = Op::id();
          for (int64_t r = 0; r < red; r += cr) {
            for (int64_t j = 0; j < w; j++) acc[j] = Op::id();
            reduce_cols<T, Op>(slab, inner, r, std::min(red, r + cr), w, acc);
            for (int64_t j = 0; j < w; j++) total[j] = Op::comb(total[j], acc[j]);
          }
          T *dst = y + o * inner + j0;
          for (int64_t j = 0; j < w; j++) dst[j] = Op::fin(total[j], red);
        }
      });
    } else {
      // few outputs, many rows: chunks of rows in parallel, partials combined in order
      std::vector<A> part((size_t)(outer * nch * inner));
      st::parallel(ctx, work, [&](int ith, int nth) {
        int64_t b, e;
        st::split_range(outer * nb * nch, ith, nth, &b, &e);
        for (int64_t k = b; k < e; k++) {
          const int64_t c = k % nch, q = k / nch, o = q / nb, j0 = (q % nb) * kBlock;
          const int64_t w = std::min(kBlock, inner - j0), r0 = c * cr;
          A *acc = part.data() + (o * nch + c) * inner + j0;
          for (int64_t j = 0; j < w; j++) acc[j] = Op::id();
          reduce_cols<T, Op>(x + o * red * inner + j0, inner, r0, std::min(red, r0 + cr), w, acc);
        }
      });
      for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
          A t = Op::id();
          for (int64_t c = 0; c < nch; c++) t = Op::comb(t, part[(o * nch + c) * inner + j]);
          y[o * inner + j] = Op::fin(t, red);
        }
    }
  } catch (const std::bad_alloc &) {
    return st_fail(st, ST_ERR_ALLOC, "reduce: out of memory for partial results");
  }
  return ST_OK;
}

st_code check_reduce(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  const st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 4, ST_ERR_ARG, "%s: expected 4 int attributes [rop, outer, red, inner], got %d", op,
             (int)ins->n_iattr);
  const int64_t rop = ins->iattr[0], outer = ins->iattr[1], inner = ins->iattr[3];
  ST_REQUIRE(st, rop >= 0 && rop <= kAny, ST_ERR_ARG, "%s: unknown reduction %lld", op, (long long)rop);
  ST_CHECK(check_extents(op, "[outer, red, inner]", in, ins->iattr + 1, st));
  ST_REQUIRE(st, st::numel(out) == outer * inner, ST_ERR_SHAPE,
             "%s: output %s should have outer*inner = %lld elements (input %s)", op, st::ShapeStr(out).c_str(),
             (long long)(outer * inner), st::ShapeStr(in).c_str());
  ST_REQUIRE(st, out.dtype == in.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(in.dtype),
             st_dtype_name(out.dtype));
  ST_REQUIRE(st, in.dtype != ST_BOOL || rop >= kMax, ST_ERR_DTYPE, "%s: %s of bool is not supported (input %s)", op,
             kRopNames[rop], st::ShapeStr(in).c_str());
  return ST_OK;
}

st_code run_reduce(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
  const int64_t rop = ins->iattr[0], outer = ins->iattr[1], red = ins->iattr[2], inner = ins->iattr[3];
  return st::dispatch_dtype(in.dtype, [&](auto z) {
    using T = decltype(z);
    const T *x = static_cast<const T *>(in.data);
    T *y = static_cast<T *>(out.data);
    switch (rop) {
      case kSum:
        if constexpr (!std::is_same<T, uint8_t>::value) return reduce_typed<T, OpSum<T>>(ctx, x, y, outer, red, inner, st);
        break;
      case kMean:
        if constexpr (!std::is_same<T, uint8_t>::value) return reduce_typed<T, OpMean<T>>(ctx, x, y, outer, red, inner, st);
        break;
      case kProd:
        if constexpr (!std::is_same<T, uint8_t>::value) return reduce_typed<T, OpProd<T>>(ctx, x, y, outer, red, inner, st);
        break;
      case kMax: return reduce_typed<T, OpMax<T>>(ctx, x, y, outer, red, inner, st);
      case kMin: return reduce_typed<T, OpMin<T>>(ctx, x, y, outer, red, inner, st);
      case kAll: return reduce_typed<T, OpAll<T>>(ctx, x, y, outer, red, inner, st);
      case kAny: return reduce_typed<T, OpAny<T>>(ctx, x, y, outer, red, inner, st);
    }
    return st_fail(st, ST_ERR_INTERNAL, "%s: unhandled reduction", op);
  });
}

// ---------------------------------------------------------------------------------------------
// ARGREDUCE: first occurrence wins ties; the first NaN beats everything.

template <class T>
bool is_nan(T v) {
  if constexpr (is_float<T>()) return v != v;
  else return false;
}

// Does candidate v (from later indices) replace the current best b?  Branch-free.
template <class T, bool MAX>
inline bool replaces(T v, T b) {
  if constexpr (is_float<T>()) return (b == b) & ((MAX ? v > b : v < b) | (v != v));
  else return MAX ? v > b : v < b;
}

// Index (relative to x) of the first extreme element of x[0, n), n >= 1; its value in *best.
template <class T, bool MAX>
ST_HOT int64_t arg_contig(const T *__restrict x, int64_t n, T *best) {
  using Op = typename std::conditional<MAX, OpMax<T>, OpMin<T>>::type;
  const T m = reduce_contig<T, Op>(x, n);  // the extreme value (NaN if any)
  *best = m;
  if (is_nan(m)) {
    for (int64_t i = 0; i < n; i++)
      if (is_nan(x[i])) return i;
  } else {
    for (int64_t i = 0; i < n; i++)
      if (x[i] == m) return i;
  }
  return 0;
}

template <class T, bool MAX>
ST_HOT void arg_cols(const T *__restrict x, int64_t inner, int64_t red, int64_t w, T *__restrict best,
                     int32_t *__restrict idx) {
  for (int64_t j = 0; j < w; j++) best[j] = x[j], idx[j] = 0;
  for (int64_t r = 1; r < red; r++) {
    const T *p = x + r * inner;
    for (int64_t j = 0; j < w; j++) {
      const T v = p[j], b = best[j];
      const bool take = replaces<T, MAX>(v, b);
      best[j] = take ? v : b;
      idx[j] = take ? (int32_t)r : idx[j];
    }
  }
}

// Short rows (n < kShort) of a [rows, n] array, eight rows at a time.
template <class T, bool MAX>
ST_HOT void arg_short_rows(const T *__restrict x, int32_t *__restrict y, int64_t o0, int64_t o1, int64_t n) {
  int64_t o = o0;
  for (; o + 8 <= o1; o += 8) {
    const T *p = x + o * n;
    alignas(64) T best[8];
    alignas(64) int32_t idx[8];
    for (int k = 0; k < 8; k++) best[k] = p[k * n], idx[k] = 0;
    for (int64_t r = 1; r < n; r++)
      for (int k = 0; k < 8; k++) {
        const T v = p[k * n + r], b = best[k];
        const bool take = replaces<T, MAX>(v, b);
        best[k] = take ? v : b;
        idx[k] = take ? (int32_t)r : idx[k];
      }
    for (int k = 0; k < 8; k++) y[o + k] = idx[k];
  }
  for (; o < o1; o++) {
    const T *p = x + o * n;
    T b = p[0];
    int32_t bi = 0;
    for (int64_t r = 1; r < n; r++)
      if (replaces<T, MAX>(p[r], b)) b = p[r], bi = (int32_t)r;
    y[o] = bi;
  }
}

template <class T, bool MAX>
st_code argreduce_typed(st_ctx *ctx, const T *x, int32_t *y, int64_t outer, int64_t red, int64_t inner,
                        st_status *st) {
  const int threads = pool_threads(ctx);
  const int64_t work = outer * red * inner;
  if (outer * inner == 0) return ST_OK;
  if (inner == 1 && red < kShort) {
    st::parallel(ctx, work, [&](int ith, int nth) {
      int64_t b, e;
      st::split_range(outer, ith, nth, &b, &e);
      arg_short_rows<T, MAX>(x, y, b, e, red);
    });
    return ST_OK;
  }
  if (inner == 1) {
    const int64_t nch = (red + kChunk - 1) / kChunk;
    if (nch == 1 || outer >= 2 * threads) {
      st::parallel(ctx, work, [&](int ith, int nth) {
        int64_t b, e;
        st::split_range(outer, ith, nth, &b, &e);
        for (int64_t o = b; o < e; o++) {
          const T *row = x + o * red;
          T bv{};
          int64_t bi = -1;
          for (int64_t c = 0; c < red; c += kChunk) {
            T v;
            const int64_t i = c + arg_contig<T, MAX>(row + c, std::min(kChunk, red - c), &v);
            if (bi < 0 || replaces<T, MAX>(v, bv)) bv = v, bi = i;
          }
          y[o] = (int32_t)bi;
        }
      });
    } else {
      std::vector<T> pv;
      std::vector<int64_t> pi;
      try {
        pv.resize((size_t)(outer * nch));
        pi.resize((size_t)(outer * nch));
      } catch (const std::bad_alloc &) {
        return st_fail(st, ST_ERR_ALLOC, "argReduce: out of memory for partial results");
      }
      st::parallel(ctx, work, [&](int ith, int nth) {
        int64_t b, e;
        st::split_range(outer * nch, ith, nth, &b, &e);
        for (int64_t k = b; k < e; k++) {
          const int64_t o = k / nch, c = (k % nch) * kChunk;
          T v;
          pi[k] = c + arg_contig<T, MAX>(x + o * red + c, std::min(kChunk, red - c), &v);
          pv[k] = v;
        }
      });
      for (int64_t o = 0; o < outer; o++) {
        T bv = pv[o * nch];
        int64_t bi = pi[o * nch];
        for (int64_t c = 1; c < nch; c++)
          if (replaces<T, MAX>(pv[o * nch + c], bv)) bv = pv[o * nch + c], bi = pi[o * nch + c];
        y[o] = (int32_t)bi;
      }
    }
    return ST_OK;
  }
  const int64_t nb = (inner + kBlock - 1) / kBlock;
  st::parallel(ctx, work, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(outer * nb, ith, nth, &b, &e);
    alignas(64) T best[kBlock];
    for (int64_t k = b; k < e; k++) {
      const int64_t o = k / nb, j0 = (k % nb) * kBlock, w = std::min(kBlock, inner - j0);
      arg_cols<T, MAX>(x + o * red * inner + j0, inner, red, w, best, y + o * inner + j0);
    }
  });
  return ST_OK;
}

st_code check_argreduce(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  const st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 4, ST_ERR_ARG, "%s: expected 4 int attributes [which, outer, red, inner], got %d",
             op, (int)ins->n_iattr);
  const int64_t which = ins->iattr[0], outer = ins->iattr[1], red = ins->iattr[2], inner = ins->iattr[3];
  ST_REQUIRE(st, which == 0 || which == 1, ST_ERR_ARG, "%s: which must be 0 (argmax) or 1 (argmin), got %lld", op,
             (long long)which);
  ST_CHECK(check_extents(op, "[outer, red, inner]", in, ins->iattr + 1, st));
  ST_REQUIRE(st, out.dtype == ST_I32, ST_ERR_DTYPE, "%s: output must be int32, got %s", op, st_dtype_name(out.dtype));
  ST_REQUIRE(st, st::numel(out) == outer * inner, ST_ERR_SHAPE,
             "%s: output %s should have outer*inner = %lld elements (input %s)", op, st::ShapeStr(out).c_str(),
             (long long)(outer * inner), st::ShapeStr(in).c_str());
  ST_REQUIRE(st, red > 0, ST_ERR_SHAPE, "%s: %s of an empty axis (input %s)", op, which == 0 ? "argmax" : "argmin",
             st::ShapeStr(in).c_str());
  ST_REQUIRE(st, red <= INT32_MAX, ST_ERR_SHAPE, "%s: axis of length %lld does not fit int32 indices (input %s)", op,
             (long long)red, st::ShapeStr(in).c_str());
  return ST_OK;
}

st_code run_argreduce(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
  const int64_t which = ins->iattr[0], outer = ins->iattr[1], red = ins->iattr[2], inner = ins->iattr[3];
  int32_t *y = static_cast<int32_t *>(out.data);
  return st::dispatch_dtype(in.dtype, [&](auto z) {
    using T = decltype(z);
    const T *x = static_cast<const T *>(in.data);
    return which == 0 ? argreduce_typed<T, true>(ctx, x, y, outer, red, inner, st)
                      : argreduce_typed<T, false>(ctx, x, y, outer, red, inner, st);
  });
}

st_code check_reduce_family(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_REDUCE: return check_reduce(ins, st);
    case ST_OP_ARGREDUCE: return check_argreduce(ins, st);
  }
  return st_fail(st, ST_ERR_INTERNAL, "%s: not a reduction op", st_op_name(ins->opcode));
}

st_code run_reduce_family(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  return ins->opcode == ST_OP_REDUCE ? run_reduce(ctx, ins, st) : run_argreduce(ctx, ins, st);
}

}  // namespace

const st::Family st_reduce_family = {check_reduce_family, run_reduce_family};
