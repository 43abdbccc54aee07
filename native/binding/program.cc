// Compiled programs from JS: createProgram once, then runProgram / runProgramAsync is the hot call.
// A program external owns an st_program plus references to its bound buffers.  Async runs of one
// program execute one at a time in call order (a per-program FIFO); different programs run
// concurrently.  A program disposed while runs are in flight is freed when the last one completes.
#include <algorithm>
#include <deque>
#include <mutex>
#include <vector>

#include "buffers.h"

namespace stb {
namespace {

const napi_type_tag kProgramTag = {0x5d1e7a3c9b2f4e61ULL, 0x0c4a8e2f6b1d3957ULL};
constexpr size_t kStageBytes = 4096;  // small results of one run kept in a staging area, at most

struct IoSlot {
  int32_t slot;
  int32_t dtype;
  int64_t numel;
};

struct BoundRef {
  int32_t slot;
  NativeBuffer *buf;
  Napi::Reference<Napi::Value> ref;
};

class RunWorker;

struct ProgramState {
  st_program *prog = nullptr;
  std::shared_ptr<BufferRegistry> buffers;  // its bound buffers' records, unpinned at teardown too
  std::mutex run_mu;  // one st_program_run at a time (sync calls and the async worker)
  std::vector<BoundRef> bound;
  std::vector<IoSlot> inputs, outputs;
  std::vector<int32_t> opcodes;  // per instruction, for error reports
  int64_t arena_bytes = 0;

  // Main thread only.
  int in_flight = 0;                // accepted async runs not yet completed
  bool worker_active = false;       // one of them is queued on libuv
  std::deque<RunWorker *> pending;  // the rest, in call order
  bool dispose_requested = false;
  std::vector<void *> in_ptrs, out_ptrs;  // scratch for sync runs
  std::vector<NativeBuffer *> out_bufs;
  // Small results (kInlineMaxBytes): their offsets in a staging area (-1: a NativeBuffer), and the
  // room they take.  Sync runs share one staging area, made on the first; each async run gets its
  // own, since its results are read only when its callback runs.
  std::vector<int64_t> inline_off;
  size_t inline_count = 0, inline_bytes = 0;
  Napi::Reference<Napi::Value> stage;
  uint8_t *stage_data = nullptr;
  std::vector<napi_ref> stage_views;  // sync runs hand out the same views every time

  bool live() const { return prog && !dispose_requested; }

