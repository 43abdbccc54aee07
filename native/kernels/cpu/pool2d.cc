// Max and average pooling over NHWC tensors, and their gradients.
//   iattr [kh, kw, stride_h, stride_w, pad_top, pad_left]; the bottom/right padding is implied by
//   the output shape.  Padded cells never take part: max pooling takes the max of the in-bounds
//   cells, average pooling divides by the number of in-bounds cells (TensorFlow 'SAME').  A window
//   without any in-bounds cell (only possible when the input is empty along an axis) yields 0.
//   Max pooling propagates NaN.  Its gradient goes to the first maximal cell of each window in
//   row-major (kh, kw) scan order (the first NaN, if any), summed where windows overlap.
//   MAX_POOL2D_SELECT reads g at that same cell for each window (the adjoint of the gradient in dy).
//   MAX_POOL2D_GRAD takes an optional seventh attribute, relu_mask (0 or 1): with 1 the gradient is
//   also multiplied by (x > 0), i.e. dx = maxPool2dGrad(x, dy) * (x > 0), the gradient through a
//   ReLU whose output x is (compiled programs fuse mul(maxPool2dGrad(x, dy), greater(x, 0)) into it).
//   Where windows do not overlap the mask is applied while dx is written, at the winning cell
//   (the others are 0 either way); otherwise in a pass over dx after the sums.
// Forward passes split over the N*OH output rows.  Backward passes scatter into dx: output rows
// are split over tasks when windows do not overlap vertically (kh <= stride_h), otherwise images
// and channel blocks are, so no two tasks ever write the same dx element.  When windows overlap
// in neither direction (the usual 2x2 / stride 2), max pooling's gradient writes each dx element
// once, without a separate clearing pass over dx.  The plain 2x2 / stride 2 / unpadded max
// pooling (the one CNNs use) has its own forward and gradient loops over whole vectors of channels.
#include <algorithm>
#include <type_traits>

#include "common.h"

