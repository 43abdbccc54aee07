// Graph traversal: topological order and rebuilding nodes.  Loops over explicit stacks, never
// recursion over depth: a user's graph may be thousands of nodes deep.
import { Apply, Op, Variable } from './variable';

/**
 * Nodes between the graph's free variables and `outputs`, in topological order (depth first from
 * the outputs, inputs in order, so equal structures give equal orders).  Variables for which
 * `stop` is true are treated as free: the walk does not go above them.
 */
export function toposort(outputs: Variable[], stop?: (v: Variable) => boolean): Apply[] {
  const order: Apply[] = [];
  const seen = new Set<Apply>();
  const stack: [Apply, number][] = [];
  for (const out of outputs) {
    if (!out.owner || seen.has(out.owner) || stop?.(out)) continue;
    stack.push([out.owner, 0]);
    seen.add(out.owner);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      if (i < node.inputs.length) {
        top[1]++;
        const v = node.inputs[i];
        const o = v.owner;
        if (o && !seen.has(o) && !stop?.(v)) {
          seen.add(o);
          stack.push([o, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  }
  return order;
}

/** A fresh node computing op on inputs, keeping `trace` (where the user built the original). */
export function rebuild(op: Op, inputs: Variable[], trace: string): Variable[] {
  const types = op.infer(inputs.map((v) => v.type));
  return new Apply(op, inputs, types, trace).outputs;
}
