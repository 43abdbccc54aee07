// float64 gradients stay float64: every value in the gradient graph of a float64 expression, as built
// and as compiled, is float64 (a constant made in float32 inside a gradient rule or a rewrite would
// round, e.g. leakyRelu's 0.3 to 0.30000001192092896), and where the derivative has a closed form
// that float64 represents exactly, the compiled gradient is that number.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { toposort } from '../../lib/graph/traverse';
import { exportsOfKind } from '../support/exports';

const { T } = st;
type V = st.Variable;
type Build = (xs: V[]) => V;

interface Case {
  /** Input shapes (every input float64 and differentiated). */
  shapes: number[][];
  build: Build;
}

const one = (build: (x: V) => V, shape = [2, 3]): Case => ({ shapes: [shape], build: ([x]) => build(x) });
const two = (build: (x: V, y: V) => V, a = [2, 3], b = [2, 3]): Case => ({ shapes: [a, b], build: ([x, y]) => build(x, y) });
const TT = T as unknown as Record<string, (...a: unknown[]) => V>;

/** Ops with no gradient (predicates, comparisons, indices): nothing to check. */
const NOT_DIFFERENTIABLE = new Set([
  'isNaN', 'isFinite', 'logicalNot', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd',
  'logicalOr', 'all', 'any', 'argmax', 'argmin', 'oneHot', 'cast',
]);

const pool = { poolSize: 2 };
/** Ops whose arguments are not just float64 tensors of shape [2, 3]. */
const SPECIAL: Record<string, Case[]> = {
  leakyRelu: [one((x) => T.leakyRelu(x, 0.3))],
  elu: [one((x) => T.elu(x, 0.3))],
  clip: [one((x) => T.clip(x, -0.3, 0.7))],
  where: [two((x, y) => T.where(T.greater(x, 0.1), x, y)), one((x) => T.where(T.greater(x, 0.1), x, 0.3))],
  matmul: [two(T.matmul, [2, 3], [3, 4]), two((a, b) => T.matmul(a, b, true, false), [3, 2], [3, 4])],
  dot: [two(T.dot, [2, 3], [3]), two(T.dot, [2, 2, 3], [3, 4])],
  outer: [two(T.outer, [3], [4])],
  reshape: [one((x) => T.reshape(x, [3, -1]))],
  transpose: [one((x) => T.transpose(x))],
  permute: [one((x) => T.permute(x, [1, 0]))],
  expandDims: [one((x) => T.expandDims(x, 1))],
  squeeze: [one((x) => T.squeeze(x), [2, 1, 3])],
  flatten: [one(T.flatten)],
  slice: [one((x) => T.slice(x, [0, 1], [2, 2]))],
  stridedSlice: [one((x) => T.stridedSlice(x, [null, 2], [null, 0], [1, -2]))],
  concat: [two((x, y) => T.concat([x, y], 1))],
  stack: [two((x, y) => T.stack([x, y], 1))],
  split: [one((x) => T.mul(T.split(x, [1, 2], 1)[1], 0.3))],
  tile: [one((x) => T.tile(x, [2, 1]))],
  pad: [one((x) => T.pad(x, [[1, 0], [0, 2]], 0.3))],
  gather: [one((x) => T.gather(x, [2, 0, 2], 1))],
  broadcastTo: [one((x) => T.broadcastTo(x, [4, 2, 3]))],
  dimshuffle: [one((x) => T.dimshuffle(x, [1, 'x', 0]))],
  softmax: [one((x) => T.softmax(x))],
  logSoftmax: [one((x) => T.logSoftmax(x, 0))],
  conv2d: [two((x, w) => T.conv2d(x, w, { padding: 'same' }), [1, 4, 4, 2], [3, 3, 2, 2])],
  conv2dGradInput: [{ shapes: [[1, 4, 4, 2], [3, 3, 3, 2], [1, 4, 4, 3]], build: ([dy, w, x]) => T.conv2dGradInput(dy, w, x, { padding: 'same' }) }],
  conv2dGradFilter: [{ shapes: [[1, 4, 4, 3], [1, 4, 4, 2], [3, 3, 3, 2]], build: ([x, dy, w]) => T.conv2dGradFilter(x, dy, w, { padding: 'same' }) }],
  maxPool2d: [one((x) => T.maxPool2d(x, pool), [1, 4, 4, 2])],
  avgPool2d: [one((x) => T.avgPool2d(x, pool), [1, 4, 4, 2])],
  maxPool2dGrad: [two((x, dy) => T.maxPool2dGrad(x, dy, pool), [1, 4, 4, 2], [1, 2, 2, 2])],
  avgPool2dGrad: [two((x, dy) => T.avgPool2dGrad(x, dy, pool), [1, 4, 4, 2], [1, 2, 2, 2])],
  // T only
  categoricalCrossentropy: [two((y, x) => T.categoricalCrossentropy(y, T.softmax(x))), two((y, p) => T.categoricalCrossentropy(y, p))],
  binaryCrossentropy: [two((y, x) => T.binaryCrossentropy(y, T.sigmoid(x))), two((y, p) => T.binaryCrossentropy(y, p))],
  ifelse: [two((x, y) => T.ifelse(T.greater(T.sum(x), 0), T.mul(x, 0.3), y))],
  stabilized: [one((x) => T.log(T.softmax(x))), one((x) => T.log(T.sigmoid(x))), one((x) => T.log(T.add(1, x)))],
};