  void free_now(Napi::Env env) {
    if (!prog) return;
    st_program_free(prog);
    prog = nullptr;
    // Raw calls: this also runs from the external's finalizer, where nothing may throw.
    for (BoundRef &b : bound) {
      if (b.buf) unpin(env, b.buf);
      napi_delete_reference(env, b.ref);
      b.ref.SuppressDestruct();
    }
    bound.clear();
    for (napi_ref r : stage_views)
      if (r) napi_delete_reference(env, r);
    stage_views.clear();
    if (!stage.IsEmpty()) {
      napi_delete_reference(env, stage);
      stage.SuppressDestruct();
      stage_data = nullptr;
    }
    int64_t ignored;
    if (arena_bytes) napi_adjust_external_memory(env, -arena_bytes, &ignored);
  }
};

struct ProgramBox {
  std::shared_ptr<ProgramState> state;
};

// ---- argument helpers (createProgram is not hot: clarity over speed) ----

int32_t get_i32(Napi::Env env, const Napi::Value &v, const char *what, size_t i) {
  ST_REQUIRE_ARG(env, v.IsNumber(), "createProgram: %s %zu is not a number", what, i);
  double x = v.As<Napi::Number>().DoubleValue();
  ST_REQUIRE_ARG(env, x == (double)(int32_t)x, "createProgram: %s %zu is %g, not a 32-bit integer", what, i, x);
  return (int32_t)x;
}

Napi::Array get_array(Napi::Env env, const Napi::Value &v, const char *what) {
  ST_REQUIRE_ARG(env, v.IsArray(), "createProgram: %s must be an array", what);
  return v.As<Napi::Array>();
}

std::vector<int32_t> get_i32_list(Napi::Env env, const Napi::Value &v, const char *what, size_t k) {
  ST_REQUIRE_ARG(env, v.IsArray(), "createProgram: instruction %zu %s must be an array", k, what);
  auto a = v.As<Napi::Array>();
  std::vector<int32_t> r(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) r[i] = get_i32(env, a.Get(i), what, i);
  return r;
}

void read_slot_shape(Napi::Env env, const Napi::Value &v, st_slot_desc *s, size_t i) {
  ST_REQUIRE_ARG(env, v.IsArray(), "createProgram: slot %zu shape must be an array", i);
  auto a = v.As<Napi::Array>();
  ST_REQUIRE_ARG(env, a.Length() <= ST_MAX_DIMS, "createProgram: slot %zu has rank %u (at most %d)", i,
                 (unsigned)a.Length(), ST_MAX_DIMS);
  s->ndim = (int32_t)a.Length();
  for (uint32_t d = 0; d < a.Length(); d++) {
    Napi::Value e = a.Get(d);
    ST_REQUIRE_ARG(env, e.IsNumber(), "createProgram: slot %zu shape entry %u is not a number", i, d);
    double x = e.As<Napi::Number>().DoubleValue();
    ST_REQUIRE_ARG(env, x >= 0 && x == (double)(int64_t)x && x < 9007199254740992.0,
                   "createProgram: slot %zu shape entry %u is %g (must be a non-negative integer)", i, d, x);
    s->shape[d] = (int64_t)x;
  }
  if (st_shape_bytes(s->dtype, s->ndim, s->shape) < 0)
    throw_error(env, ST_ERR_ALLOC,
                "createProgram: slot " + std::to_string(i) + " is too large (more than 2^" +
                    std::to_string((int)ST_MAX_BYTES_LOG2) + " bytes)");
}

// Called only on slots read_slot_shape accepted (their element count cannot overflow).
int64_t slot_numel(const st_slot_desc &s) {
  int64_t n = 1;
  for (int d = 0; d < s.ndim; d++) n *= s.shape[d];
  return n;
}

std::string describe_slot(const st_slot_desc *s, int64_t numel) {
  st_tensor t{};
  t.ndim = s->ndim;
  for (int d = 0; d < s->ndim; d++) t.shape[d] = s->shape[d];
  char shape[192];
  st_shape_str(&t, shape, sizeof shape);
  return std::string(st_dtype_name(s->dtype)) + " " + shape + " (" + std::to_string(numel) + " elements)";
}

// A failed st_program_new / st_program_run as a JS error naming the failing instruction's op.
Napi::Error program_error(Napi::Env env, const st_status &st, const std::vector<int32_t> &opcodes) {
  const bool named = st.instr >= 0 && (size_t)st.instr < opcodes.size();
  return status_error(env, st, named ? st_op_name(opcodes[st.instr]) : nullptr);
}

ProgramState *get_program(Napi::Env env, const Napi::Value &v, const char *what, bool need_live) {
  ST_REQUIRE_ARG(env, v.IsExternal(), "%s: expected a program", what);
  auto ext = v.As<Napi::External<ProgramBox>>();
  ST_REQUIRE_ARG(env, ext.CheckTypeTag(&kProgramTag), "%s: expected a program", what);
  ProgramState *s = ext.Data()->state.get();
  if (need_live && !s->live()) throw_error(env, ST_ERR_DISPOSED, std::string(what) + ": program is disposed");
  return s;
}

// ---- createProgram ----

// createProgram({slots, bound, arenaBytes, instrs, copies}) -> program
Napi::Value CreateProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 1 && info[0].IsObject(), "createProgram: expected (desc)");
  Napi::Object desc = info[0].As<Napi::Object>();
  Napi::Array slots_a = get_array(env, desc.Get("slots"), "slots");
  Napi::Array bound_a = get_array(env, desc.Get("bound"), "bound");
  Napi::Array instrs_a = get_array(env, desc.Get("instrs"), "instrs");
  Napi::Value copies_v = desc.Get("copies");
  Napi::Array copies_a = copies_v.IsUndefined() ? Napi::Array::New(env, 0) : get_array(env, copies_v, "copies");
  ST_REQUIRE_ARG(env, bound_a.Length() == slots_a.Length(), "createProgram: %u slots but %u bound entries",
                 slots_a.Length(), bound_a.Length());
  ST_REQUIRE_ARG(env, slots_a.Length() < (1u << 30) && instrs_a.Length() < (1u << 30) && copies_a.Length() < (1u << 29),
                 "createProgram: description too large");
  Napi::Value arena_v = desc.Get("arenaBytes");
  ST_REQUIRE_ARG(env, arena_v.IsNumber(), "createProgram: arenaBytes must be a number");
  const double arena_d = arena_v.As<Napi::Number>().DoubleValue();
  ST_REQUIRE_ARG(env, arena_d >= 0 && arena_d == (double)(int64_t)arena_d && arena_d < 9007199254740992.0,
                 "createProgram: arenaBytes must be a non-negative integer, got %g", arena_d);

