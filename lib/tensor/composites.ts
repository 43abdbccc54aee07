// Composite ops, each defined once over an OpSet of primitives.  The eager functions (st.variance …)
// instantiate them with the eager ops (lib/tensor/eager-ops.ts) and the symbolic ones (T.variance …)
// with the graph-building ops, so the two can never compute different things.
import { DType, isFloat } from '../dtype';
import { argError, fmtShape, fmtValue, shapeError } from '../errors';
import { whereNeedsBoolCondition, weakDtypes } from './elementwise';
import { normAxes, normAxis } from './shape-util';

/** A dimension: a number, or null when only known when a compiled function runs. */
export type Dim = number | null;

/** What composites read of a value: eager Tensors and symbolic Variables both have these. */
export interface ValueLike {
  /** What is known of the shape while building (a Tensor's is its shape). */
  readonly staticShape: readonly Dim[];
  readonly dtype: DType;
}

/** An axis argument: one axis, several, or none (all axes). */
export type Axes = number | number[] | null | undefined;

/**
 * The primitives composites are written against.  Axes reaching these are already normalized.
 * Numbers are weak scalars (they take the dtype of the values they meet).
 */
export interface OpSet<V extends ValueLike> {
  cast(x: V, dtype: DType): V;
  add(a: V | number, b: V | number): V;
  sub(a: V | number, b: V | number): V;
  mul(a: V | number, b: V | number): V;
  notEqual(a: V | number, b: V | number): V;
  exp(x: V): V;
  log(x: V): V;
  sqrt(x: V): V;
  isFinite(x: V): V;
  /** The WHERE micro-op as it is: the condition is not converted. */
  select(c: V | number, a: V | number, b: V | number): V;
  sum(x: V, axes: number[], keepDims: boolean): V;
  mean(x: V, axes: number[], keepDims: boolean): V;
  max(x: V, axes: number[], keepDims: boolean): V;
  argReduce(which: 'argmax' | 'argmin', x: V, axis: number, keepDims: boolean): V;
  /** st.matmul / T.matmul (1-D operands are row/column vectors). */
  matmul(a: V, b: V): V;
  reshape(x: V, shape: number[]): V;
  transpose(x: V, perm: number[]): V;
  expandDims(x: V, axis: number): V;
  squeeze(x: V, axes: number[]): V;
  concat(xs: V[], axis: number): V;
  slice(x: V, begin: number[], size: number[]): V;
  /** Python-style slicing (negative bounds count from the end; null: the whole axis). */
  stridedSlice(x: V, begin: (number | null)[], end: (number | null)[]): V;
  /** x as a matrix [prod(shape[:split]), prod(shape[split:])] (dims known when it runs). */
  flatten2d(x: V, split: number): V;
  /** r viewed as a.shape[:-1] + b.shape[:-2] + b.shape[-1:] (the result of numpy's N-D dot). */
  dotUnflatten(r: V, a: V, b: V): V;
  /**
   * x, checked to have `size` elements along axis (at least `size` when atLeast) when that becomes
   * known (the check names op).
   */
  expectDim(x: V, axis: number, size: number, op: string, atLeast?: boolean): V;
  /** x, with no gradient flowing through it (eager: x itself). */
  stopGradient(x: V): V;
  /** Frees a temporary the composite made (eager); never a value it was given. */
  release(v: V): void;
}

function releaseAll<V extends ValueLike>(ops: OpSet<V>, ...vs: V[]): void {
  for (const v of vs) ops.release(v);
}

/** x itself when float, else x as float32 (a temporary the caller releases). */
function asFloat<V extends ValueLike>(ops: OpSet<V>, x: V): V {
  return isFloat(x.dtype) ? x : ops.cast(x, 'float32');
}

/** Known dims that are equal; unknown dims agree with anything. */
function dimsAgree(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === null || b[i] === null || d === b[i]);
}

/**
 * Population variance over axes (numpy's default ddof = 0); ints and bools are computed as
 * float32.
 */
export function variance<V extends ValueLike>(ops: OpSet<V>, x: V, axis?: Axes, keepDims = false): V {
  const axes = normAxes('variance', axis, x.staticShape.length);
  const t = asFloat(ops, x);
  const m = ops.mean(t, axes, true);
  const d = ops.sub(t, m);
  const sq = ops.mul(d, d);
  const out = ops.mean(sq, axes, keepDims);
  releaseAll(ops, m, d, sq);
  if (t !== x) ops.release(t);
  return out;
}

