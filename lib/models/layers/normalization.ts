// Keras's normalization layers.  BatchNormalization normalizes with the batch's statistics while
// training (and moves its running averages toward them through ctx.addUpdate) and with the
// running averages at inference; LayerNormalization normalizes each sample over its own axes.
import { fmtShape, fmtValue, argError, shapeError } from '../../errors';
import { SharedVariable } from '../../graph/shared';
import * as T from '../../graph/T';
import { Variable } from '../../graph/variable';
import { Constraint } from '../constraints';
import { Initializer, getInitializer } from '../initializers';
import { CallContext, Layer, LayerArgs, Shape, registerLayer, single } from '../layer';
import { Regularizer } from '../regularizers';
import {
  ConstraintId, InitializerId, RegularizerId, asDtype, boolOption, checkLayerOptions, constraintConfig, initializerConfig, numberOption,
  optConstraint, optRegularizer, regularizerConfig,
} from './core';

/** The options gamma and beta share between the two layers. */
interface AffineArgs {
  /** Add the learned offset beta (default true). */
  center?: boolean;
  /** Multiply by the learned scale gamma (default true). */
  scale?: boolean;
  betaInitializer?: InitializerId;
  gammaInitializer?: InitializerId;
  betaRegularizer?: RegularizerId;
  gammaRegularizer?: RegularizerId;
  betaConstraint?: ConstraintId;
  gammaConstraint?: ConstraintId;
}
const AFFINE_OPTIONS = ['center', 'scale', 'betaInitializer', 'gammaInitializer', 'betaRegularizer', 'gammaRegularizer', 'betaConstraint', 'gammaConstraint'];

/** gamma and beta: options, weights and config (one place for both layers). */
class Affine {
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly betaRegularizer: Regularizer | null;
  readonly gammaRegularizer: Regularizer | null;
  readonly betaConstraint: Constraint | null;
  readonly gammaConstraint: Constraint | null;
  gamma: SharedVariable | null = null;
  beta: SharedVariable | null = null;
  constructor(name: string, o: Record<string, unknown>) {
    this.center = boolOption(name, 'center', o.center, true);
    this.scale = boolOption(name, 'scale', o.scale, true);
    this.betaInitializer = getInitializer((o.betaInitializer ?? 'zeros') as InitializerId);
    this.gammaInitializer = getInitializer((o.gammaInitializer ?? 'ones') as InitializerId);
    this.betaRegularizer = optRegularizer(o.betaRegularizer);
    this.gammaRegularizer = optRegularizer(o.gammaRegularizer);
    this.betaConstraint = optConstraint(o.betaConstraint);
    this.gammaConstraint = optConstraint(o.gammaConstraint);
  }
  /** Creates gamma then beta (Keras's order). */
  build(layer: Layer, shape: number[]): void {
    if (this.scale) this.gamma = layer.addWeight('gamma', shape, { initializer: this.gammaInitializer, regularizer: this.gammaRegularizer, constraint: this.gammaConstraint });
    if (this.center) this.beta = layer.addWeight('beta', shape, { initializer: this.betaInitializer, regularizer: this.betaRegularizer, constraint: this.betaConstraint });
  }
  /** The gamma/beta options as they go into the layer's config. */
  config(): Record<string, unknown> {
    return {
      center: this.center,
      scale: this.scale,
      betaInitializer: initializerConfig(this.betaInitializer),
      gammaInitializer: initializerConfig(this.gammaInitializer),
      betaRegularizer: regularizerConfig(this.betaRegularizer),
      gammaRegularizer: regularizerConfig(this.gammaRegularizer),
      betaConstraint: constraintConfig(this.betaConstraint),
      gammaConstraint: constraintConfig(this.gammaConstraint),
    };
  }
}

/** The base of both layers: the getters of gamma and beta, which each subclass's Affine holds. */
abstract class AffineNormalization extends Layer {
  protected abstract readonly affine: Affine;
  /** The learned scale (null when scale is false). */
  get gamma(): SharedVariable | null {
    return this.affine.gamma;
  }
  /** The learned offset (null when center is false). */
  get beta(): SharedVariable | null {
    return this.affine.beta;
  }
}

/** (x - mean) / sqrt(variance + epsilon) · gamma + beta, with every statistic broadcast by `widen`. */
function normalize(x: Variable, mean: Variable, variance: Variable, epsilon: number, affine: Affine, widen: (p: Variable) => Variable): Variable {
  let inv = T.rsqrt(T.add(variance, epsilon));
  if (affine.gamma) inv = T.mul(inv, widen(affine.gamma));
  const y = T.mul(T.sub(x, mean), inv);
  return affine.beta ? T.add(y, widen(affine.beta)) : y;
}

