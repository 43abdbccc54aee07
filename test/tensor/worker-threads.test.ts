// The addon is context-aware: it loads in several worker threads at once, each with its own
// thread pool and memory accounting, and unloads cleanly when they exit.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

const root = path.join(__dirname, '..', '..');

function runWorker(seed: number): Promise<{ sum: number; tensors: number; fn: number }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    require('tsx/cjs');
    const st = require(${JSON.stringify(path.join(root, 'lib', 'index.ts'))});
    const a = st.randomNormal([64, 32], { seed: workerData.seed });
    const b = st.randomNormal([32, 16], { seed: workerData.seed + 1 });
    const sum = Number(st.matmul(a, b).sum().item());
    const x = st.T.vector('x');
    const f = st.fn([x], x.mul(2).sum());
    const fv = Number(f.sync(st.ones([10])).item());
    parentPort.postMessage({ sum, tensors: st.memory().numTensors, fn: fv });
  `;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { seed } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (c) => c !== 0 && reject(new Error(`worker exited with ${c}`)));
  });
}

describe('worker_threads', () => {
  it('loads in several workers at once and computes the same as the main thread', async function () {
    this.timeout(120000);
    const st = await import('../../lib/index');
    const results = await Promise.all([runWorker(5), runWorker(5), runWorker(9)]);
    const expect = (seed: number) =>
      Number(st.matmul(st.randomNormal([64, 32], { seed }), st.randomNormal([32, 16], { seed: seed + 1 })).sum().item());
    assert.ok(Math.abs(results[0].sum - expect(5)) < 1e-3, `${results[0].sum} vs ${expect(5)}`);
    assert.equal(results[0].sum, results[1].sum);
    assert.ok(Math.abs(results[2].sum - expect(9)) < 1e-3);
    for (const r of results) {
      assert.equal(r.fn, 20);
      assert.ok(r.tensors >= 3, 'each worker counts its own tensors');
    }
  });
});
