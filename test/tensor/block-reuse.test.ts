// A large elementwise op writes over the block of its input when that input is the latest large
// elementwise result and nothing else can see the block; the input is then computed again from
// its recipe when read.  What could go wrong is silent: a value read after its block was reused,
// a recipe reading memory that was freed or changed since.  So every result of random chains is
// read back, in random orders, after random disposals, against float64 loops; the cases that must
// not reuse (views, programs, queued calls, shared variables, other dtypes or shapes) check the
// values they keep; memory() shows how many blocks a chain takes; and the addon's `into` argument
// refuses what would be unsafe.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { NativeBuffer, native } from '../../lib/native';
import { EW, Op } from '../../lib/ops.generated';
import { EwBuilder } from '../../lib/tensor/ew-builder';
import { REUSE_MIN_ELEMENTS } from '../../lib/tensor/tensor';
import { lastJson, runChild } from '../support/child';
import { rng } from '../support/rng';

const N = REUSE_MIN_ELEMENTS + 3; // large enough to take part, and not a multiple of a block
const f32 = Math.fround;

/** A tensor of n float32 values from a formula, and its values as float64. */
function input(n: number, f: (i: number) => number): { t: st.Tensor; v: Float64Array } {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = f32(f(i));
  return { t: st.tensor(Float32Array.from(v)), v };
}

