// Recognition rewrites: the logistic function, softplus and softmax written out by hand become the
// ops they compute, so the stabilization rules reach them and extreme inputs stay finite.  Expected
// values come from stable float64 formulas written here.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { T, assertClose, assertFinite, countOps, fired, graphText as show, opNames, randomTensor, run, withAndWithout } from './helpers';
import { checkGrad } from '../support/fd';

const NO_FUSION = ['elementwiseFusion'];

// stable float64 references
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
/** Binary cross-entropy of the logistic function of z: y·softplus(-z) + (1-y)·softplus(z). */
const bce = (z: number, y: number) => y * softplus(-z) + (1 - y) * softplus(z);
function logSoftmaxRows(rows: number[][]): number[][] {
  return rows.map((r) => {
    const m = Math.max(...r);
    const lse = m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0));
    return r.map((v) => v - lse);
  });
}

function vec(values: number[], dtype: 'float32' | 'float64' = 'float32'): st.Tensor {
  return st.tensor(values, { dtype });
}
function hasNonFinite(t: st.Tensor): boolean {
  return Array.from(t.dataSync() as ArrayLike<number>).some((v) => !Number.isFinite(v));
}

const MODERATE = [-6, -2.5, -0.75, 0, 0.3, 1.5, 4, 7];
const EXTREME = [-1000, -100, -30, 30, 100, 1000];

