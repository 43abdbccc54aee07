// ifelse (lazy: only the taken branch runs) and stopGradient.
import { upcast } from '../../dtype';
import { shapeError, fmtShape, SymtensorError } from '../../errors';
import type { Emitter, Val } from '../../tensor/emitter';
import { eager } from '../../tensor/emitter';
import { Tensor } from '../../tensor/tensor';
import { castWith } from '../../tensor/elementwise';
import { Apply, Dim, Op, VarType, Variable, applyOp1 } from '../variable';
import { ew } from './elemwise';

export class IfElse extends Op {
  readonly name = 'ifelse';
  infer([c, a, b]: VarType[]): VarType[] {
    if (c.shape.some((d) => d !== null && d !== 1)) throw shapeError(this.name, `condition must be a scalar (one element), got ${fmtShape(c.shape)}`);
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== null && b.shape[i] !== null && d !== b.shape[i]))
      throw shapeError(this.name, `branches must have one shape, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    const shape: Dim[] = a.shape.map((d, i) => (d !== null && d === b.shape[i] ? d : null));
    return [{ dtype: a.dtype === b.dtype ? a.dtype : upcast(a.dtype, b.dtype), shape }];
  }
  override get lazy() {
    return true;
  }
  /** Only used eagerly (constant folding); compiled programs branch with JUMP_IF_FALSE. */
  lower<V extends Val>(em: Emitter<V>, [c, a, b]: V[], node: Apply): V[] {
    if ((em as unknown) !== eager) throw new SymtensorError('ERR_ST_INTERNAL', this.name, 'ifelse is lowered by the program builder');
    const taken = (c as unknown as Tensor).dataSync()[0] !== 0 ? a : b;
    if (taken.shape.length !== node.outputs[0].ndim) throw shapeError(this.name, `branch shape ${fmtShape(taken.shape)} does not fit`);
    return [castWith(em, taken, node.outputs[0].dtype)]; // a copy in the output dtype
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null, null, null];
    const [c] = node.inputs;
    const zero = ew('mul', [gz, 0]);
    return [null, applyOp1(new IfElse(), [c, gz, zero]), applyOp1(new IfElse(), [c, zero, gz])];
  }
}

/** Identity whose gradient is zero (removed from the graph after gradients are built). */
export class StopGradient extends Op {
  readonly name = 'stopGradient';
  infer([x]: VarType[]): VarType[] {
    return [x];
  }
  lower<V extends Val>(_em: Emitter<V>, [x]: V[]): V[] {
    return [x];
  }
  override grad() {
    return [null];
  }
}
