// Runs a snippet on several processes under mpirun (Open MPI), for tests of st.distributed and of
// anything built on it (data-parallel fit, the CLI).  Each rank reports what it computed with
// `emit(value)`; the helper returns those values indexed by rank.
//
//   const r = runMpi(2, `const { distributed: d } = require('./lib/tensor/distributed'); d.init();
//                        emit({ rank: d.rank, size: d.size });`);
//   r.results[1]  // { rank: 1, size: 2 }
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './child';

/** The launcher the tests use (Open MPI's mpirun, from PATH). */
export const MPIRUN = 'mpirun';

let availability: string | null | undefined;

/**
 * Why MPI tests cannot run here ('mpirun was not found on PATH …'), or null when they can: mpirun
 * starts and the MPI addon (build/Release/symtensor_mpi.node) exists.
 */
export function mpiUnavailable(): string | null {
  if (availability !== undefined) return availability;
  const r = spawnSync(MPIRUN, ['--version'], { encoding: 'utf8', timeout: 20000 });
  if (r.error) availability = `${MPIRUN} was not found on PATH (${r.error.message}); install Open MPI (Debian: openmpi-bin libopenmpi-dev)`;
  else if (r.status !== 0) availability = `${MPIRUN} --version failed: ${(r.stderr || r.stdout).trim().slice(0, 300)}`;
  else {
    const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(String(!!require('fs').existsSync(require('path').join(process.argv[1], 'build/Release/symtensor_mpi.node'))))", repoRoot], { encoding: 'utf8' });
    availability = probe.stdout === 'true' ? null : 'symtensor was built without the MPI addon (build/Release/symtensor_mpi.node is missing; CMake did not find MPI)';
  }
  return availability;
}

/** What one mpirun gave back. */
export interface MpiResult<T> {
  /** Each rank's emitted value, indexed by rank (undefined for a rank that emitted nothing). */
  results: (T | undefined)[];
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `code` (CommonJS, with TypeScript support; cwd is the repository root, so
 * `require('./lib/index')` works) on `np` processes.  The snippet gets `rank` (from the launcher's
 * environment, before any init) and `emit(value)`, which reports a JSON value for this rank; a
 * later emit replaces an earlier one.  Exceptions are not caught: a failing rank makes mpirun fail.
 */
export function runMpi<T = unknown>(np: number, code: string, opts: { timeoutMs?: number; env?: Record<string, string> } = {}): MpiResult<T> {
  // Each rank writes its result to a file of its own (write, then rename): mpirun forwards the
  // ranks' stdout in pieces, so a long line from one rank can be split by another's output.
  const dir = mkdtempSync(join(tmpdir(), 'symtensor-mpi-'));
  const prelude =
    `const rank = Number(process.env.OMPI_COMM_WORLD_RANK ?? process.env.PMIX_RANK ?? process.env.PMI_RANK ?? 0);\n` +
    `const emit = (v) => { const fs = require('fs'); const p = require('path').join(${JSON.stringify(dir)}, 'rank' + rank + '.json'); fs.writeFileSync(p + '.tmp', JSON.stringify(v)); fs.renameSync(p + '.tmp', p); };\n`;
  const args = ['--allow-run-as-root', '--oversubscribe', '-np', String(np), process.execPath, '--import', 'tsx', '-e', prelude + code];
  const r = spawnSync(MPIRUN, args, {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60000,
    killSignal: 'SIGTERM', // mpirun ends its processes on SIGTERM
  });
  const stdout = r.stdout ?? '';
  const results: (T | undefined)[] = new Array(np).fill(undefined);
  for (let k = 0; k < np; k++) {
    const f = join(dir, `rank${k}.json`);
    if (existsSync(f)) results[k] = JSON.parse(readFileSync(f, 'utf8')) as T;
  }
  rmSync(dir, { recursive: true, force: true });
  return { results, status: r.status, signal: r.signal, stdout, stderr: r.stderr ?? '' };
}

/**
 * runMpi, requiring that it exited cleanly and that every rank emitted: otherwise throws with the
 * status and the end of mpirun's output, so a failing test says what went wrong on which rank.
 */
export function runMpiOk<T = unknown>(np: number, code: string, opts: { timeoutMs?: number; env?: Record<string, string> } = {}): T[] {
  const r = runMpi<T>(np, code, opts);
  const missing = r.results.flatMap((v, k) => (v === undefined ? [k] : []));
  if (r.status !== 0 || missing.length)
    throw new Error(
      `mpirun -np ${np} ${r.signal ? `was killed (${r.signal}; timeout?)` : `exited with status ${r.status}`}` +
        `${missing.length ? `, no result from rank ${missing.join(', ')}` : ''}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`,
    );
  return r.results as T[];
}
