// Max pooling's gradient through a ReLU: mul(maxPool2dGrad(z, dy), greater(z, 0)), where z is both
// the ReLU's output and the pooling's input (what st.grad builds for maxPool2d(relu(...))), becomes
// one MAX_POOL2D_GRAD instruction with its relu mask.  The pooling gradient already finds each
// window's winning cell in z, so the mask costs nothing there, and the separate pass that read the
// full-size gradient and z again and wrote another full-size tensor is gone.
import { fmtShape, shapeError } from '../../errors';
import { Op as NativeOp } from '../../ops.generated';
import { Pool2dOptions, poolGeometry } from '../../tensor/nn';
import type { Emitter, Val } from '../../tensor/emitter';
import { Pool2dGrad } from '../../graph/ops/nn';
import { Op, VarType, Variable, applyOp1 } from '../../graph/variable';
import { localRewrite } from '../../graph/rewrite';
import { ewName, scalarValue } from '../../graph/match';
import { FunctionGraph } from '../../graph/fgraph';

/**
 * maxPool2dGrad(x, dy) * (x > 0): the gradient of maxPool2d(relu(a)) with respect to relu's
 * output masked by relu's derivative, x being relu's output.  Built only by the maxPoolGradRelu
 * rewrite; inputs (x, dy) as maxPool2dGrad's, output shaped like x.
 */
export class MaxPool2dGradRelu extends Op {
  readonly name = 'maxPool2dGradRelu';
  constructor(readonly opts: Pool2dOptions) {
    super();
  }
  override props() {
    return this.opts;
  }
  infer(inputs: VarType[]): VarType[] {
    return new Pool2dGrad(true, this.opts).infer(inputs);
  }
  lower<V extends Val>(em: Emitter<V>, [x, dy]: V[]): V[] {
    const g = poolGeometry(this.name, x.shape, this.opts);
    if (dy.shape.length !== 4 || g.outShape.some((v, i) => v !== dy.shape[i]))
      throw shapeError(this.name, `dy ${fmtShape(dy.shape)} does not match the pooled shape ${fmtShape(g.outShape)}`, [dy.shape, x.shape]);
    // the seventh attribute turns on the kernel's relu mask (see native/kernels/cpu/pool2d.cc)
    return em.emit('maxPool2dGrad+relu', NativeOp.MAX_POOL2D_GRAD, [x, dy], [{ dtype: x.dtype, shape: x.shape.slice() }], [...g.iattr, 1]);
  }
}

function onlyClientIsNode(v: Variable, fg: FunctionGraph | null): boolean {
  if (!fg) return false;
  const c = fg.clients().get(v) ?? [];
  return c.length === 1 && c[0].node !== 'output';
}

/** mul(maxPool2dGrad(z, dy), greater(z, 0)) (either operand order) -> maxPool2dGradRelu(z, dy). */
export const maxPoolGradRelu = localRewrite({
  name: 'maxPoolGradRelu',
  fn(node, fg) {
    if (ewName(node) !== 'mul') return null;
    const out = node.outputs[0];
    if (out.dtype !== 'float32' && out.dtype !== 'float64') return null;
    const [a, b] = node.inputs;
    for (const [grad, mask] of [[a, b], [b, a]] as const) {
      const pg = grad.owner;
      if (!pg || !(pg.op instanceof Pool2dGrad) || !pg.op.max || !onlyClientIsNode(grad, fg)) continue;
      if (ewName(mask) !== 'greater') continue;
      const [z, zero] = mask.owner!.inputs;
      const [x, dy] = pg.inputs;
      if (z !== x || scalarValue(zero) !== 0) continue;
      // one dtype throughout: the kernel neither converts its inputs nor its result
      if (grad.dtype !== out.dtype || x.dtype !== out.dtype || dy.dtype !== out.dtype) continue;
      return applyOp1(new MaxPool2dGradRelu(pg.op.opts), [x, dy]);
    }
    return null;
  },
});
