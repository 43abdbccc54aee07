#!/usr/bin/env node
// `npm run test:asan`: builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer into
// build-asan/ and runs a short smoke test of the binding through it: tensors, eager ops, an error,
// a compiled function with gradients and updates, async calls, dispose and collection.  The kernel
// tests (test:native) run under the sanitizers without Node; this covers the N-API glue on top.
//
// Node itself is not instrumented, so libasan is preloaded (it must come first in the process) and
// leak detection is off (Node keeps allocations alive at exit by design).  Any sanitizer report
// fails the run.  Linux with g++ only.
//
// Usage: node scripts/test-asan.mjs            (build, then run the smoke test under ASan)
//        node scripts/test-asan.mjs --smoke    (the smoke test alone; what the first form runs)
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build-asan');
const SANITIZE = '-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all';

function fail(msg) {
  console.error(`test:asan: ${msg}`);
  process.exit(1);
}

if (process.argv.includes('--smoke')) await smoke();
else buildAndRun();

function buildAndRun() {
  const started = Date.now();
  const jobs = process.env.SYMTENSOR_BUILD_JOBS || '2';
  // `build`, not `rebuild`: the directory is kept, so a second run recompiles only what changed.
  const build = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/cmake-js/bin/cmake-js'), 'build', '-O', out, '--parallel', jobs,
      // cmake-js sets CMAKE_CXX_FLAGS itself, so the flags go in the build type's own variables;
      // -g so that reports name file and line
      '--CDCMAKE_BUILD_TYPE=RelWithDebInfo',
      `--CDCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g ${SANITIZE}`,
      `--CDCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g ${SANITIZE}`,
      '--CDCMAKE_SHARED_LINKER_FLAGS_RELWITHDEBINFO=-fsanitize=address,undefined',
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: jobs } },
  );
  if (build.status !== 0) fail(`building the sanitizer addon failed (exit ${build.status})`);
  const addon = join(out, 'RelWithDebInfo', 'symtensor.node');
  const release = existsSync(addon) ? join(out, 'RelWithDebInfo') : join(out, 'Release');
  if (!existsSync(join(release, 'symtensor.node'))) fail(`no addon was built in ${out}`);
  // instrumented code calls the runtime's report functions: their names are in the binary
  const binary = readFileSync(join(release, 'symtensor.node'));
  for (const sym of ['__asan_report_load', '__ubsan_handle_'])
    if (!binary.includes(sym)) fail(`the addon in ${release} is not instrumented (no ${sym}* symbol)`);
  // node-gyp-build looks for <SYMTENSOR_PREBUILD>/build/Release (as in test:noblas)
  const shim = join(out, 'shim');
  rmSync(shim, { recursive: true, force: true });
  mkdirSync(join(shim, 'build'), { recursive: true });
  symlinkSync(release, join(shim, 'build', 'Release'));

  const asan = spawnSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout?.trim();
  if (!asan || !existsSync(asan)) fail(`libasan.so not found (g++ -print-file-name=libasan.so gave ${JSON.stringify(asan)})`);
  console.log(`test:asan: addon built (${((Date.now() - started) / 1000).toFixed(0)} s); smoke test with LD_PRELOAD=${asan}`);
  const run = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--smoke'], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      SYMTENSOR_PREBUILD: shim,
      LD_PRELOAD: asan,
      ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0:exitcode=86',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    },
  });
  process.stdout.write(run.stdout ?? '');
  process.stderr.write(run.stderr ?? '');
  // A report aborts the process (nonzero exit), but look for one in the output as well.
  const report = /ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer/.test(run.stderr ?? '');
  if (run.status !== 0 || run.signal || report)
    fail(`the smoke test under ASan/UBSan failed (exit ${run.status}${run.signal ? `, ${run.signal}` : ''}${report ? ', sanitizer report above' : ''})`);
  console.log(`test:asan: passed in ${((Date.now() - started) / 1000).toFixed(0)} s (build included)`);
}

// ---- the smoke test, run under the preloaded sanitizer runtime ----

function check(cond, what) {
  if (!cond) throw new Error(`smoke check failed: ${what}`);
}

