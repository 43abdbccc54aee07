// The eager Tensor: a shape and dtype over a native buffer that may be shared by views
// (reshape, expandDims …).  The buffer is freed when the last view is disposed or collected.
import { DType, DTYPE_CODE, TypedArray } from '../dtype';
import { SymtensorError, fmtShape, wrapNativeError } from '../errors';
import { native, NativeBuffer } from '../native';
import { OP_INFO } from '../ops.generated';
import { sizeOf } from './shape-util';
import { formatTensor } from './format';
import * as ew from './elementwise';
import * as red from './reduction';
import * as la from './linalg';
import * as sh from './shape-ops';
import * as nn from './nn';
import type { NestedArray } from './convert';

/** Shared by a tensor and its views; `views` counts the live (undisposed) ones. */
interface Storage {
  buf: NativeBuffer;
  views: number;
}

/** Anything an op takes where a tensor is expected: numbers become scalars of a fitting dtype. */
export type TensorLike = Tensor | number | boolean | NestedArray | ArrayBufferView;

export class Tensor {
  /** Dimensions, outermost first.  [] for a scalar. */
  readonly shape: number[];
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  private storage: Storage | null;

  /** @internal Use st.tensor() and the creation functions instead. */
  constructor(storage: { buf: NativeBuffer; views: number }, shape: number[], dtype: DType) {
    this.storage = storage;
    storage.views++;
    this.shape = shape;
    this.dtype = dtype;
    this.size = sizeOf(shape);
  }

  /** @internal Wraps a fresh native buffer. */
  static fromNative(buf: NativeBuffer, shape: number[], dtype: DType): Tensor {
    return new Tensor({ buf, views: 0 }, shape, dtype);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.storage === null;
  }

  /** @internal The native buffer; throws a clear error when disposed. */
  buffer(op: string): NativeBuffer {
    if (!this.storage) throw new SymtensorError('ERR_ST_DISPOSED', op, `tensor ${fmtShape(this.shape)} ${this.dtype} is disposed`);
    return this.storage.buf;
  }

  /** @internal A view of the same data with another shape (same size). */
  view(shape: number[], op: string): Tensor {
    this.buffer(op);
    return new Tensor(this.storage!, shape, this.dtype);
  }

  /** Frees the native memory now (idempotent).  Views of the same data stay valid until disposed too. */
  dispose(): void {
    const s = this.storage;
    if (!s) return;
    this.storage = null;
    if (--s.views === 0) native.dispose(s.buf);
  }

  /** The elements as a typed array (a copy): Float32Array, Float64Array, Int32Array or Uint8Array (bool). */
  dataSync(): TypedArray {
    return native.read(this.buffer('dataSync'));
  }

  /** Resolves to the elements as a typed array (a copy). */
  async data(): Promise<TypedArray> {
    return this.dataSync();
  }

  /** The elements as nested arrays (booleans for bool tensors); a scalar gives a number. */
  arraySync(): NestedArray {
    const flat = this.dataSync();
    const get = this.dtype === 'bool' ? (i: number) => flat[i] !== 0 : (i: number) => flat[i];
    if (this.rank === 0) return get(0);
    const build = (dim: number, offset: number, stride: number): NestedArray => {
      const n = this.shape[dim];
      const inner = stride / (n || 1);
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = dim === this.rank - 1 ? get(offset + i) : build(dim + 1, offset + i * inner, inner);
      return out;
    };
    return build(0, 0, this.size);
  }

  async array(): Promise<NestedArray> {
    return this.arraySync();
  }

  /** The single element as a number (boolean for bool). */
  item(): number | boolean {
    if (this.size !== 1) throw new SymtensorError('ERR_ST_SHAPE', 'item', `item() needs exactly one element, tensor has shape ${fmtShape(this.shape)} (${this.size} elements)`);
    const v = this.dataSync()[0];
    return this.dtype === 'bool' ? v !== 0 : v;
  }

