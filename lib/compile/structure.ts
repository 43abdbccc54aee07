// The structure of an optimized function graph: what lowering depends on, and nothing else.
// Two functions with equal structures lower to the same program for the same input shapes, up
// to the buffers bound to their shared variables and constants ("parameters" here), so the
// program cache (programs.ts) keys lowered programs by it.
import { createHash } from 'node:crypto';
import { fmtShape } from '../errors';
import { Apply, Constant, Variable } from '../graph/variable';
import { SharedVariable } from '../graph/shared';
import type { BuiltGraph } from './function-graph';

export interface Structure {
  /** A hash of the ops, their wiring, every variable's type and the output and update layout. */
  key: string;
  /** Shared variables and constants, in the order the structure first meets them. */
  params: Variable[];
  /** The nodes, in the order the key lists them (the graph's topological order). */
  nodes: Apply[];
}

/**
 * The structure of a built function: one line per node — op class, op key, inputs (function
 * inputs by position, parameters by first use, node outputs by node position), output types —
 * then the inputs' types, the parameters' kinds and types, and the outputs and update targets.
 * Parameters enter by position and type, not by value: lowering binds their buffers and never
 * reads them, and two uses of one parameter stay one (in-place updates depend on it).
 */
export function structureOf(built: BuiltGraph): Structure {
  const { fg, nOutputs, updates } = built;
  const nodes = fg.nodes();
  const ref = new Map<Variable, string>();
  fg.inputs.forEach((v, i) => ref.set(v, `i${i}`));
  const params: Variable[] = [];
  const refOf = (v: Variable): string => {
    let r = ref.get(v);
    if (r === undefined) {
      // only leaves get here: a node's outputs are named when the node is listed
      r = `p${params.length}`;
      params.push(v);
      ref.set(v, r);
    }
    return r;
  };
  const type = (v: Variable) => `${v.dtype}${fmtShape(v.staticShape)}`;
  const lines: string[] = [];
  nodes.forEach((node, k) => {
    const ins = node.inputs.map(refOf).join(',');
    lines.push(`${node.op.constructor.name}:${node.op.key()}(${ins})->${node.outputs.map(type).join(',')}`);
    node.outputs.forEach((o, j) => ref.set(o, `n${k}.${j}`));
  });
  lines.push(`outputs ${fg.outputs.map(refOf).join(',')} of which ${nOutputs} returned; updates ${updates.map(refOf).join(',')}`);
  lines.push(`inputs ${fg.inputs.map(type).join(',')}`);
  lines.push(`params ${params.map((v) => `${v instanceof SharedVariable ? 'shared' : v instanceof Constant ? 'const' : 'free'}:${type(v)}`).join(',')}`);
  const key = createHash('sha256').update(lines.join('\n')).digest('hex');
  return { key, params, nodes };
}
