// The rewrite registry and the driver that applies rewrites to a FunctionGraph phase by phase.
import { Apply, Variable, peekNextId } from '../graph/variable';
import { FunctionGraph } from './fgraph';

export type Phase = 'canonicalize' | 'stabilize' | 'specialize' | 'fusion';
export const PHASES: Phase[] = ['canonicalize', 'stabilize', 'specialize', 'fusion'];

/** A local rewrite: given a node, a replacement for its first output, or null. */
export interface Rewrite {
  name: string;
  tags: Phase[];
  fn(node: Apply, fg: FunctionGraph | null): Variable | null;
}

/** A whole-graph rewrite (merge). */
export interface GlobalRewrite {
  name: string;
  tags: Phase[];
  fn(fg: FunctionGraph): boolean;
}

export const localRewrites: Rewrite[] = [];
export const globalRewrites: GlobalRewrite[] = [];

export function register(r: Rewrite): Rewrite {
  localRewrites.push(r);
  return r;
}
export function registerGlobal(r: GlobalRewrite): GlobalRewrite {
  globalRewrites.push(r);
  return r;
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
  return rep.dtype === old.dtype && rep.ndim === old.ndim && old.shape.every((d, i) => d === null || rep.shape[i] === null || rep.shape[i] === d);
}

/** Names of every registered rewrite (for validating excludeRewrites). */
export function rewriteNames(): string[] {
  return [...localRewrites, ...globalRewrites].map((r) => r.name);
}

/** Applies the local rewrites of a phase until none fires (bounded). */
export function runPhase(fg: FunctionGraph, phase: Phase, exclude: Set<string> = new Set()): void {
  const locals = localRewrites.filter((r) => r.tags.includes(phase) && !exclude.has(r.name));
  const globals = globalRewrites.filter((r) => r.tags.includes(phase) && !exclude.has(r.name));
  for (let iter = 0; iter < 50; iter++) {
    let changed = false;
    for (const g of globals) changed = g.fn(fg) || changed;
    for (const node of fg.nodes()) {
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
export function optimize(fg: FunctionGraph, exclude: Set<string> = new Set()): FunctionGraph {
  for (const phase of PHASES) runPhase(fg, phase, exclude);
  return fg;
}
