// fit / evaluate / predict over in-memory data.  Each compiled step takes the batch's row indices
// and the whole data tensors (by reference, no copy), gathers the rows natively and runs forward,
// backward, update and metrics in one native call.  Steps are cached on the model, so a second
// fit (or evaluate, predict) on data of the same layout compiles nothing.
import { DType } from '../dtype';
import { SymtensorError, argError } from '../errors';
import { checkOptions } from './options';
import { CompiledFunction, fn } from '../compile/function';
import { SharedVariable } from '../graph/shared';
import { randomStateUpdates } from '../graph/random';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';
import { tensor } from '../tensor/creation';
import { concat } from '../tensor/shape-ops';
import { Tensor } from '../tensor/tensor';
import { CallbackLike, CallbackList, History, ProgbarLogger } from './callbacks';
import { DataArgs, checkFeatureShapes, sampleCount, toTensors } from './data-args';
import type { Shape } from './layer';
import { nextSeed } from './seed';
import { epochOrder } from '../data/batches';
import { SparseCategoricalCrossentropy } from './losses';
import { CompiledModel, TrainableModel, inferenceGraph, targetPlaceholder } from './training';
import { allgather, broadcast, init as initWorld, isDistributed, worldRank, worldSize } from '../tensor/distributed/index';

/** A model as the loops see it. */
export interface LoopModel extends TrainableModel {
  compiled: CompiledModel | null;
  stopTraining: boolean;
  inputShapes(): Shape[];
  inputDtypes(): DType[];
  snapshot(): { restore(): void; release(): void };
}

/** The keys of FitOptions, EvaluateOptions and predict's options: a misspelt one (`epoch`) is an error listing them. */
const FIT_OPTIONS = ['epochs', 'batchSize', 'verbose', 'callbacks', 'validationSplit', 'validationData', 'shuffle', 'classWeight', 'sampleWeight', 'initialEpoch', 'stepsPerEpoch', 'validationBatchSize', 'seed'];
const EVALUATE_OPTIONS = ['batchSize', 'verbose', 'sampleWeight', 'returnDict', 'callbacks'];
const PREDICT_OPTIONS = ['batchSize', 'verbose'];

/**
 * The options of `model.fit` (Keras's, in camelCase).
 * @example await model.fit(x, y, { epochs: 5, batchSize: 32, validationSplit: 0.1 })
 */
export interface FitOptions {
  epochs?: number;
  /** Samples per step (default 32); under MPI the global batch, split evenly among the ranks. */
  batchSize?: number;
  /** 0 silent, 1 progress bar (one line per epoch without a terminal), 2 one line per epoch. */
  verbose?: 0 | 1 | 2 | 'auto';
  callbacks?: CallbackLike[];
  /** The last fraction of the samples (before shuffling) is held out for validation. */
  validationSplit?: number;
  validationData?: [DataArgs, DataArgs] | [DataArgs, DataArgs, DataArgs];
  shuffle?: boolean;
  /** Weight of each class in the loss (sparse labels or one-hot targets). */
  classWeight?: Record<number, number>;
  /** A weight per sample. */
  sampleWeight?: DataArgs;
  initialEpoch?: number;
  stepsPerEpoch?: number;
  validationBatchSize?: number;
  /** Seed of the shuffling (default: the next seed of st.setRandomSeed's sequence). */
  seed?: number;
}

/** The options of `model.evaluate`. */
export interface EvaluateOptions {
  batchSize?: number;
  verbose?: 0 | 1 | 2 | 'auto';
  sampleWeight?: DataArgs;
  returnDict?: boolean;
  callbacks?: CallbackLike[];
}

/**
 * The data of one fit/evaluate/predict call.  The tensors are arguments of the cached step (its
 * `data/…` inputs, passed by reference: nothing is copied), so a later call with other data of the
 * same layout runs the same compiled program.
 */
