// Stabilization rewrites: the unstable form overflows (-inf / NaN) where the rewritten one stays
// finite and matches the eager stable op.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { T, assertClose, assertFinite, assertSame, countOps, graphText as show, errorOf, fired, opNames, randomTensor, run, withAndWithout } from './helpers';

const NO_FUSION = ['elementwiseFusion'];

function hasNonFinite(t: st.Tensor): boolean {
  return Array.from(t.dataSync() as ArrayLike<number>).some((v) => !Number.isFinite(v));
}

describe('compile: logSoftmax (log(softmax x))', () => {
  it('becomes one logSoftmax node', () => {
    const x = T.matrix('x');
    const { opt, ref } = withAndWithout([x], T.log(T.softmax(x)), 'logSoftmax');
    assert.deepEqual(opNames(opt), ['logSoftmax'], show(opt));
    assert.equal(fired(opt, 'logSoftmax'), 1);
    assert.ok(countOps(ref, 'softmax') === 1, show(ref));
    const xv = randomTensor([4, 6], 1);
    assertClose(run(opt, xv)[0], run(ref, xv)[0], 'vs rewrite excluded', 1e-5, 1e-6);
    assertSame(run(opt, xv)[0], st.logSoftmax(xv), 'vs eager logSoftmax');
  });

  it('large logits: finite and equal to eager logSoftmax, while log(softmax) gives -inf', () => {
    const x = T.matrix('x');
    const { opt, ref } = withAndWithout([x], T.log(T.softmax(x)), 'logSoftmax');
    const xv = st.tensor([[1000, 0, -1000], [-500, 500, 0], [88, 89, 90]]);
    const [a] = run(opt, xv);
    assertFinite(a, 'stabilized');
    assertSame(a, st.logSoftmax(xv), 'vs eager logSoftmax');
    assertClose(a, st.tensor([[0, -1000, -2000], [-1000, 0, -500], [-2.40760596, -1.40760596, -0.40760596]]), 'known values', 1e-6, 1e-5);
    const [b] = run(ref, xv);
    assert.ok(hasNonFinite(b), `without the rewrite some values are -inf/NaN: ${b.toString()}`);
  });

  it('keeps the axis', () => {
    const x = T.matrix('x');
    const f = st.fn([x], T.log(T.softmax(x, 0)));
    assert.deepEqual(opNames(f), ['logSoftmax'], show(f));
    const xv = st.tensor([[1000, 0], [0, 1000], [-3, 2]]);
    assertSame(run(f, xv)[0], st.logSoftmax(xv, 0), 'axis 0');
  });

  it('does not touch softmax without the log', () => {
    const x = T.matrix('x');
    const f = st.fn([x], T.exp(T.softmax(x)), { excludeRewrites: NO_FUSION });
    assert.deepEqual(opNames(f), ['softmax', 'exp'], show(f));
  });
});

describe('compile: logSigmoid (log(sigmoid x) -> -softplus(-x))', () => {
  it('removes log and sigmoid and matches the unoptimized form', () => {
    const x = T.matrix('x');
    const { opt, ref } = withAndWithout([x], T.log(T.sigmoid(x)), 'logSigmoid', NO_FUSION);
    assert.equal(countOps(opt, 'log') + countOps(opt, 'sigmoid'), 0, show(opt));
    assert.equal(countOps(opt, 'softplus'), 1, show(opt));
    assert.equal(fired(opt, 'logSigmoid'), 1);
    const xv = randomTensor([3, 5], 2, -10, 10);
    assertClose(run(opt, xv)[0], run(ref, xv)[0], 'vs rewrite excluded', 1e-5, 1e-6);
    assertSame(run(opt, xv)[0], st.neg(st.softplus(st.neg(xv))), 'vs eager -softplus(-x)');
  });

  it('x = -200: finite (-200) where log(sigmoid) is -inf', () => {
    const v = T.vector('v');
    const { opt, ref } = withAndWithout([v], T.log(T.sigmoid(v)), 'logSigmoid');
    const xv = st.tensor([-200, -100, 0, 50]);
    const [a] = run(opt, xv);
    assertFinite(a, 'stabilized');
    assertClose(a, st.tensor([-200, -100, -Math.LN2, 0]), 'log sigmoid', 1e-6, 1e-6);
    assertSame(a, st.neg(st.softplus(st.neg(xv))), 'vs eager');
    assert.equal(run(ref, xv)[0].dataSync()[0], -Infinity, 'unstabilized log(sigmoid(-200))');
  });
});

