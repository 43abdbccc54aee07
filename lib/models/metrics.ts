/**
 * Keras metrics as state in shared variables.  `updateState` returns the symbolic updates that add
 * one batch to the state (they go into the training step's `updates`, so a whole step stays one
 * compiled program); `result` is a symbolic expression of the state; `resetState` sets the state
 * back from JS.
 *
 * History keys (`name`): Keras's snake_case names — 'binary_accuracy', 'precision', 'recall',
 * 'auc', 'f1_score', 'mean_squared_error', 'root_mean_squared_error',
 * 'top_k_categorical_accuracy' … .  getMetric keeps a lowercase string id as the key, as Keras 3
 * does ('accuracy', 'acc', 'mse'), and gives camelCase or class-name ids their snake_case name
 * ('meanSquaredError' → 'mean_squared_error').
 * @example
 *   const acc = new BinaryAccuracy();
 *   const step = st.fn([y, p], [], { updates: acc.updateState(y, p) });
 *   step.sync(yBatch, pBatch);
 *   const value = acc.result().eval();
 */
import { argError, fmtValue, shapeError } from '../errors';
import * as T from '../graph/T';
import { SharedVariable, shared } from '../graph/shared';
import { Variable } from '../graph/variable';
import { full } from '../tensor/creation';
import {
  EPSILON, MeanAbsoluteError as MaeLoss, MeanSquaredError as MseLoss, alignLabels, alignSparseLabels, dims, getLoss, lossClassName,
  lossNames, meanOverSamples, mergeSteps, onesLike, sampleWeightFor, splitSteps,
} from './losses';
import { ClassRegistry, checkNamedOptions as checkOptions, checkVariable, configOptions, finiteNumber, nameKey, toSnakeCase } from './options';

type Opts = Record<string, unknown>;
/** The state updates of one metric step: [shared variable, new value] pairs. */
type Updates = [SharedVariable, Variable][];

/** a / b, and 0 where b is 0 (Keras's divide_no_nan). */
function divNoNan(a: Variable, b: Variable): Variable {
  const zero = T.equal(b, 0);
  return T.where(zero, 0, T.div(a, T.where(zero, 1, b)));
}

/** v as float32 (state is float32 whatever the data's dtype). */
function f32(v: Variable): Variable {
  return v.dtype === 'float32' ? v : T.cast(v, 'float32');
}

// ---- the Metric contract ----

/** Common options of every metric. */
export interface MetricOptions {
  /** The history key (default: Keras's snake_case name, e.g. 'binary_accuracy'). */
  name?: string;
}

/** A Keras metric whose state lives in float32 shared variables. */
export abstract class Metric {
  /** The history key, e.g. 'accuracy', 'precision', 'auc'. */
  readonly name: string;
  /** The class name in configs (Keras's, e.g. 'BinaryAccuracy'). */
  abstract readonly className: string;
  private readonly state: { v: SharedVariable; init: number; shape: number[] }[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** A float32 accumulator named '<metric name>/<what>'. */
  protected addState(what: string, shape: number[], init = 0): SharedVariable {
    const t = full(shape, init, 'float32');
    const v = shared(t, `${this.name}/${what}`);
    t.dispose();
    this.state.push({ v, init, shape: shape.slice() });
    return v;
  }

  /** State accumulators (float32 shared variables, named '<metric name>/<what>'). */
  variables(): SharedVariable[] {
    return this.state.map((s) => s.v);
  }

  /**
   * Symbolic updates that add this batch to the state (sampleWeight optional, shape [batch]).
   * `mask` is the Keras mask of a sequence output ([batch, steps], true at the steps that count):
   * the mean metrics (accuracies, errors, crossentropies: MeanMetricWrapper) then count only the
   * unmasked steps, as Keras 3's do; the others ignore it, as Keras 3's do.
   */
  abstract updateState(yTrue: Variable, yPred: Variable, sampleWeight?: Variable, mask?: Variable): Updates;

  /** The metric's value as a symbolic expression of the state (0 while the state is empty). */
  abstract result(): Variable;

  /** Sets the state back to its initial values. */
  resetState(): void {
    for (const s of this.state) {
      const t = full(s.shape, s.init, 'float32');
      s.v.set(t);
      t.dispose();
    }
  }

  /** The options this metric was made with (camelCase keys). */
  protected options(): Record<string, unknown> {
    return {};
  }

  /** What getMetric needs to rebuild this metric. */
  getConfig(): { className: string; config: Record<string, unknown> } {
    return { className: this.className, config: { name: this.name, ...this.options() } };
  }
}

// ---- means ----

/** total and count, and the weighted mean of per-sample values (Keras's Mean). */
abstract class MeanState extends Metric {
  readonly total: SharedVariable;
  readonly count: SharedVariable;
  constructor(name: string) {
    super(name);
    this.total = this.addState('total', []);
    this.count = this.addState('count', []);
  }

