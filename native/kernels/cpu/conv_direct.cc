// Direct convolution kernels (see conv_direct.h).
//
// Forward: an output tile is kMR positions x NR filters (two vectors) held in registers; for every
// filter row k = (kh, kw, c) it broadcasts the kMR input values P[pos + off[k]] and multiplies them
// with the k-th row of a packed filter panel (NR filters, zero-padded).  That is the GEMM
// micro-kernel with A read in place from the input, so no column matrix is written or read.
// Work items are blocks of output rows of one image, taken by threads from a shared counter (a
// thread that the OS descheduled on a busy machine holds up one item, not a fixed share).  When the view needs padding, each item copies
// the input rows it reads into a zero-padded buffer private to its thread (a few KB, still in cache
// when the tiles read it); otherwise the tiles read the input directly.  Tiles skip the filter
// taps that read only padding (the borders of 'same' convolutions, and the wide padding of an
// input gradient computed as a convolution of dy): an item's positions are tiled one run of
// output columns at a time, the columns whose windows reach the source through the same filter
// columns, and each tile runs over those filter columns and over the filter rows that some row of
// the tile reads the source through.
//
// Filter gradient: a tile is kTK filter rows x NR filters held in registers while it runs over all
// positions of a block of output rows.  The images are cut into chunks (by size alone, a few
// hundred KB of x and dy each); a work item is one chunk and a group of tiles, which walks the
// chunk's blocks for each tile, and threads take items from a shared counter.  Chunk 0 sums into
// dw, every other chunk into a partial added to dw in chunk order at the end, so each dw element
// is summed in one fixed order whatever the thread count, and each thread reads only its items'
// share of x and dy (splitting the tiles alone had every thread stream all of x and dy, and left
// few, coarse items to share).  Where a filter block has many tiles (or F is not a multiple of NR), the block's NR
// columns of dy are first copied into a contiguous panel that all those tiles stream: read in
// place, dy's rows are F elements apart (for the usual F = 32, 64, ... a power-of-two stride,
// which crowds them into a few cache sets).
#include "conv_direct.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "bias_act.h"

