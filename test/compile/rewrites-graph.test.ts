// merge, constantFolding and the shape no-op rewrites (removeNoopReshape, reshapeReshape,
// removeStopGradient).
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { DimShuffle } from '../../lib/graph/ops/shape';
import { T, assertClose, assertSame, countOps, graphText as show, fired, opNames, randomTensor, run, withAndWithout } from './helpers';

const NO_FUSION = ['elementwiseFusion'];

describe('compile: merge', () => {
  it('two identical subexpressions become one node', () => {
    const x = T.matrix('x');
    const out = T.exp(x).add(T.exp(x));
    const { opt, ref } = withAndWithout([x], out, 'merge', NO_FUSION);
    assert.equal(countOps(opt, 'exp'), 1, show(opt));
    assert.equal(countOps(ref, 'exp'), 2, show(ref));
    assert.ok(fired(opt, 'merge') >= 1);
    const addNode = opt.graph.nodes().find((n) => n.op.name === 'add')!;
    assert.equal(addNode.inputs[0], addNode.inputs[1], 'both operands of add are the one exp');
    const xv = randomTensor([3, 4], 1);
    assertSame(run(opt, xv)[0], run(ref, xv)[0], 'vs merge excluded');
    assertSame(run(opt, xv)[0], st.add(st.exp(xv), st.exp(xv)), 'vs eager');
  });

  it('equal constants merge, so whole chains built from them merge in turn', () => {
    const x = T.matrix('x');
    const a = T.sigmoid(x.mul(2).add(0.5));
    const b = T.sigmoid(x.mul(2).add(0.5)); // separate constant objects for 2 and 0.5
    const { opt, ref } = withAndWithout([x], a.mul(b), 'merge', NO_FUSION);
    assert.deepEqual(opNames(opt), ['mul', 'add', 'sigmoid', 'mul'], show(opt));
    assert.equal(countOps(ref, 'sigmoid'), 2);
    const xv = randomTensor([2, 5], 2);
    assertSame(run(opt, xv)[0], run(ref, xv)[0], 'vs merge excluded');
    const s = st.sigmoid(st.add(st.mul(xv, 2), 0.5));
    assertSame(run(opt, xv)[0], st.mul(s, s), 'vs eager');
  });

  it('outputs that are the same expression share one node and both come back', () => {
    const x = T.vector('x');
    const f = st.fn([x], [T.tanh(x), T.tanh(x)]);
    assert.equal(f.graph.outputs[0], f.graph.outputs[1]);
    const [a, b] = run(f, [0.5, -1]);
    assertSame(a, st.tanh(st.tensor([0.5, -1])), 'output 0');
    assertSame(b, st.tanh(st.tensor([0.5, -1])), 'output 1');
  });

  it('does not merge nodes that differ in op or attributes', () => {
    const x = T.matrix('x');
    const outs = [x.sum(0), x.sum(1), x.max(1), T.softmax(x, 0), T.softmax(x, 1), x.add(x), x.mul(x)];
    const f = st.fn([x], outs, { excludeRewrites: NO_FUSION });
    assert.equal(f.graph.nodes().length, outs.length, show(f));
    const xv = randomTensor([3, 4], 3);
    const got = run(f, xv);
    const eager = [st.sum(xv, 0), st.sum(xv, 1), st.max(xv, 1), st.softmax(xv, 0), st.softmax(xv, 1), st.add(xv, xv), st.mul(xv, xv)];
    eager.forEach((e, i) => assertSame(got[i], e, `output ${i}`));
  });

  // constantKey() renders -0 as "0", so x*0 and x*(-0) become one node.
  it('keeps 0 and -0 constants apart (x*0 vs x*(-0) differ in the sign of zero)', () => {
    const v = T.vector('v');
    const outs = [T.reciprocal(v.mul(0)), T.reciprocal(v.mul(-0))];
    const { opt, ref } = withAndWithout([v], outs, 'merge');
    const xv = st.tensor([1, 2]);
    const expect = [st.tensor([Infinity, Infinity]), st.tensor([-Infinity, -Infinity])];
    const r = run(ref, xv);
    assertSame(r[0], expect[0], '1/(x*0), merge excluded');
    assertSame(r[1], expect[1], '1/(x*-0), merge excluded');
    const o = run(opt, xv);
    assertSame(o[0], expect[0], '1/(x*0)');
    assertSame(o[1], expect[1], '1/(x*-0)');
  });

  // Op.key() is JSON.stringify of the attributes, which writes NaN and ±Infinity as null, so
  // nodes differing only in such an attribute (inlined fused constants, elementwise params) merge.
  it('keeps nodes with different non-finite attributes apart (maximum(x, +inf) vs maximum(x, -inf))', () => {
    const v = T.vector('v');
    const outs = [v.maximum(Infinity), v.maximum(-Infinity)];
    const f = st.fn([v], outs);
    const xv = st.tensor([1, -2]);
    const [a, b] = run(f, xv);
    assertSame(a, st.maximum(xv, Infinity), 'maximum(x, +inf)');
    assertSame(b, st.maximum(xv, -Infinity), 'maximum(x, -inf)');
  });

  it('keeps leakyRelu(x, +inf) and leakyRelu(x, -inf) apart', () => {
    const v = T.vector('v');
    const f = st.fn([v], [T.leakyRelu(v, Infinity), T.leakyRelu(v, -Infinity)], { excludeRewrites: NO_FUSION });
    const xv = st.tensor([-1, 2]);
    const [a, b] = run(f, xv);
    assertSame(a, st.leakyRelu(xv, Infinity), 'alpha = +inf');
    assertSame(b, st.leakyRelu(xv, -Infinity), 'alpha = -inf');
  });
});

