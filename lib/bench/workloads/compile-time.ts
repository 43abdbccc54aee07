// Compile time: st.grad + st.fn + the first call (which specializes, lowers and creates the
// native program) of an SGD step for MLPs of 10, 100, 400 and 1,000 dense+relu layers (32 units,
// batch 16), and st.fn + first call of a chain of 2,500 elementwise ops (x·1.0001 + 0.5 repeated,
// fused into one program).  Each size runs in its own child process
// (`node --import tsx workloads/compile-time-child.ts`) after an untimed warm-up compile; median of
// 3 runs (--quick: 1).  The MLP child also builds the same model again over the same shared
// variables: `rebuilt` is that copy's grad + fn + first call (its program comes from the cache).
// Targets: compile time linear in depth (1,000 layers <= 12x the time of 100), 400 layers < 4 s.
import type { Case, Workload } from '../harness';
import { median, runJsonChild } from '../harness';

interface ChildTiming {
  buildMs: number;
  gradMs: number;
  fnMs: number;
  firstCallMs: number;
  totalMs: number;
  rebuiltMs?: number;
}

const LAYERS = [10, 100, 400, 1000];
const CHAIN_OPS = 2500;

export const compileTime: Workload = {
  name: 'compile-time',
  description: 'grad + fn + first call of deep MLP training steps and of a long elementwise chain',
  cases({ quick }) {
    const runs = quick ? 1 : 3;
    const mlp: Case = {
      id: 'compile-time/mlp-sgd',
      workload: 'compile-time',
      label: `compile MLP SGD step, ${LAYERS.join('/')} layers`,
      custom: {
        async run() {
          const rows: Record<number, ChildTiming> = {};
          for (const layers of LAYERS) rows[layers] = await medianOf(runs, { kind: 'mlp', size: layers });
          const ms = (l: number) => rows[l].totalMs;
          const metrics: Record<string, number> = {};
          for (const l of LAYERS) {
            metrics[`ms${l}`] = ms(l);
            metrics[`rebuiltMs${l}`] = rows[l].rebuiltMs ?? NaN;
          }
          metrics.ratio1000to100 = ms(1000) / ms(100);
          metrics.ratio400to100 = ms(400) / ms(100);
          const text = LAYERS.map((l) => `${l}: ${fmt(rows[l])}`).join('; ') + `; 1000/100 = ${metrics.ratio1000to100.toFixed(2)}x`;
          return { metrics, text, details: rows };
        },
      },
      targets: [
        { metric: 'ratio1000to100', max: 12, text: 'time linear in depth: 1,000 layers <= 12x the time of 100', unit: 'x' },
        { metric: 'ms400', max: 4000, text: '400 layers: grad + fn + first call < 4 s', unit: 'ms' },
      ],
    };
    const chain: Case = {
      id: 'compile-time/chain',
      workload: 'compile-time',
      label: `compile ${CHAIN_OPS}-op elementwise chain`,
      custom: {
        async run() {
          const r = await medianOf(runs, { kind: 'chain', size: CHAIN_OPS });
          return { metrics: { ms: r.totalMs, fnMs: r.fnMs, firstCallMs: r.firstCallMs }, text: fmt(r), details: r };
        },
      },
    };
    return [mlp, chain];
  },
};

function fmt(r: ChildTiming): string {
  const parts = [`${Math.round(r.totalMs)} ms (${r.gradMs ? `grad ${Math.round(r.gradMs)}, ` : ''}fn ${Math.round(r.fnMs)}, first call ${Math.round(r.firstCallMs)})`];
  if (r.rebuiltMs !== undefined) parts.push(`rebuilt ${Math.round(r.rebuiltMs)} ms`);
  return parts.join(', ');
}

/** Runs the child `runs` times; the run with the median total. */
async function medianOf(runs: number, args: { kind: 'mlp' | 'chain'; size: number }): Promise<ChildTiming> {
  const all: ChildTiming[] = [];
  for (let i = 0; i < runs; i++) all.push(await runChild(args));
  const m = median(all.map((r) => r.totalMs));
  return all.reduce((best, r) => (Math.abs(r.totalMs - m) < Math.abs(best.totalMs - m) ? r : best));
}

function runChild(args: { kind: 'mlp' | 'chain'; size: number }): Promise<ChildTiming> {
  return runJsonChild<ChildTiming>(`compile-time child (${args.kind} ${args.size})`, __dirname, 'compile-time-child', args, []);
}
