// ELEMWISE: every micro-op against <cmath> references (f32, f64, i32), special values,
// broadcasting, fused multi-output programs, casts, validation errors and approximation accuracy.
#include <cstdint>
#include <limits>
#include <string>

#include "test.h"

using sttest::Tensor;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Op {
  int ew, dst, a, b, c;
  double p0, p1;
};

// Runs an ELEMWISE program: ops write registers >= in.size(); outs name the output registers.
st_code ew_run(int ctype, std::vector<Tensor *> in, std::vector<Tensor *> out, const std::vector<Op> &ops,
               std::vector<int64_t> outs, std::string *msg = nullptr) {
  std::vector<int64_t> ia{ctype, (int64_t)ops.size()};
  std::vector<double> fa;
  for (const Op &o : ops) {
    ia.insert(ia.end(), {o.ew, o.dst, o.a, o.b, o.c});
    fa.insert(fa.end(), {o.p0, o.p1});
  }
  ia.insert(ia.end(), outs.begin(), outs.end());
  return sttest::run(ST_OP_ELEMWISE, in, out, ia, fa, msg);
}

int arity(int ew) {
  static const int table[] = {
#define ST_EW(e, name, ar) ar,
#include "../ops.def"
#undef ST_EW
  };
  return table[ew];
}

// float -> int32 the way the kernel casts: truncate, NaN -> 0, saturate.
double to_i32_ref(double v) {
  if (std::isnan(v)) return 0;
  v = std::trunc(v);
  return v < -2147483648.0 ? -2147483648.0 : v > 2147483647.0 ? 2147483647.0 : v;
}

// Straightforward double-precision reference for float compute types.
double ref_float(int ew, double x, double y, double z, double p0, double p1) {
  switch (ew) {
    case ST_EW_CONST: return p0;
    case ST_EW_IDENTITY: return x;
    case ST_EW_NEG: return -x;
    case ST_EW_ABS: return std::fabs(x);
    case ST_EW_SIGN: return std::isnan(x) ? x : x > 0 ? 1 : x < 0 ? -1 : 0;
    case ST_EW_EXP: return std::exp(x);
    case ST_EW_EXPM1: return std::expm1(x);
    case ST_EW_LOG: return std::log(x);
    case ST_EW_LOG1P: return std::log1p(x);
    case ST_EW_SQRT: return std::sqrt(x);
    case ST_EW_RSQRT: return 1 / std::sqrt(x);
    case ST_EW_SQUARE: return x * x;
    case ST_EW_RECIPROCAL: return 1 / x;
    case ST_EW_SIN: return std::sin(x);
    case ST_EW_COS: return std::cos(x);
    case ST_EW_TANH: return std::tanh(x);
    case ST_EW_SIGMOID: return 1 / (1 + std::exp(-x));
    case ST_EW_RELU: return std::isnan(x) ? x : std::max(x, 0.0);
    case ST_EW_LEAKY_RELU: return x > 0 ? x : p0 * x;
    case ST_EW_ELU: return x > 0 ? x : p0 * std::expm1(x);
    case ST_EW_SELU: return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * std::expm1(x));
    case ST_EW_GELU: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case ST_EW_SOFTPLUS: return x > 20 ? x + std::exp(-x) : std::log1p(std::exp(x));
    case ST_EW_FLOOR: return std::floor(x);
    case ST_EW_CEIL: return std::ceil(x);
    case ST_EW_ROUND: return std::nearbyint(x);
    case ST_EW_CLIP: return std::isnan(x) ? x : std::min(std::max(x, p0), p1);
    case ST_EW_ISNAN: return std::isnan(x);
    case ST_EW_ISFINITE: return std::isfinite(x);
    case ST_EW_LOGICAL_NOT: return x == 0;
    case ST_EW_ADD: return x + y;
    case ST_EW_SUB: return x - y;
    case ST_EW_MUL: return x * y;
    case ST_EW_DIV: return x / y;
    case ST_EW_POW: return std::pow(x, y);
    case ST_EW_MAXIMUM: return std::isnan(x) || std::isnan(y) ? kNaN : std::max(x, y);
    case ST_EW_MINIMUM: return std::isnan(x) || std::isnan(y) ? kNaN : std::min(x, y);
    case ST_EW_MOD: {
      double r = std::fmod(x, y);
      if (r != 0 && (r < 0) != (y < 0)) r += y;
      return r;
    }
    case ST_EW_EQUAL: return x == y;
    case ST_EW_NOT_EQUAL: return x != y;
    case ST_EW_LESS: return x < y;
    case ST_EW_LESS_EQUAL: return x <= y;
    case ST_EW_GREATER: return x > y;
    case ST_EW_GREATER_EQUAL: return x >= y;
    case ST_EW_LOGICAL_AND: return x != 0 && y != 0;
    case ST_EW_LOGICAL_OR: return x != 0 || y != 0;
    case ST_EW_WHERE: return x != 0 ? y : z;
    case ST_EW_ERF: return std::erf(x);
  }
  return kNaN;
}

