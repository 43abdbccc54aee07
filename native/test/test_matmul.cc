// GEMM (built-in and the linked backend) and MATMUL against plain triple loops.
#include <cstdint>

#include "../kernels/cpu/gemm.h"
#include "test.h"

using sttest::Tensor;

namespace {

// Reference: C = alpha * op(A) op(B) + beta * C in double; also returns the magnitude scale
// |alpha| sum |a b| + |beta c| used for the tolerance.
void ref_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const std::vector<double> &A,
              int64_t lda, const std::vector<double> &B, int64_t ldb, double beta, std::vector<double> &C,
              int64_t ldc, std::vector<double> &scale) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = 0, sa = 0;
      for (int64_t k = 0; k < K; k++) {
        const double a = ta ? A[k * lda + i] : A[i * lda + k];
        const double b = tb ? B[j * ldb + k] : B[k * ldb + j];
        s += a * b;
        sa += std::fabs(a * b);
      }
      double &c = C[i * ldc + j];
      scale[i * ldc + j] = std::fabs(alpha) * sa + (beta == 0 ? 0 : std::fabs(beta * c));
      c = beta == 0 ? alpha * s : alpha * s + beta * c;
    }
}

std::vector<double> random_vec(size_t n, unsigned seed) {
  std::vector<double> v(n);
  unsigned s = seed * 2654435761u + 7;
  for (auto &x : v) {
    s = s * 1664525u + 1013904223u;
    x = ((s >> 8) / 16777216.0) * 2 - 1;
  }
  return v;
}

// Runs one GEMM through `fn` (st_gemm or st_gemm_builtin) in dtype dt and compares with the reference.
template <class T>
int check_gemm(decltype(&st_gemm) fn, int32_t dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
               double beta, int64_t pad, unsigned seed) {
  const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  const int64_t arows = ta ? K : M, brows = tb ? N : K;
  std::vector<double> A = random_vec((size_t)(arows * lda), seed), B = random_vec((size_t)(brows * ldb), seed + 1),
                      C = random_vec((size_t)(M * ldc), seed + 2), scale((size_t)(M * ldc), 0);
  std::vector<T> a(A.begin(), A.end()), b(B.begin(), B.end()), c(C.begin(), C.end());
  // round the reference inputs to T so only the accumulation differs
  for (size_t i = 0; i < A.size(); i++) A[i] = a[i];
  for (size_t i = 0; i < B.size(); i++) B[i] = b[i];
  for (size_t i = 0; i < C.size(); i++) C[i] = c[i];
  if (beta == 0) {  // beta == 0 must not read C: poison it
    for (auto &v : c) v = (T)std::nan("");
    for (auto &v : C) v = std::nan("");
  }
  std::vector<double> C0 = C;
  ref_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scale);
  st_status st{};
  const st_code rc = fn(sttest::ctx, dt, ta, tb, M, N, K, alpha, a.empty() ? nullptr : a.data(), lda,
                        b.empty() ? nullptr : b.data(), ldb, beta, c.empty() ? nullptr : c.data(), ldc, &st);
  if (rc != ST_OK) {
    std::fprintf(stderr, "  gemm failed: %s\n", st.message);
    return 1;
  }
  const double eps = sizeof(T) == 4 ? 2e-6 : 1e-14;
  int bad = 0;
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < ldc; j++) {
      const size_t idx = (size_t)(i * ldc + j);
      const double want = j < N ? C[idx] : C0[idx];  // padding columns untouched
      const double tol = j < N ? eps * (4 + (double)K) * (scale[idx] + 1e-30) : 0;
      const double got = c[idx];
      const bool ok = j < N ? std::fabs(got - want) <= tol : (std::isnan(want) ? std::isnan(got) : got == want);
      if (!ok && bad++ < 3)
        std::fprintf(stderr, "  gemm %s ta=%d tb=%d %lldx%lldx%lld alpha=%g beta=%g: C[%lld,%lld] = %.9g, want %.9g\n",
                     sizeof(T) == 4 ? "f32" : "f64", ta, tb, (long long)M, (long long)N, (long long)K, alpha, beta,
                     (long long)i, (long long)j, got, want);
    }
  return bad;
}

