// Training on real data: Fashion-MNIST (Debian's dataset-fashion-mnist, full 60k/10k).  An MLP and
// a small CNN in Keras style must reach their test-accuracy targets within about a minute each.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as st from '../../lib/index';

const DIR = '/usr/share/datasets/fashion-mnist';
const present = fs.existsSync(`${DIR}/train-images-idx3-ubyte.gz`) || fs.existsSync(`${DIR}/train-images-idx3-ubyte`);

function accuracy(pred: st.Tensor, labels: st.Tensor): number {
  const [n, k] = pred.shape;
  const p = pred.dataSync();
  const y = labels.dataSync();
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + b]) b = j;
    if (b === y[i]) hits++;
  }
  return hits / n;
}

describe('models: Fashion-MNIST', function () {
  this.timeout(300_000);
  before(function () {
    if (!present) {
      console.log(`    (skipped: Fashion-MNIST not found in ${DIR}; install Debian's dataset-fashion-mnist)`);
      this.skip();
    }
  });

  it('an MLP reaches at least 87% test accuracy', async () => {
    st.setRandomSeed(1);
    const { train, test } = await st.data.loadFashionMnist({ flatten: true });
    const model = new st.Sequential([
      st.layers.input({ shape: [784] }),
      st.layers.dense({ units: 256, activation: 'relu' }),
      st.layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const t0 = Date.now();
    const h = await model.fit(train.x, train.y, { epochs: 6, batchSize: 64, verbose: 0 });
    const secs = (Date.now() - t0) / 1000;
    const acc = accuracy((await model.predict(test.x, { batchSize: 1000 })) as st.Tensor, test.y);
    console.log(`    MLP: ${secs.toFixed(1)} s of training, train accuracy ${h.history.accuracy.at(-1)!.toFixed(4)}, test accuracy ${acc.toFixed(4)}`);
    assert.ok(acc >= 0.87, `test accuracy ${acc}`);
  });

  it('a small CNN reaches at least 89% test accuracy', async () => {
    st.setRandomSeed(2);
    const { train, test } = await st.data.loadFashionMnist({ channels: true });
    const model = new st.Sequential([
      st.layers.input({ shape: [28, 28, 1] }),
      st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      st.layers.maxPooling2d({ poolSize: 2 }),
      st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      st.layers.maxPooling2d({ poolSize: 2 }),
      st.layers.flatten(),
      st.layers.dense({ units: 128, activation: 'relu' }),
      st.layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    // Adam with a cosine-decayed learning rate (evaluated inside the compiled step)
    const steps = 3 * Math.ceil(60000 / 64);
    const optimizer = st.optimizers.adam({ learningRate: st.schedules.cosineDecay({ initialLearningRate: 0.002, decaySteps: steps }) });
    model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const t0 = Date.now();
    await model.fit(train.x, train.y, { epochs: 3, batchSize: 64, verbose: 0 });
    const secs = (Date.now() - t0) / 1000;
    const acc = accuracy((await model.predict(test.x, { batchSize: 500 })) as st.Tensor, test.y);
    console.log(`    CNN: ${secs.toFixed(1)} s of training, test accuracy ${acc.toFixed(4)}`);
    assert.ok(acc >= 0.89, `test accuracy ${acc}`);
  });
});
