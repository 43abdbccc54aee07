// The Python peers (bench/peers/numpy_bench.py, torch_bench.py in the package), each a child process
// that serves measurement requests one at a time, so that run.ts can interleave them with the JS
// implementations case by case.  Debian's numpy and PyTorch live in the system interpreter
// (/usr/bin/python3), which may not be the first python3 on PATH; SYMTENSOR_BENCH_PYTHON picks the
// interpreter explicitly.  The child gets this process's environment (so the same OpenBLAS
// settings as symtensor) changed by `extraEnv` (a null value removes the variable).
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { MeasureOptions } from '../harness';
import { pythonPeersDir } from '../paths';

export interface PyResult {
  median_ms?: number;
  min_ms?: number;
  max_ms?: number;
  reps?: number;
  inner?: number;
  samples?: number[];
  skipped?: string;
  error?: string;
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

export class PyPeer {
  private child: ChildProcessWithoutNullStreams;
  private waiting: ((line: string | null) => void) | null = null;
  private lines: string[] = [];
  private closed = false;
  private errTail: string[] = [];
  /** OpenBLAS's kernel choice ("Core: ..." printed at load with OPENBLAS_VERBOSE=2). */
  verboseCore: string | null = null;

  constructor(readonly python: string, readonly script: string, extraEnv: Record<string, string | null> = {}) {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_VERBOSE: '2', PYTHONDONTWRITEBYTECODE: '1' };
    for (const [k, v] of Object.entries(extraEnv)) {
      if (v === null) delete env[k];
      else env[k] = v;
    }
    this.child = spawn(python, [path.join(pythonPeersDir, script)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      const m = /^Core:\s*(\S+)/.exec(line.trim());
      if (m) this.verboseCore = m[1];
      else if (line.trim()) {
        this.errTail.push(line);
        if (this.errTail.length > 20) this.errTail.shift();
      }
    });
    this.child.on('error', (e) => this.errTail.push(String(e)));
    this.child.on('close', () => {
      this.closed = true;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(null);
      }
    });
  }

  private async request(obj: unknown): Promise<Record<string, unknown>> {
    if (this.closed) throw new Error(`${this.script} is not running: ${this.errTail.join('\n')}`);
    this.child.stdin.write(JSON.stringify(obj) + '\n');
    const line = this.lines.length ? this.lines.shift()! : await new Promise<string | null>((resolve) => (this.waiting = resolve));
    if (line === null) throw new Error(`${this.script} exited: ${this.errTail.slice(-5).join('\n')}`);
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`${this.script} printed no JSON: ${line.slice(0, 300)}`);
    }
  }

  async info(): Promise<Record<string, unknown>> {
    const r = await this.request({ info: true });
    const info = r.info as Record<string, unknown>;
    if (this.errTail.length) info.stderr = this.errTail.join('\n');
    return info;
  }

  async measure(id: string, spec: Record<string, unknown>, o: MeasureOptions): Promise<PyResult> {
    const settings = {
      warmup: o.warmup, reps: o.reps, min_reps: o.minReps, max_case_s: o.maxCaseMs / 1000, min_sample_ms: o.minSampleMs,
      inner: o.inner,
    };
    const r = await this.request({ id, spec, settings });
    return r.result as PyResult;
  }

  close(): void {
    if (!this.closed) this.child.stdin.end();
  }
}
