// Shared by the binding files: native buffers owned by JS externals and argument checks.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "symtensor.h"

namespace stb {

struct BufferRegistry;

// A native buffer owned by a JS external.  The external has no finalizer: Node defers finalizers
// to the event loop, so a loop that never yields would never free anything.  Instead the buffer
// holds a weak reference to its external, which V8 clears during the collection that finds it
// dead, and the registry's sweep (native/binding/addon.cc) frees the memory of every buffer whose
// reference was cleared — from inside the allocation that needs it, no yielding required.
struct NativeBuffer {
  void *data = nullptr;
  size_t bytes = 0;
  int32_t dtype = ST_F32;
  int64_t numel = 0;
  bool disposed = false;
  bool freed = false;  // the memory went back (dispose, or the sweep found the external dead)
  // Pinned by programs (bound buffers) and in-flight async runs (inputs): dispose() then only
  // marks the buffer disposed, and the memory goes when the last pin does.  Whoever pins also
  // holds the external, so a pinned buffer is never found dead; the sweep skips it regardless.
  int pins = 0;
  bool free_pending = false;
  napi_ref weak = nullptr;  // to the external; empty once the GC collected it
  BufferRegistry *reg = nullptr;
  bool reported = false;  // its bytes were reported to V8 as external memory (report_external)
};

// Every buffer of one environment (main thread only).  The records live here rather than with
// their externals, so the registry outlives them all: programs hold it too, since their finalizers
// unpin buffers during teardown.
struct BufferRegistry {
  std::vector<NativeBuffer *> all;
  std::shared_ptr<st_block_cache> cache{st_block_cache_new(), st_block_cache_free};
  int64_t tensors = 0;  // buffers still holding memory
  int64_t bytes = 0;    // and that memory
  // When the next allocation sweeps (counts since the last sweep) and forces a collection.
  size_t allocs_since_sweep = 0;
  int64_t bytes_since_sweep = 0;
  size_t sweep_every = 0;
  int64_t sweep_bytes = 0;
  int64_t collect_at = 0;
  // A JS function that runs a young-generation collection (setCollector); the memory and buffers
  // held after the last one, or less since: growth beyond that is what dropped results may hold;
  // where in `all` the records made since the last two scavenges start.
  napi_ref scavenger = nullptr;
  int64_t young_base_bytes = 0;
  int64_t young_base_tensors = 0;
  size_t young_prev = 0;
  size_t young_last = 0;
  int64_t young_scale = 1;  // how many times the least growth the next scavenge waits for
  int kept_streak = 0;       // scavenges in a row that found most of the growth alive