  /** Adds values (per-sample after averaging extra axes; a scalar counts as one) to the state. */
  protected accumulate(op: string, values: Variable, sampleWeight?: Variable): Updates {
    let v = checkVariable(op, 'values', values);
    if (v.dtype !== 'float32' && v.dtype !== 'float64') v = T.cast(v, 'float32');
    if (v.ndim === 0) {
      if (sampleWeight) throw shapeError(op, `sampleWeight needs per-sample values, got a scalar (${v.describe()})`);
      return [[this.total, T.add(this.total, f32(v))], [this.count, T.add(this.count, 1)]];
    }
    v = meanOverSamples(op, v);
    let n: Variable;
    if (sampleWeight) {
      const w = sampleWeightFor(op, sampleWeight, v);
      v = T.mul(v, w);
      n = T.sum(w);
    } else n = T.sum(onesLike(v));
    return [[this.total, T.add(this.total, f32(T.sum(v)))], [this.count, T.add(this.count, f32(n))]];
  }

  result(): Variable {
    return divNoNan(this.total, this.count);
  }
}

/**
 * The weighted mean of values (Keras's Mean; the loss trackers use it).  Like Keras's, its
 * updateState takes (values, sampleWeight?).
 */
export class Mean extends MeanState {
  readonly className = 'Mean';
  constructor(opts?: MetricOptions) {
    super((checkOptions('Mean', opts, ['name']).name as string) ?? 'mean');
  }
  override updateState(values: Variable, sampleWeight?: Variable): Updates {
    return this.accumulate(this.name, values, sampleWeight);
  }
}

/** The mean of a per-sample function of (yTrue, yPred) (Keras's MeanMetricWrapper). */
export class MeanMetricWrapper extends MeanState {
  readonly className: string = 'MeanMetricWrapper';
  constructor(
    /** The per-sample function whose mean this metric tracks. */
    readonly fn: (yTrue: Variable, yPred: Variable) => Variable,
    name?: string,
  ) {
    if (typeof fn !== 'function') throw argError('MeanMetricWrapper', `expected a function (yTrue, yPred) => values, got ${fmtValue(fn)}`);
    super(name ?? toSnakeCase(fn.name || 'metric'));
  }
  updateState(yTrue: Variable, yPred: Variable, sampleWeight?: Variable, mask?: Variable): Updates {
    if (mask === undefined || mask === null) return this.accumulate(this.name, this.fn(yTrue, yPred), sampleWeight);
    return this.accumulateMasked(yTrue, yPred, sampleWeight, mask);
  }

