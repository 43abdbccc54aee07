// Keras's core layers: Dense, Activation, the reshaping layers (Flatten, Reshape, Permute),
// Embedding, and the layers that are random only while training (Dropout and its spatial
// variants, GaussianNoise, GaussianDropout).  Each random layer owns a random stream, so a
// compiled training step draws a fresh mask on every call (the stream's state advances with it).
import { DType, isFloat } from '../../dtype';
import { argError, dtypeError, fmtShape, fmtValue, shapeError } from '../../errors';
import { RandomStreams, ShapeArg, randomStreams } from '../../graph/random';
import { SharedVariable } from '../../graph/shared';
import * as T from '../../graph/T';
import { Variable } from '../../graph/variable';
import { Flatten2D } from '../../graph/ops/shape';
import { ActivationFn, activationName, getActivation } from '../activations';
import { Constraint, getConstraint } from '../constraints';
import { Initializer, getInitializer } from '../initializers';
import { CallContext, Layer, LayerArgs, Mask, Shape, registerLayer, single } from '../layer';
import { ClassConfig, boolValue, checkOptions } from '../options';
import { Regularizer, getRegularizer } from '../regularizers';
import { nextSeed, optionalSeed } from '../seed';

// ---- helpers shared by the layer files ----

/** An initializer, regularizer or constraint as a layer option: a name, an object or a config. */
export type InitializerId = string | Initializer | ClassConfig;
/** A regularizer as a layer option: a name ('l2'), a Regularizer, a config, or null for none. */
export type RegularizerId = string | Regularizer | ClassConfig | null;
/** A constraint as a layer option: a name ('maxNorm'), a Constraint, a config, or null for none. */
export type ConstraintId = string | Constraint | ClassConfig | null;

const BASE_OPTIONS = ['name', 'trainable', 'inputShape', 'batchSize', 'dtype'];

/**
 * @internal Rejects option names a layer does not know (a misspelt `unit` would otherwise be
 * ignored silently), listing the valid ones.
 */
export function checkLayerOptions(cls: string, args: unknown, own: readonly string[], nullIsEmpty = false): Record<string, unknown> {
  return checkOptions(cls, args, [...own, ...BASE_OPTIONS], { nullIsEmpty });
}

/** @internal A positive integer option. */
export function positiveInt(cls: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw argError(cls, `${what} must be a positive integer, got ${fmtValue(v)}`);
  return v;
}

/** @internal A boolean option with its default. */
export function boolOption(cls: string, what: string, v: unknown, fallback: boolean): boolean {
  return v === undefined ? fallback : boolValue(cls, what, v);
}

/**
 * @internal A finite number option inside [min, max] (or [min, max) when maxOpen); `fallback`
 * undefined makes it required.
 */
export function numberOption(cls: string, what: string, v: unknown, fallback: number | undefined, min = -Infinity, max = Infinity, maxOpen = false): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (maxOpen && v === max)) {
    const range = min === -Infinity && max === Infinity ? 'a finite number' : max === Infinity ? `a number >= ${min}` : `a number in [${min}, ${max}${maxOpen ? ')' : ']'}`;
    throw argError(cls, `${what} must be ${range}, got ${fmtValue(v)}`);
  }
  return v;
}

/** @internal Config forms (JSON) of weight options. */
export const initializerConfig = (i: Initializer) => i.getConfig();
/** @internal The config form of an optional regularizer or constraint (null for none). */
export const configOrNull = <C>(o: { getConfig(): C } | null): C | null => (o ? o.getConfig() : null);
export const regularizerConfig = (r: Regularizer | null) => configOrNull(r);
export const constraintConfig = (c: Constraint | null) => configOrNull(c);
/** @internal A regularizer or constraint option, null when absent. */
export const optRegularizer = (id: unknown) => (id === undefined || id === null ? null : getRegularizer(id as Exclude<RegularizerId, null>));
export const optConstraint = (id: unknown) => (id === undefined || id === null ? null : getConstraint(id as Exclude<ConstraintId, null>));

