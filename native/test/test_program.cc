// Compiled programs built directly through the C API: slots, arena sharing, updates, control flow,
// validation and profiling.
#include "test.h"

namespace {

st_slot_desc slot(int32_t kind, int32_t dtype, std::vector<int64_t> shape, int64_t offset = 0, void *bound = nullptr) {
  st_slot_desc s{};
  s.kind = kind;
  s.dtype = dtype;
  s.ndim = (int32_t)shape.size();
  for (size_t i = 0; i < shape.size(); i++) s.shape[i] = shape[i];
  s.arena_offset = offset;
  s.bound_data = bound;
  return s;
}

// An instruction whose arrays live in the struct (kept in a std::vector<Ins> until st_program_new).
struct Ins {
  int32_t opcode;
  std::vector<int32_t> in, out;
  std::vector<int64_t> iattr;
  std::vector<double> fattr;
  st_program_instr c() const {
    return {opcode,           (int32_t)in.size(),    (int32_t)out.size(), in.data(), out.data(), iattr.data(),
            (int32_t)iattr.size(), fattr.data(), (int32_t)fattr.size()};
  }
};

struct Desc {
  std::vector<st_slot_desc> slots;
  int64_t arena = 0;
  std::vector<Ins> instrs;
  std::vector<int32_t> copies;  // flattened pairs
  std::vector<st_program_instr> cs;
  st_program *make(st_status *st) {
    cs.clear();
    for (auto &i : instrs) cs.push_back(i.c());
    return st_program_new(slots.data(), (int32_t)slots.size(), arena, cs.data(), (int32_t)cs.size(), copies.data(),
                          (int32_t)(copies.size() / 2), st);
  }
};

// ELEMWISE y = x * a + b over one input (f32 compute).
Ins affine(int32_t x, int32_t y, double a, double b) {
  return {ST_OP_ELEMWISE,
          {x},
          {y},
          {ST_F32, 4, ST_EW_CONST, 1, 0, 0, 0, ST_EW_MUL, 2, 0, 1, 0, ST_EW_CONST, 3, 0, 0, 0, ST_EW_ADD, 4, 2, 3, 0, 4},
          {a, 0, 0, 0, b, 0, 0, 0}};
}

// ELEMWISE y = x0 + x1 (broadcasting).
Ins add2(int32_t a, int32_t b, int32_t y) { return {ST_OP_ELEMWISE, {a, b}, {y}, {ST_F32, 1, ST_EW_ADD, 2, 0, 1, 0, 2}, {0, 0}}; }

Ins reduce_sum(int32_t x, int32_t y, int64_t n) { return {ST_OP_REDUCE, {x}, {y}, {0, 1, n, 1}, {}}; }

Ins fill(int32_t y, double v) { return {ST_OP_FILL, {}, {y}, {}, {v}}; }

}  // namespace

TEST(program_chain_elemwise_reduce) {
  // x [8] -> t = 2x + 1 (TEMP) -> out = sum(t)
  Desc d;
  d.slots = {slot(ST_SLOT_INPUT, ST_F32, {8}), slot(ST_SLOT_TEMP, ST_F32, {8}, 0), slot(ST_SLOT_OUTPUT, ST_F32, {})};
  d.arena = 64;
  d.instrs = {affine(0, 1, 2, 1), reduce_sum(1, 2, 8)};
  st_status st{};
  st_program *p = d.make(&st);
  EXPECT(p != nullptr);
  if (!p) return std::fprintf(stderr, "  %s\n", st.message), void();
  EXPECT(st_program_num_inputs(p) == 1 && st_program_num_outputs(p) == 1);
  EXPECT(st_program_slot(p, 1)->kind == ST_SLOT_TEMP && st_program_slot(p, 3) == nullptr);
  float x[8], out = -1;
  for (int round = 0; round < 3; round++) {
    double want = 0;
    for (int i = 0; i < 8; i++) x[i] = (float)(i * (round + 1)), want += 2 * x[i] + 1;
    void *in[] = {x}, *outs[] = {&out};
    EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK);
    EXPECT(st.instr == -1);
    EXPECT_NEAR(out, want, 1e-6);
  }
  // A missing input pointer is an error, not a crash.
  void *none[] = {nullptr}, *outs[] = {&out};
  EXPECT(st_program_run(p, sttest::ctx, none, outs, &st) == ST_ERR_ARG);
  st_program_free(p);
}

