// Reverse-mode differentiation.  Every op's gradient is itself a graph, so gradients are
// optimized with the rest and can be differentiated again.
import { isFloat } from '../dtype';
import { SymtensorError, argError, checkOptionKeys, fmtShape, fmtValue, reportedAs } from '../errors';
import { Apply, Variable, applyOp1, captureTrace, withTrace } from './variable';
import { ew } from './ops/elemwise';
import { BroadcastLike } from './ops/shape';
import { cast } from './ops/helpers';
import { stabilize } from './stabilize';
import { toposort } from './traverse';
import * as T from './T';

/** The options of st.grad. */
export interface GradOptions {
  /**
   * What to do when a wrt variable does not affect the cost: 'raise' (default) throws, 'zero'
   * returns zeros shaped like it, 'ignore' returns null in its place.
   */
  consider?: 'raise' | 'zero' | 'ignore';
}

/**
 * d cost / d wrt, built symbolically.  cost must be a float scalar.
 * @example const [gw, gb] = st.grad(cost, [w, b]);
 */
export function grad(cost: Variable, wrt: Variable, opts?: GradOptions): Variable;
export function grad(cost: Variable, wrt: Variable[], opts?: GradOptions): Variable[];
export function grad(cost: Variable, wrt: Variable | Variable[], opts: GradOptions = {}): Variable | (Variable | null)[] | null {
  // every gradient node is located at the user's grad() call
  return withTrace(captureTrace(), () => gradImpl(cost, wrt, opts));
}

function gradImpl(cost: Variable, wrt: Variable | Variable[], opts: GradOptions): Variable | (Variable | null)[] | null {
  const op = 'grad';
  const consider = checkGradOptions(op, opts);
  if (!(cost instanceof Variable)) throw argError(op, `cost must be a symbolic variable, got ${fmtValue(cost)}`);
  if (cost.staticShape.some((d) => d !== 1)) throw new SymtensorError('ERR_ST_SHAPE', op, `cost must be a scalar, got ${cost.describe()} (take T.sum or T.mean first)`);
  if (!isFloat(cost.dtype)) throw new SymtensorError('ERR_ST_DTYPE', op, `cost must be float32 or float64, got ${cost.dtype}`);
  const list = Array.isArray(wrt) ? wrt : [wrt];
  list.forEach((w, i) => {
    if (!(w instanceof Variable)) throw argError(op, `wrt must be symbolic variables; ${Array.isArray(wrt) ? `wrt[${i}]` : 'wrt'} is ${fmtValue(w)}`);
  });

  // Differentiate the stabilized expression: log(softmax) -> logSoftmax etc. give stable gradients.
  const root = stabilize(cost);
  const grads = backpropagate([[root, applyOp1(new BroadcastLike(), [T.constant(1, undefined, root.dtype), root])]], list);

  const results = list.map((w) => {
    const g = grads.get(w);
    if (g) return g;
    if (consider === 'raise')
      throw new SymtensorError('ERR_ST_ARG', op, `cost does not depend on ${w.describe()} (pass { consider: 'zero' } or 'ignore' to allow this)`);
    if (consider === 'ignore') return null;
    return applyOp1(new BroadcastLike(), [T.constant(0, undefined, isFloat(w.dtype) ? w.dtype : 'float32'), w]);
  });
  return Array.isArray(wrt) ? results : results[0];
}

const CONSIDER = ['raise', 'zero', 'ignore'] as const;

/** GradOptions checked up front (known keys, a known `consider`); returns `consider`. */
function checkGradOptions(op: string, opts: unknown): 'raise' | 'zero' | 'ignore' {
  const o = checkOptionKeys(op, opts, ['consider']);
  const c = o.consider ?? 'raise';
  if (!(CONSIDER as readonly unknown[]).includes(c)) throw argError(op, `consider must be one of ${CONSIDER.map((k) => `'${k}'`).join(', ')}, got ${fmtValue(c)}`);
  return c as 'raise' | 'zero' | 'ignore';
}

/** A symbolic float argument of jacobian/hessian, or an error naming it. */
function checkFloatVar(op: string, what: string, v: unknown): Variable {
  if (!(v instanceof Variable)) throw argError(op, `${what} must be a symbolic variable, got ${fmtValue(v)}`);
  if (!isFloat(v.dtype)) throw new SymtensorError('ERR_ST_DTYPE', op, `${what} must be float32 or float64, got ${v.describe()}`);
  return v;
}

