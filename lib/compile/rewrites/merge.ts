// merge: nodes with the same op and inputs compute the same thing; keep one.  Equal small
// constants merge too, so their uses can merge in turn.
import { Constant, Variable } from '../../graph/variable';
import { FunctionGraph } from '../../graph/fgraph';
import { globalRewrite } from '../../graph/rewrite';

function constantKey(c: Constant): string | null {
  if (c.value.size > 64 || c.value.isDisposed) return null;
  return `${c.dtype}${JSON.stringify(c.shape)}${Array.from(c.value.dataSync(), (v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}`;
}

export const merge = globalRewrite({
  name: 'merge',
  fn(fg: FunctionGraph): boolean {
    let changed = false;
    const constants = new Map<string, Constant>();
    for (const node of fg.nodes())
      for (const v of node.inputs)
        if (v instanceof Constant) {
          const k = constantKey(v);
          if (k === null) continue;
          const seen = constants.get(k);
          if (!seen) constants.set(k, v);
          else if (seen !== v) {
            fg.replace(v, seen, 'merge');
            changed = true;
          }
        }
    const ids = new Map<Variable, number>();
    let next = 0;
    const id = (v: Variable) => {
      let i = ids.get(v);
      if (i === undefined) ids.set(v, (i = next++));
      return i;
    };
    const seenNodes = new Map<string, Variable[]>();
    for (const node of fg.nodes()) {
      if (node.op.lazy) continue;
      const key = `${node.op.key()}(${node.inputs.map(id).join(',')})`;
      const prev = seenNodes.get(key);
      if (!prev) {
        seenNodes.set(key, node.outputs);
        continue;
      }
      node.outputs.forEach((o, k) => fg.replace(o, prev[k], 'merge'));
      changed = true;
    }
    return changed;
  },
});
