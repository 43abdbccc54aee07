// The rewrite machinery: what a rewrite is, and the driver that applies a phase's rewrites to a
// FunctionGraph.  Which rewrites run, and in what order, is listed in lib/compile/rewrites/index.ts.
import { Apply, Variable, peekNextId } from './variable';
import { FunctionGraph } from './fgraph';

export type Phase = 'canonicalize' | 'stabilize' | 'specialize' | 'fusion';

/** A local rewrite: given a node, a replacement for its first output, or null. */
export interface Rewrite {
  readonly kind: 'local';
  name: string;
  fn(node: Apply, fg: FunctionGraph | null): Variable | null;
}

/** A whole-graph rewrite (merge, fusion): changes the graph itself, returns whether it did. */
export interface GlobalRewrite {
  readonly kind: 'global';
  name: string;
  fn(fg: FunctionGraph): boolean;
}

/** One phase: its name and its rewrites in the order they are tried. */
export interface PhaseList {
  phase: Phase;
  rewrites: (Rewrite | GlobalRewrite)[];
}

/** Declares a local rewrite (a typed object literal; nothing is registered anywhere). */
export function localRewrite(r: Omit<Rewrite, 'kind'>): Rewrite {
  return { kind: 'local', ...r };
}

/** Declares a whole-graph rewrite. */
export function globalRewrite(r: Omit<GlobalRewrite, 'kind'>): GlobalRewrite {
  return { kind: 'global', ...r };
}

/** Nodes a rewrite just built (ids from `mark` on) take the location of the node they replace. */
export function inheritTrace(v: Variable, mark: number, trace: string): void {
  const stack = [v];
  while (stack.length) {
    const u = stack.pop()!;
    if (!u.owner || u.id < mark || u.owner.trace === trace) continue;
    u.owner.trace = trace;
    stack.push(...u.owner.inputs);
  }
}

/** A replacement must keep the dtype, the rank and every statically known dim. */
export function fits(rep: Variable, old: Variable): boolean {
  return rep.dtype === old.dtype && rep.ndim === old.ndim && old.staticShape.every((d, i) => d === null || rep.staticShape[i] === null || rep.staticShape[i] === d);
}

/**
 * Applies a phase's rewrites until none fires (bounded): whole-graph ones first, then local ones
 * per node.  Each round walks one topological order taken at its start (a replacement does not
 * re-sort the graph); nodes a replacement dropped are skipped, and the nodes it built are visited
 * in the next round.
 */
export function runPhase(fg: FunctionGraph, rewrites: (Rewrite | GlobalRewrite)[], exclude: Set<string> = new Set()): void {
  const active = rewrites.filter((r) => !exclude.has(r.name));
  const locals = active.filter((r): r is Rewrite => r.kind === 'local');
  const globals = active.filter((r): r is GlobalRewrite => r.kind === 'global');
  for (let iter = 0; iter < 50; iter++) {
    let changed = false;
    for (const g of globals) changed = g.fn(fg) || changed;
    for (const node of fg.nodes()) {
      if (!fg.has(node)) continue;
      for (const r of locals) {
        const mark = peekNextId();
        const rep = r.fn(node, fg);
        if (rep && rep !== node.outputs[0] && fits(rep, node.outputs[0])) {
          inheritTrace(rep, mark, node.trace);
          fg.replace(node.outputs[0], rep, r.name);
          changed = true;
          break;
        }
      }
    }
    if (!changed) return;
  }
}

/** Runs every phase in order. */
export function optimize(fg: FunctionGraph, phases: PhaseList[], exclude: Set<string> = new Set()): FunctionGraph {
  for (const { rewrites } of phases) runPhase(fg, rewrites, exclude);
  return fg;
}
