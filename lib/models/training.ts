// compile(): the loss, metrics and optimizer of a model, and the compiled programs built from
// them.  A training step — forward, loss, gradients, optimizer update, batch-norm statistics,
// metric accumulation — is one program.  In-memory data is passed to the step by reference (no
// copy); each step gathers the rows of the batch's indices natively (see loops.ts).
import { DType } from '../dtype';
import { SymtensorError, argError } from '../errors';
import { checkOptions } from './options';
import { CompiledFunction, fn } from '../compile/function';
import { grad } from '../graph/grad';
import { SharedVariable, shared } from '../graph/shared';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';
import { isDistributed, worldSize } from '../tensor/distributed/index';
import { gradientReduction } from '../tensor/distributed/world';
import { tensor } from '../tensor/creation';
import { Tensor } from '../tensor/tensor';
import { replaceIn } from './graph-util';
import type { CallContext, KerasTensor, Mask } from './layer';
import { Loss, getLoss, reduceLoss, reduceMaskedLoss } from './losses';
import { Metric, getMetric } from './metrics';
import { Optimizer, getOptimizer } from './optimizers';

type LossId = Parameters<typeof getLoss>[0];
type MetricId = Parameters<typeof getMetric>[0];
type OptimizerId = Parameters<typeof getOptimizer>[0];

/**
 * The arguments of `model.compile`: optimizer, loss(es), metrics and loss weights, with Keras's meanings.
 * @example model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] })
 */
export interface CompileArgs {
  /** 'adam', 'sgd' … or an optimizer object (default 'rmsprop', as Keras). */
  optimizer?: OptimizerId;
  /**
   * One loss for every output, one per output (array), or by output name.  An output that carries
   * a Keras mask (a sequence after embedding({ maskZero: true }) or masking()) counts only its
   * unmasked steps, as in Keras: the loss is the mean over those steps, and the mean metrics
   * (accuracies, errors) average over them too.
   */
  loss: LossId | LossId[] | Record<string, LossId>;
  /** Metrics for every output, per output (array of arrays), or by output name. */
  metrics?: MetricId[] | MetricId[][] | Record<string, MetricId[]>;
  /** Weights of the outputs' losses in the total. */
  lossWeights?: number[] | Record<string, number>;
  /**
   * A custom training step (Keras's train_step), written with T ops and st.grad; it is compiled
   * into one program and driven by fit with its callbacks and history.  Also definable as a
   * `trainStep` method of a Model subclass.
   */
  trainStep?: TrainStep;
}

/** One batch as the training step sees it: symbolic inputs, targets, sample weights. */
export interface StepData {
  x: Variable[];
  y: Variable[];
  sampleWeight: Variable | null;
}

/** What a custom training step can use besides the data. */
export interface StepTools {
  /**
   * The model's outputs in training mode (batch-norm statistics, stateful layers' states and layer
   * losses are collected; computeLoss weights an output that carries a Keras mask by it).
   */
  call(x: Variable[]): Variable[];
  /** The compiled loss: weighted losses of the outputs plus regularization and layer losses. */
  computeLoss(y: Variable[], preds: Variable[], sampleWeight?: Variable | null): Variable;
  /**
   * The optimizer given to compile.  Under MPI its getUpdates first sums the ranks' gradients,
   * each weighted by its share of the global batch (as fit's own step does).
   */
  optimizer: Optimizer;
  /** The weights the optimizer may change. */
  trainableWeights: SharedVariable[];
}

/**
 * A custom training step: returns the updates to apply and the scalars to log (each logged value
 * is averaged over the epoch's samples, as Keras's metrics are).
 */
export type TrainStep = (data: StepData, tools: StepTools) => { updates: Iterable<readonly [SharedVariable, Variable]>; logs: Record<string, Variable> };

