// Keras metrics as state in shared variables: batches fed through one compiled update program,
// result() compared with the value computed here over all batches in plain float64 loops;
// resetState, getMetric's resolution of 'accuracy' and names, and errors.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import {
  AUC, BinaryAccuracy, CategoricalAccuracy, F1Score, FBetaScore, Mean, MeanMetricWrapper, MeanSquaredError, Metric, Precision, Recall,
  SparseCategoricalAccuracy, getMetric, metrics,
} from '../../lib/models/metrics';
import { expectError } from '../support/check';
import { Rng } from '../support/reference';
import { assertClose, makeTensor } from '../support/fd';

const { T } = st;
type V = st.Variable;
type DT = 'float32' | 'float64' | 'int32';

interface Batch {
  yTrue: number[];
  yPred: number[];
  weight?: number[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const f32 = Math.fround;

/**
 * Feeds batches through one compiled update program (no outputs, only the metric's updates) and
 * returns the metric's result as numbers.  rest: the shape after the batch axis.
 */
function feed(m: Metric, batches: Batch[], rest: { yTrue: number[]; yPred: number[] }, dtypes: { yTrue?: DT; yPred?: DT } = {}): number[] {
  const dt = dtypes.yTrue ?? 'float32', dp = dtypes.yPred ?? 'float32';
  const vt = T.tensor(dt, [null, ...rest.yTrue], 'yTrue'), vp = T.tensor(dp, [null, ...rest.yPred], 'yPred');
  const weighted = batches.some((b) => b.weight);
  const vw = T.vector('w');
  const inputs = weighted ? [vt, vp, vw] : [vt, vp];
  const step = st.fn(inputs, [], { updates: m.updateState(vt, vp, weighted ? vw : undefined) });
  const perRow = (r: number[]) => r.reduce((a, b) => a * b, 1);
  for (const b of batches) {
    const n = b.yPred.length / perRow(rest.yPred);
    const args = [makeTensor(b.yTrue, [n, ...rest.yTrue], dt), makeTensor(b.yPred, [n, ...rest.yPred], dp)];
    if (weighted) args.push(makeTensor(b.weight ?? new Array(n).fill(1), [n], 'float32'));
    step.sync(...args);
  }
  step.dispose();
  return resultOf(m);
}

function resultOf(m: Metric): number[] {
  const f = st.fn([], m.result());
  const out = f.sync();
  const v = Array.from(out.dataSync() as ArrayLike<number>);
  f.dispose();
  return v;
}

const rows = (xs: number[], n: number) => Array.from({ length: xs.length / n }, (_, i) => xs.slice(i * n, (i + 1) * n));
const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));

