#include "test.h"

using sttest::Tensor;

TEST(fill_and_range) {
  Tensor a(ST_F32, {3, 4});
  EXPECT(sttest::run(ST_OP_FILL, {}, {&a}, {}, {2.5}) == ST_OK);
  for (int i = 0; i < 12; i++) EXPECT_NEAR(a.get(i), 2.5, 0);
  Tensor r(ST_I32, {5});
  EXPECT(sttest::run(ST_OP_RANGE, {}, {&r}, {}, {3, -2}) == ST_OK);
  for (int i = 0; i < 5; i++) EXPECT_NEAR(r.get(i), 3 - 2 * i, 0);
  Tensor e(ST_F64, {3, 4});
  EXPECT(sttest::run(ST_OP_EYE, {}, {&e}, {1}) == ST_OK);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) EXPECT_NEAR(e.get(i * 4 + j), j - i == 1 ? 1 : 0, 0);
}

TEST(rng_independent_of_threads) {
  Tensor a(ST_F32, {100000}), b(ST_F32, {100000});
  EXPECT(sttest::run(ST_OP_RANDOM_NORMAL, {}, {&a}, {42, 0}, {0, 1}) == ST_OK);
  st_ctx serial{nullptr};
  st_tensor out = b.t;
  const int64_t ia[] = {42, 0};
  const double fa[] = {0, 1};
  st_instr ins{ST_OP_RANDOM_NORMAL, 0, 1, nullptr, &out, ia, 2, fa, 2};
  st_status s{};
  EXPECT(st_exec(&serial, &ins, &s) == ST_OK);
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < a.size(); i++) {
    EXPECT(a.get(i) == b.get(i));
    sum += a.get(i), sq += a.get(i) * a.get(i);
  }
  double mean = sum / a.size(), var = sq / a.size() - mean * mean;
  EXPECT(std::fabs(mean) < 0.02);
  EXPECT(std::fabs(var - 1) < 0.03);
  Tensor u(ST_F64, {50000});
  EXPECT(sttest::run(ST_OP_RANDOM_UNIFORM, {}, {&u}, {7, 0}, {-2, 3}) == ST_OK);
  double lo = 1e9, hi = -1e9;
  for (int64_t i = 0; i < u.size(); i++) lo = std::fmin(lo, u.get(i)), hi = std::fmax(hi, u.get(i));
  EXPECT(lo >= -2 && lo < -1.99 && hi < 3 && hi > 2.99);
}

TEST(creation_rejects_bad_attributes) {
  Tensor a(ST_F32, {2});
  std::string msg;
  EXPECT(sttest::run(ST_OP_FILL, {}, {&a}, {}, {}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("fill") != std::string::npos);
  Tensor b(ST_BOOL, {2});
  EXPECT(sttest::run(ST_OP_RANDOM_NORMAL, {}, {&b}, {1, 0}, {0, 1}, &msg) == ST_ERR_DTYPE);
}

namespace {

// Philox4x32-10 written from its published definition (Salmon et al., SC'11), as the oracle for
// the counter layout documented in ops.def.
void philox_ref(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
  uint32_t c[4] = {ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]}, k[2] = {key_in[0], key_in[1]};
  for (int r = 0; r < 10; r++) {
    const uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
    const uint32_t n[4] = {(uint32_t)(p1 >> 32) ^ c[1] ^ k[0], (uint32_t)p1, (uint32_t)(p0 >> 32) ^ c[3] ^ k[1],
                           (uint32_t)p0};
    for (int j = 0; j < 4; j++) c[j] = n[j];
    k[0] += 0x9E3779B9u, k[1] += 0xBB67AE85u;
  }
  for (int j = 0; j < 4; j++) out[j] = c[j];
}

// A random instruction in the one-input form: state [seed, call], iattr [offset].
st_code run_stream(int opcode, st_ctx *ctx, sttest::Tensor &state, sttest::Tensor &out, int64_t offset, double p0,
                   double p1, st_status *s) {
  st_tensor in = state.t, o = out.t;
  const int64_t ia[] = {offset};
  const double fa[] = {p0, p1};
  st_instr ins{opcode, 1, 1, &in, &o, ia, 1, fa, 2};
  return st_exec(ctx, &ins, s);
}

sttest::Tensor stream_state(double seed, double call) {
  sttest::Tensor s(ST_F64, {2});
  s.set(0, seed), s.set(1, call);
  return s;
}

}  // namespace