  BufferRegistry();
  ~BufferRegistry();
  BufferRegistry(const BufferRegistry &) = delete;
  BufferRegistry &operator=(const BufferRegistry &) = delete;
};

inline const napi_type_tag kBufferTag = {0x8f2c4b1e5a6d7c90ULL, 0x13579bdf2468ace0ULL};

struct AddonData {
  st_pool *pool = nullptr;
  std::shared_ptr<BufferRegistry> buffers = std::make_shared<BufferRegistry>();
  // exec's staging area for small results (see kInlineMaxBytes), made on first use
  Napi::Reference<Napi::Value> exec_stage;
  uint8_t *exec_stage_data = nullptr;
  ~AddonData() { st_pool_free(pool); }
};

// Frees the memory of buffers whose externals the GC collected, and forgets them (addon.cc).
// Before allocating `incoming` more bytes it may also run a young-generation collection or force
// a full one first: see there.
void sweep_buffers(napi_env env, BufferRegistry &r);
void before_alloc(napi_env env, BufferRegistry &r, size_t incoming);

inline int32_t get_dtype(Napi::Env env, const Napi::Value &v, const char *what) {
  ST_REQUIRE_ARG(env, v.IsNumber(), "%s: dtype code must be a number", what);
  int32_t d = v.As<Napi::Number>().Int32Value();
  ST_REQUIRE_ARG(env, d >= 0 && d < ST_DTYPE_COUNT, "%s: invalid dtype code %d", what, (int)d);
  return d;
}

inline int64_t get_count(Napi::Env env, const Napi::Value &v, const char *what) {
  ST_REQUIRE_ARG(env, v.IsNumber(), "%s: element count must be a number", what);
  double d = v.As<Napi::Number>().DoubleValue();
  ST_REQUIRE_ARG(env, d >= 0 && d <= 9007199254740991.0 && d == (double)(int64_t)d,
                 "%s: element count must be a non-negative integer, got %g", what, d);
  return (int64_t)d;
}

// ---- small tensors: data V8 owns ----
//
// A result of at most kInlineMaxBytes is not given a NativeBuffer: the kernel writes it into a
// staging ArrayBuffer, the binding hands JS a typed-array view of it, and JS copies the view into
// a typed array of its own (lib/tensor/tensor.ts, Tensor.fromNative) before anything can write
// the staging area again.  Arrays that small live inside V8's heap, so a dropped scalar loss is
// ordinary JS garbage: no record, no weak reference, nothing native to wait for a collection.
// Where a tensor is accepted, such a typed array is accepted too (TensorRef).  Its data pointer
// comes from napi_get_typedarray_info, which first moves data kept inside the heap out of it, so
// the pointer stays put for as long as the array lives; async runs and programs keep the array
// alive by holding it.  A JS-owned tensor is disposed on the JS side alone (V8 frees it).
constexpr size_t kInlineMaxBytes = 64;

// A tensor's data as a kernel sees it: a NativeBuffer (nb set), or a typed array V8 owns.
struct TensorRef {
  void *data = nullptr;
  int32_t dtype = ST_F32;
  int64_t numel = 0;
  NativeBuffer *nb = nullptr;
};

inline napi_typedarray_type typed_array_type(int32_t dtype) {
  switch (dtype) {
    case ST_F64: return napi_float64_array;
    case ST_I32: return napi_int32_array;
    case ST_BOOL: return napi_uint8_array;
    default: return napi_float32_array;
  }
}

// Fills r from a buffer external or one of the typed arrays tensors' data comes in; false when v
// is neither.  Checks nothing about disposal (see unwrap).
inline bool get_tensor(napi_env env, napi_value v, TensorRef *r) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_external) {
    bool ok = false;
    if (napi_check_object_type_tag(env, v, &kBufferTag, &ok) != napi_ok || !ok) return false;
    void *p = nullptr;
    if (napi_get_value_external(env, v, &p) != napi_ok) return false;
    NativeBuffer *b = static_cast<NativeBuffer *>(p);
    r->nb = b;
    r->data = b->data;
    r->dtype = b->dtype;
    r->numel = b->numel;
    return true;
  }
  if (t != napi_object) return false;
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok) return false;
  switch (type) {
    case napi_float32_array: r->dtype = ST_F32; break;
    case napi_float64_array: r->dtype = ST_F64; break;
    case napi_int32_array: r->dtype = ST_I32; break;
    case napi_uint8_array: r->dtype = ST_BOOL; break;
    default: return false;
  }
  r->nb = nullptr;
  r->data = data;
  r->numel = (int64_t)length;
  return true;
}

inline TensorRef unwrap(Napi::Env env, const Napi::Value &v, const char *what) {
  TensorRef r;
  ST_REQUIRE_ARG(env, get_tensor(env, v, &r), "%s: expected a tensor buffer", what);
  // a disposed buffer that is still pinned (by a queued call) keeps its memory until unpinned
  if (r.nb && r.nb->disposed && !r.nb->free_pending)
    throw_error(env, ST_ERR_DISPOSED, std::string(what) + ": tensor is disposed");
  return r;
}

// A typed-array view of `numel` elements of `dtype` at `offset` in the ArrayBuffer `ab`.
inline napi_value inline_view(Napi::Env env, napi_value ab, int32_t dtype, int64_t numel, size_t offset) {
  napi_value view;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, typed_array_type(dtype), (size_t)numel, ab, offset, &view),
                       napi_value());
  return view;
}

// Where each small result (dtype, element count) goes in a staging area of `budget` bytes: its
// offset (8-byte aligned), or -1 for a result that gets a NativeBuffer.  Returns how many results
// go there; *bytes is the room they take.
inline size_t plan_inline(const std::vector<std::pair<int32_t, int64_t>> &outs, std::vector<int64_t> *offsets,
                          size_t budget, size_t *bytes) {
  size_t used = 0, n = 0;
  offsets->assign(outs.size(), -1);
  for (size_t i = 0; i < outs.size(); i++) {
    const size_t b = (size_t)outs[i].second * st_dtype_size(outs[i].first);
    if (b > kInlineMaxBytes || used + b > budget) continue;
    (*offsets)[i] = (int64_t)used;
    used += (b + 7) & ~size_t(7);
    n++;
  }
  *bytes = used;
  return n;
}

