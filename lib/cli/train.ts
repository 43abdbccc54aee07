// `symtensor train`: runs a job — data, model, the training loop with checkpoints every N steps or
// epochs, SIGINT/SIGTERM handling, metrics.jsonl, the final model and report.html.
//
// The loop runs the model's training step batch by batch (model.onBatch, the same compiled step
// fit uses) over a BatchStream whose order in epoch e depends only on (seed, e), so a run resumed
// from a checkpoint taken after batch b of epoch e continues with exactly the batches the
// uninterrupted run would have used.
//
// Under MPI (`mpirun -np N symtensor train job.json`) the ranks train one model data-parallel:
// each takes its contiguous share of every global batch, the compiled step sums what must agree
// (gradients, metrics), and rank 0 alone writes the output folder.  A resumed run reads rank 0's
// newest checkpoint on every rank.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as St from '../index';
import { checkpointDir, newestValidCheckpoint, readPosition, restoreCheckpoint, verifyCheckpoint, writeCheckpoint, RunPosition } from './checkpoint';
import { tensor } from '../tensor/creation';
import { loadJobData } from './data';
import { CliError, EXIT } from './errors';
import type { Job } from './job';
import { MetricsLog, MetricsLine, readMetrics } from './metrics-log';
import { buildModel, wantsChannels } from './models';
import { reportHtml } from './report';
import { World, broadcastVariables, checkSameModel, globalBatchSize, shareOf, startWorld } from '../models/loops';
import { allreduce, broadcast } from '../tensor/distributed/index';

export interface TrainFlags {
  resume: boolean;
  /** Whether --lr was given (it then also overrides a module model's own learning rate). */
  lrGiven: boolean;
  /** 0 quiet, 1 progress bar, 2 one line per epoch. */
  verbose: 0 | 1 | 2;
  /** Milliseconds to wait after each step (to watch a run, or to interrupt it in tests). */
  stepDelay?: number;
}

export interface TrainResult {
  exitCode: number;
  modelDir: string | null;
  report: string;
}

/** Creates the output folder and checks that files can be written there, before any work. */
function prepareOut(out: string): void {
  try {
    fs.mkdirSync(out, { recursive: true });
    const probe = path.join(out, `.write-test-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    throw new CliError(`cannot write to the output directory ${out}: ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.replace(/\s+/g, ' '));
  }
}

