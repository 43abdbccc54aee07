// GEMM.  With OpenBLAS linked, st_gemm forwards to cblas_?gemm.  The built-in path is a classic
// packed, cache-blocked GEMM:
//   C is cut into tiles of MC x NC; each thread takes whole tiles (dynamic queue, no shared writes).
//   For every KC-deep slice of K a tile packs its A block (MC x KC, lives in L2) into MR-row
//   slivers and its B block (KC x NC) into NR-column slivers, then runs the micro-kernel over all
//   (MR x NR) sub-tiles, the B sliver (KC x NR) staying in L1 while the A slivers stream past it.
//   The micro-kernel keeps an MR x NR accumulator in vector registers (GCC/Clang vector
//   extensions, so any target gets vector code; FMA where the target has it).
// Packing zero-pads partial slivers, so the micro-kernel always runs full MR x NR tiles and only the
// write-back handles ragged edges.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>

#ifdef ST_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

#if defined(__GNUC__)
#define ST_ALWAYS_INLINE inline __attribute__((always_inline))
#if defined(__AVX512F__)
#define ST_VEC_BYTES 64
#else
#define ST_VEC_BYTES 32
#endif
typedef float vec_f32 __attribute__((vector_size(ST_VEC_BYTES)));
typedef double vec_f64 __attribute__((vector_size(ST_VEC_BYTES)));
#else
#define ST_ALWAYS_INLINE inline
#define ST_VEC_BYTES 0
#endif

// Register / cache blocking per element type.  NR = 2 vectors; MR rows of accumulators.
template <class T>
struct Blk;
template <>
struct Blk<float> {
#if ST_VEC_BYTES
  typedef vec_f32 V;
  static constexpr int L = ST_VEC_BYTES / 4;
#else
  typedef float V;
  static constexpr int L = 1;
#endif
  static constexpr int MR = ST_VEC_BYTES == 64 ? 8 : 6, NR = ST_VEC_BYTES ? 2 * L : 8;
  static constexpr int64_t KC = 256, MC = MR * 24, NC = 1024;
};
template <>
struct Blk<double> {
#if ST_VEC_BYTES
  typedef vec_f64 V;
  static constexpr int L = ST_VEC_BYTES / 8;
#else
  typedef double V;
  static constexpr int L = 1;
#endif
  static constexpr int MR = ST_VEC_BYTES == 64 ? 8 : 6, NR = ST_VEC_BYTES ? 2 * L : 8;
  static constexpr int64_t KC = 256, MC = MR * 12, NC = 512;
};

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// acc = sum_k a[k*MR + i] * b[k*NR + j]; then C = alpha * acc + beta * C (beta == 0: C not read).
template <class T>
ST_ALWAYS_INLINE void micro_kernel(int64_t kc, const T *__restrict a, const T *__restrict b, T *c, int64_t ldc, int mr,
                                   int nr, T alpha, T beta) {
  typedef Blk<T> B;
  typedef typename B::V V;
  constexpr int MR = B::MR, NR = B::NR, L = B::L, NV = NR / L;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = V{};
  for (int64_t k = 0; k < kc; k++) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) std::memcpy(&bv[v], b + v * L, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const T ai = a[i];
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] += ai * bv[v];
    }
    a += MR;
    b += NR;
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      T *ci = c + i * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        V r = alpha * acc[i][v];
        if (beta != T(0)) {
          V cv;
          std::memcpy(&cv, ci + v * L, sizeof(V));
          r += beta * cv;
        }
        std::memcpy(ci + v * L, &r, sizeof(V));
      }
    }
  } else {
    T tmp[MR * NR];
    std::memcpy(tmp, acc, sizeof tmp);
    for (int i = 0; i < mr; i++) {
      T *ci = c + i * ldc;
      if (beta == T(0))
        for (int j = 0; j < nr; j++) ci[j] = alpha * tmp[i * NR + j];
      else
        for (int j = 0; j < nr; j++) ci[j] = alpha * tmp[i * NR + j] + beta * ci[j];
    }
  }
}

template <class T>
struct Gemm {
  bool ta, tb;
  int64_t M, N, K;
  T alpha, beta;
  const T *A;
  int64_t lda;
  const T *Bm;
  int64_t ldb;
  T *C;
  int64_t ldc;
};

