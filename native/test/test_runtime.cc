// Runtime pieces without a kernel: the block cache and the tables built from ops.def.
#include <cstdint>
#include <set>

#include "test.h"

TEST(block_cache_reuses_large_blocks_of_one_size) {
  st_block_cache *c = st_block_cache_new();
  EXPECT(c != nullptr);
  const size_t big = (size_t)1 << 20;
  void *a = st_block_alloc(c, big);
  EXPECT(a != nullptr && (uintptr_t)a % 64 == 0);
  std::memset(a, 1, big);  // the whole block is usable (ASan checks)
  st_block_release(c, a, big);
  EXPECT(st_block_cache_held(c) == big);
  // Any size that rounds to the same block takes it back; another size does not.
  EXPECT(st_block_alloc(c, big - 100) == a);
  EXPECT(st_block_cache_held(c) == 0);
  st_block_release(c, a, big - 100);
  void *b = st_block_alloc(c, 2 * big);
  EXPECT(b != nullptr && b != a && st_block_cache_held(c) == big);
  st_block_release(c, b, 2 * big);
  EXPECT(st_block_cache_held(c) == 3 * big);
  st_block_cache_free(c);  // frees what it holds (ASan's leak check would say otherwise)
}

TEST(block_cache_keeps_no_small_or_huge_blocks_and_is_bounded) {
  st_block_cache *c = st_block_cache_new();
  void *small = st_block_alloc(c, 1000);
  EXPECT(small != nullptr && (uintptr_t)small % 64 == 0);
  st_block_release(c, small, 1000);
  EXPECT(st_block_cache_held(c) == 0);
  const size_t huge = (size_t)100 << 20;  // above a quarter of the cap
  void *h = st_block_alloc(c, huge);
  EXPECT(h != nullptr);
  st_block_release(c, h, huge);
  EXPECT(st_block_cache_held(c) == 0);
  // Many distinct blocks: the count and the bytes held stay bounded.
  std::vector<void *> blocks;
  for (int i = 0; i < 100; i++) blocks.push_back(st_block_alloc(c, (size_t)(256 + i) << 10));
  for (int i = 0; i < 100; i++) st_block_release(c, blocks[i], (size_t)(256 + i) << 10);
  EXPECT(st_block_cache_held(c) <= (size_t)256 << 20);
  EXPECT(st_block_cache_held(c) <= 64 * ((size_t)356 << 10));
  EXPECT(st_block_cache_held(c) > 0);
  st_block_cache_free(c);
  // No cache: plain allocation.
  void *p = st_block_alloc(nullptr, 4096);
  EXPECT(p != nullptr);
  st_block_release(nullptr, p, 4096);
  EXPECT(st_block_alloc(nullptr, 0) == nullptr);
  st_block_cache_free(nullptr);
  EXPECT(st_block_size(1) == 64 && st_block_size(64) == 64 && st_block_size(300000) == 303104);
}

TEST(tables_from_ops_def) {
  EXPECT(st_dtype_size(ST_F32) == 4 && st_dtype_size(ST_F64) == 8 && st_dtype_size(ST_I32) == 4 &&
         st_dtype_size(ST_BOOL) == 1 && st_dtype_size(ST_DTYPE_COUNT) == 0 && st_dtype_size(-1) == 0);
  EXPECT(std::strcmp(st_dtype_name(ST_F64), "float64") == 0 && std::strcmp(st_dtype_name(ST_BOOL), "bool") == 0);
  EXPECT(std::strcmp(st_code_name(ST_OK), "OK") == 0);
  EXPECT(std::strcmp(st_code_name(ST_ERR_ARG), "ERR_ST_ARG") == 0);
  EXPECT(std::strcmp(st_code_name(ST_ERR_INDEX), "ERR_ST_INDEX") == 0);
  EXPECT(std::strcmp(st_code_name(ST_ERR_DISPOSED), "ERR_ST_DISPOSED") == 0);
  EXPECT(std::strcmp(st_code_name(ST_CODE_COUNT), "ERR_ST_INTERNAL") == 0);
  std::set<std::string> names;
  for (int c = 1; c < ST_CODE_COUNT; c++) names.insert(st_code_name(c));
  EXPECT((int)names.size() == ST_CODE_COUNT - 1);
  EXPECT(ST_MAX_DIMS == 16 && ST_ACT_COUNT == 4 && ST_SLOT_KIND_COUNT == 5);
}
