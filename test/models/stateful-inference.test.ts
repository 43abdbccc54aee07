// Stateful recurrent layers carry their final states into the next batch in every call, as in
// Keras: predictOnBatch, predict, evaluate, testOnBatch and the training steps.  The expected values
// come from plain float64 loops written from Keras's cell equations, run over the whole sequence
// at once; the model sees it in chunks.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { BatchNormalization } from '../../lib/models/layers/normalization';
import { Bidirectional } from '../../lib/models/layers/wrappers';
import { GRUCell, RNN, SimpleRNNCell } from '../../lib/models/layers/recurrent';
import { stackedRNNCells } from '../../lib/models/layers/stacked-cells';
import type { Layer } from '../../lib/models/layer';
import { programCacheStats } from '../../lib/compile/programs';
import { assertClose, f64, makeTensor, uniform } from '../support/fd';
import { Rng } from '../support/reference';

type Mat = number[][];
type Seq = number[][][]; // [batch][steps][features]
type StepFn = (x: number[], states: number[][]) => number[][];

// ---- the reference: Keras's cells in float64 ----
const sig = (v: number) => 1 / (1 + Math.exp(-v));
/** Row vector times matrix. */
const vm = (v: number[], m: Mat) => m[0].map((_, j) => v.reduce((s, vi, i) => s + vi * m[i][j], 0));
const rows = (flat: number[], r: number, c: number): Mat => Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c));
const block = (v: number[], k: number, u: number) => v.slice(k * u, (k + 1) * u);

/** h = tanh(x·W + h·U + b). */
const simpleStep = (W: Mat, U: Mat, b: number[]): StepFn => (x, [h]) => {
  const g = vm(x, W).map((v, j) => v + vm(h, U)[j] + b[j]);
  return [g.map(Math.tanh)];
};

/** Keras's LSTM, gates i, f, c, o. */
const lstmStep = (W: Mat, U: Mat, b: number[], u: number): StepFn => (x, [h, c]) => {
  const g = vm(x, W).map((v, j) => v + vm(h, U)[j] + b[j]);
  const i = block(g, 0, u).map(sig), f = block(g, 1, u).map(sig), cc = block(g, 2, u).map(Math.tanh), o = block(g, 3, u).map(sig);
  const c2 = c.map((cv, j) => f[j] * cv + i[j] * cc[j]);
  return [c2.map((cv, j) => o[j] * Math.tanh(cv)), c2];
};

/** Keras's GRU with resetAfter (bias rows: input, recurrent), gates z, r, h. */
const gruStep = (W: Mat, U: Mat, b: Mat, u: number): StepFn => (x, [h]) => {
  const xw = vm(x, W).map((v, j) => v + b[0][j]);
  const hu = vm(h, U).map((v, j) => v + b[1][j]);
  const z = block(xw, 0, u).map((v, j) => sig(v + block(hu, 0, u)[j]));
  const r = block(xw, 1, u).map((v, j) => sig(v + block(hu, 1, u)[j]));
  const hh = block(xw, 2, u).map((v, j) => Math.tanh(v + r[j] * block(hu, 2, u)[j]));
  return [h.map((hv, j) => z[j] * hv + (1 - z[j]) * hh[j])];
};

/** Runs `step` over every sequence from `init` (zeros by default): outputs per step and final states. */
function run(x: Seq, step: StepFn, sizes: number[], init?: number[][][], back = false): { ys: Seq; finals: number[][][] } {
  const ys: Seq = [];
  const finals: number[][][] = [];
  x.forEach((seq, n) => {
    let s = init ? init[n].map((v) => v.slice()) : sizes.map((k) => new Array(k).fill(0));
    const out: number[][] = [];
    for (let i = 0; i < seq.length; i++) {
      s = step(seq[back ? seq.length - 1 - i : i], s);
      out.push(s[0].slice());
    }
    ys.push(out);
    finals.push(s);
  });
  return { ys, finals };
}

const B = 2, H = 3, F = 2, U = 3;
const flat = (a: unknown[]): number[] => (a as unknown[]).flat(3) as number[];
const nest = (v: number[], b: number, s: number, f: number): Seq => Array.from({ length: b }, (_, n) => rows(v.slice(n * s * f, (n + 1) * s * f), s, f));
const concatSteps = (a: Seq, b: Seq): Seq => a.map((r, n) => [...r, ...b[n]]);
const x64 = (s: Seq) => makeTensor(flat(s), [s.length, s[0].length, s[0][0].length]);
const lastOut = (r: { finals: number[][][] }) => flat(r.finals.map((f) => f[0]));
/** Two chunks of H steps of B sequences. */
function chunks(rng: Rng): [Seq, Seq] {
  return [nest(uniform(rng, B * H * F), B, H, F), nest(uniform(rng, B * H * F), B, H, F)];
}
const out64 = async (p: Promise<st.Tensor | st.Tensor[]>) => f64((await p) as st.Tensor);

