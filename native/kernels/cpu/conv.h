// Shared by the convolution and pooling kernels (NHWC layout).
#pragma once
#include "../../runtime/internal.h"

namespace st {
namespace conv {

// Largest spatial quantity accepted (sizes, pads, strides, dilations, effective window); keeps all
// index arithmetic of the kernels far from int64 overflow.
constexpr int64_t kMaxSpatial = int64_t(1) << 40;

// Checks that an output extent `out` is consistent with input extent `in`, window size k, stride,
// leading pad and dilation: the trailing pad implied by `out` must be one a valid window layout can
// have, i.e. 0 <= pad < effective window, and (out - 1) * stride + effective window = in + pad +
// pad_end with -stride < pad_end < effective window.  out == 0 is accepted when no window fits.
// Returns nullptr when consistent, otherwise a short reason.
// empty_windows: a window may lie entirely in the padding (convolution: it gives 0); pooling
// windows must touch the input.
inline const char *check_axis(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                              bool empty_windows = false) {
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

}  // namespace conv
}  // namespace st

// Pooling family (pool2d.cc): MAX_POOL2D, AVG_POOL2D, MAX_POOL2D_GRAD, AVG_POOL2D_GRAD.
st_code st_exec_pool2d(st_ctx *ctx, const st_instr *ins, st_status *st);
