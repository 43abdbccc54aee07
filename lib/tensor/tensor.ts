// The eager Tensor: a shape and dtype over a native buffer that may be shared by views
// (reshape, expandDims …).  The buffer is freed when the last view is disposed or collected.
// Results of at most 64 bytes (losses, metrics, scalars) hold a typed array instead, which V8
// owns and collects like any JS value: see NativeBuffer in lib/native.ts.
import { DType, DTYPE_CODE, TypedArray, typedArrayFor } from '../dtype';
import { SymtensorError, fmtShape, wrapNativeError } from '../errors';
import { getHeapStatistics } from 'node:v8';
import { native, NativeBuffer } from '../native';
import { OP_INFO } from '../ops.generated';
import { checkSize, sizeOf } from './shape-util';
import { formatTensor } from './format';
import * as ew from './elementwise';
import * as red from './reduction';
import * as la from './linalg';
import * as sh from './shape-ops';
import * as nn from './nn';
import type { NestedArray } from './convert';
import { MethodsOf, installMethods } from './method-list';

/** Shared by a tensor and its views; `views` counts the live (undisposed) ones. */
interface Storage {
  /**
   * The data; null for a one-element result held in `value` until something needs it as an
   * array (a dropped or item()-read scalar, such as a loss, then never makes one: ~200 B of JS
   * heap less per call).
   */
  buf: NativeBuffer | null;
  /** The element of a one-element result whose buf is null. */
  value: number;
  views: number;
}

/** A JS-owned buffer (a typed array) rather than a native one. */
const isOwnedByJs = (buf: NativeBuffer): buf is TypedArray => ArrayBuffer.isView(buf);

/** Anything an op takes where a tensor is expected: numbers become scalars of a fitting dtype. */
export type TensorLike = Tensor | number | boolean | NestedArray | ArrayBufferView;

/** The typed array each dtype's data comes back in (dataSync, data). */
export interface TypedArrayOfDType {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** The typed array of a dtype: Float32Array for 'float32' …; the union when the dtype is not known. */
export type TypedArrayOf<D extends DType> = TypedArrayOfDType[D];

/**
 * What item() gives for a dtype: boolean for a tensor known to be bool, number otherwise.  A
 * tensor whose dtype is not known statically (`Tensor`, the default) is typed as numeric, since
 * losses and metrics are; a bool tensor still gives a boolean at run time — check `t.dtype`, or
 * type it `Tensor<'bool'>`.
 */
export type ItemOf<D extends DType> = [D] extends ['bool'] ? boolean : number;

/**
 * An eager tensor.  `D` is its dtype where the type system knows it (`Tensor<'float32'>`), so
 * `dataSync()` gives the matching typed array; plain `Tensor` is any dtype.
 */
export class Tensor<D extends DType = DType> {
  /** Dimensions, outermost first.  [] for a scalar. */
  readonly shape: number[];
  readonly dtype: D;
  /** Number of elements. */
  readonly size: number;
  private storage: Storage | null;

  /** @internal Use st.tensor() and the creation functions instead. */
  constructor(storage: Storage, shape: number[], dtype: D) {
    this.storage = storage;
    storage.views++;
    this.shape = shape;
    this.dtype = dtype;
    this.size = sizeOf(shape);
  }

  /**
   * @internal Wraps a buffer the addon returned.  A typed array (a small result) is a view of a
   * staging area: `staged` (the default) when the next call overwrites it, so it is copied now;
   * false when the area is this result's own (an async run's), so the view is kept as it is.  A
   * one-element result keeps just its value (see Storage).
   */
  static fromNative(buf: NativeBuffer, shape: number[], dtype: DType, staged = true): Tensor {
    if (!isOwnedByJs(buf)) return new Tensor({ buf, value: 0, views: 0 }, shape, dtype);
    if (buf.length === 1) return new Tensor({ buf: null, value: buf[0], views: 0 }, shape, dtype);
    return new Tensor({ buf: staged ? buf.slice() : buf, value: 0, views: 0 }, shape, dtype);
  }

  /** The shape: the name symbolic Variables give what they know of theirs, so code can take either. */
  get staticShape(): number[] {
    return this.shape;
  }

  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** True once dispose() was called (or the memory was reclaimed). */
  get isDisposed(): boolean {
    return this.storage === null;
  }