  const uint32_t n_slots = slots_a.Length();
  std::vector<st_slot_desc> slots(n_slots);
  std::vector<NativeBuffer *> bound_bufs(n_slots, nullptr);
  for (uint32_t i = 0; i < n_slots; i++) {
    Napi::Value sv = slots_a.Get(i);
    ST_REQUIRE_ARG(env, sv.IsObject(), "createProgram: slot %u must be an object", i);
    Napi::Object so = sv.As<Napi::Object>();
    st_slot_desc &s = slots[i];
    s = st_slot_desc{};
    char what[64];
    snprintf(what, sizeof what, "createProgram: slot %u", i);
    s.dtype = get_dtype(env, so.Get("dtype"), what);
    read_slot_shape(env, so.Get("shape"), &s, i);
    s.kind = get_i32(env, so.Get("kind"), "slot kind of slot", i);
    ST_REQUIRE_ARG(env, s.kind >= 0 && s.kind < ST_SLOT_KIND_COUNT, "createProgram: slot %u has invalid kind %d",
                   i, (int)s.kind);
    if (s.kind == ST_SLOT_TEMP) {
      Napi::Value ov = so.Get("offset");
      ST_REQUIRE_ARG(env, ov.IsNumber(), "createProgram: temporary slot %u needs a numeric offset", i);
      const double o = ov.As<Napi::Number>().DoubleValue();
      ST_REQUIRE_ARG(env, o >= 0 && o == (double)(int64_t)o && o < 9007199254740992.0,
                     "createProgram: slot %u offset %g is not a non-negative integer", i, o);
      s.arena_offset = (int64_t)o;
    }
    Napi::Value bv = bound_a.Get(i);
    if (s.kind == ST_SLOT_BOUND) {
      const TensorRef b = unwrap(env, bv, what);  // a JS-owned one is kept alive by the reference below
      const int64_t n = slot_numel(s);
      if (b.dtype != s.dtype || b.numel != n)
        throw_error(env, b.dtype != s.dtype ? ST_ERR_DTYPE : ST_ERR_SHAPE,
                    std::string(what) + ": expected " + describe_slot(&s, n) + ", got " + st_dtype_name(b.dtype) +
                        " with " + std::to_string(b.numel) + " elements");
      s.bound_data = b.data;
      bound_bufs[i] = b.nb;
    } else {
      ST_REQUIRE_ARG(env, bv.IsNull() || bv.IsUndefined(), "createProgram: slot %u is not bound but has a buffer", i);
    }
  }