  /**
   * Keras 3's masked mean: the mask times the sample weight weighs each step; per sample, the
   * mean over the steps of value·weight adds to the total and the mean of the weights to the
   * count (so the result is the weighted mean over the unmasked steps).
   */
  private accumulateMasked(yTrue: Variable, yPred: Variable, sampleWeight: Variable | undefined, mask: Variable): Updates {
    const op = this.name;
    const p = checkVariable(op, 'yPred', yPred);
    let m = checkVariable(op, 'mask', mask);
    if (m.ndim !== 2) throw shapeError(op, `the mask (${m.describe()}) must be [batch, steps], the leading axes of yPred (${p.describe()})`);
    if (m.dtype !== 'bool') m = T.notEqual(m, 0);
    const merged = this.fn(mergeSteps(op, 'yTrue', checkVariable(op, 'yTrue', yTrue)), mergeSteps(op, 'yPred', p));
    let v = meanOverSamples(op, checkVariable(op, 'values', merged));
    if (v.dtype !== 'float32' && v.dtype !== 'float64') v = T.cast(v, 'float32');
    const values = splitSteps(v, p);
    const mf = T.cast(m, values.dtype);
    const w = sampleWeight ? T.mul(mf, T.expandDims(sampleWeightFor(op, sampleWeight, values), -1)) : mf;
    const total = T.sum(T.mean(T.mul(T.where(m, values, T.zerosLike(values)), w), 1));
    const count = T.sum(T.mean(w, 1));
    return [[this.total, T.add(this.total, f32(total))], [this.count, T.add(this.count, f32(count))]];
  }
}

const metricName = (o: Opts, dflt: string) => (o.name as string | undefined) ?? dflt;

function threshold(op: string, v: unknown, dflt: number): number {
  return finiteNumber(op, 'threshold', v ?? dflt);
}

/** Fraction of elements where (yPred > threshold) equals yTrue (labels 0/1). */
export class BinaryAccuracy extends MeanMetricWrapper {
  override readonly className = 'BinaryAccuracy';
  readonly threshold: number;
  constructor(opts?: MetricOptions & { threshold?: number }) {
    const o = checkOptions('BinaryAccuracy', opts, ['name', 'threshold']);
    const thr = threshold('BinaryAccuracy', o.threshold, 0.5);
    const name = metricName(o, 'binary_accuracy');
    super((yTrue, yPred) => {
      const [t, p] = alignLabels(name, yTrue, yPred);
      return T.cast(T.equal(t, T.cast(T.greater(p, thr), p.dtype)), 'float32');
    }, name);
    this.threshold = thr;
  }
  protected override options() {
    return { threshold: this.threshold };
  }
}

/** Fraction of samples whose largest prediction is at yTrue's largest entry (one-hot labels). */
export class CategoricalAccuracy extends MeanMetricWrapper {
  override readonly className = 'CategoricalAccuracy';
  constructor(opts?: MetricOptions) {
    const name = metricName(checkOptions('CategoricalAccuracy', opts, ['name']), 'categorical_accuracy');
    super((yTrue, yPred) => {
      const [t, p] = alignLabels(name, yTrue, yPred);
      if (p.ndim < 2) throw shapeError(name, `expected [batch, ..., classes] values, got ${p.describe()}`);
      return T.cast(T.equal(T.argmax(t, -1), T.argmax(p, -1)), 'float32');
    }, name);
  }
}

/** Fraction of samples whose largest prediction is at the integer label (yTrue [batch] or [batch, 1]). */
export class SparseCategoricalAccuracy extends MeanMetricWrapper {
  override readonly className = 'SparseCategoricalAccuracy';
  constructor(opts?: MetricOptions) {
    const name = metricName(checkOptions('SparseCategoricalAccuracy', opts, ['name']), 'sparse_categorical_accuracy');
    super((yTrue, yPred) => {
      const [t, p] = alignSparseLabels(name, yTrue, yPred);
      return T.cast(T.equal(T.cast(t, p.dtype), T.cast(T.argmax(p, -1), p.dtype)), 'float32');
    }, name);
  }
}

/**
 * 1 where the label's prediction is among the k largest: fewer than k predictions are strictly
 * greater than it (TensorFlow's in_top_k: classes tied with it count in its favour).
 */
function inTopK(labels: Variable, p: Variable, depth: number, k: number): Variable {
  const idx = labels.dtype === 'int32' ? labels : T.cast(labels, 'int32');
  const mask = T.oneHot(idx, depth, 1, 0, 'bool');
  const target = T.sum(T.where(mask, p, 0), -1, true);
  const above = T.sum(T.cast(T.greater(p, target), 'float32'), -1);
  return T.cast(T.less(above, k), 'float32');
}

function topK(op: string, v: unknown): number {
  const k = v ?? 5;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw argError(op, `k must be a positive integer, got ${fmtValue(k)}`);
  return k;
}

/** Fraction of samples whose true class (one-hot yTrue) is among the k largest predictions. */
export class TopKCategoricalAccuracy extends MeanMetricWrapper {
  override readonly className = 'TopKCategoricalAccuracy';
  readonly k: number;
  constructor(opts?: MetricOptions & { k?: number }) {
    const o = checkOptions('TopKCategoricalAccuracy', opts, ['name', 'k']);
    const k = topK('TopKCategoricalAccuracy', o.k);
    const name = metricName(o, 'top_k_categorical_accuracy');
    super((yTrue, yPred) => {
      const [t, p] = alignLabels(name, yTrue, yPred);
      if (p.ndim < 2) throw shapeError(name, `expected [batch, ..., classes] values, got ${p.describe()}`);
      const depth = dims(p)[p.ndim - 1];
      if (depth === null) throw shapeError(name, `the number of classes (last axis of ${p.describe()}) must be known`);
      return inTopK(T.argmax(t, -1), p, depth, k);
    }, name);
    this.k = k;
  }
  protected override options() {
    return { k: this.k };
  }
}

/** Fraction of samples whose integer label is among the k largest predictions. */
export class SparseTopKCategoricalAccuracy extends MeanMetricWrapper {
  override readonly className = 'SparseTopKCategoricalAccuracy';
  readonly k: number;
  constructor(opts?: MetricOptions & { k?: number }) {
    const o = checkOptions('SparseTopKCategoricalAccuracy', opts, ['name', 'k']);
    const k = topK('SparseTopKCategoricalAccuracy', o.k);
    const name = metricName(o, 'sparse_top_k_categorical_accuracy');
    super((yTrue, yPred) => {
      const [t, p, depth] = alignSparseLabels(name, yTrue, yPred);
      return inTopK(t, p, depth, k);
    }, name);
    this.k = k;
  }
  protected override options() {
    return { k: this.k };
  }
}

/** The mean squared error over all batches. */
export class MeanSquaredError extends MeanMetricWrapper {
  override readonly className = 'MeanSquaredError';
  constructor(opts?: MetricOptions) {
    const loss = new MseLoss();
    super((t, p) => loss.call(t, p), metricName(checkOptions('MeanSquaredError', opts, ['name']), 'mean_squared_error'));
  }
}

/** The mean absolute error over all batches. */
export class MeanAbsoluteError extends MeanMetricWrapper {
  override readonly className = 'MeanAbsoluteError';
  constructor(opts?: MetricOptions) {
    const loss = new MaeLoss();
    super((t, p) => loss.call(t, p), metricName(checkOptions('MeanAbsoluteError', opts, ['name']), 'mean_absolute_error'));
  }
}

/** sqrt(mean squared error) over all batches (the root of the accumulated mean, as Keras). */
export class RootMeanSquaredError extends MeanState {
  readonly className = 'RootMeanSquaredError';
  constructor(opts?: MetricOptions) {
    super((checkOptions('RootMeanSquaredError', opts, ['name']).name as string) ?? 'root_mean_squared_error');
  }
  updateState(yTrue: Variable, yPred: Variable, sampleWeight?: Variable): Updates {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    return this.accumulate(this.name, T.square(T.sub(p, t)), sampleWeight);
  }
  override result(): Variable {
    return T.sqrt(divNoNan(this.total, this.count));
  }
}

// ---- confusion-matrix metrics ----

/** Thresholds: one number or a non-empty list, each in [0, 1]. */
function checkThresholds(op: string, v: unknown, dflt: number[]): number[] {
  const list = v === undefined || v === null ? dflt : typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list) || !list.length || list.some((x) => typeof x !== 'number' || !(x >= 0 && x <= 1)))
    throw argError(op, `thresholds must be a number or a non-empty list of numbers in [0, 1], got ${fmtValue(v)}`);
  return list.slice() as number[];
}

