// Symbolic shapes and indexing (Theano's x.shape, x[i*bs:(i+1)*bs], p[arange(n), y],
// set_subtensor / inc_subtensor): values against plain loops, static shapes where they are known,
// gradients against float64 finite differences, and run-time index errors that name the node.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Constant } from '../../lib/graph/variable';
import { Rng } from '../support/reference';
import { checkGrad, uniform } from '../support/fd';
import { catchError } from '../support/check';

const { T } = st;
type Tensor = st.Tensor;

const vals = (t: st.Tensor | st.Tensor[]): number[] => Array.from((t as Tensor).dataSync());
const ints = (v: number[] | number) => st.tensor(v, { dtype: 'int32' });
/** [rows, cols] float64 data whose element (r, c) is 10 r + c. */
const grid = (rows: number, cols: number) => st.tensor(Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => 10 * r + c)), { dtype: 'float64' });

describe('graph: symbolic shapes', () => {
  it('x.shape is an int32 vector whose entries are int32 scalars; static dims are constants', () => {
    const x = T.tensor('float32', [null, 3], 'x');
    assert.deepEqual(x.staticShape, [null, 3]);
    assert.equal(x.shape.dtype, 'int32');
    assert.deepEqual(x.shape.staticShape, [2]);
    assert.equal(x.shape.length, 2);
    assert.ok(x.shape[1] instanceof Constant);
    assert.deepEqual(x.shape[1].known, [3]);
    assert.equal(x.shape[0].known, undefined);
    assert.equal(x.shape.get(-1), x.shape[1]);
    assert.equal(T.shape(x), x.shape);
    assert.deepEqual([...x.shape], [x.shape[0], x.shape[1]]);
    // arithmetic on a static dim folds; on an unknown one it is computed when the function runs
    assert.deepEqual(x.shape[1].mul(2).add(1).known, [7]);
    const f = st.fn([x], [x.shape, x.shape[0].mul(x.shape[1]), T.cast(x.shape[0], 'float32')]);
    const [s, n, c] = f.sync(st.zeros([5, 3])) as Tensor[];
    assert.deepEqual([vals(s), vals(n), vals(c)], [[5, 3], [15], [5]]);
    assert.equal(c.dtype, 'float32');
  });

  it('the mean over a batch divides by x.shape[0] (Theano\'s cost / X.shape[0])', () => {
    const x = T.vector('x', 'float64');
    const f = st.fn([x], T.sum(x).div(T.cast(x.shape[0], 'float64')));
    assert.equal(vals(f.sync(st.tensor([1, 2, 3, 6], { dtype: 'float64' })))[0], 3);
    assert.equal(vals(f.sync(st.tensor([4, 8], { dtype: 'float64' })))[0], 6);
  });

  it('reshape to [x.shape[0], -1] keeps the static sizes that follow and flattens each batch', () => {
    const x = T.tensor('float64', [null, 2, 3], 'x');
    const y = x.reshape([x.shape[0], -1]);
    assert.deepEqual(y.staticShape, [null, 6]);
    assert.deepEqual(x.reshape(x.shape).staticShape, [null, 2, 3]);
    assert.deepEqual(x.reshape([-1, x.shape[2]]).staticShape, [null, 3]);
    const data = st.tensor(Array.from({ length: 24 }, (_, i) => i), { shape: [4, 2, 3], dtype: 'float64' });
    const out = st.fn([x], y).sync(data) as Tensor;
    assert.deepEqual(out.shape, [4, 6]);
    assert.deepEqual(vals(out), Array.from({ length: 24 }, (_, i) => i));
    // an all-static shape builds the plain static reshape
    const z = T.tensor('float64', [4, 6], 'z');
    assert.equal(z.reshape([z.shape[1], z.shape[0]]).owner!.op.name, 'reshape');
    assert.deepEqual(z.reshape([z.shape[1], -1]).staticShape, [6, 4]);
  });

  it('zeros, ones, full, alloc and broadcastTo take symbolic sizes', () => {
    const x = T.matrix('x');
    const z = T.zeros([x.shape[0], 2], 'float64');
    assert.deepEqual(z.staticShape, [null, 2]);
    assert.deepEqual(T.ones(x.shape).staticShape, [null, null]);
    assert.deepEqual(T.zeros([2, 3]).staticShape, [2, 3]);
    const f = st.fn([x], [z, T.ones(x.shape, 'int32'), T.full([x.shape[1]], 2.5), T.alloc(T.constant(7), [x.shape[1].add(1)]), T.broadcastTo(T.constant([1, 2, 3]), [x.shape[0], 3]), T.zerosLike(x).add(1)]);
    const [a, b, c, d, e, g] = f.sync(st.zeros([2, 3])) as Tensor[];
    assert.deepEqual([a.shape, vals(a), a.dtype], [[2, 2], [0, 0, 0, 0], 'float64']);
    assert.deepEqual([b.shape, vals(b), b.dtype], [[2, 3], [1, 1, 1, 1, 1, 1], 'int32']);
    assert.deepEqual([c.shape, vals(c)], [[3], [2.5, 2.5, 2.5]]);
    assert.deepEqual([d.shape, vals(d)], [[4], [7, 7, 7, 7]]);
    assert.deepEqual([e.shape, vals(e)], [[2, 3], [1, 2, 3, 1, 2, 3]]);
    assert.deepEqual([g.shape, vals(g)], [[2, 3], [1, 1, 1, 1, 1, 1]]);
  });

  it('arange takes symbolic bounds; with numbers it is a constant with a static shape', () => {
    const y = T.ivector('y');
    const r = T.arange(y.shape[0]);
    assert.deepEqual([r.dtype, r.staticShape], ['int32', [null]]);
    const c = T.arange(2, 11, 3);
    assert.ok(c instanceof Constant);
    assert.deepEqual([c.staticShape, vals((c as Constant).value)], [[3], [2, 5, 8]]);
    const f = st.fn([y], [r, T.arange(1, y.shape[0].mul(2), 2), T.arange(y.shape[0], 0, -1)]);
    const [a, b, d] = f.sync(ints([5, 5, 5, 5])) as Tensor[];
    assert.deepEqual([vals(a), vals(b), vals(d)], [[0, 1, 2, 3], [1, 3, 5, 7], [4, 3, 2, 1]]);
  });

  it('random draws take x.shape', () => {
    const x = T.matrix('x');
    const rs = st.randomStreams(3);
    const u = rs.uniform(x.shape, { low: 2, high: 3 });
    assert.deepEqual(u.staticShape, [null, null]);
    const h = rs.normal([x.shape[0], 4]);
    assert.deepEqual(h.staticShape, [null, 4]);
    const [a, b] = st.fn([x], [u, h]).sync(st.zeros([3, 5])) as Tensor[];
    assert.deepEqual([a.shape, b.shape], [[3, 5], [3, 4]]);
    assert.ok(vals(a).every((v) => v >= 2 && v < 3));
  });

  it('a size that depends on run-time data is refused when the function is specialized, naming the node', () => {
    const n = T.iscalar('n');
    const e = catchError(() => st.fn([n], T.zeros([n])).sync(3));
    assert.equal(e.code, 'ERR_ST_SHAPE');
    assert.match(e.message, /alloc/);
    assert.match(e.message, /only known when the function runs/);
    assert.match(e.message, /symbolic-shapes\.test\.ts/);
  });

  it('bad shape arguments fail at the call with the op named', () => {
    const x = T.matrix('x');
    let e = catchError(() => T.zeros([x.shape[0], 1.5]));
    assert.equal(e.code, 'ERR_ST_SHAPE');
    assert.match(e.message, /^zeros: bad size 1\.5/);
    e = catchError(() => T.reshape(x, [T.scalar('f'), -1]));
    assert.equal(e.code, 'ERR_ST_DTYPE');
    assert.match(e.message, /int32 scalars/);
    e = catchError(() => T.zeros(x));
    assert.equal(e.code, 'ERR_ST_DTYPE');
  });
});

