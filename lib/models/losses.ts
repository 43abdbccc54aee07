/**
 * Keras losses as symbolic graph builders.  A loss turns (yTrue, yPred) into per-sample losses of
 * shape [batch]; `reduceLoss` weights and averages them into the scalar a training step minimizes.
 * Everything is a graph node, so the loss, its gradient, the optimizer update and the metrics
 * compile into one program.
 *
 * The formulas follow Keras 3 (probabilities clipped to [1e-7, 1 - 1e-7], crossentropies on
 * probabilities normalized over the class axis, label smoothing as Keras applies it).  Where yPred
 * is the output of a softmax (or sigmoid) and fromLogits is false, the loss is computed from the
 * logits, as Keras does on its TensorFlow backend: the result is the same without the clipping,
 * and stable.
 *
 * Inputs with more axes than [batch, classes] give per-sample losses averaged over the extra axes,
 * which reduces to exactly Keras's 'sum_over_batch_size' value (Keras divides by batch × extra
 * elements).  Rank-1 inputs hold one value per sample.
 * @example
 *   const loss = losses.categoricalCrossentropy({ labelSmoothing: 0.1 });
 *   const cost = reduceLoss(loss.call(yTrue, yPred));   // or loss.compute(yTrue, yPred)
 */
import { argError, dtypeError, fmtShape, fmtValue, shapeError } from '../errors';
import * as T from '../graph/T';
import { BroadcastLike, OneHot } from '../graph/ops/shape';
import { Softmax } from '../graph/ops/nn';
import { Variable, applyOp1 } from '../graph/variable';
import { ClassRegistry, boolValue, checkNamedOptions as checkOptions, checkVariable, configOptions, nameKey, toSnakeCase } from './options';

/** Keras's backend.epsilon(). */
export const EPSILON = 1e-7;

// ---- helpers shared with metrics ----

/** @internal The dims of v known while the graph is built (null: known only when it runs). */
export function dims(v: Variable): (number | null)[] {
  return v.type.shape;
}

/** @internal A tensor of ones, shaped (at run time) like v. */
export function onesLike(v: Variable, dtype: 'float32' | 'float64' = v.dtype === 'float64' ? 'float64' : 'float32'): Variable {
  return applyOp1(new BroadcastLike(), [T.constant(1, undefined, dtype), v]);
}

/** @internal Names: camelCase as Keras's snake_case, and the lookup key (case and underscores ignored). */
export { nameKey, toSnakeCase };

/**
 * @internal Keras's squeeze_or_expand_to_same_rank: when ranks differ by one and the longer has a
 * last axis of 1, that axis is dropped (or, when the other is rank 1, added to the other).
 */
export function alignRanks(a: Variable, b: Variable): [Variable, Variable] {
  if (a.ndim === b.ndim + 1 && dims(a)[a.ndim - 1] === 1) return b.ndim === 1 ? [a, T.expandDims(b, -1)] : [T.squeeze(a, -1), b];
  if (b.ndim === a.ndim + 1 && dims(b)[b.ndim - 1] === 1) return a.ndim === 1 ? [T.expandDims(a, -1), b] : [a, T.squeeze(b, -1)];
  return [a, b];
}

/**
 * @internal Checks and aligns labels and predictions: yPred must be float with a batch axis, the
 * two must have one shape once ranks are aligned, and yTrue is cast to yPred's dtype.
 */
export function alignLabels(op: string, yTrue: unknown, yPred: unknown): [Variable, Variable] {
  const t0 = checkVariable(op, 'yTrue', yTrue), p0 = checkVariable(op, 'yPred', yPred);
  if (p0.dtype !== 'float32' && p0.dtype !== 'float64') throw dtypeError(op, `yPred (${p0.describe()}) must be float32 or float64`);
  if (p0.ndim === 0) throw shapeError(op, `yPred (${p0.describe()}) needs a batch axis`);
  const [t, p] = alignRanks(t0, p0);
  if (t.ndim !== p.ndim || dims(t).some((d, i) => d !== null && dims(p)[i] !== null && d !== dims(p)[i]))
    throw shapeError(op, `yTrue ${fmtShape(dims(t0))} and yPred ${fmtShape(dims(p0))} must have the same shape (yTrue: ${t0.describe()}, yPred: ${p0.describe()})`);
  return [t.dtype === p.dtype ? t : T.cast(t, p.dtype), p];
}

/**
 * @internal Integer class labels against predictions [batch, ..., classes]: yTrue [batch, ...] or
 * [batch, ..., 1] (squeezed), any dtype; returns the labels (int32 or float), yPred and the class count.
 */
