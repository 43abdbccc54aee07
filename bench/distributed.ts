// Data-parallel scaling under Open MPI: training steps per second of model.fit with 1 and 2 ranks
// (one compute thread each) for the Fashion-MNIST-sized MLP (784-512-512-10) and a small CNN, and
// the allreduce's share of a 2-rank step, estimated against the same per-rank work without it
// (one process running the per-rank batch); 2 ranks also with the reduction blocking after the
// backward pass and overlapped in small buckets.  Prints one JSON object.  Not a test.
//
//   npx tsx bench/distributed.ts                 # every case (about a minute on 2 cores)
//   npx tsx bench/distributed.ts --steps=20      # fewer timed steps
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;

type ModelKind = 'mlp' | 'cnn';

/** One rank's part: trains `steps` timed steps after a warm-up epoch and reports rank 0's rate. */
async function worker(kind: ModelKind, batchSize: number, steps: number, overlap: boolean, bucketBytes: number): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const st = require('../lib/index') as typeof import('../lib/index');
  const { init, worldRank, worldSize } = await import('../lib/tensor/distributed/index');
  init({ overlap, bucketBytes });
  st.setRandomSeed(1);
  const L = st.layers;
  const model =
    kind === 'mlp'
      ? new st.Sequential([L.input({ shape: [784] }), L.dense({ units: 512, activation: 'relu' }), L.dense({ units: 512, activation: 'relu' }), L.dense({ units: 10, activation: 'softmax' })])
      : new st.Sequential([
          L.input({ shape: [28, 28, 1] }),
          L.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
          L.maxPooling2d({ poolSize: 2 }),
          L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
          L.maxPooling2d({ poolSize: 2 }),
          L.flatten(),
          L.dense({ units: 128, activation: 'relu' }),
          L.dense({ units: 10, activation: 'softmax' }),
        ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const n = batchSize * steps;
  const x = st.randomUniform(kind === 'mlp' ? [n, 784] : [n, 28, 28, 1], { seed: 3 });
  const y = st.tensor(Int32Array.from({ length: n }, (_, i) => (i * 7) % 10), { dtype: 'int32' });
  await model.fit(x, y, { epochs: 1, batchSize, stepsPerEpoch: Math.min(3, steps), verbose: 0 }); // compile and warm up
  const t0 = performance.now();
  await model.fit(x, y, { epochs: 1, batchSize, verbose: 0 });
  const secs = (performance.now() - t0) / 1000;
  // the collective alone: one allreduce of as many floats as the model has trainable weights
  const { allreduce } = await import('../lib/tensor/distributed/index');
  const params = model.trainableWeights.reduce((a, w) => a + (w.type.shape as number[]).reduce((p, d) => p * d, 1), 0);
  const buf = st.zeros([params]);
  for (let i = 0; i < 3; i++) allreduce(buf).dispose();
  const t1 = performance.now();
  for (let i = 0; i < 10; i++) allreduce(buf).dispose();
  const allreduceMs = (performance.now() - t1) / 10;
  if (worldRank() === 0) console.log(JSON.stringify({ stepsPerSec: steps / secs, ranks: worldSize(), params, allreduceMs }));
}

/** Runs the worker for one case (under mpirun when ranks > 1) and returns what it measured. */
function measure(kind: ModelKind, ranks: number, batchSize: number, steps: number, overlap = true, bucketBytes = 25 * 2 ** 20): { stepsPerSec: number; params: number; allreduceMs: number } {
  const node = [process.execPath, '--import', 'tsx', path.join('bench', 'distributed.ts'), '--worker', `--kind=${kind}`, `--batch=${batchSize}`, `--steps=${steps}`, `--overlap=${overlap}`, `--bucket=${bucketBytes}`];
  const cmd = ranks > 1 ? ['mpirun', '--allow-run-as-root', '--oversubscribe', '-np', String(ranks), ...node] : node;
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, encoding: 'utf8', env: { ...process.env, SYMTENSOR_NUM_THREADS: '1', OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' }, timeout: 600_000 });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) throw new Error(`${kind} with ${ranks} ranks failed (status ${r.status}):\n${r.stderr}`);
  return JSON.parse(line) as { stepsPerSec: number; params: number; allreduceMs: number };
}

async function main(): Promise<void> {
  if (process.argv.includes('--worker'))
    return worker(arg('kind', 'mlp') as ModelKind, Number(arg('batch', '128')), Number(arg('steps', '40')), arg('overlap', 'true') === 'true', Number(arg('bucket', String(25 * 2 ** 20))));
  const steps = Number(arg('steps', '40'));
  const out: Record<string, unknown> = { threadsPerRank: 1, globalBatch: 128 };
  for (const kind of ['mlp', 'cnn'] as ModelKind[]) {
    const one = measure(kind, 1, 128, steps);
    const two = measure(kind, 2, 128, steps);
    // the gradient reduction blocking after the backward pass, and overlapped in 256 kB buckets
    const twoBlocking = measure(kind, 2, 128, steps, false);
    const twoSmall = measure(kind, 2, 128, steps, true, 2 ** 18);
    // the same per-rank work as a 2-rank step, without any collective
    const half = measure(kind, 1, 64, steps);
    out[kind] = {
      params: two.params,
      stepsPerSec1: round(one.stepsPerSec),
      stepsPerSec2: round(two.stepsPerSec),
      speedup: round(two.stepsPerSec / one.stepsPerSec),
      stepsPerSec2Blocking: round(twoBlocking.stepsPerSec),
      stepsPerSec2Buckets256k: round(twoSmall.stepsPerSec),
      perRankBatchStepsPerSec: round(half.stepsPerSec),
      // two estimates of the allreduce's share of a 2-rank step: the slowdown against the same
      // per-rank work alone (it also counts the ranks' contention for the cores), and the
      // gradient-sized allreduce timed by itself
      overheadShare: round(Math.max(0, 1 - two.stepsPerSec / half.stepsPerSec)),
      allreduceMs: round(two.allreduceMs),
      allreduceShare: round((two.allreduceMs / 1000) * two.stepsPerSec),
    };
  }
  console.log(JSON.stringify(out, null, 2));
}

const round = (v: number) => Math.round(v * 1000) / 1000;

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