TEST(program_arena_reuse) {
  // a = 3x (TEMP @0), s = sum(a) (TEMP @64), b = x + s (TEMP @0, a is dead), out = 2b + 1.
  Desc d;
  d.slots = {slot(ST_SLOT_INPUT, ST_F32, {16}), slot(ST_SLOT_TEMP, ST_F32, {16}, 0), slot(ST_SLOT_TEMP, ST_F32, {1}, 64),
             slot(ST_SLOT_TEMP, ST_F32, {16}, 0), slot(ST_SLOT_OUTPUT, ST_F32, {16})};
  d.arena = 128;
  d.instrs = {affine(0, 1, 3, 0), reduce_sum(1, 2, 16), add2(0, 2, 3), affine(3, 4, 2, 1)};
  st_status st{};
  st_program *p = d.make(&st);
  EXPECT(p != nullptr);
  if (!p) return std::fprintf(stderr, "  %s\n", st.message), void();
  float x[16], out[16];
  double s = 0;
  for (int i = 0; i < 16; i++) x[i] = 0.5f * i - 2, s += 3.0 * x[i];
  void *in[] = {x}, *outs[] = {out};
  EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK);
  for (int i = 0; i < 16; i++) EXPECT_NEAR(out[i], 2 * (x[i] + s) + 1, 1e-6);
  st_program_free(p);
  // The sum's slot (4 bytes at 64) overlapping the arena's end by one byte is rejected.
  d.arena = 67;
  p = d.make(&st);
  EXPECT(p == nullptr && st.code == ST_ERR_ARG);
  st_program_free(p);
}

TEST(program_updates_land_after_success_only) {
  // w (BOUND [4]) ; w_new = 0.5 w + 1 (TEMP); out = sum(w) (old w); then gather(w, idx) -> g (OUTPUT)
  float w[4] = {1, 2, 3, 4};
  int32_t idx[2] = {3, 0};
  Desc d;
  d.slots = {slot(ST_SLOT_BOUND, ST_F32, {4}, 0, w),  slot(ST_SLOT_TEMP, ST_F32, {4}, 0),
             slot(ST_SLOT_OUTPUT, ST_F32, {1}),       slot(ST_SLOT_BOUND, ST_I32, {2}, 0, idx),
             slot(ST_SLOT_OUTPUT, ST_F32, {2})};
  d.arena = 64;
  d.instrs = {affine(0, 1, 0.5, 1), reduce_sum(0, 2, 4), {ST_OP_GATHER, {0, 3}, {4}, {1, 4, 1}, {}}};
  d.copies = {0, 1};
  st_status st{};
  st_program *p = d.make(&st);
  EXPECT(p != nullptr);
  if (!p) return std::fprintf(stderr, "  %s\n", st.message), void();
  float sum = 0, g[2] = {0, 0};
  void *outs[] = {&sum, g};
  EXPECT(st_program_run(p, sttest::ctx, nullptr, outs, &st) == ST_OK);
  EXPECT_NEAR(sum, 10, 0);
  EXPECT_NEAR(g[0], 4, 0);  // gather sees the old w: the update lands after the last instruction
  EXPECT_NEAR(g[1], 1, 0);
  EXPECT_NEAR(w[0], 1.5, 0);
  EXPECT_NEAR(w[3], 3, 0);
  EXPECT(st_program_run(p, sttest::ctx, nullptr, outs, &st) == ST_OK);
  EXPECT_NEAR(sum, 1.5 + 2 + 2.5 + 3, 1e-6);
  EXPECT_NEAR(w[0], 1.75, 0);

  // An out-of-range index makes the last instruction fail: no update, and st.instr names it.
  idx[1] = 9;
  const float before[4] = {w[0], w[1], w[2], w[3]};
  EXPECT(st_program_run(p, sttest::ctx, nullptr, outs, &st) == ST_ERR_INDEX);
  EXPECT(st.code == ST_ERR_INDEX && st.instr == 2);
  EXPECT(std::strstr(st.message, "gather") != nullptr);
  for (int i = 0; i < 4; i++) EXPECT(w[i] == before[i]);

  // Rebinding the index slot to a good buffer makes it run again.
  int32_t idx2[2] = {1, 1};
  EXPECT(st_program_rebind(p, 3, idx2, &st) == ST_OK);
  EXPECT(st_program_slot(p, 3)->bound_data == idx2);
  EXPECT(st_program_run(p, sttest::ctx, nullptr, outs, &st) == ST_OK && st.instr == -1);
  EXPECT_NEAR(g[0], before[1], 0);
  EXPECT(st_program_rebind(p, 1, idx2, &st) == ST_ERR_ARG);  // TEMP cannot be rebound
  EXPECT(st_program_rebind(p, 3, nullptr, &st) == ST_ERR_ARG);
  EXPECT(st_program_rebind(p, 7, idx2, &st) == ST_ERR_ARG);
  st_program_free(p);
}

