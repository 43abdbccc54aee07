// Convolution epilogue: act(conv2d(x, w) + bias) computed by one native instruction, the bias add
// and activation applied while each block of the convolution's output is still in cache (instead
// of a second pass over the whole output).
import { fmtShape, shapeError } from '../../errors';
import { Op as NativeOp } from '../../ops.generated';
import { Conv2dOptions, convGeometry } from '../../tensor/nn';
import type { Emitter, Val } from '../../tensor/emitter';
import { Conv2d } from '../../graph/ops/nn';
import { Op, VarType, applyOp1 } from '../../graph/variable';
import { biasActLabel, biasActRewrite } from './bias-act';

/**
 * act(conv2d(x, w, opts) + bias) for an NHWC input, a [kh, kw, in, out] filter and a 1-D bias of
 * `out` values, all of one float dtype; `act` is an ACT code (0: none).  Produced by the
 * convEpilogue rewrite after gradients are built (it has no gradient of its own); it has the bits
 * of the unfused conv2d, add and activation.
 */
export class Conv2dBiasAct extends Op {
  readonly name = 'conv2dBiasAct';
  constructor(readonly opts: Conv2dOptions, readonly act: number) {
    super();
  }
  override props() {
    return [this.opts, this.act];
  }
  infer([x, w, bias]: VarType[]): VarType[] {
    const [out] = new Conv2d(this.opts).infer([x, w]);
    const f = out.shape[3];
    if (bias.shape.length !== 1 || (bias.shape[0] !== null && f !== null && bias.shape[0] !== f))
      throw shapeError(this.name, `bias ${fmtShape(bias.shape)} does not fit the convolution's output ${fmtShape(out.shape)}`);
    return [out];
  }
  /** The bias spans the output channels. */
  override broadcastTargets(_inputs: VarType[], [out]: VarType[]) {
    return [null, null, [out.shape[3]]];
  }
  lower<V extends Val>(em: Emitter<V>, [x, w, bias]: V[]): V[] {
    const g = convGeometry(this.name, x.shape, w.shape, this.opts);
    if (bias.shape.length !== 1 || bias.shape[0] !== g.outShape[3])
      throw shapeError(this.name, `bias ${fmtShape(bias.shape)} does not fit the convolution's output ${fmtShape(g.outShape)}`, [bias.shape, g.outShape]);
    return em.emit(biasActLabel('conv2d', this.act), NativeOp.CONV2D_BIAS_ACT, [x, w, bias], [{ dtype: x.dtype, shape: g.outShape }], [...g.iattr, this.act]);
  }
}

/**
 * act(conv2d(x, w) + bias) -> conv2dBiasAct (act: relu, sigmoid, tanh or none), when the
 * convolution's output feeds only the add and the add's output only the activation.  The ReLU
 * gradient reads the activation's output, so after gradients are built the pattern still has
 * single clients in a training step.
 */
export const convEpilogue = biasActRewrite(
  'convEpilogue',
  (p) => p.owner?.op instanceof Conv2d && p.ndim === 4 && (p.dtype === 'float32' || p.dtype === 'float64'),
  (conv, bias, act) => applyOp1(new Conv2dBiasAct((conv.op as Conv2d).opts, act), [conv.inputs[0], conv.inputs[1], bias]),
);