class Dataset {
  constructor(
    readonly n: number,
    readonly x: Tensor[],
    readonly y: Tensor[],
    readonly sw: Tensor | null,
    readonly owned: Tensor[],
  ) {}
  /** The step's data arguments, in the order of its data inputs. */
  args(): Tensor[] {
    return [...this.x, ...this.y, ...(this.sw ? [this.sw] : [])];
  }
  /** What the step's graph depends on: dtypes and per-sample shapes (not the sample count). */
  layout(): string {
    const one = (t: Tensor) => `${t.dtype}[${t.shape.slice(1).join(',')}]`;
    return `x:${this.x.map(one).join(';')}|y:${this.y.map(one).join(';')}|w:${this.sw ? 1 : 0}`;
  }
  dispose(): void {
    for (const t of this.owned) if (!t.isDisposed) t.dispose();
  }
}

function makeDataset(model: LoopModel, op: string, x: DataArgs, y: DataArgs | null, sampleWeight: DataArgs | undefined, classWeight: Record<number, number> | undefined): Dataset {
  const inNames = model.inputNames();
  const outNames = model.outputNames();
  const xi = toTensors(op, 'x', x, inNames, model.inputShapes(), model.inputDtypes());
  const owned = [...xi.owned];
  try {
    checkFeatureShapes(op, 'x', xi.tensors, inNames, model.inputShapes());
    let ys: Tensor[] = [];
    if (y !== null) {
      const yi = toTensors(op, 'y', y, outNames, model.outputs.map((o) => o.shape), outNames.map(() => null));
      owned.push(...yi.owned);
      ys = yi.tensors;
    }
    const n = sampleCount(op, [
      { what: 'x', tensors: xi.tensors, names: inNames },
      { what: 'y', tensors: ys, names: outNames },
    ]);
    if (model.compiled) ys.forEach((t, i) => checkSparseLabels(op, model, i, outNames[i], t));
    let sw: Tensor | null = null;
    if (sampleWeight !== undefined && sampleWeight !== null) {
      const s = toTensors(op, 'sampleWeight', sampleWeight, ['sampleWeight'], [[null]], ['float32']);
      owned.push(...s.owned);
      sw = s.tensors[0];
      if (sw.shape.length !== 1 || sw.shape[0] !== n) throw new SymtensorError('ERR_ST_SHAPE', op, `sampleWeight must have one weight per sample (${n}), got shape [${sw.shape.join(', ')}]`);
      if (sw.dtype !== 'float32') {
        sw = tensor(sw.dataSync() as Float32Array, { dtype: 'float32' });
        owned.push(sw);
      }
    }
    if (classWeight) {
      if (y === null) throw argError(op, 'classWeight needs targets');
      const cw = classWeights(op, ys[0], classWeight);
      if (sw) {
        const a = sw.dataSync() as Float32Array;
        for (let i = 0; i < n; i++) cw[i] *= a[i];
      }
      sw = tensor(cw, { dtype: 'float32' });
      owned.push(sw);
    }
    return new Dataset(n, xi.tensors, ys, sw, owned);
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  }
}

/**
 * Sparse labels must name a class of the output: an out-of-range label would otherwise pick an
 * all-zero one-hot row and silently add nothing to the loss.
 */
function checkSparseLabels(op: string, model: LoopModel, i: number, name: string, y: Tensor): void {
  const loss = model.compiled!.losses[i];
  if (!(loss instanceof SparseCategoricalCrossentropy)) return;
  const classes = model.outputs[i].shape[model.outputs[i].shape.length - 1];
  if (classes === null) return;
  const v = y.dataSync();
  for (let k = 0; k < v.length; k++) {
    const c = Number(v[k]);
    if (c === loss.ignoreClass) continue;
    if (!(Number.isInteger(c) && c >= 0 && c < classes))
      throw new SymtensorError('ERR_ST_VALUE', op, `label ${c} of sample ${Math.floor(k / (v.length / y.shape[0]))} for output '${name}' is not a class of its ${classes} (sparse labels are integers in [0, ${classes}))`);
  }
}

/** Per-sample weights from class weights: labels are sparse ints or one-hot rows (argmax). */
function classWeights(op: string, y: Tensor, cw: Record<number, number>): Float32Array {
  const n = y.shape[0];
  const v = y.dataSync();
  const per = y.size / n;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let label: number;
    if (per === 1) label = Number(v[i]);
    else {
      label = 0;
      for (let k = 1; k < per; k++) if (Number(v[i * per + k]) > Number(v[i * per + label])) label = k;
    }
    const w = cw[label];
    out[i] = w === undefined ? 1 : w;
    if (!Number.isFinite(out[i])) throw argError(op, `classWeight for class ${label} is not a finite number`);
  }
  return out;
}

