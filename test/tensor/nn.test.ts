import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { DType, DTYPES, Ref, Rng } from '../support/reference';
import { Tol, expectError, expectTensor, inner, toSt } from '../support/check';

describe('softmax / logSoftmax', () => {
  for (const op of ['softmax', 'logSoftmax'] as const) {
    it(`${op}: every dtype and axis, empty dims, special values`, () => {
      const rng = new Rng(op.length);
      for (const d of DTYPES) {
        for (const shape of [[5], [3, 4], [2, 3, 4], [2, 1, 3, 5], [0, 3], [3, 0], [1, 1]]) {
          for (let axis = -1; axis < shape.length; axis++) {
            const x = R.randomRef(rng, shape, d, { lo: -5, hi: 5 });
            if (R.isFloatType(d)) for (let i = 0; i < x.data.length; i++) if (rng.next() < 0.08) x.data[i] = rng.pick([-Infinity, NaN, Infinity]);
            const expected = R[op](x, axis);
            expectTensor(st[op](toSt(x), axis), expected, `${op}(${d} [${shape}], axis ${axis})`);
            expectTensor(toSt(x)[op](axis), expected, `Tensor.${op}(${d} [${shape}], axis ${axis})`);
          }
        }
      }
    });
  }

  it('is stable for large inputs and sums to one', () => {
    for (const d of ['float32', 'float64'] as DType[]) {
      const x = st.tensor([[1000, 1001, 1002], [-1000, -1000, -1000]], { dtype: d });
      const s = st.softmax(x).arraySync() as number[][];
      const e = [Math.exp(-2), Math.exp(-1), 1];
      const z = e[0] + e[1] + e[2];
      s[0].forEach((v, i) => assert.ok(Math.abs(v - e[i] / z) < 1e-6, `softmax ${d} ${v}`));
      s[1].forEach((v) => assert.ok(Math.abs(v - 1 / 3) < 1e-6));
      const l = st.logSoftmax(x).arraySync() as number[][];
      l[0].forEach((v, i) => assert.ok(Math.abs(v - Math.log(e[i] / z)) < 1e-5, `logSoftmax ${d} ${v}`));
      assert.ok(Number.isFinite(l[1][0]));
      // a -inf logit gets probability 0
      assert.deepEqual(st.softmax(st.tensor([-Infinity, 0], { dtype: d })).arraySync(), [0, 1]);
    }
    const rng = new Rng(3);
    const big = R.randomRef(rng, [37, 300], 'float32', { lo: -20, hi: 20 });
    const rows = st.sum(st.softmax(toSt(big)), 1).dataSync();
    for (const r of rows) assert.ok(Math.abs(r - 1) < 1e-5);
    expectTensor(st.softmax(toSt(big), 0), R.softmax(big, 0), 'softmax large axis 0');
  });

  it('rejects scalars and bad axes', () => {
    expectError(() => st.softmax(st.tensor(1)), 'ERR_ST_SHAPE', ['softmax', 'scalar']);
    expectError(() => st.logSoftmax(st.ones([2, 3]), 2), 'ERR_ST_ARG', ['logSoftmax', 'axis 2']);
  });
});

interface ConvCase {
  x: number[];
  f: number[];
  opts: st.Conv2dOptions;
}

