// Spatial reshaping layers with Keras 3's options, channels-last: ZeroPadding2D and UpSampling2D.
import { argError, fmtShape, fmtValue, shapeError } from '../../errors';
import * as T from '../../graph/T';
import type { Variable } from '../../graph/variable';
import { tensor } from '../../tensor/creation';
import { CallContext, Layer, LayerArgs, Shape, registerLayer, single } from '../layer';
import { DataFormat, checkDataFormat, expectRank, intTuple } from './conv';
import { checkLayerOptions } from './core';

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
    checkLayerOptions('ZeroPadding2D', args, ['padding', 'dataFormat'], true);
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
  /**
   * 'nearest' (default: each pixel repeated), or Keras's resampling kernels 'bilinear', 'bicubic'
   * (Keys, a = −0.5), 'lanczos3', 'lanczos5' with half-pixel centres; samples that would fall outside
   * the image get no weight and the others are renormalized, as TensorFlow's resize does.
   */
  interpolation?: Interpolation;
}

/** UpSampling2D's interpolations. */
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos3' | 'lanczos5';

/** The resampling kernels and their radii (in input pixels). */
const KERNELS: Record<Exclude<Interpolation, 'nearest'>, { radius: number; k: (x: number) => number }> = {
  bilinear: { radius: 1, k: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    radius: 2,
    k: (x) => {
      const a = Math.abs(x);
      return a < 1 ? (1.5 * a - 2.5) * a * a + 1 : a < 2 ? ((-0.5 * a + 2.5) * a - 4) * a + 2 : 0;
    },
  },
  lanczos3: { radius: 3, k: (x) => lanczos(x, 3) },
  lanczos5: { radius: 5, k: (x) => lanczos(x, 5) },
};

function lanczos(x: number, r: number): number {
  if (x === 0) return 1;
  if (Math.abs(x) >= r) return 0;
  const px = Math.PI * x;
  return (r * Math.sin(px) * Math.sin(px / r)) / (px * px);
}

/**
 * The [n·scale, n] matrix resampling one axis: output o samples the input at (o + ½)/scale (in
 * pixel-edge coordinates), weighting input i by k(i + ½ − that point) over the pixels inside the
 * image, normalized to sum 1.
 */
export function resampleMatrix(n: number, scale: number, interp: Exclude<Interpolation, 'nearest'>): number[][] {
  const { radius, k } = KERNELS[interp];
  return Array.from({ length: n * scale }, (_, o) => {
    const at = (o + 0.5) / scale;
    const row = Array.from({ length: n }, (_, i) => (Math.abs(i + 0.5 - at) < radius ? k(i + 0.5 - at) : 0));
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((w) => w / total);
  });
}

/**
 * Repeats each row and column of images [batch, h, w, channels] (Keras's UpSampling2D with
 * nearest-neighbour interpolation): output [batch, h·sizeH, w·sizeW, channels].
 * @example st.layers.upSampling2d({ size: 2 }) // [null, 7, 7, 16] → [null, 14, 14, 16]
 */
export class UpSampling2D extends Layer {
  readonly size: [number, number];
  readonly interpolation: Interpolation;

  constructor(args: UpSampling2DArgs = {}) {
    super(args);
    checkLayerOptions('UpSampling2D', args, ['size', 'interpolation', 'dataFormat'], true);
    const a = args ?? {};
    this.size = intTuple(this.name, 'size', a.size ?? 2, 2) as [number, number];
    const interp = a.interpolation ?? 'nearest';
    const valid = ['nearest', ...Object.keys(KERNELS)];
    if (!valid.includes(interp as string)) throw argError(this.name, `unknown interpolation ${fmtValue(interp)}; valid values: ${valid.map((k) => `'${k}'`).join(', ')}`);
    this.interpolation = interp;
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
    if (this.interpolation !== 'nearest') return this.resample(x, this.interpolation);
    // [b, h, 1, w, 1, c] tiled to [b, h, sh, w, sw, c]: row i·sh + a and column j·sw + k read x[i, j]
    const repeated = T.tile(T.dimshuffle(x, [0, 1, 'x', 2, 'x', 3]), [1, 1, sh, 1, sw, 1]);
    return T.reshape(repeated, target);
  }

  /** Separable resampling: a constant matrix along the height, then along the width. */
  private resample(x: Variable, interp: Exclude<Interpolation, 'nearest'>): Variable {
    const [, h, w] = x.type.shape;
    if (h === null || w === null)
      throw shapeError(this.name, `interpolation '${interp}' needs the height and width known when the layer is applied, got shape ${fmtShape(x.type.shape)}`);
    const [sh, sw] = this.size;
    const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
    const matrix = (n: number, s: number) => T.constant(tensor(resampleMatrix(n, s, interp), { dtype })).dimshuffle(1, 0);
    const v = x.dtype === dtype ? x : T.cast(x, dtype);
    // [b, h, w, c] -> [b, w, c, h]·[h, H] -> [b, H, c, w]·[w, W] -> [b, H, W, c]
    const rows = T.matmul(T.transpose(v, [0, 2, 3, 1]), matrix(h, sh));
    const cols = T.matmul(T.transpose(rows, [0, 3, 2, 1]), matrix(w, sw));
    return T.transpose(cols, [0, 1, 3, 2]);
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
