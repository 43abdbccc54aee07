// CONV2D (+ gradients) and pooling (+ gradients) against direct loops.
#include <algorithm>
#include <limits>

#include "test.h"

using sttest::Tensor;

namespace {

// TensorFlow-style output size and leading pad for one axis.
int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, bool same, int64_t *pad) {
  const int64_t ek = (k - 1) * d + 1;
  if (same) {
    const int64_t o = (in + s - 1) / s;
    *pad = std::max<int64_t>((o - 1) * s + ek - in, 0) / 2;
    return o;
  }
  *pad = 0;
  return in >= ek ? (in - ek) / s + 1 : 0;
}

struct Conv {
  int64_t N, H, W, C, KH, KW, F, sh, sw, dh, dw;
  bool same;
  int64_t OH = 0, OW = 0, pt = 0, pl = 0;
  void init() {
    OH = out_size(H, KH, sh, dh, same, &pt);
    OW = out_size(W, KW, sw, dw, same, &pl);
  }
  std::vector<int64_t> attrs() const { return {sh, sw, pt, pl, dh, dw}; }
  // calls f(n, oh, ow, kh, kw, x index base, y index base) for every in-bounds tap
  template <class Fn>
  void taps(Fn &&f) const {
    for (int64_t n = 0; n < N; n++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++)
          for (int64_t kh = 0; kh < KH; kh++)
            for (int64_t kw = 0; kw < KW; kw++) {
              const int64_t ih = oh * sh - pt + kh * dh, iw = ow * sw - pl + kw * dw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              f(((n * H + ih) * W + iw) * C, ((n * OH + oh) * OW + ow) * F, (kh * KW + kw) * C * F);
            }
  }
};

std::vector<double> ref_conv(const Conv &g, const Tensor &x, const Tensor &w) {
  std::vector<double> y((size_t)(g.N * g.OH * g.OW * g.F), 0);
  g.taps([&](int64_t xi, int64_t yi, int64_t wi) {
    for (int64_t c = 0; c < g.C; c++)
      for (int64_t f = 0; f < g.F; f++) y[(size_t)(yi + f)] += x.get(xi + c) * w.get(wi + c * g.F + f);
  });
  return y;
}
std::vector<double> ref_grad_input(const Conv &g, const Tensor &dy, const Tensor &w) {
  std::vector<double> dx((size_t)(g.N * g.H * g.W * g.C), 0);
  g.taps([&](int64_t xi, int64_t yi, int64_t wi) {
    for (int64_t c = 0; c < g.C; c++)
      for (int64_t f = 0; f < g.F; f++) dx[(size_t)(xi + c)] += dy.get(yi + f) * w.get(wi + c * g.F + f);
  });
  return dx;
}
std::vector<double> ref_grad_filter(const Conv &g, const Tensor &x, const Tensor &dy) {
  std::vector<double> dw((size_t)(g.KH * g.KW * g.C * g.F), 0);
  g.taps([&](int64_t xi, int64_t yi, int64_t wi) {
    for (int64_t c = 0; c < g.C; c++)
      for (int64_t f = 0; f < g.F; f++) dw[(size_t)(wi + c * g.F + f)] += x.get(xi + c) * dy.get(yi + f);
  });
  return dw;
}

int compare(const char *what, const Tensor &got, const std::vector<double> &want, double tol) {
  int bad = 0;
  if (got.size() != (int64_t)want.size()) {
    std::fprintf(stderr, "  %s: size %lld, want %zu\n", what, (long long)got.size(), want.size());
    return 1;
  }
  for (int64_t i = 0; i < got.size(); i++) {
    const double g = got.get(i), w = want[(size_t)i];
    const bool ok = (std::isnan(w) && std::isnan(g)) || std::fabs(g - w) <= tol * (1 + std::fabs(w));
    if (!ok && bad++ < 3) std::fprintf(stderr, "  %s: [%lld] = %.9g, want %.9g\n", what, (long long)i, g, w);
  }
  return bad;
}

void check_conv(int32_t dt, Conv g, unsigned seed, bool explicit_geometry = false) {
  if (!explicit_geometry) g.init();
  Tensor x(dt, {g.N, g.H, g.W, g.C}), w(dt, {g.KH, g.KW, g.C, g.F}), y(dt, {g.N, g.OH, g.OW, g.F});
  Tensor dy(dt, {g.N, g.OH, g.OW, g.F}), dx(dt, {g.N, g.H, g.W, g.C}), dw(dt, {g.KH, g.KW, g.C, g.F});
  x.fill_random(seed), w.fill_random(seed + 1), dy.fill_random(seed + 2);
  y.fill_random(seed + 3), dx.fill_random(seed + 4), dw.fill_random(seed + 5);  // must be overwritten
  const double tol = dt == ST_F32 ? 2e-5 : 1e-12;
  char label[256];
  std::snprintf(label, sizeof label, "%s x[%lld,%lld,%lld,%lld] w[%lld,%lld,%lld,%lld] s[%lld,%lld] d[%lld,%lld] %s",
                st_dtype_name(dt), (long long)g.N, (long long)g.H, (long long)g.W, (long long)g.C, (long long)g.KH,
                (long long)g.KW, (long long)g.C, (long long)g.F, (long long)g.sh, (long long)g.sw, (long long)g.dh,
                (long long)g.dw, g.same ? "same" : "valid");
  std::string msg;
  st_code rc = sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, g.attrs(), {}, &msg);
  EXPECT(rc == ST_OK);
  if (rc != ST_OK) std::fprintf(stderr, "  %s: %s\n", label, msg.c_str());
  if (compare(label, y, ref_conv(g, x, w), tol)) sttest::failures++, std::fprintf(stderr, "  ^ forward\n");
  rc = sttest::run(ST_OP_CONV2D_GRAD_INPUT, {&dy, &w}, {&dx}, g.attrs(), {}, &msg);
  EXPECT(rc == ST_OK);
  if (rc != ST_OK) std::fprintf(stderr, "  %s: %s\n", label, msg.c_str());
  if (compare(label, dx, ref_grad_input(g, dy, w), tol)) sttest::failures++, std::fprintf(stderr, "  ^ grad input\n");
  rc = sttest::run(ST_OP_CONV2D_GRAD_FILTER, {&x, &dy}, {&dw}, g.attrs(), {}, &msg);
  EXPECT(rc == ST_OK);
  if (rc != ST_OK) std::fprintf(stderr, "  %s: %s\n", label, msg.c_str());
  if (compare(label, dw, ref_grad_filter(g, x, dy), tol)) sttest::failures++, std::fprintf(stderr, "  ^ grad filter\n");
}

