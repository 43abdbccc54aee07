// General matrix multiply used by matmul and the convolution kernels.
#pragma once
#include "../../runtime/internal.h"

// Row-major C[M,N] = alpha * op(A) op(B) + beta * C, dtype ST_F32 or ST_F64.
//   op(A) is [M,K]: A is [M,K] with row stride lda, or [K,M] when transA.
//   op(B) is [K,N]: B is [K,N] with row stride ldb, or [N,K] when transB.
// beta == 0 overwrites C without reading it; K == 0 gives C = beta * C.
// Goes through OpenBLAS when it is linked (OpenBLAS runs its own threads, so never call this from
// inside an st::parallel task), otherwise through st_gemm_builtin.
st_code st_gemm(st_ctx *ctx, int32_t dtype, bool transA, bool transB, int64_t M, int64_t N, int64_t K, double alpha,
                const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C, int64_t ldc,
                st_status *st);

// The built-in cache-blocked GEMM (same contract).  Threads over blocks of C with ctx's pool; with
// ctx == NULL, or when called from inside a pool task, it runs on the calling thread.
st_code st_gemm_builtin(st_ctx *ctx, int32_t dtype, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
                        double alpha, const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C,
                        int64_t ldc, st_status *st);

// Int32 matmul: C[M,N] = op(A) op(B) (overwritten), wrapping on overflow like two's complement.
// Threads over rows of C.
st_code st_gemm_i32(st_ctx *ctx, bool transA, bool transB, int64_t M, int64_t N, int64_t K, const int32_t *A,
                    int64_t lda, const int32_t *B, int64_t ldb, int32_t *C, int64_t ldc, st_status *st);

// Serial int32 kernel for rows [r0, r1) of C (no checks); matmul uses it to thread over batches.
void st_gemm_i32_rows(bool transA, bool transB, int64_t r0, int64_t r1, int64_t N, int64_t K, const int32_t *A,
                      int64_t lda, const int32_t *B, int64_t ldb, int32_t *C, int64_t ldc);
