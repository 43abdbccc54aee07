// Stabilization: forms that overflow or lose precision replaced by equivalent stable ones.
import { Softmax } from '../../graph/ops/nn';
import { CrossEntropySoftmax } from '../../graph/ops/loss';
import { ew } from '../../graph/ops/elemwise';
import { Reduce } from '../../graph/ops/reduce';
import { Variable, applyOp1 } from '../../graph/variable';
import { register } from '../rewrite';
import { ewName, scalarValue } from './util';

/** v, broadcast (and upcast) with the one-element constant it replaced: v + 0·c. */
function keepShape(v: Variable, c: Variable): Variable {
  if (c.ndim <= v.ndim && c.dtype === v.dtype) return v;
  return ew('add', [v, ew('mul', [c, 0])]);
}

/** log(softmax(x)) -> logSoftmax(x) */
export const logSoftmax = register({
  name: 'logSoftmax',
  tags: ['stabilize'],
  fn(node) {
    if (ewName(node) !== 'log') return null;
    const inner = node.inputs[0].owner;
    if (!inner || !(inner.op instanceof Softmax) || inner.op.name !== 'softmax') return null;
    return applyOp1(new Softmax(true, inner.op.axis), [inner.inputs[0]]);
  },
});

/** log(sigmoid(x)) -> -softplus(-x) */
export const logSigmoid = register({
  name: 'logSigmoid',
  tags: ['stabilize'],
  fn(node) {
    if (ewName(node) !== 'log' || ewName(node.inputs[0]) !== 'sigmoid') return null;
    const x = node.inputs[0].owner!.inputs[0];
    return ew('neg', [ew('softplus', [ew('neg', [x])])]);
  },
});

/** log(1 - sigmoid(x)) -> -softplus(x) */
export const log1mSigmoid = register({
  name: 'log1mSigmoid',
  tags: ['stabilize'],
  fn(node) {
    if (ewName(node) !== 'log' || ewName(node.inputs[0]) !== 'sub') return null;
    const [one, s] = node.inputs[0].owner!.inputs;
    if (scalarValue(one) !== 1 || ewName(s) !== 'sigmoid') return null;
    return keepShape(ew('neg', [ew('softplus', [s.owner!.inputs[0]])]), one);
  },
});

/** log(1 + x) -> log1p(x) */
export const log1p = register({
  name: 'log1p',
  tags: ['stabilize'],
  fn(node) {
    if (ewName(node) !== 'log' || ewName(node.inputs[0]) !== 'add') return null;
    const [a, b] = node.inputs[0].owner!.inputs;
    const [x, one] = scalarValue(a) === 1 ? [b, a] : scalarValue(b) === 1 ? [a, b] : [null, null];
    if (!x || !one || x.dtype !== node.outputs[0].dtype) return null;
    return keepShape(ew('log1p', [x]), one);
  },
});

/** -sum(y * logSoftmax(x), last axis) -> crossEntropySoftmax(x, y): one fused op, stable gradient. */
export const softmaxCrossEntropy = register({
  name: 'softmaxCrossEntropy',
  tags: ['stabilize'],
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

/** True when labels y broadcast to the logits' shape without enlarging it. */
export function labelsFit(y: { ndim: number; shape: (number | null)[] }, x: { ndim: number; shape: (number | null)[] }): boolean {
  if (y.ndim > x.ndim) return false;
  const lead = x.ndim - y.ndim;
  return y.shape.every((d, i) => d === 1 || (d !== null && d === x.shape[i + lead]) || (d === null && x.shape[i + lead] === null));
}
