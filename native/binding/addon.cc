// N-API glue: argument checks, native buffers owned by JS externals, and instruction execution.
// Only native/binding/ includes napi.h.  Everything here re-checks what lib/ already validated,
// cheaply: counts, dtype codes, byte lengths, disposed buffers.
#include <algorithm>
#include <thread>
#include <vector>

#include "buffers.h"
#include "symtensor_collectives.h"

namespace stb {

// ---- reclaiming buffers the GC found dead ----
//
// V8 clears a weak reference during the collection that finds its object dead, scavenges
// included, while Node runs finalizers only later from the event loop.  So a sweep, not a
// finalizer, frees a dropped tensor's memory: it runs inside allocations, once enough buffers or
// bytes were allocated since the last one (amortized O(1) per allocation), and hands the memory
// straight back to the block cache, so the next allocation of that size reuses it warm.
//
// V8 paces its collections by its own heap alone, and a dropped result's wrapper is a few dozen
// bytes of it: left to V8, a loop that drops multi-MB results holds hundreds of MB of them, and
// cycles through that much cold memory where the same loop disposing its results reuses one warm
// block.  So once the memory held grew by kScavengeBytes, or by four times the allocation's size
// if that is more (or the buffers by kScavengeCount), since the last scavenge, the allocation runs
// one (lib/native.ts registers it; a fraction of a millisecond: the wrappers of results dropped
// since are young, and it clears their weak references) and sweeps the buffers made since the
// scavenge before it, so the allocation reuses a dropped result's block.  Code that disposes what
// it drops holds nothing more and never triggers one; code that keeps what it allocates triggers
// fewer and fewer (scavenge_and_sweep).
//
// Every buffer that outlives two scavenges is reported to V8 as external memory (buffers.h,
// report_external), so V8 starts (incremental) collections as it grows, the same as for its own
// heap.  They can lag behind a loop that allocates large tensors fast; as a backstop, when the
// memory held still exceeds max(kCollectFloor, twice what was live after the last forced
// collection) after a sweep, the sweep forces one: reporting more external memory than V8's hard
// limit makes it collect at once; that report is withdrawn right after.

namespace {
constexpr size_t kSweepMinCount = 1024;                 // allocations between sweeps, at least
constexpr int64_t kSweepMinBytes = int64_t(32) << 20;   // bytes allocated between sweeps, at least
constexpr int64_t kCollectFloor = int64_t(256) << 20;   // held bytes that never force a collection
constexpr int64_t kPressure = int64_t(1) << 42;         // beyond any heap's external hard limit
constexpr size_t kExecStageBytes = 4096;                // exec's staging area for small results
constexpr int64_t kScavengeBytes = int64_t(16) << 20;   // growth of the memory held that scavenges
constexpr int64_t kScavengeCount = 1024;                // growth of the buffers held that scavenges
constexpr int64_t kScavengeBackoff = 16;                // at most this many times those

void force_collection(napi_env env) {
  int64_t ignored;
  napi_adjust_external_memory(env, kPressure, &ignored);
  napi_adjust_external_memory(env, -kPressure, &ignored);
}

// Runs the registered young-generation collection.  Not while an exception is pending: the call
// would not run, and clearing its failure would lose that exception.
void scavenge(napi_env env, BufferRegistry &r) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn = nullptr, recv = nullptr, result = nullptr;
  if (napi_get_reference_value(env, r.scavenger, &fn) == napi_ok && fn && napi_get_undefined(env, &recv) == napi_ok &&
      napi_call_function(env, recv, fn, 0, nullptr, &result) != napi_ok) {
    napi_value ignored;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
  }
  napi_close_handle_scope(env, scope);
}

// Frees the buffers from r.all[from] on whose externals were collected, keeping the others in
// order; *mark, an index at or after `from`, follows its record.  Survivors before `old_end`
// (records older than the last scavenge: their externals, alive after two scavenges, are in V8's
// old generation now) are reported to V8 as external memory.
void sweep_from(napi_env env, BufferRegistry &r, size_t from, size_t *mark, size_t old_end) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  size_t kept = from;
  const size_t old_mark = *mark;
  for (size_t i = from; i < r.all.size(); i++) {
    if (i == old_mark) *mark = kept;
    NativeBuffer *b = r.all[i];
    bool dead = true;
    if (b->weak) {
      napi_value v = nullptr;
      dead = napi_get_reference_value(env, b->weak, &v) == napi_ok && v == nullptr;
    }
    if (dead && b->pins == 0) {
      free_storage(env, b);
      if (b->weak) napi_delete_reference(env, b->weak);
      delete b;
    } else {
      if (i < old_end) report_external(env, b);
      r.all[kept++] = b;
    }
  }
  if (old_mark >= r.all.size()) *mark = kept;
  r.all.resize(kept);
  napi_close_handle_scope(env, scope);
}

