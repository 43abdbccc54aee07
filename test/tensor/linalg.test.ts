import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { DType, DTYPES, Rng } from '../support/reference';
import { Tol, expectError, expectTensor, toSt } from '../support/check';

/** float32 products accumulate K terms; allow for that. */
function mmTol(d: DType, k: number): Tol {
  if (d === 'float32') return { rtol: 1e-5, atol: 2e-6 * Math.max(1, k) };
  if (d === 'float64') return { rtol: 1e-12, atol: 1e-14 * Math.max(1, k) };
  return {};
}

function mmShape(batch: number[], rows: number, cols: number, transposed: boolean): number[] {
  return transposed ? [...batch, cols, rows] : [...batch, rows, cols];
}

describe('matmul', () => {
  it('all dtype pairs, batched with broadcasting, transposes', () => {
    const rng = new Rng(123);
    const batches: [number[], number[]][] = [
      [[], []],
      [[3], []],
      [[], [2]],
      [[2, 1], [3]],
      [[1, 4], [2, 1]],
      [[2], [2]],
    ];
    for (const da of DTYPES) {
      for (const db of DTYPES) {
        for (const [ba, bb] of batches) {
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              const m = rng.int(1, 5);
              const k = rng.int(1, 6);
              const n = rng.int(1, 5);
              const a = R.randomRef(rng, mmShape(ba, m, k, ta), da);
              const b = R.randomRef(rng, mmShape(bb, k, n, tb), db);
              const expected = R.matmul(a, b, ta, tb);
              const got = st.matmul(toSt(a), toSt(b), ta, tb);
              expectTensor(got, expected, `matmul(${da} [${a.shape}]${ta ? 'ᵀ' : ''}, ${db} [${b.shape}]${tb ? 'ᵀ' : ''})`, mmTol(expected.dtype, k));
            }
          }
        }
      }
    }
  });

  it('1-D operands are a row (left) or column (right) vector whose axis is dropped', () => {
    const rng = new Rng(5);
    for (const d of ['float32', 'float64', 'int32'] as DType[]) {
      const v = R.randomRef(rng, [4], d);
      const w = R.randomRef(rng, [4], d);
      const m = R.randomRef(rng, [4, 3], d);
      const mt = R.randomRef(rng, [3, 4], d);
      const b3 = R.randomRef(rng, [2, 4, 3], d);
      expectTensor(st.matmul(toSt(v), toSt(w)), R.matmul(v, w), `vec·vec ${d}`, mmTol(d, 4));
      assert.deepEqual(st.matmul(toSt(v), toSt(w)).shape, []);
      expectTensor(st.matmul(toSt(v), toSt(m)), R.matmul(v, m), `vec·mat ${d}`, mmTol(d, 4));
      expectTensor(st.matmul(toSt(mt), toSt(v)), R.matmul(mt, v), `mat·vec ${d}`, mmTol(d, 4));
      expectTensor(st.matmul(toSt(v), toSt(b3)), R.matmul(v, b3), `vec·batch ${d}`, mmTol(d, 4));
      assert.deepEqual(st.matmul(toSt(v), toSt(b3)).shape, [2, 3]);
      expectTensor(st.matmul(toSt(v), toSt(mt), false, true), R.matmul(v, mt, false, true), `vec·matᵀ ${d}`, mmTol(d, 4));
      const u = R.randomRef(rng, [3], d);
      expectTensor(st.matmul(toSt(b3), toSt(u)), R.matmul(b3, u), `batch·vec ${d}`, mmTol(d, 3));
      assert.deepEqual(st.matmul(toSt(b3), toSt(u)).shape, [2, 4]);
    }
  });

  it('empty dimensions: K = 0 gives zeros, M or N = 0 gives empty results', () => {
    for (const d of ['float32', 'float64', 'int32'] as DType[]) {
      const z = st.matmul(st.ones([3, 0], d), st.ones([0, 2], d));
      assert.deepEqual(z.shape, [3, 2]);
      assert.deepEqual(Array.from(z.dataSync()), [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(st.matmul(st.ones([0, 4], d), st.ones([4, 2], d)).shape, [0, 2]);
      assert.deepEqual(st.matmul(st.ones([2, 4], d), st.ones([4, 0], d)).shape, [2, 0]);
      assert.deepEqual(st.matmul(st.ones([0, 2, 4], d), st.ones([4, 3], d)).shape, [0, 2, 3]);
    }
  });

  it('large products (blocked / threaded GEMM) match the reference', () => {
    const rng = new Rng(6);
    const cases: [number[], number[], boolean, boolean][] = [
      [[67, 129], [129, 71], false, false],
      [[129, 67], [129, 71], true, false],
      [[67, 129], [71, 129], false, true],
      [[129, 67], [71, 129], true, true],
      [[3, 40, 50], [50, 45], false, false],
      [[40, 50], [4, 50, 45], false, false],
      [[2, 1, 33, 20], [3, 20, 17], false, false],
      [[1, 300], [300, 1], false, false],
    ];
    for (const d of ['float32', 'float64', 'int32'] as DType[]) {
      for (const [sa, sb, ta, tb] of cases) {
        const a = R.randomRef(rng, sa, d, { lo: -1, hi: 1 });
        const b = R.randomRef(rng, sb, d, { lo: -1, hi: 1 });
        const k = ta ? sa[sa.length - 2] : sa[sa.length - 1];
        expectTensor(st.matmul(toSt(a), toSt(b), ta, tb), R.matmul(a, b, ta, tb), `matmul ${d} [${sa}]${ta ? 'ᵀ' : ''} x [${sb}]${tb ? 'ᵀ' : ''}`, mmTol(d, k));
      }
    }
  });

  it('NaN and infinities propagate through products', () => {
    const rng = new Rng(12);
    for (const d of ['float32', 'float64'] as DType[]) {
      for (const [sa, sb] of [[[5, 7], [7, 6]], [[70, 65], [65, 40]], [[2, 3, 9], [9, 4]]] as [number[], number[]][]) {
        const a = R.randomRef(rng, sa, d, { special: 0.02 });
        const b = R.randomRef(rng, sb, d, { special: 0.02 });
        const k = sa[sa.length - 1];
        expectTensor(st.matmul(toSt(a), toSt(b)), R.matmul(a, b), `matmul with specials ${d} [${sa}] [${sb}]`, mmTol(d, k));
      }
      const x = st.tensor([[1, NaN], [0, 1]], { dtype: d });
      const y = st.tensor([[1, 0], [Infinity, 1]], { dtype: d });
      const p = st.matmul(x, y).arraySync() as number[][];
      assert.ok(Number.isNaN(p[0][0]) && Number.isNaN(p[0][1]), `row with NaN: ${p[0]}`);
      assert.deepEqual(p[1], [Infinity, 1]);
    }
  });

  it('int32 products are exact and wrap like int32', () => {
    const a = st.tensor([[65536, 1], [2, 3]], { dtype: 'int32' });
    const b = st.tensor([[65536, 0], [5, 7]], { dtype: 'int32' });
    assert.deepEqual(st.matmul(a, b).arraySync(), [[5, 7], [131087, 21]]);
  });

  it('known values and Tensor.matmul', () => {
    const a = st.tensor([[1, 2], [3, 4]]);
    const b = st.tensor([[5, 6], [7, 8]]);
    assert.deepEqual(st.matmul(a, b).arraySync(), [[19, 22], [43, 50]]);
    assert.deepEqual(a.matmul(b, true).arraySync(), [[26, 30], [38, 44]]);
    assert.deepEqual(a.matmul(b, false, true).arraySync(), [[17, 23], [39, 53]]);
    assert.deepEqual(st.matmul([[1, 2]], [[3], [4]]).arraySync(), [[11]]);
  });

  it('shape errors name the op and both shapes', () => {
    expectError(() => st.matmul(st.ones([2, 3]), st.ones([4, 5])), 'ERR_ST_SHAPE', ['matmul', '[2,3]', '[4,5]']);
    expectError(() => st.matmul(st.ones([2, 3]), st.ones([2, 3]), false, false), 'ERR_ST_SHAPE', ['matmul', 'inner dimensions 3 and 2']);
    expectError(() => st.matmul(st.ones([2, 2, 3]), st.ones([3, 3, 4])), 'ERR_ST_SHAPE', ['matmul']);
    expectError(() => st.matmul(st.ones([]), st.ones([3])), 'ERR_ST_SHAPE', ['matmul', 'rank']);
  });
});

