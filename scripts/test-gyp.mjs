#!/usr/bin/env node
// `npm run test:gyp`: builds the addon once through binding.gyp (the node-gyp route) and checks that
// the result loads and runs: a raw FILL, then the library on it (matmul, elementwise ops, a compiled
// function).  The build happens in build-gyp/, a copy of binding.gyp and native/, so the cmake-js
// build in build/ is never touched.  Offline: it uses the node-gyp bundled with npm
// and the Node headers already on this machine (npm's `nodedir`, else the prefix of this node).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, 'build-gyp');
const jobs = process.env.SYMTENSOR_BUILD_JOBS || '2';

function fail(msg) {
  console.error(`\ntest:gyp: FAILED: ${msg}`);
  process.exit(1);
}

function npmOut(args) {
  // npm_execpath is set when run through `npm run`; otherwise use the npm on PATH.
  const npmCli = process.env.npm_execpath;
  try {
    const out = npmCli && /\.js$/.test(npmCli)
      ? execFileSync(process.execPath, [npmCli, ...args], { encoding: 'utf8' })
      : execFileSync('npm', args, { encoding: 'utf8' });
    return out.trim();
  } catch {
    return '';
  }
}

function hasHeaders(dir) {
  return !!dir && existsSync(path.join(dir, 'include', 'node', 'node_api.h')) &&
    existsSync(path.join(dir, 'include', 'node', 'common.gypi'));
}

