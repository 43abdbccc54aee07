#!/usr/bin/env node
// The "node-gyp" that `npm run prebuildify` hands to prebuildify (--node-gyp scripts/prebuild-cmake.mjs).
//
// prebuildify spawns this file with node-gyp's arguments (`rebuild --target=<v> --devdir=<dir>
// --arch=x64 --release`), then takes the first *.node in build/Release/, strips it and *moves* it to
// prebuilds/<platform>-<arch>/.  We ignore node-gyp's arguments (N-API builds need no per-version
// headers) and build with cmake-js instead:
//   - in build-prebuild/ (cmake-js --out), so the developer build in build/ is not reconfigured;
//   - with OpenBLAS linked statically (libopenblas.a, symbols hidden) and portable code generation,
//     so the prebuild runs on any x86-64 Linux without OpenBLAS installed.
// The result is copied to build/Release/symtensor.node for prebuildify to pick up.  A developer
// addon already there is first moved aside to build/symtensor.node.dev; `node
// scripts/prebuild-cmake.mjs --restore` (run after prebuildify) puts it back unchanged, so ninja
// in build/ still sees it as up to date.
//
// Environment: SYMTENSOR_PREBUILD_ALLOW_NO_BLAS=1 accepts a prebuild without OpenBLAS (otherwise
// a prebuild that would fall back to the built-in GEMM is an error).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = 'build-prebuild';
const builtAddon = path.join(root, outDir, 'Release', 'symtensor.node');
const releaseDir = path.join(root, 'build', 'Release');
const handoff = path.join(releaseDir, 'symtensor.node');
const saved = path.join(root, 'build', 'symtensor.node.dev');

function fail(msg) {
  console.error(`prebuild-cmake: ${msg}`);
  process.exit(1);
}

function sameFile(a, b) {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

// After prebuildify: put the developer addon back where it was.  If build/Release/symtensor.node
// exists it is either the prebuild that prebuildify did not take (it failed early; identical to
// build-prebuild's) or a developer build made since; only the former is replaced.
function restore() {
  if (!existsSync(saved)) return;
  if (existsSync(handoff) && !sameFile(handoff, builtAddon)) {
    rmSync(saved);
    console.log('prebuild-cmake: build/Release/symtensor.node was rebuilt meanwhile; dropped the saved copy');
    return;
  }
  if (existsSync(handoff)) rmSync(handoff);
  renameSync(saved, handoff);
  console.log('prebuild-cmake: restored the developer addon build/Release/symtensor.node');
}

if (process.argv.includes('--restore')) {
  restore();
  process.exit(0);
}

const ignored = process.argv.slice(2);
if (ignored.length) console.log(`prebuild-cmake: ignoring node-gyp arguments: ${ignored.join(' ')}`);

let cmakeJs;
try {
  cmakeJs = createRequire(path.join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
} catch {
  fail('cmake-js is not installed (run `npm install` first).');
}

const args = [
  cmakeJs,
  'rebuild',
  '--out', outDir,
  '--CDSYMTENSOR_STATIC_OPENBLAS=ON',
  '--CDSYMTENSOR_PORTABLE=ON',
  '--CDSYMTENSOR_NO_MPI=ON', // a prebuild never links a distribution's libmpi
];
console.log(`prebuild-cmake: $ cmake-js ${args.slice(1).join(' ')}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.error) fail(`could not run cmake-js: ${r.error.message}`);
if (r.status !== 0) fail(`cmake-js failed (exit ${r.status ?? r.signal}).`);
if (!existsSync(builtAddon)) fail(`cmake-js succeeded but ${outDir}/Release/symtensor.node is missing.`);

// Check what the addon links and which GEMM it carries before handing it over.
if (process.platform === 'linux') {
  const ldd = spawnSync('ldd', [builtAddon], { encoding: 'utf8' });
  if (ldd.status === 0) {
    const libs = ldd.stdout.split('\n').map((l) => l.trim().split(' ')[0]).filter(Boolean);
    console.log(`prebuild-cmake: shared libraries needed: ${libs.join(', ')}`);
    const bad = libs.filter((l) => /openblas|libblas|liblapack|libgfortran|libquadmath/.test(l));
    if (bad.length) fail(`the prebuild must not depend on ${bad.join(', ')} (OpenBLAS should be linked statically).`);
  }
}
const probe = spawnSync(
  process.execPath,
  ['-e', 'console.log(JSON.stringify(require(process.argv[1]).backendInfo()))', builtAddon],
  { encoding: 'utf8' }
);
if (probe.status !== 0) fail(`the built addon does not load:\n${probe.stderr}`);
const info = JSON.parse(probe.stdout);
console.log(`prebuild-cmake: backendInfo ${JSON.stringify(info)}`);
if (!/openblas/i.test(info.gemm) && process.env.SYMTENSOR_PREBUILD_ALLOW_NO_BLAS !== '1') {
  fail(
    'the prebuild has no OpenBLAS (static libopenblas.a not found; Debian: apt-get install libopenblas-dev). ' +
      'Set SYMTENSOR_PREBUILD_ALLOW_NO_BLAS=1 to publish a built-in-GEMM prebuild anyway.'
  );
}

mkdirSync(releaseDir, { recursive: true });
if (existsSync(handoff)) {
  if (existsSync(saved)) rmSync(saved); // a stale save from an interrupted run; the current one wins
  renameSync(handoff, saved);
  console.log('prebuild-cmake: moved the developer addon aside to build/symtensor.node.dev');
}
copyFileSync(builtAddon, handoff);
console.log('prebuild-cmake: build/Release/symtensor.node is the prebuild; prebuildify takes it from here');