/** Random conv configurations whose window fits the (padded) input. */
function convCases(rng: Rng, count: number): ConvCase[] {
  const out: ConvCase[] = [
    { x: [1, 5, 5, 1], f: [3, 3, 1, 1], opts: {} },
    { x: [2, 6, 7, 3], f: [3, 2, 3, 4], opts: { strides: 2, padding: 'same' } },
    { x: [1, 7, 7, 2], f: [3, 3, 2, 2], opts: { dilations: 2, padding: 'same' } },
    { x: [1, 4, 9, 2], f: [2, 3, 2, 3], opts: { strides: [1, 3], padding: 1 } },
    { x: [2, 1, 1, 3], f: [1, 1, 3, 2], opts: { padding: 'same' } },
    { x: [1, 2, 2, 1], f: [3, 3, 1, 1], opts: { padding: 'same' } },
    { x: [0, 4, 4, 2], f: [2, 2, 2, 3], opts: {} },
    { x: [1, 5, 5, 2], f: [2, 2, 2, 0], opts: {} },
    { x: [1, 8, 6, 1], f: [2, 2, 1, 1], opts: { strides: [3, 2], dilations: [2, 1], padding: 'same' } },
  ];
  while (out.length < count) {
    const h = rng.int(1, 8);
    const w = rng.int(1, 8);
    const kh = rng.int(1, 3);
    const kw = rng.int(1, 3);
    const dil: [number, number] = [rng.int(1, 2), rng.int(1, 2)];
    const padding = rng.pick(['same', 'valid', 0, 1, 2] as st.Padding[]);
    const p = padding === 'same' ? 0 : padding === 'valid' ? 0 : padding;
    const eh = (kh - 1) * dil[0] + 1;
    const ew = (kw - 1) * dil[1] + 1;
    if (padding !== 'same' && (h + 2 * p < eh || w + 2 * p < ew)) continue;
    // the kernels take explicit padding smaller than the (dilated) window only (tested separately)
    if (p >= Math.min(eh, ew)) continue;
    out.push({
      x: [rng.int(1, 2), h, w, rng.int(1, 3)],
      f: [kh, kw, 0, rng.int(1, 3)],
      opts: { strides: [rng.int(1, 3), rng.int(1, 3)], dilations: dil, padding },
    });
    out[out.length - 1].f[2] = out[out.length - 1].x[3];
  }
  return out;
}

const convTol = (d: DType): Tol => (d === 'float32' ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-12, atol: 1e-13 });

