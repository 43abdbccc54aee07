// GEMM epilogue: act(matmul(a, b) + bias) computed by one native instruction (bias and
// activation applied while the product is still in cache).
import { fmtShape, shapeError } from '../../errors';
import { Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { MatMul } from '../../graph/ops/linalg';
import { Apply, Op, VarType, Variable, applyOp1 } from '../../graph/variable';
import { register } from '../rewrite';
import { ewName } from './util';
import { FunctionGraph } from '../fgraph';

const ACTS: Record<string, number> = { relu: 1, sigmoid: 2, tanh: 3 };
const ACT_NAMES = ['', 'relu', 'sigmoid', 'tanh'];

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
  lower<V extends Val>(em: Emitter<V>, [a, b, bias]: V[]): V[] {
    const m = this.transA ? a.shape[1] : a.shape[0];
    const n = this.transB ? b.shape[0] : b.shape[1];
    return em.emit(`matmul+bias${this.act ? '+' + ACT_NAMES[this.act] : ''}`, NativeOp.MATMUL_BIAS_ACT, [a, b, bias], [{ dtype: a.dtype, shape: [m, n] }], [this.transA ? 1 : 0, this.transB ? 1 : 0, this.act]);
  }
}

function singleClient(v: Variable, fg: FunctionGraph | null): boolean {
  if (!fg) return false;
  const c = fg.clients().get(v) ?? [];
  return c.length === 1 && c[0].node !== 'output';
}

/** add(matmul(a, b), bias) with a 1-D bias (or [1, n]) over a 2-D product. */
function matchBiasAdd(add: Variable, fg: FunctionGraph | null): [Apply, Variable] | null {
  if (ewName(add) !== 'add') return null;
  const [x, y] = add.owner!.inputs;
  for (const [mm, bias] of [[x, y], [y, x]] as const) {
    const node = mm.owner;
    if (!node || !(node.op instanceof MatMul) || mm.ndim !== 2 || node.inputs.some((v) => v.ndim !== 2)) continue;
    if (bias.dtype !== mm.dtype || add.dtype !== mm.dtype || node.inputs.some((v) => v.dtype !== mm.dtype) || !singleClient(mm, fg)) continue;
    // the bias must span the columns: a static size of 1 would broadcast, which the kernel does not
    const bn = bias.shape[0], n = mm.shape[1];
    if (bias.ndim === 1 && (bn === n || (bn === null && n !== 1) || (n === null && bn !== 1 && bn !== null))) return [node, bias];
  }
  return null;
}

export const gemmEpilogue = register({
  name: 'gemmEpilogue',
  tags: ['specialize'],
  fn(node, fg) {
    const name = ewName(node);
    let act = 0;
    let addVar = node.outputs[0];
    if (name && ACTS[name] !== undefined) {
      act = ACTS[name];
      addVar = node.inputs[0];
      if (!singleClient(addVar, fg)) return null;
    } else if (name !== 'add') return null;
    else {
      // leave add(matmul, bias) to its activation when one follows
      const c = fg?.clients().get(addVar) ?? [];
      if (c.length === 1 && c[0].node !== 'output' && ACTS[ewName(c[0].node) ?? ''] !== undefined) return null;
    }
    const m = matchBiasAdd(addVar, fg);
    if (!m) return null;
    const [mm, bias] = m;
    const op = mm.op as MatMul;
    const out = applyOp1(new MatMulBiasAct(op.transA, op.transB, act), [mm.inputs[0], mm.inputs[1], bias]);
    return out.dtype === node.outputs[0].dtype ? out : null;
  },
});
