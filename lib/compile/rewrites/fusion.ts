// Elementwise fusion: chains of elementwise nodes become one FusedElemwise node, evaluated by the
// native ELEMWISE bytecode in one pass over cache-sized blocks.  Scalar constants become CONST
// micro-ops.  A producer is fused into its consumer when both compute in the same dtype and the
// consumer is its only client; when it has other clients too (Adam's m feeds both its own update
// and the parameter's), it is fused all the same and its value becomes an extra output of the
// program, provided every output has the same known shape.
import { DType } from '../../dtype';
import { DTYPE_CODE } from '../../dtype';
import { EW, EW_INFO, Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { broadcastDims } from '../../graph/dims';
import { Elemwise } from '../../graph/ops/elemwise';
import { Apply, Constant, Op, VarType, Variable, applyOp, peekNextId } from '../../graph/variable';
import { FunctionGraph } from '../../graph/fgraph';
import { globalRewrite, inheritTrace } from '../../graph/rewrite';

/** A micro-op program over registers: inputs first, then each op's destination. */
export interface EwProgram {
  nIn: number;
  ops: [number, number, number, number, number][];
  params: [number, number][];
  /** Registers the outputs are read from. */
  outs: number[];
}

export class FusedElemwise extends Op {
  readonly name = 'fused';
  constructor(
    readonly prog: EwProgram,
    readonly ctype: DType,
    /** One dtype per output. */
    readonly outs: DType[],
  ) {
    super();
  }
  override props() {
    return [this.prog, this.ctype, this.outs];
  }
  infer(inputs: VarType[]): VarType[] {
    const shape = broadcastDims(this.name, inputs.map((i) => i.shape));
    return this.outs.map((dtype) => ({ dtype, shape }));
  }
  lower<V extends Val>(em: Emitter<V>, inputs: V[]): V[] {
    const shapes = inputs.map((v) => v.shape);
    const outShape = broadcastDims(this.name, shapes) as number[];
    const iattr = [DTYPE_CODE[this.ctype === 'bool' ? 'int32' : this.ctype], this.prog.ops.length, ...this.prog.ops.flat(), ...this.prog.outs];
    return em.emit(this.label(), NativeOp.ELEMWISE, inputs, this.outs.map((dtype) => ({ dtype, shape: outShape.slice() })), iattr, this.prog.params.flat());
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
    return `fused{${this.prog.outs.map(expr).join('; ')}}`;
  }
}

interface Program {
  prog: EwProgram;
  inputs: Variable[];
  ctype: DType;
  outs: DType[];
}

/** The program of an elementwise node, with rank-0 constants inlined. */
function programOf(node: Apply): Program | null {
  if (node.op instanceof FusedElemwise) return { prog: node.op.prog, inputs: node.inputs.slice(), ctype: node.op.ctype, outs: node.op.outs };
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
  return { prog: { nIn: inputs.length, ops, params, outs: [next] }, inputs, ctype: node.op.ctype, outs: [node.op.out] };
}

/**
 * Consumer program n with the values it reads from the producer (outputs `pOuts` of p, whose
 * program is pp) computed in the same program.  The producer outputs flagged in `keep` stay
 * outputs, after n's.
 */
function compose(pp: Program, pOuts: Variable[], n: Program, keep: boolean[]): Program {
  const inputs: Variable[] = [];
  const idx = (v: Variable) => {
    let i = inputs.indexOf(v);
    if (i < 0) i = inputs.push(v) - 1;
    return i;
  };
  n.inputs.forEach((v) => !pOuts.includes(v) && idx(v));
  pp.inputs.forEach((v) => idx(v));
  const ops: EwProgram['ops'] = [];
  const params: EwProgram['params'] = [];
  let next = inputs.length;
  const pMap = new Map<number, number>(pp.inputs.map((v, k) => [k, inputs.indexOf(v)]));
  pp.prog.ops.forEach(([code, dst, a, b, c], k) => {
    const r = (x: number) => pMap.get(x) ?? x;
    pMap.set(dst, next);
    ops.push([code, next++, r(a), r(b), r(c)]);
    params.push(pp.prog.params[k]);
  });
  const pRegs = pp.prog.outs.map((r) => pMap.get(r)!);
  // every read of a producer value (mul(d, d) reads it twice) comes from its register
  const nMap = new Map<number, number>(n.inputs.map((v, k) => [k, pOuts.includes(v) ? pRegs[pOuts.indexOf(v)] : inputs.indexOf(v)]));
  n.prog.ops.forEach(([code, dst, a, b, c], k) => {
    const r = (x: number) => nMap.get(x) ?? x;
    nMap.set(dst, next);
    ops.push([code, next++, r(a), r(b), r(c)]);
    params.push(n.prog.params[k]);
  });
  const outs = n.prog.outs.map((r) => nMap.get(r)!);
  return {
    prog: { nIn: inputs.length, ops, params, outs: [...outs, ...pRegs.filter((_, k) => keep[k])] },
    inputs,
    ctype: n.ctype,
    outs: [...n.outs, ...pp.outs.filter((_, k) => keep[k])],
  };
}

function fusedNode(x: Program): Variable[] {
  return applyOp(new FusedElemwise(x.prog, x.ctype, x.outs), x.inputs);
}

/** Fully known and equal static shapes. */
function sameKnownShape(a: Variable, b: Variable): boolean {
  return a.ndim === b.ndim && a.shape.every((d, i) => d !== null && d === b.shape[i]);
}

/** Nodes n depends on (n excluded). */
function ancestors(n: Apply): Set<Apply> {
  const seen = new Set<Apply>();
  const stack = n.inputs.map((v) => v.owner).filter((o): o is Apply => !!o);
  while (stack.length) {
    const a = stack.pop()!;
    if (seen.has(a)) continue;
    seen.add(a);
    for (const v of a.inputs) if (v.owner) stack.push(v.owner);
  }
  return seen;
}

/** Replaces node's outputs, then the kept producer outputs, by the fused node's. */
function install(fg: FunctionGraph, node: Apply, kept: Variable[], x: Program): void {
  const mark = peekNextId();
  const fused = fusedNode(x);
  inheritTrace(fused[0], mark, node.trace);
  node.outputs.forEach((o, k) => fg.replace(o, fused[k], 'elementwiseFusion'));
  kept.forEach((v, k) => fg.replace(v, fused[node.outputs.length + k], 'elementwiseFusion'));
}

export const elementwiseFusion = globalRewrite({
  name: 'elementwiseFusion',
  fn(fg: FunctionGraph): boolean {
    let changed = false;
    for (let guard = 0; guard < 10000; guard++) {
      if (!fuseOnce(fg)) break;
      changed = true;
    }
    return changed;
  },
});

function fuseOnce(fg: FunctionGraph): boolean {
  const clients = fg.clients();
  for (const node of fg.nodes()) {
    const n = programOf(node);
    if (!n) continue;
    for (const v of node.inputs) {
      const pnode = v.owner;
      if (!pnode || !n.inputs.includes(v)) continue; // not a node, or an inlined constant
      const p = programOf(pnode);
      if (!p || p.ctype !== n.ctype) continue;
      // producer outputs read elsewhere stay outputs of the fused program
      const keep = pnode.outputs.map((o) => (clients.get(o) ?? []).some((c) => c.node !== node));
      const kept = pnode.outputs.filter((_, k) => keep[k]);
      if (kept.length) {
        // one known shape for every output, and no other client of a kept value feeding this
        // node (that would make a cycle)
        if (![...node.outputs, ...kept].every((o) => sameKnownShape(o, v))) continue;
        const before = ancestors(node);
        if (kept.some((o) => (clients.get(o) ?? []).some((c) => c.node !== node && c.node !== 'output' && before.has(c.node)))) continue;
      }
      install(fg, node, kept, compose(p, pnode.outputs, n, keep));
      return true;
    }
    // a lone elementwise node with inlinable constants still becomes one program
    if (node.op instanceof Elemwise && n.inputs.length < node.inputs.length) {
      install(fg, node, [], n);
      return true;
    }
  }
  return false;
}