namespace {

struct PGeom {
  int64_t N, H, W, C, OH, OW, kh, kw, sh, sw, pt, pl;
  // In-bounds window of output (oh, ow): rows [h0, h1), columns [w0, w1) (empty when h1 <= h0 ...).
  void window(int64_t oh, int64_t ow, int64_t *h0, int64_t *h1, int64_t *w0, int64_t *w1) const {
    const int64_t hs = oh * sh - pt, ws = ow * sw - pl;
    *h0 = std::max<int64_t>(0, hs), *h1 = std::min(H, hs + kh);
    *w0 = std::max<int64_t>(0, ws), *w1 = std::min(W, ws + kw);
  }
};

template <class T>
inline bool max_takes(T v, T best) {  // v replaces best: larger, or the first NaN
  return v > best || (v != v && best == best);
}

// 32-byte vectors of T and the comparison masks of the same width (GCC vector extensions; the
// portable build compiles them inside ST_HOT clones).
template <class T>
struct PVec;
template <>
struct PVec<float> {
  typedef float V __attribute__((vector_size(32)));
  typedef int32_t M __attribute__((vector_size(32)));
  static constexpr int L = 8;
};
template <>
struct PVec<double> {
  typedef double V __attribute__((vector_size(32)));
  typedef int64_t M __attribute__((vector_size(32)));
  static constexpr int L = 4;
};

// Max pooling's forward pass for the usual 2x2 / stride 2 / unpadded case (2*OH <= H and
// 2*OW <= W), output rows [b, e): whole vectors of channels with explicit masks (the NaN rule of
// max_takes defeats the auto-vectorizer), then a scalar tail.  Same scan order and NaN rule as the
// general loop.
template <class T>
ST_HOT void max_2x2_rows(const PGeom &g, const T *x, T *y, int64_t b, int64_t e) {
  typedef typename PVec<T>::V V;
  typedef typename PVec<T>::M M;
  constexpr int L = PVec<T>::L;
  const int64_t C = g.C, rs = g.W * C, cv = C - C % L;
  for (int64_t r = b; r < e; r++) {
    const int64_t n = r / g.OH, oh = r % g.OH;
    const T *x0 = x + (n * g.H + 2 * oh) * rs, *x1 = x0 + rs;
    T *o = y + r * g.OW * C;
    for (int64_t ow = 0; ow < g.OW; ow++, x0 += 2 * C, x1 += 2 * C, o += C) {
      for (int64_t c = 0; c < cv; c += L) {
        V best, v;
        M t;
        std::memcpy(&best, x0 + c, sizeof best);
        std::memcpy(&v, x0 + C + c, sizeof v);
        t = (v > best) | ((v != v) & (best == best)), best = t ? v : best;
        std::memcpy(&v, x1 + c, sizeof v);
        t = (v > best) | ((v != v) & (best == best)), best = t ? v : best;
        std::memcpy(&v, x1 + C + c, sizeof v);
        t = (v > best) | ((v != v) & (best == best)), best = t ? v : best;
        std::memcpy(o + c, &best, sizeof best);
      }
      for (int64_t c = cv; c < C; c++) {
        T best = x0[c];
        if (max_takes(x0[C + c], best)) best = x0[C + c];
        if (max_takes(x1[c], best)) best = x1[c];
        if (max_takes(x1[C + c], best)) best = x1[C + c];
        o[c] = best;
      }
    }
  }
}

// The case max_2x2_rows and the gradient's grad_2x2_row handle.
inline bool is_plain_2x2(const PGeom &g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.pt == 0 && g.pl == 0 && 2 * g.OH <= g.H &&
         2 * g.OW <= g.W;
}

template <class T>
void pool_forward(st_ctx *ctx, const PGeom &g, bool is_max, const T *x, T *y) {
  const int64_t rows = g.N * g.OH, C = g.C;
  if (is_max && is_plain_2x2(g)) {
    st::parallel(ctx, rows * g.OW * C * 4, [&](int ith, int nth) {
      int64_t b, e;
      st::split_range(rows, ith, nth, &b, &e);
      max_2x2_rows(g, x, y, b, e);
    });
    return;
  }
  st::parallel(ctx, rows * g.OW * C * g.kh * g.kw, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(rows, ith, nth, &b, &e);
    for (int64_t r = b; r < e; r++) {
      const int64_t n = r / g.OH, oh = r % g.OH;
      for (int64_t ow = 0; ow < g.OW; ow++) {
        T *o = y + (r * g.OW + ow) * C;
        int64_t h0, h1, w0, w1;
        g.window(oh, ow, &h0, &h1, &w0, &w1);
        if (h1 <= h0 || w1 <= w0) {
          std::fill(o, o + C, T(0));
          continue;
        }
        if (is_max) {
          std::memcpy(o, x + ((n * g.H + h0) * g.W + w0) * C, sizeof(T) * (size_t)C);
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
              const T *p = x + ((n * g.H + ih) * g.W + iw) * C;
              for (int64_t c = 0; c < C; c++) o[c] = (p[c] > o[c] || p[c] != p[c]) ? p[c] : o[c];
            }
        } else {
          std::fill(o, o + C, T(0));
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++) {
              const T *p = x + ((n * g.H + ih) * g.W + iw) * C;
              for (int64_t c = 0; c < C; c++) o[c] += p[c];
            }
          const T inv = T(1) / T((h1 - h0) * (w1 - w0));
          for (int64_t c = 0; c < C; c++) o[c] *= inv;
        }
      }
    }
  });
}

