import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { DType, DTYPES, Ref, Rng } from '../support/reference';
import { Tol, expectError, expectTensor, toSt } from '../support/check';
import { exportsOfKind } from '../support/exports';

type ReduceFn = (x: st.TensorLike, axis?: number | number[] | null, keepDims?: boolean) => st.Tensor;
// every reduction the package exports (test/support/exports.ts), so none can be left out
const REDUCE_OPS = exportsOfKind(st, 'reduce') as R.ReduceOp[];
const stReduce = (op: R.ReduceOp): ReduceFn => (st as unknown as Record<string, ReduceFn>)[op];

/** Axis arguments worth trying for a tensor of the given rank. */
function axisChoices(rng: Rng, rank: number): (number | number[] | undefined)[] {
  const out: (number | number[] | undefined)[] = [undefined];
  if (rank === 0) return [undefined, []];
  out.push(rng.int(0, rank - 1), -1, []);
  if (rank >= 2) out.push([0, rank - 1], [rank - 1, 0]);
  if (rank >= 3) out.push([0, 2], [1, 2], [-3, -1]);
  if (rank >= 4) out.push([0, 1, 3], [1, 2]);
  return out;
}

function inputFor(rng: Rng, op: R.ReduceOp, shape: number[], d: DType, special: boolean): Ref {
  // products stay moderate; everything else uses the usual ranges
  const opts = op === 'prod' ? { lo: 0.6, hi: 1.6, ilo: -3, ihi: 3 } : {};
  const x = R.randomRef(rng, shape, d, opts);
  if (special && R.isFloatType(d)) {
    for (let i = 0; i < x.data.length; i++) if (rng.next() < 0.1) x.data[i] = rng.pick([NaN, Infinity, -Infinity, 0, -0]);
  }
  return x;
}

function tolFor(op: R.ReduceOp, d: DType): Tol {
  // float32 inputs of variance/std/logSumExp go through several float32 steps
  if (d === 'float32' && (op === 'variance' || op === 'std' || op === 'logSumExp')) return { rtol: 2e-5, atol: 2e-6 };
  if (d === 'float64' && (op === 'variance' || op === 'std' || op === 'logSumExp')) return { rtol: 1e-11, atol: 1e-13 };
  return {};
}

const SHAPES = [[], [5], [0], [3, 4], [0, 3], [3, 0], [2, 3, 4], [2, 1, 3, 2], [1, 4, 0, 2]];

