// fitDataset: training on batches produced by an (async) iterable, for data that does not fit
// in memory.  Each batch is one call of the compiled training step.
import { SymtensorError, argError, fmtValue } from '../errors';
import { checkOptions } from './options';
import { CallbackLike, CallbackList, History, ProgbarLogger } from './callbacks';
import type { DataArgs } from './data-args';
import type { CompiledModel } from './training';
import { worldRank } from '../tensor/distributed/index';

/** One batch: inputs, targets and optional per-sample weights. */
export interface Batch {
  xs: DataArgs;
  ys: DataArgs;
  sampleWeight?: DataArgs;
}

/** Batches: an iterable or async iterable (iterated once per epoch), or a function returning one. */
export type DataSource = Iterable<Batch> | AsyncIterable<Batch> | (() => Iterable<Batch> | AsyncIterable<Batch>);

/** The options of model.fitDataset. */
export interface FitDatasetOptions {
  epochs?: number;
  /** Batches per epoch; by default the iterable is read to its end. */
  batchesPerEpoch?: number;
  verbose?: 0 | 1 | 2 | 'auto';
  callbacks?: CallbackLike[];
  /** Validation batches (a DataSource) or in-memory [x, y]. */
  validationData?: DataSource | [DataArgs, DataArgs];
  initialEpoch?: number;
}

interface BatchModel {
  name: string;
  compiled: CompiledModel | null;
  stopTraining: boolean;
  lastStepKeys: string[];
  onBatch(mode: 'train' | 'test', x: DataArgs, y: DataArgs, opts: { sampleWeight?: DataArgs }, reset?: boolean): Promise<number | number[]>;
  evaluate(x: DataArgs, y: DataArgs, opts: { returnDict: true }): Promise<number | number[] | Record<string, number>>;
  snapshot(): { restore(): void; release(): void };
}

function iterate(op: string, src: DataSource): AsyncIterator<Batch> | Iterator<Batch> {
  const it = typeof src === 'function' ? src() : src;
  if (it && typeof (it as AsyncIterable<Batch>)[Symbol.asyncIterator] === 'function') return (it as AsyncIterable<Batch>)[Symbol.asyncIterator]();
  if (it && typeof (it as Iterable<Batch>)[Symbol.iterator] === 'function') return (it as Iterable<Batch>)[Symbol.iterator]();
  throw argError(op, 'the dataset must be an iterable or async iterable of { xs, ys } batches (or a function returning one)');
}

function checkBatch(op: string, b: unknown, i: number): Batch {
  if (!b || typeof b !== 'object' || !('xs' in b) || !('ys' in b)) throw argError(op, `batch ${i} must be an object { xs, ys }, got ${fmtValue(b)}`);
  return b as Batch;
}

function toLogs(keys: string[], v: number | number[]): Record<string, number> {
  const vals = Array.isArray(v) ? v : [v];
  return Object.fromEntries(keys.map((k, i) => [k, vals[i]]));
}

/**
 * Keras's fit over batches from an (async) iterable.  Under MPI every step is collective: each
 * rank's source gives that rank's share of the global batch (the step weights each rank by its
 * share), and every rank must give the same number of batches per epoch.
 */
export async function fitDatasetLoop(model: BatchModel, data: DataSource, opts: FitDatasetOptions = {}): Promise<History> {
  const op = `${model.name}.fitDataset`;
  if (!model.compiled) throw new SymtensorError('ERR_ST_ARG', op, 'the model is not compiled: call model.compile({ optimizer, loss }) first');
  checkOptions(op, opts, ['epochs', 'batchesPerEpoch', 'verbose', 'callbacks', 'validationData', 'initialEpoch'], { nullIsEmpty: false });
  const epochs = opts.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw argError(op, `epochs must be a positive integer, got ${String(epochs)}`);
  // under MPI only rank 0 reports progress, unless a rank is given a verbosity of its own
  const verbose = opts.verbose === undefined ? (worldRank() === 0 ? 1 : 0) : opts.verbose === 'auto' ? 1 : opts.verbose;
  const keys = model.compiled.logKeys();
  const history = new History();
  const list = new CallbackList([...(opts.callbacks ?? []), history, ...(verbose ? [new ProgbarLogger()] : [])], model as never, {
    epochs,
    steps: opts.batchesPerEpoch ?? null,
    samples: null,
    batchSize: null,
    verbose: verbose as 0 | 1 | 2,
    metrics: [...keys, ...(opts.validationData ? keys.map((k) => `val_${k}`) : [])],
  });
  const snap = model.snapshot();
  try {
    model.stopTraining = false;
    await list.onTrainBegin({});
    for (let epoch = opts.initialEpoch ?? 0; epoch < epochs && !model.stopTraining; epoch++) {
      model.compiled.resetMetrics();
      await list.onEpochBegin(epoch, {});
      const it = iterate(op, data);
      let logs: Record<string, number> = {};
      for (let b = 0; opts.batchesPerEpoch === undefined || b < opts.batchesPerEpoch; b++) {
        const r = await it.next();
        if (r.done) {
          if (b === 0) throw argError(op, `the dataset gave no batches in epoch ${epoch + 1}`);
          break;
        }
        const batch = checkBatch(op, r.value, b);
        await list.onBatchBegin(b, {});
        const vals = await model.onBatch('train', batch.xs, batch.ys, { sampleWeight: batch.sampleWeight }, false);
        logs = toLogs(model.lastStepKeys, vals);
        await list.onBatchEnd(b, logs);
        if (model.stopTraining) break;
      }
      if (opts.validationData && !model.stopTraining) {
        const vd = opts.validationData;
        let vl: Record<string, number> = {};
        if (Array.isArray(vd) && vd.length === 2 && !(typeof vd[0] === 'object' && vd[0] !== null && 'xs' in (vd[0] as object))) {
          vl = (await model.evaluate(vd[0] as DataArgs, vd[1] as DataArgs, { returnDict: true })) as Record<string, number>;
        } else {
          model.compiled.resetMetrics();
          const vit = iterate(op, vd as DataSource);
          for (let b = 0; ; b++) {
            const r = await vit.next();
            if (r.done) break;
            const batch = checkBatch(op, r.value, b);
            const vals = await model.onBatch('test', batch.xs, batch.ys, { sampleWeight: batch.sampleWeight }, false);
            vl = toLogs(model.lastStepKeys, vals);
          }
        }
        for (const k of Object.keys(vl)) logs[`val_${k}`] = vl[k];
      }
      await list.onEpochEnd(epoch, logs);
    }
    await list.onTrainEnd({});
    snap.release();
    return history;
  } catch (e) {
    snap.restore();
    throw e;
  }
}
