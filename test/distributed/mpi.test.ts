// st.distributed and T.allreduce on 2 and 3 real MPI processes (mpirun).  Each rank computes from
// inputs that depend on its rank and reports what it got; the expected values are computed here, in
// float64 loops over every rank's known inputs.  One mpirun per world size runs every check (each
// start costs about a second per process).
import { strict as assert } from 'node:assert';
import { mpiUnavailable, runMpi, runMpiOk } from '../support/mpi';

// The snippet every rank runs.  Inputs of rank r:
//   a32 = [r + 1, -2r, r / 2, 3, 10 - r * r] (float32, exact), a64 = [1 / (r + 3), r * r] (float64),
//   i32 = [r, -r, 7]; compiled: x [5] float32, y [2,3] float64, z [7] float32 as in inputsOf below.
const SNIPPET = `
const st = require('./lib/index');
const { distributed: d } = require('./lib/tensor/distributed');
const T = require('./lib/graph/T');
const out = {};
const err = (f) => { try { f(); return null; } catch (e) { return { code: e.code, message: e.message }; } };
out.beforeInit = err(() => d.allreduce(st.tensor([1])));
d.init();
d.init();
out.rank = d.rank; out.size = d.size; out.isDistributed = d.isDistributed();
out.yieldWhenIdle = process.env.OMPI_MCA_mpi_yield_when_idle ?? null;
const r = d.rank, n = d.size;
const a32 = st.tensor([r + 1, -2 * r, r / 2, 3, 10 - r * r]);
for (const op of ['sum', 'mean', 'max', 'min']) out['a32_' + op] = Array.from(d.allreduce(a32, { op }).dataSync());
out.a32_after = Array.from(a32.dataSync());
out.a64_sum = Array.from(d.allreduce(st.tensor([1 / (r + 3), r * r], { dtype: 'float64' })).dataSync());
out.i32_max = Array.from(d.allreduce(st.tensor([r, -r, 7], { dtype: 'int32' }), { op: 'max' }).dataSync());
out.bcast = d.broadcast(st.tensor([[10 * r, 10 * r + 1]]), { root: n - 1 }).arraySync();
out.bcastBad = err(() => d.broadcast(st.tensor([1]), { root: n }));
out.gather = d.allgather(st.tensor([[r, 2 * r]], { dtype: 'int32' })).arraySync();
out.gatherShape = d.allgather(st.tensor([[r, 2 * r]], { dtype: 'int32' })).shape;
out.gatherBad = err(() => d.allgather(st.zeros([r === 1 ? 2 : 3])));
out.gatherBadDtype = err(() => d.allgather(st.zeros([2], r === 0 ? 'float64' : 'float32')));
d.barrier();
// compiled: three tensors of two dtypes, buckets of 12 bytes (smaller than every tensor)
const x = T.vector('x'), y = T.matrix('y', 'float64'), z = T.vector('z');
const f = st.fn([x, y, z], T.allreduce([x, y, z], { bucketBytes: 12 }));
const fm = st.fn([x, y, z], T.allreduce([x, y, z], { op: 'mean', bucketBytes: 12 }));
const xs = st.tensor([0, 1, 2, 3, 4].map((i) => r * 10 + i));
const ys = st.tensor([[0, 1, 2], [3, 4, 5]].map((row) => row.map((i) => r + 0.25 * i)), { dtype: 'float64' });
const zs = st.tensor([0, 1, 2, 3, 4, 5, 6].map((i) => (r + 1) * i * 0.5));
out.compiled = f.sync(xs, ys, zs).map((t) => Array.from(t.dataSync()));
out.compiledMean = fm.sync(xs, ys, zs).map((t) => Array.from(t.dataSync()));
const fb = st.fn([x, y, z], T.allreduce([x, y, z], { bucketBytes: 12, overlap: false }));
out.compiledBlocking = fb.sync(xs, ys, zs).map((t) => Array.from(t.dataSync()));
out.labels = f.program().instrs.map((i) => i.label);
out.labelsBlocking = fb.program().instrs.map((i) => i.label);
// a data-parallel training step: each rank its own rows, the gradient averaged by T.allreduce
const X = T.matrix('X', 'float64'), Y = T.vector('Y', 'float64');
const w = st.shared(st.zeros([3], 'float64'), 'w');
const cost = T.mean(T.square(T.dot(X, w).sub(Y)));
const [gw] = T.allreduce([st.grad(cost, w)], { op: 'mean', bucketBytes: 16 });
const step = st.fn([X, Y], cost, { updates: [[w, w.sub(gw.mul(0.1))]] });
const Xr = st.tensor([0, 1, 2, 3].map((i) => [0.1 * (4 * r + i), 1, ((4 * r + i) % 3) - 1]), { dtype: 'float64' });
const Yr = st.tensor([0, 1, 2, 3].map((i) => Math.sin(4 * r + i)), { dtype: 'float64' });
for (let k = 0; k < 3; k++) step.sync(Xr, Yr);
out.trainedW = Array.from(w.get().dataSync());
// async runs (a worker thread) take part in the same collectives
f(xs, ys, zs).then((res) => {
  out.compiledAsync = res.map((t) => Array.from(t.dataSync()));
  // gradient through the reduction: total objective sum_r sum(w_r * tanh(op(x))), checked against
  // central differences of that total (every rank perturbs in turn, the losses summed by allreduce)
  const v = T.vector('v', 'float64');
  const w = st.tensor([r + 1, 2 - r, 0.5], { dtype: 'float64' });
  out.grad = {};
  for (const op of ['sum', 'mean', 'max', 'min']) {
    const loss = T.sum(T.tanh(T.allreduce(v, { op })).mul(w));
    const lossF = st.fn([v], loss), gradF = st.fn([v], st.grad(loss, v));
    const base = [0.1 + 0.3 * r, -0.2 * r, 0.05 * (r + 1) * (r + 1)];
    const g = Array.from(gradF.sync(st.tensor(base, { dtype: 'float64' })).dataSync());
    const total = (vals) => d.allreduce(lossF.sync(st.tensor(vals, { dtype: 'float64' })).reshape([1])).dataSync()[0];
    const fd = [];
    for (let k = 0; k < n; k++)
      for (let i = 0; i < 3; i++) {
        const h = 1e-6, plus = base.slice(), minus = base.slice();
        if (k === r) { plus[i] += h; minus[i] -= h; }
        const diff = (total(plus) - total(minus)) / (2 * h);
        if (k === r) fd[i] = diff;
      }
    out.grad[op] = { g, fd };
  }
  emit(out);
});
`;

