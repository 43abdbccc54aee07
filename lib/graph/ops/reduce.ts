// Reductions, argmax/argmin and the size-of helper used by mean's gradient.
import { DType, isFloat } from '../../dtype';
import { argError } from '../../errors';
import { Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { ReduceOp, argReduceWith, reduceDtype, reduceWith, reducedShape } from '../../tensor/reduction';
import { sizeOf } from '../../tensor/shape-util';
import { Apply, Op, VarType, Variable, applyOp1 } from '../variable';
import { ew } from './elemwise';
import { BroadcastLike, DimShuffle } from './shape';

export class Reduce extends Op {
  readonly name: string;
  constructor(readonly rop: ReduceOp, readonly axes: number[], readonly keepDims: boolean) {
    super();
    this.name = rop;
  }
  override props() {
    return [this.axes, this.keepDims];
  }
  infer([x]: VarType[]): VarType[] {
    checkAxes(this.name, this.axes, x.shape.length);
    return [{ dtype: reduceDtype(this.rop, x.dtype), shape: reducedShape(x.shape as number[], this.axes, this.keepDims) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [reduceWith(em, this.rop, x, this.axes, this.keepDims)];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]): (Variable | null)[] {
    const x = node.inputs[0];
    const z = node.outputs[0];
    if (!gz || !isFloat(x.dtype)) return [null];
    const keep = (v: Variable) => (this.keepDims ? v : keepDimsOf(v, x.ndim, this.axes));
    const spread = (v: Variable) => applyOp1(new BroadcastLike(), [keep(v), x]);
    switch (this.rop) {
      case 'sum':
        return [spread(gz)];
      case 'mean':
        return [ew('div', [spread(gz), applyOp1(new SizeOf(this.axes, x.dtype), [x])])];
      case 'prod': {
        // the product of the other elements, exact with zeros: z/x when none is zero; the
        // product of the nonzeros at the single zero when one is; 0 everywhere when several are
        const nz = ew('notEqual', [x, 0]);
        const safe = ew('where', [nz, x, 1]);
        const pNonzero = applyOp1(new Reduce('prod', this.axes, true), [safe]);
        const zeros = applyOp1(new Reduce('sum', this.axes, true), [ew('logicalNot', [nz])]);
        const others = ew('where', [ew('equal', [zeros, 0]), ew('div', [pNonzero, safe]), ew('where', [ew('logicalAnd', [ew('equal', [zeros, 1]), ew('logicalNot', [nz])]), pNonzero, 0])]);
        return [ew('mul', [spread(gz), others])];
      }
      case 'max':
      case 'min': {
        // tied extremes share gz equally (as PyTorch and TensorFlow do), so the gradient sums to gz
        // and max(stack([x, x])) has slope 1, not 2; a NaN extreme matches nothing and gets 0
        const hit = ew('equal', [x, keep(z)]);
        const ties = applyOp1(new Reduce('sum', this.axes, true), [hit]);
        return [ew('div', [ew('mul', [spread(gz), hit]), ew('maximum', [ties, 1])])];
      }
      default:
        return [null];
    }
  }
}

function checkAxes(op: string, axes: number[], rank: number): void {
  for (const a of axes) if (!Number.isInteger(a) || a < 0 || a >= rank) throw argError(op, `axis ${a} is out of range for a tensor of rank ${rank}`);
}

/** v (x reduced over axes without keepDims) with the reduced axes put back as size 1. */
export function keepDimsOf(v: Variable, rank: number, axes: number[]): Variable {
  const pattern: (number | 'x')[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) pattern.push(axes.includes(i) ? 'x' : k++);
  return applyOp1(new DimShuffle(pattern), [v]);
}

/** The number of elements over `axes` of x, as a scalar of dtype (known once shapes are). */
export class SizeOf extends Op {
  readonly name = 'sizeOf';
  constructor(readonly axes: number[], readonly dtype: DType) {
    super();
  }
  override props() {
    return [this.axes, this.dtype];
  }
  infer(): VarType[] {
    return [{ dtype: this.dtype, shape: [] }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    const n = sizeOf(this.axes.map((a) => x.shape[a]));
    return em.emit(this.name, NativeOp.FILL, [], [{ dtype: this.dtype, shape: [] }], [], [n]);
  }
  override grad() {
    return [null];
  }
}

export class ArgReduce extends Op {
  readonly name: string;
  constructor(readonly which: 'argmax' | 'argmin', readonly axis: number, readonly keepDims: boolean) {
    super();
    this.name = which;
  }
  override props() {
    return [this.axis, this.keepDims];
  }
  infer([x]: VarType[]): VarType[] {
    checkAxes(this.name, [this.axis], x.shape.length);
    return [{ dtype: 'int32', shape: reducedShape(x.shape as number[], [this.axis], this.keepDims) }];
  }
  lower<V extends Val>(em: Emitter<V>, [x]: V[]): V[] {
    return [argReduceWith(em, this.which, x, this.axis, this.keepDims)];
  }
  override grad() {
    return [null];
  }
}
