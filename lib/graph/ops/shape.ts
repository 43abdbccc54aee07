// Shape ops: reshape, dimshuffle, transpose, slicing, concat, pad, tile, gather, oneHot, cast, and
// the "...Like"/"...Grad" helpers whose shapes come from another variable at run time.
import { DType, isFloat } from '../../dtype';
import { argError, dtypeError, fmtShape, fmtValue, shapeError } from '../../errors';
import { Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { castCtype, castWith } from '../../tensor/elementwise';
import { EW } from '../../ops.generated';
import {
  broadcastToWith, checkStridedSliceArgs, concatWith, dimshufflePlan, dimshuffleWith, gatherWith, normPerm, oneHotWith, padWith, reshapeShape, sliceWith, slicePlan,
  stridedSlicePlan, stridedSliceWith, tileWith, transposeWith,
} from '../../tensor/shape-ops';
import { reduceWith } from '../../tensor/reduction';
import { normAxis, sizeOf } from '../../tensor/shape-util';
import { alignRight, broadcastDims, isKnown, prodDims } from '../dims';
import { Apply, Dim, Op, VarType, Variable, applyOp1 } from '../variable';
import { sumToShape } from './helpers';

const known = (s: Dim[]) => isKnown(s);

export class Reshape extends Op {
  readonly name = 'reshape';
  constructor(readonly target: number[]) {
    super();
  }
  override props() {
    return this.target;
  }
  infer([x]: VarType[]): VarType[] {
    if (known(x.shape)) return [{ dtype: x.dtype, shape: reshapeShape(this.name, x as Val, this.target) }];
    const size = prodDims(x.shape);
    const rest = sizeOf(this.target.filter((d) => d !== -1));
    return [{ dtype: x.dtype, shape: this.target.map((d) => (d === -1 ? (size !== null && rest ? size / rest : null) : d)) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [em.view(x, reshapeShape(this.name, x, this.target), this.name)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? reshapeLike(gz, node.inputs[0]) : null];
  }
}

/** g viewed with like's (run-time) shape. */
export class ReshapeLike extends Op {
  readonly name = 'reshapeLike';
  infer([g, like]: VarType[]): VarType[] {
    return [{ dtype: g.dtype, shape: like.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [g, like]: V[]): V[] {
    if (sizeOf(g.shape) !== sizeOf(like.shape)) throw shapeError(this.name, `cannot view ${fmtShape(g.shape)} as ${fmtShape(like.shape)}`);
    return [em.view(g, like.shape.slice(), this.name)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? reshapeLike(gz, node.inputs[0]) : null, null];
  }
}

export function reshapeLike(g: Variable, like: Variable): Variable {
  if (g.staticShape.length === like.staticShape.length && g.staticShape.every((d, i) => d !== null && d === like.staticShape[i])) return g;
  return applyOp1(new ReshapeLike(), [g, like]);
}

/**
 * Theano's dimshuffle: pattern lists input axes in their new order, 'x' inserts a broadcastable
 * axis, and input axes left out (which must have size 1) are dropped.
 */
export class DimShuffle extends Op {
  readonly name = 'dimshuffle';
  constructor(readonly pattern: (number | 'x')[]) {
    super();
  }
  override props() {
    return this.pattern;
  }
  infer([x]: VarType[]): VarType[] {
    return [{ dtype: x.dtype, shape: dimshufflePlan(this.name, x.shape, this.pattern).shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [dimshuffleWith(em, x, this.pattern)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null];
    const x = node.inputs[0];
    const used = this.pattern.filter((p): p is number => p !== 'x');
    // drop the inserted (size-1) axes, then put the used axes back in input order
    const g = sumToShape(gz, node.outputs[0]);
    const nonX = this.pattern.flatMap((p, j) => (p === 'x' ? [] : [j]));
    const squeezed = nonX.length === this.pattern.length ? g : applyOp1(new DimShuffle(nonX), [g]);
    const back = [...Array(x.ndim).keys()].map((i) => (used.includes(i) ? used.indexOf(i) : ('x' as const)));
    return [back.every((p, i) => p === i) ? squeezed : applyOp1(new DimShuffle(back), [squeezed])];
  }
}

export class Transpose extends Op {
  readonly name = 'transpose';
  constructor(readonly perm: number[]) {
    super();
  }
  override props() {
    return this.perm;
  }
  infer([x]: VarType[]): VarType[] {
    const p = normPerm(this.name, this.perm, x.shape.length, x.shape);
    return [{ dtype: x.dtype, shape: p.map((a) => x.shape[a]) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [transposeWith(em, x, this.perm)];
  }
  override grad(_node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null];
    const inv = new Array<number>(this.perm.length);
    this.perm.forEach((a, i) => (inv[a] = i));
    return [applyOp1(new Transpose(inv), [gz])];
  }
}

/** g broadcast to like's (run-time) shape. */
export class BroadcastLike extends Op {
  readonly name = 'broadcastLike';
  infer([g, like]: VarType[]): VarType[] {
    broadcastDims(this.name, [g.shape, like.shape]);
    return [{ dtype: g.dtype, shape: like.shape }];
  }
  override broadcastTargets([g, like]: VarType[]) {
    return [alignRight(g.shape.length, like.shape), null];
  }
  lower<V extends Val>(em: Emitter<V>, [g, like]: V[]): V[] {
    if (g.shape.length === like.shape.length && g.shape.every((d, i) => d === like.shape[i])) return [g];
    return [broadcastToWith(em, g, like.shape.slice())];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? sumToShape(gz, node.inputs[0]) : null, null];
  }
}

/**
 * x, checked to have `size` elements along `axis` (at least `size` when atLeast) once that is
 * known (split of an unknown dim).
 */
export class ExpectDim extends Op {
  /** The op that asked for the check (run-time errors name it). */
  readonly name: string;
  constructor(readonly axis: number, readonly size: number, readonly op: string, readonly atLeast = false) {
    super();
    this.name = op;
  }
  override props() {
    return [this.axis, this.size, this.op, this.atLeast];
  }
  infer([x]: VarType[]): VarType[] {
    const d = x.shape[this.axis];
    if (d !== null && (this.atLeast ? d < this.size : d !== this.size))
      throw shapeError(this.op, `axis ${this.axis} of ${fmtShape(x.shape)} has size ${d}, not ${this.atLeast ? 'at least ' : ''}${this.size}`);
    return [{ dtype: x.dtype, shape: x.shape.map((v, i) => (i === this.axis && !this.atLeast ? this.size : v)) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    this.infer([x]);
    return [em.view(x, x.shape.slice(), this.name)];
  }
  override grad(_node: Apply, [gz]: (Variable | null)[]) {
    return [gz];
  }
}

export class BroadcastTo extends Op {
  readonly name = 'broadcastTo';
  constructor(readonly target: number[]) {
    super();
  }
  override props() {
    return this.target;
  }
  infer([x]: VarType[]): VarType[] {
    const b = broadcastDims(this.name, [x.shape, this.target]);
    if (b.some((d, i) => d !== null && d !== this.target[i])) throw shapeError(this.name, `cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(this.target)}`);
    return [{ dtype: x.dtype, shape: this.target.slice() }];
  }
  override broadcastTargets([x]: VarType[]) {
    return [alignRight(x.shape.length, this.target)];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [broadcastToWith(em, x, this.target.slice())];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? sumToShape(gz, node.inputs[0]) : null];
  }
}

export class Slice extends Op {
  readonly name = 'slice';
  constructor(readonly begin: number[], readonly size: number[]) {
    super();
  }
  override props() {
    return [this.begin, this.size];
  }
  infer([x]: VarType[]): VarType[] {
    if (known(x.shape)) return [{ dtype: x.dtype, shape: slicePlan(this.name, x.shape, this.begin, this.size).size }];
    // other axes may be unknown: a size of -1 on a known axis still has a known length
    const dims = x.shape.map((d, i) => {
      if (i >= this.size.length || this.size[i] !== -1) return i >= this.size.length ? d : this.size[i];
      if (d === null) return null;
      const b = this.begin[i] ?? 0;
      return b < 0 ? -b : d - b;
    });
    return [{ dtype: x.dtype, shape: dims }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [sliceWith(em, x, this.begin, this.size)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? applyOp1(new SliceGrad(this.begin, this.size), [gz, node.inputs[0]]) : null];
  }
}

/** Adjoint of slice: g placed at its offset inside zeros shaped like x. */
export class SliceGrad extends Op {
  readonly name = 'sliceGrad';
  constructor(readonly begin: number[], readonly size: number[]) {
    super();
  }
  override props() {
    return [this.begin, this.size];
  }
  infer([g, like]: VarType[]): VarType[] {
    return [{ dtype: g.dtype, shape: like.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [g, like]: V[]): V[] {
    const plan = slicePlan('slice', like.shape, this.begin, this.size);
    return [padWith(em, g, like.shape.map((d, i) => [plan.begin[i], d - plan.begin[i] - plan.size[i]] as [number, number]))];
  }
  override grad(_node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? applyOp1(new Slice(this.begin, this.size), [gz]) : null, null];
  }
}

export class StridedSlice extends Op {
  readonly name = 'stridedSlice';
  constructor(readonly begin: (number | null)[], readonly end: (number | null)[], readonly strides: (number | null)[]) {
    super();
  }
  override props() {
    return [this.begin, this.end, this.strides];
  }
  infer([x]: VarType[]): VarType[] {
    if (known(x.shape)) return [{ dtype: x.dtype, shape: stridedSlicePlan(this.name, x.shape, this.begin, this.end, this.strides).outShape }];
    checkStridedSliceArgs(this.name, x.shape.length, this.begin, this.end, this.strides);
    // an axis with no bounds and no stride keeps its (possibly known) size
    const whole = (i: number) => (this.begin[i] ?? null) === null && (this.end[i] ?? null) === null && (this.strides[i] ?? 1) === 1;
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (whole(i) ? d : null)) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [stridedSliceWith(em, x, this.begin, this.end, this.strides)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? applyOp1(new StridedSliceGrad(this.begin, this.end, this.strides), [gz, node.inputs[0]]) : null];
  }
}

/** Adjoint of stridedSlice: g scattered to its strided positions inside zeros shaped like x. */
export class StridedSliceGrad extends Op {
  readonly name = 'stridedSliceGrad';
  constructor(readonly begin: (number | null)[], readonly end: (number | null)[], readonly strides: (number | null)[]) {
    super();
  }
  override props() {
    return [this.begin, this.end, this.strides];
  }
  infer([g, like]: VarType[]): VarType[] {
    return [{ dtype: g.dtype, shape: like.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [g, like]: V[]): V[] {
    const plan = stridedSlicePlan('stridedSlice', like.shape, this.begin, this.end, this.strides);
    return em.emit(this.name, NativeOp.SCATTER_STRIDED, [g], [{ dtype: g.dtype, shape: like.shape.slice() }], [plan.offset, ...plan.strides]);
  }
  override grad(_node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? applyOp1(new StridedSlice(this.begin, this.end, this.strides), [gz]) : null, null];
  }
}

export class Concat extends Op {
  readonly name = 'concat';
  constructor(readonly axis: number) {
    super();
  }
  override props() {
    return this.axis;
  }
  infer(xs: VarType[]): VarType[] {
    const rank = xs[0].shape.length;
    if (rank === 0) throw shapeError(this.name, 'cannot concatenate scalars (0-d tensors); use stack');
    const a = normAxis(this.name, this.axis, rank);
    for (const x of xs)
      if (x.shape.length !== rank || x.shape.some((d, i) => i !== a && d !== null && xs[0].shape[i] !== null && d !== xs[0].shape[i]))
        throw shapeError(this.name, `shapes ${xs.map((u) => fmtShape(u.shape)).join(', ')} differ outside axis ${a}`);
    const dtype = xs.map((x) => x.dtype).reduce((p, q) => (p === q ? p : upcastD(p, q)));
    const shape = xs[0].shape.map((d, i) => (i === a ? prodSum(xs.map((x) => x.shape[a])) : d ?? xs.find((x) => x.shape[i] !== null)?.shape[i] ?? null));
    return [{ dtype, shape }];
  }
  lower<V extends Val>(em: Emitter<V>, xs: V[]): V[] {
    return [concatWith(em, xs, this.axis)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return node.inputs.map((x, i) => (gz && isFloat(x.dtype) ? applyOp1(new ConcatGrad(this.axis, i), [gz, ...node.inputs]) : null));
  }
}

function prodSum(ds: Dim[]): Dim {
  return ds.some((d) => d === null) ? null : (ds as number[]).reduce((a, b) => a + b, 0);
}
function upcastD(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

/** The part of a concat's gradient that belongs to input `which`. */
export class ConcatGrad extends Op {
  readonly name = 'concatGrad';
  constructor(readonly axis: number, readonly which: number) {
    super();
  }
  override props() {
    return [this.axis, this.which];
  }
  infer([g, ...xs]: VarType[]): VarType[] {
    return [{ dtype: g.dtype, shape: xs[this.which].shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [g, ...xs]: V[]): V[] {
    const a = normAxis(this.name, this.axis, g.shape.length);
    const start = xs.slice(0, this.which).reduce((s, x) => s + x.shape[a], 0);
    return [sliceWith(em, g, g.shape.map((_, i) => (i === a ? start : 0)), xs[this.which].shape.slice())];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return node.inputs.map(() => null);
    const [, ...xs] = node.inputs;
    return [applyOp1(new ConcatGradAdjoint(this.axis, this.which), [gz, ...xs]), ...xs.map(() => null)];
  }
}

/** Adjoint of ConcatGrad: part `which` placed at its offset inside zeros shaped like the concat. */
export class ConcatGradAdjoint extends Op {
  readonly name = 'concatGradAdjoint';
  constructor(readonly axis: number, readonly which: number) {
    super();
  }
  override props() {
    return [this.axis, this.which];
  }
  infer([g, ...xs]: VarType[]): VarType[] {
    const a = normAxis(this.name, this.axis, g.shape.length);
    return [{ dtype: g.dtype, shape: g.shape.map((d, i) => (i === a ? prodSum(xs.map((x) => x.shape[a])) : d)) }];
  }
  lower<V extends Val>(em: Emitter<V>, [g, ...xs]: V[]): V[] {
    const a = normAxis(this.name, this.axis, g.shape.length);
    const start = xs.slice(0, this.which).reduce((s, x) => s + x.shape[a], 0);
    const total = xs.reduce((s, x) => s + x.shape[a], 0);
    return [padWith(em, g, g.shape.map((d, i) => (i === a ? [start, total - start - d] : [0, 0]) as [number, number]))];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    const [, ...xs] = node.inputs;
    return [gz ? applyOp1(new ConcatGrad(this.axis, this.which), [gz, ...xs]) : null, ...xs.map(() => null)];
  }
}

export class Pad extends Op {
  readonly name = 'pad';
  constructor(readonly paddings: [number, number][], readonly value: number) {
    super();
  }
  override props() {
    return [this.paddings, this.value];
  }
  infer([x]: VarType[]): VarType[] {
    if (this.paddings.length !== x.shape.length) throw argError(this.name, `paddings must have ${x.shape.length} pairs for ${fmtShape(x.shape)}`);
    // checked where the graph is built, as the eager op checks it (not first at run time)
    if (this.paddings.some((p) => p[0] < 0 || p[1] < 0))
      throw argError(this.name, `paddings must be ${x.shape.length} pairs [before, after] of non-negative integers for ${fmtShape(x.shape)}, got ${fmtValue(this.paddings)}`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (d === null ? null : d + this.paddings[i][0] + this.paddings[i][1])) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [padWith(em, x, this.paddings, this.value)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null];
    return [applyOp1(new SliceGrad2(this.paddings), [gz, node.inputs[0]])];
  }
}

/** Adjoint of pad: the inner block of g. */
class SliceGrad2 extends Op {
  readonly name = 'padGrad';
  constructor(readonly paddings: [number, number][]) {
    super();
  }
  override props() {
    return this.paddings;
  }
  infer([g, like]: VarType[]): VarType[] {
    return [{ dtype: g.dtype, shape: like.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [g, like]: V[]): V[] {
    return [sliceWith(em, g, this.paddings.map((p) => p[0]), like.shape.slice())];
  }
  override grad(_node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? applyOp1(new Pad(this.paddings, 0), [gz]) : null, null];
  }
}

export class Tile extends Op {
  readonly name = 'tile';
  constructor(readonly reps: number[]) {
    super();
  }
  override props() {
    return this.reps;
  }
  infer([x]: VarType[]): VarType[] {
    if (this.reps.some((r) => r < 0)) throw argError(this.name, `reps must be non-negative integers, got ${fmtValue(this.reps)}`);
    const rank = Math.max(x.shape.length, this.reps.length);
    const xs = [...new Array(rank - x.shape.length).fill(1), ...x.shape];
    const rs = [...new Array(rank - this.reps.length).fill(1), ...this.reps];
    return [{ dtype: x.dtype, shape: xs.map((d, i) => (d === null ? null : d * rs[i])) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [tileWith(em, x, this.reps)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? applyOp1(new TileGrad(this.reps), [gz, node.inputs[0]]) : null];
  }
}

/** Adjoint of tile: the sum of the repeated blocks. */
export class TileGrad extends Op {
  readonly name = 'tileGrad';
  constructor(readonly reps: number[]) {
    super();
  }
  override props() {
    return this.reps;
  }
  infer([g, like]: VarType[]): VarType[] {
    return [{ dtype: g.dtype, shape: like.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [g, like]: V[]): V[] {
    const rank = g.shape.length;
    const rs = [...new Array(rank - this.reps.length).fill(1), ...this.reps];
    const xs = [...new Array(rank - like.shape.length).fill(1), ...like.shape];
    const split: number[] = [];
    const axes: number[] = [];
    xs.forEach((d, i) => {
      axes.push(split.length);
      split.push(rs[i], d);
    });
    const v = em.view(g, split, this.name);
    const s = reduceWith(em, 'sum', v, axes, false);
    em.release(v);
    const out = em.view(s, like.shape.slice(), this.name);
    em.release(s);
    return [out];
  }
  override grad(_node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? applyOp1(new Tile(this.reps), [gz]) : null, null];
  }
}

export class Gather extends Op {
  readonly name = 'gather';
  constructor(readonly axis: number) {
    super();
  }
  override props() {
    return this.axis;
  }
  infer([x, idx]: VarType[]): VarType[] {
    if (idx.dtype !== 'int32') throw dtypeError(this.name, `indices must be int32, got ${idx.dtype} (use T.cast(indices, 'int32'))`);
    const a = normAxis(this.name, this.axis, x.shape.length);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)] }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, idx]: V[]): V[] {
    return [gatherWith(em, x, idx, this.axis)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    const [x, idx] = node.inputs;
    return [gz && isFloat(x.dtype) ? applyOp1(new GatherGrad(this.axis), [gz, idx, x]) : null, null];
  }
}

/** Adjoint of gather: rows of g added into zeros shaped like x at their indices. */
export class GatherGrad extends Op {
  readonly name = 'gatherGrad';
  constructor(readonly axis: number) {
    super();
  }
  override props() {
    return this.axis;
  }
  infer([g, , like]: VarType[]): VarType[] {
    return [{ dtype: g.dtype, shape: like.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [g, idx, like]: V[]): V[] {
    const a = normAxis(this.name, this.axis, like.shape.length);
    const iattr = [sizeOf(like.shape.slice(0, a)), like.shape[a], sizeOf(like.shape.slice(a + 1))];
    return em.emit(this.name, NativeOp.GATHER_GRAD, [g, idx], [{ dtype: g.dtype, shape: like.shape.slice() }], iattr);
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? applyOp1(new Gather(this.axis), [gz, node.inputs[1]]) : null, null, null];
  }
}

export class OneHot extends Op {
  readonly name = 'oneHot';
  constructor(readonly depth: number, readonly on: number, readonly off: number, readonly dtype: DType) {
    super();
  }
  override props() {
    return [this.depth, this.on, this.off, this.dtype];
  }
  infer([idx]: VarType[]): VarType[] {
    if (idx.dtype !== 'int32') throw dtypeError(this.name, `indices must be int32, got ${idx.dtype} (use T.cast(indices, 'int32'))`);
    return [{ dtype: this.dtype, shape: [...idx.shape, this.depth] }];
  }
  lower<V extends Val>(em: Emitter<V>, [idx]: V[]): V[] {
    return [oneHotWith(em, idx, this.depth, this.on, this.off, this.dtype)];
  }
  override grad() {
    return [null];
  }
}

export class Cast extends Op {
  readonly name = 'cast';
  constructor(readonly dtype: DType) {
    super();
  }
  override props() {
    return this.dtype;
  }
  infer([x]: VarType[]): VarType[] {
    return [{ dtype: this.dtype, shape: x.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [castWith(em, x, this.dtype)];
  }
  override elementwise() {
    return null; // its compute dtype depends on the input: fusion handles it through castCtype
  }
  castCtype(from: DType) {
    return { code: EW.IDENTITY, ctype: castCtype(from, this.dtype) };
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    const x = node.inputs[0];
    return [gz && isFloat(x.dtype) && isFloat(this.dtype) ? applyOp1(new Cast(x.dtype), [gz]) : null];
  }
}

/** x viewed as a matrix: [prod(dims before split), prod(dims from split)] (dims known at run time). */
export class Flatten2D extends Op {
  readonly name = 'flatten2d';
  constructor(readonly split: number) {
    super();
  }
  override props() {
    return this.split;
  }
  infer([x]: VarType[]): VarType[] {
    return [{ dtype: x.dtype, shape: [prodDims(x.shape.slice(0, this.split)), prodDims(x.shape.slice(this.split))] }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [em.view(x, [sizeOf(x.shape.slice(0, this.split)), sizeOf(x.shape.slice(this.split))], this.name)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? reshapeLike(gz, node.inputs[0]) : null];
  }
}

/** The [A, B] product of numpy's N-D dot viewed as a.shape[:-1] + b.shape[:-2] + b.shape[-1:]. */
export class DotUnflatten extends Op {
  readonly name = 'dotUnflatten';
  private shapeOf(a: Dim[], b: Dim[]): Dim[] {
    return [...a.slice(0, -1), ...b.slice(0, -2), b[b.length - 1]];
  }
  infer([r, a, b]: VarType[]): VarType[] {
    return [{ dtype: r.dtype, shape: this.shapeOf(a.shape, b.shape) }];
  }
  lower<V extends Val>(em: Emitter<V>, [r, a, b]: V[]): V[] {
    return [em.view(r, this.shapeOf(a.shape, b.shape) as number[], this.name)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? reshapeLike(gz, node.inputs[0]) : null, null, null];
  }
}
