// The direct convolution kernels (conv_direct.h) called directly, on views conv.cc never builds
// as well as on those it does: negative and oversized pads, strides, dilations, both filter
// layouts, both float types, tile edges, and 1 or 2 threads.  Reference: plain loops in double.
#include <algorithm>

#include "../kernels/cpu/conv_direct.h"
#include "test.h"

using st::conv::DGeom;
using st::conv::WLayout;
using sttest::Tensor;

namespace {

// A pool of n threads for the duration of a scope (the tests' own context has 2).
struct Threads {
  st_pool *pool;
  st_ctx ctx;
  explicit Threads(int n) : pool(st_pool_new(n)), ctx{pool} {}
  ~Threads() { st_pool_free(pool); }
};

// Cell (n, r, q, c) of the padded view, or 0 outside the source.
double view_at(const DGeom &g, const Tensor &src, int64_t n, int64_t r, int64_t q, int64_t c) {
  const int64_t sr = r - g.pt, sq = q - g.pl;
  if (sr < 0 || sr >= g.HS || sq < 0 || sq >= g.WS) return 0;
  return src.get(((n * g.HS + sr) * g.WS + sq) * g.C + c);
}

double filter_at(const DGeom &g, const Tensor &w, WLayout layout, int64_t kh, int64_t kw, int64_t c, int64_t f) {
  if (layout == WLayout::kHWCF) return w.get(((kh * g.KW + kw) * g.C + c) * g.F + f);
  return w.get((((g.KH - 1 - kh) * g.KW + (g.KW - 1 - kw)) * g.F + f) * g.C + c);
}

std::vector<double> ref_forward(const DGeom &g, const Tensor &src, const Tensor &w, WLayout layout) {
  std::vector<double> out((size_t)(g.N * g.OH * g.OW * g.F), 0);
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t oh = 0; oh < g.OH; oh++)
      for (int64_t ow = 0; ow < g.OW; ow++)
        for (int64_t kh = 0; kh < g.KH; kh++)
          for (int64_t kw = 0; kw < g.KW; kw++)
            for (int64_t c = 0; c < g.C; c++) {
              const double v = view_at(g, src, n, oh * g.sh + kh * g.dh, ow * g.sw + kw * g.dw, c);
              if (v == 0) continue;
              for (int64_t f = 0; f < g.F; f++)
                out[(size_t)(((n * g.OH + oh) * g.OW + ow) * g.F + f)] += v * filter_at(g, w, layout, kh, kw, c, f);
            }
  return out;
}

std::vector<double> ref_grad_filter(const DGeom &g, const Tensor &src, const Tensor &dy) {
  std::vector<double> dw((size_t)(g.KH * g.KW * g.C * g.F), 0);
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t oh = 0; oh < g.OH; oh++)
      for (int64_t ow = 0; ow < g.OW; ow++)
        for (int64_t kh = 0; kh < g.KH; kh++)
          for (int64_t kw = 0; kw < g.KW; kw++)
            for (int64_t c = 0; c < g.C; c++) {
              const double v = view_at(g, src, n, oh * g.sh + kh * g.dh, ow * g.sw + kw * g.dw, c);
              for (int64_t f = 0; f < g.F; f++)
                dw[(size_t)(((kh * g.KW + kw) * g.C + c) * g.F + f)] +=
                    v * dy.get(((n * g.OH + oh) * g.OW + ow) * g.F + f);
            }
  return dw;
}

int mismatches(const char *label, const Tensor &got, const std::vector<double> &want, double tol) {
  int bad = 0;
  for (int64_t i = 0; i < got.size(); i++) {
    const double a = got.get(i), b = want[(size_t)i];
    if (!(std::fabs(a - b) <= tol * (1 + std::fabs(b))) && bad++ < 3)
      std::fprintf(stderr, "  %s: [%lld] = %.9g, want %.9g\n", label, (long long)i, a, b);
  }
  return bad;
}

