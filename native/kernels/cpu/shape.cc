// COPY (strided gather into a contiguous output), CONCAT and PAD.
//
// COPY first simplifies its view: size-1 dims are dropped and neighbouring dims that walk the input
// contiguously are merged.  What is left runs on one of two paths:
//   * tiled transpose: the innermost output dim is strided in the input while another dim has input
//     stride +-1; square tiles are staged through a small buffer so that both the reads and the
//     writes run along contiguous memory;
//   * rows: the innermost output dim is copied as a run (stride 1: memcpy; stride 0: a splat;
//     otherwise a strided loop), outer dims walked with an odometer.
// Work is split over rows (or tiles) with st::parallel.  Every kernel copies values of the tensor's
// own C++ type, so a copy is bit-exact.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <type_traits>

#include "../../runtime/internal.h"

namespace {

// "[a,b,c]" for an attribute list.
struct ListStr {
  char buf[200];
  ListStr(const int64_t *v, int n) {
    size_t used = 0;
    buf[0] = 0;
    used += std::snprintf(buf, sizeof buf, "[");
    for (int i = 0; i < n && used < sizeof buf; i++)
      used += std::snprintf(buf + used, sizeof buf - used, i ? ",%lld" : "%lld", (long long)v[i]);
    if (used < sizeof buf) std::snprintf(buf + used, sizeof buf - used, "]");
    buf[sizeof buf - 1] = 0;
  }
  const char *c_str() const { return buf; }
};

// ---------------------------------------------------------------------------------------------
// COPY

struct View {
  int nd = 0;
  int64_t shape[ST_MAX_DIMS];
  int64_t stride[ST_MAX_DIMS];
  int64_t offset = 0;
};

// Drops size-1 dims and merges dims that are contiguous with respect to each other.  The output is
// contiguous, so any merge of adjacent output dims keeps its layout.
void simplify(View &v) {
  View r;
  r.offset = v.offset;
  for (int d = 0; d < v.nd; d++) {
    if (v.shape[d] == 1) continue;
    if (r.nd > 0) {
      int64_t prod;
      int p = r.nd - 1;
      if (!__builtin_mul_overflow(v.stride[d], v.shape[d], &prod) && r.stride[p] == prod) {
        r.shape[p] *= v.shape[d];
        r.stride[p] = v.stride[d];
        continue;
      }
    }
    r.shape[r.nd] = v.shape[d];
    r.stride[r.nd] = v.stride[d];
    r.nd++;
  }
  if (r.nd == 0) {
    r.nd = 1;
    r.shape[0] = 1;
    r.stride[0] = 1;
  }
  v = r;
}

// Rows path.  `count` rows of n elements: row a starts at input p + a * s1 and walks with input
// stride s (KIND 0: s == 1, 1: s == 0, 2: s == -1, 3: any); output rows follow each other.
template <class T, int KIND>
inline void copy_run(const T *__restrict p, int64_t s1, T *__restrict o, int64_t count, int64_t n, int64_t s) {
  for (int64_t a = 0; a < count; a++) {
    const T *q = p + a * s1;
    T *w = o + a * n;
    if constexpr (KIND == 0) {
      if (n >= 16)
        std::memcpy(w, q, (size_t)n * sizeof(T));
      else
        for (int64_t j = 0; j < n; j++) w[j] = q[j];
    } else if constexpr (KIND == 1) {
      const T x = *q;
      for (int64_t j = 0; j < n; j++) w[j] = x;
    } else if constexpr (KIND == 2) {
      for (int64_t j = 0; j < n; j++) w[j] = q[-j];
    } else {
      for (int64_t j = 0; j < n; j++) w[j] = q[j * s];
    }
  }
}

// Output rows [rb, re) (rows of the last dim; row r starts at dst + r * n).  Rows that share all
// dims but the last two form a plane whose row starts are evenly spaced, copied in one run.
template <class T>
ST_HOT void copy_rows(const T *__restrict src, T *__restrict dst, const View &v, int64_t rb, int64_t re) {
  const int L = v.nd - 1;
  const int64_t n = v.shape[L], s = v.stride[L];
  const int64_t n1 = L >= 1 ? v.shape[L - 1] : 1, s1 = L >= 1 ? v.stride[L - 1] : 0;
  const int kind = s == 1 ? 0 : s == 0 ? 1 : s == -1 ? 2 : 3;
  for (int64_t r = rb; r < re;) {
    const int64_t a = r % n1, cnt = std::min(n1 - a, re - r);
    int64_t off = v.offset, q = r / n1;
    for (int d = L - 2; d >= 0; d--) {
      off += (q % v.shape[d]) * v.stride[d];
      q /= v.shape[d];
    }
    const T *p = src + off + a * s1;
    T *o = dst + r * n;
    switch (kind) {
      case 0: copy_run<T, 0>(p, s1, o, cnt, n, s); break;
      case 1: copy_run<T, 1>(p, s1, o, cnt, n, s); break;
      case 2: copy_run<T, 2>(p, s1, o, cnt, n, s); break;
      default: copy_run<T, 3>(p, s1, o, cnt, n, s); break;
    }
    r += cnt;
  }
}

// Tiled path: output dims {di, L} form a 2-D transpose (input stride of di is +-1, output stride
// of L is 1); the other dims are walked around it.  Each tile is first copied into a small buffer
// with contiguous reads, then written out along contiguous output rows.  The buffer's padded
// stride keeps the transposing step free of cache-set conflicts, which otherwise dominate for
// power-of-two sizes.
struct Tiling {
  int n_outer;                  // dims other than di and L:
  int64_t oshape[ST_MAX_DIMS];  // their sizes,
  int64_t ostride_in[ST_MAX_DIMS], ostride_out[ST_MAX_DIMS];  // input and output strides
  int64_t ni, si, so_i;         // dim di: size, input stride (+-1), output stride
  int64_t nj, sj;               // dim L: size, input stride (output stride 1)
  int64_t tiles_i;              // tiles along di
};

template <class T>
constexpr int64_t tile_size() {
  return sizeof(T) >= 8 ? 32 : 64;
}

template <class T>
ST_HOT void copy_tiled(const T *__restrict src, T *__restrict dst, const View &v, const Tiling &t, int64_t tb,
                       int64_t te) {
  constexpr int64_t TS = tile_size<T>(), S = TS + 4;
  alignas(64) T buf[TS * S];
  for (int64_t task = tb; task < te; task++) {
    int64_t it = task % t.tiles_i, q = task / t.tiles_i;
    int64_t ib = v.offset, ob = 0;
    for (int k = t.n_outer - 1; k >= 0; k--) {
      int64_t x = q % t.oshape[k];
      q /= t.oshape[k];
      ib += x * t.ostride_in[k];
      ob += x * t.ostride_out[k];
    }
    const int64_t i0 = it * TS, wi = std::min(TS, t.ni - i0);
    for (int64_t j0 = 0; j0 < t.nj; j0 += TS) {
      const int64_t wj = std::min(TS, t.nj - j0);
      // buf[jj][ii] = input element (i0 + ii, j0 + jj): contiguous reads along ii
      for (int64_t jj = 0; jj < wj; jj++) {
        const T *p = src + ib + (j0 + jj) * t.sj + i0 * t.si;
        T *b = buf + jj * S;
        if (t.si == 1)
          for (int64_t ii = 0; ii < wi; ii++) b[ii] = p[ii];
        else
          for (int64_t ii = 0; ii < wi; ii++) b[ii] = p[-ii];
      }
      // output row i0 + ii, columns j0 .. j0 + wj
      for (int64_t ii = 0; ii < wi; ii++) {
        T *o = dst + ob + (i0 + ii) * t.so_i + j0;
        for (int64_t jj = 0; jj < wj; jj++) o[jj] = buf[jj * S + ii];
      }
    }
  }
}

// The view COPY reads: the output's shape with the attribute offset and strides.
View view_of(const st_instr *ins) {
  const st_tensor &out = ins->out[0];
  View v;
  v.nd = out.ndim;
  v.offset = ins->iattr[0];
  for (int d = 0; d < out.ndim; d++) v.shape[d] = out.shape[d], v.stride[d] = ins->iattr[1 + d];
  return v;
}

st_code check_copy(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  const st_tensor &out = ins->out[0];
  const int nd = out.ndim;
  ST_REQUIRE(st, ins->n_iattr == 1 + nd, ST_ERR_ARG,
             "%s: expected %d int attributes (offset and one stride per output dim of %s), got %d", op, 1 + nd,
             st::ShapeStr(out).c_str(), (int)ins->n_iattr);
  ST_REQUIRE(st, in.dtype == out.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(in.dtype),
             st_dtype_name(out.dtype));
  const int64_t n_out = st::numel(out), n_in = st::numel(in);
  if (n_out == 0) return ST_OK;
  const View v = view_of(ins);
  // the smallest and largest input element the view reaches
  int64_t lo = v.offset, hi = v.offset;
  bool overflow = false;
  for (int d = 0; d < nd; d++) {
    int64_t ext;
    overflow |= __builtin_mul_overflow(v.shape[d] - 1, v.stride[d], &ext);
    overflow |= ext > 0 ? __builtin_add_overflow(hi, ext, &hi) : __builtin_add_overflow(lo, ext, &lo);
  }
  ST_REQUIRE(st, !overflow && lo >= 0 && hi < n_in, ST_ERR_SHAPE,
             "%s: view with offset %lld and strides %s over output %s reaches input elements [%lld, %lld], outside "
             "input %s (%lld elements)",
             op, (long long)v.offset, ListStr(ins->iattr + 1, nd).c_str(), st::ShapeStr(out).c_str(),
             overflow ? 0LL : (long long)lo, overflow ? 0LL : (long long)hi, st::ShapeStr(in).c_str(),
             (long long)n_in);
  return ST_OK;
}

st_code run_copy(st_ctx *ctx, const st_instr *ins) {
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
  const int64_t n_out = st::numel(out);
  if (n_out == 0) return ST_OK;
  View v = view_of(ins);
  simplify(v);
  const int L = v.nd - 1;
  // a dim (other than the last) with input stride +-1 makes a transpose with the last one
  int di = -1;
  if (v.nd >= 2 && v.stride[L] != 0 && v.stride[L] != 1 && v.stride[L] != -1 && v.shape[L] >= 8)
    for (int d = L - 1; d >= 0; d--)
      if ((v.stride[d] == 1 || v.stride[d] == -1) && v.shape[d] >= 8) {
        di = d;
        break;
      }

  return st::dispatch_dtype(out.dtype, [&](auto z) {
    using T = decltype(z);
    const T *src = static_cast<const T *>(in.data);
    T *dst = static_cast<T *>(out.data);
    if (di >= 0) {
      Tiling t;
      int64_t ostr[ST_MAX_DIMS];
      ostr[L] = 1;
      for (int d = L - 1; d >= 0; d--) ostr[d] = ostr[d + 1] * v.shape[d + 1];
      t.n_outer = 0;
      for (int d = 0; d < L; d++) {
        if (d == di) continue;
        t.oshape[t.n_outer] = v.shape[d];
        t.ostride_in[t.n_outer] = v.stride[d];
        t.ostride_out[t.n_outer] = ostr[d];
        t.n_outer++;
      }
      t.ni = v.shape[di];
      t.si = v.stride[di];
      t.so_i = ostr[di];
      t.nj = v.shape[L];
      t.sj = v.stride[L];
      t.tiles_i = (t.ni + tile_size<T>() - 1) / tile_size<T>();
      const int64_t tasks = t.tiles_i * (n_out / (t.ni * t.nj));
      st::parallel(ctx, n_out, [&](int ith, int nth) {
        int64_t b, e;
        st::split_range(tasks, ith, nth, &b, &e);
        copy_tiled<T>(src, dst, v, t, b, e);
      });
    } else {
      const int64_t rows = n_out / v.shape[L];
      st::parallel(ctx, n_out, [&](int ith, int nth) {
        int64_t b, e;
        st::split_range(rows, ith, nth, &b, &e);
        if (b < e) copy_rows<T>(src, dst, v, b, e);
      });
    }
    return ST_OK;
  });
}

// ---------------------------------------------------------------------------------------------
// CONCAT

// Outer rows [b, e) of a concatenation: each is the inputs' pieces back to back.
template <class T>
ST_HOT void concat_rows(const st_tensor *in, int n_in, int64_t axis, int64_t inner, int64_t out_row, T *dst,
                        int64_t b, int64_t e) {
  for (int64_t o = b; o < e; o++) {
    T *row = dst + o * out_row;
    for (int i = 0; i < n_in; i++) {
      const int64_t len = in[i].shape[axis] * inner;
      const T *src = static_cast<const T *>(in[i].data) + o * len;
      if (len >= 16)
        std::memcpy(row, src, (size_t)len * sizeof(T));
      else
        for (int64_t j = 0; j < len; j++) row[j] = src[j];
      row += len;
    }
  }
}

st_code check_concat(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &out = ins->out[0];
  const int nd = out.ndim;
  ST_REQUIRE(st, ins->n_iattr == 1, ST_ERR_ARG, "%s: expected 1 int attribute [axis], got %d", op, (int)ins->n_iattr);
  const int64_t axis = ins->iattr[0];
  ST_REQUIRE(st, nd >= 1, ST_ERR_SHAPE, "%s: cannot concatenate 0-d tensors (output %s)", op, st::ShapeStr(out).c_str());
  ST_REQUIRE(st, axis >= 0 && axis < nd, ST_ERR_ARG, "%s: axis %lld is out of range for output %s", op, (long long)axis,
             st::ShapeStr(out).c_str());
  int64_t total = 0;
  for (int i = 0; i < ins->n_in; i++) {
    const st_tensor &x = ins->in[i];
    ST_REQUIRE(st, x.dtype == out.dtype, ST_ERR_DTYPE, "%s: input %d is %s but output is %s", op, i,
               st_dtype_name(x.dtype), st_dtype_name(out.dtype));
    bool same = x.ndim == nd;
    for (int d = 0; same && d < nd; d++) same = d == axis || x.shape[d] == out.shape[d];
    ST_REQUIRE(st, same, ST_ERR_SHAPE, "%s: input %d %s does not match output %s outside axis %lld", op, i,
               st::ShapeStr(x).c_str(), st::ShapeStr(out).c_str(), (long long)axis);
    total += x.shape[axis];
  }
  ST_REQUIRE(st, total == out.shape[axis], ST_ERR_SHAPE,
             "%s: inputs add up to %lld along axis %lld but output %s has %lld", op, (long long)total, (long long)axis,
             st::ShapeStr(out).c_str(), (long long)out.shape[axis]);
  return ST_OK;
}

st_code run_concat(st_ctx *ctx, const st_instr *ins) {
  st_tensor &out = ins->out[0];
  const int nd = out.ndim;
  const int64_t axis = ins->iattr[0];
  const int64_t n_out = st::numel(out);
  if (n_out == 0) return ST_OK;

  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= out.shape[d];
  for (int d = (int)axis + 1; d < nd; d++) inner *= out.shape[d];
  return st::dispatch_dtype(out.dtype, [&](auto z) {
    using T = decltype(z);
    const int64_t out_row = out.shape[axis] * inner;  // elements per outer row
    T *dst = static_cast<T *>(out.data);
    st::parallel(ctx, n_out, [&](int ith, int nth) {
      if (outer >= 4 * nth || nth == 1) {
        // whole outer rows per thread
        int64_t b, e;
        st::split_range(outer, ith, nth, &b, &e);
        concat_rows<T>(ins->in, ins->n_in, axis, inner, out_row, dst, b, e);
      } else {
        // few long rows: every thread copies its share of every piece
        for (int64_t o = 0; o < outer; o++) {
          T *row = dst + o * out_row;
          for (int i = 0; i < ins->n_in; i++) {
            const int64_t len = ins->in[i].shape[axis] * inner;
            int64_t b, e;
            st::split_range(len, ith, nth, &b, &e);
            if (e > b)
              std::memcpy(row + b, static_cast<const T *>(ins->in[i].data) + o * len + b, (size_t)(e - b) * sizeof(T));
            row += len;
          }
        }
      }
    });
    return ST_OK;
  });
}

// ---------------------------------------------------------------------------------------------
// PAD

// Output rows [rb, re) (rows of the last dim): fill, plus the input row where one lands.
template <class T>
ST_HOT void pad_rows(const T *__restrict src, T *__restrict dst, const st_tensor &in, const st_tensor &out,
                     const int64_t *before, T value, int64_t rb, int64_t re) {
  const int nd = out.ndim, L = nd - 1;
  const int64_t n = out.shape[L], n_in_row = in.shape[L], b_last = before[L];
  int64_t istr[ST_MAX_DIMS];
  istr[L] = 1;
  for (int d = L - 1; d >= 0; d--) istr[d] = istr[d + 1] * in.shape[d + 1];
  int64_t idx[ST_MAX_DIMS];
  int64_t r = rb;
  for (int d = L - 1; d >= 0; d--) idx[d] = r % out.shape[d], r /= out.shape[d];
  T *o = dst + rb * n;
  for (int64_t row = rb; row < re; row++, o += n) {
    bool inside = n_in_row > 0;
    int64_t ioff = 0;
    for (int d = 0; d < L && inside; d++) {
      const int64_t k = idx[d] - before[d];
      inside = k >= 0 && k < in.shape[d];
      ioff += k * istr[d];
    }
    if (!inside) {
      for (int64_t j = 0; j < n; j++) o[j] = value;
    } else {
      for (int64_t j = 0; j < b_last; j++) o[j] = value;
      std::memcpy(o + b_last, src + ioff, (size_t)n_in_row * sizeof(T));
      for (int64_t j = b_last + n_in_row; j < n; j++) o[j] = value;
    }
    for (int d = L - 1; d >= 0; d--) {
      if (++idx[d] < out.shape[d]) break;
      idx[d] = 0;
    }
  }
}

st_code check_pad(const st_instr *ins, st_status *st) {
  const char *op = st_op_name(ins->opcode);
  const st_tensor &in = ins->in[0];
  const st_tensor &out = ins->out[0];
  const int nd = out.ndim;
  ST_REQUIRE(st, in.dtype == out.dtype, ST_ERR_DTYPE, "%s: input is %s but output is %s", op, st_dtype_name(in.dtype),
             st_dtype_name(out.dtype));
  ST_REQUIRE(st, in.ndim == nd, ST_ERR_SHAPE, "%s: input %s and output %s differ in rank", op,
             st::ShapeStr(in).c_str(), st::ShapeStr(out).c_str());
  ST_REQUIRE(st, ins->n_iattr == nd, ST_ERR_ARG, "%s: expected %d int attributes (pad before each dim), got %d", op, nd,
             (int)ins->n_iattr);
  ST_REQUIRE(st, ins->n_fattr == 1, ST_ERR_ARG, "%s: expected 1 float attribute [value], got %d", op,
             (int)ins->n_fattr);
  const int64_t *before = ins->iattr;
  for (int d = 0; d < nd; d++) {
    ST_REQUIRE(st, before[d] >= 0, ST_ERR_ARG, "%s: negative padding %s for input %s", op,
               ListStr(before, nd).c_str(), st::ShapeStr(in).c_str());
    ST_REQUIRE(st, before[d] <= out.shape[d] - in.shape[d], ST_ERR_SHAPE,
               "%s: input %s padded before by %s does not fit output %s", op, st::ShapeStr(in).c_str(),
               ListStr(before, nd).c_str(), st::ShapeStr(out).c_str());
  }
  return ST_OK;
}

st_code run_pad(st_ctx *ctx, const st_instr *ins) {
  const st_tensor &in = ins->in[0];
  st_tensor &out = ins->out[0];
  const int nd = out.ndim;
  const int64_t *before = ins->iattr;
  const int64_t n_out = st::numel(out);
  if (n_out == 0) return ST_OK;
  const double value = ins->fattr[0];
  return st::dispatch_dtype(out.dtype, [&](auto z) {
    using T = decltype(z);
    const T *src = static_cast<const T *>(in.data);
    T *dst = static_cast<T *>(out.data);
    if (nd == 0) {
      dst[0] = src[0];
      return ST_OK;
    }
    const T tv = st::cast_value<T>(value);
    const int64_t rows = n_out / out.shape[nd - 1];
    st::parallel(ctx, n_out, [&](int ith, int nth) {
      int64_t b, e;
      st::split_range(rows, ith, nth, &b, &e);
      if (b < e) pad_rows<T>(src, dst, in, out, before, tv, b, e);
    });
    return ST_OK;
  });
}

st_code check_shape(const st_instr *ins, st::PreparedPtr *, st_status *st) {
  switch (ins->opcode) {
    case ST_OP_COPY: return check_copy(ins, st);
    case ST_OP_CONCAT: return check_concat(ins, st);
    case ST_OP_PAD: return check_pad(ins, st);
  }
  return st_fail(st, ST_ERR_INTERNAL, "%s: not a shape op", st_op_name(ins->opcode));
}

st_code run_shape(st_ctx *ctx, const st_instr *ins, const st::Prepared *, st_status *) {
  switch (ins->opcode) {
    case ST_OP_COPY: return run_copy(ctx, ins);
    case ST_OP_CONCAT: return run_concat(ctx, ins);
    default: return run_pad(ctx, ins);
  }
}

}  // namespace

const st::Family st_shape_family = {check_shape, run_shape};
