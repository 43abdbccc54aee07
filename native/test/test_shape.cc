#include <algorithm>
#include <numeric>

#include "test.h"

using sttest::Tensor;

namespace {

const int32_t kDtypes[] = {ST_F32, ST_F64, ST_I32, ST_BOOL};

// Random data that survives every dtype exactly (small integers for int32, 0/1 for bool).
void fill_for(Tensor &t, unsigned seed) {
  if (t.t.dtype == ST_I32) {
    t.fill_random(seed, -1000, 1000);
  } else if (t.t.dtype == ST_BOOL) {
    unsigned s = seed * 2654435761u + 7;
    for (int64_t i = 0; i < t.size(); i++) s = s * 1664525u + 1013904223u, t.set(i, (s >> 16) & 1);
  } else {
    t.fill_random(seed, -10, 10);
  }
}

// Reference strided copy: out[idx] = in[offset + sum idx_d * stride_d].
void ref_copy(const Tensor &in, Tensor &out, int64_t offset, const std::vector<int64_t> &strides) {
  const int nd = out.t.ndim;
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < out.size(); i++) {
    int64_t off = offset;
    for (int d = 0; d < nd; d++) off += idx[d] * strides[d];
    out.set(i, in.get(off));
    for (int d = nd - 1; d >= 0; d--) {
      if (++idx[d] < out.t.shape[d]) break;
      idx[d] = 0;
    }
  }
}

bool same(const Tensor &a, const Tensor &b) {
  if (a.size() != b.size()) return false;
  for (int64_t i = 0; i < a.size(); i++)
    if (!(a.get(i) == b.get(i))) return false;
  return true;
}

// Runs COPY and compares with the reference; returns true when they agree.
bool check_copy(int32_t dtype, std::vector<int64_t> in_shape, std::vector<int64_t> out_shape, int64_t offset,
                std::vector<int64_t> strides, unsigned seed = 1) {
  Tensor in(dtype, in_shape), out(dtype, out_shape), ref(dtype, out_shape);
  fill_for(in, seed);
  std::vector<int64_t> ia{offset};
  ia.insert(ia.end(), strides.begin(), strides.end());
  if (sttest::run(ST_OP_COPY, {&in}, {&out}, ia) != ST_OK) return false;
  ref_copy(in, ref, offset, strides);
  return same(out, ref);
}

// Strides of a permutation of a contiguous tensor of shape `shape`: out dim d reads in dim perm[d].
std::vector<int64_t> perm_strides(const std::vector<int64_t> &shape, const std::vector<int> &perm,
                                  std::vector<int64_t> *out_shape) {
  std::vector<int64_t> cstr(shape.size(), 1);
  for (int d = (int)shape.size() - 2; d >= 0; d--) cstr[d] = cstr[d + 1] * shape[d + 1];
  std::vector<int64_t> s;
  out_shape->clear();
  for (int p : perm) s.push_back(cstr[p]), out_shape->push_back(shape[p]);
  return s;
}

bool has(const std::string &msg, const char *what) { return msg.find(what) != std::string::npos; }

}  // namespace

TEST(copy_transpose_2d) {
  for (int32_t dt : kDtypes) {
    EXPECT(check_copy(dt, {37, 53}, {53, 37}, 0, {1, 53}));
    EXPECT(check_copy(dt, {300, 517}, {517, 300}, 0, {1, 517}, 3));  // tiled, partial tiles, parallel
    EXPECT(check_copy(dt, {1, 9}, {9, 1}, 0, {1, 9}));
  }
}

TEST(copy_permutations_3d) {
  std::vector<int> perm = {0, 1, 2};
  const std::vector<std::vector<int64_t>> shapes = {{5, 6, 7}, {9, 40, 33}, {2, 1, 70}};
  for (auto &shape : shapes)
    do {
      for (int32_t dt : kDtypes) {
        std::vector<int64_t> out_shape;
        auto s = perm_strides(shape, perm, &out_shape);
        EXPECT(check_copy(dt, shape, out_shape, 0, s, (unsigned)(perm[0] * 9 + perm[1] * 3 + perm[2])));
      }
    } while (std::next_permutation(perm.begin(), perm.end()));
  // a 4-d NHWC -> NCHW permutation
  std::vector<int64_t> out_shape;
  auto s = perm_strides({3, 17, 19, 24}, {0, 3, 1, 2}, &out_shape);
  EXPECT(check_copy(ST_F32, {3, 17, 19, 24}, out_shape, 0, s));
}