// Calls fn(n, oh, ow, c0, c1) for every window and channel range, split over tasks so that no two
// tasks write the same dx element.
template <class F>
void for_grad_windows(st_ctx *ctx, const PGeom &g, F &&fn) {
  const int64_t work = g.N * g.OH * g.OW * g.C * g.kh * g.kw;
  if (g.kh <= g.sh) {
    const int64_t rows = g.N * g.OH;
    st::parallel(ctx, work, [&](int ith, int nth) {
      int64_t b, e;
      st::split_range(rows, ith, nth, &b, &e);
      for (int64_t r = b; r < e; r++)
        for (int64_t ow = 0; ow < g.OW; ow++) fn(r / g.OH, r % g.OH, ow, int64_t(0), g.C);
    });
    return;
  }
  const int64_t threads = ctx && ctx->pool ? st_pool_threads(ctx->pool) : 1;
  const int64_t cb = std::max<int64_t>(1, std::min(g.C, (4 * threads + g.N - 1) / std::max<int64_t>(1, g.N)));
  const int64_t items = g.N * cb;
  st::parallel(ctx, work, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(items, ith, nth, &b, &e);
    for (int64_t it = b; it < e; it++) {
      const int64_t n = it / cb, j = it % cb, c0 = g.C * j / cb, c1 = g.C * (j + 1) / cb;
      for (int64_t oh = 0; oh < g.OH; oh++)
        for (int64_t ow = 0; ow < g.OW; ow++) fn(n, oh, ow, c0, c1);
    }
  });
}

constexpr int64_t kChannelBlock = 64;  // channels per argmax pass: best values and offsets live on the stack

// For channels [cs, cs + cn) (cn <= kChannelBlock) of the non-empty window [h0,h1) x [w0,w1) of
// one image xb: arg[c] = the offset (in elements, without the channel) of the cell max pooling's
// gradient goes to.  The one definition of that cell, for MAX_POOL2D_GRAD and MAX_POOL2D_SELECT.
template <class T>
void window_argmax(const PGeom &g, const T *xb, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t cs,
                   int64_t cn, int64_t *arg) {
  T best[kChannelBlock];
  const int64_t C = g.C, first = (h0 * g.W + w0) * C;
  for (int64_t c = 0; c < cn; c++) best[c] = xb[first + cs + c], arg[c] = first;
  for (int64_t ih = h0; ih < h1; ih++)
    for (int64_t iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
      const int64_t off = (ih * g.W + iw) * C;
      const T *p = xb + off + cs;
      for (int64_t c = 0; c < cn; c++) {
        const bool take = max_takes(p[c], best[c]);
        best[c] = take ? p[c] : best[c];
        arg[c] = take ? off : arg[c];
      }
    }
}

// One window of the disjoint case: for channels [0, cn) (cn <= kChannelBlock) of the window whose
// first cell is xw / dxw (row stride rs, window kh x kw cells), dx = dy at the cell the gradient
// goes to and 0 at the others.  Integer cell numbers of the element's width keep the loops
// vectorizable.
template <class T, bool Relu>
ST_INLINE void window_grad_disjoint(const T *xw, const T *d, T *dxw, int64_t rs, int64_t C, int64_t kh, int64_t kw,
                                    int64_t cn) {
  typedef typename std::conditional<sizeof(T) == 4, int32_t, int64_t>::type I;
  T best[kChannelBlock];
  I arg[kChannelBlock];
  for (int64_t c = 0; c < cn; c++) best[c] = xw[c], arg[c] = 0;
  I j = 0;
  for (int64_t ih = 0; ih < kh; ih++)
    for (int64_t iw = 0; iw < kw; iw++, j++) {
      if (j == 0) continue;
      const T *p = xw + ih * rs + iw * C;
      for (int64_t c = 0; c < cn; c++) {
        const bool take = max_takes(p[c], best[c]);
        best[c] = take ? p[c] : best[c];
        arg[c] = take ? j : arg[c];
      }
    }
  T g[kChannelBlock];  // what the winning cell gets
  for (int64_t c = 0; c < cn; c++) g[c] = Relu ? d[c] * (best[c] > T(0) ? T(1) : T(0)) : d[c];
  j = 0;
  for (int64_t ih = 0; ih < kh; ih++)
    for (int64_t iw = 0; iw < kw; iw++, j++) {
      T *o = dxw + ih * rs + iw * C;
      for (int64_t c = 0; c < cn; c++) o[c] = arg[c] == j ? g[c] : T(0);
    }
}