double dot(const Tensor &a, const Tensor &b) {
  double s = 0;
  for (int64_t i = 0; i < a.size(); i++) s += a.get(i) * b.get(i);
  return s;
}

// ---- pooling reference ----
struct Pool {
  int64_t N, H, W, C, kh, kw, sh, sw;
  bool same;
  int64_t OH = 0, OW = 0, pt = 0, pl = 0;
  void init() {
    OH = out_size(H, kh, sh, 1, same, &pt);
    OW = out_size(W, kw, sw, 1, same, &pl);
  }
  std::vector<int64_t> attrs() const { return {kh, kw, sh, sw, pt, pl}; }
};

// y (forward) and the gradients dx for a given dy.
void ref_pool(const Pool &g, bool is_max, const Tensor &x, const Tensor &dy, std::vector<double> &y,
              std::vector<double> &dx) {
  y.assign((size_t)(g.N * g.OH * g.OW * g.C), 0);
  dx.assign((size_t)(g.N * g.H * g.W * g.C), 0);
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t oh = 0; oh < g.OH; oh++)
      for (int64_t ow = 0; ow < g.OW; ow++)
        for (int64_t c = 0; c < g.C; c++) {
          double best = 0, sum = 0;
          int64_t count = 0, arg = -1;
          for (int64_t i = 0; i < g.kh; i++)
            for (int64_t j = 0; j < g.kw; j++) {
              const int64_t ih = oh * g.sh - g.pt + i, iw = ow * g.sw - g.pl + j;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              const int64_t xi = ((n * g.H + ih) * g.W + iw) * g.C + c;
              const double v = x.get(xi);
              if (count == 0 || v > best || (std::isnan(v) && !std::isnan(best))) best = v, arg = xi;
              sum += v;
              count++;
            }
          const int64_t yi = ((n * g.OH + oh) * g.OW + ow) * g.C + c;
          y[(size_t)yi] = count == 0 ? 0 : is_max ? best : sum / (double)count;
          const double d = dy.get(yi);
          if (count == 0) continue;
          if (is_max) {
            dx[(size_t)arg] += d;
          } else {
            for (int64_t i = 0; i < g.kh; i++)
              for (int64_t j = 0; j < g.kw; j++) {
                const int64_t ih = oh * g.sh - g.pt + i, iw = ow * g.sw - g.pl + j;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                dx[(size_t)(((n * g.H + ih) * g.W + iw) * g.C + c)] += d / (double)count;
              }
          }
        }
}

// MAX_POOL2D_SELECT from loops: each window's value of gx at its first maximal cell of x.
std::vector<double> ref_select(const Pool &g, const Tensor &x, const Tensor &gx) {
  std::vector<double> y((size_t)(g.N * g.OH * g.OW * g.C), 0);
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t oh = 0; oh < g.OH; oh++)
      for (int64_t ow = 0; ow < g.OW; ow++)
        for (int64_t c = 0; c < g.C; c++) {
          double best = 0;
          int64_t arg = -1;
          for (int64_t i = 0; i < g.kh; i++)
            for (int64_t j = 0; j < g.kw; j++) {
              const int64_t ih = oh * g.sh - g.pt + i, iw = ow * g.sw - g.pl + j;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              const int64_t xi = ((n * g.H + ih) * g.W + iw) * g.C + c;
              const double v = x.get(xi);
              if (arg < 0 || v > best || (std::isnan(v) && !std::isnan(best))) best = v, arg = xi;
            }
          if (arg >= 0) y[(size_t)(((n * g.OH + oh) * g.OW + ow) * g.C + c)] = gx.get(arg);
        }
  return y;
}