describe('models/metrics: means and accuracies over several batches', () => {
  it('Mean weighs values by sample weight and averages extra axes per sample', () => {
    const m = new Mean();
    const v = T.matrix('v'), w = T.vector('w');
    const step = st.fn([v, w], [], { updates: m.updateState(v, w) });
    step.sync([[1, 3], [2, 2], [10, 0]], [1, 2, 0.5]);
    step.sync([[4, 4]], [3]);
    const perSample = [2, 2, 5, 4], weights = [1, 2, 0.5, 3];
    assertClose(resultOf(m), [sum(perSample.map((x, i) => x * weights[i])) / sum(weights)], 'mean', 1e-6);
    assert.deepEqual(m.variables().map((x) => x.name), ['mean/total', 'mean/count']);
  });

  it('BinaryAccuracy with thresholds 0.5 and 0.7, weights and a [batch, 2] output', () => {
    const batches: Batch[] = [
      { yTrue: [1, 0, 1, 1, 0, 0], yPred: [0.9, 0.6, 0.4, 0.75, 0.1, 0.5], weight: [1, 2, 0.5] },
      { yTrue: [0, 1, 1, 0], yPred: [0.65, 0.8, 0.55, 0.2], weight: [3, 1] },
    ];
    for (const thr of [0.5, 0.7]) {
      let total = 0, count = 0;
      for (const b of batches) {
        rows(b.yTrue, 2).forEach((r, i) => {
          const p = rows(b.yPred, 2)[i];
          const acc = (Number((p[0] > thr ? 1 : 0) === r[0]) + Number((p[1] > thr ? 1 : 0) === r[1])) / 2;
          total += acc * b.weight![i];
          count += b.weight![i];
        });
      }
      assertClose(feed(new BinaryAccuracy({ threshold: thr }), batches, { yTrue: [2], yPred: [2] }), [total / count], `threshold ${thr}`, 1e-6);
    }
  });

  it('CategoricalAccuracy and SparseCategoricalAccuracy (int32 [batch] and float [batch, 1] labels)', () => {
    const rng = new Rng(5);
    const preds = [Array.from({ length: 12 }, () => rng.uniform(0, 1)), Array.from({ length: 9 }, () => rng.uniform(0, 1))];
    const labels = [[2, 0, 1, 2], [1, 1, 0]];
    const oneHot = (ls: number[]) => ls.flatMap((l) => [0, 1, 2].map((j) => (j === l ? 1 : 0)));
    let hits = 0;
    preds.forEach((p, b) => rows(p, 3).forEach((r, i) => (hits += Number(argmax(r) === labels[b][i]))));
    const expected = hits / 7;
    const cat = preds.map((p, b) => ({ yTrue: oneHot(labels[b]), yPred: p }));
    assertClose(feed(new CategoricalAccuracy(), cat, { yTrue: [3], yPred: [3] }), [expected], 'categorical', 1e-6);
    const sparse = preds.map((p, b) => ({ yTrue: labels[b], yPred: p }));
    assertClose(feed(new SparseCategoricalAccuracy(), sparse, { yTrue: [], yPred: [3] }, { yTrue: 'int32' }), [expected], 'sparse int32', 1e-6);
    assertClose(feed(new SparseCategoricalAccuracy(), sparse, { yTrue: [1], yPred: [3] }), [expected], 'sparse [batch,1]', 1e-6);
  });

  it('top-k accuracies: the label counts as in the top k when fewer than k predictions are larger (ties in its favour)', () => {
    const preds = [0.1, 0.5, 0.3, 0.1, /**/ 0.4, 0.4, 0.1, 0.1, /**/ 0.2, 0.3, 0.25, 0.25, /**/ 0.7, 0.1, 0.1, 0.1];
    const labels = [2, 1, 3, 1];
    const inTop = (k: number) =>
      rows(preds, 4).map((r, i) => Number(r.filter((x) => x > r[labels[i]]).length < k));
    for (const k of [1, 2, 3]) {
      const expected = sum(inTop(k)) / 4;
      const sparse = [{ yTrue: labels.slice(0, 2), yPred: preds.slice(0, 8) }, { yTrue: labels.slice(2), yPred: preds.slice(8) }];
      assertClose(feed(metrics.sparseTopKCategoricalAccuracy({ k }), sparse, { yTrue: [], yPred: [4] }, { yTrue: 'int32' }), [expected], `sparse top ${k}`, 1e-6);
      const oh = labels.flatMap((l) => [0, 1, 2, 3].map((j) => (j === l ? 1 : 0)));
      assertClose(feed(metrics.topKCategoricalAccuracy({ k }), [{ yTrue: oh, yPred: preds }], { yTrue: [4], yPred: [4] }), [expected], `top ${k}`, 1e-6);
    }
    // the worked values themselves (k = 1: only rows 1 (tie, counted) and 3 (0.7 first))
    assert.deepEqual(inTop(1), [0, 1, 0, 0]);
  });

  it('MeanSquaredError, MeanAbsoluteError and RootMeanSquaredError accumulate over batches', () => {
    const batches: Batch[] = [
      { yTrue: [1, 2, 3, 4], yPred: [1.5, 2, 2, 5], weight: [1, 3] },
      { yTrue: [0, -1], yPred: [1, 1], weight: [2] },
    ];
    const per = (f: (d: number) => number) => {
      let total = 0, count = 0;
      for (const b of batches) rows(b.yTrue, 2).forEach((r, i) => {
        const p = rows(b.yPred, 2)[i];
        total += ((f(r[0] - p[0]) + f(r[1] - p[1])) / 2) * b.weight![i];
        count += b.weight![i];
      });
      return total / count;
    };
    const shape = { yTrue: [2], yPred: [2] };
    assertClose(feed(metrics.mse(), batches, shape), [per((d) => d * d)], 'mse', 1e-6);
    assertClose(feed(metrics.mae(), batches, shape), [per(Math.abs)], 'mae', 1e-6);
    assertClose(feed(metrics.rmse(), batches, shape), [Math.sqrt(per((d) => d * d))], 'rmse', 1e-6);
  });

  it('an empty state gives 0, and resetState starts over', () => {
    const m = metrics.binaryAccuracy();
    assert.deepEqual(resultOf(m), [0]);
    feed(m, [{ yTrue: [1, 1], yPred: [0.9, 0.1] }], { yTrue: [1], yPred: [1] });
    assertClose(resultOf(m), [0.5], 'before reset');
    m.resetState();
    assert.deepEqual(resultOf(m), [0]);
    assertClose(feed(m, [{ yTrue: [1, 1, 0], yPred: [0.9, 0.8, 0.3] }], { yTrue: [1], yPred: [1] }), [1], 'after reset');
    const auc = new AUC({ numThresholds: 7 });
    feed(auc, [{ yTrue: [1, 0], yPred: [0.9, 0.2] }], { yTrue: [], yPred: [] });
    auc.resetState();
    for (const v of auc.variables()) assert.deepEqual(Array.from(v.get().dataSync() as Float32Array), new Array(7).fill(0));
  });
});