  /** @internal The native buffer; throws a clear error when disposed. */
  buffer(op: string): NativeBuffer {
    const s = this.storage;
    if (!s) throw new SymtensorError('ERR_ST_DISPOSED', op, `tensor ${fmtShape(this.shape)} ${this.dtype} is disposed`);
    if (s.buf === null) (s.buf = typedArrayFor(this.dtype, 1))[0] = s.value;
    return s.buf;
  }

  /** @internal A view of the same data with another shape (same size). */
  view(shape: number[], op: string): Tensor<D> {
    this.buffer(op);
    return new Tensor(this.storage!, shape, this.dtype);
  }

  /** Frees the native memory now (idempotent).  Views of the same data stay valid until disposed too. */
  dispose(): void {
    const s = this.storage;
    if (!s) return;
    this.storage = null;
    // a JS-owned buffer goes with its last reference, like any JS value
    if (--s.views === 0 && s.buf !== null && !isOwnedByJs(s.buf)) native.dispose(s.buf);
  }

  /**
   * The elements as a typed array (a copy): Float32Array, Float64Array, Int32Array or Uint8Array
   * (bool); typed as the one for D when the dtype is known (`Tensor<'float32'>` gives Float32Array).
   */
  dataSync(): TypedArrayOf<D> {
    return this.read('dataSync') as TypedArrayOf<D>;
  }

  /** A copy of the data for `op`; out of memory is ERR_ST_ALLOC naming op, never a crash. */
  private read(op: string): TypedArray {
    const s = this.storage;
    if (s !== null && s.buf === null) {
      const one = typedArrayFor(this.dtype, 1);
      one[0] = s.value;
      return one;
    }
    const buf = this.buffer(op);
    if (isOwnedByJs(buf)) return buf.slice();
    try {
      return native.read(buf);
    } catch (e) {
      wrapNativeError(e, op, `tensor ${fmtShape(this.shape)} ${this.dtype}`);
    }
  }

  /** Resolves to the elements as a typed array (a copy), typed like dataSync(). */
  async data(): Promise<TypedArrayOf<D>> {
    return this.read('data') as TypedArrayOf<D>;
  }

  /** The elements as nested arrays (booleans for bool tensors); a scalar gives a number. */
  arraySync(): NestedArray {
    return this.nested('arraySync');
  }

  /** The values as nested JS arrays (numbers, or booleans for bool tensors). */
  async array(): Promise<NestedArray> {
    return this.nested('array');
  }

