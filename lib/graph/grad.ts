// Reverse-mode differentiation.  Every op's gradient is itself a graph, so gradients are
// optimized with the rest and can be differentiated again.
import { isFloat } from '../dtype';
import { SymtensorError, argError, fmtShape } from '../errors';
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
  if (!(cost instanceof Variable)) throw argError(op, 'cost must be a symbolic variable');
  if (cost.staticShape.some((d) => d !== 1)) throw new SymtensorError('ERR_ST_SHAPE', op, `cost must be a scalar, got ${cost.describe()} (take T.sum or T.mean first)`);
  if (!isFloat(cost.dtype)) throw new SymtensorError('ERR_ST_DTYPE', op, `cost must be float32 or float64, got ${cost.dtype}`);
  const list = Array.isArray(wrt) ? wrt : [wrt];
  for (const w of list) if (!(w instanceof Variable)) throw argError(op, 'wrt must be symbolic variables');
  const consider = opts.consider ?? 'raise';

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

/** d y / d x for a vector (or scalar) y: a tensor of shape [len(y), ...x.shape]. */
export function jacobian(y: Variable, x: Variable, opts: GradOptions = {}): Variable {
  if (y.ndim === 0) return grad(y, x, opts);
  if (y.ndim !== 1 || y.staticShape[0] === null) throw new SymtensorError('ERR_ST_SHAPE', 'jacobian', `y must be a vector of known length, got ${y.describe()} ${fmtShape(y.staticShape)}`);
  const rows = [...Array(y.staticShape[0]).keys()].map((i) => grad(T.reshape(T.slice(y, [i], [1]), []), x, { consider: opts.consider ?? 'zero' }));
  return T.stack(rows, 0);
}

/** Second derivatives of a scalar cost with respect to a vector x. */
export function hessian(cost: Variable, x: Variable, opts: GradOptions = {}): Variable {
  if (x.ndim !== 1) throw new SymtensorError('ERR_ST_SHAPE', 'hessian', `x must be a vector, got ${x.describe()}`);
  return jacobian(grad(cost, x, opts), x, { consider: 'zero' });
}
