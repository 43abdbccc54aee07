// The benchmark suite's runner: symtensor side by side with its peers, measured in the same run on
// this machine.  Prints a table of medians, ratios and targets ("speedup" = that implementation's
// time / symtensor's time; above 1 means symtensor is faster) and writes the numbers as JSON.
// Started by `npm run bench` (bench/run.ts, from the sources) and by `symtensor bench` (from the
// compiled package); both parse their own flags into BenchOptions.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Case, CaseResults, IMPLS, Impl, ImplName, JsImpl, JS_IMPLS, Libs, MeasureOptions, Outcome, PY_IMPLS, PyImpl,
  PySpec, Target, Timing, TimingOverrides, fmtMs, fmtRatio, isSkip, isTiming, measure, median, table,
} from './harness';
import { argError } from '../errors';
import { packageRoot } from './paths';
import { PyPeer, findPython } from './peers/python';
import { loadTfjs, useBackend } from './peers/tfjs';
import { workloads } from './workloads';

const root = packageRoot;
const t00 = performance.now();

/** What one benchmark run measures and where it writes. */
export interface BenchOptions {
  /** Cases whose id contains, or whose workload equals, one of these (plus what their metrics need); empty: all. */
  only: string[];
  /** Implementations to run, in any order (see IMPLS); the table keeps IMPLS's order. */
  impls: ImplName[];
  /** Fewer sizes, repetitions and RSS steps: a smoke run. */
  quick: boolean;
  /** OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE were kept on purpose (recorded in the JSON). */
  keepEnv: boolean;
  /** The JSON file to write. */
  out: string;
  /** The command line recorded in the JSON (e.g. `npm run bench -- --quick`). */
  command: string;
}

// ---- OpenBLAS environment: re-run once without the overrides ----
const OPENBLAS_OVERRIDES = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];
const REEXEC_MARK = 'SYMTENSOR_BENCH_REMOVED_ENV';

/**
 * When OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set and `keep` is false, runs this same process
 * again (same node flags, script and `argv`) without them, so that OpenBLAS picks its own kernel
 * for this CPU, and exits with the child's code; otherwise returns.
 */
export function reexecWithoutOverrides(argv: string[], keep: boolean): void {
  if (keep) return;
  const present = OPENBLAS_OVERRIDES.filter((k) => process.env[k] !== undefined);
  if (!present.length) return;
  const env: NodeJS.ProcessEnv = { ...process.env, [REEXEC_MARK]: present.map((k) => `${k}=${process.env[k]}`).join(' ') };
  for (const k of present) delete env[k];
  console.log(`bench: re-running without ${present.join(', ')} (OpenBLAS picks its own kernel; --keep-openblas-env keeps them)`);
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...argv], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

const BASE: Record<'symtensor' | 'python' | 'tfjs-wasm' | 'tfjs-cpu', MeasureOptions> = {
  symtensor: { reps: 15, warmup: 3, minReps: 5, maxCaseMs: 6000, minSampleMs: 20 },
  python: { reps: 15, warmup: 3, minReps: 5, maxCaseMs: 6000, minSampleMs: 20 },
  'tfjs-wasm': { reps: 5, warmup: 1, minReps: 3, maxCaseMs: 10000, minSampleMs: 20 },
  'tfjs-cpu': { reps: 3, warmup: 1, minReps: 2, maxCaseMs: 20000, minSampleMs: 20 },
};

function settings(impl: JsImpl | 'python', quick: boolean, ...over: (TimingOverrides | undefined)[]): MeasureOptions {
  const s: MeasureOptions = { ...BASE[impl.startsWith('symtensor') ? 'symtensor' : (impl as keyof typeof BASE)] };
  for (const o of over) {
    if (!o) continue;
    if (o.reps !== undefined) s.reps = o.reps;
    if (o.warmup !== undefined) s.warmup = o.warmup;
    if (o.inner !== undefined) s.inner = o.inner;
    if (o.maxCaseMs !== undefined) s.maxCaseMs = o.maxCaseMs;
  }
  s.minReps = Math.min(s.minReps, s.reps);
  if (quick) {
    s.reps = Math.max(2, Math.ceil(s.reps / 3));
    s.minReps = Math.min(s.minReps, s.reps);
    s.warmup = Math.max(1, Math.ceil(s.warmup / 3));
    s.maxCaseMs /= 3;
  }
  return s;
}

