// Helpers shared by several kernel families: argument checks that more than one family makes
// (extents of an [outer, n, inner] view, sliding-window geometry) and small parallel loops.
#pragma once
#include <algorithm>
#include <cstdint>

#include "../../runtime/internal.h"

namespace st {
namespace kern {

// Validates [outer, n, inner] attributes against the input (also that outer * inner fits):
// reductions, softmax and gather view their input so.
inline st_code check_extents(const char *op, const char *names, const st_tensor &in, const int64_t *a, st_status *st) {
  ST_REQUIRE(st, a[0] >= 0 && a[1] >= 0 && a[2] >= 0, ST_ERR_ARG, "%s: negative extent in %s = [%lld,%lld,%lld]", op,
             names, (long long)a[0], (long long)a[1], (long long)a[2]);
  int64_t p1, p2, p3;
  const bool overflow = __builtin_mul_overflow(a[0], a[1], &p1) || __builtin_mul_overflow(p1, a[2], &p2) ||
                        __builtin_mul_overflow(a[0], a[2], &p3);
  ST_REQUIRE(st, !overflow && p2 == st::numel(in), ST_ERR_SHAPE,
             "%s: %s = [%lld,%lld,%lld] does not match input %s (%lld elements)", op, names, (long long)a[0],
             (long long)a[1], (long long)a[2], st::ShapeStr(in).c_str(), (long long)st::numel(in));
  return ST_OK;
}

// Largest spatial quantity accepted by the window kernels (convolution, pooling): sizes, pads,
// strides, dilations, effective window.  Keeps all their index arithmetic far from int64 overflow.
constexpr int64_t kMaxSpatial = int64_t(1) << 40;

// Checks that an output extent `out` is consistent with input extent `in`, window size k, stride,
// leading pad and dilation: the trailing pad implied by `out` must be one a valid window layout can
// have, i.e. 0 <= pad < effective window, and (out - 1) * stride + effective window = in + pad +
// pad_end with -stride < pad_end < effective window.  out == 0 is accepted when no window fits.
// Returns nullptr when consistent, otherwise a short reason.
// empty_windows: a window may lie entirely in the padding (convolution: it gives 0); pooling
// windows must touch the input.
inline const char *check_window_axis(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                                     bool empty_windows) {
  if (stride < 1 || dil < 1) return "stride and dilation must be >= 1";
  if (pad < 0) return "padding must be >= 0";
  if (k < 1) return "window size must be >= 1";
  if (in > kMaxSpatial || out > kMaxSpatial || k > kMaxSpatial || stride > kMaxSpatial || pad > kMaxSpatial ||
      dil > kMaxSpatial)
    return "size or attribute too large";
  if (k > 1 && dil > kMaxSpatial / (k - 1)) return "dilated window too large";
  const int64_t ek = dil * (k - 1) + 1;  // effective window, <= 2^40 + 1
  if (out == 0) return in + pad < ek ? nullptr : "output size 0 but a window fits";
  if (!empty_windows && pad >= ek) return "padding must be smaller than the (dilated) window";
  if (out > 1 && stride > kMaxSpatial / (out - 1)) return "output size or stride too large";
  const int64_t end_pad = (out - 1) * stride + ek - in - pad;
  if (!empty_windows && end_pad >= ek) return "output size too large: the last window would lie entirely in the padding";
  if (empty_windows && end_pad > kMaxSpatial) return "output size too large";
  if (end_pad <= -stride) return "output size too small for the input";
  return nullptr;
}

// p[0, n) = 0 on the pool (gradient kernels clear before they accumulate).
template <class T>
void zero_fill(st_ctx *ctx, T *p, int64_t n) {
  st::parallel(ctx, n, [&](int ith, int nth) {
    int64_t b, e;
    st::split_range(n, ith, nth, &b, &e);
    std::fill(p + b, p + e, T(0));
  });
}

}  // namespace kern
}  // namespace st
