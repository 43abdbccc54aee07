// Shape ops.  reshape/expandDims/squeeze/flatten are views (no copy); the others lower to the
// native COPY (a strided gather), CONCAT, PAD, GATHER and ONE_HOT instructions.
import { DType, upcast } from '../dtype';
import { argError, dtypeError, fmtShape, fmtValue, shapeError } from '../errors';
import { Op } from '../ops.generated';
import { MAX_RANK, broadcastShapes, checkShape, checkSize, normAxis, shapesEqual, sizeOf, squeezeAxes, stridesOf } from './shape-util';
import { Tensor, TensorLike } from './tensor';
import { castWith } from './elementwise';
import { Emitter, Val, eager } from './emitter';
import { asTensor, indexTensor } from './creation';
import * as composites from './composites';
import { eagerOps } from './eager-ops';


function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** A strided gather of x into a new contiguous value of `shape`. */
function stridedCopy<V extends Val>(em: Emitter<V>, op: string, x: V, shape: number[], offset: number, strides: number[]): V {
  return em.emit(op, Op.COPY, [x], [{ dtype: x.dtype, shape }], [offset, ...strides])[0];
}

/** The same data with a new shape; one entry may be -1 (inferred).  No copy. */
export function reshape(x: TensorLike, shape: number[]): Tensor {
  return reshapeWith(eager, asTensor('reshape', x), shape);
}

/** The shape reshape(t, shape) gives (one -1 inferred), or a clear error. */
export function reshapeShape(op: string, t: Val, shape: number[]): number[] {
  const size = sizeOf(t.shape);
  if (!Array.isArray(shape)) throw argError(op, `shape must be an array, got ${fmtValue(shape)}`);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw shapeError(op, `only one -1 is allowed in ${fmtValue(shape)}`);
  for (const d of shape) if (!isInt(d) || d < -1) throw shapeError(op, `bad entry in shape ${fmtValue(shape)}`);
  let out = shape.slice();
  if (unknown) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || size % known !== 0)
      throw shapeError(op, `cannot reshape ${fmtShape(t.shape)} (${size} elements) to ${fmtValue(shape)}`, [t.shape]);
    out = shape.map((d) => (d === -1 ? size / known : d));
  }
  checkShape(op, out);
  if (sizeOf(out) !== size)
    throw shapeError(op, `cannot reshape ${fmtShape(t.shape)} (${size} elements) to ${fmtShape(out)} (${sizeOf(out)} elements)`, [t.shape, out]);
  return out;
}

export function reshapeWith<V extends Val>(em: Emitter<V>, t: V, shape: number[]): V {
  return em.view(t, reshapeShape('reshape', t, shape), 'reshape');
}

/** Flattens to one dimension (a view). */
export function flatten(x: TensorLike): Tensor {
  const t = asTensor('flatten', x);
  return t.view([t.size], 'flatten');
}

/** Inserts a dimension of size 1 at axis (a view). */
export function expandDims(x: TensorLike, axis = 0): Tensor {
  const t = asTensor('expandDims', x);
  const a = normAxis('expandDims', axis, t.rank + 1);
  const shape = t.shape.slice();
  shape.splice(a, 0, 1);
  if (shape.length > MAX_RANK) throw shapeError('expandDims', `rank ${shape.length} is above the maximum ${MAX_RANK}`);
  return t.view(shape, 'expandDims');
}

/** Removes dimensions of size 1 (all of them, or the given axes, which must have size 1). */
export function squeeze(x: TensorLike, axis?: number | number[]): Tensor {
  const op = 'squeeze';
  const t = asTensor(op, x);
  const drop = squeezeAxes(op, t.shape, axis);
  return t.view(t.shape.filter((_, i) => !drop.includes(i)), op);
}

/** Permutes the axes (reverses them when perm is omitted). */
export function transpose(x: TensorLike, perm?: number[]): Tensor {
  return transposeWith(eager, asTensor('transpose', x), perm);
}

export function transposeWith<V extends Val>(em: Emitter<V>, t: V, perm?: number[]): V {
  const op = 'transpose';
  const rank = t.shape.length;
  const norm = normPerm(op, perm, rank, t.shape);
  const strides = stridesOf(t.shape);
  return stridedCopy(em, op, t, norm.map((a) => t.shape[a]), 0, norm.map((a) => strides[a]));
}