/**
 * Labels, predictions and weights of one batch for threshold counts: every element is one
 * decision; weights [batch] apply to each element of their sample.  Returns sum(x · w) over every
 * axis but a trailing thresholds axis, as float32 [thresholds].
 */
function decisions(op: string, yTrue: Variable, yPred: Variable, sampleWeight: Variable | undefined, thresholds: number[]) {
  const [t, p] = alignLabels(op, yTrue, yPred);
  const thr = T.constant(thresholds, undefined, p.dtype);
  const above = T.greater(T.expandDims(p, -1), thr); // [..., nThresholds]
  const labels = T.expandDims(t, -1);
  let w: Variable | null = null;
  if (sampleWeight) {
    const wv = sampleWeightFor(op, sampleWeight, p);
    w = T.dimshuffle(wv, [0, ...new Array<'x'>(p.ndim).fill('x')]);
  }
  const axes = [...Array(p.ndim).keys()];
  const count = (x: Variable) => f32(T.sum(w ? T.mul(T.cast(x, p.dtype), w) : T.cast(x, p.dtype), axes));
  return { above, labels, count, dtype: p.dtype };
}

/** The first element of a one-element vector as a scalar; a longer vector as it is. */
function scalarIfOne(v: Variable, n: number): Variable {
  return n === 1 ? T.reshape(v, []) : v;
}

/**
 * tp / (tp + fp) at each threshold (prediction > threshold is positive, a nonzero label is
 * positive); one threshold (default 0.5) gives a scalar, several a vector.
 */
export class Precision extends Metric {
  readonly className = 'Precision';
  readonly thresholds: number[];
  readonly truePositives: SharedVariable;
  readonly falsePositives: SharedVariable;
  constructor(opts?: MetricOptions & { thresholds?: number | number[] }) {
    const o = checkOptions('Precision', opts, ['name', 'thresholds']);
    super((o.name as string) ?? 'precision');
    this.thresholds = checkThresholds('Precision', o.thresholds, [0.5]);
    this.truePositives = this.addState('true_positives', [this.thresholds.length]);
    this.falsePositives = this.addState('false_positives', [this.thresholds.length]);
  }
  updateState(yTrue: Variable, yPred: Variable, sampleWeight?: Variable): Updates {
    const { above, labels, count } = decisions(this.name, yTrue, yPred, sampleWeight, this.thresholds);
    const pos = T.notEqual(labels, 0);
    return [
      [this.truePositives, T.add(this.truePositives, count(T.logicalAnd(pos, above)))],
      [this.falsePositives, T.add(this.falsePositives, count(T.logicalAnd(T.logicalNot(pos), above)))],
    ];
  }
  result(): Variable {
    return scalarIfOne(divNoNan(this.truePositives, T.add(this.truePositives, this.falsePositives)), this.thresholds.length);
  }
  protected override options() {
    return { thresholds: this.thresholds.length === 1 ? this.thresholds[0] : this.thresholds.slice() };
  }
}

/** tp / (tp + fn) at each threshold (see Precision for the decision rule). */
export class Recall extends Metric {
  readonly className = 'Recall';
  readonly thresholds: number[];
  readonly truePositives: SharedVariable;
  readonly falseNegatives: SharedVariable;
  constructor(opts?: MetricOptions & { thresholds?: number | number[] }) {
    const o = checkOptions('Recall', opts, ['name', 'thresholds']);
    super((o.name as string) ?? 'recall');
    this.thresholds = checkThresholds('Recall', o.thresholds, [0.5]);
    this.truePositives = this.addState('true_positives', [this.thresholds.length]);
    this.falseNegatives = this.addState('false_negatives', [this.thresholds.length]);
  }
  updateState(yTrue: Variable, yPred: Variable, sampleWeight?: Variable): Updates {
    const { above, labels, count } = decisions(this.name, yTrue, yPred, sampleWeight, this.thresholds);
    const pos = T.notEqual(labels, 0);
    return [
      [this.truePositives, T.add(this.truePositives, count(T.logicalAnd(pos, above)))],
      [this.falseNegatives, T.add(this.falseNegatives, count(T.logicalAnd(pos, T.logicalNot(above))))],
    ];
  }
  result(): Variable {
    return scalarIfOne(divNoNan(this.truePositives, T.add(this.truePositives, this.falseNegatives)), this.thresholds.length);
  }
  protected override options() {
    return { thresholds: this.thresholds.length === 1 ? this.thresholds[0] : this.thresholds.slice() };
  }
}

/** The curve AUC integrates: ROC (true vs false positive rate) or PR (precision vs recall). */
export type AucCurve = 'ROC' | 'PR';
/** How AUC sums the area between thresholds (Keras's summation_method). */
export type AucSummation = 'interpolation' | 'minoring' | 'majoring';