describe('conv2d and its gradients', () => {
  it('conv2d matches the reference (strides, same/valid/number padding, dilations)', () => {
    const rng = new Rng(100);
    for (const d of ['float32', 'float64'] as DType[]) {
      for (const c of convCases(rng, 40)) {
        const x = R.randomRef(rng, c.x, d);
        const f = R.randomRef(rng, c.f, d);
        const expected = R.conv2d(x, f, c.opts);
        expectTensor(st.conv2d(toSt(x), toSt(f), c.opts), expected, `conv2d ${d} x[${c.x}] f[${c.f}] ${JSON.stringify(c.opts)}`, convTol(d));
      }
    }
  });

  it('conv2d known values and output sizes', () => {
    // 3x3 input, 2x2 all-ones filter, valid: sums of 2x2 windows
    const x = st.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 3, 3, 1] });
    const w = st.ones([2, 2, 1, 1]);
    assert.deepEqual(st.conv2d(x, w).arraySync(), [[[[12], [16]], [[24], [28]]]]);
    // 'same' with a 2x2 filter pads only at the bottom/right (TensorFlow)
    assert.deepEqual(st.conv2d(x, w, { padding: 'same' }).arraySync(), [[[[12], [16], [9]], [[24], [28], [15]], [[15], [17], [9]]]]);
    assert.deepEqual(st.conv2d(st.ones([1, 7, 7, 1]), st.ones([3, 3, 1, 1]), { strides: 2, padding: 'same' }).shape, [1, 4, 4, 1]);
    assert.deepEqual(st.conv2d(st.ones([1, 7, 7, 1]), st.ones([3, 3, 1, 1]), { dilations: 3 }).shape, [1, 1, 1, 1]);
    assert.equal(st.conv2d(st.ones([1, 7, 7, 1]), st.ones([3, 3, 1, 1]), { dilations: 3 }).item(), 9);
  });

  it('conv2dGradInput and conv2dGradFilter match the reference', () => {
    const rng = new Rng(200);
    for (const d of ['float32', 'float64'] as DType[]) {
      for (const c of convCases(rng, 30)) {
        const x = R.randomRef(rng, c.x, d);
        const f = R.randomRef(rng, c.f, d);
        const yShape = R.conv2d(x, f, c.opts).shape;
        const dy = R.randomRef(rng, yShape, d);
        const what = `${d} x[${c.x}] f[${c.f}] ${JSON.stringify(c.opts)}`;
        expectTensor(st.conv2dGradInput(toSt(dy), toSt(f), c.x, c.opts), R.conv2dGradInput(dy, f, c.x, c.opts), `conv2dGradInput ${what}`, convTol(d));
        expectTensor(st.conv2dGradFilter(toSt(x), toSt(dy), c.f, c.opts), R.conv2dGradFilter(x, dy, c.f, c.opts), `conv2dGradFilter ${what}`, convTol(d));
      }
    }
  });

  it('adjoint identity in float64: <conv(x,w),dy> = <x,gradInput(dy,w)> = <w,gradFilter(x,dy)>', () => {
    const rng = new Rng(300);
    for (const c of convCases(rng, 30)) {
      const x = toSt(R.randomRef(rng, c.x, 'float64'));
      const w = toSt(R.randomRef(rng, c.f, 'float64'));
      const y = st.conv2d(x, w, c.opts);
      const dy = toSt(R.randomRef(rng, y.shape, 'float64'));
      const lhs = inner(y.dataSync(), dy.dataSync());
      const gi = inner(x.dataSync(), st.conv2dGradInput(dy, w, c.x, c.opts).dataSync());
      const gf = inner(w.dataSync(), st.conv2dGradFilter(x, dy, c.f, c.opts).dataSync());
      const scale = 1 + Math.abs(lhs);
      assert.ok(Math.abs(lhs - gi) < 1e-12 * scale, `gradInput adjoint ${JSON.stringify(c)}: ${lhs} vs ${gi}`);
      assert.ok(Math.abs(lhs - gf) < 1e-12 * scale, `gradFilter adjoint ${JSON.stringify(c)}: ${lhs} vs ${gf}`);
    }
  });

  it('finite differences agree with the gradients (float64)', () => {
    const rng = new Rng(400);
    const c: ConvCase = { x: [1, 4, 5, 2], f: [2, 3, 2, 2], opts: { strides: [1, 2], padding: 'same' } };
    const xr = R.randomRef(rng, c.x, 'float64');
    const wr = R.randomRef(rng, c.f, 'float64');
    const dyr = R.randomRef(rng, R.conv2d(xr, wr, c.opts).shape, 'float64');
    // loss(x, w) = <conv(x, w), dy>
    const loss = (xv: number[], wv: number[]) =>
      inner(st.conv2d(toSt({ ...xr, data: xv }), toSt({ ...wr, data: wv }), c.opts).dataSync(), dyr.data);
    const gx = st.conv2dGradInput(toSt(dyr), toSt(wr), c.x, c.opts).dataSync();
    const gw = st.conv2dGradFilter(toSt(xr), toSt(dyr), c.f, c.opts).dataSync();
    const h = 1e-6;
    for (let i = 0; i < xr.data.length; i += 3) {
      const p = xr.data.slice();
      const m = xr.data.slice();
      p[i] += h;
      m[i] -= h;
      const fd = (loss(p, wr.data) - loss(m, wr.data)) / (2 * h);
      assert.ok(Math.abs(fd - gx[i]) < 1e-6, `d/dx[${i}]: ${fd} vs ${gx[i]}`);
    }
    for (let i = 0; i < wr.data.length; i += 2) {
      const p = wr.data.slice();
      const m = wr.data.slice();
      p[i] += h;
      m[i] -= h;
      const fd = (loss(xr.data, p) - loss(xr.data, m)) / (2 * h);
      assert.ok(Math.abs(fd - gw[i]) < 1e-6, `d/dw[${i}]: ${fd} vs ${gw[i]}`);
    }
  });

  it('larger convolutions (threaded paths) match the reference', () => {
    const rng = new Rng(500);
    const c: ConvCase = { x: [2, 17, 15, 8], f: [3, 3, 8, 16], opts: { padding: 'same' } };
    for (const d of ['float32', 'float64'] as DType[]) {
      const x = R.randomRef(rng, c.x, d, { lo: -1, hi: 1 });
      const f = R.randomRef(rng, c.f, d, { lo: -1, hi: 1 });
      const y = R.conv2d(x, f, c.opts);
      expectTensor(st.conv2d(toSt(x), toSt(f), c.opts), y, `conv2d large ${d}`, convTol(d));
      const dy = R.randomRef(rng, y.shape, d, { lo: -1, hi: 1 });
      expectTensor(st.conv2dGradInput(toSt(dy), toSt(f), c.x, c.opts), R.conv2dGradInput(dy, f, c.x, c.opts), `gradInput large ${d}`, { rtol: 1e-5, atol: d === 'float32' ? 1e-4 : 1e-12 });
      expectTensor(st.conv2dGradFilter(toSt(x), toSt(dy), c.f, c.opts), R.conv2dGradFilter(x, dy, c.f, c.opts), `gradFilter large ${d}`, { rtol: 1e-5, atol: d === 'float32' ? 2e-4 : 1e-11 });
    }
  });

  it('explicit padding as large as the window gives the zero-padded result (windows wholly in the padding are 0)', () => {
    // padding is documented as any non-negative number of pixels, so nothing here may be rejected
    const rng = new Rng(900);
    const cases: ConvCase[] = [
      { x: [1, 4, 4, 1], f: [1, 1, 1, 1], opts: { padding: 1 } },
      { x: [1, 5, 5, 2], f: [2, 2, 2, 1], opts: { padding: 2, strides: 2 } },
      { x: [2, 3, 4, 2], f: [2, 3, 2, 3], opts: { padding: 3 } },
    ];
    for (const c of cases) {
      const x = R.randomRef(rng, c.x, 'float64');
      const f = R.randomRef(rng, c.f, 'float64');
      const what = `conv2d ${JSON.stringify(c)}`;
      const expected = R.conv2d(x, f, c.opts);
      expectTensor(st.conv2d(toSt(x), toSt(f), c.opts), expected, what);
      // the border of a 1x1 convolution padded by 1 reads only padding: exactly zero
      if (c.f[0] === 1) {
        const got = st.conv2d(toSt(x), toSt(f), c.opts).arraySync() as number[][][][];
        assert.deepEqual(got[0][0].map((px) => px[0]), new Array(expected.shape[2]).fill(0), `${what}: top row`);
      }
    }
  });

  it('int inputs are cast to float32; mixed float dtypes and bad shapes are rejected', () => {
    const xi = st.tensor([1, 2, 3, 4], { shape: [1, 2, 2, 1], dtype: 'int32' });
    const wi = st.ones([1, 1, 1, 1], 'int32');
    const y = st.conv2d(xi, wi);
    assert.equal(y.dtype, 'float32');
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
    expectError(() => st.conv2d(st.ones([1, 2, 2, 1], 'float64'), st.ones([1, 1, 1, 1])), 'ERR_ST_DTYPE', ['conv2d', 'float64', 'float32']);
    expectError(() => st.conv2d(st.ones([1, 2, 2, 2]), st.ones([1, 1, 3, 1])), 'ERR_ST_SHAPE', ['conv2d', '[1,2,2,2]', '[1,1,3,1]']);
    expectError(() => st.conv2d(st.ones([2, 2, 1]), st.ones([1, 1, 1, 1])), 'ERR_ST_SHAPE', ['conv2d', '4-D', '[2,2,1]']);
    expectError(() => st.conv2d(st.ones([1, 2, 2, 1]), st.ones([3, 3, 1, 1])), 'ERR_ST_SHAPE', ['conv2d', 'does not fit']);
    expectError(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([3, 3, 1, 1]), { padding: 'full' as st.Padding }), 'ERR_ST_ARG', ['conv2d', 'padding', 'full']);
    expectError(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([3, 3, 1, 1]), { padding: -1 }), 'ERR_ST_ARG', ['conv2d', 'padding']);
    expectError(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([3, 3, 1, 1]), { strides: 0 }), 'ERR_ST_ARG', ['conv2d', 'strides']);
    expectError(() => st.conv2dGradInput(st.ones([1, 2, 2, 1]), st.ones([2, 2, 1, 1]), [1, 4, 4, 1]), 'ERR_ST_SHAPE', ['conv2dGradInput', '[1,2,2,1]', '[1,3,3,1]']);
    expectError(() => st.conv2dGradFilter(st.ones([1, 4, 4, 1]), st.ones([1, 2, 2, 1]), [2, 2, 1, 1]), 'ERR_ST_SHAPE', ['conv2dGradFilter', '[1,2,2,1]']);
  });
});

