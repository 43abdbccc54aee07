// Data-parallel training under Open MPI: model.fit splits every global batch among the ranks and
// sums their gradients inside the compiled step, so N ranks train the same model as one process
// with the same global batch.
// Run: mpirun -np 2 npx tsx examples/distributed-mlp.ts      (or without mpirun: one process)
// Env: STEPS (default 200), BATCH (global batch, default 64), SAMPLES (default 2048),
//      WEIGHTS_OUT (a file rank 0 writes the final weights to, as JSON).
import * as fs from 'node:fs';
import * as st from 'symtensor';

/** A small deterministic generator (mulberry32), so every rank and every run sees the same data. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Points in 8 dimensions, labelled by which of 3 fixed directions they point along most. */
function makeData(n: number): { x: st.Tensor; y: st.Tensor } {
  const rand = generator(1234);
  const d = 8;
  const dirs = Array.from({ length: 3 }, () => Array.from({ length: d }, () => rand() * 2 - 1));
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) x[i * d + k] = rand() * 2 - 1;
    let best = 0;
    let bestV = -Infinity;
    dirs.forEach((w, c) => {
      const v = w.reduce((s, wk, k) => s + wk * x[i * d + k], 0);
      if (v > bestV) (bestV = v), (best = c);
    });
    y[i] = best;
  }
  return { x: st.tensor(x, { shape: [n, d] }), y: st.tensor(y, { dtype: 'int32' }) };
}

async function main() {
  const steps = Number(process.env.STEPS ?? 200);
  const batchSize = Number(process.env.BATCH ?? 64);
  const samples = Number(process.env.SAMPLES ?? 2048);
  st.distributed.init();
  const rank = st.distributed.rank;
  const size = st.distributed.size;

  st.setRandomSeed(42);
  const { x, y } = makeData(samples);
  const model = new st.Sequential([
    st.layers.input({ shape: [8] }),
    st.layers.dense({ units: 32, activation: 'relu' }),
    st.layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  // a fixed number of steps: whole epochs of at most `steps` batches each
  const perEpoch = Math.min(steps, Math.ceil(samples / batchSize));
  const epochs = Math.ceil(steps / perEpoch);
  // batchSize is the global batch: each of the `size` ranks runs batchSize / size samples a step
  const h = await model.fit(x, y, { epochs, batchSize, stepsPerEpoch: perEpoch, seed: 7, verbose: 0 });
  const loss = h.history.loss[h.history.loss.length - 1];
  const acc = h.history.accuracy[h.history.accuracy.length - 1];
  if (rank === 0) {
    console.log(`steps ${epochs * perEpoch}, accuracy ${(acc * 100).toFixed(1)}%`);
    console.log(`final loss ${loss}`);
    console.log(`ranks ${size}`);
    if (process.env.WEIGHTS_OUT) fs.writeFileSync(process.env.WEIGHTS_OUT, JSON.stringify(model.getWeights().map((w) => Array.from(w.dataSync() as Float32Array))));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
