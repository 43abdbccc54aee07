// planMemory: temporaries alive at the same time never share bytes, the others reuse them;
// and the plans lower() makes for real programs.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Interval, planMemory } from '../../lib/compile/memory-plan';
import { ProgramDesc, SLOT } from '../../lib/compile/lower';
import { T, assertClose, randomData, run } from './helpers';

const ALIGN = 64;
const aligned = (n: number) => Math.max(ALIGN, Math.ceil(n / ALIGN) * ALIGN);

/** Checks alignment, arena bounds and that time-overlapping intervals are byte-disjoint. */
function checkPlan(ivs: Interval[], plan: { offsets: Map<number, number>; arenaBytes: number }): void {
  for (const iv of ivs) {
    const off = plan.offsets.get(iv.id);
    assert.ok(off !== undefined, `interval ${iv.id} has an offset`);
    assert.equal(off % ALIGN, 0, `offset of ${iv.id} (${off}) is 64-aligned`);
    assert.ok(off + iv.bytes <= plan.arenaBytes, `interval ${iv.id} [${off}, ${off + iv.bytes}) fits the arena of ${plan.arenaBytes}`);
  }
  for (let i = 0; i < ivs.length; i++)
    for (let j = i + 1; j < ivs.length; j++) {
      const a = ivs[i], b = ivs[j];
      if (a.start > b.end || b.start > a.end) continue;
      const ao = plan.offsets.get(a.id)!, bo = plan.offsets.get(b.id)!;
      assert.ok(ao + a.bytes <= bo || bo + b.bytes <= ao, `intervals ${a.id} [t ${a.start}-${a.end}, bytes ${ao}+${a.bytes}] and ${b.id} [t ${b.start}-${b.end}, bytes ${bo}+${b.bytes}] overlap`);
    }
}

describe('compile: planMemory', () => {
  it('non-overlapping lifetimes share offset 0', () => {
    const ivs = [
      { id: 0, bytes: 4000, start: 0, end: 1 },
      { id: 1, bytes: 4000, start: 2, end: 3 },
      { id: 2, bytes: 1000, start: 4, end: 5 },
    ];
    const plan = planMemory(ivs);
    checkPlan(ivs, plan);
    for (const iv of ivs) assert.equal(plan.offsets.get(iv.id), 0);
    assert.equal(plan.arenaBytes, aligned(4000));
  });

  it('overlapping lifetimes get disjoint, 64-aligned byte ranges', () => {
    const ivs = [
      { id: 0, bytes: 100, start: 0, end: 5 },
      { id: 1, bytes: 1, start: 3, end: 3 },
      { id: 2, bytes: 130, start: 5, end: 9 },
    ];
    const plan = planMemory(ivs);
    checkPlan(ivs, plan);
    const offs = ivs.map((iv) => plan.offsets.get(iv.id)!);
    assert.notEqual(offs[0], offs[1]);
    assert.notEqual(offs[0], offs[2], 'sharing instruction 5 counts as overlapping (inclusive ends)');
    assert.equal(plan.arenaBytes, aligned(130) + aligned(100), 'the 1-byte interval reuses a gap or the slot of 2');
  });

  it('a chain (each temp read by the next instruction) needs two buffers', () => {
    const ivs = Array.from({ length: 20 }, (_, i) => ({ id: i, bytes: 4000, start: i, end: i + 1 }));
    const plan = planMemory(ivs);
    checkPlan(ivs, plan);
    assert.equal(plan.arenaBytes, 2 * aligned(4000));
  });

  it('fills a gap between live blocks when the new one fits', () => {
    // 0 and 2 are live together with 3; 1 dies before 3 starts, leaving a hole 3 fits into
    const ivs = [
      { id: 0, bytes: 640, start: 0, end: 10 },
      { id: 1, bytes: 640, start: 0, end: 2 },
      { id: 2, bytes: 640, start: 0, end: 10 },
      { id: 3, bytes: 300, start: 4, end: 8 },
    ];
    const plan = planMemory(ivs);
    checkPlan(ivs, plan);
    assert.equal(plan.arenaBytes, 3 * 640);
    assert.equal(plan.offsets.get(3), plan.offsets.get(1));
  });

  it('empty input and zero-byte intervals', () => {
    assert.deepEqual(planMemory([]), { offsets: new Map(), arenaBytes: 0 });
    const ivs = [
      { id: 5, bytes: 0, start: 0, end: 3 },
      { id: 6, bytes: 8, start: 1, end: 2 },
    ];
    const plan = planMemory(ivs);
    checkPlan(ivs, plan);
  });

  it('random interval sets: never overlapping, aligned, within the sum of sizes', () => {
    const rnd = randomData(4000, 7, 0, 1);
    let k = 0;
    const next = () => rnd[k++ % rnd.length];
    for (let trial = 0; trial < 30; trial++) {
      const n = 5 + Math.floor(next() * 40);
      const ivs: Interval[] = [];
      for (let i = 0; i < n; i++) {
        const start = Math.floor(next() * 50);
        ivs.push({ id: i * 3 + 1, bytes: Math.floor(next() * 5000), start, end: start + Math.floor(next() * 10) });
      }
      const plan = planMemory(ivs);
      checkPlan(ivs, plan);
      const sum = ivs.reduce((s, iv) => s + aligned(iv.bytes), 0);
      assert.ok(plan.arenaBytes <= sum, `arena ${plan.arenaBytes} <= sum of sizes ${sum}`);
      // at least as large as the peak of simultaneously live bytes
      let peak = 0;
      for (let t = 0; t < 60; t++) peak = Math.max(peak, ivs.filter((iv) => iv.start <= t && t <= iv.end).reduce((s, iv) => s + aligned(iv.bytes), 0));
      assert.ok(plan.arenaBytes >= peak, `arena ${plan.arenaBytes} >= peak live ${peak}`);
    }
  });
});