/** A compiled step and the log keys of its outputs. */
export interface Step {
  f: CompiledFunction<Tensor[]>;
  keys: string[];
  /** The states of the random streams the step draws from (dropout masks, noise layers). */
  randomStates: SharedVariable[];
}

/** The compiled steps of one model, valid while `signature` (see graphSignature) holds. */
interface StepCache {
  signature: string;
  steps: Map<string, Step>;
}

const MAX_STEPS = 8;
const stepCaches = new WeakMap<LoopModel, StepCache>();
const compiledIds = new WeakMap<object, number>();
let nextCompiledId = 1;

/**
 * What every cached step of a model depends on besides its mode and data layout: the compile()
 * call (optimizer, losses, metrics), every weight by identity with whether it trains, and the
 * number of ranks.  Any change drops (and frees) the cached steps.
 */
function graphSignature(model: LoopModel): string {
  const cm = model.compiled;
  let id = 0;
  if (cm) {
    id = compiledIds.get(cm) ?? 0;
    if (!id) compiledIds.set(cm, (id = nextCompiledId++));
  }
  const weights = model.weightEntries().map((w) => `${w.variable.id}${w.trainable && w.layerTrainable ? 't' : 'f'}`);
  const inputs = model.inputShapes().map((s, i) => `${model.inputDtypes()[i]}[${s.join(',')}]`);
  return `${id}|${isDistributed() ? worldSize() : 1}|${inputs.join(';')}|${weights.join(',')}`;
}

/** Frees the cached steps of a model (the next fit, evaluate or predict compiles again). */
export function clearStepCache(model: LoopModel): void {
  const c = stepCaches.get(model);
  if (!c) return;
  for (const s of c.steps.values()) s.f.dispose();
  stepCaches.delete(model);
}

/**
 * The step of `mode` for data laid out like `ds`, compiled on first use and cached on the model:
 * a second fit (or evaluate, predict) on data of the same layout reuses the compiled program.
 * The step's inputs are the batch's row indices, (except predict) the batch size, then the data
 * tensors; it gathers the batch's rows natively.
 */
function cachedStep(model: LoopModel, ds: Dataset, mode: 'train' | 'test' | 'predict'): Step {
  const signature = graphSignature(model);
  let cache = stepCaches.get(model);
  if (cache && cache.signature !== signature) {
    clearStepCache(model);
    cache = undefined;
  }
  if (!cache) stepCaches.set(model, (cache = { signature, steps: new Map() }));
  const key = `${mode}|${ds.layout()}`;
  let step = cache.steps.get(key);
  if (step) {
    // most recently used last: the oldest is evicted first
    cache.steps.delete(key);
    cache.steps.set(key, step);
    return step;
  }
  step = buildGatherStep(model, ds, mode);
  if (cache.steps.size >= MAX_STEPS) {
    const [k0, old] = cache.steps.entries().next().value as [string, Step];
    cache.steps.delete(k0);
    old.f.dispose();
  }
  cache.steps.set(key, step);
  return step;
}