void gemm_suite(decltype(&st_gemm) fn) {
  const int64_t sizes[][3] = {{1, 1, 1},  {17, 33, 65}, {130, 70, 257}, {5, 200, 3}, {64, 64, 64}, {7, 5, 3},
                              {1, 300, 40}, {300, 1, 40}, {3, 3, 600}, {0, 5, 3},   {5, 0, 3},    {4, 5, 0},
                              {200, 190, 9}, {49, 47, 513}};
  const double ab[][2] = {{1, 0}, {0.5, -2}, {2, 1}, {0, 0.5}, {-1, 0}};
  unsigned seed = 1;
  for (auto &s : sizes)
    for (int t = 0; t < 4; t++)
      for (auto &p : ab) {
        const bool ta = t & 1, tb = t & 2;
        const int64_t pad = (seed % 3 == 0) ? 3 : 0;
        EXPECT(check_gemm<float>(fn, ST_F32, ta, tb, s[0], s[1], s[2], p[0], p[1], pad, seed) == 0);
        EXPECT(check_gemm<double>(fn, ST_F64, ta, tb, s[0], s[1], s[2], p[0], p[1], pad, seed + 100) == 0);
        seed++;
      }
}

// Reference matmul over tensors (batch broadcasting, transposes), result in double.
std::vector<double> ref_matmul(const Tensor &a, const Tensor &b, bool ta, bool tb, const Tensor &out) {
  const int on = out.t.ndim, nb = on - 2;
  const int64_t M = out.t.shape[on - 2], N = out.t.shape[on - 1];
  const int64_t K = ta ? a.t.shape[a.t.ndim - 2] : a.t.shape[a.t.ndim - 1];
  int64_t batches = 1;
  for (int d = 0; d < nb; d++) batches *= out.t.shape[d];
  std::vector<double> r((size_t)(batches * M * N));
  std::vector<int64_t> idx(nb);
  for (int64_t t = 0; t < batches; t++) {
    int64_t rem = t;
    for (int d = nb - 1; d >= 0; d--) idx[d] = rem % out.t.shape[d], rem /= out.t.shape[d];
    auto offset = [&](const Tensor &x) {  // batch offset in matrices
      int64_t off = 0;
      const int xb = x.t.ndim - 2;
      for (int d = 0; d < xb; d++) {
        const int od = d + (nb - xb);
        off = off * x.t.shape[d] + (x.t.shape[d] == 1 ? 0 : idx[od]);
      }
      return off;
    };
    const int64_t ao = offset(a) * M * K, bo = offset(b) * K * N;
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double s = 0;
        for (int64_t k = 0; k < K; k++)
          s += a.get(ao + (ta ? k * M + i : i * K + k)) * b.get(bo + (tb ? j * K + k : k * N + j));
        r[(size_t)((t * M + i) * N + j)] = s;
      }
  }
  return r;
}