// V8 is told of a buffer's memory (external memory, which paces its full collections) once the
// buffer outlived two scavenges (or a full sweep), not when it is made.  V8 counts external memory reported since its last
// full collection against the old generation's allocation limit, and after a forced or memory-
// reducing collection that limit is a few MB above the heap: dropped results that the next
// scavenge frees anyway (a loop's temporaries) would otherwise start a full marking cycle every
// few MB of them, and keep one running in the background alongside the kernels.  A buffer whose
// external survived two scavenges is in the old generation, which only a full collection
// searches: that is what the pacing is for.  Without a registered scavenger every buffer is reported when made, as the sweeps are rare.
inline void report_external(napi_env env, NativeBuffer *b) {
  if (b->reported || b->freed || !b->bytes) return;
  b->reported = true;
  int64_t ignored;
  napi_adjust_external_memory(env, (int64_t)b->bytes, &ignored);
}

inline void free_storage(napi_env env, NativeBuffer *b) {
  if (b->freed) return;
  b->freed = true;
  if (b->data) st_block_release(b->reg->cache.get(), b->data, b->bytes);
  b->data = nullptr;
  b->reg->tensors--;
  b->reg->bytes -= (int64_t)b->bytes;
  int64_t ignored;
  if (b->reported) napi_adjust_external_memory(env, -(int64_t)b->bytes, &ignored);
}

inline void release(napi_env env, NativeBuffer *b) {
  if (b->disposed) return;
  b->disposed = true;
  if (b->pins > 0) {
    b->free_pending = true;
    return;
  }
  free_storage(env, b);
}

inline void pin(NativeBuffer *b) { b->pins++; }

inline void unpin(napi_env env, NativeBuffer *b) {
  if (--b->pins > 0) return;
  if (b->free_pending) {
    b->free_pending = false;
    free_storage(env, b);
  }
}

inline Napi::External<NativeBuffer> make_buffer(Napi::Env env, int32_t dtype, int64_t numel, const char *what) {
  BufferRegistry &reg = *env.GetInstanceData<AddonData>()->buffers;
  size_t esize = st_dtype_size(dtype);
  const int64_t max_elems = (int64_t(1) << ST_MAX_BYTES_LOG2) / (int64_t)esize;
  if (numel < 0 || numel > max_elems)
    throw_error(env, ST_ERR_ALLOC,
                std::string(what) + ": cannot allocate " + std::to_string(numel) + " elements of " + st_dtype_name(dtype));
  size_t bytes = (size_t)numel * esize;
  before_alloc(env, reg, bytes);
  void *data = nullptr;
  if (bytes) {
    data = st_block_alloc(reg.cache.get(), bytes);
    if (!data)
      throw_error(env, ST_ERR_ALLOC,
                  std::string(what) + ": out of memory allocating " + std::to_string(numel) + " elements of " +
                      st_dtype_name(dtype) + " (" + std::to_string(bytes) + " bytes)");
  }
  auto *b = new NativeBuffer();
  b->data = data;
  b->bytes = bytes;
  b->dtype = dtype;
  b->numel = numel;
  b->reg = &reg;
  try {
    reg.all.push_back(b);
  } catch (...) {
    st_block_release(reg.cache.get(), data, bytes);
    delete b;
    throw;
  }
  // From here on the registry owns b: a failure below leaves it without a weak reference, which
  // the next sweep treats as dead.
  reg.tensors++;
  reg.bytes += (int64_t)bytes;
  if (!reg.scavenger) report_external(env, b);
  auto ext = Napi::External<NativeBuffer>::New(env, b);
  ext.TypeTag(&kBufferTag);
  napi_ref weak = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_reference(env, ext, 0, &weak), Napi::External<NativeBuffer>());
  b->weak = weak;
  return ext;
}


// Registers the compiled-program functions (program.cc).
void init_program(Napi::Env env, Napi::Object exports);

}  // namespace stb
