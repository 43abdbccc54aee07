// Shared helpers for runtime and kernels (C++ only, never seen by N-API code).
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include "../include/symtensor.h"

// ST_HOT marks hot loops: in portable builds (prebuilds) they get an AVX2+FMA clone chosen at run
// time; source builds use -march=native instead.
#if defined(ST_PORTABLE) && defined(__x86_64__) && defined(__GNUC__)
#define ST_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ST_HOT
#endif

// ST_INLINE forces small helpers into the loops that call them, so that those loops vectorize.
#define ST_INLINE inline __attribute__((always_inline))

namespace st {

// Returns early with a formatted status when cond is false.
#define ST_REQUIRE(st, cond, code, ...)                         \
  do {                                                          \
    if (!(cond)) return st_fail((st), (code), __VA_ARGS__);     \
  } while (0)

#define ST_CHECK(expr)                   \
  do {                                   \
    st_code st_check_rc_ = (expr);       \
    if (st_check_rc_ != ST_OK) return st_check_rc_; \
  } while (0)

// Calls f(T{}) with T the C++ type of dtype (bool is uint8_t).
template <class F>
inline auto dispatch_dtype(int32_t dtype, F &&f) {
  switch (dtype) {
    case ST_F64: return f(double{});
    case ST_I32: return f(int32_t{});
    case ST_BOOL: return f(uint8_t{});
    default: return f(float{});
  }
}

// double -> element type, without undefined behaviour for NaN or out-of-range values.
template <class T>
inline T cast_value(double v) {
  if constexpr (std::is_same<T, uint8_t>::value) {
    return (T)(v != 0);
  } else if constexpr (std::is_integral<T>::value) {
    if (!(v == v)) return 0;
    if (v >= 2147483647.0) return INT32_MAX;
    if (v <= -2147483648.0) return INT32_MIN;
    return (T)v;
  } else {
    return (T)v;
  }
}

// Splits [0, n) into nth near-equal parts; part ith is [*b, *e).
inline void split_range(int64_t n, int ith, int nth, int64_t *b, int64_t *e) {
  int64_t chunk = n / nth, rem = n % nth;
  *b = ith * chunk + (ith < rem ? ith : rem);
  *e = *b + chunk + (ith < rem ? 1 : 0);
}

// Lambda-friendly st_parallel: f(ith, nth).
template <class F>
inline void parallel(st_ctx *ctx, int64_t work, F &&f) {
  st_parallel(
      ctx, work, [](void *arg, int ith, int nth) { (*static_cast<F *>(arg))(ith, nth); }, &f);
}

// Short shape description for messages.
struct ShapeStr {
  char buf[160];
  explicit ShapeStr(const st_tensor &t) { st_shape_str(&t, buf, sizeof buf); }
  const char *c_str() const { return buf; }
};

inline int64_t numel(const st_tensor &t) { return st_numel(&t); }

}  // namespace st

namespace st {

// State a kernel family builds once while it checks an instruction and reads back on every run
// (the ELEMWISE plan).  Families that need none leave it empty.
struct Prepared {
  virtual ~Prepared() = default;
};
using PreparedPtr = std::unique_ptr<Prepared>;

// A kernel family.  check validates everything about an instruction that does not depend on the
// data (counts, dtypes, shapes, attributes) and reads no data pointer; run executes an instruction
// that passed check and checks only what depends on the data (indices, random stream state).
// st_exec runs both; a program runs check once when it is created and run on every call.
struct Family {
  st_code (*check)(const st_instr *ins, PreparedPtr *prep, st_status *st);
  st_code (*run)(st_ctx *ctx, const st_instr *ins, const Prepared *prep, st_status *st);
};

// The family of an opcode, or nullptr for the control-flow opcodes (run by the program executor).
const Family *family_of(int32_t opcode);

// The generic checks (counts against ops.def, dtype codes, ranks, attribute arrays, data pointers
// when need_data) followed by the family's check.
st_code check_instr(const st_instr *ins, bool need_data, PreparedPtr *prep, st_status *st);

}  // namespace st

// The kernel families (native/kernels/cpu), one per file.
extern const st::Family st_elemwise_family;  // ELEMWISE
extern const st::Family st_creation_family;  // FILL RANGE EYE RANDOM_UNIFORM RANDOM_NORMAL
extern const st::Family st_shape_family;     // COPY CONCAT PAD
extern const st::Family st_reduce_family;    // REDUCE ARGREDUCE
extern const st::Family st_softmax_family;   // SOFTMAX LOG_SOFTMAX
extern const st::Family st_gather_family;    // GATHER ONE_HOT
extern const st::Family st_matmul_family;    // MATMUL
extern const st::Family st_conv_family;      // CONV2D CONV2D_GRAD_INPUT CONV2D_GRAD_FILTER CONV2D_BIAS_ACT
extern const st::Family st_pool_family;      // MAX_POOL2D AVG_POOL2D MAX_POOL2D_GRAD AVG_POOL2D_GRAD
extern const st::Family st_adjoint_family;   // GATHER_GRAD SCATTER_STRIDED
extern const st::Family st_epilogue_family;  // MATMUL_BIAS_ACT GEMM_ACC
extern const st::Family st_collective_family;  // ALLREDUCE BROADCAST ALLGATHER ALLREDUCE_START/WAIT
extern const st::Family st_optim_family;     // ADAM_UPDATE
// Waits for every reduction ALLREDUCE_START handed to the communication thread from this thread and
// no ALLREDUCE_WAIT collected: a run calls it before returning, so no reduction outlives its buffer.
void st_collectives_finish_started();