interface RankOut {
  beforeInit: { code: string; message: string } | null;
  rank: number;
  size: number;
  isDistributed: boolean;
  a32_sum: number[];
  a32_mean: number[];
  a32_max: number[];
  a32_min: number[];
  a32_after: number[];
  a64_sum: number[];
  i32_max: number[];
  bcast: number[][];
  bcastBad: { code: string; message: string } | null;
  gather: number[][][];
  gatherShape: number[];
  gatherBad: { code: string; message: string } | null;
  gatherBadDtype: { code: string; message: string } | null;
  compiled: number[][];
  compiledMean: number[][];
  compiledAsync: number[][];
  compiledBlocking: number[][];
  yieldWhenIdle: string | null;
  labels: string[];
  labelsBlocking: string[];
  grad: Record<string, { g: number[]; fd: number[] }>;
  trainedW: number[];
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const f32 = (v: number) => Math.fround(v);

/** Elementwise combination of each rank's vector. */
function across(n: number, of: (r: number) => number[], combine: (vals: number[]) => number): number[] {
  const rows = range(n).map(of);
  return rows[0].map((_, i) => combine(rows.map((row) => row[i])));
}
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

function closeTo(actual: number[], expected: number[], what: string, rtol: number): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= rtol * (1 + Math.abs(expected[i])), `${what}[${i}]: got ${a}, expected ${expected[i]}`));
}

