// Keras masks carried from layer to layer: embedding({ maskZero }) and masking() make them, recurrent,
// pooling and attention layers consume them, dense/dropout/timeDistributed pass them on, and layers
// that cannot honour one refuse it.  Values against plain float64 loops written from the equations.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Attention, MultiHeadAttention } from '../../lib/models/layers/attention';
import { Layer } from '../../lib/models/layer';
import { catchError } from '../support/check';
import { assertClose, f64, makeTensor, uniform } from '../support/fd';
import { collectingContext } from '../support/models';
import { Rng } from '../support/reference';

const { T } = st;
type V = st.Variable;
type Mat = number[][];

// ---- plain float64 references ----
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const vm = (v: number[], m: Mat) => m[0].map((_, j) => v.reduce((s, vi, i) => s + vi * m[i][j], 0));
const rows = (flat: number[], r: number, c: number): Mat => Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c));
const flat = (a: unknown): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a as number]);

/** Keras's LSTM step (gates i, f, c, o). */
function lstmStep(k: Mat, r: Mat, b: number[], u: number) {
  return (x: number[], [h, c]: number[][]): number[][] => {
    const hr = vm(h, r);
    const g = vm(x, k).map((v, j) => v + hr[j] + b[j]);
    const gate = (q: number) => g.slice(q * u, (q + 1) * u);
    const i = gate(0).map(sig), f = gate(1).map(sig), cc = gate(2).map(Math.tanh), o = gate(3).map(sig);
    const c2 = c.map((cv, j) => f[j] * cv + i[j] * cc[j]);
    return [c2.map((cv, j) => o[j] * Math.tanh(cv)), c2];
  };
}

/** Keras's SimpleRNN step. */
const simpleStep = (k: Mat, r: Mat, b: number[]) => (x: number[], [h]: number[][]) => {
  const hr = vm(h, r);
  return [vm(x, k).map((v, j) => Math.tanh(v + hr[j] + b[j]))];
};

/** Runs a step over a sequence from zero states; the output after each step (previous one where `keep[t]` is false). */
function scanRef(xs: number[][], step: (x: number[], s: number[][]) => number[][], nStates: number, u: number, keep?: boolean[], back = false) {
  let states = Array.from({ length: nStates }, () => new Array(u).fill(0));
  const outs: number[][] = [];
  for (let i = 0; i < xs.length; i++) {
    const t = back ? xs.length - 1 - i : i;
    if (!keep || keep[t]) states = step(xs[t], states);
    outs.push(states[0].slice());
  }
  return { outs, states };
}

/** Sets every weight of a layer to seeded values in [-scale, scale) and returns them flat. */
function setWeights(layer: Layer, rng: Rng, scale = 0.6): { shape: number[]; v: number[] }[] {
  const vals = layer.weights.map((w) => {
    const shape = w.type.shape as number[];
    return { shape, v: uniform(rng, shape.reduce((a, b) => a * b, 1), -scale, scale) };
  });
  layer.setWeights(vals.map(({ shape, v }) => makeTensor(v, shape)));
  return vals;
}

/** Runs a model's graph (inference) on values through one compiled function. */
function runModel(model: st.Model, inputs: { value: number[]; shape: number[]; dtype: 'int32' | 'float64' }[]): Float64Array[] {
  const xs = model.inputs.map((t, i) => T.tensor(t.dtype, t.shape.slice(), `in${i}`));
  const out = model.call(xs.length === 1 ? xs[0] : xs, collectingContext(false).ctx);
  const f = st.fn(xs, Array.isArray(out) ? out : [out]);
  const res = (f.sync(...inputs.map((x) => makeTensor(x.value, x.shape, x.dtype))) as st.Tensor[]).map(f64);
  f.dispose();
  return res;
}

