// The pooling layers and the spatial reshaping layers (ZeroPadding2D, UpSampling2D): output
// shapes from Keras's formulas, forward values against plain loops written here, float64
// finite-difference gradients, build-time errors and getConfig round trips.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Layer } from '../../lib/models/layer';
import {
  AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D,
  MaxPooling2D,
} from '../../lib/models/layers/pooling';
import { UpSampling2D, ZeroPadding2D } from '../../lib/models/layers/reshaping';
import { assertClose, checkGrad, distinct } from '../support/fd';
import { expectError } from '../support/check';
import { randoms, runLayer, size } from '../support/models';
import { Rng } from '../support/reference';

const { T } = st;

type Dims = number[];

/** Output size and leading pad of one axis of a pooling window (TensorFlow's rules, as Keras uses them). */
function axisGeometry(n: number, k: number, s: number, padding: string): { out: number; pad: number } {
  if (padding === 'valid') return { out: Math.floor((n - k) / s) + 1, pad: 0 };
  const out = Math.ceil(n / s);
  return { out, pad: Math.floor(Math.max((out - 1) * s + k - n, 0) / 2) };
}

/** Max or mean over the in-bounds cells of each window (padding never counts). */
function pool2dRef(x: Float64Array, xs: Dims, max: boolean, k: Dims, s: Dims, padding: string): { y: Float64Array; shape: Dims } {
  const [n, h, w, c] = xs;
  const gh = axisGeometry(h, k[0], s[0], padding), gw = axisGeometry(w, k[1], s[1], padding);
  const shape = [n, gh.out, gw.out, c];
  const y = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let i = 0; i < gh.out; i++)
      for (let j = 0; j < gw.out; j++)
        for (let ch = 0; ch < c; ch++) {
          let acc = max ? -Infinity : 0, count = 0;
          for (let a = 0; a < k[0]; a++)
            for (let e = 0; e < k[1]; e++) {
              const r = i * s[0] + a - gh.pad, q = j * s[1] + e - gw.pad;
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              const v = x[((b * h + r) * w + q) * c + ch];
              acc = max ? Math.max(acc, v) : acc + v;
              count++;
            }
          y[((b * gh.out + i) * gw.out + j) * c + ch] = max ? acc : acc / count;
        }
  return { y, shape };
}

const outShape = (layer: Layer, shape: (number | null)[]) => (layer.apply(T.tensor('float32', shape)) as st.Variable).type.shape.slice();

