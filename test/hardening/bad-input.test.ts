// The generated bad-input suite: every exported `st` and `T` function called with a table of bad
// arguments (test/hardening/bad-input-cases.ts) in a child process whose address space is limited,
// so that a huge allocation fails fast instead of filling the machine.  No call may crash or hang
// the process; every `st` and `T` call either succeeds or throws a SymtensorError naming the
// function (never a TypeError or RangeError, never an inner step's name).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/child';
import { T_ALIASES } from '../support/exports';
import type { Outcome } from './bad-input-cases';

// Functions whose errors are not yet all SymtensorErrors naming them.  The list may only shrink;
// it is empty: every st and T function names itself.
const KNOWN_GAPS = new Set<string>([]);
// Two names of one function: the error names the canonical one (T.tensorVar is T.tensor).
const ALIASES: Record<string, string> = {
  'st.permute': 'transpose',
  'T.permute': 'transpose',
  'T.tensorVar': 'tensor',
  ...Object.fromEntries(Object.entries(T_ALIASES).map(([k, v]) => [`T.${k}`, v])),
};

/** The op an outcome's error names, without its namespace ('T.tensor' → 'tensor'). */
function opOf(o: Outcome): string | undefined {
  return /^SymtensorError \S+ op=(?:T\.|st\.)?([^:\s]+):/.exec(o.detail ?? '')?.[1];
}

/** Calls that did not end in a SymtensorError naming the function (or its canonical name). */
function misnamed(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((o) => o.kind === 'bad' && !KNOWN_GAPS.has(o.fn) && !(ALIASES[o.fn] && opOf(o) === ALIASES[o.fn]));
}

interface Batch {
  status: number | null;
  signal: string | null;
  outcomes: Outcome[];
  unfinished: string | null;
  stderr: string;
}

function runBatch(ns: 'st' | 'T'): Batch {
  // 6 GB of address space: node and the addon start, an allocation of many GB fails at once.  The
  // explicit exit: under the limit the TypeScript loader's optional WebAssembly parser fails to
  // start, which would otherwise set the exit status on its own.
  const dir = mkdtempSync(join(tmpdir(), 'symtensor-bad-input-'));
  const file = join(dir, 'outcomes.jsonl');
  const script = `const m = require('./test/hardening/bad-input-cases'); m.run('${ns}', ${JSON.stringify(file)}); process.exit(0);`;
  const r = spawnSync('bash', ['-c', `ulimit -v 6000000; exec "${process.execPath}" --import tsx -e "$0"`, script], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 240000,
    maxBuffer: 256 * 1024 * 1024,
  });
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no file: the child died before its first call; the status check reports it
  }
  rmSync(dir, { recursive: true, force: true });
  const outcomes: Outcome[] = [];
  let unfinished: string | null = null;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as Outcome & { start?: string };
    if (o.start !== undefined) unfinished = o.start;
    else (outcomes.push(o), (unfinished = null));
  }
  return { status: r.status, signal: r.signal, outcomes, unfinished, stderr: r.stderr ?? '' };
}

/** No abort, no signal: the child reached its explicit exit(0). */
function checkExit(b: Batch): void {
  assert.equal(b.signal, null, `child killed by ${b.signal}: ${b.stderr.slice(-2000)}`);
  assert.equal(b.status, 0, `child exited with ${b.status}: ${b.stderr.slice(-2000)}`);
}

function summarize(bad: Outcome[]): string {
  return bad.slice(0, 25).map((o) => `  ${o.fn} ${o.args}: ${o.detail}`).join('\n') + (bad.length > 25 ? `\n  … ${bad.length - 25} more` : '');
}

describe('hardening: generated bad inputs', function () {
  this.timeout(300000);

  it('st.*: no call crashes; each succeeds or throws a SymtensorError naming the function', () => {
    const b = runBatch('st');
    assert.equal(b.unfinished, null, `the child died during ${b.unfinished} (status ${b.status}, signal ${b.signal}): ${b.stderr.slice(-2000)}`);
    checkExit(b);
    assert.ok(b.outcomes.length > 2000, `only ${b.outcomes.length} calls ran`);
    const bad = misnamed(b.outcomes);
    assert.deepEqual(bad, [], `calls that did not end in a SymtensorError naming the function:\n${summarize(bad)}`);
  });

  it('T.*: no call crashes; each succeeds or throws a SymtensorError naming the function', () => {
    const b = runBatch('T');
    assert.equal(b.unfinished, null, `the child died during ${b.unfinished} (status ${b.status}, signal ${b.signal}): ${b.stderr.slice(-2000)}`);
    checkExit(b);
    assert.ok(b.outcomes.length > 2000, `only ${b.outcomes.length} calls ran`);
    // the bad values do reach the checks: most calls fail, and every function fails at least once
    const failed = new Set(b.outcomes.filter((o) => o.kind !== 'ok').map((o) => o.fn));
    const never = [...new Set(b.outcomes.map((o) => o.fn))].filter((f) => !failed.has(f));
    assert.deepEqual(never, [], 'T functions no bad value made fail');
    const bad = misnamed(b.outcomes);
    assert.deepEqual(bad, [], `calls that did not end in a SymtensorError naming the function:\n${summarize(bad)}`);
  });
});