/** What a model needs from itself to build its programs (the Model class provides it). */
export interface TrainableModel {
  name: string;
  inputs: KerasTensor[];
  outputs: KerasTensor[];
  /** The names of the model's outputs, in order (the keys of per-output losses and metrics). */
  outputNames(): string[];
  /** The names of the model's inputs, in order. */
  inputNames(): string[];
  /** The model's symbolic forward pass over its inputs. */
  call(inputs: Variable[], ctx: CallContext): Variable | Variable[];
  /**
   * The forward pass with the Keras mask each output carries (null where none); without it the
   * outputs count as unmasked.
   */
  callMasked?(inputs: Variable[], ctx: CallContext): { outputs: Variable[]; masks: Mask[] };
  /** The batch size the model's stateful layers were built for (null without stateful layers). */
  statefulBatch?(): { batchSize: number; layer: string } | null;
  /** A custom training step defined on a Model subclass. */
  trainStep?: TrainStep;
  /** Every weight with whether it is trained, and its regularizer and constraint. */
  weightEntries(): {
    variable: SharedVariable;
    trainable: boolean;
    layerTrainable: boolean;
    regularizer: {
      /** The penalty of weight w, added to the loss. */
      call(w: Variable): Variable;
    } | null;
    constraint: {
      /** w projected back into the allowed set after a step. */
      call(w: Variable): Variable;
    } | null;
  }[];
}

/** A compiled metric and the output and history key it reports under. */
interface TrackedMetric {
  output: number;
  key: string;
  metric: Metric;
}

/** Running mean of the loss weighted by batch size (Keras's loss tracker), kept natively. */
class LossTracker {
  readonly total = shared(tensor(0, { dtype: 'float32' }), 'loss/total');
  readonly count = shared(tensor(0, { dtype: 'float32' }), 'loss/count');
  /** Restarts the running mean (at each epoch, and before evaluate). */
  reset(): void {
    this.total.set(tensor(0, { dtype: 'float32' }));
    this.count.set(tensor(0, { dtype: 'float32' }));
  }
  /** The updates adding one batch's mean loss, weighted by its size, and the new running mean. */
  update(loss: Variable, batch: Variable): { updates: [SharedVariable, Variable][]; result: Variable } {
    return this.addSums(castTo(loss, 'float32').mul(batch), batch);
  }
  /** The updates adding a weighted loss sum and its sample count (summed over ranks under MPI). */
  addSums(weighted: Variable, count: Variable): { updates: [SharedVariable, Variable][]; result: Variable } {
    const total = this.total.add(weighted);
    const n = this.count.add(count);
    return { updates: [[this.total, total], [this.count, n]], result: total.div(T.maximum(n, 1e-12)) };
  }
}

/**
 * The values of one step that must agree across ranks, summed by one collective (T.allreduce
 * buckets them into one instruction).  In a single process (or before distributed.init()) it is
 * off and every value passes through unchanged.
 */
class RankSum {
  readonly on = isDistributed();
  readonly size = worldSize();
  private readonly xs: Variable[] = [];
  private out: Variable[] | null = null;
  /** Registers `x`; the returned function gives its sum over ranks once run() was called. */
  add(x: Variable): () => Variable {
    if (!this.on) return () => x;
    const i = this.xs.push(x) - 1;
    return () => {
      if (!this.out) throw new SymtensorError('ERR_ST_INTERNAL', 'buildStep', 'a rank sum was read before the collective was built');
      return this.out[i];
    };
  }
  /** Builds the collective over every registered value. */
  run(): void {
    if (this.on && this.xs.length) this.out = T.allreduce(this.xs, { op: 'sum', ...gradientReduction() });
  }
}

const isFloat = (d: DType) => d === 'float32' || d === 'float64';

/**
 * `v` as `dtype`: a cast only where the dtypes differ (an identity cast stays in the compiled step
 * as one more instruction per batch).
 */
function castTo(v: Variable, dtype: DType): Variable {
  return v.dtype === dtype ? v : T.cast(v, dtype);
}

/** A loss times its weight (no multiplication for the usual weight of 1). */
function weighted(loss: Variable, w: number): Variable {
  return w === 1 ? loss : loss.mul(w);
}

/**
 * `opt` whose getUpdates sums the ranks' gradients first, each weighted by this rank's `batch`
 * and divided by the global batch: the single-process mean gradient over the global batch.
 */