function checkAxis(name: string, axis: unknown): void {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) throw argError(name, `axis must be an integer, got ${fmtValue(axis)}`);
}

/** The axes of a rank-`rank` input given as possibly negative axes, or an error naming the layer and shape. */
function inputAxes(name: string, axes: number[], shape: Shape): number[] {
  const rank = shape.length;
  const out = axes.map((a) => {
    if (a < -rank || a >= rank) throw shapeError(name, `axis ${a} is out of range for an input of shape ${fmtShape(shape)}`);
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) throw argError(name, `axis ${fmtValue(axes)} repeats an axis (input shape ${fmtShape(shape)})`);
  return out;
}

// ---- BatchNormalization ----

export interface BatchNormalizationArgs extends LayerArgs, AffineArgs {
  /** The features axis (default -1: channels last); statistics are taken over all other axes. */
  axis?: number;
  /** Weight of the old value in the moving averages (default 0.99). */
  momentum?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  movingMeanInitializer?: InitializerId;
  movingVarianceInitializer?: InitializerId;
}

/**
 * Batch normalization (Ioffe & Szegedy).  In training the input is normalized with the mean and
 * (biased) variance of the batch over every axis but `axis`, and the moving averages are updated:
 * moving = moving · momentum + batch · (1 - momentum).  At inference, and whenever the layer is
 * frozen (trainable = false, as in Keras 3), the moving statistics are used.  gamma and beta are
 * trainable; moving_mean and moving_variance are not.
 * @example new BatchNormalization({ momentum: 0.9 }) // 4·C parameters, 2·C of them non-trainable
 */
export class BatchNormalization extends AffineNormalization {
  /** The mask passes through unchanged. */
  override supportsMasking = true;
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;
  protected readonly affine: Affine;
  movingMean!: SharedVariable;
  movingVariance!: SharedVariable;
  /** The input rank the layer was built for. */
  private rank = 0;

  constructor(args: BatchNormalizationArgs = {}) {
    const o = checkLayerOptions('BatchNormalization', args, ['axis', 'momentum', 'epsilon', 'movingMeanInitializer', 'movingVarianceInitializer', ...AFFINE_OPTIONS]);
    super(args);
    checkAxis(this.name, o.axis ?? -1);
    this.axis = (o.axis as number | undefined) ?? -1;
    this.momentum = numberOption(this.name, 'momentum', o.momentum, 0.99, 0, 1);
    this.epsilon = numberOption(this.name, 'epsilon', o.epsilon, 1e-3, 0);
    this.movingMeanInitializer = getInitializer((o.movingMeanInitializer ?? 'zeros') as InitializerId);
    this.movingVarianceInitializer = getInitializer((o.movingVarianceInitializer ?? 'ones') as InitializerId);
    this.affine = new Affine(this.name, o);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = inputShape as Shape;
    const [a] = inputAxes(this.name, [this.axis], shape);
    const dim = shape[a];
    if (dim === null) throw shapeError(this.name, `the size of axis ${this.axis} must be known to create the weights, got input shape ${fmtShape(shape)}`);
    this.rank = shape.length;
    this.affine.build(this, [dim]);
    this.movingMean = this.addWeight('moving_mean', [dim], { initializer: this.movingMeanInitializer, trainable: false });
    this.movingVariance = this.addWeight('moving_variance', [dim], { initializer: this.movingVarianceInitializer, trainable: false });
    this.built = true;
  }

  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = asDtype(single(this, inputs), this.dtype);
    const dim = this.movingMean.type.shape[0] as number;
    const shape = x.type.shape;
    if (x.ndim !== this.rank) throw shapeError(this.name, `was built for inputs of rank ${this.rank}, got ${fmtShape(shape)}`);
    const [a] = inputAxes(this.name, [this.axis], shape);
    if (shape[a] !== null && shape[a] !== dim) throw shapeError(this.name, `was built for ${dim} features on axis ${this.axis}, got input shape ${fmtShape(shape)}`);
    // parameters of shape [dim] broadcast against x: as they are when the axis is the last one
    const bshape = shape.map((_, i) => (i === a ? dim : 1));
    const widen = (p: Variable) => (a === x.ndim - 1 ? p : T.reshape(p, bshape));
    if (!ctx.training || !this.trainable) return normalize(x, widen(this.movingMean), widen(this.movingVariance), this.epsilon, this.affine, widen);
    const reduce = [...Array(x.ndim).keys()].filter((i) => i !== a);
    const mean = T.mean(x, reduce, true);
    const variance = T.variance(x, reduce, true);
    const m = this.momentum;
    const update = (moving: SharedVariable, batch: Variable) =>
      ctx.addUpdate(moving, asDtype(T.add(T.mul(moving, m), T.mul(T.reshape(batch, [dim]), 1 - m)), moving.dtype));
    update(this.movingMean, mean);
    update(this.movingVariance, variance);
    return normalize(x, mean, variance, this.epsilon, this.affine, widen);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      ...this.affine.config(),
      movingMeanInitializer: initializerConfig(this.movingMeanInitializer),
      movingVarianceInitializer: initializerConfig(this.movingVarianceInitializer),
    };
  }
}
registerLayer('BatchNormalization', BatchNormalization);
/** @example st.layers.batchNormalization() */
export const batchNormalization = (o: BatchNormalizationArgs = {}) => new BatchNormalization(o);