/**
 * Area under the ROC or precision-recall curve, from confusion counts at fixed thresholds (Keras's
 * AUC): numThresholds thresholds spread evenly over [0, 1] (the first just below 0, the last just
 * above 1), or -ε, the given thresholds and 1 + ε.  Labels weigh as Keras's default path does: a
 * label y adds y to the positives and 1 - y to the negatives (0/1 labels: the usual counts).
 *
 * The result is Keras's Riemann sum over consecutive thresholds: trapezoids ('interpolation') for
 * ROC; for PR, 'interpolation' is Davis & Goadrich's interpolation of precision between thresholds
 * (Keras's interpolate_pr_auc); 'minoring'/'majoring' take the lower/upper of the two heights.
 */
export class AUC extends Metric {
  readonly className = 'AUC';
  readonly numThresholds: number;
  readonly curve: AucCurve;
  readonly summationMethod: AucSummation;
  readonly thresholds: number[];
  /** Thresholds as given (null: evenly spread). */
  private readonly given: number[] | null;
  readonly truePositives: SharedVariable;
  readonly falsePositives: SharedVariable;
  readonly trueNegatives: SharedVariable;
  readonly falseNegatives: SharedVariable;
  constructor(opts?: MetricOptions & { numThresholds?: number; curve?: AucCurve; summationMethod?: AucSummation; thresholds?: number[] }) {
    const op = 'AUC';
    const o = checkOptions(op, opts, ['name', 'numThresholds', 'curve', 'summationMethod', 'thresholds']);
    super((o.name as string) ?? 'auc');
    const curve = typeof o.curve === 'string' ? o.curve.toUpperCase() : o.curve ?? 'ROC';
    if (curve !== 'ROC' && curve !== 'PR') throw argError(op, `curve must be 'ROC' or 'PR', got ${fmtValue(o.curve)}`);
    this.curve = curve;
    const sm = o.summationMethod ?? 'interpolation';
    if (sm !== 'interpolation' && sm !== 'minoring' && sm !== 'majoring')
      throw argError(op, `summationMethod must be 'interpolation', 'minoring' or 'majoring', got ${fmtValue(sm)}`);
    this.summationMethod = sm;
    if (o.thresholds !== undefined && o.thresholds !== null) {
      const th = checkThresholds(op, o.thresholds, []);
      this.given = th;
      this.thresholds = [-EPSILON, ...th, 1 + EPSILON];
    } else {
      const n = o.numThresholds ?? 200;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 2) throw argError(op, `numThresholds must be an integer > 1, got ${fmtValue(n)}`);
      this.given = null;
      this.thresholds = [-EPSILON, ...Array.from({ length: n - 2 }, (_, i) => (i + 1) / (n - 1)), 1 + EPSILON];
    }
    this.numThresholds = this.thresholds.length;
    const n = [this.numThresholds];
    this.truePositives = this.addState('true_positives', n);
    this.falsePositives = this.addState('false_positives', n);
    this.trueNegatives = this.addState('true_negatives', n);
    this.falseNegatives = this.addState('false_negatives', n);
  }
  updateState(yTrue: Variable, yPred: Variable, sampleWeight?: Variable): Updates {
    const { above, labels, count, dtype } = decisions(this.name, yTrue, yPred, sampleWeight, this.thresholds);
    const a = T.cast(above, dtype), b = T.sub(1, a), neg = T.sub(1, labels);
    return [
      [this.truePositives, T.add(this.truePositives, count(T.mul(a, labels)))],
      [this.falsePositives, T.add(this.falsePositives, count(T.mul(a, neg)))],
      [this.trueNegatives, T.add(this.trueNegatives, count(T.mul(b, neg)))],
      [this.falseNegatives, T.add(this.falseNegatives, count(T.mul(b, labels)))],
    ];
  }
  result(): Variable {
    const n = this.numThresholds;
    const head = (v: Variable) => T.slice(v, [0], [n - 1]);
    const tail = (v: Variable) => T.slice(v, [1], [n - 1]);
    const tp = this.truePositives, fp = this.falsePositives, tn = this.trueNegatives, fn = this.falseNegatives;
    if (this.curve === 'PR' && this.summationMethod === 'interpolation') {
      // precision interpolated between thresholds, integrated over recall in closed form
      const dtp = T.sub(head(tp), tail(tp));
      const p = T.add(tp, fp);
      const dp = T.sub(head(p), tail(p));
      const slope = divNoNan(dtp, T.maximum(dp, 0));
      const intercept = T.sub(tail(tp), T.mul(slope, tail(p)));
      const both = T.logicalAnd(T.greater(head(p), 0), T.greater(tail(p), 0));
      const ratio = T.where(both, divNoNan(head(p), T.maximum(tail(p), 0)), 1);
      const inc = divNoNan(T.mul(slope, T.add(dtp, T.mul(intercept, T.log(ratio)))), T.maximum(T.add(tail(tp), tail(fn)), 0));
      return T.sum(inc);
    }
    const recall = divNoNan(tp, T.add(tp, fn));
    const [x, y] = this.curve === 'ROC' ? [divNoNan(fp, T.add(fp, tn)), recall] : [recall, divNoNan(tp, T.add(tp, fp))];
    const heights =
      this.summationMethod === 'interpolation' ? T.mul(T.add(head(y), tail(y)), 0.5)
        : this.summationMethod === 'minoring' ? T.minimum(head(y), tail(y))
          : T.maximum(head(y), tail(y));
    return T.sum(T.mul(T.sub(head(x), tail(x)), heights));
  }
  protected override options() {
    return {
      ...(this.given ? { thresholds: this.given.slice() } : { numThresholds: this.numThresholds }),
      curve: this.curve,
      summationMethod: this.summationMethod,
    };
  }
}

