// CONV2D and its gradients, NHWC input and [KH,KW,C,F] filter.  Two routes:
//
// Direct kernels (conv_direct.cc) read the input in place, with no column matrix; they win where
// im2col would starve or flood the GEMM (few input channels, where K = KH*KW*C is tiny, and the
// usual 3x3 layers, where the column matrix is 9x the input and col2im a second pass):
//   forward:      when F >= 8
//   grad input:   for stride 1, when C >= 8: a forward pass over dy (padded by the window minus
//                 the forward pad) with the filter flipped and transposed, so no col2im
//   grad filter:  when F >= 8 and the filter is small (C < 16 or KH*KW*C*F <= 32768)
// im2col + GEMM otherwise:
//   forward:      col [P, KH*KW*C] (one row per output position) . W [KH*KW*C, F] -> y [P, F]
//   grad input:   dcol = dy [P, F] . W^T, then col2im adds dcol back into dx
//   grad filter:  dW = col^T . dy, accumulated over chunks
// P = N*OH*OW positions are processed in chunks of whole output rows so the column buffer stays
// bounded (a few MB, so it is still in cache when the GEMM reads it).  im2col/col2im run on the
// thread pool; the GEMM threads by itself (OpenBLAS or the built-in one), outside any pool task.
// A 1x1, stride-1, unpadded convolution skips both: x itself is the column matrix.
// CONV2D_BIAS_ACT, act(conv2d(x, w) + bias), applies its epilogue where the output is produced: the
// direct kernel after each block of output rows, the im2col route after each chunk's GEMM (its
// output rows still in cache), with the bits of the unfused ELEMWISE add and activation.
// col2im is a gather: every dx row (n, ih) is owned by one task and sums the dcol entries of the
// windows that cover it, so there are no write races.
#include <algorithm>
#include <cstdlib>
#include <type_traits>

#include "common.h"
#include "bias_act.h"
#include "conv_direct.h"
#include "gemm.h"

namespace {

constexpr int64_t kColChunkBytes = int64_t(6) << 20;  // target size of one column buffer
constexpr int64_t kColMaxBytes = int64_t(64) << 20;    // never more (unless one output row needs it)

struct Geom {
  int64_t N, H, W, C, KH, KW, F, OH, OW, sh, sw, pt, pl, dh, dw;
  int64_t kkc() const { return KH * KW * C; }
  bool direct() const { return KH == 1 && KW == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && OH == H && OW == W; }
};

struct Buffer {
  void *p = nullptr;
  ~Buffer() { std::free(p); }
};

// Output rows (n, oh) per chunk.
int64_t chunk_rows(const Geom &g, size_t es) {
  const int64_t row_bytes = std::max<int64_t>(1, g.OW * g.kkc() * (int64_t)es);
  int64_t rows = std::max<int64_t>(1, kColChunkBytes / row_bytes);
  rows = std::min(rows, std::max<int64_t>(1, kColMaxBytes / row_bytes));
  return std::min(rows, g.N * g.OH);
}

// One im2col row: the (kh, kw, c) window of output position (n, oh, ow), zeros where it is padding.
template <class T>
inline void im2col_one(const Geom &g, const T *x, int64_t n, int64_t oh, int64_t ow, T *d) {
  const int64_t C = g.C, KWC = g.KW * C;
  const int64_t ih0 = oh * g.sh - g.pt, iw0 = ow * g.sw - g.pl;
  for (int64_t kh = 0; kh < g.KH; kh++, d += KWC) {
    const int64_t ih = ih0 + kh * g.dh;
    if (ih < 0 || ih >= g.H) {
      std::fill(d, d + KWC, T(0));
      continue;
    }
    const T *xr = x + (n * g.H + ih) * g.W * C;
    if (g.dw == 1) {  // the in-bounds taps are one contiguous run of x
      const int64_t lo = std::min(g.KW, std::max<int64_t>(0, -iw0));
      const int64_t hi = std::max(lo, std::min(g.KW, g.W - iw0));
      std::fill(d, d + lo * C, T(0));
      if (hi > lo) std::memcpy(d + lo * C, xr + (iw0 + lo) * C, sizeof(T) * (size_t)((hi - lo) * C));
      std::fill(d + hi * C, d + KWC, T(0));
    } else {
      for (int64_t kw = 0; kw < g.KW; kw++) {
        const int64_t iw = iw0 + kw * g.dw;
        if (iw >= 0 && iw < g.W)
          std::memcpy(d + kw * C, xr + iw * C, sizeof(T) * (size_t)C);
        else
          std::fill(d + kw * C, d + (kw + 1) * C, T(0));
      }
    }
  }
}

// Column rows of output rows [q0, q1) (q = n*OH + oh).
template <class T>
void im2col(st_ctx *ctx, const Geom &g, const T *x, int64_t q0, int64_t q1, T *col) {
  const int64_t kkc = g.kkc(), np = (q1 - q0) * g.OW;
  st::parallel(ctx, np * kkc, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(np, ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) {
      const int64_t q = q0 + i / g.OW, ow = i % g.OW;
      im2col_one(g, x, q / g.OH, q % g.OH, ow, col + i * kkc);
    }
  });
}

