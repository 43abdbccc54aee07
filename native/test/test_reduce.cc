#include <algorithm>
#include <climits>
#include <limits>

#include "test.h"

using sttest::Tensor;

namespace {

bool has(const std::string &msg, const char *what) { return msg.find(what) != std::string::npos; }

// Runs an instruction on the calling thread only.
st_code run_serial(int opcode, std::vector<Tensor *> in, std::vector<Tensor *> out, std::vector<int64_t> iattr,
                   std::vector<double> fattr = {}) {
  st_ctx serial{nullptr};
  st_ctx *saved = sttest::ctx;
  sttest::ctx = &serial;
  st_code rc = sttest::run(opcode, in, out, iattr, fattr);
  sttest::ctx = saved;
  return rc;
}

// Reference reduction of in viewed as [outer, red, inner] for output element (o, j).
double ref_reduce(const Tensor &in, int rop, int64_t red, int64_t inner, int64_t o, int64_t j) {
  const bool is_int = in.t.dtype == ST_I32;
  double acc = rop == 2 || rop == 5 ? 1 : 0;
  uint64_t iacc = rop == 2 ? 1 : 0;  // int32 sum/prod wrap
  const bool is_bool = in.t.dtype == ST_BOOL;
  if (rop == 3) acc = is_bool ? 0.0 : is_int ? (double)INT32_MIN : -INFINITY;
  if (rop == 4) acc = is_bool ? 1.0 : is_int ? (double)INT32_MAX : INFINITY;
  bool nan = false;
  for (int64_t r = 0; r < red; r++) {
    const double v = in.get((o * red + r) * inner + j);
    nan = nan || std::isnan(v);
    switch (rop) {
      case 0:
      case 1: acc += v, iacc += (uint64_t)(int64_t)v; break;
      case 2: acc *= v, iacc *= (uint64_t)(int64_t)v; break;
      case 3: acc = std::max(acc, v); break;
      case 4: acc = std::min(acc, v); break;
      case 5: acc = acc != 0 && v != 0; break;
      case 6: acc = acc != 0 || v != 0; break;
    }
  }
  if ((rop == 3 || rop == 4) && nan) return NAN;
  if (is_int && (rop == 0 || rop == 2)) return (double)(int32_t)(uint32_t)iacc;
  if (rop == 1) {
    if (is_int) return red ? (double)((int64_t)iacc / red) : 0;
    return red ? acc / (double)red : NAN;
  }
  return acc;
}

// Checks REDUCE against the reference for one (dtype, rop, shape).  Returns the number of mismatches.
int check_reduce(int32_t dt, int rop, int64_t outer, int64_t red, int64_t inner, unsigned seed, double tol) {
  Tensor in(dt, {outer, red, inner}), out(dt, {outer, inner});
  if (dt == ST_I32)
    in.fill_random(seed, -6, 6);
  else if (rop == 2)
    in.fill_random(seed, 0.97, 1.03);
  else
    in.fill_random(seed, -1, 1);
  if (rop >= 5)  // all / any: sprinkle zeros, and make some rows all nonzero
    for (int64_t i = 0; i < in.size(); i++) in.set(i, (i / 7) % 3 == 0 && i % 5 == 0 ? 0 : in.get(i) + 2);
  for (int64_t i = 0; i < out.size(); i++) out.set(i, 12345);
  if (sttest::run(ST_OP_REDUCE, {&in}, {&out}, {rop, outer, red, inner}) != ST_OK) return 1;
  int bad = 0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const double want = ref_reduce(in, rop, red, inner, o, j), got = out.get(o * inner + j);
      const double scale = 1 + std::fabs(want) + (rop <= 1 ? std::sqrt((double)red) : 0);
      if (std::isnan(want) ? !std::isnan(got) : !(got == want || std::fabs(got - want) <= tol * scale)) {
        if (bad++ < 3)
          std::fprintf(stderr, "  reduce dt=%d rop=%d [%lld,%lld,%lld] at (%lld,%lld): got %.9g want %.9g\n", dt, rop,
                       (long long)outer, (long long)red, (long long)inner, (long long)o, (long long)j, got, want);
      }
    }
  return bad;
}

}  // namespace

