// Reductions over one or several axes, with keepDims.
import { DType, floatOf } from '../dtype';
import { argError, fmtValue, reportedAs } from '../errors';
import { Op } from '../ops.generated';
import { normAxes, sizeOf } from './shape-util';
import { Tensor, TensorLike } from './tensor';
import { castWith } from './elementwise';
import { transposeWith } from './shape-ops';
import * as composites from './composites';
import { eagerOps } from './eager-ops';
import { Emitter, Val, eager } from './emitter';
import { asTensor } from './creation';

/** The native REDUCE instruction's code for each reduction. */
const ROP = { sum: 0, mean: 1, prod: 2, max: 3, min: 4, all: 5, any: 6 } as const;
/** The name of a reduction (sum, mean, prod, max, min, all, any). */
type Rop = keyof typeof ROP;


/** Output shape of reducing `axes` of `shape`. */
export function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/**
 * Views x as [outer, red, inner] for the native kernel: when the reduced axes are one contiguous
 * run they already are; otherwise they are moved to the end first (one copy).
 */
function run<V extends Val>(em: Emitter<V>, op: string, opcode: number, code: number, x: V, axes: number[], outDtype: DType, outShape: number[]): V {
  const rank = x.shape.length;
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  let src = x;
  let first = axes[0] ?? rank;
  let last = axes.length ? axes[axes.length - 1] : rank - 1;
  if (!contiguous) {
    const keep = [...Array(rank).keys()].filter((a) => !axes.includes(a));
    src = transposeWith(em, x, [...keep, ...axes]);
    first = keep.length;
    last = rank - 1;
  }
  const outer = sizeOf(src.shape.slice(0, first));
  const redn = axes.length ? sizeOf(src.shape.slice(first, last + 1)) : 1;
  const inner = sizeOf(src.shape.slice(last + 1));
  const out = em.emit(op, opcode, [src], [{ dtype: outDtype, shape: outShape }], [code, outer, redn, inner])[0];
  if (src !== x) em.release(src);
  return out;
}

export type ReduceOp = Rop;

/** The dtype reducing x of dtype d gives. */
export function reduceDtype(name: Rop, d: DType): DType {
  if (name === 'all' || name === 'any') return 'bool';
  if (name === 'mean') return floatOf(d);
  return d === 'bool' ? 'int32' : d;
}

/** Reduces normalized `axes` of t. */
export function reduceWith<V extends Val>(em: Emitter<V>, name: Rop, t: V, axes: number[], keepDims: boolean): V {
  const dtype = reduceDtype(name, t.dtype);
  const src = dtype !== t.dtype ? castWith(em, t, dtype) : t;
  const out = run(em, name, Op.REDUCE, ROP[name], src, axes, dtype, reducedShape(t.shape, axes, keepDims));
  if (src !== t) em.release(src);
  return out;
}

/** keepDims, checked to be a boolean (a truthy object or string is a mistake, not a yes). */
function keepFlag(op: string, keepDims: unknown): boolean {
  if (typeof keepDims !== 'boolean') throw argError(op, `keepDims must be true or false, got ${fmtValue(keepDims)}`);
  return keepDims;
}

function reducer(name: Rop) {
  return (x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor => {
    keepFlag(name, keepDims);
    const t = asTensor(name, x);
    return reduceWith(eager, name, t, normAxes(name, axis, t.rank), keepDims);
  };
}

/** Sum over axes (all when omitted).  bool sums count as int32. */
export const sum = reducer('sum');
/** Arithmetic mean (ints give float32). */
export const mean = reducer('mean');
/** Product over axes (all when omitted). */
export const prod = reducer('prod');
/** Largest element over axes (all when omitted). */
export const max = reducer('max');
/** Smallest element over axes (all when omitted). */
export const min = reducer('min');
/** True where every element along the axes is nonzero. */
export const all = reducer('all');
/** True where some element along the axes is nonzero. */
export const any = reducer('any');

/** argmax/argmin along one normalized axis of t (which: 0 max, 1 min). */
export function argReduceWith<V extends Val>(em: Emitter<V>, name: 'argmax' | 'argmin', t: V, axis: number, keepDims: boolean): V {
  if (t.shape[axis] === 0) throw argError(name, `cannot take ${name} of an empty axis (shape [${t.shape.join(',')}], axis ${axis})`);
  const src = t.dtype === 'bool' ? castWith(em, t, 'int32') : t;
  const out = run(em, name, Op.ARGREDUCE, name === 'argmax' ? 0 : 1, src, [axis], 'int32', reducedShape(t.shape, [axis], keepDims));
  if (src !== t) em.release(src);
  return out;
}

/** Index of the largest element along axis (of the flattened tensor when omitted); first wins ties. */
export function argmax(x: TensorLike, axis?: number | null, keepDims = false): Tensor {
  keepFlag('argmax', keepDims);
  return composites.argReduce(eagerOps, 'argmax', asTensor('argmax', x), axis, keepDims);
}

/** Index of the smallest element along axis (of the flattened tensor when omitted); first wins ties. */
export function argmin(x: TensorLike, axis?: number | null, keepDims = false): Tensor {
  keepFlag('argmin', keepDims);
  return composites.argReduce(eagerOps, 'argmin', asTensor('argmin', x), axis, keepDims);
}

/** Population variance (numpy's default ddof = 0; see composites.variance). */
export function variance(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  keepFlag('variance', keepDims);
  return composites.variance(eagerOps, asTensor('variance', x), axis, keepDims);
}

/** Population standard deviation, sqrt(variance); its errors (axis, keepDims) name std. */
export function std(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  keepFlag('std', keepDims);
  return reportedAs('std', () => composites.std(eagerOps, asTensor('std', x), axis, keepDims));
}

/** log(sum(exp(x))) computed stably (see composites.logSumExp). */
export function logSumExp(x: TensorLike, axis?: number | number[] | null, keepDims = false): Tensor {
  keepFlag('logSumExp', keepDims);
  return composites.logSumExp(eagerOps, asTensor('logSumExp', x), axis, keepDims);
}
