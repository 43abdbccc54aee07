// Algebraic simplification: identities that hold for every value, NaN and infinity included
// (x*1, x+0, x-0, x/1, neg(neg x), log(exp x)), plus x-x -> 0 as Theano does.
// exp(log x) is not rewritten: it is NaN, not x, for negative x.
import { scalarConstant } from '../../graph/ops/elemwise';
import { BroadcastLike } from '../../graph/ops/shape';
import { applyOp1 } from '../../graph/variable';
import { register } from '../rewrite';
import { ewName, sameShapeOrUnknown, scalarValue } from './util';

/** x op c -> x when c is the identity element and the result has x's type. */
function identityElement(fnName: string, ident: number, commutes: boolean) {
  return register({
    name: `${fnName}Identity`,
    tags: ['canonicalize'],
    fn(node) {
      if (ewName(node) !== fnName) return null;
      const out = node.outputs[0];
      const [a, b] = node.inputs;
      if (scalarValue(b) === ident && a.dtype === out.dtype && sameShapeOrUnknown(a, out)) return a;
      if (commutes && scalarValue(a) === ident && b.dtype === out.dtype && sameShapeOrUnknown(b, out)) return b;
      return null;
    },
  });
}

export const mulOne = identityElement('mul', 1, true);
export const addZero = identityElement('add', 0, true);
export const subZero = identityElement('sub', 0, false);
export const divOne = identityElement('div', 1, false);

export const negNeg = register({
  name: 'negNeg',
  tags: ['canonicalize'],
  fn(node) {
    if (ewName(node) !== 'neg' || ewName(node.inputs[0]) !== 'neg') return null;
    return node.inputs[0].owner!.inputs[0];
  },
});

export const logExp = register({
  name: 'logExp',
  tags: ['canonicalize'],
  fn(node) {
    if (ewName(node) !== 'log' || ewName(node.inputs[0]) !== 'exp') return null;
    const x = node.inputs[0].owner!.inputs[0];
    return x.dtype === node.outputs[0].dtype ? x : null;
  },
});

export const subSelf = register({
  name: 'subSelf',
  tags: ['canonicalize'],
  fn(node) {
    if (ewName(node) !== 'sub' || node.inputs[0] !== node.inputs[1]) return null;
    const x = node.inputs[0];
    const dtype = node.outputs[0].dtype;
    return applyOp1(new BroadcastLike(), [scalarConstant(0, dtype === 'bool' ? 'int32' : dtype), x]);
  },
});
