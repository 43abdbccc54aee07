// Shape arithmetic shared by the eager ops (and, later, the graph's shape inference).
import { SymtensorError, argError, fmtShape, fmtValue, shapeError } from '../errors';
import { DTYPE_BYTES, DTYPE, MAX_DIMS, MAX_TENSOR_BYTES } from '../ops.generated';

/** Largest tensor rank (native/ops.def's MAX_DIMS). */
export const MAX_RANK = MAX_DIMS;

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Validates a user-given shape: an array of at most MAX_RANK non-negative integers whose elements
 * fit in MAX_TENSOR_BYTES (of 1-byte elements; checkSize checks a dtype's bytes).  The length is
 * checked before anything else is read.
 */
export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw argError(op, `shape must be an array of non-negative integers, got ${fmtValue(shape)}`);
  if (shape.length > MAX_RANK) throw shapeError(op, `rank ${shape.length} is above the maximum ${MAX_RANK}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      throw shapeError(op, `shape ${fmtValue(shape)} has an entry that is not a non-negative integer (${fmtValue(d)})`);
  }
  checkSize(op, shape);
  return shape.slice();
}

/**
 * Refuses a shape (of valid dims) whose rank is above MAX_RANK or whose bytes of `dtype` exceed
 * MAX_TENSOR_BYTES, before anything is allocated for it.
 */
export function checkSize(op: string, shape: readonly number[], dtype: keyof typeof DTYPE | 'bool' = 'bool', what = 'shape'): void {
  if (shape.length > MAX_RANK) throw shapeError(op, `${what} ${fmtShape(shape)} has rank ${shape.length}, above the maximum ${MAX_RANK}`);
  const n = sizeOf(shape);
  if (n * DTYPE_BYTES[DTYPE[dtype]] > MAX_TENSOR_BYTES)
    throw new SymtensorError('ERR_ST_ALLOC', op, `${what} ${fmtShape(shape)} (${n} elements of ${dtype}) is too large to allocate (at most ${MAX_TENSOR_BYTES} bytes)`);
}

/** numpy broadcasting of two or more shapes (right-aligned, 1 stretches). */
export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else throw shapeError(op, `shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together`, shapes.map((x) => x.slice()));
    }
  }
  return out;
}

/**
 * broadcastShapes of exactly two shapes (the common case of binary ops), without the rest array
 * and maps; on a mismatch it defers to broadcastShapes, so the error is the same.
 */
export function broadcastPair(op: string, a: readonly number[], b: readonly number[]): number[] {
  const ra = a.length;
  const rb = b.length;
  const rank = ra > rb ? ra : rb;
  const out = new Array<number>(rank);
  for (let o = 0; o < rank; o++) {
    const i = o - rank + ra;
    const j = o - rank + rb;
    const da = i >= 0 ? a[i] : 1;
    const db = j >= 0 ? b[j] : 1;
    if (da === db || db === 1) out[o] = da;
    else if (da === 1) out[o] = db;
    else return broadcastShapes(op, a, b);
  }
  return out;
}

/** Normalizes one axis (negative counts from the end). */
export function normAxis(op: string, axis: number, rank: number): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) throw argError(op, `axis must be an integer, got ${fmtValue(axis)}`);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw argError(op, `axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

/** Normalizes an axis list (undefined/null = all axes), sorted, no duplicates. */
export function normAxes(op: string, axis: number | number[] | undefined | null, rank: number): number[] {
  if (axis === undefined || axis === null) return [...Array(rank).keys()];
  const list = (Array.isArray(axis) ? axis : [axis]).map((a) => normAxis(op, a, rank));
  const sorted = [...new Set(list)].sort((x, y) => x - y);
  if (sorted.length !== list.length) throw argError(op, `axis ${fmtValue(axis)} repeats an axis`);
  return sorted;
}

/**
 * The axes squeeze drops: the given ones, which must have size 1 (an unknown dim passes here and
 * is checked when it is known), or every axis of size 1 when none is given.
 */
export function squeezeAxes(op: string, shape: readonly (number | null)[], axis?: number | number[] | null): number[] {
  if (axis === undefined || axis === null) return shape.flatMap((d, i) => (d === 1 ? [i] : []));
  const drop = (Array.isArray(axis) ? axis : [axis]).map((a) => normAxis(op, a, shape.length));
  for (const a of drop)
    if (shape[a] !== 1 && shape[a] !== null) throw shapeError(op, `cannot squeeze axis ${a} of shape ${fmtShape(shape)}: its size is ${shape[a]}, not 1`);
  return drop;
}
