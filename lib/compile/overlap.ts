// Overlapping reductions with computation: each top-level T.allreduce node becomes, per bucket, an
// AllreduceStart placed right after the node that produces the bucket's last tensor and an
// AllreduceWait placed right before the first node that reads one of its results.  Between the
// two the program goes on computing (in training: the backward pass of the earlier layers) while
// the communication thread reduces the bucket (native/kernels/cpu/collectives.cc).
//
// Every rank lowers the same graph the same way, so every rank starts the same buckets in the same
// order, as collectives require.
import { DType } from '../dtype';
import { Apply, Variable } from '../graph/variable';
import { FunctionGraph } from '../graph/fgraph';
import { Allreduce, AllreduceStart, AllreduceWait } from '../graph/ops/collective';

type Types = Map<Variable, { dtype: DType; shape: number[]; known?: (number | null)[] }>;

/** The first bucket of each dtype is at most this large, so that it leaves early (as PyTorch DDP does). */
export const FIRST_BUCKET_BYTES = 2 ** 20;

const bytesOf = (t: { dtype: DType; shape: number[] }) => t.shape.reduce((a, d) => a * d, 1) * (t.dtype === 'float64' ? 8 : 4);

/**
 * Rewrites the top-level node list (topological, outside every ifelse branch) for lowering: each
 * overlapping Allreduce is replaced by start/wait pairs.  Returns the new list and, for each wait
 * node, the original Allreduce outputs its outputs stand for.  `inList` nodes absent from `list`
 * (in-place updates, branch members) are handled conservatively: a reader inside a branch keeps
 * the wait where the Allreduce stood; readers lowered after the list put no bound on it.
 */
export function overlapAllreduces(list: Apply[], fg: FunctionGraph, types: Types, branchMembers: Set<Apply>): { list: Apply[]; stands: Map<Apply, Variable[]> } {
  const stands = new Map<Apply, Variable[]>();
  const targets = list.filter((n) => n.op instanceof Allreduce && n.op.overlap);
  if (!targets.length) return { list, stands };
  const pos = new Map(list.map((n, i) => [n, i]));
  // insertions: before[i] runs just before list[i], after[i] just after it (-1: at the very start)
  const before = new Map<number, Apply[]>();
  const after = new Map<number, Apply[]>();
  const push = (m: Map<number, Apply[]>, i: number, n: Apply) => (m.get(i) ?? m.set(i, []).get(i)!).push(n);
  const removed = new Set<Apply>(targets);
  for (const node of targets) {
    const op = node.op as Allreduce;
    const at = pos.get(node)!;
    const token = node.inputs[0];
    const members = node.inputs.slice(1).map((v, k) => ({ v, k, made: v.owner && pos.has(v.owner) ? pos.get(v.owner)! : -1 }));
    members.sort((a, b) => a.made - b.made || a.k - b.k);
    // buckets per dtype, in the order the tensors are made
    const open = new Map<DType, { ks: number[]; bytes: number; made: number }>();
    const firstDone = new Set<DType>();
    const buckets: { ks: number[]; made: number }[] = [];
    const close = (dt: DType) => {
      const b = open.get(dt);
      if (b && b.ks.length) buckets.push({ ks: b.ks, made: b.made }), firstDone.add(dt);
      open.delete(dt);
    };
    for (const { v, k, made } of members) {
      const t = types.get(v)!;
      const size = bytesOf(t);
      const cap = firstDone.has(t.dtype) ? op.bucketBytes : Math.min(op.bucketBytes, FIRST_BUCKET_BYTES);
      const b = open.get(t.dtype);
      if (b && b.ks.length && b.bytes + size > cap) close(t.dtype);
      const cur = open.get(t.dtype) ?? open.set(t.dtype, { ks: [], bytes: 0, made: -1 }).get(t.dtype)!;
      cur.ks.push(k), (cur.bytes += size), (cur.made = Math.max(cur.made, made));
    }
    for (const dt of [...open.keys()]) close(dt);
    buckets.sort((a, b) => a.made - b.made);
    for (const { ks, made } of buckets) {
      const ins = ks.map((k) => node.inputs[1 + k]);
      const dtype = types.get(ins[0])!.dtype;
      const total = ins.reduce((n, v) => n + types.get(v)!.shape.reduce((a, d) => a * d, 1), 0);
      const start = new Apply(new AllreduceStart(op.op, op.bucketBytes), [token, ...ins], [{ dtype, shape: [total] }], node.trace);
      types.set(start.outputs[0], { dtype, shape: [total] });
      const shapes = ins.map((v) => types.get(v)!.shape.slice());
      const wait = new Apply(new AllreduceWait(op.op, shapes), [start.outputs[0]], shapes.map((shape) => ({ dtype, shape })), node.trace);
      wait.outputs.forEach((o, j) => types.set(o, { dtype, shape: shapes[j] }));
      stands.set(wait, ks.map((k) => node.outputs[k]));
      // the token is made by a node of its own: start no earlier than it
      const tokenAt = token.owner && pos.has(token.owner) ? pos.get(token.owner)! : -1;
      push(after, Math.max(made, tokenAt), start);
      let first = list.length;
      for (const k of ks)
        for (const c of fg.clientsOf(node.outputs[k])) {
          if (c.node === 'output') continue;
          if (pos.has(c.node)) first = Math.min(first, pos.get(c.node)!);
          else if (branchMembers.has(c.node)) first = Math.min(first, at);
        }
      push(before, first, wait);
    }
  }
  const out: Apply[] = [...(after.get(-1) ?? [])];
  list.forEach((n, i) => {
    out.push(...(before.get(i) ?? []));
    if (!removed.has(n)) out.push(n);
    out.push(...(after.get(i) ?? []));
  });
  out.push(...(before.get(list.length) ?? []));
  return { list: out, stands };
}
