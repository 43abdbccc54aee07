// Results of at most 64 bytes (losses, metrics, small vectors) live in memory V8 owns instead of a
// native buffer: the addon hands back a view of a staging area, the tensor copies it at once (a
// one-element result keeps its value as a number until something needs it as an array).
// These tests check that such tensors behave exactly like native ones wherever a tensor goes —
// eager ops, compiled functions (sync, async, concurrent), shared variables, views, dispose —
// and that the staging areas never leak one result into another.  Expected values are computed
// here in float64.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { expectError } from '../support/check';
import { lastJson, runChild } from '../support/child';

const { T } = st;
type Tensor = st.Tensor;

const data = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);
const f32 = (x: number) => Math.fround(x);
const near = (a: number[], e: number[], tol = 1e-6, what = '') => {
  assert.equal(a.length, e.length, `${what}: ${a.length} values, expected ${e.length}`);
  a.forEach((v, i) => assert.ok(Math.abs(v - e[i]) <= tol * Math.max(1, Math.abs(e[i])), `${what}[${i}]: ${v}, expected ${e[i]}`));
};

describe('small results (at most 64 bytes) held by V8', () => {
  it('eager results: values, dtypes, and independence of results made one after another', () => {
    const xs = [0.5, -1.25, 2, 3.5];
    const x = st.tensor(xs);
    // one staging area serves every call: each result must keep its own values
    const sums = Array.from({ length: 40 }, (_, i) => st.add(x, i));
    sums.forEach((t, i) => assert.deepEqual(data(t), xs.map((v) => f32(v + i)), `result ${i}`));
    const s = st.sum(x);
    assert.equal(s.item(), xs.reduce((a, b) => a + b, 0));
    const am = st.argmax(x);
    assert.equal(am.dtype, 'int32');
    assert.ok(am.dataSync() instanceof Int32Array);
    assert.equal(am.item(), 3);
    const gt = st.greater(x, 0);
    assert.equal(gt.dtype, 'bool');
    assert.ok(gt.dataSync() instanceof Uint8Array);
    assert.deepEqual(gt.arraySync(), [true, false, true, true]);
    const d = st.tensor([1.5, 2.25], { dtype: 'float64' }).mul(1 / 3);
    assert.ok(d.dataSync() instanceof Float64Array);
    assert.deepEqual(data(d), [1.5 / 3, 2.25 / 3]);
    // several small outputs of one op
    const parts = st.split(st.tensor([1, 2, 3, 4, 5, 6]), 3);
    assert.deepEqual(parts.map(data), [[1, 2], [3, 4], [5, 6]]);
    assert.equal(s.toString(), 'tensor(4.75)');
  });

  it('dataSync() gives a copy: writing to it changes nothing', () => {
    const t = st.add(st.tensor([1, 2, 3]), 1);
    const a = t.dataSync();
    a[0] = 100;
    assert.deepEqual(data(t), [2, 3, 4]);
  });

  it('small results as inputs of eager ops, in every dtype', () => {
    const x = st.tensor([1, -2, 3]);
    const m = st.max(x); // float32 scalar
    const am = st.argmin(x); // int32 scalar
    const pos = st.greater(x, 0); // bool [3]
    assert.deepEqual(data(st.sub(x, m)), [-2, -5, 0]);
    assert.deepEqual(data(st.add(am, 10)), [11]);
    assert.deepEqual(data(st.where(pos, x, st.mul(x, m))), [1, -6, 3]);
    assert.deepEqual(data(st.cast(pos, 'int32').add(am)), [2, 1, 2]);
  });

  it('views of a small result outlive its disposal; use after the last dispose throws', () => {
    const t = st.add(st.tensor([[1, 2], [3, 4]]), 0.5);
    const v = t.reshape([4]);
    t.dispose();
    assert.equal(t.isDisposed, true);
    assert.deepEqual(data(v), [1.5, 2.5, 3.5, 4.5]);
    assert.deepEqual(data(st.mul(v, 2)), [3, 5, 7, 9]);
    v.dispose();
    v.dispose();
    expectError(() => v.dataSync(), 'ERR_ST_DISPOSED', ['dataSync', 'disposed']);
    expectError(() => st.exp(v), 'ERR_ST_DISPOSED', ['exp', '[4]']);
    expectError(() => t.arraySync(), 'ERR_ST_DISPOSED', ['arraySync']);
    assert.equal(t.toString(), 'tensor(<disposed>, shape=[2,2], dtype=float32)');
  });

  it('compiled functions: sync results stay independent, in mixed small and large outputs', () => {
    const v = T.vector('v');
    const f = st.fn([v], [v.sum(), v.mul(2), v.max()]);
    const inputs = [[1, 2, 3], [-4, 0.5, 8], [10, 20, -30]];
    const outs = inputs.map((xs) => f.sync(st.tensor(xs)) as Tensor[]);
    inputs.forEach((xs, i) => {
      assert.deepEqual(data(outs[i][0]), [xs.reduce((a, b) => a + b, 0)], `sum ${i}`);
      assert.deepEqual(data(outs[i][1]), xs.map((x) => x * 2), `double ${i}`);
      assert.deepEqual(data(outs[i][2]), [Math.max(...xs)], `max ${i}`);
    });
    // a large output next to the small ones
    const g = st.fn([v], [v.sum(), v.add(1)]);
    const big = Array.from({ length: 100 }, (_, i) => i * 0.25);
    const [s, b] = g.sync(st.tensor(big)) as Tensor[];
    assert.equal(s.item(), big.reduce((a, c) => a + c, 0));
    assert.deepEqual(data(b), big.map((x) => x + 1));
  });

  it('compiled functions: concurrent async calls each get their own results', async () => {
    const v = T.vector('v');
    const f = st.fn([v], [v.sum(), v.mul(v).mean()]);
    const inputs = Array.from({ length: 30 }, (_, i) => [i, -i / 2, 1 + i / 4, 3]);
    const got = await Promise.all(inputs.map((xs) => f(st.tensor(xs)) as Promise<Tensor[]>));
    // interleaved with sync calls, which use another staging area
    const syncSum = (f.sync(st.tensor([1, 1, 1, 1])) as Tensor[])[0];
    inputs.forEach((xs, i) => {
      near(data(got[i][0]), [xs.reduce((a, b) => a + b, 0)], 1e-6, `sum ${i}`);
      near(data(got[i][1]), [xs.reduce((a, b) => a + b * b, 0) / xs.length], 1e-6, `mean square ${i}`);
    });
    assert.equal(syncSum.item(), 4);
  });

  it('small results as inputs of compiled functions, sync and async, disposed while a call runs', async () => {
    const a = T.vector('a'), b = T.scalar('b');
    const f = st.fn([a, b], a.mul(b).add(1));
    const small = st.sum(st.tensor([1, 2])); // 3, held by V8
    const vec = st.mul(st.tensor([1, 2, 3]), 2); // [2, 4, 6], held by V8
    assert.deepEqual(data(f.sync(vec, small) as Tensor), [7, 13, 19]);
    const p = f(vec, small) as Promise<Tensor>;
    vec.dispose(); // the running call keeps what it reads
    small.dispose();
    assert.deepEqual(data(await p), [7, 13, 19]);
    expectError(() => f.sync(vec, st.tensor(1)), 'ERR_ST_DISPOSED', ['disposed']);
    await assert.rejects(f(st.tensor([1]), small) as Promise<Tensor>, (e: st.SymtensorError) => e.code === 'ERR_ST_DISPOSED');
  });

  it('a small shared variable is updated in place, set() and dispose() work on it', () => {
    // w ← w − 0.1·∂/∂w Σ(w − t)², from w = [1, 2, 3]
    const target = [0.5, -1, 2];
    const w = st.shared([1, 2, 3], 'w');
    const t = T.vector('t');
    const loss = T.sqr(w.sub(t)).sum();
    const [g] = st.grad(loss, [w]);
    const step = st.fn([t], loss, { updates: [[w, w.sub(g.mul(0.1))]] });
    const tv = st.tensor(target);
    const ref = [1, 2, 3];
    const refLoss: number[] = [];
    for (let k = 0; k < 5; k++) {
      refLoss.push(ref.reduce((a, x, j) => a + (x - target[j]) ** 2, 0));
      ref.forEach((x, j) => (ref[j] = x - 0.1 * 2 * (x - target[j])));
    }
    const losses = Array.from({ length: 5 }, () => (step.sync(tv) as Tensor).item());
    near(losses, refLoss, 1e-5, 'losses');
    near(data(w.get()), ref, 1e-5, 'w');
    w.set([0.5, -1, 2]);
    assert.equal((step.sync(tv) as Tensor).item(), 0);
    near(data(w.get()), target, 1e-7, 'w after set');
    w.dispose();
    expectError(() => step.sync(tv), 'ERR_ST_DISPOSED', ['disposed']);
  });

  it('empty results, and small results bound into a compiled function as constants', async () => {
    const empty = st.add(st.zeros([0]), 1);
    assert.deepEqual(empty.shape, [0]);
    assert.deepEqual(data(empty), []);
    const v = T.vector('v');
    const f = st.fn([v], [v.mul(2), v.sum()]);
    const [e, s] = f.sync(st.zeros([0])) as Tensor[];
    assert.deepEqual([data(e), data(s)], [[], [0]]);
    const [ea, sa] = (await f(st.zeros([0]))) as Tensor[];
    assert.deepEqual([data(ea), data(sa)], [[], [0]]);
    // a constant made by an op (so held by V8), used by a compiled function
    const c = st.add(st.tensor([1, 2, 3]), 0.5);
    const g = st.fn([v], v.mul(c));
    c.dispose(); // the function keeps its own reference to the data
    assert.deepEqual(data(g.sync(st.tensor([2, 2, 2])) as Tensor), [3, 5, 7]);
    assert.deepEqual(data((await g(st.tensor([1, -1, 0]))) as Tensor), [1.5, -2.5, 0]);
  });

  it('native memory counts only results above 64 bytes (fresh process)', () => {
    const r = runChild(`
      const m = () => st.memory().numTensors;
      const x = st.tensor(Array.from({ length: 32 }, (_, i) => i)); // 128 bytes, native
      const x16 = x.slice([0], [16]), x17 = x.slice([0], [17]);
      const start = m();
      const held = [];
      for (let i = 0; i < 500; i++) held.push(st.add(st.sum(x), i));   // scalars
      const afterScalars = m();
      held.push(st.add(x16, 1));                         // 16 floats: 64 bytes
      const at64 = m();
      held.push(st.add(x17, 1));                         // 17 floats: 68 bytes
      const at68 = m();
      const v = st.T.vector('v');
      const f = st.fn([v], [v.sum(), v.mul(2)]);
      const outs = [f.sync(x)];                                          // compiles (and makes its constants)
      const beforeFn = m();
      for (let i = 1; i < 300; i++) outs.push(f.sync(x));              // a scalar and 128 bytes
      const afterFn = m();
      const last = held[499].item();
      console.log(JSON.stringify({ start, afterScalars, at64, at68, beforeFn, afterFn, last, lastFn: outs[299][0].item() }));
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const o = lastJson<Record<string, number>>(r);
    assert.equal(o.afterScalars - o.start, 0, '500 scalar results hold no native memory');
    assert.equal(o.at64 - o.afterScalars, 0, 'a 64-byte result holds no native memory');
    assert.equal(o.at68 - o.at64, 1, 'a 68-byte result is native');
    assert.equal(o.afterFn - o.beforeFn, 299, 'only the 128-byte outputs of the 299 calls are native');
    assert.equal(o.last, (31 * 32) / 2 + 499);
    assert.equal(o.lastFn, (31 * 32) / 2);
  });

  it('one-element results (held as a number until an array is needed) behave like any tensor in every dtype', () => {
    const x = st.tensor([1.5, -2.25, 4], { dtype: 'float64' });
    const xs = T.vector('x', 'float64');
    const f = st.fn([xs], [T.sum(xs), T.less(T.max(xs), 0), T.argmax(xs), T.sum(xs).mul(0).mul(-1), T.log(T.min(xs))]);
    const [sum, neg, arg, negZero, nan] = f.sync(x);
    // read before anything else makes its array
    assert.equal(sum.item(), 3.25);
    assert.equal(neg.item(), false);
    assert.equal(arg.item(), 2);
    assert.ok(Object.is(negZero.item(), -0), `-0 kept, got ${negZero.item()}`);
    assert.ok(Number.isNaN(nan.item()));
    // the arrays made on demand have the dtype's type and the same value
    assert.ok(sum.dataSync() instanceof Float64Array);
    assert.deepEqual(Array.from(sum.dataSync()), [3.25]);
    assert.ok(neg.dataSync() instanceof Uint8Array);
    assert.deepEqual(neg.arraySync(), false);
    assert.ok(arg.dataSync() instanceof Int32Array);
    assert.ok(Object.is(negZero.dataSync()[0], -0));
    assert.match(String(sum), /3\.25/);
    // as inputs of eager ops and compiled functions, and through views (one storage for both)
    assert.equal(st.add(sum, 1).item(), 4.25);
    const v = sum.reshape([1, 1]);
    assert.deepEqual(v.arraySync(), [[3.25]]);
    sum.dispose();
    assert.deepEqual(v.arraySync(), [[3.25]], 'a view outlives the tensor it was made from');
    v.dispose();
    expectError(() => sum.item(), 'ERR_ST_DISPOSED');
    // a float32 one-element result: its float32 value, as an input to the next call
    const y = T.scalar('y');
    const h = st.fn([y], y.mul(1.1));
    let r = h.sync(st.tensor(1));
    for (let i = 0; i < 3; i++) r = h.sync(r);
    let e = 1;
    for (let i = 0; i < 4; i++) e = f32(e * f32(1.1));
    assert.equal(r.item(), e);
    assert.deepEqual(Array.from(r.dataSync()), [e]);
    assert.ok(r.dataSync() instanceof Float32Array);
  });
});
