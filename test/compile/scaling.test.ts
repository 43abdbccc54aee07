// Deep graphs compile and compute the right values (no pass recurses over graph depth), the
// graph bookkeeping does work proportional to what a rewrite changes, and a function built twice
// is lowered once.  Timings are the bench's business (lib/bench/workloads/compile-time.ts); these
// tests count work instead.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { FunctionGraph } from '../../lib/graph/fgraph';
import { Variable } from '../../lib/graph/variable';
import { GREEDY_MAX, Interval, planBySweep, planLargestFirst, planMemory } from '../../lib/compile/memory-plan';
import { programCacheStats } from '../../lib/compile/programs';
import { Op as NativeOp } from '../../lib/ops.generated';
import { T, fusedNodes, randomData, run } from './helpers';

const f32 = Math.fround;

/** x·1.0001 + 0.5 repeated: `ops` elementwise ops, evaluated in float32 one op at a time. */
function chain(x: st.Variable, ops: number): st.Variable {
  let y = x;
  for (let i = 0; i < ops; i++) y = i % 2 ? y.add(0.5) : y.mul(1.0001);
  return y;
}
function chainRef(x: number, ops: number): number {
  let y = f32(x);
  for (let i = 0; i < ops; i++) y = i % 2 ? f32(y + 0.5) : f32(y * f32(1.0001));
  return y;
}

function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= rtol * Math.max(1, Math.abs(want[i])), `${what}[${i}]: got ${got[i]}, expected ${want[i]}`);
}