/** How FBetaScore combines per-class scores: null keeps one per class; micro, macro or weighted averages them. */
export type F1Average = null | 'micro' | 'macro' | 'weighted';

/**
 * Keras's FBetaScore for binary or one-hot outputs [batch, classes]: per-class tp/fp/fn over all
 * batches, F = (1 + β²)·P·R / (β²·P + R) (with Keras's 1e-7 guards).  A prediction counts as
 * positive when it exceeds `threshold`, or, without one, when it is its row's largest (and not 0).
 * average: null gives one score per class (a vector), 'micro' pools the counts, 'macro' averages
 * the class scores, 'weighted' weighs them by each class's number of true labels.  The per-class
 * state is made on the first updateState (or at once when numClasses is given).
 */
export class FBetaScore extends Metric {
  readonly className: string = 'FBetaScore';
  readonly average: F1Average;
  readonly beta: number;
  readonly threshold: number | null;
  private counts: { tp: SharedVariable; fp: SharedVariable; fn: SharedVariable; weights: SharedVariable; classes: number } | null = null;
  constructor(opts?: MetricOptions & { average?: F1Average; beta?: number; threshold?: number | null; numClasses?: number }, dfltName = 'fbeta_score', known = ['name', 'average', 'beta', 'threshold', 'numClasses']) {
    const op = dfltName === 'f1_score' ? 'F1Score' : 'FBetaScore';
    const o = checkOptions(op, opts, known);
    super((o.name as string) ?? dfltName);
    const avg = o.average ?? null;
    if (avg !== null && avg !== 'micro' && avg !== 'macro' && avg !== 'weighted')
      throw argError(op, `average must be null, 'micro', 'macro' or 'weighted', got ${fmtValue(o.average)}`);
    this.average = avg;
    const beta = o.beta ?? 1;
    if (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta)) throw argError(op, `beta must be a positive number, got ${fmtValue(beta)}`);
    this.beta = beta;
    const thr = o.threshold ?? null;
    if (thr !== null && (typeof thr !== 'number' || !(thr > 0 && thr <= 1))) throw argError(op, `threshold must be a number in (0, 1] or null, got ${fmtValue(thr)}`);
    this.threshold = thr;
    if (o.numClasses !== undefined) {
      const c = o.numClasses;
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 1) throw argError(op, `numClasses must be a positive integer, got ${fmtValue(c)}`);
      this.build(c);
    }
  }

  private build(classes: number): void {
    const shape = this.average === 'micro' ? [] : [classes];
    this.counts = {
      tp: this.addState('true_positives', shape),
      fp: this.addState('false_positives', shape),
      fn: this.addState('false_negatives', shape),
      weights: this.addState('intermediate_weights', shape),
      classes,
    };
  }

  updateState(yTrue: Variable, yPred: Variable, sampleWeight?: Variable): Updates {
    const op = this.name;
    const [t, p] = alignLabels(op, yTrue, yPred);
    if (p.ndim !== 2) throw shapeError(op, `expects [batch, classes] inputs, got yPred ${p.describe()}`);
    const classes = dims(p)[1];
    if (classes === null) throw shapeError(op, `the number of classes (last axis of ${p.describe()}) must be known`);
    if (!this.counts) this.build(classes);
    const c = this.counts!;
    if (c.classes !== classes) throw shapeError(op, `was built for ${c.classes} classes, got yPred ${p.describe()}`);
    const pos =
      this.threshold === null ? T.logicalAnd(T.greaterEqual(p, T.max(p, -1, true)), T.greater(T.abs(p), 1e-9)) : T.greater(p, this.threshold);
    const pr = T.cast(pos, p.dtype);
    const w = sampleWeight ? T.expandDims(sampleWeightFor(op, sampleWeight, p), 1) : null;
    const axes = this.average === 'micro' ? null : 0;
    const sum = (x: Variable) => f32(T.sum(w ? T.mul(x, w) : x, axes));
    const nt = T.sub(1, t), np = T.sub(1, pr);
    return [
      [c.tp, T.add(c.tp, sum(T.mul(pr, t)))],
      [c.fp, T.add(c.fp, sum(T.mul(pr, nt)))],
      [c.fn, T.add(c.fn, sum(T.mul(np, t)))],
      [c.weights, T.add(c.weights, sum(t))],
    ];
  }

  result(): Variable {
    if (!this.counts) throw argError(this.name, 'has no state yet: call updateState first (or give numClasses)');
    const { tp, fp, fn, weights } = this.counts;
    const precision = T.div(tp, T.add(T.add(tp, fp), EPSILON));
    const recall = T.div(tp, T.add(T.add(tp, fn), EPSILON));
    const b2 = this.beta * this.beta;
    const f = T.mul(T.div(T.mul(precision, recall), T.add(T.add(T.mul(precision, b2), recall), EPSILON)), 1 + b2);
    if (this.average === 'weighted') return T.sum(T.mul(f, T.div(weights, T.add(T.sum(weights), EPSILON))));
    if (this.average !== null) return T.mean(f);
    return f;
  }

  protected override options(): Record<string, unknown> {
    return { average: this.average, beta: this.beta, threshold: this.threshold, ...(this.counts ? { numClasses: this.counts.classes } : {}) };
  }
}