/** Weighted confusion counts at each threshold: prediction > threshold is positive. */
function confusion(batches: Batch[], thresholds: number[], soft: boolean) {
  const n = thresholds.length;
  const c = { tp: new Array(n).fill(0), fp: new Array(n).fill(0), tn: new Array(n).fill(0), fn: new Array(n).fill(0) };
  for (const b of batches) {
    const per = b.yPred.length / (b.weight?.length ?? b.yPred.length);
    b.yPred.forEach((p, i) => {
      const w = b.weight ? b.weight[Math.floor(i / per)] : 1;
      const y = soft ? b.yTrue[i] : Number(b.yTrue[i] !== 0);
      thresholds.forEach((t, k) => {
        const above = f32(p) > f32(t);
        if (above) (c.tp[k] += y * w), (c.fp[k] += (1 - y) * w);
        else (c.fn[k] += y * w), (c.tn[k] += (1 - y) * w);
      });
    });
  }
  return c;
}

const div = (a: number, b: number) => (b === 0 ? 0 : a / b);

describe('models/metrics: precision, recall and AUC from threshold counts', () => {
  const rng = new Rng(17);
  const batches: Batch[] = [0, 1, 2].map((b) => {
    const n = 4 + b;
    return {
      yTrue: Array.from({ length: n * 2 }, () => (rng.bool() ? 1 : 0)),
      // predictions kept 0.002 away from every threshold used below (multiples of 1/10 and 1/199)
      yPred: Array.from({ length: n * 2 }, () => {
        for (;;) {
          const v = rng.uniform(0, 1);
          if ([10, 199, 4].every((d) => Math.abs(v * d - Math.round(v * d)) > 0.002 * d)) return v;
        }
      }),
      weight: Array.from({ length: n }, () => rng.uniform(0.5, 2)),
    };
  });
  const shape = { yTrue: [2], yPred: [2] };

  it('Precision and Recall at one threshold (a scalar) and at several (a vector)', () => {
    const c = confusion(batches, [0.5], false);
    assertClose(feed(new Precision(), batches, shape), [div(c.tp[0], c.tp[0] + c.fp[0])], 'precision', 1e-5);
    assertClose(feed(new Recall(), batches, shape), [div(c.tp[0], c.tp[0] + c.fn[0])], 'recall', 1e-5);
    const ths = [0.2, 0.5, 0.9];
    const cs = confusion(batches, ths, false);
    assertClose(feed(new Precision({ thresholds: ths }), batches, shape), ths.map((_, k) => div(cs.tp[k], cs.tp[k] + cs.fp[k])), 'precision vector', 1e-5);
    assertClose(feed(new Recall({ thresholds: ths }), batches, shape), ths.map((_, k) => div(cs.tp[k], cs.tp[k] + cs.fn[k])), 'recall vector', 1e-5);
    assert.deepEqual(new Precision().variables().map((v) => v.name), ['precision/true_positives', 'precision/false_positives']);
  });

  /** Keras's thresholds: -1e-7, (i + 1) / (n - 1) for i < n - 2, 1 + 1e-7. */
  const kerasThresholds = (n: number) => [-1e-7, ...Array.from({ length: n - 2 }, (_, i) => (i + 1) / (n - 1)), 1 + 1e-7];

  it('ROC AUC is the trapezoid sum over the thresholds (and minoring/majoring the lower/upper sums)', () => {
    const ths = kerasThresholds(200);
    const c = confusion(batches, ths, true);
    const tpr = ths.map((_, k) => div(c.tp[k], c.tp[k] + c.fn[k]));
    const fpr = ths.map((_, k) => div(c.fp[k], c.fp[k] + c.tn[k]));
    let trap = 0, lower = 0, upper = 0;
    for (let k = 0; k < ths.length - 1; k++) {
      const dx = fpr[k] - fpr[k + 1];
      trap += (dx * (tpr[k] + tpr[k + 1])) / 2;
      lower += dx * Math.min(tpr[k], tpr[k + 1]);
      upper += dx * Math.max(tpr[k], tpr[k + 1]);
    }
    assertClose(feed(new AUC(), batches, shape), [trap], 'roc', 1e-5);
    assertClose(feed(new AUC({ summationMethod: 'minoring' }), batches, shape), [lower], 'roc minoring', 1e-5);
    assertClose(feed(new AUC({ summationMethod: 'majoring' }), batches, shape), [upper], 'roc majoring', 1e-5);
  });

  it('ROC AUC equals the Mann-Whitney statistic when every prediction has its own threshold bucket', () => {
    // 20 predictions, each in a different bucket of 1/(n-1): the trapezoids count every
    // (positive, negative) pair exactly once
    const n = 41;
    const preds = Array.from({ length: 20 }, (_, i) => ((i * 7) % 20) / 20 + 0.5 / 40 + 1 / 80);
    const labels = preds.map((_, i) => (i % 3 === 0 ? 0 : 1));
    let wins = 0, pairs = 0;
    preds.forEach((p, i) => preds.forEach((q, j) => {
      if (labels[i] === 1 && labels[j] === 0) (pairs += 1), (wins += p > q ? 1 : p === q ? 0.5 : 0);
    }));
    const got = feed(new AUC({ numThresholds: n }), [{ yTrue: labels.slice(0, 10), yPred: preds.slice(0, 10) }, { yTrue: labels.slice(10), yPred: preds.slice(10) }], { yTrue: [], yPred: [] });
    assertClose(got, [wins / pairs], 'auc vs Mann-Whitney', 1e-5);
  });

  it("PR AUC with Keras's interpolation of precision between thresholds, and with plain trapezoids", () => {
    const ths = kerasThresholds(200);
    const c = confusion(batches, ths, true);
    let interp = 0;
    for (let k = 0; k < ths.length - 1; k++) {
      // between two thresholds precision follows tp / p with tp linear in p = tp + fp
      const dtp = c.tp[k] - c.tp[k + 1];
      const p0 = c.tp[k] + c.fp[k], p1 = c.tp[k + 1] + c.fp[k + 1];
      const dp = p0 - p1;
      const slope = div(dtp, Math.max(dp, 0));
      const intercept = c.tp[k + 1] - slope * p1;
      const ratio = p0 > 0 && p1 > 0 ? div(p0, p1) : 1;
      interp += div(slope * (dtp + intercept * Math.log(ratio)), Math.max(c.tp[k + 1] + c.fn[k + 1], 0));
    }
    assertClose(feed(new AUC({ curve: 'PR' }), batches, shape), [interp], 'pr interpolation', 1e-4);
    const recall = ths.map((_, k) => div(c.tp[k], c.tp[k] + c.fn[k]));
    const precision = ths.map((_, k) => div(c.tp[k], c.tp[k] + c.fp[k]));
    let lower = 0;
    for (let k = 0; k < ths.length - 1; k++) lower += (recall[k] - recall[k + 1]) * Math.min(precision[k], precision[k + 1]);
    assertClose(feed(new AUC({ curve: 'PR', summationMethod: 'minoring' }), batches, shape), [lower], 'pr minoring', 1e-5);
  });

  it('AUC with given thresholds and soft labels (a label y adds y positives and 1 - y negatives)', () => {
    const soft: Batch[] = [{ yTrue: [0.2, 0.9, 1, 0, 0.6], yPred: [0.12, 0.81, 0.66, 0.43, 0.29] }];
    const ths = [-1e-7, 0.25, 0.5, 0.75, 1 + 1e-7];
    const c = confusion(soft, ths, true);
    const tpr = ths.map((_, k) => div(c.tp[k], c.tp[k] + c.fn[k]));
    const fpr = ths.map((_, k) => div(c.fp[k], c.fp[k] + c.tn[k]));
    let trap = 0;
    for (let k = 0; k < ths.length - 1; k++) trap += ((fpr[k] - fpr[k + 1]) * (tpr[k] + tpr[k + 1])) / 2;
    assertClose(feed(new AUC({ thresholds: [0.25, 0.5, 0.75] }), soft, { yTrue: [], yPred: [] }), [trap], 'auc soft', 1e-5);
  });
});