// dx += col2im(dcol) for output rows [q0, q1).
template <class T>
void col2im_add(st_ctx *ctx, const Geom &g, const T *dcol, int64_t q0, int64_t q1, T *dx) {
  const int64_t C = g.C, KWC = g.KW * C, kkc = g.kkc();
  const int64_t n_lo = q0 / g.OH, n_hi = (q1 - 1) / g.OH, items = (n_hi - n_lo + 1) * g.H;
  st::parallel(ctx, (q1 - q0) * g.OW * kkc, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(items, ith, nth, &b, &e);
    for (int64_t it = b; it < e; it++) {
      const int64_t n = n_lo + it / g.H, ih = it % g.H;
      const int64_t oh_a = n == n_lo ? q0 % g.OH : 0, oh_b = n == n_hi ? (q1 - 1) % g.OH + 1 : g.OH;
      // rows of this image whose windows can reach ih
      if (ih < oh_a * g.sh - g.pt || ih > (oh_b - 1) * g.sh - g.pt + (g.KH - 1) * g.dh) continue;
      T *o = dx + (n * g.H + ih) * g.W * C;
      for (int64_t iw = 0; iw < g.W; iw++, o += C) {
        for (int64_t kh = 0; kh < g.KH; kh++) {
          const int64_t t = ih + g.pt - kh * g.dh;
          if (t < 0) break;
          if (t % g.sh) continue;
          const int64_t oh = t / g.sh;
          if (oh < oh_a || oh >= oh_b) continue;
          const T *rb = dcol + ((n * g.OH + oh - q0) * g.OW) * kkc + kh * KWC;
          for (int64_t kw = 0; kw < g.KW; kw++) {
            const int64_t u = iw + g.pl - kw * g.dw;
            if (u < 0) break;
            if (u % g.sw) continue;
            const int64_t ow = u / g.sw;
            if (ow >= g.OW) continue;
            const T *s = rb + ow * kkc + kw * C;
            for (int64_t c = 0; c < C; c++) o[c] += s[c];
          }
        }
      }
    }
  });
}

// The direct kernels' view of the forward convolution (source x) and of the stride-1 input gradient
// (source dy, flipped filter, output dx).
st::conv::DGeom forward_view(const Geom &g) {
  return {g.N, g.H, g.W, g.C, g.OH, g.OW, g.F, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl};
}
st::conv::DGeom grad_input_view(const Geom &g) {
  return {g.N, g.OH, g.OW, g.F, g.H, g.W, g.C, g.KH, g.KW, 1, 1, g.dh, g.dw, (g.KH - 1) * g.dh - g.pt,
          (g.KW - 1) * g.dw - g.pl};
}

// When the direct kernels beat im2col + GEMM (measured on an AVX2 machine, one and two threads).
// Their tiles are 16 float32 (8 float64) output channels wide, so a few output channels waste
// most of each tile.  The filter gradient of a large filter is a GEMM with a long K (the
// positions), where OpenBLAS keeps the edge.
bool use_direct_forward(const st::conv::DGeom &v) {
  return st::conv::direct_ok(v) && v.F >= 8;
}
bool use_direct_grad_filter(const st::conv::DGeom &v) {
  return st::conv::direct_ok(v) && v.F >= 8 && (v.C < 16 || v.kkc() * v.F <= 32768);
}