// Reference for int32 compute: integer semantics, float-valued ops via double then truncation.
double ref_int(int ew, int64_t x, int64_t y, int64_t z, double p0, double p1) {
  auto wrap = [](int64_t v) { return (double)(int32_t)(uint32_t)(uint64_t)v; };
  auto floordiv = [](int64_t a, int64_t b) { return (int64_t)std::floor((double)a / (double)b); };
  switch (ew) {
    case ST_EW_CONST: return to_i32_ref(p0);
    case ST_EW_IDENTITY: case ST_EW_FLOOR: case ST_EW_CEIL: case ST_EW_ROUND: return (double)x;
    case ST_EW_NEG: return wrap(-x);
    case ST_EW_ABS: return wrap(x < 0 ? -x : x);
    case ST_EW_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case ST_EW_SQUARE: return wrap(x * x);
    case ST_EW_RECIPROCAL: return x == 1 || x == -1 ? (double)x : 0;
    case ST_EW_RELU: return x > 0 ? (double)x : 0;
    case ST_EW_LEAKY_RELU: return x > 0 ? (double)x : to_i32_ref(p0 * (double)x);
    case ST_EW_CLIP:
      return (double)std::min<int64_t>(std::max<int64_t>(x, (int64_t)std::ceil(p0)), (int64_t)std::floor(p1));
    case ST_EW_ISNAN: return 0;
    case ST_EW_ISFINITE: return 1;
    case ST_EW_LOGICAL_NOT: return x == 0;
    case ST_EW_ADD: return wrap(x + y);
    case ST_EW_SUB: return wrap(x - y);
    case ST_EW_MUL: return wrap(x * y);
    case ST_EW_DIV: return y == 0 ? 0 : wrap(floordiv(x, y));
    case ST_EW_MOD: return y == 0 ? 0 : wrap(x - floordiv(x, y) * y);
    case ST_EW_POW: {
      if (y < 0) return x == 1 ? 1 : x == -1 ? (y % 2 ? -1 : 1) : 0;
      return wrap((int64_t)std::llround(std::pow((double)x, (double)y)));
    }
    case ST_EW_MAXIMUM: return (double)std::max(x, y);
    case ST_EW_MINIMUM: return (double)std::min(x, y);
    case ST_EW_EQUAL: case ST_EW_NOT_EQUAL: case ST_EW_LESS: case ST_EW_LESS_EQUAL: case ST_EW_GREATER:
    case ST_EW_GREATER_EQUAL: case ST_EW_LOGICAL_AND: case ST_EW_LOGICAL_OR: case ST_EW_WHERE:
      return ref_float(ew, (double)x, (double)y, (double)z, p0, p1);
    default: return to_i32_ref(ref_float(ew, (double)x, (double)y, (double)z, p0, p1));
  }
}

// got ~ want: same NaN-ness, equal infinities, else relative tol plus a tiny absolute floor.
bool close(double got, double want, double rel, double abs_floor) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= rel * std::fabs(want) + abs_floor;
}

std::vector<double> special_values() {
  return {0.0,     -0.0,    kInf,   -kInf,    kNaN,    1.0,     -1.0,     0.5,     -0.5,     1.5,    2.5,
          -2.5,    3.0,     -3.0,   0.1,      -0.7,    1e-30,   -1e-30,   1e-45,   -1e-45,   1e-39,  1e30,
          -1e30,   88.7,    89.0,   -87.0,    -103.0,  -104.5,  -110.0,   3.4e38,  -3.4e38,  20.0,   -20.0,
          9.0,     -9.2,    0.3466, -0.3466,  1e6,     -1e6,    2e6,      1.6e7,   1e10,     -1e10,  7.0,
          -7.25,   100.0,   -100.0, 1e-7,     -1e-7,   0.69,    40.0,     -40.0,   1e-20,    16.5,   2.0};
}

// Special values plus random ones over several magnitudes.
std::vector<double> test_values(unsigned seed, size_t n_random) {
  std::vector<double> v = special_values();
  unsigned s = seed * 2654435761u + 12345;
  auto next = [&]() {
    s = s * 1664525u + 1013904223u;
    return (s >> 8) / 16777216.0;
  };
  for (size_t i = 0; i < n_random; i++) {
    double u = next() * 2 - 1;
    switch (i % 4) {
      case 0: v.push_back(u); break;
      case 1: v.push_back(10 * u); break;
      case 2: v.push_back(100 * u); break;
      default: v.push_back((u < 0 ? -1 : 1) * std::pow(10.0, -30 + 60 * next())); break;
    }
  }
  return v;
}

// Checks one micro-op in a float compute type over value lists (a cross product for binary ops).
void check_float_op(int ctype, int ew, double p0, double p1, double rel) {
  const bool f32 = ctype == ST_F32;
  auto round_in = [&](double v) { return f32 ? (double)(float)v : v; };
  std::vector<double> xs = test_values(ew + 1, 400), ys, zs;
  const int ar = arity(ew);
  std::vector<double> a, b, c;
  if (ar <= 1) {
    a = xs;
  } else {
    std::vector<double> sp = special_values();
    sp.resize(30);
    for (double x : sp)
      for (double y : sp) a.push_back(x), b.push_back(y);
    std::vector<double> r1 = test_values(ew + 7, 600), r2 = test_values(ew + 11, 600);
    for (size_t i = 0; i < r1.size(); i++) a.push_back(r1[i]), b.push_back(r2[r2.size() - 1 - i]);
    if (ew == ST_EW_POW) {  // moderate exponents and some integers, so that results are not all 0/inf
      for (size_t i = 0; i < b.size(); i++) {
        if (i % 3 == 1) b[i] = std::fmod(b[i], 6.0);
        if (i % 3 == 2) b[i] = std::trunc(std::fmod(b[i], 9.0));
      }
    }
    if (ar == 3) {
      c = test_values(ew + 13, b.size());
      c.resize(b.size());
      for (size_t i = 0; i < a.size(); i++) a[i] = (i % 3 == 0) ? 0.0 : a[i];
    }
  }
  const int64_t n = (int64_t)std::max<size_t>(a.size(), 1);
  std::vector<Tensor> ins;
  ins.reserve(3);
  const std::vector<double> *src[3] = {&a, &b, &c};
  for (int k = 0; k < ar; k++) {
    ins.emplace_back(ctype, std::vector<int64_t>{n});
    for (int64_t i = 0; i < n; i++) ins[k].set(i, (*src[k])[i]);
  }
  std::vector<Tensor *> inp;
  for (auto &t : ins) inp.push_back(&t);
  Tensor out(ctype, {n});
  const int nin = ar;
  std::string msg;
  st_code rc = ew_run(ctype, inp, {&out}, {{ew, nin, 0, nin > 1 ? 1 : 0, nin > 2 ? 2 : 0, p0, p1}}, {nin}, &msg);
  EXPECT(rc == ST_OK);
  if (rc != ST_OK) {
    std::fprintf(stderr, "    %s %s: %s\n", st_dtype_name(ctype), st_ew_name(ew), msg.c_str());
    return;
  }
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    double x = ar > 0 ? round_in(a[i]) : 0, y = ar > 1 ? round_in(b[i]) : 0, z = ar > 2 ? round_in(c[i]) : 0;
    double want = ref_float(ew, x, y, z, f32 ? (double)(float)p0 : p0, f32 ? (double)(float)p1 : p1);
    if (f32) want = (double)(float)want;  // what a correctly rounded float result would be
    double got = out.get(i);
    if (!close(got, want, rel, f32 ? 1e-37 : 1e-300)) {
      if (bad++ < 5)
        std::fprintf(stderr, "    %s %s(%.9g, %.9g, %.9g) = %.9g, expected %.9g\n", st_dtype_name(ctype),
                     st_ew_name(ew), x, y, z, got, want);
    }
  }
  EXPECT(bad == 0);
}

