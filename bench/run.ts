// `npm run bench`: symtensor side by side with its peers, measured in the same run on this machine.
// Writes bench/results/latest.json and prints a table of medians and speedups
// (speedup = peer time / symtensor time; above 1 means symtensor is faster).
//
// Options:
//   --only=sgemm,conv2d        cases whose id or workload contains one of these
//   --peers=symtensor,numpy    subset of symtensor,numpy,tfjs-wasm,tfjs-cpu
//   --quick                    fewer sizes and repetitions (a smoke run)
//   --out=FILE                 JSON destination (default bench/results/latest.json)
//   --numpy-same-env           keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for numpy too (by default
//                              they are removed from numpy's environment only)
// Environment: SYMTENSOR_BENCH_PYTHON=/path/to/python (with numpy) for the numpy peer.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Case, Impl, JsPeer, Libs, MeasureOptions, PEERS, PeerName, Timing,
  fmtMs, fmtRatio, isSkip, measure, table,
} from './harness';
import { UNSET_FOR_NUMPY, findPython, keepEnvForNumpy, runNumpy } from './peers/numpy';
import { loadTfjs, useBackend } from './peers/tfjs';
import { workloads } from './workloads';

type Outcome = (Timing & { gflops?: number }) | { skipped: string } | { error: string };

const root = path.resolve(__dirname, '..');

