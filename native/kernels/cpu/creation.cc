// FILL, RANGE, EYE and the counter-based RNG (Philox4x32-10).  Element i of a random tensor is a
// function of (seed, call, counter_offset + i) alone, so any thread split gives the same numbers.
// The seed is the Philox key; counter_offset + i fills the block's first two counter words; the
// call number (0 in the no-input form) is mixed into the other two, so each call of a random
// stream is an independent sequence and call 0 is the plain sequence of the seed.
#include <cmath>

#include "../../runtime/internal.h"

namespace {

struct Philox {
  uint32_t k0, k1;
  // Returns 4 random words for counter ctr (64-bit counter in the first two words) of stream call.
  void block(uint64_t ctr, uint64_t call, uint32_t out[4]) const {
    uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32);
    uint32_t c2 = 0x9e3779b9u ^ (uint32_t)call, c3 = 0x85ebca6bu ^ (uint32_t)(call >> 32);
    uint32_t a = k0, b = k1;
    for (int r = 0; r < 10; r++) {
      uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
      uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ a, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ b;
      c1 = (uint32_t)p1;
      c3 = (uint32_t)p0;
      c0 = n0;
      c2 = n2;
      a += 0x9E3779B9u;
      b += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
  }
};

constexpr double kTwo53 = 9007199254740992.0;

// Reads the [seed, call] state of the one-input form: integral float64 values in [0, 2^53).
st_code read_stream_state(const st_instr *ins, uint64_t *seed, uint64_t *call, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const double *v = static_cast<const double *>(ins->in[0].data);
  for (int k = 0; k < 2; k++)
    ST_REQUIRE(st, v[k] >= 0 && v[k] < kTwo53 && v[k] == std::floor(v[k]), ST_ERR_VALUE,
               "%s: stream state [seed, call] must hold integers in [0, 2^53), got [%.17g, %.17g]", op, v[0], v[1]);
  *seed = (uint64_t)v[0];
  *call = (uint64_t)v[1];
  return ST_OK;
}

inline double unit53(uint32_t hi, uint32_t lo) {  // [0, 1)
  return ((uint64_t)(hi >> 5) * 67108864.0 + (lo >> 6)) * (1.0 / 9007199254740992.0);
}

template <class T>
void store(void *data, int64_t i, double v) {
  static_cast<T *>(data)[i] = std::is_same<T, uint8_t>::value ? (T)(v != 0) : (T)v;
}

template <class T, class F>
void fill_with(st_ctx *ctx, st_tensor &out, F &&f) {
  int64_t n = st::numel(out);
  T *p = static_cast<T *>(out.data);
  st::parallel(ctx, n * 4, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(n, ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) p[i] = f(i);
  });
}

// Everything but the stream state's values, which are data.
st_code check_creation(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &out = ins->out[0];
  switch (ins->opcode) {
    case ST_OP_FILL: ST_REQUIRE(st, ins->n_fattr == 1, ST_ERR_ARG, "%s: expected 1 float attribute", op); return ST_OK;
    case ST_OP_RANGE: ST_REQUIRE(st, ins->n_fattr == 2, ST_ERR_ARG, "%s: expected [start, step]", op); return ST_OK;
    case ST_OP_EYE:
      ST_REQUIRE(st, ins->n_iattr == 1, ST_ERR_ARG, "%s: expected [k]", op);
      ST_REQUIRE(st, out.ndim >= 2, ST_ERR_SHAPE, "%s: output must have rank >= 2, got %s", op, st::ShapeStr(out).c_str());
      return ST_OK;
    case ST_OP_RANDOM_UNIFORM:
    case ST_OP_RANDOM_NORMAL: {
      ST_REQUIRE(st, ins->n_in <= 1, ST_ERR_ARG, "%s: expected 0 inputs or 1 (the stream state), got %d", op,
                 (int)ins->n_in);
      const bool stateful = ins->n_in == 1;
      if (stateful) {
        const st_tensor &s = ins->in[0];
        ST_REQUIRE(st, s.dtype == ST_F64 && st::numel(s) == 2, ST_ERR_DTYPE,
                   "%s: the stream state must be float64 [seed, call], got %s %s", op, st_dtype_name(s.dtype),
                   st::ShapeStr(s).c_str());
      }
      ST_REQUIRE(st, ins->n_iattr == (stateful ? 1 : 2) && ins->n_fattr == 2, ST_ERR_ARG,
                 stateful ? "%s: expected int attributes [offset] and 2 floats" : "%s: expected [seed, offset] and 2 floats",
                 op);
      ST_REQUIRE(st, out.dtype == ST_F32 || out.dtype == ST_F64 || (out.dtype == ST_I32 && ins->opcode == ST_OP_RANDOM_UNIFORM),
                 ST_ERR_DTYPE, "%s: cannot produce %s", op, st_dtype_name(out.dtype));
      return ST_OK;
    }
  }
  return st_fail(st, ST_ERR_INTERNAL, "%s: not a creation op", op);
}