  const uint32_t n_instrs = instrs_a.Length();
  std::vector<std::vector<int32_t>> ins(n_instrs), outs(n_instrs);
  std::vector<std::vector<int64_t>> iattrs(n_instrs);
  std::vector<std::vector<double>> fattrs(n_instrs);
  std::vector<st_program_instr> instrs(n_instrs);
  std::vector<int32_t> opcodes(n_instrs);
  for (uint32_t k = 0; k < n_instrs; k++) {
    Napi::Value iv = instrs_a.Get(k);
    ST_REQUIRE_ARG(env, iv.IsObject(), "createProgram: instruction %u must be an object", k);
    Napi::Object io = iv.As<Napi::Object>();
    opcodes[k] = get_i32(env, io.Get("opcode"), "opcode of instruction", k);
    ins[k] = get_i32_list(env, io.Get("inputs"), "inputs", k);
    outs[k] = get_i32_list(env, io.Get("outputs"), "outputs", k);
    Napi::Value ia_v = io.Get("iattr"), fa_v = io.Get("fattr");
    if (!ia_v.IsUndefined()) {
      ST_REQUIRE_ARG(env, ia_v.IsArray(), "createProgram: instruction %u iattr must be an array", k);
      auto a = ia_v.As<Napi::Array>();
      iattrs[k].resize(a.Length());
      for (uint32_t j = 0; j < a.Length(); j++) {
        Napi::Value e = a.Get(j);
        ST_REQUIRE_ARG(env, e.IsNumber(), "createProgram: instruction %u int attribute %u is not a number", k, j);
        const double x = e.As<Napi::Number>().DoubleValue();
        ST_REQUIRE_ARG(env, x == (double)(int64_t)x && x > -9007199254740992.0 && x < 9007199254740992.0,
                       "createProgram: instruction %u int attribute %u is %g, not an integer", k, j, x);
        iattrs[k][j] = (int64_t)x;
      }
    }
    if (!fa_v.IsUndefined()) {
      ST_REQUIRE_ARG(env, fa_v.IsArray(), "createProgram: instruction %u fattr must be an array", k);
      auto a = fa_v.As<Napi::Array>();
      fattrs[k].resize(a.Length());
      for (uint32_t j = 0; j < a.Length(); j++) {
        Napi::Value e = a.Get(j);
        ST_REQUIRE_ARG(env, e.IsNumber(), "createProgram: instruction %u float attribute %u is not a number", k, j);
        fattrs[k][j] = e.As<Napi::Number>().DoubleValue();
      }
    }
    instrs[k] = st_program_instr{opcodes[k],          (int32_t)ins[k].size(),   (int32_t)outs[k].size(),
                                 ins[k].data(),       outs[k].data(),           iattrs[k].data(),
                                 (int32_t)iattrs[k].size(), fattrs[k].data(), (int32_t)fattrs[k].size()};
  }

  std::vector<int32_t> copies(2 * (size_t)copies_a.Length());
  for (uint32_t c = 0; c < copies_a.Length(); c++) {
    Napi::Value cv = copies_a.Get(c);
    ST_REQUIRE_ARG(env, cv.IsArray() && cv.As<Napi::Array>().Length() == 2,
                   "createProgram: copy %u must be a [dst, src] pair", c);
    auto pair = cv.As<Napi::Array>();
    copies[2 * c] = get_i32(env, pair.Get(0u), "destination slot of copy", c);
    copies[2 * c + 1] = get_i32(env, pair.Get(1u), "source slot of copy", c);
  }

  st_status st{};
  st_program *prog = st_program_new(slots.data(), (int32_t)n_slots, (int64_t)arena_d, instrs.data(), (int32_t)n_instrs,
                                    copies.data(), (int32_t)copies_a.Length(), &st);
  if (!prog) throw program_error(env, st, opcodes);

  auto state = std::make_shared<ProgramState>();
  state->prog = prog;
  state->buffers = env.GetInstanceData<AddonData>()->buffers;
  state->arena_bytes = (int64_t)arena_d;
  state->opcodes = std::move(opcodes);
  for (uint32_t i = 0; i < n_slots; i++) {
    const st_slot_desc &s = slots[i];
    if (s.kind == ST_SLOT_INPUT) state->inputs.push_back({(int32_t)i, s.dtype, slot_numel(s)});
    if (s.kind == ST_SLOT_OUTPUT) state->outputs.push_back({(int32_t)i, s.dtype, slot_numel(s)});
    if (s.kind == ST_SLOT_BOUND) {
      if (bound_bufs[i]) pin(bound_bufs[i]);
      state->bound.push_back({(int32_t)i, bound_bufs[i], Napi::Persistent(bound_a.Get(i))});
    }
  }
  state->in_ptrs.assign(state->inputs.size(), nullptr);
  state->out_ptrs.assign(state->outputs.size(), nullptr);
  state->out_bufs.assign(state->outputs.size(), nullptr);
  {
    std::vector<std::pair<int32_t, int64_t>> sizes;
    for (const IoSlot &io : state->outputs) sizes.push_back({io.dtype, io.numel});
    state->inline_count = plan_inline(sizes, &state->inline_off, kStageBytes, &state->inline_bytes);
  }
  if (state->arena_bytes) Napi::MemoryManagement::AdjustExternalMemory(env, state->arena_bytes);

  auto *box = new ProgramBox{std::move(state)};
  auto ext = Napi::External<ProgramBox>::New(env, box, [](Napi::Env env, ProgramBox *box) {
    ProgramState &s = *box->state;
    if (s.in_flight == 0)
      s.free_now(env);
    else
      s.dispose_requested = true;  // not reachable while a run holds the external; kept for safety
    delete box;
  });
  ext.TypeTag(&kProgramTag);
  return ext;
}

