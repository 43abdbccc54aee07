// JS values -> flat typed data + shape, with clear errors for ragged or non-numeric input.
import { DType, TypedArray, dtypeOfTypedArray, typedArrayFor } from '../dtype';
import { SymtensorError, argError } from '../errors';

export type NestedArray = number | boolean | NestedArray[] | readonly NestedArray[];
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
        throw new SymtensorError('ERR_ST_VALUE', op, `expected a number or boolean${at}, got ${x === null ? 'null' : typeof x === 'object' ? (Array.isArray(x) ? 'an array (ragged nesting)' : 'an object') : typeof x} ${typeof x === 'string' ? JSON.stringify(x) : ''}`.trimEnd());
      }
      out.push(x as number | boolean);
      return;
    }
    const isView = ArrayBuffer.isView(x);
    if (!Array.isArray(x) && !isView) {
      throw new SymtensorError('ERR_ST_VALUE', op, `ragged nested array: expected an array of length ${shape[depth]} at [${where.join('][')}], got ${typeof x === 'number' ? 'a number' : typeof x}`);
    }
    const arr = x as ArrayLike<unknown>;
    if (arr.length !== shape[depth]) {
      throw new SymtensorError('ERR_ST_VALUE', op, `ragged nested array: length ${arr.length} at [${where.join('][')}] but ${shape[depth]} elsewhere (shape ${JSON.stringify(shape)})`);
    }
    for (let i = 0; i < arr.length; i++) walk(arr[i], depth + 1, [...where, i]);
  };
  walk(v, 0, []);
  return { shape, values: out as ArrayLike<number>, dtype: sawBool && !sawNumber ? 'bool' : 'float32' };
}

/** Converts JS values to a typed array of `dtype` (int32 truncates toward zero, NaN -> 0; bool: != 0). */
export function toTyped(values: ArrayLike<number> | ArrayLike<boolean>, dtype: DType): TypedArray {
  const n = values.length;
  const out = typedArrayFor(dtype, n);
  if (dtype === 'bool') {
    for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
  } else {
    for (let i = 0; i < n; i++) {
      const x = values[i];
      out[i] = typeof x === 'boolean' ? (x ? 1 : 0) : (x as number);
    }
  }
  return out;
}

export function checkNumber(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw argError(op, `${name} must be a number, got ${typeof v}`);
  return v;
}
