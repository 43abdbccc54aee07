// MATMUL: batched matrix products with numpy-style broadcasting of the batch dimensions.
//   a [..., M, K] (or [..., K, M] when transA), b [..., K, N] (or [..., N, K] when transB),
//   out [..., M, N] whose batch dims are exactly the broadcast of a's and b's.
// Whenever one operand is shared by all batches and the other is a plain stack of matrices, the
// batch is folded into a single GEMM; otherwise large matrices go one GEMM per batch (the GEMM
// threads) and small ones are spread over the thread pool, one serial GEMM per batch.
#include <algorithm>
#include <atomic>
#include <cstdio>

#include "../../runtime/internal.h"
#include "gemm.h"

namespace {

struct Plan {
  int32_t dtype;
  bool ta, tb;
  int64_t M, N, K;
  int nb;                       // out batch rank
  int64_t out_dims[ST_MAX_DIMS];  // out batch dims
  int64_t a_str[ST_MAX_DIMS], b_str[ST_MAX_DIMS];  // per out batch dim, in elements (0 = broadcast)
  int64_t batches, a_batches, b_batches;
  const unsigned char *a, *b;
  unsigned char *c;
  size_t es;
};

// Element offsets of batch t's matrices in a and b.
inline void batch_offsets(const Plan &p, int64_t t, int64_t *ao, int64_t *bo) {
  int64_t oa = 0, ob = 0;
  for (int d = p.nb - 1; d >= 0; d--) {
    const int64_t i = t % p.out_dims[d];
    t /= p.out_dims[d];
    oa += i * p.a_str[d];
    ob += i * p.b_str[d];
  }
  *ao = oa;
  *bo = ob;
}

// Strides (in elements) of x's batch dims, aligned to the out batch dims (0 where broadcast).
void batch_strides(const st_tensor &x, int nb, int64_t mat, int64_t *str, int64_t *count) {
  const int xb = x.ndim - 2;
  int64_t s = mat, n = 1;
  for (int d = nb - 1; d >= 0; d--) {
    const int xd = d - (nb - xb);
    if (xd < 0 || x.shape[xd] == 1) {
      str[d] = 0;
    } else {
      str[d] = s;
      s *= x.shape[xd];
      n *= x.shape[xd];
    }
  }
  *count = n;
}

st_code gemm_any(st_ctx *ctx, const Plan &p, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void *A,
                 int64_t lda, const void *B, int64_t ldb, void *C, int64_t ldc, st_status *st) {
  if (p.dtype == ST_I32)
    return st_gemm_i32(ctx, ta, tb, M, N, K, static_cast<const int32_t *>(A), lda, static_cast<const int32_t *>(B),
                       ldb, static_cast<int32_t *>(C), ldc, st);
  return st_gemm(ctx, p.dtype, ta, tb, M, N, K, 1.0, A, lda, B, ldb, 0.0, C, ldc, st);
}

// The product's geometry from the operands' shapes and the attributes (no checks).
Plan plan_of(const st_instr *ins) {
  const st_tensor &a = ins->in[0], &b = ins->in[1];
  const st_tensor &out = ins->out[0];
  Plan p{};
  p.dtype = a.dtype;
  p.ta = ins->iattr[0] != 0;
  p.tb = ins->iattr[1] != 0;
  const int64_t a0 = a.shape[a.ndim - 2], a1 = a.shape[a.ndim - 1];
  const int64_t b0 = b.shape[b.ndim - 2], b1 = b.shape[b.ndim - 1];
  p.M = p.ta ? a1 : a0;
  p.K = p.ta ? a0 : a1;
  p.N = p.tb ? b0 : b1;
  p.nb = std::max(a.ndim, b.ndim) - 2;
  p.batches = 1;
  for (int d = 0; d < p.nb; d++) {
    const int ad = d - (p.nb - (a.ndim - 2)), bd = d - (p.nb - (b.ndim - 2));
    const int64_t da = ad >= 0 ? a.shape[ad] : 1, db = bd >= 0 ? b.shape[bd] : 1;
    p.out_dims[d] = da == 1 ? db : da;
    p.batches *= p.out_dims[d];
  }
  batch_strides(a, p.nb, p.M * p.K, p.a_str, &p.a_batches);
  batch_strides(b, p.nb, p.K * p.N, p.b_str, &p.b_batches);
  p.es = st_dtype_size(p.dtype);
  p.a = static_cast<const unsigned char *>(a.data);
  p.b = static_cast<const unsigned char *>(b.data);
  p.c = static_cast<unsigned char *>(out.data);
  return p;
}

st_code check_matmul(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  ST_REQUIRE(st, ins->n_iattr == 2, ST_ERR_ARG, "%s: expected int attributes [transA, transB], got %d values", op,
             (int)ins->n_iattr);
  ST_REQUIRE(st, (ins->iattr[0] == 0 || ins->iattr[0] == 1) && (ins->iattr[1] == 0 || ins->iattr[1] == 1), ST_ERR_ARG,
             "%s: transA/transB must be 0 or 1, got %lld and %lld", op, (long long)ins->iattr[0],
             (long long)ins->iattr[1]);
  const st_tensor &a = ins->in[0], &b = ins->in[1];
  const st_tensor &out = ins->out[0];
  const st::ShapeStr as(a), bs(b), os(out);
  ST_REQUIRE(st, a.dtype == b.dtype && a.dtype == out.dtype, ST_ERR_DTYPE, "%s: dtypes differ: %s x %s -> %s", op,
             st_dtype_name(a.dtype), st_dtype_name(b.dtype), st_dtype_name(out.dtype));
  ST_REQUIRE(st, a.dtype == ST_F32 || a.dtype == ST_F64 || a.dtype == ST_I32, ST_ERR_DTYPE,
             "%s: unsupported dtype %s (float32, float64 or int32)", op, st_dtype_name(a.dtype));
  ST_REQUIRE(st, a.ndim >= 2 && b.ndim >= 2, ST_ERR_SHAPE, "%s: inputs must have rank >= 2, got %s and %s", op,
             as.c_str(), bs.c_str());

  const Plan p = plan_of(ins);
  const int64_t kb = p.tb ? b.shape[b.ndim - 1] : b.shape[b.ndim - 2];
  const char *tr = p.ta && p.tb ? "; a and b transposed" : p.ta ? "; a transposed" : p.tb ? "; b transposed" : "";
  ST_REQUIRE(st, p.K == kb, ST_ERR_SHAPE, "%s: cannot multiply %s by %s (inner dimensions %lld and %lld%s)", op,
             as.c_str(), bs.c_str(), (long long)p.K, (long long)kb, tr);
  // Expected output shape: broadcast batch dims, then [M, N].
  st_tensor want{};
  want.ndim = p.nb + 2;
  for (int d = 0; d < p.nb; d++) {
    const int ad = d - (p.nb - (a.ndim - 2)), bd = d - (p.nb - (b.ndim - 2));
    const int64_t da = ad >= 0 ? a.shape[ad] : 1, db = bd >= 0 ? b.shape[bd] : 1;
    ST_REQUIRE(st, da == db || da == 1 || db == 1, ST_ERR_SHAPE,
               "%s: batch dimensions of %s and %s do not broadcast (%lld vs %lld)", op, as.c_str(), bs.c_str(),
               (long long)da, (long long)db);
    want.shape[d] = p.out_dims[d];
  }
  want.shape[p.nb] = p.M;
  want.shape[p.nb + 1] = p.N;
  bool same = out.ndim == want.ndim;
  for (int d = 0; same && d < want.ndim; d++) same = out.shape[d] == want.shape[d];
  ST_REQUIRE(st, same, ST_ERR_SHAPE, "%s: output shape %s does not match %s (%s x %s%s)", op, os.c_str(),
             st::ShapeStr(want).c_str(), as.c_str(), bs.c_str(), tr);
  return ST_OK;
}

st_code run_matmul(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const Plan p = plan_of(ins);
  if (p.batches == 0 || p.M == 0 || p.N == 0) return ST_OK;
  const int64_t lda = p.ta ? p.M : p.K, ldb = p.tb ? p.K : p.N;
  const int64_t M = p.M, N = p.N, K = p.K, Bt = p.batches;

  // One shared b, a full stack of a's: the stack is one tall matrix (when its rows are rows of
  // op(a), i.e. a is not transposed or each matrix is a single row).
  if (p.b_batches == 1 && p.a_batches == Bt && (!p.ta || M == 1))
    return gemm_any(ctx, p, false, p.tb, Bt * M, N, K, p.a, K, p.b, ldb, p.c, N, st);
  if (p.a_batches == 1 && p.b_batches == Bt && Bt > 1) {
    // a shared, N == 1: out viewed as [Bt, M] = stack(b vectors) . op(a)^T
    if (N == 1) return gemm_any(ctx, p, false, !p.ta, Bt, M, K, p.b, K, p.a, lda, p.c, M, st);
    // a shared single row, b transposed: out viewed as [Bt*N, 1] = stack(b) [Bt*N, K] . a^T
    if (M == 1 && p.tb) return gemm_any(ctx, p, false, false, Bt * N, 1, K, p.b, K, p.a, 1, p.c, 1, st);
  }

  const size_t es = p.es;
  if (p.dtype == ST_I32) {
    const double work = (double)Bt * (double)M * (double)N * (double)(K + 1);
    st::parallel(ctx, (int64_t)std::min(work, 1e15), [&](int ith, int nth) {
      int64_t r0, r1;
      st::split_range(Bt * M, ith, nth, &r0, &r1);
      while (r0 < r1) {
        const int64_t t = r0 / M, i0 = r0 % M, i1 = std::min(M, i0 + (r1 - r0));
        int64_t ao, bo;
        batch_offsets(p, t, &ao, &bo);
        st_gemm_i32_rows(p.ta, p.tb, i0, i1, N, K, reinterpret_cast<const int32_t *>(p.a) + ao, lda,
                         reinterpret_cast<const int32_t *>(p.b) + bo, ldb,
                         reinterpret_cast<int32_t *>(p.c) + t * M * N, N);
        r0 += i1 - i0;
      }
    });
    return ST_OK;
  }

  const double per = (double)M * (double)N * (double)K;
  if (per > 96.0 * 96.0 * 96.0 || Bt == 1) {
    for (int64_t t = 0; t < Bt; t++) {
      int64_t ao, bo;
      batch_offsets(p, t, &ao, &bo);
      ST_CHECK(st_gemm(ctx, p.dtype, p.ta, p.tb, M, N, K, 1.0, p.a + ao * es, lda, p.b + bo * es, ldb, 0.0,
                       p.c + (size_t)(t * M * N) * es, N, st));
    }
    return ST_OK;
  }
  // Many small products: one serial built-in GEMM per batch, batches spread over the pool.
  std::atomic<int> failed{0};
  st::parallel(ctx, (int64_t)std::min(2.0 * per * (double)Bt, 1e15), [&](int ith, int nth) {
    int64_t t0, t1;
    st::split_range(Bt, ith, nth, &t0, &t1);
    st_status local{};
    for (int64_t t = t0; t < t1 && !failed.load(std::memory_order_relaxed); t++) {
      int64_t ao, bo;
      batch_offsets(p, t, &ao, &bo);
      if (st_gemm_builtin(nullptr, p.dtype, p.ta, p.tb, M, N, K, 1.0, p.a + ao * es, lda, p.b + bo * es, ldb, 0.0,
                          p.c + (size_t)(t * M * N) * es, N, &local) != ST_OK)
        failed.store(1);
    }
  });
  ST_REQUIRE(st, !failed.load(), ST_ERR_ALLOC, "%s: out of memory multiplying %s by %s", op,
             st::ShapeStr(ins->in[0]).c_str(), st::ShapeStr(ins->in[1]).c_str());
  return ST_OK;
}

}  // namespace

const st::Family st_matmul_family = {check_matmul, run_matmul};
