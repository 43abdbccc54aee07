// Data-parallel model.fit under Open MPI: N ranks with a global batch B must train the model one
// process trains with batch B on the same data order (weights, logged loss and metrics, validation
// and evaluate), keep every rank identical, and refuse bad setups with the same error on every
// rank instead of hanging.  Each case runs a small script under mpirun (and alone, for the oracle).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mpiUnavailable, runMpi } from '../support/mpi';

/** What every script starts with (runMpi gives it `rank` and `emit`): the library and a way to report. */
const PRELUDE = `
const st = require('./lib/index');
const dist = require('./lib/tensor/distributed/index');
dist.init();
const report = (v) => emit({ rank: dist.worldRank(), size: dist.worldSize(), ...v });
const fail = (e) => report({ error: { code: e.code, message: e.message } });
`;

/** The data of the MLP case: 53 samples (the last global batch of 8 has 5: split 3 + 2). */
const DATA = `
const feats = 6, n = 53, nv = 20;
const gen = (count, off) => {
  const x = new Float32Array(count * feats), y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < feats; k++) x[i * feats + k] = Math.sin((i + off) * 0.7 + k * 1.3) + 0.1 * k;
    y[i] = ((i + off) * 5) % 3;
  }
  return [st.tensor(x, { shape: [count, feats] }), st.tensor(y, { dtype: 'int32' })];
};
const [x, y] = gen(n, 0);
const [vx, vy] = gen(nv, 1000);
const sw = st.tensor(Float32Array.from({ length: n }, (_, i) => 0.5 + (i % 4) * 0.25));
`;

const MLP = `${PRELUDE}${DATA}
(async () => {
  try {
    st.setRandomSeed(3);
    const model = new st.Sequential([
      st.layers.input({ shape: [feats] }),
      st.layers.dense({ units: 8, activation: 'relu' }),
      st.layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.02 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const epochs = [];
    const h = await model.fit(x, y, { epochs: 3, batchSize: 8, seed: 11, sampleWeight: sw, validationData: [vx, vy], verbose: 0,
      callbacks: [{ onEpochEnd: (e, logs) => epochs.push(logs) }] });
    const ev = await model.evaluate(vx, vy, { batchSize: 6, returnDict: true });
    // a custom training step: tools.optimizer sums the ranks' gradients
    st.setRandomSeed(4);
    const custom = new st.Sequential([st.layers.input({ shape: [feats] }), st.layers.dense({ units: 3, activation: 'softmax' })]);
    custom.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.3, momentum: 0.5 }), loss: 'sparseCategoricalCrossentropy',
      trainStep: ({ x, y }, tools) => {
        const loss = tools.computeLoss(y, tools.call(x));
        return { updates: tools.optimizer.getUpdates(loss, tools.trainableWeights), logs: { loss } };
      } });
    const hc = await custom.fit(x, y, { epochs: 2, batchSize: 8, seed: 2, verbose: 0 });
    report({ history: h.history, epochs, ev, weights: model.getWeights().map((w) => Array.from(w.dataSync())),
      custom: { history: hc.history, weights: custom.getWeights().map((w) => Array.from(w.dataSync())) } });
  } catch (e) { fail(e); }
})();
`;

/** Batch normalization right after the input: its moving statistics follow from the data alone. */
const BN = `${PRELUDE}
(async () => {
  try {
    const n = 32, feats = 4;
    const x = new Float32Array(n * feats);
    for (let i = 0; i < n; i++) for (let k = 0; k < feats; k++) x[i * feats + k] = Math.cos(i * 1.1 + k) * (k + 1) + (i % 5) * 0.3;
    const y = Int32Array.from({ length: n }, (_, i) => i % 3);
    st.setRandomSeed(5);
    const model = new st.Sequential([
      st.layers.input({ shape: [feats] }),
      st.layers.batchNormalization({ momentum: 0.5 }),
      st.layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await model.fit(st.tensor(x, { shape: [n, feats] }), st.tensor(y, { dtype: 'int32' }), { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    report({ weights: Object.fromEntries(model.weights.map((w) => [w.name, Array.from(w.get().dataSync())])) });
  } catch (e) { fail(e); }
})();
`;

const BAD_BATCH = `${PRELUDE}${DATA}
(async () => {
  try {
    const model = new st.Sequential([st.layers.input({ shape: [feats] }), st.layers.dense({ units: 3, activation: 'softmax' })]);
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const outcome = async (batchSize) => {
      try {
        await model.fit(x, y, { epochs: 1, batchSize, verbose: 0 });
        return { ok: true };
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    };
    // 7 does not split in 2; 4 does, but 53 samples leave a last batch of 1 for 2 ranks
    report({ odd: await outcome(7), tiny: await outcome(4), fine: await outcome(6) });
  } catch (e) { fail(e); }
})();
`;

/** Rank 1 builds a wider hidden layer than rank 0. */
const MISMATCH = `${PRELUDE}${DATA}
(async () => {
  try {
    const model = new st.Sequential([
      st.layers.input({ shape: [feats] }),
      st.layers.dense({ units: rank === 1 ? 9 : 8, activation: 'relu', name: 'hidden' }),
      st.layers.dense({ units: 3, activation: 'softmax', name: 'head' }),
    ]);
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    report({ ok: true });
  } catch (e) { fail(e); }
})();
`;