describe('graph: symbolic indexing', () => {
  it('a shared dataset sliced by a symbolic index: the minibatch rows, and a static batch size', () => {
    const trainX = st.shared(grid(6, 2), 'trainX');
    const i = T.iscalar('i');
    const bs = 2;
    const a = trainX.slice(i.mul(bs), bs);
    const b = trainX.get([T.slice(i.mul(bs), i.add(1).mul(bs))]);
    assert.deepEqual(a.staticShape, [2, 2]);
    assert.deepEqual(b.staticShape, [2, 2]);
    const f = st.fn([i], [a, b]);
    for (const k of [0, 1, 2]) {
      const want = [20 * k, 20 * k + 1, 20 * k + 10, 20 * k + 11];
      const [ra, rb] = f.sync(k) as Tensor[];
      assert.deepEqual([vals(ra), vals(rb)], [want, want]);
    }
  });

  it('a start out of range is a run-time error naming the node and the line, never a read outside', () => {
    const trainX = st.shared(grid(5, 2), 'trainX');
    const i = T.iscalar('i');
    const f = st.fn([i], trainX.slice(i.mul(2), 2));
    for (const bad of [3, -1]) {
      const e = catchError(() => f.sync(bad));
      assert.equal(e.code, 'ERR_ST_INDEX');
      assert.match(e.message, /^dynSlice: /);
      assert.match(e.message, new RegExp(`index ${bad * 2} is out of range \\[0, 4\\)`));
      assert.match(e.message, /symbolic-shapes\.test\.ts/);
    }
    assert.deepEqual(vals(f.sync(1) as Tensor), [20, 21, 30, 31]);
  });

  it('basic indexing: static slices with steps, a symbolic slice on axis 1 and integer positions', () => {
    const x = T.matrix('x', 'float64'), j = T.iscalar('j');
    const data = grid(4, 5);
    const f = st.fn([x, j], [x.get([T.slice(1, null, 2)]), x.get([null, T.slice(j, j.add(2))]), x.get([2]), x.get([-1, j]), x.get([T.slice(0, 2), -2])]);
    const [a, b, c, d, e] = f.sync(data, 3) as Tensor[];
    assert.deepEqual([a.shape, vals(a)], [[2, 5], [10, 11, 12, 13, 14, 30, 31, 32, 33, 34]]);
    assert.deepEqual([b.shape, vals(b)], [[4, 2], [3, 4, 13, 14, 23, 24, 33, 34]]);
    assert.deepEqual([c.shape, vals(c)], [[5], [20, 21, 22, 23, 24]]);
    assert.deepEqual([d.shape, vals(d)], [[], [33]]);
    assert.deepEqual([e.shape, vals(e)], [[2], [3, 13]]);
    const err = catchError(() => f.sync(data, 4));
    assert.equal(err.code, 'ERR_ST_INDEX');
  });

  it('advanced indexing p[arange(n), y] picks one element per row; a label out of range is an error', () => {
    const p = T.matrix('p', 'float64'), y = T.ivector('y');
    const picked = p.get([T.arange(y.shape[0]), y]);
    assert.deepEqual(picked.staticShape, [null]);
    const f = st.fn([p, y], [picked, T.log(p).get([T.arange(y.shape[0]), y]).mean().neg()]);
    const probs = [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.25, 0.25, 0.5], [0.1, 0.8, 0.1]];
    const labels = [1, 0, 2, -2];
    const [got, nll] = f.sync(st.tensor(probs, { dtype: 'float64' }), ints(labels)) as Tensor[];
    const want = labels.map((l, r) => probs[r][l < 0 ? l + 3 : l]);
    assert.deepEqual(vals(got), want);
    const wantNll = -want.reduce((s, v) => s + Math.log(v), 0) / 4;
    assert.ok(Math.abs(vals(nll)[0] - wantNll) < 1e-12);
    const e = catchError(() => f.sync(st.tensor(probs, { dtype: 'float64' }), ints([0, 3, 1, 1])));
    assert.equal(e.code, 'ERR_ST_INDEX');
    assert.match(e.message, /^advancedSubtensor: index 3 is out of range \[-3, 3\)/);
    assert.match(e.message, /symbolic-shapes\.test\.ts/);
  });

  it('an index array picks rows (with repeats), and non-adjacent index arrays are refused', () => {
    const x = T.matrix('x', 'float64'), idx = T.ivector('idx');
    const rows = st.fn([x, idx], x.get([idx])).sync(grid(3, 2), ints([2, 0, 2])) as Tensor;
    assert.deepEqual([rows.shape, vals(rows)], [[3, 2], [20, 21, 0, 1, 20, 21]]);
    const x3 = T.tensor3('x3');
    const e = catchError(() => x3.get([idx, null, idx]));
    assert.equal(e.code, 'ERR_ST_ARG');
    assert.match(e.message, /adjacent/);
  });

  it('setSubtensor and incSubtensor: slices, positions and index arrays against plain loops', () => {
    const x = T.matrix('x', 'float64'), i = T.iscalar('i'), idx = T.ivector('idx');
    const data = grid(3, 4);
    const base = () => [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => 10 * r + c));
    const outs = [
      T.setSubtensor(x.get([T.slice(i, i.add(2)), 1]), T.constant([100, 200], undefined, 'float64')),
      T.incSubtensor(x.get([null, T.slice(1, 3)]), 5),
      T.incSubtensor(x.get([idx]), T.ones([3, 4], 'float64')),
      T.setSubtensor(x.get([T.arange(3), idx]), -1),
    ];
    const got = st.fn([x, i, idx], outs).sync(data, 1, ints([2, 0, 2])) as Tensor[];
    const w0 = base(); w0[1][1] = 100; w0[2][1] = 200;
    const w1 = base().map((r) => r.map((v, c) => (c === 1 || c === 2 ? v + 5 : v)));
    const w2 = base(); for (const r of [2, 0, 2]) w2[r] = w2[r].map((v) => v + 1);
    const w3 = base(); [2, 0, 2].forEach((c, r) => (w3[r][c] = -1));
    [w0, w1, w2, w3].forEach((w, k) => assert.deepEqual(vals(got[k]), w.flat(), `output ${k}`));
    const e = catchError(() => T.setSubtensor(x, 1));
    assert.equal(e.code, 'ERR_ST_ARG');
    assert.match(e.message, /x\.get/);
  });

  it('gradients of dynamic slices, index arrays, setSubtensor and incSubtensor match finite differences', () => {
    const rng = new Rng(77);
    const xv = uniform(rng, 20);
    const x = { name: 'x', shape: [5, 4], value: xv };
    const i = { name: 'i', shape: [], value: [1], dtype: 'int32' as const, fixed: true };
    const idx = { name: 'idx', shape: [3], value: [4, 0, 4], dtype: 'int32' as const, fixed: true };
    const y23 = { name: 'y', shape: [2, 3], value: uniform(rng, 6) };
    const y3 = { name: 'y', shape: [3, 4], value: uniform(rng, 12) };
    checkGrad('dynamic slice', [x, i], (v, k) => T.tanh(v.slice([k, 1], [3, 2])));
    checkGrad('symbolic get', [x, i], (v, k) => T.sin(v.get([T.slice(k, k.add(2)), T.slice(1, null)])));
    checkGrad('index arrays', [x, idx], (v, k) => T.square(v.get([k, T.arange(3)])));
    checkGrad('rows with repeats', [x, idx], (v, k) => T.sin(v.get([k])));
    checkGrad('setSubtensor slice', [x, y23, i], (v, y, k) => T.tanh(T.setSubtensor(v.get([T.slice(k, k.add(2)), T.slice(0, 3)]), T.sin(y))));
    checkGrad('incSubtensor slice', [x, y23, i], (v, y, k) => T.square(T.incSubtensor(v.get([T.slice(k, k.add(2)), T.slice(1, 4)]), y.mul(y))));
    checkGrad('setSubtensor rows', [x, y3, idx], (v, y, k) => T.sin(T.setSubtensor(v.get([T.arange(3).add(1)]), y).mul(v)));
    checkGrad('incSubtensor repeated rows', [x, y3, idx], (v, y, k) => T.tanh(T.incSubtensor(v.get([k]), y)));
  });

  it('the minibatch-givens pattern: one compiled step per index, shared data sliced inside the program', () => {
    const trainX = st.shared(grid(6, 2).div(10), 'trainX');
    const trainY = st.shared(st.tensor([0, 1, 0, 1, 1, 0], { dtype: 'float64' }), 'trainY');
    const w = st.shared(st.tensor([0.5, -0.25], { dtype: 'float64' }), 'w');
    const X = T.matrix('X', 'float64'), Y = T.vector('Y', 'float64'), index = T.iscalar('index');
    const bs = 2;
    const cost = T.mean(T.binaryCrossentropy(Y, T.sigmoid(T.dot(X, w))));
    const f = st.fn([index], cost, { givens: [[X, trainX.slice(index.mul(bs), bs)], [Y, trainY.slice(index.mul(bs), bs)]] });
    const xs = vals(trainX.get()), ys = [0, 1, 0, 1, 1, 0];
    for (const k of [0, 1, 2]) {
      let want = 0;
      for (const r of [2 * k, 2 * k + 1]) {
        const p = 1 / (1 + Math.exp(-(xs[2 * r] * 0.5 + xs[2 * r + 1] * -0.25)));
        want -= (ys[r] * Math.log(p) + (1 - ys[r]) * Math.log(1 - p)) / bs;
      }
      assert.ok(Math.abs(vals(f.sync(k) as Tensor)[0] - want) < 1e-12, `batch ${k}`);
    }
  });
});
