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

struct Stats {
  std::atomic<int64_t> tensors{0};
  std::atomic<int64_t> bytes{0};
};

// A native buffer owned by a JS external.  The finalizer frees it unless dispose() already did.
struct NativeBuffer {
  void *data = nullptr;
  size_t bytes = 0;
  int32_t dtype = ST_F32;
  int64_t numel = 0;
  bool disposed = false;
  // Pinned by programs (bound buffers) and in-flight async runs (inputs): dispose() then only
  // marks the buffer disposed, and the memory goes when the last pin does.
  int pins = 0;
  bool free_pending = false;
  bool orphaned = false;  // its external was collected while pinned: the last unpin deletes it
  std::shared_ptr<Stats> stats;
  std::shared_ptr<st_block_cache> cache;  // where the memory goes back to (outlives the addon data)
};

inline const napi_type_tag kBufferTag = {0x8f2c4b1e5a6d7c90ULL, 0x13579bdf2468ace0ULL};

struct AddonData {
  st_pool *pool = nullptr;
  std::shared_ptr<Stats> stats = std::make_shared<Stats>();
  // Recycles large tensor buffers (native/runtime/block_cache.cc); main thread only.
  std::shared_ptr<st_block_cache> cache{st_block_cache_new(), st_block_cache_free};
  ~AddonData() { st_pool_free(pool); }
};

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

inline void free_storage(Napi::Env env, NativeBuffer *b) {
  if (b->data) st_block_release(b->cache.get(), b->data, b->bytes);
  b->data = nullptr;
  b->stats->tensors--;
  b->stats->bytes -= (int64_t)b->bytes;
  int64_t ignored;
  if (b->bytes) napi_adjust_external_memory(env, -(int64_t)b->bytes, &ignored);
}

inline void release(Napi::Env env, NativeBuffer *b) {
  if (b->disposed) return;
  b->disposed = true;
  if (b->pins > 0) {
    b->free_pending = true;
    return;
  }
  free_storage(env, b);
}

inline void pin(NativeBuffer *b) { b->pins++; }

inline void unpin(Napi::Env env, NativeBuffer *b) {
  if (--b->pins > 0) return;
  if (b->free_pending) {
    b->free_pending = false;
    free_storage(env, b);
  }
  if (b->orphaned) delete b;
}

inline Napi::External<NativeBuffer> make_buffer(Napi::Env env, int32_t dtype, int64_t numel, const char *what) {
  AddonData *ad = env.GetInstanceData<AddonData>();
  size_t esize = st_dtype_size(dtype);
  const int64_t max_elems = (int64_t(1) << ST_MAX_BYTES_LOG2) / (int64_t)esize;
  if (numel < 0 || numel > max_elems)
    throw_error(env, ST_ERR_ALLOC,
                std::string(what) + ": cannot allocate " + std::to_string(numel) + " elements of " + st_dtype_name(dtype));
  size_t bytes = (size_t)numel * esize;
  void *data = nullptr;
  if (bytes) {
    data = st_block_alloc(ad->cache.get(), bytes);
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
  b->stats = ad->stats;
  b->cache = ad->cache;
  b->stats->tensors++;
  b->stats->bytes += (int64_t)bytes;
  if (bytes) Napi::MemoryManagement::AdjustExternalMemory(env, (int64_t)bytes);
  auto ext = Napi::External<NativeBuffer>::New(env, b, [](Napi::Env env, NativeBuffer *b) {
    release(env, b);
    if (b->pins > 0)
      b->orphaned = true;  // only possible during environment teardown
    else
      delete b;
  });
  ext.TypeTag(&kBufferTag);
  return ext;
}


// Registers the compiled-program functions (program.cc).
void init_program(Napi::Env env, Napi::Object exports);

}  // namespace stb
