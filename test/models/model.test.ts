// Sequential and functional models: building, summary, fit/evaluate/predict, the model layer's
// cost against a hand-written graph, saving and loading, resuming, bad input.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as st from '../../lib/index';
import { rng } from '../support/rng';

const { T } = st;

/** Two Gaussian blobs per class in 4-D: a problem a small MLP separates well. */
function blobs(n: number, classes: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = rng(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = c;
    for (let k = 0; k < 4; k++) {
      const centre = k === c % 4 ? 2 : k === (c + 1) % 4 ? -1 : 0;
      const g = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
      x[i * 4 + k] = centre + 0.5 * g;
    }
  }
  return { x, y };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'st-model-'));
}

function argmaxRows(t: st.Tensor): number[] {
  const [n, k] = t.shape;
  const d = t.dataSync();
  return Array.from({ length: n }, (_, i) => {
    let b = 0;
    for (let j = 1; j < k; j++) if (d[i * k + j] > d[i * k + b]) b = j;
    return b;
  });
}

describe('models: Sequential', () => {
  it('builds from an input layer, infers shapes and counts parameters as Keras does', () => {
    const m = new st.Sequential([
      st.layers.input({ shape: [784] }),
      st.layers.dense({ units: 512, activation: 'relu' }),
      st.layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    assert.deepEqual(m.outputs[0].shape, [null, 10]);
    assert.equal(m.countParams(), 784 * 512 + 512 + 512 * 10 + 10);
    assert.equal(m.layers.length, 2);
    assert.equal(m.trainableWeights.length, 4);
  });

  it('summary prints each layer with its output shape and parameters, and the totals', () => {
    const m = new st.Sequential([st.layers.input({ shape: [8] }), st.layers.dense({ units: 4, name: 'hidden' }), st.layers.dense({ units: 2, name: 'out' })]);
    const lines: string[] = [];
    const text = m.summary({ print: (l) => lines.push(l) });
    assert.equal(lines.join('\n'), text);
    assert.match(text, /hidden \(Dense\)\s+\(None, 4\)\s+36/);
    assert.match(text, /out \(Dense\)\s+\(None, 2\)\s+10/);
    assert.match(text, /Total params: 46 \(184\.00 B\)/);
    assert.match(text, /Trainable params: 46/);
    assert.match(text, /Non-trainable params: 0/);
  });

  it('fits a classifier to held-out accuracy above 95% and reports history keys', async () => {
    st.setRandomSeed(7);
    const train = blobs(2000, 3, 1);
    const test = blobs(600, 3, 2);
    const m = new st.Sequential([
      st.layers.input({ shape: [4] }),
      st.layers.dense({ units: 16, activation: 'relu' }),
      st.layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = st.tensor(train.x, { shape: [2000, 4] });
    const y = st.tensor(train.y, { shape: [2000], dtype: 'int32' });
    const h = await m.fit(x, y, { epochs: 5, batchSize: 32, validationSplit: 0.2, verbose: 0 });
    assert.deepEqual(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    assert.equal(h.history.loss.length, 5);
    assert.ok(h.history.loss[4] < h.history.loss[0], `loss did not fall: ${h.history.loss}`);
    const pred = (await m.predict(st.tensor(test.x, { shape: [600, 4] }))) as st.Tensor;
    assert.deepEqual(pred.shape, [600, 3]);
    const acc = argmaxRows(pred).filter((c, i) => c === test.y[i]).length / 600;
    assert.ok(acc > 0.95, `test accuracy ${acc}`);
    const ev = (await m.evaluate(st.tensor(test.x, { shape: [600, 4] }), st.tensor(test.y, { dtype: 'int32' }), { verbose: 0 })) as number[];
    assert.equal(ev.length, 2);
    assert.ok(Math.abs(ev[1] - acc) < 1e-6, `evaluate accuracy ${ev[1]} vs predict ${acc}`);
  });

  it('accuracy in evaluate equals the fraction of argmax hits, and loss the mean cross-entropy', async () => {
    st.setRandomSeed(3);
    const d = blobs(70, 3, 5);
    const m = new st.Sequential([st.layers.input({ shape: [4] }), st.layers.dense({ units: 3, activation: 'softmax' })]);
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = st.tensor(d.x, { shape: [70, 4] });
    const p = (await m.predict(x)) as st.Tensor;
    const pd = p.dataSync();
    let ce = 0;
    for (let i = 0; i < 70; i++) ce -= Math.log(Math.max(pd[i * 3 + d.y[i]], 1e-7));
    const hits = argmaxRows(p).filter((c, i) => c === d.y[i]).length;
    const [loss, acc] = (await m.evaluate(x, st.tensor(d.y, { dtype: 'int32' }), { batchSize: 16 })) as number[];
    assert.ok(Math.abs(loss - ce / 70) < 1e-5, `loss ${loss} vs ${ce / 70}`);
    assert.ok(Math.abs(acc - hits / 70) < 1e-6, `accuracy ${acc} vs ${hits / 70}`);
  });

  it('one fit step equals the same SGD step written by hand with T ops', async () => {
    st.setRandomSeed(11);
    const d = blobs(16, 2, 9);
    const m = new st.Sequential([st.layers.input({ shape: [4] }), st.layers.dense({ units: 2 })]);
    m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
    const [w0, b0] = m.getWeights();
    const yOneHot = new Float32Array(32);
    d.y.forEach((c, i) => (yOneHot[i * 2 + c] = 1));
    await m.fit(st.tensor(d.x, { shape: [16, 4] }), st.tensor(yOneHot, { shape: [16, 2] }), { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    // by hand, in float64: pred = xW + b, loss = mean((pred - y)^2), grads, W -= 0.1 gW
    const W = Array.from(w0.dataSync());
    const B = Array.from(b0.dataSync());
    const gW = new Array(8).fill(0);
    const gB = [0, 0];
    for (let i = 0; i < 16; i++)
      for (let j = 0; j < 2; j++) {
        let p = B[j];
        for (let k = 0; k < 4; k++) p += d.x[i * 4 + k] * W[k * 2 + j];
        const g = (2 * (p - yOneHot[i * 2 + j])) / (16 * 2);
        gB[j] += g;
        for (let k = 0; k < 4; k++) gW[k * 2 + j] += g * d.x[i * 4 + k];
      }
    const [w1, b1] = m.getWeights();
    const W1 = w1.dataSync();
    const B1 = b1.dataSync();
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(W1[i] - (W[i] - 0.1 * gW[i])) < 1e-5, `W[${i}]`);
    for (let j = 0; j < 2; j++) assert.ok(Math.abs(B1[j] - (B[j] - 0.1 * gB[j])) < 1e-5, `b[${j}]`);
  });

  it('frozen layers keep their weights through fit', async () => {
    const d = blobs(64, 2, 4);
    const first = st.layers.dense({ units: 5, activation: 'tanh' });
    const m = new st.Sequential([st.layers.input({ shape: [4] }), first, st.layers.dense({ units: 2, activation: 'softmax' })]);
    first.trainable = false;
    const before = first.getWeights().map((t) => Array.from(t.dataSync()));
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    assert.equal(m.trainableWeights.length, 2);
    await m.fit(st.tensor(d.x, { shape: [64, 4] }), st.tensor(d.y, { dtype: 'int32' }), { epochs: 2, verbose: 0 });
    first.getWeights().forEach((t, i) => assert.deepEqual(Array.from(t.dataSync()), before[i]));
  });
});

describe('models: functional', () => {
  it('trains a model with two inputs, two outputs and a shared layer', async () => {
    st.setRandomSeed(5);
    const a = st.input({ shape: [4], name: 'a' });
    const b = st.input({ shape: [4], name: 'b' });
    const shared = st.layers.dense({ units: 8, activation: 'relu', name: 'shared' });
    const ha = shared.apply(a) as st.KerasTensor;
    const hb = shared.apply(b) as st.KerasTensor;
    const merged = st.layers.concatenate().apply([ha, hb]) as st.KerasTensor;
    const cls = st.layers.dense({ units: 3, activation: 'softmax', name: 'cls' }).apply(merged) as st.KerasTensor;
    const reg = st.layers.dense({ units: 1, name: 'reg' }).apply(merged) as st.KerasTensor;
    const m = st.model({ inputs: [a, b], outputs: [cls, reg] });
    assert.equal(m.countParams(), 4 * 8 + 8 + 16 * 3 + 3 + 16 + 1);
    m.compile({ optimizer: 'adam', loss: ['sparseCategoricalCrossentropy', 'meanSquaredError'], metrics: [['accuracy'], []], lossWeights: [1, 0.5] });
    const d = blobs(600, 3, 8);
    const xb = Float32Array.from(d.x, (v) => -v);
    const target = Float32Array.from(d.y, (c) => c * 0.5);
    const h = await m.fit([st.tensor(d.x, { shape: [600, 4] }), st.tensor(xb, { shape: [600, 4] })], [st.tensor(d.y, { dtype: 'int32' }), st.tensor(target, { shape: [600, 1] })], {
      epochs: 20,
      batchSize: 32,
      verbose: 0,
    });
    assert.deepEqual(Object.keys(h.history).sort(), ['cls_accuracy', 'cls_loss', 'loss', 'reg_loss']);
    const last = (k: string) => h.history[k][h.history[k].length - 1];
    assert.ok(Math.abs(last('loss') - (last('cls_loss') + 0.5 * last('reg_loss'))) < 1e-4, 'total loss is the weighted sum');
    assert.ok(last('cls_accuracy') > 0.9, `accuracy ${last('cls_accuracy')}`);
    assert.ok(last('reg_loss') < h.history.reg_loss[0]);
  });
});

describe('models: saving', () => {
  it('save → loadModel gives identical predictions and continues training exactly', async () => {
    st.setRandomSeed(21);
    const d = blobs(256, 3, 12);
    const x = st.tensor(d.x, { shape: [256, 4] });
    const y = st.tensor(d.y, { dtype: 'int32' });
    const make = () => {
      const m = new st.Sequential([
        st.layers.input({ shape: [4] }),
        st.layers.dense({ units: 8, activation: 'relu' }),
        st.layers.batchNormalization(),
        st.layers.dense({ units: 3, activation: 'softmax' }),
      ]);
      m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      return m;
    };
    const m = make();
    await m.fit(x, y, { epochs: 2, batchSize: 32, verbose: 0, seed: 1 });
    const dir = tmpDir();
    try {
      await m.save(dir);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'optimizer.safetensors', 'weights.safetensors']);
      const loaded = await st.loadModel(dir);
      const p1 = ((await m.predict(x)) as st.Tensor).dataSync();
      const p2 = ((await loaded.predict(x)) as st.Tensor).dataSync();
      assert.deepEqual(Array.from(p2), Array.from(p1));
      // the same third epoch on both: identical losses and weights
      const h1 = await m.fit(x, y, { epochs: 3, initialEpoch: 2, batchSize: 32, verbose: 0, seed: 1 });
      const h2 = await loaded.fit(x, y, { epochs: 3, initialEpoch: 2, batchSize: 32, verbose: 0, seed: 1 });
      assert.deepEqual(h2.history.loss, h1.history.loss);
      const w1 = m.getWeights().map((t) => Array.from(t.dataSync()));
      const w2 = loaded.getWeights().map((t) => Array.from(t.dataSync()));
      assert.deepEqual(w2, w1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a compiled model saved before any training loads and then trains exactly like the original', async () => {
    // the optimizer has no slots before the first step: they are saved as loading builds them
    st.setRandomSeed(5);
    const x = st.randomNormal([64, 4], { seed: 3 });
    const y = st.randomNormal([64, 2], { seed: 4 });
    const m = new st.Sequential([st.layers.input({ shape: [4] }), st.layers.dense({ units: 2 })]);
    m.compile({ optimizer: 'adam', loss: 'mse' });
    const dir = tmpDir();
    try {
      await m.save(dir);
      const loaded = await st.loadModel(dir);
      const h1 = await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, seed: 2 });
      const h2 = await loaded.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, seed: 2 });
      assert.deepEqual(h2.history.loss, h1.history.loss);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a functional model with shared layers round-trips through save/load', async () => {
    const a = st.input({ shape: [3], name: 'in_a' });
    const b = st.input({ shape: [3], name: 'in_b' });
    const sh = st.layers.dense({ units: 2, name: 'sh' });
    const out = st.layers.add().apply([sh.apply(a) as st.KerasTensor, sh.apply(b) as st.KerasTensor]) as st.KerasTensor;
    const m = st.model({ inputs: [a, b], outputs: out });
    const dir = tmpDir();
    try {
      await m.save(dir);
      const l = await st.loadModel(dir);
      const xa = st.tensor([[1, 2, 3]]);
      const xb = st.tensor([[0.5, -1, 2]]);
      assert.deepEqual(Array.from(((await l.predict([xa, xb])) as st.Tensor).dataSync()), Array.from(((await m.predict([xa, xb])) as st.Tensor).dataSync()));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loading a directory that is not a model, or weights that do not match, is a clear error and changes nothing', async () => {
    const dir = tmpDir();
    try {
      await assert.rejects(st.loadModel(dir), /not a saved symtensor model: it has no readable model\.json/);
      const m = new st.Sequential([st.layers.input({ shape: [3] }), st.layers.dense({ units: 2 })]);
      const other = new st.Sequential([st.layers.input({ shape: [4] }), st.layers.dense({ units: 2 })]);
      const file = path.join(dir, 'w.safetensors');
      await other.saveWeights(file);
      const before = m.getWeights().map((t) => Array.from(t.dataSync()));
      await assert.rejects(m.loadWeights(file), /does not match|is \[4, 2\]/);
      // a saved model whose weights file belongs to another model
      const md = path.join(dir, 'm');
      await m.save(md);
      fs.copyFileSync(file, path.join(md, 'weights.safetensors'));
      await assert.rejects(st.loadModel(md), /the saved config and weights disagree|\[4, 2\]/);
      assert.deepEqual(
        m.getWeights().map((t) => Array.from(t.dataSync())),
        before,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('models: bad input', () => {
  const m = new st.Sequential([st.layers.input({ shape: [4] }), st.layers.dense({ units: 3, activation: 'softmax', name: 'probs' })]);
  m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });

  it('x and y of different lengths', async () => {
    await assert.rejects(m.fit(st.zeros([10, 4]), st.zeros([9], 'int32'), { verbose: 0 }), (e: st.SymtensorError) => e.code === 'ERR_ST_SHAPE' && /10 samples/.test(e.message) && /9 samples/.test(e.message));
  });

  it('a wrong feature shape names the input and both shapes', async () => {
    await assert.rejects(m.fit(st.zeros([10, 5]), st.zeros([10], 'int32'), { verbose: 0 }), (e: st.SymtensorError) => /'input_layer' has shape \[10, ?5\]/.test(e.message) && /expects \[\?, ?4\]/.test(e.message));
  });

  it('sparse labels outside the classes name the label and the sample', async () => {
    const labels = st.tensor([0, 2, 3, 1], { dtype: 'int32' });
    await assert.rejects(m.fit(st.zeros([4, 4]), labels, { verbose: 0 }), (e: st.SymtensorError) => e.code === 'ERR_ST_VALUE' && /label 3 of sample 2 for output 'probs'/.test(e.message));
    await assert.rejects(m.evaluate(st.zeros([4, 4]), st.tensor([0, -1, 0, 0], { dtype: 'int32' })), /label -1 of sample 1/);
  });

  it('compile before the input shape is known', () => {
    const u = new st.Sequential([st.layers.dense({ units: 2 })]);
    assert.throws(() => u.compile({ optimizer: 'sgd', loss: 'mse' }), /input shape is unknown/);
  });

  it('an unknown optimizer, loss or metric name lists the valid ones', () => {
    const u = new st.Sequential([st.layers.input({ shape: [2] }), st.layers.dense({ units: 2 })]);
    assert.throws(() => u.compile({ optimizer: 'adamm', loss: 'mse' }), /adam/);
    assert.throws(() => u.compile({ optimizer: 'adam', loss: 'meanSquaredEror' }), /meanSquaredError/);
    assert.throws(() => u.compile({ optimizer: 'adam', loss: 'mse', metrics: ['acuracy'] }), /accuracy/);
  });

  it('terminateOnNaN stops fit at the batch whose loss is NaN', async () => {
    const u = new st.Sequential([st.layers.input({ shape: [2] }), st.layers.dense({ units: 1 })]);
    u.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = new Float32Array(40).fill(1);
    x[2 * 13] = NaN; // sample 13: batch 3 with batchSize 4
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    let batches = 0;
    try {
      await u.fit(st.tensor(x, { shape: [20, 2] }), st.zeros([20, 1]), { epochs: 3, batchSize: 4, shuffle: false, verbose: 0, callbacks: [st.callbacks.terminateOnNaN(), { onBatchEnd: () => void batches++ }] });
    } finally {
      console.log = log;
    }
    assert.equal(batches, 4);
    assert.ok(lines.some((l) => /Batch 3\b.*Invalid loss, terminating training/.test(l)), lines.join('\n'));
  });

  it('fit before compile', async () => {
    const u = new st.Sequential([st.layers.input({ shape: [4] }), st.layers.dense({ units: 1 })]);
    await assert.rejects(u.fit(st.zeros([2, 4]), st.zeros([2, 1]), { verbose: 0 }), /not compiled/);
  });

  it('a layer applied to an incompatible shape fails at build time naming the layer', () => {
    const x = st.input({ shape: [4, 4] });
    assert.throws(() => st.layers.dense({ units: 2, name: 'd1' }).apply(st.layers.concatenate({ axis: 1 }).apply([x, st.input({ shape: [5, 3] })]) as st.KerasTensor), /concatenate|d1/);
  });

  it('a failed fit leaves the weights as they were', async () => {
    const before = m.getWeights().map((t) => Array.from(t.dataSync()));
    const boom = { onBatchEnd: (b: number) => {
      if (b === 1) throw new Error('callback failed');
    } };
    await assert.rejects(m.fit(st.zeros([64, 4]).add(1), st.zeros([64], 'int32'), { verbose: 0, batchSize: 8, callbacks: [boom] }), /callback failed/);
    assert.deepEqual(
      m.getWeights().map((t) => Array.from(t.dataSync())),
      before,
    );
  });
});

describe('models: custom layers', () => {
  it('a subclass with addWeight and any T ops trains, and its gradient comes from the ops', async () => {
    class Scale extends st.layers.Layer {
      w!: st.SharedVariable;
      override build(shape: st.layers.Shape | st.layers.Shape[]) {
        const s = shape as st.layers.Shape;
        this.w = this.addWeight('w', [s[s.length - 1] as number], { initializer: 'ones' });
      }
      call(x: st.Variable | st.Variable[]) {
        return T.tanh((x as st.Variable).mul(this.w));
      }
    }
    const m = new st.Sequential([st.layers.input({ shape: [2] }), new Scale()]);
    m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.5 }), loss: 'meanSquaredError' });
    const x = st.tensor([[1, 1], [2, 2], [0.5, 0.5]]);
    const target = st.tensor([[0.5, -0.5], [0.8, -0.8], [0.3, -0.3]]);
    const first = (await m.evaluate(x, target)) as number;
    await m.fit(x, target, { epochs: 60, batchSize: 3, verbose: 0 });
    const last = (await m.evaluate(x, target)) as number;
    assert.ok(last < first / 10, `loss ${first} -> ${last}`);
    const w = m.getWeights()[0].dataSync();
    assert.ok(w[0] > 0 && w[1] < 0, `weights ${Array.from(w)}`);
  });
});
