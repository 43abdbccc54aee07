// Elementwise fusion: chains of elementwise nodes become one FusedElemwise node, evaluated by the
// native ELEMWISE bytecode in one pass over cache-sized blocks.  Scalar constants become CONST
// micro-ops.  A producer is fused into its consumer when the consumer is its only client and both
// compute in the same dtype.
import { DType } from '../../dtype';
import { DTYPE_CODE } from '../../dtype';
import { EW, EW_INFO, Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { broadcastDims } from '../../graph/dims';
import { Elemwise } from '../../graph/ops/elemwise';
import { Apply, Constant, Op, VarType, Variable, applyOp1, peekNextId } from '../../graph/variable';
import { FunctionGraph } from '../fgraph';
import { inheritTrace, registerGlobal } from '../rewrite';

/** A micro-op program over registers: inputs first, then each op's destination. */
export interface EwProgram {
  nIn: number;
  ops: [number, number, number, number, number][];
  params: [number, number][];
  out: number;
}

export class FusedElemwise extends Op {
  readonly name = 'fused';
  constructor(
    readonly prog: EwProgram,
    readonly ctype: DType,
    readonly out: DType,
  ) {
    super();
  }
  override props() {
    return [this.prog, this.ctype, this.out];
  }
  infer(inputs: VarType[]): VarType[] {
    return [{ dtype: this.out, shape: broadcastDims(this.name, inputs.map((i) => i.shape)) }];
  }
  lower<V extends Val>(em: Emitter<V>, inputs: V[]): V[] {
    const shapes = inputs.map((v) => v.shape);
    const outShape = broadcastDims(this.name, shapes) as number[];
    const iattr = [DTYPE_CODE[this.ctype === 'bool' ? 'int32' : this.ctype], this.prog.ops.length, ...this.prog.ops.flat(), this.prog.out];
    return em.emit(this.label(), NativeOp.ELEMWISE, inputs, [{ dtype: this.out, shape: outShape }], iattr, this.prog.params.flat());
  }
  /** e.g. "fused{tanh(add(mul(i0,i1),i2))}" */
  label(): string {
    const expr = (r: number): string => {
      if (r < this.prog.nIn) return `i${r}`;
      const k = this.prog.ops.findIndex((o) => o[1] === r);
      const [code, , a, b, c] = this.prog.ops[k];
      const info = EW_INFO[code];
      if (code === EW.CONST) return String(this.prog.params[k][0]);
      return `${info.name}(${[a, b, c].slice(0, info.arity).map(expr).join(',')})`;
    };
    return `fused{${expr(this.prog.out)}}`;
  }
}

/** The program of a single elementwise node, with rank-0 constants inlined. */
function programOf(node: Apply): { prog: EwProgram; inputs: Variable[]; ctype: DType; out: DType } | null {
  if (node.op instanceof FusedElemwise) return { prog: node.op.prog, inputs: node.inputs.slice(), ctype: node.op.ctype, out: node.op.out };
  if (!(node.op instanceof Elemwise)) return null;
  const e = node.op.elementwise()!;
  const inline = node.inputs.map((v) => v instanceof Constant && v.ndim === 0 && !v.value.isDisposed);
  if (inline.every(Boolean)) inline[0] = false; // keep one tensor input
  const inputs = node.inputs.filter((_, i) => !inline[i]);
  const ops: EwProgram['ops'] = [];
  const params: EwProgram['params'] = [];
  let next = inputs.length;
  let ti = 0;
  const regs = node.inputs.map((v, i) => {
    if (!inline[i]) return ti++;
    ops.push([EW.CONST, next, 0, 0, 0]);
    params.push([Number((v as Constant).value.dataSync()[0]), 0]);
    return next++;
  });
  ops.push([e.code, next, regs[0] ?? 0, regs[1] ?? 0, regs[2] ?? 0]);
  params.push([e.p0, e.p1]);
  return { prog: { nIn: inputs.length, ops, params, out: next }, inputs, ctype: node.op.ctype, out: node.op.out };
}

/** Consumer program with its input `which` replaced by the producer's program. */
function compose(p: ReturnType<typeof programOf> & object, n: ReturnType<typeof programOf> & object, which: number) {
  const inputs: Variable[] = [];
  const idx = (v: Variable) => {
    let i = inputs.indexOf(v);
    if (i < 0) i = inputs.push(v) - 1;
    return i;
  };
  n.inputs.forEach((v, j) => j !== which && idx(v));
  p.inputs.forEach((v) => idx(v));
  const ops: EwProgram['ops'] = [];
  const params: EwProgram['params'] = [];
  let next = inputs.length;
  const pMap = new Map<number, number>(p.inputs.map((v, k) => [k, inputs.indexOf(v)]));
  p.prog.ops.forEach(([code, dst, a, b, c], k) => {
    const r = (x: number) => pMap.get(x) ?? x;
    pMap.set(dst, next);
    ops.push([code, next++, r(a), r(b), r(c)]);
    params.push(p.prog.params[k]);
  });
  const nMap = new Map<number, number>(n.inputs.map((v, k) => [k, k === which ? pMap.get(p.prog.out)! : inputs.indexOf(v)]));
  n.prog.ops.forEach(([code, dst, a, b, c], k) => {
    const r = (x: number) => nMap.get(x) ?? x;
    nMap.set(dst, next);
    ops.push([code, next++, r(a), r(b), r(c)]);
    params.push(n.prog.params[k]);
  });
  // rewrite register numbers so unused-arity slots stay in range
  return { prog: { nIn: inputs.length, ops, params, out: nMap.get(n.prog.out)! }, inputs, ctype: n.ctype, out: n.out };
}

function fusedNode(x: NonNullable<ReturnType<typeof programOf>>): Variable {
  return applyOp1(new FusedElemwise(x.prog, x.ctype, x.out), x.inputs);
}

export const elementwiseFusion = registerGlobal({
  name: 'elementwiseFusion',
  tags: ['fusion'],
  fn(fg: FunctionGraph): boolean {
    let changed = false;
    for (let guard = 0; guard < 10000; guard++) {
      const clients = fg.clients();
      let did = false;
      for (const node of fg.nodes()) {
        const n = programOf(node);
        if (!n) continue;
        for (let i = 0; i < node.inputs.length && !did; i++) {
          const v = node.inputs[i];
          const pnode = v.owner;
          if (!pnode || pnode.outputs.length !== 1) continue;
          const p = programOf(pnode);
          const cl = clients.get(v) ?? [];
          if (!p || p.ctype !== n.ctype || cl.length !== 1 || cl[0].node !== node) continue;
          const which = n.inputs.indexOf(v);
          if (which < 0) continue; // v was an inlined constant
          const mark = peekNextId();
          const fused = fusedNode(compose(p, n, which));
          inheritTrace(fused, mark, node.trace);
          fg.replace(node.outputs[0], fused, 'elementwiseFusion');
          did = true;
        }
        if (did) break;
        // a lone elementwise node with inlinable constants still becomes one program
        if (node.op instanceof Elemwise && n.inputs.length < node.inputs.length) {
          const mark = peekNextId();
          const fused = fusedNode(n);
          inheritTrace(fused, mark, node.trace);
          fg.replace(node.outputs[0], fused, 'elementwiseFusion');
          did = true;
          break;
        }
      }
      if (!did) break;
      changed = true;
    }
    return changed;
  },
});