describe('compile: log1mSigmoid (log(1 - sigmoid x) -> -softplus(x))', () => {
  it('removes log, sub and sigmoid and matches the unoptimized form', () => {
    const x = T.matrix('x');
    const { opt, ref } = withAndWithout([x], T.log(T.sub(1, T.sigmoid(x))), 'log1mSigmoid', NO_FUSION);
    assert.equal(countOps(opt, 'log') + countOps(opt, 'sigmoid') + countOps(opt, 'sub'), 0, show(opt));
    assert.equal(fired(opt, 'log1mSigmoid'), 1);
    // 1 - sigmoid(x) cancels for large x, so the unoptimized form is only compared where it is accurate
    const xv = randomTensor([3, 5], 3, -8, 2);
    assertClose(run(opt, xv)[0], run(ref, xv)[0], 'vs rewrite excluded', 1e-5, 2e-6);
    const wide = randomTensor([3, 5], 3, -8, 8);
    assertSame(run(opt, wide)[0], st.neg(st.softplus(wide)), 'vs eager -softplus(x)');
    const exact = Array.from(wide.dataSync()).map((x) => -Math.log1p(Math.exp(x)));
    assertClose(run(opt, wide)[0], st.tensor(exact, { shape: [3, 5] }), 'vs double-precision reference', 1e-6, 1e-6);
  });

  it('x = 200: finite (-200) where log(1 - sigmoid) is -inf', () => {
    const v = T.vector('v');
    const { opt, ref } = withAndWithout([v], T.log(T.sub(1, T.sigmoid(v))), 'log1mSigmoid');
    const xv = st.tensor([200, 100, 0, -50]);
    const [a] = run(opt, xv);
    assertFinite(a, 'stabilized');
    assertClose(a, st.tensor([-200, -100, -Math.LN2, 0]), 'log(1 - sigmoid)', 1e-6, 1e-6);
    assert.equal(run(ref, xv)[0].dataSync()[0], -Infinity, 'unstabilized');
  });

  it('does not fire for log(2 - sigmoid x)', () => {
    const v = T.vector('v');
    const f = st.fn([v], T.log(T.sub(2, T.sigmoid(v))));
    assert.equal(fired(f, 'log1mSigmoid'), 0, show(f));
    assertClose(run(f, [0])[0], st.tensor([Math.log(1.5)]), 'log(2 - 0.5)', 1e-6, 1e-7);
  });

  // The rewrite checks neither the rank nor the dtype of the replaced node: fg.replace throws.
  it('when the 1 broadcasts to a larger rank: compiles and matches the unoptimized form', () => {
    const v = T.vector('v');
    const out = T.log(T.sub(T.constant([[1]]), T.sigmoid(v)));
    const ref = st.fn([v], out, { excludeRewrites: ['log1mSigmoid'] });
    const xv = st.tensor([200, 0]);
    const expected = run(ref, xv)[0];
    assert.deepEqual(expected.shape, [1, 2]);
    const err = errorOf(() => st.fn([v], out));
    assert.ok(err === null, `compiling log([[1]] - sigmoid(v)) threw: ${err?.message}`);
    const [a] = run(st.fn([v], out), xv);
    assert.deepEqual(a.shape, [1, 2]);
    assertClose(a, st.tensor([[-200, -Math.LN2]]), 'stabilized', 1e-6, 1e-6);
  });

  it('when the 1 is float64 and x float32: compiles, result float64', () => {
    const v = T.vector('v');
    const out = T.log(T.sub(T.constant(1, undefined, 'float64'), T.sigmoid(v)));
    assert.equal(out.dtype, 'float64');
    const err = errorOf(() => st.fn([v], out));
    assert.ok(err === null, `compiling log(float64 1 - sigmoid(float32 v)) threw: ${err?.message}`);
    const [a] = run(st.fn([v], out), [0, 3]);
    assert.equal(a.dtype, 'float64');
    assertClose(a, st.tensor([-Math.LN2, -3.048587351573742], { dtype: 'float64' }), 'value', 1e-6, 1e-7);
  });
});

