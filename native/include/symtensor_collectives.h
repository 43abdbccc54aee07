/* Collective communication (allreduce, broadcast, allgather, barrier) as a table of C function
 * pointers.  The main library never links a communication library: a separate addon (the MPI one,
 * native/mpi/) fills a table and registers it, and the ALLREDUCE / BROADCAST / ALLGATHER
 * instructions call through it.  With no table registered they behave as a world of one process.
 *
 * Both sides include this header; the version field and struct_size let the main library refuse a
 * table built against another layout instead of calling through a wrong pointer. */
#ifndef SYMTENSOR_COLLECTIVES_H
#define SYMTENSOR_COLLECTIVES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump when the table's layout or meaning changes. */
#define ST_COLLECTIVES_VERSION 1

/* Reduction ops of ALLREDUCE (iattr[0]).  A table's allreduce is never asked for MEAN: the
 * instruction sums and divides by the world size itself. */
enum {
  ST_COLL_SUM = 0,
  ST_COLL_MEAN = 1,
  ST_COLL_MAX = 2,
  ST_COLL_MIN = 3,
  ST_COLL_OP_COUNT = 4
};

/* The N-API type tag of the External that carries a table from one addon to the other
 * (napi_type_tag: lower, upper). */
#define ST_COLLECTIVES_TAG_LOWER 0x73796d74636f6c6cULL
#define ST_COLLECTIVES_TAG_UPPER 0x6563746976657331ULL

/* Every function returns 0 on success, otherwise a status code of symtensor.h's st_code
 * (ST_ERR_ARG, ST_ERR_INTERNAL …) and writes a NUL-terminated message into err[errlen].
 * dtype is an st_dtype code; count is in elements.  Calls may come from any thread, never two at
 * once from symtensor's side for one program, but different programs may run concurrently: the
 * table serializes its own calls. */
typedef struct st_collectives {
  uint32_t version;     /* ST_COLLECTIVES_VERSION */
  uint32_t struct_size; /* sizeof(st_collectives) of the builder */
  void *ctx;            /* handed back to every function */
  int32_t (*rank)(void *ctx);
  int32_t (*size)(void *ctx);
  /* In place on buf; op is ST_COLL_SUM, ST_COLL_MAX or ST_COLL_MIN. */
  int32_t (*allreduce)(void *ctx, void *buf, int64_t count, int32_t dtype, int32_t op, char *err, size_t errlen);
  /* In place on buf: root's values land on every rank. */
  int32_t (*broadcast)(void *ctx, void *buf, int64_t count, int32_t dtype, int32_t root, char *err, size_t errlen);
  /* recv holds size * count elements, rank r's send at r * count. */
  int32_t (*allgather)(void *ctx, const void *send, void *recv, int64_t count, int32_t dtype, char *err,
                       size_t errlen);
  int32_t (*barrier)(void *ctx, char *err, size_t errlen);
} st_collectives;

/* ---- the main library's side (native/kernels/cpu/collectives.cc) ---- */

/* Checks a table (version, size, every pointer, rank/size consistent); 0 when usable, otherwise a
 * status code and a message. */
int32_t st_collectives_check(const st_collectives *c, char *err, size_t errlen);
/* Registers the table the collective instructions use (process-wide: a process belongs to one
 * world), or none with NULL.  The table must stay valid while registered.  Returns
 * st_collectives_check's result; a table that fails it is not registered. */
int32_t st_set_collectives(const st_collectives *c, char *err, size_t errlen);
/* The registered table, or NULL. */
const st_collectives *st_get_collectives(void);

#ifdef __cplusplus
}
#endif
#endif