/** A case per differentiable op: the numeric exports' T twins, plus T's own. */
function cases(): [string, Case[]][] {
  const kinds = ['unary', 'binary', 'elementwise', 'reduce', 'linalg', 'shape', 'nn'] as const;
  const names = kinds.flatMap((k) => exportsOfKind(st, k)).filter((n) => typeof TT[n] === 'function' && !NOT_DIFFERENTIABLE.has(n));
  const out: [string, Case[]][] = names.map((n) => {
    if (SPECIAL[n]) return [n, SPECIAL[n]];
    if (exportsOfKind(st, 'binary').includes(n)) return [n, [two((x, y) => TT[n](x, y)), one((x) => TT[n](x, 0.3)), one((x) => TT[n](0.3, x))]];
    if (exportsOfKind(st, 'reduce').includes(n)) return [n, [one((x) => TT[n](x, 1)), one((x) => TT[n](x))]];
    return [n, [one((x) => TT[n](x))]];
  });
  for (const n of ['categoricalCrossentropy', 'binaryCrossentropy', 'ifelse', 'stabilized']) out.push([n, SPECIAL[n]]);
  return out;
}

/** Every float variable the nodes read or write that is not float64, described. */
function nonFloat64(nodes: st.Apply[]): string[] {
  const bad: string[] = [];
  for (const n of nodes)
    for (const v of [...n.inputs, ...n.outputs])
      if (v.dtype === 'float32') bad.push(`${v instanceof st.Constant ? `constant ${Array.from(v.value.dataSync().slice(0, 3))}` : v.describe()} in ${n.op.name}`);
  return bad;
}

function values(shape: number[], seed: number): st.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return st.tensor(Array.from({ length: n }, (_, i) => 0.2 + ((i * 7 + seed * 3) % 11) / 7), { shape, dtype: 'float64' });
}

describe('float64 gradients: no float32 value anywhere', () => {
  for (const [name, list] of cases()) {
    it(name, () => {
      list.forEach((c, k) => {
        const xs = c.shapes.map((s, i) => T.tensor('float64', s, `x${i}`));
        const out = c.build(xs);
        const cost = T.sum(T.mul(out, T.constant(values(out.staticShape as number[], 5))));
        const gs = st.grad(cost, xs, { consider: 'zero' });
        assert.deepEqual(nonFloat64(toposort(gs)), [], `${name} case ${k}: the gradient graph as built`);
        const f = st.fn(xs, gs);
        assert.deepEqual(nonFloat64(f.graph.nodes()), [], `${name} case ${k}: the compiled gradient graph`);
        const res = f.sync(...c.shapes.map((s, i) => values(s, i + k))) as st.Tensor[];
        res.forEach((t) => assert.equal(t.dtype, 'float64', `${name} case ${k}: result dtype`));
      });
    });
  }
});

describe('float64 gradients: closed forms that float64 represents exactly', () => {
  const grad1 = (build: (x: V) => V, xs: number[]): number[] => {
    const x = T.vector('x', 'float64');
    return Array.from(st.fn([x], st.grad(T.sum(build(x)), x)).sync(st.tensor(xs, { dtype: 'float64' })).dataSync());
  };
  it('leakyRelu(x, 0.3): 0.3 below zero, 1 above', () => {
    assert.deepEqual(grad1((x) => T.leakyRelu(x, 0.3), [-2, -0.5, 1.5]), [0.3, 0.3, 1]);
  });
  it('x * 0.1, x / 3, mean over 3: exactly 0.1, 1/3, 1/3', () => {
    assert.deepEqual(grad1((x) => T.mul(x, 0.1), [1, 2, 3]), [0.1, 0.1, 0.1]);
    assert.deepEqual(grad1((x) => T.div(x, 3), [1, 2, 3]), [1 / 3, 1 / 3, 1 / 3]);
    assert.deepEqual(grad1((x) => T.mean(x), [1, 2, 3]), [1 / 3, 1 / 3, 1 / 3]);
  });
  it('elu(x, 0.3) below zero: 0.3·exp(x) to float64 rounding', () => {
    const xs = [-2, -0.5];
    grad1((x) => T.elu(x, 0.3), xs).forEach((g, i) => assert.ok(Math.abs(g - 0.3 * Math.exp(xs[i])) < 1e-15, `elu'(${xs[i]}) = ${g}`));
  });
  it('selu above zero: its scale exactly', () => {
    assert.deepEqual(grad1((x) => T.selu(x), [0.5, 2]), [1.0507009873554805, 1.0507009873554805]);
  });
  it('second derivative of 0.3·x²: exactly 0.6', () => {
    const x = T.scalar('x', 'float64');
    const g2 = st.grad(st.grad(T.mul(T.square(x), 0.3), x), x);
    assert.equal(st.fn([x], g2).sync(st.tensor(1.7, { dtype: 'float64' })).item(), 0.6);
  });
});
