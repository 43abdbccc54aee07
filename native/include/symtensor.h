/* symtensor's C-style kernel and runtime API.  No N-API here: everything below can be built and
 * tested without Node.  Kernels never abort and never throw: they return a status code and write a
 * message naming the op and the shapes involved into the st_status they are given. */
#ifndef SYMTENSOR_H
#define SYMTENSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The constants below come from native/ops.def, the list TypeScript's tables are generated from. */
enum {
#define ST_LIMIT(name, value) ST_##name = value,
#include "../ops.def"
#undef ST_LIMIT
};

typedef enum st_dtype {
#define ST_DTYPE(e, name, bytes) ST_##e,
#include "../ops.def"
#undef ST_DTYPE
  ST_DTYPE_COUNT
} st_dtype;

/* ST_OK, then one ST_ERR_<kind> per ST_ERR entry of ops.def (ST_ERR_ARG = 1 ...). */
typedef enum st_code {
  ST_OK = 0,
#define ST_ERR(e, code) ST_ERR_##e,
#include "../ops.def"
#undef ST_ERR
  ST_CODE_COUNT
} st_code;

/* Activations of MATMUL_BIAS_ACT (iattr[2]). */
typedef enum st_act {
#define ST_ACT(e, name) ST_ACT_##e,
#include "../ops.def"
#undef ST_ACT
  ST_ACT_COUNT
} st_act;

typedef struct st_status {
  st_code code;
  int32_t instr; /* index of the failing instruction in a program, -1 otherwise */
  char message[512];
} st_status;

/* An n-d array: contiguous row-major data of `dtype`. */
typedef struct st_tensor {
  void *data;
  int32_t dtype;
  int32_t ndim;
  int64_t shape[ST_MAX_DIMS];
} st_tensor;

typedef enum st_opcode {
#define ST_OP(e, name, nin, nout) ST_OP_##e,
#include "../ops.def"
#undef ST_OP
  ST_OP_COUNT
} st_opcode;

typedef enum st_ew_op {
#define ST_EW(e, name, arity) ST_EW_##e,
#include "../ops.def"
#undef ST_EW
  ST_EW_COUNT
} st_ew_op;

/* One instruction: what both an eager op and one step of a compiled Program execute. */
typedef struct st_instr {
  int32_t opcode;
  int32_t n_in, n_out;
  const st_tensor *in;
  st_tensor *out;
  const int64_t *iattr;
  int32_t n_iattr;
  const double *fattr;
  int32_t n_fattr;
} st_instr;

typedef struct st_pool st_pool;

/* Execution context: the thread pool kernels split their work over (NULL = run on the caller). */
typedef struct st_ctx {
  st_pool *pool;
} st_ctx;

/* ---- runtime ---- */
size_t st_dtype_size(int32_t dtype);
const char *st_dtype_name(int32_t dtype);
const char *st_op_name(int32_t opcode);
const char *st_ew_name(int32_t ew);
/* The `.code` string of a status code ("ERR_ST_SHAPE", ...; "OK" for ST_OK). */
const char *st_code_name(int32_t code);
int64_t st_numel(const st_tensor *t);
/* Bytes of `ndim` dims of `dtype`, or -1 when the element count overflows or the size exceeds
 * 2^ST_MAX_BYTES_LOG2 (overflow-safe: every shape from outside is checked with it first). */