/** Compiles a step that gathers a batch by row indices from its data inputs. */
function buildGatherStep(model: LoopModel, ds: Dataset, mode: 'train' | 'test' | 'predict'): Step {
  const idx = T.tensor('int32', [null], 'batchIndices');
  const batch = T.scalar('batchSize', 'float32');
  const inShapes = model.inputShapes();
  const inDtypes = model.inputDtypes();
  const data = (t: Tensor, name: string) => T.tensor(t.dtype, [null, ...t.shape.slice(1)], name);
  const xData = ds.x.map((t, i) => data(t, `data/x${i}`));
  const yData = ds.y.map((t, i) => data(t, `data/y${i}`));
  const swData = ds.sw ? data(ds.sw, 'data/sampleWeight') : null;
  const dataInputs = [...xData, ...yData, ...(swData ? [swData] : [])];
  const xs = inShapes.map((s, i) => T.tensor(inDtypes[i], s.slice(), model.inputNames()[i]));
  const givens: [Variable, Variable][] = xs.map((x, i) => {
    const rows = T.gather(xData[i], idx);
    return [x, rows.dtype === x.dtype ? rows : T.cast(rows, x.dtype)];
  });
  if (mode === 'predict') {
    // the updates advance stateful layers' states from batch to batch (Keras's predict does)
    const g = inferenceGraph(model, xs);
    const f = fn([idx, ...dataInputs], g.outputs, { givens, updates: g.updates, name: `${model.name}.predict`, onUnusedInput: 'ignore' });
    return { f, keys: model.outputNames(), randomStates: [] };
  }
  const cm = model.compiled!;
  const ys = ds.y.map((y, i) => targetPlaceholder(`${model.outputNames()[i]}_target`, { shape: y.shape, dtype: y.dtype }));
  ys.forEach((y, i) => givens.push([y, T.gather(yData[i], idx)]));
  const sws = model.outputs.map(() => (swData ? T.gather(swData, idx) : null));
  const step = cm.buildStep(mode === 'train', xs, ys, sws, batch);
  const f = fn([idx, batch, ...dataInputs], step.outputs, { updates: step.updates, givens, name: `${model.name}.${mode}Step`, onUnusedInput: 'ignore' });
  const randomStates = randomStateUpdates([...step.outputs, ...step.updates.map((u) => u[1])], new Set()).map(([s]) => s);
  return { f, keys: step.keys, randomStates };
}

function checkPositiveInt(op: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < 1) throw argError(op, `${name} must be a positive integer, got ${String(v)}`);
  return v as number;
}

// Stateful layers carry each batch's final states into the next batch, so (as in Keras) every
// batch must have exactly the batch size their states were built for.

/** Throws unless a batch of `rows` samples fits the model's stateful layers (any size without them). */
export function checkStatefulBatch(op: string, model: Pick<TrainableModel, 'statefulBatch'>, rows: number): void {
  const fixed = model.statefulBatch?.() ?? null;
  if (!fixed || rows === fixed.batchSize) return;
  throw argError(op, `the stateful layer ${fixed.layer} keeps states for batches of ${fixed.batchSize} samples, got a batch of ${rows} (every batch of a model with stateful layers must have exactly ${fixed.batchSize})`);
}

/**
 * The batch size of a run: `given` (default 32), or with stateful layers the batch they were built
 * for (times the ranks: under MPI each rank's share must be that batch), checked.
 */
function runBatchSize(op: string, name: string, model: LoopModel, given: unknown, world: World): number {
  const fixed = model.statefulBatch?.() ?? null;
  if (!fixed) return checkPositiveInt(op, name, given, 32);
  const want = fixed.batchSize * world.size;
  const b = checkPositiveInt(op, name, given, want);
  if (b !== want)
    throw argError(op, `${name} ${b} does not fit the stateful layer ${fixed.layer}, whose states are for batches of ${fixed.batchSize}${world.size > 1 ? ` per rank (${want} over ${world.size} ranks)` : ''}: pass ${name}: ${want} (every batch of a model with stateful layers must have that size)`);
  return b;
}

/** With stateful layers, `n` samples must make whole batches of `batchSize`. */
function checkWholeBatches(op: string, model: LoopModel, n: number, batchSize: number, what = 'samples'): void {
  const fixed = model.statefulBatch?.() ?? null;
  if (!fixed || n % batchSize === 0) return;
  throw argError(op, `${n} ${what} do not split into whole batches of ${batchSize}: the stateful layer ${fixed.layer} needs every batch to have exactly ${batchSize} (use a multiple of ${batchSize} samples)`);
}

function verbosity(v: FitOptions['verbose']): 0 | 1 | 2 {
  if (v === undefined || v === 'auto') return 1;
  if (v !== 0 && v !== 1 && v !== 2) throw argError('fit', `verbose must be 0, 1, 2 or 'auto', got ${String(v)}`);
  return v;
}

