// Keras's parts on their own (layers on T variables, losses and metrics as functions, optimizer
// updates for any graph, initializers directly) and custom training steps inside fit.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { rng } from '../support/rng';

const { T } = st;

function data(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = rng(seed);
  const x = new Float32Array(n * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) x[i * 3 + k] = r() * 2 - 1;
    y[i] = x[i * 3] + 0.5 * x[i * 3 + 1] > 0 ? 1 : 0;
  }
  return { x, y };
}

describe('models: parts on their own', () => {
  it('a Theano-style script from dense.apply, st.losses and adam().getUpdates follows the same loss curve as Sequential', async () => {
    const d = data(64, 1);
    const x = st.tensor(d.x, { shape: [64, 3] });
    const y = st.tensor(d.y, { dtype: 'int32' });
    // the script
    st.setRandomSeed(9);
    const d1 = st.layers.dense({ units: 8, activation: 'tanh' });
    const d2 = st.layers.dense({ units: 2, activation: 'softmax' });
    const X = T.tensor('float32', [null, 3], 'X');
    const Y = T.ivector('Y');
    const probs = d2.apply(d1.apply(X) as st.Variable) as st.Variable;
    const cost = T.mean(st.losses.sparseCategoricalCrossentropy(Y, probs));
    const params = [...d1.trainableWeights, ...d2.trainableWeights];
    const step = st.fn([X, Y], cost, { updates: st.optimizers.adam({ learningRate: 0.05 }).getUpdates(cost, params) });
    const scriptLosses: number[] = [];
    for (let i = 0; i < 8; i++) scriptLosses.push((await step(x, y)).item() as number);
    // the model, with the same seed (the same initial weights)
    st.setRandomSeed(9);
    const m = new st.Sequential([st.layers.input({ shape: [3] }), st.layers.dense({ units: 8, activation: 'tanh' }), st.layers.dense({ units: 2, activation: 'softmax' })]);
    m.compile({ optimizer: st.optimizers.adam({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
    const modelLosses: number[] = [];
    for (let i = 0; i < 8; i++) modelLosses.push((await m.trainOnBatch(x, y)) as number);
    modelLosses.forEach((l, i) => assert.ok(Math.abs(l - scriptLosses[i]) < 1e-5, `step ${i}: model ${l} vs script ${scriptLosses[i]}`));
    assert.ok(scriptLosses[7] < scriptLosses[0]);
  });

  it('losses and metrics are symbolic functions of T variables', () => {
    const yT = T.tensor('float32', [null, 2], 'yT');
    const yP = T.tensor('float32', [null, 2], 'yP');
    const f = st.fn([yT, yP], [st.losses.categoricalCrossentropy(yT, yP), st.metrics.accuracy(yT, yP)]);
    const [ce, acc] = f.sync([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]]);
    const ceD = ce.dataSync();
    assert.ok(Math.abs(ceD[0] + Math.log(0.8)) < 1e-6 && Math.abs(ceD[1] + Math.log(0.3)) < 1e-6, `cross-entropy ${Array.from(ceD)}`);
    assert.deepEqual(Array.from(acc.dataSync()), [1, 0]);
    const labels = T.ivector('labels');
    const g = st.fn([labels, yP], st.metrics.accuracy(labels, yP));
    assert.deepEqual(Array.from(g.sync(new Int32Array([1, 1]), [[0.2, 0.8], [0.3, 0.7]]).dataSync()), [1, 1]);
  });

  it('initializers apply directly, seeded', () => {
    const a = st.initializers.heNormal().apply([784, 512], { seed: 3 });
    const b = st.initializers.heNormal().apply([784, 512], { seed: 3 });
    assert.deepEqual(a.shape, [784, 512]);
    assert.deepEqual(Array.from(a.dataSync().slice(0, 50)), Array.from(b.dataSync().slice(0, 50)));
    const v = a.dataSync();
    let ss = 0;
    for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
    const std = Math.sqrt(ss / v.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / 784)) < 0.05 * Math.sqrt(2 / 784), `std ${std}`);
  });

  it('input gradients of a model (saliency) match finite differences', () => {
    st.setRandomSeed(4);
    const m = new st.Sequential([st.layers.input({ shape: [3] }), st.layers.dense({ units: 5, activation: 'tanh', dtype: 'float64' }), st.layers.dense({ units: 2, dtype: 'float64' })]);
    const X = T.tensor('float64', [null, 3], 'X');
    const out = m.apply(X) as st.Variable;
    const score = T.sum(out.get([null, 1]));
    const saliency = st.fn([X], st.grad(score, X));
    const f = st.fn([X], score);
    const x0 = [[0.3, -0.2, 0.5]];
    const g = saliency.sync(st.tensor(x0, { dtype: 'float64' })).dataSync();
    for (let k = 0; k < 3; k++) {
      const h = 1e-6;
      const xp = x0.map((r) => r.slice());
      const xm = x0.map((r) => r.slice());
      xp[0][k] += h;
      xm[0][k] -= h;
      const fd = ((f.sync(st.tensor(xp, { dtype: 'float64' })).item() as number) - (f.sync(st.tensor(xm, { dtype: 'float64' })).item() as number)) / (2 * h);
      assert.ok(Math.abs(g[k] - fd) < 1e-7, `d/dx${k}: ${g[k]} vs ${fd}`);
    }
  });
});

describe('models: custom training steps', () => {
  it('a trainStep with a gradient penalty trains inside fit and logs its extra value', async () => {
    st.setRandomSeed(6);
    const d = data(256, 2);
    const m = new st.Sequential([st.layers.input({ shape: [3] }), st.layers.dense({ units: 8, activation: 'relu' }), st.layers.dense({ units: 2, activation: 'softmax' })]);
    const lambda = 0.1;
    m.compile({
      optimizer: st.optimizers.adam({ learningRate: 0.02 }),
      loss: 'sparseCategoricalCrossentropy',
      trainStep: ({ x, y }, tools) => {
        const [p] = tools.call(x);
        const loss = tools.computeLoss(y, [p]);
        // penalty on the squared input-gradient norm of the loss
        const gx = st.grad(loss, x[0]);
        const penalty = T.sum(T.square(gx)).mul(lambda);
        const total = loss.add(penalty);
        return { updates: tools.optimizer.getUpdates(total, tools.trainableWeights), logs: { loss, penalty } };
      },
    });
    const h = await m.fit(st.tensor(d.x, { shape: [256, 3] }), st.tensor(d.y, { dtype: 'int32' }), { epochs: 10, batchSize: 32, verbose: 0 });
    assert.deepEqual(Object.keys(h.history).sort(), ['loss', 'penalty']);
    assert.ok(h.history.penalty.every((v) => v > 0 && Number.isFinite(v)));
    assert.ok(h.history.loss[9] < h.history.loss[0] * 0.8, `loss ${h.history.loss}`);
  });

  it('a GAN-style step with two optimizers updates only the weights each is given', async () => {
    st.setRandomSeed(8);
    const inp = st.input({ shape: [2] });
    const gen = st.layers.dense({ units: 2, name: 'gen' });
    const disc = st.layers.dense({ units: 1, activation: 'sigmoid', name: 'disc' });
    const m = st.model({ inputs: inp, outputs: disc.apply(gen.apply(inp) as st.KerasTensor) as st.KerasTensor });
    const genOpt = st.optimizers.sgd({ learningRate: 0.1 });
    const discOpt = st.optimizers.adam({ learningRate: 0.01 });
    m.compile({
      optimizer: discOpt,
      loss: 'binaryCrossentropy',
      trainStep: ({ x, y }, tools) => {
        const [p] = tools.call(x);
        const discLoss = tools.computeLoss(y, [p]);
        const genLoss = T.mean(T.log(p.add(1e-7))).neg();
        return {
          updates: [...discOpt.getUpdates(discLoss, disc.trainableWeights), ...genOpt.getUpdates(genLoss, gen.trainableWeights)],
          logs: { discLoss, genLoss },
        };
      },
    });
    const genBefore = gen.getWeights().map((t) => Array.from(t.dataSync()));
    const discBefore = disc.getWeights().map((t) => Array.from(t.dataSync()));
    await m.fit([[1, 0], [0, 1], [1, 1], [0.5, -1]], [[1], [0], [1], [0]], { epochs: 1, batchSize: 4, verbose: 0 });
    // each optimizer holds state only for its own weights and advanced once
    const names = (o: { variables(): st.SharedVariable[] }) => o.variables().map((v) => v.name);
    assert.ok(names(discOpt).some((n) => n?.includes('disc/kernel')) && !names(discOpt).some((n) => n?.includes('gen/')), `adam state: ${names(discOpt)}`);
    assert.ok(!names(genOpt).some((n) => n?.includes('disc/')), `sgd state: ${names(genOpt)}`);
    assert.equal(discOpt.iterations.get().item(), 1);
    assert.equal(genOpt.iterations.get().item(), 1);
    // both sets moved (each by its own optimizer)
    assert.notDeepEqual(gen.getWeights().map((t) => Array.from(t.dataSync())), genBefore);
    assert.notDeepEqual(disc.getWeights().map((t) => Array.from(t.dataSync())), discBefore);
  });

  it('a Model subclass with a trainStep method is driven by fit', async () => {
    class Doubled extends st.Model {
      trainStep(data: { x: st.Variable[]; y: st.Variable[] }, tools: { call(x: st.Variable[]): st.Variable[]; computeLoss(y: st.Variable[], p: st.Variable[]): st.Variable; optimizer: { getUpdates(c: st.Variable, p: st.SharedVariable[]): [st.SharedVariable, st.Variable][] }; trainableWeights: st.SharedVariable[] }) {
        const loss = tools.computeLoss(data.y, tools.call(data.x)).mul(2);
        return { updates: tools.optimizer.getUpdates(loss, tools.trainableWeights), logs: { doubled: loss } };
      }
    }
    const i = st.input({ shape: [1] });
    const m = new Doubled({ inputs: i, outputs: st.layers.dense({ units: 1 }).apply(i) as st.KerasTensor });
    m.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.05 }), loss: 'mse' });
    const xs = [[0], [1], [2], [3]];
    const ys = [[1], [3], [5], [7]];
    const h = await m.fit(xs, ys, { epochs: 200, batchSize: 4, verbose: 0 });
    assert.deepEqual(Object.keys(h.history), ['doubled']);
    assert.ok(h.history.doubled[199] < 1e-3, `final ${h.history.doubled[199]}`);
    const [w, b] = m.getWeights().map((t) => t.dataSync()[0]);
    assert.ok(Math.abs(w - 2) < 0.05 && Math.abs(b - 1) < 0.1, `w ${w}, b ${b}`);
  });
});