double op_p0(int ew) {
  return ew == ST_EW_CONST ? 2.75 : ew == ST_EW_LEAKY_RELU ? 0.2 : ew == ST_EW_ELU ? 1.3 : ew == ST_EW_CLIP ? -2.5 : 0;
}
double op_p1(int ew) { return ew == ST_EW_CLIP ? 3.25 : 0; }

}  // namespace

TEST(elemwise_every_op_f64) {
  // erfc's steep tail turns the rounding of x / sqrt(2) into a ~z^2 ulp difference
  for (int ew = 0; ew < ST_EW_COUNT; ew++)
    check_float_op(ST_F64, ew, op_p0(ew), op_p1(ew), ew == ST_EW_GELU ? 1e-12 : 1e-14);
}

TEST(elemwise_every_op_f32) {
  // few-ulp approximations for the transcendental ops, exact for the rest
  for (int ew = 0; ew < ST_EW_COUNT; ew++) check_float_op(ST_F32, ew, op_p0(ew), op_p1(ew), 1e-6);
}

TEST(elemwise_every_op_i32) {
  const std::vector<int64_t> sp{0, 1, -1, 2, -2, 3, -3, 7, -7, 10, -10, 100, -64, INT32_MAX, INT32_MIN, 46341};
  for (int ew = 0; ew < ST_EW_COUNT; ew++) {
    const int ar = arity(ew);
    std::vector<int64_t> a, b, c;
    if (ar <= 1) {
      a = sp;
      for (int i = -300; i <= 300; i += 7) a.push_back(i);
    } else {
      for (int64_t x : sp)
        for (int64_t y : sp) a.push_back(x), b.push_back(y);
      for (int i = 0; i < 300; i++) a.push_back((i * 37) % 201 - 100), b.push_back((i * 53) % 41 - 20);
      if (ew == ST_EW_POW)
        for (size_t i = 0; i < a.size(); i++) a[i] = a[i] % 7, b[i] = b[i] % 12;
      if (ar == 3)
        for (size_t i = 0; i < b.size(); i++) c.push_back(b[b.size() - 1 - i]);
    }
    const int64_t n = (int64_t)a.size();
    std::vector<Tensor> ins;
    ins.reserve(3);
    const std::vector<int64_t> *src[3] = {&a, &b, &c};
    for (int k = 0; k < ar; k++) {
      ins.emplace_back(ST_I32, std::vector<int64_t>{n});
      for (int64_t i = 0; i < n; i++) ins[k].ptr<int32_t>()[i] = (int32_t)(*src[k])[i];
    }
    std::vector<Tensor *> inp;
    for (auto &t : ins) inp.push_back(&t);
    Tensor out(ST_I32, {n});
    const double p0 = ew == ST_EW_CLIP ? -2.5 : ew == ST_EW_CONST ? -3.75 : ew == ST_EW_LEAKY_RELU ? 0.5 : 1.0;
    const double p1 = ew == ST_EW_CLIP ? 6.5 : 0;
    EXPECT(ew_run(ST_I32, inp, {&out}, {{ew, ar, 0, ar > 1 ? 1 : 0, ar > 2 ? 2 : 0, p0, p1}}, {ar}) == ST_OK);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
      double want = ref_int(ew, ar > 0 ? a[i] : 0, ar > 1 ? b[i] : 0, ar > 2 ? c[i] : 0, p0, p1);
      if (out.get(i) != want && bad++ < 5)
        std::fprintf(stderr, "    int32 %s(%lld, %lld) = %.0f, expected %.0f\n", st_ew_name(ew),
                     (long long)(ar > 0 ? a[i] : 0), (long long)(ar > 1 ? b[i] : 0), out.get(i), want);
    }
    EXPECT(bad == 0);
  }
}

