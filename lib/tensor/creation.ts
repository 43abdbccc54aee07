// Creating tensors: from JS values, filled, ranges, identity, random (counter-based, seedable).
import { DType, DTYPE_CODE, isDType } from '../dtype';
import { SymtensorError, argError, checkOptionKeys, dtypeError, fmtShape, fmtValue, wrapNativeError } from '../errors';
import { native } from '../native';
import { Op } from '../ops.generated';
import { NestedArray, TensorData, allocTyped, flatten, toIndices, toTyped } from './convert';
import { checkShape, sizeOf } from './shape-util';
import { Tensor, execOp } from './tensor';

function checkDType(op: string, dtype: unknown, fallback: DType): DType {
  if (dtype === undefined) return fallback;
  if (!isDType(dtype)) throw dtypeError(op, `unknown dtype ${fmtValue(dtype)} (use float32, float64, int32 or bool)`);
  return dtype;
}

/**
 * A tensor from a number, boolean, nested array or typed array.
 * @example st.tensor([[1, 2], [3, 4]]); st.tensor(new Float64Array(6), { shape: [2, 3] })
 */
export function tensor(values: TensorData | Tensor, options: { shape?: number[]; dtype?: DType } | DType = {}): Tensor {
  return tensorFrom('tensor', values, options);
}

/** tensor(), reporting errors as `op`'s: the conversion of an op's argument names the op. */
function tensorFrom(op: string, values: unknown, options: { shape?: number[]; dtype?: DType } | DType = {}): Tensor {
  // a dtype alone may be given as the second argument: st.tensor([1, 2], 'int32')
  const opts = typeof options === 'string' ? { dtype: options } : options;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
    throw argError(op, `the second argument must be an options object ({ shape, dtype }) or a dtype, got ${Array.isArray(opts) ? `the array ${fmtValue(opts)} (pass { shape: [...] })` : fmtValue(opts)}`);
  checkOptionKeys(op, opts, ['shape', 'dtype']);
  if (values instanceof Tensor) {
    const dtype = checkDType(op, opts.dtype, values.dtype);
    return values.cast(dtype).reshape(opts.shape === undefined ? values.shape : checkShape(op, opts.shape));
  }
  const isScalar = typeof values === 'number' || typeof values === 'boolean';
  if (!isScalar && !Array.isArray(values) && !ArrayBuffer.isView(values))
    throw new SymtensorError('ERR_ST_VALUE', op, `expected a tensor, number, boolean, nested array or typed array, got ${fmtValue(values)}`);
  const flat = isScalar ? { shape: [], values: [values as number], dtype: (typeof values === 'boolean' ? 'bool' : 'float32') as DType } : flatten(op, values);
  const dtype = checkDType(op, opts.dtype, flat.dtype);
  let shape = flat.shape;
  if (opts.shape !== undefined) {
    shape = checkShape(op, opts.shape);
    if (sizeOf(shape) !== flat.values.length)
      throw new SymtensorError('ERR_ST_SHAPE', op, `shape ${fmtShape(shape)} needs ${sizeOf(shape)} values, got ${flat.values.length}`);
  } else {
    checkShape(op, shape);
  }
  const src = flat.values;
  const direct = (dtype === 'float32' && src instanceof Float32Array) || (dtype === 'float64' && src instanceof Float64Array) || (dtype === 'int32' && src instanceof Int32Array);
  const typed = direct ? (src as unknown as ArrayBufferView) : toTyped(src, dtype, op);
  return fromTypedArray(op, typed, shape, dtype);
}

/** A tensor holding a copy of `typed`, allocation failures reported as `op`'s. */
function fromTypedArray(op: string, typed: ArrayBufferView, shape: number[], dtype: DType): Tensor {
  let buf;
  try {
    buf = native.fromTyped(DTYPE_CODE[dtype], typed);
  } catch (e) {
    wrapNativeError(e, op, '');
  }
  return Tensor.fromNative(buf, shape, dtype);
}

