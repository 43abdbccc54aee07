// Stabilization: forms that overflow or lose precision replaced by equivalent stable ones.  The
// rules live in the graph layer because grad() differentiates the stable form (so gradients are
// stable too); the compiler runs the same rules as its 'stabilize' phase.
import { Softmax } from './ops/nn';
import { CrossEntropySoftmax, labelsFit } from './ops/loss';
import { ew } from './ops/elemwise';
import { Reduce } from './ops/reduce';
import { Variable, applyOp1 } from './variable';
import { Rewrite, fits, localRewrite } from './rewrite';
import { rebuild, toposort } from './traverse';
import { ewName, scalarValue } from './match';

/** v, broadcast (and upcast) with the one-element constant it replaced: v + 0·c. */
function keepShape(v: Variable, c: Variable): Variable {
  if (c.ndim <= v.ndim && c.dtype === v.dtype) return v;
  return ew('add', [v, ew('mul', [c, 0])]);
}

/** log(softmax(x)) -> logSoftmax(x) */
export const logSoftmax = localRewrite({
  name: 'logSoftmax',
  fn(node) {
    if (ewName(node) !== 'log') return null;
    const inner = node.inputs[0].owner;
    if (!inner || !(inner.op instanceof Softmax) || inner.op.name !== 'softmax') return null;
    return applyOp1(new Softmax(true, inner.op.axis), [inner.inputs[0]]);
  },
});

/** log(sigmoid(x)) -> -softplus(-x) */
export const logSigmoid = localRewrite({
  name: 'logSigmoid',
  fn(node) {
    if (ewName(node) !== 'log' || ewName(node.inputs[0]) !== 'sigmoid') return null;
    const x = node.inputs[0].owner!.inputs[0];
    return ew('neg', [ew('softplus', [ew('neg', [x])])]);
  },
});

/** log(1 - sigmoid(x)) -> -softplus(x) */
export const log1mSigmoid = localRewrite({
  name: 'log1mSigmoid',
  fn(node) {
    if (ewName(node) !== 'log' || ewName(node.inputs[0]) !== 'sub') return null;
    const [one, s] = node.inputs[0].owner!.inputs;
    if (scalarValue(one) !== 1 || ewName(s) !== 'sigmoid') return null;
    return keepShape(ew('neg', [ew('softplus', [s.owner!.inputs[0]])]), one);
  },
});

/** log(1 + x) -> log1p(x) */
export const log1p = localRewrite({
  name: 'log1p',
  fn(node) {
    if (ewName(node) !== 'log' || ewName(node.inputs[0]) !== 'add') return null;
    const [a, b] = node.inputs[0].owner!.inputs;
    const [x, one] = scalarValue(a) === 1 ? [b, a] : scalarValue(b) === 1 ? [a, b] : [null, null];
    if (!x || !one || x.dtype !== node.outputs[0].dtype) return null;
    return keepShape(ew('log1p', [x]), one);
  },
});

/** -sum(y * logSoftmax(x), last axis) -> crossEntropySoftmax(x, y): one fused op, stable gradient. */
export const softmaxCrossEntropy = localRewrite({
  name: 'softmaxCrossEntropy',
  fn(node) {
    if (ewName(node) !== 'neg') return null;
    const red = node.inputs[0].owner;
    if (!red || !(red.op instanceof Reduce) || red.op.rop !== 'sum' || red.op.keepDims) return null;
    const prod = red.inputs[0];
    if (red.op.axes.length !== 1 || red.op.axes[0] !== prod.ndim - 1 || ewName(prod) !== 'mul') return null;
    const [a, b] = prod.owner!.inputs;
    const isLs = (v: typeof a) => v.owner?.op instanceof Softmax && v.owner.op.name === 'logSoftmax' && (v.owner.op.axis === -1 || v.owner.op.axis === v.ndim - 1);
    const [ls, y] = isLs(b) ? [b, a] : isLs(a) ? [a, b] : [null, null];
    if (!ls || !y) return null;
    const x = ls.owner!.inputs[0];
    if (!labelsFit(y, x) || x.dtype !== node.outputs[0].dtype) return null;
    return applyOp1(new CrossEntropySoftmax(), [x, y]);
  },
});

/** The stabilization rules, in the order they are tried. */
export const stabilizeRules: Rewrite[] = [logSoftmax, logSigmoid, log1mSigmoid, log1p, softmaxCrossEntropy];

/** The stable form of an expression (no FunctionGraph needed): what grad() differentiates. */
export function stabilize(root: Variable): Variable {
  const map = new Map<Variable, Variable>();
  const get = (v: Variable) => map.get(v) ?? v;
  for (const node of toposort([root])) {
    const ins = node.inputs.map(get);
    const changed = ins.some((v, i) => v !== node.inputs[i]);
    let outs = changed ? rebuild(node.op, ins, node.trace) : node.outputs;
    if (outs.length === 1) {
      for (const r of stabilizeRules) {
        const rep = r.fn(outs[0].owner!, null);
        if (rep && fits(rep, outs[0])) {
          outs = [rep];
          break;
        }
      }
    }
    node.outputs.forEach((o, k) => outs[k] !== o && map.set(o, outs[k]));
  }
  return get(root);
}