describe('compile: recognizeSigmoid (the logistic function written out)', () => {
  const variants: [string, (z: st.Variable) => st.Variable][] = [
    ['1 / (1 + exp(-z))', (z) => T.div(1, T.add(1, T.exp(T.neg(z))))],
    ['reciprocal(1 + exp(-z))', (z) => T.reciprocal(T.add(1, T.exp(T.neg(z))))],
    ['1 / (exp(-z) + 1)', (z) => T.div(1, T.add(T.exp(T.neg(z)), 1))],
    ['1 / z.neg().exp().add(1)', (z) => T.div(1, z.neg().exp().add(1))],
    ['1 / (1 + exp(z * -1))', (z) => T.div(1, T.add(1, T.exp(T.mul(z, -1))))],
    ['1 / (1 + exp(-1 * z))', (z) => T.div(1, T.add(1, T.exp(T.mul(-1, z))))],
    ['exp(z) / (1 + exp(z))', (z) => T.div(T.exp(z), T.add(1, T.exp(z)))],
    ['e / (e + 1), one exp node', (z) => { const e = z.exp(); return e.div(e.add(1)); }],
  ];

  for (const [label, build] of variants) {
    it(`${label}: one sigmoid node, equal to sigmoid(z), finite at |z| = 1000`, () => {
      const z = T.vector('z');
      const { opt, ref } = withAndWithout([z], build(z), 'recognizeSigmoid', NO_FUSION);
      assert.deepEqual(opNames(opt), ['sigmoid'], show(opt));
      assert.equal(fired(opt, 'recognizeSigmoid'), 1);
      const zv = vec(MODERATE);
      assertClose(run(opt, zv)[0], st.sigmoid(zv), 'vs eager sigmoid', 1e-6, 1e-7);
      assertClose(run(opt, zv)[0], run(ref, zv)[0], 'vs rewrite excluded', 1e-5, 1e-7);
      const [a] = run(opt, vec(EXTREME));
      assertFinite(a, 'recognized');
      assertClose(a, vec(EXTREME.map(sigmoid)), 'vs float64 sigmoid', 1e-6, 1e-30);
    });
  }

  it('exp(z) / (1 + exp(z)) is NaN at z = 1000 without the rewrite', () => {
    const z = T.vector('z');
    const { opt, ref } = withAndWithout([z], T.div(T.exp(z), T.add(1, T.exp(z))), 'recognizeSigmoid');
    assert.ok(Number.isNaN(run(ref, [1000])[0].dataSync()[0]), 'inf / inf');
    assert.equal(run(opt, [1000])[0].dataSync()[0], 1);
  });

  it('1 / (1 + exp(z)) becomes sigmoid(-z)', () => {
    const z = T.vector('z');
    const f = st.fn([z], T.div(1, T.add(1, T.exp(z))), { excludeRewrites: NO_FUSION });
    assert.deepEqual(opNames(f), ['neg', 'sigmoid'], show(f));
    const zs = [...MODERATE, ...EXTREME];
    assertClose(run(f, zs)[0], vec(zs.map((v) => sigmoid(-v))), 'vs float64 1 / (1 + exp(z))', 1e-6, 1e-30);
  });

  it('float64 constants with a float32 z: float64 sigmoid of z', () => {
    const z = T.vector('z');
    const one = () => T.constant(1, undefined, 'float64');
    const out = T.div(one(), T.add(one(), T.exp(T.neg(z))));
    assert.equal(out.dtype, 'float64');
    const f = st.fn([z], out, { excludeRewrites: NO_FUSION });
    assert.equal(fired(f, 'recognizeSigmoid'), 1, show(f));
    assert.equal(countOps(f, 'sigmoid'), 1, show(f));
    const zs = [...MODERATE, ...EXTREME];
    const [a] = run(f, zs);
    assert.equal(a.dtype, 'float64');
    assertClose(a, vec(zs.map((v) => sigmoid(Math.fround(v))), 'float64'), 'vs float64 sigmoid', 1e-12, 1e-300);
  });

  it('float64 z with number constants: float64 throughout', () => {
    const z = T.dvector('z');
    const f = st.fn([z], T.div(1, T.add(1, T.exp(T.neg(z)))), { excludeRewrites: NO_FUSION });
    assert.deepEqual(opNames(f), ['sigmoid'], show(f));
    const zs = [...MODERATE, ...EXTREME, 1e-9];
    assertClose(run(f, vec(zs, 'float64'))[0], vec(zs.map(sigmoid), 'float64'), 'vs float64 sigmoid', 1e-13, 1e-300);
  });

  it('a 1 of higher rank keeps the broadcast shape', () => {
    const z = T.vector('z');
    const out = T.div(T.constant([[1]]), T.add(1, T.exp(T.neg(z))));
    const f = st.fn([z], out);
    assert.equal(fired(f, 'recognizeSigmoid'), 1, show(f));
    const [a] = run(f, [1000, 0, -2]);
    assert.deepEqual(a.shape, [1, 3]);
    assertClose(a, st.tensor([[1, 0.5, sigmoid(-2)]]), 'value', 1e-6, 1e-7);
  });

  it('the fused program prints the sigmoid (debugprint)', () => {
    const z = T.vector('z');
    const text = show(st.fn([z], T.div(1, T.add(1, T.exp(T.neg(z))))));
    assert.match(text, /sigmoid/, text);
    assert.doesNotMatch(text, /exp/, text);
  });

  const lookAlikes: [string, (z: st.Variable) => st.Variable, (z: number) => number][] = [
    ['2 / (1 + exp(-z))', (z) => T.div(2, T.add(1, T.exp(T.neg(z)))), (v) => 2 / (1 + Math.exp(-v))],
    ['1 / (1 + exp(z) * 2)', (z) => T.div(1, T.add(1, T.mul(T.exp(z), 2))), (v) => 1 / (1 + 2 * Math.exp(v))],
    ['1 / (2 + exp(-z))', (z) => T.div(1, T.add(2, T.exp(T.neg(z)))), (v) => 1 / (2 + Math.exp(-v))],
    ['1 / (1 - exp(-z))', (z) => T.div(1, T.sub(1, T.exp(T.neg(z)))), (v) => 1 / (1 - Math.exp(-v))],
    ['exp(2z) / (1 + exp(z))', (z) => T.div(T.exp(z.mul(2)), T.add(1, T.exp(z))), (v) => Math.exp(2 * v) / (1 + Math.exp(v))],
    ['z / (1 + exp(z))', (z) => T.div(z, T.add(1, T.exp(z))), (v) => v / (1 + Math.exp(v))],
    ['1 / (1 + exp(-z) * 1.5)', (z) => T.div(1, T.add(1, T.exp(T.neg(z)).mul(1.5))), (v) => 1 / (1 + 1.5 * Math.exp(-v))],
  ];
  for (const [label, build, expected] of lookAlikes) {
    it(`not for ${label}`, () => {
      const z = T.vector('z');
      const f = st.fn([z], build(z));
      assert.equal(fired(f, 'recognizeSigmoid'), 0, show(f));
      assert.doesNotMatch(show(f), /sigmoid/);
      const zs = [-2, -0.5, 0.25, 1.5, 3];
      assertClose(run(f, zs)[0], vec(zs.map(expected)), 'value', 1e-5, 1e-6);
    });
  }
});