function logsOf(keys: string[], outs: Tensor[], prefix = ''): Record<string, number> {
  const logs: Record<string, number> = {};
  keys.forEach((k, i) => {
    logs[prefix + k] = Number(outs[i].dataSync()[0]);
  });
  return logs;
}

/**
 * Runs the step over `rows` in global batches of `batchSize`; under MPI each rank runs its
 * contiguous share of every batch (the step sums what must agree across ranks).
 */
async function runBatches(world: World, f: CompiledFunction<Tensor[]>, keys: string[], data: Tensor[], rows: Int32Array, batchSize: number, onBatch?: (b: number, logs: Record<string, number>) => Promise<void> | void): Promise<Record<string, number>> {
  let logs: Record<string, number> = {};
  const steps = Math.ceil(rows.length / batchSize);
  for (let b = 0; b < steps; b++) {
    const ids = shardOf(rows.subarray(b * batchSize, Math.min(rows.length, (b + 1) * batchSize)), world);
    const outs = await f(ids, ids.length, ...data);
    // the logs are running means: without a listener only the last batch's are read
    if (onBatch || b === steps - 1) logs = logsOf(keys, outs);
    for (const t of outs) t.dispose();
    if (onBatch) await onBatch(b, logs);
  }
  return logs;
}

/** The rows a..b-1 (a plain loop: Int32Array.from with a mapping function costs milliseconds here). */
function range(a: number, b: number): Int32Array {
  const out = new Int32Array(b - a);
  for (let i = 0; i < out.length; i++) out[i] = a + i;
  return out;
}