  private nested(op: string): NestedArray {
    // JS arrays live on V8's heap, whose exhaustion kills the process: refuse what cannot fit
    const need = this.size * 8 + Math.ceil(this.size / Math.max(1, this.shape[this.rank - 1] ?? 1)) * 32;
    const heap = getHeapStatistics();
    if (need > heap.heap_size_limit - heap.used_heap_size)
      throw new SymtensorError('ERR_ST_ALLOC', op, `${this.size} elements of ${fmtShape(this.shape)} do not fit the JS heap as nested arrays (about ${need} bytes needed, ${heap.heap_size_limit - heap.used_heap_size} available); read them with dataSync()`);
    const flat = this.read(op);
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

  /**
   * The single element as a number (a boolean for bool tensors; see ItemOf for how it is typed).
   * @example const loss = (await train(x, y)).item(); total += loss;
   */
  item(): ItemOf<D> {
    if (this.size !== 1) throw new SymtensorError('ERR_ST_SHAPE', 'item', `item() needs exactly one element, tensor has shape ${fmtShape(this.shape)} (${this.size} elements)`);
    const s = this.storage;
    let v: number;
    if (s !== null && s.buf === null) {
      v = s.value;
    } else {
      const buf = this.buffer('item');
      v = isOwnedByJs(buf) ? buf[0] : this.read('item')[0];
    }
    return (this.dtype === 'bool' ? v !== 0 : v) as ItemOf<D>;
  }

  /** numpy-like text, e.g. `tensor([[1, 2], [3, 4]], dtype=float32)`. */
  toString(): string {
    if (!this.storage) return `tensor(<disposed>, shape=${fmtShape(this.shape)}, dtype=${this.dtype})`;
    return formatTensor(this.read('toString'), this.shape, this.dtype);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The eager op functions; Tensor's methods mirror them (st.add(a, b) ≡ a.add(b)). */
type EagerOps = typeof ew & typeof red & typeof la & typeof sh & typeof nn;

// ops as methods, from the one list in method-list.ts
export interface Tensor<D extends DType = DType> extends MethodsOf<EagerOps> {}
installMethods(Tensor.prototype, () => ({ ...ew, ...red, ...la, ...sh, ...nn }));

/** An output to allocate: dtype and shape. */
export interface OutSpec {
  dtype: DType;
  shape: number[];
}

/**
 * Runs one native instruction on eager tensors and wraps the outputs.  Errors from the kernel are
 * rethrown naming `op` (the user-facing op) with the input shapes and dtypes.
 */
export function execOp(op: string, opcode: number, inputs: Tensor[], outs: OutSpec[], iattr: number[] = NO_ATTRS, fattr: number[] = NO_ATTRS): Tensor[] {
  const nIn = inputs.length;
  const nOut = outs.length;
  // native.exec copies what it reads and keeps none of these arrays: one set per arity serves
  // every call (a call made while another is inside native.exec gets fresh ones)
  const scratch = execBusy ? null : execArgs(nIn, nOut);
  const bufs: NativeBuffer[] = scratch ? scratch.bufs : new Array(nIn);
  const inShapes: number[][] = scratch ? scratch.inShapes : new Array(nIn);
  const outDtypes: number[] = scratch ? scratch.outDtypes : new Array(nOut);
  const outShapes: number[][] = scratch ? scratch.outShapes : new Array(nOut);
  let res: NativeBuffer[];
  try {
    for (let i = 0; i < nIn; i++) {
      const t = inputs[i];
      bufs[i] = t.buffer(op);
      inShapes[i] = t.shape;
    }
    for (let i = 0; i < nOut; i++) {
      const o = outs[i];
      checkSize(op, o.shape, o.dtype, 'result');
      outDtypes[i] = DTYPE_CODE[o.dtype];
      outShapes[i] = o.shape;
    }
    if (scratch) execBusy = true;
    try {
      res = native.exec(opcode, bufs, inShapes, outDtypes, outShapes, iattr, fattr);
    } catch (e) {
      const ctx = inputs.map((t) => `${fmtShape(t.shape)} ${t.dtype}`).join(', ');
      wrapNativeError(e, op, ctx ? `inputs: ${ctx}; native ${OP_INFO[opcode]?.name ?? opcode}` : '');
    }
  } finally {
    if (scratch) {
      execBusy = false;
      // drop the references, so a reused array never keeps a buffer alive
      bufs.fill(EMPTY_BUF);
      inShapes.fill(NO_ATTRS);
      outShapes.fill(NO_ATTRS);
    }
  }
  // the addon's fresh result array becomes the tensor array
  const tensors = res as unknown as Tensor[];
  for (let i = 0; i < nOut; i++) tensors[i] = Tensor.fromNative(res[i], outs[i].shape, outs[i].dtype);
  return tensors;
}

/** The default (empty) attribute list; never written to. */
export const NO_ATTRS = Object.freeze([]) as unknown as number[];
/** A placeholder in emptied argument arrays. */
export const EMPTY_BUF = new Uint8Array(0);

/** native.exec's argument arrays for nIn inputs and nOut outputs. */
interface ExecArgs {
  bufs: NativeBuffer[];
  inShapes: number[][];
  outDtypes: number[];
  outShapes: number[][];
}
let execBusy = false;
const execArgsCache = new Map<number, ExecArgs>();

/** The reusable argument arrays for an arity (up to 16 inputs and 16 outputs), else null. */
function execArgs(nIn: number, nOut: number): ExecArgs | null {
  if (nIn > 16 || nOut > 16) return null;
  const key = nIn * 17 + nOut;
  let a = execArgsCache.get(key);
  if (a === undefined) {
    a = { bufs: new Array(nIn).fill(EMPTY_BUF), inShapes: new Array(nIn).fill(NO_ATTRS), outDtypes: new Array(nOut).fill(0), outShapes: new Array(nOut).fill(NO_ATTRS) };
    execArgsCache.set(key, a);
  }
  return a;
}
