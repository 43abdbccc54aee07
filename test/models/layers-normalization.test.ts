// BatchNormalization and LayerNormalization: parameter counts from Keras's formulas, values
// against plain loops in float64 (batch statistics in training, moving statistics at inference),
// the moving averages after compiled training steps, finite-difference gradients and configs.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { BatchNormalization, LayerNormalization } from '../../lib/models/layers/normalization';
import { catchError } from '../support/check';
import { assertClose, checkGrad, f64, makeTensor, uniform } from '../support/fd';
import { collectingContext, runOnce } from '../support/models';
import { Rng } from '../support/reference';

const { T } = st;

const run = (x: st.Variable, y: st.Variable, value: st.Tensor): Float64Array => f64(runOnce(x, y, value));

/** The coordinates of flat index f in a row-major array of `shape`. */
function coords(shape: number[], f: number): number[] {
  const c = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    c[a] = f % shape[a];
    f = Math.floor(f / shape[a]);
  }
  return c;
}

/** Mean and biased variance of x over every axis but `axis`, per index along it. */
function channelStats(x: number[], shape: number[], axis: number): { mean: number[]; variance: number[] } {
  const C = shape[axis];
  const sum = new Array<number>(C).fill(0), count = new Array<number>(C).fill(0);
  x.forEach((v, f) => {
    const c = coords(shape, f)[axis];
    sum[c] += v;
    count[c]++;
  });
  const mean = sum.map((s, c) => s / count[c]);
  const sq = new Array<number>(C).fill(0);
  x.forEach((v, f) => {
    const c = coords(shape, f)[axis];
    sq[c] += (v - mean[c]) ** 2;
  });
  return { mean, variance: sq.map((s, c) => s / count[c]) };
}

/** (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c], c the index along axis. */
function bnRef(x: number[], shape: number[], axis: number, mean: number[], variance: number[], gamma: number[], beta: number[], eps: number): number[] {
  return x.map((v, f) => {
    const c = coords(shape, f)[axis];
    return ((v - mean[c]) / Math.sqrt(variance[c] + eps)) * gamma[c] + beta[c];
  });
}