TEST(copy_slices_and_negative_strides) {
  for (int32_t dt : kDtypes) {
    // in[8:0:-2, 11::-3] of a [10, 12]
    EXPECT(check_copy(dt, {10, 12}, {4, 4}, 8 * 12 + 11, {-24, -3}));
    // both dims reversed (innermost stride -1)
    EXPECT(check_copy(dt, {20, 30}, {20, 30}, 599, {-30, -1}));
    // transposed and reversed (tiled path with input stride -1)
    EXPECT(check_copy(dt, {20, 30}, {30, 20}, 599, {-1, -30}));
    // a plain slice: rows 2..5, cols 3..9 (innermost stride 1)
    EXPECT(check_copy(dt, {10, 40}, {4, 30}, 2 * 40 + 3, {40, 1}));
    // every other element of a long vector
    EXPECT(check_copy(dt, {100001}, {50001}, 0, {2}));
  }
}

TEST(copy_broadcast_and_tile) {
  for (int32_t dt : kDtypes) {
    EXPECT(check_copy(dt, {3, 1}, {3, 4}, 0, {1, 0}));          // column splat
    EXPECT(check_copy(dt, {4}, {3, 4}, 0, {0, 1}));             // row broadcast
    EXPECT(check_copy(dt, {}, {2, 3}, 0, {0, 0}));              // scalar
    EXPECT(check_copy(dt, {2, 3}, {2, 2, 3}, 0, {0, 3, 1}));     // tile 2x along axis 0
    EXPECT(check_copy(dt, {2, 3}, {2, 3, 2}, 0, {3, 1, 0}));     // repeat each element
    EXPECT(check_copy(dt, {700, 1}, {700, 500}, 0, {1, 0}));    // large splat, parallel
    EXPECT(check_copy(dt, {}, {}, 0, {}));                       // 0-d to 0-d
  }
}

TEST(copy_large_parallel) {
  EXPECT(check_copy(ST_F32, {1000, 1000}, {1000, 1000}, 0, {1000, 1}));
  EXPECT(check_copy(ST_F32, {1000, 1000}, {1000, 1000}, 0, {1, 1000}));
  EXPECT(check_copy(ST_F64, {64, 64, 64}, {64, 64, 32}, 0, {1, 4096, 128}));  // strided inner, no unit stride
}

