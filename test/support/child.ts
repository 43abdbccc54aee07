// Runs a snippet of JS in a fresh Node process (with TypeScript support), so that tests can
// check process-wide behaviour: thread counts, garbage collection, crashes.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const repoRoot = path.join(__dirname, '..', '..');

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `code` (CommonJS; `st` is bound to the library) in a child process with extra env vars
 * and node flags.  The child's last stdout line is usually JSON written by the snippet.
 */
export function runChild(code: string, opts: { env?: Record<string, string>; nodeArgs?: string[]; timeoutMs?: number; limitKb?: number } = {}): ChildResult {
  const prelude = "const st = require('./lib/index');\n";
  const args = [...(opts.nodeArgs ?? []), '--import', 'tsx', '-e', prelude + code];
  // limitKb: the child's address space (ulimit -v), so that large allocations fail in it
  const [cmd, argv] = opts.limitKb
    ? ['bash', ['-c', `ulimit -v ${Math.floor(opts.limitKb)}; exec "$0" "$@"`, process.execPath, ...args]]
    : [process.execPath, args];
  const r = spawnSync(cmd, argv, {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The JSON object printed on the child's last non-empty stdout line. */
export function lastJson<T = Record<string, unknown>>(r: ChildResult): T {
  const lines = r.stdout.trim().split('\n').filter((l) => l.trim());
  if (!lines.length) throw new Error(`child printed nothing (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(lines[lines.length - 1]) as T;
}
