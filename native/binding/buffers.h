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
};

// Every buffer of one environment (main thread only).  The records live here rather than with
// their externals, so the registry outlives them all: programs hold it too, since their finalizers
// unpin buffers during teardown.
struct BufferRegistry {
  std::vector<NativeBuffer *> all;
  std::shared_ptr<st_block_cache> cache{st_block_cache_new(), st_block_cache_free};
  int64_t tensors = 0;  // buffers still holding memory
  int64_t bytes = 0;    // and that memory (reported to V8 as external memory)
  // When the next allocation sweeps (counts since the last sweep) and forces a collection.
  size_t allocs_since_sweep = 0;
  int64_t bytes_since_sweep = 0;
  size_t sweep_every = 0;
  int64_t sweep_bytes = 0;
  int64_t collect_at = 0;

  BufferRegistry();
  ~BufferRegistry();
  BufferRegistry(const BufferRegistry &) = delete;
  BufferRegistry &operator=(const BufferRegistry &) = delete;
};

inline const napi_type_tag kBufferTag = {0x8f2c4b1e5a6d7c90ULL, 0x13579bdf2468ace0ULL};

struct AddonData {
  st_pool *pool = nullptr;
  std::shared_ptr<BufferRegistry> buffers = std::make_shared<BufferRegistry>();
  ~AddonData() { st_pool_free(pool); }
};

// Frees the memory of buffers whose externals the GC collected, and forgets them (addon.cc).
// Before allocating `incoming` more bytes it may also force a full collection first: see there.
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

inline NativeBuffer *unwrap(Napi::Env env, const Napi::Value &v, const char *what) {
  ST_REQUIRE_ARG(env, v.IsExternal(), "%s: expected a tensor buffer", what);
  auto ext = v.As<Napi::External<NativeBuffer>>();
  ST_REQUIRE_ARG(env, ext.CheckTypeTag(&kBufferTag), "%s: expected a tensor buffer", what);
  NativeBuffer *b = ext.Data();
  // a disposed buffer that is still pinned (by a queued call) keeps its memory until unpinned
  if (b->disposed && !b->free_pending) throw_error(env, ST_ERR_DISPOSED, std::string(what) + ": tensor is disposed");
  return b;
}

inline void free_storage(napi_env env, NativeBuffer *b) {
  if (b->freed) return;
  b->freed = true;
  if (b->data) st_block_release(b->reg->cache.get(), b->data, b->bytes);
  b->data = nullptr;
  b->reg->tensors--;
  b->reg->bytes -= (int64_t)b->bytes;
  int64_t ignored;
  if (b->bytes) napi_adjust_external_memory(env, -(int64_t)b->bytes, &ignored);
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
  if (bytes) Napi::MemoryManagement::AdjustExternalMemory(env, (int64_t)bytes);
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
