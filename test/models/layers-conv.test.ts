// The convolution layers: output shapes and parameter counts from Keras's formulas, forward values
// against plain loops written here, float64 finite-difference gradients for inputs and weights,
// build-time errors and getConfig round trips.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Layer } from '../../lib/models/layer';
import { Conv1D, Conv2D, Conv2DArgs, Conv2DTranspose, DepthwiseConv2D, DepthwiseConv2DArgs, SeparableConv2D } from '../../lib/models/layers/conv';
import { L2 } from '../../lib/models/regularizers';
import { assertClose, f64 } from '../support/fd';
import { expectError } from '../support/check';
import { randoms, runLayer, size } from '../support/models';
import { Rng } from '../support/reference';

const { T } = st;

type Dims = number[];

/** Row-major index of a 4-D position. */
const at4 = (s: Dims, a: number, b: number, c: number, d: number) => ((a * s[1] + b) * s[2] + c) * s[3] + d;

// ---- independent references (TensorFlow's conventions, as Keras uses them) ----

/** Output size and leading pad of one axis: 'valid' where the window fits, 'same' ceil(n / s). */
function axisGeometry(n: number, k: number, s: number, d: number, padding: string): { out: number; pad: number } {
  const span = (k - 1) * d + 1;
  if (padding === 'valid') return { out: Math.floor((n - span) / s) + 1, pad: 0 };
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + span - n, 0);
  return { out, pad: Math.floor(total / 2) };
}

interface Geo {
  strides?: Dims;
  padding?: string;
  dilation?: Dims;
}

/** out[b,i,j,o] = Σ x[b, i·sh + a·dh − pt, j·sw + e·dw − pl, c] · k[a, e, c, o] (zero outside). */
function conv2dRef(x: Float64Array, xs: Dims, k: Float64Array, ks: Dims, g: Geo = {}): { y: Float64Array; shape: Dims } {
  const [sh, sw] = g.strides ?? [1, 1], [dh, dw] = g.dilation ?? [1, 1], padding = g.padding ?? 'valid';
  const [n, h, w, c] = xs, [kh, kw, , f] = ks;
  const gh = axisGeometry(h, kh, sh, dh, padding), gw = axisGeometry(w, kw, sw, dw, padding);
  const shape = [n, gh.out, gw.out, f];
  const y = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let i = 0; i < gh.out; i++)
      for (let j = 0; j < gw.out; j++)
        for (let o = 0; o < f; o++) {
          let s = 0;
          for (let a = 0; a < kh; a++)
            for (let e = 0; e < kw; e++) {
              const r = i * sh + a * dh - gh.pad, q = j * sw + e * dw - gw.pad;
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              for (let ci = 0; ci < c; ci++) s += x[at4(xs, b, r, q, ci)] * k[at4(ks, a, e, ci, o)];
            }
          y[at4(shape, b, i, j, o)] = s;
        }
  return { y, shape };
}

/** Depthwise: out[b,i,j,c·m + t] = Σ x[b, r, q, c] · k[a, e, c, t]. */
function depthwiseRef(x: Float64Array, xs: Dims, k: Float64Array, ks: Dims, g: Geo = {}): { y: Float64Array; shape: Dims } {
  const [sh, sw] = g.strides ?? [1, 1], [dh, dw] = g.dilation ?? [1, 1], padding = g.padding ?? 'valid';
  const [n, h, w, c] = xs, [kh, kw, , m] = ks;
  const gh = axisGeometry(h, kh, sh, dh, padding), gw = axisGeometry(w, kw, sw, dw, padding);
  const shape = [n, gh.out, gw.out, c * m];
  const y = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let i = 0; i < gh.out; i++)
      for (let j = 0; j < gw.out; j++)
        for (let ci = 0; ci < c; ci++)
          for (let t = 0; t < m; t++) {
            let s = 0;
            for (let a = 0; a < kh; a++)
              for (let e = 0; e < kw; e++) {
                const r = i * sh + a * dh - gh.pad, q = j * sw + e * dw - gw.pad;
                if (r >= 0 && r < h && q >= 0 && q < w) s += x[at4(xs, b, r, q, ci)] * k[at4(ks, a, e, ci, t)];
              }
            y[at4(shape, b, i, j, ci * m + t)] = s;
          }
  return { y, shape };
}

