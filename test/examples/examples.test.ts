// Smoke test of examples/: each runs as a user would run it (`npx tsx examples/<file>`), with
// `symtensor` resolved to lib/ (test/examples/tsconfig.json), must exit 0, and must print the line
// that shows it reached its goal.  The examples check their own results against independent
// answers (held-out accuracy, closed-form Jacobian and Hessian, the known minimum, server replies).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** Runs examples/<file> under tsx; resolves with its exit code and output. */
function runExample(file: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join('examples', file)], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: path.join('test', 'examples', 'tsconfig.json'), SERVE: '' },
      timeout: 110_000,
      maxBuffer: 1 << 22,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

const cases: [file: string, goal: RegExp][] = [
  // 5% of its labels are flipped, so about 95% is the most it can reach; chance is 50%.
  ['logistic-regression.ts', /held-out accuracy (8\d|9\d)\.\d%/],
  ['minibatch-mlp.ts', /accuracy [\d.]+% before training, (9\d|100)\.\d% after/],
  ['hessian-jacobian.ts', /minimum found at \[1\.000000, 1\.000000, 1\.000000\]/],
  ['async-training-server.ts', /the server answered \d{2,} requests meanwhile/],
];

describe('examples', () => {
  for (const [file, goal] of cases) {
    it(`${file} runs and reaches its goal`, async () => {
      const { code, out } = await runExample(file);
      assert.equal(code, 0, `examples/${file} exited with ${code}:\n${out}`);
      assert.match(out, goal, `examples/${file} did not print ${goal}:\n${out}`);
    });
  }
});
