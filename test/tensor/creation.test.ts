import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { DType, DTYPES } from '../support/reference';
import { expectError, expectTensor } from '../support/check';

describe('tensor()', () => {
  it('from nested arrays: shape inference and float32 default', () => {
    const t = st.tensor([[1, 2, 3], [4, 5, 6]]);
    expectTensor(t, R.make([2, 3], 'float32', [1, 2, 3, 4, 5, 6]), 'tensor 2x3');
    expectTensor(st.tensor([[[1], [2]], [[3], [4]]]), R.make([2, 2, 1], 'float32', [1, 2, 3, 4]), 'tensor 2x2x1');
    expectTensor(st.tensor([0.1, -2.5]), R.make([2], 'float32', [0.1, -2.5]), 'fractions are rounded to float32');
    expectTensor(st.tensor([]), R.make([0], 'float32', []), 'empty array');
    expectTensor(st.tensor([[], []]), R.make([2, 0], 'float32', []), 'array of empty arrays');
    expectTensor(st.tensor([NaN, Infinity, -Infinity, -0]), R.make([4], 'float32', [NaN, Infinity, -Infinity, -0]), 'special values');
    assert.ok(Object.is(st.tensor([-0]).dataSync()[0], -0), '-0 survives');
    assert.deepEqual(t.arraySync(), [[1, 2, 3], [4, 5, 6]]);
    assert.equal(t.rank, 2);
    assert.equal(t.size, 6);
  });

  it('from scalars and booleans', () => {
    expectTensor(st.tensor(3.5), R.make([], 'float32', [3.5]), 'scalar');
    expectTensor(st.tensor(true), R.make([], 'bool', [1]), 'boolean scalar');
    expectTensor(st.tensor([true, false, true]), R.make([3], 'bool', [1, 0, 1]), 'boolean array');
    expectTensor(st.tensor([[true], [false]]), R.make([2, 1], 'bool', [1, 0]), 'nested booleans');
    // booleans mixed with numbers are numbers
    expectTensor(st.tensor([true, 2]), R.make([2], 'float32', [1, 2]), 'mixed booleans and numbers');
    assert.equal(st.tensor(7).item(), 7);
    assert.equal(st.tensor(false).item(), false);
    assert.deepEqual(st.tensor([true, false]).arraySync(), [true, false]);
    assert.deepEqual(st.tensor(2, { dtype: 'int32' }).shape, []);
  });

  it('with a dtype option: conversions to each dtype', () => {
    const vals = [1.7, -1.7, 0, 2.5, -0.5, 3];
    for (const d of DTYPES) {
      const t = st.tensor(vals, { dtype: d });
      const want = d === 'int32' ? [1, -1, 0, 2, 0, 3] : d === 'bool' ? [1, 1, 0, 1, 1, 1] : vals;
      expectTensor(t, R.make([6], d, want), `tensor(values, ${d})`);
    }
    expectTensor(st.tensor([true, false], { dtype: 'float64' }), R.make([2], 'float64', [1, 0]), 'booleans as float64');
    expectTensor(st.tensor(0.1, { dtype: 'float64' }), R.make([], 'float64', [0.1]), 'float64 keeps full precision');
    assert.equal(st.tensor(0.1, { dtype: 'float64' }).item(), 0.1);
    assert.equal(st.tensor(0.1).item(), Math.fround(0.1));
  });

  it('with a shape option (reshapes flat values)', () => {
    expectTensor(st.tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }), R.make([3, 2], 'float32', [1, 2, 3, 4, 5, 6]), 'shape [3,2]');
    expectTensor(st.tensor([[1, 2], [3, 4]], { shape: [4] }), R.make([4], 'float32', [1, 2, 3, 4]), 'nested -> [4]');
    expectTensor(st.tensor(5, { shape: [1, 1] }), R.make([1, 1], 'float32', [5]), 'scalar -> [1,1]');
    expectTensor(st.tensor(new Float32Array(0), { shape: [0, 3] }), R.make([0, 3], 'float32', []), 'empty [0,3]');
    expectError(() => st.tensor([1, 2, 3], { shape: [2, 2] }), 'ERR_ST_SHAPE', ['tensor', '[2,2]', '4', '3']);
  });

  it('from typed arrays (dtype inferred from the array type)', () => {
    expectTensor(st.tensor(new Float32Array([1.5, 2])), R.make([2], 'float32', [1.5, 2]), 'Float32Array');
    expectTensor(st.tensor(new Float64Array([0.1, 2])), R.make([2], 'float64', [0.1, 2]), 'Float64Array');
    expectTensor(st.tensor(new Int32Array([-5, 2147483647])), R.make([2], 'int32', [-5, 2147483647]), 'Int32Array');
    expectTensor(st.tensor(new Uint8Array([0, 1, 200])), R.make([3], 'int32', [0, 1, 200]), 'Uint8Array');
    expectTensor(st.tensor(new Uint8Array([0, 1, 200]), { dtype: 'bool' }), R.make([3], 'bool', [0, 1, 1]), 'Uint8Array as bool');
    expectTensor(st.tensor(new Uint32Array([4000000000])), R.make([1], 'float64', [4000000000]), 'Uint32Array -> float64');
    expectTensor(st.tensor(new Int16Array([-3, 4])), R.make([2], 'int32', [-3, 4]), 'Int16Array -> int32');
    expectTensor(st.tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2], dtype: 'float32' }), R.make([2, 2], 'float32', [1, 2, 3, 4]), 'Float64Array as float32 [2,2]');
    // nested arrays of typed arrays
    expectTensor(st.tensor([new Float32Array([1, 2]), new Float32Array([3, 4])] as unknown as number[][]), R.make([2, 2], 'float32', [1, 2, 3, 4]), 'array of Float32Array');
    // a subarray view reads only its own elements
    const base = new Float32Array([9, 1, 2, 3, 9]);
    expectTensor(st.tensor(base.subarray(1, 4)), R.make([3], 'float32', [1, 2, 3]), 'subarray');
  });

  it('copies its input (later changes to the source do not show)', () => {
    const src = new Float32Array([1, 2, 3]);
    const t = st.tensor(src);
    src[0] = 100;
    assert.deepEqual(Array.from(t.dataSync()), [1, 2, 3]);
    const out = t.dataSync();
    out[1] = 50;
    assert.deepEqual(Array.from(t.dataSync()), [1, 2, 3], 'dataSync returns a copy');
  });

  it('an existing Tensor is converted/reshaped', () => {
    const t = st.tensor([1, 2, 3, 4]);
    expectTensor(st.tensor(t, { dtype: 'int32', shape: [2, 2] }), R.make([2, 2], 'int32', [1, 2, 3, 4]), 'tensor(Tensor)');
  });

  it('data() and array() resolve to the same values as the sync forms', async () => {
    const t = st.tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    assert.deepEqual(Array.from(await t.data()), [1, 2, 3, 4]);
    assert.ok((await t.data()) instanceof Int32Array);
    assert.deepEqual(await t.array(), [[1, 2], [3, 4]]);
    assert.ok(st.tensor([1], { dtype: 'float64' }).dataSync() instanceof Float64Array);
    assert.ok(st.tensor([true]).dataSync() instanceof Uint8Array);
    assert.ok(st.tensor([1]).dataSync() instanceof Float32Array);
    assert.deepEqual(st.zeros([2, 0, 3]).arraySync(), [[], []]);
    assert.deepEqual(st.zeros([0, 2]).arraySync(), []);
  });

  it('item() needs exactly one element', () => {
    assert.equal(st.tensor([[4]]).item(), 4);
    expectError(() => st.tensor([1, 2]).item(), 'ERR_ST_SHAPE', ['item', '[2]']);
  });
});

