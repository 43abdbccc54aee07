// Keras losses as graphs: each loss compiled with st.fn and compared with the published formula
// computed here in plain float64 loops; reductions with sample weights; name resolution and
// errors; gradients of a few losses against finite differences.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import {
  BinaryCrossentropy, CategoricalCrossentropy, CosineSimilarity, Huber, Loss, MeanSquaredError, SparseCategoricalCrossentropy, getLoss, losses,
  reduceLoss,
} from '../../lib/models/losses';
import { expectError } from '../support/check';
import { Rng } from '../support/reference';
import { assertClose, checkGrad, makeTensor } from '../support/fd';

const { T } = st;
type V = st.Variable;
type DT = 'float32' | 'float64' | 'int32';

interface Data {
  shape: number[];
  value: number[];
  dtype?: DT;
}

const EPS = 1e-7;
const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A symbolic input for data: the batch axis unknown, as in a model's training step. */
function input(d: Data, name: string, knownBatch = false): V {
  return T.tensor(d.dtype ?? 'float64', d.shape.map((n, i) => (i === 0 && !knownBatch ? null : n)), name);
}

/** Compiles out(yTrue, yPred) and runs it on the data. */
function evaluate(build: (t: V, p: V) => V, t: Data, p: Data): Float64Array {
  const vt = input(t, 'yTrue'), vp = input(p, 'yPred');
  const f = st.fn([vt, vp], build(vt, vp));
  const out = f.sync(makeTensor(t.value, t.shape, t.dtype ?? 'float64'), makeTensor(p.value, p.shape, p.dtype ?? 'float64'));
  const res = Float64Array.from(out.dataSync() as ArrayLike<number>);
  out.dispose();
  f.dispose();
  return res;
}

/** The samples of flat data (batch first), each as its flat elements. */
function samples(d: Data): number[][] {
  const per = size(d.shape.slice(1));
  return Array.from({ length: d.shape[0] }, (_, b) => d.value.slice(b * per, (b + 1) * per));
}

/** Groups of `n` consecutive elements (the last axis) of one sample. */
function groups(xs: number[], n: number): number[][] {
  return Array.from({ length: xs.length / n }, (_, i) => xs.slice(i * n, (i + 1) * n));
}

/** Per-sample reference of an elementwise loss: the mean of f over a sample's elements. */
function elementwiseRef(t: Data, p: Data, f: (t: number, p: number) => number): number[] {
  const ts = samples(t), ps = samples(p);
  return ts.map((row, b) => mean(row.map((x, i) => f(x, ps[b][i]))));
}

/** Per-sample reference of a loss summed over the last axis, averaged over the other axes. */
function classwiseRef(t: Data, p: Data, f: (t: number[], p: number[]) => number): number[] {
  const n = p.shape[p.shape.length - 1];
  const ts = samples(t), ps = samples(p);
  return ts.map((row, b) => {
    const pg = groups(ps[b], n);
    return mean(groups(row, n).map((g, i) => f(g, pg[i])));
  });
}

function randomData(seed: number, shape: number[], lo: number, hi: number): Data {
  const rng = new Rng(seed);
  return { shape, value: Array.from({ length: size(shape) }, () => rng.uniform(lo, hi)) };
}

function oneHot(seed: number, shape: number[]): Data {
  const rng = new Rng(seed);
  const n = shape[shape.length - 1];
  const value: number[] = [];
  for (let g = 0; g < size(shape) / n; g++) {
    const k = rng.int(0, n - 1);
    for (let j = 0; j < n; j++) value.push(j === k ? 1 : 0);
  }
  return { shape, value };
}

function binary(seed: number, shape: number[]): Data {
  const rng = new Rng(seed);
  return { shape, value: Array.from({ length: size(shape) }, () => (rng.bool() ? 1 : 0)) };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logSumExp = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(sum(xs.map((x) => Math.exp(x - m))));
};

