// Pooling with numeric padding over a grid of window sizes, paddings and strides: padding that
// reaches a whole window is rejected with a clear error where the call is made (eagerly, and when
// the graph is built even before the input's size is known); every other case matches the plain-loop
// reference, eagerly and compiled.
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { expectError, expectTensor, toSt } from '../support/check';

const { T } = st;
type PoolName = 'maxPool2d' | 'avgPool2d';

describe('pooling: numeric padding against the reference', () => {
  for (const op of ['maxPool2d', 'avgPool2d'] as PoolName[]) {
    it(`${op}: padding smaller than the window matches plain loops; larger is an error`, () => {
      const rng = new R.Rng(op === 'maxPool2d' ? 5 : 6);
      let checked = 0, rejected = 0;
      for (const kh of [1, 2, 3])
        for (const kw of [1, 2, 3])
          for (const padding of [0, 1, 2, 3])
            for (const strides of [undefined, 1, [2, 1]] as (number | [number, number] | undefined)[]) {
              const opts: st.Pool2dOptions = { poolSize: [kh, kw], padding, strides };
              const shape = [rng.int(1, 2), rng.int(1, 5), rng.int(1, 5), rng.int(1, 2)];
              const what = `${op}([${shape}], poolSize [${kh}, ${kw}], padding ${padding}, strides ${JSON.stringify(strides)})`;
              if (padding >= Math.min(kh, kw)) {
                const patterns = [op, `padding ${padding} must be smaller than poolSize [${kh}, ${kw}]`];
                expectError(() => st[op](st.ones(shape), opts), 'ERR_ST_SHAPE', patterns);
                expectError(() => T[op](T.tensor4('x'), opts), 'ERR_ST_SHAPE', patterns);
                expectError(() => T[op](T.tensor('float32', shape), opts), 'ERR_ST_SHAPE', patterns);
                rejected++;
                continue;
              }
              if (shape[1] + 2 * padding < kh || shape[2] + 2 * padding < kw) continue;
              const x = R.randomRef(rng, shape, rng.bool() ? 'float32' : 'float64');
              const expected = R[op](x, opts);
              expectTensor(st[op](toSt(x), opts), expected, `eager ${what}`);
              const v = T.tensor(x.dtype, [null, null, null, null]);
              expectTensor(st.fn([v], T[op](v, opts)).sync(toSt(x)) as st.Tensor, expected, `compiled ${what}`);
              checked++;
            }
      if (checked < 30 || rejected < 50) throw new Error(`too few cases: ${checked} checked, ${rejected} rejected`);
    });
  }
});