function checkWorld(n: number): void {
  let outs: RankOut[] = [];
  before(function () {
    const why = mpiUnavailable();
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    this.timeout(90000);
    outs = runMpiOk<RankOut>(n, SNIPPET, { timeoutMs: 80000 });
  });

  it('init joins the world: ranks 0..n-1 of n; collectives before init are refused; a waiting rank yields', () => {
    outs.forEach((o, r) => {
      assert.equal(o.yieldWhenIdle, '1');
      assert.equal(o.rank, r);
      assert.equal(o.size, n);
      assert.equal(o.isDistributed, true);
      assert.equal(o.beforeInit?.code, 'ERR_ST_ARG');
      assert.match(o.beforeInit!.message, /st\.distributed\.allreduce: .*MPI launcher \(OMPI_COMM_WORLD_SIZE=\d\).*call st\.distributed\.init\(\)/);
    });
  });

  it('allreduce sum, mean, max, min of float32; sum of float64; max of int32', () => {
    const a32 = (r: number) => [r + 1, -2 * r, r / 2, 3, 10 - r * r];
    const expected = {
      sum: across(n, a32, sum),
      mean: across(n, a32, (v) => sum(v) / n),
      max: across(n, a32, (v) => Math.max(...v)),
      min: across(n, a32, (v) => Math.min(...v)),
    };
    const a64 = across(n, (r) => [1 / (r + 3), r * r], sum);
    const i32 = across(n, (r) => [r, -r, 7], (v) => Math.max(...v) + 0); // -0 is 0 in int32
    outs.forEach((o, r) => {
      for (const op of ['sum', 'mean', 'max', 'min'] as const) closeTo(o[`a32_${op}`], expected[op].map(f32), `rank ${r} float32 ${op}`, 1e-6);
      assert.deepEqual(o.a32_after, a32(r).map((v) => f32(v) + 0), `rank ${r}: the input is unchanged`); // JSON writes -0 as 0
      closeTo(o.a64_sum, a64, `rank ${r} float64 sum`, 1e-15);
      assert.deepEqual(o.i32_max, i32, `rank ${r} int32 max`);
    });
  });

  it('broadcast from the last rank; a root outside the world is refused', () => {
    outs.forEach((o) => {
      assert.deepEqual(o.bcast, [[10 * (n - 1), 10 * (n - 1) + 1]]);
      assert.equal(o.bcastBad?.code, 'ERR_ST_ARG');
      assert.ok(o.bcastBad!.message.includes(`root must be a rank, an integer in [0, ${n}) for this world of ${n} processes, got ${n}`), o.bcastBad!.message);
    });
  });

  it('allgather stacks every rank in order; shapes or dtypes that differ are named by rank', () => {
    const ranksWith = (pred: (r: number) => boolean) => range(n).filter(pred);
    outs.forEach((o) => {
      assert.deepEqual(o.gatherShape, [n, 1, 2]);
      assert.deepEqual(o.gather, range(n).map((r) => [[r, 2 * r]]));
      assert.equal(o.gatherBad?.code, 'ERR_ST_SHAPE');
      const three = ranksWith((r) => r !== 1);
      assert.ok(o.gatherBad!.message.startsWith('st.distributed.allgather: every rank must pass the same shape and dtype'), o.gatherBad!.message);
      assert.ok(o.gatherBad!.message.includes(`[3] float32 on rank${three.length > 1 ? 's' : ''} ${three.join(', ')}`), o.gatherBad!.message);
      assert.ok(o.gatherBad!.message.includes('[2] float32 on rank 1'), o.gatherBad!.message);
      assert.equal(o.gatherBadDtype?.code, 'ERR_ST_DTYPE');
      assert.ok(o.gatherBadDtype!.message.includes('[2] float64 on rank 0'), o.gatherBadDtype!.message);
    });
  });

  it('T.allreduce in a compiled fn: mixed dtypes, buckets smaller than a tensor, sync and async, overlapped and blocking', () => {
    const x = (r: number) => range(5).map((i) => r * 10 + i);
    const y = (r: number) => range(6).map((i) => r + 0.25 * i);
    const z = (r: number) => range(7).map((i) => (r + 1) * i * 0.5);
    const sums = [across(n, x, sum), across(n, y, sum), across(n, z, sum)];
    outs.forEach((o, r) => {
      // overlapped: every tensor is larger than the 12-byte buckets, so a start and a wait each;
      // blocking: one instruction
      assert.deepEqual(o.labels.filter((l) => l.startsWith('allreduce')), ['allreduceStart', 'allreduceStart', 'allreduceStart', 'allreduceWait', 'allreduceWait', 'allreduceWait'], `rank ${r} ${o.labels}`);
      assert.deepEqual(o.labelsBlocking.filter((l) => l.startsWith('allreduce')), ['allreduce'], `rank ${r} ${o.labelsBlocking}`);
      for (const [what, got] of [['sync', o.compiled], ['async', o.compiledAsync], ['blocking', o.compiledBlocking]] as const) {
        closeTo(got[0], sums[0].map(f32), `rank ${r} ${what} x`, 1e-6);
        closeTo(got[1], sums[1], `rank ${r} ${what} y`, 1e-15);
        closeTo(got[2], sums[2].map(f32), `rank ${r} ${what} z`, 1e-6);
      }
      closeTo(o.compiledMean[0], sums[0].map((v) => v / n), `rank ${r} mean x`, 1e-6);
      closeTo(o.compiledMean[1], sums[1].map((v) => v / n), `rank ${r} mean y`, 1e-15);
      closeTo(o.compiledMean[2], sums[2].map((v) => v / n), `rank ${r} mean z`, 1e-6);
    });
  });

  it('gradients through T.allreduce match central differences of the total loss', () => {
    outs.forEach((o, r) => {
      for (const op of ['sum', 'mean', 'max', 'min']) closeTo(o.grad[op].g, o.grad[op].fd, `rank ${r} grad ${op}`, 1e-6);
    });
    // and they are what the chain rule says for sum: sum_r' w_r' * (1 - tanh(s)^2)
    const base = (r: number) => [0.1 + 0.3 * r, -0.2 * r, 0.05 * (r + 1) * (r + 1)];
    const s = across(n, base, sum);
    const wsum = across(n, (r) => [r + 1, 2 - r, 0.5], sum);
    outs.forEach((o, r) => closeTo(o.grad.sum.g, s.map((v, i) => wsum[i] * (1 - Math.tanh(v) ** 2)), `rank ${r} grad sum (closed form)`, 1e-12));
  });

  it('a data-parallel training step keeps the weights equal on every rank, and equal to full-batch training', () => {
    // rows 4r .. 4r+3 live on rank r; the mean of the ranks' mean gradients is the full batch's
    const rows = range(4 * n).map((j) => ({ x: [0.1 * j, 1, (j % 3) - 1], y: Math.sin(j) }));
    const w = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const g = [0, 0, 0];
      for (const { x, y } of rows) {
        const e = x[0] * w[0] + x[1] * w[1] + x[2] * w[2] - y;
        for (let i = 0; i < 3; i++) g[i] += (2 * e * x[i]) / rows.length;
      }
      for (let i = 0; i < 3; i++) w[i] -= 0.1 * g[i];
    }
    outs.forEach((o, r) => closeTo(o.trainedW, w, `rank ${r} weights`, 1e-12));
  });
}

describe('distributed: 2 MPI processes', () => checkWorld(2));
describe('distributed: 3 MPI processes', () => checkWorld(3));

describe('distributed: a failing rank', () => {
  it('ends the job with its error shown instead of leaving the others waiting', function () {
    const why = mpiUnavailable();
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    this.timeout(60000);
    const r = runMpi(2, `const { distributed: d } = require('./lib/tensor/distributed'); const { tensor } = require('./lib/tensor/creation');
      d.init(); if (d.rank === 1) throw new Error('rank 1 gives up'); d.allreduce(tensor([1])); emit('rank 0 was not stopped');`, { timeoutMs: 45000 });
    assert.equal(r.signal, null, 'mpirun ended by itself (not killed at the timeout)');
    assert.notEqual(r.status, 0);
    assert.ok(r.stderr.includes('Error: rank 1 gives up'), `the failing rank's error is shown:\n${r.stderr.slice(-2000)}`);
    assert.deepEqual(r.results, [undefined, undefined]);
  });
});
