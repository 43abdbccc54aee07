// FunctionGraph: the graph a function computes, cloned from the user's so rewrites can change it.
import { SymtensorError } from '../errors';
import { Apply, Variable } from './variable';
import { toposort } from './traverse';

export class FunctionGraph {
  inputs: Variable[];
  outputs: Variable[];
  /** Every replacement made, for SYMTENSOR_DEBUG=3 and tests. */
  readonly history: { rewrite: string; node: string }[] = [];

  /** Clones the nodes between inputs and outputs; `givens` substitutes variables first. */
  constructor(inputs: Variable[], outputs: Variable[], givens: Map<Variable, Variable> = new Map()) {
    this.inputs = inputs.slice();
    const map = new Map<Variable, Variable>(givens);
    const clone = (v: Variable): Variable => {
      const hit = map.get(v);
      if (hit) return hit;
      if (!v.owner) return v;
      for (const node of toposort([v])) {
        if (map.has(node.outputs[0])) continue;
        const ins = node.inputs.map((i) => map.get(i) ?? i);
        const outs = new Apply(node.op, ins, node.outputs.map((o) => o.type), node.trace).outputs;
        node.outputs.forEach((o, k) => {
          outs[k].name = o.name;
          map.set(o, outs[k]);
        });
      }
      return map.get(v)!;
    };
    // givens may themselves be expressions: clone them too
    for (const [k, g] of givens) map.set(k, clone(g));
    this.outputs = outputs.map(clone);
  }

  // nodes() and clients() are asked for once per node by the rewrites; both stay valid until the
  // next replace(), the only thing that changes the graph
  private cachedNodes: Apply[] | null = null;
  private cachedClients: Map<Variable, { node: Apply | 'output'; index: number }[]> | null = null;

  /** Nodes in topological order (do not modify the array). */
  nodes(): Apply[] {
    return (this.cachedNodes ??= toposort(this.outputs));
  }

  /** For each variable, the nodes that read it (and 'output' markers). */
  clients(): Map<Variable, { node: Apply | 'output'; index: number }[]> {
    return (this.cachedClients ??= this.computeClients());
  }

  private computeClients(): Map<Variable, { node: Apply | 'output'; index: number }[]> {
    const m = new Map<Variable, { node: Apply | 'output'; index: number }[]>();
    const add = (v: Variable, c: { node: Apply | 'output'; index: number }) => {
      const l = m.get(v);
      if (l) l.push(c);
      else m.set(v, [c]);
    };
    for (const node of this.nodes()) node.inputs.forEach((v, i) => add(v, { node, index: i }));
    this.outputs.forEach((v, i) => add(v, { node: 'output', index: i }));
    return m;
  }

  /** Replaces every use of `old` by `neu` (same dtype and rank). */
  replace(old: Variable, neu: Variable, reason: string): void {
    if (old === neu) return;
    if (old.dtype !== neu.dtype || old.ndim !== neu.ndim)
      throw new SymtensorError('ERR_ST_INTERNAL', reason, `rewrite changed ${old.describe()} into ${neu.describe()}`);
    for (const node of this.nodes()) {
      const ins = node.inputs as Variable[];
      for (let i = 0; i < ins.length; i++) if (ins[i] === old) ins[i] = neu;
    }
    this.outputs = this.outputs.map((v) => (v === old ? neu : v));
    this.cachedNodes = null;
    this.cachedClients = null;
    this.history.push({ rewrite: reason, node: old.owner ? old.owner.op.key() : old.describe() });
    if (process.env.SYMTENSOR_DEBUG === '3') process.stderr.write(`[symtensor] rewrite ${reason}: ${old.owner?.op.key() ?? old.describe()}\n`);
  }
}
