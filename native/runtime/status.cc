#include <cstdarg>
#include <cstdio>

#include "internal.h"

extern "C" {

size_t st_dtype_size(int32_t dtype) {
  static const size_t sizes[] = {
#define ST_DTYPE(e, name, bytes) bytes,
#include "../ops.def"
#undef ST_DTYPE
  };
  return dtype >= 0 && dtype < ST_DTYPE_COUNT ? sizes[dtype] : 0;
}

const char *st_dtype_name(int32_t dtype) {
  static const char *names[] = {
#define ST_DTYPE(e, name, bytes) name,
#include "../ops.def"
#undef ST_DTYPE
  };
  return dtype >= 0 && dtype < ST_DTYPE_COUNT ? names[dtype] : "invalid dtype";
}

const char *st_code_name(int32_t code) {
  static const char *names[] = {
      "OK",
#define ST_ERR(e, code) code,
#include "../ops.def"
#undef ST_ERR
  };
  static_assert(sizeof(names) / sizeof(names[0]) == ST_CODE_COUNT, "status table out of sync with ops.def");
  return code > 0 && code < ST_CODE_COUNT ? names[code] : code == 0 ? names[0] : "ERR_ST_INTERNAL";
}

const char *st_op_name(int32_t opcode) {
  static const char *names[] = {
#define ST_OP(e, name, nin, nout) name,
#include "../ops.def"
#undef ST_OP
  };
  static_assert(sizeof(names) / sizeof(names[0]) == ST_OP_COUNT, "op table out of sync with ops.def");
  return opcode >= 0 && opcode < ST_OP_COUNT ? names[opcode] : "invalid op";
}

const char *st_ew_name(int32_t ew) {
  static const char *names[] = {
#define ST_EW(e, name, arity) name,
#include "../ops.def"
#undef ST_EW
  };
  static_assert(sizeof(names) / sizeof(names[0]) == ST_EW_COUNT, "elementwise table out of sync with ops.def");
  return ew >= 0 && ew < ST_EW_COUNT ? names[ew] : "invalid elementwise op";
}

int64_t st_numel(const st_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  return n;
}

int64_t st_shape_bytes(int32_t dtype, int32_t ndim, const int64_t *shape) {
  if (dtype < 0 || dtype >= ST_DTYPE_COUNT || ndim < 0 || ndim > ST_MAX_DIMS) return -1;
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) return -1;
    if (shape[i] == 0) return 0;  // an empty shape is valid whatever its other dims
  }
  for (int i = 0; i < ndim; i++)
    if (__builtin_mul_overflow(n, shape[i], &n)) return -1;
  const int64_t esize = (int64_t)st_dtype_size(dtype);
  if (n > (int64_t(1) << ST_MAX_BYTES_LOG2) / esize) return -1;
  return n * esize;
}

const char *st_shape_str(const st_tensor *t, char *buf, size_t n) {
  size_t used = 0;
  used += snprintf(buf + used, n - used, "[");
  for (int i = 0; i < t->ndim && used < n; i++)
    used += snprintf(buf + used, n - used, i ? ",%lld" : "%lld", (long long)t->shape[i]);
  if (used < n) snprintf(buf + used, n - used, "]");
  buf[n - 1] = 0;
  return buf;
}

st_code st_fail(st_status *st, st_code code, const char *fmt, ...) {
  if (st) {
    st->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof st->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

}  // extern "C"
