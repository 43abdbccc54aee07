// Pooling layers with Keras 3's options, channels-last: max and average pooling over windows
// (1-D through the 2-D ops on a unit height) and global pooling over the spatial axes.
import { argError, fmtShape, fmtValue, shapeError } from '../../errors';
import * as T from '../../graph/T';
import type { Variable } from '../../graph/variable';
import { CallContext, Layer, LayerArgs, Mask, Shape, registerLayer, single } from '../layer';
import { DataFormat, checkDataFormat, convOutLength, expectRank, intTuple, oneOf } from './conv';
import { checkLayerOptions } from './core';

/** Options of the windowed pooling layers. */
export interface PoolingArgs extends LayerArgs {
  /** The window: one integer for every spatial axis, or one per axis.  Default 2. */
  poolSize?: number | number[];
  /** Default (null): the pool size. */
  strides?: number | number[] | null;
  /** 'valid' (default) or 'same' (output ceil(input / stride); padded cells are not counted by averages). */
  padding?: 'valid' | 'same';
  dataFormat?: DataFormat;
}

const LAYOUT = ['', '[batch, steps, channels]', '[batch, height, width, channels]'];

/** The shared part of MaxPooling1D/2D and AveragePooling1D/2D. */
abstract class Pooling extends Layer {
  readonly poolSize: number[];
  readonly strides: number[];
  readonly padding: 'valid' | 'same';

  constructor(
    /** Spatial axes: 1 or 2. */
    readonly rank: number,
    readonly max: boolean,
    args: PoolingArgs,
  ) {
    super(args);
    checkLayerOptions(`${max ? 'Max' : 'Average'}Pooling${rank}D`, args, ['poolSize', 'strides', 'padding', 'dataFormat'], true);
    const a = args ?? {};
    this.poolSize = intTuple(this.name, 'poolSize', a.poolSize ?? 2, rank);
    this.strides = intTuple(this.name, 'strides', a.strides ?? this.poolSize, rank);
    this.padding = oneOf(this.name, 'padding', a.padding, ['valid', 'same'] as const, 'valid');
    checkDataFormat(this.name, a.dataFormat);
  }

  private check(shape: Shape): void {
    expectRank(this.name, shape, this.rank + 2, LAYOUT[this.rank]);
    for (let i = 0; i < this.rank; i++) {
      const out = convOutLength(shape[1 + i], this.poolSize[i], this.strides[i], 1, this.padding);
      if (out !== null && out <= 0)
        throw shapeError(this.name, `input ${fmtShape(shape)} is too small: spatial axis ${1 + i} has ${shape[1 + i]} positions, fewer than the pool size ${this.poolSize[i]} with padding 'valid'`);
    }
  }

  override build(inputShape: Shape | Shape[]): void {
    this.check(inputShape as Shape);
    this.built = true;
  }

  call(inputs: Variable | Variable[], _ctx: CallContext): Variable {
    const x = single(this, inputs);
    this.check(x.type.shape);
    const pool = this.max ? T.maxPool2d : T.avgPool2d;
    if (this.rank === 2) return pool(x, { poolSize: this.poolSize as [number, number], strides: this.strides as [number, number], padding: this.padding });
    const y = pool(T.expandDims(x, 1), { poolSize: [1, this.poolSize[0]], strides: [1, this.strides[0]], padding: this.padding });
    return T.squeeze(y, 1);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize.slice(), strides: this.strides.slice(), padding: this.padding, dataFormat: 'channels_last' };
  }
}

/**
 * Max over windows of a sequence [batch, steps, channels] (Keras's MaxPooling1D).
 * @example st.layers.maxPooling1d({ poolSize: 2 }) // [null, 10, 4] → [null, 5, 4]
 */
export class MaxPooling1D extends Pooling {
  constructor(args: PoolingArgs = {}) {
    super(1, true, args);
  }
}

/**
 * Max over windows of [batch, height, width, channels] (Keras's MaxPooling2D).
 * @example st.layers.maxPooling2d({ poolSize: 2 }) // [null, 26, 26, 32] → [null, 13, 13, 32]
 */
export class MaxPooling2D extends Pooling {
  constructor(args: PoolingArgs = {}) {
    super(2, true, args);
  }
}

/** Mean over windows of a sequence [batch, steps, channels] (Keras's AveragePooling1D). */
export class AveragePooling1D extends Pooling {
  constructor(args: PoolingArgs = {}) {
    super(1, false, args);
  }
}

/** Mean over windows of [batch, height, width, channels] (Keras's AveragePooling2D). */
export class AveragePooling2D extends Pooling {
  constructor(args: PoolingArgs = {}) {
    super(2, false, args);
  }
}

/** Options of the global pooling layers. */
export interface GlobalPoolingArgs extends LayerArgs {
  /** Keep the pooled axes with size 1 (default false: drop them). */
  keepdims?: boolean;
  dataFormat?: DataFormat;
}