// Packs op(A)[i0 .. i0+mc, k0 .. k0+kc) into MR-row slivers: dst[s*MR*kc + k*MR + i].
template <class T>
ST_ALWAYS_INLINE void pack_a(const Gemm<T> &g, int64_t i0, int64_t mc, int64_t k0, int64_t kc, T *dst) {
  constexpr int MR = Blk<T>::MR;
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int mr = (int)std::min<int64_t>(MR, mc - ir);
    T *d = dst + ir * kc;
    if (!g.ta) {
      for (int i = 0; i < mr; i++) {
        const T *src = g.A + (i0 + ir + i) * g.lda + k0;
        for (int64_t k = 0; k < kc; k++) d[k * MR + i] = src[k];
      }
      for (int i = mr; i < MR; i++)
        for (int64_t k = 0; k < kc; k++) d[k * MR + i] = T(0);
    } else {
      for (int64_t k = 0; k < kc; k++) {
        const T *src = g.A + (k0 + k) * g.lda + i0 + ir;
        T *dk = d + k * MR;
        for (int i = 0; i < mr; i++) dk[i] = src[i];
        for (int i = mr; i < MR; i++) dk[i] = T(0);
      }
    }
  }
}

// Packs op(B)[k0 .. k0+kc, j0 .. j0+nc) into NR-column slivers: dst[s*NR*kc + k*NR + j].
template <class T>
ST_ALWAYS_INLINE void pack_b(const Gemm<T> &g, int64_t j0, int64_t nc, int64_t k0, int64_t kc, T *dst) {
  constexpr int NR = Blk<T>::NR;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int nr = (int)std::min<int64_t>(NR, nc - jr);
    T *d = dst + jr * kc;
    if (!g.tb) {
      for (int64_t k = 0; k < kc; k++) {
        const T *src = g.Bm + (k0 + k) * g.ldb + j0 + jr;
        T *dk = d + k * NR;
        if (nr == NR) {
          std::memcpy(dk, src, sizeof(T) * NR);
        } else {
          for (int j = 0; j < nr; j++) dk[j] = src[j];
          for (int j = nr; j < NR; j++) dk[j] = T(0);
        }
      }
    } else {
      for (int j = 0; j < nr; j++) {
        const T *src = g.Bm + (j0 + jr + j) * g.ldb + k0;
        for (int64_t k = 0; k < kc; k++) d[k * NR + j] = src[k];
      }
      for (int j = nr; j < NR; j++)
        for (int64_t k = 0; k < kc; k++) d[k * NR + j] = T(0);
    }
  }
}

// One tile of C: rows [i0, i0+mc), columns [j0, j0+nc), all of K.
template <class T>
ST_ALWAYS_INLINE void gemm_tile(const Gemm<T> &g, int64_t i0, int64_t mc, int64_t j0, int64_t nc, T *pa, T *pb) {
  typedef Blk<T> B;
  for (int64_t p0 = 0; p0 < g.K; p0 += B::KC) {
    const int64_t kc = std::min<int64_t>(B::KC, g.K - p0);
    pack_b(g, j0, nc, p0, kc, pb);
    pack_a(g, i0, mc, p0, kc, pa);
    const T beta = p0 == 0 ? g.beta : T(1);
    for (int64_t jr = 0; jr < nc; jr += B::NR) {
      const int nr = (int)std::min<int64_t>(B::NR, nc - jr);
      for (int64_t ir = 0; ir < mc; ir += B::MR) {
        const int mr = (int)std::min<int64_t>(B::MR, mc - ir);
        micro_kernel<T>(kc, pa + ir * kc, pb + jr * kc, g.C + (i0 + ir) * g.ldc + j0 + jr, g.ldc, mr, nr, g.alpha, beta);
      }
    }
  }
}

