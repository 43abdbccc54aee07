// Async calls of compiled functions: many concurrent calls agree with sync ones, the event loop
// stays free while a program runs, and calls of one function run in call order.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

const { T } = st;
type Tensor = st.Tensor;

const data = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('graph: async calls', function () {
  // slow under load (another test run on the same cores): no tighter than the suite's default
  this.timeout(120000);

  it('50 interleaved concurrent calls of 3 functions give the sync results', async () => {
    const X = T.matrix('X'), v = T.vector('v');
    const W = st.shared(st.randomNormal([16, 8], { seed: 1 }), 'W');
    const fA = st.fn([X], T.tanh(T.dot(X, W)));
    const fB = st.fn([X, v], [T.softmax(X.mul(v)), X.sum(1)]);
    const fC = st.fn([v], T.logSumExp(v).add(v.max()));
    const inputs = Array.from({ length: 50 }, (_, i) => ({
      X: st.randomNormal([3 + (i % 4), 16], { seed: 100 + i }),
      v: st.randomNormal([16], { seed: 200 + i }),
    }));
    const call = (i: number, sync: boolean): Promise<Tensor[]> | Tensor[] => {
      const { X: x, v: y } = inputs[i];
      const wrap = (r: Tensor | Tensor[]) => (Array.isArray(r) ? r : [r]);
      if (sync) return wrap(i % 3 === 0 ? fA.sync(x) : i % 3 === 1 ? fB.sync(x, y) : fC.sync(y));
      return (i % 3 === 0 ? fA(x) : i % 3 === 1 ? fB(x, y) : fC(y)).then(wrap);
    };
    const expected = inputs.map((_, i) => call(i, true) as Tensor[]);
    const got = await Promise.all(inputs.map((_, i) => call(i, false) as Promise<Tensor[]>));
    got.forEach((outs, i) => {
      assert.equal(outs.length, expected[i].length);
      outs.forEach((t, k) => {
        assert.deepEqual(t.shape, expected[i][k].shape, `call ${i} output ${k} shape`);
        assert.deepEqual(data(t), data(expected[i][k]), `call ${i} output ${k}`);
      });
    });
  });

  it('concurrent calls of one function with different batch sizes each get their own result', async () => {
    const X = T.matrix('X');
    const f = st.fn([X], X.mul(2).sum(1));
    const xs = Array.from({ length: 30 }, (_, i) => st.full([1 + (i % 5), 3], i));
    const rs = (await Promise.all(xs.map((x) => f(x)))) as Tensor[];
    rs.forEach((r, i) => {
      assert.deepEqual(r.shape, [1 + (i % 5)]);
      assert.ok(data(r).every((y) => y === 6 * i), `call ${i}: ${data(r)}`);
    });
  });

  it('concurrent calls with more distinct shapes than the program cache holds all succeed', async () => {
    const X = T.matrix('X');
    const f = st.fn([X], X.sum(1));
    const n = 40;
    const rs = await Promise.allSettled(Array.from({ length: n }, (_, i) => f(st.full([i + 1, 2], i))));
    const failed = rs.flatMap((r, i) => (r.status === 'rejected' ? [`call ${i}: ${(r.reason as Error).message}`] : []));
    assert.deepEqual(failed, [], `${failed.length} of ${n} calls failed`);
    rs.forEach((r, i) => {
      const t = (r as PromiseFulfilledResult<Tensor>).value;
      assert.deepEqual(t.shape, [i + 1]);
      assert.ok(data(t).every((v) => v === 2 * i));
    });
  });

  it('the event loop stays responsive during a long call (and is blocked by the sync twin)', async () => {
    // Counted, not timed: how many event-loop turns (setImmediate callbacks) and timer callbacks
    // run while the call is in flight.  The sync twin, the same work in the same run, gives none;
    // an async call gives many, whatever the machine's speed or load, because the main thread is
    // idle while a worker computes.  The wall clock only sizes the problem, never decides a result.
    const A = T.matrix('A'), B = T.matrix('B');
    const f = st.fn([A, B], T.dot(T.dot(A, B), B).sum());
    let n = 256;
    let a = st.randomNormal([n, n], { seed: 1 }), b = st.randomNormal([n, n], { seed: 2, stddev: 0.03 });
    // grow the problem until one call takes at least 100 ms (sizing only)
    for (;;) {
      const t0 = performance.now();
      f.sync(a, b);
      const ms = performance.now() - t0;
      if (ms >= 100 || n >= 4096) break;
      n = Math.round(n * Math.max(1.3, Math.min(2, Math.cbrt(120 / Math.max(ms, 1)))));
      a = st.randomNormal([n, n], { seed: 1 });
      b = st.randomNormal([n, n], { seed: 2, stddev: 0.03 });
    }
    const expected = (f.sync(a, b) as Tensor).item() as number;

    const turnsDuring = async (run: () => Promise<unknown> | unknown) => {
      let ticks = 0;
      let turns = 0;
      let stop = false;
      const timer = setInterval(() => ticks++, 1);
      const spin = () => {
        if (stop) return;
        turns++;
        setImmediate(spin);
      };
      setImmediate(spin);
      const r = await run();
      stop = true;
      clearInterval(timer);
      return { ticks, turns, r };
    };

    const syncRun = await turnsDuring(() => f.sync(a, b));
    assert.deepEqual([syncRun.ticks, syncRun.turns], [0, 0], 'no callback can run while f.sync blocks the loop');

    const asyncRun = await turnsDuring(() => f(a, b));
    assert.ok(Math.abs(((asyncRun.r as Tensor).item() as number) - expected) <= 1e-4 * (1 + Math.abs(expected)));
    // A call that blocked the loop, even one started in a later callback, would allow a turn or
    // two (those before it starts); a worker leaves the loop free for thousands while it runs.
    assert.ok(asyncRun.turns >= 20, `only ${asyncRun.turns} event-loop turns while the async call ran (0 while f.sync ran)`);
    assert.ok(asyncRun.ticks >= 1, `no timer fired while the async call ran (${asyncRun.turns} loop turns)`);
  });

  it('calls of one function with updates run in call order: a counter reaches N', async () => {
    const counter = st.shared(st.tensor(0), 'counter');
    const inc = st.fn([], counter, { updates: [[counter, counter.add(1)]] });
    const N = 100;
    const outs = (await Promise.all(Array.from({ length: N }, () => inc()))) as Tensor[];
    assert.equal(counter.get().item(), N);
    assert.deepEqual(outs.map((t) => t.item()), Array.from({ length: N }, (_, i) => i), 'each call sees the value left by the one before');
  });

  it('two functions updating one shared variable, called concurrently, lose no update', async () => {
    const acc = st.shared(st.tensor(0, { dtype: 'int32' }), 'acc');
    const add1 = st.fn([], [], { updates: [[acc, acc.add(1)]] });
    const add10 = st.fn([], [], { updates: [[acc, acc.add(10)]] });
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) ps.push(add1(), add10());
    await Promise.all(ps);
    assert.equal(acc.get().item(), 40 * 11);
  });

  it('a training loop with concurrent steps gives the same weights as sequential sync steps', async () => {
    const make = () => {
      const X = T.matrix('X'), y = T.vector('y');
      const w = st.shared(st.zeros([4]), 'w');
      const cost = T.mean(T.square(T.dot(X, w).sub(y)));
      const train = st.fn([X, y], cost, { updates: [[w, w.sub(st.grad(cost, w).mul(0.05))]] });
      return { w, train };
    };
    const batches = Array.from({ length: 20 }, (_, i) => {
      const X = st.randomNormal([8, 4], { seed: 300 + i });
      return { X, y: st.matmul(X, st.tensor([1, -2, 0.5, 3])) };
    });
    const s = make();
    const syncCosts = batches.map((b) => (s.train.sync(b.X, b.y) as Tensor).item());
    const a = make();
    const asyncCosts = ((await Promise.all(batches.map((b) => a.train(b.X, b.y)))) as Tensor[]).map((t) => t.item());
    assert.deepEqual(asyncCosts, syncCosts);
    assert.deepEqual(data(a.w.get()), data(s.w.get()));
    assert.ok((syncCosts[19] as number) < (syncCosts[0] as number), 'training makes progress');
  });

  it('a failing async call rejects, and the calls queued after it still run', async () => {
    const v = T.vector('v'), i = T.ivector('i');
    const n = st.shared(st.tensor(0), 'n');
    const f = st.fn([v, i], T.gather(v, i), { updates: [[n, n.add(1)]] });
    const good = st.tensor([1], { dtype: 'int32' }), bad = st.tensor([5], { dtype: 'int32' });
    const results = await Promise.allSettled([f([1, 2], good), f([1, 2], bad), f([3, 4], good), f([1, 2], bad), f([5, 6], good)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => data((r as PromiseFulfilledResult<Tensor>).value)), [[2], [4], [6]]);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as st.SymtensorError).code, 'ERR_ST_INDEX');
    assert.equal(n.get().item(), 3, 'only the successful calls applied their updates');
  });

  it('bad arguments to an async call reject (they do not throw synchronously)', async () => {
    const v = T.vector('v');
    const f = st.fn([v], v.add(1));
    let p: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      p = f();
    });
    await assert.rejects(p!, (e: st.SymtensorError) => e.code === 'ERR_ST_ARG');
    await assert.rejects(f(st.ones([2, 2])), (e: st.SymtensorError) => e.code === 'ERR_ST_SHAPE');
  });

  it('an input disposed right after the call was made does not spoil that call', async () => {
    const v = T.vector('v');
    const f = st.fn([v], v.mul(2));
    const t = st.tensor([1, 2, 3]);
    const p = f(t);
    t.dispose();
    assert.deepEqual(data((await p) as Tensor), [2, 4, 6]);
  });

  it('an input disposed while its call waits behind others does not spoil that call', async () => {
    const A = T.matrix('A');
    const f = st.fn([A], T.dot(A, A).sum());
    const big = st.randomNormal([400, 400], { seed: 9, stddev: 0.05 });
    const first = f(big);
    const small = st.tensor([[1, 2], [3, 4]]);
    const second = f(small);
    small.dispose();
    await first;
    assert.equal(((await second) as Tensor).item(), 7 + 10 + 15 + 22);
  });

  it('a sync call while an async call of the same function is in flight gives right results for both', async () => {
    const A = T.matrix('A');
    const f = st.fn([A], T.dot(A, A).mul(0.5));
    const big = st.randomNormal([500, 500], { seed: 4, stddev: 0.05 });
    const expected = data(f.sync(big) as Tensor);
    const p = f(big);
    await sleep(1);
    const s = f.sync(big) as Tensor;
    const a = (await p) as Tensor;
    assert.deepEqual(data(s), expected);
    assert.deepEqual(data(a), expected);
  });

  it('dispose() during a running call: that call completes, queued calls reject with ERR_ST_DISPOSED', async () => {
    const A = T.matrix('A');
    const f = st.fn([A], T.dot(T.dot(A, A), A).sum());
    const a = st.randomNormal([600, 600], { seed: 1, stddev: 0.03 });
    const expected = (f.sync(a) as Tensor).item() as number;
    const running = f(a), queued = f(a);
    // once the microtasks have run, the first call is on a worker (two 600³ products take far
    // longer than one turn of the event loop) and the second waits behind it
    await new Promise((r) => setImmediate(r));
    f.dispose();
    const [r1, r2] = await Promise.allSettled([running, queued]);
    assert.equal(r1.status, 'fulfilled', `the running call must complete: ${r1.status === 'rejected' ? (r1.reason as Error).message : ''}`);
    assert.equal(((r1 as PromiseFulfilledResult<Tensor>).value as Tensor).item(), expected);
    assert.equal(r2.status, 'rejected', 'the queued call must not run after dispose()');
    assert.equal(((r2 as PromiseRejectedResult).reason as st.SymtensorError).code, 'ERR_ST_DISPOSED');
    // and later calls fail the same way
    await assert.rejects(f(a), (e: st.SymtensorError) => e.code === 'ERR_ST_DISPOSED');
    assert.throws(() => f.sync(a), (e: st.SymtensorError) => e.code === 'ERR_ST_DISPOSED');
  });

  it('different functions running BLAS concurrently on worker threads give the sync results', async () => {
    const mk = () => {
      const A = T.matrix('A');
      return st.fn([A], T.dot(T.dot(A, A), A));
    };
    const fs = [mk(), mk(), mk(), mk()];
    const xs = fs.map((_, i) => st.randomNormal([300, 300], { seed: 50 + i, stddev: 0.05 }));
    const expected = fs.map((f, i) => data(f.sync(xs[i]) as Tensor));
    for (let round = 0; round < 3; round++) {
      const got = (await Promise.all(fs.map((f, i) => f(xs[i])))) as Tensor[];
      got.forEach((t, i) => assert.deepEqual(data(t), expected[i], `round ${round}, function ${i}`));
    }
  });
});