// One band of 2x2 windows (input rows x0, x1, dx rows o0, o1, OW windows of C channels): the
// winner of each window gets dy, its three other cells 0.  Whole vectors of channels first,
// written with explicit masks (the NaN rule of max_takes defeats the auto-vectorizer), then a
// scalar tail.  With Relu the winner gets dy * (its x > 0).
template <class T, bool Relu>
ST_INLINE void grad_2x2_band(const T *x0, const T *x1, const T *d, T *o0, T *o1, int64_t C, int64_t OW) {
  typedef typename PVec<T>::V V;
  typedef typename PVec<T>::M M;
  constexpr int L = PVec<T>::L;
  typedef typename std::conditional<sizeof(T) == 4, int32_t, int64_t>::type I;
  const int64_t cv = C - C % L;
  for (int64_t ow = 0; ow < OW; ow++, x0 += 2 * C, x1 += 2 * C, o0 += 2 * C, o1 += 2 * C, d += C) {
    for (int64_t c = 0; c < cv; c += L) {
      V v0, v1, v2, v3, gv;
      std::memcpy(&v0, x0 + c, sizeof v0), std::memcpy(&v1, x0 + C + c, sizeof v1);
      std::memcpy(&v2, x1 + c, sizeof v2), std::memcpy(&v3, x1 + C + c, sizeof v3);
      std::memcpy(&gv, d + c, sizeof gv);
      V best = v0;
      M j = M{}, t;
      t = (v1 > best) | ((v1 != v1) & (best == best));
      best = t ? v1 : best, j = t ? M{} + 1 : j;
      t = (v2 > best) | ((v2 != v2) & (best == best));
      best = t ? v2 : best, j = t ? M{} + 2 : j;
      t = (v3 > best) | ((v3 != v3) & (best == best));
      j = t ? M{} + 3 : j;
      const V z = V{};
      if (Relu) {  // dy * (x > 0), as the unfused multiply computes it (NaN or inf times 0 is NaN)
        best = t ? v3 : best;
        const V one = z + T(1);
        gv = gv * (best > z ? one : z);
      }
      const V r0 = j == 0 ? gv : z, r1 = j == 1 ? gv : z, r2 = j == 2 ? gv : z, r3 = j == 3 ? gv : z;
      std::memcpy(o0 + c, &r0, sizeof r0), std::memcpy(o0 + C + c, &r1, sizeof r1);
      std::memcpy(o1 + c, &r2, sizeof r2), std::memcpy(o1 + C + c, &r3, sizeof r3);
    }
    for (int64_t c = cv; c < C; c++) {
      const T v0 = x0[c], v1 = x0[C + c], v2 = x1[c], v3 = x1[C + c];
      T best = v0;
      I j = 0;
      if (max_takes(v1, best)) best = v1, j = 1;
      if (max_takes(v2, best)) best = v2, j = 2;
      if (max_takes(v3, best)) best = v3, j = 3;
      const T gv = Relu ? d[c] * (best > T(0) ? T(1) : T(0)) : d[c];
      o0[c] = j == 0 ? gv : T(0);
      o0[C + c] = j == 1 ? gv : T(0);
      o1[c] = j == 2 ? gv : T(0);
      o1[C + c] = j == 3 ? gv : T(0);
    }
  }
}

