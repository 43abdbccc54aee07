#include "test.h"

using sttest::Tensor;

TEST(gather_grad_scatters_and_adds) {
  // x [2, 3, 2] gathered on axis 1 with indices [2, 0, 2, -1] -> dy [2, 4, 2]
  Tensor dy(ST_F32, {2, 4, 2}), idx(ST_I32, {4}), dx(ST_F32, {2, 3, 2});
  dy.fill_random(3);
  const int32_t ix[4] = {2, 0, 2, -1};
  for (int j = 0; j < 4; j++) idx.set(j, ix[j]);
  EXPECT(sttest::run(ST_OP_GATHER_GRAD, {&dy, &idx}, {&dx}, {2, 3, 2}) == ST_OK);
  for (int o = 0; o < 2; o++)
    for (int r = 0; r < 3; r++)
      for (int i = 0; i < 2; i++) {
        double want = 0;
        for (int j = 0; j < 4; j++)
          if ((ix[j] < 0 ? ix[j] + 3 : ix[j]) == r) want += dy.get((o * 4 + j) * 2 + i);
        EXPECT_NEAR(dx.get((o * 3 + r) * 2 + i), want, 1e-6);
      }
  std::string msg;
  idx.set(1, 3);
  EXPECT(sttest::run(ST_OP_GATHER_GRAD, {&dy, &idx}, {&dx}, {2, 3, 2}, {}, &msg) == ST_ERR_INDEX);
  EXPECT(msg.find("gatherGrad") != std::string::npos);
}

TEST(gather_grad_single_outer_threads_over_inner) {
  Tensor dy(ST_F64, {1, 5, 40000}), idx(ST_I32, {5}), dx(ST_F64, {1, 2, 40000});
  dy.fill_random(5);
  for (int j = 0; j < 5; j++) idx.set(j, j % 2);
  EXPECT(sttest::run(ST_OP_GATHER_GRAD, {&dy, &idx}, {&dx}, {1, 2, 40000}) == ST_OK);
  for (int64_t i = 0; i < 40000; i += 997) {
    EXPECT_NEAR(dx.get(i), dy.get(i) + dy.get(2 * 40000 + i) + dy.get(4 * 40000 + i), 1e-12);
    EXPECT_NEAR(dx.get(40000 + i), dy.get(40000 + i) + dy.get(3 * 40000 + i), 1e-12);
  }
}

TEST(scatter_strided_inverts_a_slice) {
  // out [4, 5]; in [2, 2] placed at rows 3,1 (stride -2 rows) and cols 0,2 (stride 2)
  Tensor in(ST_F32, {2, 2}), out(ST_F32, {4, 5});
  in.fill_random(7);
  EXPECT(sttest::run(ST_OP_SCATTER_STRIDED, {&in}, {&out}, {15, -10, 2}) == ST_OK);
  for (int64_t i = 0; i < 20; i++) {
    int r = (int)(i / 5), c = (int)(i % 5);
    double want = 0;
    if ((r == 3 || r == 1) && (c == 0 || c == 2)) want = in.get((r == 3 ? 0 : 1) * 2 + (c == 0 ? 0 : 1));
    EXPECT_NEAR(out.get(i), want, 0);
  }
  std::string msg;
  EXPECT(sttest::run(ST_OP_SCATTER_STRIDED, {&in}, {&out}, {18, 5, 2}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(msg.find("scatterStrided") != std::string::npos);
}

namespace {

// Two sizes per dtype: one small, one past the GEMM's blocking (and its threading) in both dtypes.
struct MatmulShape {
  int64_t m, k, n;
};
const MatmulShape matmul_shapes[] = {{37, 19, 23}, {70, 300, 130}};

// The loop oracle's tolerance: float32 accumulates k products with 24-bit mantissas.
double matmul_tol(int32_t dt, int64_t k, double want) {
  return (dt == ST_F32 ? 2e-6 * (double)(k + 1) : 1e-12 * (double)(k + 1)) * (1 + std::fabs(want));
}

}  // namespace

TEST(matmul_bias_act_matches_loops) {
  for (int32_t dt : {ST_F32, ST_F64})
    for (const MatmulShape &sh : matmul_shapes)
      for (int act = 0; act <= 3; act++)
        for (int t = 0; t < 4; t++) {
          const bool ta = t & 1, tb = t & 2;
          const int64_t m = sh.m, k = sh.k, n = sh.n;
          Tensor a(dt, ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k});
          Tensor b(dt, tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n});
          Tensor bias(dt, {n}), c(dt, {m, n});
          a.fill_random(1 + t), b.fill_random(2 + t), bias.fill_random(9), c.fill_random(11);
          EXPECT(sttest::run(ST_OP_MATMUL_BIAS_ACT, {&a, &b, &bias}, {&c}, {ta, tb, act}) == ST_OK);
          int bad = 0;
          for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
              double s = bias.get(j);
              for (int64_t p = 0; p < k; p++) s += a.get(ta ? p * m + i : i * k + p) * b.get(tb ? j * k + p : p * n + j);
              double want = act == 1 ? (s > 0 ? s : 0) : act == 2 ? 1 / (1 + std::exp(-s)) : act == 3 ? std::tanh(s) : s;
              const double got = c.get(i * n + j);
              if (!(std::fabs(got - want) <= matmul_tol(dt, k, want)) && bad++ < 3)
                std::fprintf(stderr, "  FAIL matmulBiasAct %s m=%lld k=%lld t=%d act=%d [%lld,%lld] = %.9g, want %.9g\n",
                             st_dtype_name(dt), (long long)m, (long long)k, t, act, (long long)i, (long long)j, got, want);
            }
          if (bad) sttest::failures++;
        }
  Tensor a(ST_F32, {3, 4}), b(ST_F32, {5, 6}), bias(ST_F32, {6}), c(ST_F32, {3, 6});
  std::string msg;
  EXPECT(sttest::run(ST_OP_MATMUL_BIAS_ACT, {&a, &b, &bias}, {&c}, {0, 0, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(msg.find("matmulBiasAct") != std::string::npos);
}

TEST(matmul_bias_act_has_the_bits_of_matmul_then_elemwise) {
  // act(a·b + bias) fused must equal MATMUL followed by ELEMWISE [add, act] bit for bit: the
  // elementwise result is what an unfused graph computes.
  struct Shape {
    int64_t m, k, n;
  };
  const int ew_of_act[] = {-1, ST_EW_RELU, ST_EW_SIGMOID, ST_EW_TANH};
  for (int32_t dt : {ST_F32, ST_F64})
    for (const Shape &sh : {Shape{37, 19, 23}, Shape{1, 700, 9}, Shape{64, 600, 130}, Shape{3, 0, 4}})
      for (int t = 0; t < 4; t++)
        for (int act = 0; act < ST_ACT_COUNT; act++) {
          const bool ta = t & 1, tb = t & 2;
          const int64_t m = sh.m, k = sh.k, n = sh.n;
          Tensor a(dt, ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k});
          Tensor b(dt, tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n});
          Tensor bias(dt, {n}), fused(dt, {m, n}), mm(dt, {m, n}), unfused(dt, {m, n});
          a.fill_random(7 + t, -2, 2), b.fill_random(8 + t, -2, 2), bias.fill_random(10, -6, 6);
          bias.set(0, NAN);   // NaN propagates through relu in both
          bias.set(1, -1e4);  // saturated sigmoid / tanh, relu of a large negative
          EXPECT(sttest::run(ST_OP_MATMUL_BIAS_ACT, {&a, &b, &bias}, {&fused}, {ta, tb, act}) == ST_OK);
          EXPECT(sttest::run(ST_OP_MATMUL, {&a, &b}, {&mm}, {ta, tb}) == ST_OK);
          std::vector<int64_t> prog = {dt, act ? 2 : 1, ST_EW_ADD, 2, 0, 1, 0};
          if (act) prog.insert(prog.end(), {ew_of_act[act], 3, 2, 0, 0});
          prog.push_back(act ? 3 : 2);
          EXPECT(sttest::run(ST_OP_ELEMWISE, {&mm, &bias}, {&unfused}, prog, std::vector<double>(act ? 4 : 2, 0.0)) ==
                 ST_OK);
          const size_t bytes = (size_t)(m * n) * st_dtype_size(dt);
          if (std::memcmp(fused.t.data, unfused.t.data, bytes) != 0) {
            std::fprintf(stderr, "  FAIL fused/unfused bits differ: %s m=%lld k=%lld n=%lld ta=%d tb=%d act=%d\n",
                         st_dtype_name(dt), (long long)m, (long long)k, (long long)n, (int)ta, (int)tb, act);
            sttest::failures++;
          }
        }
}