// A forced collection between measurements keeps one peer's garbage out of the next one's time.
setFlagsFromString('--expose-gc');
const gc: () => void = runInNewContext('gc');

/**
 * Each case is measured in ROUNDS rounds; in each, every implementation takes its share of the
 * repetitions, in an order that rotates from round to round, so that all of them see the same
 * machine (other processes' load comes and goes).  Samples are pooled over the rounds.  Between two
 * measurements the bench pauses SETTLE_MS: OpenBLAS's threads keep spinning for a while after a
 * GEMM (in this process or a Python child) and would steal a core from the next one.
 */
const ROUNDS = 3;
const SETTLE_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One round of a JS implementation: setup, measure, (details on the last round), dispose. */
async function runJsRound(impl: JsImpl, c: Case, libs: Libs, o: MeasureOptions, withDetails: boolean): Promise<Timing> {
  const spec = c.impls![impl] as Impl;
  if (impl.startsWith('tfjs')) await useBackend(libs.tf, impl === 'tfjs-cpu' ? 'cpu' : 'wasm');
  gc();
  const runner = await spec.setup(libs);
  try {
    const t: Timing = await measure(runner, o);
    if (withDetails && runner.details) t.details = await runner.details();
    return t;
  } finally {
    runner.dispose?.();
    gc();
  }
}

function withGflops(t: Timing, c: Case): Timing {
  return c.flops ? { ...t, gflops: c.flops / (t.medianMs * 1e6) } : t;
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch { /* not Linux */ }
  return os.cpus()[0]?.model ?? 'unknown';
}

function cpuFlags(): string[] {
  try {
    const m = /flags\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    const want = ['avx', 'avx2', 'fma', 'avx512f', 'avx512_bf16', 'amx_tile'];
    return m ? m[1].split(/\s+/).filter((f) => want.includes(f)) : [];
  } catch {
    return [];
  }
}

/** OpenBLAS's kernel choice for the addon in this environment (it prints "Core: X" at load). */
function symtensorOpenblasCore(): string | null {
  // from the package root, where node-gyp-build resolves (in a checkout and in node_modules alike)
  const r = spawnSync(process.execPath, ['-e', "require('node-gyp-build')(process.argv[1])", root], {
    cwd: root, env: { ...process.env, OPENBLAS_VERBOSE: '2' }, encoding: 'utf8', timeout: 60_000,
  });
  return /Core:\s*(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? null;
}

/** HEAD, with '+dirty' when lib/ or native/ have uncommitted changes. */
function gitCommit(): string | null {
  // An installed package has no .git of its own (git would answer for the user's project).
  if (!existsSync(path.join(root, '.git'))) return null;
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'lib', 'native'], { cwd: root, encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? '+dirty' : ''}`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/**
 * symtensor's float32 and float64 matrix products (all transpose flags) against a float64
 * reference computed here: with the OpenBLAS overrides removed, the kernel OpenBLAS picks for this
 * CPU must still be right.  Returns the worst relative error (max |err| / max |ref|) per dtype.
 */
function gemmCheck(st: Any): { float32: number; float64: number } {
  const worst = { float32: 0, float64: 0 };
  const shapes: [number, number, number, boolean, boolean, 'float32' | 'float64'][] = [];
  for (const ta of [false, true]) for (const tb of [false, true]) shapes.push([300, 200, 170, ta, tb, 'float32']);
  shapes.push([128, 784, 512, false, false, 'float32'], [512, 128, 512, true, false, 'float32'], [300, 200, 170, false, true, 'float64']);
  shapes.forEach(([m, k, n, ta, tb, dtype], i) => {
    const a = st.randomNormal(ta ? [k, m] : [m, k], { seed: 60 + i, dtype });
    const b = st.randomNormal(tb ? [n, k] : [k, n], { seed: 80 + i, dtype });
    const c = st.matmul(a, b, ta, tb);
    const A = a.dataSync(), B = b.dataSync(), C = c.dataSync();
    let maxErr = 0, maxRef = 0;
    const row = new Float64Array(n);
    for (let r = 0; r < m; r++) {
      row.fill(0);
      for (let q = 0; q < k; q++) {
        const av = ta ? A[q * m + r] : A[r * k + q];
        for (let j = 0; j < n; j++) row[j] += av * (tb ? B[j * k + q] : B[q * n + j]);
      }
      for (let j = 0; j < n; j++) {
        maxErr = Math.max(maxErr, Math.abs(C[r * n + j] - row[j]));
        maxRef = Math.max(maxRef, Math.abs(row[j]));
      }
    }
    worst[dtype] = Math.max(worst[dtype], maxErr / maxRef);
    [a, b, c].forEach((t) => t.dispose());
  });
  return worst;
}
const GEMM_TOL = { float32: 1e-4, float64: 1e-10 };

const PY_PEERS: Record<PyImpl, { module: string; script: string; env: Record<string, string | null> }> = {
  numpy: { module: 'numpy', script: 'numpy_bench.py', env: {} },
  torch: { module: 'torch', script: 'torch_bench.py', env: { OMP_WAIT_POLICY: 'PASSIVE' } },
  'torch-default': { module: 'torch', script: 'torch_bench.py', env: { OMP_WAIT_POLICY: null } },
};

/** How to install the tfjs peers: in a checkout, bench:install; elsewhere, into the user's project. */
function tfjsHint(): string {
  return existsSync(path.join(root, 'bench', 'package.json'))
    ? '`npm run bench:install` installs the JS peers (about 290 MB)'
    : '`npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm` in this project adds them (about 290 MB)';
}

function fmtMetric(v: number, unit?: string): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'x') return fmtRatio(v);
  if (unit === 'ms') return fmtMs(v);
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit ? `${s} ${unit}` : s;
}

function targetText(t: Target): string {
  return 'metric' in t ? t.text : `time <= ${fmtRatio(1 / t.min)} ${t.peer}'s (speedup >= ${t.min}x)`;
}

