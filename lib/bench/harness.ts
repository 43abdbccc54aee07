// Shared types and the timing loop for the benchmark runner (run.ts).  A workload (workloads/*.ts) returns
// Cases; each Case says how every JS implementation runs it (setup once, then a timed `run`), what
// the Python peers (numpy, PyTorch) run for it, and which targets it has.  Timings are medians of
// several repetitions after warm-up.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { childScript, packageRoot } from './paths';

/** Implementations measured inside this Node process. */
export type JsImpl = 'symtensor' | 'symtensor-eager' | 'symtensor-async' | 'tfjs-wasm' | 'tfjs-cpu';
/** Implementations measured by a Python child (bench/peers/*_bench.py in the package). */
export type PyImpl = 'numpy' | 'torch' | 'torch-default';
export type ImplName = JsImpl | PyImpl;

/** Table order.  'symtensor' is the reference every ratio is taken against. */
export const IMPLS: ImplName[] = [
  'symtensor', 'symtensor-eager', 'symtensor-async', 'numpy', 'torch', 'torch-default', 'tfjs-wasm', 'tfjs-cpu',
];
export const JS_IMPLS: JsImpl[] = ['symtensor', 'symtensor-eager', 'symtensor-async', 'tfjs-wasm', 'tfjs-cpu'];
export const PY_IMPLS: PyImpl[] = ['numpy', 'torch', 'torch-default'];

/** --peers names: a family selects all its implementations. */
export const FAMILIES: Record<string, ImplName[]> = {
  symtensor: ['symtensor', 'symtensor-eager', 'symtensor-async'],
  numpy: ['numpy'],
  torch: ['torch', 'torch-default'],
  'tfjs-wasm': ['tfjs-wasm'],
  'tfjs-cpu': ['tfjs-cpu'],
  tfjs: ['tfjs-wasm', 'tfjs-cpu'],
};

/** What the JS peers' modules look like to workloads (loosely typed: the bench is not type-checked). */
export interface Libs {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  st: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  tf?: any;
}

/** One prepared measurement: `run` is the timed part and must leave its result computed. */
export interface Runner {
  run(): unknown | Promise<unknown>;
  /** Called once after timing (untimed): anything worth keeping in the JSON (checks, profiles). */
  details?(): unknown | Promise<unknown>;
  dispose?(): void;
}

/** Repetition settings a case or an implementation may override. */
export interface TimingOverrides {
  reps?: number;
  warmup?: number;
  /** Calls per timed sample, fixed (otherwise chosen so that a sample lasts minSampleMs). */
  inner?: number;
  maxCaseMs?: number;
}

export interface Impl extends TimingOverrides {
  setup(libs: Libs): Runner | Promise<Runner>;
}

/** A case an implementation does not run, with the reason printed in the table. */
export interface Skip {
  skip: string;
}

/** What a Python peer runs: `kind` names a maker in its script, the rest are its parameters. */
export interface PySpec {
  kind: string;
  timing?: TimingOverrides;
  [param: string]: unknown;
}

export type Target =
  /** speedup = peer time / symtensor time >= min (for GEMM: the ratio of GFLOP/s). */
  | { peer: ImplName; min: number }
  /** A metric of the case (see Case.metrics) within bounds; `text` says what it means. */
  | { metric: string; max?: number; min?: number; text: string; unit?: string };

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  reps: number;
  inner: number; // calls per timed sample (fast cases are batched so a sample is not all timer noise)
  gflops?: number;
  /** Per-round medians when the case was measured in several interleaved rounds. */
  roundMedians?: number[];
  samples?: number[];
  details?: unknown;
}

export type Outcome = Timing | { skipped: string } | { error: string };
export type CaseResults = Partial<Record<ImplName, Outcome>>;

/** A case that is not a timing (e.g. memory growth): it runs once and reports metrics. */
export interface CustomRun {
  run(ctx: { quick: boolean }): Promise<{ metrics: Record<string, number>; text: string; details?: unknown }>;
}

