// Options that are wrong whatever the input's size (negative tile reps or paddings, bad conv2d
// strides, dilations or padding) are rejected where the symbolic graph is built — even when the
// input's dims are unknown — with the same error code and wording as the eager op; valid options
// build, and the compiled result matches the plain-loop reference.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { expectError, expectTensor, toSt } from '../support/check';

const { T } = st;

describe('static options checked where the graph is built', () => {
  it('tile: negative reps throw at T.tile on unknown dims, like st.tile; valid reps match numpy tile', () => {
    const rng = new R.Rng(41);
    let rejected = 0, checked = 0;
    for (let i = 0; i < 40; i++) {
      const shape = [rng.int(1, 3), rng.int(1, 3)];
      const reps = [...Array(rng.int(1, 3))].map(() => rng.int(-2, 2));
      const v = T.tensor('float32', [null, null]);
      if (reps.some((r) => r < 0)) {
        const patterns = ['tile', 'reps must be non-negative integers', `[${reps.join(',')}]`];
        expectError(() => st.tile(st.ones(shape), reps), 'ERR_ST_ARG', patterns);
        expectError(() => T.tile(v, reps), 'ERR_ST_ARG', patterns);
        rejected++;
        continue;
      }
      const x = R.randomRef(rng, shape, 'float32');
      // numpy's tile, written out: out[i] = x[i mod shape] with shapes aligned on the right
      const rank = Math.max(shape.length, reps.length);
      const xs = [...Array(rank - shape.length).fill(1), ...shape];
      const rs = [...Array(rank - reps.length).fill(1), ...reps];
      const os = xs.map((d, k) => d * rs[k]);
      const n = os.reduce((a, b) => a * b, 1);
      const data: number[] = [];
      for (let f = 0; f < n; f++) {
        let rem = f, src = 0, stride = 1;
        const idx = os.map(() => 0);
        for (let k = rank - 1; k >= 0; k--) { idx[k] = rem % os[k]; rem = Math.floor(rem / os[k]); }
        for (let k = rank - 1; k >= 0; k--) { src += (idx[k] % xs[k]) * stride; stride *= xs[k]; }
        data.push(x.data[src]);
      }
      expectTensor(st.fn([v], T.tile(v, reps)).sync(toSt(x)) as st.Tensor, { shape: os, dtype: 'float32', data }, `tile([${shape}], [${reps}])`);
      checked++;
    }
    assert.ok(rejected >= 10 && checked >= 10, `${rejected} rejected, ${checked} checked`);
  });

  it('pad: negative paddings throw at T.pad on unknown dims, like st.pad', () => {
    for (const pads of [[[-1, 0], [0, 0]], [[0, 0], [0, -2]], [[-3, -3], [1, 1]]] as [number, number][][]) {
      const patterns = ['pad', 'pairs [before, after] of non-negative integers', JSON.stringify(pads)];
      expectError(() => st.pad(st.ones([2, 3]), pads), 'ERR_ST_ARG', patterns);
      expectError(() => T.pad(T.tensor('float32', [null, null]), pads), 'ERR_ST_ARG', patterns);
    }
    // a valid padding still builds and pads with the value
    const v = T.tensor('float32', [null]);
    expectTensor(st.fn([v], T.pad(v, [[1, 2]], 7)).sync(st.tensor([1, 2])) as st.Tensor, { shape: [5], dtype: 'float32', data: [7, 1, 2, 7, 7] }, 'pad');
  });

  it('conv2d: bad strides, dilations or padding throw at T.conv2d on unknown dims, like st.conv2d', () => {
    const bad: [st.Conv2dOptions, string][] = [
      [{ strides: 0 }, 'strides must be a positive integer or a pair of them'],
      [{ strides: 1.5 as number }, 'strides must be a positive integer or a pair of them'],
      [{ strides: [1, -1] }, 'strides must be a positive integer or a pair of them'],
      [{ dilations: 0 }, 'dilations must be a positive integer or a pair of them'],
      [{ dilations: [2, 2.5] as [number, number] }, 'dilations must be a positive integer or a pair of them'],
      [{ padding: -1 }, "padding must be 'same', 'valid' or a non-negative integer"],
      [{ padding: 'full' as st.Padding }, "padding must be 'same', 'valid' or a non-negative integer"],
      [{ padding: 1.5 }, "padding must be 'same', 'valid' or a non-negative integer"],
    ];
    for (const [opts, msg] of bad) {
      expectError(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([2, 2, 1, 1]), opts), 'ERR_ST_ARG', ['conv2d', msg]);
      expectError(() => T.conv2d(T.tensor4('x'), T.tensor4('w'), opts), 'ERR_ST_ARG', ['conv2d', msg]);
    }
  });

  it('conv2d: valid options on unknown dims build and match the reference', () => {
    const rng = new R.Rng(43);
    for (let i = 0; i < 12; i++) {
      const opts: st.Conv2dOptions = { strides: rng.pick([1, 2]), padding: rng.pick(['same', 'valid', 1] as st.Padding[]), dilations: rng.pick([1, 2]) };
      const x = R.randomRef(rng, [1, rng.int(4, 6), rng.int(4, 6), 2], 'float64');
      const w = R.randomRef(rng, [2, 2, 2, rng.int(1, 3)], 'float64');
      const xv = T.tensor4('x', 'float64'), wv = T.tensor4('w', 'float64');
      const got = st.fn([xv, wv], T.conv2d(xv, wv, opts)).sync(toSt(x), toSt(w)) as st.Tensor;
      expectTensor(got, R.conv2d(x, w, opts), `conv2d ${JSON.stringify(opts)}`);
    }
  });
});