describe('reductions', () => {
  it('the op lists are the exported reductions (none missing from the reference)', () => {
    assert.ok(REDUCE_OPS.length >= 10, `only ${REDUCE_OPS.length} reductions found: ${REDUCE_OPS}`);
    assert.deepEqual(exportsOfKind(st, 'argReduce'), ['argmax', 'argmin']);
  });

  for (const op of REDUCE_OPS) {
    it(`${op}: every dtype, axis list and keepDims, incl. 0-d and empty`, () => {
      const rng = new Rng(400 + op.length * 13 + op.charCodeAt(0));
      for (const d of DTYPES) {
        for (const shape of SHAPES) {
          for (const axis of axisChoices(rng, shape.length)) {
            for (const keepDims of [false, true]) {
              const x = inputFor(rng, op, shape, d, rng.bool(0.3));
              const expected = R.reduce(op, x, axis, keepDims);
              const got = stReduce(op)(toSt(x), axis, keepDims);
              expectTensor(got, expected, `${op}(${d} [${shape}], axis ${JSON.stringify(axis)}, keepDims ${keepDims})`, tolFor(op, expected.dtype));
            }
          }
        }
      }
    });
  }

  it('result dtypes follow the table', () => {
    for (const op of REDUCE_OPS) {
      for (const d of DTYPES) assert.equal(stReduce(op)(st.ones([2, 2], d)).dtype, R.REDUCE_DTYPE[op][d], `${op}(${d})`);
    }
    assert.equal(R.REDUCE_DTYPE.sum.bool, 'int32');
    assert.equal(R.REDUCE_DTYPE.mean.int32, 'float32');
    assert.equal(R.REDUCE_DTYPE.any.float64, 'bool');
  });

  it('Tensor methods mirror the functions', () => {
    const rng = new Rng(2);
    const x = R.randomRef(rng, [3, 4, 2], 'float64');
    const t = toSt(x);
    const m = t as unknown as Record<string, (axis?: number | number[], keep?: boolean) => st.Tensor>;
    for (const op of REDUCE_OPS) {
      expectTensor(m[op].call(t, [0, 2], true), R.reduce(op, x, [0, 2], true), `Tensor.${op}`, tolFor(op, 'float64'));
      expectTensor(m[op].call(t), R.reduce(op, x), `Tensor.${op}()`, tolFor(op, 'float64'));
    }
    expectTensor(t.argmax(1), R.argReduce('argmax', x, 1), 'Tensor.argmax');
    expectTensor(t.argmin(-1, true), R.argReduce('argmin', x, -1, true), 'Tensor.argmin');
  });

  it('known values (independent of the reference)', () => {
    const x = st.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
    assert.deepEqual(st.sum(x).arraySync(), 21);
    assert.deepEqual(st.sum(x, 0).arraySync(), [5, 7, 9]);
    assert.deepEqual(st.sum(x, 1, true).arraySync(), [[6], [15]]);
    assert.deepEqual(st.mean(x, 1).arraySync(), [2, 5]);
    assert.deepEqual(st.prod(x, 0).arraySync(), [4, 10, 18]);
    assert.deepEqual(st.max(x, -1).arraySync(), [3, 6]);
    assert.deepEqual(st.min(x, [0, 1]).arraySync(), 1);
    assert.ok(Math.abs((st.variance(x).item() as number) - 35 / 12) < 1e-15);
    assert.ok(Math.abs((st.std(x, 1).arraySync() as number[])[0] - Math.sqrt(2 / 3)) < 1e-15);
    assert.ok(Math.abs((st.logSumExp(x).item() as number) - Math.log([1, 2, 3, 4, 5, 6].reduce((s, v) => s + Math.exp(v), 0))) < 1e-14);
    assert.deepEqual(st.all(st.tensor([[true, false], [true, true]]), 1).arraySync(), [false, true]);
    assert.deepEqual(st.any(st.tensor([[0, 0], [0, 3]]), 1).arraySync(), [false, true]);
    assert.deepEqual(st.sum(st.tensor([true, true, false])).arraySync(), 2);
    assert.equal(st.mean(st.tensor([1, 2], { dtype: 'int32' })).item(), 1.5);
  });

  it('empty reductions give the identities (sum 0, prod 1, max -inf, min +inf, all true, any false, mean NaN)', () => {
    const e = st.zeros([0, 3]);
    assert.deepEqual(st.sum(e, 0).arraySync(), [0, 0, 0]);
    assert.deepEqual(st.prod(e, 0).arraySync(), [1, 1, 1]);
    assert.deepEqual(st.max(e, 0).arraySync(), [-Infinity, -Infinity, -Infinity]);
    assert.deepEqual(st.min(e, 0).arraySync(), [Infinity, Infinity, Infinity]);
    assert.deepEqual(st.all(e, 0).arraySync(), [true, true, true]);
    assert.deepEqual(st.any(e, 0).arraySync(), [false, false, false]);
    assert.ok((st.mean(e, 0).arraySync() as number[]).every(Number.isNaN));
    assert.deepEqual(st.sum(e, 1).shape, [0]);
    assert.deepEqual(st.logSumExp(e, 0).arraySync(), [-Infinity, -Infinity, -Infinity]);
  });

  it('max/min propagate NaN; all/any count NaN as true', () => {
    for (const d of ['float32', 'float64'] as DType[]) {
      const x = st.tensor([[1, NaN, 3], [-Infinity, 2, 0]], { dtype: d });
      const mx = st.max(x, 1).arraySync() as number[];
      assert.ok(Number.isNaN(mx[0]) && mx[1] === 2, `max ${d}: ${mx}`);
      const mn = st.min(x, 1).arraySync() as number[];
      assert.ok(Number.isNaN(mn[0]) && mn[1] === -Infinity, `min ${d}: ${mn}`);
      assert.ok(Number.isNaN(st.max(x).item() as number));
      assert.deepEqual(st.all(st.tensor([NaN, 1], { dtype: d })).item(), true);
      assert.deepEqual(st.any(st.tensor([NaN, 0], { dtype: d })).item(), true);
    }
  });

  it('float32 sums and means accumulate in double precision', () => {
    const n = 4000;
    const data = new Float32Array(n + 2);
    data[0] = 1e8;
    for (let i = 1; i <= n; i++) data[i] = 1;
    data[n + 1] = -1e8;
    const t = st.tensor(data);
    assert.equal(st.sum(t).item(), n);
    assert.ok(Math.abs((st.mean(t).item() as number) - n / (n + 2)) < 1e-6);
    // strided (non-last) axis too
    const col = st.reshape(t, [n + 2, 1]);
    assert.deepEqual(st.sum(col, 0).arraySync(), [n]);
  });

  it('int32 sums and products wrap like int32', () => {
    const x = st.tensor([2147483647, 1, 1], { dtype: 'int32' });
    assert.equal(st.sum(x).item(), -2147483647);
    assert.equal(st.prod(st.tensor([65536, 65536, 3], { dtype: 'int32' })).item(), 0);
    assert.equal(st.prod(st.tensor([-3, 5, 7], { dtype: 'int32' })).item(), -105);
  });

  it('large reductions (multi-threaded, column and row paths) match the reference', () => {
    const rng = new Rng(17);
    for (const d of ['float32', 'float64', 'int32'] as DType[]) {
      const x = R.randomRef(rng, [70, 40, 33], d);
      for (const axis of [0, 1, 2, [0, 2], [1, 2], [0, 1], undefined] as (number | number[] | undefined)[]) {
        for (const op of ['sum', 'max', 'min', 'mean'] as R.ReduceOp[]) {
          expectTensor(stReduce(op)(toSt(x), axis), R.reduce(op, x, axis), `${op} large ${d} axis ${JSON.stringify(axis)}`, { rtol: d === 'float32' ? 1e-5 : 1e-12, atol: d === 'float32' ? 1e-5 : 1e-12 });
        }
      }
      const big = R.randomRef(rng, [200003], d);
      expectTensor(st.sum(toSt(big)), R.reduce('sum', big), `sum of 200003 ${d}`, { rtol: 1e-6, atol: 1e-6 });
      expectTensor(st.argmax(toSt(big)), R.argReduce('argmax', big), `argmax of 200003 ${d}`);
    }
  });

  it('bad axes throw naming the op and the rank', () => {
    expectError(() => st.sum(st.ones([2, 3]), 5), 'ERR_ST_ARG', ['sum', 'axis 5', 'rank 2']);
    expectError(() => st.mean(st.ones([2, 3]), -3), 'ERR_ST_ARG', ['mean', 'axis -3']);
    expectError(() => st.max(st.ones([2, 3]), [0, 0]), 'ERR_ST_ARG', ['max', 'repeats']);
    expectError(() => st.argmax(st.ones([2, 3]), 2), 'ERR_ST_ARG', ['argmax', 'axis 2']);
    expectError(() => st.argmin(st.zeros([2, 0]), 1), 'ERR_ST_ARG', ['argmin', 'empty']);
    expectError(() => st.sum(st.ones([2]), 0.5), 'ERR_ST_ARG', ['sum', 'integer']);
  });
});