TEST(reduce_all_ops_dtypes_shapes) {
  const std::vector<std::vector<int64_t>> shapes = {
      {3, 5, 1},     {4, 1, 1},    {1, 100000, 1}, {3, 70001, 1}, {5, 7, 3},   {2, 300, 600},
      {1, 50000, 3}, {1, 4000, 70}, {0, 5, 3},     {3, 0, 2},     {3, 0, 1},   {200, 33, 1},
      {203, 7, 1},   {67, 31, 1},   {9, 100, 1},   {2, 3, 2000}};
  for (int32_t dt : {ST_F32, ST_F64, ST_I32})
    for (int rop = 0; rop <= 6; rop++)
      for (size_t k = 0; k < shapes.size(); k++) {
        const auto &s = shapes[k];
        if (rop == 2 && s[1] > 5000 && dt == ST_I32) continue;  // covered by the wrap test below
        double tol = dt == ST_F32 ? 2e-6 : dt == ST_F64 ? 1e-12 : 0;
        if (rop == 2) tol *= 100;
        EXPECT(check_reduce(dt, rop, s[0], s[1], s[2], (unsigned)(k * 7 + rop), tol) == 0);
      }
  // all / any on bool
  for (int rop : {3, 4, 5, 6})
    for (auto s : std::vector<std::vector<int64_t>>{{3, 5, 1}, {2, 70000, 1}, {2, 9, 300}, {2, 0, 3}})
      EXPECT(check_reduce(ST_BOOL, rop, s[0], s[1], s[2], 11, 0) == 0);
}

TEST(reduce_empty_identities) {
  Tensor f(ST_F32, {2, 0}), fo(ST_F32, {2});
  const double want_f[] = {0, NAN, 1, -INFINITY, INFINITY, 1, 0};
  for (int rop = 0; rop <= 6; rop++) {
    EXPECT(sttest::run(ST_OP_REDUCE, {&f}, {&fo}, {rop, 2, 0, 1}) == ST_OK);
    for (int k = 0; k < 2; k++)
      EXPECT(fo.get(k) == want_f[rop] || (std::isnan(want_f[rop]) && std::isnan(fo.get(k))));
  }
  Tensor i(ST_I32, {0, 3}), io(ST_I32, {3});
  const double want_i[] = {0, 0, 1, (double)INT32_MIN, (double)INT32_MAX, 1, 0};
  for (int rop = 0; rop <= 6; rop++) {
    EXPECT(sttest::run(ST_OP_REDUCE, {&i}, {&io}, {rop, 1, 0, 3}) == ST_OK);
    for (int k = 0; k < 3; k++) EXPECT(io.get(k) == want_i[rop]);
  }
  Tensor b(ST_BOOL, {0}), bo(ST_BOOL, {});
  const double want_b[] = {0, 1, 1, 0};  // max, min, all, any
  for (int rop = 3; rop <= 6; rop++) {
    EXPECT(sttest::run(ST_OP_REDUCE, {&b}, {&bo}, {rop, 1, 0, 1}) == ST_OK);
    EXPECT(bo.get(0) == want_b[rop - 3]);
  }
}

