// The eager Tensor: a shape and dtype over a native buffer that may be shared by views
// (reshape, expandDims …).  The buffer is freed when the last view is disposed or collected.
// Results of at most 64 bytes (losses, metrics, scalars) hold a typed array instead, which V8
// owns and collects like any JS value: see NativeBuffer in lib/native.ts.  A large elementwise
// result may hand its block to the op that consumes it and keep the recipe to compute itself
// again (see "Reusing a temporary's block" below).
import { DType, DTYPE_CODE, TypedArray, typedArrayFor } from '../dtype';
import { SymtensorError, fmtShape, wrapNativeError } from '../errors';
import { getHeapStatistics } from 'node:v8';
import { native, NativeBuffer } from '../native';
import { OP_INFO, Op } from '../ops.generated';
import { checkSize, shapesEqual, sizeOf } from './shape-util';
import { formatTensor } from './format';
import * as ew from './elementwise';
import * as red from './reduction';
import * as la from './linalg';
import * as sh from './shape-ops';
import * as nn from './nn';
import type { NestedArray } from './convert';
import { MethodsOf, installMethods } from './method-list';
import { EwInner, ewSubstitute } from './ew-builder';

/** @internal Shared by a tensor and its views; `views` counts the live (undisposed) ones. */
export interface Storage {
  /**
   * The data; null for a one-element result held in `value` until something needs it as an
   * array (a dropped or item()-read scalar, such as a loss, then never makes one: ~200 B of JS
   * heap less per call), and for a result whose block was reused (`recipe` computes it again).
   */
  buf: NativeBuffer | null;
  /** The element of a one-element result whose buf and recipe are null. */
  value: number;
  views: number;
  /**
   * How to compute the data: kept by the latest large elementwise result (while it may still
   * give its block to the next op) and by a result that gave its block away (buf null).
   */
  recipe: Recipe | null;
  /** READER × the recipes of blocked-away results that read this storage, plus the FLAG_ bits. */
  meta: number;
}

/** @internal One ELEMWISE instruction over storages: what a reused result is computed again from. */
export interface Recipe {
  iattr: number[];
  fattr: number[];
  inputs: Storage[];
  shapes: number[][];
  dtypes: DType[];
  dtype: DType;
  shape: number[];
  /** 1 + the deepest recipe among inputs that gave their blocks away. */
  depth: number;
}

/** The buffer went to a compiled program, a copy or a queued call: nobody may write it. */
const FLAG_EXPOSED = 1;
/** The data changes in place (a shared variable's): no recipe may read it. */
const FLAG_MUTABLE = 2;
/** Disposed and no recipe reads it: the memory went back. */
const FLAG_RELEASED = 4;
/** The unit of Storage.meta's reader count. */
const READER = 8;

