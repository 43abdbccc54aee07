// gemmAccumulate: w ± c·matmul(a, b) becomes one GEMM accumulating into w (and, as an update of a
// shared variable, into its buffer).
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

const { T } = st;

const names = (f: st.CompiledFunction) => f.graph.nodes().map((n) => n.op.name);
const fired = (f: st.CompiledFunction) => f.graph.history.filter((h) => h.rewrite === 'gemmAccumulate').length;

describe('compile: gemmAccumulate', () => {
  it('w - c·(aᵀ·b) is one gemmAcc; values equal the unfused form and the eager ones', () => {
    const w = T.tensor('float64', [4, 3], 'w'), a = T.matrix('a', 'float64'), b = T.matrix('b', 'float64');
    const expr = w.sub(T.matmul(a, b, true, false).mul(0.25));
    const f = st.fn([w, a, b], expr);
    const g = st.fn([w, a, b], expr, { excludeRewrites: ['gemmAccumulate'] });
    assert.equal(fired(f), 1);
    assert.ok(names(f).includes('gemmAcc') && !names(f).includes('matmul'), names(f).join(','));
    const wv = st.randomNormal([4, 3], { seed: 1, dtype: 'float64' });
    const av = st.randomNormal([5, 4], { seed: 2, dtype: 'float64' });
    const bv = st.randomNormal([5, 3], { seed: 3, dtype: 'float64' });
    const r1 = (f.sync(wv, av, bv) as st.Tensor).dataSync(), r2 = (g.sync(wv, av, bv) as st.Tensor).dataSync();
    const eager = wv.sub(st.matmul(av, bv, true, false).mul(0.25)).dataSync();
    for (let i = 0; i < 12; i++) {
      assert.ok(Math.abs(r1[i] - r2[i]) < 1e-12);
      assert.ok(Math.abs(r1[i] - eager[i]) < 1e-12);
    }
    // the inputs are left alone: the accumulation went into a fresh output
    assert.deepEqual(Array.from(wv.dataSync()), Array.from(st.randomNormal([4, 3], { seed: 1, dtype: 'float64' }).dataSync()));
  });

  it('as an SGD update it writes the shared weights in place (no copy) and trains the same', () => {
    const build = (exclude: string[]) => {
      const x = T.matrix('x'), y = T.matrix('y');
      const w = st.shared(st.randomNormal([6, 2], { seed: 4 }), 'w');
      const loss = T.mean(T.square(T.dot(x, w).sub(y)));
      const gw = st.grad(loss, w);
      return { w, f: st.fn([x, y], loss, { updates: [[w, w.sub(gw.mul(0.1))]], excludeRewrites: exclude }) };
    };
    const m1 = build([]), m2 = build(['gemmAccumulate']);
    const xv = st.randomNormal([8, 6], { seed: 5 }), yv = st.randomNormal([8, 2], { seed: 6 });
    for (let i = 0; i < 20; i++) {
      const l1 = Number((m1.f.sync(xv, yv) as st.Tensor).item()), l2 = Number((m2.f.sync(xv, yv) as st.Tensor).item());
      assert.ok(Math.abs(l1 - l2) <= 1e-5 * Math.abs(l2), `${l1} vs ${l2}`);
    }
    assert.ok(names(m1.f).includes('gemmAcc'));
    assert.equal(m1.f.program()!.copies.length, 0);
    const w1 = m1.w.get().dataSync(), w2 = m2.w.get().dataSync();
    for (let i = 0; i < w1.length; i++) assert.ok(Math.abs(w1[i] - w2[i]) < 1e-5);
  });

  it('does not fire when the product broadcasts into w or has other clients', () => {
    const w = T.tensor('float32', [4, 3], 'w'), a = T.tensor('float32', [1, 2]), b = T.tensor('float32', [2, 3]);
    const f = st.fn([w, a, b], w.sub(T.matmul(a, b).mul(2))); // [1,3] broadcasts into [4,3]
    assert.equal(fired(f), 0, names(f).join(','));
    const a2 = T.matrix('a2'), b2 = T.matrix('b2');
    const p = T.matmul(a2, b2);
    const g = st.fn([w, a2, b2], [w.sub(p.mul(2)), p]);
    assert.equal(fired(g), 0);
  });

  it('a product of unknown dims that turns out to broadcast into w still gives numpy semantics', () => {
    const w = T.tensor('float32', [4, 3], 'w'), a = T.matrix('a'), b = T.matrix('b');
    const f = st.fn([w, a, b], w.sub(T.matmul(a, b).mul(2)));
    assert.equal(fired(f), 1);
    const wv = st.randomNormal([4, 3], { seed: 7 }), av = st.randomNormal([1, 2], { seed: 8 }), bv = st.randomNormal([2, 3], { seed: 9 });
    const got = (f.sync(wv, av, bv) as st.Tensor).dataSync();
    const want = wv.sub(st.matmul(av, bv).mul(2)).dataSync();
    for (let i = 0; i < 12; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `${got[i]} vs ${want[i]}`);
    // and the plain case with the same function
    const av2 = st.randomNormal([4, 2], { seed: 10 });
    const got2 = (f.sync(wv, av2, bv) as st.Tensor).dataSync();
    const want2 = wv.sub(st.matmul(av2, bv).mul(2)).dataSync();
    for (let i = 0; i < 12; i++) assert.ok(Math.abs(got2[i] - want2[i]) < 1e-5);
  });
});
