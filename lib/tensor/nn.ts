// Neural-network ops: softmax, convolution (NHWC) and pooling, with their gradients.
import { DType, floatOf } from '../dtype';
import { argError, checkOptionKeys, dtypeError, fmtShape, fmtValue, shapeError } from '../errors';
import { Op } from '../ops.generated';
import { checkShape, normAxis, sizeOf } from './shape-util';
import { Tensor, TensorLike } from './tensor';
import { Emitter, Val, eager } from './emitter';
import { castWith } from './elementwise';
import { asTensor } from './creation';

/** Runs f on args as tensors, freeing the ones it made from plain values. */
function withTensors<R>(op: string, args: TensorLike[], f: (...ts: Tensor[]) => R): R {
  const ts = args.map((a, i) => asTensor(op, a, undefined, `argument ${i + 1}`));
  try {
    return f(...ts);
  } finally {
    ts.forEach((t, i) => t !== args[i] && t.dispose());
  }
}

/** The dtype a one-operand nn op computes in and returns: its input's when float, else float32. */
export function nnDtype(d: DType): DType {
  return floatOf(d);
}

/**
 * The dtype a two-operand nn op (convolutions, pooling gradients) computes in and returns: ints
 * and bools count as float32, and the two must then agree (float32 with float64 is an error).
 */
export function nnPairDtype(op: string, a: DType, b: DType): DType {
  if (floatOf(a) !== floatOf(b)) throw dtypeError(op, `needs float32 or float64 tensors of one dtype, got ${a} and ${b}`);
  return floatOf(a);
}

/** Runs f on vs converted to dtype, releasing the conversions it made. */
function inDtype<V extends Val>(em: Emitter<V>, dtype: DType, vs: V[], f: (...cs: V[]) => V): V {
  const cs = vs.map((v) => (v.dtype === dtype ? v : castWith(em, v, dtype)));
  try {
    return f(...cs);
  } finally {
    cs.forEach((c, i) => c !== vs[i] && em.release(c));
  }
}

/** softmax or logSoftmax of a float value along a normalized axis. */
export function softmaxWith<V extends Val>(em: Emitter<V>, op: 'softmax' | 'logSoftmax', t: V, a: number): V {
  const iattr = [sizeOf(t.shape.slice(0, a)), t.shape[a], sizeOf(t.shape.slice(a + 1))];
  const dtype = nnDtype(t.dtype);
  return inDtype(em, dtype, [t], (c) => em.emit(op, op === 'softmax' ? Op.SOFTMAX : Op.LOG_SOFTMAX, [c], [{ dtype, shape: t.shape }], iattr)[0]);
}

function softmaxLike(op: 'softmax' | 'logSoftmax') {
  return (x: TensorLike, axis = -1): Tensor => {
    return withTensors(op, [x], (t) => {
      if (t.rank === 0) throw shapeError(op, 'needs at least one axis, got a scalar');
      return softmaxWith(eager, op, t, normAxis(op, axis, t.rank));
    });
  };
}

/** exp(x) / sum(exp(x)) along axis, computed stably (ints and bools as float32). */
export const softmax = softmaxLike('softmax');
/** x - logSumExp(x) along axis, computed stably. */
export const logSoftmax = softmaxLike('logSoftmax');

/**
 * How convolution and pooling pad the input: 'valid' (none), 'same' (output size ⌈input / stride⌉, TensorFlow's rule) or a symmetric number of pixels.
 */
export type Padding = 'same' | 'valid' | number;

/** The geometry of a 2-D convolution (NHWC input, [kh, kw, in, out] filter). */
export interface Conv2dOptions {
  /** One number for both axes, or [height, width].  Default 1. */
  strides?: number | [number, number];
  /** 'valid' (default), 'same' (TensorFlow's), or a symmetric number of pixels. */
  padding?: Padding;
  dilations?: number | [number, number];
}

/** The geometry of a 2-D pooling window over NHWC input. */
export interface Pool2dOptions {
  poolSize?: number | [number, number];
  /** Defaults to poolSize. */
  strides?: number | [number, number];
  padding?: Padding;
}

