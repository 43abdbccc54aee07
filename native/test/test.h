// A minimal test harness for the kernels (no Node, no third-party framework, runs under ASan).
#pragma once
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "symtensor.h"

namespace sttest {

struct Case {
  const char *name;
  void (*fn)();
};
std::vector<Case> &registry();
extern int failures;
extern st_ctx *ctx;  // a 2-thread pool shared by all tests

struct Registrar {
  Registrar(const char *n, void (*f)()) { registry().push_back({n, f}); }
};

// An owned tensor for tests: data lives in a std::vector<double>-sized byte store.
struct Tensor {
  std::vector<unsigned char> bytes;
  st_tensor t{};
  Tensor(int32_t dtype, std::vector<int64_t> shape) {
    t.dtype = dtype;
    t.ndim = (int32_t)shape.size();
    for (size_t i = 0; i < shape.size(); i++) t.shape[i] = shape[i];
    bytes.assign((size_t)st_numel(&t) * st_dtype_size(dtype) + 64, 0);
    t.data = bytes.data();
  }
  int64_t size() const { return st_numel(&t); }
  template <class T> T *ptr() { return reinterpret_cast<T *>(t.data); }
  double get(int64_t i) const {
    switch (t.dtype) {
      case ST_F64: return ((const double *)t.data)[i];
      case ST_I32: return ((const int32_t *)t.data)[i];
      case ST_BOOL: return ((const uint8_t *)t.data)[i];
      default: return ((const float *)t.data)[i];
    }
  }
  void set(int64_t i, double v) {
    switch (t.dtype) {
      case ST_F64: ((double *)t.data)[i] = v; break;
      case ST_I32: ((int32_t *)t.data)[i] = (int32_t)v; break;
      case ST_BOOL: ((uint8_t *)t.data)[i] = v != 0; break;
      default: ((float *)t.data)[i] = (float)v; break;
    }
  }
  void fill_random(unsigned seed, double lo = -1, double hi = 1) {
    unsigned s = seed * 2654435761u + 1;
    for (int64_t i = 0; i < size(); i++) {
      s = s * 1664525u + 1013904223u;
      set(i, lo + (hi - lo) * ((s >> 8) / 16777216.0));
    }
  }
};

// Runs one instruction; returns the status code and leaves the message in *msg when given.
st_code run(int opcode, std::vector<Tensor *> in, std::vector<Tensor *> out, std::vector<int64_t> iattr = {},
            std::vector<double> fattr = {}, std::string *msg = nullptr);

}  // namespace sttest

#define TEST(name)                                                 \
  static void name();                                              \
  static sttest::Registrar name##_registrar(#name, name);          \
  static void name()

#define EXPECT(cond)                                                                    \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
      sttest::failures++;                                                               \
    }                                                                                   \
  } while (0)

#define EXPECT_NEAR(a, b, tol)                                                                      \
  do {                                                                                              \
    double a_ = (a), b_ = (b);                                                                      \
    if (!(std::fabs(a_ - b_) <= (tol) * (1 + std::fabs(b_))) && !(std::isnan(a_) && std::isnan(b_))) { \
      std::fprintf(stderr, "  FAIL %s:%d: %s = %.9g, expected %.9g\n", __FILE__, __LINE__, #a, a_, b_); \
      sttest::failures++;                                                                           \
    }                                                                                               \
  } while (0)
