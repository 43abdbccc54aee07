// GEMM epilogue: act(matmul(a, b) + bias) computed by one native instruction (bias and
// activation applied while the product is still in cache).
import { fmtShape, shapeError } from '../../errors';
import { EW, Op as NativeOp } from '../../ops.generated';
import { EwBuilder } from '../../tensor/ew-builder';
import { matmulWith } from '../../tensor/linalg';
import type { Emitter, Val } from '../../tensor/emitter';
import { MatMul } from '../../graph/ops/linalg';
import { Op, VarType, Variable, applyOp1 } from '../../graph/variable';
import { localRewrite } from '../../graph/rewrite';
import { ewName, scalarValue } from '../../graph/match';
import { biasActLabel, biasActRewrite, singleClient } from './bias-act';

export class MatMulBiasAct extends Op {
  readonly name = 'matmulBiasAct';
  constructor(readonly transA: boolean, readonly transB: boolean, readonly act: number) {
    super();
  }
  override props() {
    return [this.transA, this.transB, this.act];
  }
  infer([a, b, bias]: VarType[]): VarType[] {
    const [out] = new MatMul(this.transA, this.transB).infer([a, b]);
    if (bias.shape.length !== 1 || (bias.shape[0] !== null && out.shape[1] !== null && bias.shape[0] !== out.shape[1]))
      throw shapeError(this.name, `bias ${fmtShape(bias.shape)} does not fit ${fmtShape(out.shape)}`);
    return [out];
  }
  /** The bias spans the product's columns. */
  override broadcastTargets(_inputs: VarType[], [out]: VarType[]) {
    return [null, null, [out.shape[1]]];
  }
  lower<V extends Val>(em: Emitter<V>, [a, b, bias]: V[]): V[] {
    const m = this.transA ? a.shape[1] : a.shape[0];
    const n = this.transB ? b.shape[0] : b.shape[1];
    return em.emit(biasActLabel('matmul', this.act), NativeOp.MATMUL_BIAS_ACT, [a, b, bias], [{ dtype: a.dtype, shape: [m, n] }], [this.transA ? 1 : 0, this.transB ? 1 : 0, this.act]);
  }
}

export const gemmEpilogue = biasActRewrite(
  'gemmEpilogue',
  (p) => p.owner?.op instanceof MatMul && p.ndim === 2 && p.owner.inputs.every((v) => v.ndim === 2),
  (mm, bias, act) => {
    const op = mm.op as MatMul;
    return applyOp1(new MatMulBiasAct(op.transA, op.transB, act), [mm.inputs[0], mm.inputs[1], bias]);
  },
);

/** beta·c + alpha·op(a)·op(b) for 2-D operands; its output may be written over c (input 0). */
export class GemmAcc extends Op {
  readonly name = 'gemmAcc';
  constructor(readonly transA: boolean, readonly transB: boolean, readonly alpha: number, readonly beta: number) {
    super();
  }
  override props() {
    return [this.transA, this.transB, this.alpha, this.beta];
  }
  infer([c, a, b]: VarType[]): VarType[] {
    const [out] = new MatMul(this.transA, this.transB).infer([a, b]);
    if (c.shape.length !== 2 || c.shape.some((d, i) => d !== null && out.shape[i] !== null && d !== out.shape[i] && out.shape[i] !== 1))
      throw shapeError(this.name, `cannot accumulate ${fmtShape(out.shape)} into ${fmtShape(c.shape)}`);
    return [{ dtype: c.dtype, shape: c.shape.map((d, i) => d ?? out.shape[i]) }];
  }
  lower<V extends Val>(em: Emitter<V>, [c, a, b]: V[]): V[] {
    const m = this.transA ? a.shape[1] : a.shape[0];
    const n = this.transB ? b.shape[0] : b.shape[1];
    if (m !== c.shape[0] || n !== c.shape[1]) {
      // the product broadcasts into c (unknown dims that turned out 1): the unfused computation
      const p = matmulWith(em, a, b, this.transA, this.transB);
      const ew = new EwBuilder(c.dtype);
      const [rc, rp] = [ew.input(), ew.input()];
      ew.output(ew.op(EW.ADD, [ew.op(EW.MUL, [rc, ew.constant(this.beta)]), ew.op(EW.MUL, [rp, ew.constant(this.alpha)])]));
      const { iattr, fattr } = ew.build();
      const out = em.emit('gemmAcc (broadcast)', NativeOp.ELEMWISE, [c, p], [{ dtype: c.dtype, shape: c.shape.slice() }], iattr, fattr);
      em.release(p);
      return out;
    }
    return em.emit(`gemmAcc(${this.beta === 1 ? '' : this.beta + '·'}c ${this.alpha < 0 ? '-' : '+'} ${Math.abs(this.alpha)}·ab)`, NativeOp.GEMM_ACC, [c, a, b], [{ dtype: c.dtype, shape: c.shape.slice() }], [this.transA ? 1 : 0, this.transB ? 1 : 0], [this.alpha, this.beta]);
  }
  override inPlaceInput(): number {
    return 0;
  }
}

/**
 * w ± lr·matmul(a, b) -> one GEMM accumulating into w (alpha = ±lr, beta = 1): an SGD step on a
 * weight matrix costs no pass over the gradient and no temporary; as an update it is written
 * straight into the shared buffer.
 */
export const gemmAccumulate = localRewrite({
  name: 'gemmAccumulate',
  fn(node, fg) {
    const name = ewName(node);
    if (name !== 'add' && name !== 'sub') return null;
    const out = node.outputs[0];
    if (out.ndim !== 2 || (out.dtype !== 'float32' && out.dtype !== 'float64')) return null;
    const [x, y] = node.inputs;
    const tryMatch = (w: Variable, scaled: Variable, sign: number): Variable | null => {
      if (ewName(scaled) !== 'mul' || !singleClient(scaled, fg)) return null;
      const [p, q] = scaled.owner!.inputs;
      const [g, c] = scalarValue(q) !== null ? [p, scalarValue(q)!] : scalarValue(p) !== null ? [q, scalarValue(p)!] : [null, null];
      if (!g || c === null || !g.owner || !(g.owner.op instanceof MatMul) || !singleClient(g, fg)) return null;
      const [a, b] = g.owner.inputs;
      if (a.ndim !== 2 || b.ndim !== 2 || g.dtype !== out.dtype || w.dtype !== out.dtype || a.dtype !== out.dtype || b.dtype !== out.dtype) return null;
      // no broadcasting: w's shape is known and the product's agrees (unknown dims are checked
      // when the function is specialized; a product that would broadcast is an error there)
      if (w.ndim !== 2 || !w.staticShape.every((d, i) => d !== null && (g.staticShape[i] === null || d === g.staticShape[i]))) return null;
      // nor the other way: a size-1 dim of w facing a product dim not known to be 1 may broadcast
      // w up (a [1, n] bias under an [m, n] product), which an accumulation into w cannot express
      if (w.staticShape.some((d, i) => d === 1 && g.staticShape[i] !== 1)) return null;
      const mm = g.owner.op;
      return applyOp1(new GemmAcc(mm.transA, mm.transB, sign * c, 1), [w, a, b]);
    };
    if (name === 'sub') return tryMatch(x, y, -1);
    return tryMatch(x, y, 1) ?? tryMatch(y, x, 1);
  },
});