/** @internal x in the layer's dtype (Keras casts a layer's inputs to its compute dtype). */
export function asDtype(x: Variable, dtype: DType): Variable {
  return x.dtype === dtype ? x : T.cast(x, dtype);
}

/** The batch size of y: a number when known, else read from its shape at run time. */
function batchSizeOf(y: Variable): Variable | number {
  const b = y.type.shape[0];
  return typeof b === 'number' ? b : T.cast(y.shape[0], y.dtype);
}

/**
 * @internal Adds a layer's activity penalty to the loss; divided by the batch size as in Keras 3,
 * so the penalty does not grow with the batch.
 */
export function addActivityLoss(ctx: CallContext, reg: Regularizer | null, y: Variable): void {
  if (!reg) return;
  const penalty = reg.call(y);
  ctx.addLoss(y.ndim === 0 ? penalty : T.div(penalty, batchSizeOf(y)));
}

/** The dims of a shape after the batch axis when all are known, else null. */
function knownRest(shape: Shape): number[] | null {
  const rest = shape.slice(1);
  return rest.every((d) => d !== null) ? (rest as number[]) : null;
}

/** @internal 'channelsLast' | 'channelsFirst' from either Keras spelling. */
export type DataFormat = 'channelsLast' | 'channelsFirst';
export function dataFormatOption(cls: string, v: unknown): DataFormat {
  if (v === undefined || v === null) return 'channelsLast';
  if (v === 'channelsLast' || v === 'channels_last') return 'channelsLast';
  if (v === 'channelsFirst' || v === 'channels_first') return 'channelsFirst';
  throw argError(cls, `dataFormat must be 'channelsLast' or 'channelsFirst', got ${fmtValue(v)}`);
}

// ---- Dense ----

/** The options of Dense (Keras's, in camelCase). */
/** The weight options of a layer with a kernel and a bias (Keras's names). */
export interface KernelBiasArgs {
  kernelInitializer?: InitializerId;
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId;
  biasRegularizer?: RegularizerId;
  /** A penalty on the layer's output. */
  activityRegularizer?: RegularizerId;
  kernelConstraint?: ConstraintId;
  biasConstraint?: ConstraintId;
}

export interface DenseArgs extends LayerArgs, KernelBiasArgs {
  /** Size of the last axis of the output. */
  units: number;
  /** Applied to the output (default none: linear). */
  activation?: string | ActivationFn | null;
  useBias?: boolean;
  /** A penalty on the output, divided by the batch size. */
  activityRegularizer?: RegularizerId;
}

/**
 * A densely connected layer: `activation(x · kernel + bias)` over the last axis of an input of any
 * rank ≥ 2 (kernel [inputDim, units]).
 * @example const layer = new Dense({ units: 10, activation: 'softmax' });
 */
export class Dense extends Layer {
  /** The mask passes through unchanged (the steps stay where they were). */
  override supportsMasking = true;
  readonly units: number;
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly activityRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  readonly biasConstraint: Constraint | null;
  kernel!: SharedVariable;
  bias: SharedVariable | null = null;