namespace st {
namespace conv {
namespace {

typedef float vec_f __attribute__((vector_size(32)));
typedef double vec_d __attribute__((vector_size(32)));
template <class T>
struct Vec;
template <>
struct Vec<float> {
  typedef vec_f V;
  static constexpr int L = 8;
};
template <>
struct Vec<double> {
  typedef vec_d V;
  static constexpr int L = 4;
};

constexpr int kMR = 6;  // output positions per forward tile
constexpr int kTK = 6;  // filter rows per grad-filter tile
constexpr int64_t kViewBytes = int64_t(64) << 10;  // target size of one item's input rows
constexpr int64_t kDyBytes = int64_t(32) << 10;    // target size of one grad-filter block of dy
constexpr int64_t kBlockPositions = 256;            // at most this many positions per block sum
constexpr int64_t kPackTiles = 8;                   // grad filter: pack dy from this many tiles per filter block
constexpr int64_t kChunkBytes = int64_t(256) << 10;  // grad filter: x and dy of one chunk of images
constexpr int64_t kMaxPartialBytes = int64_t(32) << 20;  // grad filter: at most this much of partial sums

// Scratch limits: direct_ok refuses problems whose per-thread buffers would exceed them.
constexpr int64_t kMaxViewElems = int64_t(1) << 22;
constexpr int64_t kMaxPanelElems = int64_t(1) << 26;

// (Vectors go through memory arguments, never by value: portable builds compile these helpers
// for targets without 32-byte registers too.)
template <class V, class T>
ST_INLINE void load_v(V *v, const T *p) {
  std::memcpy(v, p, sizeof *v);
}
template <class V, class T>
ST_INLINE void store_v(T *p, const V &v) {
  std::memcpy(p, &v, sizeof v);
}

struct Scratch {
  void *p = nullptr;
  ~Scratch() { std::free(p); }
};

int64_t threads_of(st_ctx *ctx) { return ctx && ctx->pool ? st_pool_threads(ctx->pool) : 1; }

// Multiply-adds of the convolution, saturated (only a hint for how many threads to wake).
int64_t work_of(const DGeom &g) {
  int64_t w = 1;
  const int64_t f[] = {g.N, g.OH, g.OW, g.F, g.KH, g.KW, g.C};
  for (int64_t v : f)
    if (__builtin_mul_overflow(w, v, &w)) return INT64_MAX;
  return w;
}

// Rows [r0, r1) of image n's padded view, row stride WP*C, into buf.
template <class T>
ST_INLINE void fill_view(const DGeom &g, const T *src, int64_t n, int64_t r0, int64_t r1, T *buf) {
  const int64_t C = g.C, WP = g.WP(), rs = WP * C;
  const int64_t qa = std::min(WP, std::max<int64_t>(0, g.pl)), qb = std::max(qa, std::min(WP, g.pl + g.WS));
  for (int64_t r = r0; r < r1; r++, buf += rs) {
    const int64_t sr = r - g.pt;
    if (sr < 0 || sr >= g.HS || qb == qa) {
      std::memset(buf, 0, sizeof(T) * (size_t)rs);
      continue;
    }
    std::memset(buf, 0, sizeof(T) * (size_t)(qa * C));
    std::memcpy(buf + qa * C, src + ((n * g.HS + sr) * g.WS + (qa - g.pl)) * C, sizeof(T) * (size_t)((qb - qa) * C));
    std::memset(buf + qb * C, 0, sizeof(T) * (size_t)((WP - qb) * C));
  }
}

// Offsets of the filter rows k = (kh, kw, c) in a view with row stride rs.
void tap_offsets(const DGeom &g, int64_t rs, int64_t *off) {
  int64_t k = 0;
  for (int64_t kh = 0; kh < g.KH; kh++)
    for (int64_t kw = 0; kw < g.KW; kw++)
      for (int64_t c = 0; c < g.C; c++) off[k++] = kh * g.dh * rs + kw * g.dw * g.C + c;
}

// ---- forward ----

// y[yofs[i] + j] = sum over the tap rows k of base[pofs[i] + off[k]] * panel[k*NR + j] for i < MR,
// j < nr, where the tap rows are nseg segments of seglen rows, segment s starting at k0 + s*segstep
// (the filter rows whose taps read the source for every position of the tile; nseg == 0 writes
// zeros).
// CONTIG: the positions' outputs are consecutive rows of y (yofs[i] = yofs[0] + i*ldy).
template <class T, int MR, bool CONTIG>
ST_INLINE void fwd_tile(const T *base, const int64_t *pofs, const int64_t *off, const T *panel, int64_t k0,
                        int64_t nseg, int64_t seglen, int64_t segstep, T *y, const int64_t *yofs, int64_t ldy,
                        int nr) {
  typedef typename Vec<T>::V V;
  constexpr int L = Vec<T>::L, NR = 2 * L;
  const T *p[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) p[i] = base + pofs[i];
  V acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) acc[i][0] = V{}, acc[i][1] = V{};
  for (int64_t s = 0; s < nseg; s++) {
    const int64_t ks = k0 + s * segstep;
    const int64_t *o = off + ks;
    const T *pk = panel + ks * NR;
    for (int64_t k = 0; k < seglen; k++, pk += NR) {
      const int64_t ok = o[k];
      V w0, w1;
      load_v(&w0, pk), load_v(&w1, pk + L);
#pragma GCC unroll 8
      for (int i = 0; i < MR; i++) {
        const T a = p[i][ok];
        acc[i][0] += a * w0;
        acc[i][1] += a * w1;
      }
    }
  }
  int64_t yo[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) yo[i] = CONTIG ? yofs[0] + i * ldy : yofs[i];
  if (nr == NR) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) store_v(y + yo[i], acc[i][0]), store_v(y + yo[i] + L, acc[i][1]);
  } else {
    for (int i = 0; i < MR; i++) {
      T tmp[NR];
      std::memcpy(tmp, acc[i], sizeof tmp);
      std::memcpy(y + yo[i], tmp, sizeof(T) * (size_t)nr);
    }
  }
}

// ceil(a / d) for d > 0 and any sign of a.
inline int64_t ceil_div(int64_t a, int64_t d) { return a > 0 ? (a + d - 1) / d : -((-a) / d); }

// The filter rows kh for which output row oh reads a row of src (not padding): [kh_lo, kh_hi),
// both non-increasing in oh.  kw_lo and kw_hi: the same for the filter columns and output column ow.
inline int64_t tap_lo(int64_t pad, int64_t o, int64_t s, int64_t d, int64_t K) {
  return std::min(K, std::max<int64_t>(0, ceil_div(pad - o * s, d)));
}
inline int64_t tap_hi(int64_t pad, int64_t o, int64_t s, int64_t d, int64_t K, int64_t S) {
  return std::min(K, std::max<int64_t>(0, ceil_div(S + pad - o * s, d)));
}
inline int64_t kh_lo(const DGeom &g, int64_t oh) { return tap_lo(g.pt, oh, g.sh, g.dh, g.KH); }
inline int64_t kh_hi(const DGeom &g, int64_t oh) { return tap_hi(g.pt, oh, g.sh, g.dh, g.KH, g.HS); }
inline int64_t kw_lo(const DGeom &g, int64_t ow) { return tap_lo(g.pl, ow, g.sw, g.dw, g.KW); }
inline int64_t kw_hi(const DGeom &g, int64_t ow) { return tap_hi(g.pl, ow, g.sw, g.dw, g.KW, g.WS); }

// A run of consecutive output rows (or columns) [a, b) that read the source through the same
// filter rows (columns) [lo, hi).
struct Run {
  int64_t a, b, lo, hi;
};