// The epilogue over rows [0, rows) of y [., F]: y = act(y + bias).  One multiversioned entry per
// type (ST_HOT), as the elementwise VM has.
ST_HOT void bias_act_f32(float *y, const float *bias, int64_t rows, int64_t F, int act) {
  st::kern::bias_act_rows(y, bias, rows, F, F, act);
}
ST_HOT void bias_act_f64(double *y, const double *bias, int64_t rows, int64_t F, int act) {
  st::kern::bias_act_rows(y, bias, rows, F, F, act);
}
inline void bias_act_any(float *y, const float *bias, int64_t rows, int64_t F, int act) {
  bias_act_f32(y, bias, rows, F, act);
}
inline void bias_act_any(double *y, const double *bias, int64_t rows, int64_t F, int act) {
  bias_act_f64(y, bias, rows, F, act);
}
template <class T>
void bias_act_par(st_ctx *ctx, T *y, const T *bias, int64_t rows, int64_t F, int act) {
  st::parallel(ctx, rows * F * (act == ST_ACT_NONE || act == ST_ACT_RELU ? 1 : 8), [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(rows, ith, nth, &b, &e);
    if (b < e) bias_act_any(y + b * F, bias, e - b, F, act);
  });
}

template <class T>
st_code alloc_col(const char *op, const Geom &g, int64_t rows, Buffer &buf, st_status *st) {
  const size_t bytes = (size_t)(rows * g.OW * g.kkc()) * sizeof(T);
  buf.p = std::malloc(bytes ? bytes : 1);
  ST_REQUIRE(st, buf.p, ST_ERR_ALLOC, "%s: cannot allocate a %zu-byte column buffer", op, bytes);
  return ST_OK;
}

// y = conv(x, w), or act(conv(x, w) + bias) when bias is given.
template <class T>
st_code conv_forward(st_ctx *ctx, const char *op, int32_t dt, const Geom &g, const T *x, const T *w, T *y,
                     st_status *st, const T *bias = nullptr, int act = ST_ACT_NONE) {
  const int64_t P = g.N * g.OH * g.OW, kkc = g.kkc();
  if (P == 0 || g.F == 0) return ST_OK;
  if (g.direct() || kkc == 0) {
    // x is the column matrix: the very GEMM CONV2D makes (the same bits), then the epilogue's pass
    ST_CHECK(st_gemm(ctx, dt, false, false, P, g.F, kkc, 1.0, x, kkc, w, g.F, 0.0, y, g.F, st));
    if (bias) bias_act_par(ctx, y, bias, P, g.F, act);
    return ST_OK;
  }
  const st::conv::DGeom v = forward_view(g);
  if (use_direct_forward(v))
    return st::conv::direct_forward(ctx, op, dt, v, x, w, st::conv::WLayout::kHWCF, y, st, bias, act);
  const int64_t rows = chunk_rows(g, sizeof(T));
  Buffer buf;
  ST_CHECK(alloc_col<T>(op, g, rows, buf, st));
  T *col = static_cast<T *>(buf.p);
  for (int64_t q0 = 0; q0 < g.N * g.OH; q0 += rows) {
    const int64_t q1 = std::min(g.N * g.OH, q0 + rows), np = (q1 - q0) * g.OW;
    im2col(ctx, g, x, q0, q1, col);
    ST_CHECK(st_gemm(ctx, dt, false, false, np, g.F, kkc, 1.0, col, kkc, w, g.F, 0.0, y + q0 * g.OW * g.F, g.F, st));
    if (bias) bias_act_par(ctx, y + q0 * g.OW * g.F, bias, np, g.F, act);
  }
  return ST_OK;
}

template <class T>
st_code conv_grad_input(st_ctx *ctx, const char *op, int32_t dt, const Geom &g, const T *dy, const T *w, T *dx,
                        st_status *st) {
  const int64_t P = g.N * g.OH * g.OW, kkc = g.kkc(), nx = g.N * g.H * g.W * g.C;
  if (nx == 0) return ST_OK;
  if (g.direct()) return st_gemm(ctx, dt, false, true, P, g.C, g.F, 1.0, dy, g.F, w, g.F, 0.0, dx, g.C, st);
  if (g.sh == 1 && g.sw == 1 && P > 0) {
    const st::conv::DGeom v = grad_input_view(g);
    if (use_direct_forward(v)) return st::conv::direct_forward(ctx, op, dt, v, dy, w, st::conv::WLayout::kFlipped, dx, st);
  }
  st::kern::zero_fill(ctx, dx, nx);
  if (P == 0 || g.F == 0) return ST_OK;
  const int64_t rows = chunk_rows(g, sizeof(T));
  Buffer buf;
  ST_CHECK(alloc_col<T>(op, g, rows, buf, st));
  T *dcol = static_cast<T *>(buf.p);
  for (int64_t q0 = 0; q0 < g.N * g.OH; q0 += rows) {
    const int64_t q1 = std::min(g.N * g.OH, q0 + rows), np = (q1 - q0) * g.OW;
    ST_CHECK(st_gemm(ctx, dt, false, true, np, kkc, g.F, 1.0, dy + q0 * g.OW * g.F, g.F, w, g.F, 0.0, dcol, kkc, st));
    col2im_add(ctx, g, dcol, q0, q1, dx);
  }
  return ST_OK;
}