function parseArgs(argv: string[]) {
  const o = {
    only: [] as string[], peers: [...PEERS] as PeerName[], quick: false, numpySameEnv: false,
    out: path.join(root, 'bench', 'results', 'latest.json'),
  };
  for (const a of argv) {
    const [k, v = ''] = a.split(/=(.*)/s, 2);
    if (k === '--only') o.only = v.split(',').filter(Boolean);
    else if (k === '--peers') {
      const bad = v.split(',').filter((p) => !PEERS.includes(p as PeerName));
      if (bad.length) throw new Error(`unknown peer(s) ${bad.join(', ')}; known: ${PEERS.join(', ')}`);
      o.peers = v.split(',') as PeerName[];
    } else if (k === '--quick') o.quick = true;
    else if (k === '--numpy-same-env') o.numpySameEnv = true;
    else if (k === '--out') o.out = path.resolve(v);
    else if (k === '--help' || k === '-h') {
      console.log(readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return o;
}

function settings(peer: PeerName, quick: boolean, impl?: Impl): MeasureOptions {
  const base: Record<PeerName, MeasureOptions> = {
    symtensor: { reps: 15, warmup: 3, minReps: 5, maxCaseMs: 6000, minSampleMs: 20 },
    numpy: { reps: 15, warmup: 3, minReps: 5, maxCaseMs: 6000, minSampleMs: 20 },
    'tfjs-wasm': { reps: 5, warmup: 1, minReps: 3, maxCaseMs: 10000, minSampleMs: 20 },
    'tfjs-cpu': { reps: 3, warmup: 1, minReps: 2, maxCaseMs: 20000, minSampleMs: 20 },
  };
  const s = { ...base[peer] };
  if (impl?.reps) s.reps = impl.reps;
  if (impl?.warmup !== undefined) s.warmup = impl.warmup;
  if (quick) {
    s.reps = Math.max(2, Math.ceil(s.reps / 3));
    s.minReps = Math.min(s.minReps, s.reps);
    s.maxCaseMs /= 3;
  }
  return s;
}

// A forced collection between measurements keeps one peer's garbage out of the next one's time.
setFlagsFromString('--expose-gc');
const gc: () => void = runInNewContext('gc');

async function runJs(peer: JsPeer, c: Case, libs: Libs, quick: boolean): Promise<Outcome> {
  const impl = c.impls[peer];
  if (!impl) return { skipped: 'no implementation' };
  if (isSkip(impl)) return { skipped: impl.skip };
  if (peer !== 'symtensor') {
    if (!libs.tf) return { skipped: 'tfjs not loaded' };
    await useBackend(libs.tf, peer === 'tfjs-cpu' ? 'cpu' : 'wasm');
  }
  gc();
  const runner = await impl.setup(libs);
  try {
    const t = await measure(runner, settings(peer, quick, impl));
    return withGflops(t, c);
  } finally {
    runner.dispose?.();
    gc();
  }
}

function withGflops(t: Timing, c: Case): Timing {
  return c.flops ? { ...t, gflops: c.flops / (t.medianMs * 1e6) } : t;
}

const ok = (o: Outcome | undefined): o is Timing => !!o && 'medianMs' in o;

function cell(o: Outcome | undefined): string {
  if (!o) return '';
  if ('skipped' in o) return 'skipped';
  if ('error' in o) return 'error';
  return o.gflops !== undefined ? `${fmtMs(o.medianMs)} (${o.gflops.toFixed(o.gflops >= 10 ? 0 : 1)} GF/s)` : fmtMs(o.medianMs);
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
    const want = ['avx', 'avx2', 'fma', 'avx512f'];
    return m ? m[1].split(/\s+/).filter((f) => want.includes(f)) : [];
  } catch {
    return [];
  }
}

/** OpenBLAS's kernel choice for the addon in this environment (it prints "Core: X" at load). */
function symtensorOpenblasCore(): string | null {
  const r = spawnSync(process.execPath, ['-e', "require('node-gyp-build')(process.argv[1])", root], {
    env: { ...process.env, OPENBLAS_VERBOSE: '2' }, encoding: 'utf8', timeout: 60_000,
  });
  return /Core:\s*(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? null;
}

const openblasEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OPENBLAS_')));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const want = (p: PeerName) => opts.peers.includes(p);
  keepEnvForNumpy(opts.numpySameEnv);

  let cases = workloads.flatMap((w) => w.cases({ quick: opts.quick }));
  if (opts.only.length) cases = cases.filter((c) => opts.only.some((s) => c.id.includes(s) || c.workload === s));
  if (!cases.length) throw new Error('no case matches --only');

  // ---- peers ----
  const libs: Libs = { st: null };
  const peerInfo: Record<string, unknown> = {};
  const notes: string[] = [];
  if (want('symtensor')) {
    try {
      libs.st = await import('../lib/index');
      libs.st = libs.st.default && !libs.st.matmul ? libs.st.default : libs.st;
    } catch (e) {
      throw new Error(`cannot load symtensor from lib/index.ts: ${(e as Error).message}\n` +
        '(build the addon with `npm run build:native`; or run peers only with --peers=numpy,tfjs-cpu)');
    }
    peerInfo.symtensor = { backendInfo: libs.st.backendInfo(), openblasCore: symtensorOpenblasCore(), openblasEnv: openblasEnv() };
  }
  if (want('tfjs-cpu') || want('tfjs-wasm')) {
    const t = await loadTfjs();
    libs.tf = t.tf;
    notes.push(...t.notes);
    peerInfo.tfjs = { version: t.version, backends: t.backends };
    for (const [p, b] of [['tfjs-cpu', 'cpu'], ['tfjs-wasm', 'wasm']] as const) {
      if (want(p) && !t.backends.includes(b)) opts.peers = opts.peers.filter((x) => x !== p);
    }
  }
  let pythonFor: string | null = null;
  if (want('numpy')) {
    const { python, tried } = findPython();
    if (!python) {
      notes.push(`numpy peer skipped: no Python with numpy among ${tried.join(', ')} (Debian: apt-get install python3-numpy, or set SYMTENSOR_BENCH_PYTHON)`);
      opts.peers = opts.peers.filter((p) => p !== 'numpy');
    } else pythonFor = python;
  }
  for (const n of notes) console.log(`note: ${n}`);

  const results: Record<string, Partial<Record<PeerName, Outcome>>> = {};
  for (const c of cases) results[c.id] = {};

  // ---- numpy (one child process for all its cases, before the JS peers) ----
  if (pythonFor) {
    const specs = cases.filter((c) => c.numpy && !isSkip(c.numpy)).map((c) => ({ id: c.id, ...(c.numpy as object) })) as
      { id: string; kind: string }[];
    for (const c of cases) if (isSkip(c.numpy) || !c.numpy) results[c.id].numpy = { skipped: isSkip(c.numpy) ? c.numpy.skip : 'not implemented' };
    if (specs.length) {
      console.log(`numpy: running ${specs.length} case(s) with ${pythonFor}`);
      const s = settings('numpy', opts.quick);
      try {
        const np = await runNumpy(pythonFor, specs, s);
        const unset = opts.numpySameEnv ? [] : UNSET_FOR_NUMPY.filter((k) => process.env[k] !== undefined);
        peerInfo.numpy = {
          python: np.python, pythonVersion: np.pythonVersion, numpy: np.version, blas: np.blas, openblasCore: np.openblasCore,
          envUnset: unset,
        };
        for (const c of cases) {
          const r = np.results[c.id];
          if (!r) continue;
          if (r.median_ms !== undefined) {
            results[c.id].numpy = withGflops({
              medianMs: r.median_ms, minMs: r.min_ms ?? r.median_ms, maxMs: r.max_ms ?? r.median_ms, reps: r.reps ?? 0, inner: r.inner ?? 1,
            }, c);
          } else results[c.id].numpy = r.error ? { error: r.error } : { skipped: r.skipped ?? 'no result' };
        }
      } catch (e) {
        console.log(`numpy peer failed: ${(e as Error).message}`);
        for (const c of cases) results[c.id].numpy ??= { error: (e as Error).message };
      }
    }
  }

  // ---- JS peers ----
  for (const c of cases) {
    for (const peer of ['symtensor', 'tfjs-wasm', 'tfjs-cpu'] as JsPeer[]) {
      if (!want(peer)) continue;
      process.stdout.write(`${c.label.padEnd(34)} ${peer.padEnd(10)} `);
      let o: Outcome;
      try {
        o = await runJs(peer, c, libs, opts.quick);
      } catch (e) {
        o = { error: (e as Error).message.split('\n')[0] };
      }
      results[c.id][peer] = o;
      console.log('error' in o ? `error: ${o.error}` : 'skipped' in o ? `skipped: ${o.skipped}` : `${cell(o)}  [${o.reps} reps${o.inner > 1 ? ` x${o.inner}` : ''}]`);
    }
  }

  // ---- speedups, targets, table ----
  const others = PEERS.filter((p) => p !== 'symtensor' && want(p));
  const rows: string[][] = [];
  const out = cases.map((c) => {
    const r = results[c.id];
    const st = r.symtensor;
    const speedups: Partial<Record<PeerName, number>> = {};
    for (const p of others) {
      const o = r[p];
      if (ok(st) && ok(o)) speedups[p] = o.medianMs / st.medianMs;
    }
    const targets = (c.targets ?? []).filter((t) => want(t.peer)).map((t) => {
      const v = speedups[t.peer];
      return { peer: t.peer, min: t.min, value: v ?? null, met: v === undefined ? null : v >= t.min };
    });
    rows.push([
      c.label,
      ...(['symtensor', ...others] as PeerName[]).map((p) => cell(r[p])),
      ...others.map((p) => (speedups[p] !== undefined ? fmtRatio(speedups[p]!) : '-')),
      targets.map((t) => `>=${t.min}x ${t.peer}: ${t.met === null ? 'n/a' : t.met ? 'ok' : 'MISS'}`).join('; '),
    ]);
    return { id: c.id, workload: c.workload, label: c.label, flops: c.flops ?? null, results: r, speedups, targets };
  });
  const header = ['case', 'symtensor', ...others, ...others.map((p) => `vs ${p}`), 'target'];
  const stCore = (peerInfo.symtensor as { openblasCore?: string } | undefined)?.openblasCore;
  const npInfo = peerInfo.numpy as { openblasCore?: string; envUnset?: string[] } | undefined;
  if (stCore || npInfo?.openblasCore) {
    console.log(`\nOpenBLAS kernel: symtensor ${stCore ?? '?'}, numpy ${npInfo?.openblasCore ?? '?'}` +
      (npInfo?.envUnset?.length ? ` (${npInfo.envUnset.join(', ')} removed for numpy only; --numpy-same-env keeps them)` : ''));
  }
  console.log('\nmedian time per call (GF/s where the op count is known); "vs P" = P time / symtensor time\n');
  console.log(table(header, rows));
  for (const n of notes) console.log(`note: ${n}`);

  const report = {
    date: new Date().toISOString(),
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
    machine: {
      cpu: cpuModel(), cores: os.cpus().length, simdFlags: cpuFlags(), memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      platform: `${os.platform()}-${os.arch()}`, node: process.version,
    },
    peers: peerInfo,
    notes,
    speedupDefinition: 'peer median time / symtensor median time (for SGEMM equal to symtensor GFLOP/s / peer GFLOP/s)',
    cases: out,
  };
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), opts.out) || opts.out}`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