TEST(elemwise_semantics_spot_checks) {
  auto one = [](int ctype, int ew, std::vector<double> x, double p0 = 0, double p1 = 0) {
    const int ar = arity(ew);
    std::vector<Tensor> ins;
    ins.reserve(3);
    for (int k = 0; k < ar; k++) {
      ins.emplace_back(ctype, std::vector<int64_t>{});
      ins[k].set(0, x[k]);
    }
    std::vector<Tensor *> inp;
    for (auto &t : ins) inp.push_back(&t);
    Tensor out(ctype, {});
    EXPECT(ew_run(ctype, inp, {&out}, {{ew, ar, 0, 1 % (ar + !ar), 2 % (ar + !ar), p0, p1}}, {ar}) == ST_OK);
    return out.get(0);
  };
  for (int ct : {ST_F32, ST_F64}) {
    EXPECT(one(ct, ST_EW_ROUND, {2.5}) == 2 && one(ct, ST_EW_ROUND, {3.5}) == 4 && one(ct, ST_EW_ROUND, {-0.5}) == 0);
    EXPECT(std::signbit(one(ct, ST_EW_ROUND, {-0.4})));
    EXPECT(one(ct, ST_EW_MOD, {-7, 3}) == 2 && one(ct, ST_EW_MOD, {7, -3}) == -2);
    EXPECT(one(ct, ST_EW_MOD, {-7.5, 2}) == 0.5);
    EXPECT(std::isnan(one(ct, ST_EW_MOD, {1, 0})));
    EXPECT(one(ct, ST_EW_SIGN, {0}) == 0 && one(ct, ST_EW_SIGN, {-3}) == -1 && std::isnan(one(ct, ST_EW_SIGN, {kNaN})));
    EXPECT_NEAR(one(ct, ST_EW_GELU, {1}), 0.8413447460685429, 1e-6);
    EXPECT_NEAR(one(ct, ST_EW_GELU, {-1}), -0.15865525393145707, 1e-6);
    EXPECT_NEAR(one(ct, ST_EW_GELU, {-3}), -0.004049694, 1e-6);
    EXPECT_NEAR(one(ct, ST_EW_SELU, {-1}), 1.0507009873554805 * 1.6732632423543772 * (std::exp(-1.0) - 1), 1e-6);
    EXPECT(one(ct, ST_EW_SOFTPLUS, {1000}) == 1000 && one(ct, ST_EW_SOFTPLUS, {-1000}) == 0);
    EXPECT(one(ct, ST_EW_EXP, {-kInf}) == 0 && one(ct, ST_EW_EXP, {1000}) == kInf);
    EXPECT(one(ct, ST_EW_LOG, {0}) == -kInf && std::isnan(one(ct, ST_EW_LOG, {-1})));
    EXPECT(one(ct, ST_EW_TANH, {1e4}) == 1 && one(ct, ST_EW_TANH, {-1e4}) == -1);
    EXPECT(one(ct, ST_EW_SIGMOID, {1e4}) == 1 && one(ct, ST_EW_SIGMOID, {-1e4}) == 0);
    EXPECT(one(ct, ST_EW_WHERE, {kNaN, 5, 6}) == 5 && one(ct, ST_EW_WHERE, {0, 5, 6}) == 6);
    EXPECT(one(ct, ST_EW_CLIP, {10}, 1, -1) == -1);
    EXPECT(one(ct, ST_EW_LOGICAL_AND, {kNaN, 2}) == 1 && one(ct, ST_EW_LOGICAL_NOT, {kNaN}) == 0);
    EXPECT(std::isnan(one(ct, ST_EW_MAXIMUM, {1, kNaN})) && std::isnan(one(ct, ST_EW_MINIMUM, {kNaN, 1})));
  }
  EXPECT(one(ST_I32, ST_EW_DIV, {-7, 2}) == -4 && one(ST_I32, ST_EW_DIV, {7, 0}) == 0);
  EXPECT(one(ST_I32, ST_EW_MOD, {-7, 3}) == 2 && one(ST_I32, ST_EW_MOD, {7, 0}) == 0);
  EXPECT(one(ST_I32, ST_EW_DIV, {INT32_MIN, -1}) == INT32_MIN && one(ST_I32, ST_EW_MOD, {INT32_MIN, -1}) == 0);
  EXPECT(one(ST_I32, ST_EW_POW, {3, 4}) == 81 && one(ST_I32, ST_EW_POW, {2, -1}) == 0 &&
         one(ST_I32, ST_EW_POW, {-1, -3}) == -1 && one(ST_I32, ST_EW_POW, {0, 0}) == 1);
  EXPECT(one(ST_I32, ST_EW_CONST, {}, kNaN) == 0 && one(ST_I32, ST_EW_CONST, {}, 1e20) == INT32_MAX);
  EXPECT(one(ST_I32, ST_EW_CONST, {}, -2.9) == -2);
}

// Max error of the float32 approximations over a sweep of every 61st bit pattern (both signs,
// all exponents) plus a dense sweep of the central range, in units of the last place.
TEST(elemwise_f32_approximation_accuracy) {
  std::vector<float> xs;
  for (uint64_t b = 0; b < 0x100000000ull; b += 61 * 64) {
    uint32_t u = (uint32_t)b;
    float f;
    std::memcpy(&f, &u, 4);
    if (!std::isnan(f)) xs.push_back(f);
  }
  for (int i = -200000; i <= 200000; i++) xs.push_back((float)(i * 1e-4));
  const int64_t n = (int64_t)xs.size();
  Tensor x(ST_F32, {n}), out(ST_F32, {n});
  std::memcpy(x.ptr<float>(), xs.data(), xs.size() * 4);
  const int ops[] = {ST_EW_EXP,  ST_EW_EXPM1,   ST_EW_LOG, ST_EW_LOG1P, ST_EW_TANH, ST_EW_SIGMOID,
                     ST_EW_SOFTPLUS, ST_EW_SIN, ST_EW_COS,  ST_EW_ELU,   ST_EW_SELU, ST_EW_GELU, ST_EW_ERF};
  for (int ew : ops) {
    EXPECT(ew_run(ST_F32, {&x}, {&out}, {{ew, 1, 0, 0, 0, 1.0, 0}}, {1}) == ST_OK);
    double max_ulp = 0, max_rel = 0, worst = 0;
    for (int64_t i = 0; i < n; i++) {
      double want = ref_float(ew, xs[i], 0, 0, 1.0, 0), got = out.get(i);
      if (std::isnan(want) || std::isinf(want) || std::fabs(want) > 3.4028234663852886e38) {
        float wf = (float)want;
        if (!(std::isnan(wf) ? std::isnan(got) : got == wf)) max_ulp = 1e9, worst = xs[i];
        continue;
      }
      double aw = std::fabs(want);
      double ulp = aw < 1.1754943508222875e-38 ? std::ldexp(1.0, -149) : std::ldexp(1.0, std::ilogb(aw) - 23);
      double e = std::fabs(got - want) / ulp;
      if (e > max_ulp) max_ulp = e, worst = xs[i];
      if (aw > 1e-30) max_rel = std::max(max_rel, std::fabs(got - want) / aw);
    }
    std::printf("     %-9s max error %.2f ulp (at %.9g), max rel %.2e\n", st_ew_name(ew), max_ulp, worst, max_rel);
    EXPECT(max_ulp <= 4.0);
    EXPECT(max_rel <= 1e-6);
  }
}

