// ALLREDUCE, BROADCAST and ALLGATHER against a fake collectives table: a world of 3 processes whose
// other ranks are simulated inside the table, so bucket packing and unpacking can be checked
// without MPI.  Every call the table receives is recorded.
#include <string>
#include <vector>

#include "symtensor_collectives.h"
#include "test.h"

namespace {

struct Call {
  int64_t count;
  int32_t dtype, op;
};

// The fake world: this process is rank 1 of 3; the two other ranks hold, element for element,
// sum: 2x in total (so the sum is 3x), max: x + 1, min: x - 1.
struct Fake {
  std::vector<Call> calls;
  int32_t fail_with = 0;  // a status to return instead of reducing
  int32_t size = 3;
};

template <class T>
void fake_reduce(T *p, int64_t n, int32_t op) {
  for (int64_t i = 0; i < n; i++) p[i] = op == ST_COLL_SUM ? (T)(3 * p[i]) : op == ST_COLL_MAX ? (T)(p[i] + 1) : (T)(p[i] - 1);
}

int32_t f_rank(void *) { return 1; }
int32_t f_size(void *c) { return static_cast<Fake *>(c)->size; }
int32_t f_allreduce(void *c, void *buf, int64_t count, int32_t dtype, int32_t op, char *err, size_t errlen) {
  Fake *f = static_cast<Fake *>(c);
  f->calls.push_back({count, dtype, op});
  if (f->fail_with) {
    snprintf(err, errlen, "the network is down");
    return f->fail_with;
  }
  if (dtype == ST_F32) fake_reduce(static_cast<float *>(buf), count, op);
  if (dtype == ST_F64) fake_reduce(static_cast<double *>(buf), count, op);
  if (dtype == ST_I32) fake_reduce(static_cast<int32_t *>(buf), count, op);
  return 0;
}
// Root r's value of element i is 100 * r + i.
int32_t f_broadcast(void *c, void *buf, int64_t count, int32_t dtype, int32_t root, char *, size_t) {
  static_cast<Fake *>(c)->calls.push_back({count, dtype, root});
  for (int64_t i = 0; i < count; i++) static_cast<float *>(buf)[i] = (float)(100 * root + i);
  return 0;
}
// Rank r's element i is send[i] + 10 * (r - 1) (this process is rank 1).
int32_t f_allgather(void *c, const void *send, void *recv, int64_t count, int32_t dtype, char *, size_t) {
  Fake *f = static_cast<Fake *>(c);
  f->calls.push_back({count, dtype, -1});
  for (int32_t r = 0; r < f->size; r++)
    for (int64_t i = 0; i < count; i++)
      static_cast<float *>(recv)[r * count + i] = static_cast<const float *>(send)[i] + 10.0f * (r - 1);
  return 0;
}
int32_t f_barrier(void *, char *, size_t) { return 0; }

struct Registered {
  Fake fake;
  st_collectives table{ST_COLLECTIVES_VERSION, sizeof(st_collectives), &fake, f_rank, f_size,
                       f_allreduce,            f_broadcast,            f_allgather, f_barrier};
  Registered() {
    char err[128];
    EXPECT(st_set_collectives(&table, err, sizeof err) == 0);
  }
  ~Registered() { st_set_collectives(nullptr, nullptr, 0); }
};

double expect_of(double x, int op) { return op == ST_COLL_MAX ? x + 1 : op == ST_COLL_MIN ? x - 1 : op == ST_COLL_MEAN ? x : 3 * x; }

}  // namespace

