// Gradient of pow(x, y) where the textbook formulas multiply 0 by an infinity: d/dx at y = 0
// (x^0 is 1 for every x, so 0) and d/dy at x = 0, y ≥ 0 (0^y stays 0 for y > 0, so 0).  PyTorch
// returns these limits; central finite differences confirm them.  Random cases over zeros,
// integers and fractions against the formulas written out, plus finite differences.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Rng } from '../support/reference';
import { checkGrad } from '../support/fd';

const { T } = st;

/** [d/dx, d/dy] of x^y by the formulas, with the limits where they give 0 · ∞. */
function powGrad(x: number, y: number): [number, number] {
  const dx = y === 0 ? 0 : y * x ** (y - 1);
  const dy = x === 0 && y >= 0 ? 0 : x ** y * Math.log(x);
  return [dx, dy];
}

function same(a: number, e: number): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= 1e-12 + 1e-12 * Math.abs(e);
}

describe('pow gradient at 0 · ∞ points', () => {
  it('matches the formulas with their limits over random x, y (zeros, integers, fractions)', () => {
    const rng = new Rng(99);
    const xs = [0, -0, 1, 2, 0.5, -1.5, -2, 3];
    const ys = [0, 1, 2, 3, 0.5, -1, -2, 2.5];
    for (let i = 0; i < 30; i++) {
      const n = rng.int(1, 6);
      const xv = [...Array(n)].map(() => rng.pick(xs));
      const yv = [...Array(n)].map(() => rng.pick(ys));
      const x = T.dvector('x'), y = T.dvector('y');
      const [gx, gy] = st.grad(T.sum(T.pow(x, y)), [x, y]);
      const [rx, ry] = (st.fn([x, y], [gx, gy]).sync(st.tensor(xv, 'float64'), st.tensor(yv, 'float64')) as st.Tensor[]).map((t) => Array.from(t.dataSync()));
      xv.forEach((a, k) => {
        const [ex, ey] = powGrad(a, yv[k]);
        assert.ok(same(rx[k], ex), `d/dx ${a}^${yv[k]}: got ${rx[k]}, expected ${ex}`);
        assert.ok(same(ry[k], ey), `d/dy ${a}^${yv[k]}: got ${ry[k]}, expected ${ey}`);
      });
    }
  });

  it('x^0 at x = 0 and a constant exponent: d/dx is 0; x^2 keeps 2x', () => {
    const x = T.dvector('x');
    const f0 = st.fn([x], st.grad(T.sum(T.pow(x, 0)), [x])[0]);
    assert.deepEqual(Array.from((f0.sync(st.tensor([0, 3], 'float64')) as st.Tensor).dataSync()), [0, 0]);
    const f2 = st.fn([x], st.grad(T.sum(T.pow(x, 2)), [x])[0]);
    assert.deepEqual(Array.from((f2.sync(st.tensor([0, -3], 'float64')) as st.Tensor).dataSync()), [0, -6]);
  });

  it('central finite differences agree at the limit points and away from them', () => {
    // (x, y) pairs: 0^y for y > 0 (d/dy), x^0 at x = 0 (d/dx), and ordinary points
    const cases: [number[], number[]][] = [
      [[0, 0, 0], [1, 2, 3]],
      [[1.5, 2, 0.7], [0.5, 2.5, 1.3]],
      [[0.8, 1.2], [0, 0]],
    ];
    for (const [xv, yv] of cases) checkGrad(`pow(${xv}, ${yv})`, [{ value: xv, shape: [xv.length] }, { value: yv, shape: [yv.length] }], (x, y) => T.pow(x, y));
    checkGrad('pow(x = 0, y = 0) w.r.t. x', [{ value: [0, 0], shape: [2] }, { value: [0, 0], shape: [2], fixed: true }], (x, y) => T.pow(x, y));
  });
});