// ---- running ----

// Checks the inputs against the INPUT slots and every bound buffer, then allocates the outputs: a
// NativeBuffer each, or for a small one a view of `stage` (an ArrayBuffer whose data is
// stage_data; see kInlineMaxBytes).  Fills in_ptrs/out_ptrs/out_bufs (sized by the caller; out_bufs
// null for the small ones) and returns the outputs array.
Napi::Array prepare_run(Napi::Env env, ProgramState &s, const Napi::Value &inputs_v, void **in_ptrs, void **out_ptrs,
                        NativeBuffer **out_bufs, const char *what, Napi::Array *inputs_out, napi_value stage,
                        uint8_t *stage_data, const std::vector<napi_ref> *views) {
  ST_REQUIRE_ARG(env, inputs_v.IsArray(), "%s: inputs must be an array", what);
  Napi::Array inputs = inputs_v.As<Napi::Array>();
  const size_t n_in = s.inputs.size(), n_out = s.outputs.size();
  ST_REQUIRE_ARG(env, inputs.Length() == n_in, "%s: expected %zu inputs, got %u", what, n_in, inputs.Length());
  for (uint32_t i = 0; i < n_in; i++) {
    TensorRef b;
    ST_REQUIRE_ARG(env, get_tensor(env, inputs.Get(i), &b), "%s: input %u is not a tensor buffer", what, i);
    if (b.nb && b.nb->disposed && !b.nb->free_pending)  // pinned buffers keep their memory until unpinned
      throw_error(env, ST_ERR_DISPOSED, std::string(what) + ": input " + std::to_string(i) + " is disposed");
    const IoSlot &io = s.inputs[i];
    if (b.dtype != io.dtype || b.numel != io.numel)
      throw_error(env, b.dtype != io.dtype ? ST_ERR_DTYPE : ST_ERR_SHAPE,
                  std::string(what) + ": input " + std::to_string(i) + ": expected " +
                      describe_slot(st_program_slot(s.prog, io.slot), io.numel) + ", got " + st_dtype_name(b.dtype) +
                      " with " + std::to_string(b.numel) + " elements");
    in_ptrs[i] = b.data;
  }
  for (const BoundRef &b : s.bound)
    if (b.buf && b.buf->disposed && !b.buf->free_pending)
      throw_error(env, ST_ERR_DISPOSED,
                  std::string(what) + ": the buffer bound to slot " + std::to_string(b.slot) +
                      " (a shared variable or constant) is disposed");
  Napi::Array result = Napi::Array::New(env, n_out);
  size_t made = 0;
  try {
    for (; made < n_out; made++) {
      const IoSlot &io = s.outputs[made];
      const int64_t off = s.inline_off[made];
      if (off >= 0) {
        out_bufs[made] = nullptr;
        out_ptrs[made] = stage_data + off;
        napi_value view = nullptr;
        if (views) NAPI_THROW_IF_FAILED(env, napi_get_reference_value(env, (*views)[made], &view), Napi::Array());
        if (!view) view = inline_view(env, stage, io.dtype, io.numel, (size_t)off);
        result.Set((uint32_t)made, Napi::Value(env, view));
        continue;
      }
      auto ext = make_buffer(env, io.dtype, io.numel, what);
      out_bufs[made] = ext.Data();
      out_ptrs[made] = ext.Data()->data;
      result.Set((uint32_t)made, ext);
    }
  } catch (...) {
    for (size_t j = 0; j < made; j++)
      if (out_bufs[j]) release(env, out_bufs[j]);
    throw;
  }
  if (inputs_out) *inputs_out = inputs;
  return result;
}

// A new staging ArrayBuffer of `bytes` for small results; its data in *data.
napi_value new_stage(Napi::Env env, size_t bytes, uint8_t **data) {
  void *p = nullptr;
  napi_value ab;
  NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, std::max<size_t>(bytes, 8), &p, &ab), napi_value());
  *data = static_cast<uint8_t *>(p);
  return ab;
}

