// Smoke test of examples/: each runs as a user would run it (`npx tsx examples/<file>`), with
// `symtensor` resolved to lib/ (test/examples/tsconfig.json), must exit 0, and must print the line
// that shows it reached its goal.  The examples check their own results against independent
// answers (held-out accuracy, closed-form Jacobian and Hessian, the known minimum, server replies).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const FASHION = fs.existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');

/** Runs examples/<file> under tsx; resolves with its exit code and output. */
function runExample(file: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join('examples', file)], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: path.join('test', 'examples', 'tsconfig.json'), SERVE: '', ...env },
      timeout: 110_000,
      maxBuffer: 1 << 22,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

const cases: [file: string, goal: RegExp, env?: Record<string, string>][] = [
  // 5% of its labels are flipped, so about 95% is the most it can reach; chance is 50%.
  ['logistic-regression.ts', /held-out accuracy (8\d|9\d)\.\d%/],
  ['minibatch-mlp.ts', /accuracy [\d.]+% before training, (9\d|100)\.\d% after/],
  ['hessian-jacobian.ts', /minimum found at \[1\.000000, 1\.000000, 1\.000000\]/],
  ['async-training-server.ts', /the server answered \d{2,} requests meanwhile/],
  ['char-lstm.ts', /loss [3-9]\.\d\d -> (0|1)\.\d\d/],
  ['transformer-reverse.ts', /token accuracy (9[5-9]|100)\.\d%/],
  ['minibatch-givens/main.ts', /held-out accuracy [\d.]+% before training, (9\d|100)\.\d% after/],
  ['distributed-mlp.ts', /final loss 0\.\d+\nranks 1/],
  // one epoch each (the examples default to more): Fashion-MNIST's test accuracy passes 80% after one
  ...(FASHION ? ([
    ['fashion-mnist-mlp.ts', /test accuracy (8\d|9\d)\.\d%/, { EPOCHS: '1' }],
    ['fashion-mnist-cnn.ts', /the loaded model's test accuracy is (8\d|9\d)\.\d%/, { EPOCHS: '1' }],
  ] as [string, RegExp, Record<string, string>][]) : []),
];

describe('examples', () => {
  if (!FASHION) console.log("    (the Fashion-MNIST examples are not run: they need Debian's dataset-fashion-mnist)");
  for (const [file, goal, env] of cases) {
    it(`${file} runs and reaches its goal`, async () => {
      const { code, out } = await runExample(file, env);
      assert.equal(code, 0, `examples/${file} exited with ${code}:\n${out}`);
      assert.match(out, goal, `examples/${file} did not print ${goal}:\n${out}`);
    });
  }
});
