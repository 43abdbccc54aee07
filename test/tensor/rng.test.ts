import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as st from '../../lib/index';
import { lastJson, runChild } from '../support/child';

// Draws large enough to be split over several threads, hashed so the outputs stay small.
const SNIPPET = `
  const { createHash } = require('node:crypto');
  const h = (t) => createHash('sha256').update(Buffer.from(t.dataSync().buffer)).digest('hex');
  const out = {
    threads: st.backendInfo().threads,
    u32: h(st.randomUniform([200003], { seed: 1234 })),
    u64: h(st.randomUniform([1000, 257], { seed: 99, low: -3, high: 5, dtype: 'float64' })),
    i32: h(st.randomUniform([100001], { seed: 7, low: -50, high: 50, dtype: 'int32' })),
    n32: h(st.randomNormal([150001], { seed: 2 ** 40 + 3 })),
    n64: h(st.randomNormal([300, 333], { seed: 0, mean: 1, stddev: 2, dtype: 'float64' })),
    first: Array.from(st.randomUniform([4], { seed: 1234 }).dataSync()),
  };
  console.log(JSON.stringify(out));
`;

interface RngOut {
  threads: number;
  u32: string;
  u64: string;
  i32: string;
  n32: string;
  n64: string;
  first: number[];
}

function hash(t: st.Tensor): string {
  return createHash('sha256').update(Buffer.from(t.dataSync().buffer)).digest('hex');
}

describe('random numbers across thread counts', () => {
  it('the same seed gives identical numbers with SYMTENSOR_NUM_THREADS=1, 2 and 3', () => {
    const runs = ['1', '2', '3'].map((n) => {
      const r = runChild(SNIPPET, { env: { SYMTENSOR_NUM_THREADS: n } });
      assert.equal(r.status, 0, r.stderr.slice(0, 2000));
      return lastJson<RngOut>(r);
    });
    assert.deepEqual(runs.map((r) => r.threads), [1, 2, 3], 'backendInfo().threads follows SYMTENSOR_NUM_THREADS');
    for (const key of ['u32', 'u64', 'i32', 'n32', 'n64', 'first'] as const) {
      assert.deepEqual(runs[1][key], runs[0][key], `${key}: 2 threads vs 1`);
      assert.deepEqual(runs[2][key], runs[0][key], `${key}: 3 threads vs 1`);
    }
    // and this process (default thread count) draws the same numbers
    assert.equal(hash(st.randomUniform([200003], { seed: 1234 })), runs[0].u32);
    assert.equal(hash(st.randomNormal([300, 333], { seed: 0, mean: 1, stddev: 2, dtype: 'float64' })), runs[0].n64);
    // the streams differ from each other
    assert.equal(new Set([runs[0].u32, runs[0].u64, runs[0].i32, runs[0].n32, runs[0].n64]).size, 5);
  });

  it('the default thread count is the number of cores; bad values fall back to it', () => {
    const cores = os.availableParallelism();
    const threadsWith = (value: string) => {
      const r = runChild('console.log(JSON.stringify({ threads: st.backendInfo().threads }))', { env: { SYMTENSOR_NUM_THREADS: value } });
      assert.equal(r.status, 0, r.stderr);
      return lastJson<{ threads: number }>(r).threads;
    };
    assert.equal(threadsWith(''), cores, 'unset: one thread per core this process may use (os.availableParallelism())');
    for (const bad of ['lots', '0', '-3']) assert.equal(threadsWith(bad), cores, `SYMTENSOR_NUM_THREADS=${bad} falls back to the cores`);
    assert.equal(threadsWith(String(cores + 1)), cores + 1, 'a valid value is taken as given');
  });

  it('kernels give identical results with 1 and 2 threads (reductions, matmul, softmax)', () => {
    const snippet = `
      const { createHash } = require('node:crypto');
      const h = (t) => createHash('sha256').update(Buffer.from(t.dataSync().buffer)).digest('hex');
      const x = st.randomNormal([301, 257], { seed: 5, dtype: 'float64' });
      const y = st.randomNormal([257, 129], { seed: 6, dtype: 'float64' });
      const out = {
        threads: st.backendInfo().threads,
        sum0: h(st.sum(x, 0)), sum1: h(st.sum(x, 1)), max: h(st.max(x, 0)), argmax: h(st.argmax(x, 1)),
        softmax: h(st.softmax(x)), transpose: h(st.transpose(x)),
        total: st.sum(st.cast(x, 'float32')).item(),
      };
      console.log(JSON.stringify(out));
    `;
    const [a, b] = ['1', '2'].map((n) => {
      const r = runChild(snippet, { env: { SYMTENSOR_NUM_THREADS: n } });
      assert.equal(r.status, 0, r.stderr.slice(0, 2000));
      return lastJson<Record<string, unknown>>(r);
    });
    assert.equal(a.threads, 1);
    assert.equal(b.threads, 2);
    for (const k of ['sum0', 'sum1', 'max', 'argmax', 'softmax', 'transpose', 'total']) assert.deepEqual(b[k], a[k], `${k} differs between 1 and 2 threads`);
  });
});