  constructor(args: DenseArgs) {
    const o = checkLayerOptions('Dense', args, ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer',
      'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint']);
    super(args);
    this.units = positiveInt(this.name, 'units', o.units);
    this.activation = getActivation(o.activation as DenseArgs['activation']);
    this.useBias = boolOption(this.name, 'useBias', o.useBias, true);
    this.kernelInitializer = getInitializer((o.kernelInitializer ?? 'glorotUniform') as InitializerId);
    this.biasInitializer = getInitializer((o.biasInitializer ?? 'zeros') as InitializerId);
    this.kernelRegularizer = optRegularizer(o.kernelRegularizer);
    this.biasRegularizer = optRegularizer(o.biasRegularizer);
    this.activityRegularizer = optRegularizer(o.activityRegularizer);
    this.kernelConstraint = optConstraint(o.kernelConstraint);
    this.biasConstraint = optConstraint(o.biasConstraint);
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = inputShape as Shape;
    const inDim = s[s.length - 1];
    if (s.length < 2 || Array.isArray(inDim)) throw shapeError(this.name, `Dense expects an input of rank >= 2 (batch first), got ${fmtShape(s as Shape)}`);
    if (inDim === null || inDim === undefined) throw shapeError(this.name, `the last axis of the input must be known to create the kernel, got ${fmtShape(s)}`);
    this.kernel = this.addWeight('kernel', [inDim, this.units], { initializer: this.kernelInitializer, regularizer: this.kernelRegularizer, constraint: this.kernelConstraint });
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], { initializer: this.biasInitializer, regularizer: this.biasRegularizer, constraint: this.biasConstraint });
    this.built = true;
  }

  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = asDtype(single(this, inputs), this.dtype);
    const inDim = this.kernel.type.shape[0];
    const last = x.type.shape[x.ndim - 1];
    if (x.ndim < 2 || (last !== null && last !== inDim))
      throw shapeError(this.name, `the kernel was built for inputs [..., ${inDim}], got ${fmtShape(x.type.shape)}`);
    let y = x.ndim === 2 ? T.matmul(x, this.kernel) : T.dot(x, this.kernel);
    if (this.bias) y = T.add(y, this.bias);
    y = this.activation(y);
    addActivityLoss(ctx, this.activityRegularizer, y);
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: activationName(this.activation),
      useBias: this.useBias,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: regularizerConfig(this.kernelRegularizer),
      biasRegularizer: regularizerConfig(this.biasRegularizer),
      activityRegularizer: regularizerConfig(this.activityRegularizer),
      kernelConstraint: constraintConfig(this.kernelConstraint),
      biasConstraint: constraintConfig(this.biasConstraint),
    };
  }
}
registerLayer('Dense', Dense);
/** @example st.layers.dense({ units: 64, activation: 'relu' }) */
export const dense = (o: DenseArgs) => new Dense(o);

// ---- Activation ----

/** The options of Activation. */
export interface ActivationArgs extends LayerArgs {
  activation: string | ActivationFn;
}

/**
 * Applies an activation function to its input.
 * @example new Activation({ activation: 'relu' })
 */
export class Activation extends Layer {
  /** The mask passes through unchanged (the steps stay where they were). */
  override supportsMasking = true;
  readonly activation: ActivationFn;
  constructor(args: ActivationArgs) {
    const o = checkLayerOptions('Activation', args, ['activation']);
    super(args);
    if (o.activation === undefined || o.activation === null) throw argError(this.name, 'needs an activation (a name such as "relu", or a function)');
    this.activation = getActivation(o.activation as ActivationArgs['activation']);
  }
  call(inputs: Variable | Variable[]): Variable {
    return this.activation(single(this, inputs));
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: activationName(this.activation) };
  }
}
registerLayer('Activation', Activation);
/**
 * An Activation layer: applies an activation function to its input.
 * @example st.layers.activation({ activation: 'relu' })
 */
export const activation = (o: ActivationArgs) => new Activation(o);

// ---- Flatten, Reshape, Permute ----

/** The options of Flatten. */
export interface FlattenArgs extends LayerArgs {
  /** 'channelsFirst' inputs are put in channels-last order before flattening, as in Keras. */
  dataFormat?: DataFormat | 'channels_last' | 'channels_first';
}

/**
 * Flattens every axis but the batch axis: [batch, d1, d2, …] → [batch, d1·d2·…].
 * @example new Flatten() // [?, 7, 7, 64] → [?, 3136]
 */