st_code run_random(st_ctx *ctx, const st_instr *ins, st_status *st) {
  st_tensor &out = ins->out[0];
  const bool stateful = ins->n_in == 1;
  uint64_t seed = (uint64_t)ins->iattr[0], call = 0, offset = (uint64_t)ins->iattr[stateful ? 0 : 1];
  if (stateful) ST_CHECK(read_stream_state(ins, &seed, &call, st));
  Philox ph{(uint32_t)seed, (uint32_t)(seed >> 32)};
  double p0 = ins->fattr[0], p1 = ins->fattr[1];
  bool normal = ins->opcode == ST_OP_RANDOM_NORMAL;
  auto sample = [=](int64_t i) {
    uint32_t w[4];
    ph.block(offset + (uint64_t)i, call, w);
    if (!normal) return p0 + (p1 - p0) * unit53(w[0], w[1]);
    double u1 = 1.0 - unit53(w[0], w[1]), u2 = unit53(w[2], w[3]);  // u1 in (0, 1]
    return p0 + p1 * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  if (out.dtype == ST_F64)
    fill_with<double>(ctx, out, sample);
  else if (out.dtype == ST_F32)
    fill_with<float>(ctx, out, [&](int64_t i) {
      float v = (float)sample(i);
      // rounding to float may reach `high`; keep the interval half-open
      if (!normal && v >= (float)p1 && p1 > p0) v = std::nextafter((float)p1, (float)p0);
      return v;
    });
  else
    fill_with<int32_t>(ctx, out, [&](int64_t i) { return (int32_t)std::floor(sample(i)); });
  return ST_OK;
}

st_code run_creation(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  st_tensor &out = ins->out[0];
  switch (ins->opcode) {
    case ST_OP_FILL: {
      double v = ins->fattr[0];
      return st::dispatch_dtype(out.dtype, [&](auto z) {
        using T = decltype(z);
        T tv = std::is_same<T, uint8_t>::value ? (T)(v != 0) : (T)v;
        fill_with<T>(ctx, out, [tv](int64_t) { return tv; });
        return ST_OK;
      });
    }
    case ST_OP_RANGE: {
      double a = ins->fattr[0], s = ins->fattr[1];
      return st::dispatch_dtype(out.dtype, [&](auto z) {
        using T = decltype(z);
        fill_with<T>(ctx, out, [a, s](int64_t i) {
          double v = a + (double)i * s;
          return std::is_same<T, uint8_t>::value ? (T)(v != 0) : (T)v;
        });
        return ST_OK;
      });
    }
    case ST_OP_EYE: {
      int64_t k = ins->iattr[0], rows = out.shape[out.ndim - 2], cols = out.shape[out.ndim - 1];
      return st::dispatch_dtype(out.dtype, [&](auto z) {
        using T = decltype(z);
        fill_with<T>(ctx, out, [=](int64_t i) {
          int64_t c = i % cols, r = (i / cols) % rows;
          return (T)(c - r == k ? 1 : 0);
        });
        return ST_OK;
      });
    }
    default: return run_random(ctx, ins, st);
  }
}

}  // namespace

const st::Family st_creation_family = {check_creation, run_creation};
