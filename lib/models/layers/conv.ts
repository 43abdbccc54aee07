// Convolution layers with Keras 3's options and weights, channels-last only: Conv1D, Conv2D,
// Conv2DTranspose, DepthwiseConv2D and SeparableConv2D.  Each is built from symbolic T ops
// (the native conv2d and its input gradient, slices, reshapes), so gradients come from the ops.
import { argError, fmtShape, fmtValue, shapeError } from '../../errors';
import type { SharedVariable } from '../../graph/shared';
import * as T from '../../graph/T';
import type { Variable } from '../../graph/variable';
import { tensor } from '../../tensor/creation';
import type { Conv2dOptions } from '../../tensor/nn';
import { ActivationFn, activationName, getActivation } from '../activations';
import { Constraint, getConstraint } from '../constraints';
import { Initializer, getInitializer } from '../initializers';
import { CallContext, Layer, LayerArgs, Shape, registerLayer, single } from '../layer';
import { Regularizer, getRegularizer } from '../regularizers';
import { ConstraintId, InitializerId, RegularizerId, checkLayerOptions, configOrNull as serialize } from './core';

// ---- option types shared by the convolution, pooling and reshaping layers ----

/** Initializers, regularizers and constraints by name, object or config (as the core layers take them). */
export type { ConstraintId, InitializerId, RegularizerId };
/** An activation by name ('relu' …) or function; null for linear. */
export type ActivationId = string | ActivationFn | null;
/** Keras's data_format; only channels-last layouts are implemented. */
export type DataFormat = 'channels_last';

/** @internal n positive (or >= min) integers from one integer or an array of n. */
export function intTuple(layer: string, what: string, v: unknown, n: number, min = 1): number[] {
  const arr = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(arr) || arr.length !== n || arr.some((d) => !Number.isInteger(d) || d < min))
    throw argError(layer, `${what} must be ${min === 1 ? 'a positive integer' : `an integer >= ${min}`} or an array of ${n} of them, got ${fmtValue(v)}`);
  return arr.slice() as number[];
}

/** @internal A string option checked against its valid values. */
export function oneOf<S extends string>(layer: string, what: string, v: unknown, valid: readonly S[], fallback: S): S {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !valid.includes(v.toLowerCase() as S))
    throw argError(layer, `unknown ${what} ${fmtValue(v)}; valid values: ${valid.map((s) => `'${s}'`).join(', ')}`);
  return v.toLowerCase() as S;
}

/** @internal Accepts channels-last (either spelling); channels-first is refused with the reason. */
export function checkDataFormat(layer: string, v: unknown): DataFormat {
  if (v === undefined || v === null || v === 'channels_last' || v === 'channelsLast') return 'channels_last';
  if (v === 'channels_first' || v === 'channelsFirst')
    throw argError(layer, `dataFormat 'channels_first' is not supported: layers take channels-last inputs [batch, ..., channels]; transpose the input (T.transpose) instead`);
  throw argError(layer, `unknown dataFormat ${fmtValue(v)}; valid values: 'channels_last'`);
}

/** @internal Throws unless the input has `rank` axes. */
export function expectRank(layer: string, shape: Shape, rank: number, layout: string): void {
  if (!Array.isArray(shape) || shape.length !== rank || Array.isArray(shape[0]))
    throw shapeError(layer, `expects an input of rank ${rank} ${layout}, got ${Array.isArray(shape) && !Array.isArray(shape[0]) ? `shape ${fmtShape(shape)} (rank ${shape.length})` : fmtValue(shape)}`);
}

/**
 * @internal A layer's activity penalty, divided by the batch size as Keras does (so its strength
 * does not depend on the batch size).  An unknown batch size is counted at run time from a
 * one-element-per-sample slice of the output.
 */
export function activityPenalty(reg: Regularizer, y: Variable): Variable {
  const penalty = reg.call(y);
  const shape = y.type.shape;
  if (shape.length === 0) return penalty;
  if (shape[0] !== null) return T.div(penalty, shape[0]);
  const column = T.slice(y, shape.map(() => 0), shape.map((_, i) => (i === 0 ? -1 : 1)));
  return T.div(penalty, T.sum(T.add(T.mul(column, 0), 1)));
}