describe('compile: constantFolding', () => {
  it('an expression of constants becomes one Constant', () => {
    const x = T.matrix('x');
    const c = T.exp(T.constant([1, 2, 3])).mul(2).sub(1);
    const { opt, ref } = withAndWithout([x], x.add(c), 'constantFolding', NO_FUSION);
    assert.deepEqual(opNames(opt), ['add'], show(opt));
    assert.ok(fired(opt, 'constantFolding') >= 3);
    assert.deepEqual(opNames(ref), ['exp', 'mul', 'sub', 'add'], show(ref));
    const add = opt.graph.nodes()[0];
    const folded = add.inputs.find((v) => v instanceof st.Constant) as st.Constant;
    assert.ok(folded, 'add reads a Constant');
    const eagerC = st.sub(st.mul(st.exp(st.tensor([1, 2, 3])), 2), 1);
    assertSame(folded.value, eagerC, 'folded value vs eager');
    const xv = randomTensor([2, 3], 4);
    assertSame(run(opt, xv)[0], run(ref, xv)[0], 'vs folding excluded');
    assertSame(run(opt, xv)[0], st.add(xv, eagerC), 'vs eager');
  });

  it('a constant output is a Constant in the optimized graph', () => {
    const x = T.vector('x');
    const f = st.fn([x], [x.mul(2), T.constant(3).add(4).mul(T.constant([1, 2]))]);
    const out1 = f.graph.outputs[1];
    assert.ok(out1 instanceof st.Constant, show(f));
    const [, b] = run(f, [1, 1]);
    assertSame(b, st.tensor([7, 14]), 'constant output');
  });

  it('folds int32 and bool expressions with their dtypes', () => {
    const x = T.ivector('x');
    const c = T.constant([1, 2, 3], undefined, 'int32').mul(3).greater(4);
    const f = st.fn([x], T.where(c, x, T.neg(x)), { excludeRewrites: NO_FUSION });
    assert.deepEqual(opNames(f), ['neg', 'where'], show(f));
    assertSame(run(f, [5, 6, 7])[0], st.tensor([-5, 6, 7], { dtype: 'int32' }), 'where(folded, x, -x)');
  });

  it('does not fold constants larger than 2^20 elements', () => {
    const x = T.scalar('x');
    const big = T.constant(st.zeros([1100, 1000]));
    const f = st.fn([x], T.exp(big).sum().add(x), { excludeRewrites: NO_FUSION });
    assert.equal(countOps(f, 'exp'), 1, show(f));
    const [r] = run(f, 1);
    assertSame(r, st.tensor(1100001), 'sum(exp(0)) + 1');
  });
});