export function alignSparseLabels(op: string, yTrue: unknown, yPred: unknown): [Variable, Variable, number] {
  let t = checkVariable(op, 'yTrue', yTrue);
  const p = checkVariable(op, 'yPred', yPred);
  if (p.dtype !== 'float32' && p.dtype !== 'float64') throw dtypeError(op, `yPred (${p.describe()}) must be float32 or float64`);
  if (p.ndim < 2) throw shapeError(op, `yPred (${p.describe()}) must be [batch, ..., classes]`);
  if (t.ndim === p.ndim && dims(t)[t.ndim - 1] === 1) t = T.squeeze(t, -1);
  const lead = dims(p).slice(0, -1);
  if (t.ndim !== p.ndim - 1 || dims(t).some((d, i) => d !== null && lead[i] !== null && d !== lead[i]))
    throw shapeError(op, `integer labels yTrue ${fmtShape(dims(t))} do not fit yPred ${fmtShape(dims(p))}: expected yTrue ${fmtShape(lead)} or ${fmtShape([...lead, 1])} (yPred: ${p.describe()})`);
  const depth = dims(p)[p.ndim - 1];
  if (depth === null) throw shapeError(op, `the number of classes (last axis of ${p.describe()}) must be known`);
  return [t.dtype === 'bool' ? T.cast(t, 'int32') : t, p, depth];
}

/** @internal Per-sample values: the mean over every axis after the batch axis (rank 1: as is). */
export function meanOverSamples(op: string, x: Variable): Variable {
  if (x.ndim === 0) throw shapeError(op, `expected per-sample values with a batch axis, got a scalar (${x.describe()})`);
  return x.ndim === 1 ? x : T.mean(x, [...Array(x.ndim).keys()].slice(1));
}

/**
 * @internal The batch and steps axes of a sequence value merged into one: [batch, steps, ...] →
 * [batch·steps, ...], so that a per-sample rule gives one value per step.
 */
export function mergeSteps(op: string, what: string, v: Variable): Variable {
  if (v.ndim < 2) throw shapeError(op, `${what} (${v.describe()}) must be [batch, steps, ...] to be weighted by the [batch, steps] mask of a sequence output`);
  const rest = dims(v).slice(2).map((d, i): number | Variable => d ?? v.shape[i + 2]);
  return T.reshape(v, [-1, ...rest]);
}

/** @internal Per-step values [batch·steps] back to [batch, steps], the leading axes of `like`. */
export function splitSteps(values: Variable, like: Variable): Variable {
  const [b, s] = dims(like);
  return T.reshape(values, [b ?? like.shape[0], s ?? like.shape[1]]);
}

/** A positive class axis of a [batch, steps, ...] value as an axis of its steps merged with the batch. */
function mergedAxis(op: string, axis: number): number {
  if (axis < 0) return axis;
  if (axis <= 1) throw argError(op, `axis ${axis} cannot be the class axis of a masked sequence output (axis 0 is the batch, 1 the steps); use a later axis or -1`);
  return axis - 1;
}

/** The class axis of y (rank >= 2), normalized; the batch axis 0 is not one. */
function classAxis(op: string, y: Variable, axis: number): number {
  if (y.ndim < 2) throw shapeError(op, `expected [batch, ...classes] values, got ${y.describe()}`);
  const a = axis < 0 ? axis + y.ndim : axis;
  if (!Number.isInteger(axis) || a < 1 || a >= y.ndim) throw argError(op, `axis ${fmtValue(axis)} is not a class axis of ${y.describe()} (axis 0 is the batch)`);
  return a;
}

/** Reduces `elem` over its class axis with sum, then averages any remaining non-batch axes. */
function sumOverAxisPerSample(op: string, elem: Variable, axis: number): Variable {
  return meanOverSamples(op, T.sum(elem, axis));
}

/** Theano's order (predictions first) gives one-hot labels as yPred: say so instead of a wrong loss. */
function checkOrder(op: string, yPred: Variable): void {
  if (yPred.owner?.op instanceof OneHot)
    throw argError(op, `yPred (${yPred.describe()}) is one-hot labels: losses take (yTrue, yPred), labels first (Theano's crossentropies took the predictions first)`);
}

/** The logits of a softmax over `axis` (normalized), or null. */
function softmaxLogits(p: Variable, axis: number): Variable | null {
  const op = p.owner?.op;
  if (!(op instanceof Softmax) || op.name !== 'softmax') return null;
  const a = op.axis < 0 ? op.axis + p.ndim : op.axis;
  return a === axis ? p.owner!.inputs[0] : null;
}

type Opts = Record<string, unknown>;

function boolOpt(op: string, o: Opts, key: string, dflt: boolean): boolean {
  return boolValue(op, key, o[key] ?? dflt);
}

function numOpt(op: string, o: Opts, key: string, dflt: number, ok: (v: number) => boolean, rule: string): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !ok(v)) throw argError(op, `${key} must be ${rule}, got ${fmtValue(v)}`);
  return v;
}

// ---- the Loss contract ----

/** Common options of every loss. */
export interface LossOptions {
  /** The loss's name (default: the camelCase function name, e.g. 'categoricalCrossentropy'). */
  name?: string;
}

/**
 * A Keras loss: `call` builds per-sample losses; `compute` reduces them as Keras's default
 * 'sum_over_batch_size' does.
 */
export abstract class Loss {
  readonly name: string;
  /** The class name in configs (Keras's, e.g. 'CategoricalCrossentropy'). */
  abstract readonly className: string;

  constructor(name: string) {
    this.name = name;
  }

  /** Per-sample losses, shape [batch] (Keras reduces the last axis with a mean where it applies). */
  abstract call(yTrue: Variable, yPred: Variable): Variable;