/**
 * @internal Keras's conv_output_length: 'valid' keeps the positions where the (dilated) kernel
 * fits, 'same' and 'causal' keep ceil(n / stride).  Null for an unknown size.
 */
export function convOutLength(n: number | null, k: number, stride: number, dilation: number, padding: string): number | null {
  if (n === null) return null;
  const span = (k - 1) * dilation + 1;
  return padding === 'valid' ? Math.floor((n - span) / stride) + 1 : Math.ceil(n / stride);
}

/** TensorFlow's 'same' padding of one axis: [before, after], the odd pixel after. */
function samePads(n: number, k: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(n / stride);
  const total = Math.max((out - 1) * stride + (k - 1) * dilation + 1 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

// ---- the base of the convolution layers ----

/** Options every convolution layer takes. */
export interface BaseConvArgs extends LayerArgs {
  /** The window: one integer for every spatial axis, or one per axis. */
  kernelSize: number | number[];
  /** Default 1. */
  strides?: number | number[];
  /** 'valid' (default: no padding) or 'same' (output size ceil(input / stride), TensorFlow's placement). */
  padding?: 'valid' | 'same';
  dataFormat?: DataFormat;
  /** Default 1; cannot be combined with strides > 1 (as in Keras). */
  dilationRate?: number | number[];
  /** Applied to the output; null/undefined for linear. */
  activation?: ActivationId;
  /** Default true. */
  useBias?: boolean;
  /** Default 'zeros'. */
  biasInitializer?: InitializerId;
  biasRegularizer?: RegularizerId;
  /** A penalty on the layer's output, divided by the batch size. */
  activityRegularizer?: RegularizerId;
  biasConstraint?: ConstraintId;
}

/** Options of the layers with a `filters`-wide kernel (Conv1D, Conv2D, Conv2DTranspose). */
export interface FilterConvArgs extends BaseConvArgs {
  /** Output channels. */
  filters: number;
  /** Default 'glorotUniform'. */
  kernelInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId;
  kernelConstraint?: ConstraintId;
  /**
   * Channel groups (Conv1D and Conv2D; default 1): input channels and filters are cut into this
   * many contiguous groups and group g's filters see only group g's channels, as in Keras.
   */
  groups?: number;
}

/** The options every convolution layer takes (a misspelt one is an error listing them). */
const BASE_CONV_OPTIONS = ['kernelSize', 'strides', 'padding', 'dataFormat', 'dilationRate', 'activation', 'useBias', 'biasInitializer', 'biasRegularizer', 'activityRegularizer', 'biasConstraint'];
/** Those of the layers with a `filters`-wide kernel. */
const FILTER_CONV_OPTIONS = [...BASE_CONV_OPTIONS, 'filters', 'kernelInitializer', 'kernelRegularizer', 'kernelConstraint', 'groups'];
/** The depthwise kernel's options (DepthwiseConv2D, SeparableConv2D). */
const DEPTHWISE_OPTIONS = ['depthMultiplier', 'depthwiseInitializer', 'depthwiseRegularizer', 'depthwiseConstraint'];

/** The shared bookkeeping of the convolution layers: geometry options, bias, activation. */
export abstract class BaseConv extends Layer {
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly padding: string;
  readonly dilationRate: number[];
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly biasInitializer: Initializer;
  readonly biasRegularizer: Regularizer | null;
  readonly activityRegularizer: Regularizer | null;
  readonly biasConstraint: Constraint | null;
  bias: SharedVariable | null = null;
  /** The input channels, fixed by build(). */
  protected inChannels = 0;

  constructor(
    /** Spatial axes: 1 or 2. */
    readonly rank: number,
    args: BaseConvArgs,
    paddings: readonly string[] = ['valid', 'same'],
  ) {
    super(args);
    const name = this.name;
    if (!args) throw argError(name, 'options are required (at least kernelSize)');
    if (args.kernelSize === undefined) throw argError(name, 'kernelSize is required');
    this.kernelSize = intTuple(name, 'kernelSize', args.kernelSize, rank);
    this.strides = intTuple(name, 'strides', args.strides ?? 1, rank);
    this.padding = oneOf(name, 'padding', args.padding, paddings, 'valid');
    checkDataFormat(name, args.dataFormat);
    this.dilationRate = intTuple(name, 'dilationRate', args.dilationRate ?? 1, rank);
    if (Math.max(...this.strides) > 1 && Math.max(...this.dilationRate) > 1)
      throw argError(name, `strides > 1 cannot be combined with dilationRate > 1 (as in Keras), got strides ${fmtValue(this.strides)} and dilationRate ${fmtValue(this.dilationRate)}`);
    this.activation = getActivation(args.activation ?? null);
    this.useBias = args.useBias ?? true;
    if (typeof this.useBias !== 'boolean') throw argError(name, `useBias must be a boolean, got ${fmtValue(args.useBias)}`);
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros');
    this.biasRegularizer = args.biasRegularizer ? getRegularizer(args.biasRegularizer) : null;
    this.activityRegularizer = args.activityRegularizer ? getRegularizer(args.activityRegularizer) : null;
    this.biasConstraint = args.biasConstraint ? getConstraint(args.biasConstraint) : null;
  }

  /** Checks the rank and a known channel count; returns the input channels. */
  protected inputChannels(inputShape: Shape | Shape[]): number {
    const s = inputShape as Shape;
    expectRank(this.name, s, this.rank + 2, this.rank === 1 ? '[batch, steps, channels]' : '[batch, height, width, channels]');
    const c = s[s.length - 1];
    if (c === null || c === 0) throw shapeError(this.name, `the channel axis (last) of the input must be known and non-zero, got shape ${fmtShape(s)}`);
    return c;
  }

  /** Adds the bias weight of this size (when useBias). */
  protected addBias(size: number): void {
    if (!this.useBias) return;
    this.bias = this.addWeight('bias', [size], { initializer: this.biasInitializer, regularizer: this.biasRegularizer, constraint: this.biasConstraint });
  }

  /** The single input, checked against the shape the layer was built for. */
  protected input(inputs: Variable | Variable[]): Variable {
    const x = single(this, inputs);
    const s = x.type.shape;
    expectRank(this.name, s, this.rank + 2, this.rank === 1 ? '[batch, steps, channels]' : '[batch, height, width, channels]');
    const c = s[s.length - 1];
    if (c !== null && c !== this.inChannels)
      throw shapeError(this.name, `was built for ${this.inChannels} input channels, got an input of shape ${fmtShape(s)}`);
    return x;
  }

  /** Throws when a 'valid' window does not fit the input (the output would be empty). */
  protected checkFits(shape: Shape): void {
    for (let i = 0; i < this.rank; i++) {
      const out = convOutLength(shape[1 + i], this.kernelSize[i], this.strides[i], this.dilationRate[i], this.padding);
      if (out !== null && out <= 0) {
        const span = (this.kernelSize[i] - 1) * this.dilationRate[i] + 1;
        throw shapeError(this.name, `input ${fmtShape(shape)} is too small: spatial axis ${1 + i} has ${shape[1 + i]} positions but the kernel spans ${span} with padding '${this.padding}'`);
      }
    }
  }

  /** Bias, activation and the activity penalty, in Keras's order. */
  protected finish(y: Variable, ctx: CallContext): Variable {
    if (this.bias) y = T.add(y, this.bias);
    y = this.activation(y);
    if (this.activityRegularizer) ctx.addLoss(activityPenalty(this.activityRegularizer, y));
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize.slice(),
      strides: this.strides.slice(),
      padding: this.padding,
      dataFormat: 'channels_last',
      dilationRate: this.dilationRate.slice(),
      activation: activationName(this.activation),
      useBias: this.useBias,
      biasInitializer: this.biasInitializer.getConfig(),
      biasRegularizer: serialize(this.biasRegularizer),
      activityRegularizer: serialize(this.activityRegularizer),
      biasConstraint: serialize(this.biasConstraint),
    };
  }
}

/** The base of Conv1D, Conv2D and Conv2DTranspose: a kernel with `filters` output channels. */
abstract class FilterConv extends BaseConv {
  readonly filters: number;
  readonly groups: number;
  readonly kernelInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  kernel!: SharedVariable;

  constructor(rank: number, args: FilterConvArgs, paddings?: readonly string[]) {
    super(rank, args, paddings);
    if (!Number.isInteger(args.filters) || args.filters < 1) throw argError(this.name, `filters must be a positive integer, got ${fmtValue(args.filters)}`);
    const groups = args.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1) throw argError(this.name, `groups must be a positive integer, got ${fmtValue(args.groups)}`);
    if (args.filters % groups !== 0) throw argError(this.name, `filters (${args.filters}) must be divisible by groups (${groups})`);
    this.groups = groups;
    this.filters = args.filters;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorotUniform');
    this.kernelRegularizer = args.kernelRegularizer ? getRegularizer(args.kernelRegularizer) : null;
    this.kernelConstraint = args.kernelConstraint ? getConstraint(args.kernelConstraint) : null;
  }

  /** Input channels each filter sees: all of them, or its group's share. */
  protected groupChannels(): number {
    if (this.inChannels % this.groups !== 0)
      throw shapeError(this.name, `its ${this.inChannels} input channels cannot be cut into groups (${this.groups}) of equal size`);
    return this.inChannels / this.groups;
  }

  /**
   * conv2d of x with the kernel, per channel group: each group's channels with its share of the
   * filters, the results concatenated in group order.
   */
  protected groupedConv2d(x: Variable, kernel: Variable, opts: Conv2dOptions): Variable {
    if (this.groups === 1) return T.conv2d(x, kernel, opts);
    const xs = T.split(x, this.groups, 3);
    const ks = T.split(kernel, this.groups, 3);
    return T.concat(xs.map((xg, g) => T.conv2d(xg, ks[g], opts)), 3);
  }

  /** Adds the kernel weight of this shape, with the layer's initializer, regularizer and constraint. */
  protected addKernel(shape: number[]): void {
    this.kernel = this.addWeight('kernel', shape, { initializer: this.kernelInitializer, regularizer: this.kernelRegularizer, constraint: this.kernelConstraint });
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      groups: this.groups,
      kernelInitializer: this.kernelInitializer.getConfig(),
      kernelRegularizer: serialize(this.kernelRegularizer),
      kernelConstraint: serialize(this.kernelConstraint),
    };
  }
}

