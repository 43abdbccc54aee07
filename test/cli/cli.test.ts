// The command line end to end: every test spawns the real program (the TypeScript source through
// tsx, and the compiled dist/ build when it exists) and checks its exit code, its output and the
// files it writes.
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as st from '../../lib/index';

const root = path.join(__dirname, '..', '..');
const main = path.join(root, 'lib', 'cli', 'main.ts');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Run>; out: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, env: { ...process.env, SYMTENSOR_NUM_THREADS: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, out: () => stdout };
}

const cli = (...args: string[]) => start(args).done;

let tmp: string;
const dir = (...p: string[]) => path.join(tmp, ...p);

function writeJob(name: string, job: unknown): string {
  const f = dir(name);
  fs.writeFileSync(f, typeof job === 'string' ? job : JSON.stringify(job));
  return f;
}

/** A small, fast job: an mlp on 480 generated images, 15 steps per epoch. */
const tinyJob = (out: string, extra: Record<string, unknown> = {}) => ({
  model: { builtin: 'mlp', units: [32] },
  data: { name: 'shapes', trainSize: 480, testSize: 200, seed: 5 },
  fit: { epochs: 3, batchSize: 32, validationSplit: 0, learningRate: 0.01 },
  out,
  seed: 11,
  threads: 1,
  metricsEvery: 5,
  ...extra,
});

const readLines = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