/**
 * Transposed convolution by scattering: each input pixel adds its value times the kernel into
 * the output window it came from.  Output size by Keras's deconv_output_length; the window
 * placement is that of the forward convolution from the output size (TensorFlow's padding).
 */
function transposeRef(x: Float64Array, xs: Dims, k: Float64Array, ks: Dims, strides: Dims, padding: string, outputPadding?: Dims): { y: Float64Array; shape: Dims } {
  const [n, h, w, c] = xs, [kh, kw, f] = ks;
  const len = (m: number, kk: number, s: number, op?: number) => {
    if (op === undefined) return padding === 'valid' ? m * s + Math.max(kk - s, 0) : m * s;
    return (m - 1) * s + kk - 2 * (padding === 'same' ? Math.floor(kk / 2) : 0) + op;
  };
  const oh = len(h, kh, strides[0], outputPadding?.[0]), ow = len(w, kw, strides[1], outputPadding?.[1]);
  const pt = axisGeometry(oh, kh, strides[0], 1, padding).pad, pl = axisGeometry(ow, kw, strides[1], 1, padding).pad;
  const shape = [n, oh, ow, f];
  const y = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let ci = 0; ci < c; ci++)
          for (let a = 0; a < kh; a++)
            for (let e = 0; e < kw; e++) {
              const r = i * strides[0] + a - pt, q = j * strides[1] + e - pl;
              if (r < 0 || r >= oh || q < 0 || q >= ow) continue;
              for (let o = 0; o < f; o++) y[at4(shape, b, r, q, o)] += x[at4(xs, b, i, j, ci)] * k[at4(ks, a, e, o, ci)];
            }
  return { y, shape };
}

function addBias(y: Float64Array, bias: Float64Array): Float64Array {
  return y.map((v, i) => v + bias[i % bias.length]);
}

// ---- running layers ----

/** Sets every weight of a built layer to seeded random values; returns them by weight order. */
function randomizeWeights(layer: Layer, rng: Rng): Float64Array[] {
  const vals = layer.weights.map((w) => Float64Array.from(randoms(rng, size(w.type.shape as Dims))));
  layer.setWeights(vals.map((v, i) => st.tensor(v, { shape: layer.weights[i].type.shape as Dims, dtype: 'float64' })));
  return vals;
}

/** The static output shape and parameter count of a layer applied to a placeholder of `shape`. */
function shapeAndParams(layer: Layer, shape: (number | null)[]): { shape: (number | null)[]; params: number } {
  const out = layer.apply(T.tensor('float32', shape)) as st.Variable;
  return { shape: out.type.shape.slice(), params: layer.countParams() };
}

/**
 * Central differences of cost = Σ y·R with respect to the input and every weight of the layer,
 * against st.grad of the same cost (float64).
 */
function checkLayerGrads(label: string, layer: Layer, xs: Dims, rng: Rng): void {
  const xv = Float64Array.from(randoms(rng, size(xs)));
  const v = T.tensor('float64', xs, 'x');
  const out = layer.apply(v) as st.Variable;
  const os = out.type.shape as Dims;
  assert.ok(os.every((d) => d !== null), `${label}: the output shape ${JSON.stringify(os)} should be static for a static input`);
  const r = T.constant(st.tensor(Float64Array.from(randoms(rng, size(os))), { shape: os, dtype: 'float64' }));
  const cost = T.sum(T.mul(out, r));
  const weights = layer.trainableWeights;
  const grads = st.grad(cost, [v, ...weights]);
  const gradFn = st.fn([v], grads);
  const costFn = st.fn([v], cost);
  const xT = () => st.tensor(xv, { shape: xs, dtype: 'float64' });
  const evalCost = () => {
    const t = costFn.sync(xT()) as st.Tensor;
    const c = t.dataSync()[0] as number;
    t.dispose();
    return c;
  };
  const eps = 1e-6;
  const analytic = (gradFn.sync(xT()) as st.Tensor[]).map((t) => f64(t));
  // the input
  const numX = new Float64Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const x0 = xv[i];
    xv[i] = x0 + eps;
    const cp = evalCost();
    xv[i] = x0 - eps;
    const cm = evalCost();
    xv[i] = x0;
    numX[i] = (cp - cm) / (2 * eps);
  }
  assertClose(analytic[0], numX, `${label}: d/dx`, 1e-6, 1e-7);
  // each weight
  weights.forEach((w, k) => {
    const shape = w.type.shape as Dims;
    const wv = f64(w.get());
    const num = new Float64Array(wv.length);
    const setW = () => w.set(st.tensor(wv, { shape, dtype: 'float64' }));
    for (let i = 0; i < wv.length; i++) {
      const w0 = wv[i];
      wv[i] = w0 + eps;
      setW();
      const cp = evalCost();
      wv[i] = w0 - eps;
      setW();
      const cm = evalCost();
      wv[i] = w0;
      num[i] = (cp - cm) / (2 * eps);
    }
    setW();
    assertClose(analytic[1 + k], num, `${label}: d/d${w.name}`, 1e-6, 1e-7);
  });
  gradFn.dispose();
  costFn.dispose();
}

