// FunctionGraph: the graph a function computes, cloned from the user's so rewrites can change it.
// It tracks which nodes belong to it and who reads each variable, and keeps both up to date on
// every replace(): a replacement costs the number of readers of the replaced variable plus the
// nodes it adds or drops, never a pass over the graph.
import { SymtensorError, fmtShape } from '../errors';
import { Apply, Variable } from './variable';
import { toposort } from './traverse';

/** A reader of a variable: input `index` of a node, or output `index` of the graph. */
export interface Client {
  node: Apply | 'output';
  index: number;
}

/** Work done by replace() since the graph was built (tests check that it stays local). */
export interface GraphWork {
  replacements: number;
  /** Readers moved from a replaced variable to its replacement. */
  clientsMoved: number;
  /** Nodes that joined the graph through a replacement. */
  nodesAdded: number;
  /** Nodes dropped because nothing reads them any more. */
  nodesPruned: number;
  /** Full topological sorts (at most one per change of the graph, and only when asked for). */
  sorts: number;
}

/**
 * A graph being optimized: its inputs and outputs, the nodes between them and who reads each variable; rewrites change it only through replace().
 */
export class FunctionGraph {
  inputs: Variable[];
  outputs: Variable[];
  /** Every replacement made, for SYMTENSOR_DEBUG=3 and tests. */
  readonly history: { rewrite: string; node: string }[] = [];
  readonly work: GraphWork = { replacements: 0, clientsMoved: 0, nodesAdded: 0, nodesPruned: 0, sorts: 0 };

  private readonly members = new Set<Apply>();
  private readonly readers = new Map<Variable, Client[]>();
  /** Topological order, recomputed on demand after a change. */
  private order: Apply[] | null = null;

  /** Clones the nodes between inputs and outputs; `givens` substitutes variables first. */
  constructor(inputs: Variable[], outputs: Variable[], givens: Map<Variable, Variable> = new Map()) {
    this.inputs = inputs.slice();
    const map = new Map<Variable, Variable>(givens);
    // one walk over everything not cloned yet: a cloned (or given) variable is a leaf
    const clone = (roots: Variable[]) => {
      for (const node of toposort(roots, (v) => map.has(v))) {
        if (map.has(node.outputs[0])) continue;
        const ins = node.inputs.map((i) => map.get(i) ?? i);
        const outs = new Apply(node.op, ins, node.outputs.map((o) => o.type), node.trace).outputs;
        node.outputs.forEach((o, k) => {
          outs[k].name = o.name;
          map.set(o, outs[k]);
        });
      }
    };
    // givens may themselves be expressions: clone them too
    for (const [k, g] of givens) {
      clone([g]);
      map.set(k, map.get(g) ?? g);
    }
    clone(outputs);
    this.outputs = outputs.map((v) => map.get(v) ?? v);
    this.outputs.forEach((v, i) => this.addReader(v, { node: 'output', index: i }));
    this.order = toposort(this.outputs);
    for (const node of this.order) this.join(node);
  }

  /** Nodes in topological order (do not modify the array; it is recomputed after a change). */
  nodes(): Apply[] {
    if (!this.order) {
      this.order = toposort(this.outputs);
      this.work.sorts++;
    }
    return this.order;
  }

  /** Whether the node is part of the graph (rewrites skip nodes a replacement dropped). */
  has(node: Apply): boolean {
    return this.members.has(node);
  }

  /** For each variable, the nodes that read it (and 'output' markers); kept current by replace(). */
  clients(): ReadonlyMap<Variable, readonly Client[]> {
    return this.readers;
  }

  /** The readers of one variable. */
  clientsOf(v: Variable): readonly Client[] {
    return this.readers.get(v) ?? [];
  }

  /**
   * Replaces every use of `old` by `neu` (same dtype and rank).  `record: false` leaves it out of
   * the history, for a rewrite that records its steps itself (see record()).
   */
  replace(old: Variable, neu: Variable, reason: string, record = true): void {
    if (old === neu) return;
    if (old.dtype !== neu.dtype || old.ndim !== neu.ndim)
      throw new SymtensorError('ERR_ST_INTERNAL', reason, `rewrite changed ${old.describe()} into ${neu.describe()}`);
    const moved = this.readers.get(old) ?? [];
    this.readers.delete(old);
    for (const c of moved) {
      if (c.node === 'output') this.outputs[c.index] = neu;
      else (c.node.inputs as Variable[])[c.index] = neu;
      this.addReader(neu, c);
    }
    this.work.replacements++;
    this.work.clientsMoved += moved.length;
    // after moving: a replacement built on old itself must keep reading old
    this.addNew(neu);
    if (old.owner) this.pruneFrom(old.owner);
    this.order = null;
    if (record) this.record(reason, old);
  }

  /** Adds a rewrite step to the history (and prints it under SYMTENSOR_DEBUG=3): what `v` was. */
  record(reason: string, v: Variable): void {
    const node = v.owner ? `${v.owner.op.name} ${fmtShape(v.staticShape)} ${v.dtype}` : v.describe();
    this.history.push({ rewrite: reason, node });
    if (process.env.SYMTENSOR_DEBUG === '3') process.stderr.write(`[symtensor] rewrite ${reason}: ${node}\n`);
  }

  private addReader(v: Variable, c: Client): void {
    const l = this.readers.get(v);
    if (l) l.push(c);
    else this.readers.set(v, [c]);
  }

  private removeReader(v: Variable, node: Apply, index: number): void {
    const l = this.readers.get(v);
    if (!l) return;
    const k = l.findIndex((c) => c.node === node && c.index === index);
    if (k >= 0) l.splice(k, 1);
    if (!l.length) this.readers.delete(v);
  }

  private join(node: Apply): void {
    this.members.add(node);
    node.inputs.forEach((v, i) => this.addReader(v, { node, index: i }));
  }

  /** Adds the nodes v needs that are not in the graph yet (those a rewrite just built). */
  private addNew(v: Variable): void {
    const stack = [v];
    while (stack.length) {
      const node = stack.pop()!.owner;
      if (!node || this.members.has(node)) continue;
      this.join(node);
      this.work.nodesAdded++;
      stack.push(...node.inputs);
    }
  }

  /** Drops `start` if nothing reads it any more, then the nodes only it read, and so on up. */
  private pruneFrom(start: Apply): void {
    const stack = [start];
    while (stack.length) {
      const node = stack.pop()!;
      if (!this.members.has(node) || node.outputs.some((o) => this.readers.has(o))) continue;
      this.members.delete(node);
      this.work.nodesPruned++;
      node.inputs.forEach((v, i) => {
        this.removeReader(v, node, i);
        if (v.owner) stack.push(v.owner);
      });
    }
  }
}