async function waitFor(cond: () => boolean, what: string, ms = 30000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ckpts = (out: string) => (fs.existsSync(path.join(out, 'checkpoints')) ? fs.readdirSync(path.join(out, 'checkpoints')).filter((n) => /^ckpt-\d+$/.test(n)).sort() : []);

describe('cli: symtensor', function () {
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'symtensor-cli-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('train --help documents the flags, the job file keys and the exit codes', async () => {
    const r = await cli('train', '--help');
    assert.equal(r.code, 0, r.stderr);
    for (const s of ['--epochs', '--batch-size', '--lr', '--out', '--seed', '--threads', '--checkpoint-every', '--resume', '"model"', '"data"', '"fit"', '"checkpoint"', 'Exit codes', '130', '143'])
      assert.ok(r.stdout.includes(s), `help lacks ${s}`);
  });

  it('the built-in job trains a cnn on generated shapes to >= 95% test accuracy and says where it wrote', async () => {
    const out = dir('main-job');
    const r = await cli('train', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const test = readLines(path.join(out, 'metrics.jsonl')).filter((l) => l.kind === 'test');
    assert.equal(test.length, 1);
    assert.ok(test[0].accuracy >= 0.95, `test accuracy ${test[0].accuracy}`);
    assert.match(r.stdout, new RegExp(`model: +${path.join(out, 'model').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(r.stdout, /report: +.*report\.html/);
    for (const f of ['model.json', 'weights.safetensors', 'optimizer.safetensors']) assert.ok(fs.existsSync(path.join(out, 'model', f)), f);
  });

  describe('a tiny job, then evaluate, predict and summary on its model', () => {
    let out: string;
    before(async () => {
      out = dir('tiny');
      const r = await cli('train', writeJob('tiny.json', tinyJob(out)), '--quiet');
      assert.equal(r.code, 0, r.stderr);
    });

    it('metrics.jsonl has one line per epoch and one per 5 steps, with the step counts', () => {
      const lines = readLines(path.join(out, 'metrics.jsonl'));
      assert.deepEqual(lines.filter((l) => l.kind === 'epoch').map((l) => [l.epoch, l.globalStep]), [[1, 15], [2, 30], [3, 45]]);
      assert.deepEqual(lines.filter((l) => l.kind === 'step').map((l) => l.globalStep), [5, 10, 15, 20, 25, 30, 35, 40, 45]);
      for (const l of lines.filter((x) => x.kind !== 'test')) assert.ok(Number.isFinite(l.loss) && l.accuracy >= 0 && l.accuracy <= 1);
    });

    it('evaluate reports the accuracy that predict\'s classes give on the same test images', async () => {
      const ev = await cli('evaluate', out, '--data', 'shapes', '--json');
      assert.equal(ev.code, 0, ev.stderr);
      const e = JSON.parse(ev.stdout);
      assert.equal(e.samples, 1000); // evaluate --data shapes uses the default generated test split
      // the same images, generated here and written as .npy, through predict
      const { test } = st.data.shapes({ flatten: true });
      const npy = dir('test-x.npy');
      await st.data.writeNpy(npy, test.x);
      const pr = await cli('predict', out, '--input', npy);
      assert.equal(pr.code, 0, pr.stderr);
      const rows = pr.stdout.trim().split('\n');
      assert.equal(rows.length, 1000);
      const labels = test.y.dataSync();
      let right = 0;
      rows.forEach((row, i) => {
        const [cls, p] = row.split('\t').map(Number);
        assert.ok(Number.isInteger(cls) && cls >= 0 && cls < 8 && p > 0 && p <= 1, row);
        if (cls === labels[i]) right++;
      });
      assert.ok(Math.abs(e.accuracy - right / 1000) < 1e-6, `evaluate ${e.accuracy} vs predict ${right / 1000}`);
    });

    it('predict --output writes the probabilities as .npy, rows summing to 1', async () => {
      const x = st.data.shapes({ trainSize: 1, testSize: 7, seed: 9, flatten: true }).test.x;
      const input = dir('seven.npy');
      await st.data.writeNpy(input, x);
      const outFile = dir('probs.npy');
      const r = await cli('predict', out, '--input', input, '--output', outFile);
      assert.equal(r.code, 0, r.stderr);
      const p = await st.data.readNpy(outFile);
      assert.deepEqual(p.shape, [7, 8]);
      const v = p.dataSync();
      for (let i = 0; i < 7; i++) {
        let s = 0;
        for (let k = 0; k < 8; k++) s += v[i * 8 + k];
        assert.ok(Math.abs(s - 1) < 1e-5, `row ${i} sums to ${s}`);
      }
    });

    it('summary lists the layers and the parameter count of a 784-32-8 mlp', async () => {
      const r = await cli('summary', out);
      assert.equal(r.code, 0, r.stderr);
      const params = 784 * 32 + 32 + 32 * 8 + 8;
      assert.match(r.stdout, new RegExp(`Total params: ${params.toLocaleString('en-US')}`));
      assert.match(r.stdout, /Dense/);
      assert.match(r.stdout, /Optimizer: .*Adam/);
    });

    it('report.html draws each epoch metric with one point per epoch at its value', () => {
      const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
      assert.ok(!/<script|https?:\/\/(?!www\.w3\.org)/.test(html), 'the page must be self-contained');
      const epochs = readLines(path.join(out, 'metrics.jsonl')).filter((l) => l.kind === 'epoch');
      for (const m of ['loss', 'accuracy']) {
        const svg = html.match(new RegExp(`<svg[^>]*data-title="${m} by epoch"[\\s\\S]*?</svg>`));
        assert.ok(svg, `no chart for ${m}`);
        const g = svg[0].match(new RegExp(`<g class="series" data-series="${m}">([\\s\\S]*?)</g>`));
        assert.ok(g, `no series ${m}`);
        const pts = [...g[1].matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*data-x="([^"]+)" data-y="([^"]+)"/g)];
        assert.equal(pts.length, epochs.length);
        const attr = (k: string) => Number(svg[0].match(new RegExp(`data-${k}="([^"]+)"`))![1]);
        const [y0, y1] = [attr('y0'), attr('y1')];
        pts.forEach((p, i) => {
          assert.equal(Number(p[3]), epochs[i].epoch);
          assert.equal(Number(p[4]), epochs[i][m]);
          // the plot area spans y = 260 (value y0) up to y = 30 (value y1)
          const want = 260 - ((epochs[i][m] - y0) / (y1 - y0)) * 230;
          assert.ok(Math.abs(Number(p[2]) - want) < 0.01, `${m}[${i}] at y=${p[2]}, expected ${want}`);
        });
        const poly = g[1].match(/<polyline[^>]*points="([^"]+)"/)!;
        assert.equal(poly[1].trim().split(/\s+/).length, epochs.length);
      }
      assert.match(html, /Total params/);
      assert.match(html, /&quot;gemm&quot;: &quot;/);
    });
  });

  it('info prints the backend, the thread count asked for and the versions', async () => {
    const r = await cli('info', '--threads', '1', '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.threads, 1);
    assert.equal(j.symtensor, JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    assert.equal(j.node, process.versions.node);
  });

  describe('bad input: a clear message, a non-zero exit, no model written', () => {
    it('unknown keys and wrong types name their key paths (exit 2)', async () => {
      const out = dir('bad-keys');
      const f = writeJob('bad.json', { ...tinyJob(out), fit: { epochz: 3, batchSize: 'big' }, extra: true });
      const r = await cli('train', f);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /invalid job file/);
      assert.match(r.stderr, /fit\.epochz: unknown key/);
      assert.match(r.stderr, /fit\.batchSize: .*expected number/i);
      assert.match(r.stderr, /extra: unknown key/);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace without --verbose');
      assert.ok(!fs.existsSync(out));
    });

    it('a job file that is not JSON, and bad flags, are usage errors (exit 2)', async () => {
      assert.equal((await cli('train', writeJob('broken.json', '{ "model": '))).code, 2);
      const r = await cli('train', '--epochs', '0');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--epochs.*positive integer/);
      assert.equal((await cli('frobnicate')).code, 2);
    });

    it('missing data files fail with their path (exit 1)', async () => {
      const out = dir('no-data');
      const f = writeJob('nodata.json', { ...tinyJob(out), data: { name: 'files', train: { x: 'nowhere/x.npy', y: 'nowhere/y.npy' } } });
      const r = await cli('train', f);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(path.join(tmp, 'nowhere', 'x.npy')), r.stderr);
      assert.ok(!fs.existsSync(out));
    });

    it('an output directory that cannot be written fails before training (exit 1)', async () => {
      const ro = dir('read-only');
      fs.mkdirSync(ro);
      fs.chmodSync(ro, 0o555);
      let out = path.join(ro, 'run');
      let writable = true;
      try {
        fs.mkdirSync(out);
        fs.rmdirSync(out);
      } catch {
        writable = false;
      }
      // root ignores permission bits: use a folder of sysfs, which nobody can create files in
      if (writable) out = path.join('/sys', `symtensor-cli-test-${process.pid}`);
      const r = await cli('train', writeJob('ro.json', tinyJob(out)));
      fs.chmodSync(ro, 0o755);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot write to the output directory/);
      assert.ok(!fs.existsSync(path.join(out, 'model')));
    });
  });

  describe('checkpoints', () => {
    let reference: string;
    before(async () => {
      reference = dir('ref');
      const r = await cli('train', writeJob('ref.json', tinyJob(reference)), '--quiet');
      assert.equal(r.code, 0, r.stderr);
    });

    const sameWeights = (a: string, b: string) => {
      for (const f of ['weights.safetensors', 'optimizer.safetensors']) {
        assert.ok(fs.readFileSync(path.join(a, 'model', f)).equals(fs.readFileSync(path.join(b, 'model', f))), `${f} differs from the uninterrupted run`);
      }
    };

    it('SIGKILL mid-epoch, a corrupt newest checkpoint, --resume: the same weights bit for bit', async () => {
      const out = dir('killed');
      const job = writeJob('killed.json', tinyJob(out, { checkpoint: { every: 4, unit: 'steps', keep: 3 } }));
      const run = start(['train', job, '--quiet', '--step-delay', '40']);
      // kill once the checkpoint after step 24 (epoch 2, batch 9) exists
      await waitFor(() => ckpts(out).some((n) => Number(n.slice(5)) >= 24), 'a checkpoint at step 24');
      run.child.kill('SIGKILL');
      const killed = await run.done;
      assert.equal(killed.signal, 'SIGKILL');
      assert.ok(!fs.existsSync(path.join(out, 'model')), 'no final model from a killed run');
      const names = ckpts(out);
      // keep 3, plus possibly the newest when the kill landed between its rename and the pruning
      assert.ok(names.length >= 3 && names.length <= 4, `kept ${names.join(', ')}`);
      // damage the newest: it must be skipped with a warning, and the one before it used
      const newest = path.join(out, 'checkpoints', names[names.length - 1]);
      const wf = path.join(newest, 'weights.safetensors');
      fs.truncateSync(wf, fs.statSync(wf).size - 10);
      const prev = JSON.parse(fs.readFileSync(path.join(out, 'checkpoints', names[names.length - 2], 'position.json'), 'utf8'));
      assert.ok(prev.batch > 0 && prev.batch < 15, `checkpoint used is mid-epoch (batch ${prev.batch})`);
      const r = await cli('train', job, '--resume');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`skipping checkpoint .*${names[names.length - 1]}.*(truncated|checksum)`));
      assert.match(r.stdout, new RegExp(`resuming from .*step ${prev.globalStep}\\)`));
      sameWeights(out, reference);
      // metrics.jsonl holds each step line once, across the two processes
      const steps = readLines(path.join(out, 'metrics.jsonl')).filter((l) => l.kind === 'step').map((l) => l.globalStep);
      assert.deepEqual(steps, [5, 10, 15, 20, 25, 30, 35, 40, 45]);
    });

    it('SIGTERM finishes the step, writes a checkpoint and exits 143; --resume completes it exactly', async () => {
      const out = dir('term');
      const job = writeJob('term.json', tinyJob(out));
      const run = start(['train', job, '--step-delay', '40']);
      await waitFor(() => /Epoch 2\/3/.test(run.out()) || fs.existsSync(path.join(out, 'metrics.jsonl')) && fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').includes('"globalStep":20'), 'step 20');
      run.child.kill('SIGTERM');
      const r = await run.done;
      assert.equal(r.code, 143, r.stderr);
      assert.match(r.stderr, /stopped by SIGTERM: checkpoint .*ckpt-\d+/);
      assert.equal(ckpts(out).length, 1);
      assert.ok(!fs.existsSync(path.join(out, 'model')));
      const again = await cli('train', job, '--resume', '--quiet');
      assert.equal(again.code, 0, again.stderr);
      sameWeights(out, reference);
    });
  });

  it('the compiled build runs through bin/symtensor.js (when dist/ is built)', async function () {
    if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) this.skip();
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'symtensor.js'), 'info', '--json', '--threads', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).threads, 1);
    const bad = spawnSync(process.execPath, [path.join(root, 'bin', 'symtensor.js'), 'train', '--epochs', 'x'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
  });
});