/** Keras's fit on in-memory data. */
export async function fitLoop(model: LoopModel, x: DataArgs, y: DataArgs, opts: FitOptions = {}): Promise<History> {
  const op = `${model.name}.fit`;
  if (!model.compiled) throw new SymtensorError('ERR_ST_ARG', op, 'the model is not compiled: call model.compile({ optimizer, loss }) first');
  checkOptions(op, opts, FIT_OPTIONS, { nullIsEmpty: false });
  const epochs = checkPositiveInt(op, 'epochs', opts.epochs, 1);
  const world = startWorld();
  const batchSize = globalBatchSize(op, 'batchSize', runBatchSize(op, 'batchSize', model, opts.batchSize, world), world);
  const initialEpoch = opts.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw argError(op, `initialEpoch must be a non-negative integer, got ${String(initialEpoch)}`);
  const split = opts.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) throw argError(op, `validationSplit must be in [0, 1), got ${String(split)}`);
  if (split > 0 && opts.validationData) throw argError(op, 'give validationSplit or validationData, not both');
  // under MPI only rank 0 reports progress, unless a rank is given a verbosity of its own
  const verbose = world.rank !== 0 && opts.verbose === undefined ? 0 : verbosity(opts.verbose);
  const ds = makeDataset(model, op, x, y, opts.sampleWeight, opts.classWeight);
  let vds: Dataset | null = null;
  const snap = model.snapshot();
  try {
    const nTrain = split > 0 ? Math.floor(ds.n * (1 - split)) : ds.n;
    if (nTrain === 0 || (split > 0 && nTrain === ds.n)) throw argError(op, `validationSplit ${split} of ${ds.n} samples leaves ${nTrain === 0 ? 'no training' : 'no validation'} samples`);
    let valRows: Int32Array | null = split > 0 ? range(nTrain, ds.n) : null;
    if (opts.validationData) {
      const vd = opts.validationData;
      if (!Array.isArray(vd) || vd.length < 2) throw argError(op, 'validationData must be [x, y] or [x, y, sampleWeight]');
      vds = makeDataset(model, `${op} (validationData)`, vd[0], vd[1], vd[2], undefined);
      valRows = range(0, vds.n);
    }
    const train = cachedStep(model, ds, 'train');
    const test = valRows ? cachedStep(model, vds ?? ds, 'test') : null;
    const valData = (vds ?? ds).args();
    if (world.size > 1) {
      // the ranks must train the same model from the same start (the step built the optimizer's state)
      checkSameModel(op, model.weightEntries().map((w) => w.variable), world);
      broadcastVariables([...model.weightEntries().map((w) => w.variable), ...model.compiled.optimizer.variables()]);
      // the same weights, but each rank its own dropout masks and noise
      foldRankIntoStreams(train.randomStates, world);
    }
    const trainRows = opts.shuffle === false ? range(0, nTrain) : null;
    const stepsFull = Math.ceil(nTrain / batchSize);
    const steps = opts.stepsPerEpoch ? Math.min(checkPositiveInt(op, 'stepsPerEpoch', opts.stepsPerEpoch, 1), stepsFull) : stepsFull;
    // a rank with no sample in a training step would average its batch statistics over nothing
    const last = Math.min(nTrain, steps * batchSize) % batchSize;
    checkWholeBatches(op, model, Math.min(nTrain, steps * batchSize), batchSize, 'training samples');
    const vb = valRows ? runBatchSize(op, 'validationBatchSize', model, opts.validationBatchSize ?? batchSize, world) : batchSize;
    if (valRows) checkWholeBatches(op, model, valRows.length, vb, 'validation samples');
    if (world.size > 1 && last > 0 && last < world.size)
      throw argError(op, `the last batch of each epoch has ${last} sample${last > 1 ? 's' : ''}, fewer than the ${world.size} ranks (${nTrain} training samples, batchSize ${batchSize}): every rank needs a share of every batch; change batchSize or the number of samples`);
    const history = new History();
    // Keras's order: the user's callbacks first, so History and the progress line see what they add to the logs
    const cbs: CallbackLike[] = [...(opts.callbacks ?? []), history, ...(verbose > 0 ? [new ProgbarLogger()] : [])];
    const keys = [...train.keys, ...(test ? test.keys.map((k) => `val_${k}`) : [])];
    const list = new CallbackList(cbs, model as never, { epochs, steps, samples: nTrain, batchSize, verbose, metrics: keys });
    // every rank walks the same epoch order: rank 0's seed
    const seed = agreedSeed(opts.seed ?? nextSeed(), world);
    model.stopTraining = false;
    const batchHooks = list.listens('onBatchBegin') || list.listens('onBatchEnd');
    await list.onTrainBegin({});
    for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
      model.compiled.resetMetrics();
      await list.onEpochBegin(epoch, {});
      let rows = trainRows ?? epochOrder(nTrain, seed, epoch);
      if (steps < stepsFull) rows = rows.subarray(0, Math.min(rows.length, steps * batchSize));
      let logs = await runBatches(world, train.f, train.keys, ds.args(), rows, batchSize, batchHooks ? async (b, l) => {
        await list.onBatchBegin(b, {});
        await list.onBatchEnd(b, l);
        if (model.stopTraining) throw STOP;
      } : undefined).catch((e) => {
        if (e === STOP) return null;
        throw e;
      });
      if (logs === null) logs = {};
      if (test && valRows && !model.stopTraining) {
        model.compiled.resetMetrics();
        const vl = await runBatches(world, test.f, test.keys, valData, valRows, vb);
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
  } finally {
    ds.dispose();
    vds?.dispose();
  }
}

const STOP = Symbol('stop');

/** Keras's evaluate: the loss and metrics over the data, in batches. */
export async function evaluateLoop(model: LoopModel, x: DataArgs, y: DataArgs, opts: EvaluateOptions = {}): Promise<number | number[] | Record<string, number>> {
  const op = `${model.name}.evaluate`;
  if (!model.compiled) throw new SymtensorError('ERR_ST_ARG', op, 'the model is not compiled: call model.compile({ optimizer, loss }) first');
  checkOptions(op, opts, EVALUATE_OPTIONS, { nullIsEmpty: false });
  const world = startWorld();
  const batchSize = runBatchSize(op, 'batchSize', model, opts.batchSize, world);
  const ds = makeDataset(model, op, x, y, opts.sampleWeight, undefined);
  try {
    checkWholeBatches(op, model, ds.n, batchSize);
    const test = cachedStep(model, ds, 'test');
    model.compiled.resetMetrics();
    const logs = await runBatches(world, test.f, test.keys, ds.args(), range(0, ds.n), batchSize);
    if (opts.returnDict) return logs;
    const vals = test.keys.map((k) => logs[k]);
    return vals.length === 1 ? vals[0] : vals;
  } finally {
    ds.dispose();
  }
}