export class Flatten extends Layer {
  readonly dataFormat: DataFormat;
  constructor(args: FlattenArgs = {}) {
    const o = checkLayerOptions('Flatten', args, ['dataFormat']);
    super(args);
    this.dataFormat = dataFormatOption(this.name, o.dataFormat);
  }
  call(inputs: Variable | Variable[]): Variable {
    let x = single(this, inputs);
    if (x.ndim === 0) throw shapeError(this.name, 'Flatten needs an input with a batch axis, got a scalar');
    if (this.dataFormat === 'channelsFirst' && x.ndim > 2) x = T.transpose(x, [0, ...[...Array(x.ndim).keys()].slice(2), 1]);
    return T.applyOp1(new Flatten2D(1), [x]);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dataFormat: this.dataFormat };
  }
}
registerLayer('Flatten', Flatten);
/** A Flatten layer: each sample's features as one axis ([batch, ...] to [batch, n]). */
export const flatten = (o: FlattenArgs = {}) => new Flatten(o);

/** The options of Reshape. */
export interface ReshapeArgs extends LayerArgs {
  /** The output shape without the batch axis; one entry may be -1 (inferred). */
  targetShape: number[];
}

/**
 * Reshapes each sample: [batch, …] → [batch, ...targetShape].
 * @example new Reshape({ targetShape: [7, 7, -1] })
 */
export class Reshape extends Layer {
  readonly targetShape: number[];
  constructor(args: ReshapeArgs) {
    const o = checkLayerOptions('Reshape', args, ['targetShape']);
    super(args);
    const t = o.targetShape;
    if (!Array.isArray(t) || t.some((d) => !Number.isInteger(d) || (d < 0 && d !== -1)) || t.filter((d) => d === -1).length > 1)
      throw argError(this.name, `targetShape must be an array of non-negative integers with at most one -1 (the batch axis left out), got ${fmtValue(t)}`);
    this.targetShape = (t as number[]).slice();
  }
  /** The target with its -1 resolved from the known sample size, or as given when it is unknown. */
  private resolved(shape: Shape): number[] {
    const rest = knownRest(shape);
    if (!rest) return this.targetShape;
    const size = rest.reduce((a, b) => a * b, 1);
    const fixed = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const free = this.targetShape.includes(-1);
    const ok = free ? (fixed === 0 ? size === 0 : size % fixed === 0) : size === fixed;
    if (!ok)
      throw shapeError(this.name, `cannot reshape samples of shape ${fmtShape(shape.slice(1))} (${size} values) to targetShape ${fmtShape(this.targetShape)}; the total size must stay the same (input shape ${fmtShape(shape)})`);
    return free ? this.targetShape.map((d) => (d === -1 ? (fixed === 0 ? 0 : size / fixed) : d)) : this.targetShape;
  }
  override build(inputShape: Shape | Shape[]): void {
    this.resolved(inputShape as Shape);
    this.built = true;
  }
  call(inputs: Variable | Variable[]): Variable {
    const x = single(this, inputs);
    if (x.ndim === 0) throw shapeError(this.name, 'Reshape needs an input with a batch axis, got a scalar');
    // the batch dim is read from x when it runs; a -1 left in the target is resolved then too
    return T.reshape(x, [x.shape[0], ...this.resolved(x.type.shape)]);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), targetShape: this.targetShape.slice() };
  }
}
registerLayer('Reshape', Reshape);
/**
 * A Reshape layer: each sample reshaped to targetShape (the batch axis is kept).
 * @example st.layers.reshape({ targetShape: [28, 28, 1] })
 */
export const reshape = (o: ReshapeArgs) => new Reshape(o);

/** The options of Permute. */
export interface PermuteArgs extends LayerArgs {
  /** A permutation of 1…rank-1: the new order of the non-batch axes (1-based, as in Keras). */
  dims: number[];
}

/**
 * Permutes the non-batch axes.
 * @example new Permute({ dims: [2, 1] }) // [?, 10, 64] → [?, 64, 10]
 */