TEST(program_copies_apply_in_order) {
  // a <- b, then c <- a: c receives b's value.  Sources may be outputs too.
  float a[2] = {1, 1}, b[2] = {2, 3}, c[2] = {0, 0}, out[2];
  Desc d;
  d.slots = {slot(ST_SLOT_BOUND, ST_F32, {2}, 0, a), slot(ST_SLOT_BOUND, ST_F32, {2}, 0, b),
             slot(ST_SLOT_BOUND, ST_F32, {2}, 0, c), slot(ST_SLOT_OUTPUT, ST_F32, {2})};
  d.instrs = {fill(3, 7)};
  d.copies = {0, 1, 2, 0, 1, 3};
  st_status st{};
  st_program *p = d.make(&st);
  EXPECT(p != nullptr);
  if (!p) return;
  void *outs[] = {out};
  EXPECT(st_program_run(p, sttest::ctx, nullptr, outs, &st) == ST_OK);
  EXPECT(a[0] == 2 && a[1] == 3 && c[0] == 2 && c[1] == 3 && b[0] == 7 && b[1] == 7);
  st_program_free(p);
}

TEST(program_jumps) {
  // if cond: out = 1 else out = 2        0: jumpIfFalse cond -> 3; 1: fill 1; 2: jump -> 4; 3: fill 2
  for (int32_t dt : {ST_BOOL, ST_I32, ST_F32, ST_F64}) {
    Desc d;
    d.slots = {slot(ST_SLOT_INPUT, dt, {2}), slot(ST_SLOT_OUTPUT, ST_F32, {3})};
    d.instrs = {{ST_OP_JUMP_IF_FALSE, {0}, {}, {3}, {}}, fill(1, 1), {ST_OP_JUMP, {}, {}, {4}, {}}, fill(1, 2)};
    st_status st{};
    st_program *p = d.make(&st);
    EXPECT(p != nullptr);
    if (!p) return std::fprintf(stderr, "  %s\n", st.message), void();
    st_program_set_profile(p, 1);
    sttest::Tensor cond(dt, {2});
    float out[3];
    void *in[] = {cond.t.data}, *outs[] = {out};
    cond.set(0, 1), cond.set(1, 0);
    EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK);
    EXPECT(out[0] == 1 && out[2] == 1);
    cond.set(0, 0), cond.set(1, 1);  // only the first element counts
    EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK);
    EXPECT(out[0] == 2 && out[2] == 2);
    if (dt == ST_F32 || dt == ST_F64) {
      cond.set(0, -0.0);
      EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK && out[1] == 2);
      cond.set(0, 0.25);
      EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK && out[1] == 1);
    }
    double ns[4];
    int64_t counts[4];
    st_program_profile(p, ns, counts);
    const bool fl = dt == ST_F32 || dt == ST_F64;
    EXPECT(counts[0] == (fl ? 4 : 2));
    EXPECT(counts[1] == (fl ? 2 : 1) && counts[2] == counts[1]);
    EXPECT(counts[3] == (fl ? 2 : 1));
    EXPECT(ns[1] > 0 && ns[3] > 0);
    st_program_set_profile(p, 0);
    EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK);
    int64_t after[4];
    st_program_profile(p, nullptr, after);
    EXPECT(after[0] == counts[0]);  // profiling off: nothing accumulates
    st_program_free(p);
  }
}

TEST(program_jumps_go_forward_only) {
  // A loop (a backward jump) and a jump to itself are rejected when the program is created, naming
  // the jump; a jump to the next instruction or to the end is fine.
  const std::vector<std::pair<int64_t, bool>> targets = {{0, false}, {1, false}, {2, false}, {3, true}, {4, true}};
  for (const auto &t : targets) {
    Desc d;
    d.slots = {slot(ST_SLOT_TEMP, ST_F32, {1}, 0), slot(ST_SLOT_OUTPUT, ST_F32, {1})};
    d.arena = 64;
    d.instrs = {fill(0, 3), affine(0, 1, 1, 2), {ST_OP_JUMP_IF_FALSE, {0}, {}, {t.first}, {}}, fill(1, 7)};
    st_status st{};
    st_program *p = d.make(&st);
    EXPECT((p != nullptr) == t.second);
    if (!t.second) {
      EXPECT(st.code == ST_ERR_ARG && st.instr == 2);
      EXPECT(std::strstr(st.message, "jumpIfFalse") != nullptr && std::strstr(st.message, "forward") != nullptr);
    }
    st_program_free(p);
  }
  Desc self;
  self.slots = {slot(ST_SLOT_OUTPUT, ST_F32, {1})};
  self.instrs = {fill(0, 1), {ST_OP_JUMP, {}, {}, {1}, {}}};
  st_status st{};
  EXPECT(self.make(&st) == nullptr && st.code == ST_ERR_ARG && st.instr == 1);
}