// A scavenge, then a sweep of the buffers it may have found dead: those made since the scavenge
// before it (an object that survived two is in the old generation, which only a full collection
// or V8's own ones clear: the full sweeps look at every buffer).  When most of the growth
// survived twice in a row (code that keeps what it allocates), the next one waits for twice as
// much growth, up to kScavengeBackoff times the least.
void scavenge_and_sweep(napi_env env, BufferRegistry &r, int64_t incoming) {
  const int64_t grown_bytes = r.bytes + incoming - r.young_base_bytes;
  const int64_t grown_tensors = r.tensors - r.young_base_tensors;
  const int64_t bytes0 = r.bytes, tensors0 = r.tensors;
  scavenge(env, r);
  size_t from = std::min(r.young_prev, r.all.size());
  size_t mark = std::min(r.young_last, r.all.size());
  sweep_from(env, r, from, &mark, mark);
  r.young_prev = mark;
  r.young_last = r.all.size();
  r.young_base_bytes = r.bytes;
  r.young_base_tensors = r.tensors;
  const bool kept_most = 4 * (bytes0 - r.bytes) < grown_bytes && 4 * (tensors0 - r.tensors) < grown_tensors;
  // one scavenge can find little while V8 is amid a collection of its own: back off only after two
  r.kept_streak = kept_most ? r.kept_streak + 1 : 0;
  r.young_scale = r.kept_streak >= 2 ? std::min(2 * r.young_scale, kScavengeBackoff) : 1;
}
}  // namespace

BufferRegistry::BufferRegistry()
    : sweep_every(kSweepMinCount), sweep_bytes(kSweepMinBytes), collect_at(kCollectFloor) {}

// Environment teardown: no JS runs any more.  The references belong to the environment, which
// releases them itself.
BufferRegistry::~BufferRegistry() {
  for (NativeBuffer *b : all) {
    if (!b->freed && b->data) st_block_release(cache.get(), b->data, b->bytes);
    delete b;
  }
}

void sweep_buffers(napi_env env, BufferRegistry &r) {
  size_t ignored = r.all.size();
  // with a scavenger, the records before young_prev are the ones that outlived two scavenges
  sweep_from(env, r, 0, &ignored, r.scavenger ? std::min(r.young_prev, r.all.size()) : r.all.size());
  // records moved: the next scavenge's sweep looks at all of them
  r.young_prev = r.young_last = 0;
  const size_t kept = r.all.size();
  r.allocs_since_sweep = 0;
  r.bytes_since_sweep = 0;
  r.sweep_every = std::max(kSweepMinCount, kept / 2);
  r.sweep_bytes = std::max(kSweepMinBytes, r.bytes / 2);
}

void before_alloc(napi_env env, BufferRegistry &r, size_t incoming) {
  r.allocs_since_sweep++;
  r.bytes_since_sweep += (int64_t)incoming;
  // memory goes back only between allocations: here is its lowest level since the last scavenge
  r.young_base_bytes = std::min(r.young_base_bytes, r.bytes);
  r.young_base_tensors = std::min(r.young_base_tensors, r.tensors);
  // at least three allocations of this size between scavenges: a temporary of an eager chain lives
  // until its statement ends (the caller's frame holds it), a loop-carried result until the next
  // statement's, and one that lived through two scavenges is promoted, after which only a full
  // collection finds it dead
  const int64_t least = std::max(kScavengeBytes * r.young_scale, 4 * (int64_t)incoming);
  if (r.scavenger && (r.bytes + (int64_t)incoming - r.young_base_bytes >= least ||
                      r.tensors - r.young_base_tensors >= kScavengeCount * r.young_scale)) {
    scavenge_and_sweep(env, r, (int64_t)incoming);
  } else if (r.allocs_since_sweep < r.sweep_every && r.bytes_since_sweep < r.sweep_bytes) {
    return;
  } else {
    sweep_buffers(env, r);
  }
  const int64_t held = r.bytes + (int64_t)incoming;
  if (held > r.collect_at) {
    force_collection(env);
    sweep_buffers(env, r);
    r.collect_at = std::max(kCollectFloor, 2 * (r.bytes + (int64_t)incoming));
  } else {
    r.collect_at = std::min(r.collect_at, std::max(kCollectFloor, 2 * held));
  }
}

}  // namespace stb

