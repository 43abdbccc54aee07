// Child process of the mlp-rss workload (run by it as `node --expose-gc --import tsx` this file
// '{"steps":N,"warmup":W}'): trains the MLP SGD step W times, then N times more, and prints one JSON
// line with the resident set size before and after those N steps (after forced collections).
import { performance } from 'node:perf_hooks';
import * as st from '../../lib/index';
import { BATCH, stMlp } from './mlp-model';

const { steps, warmup } = JSON.parse(process.argv[2] ?? '{}') as { steps: number; warmup: number };
const gc = (globalThis as { gc?: () => void }).gc;

function settle(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().rss;
}

const m = stMlp(st, { batch: BATCH, optimizer: 'sgd' });
for (let i = 0; i < warmup; i++) m.step.sync(m.x, m.y).dispose();
const rssBefore = settle();
const memBefore = st.memory();
const samples: [number, number][] = [[0, rssBefore]];
const every = Math.max(1, Math.floor(steps / 10));
const t0 = performance.now();
for (let i = 1; i <= steps; i++) {
  m.step.sync(m.x, m.y).dispose();
  if (i % every === 0) samples.push([i, process.memoryUsage().rss]);
}
const msPerStep = (performance.now() - t0) / steps;
const rssAfter = settle();
const memAfter = st.memory();
const loss = m.step.sync(m.x, m.y);
const lossAfter = loss.item();
loss.dispose();
m.dispose();
console.log(JSON.stringify({
  steps, warmup, gcExposed: !!gc, rssBefore, rssAfter, growthBytes: rssAfter - rssBefore,
  nativeBefore: memBefore, nativeAfter: memAfter, msPerStep, lossAfter, rssSamples: samples,
}));