int64_t st_shape_bytes(int32_t dtype, int32_t ndim, const int64_t *shape);
/* "[2,3,4]" into buf (always NUL-terminated). */
const char *st_shape_str(const st_tensor *t, char *buf, size_t n);
/* Sets status and returns its code; printf-style message. */
st_code st_fail(st_status *st, st_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

st_pool *st_pool_new(int n_threads);
void st_pool_free(st_pool *pool);
int st_pool_threads(const st_pool *pool);
/* Runs fn(arg, ith, nth) for ith in [0, nth) on the pool (the caller takes ith = 0) and returns
 * when all are done.  nth is min(n_tasks, threads).  Calls from inside a task, or while another
 * caller holds the pool, run serially on the calling thread. */
typedef void (*st_task_fn)(void *arg, int ith, int nth);
void st_parallel(st_ctx *ctx, int64_t work, st_task_fn fn, void *arg);

/* Executes one instruction: validates shapes/attributes, then runs the kernel.  Output buffers are
 * preallocated by the caller with the shapes in instr->out. */
st_code st_exec(st_ctx *ctx, const st_instr *instr, st_status *st);

/* ---- compiled programs ----
 * A program is a flat list of instructions over numbered slots.  Slot kinds:
 *   INPUT   data supplied per run (input_data[i] is the i-th INPUT slot in ascending slot order)
 *   BOUND   a buffer fixed at creation (shared variables, constants); the caller keeps it alive
 *   TEMP    a region of the program's arena at arena_offset (bytes, 64-aligned); slots whose
 *           lifetimes do not overlap may share bytes (the caller's memory plan)
 *   OUTPUT  data supplied per run (output_data[i] is the i-th OUTPUT slot in ascending order)
 * After the last instruction, copies[2k] <- copies[2k+1] (dst, src slot pairs of equal byte size)
 * are applied in order: that is how updates of shared variables land, only when every
 * instruction succeeded. */
typedef enum st_slot_kind {
#define ST_SLOT(e, name) ST_SLOT_##e,
#include "../ops.def"
#undef ST_SLOT
  ST_SLOT_KIND_COUNT
} st_slot_kind;

typedef struct st_slot_desc {
  int32_t dtype;
  int32_t ndim;
  int64_t shape[ST_MAX_DIMS];
  int32_t kind;
  int64_t arena_offset; /* TEMP only */
  void *bound_data;     /* BOUND only */
} st_slot_desc;

typedef struct st_program_instr {
  int32_t opcode;
  int32_t n_in, n_out;
  const int32_t *in;  /* slot indices */
  const int32_t *out; /* slot indices */
  const int64_t *iattr;
  int32_t n_iattr;
  const double *fattr;
  int32_t n_fattr;
} st_program_instr;

typedef struct st_program st_program;

/* Validates and deep-copies the description and allocates the arena.  Every instruction gets all the
 * checks st_exec makes that do not depend on the data (counts, dtypes, shapes, attributes, the
 * ELEMWISE bytecode, which is planned here once); jump targets must lie after the jump.  NULL on
 * failure, with the status naming the instruction (st->instr). */
st_program *st_program_new(const st_slot_desc *slots, int32_t n_slots, int64_t arena_bytes,
                           const st_program_instr *instrs, int32_t n_instrs, const int32_t *copies,
                           int32_t n_copies, st_status *st);
void st_program_free(st_program *p);
int32_t st_program_num_inputs(const st_program *p);
int32_t st_program_num_outputs(const st_program *p);
const st_slot_desc *st_program_slot(const st_program *p, int32_t i);
/* Replaces a BOUND slot's data pointer (a shared variable given a new buffer). */
st_code st_program_rebind(st_program *p, int32_t slot, void *data, st_status *st);
/* Runs every instruction (JUMP / JUMP_IF_FALSE included), checking only what the data decides
 * (input/output pointers, gather indices, random stream states).  Not thread-safe per program:
 * callers serialize runs of one program.  On failure st->instr names the instruction. */
st_code st_program_run(st_program *p, st_ctx *ctx, void *const *input_data, void *const *output_data, st_status *st);
/* Per-instruction wall time (ns) and call counts, accumulated while profiling is on. */
void st_program_set_profile(st_program *p, int on);
void st_program_profile(const st_program *p, double *ns, int64_t *counts);

/* ---- block cache ----
 * Freed large blocks kept for reuse (tensor buffers): a fresh large allocation is a fresh mmap whose
 * pages fault on first touch.  A cache is not thread-safe: one thread owns it.  c may be NULL
 * (plain allocation). */
typedef struct st_block_cache st_block_cache;
st_block_cache *st_block_cache_new(void);
/* Frees the cache and the blocks it holds. */
void st_block_cache_free(st_block_cache *c);
/* The size a block of `bytes` really has (rounded up; blocks of one size are interchangeable). */
size_t st_block_size(size_t bytes);
/* 64-byte aligned memory for `bytes` bytes (st_block_size(bytes) usable), a held block of that size
 * when there is one; NULL when bytes is 0 or memory is exhausted. */
void *st_block_alloc(st_block_cache *c, size_t bytes);
/* Gives back a block from st_block_alloc with the same `bytes`: kept for reuse, or freed. */
void st_block_release(st_block_cache *c, void *p, size_t bytes);
/* Bytes the cache holds now. */
size_t st_block_cache_held(const st_block_cache *c);

/* What is linked: "openblas 0.3.21" or "builtin". */
const char *st_gemm_backend(void);
/* "avx2+fma", "sse2", ... as compiled/dispatched. */
const char *st_simd_info(void);

#ifdef __cplusplus
}
#endif
#endif