// The usual 2x2 / stride 2 / unpadded case, for output row r: the two input rows of the band are
// written in one pass (the winner of each 2x2 window gets dy, its three other cells 0), and only
// the cells no window covers (a last odd column, the rows below the last band) are cleared apart.
// The comparisons follow max_takes in the scan order (0,0) (0,1) (1,0) (1,1), as the general path.
template <class T, bool Relu>
ST_INLINE void grad_2x2_row(const PGeom &g, const T *x, const T *dy, T *dx, int64_t r) {
  const int64_t C = g.C, rs = g.W * C, n = r / g.OH, oh = r % g.OH;
  const int64_t row0 = (n * g.H + 2 * oh) * rs;
  grad_2x2_band<T, Relu>(x + row0, x + row0 + rs, dy + r * g.OW * C, dx + row0, dx + row0 + rs, C, g.OW);
  const int64_t tail = (g.W - 2 * g.OW) * C;  // columns right of the last window
  if (tail > 0) {
    std::memset(dx + row0 + 2 * g.OW * C, 0, sizeof(T) * (size_t)tail);
    std::memset(dx + row0 + rs + 2 * g.OW * C, 0, sizeof(T) * (size_t)tail);
  }
  if (oh == g.OH - 1 && g.H > 2 * g.OH)  // rows below the last window
    std::memset(dx + row0 + 2 * rs, 0, sizeof(T) * (size_t)((g.H - 2 * g.OH) * rs));
}

// Max-pool gradient when windows do not overlap (kh <= stride_h, kw <= stride_w): every dx cell
// lies in at most one window, so dx is written in one pass, band by band (input rows
// [oh*sh - pt, (oh+1)*sh - pt) belong to output row oh; the last band runs to the bottom), each
// band cleared while it is in cache and then its windows written.
// The 2x2 / stride 2 case takes grad_2x2_row.
template <class T, bool Relu>
ST_HOT void grad_disjoint_rows(const PGeom &g, const T *x, const T *dy, T *dx, int64_t b, int64_t e) {
  const int64_t C = g.C, rs = g.W * C;
  if (is_plain_2x2(g)) {
    for (int64_t r = b; r < e; r++) grad_2x2_row<T, Relu>(g, x, dy, dx, r);
    return;
  }
  for (int64_t r = b; r < e; r++) {
    const int64_t n = r / g.OH, oh = r % g.OH;
    const int64_t b0 = oh == 0 ? 0 : std::min(g.H, oh * g.sh - g.pt);
    const int64_t b1 = oh == g.OH - 1 ? g.H : std::min(g.H, (oh + 1) * g.sh - g.pt);
    if (b1 > b0) std::memset(dx + (n * g.H + b0) * rs, 0, sizeof(T) * (size_t)((b1 - b0) * rs));
    for (int64_t ow = 0; ow < g.OW; ow++) {
      int64_t h0, h1, w0, w1;
      g.window(oh, ow, &h0, &h1, &w0, &w1);
      if (h1 <= h0 || w1 <= w0) continue;
      const int64_t cell = (n * g.H + h0) * rs + w0 * C;
      const T *d = dy + (r * g.OW + ow) * C;
      for (int64_t cs = 0; cs < C; cs += kChannelBlock)
        window_grad_disjoint<T, Relu>(x + cell + cs, d + cs, dx + cell + cs, rs, C, h1 - h0, w1 - w0,
                                      std::min(kChannelBlock, C - cs));
    }
  }
}

template <class T>
void max_pool_grad_disjoint(st_ctx *ctx, const PGeom &g, bool relu, const T *x, const T *dy, T *dx) {
  const int64_t rows = g.N * g.OH;
  st::parallel(ctx, g.N * g.H * g.W * g.C, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(rows, ith, nth, &b, &e);
    if (relu)
      grad_disjoint_rows<T, true>(g, x, dy, dx, b, e);
    else
      grad_disjoint_rows<T, false>(g, x, dy, dx, b, e);
  });
}