/**
 * An op's tensor argument: a tensor as it is, anything else converted (errors name `op` and the
 * argument), optionally to `dtype`.
 */
export function asTensor(op: string, x: unknown, dtype?: DType, what = 'argument'): Tensor {
  if (x instanceof Tensor) return x;
  try {
    return tensorFrom(op, x, dtype ? { dtype } : {});
  } catch (e) {
    if (e instanceof SymtensorError && e.op === op) throw new SymtensorError(e.code, op, `${what}: ${e.message.slice(op.length + 2)}`, { shapes: e.shapes });
    throw e;
  }
}

/**
 * An op's indices: an int32 tensor as it is (a tensor of another dtype is an error, eager and
 * symbolic alike), or JS numbers that must all be integers in int32's range.
 */
export function indexTensor(op: string, x: unknown, what = 'indices'): Tensor {
  if (x instanceof Tensor) {
    if (x.dtype !== 'int32') throw dtypeError(op, `${what} must be int32, got a ${x.dtype} tensor (use .cast('int32'))`);
    return x;
  }
  if (typeof x === 'number') return fromTypedArray(op, toIndices(op, [x], what), [], 'int32');
  if (!Array.isArray(x) && !ArrayBuffer.isView(x))
    throw new SymtensorError('ERR_ST_VALUE', op, `${what} must be a tensor, a number or a nested array of integers, got ${fmtValue(x)}`);
  const flat = flatten(op, x);
  checkShape(op, flat.shape);
  return fromTypedArray(op, toIndices(op, flat.values, what), flat.shape, 'int32');
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
    throw new SymtensorError('ERR_ST_SHAPE', op, `${bytes.byteLength} bytes cannot hold shape ${fmtShape(shape)} of ${dtype} (${n * esize} bytes needed)`);
  const typed = allocTyped(op, dtype, n);
  new Uint8Array(typed.buffer).set(bytes);
  if (dtype === 'bool') for (let i = 0; i < n; i++) typed[i] = typed[i] ? 1 : 0;
  return fromTypedArray(op, typed, shape, dtype);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: number[], value: number | boolean, dtype?: DType): Tensor {
  return fill('full', shape, value, dtype);
}

function fill(op: string, shape: number[], value: number | boolean, dtype?: DType): Tensor {
  shape = checkShape(op, shape);
  if (typeof value !== 'number' && typeof value !== 'boolean') throw argError(op, `value must be a number or boolean, got ${fmtValue(value)}`);
  const d = checkDType(op, dtype, typeof value === 'boolean' ? 'bool' : 'float32');
  return execOp(op, Op.FILL, [], [{ dtype: d, shape }], [], [Number(value)])[0];
}

/**
 * A tensor of zeros (float32 unless dtype says otherwise).
 * @example st.zeros([2, 3])
 */
export function zeros(shape: number[], dtype: DType = 'float32'): Tensor {
  return fill('zeros', shape, 0, checkDType('zeros', dtype, 'float32'));
}

/** A tensor of ones (float32 unless dtype says otherwise). */
export function ones(shape: number[], dtype: DType = 'float32'): Tensor {
  return fill('ones', shape, 1, checkDType('ones', dtype, 'float32'));
}

/** zeros/ones shaped like x. */
export function zerosLike(x: Tensor): Tensor {
  const t = asTensor('zerosLike', x);
  return fill('zerosLike', t.shape, 0, t.dtype);
}
/** A tensor of ones with x's shape and dtype. */
export function onesLike(x: Tensor): Tensor {
  const t = asTensor('onesLike', x);
  return fill('onesLike', t.shape, 1, t.dtype);
}

