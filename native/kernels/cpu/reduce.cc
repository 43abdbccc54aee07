// REDUCE, ARGREDUCE, SOFTMAX, LOG_SOFTMAX, GATHER and ONE_HOT.
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
// Small local arrays that the vectorizer touches are declared alignas(64): GCC 12 at -O2 with
// AVX-512 enabled was seen to put such an array at a stack slot less aligned than the aligned
// vector stores it then used; an explicit over-alignment makes it realign the frame.
#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#include "../../runtime/internal.h"

namespace {

enum Rop { kSum = 0, kMean = 1, kProd = 2, kMax = 3, kMin = 4, kAll = 5, kAny = 6 };
const char *const kRopNames[] = {"sum", "mean", "prod", "max", "min", "all", "any"};

constexpr int64_t kChunk = 1 << 16;  // elements per chunk of a contiguous row
constexpr int64_t kBlock = 1024;      // columns per block when inner > 1
constexpr int64_t kMaxChunks = 64;   // chunks of rows per column block, at most
constexpr int64_t kShort = 32;       // rows shorter than this fold sequentially, several rows at once

template <class T>
constexpr bool is_float() {
  return std::is_floating_point<T>::value;
}

// double -> element type, without undefined behaviour for NaN or out-of-range values.
template <class T>
T cast_value(double v) {
  if constexpr (std::is_same<T, uint8_t>::value) {
    return (T)(v != 0);
  } else if constexpr (std::is_integral<T>::value) {
    if (!(v == v)) return 0;
    if (v >= 2147483647.0) return INT32_MAX;
    if (v <= -2147483648.0) return INT32_MIN;
    return (T)v;
  } else {
    return (T)v;
  }
}

int pool_threads(st_ctx *ctx) { return ctx && ctx->pool ? st_pool_threads(ctx->pool) : 1; }

// ---------------------------------------------------------------------------------------------
// Reduction operators: A is the accumulator, id() the identity, step() folds in one element,
// comb() joins two accumulators, fin() turns the result into the element type.

// Sum and product accumulate floats in double and int32 in wrapping uint64.
template <class T>
using SumAcc = typename std::conditional<is_float<T>(), double, uint64_t>::type;

template <class T>
struct OpSum {
  using A = SumAcc<T>;
  static A id() { return 0; }
  static A conv(T x) {
    if constexpr (is_float<T>()) return (A)x;
    else return (A)(int64_t)x;
  }
  static A step(A a, T x) { return a + conv(x); }
  static A comb(A a, A b) { return a + b; }
  static T fin(A a, int64_t) {
    if constexpr (is_float<T>()) return (T)a;
    else return (T)(uint32_t)a;
  }
};

template <class T>
struct OpMean : OpSum<T> {
  using A = SumAcc<T>;
  static T fin(A a, int64_t n) {
    if constexpr (is_float<T>()) return n ? (T)(a / (double)n) : std::numeric_limits<T>::quiet_NaN();
    else return n ? (T)((int64_t)a / n) : (T)0;
  }
};

template <class T>
struct OpProd {
  using A = SumAcc<T>;
  static A id() { return 1; }
  static A step(A a, T x) { return a * OpSum<T>::conv(x); }
  static A comb(A a, A b) { return a * b; }
  static T fin(A a, int64_t n) { return OpSum<T>::fin(a, n); }
};

// max / min: NaN wins (once the accumulator is NaN it stays NaN).
template <class T>
struct OpMax {
  using A = T;
  static A id() {
    if constexpr (is_float<T>()) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  static A step(A a, T x) {
    if constexpr (is_float<T>()) return ((x > a) | (x != x)) ? x : a;  // no short circuit: stays branch-free
    else return x > a ? x : a;
  }
  static A comb(A a, A b) { return step(a, b); }
  static T fin(A a, int64_t) { return a; }
};

template <class T>
struct OpMin {
  using A = T;
  static A id() {
    if constexpr (is_float<T>()) return std::numeric_limits<T>::infinity();
    else if constexpr (std::is_same<T, uint8_t>::value) return 1;  // bool: min is "all"
    else return std::numeric_limits<T>::max();
  }
  static A step(A a, T x) {
    if constexpr (is_float<T>()) return ((x < a) | (x != x)) ? x : a;
    else return x < a ? x : a;
  }
  static A comb(A a, A b) { return step(a, b); }
  static T fin(A a, int64_t) { return a; }
};

// all / any: nonzero (NaN included) is true; the result is 0 or 1 in the element type.
template <class T>
struct OpAll {
  using A = T;
  static A id() { return 1; }
  static A step(A a, T x) { return (a != 0 && x != 0) ? (A)1 : (A)0; }
  static A comb(A a, A b) { return step(a, b); }
  static T fin(A a, int64_t) { return a; }
};

template <class T>
struct OpAny {
  using A = T;
  static A id() { return 0; }
  static A step(A a, T x) { return (a != 0 || x != 0) ? (A)1 : (A)0; }
  static A comb(A a, A b) { return step(a, b); }
  static T fin(A a, int64_t) { return a; }
};

// Reduces x[0, n) (n <= kChunk) with independent lanes combined pairwise.
template <class T, class Op>
ST_HOT typename Op::A reduce_contig(const T *__restrict x, int64_t n) {
  using A = typename Op::A;
  constexpr int K = 32;
  alignas(64) A acc[K];
  for (int k = 0; k < K; k++) acc[k] = Op::id();
  int64_t i = 0;
  for (; i + K <= n; i += K)
    for (int k = 0; k < K; k++) acc[k] = Op::step(acc[k], x[i + k]);
  for (int k = 0; i < n; i++, k++) acc[k] = Op::step(acc[k], x[i]);
  for (int w = K / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; k++) acc[k] = Op::comb(acc[k], acc[k + w]);
  return acc[0];
}

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

// Validates [outer, n, inner] attributes against the input (also that outer * inner fits).
st_code check_extents(const char *op, const char *names, const st_tensor &in, const int64_t *a, st_status *st) {
  ST_REQUIRE(st, a[0] >= 0 && a[1] >= 0 && a[2] >= 0, ST_ERR_ARG, "%s: negative extent in %s = [%lld,%lld,%lld]", op,
             names, (long long)a[0], (long long)a[1], (long long)a[2]);
  int64_t p1, p2, p3;
  const bool overflow = __builtin_mul_overflow(a[0], a[1], &p1) || __builtin_mul_overflow(p1, a[2], &p2) ||
                        __builtin_mul_overflow(a[0], a[2], &p3);
  ST_REQUIRE(st, !overflow && p2 == st::numel(in), ST_ERR_SHAPE,
             "%s: %s = [%lld,%lld,%lld] does not match input %s (%lld elements)", op, names, (long long)a[0],
             (long long)a[1], (long long)a[2], st::ShapeStr(in).c_str(), (long long)st::numel(in));
  return ST_OK;
}

st_code exec_reduce(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 4, ST_ERR_ARG, "%s: expected 4 int attributes [rop, outer, red, inner], got %d", op,
             (int)ins->n_iattr);
  const int64_t rop = ins->iattr[0], outer = ins->iattr[1], red = ins->iattr[2], inner = ins->iattr[3];
  ST_REQUIRE(st, rop >= 0 && rop <= kAny, ST_ERR_ARG, "%s: unknown reduction %lld", op, (long long)rop);
  ST_CHECK(check_extents(op, "[outer, red, inner]", in, ins->iattr + 1, st));
  ST_REQUIRE(st, st::numel(out) == outer * inner, ST_ERR_SHAPE,
             "%s: output %s should have outer*inner = %lld elements (input %s)", op, st::ShapeStr(out).c_str(),
             (long long)(outer * inner), st::ShapeStr(in).c_str());
  ST_REQUIRE(st, out.dtype == in.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(in.dtype),
             st_dtype_name(out.dtype));
  ST_REQUIRE(st, in.dtype != ST_BOOL || rop >= kMax, ST_ERR_DTYPE, "%s: %s of bool is not supported (input %s)", op,
             kRopNames[rop], st::ShapeStr(in).c_str());
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

st_code exec_argreduce(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
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
  int32_t *y = static_cast<int32_t *>(out.data);
  return st::dispatch_dtype(in.dtype, [&](auto z) {
    using T = decltype(z);
    const T *x = static_cast<const T *>(in.data);
    return which == 0 ? argreduce_typed<T, true>(ctx, x, y, outer, red, inner, st)
                      : argreduce_typed<T, false>(ctx, x, y, outer, red, inner, st);
  });
}

// ---------------------------------------------------------------------------------------------
// SOFTMAX / LOG_SOFTMAX over the middle extent, shifted by the maximum.

// exp() that the compiler can vectorize: x = k ln2 + r with |r| <= ln2/2 (ln2 split in a high part
// that k multiplies exactly and a low part), a Taylor polynomial for e^r, then 2^k applied as two
// halves so that results down to the subnormal range come out right.  Measured against exp():
// at most ~1.2 ulp (float, every input) and ~2.6 ulp (double); NaN stays NaN, -inf gives 0.
inline float exp_vec(float x) {
  const bool nan = x != x;
  float xc = nan ? 0.0f : x;
  xc = xc < -104.0f ? -104.0f : xc;
  xc = xc > 88.8f ? 88.8f : xc;  // beyond ~88.72 the result overflows to inf either way
  const float kf = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;  // round(xc / ln2)
  const float r = (xc - kf * 0.693359375f) - kf * -2.12194440e-4f;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t k = (int32_t)kf, k1 = k >> 1, k2 = k - k1;
  const int32_t b1 = (k1 + 127) << 23, b2 = (k2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  return nan ? x : p * s1 * s2;
}

inline double exp_vec(double x) {
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
  const int64_t b1 = (int64_t)(k1 + 1023) << 52, b2 = (int64_t)(k2 + 1023) << 52;
  double s1, s2;
  std::memcpy(&s1, &b1, 8);
  std::memcpy(&s2, &b2, 8);
  return nan ? x : p * s1 * s2;
}

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

st_code exec_softmax(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
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
  ST_CHECK(check_extents(op, "[outer, n, inner]", in, ins->iattr, st));
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

// ---------------------------------------------------------------------------------------------
// GATHER and ONE_HOT

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

st_code exec_gather(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &x = ins->in[0], &ind = ins->in[1];
  st_tensor &out = ins->out[0];
  ST_REQUIRE(st, ins->n_iattr == 3, ST_ERR_ARG, "%s: expected 3 int attributes [outer, axis_dim, inner], got %d", op,
             (int)ins->n_iattr);
  ST_REQUIRE(st, ind.dtype == ST_I32, ST_ERR_DTYPE, "%s: indices must be int32, got %s", op, st_dtype_name(ind.dtype));
  ST_REQUIRE(st, out.dtype == x.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(x.dtype),
             st_dtype_name(out.dtype));
  ST_CHECK(check_extents(op, "[outer, axis_dim, inner]", x, ins->iattr, st));
  const int64_t outer = ins->iattr[0], dim = ins->iattr[1], inner = ins->iattr[2];
  const int64_t n_idx = st::numel(ind);
  int64_t want;
  const bool overflow = __builtin_mul_overflow(outer * inner, n_idx, &want);
  ST_REQUIRE(st, !overflow && st::numel(out) == want, ST_ERR_SHAPE,
             "%s: output %s should have outer*n_idx*inner = %lld*%lld*%lld elements (input %s, indices %s)", op,
             st::ShapeStr(out).c_str(), (long long)outer, (long long)n_idx, (long long)inner, st::ShapeStr(x).c_str(),
             st::ShapeStr(ind).c_str());
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

st_code exec_one_hot(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &ind = ins->in[0];
  st_tensor &out = ins->out[0];
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
  const int64_t rows = st::numel(ind);
  if (rows * depth == 0) return ST_OK;
  const int32_t *idx = static_cast<const int32_t *>(ind.data);
  const double on = ins->fattr[0], off = ins->fattr[1];
  return st::dispatch_dtype(out.dtype, [&](auto z) {
    using T = decltype(z);
    const T von = cast_value<T>(on), voff = cast_value<T>(off);
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

}  // namespace

st_code st_exec_reduce(st_ctx *ctx, const st_instr *ins, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_REDUCE: return exec_reduce(ctx, ins, st);
    case ST_OP_ARGREDUCE: return exec_argreduce(ctx, ins, st);
    case ST_OP_SOFTMAX:
    case ST_OP_LOG_SOFTMAX: return exec_softmax(ctx, ins, st);
    case ST_OP_GATHER: return exec_gather(ctx, ins, st);
    case ST_OP_ONE_HOT: return exec_one_hot(ctx, ins, st);
  }
  return st_fail(st, ST_ERR_INTERNAL, "%s: not a reduction op", st_op_name(ins->opcode));
}