describe("compile: Theano's logistic regression with the literal formula", () => {
  // z = X·w + b reaches ±100 and ±1000 on these rows
  const X = [[1, 0], [0, 1], [-1, 0], [0, -1], [0.001, 0.002], [0.5, 0.5]];
  const yv = [0, 1, 1, 0, 1, 0];
  const wv = [100, 1000];
  const bv = 0.5;
  const zs = X.map((r) => r[0] * wv[0] + r[1] * wv[1] + bv);

  function build(literal: boolean) {
    const x = T.matrix('x'), y = T.vector('y');
    const w = st.shared(st.tensor(wv), 'w'), b = st.shared(st.tensor(bv), 'b');
    const z = T.dot(x, w).add(b);
    const p = literal ? T.div(1, T.add(1, T.exp(T.neg(z)))) : T.sigmoid(z);
    const xent = T.sub(T.neg(T.mul(y, T.log(p))), T.mul(T.sub(1, y), T.log(T.sub(1, p))));
    const cost = T.mean(xent);
    const params = [w, b];
    const grads = st.grad(cost, params);
    const train = st.fn([x, y], [cost, ...grads], { updates: params.map((q, i) => [q, q.sub(grads[i].mul(0.01))]) });
    return { train, w, b, xent: st.fn([x, y], xent) };
  }

  it('the cost is finite and equal to the T.sigmoid version and to float64', () => {
    const lit = build(true), ref = build(false);
    const a = run(lit.xent, X, yv)[0], b = run(ref.xent, X, yv)[0];
    assertFinite(a, 'literal formula');
    assertClose(a, vec(zs.map((z, i) => bce(z, yv[i]))), 'vs float64', 1e-6, 1e-6);
    assertClose(a, b, 'vs T.sigmoid', 1e-6, 1e-7);
  });

  it('T.binaryCrossentropy of the literal formula: finite and equal to float64', () => {
    const z = T.vector('z'), y = T.vector('y');
    const f = st.fn([z, y], T.binaryCrossentropy(y, T.reciprocal(T.add(T.exp(T.neg(z)), 1))));
    const [a] = run(f, zs, yv);
    assertFinite(a, 'cross-entropy');
    assertClose(a, vec(zs.map((v, i) => bce(v, yv[i]))), 'vs float64', 1e-6, 1e-6);
  });

  it('a training step: cost, gradients and updated parameters finite and equal to float64', () => {
    const lit = build(true), ref = build(false);
    const outs = run(lit.train, X, yv);
    const outsRef = run(ref.train, X, yv);
    outs.forEach((t, i) => assertFinite(t, `output ${i}`));
    const n = X.length;
    const mean = zs.reduce((s, z, i) => s + bce(z, yv[i]), 0) / n;
    const dz = zs.map((z, i) => (sigmoid(z) - yv[i]) / n);
    const gw = [0, 1].map((k) => dz.reduce((s, d, i) => s + d * X[i][k], 0));
    const gb = dz.reduce((s, d) => s + d, 0);
    assertClose(outs[0], st.tensor(mean), 'cost', 1e-6, 1e-6);
    assertClose(outs[1], vec(gw), 'dcost/dw', 1e-5, 1e-7);
    assertClose(outs[2], st.tensor(gb), 'dcost/db', 1e-5, 1e-7);
    outs.forEach((t, i) => assertClose(t, outsRef[i], `vs T.sigmoid output ${i}`, 1e-5, 1e-7));
    assertClose(lit.w.get(), vec(wv.map((v, k) => v - 0.01 * gw[k])), 'updated w', 1e-6, 1e-6);
    assertClose(lit.b.get(), st.tensor(bv - 0.01 * gb), 'updated b', 1e-6, 1e-6);
  });
});