describe('models/layers/normalization', () => {
  describe('BatchNormalization', () => {
    it('has gamma, beta and the non-trainable moving statistics (64 channels: 256 parameters, 128 non-trainable)', () => {
      const layer = new BatchNormalization();
      assert.deepEqual(layer.computeOutputShape([null, 8, 8, 64]), [null, 8, 8, 64]);
      assert.equal(layer.countParams(), 256);
      const count = (ws: st.SharedVariable[]) => ws.reduce((n, w) => n + (w.type.shape[0] as number), 0);
      assert.equal(count(layer.nonTrainableWeights), 128);
      assert.equal(count(layer.trainableWeights), 128);
      assert.deepEqual(layer.weights.map((w) => w.name), ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => `${layer.name}/${n}`));
      assert.deepEqual(Array.from(f64(layer.movingVariance.get())), new Array(64).fill(1));
      const plain = new BatchNormalization({ center: false, scale: false });
      plain.computeOutputShape([null, 10]);
      assert.equal(plain.countParams(), 20);
      assert.equal(plain.trainableWeights.length, 0);
    });

    it('normalizes with the moving statistics at inference (values against loops)', () => {
      const rng = new Rng(41);
      const shape = [4, 3, 5];
      const layer = new BatchNormalization({ dtype: 'float64', epsilon: 0.01 });
      const x = T.tensor('float64', [null, 3, 5], 'x');
      const y = layer.apply(x) as st.Variable;
      const [g, b, mm, mv] = [uniform(rng, 5, 0.5, 2), uniform(rng, 5), uniform(rng, 5), uniform(rng, 5, 0.2, 3)];
      layer.setWeights([g, b, mm, mv].map((v) => makeTensor(v, [5])));
      const xv = uniform(rng, 60, -3, 3);
      assertClose(run(x, y, makeTensor(xv, shape)), bnRef(xv, shape, 2, mm, mv, g, b, 0.01), 'bn inference', 1e-12, 1e-12);
    });

    it('normalizes with the batch statistics over every axis but `axis` in training (axis 1 of [N, C, L])', () => {
      const rng = new Rng(42);
      const shape = [4, 3, 5];
      const layer = new BatchNormalization({ axis: 1, dtype: 'float64' });
      const x = T.tensor('float64', [null, 3, 5], 'x');
      layer.computeOutputShape([null, 3, 5]);
      const [g, b] = [uniform(rng, 3, 0.5, 2), uniform(rng, 3)];
      layer.setWeights([makeTensor(g, [3]), makeTensor(b, [3]), makeTensor([5, 5, 5], [3]), makeTensor([9, 9, 9], [3])]);
      const xv = uniform(rng, 60, -3, 3);
      const { mean, variance } = channelStats(xv, shape, 1);
      const got = run(x, layer.apply(x, { training: true }) as st.Variable, makeTensor(xv, shape));
      assertClose(got, bnRef(xv, shape, 1, mean, variance, g, b, 1e-3), 'bn training', 1e-12, 1e-12);
      // at inference the same layer uses its (quite different) moving statistics
      const inf = run(x, layer.apply(x) as st.Variable, makeTensor(xv, shape));
      assertClose(inf, bnRef(xv, shape, 1, [5, 5, 5], [9, 9, 9], g, b, 1e-3), 'bn inference axis 1', 1e-12, 1e-12);
    });

    it('moves its statistics toward each batch in compiled training steps (two calls, by hand)', () => {
      const rng = new Rng(43);
      const shape = [6, 4];
      const momentum = 0.9;
      const layer = new BatchNormalization({ momentum, dtype: 'float64' });
      const x = T.tensor('float64', [null, 4], 'x');
      layer.computeOutputShape([null, 4]);
      const { ctx, updates } = collectingContext(true);
      const y = layer.call(x, ctx) as st.Variable;
      assert.deepEqual(updates.map(([v]) => v), [layer.movingMean, layer.movingVariance]);
      const step = st.fn([x], y, { updates });
      let mm = [0, 0, 0, 0], mv = [1, 1, 1, 1];
      for (let call = 0; call < 2; call++) {
        const xv = uniform(rng, 24, -2 + call, 3 + 2 * call);
        const out = f64(step.sync(makeTensor(xv, shape)));
        const { mean, variance } = channelStats(xv, shape, 1);
        assertClose(out, bnRef(xv, shape, 1, mean, variance, [1, 1, 1, 1], [0, 0, 0, 0], 1e-3), `output of call ${call + 1}`, 1e-12, 1e-12);
        mm = mm.map((m, c) => m * momentum + mean[c] * (1 - momentum));
        mv = mv.map((v, c) => v * momentum + variance[c] * (1 - momentum));
      }
      step.dispose();
      assertClose(f64(layer.movingMean.get()), mm, 'moving_mean', 1e-12, 1e-14);
      assertClose(f64(layer.movingVariance.get()), mv, 'moving_variance', 1e-12, 1e-14);
    });

    it('a frozen layer (trainable = false) uses its moving statistics in training and adds no updates', () => {
      const layer = new BatchNormalization({ dtype: 'float64' });
      layer.computeOutputShape([null, 2]);
      layer.setWeights([[2, 3], [1, -1], [0.5, -0.5], [4, 0.25]].map((v) => makeTensor(v, [2])));
      layer.trainable = false;
      const x = T.tensor('float64', [null, 2], 'x');
      const { ctx, updates } = collectingContext(true);
      const y = layer.call(x, ctx) as st.Variable;
      assert.equal(updates.length, 0);
      const xv = [1, 2, 3, 4, -1, 0];
      assertClose(run(x, y, makeTensor(xv, [3, 2])), bnRef(xv, [3, 2], 1, [0.5, -0.5], [4, 0.25], [2, 3], [1, -1], 1e-3), 'frozen', 1e-12, 1e-12);
      assert.equal(layer.trainableWeights.length, 0);
    });

    it('has gradients in training mode (batch statistics) that match finite differences', () => {
      const rng = new Rng(44);
      const layer = new BatchNormalization({ dtype: 'float64', axis: -1 });
      layer.computeOutputShape([null, 2, 3]);
      layer.setWeights([uniform(rng, 3, 0.5, 2), uniform(rng, 3), [0, 0, 0], [1, 1, 1]].map((v) => makeTensor(v, [3])));
      const train = (x: st.Variable) => layer.call(x, collectingContext(true).ctx) as st.Variable;
      checkGrad('bn training dx', [{ shape: [4, 2, 3], value: uniform(rng, 24, -2, 2) }], train, { rtol: 1e-5, atol: 1e-7 });
      // w.r.t. gamma and beta: the weights' values as graph inputs through givens would hide the
      // shared variables from st.grad, so differentiate the shared variables and perturb them
      const x = T.tensor('float64', [4, 2, 3], 'x');
      const xv = makeTensor(uniform(rng, 24, -2, 2), [4, 2, 3]);
      const r = T.constant(makeTensor(uniform(rng, 24, -1.5, 1.5), [4, 2, 3]));
      const cost = T.sum(T.mul(train(x), r));
      const [gg, gb] = st.grad(cost, [layer.gamma!, layer.beta!]);
      const grads = st.fn([x], [gg, gb]).sync(xv) as st.Tensor[];
      const costFn = st.fn([x], cost);
      const eps = 1e-6;
      [layer.gamma!, layer.beta!].forEach((w, k) => {
        const base = Array.from(f64(w.get()));
        const numeric = base.map((v0, j) => {
          const at = (v: number) => {
            w.set(makeTensor(base.map((u, i) => (i === j ? v : u)), [3]));
            return (costFn.sync(xv) as st.Tensor).dataSync()[0] as number;
          };
          return (at(v0 + eps) - at(v0 - eps)) / (2 * eps);
        });
        w.set(makeTensor(base, [3]));
        assertClose(f64(grads[k]), numeric, `bn d/d${w.name}`, 1e-6, 1e-7);
      });
      costFn.dispose();
    });

    it('rejects an axis out of range or of unknown size, naming the layer and shape', () => {
      const e1 = catchError(() => new BatchNormalization({ axis: 3, name: 'bn_axis' }).apply(T.tensor('float32', [null, 4])));
      assert.equal(e1.code, 'ERR_ST_SHAPE');
      assert.match(e1.message, /bn_axis.*axis 3.*\[\?,4\]/);
      const e2 = catchError(() => new BatchNormalization({ name: 'bn_unknown' }).apply(T.tensor('float32', [null, null])));
      assert.equal(e2.code, 'ERR_ST_SHAPE');
      assert.match(e2.message, /bn_unknown.*\[\?,\?\]/);
      const e3 = catchError(() => new BatchNormalization({ momentum: 1.5 }));
      assert.equal(e3.code, 'ERR_ST_ARG');
      assert.match(e3.message, /momentum must be a number in \[0, 1\]/);
    });

    it('round-trips its config through JSON', () => {
      const layer = new BatchNormalization({ axis: 1, momentum: 0.8, epsilon: 1e-5, center: false, gammaInitializer: 'glorotUniform', gammaRegularizer: 'l2' });
      layer.computeOutputShape([null, 6, 2]);
      const copy = new BatchNormalization(JSON.parse(JSON.stringify(layer.getConfig())));
      assert.deepEqual(copy.getConfig(), layer.getConfig());
      assert.deepEqual(copy.computeOutputShape([null, 6, 2]), [null, 6, 2]);
      assert.equal(copy.countParams(), 18);
    });
  });

  describe('LayerNormalization', () => {
    /** Per-sample normalization over the trailing `k` axes of [B, ...rest]; params indexed by position within them. */
    function lnRef(x: number[], shape: number[], k: number, gamma: (j: number) => number, beta: (j: number) => number, eps: number): number[] {
      const inner = shape.slice(shape.length - k).reduce((p, q) => p * q, 1);
      const out: number[] = [];
      for (let s = 0; s < x.length / inner; s++) {
        const row = x.slice(s * inner, (s + 1) * inner);
        const mean = row.reduce((p, q) => p + q, 0) / inner;
        const variance = row.reduce((p, q) => p + (q - mean) ** 2, 0) / inner;
        row.forEach((v, j) => out.push(((v - mean) / Math.sqrt(variance + eps)) * gamma(j) + beta(j)));
      }
      return out;
    }

    it('has gamma and beta shaped like the normalized axes', () => {
      const layer = new LayerNormalization();
      assert.deepEqual(layer.computeOutputShape([null, 10, 32]), [null, 10, 32]);
      assert.equal(layer.countParams(), 64);
      assert.deepEqual(layer.weights.map((w) => w.type.shape), [[32], [32]]);
      const two = new LayerNormalization({ axis: [1, 2] });
      two.computeOutputShape([null, 10, 32]);
      assert.equal(two.countParams(), 640);
      assert.equal(two.nonTrainableWeights.length, 0);
    });

    it('normalizes each sample over the last axis (values against loops), the same in training', () => {
      const rng = new Rng(51);
      const shape = [3, 2, 4];
      const layer = new LayerNormalization({ dtype: 'float64' });
      const x = T.tensor('float64', [null, 2, 4], 'x');
      layer.computeOutputShape([null, 2, 4]);
      const g = uniform(rng, 4, 0.5, 2), b = uniform(rng, 4);
      layer.setWeights([makeTensor(g, [4]), makeTensor(b, [4])]);
      const xv = uniform(rng, 24, -3, 3);
      const expected = lnRef(xv, shape, 1, (j) => g[j], (j) => b[j], 1e-3);
      assertClose(run(x, layer.apply(x) as st.Variable, makeTensor(xv, shape)), expected, 'ln', 1e-12, 1e-12);
      assertClose(run(x, layer.apply(x, { training: true }) as st.Variable, makeTensor(xv, shape)), expected, 'ln training', 1e-12, 1e-12);
    });

    it('normalizes over several axes; gamma follows the order the axes are given in', () => {
      const rng = new Rng(52);
      const shape = [2, 3, 4];
      const layer = new LayerNormalization({ axis: [2, 1], dtype: 'float64', epsilon: 0.1 });
      const x = T.tensor('float64', [null, 3, 4], 'x');
      layer.computeOutputShape([null, 3, 4]);
      assert.deepEqual(layer.gamma!.type.shape, [4, 3]);
      const g = uniform(rng, 12, 0.5, 2), b = uniform(rng, 12);
      layer.setWeights([makeTensor(g, [4, 3]), makeTensor(b, [4, 3])]);
      const xv = uniform(rng, 24, -3, 3);
      // element (i, j) of a sample uses gamma[j][i]
      const expected = lnRef(xv, shape, 2, (p) => g[(p % 4) * 3 + Math.floor(p / 4)], (p) => b[(p % 4) * 3 + Math.floor(p / 4)], 0.1);
      assertClose(run(x, layer.apply(x) as st.Variable, makeTensor(xv, shape)), expected, 'ln [2, 1]', 1e-12, 1e-12);
    });

    it('has gradients w.r.t. input, gamma and beta that match finite differences', () => {
      const rng = new Rng(53);
      const layer = new LayerNormalization({ dtype: 'float64', axis: [1, 2] });
      layer.computeOutputShape([null, 2, 3]);
      layer.setWeights([makeTensor(uniform(rng, 6, 0.5, 2), [2, 3]), makeTensor(uniform(rng, 6), [2, 3])]);
      checkGrad('ln dx', [{ shape: [3, 2, 3], value: uniform(rng, 18, -2, 2) }], (x) => layer.apply(x) as st.Variable, { rtol: 1e-5 });
      const x = T.tensor('float64', [3, 2, 3], 'x');
      const xv = makeTensor(uniform(rng, 18, -2, 2), [3, 2, 3]);
      const cost = T.sum(T.mul(layer.apply(x) as st.Variable, T.constant(makeTensor(uniform(rng, 18, -1.5, 1.5), [3, 2, 3]))));
      const grads = st.fn([x], st.grad(cost, [layer.gamma!, layer.beta!])).sync(xv) as st.Tensor[];
      const costFn = st.fn([x], cost);
      [layer.gamma!, layer.beta!].forEach((w, k) => {
        const base = Array.from(f64(w.get()));
        const numeric = base.map((v0, j) => {
          const at = (v: number) => {
            w.set(makeTensor(base.map((u, i) => (i === j ? v : u)), [2, 3]));
            return (costFn.sync(xv) as st.Tensor).dataSync()[0] as number;
          };
          return (at(v0 + 1e-6) - at(v0 - 1e-6)) / 2e-6;
        });
        w.set(makeTensor(base, [2, 3]));
        assertClose(f64(grads[k]), numeric, `ln d/d${w.name}`, 1e-6, 1e-7);
      });
      costFn.dispose();
    });

    it('rejects repeated or out-of-range axes and round-trips its config', () => {
      const e1 = catchError(() => new LayerNormalization({ axis: [1, -1], name: 'ln_rep' }).apply(T.tensor('float32', [null, 3])));
      assert.equal(e1.code, 'ERR_ST_ARG');
      assert.match(e1.message, /ln_rep.*repeats/);
      const e2 = catchError(() => new LayerNormalization({ axis: 4, name: 'ln_range' }).apply(T.tensor('float32', [null, 3])));
      assert.equal(e2.code, 'ERR_ST_SHAPE');
      assert.match(e2.message, /ln_range.*axis 4.*\[\?,3\]/);
      const layer = new LayerNormalization({ axis: [2, 1], epsilon: 1e-6, scale: false, betaInitializer: 'ones' });
      layer.computeOutputShape([null, 3, 4]);
      const copy = new LayerNormalization(JSON.parse(JSON.stringify(layer.getConfig())));
      assert.deepEqual(copy.getConfig(), layer.getConfig());
      copy.computeOutputShape([null, 3, 4]);
      assert.deepEqual(copy.weights.map((w) => w.type.shape), [[4, 3]]);
      assert.deepEqual(Array.from(f64(copy.beta!.get())), new Array(12).fill(1));
    });
  });
});