/** The keys Conv2dOptions and Pool2dOptions may have (anything else is a mistake worth an error). */
const CONV_OPTIONS = ['strides', 'padding', 'dilations'] as const;
const POOL_OPTIONS = ['poolSize', 'strides', 'padding'] as const;

function pair(op: string, name: string, v: number | [number, number] | undefined, dflt: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < 1))
    throw argError(op, `${name} must be a positive integer or a pair of them, got ${fmtValue(v)}`);
  return p;
}

/** Output size and leading pad of one spatial axis (TensorFlow's rules). */
function outSize(op: string, inSize: number, k: number, stride: number, dil: number, padding: Padding): [number, number] {
  const span = (k - 1) * dil + 1;
  if (padding === 'same') {
    const o = Math.ceil(inSize / stride);
    const total = Math.max((o - 1) * stride + span - inSize, 0);
    return [o, Math.floor(total / 2)];
  }
  const p = padding === 'valid' ? 0 : padding;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) throw argError(op, `padding must be 'same', 'valid' or a non-negative integer, got ${fmtValue(padding)}`);
  const o = Math.floor((inSize + 2 * p - span) / stride) + 1;
  if (o < 0 || inSize + 2 * p < span) throw shapeError(op, `window of ${span} (kernel ${k}, dilation ${dil}) does not fit an input of ${inSize} with padding ${p}`);
  return [o, p];
}

export interface ConvGeom {
  outShape: number[];
  iattr: number[];
}

/**
 * Checks conv2d's options alone (strides, dilations, padding), so that a symbolic conv2d whose
 * sizes are not yet known still rejects bad options where the graph is built.
 */
export function checkConvOptions(op: string, opts: Conv2dOptions): void {
  checkOptionKeys(op, opts, CONV_OPTIONS);
  pair(op, 'strides', opts.strides, 1);
  pair(op, 'dilations', opts.dilations, 1);
  const p = opts.padding ?? 'valid';
  if (p !== 'same' && p !== 'valid' && !(typeof p === 'number' && Number.isInteger(p) && p >= 0))
    throw argError(op, `padding must be 'same', 'valid' or a non-negative integer, got ${fmtValue(p)}`);
}

export function convGeometry(op: string, xShape: number[], fShape: number[], opts: Conv2dOptions): ConvGeom {
  if (xShape.length !== 4) throw shapeError(op, `input must be 4-D [batch, height, width, channels], got ${fmtShape(xShape)}`, [xShape]);
  if (fShape.length !== 4) throw shapeError(op, `filter must be 4-D [kh, kw, inChannels, outChannels], got ${fmtShape(fShape)}`, [fShape]);
  const [n, h, w, c] = xShape;
  const [kh, kw, fc, f] = fShape;
  if (fc !== c) throw shapeError(op, `input ${fmtShape(xShape)} has ${c} channels but filter ${fmtShape(fShape)} expects ${fc}`, [xShape, fShape]);
  checkOptionKeys(op, opts, CONV_OPTIONS);
  const [sh, sw] = pair(op, 'strides', opts.strides, 1);
  const [dh, dw] = pair(op, 'dilations', opts.dilations, 1);
  const padding = opts.padding ?? 'valid';
  const [oh, pt] = outSize(op, h, kh, sh, dh, padding);
  const [ow, pl] = outSize(op, w, kw, sw, dw, padding);
  return { outShape: [n, oh, ow, f], iattr: [sh, sw, pt, pl, dh, dw] };
}

/**
 * 2-D convolution, NHWC input and [kh, kw, in, out] filter (dtypes: see nnPairDtype).
 * @example st.conv2d(x, w, { strides: 2, padding: 'same' })
 */
export function conv2d(x: TensorLike, filter: TensorLike, opts: Conv2dOptions = {}): Tensor {
  return withTensors('conv2d', [x, filter], (a, f) => conv2dWith(eager, a, f, opts));
}

export function conv2dWith<V extends Val>(em: Emitter<V>, a: V, f: V, opts: Conv2dOptions): V {
  const op = 'conv2d';
  const dtype = nnPairDtype(op, a.dtype, f.dtype);
  const g = convGeometry(op, a.shape, f.shape, opts);
  return inDtype(em, dtype, [a, f], (ca, cf) => em.emit(op, Op.CONV2D, [ca, cf], [{ dtype, shape: g.outShape }], g.iattr)[0]);
}