/** Validates a permutation (reversed axes when omitted). */
export function normPerm(op: string, perm: number[] | undefined, rank: number, shape: readonly (number | null)[]): number[] {
  const p = perm ?? [...Array(rank).keys()].reverse();
  const bad = () => argError(op, `perm ${fmtValue(perm)} must list each of the ${rank} axes of ${fmtShape(shape)} once`);
  if (!Array.isArray(p) || p.length !== rank) throw bad();
  const norm = p.map((a) => normAxis(op, a, rank));
  if (new Set(norm).size !== rank) throw bad();
  return norm;
}
/** The same as transpose (Keras's name). */
export const permute = transpose;

/**
 * Theano's dimshuffle: `pattern` lists input axes in their new order, 'x' inserts an axis of size 1,
 * and input axes left out (which must have size 1) are dropped.
 * @example st.dimshuffle(v, ['x', 0]) // a row;  st.dimshuffle(m, [1, 0]) // a transpose
 */
export function dimshuffle(x: TensorLike, pattern: (number | 'x')[]): Tensor {
  return dimshuffleWith(eager, asTensor('dimshuffle', x), pattern);
}

/** The axis order (used axes, then dropped ones) and output shape of dimshuffle(shape, pattern). */
export function dimshufflePlan(op: string, shape: readonly (number | null)[], pattern: (number | 'x')[]): { perm: number[]; shape: (number | null)[] } {
  if (!Array.isArray(pattern)) throw argError(op, `pattern must be an array of axes and 'x', got ${fmtValue(pattern)}`);
  const used = pattern.filter((p): p is number => p !== 'x');
  if (new Set(used).size !== used.length || used.some((a) => !isInt(a) || a < 0 || a >= shape.length))
    throw argError(op, `pattern ${fmtValue(pattern)} must use each axis of a rank-${shape.length} tensor at most once`);
  const dropped = shape.map((_, i) => i).filter((i) => !used.includes(i));
  for (const i of dropped)
    if (shape[i] !== 1 && shape[i] !== null) throw shapeError(op, `axis ${i} of ${fmtShape(shape)} has size ${shape[i]}; only size-1 axes can be dropped`);
  const out = pattern.map((p) => (p === 'x' ? 1 : shape[p]));
  if (out.length > MAX_RANK) throw shapeError(op, `rank ${out.length} is above the maximum ${MAX_RANK}`);
  return { perm: [...used, ...dropped], shape: out };
}

export function dimshuffleWith<V extends Val>(em: Emitter<V>, t: V, pattern: (number | 'x')[]): V {
  const plan = dimshufflePlan('dimshuffle', t.shape, pattern);
  const ordered = plan.perm.every((a, i) => a === i) ? t : transposeWith(em, t, plan.perm);
  const out = em.view(ordered, plan.shape as number[], 'dimshuffle');
  if (ordered !== t) em.release(ordered);
  return out;
}

/** Repeats x along new leading/size-1 axes to `shape` (numpy broadcasting rules). */
export function broadcastTo(x: TensorLike, shape: number[]): Tensor {
  return broadcastToWith(eager, asTensor('broadcastTo', x), shape);
}

export function broadcastToWith<V extends Val>(em: Emitter<V>, t: V, shape: number[]): V {
  const op = 'broadcastTo';
  shape = checkShape(op, shape);
  const b = broadcastShapes(op, t.shape, shape);
  if (!shapesEqual(b, shape)) throw shapeError(op, `cannot broadcast ${fmtShape(t.shape)} to ${fmtShape(shape)}`, [t.shape, shape]);
  const s = stridesOf(t.shape);
  const lead = shape.length - t.shape.length;
  return stridedCopy(em, op, t, shape, 0, shape.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : s[i - lead])));
}

/**
 * The block starting at `begin` of extent `size` (-1: to the end).  Negative begins count from
 * the end.  @example x.slice([1, 0], [2, -1])
 */
export function slice(x: TensorLike, begin: number | number[], size?: number | number[]): Tensor {
  return sliceWith(eager, asTensor('slice', x), begin, size);
}

