// Theano's indexing with symbolic indices: x.get([...]) for x[...] (slices, integer scalars and
// index arrays, numbers or int32 variables), x.slice with symbolic starts, and setSubtensor /
// incSubtensor on the result.  Indices computed at run time are range-checked by the program.
import { argError, dtypeError, fmtValue } from '../errors';
import { tensor } from '../tensor/creation';
import { Tensor } from '../tensor/tensor';
import { Constant, Variable, applyOp1 } from './variable';
import { Elemwise, ew } from './ops/elemwise';
import { Cast, Slice, SliceGrad, StridedSlice, StridedSliceGrad } from './ops/shape';
import { Alloc } from './ops/shape-values';
import { AdvancedIncSubtensor, AdvancedSubtensor, DynSlice, DynUpdateSlice } from './ops/subtensor';
import { shapeDim, shapeOrigin } from './symbolic-shape';
import { traced } from './traced';

/**
 * A slice start:stop:step for x.get (Python's slice): bounds are numbers, int32 scalar variables or
 * null (the whole extent).  Symbolic bounds need step 1 and a length stop - start that is known
 * from shapes and constants (`T.slice(i.mul(bs), i.add(1).mul(bs))` has length bs).
 */
export class SliceSpec {
  constructor(readonly start: number | Variable | null = null, readonly stop: number | Variable | null = null, readonly step: number | null = null) {}
  /** True when it is ':' (every element). */
  get whole(): boolean {
    return this.start === null && this.stop === null && (this.step ?? 1) === 1;
  }
}

/** One entry of x.get([...]): a slice, an integer (number or int32 scalar), or an index array. */
export type Index = SliceSpec | number | Variable | readonly number[] | Tensor | null;

const intConstant = (v: number | readonly number[]) => new Constant(tensor(v as number[], { dtype: 'int32' }));

/** The nodes from the indexed variable to each subtensor, for setSubtensor and incSubtensor. */
const chains = new WeakMap<Variable, { base: Variable; steps: Variable[] }>();

/** An index entry as an int32 variable (arrays and numbers become constants). */
function indexVar(op: string, e: Index): Variable {
  if (e instanceof Variable) {
    if (e.dtype !== 'int32') throw dtypeError(op, `indices must be int32, got ${e.describe()} (use T.cast(i, 'int32'))`);
    return e;
  }
  if (e instanceof Tensor) {
    if (e.dtype !== 'int32') throw dtypeError(op, `index tensors must be int32, got ${e.dtype}`);
    return new Constant(e.cast('int32'));
  }
  if (typeof e === 'number' || Array.isArray(e)) {
    const flat = typeof e === 'number' ? [e] : (e as unknown[]).flat(Infinity);
    if (!flat.every((d) => Number.isInteger(d) && Math.abs(d as number) < 2 ** 31)) throw argError(op, `indices must be integers, got ${fmtValue(e)}`);
    return intConstant(e as number);
  }
  throw argError(op, `bad index ${fmtValue(e)}: expected a number, an int32 variable, an index array or T.slice(start, stop)`);
}

// ---- lengths of symbolic slices: stop - start as a linear form, so i*bs .. (i+1)*bs has length bs ----
type Linear = Map<Variable | 1, number>;

function linear(v: Variable): Linear {
  if (v instanceof Constant && v.known && v.ndim === 0) return new Map([[1, v.known[0]!]]);
  const op = v.owner?.op;
  if (op instanceof Elemwise && v.ndim === 0 && v.dtype === 'int32') {
    const [a, b] = v.owner!.inputs;
    if (op.fn === 'add' || op.fn === 'sub') return combine(linear(a), linear(b), op.fn === 'add' ? 1 : -1);
    if (op.fn === 'neg') return combine(new Map(), linear(a), -1);
    if (op.fn === 'mul') {
      const la = linear(a), lb = linear(b);
      const ca = la.size === 1 && la.has(1) ? la.get(1)! : null, cb = lb.size === 1 && lb.has(1) ? lb.get(1)! : null;
      if (cb !== null) return scale(la, cb);
      if (ca !== null) return scale(lb, ca);
    }
  }
  return new Map([[v, 1]]);
}
function combine(a: Linear, b: Linear, sign: number): Linear {
  const out = new Map(a);
  for (const [k, c] of b) out.set(k, (out.get(k) ?? 0) + sign * c);
  for (const [k, c] of out) if (c === 0 && k !== 1) out.delete(k);
  return out;
}
function scale(a: Linear, c: number): Linear {
  return new Map([...a].map(([k, v]) => [k, v * c] as [Variable | 1, number]));
}
/** A linear form as an int32 scalar variable. */
function build(l: Linear): Variable {
  let out: Variable | null = null;
  const c = l.get(1) ?? 0;
  for (const [k, coef] of l) {
    if (k === 1) continue;
    const term = coef === 1 ? k : ew('mul', [k, coef]);
    out = out ? ew('add', [out, term]) : term;
  }
  if (!out) return intConstant(c);
  return c ? ew('add', [out, c]) : out;
}