/**
 * Dropout under MPI: a custom step keeps the column sums of the dropout layer's output on ones
 * (its mask times 2) in a variable no collective touches, so each rank reports its own mask; a
 * dense model behind dropout must still end with the same weights on every rank.
 */
const DROPOUT = `${PRELUDE}
(async () => {
  try {
    const { T } = st;
    st.setRandomSeed(5);
    const drop = new st.Sequential([st.layers.input({ shape: [16] }), st.layers.dropout({ rate: 0.5 })]);
    const seen = st.shared(st.zeros([16]), 'seen');
    drop.compile({ optimizer: 'sgd', loss: 'meanSquaredError', trainStep: ({ x }, tools) => {
      const out = tools.call(x)[0];
      return { updates: [[seen, T.sum(out, 0)]], logs: { loss: T.mean(out) } };
    } });
    const ones = st.ones([8, 16]);
    await drop.fit(ones, ones, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    st.setRandomSeed(6);
    const net = new st.Sequential([st.layers.input({ shape: [16] }), st.layers.dropout({ rate: 0.5 }), st.layers.dense({ units: 2 })]);
    net.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const initial = net.getWeights().map((w) => Array.from(w.dataSync()));
    await net.fit(ones, st.ones([8, 2]), { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    report({ seen: Array.from(seen.get().dataSync()), initial, weights: net.getWeights().map((w) => Array.from(w.dataSync())) });
  } catch (e) { fail(e); }
})();
`;

interface Report {
  rank: number;
  size: number;
  error?: { code: string; message: string };
  history?: Record<string, number[]>;
  epochs?: Record<string, number>[];
  ev?: Record<string, number>;
  weights?: number[][] | Record<string, number[]>;
  seen?: number[];
  initial?: number[][];
  custom?: { history: Record<string, number[]>; weights: number[][] };
}

/** Runs `code` on `ranks` processes; returns each rank's report. */
function run(code: string, ranks: number): Report[] {
  const r = runMpi<Report>(ranks, code, { timeoutMs: 30_000 });
  r.results.forEach((v, k) => assert.ok(v !== undefined, `rank ${k} of ${ranks} reported nothing (exit ${r.status}, signal ${r.signal}):\n${r.stdout}\n${r.stderr}`));
  assert.equal(r.status, 0, `exit ${r.status}:\n${r.stderr}`);
  return r.results as Report[];
}

