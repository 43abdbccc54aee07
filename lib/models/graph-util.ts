// Small graph helpers the models need: replacing variables inside built expressions.
import { rebuild, toposort } from '../graph/traverse';
import { Variable } from '../graph/variable';

/**
 * The outputs rebuilt with some variables replaced (Theano's clone with `replace`): nodes that
 * do not depend on a replaced variable are shared with the originals.
 */
export function replaceIn(outputs: Variable[], replace: Map<Variable, Variable>): Variable[] {
  if (replace.size === 0) return outputs.slice();
  const env = new Map(replace);
  for (const node of toposort(outputs, (v) => env.has(v))) {
    const ins = node.inputs.map((v) => env.get(v) ?? v);
    if (ins.every((v, i) => v === node.inputs[i])) continue;
    const outs = rebuild(node.op, ins, node.trace);
    node.outputs.forEach((o, i) => env.set(o, outs[i]));
  }
  return outputs.map((o) => env.get(o) ?? o);
}