// ---- Conv2D and Conv1D ----

/** Conv2D's options (Keras 3 names). */
export type Conv2DArgs = FilterConvArgs;

/**
 * 2-D convolution over [batch, height, width, channels] inputs with a [kh, kw, inChannels,
 * filters] kernel (Keras's Conv2D): output [batch, outH, outW, filters].
 * @example st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }) // 28×28×1 → 26×26×32, 320 weights
 */
export class Conv2D extends FilterConv {
  constructor(args: Conv2DArgs) {
    checkLayerOptions('Conv2D', args, FILTER_CONV_OPTIONS);
    super(2, args);
  }
  override build(inputShape: Shape | Shape[]): void {
    this.inChannels = this.inputChannels(inputShape);
    this.checkFits(inputShape as Shape);
    this.addKernel([...this.kernelSize, this.groupChannels(), this.filters]);
    this.addBias(this.filters);
    this.built = true;
  }
  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = this.input(inputs);
    this.checkFits(x.type.shape);
    const y = this.groupedConv2d(x, this.kernel, { strides: this.strides as [number, number], padding: this.padding as 'valid' | 'same', dilations: this.dilationRate as [number, number] });
    return this.finish(y, ctx);
  }
}

/** Conv1D's options: 'causal' padding pads only the start of the sequence. */
export interface Conv1DArgs extends Omit<FilterConvArgs, 'padding'> {
  /** 'valid' (default), 'same', or 'causal' (output t sees inputs up to t only). */
  padding?: 'valid' | 'same' | 'causal';
}