describe('models/losses: regression losses match their formulas', () => {
  const shapes = [[4, 3], [2, 3, 2], [5]];
  for (const shape of shapes) {
    const t = randomData(11 + shape.length, shape, -2, 2);
    const p = randomData(23 + shape.length, shape, -2, 2);
    it(`meanSquaredError, meanAbsoluteError, huber, logCosh on [${shape}]`, () => {
      assertClose(evaluate((a, b) => losses.mse().call(a, b), t, p), elementwiseRef(t, p, (x, y) => (x - y) ** 2), 'mse', 1e-10);
      assertClose(evaluate((a, b) => losses.meanAbsoluteError().call(a, b), t, p), elementwiseRef(t, p, (x, y) => Math.abs(x - y)), 'mae', 1e-10);
      for (const delta of [1, 0.5]) {
        const huber = (x: number, y: number) => (Math.abs(y - x) <= delta ? 0.5 * (y - x) ** 2 : delta * Math.abs(y - x) - 0.5 * delta * delta);
        assertClose(evaluate((a, b) => losses.huber({ delta }).call(a, b), t, p), elementwiseRef(t, p, huber), `huber delta ${delta}`, 1e-10);
      }
      assertClose(evaluate((a, b) => losses.logCosh().call(a, b), t, p), elementwiseRef(t, p, (x, y) => Math.log(Math.cosh(y - x))), 'logCosh', 1e-9);
    });
  }

  it('meanAbsolutePercentageError, meanSquaredLogarithmicError and poisson', () => {
    const t = randomData(3, [4, 3], 0.1, 3);
    t.value[2] = 0; // |yTrue| is floored at 1e-7 (MAPE) and yTrue at 1e-7 (MSLE)
    const p = randomData(4, [4, 3], 0.1, 3);
    assertClose(
      evaluate((a, b) => losses.mape().call(a, b), t, p),
      elementwiseRef(t, p, (x, y) => (100 * Math.abs(x - y)) / Math.max(Math.abs(x), EPS)),
      'mape',
      1e-10,
    );
    const msle = (x: number, y: number) => (Math.log(Math.max(y, EPS) + 1) - Math.log(Math.max(x, EPS) + 1)) ** 2;
    assertClose(evaluate((a, b) => losses.msle().call(a, b), t, p), elementwiseRef(t, p, msle), 'msle', 1e-10);
    assertClose(evaluate((a, b) => losses.poisson().call(a, b), t, p), elementwiseRef(t, p, (x, y) => y - x * Math.log(y + EPS)), 'poisson', 1e-10);
  });

  it('float32 inputs give float32 losses close to the float64 formula', () => {
    const t = { ...randomData(5, [3, 4], -1, 1), dtype: 'float32' as DT };
    const p = { ...randomData(6, [3, 4], -1, 1), dtype: 'float32' as DT };
    const vt = input(t, 't'), vp = input(p, 'p');
    assert.equal(losses.mse().call(vt, vp).dtype, 'float32');
    const f32 = (d: Data) => ({ ...d, value: d.value.map(Math.fround) });
    assertClose(evaluate((a, b) => losses.mse().call(a, b), t, p), elementwiseRef(f32(t), f32(p), (x, y) => (x - y) ** 2), 'mse float32', 1e-5);
  });
});