// float32 pow (log2/exp2 in double): every result within an ulp of std::pow's, over bases of all
// magnitudes with exponents that keep the result in range, negative bases with integer exponents,
// and results in the subnormal range.
TEST(elemwise_f32_pow_accuracy) {
  const int64_t n = 400000;
  Tensor x(ST_F32, {n}), y(ST_F32, {n}), out(ST_F32, {n});
  unsigned s = 777;
  auto uni = [&]() {
    s = s * 1664525u + 1013904223u;
    return (s >> 8) / 16777216.0;
  };
  for (int64_t i = 0; i < n; i++) {
    double xv = std::pow(10.0, -38 + 76 * uni());
    double l2 = std::fabs(std::log2(xv)) + 1e-3;
    double yv = (uni() * 2 - 1) * std::min(140.0 / l2, 1e4);
    if (i % 4 == 1) xv = -xv, yv = std::round(yv);
    if (i % 8 == 3) xv = 1 + (uni() - 0.5) * 1e-3, yv = (uni() - 0.5) * 2e5;
    x.set(i, xv);
    y.set(i, yv);
  }
  EXPECT(ew_run(ST_F32, {&x, &y}, {&out}, {{ST_EW_POW, 2, 0, 1, 0, 0, 0}}, {2}) == ST_OK);
  double max_ulp = 0;
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    double want = std::pow(x.get(i), y.get(i)), got = out.get(i);
    if (std::isnan(want) || std::fabs(want) > 3.4028234663852886e38) {
      bad += !(std::isnan(want) ? std::isnan(got) : got == (double)(float)want);
      continue;
    }
    double aw = std::fabs(want);
    double ulp = aw < 1.1754943508222875e-38 ? std::ldexp(1.0, -149) : std::ldexp(1.0, std::ilogb(aw) - 23);
    max_ulp = std::max(max_ulp, std::fabs(got - want) / ulp);
  }
  std::printf("     pow       max error %.2f ulp\n", max_ulp);
  EXPECT(bad == 0);
  EXPECT(max_ulp <= 1.0);
}

TEST(elemwise_broadcasting) {
  // [3,1] + [1,4] -> [3,4]
  Tensor a(ST_F32, {3, 1}), b(ST_F64, {1, 4}), o(ST_F32, {3, 4});
  for (int i = 0; i < 3; i++) a.set(i, 10 * (i + 1));
  for (int j = 0; j < 4; j++) b.set(j, j + 0.5);
  EXPECT(ew_run(ST_F32, {&a, &b}, {&o}, {{ST_EW_ADD, 2, 0, 1, 0, 0, 0}}, {2}) == ST_OK);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) EXPECT(o.get(i * 4 + j) == 10 * (i + 1) + j + 0.5);
  // 0-d scalar * [2,3,4]
  Tensor s(ST_I32, {}), x(ST_F64, {2, 3, 4}), y(ST_F64, {2, 3, 4});
  s.set(0, 3);
  x.fill_random(5);
  EXPECT(ew_run(ST_F64, {&s, &x}, {&y}, {{ST_EW_MUL, 2, 0, 1, 0, 0, 0}}, {2}) == ST_OK);
  for (int i = 0; i < 24; i++) EXPECT(y.get(i) == 3 * x.get(i));
  // 0-d output from 0-d inputs
  Tensor p(ST_F32, {}), q(ST_F32, {}), r(ST_F32, {});
  p.set(0, 1.5), q.set(0, -4);
  EXPECT(ew_run(ST_F32, {&p, &q}, {&r}, {{ST_EW_POW, 2, 1, 0, 0, 0, 0}}, {2}) == ST_OK);
  EXPECT_NEAR(r.get(0), std::pow(-4.0, 1.5), 0);  // NaN
  EXPECT(std::isnan(r.get(0)));
  // empty outputs: [0,3] with [1,3] and a scalar
  Tensor e(ST_F32, {0, 3}), e1(ST_F32, {1, 3}), e2(ST_F32, {0, 3});
  EXPECT(ew_run(ST_F32, {&e, &e1, &p}, {&e2}, {{ST_EW_WHERE, 3, 0, 1, 2, 0, 0}}, {3}) == ST_OK);
  // [2,1,4] * [3,1] -> [2,3,4] (rank-extended), bool input, multithreaded-size broadcast
  Tensor m(ST_F32, {2, 1, 4}), k(ST_BOOL, {3, 1}), mk(ST_F32, {2, 3, 4});
  m.fill_random(9);
  k.set(0, 1), k.set(1, 0), k.set(2, 1);
  EXPECT(ew_run(ST_F32, {&m, &k}, {&mk}, {{ST_EW_MUL, 2, 0, 1, 0, 0, 0}}, {2}) == ST_OK);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int l = 0; l < 4; l++) EXPECT(mk.get((i * 3 + j) * 4 + l) == m.get(i * 4 + l) * k.get(j));
  // large: [1000,1] - [1,777] and a [7,1,777,1]-style pattern crossing block and thread boundaries
  Tensor col(ST_F64, {1000, 1}), row(ST_F32, {1, 777}), big(ST_F64, {1000, 777});
  col.fill_random(1, -5, 5);
  row.fill_random(2, -5, 5);
  EXPECT(ew_run(ST_F64, {&col, &row}, {&big}, {{ST_EW_SUB, 2, 0, 1, 0, 0, 0}}, {2}) == ST_OK);
  int bad = 0;
  for (int i = 0; i < 1000; i++)
    for (int j = 0; j < 777; j++) bad += big.get((int64_t)i * 777 + j) != col.get(i) - (double)(float)row.get(j);
  EXPECT(bad == 0);
  Tensor g1(ST_F32, {5, 1, 33, 1}), g2(ST_F32, {1, 17, 1, 29}), g3(ST_F32, {5, 17, 33, 29});
  g1.fill_random(3);
  g2.fill_random(4);
  EXPECT(ew_run(ST_F32, {&g1, &g2}, {&g3}, {{ST_EW_MAXIMUM, 2, 0, 1, 0, 0, 0}}, {2}) == ST_OK);
  bad = 0;
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 17; j++)
      for (int l = 0; l < 33; l++)
        for (int t = 0; t < 29; t++)
          bad += g3.get(((i * 17 + j) * 33 + l) * 29 + t) != std::max(g1.get(i * 33 + l), g2.get(j * 29 + t));
  EXPECT(bad == 0);
}

