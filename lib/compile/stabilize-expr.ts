// Applies the 'stabilize' rewrites to an expression (no FunctionGraph): st.grad differentiates
// the stable form, so gradients are stable too.
import { Variable } from '../graph/variable';
import { toposort } from '../graph/grad';
import { rebuild } from './fgraph';
import { fits, localRewrites } from './rewrite';
import './rewrites/stabilize';

export function stabilize(root: Variable): Variable {
  const rewrites = localRewrites.filter((r) => r.tags.includes('stabilize'));
  const map = new Map<Variable, Variable>();
  const get = (v: Variable) => map.get(v) ?? v;
  for (const node of toposort([root])) {
    const ins = node.inputs.map(get);
    const changed = ins.some((v, i) => v !== node.inputs[i]);
    let outs = changed ? rebuild(node.op, ins, node.trace) : node.outputs;
    if (outs.length === 1) {
      for (const r of rewrites) {
        const rep = r.fn(outs[0].owner!, null);
        if (rep && fits(rep, outs[0])) {
          outs = [rep];
          break;
        }
      }
    }
    node.outputs.forEach((o, k) => outs[k] !== o && map.set(o, outs[k]));
  }
  return get(root);
}