// Non-template entry points so that ST_HOT (function multi-versioning) can apply.
ST_HOT void gemm_tile_f32(const Gemm<float> &g, int64_t i0, int64_t mc, int64_t j0, int64_t nc, float *pa, float *pb) {
  gemm_tile<float>(g, i0, mc, j0, nc, pa, pb);
}
ST_HOT void gemm_tile_f64(const Gemm<double> &g, int64_t i0, int64_t mc, int64_t j0, int64_t nc, double *pa,
                          double *pb) {
  gemm_tile<double>(g, i0, mc, j0, nc, pa, pb);
}
inline void run_tile(const Gemm<float> &g, int64_t i0, int64_t mc, int64_t j0, int64_t nc, float *pa, float *pb) {
  gemm_tile_f32(g, i0, mc, j0, nc, pa, pb);
}
inline void run_tile(const Gemm<double> &g, int64_t i0, int64_t mc, int64_t j0, int64_t nc, double *pa, double *pb) {
  gemm_tile_f64(g, i0, mc, j0, nc, pa, pb);
}

template <class T>
inline T elem_a(const Gemm<T> &g, int64_t i, int64_t k) {
  return g.ta ? g.A[k * g.lda + i] : g.A[i * g.lda + k];
}
template <class T>
inline T elem_b(const Gemm<T> &g, int64_t k, int64_t j) {
  return g.tb ? g.Bm[j * g.ldb + k] : g.Bm[k * g.ldb + j];
}

// C = beta * C (beta == 0 writes zeros, so NaNs in C do not survive).
template <class T>
void scale_c(st_ctx *ctx, const Gemm<T> &g) {
  if (g.beta == T(1)) return;
  st::parallel(ctx, g.M * g.N, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(g.M, ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) {
      T *c = g.C + i * g.ldc;
      if (g.beta == T(0))
        for (int64_t j = 0; j < g.N; j++) c[j] = T(0);
      else
        for (int64_t j = 0; j < g.N; j++) c[j] *= g.beta;
    }
  });
}

// Tiny products: plain dot products, no packing and no allocation.
template <class T>
void gemm_small(const Gemm<T> &g) {
  for (int64_t i = 0; i < g.M; i++)
    for (int64_t j = 0; j < g.N; j++) {
      T s = 0;
      for (int64_t k = 0; k < g.K; k++) s += elem_a(g, i, k) * elem_b(g, k, j);
      T *c = g.C + i * g.ldc + j;
      *c = g.beta == T(0) ? g.alpha * s : g.alpha * s + g.beta * *c;
    }
}

template <class T>
st_code gemm_builtin(st_ctx *ctx, const Gemm<T> &g, st_status *st) {
  typedef Blk<T> B;
  if (g.M == 0 || g.N == 0) return ST_OK;
  if (g.K == 0 || g.alpha == T(0)) {
    scale_c(ctx, g);
    return ST_OK;
  }
  if (g.M <= 64 && g.N <= 64 && g.K <= 64 && g.M * g.N * g.K <= 2048) {
    gemm_small(g);
    return ST_OK;
  }
  const int threads = ctx && ctx->pool ? std::max(1, st_pool_threads(ctx->pool)) : 1;
  int64_t mc = std::min<int64_t>(B::MC, round_up(g.M, B::MR));
  int64_t nc = std::min<int64_t>(B::NC, round_up(g.N, B::NR));
  const int64_t kc = std::min<int64_t>(B::KC, g.K);
  // Enough tiles for every thread to have some (and a few extra for balance).
  if (threads > 1) {
    auto tiles = [&] { return ((g.M + mc - 1) / mc) * ((g.N + nc - 1) / nc); };
    while (tiles() < 4 * threads && nc > 2 * B::NR) nc = round_up(nc / 2, B::NR);
    while (tiles() < 2 * threads && mc > 2 * B::MR) mc = round_up(mc / 2, B::MR);
  }
  const int64_t tiles_m = (g.M + mc - 1) / mc, tiles_n = (g.N + nc - 1) / nc, n_tiles = tiles_m * tiles_n;
  const int n_buf = (int)std::min<int64_t>(threads, n_tiles);
  // Per-thread packing buffers, 64-byte aligned.
  const size_t per = (size_t)round_up((mc * kc + kc * nc) * (int64_t)sizeof(T), 64);
  unsigned char *raw = static_cast<unsigned char *>(std::malloc(per * n_buf + 64));
  if (!raw)
    return st_fail(st, ST_ERR_ALLOC, "gemm: cannot allocate %zu bytes of packing buffers for a %lldx%lldx%lld product",
                   per * n_buf + 64, (long long)g.M, (long long)g.N, (long long)g.K);
  unsigned char *base = raw + (64 - (reinterpret_cast<uintptr_t>(raw) & 63));
  std::atomic<int64_t> next{0};
  const double flops = 2.0 * (double)g.M * (double)g.N * (double)g.K;
  const int64_t work = n_buf > 1 ? (int64_t)std::min(flops, 1e15) : 1;
  st::parallel(ctx, work, [&](int ith, int nth) {
    if (ith >= n_buf) return;
    T *pa = reinterpret_cast<T *>(base + per * (size_t)ith);
    T *pb = pa + mc * kc;
    for (;;) {
      const int64_t t = next.fetch_add(1, std::memory_order_relaxed);
      if (t >= n_tiles) break;
      const int64_t i0 = (t / tiles_n) * mc, j0 = (t % tiles_n) * nc;
      run_tile(g, i0, std::min(mc, g.M - i0), j0, std::min(nc, g.N - j0), pa, pb);
    }
  });
  std::free(raw);
  return ST_OK;
}

