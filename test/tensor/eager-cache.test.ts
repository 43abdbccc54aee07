// Eager ops reuse what they built for an earlier call of the same signature (the elementwise
// attributes, and a one-instruction Program for a repeated instruction).  A key that missed
// anything a result depends on would give the previous call's answer: so the same op is called
// in a row with different numbers (0 and -0 included), dtypes, shapes of equal size, broadcast
// patterns and argument orders, each result against plain float64 loops; and bad input still
// gives the same errors once the caches are warm.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import type { DType, Ref } from '../support/reference';
import { catchError, expectError, expectTensor, toSt } from '../support/check';

const { T } = st;

type Bin = (a: number, b: number) => number;
const BIN: Record<string, Bin> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => Math.max(a, b),
};
type StBin = (a: unknown, b: unknown) => st.Tensor;
const stBin = (name: string): StBin => (st as unknown as Record<string, StBin>)[name];

/** Row-major values of shape [n0, n1 …] from a formula of the flat index. */
function ref(shape: number[], dtype: DType, f: (i: number) => number): Ref {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, dtype, data: Array.from({ length: n }, (_, i) => f(i)) };
}

/** numpy broadcasting of two reference values through f, in float64, cast to dtype. */
function broadcastRef(a: Ref, b: Ref, dtype: DType, f: Bin): Ref {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape), sb = pad(b.shape);
  const shape = sa.map((d, i) => Math.max(d, sb[i]));
  const n = shape.reduce((x, y) => x * y, 1);
  const data: number[] = [];
  for (let flat = 0; flat < n; flat++) {
    let rest = flat, ia = 0, ib = 0, mulA = 1, mulB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      ia += (sa[d] === 1 ? 0 : idx) * mulA;
      ib += (sb[d] === 1 ? 0 : idx) * mulB;
      mulA *= sa[d];
      mulB *= sb[d];
    }
    data.push(castTo(f(a.data[ia], b.data[ib]), dtype));
  }
  return { shape, dtype, data };
}

function castTo(v: number, dtype: DType): number {
  if (dtype === 'int32') return v | 0;
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  return v;
}

/** A number as a one-element reference of the given dtype (a weak scalar's value). */
const scalarRef = (v: number, dtype: DType): Ref => ({ shape: [], dtype, data: [v] });