/** Small fixed weights drawn from rng, set on the layer's kernel, recurrent kernel and bias (in that order). */
function setWeights(layer: Layer, rng: Rng, scale = 0.6): number[][] {
  const vals = layer.weights.map((w) => uniform(rng, w.type.shape.reduce<number>((a, d) => a * (d as number), 1), -scale, scale));
  layer.setWeights(vals.map((v, i) => makeTensor(v, layer.weights[i].type.shape as number[])));
  return vals;
}

interface Kind {
  name: string;
  make(o: { stateful: boolean; returnSequences?: boolean }): Layer;
  step(w: number[][]): StepFn;
  sizes: number[];
}
const kinds: Kind[] = [
  { name: 'LSTM', make: (o) => st.layers.lstm({ units: U, dtype: 'float64', ...o }), step: (w) => lstmStep(rows(w[0], F, 4 * U), rows(w[1], U, 4 * U), w[2], U), sizes: [U, U] },
  { name: 'GRU', make: (o) => st.layers.gru({ units: U, dtype: 'float64', ...o }), step: (w) => gruStep(rows(w[0], F, 3 * U), rows(w[1], U, 3 * U), rows(w[2], 2, 3 * U), U), sizes: [U] },
  { name: 'SimpleRNN', make: (o) => st.layers.simpleRNN({ units: U, dtype: 'float64', ...o }), step: (w) => simpleStep(rows(w[0], F, U), rows(w[1], U, U), w[2]), sizes: [U] },
];

/** A float64 model of one recurrent layer on inputs of the fixed batch B. */
function modelOf(layer: Layer): st.Sequential {
  return new st.Sequential([st.layers.input({ shape: [H, F], batchSize: B, dtype: 'float64' }), layer]);
}

