// Algebraic simplification: identities that hold for every value, NaN, infinity and -0 included
// (x*1, x+(-0), x-0, x/1, neg(neg x), log(exp x), a cast to the dtype x has), plus x-x -> 0 as
// Theano does.  x+0 is left alone (-0 + 0 is +0), and so is exp(log x) (NaN, not x, for negative x).
import { scalarConstant } from '../../graph/ops/elemwise';
import { BroadcastLike, Cast } from '../../graph/ops/shape';
import { applyOp1 } from '../../graph/variable';
import { localRewrite } from '../../graph/rewrite';
import { ewName, sameShapeOrUnknown, scalarValue } from '../../graph/match';

/** x op c -> x when c is the identity element and the result has x's type. */
function identityElement(fnName: string, ident: number, commutes: boolean, label: string) {
  return localRewrite({
    name: label,
    fn(node) {
      if (ewName(node) !== fnName) return null;
      const out = node.outputs[0];
      const [a, b] = node.inputs;
      const is = (v: typeof a) => { const c = scalarValue(v); return c !== null && Object.is(c, ident); };
      if (is(b) && a.dtype === out.dtype && sameShapeOrUnknown(a, out)) return a;
      if (commutes && is(a) && b.dtype === out.dtype && sameShapeOrUnknown(b, out)) return b;
      return null;
    },
  });
}

export const mulIdentity = identityElement('mul', 1, true, 'mulIdentity');
export const addIdentity = identityElement('add', -0, true, 'addIdentity');
export const subIdentity = identityElement('sub', 0, false, 'subIdentity');
export const divIdentity = identityElement('div', 1, false, 'divIdentity');

/** cast(x, dtype) -> x when x already has that dtype (T.cast writes no conversion, but it is a node). */
export const castSame = localRewrite({
  name: 'castSame',
  fn(node) {
    return node.op instanceof Cast && node.op.dtype === node.inputs[0].dtype ? node.inputs[0] : null;
  },
});

export const negNeg = localRewrite({
  name: 'negNeg',
  fn(node) {
    if (ewName(node) !== 'neg' || ewName(node.inputs[0]) !== 'neg') return null;
    return node.inputs[0].owner!.inputs[0];
  },
});

export const logExp = localRewrite({
  name: 'logExp',
  fn(node) {
    if (ewName(node) !== 'log' || ewName(node.inputs[0]) !== 'exp') return null;
    const x = node.inputs[0].owner!.inputs[0];
    return x.dtype === node.outputs[0].dtype ? x : null;
  },
});

export const subSelf = localRewrite({
  name: 'subSelf',
  fn(node) {
    if (ewName(node) !== 'sub' || node.inputs[0] !== node.inputs[1]) return null;
    const x = node.inputs[0];
    const dtype = node.outputs[0].dtype;
    return applyOp1(new BroadcastLike(), [scalarConstant(0, dtype === 'bool' ? 'int32' : dtype), x]);
  },
});