describe('compile: recognizeSoftplus (log(1 + exp z))', () => {
  const variants: [string, (z: st.Variable) => st.Variable][] = [
    ['log(1 + exp(z))', (z) => T.log(T.add(1, T.exp(z)))],
    ['log(exp(z) + 1)', (z) => T.log(T.add(T.exp(z), 1))],
    ['log1p(exp(z))', (z) => T.log1p(T.exp(z))],
    ['z.exp().add(1).log()', (z) => z.exp().add(1).log()],
  ];
  for (const [label, build] of variants) {
    it(`${label}: one softplus node, finite and exact at |z| = 1000`, () => {
      const z = T.vector('z');
      const { opt, ref } = withAndWithout([z], build(z), 'recognizeSoftplus', NO_FUSION);
      assert.deepEqual(opNames(opt), ['softplus'], show(opt));
      assert.equal(fired(opt, 'recognizeSoftplus'), 1);
      const zv = vec(MODERATE);
      assertClose(run(opt, zv)[0], st.softplus(zv), 'vs eager softplus', 1e-6, 1e-7);
      assertClose(run(opt, zv)[0], run(ref, zv)[0], 'vs rewrite excluded', 1e-5, 1e-6);
      const [a] = run(opt, vec(EXTREME));
      assertFinite(a, 'recognized');
      assertClose(a, vec(EXTREME.map(softplus)), 'vs float64 softplus', 1e-6, 1e-30);
      assert.equal(run(ref, [1000])[0].dataSync()[0], Infinity, 'unrecognized log(1 + exp(1000))');
    });
  }

  it('log(1 + exp(-z)) becomes softplus(-z)', () => {
    const z = T.vector('z');
    const f = st.fn([z], T.log(T.add(1, T.exp(T.neg(z)))), { excludeRewrites: NO_FUSION });
    assert.deepEqual(opNames(f), ['neg', 'softplus'], show(f));
    const zs = [...MODERATE, ...EXTREME];
    assertClose(run(f, zs)[0], vec(zs.map((v) => softplus(-v))), 'vs float64', 1e-6, 1e-30);
  });

  it('a float64 1 with a float32 z: float64 softplus of z', () => {
    const z = T.vector('z');
    const out = T.log(T.add(T.constant(1, undefined, 'float64'), T.exp(z)));
    const f = st.fn([z], out);
    assert.equal(fired(f, 'recognizeSoftplus'), 1, show(f));
    const [a] = run(f, EXTREME);
    assert.equal(a.dtype, 'float64');
    assertClose(a, vec(EXTREME.map(softplus), 'float64'), 'vs float64', 1e-12, 1e-300);
  });

  it('not for log(2 + exp(z)), log(1 + 2·exp(z)) or log(1 + exp(z)²)', () => {
    const z = T.vector('z');
    const outs = [T.log(T.add(2, T.exp(z))), T.log(T.add(1, T.mul(2, T.exp(z)))), T.log(T.add(1, T.square(T.exp(z))))];
    const f = st.fn([z], outs);
    assert.equal(fired(f, 'recognizeSoftplus'), 0, show(f));
    const zs = [-2, 0, 1.5];
    const [a, b, c] = run(f, zs);
    assertClose(a, vec(zs.map((v) => Math.log(2 + Math.exp(v)))), 'log(2 + exp z)', 1e-6, 1e-6);
    assertClose(b, vec(zs.map((v) => Math.log(1 + 2 * Math.exp(v)))), 'log(1 + 2 exp z)', 1e-6, 1e-6);
    assertClose(c, vec(zs.map((v) => Math.log(1 + Math.exp(2 * v)))), 'log(1 + exp(z)^2)', 1e-6, 1e-6);
  });
});