TEST(program_validation_errors) {
  float w[4] = {0, 0, 0, 0};
  auto base = [&] {
    Desc d;
    d.slots = {slot(ST_SLOT_INPUT, ST_F32, {4}), slot(ST_SLOT_TEMP, ST_F32, {4}, 0),
               slot(ST_SLOT_BOUND, ST_F32, {4}, 0, w), slot(ST_SLOT_OUTPUT, ST_F32, {4})};
    d.arena = 64;
    d.instrs = {affine(0, 1, 2, 0), add2(1, 2, 3), {ST_OP_JUMP, {}, {}, {3}, {}}};
    d.copies = {2, 1};
    return d;
  };
  {
    Desc d = base();
    st_status st{};
    st_program *p = d.make(&st);
    EXPECT(p != nullptr && st.code == ST_OK && st.instr == -1);
    st_program_free(p);
  }
  struct Case {
    const char *what;
    std::function<void(Desc &)> mutate;
    st_code code;
    int32_t instr;
  };
  const std::vector<Case> cases = {
      {"slot kind", [](Desc &d) { d.slots[1].kind = 4; }, ST_ERR_ARG, -1},
      {"negative kind", [](Desc &d) { d.slots[1].kind = -1; }, ST_ERR_ARG, -1},
      {"dtype", [](Desc &d) { d.slots[0].dtype = ST_DTYPE_COUNT; }, ST_ERR_DTYPE, -1},
      {"rank", [](Desc &d) { d.slots[0].ndim = ST_MAX_DIMS + 1; }, ST_ERR_SHAPE, -1},
      {"negative rank", [](Desc &d) { d.slots[0].ndim = -1; }, ST_ERR_SHAPE, -1},
      {"negative dim", [](Desc &d) { d.slots[3].shape[0] = -4; }, ST_ERR_SHAPE, -1},
      {"huge slot", [](Desc &d) { d.slots[0].ndim = 3, d.slots[0].shape[1] = d.slots[0].shape[2] = int64_t(1) << 40; },
       ST_ERR_ALLOC, -1},
      {"slot past the byte limit", [](Desc &d) { d.slots[0].ndim = 1, d.slots[0].shape[0] = (int64_t(1) << 50) / 4 + 1; },
       ST_ERR_ALLOC, -1},
      {"unaligned offset", [](Desc &d) { d.slots[1].arena_offset = 32, d.arena = 256; }, ST_ERR_ARG, -1},
      {"negative offset", [](Desc &d) { d.slots[1].arena_offset = -64; }, ST_ERR_ARG, -1},
      {"temp past arena", [](Desc &d) { d.arena = 15; }, ST_ERR_ARG, -1},
      {"offset past arena", [](Desc &d) { d.slots[1].arena_offset = 128; }, ST_ERR_ARG, -1},
      {"negative arena", [](Desc &d) { d.arena = -1; }, ST_ERR_ARG, -1},
      {"bound without data", [](Desc &d) { d.slots[2].bound_data = nullptr; }, ST_ERR_ARG, -1},
      {"opcode", [](Desc &d) { d.instrs[1].opcode = ST_OP_COUNT; }, ST_ERR_ARG, 1},
      {"negative opcode", [](Desc &d) { d.instrs[0].opcode = -3; }, ST_ERR_ARG, 0},
      {"input slot", [](Desc &d) { d.instrs[1].in[1] = 4; }, ST_ERR_ARG, 1},
      {"negative input slot", [](Desc &d) { d.instrs[0].in[0] = -1; }, ST_ERR_ARG, 0},
      {"output slot", [](Desc &d) { d.instrs[0].out[0] = 99; }, ST_ERR_ARG, 0},
      {"jump target", [](Desc &d) { d.instrs[2].iattr[0] = 4; }, ST_ERR_ARG, 2},
      {"negative jump target", [](Desc &d) { d.instrs[2].iattr[0] = -1; }, ST_ERR_ARG, 2},
      {"jump to itself", [](Desc &d) { d.instrs[2].iattr[0] = 2; }, ST_ERR_ARG, 2},
      {"jump without target", [](Desc &d) { d.instrs[2].iattr.clear(); }, ST_ERR_ARG, 2},
      {"jump with an input", [](Desc &d) { d.instrs[2].in = {0}; }, ST_ERR_ARG, 2},
      {"jumpIfFalse without input", [](Desc &d) { d.instrs[2].opcode = ST_OP_JUMP_IF_FALSE; }, ST_ERR_ARG, 2},
      {"jumpIfFalse on empty", [](Desc &d) {
         d.slots.push_back(slot(ST_SLOT_INPUT, ST_BOOL, {0}));
         d.instrs[2] = {ST_OP_JUMP_IF_FALSE, {4}, {}, {3}, {}};
       }, ST_ERR_SHAPE, 2},
      {"copy dst range", [](Desc &d) { d.copies = {4, 1}; }, ST_ERR_ARG, -1},
      {"copy src range", [](Desc &d) { d.copies = {2, -1}; }, ST_ERR_ARG, -1},
      {"copy dst not bound", [](Desc &d) { d.copies = {1, 2}; }, ST_ERR_ARG, -1},
      {"copy sizes", [](Desc &d) { d.slots.push_back(slot(ST_SLOT_TEMP, ST_F64, {4}, 0)), d.arena = 64, d.copies = {2, 4}; },
       ST_ERR_SHAPE, -1},
  };
  for (const Case &c : cases) {
    Desc d = base();
    c.mutate(d);
    st_status st{};
    st_program *p = d.make(&st);
    if (p != nullptr || st.message[0] == 0 || st.instr != c.instr) {
      std::fprintf(stderr, "  FAIL validation case '%s': program %p, instr %d, message '%s'\n", c.what, (void *)p,
                   (int)st.instr, st.message);
      sttest::failures++;
    }
    if (st.code != c.code) {
      std::fprintf(stderr, "  FAIL validation case '%s': code %d, expected %d (%s)\n", c.what, (int)st.code,
                   (int)c.code, st.message);
      sttest::failures++;
    }
    st_program_free(p);
  }
  // Null arrays with non-zero counts.
  st_status st{};
  EXPECT(st_program_new(nullptr, 2, 0, nullptr, 0, nullptr, 0, &st) == nullptr && st.code == ST_ERR_ARG);
  EXPECT(st_program_new(nullptr, 0, 0, nullptr, 1, nullptr, 0, &st) == nullptr && st.code == ST_ERR_ARG);
  EXPECT(st_program_new(nullptr, 0, 0, nullptr, 0, nullptr, 1, &st) == nullptr && st.code == ST_ERR_ARG);
  st_program_instr bad{ST_OP_FILL, 0, 1, nullptr, nullptr, nullptr, 0, nullptr, 0};
  st_slot_desc one = slot(ST_SLOT_OUTPUT, ST_F32, {1});
  EXPECT(st_program_new(&one, 1, 0, &bad, 1, nullptr, 0, &st) == nullptr && st.instr == 0);
  // An empty program is valid and runs.
  st_program *empty = st_program_new(nullptr, 0, 0, nullptr, 0, nullptr, 0, &st);
  EXPECT(empty != nullptr && st_program_run(empty, sttest::ctx, nullptr, nullptr, &st) == ST_OK);
  st_program_free(empty);
  st_program_free(nullptr);
}

