#include "test.h"

using sttest::Tensor;

TEST(fill_and_range) {
  Tensor a(ST_F32, {3, 4});
  EXPECT(sttest::run(ST_OP_FILL, {}, {&a}, {}, {2.5}) == ST_OK);
  for (int i = 0; i < 12; i++) EXPECT_NEAR(a.get(i), 2.5, 0);
  Tensor r(ST_I32, {5});
  EXPECT(sttest::run(ST_OP_RANGE, {}, {&r}, {}, {3, -2}) == ST_OK);
  for (int i = 0; i < 5; i++) EXPECT_NEAR(r.get(i), 3 - 2 * i, 0);
  Tensor e(ST_F64, {3, 4});
  EXPECT(sttest::run(ST_OP_EYE, {}, {&e}, {1}) == ST_OK);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) EXPECT_NEAR(e.get(i * 4 + j), j - i == 1 ? 1 : 0, 0);
}

TEST(rng_independent_of_threads) {
  Tensor a(ST_F32, {100000}), b(ST_F32, {100000});
  EXPECT(sttest::run(ST_OP_RANDOM_NORMAL, {}, {&a}, {42, 0}, {0, 1}) == ST_OK);
  st_ctx serial{nullptr};
  st_tensor out = b.t;
  const int64_t ia[] = {42, 0};
  const double fa[] = {0, 1};
  st_instr ins{ST_OP_RANDOM_NORMAL, 0, 1, nullptr, &out, ia, 2, fa, 2};
  st_status s{};
  EXPECT(st_exec(&serial, &ins, &s) == ST_OK);
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < a.size(); i++) {
    EXPECT(a.get(i) == b.get(i));
    sum += a.get(i), sq += a.get(i) * a.get(i);
  }
  double mean = sum / a.size(), var = sq / a.size() - mean * mean;
  EXPECT(std::fabs(mean) < 0.02);
  EXPECT(std::fabs(var - 1) < 0.03);
  Tensor u(ST_F64, {50000});
  EXPECT(sttest::run(ST_OP_RANDOM_UNIFORM, {}, {&u}, {7, 0}, {-2, 3}) == ST_OK);
  double lo = 1e9, hi = -1e9;
  for (int64_t i = 0; i < u.size(); i++) lo = std::fmin(lo, u.get(i)), hi = std::fmax(hi, u.get(i));
  EXPECT(lo >= -2 && lo < -1.99 && hi < 3 && hi > 2.99);
}

TEST(creation_rejects_bad_attributes) {
  Tensor a(ST_F32, {2});
  std::string msg;
  EXPECT(sttest::run(ST_OP_FILL, {}, {&a}, {}, {}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("fill") != std::string::npos);
  Tensor b(ST_BOOL, {2});
  EXPECT(sttest::run(ST_OP_RANDOM_NORMAL, {}, {&b}, {1, 0}, {0, 1}, &msg) == ST_ERR_DTYPE);
}
