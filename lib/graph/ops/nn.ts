// softmax, convolution and pooling.
import { fmtShape, shapeError } from '../../errors';
import type { Emitter, Val } from '../../tensor/emitter';
import {
  Conv2dOptions, Pool2dOptions, avgPool2dGradWith, conv2dGradFilterWith, conv2dGradInputWith, conv2dWith, convGeometry,
  maxPool2dGradWith, maxPool2dSelectWith, nnDtype, checkConvOptions, nnPairDtype, poolGeometry, poolWith, softmaxWith,
} from '../../tensor/nn';
import { normAxis } from '../../tensor/shape-util';
import { isKnown } from '../dims';
import { Apply, Dim, Op, VarType, Variable, applyOp1 } from '../variable';
import { ew, scalarConstant } from './elemwise';
import { BroadcastLike } from './shape';
import { isFloat } from '../../dtype';
import { Reduce } from './reduce';

export class Softmax extends Op {
  readonly name: 'softmax' | 'logSoftmax';
  constructor(log: boolean, readonly axis: number) {
    super();
    this.name = log ? 'logSoftmax' : 'softmax';
  }
  override props() {
    return this.axis;
  }
  infer([x]: VarType[]): VarType[] {
    if (x.shape.length === 0) throw shapeError(this.name, 'needs at least one axis, got a scalar');
    normAxis(this.name, this.axis, x.shape.length);
    return [{ dtype: nnDtype(x.dtype), shape: x.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [softmaxWith(em, this.name, x, normAxis(this.name, this.axis, x.shape.length))];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null];
    const z = node.outputs[0];
    const a = normAxis(this.name, this.axis, z.ndim);
    const sum = (v: Variable) => applyOp1(new Reduce('sum', [a], true), [v]);
    if (this.name === 'softmax') return [ew('mul', [z, ew('sub', [gz, sum(ew('mul', [gz, z]))])])];
    return [ew('sub', [gz, ew('mul', [ew('exp', [z]), sum(gz)])])];
  }
}

export class Conv2d extends Op {
  readonly name = 'conv2d';
  constructor(readonly opts: Conv2dOptions) {
    super();
  }
  override props() {
    return this.opts;
  }
  infer([x, w]: VarType[]): VarType[] {
    checkConvOptions(this.name, this.opts);
    const dtype = nnPairDtype(this.name, x.dtype, w.dtype);
    if (x.shape.length !== 4 || w.shape.length !== 4) throw shapeError(this.name, `input must be 4-D NHWC and filter 4-D [kh,kw,in,out], got ${fmtShape(x.shape)} and ${fmtShape(w.shape)}`);
    if (x.shape[3] !== null && w.shape[2] !== null && x.shape[3] !== w.shape[2]) throw shapeError(this.name, `input ${fmtShape(x.shape)} has ${x.shape[3]} channels but filter ${fmtShape(w.shape)} expects ${w.shape[2]}`);
    let oh: Dim = null, ow: Dim = null;
    if (x.shape[1] !== null && x.shape[2] !== null && isKnown(w.shape)) {
      const g = convGeometry(this.name, [1, x.shape[1], x.shape[2], w.shape[2]], w.shape, this.opts);
      [oh, ow] = [g.outShape[1], g.outShape[2]];
    }
    return [{ dtype, shape: [x.shape[0], oh, ow, w.shape[3]] }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, w]: V[]): V[] {
    return [conv2dWith(em, x, w, this.opts)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null, null];
    const [x, w] = node.inputs;
    return [applyOp1(new Conv2dGradInput(this.opts), [gz, w, x]), applyOp1(new Conv2dGradFilter(this.opts), [x, gz, w])];
  }
}

/** dx of conv2d: inputs (dy, w, x) — x only gives the shape. */
export class Conv2dGradInput extends Op {
  readonly name = 'conv2dGradInput';
  constructor(readonly opts: Conv2dOptions) {
    super();
  }
  override props() {
    return this.opts;
  }
  infer([dy, w, like]: VarType[]): VarType[] {
    checkConvOptions(this.name, this.opts);
    if (dy.shape.length !== 4 || w.shape.length !== 4 || like.shape.length !== 4)
      throw shapeError(this.name, `dy, filter and like must be 4-D (NHWC, [kh,kw,in,out], NHWC), got ${fmtShape(dy.shape)}, ${fmtShape(w.shape)} and ${fmtShape(like.shape)}`);
    return [{ dtype: nnPairDtype(this.name, dy.dtype, w.dtype), shape: like.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [dy, w, like]: V[]): V[] {
    return [conv2dGradInputWith(em, dy, w, like.shape.slice(), this.opts)];
  }
  override grad(node: Apply, [g]: (Variable | null)[]) {
    if (!g) return [null, null, null];
    const [dy, w] = node.inputs;
    return [applyOp1(new Conv2d(this.opts), [g, w]), applyOp1(new Conv2dGradFilter(this.opts), [g, dy, w]), null];
  }
}

/** dw of conv2d: inputs (x, dy, w) — w only gives the shape. */
export class Conv2dGradFilter extends Op {
  readonly name = 'conv2dGradFilter';
  constructor(readonly opts: Conv2dOptions) {
    super();
  }
  override props() {
    return this.opts;
  }
  infer([x, dy, like]: VarType[]): VarType[] {
    checkConvOptions(this.name, this.opts);
    if (x.shape.length !== 4 || dy.shape.length !== 4 || like.shape.length !== 4)
      throw shapeError(this.name, `x, dy and like must be 4-D (NHWC, NHWC, [kh,kw,in,out]), got ${fmtShape(x.shape)}, ${fmtShape(dy.shape)} and ${fmtShape(like.shape)}`);
    return [{ dtype: nnPairDtype(this.name, x.dtype, dy.dtype), shape: like.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, dy, like]: V[]): V[] {
    return [conv2dGradFilterWith(em, x, dy, like.shape.slice(), this.opts)];
  }
  override grad(node: Apply, [g]: (Variable | null)[]) {
    if (!g) return [null, null, null];
    const [x, dy] = node.inputs;
    return [applyOp1(new Conv2dGradInput(this.opts), [dy, g, x]), applyOp1(new Conv2d(this.opts), [x, g]), null];
  }
}

export class Pool2d extends Op {
  readonly name: 'maxPool2d' | 'avgPool2d';
  constructor(max: boolean, readonly opts: Pool2dOptions) {
    super();
    this.name = max ? 'maxPool2d' : 'avgPool2d';
  }
  override props() {
    return this.opts;
  }
  infer([x]: VarType[]): VarType[] {
    if (x.shape.length !== 4) throw shapeError(this.name, `input must be 4-D [batch, height, width, channels], got ${fmtShape(x.shape)}`);
    const known = x.shape[1] !== null && x.shape[2] !== null;
    // the options are checked where the graph is built even while height and width are unknown
    const g = known ? poolGeometry(this.name, [1, x.shape[1] as number, x.shape[2] as number, 1], this.opts).outShape : null;
    if (!known) poolGeometry(this.name, [1, 1 << 20, 1 << 20, 1], this.opts);
    return [{ dtype: nnDtype(x.dtype), shape: [x.shape[0], g ? g[1] : null, g ? g[2] : null, x.shape[3]] }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [poolWith(em, this.name, x, this.opts)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null];
    const x = node.inputs[0];
    return [applyOp1(new Pool2dGrad(this.name === 'maxPool2d', this.opts), [x, gz])];
  }
}

/** Gradient of pooling: inputs (x, dy). */
export class Pool2dGrad extends Op {
  readonly name: string;
  constructor(readonly max: boolean, readonly opts: Pool2dOptions) {
    super();
    this.name = max ? 'maxPool2dGrad' : 'avgPool2dGrad';
  }
  override props() {
    return this.opts;
  }
  infer([x, dy]: VarType[]): VarType[] {
    if (x.shape.length !== 4 || dy.shape.length !== 4) throw shapeError(this.name, `x and dy must be 4-D [batch, height, width, channels], got ${fmtShape(x.shape)} and ${fmtShape(dy.shape)}`);
    return [{ dtype: this.max ? nnPairDtype(this.name, x.dtype, dy.dtype) : nnDtype(dy.dtype), shape: x.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, dy]: V[]): V[] {
    return [this.max ? maxPool2dGradWith(em, x, dy, this.opts) : avgPool2dGradWith(em, dy, x.shape.slice(), this.opts)];
  }
  override grad(node: Apply, [g]: (Variable | null)[]) {
    if (!g) return [null, null];
    // both are linear in dy, and piecewise constant in x (the windows' argmax moves only at ties):
    // max pooling's adjoint reads g at each window's argmax, average pooling's is average pooling
    const [x] = node.inputs;
    if (this.max) return [zerosLike(x), applyOp1(new MaxPool2dSelect(this.opts), [x, g])];
    return [null, applyOp1(new Pool2d(false, this.opts), [g])];
  }
}

/** Inputs (x, g): for each max pooling window of x, g at the cell its gradient goes to. */
export class MaxPool2dSelect extends Op {
  readonly name = 'maxPool2dSelect';
  constructor(readonly opts: Pool2dOptions) {
    super();
  }
  override props() {
    return this.opts;
  }
  infer([x, g]: VarType[]): VarType[] {
    const [pooled] = new Pool2d(true, this.opts).infer([x]);
    if (g.shape.length !== 4 || g.shape.some((d, i) => d !== null && x.shape[i] !== null && d !== x.shape[i]))
      throw shapeError(this.name, `g ${fmtShape(g.shape)} must have the shape of x ${fmtShape(x.shape)}`);
    return [{ dtype: nnPairDtype(this.name, x.dtype, g.dtype), shape: pooled.shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [x, g]: V[]): V[] {
    return [maxPool2dSelectWith(em, x, g, this.opts)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    // linear in g, with maxPool2dGrad as its adjoint; piecewise constant in x
    const [x] = node.inputs;
    return gz ? [zerosLike(x), applyOp1(new Pool2dGrad(true, this.opts), [x, gz])] : [null, null];
  }
}

/** Zeros shaped like x: the gradient of a piecewise-constant dependence (zero, not absent). */
function zerosLike(x: Variable): Variable {
  return applyOp1(new BroadcastLike(), [scalarConstant(0, isFloat(x.dtype) ? x.dtype : 'float32'), x]);
}