void check_pool(int32_t dt, Pool g, unsigned seed, bool ties) {
  g.init();
  if (g.OH <= 0 || g.OW <= 0) return;
  Tensor x(dt, {g.N, g.H, g.W, g.C}), y(dt, {g.N, g.OH, g.OW, g.C}), dy(dt, {g.N, g.OH, g.OW, g.C}),
      dx(dt, {g.N, g.H, g.W, g.C});
  if (ties) {  // few distinct values: many ties, so the first-max rule matters
    x.fill_random(seed, 0, 3);
    for (int64_t i = 0; i < x.size(); i++) x.set(i, std::floor(x.get(i)));
  } else {
    x.fill_random(seed);
  }
  dy.fill_random(seed + 1);
  const double tol = dt == ST_F32 ? 1e-5 : 1e-13;
  char label[200];
  std::snprintf(label, sizeof label, "%s pool x[%lld,%lld,%lld,%lld] k[%lld,%lld] s[%lld,%lld] %s",
                st_dtype_name(dt), (long long)g.N, (long long)g.H, (long long)g.W, (long long)g.C, (long long)g.kh,
                (long long)g.kw, (long long)g.sh, (long long)g.sw, g.same ? "same" : "valid");
  for (int is_max = 0; is_max < 2; is_max++) {
    std::vector<double> ry, rdx;
    ref_pool(g, is_max, x, dy, ry, rdx);
    y.fill_random(seed + 7), dx.fill_random(seed + 8);
    std::string msg;
    st_code rc = sttest::run(is_max ? ST_OP_MAX_POOL2D : ST_OP_AVG_POOL2D, {&x}, {&y}, g.attrs(), {}, &msg);
    EXPECT(rc == ST_OK);
    if (rc != ST_OK) std::fprintf(stderr, "  %s: %s\n", label, msg.c_str());
    if (compare(label, y, ry, tol)) sttest::failures++, std::fprintf(stderr, "  ^ %s forward\n", is_max ? "max" : "avg");
    if (is_max)
      rc = sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &dy}, {&dx}, g.attrs(), {}, &msg);
    else
      rc = sttest::run(ST_OP_AVG_POOL2D_GRAD, {&dy}, {&dx}, g.attrs(), {}, &msg);
    EXPECT(rc == ST_OK);
    if (rc != ST_OK) std::fprintf(stderr, "  %s: %s\n", label, msg.c_str());
    if (compare(label, dx, rdx, tol)) sttest::failures++, std::fprintf(stderr, "  ^ %s grad\n", is_max ? "max" : "avg");
  }
  // the relu-masked gradient: dx * (x > 0), from the same loops
  {
    std::vector<double> ry, rdx;
    ref_pool(g, true, x, dy, ry, rdx);
    for (size_t i = 0; i < rdx.size(); i++) rdx[i] *= x.get((int64_t)i) > 0 ? 1.0 : 0.0;
    std::vector<int64_t> attrs = g.attrs();
    attrs.push_back(1);
    dx.fill_random(seed + 11);
    std::string msg;
    const st_code rc = sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &dy}, {&dx}, attrs, {}, &msg);
    EXPECT(rc == ST_OK);
    if (rc != ST_OK) std::fprintf(stderr, "  %s: %s\n", label, msg.c_str());
    if (compare(label, dx, rdx, tol)) sttest::failures++, std::fprintf(stderr, "  ^ max grad with relu mask\n");
  }
  // the select op against loops, and as the adjoint of the gradient: <dy, select(x, gx)> = <grad(x, dy), gx>
  Tensor gx(dt, {g.N, g.H, g.W, g.C}), sel(dt, {g.N, g.OH, g.OW, g.C});
  gx.fill_random(seed + 9), sel.fill_random(seed + 10);
  std::string msg;
  st_code rc = sttest::run(ST_OP_MAX_POOL2D_SELECT, {&x, &gx}, {&sel}, g.attrs(), {}, &msg);
  EXPECT(rc == ST_OK);
  if (rc != ST_OK) std::fprintf(stderr, "  %s: %s\n", label, msg.c_str());
  if (compare(label, sel, ref_select(g, x, gx), tol)) sttest::failures++, std::fprintf(stderr, "  ^ max select\n");
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &dy}, {&dx}, g.attrs()) == ST_OK);
  const double lhs = dot(dy, sel), rhs = dot(dx, gx);
  if (std::fabs(lhs - rhs) > tol * 100 * (1 + std::fabs(rhs)))
    sttest::failures++, std::fprintf(stderr, "  %s: select is not the adjoint of the gradient (%g vs %g)\n", label, lhs, rhs);
}

bool names(const std::string &msg, const char *op) { return msg.find(op) == 0; }

// The tests' instructions run on a pool of n threads for the duration of a scope.
struct ThreadScope {
  st_pool *pool;
  st_ctx ctx;
  st_ctx *saved;
  explicit ThreadScope(int n) : pool(st_pool_new(n)), ctx{pool}, saved(sttest::ctx) { sttest::ctx = &ctx; }
  ~ThreadScope() {
    sttest::ctx = saved;
    st_pool_free(pool);
  }
};

}  // namespace

TEST(conv2d_vs_direct_loops) {
  unsigned seed = 1;
  const int32_t dts[] = {ST_F32, ST_F64};
  const int64_t kernels[][2] = {{1, 1}, {3, 3}, {2, 3}, {5, 4}};
  for (int32_t dt : dts)
    for (auto &k : kernels)
      for (int64_t s = 1; s <= 2; s++)
        for (int64_t d = 1; d <= 2; d++)
          for (int same = 0; same < 2; same++) check_conv(dt, Conv{2, 7, 9, 3, k[0], k[1], 4, s, s, d, d, same != 0}, seed++);
  // asymmetric strides / dilations, single channel, wide filters
  check_conv(ST_F64, Conv{1, 8, 11, 1, 3, 2, 1, 2, 1, 1, 3, true}, 500);
  check_conv(ST_F64, Conv{3, 10, 6, 5, 3, 3, 7, 1, 3, 2, 1, false}, 501);
  check_conv(ST_F32, Conv{2, 5, 5, 2, 5, 5, 3, 3, 3, 1, 1, true}, 502);
  check_conv(ST_F32, Conv{1, 4, 4, 6, 1, 1, 2, 2, 2, 1, 1, false}, 503);  // 1x1 strided (im2col)
  check_conv(ST_F32, Conv{2, 3, 3, 4, 3, 3, 2, 1, 1, 3, 3, true}, 504);   // dilated window wider than x
}