/**
 * 1-D convolution over [batch, steps, channels] with a [k, inChannels, filters] kernel (Keras's
 * Conv1D).  Runs as a 2-D convolution over a unit height.
 * @example st.layers.conv1d({ filters: 16, kernelSize: 5, padding: 'causal' })
 */
export class Conv1D extends FilterConv {
  constructor(args: Conv1DArgs) {
    checkLayerOptions('Conv1D', args, FILTER_CONV_OPTIONS);
    super(1, args as FilterConvArgs, ['valid', 'same', 'causal']);
  }
  override build(inputShape: Shape | Shape[]): void {
    this.inChannels = this.inputChannels(inputShape);
    this.checkFits(inputShape as Shape);
    this.addKernel([this.kernelSize[0], this.groupChannels(), this.filters]);
    this.addBias(this.filters);
    this.built = true;
  }
  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    let x = this.input(inputs);
    this.checkFits(x.type.shape);
    let padding = this.padding as 'valid' | 'same' | 'causal';
    if (padding === 'causal') {
      const left = (this.kernelSize[0] - 1) * this.dilationRate[0];
      if (left > 0) x = T.pad(x, [[0, 0], [left, 0], [0, 0]]);
      padding = 'valid';
    }
    const y = this.groupedConv2d(T.expandDims(x, 1), T.expandDims(this.kernel, 0), {
      strides: [1, this.strides[0]],
      padding,
      dilations: [1, this.dilationRate[0]],
    });
    return this.finish(T.squeeze(y, 1), ctx);
  }
}