// ---- tests ----

describe('models/layers/conv: shapes and parameter counts (Keras formulas)', () => {
  it('Conv2D(32, 3) on 28×28×1: 3·3·1·32 + 32 = 320 weights, output [null, 26, 26, 32]', () => {
    const l = new Conv2D({ filters: 32, kernelSize: 3 });
    assert.deepEqual(shapeAndParams(l, [null, 28, 28, 1]), { shape: [null, 26, 26, 32], params: 320 });
    assert.deepEqual(l.weights.map((w) => w.type.shape), [[3, 3, 1, 32], [32]]);
    assert.deepEqual(l.weights.map((w) => w.name), [`${l.name}/kernel`, `${l.name}/bias`]);
  });

  it("Conv2D: 'same' keeps ceil(n / stride), 'valid' floor((n − k) / s) + 1, dilation widens the window", () => {
    assert.deepEqual(shapeAndParams(new Conv2D({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }), [null, 7, 7, 3]), { shape: [null, 4, 4, 8], params: 3 * 3 * 3 * 8 + 8 });
    assert.deepEqual(shapeAndParams(new Conv2D({ filters: 8, kernelSize: [3, 2], strides: [2, 3], useBias: false }), [null, 7, 11, 3]).shape, [null, 3, 4, 8]);
    assert.equal(shapeAndParams(new Conv2D({ filters: 8, kernelSize: 3, useBias: false }), [null, 7, 7, 3]).params, 3 * 3 * 3 * 8);
    assert.deepEqual(shapeAndParams(new Conv2D({ filters: 2, kernelSize: 3, dilationRate: 2 }), [null, 9, 9, 1]).shape, [null, 5, 5, 2]);
  });

  it("Conv1D(16, 5) on [null, 100, 8]: 5·8·16 + 16 = 656 weights; 'causal' and 'same' keep the length", () => {
    const l = new Conv1D({ filters: 16, kernelSize: 5 });
    assert.deepEqual(shapeAndParams(l, [null, 100, 8]), { shape: [null, 96, 16], params: 656 });
    assert.deepEqual(l.weights.map((w) => w.type.shape), [[5, 8, 16], [16]]);
    assert.deepEqual(shapeAndParams(new Conv1D({ filters: 4, kernelSize: 5, padding: 'causal', dilationRate: 2 }), [null, 100, 8]).shape, [null, 100, 4]);
    assert.deepEqual(shapeAndParams(new Conv1D({ filters: 4, kernelSize: 3, padding: 'same', strides: 2 }), [null, 99, 8]).shape, [null, 50, 4]);
  });

  it('Conv2DTranspose: kernel [kh, kw, filters, in]; valid n·s + max(k − s, 0), same n·s', () => {
    const v = new Conv2DTranspose({ filters: 8, kernelSize: 3, strides: 2 });
    assert.deepEqual(shapeAndParams(v, [null, 7, 7, 4]), { shape: [null, 15, 15, 8], params: 3 * 3 * 8 * 4 + 8 });
    assert.deepEqual(v.weights[0].type.shape, [3, 3, 8, 4]);
    assert.deepEqual(shapeAndParams(new Conv2DTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }), [null, 7, 7, 4]).shape, [null, 14, 14, 8]);
    assert.deepEqual(shapeAndParams(new Conv2DTranspose({ filters: 2, kernelSize: 2, strides: 3 }), [null, 4, 5, 1]).shape, [null, 12, 15, 2]);
    assert.deepEqual(shapeAndParams(new Conv2DTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: 1 }), [null, 7, 7, 1]).shape, [null, 16, 16, 2]);
    assert.deepEqual(shapeAndParams(new Conv2DTranspose({ filters: 2, kernelSize: 3 }), [null, 5, 6, 1]).shape, [null, 7, 8, 2]);
  });

  it('DepthwiseConv2D(3, depthMultiplier 2) on 8 channels: 3·3·8·2 + 16 weights, 16 output channels', () => {
    const l = new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2 });
    assert.deepEqual(shapeAndParams(l, [null, 10, 10, 8]), { shape: [null, 8, 8, 16], params: 3 * 3 * 8 * 2 + 16 });
    assert.deepEqual(l.weights.map((w) => w.type.shape), [[3, 3, 8, 2], [16]]);
    // more channels than the dense path takes: the sliced path keeps the static shape too
    assert.deepEqual(shapeAndParams(new DepthwiseConv2D({ kernelSize: 3, strides: 2, padding: 'same' }), [null, 9, 9, 12]), { shape: [null, 5, 5, 12], params: 3 * 3 * 12 + 12 });
  });

  it('SeparableConv2D(16, 3) on 8 channels: 3·3·8 + 8·16 + 16 = 216 weights', () => {
    const l = new SeparableConv2D({ filters: 16, kernelSize: 3 });
    assert.deepEqual(shapeAndParams(l, [null, 10, 10, 8]), { shape: [null, 8, 8, 16], params: 216 });
    assert.deepEqual(l.weights.map((w) => String(w.name).split('/')[1]), ['depthwise_kernel', 'pointwise_kernel', 'bias']);
    const m = new SeparableConv2D({ filters: 4, kernelSize: 3, depthMultiplier: 3, padding: 'same', useBias: false });
    assert.deepEqual(shapeAndParams(m, [null, 6, 6, 2]), { shape: [null, 6, 6, 4], params: 3 * 3 * 2 * 3 + 6 * 4 });
  });
});

