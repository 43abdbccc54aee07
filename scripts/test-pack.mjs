#!/usr/bin/env node
// `npm run test:pack`: what a user gets from `npm install symtensor`.
//   1. makes sure prebuilds/<platform>-<arch>/ holds a current prebuild (`npm run prebuildify`),
//      and that the developer addon in build/Release is back, byte for byte, afterwards;
//   2. `npm pack`s the package and checks the tarball's file list;
//   3. installs the tarball into an empty temporary project with a PATH that has node, npm and sh
//      but no compiler and no cmake, so the install script must take the prebuild;
//   4. there, `require('symtensor')` and `import * as st from 'symtensor'` multiply two matrices,
//      and the process must have loaded the prebuilt addon (with SYMTENSOR_EXPECT_GEMM=openblas,
//      one that links OpenBLAS);
//   5. `npx symtensor bench --only sgemm/n=256 --quick --peers none` runs the compiled benchmark
//      suite there and writes its JSON report, which is checked.
// Temporary folders are removed at the end (SYMTENSOR_KEEP_PACK_TMP=1 keeps them for debugging).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tuple = `${os.platform()}-${os.arch()}`;
const prebuildDir = path.join(root, 'prebuilds', tuple);

class Failure extends Error {}
const fail = (msg) => { throw new Failure(msg); };
const log = (msg) => console.log(`== test:pack: ${msg}`);

// npm itself: the one running this script when started by `npm run`, else the one on PATH.
function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /\.[cm]?js$/.test(cli) && existsSync(cli)) return [process.execPath, [cli]];
  return ['npm', []];
}
function npm(args, opts = {}) {
  const [cmd, pre] = npmCommand();
  return spawnSync(cmd, [...pre, ...args], { cwd: root, stdio: 'inherit', ...opts });
}
function mustSucceed(r, what) {
  if (r.error) fail(`${what}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status ?? r.signal}); see the output above.`);
  return r;
}

function newestMtime(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) m = Math.max(m, newestMtime(path.join(p, e)));
  return m;
}

// The developer build (cmake-js) that prebuildify moves aside and the restore puts back.
const devAddon = path.join(root, 'build', 'Release', 'symtensor.node');

/** sha256 of a file's bytes, or null when there is no such file. */
function fileHash(p) {
  return existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : null;
}

function currentPrebuild() {
  if (!existsSync(prebuildDir)) return null;
  const f = readdirSync(prebuildDir).find((n) => n.endsWith('.node'));
  return f ? path.join(prebuildDir, f) : null;
}