// Random shapes and broadcast patterns (row-, column- and mixed broadcasts, rank-extended inputs,
// different dtypes) against index arithmetic: where(a > 0, b * c, b - c).
TEST(elemwise_random_broadcasts) {
  unsigned s = 4242;
  auto rnd = [&](int n) {
    s = s * 1664525u + 1013904223u;
    return (int)((s >> 8) % (unsigned)n);
  };
  const int64_t dims_pool[] = {1, 2, 3, 5, 7, 16, 33, 130, 1000, 20000};
  int bad_cases = 0;
  for (int it = 0; it < 300; it++) {
    int rank = 1 + rnd(4);
    std::vector<int64_t> out_shape(rank);
    int64_t n = 1;
    for (int d = 0; d < rank; d++) {
      int64_t v;
      do v = dims_pool[rnd(it % 3 == 0 ? 10 : 8)];
      while (n * v > 300000);
      out_shape[d] = v, n *= v;
    }
    std::vector<std::vector<int64_t>> shapes(3);
    for (int k = 0; k < 3; k++) {
      int r = rank - rnd(rank + 1) / 2;  // some inputs have fewer (leading) dims
      for (int d = rank - r; d < rank; d++) shapes[k].push_back(rnd(3) == 0 ? 1 : out_shape[d]);
    }
    const int dts[3] = {rnd(4), rnd(3), rnd(2)};
    const int ct = rnd(2) ? ST_F64 : ST_F32;
    Tensor a(dts[0], shapes[0]), b(dts[1], shapes[1]), c(dts[2], shapes[2]), o(ct, out_shape);
    a.fill_random(it, -1, 1);
    b.fill_random(it + 1000, -50, 50);
    c.fill_random(it + 2000, -50, 50);
    std::vector<Op> prog{{ST_EW_CONST, 3, 0, 0, 0, 0, 0},
                         {ST_EW_GREATER, 4, 0, 3, 0, 0, 0},
                         {ST_EW_MUL, 5, 1, 2, 0, 0, 0},
                         {ST_EW_SUB, 6, 1, 2, 0, 0, 0},
                         {ST_EW_WHERE, 7, 4, 5, 6, 0, 0}};
    std::string msg;
    if (ew_run(ct, {&a, &b, &c}, {&o}, prog, {7}, &msg) != ST_OK) {
      std::fprintf(stderr, "    case %d: %s\n", it, msg.c_str());
      bad_cases++;
      continue;
    }
    Tensor *ins[3] = {&a, &b, &c};
    int bad = 0;
    std::vector<int64_t> idx(rank, 0);
    for (int64_t f = 0; f < n; f++) {
      double v[3];
      for (int k = 0; k < 3; k++) {
        const auto &sh = shapes[k];
        int off = rank - (int)sh.size();
        int64_t li = 0;
        for (size_t d = 0; d < sh.size(); d++) li = li * sh[d] + (sh[d] == 1 ? 0 : idx[off + d]);
        v[k] = ins[k]->get(li);
        if (ct == ST_F32) v[k] = (double)(float)v[k];
      }
      double want = v[0] > 0 ? v[1] * v[2] : v[1] - v[2];
      if (ct == ST_F32) want = (double)(float)want;
      bad += o.get(f) != want;
      for (int d = rank - 1; d >= 0 && ++idx[d] == out_shape[d]; d--) idx[d] = 0;
    }
    if (bad) {
      std::fprintf(stderr, "    case %d: %d mismatches\n", it, bad);
      bad_cases++;
    }
  }
  EXPECT(bad_cases == 0);
}

TEST(elemwise_fused_program) {
  // y = tanh(x * a + b) as float32 and (x * a + b > 0) as bool; a, b splat constants and inputs
  const int64_t n = 1000003;
  Tensor x(ST_F32, {n}), a(ST_F32, {}), y(ST_F32, {n}), pos(ST_BOOL, {n}), y64(ST_F64, {n});
  x.fill_random(17, -4, 4);
  a.set(0, 1.75);
  std::vector<Op> prog{{ST_EW_CONST, 2, 0, 0, 0, -0.25, 0},  // r2 = b
                       {ST_EW_MUL, 3, 0, 1, 0, 0, 0},        // r3 = x * a
                       {ST_EW_ADD, 3, 3, 2, 0, 0, 0},        // r3 = r3 + b (register reuse)
                       {ST_EW_EXP, 5, 0, 0, 0, 0, 0},        // dead
                       {ST_EW_TANH, 4, 3, 0, 0, 0, 0},       // r4 = tanh(r3)
                       {ST_EW_CONST, 5, 0, 0, 0, 0, 0},      // r5 = 0
                       {ST_EW_GREATER, 5, 3, 5, 0, 0, 0}};   // r5 = r3 > 0
  EXPECT(ew_run(ST_F32, {&x, &a}, {&y, &pos, &y64}, prog, {4, 5, 4}) == ST_OK);
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    float t = x.ptr<float>()[i] * 1.75f + -0.25f;
    bad += !close(y.get(i), std::tanh((double)t), 1e-6, 1e-37);
    bad += pos.get(i) != (t > 0);
    bad += y64.get(i) != y.get(i);
  }
  EXPECT(bad == 0);
  // a program of only constants (uniform), and an output that is an input directly
  Tensor c(ST_F64, {5, 7}), xi(ST_I32, {5, 7}), xo(ST_F64, {5, 7});
  for (int i = 0; i < 35; i++) xi.set(i, i - 17);
  EXPECT(ew_run(ST_F64, {&xi}, {&c, &xo},
                {{ST_EW_CONST, 1, 0, 0, 0, 2.0, 0}, {ST_EW_CONST, 2, 0, 0, 0, 3.0, 0}, {ST_EW_POW, 3, 1, 2, 0, 0, 0}},
                {3, 0}) == ST_OK);
  for (int i = 0; i < 35; i++) EXPECT(c.get(i) == 8 && xo.get(i) == i - 17);
  // deep chain with many live registers (exercises the heap register file and slot reuse)
  Tensor z(ST_F64, {3000}), zo(ST_F64, {3000});
  z.fill_random(23);
  std::vector<Op> chain;
  const int depth = 40;
  for (int k = 0; k < depth; k++) chain.push_back({ST_EW_ADD, 1 + k, 0, k, 0, 0, 0});  // r(k+1) = x + r(k)
  for (int k = 0; k < depth; k++) chain.push_back({ST_EW_SUB, 1 + depth + k, depth + k, 1 + k, 0, 0, 0});
  EXPECT(ew_run(ST_F64, {&z}, {&zo}, chain, {2 * depth}) == ST_OK);
  // r(k) = (k+1) x; final = (depth+1)x - sum_{k=1..depth} (k+1) x
  const double coef = (depth + 1) - (depth * (depth + 1) / 2.0 + depth);
  for (int i = 0; i < 3000; i++) EXPECT_NEAR(zo.get(i), coef * z.get(i), 1e-9);
}

