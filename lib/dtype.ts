import { DTYPE, DTYPE_NAMES } from './ops.generated';

/**
 * Element types: 'float32' | 'float64' | 'int32' | 'bool' (native/ops.def's list).  float32 is
 * the default everywhere.
 */
export type DType = (typeof DTYPE_NAMES)[number];

/** The typed arrays tensor data comes in: Float32Array, Float64Array, Int32Array, and Uint8Array for bool. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPES: readonly DType[] = DTYPE_NAMES;

/** Native dtype codes (st_dtype), generated from native/ops.def. */
export const DTYPE_CODE: Readonly<Record<DType, number>> = DTYPE;

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** The dtype both operands of an arithmetic op are computed in (bool counts as int32). */
export function upcast(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

/** The float dtype a math function of x returns (ints become float32). */
export function floatOf(d: DType): 'float32' | 'float64' {
  return d === 'float64' ? 'float64' : 'float32';
}

export function typedArrayFor(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
    default:
      return new Float32Array(n);
  }
}

/** The dtype a typed array stands for when none is given. */
export function dtypeOfTypedArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'float64';
  return 'int32';
}
