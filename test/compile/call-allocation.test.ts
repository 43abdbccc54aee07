// What a compiled call allocates on the JS heap, and that the paths which avoid allocating give
// the same values: arguments passed through unconverted, the program of the last call's shapes
// reused without building a cache key, one output wrapped without an array, async results kept
// in their own staging area instead of copied.  Garbage per call is what a `.sync` training loop
// pushes through V8's young generation (and so its RSS); it is measured in a child process with
// V8's sampling heap profiler, counting objects collected since.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { lastJson, runChild } from '../support/child';

const { T } = st;

/** float32 rounding of a float64 value, as the kernels store it. */
const f32 = (v: number) => Math.fround(v);

function assertNear(got: ArrayLike<number>, want: number[], what: string, tol = 1e-6): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

interface AllocationReport {
  bytesPerCall: { plusOne: number; trainStep: number };
  plusOne: number[];
  w: number[];
}

describe('compile: JS heap allocated per call', () => {
  it('f.sync of a one-output function allocates under 640 bytes per call (400 for a scalar result), with the values unchanged', () => {
    // Measured on Node 20: ~480 B per call for x + 1 on [4], nearly all of it objects the call
    // must make — the result's copy out of the staging area (~215 B), the Tensor and its storage
    // (~100 B), the rest-argument array and the addon's result array (~56 B each); ~240 B for the
    // training step, whose scalar loss is held as a number until something needs its array.
    // Before the fast paths it was ~925 B (x + 1) and ~1,090 B (the training step).
    const r = runChild(`
      const { Session } = require('node:inspector');
      const session = new Session();
      session.connect();
      // the in-process session answers synchronously
      const post = (method, params) => {
        let out, err, done = false;
        session.post(method, params, (e, res) => { err = e; out = res; done = true; });
        if (!done) throw new Error(method + ' did not answer synchronously');
        if (err) throw err;
        return out;
      };
      const total = (node) => node.children.reduce((s, c) => s + total(c), node.selfSize);
      const bytesPerCall = (call, n) => {
        for (let i = 0; i < 3000; i++) call();
        post('HeapProfiler.startSampling', { samplingInterval: 16, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        for (let i = 0; i < n; i++) call();
        const { profile } = post('HeapProfiler.stopSampling');
        return total(profile.head) / n;
      };
      const { T } = st;

      const x = T.vector('x');
      const plusOne = st.fn([x], x.add(1));
      const xt = st.tensor([1.5, -2, 0.25, 3]);
      let last;
      const a = bytesPerCall(() => { last = plusOne.sync(xt); }, 20000);

      const X = [[1, 2, 0.5], [0.3, -1, 2], [2, 0.1, -0.4], [-1, 1, 1]], Y = [1, -0.5, 2, 0.25];
      const w = st.shared(st.zeros([3]), 'w');
      const xs = T.matrix('x'), ys = T.vector('y');
      const loss = T.sqr(T.dot(xs, w).sub(ys)).mean();
      const [g] = st.grad(loss, [w]);
      const step = st.fn([xs, ys], loss, { updates: [[w, w.sub(g.mul(0.01))]] });
      const xm = st.tensor(X), yv = st.tensor(Y);
      const b = bytesPerCall(() => step.sync(xm, yv), 10000);
      console.log(JSON.stringify({ bytesPerCall: { plusOne: a, trainStep: b }, plusOne: Array.from(last.dataSync()), w: Array.from(w.get().dataSync()) }));
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const out = lastJson<AllocationReport>(r);
    assertNear(out.plusOne, [2.5, -1, 1.25, 4], 'x + 1');
    // float64 reference of the 13,000 steps the child ran (3,000 warm-up, 10,000 measured)
    const X = [[1, 2, 0.5], [0.3, -1, 2], [2, 0.1, -0.4], [-1, 1, 1]], Y = [1, -0.5, 2, 0.25];
    const w = [0, 0, 0];
    for (let s = 0; s < 13000; s++) {
      const grad = [0, 0, 0];
      X.forEach((row, i) => {
        const e = row.reduce((acc, v, j) => acc + v * w[j], 0) - Y[i];
        row.forEach((v, j) => (grad[j] += (2 * e * v) / X.length));
      });
      for (let j = 0; j < 3; j++) w[j] -= 0.01 * grad[j];
    }
    assertNear(out.w, w, 'w after training', 1e-4);
    const { plusOne, trainStep } = out.bytesPerCall;
    assert.ok(plusOne > 100 && plusOne < 640, `x + 1 on [4]: ${plusOne.toFixed(0)} bytes per call`);
    assert.ok(trainStep > 100 && trainStep < 400, `training step: ${trainStep.toFixed(0)} bytes per call`);
  });
});

describe('compile: the allocation-free call paths give the same values', () => {
  it('results held across sync calls keep their own values (small results are copied out of the staging area)', () => {
    const x = T.vector('x');
    const f = st.fn([x], x.mul(2));
    const inputs = [[1, 2, 3], [-4, 0.5, 8], [0.25, 0.125, -1]];
    const held = inputs.map((v) => f.sync(st.tensor(v)));
    held.forEach((t, k) => assertNear(t.dataSync(), inputs[k].map((v) => 2 * v), `call ${k}`));
  });

  it('async results of calls in flight together keep their own values, also after later sync calls', async () => {
    const x = T.vector('x');
    const f = st.fn([x], [x.sub(1), x.sum()]);
    const inputs = [[1, 2, 3, 4], [5, -6, 7, 0.5], [-0.25, 8, 1, 2]];
    const results = await Promise.all(inputs.map((v) => f(st.tensor(v))));
    for (let i = 0; i < 3; i++) f.sync(st.tensor([9, 9, 9, 9]));
    results.forEach(([d, s], k) => {
      assertNear(d.dataSync(), inputs[k].map((v) => v - 1), `difference ${k}`);
      assertNear(s.dataSync(), [inputs[k].reduce((a, v) => a + v, 0)], `sum ${k}`);
    });
    // an async result (a view of its run's own staging area) as the input of another call
    const again = f.sync(results[1][0]) as st.Tensor[];
    assertNear(again[0].dataSync(), inputs[1].map((v) => v - 2), 'fed back');
  });

  it('alternating and recurring input shapes each run their own program (past the 16 kept)', () => {
    const a = T.matrix('a'), b = T.vector('b');
    const f = st.fn([a, b], [a.mul(b).sum(1), b.max()]);
    const check = (rows: number, cols: number) => {
      const A = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => f32(Math.sin(i * 7 + j) * 3)));
      const B = Array.from({ length: cols }, (_, j) => f32(Math.cos(j) * 2));
      const [dot, mx] = f.sync(st.tensor(A), st.tensor(B)) as st.Tensor[];
      assert.deepEqual(dot.shape, [rows]);
      assertNear(dot.dataSync(), A.map((row) => row.reduce((s, v, j) => s + v * B[j], 0)), `a·b on [${rows},${cols}]`, 1e-5);
      assertNear(mx.dataSync(), [Math.max(...B)], `max b on [${cols}]`);
    };
    // the same shapes again, the transposed ones, back: hits and misses of the last program
    for (const [r, c] of [[2, 3], [2, 3], [3, 2], [2, 3], [3, 2], [3, 2], [1, 5]]) check(r, c);
    // 18 shapes push the first ones out of the cache; coming back recompiles them
    for (let c = 1; c <= 18; c++) check(2, c);
    check(2, 3);
    check(1, 1);
  });

  it('converted arguments are freed after the call and the caller\'s tensors are not', () => {
    const x = T.vector('x'), y = T.vector('y');
    const f = st.fn([x, y], x.mul(y), { allowInputDowncast: true });
    const given64 = st.tensor(new Float64Array([0.5, 2, -3]));
    const given32 = st.tensor([4, -1, 0.25]);
    const before = st.memory().numTensors;
    const r1 = f.sync(given64, given32);
    const r2 = f.sync([1, 2, 3], given32);
    assertNear(r1.dataSync(), [2, -2, -0.75], 'float64 tensor converted');
    assertNear(r2.dataSync(), [4, -2, 0.75], 'JS array converted');
    assert.equal(given64.isDisposed, false);
    assert.equal(given32.isDisposed, false);
    assertNear(given64.dataSync(), [0.5, 2, -3], 'the caller\'s float64 tensor');
    // results of 12 bytes are held by V8 (no native record); the converted copies were freed
    assert.equal(st.memory().numTensors, before, 'native tensors made by the calls and still held');
  });

  it('errors are unchanged: argument count, dtype, static shape after a good call, disposed input', () => {
    const x = T.tensor('float32', [null, 3], 'x');
    const f = st.fn([x], x.mul(2));
    f.sync(st.zeros([2, 3]));
    const fails = (call: () => unknown, code: string, message: string) =>
      assert.throws(call, (e: st.SymtensorError) => {
        assert.equal(e.code, code);
        assert.equal(e.message, message);
        return true;
      });
    fails(() => f.sync(st.zeros([2, 4])), 'ERR_ST_SHAPE', 'fn: input 0 (x [?,3] float32) got shape [2,4]');
    fails(() => (f.sync as (...a: unknown[]) => unknown)(st.zeros([2, 3]), 1), 'ERR_ST_ARG', 'fn: expected 1 argument (x [?,3] float32), got 2');
    fails(() => f.sync(st.zeros([2, 3], 'int32') as unknown as st.Tensor), 'ERR_ST_DTYPE', 'fn: input 0 (x [?,3] float32) got a int32 tensor; pass float32, or set allowInputDowncast: true to convert');
    const d = st.zeros([2, 3]);
    d.dispose();
    fails(() => f.sync(d), 'ERR_ST_DISPOSED', 'fn: tensor [2,3] float32 is disposed');
    // a failed call leaves the function working, with the same program
    assertNear(f.sync(st.tensor([[1, 2, 3], [4, 5, 6]])).dataSync(), [2, 4, 6, 8, 10, 12], 'after the errors');
  });
});