namespace {
using namespace stb;

// alloc(dtype, numel) -> buffer (contents unspecified)
Napi::Value Alloc(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 2, "alloc: expected (dtype, numel)");
  return make_buffer(env, get_dtype(env, info[0], "alloc"), get_count(env, info[1], "alloc"), "alloc");
}

// fromTyped(dtype, typedArray) -> buffer holding a copy of the bytes
Napi::Value FromTyped(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 2 && info[1].IsTypedArray(), "fromTyped: expected (dtype, typedArray)");
  int32_t dtype = get_dtype(env, info[0], "fromTyped");
  auto ta = info[1].As<Napi::TypedArray>();
  size_t esize = st_dtype_size(dtype);
  ST_REQUIRE_ARG(env, ta.ElementSize() == esize, "fromTyped: a %zu-byte element array cannot hold %s",
                 (size_t)ta.ElementSize(), st_dtype_name(dtype));
  size_t n = ta.ElementLength();
  auto ext = make_buffer(env, dtype, (int64_t)n, "fromTyped");
  if (n) {
    const uint8_t *src = static_cast<const uint8_t *>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    std::memcpy(ext.Data()->data, src, n * esize);
  }
  return ext;
}

// read(buffer) -> a new typed array with a copy of the data, in an ArrayBuffer V8 allocates: V8
// frees that memory itself when the array dies (an external ArrayBuffer's finalizer would wait
// for the event loop, so a synchronous loop of dataSync() calls would keep every copy).  V8
// aborts the process when it cannot allocate one, so a large copy is first tried with malloc:
// when memory is short that throws ERR_ST_ALLOC instead.
Napi::Value Read(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 1, "read: expected (buffer)");
  const TensorRef b = unwrap(env, info[0], "read");
  const size_t n = (size_t)b.numel;
  const size_t bytes = n * st_dtype_size(b.dtype);
  const auto oom = [&]() {
    throw_error(env, ST_ERR_ALLOC, "read: out of memory copying " + std::to_string(n) + " elements of " +
                                       st_dtype_name(b.dtype) + " (" + std::to_string(bytes) + " bytes) to JS");
  };
  constexpr size_t kProbeAbove = 64 * 1024;
  if (bytes > kProbeAbove) {
    void *probe = std::malloc(bytes);
    if (!probe) oom();
    std::free(probe);
  }
  void *copy = nullptr;
  napi_value ab_v;
  if (napi_create_arraybuffer(env, bytes, &copy, &ab_v) != napi_ok) oom();
  if (bytes) std::memcpy(copy, b.data, bytes);
  auto ab = Napi::ArrayBuffer(env, ab_v);
  switch (b.dtype) {
    case ST_F64: return Napi::Float64Array::New(env, n, ab, 0);
    case ST_I32: return Napi::Int32Array::New(env, n, ab, 0);
    case ST_BOOL: return Napi::Uint8Array::New(env, n, ab, 0);
    default: return Napi::Float32Array::New(env, n, ab, 0);
  }
}

// dispose(buffer): a JS-owned (typed array) tensor has nothing native to free.
Napi::Value Dispose(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TensorRef r;
  ST_REQUIRE_ARG(env, info.Length() == 1 && get_tensor(env, info[0], &r), "dispose: expected a tensor buffer");
  if (r.nb) release(env, r.nb);
  return env.Undefined();
}