TEST(conv2d_random_configs) {
  unsigned s = 777;
  auto rnd = [&](int lo, int hi) {
    s = s * 1664525u + 1013904223u;
    return (int64_t)(lo + (int)((s >> 8) % (unsigned)(hi - lo + 1)));
  };
  for (int iter = 0; iter < 150; iter++) {
    // The window first, then in valid mode an input at least as wide as the dilated window: every
    // configuration has an output to compare (empty outputs are conv2d_window_wider_than_input's).
    const int64_t kh = rnd(1, 4), kw = rnd(1, 4), dh = rnd(1, 3), dw = rnd(1, 3);
    const bool same = rnd(0, 1) != 0;
    const int64_t min_h = same ? 1 : (kh - 1) * dh + 1, min_w = same ? 1 : (kw - 1) * dw + 1;
    Conv g{rnd(1, 3), rnd(min_h, 12), rnd(min_w, 12), rnd(1, 5), kh, kw, rnd(1, 5), rnd(1, 3), rnd(1, 3), dh, dw, same};
    g.init();
    EXPECT(g.OH > 0 && g.OW > 0);
    check_conv(iter % 3 ? ST_F64 : ST_F32, g, 3000 + iter);
  }
}

TEST(pool2d_random_configs) {
  unsigned s = 4242;
  auto rnd = [&](int lo, int hi) {
    s = s * 1664525u + 1013904223u;
    return (int64_t)(lo + (int)((s >> 8) % (unsigned)(hi - lo + 1)));
  };
  for (int iter = 0; iter < 150; iter++) {
    // as for conv2d: in valid mode the input is at least the window, so no configuration is skipped
    const int64_t kh = rnd(1, 4), kw = rnd(1, 4);
    const bool same = rnd(0, 1) != 0;
    Pool g{rnd(1, 3), rnd(same ? 1 : kh, 11), rnd(same ? 1 : kw, 11), rnd(1, 70), kh, kw, rnd(1, 4), rnd(1, 4), same};
    g.init();
    EXPECT(g.OH > 0 && g.OW > 0);
    check_pool(iter % 2 ? ST_F64 : ST_F32, g, 5000 + iter, iter % 3 == 0);
  }
}

TEST(conv2d_windows_in_padding) {
  // explicit pads as large as the window: whole output rows/columns see only padding
  Conv g{2, 3, 4, 2, 2, 2, 3, 1, 1, 1, 1, false};
  g.pt = 2, g.pl = 3, g.OH = 6, g.OW = 8;
  check_conv(ST_F64, g, 700, true);
  Conv h{1, 4, 4, 3, 3, 2, 2, 2, 1, 2, 3, false};
  h.pt = 5, h.pl = 4, h.OH = 6, h.OW = 5;
  check_conv(ST_F64, h, 701, true);
}

TEST(conv2d_window_wider_than_input) {
  // valid padding with a (dilated) window wider than x: y is empty, and both gradients are zero
  // (check_conv fills dx and dw with noise first, so the kernels must write the zeros)
  check_conv(ST_F32, Conv{2, 2, 5, 3, 3, 2, 4, 1, 1, 1, 1, false}, 710);  // OH == 0
  check_conv(ST_F64, Conv{1, 6, 4, 2, 2, 3, 3, 1, 2, 1, 2, false}, 711);  // OW == 0 (dilated width 5)
  check_conv(ST_F64, Conv{3, 1, 1, 4, 2, 2, 2, 2, 2, 1, 1, false}, 712);  // both
}

TEST(conv2d_chunked) {
  // Big enough for several column chunks, some starting in the middle of an image.
  check_conv(ST_F64, Conv{8, 64, 64, 16, 3, 3, 4, 1, 1, 1, 1, true}, 600);
  check_conv(ST_F32, Conv{5, 61, 66, 12, 3, 3, 6, 2, 2, 2, 1, true}, 601);
}

TEST(conv2d_paths_on_one_and_two_threads) {
  // Shapes that take each route of conv.cc, each with enough work (>= 2^20 multiply-adds) that a
  // 2-thread pool splits it:
  //   forward: direct when F >= 8, else im2col + GEMM
  //   input gradient: direct (flipped filter) for stride 1 and C >= 8, else GEMM + col2im
  //   filter gradient: direct when F >= 8 and (C < 16 or KH*KW*C*F <= 32768), else im2col + GEMM
  const Conv shapes[] = {
      {6, 28, 28, 1, 3, 3, 32, 1, 1, 1, 1, false},   // direct forward and filter gradient; col2im (C = 1)
      {3, 13, 13, 32, 3, 3, 64, 1, 1, 1, 1, false},  // all three direct
      {3, 14, 14, 24, 3, 3, 20, 1, 1, 1, 1, true},   // all three direct, padded views, F tail
      {3, 16, 15, 16, 3, 3, 48, 2, 2, 1, 1, true},   // stride 2: direct forward, col2im
      {2, 12, 12, 32, 3, 3, 130, 1, 1, 2, 2, true},  // dilated; filter gradient through GEMM
      {4, 32, 32, 8, 3, 3, 5, 1, 1, 1, 1, true},     // F < 8: im2col and GEMM; direct input gradient
  };
  unsigned seed = 1500;
  for (int threads : {1, 2}) {
    ThreadScope scope(threads);
    for (const Conv &c : shapes) {
      Conv g = c;
      g.init();
      EXPECT(g.N * g.OH * g.OW * g.F * g.KH * g.KW * g.C >= (int64_t(1) << 20));
      for (int32_t dt : {ST_F32, ST_F64}) check_conv(dt, g, seed++, true);
    }
  }
}