describe('models/losses: probabilistic losses', () => {
  const probs = (seed: number, shape: number[]) => randomData(seed, shape, 0.05, 0.95);

  it('binaryCrossentropy on probabilities, with label smoothing, and the clipping at 1e-7', () => {
    for (const shape of [[4, 3], [6], [2, 2, 3]]) {
      const t = binary(31, shape), p = probs(32, shape);
      for (const s of [0, 0.2]) {
        const ref = elementwiseRef(t, p, (y, q) => {
          const ys = y * (1 - s) + 0.5 * s;
          return -(ys * Math.log(q) + (1 - ys) * Math.log(1 - q));
        });
        assertClose(evaluate((a, b) => losses.binaryCrossentropy({ labelSmoothing: s }).call(a, b), t, p), ref, `bce [${shape}] smoothing ${s}`, 1e-10);
      }
    }
    // predictions of exactly 0 and 1 are clipped to [1e-7, 1 - 1e-7]
    const t = { shape: [2, 2], value: [1, 0, 0, 1] }, p = { shape: [2, 2], value: [0, 1, 0.5, 0.5] };
    const ref = elementwiseRef(t, p, (y, q) => {
      const c = clip(q, EPS, 1 - EPS);
      return -(y * Math.log(c) + (1 - y) * Math.log(1 - c));
    });
    assertClose(evaluate((a, b) => losses.binaryCrossentropy().call(a, b), t, p), ref, 'bce clipped', 1e-9);
  });

  it('binaryCrossentropy from logits, and from a sigmoid output (computed from its logits)', () => {
    const t = binary(41, [5, 2]), z = randomData(42, [5, 2], -6, 6);
    const ref = elementwiseRef(t, z, (y, x) => -(y * Math.log(sigmoid(x)) + (1 - y) * Math.log(1 - sigmoid(x))));
    assertClose(evaluate((a, b) => losses.binaryCrossentropy({ fromLogits: true }).call(a, b), t, z), ref, 'bce logits', 1e-10);
    assertClose(evaluate((a, b) => losses.binaryCrossentropy().call(a, T.sigmoid(b)), t, z), ref, 'bce of sigmoid', 1e-10);
    // label smoothing applies to logits too
    const s = 0.3;
    const refS = elementwiseRef(t, z, (y, x) => {
      const ys = y * (1 - s) + 0.5 * s;
      return -(ys * Math.log(sigmoid(x)) + (1 - ys) * Math.log(1 - sigmoid(x)));
    });
    assertClose(evaluate((a, b) => losses.binaryCrossentropy({ fromLogits: true, labelSmoothing: s }).call(a, b), t, z), refS, 'bce logits smoothing', 1e-10);
  });

  it('categoricalCrossentropy normalizes probabilities over the class axis, clips, smooths labels', () => {
    for (const shape of [[4, 3], [2, 3, 4]]) {
      const t = oneHot(51, shape), p = randomData(52, shape, 0.1, 2); // rows do not sum to 1
      for (const s of [0, 0.1]) {
        const ref = classwiseRef(t, p, (tg, pg) => {
          const z = sum(pg);
          return -sum(tg.map((y, j) => (y * (1 - s) + s / tg.length) * Math.log(clip(pg[j] / z, EPS, 1 - EPS))));
        });
        assertClose(evaluate((a, b) => losses.categoricalCrossentropy({ labelSmoothing: s }).call(a, b), t, p), ref, `cce [${shape}] smoothing ${s}`, 1e-10);
      }
    }
  });

  it('categoricalCrossentropy from logits, from a softmax output, and over a middle class axis', () => {
    const t = oneHot(61, [4, 5]), z = randomData(62, [4, 5], -4, 4);
    const ref = classwiseRef(t, z, (tg, zg) => -sum(tg.map((y, j) => y * (zg[j] - logSumExp(zg)))));
    assertClose(evaluate((a, b) => losses.categoricalCrossentropy({ fromLogits: true }).call(a, b), t, z), ref, 'cce logits', 1e-10);
    assertClose(evaluate((a, b) => losses.categoricalCrossentropy().call(a, T.softmax(b)), t, z), ref, 'cce of softmax', 1e-10);
    // soft labels with smoothing 0.2 from logits
    const soft = randomData(63, [4, 5], 0, 1);
    const refS = classwiseRef(soft, z, (tg, zg) => -sum(tg.map((y, j) => (y * 0.8 + 0.2 / 5) * (zg[j] - logSumExp(zg)))));
    assertClose(evaluate((a, b) => losses.categoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.2 }).call(a, b), soft, z), refS, 'cce soft logits', 1e-10);
    // classes on axis 1 of [2, 3, 4]: each (sample, k) column is one distribution, averaged over k
    const t3 = randomData(64, [2, 3, 4], 0, 1), p3 = randomData(65, [2, 3, 4], 0.1, 1);
    const at = (d: Data, b: number, c: number, k: number) => d.value[b * 12 + c * 4 + k];
    const ref3 = [0, 1].map((b) =>
      mean([0, 1, 2, 3].map((k) => {
        const z = sum([0, 1, 2].map((c) => at(p3, b, c, k)));
        return -sum([0, 1, 2].map((c) => at(t3, b, c, k) * Math.log(clip(at(p3, b, c, k) / z, EPS, 1 - EPS))));
      })),
    );
    assertClose(evaluate((a, b) => losses.categoricalCrossentropy({ axis: 1 }).call(a, b), t3, p3), ref3, 'cce axis 1', 1e-10);
  });

  it('sparseCategoricalCrossentropy with int32 labels, [batch, 1] float labels and logits', () => {
    const labels = [2, 0, 1, 2];
    const p = randomData(71, [4, 3], 0.1, 1);
    const ref = samples(p).map((row, b) => -Math.log(clip(row[labels[b]] / sum(row), EPS, 1 - EPS)));
    assertClose(evaluate((a, b) => losses.sparseCategoricalCrossentropy().call(a, b), { shape: [4], value: labels, dtype: 'int32' }, p), ref, 'scce int32', 1e-10);
    assertClose(evaluate((a, b) => losses.sparseCategoricalCrossentropy().call(a, b), { shape: [4, 1], value: labels }, p), ref, 'scce float [4,1]', 1e-10);
    const z = randomData(72, [4, 3], -3, 3);
    const refZ = samples(z).map((row, b) => logSumExp(row) - row[labels[b]]);
    assertClose(
      evaluate((a, b) => losses.sparseCategoricalCrossentropy({ fromLogits: true }).call(a, b), { shape: [4], value: labels, dtype: 'int32' }, z),
      refZ,
      'scce logits',
      1e-10,
    );
  });

  it('sparseCategoricalCrossentropy ignoreClass averages over the other labels only', () => {
    const labels = [2, -1, 1, -1, 0];
    const z = randomData(73, [5, 3], -3, 3);
    const loss = new SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: -1 });
    const valid = labels.map((l, b) => (l === -1 ? 0 : logSumExp(samples(z)[b]) - samples(z)[b][l]));
    const expected = sum(valid) / (3 + EPS);
    const got = evaluate((a, b) => reduceLoss(loss.call(a, b)), { shape: [5], value: labels, dtype: 'int32' }, z);
    assertClose(got, [expected], 'ignoreClass mean', 1e-10);
  });

  it('klDivergence, hinge, squaredHinge, categoricalHinge and cosineSimilarity', () => {
    const t = randomData(81, [3, 4], 0, 1), p = randomData(82, [3, 4], 0, 1);
    t.value[0] = 0; // clipped to 1e-7
    const kld = classwiseRef(t, p, (tg, pg) => sum(tg.map((y, j) => clip(y, EPS, 1) * Math.log(clip(y, EPS, 1) / clip(pg[j], EPS, 1)))));
    assertClose(evaluate((a, b) => losses.kld().call(a, b), t, p), kld, 'kld', 1e-10);
    assertClose(evaluate((a, b) => losses.kullbackLeiblerDivergence().call(a, b), t, p), kld, 'kld alias', 1e-10);

    const raw = randomData(83, [4, 3], -2, 2);
    const b01 = binary(84, [4, 3]);
    const pm1 = { shape: [4, 3], value: b01.value.map((v) => 2 * v - 1) };
    for (const labels of [b01, pm1]) {
      const hinge = elementwiseRef(pm1, raw, (y, q) => Math.max(1 - y * q, 0));
      assertClose(evaluate((a, b) => losses.hinge().call(a, b), labels, raw), hinge, 'hinge', 1e-10);
      const sq = elementwiseRef(pm1, raw, (y, q) => Math.max(1 - y * q, 0) ** 2);
      assertClose(evaluate((a, b) => losses.squaredHinge().call(a, b), labels, raw), sq, 'squaredHinge', 1e-10);
    }
    // labels that are not all 0/1 are used as they are
    const odd = { shape: [4, 3], value: b01.value.map((v, i) => (i === 0 ? 0.5 : v)) };
    assertClose(evaluate((a, b) => losses.hinge().call(a, b), odd, raw), elementwiseRef(odd, raw, (y, q) => Math.max(1 - y * q, 0)), 'hinge raw labels', 1e-10);

    const oh = oneHot(85, [4, 3]);
    const ch = classwiseRef(oh, raw, (tg, pg) => {
      const pos = sum(tg.map((y, j) => y * pg[j]));
      const neg = Math.max(...tg.map((y, j) => (1 - y) * pg[j]));
      return Math.max(neg - pos + 1, 0);
    });
    assertClose(evaluate((a, b) => losses.categoricalHinge().call(a, b), oh, raw), ch, 'categoricalHinge', 1e-10);

    const u = randomData(86, [2, 3, 4], -1, 1), v = randomData(87, [2, 3, 4], -1, 1);
    const norm = (xs: number[]) => Math.sqrt(sum(xs.map((x) => x * x)));
    const cos = classwiseRef(u, v, (a, b) => -sum(a.map((x, j) => x * b[j])) / (norm(a) * norm(b)));
    assertClose(evaluate((a, b) => losses.cosineSimilarity().call(a, b), u, v), cos, 'cosineSimilarity', 1e-10);
    // a zero vector has no direction: its similarity is 0
    const zero = { shape: [1, 3], value: [0, 0, 0] };
    assertClose(evaluate((a, b) => new CosineSimilarity().call(a, b), zero, { shape: [1, 3], value: [1, 2, 3] }), [0], 'cosine of zero');
  });
});