describe('compile: deep graphs', () => {
  it('a 3,000-op elementwise chain fuses into one instruction and computes the float32 chain', () => {
    const x = T.vector('x');
    const f = st.fn([x], chain(x, 3000));
    const xs = [1, -2, 0.25, 100];
    const [r] = run(f, xs);
    assert.deepEqual(f.program()!.instrs.map((i) => i.opcode), [NativeOp.ELEMWISE]);
    assert.equal(fusedNodes(f).length, 1);
    assert.ok(fusedNodes(f)[0].op.prog.ops.length >= 3000, 'every op is in the program');
    assertNear(r.dataSync() as Float32Array, xs.map((v) => chainRef(v, 3000)), 1e-6, 'chain');
    assert.ok(fusedNodes(f)[0].op.label().length < 10000, 'the label stays short');
    assert.ok(st.debugprint(f, { print: false }).includes('fused'));
  });

  it('the same chain unfused: 3,000 instructions in two arena buffers', () => {
    const x = T.vector('x');
    const f = st.fn([x], chain(x, 3000), { excludeRewrites: ['elementwiseFusion'] });
    const xs = [3, -0.5];
    const [r] = run(f, xs);
    const d = f.program()!;
    assert.equal(d.instrs.length, 3000);
    assert.ok(d.arenaBytes <= 2 * 64, `arena ${d.arenaBytes} bytes`);
    assertNear(r.dataSync() as Float32Array, xs.map((v) => chainRef(v, 3000)), 1e-6, 'unfused chain');
  });

  it('1,000 nested ifelses lower without recursion and take the right branches', () => {
    const c = T.scalar('c'), v = T.vector('v');
    let y: st.Variable = v;
    // each ifelse sits in the then-branch of the next: branches nest 1,000 deep
    for (let k = 0; k < 1000; k++) y = T.ifelse(c, y.add(1), v.mul(-1));
    const f = st.fn([c, v], y);
    assert.deepEqual(Array.from((f.sync(1, [1, 2]) as st.Tensor).dataSync()), [1001, 1002]);
    assert.deepEqual(Array.from((f.sync(0, [1, 2]) as st.Tensor).dataSync()), [-1, -2]);
    const jumps = f.program()!.instrs.filter((i) => i.opcode === NativeOp.JUMP_IF_FALSE).length;
    assert.equal(jumps, 1000);
  });

  it('a 200-layer MLP SGD step matches a float64 reference (cost and updated weights)', () => {
    const L = 200, D = 8, N = 6, C = 3, lr = 0.05;
    const rnd = (n: number, seed: number, scale: number) => randomData(n, seed, -1, 1).map((v) => f32(v * scale));
    // 0.98·I plus noise in [-0.1, 0.1], positive inputs: activations stay of order 1 through
    // the depth, with a few percent of the relus off (so the masks matter)
    const Ws = Array.from({ length: L }, (_, l) => rnd(D * D, 100 + l, 0.1).map((v, i) => f32(v + (i % (D + 1) === 0 ? 0.98 : 0))));
    const bs = Array.from({ length: L }, (_, l) => rnd(D, 500 + l, 0.05));
    const Wo = rnd(D * C, 7, 1);
    const Xv = rnd(N * D, 8, 1).map((v) => f32(Math.abs(v) + 0.5));
    const yv = Array.from({ length: N }, (_, i) => i % C);

    const X = T.matrix('X'), y = T.ivector('y');
    const W = Ws.map((w, l) => st.shared(st.tensor(Float32Array.from(w), { shape: [D, D] }), `W${l}`));
    const b = bs.map((v, l) => st.shared(st.tensor(Float32Array.from(v)), `b${l}`));
    const wo = st.shared(st.tensor(Float32Array.from(Wo), { shape: [D, C] }), 'Wo');
    let h: st.Variable = X;
    for (let l = 0; l < L; l++) h = T.relu(T.dot(h, W[l]).add(b[l]));
    const cost = T.mean(T.sparseCategoricalCrossentropy(y, T.softmax(T.dot(h, wo))));
    const params = [...W, ...b, wo];
    const gs = st.grad(cost, params);
    const f = st.fn([X, y], cost, { updates: params.map((p, i) => [p, p.sub(gs[i].mul(lr))] as [st.SharedVariable, st.Variable]) });
    const got = (f.sync(st.tensor(Float32Array.from(Xv), { shape: [N, D] }), st.tensor(yv, { dtype: 'int32' })) as st.Tensor).dataSync()[0];

    const ref = mlpStepRef(Ws, bs, Wo, Xv, yv, { L, D, N, C, lr });
    assert.ok(Math.abs(got - ref.cost) <= 1e-3 * Math.abs(ref.cost), `cost ${got} vs ${ref.cost}`);
    assert.ok(ref.gradNorm0 > 1e-3, `the reference gradient reaches the first layer (norm ${ref.gradNorm0})`);
    // the steps themselves (new - old), each within 1% of its largest entry
    const step = (after: ArrayLike<number>, before: number[]) => before.map((v, i) => after[i] - v);
    const checkStep = (got: ArrayLike<number>, want: number[], before: number[], what: string) => {
      const g = step(got, before), w = step(want, before);
      const scale = Math.max(...w.map(Math.abs));
      assert.ok(scale > 1e-4, `${what}: the reference step is not negligible (${scale})`);
      g.forEach((v, i) => assert.ok(Math.abs(v - w[i]) <= 0.01 * scale, `${what}[${i}]: step ${v}, expected ${w[i]}`));
    };
    for (const l of [0, 1, L / 2, L - 1]) {
      checkStep(W[l].get().dataSync() as Float32Array, ref.W[l], Ws[l], `W${l}`);
      checkStep(b[l].get().dataSync() as Float32Array, ref.b[l], bs[l], `b${l}`);
    }
    checkStep(wo.get().dataSync() as Float32Array, ref.Wo, Wo, 'Wo');
  });
});

