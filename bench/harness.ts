// Shared types and the timing loop for bench/run.ts.  A workload (bench/workloads/*.ts) returns
// Cases; each Case says how every JS peer runs it (setup once, then a timed `run`) and what the
// numpy script should run for it.  Timings are medians of several repetitions after warm-up.
import { performance } from 'node:perf_hooks';

export type PeerName = 'symtensor' | 'numpy' | 'tfjs-wasm' | 'tfjs-cpu';
export type JsPeer = Exclude<PeerName, 'numpy'>;
export const PEERS: PeerName[] = ['symtensor', 'numpy', 'tfjs-wasm', 'tfjs-cpu'];

/** What the peers' modules look like to workloads (loosely typed: the bench is not type-checked). */
export interface Libs {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  st: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  tf?: any;
}

/** One prepared measurement: `run` is the timed part and must leave its result computed. */
export interface Runner {
  run(): unknown | Promise<unknown>;
  dispose?(): void;
}

export interface Impl {
  setup(libs: Libs): Runner | Promise<Runner>;
  /** Repetitions and warm-up runs (defaults from the peer's settings). */
  reps?: number;
  warmup?: number;
}

/** A case a peer does not run, with the reason printed in the table. */
export interface Skip {
  skip: string;
}

export interface NumpySpec {
  kind: string;
  [param: string]: unknown;
}

export interface Target {
  /** speedup = peer time / symtensor time (for GEMM: symtensor GFLOP/s / peer GFLOP/s). */
  peer: PeerName;
  min: number;
}

export interface Case {
  id: string; // stable key in the JSON, e.g. 'sgemm/n=1024'
  workload: string;
  label: string; // table row
  flops?: number; // floating-point operations per run, for GFLOP/s
  impls: Partial<Record<JsPeer, Impl | Skip>>;
  numpy?: NumpySpec | Skip;
  targets?: Target[];
}

export interface Workload {
  name: string;
  description: string;
  cases(opts: { quick: boolean }): Case[];
}

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  reps: number;
  inner: number; // calls per timed sample (fast cases are batched so a sample is not all timer noise)
  gflops?: number;
}

export interface MeasureOptions {
  reps: number;
  warmup: number;
  /** Stop adding repetitions after this much time (at least minReps are taken). */
  maxCaseMs: number;
  minReps: number;
  /** Batch calls so that one sample lasts at least this long. */
  minSampleMs: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function measure(runner: Runner, o: MeasureOptions): Promise<Timing> {
  let first = 0;
  for (let i = 0; i < Math.max(1, o.warmup); i++) {
    const t0 = performance.now();
    await runner.run();
    first = performance.now() - t0;
  }
  const inner = first > 0 && first < o.minSampleMs ? Math.min(1000, Math.ceil(o.minSampleMs / Math.max(first, 1e-3))) : 1;
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < o.reps) {
    const t0 = performance.now();
    for (let k = 0; k < inner; k++) await runner.run();
    samples.push((performance.now() - t0) / inner);
    if (samples.length >= o.minReps && performance.now() - start > o.maxCaseMs) break;
  }
  return {
    medianMs: median(samples),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    reps: samples.length,
    inner,
  };
}

export function isSkip(x: unknown): x is Skip {
  return typeof x === 'object' && x !== null && typeof (x as Skip).skip === 'string';
}

export function fmtMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x >= 100) return `${x.toFixed(0)}x`;
  if (x >= 10) return `${x.toFixed(1)}x`;
  return `${x.toFixed(2)}x`;
}

/** A plain-text table with right-aligned columns after the first. */
export function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? (c ?? '').padEnd(w[i]) : (c ?? '').padStart(w[i]))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
