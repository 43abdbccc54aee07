// Recurrent layers learn: an LSTM solves the adding problem (length 50) and a GRU classifies the
// parity of 20-bit strings.  Data is generated here with fixed seeds; targets are measured on
// fresh held-out samples.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { gru, lstm } from '../../lib/models/layers/recurrent';

type KT = st.KerasTensor;

/** A seeded uniform generator in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
}

/**
 * The adding problem: each step holds [value in [0, 1), marker]; two steps (one in each half) are
 * marked and the target is the sum of their values.  Predicting the mean (1) gives MSE ≈ 1/6.
 */
function adding(n: number, len: number, seed: number): { x: st.Tensor; y: st.Tensor; target: number[] } {
  const rand = lcg(seed);
  const xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rand() * (len / 2)), b = len / 2 + Math.floor(rand() * (len / 2));
    let sum = 0;
    for (let t = 0; t < len; t++) {
      const v = rand();
      const mark = t === a || t === b ? 1 : 0;
      if (mark) sum += v;
      xs.push(v, mark);
    }
    ys.push(sum);
  }
  return { x: st.tensor(xs, { shape: [n, len, 2] }), y: st.tensor(ys, { shape: [n, 1] }), target: ys };
}

/**
 * Bit strings ([n, len, 1], values 0/1), the parity of each prefix ([n, len, 1]: the training
 * targets, one per step) and the parity of each whole string (the labels scored).
 */
function parity(n: number, len: number, seed: number): { x: st.Tensor; y: st.Tensor; labels: number[] } {
  const rand = lcg(seed);
  const xs: number[] = [], ys: number[] = [], labels: number[] = [];
  for (let i = 0; i < n; i++) {
    let p = 0;
    for (let t = 0; t < len; t++) {
      const bit = rand() < 0.5 ? 1 : 0;
      p ^= bit;
      xs.push(bit);
      ys.push(p);
    }
    labels.push(p);
  }
  return { x: st.tensor(xs, { shape: [n, len, 1] }), y: st.tensor(ys, { shape: [n, len, 1] }), labels };
}

describe('recurrent layers learn (adding problem, parity)', function () {
  this.timeout(180_000);

  it('an LSTM solves the adding problem of length 50 to MSE < 0.01 (the mean predictor: ~0.17)', async () => {
    st.setRandomSeed(11);
    const len = 50;
    const input = st.input({ shape: [len, 2] });
    const h = lstm({ units: 24 }).apply(input) as KT;
    const out = st.layers.dense({ units: 1 }).apply(h) as KT;
    const model = st.model({ inputs: input, outputs: out });
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-2 }), loss: 'meanSquaredError' });
    const train = adding(3200, len, 1), test = adding(500, len, 2);
    await model.fit(train.x, train.y, { epochs: 8, batchSize: 32, verbose: 0 });
    const p = (await model.predict(test.x)) as st.Tensor;
    const pv = p.dataSync() as Float32Array;
    const mse = test.target.reduce((s, t, i) => s + (pv[i] - t) ** 2, 0) / test.target.length;
    const base = test.target.reduce((s, t) => s + (t - 1) ** 2, 0) / test.target.length;
    assert.ok(base > 0.12, `the mean predictor's MSE is ${base.toFixed(3)}`);
    assert.ok(mse < 0.01, `held-out MSE ${mse.toFixed(4)} (mean predictor ${base.toFixed(3)})`);
  });

  // Trained on the parity of every prefix (a target per step: from the string's parity alone a
  // GRU this small rarely leaves chance within the time a test may take); scored on the parity of
  // whole held-out strings, read from the last step.
  it('a GRU classifies the parity of 20-bit strings with > 95% held-out accuracy', async () => {
    st.setRandomSeed(12);
    const len = 20;
    const input = st.input({ shape: [len, 1] });
    const h = gru({ units: 16, returnSequences: true }).apply(input) as KT;
    const out = st.layers.dense({ units: 1, activation: 'sigmoid' }).apply(h) as KT;
    const model = st.model({ inputs: input, outputs: out });
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-2 }), loss: 'binaryCrossentropy' });
    const train = parity(2000, len, 3), test = parity(1000, len, 4);
    await model.fit(train.x, train.y, { epochs: 6, batchSize: 32, verbose: 0 });
    const p = (await model.predict(test.x)) as st.Tensor;
    assert.deepEqual(p.shape, [1000, len, 1]);
    const pv = p.dataSync() as Float32Array;
    const acc = test.labels.reduce((s, l, i) => s + ((pv[i * len + len - 1] > 0.5 ? 1 : 0) === l ? 1 : 0), 0) / test.labels.length;
    assert.ok(acc > 0.95, `held-out accuracy ${(100 * acc).toFixed(1)}%`);
  });
});