TEST(reduce_nan_and_int_wrap) {
  Tensor x(ST_F64, {2, 6}), y(ST_F64, {2});
  const double v[] = {1, NAN, 3, -2, 5, 0, 4, 2, 9, -1, 7, NAN};
  for (int k = 0; k < 12; k++) x.set(k, v[k]);
  for (int rop : {0, 1, 2, 3, 4}) {
    EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&y}, {rop, 2, 6, 1}) == ST_OK);
    EXPECT(std::isnan(y.get(0)) && std::isnan(y.get(1)));
  }
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&y}, {5, 2, 6, 1}) == ST_OK);  // NaN is truthy
  EXPECT(y.get(0) == 0 && y.get(1) == 1);
  // NaN in a long float32 row, in each chunk position, and column-wise
  Tensor big(ST_F32, {200000}), one(ST_F32, {1});
  big.fill_random(3);
  big.set(150001, NAN);
  EXPECT(sttest::run(ST_OP_REDUCE, {&big}, {&one}, {3, 1, 200000, 1}) == ST_OK);
  EXPECT(std::isnan(one.get(0)));
  EXPECT(sttest::run(ST_OP_REDUCE, {&big}, {&one}, {4, 1, 200000, 1}) == ST_OK);
  EXPECT(std::isnan(one.get(0)));
  Tensor cols(ST_F32, {4, 3}), c3(ST_F32, {3});
  cols.fill_random(1);
  cols.set(4, NAN);
  EXPECT(sttest::run(ST_OP_REDUCE, {&cols}, {&c3}, {3, 1, 4, 3}) == ST_OK);
  EXPECT(!std::isnan(c3.get(0)) && std::isnan(c3.get(1)) && !std::isnan(c3.get(2)));
  // int32 sum and product wrap like int32 arithmetic
  Tensor ib(ST_I32, {3}), io(ST_I32, {1});
  ib.set(0, 2147483647), ib.set(1, 1), ib.set(2, 1);
  EXPECT(sttest::run(ST_OP_REDUCE, {&ib}, {&io}, {0, 1, 3, 1}) == ST_OK);
  EXPECT(io.get(0) == -2147483647.0);
  ib.set(0, 65536), ib.set(1, 65536), ib.set(2, 3);
  EXPECT(sttest::run(ST_OP_REDUCE, {&ib}, {&io}, {2, 1, 3, 1}) == ST_OK);
  EXPECT(io.get(0) == 0);
  // integer mean truncates toward zero
  ib.set(0, -7), ib.set(1, 0), ib.set(2, 0);
  EXPECT(sttest::run(ST_OP_REDUCE, {&ib}, {&io}, {1, 1, 3, 1}) == ST_OK);
  EXPECT(io.get(0) == -2);
}

TEST(reduce_float32_sum_accuracy_and_determinism) {
  // 1e7 copies of 0.1f: a float accumulator would drift far; double accumulation is exact to ~1 ulp
  const int64_t n = 10000000;
  Tensor x(ST_F32, {n}), a(ST_F32, {1}), b(ST_F32, {1});
  for (int64_t i = 0; i < n; i++) x.ptr<float>()[i] = 0.1f;
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&a}, {0, 1, n, 1}) == ST_OK);
  EXPECT_NEAR(a.get(0), (double)n * (double)0.1f, 1e-7);
  // same bits with and without threads
  x.fill_random(9);
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&a}, {0, 1, n, 1}) == ST_OK);
  EXPECT(run_serial(ST_OP_REDUCE, {&x}, {&b}, {0, 1, n, 1}) == ST_OK);
  EXPECT(a.get(0) == b.get(0));
  Tensor c(ST_F32, {5}), d(ST_F32, {5});
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&c}, {0, 1, n / 5, 5}) == ST_OK);
  EXPECT(run_serial(ST_OP_REDUCE, {&x}, {&d}, {0, 1, n / 5, 5}) == ST_OK);
  for (int k = 0; k < 5; k++) EXPECT(c.get(k) == d.get(k));
}

TEST(reduce_errors) {
  std::string msg;
  Tensor x(ST_F32, {3, 4}), y(ST_F32, {3}), y4(ST_F32, {4}), yd(ST_F64, {3}), b(ST_BOOL, {3, 4}), by(ST_BOOL, {3});
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&y}, {0, 3, 5, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "reduce") && has(msg, "[3,4]"));
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&y4}, {0, 3, 4, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "reduce") && has(msg, "[4]"));
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&yd}, {0, 3, 4, 1}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "reduce"));
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&y}, {7, 3, 4, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&y}, {0, -3, -4, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&y}, {0, 3, 4}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_REDUCE, {&x}, {&y}, {0, INT64_MAX / 2, 4, 3}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_REDUCE, {&b}, {&by}, {0, 3, 4, 1}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "reduce") && has(msg, "bool"));
  EXPECT(sttest::run(ST_OP_REDUCE, {&b}, {&by}, {6, 3, 4, 1}, {}, &msg) == ST_OK);
}