/** One SGD step of relu(h·W + b) layers, softmax cross-entropy (mean), in float64. */
function mlpStepRef(Ws: number[][], bs: number[][], Wo: number[], X: number[], y: number[], s: { L: number; D: number; N: number; C: number; lr: number }) {
  const { L, D, N, C, lr } = s;
  const matmul = (a: number[], b: number[], m: number, k: number, n: number, ta = false, tb = false) => {
    const out = new Array(m * n).fill(0);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let q = 0; q < k; q++) acc += (ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
      out[i * n + j] = acc;
    }
    return out;
  };
  const hs: number[][] = [X];
  const zs: number[][] = [];
  for (let l = 0; l < L; l++) {
    const z = matmul(hs[l], Ws[l], N, D, D).map((v, i) => v + bs[l][i % D]);
    zs.push(z);
    hs.push(z.map((v) => Math.max(v, 0)));
  }
  const logits = matmul(hs[L], Wo, N, D, C);
  let cost = 0;
  const dlogits = new Array(N * C).fill(0);
  for (let i = 0; i < N; i++) {
    const row = logits.slice(i * C, i * C + C);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, v) => a + v, 0);
    cost += -(row[y[i]] - m - Math.log(sum)) / N;
    for (let j = 0; j < C; j++) dlogits[i * C + j] = (e[j] / sum - (j === y[i] ? 1 : 0)) / N;
  }
  const dWo = matmul(hs[L], dlogits, D, N, C, true);
  let dh = matmul(dlogits, Wo, N, C, D, false, true);
  const newW: number[][] = new Array(L), newB: number[][] = new Array(L);
  let gradNorm0 = 0;
  for (let l = L - 1; l >= 0; l--) {
    const dz = dh.map((v, i) => (zs[l][i] > 0 ? v : 0));
    const dW = matmul(hs[l], dz, D, N, D, true);
    const db = new Array(D).fill(0);
    dz.forEach((v, i) => (db[i % D] += v));
    newW[l] = Ws[l].map((w, i) => w - lr * dW[i]);
    newB[l] = bs[l].map((w, i) => w - lr * db[i]);
    if (l === 0) gradNorm0 = Math.sqrt(dW.reduce((a, v) => a + v * v, 0));
    dh = matmul(dz, Ws[l], N, D, D, false, true);
  }
  return { cost, W: newW, b: newB, Wo: Wo.map((w, i) => w - lr * dWo[i]), gradNorm0 };
}