describe('fromBuffer', () => {
  it('reads a Node Buffer (at a non-zero byte offset) as each dtype', () => {
    const b = Buffer.allocUnsafe(24);
    [1.5, -2, 3.25, 1e10, -0, 7].forEach((v, i) => b.writeFloatLE(v, i * 4));
    expectTensor(st.fromBuffer(b, [2, 3]), R.make([2, 3], 'float32', [1.5, -2, 3.25, 1e10, -0, 7]), 'float32 buffer');
    const sub = b.subarray(4, 12);
    expectTensor(st.fromBuffer(sub, [2], 'float32'), R.make([2], 'float32', [-2, 3.25]), 'sub-buffer');

    const d = Buffer.alloc(16);
    d.writeDoubleLE(0.1, 0);
    d.writeDoubleLE(-1e300, 8);
    expectTensor(st.fromBuffer(d, [2], 'float64'), R.make([2], 'float64', [0.1, -1e300]), 'float64 buffer');

    const i = Buffer.alloc(8);
    i.writeInt32LE(-7, 0);
    i.writeInt32LE(2147483647, 4);
    expectTensor(st.fromBuffer(i, [2, 1], 'int32'), R.make([2, 1], 'int32', [-7, 2147483647]), 'int32 buffer');

    expectTensor(st.fromBuffer(Buffer.from([0, 1, 0, 1]), [4], 'bool'), R.make([4], 'bool', [0, 1, 0, 1]), 'bool buffer');
    expectTensor(st.fromBuffer(new Float64Array([1, 2]).buffer, [2], 'float64'), R.make([2], 'float64', [1, 2]), 'ArrayBuffer');
    expectTensor(st.fromBuffer(new Int32Array([3, 4]), [1, 2], 'int32'), R.make([1, 2], 'int32', [3, 4]), 'typed array');
    expectTensor(st.fromBuffer(Buffer.alloc(0), [0, 5]), R.make([0, 5], 'float32', []), 'empty');
  });

  it('bool tensors from raw bytes hold 0/1 and compare as booleans', () => {
    const t = st.fromBuffer(Buffer.from([0, 2, 255, 1]), [4], 'bool');
    assert.deepEqual(t.arraySync(), [false, true, true, true]);
    assert.deepEqual(st.equal(t, st.tensor([false, true, true, true])).arraySync(), [true, true, true, true]);
    assert.equal(st.sum(t).item(), 3);
    assert.deepEqual(Array.from(t.dataSync()), [0, 1, 1, 1]);
  });

  it('rejects a byte count that does not match the shape', () => {
    expectError(() => st.fromBuffer(Buffer.alloc(10), [3]), 'ERR_ST_SHAPE', ['fromBuffer', '10 bytes', '[3]', '12']);
    expectError(() => st.fromBuffer(Buffer.alloc(8), [2], 'float64'), 'ERR_ST_SHAPE', ['fromBuffer', 'float64']);
    expectError(() => st.fromBuffer('abc' as unknown as Buffer, [3]), 'ERR_ST_ARG', ['fromBuffer']);
  });
});