// copyInto(dst, src): overwrite dst's bytes with src's (same dtype and element count)
Napi::Value CopyInto(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 2, "copyInto: expected (dst, src)");
  const TensorRef dst = unwrap(env, info[0], "copyInto");
  const TensorRef src = unwrap(env, info[1], "copyInto");
  ST_REQUIRE_ARG(env, dst.dtype == src.dtype && dst.numel == src.numel,
                 "copyInto: cannot copy %lld %s elements into %lld %s elements", (long long)src.numel,
                 st_dtype_name(src.dtype), (long long)dst.numel, st_dtype_name(dst.dtype));
  const size_t bytes = (size_t)dst.numel * st_dtype_size(dst.dtype);
  if (dst.data != src.data && bytes) std::memmove(dst.data, src.data, bytes);
  return env.Undefined();
}

// pin(buffer) / unpin(buffer): while pinned, dispose() defers freeing (queued async calls).  A
// JS-owned tensor needs no pin: whoever would pin it holds the array, which keeps its memory.
Napi::Value Pin(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 1, "pin: expected (buffer)");
  const TensorRef r = unwrap(env, info[0], "pin");
  if (r.nb) pin(r.nb);
  return env.Undefined();
}

Napi::Value Unpin(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TensorRef r;
  ST_REQUIRE_ARG(env, info.Length() == 1 && get_tensor(env, info[0], &r), "unpin: expected (buffer)");
  if (!r.nb) return env.Undefined();
  ST_REQUIRE_ARG(env, r.nb->pins > 0, "unpin: buffer is not pinned");
  unpin(env, r.nb);
  return env.Undefined();
}

// isDisposed(buffer): JS tracks the disposal of JS-owned tensors itself (always false here).
Napi::Value IsDisposed(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TensorRef r;
  ST_REQUIRE_ARG(env, info.Length() == 1 && get_tensor(env, info[0], &r), "isDisposed: expected a tensor buffer");
  return Napi::Boolean::New(env, r.nb && r.nb->disposed);
}

Napi::Value Memory(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  BufferRegistry &r = *env.GetInstanceData<AddonData>()->buffers;
  sweep_buffers(env, r);  // what the GC already collected is not live
  Napi::Object o = Napi::Object::New(env);
  o.Set("numTensors", Napi::Number::New(env, (double)r.tensors));
  o.Set("numBytes", Napi::Number::New(env, (double)r.bytes));
  return o;
}

// setCollector(fn | null): a function that runs a young-generation collection, which allocations
// call once the memory held grew enough to be worth looking for dropped results (before_alloc).
Napi::Value SetCollector(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 1 && (info[0].IsFunction() || info[0].IsNull()),
                 "setCollector: expected (function or null)");
  BufferRegistry &r = *env.GetInstanceData<AddonData>()->buffers;
  if (r.scavenger) napi_delete_reference(env, r.scavenger);
  r.scavenger = nullptr;
  if (info[0].IsFunction()) NAPI_THROW_IF_FAILED(env, napi_create_reference(env, info[0], 1, &r.scavenger), Napi::Value());
  r.young_base_bytes = r.bytes;
  r.young_base_tensors = r.tensors;
  return env.Undefined();
}

Napi::Value BackendInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  AddonData *ad = env.GetInstanceData<AddonData>();
  Napi::Object o = Napi::Object::New(env);
  o.Set("gemm", Napi::String::New(env, st_gemm_backend()));
  o.Set("threads", Napi::Number::New(env, st_pool_threads(ad->pool)));
  o.Set("simd", Napi::String::New(env, st_simd_info()));
  o.Set("opCount", Napi::Number::New(env, ST_OP_COUNT));
  o.Set("ewCount", Napi::Number::New(env, ST_EW_COUNT));
  return o;
}

void read_shape(Napi::Env env, const Napi::Value &v, st_tensor *t, const char *op, const char *role, size_t i) {
  ST_REQUIRE_ARG(env, v.IsArray(), "%s: %s %zu shape must be an array", op, role, i);
  auto a = v.As<Napi::Array>();
  ST_REQUIRE_ARG(env, a.Length() <= ST_MAX_DIMS, "%s: %s %zu has rank %u (at most %d)", op, role, i,
                 (unsigned)a.Length(), ST_MAX_DIMS);
  t->ndim = (int32_t)a.Length();
  for (uint32_t d = 0; d < a.Length(); d++) {
    Napi::Value e = a.Get(d);
    ST_REQUIRE_ARG(env, e.IsNumber(), "%s: %s %zu shape entry %u is not a number", op, role, i, d);
    double x = e.As<Napi::Number>().DoubleValue();
    ST_REQUIRE_ARG(env, x >= 0 && x == (double)(int64_t)x && x < 9007199254740992.0,
                   "%s: %s %zu shape entry %u is %g (must be a non-negative integer)", op, role, i, d, x);
    t->shape[d] = (int64_t)x;
  }
}