describe('stateful recurrent layers across calls', () => {
  for (const kind of kinds) {
    it(`${kind.name}: predictOnBatch on two chunks equals the whole sequence; resetStates starts over`, async () => {
      const rng = new Rng(kind.name.length * 7 + 1);
      const layer = kind.make({ stateful: true });
      const model = modelOf(layer);
      const step = kind.step(setWeights(layer, rng));
      const [c1, c2] = chunks(rng);
      const y1 = await out64(model.predictOnBatch(x64(c1)));
      const y2 = await out64(model.predictOnBatch(x64(c2)));
      assertClose(y1, lastOut(run(c1, step, kind.sizes)), 'first chunk from zero states', 1e-12, 1e-12);
      assertClose(y2, lastOut(run(concatSteps(c1, c2), step, kind.sizes)), 'second chunk continues the first', 1e-12, 1e-12);
      model.resetStates();
      const y3 = await out64(model.predictOnBatch(x64(c1)));
      assert.deepEqual(Array.from(y3), Array.from(y1), 'after resetStates the first chunk gives the first result again');
    });
  }

  it('predict with batchSize equal to the layer batch continues each batch from the previous one', async () => {
    const rng = new Rng(5);
    const kind = kinds[1];
    const layer = kind.make({ stateful: true, returnSequences: true });
    const model = modelOf(layer);
    const step = kind.step(setWeights(layer, rng));
    const [c1, c2] = chunks(rng);
    const [, c3] = chunks(rng);
    // rows B..2B-1 are the next chunk of rows 0..B-1's sequences
    const y = await out64(model.predict(x64([...c1, ...c2]), { batchSize: B }));
    const whole = run(concatSteps(c1, c2), step, kind.sizes);
    const expected = [...whole.ys.map((r) => r.slice(0, H)), ...whole.ys.map((r) => r.slice(H))];
    assertClose(y, flat(expected), 'predict over two batches', 1e-12, 1e-12);
    // a second predict goes on from where the first stopped, on the cached step
    const compiled = programCacheStats.functions;
    const y3 = await out64(model.predict(x64(c3), { batchSize: B }));
    assert.equal(programCacheStats.functions, compiled, 'the second predict compiled nothing');
    const all = run(concatSteps(concatSteps(c1, c2), c3), step, kind.sizes);
    assertClose(y3, flat(all.ys.map((r) => r.slice(2 * H))), 'a later predict continues', 1e-12, 1e-12);
    // without batchSize predict takes the layer's batch
    model.resetStates();
    const again = await out64(model.predict(x64([...c1, ...c2])));
    assert.deepEqual(Array.from(again), Array.from(y));
  });

  it('evaluate, testOnBatch and a training step advance the states too', async () => {
    const rng = new Rng(9);
    const kind = kinds[0];
    const layer = kind.make({ stateful: true });
    const model = modelOf(layer);
    const step = kind.step(setWeights(layer, rng));
    // a learning rate of 0: training steps leave the weights alone but still run the layer
    model.compile({ optimizer: st.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
    const [c1, c2] = chunks(rng);
    const target = makeTensor(new Array(B * U).fill(0), [B, U]);
    const expected = lastOut(run(concatSteps(c1, c2), step, kind.sizes));
    const fresh = lastOut(run(c2, step, kind.sizes));
    const check = async (what: string, first: () => Promise<unknown>) => {
      model.resetStates();
      await first();
      const y2 = await out64(model.predictOnBatch(x64(c2)));
      assertClose(y2, expected, `${what}, then predictOnBatch continues`, 1e-12, 1e-12);
    };
    // the loss evaluate returns is that of the first chunk from zero states
    await check('evaluate', async () => {
      const loss = (await model.evaluate(x64(c1), target, { batchSize: B, verbose: 0 })) as number;
      const y1 = lastOut(run(c1, step, kind.sizes));
      assert.ok(Math.abs(loss - y1.reduce((s, v) => s + v * v, 0) / (B * U)) < 1e-6, `evaluate's loss ${loss}`);
    });
    await check('testOnBatch', () => model.testOnBatch(x64(c1), target));
    await check('trainOnBatch', () => model.trainOnBatch(x64(c1), target));
    await check('fit', () => model.fit(x64(c1), target, { batchSize: B, epochs: 1, shuffle: false, verbose: 0 }));
    // and predictOnBatch after resetStates is the second chunk alone
    model.resetStates();
    assertClose(await out64(model.predictOnBatch(x64(c2))), fresh, 'after resetStates', 1e-12, 1e-12);
  });

  it('a layer without stateful is the same in every call', async () => {
    const rng = new Rng(13);
    const kind = kinds[0];
    const layer = kind.make({ stateful: false });
    const model = modelOf(layer);
    const step = kind.step(setWeights(layer, rng));
    const [c1, c2] = chunks(rng);
    await model.predictOnBatch(x64(c1));
    const y2 = await out64(model.predictOnBatch(x64(c2)));
    assertClose(y2, lastOut(run(c2, step, kind.sizes)), 'each call starts from zeros', 1e-12, 1e-12);
    const p = await out64(model.predict(x64([...c1, ...c2]), { batchSize: B }));
    assertClose(p.subarray(B * U), y2, 'predict batches start from zeros', 1e-12, 1e-12);
    model.resetStates(); // nothing to reset: a no-op
    assert.deepEqual(Array.from(await out64(model.predictOnBatch(x64(c2)))), Array.from(y2));
  });

  it('batch normalization statistics move only in training while the states advance in every call', async () => {
    const rng = new Rng(17);
    const rnn = st.layers.lstm({ units: U, stateful: true, returnSequences: true, dtype: 'float64' });
    const bn = new BatchNormalization({ dtype: 'float64', momentum: 0.5 });
    const model = new st.Sequential([st.layers.input({ shape: [H, F], batchSize: B, dtype: 'float64' }), rnn, bn]);
    setWeights(rnn, rng);
    model.compile({ optimizer: st.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
    const [c1, c2] = chunks(rng);
    const target = makeTensor(new Array(B * H * U).fill(0), [B, H, U]);
    const stats = () => bn.nonTrainableWeights.map((w) => Array.from(f64(w.get())));
    const states = () => (rnn as RNN).states!.map((s) => Array.from(f64(s.get())));
    const before = stats();
    assert.equal(before.length, 2, 'moving mean and variance');
    let s = states();
    for (const call of [
      () => model.predictOnBatch(x64(c1)),
      () => model.predict(x64(c2), { batchSize: B }),
      () => model.evaluate(x64(c1), target, { batchSize: B, verbose: 0 }),
      () => model.testOnBatch(x64(c2), target),
    ]) {
      await call();
      assert.deepEqual(stats(), before, 'inference leaves the moving statistics alone');
      const now = states();
      assert.notDeepEqual(now, s, 'the states advanced');
      s = now;
    }
    await model.trainOnBatch(x64(c1), target);
    assert.notDeepEqual(stats(), before, 'a training step updates the moving statistics');
    assert.notDeepEqual(states(), s, 'and advances the states');
  });

  it('bidirectional: each direction carries its own states into the next batch', async () => {
    const rng = new Rng(19);
    const bi = new Bidirectional({ layer: st.layers.simpleRNN({ units: U, stateful: true, dtype: 'float64' }), mergeMode: 'concat' });
    const model = modelOf(bi);
    const w = setWeights(bi, rng);
    const fwd = simpleStep(rows(w[0], F, U), rows(w[1], U, U), w[2]);
    const bwd = simpleStep(rows(w[3], F, U), rows(w[4], U, U), w[5]);
    const [c1, c2] = chunks(rng);
    await model.predictOnBatch(x64(c1));
    const y2 = await out64(model.predictOnBatch(x64(c2)));
    // forward: the sequence so far; backward: chunk 2 backwards, from its state after chunk 1 backwards
    const f = run(concatSteps(c1, c2), fwd, [U]).finals;
    const b1 = run(c1, bwd, [U], undefined, true).finals;
    const b = run(c2, bwd, [U], b1, true).finals;
    assertClose(y2, flat(f.map((s, n) => [...s[0], ...b[n][0]])), 'both directions continue', 1e-12, 1e-12);
    // the model's resetStates reaches both directions inside the wrapper
    model.resetStates();
    const y3 = await out64(model.predictOnBatch(x64(c2)));
    const f0 = run(c2, fwd, [U]).finals, b0 = run(c2, bwd, [U], undefined, true).finals;
    assertClose(y3, flat(f0.map((s, n) => [...s[0], ...b0[n][0]])), 'after resetStates', 1e-12, 1e-12);
    await model.predictOnBatch(x64(c1));
    bi.resetStates();
    assert.deepEqual(Array.from(await out64(model.predictOnBatch(x64(c2)))), Array.from(y3), 'the wrapper\'s own resetStates');
  });

  it('stacked cells: every cell\'s states carry over', async () => {
    const rng = new Rng(23);
    const cell = stackedRNNCells({ cells: [new SimpleRNNCell({ units: U, dtype: 'float64' }), new GRUCell({ units: 2, dtype: 'float64' })] });
    const layer = st.layers.rnn({ cell, stateful: true, dtype: 'float64' });
    const model = modelOf(layer);
    const w = setWeights(layer, rng);
    const s1 = simpleStep(rows(w[0], F, U), rows(w[1], U, U), w[2]);
    const s2 = gruStep(rows(w[3], U, 6), rows(w[4], 2, 6), rows(w[5], 2, 6), 2);
    const stacked: StepFn = (x, [h1, h2]) => {
      const [a] = s1(x, [h1]);
      const [b] = s2(a, [h2]);
      return [b, a, b];
    };
    // states [h1, h2]; the reference's first entry is the output
    const stepRef: StepFn = (x, [, h1, h2]) => stacked(x, [h1, h2]);
    const [c1, c2] = chunks(rng);
    await model.predictOnBatch(x64(c1));
    const y2 = await out64(model.predictOnBatch(x64(c2)));
    assertClose(y2, lastOut(run(concatSteps(c1, c2), stepRef, [2, U, 2])), 'the stack continues', 1e-12, 1e-12);
  });

  it('refuses batches of another size than the stateful layer\'s, naming the layer and the sizes', async () => {
    const rng = new Rng(29);
    const layer = kinds[2].make({ stateful: true });
    const model = modelOf(layer);
    setWeights(layer, rng);
    const [c1, c2] = chunks(rng);
    const rejects = async (p: Promise<unknown>, re: RegExp) => {
      await assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof st.SymtensorError, String(e));
        assert.equal(e.code, 'ERR_ST_ARG');
        assert.match(e.message, re);
        return true;
      });
    };
    const name = layer.name;
    await rejects(model.predict(x64([...c1, ...c2]), { batchSize: 4 }), new RegExp(`batchSize 4 does not fit the stateful layer ${name}, whose states are for batches of 2: pass batchSize: 2`));
    await rejects(model.predict(x64([...c1, ...c2, c1[0]] as Seq)), new RegExp(`5 samples do not split into whole batches of 2: the stateful layer ${name}`));
    await rejects(model.predictOnBatch(x64([c1[0]] as Seq)), new RegExp(`the stateful layer ${name} keeps states for batches of 2 samples, got a batch of 1`));
    // nothing ran: the states are still zeros
    assert.ok((layer as RNN).states!.every((s) => f64(s.get()).every((v) => v === 0)));
  });
});
