#!/usr/bin/env node
// Run after `tsc` by `npm run build:ts`: removes dist/ files whose lib/*.ts source no longer exists,
// so that a file moved or deleted in lib/ does not live on in the published package.
import { readdirSync, rmSync, existsSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const lib = path.join(root, 'lib');
// dist/a/b.js, b.d.ts, b.js.map, b.d.ts.map all come from lib/a/b.ts
const SUFFIX = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

/** Removes stale outputs under dir (iteratively) and returns how many files went. */
function prune(dir) {
  let removed = 0;
  const stack = [dir];
  const dirs = [];
  while (stack.length) {
    const d = stack.pop();
    dirs.push(d);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) { stack.push(full); continue; }
      if (!SUFFIX.test(e.name)) continue;
      const source = path.join(lib, path.relative(dist, full).replace(SUFFIX, '.ts'));
      if (!existsSync(source)) { rmSync(full); removed++; }
    }
  }
  // empty folders last, deepest first
  for (const d of dirs.reverse()) if (d !== dir && readdirSync(d).length === 0) rmdirSync(d);
  return removed;
}

if (existsSync(dist)) {
  const n = prune(dist);
  if (n) console.log(`prune-dist: removed ${n} file(s) whose lib/ source is gone`);
}