function close(got, want, tol, what) {
  check(got.length === want.length, `${what}: ${got.length} values, want ${want.length}`);
  for (let i = 0; i < want.length; i++)
    check(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}] = ${got[i]}, want ${want[i]}`);
}

async function smoke() {
  const require = createRequire(import.meta.url);
  const st = require(join(root, 'dist/index.js'));
  const { T } = st;
  // the sanitizer build must be the one loaded, not build/Release
  const maps = readFileSync('/proc/self/maps', 'utf8');
  check(/build-asan\/(Release|RelWithDebInfo)\/symtensor\.node/.test(maps) || maps.includes('build-asan/shim'), 'the addon was loaded from build-asan/');
  check(maps.includes('libasan'), 'libasan is loaded');

  // eager ops against plain loops
  const a = st.tensor([[1, 2, 3], [4, 5, 6]]);
  const b = st.tensor([[1, 0], [0, 1], [2, -1]]);
  close(Array.from(st.matmul(a, b).dataSync()), [7, -1, 16, -1], 1e-6, 'matmul');
  close(Array.from(a.add(1).mul(2).sum(1).dataSync()), [18, 36], 1e-6, 'add/mul/sum');
  close(Array.from(st.softmax(st.tensor([0, Math.log(3)])).dataSync()), [0.25, 0.75], 1e-6, 'softmax');
  const x4 = st.randomNormal([2, 6, 6, 3], { seed: 5 });
  const w4 = st.randomNormal([3, 3, 3, 4], { seed: 6 });
  const y4 = st.maxPool2d(st.conv2d(x4, w4, { padding: 'same' }).relu(), { poolSize: [2, 2] });
  check(y4.shape.join() === '2,3,3,4', `conv2d + maxPool2d shape ${y4.shape}`);
  close([y4.sum().item()], [Array.from(y4.dataSync()).reduce((s, v) => s + v, 0)], 1e-5, 'sum of the pooled conv');
  const sl = st.slice(st.arange(0, 12).reshape([3, 4]).transpose(), [1, 0], [2, 3]);
  close(Array.from(sl.dataSync()), [1, 5, 9, 2, 6, 10], 0, 'transpose + slice');

  // an error crosses the boundary as a SymtensorError and leaves the addon usable
  let threw = false;
  try {
    st.matmul(a, a);
  } catch (e) {
    threw = e instanceof st.SymtensorError;
  }
  check(threw, 'matmul of [2,3] by [2,3] throws a SymtensorError');

  // a compiled function with gradients and updates (logistic regression), sync and async
  const X = st.randomNormal([64, 5], { seed: 1 });
  const Y = st.matmul(X, st.tensor([1, -2, 0.5, 0, 1])).greater(0).cast('float32');
  const x = T.matrix('x');
  const y = T.vector('y');
  const w = st.shared(st.zeros([5]), 'w');
  const p = T.sigmoid(T.dot(x, w));
  const cost = T.binaryCrossentropy(y, p).mean();
  const [gw] = st.grad(cost, [w]);
  const train = st.fn([x, y], cost, { updates: [[w, w.sub(gw.mul(0.5))]] });
  const first = train.sync(X, Y).item();
  close([first], [Math.log(2)], 1e-5, 'cost at w = 0');
  let last = first;
  for (let i = 0; i < 20; i++) last = (await train(X, Y)).item();
  check(last < first * 0.8, `training lowers the cost (${first} -> ${last})`);
  const predict = st.fn([x], p);
  const many = await Promise.all([0, 1, 2, 3].map(() => predict(X)));
  for (const r of many) close(Array.from(r.dataSync()), Array.from(many[0].dataSync()), 0, 'concurrent async calls');

  // dispose (idempotent), use after dispose is an error, collection frees the rest
  const t = st.ones([1000]);
  t.dispose();
  t.dispose();
  threw = false;
  try {
    t.add(1);
  } catch (e) {
    threw = e instanceof st.SymtensorError;
  }
  check(threw, 'an op on a disposed tensor throws');
  for (let i = 0; i < 200; i++) st.randomUniform([256], { seed: i }).mul(2);
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 50));
  globalThis.gc?.();
  console.log(`test:asan: smoke test passed (gemm: ${st.backendInfo().gemm})`);
}
