// FILL, RANGE, EYE and the counter-based RNG (Philox4x32-10).  Element i of a random tensor is a
// function of (seed, counter_offset + i) alone, so any thread split gives the same numbers.
#include <cmath>

#include "../../runtime/internal.h"

namespace {

struct Philox {
  uint32_t k0, k1;
  // Returns 4 random words for counter ctr (64-bit counter in the first two words).
  void block(uint64_t ctr, uint32_t out[4]) const {
    uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = 0x9e3779b9u, c3 = 0x85ebca6bu;
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

}  // namespace

st_code st_exec_creation(st_ctx *ctx, const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  st_tensor &out = ins->out[0];
  int64_t n = st::numel(out);
  switch (ins->opcode) {
    case ST_OP_FILL: {
      ST_REQUIRE(st, ins->n_fattr == 1, ST_ERR_ARG, "%s: expected 1 float attribute", op);
      double v = ins->fattr[0];
      return st::dispatch_dtype(out.dtype, [&](auto z) {
        using T = decltype(z);
        T tv = std::is_same<T, uint8_t>::value ? (T)(v != 0) : (T)v;
        fill_with<T>(ctx, out, [tv](int64_t) { return tv; });
        return ST_OK;
      });
    }
    case ST_OP_RANGE: {
      ST_REQUIRE(st, ins->n_fattr == 2, ST_ERR_ARG, "%s: expected [start, step]", op);
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
      ST_REQUIRE(st, ins->n_iattr == 1, ST_ERR_ARG, "%s: expected [k]", op);
      ST_REQUIRE(st, out.ndim >= 2, ST_ERR_SHAPE, "%s: output must have rank >= 2, got %s", op, st::ShapeStr(out).c_str());
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
    case ST_OP_RANDOM_UNIFORM:
    case ST_OP_RANDOM_NORMAL: {
      ST_REQUIRE(st, ins->n_iattr == 2 && ins->n_fattr == 2, ST_ERR_ARG, "%s: expected [seed, offset] and 2 floats", op);
      ST_REQUIRE(st, out.dtype == ST_F32 || out.dtype == ST_F64 || (out.dtype == ST_I32 && ins->opcode == ST_OP_RANDOM_UNIFORM),
                 ST_ERR_DTYPE, "%s: cannot produce %s", op, st_dtype_name(out.dtype));
      uint64_t seed = (uint64_t)ins->iattr[0], offset = (uint64_t)ins->iattr[1];
      Philox ph{(uint32_t)seed, (uint32_t)(seed >> 32)};
      double p0 = ins->fattr[0], p1 = ins->fattr[1];
      bool normal = ins->opcode == ST_OP_RANDOM_NORMAL;
      auto sample = [=](int64_t i) {
        uint32_t w[4];
        ph.block(offset + (uint64_t)i, w);
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
      (void)n;
      return ST_OK;
    }
  }
  return st_fail(st, ST_ERR_INTERNAL, "%s: not a creation op", op);
}