describe('compile: recognizeSoftmax (exp(x) / sum(exp(x), axis, keepDims))', () => {
  const rows = [[1000, 0, -1000], [-500, 500, 0], [1, 2, 3], [0.5, -0.25, 2]];
  const softmaxRows = (r: number[][]) => logSoftmaxRows(r).map((row) => row.map(Math.exp));

  it('along the last axis (e used twice, or exp(x) written twice): softmax; then log -> logSoftmax', () => {
    const x = T.matrix('x');
    const e = T.exp(x);
    const outs = [e.div(e.sum(1, true)), T.div(T.exp(x), T.sum(T.exp(x), -1, true))];
    const f = st.fn([x], outs, { excludeRewrites: NO_FUSION });
    assert.deepEqual(opNames(f), ['softmax'], show(f));
    assert.ok(fired(f, 'recognizeSoftmax') >= 1);
    const [a, b] = run(f, rows);
    assertFinite(a, 'softmax');
    assertClose(a, st.tensor(softmaxRows(rows)), 'vs float64', 1e-6, 1e-30);
    assertClose(b, a, 'second spelling', 0, 0);
    const xv = randomTensor([4, 5], 7);
    assertClose(run(f, xv)[0], st.softmax(xv), 'vs eager softmax', 1e-6, 1e-7);
  });

  it('the log of it is logSoftmax: finite at logits ±1000 where the written form is -inf/NaN', () => {
    const x = T.matrix('x');
    const out = T.log(T.div(T.exp(x), T.sum(T.exp(x), 1, true)));
    const { opt, ref } = withAndWithout([x], out, 'recognizeSoftmax');
    assert.deepEqual(opNames(opt), ['logSoftmax'], show(opt));
    const [a] = run(opt, rows);
    assertFinite(a, 'recognized');
    assertClose(a, st.tensor(logSoftmaxRows(rows)), 'vs float64 log-softmax', 1e-6, 1e-4);
    assert.ok(hasNonFinite(run(ref, rows)[0]), 'the written form overflows');
  });

  it("Theano's shifted form exp(x - max) / sum(...) and cross-entropy: crossEntropySoftmax", () => {
    const x = T.matrix('x'), y = T.matrix('y');
    const ex = T.exp(x.sub(x.max(1, true)));
    const sm = ex.div(ex.sum(1, true));
    const ce = T.neg(T.sum(T.mul(y, T.log(sm)), 1));
    const f = st.fn([x, y], [sm, ce], { excludeRewrites: NO_FUSION });
    assert.equal(countOps(f, 'softmax'), 1, show(f));
    assert.equal(countOps(f, 'crossEntropySoftmax'), 1, show(f));
    const labels = [[1, 0, 0], [0, 0, 1], [0, 0.5, 0.5], [0.25, 0.25, 0.5]];
    const [a, b] = run(f, rows, labels);
    assertClose(a, st.tensor(softmaxRows(rows)), 'softmax', 1e-6, 1e-30);
    const ls = logSoftmaxRows(rows);
    assertFinite(b, 'cross-entropy');
    assertClose(b, vec(ls.map((r, i) => -r.reduce((s, v, j) => s + labels[i][j] * v, 0))), 'cross-entropy vs float64', 1e-6, 1e-4);
  });

  it('along axis 0, with or without keepDims, and a vector summed over all axes', () => {
    const x = T.matrix('x'), v = T.vector('v');
    const e = T.exp(x), ev = T.exp(v);
    const outs = [e.div(e.sum(0, true)), e.div(e.sum(0)), ev.div(ev.sum())];
    const f = st.fn([x, v], outs, { excludeRewrites: NO_FUSION });
    assert.equal(fired(f, 'recognizeSoftmax'), 3, show(f));
    assert.deepEqual(opNames(f).sort(), ['softmax', 'softmax'], show(f)); // the two axis-0 forms merge
    const cols = rows[0].map((_, j) => rows.map((r) => r[j]));
    const byCol = softmaxRows(cols);
    const expected = rows.map((r, i) => r.map((_, j) => byCol[j][i]));
    const [a, b, c] = run(f, rows, [1000, 0, -3]);
    assertClose(a, st.tensor(expected), 'axis 0, keepDims', 1e-6, 1e-30);
    assertClose(b, st.tensor(expected), 'axis 0', 1e-6, 1e-30);
    assertClose(c, vec(softmaxRows([[1000, 0, -3]])[0]), 'vector', 1e-6, 1e-30);
  });

  it('not for sum over axis 1 without keepDims, another exp, sum over two axes, or a scaled sum', () => {
    const x = T.tensor('float32', [3, 3], 'x'), y = T.tensor('float32', [3, 3], 'y');
    const e = T.exp(x);
    const outs = [e.div(e.sum(1)), e.div(T.exp(y).sum(1, true)), e.div(e.sum([0, 1], true)), e.div(e.mul(2).sum(1, true))];
    const f = st.fn([x, y], outs);
    assert.equal(fired(f, 'recognizeSoftmax'), 0, show(f));
    const xs = [[0.5, -1, 2], [1, 0, -0.5], [0.25, 1.5, -2]], ys = [[0, 1, 2], [-1, 0.5, 0], [2, 2, -1]];
    const ex = xs.map((r) => r.map(Math.exp)), ey = ys.map((r) => r.map(Math.exp));
    const rowSum = (m: number[][]) => m.map((r) => r.reduce((s, v) => s + v, 0));
    const sx = rowSum(ex), sy = rowSum(ey), total = sx.reduce((s, v) => s + v, 0);
    const [a, b, c, d] = run(f, xs, ys);
    assertClose(a, st.tensor(ex.map((r) => r.map((v, j) => v / sx[j]))), 'e / sum(e, 1) broadcasts along rows', 1e-6, 1e-7);
    assertClose(b, st.tensor(ex.map((r, i) => r.map((v) => v / sy[i]))), 'exp(x) / sum(exp(y))', 1e-6, 1e-7);
    assertClose(c, st.tensor(ex.map((r) => r.map((v) => v / total))), 'sum over both axes', 1e-6, 1e-7);
    assertClose(d, st.tensor(ex.map((r, i) => r.map((v) => v / (2 * sx[i])))), 'scaled sum', 1e-6, 1e-7);
  });
});