describe('models/losses: reduceLoss and getLoss', () => {
  it("reduceLoss is sum(loss · weight) / batch (Keras's sum_over_batch_size), 0 for an empty batch", () => {
    const l = T.dvector('l'), w = T.dvector('w');
    const f = st.fn([l, w], [reduceLoss(l), reduceLoss(l, w), reduceLoss(l, T.expandDims(w, 1))]);
    const lv = [0.5, 2, 1.5, 4], wv = [1, 0, 2, 0.5];
    const out = f.sync(makeTensor(lv, [4]), makeTensor(wv, [4])).map((x) => x.dataSync()[0] as number);
    const weighted = sum(lv.map((x, i) => x * wv[i])) / 4;
    assertClose(out, [mean(lv), weighted, weighted], 'reduceLoss', 1e-12);
    const empty = f.sync(makeTensor([], [0]), makeTensor([], [0])).map((x) => x.dataSync()[0] as number);
    assert.deepEqual(empty, [0, 0, 0]);
  });

  it('loss.compute reduces with sample weights through the whole chain', () => {
    const t = oneHot(91, [3, 4]), z = randomData(92, [3, 4], -2, 2);
    const per = classwiseRef(t, z, (tg, zg) => -sum(tg.map((y, j) => y * (zg[j] - logSumExp(zg)))));
    const w = [0.2, 1, 3];
    const vt = input(t, 't'), vz = input(z, 'z'), vw = T.dvector('w');
    const f = st.fn([vt, vz, vw], losses.categoricalCrossentropy({ fromLogits: true }).compute(vt, vz, vw));
    const got = f.sync(makeTensor(t.value, t.shape), makeTensor(z.value, z.shape), makeTensor(w, [3])).dataSync()[0] as number;
    assertClose([got], [sum(per.map((x, i) => x * w[i])) / 3], 'compute', 1e-10);
  });

  it('getLoss resolves camelCase, aliases, snake_case and class names, Losses, functions and configs', () => {
    assert.ok(getLoss('mse') instanceof MeanSquaredError);
    assert.equal(getLoss('mean_squared_error').name, 'meanSquaredError');
    assert.equal(getLoss('categorical_crossentropy').className, 'CategoricalCrossentropy');
    assert.equal(getLoss('CategoricalCrossentropy').className, 'CategoricalCrossentropy');
    assert.equal(getLoss('kullback_leibler_divergence').className, 'KLDivergence');
    assert.equal(getLoss('MAPE').className, 'MeanAbsolutePercentageError');
    const own = new Huber({ delta: 2 });
    assert.equal(getLoss(own), own);
    // a config round trip keeps the options, and Keras's snake_case keys are read too
    const cfg = new CategoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.1 }).getConfig();
    assert.deepEqual(cfg, { className: 'CategoricalCrossentropy', config: { name: 'categoricalCrossentropy', fromLogits: true, labelSmoothing: 0.1, axis: -1 } });
    const back = getLoss(cfg) as CategoricalCrossentropy;
    assert.deepEqual([back.fromLogits, back.labelSmoothing, back.axis], [true, 0.1, -1]);
    const keras = getLoss({ className: 'BinaryCrossentropy', config: { from_logits: true, label_smoothing: 0.2, reduction: 'sum_over_batch_size', name: 'bce' } }) as BinaryCrossentropy;
    assert.deepEqual([keras.fromLogits, keras.labelSmoothing, keras.name], [true, 0.2, 'bce']);
    // a plain function gives per-sample losses; extra axes are averaged
    const fnLoss = getLoss(function absCube(a: V, b: V) {
      return T.abs(T.mul(T.square(T.sub(a, b)), T.sub(a, b)));
    });
    assert.ok(fnLoss instanceof Loss);
    assert.equal(fnLoss.name, 'absCube');
    const t = randomData(93, [3, 2], -1, 1), p = randomData(94, [3, 2], -1, 1);
    assertClose(evaluate((a, b) => fnLoss.call(a, b), t, p), elementwiseRef(t, p, (x, y) => Math.abs(x - y) ** 3), 'function loss', 1e-10);
  });

  it('unknown names, classes, options and reductions are errors that list what is valid', () => {
    expectError(() => getLoss('meanSquaredErrr'), 'ERR_ST_ARG', [/unknown loss "meanSquaredErrr"/, /meanSquaredError/, /sparseCategoricalCrossentropy/]);
    expectError(() => getLoss({ className: 'Nope' }), 'ERR_ST_ARG', [/unknown loss class "Nope"/, /CategoricalHinge/]);
    expectError(() => getLoss({ className: 'Huber', config: { reduction: 'sum' } }), 'ERR_ST_ARG', [/reduction "sum"/]);
    expectError(() => losses.huber({ delt: 2 } as never), 'ERR_ST_ARG', [/unknown option "delt"/, /delta/]);
    expectError(() => losses.huber({ delta: -1 }), 'ERR_ST_ARG', [/delta must be a positive number/]);
    expectError(() => losses.binaryCrossentropy({ labelSmoothing: 2 }), 'ERR_ST_ARG', [/labelSmoothing must be in \[0, 1\]/]);
    expectError(() => getLoss(42 as never), 'ERR_ST_ARG', [/expected a loss name/]);
  });
});