export function sliceWith<V extends Val>(em: Emitter<V>, t: V, begin: number | number[], size?: number | number[]): V {
  const plan = slicePlan('slice', t.shape, begin, size);
  const strides = stridesOf(t.shape);
  const offset = plan.begin.reduce((acc, b, i) => acc + b * strides[i], 0);
  return stridedCopy(em, 'slice', t, plan.size, sizeOf(plan.size) ? offset : 0, strides);
}

/**
 * Python-style slicing per axis: x[b0:e0:s0, b1:e1:s1, ...].  null means "from the start/to the
 * end" in the direction of the stride; negative indices count from the end.
 */
export function stridedSlice(x: TensorLike, begin: (number | null)[], end: (number | null)[], strides?: (number | null)[]): Tensor {
  return stridedSliceWith(eager, asTensor('stridedSlice', x), begin, end, strides);
}

/** Output shape, start offset and input strides of a python-style slice of `shape`. */
export function stridedSlicePlan(op: string, shape: number[], begin: (number | null)[], end: (number | null)[], strides?: (number | null)[]): { outShape: number[]; offset: number; strides: number[] } {
  const rank = shape.length;
  checkStridedSliceArgs(op, rank, begin, end, strides);
  const inStrides = stridesOf(shape);
  const outShape: number[] = [];
  const outStrides: number[] = [];
  let offset = 0;
  for (let i = 0; i < rank; i++) {
    const dim = shape[i];
    const s = strides?.[i] ?? 1;
    const norm = (v: number | null | undefined, dflt: number): number => {
      if (v === null || v === undefined) return dflt;
      const w = v < 0 ? v + dim : v;
      return s > 0 ? Math.min(Math.max(w, 0), dim) : Math.min(Math.max(w, -1), dim - 1);
    };
    const b = norm(begin[i], s > 0 ? 0 : dim - 1);
    const e = norm(end[i], s > 0 ? dim : -1);
    const len = s > 0 ? Math.max(0, Math.ceil((e - b) / s)) : Math.max(0, Math.ceil((b - e) / -s));
    outShape.push(len);
    outStrides.push(s * inStrides[i]);
    if (len > 0) offset += b * inStrides[i];
  }
  return { outShape, offset: sizeOf(outShape) ? offset : 0, strides: outStrides };
}

export function stridedSliceWith<V extends Val>(em: Emitter<V>, t: V, begin: (number | null)[], end: (number | null)[], strides?: (number | null)[]): V {
  const plan = stridedSlicePlan('stridedSlice', t.shape, begin, end, strides);
  return stridedCopy(em, 'stridedSlice', t, plan.outShape, plan.offset, plan.strides);
}

/** Checks python-style slice arguments for a tensor of rank `rank` (its dims are not needed). */
export function checkStridedSliceArgs(op: string, rank: number, begin: (number | null)[], end: (number | null)[], strides?: (number | null)[]): void {
  if (!Array.isArray(begin) || !Array.isArray(end) || (strides !== undefined && !Array.isArray(strides))) throw argError(op, 'begin, end and strides must be arrays');
  const n = Math.max(begin.length, end.length, strides?.length ?? 0);
  if (n > rank) throw argError(op, `${n} slice entries for a tensor of rank ${rank}`);
  for (let i = 0; i < n; i++) {
    const s = strides?.[i] ?? 1;
    if (!isInt(s) || s === 0) throw argError(op, `stride ${fmtValue(s)} on axis ${i} must be a non-zero integer`);
    for (const v of [begin[i], end[i]]) if (v !== null && v !== undefined && !isInt(v)) throw argError(op, `slice bound ${fmtValue(v)} on axis ${i} is not an integer`);
  }
}