// Refuses a shape whose element count overflows or whose bytes exceed the limit, before anything
// multiplies its dims (st_numel) or allocates for it.
void require_addressable(Napi::Env env, const st_tensor &t, const char *op, const char *role, size_t i) {
  if (st_shape_bytes(t.dtype, t.ndim, t.shape) >= 0) return;
  char shape[192];
  st_shape_str(&t, shape, sizeof shape);
  char msg[320];
  snprintf(msg, sizeof msg, "%s: %s %zu of shape %s is too large (more than 2^%d bytes of %s)", op, role, i, shape,
           (int)ST_MAX_BYTES_LOG2, st_dtype_name(t.dtype));
  throw_error(env, ST_ERR_ALLOC, msg);
}

// exec(opcode, inBuffers[], inShapes[][], outDtypes[], outShapes[][], iattr: number[], fattr: number[]
//      [, into: (buffer | null)[]]) -> output buffers[]
// `into` gives ELEMWISE an existing buffer for an output (the eager path reuses a temporary's
// block: lib/tensor/tensor.ts).  Such a buffer must be a live, unpinned native buffer of the
// output's dtype and size; an input that is the same buffer must have the output's shape, so each
// element is read before it is overwritten (the ELEMWISE kernel reads a block of every input
// before it stores that block).
Napi::Value Exec(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 7 || info.Length() == 8, "exec: expected 7 or 8 arguments, got %zu",
                 info.Length());
  ST_REQUIRE_ARG(env, info[0].IsNumber(), "exec: opcode must be a number");
  int32_t opcode = info[0].As<Napi::Number>().Int32Value();
  ST_REQUIRE_ARG(env, opcode >= 0 && opcode < ST_OP_COUNT, "exec: invalid opcode %d", (int)opcode);
  const char *op = st_op_name(opcode);
  for (int k = 1; k <= 6; k++) ST_REQUIRE_ARG(env, info[k].IsArray(), "%s: argument %d must be an array", op, k);
  auto in_bufs = info[1].As<Napi::Array>(), in_shapes = info[2].As<Napi::Array>();
  auto out_dtypes = info[3].As<Napi::Array>(), out_shapes = info[4].As<Napi::Array>();
  auto iattr_a = info[5].As<Napi::Array>(), fattr_a = info[6].As<Napi::Array>();
  ST_REQUIRE_ARG(env, in_bufs.Length() == in_shapes.Length(), "%s: %u input buffers but %u shapes", op,
                 in_bufs.Length(), in_shapes.Length());
  ST_REQUIRE_ARG(env, out_dtypes.Length() == out_shapes.Length(), "%s: %u output dtypes but %u shapes", op,
                 out_dtypes.Length(), out_shapes.Length());
  ST_REQUIRE_ARG(env, in_bufs.Length() <= 4096 && out_dtypes.Length() <= 4096, "%s: too many tensors", op);

  std::vector<st_tensor> ins(in_bufs.Length()), outs(out_dtypes.Length());
  for (uint32_t i = 0; i < in_bufs.Length(); i++) {
    const TensorRef b = unwrap(env, in_bufs.Get(i), op);
    read_shape(env, in_shapes.Get(i), &ins[i], op, "input", i);
    ins[i].dtype = b.dtype;
    ins[i].data = b.data;
    require_addressable(env, ins[i], op, "input", i);
    ST_REQUIRE_ARG(env, st_numel(&ins[i]) == b.numel, "%s: input %u shape has %lld elements but its buffer %lld", op, i,
                   (long long)st_numel(&ins[i]), (long long)b.numel);
  }
  std::vector<int64_t> iattr(iattr_a.Length());
  for (uint32_t i = 0; i < iattr_a.Length(); i++) {
    Napi::Value e = iattr_a.Get(i);
    ST_REQUIRE_ARG(env, e.IsNumber(), "%s: int attribute %u is not a number", op, i);
    double x = e.As<Napi::Number>().DoubleValue();
    ST_REQUIRE_ARG(env, x == (double)(int64_t)x, "%s: int attribute %u is %g, not an integer", op, i, x);
    iattr[i] = (int64_t)x;
  }
  std::vector<double> fattr(fattr_a.Length());
  for (uint32_t i = 0; i < fattr_a.Length(); i++) {
    Napi::Value e = fattr_a.Get(i);
    ST_REQUIRE_ARG(env, e.IsNumber(), "%s: float attribute %u is not a number", op, i);
    fattr[i] = e.As<Napi::Number>().DoubleValue();
  }
  Napi::Array result = Napi::Array::New(env, outs.size());
  std::vector<std::pair<int32_t, int64_t>> out_sizes(outs.size());
  for (uint32_t i = 0; i < outs.size(); i++) {
    read_shape(env, out_shapes.Get(i), &outs[i], op, "output", i);
    outs[i].dtype = get_dtype(env, out_dtypes.Get(i), op);
    require_addressable(env, outs[i], op, "output", i);
    out_sizes[i] = {outs[i].dtype, st_numel(&outs[i])};
  }
  // small results go to the staging area (their views are copied out by JS right away)
  AddonData *ad = env.GetInstanceData<AddonData>();
  std::vector<int64_t> inline_off;
  size_t stage_bytes = 0;
  if (plan_inline(out_sizes, &inline_off, kExecStageBytes, &stage_bytes) && ad->exec_stage.IsEmpty()) {
    void *data = nullptr;
    napi_value ab;
    NAPI_THROW_IF_FAILED(env, napi_create_arraybuffer(env, kExecStageBytes, &data, &ab), Napi::Value());
    ad->exec_stage = Napi::Persistent(Napi::Value(env, ab));
    ad->exec_stage_data = static_cast<uint8_t *>(data);
  }
  // the buffers given for outputs (none by default)
  std::vector<NativeBuffer *> into(outs.size(), nullptr);
  if (info.Length() == 8 && !info[7].IsUndefined()) {
    ST_REQUIRE_ARG(env, info[7].IsArray(), "%s: argument 7 must be an array", op);
    auto into_a = info[7].As<Napi::Array>();
    ST_REQUIRE_ARG(env, into_a.Length() == outs.size(), "%s: %u output buffers given for %zu outputs", op,
                   into_a.Length(), outs.size());
    for (uint32_t i = 0; i < outs.size(); i++) {
      Napi::Value e = into_a.Get(i);
      if (e.IsNull() || e.IsUndefined()) continue;
      ST_REQUIRE_ARG(env, opcode == ST_OP_ELEMWISE, "%s: only ELEMWISE writes into given buffers", op);
      const TensorRef t = unwrap(env, e, op);
      ST_REQUIRE_ARG(env, t.nb != nullptr && !t.nb->disposed, "%s: output %u must be a live native buffer", op, i);
      ST_REQUIRE_ARG(env, t.nb->pins == 0, "%s: output %u buffer is in use by a program or a queued call", op, i);
      ST_REQUIRE_ARG(env, t.dtype == outs[i].dtype && t.numel == out_sizes[i].second,
                     "%s: output %u is %lld elements of %s, the given buffer %lld of %s", op, i,
                     (long long)out_sizes[i].second, st_dtype_name(outs[i].dtype), (long long)t.numel,
                     st_dtype_name(t.dtype));
      for (uint32_t k = 0; k < i; k++)
        ST_REQUIRE_ARG(env, into[k] != t.nb, "%s: outputs %u and %u are given the same buffer", op, k, i);
      for (size_t k = 0; k < ins.size(); k++) {
        if (ins[k].data != t.data || !t.data) continue;
        bool same = ins[k].ndim == outs[i].ndim;
        for (int d = 0; same && d < outs[i].ndim; d++) same = ins[k].shape[d] == outs[i].shape[d];
        ST_REQUIRE_ARG(env, same, "%s: input %zu is output %u's buffer but has another shape", op, k, i);
      }
      into[i] = t.nb;
    }
  }
  std::vector<NativeBuffer *> out_native;
  try {
    for (uint32_t i = 0; i < outs.size(); i++) {
      if (into[i]) {
        outs[i].data = into[i]->data;
        result.Set(i, info[7].As<Napi::Array>().Get(i));
        continue;
      }
      if (inline_off[i] >= 0) {
        outs[i].data = ad->exec_stage_data + inline_off[i];
        result.Set(i, inline_view(env, ad->exec_stage.Value(), outs[i].dtype, out_sizes[i].second, (size_t)inline_off[i]));
        continue;
      }
      auto ext = make_buffer(env, outs[i].dtype, out_sizes[i].second, op);
      out_native.push_back(ext.Data());
      outs[i].data = ext.Data()->data;
      result.Set(i, ext);
    }
  } catch (...) {
    for (NativeBuffer *b : out_native) release(env, b);
    throw;
  }
  st_instr instr{opcode,        (int32_t)ins.size(), (int32_t)outs.size(), ins.data(),
                 outs.data(),   iattr.data(),        (int32_t)iattr.size(), fattr.data(),
                 (int32_t)fattr.size()};
  st_ctx ctx{env.GetInstanceData<AddonData>()->pool};
  st_status status{};
  st_code rc = st_exec(&ctx, &instr, &status);
  if (rc != ST_OK) {
    for (NativeBuffer *b : out_native) release(env, b);
    status.instr = -1;  // a single instruction, not one of a program
    throw status_error(env, status, op);
  }
  return result;
}