describe('compile: work stays local', () => {
  /** v -> exp -> exp -> ... (n nodes) as a FunctionGraph. */
  function expChain(n: number): { fg: FunctionGraph; vars: Variable[] } {
    const x = T.vector('x');
    const vars: Variable[] = [x];
    for (let i = 0; i < n; i++) vars.push(T.exp(vars[vars.length - 1]));
    const fg = new FunctionGraph([x], [vars[n]]);
    // the clone's variables, in chain order
    const cloned = [fg.inputs[0], ...fg.nodes().map((nd) => nd.outputs[0])];
    return { fg, vars: cloned };
  }

  it('replace() moves the readers of one variable, drops what nothing reads, and does not re-sort', () => {
    for (const n of [100, 3000]) {
      const { fg, vars } = expChain(n);
      const mid = n >> 1;
      const before = { ...fg.work };
      // skip one exp in the middle: its reader now reads its input
      fg.replace(vars[mid + 1], vars[mid], 'test');
      const w = fg.work;
      assert.equal(w.replacements - before.replacements, 1);
      assert.equal(w.clientsMoved - before.clientsMoved, 1, `n=${n}: one reader moved`);
      assert.equal(w.nodesPruned - before.nodesPruned, 1, `n=${n}: the skipped node is dropped`);
      assert.equal(w.nodesAdded - before.nodesAdded, 0);
      assert.equal(w.sorts - before.sorts, 0, 'no sort until the order is asked for');
      assert.equal(fg.nodes().length, n - 1);
      assert.equal(fg.work.sorts - before.sorts, 1);
      assert.equal(fg.clientsOf(vars[mid]).length, 1);
      assert.equal(fg.clientsOf(vars[mid + 1]).length, 0, 'the replaced variable has no readers left');
    }
  });

  it('replacing by a new expression adds only its nodes; one built on the old variable keeps reading it', () => {
    const { fg, vars } = expChain(50);
    const v = vars[20];
    const neu = T.tanh(T.sin(v)); // built on v itself
    fg.replace(v, neu, 'test');
    assert.equal(fg.work.nodesAdded, 2);
    assert.equal(fg.work.nodesPruned, 0);
    assert.deepEqual(fg.clientsOf(v).map((c) => (c.node === 'output' ? 'output' : c.node.op.name)), ['sin']);
    assert.equal(fg.nodes().length, 52);
    assert.equal(fg.nodes()[20].op.name, 'sin', 'the new nodes sit right after v');
  });

  it('optimizing a chain sorts the graph a bounded number of times, whatever its length', () => {
    const sorts = [200, 2000].map((n) => {
      const x = T.vector('x');
      const f = st.fn([x], chain(x, n));
      return f.graph.work.sorts;
    });
    assert.equal(sorts[0], sorts[1], `sorts for 200 and 2,000 ops: ${sorts}`);
    assert.ok(sorts[0] <= 20, `${sorts[0]} sorts`);
  });

  it('planMemory of a 20,000-step chain: two buffers', () => {
    const ivs = Array.from({ length: 20000 }, (_, i) => ({ id: i, bytes: 1000, start: i, end: i + 1 }));
    assert.equal(planMemory(ivs).arenaBytes, 2 * 1024);
  });

  it('both memory planners give valid plans; planMemory keeps the smaller, and only the sweep past GREEDY_MAX', () => {
    const valid = (ivs: Interval[], plan: { offsets: Map<number, number>; arenaBytes: number }) => {
      const byStart = ivs.slice().sort((a, b) => a.start - b.start);
      for (let i = 0; i < byStart.length; i++)
        for (let j = i + 1; j < byStart.length && byStart[j].start <= byStart[i].end; j++) {
          const a = byStart[i], b = byStart[j];
          const ao = plan.offsets.get(a.id)!, bo = plan.offsets.get(b.id)!;
          assert.ok(ao + a.bytes <= bo || bo + b.bytes <= ao, `intervals ${a.id} and ${b.id} share bytes`);
        }
      for (const iv of ivs) assert.ok(plan.offsets.get(iv.id)! % 64 === 0 && plan.offsets.get(iv.id)! + iv.bytes <= plan.arenaBytes);
    };
    const rnd = randomData(30000, 11, 0, 1);
    let k = 0;
    const next = () => rnd[k++];
    for (const n of [40, 300, GREEDY_MAX + 1]) {
      const ivs: Interval[] = Array.from({ length: n }, (_, i) => {
        const start = Math.floor(next() * n);
        return { id: i, bytes: 1 + Math.floor(next() * 9000), start, end: start + Math.floor(next() * 20) };
      });
      const sweep = planBySweep(ivs), greedy = planLargestFirst(ivs), plan = planMemory(ivs);
      valid(ivs, sweep);
      valid(ivs, greedy);
      assert.equal(plan.arenaBytes, n > GREEDY_MAX ? sweep.arenaBytes : Math.min(sweep.arenaBytes, greedy.arenaBytes), `n=${n}`);
    }
  });
});