/** Gradient of conv2d with respect to its input: dy [n, oh, ow, out] -> dx of inputShape. */
export function conv2dGradInput(dy: TensorLike, filter: TensorLike, inputShape: number[], opts: Conv2dOptions = {}): Tensor {
  return withTensors('conv2dGradInput', [dy, filter], (d, f) => conv2dGradInputWith(eager, d, f, inputShape, opts));
}

export function conv2dGradInputWith<V extends Val>(em: Emitter<V>, d: V, f: V, inputShape: number[], opts: Conv2dOptions): V {
  const op = 'conv2dGradInput';
  inputShape = checkShape(op, inputShape);
  const dtype = nnPairDtype(op, d.dtype, f.dtype);
  const g = convGeometry(op, inputShape, f.shape, opts);
  if (g.outShape.some((v, i) => v !== d.shape[i]) || d.shape.length !== 4)
    throw shapeError(op, `dy ${fmtShape(d.shape)} does not match the conv2d output ${fmtShape(g.outShape)} for input ${fmtShape(inputShape)}`, [d.shape, inputShape]);
  return inDtype(em, dtype, [d, f], (cd, cf) => em.emit(op, Op.CONV2D_GRAD_INPUT, [cd, cf], [{ dtype, shape: inputShape.slice() }], g.iattr)[0]);
}

/** Gradient of conv2d with respect to its filter: (x, dy) -> dw of filterShape. */
export function conv2dGradFilter(x: TensorLike, dy: TensorLike, filterShape: number[], opts: Conv2dOptions = {}): Tensor {
  return withTensors('conv2dGradFilter', [x, dy], (a, d) => conv2dGradFilterWith(eager, a, d, filterShape, opts));
}

export function conv2dGradFilterWith<V extends Val>(em: Emitter<V>, a: V, d: V, filterShape: number[], opts: Conv2dOptions): V {
  const op = 'conv2dGradFilter';
  filterShape = checkShape(op, filterShape);
  const dtype = nnPairDtype(op, a.dtype, d.dtype);
  const g = convGeometry(op, a.shape, filterShape, opts);
  if (g.outShape.some((v, i) => v !== d.shape[i]) || d.shape.length !== 4)
    throw shapeError(op, `dy ${fmtShape(d.shape)} does not match the conv2d output ${fmtShape(g.outShape)}`, [d.shape, a.shape]);
  return inDtype(em, dtype, [a, d], (ca, cd) => em.emit(op, Op.CONV2D_GRAD_FILTER, [ca, cd], [{ dtype, shape: filterShape.slice() }], g.iattr)[0]);
}

/**
 * Rejects numeric pooling padding that reaches a whole window: such a window would pool nothing
 * (max: -Infinity, mean: 0 / 0).  Checked for symbolic inputs too, before their size is known.
 */
export function checkPoolPadding(op: string, padding: Padding, kh: number, kw: number): void {
  if (typeof padding === 'number' && (padding >= kh || padding >= kw))
    throw shapeError(op, `padding ${padding} must be smaller than poolSize [${kh}, ${kw}]`);
}

export function poolGeometry(op: string, xShape: number[], opts: Pool2dOptions): ConvGeom {
  if (xShape.length !== 4) throw shapeError(op, `input must be 4-D [batch, height, width, channels], got ${fmtShape(xShape)}`, [xShape]);
  checkOptionKeys(op, opts, POOL_OPTIONS);
  const [kh, kw] = pair(op, 'poolSize', opts.poolSize, 2);
  const [sh, sw] = pair(op, 'strides', opts.strides ?? [kh, kw], 1);
  const padding = opts.padding ?? 'valid';
  checkPoolPadding(op, padding, kh, kw);
  const [oh, pt] = outSize(op, xShape[1], kh, sh, 1, padding);
  const [ow, pl] = outSize(op, xShape[2], kw, sw, 1, padding);
  return { outShape: [xShape[0], oh, ow, xShape[3]], iattr: [kh, kw, sh, sw, pt, pl] };
}