export interface Case {
  id: string; // stable key in the JSON, e.g. 'sgemm/n=1024'
  workload: string;
  label: string; // table row
  flops?: number; // floating-point operations per run, for GFLOP/s
  /** Repetition settings for every implementation of this case (an Impl's own win). */
  timing?: TimingOverrides;
  impls?: Partial<Record<JsImpl, Impl | Skip>>;
  py?: Partial<Record<PyImpl, PySpec | Skip>>;
  custom?: CustomRun;
  /** Ids of cases whose results this one's metrics use: they run whenever this one does. */
  requires?: string[];
  /** Derived numbers (ratios, bounds) from this case's results and the others' (by id). */
  metrics?(r: CaseResults, all: Record<string, CaseResults>): Record<string, number>;
  targets?: Target[];
  /** What the case's rows measure, when the label cannot say it: printed under the table, kept in the JSON. */
  notes?: string[];
}

export interface Workload {
  name: string;
  description: string;
  cases(opts: { quick: boolean }): Case[];
}

export interface MeasureOptions {
  reps: number;
  warmup: number;
  /** Stop adding repetitions after this much time (at least minReps are taken). */
  maxCaseMs: number;
  minReps: number;
  /** Batch calls so that one sample lasts at least this long. */
  minSampleMs: number;
  inner?: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const isPromise = (x: unknown): x is Promise<unknown> => typeof (x as Promise<unknown>)?.then === 'function';

export async function measure(runner: Runner, o: MeasureOptions): Promise<Timing> {
  // Synchronous runs are not awaited: an await costs a microtask turn, which would show in
  // microsecond-sized calls.
  const call = (): Promise<unknown> | undefined => {
    const r = runner.run();
    return isPromise(r) ? r : undefined;
  };
  let first = 0;
  for (let i = 0; i < Math.max(1, o.warmup); i++) {
    const t0 = performance.now();
    const p = call();
    if (p) await p;
    first = performance.now() - t0;
  }
  const inner = o.inner ?? (first > 0 && first < o.minSampleMs ? Math.min(1000, Math.ceil(o.minSampleMs / Math.max(first, 1e-3))) : 1);
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < o.reps) {
    const t0 = performance.now();
    for (let k = 0; k < inner; k++) {
      const p = call();
      if (p) await p;
    }
    samples.push((performance.now() - t0) / inner);
    if (samples.length >= o.minReps && performance.now() - start > o.maxCaseMs) break;
  }
  return {
    medianMs: median(samples),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    reps: samples.length,
    inner,
    samples,
  };
}

export function isSkip(x: unknown): x is Skip {
  return typeof x === 'object' && x !== null && typeof (x as Skip).skip === 'string';
}

export const isTiming = (o: Outcome | undefined): o is Timing => !!o && 'medianMs' in o;

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  if (ms >= 0.1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms >= 0.01) return `${(ms * 1000).toFixed(1)} µs`;
  return `${(ms * 1000).toFixed(2)} µs`;
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x >= 100) return `${x.toFixed(0)}x`;
  if (x >= 10) return `${x.toFixed(1)}x`;
  return `${x.toFixed(2)}x`;
}

/** A plain-text table: the first leftCols and the last rightCols columns left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][], leftCols = 2, rightCols = 0): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const left = (i: number) => i < leftCols || i >= header.length - rightCols;
  const line = (r: string[]) => r.map((c, i) => (left(i) ? (c ?? '').padEnd(w[i]) : (c ?? '').padStart(w[i]))).join('  ').trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** Medians by implementation, or NaN: for Case.metrics. */
export function ms(r: CaseResults | undefined, impl: ImplName): number {
  const o = r?.[impl];
  return isTiming(o) ? o.medianMs : NaN;
}

/**
 * Runs a bench child script (`name` in `dir`: the .ts file through tsx from the sources, the .js
 * file in the compiled package) as `node [nodeArgs] file '<json args>'` from the package root and
 * resolves with the JSON its last stdout line holds; `label` names it in errors.
 */
export function runJsonChild<T>(label: string, dir: string, name: string, args: unknown, nodeArgs: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const script = childScript(dir, name);
    const child = spawn(process.execPath, [...nodeArgs, ...script.nodeArgs, script.file, JSON.stringify(args)], {
      cwd: packageRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${label} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${label} printed no JSON: ${out.slice(0, 300)} ${err.slice(0, 300)}`));
      }
    });
  });
}
