// The block cache: freed large blocks kept for reuse.  A fresh large allocation is a fresh mmap
// whose pages fault on first touch, which costs more than the kernel that then fills it; a block
// handed back and taken again is already mapped.  Small blocks go straight to malloc, which
// recycles them well by itself.
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "internal.h"

namespace {
constexpr size_t kMinCached = 256 * 1024;          // smaller blocks are not kept
constexpr size_t kMaxHeld = 256u * 1024 * 1024;    // bytes held at most
constexpr size_t kMaxBlock = kMaxHeld / 4;         // larger blocks are not kept
constexpr size_t kMaxBlocks = 64;                  // blocks held at most
}  // namespace

struct st_block_cache {
  std::vector<std::pair<size_t, void *>> blocks;  // (rounded size, block), oldest first
  size_t held = 0;

  void drop_oldest() {
    held -= blocks.front().first;
    std::free(blocks.front().second);
    blocks.erase(blocks.begin());
  }
};

extern "C" {

st_block_cache *st_block_cache_new(void) { return new (std::nothrow) st_block_cache(); }

void st_block_cache_free(st_block_cache *c) {
  if (!c) return;
  for (auto &b : c->blocks) std::free(b.second);
  delete c;
}

size_t st_block_size(size_t bytes) {
  return bytes < kMinCached ? (bytes + 63) & ~size_t(63) : (bytes + 4095) & ~size_t(4095);
}

void *st_block_alloc(st_block_cache *c, size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t size = st_block_size(bytes);
  if (c && size >= kMinCached)
    for (size_t i = c->blocks.size(); i-- > 0;)  // the most recently released first: warmest in cache
      if (c->blocks[i].first == size) {
        void *p = c->blocks[i].second;
        c->blocks.erase(c->blocks.begin() + (long)i);
        c->held -= size;
        return p;
      }
  return std::aligned_alloc(64, size);
}

void st_block_release(st_block_cache *c, void *p, size_t bytes) {
  if (!p) return;
  const size_t size = st_block_size(bytes);
  if (!c || size < kMinCached || size > kMaxBlock) return std::free(p);
  try {
    while (c->held + size > kMaxHeld && !c->blocks.empty()) c->drop_oldest();
    c->blocks.emplace_back(size, p);
  } catch (const std::bad_alloc &) {
    return std::free(p);
  }
  c->held += size;
  if (c->blocks.size() > kMaxBlocks) c->drop_oldest();
}

size_t st_block_cache_held(const st_block_cache *c) { return c ? c->held : 0; }

}  // extern "C"