/**
 * Runs the cases `opts` selects with the implementations it names that this machine has (Python
 * peers: an interpreter that imports numpy / torch; tfjs: @tensorflow/tfjs resolvable), prints
 * the table, ratios and targets, and writes the JSON report to `opts.out`.
 * @example await runBench({ only: ['sgemm'], impls: ['symtensor'], quick: true, keepEnv: false, out: 'bench.json', command: 'x' })
 */
export async function runBench(options: BenchOptions): Promise<void> {
  const opts = { ...options, impls: IMPLS.filter((p) => options.impls.includes(p)) };
  const want = (p: ImplName) => opts.impls.includes(p);
  const removedEnv = process.env[REEXEC_MARK]?.split(' ').filter(Boolean) ?? [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const loadStart = os.loadavg();

  const allCases = workloads.flatMap((w) => w.cases({ quick: opts.quick }));
  let cases = allCases;
  if (opts.only.length) {
    const keep = new Set(allCases.filter((c) => opts.only.some((s) => c.id.includes(s) || c.workload === s)).map((c) => c.id));
    for (const c of allCases) if (keep.has(c.id)) for (const r of c.requires ?? []) keep.add(r);
    cases = allCases.filter((c) => keep.has(c.id));
  }
  if (!cases.length) throw argError('bench', `no case matches --only ${opts.only.join(',')}; workloads: ${workloads.map((w) => w.name).join(', ')}`);

  // ---- JS libraries ----
  const libs: Libs = { st: null };
  const peerInfo: Record<string, unknown> = {};
  // the symtensor-* variants (async runner, eager ops) need the library as much as symtensor does
  if (opts.impls.some((p) => p.startsWith('symtensor'))) {
    try {
      libs.st = await import('../index');
      libs.st = libs.st.default && !libs.st.matmul ? libs.st.default : libs.st;
    } catch (e) {
      throw new Error(`cannot load symtensor: ${(e as Error).message}\n` +
        '(build the addon with `npm run build:native`; or run peers only with --peers=numpy,torch,tfjs)');
    }
    const check = gemmCheck(libs.st);
    for (const d of ['float32', 'float64'] as const) {
      if (!(check[d] <= GEMM_TOL[d])) warnings.push(`symtensor ${d} matmul differs from a float64 reference by ${check[d].toExponential(2)} (relative) in this OpenBLAS environment`);
    }
    peerInfo.symtensor = { backendInfo: libs.st.backendInfo(), openblasCore: symtensorOpenblasCore(), gemmCheckRelErr: check };
  }
  // tfjs is an optional peer set (bench/package.json): without it the tfjs cases are skipped, and said so.
  const tfjs = want('tfjs-cpu') || want('tfjs-wasm') ? await loadTfjs().catch((e: Error) => e) : null;
  if (tfjs instanceof Error) {
    const absent = /MODULE_NOT_FOUND/.test(String((tfjs as NodeJS.ErrnoException).code));
    notes.push(`tfjs-cpu and tfjs-wasm skipped: ${absent ? `@tensorflow/tfjs is not installed; ${tfjsHint()}`
      : `@tensorflow/tfjs did not load: ${tfjs.message.split('\n')[0]}`}`);
    opts.impls = opts.impls.filter((x) => !x.startsWith('tfjs'));
  } else if (tfjs) {
    const t = tfjs;
    libs.tf = t.tf;
    notes.push(...t.notes);
    peerInfo.tfjs = { version: t.version, backends: t.backends, blas: 'none (own kernels)' };
    for (const [p, b] of [['tfjs-cpu', 'cpu'], ['tfjs-wasm', 'wasm']] as const) {
      if (want(p) && !t.backends.includes(b)) opts.impls = opts.impls.filter((x) => x !== p);
    }
  }

  const results: Record<string, CaseResults> = {};
  for (const c of cases) results[c.id] = {};
  const progress = (label: string, impl: string, o: Outcome) =>
    console.log(`${label.padEnd(34)} ${impl.padEnd(15)} ${'error' in o ? `error: ${o.error}` : 'skipped' in o ? `skipped: ${o.skipped}` :
      `${fmtMs(o.medianMs)}${o.gflops !== undefined ? ` (${o.gflops.toFixed(1)} GF/s)` : ''}  [${o.reps} reps${o.inner > 1 ? ` x${o.inner}` : ''}]`}`);

  // ---- Python peers: one server child each ----
  const timed = cases.filter((c) => !c.custom);
  const py: Partial<Record<PyImpl, PyPeer>> = {};
  for (const impl of PY_IMPLS.filter(want)) {
    const peer = PY_PEERS[impl];
    if (!timed.some((c) => c.py?.[impl] && !isSkip(c.py[impl]))) continue;
    const { python, tried } = findPython(peer.module);
    if (!python) {
      notes.push(`${impl} skipped: no Python with ${peer.module} among ${tried.join(', ')} (Debian: apt-get install python3-${peer.module}, or set SYMTENSOR_BENCH_PYTHON)`);
      continue;
    }
    const server = new PyPeer(python, peer.script, peer.env);
    try {
      const info = await server.info();
      const ob = info.openblas as { core?: string } | undefined;
      peerInfo[impl] = { ...info, openblasCore: ob?.core ?? server.verboseCore, env: peer.env };
      const err = info.gemm_check_rel_err as number | undefined;
      if (err !== undefined && !(err <= GEMM_TOL.float32)) warnings.push(`${impl} float32 matmul differs from a float64 reference by ${err.toExponential(2)} (relative)`);
      py[impl] = server;
      console.log(`${impl}: ${python} ${peer.script}${Object.keys(peer.env).length ? ` (${Object.entries(peer.env).map(([k, v]) => v === null ? `${k} unset` : `${k}=${v}`).join(', ')})` : ''}`);
    } catch (e) {
      notes.push(`${impl} skipped: ${(e as Error).message.split('\n')[0]}`);
      server.close();
    }
  }

  // ---- timed cases: all implementations, interleaved in rounds ----
  const rounds = opts.quick ? 1 : ROUNDS;
  for (const c of timed) {
    const plan: ImplName[] = [];
    for (const impl of IMPLS.filter(want)) {
      const spec = (JS_IMPLS as string[]).includes(impl) ? c.impls?.[impl as JsImpl] : c.py?.[impl as PyImpl];
      if (!spec) continue;
      if (isSkip(spec)) results[c.id][impl] = { skipped: spec.skip };
      else if (impl.startsWith('tfjs') && !libs.tf) results[c.id][impl] = { skipped: 'tfjs not loaded' };
      else if ((PY_IMPLS as string[]).includes(impl) && !py[impl as PyImpl]) results[c.id][impl] = { skipped: 'no Python peer' };
      else plan.push(impl);
    }
    const acc = new Map<ImplName, { samples: number[]; roundMedians: number[]; inner: number; details?: unknown; fail?: Outcome }>();
    for (let r = 0; r < rounds; r++) {
      const order = plan.slice(r % Math.max(1, plan.length)).concat(plan.slice(0, r % Math.max(1, plan.length)));
      for (const impl of order) {
        const isJs = (JS_IMPLS as string[]).includes(impl);
        const spec = (isJs ? c.impls![impl as JsImpl] : c.py![impl as PyImpl]) as Impl | PySpec;
        // tfjs-cpu is slow enough that one round is all it gets
        const n = impl === 'tfjs-cpu' ? 1 : rounds;
        if (r >= n) continue;
        const a = acc.get(impl) ?? { samples: [], roundMedians: [], inner: 1 };
        acc.set(impl, a);
        if (a.fail) continue;
        const full = settings(isJs ? (impl as JsImpl) : 'python', opts.quick, c.timing, isJs ? (spec as Impl) : (spec as PySpec).timing);
        const o: MeasureOptions = {
          ...full, reps: Math.max(1, Math.ceil(full.reps / n)), minReps: Math.max(1, Math.ceil(full.minReps / n)), maxCaseMs: full.maxCaseMs / n,
        };
        try {
          let t: Timing;
          if (isJs) t = await runJsRound(impl as JsImpl, c, libs, o, r === n - 1);
          else {
            const { timing: _t, ...pySpec } = spec as PySpec;
            const pr = await py[impl as PyImpl]!.measure(c.id, pySpec, o);
            if (pr.median_ms === undefined) {
              a.fail = pr.error ? { error: pr.error } : { skipped: pr.skipped ?? 'no result' };
              continue;
            }
            t = { medianMs: pr.median_ms, minMs: pr.min_ms!, maxMs: pr.max_ms!, reps: pr.reps!, inner: pr.inner ?? 1, samples: pr.samples };
          }
          a.samples.push(...(t.samples ?? [t.medianMs]));
          a.roundMedians.push(t.medianMs);
          a.inner = t.inner;
          if (t.details !== undefined) a.details = t.details;
        } catch (e) {
          a.fail = { error: (e as Error).message.split('\n')[0] };
        }
        await sleep(opts.quick ? SETTLE_MS / 3 : SETTLE_MS);
      }
    }
    for (const impl of plan) {
      const a = acc.get(impl)!;
      let o: Outcome;
      if (a.fail) o = a.fail;
      else {
        o = withGflops({
          medianMs: median(a.samples), minMs: Math.min(...a.samples), maxMs: Math.max(...a.samples), reps: a.samples.length, inner: a.inner,
          ...(a.roundMedians.length > 1 ? { roundMedians: a.roundMedians } : {}),
          ...(a.details !== undefined ? { details: a.details } : {}),
        }, c);
      }
      results[c.id][impl] = o;
      progress(c.label, impl, o);
      const w = isTiming(o) ? (o.details as { warning?: string } | undefined)?.warning : undefined;
      if (w) warnings.push(`${c.label} (${impl}): ${w}`);
    }
  }
  for (const server of Object.values(py)) server.close();

  // ---- custom cases (memory growth …) ----
  const customOut: Record<string, { metrics: Record<string, number>; text: string; details?: unknown } | { error: string }> = {};
  for (const c of cases.filter((x) => x.custom)) {
    if (!want('symtensor')) continue;
    process.stdout.write(`${c.label.padEnd(34)} symtensor       `);
    try {
      const r = await c.custom!.run({ quick: opts.quick });
      customOut[c.id] = r;
      console.log(r.text);
    } catch (e) {
      customOut[c.id] = { error: (e as Error).message };
      console.log(`error: ${(e as Error).message}`);
    }
  }

  // ---- ratios, metrics, targets ----
  const rows: string[][] = [];
  const summary: { case: string; target: string; value: number | null; shown: string; met: boolean | null }[] = [];
  const metricLines: string[] = [];
  const customLines: string[] = [];
  const out = cases.map((c) => {
    const r = results[c.id];
    const st = r.symtensor;
    const speedups: Partial<Record<ImplName, number>> = {};
    for (const p of IMPLS) {
      const o = r[p];
      if (p !== 'symtensor' && isTiming(st) && isTiming(o)) speedups[p] = o.medianMs / st.medianMs;
    }
    const custom = customOut[c.id];
    let metrics: Record<string, number> = {};
    if (custom && 'metrics' in custom) metrics = custom.metrics;
    else if (c.metrics) metrics = c.metrics(r, results);
    const shownMetrics = Object.entries(metrics).filter(([, v]) => Number.isFinite(v));
    if (shownMetrics.length && !c.custom) metricLines.push(`${c.label}: ${shownMetrics.map(([k, v]) => `${k} ${fmtMetric(v)}`).join(', ')}`);
    const targets = (c.targets ?? []).map((t) => {
      let value: number | undefined;
      let met: boolean | null = null;
      if ('metric' in t) {
        value = metrics[t.metric];
        if (value !== undefined && Number.isFinite(value)) met = (t.max === undefined || value <= t.max) && (t.min === undefined || value >= t.min);
      } else {
        value = speedups[t.peer];
        if (value !== undefined) met = value >= t.min;
      }
      const shown = value === undefined || !Number.isFinite(value) ? 'n/a' : 'metric' in t ? fmtMetric(value, t.unit) : `speedup ${fmtRatio(value)}`;
      summary.push({ case: c.label, target: targetText(t), value: value ?? null, shown, met });
      return { ...t, value: value ?? null, met };
    });
    if (custom) {
      customLines.push(`${c.label}: ${'error' in custom ? `error: ${custom.error}` : custom.text}`);
    } else {
      let first = true;
      for (const p of IMPLS) {
        const o = r[p];
        if (!o) continue;
        const spread = isTiming(o) && o.roundMedians ? Math.max(...o.roundMedians) / Math.min(...o.roundMedians) : NaN;
        rows.push([
          first ? c.label : '',
          p,
          isTiming(o) ? fmtMs(o.medianMs) : 'skipped' in o ? 'skipped' : 'error',
          isTiming(o) && o.gflops !== undefined ? o.gflops.toFixed(o.gflops >= 10 ? 0 : 1) : '',
          speedups[p] !== undefined ? fmtRatio(speedups[p]!) : '',
          isTiming(o) ? `${o.reps}${o.inner > 1 ? `x${o.inner}` : ''}` : '',
          isTiming(o) ? (Number.isFinite(spread) && spread > 1.25 ? `rounds differ ${fmtRatio(spread)}` : '') : 'skipped' in o ? o.skipped : o.error.slice(0, 60),
        ]);
        first = false;
      }
    }
    return {
      id: c.id, workload: c.workload, label: c.label, flops: c.flops ?? null, results: r, speedups, metrics, targets,
      ...(custom ? { custom } : {}),
      ...(c.notes ? { notes: c.notes } : {}),
    };
  });

  // ---- print ----
  const stInfo = peerInfo.symtensor as { openblasCore?: string; backendInfo?: { gemm: string; threads: number; simd: string } } | undefined;
  console.log(`\nOpenBLAS environment: ${removedEnv.length ? `removed ${removedEnv.join(' ')}` : opts.keepEnv ? `kept (${OPENBLAS_OVERRIDES.map((k) => `${k}=${process.env[k] ?? '(unset)'}`).join(' ')})` : 'no overrides set'}; the same for every peer`);
  const cores = [
    stInfo ? `symtensor ${stInfo.openblasCore ?? '?'} (${stInfo.backendInfo?.gemm}, ${stInfo.backendInfo?.threads} threads, kernels ${stInfo.backendInfo?.simd})` : null,
    ...PY_IMPLS.filter((p) => peerInfo[p]).map((p) => `${p} ${(peerInfo[p] as { openblasCore?: string }).openblasCore ?? '?'}`),
  ].filter(Boolean);
  if (cores.length) console.log(`OpenBLAS kernel: ${cores.join('; ')}`);
  console.log('\nmedian time per call; GF/s where the op count is known; speedup = that time / symtensor\'s (above 1: symtensor is faster)\n');
  console.log(table(['case', 'impl', 'median', 'GF/s', 'speedup', 'samples', 'note'], rows, 2, 1));
  for (const l of customLines) console.log(`\n${l}`);
  const rowNotes = out.filter((c) => c.notes?.length);
  // a workload's cases may share their notes: each is printed once
  const noteLines = [...new Set(rowNotes.flatMap((c) => c.notes!.map((n) => `  ${c.workload}: ${n}`)))];
  if (noteLines.length) console.log(`\nwhat the rows measure\n${noteLines.join('\n')}`);

  for (const c of out) {
    for (const impl of ['symtensor'] as ImplName[]) {
      const o = c.results[impl];
      const d = isTiming(o) ? (o.details as { profile?: { index: number; op: string; shapes?: string; msPerCall: number; share: number }[]; profileByKind?: Record<string, number>; profileInstrMs?: number; profileWallMs?: number; instructions?: number }) : undefined;
      if (!d?.profile) continue;
      console.log(`\nprofile of ${c.label} (symtensor, f.profile()): ${d.instructions} instructions, ${fmtMs(d.profileInstrMs!)} in instructions of ${fmtMs(d.profileWallMs!)} per call`);
      const cut = (x: string, n: number) => (x.length > n ? `${x.slice(0, n - 3)}...` : x);
      console.log(table(['#', 'instruction', 'shapes (out <- in)', 'ms/call', 'share'],
        d.profile.slice(0, 14).map((e) => [String(e.index), cut(e.op, 48), cut(e.shapes ?? '', 40), e.msPerCall.toFixed(4), `${(100 * e.share).toFixed(1)}%`]), 3));
      console.log(`by kind: ${Object.entries(d.profileByKind ?? {}).map(([k, v]) => `${k} ${v.toFixed(3)} ms`).join(', ')}`);
    }
  }
  if (metricLines.length) console.log(`\nderived (time ratios: below 1 = symtensor faster)\n${metricLines.map((l) => `  ${l}`).join('\n')}`);
  if (summary.length) {
    console.log('\ntargets');
    console.log(table(['', 'case', 'target', 'value'], summary.map((s) => [s.met === null ? 'n/a' : s.met ? 'ok' : 'MISS', s.case, s.target, s.shown]), 3));
    const met = summary.filter((s) => s.met).length;
    const missed = summary.filter((s) => s.met === false).length;
    console.log(`${met} met, ${missed} missed${summary.length - met - missed ? `, ${summary.length - met - missed} not measured` : ''}`);
  }
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`peers run: ${peersRun(results).join(', ') || 'none'}`);
  for (const w of warnings) console.log(`WARNING: ${w}`);
  const loadEnd = os.loadavg();
  const elapsed = (performance.now() - t00) / 1000;
  console.log(`\nload average ${loadStart.map((x) => x.toFixed(2)).join(' ')} at start, ${loadEnd.map((x) => x.toFixed(2)).join(' ')} at end; ${elapsed.toFixed(0)} s`);

  const report = {
    date: new Date().toISOString(),
    command: opts.command,
    commit: gitCommit(),
    seconds: +elapsed.toFixed(1),
    machine: {
      cpu: cpuModel(), cores: os.cpus().length, simdFlags: cpuFlags(), memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      platform: `${os.platform()}-${os.arch()}`, node: process.version, loadavgStart: loadStart, loadavgEnd: loadEnd,
    },
    openblas: {
      removedFromEnv: removedEnv,
      kept: opts.keepEnv ? Object.fromEntries(OPENBLAS_OVERRIDES.map((k) => [k, process.env[k] ?? null])) : null,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OPENBLAS_'))),
      core: Object.fromEntries(Object.entries(peerInfo).filter(([, v]) => (v as { openblasCore?: string }).openblasCore !== undefined)
        .map(([k, v]) => [k, (v as { openblasCore?: string }).openblasCore])),
    },
    peers: peerInfo,
    notes,
    warnings,
    speedupDefinition: 'implementation median time / symtensor median time (above 1: symtensor is faster; for GEMM equal to the ratio of GFLOP/s)',
    cases: out,
    targets: summary,
  };
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), opts.out) || opts.out}`);
}

/** The implementations that produced at least one measurement, in the table's order. */
function peersRun(results: Record<string, CaseResults>): string[] {
  const ran = new Set<string>();
  for (const r of Object.values(results)) for (const [impl, o] of Object.entries(r)) if (o && !('skipped' in o) && !('error' in o)) ran.add(impl);
  return IMPLS.filter((i) => ran.has(i));
}