/** FBetaScore with β = 1 (Keras's F1Score, history key 'f1_score'). */
export class F1Score extends FBetaScore {
  override readonly className = 'F1Score';
  constructor(opts?: MetricOptions & { average?: F1Average; threshold?: number | null; numClasses?: number }) {
    super(opts, 'f1_score', ['name', 'average', 'threshold', 'numClasses']);
  }
  protected override options(): Record<string, unknown> {
    const { beta: _beta, ...rest } = super.options();
    return rest;
  }
}

// ---- lookup ----

const REGISTRY = new ClassRegistry<Metric>(['accuracy', 'acc']);
const register = REGISTRY.register.bind(REGISTRY);

register('BinaryAccuracy', (o) => new BinaryAccuracy(o), ['binaryAccuracy']);
register('CategoricalAccuracy', (o) => new CategoricalAccuracy(o), ['categoricalAccuracy']);
register('SparseCategoricalAccuracy', (o) => new SparseCategoricalAccuracy(o), ['sparseCategoricalAccuracy']);
register('TopKCategoricalAccuracy', (o) => new TopKCategoricalAccuracy(o), ['topKCategoricalAccuracy']);
register('SparseTopKCategoricalAccuracy', (o) => new SparseTopKCategoricalAccuracy(o), ['sparseTopKCategoricalAccuracy']);
register('Precision', (o) => new Precision(o), ['precision']);
register('Recall', (o) => new Recall(o), ['recall']);
register('AUC', (o) => new AUC(o), ['auc']);
register('F1Score', (o) => new F1Score(o), ['f1Score', 'f1']);
register('FBetaScore', (o) => new FBetaScore(o), ['fbetaScore']);
register('MeanSquaredError', (o) => new MeanSquaredError(o), ['meanSquaredError', 'mse']);
register('MeanAbsoluteError', (o) => new MeanAbsoluteError(o), ['meanAbsoluteError', 'mae']);
register('RootMeanSquaredError', (o) => new RootMeanSquaredError(o), ['rootMeanSquaredError', 'rmse']);
register('Mean', (o) => new Mean(o), ['mean']);


/**
 * A metric factory that is also the per-sample metric as a function: with options (or nothing)
 * it makes the stateful Metric `compile` takes; with two symbolic variables it returns the
 * per-sample values (Keras's function forms, e.g. `keras.metrics.categorical_accuracy`).
 */
export interface MetricFactory<O, M extends Metric> {
  (opts?: O): M;
  (yTrue: Variable, yPred: Variable): Variable;
}

function dual<C extends new (opts?: any) => MeanMetricWrapper>(Cls: C): MetricFactory<MetricOpts<C>, InstanceType<C>> {
  return ((a?: unknown, b?: unknown) => {
    if (a instanceof Variable) return new Cls().fn(a, checkVariable(Cls.name, 'yPred', b));
    return new Cls(a as never);
  }) as MetricFactory<MetricOpts<C>, InstanceType<C>>;
}

/**
 * Per-sample accuracy of symbolic labels and predictions, the kind chosen from the shapes as
 * Keras chooses it for 'accuracy': sparse when yTrue has one axis less than yPred (or a last axis
 * of 1 against several classes), binary when yPred's last axis is 1, categorical otherwise.
 * In `compile`, pass the string 'accuracy'.
 * @example const acc = T.mean(st.metrics.accuracy(labels, probs));
 */
export function accuracy(yTrue: Variable, yPred: Variable): Variable {
  const t = checkVariable('accuracy', 'yTrue', yTrue);
  const p = checkVariable('accuracy', 'yPred', yPred);
  const last = p.staticShape[p.ndim - 1];
  if (t.ndim === p.ndim - 1 || (t.ndim === p.ndim && t.staticShape[t.ndim - 1] === 1 && last !== 1)) return new SparseCategoricalAccuracy().fn(t, p);
  if (last === 1 || p.ndim === 1) return new BinaryAccuracy().fn(t, p);
  return new CategoricalAccuracy().fn(t, p);
}

type MetricOpts<C> = C extends new (opts?: infer O) => Metric ? O : never;

/**
 * One factory per metric (camelCase), with Keras's short aliases.
 * @example model.compile({ …, metrics: [metrics.auc({ curve: 'PR' }), 'accuracy'] })
 */
