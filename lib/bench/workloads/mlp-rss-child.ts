// Child process of the mlp-rss workload (run by it as `node --expose-gc --import tsx` this file
// '{"steps":N,"warmup":W}'): trains the MLP SGD step W times, then N times more, and prints one JSON
// line with the resident set size before and after those N steps.  Every N/10 steps it also
// collects garbage and samples the RSS, so that a steady leak (a slope) can be told apart from the
// heap's and the allocator's ups and downs.
import { performance } from 'node:perf_hooks';
import * as st from '../../index';
import { BATCH, stMlp } from './mlp-model';

const { steps, warmup } = JSON.parse(process.argv[2] ?? '{}') as { steps: number; warmup: number };
const gc = (globalThis as { gc?: () => void }).gc;

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage();
}

const m = stMlp(st, { batch: BATCH, optimizer: 'sgd' });
for (let i = 0; i < warmup; i++) m.step.sync(m.x, m.y).dispose();
const before = settle();
const nativeBefore = st.memory();
const samples: { step: number; rss: number; heapUsed: number; external: number }[] = [];
const sample = (step: number, u: NodeJS.MemoryUsage) => samples.push({ step, rss: u.rss, heapUsed: u.heapUsed, external: u.external });
sample(0, before);
const every = Math.max(1, Math.floor(steps / 10));
let stepMs = 0;
for (let i = 1; i <= steps; i++) {
  const t0 = performance.now();
  m.step.sync(m.x, m.y).dispose();
  stepMs += performance.now() - t0;
  if (i % every === 0 && i < steps) sample(i, settle());
}
const after = settle();
sample(steps, after);
const nativeAfter = st.memory();
const loss = m.step.sync(m.x, m.y);
const lossAfter = loss.item();
loss.dispose();
m.dispose();

// least-squares slope of RSS over the samples, in bytes per step
const n = samples.length;
const mx = samples.reduce((a, s) => a + s.step, 0) / n;
const my = samples.reduce((a, s) => a + s.rss, 0) / n;
const slope = samples.reduce((a, s) => a + (s.step - mx) * (s.rss - my), 0) / samples.reduce((a, s) => a + (s.step - mx) ** 2, 0);

console.log(JSON.stringify({
  steps, warmup, gcExposed: !!gc, rssBefore: before.rss, rssAfter: after.rss, growthBytes: after.rss - before.rss,
  slopeBytesPerStep: slope, heapUsedBefore: before.heapUsed, heapUsedAfter: after.heapUsed,
  nativeBefore, nativeAfter, msPerStep: stepMs / steps, lossAfter, samples,
}));
