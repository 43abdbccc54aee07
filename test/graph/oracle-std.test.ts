// std(x) over random shapes, axes and keepDims — eagerly, compiled, and its gradient — against the
// plain-loop population standard deviation and float64 finite differences.  Slices of zero
// variance (a size-1 axis, a constant row) are where sqrt's derivative is infinite: there the
// gradient must be 0 (PyTorch's subgradient, and what central differences give), never NaN.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Rng } from '../support/reference';
import type { Ref } from '../support/reference';
import { popStd } from '../support/reference-extra';
import { expectTensor, toSt } from '../support/check';
import { checkGrad } from '../support/fd';

const { T } = st;
type Axes = number | number[] | null;

/** A random axis argument for rank: none, one (maybe negative) or several. */
function randomAxes(rng: Rng, rank: number): Axes {
  const mode = rng.int(0, 2);
  if (mode === 0 || rank === 0) return null;
  if (mode === 1) return rng.int(-rank, rank - 1);
  const list = [...Array(rank).keys()].filter(() => rng.bool()).map((a) => (rng.bool() ? a - rank : a));
  return list.length ? list : [0];
}

/** Values with constant slices and size-1 axes common, so zero variance occurs often. */
function randomInput(rng: Rng, dtype: 'float32' | 'float64'): Ref {
  const rank = rng.int(1, 4);
  const shape = [...Array(rank)].map(() => (rng.bool(0.3) ? 1 : rng.int(2, 4)));
  const n = shape.reduce((a, b) => a * b, 1);
  const constant = rng.bool(0.3);
  const c = rng.uniform(-2, 2);
  const data = [...Array(n)].map(() => {
    const v = constant ? c : rng.uniform(-3, 3);
    return dtype === 'float32' ? Math.fround(v) : v;
  });
  return { shape, dtype, data };
}

describe('std: differential cases against plain loops', () => {
  it('eager and compiled values over random shapes, axes and keepDims (zero variance included)', () => {
    const rng = new Rng(2024);
    for (let i = 0; i < 120; i++) {
      const dtype = rng.bool() ? 'float32' : 'float64';
      const x = randomInput(rng, dtype);
      const axes = randomAxes(rng, x.shape.length);
      const keepDims = rng.bool();
      const expected = popStd(x, axes, keepDims);
      const what = `std(${dtype} [${x.shape}], axes ${JSON.stringify(axes)}, keepDims ${keepDims})`;
      expectTensor(st.std(toSt(x), axes, keepDims), expected, `eager ${what}`);
      const v = T.tensor(dtype, x.shape.map((d) => (d === 1 ? 1 : null)));
      const got = st.fn([v], T.std(v, axes, keepDims)).sync(toSt(x)) as st.Tensor;
      expectTensor(got, expected, `compiled ${what}`);
    }
  });

  it('NaN and infinities propagate; an all-equal slice gives exactly 0', () => {
    const x: Ref = { shape: [4, 3], dtype: 'float64', data: [1, NaN, 2, 5, 5, 5, Infinity, 0, 1, -2, -2, -2] };
    const expected = popStd(x, 1);
    assert.ok(Number.isNaN(expected.data[0]) && Number.isNaN(expected.data[2]) && expected.data[1] === 0 && expected.data[3] === 0);
    expectTensor(st.std(toSt(x), 1), expected, 'eager');
    const v = T.dmatrix('v');
    expectTensor(st.fn([v], T.std(v, 1)).sync(toSt(x)) as st.Tensor, expected, 'compiled');
  });

  it('the gradient is 0, not NaN, where the variance is 0 (size-1 axis, constant rows)', () => {
    const x = T.dmatrix('x');
    const [g] = st.grad(T.sum(T.std(x, 1)), [x]);
    const f = st.fn([x], g);
    const r = f.sync(st.tensor([[2, 2, 2], [1, 2, 4], [-1, -1, -1]], 'float64')) as st.Tensor;
    // row 1: d std / d x_j = (x_j - mean) / (n · std), from the formula
    const row = [1, 2, 4], mean = 7 / 3;
    const sd = Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / 3);
    const expected = [0, 0, 0, ...row.map((v) => (v - mean) / (3 * sd)), 0, 0, 0];
    const got = Array.from(r.dataSync());
    got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-12, `[${i}] got ${v}, expected ${expected[i]}`));

    const y = T.dmatrix('y');
    const [gy] = st.grad(T.sum(T.std(y, 0)), [y]);
    const ry = st.fn([y], gy).sync(st.tensor([[3, -7]], 'float64')) as st.Tensor;
    assert.deepEqual(Array.from(ry.dataSync()), [0, 0]);
  });

  it('the gradient matches central finite differences over random cases (zero variance included)', () => {
    const rng = new Rng(77);
    for (let i = 0; i < 24; i++) {
      const x = randomInput(rng, 'float64');
      const axes = randomAxes(rng, x.shape.length);
      const keepDims = rng.bool();
      checkGrad(`std([${x.shape}], ${JSON.stringify(axes)}, ${keepDims})`, [{ value: x.data, shape: x.shape }], (v) => T.std(v, axes, keepDims));
    }
  });
});