describe('compile: log1p (log(1 + x))', () => {
  it('becomes log1p (both operand orders), exact for tiny x', () => {
    const v = T.vector('v');
    const outs = [T.log(T.add(1, v)), T.log(v.add(1))];
    const { opt, ref } = withAndWithout([v], outs, 'log1p', NO_FUSION);
    assert.deepEqual(opNames(opt), ['log1p'], show(opt)); // the two merge
    assert.equal(countOps(opt, 'log'), 0);
    const xv = st.tensor([1e-10, -1e-8, 0.5, 3, -0.75]);
    const a = run(opt, xv), b = run(ref, xv);
    assertSame(a[0], st.log1p(xv), 'vs eager log1p');
    assertSame(a[1], st.log1p(xv), 'vs eager log1p (x + 1)');
    assert.equal(b[0].dataSync()[0], 0, 'log(1 + 1e-10) in float32 loses x entirely');
    assertClose(st.slice(a[0], [2]), st.slice(b[0], [2]), 'vs rewrite excluded where 1 + x is representable', 1e-6, 1e-7);
  });

  it('does not fire for log(2 + x) or for int32 x', () => {
    const v = T.vector('v'), iv = T.ivector('iv');
    const f = st.fn([v, iv], [T.log(v.add(2)), T.log(iv.add(1))], { excludeRewrites: NO_FUSION });
    assert.equal(fired(f, 'log1p'), 0, show(f));
    const [a, b] = run(f, [1, 2], [0, 1]);
    assertSame(a, st.log(st.tensor([3, 4])), 'log(x + 2)');
    assert.equal(b.dtype, 'float32');
    assertClose(b, st.tensor([0, Math.LN2]), 'log(int + 1)', 1e-6, 1e-7);
  });

  it('when the 1 broadcasts to a larger rank: compiles and matches the unoptimized form', () => {
    const v = T.vector('v');
    const out = T.log(T.add(v, T.constant([[1]])));
    const ref = st.fn([v], out, { excludeRewrites: ['log1p'] });
    const xv = st.tensor([0.5, 1]);
    const expected = run(ref, xv)[0];
    assert.deepEqual(expected.shape, [1, 2]);
    const err = errorOf(() => st.fn([v], out));
    assert.ok(err === null, `compiling log(v + [[1]]) threw: ${err?.message}`);
    assertClose(run(st.fn([v], out), xv)[0], expected, 'vs rewrite excluded', 1e-6, 1e-7);
  });
});

