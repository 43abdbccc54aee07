// Where nodes run in a program: the nodes an ifelse branch owns (run only when it is taken) and
// the updates computed straight into their shared variable's buffer.
import { DType } from '../dtype';
import { Apply, Variable } from '../graph/variable';
import { IfElse } from '../graph/ops/control';
import { SharedVariable } from '../graph/shared';
import { FunctionGraph } from '../graph/fgraph';
import { Heap } from './heap';

/**
 * Nodes each lazily-evaluated branch owns (innermost ifelse first): those whose every reader is
 * the branch input or a node the branch owns.  Walks up from the branch input in decreasing
 * topological position, so each node is decided after all its readers, and visits only the
 * branch and its border.
 */
export function branchOwnership(fg: FunctionGraph): Map<Apply, { ifelse: Apply; branch: 1 | 2 }> {
  const nodes = fg.nodes();
  const pos = new Map(nodes.map((n, i) => [n, i]));
  const owner = new Map<Apply, { ifelse: Apply; branch: 1 | 2 }>();
  for (const ie of nodes) {
    if (!(ie.op instanceof IfElse)) continue;
    for (const branch of [1, 2] as const) {
      const mine = new Set<Apply>();
      const queue = new Heap<Apply>((n) => -pos.get(n)!);
      const queued = new Set<Apply>();
      const enqueue = (v: Variable) => {
        if (v.owner && !queued.has(v.owner)) queued.add(v.owner), queue.push(v.owner);
      };
      enqueue(ie.inputs[branch]);
      while (queue.size) {
        const n = queue.pop()!;
        if (owner.has(n)) continue;
        const exclusive = n.outputs.every((o) =>
          fg.clientsOf(o).every((c) => c.node !== 'output' && ((c.node === ie && c.index === branch) || mine.has(c.node))),
        );
        if (!exclusive) continue;
        mine.add(n);
        n.inputs.forEach(enqueue);
      }
      for (const n of mine) owner.set(n, { ifelse: ie, branch });
    }
  }
  return owner;
}

/**
 * Updates that can be computed straight into the shared variable's buffer: the new value is the
 * only output of an elementwise node that nothing else reads, of the variable's exact shape, and
 * no other such update reads a variable that one of them overwrites.
 */
export function inPlaceUpdates(
  fg: FunctionGraph,
  nOutputs: number,
  updates: [SharedVariable, number][],
  updateVars: Variable[],
  types: Map<Variable, { dtype: DType; shape: number[] }>,
): Map<Apply, SharedVariable[]> {
  const clients = fg.clients();
  const targetOf = new Map<Variable, SharedVariable>();
  updates.forEach(([sv], k) => {
    const v = updateVars[k];
    const cl = clients.get(v) ?? [];
    const t = types.get(v);
    const sameShape = t && t.dtype === sv.dtype && t.shape.length === sv.ndim && t.shape.every((d, i) => d === sv.staticShape[i]);
    if (cl.length === 1 && cl[0].node === 'output' && cl[0].index === nOutputs + k && sameShape) targetOf.set(v, sv);
  });
  const found = new Map<Apply, SharedVariable[]>();
  for (const [v, sv] of targetOf) {
    const node = v.owner;
    if (!node || found.has(node)) continue;
    // every output of the node must be such an update (a multi-output elementwise program writes
    // all its shared variables at once)
    const svs = node.outputs.map((o) => targetOf.get(o));
    if (svs.some((x) => !x)) continue;
    // elementwise programs and the Adam update read and write each element at one position only
    const ew = node.op.name === 'fused' || node.op.name === 'adamUpdate' || node.op.elementwise() !== null;
    // other ops may write over one input only, which must then be the variable itself
    const over = node.op.inPlaceInput();
    const canWrite = ew || (node.outputs.length === 1 && over !== null && node.inputs[over] === sv && node.inputs.every((u, i) => i === over || u !== sv));
    if (canWrite) found.set(node, svs as SharedVariable[]);
  }
  // a node must not read a variable that another in-place node overwrites (each variable has
  // one writer; a node dropped here no longer counts for the ones after it)
  const writer = new Map<Variable, Apply>();
  for (const [node, svs] of found) for (const sv of svs) writer.set(sv, node);
  for (const [node, svs] of [...found]) {
    if (node.inputs.some((u) => u instanceof SharedVariable && !svs.includes(u) && writer.has(u) && writer.get(u) !== node)) {
      found.delete(node);
      for (const sv of svs) writer.delete(sv);
    }
  }
  // a variable read by an update that stays a copy must keep its old value until the end
  const inPlaceVars = new Set(writer.keys());
  const readers = updatesReading(updateVars);
  for (const [node, svs] of [...found]) {
    if (svs.some((sv) => (readers.get(sv) ?? []).some((k) => !inPlaceVars.has(updates[k][0])))) {
      found.delete(node);
      for (const sv of svs) inPlaceVars.delete(sv);
    }
  }
  return found;
}

/** For each shared variable, the updates whose new value is it or is computed directly from it. */
function updatesReading(updateVars: Variable[]): Map<Variable, number[]> {
  const readers = new Map<Variable, number[]>();
  updateVars.forEach((v, k) => {
    for (const u of new Set([v, ...(v.owner?.inputs ?? [])])) {
      if (!(u instanceof SharedVariable)) continue;
      const l = readers.get(u);
      if (l) l.push(k);
      else readers.set(u, [k]);
    }
  });
  return readers;
}