describe('filled tensors', () => {
  it('zeros / ones / full / zerosLike / onesLike for every dtype and shape', () => {
    for (const d of DTYPES) {
      for (const shape of [[], [0], [3], [2, 0, 4], [2, 3, 4]]) {
        expectTensor(st.zeros(shape, d), R.make(shape, d, new Array(R.sizeOf(shape)).fill(0)), `zeros ${d} [${shape}]`);
        expectTensor(st.ones(shape, d), R.make(shape, d, new Array(R.sizeOf(shape)).fill(1)), `ones ${d} [${shape}]`);
        expectTensor(st.full(shape, 2.5, d), R.make(shape, d, new Array(R.sizeOf(shape)).fill(2.5)), `full ${d} [${shape}]`);
        const x = st.full(shape, -3, d);
        expectTensor(st.zerosLike(x), R.make(shape, d, new Array(R.sizeOf(shape)).fill(0)), `zerosLike ${d}`);
        expectTensor(st.onesLike(x), R.make(shape, d, new Array(R.sizeOf(shape)).fill(1)), `onesLike ${d}`);
      }
    }
    expectTensor(st.zeros([2]), R.make([2], 'float32', [0, 0]), 'zeros default float32');
    expectTensor(st.full([2], true), R.make([2], 'bool', [1, 1]), 'full with a boolean is bool');
    expectTensor(st.full([2], NaN, 'float64'), R.make([2], 'float64', [NaN, NaN]), 'full NaN');
    expectTensor(st.full([3], -Infinity), R.make([3], 'float32', [-Infinity, -Infinity, -Infinity]), 'full -inf');
    expectTensor(st.full([1], 0.1, 'float64'), R.make([1], 'float64', [0.1]), 'full float64 precision');
    const big = st.full([1000, 1001], 7, 'int32');
    const data = big.dataSync();
    assert.equal(data.length, 1001000);
    assert.ok(data.every((v) => v === 7));
  });

  it('arange follows numpy (start, stop, step, negative steps, dtypes)', () => {
    const cases: [number, number | undefined, number | undefined, DType][] = [
      [5, undefined, undefined, 'float32'],
      [1, 10, 2, 'float32'],
      [10, 0, -3, 'int32'],
      [0, 1, 0.1, 'float64'],
      [-2.5, 2.5, 0.5, 'float32'],
      [3, 3, 1, 'float32'],
      [5, 1, 1, 'int32'],
    ];
    for (const [a, b, s, d] of cases) {
      const [start, stop] = b === undefined ? [0, a] : [a, b];
      const got = st.arange(a, b, s, d);
      expectTensor(got, R.arange(start, stop, s ?? 1, d), `arange(${a}, ${b}, ${s}, ${d})`);
    }
    assert.deepEqual(Array.from(st.arange(0, 1, 0.1, 'float64').dataSync()).length, 10);
    assert.deepEqual(Array.from(st.arange(4, undefined, 1, 'int32').dataSync()), [0, 1, 2, 3]);
    expectError(() => st.arange(0, 5, 0), 'ERR_ST_ARG', ['arange', 'step']);
    expectError(() => st.arange(0, Infinity), 'ERR_ST_ARG', ['arange', 'stop']);
  });

  it('linspace includes both ends', () => {
    for (const [a, b, n, d] of [[0, 1, 5, 'float64'], [-1, 1, 3, 'float32'], [2, 2, 1, 'float32'], [0, 10, 0, 'float32'], [10, 0, 6, 'int32']] as [number, number, number, DType][]) {
      expectTensor(st.linspace(a, b, n, d), R.linspace(a, b, n, d), `linspace(${a}, ${b}, ${n}, ${d})`, { rtol: 1e-12, atol: 1e-12 });
    }
    const l = st.linspace(0, 1, 11, 'float64').dataSync();
    assert.equal(l[0], 0);
    assert.ok(Math.abs(l[10] - 1) < 1e-15);
    expectError(() => st.linspace(0, 1, -1), 'ERR_ST_ARG', ['linspace', 'num']);
    expectError(() => st.linspace(0, 1, 2.5), 'ERR_ST_ARG', ['linspace', 'num']);
  });

  it('bool ranges hold 0/1 (every nonzero value is true)', () => {
    const a = st.arange(0, 7, 2, 'bool');
    expectTensor(a, R.make([4], 'bool', [0, 1, 1, 1]), 'arange(0, 7, 2, bool)');
    assert.deepEqual(st.equal(a, true).arraySync(), [false, true, true, true]);
    expectTensor(st.linspace(0, 1, 3, 'bool'), R.make([3], 'bool', [0, 1, 1]), 'linspace(0, 1, 3, bool)');
  });

  it('eye with m and k, every dtype', () => {
    for (const d of DTYPES) {
      for (const [n, m, k] of [[3, undefined, 0], [2, 4, 0], [4, 2, 1], [3, 3, -1], [3, 3, 5], [0, 3, 0]] as [number, number | undefined, number][]) {
        expectTensor(st.eye(n, m, { k, dtype: d }), R.eye(n, m ?? n, k, d), `eye(${n}, ${m}, k ${k}, ${d})`);
      }
    }
    assert.deepEqual(st.eye(2).arraySync(), [[1, 0], [0, 1]]);
    expectError(() => st.eye(2, 2, { k: 0.5 }), 'ERR_ST_ARG', ['eye', 'k']);
    expectError(() => st.eye(-1), 'ERR_ST_SHAPE', ['eye']);
  });
});