// The general max-pool gradient: dx cleared, then each window's dy added at its winning cell.
template <class T>
void max_pool_grad_sum(st_ctx *ctx, const PGeom &g, const T *x, const T *dy, T *dx) {
  st::kern::zero_fill(ctx, dx, g.N * g.H * g.W * g.C);
  const int64_t C = g.C;
  for_grad_windows(ctx, g, [&](int64_t n, int64_t oh, int64_t ow, int64_t c0, int64_t c1) {
    int64_t h0, h1, w0, w1;
    g.window(oh, ow, &h0, &h1, &w0, &w1);
    if (h1 <= h0 || w1 <= w0) return;
    const T *d = dy + ((n * g.OH + oh) * g.OW + ow) * C;
    T *dxb = dx + n * g.H * g.W * C;
    int64_t arg[kChannelBlock];
    for (int64_t cs = c0; cs < c1; cs += kChannelBlock) {
      const int64_t cn = std::min(kChannelBlock, c1 - cs);
      window_argmax(g, x + n * g.H * g.W * C, h0, h1, w0, w1, cs, cn, arg);
      for (int64_t c = 0; c < cn; c++) dxb[arg[c] + cs + c] += d[cs + c];
    }
  });
}

// dx *= (x > 0) over the whole tensor: the relu mask where windows overlap.
template <class T>
ST_HOT void relu_mask_range(const T *x, T *dx, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; i++) dx[i] = dx[i] * (x[i] > T(0) ? T(1) : T(0));
}

template <class T>
void max_pool_grad(st_ctx *ctx, const PGeom &g, bool relu, const T *x, const T *dy, T *dx) {
  const int64_t max_cells = int64_t(1) << 20;  // window cells are numbered in 32-bit integers
  if (g.kh <= g.sh && g.kw <= g.sw && g.OH > 0 && g.OW > 0 && g.kw <= max_cells && g.kh <= max_cells / g.kw)
    return max_pool_grad_disjoint(ctx, g, relu, x, dy, dx);
  max_pool_grad_sum(ctx, g, x, dy, dx);
  if (!relu) return;
  const int64_t n = g.N * g.H * g.W * g.C;
  st::parallel(ctx, n, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(n, ith, nth, &b, &e);
    relu_mask_range(x, dx, b, e);
  });
}

// y[n, oh, ow, c] = gx[n, argmax cell of the window, c]; each output is written once, so output
// rows split over tasks as in the forward pass.
template <class T>
void max_pool_select(st_ctx *ctx, const PGeom &g, const T *x, const T *gx, T *y) {
  const int64_t rows = g.N * g.OH, C = g.C;
  st::parallel(ctx, rows * g.OW * C * g.kh * g.kw, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(rows, ith, nth, &b, &e);
    int64_t arg[kChannelBlock];
    for (int64_t r = b; r < e; r++) {
      const int64_t n = r / g.OH, oh = r % g.OH;
      const T *xb = x + n * g.H * g.W * C, *gb = gx + n * g.H * g.W * C;
      for (int64_t ow = 0; ow < g.OW; ow++) {
        T *o = y + (r * g.OW + ow) * C;
        int64_t h0, h1, w0, w1;
        g.window(oh, ow, &h0, &h1, &w0, &w1);
        if (h1 <= h0 || w1 <= w0) {
          std::fill(o, o + C, T(0));
          continue;
        }
        for (int64_t cs = 0; cs < C; cs += kChannelBlock) {
          const int64_t cn = std::min(kChannelBlock, C - cs);
          window_argmax(g, xb, h0, h1, w0, w1, cs, cn, arg);
          for (int64_t c = 0; c < cn; c++) o[cs + c] = gb[arg[c] + cs + c];
        }
      }
    }
  });
}

template <class T>
void avg_pool_grad(st_ctx *ctx, const PGeom &g, const T *dy, T *dx) {
  st::kern::zero_fill(ctx, dx, g.N * g.H * g.W * g.C);
  const int64_t C = g.C;
  for_grad_windows(ctx, g, [&](int64_t n, int64_t oh, int64_t ow, int64_t c0, int64_t c1) {
    int64_t h0, h1, w0, w1;
    g.window(oh, ow, &h0, &h1, &w0, &w1);
    if (h1 <= h0 || w1 <= w0) return;
    const T *d = dy + ((n * g.OH + oh) * g.OW + ow) * C;
    const T inv = T(1) / T((h1 - h0) * (w1 - w0));
    for (int64_t ih = h0; ih < h1; ih++)
      for (int64_t iw = w0; iw < w1; iw++) {
        T *o = dx + ((n * g.H + ih) * g.W + iw) * C;
        for (int64_t c = c0; c < c1; c++) o[c] += d[c] * inv;
      }
  });
}