/** Max |a - e| / (1 + |e|) over all elements (equal infinities agree; the lengths must too). */
function relErr(a: ArrayLike<number>, e: ArrayLike<number>): number {
  assert.equal(a.length, e.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], e[i])) continue;
    const d = Math.abs(a[i] - e[i]) / (1 + Math.abs(e[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function expectValues(t: st.Tensor, e: ArrayLike<number>, what: string, tol = 2e-6): void {
  const err = relErr(t.dataSync(), e);
  assert.ok(err <= tol, `${what}: relative error ${err} (tolerance ${tol})`);
}

/** Unary ops and their float64 references (float32-rounded like the kernels). */
const UNARY: [string, (t: st.Tensor) => st.Tensor, (x: number) => number][] = [
  ['neg', (t) => st.neg(t), (x) => -x],
  ['abs', (t) => st.abs(t), (x) => Math.abs(x)],
  ['relu', (t) => st.relu(t), (x) => Math.max(x, 0)],
  ['tanh', (t) => st.tanh(t), (x) => f32(Math.tanh(x))],
  ['sigmoid', (t) => st.sigmoid(t), (x) => f32(1 / (1 + Math.exp(-x)))],
];

type BinOp = (a: st.Tensor | number, b: st.Tensor | number) => st.Tensor;
/** Binary ops with a number on either side (mul only by numbers in [-1, 1], so values stay finite). */
const WITH_NUMBER: [string, BinOp, (a: number, b: number) => number][] = [
  ['add', (a, b) => st.add(a, b), (a, b) => f32(a + b)],
  ['sub', (a, b) => st.sub(a, b), (a, b) => f32(a - b)],
  ['mul', (a, b) => st.mul(a, b), (a, b) => f32(a * b)],
  ['maximum', (a, b) => st.maximum(a, b), (a, b) => Math.max(a, b)],
];
/** Binary ops with a tensor on either side. */
const WITH_TENSOR = WITH_NUMBER.filter(([name]) => name !== 'mul');

describe('elementwise results reuse the block of the latest one', () => {
  it('a chain holds one block; every intermediate reads back right, in any order (fresh process)', () => {
    const r = runChild(`
      const m = () => st.memory().numTensors;
      const n = ${N};
      const x = st.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3));
      const log = { start: m() };
      const t1 = st.mul(x, 1.5);
      const t2 = st.add(t1, 0.25);
      const y = st.tanh(t2);
      log.chain = m();
      const read = (t) => Array.from(t.dataSync().subarray(0, 64)).concat(Array.from(t.dataSync().subarray(n - 64)));
      log.y = read(y);
      log.afterY = m();
      log.t1 = read(t1);
      log.afterT1 = m();
      log.t2 = read(t2);
      log.afterT2 = m();
      t1.dispose(); t2.dispose(); y.dispose();
      log.disposed = m();
      // a result that has a view keeps its block: the next op takes a new one
      const w1 = st.mul(x, 2);
      const w1v = w1.reshape([1, n]);
      const w2 = st.add(w1, 1);
      log.viewed = m();
      w1.dispose(); w1v.dispose(); w2.dispose();
      // disposing the input while results that reuse its block's recipe still read it: its
      // memory goes with the last of them
      const u1 = st.mul(x, 2);
      const u2 = st.add(u1, 1);
      x.dispose();
      log.xDisposed = m();
      log.u1 = read(u1);
      u1.dispose(); u2.dispose();
      log.end = m();
      console.log(JSON.stringify(log));
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const log = lastJson<Record<string, number & number[]>>(r);
    assert.equal(log.chain - log.start, 1, 'one block for the three results');
    assert.equal(log.afterY, log.chain, 'reading the last result computes nothing');
    assert.equal(log.afterT1, log.chain + 1, 't1 is computed again into a block of its own');
    assert.equal(log.afterT2, log.chain + 2);
    assert.equal(log.disposed, log.start, 'only x is left');
    assert.equal(log.viewed, log.start + 2, 'a result with a view is not written over');
    assert.equal(log.xDisposed, log.start + 1, "x's memory stays while u1's recipe reads it");
    assert.equal(log.end, log.start - 1, 'everything went back');
    const idx = [...Array(64).keys(), ...Array.from({ length: 64 }, (_, k) => N - 64 + k)];
    const xs = idx.map((i) => f32(Math.sin(i) * 3));
    const e1 = xs.map((v) => f32(v * 1.5));
    const e2 = e1.map((v) => f32(v + 0.25));
    assert.ok(relErr(log.t1, e1) === 0, 't1');
    assert.ok(relErr(log.t2, e2) === 0, 't2');
    assert.ok(relErr(log.y, e2.map(Math.tanh)) < 2e-6, 'y');
    assert.ok(relErr(log.u1, xs.map((v) => f32(v * 2))) === 0, 'u1 read after x was disposed');
  });

  it('random chains with tensors and numbers, views, reads, reductions and disposals match float64 loops', () => {
    const seeds = Number(process.env.SYMTENSOR_REUSE_SEEDS ?? 6);
    for (let seed = 1; seed <= seeds; seed++) {
      const rand = rng(seed);
      const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
      const base = input(N, (i) => Math.cos(i * 0.37 + seed) * 2);
      const other = input(N, (i) => Math.sin(i * 0.11 - seed));
      const row = input(1, () => 0.75);
      // every live value: its tensor and expected values
      const live: { t: st.Tensor; v: Float64Array; name: string }[] = [
        { t: base.t, v: base.v, name: 'base' },
        { t: other.t, v: other.v, name: 'other' },
      ];
      for (let step = 0; step < 40; step++) {
        // mostly continue from the latest result (the case that reuses)
        const src = rand() < 0.7 ? live[live.length - 1] : pick(live);
        const k = rand();
        let t: st.Tensor, v: Float64Array, name: string;
        if (k < 0.35) {
          const [opName, op, ref] = pick(UNARY);
          t = op(src.t);
          v = src.v.map(ref);
          name = `${opName}(${src.name})`;
        } else {
          const kind = rand();
          const [opName, op, ref] = pick(kind < 0.4 ? WITH_NUMBER : WITH_TENSOR);
          if (kind < 0.4) {
            const c = f32(rand() * 2 - 1);
            const left = rand() < 0.5;
            t = left ? op(c, src.t) : op(src.t, c);
            v = src.v.map((a) => (left ? ref(c, a) : ref(a, c)));
            name = `${opName}(${src.name}, ${c})`;
          } else if (kind < 0.6) {
            t = op(src.t, row.t); // a broadcast [1] operand
            v = src.v.map((a) => ref(a, row.v[0]));
            name = `${opName}(${src.name}, row)`;
          } else {
            const b = pick(live);
            const left = rand() < 0.5;
            t = left ? op(b.t, src.t) : op(src.t, b.t);
            v = src.v.map((a, i) => (left ? ref(b.v[i], a) : ref(a, b.v[i])));
            name = `${opName}(${src.name}, ${b.name})`;
          }
        }
        live.push({ t, v, name });
        const act = rand();
        if (act < 0.1) {
          // a view ([1, N]: later ops broadcast it to [1, N] too) shares the block
          live.push({ t: t.reshape([1, N]), v, name: `view(${name})` });
        } else if (act < 0.2) {
          const l = pick(live); // reading computes a reused value again, mid-chain
          expectValues(l.t, l.v, `seed ${seed} step ${step}: ${l.name}`, 4e-6);
        } else if (act < 0.25) {
          const l = pick(live); // a reduction reads it natively
          let sum = 0, mag = 0;
          for (const q of l.v) (sum += q), (mag += Math.abs(q));
          const got = st.sum(l.t).item();
          assert.ok(Math.abs(got - sum) <= 1e-5 * (1 + mag), `seed ${seed} step ${step}: sum(${l.name}) ${got}, expected ${sum}`);
        } else if (act < 0.35 && live.length > 4) {
          const i = 2 + Math.floor(rand() * (live.length - 2)); // never base or other
          live[i].t.dispose();
          live.splice(i, 1);
        }
      }
      // read back in a random order
      const order = live.map((_, i) => i).sort(() => rand() - 0.5);
      for (const i of order) expectValues(live[i].t, live[i].v, `seed ${seed}: ${live[i].name}`, 4e-6);
      for (const l of live) l.t.dispose();
      row.t.dispose();
    }
  });

  it('float64 and int32 chains reuse blocks too, and read back exactly', () => {
    const r = runChild(`
      const n = ${N};
      const m = () => st.memory().numTensors;
      const out = {};
      for (const dtype of ['float64', 'int32']) {
        const x = st.tensor(Int32Array.from({ length: n }, (_, i) => (i % 13) - 6), { dtype });
        const before = m();
        const a = st.mul(x, 3);
        const b = st.add(a, 7);
        const c = st.maximum(b, 0);
        out[dtype] = { blocks: m() - before, a: Array.from(a.dataSync().subarray(0, 26)), c: Array.from(c.dataSync().subarray(0, 26)), dtypes: [a.dtype, c.dtype] };
      }
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const out = lastJson<Record<string, { blocks: number; a: number[]; c: number[]; dtypes: string[] }>>(r);
    for (const dtype of ['float64', 'int32']) {
      const o = out[dtype];
      assert.deepEqual(o.dtypes, [dtype, dtype]);
      assert.equal(o.blocks, 1, `${dtype}: one block for the chain`);
      const xs = Array.from({ length: 26 }, (_, i) => (i % 13) - 6);
      assert.deepEqual(o.a, xs.map((v) => v * 3), `${dtype}: a, computed again`);
      assert.deepEqual(o.c, xs.map((v) => Math.max(v * 3 + 7, 0)), `${dtype}: c`);
    }
  });

  it('an op reading an input whose block was taken computes that input inside its own instruction (fresh process)', () => {
    const r = runChild(`
      const n = ${N};
      const m = () => st.memory().numTensors;
      const x = st.tensor(Float32Array.from({ length: n }, (_, i) => Math.cos(i)));
      const read = (t) => Array.from(t.dataSync().subarray(0, 32));
      const log = {};
      // a = f(x); b = g(a) takes a's block; c = a + b computes a inside its own instruction, over b's block
      let before = m();
      const a = st.mul(x, 1.5), b = st.tanh(a), c = st.add(a, b);
      log.blocks = m() - before;
      // s gave its block to q, q to w; v reads s (inlined) and q (computed again, computing s too)
      const x2 = st.tensor(Float32Array.from({ length: n }, (_, i) => Math.cos(i)));
      before = m();
      const s = st.add(x2, 2), q = st.mul(s, s), w = st.neg(q);
      x2.dispose(); // its memory stays while s's recipe reads it, and through v's instruction
      const v = st.sub(s, q);
      log.blocks2 = m() - before;
      log.c = read(c); log.a = read(a); log.v = read(v); log.w = read(w);
      console.log(JSON.stringify(log));
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const log = lastJson<Record<string, number & number[]>>(r);
    assert.equal(log.blocks, 1, "a is computed inside c's instruction, which writes over b's block: one block for all three");
    // s's block went to q, then w; v reads q, computed again into a block of its own (and s with it,
    // which q's recipe reads), and v takes a new one (w, the latest, is not an input); x2 went back
    // once nothing read it any more
    assert.equal(log.blocks2, 4 - 1, 'the chain, q and s computed again, and v, less x2');
    const xs = Array.from({ length: 32 }, (_, i) => f32(Math.cos(i)));
    const a = xs.map((v) => f32(v * 1.5));
    assert.ok(relErr(log.a, a) === 0, 'a');
    assert.ok(relErr(log.c, a.map((v) => f32(v + f32(Math.tanh(v))))) < 2e-6, 'c');
    const s = xs.map((v) => f32(v + 2)), q = s.map((v) => f32(v * v));
    assert.ok(relErr(log.v, s.map((v, i) => f32(v - q[i]))) === 0, 'v');
    assert.ok(relErr(log.w, q.map((v) => -v)) === 0, 'w');
  });

  it('a chain longer than the recipe depth reads back at every step', () => {
    const x = input(N, (i) => (i % 17) / 17);
    const ts: st.Tensor[] = [];
    let v = x.v;
    const vs: Float64Array[] = [];
    let t = x.t;
    for (let i = 0; i < 25; i++) {
      t = i % 2 ? st.mul(t, 1.0625) : st.add(t, 0.125);
      const k = i % 2 ? 1.0625 : 0.125;
      v = v.map((a) => (i % 2 ? f32(a * k) : f32(a + k)));
      ts.push(t);
      vs.push(v);
    }
    // the earliest first: each read computes its recipe chain again
    for (let i = 0; i < ts.length; i++) expectValues(ts[i], vs[i], `step ${i}`, 0);
    for (const q of ts) q.dispose();
    x.t.dispose();
  });

  it('blocks that others can see are never overwritten', async () => {
    const x = input(N, (i) => i / N);
    const two = x.v.map((a) => f32(a * 2));
    // a view
    const a = st.mul(x.t, 2);
    const av = a.reshape([N, 1]);
    const a2 = st.add(a, 1);
    expectValues(av, two, 'a view of the input');
    expectValues(a2, two.map((q) => f32(q + 1)), 'the result');
    // a program that was given the block (its buffer went to a compiled function)
    const xs = st.T.vector('xs');
    const f = st.fn([xs], xs.mul(3));
    const b = st.mul(x.t, 2);
    const fb = f.sync(b);
    const b2 = st.add(b, 1);
    expectValues(fb, two.map((q) => f32(q * 3)), 'the program result');
    expectValues(b, two, 'the input the program read');
    expectValues(b2, two.map((q) => f32(q + 1)), 'the next result');
    // a queued call that reads the block while eager ops go on
    const c = st.mul(x.t, 2);
    const pending = f(c);
    const c2 = st.add(c, 1);
    const c3 = st.tanh(c2);
    const fc = await pending;
    expectValues(fc, two.map((q) => f32(q * 3)), 'the async result');
    expectValues(c, two, 'the input of the async call');
    expectValues(c3, two.map((q) => f32(Math.tanh(f32(q + 1)))), 'the chain beside it');
    // another dtype or a larger (broadcast) shape cannot take the block
    const d = st.mul(x.t, 2);
    const d64 = st.cast(d, 'float64');
    const dWide = st.add(d.reshape([1, N]), st.zeros([2, 1]));
    expectValues(d, two, 'the input of a cast and a broadcast');
    expectValues(d64, two, 'the cast');
    expectValues(dWide, [...two, ...two], 'the broadcast');
    for (const t of [a, av, a2, b, fb, b2, c, c2, c3, fc, d, d64, dWide, x.t]) t.dispose();
    f.dispose();
  });

  it('computing an input again while another input gives its block away keeps what both recipes read', () => {
    const x = input(N, (i) => (i % 11) - 5);
    const z = st.mul(x.t, 2); // the latest
    const p = st.add(z, 1); // takes z's block: z is computed from x when read
    const q = st.tanh(p); // takes it again: p's recipe reads z
    const r = st.sub(z, 3); // z computed again; r is the latest, its recipe reads z
    z.dispose(); // z's memory stays: p's recipe reads it
    // r gives its block to s, while p (an input too) is computed again, which ends p's reading of z:
    // r's recipe still reads z, so z must stay
    const s = st.add(r, p);
    const zv = x.v.map((a) => a * 2);
    expectValues(r, zv.map((a) => a - 3), 'r, computed again from z');
    expectValues(s, zv.map((a) => a - 3 + (a + 1)), 's');
    expectValues(q, zv.map((a) => f32(Math.tanh(a + 1))), 'q');
    for (const t of [p, q, r, s, x.t]) t.dispose();
  });

  it("a shared variable's value is never read by a recipe, so later updates do not leak in", () => {
    const x = input(N, (i) => (i % 5) - 2);
    const sv = st.shared(x.t, 'w');
    const g = sv.get(); // a copy: the latest result, made from the variable
    const h = st.mul(g, 2);
    const k = st.add(h, 1);
    // update the variable in place, both by set() and by a compiled update
    sv.set(st.zeros([N]));
    const step = st.fn([], [], { updates: [[sv, sv.add(5)]] });
    step.sync();
    expectValues(g, x.v, 'the copy');
    expectValues(h, x.v.map((a) => a * 2), 'its double');
    expectValues(k, x.v.map((a) => a * 2 + 1), 'and the next');
    expectValues(sv.get(), new Float64Array(N).fill(5), 'the variable');
    for (const t of [g, h, k, x.t]) t.dispose();
    step.dispose();
    sv.dispose();
  });

  it('dropped chains in a loop that never yields hold a bounded number of blocks (fresh process)', () => {
    const r = runChild(`
      const x = st.randomNormal([1 << 20], { seed: 1 });
      let peak = 0;
      for (let i = 0; i < 300; i++) {
        st.tanh(st.add(st.mul(x, 1.5), 0.25));
        peak = Math.max(peak, st.memory().numBytes);
      }
      console.log(JSON.stringify({ peak }));
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const { peak } = lastJson<{ peak: number }>(r);
    // x (4 MB) and the dropped results that the next scavenge frees (it waits for 16 MB of growth,
    // and frees what the one before found): 300 chains would otherwise hold 1.2 GB
    assert.ok(peak <= 4 * 2 ** 20 * 12, `peak ${peak / 2 ** 20} MB`);
  });

  it("the addon's `into` argument refuses what would be unsafe", () => {
    const F32 = 0;
    const fill = (shape: number[], dtype = F32, v = 1) => native.exec(Op.FILL, [], [], [dtype], [shape], [], [v])[0];
    const x = fill([8, 4], F32, 3);
    const own = fill([8, 4]);
    // out = in * 2
    const b = new EwBuilder('float32');
    b.output(b.op(EW.MUL, [b.input(), b.constant(2)]));
    const { iattr, fattr } = b.build();
    const call = (into: unknown[], input = x, inShape = [8, 4], opcode: number = Op.ELEMWISE) =>
      (native.exec as (...a: unknown[]) => NativeBuffer[])(opcode, [input], [inShape], [F32], [[8, 4]], iattr, fattr, into);
    // in place over its own input, and into another buffer
    const same = call([own], own);
    assert.equal(same[0], own, 'the given buffer is the result');
    assert.deepEqual(Array.from(native.read(own) as Float32Array), new Array(32).fill(2));
    call([own]);
    assert.deepEqual(Array.from(native.read(own) as Float32Array), new Array(32).fill(6));
    assert.deepEqual(Array.from(native.read(x) as Float32Array), new Array(32).fill(3), 'the input is untouched');
    const expectNative = (f: () => unknown, code: string, text: string) =>
      assert.throws(f, (e: Error & { code?: string }) => e.code === code && e.message.includes(text), `${code}: ${text}`);
    expectNative(() => call([own], own, [32]), 'ERR_ST_ARG', "input 0 is output 0's buffer but has another shape");
    expectNative(() => call([own, own]), 'ERR_ST_ARG', '2 output buffers given for 1 outputs');
    expectNative(() => call([{}]), 'ERR_ST_ARG', 'expected a tensor buffer');
    expectNative(() => call([new Float32Array(32)]), 'ERR_ST_ARG', 'live native buffer');
    expectNative(() => call([fill([16, 4])]), 'ERR_ST_ARG', '32 elements of float32, the given buffer 64');
    expectNative(() => call([fill([8, 4], 1)]), 'ERR_ST_ARG', 'the given buffer 32 of float64');
    expectNative(() => call([own], x, [8, 4], Op.COPY), 'ERR_ST_ARG', 'only ELEMWISE writes into given buffers');
    expectNative(() => call({} as unknown[]), 'ERR_ST_ARG', 'argument 7 must be an array');
    native.pin(own);
    expectNative(() => call([own]), 'ERR_ST_ARG', 'in use by a program');
    native.unpin(own);
    const gone = fill([8, 4]);
    native.dispose(gone);
    expectNative(() => call([gone]), 'ERR_ST_DISPOSED', 'disposed');
    native.dispose(x);
    native.dispose(own);
  });
});