TEST(copy_errors) {
  std::string msg;
  Tensor in(ST_F32, {4, 5}), out(ST_F32, {5, 4}), outd(ST_F64, {5, 4}), empty(ST_F32, {0, 4});
  EXPECT(sttest::run(ST_OP_COPY, {&in}, {&outd}, {0, 1, 5}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "copy"));
  EXPECT(sttest::run(ST_OP_COPY, {&in}, {&out}, {0, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(has(msg, "copy"));
  // reaches element 20 of a 20-element input
  EXPECT(sttest::run(ST_OP_COPY, {&in}, {&out}, {1, 1, 5}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "copy") && has(msg, "[4,5]"));
  // negative stride going below 0
  EXPECT(sttest::run(ST_OP_COPY, {&in}, {&out}, {3, -1, 5}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_COPY, {&in}, {&out}, {-1, 0, 0}, {}, &msg) == ST_ERR_SHAPE);
  // overflowing strides
  EXPECT(sttest::run(ST_OP_COPY, {&in}, {&out}, {0, INT64_MAX / 2, 1}, {}, &msg) == ST_ERR_SHAPE);
  // empty output: nothing is read, so any view is fine
  EXPECT(sttest::run(ST_OP_COPY, {&in}, {&empty}, {1000, 1, 1}) == ST_OK);
  // empty input, non-empty output
  Tensor ein(ST_F32, {0}), one(ST_F32, {1});
  EXPECT(sttest::run(ST_OP_COPY, {&ein}, {&one}, {0, 0}, {}, &msg) == ST_ERR_SHAPE);
}

namespace {
bool check_concat(int32_t dt, std::vector<std::vector<int64_t>> shapes, int axis, unsigned seed = 1) {
  std::vector<Tensor> ins;
  ins.reserve(shapes.size());
  for (auto &s : shapes) ins.emplace_back(dt, s);
  std::vector<int64_t> os = shapes[0];
  os[axis] = 0;
  for (auto &s : shapes) os[axis] += s[axis];
  Tensor out(dt, os);
  std::vector<Tensor *> ptrs;
  for (size_t i = 0; i < ins.size(); i++) fill_for(ins[i], seed + (unsigned)i), ptrs.push_back(&ins[i]);
  if (sttest::run(ST_OP_CONCAT, ptrs, {&out}, {axis}) != ST_OK) return false;
  // reference: walk the output multi-index and find the input it comes from
  const int nd = (int)os.size();
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < out.size(); i++) {
    int64_t a = idx[axis];
    size_t k = 0;
    while (a >= shapes[k][axis]) a -= shapes[k][axis], k++;
    int64_t off = 0;
    for (int d = 0; d < nd; d++) off = off * shapes[k][d] + (d == axis ? a : idx[d]);
    if (!(out.get(i) == ins[k].get(off))) return false;
    for (int d = nd - 1; d >= 0; d--) {
      if (++idx[d] < os[d]) break;
      idx[d] = 0;
    }
  }
  return true;
}
}  // namespace

TEST(concat_each_axis) {
  for (int32_t dt : kDtypes) {
    EXPECT(check_concat(dt, {{2, 3, 4}, {1, 3, 4}, {0, 3, 4}, {3, 3, 4}}, 0));
    EXPECT(check_concat(dt, {{2, 3, 4}, {2, 0, 4}, {2, 5, 4}}, 1));
    EXPECT(check_concat(dt, {{2, 3, 4}, {2, 3, 1}, {2, 3, 0}, {2, 3, 7}}, 2));
    EXPECT(check_concat(dt, {{5}}, 0));
  }
  // large: many outer rows, and a few long ones
  EXPECT(check_concat(ST_F32, {{3000, 20}, {3000, 13}}, 1));
  EXPECT(check_concat(ST_F32, {{2, 50000}, {2, 30001}}, 1));
  EXPECT(check_concat(ST_F64, {{100000}, {70000}, {0}}, 0));
}

TEST(concat_errors) {
  std::string msg;
  Tensor a(ST_F32, {2, 3}), b(ST_F32, {2, 4}), c(ST_F32, {3, 4}), d(ST_F64, {2, 4}), r3(ST_F32, {2, 4, 1});
  Tensor out(ST_F32, {2, 7}), bad(ST_F32, {2, 8}), s0(ST_F32, {});
  EXPECT(sttest::run(ST_OP_CONCAT, {&a, &b}, {&out}, {1}) == ST_OK);
  EXPECT(sttest::run(ST_OP_CONCAT, {&a, &c}, {&out}, {1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "concat") && has(msg, "[3,4]"));
  EXPECT(sttest::run(ST_OP_CONCAT, {&a, &d}, {&out}, {1}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(has(msg, "concat"));
  EXPECT(sttest::run(ST_OP_CONCAT, {&a, &r3}, {&out}, {1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_CONCAT, {&a, &b}, {&bad}, {1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "concat") && has(msg, "[2,8]"));
  EXPECT(sttest::run(ST_OP_CONCAT, {&a, &b}, {&out}, {2}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_CONCAT, {&a, &b}, {&out}, {-1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_CONCAT, {&a, &b}, {&out}, {}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_CONCAT, {&s0}, {&s0}, {0}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "concat"));
}

namespace {
bool check_pad(int32_t dt, std::vector<int64_t> in_shape, std::vector<int64_t> before, std::vector<int64_t> after,
               double value) {
  Tensor in(dt, in_shape);
  std::vector<int64_t> os = in_shape;
  for (size_t d = 0; d < os.size(); d++) os[d] += before[d] + after[d];
  Tensor out(dt, os), vt(dt, {1});
  fill_for(in, 5);
  vt.set(0, value);
  if (sttest::run(ST_OP_PAD, {&in}, {&out}, before, {value}) != ST_OK) return false;
  const int nd = (int)os.size();
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < out.size(); i++) {
    bool inside = true;
    int64_t off = 0;
    for (int d = 0; d < nd; d++) {
      int64_t k = idx[d] - before[d];
      inside = inside && k >= 0 && k < in_shape[d];
      off = off * in_shape[d] + k;
    }
    double want = inside ? in.get(off) : vt.get(0);
    if (!(out.get(i) == want)) return false;
    for (int d = nd - 1; d >= 0; d--) {
      if (++idx[d] < os[d]) break;
      idx[d] = 0;
    }
  }
  return true;
}
}  // namespace

TEST(pad_values_and_dtypes) {
  for (int32_t dt : kDtypes) {
    EXPECT(check_pad(dt, {3, 4}, {1, 2}, {2, 0}, 1));
    EXPECT(check_pad(dt, {2, 3, 4}, {0, 1, 3}, {1, 0, 2}, 0));
    EXPECT(check_pad(dt, {0, 3}, {1, 1}, {1, 1}, 1));  // empty input: all fill
    EXPECT(check_pad(dt, {5}, {0}, {0}, 3));
    EXPECT(check_pad(dt, {}, {}, {}, 3));
    EXPECT(check_pad(dt, {300, 200}, {5, 7}, {3, 11}, 1));  // parallel
  }
  // the fill value is cast to the dtype
  Tensor in(ST_I32, {1}), out(ST_I32, {3});
  in.set(0, 4);
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&out}, {1}, {2.7}) == ST_OK);
  EXPECT(out.get(0) == 2 && out.get(1) == 4 && out.get(2) == 2);
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&out}, {1}, {NAN}) == ST_OK);
  EXPECT(out.get(0) == 0);
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&out}, {1}, {1e30}) == ST_OK);
  EXPECT(out.get(0) == 2147483647.0);
  Tensor bin(ST_BOOL, {1}), bout(ST_BOOL, {2});
  EXPECT(sttest::run(ST_OP_PAD, {&bin}, {&bout}, {0}, {0.5}) == ST_OK);
  EXPECT(bout.get(0) == 0 && bout.get(1) == 1);
  Tensor fin(ST_F32, {1}), fout(ST_F32, {2});
  EXPECT(sttest::run(ST_OP_PAD, {&fin}, {&fout}, {1}, {-INFINITY}) == ST_OK);
  EXPECT(std::isinf(fout.get(0)) && fout.get(0) < 0);
}