/** One step of a subtensor chain on `axis` of v. */
function dynSlice(op: string, v: Variable, axis: number, start: number | Variable | null, stop: number | Variable | null): Variable {
  for (const b of [start, stop]) if (typeof b === 'number' && b < 0) throw argError(op, `a slice with symbolic bounds takes non-negative numbers, got ${b}`);
  const s = start === null ? intConstant(0) : start instanceof Variable ? indexVar(op, start) : intConstant(start);
  const e = stop === null ? shapeDim(v, axis) : stop instanceof Variable ? indexVar(op, stop) : intConstant(stop);
  for (const b of [s, e]) if (b.ndim !== 0) throw argError(op, `slice bounds must be scalars, got ${b.describe()}`);
  const size = build(combine(linear(e), linear(s), -1));
  return applyOp1(new DynSlice(axis), [v, s, size]);
}

/**
 * x[indices] (Theano's x[...]): one entry per leading axis (missing ones take the whole axis) —
 * `T.slice(start, stop, step)` or null for a slice, a number or int32 scalar to pick one position
 * (the axis is dropped), an int32 array or vector of positions (adjacent arrays index together,
 * numpy's advanced indexing).  Negative positions count from the end; any index out of range is a
 * run-time error that names this node.
 * @example X.get([T.slice(i.mul(bs), i.add(1).mul(bs))]); logp.get([T.arange(y.shape[0]), y])
 */
export function subtensor(x: Variable, indices: Index | readonly Index[]): Variable {
  const op = 'get';
  const list: Index[] = Array.isArray(indices) ? (indices as Index[]) : [indices as Index];
  if (list.length > x.ndim) throw argError(op, `${list.length} indices for ${x.describe()}`);
  const isArray = (e: Index) => Array.isArray(e) || (e instanceof Variable && e.ndim > 0) || (e instanceof Tensor && e.rank > 0);
  const arrayAxes = list.flatMap((e, i) => (isArray(e) ? [i] : []));
  if (arrayAxes.length && arrayAxes[arrayAxes.length - 1] - arrayAxes[0] + 1 !== arrayAxes.length)
    throw argError(op, `index arrays must be adjacent (axes ${arrayAxes.join(', ')} are not)`);
  let v = x;
  const steps: Variable[] = [];
  // right to left: a step on axis a leaves the axes before a where they are
  for (let a = list.length - 1; a >= 0; a--) {
    const e = list[a];
    if (e === null || e === undefined || (e instanceof SliceSpec && e.whole)) continue;
    if (e instanceof SliceSpec) {
      const symbolic = e.start instanceof Variable || e.stop instanceof Variable;
      if (symbolic) {
        if ((e.step ?? 1) !== 1) throw argError(op, `a slice with symbolic bounds must have step 1, got ${e.step}`);
        v = dynSlice(op, v, a, e.start, e.stop);
      } else {
        const upTo = Array.from({ length: a + 1 }, (_, i) => i);
        const begin = upTo.map((i) => (i === a ? (e.start as number | null) : null));
        const end = upTo.map((i) => (i === a ? (e.stop as number | null) : null));
        const strides = upTo.map((i) => (i === a ? e.step : null));
        v = applyOp1(new StridedSlice(begin, end, strides), [v]);
      }
    } else if (isArray(e)) {
      const first = arrayAxes[0];
      if (a !== arrayAxes[arrayAxes.length - 1]) continue;
      v = applyOp1(new AdvancedSubtensor(first), [v, ...arrayAxes.map((i) => indexVar(op, list[i]))]);
      a = first;
    } else {
      const i = indexVar(op, e);
      if (i.ndim !== 0) throw argError(op, `bad index ${fmtValue(e)}`);
      v = applyOp1(new AdvancedSubtensor(a), [v, i]);
    }
    steps.push(v);
  }
  if (steps.length) chains.set(v, { base: x, steps });
  return v;
}

/**
 * x.slice(begin, size) with symbolic begins (int32 scalars): each axis given a begin is cut to
 * `size` elements from it (size a number or a scalar known from shapes; -1 only with a numeric
 * begin).  A begin that leaves no room for size is a run-time error.
 * @example trainX.slice(index.mul(batchSize), batchSize)
 */