/** The shared part of the global pooling layers: a mean or max over every spatial axis. */
abstract class GlobalPooling extends Layer {
  readonly keepdims: boolean;
  constructor(
    readonly rank: number,
    readonly max: boolean,
    args: GlobalPoolingArgs,
  ) {
    super(args);
    checkLayerOptions(`Global${max ? 'Max' : 'Average'}Pooling${rank}D`, args, ['keepdims', 'dataFormat'], true);
    const a = args ?? {};
    if (a.keepdims !== undefined && typeof a.keepdims !== 'boolean') throw argError(this.name, `keepdims must be a boolean, got ${fmtValue(a.keepdims)}`);
    this.keepdims = a.keepdims ?? false;
    checkDataFormat(this.name, a.dataFormat);
    // a [batch, steps] mask means something only to the 1-D poolings
    this.supportsMasking = rank === 1;
  }
  override build(inputShape: Shape | Shape[]): void {
    expectRank(this.name, inputShape as Shape, this.rank + 2, LAYOUT[this.rank]);
    this.built = true;
  }
  /** The steps axis is pooled away, and the mask with it. */
  override computeMask(): Mask {
    return null;
  }
  call(inputs: Variable | Variable[], _ctx: CallContext, mask?: Mask | Mask[]): Variable {
    const x = single(this, inputs);
    expectRank(this.name, x.type.shape, this.rank + 2, LAYOUT[this.rank]);
    const axes = this.rank === 1 ? [1] : [1, 2];
    const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    if (this.rank === 1 && m) return this.maskedPool(x, m);
    return this.max ? T.max(x, axes, this.keepdims) : T.mean(x, axes, this.keepdims);
  }
  /**
   * Pooling over the unmasked steps only (mask [batch, steps]): their mean, or their max.  A row
   * with every step masked pools to zeros.
   */
  private maskedPool(x: Variable, mask: Variable): Variable {
    const [mb, ms] = mask.type.shape, [xb, xs] = x.type.shape;
    if (mask.ndim !== 2 || (mb !== null && xb !== null && mb !== xb) || (ms !== null && xs !== null && ms !== xs))
      throw shapeError(this.name, `the mask must be [batch, steps] = ${fmtShape([xb, xs])}, got ${fmtShape(mask.type.shape)}`);
    const m = T.expandDims(mask.dtype === 'bool' ? mask : T.notEqual(mask, 0), -1); // [batch, steps, 1]
    const anyStep = T.any(m, [1], this.keepdims);
    if (this.max) return T.where(anyStep, T.max(T.where(m, x, -Infinity), [1], this.keepdims), 0);
    const count = T.sum(T.cast(m, x.dtype), [1], this.keepdims);
    return T.div(T.sum(T.mul(x, T.cast(m, x.dtype)), [1], this.keepdims), T.maximum(count, 1));
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), keepdims: this.keepdims, dataFormat: 'channels_last' };
  }
}

/**
 * Mean over the steps of [batch, steps, channels] → [batch, channels] (Keras's
 * GlobalAveragePooling1D); with a Keras mask, the mean of the unmasked steps.
 */
export class GlobalAveragePooling1D extends GlobalPooling {
  constructor(args: GlobalPoolingArgs = {}) {
    super(1, false, args);
  }
}

/**
 * Mean over height and width: [batch, h, w, channels] → [batch, channels] (Keras's
 * GlobalAveragePooling2D); [batch, 1, 1, channels] with keepdims.
 * @example st.layers.globalAveragePooling2d() // [null, 7, 7, 512] → [null, 512]
 */
export class GlobalAveragePooling2D extends GlobalPooling {
  constructor(args: GlobalPoolingArgs = {}) {
    super(2, false, args);
  }
}

/** Max over the steps of [batch, steps, channels] → [batch, channels] (Keras's GlobalMaxPooling1D); with a Keras mask, over the unmasked steps. */
export class GlobalMaxPooling1D extends GlobalPooling {
  constructor(args: GlobalPoolingArgs = {}) {
    super(1, true, args);
  }
}

/** Max over height and width → [batch, channels] (Keras's GlobalMaxPooling2D). */
export class GlobalMaxPooling2D extends GlobalPooling {
  constructor(args: GlobalPoolingArgs = {}) {
    super(2, true, args);
  }
}

registerLayer('MaxPooling1D', MaxPooling1D);
registerLayer('MaxPooling2D', MaxPooling2D);
registerLayer('AveragePooling1D', AveragePooling1D);
registerLayer('AveragePooling2D', AveragePooling2D);
registerLayer('GlobalAveragePooling1D', GlobalAveragePooling1D);
registerLayer('GlobalAveragePooling2D', GlobalAveragePooling2D);
registerLayer('GlobalMaxPooling1D', GlobalMaxPooling1D);
registerLayer('GlobalMaxPooling2D', GlobalMaxPooling2D);
// Keras's aliases, for saved models that use them
registerLayer('MaxPool1D', MaxPooling1D);
registerLayer('MaxPool2D', MaxPooling2D);
registerLayer('AvgPool1D', AveragePooling1D);
registerLayer('AvgPool2D', AveragePooling2D);
registerLayer('GlobalAvgPool1D', GlobalAveragePooling1D);
registerLayer('GlobalAvgPool2D', GlobalAveragePooling2D);
registerLayer('GlobalMaxPool1D', GlobalMaxPooling1D);
registerLayer('GlobalMaxPool2D', GlobalMaxPooling2D);

/** new MaxPooling1D(args) */
export const maxPooling1d = (args?: PoolingArgs) => new MaxPooling1D(args);
/** new MaxPooling2D(args) */
export const maxPooling2d = (args?: PoolingArgs) => new MaxPooling2D(args);
/** new AveragePooling1D(args) */
export const averagePooling1d = (args?: PoolingArgs) => new AveragePooling1D(args);
/** new AveragePooling2D(args) */
export const averagePooling2d = (args?: PoolingArgs) => new AveragePooling2D(args);
/** new GlobalAveragePooling1D(args) */
export const globalAveragePooling1d = (args?: GlobalPoolingArgs) => new GlobalAveragePooling1D(args);
/** new GlobalAveragePooling2D(args) */
export const globalAveragePooling2d = (args?: GlobalPoolingArgs) => new GlobalAveragePooling2D(args);
/** new GlobalMaxPooling1D(args) */
export const globalMaxPooling1d = (args?: GlobalPoolingArgs) => new GlobalMaxPooling1D(args);
/** new GlobalMaxPooling2D(args) */
export const globalMaxPooling2d = (args?: GlobalPoolingArgs) => new GlobalMaxPooling2D(args);