interface PoolCase {
  x: number[];
  opts: st.Pool2dOptions;
}

function poolCases(rng: Rng, count: number): PoolCase[] {
  const out: PoolCase[] = [
    { x: [1, 4, 4, 1], opts: {} },
    { x: [2, 5, 5, 3], opts: { poolSize: 3, strides: 2, padding: 'same' } },
    { x: [1, 5, 7, 2], opts: { poolSize: [2, 3], strides: [1, 2], padding: 'valid' } },
    { x: [1, 4, 4, 1], opts: { poolSize: 3, strides: 1, padding: 1 } },
    { x: [1, 1, 1, 2], opts: { poolSize: 2, padding: 'same' } },
    { x: [0, 4, 4, 1], opts: {} },
  ];
  while (out.length < count) {
    const h = rng.int(1, 8);
    const w = rng.int(1, 8);
    const k: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const padding = rng.pick(['same', 'valid', 0, 1] as st.Padding[]);
    const p = typeof padding === 'number' ? padding : 0;
    // numeric padding must leave at least one in-bounds cell in every window
    if (p >= Math.min(k[0], k[1])) continue;
    if (padding !== 'same' && (h + 2 * p < k[0] || w + 2 * p < k[1])) continue;
    out.push({ x: [rng.int(1, 2), h, w, rng.int(1, 3)], opts: { poolSize: k, strides: rng.bool() ? undefined : [rng.int(1, 3), rng.int(1, 3)], padding } });
  }
  return out;
}