describe('models/losses: shape errors at build time', () => {
  it('yTrue and yPred of different shapes name the loss and both shapes', () => {
    const t = T.tensor('float32', [null, 3], 'labels'), p = T.tensor('float32', [null, 4], 'probs');
    expectError(() => losses.categoricalCrossentropy().call(t, p), 'ERR_ST_SHAPE', [/categoricalCrossentropy/, /\[\?,3\]/, /\[\?,4\]/]);
    expectError(() => losses.mse().call(T.tensor('float32', [null, 2, 3]), T.tensor('float32', [null, 3])), 'ERR_ST_SHAPE', [/meanSquaredError/, /\[\?,2,3\]/, /\[\?,3\]/]);
  });

  it('a last axis of 1 on one side only is aligned as Keras does', () => {
    const t = { shape: [4], value: [1, 0, 1, 1] }, p = randomData(101, [4, 1], 0.1, 0.9);
    const ref = elementwiseRef(t, p, (y, q) => -(y * Math.log(q) + (1 - y) * Math.log(1 - q)));
    assertClose(evaluate((a, b) => losses.binaryCrossentropy().call(a, b), t, p), ref, 'bce [4] vs [4,1]', 1e-10);
  });

  it('sparse labels must be [batch] or [batch, 1]; predictions must be float', () => {
    const p = T.tensor('float32', [null, 5], 'probs');
    expectError(() => losses.sparseCategoricalCrossentropy().call(T.tensor('int32', [null, 5], 'labels'), p), 'ERR_ST_SHAPE', [/sparseCategoricalCrossentropy/, /\[\?,5\]/]);
    expectError(() => losses.mse().call(T.tensor('float32', [null, 2]), T.tensor('int32', [null, 2], 'counts')), 'ERR_ST_DTYPE', [/meanSquaredError/, /counts/]);
  });

  it("Theano's order (one-hot labels as yPred) is reported", () => {
    const labels = T.oneHot(T.ivector('k'), 4), p = T.softmax(T.matrix('z'));
    expectError(() => losses.categoricalCrossentropy().call(p, labels), 'ERR_ST_ARG', [/labels first/]);
  });
});