// ---- LayerNormalization ----

export interface LayerNormalizationArgs extends LayerArgs, AffineArgs {
  /** The axis or axes normalized over, per sample (default -1). gamma and beta have their sizes. */
  axis?: number | number[];
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
}

/**
 * Layer normalization (Ba et al.): each sample is normalized with the mean and (biased) variance
 * over `axis`, then scaled by gamma and shifted by beta, both shaped like those axes.  The same
 * in training and at inference.
 * @example new LayerNormalization({ axis: -1 })
 */
export class LayerNormalization extends AffineNormalization {
  /** The mask passes through unchanged. */
  override supportsMasking = true;
  readonly axis: number | number[];
  readonly epsilon: number;
  protected readonly affine: Affine;
  /** The axes (non-negative, as given) for the input rank the layer was built for. */
  private axes: number[] = [];
  private rank = 0;

  constructor(args: LayerNormalizationArgs = {}) {
    const o = checkLayerOptions('LayerNormalization', args, ['axis', 'epsilon', ...AFFINE_OPTIONS]);
    super(args);
    const axis = o.axis ?? -1;
    if (Array.isArray(axis)) {
      if (axis.length === 0) throw argError(this.name, 'axis must be an integer or a non-empty array of integers, got []');
      axis.forEach((a) => checkAxis(this.name, a));
    } else checkAxis(this.name, axis);
    this.axis = Array.isArray(axis) ? (axis as number[]).slice() : (axis as number);
    this.epsilon = numberOption(this.name, 'epsilon', o.epsilon, 1e-3, 0);
    this.affine = new Affine(this.name, o);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = inputShape as Shape;
    this.axes = inputAxes(this.name, Array.isArray(this.axis) ? this.axis : [this.axis], shape);
    const dims = this.axes.map((a) => shape[a]);
    if (dims.some((d) => d === null))
      throw shapeError(this.name, `the sizes of axis ${fmtValue(this.axis)} must be known to create the weights, got input shape ${fmtShape(shape)}`);
    this.rank = shape.length;
    this.affine.build(this, dims as number[]);
    this.built = true;
  }

  call(inputs: Variable | Variable[]): Variable {
    const x = asDtype(single(this, inputs), this.dtype);
    const shape = x.type.shape;
    if (x.ndim !== this.rank) throw shapeError(this.name, `was built for inputs of rank ${this.rank}, got ${fmtShape(shape)}`);
    const params = this.affine.gamma ?? this.affine.beta;
    if (params) {
      const want = params.type.shape;
      if (this.axes.some((a, k) => shape[a] !== null && shape[a] !== want[k]))
        throw shapeError(this.name, `was built for sizes ${fmtShape(want)} on axis ${fmtValue(this.axis)}, got input shape ${fmtShape(shape)}`);
    }
    const sorted = this.axes.slice().sort((p, q) => p - q);
    // gamma/beta follow the order of `axis`; put them in axis order, then give them x's rank
    const order = sorted.map((a) => this.axes.indexOf(a));
    const bshape = shape.map((_, i) => (sorted.includes(i) ? (params?.type.shape[this.axes.indexOf(i)] as number) : 1));
    const trailing = sorted.every((a, k) => a === x.ndim - sorted.length + k);
    const widen = (p: Variable) => {
      const q = order.every((o, k) => o === k) ? p : T.transpose(p, order);
      return trailing ? q : T.reshape(q, bshape);
    };
    const mean = T.mean(x, sorted, true);
    const variance = T.variance(x, sorted, true);
    return normalize(x, mean, variance, this.epsilon, this.affine, widen);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: Array.isArray(this.axis) ? this.axis.slice() : this.axis, epsilon: this.epsilon, ...this.affine.config() };
  }
}
registerLayer('LayerNormalization', LayerNormalization);
/** @example st.layers.layerNormalization({ epsilon: 1e-6 }) */
export const layerNormalization = (o: LayerNormalizationArgs = {}) => new LayerNormalization(o);
