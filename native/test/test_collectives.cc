// ALLREDUCE, BROADCAST and ALLGATHER against a fake collectives table: a world of 3 processes whose
// other ranks are simulated inside the table, so bucket packing and unpacking can be checked
// without MPI.  Every call the table receives is recorded.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
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

namespace {

// A program over float32 slots: slot shapes given, kinds given; instructions as triples.
struct ProgSlots {
  std::vector<st_slot_desc> slots;
  int add(int kind, std::vector<int64_t> shape, int32_t dtype = ST_F32, int64_t offset = 0) {
    st_slot_desc d{};
    d.dtype = dtype, d.kind = kind, d.ndim = (int32_t)shape.size(), d.arena_offset = offset;
    for (size_t k = 0; k < shape.size(); k++) d.shape[k] = shape[k];
    slots.push_back(d);
    return (int)slots.size() - 1;
  }
};

// Blocks the fake's reductions until released, so a test can look at a program stopped in WAIT.
std::atomic<bool> g_gate_closed{false};
std::atomic<int> g_gate_waiting{0};
int32_t f_allreduce_gated(void *c, void *buf, int64_t count, int32_t dtype, int32_t op, char *err, size_t errlen) {
  g_gate_waiting++;
  for (int k = 0; k < 4000 && g_gate_closed.load(); k++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  g_gate_waiting--;
  return f_allreduce(c, buf, count, dtype, op, err, errlen);
}

}  // namespace

// START packs and queues, the instructions after it run while the reduction is in flight (here:
// held back by the table), WAIT unpacks; chunks of at most bucket_bytes; mean divides by the size.
TEST(allreduce_start_wait_overlaps) {
  for (int op : {ST_COLL_SUM, ST_COLL_MEAN, ST_COLL_MAX}) {
    Registered reg;
    reg.table.allreduce = f_allreduce_gated;
    ProgSlots ps;
    const int a = ps.add(ST_SLOT_INPUT, {3, 5}), b = ps.add(ST_SLOT_INPUT, {7}), x = ps.add(ST_SLOT_INPUT, {4});
    const int packed = ps.add(ST_SLOT_TEMP, {22}, ST_F32, 0);
    const int oa = ps.add(ST_SLOT_OUTPUT, {3, 5}), ob = ps.add(ST_SLOT_OUTPUT, {7}), ox = ps.add(ST_SLOT_OUTPUT, {4});
    const int32_t s_in[] = {a, b}, s_out[] = {packed}, c_in[] = {x}, c_out[] = {ox}, w_in[] = {packed}, w_out[] = {oa, ob};
    const int64_t s_attr[] = {op, 40}, w_attr[] = {op}, copy_attr[] = {0, 1};  // 40 bytes: 10 float32 per call
    const st_program_instr ins[] = {{ST_OP_ALLREDUCE_START, 2, 1, s_in, s_out, s_attr, 2, nullptr, 0},
                                    {ST_OP_COPY, 1, 1, c_in, c_out, copy_attr, 2, nullptr, 0},
                                    {ST_OP_ALLREDUCE_WAIT, 1, 2, w_in, w_out, w_attr, 1, nullptr, 0}};
    st_status st{};
    st_program *p = st_program_new(ps.slots.data(), (int32_t)ps.slots.size(), 128, ins, 3, nullptr, 0, &st);
    if (!p) std::fprintf(stderr, "  program: %s\n", st.message);
    EXPECT(p != nullptr);
    if (!p) return;
    sttest::Tensor ta(ST_F32, {3, 5}), tb(ST_F32, {7}), tx(ST_F32, {4}), ra(ST_F32, {3, 5}), rb(ST_F32, {7}),
        rx(ST_F32, {4});
    ta.fill_random(11, -4, 4), tb.fill_random(12, -4, 4), tx.fill_random(13, -4, 4);
    void *ip[] = {ta.t.data, tb.t.data, tx.t.data}, *op_[] = {ra.t.data, rb.t.data, rx.t.data};
    g_gate_closed = true;
    st_code rc = ST_ERR_INTERNAL;
    std::thread runner([&] { rc = st_program_run(p, sttest::ctx, ip, op_, &st); });
    // the table holds the first chunk; meanwhile the COPY after START must have run
    bool copied = false;
    for (int k = 0; k < 2000 && !copied; k++) {
      copied = g_gate_waiting.load() == 1;
      for (int i = 0; copied && i < 4; i++) copied = rx.get(i) == tx.get(i);
      if (!copied) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT(copied);
    g_gate_closed = false;
    runner.join();
    EXPECT(rc == ST_OK);
    for (int i = 0; i < 15; i++) EXPECT_NEAR(ra.get(i), expect_of(ta.get(i), op), 1e-5);
    for (int i = 0; i < 7; i++) EXPECT_NEAR(rb.get(i), expect_of(tb.get(i), op), 1e-5);
    EXPECT(reg.fake.calls.size() == 3);  // 22 elements in calls of 10, 10, 2
    if (reg.fake.calls.size() == 3) EXPECT(reg.fake.calls[0].count == 10 && reg.fake.calls[2].count == 2);
    st_program_free(p);
  }
}

// Every collective of the process runs on one thread in the order started: two STARTs, then a
// blocking ALLREDUCE and a BROADCAST, reach the table in that order, from a thread not the caller's.
namespace {
std::vector<std::thread::id> g_callers;
int32_t f_allreduce_who(void *c, void *buf, int64_t count, int32_t dtype, int32_t op, char *err, size_t errlen) {
  g_callers.push_back(std::this_thread::get_id());
  return f_allreduce(c, buf, count, dtype, op, err, errlen);
}
}  // namespace

TEST(allreduce_calls_in_program_order) {
  Registered reg;
  reg.table.allreduce = f_allreduce_who;
  g_callers.clear();
  ProgSlots ps;
  const int a = ps.add(ST_SLOT_INPUT, {2}), b = ps.add(ST_SLOT_INPUT, {3}, ST_F64), c = ps.add(ST_SLOT_INPUT, {5});
  const int pa = ps.add(ST_SLOT_TEMP, {2}, ST_F32, 0), pb = ps.add(ST_SLOT_TEMP, {3}, ST_F64, 64);
  const int oa = ps.add(ST_SLOT_OUTPUT, {2}), ob = ps.add(ST_SLOT_OUTPUT, {3}, ST_F64), oc = ps.add(ST_SLOT_OUTPUT, {5}),
            od = ps.add(ST_SLOT_OUTPUT, {5});
  const int32_t i_a[] = {a}, i_pa[] = {pa}, i_b[] = {b}, i_pb[] = {pb}, i_c[] = {c}, o_c[] = {oc}, o_d[] = {od},
                o_a[] = {oa}, o_b[] = {ob};
  const int64_t start_attr[] = {ST_COLL_SUM, 1 << 20}, wait_attr[] = {ST_COLL_SUM}, root[] = {1};
  const st_program_instr ins[] = {{ST_OP_ALLREDUCE_START, 1, 1, i_a, i_pa, start_attr, 2, nullptr, 0},
                                  {ST_OP_ALLREDUCE_START, 1, 1, i_b, i_pb, start_attr, 2, nullptr, 0},
                                  {ST_OP_ALLREDUCE, 1, 1, i_c, o_c, start_attr, 2, nullptr, 0},
                                  {ST_OP_BROADCAST, 1, 1, i_c, o_d, root, 1, nullptr, 0},
                                  {ST_OP_ALLREDUCE_WAIT, 1, 1, i_pb, o_b, wait_attr, 1, nullptr, 0},
                                  {ST_OP_ALLREDUCE_WAIT, 1, 1, i_pa, o_a, wait_attr, 1, nullptr, 0}};
  st_status st{};
  st_program *p = st_program_new(ps.slots.data(), (int32_t)ps.slots.size(), 128, ins, 6, nullptr, 0, &st);
  EXPECT(p != nullptr);
  if (!p) return;
  sttest::Tensor ta(ST_F32, {2}), tb(ST_F64, {3}), tc(ST_F32, {5}), ra(ST_F32, {2}), rb(ST_F64, {3}), rc_(ST_F32, {5}),
      rd(ST_F32, {5});
  ta.fill_random(21), tb.fill_random(22), tc.fill_random(23);
  void *ip[] = {ta.t.data, tb.t.data, tc.t.data}, *op[] = {ra.t.data, rb.t.data, rc_.t.data, rd.t.data};
  EXPECT(st_program_run(p, sttest::ctx, ip, op, &st) == ST_OK);
  EXPECT(reg.fake.calls.size() == 4);
  if (reg.fake.calls.size() == 4) {
    EXPECT(reg.fake.calls[0].count == 2 && reg.fake.calls[0].dtype == ST_F32);
    EXPECT(reg.fake.calls[1].count == 3 && reg.fake.calls[1].dtype == ST_F64);
    EXPECT(reg.fake.calls[2].count == 5 && reg.fake.calls[2].op == ST_COLL_SUM);
    EXPECT(reg.fake.calls[3].count == 5 && reg.fake.calls[3].op == 1);  // the broadcast from root 1
  }
  EXPECT(g_callers.size() == 3);
  for (const auto &id : g_callers) EXPECT(id != std::this_thread::get_id());
  for (int i = 0; i < 2; i++) EXPECT_NEAR(ra.get(i), 3 * ta.get(i), 1e-6);
  for (int i = 0; i < 3; i++) EXPECT_NEAR(rb.get(i), 3 * tb.get(i), 1e-12);
  for (int i = 0; i < 5; i++) EXPECT_NEAR(rc_.get(i), 3 * tc.get(i), 1e-6);
  for (int i = 0; i < 5; i++) EXPECT(rd.get(i) == 100 + i);
  st_program_free(p);
}

// A wait with no start is refused; a start never waited for is finished before the run returns; a
// failing reduction is WAIT's error; alone (no table), START/WAIT is the identity.
TEST(allreduce_start_wait_errors) {
  ProgSlots ps;
  const int a = ps.add(ST_SLOT_INPUT, {4}), packed = ps.add(ST_SLOT_TEMP, {4}, ST_F32, 0), o = ps.add(ST_SLOT_OUTPUT, {4});
  const int32_t i_a[] = {a}, i_p[] = {packed}, o_o[] = {o};
  const int64_t start_attr[] = {ST_COLL_SUM, 64}, wait_attr[] = {ST_COLL_SUM}, copy_attr[] = {0, 1};
  const st_program_instr lone_wait[] = {{ST_OP_COPY, 1, 1, i_a, i_p, copy_attr, 2, nullptr, 0},
                                        {ST_OP_ALLREDUCE_WAIT, 1, 1, i_p, o_o, wait_attr, 1, nullptr, 0}};
  const st_program_instr lone_start[] = {{ST_OP_ALLREDUCE_START, 1, 1, i_a, i_p, start_attr, 2, nullptr, 0},
                                         {ST_OP_COPY, 1, 1, i_p, o_o, copy_attr, 2, nullptr, 0}};
  const st_program_instr pair[] = {{ST_OP_ALLREDUCE_START, 1, 1, i_a, i_p, start_attr, 2, nullptr, 0},
                                   {ST_OP_ALLREDUCE_WAIT, 1, 1, i_p, o_o, wait_attr, 1, nullptr, 0}};
  sttest::Tensor ta(ST_F32, {4}), ro(ST_F32, {4});
  ta.fill_random(31);
  void *ip[] = {ta.t.data}, *op[] = {ro.t.data};
  st_status st{};
  {
    Registered reg;
    st_program *p = st_program_new(ps.slots.data(), (int32_t)ps.slots.size(), 64, lone_wait, 2, nullptr, 0, &st);
    if (!p) std::fprintf(stderr, "  program: %s\n", st.message);
    EXPECT(p != nullptr);
    if (p) {
      EXPECT(st_program_run(p, sttest::ctx, ip, op, &st) == ST_ERR_ARG);
      EXPECT(st.instr == 1);
      EXPECT(std::string(st.message).find("allreduceWait: no allreduceStart of this buffer") != std::string::npos);
      st_program_free(p);
    }
    p = st_program_new(ps.slots.data(), (int32_t)ps.slots.size(), 64, lone_start, 2, nullptr, 0, &st);
    EXPECT(p != nullptr);
    if (p) {
      EXPECT(st_program_run(p, sttest::ctx, ip, op, &st) == ST_OK);
      EXPECT(reg.fake.calls.size() == 1);  // made, and finished before the run returned
      st_program_free(p);
    }
    reg.fake.calls.clear();
    reg.fake.fail_with = ST_ERR_INTERNAL;
    p = st_program_new(ps.slots.data(), (int32_t)ps.slots.size(), 64, pair, 2, nullptr, 0, &st);
    EXPECT(p != nullptr);
    if (p) {
      EXPECT(st_program_run(p, sttest::ctx, ip, op, &st) == ST_ERR_INTERNAL);
      EXPECT(st.instr == 1);
      EXPECT(std::string(st.message).find("allreduceWait: sum of 4 float32 elements failed: the network is down") !=
             std::string::npos);
      reg.fake.fail_with = 0;
      EXPECT(st_program_run(p, sttest::ctx, ip, op, &st) == ST_OK);  // nothing left over from the failed run
      for (int i = 0; i < 4; i++) EXPECT_NEAR(ro.get(i), 3 * ta.get(i), 1e-6);
      st_program_free(p);
    }
  }
  st_program *p = st_program_new(ps.slots.data(), (int32_t)ps.slots.size(), 64, pair, 2, nullptr, 0, &st);
  EXPECT(p != nullptr);
  if (p) {
    EXPECT(st_program_run(p, sttest::ctx, ip, op, &st) == ST_OK);
    for (int i = 0; i < 4; i++) EXPECT(ro.get(i) == ta.get(i));
    st_program_free(p);
  }
}

TEST(allreduce_start_wait_checks) {
  sttest::Tensor f(ST_F32, {3}), g(ST_F32, {4}), d(ST_F64, {3}), p7(ST_F32, {7}), i(ST_I32, {3});
  struct Bad {
    const char *what;
    int opcode;
    std::vector<sttest::Tensor *> in, out;
    std::vector<int64_t> iattr;
    st_code code;
    const char *needle;
  } bad[] = {
      {"start dtypes", ST_OP_ALLREDUCE_START, {&f, &d}, {&p7}, {0, 64}, ST_ERR_DTYPE, "input 1 is float64 but the packed output is float32"},
      {"start total", ST_OP_ALLREDUCE_START, {&f, &f}, {&p7}, {0, 64}, ST_ERR_SHAPE, "expected [6]"},
      {"start int mean", ST_OP_ALLREDUCE_START, {&i}, {&i}, {1, 64}, ST_ERR_DTYPE, "mean needs a float dtype"},
      {"start bucket", ST_OP_ALLREDUCE_START, {&f}, {&f}, {0, 2}, ST_ERR_ARG, "bucket_bytes 2"},
      {"wait total", ST_OP_ALLREDUCE_WAIT, {&p7}, {&f, &f}, {0}, ST_ERR_SHAPE, "expected [6]"},
      {"wait dtypes", ST_OP_ALLREDUCE_WAIT, {&p7}, {&g, &d}, {0}, ST_ERR_DTYPE, "output 1 is float64"},
      {"wait op", ST_OP_ALLREDUCE_WAIT, {&f}, {&f}, {7}, ST_ERR_ARG, "op 7 is not one of"},
  };
  for (auto &c : bad) {
    std::string msg;
    const st_code rc = sttest::run(c.opcode, c.in, c.out, c.iattr, {}, &msg);
    if (rc != c.code || msg.find(c.needle) == std::string::npos)
      std::fprintf(stderr, "  case %s: code %d, message %s\n", c.what, (int)rc, msg.c_str());
    EXPECT(rc == c.code);
    EXPECT(msg.find(c.needle) != std::string::npos);
  }
}
