// Sizes and indices that used to give silent wrong answers, crashes or hangs: each is now an error
// naming the op, raised before anything is allocated.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { native } from '../../lib/native';
import { Op, DTYPE, SLOT } from '../../lib/ops.generated';
import { lastJson, runChild } from '../support/child';

const { T } = st;

function expectErr(f: () => unknown, code: string, op: string, words: string[] = []): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof st.SymtensorError, `expected a SymtensorError, got ${err instanceof Error ? `${err.name}: ${err.message}` : 'no error'}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.op, op, err.message);
  for (const w of words) assert.ok(err.message.includes(w), `"${err.message}" lacks "${w}"`);
}

describe('hardening: sizes', () => {
  it('T.tensor checks the rank before making an array of that length', () => {
    // measured in memory, not time: an array of 2^31 dims would raise the peak RSS by gigabytes
    const peakKb = process.resourceUsage().maxRSS;
    expectErr(() => T.tensor('float32', 2 ** 31), 'ERR_ST_SHAPE', 'T.tensor', ['rank 2147483648', 'maximum 16']);
    expectErr(() => T.tensor('float32', 17), 'ERR_ST_SHAPE', 'T.tensor', ['rank 17']);
    expectErr(() => T.tensor('float32', new Array(17).fill(null)), 'ERR_ST_SHAPE', 'T.tensor', ['rank 17']);
    const grewMb = (process.resourceUsage().maxRSS - peakKb) / 1024;
    assert.ok(grewMb < 256, `the checks allocate nothing large: the peak RSS grew by ${grewMb.toFixed(0)} MB`);
    assert.equal(T.tensor('float32', 16).ndim, 16);
  });

  it('element counts that overflow are refused in TypeScript with the result shape', () => {
    expectErr(() => st.tile(st.ones([1]), [2 ** 32, 2 ** 32]), 'ERR_ST_ALLOC', 'tile', ['[4294967296,4294967296]', 'too large']);
    expectErr(() => st.conv2d(st.ones([1, 2, 2, 1]), st.ones([1, 1, 1, 1]), { padding: 2 ** 31 - 1 }), 'ERR_ST_ALLOC', 'conv2d', ['too large']);
    expectErr(() => st.conv2dGradInput(st.ones([1, 1, 1, 1]), st.ones([1, 1, 1, 1]), [2 ** 30, 2 ** 30, 1, 1]), 'ERR_ST_ALLOC', 'conv2dGradInput');
    expectErr(() => st.avgPool2dGrad(st.ones([1, 1, 1, 1]), [2 ** 26, 2 ** 26, 2 ** 26, 1], { poolSize: [2 ** 26, 2 ** 26] }), 'ERR_ST_ALLOC', 'avgPool2dGrad');
    expectErr(() => st.avgPool2dGrad(st.ones([1, 1, 1, 1]), [1, 1.5, 1, 1]), 'ERR_ST_SHAPE', 'avgPool2dGrad');
    expectErr(() => st.zeros([2 ** 25, 2 ** 25]), 'ERR_ST_ALLOC', 'zeros');
  });

  it('a rank above the maximum is an error', () => {
    expectErr(() => st.tile(st.ones([1]), new Array(17).fill(1)), 'ERR_ST_SHAPE', 'tile', ['rank 17']);
    assert.deepEqual(st.tile(st.ones([1]), new Array(16).fill(1)).shape, new Array(16).fill(1));
  });

  it('the native API checks element counts and bytes with overflow-safe arithmetic', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'no error';
    };
    assert.equal(code(() => native.exec(Op.FILL, [], [], [DTYPE.float32], [[2 ** 32, 2 ** 32]], [], [1])), 'ERR_ST_ALLOC');
    assert.equal(code(() => native.exec(Op.FILL, [], [], [DTYPE.float64], [[2 ** 47 + 1]], [], [1])), 'ERR_ST_ALLOC');
    const slot = (shape: number[], kind: number) => ({ dtype: DTYPE.float32, shape, kind, offset: 0 });
    assert.equal(code(() => native.createProgram({ slots: [slot([2 ** 32, 2 ** 32], SLOT.output)], bound: [null], arenaBytes: 0, instrs: [], copies: [] })), 'ERR_ST_ALLOC');
  });

  it('the native program validator rejects a jump to itself and a slot out of range', () => {
    const slots = [{ dtype: DTYPE.float32, shape: [2], kind: SLOT.output, offset: 0 }];
    const make = (instrs: { opcode: number; inputs: number[]; outputs: number[]; iattr: number[]; fattr: number[] }[]) => {
      try {
        native.disposeProgram(native.createProgram({ slots, bound: [null], arenaBytes: 0, instrs, copies: [] }));
        return 'created';
      } catch (e) {
        return `${(e as { code?: string }).code} ${(e as Error).message}`;
      }
    };
    const fill = { opcode: Op.FILL, inputs: [], outputs: [0], iattr: [], fattr: [1] };
    assert.equal(make([fill]), 'created');
    assert.match(make([fill, { opcode: Op.JUMP, inputs: [], outputs: [], iattr: [1], fattr: [] }]), /^ERR_ST_ARG .*forward/);
    assert.match(make([{ ...fill, outputs: [1] }]), /^ERR_ST_ARG .*slot 1 of 1/);
  });

  it('a compiled function whose program cannot be created names the function', () => {
    // a 4 TiB temporary: the arena cannot be allocated when the program is created
    const x = T.vector('x');
    const f = st.fn([x], T.sum(T.tile(x, [2 ** 20, 2 ** 20])), { name: 'huge' });
    let err: unknown;
    try {
      f.sync([1]);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof st.SymtensorError);
    assert.equal(err.code, 'ERR_ST_ALLOC', err.message);
    assert.equal(err.op, 'huge', err.message);
    assert.match(err.message, /arena/);
  });

  it('givens respect static shapes', () => {
    const a = T.tensor('float32', [3], 'a');
    expectErr(() => st.fn([], a.mul(2), { givens: [[a, st.ones([4])]] }), 'ERR_ST_SHAPE', 'fn', ['[3]', '[4]']);
    const ok = st.fn([], a.mul(2), { givens: [[a, st.tensor([1, 2, 3])]] });
    assert.deepEqual(Array.from(ok.sync().dataSync()), [2, 4, 6]);
  });
});

describe('hardening: indices', () => {
  const x = () => st.tensor([10, 20, 30]);
  const bad = [2 ** 32, 1.5, NaN, Infinity, -(2 ** 31) - 1];

  it('eager gather and oneHot refuse indices that are not int32 integers', () => {
    for (const i of bad) {
      expectErr(() => st.gather(x(), [i]), 'ERR_ST_INDEX', 'gather', [String(i)]);
      expectErr(() => st.oneHot([i], 3), 'ERR_ST_INDEX', 'oneHot', [String(i)]);
    }
    expectErr(() => st.oneHot([2 ** 32 + 1], 3), 'ERR_ST_INDEX', 'oneHot');
    assert.deepEqual(Array.from(st.gather(x(), [2, -1, 0]).dataSync()), [30, 30, 10]);
  });

  it('T.gather and T.oneHot follow the same rule, float tensors included', () => {
    const c = T.constant([10, 20, 30]);
    for (const i of bad) {
      expectErr(() => T.gather(c, [i]), 'ERR_ST_INDEX', 'gather');
      expectErr(() => T.oneHot([i], 3), 'ERR_ST_INDEX', 'oneHot');
    }
    expectErr(() => st.gather(x(), st.tensor([1])), 'ERR_ST_DTYPE', 'gather', ['float32']);
    expectErr(() => T.gather(c, st.tensor([1])), 'ERR_ST_DTYPE', 'gather', ['float32']);
    expectErr(() => T.oneHot(st.tensor([1]), 3), 'ERR_ST_DTYPE', 'oneHot', ['float32']);
    assert.deepEqual(Array.from(st.fn([], T.gather(c, st.tensor([2, 0], 'int32'))).sync().dataSync()), [30, 10]);
  });

  it('plain numbers passed to a compiled function for an int32 input must be exact', () => {
    const i = T.ivector('i');
    const f = st.fn([i], T.gather(T.constant([10, 20, 30]), i));
    for (const v of bad) assert.throws(() => f.sync([v]), (e: unknown) => e instanceof st.SymtensorError && e.op === 'fn' && e.message.includes(String(v)));
    assert.deepEqual(Array.from(f.sync([1, 2]).dataSync()), [20, 30]);
  });

  it('int32 tensors from JS values refuse what int32 cannot hold instead of wrapping', () => {
    expectErr(() => st.tensor([2 ** 32], 'int32'), 'ERR_ST_VALUE', 'tensor', ['4294967296']);
    expectErr(() => st.tensor([NaN], 'int32'), 'ERR_ST_VALUE', 'tensor');
    assert.deepEqual(Array.from(st.tensor([1.7, -1.7, 2 ** 31 - 1], 'int32').dataSync()), [1, -1, 2 ** 31 - 1]);
  });
});

describe('hardening: reading large tensors when memory is short', function () {
  this.timeout(120000);

  it('dataSync, data, toString, arraySync and item fail with ERR_ST_ALLOC, never abort', () => {
    // The address-space limit is set from a first run without one: what the process maps once the
    // 1 GiB tensor exists, plus 400 MB.  The tensor then fits, and a second 1 GiB copy for JS cannot.
    const vmKb = "Number(/VmSize:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1])";
    const probe = runChild(`const t = st.ones([2 ** 28]); t.dataSync; console.log(JSON.stringify({ vmKb: ${vmKb} }));`, { timeoutMs: 100000 });
    assert.equal(probe.status, 0, probe.stderr.slice(-1500));
    const { vmKb: baseKb } = lastJson<{ vmKb: number }>(probe);
    const code = `
      const t = st.ones([2 ** 28]);
      const out = {};
      for (const m of ['dataSync', 'toString', 'arraySync']) {
        try { t[m](); out[m] = 'no error'; } catch (e) { out[m] = e.code + ' ' + e.op; }
      }
      t.data().then(() => (out.data = 'no error'), (e) => (out.data = e.code + ' ' + e.op)).then(() => { console.log(JSON.stringify(out)); process.exit(0); });`;
    const r = runChild(code, { timeoutMs: 100000, limitKb: baseKb + 400000 });
    assert.equal(r.signal, null, r.stderr.slice(-1500));
    assert.equal(r.status, 0, r.stderr.slice(-1500));
    assert.deepEqual(lastJson<Record<string, string>>(r), { dataSync: 'ERR_ST_ALLOC dataSync', toString: 'ERR_ST_ALLOC toString', arraySync: 'ERR_ST_ALLOC arraySync', data: 'ERR_ST_ALLOC data' });
  });
});