TEST(pool2d_disjoint_windows_on_one_and_two_threads) {
  // Windows that do not overlap (kh <= stride_h, kw <= stride_w) write dx in one pass; >= 2^20
  // cells so that 2 threads split the rows.  Channel counts past the 64-channel block.
  const Pool shapes[] = {
      {4, 64, 64, 64, 2, 2, 2, 2, false},
      {5, 65, 63, 66, 2, 2, 2, 2, true},   // odd sizes: padded windows, a channel tail
      {4, 63, 62, 70, 2, 3, 3, 3, false},  // gaps between windows, uncovered last rows
      {3, 40, 50, 200, 1, 2, 2, 2, true},  // 1-row windows
  };
  unsigned seed = 6100;
  for (int threads : {1, 2}) {
    ThreadScope scope(threads);
    for (const Pool &p : shapes) {
      EXPECT(p.N * p.H * p.W * p.C >= (int64_t(1) << 20));
      for (int32_t dt : {ST_F32, ST_F64}) {
        check_pool(dt, p, seed, seed % 2 == 0);
        seed++;
      }
    }
  }
}

TEST(conv2d_adjoint_identity) {
  unsigned seed = 900;
  const int64_t cfg[][7] = {{3, 3, 1, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1, 0}, {2, 4, 2, 1, 2, 1, 1}, {5, 3, 1, 3, 2, 2, 0},
                            {1, 1, 1, 1, 1, 1, 0}};
  for (auto &c : cfg) {
    Conv g{2, 9, 8, 3, c[0], c[1], 5, c[2], c[3], c[4], c[5], c[6] != 0};
    g.init();
    Tensor x(ST_F64, {g.N, g.H, g.W, g.C}), w(ST_F64, {g.KH, g.KW, g.C, g.F}), dy(ST_F64, {g.N, g.OH, g.OW, g.F});
    Tensor y(ST_F64, {g.N, g.OH, g.OW, g.F}), dx(ST_F64, {g.N, g.H, g.W, g.C}), dw(ST_F64, {g.KH, g.KW, g.C, g.F});
    x.fill_random(seed++), w.fill_random(seed++), dy.fill_random(seed++);
    EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, g.attrs()) == ST_OK);
    EXPECT(sttest::run(ST_OP_CONV2D_GRAD_INPUT, {&dy, &w}, {&dx}, g.attrs()) == ST_OK);
    EXPECT(sttest::run(ST_OP_CONV2D_GRAD_FILTER, {&x, &dy}, {&dw}, g.attrs()) == ST_OK);
    const double a = dot(y, dy), b = dot(x, dx), cc = dot(w, dw);
    EXPECT_NEAR(b, a, 1e-11);
    EXPECT_NEAR(cc, a, 1e-11);
  }
}

TEST(conv2d_empty_and_degenerate) {
  // N == 0
  Tensor x0(ST_F32, {0, 5, 5, 2}), w(ST_F32, {3, 3, 2, 3}), y0(ST_F32, {0, 5, 5, 3});
  EXPECT(sttest::run(ST_OP_CONV2D, {&x0, &w}, {&y0}, {1, 1, 1, 1, 1, 1}) == ST_OK);
  Tensor dw(ST_F32, {3, 3, 2, 3});
  dw.fill_random(3);
  EXPECT(sttest::run(ST_OP_CONV2D_GRAD_FILTER, {&x0, &y0}, {&dw}, {1, 1, 1, 1, 1, 1}) == ST_OK);
  for (int64_t i = 0; i < dw.size(); i++) EXPECT(dw.get(i) == 0);
  // H == 0 with OH == 0
  Tensor xh(ST_F32, {1, 0, 5, 2}), yh(ST_F32, {1, 0, 5, 3});
  EXPECT(sttest::run(ST_OP_CONV2D, {&xh, &w}, {&yh}, {1, 1, 0, 1, 1, 1}) == ST_OK);
  EXPECT(sttest::run(ST_OP_CONV2D_GRAD_INPUT, {&yh, &w}, {&xh}, {1, 1, 0, 1, 1, 1}) == ST_OK);
  // C == 0: y = 0, grad filter empty, grad input empty
  Tensor xc(ST_F64, {2, 4, 4, 0}), wc(ST_F64, {3, 3, 0, 2}), yc(ST_F64, {2, 4, 4, 2});
  yc.fill_random(1);
  EXPECT(sttest::run(ST_OP_CONV2D, {&xc, &wc}, {&yc}, {1, 1, 1, 1, 1, 1}) == ST_OK);
  for (int64_t i = 0; i < yc.size(); i++) EXPECT(yc.get(i) == 0);
  EXPECT(sttest::run(ST_OP_CONV2D_GRAD_INPUT, {&yc, &wc}, {&xc}, {1, 1, 1, 1, 1, 1}) == ST_OK);
  EXPECT(sttest::run(ST_OP_CONV2D_GRAD_FILTER, {&xc, &yc}, {&wc}, {1, 1, 1, 1, 1, 1}) == ST_OK);
  // F == 0
  Tensor xf(ST_F32, {1, 4, 4, 2}), wf(ST_F32, {3, 3, 2, 0}), yf(ST_F32, {1, 4, 4, 0}), dxf(ST_F32, {1, 4, 4, 2});
  dxf.fill_random(2);
  EXPECT(sttest::run(ST_OP_CONV2D, {&xf, &wf}, {&yf}, {1, 1, 1, 1, 1, 1}) == ST_OK);
  EXPECT(sttest::run(ST_OP_CONV2D_GRAD_INPUT, {&yf, &wf}, {&dxf}, {1, 1, 1, 1, 1, 1}) == ST_OK);
  for (int64_t i = 0; i < dxf.size(); i++) EXPECT(dxf.get(i) == 0);
}

