#!/usr/bin/env node
// `npm run test:native`: builds the C++ kernel tests (no Node) with AddressSanitizer and
// UndefinedBehaviorSanitizer in build-native-test/ and runs them.  Plain CMake, not cmake-js, so
// the test executable links only the kernels.  The build directory is kept between runs, so a
// second run only recompiles what changed.
//
// Usage: node scripts/test-native.mjs [name-filter]   (the filter is passed to the test binary)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(root, 'build-native-test');
const exe = path.join(buildDir, 'symtensor_tests');
const jobs = process.env.SYMTENSOR_BUILD_JOBS || '2';

function fail(msg) {
  console.error(`\ntest:native: ${msg}`);
  process.exit(1);
}

function step(title, cmd, args, opts = {}) {
  console.log(`\n== ${title}\n$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) {
    if (r.error.code === 'ENOENT') return { missing: true };
    fail(`could not run ${cmd}: ${r.error.message}`);
  }
  return r;
}

const probe = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
if (probe.error) {
  fail(
    'cmake was not found on PATH. The native tests are built with plain CMake (>= 3.18) and a C++17 ' +
      'compiler.\n  Debian/Ubuntu: apt-get install cmake g++ make   (libopenblas-dev for the OpenBLAS GEMM)'
  );
}

// Configure every time: with an existing cache this is quick and picks up edits to CMakeLists.txt
// and native/sources.json.  RelWithDebInfo keeps -g so sanitizer reports have file:line.
const cfg = step('configure (ASan/UBSan)', 'cmake', [
  '-S', '.',
  '-B', 'build-native-test',
  '-DSYMTENSOR_SANITIZE=ON',
  '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
]);
if (cfg.status !== 0) fail(`cmake configure failed (exit ${cfg.status}); see the output above.`);

const build = step('build symtensor_tests', 'cmake', [
  '--build', 'build-native-test', '--target', 'symtensor_tests', `-j${jobs}`,
]);
if (build.status !== 0) fail(`building symtensor_tests failed (exit ${build.status}); see the compiler output above.`);
if (!existsSync(exe)) fail(`the build succeeded but ${path.relative(root, exe)} is missing.`);

// Sanitizer defaults; a caller's own ASAN_OPTIONS/UBSAN_OPTIONS take precedence.
const env = {
  ...process.env,
  ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:strict_string_checks=1:check_initialization_order=1',
  UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
};
const run = step('run native tests', './build-native-test/symtensor_tests', process.argv.slice(2), { env });
if (run.missing) fail(`${exe} could not be started.`);
if (run.signal) fail(`symtensor_tests was killed by ${run.signal}.`);
if (run.status !== 0) fail(`symtensor_tests failed (exit ${run.status}).`);
console.log('\ntest:native: all native tests passed (ASan/UBSan build).');
