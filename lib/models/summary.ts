// model.summary(): Keras's table of layers, output shapes, parameter counts and connections.
import { Layer, classNameOf } from './layer';
import type { Model } from './model';
import { InputLayer } from './functional';

function fmtShape(s: (number | null)[] | (number | null)[][]): string {
  const one = (x: (number | null)[]) => `(${x.map((d) => (d === null ? 'None' : String(d))).join(', ')}${x.length === 1 ? ',' : ''})`;
  return Array.isArray(s[0]) ? (s as (number | null)[][]).map(one).join(', ') : one(s as (number | null)[]);
}

const count = (l: Layer, which: 'all' | 'trainable') =>
  (which === 'all' ? l.weights : l.trainableWeights).reduce((n, w) => n + w.type.shape.reduce<number>((a, d) => a * (d ?? 0), 1), 0);

function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) (n /= 1024), u++;
  return `${n.toFixed(2)} ${units[u]}`;
}

/** The summary as text: one row per layer (per application for shared layers), then the totals. */
export function summaryText(model: Model, lineLength?: number): string {
  const sequentialLike = model.graphNodes().every((n) => n.inputs.length === 1 && n.inputs[0].node.layer !== n.layer) && model.inputs.length === 1 && model.outputs.length === 1 && model.constructor.name === 'Sequential';
  const headers = ['Layer (type)', 'Output Shape', 'Param #', ...(sequentialLike ? [] : ['Connected to'])];
  const rows: string[][] = [];
  const nodes = model.graphNodes();
  const listed = new Set<Layer>();
  const inputRows = sequentialLike ? [] : model.inputs.map((t) => t.node);
  for (const node of [...inputRows, ...nodes]) {
    const l = node.layer;
    const params = listed.has(l) ? 0 : count(l, 'all');
    listed.add(l);
    const shape = node.outputs.length === 1 ? node.outputs[0].shape : node.outputs.map((o) => o.shape);
    const connected = node.inputs.map((t) => `${t.node.layer.name}[${t.node.layer.inboundNodes.indexOf(t.node)}][${t.index}]`);
    rows.push([`${l.name} (${l instanceof InputLayer ? 'InputLayer' : classNameOf(l)})`, fmtShape(shape), params.toLocaleString('en-US'), ...(sequentialLike ? [] : [connected.join(', ') || '-'])]);
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  if (lineLength) {
    const total = widths.reduce((a, b) => a + b, 0);
    if (total < lineLength) widths[0] += lineLength - total;
  }
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i] - 2).padEnd(widths[i]) : c.padEnd(widths[i]))).join('').trimEnd();
  const width = widths.reduce((a, b) => a + b, 0);
  const total = count(model, 'all');
  const trainable = count(model, 'trainable');
  const bytes = model.weights.reduce((n, w) => n + w.storage.size * (w.dtype === 'float64' ? 8 : w.dtype === 'bool' ? 1 : 4), 0);
  const tbytes = model.trainableWeights.reduce((n, w) => n + w.storage.size * (w.dtype === 'float64' ? 8 : w.dtype === 'bool' ? 1 : 4), 0);
  const out = [`Model: "${model.name}"`, '_'.repeat(width), line(headers), '='.repeat(width)];
  rows.forEach((r, i) => {
    out.push(line(r));
    out.push(i === rows.length - 1 ? '='.repeat(width) : '_'.repeat(width));
  });
  if (rows.length === 0) out.push('='.repeat(width));
  out.push(`Total params: ${total.toLocaleString('en-US')} (${fmtBytes(bytes)})`);
  out.push(`Trainable params: ${trainable.toLocaleString('en-US')} (${fmtBytes(tbytes)})`);
  out.push(`Non-trainable params: ${(total - trainable).toLocaleString('en-US')} (${fmtBytes(bytes - tbytes)})`);
  out.push('_'.repeat(width));
  return out.join('\n');
}
