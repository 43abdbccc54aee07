// Reductions over one or several axes, with keepDims.
import { DType, floatOf } from '../dtype';
import { argError } from '../errors';
import { Op } from '../ops.generated';
import { normAxes, normAxis, sizeOf } from './shape-util';
import { Tensor, TensorLike, execOp } from './tensor';
import { cast, exp, isFinite, log, sqrt, sub, where, mul } from './elementwise';
import { reshape, transpose } from './shape-ops';
import { tensor } from './creation';

const ROP = { sum: 0, mean: 1, prod: 2, max: 3, min: 4, all: 5, any: 6 } as const;
type Rop = keyof typeof ROP;

function asTensor(x: TensorLike): Tensor {
  return x instanceof Tensor ? x : tensor(x as never);
}

/** Output shape of reducing `axes` of `shape`. */
export function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/**
 * Views x as [outer, red, inner] for the native kernel: when the reduced axes are one contiguous
 * run they already are; otherwise they are moved to the end first (one copy).
 */
function run(op: string, opcode: number, code: number, x: Tensor, axes: number[], outDtype: DType, outShape: number[]): Tensor {
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  let src = x;
  let first = axes[0] ?? x.rank;
  let last = axes.length ? axes[axes.length - 1] : x.rank - 1;
  if (!contiguous) {
    const keep = [...Array(x.rank).keys()].filter((a) => !axes.includes(a));
    src = transpose(x, [...keep, ...axes]);
    first = keep.length;
    last = x.rank - 1;
  }
  const outer = sizeOf(src.shape.slice(0, first));
  const redn = axes.length ? sizeOf(src.shape.slice(first, last + 1)) : 1;
  const inner = sizeOf(src.shape.slice(last + 1));
  const out = execOp(op, opcode, [src], [{ dtype: outDtype, shape: outShape }], [code, outer, redn, inner])[0];
  if (src !== x) src.dispose();
  return out;
}

function reducer(name: Rop) {
  return (x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor => {
    const t = asTensor(x);
    const axes = normAxes(name, axis, t.rank);
    let src = t;
    let dtype: DType = t.dtype;
    if (name === 'all' || name === 'any') dtype = 'bool';
    else if (name === 'mean') dtype = floatOf(t.dtype);
    else if (t.dtype === 'bool') dtype = 'int32';
    if (dtype !== t.dtype) src = cast(t, dtype);
    const out = run(name, Op.REDUCE, ROP[name], src, axes, dtype, reducedShape(t.shape, axes, keepDims));
    if (src !== t) src.dispose();
    return out;
  };
}

/** Sum over axes (all when omitted).  bool sums count as int32. */
export const sum = reducer('sum');
/** Arithmetic mean (ints give float32). */
export const mean = reducer('mean');
export const prod = reducer('prod');
export const max = reducer('max');
export const min = reducer('min');
/** True where every element along the axes is nonzero. */
export const all = reducer('all');
/** True where some element along the axes is nonzero. */
export const any = reducer('any');

function argReducer(name: 'argmax' | 'argmin', which: number) {
  return (x: TensorLike, axis?: number, keepDims = false): Tensor => {
    let t = asTensor(x);
    let owned: Tensor | null = null;
    if (axis === undefined || axis === null) {
      owned = t = reshape(t, [t.size]);
      axis = 0;
    }
    const a = normAxis(name, axis, t.rank);
    if (t.shape[a] === 0) throw argError(name, `cannot take ${name} of an empty axis (shape [${t.shape.join(',')}], axis ${axis})`);
    let src = t;
    if (t.dtype === 'bool') src = cast(t, 'int32');
    const out = run(name, Op.ARGREDUCE, which, src, [a], 'int32', reducedShape(t.shape, [a], keepDims && !owned));
    if (src !== t) src.dispose();
    owned?.dispose();
    return out;
  };
}

/** Index of the largest element along axis (flattened when omitted); first wins ties. */
export const argmax = argReducer('argmax', 0);
export const argmin = argReducer('argmin', 1);

/** Population variance (numpy's default ddof = 0). */
export function variance(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  let t = asTensor(x);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') t = cast(t, 'float32');
  const m = mean(t, axis, true);
  const d = sub(t, m);
  const sq = mul(d, d);
  const out = mean(sq, axis, keepDims);
  for (const tmp of [m, d, sq]) tmp.dispose();
  return out;
}

export function std(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  const v = variance(x, axis, keepDims);
  const out = sqrt(v);
  v.dispose();
  return out;
}

/** log(sum(exp(x))) computed stably (the max is subtracted first). */
export function logSumExp(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  let t = asTensor(x);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') t = cast(t, 'float32');
  const axes = normAxes('logSumExp', axis, t.rank);
  const m = max(t, axes, true);
  const finite = isFinite(m);
  const safeMax = where(finite, m, 0);
  const shifted = sub(t, safeMax);
  const e = exp(shifted);
  const s = sum(e, axes, true);
  const l = log(s);
  const withMax = l.add(safeMax);
  const out = keepDims ? withMax : reshape(withMax, reducedShape(t.shape, axes, false));
  for (const tmp of [m, finite, safeMax, shifted, e, s, l]) tmp.dispose();
  if (out !== withMax) withMax.dispose();
  return out;
}