describe('models/layers/conv: forward values against loops (float64)', () => {
  it('Conv2D with channel groups: each group of filters sees only its group of channels', () => {
    const rng = new Rng(12);
    const xs: Dims = [2, 5, 4, 6];
    const l = new Conv2D({ filters: 4, kernelSize: 3, groups: 2, padding: 'same', dtype: 'float64' });
    assert.deepEqual(shapeAndParams(new Conv2D({ filters: 4, kernelSize: 3, groups: 2, padding: 'same' }), [null, 5, 4, 6]), { shape: [null, 5, 4, 4], params: 3 * 3 * 3 * 4 + 4 });
    l.apply(T.tensor('float64', [null, 5, 4, 6]));
    const x = Float64Array.from(randoms(rng, size(xs)));
    const [k, bias] = randomizeWeights(l, rng);
    // reference: group g convolves channels [3g, 3g+3) with filters [2g, 2g+2), in plain loops
    const y = new Float64Array(2 * 5 * 4 * 4);
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 5; i++)
        for (let j = 0; j < 4; j++)
          for (let f = 0; f < 4; f++) {
            const g = Math.floor(f / 2);
            let acc = bias[f];
            for (let a = 0; a < 3; a++)
              for (let b = 0; b < 3; b++) {
                const ii = i + a - 1, jj = j + b - 1;
                if (ii < 0 || ii >= 5 || jj < 0 || jj >= 4) continue;
                for (let c = 0; c < 3; c++) acc += x[((n * 5 + ii) * 4 + jj) * 6 + 3 * g + c] * k[((a * 3 + b) * 3 + c) * 4 + f];
              }
            y[((n * 5 + i) * 4 + j) * 4 + f] = acc;
          }
    const got = runLayer(l, x, xs);
    assert.deepEqual(got.shape, [2, 5, 4, 4]);
    assertClose(got.y, y, 'grouped conv2d', 1e-12, 1e-12);
  });

  it('Conv2D valid, same with strides, and dilation (with bias and relu)', () => {
    const rng = new Rng(11);
    const cases: { opts: Partial<Conv2DArgs>; xs: Dims; g: Geo }[] = [
      { opts: { kernelSize: 3 }, xs: [2, 5, 6, 2], g: {} },
      { opts: { kernelSize: [3, 2], strides: [2, 3], padding: 'same' }, xs: [2, 7, 8, 3], g: { strides: [2, 3], padding: 'same' } },
      { opts: { kernelSize: 2, dilationRate: [2, 1], padding: 'same' }, xs: [1, 5, 5, 2], g: { dilation: [2, 1], padding: 'same' } },
    ];
    for (const { opts, xs, g } of cases) {
      const l = new Conv2D({ filters: 3, dtype: 'float64', activation: 'relu', ...opts } as Conv2DArgs);
      const x = Float64Array.from(randoms(rng, size(xs)));
      l.apply(T.tensor('float64', [null, ...xs.slice(1)]));
      const [k, bias] = randomizeWeights(l, rng);
      const ref = conv2dRef(x, xs, k, l.weights[0].type.shape as Dims, g);
      const got = runLayer(l, x, xs);
      assert.deepEqual(got.shape, ref.shape);
      assertClose(got.y, addBias(ref.y, bias).map((v) => Math.max(v, 0)), `conv2d ${JSON.stringify(opts)}`, 1e-12, 1e-12);
    }
  });

  it("Conv1D valid, strided 'same' and dilated 'causal'", () => {
    const rng = new Rng(12);
    const xs = [2, 9, 3];
    const x = Float64Array.from(randoms(rng, size(xs)));
    for (const [opts, strides, padding, dilation] of [
      [{}, 1, 'valid', 1],
      [{ strides: 2, padding: 'same' }, 2, 'same', 1],
      [{ padding: 'causal', dilationRate: 2 }, 1, 'causal', 2],
    ] as const) {
      const l = new Conv1D({ filters: 2, kernelSize: 3, dtype: 'float64', ...opts });
      l.apply(T.tensor('float64', [null, 9, 3]));
      const [k, bias] = randomizeWeights(l, rng);
      // y[b, t, o] = Σ x[b, t·s + a·d − lead, c] · k[a, c, o]
      const n = 9, span = 2 * dilation + 1;
      let out: number, lead: number;
      if (padding === 'valid') (out = Math.floor((n - span) / strides) + 1), (lead = 0);
      else if (padding === 'causal') (out = n), (lead = span - 1);
      else (out = Math.ceil(n / strides)), (lead = Math.floor(Math.max((out - 1) * strides + span - n, 0) / 2));
      const ref = new Float64Array(2 * out * 2);
      for (let b = 0; b < 2; b++)
        for (let t = 0; t < out; t++)
          for (let o = 0; o < 2; o++) {
            let s = bias[o];
            for (let a = 0; a < 3; a++) {
              const p = t * strides + a * dilation - lead;
              if (p >= 0 && p < n) for (let c = 0; c < 3; c++) s += x[(b * n + p) * 3 + c] * k[(a * 3 + c) * 2 + o];
            }
            ref[(b * out + t) * 2 + o] = s;
          }
      const got = runLayer(l, x, xs);
      assert.deepEqual(got.shape, [2, out, 2]);
      assertClose(got.y, ref, `conv1d ${padding}`, 1e-12, 1e-12);
    }
  });

  it('Conv2DTranspose valid and same, stride 2, and with outputPadding, against scattering', () => {
    const rng = new Rng(13);
    const xs = [2, 3, 4, 2];
    const x = Float64Array.from(randoms(rng, size(xs)));
    for (const [padding, outputPadding] of [['valid', undefined], ['same', undefined], ['valid', [1, 0]], ['same', [1, 1]]] as const) {
      const l = new Conv2DTranspose({ filters: 3, kernelSize: 3, strides: 2, padding, outputPadding: outputPadding?.slice(), dtype: 'float64' });
      const v = T.tensor('float64', [null, 3, 4, 2]);
      l.apply(v);
      const [k, bias] = randomizeWeights(l, rng);
      const ref = transposeRef(x, xs, k, [3, 3, 3, 2], [2, 2], padding, outputPadding?.slice());
      const got = runLayer(l, x, xs);
      assert.deepEqual(got.shape, ref.shape, `${padding} ${outputPadding}: shape`);
      assert.deepEqual(got.static, [null, ...ref.shape.slice(1)]);
      assertClose(got.y, addBias(ref.y, bias), `conv2dTranspose ${padding} ${outputPadding}`, 1e-12, 1e-12);
    }
  });

  it('DepthwiseConv2D on few channels (one dense convolution) and many (sum over offsets)', () => {
    const rng = new Rng(14);
    for (const [c, opts, g] of [
      [3, { kernelSize: 3, depthMultiplier: 2 }, {}],
      [3, { kernelSize: [2, 3], strides: 2, padding: 'same' }, { strides: [2, 2], padding: 'same' }],
      [10, { kernelSize: 3, depthMultiplier: 2, strides: [2, 1], padding: 'same' }, { strides: [2, 1], padding: 'same' }],
      [9, { kernelSize: [3, 2], dilationRate: 2 }, { dilation: [2, 2] }],
    ] as const) {
      const xs = [2, 6, 5, c];
      const x = Float64Array.from(randoms(rng, size(xs)));
      const l = new DepthwiseConv2D({ ...opts, dtype: 'float64' } as DepthwiseConv2DArgs);
      l.apply(T.tensor('float64', [null, 6, 5, c]));
      const [k, bias] = randomizeWeights(l, rng);
      const ref = depthwiseRef(x, xs, k, l.weights[0].type.shape as Dims, g as Geo);
      const got = runLayer(l, x, xs);
      assert.deepEqual(got.shape, ref.shape);
      assert.deepEqual(got.static, [null, ...ref.shape.slice(1)]);
      assertClose(got.y, addBias(ref.y, bias), `depthwise ${c} ${JSON.stringify(opts)}`, 1e-12, 1e-12);
    }
  });

  it('SeparableConv2D: depthwise then pointwise, plus bias', () => {
    const rng = new Rng(15);
    for (const c of [2, 10]) {
      const xs = [2, 5, 5, c];
      const x = Float64Array.from(randoms(rng, size(xs)));
      const l = new SeparableConv2D({ filters: 3, kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', dtype: 'float64' });
      l.apply(T.tensor('float64', [null, 5, 5, c]));
      const [dk, pk, bias] = randomizeWeights(l, rng);
      const mid = depthwiseRef(x, xs, dk, [3, 3, c, 2], { strides: [2, 2], padding: 'same' });
      const ref = conv2dRef(mid.y, mid.shape, pk, [1, 1, 2 * c, 3]);
      const got = runLayer(l, x, xs);
      assert.deepEqual(got.shape, [2, 3, 3, 3]);
      assertClose(got.y, addBias(ref.y, bias), `separable ${c}`, 1e-12, 1e-12);
    }
  });
});

describe('models/layers/conv: gradients against finite differences (float64)', () => {
  const rng = new Rng(21);
  const f64Layer = <A>(Cls: new (a: A) => Layer, a: object) => new Cls({ ...a, dtype: 'float64' } as A);

  it('grouped Conv2D and Conv1D (groups 2 and 3)', () => {
    checkLayerGrads('conv2d groups 2', f64Layer(Conv2D, { filters: 4, kernelSize: 2, groups: 2 }), [2, 3, 3, 4], rng);
    checkLayerGrads('conv1d groups 3', f64Layer(Conv1D, { filters: 3, kernelSize: 2, groups: 3, padding: 'same' }), [2, 4, 6], rng);
  });

  it('Conv2D (strided same, tanh) and Conv1D (causal)', () => {
    checkLayerGrads('conv2d', f64Layer(Conv2D, { filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }), [2, 5, 4, 2], rng);
    checkLayerGrads('conv1d', f64Layer(Conv1D, { filters: 2, kernelSize: 3, padding: 'causal', dilationRate: 2 }), [2, 7, 2], rng);
  });

  it('Conv2DTranspose valid and same with stride 2', () => {
    checkLayerGrads('conv2dTranspose valid', f64Layer(Conv2DTranspose, { filters: 2, kernelSize: 3, strides: 2 }), [2, 3, 3, 2], rng);
    checkLayerGrads('conv2dTranspose same', f64Layer(Conv2DTranspose, { filters: 2, kernelSize: [2, 3], strides: 2, padding: 'same' }), [1, 3, 2, 3], rng);
  });

  it('DepthwiseConv2D on both paths, and SeparableConv2D', () => {
    checkLayerGrads('depthwise dense', f64Layer(DepthwiseConv2D, { kernelSize: 3, depthMultiplier: 2, padding: 'same' }), [2, 4, 4, 2], rng);
    checkLayerGrads('depthwise sliced', f64Layer(DepthwiseConv2D, { kernelSize: 2, strides: 2, padding: 'same' }), [1, 3, 3, 9], rng);
    checkLayerGrads('separable', f64Layer(SeparableConv2D, { filters: 2, kernelSize: 2, depthMultiplier: 2 }), [2, 3, 3, 2], rng);
  });
});

describe('models/layers/conv: activity regularization', () => {
  it('adds the penalty of the output divided by the batch size (known at run time)', () => {
    const rng = new Rng(31);
    const l = new Conv2D({ filters: 2, kernelSize: 2, dtype: 'float64', activityRegularizer: new L2({ l2: 0.5 }) });
    const v = T.tensor('float64', [null, 3, 3, 1]);
    l.apply(v);
    randomizeWeights(l, rng);
    const losses: st.Variable[] = [];
    const y = l.call(v, { training: true, addUpdate() {}, addLoss: (x) => losses.push(x) }) as st.Variable;
    assert.equal(losses.length, 1);
    const f = st.fn([v], [y, losses[0]]);
    const xs = [3, 3, 3, 1];
    const [yt, lt] = f.sync(st.tensor(Float64Array.from(randoms(rng, 27)), { shape: xs, dtype: 'float64' })) as st.Tensor[];
    const expected = (0.5 * f64(yt).reduce((a, b) => a + b * b, 0)) / 3;
    assertClose(f64(lt), [expected], 'activity penalty', 1e-12, 1e-12);
  });
});

describe('models/layers/conv: errors', () => {
  it('a wrong input rank fails at build time naming the layer and the shape', () => {
    const c2 = new Conv2D({ filters: 2, kernelSize: 3, name: 'my_conv' });
    expectError(() => c2.apply(T.tensor('float32', [null, 28, 28])), 'ERR_ST_SHAPE', ['my_conv', 'rank 4', '[?,28,28]']);
    const c1 = new Conv1D({ filters: 2, kernelSize: 3, name: 'my_conv1d' });
    expectError(() => c1.apply(T.tensor('float32', [null, 5, 5, 1])), 'ERR_ST_SHAPE', ['my_conv1d', 'rank 3', '[?,5,5,1]']);
    for (const l of [new Conv2DTranspose({ filters: 2, kernelSize: 3, name: 'tr' }), new DepthwiseConv2D({ kernelSize: 3, name: 'dw' }), new SeparableConv2D({ filters: 2, kernelSize: 3, name: 'sep' })])
      expectError(() => l.apply(T.tensor('float32', [null, 8, 3])), 'ERR_ST_SHAPE', [l.name, 'rank 4', '[?,8,3]']);
  });

  it('unknown channels, too-small inputs, a changed channel count and unknown sizes for Conv2DTranspose', () => {
    expectError(() => new Conv2D({ filters: 2, kernelSize: 3, name: 'c_a' }).apply(T.tensor('float32', [null, 8, 8, null])), 'ERR_ST_SHAPE', ['c_a', 'channel', '[?,8,8,?]']);
    expectError(() => new Conv2D({ filters: 2, kernelSize: 5, name: 'c_b' }).apply(T.tensor('float32', [null, 4, 8, 1])), 'ERR_ST_SHAPE', ['c_b', 'too small', '[?,4,8,1]']);
    const l = new Conv2D({ filters: 2, kernelSize: 3, name: 'c_c' });
    l.apply(T.tensor('float32', [null, 8, 8, 3]));
    expectError(() => l.apply(T.tensor('float32', [null, 8, 8, 4])), 'ERR_ST_SHAPE', ['c_c', '3 input channels', '[?,8,8,4]']);
    expectError(() => new Conv2DTranspose({ filters: 2, kernelSize: 3, name: 'c_d' }).apply(T.tensor('float32', [null, null, 8, 3])), 'ERR_ST_SHAPE', ['c_d', 'height and width', '[?,?,8,3]']);
  });

  it('bad options', () => {
    expectError(() => new Conv2D({ filters: 0, kernelSize: 3, name: 'o_a' }), 'ERR_ST_ARG', ['o_a', 'filters']);
    expectError(() => new Conv2D({ filters: 2, kernelSize: [3, 3, 3], name: 'o_b' }), 'ERR_ST_ARG', ['o_b', 'kernelSize']);
    expectError(() => new Conv2D({ filters: 2, kernelSize: 3, padding: 'full' as 'same', name: 'o_c' }), 'ERR_ST_ARG', ['o_c', "'valid', 'same'"]);
    expectError(() => new Conv2D({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 2, name: 'o_d' }), 'ERR_ST_ARG', ['o_d', 'dilationRate']);
    expectError(() => new Conv2D({ filters: 2, kernelSize: 3, dataFormat: 'channels_first' as 'channels_last', name: 'o_e' }), 'ERR_ST_ARG', ['o_e', 'channels_first']);
    expectError(() => new Conv2D({ filters: 2, kernelSize: 3, groups: 3, name: 'o_f' }), 'ERR_ST_ARG', ['o_f', 'divisible by groups']);
    expectError(() => new Conv2D({ filters: 4, kernelSize: 3, groups: 2, name: 'o_i' }).apply(T.tensor('float32', [null, 8, 8, 3])), 'ERR_ST_SHAPE', ['o_i', '3 input channels']);
    expectError(() => new Conv2DTranspose({ filters: 2, kernelSize: 3, groups: 2, name: 'o_j' }), 'ERR_ST_ARG', ['o_j', 'groups']);
    expectError(() => new Conv2DTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: 2, name: 'o_g' }), 'ERR_ST_ARG', ['o_g', 'outputPadding']);
    expectError(() => new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 0, name: 'o_h' }), 'ERR_ST_ARG', ['o_h', 'depthMultiplier']);
  });
});

