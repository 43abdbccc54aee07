import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { expectError } from '../support/check';
import { lastJson, runChild } from '../support/child';

describe('memory', () => {
  it('memory() counts tensors and bytes; dispose() gives them back (fresh process)', () => {
    // In a fresh process nothing else allocates or collects tensors behind our back.  memory()
    // counts native memory: a result of at most 64 bytes is held by V8 instead (and not counted).
    const r = runChild(`
      const m = () => st.memory();
      const log = {};
      log.start = m();
      const a = st.zeros([10, 10]);              // 400 bytes
      log.afterA = m();
      const b = st.ones([9], 'float64');          // 72 bytes
      const c = st.full([65], true);              // 65 bytes
      const d = st.zeros([17], 'int32');          // 68 bytes
      log.afterAll = m();
      const small = [st.ones([8], 'float64'), st.full([64], true), st.zeros([16], 'int32'), st.sum(a)];  // 64 bytes or less
      log.afterSmall = m();
      log.smallSizes = small.map((t) => t.dataSync().length);
      const e = st.add(a, 1);                     // an op result counts too
      log.afterOp = m();
      e.dispose();
      log.afterOpDispose = m();
      a.dispose();
      log.afterDisposeA = m();
      a.dispose();                                // idempotent
      log.afterDisposeAgain = m();
      b.dispose(); c.dispose(); d.dispose();
      log.end = m();
      // views share one buffer: it lives until every view is disposed
      const base = st.zeros([4, 6]);
      const v1 = base.reshape([24]);
      const v2 = st.expandDims(v1, 0);
      const v3 = st.flatten(base);
      log.views = m();
      base.dispose();
      log.viewsAfterBase = m();
      log.v1Data = Array.from(v1.dataSync()).length;
      v1.dispose(); v2.dispose();
      log.viewsAfterTwo = m();
      log.v3Data = Array.from(v3.dataSync()).length;
      v3.dispose();
      log.viewsEnd = m();
      // intermediate tensors of composite ops are freed
      const x = st.randomNormal([50, 40], { seed: 1 });
      const xi = st.ones([50, 40], 'int32');
      const p = st.ones([2, 3]), q = st.ones([4, 3, 5]), u = st.ones([3]), w = st.ones([3, 2]), bl = st.ones([2], 'bool');
      let before = m();
      let ops = [st.variance(x, 1), st.std(x, 0), st.logSumExp(x, [0, 1]), st.mean(x, [0, 1]), st.sum(x, [0, 1]),
        st.max(x, [0, 1]), st.sum(bl.reshape([1, 2]).expandDims(0).squeeze(0).flatten(), 0),
        st.dot(p, q), st.outer(u, u), st.matmul(u, w), st.matmul(w, u, true), st.argmax(x), st.stack([x, x]), st.tile(x, [2, 1]),
        st.softmax(x), st.conv2d(st.reshape(x, [1, 50, 40, 1]), st.reshape(u, [3, 1, 1, 1])), st.where(bl, 1, 2), st.maxPool2d(st.reshape(x, [1, 50, 40, 1]))];
      // those of at most 64 bytes are held by V8, not counted
      const nativeResults = (ops) => ops.filter((t) => t.dataSync().byteLength > 64).length;
      log.floatCount = m().numTensors - before.numTensors;
      log.floatOps = nativeResults(ops);
      // the same with int32/bool inputs, which get cast to float first
      before = m();
      ops = [st.variance(xi, 1), st.std(xi, 0), st.logSumExp(xi, 1), st.mean(xi, [0, 1]), st.sum(bl), st.argmin(xi, 1),
        st.softmax(xi), st.logSoftmax(xi, 0), st.conv2d(st.reshape(xi, [1, 50, 40, 1]), st.ones([1, 1, 1, 1], 'int32')),
        st.avgPool2d(st.reshape(xi, [1, 50, 40, 1]))];
      // (conv2d's filter argument, a tensor made for the call, is 4 bytes: not counted)
      log.intCount = m().numTensors - before.numTensors;
      log.intOps = nativeResults(ops);
      console.log(JSON.stringify(log));
    `);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const log = lastJson<Record<string, { numTensors: number; numBytes: number } & number>>(r);
    const dT = (a: string, b: string) => log[b].numTensors - log[a].numTensors;
    const dB = (a: string, b: string) => log[b].numBytes - log[a].numBytes;
    assert.deepEqual(log.start, { numTensors: 0, numBytes: 0 });
    assert.equal(dT('start', 'afterA'), 1);
    assert.equal(dB('start', 'afterA'), 400);
    assert.equal(dT('start', 'afterAll'), 4);
    assert.equal(dB('start', 'afterAll'), 400 + 72 + 65 + 68);
    assert.deepEqual(log.afterSmall, log.afterAll, 'results of at most 64 bytes hold no native memory');
    assert.deepEqual(log.smallSizes, [8, 64, 16, 1]);
    assert.equal(dT('afterAll', 'afterOp'), 1, 'an op adds exactly its output');
    assert.equal(dB('afterAll', 'afterOp'), 400);
    assert.deepEqual(log.afterOpDispose, log.afterAll);
    assert.equal(dT('afterOpDispose', 'afterDisposeA'), -1);
    assert.equal(dB('afterOpDispose', 'afterDisposeA'), -400);
    assert.deepEqual(log.afterDisposeAgain, log.afterDisposeA, 'a second dispose changes nothing');
    assert.deepEqual(log.end, log.start);
    assert.equal(dT('end', 'views'), 1, 'views share one buffer');
    assert.equal(dB('end', 'views'), 96);
    assert.deepEqual(log.viewsAfterBase, log.views, 'disposing the base keeps the data for the views');
    assert.equal(log.v1Data, 24);
    assert.deepEqual(log.viewsAfterTwo, log.views);
    assert.equal(log.v3Data, 24);
    assert.deepEqual(log.viewsEnd, log.start, 'the last view frees the buffer');
    assert.ok(log.floatOps >= 8 && log.intOps >= 8, `enough native results to count: ${log.floatOps}, ${log.intOps}`);
    assert.equal(log.floatCount, log.floatOps, 'composite ops leave only their results alive');
    assert.equal(log.intCount, log.intOps, 'ops on int32 inputs free the float copies they make');
  });

  it('dispose is idempotent and isDisposed reports it', () => {
    const t = st.ones([3]);
    assert.equal(t.isDisposed, false);
    t.dispose();
    assert.equal(t.isDisposed, true);
    assert.doesNotThrow(() => t.dispose());
    assert.equal(t.isDisposed, true);
  });

  it('views stay readable after the original is disposed, and vice versa', () => {
    const a = st.tensor([[1, 2], [3, 4]]);
    const v = a.reshape([4]);
    a.dispose();
    assert.deepEqual(Array.from(v.dataSync()), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(st.add(v, 1).dataSync()), [2, 3, 4, 5]);
    const b = st.tensor([5, 6]);
    const w = st.expandDims(b, 1);
    w.dispose();
    assert.deepEqual(Array.from(b.dataSync()), [5, 6]);
    assert.equal(w.isDisposed, true);
    assert.equal(b.isDisposed, false);
    // copies (transpose, slice) are independent of their source
    const c = st.tensor([[1, 2], [3, 4]]);
    const ct = c.transpose();
    const cs = c.slice([0, 0], [1, 2]);
    c.dispose();
    assert.deepEqual(ct.arraySync(), [[1, 3], [2, 4]]);
    assert.deepEqual(cs.arraySync(), [[1, 2]]);
  });

  it('using a disposed tensor throws ERR_ST_DISPOSED naming the op', () => {
    const t = st.ones([2, 2]);
    const v = t.reshape([4]);
    t.dispose();
    v.dispose();
    expectError(() => v.dataSync(), 'ERR_ST_DISPOSED', ['dataSync', 'disposed']);
    expectError(() => st.exp(t), 'ERR_ST_DISPOSED', ['exp', '[2,2]']);
    expectError(() => st.transpose(t), 'ERR_ST_DISPOSED', ['transpose']);
    expectError(() => st.concat([st.ones([2, 2]), t]), 'ERR_ST_DISPOSED', ['concat']);
    expectError(() => st.conv2d(st.ones([1, 2, 2, 1]), t.reshape([2, 2, 1, 1])), 'ERR_ST_DISPOSED', ['reshape']);
    assert.equal(t.toString(), 'tensor(<disposed>, shape=[2,2], dtype=float32)');
  });

  it('tensors dropped without dispose() are freed by the garbage collector', () => {
    const r = runChild(`
      (async () => {
        const tick = () => new Promise((res) => setImmediate(res));
        const start = st.memory();
        const keep = st.ones([100]);
        // the results are held until counted (the ones([256]) temporaries are dropped at once and
        // may already be swept), then dropped too
        let held = [];
        (function make() { for (let i = 0; i < 2000; i++) held.push(st.add(st.ones([256]), i)); })();
        const made = st.memory();
        held = null;
        for (let i = 0; i < 20 && st.memory().numTensors > start.numTensors + 1; i++) { global.gc(); await tick(); }
        const end = st.memory();
        console.log(JSON.stringify({ start, made, end, keepOk: keep.dataSync().length === 100 }));
      })();
    `, { nodeArgs: ['--expose-gc'] });
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const out = lastJson<{ start: { numTensors: number; numBytes: number }; made: { numTensors: number }; end: { numTensors: number; numBytes: number }; keepOk: boolean }>(r);
    assert.ok(out.made.numTensors >= out.start.numTensors + 2001, `tensors were created: ${JSON.stringify(out)}`);
    assert.equal(out.end.numTensors, out.start.numTensors + 1, `after GC only the kept tensor remains: ${JSON.stringify(out)}`);
    assert.equal(out.end.numBytes, out.start.numBytes + 400);
    assert.equal(out.keepOk, true, 'a referenced tensor is not collected');
  });
});
