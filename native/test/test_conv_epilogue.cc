// CONV2D_BIAS_ACT: act(conv2d(x, w) + bias) against plain double loops, and bit for bit against
// CONV2D followed by ELEMWISE [add, act] (what the unfused graph computes).
#include <algorithm>

#include "test.h"

using sttest::Tensor;

namespace {

struct Geo {
  int64_t N, H, W, C, K, F, s;
  bool same;
  int64_t OH = 0, OW = 0, pt = 0, pl = 0;
  void init() {
    // TensorFlow's output size and leading pad for each axis (dilation 1)
    auto axis = [&](int64_t in, int64_t *pad) {
      if (same) {
        const int64_t o = (in + s - 1) / s;
        *pad = std::max<int64_t>((o - 1) * s + K - in, 0) / 2;
        return o;
      }
      *pad = 0;
      return in >= K ? (in - K) / s + 1 : 0;
    };
    OH = axis(H, &pt);
    OW = axis(W, &pl);
  }
  std::vector<int64_t> conv_attrs() const { return {s, s, pt, pl, 1, 1}; }
  std::vector<int64_t> attrs(int act) const { return {s, s, pt, pl, 1, 1, act}; }
};

double act_of(int act, double v) {
  switch (act) {
    case ST_ACT_RELU: return v > 0 ? v : 0;
    case ST_ACT_SIGMOID: return 1 / (1 + std::exp(-v));
    case ST_ACT_TANH: return std::tanh(v);
    default: return v;
  }
}

// act(conv(x, w) + bias) by direct loops in double.
std::vector<double> reference(const Geo &g, const Tensor &x, const Tensor &w, const Tensor &bias, int act) {
  std::vector<double> y((size_t)(g.N * g.OH * g.OW * g.F));
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t oh = 0; oh < g.OH; oh++)
      for (int64_t ow = 0; ow < g.OW; ow++)
        for (int64_t f = 0; f < g.F; f++) {
          double s = 0;
          for (int64_t kh = 0; kh < g.K; kh++)
            for (int64_t kw = 0; kw < g.K; kw++) {
              const int64_t ih = oh * g.s - g.pt + kh, iw = ow * g.s - g.pl + kw;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              for (int64_t c = 0; c < g.C; c++)
                s += x.get(((n * g.H + ih) * g.W + iw) * g.C + c) * w.get(((kh * g.K + kw) * g.C + c) * g.F + f);
            }
          y[(size_t)(((n * g.OH + oh) * g.OW + ow) * g.F + f)] = act_of(act, s + bias.get(f));
        }
  return y;
}

// The shapes: valid and same padding, strides 1 and 2, 1, 3 and 32 input channels, output channel
// counts on both sides of the direct kernel's threshold (and a 1x1 kernel: x is the column matrix),
// odd spatial sizes.
std::vector<Geo> shapes() {
  std::vector<Geo> v;
  for (int64_t C : {1, 3, 32})
    for (int64_t F : {3, 16, 37})
      for (int64_t s : {1, 2})
        for (bool same : {false, true})
          for (int64_t K : {3, 1}) {
            if (K == 1 && (same || F == 16)) continue;
            Geo g{2, 9, 7, C, K, F, s, same};
            g.init();
            v.push_back(g);
          }
  return v;
}

}  // namespace

TEST(conv2d_bias_act_matches_loops) {
  for (int32_t dt : {ST_F32, ST_F64})
    for (const Geo &g : shapes())
      for (int act = 0; act < ST_ACT_COUNT; act++) {
        Tensor x(dt, {g.N, g.H, g.W, g.C}), w(dt, {g.K, g.K, g.C, g.F}), bias(dt, {g.F}), y(dt, {g.N, g.OH, g.OW, g.F});
        x.fill_random(3 + act), w.fill_random(5), bias.fill_random(7, -0.5, 0.5), y.fill_random(11);
        EXPECT(sttest::run(ST_OP_CONV2D_BIAS_ACT, {&x, &w, &bias}, {&y}, g.attrs(act)) == ST_OK);
        const std::vector<double> want = reference(g, x, w, bias, act);
        const double tol = dt == ST_F32 ? 2e-6 * (double)(g.K * g.K * g.C + 1) : 1e-12 * (double)(g.K * g.K * g.C + 1);
        int bad = 0;
        for (int64_t i = 0; i < y.size(); i++)
          if (!(std::fabs(y.get(i) - want[(size_t)i]) <= tol * (1 + std::fabs(want[(size_t)i]))) && bad++ < 3)
            std::fprintf(stderr, "  FAIL conv2dBiasAct %s C=%lld F=%lld K=%lld s=%lld same=%d act=%d [%lld] = %.9g, want %.9g\n",
                         st_dtype_name(dt), (long long)g.C, (long long)g.F, (long long)g.K, (long long)g.s, (int)g.same,
                         act, (long long)i, y.get(i), want[(size_t)i]);
        if (bad) sttest::failures++;
      }
}

