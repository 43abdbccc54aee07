// Elementwise fusion: chains of elementwise nodes become one FusedElemwise node, evaluated by the
// native ELEMWISE bytecode in one pass over cache-sized blocks.  Scalar constants become CONST
// micro-ops.  A producer is fused into its consumer when both compute in the same dtype and the
// consumer is its only client; when it has other clients too (Adam's m feeds both its own update
// and the parameter's), it is fused all the same and its value becomes an extra output of the
// program, provided every output has the same known shape.
import { isSizeExpr } from '../../graph/ops/shape-values';
import { DType } from '../../dtype';
import { EW, EW_INFO, Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { EwBuilder, EwProgram, EwReg, ewAttrs } from '../../tensor/ew-builder';
import { broadcastDims, elementwiseTargets } from '../../graph/dims';
import { Elemwise } from '../../graph/ops/elemwise';
import { Apply, Constant, Op, VarType, Variable } from '../../graph/variable';
import { rebuild } from '../../graph/traverse';
import { FunctionGraph } from '../../graph/fgraph';
import { globalRewrite } from '../../graph/rewrite';

const LABEL_MAX = 2000;

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
  override broadcastTargets(inputs: VarType[], outputs: VarType[]) {
    return elementwiseTargets(inputs, outputs);
  }
  lower<V extends Val>(em: Emitter<V>, inputs: V[]): V[] {
    const shapes = inputs.map((v) => v.shape);
    const outShape = broadcastDims(this.name, shapes) as number[];
    const { iattr, fattr } = ewAttrs(this.prog, this.ctype);
    return em.emit(this.label(), NativeOp.ELEMWISE, inputs, this.outs.map((dtype) => ({ dtype, shape: outShape.slice() })), iattr, fattr);
  }
  /**
   * e.g. "fused{tanh(add(mul(i0,i1),i2))}".  Built op by op (programs may be thousands of ops
   * deep); a subexpression longer than LABEL_MAX characters is shown as "name(…)".
   */
  label(): string {
    const expr = new Map<number, string>();
    const get = (r: number) => (r < this.prog.nIn ? `i${r}` : expr.get(r) ?? `r${r}`);
    this.prog.ops.forEach(([code, dst, a, b, c], k) => {
      const info = EW_INFO[code];
      const s = code === EW.CONST ? String(this.prog.params[k][0]) : `${info.name}(${[a, b, c].slice(0, info.arity).map(get).join(',')})`;
      expr.set(dst, s.length > LABEL_MAX ? `${info.name}(…)` : s);
    });
    return `fused{${this.prog.outs.map(get).join('; ')}}`;
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
  if (!(node.op instanceof Elemwise) || isSizeExpr(node.outputs[0])) return null;
  const e = node.op.elementwise()!;
  const inline = node.inputs.map((v) => v instanceof Constant && v.ndim === 0 && !v.value.isDisposed);
  if (inline.every(Boolean)) inline[0] = false; // keep one tensor input
  const inputs = node.inputs.filter((_, i) => !inline[i]);
  const b = new EwBuilder(node.op.ctype);
  const inRegs = node.inputs.map((_, i) => (inline[i] ? null : b.input()));
  const regs = node.inputs.map((v, i) => inRegs[i] ?? b.constant(Number((v as Constant).value.dataSync()[0])));
  b.output(b.op(e.code, regs, e.p0, e.p1));
  return { prog: b.program(), inputs, ctype: node.op.ctype, outs: [node.op.out] };
}

/** A producer absorbed into a group: its program, its outputs and which of them stay outputs. */
interface Absorbed {
  p: Program;
  pOuts: Variable[];
  keep: boolean[];
}

/**
 * The consumer program n with the producers it absorbed (in the order absorbed, each reading
 * the group's inputs or producers absorbed after it) computed in the same program: the
 * producers' ops last-absorbed first, then n's.  Outputs: n's, then each producer's kept ones in
 * the order absorbed.  `inputs` are the group's inputs, in register order.
 */
function compose(n: Program, absorbed: Absorbed[], inputs: Variable[]): Program {
  const b = new EwBuilder(n.ctype);
  const regOf = new Map<Variable, EwReg>(inputs.map((v) => [v, b.input()]));
  const kept: EwReg[][] = [];
  for (let k = absorbed.length - 1; k >= 0; k--) {
    const { p, pOuts, keep } = absorbed[k];
    // every read of a producer value (mul(d, d) reads it twice) comes from its register
    const regs = b.inline(p.prog, p.inputs.map((v) => regOf.get(v)!));
    pOuts.forEach((v, j) => regOf.set(v, regs[j]));
    kept[k] = regs.filter((_, j) => keep[j]);
  }
  b.inline(n.prog, n.inputs.map((v) => regOf.get(v)!)).forEach((r) => b.output(r));
  kept.forEach((regs) => regs.forEach((r) => b.output(r)));
  return {
    prog: b.program(),
    inputs,
    ctype: n.ctype,
    outs: [...n.outs, ...absorbed.flatMap(({ p, keep }) => p.outs.filter((_, j) => keep[j]))],
  };
}

/** The fused node, located where the user built the node it replaces (`trace`). */
function fusedNode(x: Program, trace: string): Variable[] {
  return rebuild(new FusedElemwise(x.prog, x.ctype, x.outs), x.inputs, trace);
}

/** Fully known and equal static shapes. */
function sameKnownShape(a: Variable, b: Variable): boolean {
  return a.ndim === b.ndim && a.staticShape.every((d, i) => d !== null && d === b.staticShape[i]);
}

/** Topological positions: a fused node takes the position of the consumer it replaces. */
type Positions = Map<Apply, number>;

/**
 * Whether one of `targets` is an ancestor of n.  Only nodes placed between the earliest target
 * and n can lie on such a path, so the walk stops below that position.
 */
function feedsInto(targets: Apply[], n: Apply, pos: Positions): boolean {
  const at = pos.get(n)!;
  const cands = targets.filter((t) => pos.get(t)! < at);
  if (!cands.length) return false;
  const want = new Set(cands);
  const lo = Math.min(...cands.map((t) => pos.get(t)!));
  const seen = new Set<Apply>();
  const stack = n.inputs.map((v) => v.owner).filter((o): o is Apply => !!o);
  while (stack.length) {
    const a = stack.pop()!;
    if (seen.has(a)) continue;
    seen.add(a);
    if (want.has(a)) return true;
    if (pos.get(a)! <= lo) continue;
    for (const v of a.inputs) if (v.owner) stack.push(v.owner);
  }
  return false;
}

/** Replaces node's outputs, then the kept producer outputs, by the fused node's; returns it. */
function install(fg: FunctionGraph, node: Apply, kept: Variable[], x: Program): Apply {
  const fused = fusedNode(x, node.trace);
  node.outputs.forEach((o, k) => fg.replace(o, fused[k], 'elementwiseFusion', false));
  kept.forEach((v, k) => fg.replace(v, fused[node.outputs.length + k], 'elementwiseFusion', false));
  return fused[0].owner!;
}

interface SweepState {
  pos: Positions;
  /** A fusion moved a kept value's reader ahead of the fused node: positions need recomputing. */
  stale: boolean;
  /** Programs of unfused elementwise nodes, built once per sweep. */
  programs: Map<Apply, Program | null>;
}

/**
 * Consumers first (reverse topological order): each node not yet absorbed grows a group by
 * taking in producers one at a time — the first input, in the group's input order, whose
 * producer fits — until none fits, and the group becomes one fused node, its program built once.
 * Sweeps repeat until one fuses nothing.  Each sweep is linear in the graph (plus one re-sort
 * when a fusion puts a kept value's reader ahead of the fused node).
 */
export const elementwiseFusion = globalRewrite({
  name: 'elementwiseFusion',
  fn(fg: FunctionGraph): boolean {
    let changed = false;
    for (let sweep = 0; sweep < 100; sweep++) {
      const order = fg.nodes();
      const state: SweepState = { pos: positions(fg), stale: false, programs: new Map() };
      let fused = false;
      for (let i = order.length - 1; i >= 0; i--) if (fg.has(order[i]) && fuseGroup(fg, order[i], state)) fused = true;
      if (!fused) break;
      changed = true;
    }
    return changed;
  },
});

function positions(fg: FunctionGraph): Positions {
  return new Map(fg.nodes().map((n, i) => [n, i]));
}

function cachedProgram(node: Apply, state: SweepState): Program | null {
  let p = state.programs.get(node);
  if (p === undefined) state.programs.set(node, (p = programOf(node)));
  return p;
}

/**
 * Grows the group of `root` (see elementwiseFusion) and installs it.  A producer joins when it
 * computes in the group's dtype; outputs it has that something outside the group reads stay
 * outputs of the program, provided every output has the same known shape and no outside reader
 * of them feeds the group (that would make a cycle).  Returns whether the graph changed.
 */
function fuseGroup(fg: FunctionGraph, root: Apply, state: SweepState): boolean {
  const n = cachedProgram(root, state);
  if (!n) return false;
  const members = new Set<Apply>([root]);
  const absorbed: Absorbed[] = [];
  const keptVars: Variable[] = [];
  const outside = (c: { node: Apply | 'output' }) => c.node === 'output' || !members.has(c.node);
  let inputs = n.inputs;
  for (let grown = true; grown; ) {
    grown = false;
    for (const v of inputs) {
      const pnode = v.owner;
      if (!pnode || members.has(pnode)) continue;
      const p = cachedProgram(pnode, state);
      if (!p || p.ctype !== n.ctype) continue;
      const keep = pnode.outputs.map((o) => fg.clientsOf(o).some(outside));
      const kept = pnode.outputs.filter((_, k) => keep[k]);
      if (kept.length) {
        if (![...root.outputs, ...keptVars, ...kept].every((o) => sameKnownShape(o, v))) continue;
        const readers = kept.flatMap((o) => fg.clientsOf(o).flatMap((c) => (c.node !== 'output' && !members.has(c.node) ? [c.node] : [])));
        if (readers.length && state.stale) Object.assign(state, { pos: positions(fg), stale: false });
        if (feedsInto(readers, root, state.pos)) continue;
      }
      members.add(pnode);
      absorbed.push({ p, pOuts: pnode.outputs, keep });
      keptVars.push(...kept);
      // the group's inputs: its own but the producer's values, then the producer's new ones
      const next = new Set(inputs.filter((u) => !pnode.outputs.includes(u)));
      p.inputs.forEach((u) => next.add(u));
      inputs = [...next];
      grown = true;
      break;
    }
  }
  // a lone elementwise node with inlinable constants still becomes one program
  if (!absorbed.length && !(root.op instanceof Elemwise && n.inputs.length < root.inputs.length)) return false;
  // the history has one step per producer absorbed (or the lone node whose constants were inlined)
  for (const { pOuts } of absorbed.length ? absorbed : [{ pOuts: root.outputs }]) fg.record('elementwiseFusion', pOuts[0]);
  const at = state.pos.get(root)!;
  const fused = install(fg, root, keptVars, absorbed.length ? compose(n, absorbed, inputs) : n);
  state.pos.set(fused, at);
  // readers of kept values now read the fused node: placed before it, the positions are stale
  const moved = fused.outputs.slice(root.outputs.length).flatMap((o) => fg.clientsOf(o));
  if (moved.some((c) => c.node !== 'output' && state.pos.get(c.node)! < at)) state.stale = true;
  // the readers now read the fused node: programs built from their old inputs are out of date
  for (const o of fused.outputs) for (const c of fg.clientsOf(o)) if (c.node !== 'output') state.programs.delete(c.node);
  return true;
}
