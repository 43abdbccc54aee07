// ADAM_UPDATE against a plain double loop of Keras's formulas (sizes around the vector widths,
// float32 and float64, in place and out of place) and its argument checks.
#include <cstdint>
#include <string>

#include "test.h"

using sttest::Tensor;

namespace {

const double kB1 = 0.9, kB2 = 0.999, kEps = 1e-7;

struct Ref {
  std::vector<double> p, m, v;
};

// m <- m + (g - m)(1 - b1); v <- v + (g^2 - v)(1 - b2); p <- p - alpha m / (sqrt(v) + eps), in double
// from the values the tensors hold.
Ref reference(const Tensor &p, const Tensor &g, const Tensor &m, const Tensor &v, double alpha) {
  Ref r;
  for (int64_t i = 0; i < p.size(); i++) {
    const double mi = m.get(i) + (g.get(i) - m.get(i)) * (1 - kB1);
    const double vi = v.get(i) + (g.get(i) * g.get(i) - v.get(i)) * (1 - kB2);
    r.m.push_back(mi);
    r.v.push_back(vi);
    r.p.push_back(p.get(i) - alpha * mi / (std::sqrt(vi) + kEps));
  }
  return r;
}

struct Operands {
  Tensor p, g, m, v, alpha;
  Operands(int32_t dtype, std::vector<int64_t> shape, unsigned seed, double a)
      : p(dtype, shape), g(dtype, shape), m(dtype, shape), v(dtype, shape), alpha(dtype, {}) {
    p.fill_random(seed);
    g.fill_random(seed + 1, -2, 2);
    m.fill_random(seed + 2, -0.5, 0.5);
    v.fill_random(seed + 3, 0, 0.25);  // a second moment is never negative
    alpha.set(0, a);
  }
};

st_code adam(std::vector<Tensor *> in, std::vector<Tensor *> out, std::string *msg = nullptr,
             std::vector<double> fattr = {kB1, kB2, kEps}) {
  return sttest::run(ST_OP_ADAM_UPDATE, in, out, {}, fattr, msg);
}

// relative tolerance per dtype: a few roundings of the element type
double tol_of(int32_t dtype) { return dtype == ST_F64 ? 1e-14 : 2e-6; }

void check_against(const Ref &r, const Tensor &p, const Tensor &m, const Tensor &v, double tol) {
  int bad = 0;
  for (int64_t i = 0; i < p.size() && bad < 5; i++) {
    const bool ok = std::fabs(p.get(i) - r.p[i]) <= tol * (1 + std::fabs(r.p[i])) &&
                    std::fabs(m.get(i) - r.m[i]) <= tol * (1 + std::fabs(r.m[i])) &&
                    std::fabs(v.get(i) - r.v[i]) <= tol * (1 + std::fabs(r.v[i]));
    if (!ok) {
      std::fprintf(stderr, "  FAIL element %lld: p %.17g/%.17g m %.17g/%.17g v %.17g/%.17g\n", (long long)i,
                   p.get(i), r.p[i], m.get(i), r.m[i], v.get(i), r.v[i]);
      sttest::failures++;
      bad++;
    }
  }
}

TEST(adam_matches_double_loop) {
  for (int32_t dtype : {ST_F32, ST_F64})
    // 131075: enough work for the test pool's second thread
    for (int64_t n : {1, 7, 33, 1000, 100003, 131075}) {
      Operands o(dtype, {n}, (unsigned)n, 1e-3 * 1.7);
      const Ref r = reference(o.p, o.g, o.m, o.v, o.alpha.get(0));
      Tensor po(dtype, {n}), mo(dtype, {n}), vo(dtype, {n});
      EXPECT(adam({&o.p, &o.g, &o.m, &o.v, &o.alpha}, {&po, &mo, &vo}) == ST_OK);
      check_against(r, po, mo, vo, tol_of(dtype));
    }
}

// The program's in-place form: each output is its input's own buffer.
TEST(adam_in_place) {
  for (int32_t dtype : {ST_F32, ST_F64})
    for (int64_t n : {1, 33, 131075}) {
      Operands o(dtype, {n}, 7 + (unsigned)n, 0.05);
      const Ref r = reference(o.p, o.g, o.m, o.v, 0.05);
      EXPECT(adam({&o.p, &o.g, &o.m, &o.v, &o.alpha}, {&o.p, &o.m, &o.v}) == ST_OK);
      check_against(r, o.p, o.m, o.v, tol_of(dtype));
    }
}

// Several steps in place, the bias-corrected alpha changing per step, on a 2-D shape.
TEST(adam_steps_2d) {
  Operands o(ST_F64, {37, 29}, 11, 0);
  Ref r{{}, {}, {}};
  for (int64_t i = 0; i < o.p.size(); i++) r.p.push_back(o.p.get(i)), r.m.push_back(o.m.get(i)), r.v.push_back(o.v.get(i));
  for (int t = 1; t <= 4; t++) {
    const double alpha = 0.01 * std::sqrt(1 - std::pow(kB2, t)) / (1 - std::pow(kB1, t));
    o.alpha.set(0, alpha);
    o.g.fill_random(100 + t, -1, 1);
    for (int64_t i = 0; i < o.p.size(); i++) {
      const double g = o.g.get(i);
      r.m[i] += (g - r.m[i]) * (1 - kB1);
      r.v[i] += (g * g - r.v[i]) * (1 - kB2);
      r.p[i] -= alpha * r.m[i] / (std::sqrt(r.v[i]) + kEps);
    }
    EXPECT(adam({&o.p, &o.g, &o.m, &o.v, &o.alpha}, {&o.p, &o.m, &o.v}) == ST_OK);
  }
  check_against(r, o.p, o.m, o.v, 1e-13);
}

TEST(adam_empty) {
  Operands o(ST_F32, {0, 3}, 1, 0.1);
  Tensor po(ST_F32, {0, 3}), mo(ST_F32, {0, 3}), vo(ST_F32, {0, 3});
  EXPECT(adam({&o.p, &o.g, &o.m, &o.v, &o.alpha}, {&po, &mo, &vo}) == ST_OK);
}

TEST(adam_argument_checks) {
  auto expect_fail = [](st_code want, const char *needle, std::vector<Tensor *> in, std::vector<Tensor *> out,
                        std::vector<double> fattr = {kB1, kB2, kEps}) {
    std::string msg;
    const st_code rc = adam(in, out, &msg, fattr);
    EXPECT(rc == want);
    if (msg.find(needle) == std::string::npos || msg.find("adamUpdate") == std::string::npos) {
      std::fprintf(stderr, "  FAIL message '%s' lacks '%s'\n", msg.c_str(), needle);
      sttest::failures++;
    }
  };
  Operands o(ST_F32, {5}, 3, 0.1);
  Tensor po(ST_F32, {5}), mo(ST_F32, {5}), vo(ST_F32, {5});
  std::vector<Tensor *> in{&o.p, &o.g, &o.m, &o.v, &o.alpha}, out{&po, &mo, &vo};

  expect_fail(ST_ERR_ARG, "fattr", in, out, {kB1, kB2});
  expect_fail(ST_ERR_ARG, "finite", in, out, {kB1, std::nan(""), kEps});
  expect_fail(ST_ERR_ARG, "expected 5 inputs", {&o.p, &o.g, &o.m, &o.v}, out);
  expect_fail(ST_ERR_ARG, "expected 3 outputs", in, {&po, &mo});

  Operands i32(ST_I32, {5}, 3, 0);
  Tensor pi(ST_I32, {5}), mi(ST_I32, {5}), vi(ST_I32, {5});
  expect_fail(ST_ERR_DTYPE, "p must be float32 or float64", {&i32.p, &i32.g, &i32.m, &i32.v, &i32.alpha},
              {&pi, &mi, &vi});

  Tensor g64(ST_F64, {5});
  expect_fail(ST_ERR_DTYPE, "g is float64 but p is float32", {&o.p, &g64, &o.m, &o.v, &o.alpha}, out);
  Tensor a64(ST_F64, {});
  expect_fail(ST_ERR_DTYPE, "alpha is float64", {&o.p, &o.g, &o.m, &o.v, &a64}, out);
  Tensor v6(ST_F32, {6});
  expect_fail(ST_ERR_SHAPE, "v has shape [6]", {&o.p, &o.g, &o.m, &v6, &o.alpha}, out);
  Tensor m51(ST_F32, {5, 1});
  expect_fail(ST_ERR_SHAPE, "m has shape [5,1]", {&o.p, &o.g, &m51, &o.v, &o.alpha}, out);
  Tensor a2(ST_F32, {2});
  expect_fail(ST_ERR_SHAPE, "alpha must hold one element", {&o.p, &o.g, &o.m, &o.v, &a2}, out);
  Tensor mo64(ST_F64, {5});
  expect_fail(ST_ERR_DTYPE, "output m' is float64", in, {&po, &mo64, &vo});
  Tensor vo4(ST_F32, {4});
  expect_fail(ST_ERR_SHAPE, "output v' has shape [4]", in, {&po, &mo, &vo4});

  // buffers: a partial overlap of an input, or two outputs on one buffer, is refused
  Tensor big(ST_F32, {6});
  Tensor shifted(ST_F32, {5});
  shifted.t.data = big.ptr<float>() + 1;
  Tensor p_in(ST_F32, {5});
  p_in.t.data = big.ptr<float>();
  expect_fail(ST_ERR_ARG, "partly overlaps input p", {&p_in, &o.g, &o.m, &o.v, &o.alpha}, {&shifted, &mo, &vo});
  expect_fail(ST_ERR_ARG, "outputs p' and v' overlap", in, {&po, &mo, &po});
}

}  // namespace
