// Direct (implicit-GEMM) convolution: the forward pass and the filter gradient computed straight
// from the input, without a column matrix.  conv.cc decides when to use them; the input gradient
// of a stride-1 convolution is a forward pass over dy with the flipped, transposed filter.
#pragma once
#include "common.h"

namespace st {
namespace conv {

// A convolution read through a zero-padded view of its source:
//   out[n, oh, ow, f] = sum over (kh, kw, c) of P[n, oh*sh + kh*dh, ow*sw + kw*dw, c] * w(kh, kw, c, f)
// where P[n, r, q, c] = src[n, r - pt, q - pl, c] inside src and 0 outside.  pt and pl may be
// negative (the view then starts inside src).
struct DGeom {
  int64_t N, HS, WS, C;  // src [N, HS, WS, C]
  int64_t OH, OW, F;     // out [N, OH, OW, F]
  int64_t KH, KW, sh, sw, dh, dw;
  int64_t pt, pl;
  int64_t kkc() const { return KH * KW * C; }
  int64_t HP() const { return (OH - 1) * sh + (KH - 1) * dh + 1; }  // rows of the view that are read
  int64_t WP() const { return (OW - 1) * sw + (KW - 1) * dw + 1; }
  // Whether some read cell lies outside src (then the view is materialized in a buffer).
  bool needs_pad() const { return pt > 0 || pl > 0 || HP() - pt > HS || WP() - pl > WS; }
};

// How the filter w is laid out for the roles of DGeom:
//   kHWCF     w [KH, KW, C, F], w(kh, kw, c, f) = w[kh, kw, c, f] (the forward convolution)
//   kFlipped  w [KH, KW, F, C] read flipped: w(kh, kw, c, f) = w[KH-1-kh, KW-1-kw, f, c] (the input
//             gradient of a stride-1 convolution, whose source is dy and whose output is dx)
enum class WLayout { kHWCF, kFlipped };

// Whether the direct kernels apply: a non-empty problem whose index arithmetic and scratch sizes
// stay bounded.  Callers check it before calling the kernels below.
bool direct_ok(const DGeom &g);

// out = conv(src, w).  Threads over blocks of output rows on ctx's pool.  With a bias ([F], src's
// dtype), out = act(conv(src, w) + bias) (act an ST_ACT code), applied to each block of output rows
// as soon as it is computed, with the bits of the unfused add and activation (bias_act.h).
st_code direct_forward(st_ctx *ctx, const char *op, int32_t dtype, const DGeom &g, const void *src, const void *w,
                       WLayout layout, void *out, st_status *st, const void *bias = nullptr, int act = ST_ACT_NONE);

// dw[kh, kw, c, f] = sum over positions of P[n, oh*sh + kh*dh, ow*sw + kw*dw, c] * dy[n, oh, ow, f]
// (dy has out's shape, dw is [KH, KW, C, F]).  Threads over chunks of images and tiles of dw,
// every element summed in the same order whatever the thread count.
st_code direct_grad_filter(st_ctx *ctx, const char *op, int32_t dtype, const DGeom &g, const void *src,
                           const void *dy, void *dw, st_status *st);

}  // namespace conv
}  // namespace st
