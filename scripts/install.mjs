#!/usr/bin/env node
// The package's install script (`scripts.install`).  It decides between the two ways to get the
// native addon and says which one it took, in one line:
//   1. a binary that loads here (build/Release from an earlier build, or prebuilds/<platform>-<arch>/
//      from a release tarball): nothing to do;
//   2. otherwise a source build with cmake-js.  The build tools (cmake-js, node-addon-api,
//      node-api-headers) are devDependencies, so a plain install that finds a prebuild never
//      downloads them; a source build outside a clone fetches them into a temporary folder at the
//      versions package.json names, builds, and removes them.
// With neither a prebuild nor cmake and a C++ compiler, it prints one message saying what is missing
// and the two ways out, and fails.
//
// Environment: SYMTENSOR_BUILD_FROM_SOURCE=1 (or `npm install --build-from-source`) skips the
// prebuild; the build itself honours cmake-js's usual variables.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireHere = createRequire(path.join(root, 'package.json'));
const pkg = requireHere('./package.json');
const BUILD_TOOLS = ['cmake-js', 'node-addon-api', 'node-api-headers'];
const MIN_CMAKE = [3, 18];

const say = (msg) => console.log(`symtensor: ${msg}`);

/** "linux-x64 (Node 20.17.0, node-abi 115, N-API 9)": what a prebuild has to match. */
function platformLabel() {
  return `${process.platform}-${process.arch} (Node ${process.versions.node}, node-abi ${process.versions.modules}, ` +
    `N-API ${process.versions.napi})`;
}

function wantsSourceBuild() {
  const on = (v) => v !== undefined && v !== '' && v !== '0' && v !== 'false';
  return on(process.env.SYMTENSOR_BUILD_FROM_SOURCE) || on(process.env.npm_config_build_from_source);
}

/**
 * The binary node-gyp-build would load at run time, if it loads here: `{ file }`, or
 * `{ reason }` saying why there is none.
 */
function usableBinary() {
  let file;
  try {
    file = requireHere('node-gyp-build').resolve(root);
  } catch {
    return { reason: `no prebuilt binary for ${platformLabel()}` };
  }
  try {
    requireHere(file);
    return { file };
  } catch (e) {
    return { reason: `${path.relative(root, file)} does not load here (${String(e.message).split('\n')[0]})` };
  }
}

/** First line of `cmd --version`, or null when the command is not there. */
function versionOf(cmd) {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', shell: process.platform === 'win32' });
  return r.error || r.status !== 0 ? null : (r.stdout || r.stderr).split('\n')[0].trim();
}

/** What a source build needs and this machine lacks, as phrases for the message. */
function missingBuildTools() {
  const missing = [];
  const cmake = versionOf('cmake');
  const v = cmake && /(\d+)\.(\d+)/.exec(cmake);
  if (!cmake) missing.push(`cmake (>= ${MIN_CMAKE.join('.')})`);
  else if (v && (+v[1] < MIN_CMAKE[0] || (+v[1] === MIN_CMAKE[0] && +v[2] < MIN_CMAKE[1]))) {
    missing.push(`cmake >= ${MIN_CMAKE.join('.')} (found ${cmake})`);
  }
  if (process.platform !== 'win32') {
    const compilers = [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean);
    if (!compilers.some(versionOf)) missing.push('a C++17 compiler (g++ or clang++)');
    if (!versionOf('make') && !versionOf('ninja')) missing.push('make (or ninja)');
  }
  return missing;
}

function failWithoutTools(reason, missing) {
  const lines = [
    `symtensor: cannot install: ${reason}, and this machine cannot build one from source.`,
    `  Missing: ${missing.join(', ')}.`,
    '  Two ways out:',
    '    1. Install the build tools, then install symtensor again (the build takes a minute or so):',
    '         Debian/Ubuntu: apt-get install cmake g++ make libopenblas-dev',
    '         Fedora:        dnf install cmake gcc-c++ make openblas-devel',
    '         macOS:         xcode-select --install; brew install cmake openblas',
    '       (OpenBLAS is optional: without it the build uses a slower built-in matrix product.)',
    `    2. Install a release tarball that carries a prebuilt binary for ${process.platform}-${process.arch}:`,
    `         npm install ./symtensor-${pkg.version}.tgz   (needs no compiler)`,
  ];
  console.error(lines.join('\n'));
  process.exit(1);
}