template <class T>
st_code conv_grad_filter(st_ctx *ctx, const char *op, int32_t dt, const Geom &g, const T *x, const T *dy, T *dw,
                         st_status *st) {
  const int64_t P = g.N * g.OH * g.OW, kkc = g.kkc();
  if (kkc == 0 || g.F == 0) return ST_OK;
  if (g.direct() || P == 0) return st_gemm(ctx, dt, true, false, kkc, g.F, P, 1.0, x, kkc, dy, g.F, 0.0, dw, g.F, st);
  const st::conv::DGeom v = forward_view(g);
  if (use_direct_grad_filter(v)) return st::conv::direct_grad_filter(ctx, op, dt, v, x, dy, dw, st);
  const int64_t rows = chunk_rows(g, sizeof(T));
  Buffer buf;
  ST_CHECK(alloc_col<T>(op, g, rows, buf, st));
  T *col = static_cast<T *>(buf.p);
  for (int64_t q0 = 0; q0 < g.N * g.OH; q0 += rows) {
    const int64_t q1 = std::min(g.N * g.OH, q0 + rows), np = (q1 - q0) * g.OW;
    im2col(ctx, g, x, q0, q1, col);
    ST_CHECK(st_gemm(ctx, dt, true, false, kkc, g.F, np, 1.0, col, kkc, dy + q0 * g.OW * g.F, g.F, q0 == 0 ? 0.0 : 1.0,
                     dw, g.F, st));
  }
  return ST_OK;
}

// The tensors in the roles of the forward convolution: x [N,H,W,C], w [KH,KW,C,F], y [N,OH,OW,F].
struct Roles {
  const st_tensor *x, *w, *y;
};

Roles roles_of(const st_instr *ins) {
  switch (ins->opcode) {
    case ST_OP_CONV2D:
    case ST_OP_CONV2D_BIAS_ACT: return {&ins->in[0], &ins->in[1], &ins->out[0]};
    case ST_OP_CONV2D_GRAD_INPUT: return {&ins->out[0], &ins->in[1], &ins->in[0]};
    default: return {&ins->in[0], &ins->out[0], &ins->in[1]};
  }
}

Geom geom_of(const st_instr *ins) {
  const Roles r = roles_of(ins);
  const st_tensor &x = *r.x, &w = *r.w, &y = *r.y;
  return Geom{x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0], w.shape[1], w.shape[3], y.shape[1],
              y.shape[2], ins->iattr[0], ins->iattr[1], ins->iattr[2], ins->iattr[3], ins->iattr[4], ins->iattr[5]};
}