// a_batch/b_batch are the batch dims; the output batch is their broadcast.
void check_matmul(int32_t dt, std::vector<int64_t> a_batch, std::vector<int64_t> b_batch, int64_t M, int64_t N,
                  int64_t K, bool ta, bool tb, unsigned seed) {
  std::vector<int64_t> as = a_batch, bs = b_batch, os;
  as.push_back(ta ? K : M), as.push_back(ta ? M : K);
  bs.push_back(tb ? N : K), bs.push_back(tb ? K : N);
  const size_t nb = std::max(a_batch.size(), b_batch.size());
  for (size_t d = 0; d < nb; d++) {
    const int64_t da = d + a_batch.size() >= nb ? a_batch[d + a_batch.size() - nb] : 1;
    const int64_t db = d + b_batch.size() >= nb ? b_batch[d + b_batch.size() - nb] : 1;
    os.push_back(da == 1 ? db : da);
  }
  os.push_back(M), os.push_back(N);
  Tensor a(dt, as), b(dt, bs), out(dt, os);
  if (dt == ST_I32) {
    a.fill_random(seed, -20, 20), b.fill_random(seed + 1, -20, 20);
  } else {
    a.fill_random(seed), b.fill_random(seed + 1);
  }
  out.fill_random(seed + 2);  // must be overwritten
  std::string msg;
  const st_code rc = sttest::run(ST_OP_MATMUL, {&a, &b}, {&out}, {ta, tb}, {}, &msg);
  EXPECT(rc == ST_OK);
  if (rc != ST_OK) {
    std::fprintf(stderr, "  %s\n", msg.c_str());
    return;
  }
  const std::vector<double> want = ref_matmul(a, b, ta, tb, out);
  const double tol = dt == ST_F32 ? 1e-5 * (double)(K + 1) : dt == ST_F64 ? 1e-13 * (double)(K + 1) : 0;
  int bad = 0;
  for (int64_t i = 0; i < out.size(); i++)
    if (!(std::fabs(out.get(i) - want[(size_t)i]) <= tol) && bad++ < 3) {
      std::fprintf(stderr, "  matmul %s M=%lld N=%lld K=%lld ta=%d tb=%d: out[%lld] = %.9g, want %.9g\n",
                   st_dtype_name(dt), (long long)M, (long long)N, (long long)K, ta, tb, (long long)i, out.get(i),
                   want[(size_t)i]);
      sttest::failures++;
    }
}

}  // namespace

TEST(gemm_builtin_vs_reference) { gemm_suite(st_gemm_builtin); }

TEST(gemm_backend_vs_reference) { gemm_suite(st_gemm); }

TEST(gemm_builtin_large_threaded) {
  // Bigger than one cache block in every direction, all transposes.
  for (int t = 0; t < 4; t++) {
    EXPECT(check_gemm<float>(st_gemm_builtin, ST_F32, t & 1, t & 2, 301, 1100, 530, 1.5, 0.25, 1, 40 + t) == 0);
    EXPECT(check_gemm<double>(st_gemm_builtin, ST_F64, t & 1, t & 2, 259, 600, 300, 1, 0, 0, 50 + t) == 0);
  }
  // Serial (no pool) gives the same contract.
  st_ctx *saved = sttest::ctx;
  st_ctx serial{nullptr};
  sttest::ctx = &serial;
  EXPECT(check_gemm<float>(st_gemm_builtin, ST_F32, false, true, 150, 170, 190, 1, 1, 0, 9) == 0);
  sttest::ctx = saved;
}

TEST(gemm_rejects_bad_arguments) {
  float a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4}, c[4] = {0};
  st_status st{};
  EXPECT(st_gemm(sttest::ctx, ST_I32, false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2, &st) == ST_ERR_DTYPE);
  EXPECT(st_gemm(sttest::ctx, ST_F32, false, false, -1, 2, 2, 1, a, 2, b, 2, 0, c, 2, &st) == ST_ERR_ARG);
  EXPECT(st_gemm(sttest::ctx, ST_F32, false, false, 2, 2, 2, 1, a, 1, b, 2, 0, c, 2, &st) == ST_ERR_ARG);
  EXPECT(st_gemm_builtin(sttest::ctx, ST_F32, false, true, 2, 2, 2, 1, a, 2, b, 1, 0, c, 2, &st) == ST_ERR_ARG);
  EXPECT(st_gemm_builtin(sttest::ctx, ST_F32, false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 1, &st) == ST_ERR_ARG);
  EXPECT(std::string(st.message).find("gemm") != std::string::npos);
}