// ---- 0. the TypeScript layer ----
// Until lib/index.ts exists the package has no JS entry point; then only the raw addon is checked.
const hasTsEntry = existsSync(path.join(root, 'lib', 'index.ts'));
if (!hasTsEntry) {
  log('WARNING: lib/index.ts does not exist yet: checking the packed addon only (no require("symtensor") API test)');
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'symtensor-pack-'));
let ok = false;
try {
  // ---- 1. prebuild ----
  let prebuild = currentPrebuild();
  const sourcesTime = Math.max(newestMtime(path.join(root, 'native')), newestMtime(path.join(root, 'CMakeLists.txt')));
  if (prebuild && statSync(prebuild).mtimeMs < sourcesTime) {
    log(`${path.relative(root, prebuild)} is older than native/ or CMakeLists.txt: rebuilding it`);
    prebuild = null;
  }
  if (!prebuild) {
    const devAddonBefore = fileHash(devAddon);
    log('npm run prebuildify');
    const r = npm(['run', 'prebuildify']);
    // Put the developer addon back in build/Release (prebuildify moves the prebuild out of there).
    // Checked first: a developer addon left out would make a later `npm test` test the prebuild.
    mustSucceed(spawnSync(process.execPath, [path.join(root, 'scripts', 'prebuild-cmake.mjs'), '--restore'], { cwd: root, stdio: 'inherit' }),
      'restoring the developer addon (scripts/prebuild-cmake.mjs --restore)');
    const devAddonAfter = fileHash(devAddon);
    if (devAddonAfter !== devAddonBefore) {
      fail(`build/Release/symtensor.node ${devAddonBefore ? (devAddonAfter ? 'differs from the developer build it held before' : 'is missing') : 'appeared'} ` +
        'after prebuildify and the restore: tests run after this would load the wrong addon.');
    }
    mustSucceed(r, 'npm run prebuildify');
    prebuild = currentPrebuild();
    if (!prebuild) fail(`npm run prebuildify left no .node in prebuilds/${tuple}/`);
  }
  log(`prebuild: ${path.relative(root, prebuild)} (${(statSync(prebuild).size / 1e6).toFixed(1)} MB)`);

  // ---- 2. pack ----
  // With the TS layer, npm pack runs `prepare` (build:ts) like a real publish does.
  const packArgs = ['pack', '--json', '--pack-destination', tmp];
  if (!hasTsEntry) packArgs.push('--ignore-scripts');
  log(`npm ${packArgs.join(' ').replace(tmp, '<tmp>')}`);
  const packed = mustSucceed(npm(packArgs, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' }), 'npm pack');
  // npm prints lifecycle-script output on stdout too: the JSON is the last top-level array.
  const jsonStart = packed.stdout.lastIndexOf('\n[\n') >= 0 ? packed.stdout.lastIndexOf('\n[\n') + 1 : packed.stdout.indexOf('[');
  let info;
  try {
    [info] = JSON.parse(packed.stdout.slice(jsonStart));
  } catch (e) {
    fail(`could not read npm pack --json output: ${e.message}\n${packed.stdout}`);
  }
  const tgz = path.join(tmp, info.filename);
  if (!existsSync(tgz)) fail(`npm pack did not write ${info.filename}`);
  const files = new Set(info.files.map((f) => f.path));
  log(`${info.filename}: ${info.files.length} files, ${(info.size / 1e6).toFixed(1)} MB packed, ${(info.unpackedSize / 1e6).toFixed(1)} MB unpacked`);

  const required = [
    'package.json', 'CMakeLists.txt', 'scripts/install.mjs', 'LICENSE', 'native/sources.json', 'native/include/symtensor.h',
    'native/binding/addon.cc', 'native/ops.def', `prebuilds/${tuple}/${path.basename(prebuild)}`,
  ];
  if (hasTsEntry) {
    // Whatever package.json points at (main, types, exports) must be in the tarball.
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const targets = [];
    const walk = (v) => {
      if (typeof v === 'string') targets.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk([pkg.main ?? 'index.js', pkg.types, pkg.exports]);
    for (const t of targets) if (t && !t.includes('*')) required.push(path.posix.normalize(t).replace(/^\.\//, ''));
    // `symtensor bench`: the compiled suite and the Python peers it starts
    required.push('bin/symtensor.js', 'dist/cli/main.js', 'dist/bench/run.js', 'bench/peers/pycommon.py', 'bench/peers/numpy_bench.py', 'bench/peers/torch_bench.py');
  }
  // Every native source CMake and binding.gyp compile must ship, or a from-source install breaks.
  const sources = JSON.parse(execFileSync(process.execPath, ['-p', "JSON.stringify(require('./native/sources.json'))"], { cwd: root, encoding: 'utf8' }));
  required.push(...sources.core, ...sources.binding);
  const missing = required.filter((f) => !files.has(f));
  if (missing.length) fail(`the tarball lacks: ${missing.join(', ')} (check "files" in package.json)`);
  // No tests, no build trees, no source maps (their lib/*.ts sources do not ship), and no binding.gyp:
  // with it npm would report `node-gyp rebuild` as the install script.
  // Of bench/, only the Python peer scripts ship (`symtensor bench` runs them).
  const unwanted = [...files].filter((f) => (/^(build|build-[^/]*|node_modules|test|bench|examples|\.ci|native\/test)\//.test(f) &&
    !/^bench\/peers\/[\w-]+\.py$/.test(f)) || /\.map$/.test(f) || f === 'binding.gyp');
  if (unwanted.length) fail(`the tarball should not contain: ${unwanted.slice(0, 10).join(', ')}`);
  log(`tarball contents ok (${required.length} required files: entry points, prebuild, native sources, CMakeLists.txt, install script; no tests, maps or binding.gyp)`);

  // ---- 3. a PATH without compilers ----
  const bin = path.join(tmp, 'bin');
  mkdirSync(bin);
  const which = (name) => {
    const r = spawnSync('sh', ['-c', `command -v "${name}"`], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const [, npmPre] = npmCommand();
  const npmTarget = npmPre.length ? npmPre[0] : which('npm');
  if (!npmTarget) fail('npm not found');
  const links = { node: process.execPath, npm: realpathSync(npmTarget), sh: which('sh') ?? '/bin/sh' };
  // npx, for `npx symtensor bench`: npm's npx-cli.js beside npm-cli.js
  const npxTarget = path.join(path.dirname(links.npm), 'npx-cli.js');
  if (existsSync(npxTarget)) links.npx = npxTarget;
  else if (which('npx')) links.npx = realpathSync(which('npx'));
  for (const tool of ['env', 'cat', 'ls', 'rm', 'mkdir']) {
    const p = which(tool);
    if (p) links[tool] = p;
  }
  for (const [name, target] of Object.entries(links)) symlinkSync(target, path.join(bin, name));
  const env = { PATH: bin, HOME: process.env.HOME ?? os.homedir(), TMPDIR: os.tmpdir(), CI: process.env.CI ?? '' };
  for (const k of ['npm_config_cache', 'npm_config_registry', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  const probe = spawnSync(path.join(bin, 'sh'), ['-c',
    'for t in g++ c++ gcc cc clang clang++ cmake make; do command -v "$t" && exit 1; done; exit 0'], { env, encoding: 'utf8' });
  if (probe.status !== 0) fail(`the restricted PATH still finds a build tool: ${probe.stdout.trim()}`);
  log(`restricted PATH has only: ${Object.keys(links).join(', ')} (no g++, cc, cmake, make)`);

  // ---- 4. install into an empty project ----
  const app = path.join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'symtensor-pack-check', version: '1.0.0', private: true }, null, 2));
  log('npm install <tarball> (no compiler available: the prebuild must be used)');
  mustSucceed(spawnSync(path.join(bin, 'npm'),
    ['install', tgz, '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'],
    { cwd: app, env, stdio: 'inherit' }), 'npm install of the tarball');
  const installed = path.join(app, 'node_modules', 'symtensor');
  if (!existsSync(installed)) fail('node_modules/symtensor is missing after the install');
  if (existsSync(path.join(installed, 'build'))) fail('the install compiled the addon (node_modules/symtensor/build exists) instead of using the prebuild');
  // Runtime dependencies only: the build tools (cmake-js and its ~40 packages) come only for a source build.
  // Allowed: the package's declared dependencies and what they depend on, nothing else.
  const nm = path.join(app, 'node_modules');
  const pkgs = readdirSync(nm).flatMap((n) => (n.startsWith('@') ? readdirSync(path.join(nm, n)).map((m) => `${n}/${m}`) : [n])).filter((n) => !n.startsWith('.'));
  const depsOf = (name) => Object.keys(JSON.parse(readFileSync(path.join(nm, name, 'package.json'), 'utf8')).dependencies ?? {});
  const allowed = new Set(['symtensor']);
  const queue = depsOf('symtensor');
  while (queue.length) {
    const d = queue.pop();
    if (allowed.has(d) || !existsSync(path.join(nm, d, 'package.json'))) continue;
    allowed.add(d);
    queue.push(...depsOf(d));
  }
  const extra = pkgs.filter((n) => !allowed.has(n));
  if (extra.length) fail(`installing the tarball pulled more than its runtime dependencies (${depsOf('symtensor').join(', ')}): ${extra.join(', ')}`);
  if (pkgs.includes('cmake-js')) fail('installing the tarball pulled cmake-js: the build tools must come only for a source build');
  // What a consumer is asked to approve under npm's allowScripts must be the real install command.
  const scriptsLs = spawnSync(path.join(bin, 'npm'), ['install-scripts', 'ls'], { cwd: app, env, encoding: 'utf8' });
  if (scriptsLs.status === 0 || /symtensor/.test(scriptsLs.stdout)) {
    if (!/symtensor@[^\s]+ \(install: node scripts\/install\.mjs/.test(scriptsLs.stdout)) {
      fail(`npm install-scripts ls does not report symtensor's install script:\n${scriptsLs.stdout}${scriptsLs.stderr}`);
    }
    log('npm install-scripts ls reports: install: node scripts/install.mjs');
  } else {
    log(`npm install-scripts ls not available in this npm (${(scriptsLs.stderr || '').split('\n')[0]}); skipped`);
  }
  log(`node_modules: ${pkgs.join(', ')}`);

  // ---- 5. use it ----
  // Which addon file did the process load?  process.report lists the shared objects.
  const loadedCheck = `
const loaded = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'));
const expect = ${JSON.stringify(`/prebuilds/${tuple}/`)};
if (!loaded.some((f) => f.includes(expect))) { console.error('not the prebuild: loaded ' + JSON.stringify(loaded)); process.exit(1); }
console.log('loaded addon: ' + loaded.map((f) => f.slice(f.indexOf('node_modules'))).join(', '));`;
  // CI (SYMTENSOR_EXPECT_GEMM=openblas) requires the prebuild to carry OpenBLAS.
  const gemmCheck = (info) => (process.env.SYMTENSOR_EXPECT_GEMM === 'openblas' ? `
if (!/^openblas /.test(${info}.gemm)) { console.error('the prebuild has no OpenBLAS: gemm is ' + ${info}.gemm); process.exit(1); }` : '');
  const checks = {};
  if (hasTsEntry) {
    const body = (lang) => `
const a = st.tensor([[1, 2], [3, 4]]), b = st.tensor([[5, 6], [7, 8]]);
const got = st.matmul(a, b).arraySync();
if (JSON.stringify(got) !== JSON.stringify([[19, 22], [43, 50]])) {
  console.error('${lang}: matmul gave ' + JSON.stringify(got) + ', expected [[19,22],[43,50]]');
  process.exit(1);
}
console.log('${lang}: matmul ok; backendInfo ' + JSON.stringify(st.backendInfo()));
${gemmCheck('st.backendInfo()')}
${loadedCheck}`;
    checks['check.cjs'] = `'use strict';\nconst st = require('symtensor');\n${body('require')}`;
    checks['check.mjs'] = `import * as st from 'symtensor';\nimport process from 'node:process';\n${body('import')}`;
  } else {
    checks['check.cjs'] = `'use strict';
const path = require('path');
const addon = require('node-gyp-build')(path.dirname(require.resolve('symtensor/package.json')));
const [buf] = addon.exec(1 /* FILL */, [], [], [0], [[2, 2]], [], [3]);
const out = Array.from(addon.read(buf));
if (JSON.stringify(out) !== '[3,3,3,3]') { console.error('FILL gave ' + JSON.stringify(out)); process.exit(1); }
console.log('raw addon: FILL ok; backendInfo ' + JSON.stringify(addon.backendInfo()));
${gemmCheck('addon.backendInfo()')}
${loadedCheck}`;
  }
  for (const [file, code] of Object.entries(checks)) {
    writeFileSync(path.join(app, file), code);
    log(`node ${file}`);
    mustSucceed(spawnSync(path.join(bin, 'node'), [file], { cwd: app, env, stdio: 'inherit' }), `node ${file}`);
  }
  // ---- 6. the benchmark suite from the installed package ----
  if (hasTsEntry) {
    if (!links.npx) fail('npx not found (needed for `npx symtensor bench`)');
    const benchCase = 'sgemm/n=256';
    const benchOut = path.join(app, 'bench.json');
    log(`npx symtensor bench --only ${benchCase} --quick --peers none --out bench.json`);
    const b = spawnSync(path.join(bin, 'npx'), ['--no', 'symtensor', 'bench', '--only', benchCase, '--quick', '--peers', 'none', '--out', 'bench.json'],
      { cwd: app, env, encoding: 'utf8', timeout: 300_000 });
    process.stdout.write(b.stdout ?? '');
    process.stderr.write(b.stderr ?? '');
    mustSucceed(b, 'npx symtensor bench');
    if (!existsSync(benchOut)) fail('symtensor bench wrote no bench.json');
    let rep;
    try {
      rep = JSON.parse(readFileSync(benchOut, 'utf8'));
    } catch (e) {
      fail(`bench.json is not JSON: ${e.message}`);
    }
    const c = rep.cases?.find((x) => x.id === benchCase);
    const t = c?.results?.symtensor;
    if (!c || rep.cases.length !== 1) fail(`bench.json should hold exactly the case ${benchCase}; it has ${JSON.stringify(rep.cases?.map((x) => x.id))}`);
    if (!t || !(t.medianMs > 0) || !Number.isFinite(t.medianMs)) fail(`bench.json has no symtensor time for ${benchCase}: ${JSON.stringify(c.results)}`);
    const gflops = (2 * 256 ** 3) / (t.medianMs * 1e6);
    if (!(Math.abs(t.gflops - gflops) <= 1e-9 * gflops)) fail(`bench.json's GFLOP/s ${t.gflops} disagrees with 2n³ / time = ${gflops}`);
    if (Object.keys(c.results).join() !== 'symtensor') fail(`--peers none ran ${Object.keys(c.results).join(', ')}`);
    if (!/^symtensor bench /.test(rep.command)) fail(`bench.json records the command ${rep.command}`);
    log(`bench.json ok: ${benchCase} symtensor ${t.medianMs.toFixed(3)} ms (${t.gflops.toFixed(1)} GFLOP/s)`);
  }
  ok = true;
} catch (e) {
  if (!(e instanceof Failure)) throw e;
  console.error(`\ntest:pack: FAILED: ${e.message}`);
} finally {
  if (process.env.SYMTENSOR_KEEP_PACK_TMP === '1') console.log(`test:pack: kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
if (!ok) process.exit(1);
console.log(hasTsEntry
  ? 'test:pack: ok (packed, installed without a compiler, require and import work on the prebuild, symtensor bench runs)'
  : 'test:pack: ok for the addon (packed, installed without a compiler, prebuild loads); the API check waits for lib/index.ts');
