// Results dropped without dispose() in loops that never yield: allocations run a young-generation
// collection once the native memory held has grown enough, so the dropped results' memory comes
// back within a few MB instead of after V8's next full collection.  Each case runs in a fresh
// child process (no --expose-gc unless stated) and checks the native memory held along the way,
// next to the values against a float64 reference computed here.
import { strict as assert } from 'node:assert';
import { ChildResult, runChild } from '../support/child';

const MB = 1024 * 1024;

/** The last stdout line that is a JSON object (V8's --trace-gc lines may surround it). */
function lastObject<T>(r: ChildResult): T {
  const line = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`child printed no JSON (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(line) as T;
}

// f(x) = tanh(1.5·x + 0.25) compiled, over x[i] = sin(i) in float32 (n = 1e6: 4 MB results)
const compiledSetup = `
  const { T } = st;
  const n = 1000000;
  const xs = T.vector('x');
  const f = st.fn([xs], T.tanh(xs.mul(1.5).add(0.25)));
  const x = st.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i)));
  const sample = (t) => { const v = t.dataSync(); return Array.from({ length: 20 }, (_, k) => v[k * 49999]); };
`;

/** float64 reference of sample() for f. */
function compiledReference(): number[] {
  return Array.from({ length: 20 }, (_, k) => Math.tanh(1.5 * Math.fround(Math.sin(k * 49999)) + 0.25));
}

function checkValues(values: number[], ref: number[]): void {
  assert.equal(values.length, ref.length);
  values.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-5, `sample ${i}: ${v} vs ${ref[i]}`));
}

describe('memory: dropped results are reclaimed by young-generation collections', () => {
  // Measured before these collections: 68-95 MB held at the peak (sync and async alike); now
  // about 16-20 MB (16 MB of growth triggers one, plus what the loop keeps alive).
  it('200 dropped 4 MB results of f.sync() and 100 of await f() keep under 40 MB held', () => {
    const r = runChild(`${compiledSetup}
      const base = st.memory().numBytes;
      let syncMax = 0, asyncMax = 0;
      for (let i = 0; i < 200; i++) {
        f.sync(x);
        syncMax = Math.max(syncMax, st.memory().numBytes - base);
      }
      (async () => {
        for (let i = 0; i < 100; i++) {
          await f(x);
          asyncMax = Math.max(asyncMax, st.memory().numBytes - base);
        }
        console.log(JSON.stringify({ values: sample(f.sync(x)), asyncValues: sample(await f(x)), syncMax, asyncMax }));
      })();
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const out = lastObject<{ values: number[]; asyncValues: number[]; syncMax: number; asyncMax: number }>(r);
    checkValues(out.values, compiledReference());
    checkValues(out.asyncValues, compiledReference());
    assert.ok(out.syncMax < 40 * MB, `f.sync: ${(out.syncMax / MB).toFixed(1)} MB held at the peak (800 MB dropped)`);
    assert.ok(out.asyncMax < 40 * MB, `await f: ${(out.asyncMax / MB).toFixed(1)} MB held at the peak (400 MB dropped)`);
  });

  it('eager chains dropping 400 KB and 1 KB tensors hold at most a few of them', () => {
    // Measured before: 57 MB (about 170 tensors of 400 KB) and about 3,300 tensors of 1 KB; now
    // about 12 MB and about 200.
    const r = runChild(`
      const out = {};
      for (const [n, steps] of [[100000, 300], [256, 6000]]) {
        let y = st.full([n], 0.25);
        const m0 = st.memory();
        let maxBytes = 0, maxTensors = 0;
        for (let i = 0; i < steps; i++) {
          y = st.tanh(y.mul(0.5).add(0.1));
          const m = st.memory();
          maxBytes = Math.max(maxBytes, m.numBytes - m0.numBytes);
          maxTensors = Math.max(maxTensors, m.numTensors - m0.numTensors);
        }
        const v = y.dataSync();
        out[n] = { values: [v[0], v[n - 1]], maxBytes, maxTensors };
      }
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    type Run = { values: number[]; maxBytes: number; maxTensors: number };
    const out = lastObject<Record<string, Run>>(r);
    const chain = (steps: number) => {
      let y = 0.25;
      for (let i = 0; i < steps; i++) y = Math.tanh(0.5 * y + 0.1);
      return y;
    };
    for (const [n, steps] of [[100000, 300], [256, 6000]]) {
      out[n].values.forEach((v) => assert.ok(Math.abs(v - chain(steps)) < 1e-5, `n=${n}: ${v} vs ${chain(steps)}`));
    }
    assert.ok(out[100000].maxBytes < 32 * MB, `400 KB tensors: ${(out[100000].maxBytes / MB).toFixed(1)} MB held at the peak`);
    assert.ok(out[256].maxTensors < 1500, `1 KB tensors: ${out[256].maxTensors} held at the peak (18,000 dropped)`);
  });

  it('runs young-generation collections for dropped results, never for disposed ones, rarely for kept ones', () => {
    // V8 logs each collection (--trace-gc) and why it ran.  Dropping 800 MB of results takes one
    // per 16 MB or so.
    const r = runChild(`${compiledSetup}
      const count = (run) => {
        console.log('<<');
        run();
        console.log('>>');
      };
      count(() => { for (let i = 0; i < 200; i++) f.sync(x).dispose(); });
      count(() => { for (let i = 0; i < 200; i++) f.sync(x); });
      const kept = [];
      count(() => { for (let i = 0; i < 20000; i++) kept.push(st.full([256], i)); });
      console.log(JSON.stringify({ values: sample(f.sync(x)), kept: [kept[0].dataSync()[0], kept[19999].dataSync()[255]] }));
    `, { nodeArgs: ['--trace-gc'] });
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const out = lastObject<{ values: number[]; kept: number[] }>(r);
    checkValues(out.values, compiledReference());
    assert.deepEqual(out.kept, [0, 19999]);
    const sections = r.stdout.split('<<').slice(1).map((s) => s.split('>>')[0]);
    assert.equal(sections.length, 3, r.stdout.slice(0, 2000));
    // the ones requested through gc() are logged as 'testing'; V8's own say why they ran
    const scavenges = sections.map((s) => (s.match(/Scavenge.*testing/g) ?? []).length);
    assert.equal(scavenges[0], 0, `disposing loop: ${scavenges[0]} scavenges`);
    assert.ok(scavenges[1] >= 20, `dropping loop: ${scavenges[1]} scavenges`);
    // kept tensors are not worth looking for: each scavenge that finds most of the growth alive
    // doubles the growth the next one waits for (1,024 tensors at first: 19 without that)
    assert.ok(scavenges[2] <= 8, `loop keeping 20,000 tensors of 1 KB: ${scavenges[2]} scavenges`);
  });

  it('an eager chain of 40 MB temporaries is reclaimed by scavenges alone, without full collections', () => {
    // A statement's temporaries stay alive until it ends (the caller's frame holds them), a
    // loop-carried result until the next one replaces it; one that lived through two scavenges is
    // promoted, and then only a full collection finds it dead.  With scavenges two 40 MB
    // allocations apart, 40 statements took 19-20 full collections (V8's, started by the promoted
    // buffers' external memory, and ours at 256 MB held), and one before every allocation (the
    // rule before) promoted more; reporting every buffer to V8 when made started full collections
    // of its own.  Scavenges now wait for growth of four times the allocation, and only buffers
    // that outlive two scavenges are reported.  (The temporaries are reshaped: a view keeps the
    // next op from writing over their blocks, so each statement still allocates three.)
    const r = runChild(`
      const n = 10000000, steps = 40;
      const x = st.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i)));
      const base = st.memory().numBytes;
      let maxHeld = 0, y = null;
      console.log('<<');
      for (let i = 0; i < steps; i++) {
        y = st.tanh(st.add(st.mul(x, 1.5).reshape([n]), 0.25).reshape([n]));
        maxHeld = Math.max(maxHeld, st.memory().numBytes - base);
      }
      console.log('>>');
      const v = y.dataSync();
      console.log(JSON.stringify({ values: Array.from({ length: 20 }, (_, k) => v[k * 499999]), maxHeld }));
    `, { nodeArgs: ['--trace-gc'] });
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const out = lastObject<{ values: number[]; maxHeld: number }>(r);
    const ref = Array.from({ length: 20 }, (_, k) => Math.tanh(1.5 * Math.fround(Math.sin(k * 499999)) + 0.25));
    checkValues(out.values, ref);
    const section = r.stdout.split('<<')[1]?.split('>>')[0] ?? '';
    const full = (section.match(/Mark-Compact/g) ?? []).length;
    const young = (section.match(/Scavenge.*testing/g) ?? []).length;
    assert.ok(full <= 2, `${full} full collections over 40 statements (${young} scavenges)`);
    assert.ok(young >= 20, `${young} scavenges over 40 statements`);
    // the input, a statement's two live temporaries, and what three allocations add
    assert.ok(out.maxHeld < 280 * MB, `${(out.maxHeld / MB).toFixed(0)} MB held at the peak`);
  });

  it("loading the library leaves gc() where it was: absent, or the one --expose-gc gave", () => {
    const code = `
      const vm = require('node:vm');
      console.log(JSON.stringify({ main: typeof globalThis.gc, context: vm.runInNewContext('typeof gc'), n: st.ones([100]).size }));
    `;
    const plain = runChild(code);
    assert.equal(plain.status, 0, plain.stderr.slice(0, 2000));
    assert.deepEqual(lastObject(plain), { main: 'undefined', context: 'undefined', n: 100 });
    const exposed = runChild(code, { nodeArgs: ['--expose-gc'] });
    assert.equal(exposed.status, 0, exposed.stderr.slice(0, 2000));
    assert.deepEqual(lastObject(exposed), { main: 'function', context: 'function', n: 100 });
  });
});
