// merge: nodes with the same op and inputs compute the same thing; keep one.  Equal small
// constants merge too, so their uses can merge in turn.
import { Constant, Op, Variable } from '../../graph/variable';
import { FunctionGraph } from '../../graph/fgraph';
import { globalRewrite } from '../../graph/rewrite';

// Constants and ops never change, and merge runs a few times per phase: their keys are built once.
const constantKeys = new WeakMap<Constant, string | null>();
const opKeys = new WeakMap<Op, string>();

function constantKey(c: Constant): string | null {
  if (c.value.isDisposed) return null;
  let k = constantKeys.get(c);
  if (k === undefined) {
    k = c.value.size > 64 ? null : `${c.dtype}${JSON.stringify(c.staticShape)}${Array.from(c.value.dataSync(), (v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}`;
    constantKeys.set(c, k);
  }
  return k;
}

function opKey(op: Op): string {
  let k = opKeys.get(op);
  if (k === undefined) opKeys.set(op, (k = op.key()));
  return k;
}

/**
 * Node identities for one pass: the op (each distinct op key numbered, so that keys stay short
 * however long an op's key is) and the inputs (variables' ids are unique).
 */
function nodeKeys(): (op: Op, inputs: Variable[]) => string {
  const numbers = new Map<string, number>();
  return (op, inputs) => {
    const key = opKey(op);
    let n = numbers.get(key);
    if (n === undefined) numbers.set(key, (n = numbers.size));
    let s = `${n}:`;
    for (let i = 0; i < inputs.length; i++) s += i ? `,${inputs[i].id}` : `${inputs[i].id}`;
    return s;
  };
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
    const nodeKey = nodeKeys();
    const seenNodes = new Map<string, Variable[]>();
    for (const node of fg.nodes()) {
      if (node.op.lazy || !fg.has(node)) continue;
      const key = nodeKey(node.op, node.inputs);
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