// runProgram(program, inputs: buffer[]) -> outputs: buffer[]
Napi::Value RunProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 2, "runProgram: expected (program, inputs)");
  ProgramState &s = *get_program(env, info[0], "runProgram", true);
  if (s.stage.IsEmpty() && s.inline_count) {
    uint8_t *data = nullptr;
    napi_value ab = new_stage(env, s.inline_bytes, &data);
    s.stage = Napi::Persistent(Napi::Value(env, ab));
    s.stage_data = data;
    s.stage_views.assign(s.outputs.size(), nullptr);
    for (size_t i = 0; i < s.outputs.size(); i++) {
      if (s.inline_off[i] < 0) continue;
      napi_value view = inline_view(env, ab, s.outputs[i].dtype, s.outputs[i].numel, (size_t)s.inline_off[i]);
      NAPI_THROW_IF_FAILED(env, napi_create_reference(env, view, 1, &s.stage_views[i]), Napi::Value());
    }
  }
  Napi::Array result = prepare_run(env, s, info[1], s.in_ptrs.data(), s.out_ptrs.data(), s.out_bufs.data(),
                                   "runProgram", nullptr, s.stage.IsEmpty() ? nullptr : (napi_value)s.stage.Value(),
                                   s.stage_data, s.stage.IsEmpty() ? nullptr : &s.stage_views);
  st_ctx ctx{env.GetInstanceData<AddonData>()->pool};
  st_status st;
  st_code rc;
  {
    std::lock_guard<std::mutex> lock(s.run_mu);
    rc = st_program_run(s.prog, &ctx, s.in_ptrs.data(), s.out_ptrs.data(), &st);
  }
  if (rc != ST_OK) {
    for (NativeBuffer *b : s.out_bufs)
      if (b) release(env, b);
    throw program_error(env, st, s.opcodes);
  }
  return result;
}

// One async run.  Execute() sees only raw pointers; `keep` holds the program external, the input
// externals and the outputs array until the run completes.
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Function cb, std::shared_ptr<ProgramState> s, st_pool *pool)
      : Napi::AsyncWorker(cb, "symtensor.runProgram"), s_(std::move(s)), pool_(pool) {
    in_ptrs_.assign(s_->inputs.size(), nullptr);
    out_ptrs_.assign(s_->outputs.size(), nullptr);
    out_bufs_.assign(s_->outputs.size(), nullptr);
  }

  // The outputs array `keep_` holds also holds this run's staging area (its views' buffer); JS-owned
  // inputs need no pin, since `keep_` holds them.
  void prepare(Napi::Env env, const Napi::Value &prog, const Napi::Value &inputs_v) {
    Napi::Array inputs;
    uint8_t *stage_data = nullptr;
    napi_value stage = s_->inline_count ? new_stage(env, s_->inline_bytes, &stage_data) : nullptr;
    Napi::Array result = prepare_run(env, *s_, inputs_v, in_ptrs_.data(), out_ptrs_.data(), out_bufs_.data(),
                                     "runProgramAsync", &inputs, stage, stage_data, nullptr);
    Napi::Array keep = Napi::Array::New(env, 2 + inputs.Length());
    keep.Set(0u, prog);
    keep.Set(1u, result);
    for (uint32_t i = 0; i < inputs.Length(); i++) {
      keep.Set(2 + i, inputs.Get(i));
      TensorRef r;
      get_tensor(env, inputs.Get(i), &r);  // prepare_run accepted it
      if (!r.nb) continue;
      pin(r.nb);  // a dispose() during the run must not free what the worker reads
      pinned_.push_back(r.nb);
    }
    keep_ = Napi::Persistent(keep.As<Napi::Object>());
  }

  void unpin_inputs(Napi::Env env) {
    for (NativeBuffer *b : pinned_) unpin(env, b);
    pinned_.clear();
  }

  void release_outputs(Napi::Env env) {
    for (NativeBuffer *b : out_bufs_)
      if (b) release(env, b);
  }

 protected:
  void Execute() override {
    st_ctx ctx{pool_};
    std::lock_guard<std::mutex> lock(s_->run_mu);
    rc_ = st_program_run(s_->prog, &ctx, in_ptrs_.data(), out_ptrs_.data(), &st_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    ProgramState &s = *s_;
    s.in_flight--;
    unpin_inputs(env);
    if (rc_ != ST_OK) release_outputs(env);
    // While a worker thread's environment is being torn down no JS can run and nothing can be thrown
    // into it; node-addon-api would then abort on the rethrow, so errors are handed over (or dropped)
    // here instead.
    try {
      if (!s.pending.empty()) {
        RunWorker *next = s.pending.front();
        s.pending.pop_front();
        next->Queue();
      } else {
        s.worker_active = false;
      }
      if (s.in_flight == 0 && s.dispose_requested) s.free_now(env);
      if (rc_ != ST_OK)
        Callback().Call({program_error(env, st_, s.opcodes).Value()});
      else
        Callback().Call({env.Null(), keep_.Value().Get(1u)});
    } catch (const Napi::Error &e) {
      napi_value v = e.Value();
      if (v) napi_throw(env, v);  // the callback threw: it surfaces as an uncaught exception
    }
  }

 private:
  std::shared_ptr<ProgramState> s_;
  st_pool *pool_;
  std::vector<void *> in_ptrs_, out_ptrs_;
  std::vector<NativeBuffer *> out_bufs_, pinned_;
  Napi::ObjectReference keep_;
  st_status st_{};
  st_code rc_ = ST_OK;
};