namespace {
// Reference argmax/argmin: first occurrence, first NaN wins.
int64_t ref_arg(const Tensor &in, bool mx, int64_t red, int64_t inner, int64_t o, int64_t j) {
  int64_t bi = 0;
  double bv = in.get(o * red * inner + j);
  for (int64_t r = 0; r < red; r++) {
    const double v = in.get((o * red + r) * inner + j);
    if (std::isnan(v)) return r;
    if (r > 0 && (mx ? v > bv : v < bv)) bv = v, bi = r;
  }
  return bi;
}

int check_arg(int32_t dt, bool mx, int64_t outer, int64_t red, int64_t inner, unsigned seed, int nans = 0) {
  Tensor in(dt, {outer, red, inner}), out(ST_I32, {outer, inner});
  in.fill_random(seed, 0, dt == ST_BOOL ? 2 : 4);  // few distinct values: many ties
  if (dt != ST_I32 && dt != ST_BOOL)
    for (int64_t i = 0; i < in.size(); i++) in.set(i, std::floor(in.get(i)));
  for (int k = 0; k < nans; k++) in.set((int64_t)(seed * 7919u + k * 104729u) % in.size(), NAN);
  if (sttest::run(ST_OP_ARGREDUCE, {&in}, {&out}, {mx ? 0 : 1, outer, red, inner}) != ST_OK) return 1;
  int bad = 0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++)
      if (out.get(o * inner + j) != (double)ref_arg(in, mx, red, inner, o, j)) bad++;
  return bad;
}
}  // namespace

TEST(argreduce_ties_and_nan) {
  const std::vector<std::vector<int64_t>> shapes = {{4, 9, 1},      {3, 1, 1},     {3, 7, 5},  {2, 11, 300},
                                                    {1, 200000, 1}, {3, 70000, 1}, {100, 10, 1}, {21, 31, 1},
                                                    {5, 40, 1},     {2, 3, 1500}};
  for (int32_t dt : {ST_F32, ST_F64, ST_I32, ST_BOOL})
    for (bool mx : {true, false})
      for (size_t k = 0; k < shapes.size(); k++) {
        const auto &s = shapes[k];
        EXPECT(check_arg(dt, mx, s[0], s[1], s[2], (unsigned)k + 1) == 0);
        if (dt == ST_F32 || dt == ST_F64) EXPECT(check_arg(dt, mx, s[0], s[1], s[2], (unsigned)k + 5, 3) == 0);
      }
  // the extreme value shows up first in the second chunk of a long row, and again later
  Tensor x(ST_F32, {200000}), y(ST_I32, {1});
  x.fill_random(2);
  x.set(70000, 5), x.set(140000, 5), x.set(190000, -5), x.set(199999, -5);
  EXPECT(sttest::run(ST_OP_ARGREDUCE, {&x}, {&y}, {0, 1, 200000, 1}) == ST_OK);
  EXPECT(y.get(0) == 70000);
  EXPECT(sttest::run(ST_OP_ARGREDUCE, {&x}, {&y}, {1, 1, 200000, 1}) == ST_OK);
  EXPECT(y.get(0) == 190000);
  x.set(180000, NAN), x.set(100, NAN);
  EXPECT(sttest::run(ST_OP_ARGREDUCE, {&x}, {&y}, {0, 1, 200000, 1}) == ST_OK);
  EXPECT(y.get(0) == 100);
}