TEST(program_checks_every_instruction_at_creation) {
  // A reduce whose attributes do not match its shapes is rejected by st_program_new, naming it.
  Desc d;
  d.slots = {slot(ST_SLOT_OUTPUT, ST_F32, {6}), slot(ST_SLOT_OUTPUT, ST_F32, {2})};
  d.instrs = {fill(0, 1), {ST_OP_REDUCE, {0}, {1}, {0, 2, 4, 1}, {}}};
  st_status st{};
  EXPECT(d.make(&st) == nullptr);
  EXPECT(st.code == ST_ERR_SHAPE && st.instr == 1 && std::strstr(st.message, "reduce") != nullptr);
  // The same for each kind of check st_exec makes: counts, dtypes, attributes, shapes, bytecode.
  struct Case {
    const char *what;
    Ins ins;
    st_code code;
  };
  const std::vector<Case> cases = {
      {"input count", {ST_OP_MATMUL, {0}, {1}, {0, 0}, {}}, ST_ERR_ARG},
      {"output count", {ST_OP_FILL, {}, {}, {}, {1}}, ST_ERR_ARG},
      {"attribute count", {ST_OP_FILL, {}, {0}, {}, {}}, ST_ERR_ARG},
      {"dtype", {ST_OP_SOFTMAX, {2}, {3}, {1, 4, 1}, {}}, ST_ERR_DTYPE},
      {"elemwise operand register", {ST_OP_ELEMWISE, {0}, {1}, {ST_F32, 1, ST_EW_NEG, 1, 5, 0, 0, 1}, {0, 0}},
       ST_ERR_ARG},
      {"elemwise micro-op", {ST_OP_ELEMWISE, {0}, {1}, {ST_F32, 1, ST_EW_COUNT, 1, 0, 0, 0, 1}, {0, 0}}, ST_ERR_ARG},
      {"elemwise broadcast", {ST_OP_ELEMWISE, {4}, {1}, {ST_F32, 0, 0}, {}}, ST_ERR_SHAPE},
      {"random stream state", {ST_OP_RANDOM_UNIFORM, {0}, {1}, {0}, {0, 1}}, ST_ERR_DTYPE},
  };
  for (const Case &c : cases) {
    Desc e;
    // 0: f32 [4] input, 1: f32 [4] output, 2: i32 [4] input, 3: i32 [4] output, 4: f32 [3] input
    e.slots = {slot(ST_SLOT_INPUT, ST_F32, {4}), slot(ST_SLOT_OUTPUT, ST_F32, {4}), slot(ST_SLOT_INPUT, ST_I32, {4}),
               slot(ST_SLOT_OUTPUT, ST_I32, {4}), slot(ST_SLOT_INPUT, ST_F32, {3})};
    e.instrs = {fill(1, 0), c.ins};
    st_status s{};
    st_program *p = e.make(&s);
    if (p != nullptr || s.code != c.code || s.instr != 1) {
      std::fprintf(stderr, "  FAIL creation check '%s': program %p, code %d, instr %d, '%s'\n", c.what, (void *)p,
                   (int)s.code, (int)s.instr, s.message);
      sttest::failures++;
    }
    st_program_free(p);
  }
}