st_code check_conv2d(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const bool fused = ins->opcode == ST_OP_CONV2D_BIAS_ACT;
  ST_REQUIRE(st, ins->n_iattr == (fused ? 7 : 6), ST_ERR_ARG,
             "%s: expected int attributes [stride_h, stride_w, pad_top, pad_left, dil_h, dil_w%s], got %d values", op,
             fused ? ", act" : "", (int)ins->n_iattr);
  const Roles r = roles_of(ins);
  const st_tensor *x = r.x, *w = r.w, *y = r.y;
  const st::ShapeStr xs(*x), ws(*w), ys(*y);
  const char *xn = ins->opcode == ST_OP_CONV2D_GRAD_INPUT ? "dx" : "x";
  const char *wn = ins->opcode == ST_OP_CONV2D_GRAD_FILTER ? "dw" : "w";
  const char *yn = ins->opcode == ST_OP_CONV2D || fused ? "y" : "dy";
  const int32_t dt = ins->in[0].dtype;
  ST_REQUIRE(st, x->dtype == dt && w->dtype == dt && y->dtype == dt, ST_ERR_DTYPE, "%s: dtypes differ: %s %s, %s %s, %s %s",
             op, xn, st_dtype_name(x->dtype), wn, st_dtype_name(w->dtype), yn, st_dtype_name(y->dtype));
  ST_REQUIRE(st, dt == ST_F32 || dt == ST_F64, ST_ERR_DTYPE, "%s: unsupported dtype %s (float32 or float64)", op,
             st_dtype_name(dt));
  ST_REQUIRE(st, x->ndim == 4 && w->ndim == 4 && y->ndim == 4, ST_ERR_SHAPE,
             "%s: expected %s [N,H,W,C], %s [KH,KW,C,F] and %s [N,OH,OW,F], got %s, %s and %s", op, xn, wn, yn,
             xs.c_str(), ws.c_str(), ys.c_str());
  const Geom g = geom_of(ins);
  ST_REQUIRE(st, g.sh >= 1 && g.sw >= 1 && g.dh >= 1 && g.dw >= 1 && g.pt >= 0 && g.pl >= 0, ST_ERR_ARG,
             "%s: bad attributes stride [%lld,%lld], pad [%lld,%lld], dilation [%lld,%lld] (strides and dilations must "
             "be >= 1, pads >= 0)",
             op, (long long)g.sh, (long long)g.sw, (long long)g.pt, (long long)g.pl, (long long)g.dh, (long long)g.dw);
  ST_REQUIRE(st, y->shape[0] == g.N && w->shape[2] == g.C && y->shape[3] == g.F, ST_ERR_SHAPE,
             "%s: %s %s, %s %s and %s %s do not fit together (batch, channel or filter counts differ)", op, xn,
             xs.c_str(), wn, ws.c_str(), yn, ys.c_str());
  const char *why_h = st::kern::check_window_axis(g.H, g.OH, g.KH, g.sh, g.pt, g.dh, true);
  const char *why_w = st::kern::check_window_axis(g.W, g.OW, g.KW, g.sw, g.pl, g.dw, true);
  ST_REQUIRE(st, !why_h && !why_w, ST_ERR_SHAPE,
             "%s: output %s %s does not fit %s %s and %s %s with stride [%lld,%lld], pad_top/left [%lld,%lld], "
             "dilation [%lld,%lld] (%s: %s)",
             op, yn, ys.c_str(), xn, xs.c_str(), wn, ws.c_str(), (long long)g.sh, (long long)g.sw, (long long)g.pt,
             (long long)g.pl, (long long)g.dh, (long long)g.dw, why_h ? "height" : "width", why_h ? why_h : why_w);
  if (fused) {
    const st_tensor &bias = ins->in[2];
    const int64_t act = ins->iattr[6];
    ST_REQUIRE(st, act >= 0 && act < ST_ACT_COUNT, ST_ERR_ARG, "%s: unknown activation %lld (0..%d)", op,
               (long long)act, (int)ST_ACT_COUNT - 1);
    ST_REQUIRE(st, bias.dtype == dt, ST_ERR_DTYPE, "%s: bias dtype %s differs from x's %s", op,
               st_dtype_name(bias.dtype), st_dtype_name(dt));
    ST_REQUIRE(st, bias.ndim == 1 && bias.shape[0] == g.F, ST_ERR_SHAPE,
               "%s: bias %s must be [F] for %s %s (F = %lld)", op, st::ShapeStr(bias).c_str(), wn, ws.c_str(),
               (long long)g.F);
  }
  return ST_OK;
}

st_code run_conv2d(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const Geom g = geom_of(ins);
  const int32_t dt = ins->in[0].dtype;
  return st::dispatch_dtype(dt, [&](auto z) -> st_code {
    using T = decltype(z);
    if constexpr (std::is_same<T, float>::value || std::is_same<T, double>::value) {
      const T *a = static_cast<const T *>(ins->in[0].data), *b = static_cast<const T *>(ins->in[1].data);
      T *o = static_cast<T *>(ins->out[0].data);
      switch (ins->opcode) {
        case ST_OP_CONV2D: return conv_forward<T>(ctx, op, dt, g, a, b, o, st);
        case ST_OP_CONV2D_BIAS_ACT:
          return conv_forward<T>(ctx, op, dt, g, a, b, o, st, static_cast<const T *>(ins->in[2].data),
                                 (int)ins->iattr[6]);
        case ST_OP_CONV2D_GRAD_INPUT: return conv_grad_input<T>(ctx, op, dt, g, a, b, o, st);
        default: return conv_grad_filter<T>(ctx, op, dt, g, a, b, o, st);
      }
    }
    return st_fail(st, ST_ERR_INTERNAL, "%s: unreachable dtype", op);
  });
}

}  // namespace

const st::Family st_conv_family = {check_conv2d, run_conv2d};
