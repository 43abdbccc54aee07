// A sequence output that carries a Keras mask weights its loss and its mean metrics by it, as Keras 3
// does: the loss is the (sample-weighted) sum over the unmasked steps divided by their number, and
// accuracy counts only those steps.  The expected values come from plain float64 loops over the
// unpadded steps only (embedding, LSTM and dense written from Keras's equations); the gradient
// step is checked against finite differences of that loop.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { CategoricalCrossentropy, MeanSquaredError, SparseCategoricalCrossentropy, reduceMaskedLoss } from '../../lib/models/losses';
import { catchError } from '../support/check';
import { assertClose, f64, makeTensor, uniform } from '../support/fd';
import { Rng } from '../support/reference';

const { T } = st;
type Mat = number[][];

const V = 6, E = 2, U = 2, K = 3, B = 3, S = 5;
// post-padding, a zero inside row 1, and a full row: 11 steps of 15 count
const IDS = [
  [3, 1, 4, 0, 0],
  [2, 5, 0, 1, 0],
  [1, 2, 3, 4, 5],
];

// ---- the reference ----
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const vm = (v: number[], m: Mat) => m[0].map((_, j) => v.reduce((s, vi, i) => s + vi * m[i][j], 0));
const rows = (flat: number[], r: number, c: number): Mat => Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c));
const block = (v: number[], k: number) => v.slice(k * U, (k + 1) * U);

/** The weights in the model's order: embeddings, LSTM kernel, recurrent kernel, bias, dense kernel, bias. */
const SHAPES = [[V, E], [E, 4 * U], [U, 4 * U], [4 * U], [U, K], [K]];
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);
const split = (flat: number[]) => {
  const out: number[][] = [];
  let o = 0;
  for (const s of SHAPES) out.push(flat.slice(o, (o += sizeOf(s))));
  return out;
};

/**
 * Per step: the dense output and whether the step counts.  With `masked`, steps whose id is 0 are
 * skipped by the LSTM (its states carry over and the output repeats, Keras's rule); without it
 * every step runs.
 */
function forward(params: number[], ids: number[][], masked: boolean, softmax: boolean): { p: number[][][]; valid: boolean[][] } {
  const [emb, k, r, b, dk, db] = split(params);
  const Em = rows(emb, V, E), W = rows(k, E, 4 * U), R = rows(r, U, 4 * U), D = rows(dk, U, K);
  const p: number[][][] = [], valid: boolean[][] = [];
  for (const seq of ids) {
    let h = new Array(U).fill(0), c = new Array(U).fill(0);
    const ps: number[][] = [], vs: boolean[] = [];
    for (const id of seq) {
      const use = !masked || id !== 0;
      if (use) {
        const g = vm(Em[id], W).map((v, j) => v + vm(h, R)[j] + b[j]);
        const i = block(g, 0).map(sig), f = block(g, 1).map(sig), cc = block(g, 2).map(Math.tanh), o = block(g, 3).map(sig);
        c = c.map((cv, j) => f[j] * cv + i[j] * cc[j]);
        h = c.map((cv, j) => o[j] * Math.tanh(cv));
      }
      const z = vm(h, D).map((v, j) => v + db[j]);
      if (softmax) {
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, x) => a + x, 0);
        ps.push(e.map((x) => x / sum));
      } else ps.push(z);
      vs.push(use);
    }
    p.push(ps);
    valid.push(vs);
  }
  return { p, valid };
}

/** Mean squared error per step, summed over the counted steps (weighted) and divided by their number. */
function mseRef(params: number[], y: number[][][], masked: boolean, w: number[] = [1, 1, 1]): number {
  const { p, valid } = forward(params, IDS, masked, false);
  let sum = 0, n = 0;
  p.forEach((row, bi) => row.forEach((pt, t) => {
    if (!valid[bi][t]) return;
    sum += w[bi] * pt.reduce((s, v, j) => s + (y[bi][t][j] - v) ** 2, 0) / K;
    n++;
  }));
  return sum / n;
}

function model(o: { maskZero: boolean; softmax: boolean; timeDistributed?: boolean }): st.Model {
  const x = st.input({ shape: [S], dtype: 'int32' });
  const e = st.layers.embedding({ inputDim: V, outputDim: E, maskZero: o.maskZero, dtype: 'float64' }).apply(x);
  const h = st.layers.lstm({ units: U, returnSequences: true, dtype: 'float64' }).apply(e);
  const dense = st.layers.dense({ units: K, activation: o.softmax ? 'softmax' : null, dtype: 'float64' });
  const out = (o.timeDistributed ? st.layers.timeDistributed({ layer: dense }) : dense).apply(h);
  return st.model({ inputs: x, outputs: out as st.KerasTensor });
}