// ---- Conv2DTranspose ----

/** Conv2DTranspose's options. */
export interface Conv2DTransposeArgs extends FilterConvArgs {
  /**
   * Output size (n − 1)·s + k' − 2·pad + outputPadding per axis, Keras's formula (pad k'/2 for
   * 'same'), each below its stride; the windows are placed as the TensorFlow backend places them.
   * Default null: Keras's size without it.
   */
  outputPadding?: number | number[] | null;
}

/**
 * Keras's deconv_output_length: the input size of the convolution whose transpose this is.
 * Without outputPadding: 'valid' n·s + max(k' − s, 0), 'same' n·s (k' the dilated kernel).
 */
function deconvLength(n: number, k: number, stride: number, dilation: number, padding: string, outputPadding: number | null): number {
  const span = (k - 1) * dilation + 1;
  if (outputPadding === null) return padding === 'valid' ? n * stride + Math.max(span - stride, 0) : n * stride;
  const pad = padding === 'same' ? Math.floor(span / 2) : 0;
  return (n - 1) * stride + span - 2 * pad + outputPadding;
}

/**
 * The transposed convolution (the gradient of Conv2D with respect to its input; Keras's
 * Conv2DTranspose): [batch, h, w, inChannels] → [batch, outH, outW, filters] with Keras's output
 * size, and a kernel stored as Keras stores it, [kh, kw, filters, inChannels].  The input height
 * and width must be known when the layer is applied (they fix the output size).
 * @example st.layers.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }) // 7×7 → 14×14
 */
export class Conv2DTranspose extends FilterConv {
  readonly outputPadding: number[] | null;
  constructor(args: Conv2DTransposeArgs) {
    checkLayerOptions('Conv2DTranspose', args, [...FILTER_CONV_OPTIONS, 'outputPadding']);
    super(2, args);
    if (this.groups !== 1) throw argError(this.name, `has no groups option (as Keras's Conv2DTranspose), got groups ${fmtValue(args.groups)}`);
    const op = args.outputPadding ?? null;
    this.outputPadding = op === null ? null : intTuple(this.name, 'outputPadding', op, 2, 0);
    if (this.outputPadding) {
      this.outputPadding.forEach((p, i) => {
        if (p >= this.strides[i])
          throw argError(this.name, `outputPadding ${fmtValue(this.outputPadding)} must be smaller than the strides ${fmtValue(this.strides)} on every axis (as in Keras)`);
      });
    }
  }

  /** The output height and width for an input of this shape (known height and width). */
  outputSize(shape: Shape): [number, number] {
    const dims = [shape[1], shape[2]];
    if (dims.some((d) => d === null))
      throw shapeError(this.name, `needs the input height and width known when it is applied (they fix the output size), got shape ${fmtShape(shape)}`);
    const out = dims.map((n, i) =>
      deconvLength(n as number, this.kernelSize[i], this.strides[i], this.dilationRate[i], this.padding, this.outputPadding ? this.outputPadding[i] : null),
    );
    // the convolution being transposed must map the output size back onto the input size
    out.forEach((o, i) => {
      if (o <= 0 || convOutLength(o, this.kernelSize[i], this.strides[i], this.dilationRate[i], this.padding) !== dims[i])
        throw shapeError(this.name, `cannot produce an output for input ${fmtShape(shape)}: axis ${1 + i} would have ${o} positions, which a ${this.kernelSize[i]}-wide '${this.padding}' convolution with stride ${this.strides[i]} does not map back onto ${dims[i]}`);
    });
    return out as [number, number];
  }

