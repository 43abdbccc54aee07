// Spatial reshaping layers with Keras 3's options, channels-last: ZeroPadding2D and UpSampling2D.
import { argError, fmtShape, fmtValue, shapeError } from '../../errors';
import * as T from '../../graph/T';
import type { Variable } from '../../graph/variable';
import { CallContext, Layer, LayerArgs, Shape, registerLayer, single } from '../layer';
import { DataFormat, checkDataFormat, expectRank, intTuple } from './conv';

const IMAGE = '[batch, height, width, channels]';

/** ZeroPadding2D's options. */
export interface ZeroPadding2DArgs extends LayerArgs {
  /**
   * Rows and columns of zeros: one number for all four sides, [rows, cols] (each on both sides),
   * or [[top, bottom], [left, right]].  Default 1.
   */
  padding?: number | [number, number] | [[number, number], [number, number]];
  dataFormat?: DataFormat;
}

/**
 * Adds rows and columns of zeros around images [batch, h, w, channels] (Keras's ZeroPadding2D).
 * @example st.layers.zeroPadding2d({ padding: [[1, 2], [0, 3]] }) // [null, 4, 4, 3] → [null, 7, 7, 3]
 */
export class ZeroPadding2D extends Layer {
  /** [[top, bottom], [left, right]]. */
  readonly padding: [[number, number], [number, number]];

  constructor(args: ZeroPadding2DArgs = {}) {
    super(args);
    const a = args ?? {};
    const p = a.padding ?? 1;
    const bad = () => argError(this.name, `padding must be a non-negative integer, [rows, cols] or [[top, bottom], [left, right]], got ${fmtValue(p)}`);
    let pairs: number[][];
    if (typeof p === 'number') pairs = [[p, p], [p, p]];
    else if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number')) pairs = (p as number[]).map((v) => [v, v]);
    else if (Array.isArray(p) && p.length === 2 && p.every((v) => Array.isArray(v) && v.length === 2)) pairs = (p as number[][]).map((v) => v.slice());
    else throw bad();
    if (pairs.flat().some((v) => !Number.isInteger(v) || v < 0)) throw bad();
    this.padding = pairs as [[number, number], [number, number]];
    checkDataFormat(this.name, a.dataFormat);
  }
  override build(inputShape: Shape | Shape[]): void {
    expectRank(this.name, inputShape as Shape, 4, IMAGE);
    this.built = true;
  }
  call(inputs: Variable | Variable[], _ctx: CallContext): Variable {
    const x = single(this, inputs);
    expectRank(this.name, x.type.shape, 4, IMAGE);
    const [[t, b], [l, r]] = this.padding;
    if (t + b + l + r === 0) return x;
    return T.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding.map((p) => p.slice()), dataFormat: 'channels_last' };
  }
}

/** UpSampling2D's options. */
export interface UpSampling2DArgs extends LayerArgs {
  /** Repeats of each row and column: one number or [rows, cols].  Default 2. */
  size?: number | [number, number];
  dataFormat?: DataFormat;
  /** Only 'nearest' (each pixel repeated); 'bilinear' and the others are not implemented. */
  interpolation?: 'nearest';
}

/**
 * Repeats each row and column of images [batch, h, w, channels] (Keras's UpSampling2D with
 * nearest-neighbour interpolation): output [batch, h·sizeH, w·sizeW, channels].
 * @example st.layers.upSampling2d({ size: 2 }) // [null, 7, 7, 16] → [null, 14, 14, 16]
 */
export class UpSampling2D extends Layer {
  readonly size: [number, number];
  readonly interpolation = 'nearest';

  constructor(args: UpSampling2DArgs = {}) {
    super(args);
    const a = args ?? {};
    this.size = intTuple(this.name, 'size', a.size ?? 2, 2) as [number, number];
    const interp = a.interpolation ?? 'nearest';
    if (interp !== 'nearest') {
      const known = ['bilinear', 'bicubic', 'lanczos3', 'lanczos5', 'area'];
      throw argError(this.name, known.includes(interp as string)
        ? `interpolation '${interp}' is not implemented; only 'nearest' is supported`
        : `unknown interpolation ${fmtValue(interp)}; valid values: 'nearest' (Keras's ${known.map((k) => `'${k}'`).join(', ')} are not implemented)`);
    }
    checkDataFormat(this.name, a.dataFormat);
  }
  override build(inputShape: Shape | Shape[]): void {
    this.outputShapeFor(inputShape as Shape);
    this.built = true;
  }
  /** The reshape target of the repeated value; at most one of batch, height and width may be unknown. */
  private outputShapeFor(shape: Shape): number[] {
    expectRank(this.name, shape, 4, IMAGE);
    const [b, h, w, c] = shape;
    if (c === null || [b, h, w].filter((d) => d === null).length > 1)
      throw shapeError(this.name, `needs the channels and all but one of batch, height and width known when it is applied, got shape ${fmtShape(shape)}`);
    const [sh, sw] = this.size;
    return [b ?? -1, h === null ? -1 : h * sh, w === null ? -1 : w * sw, c];
  }
  call(inputs: Variable | Variable[], _ctx: CallContext): Variable {
    const x = single(this, inputs);
    const target = this.outputShapeFor(x.type.shape);
    const [sh, sw] = this.size;
    if (sh === 1 && sw === 1) return x;
    // [b, h, 1, w, 1, c] tiled to [b, h, sh, w, sw, c]: row i·sh + a and column j·sw + k read x[i, j]
    const repeated = T.tile(T.dimshuffle(x, [0, 1, 'x', 2, 'x', 3]), [1, 1, sh, 1, sw, 1]);
    return T.reshape(repeated, target);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size.slice(), dataFormat: 'channels_last', interpolation: this.interpolation };
  }
}

registerLayer('ZeroPadding2D', ZeroPadding2D);
registerLayer('UpSampling2D', UpSampling2D);

/** new ZeroPadding2D(args) */
export const zeroPadding2d = (args?: ZeroPadding2DArgs) => new ZeroPadding2D(args);
/** new UpSampling2D(args) */
export const upSampling2d = (args?: UpSampling2DArgs) => new UpSampling2D(args);