TEST(gemm_i32) {
  const int64_t M = 23, N = 17, K = 31;
  for (int t = 0; t < 4; t++) {
    const bool ta = t & 1, tb = t & 2;
    std::vector<int32_t> a((size_t)(M * K)), b((size_t)(K * N)), c((size_t)(M * N), 7);
    for (size_t i = 0; i < a.size(); i++) a[i] = (int32_t)((i * 7919) % 23) - 11;
    for (size_t i = 0; i < b.size(); i++) b[i] = (int32_t)((i * 104729) % 19) - 9;
    st_status st{};
    EXPECT(st_gemm_i32(sttest::ctx, ta, tb, M, N, K, a.data(), ta ? M : K, b.data(), tb ? K : N, c.data(), N, &st) ==
           ST_OK);
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        int64_t s = 0;
        for (int64_t k = 0; k < K; k++) s += (int64_t)a[ta ? k * M + i : i * K + k] * b[tb ? j * K + k : k * N + j];
        EXPECT(c[i * N + j] == s);
      }
  }
  // Overflow wraps (two's complement) rather than being undefined.
  int32_t a2[2] = {65536, 65536}, b2[2] = {65536, 1}, c2[1] = {0};
  st_status st{};
  EXPECT(st_gemm_i32(sttest::ctx, false, false, 1, 1, 2, a2, 2, b2, 1, c2, 1, &st) == ST_OK);
  EXPECT(c2[0] == 65536);
}

TEST(matmul_plain_and_transposed) {
  unsigned seed = 1;
  const int32_t dts[] = {ST_F32, ST_F64, ST_I32};
  const int64_t sizes[][3] = {{1, 1, 1}, {2, 3, 4}, {17, 33, 65}, {64, 1, 50}, {1, 70, 9}, {130, 70, 257}};
  for (int32_t dt : dts)
    for (auto &s : sizes)
      for (int t = 0; t < 4; t++) check_matmul(dt, {}, {}, s[0], s[1], s[2], t & 1, t & 2, seed++);
}

TEST(matmul_batched_broadcast) {
  unsigned seed = 100;
  const int32_t dts[] = {ST_F32, ST_F64, ST_I32};
  for (int32_t dt : dts)
    for (int t = 0; t < 4; t++) {
      const bool ta = t & 1, tb = t & 2;
      check_matmul(dt, {3}, {3}, 5, 7, 6, ta, tb, seed++);              // plain stack
      check_matmul(dt, {2, 3}, {}, 5, 7, 6, ta, tb, seed++);            // b shared: folded into M
      check_matmul(dt, {}, {4}, 5, 7, 6, ta, tb, seed++);               // a shared
      check_matmul(dt, {2, 1}, {1, 3}, 4, 3, 5, ta, tb, seed++);        // both broadcast
      check_matmul(dt, {2, 1, 3}, {4, 1}, 3, 2, 4, ta, tb, seed++);     // different ranks
      check_matmul(dt, {1}, {5}, 1, 9, 8, ta, tb, seed++);              // a single row shared
      check_matmul(dt, {6}, {1}, 9, 1, 8, ta, tb, seed++);              // one column
      check_matmul(dt, {}, {6}, 9, 1, 8, ta, tb, seed++);               // a shared, N == 1
      check_matmul(dt, {7}, {}, 1, 9, 8, ta, tb, seed++);               // M == 1 stack, b shared
      check_matmul(dt, {50}, {50}, 7, 9, 5, ta, tb, seed++);            // many small products
      check_matmul(dt, {2}, {2}, 100, 120, 110, ta, tb, seed++);        // large products per batch
      check_matmul(dt, {1, 1}, {1}, 3, 4, 5, ta, tb, seed++);           // all-ones batch
    }
}

TEST(matmul_empty) {
  const int32_t dts[] = {ST_F32, ST_F64, ST_I32};
  for (int32_t dt : dts)
    for (int t = 0; t < 4; t++) {
      check_matmul(dt, {}, {}, 4, 5, 0, t & 1, t & 2, 1);  // K == 0: zeros
      check_matmul(dt, {3}, {3}, 2, 3, 0, t & 1, t & 2, 2);
      check_matmul(dt, {}, {}, 0, 5, 3, t & 1, t & 2, 3);  // M == 0
      check_matmul(dt, {}, {}, 4, 0, 3, t & 1, t & 2, 4);  // N == 0
      check_matmul(dt, {0}, {1}, 4, 3, 3, t & 1, t & 2, 5);  // empty batch
      check_matmul(dt, {2, 0}, {}, 4, 3, 3, t & 1, t & 2, 6);
    }
  Tensor a(ST_F32, {4, 0}), b(ST_F32, {0, 3}), out(ST_F32, {4, 3});
  out.fill_random(1);
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b}, {&out}, {0, 0}) == ST_OK);
  for (int i = 0; i < 12; i++) EXPECT(out.get(i) == 0);
}

