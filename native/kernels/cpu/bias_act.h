// The epilogue of a convolution: y = act(y + bias) over rows of F channels, with the arithmetic of
// the elementwise VM (an add in the operands' type, then vmath.h's function of the micro-op), so a
// fused epilogue has the same bits as CONV2D followed by ELEMWISE [add, act].  Inline, for the
// kernels' own hot (multiversioned) loops to call while the rows they just wrote are in cache.
#pragma once
#include "common.h"
#include "vmath.h"

namespace st {
namespace kern {

static_assert(ST_ACT_COUNT == ST_ACT_TANH + 1, "bias_act.h: implement the activations added to ops.def");

template <class T, int ACT>
ST_INLINE void bias_act_rows_t(T *__restrict y, const T *__restrict bias, int64_t rows, int64_t ld, int64_t n) {
  for (int64_t r = 0; r < rows; r++) {
    T *row = y + r * ld;
    for (int64_t j = 0; j < n; j++) {
      const T v = row[j] + bias[j];
      if constexpr (ACT == ST_ACT_RELU)
        row[j] = vmath::m_relu(v);
      else if constexpr (ACT == ST_ACT_SIGMOID)
        row[j] = vmath::m_sigmoid(v);
      else if constexpr (ACT == ST_ACT_TANH)
        row[j] = vmath::m_tanh(v);
      else
        row[j] = v;
    }
  }
}

// rows rows of n values, ld apart: y = act(y + bias[0..n)).
template <class T>
ST_INLINE void bias_act_rows(T *y, const T *bias, int64_t rows, int64_t ld, int64_t n, int act) {
  switch (act) {
    case ST_ACT_RELU: return bias_act_rows_t<T, ST_ACT_RELU>(y, bias, rows, ld, n);
    case ST_ACT_SIGMOID: return bias_act_rows_t<T, ST_ACT_SIGMOID>(y, bias, rows, ld, n);
    case ST_ACT_TANH: return bias_act_rows_t<T, ST_ACT_TANH>(y, bias, rows, ld, n);
    default: return bias_act_rows_t<T, ST_ACT_NONE>(y, bias, rows, ld, n);
  }
}

}  // namespace kern
}  // namespace st