describe('grad through the recognized forms', () => {
  it('the literal logistic cost: gradient finite and equal to sigmoid(z) - y at |z| = 1000', () => {
    const z = T.vector('z'), y = T.vector('y');
    const p = T.div(1, T.add(T.exp(T.neg(z)), 1));
    const cost = T.sum(T.sub(T.neg(T.mul(y, T.log(p))), T.mul(T.sub(1, y), T.log(T.sub(1, p)))));
    const f = st.fn([z, y], st.grad(cost, z));
    const zs = [1000, -1000, 100, -100, 30, -30, 0.5];
    const ys = [0, 1, 1, 0, 0.5, 1, 0];
    const [g] = run(f, zs, ys);
    assertFinite(g, 'gradient');
    assertClose(g, vec(zs.map((v, i) => sigmoid(v) - ys[i])), 'vs float64', 1e-6, 1e-7);
  });

  it('softplus and softmax written out: gradients finite and equal to float64 at extreme inputs', () => {
    const z = T.vector('z'), x = T.matrix('x');
    const sp = T.sum(T.log(T.add(1, T.exp(z))));
    const e = T.exp(x);
    const nll = T.neg(T.sum(T.log(e.div(e.sum(1, true))).get([null, 0])));
    const f = st.fn([z, x], [st.grad(sp, z), st.grad(nll, x)]);
    const zs = [1000, -1000, 50, -50, 0];
    const rows = [[1000, 0, -1000], [0, 1000, 0], [1, 2, 3]];
    const [gz, gx] = run(f, zs, rows);
    assertFinite(gz, 'd softplus');
    assertClose(gz, vec(zs.map(sigmoid)), 'd softplus / dz = sigmoid', 1e-6, 1e-30);
    assertFinite(gx, 'd nll');
    const sm = logSoftmaxRows(rows).map((r) => r.map(Math.exp));
    assertClose(gx, st.tensor(sm.map((r) => r.map((v, j) => v - (j === 0 ? 1 : 0)))), 'softmax - onehot', 1e-6, 1e-6);
  });

  it('match finite differences in float64, moderate and large inputs', () => {
    const zs = [-40, -3, -0.5, 0.2, 2.5, 40];
    checkGrad('sigmoid written out', [{ shape: [6], value: zs }], (z) => T.log(T.div(1, T.add(1, T.exp(T.neg(z))))));
    checkGrad('exp(z) / (1 + exp(z))', [{ shape: [6], value: zs }], (z) => { const e = T.exp(z); return e.div(e.add(1)); });
    checkGrad('softplus written out', [{ shape: [6], value: zs }], (z) => T.log(T.add(T.exp(z), 1)));
    checkGrad('log softmax written out', [{ shape: [2, 3], value: [40, -2, 0.5, -40, 3, 1] }], (x) => T.log(T.div(T.exp(x), T.sum(T.exp(x), 1, true))));
  });
});