// x and y in the roles of the forward pooling, and dx for MAX_POOL2D_GRAD (g for MAX_POOL2D_SELECT),
// which must have x's shape.
struct Roles {
  const st_tensor *x, *y, *dx;
};

Roles roles_of(const st_instr *ins) {
  switch (ins->opcode) {
    case ST_OP_MAX_POOL2D:
    case ST_OP_AVG_POOL2D: return {&ins->in[0], &ins->out[0], nullptr};
    case ST_OP_MAX_POOL2D_GRAD: return {&ins->in[0], &ins->in[1], &ins->out[0]};
    case ST_OP_MAX_POOL2D_SELECT: return {&ins->in[0], &ins->out[0], &ins->in[1]};
    default: return {&ins->out[0], &ins->in[0], nullptr};  // AVG_POOL2D_GRAD: dy -> dx
  }
}

PGeom geom_of(const st_instr *ins) {
  const Roles r = roles_of(ins);
  const int64_t *a = ins->iattr;
  return PGeom{r.x->shape[0], r.x->shape[1], r.x->shape[2], r.x->shape[3], r.y->shape[1], r.y->shape[2],
               a[0],          a[1],          a[2],          a[3],          a[4],          a[5]};
}

st_code check_pool(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  ST_REQUIRE(st, ins->opcode == ST_OP_MAX_POOL2D || ins->opcode == ST_OP_AVG_POOL2D ||
                     ins->opcode == ST_OP_MAX_POOL2D_GRAD || ins->opcode == ST_OP_AVG_POOL2D_GRAD ||
                     ins->opcode == ST_OP_MAX_POOL2D_SELECT,
             ST_ERR_INTERNAL, "%s: not a pooling op", op);
  if (ins->opcode == ST_OP_MAX_POOL2D_GRAD) {
    ST_REQUIRE(st, ins->n_iattr == 6 || ins->n_iattr == 7, ST_ERR_ARG,
               "%s: expected int attributes [kh, kw, stride_h, stride_w, pad_top, pad_left] and optionally "
               "relu_mask, got %d values",
               op, (int)ins->n_iattr);
    ST_REQUIRE(st, ins->n_iattr == 6 || ins->iattr[6] == 0 || ins->iattr[6] == 1, ST_ERR_ARG,
               "%s: relu_mask must be 0 or 1, got %lld", op, (long long)ins->iattr[6]);
  } else {
    ST_REQUIRE(st, ins->n_iattr == 6, ST_ERR_ARG,
               "%s: expected int attributes [kh, kw, stride_h, stride_w, pad_top, pad_left], got %d values", op,
               (int)ins->n_iattr);
  }
  const Roles r = roles_of(ins);
  const st_tensor *x = r.x, *y = r.y, *dx = r.dx;
  const bool grad = ins->opcode == ST_OP_MAX_POOL2D_GRAD || ins->opcode == ST_OP_AVG_POOL2D_GRAD;
  const bool select = ins->opcode == ST_OP_MAX_POOL2D_SELECT;
  const char *xn = ins->opcode == ST_OP_AVG_POOL2D_GRAD ? "dx" : "x", *yn = grad ? "dy" : "y", *dxn = select ? "g" : "dx";
  const st::ShapeStr xs(*x), ys(*y);
  const int32_t dt = x->dtype;
  ST_REQUIRE(st, y->dtype == dt && (!dx || dx->dtype == dt), ST_ERR_DTYPE, "%s: dtypes differ: %s %s, %s %s%s%s%s%s", op,
             xn, st_dtype_name(x->dtype), yn, st_dtype_name(y->dtype), dx ? ", " : "", dx ? dxn : "",
             dx ? " " : "", dx ? st_dtype_name(dx->dtype) : "");
  ST_REQUIRE(st, dt == ST_F32 || dt == ST_F64, ST_ERR_DTYPE, "%s: unsupported dtype %s (float32 or float64)", op,
             st_dtype_name(dt));
  ST_REQUIRE(st, x->ndim == 4 && y->ndim == 4, ST_ERR_SHAPE, "%s: expected %s [N,H,W,C] and %s [N,OH,OW,C], got %s and %s",
             op, xn, yn, xs.c_str(), ys.c_str());
  if (dx) {
    bool same = dx->ndim == 4;
    for (int d = 0; same && d < 4; d++) same = dx->shape[d] == x->shape[d];
    ST_REQUIRE(st, same, ST_ERR_SHAPE, "%s: %s %s must have the shape of x %s", op, dxn, st::ShapeStr(*dx).c_str(),
               xs.c_str());
  }
  const PGeom g = geom_of(ins);
  ST_REQUIRE(st, g.kh >= 1 && g.kw >= 1 && g.sh >= 1 && g.sw >= 1 && g.pt >= 0 && g.pl >= 0, ST_ERR_ARG,
             "%s: bad attributes window [%lld,%lld], stride [%lld,%lld], pad [%lld,%lld] (window and strides must be "
             ">= 1, pads >= 0)",
             op, (long long)g.kh, (long long)g.kw, (long long)g.sh, (long long)g.sw, (long long)g.pt, (long long)g.pl);
  ST_REQUIRE(st, y->shape[0] == g.N && y->shape[3] == g.C, ST_ERR_SHAPE,
             "%s: %s %s and %s %s differ in batch or channel count", op, xn, xs.c_str(), yn, ys.c_str());
  const char *why_h = st::kern::check_window_axis(g.H, g.OH, g.kh, g.sh, g.pt, 1, false);
  const char *why_w = st::kern::check_window_axis(g.W, g.OW, g.kw, g.sw, g.pl, 1, false);
  ST_REQUIRE(st, !why_h && !why_w, ST_ERR_SHAPE,
             "%s: %s %s does not fit %s %s with window [%lld,%lld], stride [%lld,%lld], pad_top/left [%lld,%lld] "
             "(%s: %s)",
             op, yn, ys.c_str(), xn, xs.c_str(), (long long)g.kh, (long long)g.kw, (long long)g.sh, (long long)g.sw,
             (long long)g.pt, (long long)g.pl, why_h ? "height" : "width", why_h ? why_h : why_w);
  return ST_OK;
}