/** |a - b| <= tol * max(1, |b|) for every element (float32 sums taken in another order). */
function close(a: number[], b: number[], tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${v} vs ${b[i]}`));
}

describe('data-parallel fit under MPI', function () {
  const why = mpiUnavailable();
  if (why) {
    console.log(`    (skipped: ${why})`);
    return;
  }

  it('2 ranks with global batch 8 train the MLP one process trains with batch 8: weights, loss, metrics, validation, evaluate, a custom trainStep', () => {
    const [single] = run(MLP, 1);
    const two = run(MLP, 2);
    assert.equal(single.error, undefined, JSON.stringify(single.error));
    for (const r of two) assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(two[0].size, 2);
    // the ranks hold identical weights and logs
    assert.deepEqual(two[1].weights, two[0].weights);
    assert.deepEqual(two[1].history, two[0].history);
    assert.deepEqual(two[1].ev, two[0].ev);
    const w1 = single.weights as number[][];
    (two[0].weights as number[][]).forEach((w, i) => close(w, w1[i], 1e-5, `weight ${i}`));
    const keys = ['loss', 'accuracy', 'val_loss', 'val_accuracy'];
    assert.deepEqual(Object.keys(two[0].history!).sort(), keys.sort());
    for (const k of keys) close(two[0].history![k], single.history![k], 1e-5, k);
    for (const k of ['loss', 'accuracy']) close([two[0].ev![k]], [single.ev![k]], 1e-5, `evaluate ${k}`);
    // the logs the callbacks saw are the reduced ones, the same on both ranks
    assert.deepEqual(two[1].epochs, two[0].epochs);
    close(two[0].epochs!.map((l) => l.val_loss), single.history!.val_loss, 1e-5, 'callback val_loss');
    // the custom training step too
    assert.deepEqual(two[1].custom, two[0].custom);
    two[0].custom!.weights.forEach((w, i) => close(w, single.custom!.weights[i], 1e-5, `custom step weight ${i}`));
    close(two[0].custom!.history.loss, single.custom!.history.loss, 1e-5, 'custom step loss');
  });

  it('examples/distributed-mlp.ts on 2 ranks ends with the loss and weights of one process (global batch 32)', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'st-dist-example-'));
    try {
      const go = (np: number) => {
        const file = path.join(tmp, `weights-${np}.json`);
        const env = { TSX_TSCONFIG_PATH: path.join('test', 'examples', 'tsconfig.json'), STEPS: '24', BATCH: '32', SAMPLES: '384', WEIGHTS_OUT: file, SYMTENSOR_NUM_THREADS: '1' };
        const r = runMpi(np, "require('./examples/distributed-mlp.ts');", { env, timeoutMs: 40_000 });
        assert.equal(r.status, 0, r.stderr);
        const loss = Number(/final loss (\S+)/.exec(r.stdout)?.[1]);
        const ranks = Number(/ranks (\d+)/.exec(r.stdout)?.[1]);
        assert.equal((r.stdout.match(/final loss/g) ?? []).length, 1, `rank 0 alone prints:\n${r.stdout}`);
        return { loss, ranks, weights: JSON.parse(fs.readFileSync(file, 'utf8')) as number[][] };
      };
      const one = go(1);
      const two = go(2);
      assert.equal(one.ranks, 1);
      assert.equal(two.ranks, 2);
      assert.ok(Number.isFinite(one.loss) && one.loss > 0, `loss ${one.loss}`);
      close([two.loss], [one.loss], 1e-5, 'final loss');
      two.weights.forEach((w, i) => close(w, one.weights[i], 1e-5, `weight ${i}`));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('batch normalization: every rank ends with the same moving statistics, the mean of the ranks\' batch statistics', () => {
    const two = run(BN, 2);
    for (const r of two) assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.deepEqual(two[1].weights, two[0].weights);
    const w = two[0].weights as Record<string, number[]>;
    const mmKey = Object.keys(w).find((k) => /moving_mean/.test(k))!;
    const mvKey = Object.keys(w).find((k) => /moving_variance/.test(k))!;
    // oracle: the same data in float64; 4 steps of 8 rows, rank r takes rows [8t + 4r, 8t + 4r + 4)
    const n = 32, feats = 4, m = 0.5;
    const xv = (i: number, k: number) => Math.fround(Math.cos(i * 1.1 + k) * (k + 1) + (i % 5) * 0.3);
    const mm = new Array(feats).fill(0);
    const mv = new Array(feats).fill(1);
    for (let t = 0; t < n / 8; t++) {
      for (let k = 0; k < feats; k++) {
        let meanSum = 0, varSum = 0;
        for (let r = 0; r < 2; r++) {
          const rows = [0, 1, 2, 3].map((j) => xv(8 * t + 4 * r + j, k));
          const mean = rows.reduce((a, b) => a + b, 0) / 4;
          meanSum += mean;
          varSum += rows.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
        }
        mm[k] = mm[k] * m + (meanSum / 2) * (1 - m);
        mv[k] = mv[k] * m + (varSum / 2) * (1 - m);
      }
    }
    close(w[mmKey], mm, 1e-5, 'moving mean');
    close(w[mvKey], mv, 1e-5, 'moving variance');
  });

  it('a global batch that does not divide among the ranks, or a last batch smaller than the ranks: the same error on every rank', () => {
    const two = run(BAD_BATCH, 2) as (Report & Record<'odd' | 'tiny' | 'fine', { ok?: boolean; code?: string; message?: string }>)[];
    for (const r of two) {
      assert.equal(r.odd.code, 'ERR_ST_ARG', JSON.stringify(r));
      assert.match(r.odd.message!, /batchSize 7 is the global batch under MPI and must divide evenly among the 2 ranks/);
      assert.equal(r.tiny.code, 'ERR_ST_ARG', JSON.stringify(r));
      assert.match(r.tiny.message!, /last batch of each epoch has 1 sample, fewer than the 2 ranks \(53 training samples, batchSize 4\)/);
      // 53 = 8 * 6 + 5: a last batch of 5 splits 3 + 2
      assert.deepEqual(r.fine, { ok: true });
    }
  });

  it('dropout draws a different mask on each rank, from the same initial weights, and the ranks still end with the same weights', () => {
    const two = run(DROPOUT, 2);
    for (const r of two) assert.equal(r.error, undefined, JSON.stringify(r.error));
    // each rank's share is 4 rows of ones: a column sum of the mask (0 or 2 per row) is 0, 2, 4, 6 or 8
    for (const r of two) {
      assert.equal(r.seen!.length, 16);
      for (const v of r.seen!) assert.ok([0, 2, 4, 6, 8].includes(v), `column sum ${v} on rank ${r.rank}`);
    }
    assert.notDeepEqual(two[1].seen, two[0].seen, 'the ranks drew the same dropout mask');
    assert.deepEqual(two[1].initial, two[0].initial, 'weight initialization is the same on every rank');
    assert.deepEqual(two[1].weights, two[0].weights);
    assert.notDeepEqual(two[0].weights, two[0].initial, 'the model trained');
  });

  it('ranks that built different models: every rank throws, naming the rank and the variable with both shapes, without hanging', () => {
    const two = run(MISMATCH, 2);
    for (const r of two) {
      assert.equal(r.error?.code, 'ERR_ST_SHAPE', JSON.stringify(r));
      assert.match(r.error!.message, /'hidden\/kernel' \[6, 9\] on rank 1 but 'hidden\/kernel' \[6, 8\] on rank 0/);
    }
    assert.equal(two[0].error!.message, two[1].error!.message);
  });
});
