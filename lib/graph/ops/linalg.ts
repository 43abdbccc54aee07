// Matrix products.
import { fmtShape, shapeError } from '../../errors';
import type { Emitter, Val } from '../../tensor/emitter';
import { matmulWith } from '../../tensor/linalg';
import { upcast } from '../../dtype';
import { alignRight, broadcastDims } from '../dims';
import { Apply, Op, VarType, Variable, applyOp1 } from '../variable';
import { sumToShape } from './helpers';

/** Batched matrix product of the last two axes (both operands rank >= 2). */
export class MatMul extends Op {
  readonly name = 'matmul';
  constructor(readonly transA: boolean, readonly transB: boolean) {
    super();
  }
  override props() {
    return [this.transA, this.transB];
  }
  infer([a, b]: VarType[]): VarType[] {
    if (a.shape.length < 2 || b.shape.length < 2) throw shapeError(this.name, `operands must have rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    const ra = a.shape.length, rb = b.shape.length;
    const [m, ka] = this.transA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
    const [kb, n] = this.transB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
    if (ka !== null && kb !== null && ka !== kb)
      throw shapeError(this.name, `cannot multiply ${fmtShape(a.shape)}${this.transA ? 'ᵀ' : ''} by ${fmtShape(b.shape)}${this.transB ? 'ᵀ' : ''} (inner dimensions ${ka} and ${kb})`);
    const batch = broadcastDims(this.name, [a.shape.slice(0, -2), b.shape.slice(0, -2)]);
    return [{ dtype: upcast(a.dtype, b.dtype), shape: [...batch, m, n] }];
  }
  /** The batch axes broadcast; the matrix axes never do. */
  override broadcastTargets(inputs: VarType[], [out]: VarType[]) {
    const batch = out.shape.slice(0, -2);
    return inputs.map((v) => [...alignRight(v.shape.length - 2, batch), null, null]);
  }
  lower<V extends Val>(em: Emitter<V>, [a, b]: V[]): V[] {
    return [matmulWith(em, a, b, this.transA, this.transB)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]): (Variable | null)[] {
    if (!gz) return [null, null];
    const [a, b] = node.inputs;
    const mm = (x: Variable, y: Variable, ta: boolean, tb: boolean) => applyOp1(new MatMul(ta, tb), [x, y]);
    let ga: Variable, gb: Variable;
    if (!this.transA && !this.transB) (ga = mm(gz, b, false, true)), (gb = mm(a, gz, true, false));
    else if (this.transA && !this.transB) (ga = mm(b, gz, false, true)), (gb = mm(a, gz, false, false));
    else if (!this.transA && this.transB) (ga = mm(gz, b, false, false)), (gb = mm(gz, a, true, false));
    else (ga = mm(b, gz, true, true)), (gb = mm(gz, a, true, true));
    return [sumToShape(ga, a), sumToShape(gb, b)];
  }
}
