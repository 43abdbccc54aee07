// The addon is context-aware: it loads in several worker threads at once, each with its own
// thread pool and memory accounting, and unloads cleanly when they exit.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

const root = path.join(__dirname, '..', '..');

interface WorkerResult {
  sum: number;
  fn: number;
  /** memory() once every worker had loaded the library. */
  before: { numTensors: number; numBytes: number };
  /** memory() once every worker had made its own tensors (and still held them). */
  during: { numTensors: number; numBytes: number };
}

// Workers meet at two barriers (counters in shared memory): all measure memory() before any
// allocates, and all measure again while every worker holds its tensors.  A count shared between
// workers would then include the others' tensors; a per-worker count holds exactly its own.
function runWorker(seed: number, extra: number, barrier: Int32Array, parties: number): Promise<WorkerResult> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    require('tsx/cjs');
    const st = require(${JSON.stringify(path.join(root, 'lib', 'index.ts'))});
    const { barrier, parties, seed, extra } = workerData;
    const meet = (slot) => {
      Atomics.add(barrier, slot, 1);
      Atomics.notify(barrier, slot);
      for (let n; (n = Atomics.load(barrier, slot)) < parties; ) Atomics.wait(barrier, slot, n, 1000);
    };
    // every tensor stays referenced, so no collection between the barriers can change the count
    const a = st.randomNormal([64, 32], { seed });
    const b = st.randomNormal([32, 16], { seed: seed + 1 });
    const ab = st.matmul(a, b);
    const total = ab.sum();
    const x = st.T.vector('x');
    const f = st.fn([x], x.mul(2).sum());
    const ones = st.ones([10]);
    const fOut = f.sync(ones);
    const sum = Number(total.item());
    const fv = Number(fOut.item());
    meet(0);
    const before = st.memory();
    const held = Array.from({ length: extra }, (_, i) => st.zeros([100 + i], 'float64'));
    meet(1);
    const during = st.memory();
    parentPort.postMessage({ sum, fn: fv, before, during, held: [a, b, ab, total, ones, fOut, ...held].length });
  `;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { seed, extra, barrier, parties } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (c) => c !== 0 && reject(new Error(`worker exited with ${c}`)));
  });
}

describe('worker_threads', () => {
  it('loads in several workers at once and computes the same as the main thread', async function () {
    this.timeout(120000);
    const st = await import('../../lib/index');
    const barrier = new Int32Array(new SharedArrayBuffer(8));
    const extras = [3, 7, 20];
    const mainHeld = Array.from({ length: 50 }, () => st.zeros([1000])); // must not show in any worker's count
    const results = await Promise.all([runWorker(5, extras[0], barrier, 3), runWorker(5, extras[1], barrier, 3), runWorker(9, extras[2], barrier, 3)]);
    const expect = (seed: number) =>
      Number(st.matmul(st.randomNormal([64, 32], { seed }), st.randomNormal([32, 16], { seed: seed + 1 })).sum().item());
    assert.ok(Math.abs(results[0].sum - expect(5)) < 1e-3, `${results[0].sum} vs ${expect(5)}`);
    assert.equal(results[0].sum, results[1].sum);
    assert.ok(Math.abs(results[2].sum - expect(9)) < 1e-3);
    results.forEach((r, i) => {
      assert.equal(r.fn, 20);
      // each worker counts its own tensors: exactly the ones it made between the barriers
      const bytes = Array.from({ length: extras[i] }, (_, k) => (100 + k) * 8).reduce((s, b) => s + b, 0);
      assert.equal(r.during.numTensors - r.before.numTensors, extras[i], `worker ${i}: tensors made vs counted`);
      assert.equal(r.during.numBytes - r.before.numBytes, bytes, `worker ${i}: bytes made vs counted`);
      assert.ok(r.during.numTensors < mainHeld.length, `worker ${i} counts ${r.during.numTensors} tensors: the main thread's are in its count`);
    });
    mainHeld.forEach((t) => t.dispose());
  });
});