/** Inputs with distinct values in each window (so the max is unique) unless ties are wanted. */
function poolInput(rng: Rng, shape: number[], d: DType, ties: boolean): Ref {
  const x = R.randomRef(rng, shape, d, { ilo: -2, ihi: 2 });
  if (ties) x.data = x.data.map(() => rng.int(-1, 1));
  return x;
}

describe('pooling and its gradients', () => {
  it('maxPool2d / avgPool2d match the reference (padding cells are not counted)', () => {
    const rng = new Rng(600);
    for (const d of ['float32', 'float64', 'int32'] as DType[]) {
      for (const c of poolCases(rng, 40)) {
        const x = poolInput(rng, c.x, d, false);
        const what = `${d} x[${c.x}] ${JSON.stringify(c.opts)}`;
        expectTensor(st.maxPool2d(toSt(x), c.opts), R.maxPool2d(x, c.opts), `maxPool2d ${what}`);
        expectTensor(st.avgPool2d(toSt(x), c.opts), R.avgPool2d(x, c.opts), `avgPool2d ${what}`);
      }
    }
  });

  it('known values', () => {
    const x = st.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 3, 3, 1] });
    assert.deepEqual(st.maxPool2d(x).arraySync(), [[[[5]]]]);
    assert.deepEqual(st.avgPool2d(x, { padding: 'same' }).arraySync(), [[[[3], [4.5]], [[7.5], [9]]]]);
    assert.deepEqual(st.maxPool2d(x, { poolSize: 2, strides: 1 }).arraySync(), [[[[5], [6]], [[8], [9]]]]);
    assert.deepEqual(st.avgPool2d(x, { poolSize: 3, strides: 1, padding: 1 }).arraySync(), [[[[3], [3.5], [4]], [[4.5], [5], [5.5]], [[6], [6.5], [7]]]]);
  });

  it('maxPool2dGrad sends dy to the first maximum of each window; avgPool2dGrad spreads it', () => {
    const rng = new Rng(700);
    for (const d of ['float32', 'float64'] as DType[]) {
      for (const c of poolCases(rng, 40)) {
        for (const ties of [false, true]) {
          const x = poolInput(rng, c.x, d, ties);
          const y = R.maxPool2d(x, c.opts);
          const dy = R.randomRef(rng, y.shape, d);
          const what = `${d} x[${c.x}] ${JSON.stringify(c.opts)}${ties ? ' with ties' : ''}`;
          expectTensor(st.maxPool2dGrad(toSt(x), toSt(dy), c.opts), R.maxPool2dGrad(x, dy, c.opts), `maxPool2dGrad ${what}`);
          expectTensor(st.avgPool2dGrad(toSt(dy), c.x, c.opts), R.avgPool2dGrad(dy, c.x, c.opts), `avgPool2dGrad ${what}`);
        }
      }
    }
    // ties: all of dy goes to the first cell (row-major) of each window
    const g = st.maxPool2dGrad(st.zeros([1, 2, 2, 1]), st.tensor([5], { shape: [1, 1, 1, 1] }));
    assert.deepEqual(Array.from(g.dataSync()), [5, 0, 0, 0]);
  });

  it('avgPool2dGrad is the adjoint of avgPool2d; maxPool2dGrad matches finite differences (float64)', () => {
    const rng = new Rng(800);
    for (const c of poolCases(rng, 25)) {
      const x = toSt(R.randomRef(rng, c.x, 'float64'));
      const y = st.avgPool2d(x, c.opts);
      const dy = toSt(R.randomRef(rng, y.shape, 'float64'));
      const lhs = inner(y.dataSync(), dy.dataSync());
      const rhs = inner(x.dataSync(), st.avgPool2dGrad(dy, c.x, c.opts).dataSync());
      assert.ok(Math.abs(lhs - rhs) < 1e-12 * (1 + Math.abs(lhs)), `avg adjoint ${JSON.stringify(c)}: ${lhs} vs ${rhs}`);
    }
    for (const c of poolCases(rng, 10).slice(0, 8)) {
      if (R.sizeOf(c.x) === 0) continue;
      // well separated values: the argmax of each window does not move under a small nudge
      const n = R.sizeOf(c.x);
      const perm = [...Array(n).keys()];
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const xr = R.make(c.x, 'float64', perm.map((v) => v / 10 - 3));
      const dyr = R.randomRef(rng, R.maxPool2d(xr, c.opts).shape, 'float64');
      const loss = (xv: number[]) => inner(st.maxPool2d(toSt({ ...xr, data: xv }), c.opts).dataSync(), dyr.data);
      const g = st.maxPool2dGrad(toSt(xr), toSt(dyr), c.opts).dataSync();
      const h = 1e-4;
      for (let i = 0; i < xr.data.length; i++) {
        const p = xr.data.slice();
        const m = xr.data.slice();
        p[i] += h;
        m[i] -= h;
        const fd = (loss(p) - loss(m)) / (2 * h);
        assert.ok(Math.abs(fd - g[i]) < 1e-8, `maxPool d/dx[${i}] ${JSON.stringify(c)}: ${fd} vs ${g[i]}`);
      }
    }
  });

  it('pool errors name the op and shapes', () => {
    expectError(() => st.maxPool2d(st.ones([4, 4, 1])), 'ERR_ST_SHAPE', ['maxPool2d', '4-D', '[4,4,1]']);
    expectError(() => st.avgPool2d(st.ones([1, 4, 4, 1]), { poolSize: 0 }), 'ERR_ST_ARG', ['avgPool2d', 'poolSize']);
    expectError(() => st.maxPool2d(st.ones([1, 1, 1, 1]), { poolSize: 2 }), 'ERR_ST_SHAPE', ['maxPool2d', 'does not fit']);
    expectError(() => st.maxPool2dGrad(st.ones([1, 4, 4, 1]), st.ones([1, 3, 3, 1])), 'ERR_ST_SHAPE', ['maxPool2dGrad', '[1,3,3,1]']);
    expectError(() => st.avgPool2dGrad(st.ones([1, 3, 3, 1]), [1, 4, 4, 1]), 'ERR_ST_SHAPE', ['avgPool2dGrad', '[1,3,3,1]', '[1,4,4,1]']);
    expectError(() => st.maxPool2dGrad(st.ones([1, 4, 4, 1], 'float64'), st.ones([1, 2, 2, 1])), 'ERR_ST_DTYPE', ['maxPool2dGrad']);
  });
});