TEST(conv2d_errors) {
  std::string msg;
  Tensor x(ST_F32, {1, 5, 5, 2}), w(ST_F32, {3, 3, 2, 4}), y(ST_F32, {1, 5, 5, 4});
  const std::vector<int64_t> ok = {1, 1, 1, 1, 1, 1};
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, ok, {}, &msg) == ST_OK);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, {1, 1, 1, 1, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(names(msg, "conv2d:"));
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, {0, 1, 1, 1, 1, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(names(msg, "conv2d:"));
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, {1, 1, -1, 1, 1, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, {1, 1, 1, 1, 1, 0}, {}, &msg) == ST_ERR_ARG);
  // dtypes
  Tensor wd(ST_F64, {3, 3, 2, 4});
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &wd}, {&y}, ok, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(names(msg, "conv2d:"));
  Tensor xi(ST_I32, {1, 5, 5, 2}), wi(ST_I32, {3, 3, 2, 4}), yi(ST_I32, {1, 5, 5, 4});
  EXPECT(sttest::run(ST_OP_CONV2D, {&xi, &wi}, {&yi}, ok, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(names(msg, "conv2d:") && msg.find("int32") != std::string::npos);
  // ranks and counts
  Tensor x3(ST_F32, {5, 5, 2});
  EXPECT(sttest::run(ST_OP_CONV2D, {&x3, &w}, {&y}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "conv2d:") && msg.find("[5,5,2]") != std::string::npos);
  Tensor wc(ST_F32, {3, 3, 3, 4});
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &wc}, {&y}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "conv2d:") && msg.find("[1,5,5,2]") != std::string::npos && msg.find("[3,3,3,4]") != std::string::npos);
  Tensor yf(ST_F32, {1, 5, 5, 3}), yn(ST_F32, {2, 5, 5, 4});
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&yf}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&yn}, ok, {}, &msg) == ST_ERR_SHAPE);
  Tensor w0(ST_F32, {0, 3, 2, 4});
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w0}, {&y}, ok, {}, &msg) == ST_ERR_SHAPE);
  // output sizes that do not fit
  Tensor ybig(ST_F32, {1, 6, 5, 4}), ysmall(ST_F32, {1, 2, 5, 4}), y0(ST_F32, {1, 0, 5, 4});
  // a window entirely in the (explicit) bottom padding is valid for convolutions and gives 0
  ybig.fill_random(5);
  x.fill_random(6), w.fill_random(7);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&ybig}, {1, 1, 0, 1, 1, 1}, {}, &msg) == ST_OK);
  for (int64_t i = 5 * 5 * 4; i < ybig.size(); i++) EXPECT(ybig.get(i) == 0);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&ybig}, {int64_t(1) << 39, 1, 0, 1, 1, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "conv2d:") && msg.find("height") != std::string::npos);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&ysmall}, {1, 1, 0, 1, 1, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y0}, {1, 1, 0, 1, 1, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, {1, 1, 3, 1, 1, 1}, {}, &msg) == ST_ERR_SHAPE);  // pad >= window
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, {1, 1, 1, 1, int64_t(1) << 62, 1}, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y}, {int64_t(1) << 62, 1, 1, 1, 1, 1}, {}, &msg) == ST_ERR_SHAPE);
  // valid: stride 2 where the last input row is unused, and an explicit larger bottom pad
  Tensor y2(ST_F32, {1, 2, 5, 4});
  EXPECT(sttest::run(ST_OP_CONV2D, {&x, &w}, {&y2}, {2, 1, 0, 1, 1, 1}, {}, &msg) == ST_OK);
  Tensor x6(ST_F32, {1, 6, 5, 2});
  EXPECT(sttest::run(ST_OP_CONV2D, {&x6, &w}, {&y2}, {2, 1, 0, 1, 1, 1}, {}, &msg) == ST_OK);
  // gradients name themselves
  Tensor dxbad(ST_F32, {1, 5, 5, 3});
  EXPECT(sttest::run(ST_OP_CONV2D_GRAD_INPUT, {&y, &w}, {&dxbad}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "conv2dGradInput:") && msg.find("dx") != std::string::npos);
  Tensor dwbad(ST_F32, {3, 3, 2, 5});
  EXPECT(sttest::run(ST_OP_CONV2D_GRAD_FILTER, {&x, &y}, {&dwbad}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "conv2dGradFilter:") && msg.find("dw") != std::string::npos);
  EXPECT(sttest::run(ST_OP_CONV2D_GRAD_FILTER, {&x, &y}, {&w}, {1, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(names(msg, "conv2dGradFilter:"));
}

TEST(pool2d_vs_loops) {
  unsigned seed = 1;
  const int32_t dts[] = {ST_F32, ST_F64};
  const int64_t ks[][4] = {{2, 2, 2, 2}, {3, 3, 1, 1}, {3, 3, 2, 2}, {2, 2, 3, 3}, {1, 1, 1, 1},
                           {3, 2, 2, 1}, {1, 3, 2, 3}, {4, 4, 1, 2}};
  for (int32_t dt : dts)
    for (auto &k : ks)
      for (int same = 0; same < 2; same++)
        for (int ties = 0; ties < 2; ties++)
          check_pool(dt, Pool{2, 7, 8, 3, k[0], k[1], k[2], k[3], same != 0}, seed++, ties != 0);
  check_pool(ST_F32, Pool{1, 33, 17, 40, 3, 3, 2, 2, true}, 77, true);  // channel blocks over one image
}

TEST(max_pool2d_2x2_vectors_and_tails) {
  // The 2x2 / stride 2 / unpadded forward pass and gradient work on whole vectors of channels (8 float32, 4
  // float64) and then a scalar tail: channel counts below, at and around the vector widths, odd
  // sizes (a last column and row that no window covers, which must be cleared), ties, 1 and 2
  // threads.  'same' padding of an odd size has a window past the input, which takes the general
  // path; it is checked too.
  unsigned seed = 4200;
  const int64_t cs[] = {1, 3, 4, 5, 8, 11, 16, 19, 37};
  const int64_t hw[][2] = {{2, 2}, {5, 7}, {8, 6}, {9, 9}, {3, 2}};
  for (int threads : {1, 2}) {
    ThreadScope scope(threads);
    for (int32_t dt : {ST_F32, ST_F64})
      for (int64_t c : cs)
        for (auto &s : hw)
          for (int same = 0; same < 2; same++, seed++)
            check_pool(dt, Pool{2, s[0], s[1], c, 2, 2, 2, 2, same != 0}, seed, seed % 3 == 0);
  }
}

TEST(max_pool2d_2x2_nan_in_every_lane) {
  // One NaN per window, in each of the four cells and in vector lanes as well as the scalar tail:
  // the forward pass returns NaN and the gradient goes to the first NaN, a second NaN later in
  // the window does not take it.
  for (int32_t dt : {ST_F32, ST_F64}) {
    const int64_t N = 1, H = 4, W = 6, C = 11, OH = 2, OW = 3;
    Tensor x(dt, {N, H, W, C}), dy(dt, {N, OH, OW, C}), dx(dt, {N, H, W, C});
    x.fill_random(31), dy.fill_random(32), dx.fill_random(33);
    int64_t k = 0;
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++)
        for (int64_t c = 0; c < C; c++, k++) {
          if (k % 5 == 4) continue;  // some windows without NaN
          const int64_t cell = k % 4, ih = 2 * oh + cell / 2, iw = 2 * ow + cell % 2;
          x.set((ih * W + iw) * C + c, std::nan(""));
          if (cell < 3 && k % 3 == 0) x.set(((2 * oh + 1) * W + 2 * ow + 1) * C + c, std::nan(""));
        }
    Pool g{N, H, W, C, 2, 2, 2, 2, false};
    g.init();
    std::vector<double> ry, rdx;
    ref_pool(g, true, x, dy, ry, rdx);
    EXPECT(sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &dy}, {&dx}, g.attrs()) == ST_OK);
    if (compare("2x2 grad with NaN", dx, rdx, 0)) sttest::failures++;
    Tensor y(dt, {N, OH, OW, C});
    y.fill_random(34);
    EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&y}, g.attrs()) == ST_OK);
    if (compare("2x2 forward with NaN", y, ry, 0)) sttest::failures++;
  }
}

