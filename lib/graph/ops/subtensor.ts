// Subtensors read and written at positions computed while a program runs (Theano's Subtensor with
// symbolic indices, AdvancedSubtensor and their set/inc forms).  Every run-time index goes through
// a CHECK_INDEX instruction first: an index out of range stops the program with an error that names
// the node, and no kernel ever reads or writes outside a buffer.  Sizes stay known when a program is
// lowered: a dynamic slice has a run-time start but a size computed from shapes and constants.
import { isFloat } from '../../dtype';
import { dtypeError, fmtShape, shapeError } from '../../errors';
import { EW, Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { ewCallWith } from '../../tensor/elementwise';
import { gatherWith } from '../../tensor/shape-ops';
import { sizeOf } from '../../tensor/shape-util';
import { Apply, Dim, Op, VarType, Variable, applyOp1 } from '../variable';
import { Alloc, knownInts } from './shape-values';
import { scalarConstant } from './elemwise';
import { shapeDim } from '../symbolic-shape';

const INT32_LIMIT = 2 ** 31;

/** Indices checked against an axis of n (negatives allowed and wrapped where allowNeg). */
function checkIndexWith<V extends Val>(em: Emitter<V>, idx: V, n: number, allowNeg: boolean, label: string): V {
  return em.emit(label, NativeOp.CHECK_INDEX, [idx], [{ dtype: 'int32', shape: idx.shape.slice() }], [n, allowNeg ? 1 : 0])[0];
}

/** start + [0, size): the positions of a dynamic slice, start checked to leave room for size. */
function sliceIndicesWith<V extends Val>(em: Emitter<V>, start: V, n: number, size: number, label: string): V {
  const s = checkIndexWith(em, start, n - size + 1, false, label);
  const r = em.emit(label, NativeOp.RANGE, [], [{ dtype: 'int32', shape: [size] }], [], [0, 1])[0];
  const idx = ewCallWith(em, label, EW.ADD, [r, s], 'int32', 'int32');
  em.release(s);
  em.release(r);
  return idx;
}

/**
 * x with the rows `idx` of its [outer, dim, inner] view replaced by (set) or increased by (inc) the
 * rows of y ([outer, n_idx, inner]).  Repeated indices add up (numpy's add.at), also for set.
 */
function scatterWith<V extends Val>(em: Emitter<V>, x: V, y: V, idx: V, dims: [number, number, number], mode: 'set' | 'inc', label: string): V {
  const three = dims.slice();
  const scat = em.emit(label, NativeOp.GATHER_GRAD, [y, idx], [{ dtype: x.dtype, shape: three }], dims)[0];
  const scatX = em.view(scat, x.shape.slice(), label);
  let out: V;
  if (mode === 'inc') out = ewCallWith(em, label, EW.ADD, [x, scatX], x.dtype, x.dtype);
  else {
    const ones = em.emit(label, NativeOp.FILL, [], [{ dtype: x.dtype, shape: y.shape.slice() }], [], [1])[0];
    const hit = em.emit(label, NativeOp.GATHER_GRAD, [ones, idx], [{ dtype: x.dtype, shape: three }], dims)[0];
    const hitX = em.view(hit, x.shape.slice(), label);
    out = ewCallWith(em, label, EW.WHERE, [hitX, scatX, x], x.dtype, x.dtype);
    for (const t of [ones, hit, hitX]) em.release(t);
  }
  em.release(scat);
  if (scatX !== scat) em.release(scatX);
  return out;
}

/** Zeros shaped like v at run time. */
export function zerosLike(v: Variable): Variable {
  return applyOp1(new Alloc(), [scalarConstant(0, v.dtype), v.shape]);
}

function checkScalarIndex(op: string, v: VarType, what: string): void {
  if (v.dtype !== 'int32' || v.shape.length !== 0) throw dtypeError(op, `${what} must be an int32 scalar, got ${fmtShape(v.shape)} ${v.dtype}`);
}

/** x[..., start:start+size, ...] on `axis`: start known when it runs, size before. */
export class DynSlice extends Op {
  readonly name = 'dynSlice';
  constructor(readonly axis: number) {
    super();
  }
  override props() {
    return this.axis;
  }
  infer([x, start, size]: VarType[]): VarType[] {
    checkScalarIndex(this.name, start, 'the start');
    checkScalarIndex(this.name, size, 'the size');
    const n = x.shape[this.axis], sz = size.known?.[0] ?? null;
    if (sz !== null && (sz < 0 || (n !== null && sz > n))) throw shapeError(this.name, `a slice of ${sz} elements does not fit axis ${this.axis} of ${fmtShape(x.shape)}`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i === this.axis ? sz : d)) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, start, size]: V[]): V[] {
    const sz = knownInts(this.name, size)[0];
    const idx = sliceIndicesWith(em, start, x.shape[this.axis], sz, this.name);
    const out = gatherWith(em, x, idx, this.axis);
    em.release(idx);
    return [out];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    const [x, start] = node.inputs;
    if (!gz || !isFloat(x.dtype)) return [null, null, null];
    return [applyOp1(new DynUpdateSlice(this.axis, 'inc'), [zerosLike(x), gz, start]), null, null];
  }
}

