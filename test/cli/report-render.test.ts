// report.html as a browser sees it: the page is opened in headless Chromium (Debian's `chromium`)
// and the checks run on the DOM Chromium parsed (`--dump-dom`), not on the string we wrote.  Every
// chart must have one point per epoch (or per logged step), at finite coordinates inside its
// viewBox, placed by one linear map from the values written to metrics.jsonl; the summary, job and
// backend sections must be there; and nothing may reference the network.  A second page, the
// report with a measuring script appended, checks the points' laid-out boxes.  Without chromium
// the tests are skipped with the reason printed.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MetricsLine } from '../../lib/cli/metrics-log';
import { readMetrics } from '../../lib/cli/metrics-log';
import { reportHtml } from '../../lib/cli/report';

const root = path.join(__dirname, '..', '..');

/** The first Chromium binary that answers --version, or null. */
function findChromium(): string | null {
  for (const c of [process.env.CHROMIUM_BIN, 'chromium', 'chromium-browser', 'google-chrome'].filter((x): x is string => !!x)) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0 && /chrom/i.test(r.stdout)) return c;
  }
  return null;
}

/** The DOM Chromium builds from a file, serialized; host names resolve nowhere. */
function dumpDom(chromium: string, file: string): string {
  const r = spawnSync(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${path.join(path.dirname(file), 'chromium-profile')}`, '--dump-dom', pathToFileURL(file).href,
  ], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `chromium failed (${r.status ?? r.signal}): ${(r.stderr ?? '').split('\n').slice(-5).join('\n')}`);
  assert.match(r.stdout, /<\/html>\s*$/, 'chromium printed no document');
  return r.stdout;
}

const attrs = (tag: string): Record<string, string> => Object.fromEntries([...tag.matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');

interface Series {
  name: string;
  line: [number, number][];
  circles: { cx: number; cy: number; x: number; y: number }[];
}
interface Chart {
  title: string;
  viewBox: number[];
  series: Series[];
}

/** The charts of a serialized DOM: each svg.chart with its series' polyline points and circles. */
function parseCharts(dom: string): Chart[] {
  const out: Chart[] = [];
  for (const m of dom.matchAll(/<svg\b([^>]*)>([\s\S]*?)<\/svg>/g)) {
    const a = attrs(m[1]);
    if (!/\bchart\b/.test(a.class ?? '')) continue;
    const series: Series[] = [];
    for (const g of m[2].matchAll(/<g\b([^>]*)>([\s\S]*?)<\/g>/g)) {
      const ga = attrs(g[1]);
      if (!/\bseries\b/.test(ga.class ?? '')) continue;
      const poly = /<polyline\b([^>]*)>/.exec(g[2]);
      const pts = poly ? (attrs(poly[1]).points ?? '').trim().split(/\s+/).filter(Boolean).map((p) => p.split(',').map(Number) as [number, number]) : [];
      const circles = [...g[2].matchAll(/<circle\b([^>]*)>/g)].map((c) => {
        const ca = attrs(c[1]);
        return { cx: Number(ca.cx), cy: Number(ca.cy), x: Number(ca['data-x']), y: Number(ca['data-y']) };
      });
      series.push({ name: unescape(ga['data-series'] ?? ''), line: pts, circles });
    }
    out.push({ title: unescape(a['data-title'] ?? ''), viewBox: (a.viewbox ?? a.viewBox ?? '').trim().split(/[\s,]+/).map(Number), series });
  }
  return out;
}

/** The text of the first <tag class="cls"> element. */
function section(dom: string, tag: string, cls: string): string | null {
  const m = new RegExp(`<${tag}\\b[^>]*class="${cls}"[^>]*>([\\s\\S]*?)</${tag}>`).exec(dom);
  return m ? unescape(m[1]) : null;
}

/**
 * Checks one chart against the values it should show (per series name, [x, y] in order): one
 * point per value, finite and inside the viewBox, the polyline through the circles, and pixel
 * positions an increasing linear function of x and a decreasing one of y (one map per chart).
 */
function checkChart(c: Chart, expected: Record<string, [number, number][]>): void {
  assert.equal(c.viewBox.length, 4, `${c.title}: viewBox ${c.viewBox}`);
  const [vx, vy, vw, vh] = c.viewBox;
  assert.ok([vx, vy, vw, vh].every(Number.isFinite) && vw > 0 && vh > 0, `${c.title}: viewBox ${c.viewBox}`);
  assert.deepEqual(c.series.map((s) => s.name).sort(), Object.keys(expected).sort(), `${c.title}: series`);
  const all: { px: number; py: number; x: number; y: number }[] = [];
  for (const s of c.series) {
    const want = expected[s.name];
    assert.equal(s.circles.length, want.length, `${c.title} / ${s.name}: points`);
    assert.equal(s.line.length, want.length, `${c.title} / ${s.name}: polyline vertices`);
    s.circles.forEach((p, i) => {
      assert.deepEqual([p.x, p.y], want[i], `${c.title} / ${s.name}: value ${i}`);
      assert.ok(Number.isFinite(p.cx) && Number.isFinite(p.cy), `${c.title} / ${s.name}: point ${i} at ${p.cx},${p.cy}`);
      assert.ok(p.cx >= vx && p.cx <= vx + vw && p.cy >= vy && p.cy <= vy + vh, `${c.title} / ${s.name}: point ${i} at ${p.cx},${p.cy} is outside the viewBox`);
      assert.deepEqual(s.line[i], [p.cx, p.cy], `${c.title} / ${s.name}: polyline vertex ${i}`);
      all.push({ px: p.cx, py: p.cy, x: p.x, y: p.y });
    });
  }
  // one affine map per axis: fitted on the extreme values, every point within the 0.01 px rounding
  for (const [v, p, sign] of [['x', 'px', 1], ['y', 'py', -1]] as const) {
    const lo = all.reduce((a, b) => (b[v] < a[v] ? b : a));
    const hi = all.reduce((a, b) => (b[v] > a[v] ? b : a));
    if (hi[v] === lo[v]) {
      assert.ok(all.every((q) => Math.abs(q[p] - lo[p]) <= 0.011), `${c.title}: equal ${v} values drawn apart`);
      continue;
    }
    const slope = (hi[p] - lo[p]) / (hi[v] - lo[v]);
    assert.ok(sign * slope > 0, `${c.title}: ${v} grows ${sign > 0 ? 'right' : 'up'} (slope ${slope})`);
    for (const q of all) {
      const at = lo[p] + slope * (q[v] - lo[v]);
      assert.ok(Math.abs(q[p] - at) <= 0.011, `${c.title}: ${v}=${q[v]} drawn at ${q[p]}, the line through the extremes puts it at ${at}`);
    }
  }
}

/** What the page may not contain: scripts, external resources, links, anything with an address. */
function checkOffline(dom: string): void {
  for (const t of ['script', 'link', 'img', 'iframe', 'object', 'embed', 'image', 'use', 'audio', 'video', 'source', 'a'])
    assert.ok(!new RegExp(`<${t}\\b`, 'i').test(dom), `the report contains <${t}>`);
  assert.ok(!/\s(src|href|xlink:href|srcset|action|poster)=/i.test(dom), 'the report has an attribute that loads or links something');
  assert.ok(!/url\(|@import/i.test(dom), 'the report\'s style loads something');
  const withoutNs = dom.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '');
  assert.ok(!/(https?|wss?|ftp):\/\//i.test(withoutNs), `the report names an address: ${/(https?|wss?|ftp):\/\/\S*/i.exec(withoutNs)?.[0]}`);
}

/**
 * The report with a script appended that measures every point's laid-out box against its chart's
 * and writes the result into the page (so --dump-dom returns it).
 */
function measuringCopy(html: string): string {
  const script = `<pre id="measured"></pre><script>
const out = [...document.querySelectorAll('svg.chart')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const pts = [...svg.querySelectorAll('circle')].map((c) => c.getBoundingClientRect());
  const lines = [...svg.querySelectorAll('polyline')].map((p) => p.getTotalLength());
  return { title: svg.dataset.title, box: [box.left, box.top, box.width, box.height],
    points: pts.map((r) => [r.left + r.width / 2, r.top + r.height / 2, r.width, r.height]), lines };
});
document.getElementById('measured').textContent = JSON.stringify(out);
</script>`;
  return html.replace('</body>', `${script}</body>`);
}

function checkMeasured(dom: string, charts: Chart[]): void {
  const m = /<pre id="measured">([\s\S]+?)<\/pre>/.exec(dom);
  assert.ok(m, 'the measuring script wrote nothing');
  const measured = JSON.parse(unescape(m[1])) as { title: string; box: number[]; points: number[][]; lines: number[] }[];
  assert.deepEqual(measured.map((c) => c.title), charts.map((c) => c.title));
  for (const c of measured) {
    const [l, t, w, h] = c.box;
    assert.ok(w > 100 && h > 50, `${c.title}: laid out ${w}x${h}`);
    const n = charts.find((x) => x.title === c.title)!.series.reduce((a, s) => a + s.circles.length, 0);
    assert.equal(c.points.length, n, `${c.title}: circles laid out`);
    for (const [x, y, pw, ph] of c.points) {
      assert.ok(pw > 0 && ph > 0, `${c.title}: a point has no size`);
      assert.ok(x >= l && x <= l + w && y >= t && y <= t + h, `${c.title}: a point at ${x},${y} lies outside its chart ${c.box}`);
    }
    for (const len of c.lines) assert.ok(len > 0 || n === 1, `${c.title}: a curve of length ${len}`);
  }
}

describe('cli: report.html in headless Chromium', function () {
  let chromium: string | null = null;
  let tmp: string;
  before(function () {
    chromium = findChromium();
    if (!chromium) {
      console.log('    report-render: skipped: no chromium on PATH (Debian: apt-get install --no-install-recommends chromium)');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'symtensor-report-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a report built from a metrics.jsonl: every chart has its points, the sections are there, nothing is fetched', () => {
    // 6 epochs with validation, a step line every 4 steps (5 steps an epoch), a test line
    const lines: MetricsLine[] = [];
    let t = 0;
    const stepLoss = (s: number) => 2.3 * Math.exp(-s / 9) + 0.05 * Math.sin(s);
    for (let e = 1; e <= 6; e++) {
      for (let s = (e - 1) * 5 + 1; s <= e * 5; s++) if (s % 4 === 0) lines.push({ kind: 'step', epoch: e, globalStep: s, time: (t += 0.1), loss: stepLoss(s) });
      lines.push({
        kind: 'epoch', epoch: e, globalStep: e * 5, time: (t += 0.1),
        loss: 2 / e, accuracy: 0.5 + e / 20, val_loss: 2.2 / e + 0.01 * e, val_accuracy: 0.45 + e / 21,
      });
    }
    lines.push({ kind: 'test', globalStep: 30, time: (t += 0.1), loss: 0.41, accuracy: 0.77 });
    const metricsFile = path.join(tmp, 'metrics.jsonl');
    fs.writeFileSync(metricsFile, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const job = { name: 'render <check> & "quotes"', model: { builtin: 'mlp', units: [8] }, fit: { epochs: 6, batchSize: 4 } };
    const summary = 'Layer (type)   Output shape   Param #\ndense (Dense)  [null, 8]      40\nTotal params: 40 <all trainable>';
    const backend = { gemm: 'test', threads: 1 };
    const html = reportHtml({ title: 'symtensor: render check', lines: readMetrics(metricsFile), summary, job, backend, status: 'finished' });
    const file = path.join(tmp, 'report.html');
    fs.writeFileSync(file, html);

    const dom = dumpDom(chromium!, file);
    const charts = parseCharts(dom);
    const epochs = lines.filter((l) => l.kind === 'epoch');
    const steps = lines.filter((l) => l.kind === 'step');
    const byEpoch = (k: string) => epochs.map((l) => [l.epoch!, l[k] as number] as [number, number]);
    assert.deepEqual(charts.map((c) => c.title).sort(), ['accuracy by epoch', 'loss by epoch', 'loss by step']);
    checkChart(charts.find((c) => c.title === 'loss by epoch')!, { loss: byEpoch('loss'), val_loss: byEpoch('val_loss') });
    checkChart(charts.find((c) => c.title === 'accuracy by epoch')!, { accuracy: byEpoch('accuracy'), val_accuracy: byEpoch('val_accuracy') });
    checkChart(charts.find((c) => c.title === 'loss by step')!, { loss: steps.map((l) => [l.globalStep, l.loss as number]) });

    assert.equal(section(dom, 'pre', 'summary'), summary);
    assert.deepEqual(JSON.parse(section(dom, 'pre', 'job')!), job);
    assert.deepEqual(JSON.parse(section(dom, 'pre', 'backend')!), backend);
    assert.equal(section(dom, 'p', 'status'), 'finished');
    assert.match(section(dom, 'p', 'test') ?? '', /loss <b>0\.4100<\/b>, accuracy <b>0\.7700<\/b>/);
    assert.match(dom, /<title>symtensor: render check<\/title>/);
    checkOffline(dom);

    const copy = path.join(tmp, 'report-measured.html');
    fs.writeFileSync(copy, measuringCopy(html));
    checkMeasured(dumpDom(chromium!, copy), charts);
  });

  it('the report a `symtensor train` run writes: one point per epoch in every chart', () => {
    const out = path.join(tmp, 'run');
    const jobFile = path.join(tmp, 'job.json');
    fs.writeFileSync(jobFile, JSON.stringify({
      model: { builtin: 'mlp', units: [16] }, data: { name: 'shapes', trainSize: 240, testSize: 80, seed: 3 },
      fit: { epochs: 3, batchSize: 32, validationSplit: 0.25, learningRate: 0.01 }, out, seed: 2, threads: 1, metricsEvery: 2,
    }));
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib', 'cli', 'main.ts'), 'train', jobFile, '--quiet'],
      { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SYMTENSOR_NUM_THREADS: '1' } });
    assert.equal(r.status, 0, r.stderr);
    // the values come from metrics.jsonl, parsed here
    const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricsLine);
    const epochs = lines.filter((l) => l.kind === 'epoch');
    assert.equal(epochs.length, 3);
    const dom = dumpDom(chromium!, path.join(out, 'report.html'));
    const charts = parseCharts(dom);
    const names = Object.keys(epochs[0]).filter((k) => !['kind', 'epoch', 'globalStep', 'time'].includes(k) && !k.startsWith('val_'));
    assert.ok(names.includes('loss'), `metrics: ${names}`);
    for (const m of names) {
      const c = charts.find((x) => x.title === `${m} by epoch`);
      assert.ok(c, `no chart for ${m}; charts: ${charts.map((x) => x.title)}`);
      const want: Record<string, [number, number][]> = {};
      for (const k of [m, `val_${m}`]) if (typeof epochs[0][k] === 'number') want[k] = epochs.map((l) => [l.epoch!, l[k] as number]);
      assert.ok(`val_${m}` in want, `val_${m} missing with validationSplit`);
      checkChart(c, want);
    }
    const steps = lines.filter((l) => l.kind === 'step' && typeof l.loss === 'number');
    assert.ok(steps.length >= 3);
    checkChart(charts.find((x) => x.title === 'loss by step')!, { loss: steps.map((l) => [l.globalStep, l.loss as number]) });
    assert.ok((section(dom, 'pre', 'summary') ?? '').includes('Total params'), 'model summary');
    assert.equal(JSON.parse(section(dom, 'pre', 'job')!).fit.epochs, 3);
    checkOffline(dom);
  });
});