TEST(conv2d_bias_act_has_the_bits_of_conv2d_then_elemwise) {
  const int ew_of_act[] = {-1, ST_EW_RELU, ST_EW_SIGMOID, ST_EW_TANH};
  std::vector<Geo> geos = shapes();
  Geo big{3, 30, 27, 8, 3, 32, 1, true};  // several items per image, bigger tiles
  big.init();
  geos.push_back(big);
  for (int32_t dt : {ST_F32, ST_F64})
    for (const Geo &g : geos)
      for (int act = 0; act < ST_ACT_COUNT; act++) {
        Tensor x(dt, {g.N, g.H, g.W, g.C}), w(dt, {g.K, g.K, g.C, g.F}), bias(dt, {g.F});
        Tensor fused(dt, {g.N, g.OH, g.OW, g.F}), conv(dt, {g.N, g.OH, g.OW, g.F}), unfused(dt, {g.N, g.OH, g.OW, g.F});
        x.fill_random(13, -2, 2), w.fill_random(17, -2, 2), bias.fill_random(19, -6, 6);
        bias.set(0, NAN);                   // NaN propagates through every activation in both
        if (g.F > 1) bias.set(1, -1e4);     // relu of a large negative, saturated sigmoid / tanh
        if (g.F > 2) bias.set(2, 1e4);
        EXPECT(sttest::run(ST_OP_CONV2D_BIAS_ACT, {&x, &w, &bias}, {&fused}, g.attrs(act)) == ST_OK);
        EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&conv}, g.conv_attrs()) == ST_OK);
        std::vector<int64_t> prog = {dt, act ? 2 : 1, ST_EW_ADD, 2, 0, 1, 0};
        if (act) prog.insert(prog.end(), {ew_of_act[act], 3, 2, 0, 0});
        prog.push_back(act ? 3 : 2);
        EXPECT(sttest::run(ST_OP_ELEMWISE, {&conv, &bias}, {&unfused}, prog, std::vector<double>(act ? 4 : 2, 0.0)) ==
               ST_OK);
        if (std::memcmp(fused.t.data, unfused.t.data, (size_t)fused.size() * st_dtype_size(dt)) != 0) {
          std::fprintf(stderr, "  FAIL conv2dBiasAct fused/unfused bits differ: %s C=%lld F=%lld K=%lld s=%lld same=%d act=%d\n",
                       st_dtype_name(dt), (long long)g.C, (long long)g.F, (long long)g.K, (long long)g.s, (int)g.same, act);
          sttest::failures++;
        }
      }
}

TEST(conv2d_bias_act_rejects_bad_operands) {
  Tensor x(ST_F32, {1, 5, 5, 2}), w(ST_F32, {3, 3, 2, 4}), bias(ST_F32, {4}), y(ST_F32, {1, 3, 3, 4});
  std::string msg;
  EXPECT(sttest::run(ST_OP_CONV2D_BIAS_ACT, {&x, &w, &bias}, {&y}, {1, 1, 0, 0, 1, 1, 1}, {}, &msg) == ST_OK);
  EXPECT(sttest::run(ST_OP_CONV2D_BIAS_ACT, {&x, &w, &bias}, {&y}, {1, 1, 0, 0, 1, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("conv2dBiasAct") != std::string::npos && msg.find("act") != std::string::npos);
  EXPECT(sttest::run(ST_OP_CONV2D_BIAS_ACT, {&x, &w, &bias}, {&y}, {1, 1, 0, 0, 1, 1, 4}, {}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("unknown activation 4") != std::string::npos);
  Tensor b5(ST_F32, {5});
  EXPECT(sttest::run(ST_OP_CONV2D_BIAS_ACT, {&x, &w, &b5}, {&y}, {1, 1, 0, 0, 1, 1, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(msg.find("bias [5]") != std::string::npos);
  Tensor bd(ST_F64, {4});
  EXPECT(sttest::run(ST_OP_CONV2D_BIAS_ACT, {&x, &w, &bd}, {&y}, {1, 1, 0, 0, 1, 1, 1}, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(msg.find("bias dtype float64") != std::string::npos);
}