TEST(matmul_errors) {
  std::string msg;
  Tensor a(ST_F32, {2, 3}), b(ST_F32, {4, 5}), o(ST_F32, {2, 5});
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b}, {&o}, {0, 0}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(msg == "matmul: cannot multiply [2,3] by [4,5] (inner dimensions 3 and 4)");
  Tensor b2(ST_F32, {3, 5}), o_bad(ST_F32, {2, 4});
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b2}, {&o_bad}, {0, 0}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(msg.find("matmul") == 0 && msg.find("[2,4]") != std::string::npos && msg.find("[2,5]") != std::string::npos);
  Tensor o_rank(ST_F32, {1, 2, 5});
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b2}, {&o_rank}, {0, 0}, {}, &msg) == ST_ERR_SHAPE);
  // transposed inner mismatch names the transposition
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b2}, {&o}, {1, 0}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(msg.find("matmul") == 0 && msg.find("transposed") != std::string::npos);
  // dtypes
  Tensor ad(ST_F64, {2, 3});
  EXPECT(sttest::run(ST_OP_MATMUL, {&ad, &b2}, {&o}, {0, 0}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(msg.find("matmul") == 0);
  Tensor ab(ST_BOOL, {2, 3}), bb(ST_BOOL, {3, 5}), ob(ST_BOOL, {2, 5});
  EXPECT(sttest::run(ST_OP_MATMUL, {&ab, &bb}, {&ob}, {0, 0}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(msg.find("matmul") == 0 && msg.find("bool") != std::string::npos);
  // rank 1
  Tensor v(ST_F32, {3}), ov(ST_F32, {2});
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &v}, {&ov}, {0, 0}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(msg.find("matmul") == 0 && msg.find("rank") != std::string::npos);
  // batch dims that do not broadcast
  Tensor a3(ST_F32, {2, 2, 3}), b3(ST_F32, {3, 3, 5}), o3(ST_F32, {3, 2, 5});
  EXPECT(sttest::run(ST_OP_MATMUL, {&a3, &b3}, {&o3}, {0, 0}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(msg.find("matmul") == 0 && msg.find("broadcast") != std::string::npos);
  // output batch larger than the broadcast
  Tensor o4(ST_F32, {4, 2, 5});
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b2}, {&o4}, {0, 0}, {}, &msg) == ST_ERR_SHAPE);
  // attributes
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b2}, {&o}, {0}, {}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("matmul") == 0);
  EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b2}, {&o}, {2, 0}, {}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("matmul") == 0);
}

TEST(matmul_random_shapes) {
  unsigned s = 12345;
  auto rnd = [&](int n) {
    s = s * 1664525u + 1013904223u;
    return (int64_t)((s >> 8) % (unsigned)n);
  };
  const int32_t dts[] = {ST_F32, ST_F64, ST_I32};
  for (int iter = 0; iter < 300; iter++) {
    std::vector<int64_t> ab, bb;
    const int ra = (int)rnd(4), rb = (int)rnd(4);
    const int64_t pick[] = {1, 1, 2, 3, 4};
    for (int d = 0; d < ra; d++) ab.push_back(pick[rnd(5)]);
    for (int d = 0; d < rb; d++) bb.push_back(pick[rnd(5)]);
    // make the batch dims broadcast-compatible
    for (int d = 1; d <= std::min(ra, rb); d++) {
      int64_t &x = ab[ab.size() - d], &y = bb[bb.size() - d];
      if (x != y && x != 1 && y != 1) (rnd(2) ? x : y) = 1;
    }
    const int64_t M = rnd(25), N = rnd(25), K = rnd(40);
    check_matmul(dts[rnd(3)], ab, bb, M, N, K, rnd(2) != 0, rnd(2) != 0, 1000 + iter);
  }
}