describe('models/layers/pooling: windowed pooling', () => {
  it('output shapes: default 2 with strides = poolSize, explicit strides, same padding, no weights', () => {
    const m = new MaxPooling2D();
    assert.deepEqual(outShape(m, [null, 26, 26, 32]), [null, 13, 13, 32]);
    assert.equal(m.countParams(), 0);
    assert.deepEqual(outShape(new MaxPooling2D({ poolSize: 3, strides: 2 }), [null, 9, 10, 4]), [null, 4, 4, 4]);
    assert.deepEqual(outShape(new AveragePooling2D({ poolSize: [2, 3], padding: 'same' }), [null, 7, 7, 2]), [null, 4, 3, 2]);
    assert.deepEqual(outShape(new MaxPooling1D(), [null, 11, 4]), [null, 5, 4]);
    assert.deepEqual(outShape(new AveragePooling1D({ poolSize: 3, strides: 1, padding: 'same' }), [null, 11, 4]), [null, 11, 4]);
    assert.deepEqual(outShape(new MaxPooling1D({ poolSize: 4, strides: 3 }), [null, 11, 4]), [null, 3, 4]);
  });

  it('2-D forward values against loops (valid and same; averages skip padded cells)', () => {
    const rng = new Rng(41);
    const xs = [2, 5, 7, 3];
    const x = Float64Array.from(randoms(rng, size(xs)));
    for (const [Cls, max] of [[MaxPooling2D, true], [AveragePooling2D, false]] as const) {
      for (const [k, s, padding] of [[[2, 2], [2, 2], 'valid'], [[3, 2], [2, 3], 'same'], [[3, 3], [1, 1], 'same'], [[2, 3], [1, 2], 'valid']] as const) {
        const l = new Cls({ poolSize: k.slice(), strides: s.slice(), padding, dtype: 'float64' });
        const ref = pool2dRef(x, xs, max, k.slice(), s.slice(), padding);
        const got = runLayer(l, x, xs);
        assert.deepEqual(got.shape, ref.shape);
        assert.deepEqual(got.static, [null, ...ref.shape.slice(1)]);
        assertClose(got.y, ref.y, `${Cls.name} ${k} ${s} ${padding}`, 1e-12, 1e-12);
      }
    }
  });

  it('1-D forward values against loops', () => {
    const rng = new Rng(42);
    const xs = [2, 9, 3];
    const x = Float64Array.from(randoms(rng, size(xs)));
    for (const [Cls, max] of [[MaxPooling1D, true], [AveragePooling1D, false]] as const) {
      for (const [k, s, padding] of [[2, 2, 'valid'], [3, 2, 'same'], [4, 1, 'valid']] as const) {
        const l = new Cls({ poolSize: k, strides: s, padding, dtype: 'float64' });
        // a sequence is an image of height 1
        const ref = pool2dRef(x, [2, 1, 9, 3], max, [1, k], [1, s], padding);
        const got = runLayer(l, x, xs);
        assert.deepEqual(got.shape, [2, ref.shape[2], 3]);
        assertClose(got.y, ref.y, `${Cls.name} ${k} ${s} ${padding}`, 1e-12, 1e-12);
      }
    }
  });

  it('gradients against finite differences (distinct values for the max)', () => {
    const rng = new Rng(43);
    const cases: [string, Layer, Dims][] = [
      ['maxPooling2d same', new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same', dtype: 'float64' }), [2, 5, 4, 2]],
      ['averagePooling2d same', new AveragePooling2D({ poolSize: [2, 3], strides: [1, 2], padding: 'same', dtype: 'float64' }), [2, 4, 5, 2]],
      ['maxPooling1d', new MaxPooling1D({ poolSize: 3, strides: 2, dtype: 'float64' }), [2, 7, 2]],
      ['averagePooling1d', new AveragePooling1D({ poolSize: 2, dtype: 'float64' }), [2, 6, 3]],
    ];
    for (const [label, layer, xs] of cases)
      checkGrad(label, [{ shape: xs, value: distinct(rng, size(xs), 0.05) }], (x) => layer.apply(x) as st.Variable);
  });

  it('errors: wrong rank and too-small inputs name the layer; bad options', () => {
    expectError(() => new MaxPooling2D({ name: 'mp' }).apply(T.tensor('float32', [null, 8, 3])), 'ERR_ST_SHAPE', ['mp', 'rank 4', '[?,8,3]']);
    expectError(() => new AveragePooling1D({ name: 'ap1' }).apply(T.tensor('float32', [null, 8, 8, 3])), 'ERR_ST_SHAPE', ['ap1', 'rank 3', '[?,8,8,3]']);
    expectError(() => new MaxPooling2D({ poolSize: 3, name: 'mp_small' }).apply(T.tensor('float32', [null, 2, 8, 3])), 'ERR_ST_SHAPE', ['mp_small', 'too small', '[?,2,8,3]']);
    expectError(() => new MaxPooling2D({ poolSize: 0, name: 'mp_opt' }), 'ERR_ST_ARG', ['mp_opt', 'poolSize']);
    expectError(() => new MaxPooling2D({ padding: 'causal' as 'same', name: 'mp_pad' }), 'ERR_ST_ARG', ['mp_pad', "'valid', 'same'"]);
    expectError(() => new AveragePooling2D({ dataFormat: 'channels_first' as 'channels_last', name: 'ap_df' }), 'ERR_ST_ARG', ['ap_df', 'channels_first']);
  });
});

describe('models/layers/pooling: global pooling', () => {
  it('shapes with and without keepdims', () => {
    assert.deepEqual(outShape(new GlobalAveragePooling2D(), [null, 7, 7, 512]), [null, 512]);
    assert.deepEqual(outShape(new GlobalMaxPooling2D({ keepdims: true }), [null, 7, 5, 8]), [null, 1, 1, 8]);
    assert.deepEqual(outShape(new GlobalAveragePooling1D({ keepdims: true }), [null, 10, 4]), [null, 1, 4]);
    assert.deepEqual(outShape(new GlobalMaxPooling1D(), [null, null, 4]), [null, 4]);
  });

  it('values against loops', () => {
    const rng = new Rng(44);
    const xs = [2, 3, 4, 5];
    const x = Float64Array.from(randoms(rng, size(xs)));
    const mean = new Float64Array(10), max = new Float64Array(10).fill(-Infinity);
    for (let b = 0; b < 2; b++)
      for (let p = 0; p < 12; p++)
        for (let c = 0; c < 5; c++) {
          const v = x[(b * 12 + p) * 5 + c];
          mean[b * 5 + c] += v / 12;
          max[b * 5 + c] = Math.max(max[b * 5 + c], v);
        }
    assertClose(runLayer(new GlobalAveragePooling2D({ dtype: 'float64' }), x, xs).y, mean, 'globalAveragePooling2d', 1e-12, 1e-12);
    const kept = runLayer(new GlobalMaxPooling2D({ keepdims: true, dtype: 'float64' }), x, xs);
    assert.deepEqual(kept.shape, [2, 1, 1, 5]);
    assertClose(kept.y, max, 'globalMaxPooling2d', 0, 0);
    // the same values as a sequence of 12 steps
    assertClose(runLayer(new GlobalAveragePooling1D({ dtype: 'float64' }), x, [2, 12, 5]).y, mean, 'globalAveragePooling1d', 1e-12, 1e-12);
    assertClose(runLayer(new GlobalMaxPooling1D({ dtype: 'float64' }), x, [2, 12, 5]).y, max, 'globalMaxPooling1d', 0, 0);
  });

  it('gradients against finite differences', () => {
    const rng = new Rng(45);
    for (const [label, layer, xs] of [
      ['globalAveragePooling2d', new GlobalAveragePooling2D({ dtype: 'float64' }), [2, 3, 2, 3]],
      ['globalMaxPooling2d', new GlobalMaxPooling2D({ keepdims: true, dtype: 'float64' }), [2, 3, 2, 3]],
      ['globalAveragePooling1d', new GlobalAveragePooling1D({ dtype: 'float64' }), [2, 4, 3]],
      ['globalMaxPooling1d', new GlobalMaxPooling1D({ dtype: 'float64' }), [2, 4, 3]],
    ] as [string, Layer, Dims][])
      checkGrad(label, [{ shape: xs, value: distinct(rng, size(xs), 0.05) }], (x) => layer.apply(x) as st.Variable);
  });

  it('errors: wrong rank names the layer; keepdims must be a boolean', () => {
    expectError(() => new GlobalAveragePooling2D({ name: 'gap' }).apply(T.tensor('float32', [null, 4])), 'ERR_ST_SHAPE', ['gap', 'rank 4', '[?,4]']);
    expectError(() => new GlobalMaxPooling1D({ name: 'gmp' }).apply(T.tensor('float32', [null, 4, 4, 4])), 'ERR_ST_SHAPE', ['gmp', 'rank 3', '[?,4,4,4]']);
    expectError(() => new GlobalMaxPooling1D({ keepdims: 1 as unknown as boolean, name: 'gmp_k' }), 'ERR_ST_ARG', ['gmp_k', 'keepdims']);
  });
});

describe('models/layers/reshaping: ZeroPadding2D and UpSampling2D', () => {
  it('ZeroPadding2D: number, [rows, cols] and [[top, bottom], [left, right]]', () => {
    assert.deepEqual(outShape(new ZeroPadding2D(), [null, 4, 4, 3]), [null, 6, 6, 3]);
    assert.deepEqual(outShape(new ZeroPadding2D({ padding: [2, 1] }), [null, 4, 4, 3]), [null, 8, 6, 3]);
    assert.deepEqual(outShape(new ZeroPadding2D({ padding: [[1, 2], [0, 3]] }), [null, 4, 4, 3]), [null, 7, 7, 3]);
    const rng = new Rng(46);
    const xs = [2, 2, 3, 2];
    const x = randoms(rng, size(xs));
    const got = runLayer(new ZeroPadding2D({ padding: [[1, 2], [0, 1]], dtype: 'float64' }), x, xs);
    assert.deepEqual(got.shape, [2, 5, 4, 2]);
    const ref = new Float64Array(2 * 5 * 4 * 2);
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 3; j++) for (let c = 0; c < 2; c++) ref[((b * 5 + i + 1) * 4 + j) * 2 + c] = x[((b * 2 + i) * 3 + j) * 2 + c];
    assertClose(got.y, ref, 'zeroPadding2d', 0, 0);
    checkGrad('zeroPadding2d', [{ shape: xs, value: x }], (v) => new ZeroPadding2D({ padding: [1, 2], dtype: 'float64' }).apply(v) as st.Variable);
  });

  it('UpSampling2D: nearest repeats rows and columns', () => {
    assert.deepEqual(outShape(new UpSampling2D(), [null, 7, 7, 16]), [null, 14, 14, 16]);
    assert.deepEqual(outShape(new UpSampling2D({ size: [2, 3] }), [null, 4, 5, 1]), [null, 8, 15, 1]);
    assert.deepEqual(outShape(new UpSampling2D({ size: 2 }), [4, null, 5, 1]), [4, null, 10, 1]);
    const rng = new Rng(47);
    const xs = [2, 2, 3, 2];
    const x = randoms(rng, size(xs));
    const got = runLayer(new UpSampling2D({ size: [3, 2], dtype: 'float64' }), x, xs);
    assert.deepEqual(got.shape, [2, 6, 6, 2]);
    const ref = new Float64Array(2 * 6 * 6 * 2);
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++)
          for (let c = 0; c < 2; c++) ref[((b * 6 + i) * 6 + j) * 2 + c] = x[((b * 2 + Math.floor(i / 3)) * 3 + Math.floor(j / 2)) * 2 + c];
    assertClose(got.y, ref, 'upSampling2d', 0, 0);
    checkGrad('upSampling2d', [{ shape: xs, value: x }], (v) => new UpSampling2D({ size: [2, 3], dtype: 'float64' }).apply(v) as st.Variable);
  });

  it('UpSampling2D: bilinear matches the half-pixel formula (known answer [0, 1] -> [0, .25, .75, 1])', () => {
    const one = runLayer(new UpSampling2D({ size: [1, 2], interpolation: 'bilinear', dtype: 'float64' }), [0, 1], [1, 1, 2, 1]);
    assertClose(one.y, [0, 0.25, 0.75, 1], 'bilinear [0, 1]', 1e-15, 1e-15);
    // TensorFlow's resize_bilinear with half-pixel centres: in = (o + ½)/s − ½, lerp between the
    // clamped floor and ceil
    const lerp1d = (v: number[], s: number) =>
      Array.from({ length: v.length * s }, (_, o) => {
        const inF = (o + 0.5) / s - 0.5;
        const lo = Math.max(Math.floor(inF), 0);
        const hi = Math.min(Math.ceil(inF), v.length - 1);
        return v[lo] + (v[hi] - v[lo]) * (inF - Math.floor(inF));
      });
    const rng = new Rng(48);
    const xs = [2, 3, 4, 2];
    const x = randoms(rng, size(xs));
    const got = runLayer(new UpSampling2D({ size: [2, 3], interpolation: 'bilinear', dtype: 'float64' }), x, xs);
    assert.deepEqual(got.shape, [2, 6, 12, 2]);
    const ref = new Float64Array(2 * 6 * 12 * 2);
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 2; c++) {
        const rows = Array.from({ length: 3 }, (_, i) => lerp1d(Array.from({ length: 4 }, (_, j) => x[((b * 3 + i) * 4 + j) * 2 + c]), 3));
        for (let j = 0; j < 12; j++) {
          const col = lerp1d(rows.map((r) => r[j]), 2);
          for (let i = 0; i < 6; i++) ref[((b * 6 + i) * 12 + j) * 2 + c] = col[i];
        }
      }
    assertClose(got.y, ref, 'bilinear', 1e-12, 1e-12);
    checkGrad('upSampling2d bilinear', [{ shape: xs, value: x }], (v) => new UpSampling2D({ size: 2, interpolation: 'bilinear', dtype: 'float64' }).apply(v) as st.Variable);
  });

  it('UpSampling2D: bicubic (Keys, a = -0.5) and lanczos3 weight the taps inside the image, renormalized', () => {
    const keys = (t: number) => {
      const a = Math.abs(t);
      return a <= 1 ? 1.5 * a ** 3 - 2.5 * a ** 2 + 1 : a < 2 ? -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2 : 0;
    };
    const lanczos3 = (t: number) => (t === 0 ? 1 : Math.abs(t) < 3 ? (3 * Math.sin(Math.PI * t) * Math.sin((Math.PI * t) / 3)) / (Math.PI * t) ** 2 : 0);
    // one axis by a factor s: output o sits at input coordinate (o + ½)/s − ½; tap i has weight k(i − that)
    const resample1d = (v: number[], s: number, k: (t: number) => number) =>
      Array.from({ length: v.length * s }, (_, o) => {
        const at = (o + 0.5) / s - 0.5;
        let num = 0;
        let den = 0;
        v.forEach((vi, i) => {
          num += k(i - at) * vi;
          den += k(i - at);
        });
        return num / den;
      });
    const v = [1, 4, 2, 8, 5];
    for (const [interp, k] of [['bicubic', keys], ['lanczos3', lanczos3]] as const) {
      const got = runLayer(new UpSampling2D({ size: [1, 3], interpolation: interp, dtype: 'float64' }), v, [1, 1, 5, 1]);
      assert.deepEqual(got.shape, [1, 1, 15, 1]);
      assertClose(got.y, resample1d(v, 3, k), interp, 1e-12, 1e-12);
    }
  });

  it('errors: bad interpolation, bad padding, wrong rank, two unknown spatial sizes', () => {
    expectError(() => new UpSampling2D({ interpolation: 'cubic' as 'nearest', name: 'up_c' }), 'ERR_ST_ARG', ['up_c', 'unknown interpolation', "'nearest'", "'bilinear'"]);
    expectError(() => new UpSampling2D({ interpolation: 'bilinear', name: 'up_h' }).apply(T.tensor('float32', [1, null, 4, 1])), 'ERR_ST_SHAPE', ['up_h', 'height and width known']);
    expectError(() => new ZeroPadding2D({ padding: [1, -1], name: 'zp_n' }), 'ERR_ST_ARG', ['zp_n', 'padding']);
    expectError(() => new ZeroPadding2D({ padding: [1, 2, 3] as unknown as number, name: 'zp_3' }), 'ERR_ST_ARG', ['zp_3', 'padding']);
    expectError(() => new ZeroPadding2D({ name: 'zp_r' }).apply(T.tensor('float32', [null, 4, 4])), 'ERR_ST_SHAPE', ['zp_r', 'rank 4', '[?,4,4]']);
    expectError(() => new UpSampling2D({ name: 'up_r' }).apply(T.tensor('float32', [null, 4, 4, 4, 1])), 'ERR_ST_SHAPE', ['up_r', 'rank 4', '[?,4,4,4,1]']);
    expectError(() => new UpSampling2D({ name: 'up_u' }).apply(T.tensor('float32', [null, null, 4, 1])), 'ERR_ST_SHAPE', ['up_u', 'all but one', '[?,?,4,1]']);
  });
});