// fwd_tile for a tile of m <= kMR positions.
template <class T, bool CONTIG>
ST_INLINE void fwd_tile_m(int64_t m, const T *base, const int64_t *po, const int64_t *off, const T *panel, int64_t k0,
                          int64_t nseg, int64_t seglen, int64_t segstep, T *y, const int64_t *yo, int64_t ldy, int nr) {
  switch (m) {
    case 6: fwd_tile<T, 6, CONTIG>(base, po, off, panel, k0, nseg, seglen, segstep, y, yo, ldy, nr); break;
    case 5: fwd_tile<T, 5, CONTIG>(base, po, off, panel, k0, nseg, seglen, segstep, y, yo, ldy, nr); break;
    case 4: fwd_tile<T, 4, CONTIG>(base, po, off, panel, k0, nseg, seglen, segstep, y, yo, ldy, nr); break;
    case 3: fwd_tile<T, 3, CONTIG>(base, po, off, panel, k0, nseg, seglen, segstep, y, yo, ldy, nr); break;
    case 2: fwd_tile<T, 2, CONTIG>(base, po, off, panel, k0, nseg, seglen, segstep, y, yo, ldy, nr); break;
    default: fwd_tile<T, 1, CONTIG>(base, po, off, panel, k0, nseg, seglen, segstep, y, yo, ldy, nr); break;
  }
}
static_assert(kMR == 6, "fwd_tile_m dispatches tile widths 1..6");

template <class T>
struct Fwd {
  const DGeom *g;
  const T *src;
  T *out;
  const T *panel;      // FB blocks of kkc x NR
  const int64_t *off;  // kkc tap offsets in the view
  const Run *cols;     // runs of output columns with the same filter columns
  int64_t ncols;
  bool pad;            // read through a padded buffer (else src directly)
  int64_t rs;          // row stride of the view
  int64_t rb;          // output rows per item
  int64_t ipi;         // items per image
  const T *bias;       // the epilogue act(out + bias) of each item's rows (none when null)
  int act;
};

// One item: output rows [oh0, oh1) of image n.  Its positions are tiled one run of output
// columns at a time (row by row within the run), so that a tile of border columns skips the
// filter columns that read only padding for all of them; the filter rows skipped are those that
// read only padding for every row the tile spans.
template <class T>
ST_INLINE void fwd_item(const Fwd<T> &f, int64_t item, T *buf, int64_t *pofs, int64_t *yofs) {
  constexpr int NR = 2 * Vec<T>::L;
  const DGeom &g = *f.g;
  const int64_t n = item / f.ipi, oh0 = (item % f.ipi) * f.rb, oh1 = std::min(g.OH, oh0 + f.rb);
  const int64_t r0 = oh0 * g.sh;
  const T *base;
  if (f.pad) {
    fill_view(g, f.src, n, r0, (oh1 - 1) * g.sh + (g.KH - 1) * g.dh + 1, buf);
    base = buf;
  } else {
    base = f.src + ((n * g.HS + r0 - g.pt) * g.WS - g.pl) * g.C;
  }
  T *y = f.out + (n * g.OH + oh0) * g.OW * g.F;
  const int64_t kkc = g.kkc(), F = g.F, krow = g.KW * g.C;
  for (int64_t ci = 0; ci < f.ncols; ci++) {
    const Run &cr = f.cols[ci];
    const int64_t width = cr.b - cr.a;
    // the run's positions, row by row: their offsets in the view and (for a part of the rows) in y
    int64_t np = 0;
    const int64_t ps = g.sw * g.C, rstep = g.sh * f.rs;
    for (int64_t oh = oh0; oh < oh1; oh++) {
      int64_t po = (oh - oh0) * rstep + cr.a * ps;
      for (int64_t i = 0; i < width; i++, po += ps) pofs[np + i] = po;
      if (f.ncols > 1) {
        const int64_t yo = ((oh - oh0) * g.OW + cr.a) * F;
        for (int64_t i = 0; i < width; i++) yofs[np + i] = yo + i * F;
      } else if (oh == oh0) {
        yofs[0] = 0;
      }
      np += width;
    }
    for (int64_t f0 = 0; f0 < F; f0 += NR) {
      const int nr = (int)std::min<int64_t>(NR, F - f0);
      const T *panel = f.panel + (f0 / NR) * kkc * NR;
      T *yf = y + f0;
      for (int64_t j = 0; j < np; j += kMR) {
        const int64_t m = std::min<int64_t>(kMR, np - j);
        // the filter rows kh that read the source for some row of the tile, and the run's filter
        // columns: one segment of tap rows when all filter columns are read, else one per kh
        int64_t lo = 0, hi = g.KH;
        if (f.pad) lo = kh_lo(g, oh0 + (j + m - 1) / width), hi = std::max(lo, kh_hi(g, oh0 + j / width));
        int64_t k0 = 0, nseg = 0, seglen = 0, segstep = 0;
        if (hi > lo && cr.hi > cr.lo) {
          if (cr.lo == 0 && cr.hi == g.KW)
            k0 = lo * krow, nseg = 1, seglen = (hi - lo) * krow;
          else
            k0 = lo * krow + cr.lo * g.C, nseg = hi - lo, seglen = (cr.hi - cr.lo) * g.C, segstep = krow;
        }
        const int64_t *po = pofs + j;
        if (f.ncols == 1)  // whole rows: the outputs of the tile are consecutive, from position j
          fwd_tile_m<T, true>(m, base, po, f.off, panel, k0, nseg, seglen, segstep, yf + j * F, yofs, F, nr);
        else
          fwd_tile_m<T, false>(m, base, po, f.off, panel, k0, nseg, seglen, segstep, yf, yofs + j, F, nr);
      }
    }
  }
  // the item's outputs are complete and still in cache: the epilogue
  if (f.bias) kern::bias_act_rows(y, f.bias, (oh1 - oh0) * g.OW, F, F, f.act);
}
// Non-template entry points so that ST_HOT (function multi-versioning) applies.
ST_HOT void fwd_items_f32(const Fwd<float> &f, int64_t b, int64_t e, float *buf, int64_t *pofs, int64_t *yofs) {
  for (int64_t it = b; it < e; it++) fwd_item<float>(f, it, buf, pofs, yofs);
}
ST_HOT void fwd_items_f64(const Fwd<double> &f, int64_t b, int64_t e, double *buf, int64_t *pofs, int64_t *yofs) {
  for (int64_t it = b; it < e; it++) fwd_item<double>(f, it, buf, pofs, yofs);
}
inline void fwd_items(const Fwd<float> &f, int64_t b, int64_t e, float *buf, int64_t *pofs, int64_t *yofs) {
  fwd_items_f32(f, b, e, buf, pofs, yofs);
}
inline void fwd_items(const Fwd<double> &f, int64_t b, int64_t e, double *buf, int64_t *pofs, int64_t *yofs) {
  fwd_items_f64(f, b, e, buf, pofs, yofs);
}

