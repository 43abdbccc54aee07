#!/usr/bin/env node
// `node scripts/test-types.mjs`: type-checks test/types (typical user code against lib/, with
// `@ts-expect-error` lines for misuses that must stay errors) with the project's tsc.  Nothing is
// emitted or run; a type regression in the public API fails here.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  console.error('test:types: the typescript package is not installed (run npm install)');
  process.exit(1);
}
const args = [tsc, '--noEmit', '-p', path.join('test', 'types')];
console.log(`$ tsc ${args.slice(1).join(' ')}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.error) {
  console.error(`test:types: could not run tsc: ${r.error.message}`);
  process.exit(1);
}
if (r.status !== 0) console.error('test:types: the type test failed (see the errors above)');
else console.log('test:types: ok');
process.exit(r.status ?? 1);
