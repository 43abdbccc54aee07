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

#define ST_MAX_DIMS 16

typedef enum st_dtype { ST_F32 = 0, ST_F64 = 1, ST_I32 = 2, ST_BOOL = 3, ST_DTYPE_COUNT = 4 } st_dtype;

typedef enum st_code {
  ST_OK = 0,
  ST_ERR_ARG = 1,      /* malformed attributes or argument counts */
  ST_ERR_SHAPE = 2,    /* shapes that do not fit together */
  ST_ERR_DTYPE = 3,    /* a dtype the op does not take */
  ST_ERR_INDEX = 4,    /* an index out of range (gather) */
  ST_ERR_ALLOC = 5,    /* out of memory */
  ST_ERR_INTERNAL = 6
} st_code;

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
int64_t st_numel(const st_tensor *t);
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
typedef enum st_slot_kind { ST_SLOT_INPUT = 0, ST_SLOT_BOUND = 1, ST_SLOT_TEMP = 2, ST_SLOT_OUTPUT = 3 } st_slot_kind;

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

/* Validates and deep-copies the description; allocates the arena.  NULL on failure (status set). */
st_program *st_program_new(const st_slot_desc *slots, int32_t n_slots, int64_t arena_bytes,
                           const st_program_instr *instrs, int32_t n_instrs, const int32_t *copies,
                           int32_t n_copies, st_status *st);
void st_program_free(st_program *p);
int32_t st_program_num_inputs(const st_program *p);
int32_t st_program_num_outputs(const st_program *p);
const st_slot_desc *st_program_slot(const st_program *p, int32_t i);
/* Replaces a BOUND slot's data pointer (a shared variable given a new buffer). */
st_code st_program_rebind(st_program *p, int32_t slot, void *data, st_status *st);
/* Runs every instruction (JUMP / JUMP_IF_FALSE included).  Not thread-safe per program: callers
 * serialize runs of one program.  On failure st->instr names the instruction. */
st_code st_program_run(st_program *p, st_ctx *ctx, void *const *input_data, void *const *output_data, st_status *st);
/* Per-instruction wall time (ns) and call counts, accumulated while profiling is on. */
void st_program_set_profile(st_program *p, int on);
void st_program_profile(const st_program *p, double *ns, int64_t *counts);

/* What is linked: "openblas 0.3.21" or "builtin". */
const char *st_gemm_backend(void);
/* "avx2+fma", "sse2", ... as compiled/dispatched. */
const char *st_simd_info(void);

#ifdef __cplusplus
}
#endif
#endif