/** x with x[..., start:start+len(y), ...] on `axis` replaced by y (set) or increased by it (inc). */
export class DynUpdateSlice extends Op {
  readonly name: string;
  constructor(readonly axis: number, readonly mode: 'set' | 'inc') {
    super();
    this.name = mode === 'set' ? 'setSubtensor' : 'incSubtensor';
  }
  override props() {
    return [this.axis, this.mode];
  }
  infer([x, y, start]: VarType[]): VarType[] {
    checkScalarIndex(this.name, start, 'the start');
    if (!isFloat(x.dtype) || y.dtype !== x.dtype) throw dtypeError(this.name, `x and y must be float32 or float64 of one dtype, got ${x.dtype} and ${y.dtype}`);
    const bad = y.shape.length !== x.shape.length || y.shape.some((d, i) => d !== null && x.shape[i] !== null && (i === this.axis ? d > x.shape[i]! : d !== x.shape[i]));
    if (bad) throw shapeError(this.name, `a value of shape ${fmtShape(y.shape)} does not fit a slice on axis ${this.axis} of ${fmtShape(x.shape)}`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => d ?? (i === this.axis ? null : y.shape[i])) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, y, start]: V[]): V[] {
    const a = this.axis, n = x.shape[a], sz = y.shape[a];
    const idx = sliceIndicesWith(em, start, n, sz, this.name);
    const dims: [number, number, number] = [sizeOf(x.shape.slice(0, a)), n, sizeOf(x.shape.slice(a + 1))];
    const out = scatterWith(em, x, y, idx, dims, this.mode, this.name);
    em.release(idx);
    return [out];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    const [, y, start] = node.inputs;
    if (!gz) return [null, null, null];
    const size = sizeOf1(y, this.axis);
    const gy = applyOp1(new DynSlice(this.axis), [gz, start, size]);
    const gx = this.mode === 'inc' ? gz : applyOp1(new DynUpdateSlice(this.axis, 'set'), [gz, zerosLike(y), start]);
    return [gx, gy, null];
  }
}

function sizeOf1(v: Variable, axis: number): Variable {
  return shapeDim(v, axis);
}

/** The shape of k index arrays used together (they must agree). */
function indexShape(op: string, idx: VarType[]): Dim[] {
  const rank = idx[0].shape.length;
  for (const i of idx) {
    if (i.dtype !== 'int32') throw dtypeError(op, `indices must be int32, got ${i.dtype} (use T.cast(indices, 'int32'))`);
    if (i.shape.length !== rank || i.shape.some((d, j) => d !== null && idx[0].shape[j] !== null && d !== idx[0].shape[j]))
      throw shapeError(op, `index arrays used together must have one shape, got ${idx.map((t) => fmtShape(t.shape)).join(', ')}`);
  }
  return idx[0].shape.map((d, j) => d ?? idx.find((t) => t.shape[j] !== null)?.shape[j] ?? null);
}

/**
 * The flat positions, in x's axes [axis, axis + k) viewed as one, of k checked index arrays
 * (negative indices count from the end of their axis).
 */