/** Keras's predict: outputs for every sample, computed in batches. */
export async function predictLoop(model: LoopModel, x: DataArgs, opts: { batchSize?: number; verbose?: 0 | 1 | 2 | 'auto' } = {}): Promise<Tensor | Tensor[]> {
  const op = `${model.name}.predict`;
  checkOptions(op, opts, PREDICT_OPTIONS, { nullIsEmpty: false });
  // every rank predicts all of its own x
  const batchSize = runBatchSize(op, 'batchSize', model, opts.batchSize, { rank: 0, size: 1 });
  const ds = makeDataset(model, op, x, null, undefined, undefined);
  try {
    checkWholeBatches(op, model, ds.n, batchSize);
    const p = cachedStep(model, ds, 'predict');
    const data = ds.args();
    const rows = range(0, ds.n);
    const parts: Tensor[][] = model.outputs.map(() => []);
    for (let s = 0; s < ds.n; s += batchSize) {
      const outs = await p.f(rows.subarray(s, Math.min(ds.n, s + batchSize)), ...data);
      outs.forEach((t, i) => parts[i].push(t));
    }
    const results = parts.map((ps) => {
      if (ps.length === 1) return ps[0];
      const c = concat(ps, 0);
      for (const t of ps) t.dispose();
      return c;
    });
    return results.length === 1 ? results[0] : results;
  } finally {
    ds.dispose();
  }
}

// ---- data parallelism under MPI (Horovod's scheme, with the reductions inside the step) ----

/** This process's place among the ranks (rank 0 of 1 outside mpirun). */
export interface World {
  rank: number;
  size: number;
}

/** Starts the collectives (a no-op outside mpirun) and says where this process stands. */
export function startWorld(): World {
  initWorld();
  return { rank: worldRank(), size: worldSize() };
}

/**
 * Rank `world.rank`'s contiguous share of one global batch, split as evenly as possible (the first
 * `rows.length % size` ranks take one row more).
 * @example shardOf(Int32Array.of(0, 1, 2, 3, 4), { rank: 1, size: 2 }) // [3, 4]
 */
export function shardOf(rows: Int32Array, world: World): Int32Array {
  if (world.size === 1) return rows;
  const s = shareOf(rows.length, world);
  return rows.subarray(s.start, s.start + s.count);
}

/** Where rank `world.rank`'s share of a batch of `length` rows starts, and its size (see shardOf). */
export function shareOf(length: number, world: World): { start: number; count: number } {
  const base = Math.floor(length / world.size);
  const rem = length % world.size;
  return { start: world.rank * base + Math.min(world.rank, rem), count: base + (world.rank < rem ? 1 : 0) };
}

/** A global batch size checked to split evenly across the ranks. */
export function globalBatchSize(op: string, name: string, batchSize: number, world: World): number {
  if (batchSize % world.size !== 0)
    throw argError(op, `${name} ${batchSize} is the global batch under MPI and must divide evenly among the ${world.size} ranks (use a multiple of ${world.size}, e.g. ${Math.max(world.size, Math.round(batchSize / world.size) * world.size)})`);
  return batchSize;
}

const RANK_STRIDE = 2654435761;
/** The seed each stream state was last given by foldRankIntoStreams (so a second fit keeps it). */
const foldedSeeds = new WeakMap<SharedVariable, number>();

/**
 * Gives every rank but rank 0 its own seed in each random stream state ([seed, call number]) the
 * training step draws from: the ranks start from the same seeds (the same model built from
 * setRandomSeed's sequence), and identical streams would draw the same dropout mask on every
 * rank's share of the batch.  A state already folded (an earlier fit) keeps its seed.
 */
export function foldRankIntoStreams(states: SharedVariable[], world: World): void {
  if (world.rank === 0) return;
  for (const s of states) {
    const cur = s.get();
    const [seed, call] = Array.from(cur.dataSync() as Float64Array);
    cur.dispose();
    if (foldedSeeds.get(s) === seed) continue;
    const folded = (seed + world.rank * RANK_STRIDE) % 2 ** 53;
    s.set(tensor([folded, call], { dtype: 'float64' }));
    foldedSeeds.set(s, folded);
  }
}

