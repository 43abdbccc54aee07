// debugprint (one node a line, with shapes) and Graphviz export of a compiled function's graph.
import { argError, checkOptionKeys, fmtShape, fmtValue } from '../errors';
import type { CompiledFunction } from './function';
import { Constant, Variable } from '../graph/variable';
import { SharedVariable } from '../graph/shared';
import { FunctionGraph } from '../graph/fgraph';
import { FusedElemwise } from './rewrites/fusion';

function label(v: Variable): string {
  if (v instanceof SharedVariable) return `shared ${v.name ?? ''}`.trim();
  if (v instanceof Constant) return v.value.size <= 4 && !v.value.isDisposed ? `const ${Array.from(v.value.dataSync()).join(',')}` : `const${fmtShape(v.staticShape)}`;
  if (!v.owner) return v.name ?? 'input';
  return v.owner.op instanceof FusedElemwise ? v.owner.op.label() : v.owner.op.key();
}

/** The optimized graph as text: `#id op [shape] dtype <- inputs`. */
export function debugprintGraph(fg: FunctionGraph): string {
  const ids = new Map<Variable, string>();
  const lines: string[] = [];
  const idOf = (v: Variable) => {
    let s = ids.get(v);
    if (!s) {
      s = v.owner ? `#${ids.size}` : v.name ?? `#${ids.size}`;
      ids.set(v, s);
      if (!v.owner) lines.push(`${s} = ${label(v)} ${fmtShape(v.staticShape)} ${v.dtype}`);
    }
    return s;
  };
  fg.inputs.forEach(idOf);
  for (const node of fg.nodes()) {
    const ins = node.inputs.map(idOf);
    for (const o of node.outputs) lines.push(`${idOf(o)} = ${label(o)} ${fmtShape(o.staticShape)} ${o.dtype} <- ${ins.join(', ')}`);
  }
  fg.outputs.forEach((o, i) => lines.push(`output ${i}: ${idOf(o)}`));
  return lines.join('\n');
}

/** Graphviz source of the optimized graph. */
export function toDotGraph(fg: FunctionGraph, name = 'symtensor'): string {
  const ids = new Map<Variable, string>();
  const esc = (s: string) => s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\r?\n/g, '\\n');
  // the graph's name keeps a readable quote (a'b) rather than an escaped one
  const out: string[] = [`digraph "${esc(name.replace(/"/g, "'"))}" {`, '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=10];'];
  const vid = (v: Variable) => {
    let s = ids.get(v);
    if (!s) {
      s = `v${ids.size}`;
      ids.set(v, s);
      if (!v.owner) out.push(`  ${s} [shape=box, label="${esc(label(v))}\\n${fmtShape(v.staticShape)} ${v.dtype}"];`);
    }
    return s;
  };
  fg.inputs.forEach(vid);
  for (const node of fg.nodes()) {
    const o = node.outputs[0];
    const id = vid(o);
    out.push(`  ${id} [shape=ellipse, label="${esc(label(o))}\\n${fmtShape(o.staticShape)} ${o.dtype}"];`);
    node.inputs.forEach((v, i) => out.push(`  ${vid(v)} -> ${id} [label="${i}"];`));
  }
  fg.outputs.forEach((o, i) => {
    out.push(`  out${i} [shape=plaintext, label="output ${i}"];`);
    out.push(`  ${vid(o)} -> out${i};`);
  });
  out.push('}');
  return out.join('\n') + '\n';
}

/** f's optimized graph, or an error naming `op` when f is not a compiled function. */
function graphOf(op: string, f: unknown): FunctionGraph {
  const g = typeof f === 'function' ? (f as { graph?: unknown }).graph : undefined;
  if (!(g instanceof FunctionGraph)) throw argError(op, `expected a compiled function (made by st.fn), got ${f instanceof Variable ? `a Variable (${f.describe()})` : fmtValue(f)}`);
  return g;
}

/**
 * Prints (unless `print: false`) and returns the optimized graph of a compiled function, one node
 * a line with shapes and dtypes.
 * @example st.debugprint(st.fn([x], T.exp(x).mul(2)), { print: false })
 */
export function debugprint(f: CompiledFunction, opts?: { print?: boolean }): string {
  const g = graphOf('debugprint', f);
  const o = checkOptionKeys('debugprint', opts, ['print']);
  if (o.print !== undefined && typeof o.print !== 'boolean') throw argError('debugprint', `print must be true or false, got ${fmtValue(o.print)}`);
  const text = debugprintGraph(g);
  if (o.print !== false) console.log(text);
  return text;
}

/**
 * Graphviz source of a compiled function's optimized graph (`dot -Tsvg` draws it).
 * @example writeFileSync('f.dot', st.toDot(f))
 */
export function toDot(f: CompiledFunction): string {
  return toDotGraph(graphOf('toDot', f), (f as { name: string }).name);
}