TEST(pad_errors) {
  std::string msg;
  Tensor in(ST_F32, {3, 4}), out(ST_F32, {5, 5}), outd(ST_F64, {5, 5}), r1(ST_F32, {25});
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&out}, {1, 1}, {0}, &msg) == ST_OK);
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&out}, {1, 2}, {0}, &msg) == ST_ERR_SHAPE);  // after = -1
  EXPECT(has(msg, "pad") && has(msg, "[3,4]") && has(msg, "[5,5]"));
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&out}, {-1, 0}, {0}, &msg) == ST_ERR_ARG);
  EXPECT(has(msg, "pad"));
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&out}, {1}, {0}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&out}, {1, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&outd}, {1, 1}, {0}, &msg) == ST_ERR_DTYPE);
  EXPECT(sttest::run(ST_OP_PAD, {&in}, {&r1}, {1}, {0}, &msg) == ST_ERR_SHAPE);
  EXPECT(has(msg, "pad"));
}

static Tensor ints(std::vector<int64_t> shape, std::vector<int> v) {
  Tensor t(ST_I32, shape);
  for (size_t i = 0; i < v.size(); i++) t.set((int64_t)i, v[i]);
  return t;
}

TEST(check_index_wraps_and_rejects) {
  // n = 4: -4..3 are valid with negatives allowed; -1 becomes 3
  Tensor idx = ints({5}, {0, 3, -1, -4, 2}), out(ST_I32, {5});
  EXPECT(sttest::run(ST_OP_CHECK_INDEX, {&idx}, {&out}, {4, 1}) == ST_OK);
  const int want[] = {0, 3, 3, 0, 2};
  for (int i = 0; i < 5; i++) EXPECT_NEAR(out.get(i), want[i], 0);
  // without negatives, -1 is out of range; so is n itself either way
  std::string msg;
  Tensor neg = ints({2}, {1, -1}), o2(ST_I32, {2});
  EXPECT(sttest::run(ST_OP_CHECK_INDEX, {&neg}, {&o2}, {4, 0}, {}, &msg) == ST_ERR_INDEX);
  EXPECT(msg.find("checkIndex") != std::string::npos && msg.find("-1") != std::string::npos);
  Tensor big = ints({}, {4}), o3(ST_I32, {});
  EXPECT(sttest::run(ST_OP_CHECK_INDEX, {&big}, {&o3}, {4, 1}, {}, &msg) == ST_ERR_INDEX);
  EXPECT(msg.find("[-4, 4)") != std::string::npos);
  // n = 0: nothing is in range
  Tensor z = ints({1}, {0}), o4(ST_I32, {1});
  EXPECT(sttest::run(ST_OP_CHECK_INDEX, {&z}, {&o4}, {0, 1}) == ST_ERR_INDEX);
  // wrong dtype and count are refused before running
  Tensor f(ST_F32, {2}), o5(ST_I32, {2}), o6(ST_I32, {3});
  EXPECT(sttest::run(ST_OP_CHECK_INDEX, {&f}, {&o5}, {4, 1}) == ST_ERR_DTYPE);
  EXPECT(sttest::run(ST_OP_CHECK_INDEX, {&idx}, {&o6}, {4, 1}) == ST_ERR_SHAPE);
}