  override build(inputShape: Shape | Shape[]): void {
    this.inChannels = this.inputChannels(inputShape);
    this.outputSize(inputShape as Shape);
    this.addKernel([...this.kernelSize, this.filters, this.inChannels]);
    this.addBias(this.filters);
    this.built = true;
  }

  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = this.input(inputs);
    const shape = x.type.shape;
    const [oh, ow] = this.outputSize(shape);
    // conv2dGradInput takes its output's shape from a variable; one of the right shape is made
    // from one element per sample, so an unknown batch size is read at run time.  It costs one
    // output-sized copy, small next to the convolution itself.
    const perSample = T.slice(x, [0, 0, 0, 0], [shape[0] ?? -1, 1, 1, 1]);
    const like = T.tile(perSample, [1, oh, ow, this.filters]);
    const y = T.conv2dGradInput(x, this.kernel, like, {
      strides: this.strides as [number, number],
      padding: this.padding as 'valid' | 'same',
      dilations: this.dilationRate as [number, number],
    });
    return this.finish(y, ctx);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), outputPadding: this.outputPadding ? this.outputPadding.slice() : null };
  }
}

// ---- depthwise and separable convolution ----

/**
 * Above this many input channels (and with a known height and width), depthwise convolution is
 * computed as a sum over kernel offsets instead of one dense convolution (see depthwise2d).
 */
const DENSE_DEPTHWISE_MAX_CHANNELS = 8;

interface DepthwiseGeometry {
  kernelSize: number[];
  strides: number[];
  padding: string;
  dilationRate: number[];
}

/**
 * Depthwise 2-D convolution: out[..., c·m + j] = Σ x[..., c] · w[.., .., c, j] for a
 * [kh, kw, c, m] kernel.  The native conv2d has no channel groups, so it is built from other ops,
 * either way differentiable by their gradients:
 * - few channels (or an unknown height/width): one conv2d with a block-diagonal
 *   [kh, kw, c, c·m] kernel (the depthwise kernel times an identity mask).  Fast kernels, but
 *   c times the arithmetic a grouped kernel would do.
 * - many channels: the sum over the kh·kw kernel offsets of a strided slice of the (padded)
 *   input times that offset's per-channel weights.  The arithmetic of a true depthwise
 *   convolution, at the cost of kh·kw strided copies of output size (memory-bound).
 */
export function depthwise2d(x: Variable, kernel: Variable, g: DepthwiseGeometry): Variable {
  const [kh, kw, c, m] = kernel.type.shape as number[];
  const [b, h, w] = x.type.shape;
  const convOpts = { strides: g.strides as [number, number], padding: g.padding as 'valid' | 'same', dilations: g.dilationRate as [number, number] };
  if (c <= DENSE_DEPTHWISE_MAX_CHANNELS || h === null || w === null) {
    const eye = new Float64Array(c * c);
    for (let i = 0; i < c; i++) eye[i * c + i] = 1;
    const maskT = tensor(eye, { shape: [c, c, 1], dtype: kernel.dtype });
    const mask = T.constant(maskT);
    maskT.dispose();
    const dense = T.reshape(T.mul(T.dimshuffle(kernel, [0, 1, 2, 'x', 3]), mask), [kh, kw, c, c * m]);
    return T.conv2d(x, dense, convOpts);
  }
  const [sh, sw] = g.strides, [dh, dw] = g.dilationRate;
  const oh = convOutLength(h, kh, sh, dh, g.padding) as number;
  const ow = convOutLength(w, kw, sw, dw, g.padding) as number;
  let xp = x;
  if (g.padding === 'same') {
    const [pt, pb] = samePads(h, kh, sh, dh), [pl, pr] = samePads(w, kw, sw, dw);
    if (pt + pb + pl + pr > 0) xp = T.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  }
  let acc: Variable | null = null;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const r0 = i * dh, c0 = j * dw;
      const patch = T.stridedSlice(xp, [null, r0, c0, null], [null, r0 + (oh - 1) * sh + 1, c0 + (ow - 1) * sw + 1, null], [1, sh, sw, 1]);
      const wij = T.reshape(T.slice(kernel, [i, j, 0, 0], [1, 1, c, m]), [c, m]);
      const term = T.mul(T.expandDims(patch, 4), wij);
      acc = acc ? T.add(acc, term) : term;
    }
  }
  return T.reshape(acc as Variable, [b ?? -1, oh, ow, c * m]);
}