// Outputs written in place of their inputs (what a compiled program does for st.shared updates):
// a step writes its output straight into the output's memory only when no later step (nor the
// step itself) reads an input stored there, so every step sees its inputs unchanged.
TEST(elemwise_outputs_over_inputs) {
  const int64_t n = 5003;  // several blocks and a partial last one, over the 2-thread pool
  for (int32_t dt : {ST_F32, ST_F64}) {
    Tensor x(dt, {n}), orig(dt, {n}), other(dt, {n}), two(dt, {});
    x.fill_random(51);
    for (int64_t i = 0; i < n; i++) orig.set(i, x.get(i));
    two.set(0, 2);
    auto over = [&](Tensor &alias) {  // an output tensor viewing x's memory
      alias.t.data = x.t.data;
    };
    auto reset = [&] {
      for (int64_t i = 0; i < n; i++) x.set(i, orig.get(i));
    };
    // x + 1 over x, then 2x read after it: the later step must read the original x
    Tensor o1(dt, {n});
    over(o1);
    EXPECT(ew_run(dt, {&x}, {&o1, &other},
                  {{ST_EW_CONST, 1, 0, 0, 0, 1.0, 0}, {ST_EW_ADD, 2, 0, 1, 0, 0, 0}, {ST_EW_CONST, 3, 0, 0, 0, 2.0, 0},
                   {ST_EW_MUL, 4, 0, 3, 0, 0, 0}},
                  {2, 4}) == ST_OK);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
      const double v = dt == ST_F32 ? (double)(float)orig.get(i) : orig.get(i);
      bad += x.get(i) != (dt == ST_F32 ? (double)(float)(v + 1) : v + 1) || other.get(i) != 2 * v;
    }
    EXPECT(bad == 0);
    // x + 2x over x: the writing step itself reads x
    reset();
    Tensor o2(dt, {n});
    over(o2);
    EXPECT(ew_run(dt, {&x, &two}, {&o2}, {{ST_EW_MUL, 2, 0, 1, 0, 0, 0}, {ST_EW_ADD, 3, 0, 2, 0, 0, 0}}, {3}) == ST_OK);
    bad = 0;
    for (int64_t i = 0; i < n; i++) {
      const double v = orig.get(i);
      bad += x.get(i) != (dt == ST_F32 ? (double)((float)v + (float)v * 2.0f) : v + v * 2);
    }
    EXPECT(bad == 0);
    // -(2x) over x, with x read only before the writing step, and a float64 copy of the same value
    reset();
    Tensor o3(dt, {n}), copy(ST_F64, {n});
    over(o3);
    EXPECT(ew_run(dt, {&x, &two}, {&o3, &copy}, {{ST_EW_MUL, 2, 0, 1, 0, 0, 0}, {ST_EW_NEG, 3, 2, 0, 0, 0, 0}},
                  {3, 3}) == ST_OK);
    bad = 0;
    for (int64_t i = 0; i < n; i++) bad += x.get(i) != -2 * orig.get(i) || copy.get(i) != -2 * orig.get(i);
    EXPECT(bad == 0);
    // sin(x) over x, with arguments beyond the fast path's range (its second pass reads x again)
    reset();
    for (int64_t i = 0; i < n; i += 7) x.set(i, i % 2 ? 1e6 + i : -3e9 - i);
    for (int64_t i = 0; i < n; i++) orig.set(i, x.get(i));
    Tensor o4(dt, {n});
    over(o4);
    EXPECT(ew_run(dt, {&x}, {&o4}, {{ST_EW_SIN, 1, 0, 0, 0, 0, 0}}, {1}) == ST_OK);
    bad = 0;
    for (int64_t i = 0; i < n; i++) bad += !(std::fabs(x.get(i) - std::sin(orig.get(i))) <= 1e-6);
    EXPECT(bad == 0);
  }
}

TEST(elemwise_casts_all_pairs) {
  const std::vector<double> vals{0,   1,    -1,  2.7,  -2.7, 0.4,  255,  256,
                                 1e10, -1e10, 3e9, kInf, -kInf, kNaN, -0.0, 16777217};
  const int64_t n = (int64_t)vals.size();
  for (int din = 0; din < ST_DTYPE_COUNT; din++)
    for (int ct : {ST_F32, ST_F64, ST_I32})
      for (int dout = 0; dout < ST_DTYPE_COUNT; dout++)
        for (int via_op = 0; via_op < 2; via_op++) {
          Tensor x(din, {n}), y(dout, {n});
          for (int64_t i = 0; i < n; i++) {
            double v = vals[i];
            if (din == ST_I32) v = to_i32_ref(v);
            x.set(i, v);  // bool: != 0; i32 set after saturation above
          }
          std::vector<Op> ops;
          if (via_op) ops.push_back({ST_EW_IDENTITY, 1, 0, 0, 0, 0, 0});
          EXPECT(ew_run(ct, {&x}, {&y}, ops, {via_op ? 1 : 0}) == ST_OK);
          for (int64_t i = 0; i < n; i++) {
            auto step = [](double v, int dt) {
              switch (dt) {
                case ST_F32: return (double)(float)v;
                case ST_I32: return to_i32_ref(v);
                case ST_BOOL: return v != 0 ? 1.0 : 0.0;
                default: return v;
              }
            };
            double want = step(step(x.get(i), ct), dout);
            double got = y.get(i);
            if (!(std::isnan(want) ? std::isnan(got) : got == want)) {
              std::fprintf(stderr, "    cast %s -> %s -> %s of %g: got %g expected %g\n", st_dtype_name(din),
                           st_dtype_name(ct), st_dtype_name(dout), x.get(i), got, want);
              sttest::failures++;
            }
          }
        }
}

