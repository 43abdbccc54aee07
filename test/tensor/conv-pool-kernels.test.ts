// The native kernels' special paths seen through the public eager ops: the 2x2 / stride 2 max
// pooling loops (whole vectors of channels, then a scalar tail; odd sizes leave a last row and
// column that no window covers) and the filter gradient's packed dy panels (many filter rows per
// filter block, filter counts off the 16-wide tile).  References: test/support/reference.ts's
// plain loops.
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { DType, Ref, Rng } from '../support/reference';
import { Tol, expectTensor, toSt } from '../support/check';

const DTYPES: DType[] = ['float32', 'float64'];
const exact: Tol = { rtol: 0, atol: 0 };
// Each filter-gradient element sums 2*9*10 = 180 products of values in [-1, 1]: float32 rounding
// of sums near 5 in magnitude reaches a few 1e-5.
const gradFilterTol = (d: DType): Tol => (d === 'float32' ? { rtol: 1e-4, atol: 1e-4 } : { rtol: 1e-12, atol: 1e-12 });

/** Small integers: many ties inside each window, so the first-maximum rule decides the gradient. */
function tiedRef(rng: Rng, shape: number[], dtype: DType): Ref {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, dtype, data: Array.from({ length: n }, () => rng.int(0, 2)) };
}

describe('max pooling 2x2 / stride 2 kernels', () => {
  it('forward and gradient match the loops for channel counts around the vector width and odd sizes', () => {
    const rng = new Rng(4242);
    const sizes = [[4, 4], [7, 5], [9, 10], [2, 3]];
    const channels = [1, 3, 8, 13, 32];
    for (const d of DTYPES)
      for (const [h, w] of sizes)
        for (const c of channels)
          for (const ties of [false, true]) {
            const shape = [2, h, w, c];
            const x = ties ? tiedRef(rng, shape, d) : R.randomRef(rng, shape, d);
            const yRef = R.maxPool2d(x, { poolSize: 2 });
            const dy = R.randomRef(rng, yRef.shape, d);
            const what = `${d} x[${shape}] ${ties ? 'ties' : 'random'}`;
            const xs = toSt(x), dys = toSt(dy);
            const y = st.maxPool2d(xs, { poolSize: 2 });
            const dx = st.maxPool2dGrad(xs, dys, { poolSize: 2 });
            expectTensor(y, yRef, `maxPool2d ${what}`, exact);
            expectTensor(dx, R.maxPool2dGrad(x, dy, { poolSize: 2 }), `maxPool2dGrad ${what}`, exact);
            for (const t of [xs, dys, y, dx]) t.dispose();
          }
  });
});

describe('conv2dGradFilter dy panels', () => {
  it('matches the loops on both sides of the packing threshold and with F off the tile width', () => {
    const rng = new Rng(4343);
    // [KH, KW, C, F]: 42 filter rows (read in place), 43 and 45 (packed), F = 33 and 7 (packed, zero tail)
    const filters = [[3, 1, 14, 16], [1, 1, 43, 16], [3, 3, 5, 32], [3, 3, 11, 33], [2, 2, 3, 7]];
    for (const d of DTYPES)
      for (const f of filters)
        for (const padding of ['valid', 'same'] as const) {
          const xShape = [2, 9, 10, f[2]];
          const x = R.randomRef(rng, xShape, d);
          const yShape = R.conv2d(x, R.randomRef(rng, f, d), { padding }).shape;
          const dy = R.randomRef(rng, yShape, d);
          const xs = toSt(x), dys = toSt(dy);
          const dw = st.conv2dGradFilter(xs, dys, f, { padding });
          expectTensor(dw, R.conv2dGradFilter(x, dy, f, { padding }), `conv2dGradFilter ${d} x[${xShape}] f[${f}] ${padding}`, gradFilterTol(d));
          for (const t of [xs, dys, dw]) t.dispose();
        }
  });
});