describe('Keras masks between layers', () => {
  const rng = new Rng(31);
  const VOCAB = 5, F = 3, U = 3, S = 5;
  // zero is padding: after, before, in between, and a sample with nothing but padding
  const ids = [[3, 1, 4, 0, 0], [0, 0, 2, 2, 1], [1, 0, 3, 0, 2], [0, 0, 0, 0, 0]];
  const B = ids.length;

  it('embedding(maskZero) → lstm: the padded batch equals the LSTM over each unpadded sequence', () => {
    const inp = st.input({ shape: [null], dtype: 'int32' });
    const emb = st.layers.embedding({ inputDim: VOCAB, outputDim: F, maskZero: true, dtype: 'float64' });
    const rec = st.layers.lstm({ units: U, returnSequences: true, returnState: true, dtype: 'float64' });
    const e = emb.apply(inp);
    assert.deepEqual(e.maskShape, [null, null]);
    const outs = rec.apply(e) as st.KerasTensor[];
    // the sequence output carries the mask on; the states carry none
    assert.deepEqual(outs.map((o) => o.maskShape), [[null, null], null, null]);
    const model = st.model({ inputs: inp, outputs: outs });
    const table = rows(setWeights(emb, rng)[0].v, VOCAB, F);
    const [k, r, b] = setWeights(rec, rng);
    const step = lstmStep(rows(k.v, F, 4 * U), rows(r.v, U, 4 * U), b.v, U);
    const [y, h, c] = runModel(model, [{ value: flat(ids), shape: [B, S], dtype: 'int32' }]);
    const wantY: number[] = [], wantH: number[] = [], wantC: number[] = [];
    ids.forEach((row) => {
      const ref = scanRef(row.map((i) => table[i]), step, 2, U, row.map((i) => i !== 0));
      wantY.push(...flat(ref.outs));
      const alone = scanRef(row.filter((i) => i !== 0).map((i) => table[i]), step, 2, U);
      wantH.push(...alone.states[0]);
      wantC.push(...alone.states[1]);
    });
    // masked steps repeat the previous output (zeros before the first real step), as in Keras
    assertClose(y, wantY, 'masked sequence output', 1e-12, 1e-12);
    assertClose(h, wantH, 'final h = the unpadded LSTM', 1e-12, 1e-12);
    assertClose(c, wantC, 'final c = the unpadded LSTM', 1e-12, 1e-12);
    // the same model on each unpadded sequence alone gives the same final states
    ids.slice(0, 3).forEach((row, n) => {
      const real = row.filter((i) => i !== 0);
      const [, h1] = runModel(model, [{ value: real, shape: [1, real.length], dtype: 'int32' }]);
      assertClose(h1, wantH.slice(n * U, (n + 1) * U), `sample ${n} alone`, 1e-12, 1e-12);
    });
  });

  it('timeDistributed(dense) and dropout pass the mask on to a Sequential simpleRNN; bidirectional gets it too', () => {
    const emb = st.layers.embedding({ inputDim: VOCAB, outputDim: F, maskZero: true, dtype: 'float64' });
    const td = st.layers.timeDistributed({ layer: st.layers.dense({ units: 2, dtype: 'float64' }), dtype: 'float64' });
    const drop = st.layers.dropout({ rate: 0.5 });
    const rec = st.layers.simpleRNN({ units: U, dtype: 'float64' });
    const model = new st.Sequential([st.layers.input({ shape: [S], dtype: 'int32' }), emb, td, drop, rec]);
    const table = rows(setWeights(emb, rng)[0].v, VOCAB, F);
    const [dk, db] = setWeights(td, rng);
    const [k, r, b] = setWeights(rec, rng);
    const dense = (x: number[]) => vm(x, rows(dk.v, F, 2)).map((v, j) => v + db.v[j]);
    const step = simpleStep(rows(k.v, 2, U), rows(r.v, U, U), b.v);
    const [y] = runModel(model, [{ value: flat(ids), shape: [B, S], dtype: 'int32' }]);
    const want = ids.flatMap((row) => scanRef(row.filter((i) => i !== 0).map((i) => dense(table[i])), step, 1, U).states[0]);
    assertClose(y, want, 'sequential with pass-through layers', 1e-12, 1e-12);

    // bidirectional: forwards and backwards over the real steps only
    const inp = st.input({ shape: [S], dtype: 'int32' });
    const emb2 = st.layers.embedding({ inputDim: VOCAB, outputDim: F, maskZero: true, dtype: 'float64' });
    const bi = st.layers.bidirectional({ layer: st.layers.simpleRNN({ units: U, dtype: 'float64' }), dtype: 'float64' });
    const m2 = st.model({ inputs: inp, outputs: bi.apply(emb2.apply(inp)) as st.KerasTensor });
    const t2 = rows(setWeights(emb2, rng)[0].v, VOCAB, F);
    const [fk, fr, fb] = setWeights(bi.forwardLayer, rng);
    const [bk, br, bb] = setWeights(bi.backwardLayer, rng);
    const fwd = simpleStep(rows(fk.v, F, U), rows(fr.v, U, U), fb.v), bwd = simpleStep(rows(bk.v, F, U), rows(br.v, U, U), bb.v);
    const [yb] = runModel(m2, [{ value: flat(ids), shape: [B, S], dtype: 'int32' }]);
    const wantB = ids.flatMap((row) => {
      const real = row.filter((i) => i !== 0).map((i) => t2[i]);
      return [...scanRef(real, fwd, 1, U).states[0], ...scanRef(real, bwd, 1, U, undefined, true).states[0]];
    });
    assertClose(yb, wantB, 'bidirectional over the real steps', 1e-12, 1e-12);
  });

  it('global average and max pooling over the unmasked steps of masking()', () => {
    const x = [
      [[1, 2], [0, 0], [3, -4], [0, 0]],
      [[0, 0], [-1, 0.5], [2, 2], [0, 1]],
      [[0, 0], [0, 0], [0, 0], [0, 0]],
    ];
    const shape = [3, 4, 2];
    const keep = x.map((row) => row.map((v) => v.some((a) => a !== 0)));
    const mean = (row: Mat, k: boolean[]) => {
      const n = k.filter(Boolean).length;
      return [0, 1].map((j) => (n ? row.reduce((s, v, t) => s + (k[t] ? v[j] : 0), 0) / n : 0));
    };
    const max = (row: Mat, k: boolean[]) => [0, 1].map((j) => (k.some(Boolean) ? Math.max(...row.filter((_, t) => k[t]).map((v) => v[j])) : 0));
    for (const [pool, ref] of [[st.layers.globalAveragePooling1d(), mean], [st.layers.globalMaxPooling1d(), max]] as const) {
      const model = new st.Sequential([st.layers.input({ shape: [4, 2], dtype: 'float64' }), st.layers.masking({ maskValue: 0 }), pool]);
      // the pooled output carries no mask
      assert.equal(model.outputs[0].maskShape, null);
      const [y] = runModel(model, [{ value: flat(x), shape, dtype: 'float64' }]);
      assertClose(y, flat(x.map((row, n) => ref(row, keep[n]))), `${pool.name} over unmasked steps`, 1e-12, 1e-12);
    }
  });

  it('attention uses the propagated masks as the explicit value mask, and zeroes masked query steps', () => {
    const Tq = 3, Tv = 4;
    const qIds = [[1, 2, 0], [0, 3, 4]], vIds = [[2, 0, 1, 3], [4, 4, 0, 0]];
    const q = st.input({ shape: [Tq], dtype: 'int32' }), v = st.input({ shape: [Tv], dtype: 'int32' });
    const embQ = st.layers.embedding({ inputDim: VOCAB, outputDim: F, maskZero: true, dtype: 'float64' });
    const embV = st.layers.embedding({ inputDim: VOCAB, outputDim: F, maskZero: true, dtype: 'float64' });
    const att = new Attention({ dtype: 'float64' });
    const out = att.apply([embQ.apply(q), embV.apply(v)]) as st.KerasTensor;
    assert.deepEqual(out.maskShape, [null, Tq]);
    const model = st.model({ inputs: [q, v], outputs: out });
    const tq = rows(setWeights(embQ, rng)[0].v, VOCAB, F), tv = rows(setWeights(embV, rng)[0].v, VOCAB, F);
    const inputs = [{ value: flat(qIds), shape: [2, Tq], dtype: 'int32' as const }, { value: flat(vIds), shape: [2, Tv], dtype: 'int32' as const }];
    const [y] = runModel(model, inputs);
    // reference: dot scores, softmax over the unmasked value steps, zero rows for masked queries
    const want = qIds.flatMap((qr, n) => qr.flatMap((qi) => {
      if (qi === 0) return new Array(F).fill(0);
      const keys = vIds[n].map((vi) => (vi !== 0 ? tq[qi].reduce((s, a, j) => s + a * tv[vi][j], 0) : -Infinity));
      const m = Math.max(...keys);
      const w = keys.map((s) => Math.exp(s - m));
      const z = w.reduce((a, b2) => a + b2, 0);
      return [...Array(F).keys()].map((j) => vIds[n].reduce((s, vi, t) => s + (w[t] / z) * tv[vi][j], 0));
    }));
    assertClose(y, want, 'attention with propagated masks', 1e-12, 1e-12);
    // the same layer with the value mask as an explicit input, times the query mask, gives the same numbers
    const qv = T.tensor('int32', [null, Tq], 'q'), vv = T.tensor('int32', [null, Tv], 'v');
    const eq = embQ.apply(qv) as V, ev = embV.apply(vv) as V;
    const explicit = T.mul(att.apply([eq, ev, ev, T.notEqual(vv, 0)]) as V, T.cast(T.expandDims(T.notEqual(qv, 0), -1), 'float64'));
    const ye = f64(st.fn([qv, vv], explicit).sync(makeTensor(inputs[0].value, inputs[0].shape, 'int32'), makeTensor(inputs[1].value, inputs[1].shape, 'int32')));
    assertClose(ye, y, 'explicit mask', 1e-12, 1e-12);
  });

  it('multiHeadAttention with propagated masks equals the explicit [batch, Tq, Tv] mask of query and value', () => {
    const T2 = 4;
    const xIds = [[1, 2, 3, 0], [4, 0, 0, 0]];
    const x = st.input({ shape: [T2], dtype: 'int32' });
    const emb = st.layers.embedding({ inputDim: VOCAB, outputDim: 4, maskZero: true, dtype: 'float64' });
    const mha = new MultiHeadAttention({ numHeads: 2, keyDim: 2, dtype: 'float64' });
    const e = emb.apply(x);
    const out = mha.apply([e, e]) as st.KerasTensor;
    assert.deepEqual(out.maskShape, [null, T2]);
    const model = st.model({ inputs: x, outputs: out });
    const [y] = runModel(model, [{ value: flat(xIds), shape: [2, T2], dtype: 'int32' }]);
    const xv = T.tensor('int32', [null, T2], 'x');
    const ev = emb.apply(xv) as V;
    const m = T.notEqual(xv, 0);
    const pair = T.logicalAnd(T.expandDims(m, 2), T.expandDims(m, 1));
    const ye = f64(st.fn([xv], mha.apply([ev, ev, ev, pair]) as V).sync(makeTensor(flat(xIds), [2, T2], 'int32')));
    assertClose(y, ye, 'mha propagated vs explicit', 1e-12, 1e-12);
    // and the mask matters: without it the numbers differ
    const yn = f64(st.fn([xv], mha.apply([ev, ev]) as V).sync(makeTensor(flat(xIds), [2, T2], 'int32')));
    assert.ok(yn.some((a, i) => Math.abs(a - y[i]) > 1e-6), 'the mask should change the output');
  });

  it('layers that collapse the steps drop the mask; a layer without masking support refuses a masked input', () => {
    const e = st.layers.embedding({ inputDim: VOCAB, outputDim: F, maskZero: true }).apply(st.input({ shape: [S], dtype: 'int32' }));
    const last = st.layers.lstm({ units: 2 }).apply(e) as st.KerasTensor;
    assert.equal(last.maskShape, null);
    assert.deepEqual((st.layers.dense({ units: 2 }).apply(e) as st.KerasTensor).maskShape, [null, S]);
    // flatten after the masked embedding: Keras refuses it, naming the layer
    const flatten = st.layers.flatten({ name: 'flat_after_mask' });
    const err = catchError(() => new st.Sequential([
      st.layers.input({ shape: [S], dtype: 'int32' }),
      st.layers.embedding({ inputDim: VOCAB, outputDim: F, maskZero: true, name: 'padded_tokens' }),
      flatten,
    ]));
    assert.equal(err.code, 'ERR_ST_ARG');
    assert.match(err.message, /flat_after_mask/);
    assert.match(err.message, /Flatten does not support masking/);
    assert.match(err.message, /carries a mask \[\?,5\] \(from padded_tokens\)/);
    // without maskZero the same stack builds
    const ok = new st.Sequential([st.layers.input({ shape: [S], dtype: 'int32' }), st.layers.embedding({ inputDim: VOCAB, outputDim: F }), st.layers.flatten()]);
    assert.deepEqual(ok.outputs[0].shape, [null, S * F]);
  });

  it('merges keep the steps where every masked input keeps them; apply() on Variables takes a mask', () => {
    const a = st.input({ shape: [4], dtype: 'int32' }), b = st.input({ shape: [4], dtype: 'int32' });
    const ea = st.layers.embedding({ inputDim: VOCAB, outputDim: 2, maskZero: true, dtype: 'float64' });
    const eb = st.layers.embedding({ inputDim: VOCAB, outputDim: 2, maskZero: true, dtype: 'float64' });
    const sum = st.layers.add().apply([ea.apply(a), eb.apply(b)]) as st.KerasTensor;
    const joined = st.layers.concatenate({ axis: -1 }).apply([ea.apply(a), eb.apply(b)]) as st.KerasTensor;
    assert.deepEqual([sum.maskShape, joined.maskShape], [[null, 4], [null, 4]]);
    const model = st.model({ inputs: [a, b], outputs: st.layers.globalAveragePooling1d().apply(sum) as st.KerasTensor });
    const ta = rows(setWeights(ea, rng)[0].v, VOCAB, 2), tb = rows(setWeights(eb, rng)[0].v, VOCAB, 2);
    const av = [[1, 2, 0, 3], [0, 4, 4, 1]], bv = [[2, 0, 0, 1], [3, 3, 1, 0]];
    const [y] = runModel(model, [{ value: flat(av), shape: [2, 4], dtype: 'int32' }, { value: flat(bv), shape: [2, 4], dtype: 'int32' }]);
    const want = av.flatMap((ra, n) => {
      const steps = ra.map((_, t) => t).filter((t) => ra[t] !== 0 && bv[n][t] !== 0);
      return [0, 1].map((j) => steps.reduce((s2, t) => s2 + ta[ra[t]][j] + tb[bv[n][t]][j], 0) / steps.length);
    });
    assertClose(y, want, 'mean over steps both inputs keep', 1e-12, 1e-12);
    // joining along the steps axis would need the masks joined too: refused
    const e = catchError(() => st.layers.concatenate({ axis: 1, name: 'join_steps' }).apply([ea.apply(a), eb.apply(b)]));
    assert.equal(e.code, 'ERR_ST_ARG');
    assert.match(e.message, /join_steps: Concatenate does not support masking/);

    // a hand-written graph: simpleRNN.apply(x, { mask }) skips the masked steps
    const rec = st.layers.simpleRNN({ units: 2, dtype: 'float64' });
    const x = T.tensor('float64', [null, 3, 2], 'x'), m = T.tensor('bool', [null, 3], 'm');
    const yv = rec.apply(x, { mask: m }) as V;
    const [k, r, bias] = setWeights(rec, rng);
    const xs = [[[0.5, -1], [2, 0.25], [-0.5, 1]], [[1, 1], [-1, 0.5], [0.3, 0.2]]], keep = [[true, false, true], [false, true, false]];
    const got = f64(st.fn([x, m], yv).sync(makeTensor(flat(xs), [2, 3, 2]), makeTensor(flat(keep).map(Number), [2, 3], 'bool')));
    const step = simpleStep(rows(k.v, 2, 2), rows(r.v, 2, 2), bias.v);
    assertClose(got, xs.flatMap((row, n) => scanRef(row, step, 1, 2, keep[n]).states[0]), 'apply with mask', 1e-12, 1e-12);
    const e2 = catchError(() => st.layers.flatten({ name: 'flat_direct' }).apply(x, { mask: m }));
    assert.match(e2.message, /flat_direct: Flatten does not support masking, but apply\(\) was given a mask/);
  });

  it('embedding(maskZero) → lstm → dense learns the last real token of post-padded sequences', async function () {
    this.timeout(60000);
    st.setRandomSeed(5);
    const data = new Rng(77);
    const N = 128, L = 6;
    const xs: number[] = [], ys: number[] = [];
    for (let n = 0; n < N; n++) {
      const len = 1 + Math.floor(data.uniform(0, 1) * L);
      const row = Array.from({ length: L }, (_, t) => (t < len ? 1 + Math.floor(data.uniform(0, 1) * 3) : 0));
      xs.push(...row);
      ys.push(row[len - 1] === 3 ? 1 : 0);
    }
    const model = new st.Sequential([
      st.layers.input({ shape: [L], dtype: 'int32' }),
      st.layers.embedding({ inputDim: 4, outputDim: 4, maskZero: true }),
      st.layers.lstm({ units: 8 }),
      st.layers.dense({ units: 1, activation: 'sigmoid' }),
    ]);
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.05 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const x = makeTensor(xs, [N, L], 'int32'), y = makeTensor(ys, [N, 1], 'float32');
    await model.fit(x, y, { epochs: 40, batchSize: 32, verbose: 0 });
    const pred = f64((await model.predict(x)) as st.Tensor);
    const acc = ys.filter((t, i) => (pred[i] > 0.5 ? 1 : 0) === t).length / N;
    assert.ok(acc >= 0.95, `accuracy ${acc}`);
  });
});
