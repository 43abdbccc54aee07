#!/usr/bin/env node
// Builds the addon as a machine without OpenBLAS would (the built-in GEMM, with CMake's warning)
// into build-noblas/, and runs the mocha suite against it: the fallback path must stay correct.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build-noblas');
const run = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`test:noblas: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
};

run(process.execPath, [join(root, 'node_modules/cmake-js/bin/cmake-js'), 'build', '--CDSYMTENSOR_NO_BLAS=ON', '-O', out]);
// node-gyp-build looks for <SYMTENSOR_PREBUILD>/build/Release
const shim = join(out, 'shim');
rmSync(shim, { recursive: true, force: true });
mkdirSync(join(shim, 'build'), { recursive: true });
symlinkSync(join(out, 'Release'), join(shim, 'build', 'Release'));
if (!existsSync(join(out, 'Release', 'symtensor.node'))) {
  console.error('test:noblas: no addon was built');
  process.exit(1);
}
const probe = spawnSync(process.execPath, ['-e', "console.log(require('./dist/index.js').backendInfo().gemm)"], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, SYMTENSOR_PREBUILD: shim },
});
if (probe.status !== 0 || probe.stdout.trim() !== 'builtin') {
  console.error(`test:noblas: expected the built-in GEMM, got ${JSON.stringify(probe.stdout.trim())} ${probe.stderr}`);
  process.exit(1);
}
console.log('test:noblas: addon without OpenBLAS loads (gemm: builtin); running the JS tests against it');
// the whole suite except the minute-long Fashion-MNIST training runs, which the main run covers
run(process.execPath, [join(root, 'node_modules/mocha/bin/mocha.js'), '--reporter', 'dot', '--ignore', 'test/models/fashion-mnist.test.ts', 'test/**/*.test.ts'], { SYMTENSOR_PREBUILD: shim });