/** Environment for a nested npm: drop settings that would redirect it (a global install, workspaces). */
function nestedNpmEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^npm_config_(global|location|prefix|workspaces?|include_workspace_root|save.*|package_lock.*|dry_run|omit|include)$/i.test(k)) {
      delete env[k];
    }
  }
  return env;
}

/** npm as [command, leading args]: the npm running this install when there is one. */
function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.[cm]?js$/.test(cli)) return [process.execPath, [cli]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
}

/**
 * Where cmake-js and the headers come from: `{ cmakeJs, nodePath, cleanup }`.  From this package's
 * node_modules when present (a clone), else installed into a temporary folder at the versions in
 * package.json's devDependencies.
 */
function buildTools() {
  try {
    for (const t of BUILD_TOOLS.slice(1)) requireHere.resolve(`${t}/package.json`);
    return { cmakeJs: requireHere.resolve('cmake-js/bin/cmake-js'), nodePath: null, cleanup() {} };
  } catch {
    // not installed alongside: fetch them below
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'symtensor-build-tools-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
  const specs = BUILD_TOOLS.map((t) => `${t}@${pkg.devDependencies?.[t] ?? 'latest'}`);
  say(`fetching the build tools (${specs.join(', ')})`);
  const [cmd, pre] = npmCommand();
  const r = spawnSync(cmd, [...pre, 'install', '--prefix', dir, '--no-save', '--no-package-lock', '--ignore-scripts',
    '--no-audit', '--no-fund', '--loglevel=error', ...specs], { stdio: ['ignore', 'ignore', 'inherit'], env: nestedNpmEnv() });
  if (r.error || r.status !== 0) {
    cleanup();
    console.error(`symtensor: could not fetch the build tools (${specs.join(', ')}) from the npm registry` +
      `${r.error ? `: ${r.error.message}` : ''}.\n  Check the network, or install a release tarball with a prebuilt binary.`);
    process.exit(1);
  }
  return { cmakeJs: path.join(dir, 'node_modules', 'cmake-js', 'bin', 'cmake-js'), nodePath: path.join(dir, 'node_modules'), cleanup };
}

function buildFromSource() {
  const tools = buildTools();
  const env = { ...process.env };
  // CMakeLists.txt asks `node` for node-addon-api's include folder; NODE_PATH lets it find a fetched one.
  if (tools.nodePath) env.NODE_PATH = [tools.nodePath, env.NODE_PATH].filter(Boolean).join(path.delimiter);
  const r = spawnSync(process.execPath, [tools.cmakeJs, 'rebuild'], { cwd: root, stdio: 'inherit', env });
  tools.cleanup();
  if (r.error || r.status !== 0) {
    console.error(`symtensor: the source build failed (cmake-js rebuild exited with ${r.status ?? r.signal ?? r.error?.message}); ` +
      'the compiler output above says why.');
    process.exit(1);
  }
  const after = usableBinary();
  if (!after.file) {
    console.error(`symtensor: the source build finished but ${after.reason}.`);
    process.exit(1);
  }
  say(`built ${path.relative(root, after.file)}`);
}

/** True while npm prepares a git checkout for packing: the packed result is installed (and built) next. */
function preparingGitCheckout() {
  return !!process.env._PACOTE_NO_PREPARE_ && !root.split(path.sep).includes('node_modules');
}

function main() {
  if (preparingGitCheckout()) {
    say('preparing a git checkout: the addon is built when the package is installed');
    return;
  }
  const found = wantsSourceBuild() ? { reason: 'a source build was requested' } : usableBinary();
  if (found.file) {
    say(`using ${path.relative(root, found.file)}`);
    return;
  }
  const missing = missingBuildTools();
  if (missing.length) failWithoutTools(found.reason, missing);
  say(`${found.reason}, building from source with cmake-js (a minute or so)…`);
  buildFromSource();
}

main();