const idsTensor = () => st.tensor(Int32Array.from(IDS.flat()), { shape: [B, S], dtype: 'int32' });
const nest3 = (v: number[]) => Array.from({ length: B }, (_, b) => rows(v.slice(b * S * K, (b + 1) * S * K), S, K));
const close = (a: number, e: number, what: string, tol = 2e-6) => assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}: ${a} vs ${e}`);

function setup(seed: number, o: { maskZero: boolean; softmax: boolean; timeDistributed?: boolean }) {
  const rng = new Rng(seed);
  const m = model(o);
  const params = uniform(rng, SHAPES.reduce((a, s) => a + sizeOf(s), 0), -0.8, 0.8);
  m.setWeights(split(params).map((v, i) => makeTensor(v, SHAPES[i])));
  return { m, params, rng };
}

describe('loss and metrics of a masked sequence output', () => {
  it('mean squared error: testOnBatch and evaluate average over the unpadded steps only (sample weights too)', async () => {
    const { m, params, rng } = setup(3, { maskZero: true, softmax: false, timeDistributed: true });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const yv = uniform(rng, B * S * K, -2, 2);
    const y = nest3(yv);
    const yt = () => makeTensor(yv, [B, S, K]);
    const ref = mseRef(params, y, true);
    close((await m.testOnBatch(idsTensor(), yt())) as number, ref, 'testOnBatch');
    close((await m.evaluate(idsTensor(), yt(), { batchSize: B, verbose: 0 })) as number, ref, 'evaluate, one batch');
    // the unmasked mean differs: the padding's targets would count
    assert.ok(Math.abs(mseRef(params, y, false) - ref) > 1e-3, 'the check can tell masked from unmasked');
    // batches of 2 and 1: Keras's running mean weighs each batch's masked mean by its size
    const part = (sel: number[]) => {
      const { p, valid } = forward(params, sel.map((i) => IDS[i]), true, false);
      let sum = 0, n = 0;
      p.forEach((row, bi) => row.forEach((pt, t) => {
        if (valid[bi][t]) (sum += pt.reduce((s, v, j) => s + (y[sel[bi]][t][j] - v) ** 2, 0) / K), n++;
      }));
      return sum / n;
    };
    close((await m.evaluate(idsTensor(), yt(), { batchSize: 2, verbose: 0 })) as number, (2 * part([0, 1]) + part([2])) / 3, 'evaluate, two batches');
    const w = [0.5, 2, 1.5];
    const weighted = (await m.testOnBatch(idsTensor(), yt(), { sampleWeight: st.tensor(Float32Array.from(w)) })) as number;
    close(weighted, mseRef(params, y, true, w), 'sample weights times the mask, over the unmasked count');
  });

  it('sparse categorical crossentropy and accuracy count only the unpadded steps', async () => {
    const { m, params, rng } = setup(5, { maskZero: true, softmax: true });
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const { p, valid } = forward(params, IDS, true, true);
    const argmax = (v: number[]) => v.indexOf(Math.max(...v));
    // counted steps get random labels; padded ones the predicted class, so counting them would raise accuracy
    const labels = p.map((row, b) => row.map((pt, t) => (valid[b][t] ? Math.floor(rng.uniform(0, K)) : argmax(pt))));
    let ce = 0, hits = 0, n = 0, allHits = 0;
    p.forEach((row, b) => row.forEach((pt, t) => {
      allHits += Number(argmax(pt) === labels[b][t]);
      if (!valid[b][t]) return;
      ce -= Math.log(pt[labels[b][t]]);
      hits += Number(argmax(pt) === labels[b][t]);
      n++;
    }));
    assert.equal(n, 11);
    assert.notEqual(hits / n, allHits / (B * S), 'the check can tell masked from unmasked accuracy');
    const yl = st.tensor(Int32Array.from(labels.flat()), { shape: [B, S], dtype: 'int32' });
    const [loss, acc] = (await m.testOnBatch(idsTensor(), yl)) as number[];
    close(loss, ce / n, 'loss');
    close(acc, hits / n, 'accuracy', 1e-7);
    const logs = (await m.evaluate(idsTensor(), yl, { batchSize: B, verbose: 0, returnDict: true })) as Record<string, number>;
    close(logs.loss, ce / n, 'evaluate loss');
    close(logs.accuracy, hits / n, 'evaluate accuracy', 1e-7);
    // sample weights: each counted step weighs its sequence's weight, in the loss and in accuracy
    const w = [0.5, 2, 1.5];
    let wce = 0, whits = 0, wsum = 0;
    p.forEach((row, b) => row.forEach((pt, t) => {
      if (!valid[b][t]) return;
      wce -= w[b] * Math.log(pt[labels[b][t]]);
      whits += w[b] * Number(argmax(pt) === labels[b][t]);
      wsum += w[b];
    }));
    const [wl, wa] = (await m.testOnBatch(idsTensor(), yl, { sampleWeight: st.tensor(Float32Array.from(w)) })) as number[];
    close(wl, wce / n, 'weighted loss: over the number of counted steps');
    close(wa, whits / wsum, 'weighted accuracy: over the counted steps\' weights', 1e-6);
  });

  it('one SGD step follows the gradient of the loss over the unpadded steps', async () => {
    const { m, params, rng } = setup(7, { maskZero: true, softmax: false });
    const lr = 0.5;
    m.compile({ optimizer: st.optimizers.sgd({ learningRate: lr }), loss: 'meanSquaredError' });
    const yv = uniform(rng, B * S * K, -2, 2);
    const y = nest3(yv);
    await m.trainOnBatch(idsTensor(), makeTensor(yv, [B, S, K]));
    // central finite differences of the reference loss
    const eps = 1e-6;
    const expected = params.map((v, i) => {
      const a = params.slice(), b = params.slice();
      a[i] += eps;
      b[i] -= eps;
      return v - lr * (mseRef(a, y, true) - mseRef(b, y, true)) / (2 * eps);
    });
    const got = m.getWeights().flatMap((t) => Array.from(f64(t)));
    // the step's total loss is float32 (as the loss trackers are), so the gradient is good to ~1e-7
    assertClose(got, expected, 'weights after one step', 1e-5, 1e-6);
    // the embedding row of the padding token is never used by a counted step: it stays
    assert.deepEqual(got.slice(0, E), params.slice(0, E), 'row 0 unchanged');
  });

  it('an output without a mask keeps the plain mean over every step', async () => {
    const { m, params, rng } = setup(11, { maskZero: false, softmax: false });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const yv = uniform(rng, B * S * K, -2, 2);
    const loss = (await m.testOnBatch(idsTensor(), makeTensor(yv, [B, S, K]))) as number;
    close(loss, mseRef(params, nest3(yv), false), 'every step counts');
    // a recurrent layer without returnSequences consumes the mask: the loss is the plain batch mean
    const x = st.input({ shape: [S], dtype: 'int32' });
    const e = st.layers.embedding({ inputDim: V, outputDim: E, maskZero: true, dtype: 'float64' }).apply(x);
    const h = st.layers.lstm({ units: U, dtype: 'float64' }).apply(e);
    const last = st.model({ inputs: x, outputs: st.layers.dense({ units: K, dtype: 'float64' }).apply(h) as st.KerasTensor });
    last.setWeights(split(params).map((v, i) => makeTensor(v, SHAPES[i])));
    last.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const yl = uniform(rng, B * K, -2, 2);
    const { p, valid } = forward(params, IDS, true, false);
    // the output after the last counted step of each row
    const finals = p.map((row, b) => row[valid[b].lastIndexOf(true)]);
    const ref = finals.reduce((s, pt, b) => s + pt.reduce((a, v, j) => a + (yl[b * K + j] - v) ** 2, 0) / K, 0) / B;
    close((await last.testOnBatch(idsTensor(), makeTensor(yl, [B, K]))) as number, ref, 'last-step output');
  });

  it('a custom trainStep\'s computeLoss weights the outputs tools.call gave by their masks', async () => {
    const { m, params, rng } = setup(13, { maskZero: true, softmax: false });
    m.compile({
      optimizer: st.optimizers.sgd({ learningRate: 0 }),
      loss: 'meanSquaredError',
      trainStep: (data, tools) => {
        const loss = tools.computeLoss(data.y, tools.call(data.x));
        return { updates: tools.optimizer.getUpdates(tools.trainableWeights, st.grad(loss, tools.trainableWeights)), logs: { loss } };
      },
    });
    const yv = uniform(rng, B * S * K, -2, 2);
    close((await m.trainOnBatch(idsTensor(), makeTensor(yv, [B, S, K]))) as number, mseRef(params, nest3(yv), true), 'custom step loss');
  });

  it('reduceMaskedLoss: the output mask and ignoreClass combine; sample weights scale; all masked gives 0', () => {
    const rng = new Rng(17);
    const C = 4, b = 2, s = 3;
    const probs = Array.from({ length: b * s }, () => {
      const v = uniform(rng, C, 0.1, 1);
      const sum = v.reduce((x, y) => x + y, 0);
      return v.map((x) => x / sum);
    });
    const labels = [0, 3, 1, 2, 3, 0];
    const mask = [1, 1, 0, 1, 1, 1];
    const w = [2, 0.5];
    const p = T.tensor('float64', [null, s, C], 'p');
    const y = T.tensor('int32', [null, s], 'y');
    const m = T.tensor('bool', [null, s], 'm');
    const sw = T.tensor('float64', [null], 'w');
    const f = st.fn([p, y, m, sw], [
      reduceMaskedLoss(new SparseCategoricalCrossentropy({ ignoreClass: 3 }), y, p, m, sw),
      reduceMaskedLoss(new MeanSquaredError(), T.oneHot(y, C, 1, 0, 'float64'), p, m),
    ]);
    const run = (mk: number[]) => f.sync(
      makeTensor(probs.flat(), [b, s, C]),
      st.tensor(Int32Array.from(labels), { shape: [b, s], dtype: 'int32' }),
      st.tensor(Uint8Array.from(mk), { shape: [b, s], dtype: 'bool' }),
      makeTensor(w, [b]),
    ).map((t) => f64(t)[0]);
    let ce = 0, nce = 0, se = 0, nse = 0;
    probs.forEach((pr, i) => {
      if (!mask[i]) return;
      se += pr.reduce((a, v, j) => a + ((j === labels[i] ? 1 : 0) - v) ** 2, 0) / C;
      nse++;
      if (labels[i] === 3) return;
      ce -= w[Math.floor(i / s)] * Math.log(pr[labels[i]]);
      nce++;
    });
    const [lce, lse] = run(mask);
    assertClose([lce, lse], [ce / nce, se / nse], 'masked losses', 1e-12, 1e-12);
    assert.deepEqual(run([0, 0, 0, 0, 0, 0]), [0, 0], 'every step masked');
    f.dispose();
    // a class axis given as a positive index still names the same axis once the steps merge into the batch
    const onehot = T.oneHot(y, C, 1, 0, 'float64');
    const g = st.fn([p, y, m], [
      reduceMaskedLoss(new CategoricalCrossentropy({ axis: 2 }), onehot, p, m),
      reduceMaskedLoss(new CategoricalCrossentropy(), onehot, p, m),
    ]);
    const [a2, a1] = g.sync(
      makeTensor(probs.flat(), [b, s, C]),
      st.tensor(Int32Array.from(labels), { shape: [b, s], dtype: 'int32' }),
      st.tensor(Uint8Array.from(mask), { shape: [b, s], dtype: 'bool' }),
    ).map((t) => f64(t)[0]);
    const cce = probs.reduce((acc, pr, i) => acc - (mask[i] ? Math.log(pr[labels[i]]) : 0), 0) / mask.filter((v) => v).length;
    assertClose([a2, a1], [cce, cce], 'categorical crossentropy, axis 2 and -1', 1e-12, 1e-12);
    g.dispose();
    const e = catchError(() => reduceMaskedLoss(new CategoricalCrossentropy({ axis: 1 }), onehot, p, m));
    assert.equal(e.code, 'ERR_ST_ARG');
    assert.match(e.message, /categoricalCrossentropy: axis 1 cannot be the class axis of a masked sequence output/);
  });

  it('a target without a steps axis for a masked sequence output is refused, naming the output and the mask', async () => {
    const { m } = setup(19, { maskZero: true, softmax: false });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    await assert.rejects(m.testOnBatch(idsTensor(), makeTensor(new Array(B).fill(0), [B])), (e: unknown) => {
      assert.ok(e instanceof st.SymtensorError, String(e));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /loss meanSquaredError for output 'dense_\d+'.*mask \[\?,5\] bool.*yTrue .* must be \[batch, steps, \.\.\.\] to be weighted by the \[batch, steps\] mask/);
      return true;
    });
  });
});
