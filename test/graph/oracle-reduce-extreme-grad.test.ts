// Gradient of max / min reductions where several elements tie for the extreme.  The gradient of a
// slice must sum to the incoming gradient (moving the whole slice by h moves its max by h), so tied
// elements share it equally — PyTorch's and TensorFlow's rule — instead of each taking all of it.
// Checked against plain loops over random tie-heavy inputs and axes, a closed form
// (max(stack([x, x])) has slope 1), and float64 finite differences where there are no ties.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Rng } from '../support/reference';
import { checkGrad } from '../support/fd';

const { T } = st;

/** d sum(w · reduce(x)) / dx by the sharing rule, with plain loops over the flat layout. */
function expectedGrad(which: 'max' | 'min', x: number[], shape: number[], axes: number[], w: number[]): number[] {
  const rank = shape.length;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const keptStrides = kept.map((_, i) => kept.slice(i + 1).reduce((a, b) => a * b, 1));
  const slot = (flat: number) => {
    let o = 0;
    for (let i = 0; i < rank; i++) if (!axes.includes(i)) o += (Math.floor(flat / strides[i]) % shape[i]) * keptStrides[i];
    return o;
  };
  const nOut = kept.reduce((a, b) => a * b, 1);
  const best = new Array<number>(nOut).fill(which === 'max' ? -Infinity : Infinity);
  x.forEach((v, f) => { const o = slot(f); best[o] = which === 'max' ? Math.max(best[o], v) : Math.min(best[o], v); });
  const count = new Array<number>(nOut).fill(0);
  x.forEach((v, f) => { if (v === best[slot(f)]) count[slot(f)]++; });
  return x.map((v, f) => (v === best[slot(f)] ? w[slot(f)] / count[slot(f)] : 0));
}

describe('max / min reduction gradients with ties', () => {
  it('tied extremes share the gradient equally (random shapes, axes, keepDims)', () => {
    const rng = new Rng(4242);
    for (let i = 0; i < 60; i++) {
      const which = rng.bool() ? 'max' : 'min';
      const rank = rng.int(1, 3);
      const shape = [...Array(rank)].map(() => rng.int(1, 4));
      const n = shape.reduce((a, b) => a * b, 1);
      const x = [...Array(n)].map(() => rng.int(-1, 1)); // three values: ties everywhere
      const picked = [...Array(rank).keys()].filter(() => rng.bool());
      const axes = picked.length ? picked : [...Array(rank).keys()]; // none picked: reduce all (axis null)
      const keepDims = rng.bool();
      const outShape = keepDims ? shape.map((d, k) => (axes.includes(k) ? 1 : d)) : shape.filter((_, k) => !axes.includes(k));
      const w = [...Array(outShape.reduce((a, b) => a * b, 1))].map(() => rng.uniform(0.5, 1.5));
      const xv = T.tensor('float64', shape);
      const red = T[which](xv, picked.length ? axes : null, keepDims);
      const cost = T.sum(T.mul(red, T.constant(st.tensor(w, 'float64').reshape(outShape))));
      const [g] = st.grad(cost, [xv]);
      const got = Array.from((st.fn([xv], g).sync(st.tensor(x, 'float64').reshape(shape)) as st.Tensor).dataSync());
      const expected = expectedGrad(which, x, shape, axes, w);
      got.forEach((v, k) => assert.ok(Math.abs(v - expected[k]) <= 1e-12, `${which}([${shape}] ${JSON.stringify(x)}, axes [${axes}], keepDims ${keepDims}) [${k}]: got ${v}, expected ${expected[k]}`));
    }
  });

  it('max(stack([x, x])) and min(concat([x, x])) have slope exactly 1', () => {
    const x = T.dvector('x');
    const f1 = st.fn([x], st.grad(T.sum(T.max(T.stack([x, x]), 0)), [x])[0]);
    assert.deepEqual(Array.from((f1.sync(st.tensor([3, -1, 0], 'float64')) as st.Tensor).dataSync()), [1, 1, 1]);
    const f2 = st.fn([x], st.grad(T.min(T.concat([x, x])), [x])[0]);
    assert.deepEqual(Array.from((f2.sync(st.tensor([2, 5, 2], 'float64')) as st.Tensor).dataSync()), [0.5, 0, 0.5]);
  });

  it('a NaN extreme passes no gradient (never NaN from 0 / 0)', () => {
    const x = T.dvector('x');
    const f = st.fn([x], st.grad(T.max(x), [x])[0]);
    assert.deepEqual(Array.from((f.sync(st.tensor([1, NaN, 3], 'float64')) as st.Tensor).dataSync()), [0, 0, 0]);
  });

  it('matches central finite differences where there are no ties', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 12; i++) {
      const shape = [rng.int(1, 3), rng.int(2, 4)];
      const n = shape[0] * shape[1];
      const perm = [...Array(n).keys()].sort(() => rng.next() - 0.5);
      const value = perm.map((p) => p * 0.37 - 1); // distinct, spaced far beyond the step
      const which = rng.bool() ? 'max' : 'min';
      const axis = rng.pick([0, 1, -1, null]);
      checkGrad(`${which}([${shape}], ${axis})`, [{ value, shape }], (v) => T[which](v, axis));
    }
  });
});