function reducingOptimizer(opt: Optimizer, batch: Variable): Optimizer {
  const getUpdates = (a: SharedVariable[] | Variable, b: (Variable | null)[] | SharedVariable[]): [SharedVariable, Variable][] => {
    const params = (a instanceof Variable ? b : a) as SharedVariable[];
    const grads = a instanceof Variable ? grad(a, params) : (b as (Variable | null)[]);
    const live = grads.flatMap((g, i) => (g ? [i] : []));
    if (!live.length) return opt.getUpdates(params, grads);
    // the last layers' gradients first: the backward pass makes them first, so the program
    // computes them first and their buckets leave while the earlier layers are still computed
    const order = live.slice().reverse();
    const summed = T.allreduce([...order.map((i) => grads[i]!.mul(castTo(batch, grads[i]!.dtype))), batch], { op: 'sum', ...gradientReduction() });
    const n = T.maximum(summed[order.length], 1e-12);
    const out = grads.slice();
    order.forEach((i, k) => (out[i] = summed[k].div(castTo(n, grads[i]!.dtype))));
    return opt.getUpdates(params, out);
  };
  return new Proxy(opt, {
    get(target, key) {
      if (key === 'getUpdates') return getUpdates;
      const v = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * The model's outputs in inference mode and the updates that advance its stateful layers' states
 * (Keras carries them through predict as well): what a predict step compiles.
 */
export function inferenceGraph(model: TrainableModel, xs: Variable[]): { outputs: Variable[]; updates: [SharedVariable, Variable][] } {
  const updates: [SharedVariable, Variable][] = [];
  const ctx: CallContext = { training: false, addUpdate() {}, addLoss() {}, addStateUpdate: (v, value) => updates.push([v, value]) };
  const out = model.call(xs, ctx);
  return { outputs: Array.isArray(out) ? out : [out], updates };
}

/** The forward pass with the outputs' Keras masks (none for a model that cannot say). */
function forward(model: TrainableModel, xs: Variable[], ctx: CallContext): { outputs: Variable[]; masks: Mask[] } {
  if (model.callMasked) return model.callMasked(xs, ctx);
  const out = model.call(xs, ctx);
  const outputs = Array.isArray(out) ? out : [out];
  return { outputs, masks: outputs.map(() => null) };
}

/**
 * One output's scalar loss: Keras's 'sum_over_batch_size' of the per-sample losses, or, for an
 * output carrying a Keras mask, the mean over its unmasked steps (see reduceMaskedLoss).
 */
function outputLoss(loss: Loss, y: Variable, p: Variable, mask: Mask, sw: Variable | null): Variable {
  return mask ? reduceMaskedLoss(loss, y, p, mask, sw ?? undefined) : reduceLoss(loss.call(y, p), sw ?? undefined);
}

/** A compiled model's training configuration and its program caches. */
export class CompiledModel {
  readonly optimizer: Optimizer;
  readonly losses: Loss[];
  readonly lossWeights: number[];
  readonly metrics: TrackedMetric[];
  readonly lossIds: unknown[];
  readonly metricIds: unknown;
  readonly trackers: LossTracker[];
  /** Running means of a custom step's logs, by key. */
  readonly logTrackers = new Map<string, LossTracker>();
  readonly trainStep: TrainStep | null;
  /** Programs keyed by mode and data layout. */
  readonly programs = new Map<string, { f: CompiledFunction<Tensor[]>; keys: string[] }>();

  constructor(readonly model: TrainableModel, args: CompileArgs) {
    const op = `${model.name}.compile`;
    if (args === null || typeof args !== 'object') throw argError(op, 'expects { optimizer, loss, metrics? }');
    checkOptions(op, args, ['optimizer', 'loss', 'metrics', 'lossWeights', 'trainStep']);
    if (args.loss === undefined || args.loss === null) throw argError(op, 'a loss is required (e.g. loss: "meanSquaredError")');
    const outNames = model.outputNames();
    this.optimizer = getOptimizer(args.optimizer ?? 'rmsprop');
    const perOutput = <V>(what: string, v: V | V[] | Record<string, V>, isOne: (x: unknown) => boolean): V[] => {
      if (Array.isArray(v) && !isOne(v)) {
        if (v.length !== outNames.length) throw argError(op, `${what}: ${v.length} given for ${outNames.length} outputs (${outNames.join(', ')})`);
        return v as V[];
      }
      if (v !== null && typeof v === 'object' && !isOne(v)) {
        const rec = v as Record<string, V>;
        const bad = Object.keys(rec).filter((k) => !outNames.includes(k));
        if (bad.length) throw argError(op, `${what}: no output is named ${bad.join(', ')} (outputs: ${outNames.join(', ')})`);
        return outNames.map((n) => {
          if (!(n in rec)) throw argError(op, `${what}: missing an entry for output '${n}'`);
          return rec[n];
        });
      }
      return outNames.map(() => v as V);
    };
    const isLossObj = (x: unknown) => typeof x === 'string' || typeof x === 'function' || x instanceof Loss || (x !== null && typeof x === 'object' && 'className' in (x as object));
    this.lossIds = perOutput('loss', args.loss as LossId, isLossObj);
    this.losses = (this.lossIds as LossId[]).map((id) => getLoss(id));
    const lw = args.lossWeights === undefined ? outNames.map(() => 1) : perOutput<number>('lossWeights', args.lossWeights as unknown as number, (x) => typeof x === 'number');
    lw.forEach((w) => {
      if (typeof w !== 'number' || !Number.isFinite(w)) throw argError(op, `lossWeights must be finite numbers, got ${String(w)}`);
    });
    this.lossWeights = lw;
    // metrics: a flat list applies to every output
    let perOut: MetricId[][];
    const m = args.metrics ?? [];
    if (Array.isArray(m) && (m.length === 0 || !Array.isArray(m[0]))) perOut = outNames.map(() => m as MetricId[]);
    else if (Array.isArray(m)) {
      if (m.length !== outNames.length) throw argError(op, `metrics: ${m.length} lists given for ${outNames.length} outputs`);
      perOut = m as MetricId[][];
    } else perOut = perOutput('metrics', m as Record<string, MetricId[]>, () => false) as unknown as MetricId[][];
    this.metricIds = args.metrics ?? [];
    this.metrics = [];
    const multi = outNames.length > 1;
    perOut.forEach((ids, o) => {
      if (!Array.isArray(ids)) throw argError(op, `metrics for output '${outNames[o]}' must be a list`);
      for (const id of ids) {
        const metric = getMetric(id, { lossName: this.losses[o].name, outputShape: model.outputs[o].shape });
        const key = multi ? `${outNames[o]}_${metric.name}` : metric.name;
        if (this.metrics.some((t) => t.key === key)) throw argError(op, `metric '${key}' is listed twice`);
        this.metrics.push({ output: o, key, metric });
      }
    });
    this.trackers = [new LossTracker(), ...(multi ? outNames.map(() => new LossTracker()) : [])];
    if (args.trainStep !== undefined && typeof args.trainStep !== 'function') throw argError(op, 'trainStep must be a function (data, tools) => { updates, logs }');
    this.trainStep = args.trainStep ?? model.trainStep?.bind(model) ?? null;
  }

  /** History keys of the step's outputs, in order. */
  logKeys(): string[] {
    const outNames = this.model.outputNames();
    const keys = ['loss'];
    if (outNames.length > 1) keys.push(...outNames.map((n) => `${n}_loss`));
    keys.push(...this.metrics.map((m) => m.key));
    return keys;
  }

  /** Sets every metric and loss tracker back to empty. */
  resetMetrics(): void {
    for (const t of this.trackers) t.reset();
    for (const t of this.logTrackers.values()) t.reset();
    for (const m of this.metrics) m.metric.resetState();
  }

  /** State variables of metrics and trackers (never saved with the model). */
  metricVariables(): SharedVariable[] {
    return [...[...this.trackers, ...this.logTrackers.values()].flatMap((t) => [t.total, t.count]), ...this.metrics.flatMap((m) => m.metric.variables())];
  }

  /**
   * The symbolic step: the model on `xs`, the losses against `ys`, metric updates, and (when
   * training) gradients and optimizer updates.  `batch` is the batch size as a float32 scalar.
   */
  buildStep(train: boolean, xs: Variable[], ys: Variable[], sws: (Variable | null)[], batch: Variable): { outputs: Variable[]; updates: [SharedVariable, Variable][]; keys: string[] } {
    if (train && this.trainStep) return this.buildCustomStep(xs, ys, sws[0] ?? null, batch);
    // batch-norm statistics (addUpdate) move only in training; a stateful layer's states
    // (addStateUpdate) advance in every mode
    const stateUpdates: [SharedVariable, Variable][] = [];
    const carried: [SharedVariable, Variable][] = [];
    const extraLosses: Variable[] = [];
    const ctx: CallContext = {
      training: train,
      addUpdate: (v, value) => stateUpdates.push([v, value]),
      addLoss: (l) => extraLosses.push(l),
      addStateUpdate: (v, value) => carried.push([v, value]),
    };
    const { outputs: preds, masks } = forward(this.model, xs, ctx);
    const outNames = this.model.outputNames();
    const perOutput = preds.map((p, i) => {
      const loss = this.losses[i];
      try {
        return outputLoss(loss, ys[i], p, masks[i] ?? null, sws[i] ?? null);
      } catch (e) {
        if (!(e instanceof SymtensorError)) throw e;
        throw new SymtensorError(e.code, `${this.model.name}.compile`, `loss ${loss.name} for output '${outNames[i]}' (prediction ${fmt(p)}, target ${fmt(ys[i])}${masks[i] ? `, mask ${fmt(masks[i]!)}` : ''}): ${e.message}`);
      }
    });
    const entries = this.model.weightEntries();
    const penalties: Variable[] = [];
    for (const w of entries) if (w.regularizer) penalties.push(castTo(w.regularizer.call(w.variable), 'float32'));
    let total: Variable = perOutput.map((l, i) => weighted(castTo(l, 'float32'), this.lossWeights[i])).reduce((a, b) => a.add(b));
    for (const p of [...penalties, ...extraLosses]) total = total.add(castTo(p, 'float32'));

    // Under MPI every value that must agree across ranks goes through one summing collective
    // (identity in a single process): gradients weighted by the local batch size, the trackers'
    // sums, the metrics' state increments, and the layers' float state (averaged).
    const rs = new RankSum();
    const updates: [SharedVariable, Variable][] = [];
    let gradsOut: (() => Variable)[] = [];
    let params: typeof entries = [];
    let countOut: (() => Variable) | null = null;
    if (train) {
      params = entries.filter((w) => w.trainable && w.layerTrainable);
      if (params.length === 0) throw argError(`${this.model.name}.fit`, 'the model has no trainable weights');
      const grads = grad(total, params.map((w) => w.variable));
      // registered last layer first: the order the backward pass makes the gradients, so the
      // program computes them in that order and each bucket's reduction leaves as early as it can
      gradsOut = new Array(grads.length);
      for (let i = grads.length - 1; i >= 0; i--) gradsOut[i] = rs.add(rs.on ? grads[i].mul(castTo(batch, grads[i].dtype)) : grads[i]);
      countOut = rs.add(batch);
    }
    const stateOut = (train ? stateUpdates : []).map(([v, value]) => rs.add(rs.on && isFloat(value.dtype) ? value.mul(1 / rs.size) : value));
    const lossIns = [total, ...(outNames.length > 1 ? perOutput : [])];
    const trackerOut = lossIns.map((l) => rs.add(castTo(l, 'float32').mul(batch)));
    const batchOut = rs.add(batch);
    const metricUps = this.metrics.map((m) => m.metric.updateState(ys[m.output], preds[m.output], sws[m.output] ?? undefined, masks[m.output] ?? undefined));
    const metricOut = metricUps.map((ups) => ups.map(([v, value]) => rs.add(rs.on ? value.sub(v) : value)));
    rs.run();

    if (train) {
      const n = countOut!();
      const grads = gradsOut.map((g, i) => (rs.on ? g().div(castTo(T.maximum(n, 1e-12), params[i].variable.dtype)) : g()));
      const constraintOf = new Map(params.map((w) => [w.variable, w.constraint]));
      for (const [v, value] of this.optimizer.getUpdates(params.map((w) => w.variable), grads)) {
        const c = constraintOf.get(v);
        updates.push([v, c ? c.call(value) : value]);
      }
      stateUpdates.forEach(([v, value], i) => updates.push([v, rs.on && isFloat(value.dtype) ? castTo(stateOut[i](), value.dtype) : value]));
    }
    // each rank carries its own recurrent states: not reduced
    updates.push(...carried);
    // metrics: results are read from the state after this batch
    const after = new Map<Variable, Variable>();
    const results: Variable[] = [];
    const lossPairs = lossIns.map((_, i) => this.trackers[i].addSums(trackerOut[i](), batchOut()));
    for (const lp of lossPairs) {
      updates.push(...lp.updates);
      results.push(lp.result);
    }
    const metricResults: Variable[] = [];
    this.metrics.forEach((m, k) => {
      metricUps[k].forEach(([v, value], j) => {
        const nv = rs.on ? castTo(T.add(v, metricOut[k][j]()), value.dtype) : value;
        updates.push([v, nv]);
        after.set(v, nv);
      });
      metricResults.push(m.metric.result());
    });
    // a result that is a plain variable (a metric's state itself) still gets its own output copy
    results.push(...replaceIn(metricResults, after).map((r) => (r.owner ? castTo(r, 'float32') : T.cast(r, 'float32'))));
    return { outputs: results, updates, keys: this.logKeys() };
  }

  /** The training step of a custom trainStep: its updates, and running means of its logs. */
  private buildCustomStep(xs: Variable[], ys: Variable[], sw: Variable | null, batch: Variable): { outputs: Variable[]; updates: [SharedVariable, Variable][]; keys: string[] } {
    const op = `${this.model.name}.trainStep`;
    const stateUpdates: [SharedVariable, Variable][] = [];
    const carried: [SharedVariable, Variable][] = [];
    const extraLosses: Variable[] = [];
    const ctx: CallContext = {
      training: true,
      addUpdate: (v, value) => stateUpdates.push([v, value]),
      addLoss: (l) => extraLosses.push(l),
      addStateUpdate: (v, value) => carried.push([v, value]),
    };
    const entries = this.model.weightEntries();
    // the Keras masks of the outputs tools.call gave, so computeLoss can weight by them (Keras
    // keeps a mask on its tensor)
    const maskOf = new Map<Variable, Variable>();
    const tools: StepTools = {
      call: (x) => {
        const { outputs, masks } = forward(this.model, x, ctx);
        outputs.forEach((o, i) => masks[i] && maskOf.set(o, masks[i]!));
        return outputs;
      },
      computeLoss: (y, preds, w) => {
        let total: Variable = preds.map((p, i) => weighted(castTo(outputLoss(this.losses[i], y[i], p, maskOf.get(p) ?? null, w ?? null), 'float32'), this.lossWeights[i])).reduce((a, b) => a.add(b));
        for (const e of entries) if (e.regularizer) total = total.add(castTo(e.regularizer.call(e.variable), 'float32'));
        for (const l of extraLosses) total = total.add(castTo(l, 'float32'));
        return total;
      },
      optimizer: isDistributed() ? reducingOptimizer(this.optimizer, batch) : this.optimizer,
      trainableWeights: entries.filter((w) => w.trainable && w.layerTrainable).map((w) => w.variable),
    };
    const res = this.trainStep!({ x: xs, y: ys, sampleWeight: sw }, tools);
    if (!res || typeof res !== 'object' || !res.logs || typeof res.logs !== 'object') throw argError(op, 'must return { updates, logs }');
    const updates: [SharedVariable, Variable][] = [...(res.updates ?? [])].map((u) => [u[0], u[1]]);
    // layers' float state (batch-norm statistics) is averaged over the ranks, as in fit's step
    const rsState = new RankSum();
    const averaged = (value: Variable) => rsState.on && isFloat(value.dtype);
    const stateOut = stateUpdates.map(([, value]) => (averaged(value) ? rsState.add(value.mul(1 / rsState.size)) : () => value));
    rsState.run();
    stateUpdates.forEach(([v, value], i) => updates.push([v, averaged(value) ? castTo(stateOut[i](), value.dtype) : value]));
    // a stateful layer's states: each rank keeps its own
    updates.push(...carried);
    const keys = Object.keys(res.logs);
    if (keys.length === 0) throw argError(op, 'must log at least one value (e.g. { loss })');
    // under MPI the logged means are over every rank's samples; gradients are summed by
    // tools.optimizer (updates built another way are the user's to reduce, with T.allreduce)
    const rs = new RankSum();
    const sums = keys.map((k) => {
      const v = res.logs[k];
      if (!(v instanceof Variable) || v.ndim !== 0) throw argError(op, `logs.${k} must be a symbolic scalar, got ${v instanceof Variable ? v.describe() : String(v)}`);
      return rs.add(castTo(v, 'float32').mul(batch));
    });
    const count = rs.add(batch);
    rs.run();
    const outputs = keys.map((k, i) => {
      let t = this.logTrackers.get(k);
      if (!t) this.logTrackers.set(k, (t = new LossTracker()));
      const u = t.addSums(sums[i](), count());
      updates.push(...u.updates);
      return u.result;
    });
    return { outputs, updates, keys };
  }
}

function fmt(v: Variable): string {
  return `${JSON.stringify(v.type.shape).replace(/null/g, '?')} ${v.dtype}`;
}

/** Placeholders for a model's data: inputs as declared, targets shaped like the data given. */
export function targetPlaceholder(name: string, data: { shape: number[]; dtype: DType }): Variable {
  return T.tensor(data.dtype, [null, ...data.shape.slice(1)], name);
}
