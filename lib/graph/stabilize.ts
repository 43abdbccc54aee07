// Stabilization: forms that overflow or lose precision replaced by equivalent stable ones.  The
// rules live in the graph layer because grad() differentiates the stable form (so gradients are
// stable too); the compiler runs the same rules as its 'stabilize' phase.  The first three
// recognize formulas users write by hand (the logistic function, softplus, softmax) as the ops
// they compute, so the log rules below reach them too.
import { isFloat } from '../dtype';
import { Softmax } from './ops/nn';
import { CrossEntropySoftmax, labelsFit } from './ops/loss';
import { ew } from './ops/elemwise';
import { Reduce } from './ops/reduce';
import { cast } from './ops/helpers';
import { Variable, applyOp1 } from './variable';
import { Rewrite, fits, localRewrite } from './rewrite';
import { rebuild, toposort } from './traverse';
import { ewName, scalarValue } from './match';

/** v, broadcast (and upcast) with the one-element constant it replaced: v + 0·c. */
function keepShape(v: Variable, c: Variable): Variable {
  if (c.ndim <= v.ndim && c.dtype === v.dtype) return v;
  return ew('add', [v, ew('mul', [c, 0])]);
}

/** The x of `x + 1` or `1 + x` (1 a one-element constant of any dtype), with the 1; else null. */
function onePlus(v: Variable): [Variable, Variable] | null {
  if (ewName(v) !== 'add') return null;
  const [a, b] = v.owner!.inputs;
  return scalarValue(b) === 1 ? [a, b] : scalarValue(a) === 1 ? [b, a] : null;
}

/** The x of exp(x), else null. */
function expArg(v: Variable): Variable | null {
  return ewName(v) === 'exp' ? v.owner!.inputs[0] : null;
}

/** z when w is -z written as neg(z), z * -1 or -1 * z (with w's type); else null. */
function negated(w: Variable): Variable | null {
  const name = ewName(w);
  if (name === 'neg') return w.owner!.inputs[0];
  if (name !== 'mul') return null;
  const [a, b] = w.owner!.inputs;
  const z = scalarValue(b) === -1 ? a : scalarValue(a) === -1 ? b : null;
  return z && z.dtype === w.dtype && z.ndim === w.ndim ? z : null;
}

/** True when a and b are the same variable or the same elementwise op of the same inputs. */
function sameExpr(a: Variable, b: Variable): boolean {
  if (a === b) return true;
  const p = a.owner, q = b.owner;
  return !!p && !!q && ewName(p) !== null && p.op.key() === q.op.key() && p.inputs.length === q.inputs.length && p.inputs.every((v, i) => v === q.inputs[i]);
}

/** op(x) computed in `like`'s float dtype, broadcast (v + 0·c) like each constant it replaced. */
function floatOp(name: 'sigmoid' | 'softplus', x: Variable, like: Variable, consts: Variable[]): Variable | null {
  if (!isFloat(like.dtype)) return null;
  return consts.reduce((v, c) => keepShape(v, c), ew(name, [cast(x, like.dtype)]));
}

/**
 * The logistic function written out -> sigmoid: 1 / (1 + exp(-z)), reciprocal(1 + exp(-z)) and
 * exp(z) / (1 + exp(z)) -> sigmoid(z); 1 / (1 + exp(w)) for any other w -> sigmoid(-w).  Either
 * operand order of the +, -z as neg(z) or z * -1.
 */
export const recognizeSigmoid = localRewrite({
  name: 'recognizeSigmoid',
  fn(node) {
    const name = ewName(node);
    const den = name === 'div' ? node.inputs[1] : name === 'reciprocal' ? node.inputs[0] : null;
    const sum = den && onePlus(den);
    const w = sum && expArg(sum[0]);
    if (!sum || !w) return null;
    const out = node.outputs[0];
    const num = name === 'div' ? node.inputs[0] : null; // null: reciprocal
    if (!num || scalarValue(num) === 1) return floatOp('sigmoid', negated(w) ?? ew('neg', [w]), out, num ? [num, sum[1]] : [sum[1]]);
    return expArg(num) && sameExpr(num, sum[0]) ? floatOp('sigmoid', w, out, [sum[1]]) : null;
  },
});

/** log(1 + exp(z)) (either order) and log1p(exp(z)) -> softplus(z) */
export const recognizeSoftplus = localRewrite({
  name: 'recognizeSoftplus',
  fn(node) {
    const name = ewName(node);
    if (name === 'log1p') {
      const z = expArg(node.inputs[0]);
      return z && floatOp('softplus', z, node.outputs[0], []);
    }
    if (name !== 'log') return null;
    const sum = onePlus(node.inputs[0]);
    const z = sum && expArg(sum[0]);
    return z && floatOp('softplus', z, node.outputs[0], [sum[1]]);
  },
});

/**
 * exp(x) / sum(exp(x), axis, true) -> softmax(x, axis), for one axis; without keepDims only for
 * axis 0, the one axis whose removal still broadcasts back into place.
 */
export const recognizeSoftmax = localRewrite({
  name: 'recognizeSoftmax',
  fn(node) {
    if (ewName(node) !== 'div') return null;
    const [e, s] = node.inputs;
    const x = expArg(e);
    const red = s.owner;
    if (!x || !red || !(red.op instanceof Reduce) || red.op.rop !== 'sum' || red.op.axes.length !== 1) return null;
    const axis = red.op.axes[0];
    if (!sameExpr(red.inputs[0], e) || (!red.op.keepDims && axis !== 0)) return null;
    const out = node.outputs[0];
    if (!isFloat(out.dtype) || e.dtype !== out.dtype) return null;
    return applyOp1(new Softmax(false, axis), [cast(x, out.dtype)]);
  },
});

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
export const stabilizeRules: Rewrite[] = [recognizeSigmoid, recognizeSoftplus, recognizeSoftmax, logSoftmax, logSigmoid, log1mSigmoid, log1p, softmaxCrossEntropy];

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