describe('models/metrics: F-scores', () => {
  const batches: Batch[] = [
    { yTrue: [1, 0, 0, 0, 1, 0, 0, 0, 1], yPred: [0.7, 0.2, 0.1, 0.3, 0.4, 0.3, 0.6, 0.3, 0.1], weight: [1, 2, 0.5] },
    { yTrue: [0, 0, 1, 1, 0, 0], yPred: [0.2, 0.2, 0.6, 0.1, 0.8, 0.1], weight: [1.5, 3] },
  ];
  const e = 1e-7;

  /** Keras's FBetaScore computed from per-class (or pooled) weighted counts. */
  function fbeta(threshold: number | null, beta: number, average: string | null): number[] {
    const C = 3;
    const tp = new Array(C).fill(0), fp = new Array(C).fill(0), fn = new Array(C).fill(0), support = new Array(C).fill(0);
    for (const b of batches) {
      rows(b.yPred, C).forEach((r, i) => {
        const t = rows(b.yTrue, C)[i], w = b.weight![i];
        const mx = Math.max(...r);
        r.forEach((p, j) => {
          const pos = threshold === null ? p >= mx && Math.abs(p) > 1e-9 : f32(p) > f32(threshold);
          const q = pos ? 1 : 0;
          tp[j] += q * t[j] * w;
          fp[j] += q * (1 - t[j]) * w;
          fn[j] += (1 - q) * t[j] * w;
          support[j] += t[j] * w;
        });
      });
    }
    const score = (a: number, b: number, c: number) => {
      const p = a / (a + b + e), r = a / (a + c + e);
      return ((1 + beta * beta) * p * r) / (beta * beta * p + r + e);
    };
    if (average === 'micro') return [score(sum(tp), sum(fp), sum(fn))];
    const per = tp.map((_, j) => score(tp[j], fp[j], fn[j]));
    if (average === 'macro') return [sum(per) / C];
    if (average === 'weighted') return [sum(per.map((f, j) => (f * support[j]) / (sum(support) + e)))];
    return per;
  }
  const shape = { yTrue: [3], yPred: [3] };

  for (const average of [null, 'micro', 'macro', 'weighted'] as const) {
    it(`F1Score average ${average}, with the row maximum and with threshold 0.25`, () => {
      assertClose(feed(new F1Score({ average }), batches, shape), fbeta(null, 1, average), `f1 ${average}`, 1e-5);
      assertClose(feed(new F1Score({ average, threshold: 0.25 }), batches, shape), fbeta(0.25, 1, average), `f1 ${average} threshold`, 1e-5);
    });
  }

  it('FBetaScore with beta 2; the state is made on the first update or from numClasses', () => {
    assertClose(feed(new FBetaScore({ beta: 2, average: 'macro' }), batches, shape), fbeta(null, 2, 'macro'), 'f2', 1e-5);
    const lazy = new F1Score();
    assert.equal(lazy.variables().length, 0);
    expectError(() => lazy.result(), 'ERR_ST_ARG', [/f1_score/, /updateState/]);
    assert.equal(new F1Score({ numClasses: 3 }).variables().length, 4);
    assert.equal(new F1Score({ average: 'micro' }).variables().length, 0);
  });
});