describe('compile: programs are cached by structure', () => {
  const LR = 0.0137; // an unusual constant: no other test builds this structure
  /** A small SGD model; `vars` reuses another model's shared variables. */
  function model(vars?: { w: st.SharedVariable; b: st.SharedVariable }) {
    const X = T.matrix('X'), y = T.vector('y');
    const w = vars?.w ?? st.shared(st.tensor([[0.5], [-0.25], [1]]), 'w');
    const b = vars?.b ?? st.shared(st.tensor([0.1]), 'b');
    const p = T.dot(X, w).add(b).reshape([-1]);
    const cost = T.mean(T.square(p.sub(y)));
    const [gw, gb] = st.grad(cost, [w, b]);
    const f = st.fn([X, y], cost, { updates: [[w, w.sub(gw.mul(LR))], [b, b.sub(gb.mul(LR))]] });
    return { f, w, b };
  }
  const Xv = () => st.tensor([[1, 2, 3], [0, -1, 2]]);
  const yv = () => st.tensor([1, -1]);
  /** The cost and new values of one step, in float64. */
  function stepRef(w: number[], b: number): { cost: number; w: number[]; b: number } {
    const X = [[1, 2, 3], [0, -1, 2]], y = [1, -1];
    const r = X.map((row, i) => row.reduce((a, v, k) => a + v * w[k], b) - y[i]);
    const cost = r.reduce((a, v) => a + v * v, 0) / 2;
    const gw = w.map((_, k) => X.reduce((a, row, i) => a + row[k] * r[i], 0));
    const gb = r.reduce((a, v) => a + v, 0);
    return { cost, w: w.map((v, k) => v - LR * gw[k]), b: b - LR * gb };
  }

  it('the same model built twice is lowered once and shares the native program', () => {
    const a = model();
    const s0 = { ...programCacheStats };
    run(a.f, Xv(), yv());
    assert.equal(programCacheStats.lowered - s0.lowered, 1);
    const b = model({ w: a.w, b: a.b });
    const s1 = { ...programCacheStats };
    const [cost] = run(b.f, Xv(), yv());
    assert.equal(programCacheStats.lowered - s1.lowered, 0, 'not lowered again');
    assert.equal(programCacheStats.reused - s1.reused, 1);
    assert.equal(programCacheStats.nativeShared - s1.nativeShared, 1, 'same buffers: one native program');
    // two steps on the same variables, the second from the first's result
    const r1 = stepRef([0.5, -0.25, 1], 0.1);
    const r2 = stepRef(r1.w, r1.b);
    assert.ok(Math.abs(cost.dataSync()[0] - r2.cost) < 1e-5, `${cost.dataSync()[0]} vs ${r2.cost}`);
    assertNear(a.w.get().dataSync() as Float32Array, r2.w, 1e-5, 'w after two steps');
    // disposing one leaves the other working
    a.f.dispose();
    run(b.f, Xv(), yv());
    const r3 = stepRef(r2.w, r2.b);
    assertNear(b.w.get().dataSync() as Float32Array, r3.w, 1e-5, 'w after three steps');
    b.f.dispose();
  });

  it('a model of the same structure over other variables reuses the lowering, not the buffers', () => {
    const a = model();
    run(a.f, Xv(), yv());
    const b = model(); // fresh variables with the same initial values
    b.w.set([[1], [1], [1]]);
    const s = { ...programCacheStats };
    const [cost] = run(b.f, Xv(), yv());
    assert.equal(programCacheStats.reused - s.reused, 1, 'lowering reused');
    assert.equal(programCacheStats.nativeShared - s.nativeShared, 0, 'its own native program');
    const ref = stepRef([1, 1, 1], 0.1);
    assert.ok(Math.abs(cost.dataSync()[0] - ref.cost) < 1e-5, `${cost.dataSync()[0]} vs ${ref.cost}`);
    assertNear(b.w.get().dataSync() as Float32Array, ref.w, 1e-5, "b's own w updated");
    assertNear(a.w.get().dataSync() as Float32Array, stepRef([0.5, -0.25, 1], 0.1).w, 1e-5, "a's w untouched by b");
    a.f.dispose();
    b.f.dispose();
  });

  it('different input shapes or a different structure are lowered separately', () => {
    const x = T.vector('x');
    const f = st.fn([x], x.mul(3.0625).add(1.125));
    const s = { ...programCacheStats };
    run(f, [1, 2]);
    run(f, [1, 2, 3]);
    assert.equal(programCacheStats.lowered - s.lowered, 2);
    const g = st.fn([x], x.mul(3.0625).add(2));
    assert.deepEqual(Array.from(run(g, [1, 2])[0].dataSync()), [5.0625, 8.125]);
    assert.equal(programCacheStats.lowered - s.lowered, 3, 'another constant is another structure');
  });
});
