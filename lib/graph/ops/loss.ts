// Softmax cross-entropy from logits, fused: -sum(y * logSoftmax(x), -1), gradient softmax(x)·sum(y) - y.
import type { Emitter, Val } from '../../tensor/emitter';
import { ewCallWith } from '../../tensor/elementwise';
import { reduceWith } from '../../tensor/reduction';
import { softmaxWith } from '../../tensor/nn';
import { alignRight, broadcastDims } from '../dims';
import { EW } from '../../ops.generated';
import { shapeError, fmtShape } from '../../errors';
import { Apply, Op, VarType, Variable, applyOp1 } from '../variable';
import { ew } from './elemwise';
import { Reduce, keepDimsOf } from './reduce';
import { Softmax } from './nn';
import { BroadcastLike } from './shape';
import { sumToShape } from './helpers';

export class CrossEntropySoftmax extends Op {
  readonly name = 'crossEntropySoftmax';
  infer([x, y]: VarType[]): VarType[] {
    if (x.shape.length === 0) throw shapeError(this.name, 'logits need at least one axis');
    const b = broadcastDims(this.name, [x.shape, y.shape]);
    if (b.length !== x.shape.length) throw shapeError(this.name, `labels ${fmtShape(y.shape)} do not fit logits ${fmtShape(x.shape)}`);
    return [{ dtype: x.dtype === 'float64' ? 'float64' : 'float32', shape: x.shape.slice(0, -1) }];
  }
  /** Logits and labels broadcast against each other. */
  override broadcastTargets(inputs: VarType[]) {
    const full = broadcastDims(this.name, inputs.map((v) => v.shape));
    return inputs.map((v) => alignRight(v.shape.length, full));
  }
  lower<V extends Val>(em: Emitter<V>, [x, y]: V[]): V[] {
    const ls = softmaxWith(em, 'logSoftmax', x, x.shape.length - 1);
    const prod = ewCallWith(em, this.name, EW.MUL, [y, ls], ls.dtype, ls.dtype);
    em.release(ls);
    const s = reduceWith(em, 'sum', prod, [x.shape.length - 1], false);
    em.release(prod);
    const out = ewCallWith(em, this.name, EW.NEG, [s], s.dtype, s.dtype);
    em.release(s);
    return [out];
  }
  override grad(node: Apply, [gz]: (Variable | null)[]) {
    if (!gz) return [null, null];
    const [x, y] = node.inputs;
    const last = x.ndim - 1;
    const g = keepDimsOf(gz, x.ndim, [last]);
    const p = applyOp1(new Softmax(false, -1), [x]);
    const yFull = applyOp1(new BroadcastLike(), [y, x]); // labels may broadcast against the logits
    const ySum = applyOp1(new Reduce('sum', [last], true), [yFull]);
    const gx = ew('mul', [g, ew('sub', [ew('mul', [p, ySum]), y])]);
    const gy = ew('neg', [ew('mul', [g, applyOp1(new Softmax(true, -1), [x])])]);
    return [sumToShape(gx, x), sumToShape(gy, y)];
  }
}

/** True when labels y broadcast to the logits' shape without enlarging it. */
export function labelsFit(y: { ndim: number; staticShape: (number | null)[] }, x: { ndim: number; staticShape: (number | null)[] }): boolean {
  if (y.ndim > x.ndim) return false;
  const lead = x.ndim - y.ndim;
  return y.staticShape.every((d, i) => d === 1 || (d !== null && d === x.staticShape[i + lead]) || (d === null && x.staticShape[i + lead] === null));
}
