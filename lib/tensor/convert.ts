// JS values -> flat typed data + shape, with clear errors for ragged or non-numeric input.
import { DType, TypedArray, dtypeOfTypedArray, typedArrayFor } from '../dtype';
import { SymtensorError, argError, fmtValue } from '../errors';

/** A number, a boolean, or (nested) arrays of them: the JS form of tensor values. */
export type NestedArray = number | boolean | NestedArray[] | readonly NestedArray[];
/** What tensors are made from: nested arrays or a typed array. */
export type TensorData = NestedArray | ArrayBufferView;

export interface Flat {
  shape: number[];
  values: ArrayLike<number> | ArrayLike<boolean>;
  dtype: DType;
}

function inferShape(op: string, v: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  if (ArrayBuffer.isView(cur)) shape.push((cur as TypedArray).length);
  return shape;
}

/** Flattens a nested array checking every level has the same length and every leaf is a number/boolean. */
export function flatten(op: string, v: unknown): Flat {
  if (ArrayBuffer.isView(v)) {
    const ta = v as unknown as ArrayLike<number>;
    return { shape: [ta.length], values: ta, dtype: dtypeOfTypedArray(v) };
  }
  const shape = inferShape(op, v);
  const out: (number | boolean)[] = [];
  let sawBool = false;
  let sawNumber = false;
  const walk = (x: unknown, depth: number, where: number[]) => {
    if (depth === shape.length) {
      if (typeof x === 'number') sawNumber = true;
      else if (typeof x === 'boolean') sawBool = true;
      else {
        const at = where.length ? ` at [${where.join('][')}]` : '';
        throw new SymtensorError('ERR_ST_VALUE', op, `expected a number or boolean${at}, got ${Array.isArray(x) ? 'an array (ragged nesting)' : `${typeof x === 'string' ? 'the string ' : ''}${fmtValue(x)}`}`);
      }
      out.push(x as number | boolean);
      return;
    }
    const isView = ArrayBuffer.isView(x);
    if (!Array.isArray(x) && !isView) {
      throw new SymtensorError('ERR_ST_VALUE', op, `ragged nested array: expected an array of length ${shape[depth]} at [${where.join('][')}], got ${fmtValue(x)}`);
    }
    const arr = x as ArrayLike<unknown>;
    if (arr.length !== shape[depth]) {
      throw new SymtensorError('ERR_ST_VALUE', op, `ragged nested array: length ${arr.length} at [${where.join('][')}] but ${shape[depth]} elsewhere (shape [${shape.join(',')}])`);
    }
    for (let i = 0; i < arr.length; i++) walk(arr[i], depth + 1, [...where, i]);
  };
  walk(v, 0, []);
  return { shape, values: out as ArrayLike<number>, dtype: sawBool && !sawNumber ? 'bool' : 'float32' };
}

/**
 * A typed array of `n` elements, or ERR_ST_ALLOC (V8 refuses large arrays with a RangeError; the
 * caller's op is named instead).
 */
export function allocTyped(op: string, dtype: DType, n: number): TypedArray {
  try {
    return typedArrayFor(dtype, n);
  } catch (e) {
    throw new SymtensorError('ERR_ST_ALLOC', op, `cannot allocate ${n} elements of ${dtype} in JS (${(e as Error).message})`);
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Converts JS values to a typed array of `dtype` (int32 truncates fractions toward zero; bool: != 0).
 * A value int32 cannot hold (NaN, ±Infinity, outside [-2^31, 2^31)) is an error: an Int32Array
 * would silently wrap it.
 */
export function toTyped(values: ArrayLike<number> | ArrayLike<boolean>, dtype: DType, op = 'tensor'): TypedArray {
  const n = values.length;
  const out = allocTyped(op, dtype, n);
  if (dtype === 'bool') {
    for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
  } else {
    const isInt = dtype === 'int32';
    for (let i = 0; i < n; i++) {
      const x = values[i];
      const v = typeof x === 'boolean' ? (x ? 1 : 0) : (x as number);
      if (isInt && !(v >= INT32_MIN && v < INT32_MAX + 1))
        throw new SymtensorError('ERR_ST_VALUE', op, `value ${v} at flat index ${i} does not fit int32`);
      out[i] = v;
    }
  }
  return out;
}

/**
 * Indices from JS values: every one an integer in int32's range, or an error naming the first
 * that is not (fractions, NaN and values beyond 2^31 would otherwise select a wrong element).
 */
export function toIndices(op: string, values: ArrayLike<number> | ArrayLike<boolean>, what = 'indices'): Int32Array {
  const n = values.length;
  const out = allocTyped(op, 'int32', n) as Int32Array;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX)
      throw new SymtensorError(what === 'indices' ? 'ERR_ST_INDEX' : 'ERR_ST_VALUE', op, `${what} must be integers in [-2^31, 2^31), got ${fmtValue(v)} at flat index ${i}`);
    out[i] = v;
  }
  return out;
}

export function checkNumber(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw argError(op, `${name} must be a number, got ${fmtValue(v)}`);
  return v;
}