describe('argmax / argmin', () => {
  for (const op of exportsOfKind(st, 'argReduce') as ('argmax' | 'argmin')[]) {
    it(`${op}: every dtype, every axis, ties go to the first, NaN wins`, () => {
      const rng = new Rng(op === 'argmax' ? 1 : 2);
      for (const d of DTYPES) {
        for (const shape of [[6], [3, 4], [2, 3, 4], [4, 1, 3, 2], [0, 3], [2, 5, 0]]) {
          const axes: (number | undefined)[] = [undefined, ...shape.map((_, i) => i), -1];
          for (const axis of axes) {
            const norm = axis === undefined ? 0 : axis < 0 ? axis + shape.length : axis;
            const len = axis === undefined ? R.sizeOf(shape) : shape[norm];
            if (len === 0) continue; // an empty axis is an error (tested elsewhere)
            for (const keepDims of [false, true]) {
              // a small int range makes ties common
              const x = R.randomRef(rng, shape, d, { ilo: -2, ihi: 2 });
              if (R.isFloatType(d)) for (let i = 0; i < x.data.length; i++) {
                if (rng.next() < 0.3) x.data[i] = rng.pick([-1, 0, 1]);
                else if (rng.next() < 0.05) x.data[i] = rng.pick([NaN, Infinity, -Infinity]);
              }
              const expected = R.argReduce(op, x, axis, keepDims);
              expectTensor(st[op](toSt(x), axis, keepDims), expected, `${op}(${d} [${shape}], axis ${axis}, keepDims ${keepDims})`);
            }
          }
        }
      }
    });
  }

  it('known values', () => {
    const x = st.tensor([[3, 7, 7], [9, 1, 9]]);
    assert.deepEqual(st.argmax(x).arraySync(), 3);
    assert.deepEqual(st.argmax(x, 1).arraySync(), [1, 0]);
    assert.deepEqual(st.argmin(x, 0).arraySync(), [0, 1, 0]);
    assert.deepEqual(st.argmax(x, 1, true).arraySync(), [[1], [0]]);
    assert.equal(st.argmax(x).dtype, 'int32');
    assert.deepEqual(st.argmax(st.tensor([1, NaN, 5, NaN])).arraySync(), 1);
    assert.deepEqual(st.argmin(st.tensor([1, NaN, -5])).arraySync(), 1);
    assert.deepEqual(st.argmax(st.tensor([false, true, true])).arraySync(), 1);
  });
});
