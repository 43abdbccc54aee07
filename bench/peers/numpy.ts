// Runs bench/peers/numpy_bench.py with a Python that has numpy.  Debian's numpy lives in the system
// interpreter (/usr/bin/python3), which may not be the first python3 on PATH (pyenv shims).
// SYMTENSOR_BENCH_PYTHON picks the interpreter explicitly.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

export interface NumpyRun {
  python: string;
  version: string;
  pythonVersion: string;
  blas: string;
  /** OpenBLAS's kernel choice in the child ("Core: ..." from OPENBLAS_VERBOSE=2), when it says. */
  openblasCore: string | null;
  results: Record<string, { median_ms?: number; min_ms?: number; max_ms?: number; reps?: number; inner?: number; skipped?: string; error?: string }>;
}

/** OpenBLAS overrides that are removed from the numpy child's environment (unless sameEnv). */
export const UNSET_FOR_NUMPY = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];
let sameEnv = false;
export function keepEnvForNumpy(keep: boolean): void {
  sameEnv = keep;
}

/** The environment of the numpy child: ours without the OpenBLAS overrides. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (!sameEnv) for (const k of UNSET_FOR_NUMPY) delete env[k];
  return env;
}

export function findPython(): { python: string | null; tried: string[] } {
  const candidates = [process.env.SYMTENSOR_BENCH_PYTHON, '/usr/bin/python3', 'python3', '/usr/local/bin/python3', 'python']
    .filter((p): p is string => !!p);
  const tried: string[] = [];
  for (const p of [...new Set(candidates)]) {
    const r = spawnSync(p, ['-c', 'import numpy'], { stdio: 'ignore', env: childEnv(), timeout: 60_000 });
    tried.push(p);
    if (r.status === 0) return { python: p, tried };
  }
  return { python: null, tried };
}

export function runNumpy(
  python: string,
  cases: { id: string; kind: string; [k: string]: unknown }[],
  opts: { warmup: number; reps: number; minReps: number; maxCaseMs: number; minSampleMs: number },
): Promise<NumpyRun> {
  const script = path.join(__dirname, 'numpy_bench.py');
  const request = {
    warmup: opts.warmup,
    reps: opts.reps,
    min_reps: opts.minReps,
    max_case_s: opts.maxCaseMs / 1000,
    min_sample_ms: opts.minSampleMs,
    cases,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script], { env: { ...childEnv(), OPENBLAS_VERBOSE: '2' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let core: string | null = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8');
    let errBuf = '';
    const errLine = (line: string) => {
      const m = /^Core:\s*(\S+)/.exec(line.trim());
      if (m) core = m[1];
      else if (line.trim()) process.stderr.write(line + '\n');
    };
    child.stderr.on('data', (d: string) => {
      errBuf += d;
      const lines = errBuf.split('\n');
      errBuf = lines.pop() ?? '';
      lines.forEach(errLine);
    });
    child.stderr.on('end', () => errLine(errBuf));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${python} ${script} exited with ${code}`));
      try {
        const j = JSON.parse(out);
        resolve({ python, version: j.numpy, pythonVersion: j.python, blas: j.blas, openblasCore: core, results: j.results });
      } catch (e) {
        reject(new Error(`numpy peer printed no JSON: ${(e as Error).message}\n${out.slice(0, 500)}`));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}