/**
 * Population standard deviation: sqrt(variance).  Where the variance is 0 the gradient is 0 (the
 * subgradient PyTorch uses) rather than 0 · ∞ = NaN: the square root is taken of a stand-in 1
 * there, and the select that puts the 0 back passes no gradient to it.
 */
export function std<V extends ValueLike>(ops: OpSet<V>, x: V, axis?: Axes, keepDims = false): V {
  const v = variance(ops, x, axis, keepDims);
  const nonzero = ops.notEqual(v, 0);
  const safe = ops.select(nonzero, v, 1);
  const root = ops.sqrt(safe);
  const out = ops.select(nonzero, root, 0);
  releaseAll(ops, v, nonzero, safe, root);
  return out;
}

/**
 * log(sum(exp(x))) over axes, computed stably: the max is subtracted first (and carries no
 * gradient); an all -Infinity slice gives -Infinity.  Ints and bools are computed as float32.
 */
export function logSumExp<V extends ValueLike>(ops: OpSet<V>, x: V, axis?: Axes, keepDims = false): V {
  const axes = normAxes('logSumExp', axis, x.staticShape.length);
  const t = asFloat(ops, x);
  const m = ops.stopGradient(ops.max(t, axes, true));
  const finite = ops.isFinite(m);
  const safe = ops.select(finite, m, 0);
  const shifted = ops.sub(t, safe);
  const e = ops.exp(shifted);
  const s = ops.sum(e, axes, true);
  const l = ops.log(s);
  const withMax = ops.add(l, safe);
  const out = keepDims ? withMax : ops.squeeze(withMax, axes);
  releaseAll(ops, m, finite, safe, shifted, e, s, l);
  if (out !== withMax) ops.release(withMax);
  if (t !== x) ops.release(t);
  return out;
}

/**
 * cond ? a : b elementwise with broadcasting; a nonzero condition is true.  A float condition
 * with int branches is compared with 0 first, so 0.5 counts as true.
 */
export function where<V extends ValueLike>(ops: OpSet<V>, cond: V | number, a: V | number, b: V | number): V {
  if (!whereNeedsBoolCondition(weakDtypes([cond, a, b]))) return ops.select(cond, a, b);
  const c = ops.notEqual(cond, 0);
  const out = ops.select(c, a, b);
  ops.release(c);
  return out;
}

/**
 * numpy's dot: a scalar operand multiplies; when b has rank <= 2 it is matmul (1-D operands as
 * row/column vectors, so vector·vector is a scalar); otherwise a's last axis is contracted with
 * b's second-to-last, giving a.shape[:-1] + b.shape[:-2] + b.shape[-1:].
 */
export function dot<V extends ValueLike>(ops: OpSet<V>, a: V, b: V): V {
  const ra = a.staticShape.length, rb = b.staticShape.length;
  if (ra === 0 || rb === 0) return ops.mul(a, b);
  if (rb <= 2) return ops.matmul(a, b);
  const k = a.staticShape[ra - 1], kb = b.staticShape[rb - 2];
  if (k !== null && kb !== null && k !== kb) throw shapeError('dot', `cannot contract ${fmtShape(a.staticShape)} with ${fmtShape(b.staticShape)} (${k} vs ${kb})`);
  const perm = [rb - 2, ...[...Array(rb).keys()].filter((i) => i !== rb - 2)];
  const bt = ops.transpose(b, perm);
  const b2 = ops.flatten2d(bt, 1);
  const a2 = ops.flatten2d(a, ra - 1);
  const r = ops.matmul(a2, b2);
  const out = ops.dotUnflatten(r, a, b);
  releaseAll(ops, bt, b2, a2, r);
  return out;
}

/** numpy's outer: both operands are flattened; out[i, j] = a[i] * b[j]. */
export function outer<V extends ValueLike>(ops: OpSet<V>, a: V, b: V): V {
  const col = ops.reshape(a, [-1, 1]);
  const row = ops.reshape(b, [1, -1]);
  const out = ops.mul(col, row);
  releaseAll(ops, col, row);
  return out;
}