TEST(program_runtime_error_names_instruction) {
  // Only what depends on the data is checked when a program runs: here a random stream state that
  // is not an integer makes instruction 1 fail, and the output it would have written is untouched.
  Desc d;
  d.slots = {slot(ST_SLOT_INPUT, ST_F64, {2}), slot(ST_SLOT_OUTPUT, ST_F32, {3}), slot(ST_SLOT_OUTPUT, ST_F32, {5})};
  d.instrs = {fill(1, 1), {ST_OP_RANDOM_NORMAL, {0}, {2}, {0}, {0, 1}}};
  st_status st{};
  st_program *p = d.make(&st);
  EXPECT(p != nullptr);
  if (!p) return std::fprintf(stderr, "  %s\n", st.message), void();
  double state[2] = {3, 0.5};
  float a[3] = {0, 0, 0}, b[5] = {-1, -1, -1, -1, -1};
  void *in[] = {state}, *outs[] = {a, b};
  const st_code rc = st_program_run(p, sttest::ctx, in, outs, &st);
  EXPECT(rc != ST_OK && st.code == rc && st.instr == 1 && std::strstr(st.message, "randomNormal") != nullptr);
  EXPECT(a[2] == 1 && b[0] == -1 && b[4] == -1);
  state[1] = 2;
  EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK && st.instr == -1 && b[0] != -1);
  st_program_free(p);
}

