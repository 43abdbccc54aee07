// x.shape as a symbolic int32 vector, and the shape arguments every shape-taking T function
// accepts: numbers, int32 scalar variables (x.shape[0], n.mul(2)) or an int32 vector (x.shape).
// Static information survives: a static dim reads as a constant, and a shape made only of numbers
// or constants builds exactly the ops a plain number array does.
import { dtypeError, fmtValue, shapeError, argError } from '../errors';
import { tensor } from '../tensor/creation';
import { Constant, Dim, ShapeVariable, Variable, applyOp1, setShapeBuilder } from './variable';
import { MakeVector, Shape, ShapeDim } from './ops/shape-values';

/**
 * A shape argument: numbers and int32 scalar variables (`[x.shape[0], -1]`), or an int32 vector
 * variable such as `x.shape`.
 */
export type ShapeArg = readonly (number | Variable)[] | Variable;

const shapes = new WeakMap<Variable, ShapeVariable>();
const dims = new WeakMap<Variable, Variable[]>();
/** The variable a shape vector (or one of its entries) was read from, and the axis of an entry. */
const origin = new WeakMap<Variable, { of: Variable; axis: number | null }>();

function intConstant(v: number | number[]): Constant {
  return new Constant(tensor(v, { dtype: 'int32' }));
}

/** x.shape[axis] (negative axes count from the end): a constant when the dim is static. */
export function shapeDim(x: Variable, axis: number): Variable {
  const a = axis < 0 ? axis + x.ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.ndim) throw argError('shape', `axis ${axis} is out of range for ${x.describe()}`);
  let list = dims.get(x);
  if (!list) dims.set(x, (list = []));
  if (!list[a]) {
    const d = x.staticShape[a];
    list[a] = d !== null ? intConstant(d) : applyOp1(new ShapeDim(a), [x]);
    origin.set(list[a], { of: x, axis: a });
  }
  return list[a];
}

function buildShape(x: Variable): ShapeVariable {
  let s = shapes.get(x);
  if (s) return s;
  const v = x.staticShape.every((d) => d !== null) ? intConstant(x.staticShape as number[]) : applyOp1(new Shape(), [x]);
  for (let i = 0; i < x.ndim; i++) Object.defineProperty(v, i, { get: () => shapeDim(x, i), enumerable: false });
  Object.defineProperty(v, 'length', { value: x.ndim, enumerable: false });
  Object.defineProperty(v, Symbol.iterator, { value: () => Array.from({ length: x.ndim }, (_, i) => shapeDim(x, i))[Symbol.iterator](), enumerable: false });
  s = v as ShapeVariable;
  shapes.set(x, s);
  origin.set(v, { of: x, axis: null });
  return s;
}
setShapeBuilder(buildShape);

/** The variable whose shape `v` is (`x.shape`), or whose dim it is (`x.shape[i]`), if any. */
export function shapeOrigin(v: Variable): { of: Variable; axis: number | null } | undefined {
  return origin.get(v);
}

/** A shape argument, read: its entries as far as known, and the int32 vector that holds it. */
export interface ParsedShape {
  /** Every entry, where all are known numbers (the static path), else null. */
  numbers: number[] | null;
  /** Entries as far as known before running (null: only known when it runs). */
  dims: Dim[];
  /** For each entry, the variable and axis whose size it is (x.shape[j]), if it is one. */
  owners: ({ of: Variable; axis: number } | null)[];
  /** Builds the int32 vector (only called when `numbers` is null). */
  vector(): Variable;
}

/**
 * Reads a shape argument of `op`: numbers must be integers >= 0 (or -1 where `wild`), variables
 * int32 scalars or one int32 vector of static length.
 */
export function parseShape(op: string, arg: unknown, wild = false): ParsedShape {
  const checkNum = (d: number) => {
    if (!Number.isInteger(d) || !(d >= 0 || (wild && d === -1))) throw shapeError(op, `bad size ${fmtValue(d)} in shape ${fmtValue(arg)}`);
    return d;
  };
  if (arg instanceof Variable) {
    if (arg.dtype !== 'int32' || arg.ndim !== 1 || arg.staticShape[0] === null)
      throw dtypeError(op, `a symbolic shape must be an int32 vector of static length (like x.shape), got ${arg.describe()}`);
    const n = arg.staticShape[0];
    const known = arg.known ?? new Array<Dim>(n).fill(null);
    const o = origin.get(arg);
    const owners = known.map((_, i) => (o && o.axis === null ? { of: o.of, axis: i } : null));
    const full = known.every((d) => d !== null);
    if (full) known.forEach((d) => checkNum(d as number));
    return { numbers: full ? (known as number[]).slice() : null, dims: known.slice(), owners, vector: () => arg };
  }
  if (!Array.isArray(arg)) throw argError(op, `expected a shape (an array of sizes, or x.shape), got ${fmtValue(arg)}`);
  const entries = arg as unknown[];
  const parsed = entries.map((e) => {
    if (typeof e === 'number') return checkNum(e);
    if (e instanceof Variable) {
      if (e.dtype !== 'int32' || e.ndim !== 0) throw dtypeError(op, `shape entries must be numbers or int32 scalars, got ${e.describe()}`);
      const k = e.known?.[0];
      if (k !== undefined && k !== null) checkNum(k);
      return e;
    }
    throw argError(op, `bad size ${fmtValue(e)} in shape: expected a number or an int32 scalar variable`);
  });
  const dimsOf = parsed.map((e) => (typeof e === 'number' ? e : e.known?.[0] ?? null));
  const owners = parsed.map((e) => {
    const o = typeof e === 'number' ? undefined : origin.get(e);
    return o && o.axis !== null ? { of: o.of, axis: o.axis } : null;
  });
  const full = dimsOf.every((d) => d !== null);
  return {
    numbers: full ? (dimsOf as number[]) : null,
    dims: dimsOf,
    owners,
    vector: () => {
      // the whole x.shape, entry for entry: use it as it is
      const first = owners[0]?.of;
      if (first && owners.length === first.ndim && owners.every((o, i) => o && o.of === first && o.axis === i)) return buildShape(first);
      return applyOp1(new MakeVector(), parsed.map((e) => (typeof e === 'number' ? intConstant(e) : e)));
    },
  };
}
