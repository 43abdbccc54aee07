// The layer rule of DESIGN.md, checked on the code: models → compile → graph → tensor → base
// (native.ts, errors.ts, dtype.ts, ops.generated.ts), and no import runs back up.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const lib = path.join(__dirname, '..', '..', 'lib');

/** Rank of a file (path relative to lib/, '/'-separated); higher layers may import lower ones. */
const LAYER_RANK: Record<string, number> = { tensor: 1, graph: 2, compile: 3, data: 3, models: 4, bench: 5, cli: 6 };
function rankOf(rel: string): number {
  const parts = rel.split('/');
  if (parts.length === 1) return /^index\.[cm]?ts$/.test(parts[0]) ? 10 : 0;
  const r = LAYER_RANK[parts[0]];
  if (r === undefined) throw new Error(`lib/${parts[0]}/ is not a layer of DESIGN.md: add it to LAYER_RANK`);
  return r;
}

/** Relative module specifiers a source file imports (static, re-exports, dynamic, require). */
export function importsOf(src: string): string[] {
  const re = /\b(?:import|export)\s[^;'"]*?from\s*['"](\.[^'"]*)['"]|\bimport\s*\(\s*['"](\.[^'"]*)['"]\s*\)|\brequire\s*\(\s*['"](\.[^'"]*)['"]\s*\)|^\s*import\s*['"](\.[^'"]*)['"]/gm;
  const out: string[] = [];
  for (const m of src.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

/** Every `from -> to` import under root that runs from a lower layer to a higher one. */
export function upwardImports(files: Map<string, string>): string[] {
  const bad: string[] = [];
  for (const [rel, src] of files) {
    for (const spec of importsOf(src)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec));
      if (target.startsWith('..')) continue; // package.json and the like
      if (rankOf(target) > rankOf(rel)) bad.push(`lib/${rel} -> lib/${target}`);
    }
  }
  return bad;
}

function libFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.[cm]?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) files.set(path.relative(lib, p).split(path.sep).join('/'), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(lib);
  return files;
}

describe('structure: layers only look down', () => {
  it('no file under lib/ imports from a layer above its own', () => {
    const files = libFiles();
    assert.ok(files.size > 30, `found only ${files.size} files under lib/`);
    assert.deepEqual(upwardImports(files), []);
  });

  it('the check sees every import form (and would fail on an upward one)', () => {
    const cases: [string, string][] = [
      ["import { fn } from '../compile/function';", 'static import'],
      ["export { fn } from '../compile/function';", 're-export'],
      ["import type { X } from '../compile/function';", 'type import'],
      ["const m = require('../compile/function');", 'require'],
      ["const m = await import('../compile/function');", 'dynamic import'],
      ["import '../compile/function';", 'side-effect import'],
      ["import {\n  a,\n  b,\n} from '../compile/function';", 'multi-line import'],
    ];
    for (const [src, what] of cases)
      assert.deepEqual(upwardImports(new Map([['graph/x.ts', src]])), ['lib/graph/x.ts -> lib/compile/function'], what);
    assert.deepEqual(upwardImports(new Map([['compile/x.ts', "import { T } from '../graph/T';"]])), [], 'downward import');
    assert.deepEqual(upwardImports(new Map([['tensor/x.ts', "import { native } from '../native';"]])), [], 'into the base');
  });

  it('importing the library installs no process-wide handler', () => {
    const code = `
      const before = ['exit', 'beforeExit', 'uncaughtException', 'unhandledRejection', 'SIGINT', 'SIGTERM'].map((e) => process.listenerCount(e));
      require('./lib/index');
      const after = ['exit', 'beforeExit', 'uncaughtException', 'unhandledRejection', 'SIGINT', 'SIGTERM'].map((e) => process.listenerCount(e));
      console.log(JSON.stringify({ before, after }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: path.join(lib, '..'), encoding: 'utf8', env: { ...process.env, SYMTENSOR_DEBUG: '2' } });
    assert.equal(r.status, 0, r.stderr);
    const { before, after } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(after, before);
  });
});
