// Ops on symbolic shapes: x.shape (an int32 vector) and its entries, a vector made of int32
// scalars, and the ops whose output shape is an input's value (reshape to a symbolic shape,
// alloc, arange).  Their values are known before a program runs (VarType.known) — at build time
// where dims are static, otherwise once the function is specialized to its input shapes — so
// every size in a program is still fixed when it is lowered.
import { DType } from '../../dtype';
import { argError, dtypeError, fmtShape, shapeError } from '../../errors';
import { Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { broadcastToWith, reshapeShape } from '../../tensor/shape-ops';
import { concatWith } from '../../tensor/shape-ops';
import { sizeOf } from '../../tensor/shape-util';
import { Tensor } from '../../tensor/tensor';
import { Apply, Dim, MAX_KNOWN, Op, VarType, Variable, applyOp1 } from '../variable';
import { reshapeLike } from './shape';
import { Reduce } from './reduce';

/** The values of a small int32 input at lowering (eager tensors: their data). */
export function knownInts(op: string, v: Val): number[] {
  if (v instanceof Tensor) return Array.from(v.dataSync());
  const k = v.known;
  if (!k || k.some((d) => d === null)) throw shapeError(op, `a size is only known when the program runs; sizes must be computed from shapes and constants`);
  return k as number[];
}

/** An int32 vector holding `values`, written by FILL instructions (sizes are known when lowering). */
export function intVectorWith<V extends Val>(em: Emitter<V>, values: number[], label: string): V {
  if (values.length === 1 || values.length === 0) return em.emit(label, NativeOp.FILL, [], [{ dtype: 'int32', shape: [values.length] }], [], [values[0] ?? 0])[0];
  const parts = values.map((d) => em.emit(label, NativeOp.FILL, [], [{ dtype: 'int32', shape: [1] }], [], [d])[0]);
  const out = concatWith(em, parts, 0);
  for (const p of parts) em.release(p);
  return out;
}

function intScalarWith<V extends Val>(em: Emitter<V>, value: number, label: string): V {
  return em.emit(label, NativeOp.FILL, [], [{ dtype: 'int32', shape: [] }], [], [value])[0];
}

/** x.shape: the dims of x as an int32 vector. */
export class Shape extends Op {
  readonly name = 'shape';
  infer([x]: VarType[]): VarType[] {
    return [{ dtype: 'int32', shape: [x.shape.length], known: x.shape.slice() }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [intVectorWith(em, x.shape, this.name)];
  }
  override grad(): (Variable | null)[] {
    return [null];
  }
}

/** x.shape[axis]: one dim of x as an int32 scalar. */
export class ShapeDim extends Op {
  readonly name = 'shapeDim';
  constructor(readonly axis: number) {
    super();
  }
  override props() {
    return this.axis;
  }
  infer([x]: VarType[]): VarType[] {
    if (this.axis >= x.shape.length) throw shapeError(this.name, `axis ${this.axis} is out of range for ${fmtShape(x.shape)}`);
    return [{ dtype: 'int32', shape: [], known: [x.shape[this.axis]] }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [intScalarWith(em, x.shape[this.axis], this.name)];
  }
  override grad(): (Variable | null)[] {
    return [null];
  }
}

/** An int32 vector of int32 scalars (a shape written as [x.shape[0], -1]). */
export class MakeVector extends Op {
  readonly name = 'makeVector';
  infer(xs: VarType[]): VarType[] {
    for (const x of xs) if (x.dtype !== 'int32' || x.shape.length !== 0) throw dtypeError(this.name, `entries must be int32 scalars, got ${fmtShape(x.shape)} ${x.dtype}`);
    return [{ dtype: 'int32', shape: [xs.length], known: xs.map((x) => x.known?.[0] ?? null) }];
  }
  lower<V extends Val>(em: Emitter<V>, xs: V[]): V[] {
    if (xs.every((x) => x.known && x.known[0] !== null)) return [intVectorWith(em, xs.map((x) => x.known![0] as number), this.name)];
    const parts = xs.map((x) => em.view(x, [1], this.name));
    const out = concatWith(em, parts, 0);
    parts.forEach((p, i) => p !== xs[i] && em.release(p));
    return [out];
  }
  override grad(node: Apply): (Variable | null)[] {
    return node.inputs.map(() => null);
  }
}

/** Checks a shape's known entries: non-negative integers (-1 allowed where `wild`). */
function checkDims(op: string, dims: Dim[], wild: boolean): void {
  for (const d of dims)
    if (d !== null && !(Number.isInteger(d) && (d >= 0 || (wild && d === -1)))) throw shapeError(op, `bad size ${d} in shape ${fmtShape(dims)}`);
}

/**
 * x reshaped to the value of an int32 vector (one -1 allowed).  `own[i]` is the axis of x whose
 * size entry i is (x.shape[j] written back), so [x.shape[0], -1] keeps every static size it can.
 */
export class ReshapeTo extends Op {
  readonly name = 'reshape';
  constructor(readonly own: (number | null)[]) {
    super();
  }
  override props() {
    return this.own;
  }
  infer([x, s]: VarType[]): VarType[] {
    if (s.dtype !== 'int32' || s.shape.length !== 1) throw dtypeError(this.name, `the shape must be an int32 vector, got ${fmtShape(s.shape)} ${s.dtype}`);
    const t = s.known ?? this.own.map(() => null);
    checkDims(this.name, t, true);
    if (t.filter((d) => d === -1).length > 1) throw shapeError(this.name, `at most one size may be -1, got ${fmtShape(t)}`);
    if (x.shape.every((d) => d !== null) && t.every((d) => d !== null)) return [{ dtype: x.dtype, shape: reshapeShape(this.name, { dtype: x.dtype, shape: x.shape as number[] }, t as number[]) }];
    const out: Dim[] = t.map((d, i) => (d === -1 ? -1 : this.own[i] !== null ? x.shape[this.own[i]!] : d));
    const wildAt = out.indexOf(-1);
    if (wildAt >= 0) {
      // the -1 is known when every dim of x not written back is, and every other entry is
      const used = new Set(this.own.filter((a): a is number => a !== null));
      const rest = x.shape.filter((_, j) => !used.has(j));
      const others = out.filter((d, i) => i !== wildAt && this.own[i] === null);
      const ok = rest.every((d) => d !== null) && others.every((d) => d !== null);
      const num = sizeOf(rest as number[]), den = sizeOf(others as number[]);
      out[wildAt] = ok && den > 0 && num % den === 0 ? num / den : null;
    }
    return [{ dtype: x.dtype, shape: out }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, s]: V[]): V[] {
    return [em.view(x, reshapeShape(this.name, x, knownInts(this.name, s)), this.name)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    return [gz ? reshapeLike(gz, node.inputs[0]) : null, null];
  }
}

/** A scalar repeated to the value of an int32 shape vector (Theano's alloc; T.zeros, T.fill). */
export class Alloc extends Op {
  readonly name = 'alloc';
  infer([v, s]: VarType[]): VarType[] {
    if (v.shape.length !== 0) throw shapeError(this.name, `the value must be a scalar, got ${fmtShape(v.shape)}`);
    if (s.dtype !== 'int32' || s.shape.length !== 1 || s.shape[0] === null) throw dtypeError(this.name, `the shape must be an int32 vector of known length, got ${fmtShape(s.shape)} ${s.dtype}`);
    const t = s.known ?? new Array<Dim>(s.shape[0]).fill(null);
    checkDims(this.name, t, false);
    return [{ dtype: v.dtype, shape: t.slice() }];
  }
  lower<V extends Val>(em: Emitter<V>, [v, s]: V[]): V[] {
    const shape = knownInts(this.name, s);
    checkDims(this.name, shape, false);
    return [broadcastToWith(em, v, shape)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null, null];
    const axes = [...Array(gz.ndim).keys()];
    return [axes.length ? applyOp1(new Reduce('sum', axes, false), [gz]) : gz, null];
  }
}

/** numpy's arange with int32 scalar bounds whose values are known before the program runs. */
export class Arange extends Op {
  readonly name = 'arange';
  constructor(readonly dtype: DType) {
    super();
  }
  override props() {
    return this.dtype;
  }
  private static count(start: number, stop: number, step: number): number {
    if (step === 0) throw argError('arange', 'step must not be 0');
    return Math.max(0, Math.ceil((stop - start) / step));
  }
  infer(xs: VarType[]): VarType[] {
    for (const x of xs) if (x.dtype !== 'int32' || x.shape.length !== 0) throw dtypeError(this.name, `start, stop and step must be int32 scalars, got ${fmtShape(x.shape)} ${x.dtype}`);
    const [a, b, c] = xs.map((x) => x.known?.[0] ?? null);
    const n = a !== null && b !== null && c !== null ? Arange.count(a, b, c) : null;
    const known = n !== null && n <= MAX_KNOWN && this.dtype === 'int32' ? Array.from({ length: n }, (_, i) => a! + i * c!) : undefined;
    return [{ dtype: this.dtype, shape: [n], known }];
  }
  lower<V extends Val>(em: Emitter<V>, xs: V[]): V[] {
    const [a, b, c] = xs.map((x) => knownInts(this.name, x)[0]);
    return em.emit(this.name, NativeOp.RANGE, [], [{ dtype: this.dtype, shape: [Arange.count(a, b, c)] }], [], [a, c]);
  }
  override grad(node: Apply): (Variable | null)[] {
    return node.inputs.map(() => null);
  }
}

const sizeExprs = new WeakMap<Variable, boolean>();

/**
 * True for a small int32 value computed only from shapes and constants (x.shape[0].mul(2)): its
 * value is known once a function is specialized, so rewrites keep it as plain nodes (fusion
 * would hide the arithmetic that sizes are read from).
 */
export function isSizeExpr(v: Variable): boolean {
  let r = sizeExprs.get(v);
  if (r !== undefined) return r;
  const op = v.owner?.op;
  if (v.dtype !== 'int32' || v.ndim > 1) r = false;
  else if (!op) r = v.known !== undefined && v.known.every((d) => d !== null);
  else if (op instanceof Shape || op instanceof ShapeDim) r = true;
  else if (op instanceof MakeVector || op instanceof Arange || op.elementwise() !== null) r = v.owner!.inputs.every(isSizeExpr);
  else r = false;
  sizeExprs.set(v, r);
  return r;
}
