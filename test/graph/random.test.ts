// Random streams inside graphs: new numbers on every call, exact replay after seed(), the same
// numbers on any thread count, the right moments, symbolic shapes, and draws as constants to grad.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as st from '../../lib/index';

const { T } = st;
const repoRoot = path.join(__dirname, '..', '..');

const data = (t: st.Tensor | st.Tensor[]) => Array.from((Array.isArray(t) ? t[0] : t).dataSync() as ArrayLike<number>, Number);

/** Solves A x = b by Gaussian elimination with partial pivoting (small dense systems). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) x[r] = (M[r][n] - M[r].slice(r + 1, n).reduce((a, v, k) => a + v * x[r + 1 + k], 0)) / M[r][r];
  return x;
}

function moments(v: number[]): { mean: number; variance: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, variance: v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length };
}

describe('graph: random streams', () => {
  it('two calls of one compiled function draw different numbers', () => {
    const rs = st.randomStreams(7);
    const f = st.fn([], rs.uniform([1000]));
    const a = data(f.sync()), b = data(f.sync());
    assert.equal(a.length, 1000);
    assert.ok(a.some((v, i) => v !== b[i]), 'second call repeats the first');
    assert.ok(a.filter((v, i) => v === b[i]).length < 5, 'draws overlap');
  });

  it('two draws in one graph are independent of each other', () => {
    const rs = st.randomStreams(7);
    const f = st.fn([], [rs.uniform([1000]), rs.uniform([1000])]);
    const [a, b] = f.sync().map(data);
    assert.ok(a.filter((v, i) => v === b[i]).length < 5);
  });

  it('seed(n) replays the same sequence bit for bit', () => {
    const rs = st.randomStreams(3);
    const f = st.fn([], [rs.normal([257], { dtype: 'float64' }), rs.uniform([3, 5])]);
    const first = [f.sync(), f.sync(), f.sync()].map((outs) => outs.map(data));
    rs.seed(3);
    const again = [f.sync(), f.sync(), f.sync()].map((outs) => outs.map(data));
    assert.deepEqual(again, first);
    rs.seed(4);
    const other = f.sync().map(data);
    assert.notDeepEqual(other, first[0]);
  });

  it('the first call of a stream seeded s draws what randomUniform with seed s draws', () => {
    // draw 0 of a stream uses counter offset 0, and call 0 the plain Philox stream of the seed
    const rs = st.randomStreams(11);
    const f = st.fn([], rs.uniform([4, 6], { low: -2, high: 3 }));
    assert.deepEqual(data(f.sync()), data(st.randomUniform([4, 6], { low: -2, high: 3, seed: 11 })));
  });

  it('every function drawing from one stream advances it', () => {
    const rs = st.randomStreams(5);
    const d = rs.uniform([64]);
    const f = st.fn([], d), g = st.fn([], d);
    const a = data(f.sync()), b = data(g.sync());
    assert.notDeepEqual(a, b, 'g repeats f: the shared state did not advance');
    rs.seed(5);
    assert.deepEqual(data(g.sync()), a, 'after reseeding, the next call of any function replays call 0');
  });

  it('the same numbers with 1 and 2 threads (a draw large enough to be split)', () => {
    const code = `
      const st = require('./lib/index');
      const rs = st.randomStreams(99);
      const f = st.fn([], [rs.uniform([600000]), rs.normal([600000], { dtype: 'float64' })]);
      f.sync();
      const [u, n] = f.sync();
      const h = (a) => { let x = 0; for (let i = 0; i < a.length; i++) x = (x * 31 + Math.round(a[i] * 1e9)) % 2147483647; return x; };
      console.log(JSON.stringify([h(u.dataSync()), h(n.dataSync()), st.backendInfo().threads]));`;
    const runWith = (threads: string) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, SYMTENSOR_NUM_THREADS: threads } });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as number[];
    };
    const one = runWith('1'), two = runWith('2');
    assert.equal(one[2], 1);
    assert.equal(two[2], 2);
    assert.deepEqual(one.slice(0, 2), two.slice(0, 2));
  });

  it('moments of large draws: uniform, normal, bernoulli, randint', () => {
    const rs = st.randomStreams(2024);
    const n = 200000;
    const f = st.fn([], [
      rs.uniform([n], { low: -1, high: 3 }),
      rs.normal([n], { mean: 2, stddev: 0.5, dtype: 'float64' }),
      rs.bernoulli([n], 0.3),
      rs.randint([n], -3, 5),
    ]);
    const [u, g, b, r] = f.sync().map(data);
    // 6 standard errors: fails by chance about once in 10^9 runs
    const se = (sd: number) => (6 * sd) / Math.sqrt(n);
    const mu = moments(u);
    assert.ok(u.every((v) => v >= -1 && v < 3), 'uniform outside [low, high)');
    assert.ok(Math.abs(mu.mean - 1) < se(Math.sqrt(16 / 12)), `uniform mean ${mu.mean}`);
    assert.ok(Math.abs(mu.variance - 16 / 12) < 0.03, `uniform variance ${mu.variance}`);
    const mg = moments(g);
    assert.ok(Math.abs(mg.mean - 2) < se(0.5), `normal mean ${mg.mean}`);
    assert.ok(Math.abs(mg.variance - 0.25) < 0.005, `normal variance ${mg.variance}`);
    assert.ok(b.every((v) => v === 0 || v === 1));
    assert.ok(Math.abs(moments(b).mean - 0.3) < se(Math.sqrt(0.21)), `bernoulli mean ${moments(b).mean}`);
    assert.ok(r.every((v) => Number.isInteger(v) && v >= -3 && v < 5), 'randint outside [low, high)');
    for (let k = -3; k < 5; k++) {
      const freq = r.filter((v) => v === k).length / n;
      assert.ok(Math.abs(freq - 1 / 8) < se(Math.sqrt((1 / 8) * (7 / 8))), `randint frequency of ${k}: ${freq}`);
    }
  });

  it('draws shaped like a variable whose dims are known only at run time', () => {
    const rs = st.randomStreams(1);
    const x = T.matrix('x');
    const f = st.fn([x], x.add(rs.uniform(x.shape)));
    for (const shape of [[2, 3], [5, 1], [0, 4]]) {
      const out = f.sync(st.zeros(shape)) as st.Tensor;
      assert.deepEqual(out.shape, shape);
      assert.ok(data(out).every((v) => v >= 0 && v < 1));
    }
    assert.throws(() => rs.uniform([null, 3] as never), /uniform: bad size null in shape: expected a number or an int32 scalar variable/);
  });

  it('gradients treat draws as constants', () => {
    const rs = st.randomStreams(8);
    const x = T.vector('x', 'float64');
    const noise = rs.normal(x.shape, { dtype: 'float64' });
    const cost = T.sum(x.mul(noise));
    const f = st.fn([x], [noise, st.grad(cost, x)]);
    const [n, g] = f.sync(st.tensor([1, 2, 3, 4], { dtype: 'float64' })).map(data);
    assert.deepEqual(g, n, 'd/dx sum(x * noise) is the noise of the same call');
  });

  it('a dropout graph: the gradient is masked like the output, and it trains', () => {
    const rs = st.randomStreams(123);
    const p = 0.5;
    const x = T.matrix('x'), y = T.vector('y');
    const w = st.shared(st.zeros([8]), 'w');
    const dropped = x.mul(rs.uniform(x.shape).greater(p)).div(1 - p);
    const pred = T.dot(dropped, w);
    const cost = T.mean(pred.sub(y).square());
    const [gx] = st.grad(T.sum(dropped), [x]);
    const probe = st.fn([x], [dropped, gx]);
    const [d, g] = probe.sync(st.ones([16, 8])).map(data);
    assert.ok(d.some((v) => v === 0) && d.some((v) => v !== 0), 'some inputs dropped, some kept');
    d.forEach((v, i) => {
      assert.ok(v === 0 || v === 1 / (1 - p), `kept value ${v}`);
      assert.equal(g[i], v, 'gradient masked (and scaled) exactly as the output');
    });

    // y = x · wTrue.  Dropout on the inputs makes SGD minimise E|x̃·w - y|², whose minimiser
    // (dropout as ridge regression) is w* = (XᵀX + p/(1-p)·diag(XᵀX))⁻¹ Xᵀy: solved here directly.
    const wTrue = [0.5, -1, 2, 0, 1, -0.5, 0.25, 1.5];
    const n = 256;
    const xs = st.randomNormal([n, 8], { seed: 1 });
    const xv = Array.from(xs.dataSync() as Float32Array, Number);
    const yv = Array.from({ length: n }, (_, i) => wTrue.reduce((a, wk, k) => a + wk * xv[i * 8 + k], 0));
    const A = [...Array(8)].map((_, r) => [...Array(8)].map((_, c) => xv.reduce((a, _v, i) => (i % 8 === 0 ? a + xv[i + r] * xv[i + c] : a), 0)));
    A.forEach((row, r) => (row[r] *= 1 + p / (1 - p)));
    const rhs = [...Array(8)].map((_, r) => yv.reduce((a, y, i) => a + xv[i * 8 + r] * y, 0));
    const wStar = solve(A, rhs);
    const [gw] = st.grad(cost, [w]);
    const train = st.fn([x, y], cost, { updates: [[w, w.sub(gw.mul(0.02))]] });
    const ys = st.tensor(yv);
    const avg = new Array(8).fill(0);
    for (let i = 0; i < 1200; i++) {
      train.sync(xs, ys);
      if (i >= 800) data(w.get()).forEach((v, k) => (avg[k] += v / 400));
    }
    avg.forEach((v, k) => assert.ok(Math.abs(v - wStar[k]) < 0.08, `w[${k}] = ${v}, expected about ${wStar[k]} (no dropout: ${wTrue[k]})`));
  });

  it('bad arguments are clear errors', () => {
    assert.throws(() => st.randomStreams(-1), /seed must be a non-negative integer/);
    const rs = st.randomStreams(0);
    assert.throws(() => rs.uniform([2], { low: 2, high: 1 }), /low \(2\) must not exceed high \(1\)/);
    assert.throws(() => rs.normal([2], { stddev: -1 }), /stddev must be >= 0/);
    assert.throws(() => rs.bernoulli([2], 1.5), /p must be in \[0, 1\]/);
    assert.throws(() => rs.randint([2], 3, 3), /low < high/);
    assert.throws(() => rs.dropoutMask([2], 1), /rate must be in \[0, 1\)/);
    assert.throws(() => rs.uniform([2], { dtype: 'int32' }), /float dtype/);
  });

  it('dropoutMask keeps the expected value', () => {
    const rs = st.randomStreams(77);
    const f = st.fn([], rs.dropoutMask([100000], 0.2));
    const m = data(f.sync());
    assert.ok(m.every((v) => v === 0 || Math.abs(v - 1.25) < 1e-6));
    assert.ok(Math.abs(moments(m).mean - 1) < 0.01, `mean ${moments(m).mean}`);
  });
});