export class Permute extends Layer {
  readonly dims: number[];
  constructor(args: PermuteArgs) {
    const o = checkLayerOptions('Permute', args, ['dims']);
    super(args);
    const d = o.dims;
    const n = Array.isArray(d) ? d.length : 0;
    if (!Array.isArray(d) || n === 0 || [...d].sort((a, b) => a - b).some((v, i) => v !== i + 1))
      throw argError(this.name, `dims must be a permutation of 1…n (the non-batch axes, 1-based), got ${fmtValue(d)}`);
    this.dims = (d as number[]).slice();
  }
  call(inputs: Variable | Variable[]): Variable {
    const x = single(this, inputs);
    if (x.ndim !== this.dims.length + 1)
      throw shapeError(this.name, `dims ${fmtValue(this.dims)} permute ${this.dims.length} non-batch axes, but the input ${fmtShape(x.type.shape)} has ${x.ndim - 1}`);
    return T.transpose(x, [0, ...this.dims]);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dims: this.dims.slice() };
  }
}
registerLayer('Permute', Permute);
/** A Permute layer: each sample's axes permuted (dims counts from 1, the batch axis is kept). */
export const permute = (o: PermuteArgs) => new Permute(o);

// ---- Embedding ----

/** The options of Embedding. */
export interface EmbeddingArgs extends LayerArgs {
  /** Number of rows: indices must lie in [0, inputDim). */
  inputDim: number;
  /** Length of each embedding vector. */
  outputDim: number;
  /** Default 'uniform' (Keras's RandomUniform in [-0.05, 0.05]). */
  embeddingsInitializer?: InitializerId;
  embeddingsRegularizer?: RegularizerId;
  embeddingsConstraint?: ConstraintId;
  activityRegularizer?: RegularizerId;
  /**
   * Index 0 is padding: the output carries a Keras mask ([batch, steps], false where the index is 0)
   * that later layers honour (recurrent layers skip those steps, pooling ignores them).
   */
  maskZero?: boolean;
}

/**
 * Looks up a learned vector per integer index: [batch, …] indices → [batch, …, outputDim].
 * Indices are int32 (float indices are truncated to int32, as Keras casts them); an index outside
 * [0, inputDim) fails with ERR_ST_INDEX when the function runs (a negative index i is reported as
 * i - inputDim).  With maskZero the output carries the mask `ids != 0` to the layers after it
 * (Keras's rule; index 0 should then be reserved for padding, so inputDim is the vocabulary + 1).
 * @example new Embedding({ inputDim: 1000, outputDim: 64, maskZero: true })
 */
export class Embedding extends Layer {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  readonly embeddingsRegularizer: Regularizer | null;
  readonly embeddingsConstraint: Constraint | null;
  readonly activityRegularizer: Regularizer | null;
  /** Whether index 0 is padding, masked for the layers after this one. */
  readonly maskZero: boolean;
  embeddings!: SharedVariable;

  constructor(args: EmbeddingArgs) {
    const o = checkLayerOptions('Embedding', args, ['inputDim', 'outputDim', 'embeddingsInitializer', 'embeddingsRegularizer',
      'embeddingsConstraint', 'activityRegularizer', 'maskZero']);
    super(args);
    this.inputDim = positiveInt(this.name, 'inputDim', o.inputDim);
    this.outputDim = positiveInt(this.name, 'outputDim', o.outputDim);
    this.maskZero = boolOption(this.name, 'maskZero', o.maskZero, false);
    this.embeddingsInitializer = getInitializer((o.embeddingsInitializer ?? 'uniform') as InitializerId);
    this.embeddingsRegularizer = optRegularizer(o.embeddingsRegularizer);
    this.embeddingsConstraint = optConstraint(o.embeddingsConstraint);
    this.activityRegularizer = optRegularizer(o.activityRegularizer);
  }