export const metrics = Object.freeze({
  accuracy,
  /** The fraction of predictions on the right side of threshold (default 0.5) for 0/1 targets. */
  binaryAccuracy: dual(BinaryAccuracy),
  /** The fraction of samples whose largest prediction is at the one-hot target's class. */
  categoricalAccuracy: dual(CategoricalAccuracy),
  /** The fraction of samples whose largest prediction is at the integer label. */
  sparseCategoricalAccuracy: dual(SparseCategoricalAccuracy),
  /** The fraction of samples whose one-hot target's class is among the k largest predictions. */
  topKCategoricalAccuracy: dual(TopKCategoricalAccuracy),
  /** The fraction of samples whose integer label is among the k largest predictions. */
  sparseTopKCategoricalAccuracy: dual(SparseTopKCategoricalAccuracy),
  precision: (o?: MetricOpts<typeof Precision>) => new Precision(o),
  recall: (o?: MetricOpts<typeof Recall>) => new Recall(o),
  auc: (o?: MetricOpts<typeof AUC>) => new AUC(o),
  f1Score: (o?: MetricOpts<typeof F1Score>) => new F1Score(o),
  f1: (o?: MetricOpts<typeof F1Score>) => new F1Score(o),
  fbetaScore: (o?: MetricOpts<typeof FBetaScore>) => new FBetaScore(o),
  /** The mean over samples of the mean squared error. */
  meanSquaredError: dual(MeanSquaredError),
  /** The mean over samples of the mean absolute error. */
  meanAbsoluteError: dual(MeanAbsoluteError),
  rootMeanSquaredError: (o?: MetricOpts<typeof RootMeanSquaredError>) => new RootMeanSquaredError(o),
  /** Keras's alias of meanSquaredError. */
  mse: dual(MeanSquaredError),
  /** Keras's alias of meanAbsoluteError. */
  mae: dual(MeanAbsoluteError),
  rmse: (o?: MetricOpts<typeof RootMeanSquaredError>) => new RootMeanSquaredError(o),
  mean: (o?: MetricOpts<typeof Mean>) => new Mean(o),
});

/** What getMetric knows about the output a metric watches. */
export interface MetricContext {
  /** The loss of that output (its name, e.g. 'binaryCrossentropy' or 'binary_crossentropy'). */
  lossName?: string;
  /** The output's shape (null: unknown dim). */
  outputShape?: (number | null)[];
}

/**
 * Keras's choice for 'accuracy': binary for a binary crossentropy loss or a last dim of 1, sparse
 * categorical for a sparse categorical loss, categorical otherwise.
 */
function accuracyFor(ctx: MetricContext, name: string): Metric {
  const loss = ctx.lossName ? nameKey(ctx.lossName) : '';
  const shape = ctx.outputShape;
  const last = shape && shape.length ? shape[shape.length - 1] : null;
  if (loss === 'binarycrossentropy' || loss === 'bce' || last === 1) return new BinaryAccuracy({ name });
  if (loss === 'sparsecategoricalcrossentropy') return new SparseCategoricalAccuracy({ name });
  return new CategoricalAccuracy({ name });
}

/** Keras config keys are snake_case; ours camelCase. */
function metricOptions(op: string, config: unknown): Opts {
  return configOptions(op, config, (key) => key !== 'dtype'); // metric state is float32
}

/**
 * Resolves a metric: a Metric (as is), a function (yTrue, yPred) => per-sample values (averaged,
 * named after the function), a name, or a {className, config} object.  Names: 'accuracy'/'acc'
 * (chosen from ctx as Keras does), the metrics' camelCase names and aliases ('mse', 'rmse', 'f1',
 * 'auc' …), Keras's snake_case and class names, and any loss name (its per-sample loss averaged).
 * A lowercase id is the history key as given; others get the Keras snake_case name.
 * @example getMetric('accuracy', { lossName: 'sparseCategoricalCrossentropy', outputShape: [null, 10] })
 */
export function getMetric(id: string | Metric | ((yTrue: Variable, yPred: Variable) => Variable) | { className: string; config?: object }, ctx: MetricContext = {}): Metric {
  const op = 'getMetric';
  if (id instanceof Metric) return id;
  if (typeof id === 'function') return new MeanMetricWrapper(id);
  if (typeof id === 'string') {
    const key = nameKey(id);
    const given = /^[a-z0-9_]+$/.test(id) ? id : undefined;
    if (key === 'accuracy' || key === 'acc') return accuracyFor(ctx ?? {}, given ?? 'accuracy');
    const cls = REGISTRY.classOf(id);
    if (cls) {
      const opts: Opts = given ? { name: given } : {};
      const last = ctx?.outputShape?.[ctx.outputShape.length - 1];
      if ((cls === 'F1Score' || cls === 'FBetaScore') && typeof last === 'number') opts.numClasses = last;
      return REGISTRY.factory(cls)!(opts);
    }
    if (lossClassName(id)) {
      const loss = getLoss(id);
      return new MeanMetricWrapper((t, p) => loss.call(t, p), given ?? toSnakeCase(loss.name));
    }
    throw argError(op, `unknown metric ${fmtValue(id)}; valid names: ${REGISTRY.primary.join(', ')}, and every loss name (${lossNames().join(', ')}); Keras's snake_case and class names work too`);
  }
  if (id && typeof id === 'object' && typeof (id as { className?: unknown }).className === 'string') {
    const { className, config } = id as { className: string; config?: object };
    const make = REGISTRY.factory(className);
    if (!make) throw argError(op, `unknown metric class ${fmtValue(className)}; valid classes: ${REGISTRY.classNames().join(', ')}`);
    return make(metricOptions(op, config));
  }
  throw argError(op, `expected a metric name, a Metric, a function or a {className, config} object, got ${fmtValue(id)}`);
}