/** Index of the largest/smallest element along axis (of the flattened value when axis is omitted). */
export function argReduce<V extends ValueLike>(ops: OpSet<V>, which: 'argmax' | 'argmin', x: V, axis?: number | null, keepDims = false): V {
  if (axis !== undefined && axis !== null) return ops.argReduce(which, x, normAxis(which, axis, x.staticShape.length), keepDims);
  const flat = ops.reshape(x, [-1]);
  const out = ops.argReduce(which, flat, 0, false);
  ops.release(flat);
  if (!keepDims) return out;
  // no axis with keepDims (as numpy): every axis kept with length 1
  const kept = ops.reshape(out, x.staticShape.map(() => 1));
  ops.release(out);
  return kept;
}

/** Joins values of one shape along a new axis (dtypes are promoted as concat does). */
export function stack<V extends ValueLike>(ops: OpSet<V>, xs: V[], axis = 0): V {
  const op = 'stack';
  if (!Array.isArray(xs) || xs.length === 0) throw argError(op, 'expected a non-empty array of tensors');
  if (xs.some((x) => !dimsAgree(x.staticShape, xs[0].staticShape)))
    throw shapeError(op, `all tensors must have one shape, got ${xs.map((x) => fmtShape(x.staticShape)).join(', ')}`);
  const a = normAxis(op, axis, xs[0].staticShape.length + 1);
  const views = xs.map((x) => ops.expandDims(x, a));
  const out = ops.concat(views, a);
  releaseAll(ops, ...views);
  return out;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** The sizes split(x, numOrSizes) cuts axis `a` into (-1 only stays when the dim is unknown). */
function splitSizes(shape: readonly Dim[], numOrSizes: number | number[], a: number): number[] {
  const op = 'split';
  const dim = shape[a];
  if (typeof numOrSizes === 'number') {
    if (dim === null) throw shapeError(op, `axis ${a} of ${fmtShape(shape)} has unknown size; give sizes instead of a count`);
    if (!isInt(numOrSizes) || numOrSizes <= 0 || dim % numOrSizes !== 0)
      throw shapeError(op, `cannot split axis ${a} of size ${dim} of ${fmtShape(shape)} into ${numOrSizes} equal parts`);
    return new Array<number>(numOrSizes).fill(dim / numOrSizes);
  }
  if (!Array.isArray(numOrSizes)) throw argError(op, `expected a number of parts or an array of sizes, got ${fmtValue(numOrSizes)}`);
  if (numOrSizes.some((s) => !isInt(s) || s < -1)) throw argError(op, `sizes must be integers >= 0 (one may be -1), got ${fmtValue(numOrSizes)}`);
  const free = numOrSizes.filter((s) => s === -1).length;
  const known = numOrSizes.filter((s) => s !== -1).reduce((p, q) => p + q, 0);
  if (free > 1 || numOrSizes.some((s) => !isInt(s) || s < -1) || (dim !== null && (known > dim || (!free && known !== dim))))
    throw shapeError(op, `sizes ${fmtValue(numOrSizes)} do not add up to ${dim ?? '?'} (axis ${a} of ${fmtShape(shape)})`);
  if (dim !== null) return numOrSizes.map((s) => (s === -1 ? dim - known : s));
  return numOrSizes.slice();
}

/** Splits into `num` equal parts, or parts of the given sizes (one may be -1: the rest), along axis. */
export function split<V extends ValueLike>(ops: OpSet<V>, x: V, numOrSizes: number | number[], axis = 0): V[] {
  const a = normAxis('split', axis, x.staticShape.length);
  const sizes = splitSizes(x.staticShape, numOrSizes, a);
  const free = sizes.indexOf(-1);
  const total = sizes.reduce((p, q) => (q === -1 ? p : p + q), 0);
  // sizes of an axis known only at run time must add up to it then (or leave room for the -1 part)
  const src = x.staticShape[a] === null ? ops.expectDim(x, a, total, 'split', free >= 0) : x;
  const at = (v: number) => x.staticShape.map((_, i) => (i === a ? v : 0));
  const whole = (v: number) => x.staticShape.map((_, i) => (i === a ? v : -1));
  let start = 0;
  return sizes.map((s, k) => {
    const begin = start;
    start += s === -1 ? 0 : s;
    // a known dim has no -1 left; past an unknown dim's -1 part, offsets count from the end
    if (free < 0 || k < free) return ops.slice(src, at(begin), whole(s));
    const fromEnd = total - begin;
    if (k > free) return ops.slice(src, at(-fromEnd), whole(s));
    return fromEnd === 0 ? ops.slice(src, at(begin), whole(-1)) : ops.stridedSlice(src, at(begin).map((b, i) => (i === a ? b : null)), at(-fromEnd).map((e, i) => (i === a ? e : null)));
  });
}