function flatIndexWith<V extends Val>(em: Emitter<V>, x: V, idx: V[], axis: number, label: string): { flat: V; dims: [number, number, number] } {
  const sizes = x.shape.slice(axis, axis + idx.length);
  const span = sizeOf(sizes);
  if (span >= INT32_LIMIT) throw shapeError(label, `axes ${axis}..${axis + idx.length - 1} of ${fmtShape(x.shape)} hold ${span} positions, more than int32 indices address`);
  let flat: V | null = null;
  idx.forEach((i, j) => {
    const checked = checkIndexWith(em, i, sizes[j], true, label);
    const stride = sizeOf(sizes.slice(j + 1));
    const term = stride === 1 ? checked : ewCallWith(em, label, EW.MUL, [checked, stride], 'int32', 'int32');
    if (term !== checked) em.release(checked);
    if (flat === null) flat = term;
    else {
      const sum: V = ewCallWith(em, label, EW.ADD, [flat, term], 'int32', 'int32');
      em.release(flat);
      em.release(term);
      flat = sum;
    }
  });
  return { flat: flat!, dims: [sizeOf(x.shape.slice(0, axis)), span, sizeOf(x.shape.slice(axis + idx.length))] };
}

/** x indexed on axes [axis, axis + k) by k int32 arrays of one shape (numpy's advanced indexing). */
export class AdvancedSubtensor extends Op {
  readonly name = 'advancedSubtensor';
  constructor(readonly axis: number) {
    super();
  }
  override props() {
    return this.axis;
  }
  infer([x, ...idx]: VarType[]): VarType[] {
    const ishape = indexShape(this.name, idx);
    if (this.axis + idx.length > x.shape.length) throw shapeError(this.name, `${idx.length} index arrays from axis ${this.axis} do not fit ${fmtShape(x.shape)}`);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, this.axis), ...ishape, ...x.shape.slice(this.axis + idx.length)] }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, ...idx]: V[]): V[] {
    const { flat, dims } = flatIndexWith(em, x, idx, this.axis, this.name);
    const x3 = em.view(x, dims.slice(), this.name);
    const g = gatherWith(em, x3, flat, 1);
    const out = em.view(g, [...x.shape.slice(0, this.axis), ...idx[0].shape, ...x.shape.slice(this.axis + idx.length)], this.name);
    for (const t of [flat, x3, g]) if (t !== x && t !== out) em.release(t);
    return [out];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    const [x, ...idx] = node.inputs;
    if (!gz || !isFloat(x.dtype)) return node.inputs.map(() => null);
    return [applyOp1(new AdvancedIncSubtensor(this.axis, 'inc'), [zerosLike(x), gz, ...idx]), ...idx.map(() => null)];
  }
}

/** x with its advanced subtensor (see AdvancedSubtensor) replaced by y (set) or increased by y (inc). */
export class AdvancedIncSubtensor extends Op {
  readonly name: string;
  constructor(readonly axis: number, readonly mode: 'set' | 'inc') {
    super();
    this.name = mode === 'set' ? 'setSubtensor' : 'incSubtensor';
  }
  override props() {
    return [this.axis, this.mode];
  }
  infer([x, y, ...idx]: VarType[]): VarType[] {
    const [sub] = new AdvancedSubtensor(this.axis).infer([x, ...idx]);
    if (!isFloat(x.dtype) || y.dtype !== x.dtype) throw dtypeError(this.name, `x and y must be float32 or float64 of one dtype, got ${x.dtype} and ${y.dtype}`);
    if (y.shape.length !== sub.shape.length || y.shape.some((d, i) => d !== null && sub.shape[i] !== null && d !== sub.shape[i]))
      throw shapeError(this.name, `the value has shape ${fmtShape(y.shape)} but the subtensor has ${fmtShape(sub.shape)}`);
    return [{ dtype: x.dtype, shape: x.shape.slice() }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, y, ...idx]: V[]): V[] {
    const { flat, dims } = flatIndexWith(em, x, idx, this.axis, this.name);
    const y3 = em.view(y, [dims[0], sizeOf(idx[0].shape), dims[2]], this.name);
    const out = scatterWith(em, x, y3, flat, dims, this.mode, this.name);
    em.release(flat);
    if (y3 !== y) em.release(y3);
    return [out];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    const [, y, ...idx] = node.inputs;
    if (!gz) return node.inputs.map(() => null);
    const gy = applyOp1(new AdvancedSubtensor(this.axis), [gz, ...idx]);
    const gx = this.mode === 'inc' ? gz : applyOp1(new AdvancedIncSubtensor(this.axis, 'set'), [gz, zerosLike(y), ...idx]);
    return [gx, gy, ...idx.map(() => null)];
  }
}