describe('compile: removeNoopReshape', () => {
  it('removes a reshape to the same static shape and an identity transpose / dimshuffle', () => {
    const x = T.tensor('float32', [2, 3], 'x');
    const ds = T.applyOp1(new DimShuffle([0, 1]), [x]);
    const out = T.reshape(x, [2, 3]).add(T.transpose(x, [0, 1])).add(ds);
    const { opt, ref } = withAndWithout([x], out, 'removeNoopReshape', NO_FUSION);
    assert.deepEqual(opNames(opt), ['add', 'add'], show(opt));
    assert.equal(fired(opt, 'removeNoopReshape'), 3);
    assert.equal(countOps(ref, 'reshape') + countOps(ref, 'transpose') + countOps(ref, 'dimshuffle'), 3, show(ref));
    const xv = randomTensor([2, 3], 5);
    assertSame(run(opt, xv)[0], run(ref, xv)[0], 'vs excluded');
    assertSame(run(opt, xv)[0], st.add(st.add(xv, xv), xv), 'vs eager');
  });

  it('keeps reshapes that change the shape or cannot be proven no-ops', () => {
    const x = T.tensor('float32', [2, 3], 'x');
    const m = T.matrix('m'); // unknown shape: reshape to [2,3] is a real reshape for a [3,2] input
    const f = st.fn([x, m], [T.reshape(x, [3, 2]), T.reshape(m, [2, 3]), T.transpose(x, [1, 0])]);
    assert.equal(fired(f, 'removeNoopReshape'), 0, show(f));
    const xv = randomTensor([2, 3], 6), mv = randomTensor([3, 2], 7);
    const [a, b, c] = run(f, xv, mv);
    assertSame(a, st.reshape(xv, [3, 2]), 'reshape [3,2]');
    assertSame(b, st.reshape(mv, [2, 3]), 'reshape unknown -> [2,3]');
    assertSame(c, st.transpose(xv), 'transpose');
  });
});

describe('compile: reshapeReshape', () => {
  it('reshape(reshape(x)) becomes one reshape', () => {
    const x = T.tensor('float32', [2, 3], 'x');
    const out = T.reshape(T.reshape(x, [6]), [3, 2]).mul(2);
    const { opt, ref } = withAndWithout([x], out, 'reshapeReshape', NO_FUSION);
    assert.equal(countOps(opt, 'reshape'), 1, show(opt));
    assert.equal(countOps(ref, 'reshape'), 2, show(ref));
    assert.equal(fired(opt, 'reshapeReshape'), 1);
    const xv = randomTensor([2, 3], 8);
    assertSame(run(opt, xv)[0], run(ref, xv)[0], 'vs excluded');
    assertSame(run(opt, xv)[0], st.mul(st.reshape(xv, [3, 2]), 2), 'vs eager');
  });

  it('with -1 targets and unknown input shapes', () => {
    const x = T.matrix('x');
    const out = T.reshape(T.reshape(x, [-1]), [-1, 4]).exp();
    const { opt, ref } = withAndWithout([x], out, 'reshapeReshape', NO_FUSION);
    assert.equal(countOps(opt, 'reshape'), 1, show(opt));
    for (const shape of [[2, 6], [4, 4], [8, 1]]) {
      const xv = randomTensor(shape, 9);
      assertSame(run(opt, xv)[0], run(ref, xv)[0], `[${shape}] vs excluded`);
      assertSame(run(opt, xv)[0], st.exp(st.reshape(xv, [-1, 4])), `[${shape}] vs eager`);
    }
  });
});

describe('compile: removeStopGradient', () => {
  it('stopGradient disappears from the compiled graph; its gradient stays zero', () => {
    const x = T.vector('x');
    const cost = T.stopGradient(x).mul(x).sum();
    const g = st.grad(cost, x);
    const { opt, ref } = withAndWithout([x], [cost, g], 'removeStopGradient', NO_FUSION);
    assert.equal(countOps(opt, 'stopGradient'), 0, show(opt));
    assert.ok(countOps(ref, 'stopGradient') >= 1, show(ref));
    assert.ok(fired(opt, 'removeStopGradient') >= 1);
    const xv = st.tensor([1, -2, 3]);
    const a = run(opt, xv), b = run(ref, xv);
    assertSame(a[0], b[0], 'cost vs excluded');
    assertSame(a[1], b[1], 'grad vs excluded');
    assertSame(a[0], st.sum(st.mul(xv, xv)), 'cost vs eager');
    assertClose(a[1], xv, 'd/dx sum(sg(x)·x) = x (not 2x)', 0, 0);
  });
});