TEST(argreduce_errors) {
  std::string msg;
  Tensor x(ST_F32, {3, 0}), y(ST_I32, {3}), yf(ST_F32, {3}), x2(ST_F32, {3, 4});
  EXPECT(sttest::run(ST_OP_ARGREDUCE, {&x}, {&y}, {0, 3, 0, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "argReduce") && has(msg, "argmax of an empty axis"));
  EXPECT(sttest::run(ST_OP_ARGREDUCE, {&x2}, {&yf}, {0, 3, 4, 1}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "argReduce"));
  EXPECT(sttest::run(ST_OP_ARGREDUCE, {&x2}, {&y}, {2, 3, 4, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_ARGREDUCE, {&x2}, {&y}, {0, 3, 3, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "argReduce") && has(msg, "[3,4]"));
  EXPECT(sttest::run(ST_OP_ARGREDUCE, {&x2}, {&y}, {0, 1, 3, 4}, {}, &msg) == ST_ERR_SHAPE);
}

namespace {
// Softmax reference in long double.
int check_softmax(int32_t dt, bool log_out, int64_t outer, int64_t n, int64_t inner, unsigned seed, double scale,
                  double tol) {
  Tensor in(dt, {outer, n, inner}), out(dt, {outer, n, inner});
  in.fill_random(seed, -scale, scale);
  if (sttest::run(log_out ? ST_OP_LOG_SOFTMAX : ST_OP_SOFTMAX, {&in}, {&out}, {outer, n, inner}) != ST_OK) return 1;
  int bad = 0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      long double m = -INFINITY, s = 0;
      for (int64_t r = 0; r < n; r++) m = std::max(m, (long double)in.get((o * n + r) * inner + j));
      for (int64_t r = 0; r < n; r++) s += std::exp((long double)in.get((o * n + r) * inner + j) - m);
      for (int64_t r = 0; r < n; r++) {
        const int64_t i = (o * n + r) * inner + j;
        const long double z = (long double)in.get(i) - m;
        const double want = (double)(log_out ? z - std::log(s) : std::exp(z) / s);
        if (!(std::fabs(out.get(i) - want) <= tol * (1 + std::fabs(want)))) bad++;
      }
    }
  return bad;
}
}  // namespace

TEST(softmax_and_log_softmax) {
  for (int32_t dt : {ST_F32, ST_F64})
    for (bool lg : {false, true}) {
      const double tol = dt == ST_F32 ? 2e-6 : 1e-13;
      EXPECT(check_softmax(dt, lg, 4, 10, 1, 1, 3, tol) == 0);
      EXPECT(check_softmax(dt, lg, 3, 7, 5, 2, 3, tol) == 0);
      EXPECT(check_softmax(dt, lg, 2, 1000, 1, 3, 20, tol) == 0);
      EXPECT(check_softmax(dt, lg, 2, 5, 300, 4, 20, tol) == 0);
      EXPECT(check_softmax(dt, lg, 1, 1, 1, 5, 3, tol) == 0);
      EXPECT(check_softmax(dt, lg, 3000, 30, 1, 6, 3, tol) == 0);  // parallel
      EXPECT(check_softmax(dt, lg, 0, 5, 1, 7, 3, tol) == 0);
      EXPECT(check_softmax(dt, lg, 21, 7, 1, 8, 30, tol) == 0);     // short rows, eight at a time
      EXPECT(check_softmax(dt, lg, 13, 40, 1, 9, 30, tol) == 0);
      EXPECT(check_softmax(dt, lg, 1, 150000, 1, 10, 30, tol) == 0);  // longer than one chunk
      EXPECT(check_softmax(dt, lg, 2, 3, 1100, 11, 30, tol) == 0);   // several column blocks
      EXPECT(check_softmax(dt, lg, 2, 0, 3, 7, 3, tol) == 0);
    }
  // large values: no overflow, no underflow to -inf in log space
  for (int32_t dt : {ST_F32, ST_F64}) {
    Tensor x(dt, {3}), y(dt, {3}), xc(dt, {3, 2}), yc(dt, {3, 2});
    x.set(0, 1000), x.set(1, 1000), x.set(2, -1000);
    EXPECT(sttest::run(ST_OP_SOFTMAX, {&x}, {&y}, {1, 3, 1}) == ST_OK);
    EXPECT_NEAR(y.get(0), 0.5, 1e-7);
    EXPECT_NEAR(y.get(1), 0.5, 1e-7);
    EXPECT(y.get(2) == 0);
    EXPECT(sttest::run(ST_OP_LOG_SOFTMAX, {&x}, {&y}, {1, 3, 1}) == ST_OK);
    EXPECT_NEAR(y.get(0), -std::log(2.0), 1e-7);
    EXPECT_NEAR(y.get(2), -2000 - std::log(2.0), 1e-7);
    // the same along a strided axis (inner = 2)
    const double v[] = {1000, -1000, 1000, -1000, -1000, -1000};
    for (int k = 0; k < 6; k++) xc.set(k, v[k]);
    EXPECT(sttest::run(ST_OP_LOG_SOFTMAX, {&xc}, {&yc}, {1, 3, 2}) == ST_OK);
    EXPECT_NEAR(yc.get(0), -std::log(2.0), 1e-7);
    EXPECT_NEAR(yc.get(4), -2000 - std::log(2.0), 1e-7);
    EXPECT_NEAR(yc.get(1), -std::log(3.0), 1e-7);
    EXPECT(sttest::run(ST_OP_SOFTMAX, {&xc}, {&yc}, {1, 3, 2}) == ST_OK);
    EXPECT_NEAR(yc.get(0), 0.5, 1e-7);
    EXPECT(yc.get(4) == 0);
    EXPECT_NEAR(yc.get(5), 1 / 3.0, 1e-7);
  }
}

TEST(softmax_errors) {
  std::string msg;
  Tensor xi(ST_I32, {2, 3}), yi(ST_I32, {2, 3}), x(ST_F32, {2, 3}), yd(ST_F64, {2, 3}), y6(ST_F32, {6});
  EXPECT(sttest::run(ST_OP_SOFTMAX, {&xi}, {&yi}, {2, 3, 1}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "softmax") && has(msg, "int32"));
  EXPECT(sttest::run(ST_OP_LOG_SOFTMAX, {&x}, {&yd}, {2, 3, 1}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "logSoftmax"));
  EXPECT(sttest::run(ST_OP_SOFTMAX, {&x}, {&y6}, {2, 3, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_SOFTMAX, {&x}, {&x}, {2, 4, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "softmax") && has(msg, "[2,3]"));
  EXPECT(sttest::run(ST_OP_SOFTMAX, {&x}, {&x}, {2, 3}, {}, &msg) == ST_ERR_ARG);
}

TEST(gather_axes_and_negative_indices) {
  for (int32_t dt : {ST_F32, ST_F64, ST_I32, ST_BOOL}) {
    Tensor x(dt, {3, 5, 2});
    x.fill_random(4, -50, 50);
    const std::vector<int32_t> iv = {4, -1, 0, -5, 2, 2};
    Tensor ind(ST_I32, {2, 3});
    for (size_t k = 0; k < iv.size(); k++) ind.set((int64_t)k, iv[k]);
    // axis 1: outer 3, inner 2
    Tensor y(dt, {3, 2, 3, 2});
    EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&y}, {3, 5, 2}) == ST_OK);
    int bad = 0;
    for (int o = 0; o < 3; o++)
      for (int k = 0; k < 6; k++)
        for (int j = 0; j < 2; j++) {
          const int i = iv[k] < 0 ? iv[k] + 5 : iv[k];
          bad += y.get((o * 6 + k) * 2 + j) != x.get((o * 5 + i) * 2 + j);
        }
    EXPECT(bad == 0);
    // last axis of a [15, 2] view (inner 1), and the first axis of a [3, 10] view (outer 1)
    Tensor ind2(ST_I32, {3});
    ind2.set(0, 1), ind2.set(1, -2), ind2.set(2, 0);
    Tensor y2(dt, {15, 3});
    EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind2}, {&y2}, {15, 2, 1}) == ST_OK);
    bad = 0;
    const int cols2[] = {1, 0, 0};
    for (int o = 0; o < 15; o++)
      for (int k = 0; k < 3; k++) bad += y2.get(o * 3 + k) != x.get(o * 2 + cols2[k]);
    EXPECT(bad == 0);
    Tensor ind3(ST_I32, {4});
    ind3.set(0, 2), ind3.set(1, -3), ind3.set(2, 1), ind3.set(3, -1);
    Tensor y3(dt, {4, 10});
    EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind3}, {&y3}, {1, 3, 10}) == ST_OK);
    bad = 0;
    const int rows3[] = {2, 0, 1, 2};
    for (int k = 0; k < 4; k++)
      for (int j = 0; j < 10; j++) bad += y3.get(k * 10 + j) != x.get(rows3[k] * 10 + j);
    EXPECT(bad == 0);
  }
  // large, parallel
  Tensor x(ST_F32, {1000, 64}), ind(ST_I32, {5000}), y(ST_F32, {5000, 64});
  x.fill_random(8);
  for (int k = 0; k < 5000; k++) ind.set(k, (k * 37) % 2000 - 1000);
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&y}, {1, 1000, 64}) == ST_OK);
  int bad = 0;
  for (int k = 0; k < 5000; k++) {
    int i = (k * 37) % 2000 - 1000;
    if (i < 0) i += 1000;
    for (int j = 0; j < 64; j++) bad += y.get(k * 64 + j) != x.get(i * 64 + j);
  }
  EXPECT(bad == 0);
}