  override build(): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], {
      initializer: this.embeddingsInitializer, regularizer: this.embeddingsRegularizer, constraint: this.embeddingsConstraint,
    });
    this.built = true;
  }

  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = single(this, inputs);
    if (x.dtype === 'bool') throw dtypeError(this.name, `indices must be int32 (or float, truncated), got bool ${fmtShape(x.type.shape)}`);
    const idx = asDtype(x, 'int32');
    // gather reads a negative index from the end (numpy's rule); here it is out of range too, so
    // negatives are moved below -inputDim, where gather's run-time check rejects them
    const y = T.gather(this.embeddings, T.where(T.less(idx, 0), T.sub(idx, this.inputDim), idx), 0);
    addActivityLoss(ctx, this.activityRegularizer, y);
    return y;
  }

  /** With maskZero, `ids != 0`; else none. */
  override computeMask(inputs: Variable | Variable[]): Mask {
    if (!this.maskZero) return null;
    return T.notEqual(single(this, inputs), 0);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: initializerConfig(this.embeddingsInitializer),
      embeddingsRegularizer: regularizerConfig(this.embeddingsRegularizer),
      embeddingsConstraint: constraintConfig(this.embeddingsConstraint),
      activityRegularizer: regularizerConfig(this.activityRegularizer),
      maskZero: this.maskZero,
    };
  }
}
registerLayer('Embedding', Embedding);
/**
 * An Embedding layer: integer indices in [0, inputDim) to trained vectors of size outputDim.
 * @example st.layers.embedding({ inputDim: 10000, outputDim: 64 })
 */
export const embedding = (o: EmbeddingArgs) => new Embedding(o);

// ---- random layers: active only in training ----

/** @internal A float input for a random layer (noise on integers has no meaning). */
function floatInput(layer: Layer, x: Variable): Variable {
  if (!isFloat(x.dtype)) throw dtypeError(layer.name, `needs a float input in training, got ${x.dtype} ${fmtShape(x.type.shape)}`);
  return x;
}

/** x's shape with the axes in `ones` set to 1 (dims unknown while building are read at run time). */
function maskShape(x: Variable, ones: boolean[]): ShapeArg {
  return ones.some(Boolean) ? ones.map((one, i) => (one ? 1 : x.shape[i])) : x.shape;
}

/** The options of Dropout. */
export interface DropoutArgs extends LayerArgs {
  /** Fraction of the entries set to zero in training, in [0, 1). */
  rate: number;
  /**
   * The mask's shape (with the batch axis): 1 on axes where one draw is shared, null (or the
   * input's size) on axes drawn per entry.  Default: the input's shape.
   */
  noiseShape?: (number | null)[] | null;
  /** Seed of the layer's random stream (default: the next global seed). */
  seed?: number | null;
}

/**
 * Inverted dropout: in training each entry is zeroed with probability `rate` and the others are
 * scaled by 1 / (1 - rate); at inference it is the identity.  A new mask is drawn on every call of
 * a compiled training step.
 * @example new Dropout({ rate: 0.5 })
 */
export class Dropout extends Layer {
  /** The mask passes through unchanged (the steps stay where they were). */
  override supportsMasking = true;
  readonly rate: number;
  readonly noiseShape: (number | null)[] | null;
  readonly seed: number | null;
  /** The layer's random stream (its state advances on every call of a compiled training step). */
  readonly stream: RandomStreams;

  /** `options`: the option names besides rate and seed (subclasses replace noiseShape by theirs). */
  constructor(args: DropoutArgs, options: string[] = ['noiseShape']) {
    const o = checkLayerOptions(new.target.name, args, ['rate', 'seed', ...options]);
    super(args);
    this.rate = numberOption(this.name, 'rate', o.rate, undefined, 0, 1, true);
    const ns = o.noiseShape;
    if (ns !== undefined && ns !== null && (!Array.isArray(ns) || ns.some((d) => d !== null && !(Number.isInteger(d) && d > 0))))
      throw argError(this.name, `noiseShape must be an array of positive integers or null (with the batch axis), got ${fmtValue(ns)}`);
    this.noiseShape = ns ? (ns as (number | null)[]).slice() : null;
    this.seed = optionalSeed(this.name, o.seed) ?? null;
    this.stream = randomStreams(this.seed ?? nextSeed());
  }