describe('models/layers/pooling: getConfig round trips', () => {
  const cases: [new (a: any) => Layer, object, (number | null)[]][] = [
    [MaxPooling2D, { poolSize: [3, 2], strides: [2, 1], padding: 'same' }, [null, 7, 7, 3]],
    [AveragePooling1D, { poolSize: 3, strides: 2 }, [null, 9, 2]],
    [MaxPooling1D, {}, [null, 9, 2]],
    [AveragePooling2D, { padding: 'same' }, [null, 5, 5, 2]],
    [GlobalAveragePooling2D, { keepdims: true }, [null, 5, 5, 2]],
    [GlobalMaxPooling1D, {}, [null, 5, 2]],
    [ZeroPadding2D, { padding: [[1, 0], [2, 3]] }, [null, 5, 5, 2]],
    [UpSampling2D, { size: [2, 3] }, [null, 5, 5, 2]],
  ];
  for (const [Cls, opts, shape] of cases) {
    it(`${Cls.name}: new ${Cls.name}(getConfig()) has the same config and output shape`, () => {
      const a = new Cls(opts);
      const json = JSON.parse(JSON.stringify(a.getConfig()));
      const b = new Cls(json);
      assert.deepEqual(JSON.parse(JSON.stringify(b.getConfig())), json);
      assert.deepEqual(outShape(b, shape), outShape(a, shape));
    });
  }
});