/**
 * Evenly spaced values in [start, stop), numpy's arange: arange(5), arange(1, 10, 2).
 * dtype defaults to float32 (int32 when every argument is an integer and dtype is 'int32').
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  const op = 'arange';
  if (stop === undefined) [start, stop] = [0, start];
  for (const [k, v] of [['start', start], ['stop', stop], ['step', step]] as const)
    if (typeof v !== 'number' || !Number.isFinite(v)) throw argError(op, `${k} must be a finite number, got ${fmtValue(v)}`);
  if (step === 0) throw argError(op, 'step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return execOp(op, Op.RANGE, [], [{ dtype: checkDType(op, dtype, 'float32'), shape: [n] }], [], [start, step])[0];
}

/** num evenly spaced values from start to stop inclusive. */
export function linspace(start: number, stop: number, num: number, dtype: DType = 'float32'): Tensor {
  const op = 'linspace';
  if (!Number.isInteger(num) || num < 0) throw argError(op, `num must be a non-negative integer, got ${fmtValue(num)}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw argError(op, 'start and stop must be finite numbers');
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  return execOp(op, Op.RANGE, [], [{ dtype: checkDType(op, dtype, 'float32'), shape: [num] }], [], [start, step])[0];
}

/** An n x m matrix with ones on diagonal k. */
export function eye(n: number, m?: number, opts: { k?: number; dtype?: DType } = {}): Tensor {
  const op = 'eye';
  const shape = checkShape(op, [n, m ?? n]);
  const k = opts.k ?? 0;
  if (!Number.isInteger(k)) throw argError(op, `k must be an integer, got ${fmtValue(k)}`);
  return execOp(op, Op.EYE, [], [{ dtype: checkDType(op, opts.dtype, 'float32'), shape }], [k])[0];
}

// Unseeded draws come from one process-wide stream: a random key and a counter that advances by
// the number of elements drawn, so successive calls never repeat.
const globalStream = { seed: Math.floor(Math.random() * 2 ** 52), counter: 0 };

function streamFor(op: string, seed: number | undefined, n: number): [number, number] {
  if (seed !== undefined) {
    if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) throw argError(op, `seed must be a non-negative integer, got ${fmtValue(seed)}`);
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
  opts = checkOptionKeys(op, opts, ['low', 'high', 'dtype', 'seed']);
  checkBound(op, 'low', opts.low);
  checkBound(op, 'high', opts.high);
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  if (!(low <= high)) throw argError(op, `low (${low}) must not exceed high (${high})`);
  const dtype = checkDType(op, opts.dtype, 'float32');
  if (dtype === 'bool') throw dtypeError(op, 'cannot draw bool samples; use randomUniform(...).less(p)');
  return execOp(op, Op.RANDOM_UNIFORM, [], [{ dtype, shape }], streamFor(op, opts.seed, sizeOf(shape)), [low, high])[0];
}

/** A numeric option of the random functions: a number when given. */
function checkBound(op: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'number') throw argError(op, `${name} must be a number, got ${fmtValue(v)}`);
}

/** Normal samples with the given mean and standard deviation. */
export function randomNormal(shape: number[], opts: { mean?: number; stddev?: number; dtype?: DType; seed?: number } = {}): Tensor {
  const op = 'randomNormal';
  shape = checkShape(op, shape);
  opts = checkOptionKeys(op, opts, ['mean', 'stddev', 'dtype', 'seed']);
  checkBound(op, 'mean', opts.mean);
  checkBound(op, 'stddev', opts.stddev);
  const mean = opts.mean ?? 0;
  const stddev = opts.stddev ?? 1;
  if (!(stddev >= 0)) throw argError(op, `stddev must be >= 0, got ${fmtValue(stddev)}`);
  const dtype = checkDType(op, opts.dtype, 'float32');
  if (dtype !== 'float32' && dtype !== 'float64') throw dtypeError(op, `normal samples need a float dtype, got ${dtype}`);
  return execOp(op, Op.RANDOM_NORMAL, [], [{ dtype, shape }], streamFor(op, opts.seed, sizeOf(shape)), [mean, stddev])[0];
}

export type { NestedArray };