/** Rank 0's seed, on every rank (seeds are integers below 2^53, exact in float64). */
export function agreedSeed(seed: number, world: World): number {
  if (world.size === 1) return seed;
  const t = tensor([seed], { dtype: 'float64' });
  const b = broadcast(t, { root: 0 });
  const v = Number(b.dataSync()[0]);
  t.dispose();
  b.dispose();
  return v;
}

/** Replaces each variable's value by rank 0's, so that every rank starts from the same state. */
export function broadcastVariables(vars: SharedVariable[]): void {
  for (const v of vars) {
    const mine = v.get();
    const root = broadcast(mine, { root: 0 });
    v.set(root);
    mine.dispose();
    root.dispose();
  }
}

const NAME_CHARS = 48;

/** allgather of a float64 matrix [rows, width], as plain rows per rank. */
function gatherRows(rows: number[][], width: number, world: World): number[][][] {
  const flat = new Float64Array(Math.max(1, rows.length) * width);
  rows.forEach((r, i) => flat.set(r, i * width));
  const t = tensor(flat, { shape: [Math.max(1, rows.length), width], dtype: 'float64' });
  const g = allgather(t);
  const all = g.dataSync() as Float64Array;
  t.dispose();
  g.dispose();
  const per = Math.max(1, rows.length) * width;
  return Array.from({ length: world.size }, (_, r) => Array.from({ length: Math.max(1, rows.length) }, (_, i) => Array.from(all.subarray(r * per + i * width, r * per + (i + 1) * width))));
}

/**
 * Checks that every rank holds the same variables (count and shapes) before any collective that
 * would otherwise mix mismatched buffers or wait forever.  Every rank gathers every rank's
 * signature and throws the same error, naming the first rank that differs from rank 0 and the
 * variable (name and both shapes).
 */
export function checkSameModel(op: string, vars: SharedVariable[], world: World): void {
  if (world.size === 1) return;
  const head = gatherRows([[vars.length, Math.max(0, ...vars.map((v) => v.ndim))]], 2, world).map((r) => r[0]);
  const count = Math.max(...head.map((h) => h[0]));
  const maxRank = Math.max(...head.map((h) => h[1]));
  const width = 2 + maxRank + NAME_CHARS;
  const rows = Array.from({ length: count }, (_, i) => {
    const row = new Array<number>(width).fill(-1);
    const v = vars[i];
    if (!v) return row;
    row[0] = v.ndim;
    (v.type.shape as number[]).forEach((d, k) => (row[1 + k] = d));
    const name = v.name ?? `weight ${i}`;
    row[1 + maxRank] = Math.min(name.length, NAME_CHARS);
    for (let c = 0; c < Math.min(name.length, NAME_CHARS); c++) row[2 + maxRank + c] = name.charCodeAt(c);
    return row;
  });
  const all = gatherRows(rows, width, world);
  const describe = (row: number[] | undefined) => {
    if (!row || row[0] < 0) return { name: '(none)', shape: 'absent' };
    const len = row[1 + maxRank];
    const name = String.fromCharCode(...row.slice(2 + maxRank, 2 + maxRank + len));
    return { name, shape: `[${row.slice(1, 1 + row[0]).join(', ')}]` };
  };
  for (let r = 1; r < world.size; r++) {
    for (let i = 0; i < count; i++) {
      const a = all[r][i];
      const b = all[0][i];
      const same = a[0] === b[0] && a.slice(1, 1 + Math.max(0, a[0])).every((d, k) => d === b[1 + k]);
      if (same) continue;
      const mine = describe(a);
      const root = describe(b);
      const counts = head[r][0] !== head[0][0] ? `rank ${r} has ${head[r][0]} variables and rank 0 has ${head[0][0]}; ` : '';
      throw new SymtensorError('ERR_ST_SHAPE', op, `the ranks' models differ: ${counts}variable ${i} is '${mine.name}' ${mine.shape} on rank ${r} but '${root.name}' ${root.shape} on rank 0 (every rank must build the same model)`);
    }
  }
}