/** DepthwiseConv2D's options. */
export interface DepthwiseConv2DArgs extends BaseConvArgs {
  /** Output channels per input channel; default 1. */
  depthMultiplier?: number;
  /** Default 'glorotUniform'. */
  depthwiseInitializer?: InitializerId;
  depthwiseRegularizer?: RegularizerId;
  depthwiseConstraint?: ConstraintId;
}

/**
 * Depthwise 2-D convolution (Keras's DepthwiseConv2D): each input channel convolved with its own
 * depthMultiplier filters; kernel [kh, kw, inChannels, depthMultiplier] (named `kernel`, as in
 * Keras 3), output [batch, outH, outW, inChannels·depthMultiplier].
 * @example st.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' })
 */
export class DepthwiseConv2D extends BaseConv {
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: Initializer;
  readonly depthwiseRegularizer: Regularizer | null;
  readonly depthwiseConstraint: Constraint | null;
  kernel!: SharedVariable;

  constructor(args: DepthwiseConv2DArgs) {
    checkLayerOptions('DepthwiseConv2D', args, [...BASE_CONV_OPTIONS, ...DEPTHWISE_OPTIONS]);
    super(2, args);
    this.depthMultiplier = args.depthMultiplier ?? 1;
    if (!Number.isInteger(this.depthMultiplier) || this.depthMultiplier < 1)
      throw argError(this.name, `depthMultiplier must be a positive integer, got ${fmtValue(args.depthMultiplier)}`);
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer ?? 'glorotUniform');
    this.depthwiseRegularizer = args.depthwiseRegularizer ? getRegularizer(args.depthwiseRegularizer) : null;
    this.depthwiseConstraint = args.depthwiseConstraint ? getConstraint(args.depthwiseConstraint) : null;
  }
  override build(inputShape: Shape | Shape[]): void {
    this.inChannels = this.inputChannels(inputShape);
    this.checkFits(inputShape as Shape);
    this.kernel = this.addWeight('kernel', [...this.kernelSize, this.inChannels, this.depthMultiplier], {
      initializer: this.depthwiseInitializer,
      regularizer: this.depthwiseRegularizer,
      constraint: this.depthwiseConstraint,
    });
    this.addBias(this.inChannels * this.depthMultiplier);
    this.built = true;
  }
  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = this.input(inputs);
    this.checkFits(x.type.shape);
    return this.finish(depthwise2d(x, this.kernel, this), ctx);
  }
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: this.depthwiseInitializer.getConfig(),
      depthwiseRegularizer: serialize(this.depthwiseRegularizer),
      depthwiseConstraint: serialize(this.depthwiseConstraint),
    };
  }
}

/** SeparableConv2D's options. */
export interface SeparableConv2DArgs extends BaseConvArgs {
  /** Output channels (of the pointwise step). */
  filters: number;
  /** Channels per input channel after the depthwise step; default 1. */
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerId;
  pointwiseInitializer?: InitializerId;
  depthwiseRegularizer?: RegularizerId;
  pointwiseRegularizer?: RegularizerId;
  depthwiseConstraint?: ConstraintId;
  pointwiseConstraint?: ConstraintId;
}

/**
 * Depthwise separable 2-D convolution (Keras's SeparableConv2D): a depthwise convolution
 * (strides, padding and dilation apply here) followed by a 1×1 convolution to `filters` channels.
 * Weights: depthwise_kernel [kh, kw, in, depthMultiplier], pointwise_kernel [1, 1,
 * in·depthMultiplier, filters], bias [filters].
 * @example st.layers.separableConv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' })
 */
export class SeparableConv2D extends BaseConv {
  readonly filters: number;
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: Initializer;
  readonly pointwiseInitializer: Initializer;
  readonly depthwiseRegularizer: Regularizer | null;
  readonly pointwiseRegularizer: Regularizer | null;
  readonly depthwiseConstraint: Constraint | null;
  readonly pointwiseConstraint: Constraint | null;
  depthwiseKernel!: SharedVariable;
  pointwiseKernel!: SharedVariable;