// The runs of output columns that read the same filter columns (one run when nothing is padded).
int64_t column_runs(const DGeom &g, bool pad, Run *runs) {
  if (!pad) {
    runs[0] = {0, g.OW, 0, g.KW};
    return 1;
  }
  int64_t n = 0;
  for (int64_t ow = 0; ow < g.OW;) {
    const int64_t lo = kw_lo(g, ow), hi = kw_hi(g, ow);
    int64_t e = ow + 1;
    while (e < g.OW && kw_lo(g, e) == lo && kw_hi(g, e) == hi) e++;
    runs[n++] = {ow, e, lo, hi};
    ow = e;
  }
  return n;
}

// panel[fb][k][j] = w(k, fb*NR + j), zero past F.
template <class T>
void pack_panel(const DGeom &g, const T *w, WLayout layout, T *panel) {
  constexpr int NR = 2 * Vec<T>::L;
  const int64_t kkc = g.kkc(), F = g.F, C = g.C;
  for (int64_t f0 = 0; f0 < F; f0 += NR) {
    T *pb = panel + (f0 / NR) * kkc * NR;
    for (int64_t k = 0; k < kkc; k++, pb += NR) {
      const int64_t tap = k / C, c = k % C, kh = tap / g.KW, kw = tap % g.KW;
      for (int j = 0; j < NR; j++) {
        const int64_t f = f0 + j;
        if (f >= F)
          pb[j] = T(0);
        else if (layout == WLayout::kHWCF)
          pb[j] = w[k * F + f];
        else
          pb[j] = w[(((g.KH - 1 - kh) * g.KW + (g.KW - 1 - kw)) * F + f) * C + c];
      }
    }
  }
}

// Output rows per item: the input rows an item reads stay near kViewBytes, and there are enough
// items for every thread.
int64_t rows_per_item(const DGeom &g, size_t es, int64_t threads) {
  const int64_t row_bytes = std::max<int64_t>(1, g.sh * g.WP() * g.C * (int64_t)es);
  int64_t rb = std::max<int64_t>(1, std::min(g.OH, kViewBytes / row_bytes));
  while (rb > 1 && g.N * ((g.OH + rb - 1) / rb) < 4 * threads) rb = (rb + 1) / 2;
  // the same number of items, with rows shared out evenly (no item of one leftover row)
  const int64_t ipi = (g.OH + rb - 1) / rb;
  return (g.OH + ipi - 1) / ipi;
}

int64_t view_rows(const DGeom &g, int64_t rb) { return (rb - 1) * g.sh + (g.KH - 1) * g.dh + 1; }

