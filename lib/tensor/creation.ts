// Creating tensors: from JS values, filled, ranges, identity, random (counter-based, seedable).
import { DType, DTYPE_CODE, isDType, typedArrayFor } from '../dtype';
import { SymtensorError, argError, dtypeError } from '../errors';
import { native } from '../native';
import { Op } from '../ops.generated';
import { NestedArray, TensorData, flatten, toTyped } from './convert';
import { checkShape, sizeOf } from './shape-util';
import { Tensor, execOp } from './tensor';

function checkDType(op: string, dtype: unknown, fallback: DType): DType {
  if (dtype === undefined) return fallback;
  if (!isDType(dtype)) throw dtypeError(op, `unknown dtype ${JSON.stringify(dtype)} (use float32, float64, int32 or bool)`);
  return dtype;
}

/**
 * A tensor from a number, boolean, nested array or typed array.
 * @example st.tensor([[1, 2], [3, 4]]); st.tensor(new Float64Array(6), { shape: [2, 3] })
 */
export function tensor(values: TensorData | Tensor, options: { shape?: number[]; dtype?: DType } | DType = {}): Tensor {
  const op = 'tensor';
  // a dtype alone may be given as the second argument: st.tensor([1, 2], 'int32')
  const opts = typeof options === 'string' ? { dtype: options } : options;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
    throw argError(op, `the second argument must be an options object ({ shape, dtype }) or a dtype, got ${Array.isArray(opts) ? `the array ${JSON.stringify(opts)} (pass { shape: [...] })` : String(opts)}`);
  if (values instanceof Tensor) return values.cast(opts.dtype ?? values.dtype).reshape(opts.shape ?? values.shape);
  if (values === null || values === undefined) throw new SymtensorError('ERR_ST_VALUE', op, `expected a number, array or typed array, got ${String(values)}`);
  const isScalar = typeof values === 'number' || typeof values === 'boolean';
  const flat = isScalar ? { shape: [], values: [values as number], dtype: (typeof values === 'boolean' ? 'bool' : 'float32') as DType } : flatten(op, values);
  const dtype = checkDType(op, opts.dtype, flat.dtype);
  let shape = flat.shape;
  if (opts.shape !== undefined) {
    shape = checkShape(op, opts.shape);
    if (sizeOf(shape) !== flat.values.length)
      throw new SymtensorError('ERR_ST_SHAPE', op, `shape ${JSON.stringify(shape)} needs ${sizeOf(shape)} values, got ${flat.values.length}`);
  } else {
    checkShape(op, shape);
  }
  const src = flat.values;
  const direct = (dtype === 'float32' && src instanceof Float32Array) || (dtype === 'float64' && src instanceof Float64Array) || (dtype === 'int32' && src instanceof Int32Array);
  const typed = direct ? (src as unknown as ArrayBufferView) : toTyped(src, dtype);
  return Tensor.fromNative(native.fromTyped(DTYPE_CODE[dtype], typed), shape, dtype);
}

/**
 * A tensor over raw bytes (copied): an ArrayBuffer, Node Buffer or typed array, read as `dtype`.
 * @example st.fromBuffer(fs.readFileSync('w.bin'), [784, 10], 'float32')
 */
export function fromBuffer(buffer: ArrayBuffer | ArrayBufferView, shape: number[], dtype: DType = 'float32'): Tensor {
  const op = 'fromBuffer';
  shape = checkShape(op, shape);
  dtype = checkDType(op, dtype, 'float32');
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : null;
  if (!bytes) throw argError(op, 'expected an ArrayBuffer, Buffer or typed array');
  const n = sizeOf(shape);
  const esize = dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
  if (bytes.byteLength !== n * esize)
    throw new SymtensorError('ERR_ST_SHAPE', op, `${bytes.byteLength} bytes cannot hold shape ${JSON.stringify(shape)} of ${dtype} (${n * esize} bytes needed)`);
  const typed = typedArrayFor(dtype, n);
  new Uint8Array(typed.buffer).set(bytes);
  if (dtype === 'bool') for (let i = 0; i < n; i++) typed[i] = typed[i] ? 1 : 0;
  return Tensor.fromNative(native.fromTyped(DTYPE_CODE[dtype], typed), shape, dtype);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: number[], value: number | boolean, dtype?: DType): Tensor {
  return fill('full', shape, value, dtype);
}

function fill(op: string, shape: number[], value: number | boolean, dtype?: DType): Tensor {
  shape = checkShape(op, shape);
  if (typeof value !== 'number' && typeof value !== 'boolean') throw argError(op, `value must be a number or boolean, got ${typeof value}`);
  const d = checkDType(op, dtype, typeof value === 'boolean' ? 'bool' : 'float32');
  return execOp(op, Op.FILL, [], [{ dtype: d, shape }], [], [Number(value)])[0];
}