  constructor(args: SeparableConv2DArgs) {
    checkLayerOptions('SeparableConv2D', args, [...BASE_CONV_OPTIONS, ...DEPTHWISE_OPTIONS, 'filters', 'pointwiseInitializer', 'pointwiseRegularizer', 'pointwiseConstraint']);
    super(2, args);
    if (!Number.isInteger(args.filters) || args.filters < 1) throw argError(this.name, `filters must be a positive integer, got ${fmtValue(args.filters)}`);
    this.filters = args.filters;
    this.depthMultiplier = args.depthMultiplier ?? 1;
    if (!Number.isInteger(this.depthMultiplier) || this.depthMultiplier < 1)
      throw argError(this.name, `depthMultiplier must be a positive integer, got ${fmtValue(args.depthMultiplier)}`);
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer ?? 'glorotUniform');
    this.pointwiseInitializer = getInitializer(args.pointwiseInitializer ?? 'glorotUniform');
    this.depthwiseRegularizer = args.depthwiseRegularizer ? getRegularizer(args.depthwiseRegularizer) : null;
    this.pointwiseRegularizer = args.pointwiseRegularizer ? getRegularizer(args.pointwiseRegularizer) : null;
    this.depthwiseConstraint = args.depthwiseConstraint ? getConstraint(args.depthwiseConstraint) : null;
    this.pointwiseConstraint = args.pointwiseConstraint ? getConstraint(args.pointwiseConstraint) : null;
  }
  override build(inputShape: Shape | Shape[]): void {
    this.inChannels = this.inputChannels(inputShape);
    this.checkFits(inputShape as Shape);
    const mid = this.inChannels * this.depthMultiplier;
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [...this.kernelSize, this.inChannels, this.depthMultiplier], {
      initializer: this.depthwiseInitializer,
      regularizer: this.depthwiseRegularizer,
      constraint: this.depthwiseConstraint,
    });
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, 1, mid, this.filters], {
      initializer: this.pointwiseInitializer,
      regularizer: this.pointwiseRegularizer,
      constraint: this.pointwiseConstraint,
    });
    this.addBias(this.filters);
    this.built = true;
  }
  call(inputs: Variable | Variable[], ctx: CallContext): Variable {
    const x = this.input(inputs);
    this.checkFits(x.type.shape);
    const mid = depthwise2d(x, this.depthwiseKernel, this);
    return this.finish(T.conv2d(mid, this.pointwiseKernel), ctx);
  }
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: this.depthwiseInitializer.getConfig(),
      pointwiseInitializer: this.pointwiseInitializer.getConfig(),
      depthwiseRegularizer: serialize(this.depthwiseRegularizer),
      pointwiseRegularizer: serialize(this.pointwiseRegularizer),
      depthwiseConstraint: serialize(this.depthwiseConstraint),
      pointwiseConstraint: serialize(this.pointwiseConstraint),
    };
  }
}

registerLayer('Conv1D', Conv1D);
registerLayer('Conv2D', Conv2D);
registerLayer('Conv2DTranspose', Conv2DTranspose);
registerLayer('DepthwiseConv2D', DepthwiseConv2D);
registerLayer('SeparableConv2D', SeparableConv2D);
// Keras's aliases, for saved models that use them
registerLayer('Convolution1D', Conv1D);
registerLayer('Convolution2D', Conv2D);
registerLayer('Convolution2DTranspose', Conv2DTranspose);
registerLayer('SeparableConvolution2D', SeparableConv2D);

/** new Conv1D(args) */
export const conv1d = (args: Conv1DArgs) => new Conv1D(args);
/** new Conv2D(args) */
export const conv2d = (args: Conv2DArgs) => new Conv2D(args);
/** new Conv2DTranspose(args) */
export const conv2dTranspose = (args: Conv2DTransposeArgs) => new Conv2DTranspose(args);
/** new DepthwiseConv2D(args) */
export const depthwiseConv2d = (args: DepthwiseConv2DArgs) => new DepthwiseConv2D(args);
/** new SeparableConv2D(args) */
export const separableConv2d = (args: SeparableConv2DArgs) => new SeparableConv2D(args);