// Mixed dtypes and shapes, a bucket smaller than one tensor: every element reduced once, the
// buckets one dtype each and no larger than bucket_bytes, and as few calls as that allows.
TEST(allreduce_buckets_mixed_dtypes) {
  for (int op : {ST_COLL_SUM, ST_COLL_MEAN, ST_COLL_MAX, ST_COLL_MIN}) {
    Registered reg;
    sttest::Tensor a(ST_F32, {3, 5}), b(ST_F64, {7}), c(ST_F32, {2}), d(ST_I32, {4}), e(ST_F32, {0, 3});
    a.fill_random(1, -4, 4), b.fill_random(2, -4, 4), c.fill_random(3, -4, 4);
    for (int i = 0; i < 4; i++) d.set(i, i * 7 - 9);
    std::vector<sttest::Tensor> outs;
    outs.reserve(5);
    for (auto *t : {&a, &b, &c, &d, &e}) outs.emplace_back(t->t.dtype, std::vector<int64_t>(t->t.shape, t->t.shape + t->t.ndim));
    const bool with_int = op != ST_COLL_MEAN;
    std::vector<sttest::Tensor *> in = {&a, &b, &c, &e}, out = {&outs[0], &outs[1], &outs[2], &outs[4]};
    if (with_int) in.push_back(&d), out.push_back(&outs[3]);
    const int64_t bucket = 24;  // 6 float32, 3 float64, 6 int32 per bucket
    std::string msg;
    EXPECT(sttest::run(ST_OP_ALLREDUCE, in, out, {op, bucket}, {}, &msg) == ST_OK);
    for (size_t k = 0; k < in.size(); k++)
      for (int64_t i = 0; i < in[k]->size(); i++) EXPECT_NEAR(out[k]->get(i), expect_of(in[k]->get(i), op), 1e-6);
    // float32: 15 + 2 elements -> buckets of 6, 6, 5; float64: 7 -> 3, 3, 1; int32: 4 -> 4
    std::vector<Call> want = {{6, ST_F32, 0}, {6, ST_F32, 0}, {5, ST_F32, 0}, {3, ST_F64, 0}, {3, ST_F64, 0}, {1, ST_F64, 0}};
    if (with_int) want.push_back({4, ST_I32, 0});
    const int wire = op == ST_COLL_MEAN ? ST_COLL_SUM : op;
    EXPECT(reg.fake.calls.size() == want.size());
    for (size_t k = 0; k < want.size() && k < reg.fake.calls.size(); k++) {
      EXPECT(reg.fake.calls[k].count == want[k].count);
      EXPECT(reg.fake.calls[k].dtype == want[k].dtype);
      EXPECT(reg.fake.calls[k].op == wire);
    }
  }
}

// Large buckets: the small tensors of one dtype share one call.
TEST(allreduce_one_call_per_dtype) {
  Registered reg;
  sttest::Tensor a(ST_F32, {4}), b(ST_F32, {2, 3}), c(ST_F64, {5}), oa(ST_F32, {4}), ob(ST_F32, {2, 3}), oc(ST_F64, {5});
  a.fill_random(4), b.fill_random(5), c.fill_random(6);
  EXPECT(sttest::run(ST_OP_ALLREDUCE, {&a, &b, &c}, {&oa, &ob, &oc}, {ST_COLL_SUM, 1 << 20}) == ST_OK);
  EXPECT(reg.fake.calls.size() == 2);
  if (reg.fake.calls.size() == 2) EXPECT(reg.fake.calls[0].count == 10 && reg.fake.calls[1].count == 5);
  for (int i = 0; i < 6; i++) EXPECT_NEAR(ob.get(i), 3 * b.get(i), 1e-6);
  for (int i = 0; i < 5; i++) EXPECT_NEAR(oc.get(i), 3 * c.get(i), 1e-12);
}

// No table: a world of one, outputs equal inputs, whatever the op.
TEST(allreduce_without_table_is_identity) {
  st_set_collectives(nullptr, nullptr, 0);
  sttest::Tensor a(ST_F32, {9}), o(ST_F32, {9});
  a.fill_random(7);
  for (int op : {ST_COLL_SUM, ST_COLL_MEAN, ST_COLL_MAX, ST_COLL_MIN}) {
    EXPECT(sttest::run(ST_OP_ALLREDUCE, {&a}, {&o}, {op, 8}) == ST_OK);
    for (int i = 0; i < 9; i++) EXPECT(o.get(i) == a.get(i));
  }
}

TEST(allreduce_checks) {
  sttest::Tensor f(ST_F32, {3}), g(ST_F32, {4}), d(ST_F64, {3}), i(ST_I32, {3}), b(ST_BOOL, {3});
  struct Bad {
    const char *what;
    std::vector<sttest::Tensor *> in, out;
    std::vector<int64_t> iattr;
    st_code code;
    const char *needle;
  } bad[] = {
      {"dtype differs", {&f}, {&d}, {0, 64}, ST_ERR_DTYPE, "float32 but output 0 is float64"},
      {"shape differs", {&f}, {&g}, {0, 64}, ST_ERR_SHAPE, "output 0 [4] differs from input 0 [3]"},
      {"bool", {&b}, {&b}, {0, 64}, ST_ERR_DTYPE, "bool"},
      {"int mean", {&i}, {&i}, {1, 64}, ST_ERR_DTYPE, "mean of input 0 needs a float dtype"},
      {"op", {&f}, {&f}, {4, 64}, ST_ERR_ARG, "op 4 is not one of"},
      {"bucket", {&f}, {&f}, {0, 4}, ST_ERR_ARG, "bucket_bytes 4"},
      {"attrs", {&f}, {&f}, {0}, ST_ERR_ARG, "expected 2 int attributes"},
      {"counts", {&f, &d}, {&f}, {0, 64}, ST_ERR_ARG, "as many outputs as inputs"},
  };
  for (auto &c : bad) {
    std::string msg;
    const st_code rc = sttest::run(ST_OP_ALLREDUCE, c.in, c.out, c.iattr, {}, &msg);
    if (rc != c.code || msg.find(c.needle) == std::string::npos)
      std::fprintf(stderr, "  case %s: code %d, message %s\n", c.what, (int)rc, msg.c_str());
    EXPECT(rc == c.code);
    EXPECT(msg.find(c.needle) != std::string::npos);
  }
}

