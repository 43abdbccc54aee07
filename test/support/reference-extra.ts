// Plain-loop references that test/support/reference.ts does not have, written from the formulas
// (float64 loops, no library code): the population standard deviation over any set of axes.
import type { DType, Ref } from './reference';

/** Axes normalized (negative counted from the end), sorted, duplicates removed; null: all axes. */
function normAxes(axes: number | number[] | null | undefined, rank: number): number[] {
  if (axes === null || axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

/** Rounds v to dtype d's precision (float32 through Math.fround). */
function storeFloat(d: DType, v: number): number {
  return d === 'float32' ? Math.fround(v) : v;
}

/**
 * Population standard deviation sqrt(Σ(x - mean)² / n) over `axes` (numpy's ddof = 0), in float64,
 * stored in x's float dtype (ints and bools give float32).  NaN or an infinity in a slice gives NaN.
 * @example popStd({ shape: [2, 2], dtype: 'float64', data: [1, 3, 5, 5] }, 1).data  // [1, 0]
 */
export function popStd(x: Ref, axes?: number | number[] | null, keepDims = false): Ref {
  const rank = x.shape.length;
  const red = normAxes(axes, rank);
  const outShape = x.shape.map((d, i) => (red.includes(i) ? 1 : d));
  const strides = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outStrides = outShape.map((_, i) => outShape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outSize = outShape.reduce((a, b) => a * b, 1);
  const slices: number[][] = Array.from({ length: outSize }, () => []);
  for (let flat = 0; flat < x.data.length; flat++) {
    let o = 0;
    for (let i = 0; i < rank; i++) {
      const idx = Math.floor(flat / strides[i]) % x.shape[i];
      if (!red.includes(i)) o += idx * outStrides[i];
    }
    slices[o].push(x.data[flat]);
  }
  const dtype: DType = x.dtype === 'float64' ? 'float64' : 'float32';
  const data = slices.map((s) => {
    if (s.length === 0) return NaN;
    let mean = 0;
    for (const v of s) mean += v;
    mean /= s.length;
    let ss = 0;
    for (const v of s) ss += (v - mean) * (v - mean);
    return storeFloat(dtype, Math.sqrt(ss / s.length));
  });
  const shape = keepDims ? outShape : x.shape.filter((_, i) => !red.includes(i));
  return { shape, dtype, data };
}