/** [begin, size] of slice(x, begin, size) on `shape`, normalized (no negatives, no -1). */
export function slicePlan(op: string, shape: number[], begin: number | number[], size?: number | number[]): { begin: number[]; size: number[] } {
  const rank = shape.length;
  const b = Array.isArray(begin) ? begin.slice() : [begin];
  const sz = size === undefined ? b.map(() => -1) : Array.isArray(size) ? size.slice() : [size];
  if (b.length > rank || sz.length !== b.length) throw argError(op, `begin ${fmtValue(begin)} and size ${fmtValue(size)} must have one entry per axis (at most ${rank}) for ${fmtShape(shape)}`);
  const outBegin = shape.map(() => 0);
  const outSize = shape.slice();
  for (let i = 0; i < b.length; i++) {
    const dim = shape[i];
    if (!isInt(b[i]) || !isInt(sz[i])) throw argError(op, 'begin and size must be integers');
    const start = b[i] < 0 ? b[i] + dim : b[i];
    const len = sz[i] === -1 ? dim - start : sz[i];
    if (start < 0 || start > dim || len < 0 || start + len > dim)
      throw shapeError(op, `begin ${fmtValue(begin)} size ${fmtValue(size)} is out of bounds for ${fmtShape(shape)} (axis ${i})`, [shape]);
    outBegin[i] = start;
    outSize[i] = len;
  }
  return { begin: outBegin, size: outSize };
}

/** Joins tensors along an existing axis (dtypes are promoted to a common one). */
export function concat(tensors: TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw argError('concat', 'expected a non-empty array of tensors');
  return concatWith(eager, tensors.map((x, i) => asTensor('concat', x, undefined, `tensor ${i}`)), axis);
}

export function concatWith<V extends Val>(em: Emitter<V>, ts: V[], axis: number): V {
  const op = 'concat';
  if (ts.length === 0) throw argError(op, 'expected a non-empty array of tensors');
  const rank = ts[0].shape.length;
  if (rank === 0) throw shapeError(op, 'cannot concatenate scalars (0-d tensors); use stack');
  const a = normAxis(op, axis, rank);
  for (const t of ts) {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== a && d !== ts[0].shape[i]))
      throw shapeError(op, `shapes ${ts.map((u) => fmtShape(u.shape)).join(', ')} differ outside axis ${a}`, ts.map((u) => u.shape));
  }
  const dtype = ts.map((t) => t.dtype).reduce((p, q) => (p === q ? p : upcast(p, q)));
  const inputs = ts.map((t) => (t.dtype === dtype ? t : castWith(em, t, dtype)));
  const shape = ts[0].shape.slice();
  shape[a] = ts.reduce((s, t) => s + t.shape[a], 0);
  const out = em.emit(op, Op.CONCAT, inputs, [{ dtype, shape }], [a])[0];
  inputs.forEach((t, i) => t !== ts[i] && em.release(t));
  return out;
}

/** Joins tensors of one shape along a new axis (see composites.stack). */
export function stack(tensors: TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw argError('stack', 'expected a non-empty array of tensors');
  return composites.stack(eagerOps, tensors.map((x, i) => asTensor('stack', x, undefined, `tensor ${i}`)), axis);
}

/** Splits into `num` equal parts or parts of the given sizes (one may be -1) along axis. */
export function split(x: TensorLike, numOrSizes: number | number[], axis = 0): Tensor[] {
  return composites.split(eagerOps, asTensor('split', x), numOrSizes, axis);
}

/** Repeats x reps[i] times along axis i (numpy's tile). */
export function tile(x: TensorLike, reps: number[]): Tensor {
  return tileWith(eager, asTensor('tile', x), reps);
}