/** max or average pooling. */
export function poolWith<V extends Val>(em: Emitter<V>, op: 'maxPool2d' | 'avgPool2d', t: V, opts: Pool2dOptions): V {
  const g = poolGeometry(op, t.shape, opts);
  const dtype = nnDtype(t.dtype);
  return inDtype(em, dtype, [t], (c) => em.emit(op, op === 'maxPool2d' ? Op.MAX_POOL2D : Op.AVG_POOL2D, [c], [{ dtype, shape: g.outShape }], g.iattr)[0]);
}

/** Max over poolSize windows (NHWC). */
export function maxPool2d(x: TensorLike, opts: Pool2dOptions = {}): Tensor {
  return withTensors('maxPool2d', [x], (t) => poolWith(eager, 'maxPool2d', t, opts));
}

/** Mean over poolSize windows (NHWC); padded cells are not counted. */
export function avgPool2d(x: TensorLike, opts: Pool2dOptions = {}): Tensor {
  return withTensors('avgPool2d', [x], (t) => poolWith(eager, 'avgPool2d', t, opts));
}

/** Gradient of maxPool2d: dy flows to the (first) max of each window. */
export function maxPool2dGrad(x: TensorLike, dy: TensorLike, opts: Pool2dOptions = {}): Tensor {
  return withTensors('maxPool2dGrad', [x, dy], (t, d) => maxPool2dGradWith(eager, t, d, opts));
}

export function maxPool2dGradWith<V extends Val>(em: Emitter<V>, t: V, d: V, opts: Pool2dOptions): V {
  const op = 'maxPool2dGrad';
  const dtype = nnPairDtype(op, t.dtype, d.dtype);
  const g = poolGeometry(op, t.shape, opts);
  if (d.shape.length !== 4 || g.outShape.some((v, i) => v !== d.shape[i])) throw shapeError(op, `dy ${fmtShape(d.shape)} does not match the pooled shape ${fmtShape(g.outShape)}`, [d.shape, t.shape]);
  return inDtype(em, dtype, [t, d], (ct, cd) => em.emit(op, Op.MAX_POOL2D_GRAD, [ct, cd], [{ dtype, shape: t.shape }], g.iattr)[0]);
}

/**
 * The adjoint of maxPool2dGrad in dy: for each pooling window, g (shaped like x) at the cell
 * max pooling routes that window's gradient to.  Second derivatives through max pooling use it.
 */
export function maxPool2dSelectWith<V extends Val>(em: Emitter<V>, t: V, gx: V, opts: Pool2dOptions): V {
  const op = 'maxPool2dSelect';
  const dtype = nnPairDtype(op, t.dtype, gx.dtype);
  const g = poolGeometry(op, t.shape, opts);
  if (gx.shape.length !== 4 || t.shape.some((v, i) => v !== gx.shape[i])) throw shapeError(op, `g ${fmtShape(gx.shape)} does not match the input shape ${fmtShape(t.shape)}`, [gx.shape, t.shape]);
  return inDtype(em, dtype, [t, gx], (ct, cg) => em.emit(op, Op.MAX_POOL2D_SELECT, [ct, cg], [{ dtype, shape: g.outShape }], g.iattr)[0]);
}

/** Gradient of avgPool2d: dy spread evenly over each window's in-bounds cells. */
export function avgPool2dGrad(dy: TensorLike, inputShape: number[], opts: Pool2dOptions = {}): Tensor {
  return withTensors('avgPool2dGrad', [dy], (d) => avgPool2dGradWith(eager, d, inputShape, opts));
}

export function avgPool2dGradWith<V extends Val>(em: Emitter<V>, d: V, inputShape: number[], opts: Pool2dOptions): V {
  const op = 'avgPool2dGrad';
  inputShape = checkShape(op, inputShape);
  const g = poolGeometry(op, inputShape, opts);
  if (d.shape.length !== 4 || g.outShape.some((v, i) => v !== d.shape[i])) throw shapeError(op, `dy ${fmtShape(d.shape)} does not match the pooled shape ${fmtShape(g.outShape)} of input ${fmtShape(inputShape)}`, [d.shape, inputShape]);
  const dtype = nnDtype(d.dtype);
  return inDtype(em, dtype, [d], (c) => em.emit(op, Op.AVG_POOL2D_GRAD, [c], [{ dtype, shape: inputShape.slice() }], g.iattr)[0]);
}