export function dynamicSlice(x: Variable, begin: (number | Variable)[], size: (number | Variable)[] | null): Variable {
  const op = 'slice';
  let v = x;
  const steps: Variable[] = [];
  for (let a = begin.length - 1; a >= 0; a--) {
    const b = begin[a], s = size?.[a] ?? -1;
    if (b === 0 && s === -1) continue;
    let stop: number | Variable;
    if (s === -1) {
      if (b instanceof Variable) throw argError(op, `size -1 needs a numeric begin on axis ${a}; give the size`);
      stop = shapeDim(v, a);
    } else stop = s instanceof Variable ? (b instanceof Variable ? ew('add', [b, s]) : ew('add', [s, b])) : b instanceof Variable ? ew('add', [b, s]) : b + s;
    if (typeof s === 'number' && (!Number.isInteger(s) || s < -1)) throw argError(op, `bad size ${s}`);
    if (typeof b === 'number' && (!Number.isInteger(b) || b < 0)) throw argError(op, `bad begin ${b}`);
    v = dynSlice(op, v, a, b, stop);
    steps.push(v);
  }
  if (steps.length) chains.set(v, { base: x, steps });
  return v;
}

/** x with sub = one step of its chain replaced by w (set) or increased by w (inc). */
function place(step: Variable, v: Variable, w: Variable, mode: 'set' | 'inc'): Variable {
  const node = step.owner!;
  const op = node.op;
  if (op instanceof DynSlice) return applyOp1(new DynUpdateSlice(op.axis, mode), [v, w, node.inputs[1]]);
  if (op instanceof AdvancedSubtensor) return applyOp1(new AdvancedIncSubtensor(op.axis, mode), [v, w, ...node.inputs.slice(1)]);
  // static slices: scattered into zeros shaped like v
  const spread = (g: Variable) =>
    op instanceof StridedSlice ? applyOp1(new StridedSliceGrad(op.begin, op.end, op.strides), [g, v]) : applyOp1(new SliceGrad((op as Slice).begin, (op as Slice).size), [g, v]);
  if (mode === 'inc') return ew('add', [v, spread(w)]);
  const ones = applyOp1(new Alloc(), [new Constant(tensor(1, { dtype: w.dtype })), w.shape]);
  return ew('where', [spread(ones), spread(w), v]);
}

function update(op: string, sub: Variable, y: Variable, mode: 'set' | 'inc'): Variable {
  const chain = chains.get(sub);
  if (!chain) throw argError(op, `the first argument must be a subtensor built with x.get([...]) or x.slice(...), got ${sub.describe()}`);
  let w = y.dtype === sub.dtype ? y : applyOp1(new Cast(sub.dtype), [y]);
  // a smaller value (a scalar, size-1 axes) is broadcast to the subtensor's shape
  if (w.ndim !== sub.ndim || w.staticShape.some((d, i) => d !== sub.staticShape[i]))
    w = ew('add', [w, applyOp1(new Alloc(), [new Constant(tensor(0, { dtype: sub.dtype })), sub.shape])]);
  // innermost step first: it takes the mode; the steps around it write the updated part back
  for (let k = chain.steps.length - 1; k >= 0; k--) {
    const step = chain.steps[k];
    const v = k > 0 ? chain.steps[k - 1] : chain.base;
    w = place(step, v, w, k === chain.steps.length - 1 ? mode : 'set');
  }
  return w;
}

/**
 * Theano's set_subtensor: x (the variable `sub` was indexed from) with that subtensor replaced by y.
 * @example const x2 = T.setSubtensor(x.get([T.slice(0, 2)]), T.zeros([2, 3]))
 */
export function setSubtensor(sub: Variable, y: Variable | number): Variable {
  return update('setSubtensor', sub, y instanceof Variable ? y : new Constant(tensor(y, { dtype: sub.dtype })), 'set');
}

/**
 * Theano's inc_subtensor: x with y added to the subtensor `sub` (repeated index positions add up).
 * @example T.incSubtensor(w.get([idx]), delta)
 */
export function incSubtensor(sub: Variable, y: Variable | number): Variable {
  return update('incSubtensor', sub, y instanceof Variable ? y : new Constant(tensor(y, { dtype: sub.dtype })), 'inc');
}

declare module './variable' {
  interface Variable {
    /**
     * x[indices] (see subtensor): `x.get([T.slice(a, b), 0])`, `p.get([T.arange(n), y])`; on a
     * shape vector, `x.shape.get(i)` is x's dim i (negative i counts from the end).
     */
    get(indices: Index | readonly Index[]): Variable;
  }
}

Variable.prototype.get = traced(function (this: Variable, indices: Index | readonly Index[]): Variable {
  const o = shapeOrigin(this);
  const single = Array.isArray(indices) && indices.length === 1 ? indices[0] : indices;
  if (o && o.axis === null && typeof single === 'number') return shapeDim(o.of, single);
  return subtensor(this, indices);
});