TEST(rng_stream_state_matches_philox_reference) {
  // The reference itself against the Random123 known-answer vectors.
  const uint32_t z[4] = {0, 0, 0, 0}, zk[2] = {0, 0};
  uint32_t w[4];
  philox_ref(z, zk, w);
  EXPECT(w[0] == 0x6627e8d5u && w[1] == 0xe169c58du && w[2] == 0xbc57ac4cu && w[3] == 0x9b00dbd8u);
  const uint32_t pc[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, pk[2] = {0xa4093822u, 0x299f31d0u};
  philox_ref(pc, pk, w);
  EXPECT(w[0] == 0xd16cfe09u && w[1] == 0x94fdccebu && w[2] == 0x5001e420u && w[3] == 0x24126ea1u);
  const uint32_t ones[4] = {~0u, ~0u, ~0u, ~0u}, ones_key[2] = {~0u, ~0u};  // every product and key bump wraps
  philox_ref(ones, ones_key, w);
  EXPECT(w[0] == 0x408f276du && w[1] == 0x41c83b0eu && w[2] == 0xa20bc7c6u && w[3] == 0x6d5451fdu);
  // uniform float64 in [0, 1): 53 random bits of words 0 and 1, over 2^53 (exact: no rounding)
  const double seed = 0x12345678abcd, call = 0x1f00000003;  // both words of the key and of call in use
  const int64_t offset = (int64_t(1) << 33) - 3;           // the counter crosses into its high word
  sttest::Tensor state = stream_state(seed, call), u(ST_F64, {8});
  st_status s{};
  EXPECT(run_stream(ST_OP_RANDOM_UNIFORM, sttest::ctx, state, u, offset, 0, 1, &s) == ST_OK);
  const uint64_t sd = (uint64_t)seed, cl = (uint64_t)call;
  const uint32_t key[2] = {(uint32_t)sd, (uint32_t)(sd >> 32)};
  for (int i = 0; i < 8; i++) {
    const uint64_t ctr = (uint64_t)offset + (uint64_t)i;
    const uint32_t c[4] = {(uint32_t)ctr, (uint32_t)(ctr >> 32), 0x9e3779b9u ^ (uint32_t)cl, 0x85ebca6bu ^ (uint32_t)(cl >> 32)};
    philox_ref(c, key, w);
    const double unit = ((double)(w[0] >> 5) * 67108864.0 + (double)(w[1] >> 6)) / 9007199254740992.0;
    EXPECT(u.get(i) == unit);
  }
  // words 2 and 3 reach the output through the normal's angle (Box-Muller: radius from words 0-1)
  sttest::Tensor nz(ST_F64, {8});
  EXPECT(run_stream(ST_OP_RANDOM_NORMAL, sttest::ctx, state, nz, offset, 0, 1, &s) == ST_OK);
  for (int i = 0; i < 8; i++) {
    const uint64_t ctr = (uint64_t)offset + (uint64_t)i;
    const uint32_t c[4] = {(uint32_t)ctr, (uint32_t)(ctr >> 32), 0x9e3779b9u ^ (uint32_t)cl, 0x85ebca6bu ^ (uint32_t)(cl >> 32)};
    philox_ref(c, key, w);
    const double u1 = 1 - ((double)(w[0] >> 5) * 67108864.0 + (double)(w[1] >> 6)) / 9007199254740992.0;
    const double u2 = ((double)(w[2] >> 5) * 67108864.0 + (double)(w[3] >> 6)) / 9007199254740992.0;
    EXPECT_NEAR(nz.get(i), std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2), 1e-12);
  }
}

TEST(rng_stream_call_zero_is_the_plain_sequence) {
  struct Case {
    int opcode;
    int32_t dtype;
    double p0, p1;
  };
  for (const Case &c : {Case{ST_OP_RANDOM_UNIFORM, ST_F32, -2, 3}, Case{ST_OP_RANDOM_UNIFORM, ST_F64, 0, 1},
                        Case{ST_OP_RANDOM_UNIFORM, ST_I32, 0, 10}, Case{ST_OP_RANDOM_NORMAL, ST_F32, 1, 2},
                        Case{ST_OP_RANDOM_NORMAL, ST_F64, 0, 1}}) {
    const int64_t seed = 987654321012, offset = 4096;
    Tensor plain(c.dtype, {1000}), call0(c.dtype, {1000}), call1(c.dtype, {1000});
    EXPECT(sttest::run(c.opcode, {}, {&plain}, {seed, offset}, {c.p0, c.p1}) == ST_OK);
    Tensor s0 = stream_state((double)seed, 0), s1 = stream_state((double)seed, 1);
    st_status s{};
    EXPECT(run_stream(c.opcode, sttest::ctx, s0, call0, offset, c.p0, c.p1, &s) == ST_OK);
    EXPECT(run_stream(c.opcode, sttest::ctx, s1, call1, offset, c.p0, c.p1, &s) == ST_OK);
    EXPECT(std::memcmp(plain.t.data, call0.t.data, (size_t)plain.size() * st_dtype_size(c.dtype)) == 0);
    int same = 0;
    for (int64_t i = 0; i < plain.size(); i++) same += plain.get(i) == call1.get(i);
    EXPECT(same < (c.dtype == ST_I32 ? 200 : 3));  // int32 draws of [0, 10) agree 1 time in 10 by chance
  }
}