describe('compile: softmaxCrossEntropy (-sum(y * logSoftmax(x), -1))', () => {
  const labels = st.tensor([[1, 0, 0], [0, 0.25, 0.75], [0, 0, 1], [0.5, 0.5, 0]]);

  it('becomes one crossEntropySoftmax node', () => {
    const x = T.matrix('x'), y = T.matrix('y');
    const { opt, ref } = withAndWithout([x, y], T.neg(T.sum(T.mul(y, T.logSoftmax(x)), -1)), 'softmaxCrossEntropy');
    assert.deepEqual(opNames(opt), ['crossEntropySoftmax'], show(opt));
    assert.equal(fired(opt, 'softmaxCrossEntropy'), 1);
    const xv = randomTensor([4, 3], 4);
    assertClose(run(opt, xv, labels)[0], run(ref, xv, labels)[0], 'vs rewrite excluded', 1e-5, 1e-6);
    const eager = st.neg(st.sum(st.mul(labels, st.logSoftmax(xv)), -1));
    assertClose(run(opt, xv, labels)[0], eager, 'vs eager', 1e-6, 1e-6);
  });

  it('from log(softmax x) with large logits: finite, while the unstabilized form is not', () => {
    const x = T.matrix('x'), y = T.matrix('y');
    const out = T.neg(T.sum(T.mul(T.log(T.softmax(x)), y), 1));
    const f = st.fn([x, y], out);
    assert.deepEqual(opNames(f), ['crossEntropySoftmax'], show(f));
    const ref = st.fn([x, y], out, { excludeRewrites: ['logSoftmax', 'softmaxCrossEntropy'] });
    const xv = st.tensor([[1000, 0, -1000], [0, 1000, 0], [-1000, 0, 1000], [5, 5, 5]]);
    const [a] = run(f, xv, labels);
    assertFinite(a, 'stabilized');
    assertClose(a, st.neg(st.sum(st.mul(labels, st.logSoftmax(xv)), -1)), 'vs eager', 1e-6, 1e-4);
    assertClose(a, st.tensor([0, 750, 0, Math.log(3)]), 'known values', 1e-6, 1e-4);
    assert.ok(hasNonFinite(run(ref, xv, labels)[0]), 'unstabilized is -inf/NaN somewhere');
  });

  it('does not fire for a sum over another axis, keepDims, or logSoftmax over axis 0', () => {
    const x = T.matrix('x'), y = T.matrix('y');
    const outs = [
      T.neg(T.sum(T.mul(y, T.logSoftmax(x)), 0)),
      T.neg(T.sum(T.mul(y, T.logSoftmax(x)), -1, true)),
      T.neg(T.sum(T.mul(y, T.logSoftmax(x, 0)), -1)),
    ];
    const f = st.fn([x, y], outs);
    assert.equal(fired(f, 'softmaxCrossEntropy'), 0, show(f));
    const xv = randomTensor([4, 3], 5);
    const [a, b, c] = run(f, xv, labels);
    const ls = st.logSoftmax(xv);
    assertClose(a, st.neg(st.sum(st.mul(labels, ls), 0)), 'sum over axis 0', 1e-6, 1e-6);
    assertClose(b, st.neg(st.sum(st.mul(labels, ls), -1, true)), 'keepDims', 1e-6, 1e-6);
    assertClose(c, st.neg(st.sum(st.mul(labels, st.logSoftmax(xv, 0)), -1)), 'logSoftmax axis 0', 1e-6, 1e-6);
  });

  // The labels broadcast the logits' batch axis: -sum(...) has shape [4] but
  // crossEntropySoftmax infers x.shape[:-1] = [1].
  it('labels that broadcast the logits (x [1,3], y [4,3]): output shape [4] as without the rewrite', () => {
    const x = T.tensor('float32', [1, 3], 'x'), y = T.tensor('float32', [4, 3], 'y');
    const out = T.neg(T.sum(T.mul(y, T.logSoftmax(x)), -1));
    assert.deepEqual(out.staticShape, [4]);
    const ref = st.fn([x, y], out, { excludeRewrites: ['softmaxCrossEntropy'] });
    const xv = st.tensor([[1, 2, 3]]);
    const expected = run(ref, xv, labels)[0];
    assertClose(expected, st.neg(st.sum(st.mul(labels, st.logSoftmax(xv)), -1)), 'excluded vs eager', 1e-6, 1e-6);
    const f = st.fn([x, y], out);
    let got: st.Tensor | null = null;
    const err = errorOf(() => (got = run(f, xv, labels)[0]));
    assert.ok(err === null, `running the optimized function threw: ${err?.message}`);
    assertClose(got!, expected, 'vs rewrite excluded', 1e-5, 1e-6);
  });
});
