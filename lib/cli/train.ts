// `symtensor train`: runs a job — data, model, the training loop with checkpoints every N steps or
// epochs, SIGINT/SIGTERM handling, metrics.jsonl, the final model and report.html.
//
// The loop runs the model's training step batch by batch (model.onBatch, the same compiled step
// fit uses) over a BatchStream whose order in epoch e depends only on (seed, e), so a run resumed
// from a checkpoint taken after batch b of epoch e continues with exactly the batches the
// uninterrupted run would have used.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as St from '../index';
import { newestValidCheckpoint, restoreCheckpoint, writeCheckpoint, RunPosition } from './checkpoint';
import { loadJobData } from './data';
import { CliError, EXIT } from './errors';
import type { Job } from './job';
import { MetricsLog, MetricsLine, readMetrics } from './metrics-log';
import { buildModel, wantsChannels } from './models';
import { reportHtml } from './report';

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
  const say = (s: string) => {
    if (flags.verbose > 0) process.stdout.write(s + '\n');
  };
  const warn = (s: string) => process.stderr.write(`warning: ${s}\n`);
  const t0 = performance.now();
  const secs = () => Math.round((performance.now() - t0) / 10) / 100;

  // everything that can fail on bad input fails here, before the output folder is touched
  const data = await loadJobData(st, job.data, wantsChannels(job));
  st.setRandomSeed(job.seed);
  const model = await buildModel(st, job, data.train.x.shape.slice(1), data.numClasses, flags.lrGiven);
  const full = new st.data.ArrayDataset(data.train.x, data.train.y);
  const { train, validation } = job.fit.validationSplit > 0 ? full.split(job.fit.validationSplit) : { train: full, validation: null };
  const batches = train.batches({ batchSize: job.fit.batchSize, shuffle: job.fit.shuffle, seed: job.seed, prefetch: 1 });
  const val = validation?.tensors() ?? null;

  prepareOut(job.out);
  const ckptRoot = path.join(job.out, 'checkpoints');
  const metricsFile = path.join(job.out, 'metrics.jsonl');
  const reportFile = path.join(job.out, 'report.html');
  fs.writeFileSync(path.join(job.out, 'job.json'), JSON.stringify(job, null, 2) + '\n');
  say(`symtensor train: ${job.name} — ${data.description}, model ${job.model.builtin ?? job.model.module}, seed ${job.seed}, ${st.backendInfo().threads} threads`);

  let pos: RunPosition = { epoch: 0, batch: 0, globalStep: 0 };
  let resumed = false;
  let last: { step: number; dir: string } | null = null;
  if (flags.resume) {
    const c = newestValidCheckpoint(ckptRoot, warn);
    if (c) {
      await restoreCheckpoint(st, model, c.dir);
      pos = c.position;
      resumed = true;
      last = { step: pos.globalStep, dir: c.dir };
      say(`resuming from ${c.dir} (epoch ${pos.epoch + 1}, batch ${pos.batch}, step ${pos.globalStep})`);
    } else say('no valid checkpoint to resume from: starting from the beginning');
    // folders of checkpoints that were being written when a previous run died
    if (fs.existsSync(ckptRoot)) for (const n of fs.readdirSync(ckptRoot)) if (n.startsWith('.ckpt-') && n.endsWith('.tmp')) fs.rmSync(path.join(ckptRoot, n), { recursive: true, force: true });
  } else {
    // a fresh run must not leave an older run's checkpoints for a later --resume to pick up
    fs.rmSync(ckptRoot, { recursive: true, force: true });
  }
  const metrics = new MetricsLog(metricsFile);
  metrics.begin(resumed ? pos.globalStep : null);

  const ck = job.checkpoint;
  const keep = ck?.keep ?? 3;
  const checkpoint = async (p: RunPosition) => {
    const dir = await writeCheckpoint(st, model, ckptRoot, p, keep, { job: job.name, seed: job.seed });
    last = { step: p.globalStep, dir };
    return dir;
  };

  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal) {
      process.stderr.write(`\n${sig} again: exiting without a checkpoint\n`);
      process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    }
    stopSignal = sig;
    process.stderr.write(`\n${sig}: finishing the current step, then writing a checkpoint (send it again to exit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const keys = model.compiled!.logKeys();
  const epochs = job.fit.epochs;
  const steps = batches.batchesPerEpoch;
  const bar = flags.verbose > 0 ? st.callbacks.progbarLogger({ verbose: flags.verbose }) : null;
  bar?.setParams({ epochs, steps, samples: train.size, batchSize: job.fit.batchSize, verbose: flags.verbose, metrics: keys });
  const stopped = async (p: RunPosition): Promise<TrainResult> => {
    bar?.onTrainEnd?.();
    const prev = last as { step: number; dir: string } | null;
    const dir = prev && prev.step === p.globalStep ? prev.dir : await checkpoint(p);
    writeReport(`stopped by ${stopSignal} at step ${p.globalStep}`);
    process.stderr.write(`stopped by ${stopSignal}: checkpoint ${dir}; continue with --resume\n`);
    return { exitCode: stopSignal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm, modelDir: null, report: reportFile };
  };
  const writeReport = (status: string) => {
    const summary = model.summary({ print: () => {} });
    fs.writeFileSync(reportFile, reportHtml({ title: `symtensor: ${job.name}`, lines: readMetrics(metricsFile), summary, job, backend: st.backendInfo(), status }));
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
        try {
          logs = toLogs(keys, await model.onBatch('train', b.xs, b.ys, {}, false));
        } finally {
          b.xs.dispose();
          b.ys.dispose();
        }
        globalStep++;
        const done = b.index + 1;
        bar?.onBatchEnd?.(b.index, logs);
        if (flags.stepDelay) await sleep(flags.stepDelay);
        if (globalStep % job.metricsEvery === 0) metrics.write({ kind: 'step', epoch: epoch + 1, globalStep, time: secs(), ...logs });
        if (done < steps) {
          // a checkpoint at an epoch's last batch is taken after the epoch's validation instead
          if (ck?.unit === 'steps' && globalStep % ck.every === 0) await checkpoint({ epoch, batch: done, globalStep });
          if (stopSignal) return await stopped({ epoch, batch: done, globalStep });
        }
      }
      if (val) {
        const v = (await model.evaluate(val.x, val.y, { batchSize: job.fit.batchSize, returnDict: true })) as Record<string, number>;
        for (const k of Object.keys(v)) logs[`val_${k}`] = v[k];
      }
      bar?.onEpochEnd?.(epoch, logs);
      metrics.write({ kind: 'epoch', epoch: epoch + 1, globalStep, time: secs(), ...logs });
      const next = { epoch: epoch + 1, batch: 0, globalStep };
      const due = ck && (ck.unit === 'epochs' ? (epoch + 1) % ck.every === 0 : globalStep % ck.every === 0);
      if (due && epoch + 1 < epochs) await checkpoint(next);
      if (stopSignal && epoch + 1 < epochs) return await stopped(next);
    }
    bar?.onTrainEnd?.();
    const testLine: MetricsLine = { kind: 'test', globalStep, time: secs() };
    if (data.test) {
      const r = (await model.evaluate(data.test.x, data.test.y, { batchSize: 256, returnDict: true })) as Record<string, number>;
      Object.assign(testLine, r);
      metrics.write(testLine);
      say(`test: ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
    }
    const modelDir = await saveFinal(model, job.out);
    writeReport(`finished: ${epochs} epochs, ${globalStep} steps`);
    say(`model:   ${modelDir}`);
    say(`report:  ${reportFile}`);
    say(`metrics: ${metricsFile}`);
    say(`time:    ${secs().toFixed(1)} s`);
    return { exitCode: EXIT.ok, modelDir, report: reportFile };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