describe('models/metrics: getMetric', () => {
  it("'accuracy' follows the loss and the output shape as Keras chooses", () => {
    const cases: [{ lossName?: string; outputShape?: (number | null)[] }, Function][] = [
      [{ lossName: 'binaryCrossentropy', outputShape: [null, 4] }, BinaryAccuracy],
      [{ lossName: 'binary_crossentropy' }, BinaryAccuracy],
      [{ lossName: 'meanSquaredError', outputShape: [null, 1] }, BinaryAccuracy],
      [{ lossName: 'sparseCategoricalCrossentropy', outputShape: [null, 10] }, SparseCategoricalAccuracy],
      [{ lossName: 'sparse_categorical_crossentropy' }, SparseCategoricalAccuracy],
      [{ lossName: 'categoricalCrossentropy', outputShape: [null, 10] }, CategoricalAccuracy],
      [{}, CategoricalAccuracy],
    ];
    for (const [ctx, cls] of cases) {
      const m = getMetric('accuracy', ctx);
      assert.ok(m instanceof cls, `${JSON.stringify(ctx)} gave ${m.className}`);
      assert.equal(m.name, 'accuracy');
    }
    assert.equal(getMetric('acc', { lossName: 'binaryCrossentropy' }).name, 'acc');
  });

  it('names: lowercase ids are history keys as given, others get the Keras snake_case name', () => {
    const got = (id: string, ctx = {}) => {
      const m = getMetric(id, ctx);
      return [m.className, m.name];
    };
    assert.deepEqual(got('mse'), ['MeanSquaredError', 'mse']);
    assert.deepEqual(got('meanSquaredError'), ['MeanSquaredError', 'mean_squared_error']);
    assert.deepEqual(got('mean_squared_error'), ['MeanSquaredError', 'mean_squared_error']);
    assert.deepEqual(got('AUC'), ['AUC', 'auc']);
    assert.deepEqual(got('precision'), ['Precision', 'precision']);
    assert.deepEqual(got('f1Score'), ['F1Score', 'f1_score']);
    assert.deepEqual(got('topKCategoricalAccuracy'), ['TopKCategoricalAccuracy', 'top_k_categorical_accuracy']);
    assert.deepEqual(got('rmse'), ['RootMeanSquaredError', 'rmse']);
    // a loss name gives the mean of that loss
    const ce = getMetric('categorical_crossentropy');
    assert.ok(ce instanceof MeanMetricWrapper);
    assert.equal(ce.name, 'categorical_crossentropy');
    // F1 is built at once when the output's classes are known
    assert.equal(getMetric('f1', { outputShape: [null, 5] }).variables().length, 4);
    // a Metric is used as it is; a function is averaged and named after itself
    const own = new MeanSquaredError({ name: 'my_mse' });
    assert.equal(getMetric(own), own);
    const fnMetric = getMetric(function absError(t: V, p: V) {
      return T.abs(T.sub(t, p));
    });
    assert.equal(fnMetric.name, 'abs_error');
    assertClose(feed(fnMetric, [{ yTrue: [1, 2, 3], yPred: [2, 2, 5] }], { yTrue: [], yPred: [] }), [1], 'function metric', 1e-6);
    // configs round trip
    const cfg = new AUC({ curve: 'PR', numThresholds: 50 }).getConfig();
    const back = getMetric(cfg) as AUC;
    assert.deepEqual([back.curve, back.numThresholds, back.name], ['PR', 50, 'auc']);
  });

  it('a loss-named metric averages the per-sample loss over batches', () => {
    const m = getMetric('binary_crossentropy');
    const batches: Batch[] = [{ yTrue: [1, 0], yPred: [0.8, 0.3] }, { yTrue: [1], yPred: [0.4] }];
    const expected = (-Math.log(0.8) - Math.log(0.7) - Math.log(0.4)) / 3;
    assertClose(feed(m, batches, { yTrue: [1], yPred: [1] }), [expected], 'bce metric', 1e-5);
  });

  it('unknown names and bad options are errors that list what is valid', () => {
    expectError(() => getMetric('accuracyy'), 'ERR_ST_ARG', [/unknown metric "accuracyy"/, /accuracy/, /precision/, /auc/, /categoricalCrossentropy/]);
    expectError(() => getMetric({ className: 'Nope' }), 'ERR_ST_ARG', [/unknown metric class "Nope"/, /Precision/]);
    expectError(() => getMetric(3 as never), 'ERR_ST_ARG', [/expected a metric name/]);
    expectError(() => new AUC({ curve: 'XY' as never }), 'ERR_ST_ARG', [/curve must be 'ROC' or 'PR'/]);
    expectError(() => new Precision({ thresholds: [0.5, 1.5] }), 'ERR_ST_ARG', [/thresholds must be/]);
    expectError(() => new F1Score({ average: 'mean' as never }), 'ERR_ST_ARG', [/average must be/]);
    expectError(() => metrics.topKCategoricalAccuracy({ k: 0 }), 'ERR_ST_ARG', [/k must be a positive integer/]);
    expectError(() => new BinaryAccuracy({ treshold: 0.5 } as never), 'ERR_ST_ARG', [/unknown option "treshold"/, /threshold/]);
  });

  it('shape errors name the metric and both shapes', () => {
    const m = new CategoricalAccuracy();
    expectError(() => m.updateState(T.tensor('float32', [null, 3]), T.tensor('float32', [null, 4])), 'ERR_ST_SHAPE', [/categorical_accuracy/, /\[\?,3\]/, /\[\?,4\]/]);
    const f1 = new F1Score({ numClasses: 3 });
    expectError(() => f1.updateState(T.tensor('float32', [null, 4]), T.tensor('float32', [null, 4])), 'ERR_ST_SHAPE', [/built for 3 classes/]);
  });
});
