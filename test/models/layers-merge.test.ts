// Merge layers: values against loops (with Keras's broadcasting over size-1 axes and lower-rank
// inputs), gradients against float64 finite differences, shape errors that name the layer and
// every shape, and configs.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { KerasTensor, Layer } from '../../lib/models/layer';
import { input } from '../../lib/models/functional';
import { Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract } from '../../lib/models/layers/merge';
import { catchError } from '../support/check';
import { assertClose, checkGrad, distinct, f64, makeTensor, uniform } from '../support/fd';
import { Rng } from '../support/reference';

const { T } = st;

/** Compiles the layer on placeholders of `shapes` (batch unknown) and runs it on `values`. */
function runMerge(layer: Layer, shapes: number[][], values: number[][]): st.Tensor {
  const xs = shapes.map((s, i) => T.tensor('float64', [null, ...s.slice(1)], `x${i}`));
  const y = layer.apply(xs) as st.Variable;
  const f = st.fn(xs, y);
  const out = f.sync(...values.map((v, i) => makeTensor(v, shapes[i])));
  f.dispose();
  return out;
}

describe('models/layers/merge', () => {
  const rng = new Rng(31);
  const shape = [2, 3, 4];
  const n = 24;
  const a = uniform(rng, n), b = uniform(rng, n), c = uniform(rng, n);

  const cases: [string, () => Layer, (...v: number[]) => number, number][] = [
    ['Add', () => new Add(), (p, q, r) => p + q + r, 3],
    ['Subtract', () => new Subtract(), (p, q) => p - q, 2],
    ['Multiply', () => new Multiply(), (p, q, r) => p * q * r, 3],
    ['Average', () => new Average(), (p, q, r) => (p + q + r) / 3, 3],
    ['Maximum', () => new Maximum(), (p, q, r) => Math.max(p, q, r), 3],
    ['Minimum', () => new Minimum(), (p, q, r) => Math.min(p, q, r), 3],
  ];
  for (const [name, make, ref, k] of cases) {
    it(`${name} combines ${k} inputs elementwise (values against loops)`, () => {
      const vals = [a, b, c].slice(0, k);
      const out = runMerge(make(), vals.map(() => shape), vals);
      assert.deepEqual(out.shape, shape);
      assertClose(f64(out), a.map((_, i) => ref(...vals.map((v) => v[i]))), name, 1e-14, 1e-15);
    });
  }

  it('broadcasts over size-1 axes and widens a lower-rank input after its batch axis, as Keras does', () => {
    const layer = new Add();
    assert.deepEqual(layer.computeOutputShape([[null, 3, 4], [null, 1, 4]]), [null, 3, 4]);
    // [2, 4] + [2, 3, 4]: the first input is read as [2, 1, 4]
    const low = uniform(rng, 8);
    const out = runMerge(new Add(), [[2, 4], shape], [low, a]);
    assert.deepEqual(out.shape, shape);
    const expected: number[] = [];
    for (let bi = 0; bi < 2; bi++) for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expected.push(low[bi * 4 + j] + a[(bi * 3 + i) * 4 + j]);
    assertClose(f64(out), expected, 'widened add', 1e-14, 1e-15);
  });

  it('rejects incompatible shapes at build time, naming the layer and every shape', () => {
    const e1 = catchError(() => new Add({ name: 'add_bad' }).apply([T.tensor('float32', [null, 3]), T.tensor('float32', [null, 4]), T.tensor('float32', [null, 3])]));
    assert.equal(e1.code, 'ERR_ST_SHAPE');
    assert.match(e1.message, /add_bad/);
    assert.match(e1.message, /\[\?,3\], \[\?,4\], \[\?,3\]/);
    const e2 = catchError(() => new Multiply({ name: 'mul_batch' }).apply([T.tensor('float32', [2, 3]), T.tensor('float32', [5, 3])]));
    assert.equal(e2.code, 'ERR_ST_SHAPE');
    assert.match(e2.message, /mul_batch.*\[2,3\], \[5,3\]/);
    // through the functional API the error comes from build(), before any graph exists
    const e3 = catchError(() => new Maximum({ name: 'max_kt' }).apply([input({ shape: [3, 2] }), input({ shape: [3, 5] })]));
    assert.equal(e3.code, 'ERR_ST_SHAPE');
    assert.match(e3.message, /max_kt.*\[\?,3,2\], \[\?,3,5\]/);
  });

  it('Subtract takes exactly two inputs; merges need a list', () => {
    const e1 = catchError(() => new Subtract({ name: 'sub3' }).apply([T.matrix(), T.matrix(), T.matrix()]));
    assert.equal(e1.code, 'ERR_ST_ARG');
    assert.match(e1.message, /sub3.*exactly 2 inputs, got 3/);
    const e2 = catchError(() => new Add({ name: 'add_one' }).apply(T.matrix()));
    assert.equal(e2.code, 'ERR_ST_ARG');
    assert.match(e2.message, /add_one.*list/);
  });

  it('has gradients that match finite differences (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate)', () => {
    const r = new Rng(32);
    const inputs = (k: number, s = [2, 3]) => Array.from({ length: k }, () => ({ shape: s, value: uniform(r, 6, -1.5, 1.5) }));
    checkGrad('add', inputs(3), (...xs) => new Add().apply(xs) as st.Variable);
    checkGrad('subtract', inputs(2), (...xs) => new Subtract().apply(xs) as st.Variable);
    checkGrad('multiply', inputs(3), (...xs) => new Multiply().apply(xs) as st.Variable);
    checkGrad('average', inputs(3), (...xs) => new Average().apply(xs) as st.Variable);
    // distinct values so that no max/min is tied
    const spread = distinct(r, 18, 0.2);
    const tri = [0, 1, 2].map((i) => ({ shape: [2, 3], value: spread.slice(i * 6, i * 6 + 6) }));
    checkGrad('maximum', tri, (...xs) => new Maximum().apply(xs) as st.Variable);
    checkGrad('minimum', tri, (...xs) => new Minimum().apply(xs) as st.Variable);
    checkGrad('add broadcast', [{ shape: [2, 3], value: uniform(r, 6) }, { shape: [2, 1], value: uniform(r, 2) }], (...xs) => new Add().apply(xs) as st.Variable);
    checkGrad('concatenate', [{ shape: [2, 3], value: uniform(r, 6) }, { shape: [2, 2], value: uniform(r, 4) }], (...xs) => T.tanh(new Concatenate().apply(xs) as st.Variable));
  });

  describe('Concatenate', () => {
    it('joins along the last axis by default (values against loops)', () => {
      const layer = new Concatenate();
      assert.deepEqual(layer.computeOutputShape([[null, 3], [null, 5]]), [null, 8]);
      const p = uniform(rng, 6), q = uniform(rng, 10);
      const out = runMerge(new Concatenate(), [[2, 3], [2, 5]], [p, q]);
      const expected: number[] = [];
      for (let i = 0; i < 2; i++) expected.push(...p.slice(i * 3, i * 3 + 3), ...q.slice(i * 5, i * 5 + 5));
      assertClose(f64(out), expected, 'concat -1', 0, 0);
    });

    it('joins along a middle axis', () => {
      const p = uniform(rng, 2 * 1 * 4), q = uniform(rng, 2 * 2 * 4);
      const out = runMerge(new Concatenate({ axis: 1 }), [[2, 1, 4], [2, 2, 4]], [p, q]);
      assert.deepEqual(out.shape, [2, 3, 4]);
      const expected: number[] = [];
      for (let i = 0; i < 2; i++) expected.push(...p.slice(i * 4, i * 4 + 4), ...q.slice(i * 8, i * 8 + 8));
      assertClose(f64(out), expected, 'concat 1', 0, 0);
    });

    it('works on KerasTensors (the functional API)', () => {
      const out = new Concatenate({ axis: -1 }).apply([input({ shape: [4, 3] }), input({ shape: [4, 2] })]) as KerasTensor;
      assert.deepEqual(out.shape, [null, 4, 5]);
    });

    it('rejects inputs whose other axes differ, or an axis out of range, naming the layer and shapes', () => {
      const e1 = catchError(() => new Concatenate({ name: 'cat_bad' }).apply([T.tensor('float32', [null, 3, 4]), T.tensor('float32', [null, 2, 5])]));
      assert.equal(e1.code, 'ERR_ST_SHAPE');
      assert.match(e1.message, /cat_bad.*\[\?,3,4\], \[\?,2,5\]/);
      const e2 = catchError(() => new Concatenate({ axis: 2, name: 'cat_axis' }).apply([T.tensor('float32', [null, 3]), T.tensor('float32', [null, 3])]));
      assert.equal(e2.code, 'ERR_ST_SHAPE');
      assert.match(e2.message, /cat_axis.*axis 2 is out of range/);
      const e3 = catchError(() => new Concatenate({ name: 'cat_rank' }).apply([T.tensor('float32', [null, 3]), T.tensor('float32', [null, 3, 1])]));
      assert.equal(e3.code, 'ERR_ST_SHAPE');
      assert.match(e3.message, /cat_rank.*same rank/);
    });

    it('round-trips its config', () => {
      const layer = new Concatenate({ axis: 1, name: 'cat_cfg' });
      const copy = new Concatenate(JSON.parse(JSON.stringify(layer.getConfig())));
      assert.deepEqual(copy.getConfig(), layer.getConfig());
      assert.deepEqual(copy.computeOutputShape([[null, 2, 3], [null, 4, 3]]), [null, 6, 3]);
      const add = new Add({ name: 'add_cfg' });
      assert.deepEqual(new Add(add.getConfig()).getConfig(), add.getConfig());
    });
  });
});