/** Saves the final model to out/model through a temporary folder, so no partial model is left. */
async function saveFinal(model: St.Model, out: string): Promise<string> {
  const dir = path.join(out, 'model');
  const tmp = path.join(out, `.model.${process.pid}.tmp`);
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await model.save(tmp);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function toLogs(keys: string[], v: number | number[]): Record<string, number> {
  const vals = Array.isArray(v) ? v : [v];
  return Object.fromEntries(keys.map((k, i) => [k, vals[i]]));
}

/** Runs a job; resolves to the exit code (0, or 130/143 when stopped by a signal). */
export async function runTrain(job: Job, flags: TrainFlags): Promise<TrainResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const st = require('../index') as typeof St;
  const world = startWorld();
  const root = world.rank === 0;
  const say = (s: string) => {
    if (flags.verbose > 0 && root) process.stdout.write(s + '\n');
  };
  const warn = (s: string) => process.stderr.write(`warning: ${s}\n`);
  const t0 = performance.now();
  const secs = () => Math.round((performance.now() - t0) / 10) / 100;

  // everything that can fail on bad input fails here, before the output folder is touched
  if (world.size > 1) globalBatchSize('symtensor train', 'fit.batchSize', job.fit.batchSize, world);
  const data = await loadJobData(st, job.data, wantsChannels(job));
  st.setRandomSeed(job.seed);
  const model = await buildModel(st, job, data.train.x.shape.slice(1), data.numClasses, flags.lrGiven);
  const full = new st.data.ArrayDataset(data.train.x, data.train.y);
  const { train, validation } = job.fit.validationSplit > 0 ? full.split(job.fit.validationSplit) : { train: full, validation: null };
  const batches = train.batches({ batchSize: job.fit.batchSize, shuffle: job.fit.shuffle, seed: job.seed, prefetch: 1 });
  const val = validation?.tensors() ?? null;
  const rem = train.size % job.fit.batchSize;
  if (world.size > 1 && rem > 0 && rem < world.size)
    throw new CliError(`the last batch of each epoch has ${rem} sample${rem > 1 ? 's' : ''}, fewer than the ${world.size} ranks (${train.size} training samples, fit.batchSize ${job.fit.batchSize}): choose a batch size that leaves at least ${world.size} or none`);

  // under MPI rank 0 alone writes the output folder; the others write nothing
  if (root) prepareOut(job.out);
  const ckptRoot = path.join(job.out, 'checkpoints');
  const metricsFile = path.join(job.out, 'metrics.jsonl');
  const reportFile = path.join(job.out, 'report.html');
  if (root) fs.writeFileSync(path.join(job.out, 'job.json'), JSON.stringify(job, null, 2) + '\n');
  say(`symtensor train: ${job.name} — ${data.description}, model ${job.model.builtin ?? job.model.module}, seed ${job.seed}, ${st.backendInfo().threads} threads${world.size > 1 ? `, ${world.size} ranks` : ''}`);
  if (world.size > 1) checkSameModel('symtensor train', model.weights, world);

  let pos: RunPosition = { epoch: 0, batch: 0, globalStep: 0 };
  let resumed = false;
  let last: { step: number; dir: string } | null = null;
  if (flags.resume) {
    const c = root || world.size === 1 ? newestValidCheckpoint(ckptRoot, warn) : null;
    const at = agreedCheckpoint(c?.position.globalStep ?? -1, world);
    if (at !== null && !root) {
      // the other ranks read the very checkpoint rank 0 chose
      const dir = checkpointDir(ckptRoot, at);
      const why = verifyCheckpoint(dir);
      if (why) throw new CliError(`rank ${world.rank}: cannot read rank 0's checkpoint ${dir}: ${why} (under MPI the ranks must share the output folder)`);
      await restoreCheckpoint(st, model, dir);
      pos = readPosition(dir);
      resumed = true;
    } else if (c) {
      await restoreCheckpoint(st, model, c.dir);
      pos = c.position;
      resumed = true;
      last = { step: pos.globalStep, dir: c.dir };
      say(`resuming from ${c.dir} (epoch ${pos.epoch + 1}, batch ${pos.batch}, step ${pos.globalStep})`);
    } else say('no valid checkpoint to resume from: starting from the beginning');
    // folders of checkpoints that were being written when a previous run died
    if (root && fs.existsSync(ckptRoot)) for (const n of fs.readdirSync(ckptRoot)) if (n.startsWith('.ckpt-') && n.endsWith('.tmp')) fs.rmSync(path.join(ckptRoot, n), { recursive: true, force: true });
  } else if (root) {
    // a fresh run must not leave an older run's checkpoints for a later --resume to pick up
    fs.rmSync(ckptRoot, { recursive: true, force: true });
  }
  // every rank starts from rank 0's weights (a resumed run's optimizer state is read from the checkpoint)
  if (world.size > 1) broadcastVariables(model.weights);
  const metrics = root ? new MetricsLog(metricsFile) : null;
  metrics?.begin(resumed ? pos.globalStep : null);

  const ck = job.checkpoint;
  const keep = ck?.keep ?? 3;
  const checkpoint = async (p: RunPosition) => {
    if (!root) return '';
    const dir = await writeCheckpoint(st, model, ckptRoot, p, keep, { job: job.name, seed: job.seed });
    last = { step: p.globalStep, dir };
    return dir;
  };

  let stopSignal: NodeJS.Signals | null = null;
  // under MPI a stop is decided together (after each step), never by one rank's signal alone
  let agreedStop = false;
  const stopNow = () => (world.size > 1 ? agreedStop : stopSignal !== null);
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal) {
      process.stderr.write(`\n${sig} again: exiting without a checkpoint\n`);
      process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    }
    stopSignal = sig;
    if (root) process.stderr.write(`\n${sig}: finishing the current step, then writing a checkpoint (send it again to exit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // mpirun answers SIGINT/SIGTERM by killing the ranks soon after; it forwards SIGUSR1 to every
  // rank untouched, so under MPI SIGUSR1 to mpirun asks for the graceful stop (checkpoint, 143)
  if (world.size > 1) process.on('SIGUSR1', onSignal);

  const keys = model.compiled!.logKeys();
  const epochs = job.fit.epochs;
  const steps = batches.batchesPerEpoch;
  const bar = flags.verbose > 0 && root ? st.callbacks.progbarLogger({ verbose: flags.verbose }) : null;
  bar?.setParams({ epochs, steps, samples: train.size, batchSize: job.fit.batchSize, verbose: flags.verbose, metrics: keys });
  const stopped = async (p: RunPosition): Promise<TrainResult> => {
    bar?.onTrainEnd?.();
    const prev = last as { step: number; dir: string } | null;
    const dir = prev && prev.step === p.globalStep ? prev.dir : await checkpoint(p);
    writeReport(`stopped by ${stopSignal ?? 'a signal to another rank'} at step ${p.globalStep}`);
    if (root) process.stderr.write(`stopped by ${stopSignal ?? 'a signal to another rank'}: checkpoint ${dir}; continue with --resume\n`);
    return { exitCode: stopSignal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm, modelDir: null, report: reportFile };
  };
  const writeReport = (status: string) => {
    if (!root) return;
    const summary = model.summary({ print: () => {} });
    fs.writeFileSync(reportFile, reportHtml({ title: `symtensor: ${job.name}`, lines: readMetrics(metricsFile), summary, job, backend: { ...st.backendInfo(), ...(world.size > 1 ? { ranks: world.size } : {}) }, status }));
  };

  try {
    bar?.onTrainBegin?.();
    let globalStep = pos.globalStep;
    for (let epoch = pos.epoch; epoch < epochs; epoch++) {
      const start = epoch === pos.epoch ? pos.batch : 0;
      if (start === 0) model.compiled!.resetMetrics();
      bar?.onEpochBegin?.(epoch);
      let logs: Record<string, number> = {};
      for await (const b of batches.epoch(epoch, { startBatch: start })) {
        const [xs, ys] = world.size > 1 ? shard(st, world, b.xs, b.ys) : [b.xs, b.ys];
        try {
          logs = toLogs(keys, await model.onBatch('train', xs, ys, {}, false));
        } finally {
          for (const t of new Set([b.xs, b.ys, xs, ys])) t.dispose();
        }
        globalStep++;
        const done = b.index + 1;
        bar?.onBatchEnd?.(b.index, logs);
        if (flags.stepDelay) await sleep(flags.stepDelay);
        if (world.size > 1) agreedStop = anyRankStopping(stopSignal !== null);
        if (globalStep % job.metricsEvery === 0) metrics?.write({ kind: 'step', epoch: epoch + 1, globalStep, time: secs(), ...logs });
        if (done < steps) {
          // a checkpoint at an epoch's last batch is taken after the epoch's validation instead
          if (ck?.unit === 'steps' && globalStep % ck.every === 0) await checkpoint({ epoch, batch: done, globalStep });
          if (stopNow()) return await stopped({ epoch, batch: done, globalStep });
        }
      }
      if (val) {
        const v = (await model.evaluate(val.x, val.y, { batchSize: job.fit.batchSize, returnDict: true })) as Record<string, number>;
        for (const k of Object.keys(v)) logs[`val_${k}`] = v[k];
      }
      bar?.onEpochEnd?.(epoch, logs);
      if (world.size > 1) agreedStop = anyRankStopping(stopSignal !== null);
      metrics?.write({ kind: 'epoch', epoch: epoch + 1, globalStep, time: secs(), ...logs });
      const next = { epoch: epoch + 1, batch: 0, globalStep };
      const due = ck && (ck.unit === 'epochs' ? (epoch + 1) % ck.every === 0 : globalStep % ck.every === 0);
      if (due && epoch + 1 < epochs) await checkpoint(next);
      if (stopNow() && epoch + 1 < epochs) return await stopped(next);
    }
    bar?.onTrainEnd?.();
    const testLine: MetricsLine = { kind: 'test', globalStep, time: secs() };
    if (data.test) {
      const r = (await model.evaluate(data.test.x, data.test.y, { batchSize: 256, returnDict: true })) as Record<string, number>;
      Object.assign(testLine, r);
      metrics?.write(testLine);
      say(`test: ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
    }
    const modelDir = root ? await saveFinal(model, job.out) : null;
    writeReport(`finished: ${epochs} epochs, ${globalStep} steps`);
    say(`model:   ${modelDir}`);
    say(`report:  ${reportFile}`);
    say(`metrics: ${metricsFile}`);
    say(`time:    ${secs().toFixed(1)} s`);
    return { exitCode: EXIT.ok, modelDir, report: reportFile };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGUSR1', onSignal);
  }
}

/** Rank `world.rank`'s contiguous share of a global batch (split as fit splits it). */
function shard(st: typeof St, world: World, xs: St.Tensor, ys: St.Tensor): [St.Tensor, St.Tensor] {
  const { start, count } = shareOf(xs.shape[0], world);
  return [st.slice(xs, start, count), st.slice(ys, start, count)];
}

/** Whether any rank was asked to stop: every rank takes the same decision at the same step. */
function anyRankStopping(mine: boolean): boolean {
  const t = tensor([mine ? 1 : 0], { dtype: 'float32' });
  const r = allreduce(t, { op: 'max' });
  const any = r.dataSync()[0] > 0;
  t.dispose();
  r.dispose();
  return any;
}

/** Rank 0's checkpoint step (-1: none) on every rank; null when there is none to resume from. */
function agreedCheckpoint(step: number, world: World): number | null {
  if (world.size === 1) return step < 0 ? null : step;
  const t = tensor([step], { dtype: 'float64' });
  const b = broadcast(t, { root: 0 });
  const v = Number(b.dataSync()[0]);
  t.dispose();
  b.dispose();
  return v < 0 ? null : v;
}