TEST(gather_errors) {
  std::string msg;
  Tensor x(ST_F32, {5, 2}), ind(ST_I32, {3}), y(ST_F32, {3, 2}), yd(ST_F64, {3, 2}), y5(ST_F32, {5}),
      indf(ST_F32, {3});
  ind.set(0, 1), ind.set(1, 0), ind.set(2, 7);
  for (int64_t i = 0; i < y.size(); i++) y.set(i, -99);
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&y}, {1, 5, 2}, {}, &msg) == ST_ERR_INDEX);
  EXPECT(has(msg, "gather: index 7 is out of range for axis of size 5"));
  bool untouched = true;  // indices are all checked before anything is written
  for (int64_t i = 0; i < y.size(); i++) untouched = untouched && y.get(i) == -99;
  EXPECT(untouched);
  ind.set(2, -6);
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&y}, {1, 5, 2}, {}, &msg) == ST_ERR_INDEX);
  EXPECT(has(msg, "index -6"));
  ind.set(2, -5);
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&y}, {1, 5, 2}, {}, &msg) == ST_OK);
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &indf}, {&y}, {1, 5, 2}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "gather"));
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&yd}, {1, 5, 2}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&y5}, {1, 5, 2}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "gather") && has(msg, "[5]"));
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&y}, {1, 4, 2}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_GATHER, {&x, &ind}, {&y}, {1, 5}, {}, &msg) == ST_ERR_ARG);
  // an empty axis: every index is out of range
  Tensor e(ST_F32, {0, 2}), ye(ST_F32, {3, 2});
  EXPECT(sttest::run(ST_OP_GATHER, {&e, &ind}, {&ye}, {1, 0, 2}, {}, &msg) == ST_ERR_INDEX);
}