TEST(program_elemwise_plan_reads_each_runs_buffers) {
  // out [3, 5] = x [3, 5] * b [5] + s [] with x, b and s given anew on every run (direct, periodic
  // broadcast and splat inputs): the plan made at creation holds no data pointer.
  Desc d;
  d.slots = {slot(ST_SLOT_INPUT, ST_F32, {3, 5}), slot(ST_SLOT_INPUT, ST_F32, {5}), slot(ST_SLOT_INPUT, ST_F64, {}),
             slot(ST_SLOT_OUTPUT, ST_F32, {3, 5})};
  d.instrs = {{ST_OP_ELEMWISE, {0, 1, 2}, {3}, {ST_F32, 2, ST_EW_MUL, 3, 0, 1, 0, ST_EW_ADD, 4, 3, 2, 0, 4}, {0, 0, 0, 0}}};
  st_status st{};
  st_program *p = d.make(&st);
  EXPECT(p != nullptr);
  if (!p) return std::fprintf(stderr, "  %s\n", st.message), void();
  for (int round = 0; round < 3; round++) {
    std::vector<float> x(15), b(5), out(15, -1);
    double s = 0.25 * round - 1;
    for (int i = 0; i < 15; i++) x[i] = (float)(i * (round + 1)) - 3;
    for (int j = 0; j < 5; j++) b[j] = (float)(j - round);
    void *in[] = {x.data(), b.data(), &s}, *outs[] = {out.data()};
    EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK);
    for (int i = 0; i < 15; i++) EXPECT(out[i] == x[i] * b[i % 5] + (float)s);
  }
  st_program_free(p);
}

namespace {

// (view, base, start, step, mod) and (dst, dst_offset, src, src_offset, bytes) entries of LOOP.
Ins loop_begin(int32_t end, int64_t n, std::vector<std::vector<int64_t>> views, std::vector<std::vector<int64_t>> copies,
               std::vector<int32_t> in, std::vector<int32_t> out) {
  Ins l{ST_OP_LOOP, in, out, {end, n, (int64_t)views.size(), (int64_t)copies.size()}, {}};
  for (auto &v : views) l.iattr.insert(l.iattr.end(), v.begin(), v.end());
  for (auto &c : copies) l.iattr.insert(l.iattr.end(), c.begin(), c.end());
  return l;
}

Ins loop_end(int32_t begin, std::vector<std::vector<int64_t>> copies, std::vector<int32_t> in) {
  Ins l{ST_OP_LOOP_END, in, {}, {begin, (int64_t)copies.size()}, {}};
  for (auto &c : copies) l.iattr.insert(l.iattr.end(), c.begin(), c.end());
  return l;
}

// Cumulative sums of x's rows: buf[0] = h0, buf[t + 1] = buf[t] + x[t] (or x[n - 1 - t] backwards).
Desc cumsum_desc(int64_t n, bool backwards) {
  Desc d;
  d.slots = {slot(ST_SLOT_INPUT, ST_F32, {n, 4}), slot(ST_SLOT_INPUT, ST_F32, {4}), slot(ST_SLOT_OUTPUT, ST_F32, {n + 1, 4}),
             slot(ST_SLOT_VIEW, ST_F32, {4}),     slot(ST_SLOT_VIEW, ST_F32, {4}),  slot(ST_SLOT_VIEW, ST_F32, {4})};
  std::vector<int64_t> xs = backwards ? std::vector<int64_t>{3, 0, n - 1, -1, 0} : std::vector<int64_t>{3, 0, 0, 1, 0};
  d.instrs = {loop_begin(2, n, {xs, {4, 2, 0, 1, 0}, {5, 2, 1, 1, 0}}, {{2, 0, 1, 0, 16}}, {0, 1}, {2}), add2(3, 4, 5),
              loop_end(0, {}, {0, 2})};
  return d;
}

}  // namespace

TEST(program_loop_cumulative_sum) {
  for (bool backwards : {false, true}) {
    const int64_t n = 5;
    Desc d = cumsum_desc(n, backwards);
    st_status st{};
    st_program *p = d.make(&st);
    EXPECT(p != nullptr);
    if (!p) return std::fprintf(stderr, "  %s\n", st.message), void();
    float x[5 * 4], h0[4] = {1, -2, 0.5f, 3}, buf[6 * 4];
    for (int i = 0; i < 20; i++) x[i] = 0.25f * i - 1;
    for (int round = 0; round < 2; round++) {  // a second run starts afresh
      std::fill(buf, buf + 24, -99.0f);
      void *in[] = {x, h0}, *outs[] = {buf};
      EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK);
      for (int j = 0; j < 4; j++) {
        double acc = h0[j];
        EXPECT_NEAR(buf[j], acc, 0);
        for (int t = 0; t < n; t++) {
          acc += x[(backwards ? n - 1 - t : t) * 4 + j];
          EXPECT_NEAR(buf[(t + 1) * 4 + j], acc, 1e-5);
        }
      }
    }
    st_program_free(p);
  }
}