// runProgramAsync(program, inputs: buffer[], callback(err, outputs)) -> undefined
// Argument errors throw synchronously; run errors go to the callback.
Napi::Value RunProgramAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 3 && info[2].IsFunction(), "runProgramAsync: expected (program, inputs, callback)");
  get_program(env, info[0], "runProgramAsync", true);
  std::shared_ptr<ProgramState> sp = info[0].As<Napi::External<ProgramBox>>().Data()->state;
  auto *w = new RunWorker(info[2].As<Napi::Function>(), sp, env.GetInstanceData<AddonData>()->pool);
  try {
    w->prepare(env, info[0], info[1]);
  } catch (...) {
    delete w;
    throw;
  }
  ProgramState &s = *sp;
  s.in_flight++;
  if (s.worker_active) {
    s.pending.push_back(w);
  } else {
    s.worker_active = true;
    w->Queue();
  }
  return env.Undefined();
}

// ---- lifetime and profiling ----

// disposeProgram(program): frees now, or when the runs in flight complete.  Idempotent.
Napi::Value DisposeProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 1, "disposeProgram: expected (program)");
  ProgramState &s = *get_program(env, info[0], "disposeProgram", false);
  s.dispose_requested = true;
  if (s.in_flight == 0) s.free_now(env);
  return env.Undefined();
}

// setProgramProfile(program, on: boolean)
Napi::Value SetProgramProfile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 2 && info[1].IsBoolean(), "setProgramProfile: expected (program, on)");
  ProgramState &s = *get_program(env, info[0], "setProgramProfile", true);
  std::lock_guard<std::mutex> lock(s.run_mu);
  st_program_set_profile(s.prog, info[1].As<Napi::Boolean>().Value() ? 1 : 0);
  return env.Undefined();
}

// programProfile(program) -> { ns: Float64Array, counts: Float64Array } (one entry per instruction)
Napi::Value ProgramProfile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 1, "programProfile: expected (program)");
  ProgramState &s = *get_program(env, info[0], "programProfile", true);
  const size_t n = s.opcodes.size();
  auto ns = Napi::Float64Array::New(env, n);
  auto counts = Napi::Float64Array::New(env, n);
  std::vector<int64_t> c(n);
  {
    std::lock_guard<std::mutex> lock(s.run_mu);
    st_program_profile(s.prog, ns.Data(), c.data());
  }
  for (size_t k = 0; k < n; k++) counts[k] = (double)c[k];
  Napi::Object o = Napi::Object::New(env);
  o.Set("ns", ns);
  o.Set("counts", counts);
  return o;
}

}  // namespace

void init_program(Napi::Env env, Napi::Object exports) {
  exports.Set("createProgram", Napi::Function::New(env, CreateProgram, "createProgram"));
  exports.Set("runProgram", Napi::Function::New(env, RunProgram, "runProgram"));
  exports.Set("runProgramAsync", Napi::Function::New(env, RunProgramAsync, "runProgramAsync"));
  exports.Set("disposeProgram", Napi::Function::New(env, DisposeProgram, "disposeProgram"));
  exports.Set("setProgramProfile", Napi::Function::New(env, SetProgramProfile, "setProgramProfile"));
  exports.Set("programProfile", Napi::Function::New(env, ProgramProfile, "programProfile"));
}

}  // namespace stb