describe('models/losses: gradients against finite differences', () => {
  const rng = new Rng(7);
  const pos = (n: number) => Array.from({ length: n }, () => rng.uniform(0.2, 1.5));
  const any = (n: number) => Array.from({ length: n }, () => rng.uniform(-2, 2));

  it('categoricalCrossentropy on probabilities (normalized) and from logits', () => {
    const t = oneHot(111, [3, 4]);
    checkGrad('cce probs', [{ shape: [3, 4], value: t.value, fixed: true }, { shape: [3, 4], value: pos(12) }], (a, b) => losses.categoricalCrossentropy({ labelSmoothing: 0.1 }).call(a, b));
    checkGrad('cce logits', [{ shape: [3, 4], value: t.value, fixed: true }, { shape: [3, 4], value: any(12) }], (a, b) => reduceLoss(losses.categoricalCrossentropy({ fromLogits: true }).call(a, b)));
  });

  it('binaryCrossentropy from logits, sparse crossentropy from logits and huber', () => {
    const y = binary(112, [4, 2]);
    checkGrad('bce logits', [{ shape: [4, 2], value: y.value, fixed: true }, { shape: [4, 2], value: any(8) }], (a, b) => losses.binaryCrossentropy({ fromLogits: true }).call(a, b));
    checkGrad(
      'scce logits',
      [{ shape: [3], value: [1, 0, 3], dtype: 'int32', fixed: true }, { shape: [3, 4], value: any(12) }],
      (a, b) => losses.sparseCategoricalCrossentropy({ fromLogits: true }).call(a, b),
    );
    // |yPred - yTrue| stays away from delta = 1, where huber's second derivative jumps
    const t = [0, 0, 0, 0, 0, 0], p = [0.3, -0.6, 1.7, -2.2, 0.8, 1.4];
    checkGrad('huber', [{ shape: [3, 2], value: t, fixed: true }, { shape: [3, 2], value: p }], (a, b) => losses.huber().call(a, b));
  });
});
