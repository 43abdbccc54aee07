// Theano's tutorials as tests: the small examples, logistic regression, a 2-layer MLP on spirals
// and softmax regression on MNIST, each with an accuracy target.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as st from '../../lib/index';
import { rng } from '../support/rng';

const { T } = st;
type Tensor = st.Tensor;
type Update = [st.SharedVariable, st.Variable];

function gaussian(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
const data = (t: Tensor | Tensor[]) => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
function accuracy(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) ok += pred[i] === labels[i] ? 1 : 0;
  return ok / labels.length;
}

describe('tutorials: the small examples', () => {
  it('the logistic function two ways: 1/(1+exp(-x)) equals (1+tanh(x/2))/2', () => {
    const x = T.matrix('x');
    const s1 = T.div(1, T.add(1, T.exp(x.neg())));
    const s2 = T.div(T.add(1, T.tanh(x.div(2))), 2);
    const f = st.fn([x], [s1, s2, T.sigmoid(x)]);
    const [a, b, c] = f.sync([[0, 1], [-1, -2]]) as Tensor[];
    const expected = [0, 1, -1, -2].map((v) => 1 / (1 + Math.exp(-v)));
    for (const t of [a, b, c]) data(t).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${v} vs ${expected[i]}`));
  });

  it('computing more than one thing at the same time: diff, |diff|, diff²', () => {
    const a = T.matrix('a'), b = T.matrix('b');
    const diff = a.sub(b);
    const f = st.fn([a, b], [diff, diff.abs(), diff.square()]);
    const [d, ad, d2] = f.sync([[1, 1], [1, 1]], [[0, 1], [2, 3]]) as Tensor[];
    assert.deepEqual(data(d), [1, 0, -1, -2]);
    assert.deepEqual(data(ad), [1, 0, 1, 2]);
    assert.deepEqual(data(d2), [1, 0, 1, 4]);
  });

  it('shared variables: an accumulator with inc', () => {
    const state = st.shared(st.tensor(0, { dtype: 'int32' }), 'state');
    const inc = T.iscalar('inc');
    const accumulator = st.fn([inc], state, { updates: [[state, state.add(inc)]] });
    assert.equal((accumulator.sync(1) as Tensor).item(), 0);
    assert.equal(state.get().item(), 1);
    assert.equal((accumulator.sync(300) as Tensor).item(), 1);
    assert.equal(state.get().item(), 301);
    state.set(-1);
    accumulator.sync(3);
    assert.equal(state.get().item(), 2);
    // givens: use another value for state without touching it
    const fooState = T.iscalar('fooState');
    const skipShared = st.fn([inc, fooState], state.mul(2).add(inc), { givens: [[state, fooState]] });
    assert.equal((skipShared.sync(1, 3) as Tensor).item(), 7);
    assert.equal(state.get().item(), 2);
  });

  it('computing gradients: d(x²)/dx = 2x and the gradient of the logistic', () => {
    const x = T.scalar('x');
    const gx = st.grad(x.square(), x);
    const f = st.fn([x], gx);
    assert.equal((f.sync(4) as Tensor).item(), 8);
    assert.equal((f.sync(94.2) as Tensor).item(), Math.fround(188.4));
    const m = T.matrix('m');
    const gs = st.grad(T.sum(T.sigmoid(m)), m);
    const dlogistic = st.fn([m], gs);
    const got = data(dlogistic.sync([[0, 1], [-1, -2]]));
    [0, 1, -1, -2].forEach((v, i) => {
      const s = 1 / (1 + Math.exp(-v));
      assert.ok(Math.abs(got[i] - s * (1 - s)) < 1e-6);
    });
  });
});

describe('tutorials: training', function () {
  this.timeout(60000);

  it('logistic regression on 400 samples with 20 features reaches >= 0.95 accuracy', async () => {
    const r = rng(11), g = gaussian(r);
    const N = 400, F = 20;
    const wTrue = Array.from({ length: F }, g);
    const make = (n: number) => {
      const xs: number[][] = [], ys: number[] = [];
      for (let i = 0; i < n; i++) {
        const row = Array.from({ length: F }, g);
        const z = row.reduce((s, v, k) => s + v * wTrue[k], 0.3) + 0.2 * g();
        xs.push(row);
        ys.push(z > 0 ? 1 : 0);
      }
      return { X: st.tensor(xs), y: st.tensor(ys), labels: ys };
    };
    const train = make(N), test = make(200);

    const x = T.matrix('x'), y = T.vector('y');
    const w = st.shared(st.zeros([F]), 'w'), b = st.shared(st.tensor(0), 'b');
    const p1 = T.sigmoid(T.dot(x, w).add(b));
    const prediction = p1.greater(0.5);
    const xent = T.binaryCrossentropy(y, p1);
    const cost = T.mean(xent).add(T.sum(w.square()).mul(0.001));
    const [gw, gb] = st.grad(cost, [w, b]);
    const step = st.fn([x, y], [prediction, cost], { updates: [[w, w.sub(gw.mul(0.5))], [b, b.sub(gb.mul(0.5))]] });
    const predict = st.fn([x], prediction);

    const costs: number[] = [];
    for (let i = 0; i < 300; i++) {
      const [, c] = (i % 2 ? step.sync(train.X, train.y) : await step(train.X, train.y)) as Tensor[];
      costs.push(c.item() as number);
    }
    assert.ok(costs[299] < costs[0] * 0.5, `cost must fall: ${costs[0]} -> ${costs[299]}`);
    for (let i = 1; i < costs.length; i++) assert.ok(costs[i] <= costs[i - 1] + 1e-6, `full-batch cost rose at step ${i}: ${costs[i - 1]} -> ${costs[i]}`);
    const trainAcc = accuracy(data(predict.sync(train.X)), train.labels);
    const testAcc = accuracy(data((await predict(test.X)) as Tensor), test.labels);
    assert.ok(trainAcc >= 0.95, `training accuracy ${trainAcc}`);
    assert.ok(testAcc >= 0.9, `held-out accuracy ${testAcc}`);
  });

  // three interleaved spirals (the classic non-linear 3-class problem), 100 points per class
  function spirals(seed: number, offset: number) {
    const g = gaussian(rng(seed));
    const xs: number[][] = [], ys: number[] = [];
    for (let k = 0; k < 3; k++)
      for (let i = 0; i < 100; i++) {
        const rad = (i + offset) / 100;
        const th = k * 4 + 4 * rad + 0.2 * g();
        xs.push([rad * Math.sin(th), rad * Math.cos(th)]);
        ys.push(k);
      }
    return { X: st.tensor(xs), y: st.tensor(ys, { dtype: 'int32' }), labels: ys };
  }

  function mlp(hidden: number, act: 'relu' | 'tanh', opts: { excludeRewrites?: string[] } = {}) {
    const W1 = st.shared(st.randomNormal([2, hidden], { seed: 2, stddev: 0.5 }), 'W1'), b1 = st.shared(st.zeros([hidden]), 'b1');
    const W2 = st.shared(st.randomNormal([hidden, 3], { seed: 3, stddev: 0.1 }), 'W2'), b2 = st.shared(st.zeros([3]), 'b2');
    const x = T.matrix('x'), t = T.ivector('t');
    const pre = T.dot(x, W1).add(b1);
    const h = act === 'relu' ? T.relu(pre) : T.tanh(pre);
    const p = T.softmax(T.dot(h, W2).add(b2));
    const reg = T.sum(W1.square()).add(T.sum(W2.square())).mul(1e-4);
    const cost = T.mean(T.sparseCategoricalCrossentropy(t, p)).add(reg);
    const params = [W1, b1, W2, b2];
    const grads = st.grad(cost, params);
    const lr = 1.0;
    const train = st.fn([x, t], cost, { updates: params.map((w, i): Update => [w, w.sub(grads[i].mul(lr))]), ...opts });
    const predict = st.fn([x], T.argmax(p, 1), opts);
    return { train, predict, params };
  }

  it('a 2-layer MLP (relu 64, softmax) learns three spirals: >= 0.9 accuracy in 800 epochs', () => {
    const tr = spirals(1, 0), te = spirals(99, 0.5);
    const { train, predict } = mlp(64, 'relu');
    const first = (train.sync(tr.X, tr.y) as Tensor).item() as number;
    let last = first;
    for (let e = 1; e < 800; e++) last = (train.sync(tr.X, tr.y) as Tensor).item() as number;
    assert.ok(last < first * 0.5, `cost ${first} -> ${last}`);
    const trainAcc = accuracy(data(predict.sync(tr.X)), tr.labels);
    const testAcc = accuracy(data(predict.sync(te.X)), te.labels);
    assert.ok(trainAcc >= 0.9, `training accuracy ${trainAcc}`);
    assert.ok(testAcc >= 0.9, `held-out accuracy ${testAcc}`);
  });

  it('the MLP with tanh trains the same with and without the GEMM-epilogue rewrite', () => {
    const tr = spirals(5, 0);
    const a = mlp(32, 'tanh');
    const b = mlp(32, 'tanh', { excludeRewrites: ['gemmEpilogue'] });
    for (let e = 0; e < 30; e++) {
      const ca = (a.train.sync(tr.X, tr.y) as Tensor).item() as number;
      const cb = (b.train.sync(tr.X, tr.y) as Tensor).item() as number;
      assert.ok(Math.abs(ca - cb) <= 1e-4 * (1 + Math.abs(cb)), `epoch ${e}: cost ${ca} with the rewrite, ${cb} without`);
    }
    a.params.forEach((p, i) => {
      const pa = data(p.get()), pb = data(b.params[i].get());
      pa.forEach((v, k) => assert.ok(Math.abs(v - pb[k]) <= 1e-4 * (1 + Math.abs(pb[k])), `${p.name}[${k}]: ${v} vs ${pb[k]}`));
    });
  });

  it('an embedding (lookup table through T.gather) trained to fit per-token targets', () => {
    // token i should map to a row whose dot with a fixed probe vector is target[i]
    const V = 6, D = 4;
    const target = [0.5, -1, 2, 0, 1.5, -0.5];
    const E = st.shared(st.zeros([V, D]), 'E');
    const probe = st.tensor([1, 0.5, -0.5, 0.25]);
    const ids = T.ivector('ids'), y = T.vector('y');
    const rows = T.gather(E, ids);
    const pred = T.dot(rows, probe);
    const cost = T.mean(T.square(pred.sub(y)));
    const gE = st.grad(cost, E);
    // one step by hand first: d cost / d E[v] = sum over positions p with ids[p] = v of 2/n (pred_p - y_p) probe
    const grad1 = st.fn([ids, y], gE);
    const idsA = [2, 2, 5, 0];
    const g = data(grad1.sync(st.tensor(idsA, { dtype: 'int32' }), idsA.map((i) => target[i])));
    const pv = [1, 0.5, -0.5, 0.25];
    for (let v = 0; v < V; v++) {
      const coef = idsA.reduce((s, id) => s + (id === v ? (2 / idsA.length) * (0 - target[id]) : 0), 0);
      for (let k = 0; k < D; k++) assert.ok(Math.abs(g[v * D + k] - coef * pv[k]) < 1e-6, `dE[${v},${k}] = ${g[v * D + k]}, expected ${coef * pv[k]} (repeated ids add up)`);
    }
    const train = st.fn([ids, y], cost, { updates: [[E, E.sub(gE.mul(0.5))]] });
    const r = rng(3);
    let c = Infinity;
    for (let step = 0; step < 300; step++) {
      const batch = Array.from({ length: 8 }, () => Math.floor(r() * V));
      c = (train.sync(st.tensor(batch, { dtype: 'int32' }), batch.map((i) => target[i])) as Tensor).item() as number;
    }
    assert.ok(c < 1e-4, `final cost ${c}`);
  });

  it('a model reading every other feature (stridedSlice) learns its weights', () => {
    const x = T.matrix('x'), y = T.vector('y');
    const w = st.shared(st.zeros([3]), 'w');
    const picked = T.stridedSlice(x, [null, 0], [null, null], [1, 2]); // columns 0, 2, 4
    const cost = T.mean(T.square(T.dot(picked, w).sub(y)));
    const train = st.fn([x, y], cost, { updates: [[w, w.sub(st.grad(cost, w).mul(0.1))]] });
    const gX = st.fn([x, y], st.grad(cost, x));
    const Xd = st.randomNormal([32, 6], { seed: 8 });
    const wTrue = [1, -2, 0.5];
    const yd = st.matmul(st.stridedSlice(Xd, [null, 0], [null, null], [1, 2]), st.tensor(wTrue));
    for (let i = 0; i < 300; i++) train.sync(Xd, yd);
    data(w.get()).forEach((v, i) => assert.ok(Math.abs(v - wTrue[i]) < 1e-3, `w[${i}] = ${v}, expected ${wTrue[i]}`));
    // the gradient reaches only the picked columns
    const gx = data(gX.sync(Xd, st.zeros([32])));
    for (let rI = 0; rI < 32; rI++) for (const col of [1, 3, 5]) assert.equal(gx[rI * 6 + col], 0, `d/dx[${rI},${col}] must be 0`);
    assert.ok(gx.some((v) => v !== 0));
  });

  const mnistDir = path.join(__dirname, '../../../shared/datasets/mnist');

  it('softmax regression on MNIST (first 8000 test images), evaluated on the other 2000: >= 0.85', async function () {
    const imgFile = path.join(mnistDir, 't10k-images-idx3-ubyte.gz'), labFile = path.join(mnistDir, 't10k-labels-idx1-ubyte.gz');
    if (!fs.existsSync(mnistDir)) {
      console.log(`    skipped: ${mnistDir} is absent`);
      this.skip();
    }
    const img = zlib.gunzipSync(fs.readFileSync(imgFile));
    const lab = zlib.gunzipSync(fs.readFileSync(labFile));
    assert.equal(img.readUInt32BE(0), 0x803, 'IDX image magic');
    assert.equal(lab.readUInt32BE(0), 0x801, 'IDX label magic');
    const n = img.readUInt32BE(4), rows = img.readUInt32BE(8), cols = img.readUInt32BE(12);
    assert.deepEqual([n, rows, cols, lab.readUInt32BE(4)], [10000, 28, 28, 10000]);
    const d = rows * cols;
    const px = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) px[i] = img[16 + i] / 255;
    const labels = Int32Array.from(lab.subarray(8, 8 + n));
    const nTrain = 8000;

    const W = st.shared(st.zeros([d, 10]), 'W'), b = st.shared(st.zeros([10]), 'b');
    const x = T.matrix('x'), t = T.ivector('t');
    const p = T.softmax(T.dot(x, W).add(b));
    const cost = T.mean(T.sparseCategoricalCrossentropy(t, p));
    const [gW, gb] = st.grad(cost, [W, b]);
    const lr = 0.5;
    const train = st.fn([x, t], cost, { updates: [[W, W.sub(gW.mul(lr))], [b, b.sub(gb.mul(lr))]] });
    const predict = st.fn([x], T.argmax(p, 1));

    const B = 100;
    let firstCost = NaN, lastCost = NaN;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let i = 0; i < nTrain; i += B) {
        const xb = st.tensor(px.subarray(i * d, (i + B) * d), { shape: [B, d] });
        const yb = st.tensor(labels.subarray(i, i + B), { dtype: 'int32' });
        lastCost = ((await train(xb, yb)) as Tensor).item() as number;
        if (Number.isNaN(firstCost)) firstCost = lastCost;
      }
    }
    assert.ok(Math.abs(firstCost - Math.log(10)) < 1e-4, `the first cost is log(10) for zero weights, got ${firstCost}`);
    assert.ok(lastCost < 0.6, `cost after 3 epochs: ${lastCost}`);
    const Xte = st.tensor(px.subarray(nTrain * d), { shape: [n - nTrain, d] });
    const acc = accuracy(data(predict.sync(Xte)), labels.subarray(nTrain));
    assert.ok(acc >= 0.85, `held-out accuracy ${acc}`);
  });
});