st_code check_args(const char *fn, int32_t dtype, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void *A,
                   int64_t lda, const void *B, int64_t ldb, const void *C, int64_t ldc, st_status *st) {
  ST_REQUIRE(st, dtype == ST_F32 || dtype == ST_F64, ST_ERR_DTYPE, "%s: unsupported dtype %s", fn, st_dtype_name(dtype));
  ST_REQUIRE(st, M >= 0 && N >= 0 && K >= 0, ST_ERR_ARG, "%s: negative size %lldx%lldx%lld", fn, (long long)M,
             (long long)N, (long long)K);
  if (M == 0 || N == 0) return ST_OK;
  ST_REQUIRE(st, C && ldc >= N, ST_ERR_ARG, "%s: bad C (ldc %lld for %lld columns)", fn, (long long)ldc, (long long)N);
  if (K == 0) return ST_OK;
  ST_REQUIRE(st, A && lda >= (ta ? M : K), ST_ERR_ARG, "%s: bad A (lda %lld for a %s %lldx%lld matrix)", fn,
             (long long)lda, ta ? "transposed" : "", (long long)M, (long long)K);
  ST_REQUIRE(st, B && ldb >= (tb ? K : N), ST_ERR_ARG, "%s: bad B (ldb %lld for a %s %lldx%lld matrix)", fn,
             (long long)ldb, tb ? "transposed" : "", (long long)K, (long long)N);
  return ST_OK;
}

template <class T>
Gemm<T> make(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const void *A, int64_t lda,
             const void *B, int64_t ldb, double beta, void *C, int64_t ldc) {
  return Gemm<T>{ta, tb, M, N, K, (T)alpha, (T)beta, static_cast<const T *>(A), lda, static_cast<const T *>(B),
                 ldb, static_cast<T *>(C), ldc};
}

}  // namespace

st_code st_gemm_builtin(st_ctx *ctx, int32_t dtype, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
                        double alpha, const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C,
                        int64_t ldc, st_status *st) {
  ST_CHECK(check_args("gemm", dtype, transA, transB, M, N, K, A, lda, B, ldb, C, ldc, st));
  if (dtype == ST_F64)
    return gemm_builtin(ctx, make<double>(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), st);
  return gemm_builtin(ctx, make<float>(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), st);
}

#ifdef ST_HAVE_OPENBLAS
// SYMTENSOR_GEMM=builtin routes every GEMM to the built-in kernels even when OpenBLAS is linked
// (read once; for comparisons and for machines where OpenBLAS picks a slow kernel).
static bool use_openblas() {
  static const bool on = [] {
    const char *s = std::getenv("SYMTENSOR_GEMM");
    return !(s && std::strcmp(s, "builtin") == 0);
  }();
  return on;
}
#endif

extern "C" int st_gemm_uses_openblas(void) {
#ifdef ST_HAVE_OPENBLAS
  return use_openblas() ? 1 : 0;
#else
  return 0;
#endif
}