TEST(rng_stream_any_thread_count_gives_the_same_bits) {
  // Large enough that every pool below splits it.
  const int64_t n = 600000;
  Tensor ref(ST_F32, {n});
  Tensor state = stream_state(31, 77);
  st_status s{};
  st_ctx serial{nullptr};
  EXPECT(run_stream(ST_OP_RANDOM_NORMAL, &serial, state, ref, 5, 0, 1, &s) == ST_OK);
  for (int threads : {1, 2, 3, 4}) {
    st_pool *pool = st_pool_new(threads);
    st_ctx c{pool};
    Tensor out(ST_F32, {n});
    EXPECT(run_stream(ST_OP_RANDOM_NORMAL, &c, state, out, 5, 0, 1, &s) == ST_OK);
    EXPECT(std::memcmp(ref.t.data, out.t.data, (size_t)n * 4) == 0);
    st_pool_free(pool);
  }
}

TEST(rng_stream_rejects_bad_state) {
  Tensor out(ST_F32, {4});
  st_status s{};
  const double bad[][2] = {{1.5, 0}, {0, 0.25}, {-1, 0}, {0, -3}, {9007199254740992.0, 0}, {0, 1e300},
                           {std::nan(""), 0}, {0, INFINITY}};
  for (const auto &b : bad) {
    Tensor state = stream_state(b[0], b[1]);
    s = st_status{};
    const st_code rc = run_stream(ST_OP_RANDOM_UNIFORM, sttest::ctx, state, out, 0, 0, 1, &s);
    EXPECT(rc == ST_ERR_VALUE && s.code == rc);
    EXPECT(std::strstr(s.message, "randomUniform") != nullptr);
  }
  Tensor ok = stream_state(9007199254740991.0, 9007199254740991.0);  // 2^53 - 1 is the largest accepted
  EXPECT(run_stream(ST_OP_RANDOM_UNIFORM, sttest::ctx, ok, out, 0, 0, 1, &s) == ST_OK);
  // Wrong dtype, wrong size, wrong attribute count, two inputs.
  std::string msg;
  Tensor f32(ST_F32, {2}), three(ST_F64, {3});
  EXPECT(sttest::run(ST_OP_RANDOM_NORMAL, {&f32}, {&out}, {0}, {0, 1}, &msg) == ST_ERR_DTYPE);
  EXPECT(msg.find("randomNormal") != std::string::npos);
  EXPECT(sttest::run(ST_OP_RANDOM_NORMAL, {&three}, {&out}, {0}, {0, 1}, &msg) == ST_ERR_DTYPE);
  EXPECT(msg.find("randomNormal") != std::string::npos);
  EXPECT(sttest::run(ST_OP_RANDOM_NORMAL, {&ok}, {&out}, {1, 0}, {0, 1}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_RANDOM_NORMAL, {&ok, &ok}, {&out}, {0}, {0, 1}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("randomNormal") != std::string::npos);
}

// An output whose element count overflows int64 (or whose bytes exceed the limit) is refused before
// the kernel runs: the data pointer below is never written.
TEST(shapes_that_overflow_are_refused) {
  float cell = 7;
  const int64_t two32 = int64_t(1) << 32;
  const std::vector<std::vector<int64_t>> shapes = {
      {two32, two32}, {two32, two32, 2}, {int64_t(1) << 62, 4}, {(int64_t(1) << 48) + 1}, {3, 3, INT64_MAX}};
  for (const auto &shape : shapes) {
    st_tensor out{};
    out.data = &cell;
    out.dtype = ST_F32;
    out.ndim = (int32_t)shape.size();
    for (size_t d = 0; d < shape.size(); d++) out.shape[d] = shape[d];
    const double fa[] = {1};
    st_instr ins{ST_OP_FILL, 0, 1, nullptr, &out, nullptr, 0, fa, 1};
    st_status s{};
    st_ctx ctx{nullptr};
    EXPECT(st_exec(&ctx, &ins, &s) == ST_ERR_ALLOC);
    EXPECT(std::strstr(s.message, "too large") != nullptr);
  }
  EXPECT(cell == 7);
  EXPECT(st_shape_bytes(ST_F64, 2, std::vector<int64_t>{0, INT64_MAX}.data()) == 0);
  EXPECT(st_shape_bytes(ST_F64, 2, std::vector<int64_t>{2, 3}.data()) == 48);
  EXPECT(st_shape_bytes(ST_F32, 1, std::vector<int64_t>{int64_t(1) << 48}.data()) == int64_t(1) << 50);
  EXPECT(st_shape_bytes(ST_F32, 1, std::vector<int64_t>{(int64_t(1) << 48) + 1}.data()) == -1);
}