// 1. node-gyp: the copy bundled with npm (no download, no extra dependency).
const candidates = [];
const npmRoot = npmOut(['root', '-g']);
if (npmRoot) candidates.push(path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
if (process.env.npm_execpath) {
  candidates.push(path.resolve(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
}
candidates.push(path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
const nodeGyp = candidates.find((p) => existsSync(p));
if (!nodeGyp) fail(`node-gyp (bundled with npm) not found; looked at:\n  ${candidates.join('\n  ')}`);

// 2. Node headers: npm's nodedir, else this node's install prefix (Debian: /usr/include/node).
const nodedirCandidates = [npmOut(['config', 'get', 'nodedir']), process.env.npm_config_nodedir,
  path.resolve(path.dirname(process.execPath), '..')].filter((d) => d && d !== 'undefined' && d !== 'null');
const nodedir = nodedirCandidates.find(hasHeaders);
if (!nodedir) {
  fail(`no Node headers found (need <dir>/include/node/node_api.h and common.gypi) in: ${nodedirCandidates.join(', ')}.\n` +
    '  Debian: apt-get install libnode-dev, or set npm config nodedir.');
}
for (const tool of ['python3', 'make', 'g++']) {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) fail(`${tool} is not on PATH (node-gyp needs python3, make and a C++ compiler).`);
}

// 3. A workspace with binding.gyp and native/ (timestamps kept, so an unchanged tree rebuilds
//    nothing) and node_modules reachable for require('node-addon-api').
console.log('== test:gyp: preparing build-gyp/ (binding.gyp + native/)');
mkdirSync(work, { recursive: true });
rmSync(path.join(work, 'native'), { recursive: true, force: true });
cpSync(path.join(root, 'native'), path.join(work, 'native'), { recursive: true, preserveTimestamps: true });
cpSync(path.join(root, 'binding.gyp'), path.join(work, 'binding.gyp'), { preserveTimestamps: true });
const nm = path.join(work, 'node_modules');
if (!existsSync(nm)) symlinkSync(path.join(root, 'node_modules'), nm, 'dir');

// 4. Build.
const gypArgs = ['rebuild', `--nodedir=${nodedir}`, `--jobs=${jobs}`];
console.log(`== test:gyp: node-gyp ${gypArgs.join(' ')}  (node-gyp: ${path.relative(root, nodeGyp) || nodeGyp})`);
const env = { ...process.env, npm_config_nodedir: nodedir };
delete env.npm_config_devdir;
const b = spawnSync(process.execPath, [nodeGyp, ...gypArgs], { cwd: work, stdio: 'inherit', env });
if (b.error) fail(`could not run node-gyp: ${b.error.message}`);
if (b.status !== 0) fail(`node-gyp rebuild failed (exit ${b.status ?? b.signal}); see the output above.`);
const addonPath = path.join(work, 'build', 'Release', 'symtensor.node');
if (!existsSync(addonPath)) fail('node-gyp succeeded but build-gyp/build/Release/symtensor.node is missing.');

// 5. Load it with a plain require and run something.
const require = createRequire(import.meta.url);
let addon;
try {
  addon = require(addonPath);
} catch (e) {
  fail(`the node-gyp build does not load: ${e.message}`);
}
const info = addon.backendInfo();
console.log(`== test:gyp: backendInfo ${JSON.stringify(info)}`);

// Did binding.gyp find OpenBLAS?  The generated makefile says (ST_HAVE_OPENBLAS, -I<dir>).
const mk = path.join(work, 'build', 'symtensor.target.mk');
const mkText = existsSync(mk) ? readFileSync(mk, 'utf8') : '';
const withBlas = /-DST_HAVE_OPENBLAS=1/.test(mkText);
const inc = withBlas ? (/-I(\S*openblas\S*)/i.exec(mkText)?.[1] ?? 'yes') : '';
console.log(`== test:gyp: OpenBLAS ${withBlas ? `found (include ${inc})` : 'not found: built-in GEMM'}`);
if (inc && !/openblas/i.test(String(info.gemm))) fail(`OpenBLAS was found at configure time but backendInfo().gemm is ${info.gemm}.`);
if (!inc && /openblas/i.test(String(info.gemm))) fail(`OpenBLAS was not configured but backendInfo().gemm is ${info.gemm}.`);
if (process.env.SYMTENSOR_EXPECT_GEMM === 'openblas' && !inc) fail('SYMTENSOR_EXPECT_GEMM=openblas, but binding.gyp did not find OpenBLAS (built-in GEMM).');

const FILL = 1;
const [buf] = addon.exec(FILL, [], [], [0 /* float32 */], [[2, 2]], [], [3]);
const out = addon.read(buf);
if (!(out instanceof Float32Array) || out.length !== 4 || !out.every((v) => v === 3)) {
  fail(`FILL [2,2] with 3 gave ${out?.constructor?.name} [${Array.from(out ?? [])}], expected Float32Array [3,3,3,3].`);
}
addon.dispose(buf);
console.log(`== test:gyp: FILL -> Float32Array [${Array.from(out)}]`);

// 6. The library itself on this addon (node-gyp-build takes <SYMTENSOR_PREBUILD>/build/Release):
//    matmuls (a small one and one big enough for the blocked/BLAS path), elementwise ops with
//    broadcasting, and a compiled function whose elementwise chain is fused.  Expected values
//    are integers computed here, or Math.* within float32 rounding.
const apiCheck = `
const st = require('./lib/index');
const loaded = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'));
if (!loaded.some((f) => f.includes(${JSON.stringify(path.join('build-gyp', 'build', 'Release'))}))) throw new Error('not the node-gyp build: ' + loaded);
const eq = (got, want, what) => { if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(what + ': got ' + JSON.stringify(got) + ', expected ' + JSON.stringify(want)); };
const near = (got, want, what) => want.forEach((w, i) => { if (!(Math.abs(got[i] - w) <= 2e-6 * (1 + Math.abs(w)))) throw new Error(what + '[' + i + ']: got ' + got[i] + ', expected ' + w); });
eq(st.matmul(st.tensor([[1, 2], [3, 4]]), st.tensor([[5, 6], [7, 8]])).arraySync(), [[19, 22], [43, 50]], 'matmul 2x2');
const [m, k, n] = [70, 50, 30];
const a = Array.from({ length: m * k }, (_, i) => ((i * 7) % 11) - 5), b = Array.from({ length: k * n }, (_, i) => ((i * 5) % 13) - 6);
const want = [];
for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let s = 0; for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j]; want.push(s); }
eq(Array.from(st.matmul(st.tensor(a, { shape: [m, k] }), st.tensor(b, { shape: [k, n] })).dataSync()), want, 'matmul 70x50x30');
eq(st.add(st.tensor([[1, 2, 3], [4, 5, 6]]), st.tensor([10, 20, 30])).arraySync(), [[11, 22, 33], [14, 25, 36]], 'add with broadcasting');
const xs = [-2, -0.5, 0, 0.75, 3];
near(Array.from(st.exp(st.tensor(xs)).dataSync()), xs.map(Math.exp), 'exp');
const x = st.T.vector('x');
const f = st.fn([x], x.mul(2).add(1).tanh());
near(Array.from(f.sync(st.tensor(xs)).dataSync()), xs.map((v) => Math.tanh(2 * v + 1)), 'compiled tanh(2x + 1)');
console.log('== test:gyp: the library on the node-gyp build: matmul, elementwise and a compiled function ok; gemm ' + st.backendInfo().gemm);
`;
const api = spawnSync(process.execPath, ['--import', 'tsx', '-e', apiCheck], {
  cwd: root, stdio: 'inherit', env: { ...process.env, SYMTENSOR_PREBUILD: work },
});
if (api.status !== 0) fail(`the library does not work on the node-gyp build (exit ${api.status ?? api.signal}); see the output above.`);
console.log('test:gyp: ok (binding.gyp builds, loads and runs the library)');