st_code st_gemm(st_ctx *ctx, int32_t dtype, bool transA, bool transB, int64_t M, int64_t N, int64_t K, double alpha,
                const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C, int64_t ldc,
                st_status *st) {
#ifdef ST_HAVE_OPENBLAS
  if (!use_openblas()) return st_gemm_builtin(ctx, dtype, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, st);
  ST_CHECK(check_args("gemm", dtype, transA, transB, M, N, K, A, lda, B, ldb, C, ldc, st));
  if (M == 0 || N == 0) return ST_OK;
  const int64_t lim = (int64_t)std::numeric_limits<blasint>::max();
  const bool fits = M <= lim && N <= lim && K <= lim && lda <= lim && ldb <= lim && ldc <= lim;
  if (K > 0 && alpha != 0 && fits) {
    const CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans;
    if (dtype == ST_F64)
      cblas_dgemm(CblasRowMajor, ta, tb, (blasint)M, (blasint)N, (blasint)K, alpha, static_cast<const double *>(A),
                  (blasint)lda, static_cast<const double *>(B), (blasint)ldb, beta, static_cast<double *>(C),
                  (blasint)ldc);
    else
      cblas_sgemm(CblasRowMajor, ta, tb, (blasint)M, (blasint)N, (blasint)K, (float)alpha,
                  static_cast<const float *>(A), (blasint)lda, static_cast<const float *>(B), (blasint)ldb,
                  (float)beta, static_cast<float *>(C), (blasint)ldc);
    return ST_OK;
  }
#endif
  return st_gemm_builtin(ctx, dtype, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, st);
}

void st_gemm_i32_rows(bool transA, bool transB, int64_t r0, int64_t r1, int64_t N, int64_t K, const int32_t *A,
                      int64_t lda, const int32_t *B, int64_t ldb, int32_t *C, int64_t ldc) {
  // Unsigned arithmetic: overflow wraps instead of being undefined.
  for (int64_t i = r0; i < r1; i++) {
    uint32_t *c = reinterpret_cast<uint32_t *>(C + i * ldc);
    if (!transB) {
      for (int64_t j = 0; j < N; j++) c[j] = 0;
      for (int64_t k = 0; k < K; k++) {
        const uint32_t a = (uint32_t)(transA ? A[k * lda + i] : A[i * lda + k]);
        if (a == 0) continue;
        const int32_t *b = B + k * ldb;
        for (int64_t j = 0; j < N; j++) c[j] += a * (uint32_t)b[j];
      }
    } else {
      for (int64_t j = 0; j < N; j++) {
        const int32_t *b = B + j * ldb;
        uint32_t s = 0;
        if (!transA)
          for (int64_t k = 0; k < K; k++) s += (uint32_t)A[i * lda + k] * (uint32_t)b[k];
        else
          for (int64_t k = 0; k < K; k++) s += (uint32_t)A[k * lda + i] * (uint32_t)b[k];
        c[j] = s;
      }
    }
  }
}

st_code st_gemm_i32(st_ctx *ctx, bool transA, bool transB, int64_t M, int64_t N, int64_t K, const int32_t *A,
                    int64_t lda, const int32_t *B, int64_t ldb, int32_t *C, int64_t ldc, st_status *st) {
  ST_REQUIRE(st, M >= 0 && N >= 0 && K >= 0, ST_ERR_ARG, "gemm: negative size %lldx%lldx%lld", (long long)M,
             (long long)N, (long long)K);
  if (M == 0 || N == 0) return ST_OK;
  ST_REQUIRE(st, C && ldc >= N, ST_ERR_ARG, "gemm: bad C (ldc %lld for %lld columns)", (long long)ldc, (long long)N);
  ST_REQUIRE(st, K == 0 || (A && B && lda >= (transA ? M : K) && ldb >= (transB ? K : N)), ST_ERR_ARG,
             "gemm: bad A/B leading dimensions (%lld, %lld)", (long long)lda, (long long)ldb);
  const double work = (double)M * (double)N * (double)(K + 1);
  st::parallel(ctx, (int64_t)std::min(work, 1e15), [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(M, ith, nth, &b, &e);
    st_gemm_i32_rows(transA, transB, b, e, N, K, A, lda, B, ldb, C, ldc);
  });
  return ST_OK;
}