TEST(elemwise_large_and_threaded) {
  // direct, converted and splat inputs over many blocks; serial and pooled runs agree exactly
  const int64_t n = 300007;
  Tensor x(ST_F32, {n}), w(ST_F64, {n}), k(ST_I32, {1}), y(ST_F32, {n}), y2(ST_F32, {n});
  x.fill_random(31, -20, 20);
  w.fill_random(32, -3, 3);
  k.set(0, 3);
  std::vector<Op> prog{{ST_EW_MUL, 3, 0, 2, 0, 0, 0}, {ST_EW_SIGMOID, 4, 3, 0, 0, 0, 0},
                       {ST_EW_LOG1P, 5, 1, 0, 0, 0, 0}, {ST_EW_WHERE, 6, 1, 4, 5, 0, 0}};
  EXPECT(ew_run(ST_F32, {&x, &w, &k}, {&y}, prog, {6}) == ST_OK);
  st_ctx *saved = sttest::ctx;
  st_ctx serial{nullptr};
  sttest::ctx = &serial;
  EXPECT(ew_run(ST_F32, {&x, &w, &k}, {&y2}, prog, {6}) == ST_OK);
  sttest::ctx = saved;
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    float xi = x.ptr<float>()[i], wi = (float)w.ptr<double>()[i];
    double want = wi != 0 ? 1 / (1 + std::exp(-(double)(xi * 3.0f))) : std::log1p((double)wi);
    bad += !close(y.get(i), (double)(float)want, 1e-6, 1e-37) || y.get(i) != y2.get(i);
  }
  EXPECT(bad == 0);
}

TEST(elemwise_validation_errors) {
  Tensor x(ST_F32, {3}), y(ST_F32, {3}), z(ST_F32, {4}), o(ST_F32, {3}), o2(ST_F32, {2, 3});
  std::string msg;
  auto has = [&](const char *s) { return msg.find(s) != std::string::npos; };
  // bad compute dtype
  EXPECT(ew_run(ST_BOOL, {&x}, {&o}, {{ST_EW_NEG, 1, 0, 0, 0, 0, 0}}, {1}, &msg) == ST_ERR_DTYPE);
  EXPECT(has("elemwise"));
  EXPECT(ew_run(7, {&x}, {&o}, {}, {0}, &msg) == ST_ERR_DTYPE);
  // operand register out of range / not yet defined
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{ST_EW_ADD, 1, 0, 5, 0, 0, 0}}, {1}, &msg) == ST_ERR_ARG);
  EXPECT(has("elemwise") && has("add"));
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{ST_EW_ADD, 1, 0, 2, 0, 0, 0}, {ST_EW_EXP, 2, 0, 0, 0, 0, 0}}, {2}, &msg) ==
         ST_ERR_ARG);
  EXPECT(has("elemwise") && has("add"));
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{ST_EW_ADD, 1, 0, -1, 0, 0, 0}}, {1}, &msg) == ST_ERR_ARG);
  // destination is an input register, or out of range
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{ST_EW_SQRT, 0, 0, 0, 0, 0, 0}}, {0}, &msg) == ST_ERR_ARG);
  EXPECT(has("elemwise") && has("sqrt"));
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{ST_EW_SQRT, 9, 0, 0, 0, 0, 0}}, {1}, &msg) == ST_ERR_ARG);
  // invalid micro-op code
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{ST_EW_COUNT, 1, 0, 0, 0, 0, 0}}, {1}, &msg) == ST_ERR_ARG);
  EXPECT(has("elemwise"));
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{-1, 1, 0, 0, 0, 0, 0}}, {1}, &msg) == ST_ERR_ARG);
  // undefined output register
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{ST_EW_NEG, 1, 0, 0, 0, 0, 0}}, {3}, &msg) == ST_ERR_ARG);
  EXPECT(has("elemwise"));
  // layout lengths: missing output register, extra int, wrong float count, bad n_ops
  EXPECT(sttest::run(ST_OP_ELEMWISE, {&x}, {&o}, {ST_F32, 1, ST_EW_NEG, 1, 0, 0, 0}, {0, 0}, &msg) == ST_ERR_ARG);
  EXPECT(has("elemwise"));
  EXPECT(sttest::run(ST_OP_ELEMWISE, {&x}, {&o}, {ST_F32, 1, ST_EW_NEG, 1, 0, 0, 0, 1, 1}, {0, 0}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_ELEMWISE, {&x}, {&o}, {ST_F32, 1, ST_EW_NEG, 1, 0, 0, 0, 1}, {0}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_ELEMWISE, {&x}, {&o}, {ST_F32, -1, 0}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_ELEMWISE, {&x}, {&o}, {ST_F32, 1LL << 40, 0}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_ELEMWISE, {&x}, {&o}, {ST_F32}, {}, &msg) == ST_ERR_ARG);
  EXPECT(has("elemwise"));
  // shapes: unbroadcastable input, input of higher rank, mismatched outputs
  EXPECT(ew_run(ST_F32, {&x, &z}, {&o}, {{ST_EW_MUL, 2, 0, 1, 0, 0, 0}}, {2}, &msg) == ST_ERR_SHAPE);
  EXPECT(has("elemwise") && has("mul") && has("[4]") && has("[3]"));
  EXPECT(ew_run(ST_F32, {&o2}, {&o}, {{ST_EW_NEG, 1, 0, 0, 0, 0, 0}}, {1}, &msg) == ST_ERR_SHAPE);
  EXPECT(has("elemwise") && has("[2,3]"));
  EXPECT(ew_run(ST_F32, {&x}, {&o, &o2}, {{ST_EW_NEG, 1, 0, 0, 0, 0, 0}}, {1, 1}, &msg) == ST_ERR_SHAPE);
  EXPECT(has("elemwise"));
  // a valid program still runs after all that
  x.set(0, 1), x.set(1, -2), x.set(2, 3);
  EXPECT(ew_run(ST_F32, {&x}, {&o}, {{ST_EW_NEG, 1, 0, 0, 0, 0, 0}}, {1}, &msg) == ST_OK);
  EXPECT(o.get(0) == -1 && o.get(1) == 2 && o.get(2) == -3);
}
