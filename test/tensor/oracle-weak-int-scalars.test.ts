// A plain number next to int32 (or bool) operands becomes an int32 (numpy's weak scalars).  One
// int32 cannot hold (|v| ≥ 2^31) must never be silently wrapped or clamped: comparisons compare it
// exactly, and every other op refuses it with an error naming the op and the number.  Random
// tensors and numbers on both sides of the int32 range, eagerly and compiled, against plain loops.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { expectError, expectTensor, toSt } from '../support/check';

const { T } = st;
const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  less: (a, b) => a < b,
  lessEqual: (a, b) => a <= b,
  greater: (a, b) => a > b,
  greaterEqual: (a, b) => a >= b,
};
const ARITH = ['add', 'sub', 'mul', 'maximum', 'minimum', 'mod', 'pow'] as const;
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** Integers near and past both ends of the int32 range, and small ones. */
function randomNumber(rng: R.Rng): number {
  return rng.pick([INT32_MAX, INT32_MIN, INT32_MAX + 1, INT32_MIN - 1, 2 ** 32, -(2 ** 40), 1e10, -1e10, 2 ** 53, rng.int(-5, 5)]);
}

/** int32 or bool values that include the ends of the int32 range. */
function randomInts(rng: R.Rng, dtype: 'int32' | 'bool'): R.Ref {
  const shape = [rng.int(1, 3), rng.int(1, 4)];
  const n = shape[0] * shape[1];
  const data = [...Array(n)].map(() => (dtype === 'bool' ? rng.int(0, 1) : rng.pick([INT32_MAX, INT32_MIN, INT32_MAX - 1, 0, rng.int(-9, 9)])));
  return { shape, dtype, data };
}

describe('weak int scalars outside int32 against plain loops', () => {
  it('comparisons are exact on both sides of the range (eager, methods, compiled)', () => {
    const rng = new R.Rng(31);
    for (let i = 0; i < 60; i++) {
      const x = randomInts(rng, rng.bool(0.8) ? 'int32' : 'bool');
      const v = randomNumber(rng);
      const op = rng.pick(Object.keys(COMPARE));
      const numFirst = rng.bool();
      const f = COMPARE[op];
      const expected: R.Ref = { shape: x.shape, dtype: 'bool', data: x.data.map((a) => (numFirst ? f(v, a) : f(a, v)) ? 1 : 0) };
      const what = numFirst ? `${op}(${v}, ${x.dtype} [${x.data}])` : `${op}(${x.dtype} [${x.data}], ${v})`;
      const fe = (st as unknown as Record<string, (a: unknown, b: unknown) => st.Tensor>)[op];
      expectTensor(numFirst ? fe(v, toSt(x)) : fe(toSt(x), v), expected, `eager ${what}`);
      if (!numFirst) expectTensor((toSt(x) as unknown as Record<string, (b: number) => st.Tensor>)[op](v), expected, `method ${what}`);
      const xv = T.tensor(x.dtype, [null, null]);
      const ft = (T as unknown as Record<string, (a: unknown, b: unknown) => st.Variable>)[op];
      const out = st.fn([xv], numFirst ? ft(v, xv) : ft(xv, v)).sync(toSt(x)) as st.Tensor;
      expectTensor(out, expected, `compiled ${what}`);
    }
  });

  it('arithmetic with a number int32 cannot hold is an error; in range it matches the reference', () => {
    const rng = new R.Rng(32);
    let errors = 0, values = 0;
    for (let i = 0; i < 80; i++) {
      const x = randomInts(rng, rng.bool(0.8) ? 'int32' : 'bool');
      const v = randomNumber(rng);
      const op = rng.pick([...ARITH]);
      if ((op === 'mod' && v === 0) || (op === 'pow' && v < 0)) continue;
      const fe = (st as unknown as Record<string, (a: unknown, b: unknown) => st.Tensor>)[op];
      const ft = (T as unknown as Record<string, (a: unknown, b: unknown) => st.Variable>)[op];
      if (v < INT32_MIN || v > INT32_MAX) {
        const patterns = [op, `the number ${v} does not fit int32`, 'float64'];
        expectError(() => fe(toSt(x), v), 'ERR_ST_ARG', patterns);
        expectError(() => fe(v, toSt(x)), 'ERR_ST_ARG', patterns);
        expectError(() => ft(T.tensor(x.dtype, [null, null]), v), 'ERR_ST_ARG', patterns);
        errors++;
        continue;
      }
      const expected = R.binary(op, x, v);
      expectTensor(fe(toSt(x), v), expected, `eager ${op}(${x.dtype} [${x.data}], ${v})`);
      const xv = T.tensor(x.dtype, [null, null]);
      expectTensor(st.fn([xv], ft(xv, v)).sync(toSt(x)) as st.Tensor, expected, `compiled ${op}(${x.dtype}, ${v})`);
      values++;
    }
    assert.ok(errors >= 20 && values >= 10, `${errors} error cases, ${values} value cases`);
  });

  it('float tensors still take any number', () => {
    const x: R.Ref = { shape: [2], dtype: 'float64', data: [1, -2] };
    expectTensor(st.add(toSt(x), 1e10), R.binary('add', x, 1e10), 'float64 + 1e10');
    const y: R.Ref = { shape: [2], dtype: 'float32', data: [1, -2] };
    expectTensor(st.mul(toSt(y), 2 ** 40), R.binary('mul', y, 2 ** 40), 'float32 * 2^40');
  });
});