  /**
   * Per-step losses of a sequence output yPred [batch, steps, ...] (yTrue alike): values
   * [batch, steps], each step's loss as `call` computes a sample's, and the loss's own mask of
   * the entries that count ([batch, steps] bool; SparseCategoricalCrossentropy's ignoreClass), or
   * null.  reduceMaskedLoss weights them by the output's Keras mask.
   */
  stepLosses(yTrue: Variable, yPred: Variable): { values: Variable; mask: Variable | null } {
    const t = mergeSteps(this.name, 'yTrue', checkVariable(this.name, 'yTrue', yTrue));
    const p = mergeSteps(this.name, 'yPred', checkVariable(this.name, 'yPred', yPred));
    return { values: splitSteps(this.callMerged(t, p), yPred), mask: null };
  }

  /** call on values whose batch and steps axes were merged (losses with an axis option shift it). */
  protected callMerged(yTrue: Variable, yPred: Variable): Variable {
    return this.call(yTrue, yPred);
  }

  /** The scalar loss of a batch: reduceLoss(call(yTrue, yPred), sampleWeight). */
  compute(yTrue: Variable, yPred: Variable, sampleWeight?: Variable): Variable {
    return reduceLoss(this.call(yTrue, yPred), sampleWeight);
  }

  /** The options this loss was made with (camelCase keys). */
  protected options(): Record<string, unknown> {
    return {};
  }

  /** What getLoss needs to rebuild this loss. */
  getConfig(): { className: string; config: Record<string, unknown> } {
    return { className: this.className, config: { name: this.name, ...this.options() } };
  }
}

/**
 * Keras's default reduction 'sum_over_batch_size': sum(loss_i · w_i) / batch (0 for an empty
 * batch).  sampleWeight, when given, has shape [batch] (or [batch, 1]).
 * @example const cost = reduceLoss(losses.mse().call(y, p), w);
 */
export function reduceLoss(perSample: Variable, sampleWeight?: Variable): Variable {
  const op = 'reduceLoss';
  let l = meanOverSamples(op, checkVariable(op, 'perSample', perSample));
  if (l.dtype !== 'float32' && l.dtype !== 'float64') throw dtypeError(op, `per-sample losses (${l.describe()}) must be float32 or float64`);
  const count = T.sum(onesLike(l, l.dtype));
  if (sampleWeight !== undefined && sampleWeight !== null) {
    const w = sampleWeightFor(op, sampleWeight, l);
    l = T.mul(l, w);
  }
  return T.div(T.sum(l), T.maximum(count, 1));
}

/**
 * The loss of a sequence output that carries a Keras mask ([batch, steps], true at the steps that
 * count), as Keras 3 reduces it: the mask (and the loss's own mask, such as ignoreClass) becomes
 * a per-step sample weight, and 'sum_over_batch_size' then divides the weighted sum by the
 * number of unmasked steps: sum(loss_bt · w_b · m_bt) / sum(m_bt), 0 when every step is masked.
 * @example const cost = reduceMaskedLoss(getLoss('mse'), yTrue, yPred, mask); // yPred [batch, steps, units]
 */
export function reduceMaskedLoss(loss: Loss, yTrue: Variable, yPred: Variable, mask: Variable, sampleWeight?: Variable): Variable {
  const op = 'reduceMaskedLoss';
  const p = checkVariable(op, 'yPred', yPred);
  let m = checkVariable(op, 'mask', mask);
  const [pb, ps] = dims(p);
  if (p.ndim < 2 || m.ndim !== 2 || [pb, ps].some((d, i) => d !== null && dims(m)[i] !== null && d !== dims(m)[i]))
    throw shapeError(op, `the mask (${m.describe()}) must be [batch, steps] = ${fmtShape([pb, ps ?? null])}, the leading axes of yPred (${p.describe()})`);
  if (m.dtype !== 'bool') m = T.notEqual(m, 0);
  const { values, mask: own } = loss.stepLosses(yTrue, p);
  if (values.dtype !== 'float32' && values.dtype !== 'float64') throw dtypeError(op, `per-step losses (${values.describe()}) must be float32 or float64`);
  if (own) m = T.logicalAnd(m, own);
  const mf = T.cast(m, values.dtype);
  const w = sampleWeight !== undefined && sampleWeight !== null ? T.mul(mf, T.expandDims(sampleWeightFor(op, sampleWeight, values), -1)) : mf;
  // where, not a product alone: a masked step's value (padding) may be anything, inf included
  const total = T.sum(T.mul(T.where(m, values, T.zerosLike(values)), w));
  return T.div(total, T.maximum(T.sum(mf), 1));
}

/** @internal Sample weights as a [batch] vector of `like`'s dtype, checked against its batch axis. */
export function sampleWeightFor(op: string, sampleWeight: unknown, like: Variable): Variable {
  let w = checkVariable(op, 'sampleWeight', sampleWeight);
  if (w.ndim === 2 && dims(w)[1] === 1) w = T.squeeze(w, 1);
  const b = dims(like)[0];
  if (w.ndim !== 1 || (dims(w)[0] !== null && b !== null && dims(w)[0] !== b))
    throw shapeError(op, `sampleWeight (${w.describe()}) must have shape [batch] to weight ${like.describe()}`);
  const dt = like.dtype === 'float64' ? 'float64' : 'float32';
  return w.dtype === dt ? w : T.cast(w, dt);
}

