// report.html: one self-contained page (no scripts, no network) with the loss and metric curves
// as inline SVG, the test result, the model summary, the job and the backend.
import type { MetricsLine } from './metrics-log';

export interface ReportInput {
  title: string;
  lines: MetricsLine[];
  summary: string;
  job: unknown;
  backend: unknown;
  /** Status line: "finished", "stopped by SIGINT at step 120" … */
  status: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/** A "nice" number for axis ticks: 1, 2 or 5 times a power of ten, near `x`. */
function nice(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  const f = x / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(1) : String(Number(v.toPrecision(3))));

/**
 * One line chart as SVG: each series a polyline plus a circle per point; each point carries its
 * values (data-x, data-y) and the axes map them linearly into the plot area.
 */
export function lineChart(title: string, xLabel: string, series: { name: string; points: [number, number][] }[]): string {
  const W = 640, H = 300, L = 60, R = 130, T = 30, B = 40;
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length === 0) return '';
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x0 === x1) (x0 -= 1), (x1 += 1);
  if (y0 === y1) (y0 -= Math.abs(y0) * 0.1 || 1), (y1 += Math.abs(y1) * 0.1 || 1);
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-title="${esc(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" data-x0="${x0}" data-x1="${x1}" data-y0="${y0}" data-y1="${y1}">`);
  parts.push(`<text x="${W / 2 - R / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`);
  const step = nice((y1 - y0) / 5);
  for (let v = Math.ceil(y0 / step) * step; v <= y1 + step * 1e-9; v += step) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${r2(sy(v))}" y2="${r2(sy(v))}" stroke="#eee"/><text x="${L - 5}" y="${r2(sy(v)) + 4}" text-anchor="end" font-size="10">${fmt(v)}</text>`);
  }
  const xstep = nice((x1 - x0) / 6);
  for (let v = Math.ceil(x0 / xstep) * xstep; v <= x1 + xstep * 1e-9; v += xstep) {
    parts.push(`<text x="${r2(sx(v))}" y="${H - B + 14}" text-anchor="middle" font-size="10">${fmt(v)}</text>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    parts.push(`<g class="series" data-series="${esc(s.name)}">`);
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${ok.map(([x, y]) => `${r2(sx(x))},${r2(sy(y))}`).join(' ')}"/>`);
    for (const [x, y] of ok) parts.push(`<circle cx="${r2(sx(x))}" cy="${r2(sy(y))}" r="2.5" fill="${c}" data-x="${x}" data-y="${y}"><title>${esc(s.name)} ${fmt(x)}: ${y}</title></circle>`);
    parts.push('</g>');
    parts.push(`<rect x="${W - R + 10}" y="${T + i * 18}" width="12" height="4" fill="${c}"/><text x="${W - R + 26}" y="${T + i * 18 + 6}" font-size="11">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The charts of a run: per metric, its training and validation values by epoch; and the loss by step. */
export function charts(lines: MetricsLine[]): string[] {
  const epochs = lines.filter((l) => l.kind === 'epoch');
  const steps = lines.filter((l) => l.kind === 'step');
  const skip = new Set(['kind', 'epoch', 'globalStep', 'time']);
  const names = new Set<string>();
  for (const l of epochs) for (const k of Object.keys(l)) if (!skip.has(k) && typeof l[k] === 'number') names.add(k.replace(/^val_/, ''));
  const out: string[] = [];
  for (const m of names) {
    const series = [m, `val_${m}`].map((k) => ({ name: k, points: epochs.filter((l) => typeof l[k] === 'number').map((l) => [l.epoch as number, l[k] as number] as [number, number]) })).filter((s) => s.points.length);
    const svg = lineChart(`${m} by epoch`, 'epoch', series);
    if (svg) out.push(svg);
  }
  if (steps.length) {
    const svg = lineChart('loss by step', 'step', [{ name: 'loss', points: steps.filter((l) => typeof l.loss === 'number').map((l) => [l.globalStep, l.loss as number]) }]);
    if (svg) out.push(svg);
  }
  return out;
}

/** The whole page. */
export function reportHtml(r: ReportInput): string {
  const test = r.lines.filter((l) => l.kind === 'test').pop();
  const testRow = test
    ? `<p class="test">Test: ${Object.entries(test).filter(([k, v]) => !['kind', 'globalStep', 'time'].includes(k) && typeof v === 'number').map(([k, v]) => `${esc(k)} <b>${(v as number).toFixed(4)}</b>`).join(', ')}</p>`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1400px}pre{background:#f6f6f6;padding:1em;overflow:auto}.charts{display:flex;flex-wrap:wrap;gap:1em}</style>
</head><body>
<h1>${esc(r.title)}</h1>
<p class="status">${esc(r.status)}</p>
${testRow}
<h2>Curves</h2>
<div class="charts">
${charts(r.lines).join('\n')}
</div>
<h2>Model</h2>
<pre class="summary">${esc(r.summary)}</pre>
<h2>Job</h2>
<pre class="job">${esc(JSON.stringify(r.job, null, 2))}</pre>
<h2>Backend</h2>
<pre class="backend">${esc(JSON.stringify(r.backend, null, 2))}</pre>
</body></html>
`;
}
