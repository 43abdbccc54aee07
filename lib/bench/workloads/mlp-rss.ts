// Memory growth: the MLP SGD step (mlp-sgd.ts) run 10,000 times after 500 warm-up steps (--quick:
// 1,000 after 200), in a child process `node --expose-gc --import tsx mlp-rss-child.ts` so that
// nothing else of the bench lives in its heap.  Reported: process.memoryUsage().rss after minus
// before (each after forced collections), the RSS trend (least-squares slope over 11 samples, each
// after collections), the JS heap's growth and the native tensors held.
// Target: growth < 5 MB.
import type { Workload } from '../harness';
import { runJsonChild } from '../harness';

export const mlpRss: Workload = {
  name: 'mlp-rss',
  description: 'RSS growth over 10,000 compiled SGD steps of the MLP',
  cases({ quick }) {
    const steps = quick ? 1000 : 10000;
    const warmup = quick ? 200 : 500;
    return [{
      id: 'mlp-rss/sgd',
      workload: 'mlp-rss',
      label: `MLP SGD RSS growth, ${steps} steps`,
      custom: {
        async run() {
          const r = await runChild({ steps, warmup });
          const mb = r.growthBytes / 1e6;
          const leaked = r.nativeAfter.numTensors - r.nativeBefore.numTensors;
          const trend = (r.slopeBytesPerStep * 10000) / 1e6;
          const heap = (r.heapUsedAfter - r.heapUsedBefore) / 1e6;
          const sign = (x: number, d = 2) => `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;
          return {
            metrics: { rssGrowthMB: mb, rssTrendMBPer10kSteps: trend, heapUsedGrowthMB: heap, nativeTensorsDelta: leaked, msPerStep: r.msPerStep },
            text: `${sign(mb)} MB RSS (${(r.rssBefore / 1e6).toFixed(1)} -> ${(r.rssAfter / 1e6).toFixed(1)} MB; trend ${sign(trend)} MB per 10k steps), ` +
              `JS heap ${sign(heap)} MB, ${sign(leaked, 0)} native tensors, ${r.msPerStep.toFixed(2)} ms/step`,
            details: r,
          };
        },
      },
      targets: [{ metric: 'rssGrowthMB', max: 5, text: `RSS growth < 5 MB over ${steps} steps`, unit: 'MB' }],
    }];
  },
};

interface ChildResult {
  rssBefore: number;
  rssAfter: number;
  growthBytes: number;
  nativeBefore: { numTensors: number; numBytes: number };
  nativeAfter: { numTensors: number; numBytes: number };
  msPerStep: number;
  slopeBytesPerStep: number;
  heapUsedBefore: number;
  heapUsedAfter: number;
  [k: string]: unknown;
}

function runChild(args: { steps: number; warmup: number }): Promise<ChildResult> {
  return runJsonChild<ChildResult>('rss child', __dirname, 'mlp-rss-child', args, ['--expose-gc']);
}