// ---- regression losses ----

/** mean((yTrue - yPred)²) per sample. */
export class MeanSquaredError extends Loss {
  readonly className = 'MeanSquaredError';
  constructor(opts?: LossOptions) {
    super((checkOptions('MeanSquaredError', opts, ['name']).name as string) ?? 'meanSquaredError');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    return meanOverSamples(this.name, T.square(T.sub(t, p)));
  }
}

/** mean(|yTrue - yPred|) per sample. */
export class MeanAbsoluteError extends Loss {
  readonly className = 'MeanAbsoluteError';
  constructor(opts?: LossOptions) {
    super((checkOptions('MeanAbsoluteError', opts, ['name']).name as string) ?? 'meanAbsoluteError');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    return meanOverSamples(this.name, T.abs(T.sub(t, p)));
  }
}

/** 100 · mean(|yTrue - yPred| / max(|yTrue|, 1e-7)) per sample. */
export class MeanAbsolutePercentageError extends Loss {
  readonly className = 'MeanAbsolutePercentageError';
  constructor(opts?: LossOptions) {
    super((checkOptions('MeanAbsolutePercentageError', opts, ['name']).name as string) ?? 'meanAbsolutePercentageError');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    const diff = T.abs(T.div(T.sub(t, p), T.maximum(T.abs(t), EPSILON)));
    return T.mul(meanOverSamples(this.name, diff), 100);
  }
}

/** mean((log(max(yPred, ε) + 1) - log(max(yTrue, ε) + 1))²) per sample. */
export class MeanSquaredLogarithmicError extends Loss {
  readonly className = 'MeanSquaredLogarithmicError';
  constructor(opts?: LossOptions) {
    super((checkOptions('MeanSquaredLogarithmicError', opts, ['name']).name as string) ?? 'meanSquaredLogarithmicError');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    const d = T.sub(T.log1p(T.maximum(p, EPSILON)), T.log1p(T.maximum(t, EPSILON)));
    return meanOverSamples(this.name, T.square(d));
  }
}

/** Huber loss: ½e² where |e| ≤ delta, else delta·|e| - ½delta², averaged per sample. */
export class Huber extends Loss {
  readonly className = 'Huber';
  readonly delta: number;
  constructor(opts?: LossOptions & { delta?: number }) {
    const o = checkOptions('Huber', opts, ['name', 'delta']);
    super((o.name as string) ?? 'huber');
    this.delta = numOpt('Huber', o, 'delta', 1, (v) => Number.isFinite(v) && v > 0, 'a positive number');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    const d = this.delta;
    const e = T.sub(p, t), ae = T.abs(e);
    const elem = T.where(T.lessEqual(ae, d), T.mul(T.square(e), 0.5), T.sub(T.mul(ae, d), 0.5 * d * d));
    return meanOverSamples(this.name, elem);
  }
  protected override options() {
    return { delta: this.delta };
  }
}

/** mean(log(cosh(yPred - yTrue))) per sample, computed as x + softplus(-2x) - log 2 (no overflow). */
export class LogCosh extends Loss {
  readonly className = 'LogCosh';
  constructor(opts?: LossOptions) {
    super((checkOptions('LogCosh', opts, ['name']).name as string) ?? 'logCosh');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    const x = T.sub(p, t);
    return meanOverSamples(this.name, T.sub(T.add(x, T.softplus(T.mul(x, -2))), Math.LN2));
  }
}

// ---- probabilistic losses ----

/**
 * Binary crossentropy averaged over the last axis.  fromLogits: yPred holds logits.  labelSmoothing
 * s moves labels toward ½: y·(1 - s) + s/2.
 */