template <class T>
st_code forward_t(st_ctx *ctx, const char *op, const DGeom &g, const T *src, const T *w, WLayout layout, T *out,
                  const T *bias, int act, st_status *st) {
  constexpr int NR = 2 * Vec<T>::L;
  const int64_t kkc = g.kkc(), fb = (g.F + NR - 1) / NR, threads = threads_of(ctx);
  const bool pad = g.needs_pad();
  const int64_t rs = (pad ? g.WP() : g.WS) * g.C;
  const int64_t rb = rows_per_item(g, sizeof(T), threads), ipi = (g.OH + rb - 1) / rb;
  const int64_t view_elems = pad ? view_rows(g, rb) * g.WP() * g.C : 0;
  const int64_t panel_elems = fb * kkc * NR;
  // per thread: the positions' view and output offsets, then the padded view (rounded up so the
  // next stays aligned)
  const size_t thread_bytes =
      (2 * sizeof(int64_t) * (size_t)(rb * g.OW) + sizeof(T) * (size_t)view_elems + 63) & ~size_t(63);
  const size_t bytes = sizeof(T) * (size_t)panel_elems + sizeof(int64_t) * (size_t)kkc + sizeof(Run) * (size_t)g.OW +
                       (size_t)threads * thread_bytes;
  Scratch s;
  s.p = std::malloc(bytes);
  ST_REQUIRE(st, s.p, ST_ERR_ALLOC, "%s: cannot allocate %zu bytes of scratch", op, bytes);
  T *panel = static_cast<T *>(s.p);
  int64_t *off = reinterpret_cast<int64_t *>(panel + panel_elems);
  Run *cols = reinterpret_cast<Run *>(off + kkc);
  char *thread_base = reinterpret_cast<char *>(cols + g.OW);
  pack_panel(g, w, layout, panel);
  tap_offsets(g, rs, off);
  const int64_t ncols = column_runs(g, pad, cols);
  const Fwd<T> f{&g, src, out, panel, off, cols, ncols, pad, rs, rb, ipi, bias, act};
  const int64_t items = g.N * ipi;
  std::atomic<int64_t> next{0};
  st::parallel(ctx, work_of(g), [&](int ith, int) {
    char *mine = thread_base + (size_t)ith * thread_bytes;
    // the int64 part first keeps it aligned whatever T's size
    int64_t *pofs = reinterpret_cast<int64_t *>(mine), *yofs = pofs + rb * g.OW;
    T *buf = reinterpret_cast<T *>(yofs + rb * g.OW);
    for (int64_t it; (it = next.fetch_add(1, std::memory_order_relaxed)) < items;)
      fwd_items(f, it, it + 1, buf, pofs, yofs);
  });
  return ST_OK;
}

// ---- filter gradient ----

// dw[t*F + j] = (first ? 0 : dw[t*F + j]) + sum over the positions of a block of
// base[toff[t] + pos] * dy[pos*ldd + j], for t < TK and j < nr (FULL: nr == NR).  dy has NR
// readable columns (zero past nr).
template <class T, int TK, bool FULL>
ST_INLINE void gf_tile(const T *base, const int64_t *toff, int64_t rows, int64_t row_step, int64_t OW, int64_t ps,
                       const T *dy, int64_t ldd, int64_t F, T *dw, int nr, bool first) {
  typedef typename Vec<T>::V V;
  constexpr int L = Vec<T>::L, NR = 2 * L;
  const T *q[TK];
#pragma GCC unroll 8
  for (int t = 0; t < TK; t++) q[t] = base + toff[t];
  V acc[TK][2];
#pragma GCC unroll 8
  for (int t = 0; t < TK; t++) acc[t][0] = V{}, acc[t][1] = V{};
  for (int64_t r = 0; r < rows; r++) {
    const T *d = dy + r * OW * ldd;
    int64_t po = r * row_step;
    for (int64_t ow = 0; ow < OW; ow++, po += ps, d += ldd) {
      V d0, d1;
      load_v(&d0, d), load_v(&d1, d + L);
#pragma GCC unroll 8
      for (int t = 0; t < TK; t++) {
        const T a = q[t][po];
        acc[t][0] += a * d0;
        acc[t][1] += a * d1;
      }
    }
  }
  // the block's sum is added to the running total (two-level summation keeps float32 accurate)
  for (int t = 0; t < TK; t++) {
    if (FULL) {
      if (!first) {
        V a0, a1;
        load_v(&a0, dw + t * F), load_v(&a1, dw + t * F + L);
        acc[t][0] += a0, acc[t][1] += a1;
      }
      store_v(dw + t * F, acc[t][0]), store_v(dw + t * F + L, acc[t][1]);
    } else {
      T tmp[NR];
      std::memcpy(tmp, acc[t], sizeof tmp);
      if (!first)
        for (int j = 0; j < nr; j++) tmp[j] += dw[t * F + j];
      std::memcpy(dw + t * F, tmp, sizeof(T) * (size_t)nr);
    }
  }
}