  /** numpy-like text, e.g. `tensor([[1, 2], [3, 4]], dtype=float32)`. */
  toString(): string {
    if (!this.storage) return `tensor(<disposed>, shape=${fmtShape(this.shape)}, dtype=${this.dtype})`;
    return formatTensor(this.dataSync(), this.shape, this.dtype);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- ops as methods: each mirrors the st.<op> function of the same name ----
  neg() { return ew.neg(this); }
  abs() { return ew.abs(this); }
  sign() { return ew.sign(this); }
  exp() { return ew.exp(this); }
  expm1() { return ew.expm1(this); }
  log() { return ew.log(this); }
  log1p() { return ew.log1p(this); }
  sqrt() { return ew.sqrt(this); }
  rsqrt() { return ew.rsqrt(this); }
  square() { return ew.square(this); }
  reciprocal() { return ew.reciprocal(this); }
  sin() { return ew.sin(this); }
  cos() { return ew.cos(this); }
  tanh() { return ew.tanh(this); }
  sigmoid() { return ew.sigmoid(this); }
  relu() { return ew.relu(this); }
  leakyRelu(alpha = 0.2) { return ew.leakyRelu(this, alpha); }
  elu(alpha = 1) { return ew.elu(this, alpha); }
  selu() { return ew.selu(this); }
  gelu() { return ew.gelu(this); }
  softplus() { return ew.softplus(this); }
  floor() { return ew.floor(this); }
  ceil() { return ew.ceil(this); }
  round() { return ew.round(this); }
  clip(min: number, max: number) { return ew.clip(this, min, max); }
  isNaN() { return ew.isNaN(this); }
  isFinite() { return ew.isFinite(this); }
  logicalNot() { return ew.logicalNot(this); }
  add(b: TensorLike) { return ew.add(this, b); }
  sub(b: TensorLike) { return ew.sub(this, b); }
  mul(b: TensorLike) { return ew.mul(this, b); }
  div(b: TensorLike) { return ew.div(this, b); }
  pow(b: TensorLike) { return ew.pow(this, b); }
  maximum(b: TensorLike) { return ew.maximum(this, b); }
  minimum(b: TensorLike) { return ew.minimum(this, b); }
  mod(b: TensorLike) { return ew.mod(this, b); }
  equal(b: TensorLike) { return ew.equal(this, b); }
  notEqual(b: TensorLike) { return ew.notEqual(this, b); }
  less(b: TensorLike) { return ew.less(this, b); }
  lessEqual(b: TensorLike) { return ew.lessEqual(this, b); }
  greater(b: TensorLike) { return ew.greater(this, b); }
  greaterEqual(b: TensorLike) { return ew.greaterEqual(this, b); }
  logicalAnd(b: TensorLike) { return ew.logicalAnd(this, b); }
  logicalOr(b: TensorLike) { return ew.logicalOr(this, b); }
  where(a: TensorLike, b: TensorLike) { return ew.where(this, a, b); }
  cast(dtype: DType) { return ew.cast(this, dtype); }

  sum(axis?: number | number[], keepDims = false) { return red.sum(this, axis, keepDims); }
  mean(axis?: number | number[], keepDims = false) { return red.mean(this, axis, keepDims); }
  prod(axis?: number | number[], keepDims = false) { return red.prod(this, axis, keepDims); }
  max(axis?: number | number[], keepDims = false) { return red.max(this, axis, keepDims); }
  min(axis?: number | number[], keepDims = false) { return red.min(this, axis, keepDims); }
  argmax(axis?: number, keepDims = false) { return red.argmax(this, axis, keepDims); }
  argmin(axis?: number, keepDims = false) { return red.argmin(this, axis, keepDims); }
  variance(axis?: number | number[], keepDims = false) { return red.variance(this, axis, keepDims); }
  std(axis?: number | number[], keepDims = false) { return red.std(this, axis, keepDims); }
  logSumExp(axis?: number | number[], keepDims = false) { return red.logSumExp(this, axis, keepDims); }
  all(axis?: number | number[], keepDims = false) { return red.all(this, axis, keepDims); }
  any(axis?: number | number[], keepDims = false) { return red.any(this, axis, keepDims); }

  matmul(b: TensorLike, transposeA = false, transposeB = false) { return la.matmul(this, b, transposeA, transposeB); }
  dot(b: TensorLike) { return la.dot(this, b); }
  outer(b: TensorLike) { return la.outer(this, b); }

  reshape(shape: number[]) { return sh.reshape(this, shape); }
  transpose(perm?: number[]) { return sh.transpose(this, perm); }
  permute(perm: number[]) { return sh.transpose(this, perm); }
  expandDims(axis = 0) { return sh.expandDims(this, axis); }
  squeeze(axis?: number | number[]) { return sh.squeeze(this, axis); }
  flatten() { return sh.flatten(this); }
  slice(begin: number | number[], size?: number | number[]) { return sh.slice(this, begin, size); }
  stridedSlice(begin: (number | null)[], end: (number | null)[], strides?: number[]) { return sh.stridedSlice(this, begin, end, strides); }
  split(numOrSizes: number | number[], axis = 0) { return sh.split(this, numOrSizes, axis); }
  tile(reps: number[]) { return sh.tile(this, reps); }
  pad(paddings: [number, number][], value = 0) { return sh.pad(this, paddings, value); }
  gather(indices: TensorLike, axis = 0) { return sh.gather(this, indices, axis); }
  oneHot(depth: number, onValue = 1, offValue = 0) { return sh.oneHot(this, depth, onValue, offValue); }
  broadcastTo(shape: number[]) { return sh.broadcastTo(this, shape); }

  softmax(axis = -1) { return nn.softmax(this, axis); }
  logSoftmax(axis = -1) { return nn.logSoftmax(this, axis); }
}

/** An output to allocate: dtype and shape. */
export interface OutSpec {
  dtype: DType;
  shape: number[];
}

/**
 * Runs one native instruction on eager tensors and wraps the outputs.  Errors from the kernel are
 * rethrown naming `op` (the user-facing op) with the input shapes and dtypes.
 */
export function execOp(op: string, opcode: number, inputs: Tensor[], outs: OutSpec[], iattr: number[] = [], fattr: number[] = []): Tensor[] {
  const bufs = inputs.map((t) => t.buffer(op));
  let res: NativeBuffer[];
  try {
    res = native.exec(opcode, bufs, inputs.map((t) => t.shape), outs.map((o) => DTYPE_CODE[o.dtype]), outs.map((o) => o.shape), iattr, fattr);
  } catch (e) {
    const ctx = inputs.map((t) => `${fmtShape(t.shape)} ${t.dtype}`).join(', ');
    wrapNativeError(e, op, ctx ? `inputs: ${ctx}; native ${OP_INFO[opcode]?.name ?? opcode}` : '');
  }
  return res.map((b, i) => Tensor.fromNative(b, outs[i].shape, outs[i].dtype));
}
