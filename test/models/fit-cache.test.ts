// fit, evaluate and predict keep their compiled steps on the model: a second call on data of the
// same layout builds and lowers nothing, runs on the new data, and trains exactly as a freshly
// compiled step would; compile() and trainable changes invalidate the cache.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { programCacheStats } from '../../lib/compile/programs';
import { clearStepCache } from '../../lib/models/loops';
import { rng } from '../support/rng';

/** n samples of 3 features and a noisy linear target. */
function data(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const r = rng(seed);
  const x = new Float32Array(n * 3);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) x[i * 3 + k] = 2 * r() - 1;
    y[i] = 0.5 * x[i * 3] - 1.5 * x[i * 3 + 1] + 0.25 * x[i * 3 + 2] + 0.3 + 0.1 * (r() - 0.5);
  }
  return { x, y };
}

function linearModel(seed: number, hidden = false): st.Sequential {
  st.setRandomSeed(seed);
  const m = new st.Sequential([
    st.layers.input({ shape: [3] }),
    ...(hidden ? [st.layers.dense({ units: 4, activation: 'tanh' })] : []),
    st.layers.dense({ units: 1 }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  return m;
}

const xt = (d: { x: Float32Array }, n: number) => st.tensor(d.x, { shape: [n, 3] });
const yt = (d: { y: Float32Array }, n: number) => st.tensor(d.y, { shape: [n, 1] });
const values = (m: st.Sequential) => m.getWeights().map((t) => Array.from(t.dataSync()));

/** Counter changes while `run` runs. */
async function counting(run: () => Promise<unknown>): Promise<{ functions: number; lowered: number }> {
  const s0 = { ...programCacheStats };
  await run();
  return { functions: programCacheStats.functions - s0.functions, lowered: programCacheStats.lowered - s0.lowered };
}

/** x·W + b of a one-layer linear model, in float64 from its weights. */
function linearOut(m: st.Sequential, x: Float32Array, n: number): number[] {
  const [w, b] = values(m);
  return Array.from({ length: n }, (_, i) => x[i * 3] * w[0] + x[i * 3 + 1] * w[1] + x[i * 3 + 2] * w[2] + b[0]);
}

describe('model step cache', () => {
  it('a second fit compiles nothing and trains exactly as a recompiled step', async () => {
    const d1 = data(40, 1), d2 = data(40, 2);
    const a = linearModel(7), b = linearModel(7);
    assert.deepEqual(values(a), values(b), 'same start');
    const opts = { epochs: 2, batchSize: 8, verbose: 0 as const, seed: 11 };
    await a.fit(xt(d1, 40), yt(d1, 40), opts);
    await b.fit(xt(d1, 40), yt(d1, 40), opts);
    const afterFirst = values(a);
    const cached = await counting(() => a.fit(xt(d2, 40), yt(d2, 40), opts));
    assert.deepEqual(cached, { functions: 0, lowered: 0 });
    clearStepCache(b);
    const fresh = await counting(() => b.fit(xt(d2, 40), yt(d2, 40), opts));
    assert.equal(fresh.functions, 1, 'the cleared cache compiles the training step again');
    assert.notDeepEqual(values(a), afterFirst, 'the second fit trained');
    // bit-identical: the cached step ran on the second data set, from the same optimizer state
    assert.deepEqual(values(a), values(b));
  });

  it('evaluate and predict reuse their steps on data of another size, and read the new data', async () => {
    const m = linearModel(3);
    const d1 = data(10, 4), d2 = data(23, 5);
    const first = await counting(async () => {
      const loss = (await m.evaluate(xt(d1, 10), yt(d1, 10), { batchSize: 4 })) as number;
      const ref = linearOut(m, d1.x, 10).reduce((s, p, i) => s + (p - d1.y[i]) ** 2, 0) / 10;
      assert.ok(Math.abs(loss - ref) <= 1e-5 * Math.max(1, ref), `evaluate ${loss} vs ${ref}`);
    });
    assert.equal(first.functions, 1);
    const second = await counting(async () => {
      const loss = (await m.evaluate(xt(d2, 23), yt(d2, 23), { batchSize: 4 })) as number;
      const ref = linearOut(m, d2.x, 23).reduce((s, p, i) => s + (p - d2.y[i]) ** 2, 0) / 23;
      assert.ok(Math.abs(loss - ref) <= 1e-5 * Math.max(1, ref), `evaluate ${loss} vs ${ref}`);
    });
    assert.equal(second.functions, 0, 'evaluate reused its step');
    await m.predict(xt(d1, 10), { batchSize: 5 });
    const again = await counting(async () => {
      const p = (await m.predict(xt(d2, 23), { batchSize: 5 })) as st.Tensor;
      const got = Array.from(p.dataSync());
      const ref = linearOut(m, d2.x, 23);
      assert.equal(got.length, 23);
      got.forEach((g, i) => assert.ok(Math.abs(g - ref[i]) <= 1e-5, `row ${i}: ${g} vs ${ref[i]}`));
    });
    assert.equal(again.functions, 0, 'predict reused its step');
  });

  it('compile() and trainable changes compile the step again', async () => {
    const m = linearModel(9, true);
    const d = data(16, 6);
    const opts = { epochs: 1, batchSize: 8, verbose: 0 as const, seed: 1 };
    await m.fit(xt(d, 16), yt(d, 16), opts);
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    assert.equal((await counting(() => m.fit(xt(d, 16), yt(d, 16), opts))).functions, 1, 'after compile()');
    const hidden = m.layers.find((l) => l.weights.length > 0)!;
    const before = hidden.getWeights().map((t) => Array.from(t.dataSync()));
    const outBefore = m.layers[m.layers.length - 1].getWeights().map((t) => Array.from(t.dataSync()));
    hidden.trainable = false;
    assert.equal((await counting(() => m.fit(xt(d, 16), yt(d, 16), opts))).functions, 1, 'after trainable = false');
    assert.deepEqual(hidden.getWeights().map((t) => Array.from(t.dataSync())), before, 'the frozen layer kept its weights');
    assert.notDeepEqual(m.layers[m.layers.length - 1].getWeights().map((t) => Array.from(t.dataSync())), outBefore, 'the last layer trained');
  });
});