template <class T>
struct Gf {
  const DGeom *g;
  const T *src, *dy;
  T *dw;
  const int64_t *off;
  bool pad;
  int64_t rs, rb, fb;  // view row stride, output rows per block, filter blocks
  bool pack;           // tiles read dy from a packed panel (else in place)
};

// One tile over a block; dyp is dy at column f0, either in place (ldd = F) or the block's packed
// panel of filter block f0 (ldd = NR, zero past F).
template <class T, int TK>
ST_INLINE void gf_tile_any(const Gf<T> &f, T *dwbase, const T *base, int64_t k0, int64_t f0, int64_t rows,
                            const T *dyp, int64_t ldd, bool first) {
  constexpr int NR = 2 * Vec<T>::L;
  const DGeom &g = *f.g;
  const int nr = (int)std::min<int64_t>(NR, g.F - f0);
  T *dw = dwbase + k0 * g.F + f0;
  const int64_t rstep = g.sh * f.rs, ps = g.sw * g.C;
  if (nr == NR)
    gf_tile<T, TK, true>(base, f.off + k0, rows, rstep, g.OW, ps, dyp, ldd, g.F, dw, nr, first);
  else
    gf_tile<T, TK, false>(base, f.off + k0, rows, rstep, g.OW, ps, dyp, ldd, g.F, dw, nr, first);
}

// Columns [f0, f0 + NR) of np rows of dy (row stride F) into a contiguous panel, zero past F.
template <class T>
ST_INLINE void pack_dy(const T *dy, int64_t np, int64_t F, int64_t f0, T *panel) {
  constexpr int NR = 2 * Vec<T>::L;
  const int64_t nr = std::min<int64_t>(NR, F - f0);
  if (nr == NR) {  // whole vectors: a copy of constant size, inlined
    for (int64_t p = 0; p < np; p++, panel += NR) std::memcpy(panel, dy + p * F + f0, sizeof(T) * NR);
    return;
  }
  for (int64_t p = 0; p < np; p++, panel += NR) {
    std::memcpy(panel, dy + p * F + f0, sizeof(T) * (size_t)nr);
    for (int64_t j = nr; j < NR; j++) panel[j] = T(0);
  }
}

// Tiles [tb, te) (tile = filter block * row blocks + filter-row block) over all blocks of output
// rows of images [n0, n1), their sum written to dwbase ([KH, KW, C, F]).
template <class T>
ST_INLINE void gf_tiles(const Gf<T> &f, int64_t tb, int64_t te, int64_t n0, int64_t n1, T *dwbase, T *buf, T *dybuf) {
  constexpr int NR = 2 * Vec<T>::L;
  const DGeom &g = *f.g;
  const int64_t kkc = g.kkc();
  for (int64_t n = n0; n < n1; n++)
    for (int64_t oh0 = 0; oh0 < g.OH; oh0 += f.rb) {
      const int64_t oh1 = std::min(g.OH, oh0 + f.rb), r0 = oh0 * g.sh;
      const T *base;
      if (f.pad) {
        fill_view(g, f.src, n, r0, (oh1 - 1) * g.sh + (g.KH - 1) * g.dh + 1, buf);
        base = buf;
      } else {
        base = f.src + ((n * g.HS + r0 - g.pt) * g.WS - g.pl) * g.C;
      }
      const T *dy = f.dy + (n * g.OH + oh0) * g.OW * g.F;
      const int64_t np = (oh1 - oh0) * g.OW;
      const bool first = n == n0 && oh0 == 0;
      int64_t packed = -1;  // the filter block whose panel dybuf holds
      for (int64_t t = tb; t < te; t++) {
        // filter-block major: one block's panel stays in L1 while the filter rows vary
        const int64_t kb = (kkc + kTK - 1) / kTK, k0 = (t % kb) * kTK, f0 = (t / kb) * NR;
        const T *dyp = dy + f0;  // the tiles read dy in place (row stride F) or from the panel
        int64_t ldd = g.F;
        if (f.pack) {
          if (t / kb != packed) pack_dy(dy, np, g.F, f0, dybuf), packed = t / kb;
          dyp = dybuf, ldd = NR;
        }
        switch (std::min<int64_t>(kTK, kkc - k0)) {
          case 6: gf_tile_any<T, 6>(f, dwbase, base, k0, f0, oh1 - oh0, dyp, ldd, first); break;
          case 5: gf_tile_any<T, 5>(f, dwbase, base, k0, f0, oh1 - oh0, dyp, ldd, first); break;
          case 4: gf_tile_any<T, 4>(f, dwbase, base, k0, f0, oh1 - oh0, dyp, ldd, first); break;
          case 3: gf_tile_any<T, 3>(f, dwbase, base, k0, f0, oh1 - oh0, dyp, ldd, first); break;
          case 2: gf_tile_any<T, 2>(f, dwbase, base, k0, f0, oh1 - oh0, dyp, ldd, first); break;
          default: gf_tile_any<T, 1>(f, dwbase, base, k0, f0, oh1 - oh0, dyp, ldd, first); break;
        }
      }
    }
}
static_assert(kTK == 6, "gf_tiles dispatches tile heights 1..6");

