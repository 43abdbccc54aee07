// Runs the Python peers (bench/peers/numpy_bench.py, torch_bench.py) in child processes.  Debian's
// numpy and PyTorch live in the system interpreter (/usr/bin/python3), which may not be the first
// python3 on PATH; SYMTENSOR_BENCH_PYTHON picks the interpreter explicitly.  The child gets this
// process's environment (so the same OpenBLAS settings as symtensor) changed by `extraEnv` (a null
// value removes the variable).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { MeasureOptions } from '../harness';

export interface PyResult {
  median_ms?: number;
  min_ms?: number;
  max_ms?: number;
  reps?: number;
  inner?: number;
  skipped?: string;
  error?: string;
}

export interface PyRun {
  info: Record<string, unknown>;
  /** OpenBLAS's kernel choice in the child ("Core: ..." printed at load with OPENBLAS_VERBOSE=2). */
  verboseCore: string | null;
  results: Record<string, PyResult>;
}

const found = new Map<string, { python: string | null; tried: string[] }>();

/** The first interpreter that can import `module`. */
export function findPython(module: string): { python: string | null; tried: string[] } {
  const hit = found.get(module);
  if (hit) return hit;
  const candidates = [process.env.SYMTENSOR_BENCH_PYTHON, '/usr/bin/python3', 'python3', '/usr/local/bin/python3', 'python']
    .filter((p): p is string => !!p);
  const tried: string[] = [];
  let python: string | null = null;
  for (const p of [...new Set(candidates)]) {
    const r = spawnSync(p, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 120_000 });
    tried.push(p);
    if (r.status === 0) {
      python = p;
      break;
    }
  }
  const res = { python, tried };
  found.set(module, res);
  return res;
}

export function runPython(
  python: string,
  script: string,
  cases: { id: string; kind: string; [k: string]: unknown }[],
  opts: MeasureOptions,
  extraEnv: Record<string, string | null> = {},
  progress: (line: string) => void = () => {},
): Promise<PyRun> {
  const file = path.join(__dirname, script);
  const request = {
    warmup: opts.warmup,
    reps: opts.reps,
    min_reps: opts.minReps,
    max_case_s: opts.maxCaseMs / 1000,
    min_sample_ms: opts.minSampleMs,
    cases,
  };
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_VERBOSE: '2', PYTHONDONTWRITEBYTECODE: '1' };
    for (const [k, v] of Object.entries(extraEnv)) {
      if (v === null) delete env[k];
      else env[k] = v;
    }
    const child = spawn(python, [file], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let core: string | null = null;
    const errTail: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8');
    let errBuf = '';
    const errLine = (line: string) => {
      const m = /^Core:\s*(\S+)/.exec(line.trim());
      if (m) core = m[1];
      else if (/ done$/.test(line.trim())) progress(line.trim());
      else if (line.trim()) {
        errTail.push(line);
        if (errTail.length > 20) errTail.shift();
      }
    };
    child.stderr.on('data', (d: string) => {
      errBuf += d;
      const lines = errBuf.split('\n');
      errBuf = lines.pop() ?? '';
      lines.forEach(errLine);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      errLine(errBuf);
      if (code !== 0) return reject(new Error(`${python} ${script} exited with ${code}\n${errTail.join('\n')}`));
      try {
        const j = JSON.parse(out);
        if (errTail.length) j.info.stderr = errTail.join('\n');
        resolve({ info: j.info, verboseCore: core, results: j.results });
      } catch (e) {
        reject(new Error(`${script} printed no JSON: ${(e as Error).message}\n${out.slice(0, 500)}`));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}