describe('random tensors', () => {
  it('the same seed gives the same numbers; different seeds differ', () => {
    for (const d of ['float32', 'float64'] as DType[]) {
      const a = st.randomUniform([1000], { seed: 42, dtype: d }).dataSync();
      const b = st.randomUniform([1000], { seed: 42, dtype: d }).dataSync();
      const c = st.randomUniform([1000], { seed: 43, dtype: d }).dataSync();
      assert.deepEqual(Array.from(a), Array.from(b));
      assert.notDeepEqual(Array.from(a), Array.from(c));
      let same = 0;
      for (let i = 0; i < 1000; i++) if (a[i] === c[i]) same++;
      assert.ok(same < 5, `seeds 42 and 43 share ${same} values`);
      const n1 = st.randomNormal([1000], { seed: 7, dtype: d }).dataSync();
      const n2 = st.randomNormal([1000], { seed: 7, dtype: d }).dataSync();
      const n3 = st.randomNormal([1000], { seed: 8, dtype: d }).dataSync();
      assert.deepEqual(Array.from(n1), Array.from(n2));
      assert.notDeepEqual(Array.from(n1), Array.from(n3));
    }
    // a seed gives the same stream whatever the shape: the first elements agree
    const s1 = st.randomUniform([10], { seed: 5 }).dataSync();
    const s2 = st.randomUniform([2, 10], { seed: 5 }).dataSync();
    assert.deepEqual(Array.from(s1), Array.from(s2.subarray(0, 10)));
    // unseeded calls differ from each other
    const u1 = st.randomUniform([100]).dataSync();
    const u2 = st.randomUniform([100]).dataSync();
    assert.notDeepEqual(Array.from(u1), Array.from(u2));
  });

  it('uniform samples lie in [low, high) with mean and spread of a uniform', () => {
    const n = 100000;
    for (const d of ['float32', 'float64'] as DType[]) {
      for (const [low, high] of [[0, 1], [-2, 3], [5, 5.5]]) {
        const x = st.randomUniform([n], { low, high, seed: 11, dtype: d });
        assert.equal(x.dtype, d);
        const v = x.dataSync();
        let sum = 0;
        let sq = 0;
        let mn = Infinity;
        let mx = -Infinity;
        for (const e of v) {
          sum += e;
          sq += e * e;
          mn = Math.min(mn, e);
          mx = Math.max(mx, e);
        }
        const mean = sum / n;
        const sd = Math.sqrt(sq / n - mean * mean);
        const w = high - low;
        assert.ok(mn >= low && mx < high, `${d} [${low}, ${high}): min ${mn} max ${mx}`);
        assert.ok(Math.abs(mean - (low + high) / 2) < 0.01 * w, `${d} mean ${mean}`);
        assert.ok(Math.abs(sd - w / Math.sqrt(12)) < 0.01 * w, `${d} std ${sd}`);
        assert.ok(mn < low + 0.001 * w && mx > high - 0.001 * w, `${d} covers the interval: ${mn} ${mx}`);
      }
    }
    const ints = st.randomUniform([10000], { low: 0, high: 4, seed: 1, dtype: 'int32' });
    assert.equal(ints.dtype, 'int32');
    const counts = [0, 0, 0, 0];
    for (const v of ints.dataSync()) counts[v]++;
    assert.ok(counts.every((c) => c > 2300 && c < 2700), `int32 uniform counts ${counts}`);
    // low == high gives that value
    assert.ok(st.randomUniform([10], { low: 2, high: 2, seed: 3 }).dataSync().every((v) => v === 2));
  });

  it('normal samples have the requested mean and standard deviation', () => {
    const n = 100000;
    for (const d of ['float32', 'float64'] as DType[]) {
      for (const [m, s] of [[0, 1], [3, 0.5], [-10, 4]]) {
        const v = st.randomNormal([n], { mean: m, stddev: s, seed: 99, dtype: d }).dataSync();
        let sum = 0;
        let sq = 0;
        let within1 = 0;
        for (const e of v) {
          sum += e;
          sq += e * e;
          if (Math.abs(e - m) < s) within1++;
          assert.ok(Number.isFinite(e));
        }
        const mean = sum / n;
        const sd = Math.sqrt(sq / n - mean * mean);
        assert.ok(Math.abs(mean - m) < 0.02 * s, `${d} mean ${mean} vs ${m}`);
        assert.ok(Math.abs(sd - s) < 0.02 * s, `${d} std ${sd} vs ${s}`);
        assert.ok(Math.abs(within1 / n - 0.6827) < 0.01, `${d} fraction within one sd: ${within1 / n}`);
      }
    }
    assert.ok(st.randomNormal([5], { stddev: 0, mean: 1.5, seed: 1 }).dataSync().every((v) => v === 1.5));
  });

  it('rejects bad random arguments', () => {
    expectError(() => st.randomUniform([2], { low: 1, high: 0 }), 'ERR_ST_ARG', ['randomUniform', 'low']);
    expectError(() => st.randomUniform([2], { dtype: 'bool' }), 'ERR_ST_DTYPE', ['randomUniform', 'bool']);
    expectError(() => st.randomNormal([2], { dtype: 'int32' }), 'ERR_ST_DTYPE', ['randomNormal', 'int32']);
    expectError(() => st.randomNormal([2], { stddev: -1 }), 'ERR_ST_ARG', ['randomNormal', 'stddev']);
    expectError(() => st.randomUniform([2], { seed: -1 }), 'ERR_ST_ARG', ['randomUniform', 'seed']);
    expectError(() => st.randomUniform([2], { seed: 1.5 }), 'ERR_ST_ARG', ['randomUniform', 'seed']);
  });
});

describe('tensor(): the second argument', () => {
  it('a dtype string is the dtype (not silently ignored)', () => {
    const t = st.tensor([0.3, -1.7], 'float64');
    assert.equal(t.dtype, 'float64');
    assert.deepEqual(Array.from(t.dataSync() as Float64Array), [0.3, -1.7]);
    assert.equal(st.tensor([1, 2], 'int32').dtype, 'int32');
  });

  it('anything but an options object or a dtype is an error', () => {
    assert.throws(() => st.tensor([1, 2], [2] as never), /options object.*pass \{ shape: \[\.\.\.\] \}/);
    assert.throws(() => st.tensor([1, 2], 'float16' as never), /float16/);
    assert.throws(() => st.tensor([1, 2], null as never), /options object/);
  });
});