TEST(one_hot_values_and_out_of_range) {
  const int32_t iv[] = {0, 3, -1, 4, 2, 1};
  for (int32_t dt : {ST_F32, ST_F64, ST_I32, ST_BOOL}) {
    Tensor ind(ST_I32, {2, 3}), y(dt, {2, 3, 4});
    for (int k = 0; k < 6; k++) ind.set(k, iv[k]);
    const double on = dt == ST_BOOL ? 1 : 5, off = dt == ST_BOOL ? 0 : -1;
    EXPECT(sttest::run(ST_OP_ONE_HOT, {&ind}, {&y}, {4}, {on, off}) == ST_OK);
    int bad = 0;
    for (int k = 0; k < 6; k++)
      for (int j = 0; j < 4; j++) bad += y.get(k * 4 + j) != (iv[k] == j ? on : off);
    EXPECT(bad == 0);
  }
  Tensor ind(ST_I32, {3}), y0(ST_F32, {3, 0}), big(ST_I32, {20000}), yb(ST_F32, {20000, 10});
  EXPECT(sttest::run(ST_OP_ONE_HOT, {&ind}, {&y0}, {0}, {1, 0}) == ST_OK);
  for (int k = 0; k < 20000; k++) big.set(k, k % 13 - 1);
  EXPECT(sttest::run(ST_OP_ONE_HOT, {&big}, {&yb}, {10}, {1, 0}) == ST_OK);
  int bad = 0;
  for (int k = 0; k < 20000; k++)
    for (int j = 0; j < 10; j++) bad += yb.get(k * 10 + j) != (k % 13 - 1 == j ? 1 : 0);
  EXPECT(bad == 0);
  // 0-d indices
  Tensor s(ST_I32, {}), ys(ST_F32, {3});
  s.set(0, 2);
  EXPECT(sttest::run(ST_OP_ONE_HOT, {&s}, {&ys}, {3}, {1, 0}) == ST_OK);
  EXPECT(ys.get(0) == 0 && ys.get(1) == 0 && ys.get(2) == 1);
}

TEST(one_hot_errors) {
  std::string msg;
  Tensor ind(ST_I32, {3}), indf(ST_F32, {3}), y(ST_F32, {3, 4}), y5(ST_F32, {3, 5}), yr(ST_F32, {12});
  EXPECT(sttest::run(ST_OP_ONE_HOT, {&indf}, {&y}, {4}, {1, 0}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "oneHot"));
  EXPECT(sttest::run(ST_OP_ONE_HOT, {&ind}, {&y5}, {4}, {1, 0}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "oneHot") && has(msg, "[3,5]"));
  EXPECT(sttest::run(ST_OP_ONE_HOT, {&ind}, {&yr}, {4}, {1, 0}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_ONE_HOT, {&ind}, {&y}, {-4}, {1, 0}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_ONE_HOT, {&ind}, {&y}, {4}, {1}, &msg) == ST_ERR_ARG);
}