export function zeros(shape: number[], dtype: DType = 'float32'): Tensor {
  return fill('zeros', shape, 0, checkDType('zeros', dtype, 'float32'));
}

export function ones(shape: number[], dtype: DType = 'float32'): Tensor {
  return fill('ones', shape, 1, checkDType('ones', dtype, 'float32'));
}

/** zeros/ones shaped like x. */
export function zerosLike(x: Tensor): Tensor {
  return zeros(x.shape, x.dtype);
}
export function onesLike(x: Tensor): Tensor {
  return ones(x.shape, x.dtype);
}

/**
 * Evenly spaced values in [start, stop), numpy's arange: arange(5), arange(1, 10, 2).
 * dtype defaults to float32 (int32 when every argument is an integer and dtype is 'int32').
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  const op = 'arange';
  if (stop === undefined) [start, stop] = [0, start];
  for (const [k, v] of [['start', start], ['stop', stop], ['step', step]] as const)
    if (typeof v !== 'number' || !Number.isFinite(v)) throw argError(op, `${k} must be a finite number, got ${String(v)}`);
  if (step === 0) throw argError(op, 'step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return execOp(op, Op.RANGE, [], [{ dtype: checkDType(op, dtype, 'float32'), shape: [n] }], [], [start, step])[0];
}

/** num evenly spaced values from start to stop inclusive. */
export function linspace(start: number, stop: number, num: number, dtype: DType = 'float32'): Tensor {
  const op = 'linspace';
  if (!Number.isInteger(num) || num < 0) throw argError(op, `num must be a non-negative integer, got ${num}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw argError(op, 'start and stop must be finite numbers');
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  return execOp(op, Op.RANGE, [], [{ dtype: checkDType(op, dtype, 'float32'), shape: [num] }], [], [start, step])[0];
}

/** An n x m matrix with ones on diagonal k. */
export function eye(n: number, m?: number, opts: { k?: number; dtype?: DType } = {}): Tensor {
  const op = 'eye';
  const shape = checkShape(op, [n, m ?? n]);
  const k = opts.k ?? 0;
  if (!Number.isInteger(k)) throw argError(op, `k must be an integer, got ${k}`);
  return execOp(op, Op.EYE, [], [{ dtype: checkDType(op, opts.dtype, 'float32'), shape }], [k])[0];
}

// Unseeded draws come from one process-wide stream: a random key and a counter that advances by
// the number of elements drawn, so successive calls never repeat.
const globalStream = { seed: Math.floor(Math.random() * 2 ** 52), counter: 0 };

function streamFor(op: string, seed: number | undefined, n: number): [number, number] {
  if (seed !== undefined) {
    if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) throw argError(op, `seed must be a non-negative integer, got ${seed}`);
    return [seed, 0];
  }
  const at = globalStream.counter;
  globalStream.counter += n;
  if (globalStream.counter > 2 ** 52) Object.assign(globalStream, { seed: Math.floor(Math.random() * 2 ** 52), counter: 0 });
  return [globalStream.seed, at];
}

/**
 * Uniform samples in [low, high).  The same seed gives the same numbers on any thread count.
 * @example st.randomUniform([2, 3], { low: -1, high: 1, seed: 42 })
 */
export function randomUniform(shape: number[], opts: { low?: number; high?: number; dtype?: DType; seed?: number } = {}): Tensor {
  const op = 'randomUniform';
  shape = checkShape(op, shape);
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  if (!(low <= high)) throw argError(op, `low (${low}) must not exceed high (${high})`);
  const dtype = checkDType(op, opts.dtype, 'float32');
  if (dtype === 'bool') throw dtypeError(op, 'cannot draw bool samples; use randomUniform(...).less(p)');
  return execOp(op, Op.RANDOM_UNIFORM, [], [{ dtype, shape }], streamFor(op, opts.seed, sizeOf(shape)), [low, high])[0];
}

/** Normal samples with the given mean and standard deviation. */
export function randomNormal(shape: number[], opts: { mean?: number; stddev?: number; dtype?: DType; seed?: number } = {}): Tensor {
  const op = 'randomNormal';
  shape = checkShape(op, shape);
  const mean = opts.mean ?? 0;
  const stddev = opts.stddev ?? 1;
  if (!(stddev >= 0)) throw argError(op, `stddev must be >= 0, got ${stddev}`);
  const dtype = checkDType(op, opts.dtype, 'float32');
  if (dtype !== 'float32' && dtype !== 'float64') throw dtypeError(op, `normal samples need a float dtype, got ${dtype}`);
  return execOp(op, Op.RANDOM_NORMAL, [], [{ dtype, shape }], streamFor(op, opts.seed, sizeOf(shape)), [mean, stddev])[0];
}

export type { NestedArray };