// The relu mask multiplies like the unfused mul(grad, greater(x, 0)): a winner that is not positive
// (0, negative, NaN) gets dy * 0, which is NaN for an infinite or NaN dy and keeps dy's sign.
TEST(pool2d_grad_relu_mask_special_values) {
  const double inf = std::numeric_limits<double>::infinity();
  for (int32_t dt : {ST_F32, ST_F64})
    for (bool overlap : {false, true}) {
      // 2x2 windows; stride 2 (disjoint, the vector path for C = 9) or 1 (overlapping)
      const int64_t C = 9, H = 2, W = overlap ? 3 : 4, OW = overlap ? 2 : 2;
      const std::vector<int64_t> attrs{2, 2, overlap ? 1 : 2, overlap ? 1 : 2, 0, 0, 1};
      Tensor x(dt, {1, H, W, C}), dy(dt, {1, 1, OW, C}), dx(dt, {1, H, W, C});
      x.fill_random(41, -1, -0.5);  // every cell negative ...
      dy.fill_random(42, 1, 2);
      for (int64_t c = 0; c < C; c++) {
        // ... except: channel 1's first window max is 0, channel 2's is NaN, channel 3's is positive
        if (c == 0) x.set(c, -0.1);  // the winner of channel 0's first window, negative
        if (c == 1) x.set(c, 0);
        if (c == 2) x.set(C + c, std::nan(""));
        if (c == 3) x.set(W * C + c, 0.25);
      }
      dy.set(0, inf), dy.set(4, -3), dy.set(5, std::nan(""));
      dx.fill_random(43);
      std::string msg;
      EXPECT(sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &dy}, {&dx}, attrs, {}, &msg) == ST_OK);
      std::vector<double> ry, rdx;
      Pool g{1, H, W, C, 2, 2, overlap ? 1 : 2, overlap ? 1 : 2, false};
      g.init();
      ref_pool(g, true, x, dy, ry, rdx);
      for (size_t i = 0; i < rdx.size(); i++) rdx[i] *= x.get((int64_t)i) > 0 ? 1.0 : 0.0;
      if (compare("relu mask special values", dx, rdx, 0)) sttest::failures++;
      EXPECT(std::isnan(dx.get(0)));           // inf * 0 at a negative winner
      EXPECT(dx.get(W * C + 3) == dy.get(3));  // the positive winner keeps dy
      if (!overlap) EXPECT(std::signbit(dx.get(4)) && dx.get(4) == 0);  // -3 * 0 = -0
    }
  // only 0 and 1 are relu_mask values, and only the max gradient takes a seventh attribute
  Tensor x(ST_F32, {1, 2, 2, 1}), dy(ST_F32, {1, 1, 1, 1}), dx(ST_F32, {1, 2, 2, 1}), y(ST_F32, {1, 1, 1, 1});
  std::string msg;
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &dy}, {&dx}, {2, 2, 2, 2, 0, 0, 2}, {}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("relu_mask must be 0 or 1, got 2") != std::string::npos);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&y}, {2, 2, 2, 2, 0, 0, 1}, {}, &msg) == ST_ERR_ARG);
  EXPECT(msg.find("got 7 values") != std::string::npos);
}