describe('eager op caches give each call its own answer', () => {
  it('the same op with different numbers in a row (0 and -0, NaN, each repeated)', () => {
    const yr = ref([4], 'float32', (i) => i + 1);
    const y = toSt(yr);
    // each value three times: two uncached runs (the second makes a Program), then the Program
    for (const v of [1, 1, 1, 2, 2, 0.5, 0, 0, 0, -0, -0, -0, 0, NaN, NaN, 1e30, -3, 2]) {
      expectTensor(st.add(y, v), broadcastRef(yr, scalarRef(v, 'float32'), 'float32', BIN.add), `add(y, ${v})`);
      expectTensor(y.mul(v), broadcastRef(yr, scalarRef(v, 'float32'), 'float32', BIN.mul), `y.mul(${v})`);
      // division by 0 and by -0 differ only in the sign of the infinities
      expectTensor(st.div(y, v), broadcastRef(yr, scalarRef(v, 'float32'), 'float32', BIN.div), `div(y, ${Object.is(v, -0) ? '-0' : v})`);
      expectTensor(st.div(v, y), broadcastRef(scalarRef(v, 'float32'), yr, 'float32', BIN.div), `div(${v}, y)`);
    }
  });

  it('argument orders, positions of the number and params of unary ops', () => {
    const xr = ref([2, 3], 'float64', (i) => i * 0.75 - 2);
    const x = toSt(xr);
    for (let k = 0; k < 3; k++) {
      for (const v of [3, -1.5]) {
        expectTensor(st.sub(x, v), broadcastRef(xr, scalarRef(v, 'float64'), 'float64', BIN.sub), `sub(x, ${v})`);
        expectTensor(st.sub(v, x), broadcastRef(scalarRef(v, 'float64'), xr, 'float64', BIN.sub), `sub(${v}, x)`);
      }
      for (const alpha of [0.1, 0.3]) {
        expectTensor(st.leakyRelu(x, alpha), ref([2, 3], 'float64', (i) => (xr.data[i] > 0 ? xr.data[i] : alpha * xr.data[i])), `leakyRelu(x, ${alpha})`);
        expectTensor(st.elu(x, alpha), ref([2, 3], 'float64', (i) => (xr.data[i] > 0 ? xr.data[i] : alpha * Math.expm1(xr.data[i]))), `elu(x, ${alpha})`);
      }
      for (const [lo, hi] of [[-1, 0.5], [0, 1], [-1, 0.5]]) {
        expectTensor(st.clip(x, lo, hi), ref([2, 3], 'float64', (i) => Math.min(hi, Math.max(lo, xr.data[i]))), `clip(x, ${lo}, ${hi})`);
      }
    }
  });

  it('dtypes in a row: the same op over float32, float64, int32 and bool, with int and fractional numbers', () => {
    const base = (dtype: DType) => ref([4], dtype, (i) => (dtype === 'bool' ? i % 2 : i - 1));
    for (let k = 0; k < 3; k++) {
      for (const dtype of ['float32', 'float64', 'int32', 'bool'] as DType[]) {
        const r = base(dtype);
        const t = toSt(r);
        const arith: DType = dtype === 'bool' ? 'int32' : dtype;
        expectTensor(st.add(t, 2), broadcastRef(r, scalarRef(2, arith), arith, BIN.add), `add(${dtype}, 2)`);
        // a fractional number next to integers makes the result float32
        const withFrac: DType = dtype === 'float64' ? 'float64' : 'float32';
        expectTensor(st.add(t, 2.5), broadcastRef(r, scalarRef(2.5, withFrac), withFrac, BIN.add), `add(${dtype}, 2.5)`);
        expectTensor(st.add(t, t), broadcastRef(r, r, arith, BIN.add), `add(${dtype}, ${dtype})`);
        expectTensor(st.greater(t, 0), broadcastRef(r, scalarRef(0, arith), 'bool', (a, b) => (a > b ? 1 : 0)), `greater(${dtype}, 0)`);
      }
      // mixed dtypes in both orders
      const f = base('float32'), i = base('int32');
      expectTensor(st.sub(toSt(f), toSt(i)), broadcastRef(f, i, 'float32', BIN.sub), 'sub(float32, int32)');
      expectTensor(st.sub(toSt(i), toSt(f)), broadcastRef(i, f, 'float32', BIN.sub), 'sub(int32, float32)');
    }
  });

  it('shapes of equal size and broadcast patterns in a row, in both orders', () => {
    const pairs: [number[], number[]][] = [
      [[4], [4]],
      [[2, 2], [2, 2]],
      [[4, 1], [4]],
      [[4], [4, 1]],
      [[1, 4], [4, 1]],
      [[4, 1], [1, 4]],
      [[2, 2], [4, 1, 1]],
      [[2, 1, 2], [2, 2, 1]],
      [[], [2, 2]],
      [[3, 1], [1]],
    ];
    for (let k = 0; k < 3; k++) {
      for (const [sa, sb] of pairs) {
        for (const name of ['mul', 'sub', 'maximum']) {
          const ar = ref(sa, 'float32', (i) => i + 1), br = ref(sb, 'float32', (i) => 10 - 3 * i);
          const what = `${name}([${sa}], [${sb}])`;
          expectTensor(stBin(name)(toSt(ar), toSt(br)), broadcastRef(ar, br, 'float32', BIN[name]), what);
          expectTensor(stBin(name)(toSt(br), toSt(ar)), broadcastRef(br, ar, 'float32', BIN[name]), `${what} swapped`);
        }
      }
    }
  });

  it('unary ops and reductions over shapes of equal size', () => {
    for (let k = 0; k < 3; k++) {
      for (const shape of [[6], [2, 3], [3, 2], [6, 1]]) {
        const r = ref(shape, 'float64', (i) => i * 0.3 - 0.7);
        const t = toSt(r);
        expectTensor(st.tanh(t), ref(shape, 'float64', (i) => Math.tanh(r.data[i])), `tanh([${shape}])`);
        expectTensor(st.neg(t), ref(shape, 'float64', (i) => -r.data[i]), `neg([${shape}])`);
        const last = shape[shape.length - 1], rows = r.data.length / last;
        const sums = Array.from({ length: rows }, (_, row) => r.data.slice(row * last, row * last + last).reduce((a, b) => a + b, 0));
        expectTensor(st.sum(t, -1), { shape: shape.slice(0, -1), dtype: 'float64', data: sums }, `sum([${shape}], -1)`);
        expectTensor(st.sum(t), { shape: [], dtype: 'float64', data: [r.data.reduce((a, b) => a + b, 0)] }, `sum([${shape}])`);
      }
    }
  });

  it('more signatures than are kept, then again: every value still right', () => {
    const yr = ref([3], 'float32', (i) => i - 1);
    const y = toSt(yr);
    for (let pass = 0; pass < 2; pass++) {
      for (let v = 0; v < 300; v++) expectTensor(st.add(y, v), broadcastRef(yr, scalarRef(v, 'float32'), 'float32', BIN.add), `add(y, ${v}) pass ${pass}`);
    }
  });

  it('repeated results are separate tensors, small and large', () => {
    for (const n of [3, 100]) {
      const yr = ref([n], 'float32', (i) => i);
      const y = toSt(yr);
      const results = [0, 1, 2, 3].map(() => st.add(y, 1));
      results[0].dispose();
      results[2].dispose();
      const expected = broadcastRef(yr, scalarRef(1, 'float32'), 'float32', BIN.add);
      expectTensor(results[1], expected, `kept result [${n}]`);
      expectTensor(results[3], expected, `kept result [${n}]`);
      assert.equal(results[0].isDisposed && !results[1].isDisposed, true);
    }
  });

  it('compiled functions of the same op after warm eager calls', () => {
    const yr = ref([4], 'float32', (i) => i + 0.5);
    const y = toSt(yr);
    for (let k = 0; k < 3; k++) st.add(y, 2).dispose();
    const x = T.vector('x');
    const f = st.fn([x], x.add(2).mul(x));
    for (let k = 0; k < 3; k++) expectTensor(f.sync(y) as st.Tensor, ref([4], 'float32', (i) => (yr.data[i] + 2) * yr.data[i]), 'compiled (x + 2) · x');
    expectTensor(st.add(y, 2), broadcastRef(yr, scalarRef(2, 'float32'), 'float32', BIN.add), 'eager after compiling');
  });

  it('bad input gives the same errors once the caches are warm', () => {
    const a = toSt(ref([3], 'float32', (i) => i));
    const b = toSt(ref([4], 'float32', (i) => i));
    const ints = toSt(ref([4], 'int32', (i) => i));
    const cold = {
      bcast: catchError(() => st.add(a, b)),
      big: catchError(() => st.add(ints, 2 ** 40)),
    };
    const victim = toSt(ref([4], 'float32', (i) => i));
    const survivor = toSt(ref([4], 'float32', (i) => i));
    for (let k = 0; k < 4; k++) {
      st.add(victim, 1);
      st.add(a, a);
      st.add(b, b);
      st.add(ints, 2);
    }
    victim.dispose();
    const disposed = expectError(() => st.add(victim, 1), 'ERR_ST_DISPOSED', ['add', '[4]', 'disposed']);
    const disposedCold = expectError(() => st.sub(victim, 7.25), 'ERR_ST_DISPOSED', ['sub', '[4]', 'disposed']);
    assert.equal(disposed.message, disposedCold.message.replace(/^sub/, 'add'));
    const bcast = expectError(() => st.add(a, b), 'ERR_ST_SHAPE', ['add', '[3]', '[4]', 'cannot be broadcast']);
    assert.equal(bcast.message, cold.bcast.message);
    const big = expectError(() => st.add(ints, 2 ** 40), 'ERR_ST_ARG', ['add', String(2 ** 40), 'does not fit int32']);
    assert.equal(big.message, cold.big.message);
    expectError(() => st.clip(a, 2, 1), 'ERR_ST_ARG', ['clip', 'min (2) is greater than max (1)']);
    // the warm signature still runs for a live tensor of the same signature
    expectTensor(st.add(survivor, 1), ref([4], 'float32', (i) => i + 1), 'add after the errors');
  });
});