describe('dot and outer', () => {
  it('dot follows numpy for every rank combination', () => {
    const rng = new Rng(9);
    const cases: [number[], number[]][] = [
      [[], [3]],
      [[2, 3], []],
      [[4], [4]],
      [[2, 4], [4]],
      [[4], [4, 3]],
      [[2, 4], [4, 3]],
      [[2, 3, 4], [4, 5]],
      [[4], [2, 4, 3]],
      [[2, 4], [3, 4, 5]],
      [[2, 3, 4], [2, 4, 5]],
      [[0, 4], [4, 2]],
      [[3, 0], [0, 2]],
    ];
    for (const d of DTYPES) {
      for (const [sa, sb] of cases) {
        const a = R.randomRef(rng, sa, d);
        const b = R.randomRef(rng, sb, d);
        const expected = R.dot(a, b);
        expectTensor(st.dot(toSt(a), toSt(b)), expected, `dot(${d} [${sa}], [${sb}])`, mmTol(expected.dtype, 4));
        expectTensor(toSt(a).dot(toSt(b)), expected, `Tensor.dot(${d} [${sa}], [${sb}])`, mmTol(expected.dtype, 4));
      }
    }
    assert.deepEqual(st.dot(st.tensor([1, 2, 3]), st.tensor([4, 5, 6])).arraySync(), 32);
    expectError(() => st.dot(st.ones([2, 3]), st.ones([2, 4, 5])), 'ERR_ST_SHAPE', ['dot']);
  });

  it('outer of vectors and scalars, every dtype pair', () => {
    const rng = new Rng(10);
    for (const da of DTYPES) {
      for (const db of DTYPES) {
        for (const [sa, sb] of [[[3], [4]], [[], [2]], [[0], [3]], [[5], []]] as [number[], number[]][]) {
          const a = R.randomRef(rng, sa, da);
          const b = R.randomRef(rng, sb, db);
          expectTensor(st.outer(toSt(a), toSt(b)), R.outer(a, b), `outer(${da} [${sa}], ${db} [${sb}])`);
        }
      }
    }
    assert.deepEqual(st.outer([1, 2], [3, 4, 5]).arraySync(), [[3, 4, 5], [6, 8, 10]]);
    // numpy's outer flattens operands of any rank
    const m = R.randomRef(rng, [2, 2], 'float32'), v = R.randomRef(rng, [3], 'int32');
    expectTensor(st.outer(toSt(m), toSt(v)), R.outer(m, v), 'outer([2,2], [3])');
    assert.deepEqual(st.outer(st.tensor([[1, 2], [3, 4]]), st.tensor([1, 10])).shape, [4, 2]);
  });
});