export class BinaryCrossentropy extends Loss {
  readonly className = 'BinaryCrossentropy';
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  constructor(opts?: LossOptions & { fromLogits?: boolean; labelSmoothing?: number }) {
    const o = checkOptions('BinaryCrossentropy', opts, ['name', 'fromLogits', 'labelSmoothing']);
    super((o.name as string) ?? 'binaryCrossentropy');
    this.fromLogits = boolOpt('BinaryCrossentropy', o, 'fromLogits', false);
    this.labelSmoothing = numOpt('BinaryCrossentropy', o, 'labelSmoothing', 0, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    let [t, p] = alignLabels(this.name, yTrue, yPred);
    checkOrder(this.name, p);
    if (this.labelSmoothing) t = T.add(T.mul(t, 1 - this.labelSmoothing), 0.5 * this.labelSmoothing);
    let elem: Variable;
    const logits = this.fromLogits ? p : p.owner?.op.name === 'sigmoid' ? p.owner.inputs[0] : null;
    if (logits) {
      // -(y log σ(z) + (1 - y) log(1 - σ(z))) = softplus(z) - y·z
      elem = T.sub(T.softplus(logits), T.mul(t, logits));
    } else {
      const q = T.clip(p, EPSILON, 1 - EPSILON);
      elem = T.neg(T.add(T.mul(t, T.log(q)), T.mul(T.sub(1, t), T.log(T.sub(1, q)))));
    }
    return meanOverSamples(this.name, elem);
  }
  protected override options() {
    return { fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing };
  }
}

/** -sum(yTrue · log q) over the class axis, q = yPred normalized to sum 1 and clipped (or softmax(logits)). */
function crossentropy(op: string, t: Variable, p: Variable, axis: number, fromLogits: boolean): Variable {
  const logits = fromLogits ? p : softmaxLogits(p, axis);
  if (logits) {
    // the last axis becomes one fused, stable op (T.categoricalCrossentropy recognizes the softmax)
    if (axis === p.ndim - 1) return meanOverSamples(op, T.categoricalCrossentropy(t, T.softmax(logits, -1)));
    return sumOverAxisPerSample(op, T.neg(T.mul(t, T.logSoftmax(logits, axis))), axis);
  }
  const q = T.clip(T.div(p, T.sum(p, axis, true)), EPSILON, 1 - EPSILON);
  return sumOverAxisPerSample(op, T.neg(T.mul(t, T.log(q))), axis);
}

/**
 * Crossentropy of one-hot (or soft) labels.  fromLogits: yPred holds logits; labelSmoothing s:
 * y·(1 - s) + s/numClasses; axis: the class axis.
 */
export class CategoricalCrossentropy extends Loss {
  readonly className = 'CategoricalCrossentropy';
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  readonly axis: number;
  constructor(opts?: LossOptions & { fromLogits?: boolean; labelSmoothing?: number; axis?: number }) {
    const o = checkOptions('CategoricalCrossentropy', opts, ['name', 'fromLogits', 'labelSmoothing', 'axis']);
    super((o.name as string) ?? 'categoricalCrossentropy');
    this.fromLogits = boolOpt('CategoricalCrossentropy', o, 'fromLogits', false);
    this.labelSmoothing = numOpt('CategoricalCrossentropy', o, 'labelSmoothing', 0, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.axis = numOpt('CategoricalCrossentropy', o, 'axis', -1, Number.isInteger, 'an integer');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    return this.callAxis(yTrue, yPred, this.axis);
  }
  protected override callMerged(yTrue: Variable, yPred: Variable): Variable {
    return this.callAxis(yTrue, yPred, mergedAxis(this.name, this.axis));
  }
  private callAxis(yTrue: Variable, yPred: Variable, classAxisOpt: number): Variable {
    let [t, p] = alignLabels(this.name, yTrue, yPred);
    checkOrder(this.name, p);
    const axis = classAxis(this.name, p, classAxisOpt);
    if (this.labelSmoothing) {
      const n = dims(p)[axis];
      if (n === null) throw shapeError(this.name, `labelSmoothing needs the number of classes (axis ${axis} of ${p.describe()}) to be known`);
      t = T.add(T.mul(t, 1 - this.labelSmoothing), this.labelSmoothing / n);
    }
    return crossentropy(this.name, t, p, axis, this.fromLogits);
  }
  protected override options() {
    return { fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing, axis: this.axis };
  }
}

/**
 * Crossentropy of integer class labels (int32, or floats holding integers), yTrue [batch] or
 * [batch, 1] for yPred [batch, classes].  ignoreClass: labels equal to it add nothing, and the
 * batch's loss is averaged over the other labels only (Keras's mask): per-sample values are
 * scaled by total/valid labels so that reduceLoss gives that average.
 */
export class SparseCategoricalCrossentropy extends Loss {
  readonly className = 'SparseCategoricalCrossentropy';
  readonly fromLogits: boolean;
  readonly ignoreClass: number | null;
  constructor(opts?: LossOptions & { fromLogits?: boolean; ignoreClass?: number | null }) {
    const o = checkOptions('SparseCategoricalCrossentropy', opts, ['name', 'fromLogits', 'ignoreClass']);
    super((o.name as string) ?? 'sparseCategoricalCrossentropy');
    this.fromLogits = boolOpt('SparseCategoricalCrossentropy', o, 'fromLogits', false);
    const ic = o.ignoreClass ?? null;
    if (ic !== null && (typeof ic !== 'number' || !Number.isInteger(ic))) throw argError('SparseCategoricalCrossentropy', `ignoreClass must be an integer or null, got ${fmtValue(ic)}`);
    this.ignoreClass = ic as number | null;
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const op = this.name;
    const { elems, valid, dtype } = this.entries(yTrue, yPred);
    if (!valid) return meanOverSamples(op, elems);
    // Keras's mask for 'sum_over_batch_size': valid labels weigh total / valid, the others 0
    const v = T.cast(valid, dtype);
    const scale = T.div(T.sum(onesLike(v)), T.add(T.sum(v), EPSILON));
    return meanOverSamples(op, T.mul(T.where(valid, elems, 0), scale));
  }
  /** Per step: the crossentropy of each label, and (with ignoreClass) its labels as the loss's own mask. */
  override stepLosses(yTrue: Variable, yPred: Variable): { values: Variable; mask: Variable | null } {
    if (this.ignoreClass === null) return super.stepLosses(yTrue, yPred);
    const p = checkVariable(this.name, 'yPred', yPred);
    const { elems, valid } = this.entries(mergeSteps(this.name, 'yTrue', checkVariable(this.name, 'yTrue', yTrue)), mergeSteps(this.name, 'yPred', p));
    if (elems.ndim !== 1) throw shapeError(this.name, `with ignoreClass a masked sequence output must be [batch, steps, classes], got yPred ${p.describe()}`);
    return { values: splitSteps(T.where(valid!, elems, 0), p), mask: splitSteps(valid!, p) };
  }
  /** The crossentropy of every label (0 at ignored ones' class 0) and the labels that count (null without ignoreClass). */
  private entries(yTrue: Variable, yPred: Variable): { elems: Variable; valid: Variable | null; dtype: 'float32' | 'float64' } {
    const op = this.name;
    checkOrder(op, checkVariable(op, 'yPred', yPred));
    const [labels0, p, depth] = alignSparseLabels(op, yTrue, yPred);
    let t = labels0;
    const valid = this.ignoreClass === null ? null : T.notEqual(t, this.ignoreClass);
    if (valid) t = T.where(valid, t, 0);
    const labels = T.oneHot(t.dtype === 'int32' ? t : T.cast(t, 'int32'), depth, 1, 0, p.dtype);
    return { elems: crossentropyElems(labels, p, this.fromLogits), valid, dtype: p.dtype as 'float32' | 'float64' };
  }
  protected override options() {
    return { fromLogits: this.fromLogits, ignoreClass: this.ignoreClass };
  }
}

/** Crossentropy over the last axis without the per-sample averaging (ignoreClass masks per label). */
function crossentropyElems(labels: Variable, p: Variable, fromLogits: boolean): Variable {
  const axis = p.ndim - 1;
  const logits = fromLogits ? p : softmaxLogits(p, axis);
  if (logits) return T.categoricalCrossentropy(labels, T.softmax(logits, -1));
  const q = T.clip(T.div(p, T.sum(p, axis, true)), EPSILON, 1 - EPSILON);
  return T.neg(T.sum(T.mul(labels, T.log(q)), axis));
}

/** Kullback-Leibler divergence sum(yTrue · log(yTrue / yPred)) over the last axis, both clipped to [1e-7, 1]. */
export class KLDivergence extends Loss {
  readonly className = 'KLDivergence';
  constructor(opts?: LossOptions) {
    super((checkOptions('KLDivergence', opts, ['name']).name as string) ?? 'klDivergence');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    let [t, p] = alignLabels(this.name, yTrue, yPred);
    const axis = classAxis(this.name, p, -1);
    t = T.clip(t, EPSILON, 1);
    p = T.clip(p, EPSILON, 1);
    return sumOverAxisPerSample(this.name, T.mul(t, T.log(T.div(t, p))), axis);
  }
}

/** Poisson loss mean(yPred - yTrue · log(yPred + 1e-7)) per sample. */
export class Poisson extends Loss {
  readonly className = 'Poisson';
  constructor(opts?: LossOptions) {
    super((checkOptions('Poisson', opts, ['name']).name as string) ?? 'poisson');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    return meanOverSamples(this.name, T.sub(p, T.mul(t, T.log(T.add(p, EPSILON)))));
  }
}

// ---- hinge losses ----

/** Keras's rule: labels that are all 0 or 1 become -1/1; other labels are used as they are. */
function hingeLabels(t: Variable): Variable {
  const binary = T.all(T.logicalOr(T.equal(t, 0), T.equal(t, 1)));
  return T.where(binary, T.sub(T.mul(t, 2), 1), t);
}

/** mean(max(1 - yTrue · yPred, 0)) per sample; labels in {-1, 1} (0/1 labels are converted). */
export class Hinge extends Loss {
  readonly className = 'Hinge';
  constructor(opts?: LossOptions) {
    super((checkOptions('Hinge', opts, ['name']).name as string) ?? 'hinge');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    return meanOverSamples(this.name, T.maximum(T.sub(1, T.mul(hingeLabels(t), p)), 0));
  }
}

/** mean(max(1 - yTrue · yPred, 0)²) per sample; labels in {-1, 1} (0/1 labels are converted). */
export class SquaredHinge extends Loss {
  readonly className = 'SquaredHinge';
  constructor(opts?: LossOptions) {
    super((checkOptions('SquaredHinge', opts, ['name']).name as string) ?? 'squaredHinge');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    return meanOverSamples(this.name, T.square(T.maximum(T.sub(1, T.mul(hingeLabels(t), p)), 0)));
  }
}

/** max(max((1 - yTrue) · yPred) - sum(yTrue · yPred) + 1, 0) over the last axis (one-hot labels). */
export class CategoricalHinge extends Loss {
  readonly className = 'CategoricalHinge';
  constructor(opts?: LossOptions) {
    super((checkOptions('CategoricalHinge', opts, ['name']).name as string) ?? 'categoricalHinge');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    const axis = classAxis(this.name, p, -1);
    const pos = T.sum(T.mul(t, p), axis);
    const neg = T.max(T.mul(T.sub(1, t), p), axis);
    return meanOverSamples(this.name, T.maximum(T.add(T.sub(neg, pos), 1), 0));
  }
}

/**
 * The negated cosine similarity -sum(l2normalize(yTrue) · l2normalize(yPred)) over `axis`
 * (Keras: x · min(1/‖x‖, 1e7), so a zero vector gives 0).
 */
export class CosineSimilarity extends Loss {
  readonly className = 'CosineSimilarity';
  readonly axis: number;
  constructor(opts?: LossOptions & { axis?: number }) {
    const o = checkOptions('CosineSimilarity', opts, ['name', 'axis']);
    super((o.name as string) ?? 'cosineSimilarity');
    this.axis = numOpt('CosineSimilarity', o, 'axis', -1, Number.isInteger, 'an integer');
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    return this.callAxis(yTrue, yPred, this.axis);
  }
  protected override callMerged(yTrue: Variable, yPred: Variable): Variable {
    return this.callAxis(yTrue, yPred, mergedAxis(this.name, this.axis));
  }
  private callAxis(yTrue: Variable, yPred: Variable, axisOpt: number): Variable {
    const [t, p] = alignLabels(this.name, yTrue, yPred);
    const axis = classAxis(this.name, p, axisOpt);
    const unit = (x: Variable) => T.mul(x, T.minimum(T.rsqrt(T.sum(T.square(x), axis, true)), 1 / EPSILON));
    return sumOverAxisPerSample(this.name, T.neg(T.mul(unit(t), unit(p))), axis);
  }
  protected override options() {
    return { axis: this.axis };
  }
}

// ---- user functions ----

/** A loss from a plain function (yTrue, yPred) => per-sample losses (Keras's LossFunctionWrapper). */
export class LossFunctionWrapper extends Loss {
  readonly className = 'LossFunctionWrapper';
  constructor(
    /** The per-sample function this loss averages. */
    readonly fn: (yTrue: Variable, yPred: Variable) => Variable,
    name?: string,
  ) {
    super(name ?? (fn.name || 'loss'));
  }
  call(yTrue: Variable, yPred: Variable): Variable {
    const [t, p] = alignRanks(checkVariable(this.name, 'yTrue', yTrue), checkVariable(this.name, 'yPred', yPred));
    const out = this.fn(t, p);
    return meanOverSamples(this.name, checkVariable(this.name, `the value of loss function ${this.name}`, out));
  }
}

// ---- lookup ----

const REGISTRY = new ClassRegistry<Loss>();
const register = REGISTRY.register.bind(REGISTRY);

register('MeanSquaredError', (o) => new MeanSquaredError(o), ['meanSquaredError', 'mse']);
register('MeanAbsoluteError', (o) => new MeanAbsoluteError(o), ['meanAbsoluteError', 'mae']);
register('MeanAbsolutePercentageError', (o) => new MeanAbsolutePercentageError(o), ['meanAbsolutePercentageError', 'mape']);
register('MeanSquaredLogarithmicError', (o) => new MeanSquaredLogarithmicError(o), ['meanSquaredLogarithmicError', 'msle']);
register('Huber', (o) => new Huber(o), ['huber']);
register('LogCosh', (o) => new LogCosh(o), ['logCosh']);
register('BinaryCrossentropy', (o) => new BinaryCrossentropy(o), ['binaryCrossentropy']);
register('CategoricalCrossentropy', (o) => new CategoricalCrossentropy(o), ['categoricalCrossentropy']);
register('SparseCategoricalCrossentropy', (o) => new SparseCategoricalCrossentropy(o), ['sparseCategoricalCrossentropy']);
register('KLDivergence', (o) => new KLDivergence(o), ['klDivergence', 'kld', 'kullbackLeiblerDivergence']);
register('Poisson', (o) => new Poisson(o), ['poisson']);
register('Hinge', (o) => new Hinge(o), ['hinge']);
register('SquaredHinge', (o) => new SquaredHinge(o), ['squaredHinge']);
register('CategoricalHinge', (o) => new CategoricalHinge(o), ['categoricalHinge']);
register('CosineSimilarity', (o) => new CosineSimilarity(o), ['cosineSimilarity']);

/** @internal The class name a loss name stands for, or undefined. */
export function lossClassName(name: string): string | undefined {
  return REGISTRY.classOf(name);
}

/** @internal Every loss name getLoss takes (camelCase; snake_case and class names work too). */
export function lossNames(): string[] {
  return REGISTRY.primary.slice();
}

type LossOpts<C> = C extends new (opts?: infer O) => Loss ? O : never;

/**
 * A loss factory that is also the loss as a function: with options (or nothing) it makes the Loss
 * object `compile` takes; with two symbolic variables it returns the per-sample losses, like
 * Keras's function forms (`keras.losses.categorical_crossentropy(y_true, y_pred)`).
 */
export interface LossFactory<O, L extends Loss> {
  (opts?: O): L;
  (yTrue: Variable, yPred: Variable): Variable;
}

function dual<C extends new (opts?: any) => Loss>(Cls: C): LossFactory<LossOpts<C>, InstanceType<C>> {
  return ((a?: unknown, b?: unknown) => {
    if (a instanceof Variable) {
      if (!(b instanceof Variable)) throw argError(Cls.name, `called as a function it takes (yTrue, yPred) symbolic variables; yPred is ${fmtValue(b)}`);
      return new Cls().call(a, b);
    }
    return new Cls(a as never);
  }) as LossFactory<LossOpts<C>, InstanceType<C>>;
}

/**
 * One factory per loss (camelCase), with Keras's short aliases.
 * @example model.compile({ loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), … })
 */
export const losses = Object.freeze({
  /** Mean of (yTrue - yPred)² over the last axis. */
  meanSquaredError: dual(MeanSquaredError),
  /** Mean of |yTrue - yPred| over the last axis. */
  meanAbsoluteError: dual(MeanAbsoluteError),
  /** 100 · mean of |yTrue - yPred| / |yTrue| over the last axis. */
  meanAbsolutePercentageError: dual(MeanAbsolutePercentageError),
  /** Mean of (log(1 + yTrue) - log(1 + yPred))² over the last axis. */
  meanSquaredLogarithmicError: dual(MeanSquaredLogarithmicError),
  /** Quadratic for errors up to delta, linear beyond (less sensitive to outliers than MSE). */
  huber: dual(Huber),
  /** Mean of log(cosh(yPred - yTrue)) over the last axis. */
  logCosh: dual(LogCosh),
  /** Binary cross-entropy of 0/1 targets and probabilities (or logits with fromLogits). */
  binaryCrossentropy: dual(BinaryCrossentropy),
  /** Cross-entropy of one-hot (or soft) targets and class probabilities (or logits with fromLogits). */
  categoricalCrossentropy: dual(CategoricalCrossentropy),
  /** Cross-entropy of integer class labels and class probabilities (or logits with fromLogits). */
  sparseCategoricalCrossentropy: dual(SparseCategoricalCrossentropy),
  /** Kullback-Leibler divergence, sum of yTrue · log(yTrue / yPred) over the last axis. */
  klDivergence: dual(KLDivergence),
  /** Mean of yPred - yTrue · log(yPred) over the last axis. */
  poisson: dual(Poisson),
  /** Mean of max(1 - yTrue · yPred, 0) for -1/1 (or 0/1) targets. */
  hinge: dual(Hinge),
  /** Mean of max(1 - yTrue · yPred, 0)² for -1/1 (or 0/1) targets. */
  squaredHinge: dual(SquaredHinge),
  /** max(neg - pos + 1, 0) with pos the true class's score and neg the largest other one. */
  categoricalHinge: dual(CategoricalHinge),
  /** Negative cosine similarity of yTrue and yPred along axis (-1 when aligned). */
  cosineSimilarity: dual(CosineSimilarity),
  /** Keras's alias of meanSquaredError. */
  mse: dual(MeanSquaredError),
  /** Keras's alias of meanAbsoluteError. */
  mae: dual(MeanAbsoluteError),
  /** Keras's alias of meanAbsolutePercentageError. */
  mape: dual(MeanAbsolutePercentageError),
  /** Keras's alias of meanSquaredLogarithmicError. */
  msle: dual(MeanSquaredLogarithmicError),
  /** Keras's alias of klDivergence. */
  kld: dual(KLDivergence),
  /** Keras's alias of klDivergence. */
  kullbackLeiblerDivergence: dual(KLDivergence),
});

/** Keras config keys are snake_case; ours camelCase.  'reduction' only takes Keras's default. */
function lossOptions(op: string, config: unknown): Opts {
  return configOptions(op, config, (key, v) => {
    if (key === 'reduction') {
      if (v !== 'sum_over_batch_size' && v !== 'sumOverBatchSize' && v !== undefined)
        throw argError(op, `reduction ${fmtValue(v)} is not supported (losses reduce with 'sum_over_batch_size')`);
      return false;
    }
    return key !== 'dtype'; // losses compute in yPred's dtype
  });
}

/**
 * Resolves a loss: a name ('meanSquaredError', 'mse', Keras's 'mean_squared_error' and class
 * names), a Loss (returned as is), a plain function (yTrue, yPred) => per-sample losses, or a
 * config {className, config} (as getConfig gives).  Unknown names throw listing the valid ones.
 * @example getLoss('categorical_crossentropy'); getLoss({ className: 'Huber', config: { delta: 2 } });
 */
export function getLoss(id: string | Loss | ((yTrue: Variable, yPred: Variable) => Variable) | { className: string; config?: object }): Loss {
  const op = 'getLoss';
  if (id instanceof Loss) return id;
  if (typeof id === 'function') return new LossFunctionWrapper(id);
  if (typeof id === 'string') {
    const cls = REGISTRY.classOf(id);
    if (!cls) throw argError(op, `unknown loss ${fmtValue(id)}; valid names: ${REGISTRY.primary.join(', ')} (Keras's snake_case and class names, such as 'categorical_crossentropy', work too)`);
    return REGISTRY.factory(cls)!();
  }
  if (id && typeof id === 'object' && typeof (id as { className?: unknown }).className === 'string') {
    const { className, config } = id as { className: string; config?: object };
    if (nameKey(className) === 'lossfunctionwrapper') throw argError(op, 'a loss made from a function cannot be rebuilt from its config; pass the function');
    const make = REGISTRY.factory(className);
    if (!make) throw argError(op, `unknown loss class ${fmtValue(className)}; valid classes: ${REGISTRY.classNames().join(', ')}`);
    return make(lossOptions(op, config));
  }
  throw argError(op, `expected a loss name, a Loss, a function or a {className, config} object, got ${fmtValue(id)}`);
}
