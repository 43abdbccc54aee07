// `mpirun -np 2 symtensor train`: one model trained data-parallel.  Rank 0 alone writes the output
// folder; the result equals one process training with the same global batch; a rank killed
// mid-run stops the whole job (no hang), and --resume from rank 0's checkpoint then ends with the
// weights of an uninterrupted run.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as st from '../../lib/index';
import { MPIRUN, mpiUnavailable } from '../support/mpi';

const root = path.join(__dirname, '..', '..');
const main = path.join(root, 'lib', 'cli', 'main.ts');

/** `symtensor <args>` with `ranks` processes (1: a plain process), killed after `timeoutMs`. */
function cli(ranks: number, args: string[], env: Record<string, string> = {}, timeoutMs = 40_000) {
  const node = [process.execPath, '--import', 'tsx', main, ...args];
  const cmd = ranks > 1 ? [MPIRUN, '--allow-run-as-root', '--oversubscribe', '-np', String(ranks), ...node] : node;
  const t0 = Date.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, encoding: 'utf8', env: { ...process.env, SYMTENSOR_NUM_THREADS: '1', OMPI_MCA_btl_vader_single_copy_mechanism: 'none', ...env }, timeout: timeoutMs, killSignal: 'SIGTERM' });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
}

let tmp: string;
const dir = (...p: string[]) => path.join(tmp, ...p);

/** An mlp (from a module, so a test can make rank 1 die after a number of steps) on 192 generated images. */
const MODEL_MODULE = `
module.exports = ({ st, inputShape, numClasses }) => {
  const m = new st.Sequential([
    st.layers.input({ shape: inputShape }),
    st.layers.flatten(),
    st.layers.dense({ units: 16, activation: 'relu' }),
    st.layers.dense({ units: numClasses, activation: 'softmax' }),
  ]);
  const at = Number(process.env.KILL_RANK1_AT_STEP || 0);
  if (at && process.env.OMPI_COMM_WORLD_RANK === '1') {
    let steps = 0;
    const step = m.onBatch.bind(m);
    m.onBatch = async (...a) => {
      if (++steps === at) process.kill(process.pid, 'SIGKILL');
      return step(...a);
    };
  }
  return m;
};
`;

/**
 * The job: 172 training samples (the last global batch of 16 has 12) and 20 for validation.  SGD
 * by default: Adam divides by the root of tiny second moments, which turns float32 rounding (the
 * ranks sum gradients in another order) into visible differences after a few steps.
 */
const job = (out: string, extra: Record<string, unknown> = {}, optimizer = 'sgd') => ({
  model: { module: 'model.js' },
  data: { name: 'shapes', trainSize: 192, testSize: 40, seed: 5 },
  fit: { epochs: 2, batchSize: 16, validationSplit: 0.1, learningRate: 0.01, optimizer },
  out,
  seed: 11,
  threads: 1,
  metricsEvery: 4,
  ...extra,
});

/** The weights of a saved model, by name. */
async function weightsOf(modelDir: string): Promise<Record<string, number[]>> {
  const s = await st.loadSafetensors(path.join(modelDir, 'weights.safetensors'));
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(s.tensors)) {
    out[k] = Array.from(t.dataSync() as Float32Array);
    t.dispose();
  }
  return out;
}

function closeWeights(a: Record<string, number[]>, b: Record<string, number[]>, tol: number): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(b)) a[k].forEach((v, i) => assert.ok(Math.abs(v - b[k][i]) <= tol * Math.max(1, Math.abs(b[k][i])), `${k}[${i}]: ${v} vs ${b[k][i]}`));
}

const lines = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('symtensor train under MPI', function () {
  const why = mpiUnavailable();
  if (why) {
    console.log(`    (skipped: ${why})`);
    return;
  }
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'st-cli-dist-'));
    fs.writeFileSync(dir('model.js'), MODEL_MODULE);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('2 ranks: rank 0 alone writes the output folder, and the model equals one process with the same global batch', async () => {
    // each rank is given its own output folder, so any file a rank > 0 wrote would show
    fs.writeFileSync(dir('per-rank.js'), `module.exports = { ...${JSON.stringify(job(''))}, out: ${JSON.stringify(dir('pr'))} + process.env.OMPI_COMM_WORLD_RANK };`);
    fs.writeFileSync(dir('single.json'), JSON.stringify(job(dir('single'))));
    const two = cli(2, ['train', dir('per-rank.js'), '--quiet']);
    assert.equal(two.status, 0, two.stderr);
    assert.ok(!fs.existsSync(dir('pr1')), `rank 1 wrote ${dir('pr1')}`);
    assert.deepEqual(fs.readdirSync(dir('pr0')).sort(), ['job.json', 'metrics.jsonl', 'model', 'report.html']);
    const one = cli(1, ['train', dir('single.json'), '--quiet']);
    assert.equal(one.status, 0, one.stderr);
    closeWeights(await weightsOf(dir('pr0', 'model')), await weightsOf(dir('single', 'model')), 1e-5);
    // the logged metrics are the whole batch's, as one process logs them
    const a = lines(dir('pr0', 'metrics.jsonl'));
    const b = lines(dir('single', 'metrics.jsonl'));
    assert.deepEqual(a.map((l) => [l.kind, l.globalStep]), b.map((l) => [l.kind, l.globalStep]));
    a.forEach((l, i) => {
      for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) if (k in b[i]) assert.ok(Math.abs(l[k] - b[i][k]) <= 1e-5 * Math.max(1, Math.abs(b[i][k])), `line ${i} ${k}: ${l[k]} vs ${b[i][k]}`);
    });
  });

  it('a rank killed mid-run stops the job on every rank; --resume from rank 0\'s checkpoint ends with the uninterrupted weights', async () => {
    const ck = { checkpoint: { every: 4, unit: 'steps', keep: 2 } };
    // Adam: its state (moments, iteration count) must come back from the checkpoint too
    fs.writeFileSync(dir('full.json'), JSON.stringify(job(dir('full'), ck, 'adam')));
    fs.writeFileSync(dir('killed.json'), JSON.stringify(job(dir('killed'), ck, 'adam')));
    const full = cli(2, ['train', dir('full.json'), '--quiet']);
    assert.equal(full.status, 0, full.stderr);
    const killed = cli(2, ['train', dir('killed.json'), '--quiet'], { KILL_RANK1_AT_STEP: '14' });
    assert.notEqual(killed.status, 0, 'mpirun reports the failure');
    assert.equal(killed.signal, null, `mpirun itself ended by the test's timeout after ${killed.ms} ms: the job hung`);
    assert.ok(!fs.existsSync(dir('killed', 'model')), 'no final model from a killed run');
    const ckpts = fs.readdirSync(dir('killed', 'checkpoints')).filter((n) => n.startsWith('ckpt-'));
    assert.ok(ckpts.includes('ckpt-000000012'), `checkpoints: ${ckpts.join(', ')}`);
    const resumed = cli(2, ['train', dir('killed.json'), '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /resuming from .*ckpt-000000012 .*step 12\)/);
    assert.equal((resumed.stdout.match(/resuming from/g) ?? []).length, 1, 'rank 0 alone reports');
    closeWeights(await weightsOf(dir('killed', 'model')), await weightsOf(dir('full', 'model')), 0);
  });
});