TEST(pool2d_nan_and_empty) {
  Tensor x(ST_F32, {1, 2, 2, 1}), y(ST_F32, {1, 1, 1, 1}), dy(ST_F32, {1, 1, 1, 1}), dx(ST_F32, {1, 2, 2, 1});
  x.set(0, 1), x.set(1, std::nan("")), x.set(2, 5), x.set(3, std::nan(""));
  dy.set(0, 2);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&y}, {2, 2, 2, 2, 0, 0}) == ST_OK);
  EXPECT(std::isnan(y.get(0)));
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &dy}, {&dx}, {2, 2, 2, 2, 0, 0}) == ST_OK);
  EXPECT(dx.get(0) == 0 && dx.get(1) == 2 && dx.get(2) == 0 && dx.get(3) == 0);
  Tensor gx(ST_F32, {1, 2, 2, 1}), sel(ST_F32, {1, 1, 1, 1});
  for (int i = 0; i < 4; i++) gx.set(i, 10 + i);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_SELECT, {&x, &gx}, {&sel}, {2, 2, 2, 2, 0, 0}) == ST_OK);
  EXPECT(sel.get(0) == 11);  // the first NaN's cell
  // an input empty along H: windows lie entirely in padding and give 0
  Tensor xe(ST_F32, {1, 0, 2, 1}), ye(ST_F32, {1, 1, 1, 1});
  ye.set(0, 9);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&xe}, {&ye}, {2, 2, 2, 2, 1, 0}) == ST_OK);
  EXPECT(ye.get(0) == 0);
  ye.set(0, 9);
  EXPECT(sttest::run(ST_OP_AVG_POOL2D, {&xe}, {&ye}, {2, 2, 2, 2, 1, 0}) == ST_OK);
  EXPECT(ye.get(0) == 0);
  EXPECT(sttest::run(ST_OP_AVG_POOL2D_GRAD, {&ye}, {&xe}, {2, 2, 2, 2, 1, 0}) == ST_OK);
  Tensor x0(ST_F64, {0, 4, 4, 2}), y0(ST_F64, {0, 2, 2, 2});
  EXPECT(sttest::run(ST_OP_AVG_POOL2D, {&x0}, {&y0}, {2, 2, 2, 2, 0, 0}) == ST_OK);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x0, &y0}, {&x0}, {2, 2, 2, 2, 0, 0}) == ST_OK);
}

TEST(pool2d_errors) {
  std::string msg;
  Tensor x(ST_F32, {1, 6, 6, 2}), y(ST_F32, {1, 3, 3, 2});
  const std::vector<int64_t> ok = {2, 2, 2, 2, 0, 0};
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&y}, ok, {}, &msg) == ST_OK);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&y}, {2, 2, 2, 2}, {}, &msg) == ST_ERR_ARG);
  EXPECT(names(msg, "maxPool2d:"));
  EXPECT(sttest::run(ST_OP_AVG_POOL2D, {&x}, {&y}, {0, 2, 2, 2, 0, 0}, {}, &msg) == ST_ERR_ARG);
  EXPECT(names(msg, "avgPool2d:"));
  EXPECT(sttest::run(ST_OP_AVG_POOL2D, {&x}, {&y}, {2, 2, 0, 2, 0, 0}, {}, &msg) == ST_ERR_ARG);
  EXPECT(sttest::run(ST_OP_AVG_POOL2D, {&x}, {&y}, {2, 2, 2, 2, -1, 0}, {}, &msg) == ST_ERR_ARG);
  Tensor xi(ST_I32, {1, 6, 6, 2}), yi(ST_I32, {1, 3, 3, 2});
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&xi}, {&yi}, ok, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(names(msg, "maxPool2d:"));
  Tensor yd(ST_F64, {1, 3, 3, 2});
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&yd}, ok, {}, &msg) == ST_ERR_DTYPE);
  Tensor yc(ST_F32, {1, 3, 3, 3}), yn(ST_F32, {2, 3, 3, 2}), y3(ST_F32, {3, 3, 2});
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&yc}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "maxPool2d:") && msg.find("[1,6,6,2]") != std::string::npos && msg.find("[1,3,3,3]") != std::string::npos);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&yn}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&y3}, ok, {}, &msg) == ST_ERR_SHAPE);
  Tensor ybig(ST_F32, {1, 4, 3, 2}), ysmall(ST_F32, {1, 2, 3, 2});
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&ybig}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "maxPool2d:") && msg.find("height") != std::string::npos);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&ysmall}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D, {&x}, {&y}, {2, 2, 2, 2, 2, 0}, {}, &msg) == ST_ERR_SHAPE);  // pad >= window
  // gradients
  Tensor dxbad(ST_F32, {1, 6, 5, 2});
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &y}, {&dxbad}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "maxPool2dGrad:"));
  Tensor dxwide(ST_F32, {1, 6, 8, 2});
  EXPECT(sttest::run(ST_OP_AVG_POOL2D_GRAD, {&y}, {&dxwide}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "avgPool2dGrad:"));
  Tensor dx(ST_F32, {1, 6, 6, 2});
  EXPECT(sttest::run(ST_OP_AVG_POOL2D_GRAD, {&y}, {&dx}, ok, {}, &msg) == ST_OK);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_GRAD, {&x, &yd}, {&dx}, ok, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(names(msg, "maxPool2dGrad:"));
  // select: g must have x's shape and dtype, the output the pooled shape
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_SELECT, {&x, &dx}, {&y}, ok, {}, &msg) == ST_OK);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_SELECT, {&x, &dxbad}, {&y}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(names(msg, "maxPool2dSelect:") && msg.find("g [1,6,5,2]") != std::string::npos);
  Tensor gd(ST_F64, {1, 6, 6, 2});
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_SELECT, {&x, &gd}, {&y}, ok, {}, &msg) == ST_ERR_DTYPE);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_SELECT, {&x, &dx}, {&ybig}, ok, {}, &msg) == ST_ERR_SHAPE);
  EXPECT(sttest::run(ST_OP_MAX_POOL2D_SELECT, {&x, &dx}, {&y}, {2, 2, 2, 2}, {}, &msg) == ST_ERR_ARG);
}