export function tileWith<V extends Val>(em: Emitter<V>, t: V, reps: number[]): V {
  const op = 'tile';
  if (!Array.isArray(reps) || reps.some((r) => !isInt(r) || r < 0)) throw argError(op, `reps must be non-negative integers, got ${fmtValue(reps)}`);
  const rank = Math.max(t.shape.length, reps.length);
  if (rank > MAX_RANK) throw shapeError(op, `${reps.length} reps for ${fmtShape(t.shape)} give rank ${rank}, above the maximum ${MAX_RANK}`);
  const padded = [...new Array(rank - t.shape.length).fill(1), ...t.shape];
  checkSize(op, padded.map((d, i) => d * (i < rank - reps.length ? 1 : reps[i - rank + reps.length])), t.dtype, 'result');
  const xs = [...new Array(rank - t.shape.length).fill(1), ...t.shape];
  const rs = [...new Array(rank - reps.length).fill(1), ...reps];
  const s = stridesOf(xs);
  // Interleave a stride-0 "repeat" axis before each repeated axis, then merge the pairs.
  const shape: number[] = [];
  const strides: number[] = [];
  xs.forEach((d, i) => {
    if (rs[i] !== 1) shape.push(rs[i]), strides.push(0);
    shape.push(d), strides.push(s[i]);
  });
  const finalShape = xs.map((d, i) => d * rs[i]);
  if (shape.length > MAX_RANK) {
    // too many axes to interleave at once: tile one axis at a time
    let cur = em.view(t, xs, op);
    for (let i = 0; i < rank; i++) {
      if (rs[i] === 1) continue;
      const next = tileWith(em, cur, rs.map((_, j) => (j === i ? rs[i] : 1)));
      em.release(cur);
      cur = next;
    }
    return cur;
  }
  const out = stridedCopy(em, op, t, shape, 0, strides);
  const res = em.view(out, finalShape, op);
  em.release(out);
  return res;
}

/** Pads with `value`: paddings[i] = [before, after] for axis i. */
export function pad(x: TensorLike, paddings: [number, number][], value = 0): Tensor {
  return padWith(eager, asTensor('pad', x), paddings, value);
}

export function padWith<V extends Val>(em: Emitter<V>, t: V, paddings: [number, number][], value = 0): V {
  const op = 'pad';
  if (!Array.isArray(paddings) || paddings.length !== t.shape.length || paddings.some((p) => !Array.isArray(p) || p.length !== 2 || !isInt(p[0]) || !isInt(p[1]) || p[0] < 0 || p[1] < 0))
    throw argError(op, `paddings must be ${t.shape.length} pairs [before, after] of non-negative integers for ${fmtShape(t.shape)}, got ${fmtValue(paddings)}`);
  if (typeof value !== 'number') throw argError(op, `value must be a number, got ${typeof value}`);
  const shape = t.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  checkShape(op, shape);
  return em.emit(op, Op.PAD, [t], [{ dtype: t.dtype, shape }], paddings.map((p) => p[0]), [value])[0];
}

/** Picks slices along axis: out = x.shape[:axis] + indices.shape + x.shape[axis+1:]. */
export function gather(x: TensorLike, indices: TensorLike, axis = 0): Tensor {
  return gatherWith(eager, asTensor('gather', x), indexTensor('gather', indices), axis);
}

export function gatherWith<V extends Val>(em: Emitter<V>, t: V, idx: V, axis: number): V {
  const op = 'gather';
  if (idx.dtype !== 'int32') throw dtypeError(op, `indices must be int32, got ${idx.dtype} (use .cast('int32'))`);
  const a = normAxis(op, axis, t.shape.length);
  const outer = sizeOf(t.shape.slice(0, a));
  const inner = sizeOf(t.shape.slice(a + 1));
  const shape = [...t.shape.slice(0, a), ...idx.shape, ...t.shape.slice(a + 1)];
  checkShape(op, shape);
  return em.emit(op, Op.GATHER, [t, idx], [{ dtype: t.dtype, shape }], [outer, t.shape[a], inner])[0];
}

/** One-hot rows: out[..., i] = on where indices == i, else off.  Out-of-range indices give all `off`. */
export function oneHot(indices: TensorLike, depth: number, onValue = 1, offValue = 0, dtype: DType = 'float32'): Tensor {
  return oneHotWith(eager, indexTensor('oneHot', indices), depth, onValue, offValue, dtype);
}

export function oneHotWith<V extends Val>(em: Emitter<V>, idx: V, depth: number, onValue = 1, offValue = 0, dtype: DType = 'float32'): V {
  const op = 'oneHot';
  if (idx.dtype !== 'int32') throw dtypeError(op, `indices must be int32, got ${idx.dtype}`);
  if (!isInt(depth) || depth < 0) throw argError(op, `depth must be a non-negative integer, got ${fmtValue(depth)}`);
  const shape = [...idx.shape, depth];
  checkShape(op, shape);
  return em.emit(op, Op.ONE_HOT, [idx], [{ dtype, shape }], [depth], [onValue, offValue])[0];
}