// Both kernels on one view, both layouts, on a pool of `threads` threads.  Outputs start as noise,
// so every element must be written.
void check_direct(int32_t dt, const DGeom &g, unsigned seed, int threads) {
  EXPECT(st::conv::direct_ok(g));
  if (!st::conv::direct_ok(g)) return;
  Threads pool(threads);
  Tensor src(dt, {g.N, g.HS, g.WS, g.C}), w(dt, {g.KH, g.KW, g.C, g.F}), wt(dt, {g.KH, g.KW, g.F, g.C});
  Tensor out(dt, {g.N, g.OH, g.OW, g.F}), dy(dt, {g.N, g.OH, g.OW, g.F}), dw(dt, {g.KH, g.KW, g.C, g.F});
  src.fill_random(seed), w.fill_random(seed + 1), wt.fill_random(seed + 2), dy.fill_random(seed + 3);
  const double tol = dt == ST_F32 ? 2e-5 : 1e-12;
  char label[256];
  std::snprintf(label, sizeof label,
                "%s src[%lld,%lld,%lld,%lld] out[%lld,%lld,%lld] k[%lld,%lld] s[%lld,%lld] d[%lld,%lld] p[%lld,%lld] "
                "%d threads",
                st_dtype_name(dt), (long long)g.N, (long long)g.HS, (long long)g.WS, (long long)g.C, (long long)g.OH,
                (long long)g.OW, (long long)g.F, (long long)g.KH, (long long)g.KW, (long long)g.sh, (long long)g.sw,
                (long long)g.dh, (long long)g.dw, (long long)g.pt, (long long)g.pl, threads);
  for (WLayout layout : {WLayout::kHWCF, WLayout::kFlipped}) {
    out.fill_random(seed + 4);
    st_status st{};
    EXPECT(st::conv::direct_forward(&pool.ctx, "test", dt, g, src.t.data, (layout == WLayout::kHWCF ? w : wt).t.data,
                                    layout, out.t.data, &st) == ST_OK);
    if (mismatches(label, out, ref_forward(g, src, layout == WLayout::kHWCF ? w : wt, layout), tol))
      sttest::failures++, std::fprintf(stderr, "  ^ forward, %s\n", layout == WLayout::kHWCF ? "HWCF" : "flipped");
  }
  dw.fill_random(seed + 5);
  st_status st{};
  EXPECT(st::conv::direct_grad_filter(&pool.ctx, "test", dt, g, src.t.data, dy.t.data, dw.t.data, &st) == ST_OK);
  if (mismatches(label, dw, ref_grad_filter(g, src, dy), tol)) sttest::failures++, std::fprintf(stderr, "  ^ grad filter\n");
}

// A view with the output size that the pads and the source imply (at least one position).
DGeom view(int64_t N, int64_t HS, int64_t WS, int64_t C, int64_t F, int64_t KH, int64_t KW, int64_t sh, int64_t sw,
           int64_t dh, int64_t dw, int64_t pt, int64_t pl, int64_t pb, int64_t pr) {
  const int64_t eh = (KH - 1) * dh + 1, ew = (KW - 1) * dw + 1;
  const int64_t OH = std::max<int64_t>(1, (HS + pt + pb - eh) / sh + 1), OW = std::max<int64_t>(1, (WS + pl + pr - ew) / sw + 1);
  return DGeom{N, HS, WS, C, OH, OW, F, KH, KW, sh, sw, dh, dw, pt, pl};
}

int64_t macs(const DGeom &g) { return g.N * g.OH * g.OW * g.F * g.kkc(); }

}  // namespace

