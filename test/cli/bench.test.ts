// `symtensor bench`: the benchmark suite run by the command line, from the TypeScript sources
// (in this process) and from a compiled copy of the package laid out as npm installs it (bin/, dist/,
// bench/peers/, package.json), without peers so that it runs anywhere.  The JSON report is checked
// against the printed table and against the GFLOP/s recomputed here from the case's size.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { workloads } from '../../lib/bench/workloads';
import { main } from '../../lib/cli/main';

const root = path.join(__dirname, '..', '..');
const CASE = 'sgemm/n=256';
const N = 256;

interface Report {
  command: string;
  cases: { id: string; workload: string; label: string; flops: number | null; results: Record<string, { medianMs?: number; minMs?: number; maxMs?: number; gflops?: number; reps?: number }> }[];
  peers: Record<string, unknown>;
}

function runNode(args: string[], cwd: string) {
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SYMTENSOR_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
}

/** The command line run in this process (no child: the quick checks stay quick), its output captured. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [ow, ew] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((s: string | Uint8Array) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

/** The checks every successful `bench --only sgemm/n=256 --quick --peers none` run must pass. */
function checkReport(out: string, stdout: string): void {
  const rep = JSON.parse(fs.readFileSync(out, 'utf8')) as Report;
  assert.match(rep.command, /^symtensor bench /);
  assert.deepEqual(rep.cases.map((c) => c.id), [CASE]);
  const c = rep.cases[0];
  assert.equal(c.workload, 'sgemm');
  assert.equal(c.flops, 2 * N ** 3);
  // --peers none: symtensor's implementations only, and no peer was even looked for
  assert.deepEqual(Object.keys(c.results), ['symtensor']);
  assert.deepEqual(Object.keys(rep.peers), ['symtensor']);
  const t = c.results.symtensor;
  assert.ok(Number.isFinite(t.medianMs) && t.medianMs! > 0, `medianMs ${t.medianMs}`);
  assert.ok(t.minMs! <= t.medianMs! && t.medianMs! <= t.maxMs!, 'min <= median <= max');
  assert.ok(Number.isInteger(t.reps) && t.reps! >= 1);
  const gflops = (2 * N ** 3) / (t.medianMs! * 1e6);
  assert.ok(Math.abs(t.gflops! - gflops) <= 1e-9 * gflops, `gflops ${t.gflops} vs ${gflops}`);
  // the table row shows the same case and implementation
  assert.match(stdout, /SGEMM n=256\s+symtensor\s/);
  assert.match(stdout, /peers run: symtensor\n/);
}

describe('cli: symtensor bench', function () {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'symtensor-bench-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('from the sources: --only <case> --quick --peers none --out f.json writes the case\'s numbers', async () => {
    const out = path.join(tmp, 'src.json');
    const r = await inProcess(['bench', '--only', CASE, '--quick', '--peers', 'none', '--keep-openblas-env', '--out', out]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    checkReport(out, r.stdout);
  });

  it('from a compiled copy of the package (bin/symtensor.js, dist/, bench/peers/), as npm installs it', function () {
    // The package's layout, compiled here so that the test does not depend on a stale dist/.
    const pkg = path.join(tmp, 'pkg');
    fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
    const tsc = spawnSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', path.join(root, 'tsconfig.json'), '--outDir', path.join(pkg, 'dist'), '--sourceMap', 'false', '--declaration', 'false'],
      { cwd: root, encoding: 'utf8', timeout: 120_000 });
    assert.ok(fs.existsSync(path.join(pkg, 'dist', 'bench', 'run.js')), `tsc emitted no dist/bench/run.js: ${tsc.stdout}${tsc.stderr}`);
    fs.copyFileSync(path.join(root, 'bin', 'symtensor.js'), path.join(pkg, 'bin', 'symtensor.js'));
    fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    fs.cpSync(path.join(root, 'bench', 'peers'), path.join(pkg, 'bench', 'peers'), { recursive: true, filter: (f) => !f.endsWith('.ts') });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
    fs.symlinkSync(path.join(root, 'build'), path.join(pkg, 'build'));
    const project = path.join(tmp, 'project');
    fs.mkdirSync(project);
    const r = runNode([path.join(pkg, 'bin', 'symtensor.js'), 'bench', '--only', CASE, '--quick', '--peers', 'none', '--out', 'result.json'], project);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    // --out is relative to the working directory
    checkReport(path.join(project, 'result.json'), r.stdout);
    assert.doesNotMatch(r.stdout + r.stderr, /tsx/);
  });

  it('bench --help names the flags, the peers and the workloads', async () => {
    const r = await inProcess(['bench', '--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const s of ['--only', '--peers', '--out', '--quick', 'pytorch', 'numpy', 'tfjs', 'none'])
      assert.ok(r.stdout.includes(s), `help lacks ${s}`);
    // every workload the suite has, by the name --only takes
    const listed = /Workloads: ([\s\S]*?)\n\n/.exec(r.stdout)?.[1].replace(/\([^)]*\)/g, '').split(/,\s*/).map((w) => w.trim().replace(/\.$/, ''));
    assert.deepEqual(listed?.sort(), workloads.map((w) => w.name).sort());
  });

  it('an unknown peer is a usage error (exit 2) naming it and the valid names', async () => {
    const r = await inProcess(['bench', '--peers', 'numpy,jax', '--out', path.join(tmp, 'x.json')]);
    assert.equal(r.code, 2, r.stderr);
    const m = /unknown peer\(s\) jax; known: (.*)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    const known = m[1].split(', ');
    for (const p of ['numpy', 'torch', 'pytorch', 'tfjs', 'tfjs-wasm', 'none']) assert.ok(known.includes(p), `${p} not among ${m[1]}`);
    assert.ok(!fs.existsSync(path.join(tmp, 'x.json')));
  });

  it('--only that matches no case fails (exit 1) listing the workloads, and writes nothing', async () => {
    const out = path.join(tmp, 'none.json');
    // --keep-openblas-env: this process must not re-run itself
    const r = await inProcess(['bench', '--only', 'no-such-case', '--peers', 'none', '--keep-openblas-env', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /symtensor: bench: no case matches --only no-such-case; workloads: sgemm, .*call-overhead/);
    assert.ok(!fs.existsSync(out));
  });
});