namespace {

// Counts the elements of got farther from want than matmul_tol allows, printing the first few.
int gemm_mismatches(const char *what, int32_t dt, int64_t k, const Tensor &got, const std::vector<double> &want) {
  int bad = 0;
  for (int64_t i = 0; i < got.size(); i++)
    if (!(std::fabs(got.get(i) - want[(size_t)i]) <= matmul_tol(dt, k, want[(size_t)i])) && bad++ < 3)
      std::fprintf(stderr, "  FAIL gemmAcc %s %s k=%lld [%lld] = %.9g, want %.9g\n", what, st_dtype_name(dt), (long long)k,
                   (long long)i, got.get(i), want[(size_t)i]);
  return bad;
}

}  // namespace

TEST(gemm_acc_in_place_and_out_of_place) {
  for (int32_t dt : {ST_F32, ST_F64})
    for (const MatmulShape &sh : matmul_shapes)
      for (int t = 0; t < 4; t++) {
        const bool ta = t & 1, tb = t & 2;
        const int64_t m = sh.m, k = sh.k, n = sh.n;
        Tensor a(dt, ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k});
        Tensor b(dt, tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n});
        Tensor c(dt, {m, n}), out(dt, {m, n});
        a.fill_random(3 + t), b.fill_random(4 + t), c.fill_random(5), out.fill_random(6);
        std::vector<double> want(m * n);
        for (int64_t i = 0; i < m; i++)
          for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) s += a.get(ta ? p * m + i : i * k + p) * b.get(tb ? j * k + p : p * n + j);
            want[i * n + j] = -0.5 * s + 2 * c.get(i * n + j);
          }
        EXPECT(sttest::run(ST_OP_GEMM_ACC, {&c, &a, &b}, {&out}, {ta, tb}, {-0.5, 2}) == ST_OK);
        if (gemm_mismatches("out of place", dt, k, out, want)) sttest::failures++;
        // in place: the output is c's own buffer
        std::vector<st_tensor> ins = {c.t, a.t, b.t};
        st_tensor o = c.t;
        const int64_t ia[2] = {ta, tb};
        const double fa[2] = {-0.5, 2};
        st_instr instr{ST_OP_GEMM_ACC, 3, 1, ins.data(), &o, ia, 2, fa, 2};
        st_status s{};
        EXPECT(st_exec(sttest::ctx, &instr, &s) == ST_OK);
        if (gemm_mismatches("in place", dt, k, c, want)) sttest::failures++;
      }
}