TEST(conv_direct_views) {
  // one view per feature: valid (read in place), padded, cropped (negative pads), stride, dilation,
  // pads beyond the window, channel counts around the 16/8-wide tiles and the 6-row tiles
  struct V {
    int64_t N, HS, WS, C, F, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr;
  };
  const V views[] = {
      {2, 9, 8, 1, 32, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0},    // in place, one channel
      {2, 9, 8, 1, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // padded
      {1, 7, 11, 3, 17, 3, 2, 1, 1, 1, 1, 2, 1, 2, 1},   // pads of the window size - 1, F = 16 + 1
      {2, 10, 9, 5, 8, 2, 3, 2, 3, 1, 1, 1, 0, 0, 2},    // strides
      {1, 12, 12, 4, 20, 3, 3, 1, 1, 2, 3, 2, 3, 2, 3},  // dilations
      {1, 6, 7, 2, 9, 2, 2, 1, 1, 1, 1, -2, -1, -1, 0},  // negative pads: the view starts inside src
      {1, 5, 5, 3, 7, 2, 2, 1, 1, 1, 1, 4, 3, 5, 4},     // pads wider than the window: all-zero rows
      {3, 4, 13, 7, 33, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1},   // 1 x 3 window, F = 2*16 + 1
      {1, 3, 3, 40, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // 360 filter rows: 60 tiles of 6
      {2, 8, 8, 13, 16, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2},   // 325 filter rows (tail of 1)
  };
  unsigned seed = 100;
  for (int32_t dt : {ST_F32, ST_F64})
    for (const V &v : views) {
      const DGeom g = view(v.N, v.HS, v.WS, v.C, v.F, v.KH, v.KW, v.sh, v.sw, v.dh, v.dw, v.pt, v.pl, v.pb, v.pr);
      check_direct(dt, g, seed, 1);
      seed += 10;
    }
}

TEST(conv_direct_random_views) {
  unsigned s = 31337;
  auto rnd = [&](int lo, int hi) {
    s = s * 1664525u + 1013904223u;
    return (int64_t)(lo + (int)((s >> 8) % (unsigned)(hi - lo + 1)));
  };
  for (int iter = 0; iter < 60; iter++) {
    const int64_t KH = rnd(1, 4), KW = rnd(1, 4), dh = rnd(1, 2), dw = rnd(1, 2);
    const DGeom g = view(rnd(1, 3), rnd(1, 12), rnd(1, 12), rnd(1, 9), rnd(1, 40), KH, KW, rnd(1, 3), rnd(1, 3), dh, dw,
                         rnd(-2, 4), rnd(-2, 4), rnd(-1, 4), rnd(-1, 4));
    check_direct(iter % 2 ? ST_F64 : ST_F32, g, 7000 + iter, 1);
  }
}

TEST(conv_direct_two_threads) {
  // Enough multiply-adds (>= 2^20) that the pool splits items (forward) and tiles (filter gradient)
  // over both threads; the same views on one thread.
  const DGeom views[] = {
      view(6, 28, 28, 1, 32, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0),   // the first layer of a small CNN
      view(3, 13, 13, 32, 64, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0),  // its second layer
      view(2, 15, 14, 24, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),  // padded, F tail
      view(2, 13, 13, 64, 32, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2),  // the second layer's input gradient view
      view(6, 20, 17, 12, 24, 3, 3, 2, 2, 2, 1, 2, 1, 2, 1),  // strided and dilated
  };
  unsigned seed = 9000;
  for (const DGeom &g : views) {
    EXPECT(macs(g) >= (int64_t(1) << 20));
    for (int32_t dt : {ST_F32, ST_F64})
      for (int threads : {1, 2}) check_direct(dt, g, seed, threads);
    seed += 10;
  }
}

TEST(conv_direct_padding_classes) {
  // The forward kernel tiles each item's positions by padding class (a run of output columns whose
  // windows reach the source through the same filter columns, and within it the filter rows of
  // the tile's rows) and runs only over the taps that read the source.  Views with many classes:
  // wide and one-sided pads, pads beyond the window (classes that read no tap at all, whose
  // outputs must still be written as zeros), strides and dilations that make the classes uneven,
  // a source narrower than the window, and rows too long for one item per image (items of
  // several row classes, and items that split the image's rows).
  struct V {
    int64_t N, HS, WS, C, F, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr;
  };
  const V views[] = {
      {2, 11, 11, 8, 32, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2},     // an input gradient view: pads of window - 1
      {1, 6, 9, 3, 16, 5, 5, 1, 1, 1, 1, 4, 4, 4, 4},       // every border column its own class
      {1, 5, 7, 2, 20, 3, 3, 1, 1, 1, 1, 0, 5, 0, 0},       // left columns read no tap at all
      {1, 7, 6, 3, 9, 3, 4, 1, 1, 1, 1, 5, 0, 0, 6},        // top rows and right columns read nothing
      {2, 9, 10, 4, 17, 3, 3, 2, 3, 2, 2, 3, 4, 2, 5},      // strides and dilations with wide pads
      {1, 6, 2, 5, 8, 2, 5, 1, 1, 1, 1, 1, 3, 1, 3},        // a source narrower than the window
      {1, 8, 9, 6, 24, 3, 3, 1, 1, 1, 1, -1, 2, 0, -1},     // a pad on one side, a crop on the other
      {1, 3, 12, 2, 8, 1, 3, 1, 2, 1, 3, 0, 5, 0, 5},       // one filter row, dilated columns
      {1, 20, 60, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    // long rows: several items per image
      {1, 23, 90, 30, 16, 3, 5, 1, 1, 1, 1, 2, 4, 2, 4},    // idem, with uneven row classes per item
  };
  unsigned seed = 12000;
  for (const V &v : views)
    for (int32_t dt : {ST_F32, ST_F64})
      for (int threads : {1, 2}) {
        check_direct(dt, view(v.N, v.HS, v.WS, v.C, v.F, v.KH, v.KW, v.sh, v.sw, v.dh, v.dw, v.pt, v.pl, v.pb, v.pr),
                     seed, threads);
        seed += 10;
      }
}

TEST(conv_direct_random_padded_views) {
  // Random views whose pads are often wider than the window, so that border classes are common.
  unsigned s = 4242;
  auto rnd = [&](int lo, int hi) {
    s = s * 1664525u + 1013904223u;
    return (int64_t)(lo + (int)((s >> 8) % (unsigned)(hi - lo + 1)));
  };
  for (int iter = 0; iter < 60; iter++) {
    const int64_t KH = rnd(1, 5), KW = rnd(1, 5), dh = rnd(1, 3), dw = rnd(1, 3);
    const DGeom g = view(rnd(1, 2), rnd(1, 10), rnd(1, 16), rnd(1, 6), rnd(1, 36), KH, KW, rnd(1, 2), rnd(1, 2), dh, dw,
                         rnd(-1, 8), rnd(-1, 8), rnd(-1, 8), rnd(-1, 8));
    check_direct(iter % 2 ? ST_F64 : ST_F32, g, 15000 + iter, 1 + iter % 2);
  }
}

TEST(conv_direct_grad_filter_dy_panels) {
  // The filter gradient reads dy from a packed panel per filter block when a block has at least 8
  // tiles of 6 filter rows (KH*KW*C >= 43) or F is not a multiple of the tile width, and in place
  // otherwise.  Both sides of that line, filter counts at and off the 16/8-wide tiles, and two
  // threads, whose groups of tiles start and end inside a filter block (the panel is repacked
  // when a group crosses into the next one).
  struct V {
    int64_t KH, KW, C, F;
  };
  const V views[] = {{3, 1, 14, 16}, {1, 1, 43, 16}, {3, 3, 5, 32}, {2, 3, 8, 32},
                     {3, 3, 6, 7},   {1, 1, 42, 40}, {7, 7, 1, 48}, {3, 3, 11, 33}};
  unsigned seed = 9500;
  for (const V &v : views)
    for (int32_t dt : {ST_F32, ST_F64})
      for (int threads : {1, 2}) {
        check_direct(dt, view(2, 9, 10, v.C, v.F, v.KH, v.KW, 1, 1, 1, 1, 1, 0, 1, 0), seed, threads);
        seed += 10;
      }
}

TEST(conv_direct_grad_filter_same_bits_on_any_thread_count) {
  const DGeom g = view(4, 14, 14, 16, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
  Tensor src(ST_F32, {g.N, g.HS, g.WS, g.C}), dy(ST_F32, {g.N, g.OH, g.OW, g.F});
  Tensor a(ST_F32, {g.KH, g.KW, g.C, g.F}), b(ST_F32, {g.KH, g.KW, g.C, g.F});
  src.fill_random(1), dy.fill_random(2);
  st_status st{};
  Threads one(1), two(2);
  EXPECT(macs(g) >= (int64_t(1) << 20));
  EXPECT(st::conv::direct_grad_filter(&one.ctx, "test", ST_F32, g, src.t.data, dy.t.data, a.t.data, &st) == ST_OK);
  EXPECT(st::conv::direct_grad_filter(&two.ctx, "test", ST_F32, g, src.t.data, dy.t.data, b.t.data, &st) == ST_OK);
  EXPECT(std::memcmp(a.t.data, b.t.data, sizeof(float) * (size_t)a.size()) == 0);
}

TEST(conv_direct_refuses_what_it_cannot_do) {
  EXPECT(!st::conv::direct_ok(DGeom{0, 4, 4, 2, 2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1}));  // no images
  EXPECT(!st::conv::direct_ok(DGeom{1, 4, 4, 0, 2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1}));  // no channels
  EXPECT(!st::conv::direct_ok(DGeom{1, 4, 4, 2, 0, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1}));  // no output rows
  EXPECT(!st::conv::direct_ok(DGeom{1, 4, 4, 2, 2, 2, 0, 3, 3, 1, 1, 1, 1, 1, 1}));  // no filters
  // a view row of 2^40 cells would need a huge buffer
  EXPECT(!st::conv::direct_ok(DGeom{1, 4, int64_t(1) << 40, 2, 2, int64_t(1) << 40, 3, 3, 3, 1, 1, 1, 1, 1, 1}));
  EXPECT(st::conv::direct_ok(DGeom{1, 4, 4, 2, 2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1}));
}
