// Fixed-order reduction primitives shared by the reductions (reduce.cc) and softmax (softmax.cc),
// which view their input as [outer, n, inner].
//
// Small local arrays that the vectorizer touches are declared alignas(64): GCC 12 at -O2 with
// AVX-512 enabled was seen to put such an array at a stack slot less aligned than the aligned
// vector stores it then used; an explicit over-alignment makes it realign the frame.
#pragma once
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../runtime/internal.h"

namespace st {
namespace reduce {

constexpr int64_t kChunk = 1 << 16;  // elements per chunk of a contiguous row
constexpr int64_t kBlock = 1024;      // columns per block when inner > 1
constexpr int64_t kShort = 32;       // rows shorter than this fold sequentially, several rows at once

template <class T>
constexpr bool is_float() {
  return std::is_floating_point<T>::value;
}

// ---------------------------------------------------------------------------------------------
// Reduction operators: A is the accumulator, id() the identity, step() folds in one element,
// comb() joins two accumulators, fin() turns the result into the element type.

// Sum and product accumulate floats in double and int32 in wrapping uint64.
template <class T>
using SumAcc = typename std::conditional<is_float<T>(), double, uint64_t>::type;

template <class T>
struct OpSum {
  using A = SumAcc<T>;
  static A id() { return 0; }
  static A conv(T x) {
    if constexpr (is_float<T>()) return (A)x;
    else return (A)(int64_t)x;
  }
  static A step(A a, T x) { return a + conv(x); }
  static A comb(A a, A b) { return a + b; }
  static T fin(A a, int64_t) {
    if constexpr (is_float<T>()) return (T)a;
    else return (T)(uint32_t)a;
  }
};

template <class T>
struct OpMean : OpSum<T> {
  using A = SumAcc<T>;
  static T fin(A a, int64_t n) {
    if constexpr (is_float<T>()) return n ? (T)(a / (double)n) : std::numeric_limits<T>::quiet_NaN();
    else return n ? (T)((int64_t)a / n) : (T)0;
  }
};

template <class T>
struct OpProd {
  using A = SumAcc<T>;
  static A id() { return 1; }
  static A step(A a, T x) { return a * OpSum<T>::conv(x); }
  static A comb(A a, A b) { return a * b; }
  static T fin(A a, int64_t n) { return OpSum<T>::fin(a, n); }
};

// max / min: NaN wins (once the accumulator is NaN it stays NaN).
template <class T>
struct OpMax {
  using A = T;
  static A id() {
    if constexpr (is_float<T>()) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  static A step(A a, T x) {
    if constexpr (is_float<T>()) return ((x > a) | (x != x)) ? x : a;  // no short circuit: stays branch-free
    else return x > a ? x : a;
  }
  static A comb(A a, A b) { return step(a, b); }
  static T fin(A a, int64_t) { return a; }
};

template <class T>
struct OpMin {
  using A = T;
  static A id() {
    if constexpr (is_float<T>()) return std::numeric_limits<T>::infinity();
    else if constexpr (std::is_same<T, uint8_t>::value) return 1;  // bool: min is "all"
    else return std::numeric_limits<T>::max();
  }
  static A step(A a, T x) {
    if constexpr (is_float<T>()) return ((x < a) | (x != x)) ? x : a;
    else return x < a ? x : a;
  }
  static A comb(A a, A b) { return step(a, b); }
  static T fin(A a, int64_t) { return a; }
};

// all / any: nonzero (NaN included) is true; the result is 0 or 1 in the element type.
template <class T>
struct OpAll {
  using A = T;
  static A id() { return 1; }
  static A step(A a, T x) { return (a != 0 && x != 0) ? (A)1 : (A)0; }
  static A comb(A a, A b) { return step(a, b); }
  static T fin(A a, int64_t) { return a; }
};

template <class T>
struct OpAny {
  using A = T;
  static A id() { return 0; }
  static A step(A a, T x) { return (a != 0 || x != 0) ? (A)1 : (A)0; }
  static A comb(A a, A b) { return step(a, b); }
  static T fin(A a, int64_t) { return a; }
};

// Reduces x[0, n) (n <= kChunk) with independent lanes combined pairwise.
template <class T, class Op>
ST_HOT typename Op::A reduce_contig(const T *__restrict x, int64_t n) {
  using A = typename Op::A;
  constexpr int K = 32;
  alignas(64) A acc[K];
  for (int k = 0; k < K; k++) acc[k] = Op::id();
  int64_t i = 0;
  for (; i + K <= n; i += K)
    for (int k = 0; k < K; k++) acc[k] = Op::step(acc[k], x[i + k]);
  for (int k = 0; i < n; i++, k++) acc[k] = Op::step(acc[k], x[i]);
  for (int w = K / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; k++) acc[k] = Op::comb(acc[k], acc[k + w]);
  return acc[0];
}

}  // namespace reduce
}  // namespace st