const newStorage = (buf: NativeBuffer | null, value: number): Storage => ({ buf, value, views: 0, recipe: null, meta: 0 });

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
  /** @internal The data, shared with views; null once disposed. */
  storage: Storage | null;

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
    if (!isOwnedByJs(buf)) return new Tensor(newStorage(buf, 0), shape, dtype);
    if (buf.length === 1) return new Tensor(newStorage(null, buf[0]), shape, dtype);
    return new Tensor(newStorage(staged ? buf.slice() : buf, 0), shape, dtype);
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

  /**
   * @internal The native buffer, for code that keeps it or may write it (programs, copies,
   * queued calls): from then on no op reuses its block.  Throws a clear error when disposed.
   */
  buffer(op: string): NativeBuffer {
    const buf = this.readBuffer(op);
    this.storage!.meta |= FLAG_EXPOSED;
    return buf;
  }

  /** @internal The native buffer for reading it now (eager instructions, copies to JS). */
  readBuffer(op: string): NativeBuffer {
    const s = this.storage;
    if (!s) throw new SymtensorError('ERR_ST_DISPOSED', op, `tensor ${fmtShape(this.shape)} ${this.dtype} is disposed`);
    return s.buf ?? storageData(s, this.dtype, op);
  }

  /** @internal Marks the data as changing in place (a shared variable's): no recipe reads it. */
  markMutable(): void {
    if (this.storage) this.storage.meta |= FLAG_MUTABLE | FLAG_EXPOSED;
  }

  /** @internal A view of the same data with another shape (same size). */
  view(shape: number[], op: string): Tensor<D> {
    this.readBuffer(op);
    return new Tensor(this.storage!, shape, this.dtype);
  }

  /** Frees the native memory now (idempotent).  Views of the same data stay valid until disposed too. */
  dispose(): void {
    const s = this.storage;
    if (!s) return;
    this.storage = null;
    // memory that a reused result's recipe still reads goes when the last such recipe does
    if (--s.views === 0 && s.meta < READER) release(s);
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
    if (s !== null && s.buf === null && s.recipe === null) {
      const one = typedArrayFor(this.dtype, 1);
      one[0] = s.value;
      return one;
    }
    const buf = this.readBuffer(op);
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
    if (s !== null && s.buf === null && s.recipe === null) {
      v = s.value;
    } else {
      const buf = this.readBuffer('item');
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
export function execOp(op: string, opcode: number, inputs: Tensor[], outs: OutSpec[], iattr: number[] = NO_ATTRS, fattr: number[] = NO_ATTRS, into?: NativeBuffer[]): Tensor[] {
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
      bufs[i] = t.readBuffer(op);
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
      res = into === undefined ? native.exec(opcode, bufs, inShapes, outDtypes, outShapes, iattr, fattr) : native.exec(opcode, bufs, inShapes, outDtypes, outShapes, iattr, fattr, into);
    } catch (e) {
      wrapNativeError(e, op, inputsContext(inputs, opcode));
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

// ---- Reusing a temporary's block ----
//
// In `st.tanh(st.add(st.mul(x, a), b))` the two inner results are dead once the next op has read
// them, but nothing tells a library so: JS has no reference counts, and a garbage collection finds
// them dead only later, after a few more 4 MB blocks went through the cache (natural code then ran
// ~1.4x as long as code that disposes every temporary).  So an elementwise op whose input is the
// latest large elementwise result writes its own result over that input's block, in place, when
// nothing else can see the block: one tensor holds it (no views), it never went to a program, a
// copy or a queued call, and no other recipe reads it.  The input keeps the recipe it was made by
// (the instruction and its input storages) and is computed again should anything read it later;
// the storages a recipe reads keep their memory until the last such recipe goes (its tensor is
// disposed, collected or computed again), and storages that change in place (shared variables)
// are never read by one.  A chain of such results is at most REUSE_DEPTH recipes deep, so what a
// recipe keeps alive stays bounded.  A chain of elementwise ops then goes through one block, as
// it would with reference counting, and code that disposes its temporaries gains the same way.

/** Elementwise results of at least this many elements take part (smaller ones are cheap to allocate). */
export const REUSE_MIN_ELEMENTS = 65536;
/** The longest chain of recipes a reused result may depend on. */
const REUSE_DEPTH = 8;

/** The latest large elementwise result (its recipe is kept while it is the latest). */
let latest: Storage | null = null;
/** execElemwise's `into` argument (native.exec keeps no reference to it). */
const into1: NativeBuffer[] = [new Uint8Array(0)];

/** The data of a storage whose buf is null: its one element as an array, or computed again. */
function storageData(s: Storage, dtype: DType, op: string): NativeBuffer {
  const r = s.recipe;
  if (r === null) {
    const one = typedArrayFor(dtype, 1);
    one[0] = s.value;
    return (s.buf = one);
  }
  const bufs = new Array<NativeBuffer>(r.inputs.length);
  for (let i = 0; i < bufs.length; i++) {
    const x = r.inputs[i];
    bufs[i] = x.buf ?? storageData(x, r.dtypes[i], op);
  }
  let res: NativeBuffer[];
  try {
    res = native.exec(Op.ELEMWISE, bufs, r.shapes, [DTYPE_CODE[r.dtype]], [r.shape], r.iattr, r.fattr);
  } catch (e) {
    wrapNativeError(e, op, `computing again a ${fmtShape(r.shape)} ${r.dtype} result whose block a later op reused`);
  }
  s.buf = res[0];
  s.recipe = null;
  dropRecipe(r);
  return s.buf;
}

/** A recipe goes: the storages it read lose a reader, and those nobody holds any more are released. */
function dropRecipe(r: Recipe): void {
  for (const x of r.inputs) {
    x.meta -= READER;
    if (x.views === 0 && x.meta < READER) release(x);
  }
}

/** Gives a storage's memory back (its last view was disposed and no recipe reads it). */
function release(s: Storage): void {
  if (s.meta & FLAG_RELEASED) return;
  s.meta |= FLAG_RELEASED;
  const r = s.recipe;
  s.recipe = null;
  if (s.buf === null) {
    // only a result that gave its block away holds readers of its recipe's inputs
    if (r !== null) dropRecipe(r);
    return;
  }
  // a JS-owned buffer goes with its last reference, like any JS value
  if (!isOwnedByJs(s.buf)) native.dispose(s.buf);
}

/** Whether input t, the latest large elementwise result, may be overwritten by a result `out`. */
function reusable(t: Tensor, s: Storage, out: OutSpec): boolean {
  const r = s.recipe;
  if (r === null || s.buf === null || s.views !== 1 || s.meta !== 0 || isOwnedByJs(s.buf) || r.depth >= REUSE_DEPTH) return false;
  if (t.dtype !== out.dtype || !shapesEqual(t.shape, out.shape)) return false;
  for (const x of r.inputs) if ((x.meta & (FLAG_MUTABLE | FLAG_RELEASED)) !== 0) return false;
  return true;
}

/**
 * Runs one ELEMWISE instruction with a result of at least REUSE_MIN_ELEMENTS elements: over the
 * block of an input that is the latest such result where nothing else can see it, else into a new
 * one.  The result becomes the latest.
 */
export function execElemwise(op: string, inputs: Tensor[], out: OutSpec, iattr: number[], fattr: number[]): Tensor {
  let reuse: Storage | null = null;
  const last = latest;
  if (last !== null)
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i];
      if (t.storage === last) {
        if (reusable(t, last, out)) reuse = last;
        break;
      }
    }
  // inputs that gave their blocks away are computed inside this instruction where they can be
  let inner: (EwInner | null)[] | null = null;
  for (let i = 0; i < inputs.length; i++) {
    const s = inputs[i].storage;
    if (s !== null && s.buf === null && s.recipe !== null && inlinable(inputs[i], s.recipe, out, iattr[0]))
      (inner ??= new Array<EwInner | null>(inputs.length).fill(null))[i] = { attrs: s.recipe, nIn: s.recipe.inputs.length, key: s };
  }
  // a storage is inlined for all of its inputs or none (reading one that is not would compute it
  // again and end its recipe before the others read through it)
  if (inner !== null)
    for (let i = 0; i < inputs.length; i++) {
      const s = inputs[i].storage;
      if (inner[i] === null && s !== null) for (let j = 0; j < inputs.length; j++) if (inner[j]?.key === s) inner[j] = null;
    }
  if (inner !== null && inner.every((p) => p === null)) inner = null;
  const run = (into?: NativeBuffer[]): Tensor =>
    inner === null ? execOp(op, Op.ELEMWISE, inputs, [out], iattr, fattr, into)[0] : execSubstituted(op, inputs, inner, out, iattr, fattr, into);
  let t: Tensor;
  if (reuse === null) {
    t = run();
  } else {
    // from here on the recipe computes the input, and holds what it reads: held before the
    // instruction, so computing another input again cannot release one of them
    const buf = reuse.buf!;
    for (const x of reuse.recipe!.inputs) x.meta += READER;
    into1[0] = buf;
    try {
      t = run(into1);
    } catch (e) {
      // the block may be partly overwritten: the input is computed again when read
      reuse.buf = null;
      native.dispose(buf);
      throw e;
    } finally {
      into1[0] = EMPTY_BUF;
    }
    reuse.buf = null;
  }
  remember(t.storage!, inputs, out, iattr, fattr);
  return t;
}

/**
 * Whether input t, whose block went to a later op, can be computed inside an ELEMWISE instruction
 * computing `out` in ctype (a dtype code): its recipe computes in that ctype, into that dtype and
 * shape, from inputs that hold their data (so one level is inlined, and no broadcast differs).
 */
function inlinable(t: Tensor, r: Recipe, out: OutSpec, ctype: number): boolean {
  if (r.iattr[0] !== ctype || DTYPE_CODE[r.dtype] !== ctype || t.dtype !== r.dtype) return false;
  if (!shapesEqual(t.shape, out.shape) || !shapesEqual(r.shape, out.shape)) return false;
  for (const x of r.inputs) if (x.buf === null && x.recipe !== null) return false;
  return true;
}

/** One ELEMWISE instruction with the inputs inner[i] names computed inside it from their recipes. */
function execSubstituted(op: string, inputs: Tensor[], inner: (EwInner | null)[], out: OutSpec, iattr: number[], fattr: number[], into?: NativeBuffer[]): Tensor {
  const ctype = CTYPE_NAME[iattr[0]];
  const attrs = ewSubstitute(ctype, { iattr, fattr }, inputs.length, inner);
  // the inlined recipes hold what they read until the instruction ran: computing a kept input
  // again may compute an inlined one too, which would end its recipe's hold
  const recipes: Recipe[] = [];
  for (const p of inner) if (p !== null && !recipes.includes(p.attrs as Recipe)) recipes.push(p.attrs as Recipe);
  for (const r of recipes) for (const x of r.inputs) x.meta += READER;
  try {
    // the inputs in the order ewSubstitute numbers them: kept ones, or a recipe's (once per storage)
    const bufs: NativeBuffer[] = [];
    const shapes: number[][] = [];
    const seen = new Set<object>();
    for (let i = 0; i < inputs.length; i++) {
      const p = inner[i];
      if (p === null) {
        bufs.push(inputs[i].readBuffer(op));
        shapes.push(inputs[i].shape);
        continue;
      }
      if (seen.has(p.key)) continue;
      seen.add(p.key);
      const r = p.attrs as Recipe;
      for (let k = 0; k < r.inputs.length; k++) {
        const x = r.inputs[k];
        bufs.push(x.buf ?? storageData(x, r.dtypes[k], op));
        shapes.push(r.shapes[k]);
      }
    }
    checkSize(op, out.shape, out.dtype, 'result');
    let res: NativeBuffer[];
    try {
      res = native.exec(Op.ELEMWISE, bufs, shapes, [DTYPE_CODE[out.dtype]], [out.shape], attrs.iattr, attrs.fattr, into);
    } catch (e) {
      wrapNativeError(e, op, inputsContext(inputs, Op.ELEMWISE));
    }
    return Tensor.fromNative(res[0], out.shape, out.dtype);
  } finally {
    for (const r of recipes) dropRecipe(r);
  }
}

/** Compute dtypes by their codes (ELEMWISE's iattr[0]). */
const CTYPE_NAME: Record<number, DType> = { [DTYPE_CODE.float32]: 'float32', [DTYPE_CODE.float64]: 'float64', [DTYPE_CODE.int32]: 'int32' };

/** s, a new elementwise result of `inputs`, becomes the latest; the one before drops its recipe. */
function remember(s: Storage, inputs: Tensor[], out: OutSpec, iattr: number[], fattr: number[]): void {
  if (latest !== null && latest.buf !== null) latest.recipe = null;
  latest = null;
  if (s.buf === null || isOwnedByJs(s.buf)) return;
  const n = inputs.length;
  const ins = new Array<Storage>(n);
  const shapes = new Array<number[]>(n);
  const dtypes = new Array<DType>(n);
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const x = inputs[i].storage!;
    ins[i] = x;
    shapes[i] = inputs[i].shape.slice();
    dtypes[i] = inputs[i].dtype;
    if (x.buf === null && x.recipe !== null && x.recipe.depth > depth) depth = x.recipe.depth;
  }
  s.recipe = { iattr: iattr.slice(), fattr: fattr.slice(), inputs: ins, shapes, dtypes, dtype: out.dtype, shape: out.shape.slice(), depth: depth + 1 };
  latest = s;
}

/** What a native error of an instruction on `inputs` is told about them: their shapes and dtypes. */
function inputsContext(inputs: Tensor[], opcode: number): string {
  const ctx = inputs.map((t) => `${fmtShape(t.shape)} ${t.dtype}`).join(', ');
  return ctx ? `inputs: ${ctx}; native ${OP_INFO[opcode]?.name ?? opcode}` : '';
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