ST_HOT void gf_tiles_f32(const Gf<float> &f, int64_t tb, int64_t te, int64_t n0, int64_t n1, float *dwbase, float *buf,
                         float *dybuf) {
  gf_tiles<float>(f, tb, te, n0, n1, dwbase, buf, dybuf);
}
ST_HOT void gf_tiles_f64(const Gf<double> &f, int64_t tb, int64_t te, int64_t n0, int64_t n1, double *dwbase,
                         double *buf, double *dybuf) {
  gf_tiles<double>(f, tb, te, n0, n1, dwbase, buf, dybuf);
}
inline void run_gf_tiles(const Gf<float> &f, int64_t tb, int64_t te, int64_t n0, int64_t n1, float *dwbase, float *buf,
                         float *dybuf) {
  gf_tiles_f32(f, tb, te, n0, n1, dwbase, buf, dybuf);
}
inline void run_gf_tiles(const Gf<double> &f, int64_t tb, int64_t te, int64_t n0, int64_t n1, double *dwbase,
                         double *buf, double *dybuf) {
  gf_tiles_f64(f, tb, te, n0, n1, dwbase, buf, dybuf);
}

// dw += the partial sums p[0..np) (each dw's size, summed in order) over elements [b, e).
template <class T>
ST_INLINE void add_partials(T *__restrict dw, const T *__restrict p, int64_t np, int64_t size, int64_t b, int64_t e) {
  for (int64_t c = 0; c < np; c++) {
    const T *pc = p + c * size;
    for (int64_t i = b; i < e; i++) dw[i] += pc[i];
  }
}
ST_HOT void add_partials_f32(float *dw, const float *p, int64_t np, int64_t size, int64_t b, int64_t e) {
  add_partials(dw, p, np, size, b, e);
}
ST_HOT void add_partials_f64(double *dw, const double *p, int64_t np, int64_t size, int64_t b, int64_t e) {
  add_partials(dw, p, np, size, b, e);
}
inline void run_add_partials(float *dw, const float *p, int64_t np, int64_t size, int64_t b, int64_t e) {
  add_partials_f32(dw, p, np, size, b, e);
}
inline void run_add_partials(double *dw, const double *p, int64_t np, int64_t size, int64_t b, int64_t e) {
  add_partials_f64(dw, p, np, size, b, e);
}