// A failing collective becomes the program's error, naming the instruction.
TEST(allreduce_error_in_program) {
  Registered reg;
  reg.fake.fail_with = ST_ERR_INTERNAL;
  float x[3] = {1, 2, 3}, y[3] = {0, 0, 0};
  st_slot_desc slots[2] = {};
  for (int k = 0; k < 2; k++) slots[k].dtype = ST_F32, slots[k].ndim = 1, slots[k].shape[0] = 3;
  slots[0].kind = ST_SLOT_INPUT, slots[1].kind = ST_SLOT_OUTPUT;
  const int32_t in[] = {0}, out[] = {1};
  const int64_t iattr[] = {ST_COLL_SUM, 64};
  const st_program_instr ins[] = {{ST_OP_ALLREDUCE, 1, 1, in, out, iattr, 2, nullptr, 0}};
  st_status st{};
  st_program *p = st_program_new(slots, 2, 0, ins, 1, nullptr, 0, &st);
  EXPECT(p != nullptr);
  if (!p) return;
  void *ip[] = {x}, *op[] = {y};
  EXPECT(st_program_run(p, sttest::ctx, ip, op, &st) == ST_ERR_INTERNAL);
  EXPECT(st.instr == 0);
  EXPECT(std::string(st.message).find("allreduce: sum of 3 float32 elements failed: the network is down") != std::string::npos);
  reg.fake.fail_with = 0;
  EXPECT(st_program_run(p, sttest::ctx, ip, op, &st) == ST_OK);
  for (int i = 0; i < 3; i++) EXPECT(y[i] == 3 * x[i]);
  st_program_free(p);
}

TEST(broadcast_and_allgather) {
  {
    Registered reg;
    sttest::Tensor x(ST_F32, {2, 2}), y(ST_F32, {2, 2}), g(ST_F32, {3, 2, 2});
    x.fill_random(8);
    EXPECT(sttest::run(ST_OP_BROADCAST, {&x}, {&y}, {2}) == ST_OK);
    for (int i = 0; i < 4; i++) EXPECT(y.get(i) == 200 + i);
    std::string msg;
    EXPECT(sttest::run(ST_OP_BROADCAST, {&x}, {&y}, {3}, {}, &msg) == ST_ERR_ARG);
    EXPECT(msg.find("root 3 is not a rank of this world of 3 processes") != std::string::npos);
    EXPECT(sttest::run(ST_OP_ALLGATHER, {&x}, {&g}) == ST_OK);
    for (int r = 0; r < 3; r++)
      for (int i = 0; i < 4; i++) EXPECT_NEAR(g.get(r * 4 + i), x.get(i) + 10.0 * (r - 1), 1e-6);
    sttest::Tensor g2(ST_F32, {2, 2, 2});
    EXPECT(sttest::run(ST_OP_ALLGATHER, {&x}, {&g2}, {}, {}, &msg) == ST_ERR_SHAPE);
    EXPECT(msg.find("the world has 3 processes") != std::string::npos);
  }
  // alone: broadcast from 0 copies, allgather stacks one
  sttest::Tensor x(ST_F32, {3}), y(ST_F32, {3}), g(ST_F32, {1, 3});
  x.fill_random(9);
  EXPECT(sttest::run(ST_OP_BROADCAST, {&x}, {&y}, {0}) == ST_OK);
  EXPECT(sttest::run(ST_OP_ALLGATHER, {&x}, {&g}) == ST_OK);
  for (int i = 0; i < 3; i++) EXPECT(y.get(i) == x.get(i) && g.get(i) == x.get(i));
}

// A table from another build is refused before anything calls through it.
TEST(collectives_table_checks) {
  Fake fake;
  st_collectives t{ST_COLLECTIVES_VERSION + 1, sizeof(st_collectives), &fake, f_rank, f_size,
                   f_allreduce,                f_broadcast,            f_allgather, f_barrier};
  char err[160];
  EXPECT(st_set_collectives(&t, err, sizeof err) == ST_ERR_ARG);
  EXPECT(std::string(err).find("table version 2, this build expects 1") != std::string::npos);
  EXPECT(st_get_collectives() == nullptr);
  t.version = ST_COLLECTIVES_VERSION;
  t.barrier = nullptr;
  EXPECT(st_set_collectives(&t, err, sizeof err) == ST_ERR_ARG);
  t.barrier = f_barrier;
  fake.size = 0;
  EXPECT(st_set_collectives(&t, err, sizeof err) == ST_ERR_ARG);
  EXPECT(st_get_collectives() == nullptr);
}
