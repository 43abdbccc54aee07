#!/usr/bin/env node
// Builds the API reference into docs/api/ (HTML) from the TSDoc comments of lib/, with TypeDoc.
//
//   node scripts/docs.mjs           build docs/api/
//   node scripts/docs.mjs --check   the same, failing on any warning: an exported name without a
//                                   doc comment, a broken {@link}, a type that is referenced but
//                                   not reachable from the package entry (used by CI)
//
// TypeDoc runs on the TypeScript compiler API, which the project's TypeScript 7 (the native tsc)
// does not have; so, like the benchmark peers, it lives in a tooling folder of its own: docs/
// pins TypeDoc and the TypeScript 5 it supports (docs/package-lock.json), installed here into
// docs/node_modules when missing or when the lockfile changed.  Extra arguments go to TypeDoc.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const docs = join(root, 'docs');
const lockfile = join(docs, 'package-lock.json');
const stamp = join(docs, 'node_modules', '.symtensor-docs-lock');
const typedocBin = join(docs, 'node_modules', 'typedoc', 'bin', 'typedoc');

const args = process.argv.slice(2);
const check = args.includes('--check');
const passThrough = args.filter((a) => a !== '--check');

function run(cmd, cmdArgs, cwd) {
  const r = spawnSync(cmd, cmdArgs, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function lockHash() {
  return createHash('sha256').update(readFileSync(lockfile)).digest('hex');
}

/** Installs docs/node_modules from the lockfile unless the installed copy came from this very lockfile. */
function ensureTooling() {
  const want = lockHash();
  if (existsSync(typedocBin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return;
  console.log('docs: installing TypeDoc into docs/node_modules (docs/package-lock.json) …');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const status = run(npm, ['ci', '--prefix', docs, '--no-audit', '--no-fund'], root);
  if (status !== 0) {
    console.error(`docs: npm ci --prefix docs failed (exit ${status}); the registry must be reachable for the first run`);
    process.exit(status);
  }
  writeFileSync(stamp, `${want}\n`);
}

ensureTooling();
const started = Date.now();
const typedocArgs = ['--options', 'typedoc.json', ...(check ? ['--treatWarningsAsErrors'] : []), ...passThrough];
const status = run(process.execPath, [typedocBin, ...typedocArgs], docs);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (status !== 0) {
  console.error(
    check
      ? `docs: check failed in ${seconds} s: fix the warnings above (a doc comment on each exported name and public member, {@link} targets that exist)`
      : `docs: TypeDoc failed (exit ${status}) in ${seconds} s`,
  );
  process.exit(status);
}
console.log(`docs: ${check ? 'check passed, ' : ''}docs/api/index.html written in ${seconds} s`);