describe('models/layers/conv: getConfig round trips', () => {
  const cases: [new (a: any) => Layer, object, (number | null)[]][] = [
    [Conv2D, { filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu', useBias: false, kernelRegularizer: 'l2', kernelConstraint: 'nonNeg' }, [null, 9, 9, 3]],
    [Conv1D, { filters: 3, kernelSize: 4, padding: 'causal', dilationRate: 2, kernelInitializer: 'heNormal', activityRegularizer: 'l1' }, [null, 12, 2]],
    [Conv2DTranspose, { filters: 2, kernelSize: 3, strides: 2, padding: 'same', outputPadding: 1, biasInitializer: 'ones' }, [null, 5, 5, 3]],
    [DepthwiseConv2D, { kernelSize: 3, depthMultiplier: 2, depthwiseRegularizer: 'l1', activation: 'sigmoid' }, [null, 6, 6, 3]],
    [SeparableConv2D, { filters: 5, kernelSize: 3, depthMultiplier: 2, pointwiseConstraint: 'maxNorm', padding: 'same' }, [null, 6, 6, 3]],
  ];
  for (const [Cls, opts, shape] of cases) {
    it(`${Cls.name}: new ${Cls.name}(getConfig()) has the same config, output shape and weights`, () => {
      const a = new Cls(opts);
      const config = a.getConfig();
      const json = JSON.parse(JSON.stringify(config));
      const b = new Cls(json);
      assert.deepEqual(JSON.parse(JSON.stringify(b.getConfig())), json);
      const sa = shapeAndParams(a, shape), sb = shapeAndParams(b, shape);
      assert.deepEqual(sb, sa);
      assert.deepEqual(b.weights.map((w) => w.type.shape), a.weights.map((w) => w.type.shape));
      for (const [k, v] of Object.entries(opts)) if (typeof v !== 'object' && !k.endsWith('Regularizer') && !k.endsWith('Constraint') && !k.endsWith('Initializer')) assert.ok(k in config, `config has ${k}`);
    });
  }
});
