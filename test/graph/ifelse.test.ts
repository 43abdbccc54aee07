// T.ifelse is lazy: only the taken branch runs (checked with a branch that would fail, and with
// per-instruction call counts), and its values are right for both conditions.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

const { T } = st;
type Tensor = st.Tensor;

const data = (t: Tensor | Tensor[]) => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
const idx = (xs: number[]) => st.tensor(xs, { dtype: 'int32' });
const close = (a: number[], e: number[], what: string) => {
  assert.equal(a.length, e.length, what);
  a.forEach((v, i) => assert.ok(Math.abs(v - e[i]) <= 1e-5 * (1 + Math.abs(e[i])), `${what}: [${i}] got ${v}, expected ${e[i]}`));
};

/** Call counts of the instructions whose label matches, summed. */
function calls(f: st.CompiledFunction, label: RegExp): number {
  const entries = f.profile().filter((p) => label.test(p.op));
  assert.ok(entries.length > 0, `no instruction matches ${label} in ${f.profile().map((p) => p.op).join(', ')}`);
  return entries.reduce((s, p) => s + p.calls, 0);
}

describe('graph: ifelse', () => {
  const c = T.scalar('c'), v = T.vector('v'), ix = T.ivector('ix');

  it('gives the taken branch for both conditions (sync and async)', async () => {
    const f = st.fn([c, v], T.ifelse(c, v.mul(2), v.neg().sub(1)));
    assert.deepEqual(data(f.sync(1, [1, 2, 3])), [2, 4, 6]);
    assert.deepEqual(data(f.sync(0, [1, 2, 3])), [-2, -3, -4]);
    assert.deepEqual(data(await f(1, [1, 2])), [2, 4]);
    assert.deepEqual(data(await f(0, [1, 2])), [-2, -3]);
    // any nonzero condition is true
    assert.deepEqual(data(f.sync(-0.5, [1])), [2]);
    assert.deepEqual(data(f.sync(NaN, [1])), [2], 'NaN is nonzero, so true (as in C and numpy)');
  });

  it('bool and int32 conditions, and a condition computed in the graph', () => {
    const b = T.tensor('bool', [], 'b'), i = T.iscalar('i');
    const f = st.fn([b, v], T.ifelse(b, v.add(10), v));
    assert.deepEqual(data(f.sync(true, [1])), [11]);
    assert.deepEqual(data(f.sync(false, [1])), [1]);
    const g = st.fn([i, v], T.ifelse(i, v.add(10), v));
    assert.deepEqual(data(g.sync(3, [1])), [11]);
    assert.deepEqual(data(g.sync(0, [1])), [1]);
    const h = st.fn([v], T.ifelse(T.sum(v).greater(0), v.mul(10), v.abs()));
    assert.deepEqual(data(h.sync([1, 2])), [10, 20]);
    assert.deepEqual(data(h.sync([1, -2])), [1, 2]);
    const one = T.tensor('float32', [1], 'one');
    const k = st.fn([one, v], T.ifelse(one, v, v.neg()));
    assert.deepEqual(data(k.sync([0], [4])), [-4], 'a [1]-shaped condition');
  });

  it('the untaken branch does not run: an out-of-range gather there raises nothing', async () => {
    const out = T.ifelse(c, T.gather(v, ix).mul(3), v.exp().add(1));
    const f = st.fn([c, v, ix], out);
    const bad = idx([0, 1, 9]);
    close(data(f.sync(0, [1, 2, 3], bad)), [1, 2, 3].map((x) => Math.exp(x) + 1), 'else branch taken');
    close(data(await f(0, [1, 2, 3], bad)), [1, 2, 3].map((x) => Math.exp(x) + 1), 'else branch taken (async)');
    // the same call with the condition true fails in the gather
    assert.throws(() => f.sync(1, [1, 2, 3], bad), (e: st.SymtensorError) => e.code === 'ERR_ST_INDEX' && /gather/.test(e.message) && e.message.includes('ifelse.test.ts'));
    await assert.rejects(f(1, [1, 2, 3], bad), (e: st.SymtensorError) => e.code === 'ERR_ST_INDEX');
    assert.deepEqual(data(f.sync(1, [1, 2, 3], idx([2, 1, 0]))), [9, 6, 3]);
  });

  it('the else branch is lazy too', () => {
    const f = st.fn([c, v, ix], T.ifelse(c, v.mul(2), T.gather(v, ix)));
    assert.deepEqual(data(f.sync(1, [1, 2], idx([5, -7]))), [2, 4]);
    assert.throws(() => f.sync(0, [1, 2], idx([5, -7])), (e: st.SymtensorError) => e.code === 'ERR_ST_INDEX');
  });

  it('profile: the untaken branch\'s instructions have 0 calls', () => {
    const f = st.fn([c, v, ix], T.ifelse(c, T.gather(v, ix).mul(3), v.exp().add(1)), { profile: true });
    f.sync(1, [1, 2, 3], idx([0, 1, 2]));
    assert.equal(calls(f, /^gather$/), 1);
    assert.equal(calls(f, /exp/), 0, 'else branch must not run when the condition is true');
    const g = st.fn([c, v, ix], T.ifelse(c, T.gather(v, ix).mul(3), v.exp().add(1)), { profile: true });
    g.sync(0, [1, 2, 3], idx([0, 1, 2]));
    assert.equal(calls(g, /^gather$/), 0, 'then branch must not run when the condition is false');
    assert.equal(calls(g, /exp/), 1);
    // counts accumulate over calls
    g.sync(0, [1, 2, 3], idx([0, 1, 2]));
    g.sync(1, [1, 2, 3], idx([0, 1, 2]));
    assert.equal(calls(g, /^gather$/), 1);
    assert.equal(calls(g, /exp/), 2);
  });

  it('an expensive untaken branch costs nothing (a big matmul only on one side)', () => {
    const A = T.matrix('A');
    const heavy = T.dot(T.dot(A, A), A).sum();
    const f = st.fn([c, A], T.ifelse(c, heavy, A.sum()), { profile: true });
    const Ad = st.randomNormal([300, 300], { seed: 1, stddev: 0.05 });
    f.sync(0, Ad);
    assert.equal(calls(f, /matmul/), 0);
    const r = f.sync(1, Ad) as Tensor;
    assert.ok(calls(f, /matmul/) >= 2, 'both matmuls run when taken');
    const ref = st.sum(st.matmul(st.matmul(Ad, Ad), Ad)).item() as number;
    assert.ok(Math.abs((r.item() as number) - ref) <= 1e-3 * (1 + Math.abs(ref)), `${r.item()} vs ${ref}`);
  });

  it('a node used by a branch and by another output is computed whichever branch is taken', () => {
    const e = v.exp();
    const f = st.fn([c, v], [T.ifelse(c, e.mul(2), v), e.add(1)], { profile: true });
    const [o1, o2] = f.sync(0, [0, 1]) as Tensor[];
    assert.deepEqual(data(o1), [0, 1]);
    close(data(o2), [2, Math.E + 1], 'shared node output');
    const [p1, p2] = f.sync(1, [0, 1]) as Tensor[];
    close(data(p1), [2, 2 * Math.E], 'then branch');
    close(data(p2), [2, Math.E + 1], 'shared node output');
  });

  it('a node used by both branches is right for both conditions', () => {
    const e = v.exp();
    const f = st.fn([c, v], T.ifelse(c, e.mul(2), e.mul(3)));
    close(data(f.sync(1, [0, 1])), [2, 2 * Math.E], 'then');
    close(data(f.sync(0, [0, 1])), [3, 3 * Math.E], 'else');
  });

  it('nested ifelse: only the selected leaf runs', () => {
    const c2 = T.scalar('c2');
    const inner = T.ifelse(c2, T.gather(v, ix), v.mul(5));
    const f = st.fn([c, c2, v, ix], T.ifelse(c, inner, v.neg()));
    const bad = idx([3, 3]);
    assert.deepEqual(data(f.sync(0, 1, [1, 2], bad)), [-1, -2], 'outer else: the inner gather never runs');
    assert.deepEqual(data(f.sync(1, 0, [1, 2], bad)), [5, 10], 'inner else');
    assert.deepEqual(data(f.sync(1, 1, [1, 2], idx([1, 0]))), [2, 1], 'inner then');
    assert.throws(() => f.sync(1, 1, [1, 2], bad), (e: st.SymtensorError) => e.code === 'ERR_ST_INDEX');
  });

  it('branches that are inputs, shared variables or constants', () => {
    const w = st.shared(st.tensor([7, 8]), 'w');
    const f = st.fn([c, v], T.ifelse(c, v, w));
    assert.deepEqual(data(f.sync(1, [1, 2])), [1, 2]);
    assert.deepEqual(data(f.sync(0, [1, 2])), [7, 8]);
    const g = st.fn([c], T.ifelse(c, T.constant(st.tensor([1, 1])), w));
    assert.deepEqual(data(g.sync(1)), [1, 1]);
    assert.deepEqual(data(g.sync(0)), [7, 8]);
  });

  it('mixed branch dtypes are upcast', () => {
    const iv = T.ivector('iv');
    const out = T.ifelse(c, iv, v);
    assert.equal(out.dtype, 'float32');
    const f = st.fn([c, iv, v], out);
    const r = f.sync(1, [1, 2], [0.5, 0.5]) as Tensor;
    assert.equal(r.dtype, 'float32');
    assert.deepEqual(data(r), [1, 2]);
  });

  it('branches whose run-time shapes differ are an error naming ifelse', () => {
    const f = st.fn([c, v, ix], T.ifelse(c, v, T.gather(v, ix)));
    assert.throws(() => f.sync(1, [1, 2, 3], idx([0])), (e: st.SymtensorError) => e.code === 'ERR_ST_SHAPE' && /ifelse/.test(e.message) && e.message.includes('[3]') && e.message.includes('[1]'));
  });

  it('with updates: a branch-only computation feeds an update correctly for both conditions', () => {
    const w = st.shared(st.tensor([1, 2]), 'w');
    const f = st.fn([c], [], { updates: [[w, T.ifelse(c, w.mul(2), w.sub(1))]] });
    f.sync(1);
    assert.deepEqual(data(w.get()), [2, 4]);
    f.sync(0);
    assert.deepEqual(data(w.get()), [1, 3]);
  });

  it('a failing taken branch leaves shared variables unchanged', () => {
    const w = st.shared(st.tensor([1, 2]), 'w');
    const f = st.fn([c, v, ix], T.ifelse(c, T.gather(v, ix), v), { updates: [[w, w.add(1)]] });
    assert.throws(() => f.sync(1, [1, 2], idx([4, 0])), (e: st.SymtensorError) => e.code === 'ERR_ST_INDEX');
    assert.deepEqual(data(w.get()), [1, 2]);
    f.sync(0, [1, 2], idx([4, 0]));
    assert.deepEqual(data(w.get()), [2, 3]);
  });

  it('gradients through ifelse follow the taken branch', () => {
    const x = T.vector('x');
    const cost = T.ifelse(c, T.sum(x.square()), T.sum(x.mul(3)));
    const gx = st.grad(cost, x);
    const f = st.fn([c, x], gx);
    assert.deepEqual(data(f.sync(1, [1, -2])), [2, -4]);
    assert.deepEqual(data(f.sync(0, [1, -2])), [3, 3]);
  });

  it('a constant condition: the untaken branch still does not run', () => {
    const f = st.fn([v], T.ifelse(T.constant(0), T.gather(v, idx([9, 9])), v.mul(2)));
    assert.deepEqual(data(f.sync([1, 2])), [2, 4]);
  });
});