st_code run_pool(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *) {
  if (st::numel(ins->out[0]) == 0) return ST_OK;
  const PGeom g = geom_of(ins);
  st::dispatch_dtype(ins->out[0].dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same<T, float>::value || std::is_same<T, double>::value) {
      const T *i0 = static_cast<const T *>(ins->in[0].data);
      T *o = static_cast<T *>(ins->out[0].data);
      switch (ins->opcode) {
        case ST_OP_MAX_POOL2D: pool_forward<T>(ctx, g, true, i0, o); break;
        case ST_OP_AVG_POOL2D: pool_forward<T>(ctx, g, false, i0, o); break;
        case ST_OP_MAX_POOL2D_GRAD: {
          const bool relu = ins->n_iattr == 7 && ins->iattr[6] == 1;
          max_pool_grad<T>(ctx, g, relu, i0, static_cast<const T *>(ins->in[1].data), o);
          break;
        }
        case ST_OP_MAX_POOL2D_SELECT: max_pool_select<T>(ctx, g, i0, static_cast<const T *>(ins->in[1].data), o); break;
        default: avg_pool_grad<T>(ctx, g, i0, o); break;
      }
    }
    return 0;
  });
  return ST_OK;
}

}  // namespace

const st::Family st_pool_family = {check_pool, run_pool};