/** Checks a lowered program: temps that are live together occupy disjoint arena bytes. */
function checkProgram(d: ProgramDesc): void {
  const first = new Map<number, number>(), last = new Map<number, number>(), bytes = new Map<number, number>();
  const touch = (id: number, at: number) => {
    const s = d.slots[id];
    if (s.kind !== SLOT.temp) return;
    if (!first.has(s.group)) first.set(s.group, at);
    last.set(s.group, Math.max(last.get(s.group) ?? at, at));
    bytes.set(s.group, Math.max(bytes.get(s.group) ?? 0, s.bytes));
  };
  d.instrs.forEach((ins, i) => [...ins.outputs, ...ins.inputs].forEach((id) => touch(id, i)));
  const ivs: Interval[] = [...first.keys()].map((g) => ({ id: g, bytes: bytes.get(g)!, start: first.get(g)!, end: last.get(g)! }));
  checkPlan(ivs, { offsets: d.offsets, arenaBytes: d.arenaBytes });
}

describe('compile: memory plans of compiled programs', () => {
  const N = 1000;
  const chain = (v: st.Variable) => {
    let y = v;
    for (let i = 0; i < 20; i++) y = i % 4 === 0 ? T.tanh(y) : i % 4 === 1 ? y.mul(1.5) : i % 4 === 2 ? T.sin(y) : y.add(0.25);
    return y;
  };
  const eagerChain = (t: st.Tensor) => {
    let y = t;
    for (let i = 0; i < 20; i++) y = i % 4 === 0 ? st.tanh(y) : i % 4 === 1 ? st.mul(y, 1.5) : i % 4 === 2 ? st.sin(y) : st.add(y, 0.25);
    return y;
  };

  it('20 chained elementwise ops on [1000] (no fusion): arena far below 20 buffers, same values', () => {
    const v = T.vector('v');
    const f = st.fn([v], chain(v), { excludeRewrites: ['elementwiseFusion'] });
    const xv = st.tensor(Float32Array.from(randomData(N, 3)));
    const [r] = run(f, xv);
    const d = f.program()!;
    assert.equal(d.instrs.length, 20, 'one instruction per op');
    const separate = 19 * N * 4; // every intermediate but the output in its own buffer
    assert.ok(d.arenaBytes <= 2 * aligned(N * 4), `arena ${d.arenaBytes} bytes for 19 temporaries of ${N * 4} (separate buffers: ${separate})`);
    assert.ok(d.arenaBytes * 5 < separate);
    checkProgram(d);
    assertClose(r, eagerChain(xv), 'vs eager', 1e-6, 1e-6);
    const fused = st.fn([v], chain(v));
    assertClose(r, run(fused, xv)[0], 'vs fused', 1e-6, 1e-6);
    assert.equal(fused.program()!.instrs.length, 1);
    assert.equal(fused.program()!.arenaBytes, 0, 'a fused chain needs no temporaries');
  });

  it('diamonds and long-lived values: plans are valid and results correct', () => {
    const x = T.matrix('x'), w = T.matrix('w');
    const h = T.dot(x, w);
    const a = T.exp(h.mul(-1)), b = T.tanh(h);
    const c = T.softmax(a.add(b));
    const out = [c.sum(0), T.dot(c, T.transpose(w)).add(h.sum()), T.logSoftmax(h)];
    for (const exclude of [[], ['elementwiseFusion'], ['elementwiseFusion', 'merge']]) {
      const f = st.fn([x, w], out, { excludeRewrites: exclude });
      const xv = st.tensor(Float32Array.from(randomData(6 * 5, 4)), { shape: [6, 5] });
      const wv = st.tensor(Float32Array.from(randomData(5 * 7, 5)), { shape: [5, 7] });
      const r = run(f, xv, wv);
      checkProgram(f.program()!);
      const hv = st.matmul(xv, wv);
      const cv = st.softmax(st.add(st.exp(st.mul(hv, -1)), st.tanh(hv)));
      assertClose(r[0], st.sum(cv, 0), `[${exclude}] output 0`, 1e-5, 1e-6);
      assertClose(r[1], st.add(st.matmul(cv, st.transpose(wv)), st.sum(hv)), `[${exclude}] output 1`, 1e-5, 1e-5);
      assertClose(r[2], st.logSoftmax(hv), `[${exclude}] output 2`, 1e-5, 1e-6);
    }
  });
});