template <class T>
st_code grad_filter_t(st_ctx *ctx, const char *op, const DGeom &g, const T *src, const T *dy, T *dw, st_status *st) {
  constexpr int NR = 2 * Vec<T>::L;
  const int64_t kkc = g.kkc(), fb = (g.F + NR - 1) / NR, kb = (kkc + kTK - 1) / kTK, threads = threads_of(ctx);
  const bool pad = g.needs_pad();
  const int64_t rs = (pad ? g.WP() : g.WS) * g.C;
  const int64_t dy_row = std::max<int64_t>(1, g.OW * g.F * (int64_t)sizeof(T));
  const int64_t view_row = std::max<int64_t>(1, g.sh * g.WP() * g.C * (int64_t)sizeof(T));
  const int64_t rb =
      std::max<int64_t>(1, std::min({g.OH, kDyBytes / dy_row, 4 * kViewBytes / view_row, kBlockPositions / g.OW}));
  const int64_t view_elems = pad ? view_rows(g, rb) * g.WP() * g.C : 0;
  const int64_t dy_elems = rb * g.OW * NR;  // one block's packed panel of dy
  // per thread: the view, then the panel (rounded up so the next thread's view stays aligned)
  const int64_t per_thread = (view_elems + dy_elems + 15) & ~int64_t(15);
  // The images are split into chunks of about kChunkBytes of x and dy (fixed by the geometry, not
  // by the thread count); chunk 0 sums into dw, each other chunk into a partial that is added to
  // dw in chunk order at the end.  So threads split the positions as well as the tiles, each
  // reading only its chunk's share of x and dy (while splitting only the tiles, every thread
  // streamed all of them), and every element is still summed in one fixed order.
  const int64_t dw_elems = kkc * g.F;
  const int64_t image_bytes = std::max<int64_t>(1, (g.HS * g.WS * g.C + g.OH * g.OW * g.F) * (int64_t)sizeof(T));
  int64_t chunks = (g.N + std::max<int64_t>(1, kChunkBytes / image_bytes) - 1) / std::max<int64_t>(1, kChunkBytes / image_bytes);
  const int64_t max_partials = std::max<int64_t>(0, kMaxPartialBytes / ((int64_t)sizeof(T) * dw_elems));
  chunks = std::max<int64_t>(1, std::min(chunks, max_partials + 1));
  const int64_t per_chunk = (g.N + chunks - 1) / chunks;
  chunks = (g.N + per_chunk - 1) / per_chunk;
  const size_t bytes = sizeof(int64_t) * (size_t)kkc + (size_t)threads * sizeof(T) * (size_t)per_thread +
                       sizeof(T) * (size_t)((chunks - 1) * dw_elems);
  Scratch s;
  s.p = std::malloc(bytes);
  ST_REQUIRE(st, s.p, ST_ERR_ALLOC, "%s: cannot allocate %zu bytes of scratch", op, bytes);
  int64_t *off = static_cast<int64_t *>(s.p);
  T *bufs = reinterpret_cast<T *>(off + kkc);
  T *partials = bufs + (size_t)threads * (size_t)per_thread;
  tap_offsets(g, rs, off);
  // Packing dy pays off over many tiles per filter block; it is required when F is not a
  // multiple of NR (tiles read whole vectors, the panel's columns past F are zeros).
  const bool pack = kb >= kPackTiles || g.F % NR != 0;
  const Gf<T> f{&g, src, dy, dw, off, pad, rs, rb, fb, pack};
  const int64_t tiles = kb * fb;
  // groups of tiles per chunk: enough items for every thread (more only where there are few chunks)
  const int64_t groups = std::max<int64_t>(1, std::min(tiles, (4 * threads + chunks - 1) / chunks));
  const int64_t items = chunks * groups;
  std::atomic<int64_t> next{0};
  st::parallel(ctx, work_of(g), [&](int ith, int) {
    T *mine = bufs + (size_t)ith * (size_t)per_thread;
    for (int64_t it; (it = next.fetch_add(1, std::memory_order_relaxed)) < items;) {
      const int64_t c = it / groups, j = it % groups;
      int64_t b, e;
      st::split_range(tiles, (int)j, (int)groups, &b, &e);
      T *dst = c == 0 ? dw : partials + (c - 1) * dw_elems;
      if (b < e) run_gf_tiles(f, b, e, c * per_chunk, std::min(g.N, (c + 1) * per_chunk), dst, mine, mine + view_elems);
    }
  });
  if (chunks > 1)
    st::parallel(ctx, dw_elems * chunks, [&](int ith, int nth) {
      int64_t b, e;
      st::split_range(dw_elems, ith, nth, &b, &e);
      if (b < e) run_add_partials(dw, partials, chunks - 1, dw_elems, b, e);
    });
  return ST_OK;
}

}  // namespace

bool direct_ok(const DGeom &g) {
  if (g.N <= 0 || g.OH <= 0 || g.OW <= 0 || g.F <= 0 || g.C <= 0 || g.KH <= 0 || g.KW <= 0) return false;
  if (g.sh <= 0 || g.sw <= 0 || g.dh <= 0 || g.dw <= 0) return false;
  // Bound every factor first, so that the products below (and HP, WP) cannot overflow.
  const int64_t lim = int64_t(1) << 30;
  const int64_t f[] = {g.OH, g.OW, g.F, g.C, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw};
  for (int64_t v : f)
    if (v > lim) return false;
  if (g.HP() > lim || g.WP() > lim) return false;
  if (g.KH * g.KW > kMaxPanelElems / 16 / g.C) return false;
  const int64_t kkc = g.kkc(), row = g.WP() * g.C, window_rows = (g.KH - 1) * g.dh + 1;
  if (row > kMaxViewElems / (window_rows + g.sh)) return false;
  return g.F <= kMaxPanelElems / kkc;
}

st_code direct_forward(st_ctx *ctx, const char *op, int32_t dtype, const DGeom &g, const void *src, const void *w,
                       WLayout layout, void *out, st_status *st, const void *bias, int act) {
  if (dtype == ST_F64)
    return forward_t<double>(ctx, op, g, static_cast<const double *>(src), static_cast<const double *>(w), layout,
                             static_cast<double *>(out), static_cast<const double *>(bias), act, st);
  return forward_t<float>(ctx, op, g, static_cast<const float *>(src), static_cast<const float *>(w), layout,
                          static_cast<float *>(out), static_cast<const float *>(bias), act, st);
}

st_code direct_grad_filter(st_ctx *ctx, const char *op, int32_t dtype, const DGeom &g, const void *src,
                           const void *dy, void *dw, st_status *st) {
  if (dtype == ST_F64)
    return grad_filter_t<double>(ctx, op, g, static_cast<const double *>(src), static_cast<const double *>(dy),
                                 static_cast<double *>(dw), st);
  return grad_filter_t<float>(ctx, op, g, static_cast<const float *>(src), static_cast<const float *>(dy),
                              static_cast<float *>(dw), st);
}

}  // namespace conv
}  // namespace st