  /** @internal Which axes of x the mask shares one draw over. */
  protected sharedAxes(shape: Shape): boolean[] {
    const ns = this.noiseShape;
    if (!ns) return shape.map(() => false);
    if (ns.length !== shape.length)
      throw shapeError(this.name, `noiseShape ${fmtShape(ns)} has ${ns.length} axes but the input ${fmtShape(shape)} has ${shape.length}`);
    return ns.map((d, i) => {
      const s = shape[i];
      if (d !== null && d !== 1 && s !== null && d !== s)
        throw shapeError(this.name, `noiseShape ${fmtShape(ns)} does not fit the input ${fmtShape(shape)}: axis ${i} must be 1 or ${s}`);
      return d === 1 && s !== 1;
    });
  }

  override build(inputShape: Shape | Shape[]): void {
    this.sharedAxes(inputShape as Shape);
    this.built = true;
  }

  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = single(this, inputs);
    if (!ctx.training || this.rate === 0) return x;
    floatInput(this, x);
    const mask = this.stream.dropoutMask(maskShape(x, this.sharedAxes(x.type.shape)), this.rate, x.dtype as 'float32' | 'float64');
    return T.mul(x, mask);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape ? this.noiseShape.slice() : null, seed: this.seed };
  }
}
registerLayer('Dropout', Dropout);
/**
 * A Dropout layer: in training, zeroes each input with probability rate and scales the rest by 1 / (1 - rate).
 * @example st.layers.dropout({ rate: 0.5 })
 */
export const dropout = (o: DropoutArgs) => new Dropout(o);

/** The options of SpatialDropout1D/2D/3D. */
export interface SpatialDropoutArgs extends LayerArgs {
  rate: number;
  /** Where the channels are (default 'channelsLast'); not used by SpatialDropout1D. */
  dataFormat?: DataFormat | 'channels_last' | 'channels_first';
  seed?: number | null;
}

/** Dropout of whole feature maps: one draw per (sample, channel), shared over the spatial axes. */
abstract class SpatialDropout extends Dropout {
  abstract readonly rank: number;
  readonly dataFormat: DataFormat;
  constructor(args: SpatialDropoutArgs) {
    super(args as DropoutArgs, ['dataFormat']);
    this.dataFormat = dataFormatOption(this.name, args.dataFormat);
  }
  protected override sharedAxes(shape: Shape): boolean[] {
    if (shape.length !== this.rank)
      throw shapeError(this.name, `expects inputs of rank ${this.rank} (batch, ${this.rank - 2} spatial axes, channels), got ${fmtShape(shape)}`);
    const channel = this.dataFormat === 'channelsFirst' ? 1 : this.rank - 1;
    return shape.map((d, i) => i !== 0 && i !== channel && d !== 1);
  }
  override getConfig(): Record<string, unknown> {
    const { noiseShape: _, ...rest } = super.getConfig();
    return { ...rest, dataFormat: this.dataFormat };
  }
}

/** Spatial dropout for [batch, steps, channels]. @example new SpatialDropout1D({ rate: 0.2 }) */
export class SpatialDropout1D extends SpatialDropout {
  readonly rank = 3;
}
/** Spatial dropout for [batch, rows, cols, channels] (or channels first). */
export class SpatialDropout2D extends SpatialDropout {
  readonly rank = 4;
}
/** Spatial dropout for [batch, d1, d2, d3, channels] (or channels first). */
export class SpatialDropout3D extends SpatialDropout {
  readonly rank = 5;
}
registerLayer('SpatialDropout1D', SpatialDropout1D);
registerLayer('SpatialDropout2D', SpatialDropout2D);
registerLayer('SpatialDropout3D', SpatialDropout3D);
/** A SpatialDropout1D layer: drops whole channels of [batch, steps, channels] input. */
export const spatialDropout1d = (o: SpatialDropoutArgs) => new SpatialDropout1D(o);
/** A SpatialDropout2D layer: drops whole feature maps of 4-D input. */
export const spatialDropout2d = (o: SpatialDropoutArgs) => new SpatialDropout2D(o);
/** A SpatialDropout3D layer: drops whole feature volumes of 5-D input. */
export const spatialDropout3d = (o: SpatialDropoutArgs) => new SpatialDropout3D(o);