TEST(program_loop_ping_pong_and_zero_steps) {
  // Only the final state is kept: a 2-row buffer indexed modulo 2, copied out after the loop.
  for (int64_t n : {0, 1, 4, 7}) {
    Desc d;
    const int64_t rows = n > 0 ? n : 1;
    d.slots = {slot(ST_SLOT_INPUT, ST_F32, {rows, 4}), slot(ST_SLOT_INPUT, ST_F32, {4}), slot(ST_SLOT_TEMP, ST_F32, {2, 4}, 0),
               slot(ST_SLOT_OUTPUT, ST_F32, {4}),      slot(ST_SLOT_VIEW, ST_F32, {4}),  slot(ST_SLOT_VIEW, ST_F32, {4}),
               slot(ST_SLOT_VIEW, ST_F32, {4})};
    d.arena = 64;
    d.instrs = {loop_begin(2, n, {{4, 0, 0, 1, 0}, {5, 2, 0, 1, 2}, {6, 2, 1, 1, 2}}, {{2, 0, 1, 0, 16}}, {0, 1}, {2}),
                add2(4, 5, 6), loop_end(0, {{3, 0, 2, (n % 2) * 16, 16}}, {0, 2})};
    st_status st{};
    st_program *p = d.make(&st);
    EXPECT(p != nullptr);
    if (!p) return std::fprintf(stderr, "  %s\n", st.message), void();
    std::vector<float> x((size_t)rows * 4);
    for (size_t i = 0; i < x.size(); i++) x[i] = (float)i;
    float h0[4] = {10, 20, 30, 40}, out[4];
    void *in[] = {x.data(), h0}, *outs[] = {out};
    EXPECT(st_program_run(p, sttest::ctx, in, outs, &st) == ST_OK);
    for (int j = 0; j < 4; j++) {
      double acc = h0[j];
      for (int64_t t = 0; t < n; t++) acc += x[(size_t)(t * 4 + j)];
      EXPECT_NEAR(out[j], acc, 1e-4);
    }
    st_program_free(p);
  }
}

TEST(program_loop_validation) {
  struct Case {
    const char *what;
    void (*edit)(Desc &);
  };
  const Case cases[] = {
      {"row past the end", [](Desc &d) { d.instrs[0].iattr[4 + 2] = 1; }},
      {"backwards past the start", [](Desc &d) { d.instrs[0].iattr[4 + 3] = -1; }},
      {"modulus larger than the base", [](Desc &d) { d.instrs[0].iattr[4 + 5 + 4] = 7; }},
      {"view not a view slot", [](Desc &d) { d.instrs[0].iattr[4] = 1; }},
      {"view placed twice", [](Desc &d) { d.instrs[0].iattr[4 + 5] = 3; }},
      {"view used outside its body", [](Desc &d) { d.instrs.push_back(add2(3, 4, 1)); }},
      {"dtype differs", [](Desc &d) { d.slots[3].dtype = ST_F64; }},
      {"copy too long", [](Desc &d) { d.instrs[0].iattr[4 + 15 + 4] = 20; }},
      {"copy from a view", [](Desc &d) { d.instrs[0].iattr[4 + 15 + 2] = 3; }},
      {"end is not LOOP_END", [](Desc &d) { d.instrs[0].iattr[0] = 1; }},
      {"LOOP_END names another loop", [](Desc &d) { d.instrs[2].iattr[0] = 1; }},
      {"attribute count", [](Desc &d) { d.instrs[0].iattr.pop_back(); }},
      {"negative steps", [](Desc &d) { d.instrs[0].iattr[1] = -1; }},
      {"jump into the body",
       [](Desc &d) {
         d.instrs.insert(d.instrs.begin(), Ins{ST_OP_JUMP, {}, {}, {2}, {}});
         d.instrs[1].iattr[0] = 3;
         d.instrs[3].iattr[0] = 1;
       }},
      {"jump out of the body",
       [](Desc &d) {
         d.instrs.insert(d.instrs.begin() + 1, Ins{ST_OP_JUMP, {}, {}, {4}, {}});  // to the program's end
         d.instrs[0].iattr[0] = 3;
       }},
  };
  {
    Desc ok = cumsum_desc(5, false);
    st_status st{};
    st_program *p = ok.make(&st);
    EXPECT(p != nullptr);
    st_program_free(p);
  }
  for (const Case &c : cases) {
    Desc d = cumsum_desc(5, false);
    c.edit(d);
    st_status st{};
    st_program *p = d.make(&st);
    if (p != nullptr) std::fprintf(stderr, "  accepted: %s\n", c.what);
    EXPECT(p == nullptr && st.code != ST_OK);
    st_program_free(p);
  }
}