/**
 * Reverse-mode sweep from given output gradients (seeds: [output, its gradient]): the gradient of
 * every variable on a path from a wrt variable to a seeded output.  grad() seeds its cost with 1;
 * scan's gradient seeds each output of its step with the incoming gradient of that output.
 */
export function backpropagate(seeds: [Variable, Variable][], wrt: Variable[]): Map<Variable, Variable> {
  const order = toposort(seeds.map(([v]) => v));
  // which variables depend on some wrt (only those nodes need gradients)
  const depends = new Set<Variable>(wrt);
  for (const node of order) if (node.inputs.some((v) => depends.has(v))) node.outputs.forEach((o) => depends.add(o));

  const grads = new Map<Variable, Variable>();
  const accumulate = (v: Variable, g: Variable) => {
    const prev = grads.get(v);
    grads.set(v, prev ? ew('add', [prev, g]) : g);
  };
  for (const [v, g] of seeds) accumulate(v, g);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    if (!node.inputs.some((v) => depends.has(v))) continue;
    const gOut = node.outputs.map((o) => grads.get(o) ?? null);
    if (gOut.every((g) => g === null)) continue;
    const gIn = node.op.grad(node, gOut);
    if (gIn.length !== node.inputs.length) throw new SymtensorError('ERR_ST_INTERNAL', node.op.name, `gradient returned ${gIn.length} values for ${node.inputs.length} inputs`);
    node.inputs.forEach((v, k) => {
      const g = gIn[k];
      if (g && depends.has(v) && isFloat(v.dtype)) accumulate(v, g.dtype === v.dtype ? g : cast(g, v.dtype));
    });
  }
  return grads;
}

/** jacobian/hessian's `consider`: as grad's, but 'ignore' has no place in a matrix of derivatives. */
function checkMatrixConsider(op: string, opts: unknown): 'raise' | 'zero' | undefined {
  checkGradOptions(op, opts);
  const c = (opts as GradOptions | undefined)?.consider;
  if (c === 'ignore') throw argError(op, `consider: 'ignore' would leave holes in the result; pass 'zero' or 'raise'`);
  return c;
}

/**
 * d y / d x for a vector (or scalar) y of known length: a tensor of shape [len(y), ...x.shape]
 * (for a scalar y, the gradient).  Elements of y that do not depend on x give zero rows unless
 * `consider: 'raise'`.
 * @example const J = st.jacobian(T.tanh(x), x); // x a vector: J has shape [n, n]
 */
export function jacobian(y: Variable, x: Variable, opts: GradOptions = {}): Variable {
  const op = 'jacobian';
  checkFloatVar(op, 'y', y);
  checkFloatVar(op, 'x', x);
  const consider = checkMatrixConsider(op, opts);
  if (y.ndim !== 0 && (y.ndim !== 1 || y.staticShape[0] === null))
    throw new SymtensorError('ERR_ST_SHAPE', op, `y must be a scalar or a vector of known length, got ${y.describe()}`);
  // errors of the steps inside (grad's "does not depend on") are jacobian's
  return reportedAs(op, () => withTrace(captureTrace(), () => jacobianOf(y, x, consider)));
}

function jacobianOf(y: Variable, x: Variable, consider: 'raise' | 'zero' | undefined): Variable {
  if (y.ndim === 0) return grad(y, x, { consider: consider ?? 'raise' });
  const rows = [...Array(y.staticShape[0]!).keys()].map((i) => grad(T.reshape(T.slice(y, [i], [1]), []), x, { consider: consider ?? 'zero' }));
  return T.stack(rows, 0);
}

/**
 * Second derivatives of a float scalar cost with respect to a vector x of known length: [n, n].
 * @example const H = st.hessian(T.sum(x.mul(x).mul(x)), x);
 */
export function hessian(cost: Variable, x: Variable, opts: GradOptions = {}): Variable {
  const op = 'hessian';
  checkFloatVar(op, 'cost', cost);
  checkFloatVar(op, 'x', x);
  const consider = checkMatrixConsider(op, opts);
  if (cost.staticShape.some((d) => d !== 1)) throw new SymtensorError('ERR_ST_SHAPE', op, `cost must be a scalar, got ${cost.describe()} (take T.sum or T.mean first)`);
  if (x.ndim !== 1 || x.staticShape[0] === null) throw new SymtensorError('ERR_ST_SHAPE', op, `x must be a vector of known length, got ${x.describe()}`);
  return reportedAs(op, () => withTrace(captureTrace(), () => jacobianOf(grad(cost, x, { consider: consider ?? 'raise' }), x, 'zero')));
}