/** The options of GaussianNoise. */
export interface GaussianNoiseArgs extends LayerArgs {
  /** Standard deviation of the added noise. */
  stddev: number;
  seed?: number | null;
}

/**
 * Adds zero-mean Gaussian noise in training (a regularizer); the identity at inference.
 * @example new GaussianNoise({ stddev: 0.1 })
 */
export class GaussianNoise extends Layer {
  /** The mask passes through unchanged (the steps stay where they were). */
  override supportsMasking = true;
  readonly stddev: number;
  readonly seed: number | null;
  readonly stream: RandomStreams;
  constructor(args: GaussianNoiseArgs) {
    const o = checkLayerOptions('GaussianNoise', args, ['stddev', 'seed']);
    super(args);
    this.stddev = numberOption(this.name, 'stddev', o.stddev, undefined, 0);
    this.seed = optionalSeed(this.name, o.seed) ?? null;
    this.stream = randomStreams(this.seed ?? nextSeed());
  }
  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = single(this, inputs);
    if (!ctx.training || this.stddev === 0) return x;
    floatInput(this, x);
    return T.add(x, this.stream.normal(x.shape, { stddev: this.stddev, dtype: x.dtype as 'float32' | 'float64' }));
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), stddev: this.stddev, seed: this.seed };
  }
}
registerLayer('GaussianNoise', GaussianNoise);
/** A GaussianNoise layer: in training, adds zero-mean normal noise of the given stddev. */
export const gaussianNoise = (o: GaussianNoiseArgs) => new GaussianNoise(o);

/** The options of GaussianDropout. */
export interface GaussianDropoutArgs extends LayerArgs {
  /** The equivalent dropout rate, in [0, 1): the noise has stddev sqrt(rate / (1 - rate)). */
  rate: number;
  seed?: number | null;
}

/**
 * Multiplies by Gaussian noise of mean 1 and stddev sqrt(rate / (1 - rate)) in training; the
 * identity at inference.
 * @example new GaussianDropout({ rate: 0.2 })
 */
export class GaussianDropout extends Layer {
  /** The mask passes through unchanged (the steps stay where they were). */
  override supportsMasking = true;
  readonly rate: number;
  readonly seed: number | null;
  readonly stream: RandomStreams;
  constructor(args: GaussianDropoutArgs) {
    const o = checkLayerOptions('GaussianDropout', args, ['rate', 'seed']);
    super(args);
    this.rate = numberOption(this.name, 'rate', o.rate, undefined, 0, 1, true);
    this.seed = optionalSeed(this.name, o.seed) ?? null;
    this.stream = randomStreams(this.seed ?? nextSeed());
  }
  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = single(this, inputs);
    if (!ctx.training || this.rate === 0) return x;
    floatInput(this, x);
    const stddev = Math.sqrt(this.rate / (1 - this.rate));
    return T.mul(x, this.stream.normal(x.shape, { mean: 1, stddev, dtype: x.dtype as 'float32' | 'float64' }));
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
registerLayer('GaussianDropout', GaussianDropout);
/** A GaussianDropout layer: in training, multiplies by normal noise of mean 1 and variance rate / (1 - rate). */
export const gaussianDropout = (o: GaussianDropoutArgs) => new GaussianDropout(o);