// setCollectives(table | null): registers the collectives table another addon (the MPI one) built,
// carried in a type-tagged External, or removes it.  The table is checked (version, layout, every
// function, rank/size) before it is used.
Napi::Value SetCollectives(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ST_REQUIRE_ARG(env, info.Length() == 1, "setCollectives: expected (table or null), got %zu arguments", info.Length());
  char err[256] = {0};
  if (info[0].IsNull() || info[0].IsUndefined()) {
    st_set_collectives(nullptr, err, sizeof err);
    return env.Undefined();
  }
  static const napi_type_tag kTag = {ST_COLLECTIVES_TAG_LOWER, ST_COLLECTIVES_TAG_UPPER};
  ST_REQUIRE_ARG(env, info[0].IsExternal() && info[0].As<Napi::External<st_collectives>>().CheckTypeTag(&kTag),
                 "setCollectives: expected the collectives table External of a symtensor collectives addon");
  const int32_t rc = st_set_collectives(info[0].As<Napi::External<st_collectives>>().Data(), err, sizeof err);
  if (rc != ST_OK) throw_error(env, rc > 0 && rc < ST_CODE_COUNT ? (st_code)rc : ST_ERR_INTERNAL, std::string("setCollectives: ") + err);
  return env.Undefined();
}

int default_threads() {
  const char *s = std::getenv("SYMTENSOR_NUM_THREADS");
  if (s && *s) {
    int n = std::atoi(s);
    if (n >= 1 && n <= 1024) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? (int)hc : 1;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto *ad = new AddonData();
  ad->pool = st_pool_new(default_threads());
  env.SetInstanceData<AddonData>(ad);  // deleted (and the pool joined) when this env goes away
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("fromTyped", Napi::Function::New(env, FromTyped, "fromTyped"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("dispose", Napi::Function::New(env, Dispose, "dispose"));
  exports.Set("copyInto", Napi::Function::New(env, CopyInto, "copyInto"));
  exports.Set("pin", Napi::Function::New(env, Pin, "pin"));
  exports.Set("unpin", Napi::Function::New(env, Unpin, "unpin"));
  exports.Set("isDisposed", Napi::Function::New(env, IsDisposed, "isDisposed"));
  exports.Set("memory", Napi::Function::New(env, Memory, "memory"));
  exports.Set("setCollector", Napi::Function::New(env, SetCollector, "setCollector"));
  exports.Set("backendInfo", Napi::Function::New(env, BackendInfo, "backendInfo"));
  exports.Set("exec", Napi::Function::New(env, Exec, "exec"));
  exports.Set("setCollectives", Napi::Function::New(env, SetCollectives, "setCollectives"));
  init_program(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(symtensor, Init)
