// Core layers: shapes and parameter counts from Keras's formulas, values against plain loops,
// gradients against float64 finite differences, dropout's statistics, configs and errors.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import {
  Activation, Dense, Dropout, Embedding, Flatten, GaussianDropout, GaussianNoise, Permute, Reshape, SpatialDropout2D,
} from '../../lib/models/layers/core';
import { catchError } from '../support/check';
import { assertClose, checkGrad, f64, makeTensor, uniform } from '../support/fd';
import { collectingContext, runOnce as run } from '../support/models';
import { Rng } from '../support/reference';

const { T } = st;

/**
 * d(sum(y · R))/d(weight) by st.grad against central differences of the same compiled cost,
 * perturbing the shared weight's value in place.
 */
function checkWeightGrad(label: string, x: st.Variable, y: st.Variable, xValue: st.Tensor, weights: st.SharedVariable[], rng: Rng, tol = 1e-6): void {
  const probe = run(x, y, xValue);
  const r = T.constant(makeTensor(uniform(rng, probe.size, -1.5, 1.5), probe.shape, 'float64'));
  probe.dispose();
  const cost = T.sum(T.mul(y, r));
  const grads = st.grad(cost, weights);
  const gradFn = st.fn([x], grads);
  const costFn = st.fn([x], cost);
  const analytic = (gradFn.sync(xValue) as st.Tensor[]).map(f64);
  const eps = 1e-6;
  weights.forEach((w, k) => {
    const base = f64(w.get());
    const numeric = new Float64Array(base.length);
    const shape = w.type.shape as number[];
    for (let j = 0; j < base.length; j++) {
      const at = (v: number) => {
        const vals = Float64Array.from(base);
        vals[j] = v;
        w.set(makeTensor(vals, shape));
        return (costFn.sync(xValue) as st.Tensor).dataSync()[0] as number;
      };
      numeric[j] = (at(base[j] + eps) - at(base[j] - eps)) / (2 * eps);
    }
    w.set(makeTensor(base, shape));
    assertClose(analytic[k], numeric, `${label}: d/d${w.name}`, tol, 1e-7);
  });
  gradFn.dispose();
  costFn.dispose();
}

const rowMajor = (shape: number[], idx: number[]) => idx.reduce((acc, v, i) => acc * shape[i] + v, 0);

describe('models/layers/core', () => {
  describe('Dense', () => {
    it('has the kernel [in, units] and bias [units] of Keras (784 → 512: 401,920 parameters)', () => {
      const layer = new Dense({ units: 512 });
      assert.deepEqual(layer.computeOutputShape([null, 784]), [null, 512]);
      assert.equal(layer.countParams(), 784 * 512 + 512);
      assert.equal(layer.countParams(), 401920);
      assert.deepEqual(layer.trainableWeights.map((w) => [w.name, w.type.shape]), [[`${layer.name}/kernel`, [784, 512]], [`${layer.name}/bias`, [512]]]);
      assert.equal(layer.nonTrainableWeights.length, 0);
      const noBias = new Dense({ units: 10, useBias: false });
      noBias.computeOutputShape([null, 20]);
      assert.equal(noBias.countParams(), 200);
    });

    it('applies to the last axis of a rank-3 input, with bias and activation (values against loops)', () => {
      const rng = new Rng(11);
      const [B, S, I, U] = [2, 3, 4, 5];
      const layer = new Dense({ units: U, activation: 'relu', dtype: 'float64' });
      const x = T.tensor('float64', [null, S, I], 'x');
      const y = layer.apply(x) as st.Variable;
      assert.deepEqual(y.type.shape, [null, S, U]);
      const k = uniform(rng, I * U), b = uniform(rng, U), xv = uniform(rng, B * S * I);
      layer.setWeights([makeTensor(k, [I, U]), makeTensor(b, [U])]);
      const out = f64(run(x, y, makeTensor(xv, [B, S, I])));
      const expected: number[] = [];
      for (let n = 0; n < B * S; n++)
        for (let u = 0; u < U; u++) {
          let acc = b[u];
          for (let i = 0; i < I; i++) acc += xv[n * I + i] * k[i * U + u];
          expected.push(Math.max(0, acc));
        }
      assert.ok(expected.some((v) => v === 0) && expected.some((v) => v > 0), 'the relu is exercised on both sides');
      assertClose(out, expected, 'dense', 1e-12, 1e-12);
    });

    it('has gradients w.r.t. its input, kernel and bias that match finite differences', () => {
      const rng = new Rng(12);
      const layer = new Dense({ units: 3, activation: 'tanh', dtype: 'float64' });
      layer.computeOutputShape([null, 4]);
      checkGrad('dense input', [{ shape: [5, 4], value: uniform(rng, 20) }], (x) => layer.apply(x) as st.Variable);
      const x = T.tensor('float64', [null, 4], 'x');
      checkWeightGrad('dense', x, layer.apply(x) as st.Variable, makeTensor(uniform(rng, 20), [5, 4]), [layer.kernel, layer.bias!], rng);
    });

    it('adds the activity penalty divided by the batch size, also when the batch is unknown', () => {
      const layer = new Dense({ units: 2, dtype: 'float64', useBias: false, activityRegularizer: { className: 'L2', config: { l2: 0.5 } } });
      layer.computeOutputShape([null, 3]);
      const k = [1, -2, 0.5, 3, -1, 1];
      layer.setWeights([makeTensor(k, [3, 2])]);
      const x = T.tensor('float64', [null, 3], 'x');
      const { ctx, losses } = collectingContext(true);
      layer.call(x, ctx);
      assert.equal(losses.length, 1);
      const xv = [1, 2, 3, -1, 0, 2, 0.5, 0.5, -2, 1, 1, 1];
      const f = st.fn([x], losses[0]);
      const got = f.sync(makeTensor(xv, [4, 3])).dataSync()[0] as number;
      let sq = 0;
      for (let n = 0; n < 4; n++)
        for (let u = 0; u < 2; u++) {
          let acc = 0;
          for (let i = 0; i < 3; i++) acc += xv[n * 3 + i] * k[i * 2 + u];
          sq += acc * acc;
        }
      assert.ok(Math.abs(got - (0.5 * sq) / 4) < 1e-12, `penalty ${got}, expected ${(0.5 * sq) / 4}`);
    });

    it('rejects inputs whose last axis is unknown, of rank 1, or of another size than it was built for', () => {
      const e1 = catchError(() => new Dense({ units: 3, name: 'd_unknown' }).apply(T.tensor('float32', [null, null])));
      assert.equal(e1.code, 'ERR_ST_SHAPE');
      assert.match(e1.message, /d_unknown/);
      assert.match(e1.message, /\[\?,\?\]/);
      const e2 = catchError(() => new Dense({ units: 3, name: 'd_rank1' }).apply(T.tensor('float32', [4])));
      assert.equal(e2.code, 'ERR_ST_SHAPE');
      assert.match(e2.message, /d_rank1.*rank >= 2/);
      const layer = new Dense({ units: 3, name: 'd_built' });
      layer.apply(T.tensor('float32', [null, 4]));
      const e3 = catchError(() => layer.apply(T.tensor('float32', [null, 5])));
      assert.equal(e3.code, 'ERR_ST_SHAPE');
      assert.match(e3.message, /d_built.*\[\.\.\., 4\].*\[\?,5\]/);
    });

    it('rejects bad options, naming the valid ones', () => {
      const e1 = catchError(() => new Dense({ unit: 3 } as unknown as { units: number }));
      assert.equal(e1.code, 'ERR_ST_ARG');
      assert.match(e1.message, /unknown option "unit".*units/);
      const e2 = catchError(() => new Dense({ units: 0 }));
      assert.equal(e2.code, 'ERR_ST_ARG');
      assert.match(e2.message, /units must be a positive integer, got 0/);
      const e3 = catchError(() => new Dense({ units: 2, activation: 'relux' }));
      assert.equal(e3.code, 'ERR_ST_ARG');
      assert.match(e3.message, /unknown activation "relux"/);
    });

    it('round-trips its config through JSON', () => {
      const layer = new Dense({ units: 7, activation: 'sigmoid', useBias: true, kernelInitializer: 'heNormal', kernelRegularizer: { className: 'L2', config: { l2: 0.01 } }, kernelConstraint: 'nonNeg' });
      layer.computeOutputShape([null, 3]);
      const cfg = JSON.parse(JSON.stringify(layer.getConfig()));
      assert.equal(cfg.activation, 'sigmoid');
      assert.equal(cfg.kernelInitializer.className, 'HeNormal');
      assert.equal(cfg.kernelRegularizer.className, 'L2');
      assert.equal(cfg.kernelConstraint.className, 'NonNeg');
      const copy = new Dense(cfg);
      assert.deepEqual(copy.getConfig(), layer.getConfig());
      assert.deepEqual(copy.computeOutputShape([null, 3]), [null, 7]);
      assert.equal(copy.countParams(), layer.countParams());
    });
  });

  describe('Activation', () => {
    it('applies its function (values against loops) and round-trips its config', () => {
      const layer = new Activation({ activation: 'relu' });
      const x = T.tensor('float64', [null, 3], 'x');
      const xv = [-1, 2, -3, 4, 0.5, -0.25];
      const out = f64(run(x, layer.apply(x) as st.Variable, makeTensor(xv, [2, 3])));
      assertClose(out, xv.map((v) => Math.max(0, v)), 'relu', 0, 0);
      const copy = new Activation(JSON.parse(JSON.stringify(layer.getConfig())));
      assert.equal(copy.getConfig().activation, 'relu');
      assert.equal(layer.countParams(), 0);
    });
  });

  describe('Flatten, Reshape, Permute', () => {
    it('Flatten keeps the batch axis and row-major order; channelsFirst reorders to channels last first', () => {
      const x = T.tensor('float64', [null, 2, 3, 4], 'x');
      const xv = Array.from({ length: 48 }, (_, i) => i * 0.5 - 3);
      const flat = new Flatten();
      const y = flat.apply(x) as st.Variable;
      assert.deepEqual(y.type.shape, [null, 24]);
      assertClose(f64(run(x, y, makeTensor(xv, [2, 2, 3, 4]))), xv, 'flatten', 0, 0);
      // channels first: [b, C=2, H=3, W=4] read as [b, H, W, C]
      const cf = new Flatten({ dataFormat: 'channelsFirst' });
      const yc = cf.apply(x) as st.Variable;
      const expected: number[] = [];
      for (let b = 0; b < 2; b++)
        for (let h = 0; h < 3; h++) for (let w = 0; w < 4; w++) for (let c = 0; c < 2; c++) expected.push(xv[rowMajor([2, 2, 3, 4], [b, c, h, w])]);
      assertClose(f64(run(x, yc, makeTensor(xv, [2, 2, 3, 4]))), expected, 'flatten channelsFirst', 0, 0);
      assert.equal(new Flatten(cf.getConfig()).dataFormat, 'channelsFirst');
    });

    it('Flatten works when the sample dims are unknown until run time', () => {
      const x = T.tensor('float64', [null, null, 3], 'x');
      const y = new Flatten().apply(x) as st.Variable;
      assert.deepEqual(y.type.shape, [null, null]);
      const out = run(x, y, makeTensor(Array.from({ length: 24 }, (_, i) => i), [2, 4, 3]));
      assert.deepEqual(out.shape, [2, 12]);
    });

    it('Reshape resolves -1 from the sample size and keeps the values in order', () => {
      const layer = new Reshape({ targetShape: [3, -1] });
      assert.deepEqual(layer.computeOutputShape([null, 2, 6]), [null, 3, 4]);
      const x = T.tensor('float64', [null, 2, 6], 'x');
      const y = layer.apply(x) as st.Variable;
      const xv = Array.from({ length: 36 }, (_, i) => i);
      const out = run(x, y, makeTensor(xv, [3, 2, 6]));
      assert.deepEqual(out.shape, [3, 3, 4]);
      assertClose(f64(out), xv, 'reshape', 0, 0);
      assert.deepEqual(new Reshape(layer.getConfig()).targetShape, [3, -1]);
    });

    it('Reshape resolves -1 when the function runs if the sample dims are unknown while building', () => {
      const x = T.tensor('float64', [null, null, 4], 'x');
      const y = new Reshape({ targetShape: [-1, 2] }).apply(x) as st.Variable;
      assert.deepEqual(y.type.shape, [null, null, 2]);
      const xv = Array.from({ length: 60 }, (_, i) => i);
      const out = run(x, y, makeTensor(xv, [3, 5, 4]));
      assert.deepEqual(out.shape, [3, 10, 2]);
      assertClose(f64(out), xv, 'reshape unknown', 0, 0);
    });

    it('Reshape rejects a target of another size and bad targets, naming the layer and shapes', () => {
      const e1 = catchError(() => new Reshape({ targetShape: [5], name: 'rs_bad' }).apply(T.tensor('float32', [null, 2, 3])));
      assert.equal(e1.code, 'ERR_ST_SHAPE');
      assert.match(e1.message, /rs_bad.*\[2,3\].*\[5\]/);
      const e2 = catchError(() => new Reshape({ targetShape: [4, -1], name: 'rs_div' }).apply(T.tensor('float32', [null, 2, 3])));
      assert.equal(e2.code, 'ERR_ST_SHAPE');
      const e3 = catchError(() => new Reshape({ targetShape: [-1, -1] }));
      assert.equal(e3.code, 'ERR_ST_ARG');
      assert.match(e3.message, /at most one -1/);
    });

    it('Permute reorders the non-batch axes by 1-based dims (values against loops)', () => {
      const layer = new Permute({ dims: [3, 1, 2] });
      const x = T.tensor('float64', [null, 2, 3, 4], 'x');
      const y = layer.apply(x) as st.Variable;
      assert.deepEqual(y.type.shape, [null, 4, 2, 3]);
      const xv = Array.from({ length: 48 }, (_, i) => i);
      const expected: number[] = [];
      for (let b = 0; b < 2; b++)
        for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(xv[rowMajor([2, 2, 3, 4], [b, i, j, k])]);
      assertClose(f64(run(x, y, makeTensor(xv, [2, 2, 3, 4]))), expected, 'permute', 0, 0);
      assert.deepEqual(new Permute(layer.getConfig()).dims, [3, 1, 2]);
    });

    it('Permute rejects non-permutations and inputs of another rank', () => {
      const e1 = catchError(() => new Permute({ dims: [1, 1] }));
      assert.equal(e1.code, 'ERR_ST_ARG');
      assert.match(e1.message, /permutation/);
      const e2 = catchError(() => new Permute({ dims: [2, 1], name: 'perm_rank' }).apply(T.tensor('float32', [null, 2, 3, 4])));
      assert.equal(e2.code, 'ERR_ST_SHAPE');
      assert.match(e2.message, /perm_rank.*\[\?,2,3,4\]/);
    });
  });

  describe('Embedding', () => {
    it('has inputDim × outputDim parameters (1000 × 64: 64,000) initialized uniformly in [-0.05, 0.05]', () => {
      const layer = new Embedding({ inputDim: 1000, outputDim: 64 });
      assert.deepEqual(layer.computeOutputShape([null, 10]), [null, 10, 64]);
      assert.equal(layer.countParams(), 64000);
      assert.equal(layer.embeddings.name, `${layer.name}/embeddings`);
      const w = f64(layer.embeddings.get());
      assert.ok(w.every((v) => v >= -0.05 && v <= 0.05), 'values within [-0.05, 0.05]');
      const mean = w.reduce((a, b) => a + b, 0) / w.length;
      // uniform on [-0.05, 0.05]: sd of one value 0.0289, of the mean of 64,000 values 1.1e-4
      assert.ok(Math.abs(mean) < 7e-4, `mean ${mean}`);
      assert.ok(w.some((v) => v > 0.04) && w.some((v) => v < -0.04), 'values spread over the range');
    });

    it('looks up rows for int32 and (truncated) float indices (values against loops)', () => {
      const rng = new Rng(21);
      const layer = new Embedding({ inputDim: 6, outputDim: 3, dtype: 'float64' });
      layer.computeOutputShape([null, 4]);
      const table = uniform(rng, 18);
      layer.setWeights([makeTensor(table, [6, 3])]);
      const idx = [0, 5, 2, 2, 3, 1, 4, 0];
      const expected = idx.flatMap((i) => table.slice(i * 3, i * 3 + 3));
      const xi = T.tensor('int32', [null, 4], 'i');
      assertClose(f64(run(xi, layer.apply(xi) as st.Variable, makeTensor(idx, [2, 4], 'int32'))), expected, 'embedding int32', 0, 0);
      const xf = T.tensor('float32', [null, 4], 'f');
      const out = run(xf, layer.apply(xf) as st.Variable, makeTensor(idx.map((i) => i + 0.7), [2, 4], 'float32'));
      assert.deepEqual(out.shape, [2, 4, 3]);
      assertClose(f64(out), expected, 'embedding float', 0, 0);
    });

    it('has a gradient w.r.t. its embeddings that matches finite differences (repeated indices add up)', () => {
      const rng = new Rng(22);
      const layer = new Embedding({ inputDim: 5, outputDim: 2, dtype: 'float64' });
      const x = T.tensor('int32', [null, 3], 'i');
      const y = layer.apply(x) as st.Variable;
      checkWeightGrad('embedding', x, T.tanh(y), makeTensor([1, 1, 4, 0, 1, 3], [2, 3], 'int32'), [layer.embeddings], rng);
    });

    it('fails at run time on an index outside [0, inputDim)', () => {
      const layer = new Embedding({ inputDim: 4, outputDim: 2 });
      const x = T.tensor('int32', [null, 2], 'i');
      const f = st.fn([x], layer.apply(x) as st.Variable);
      const e1 = catchError(() => f.sync(makeTensor([0, 4], [1, 2], 'int32')));
      assert.equal(e1.code, 'ERR_ST_INDEX');
      assert.match(e1.message, /gather: index 4 is out of range for axis of size 4/);
      // numpy's gather would read -1 as the last row; an embedding rejects it (reported as -1 - 4)
      const e2 = catchError(() => f.sync(makeTensor([-1, 0], [1, 2], 'int32')));
      assert.equal(e2.code, 'ERR_ST_INDEX');
      assert.match(e2.message, /gather: index -5 is out of range/);
      const ok = f.sync(makeTensor([3, 0], [1, 2], 'int32'));
      assert.deepEqual(ok.shape, [1, 2, 2]);
      f.dispose();
    });

    it('accepts maskZero (its config round-trips), refuses bool indices, and round-trips its config', () => {
      assert.equal(new Embedding({ inputDim: 4, outputDim: 2, maskZero: true }).getConfig().maskZero, true);
      assert.equal(new Embedding({ inputDim: 4, outputDim: 2 }).getConfig().maskZero, false);
      const layer = new Embedding({ inputDim: 4, outputDim: 2, name: 'emb_bool' });
      const e2 = catchError(() => layer.apply(T.tensor('bool', [null, 2])));
      assert.equal(e2.code, 'ERR_ST_DTYPE');
      assert.match(e2.message, /emb_bool/);
      const copy = new Embedding(JSON.parse(JSON.stringify(layer.getConfig())));
      assert.deepEqual(copy.getConfig(), layer.getConfig());
      assert.equal(copy.getConfig().embeddingsInitializer && (copy.getConfig().embeddingsInitializer as { className: string }).className, 'RandomUniform');
    });
  });

  describe('Dropout and the noise layers', () => {
    const N = 200, M = 50;
    const ones = () => st.ones([N, M]);

    it('Dropout is the identity at inference', () => {
      const layer = new Dropout({ rate: 0.5 });
      const x = T.tensor('float32', [null, M], 'x');
      const xv = uniform(new Rng(3), N * M);
      assertClose(f64(run(x, layer.apply(x, { training: false }) as st.Variable, makeTensor(xv, [N, M], 'float32'))), Float32Array.from(xv), 'inference', 0, 0);
    });

    it('Dropout in training keeps about 1 - rate of the entries, scaled by 1/(1 - rate), with a new mask per call', () => {
      const rate = 0.3;
      const layer = new Dropout({ rate });
      const x = T.tensor('float32', [null, M], 'x');
      const f = st.fn([x], layer.apply(x, { training: true }) as st.Variable);
      const masks = [0, 1].map(() => {
        const out = f.sync(ones()).dataSync() as Float32Array;
        let kept = 0;
        for (const v of out) {
          if (v !== 0) {
            assert.ok(Math.abs(v - 1 / (1 - rate)) < 1e-6, `a kept entry is ${v}, not ${1 / (1 - rate)}`);
            kept++;
          }
        }
        // binomial(10000, 0.7): mean 7000, sd 45.8; ±6 sd
        assert.ok(kept > 7000 - 275 && kept < 7000 + 275, `kept ${kept} of ${N * M}`);
        return Array.from(out, (v) => v !== 0);
      });
      // two independent masks agree on 0.7² + 0.3² = 58% of the entries (sd 0.5%)
      const same = masks[0].filter((k, i) => k === masks[1][i]).length / (N * M);
      assert.ok(same > 0.55 && same < 0.61, `masks agree on ${same} of the entries`);
      f.dispose();
    });

    it('Dropout with a seed draws the same first mask every time it is made', () => {
      const draw = () => {
        const layer = new Dropout({ rate: 0.5, seed: 1234 });
        const x = T.tensor('float32', [N, M], 'x');
        return Array.from(run(x, layer.apply(x, { training: true }) as st.Variable, ones()).dataSync() as Float32Array);
      };
      assert.deepEqual(draw(), draw());
    });

    it('Dropout shares one draw along the axes where noiseShape is 1; SpatialDropout2D drops whole channels', () => {
      const layer = new Dropout({ rate: 0.5, noiseShape: [null, 1] });
      const x = T.tensor('float32', [null, M], 'x');
      const out = run(x, layer.apply(x, { training: true }) as st.Variable, ones()).dataSync() as Float32Array;
      let keptRows = 0;
      for (let n = 0; n < N; n++) {
        const row = out.slice(n * M, (n + 1) * M);
        assert.ok(row.every((v) => v === row[0]) && (row[0] === 0 || row[0] === 2), `row ${n} is not uniform: ${row.slice(0, 5)}`);
        if (row[0] === 2) keptRows++;
      }
      // binomial(200, 0.5): sd 7.1
      assert.ok(keptRows > 100 - 43 && keptRows < 100 + 43, `kept ${keptRows} rows`);
      const sd = new SpatialDropout2D({ rate: 0.5 });
      const x4 = T.tensor('float32', [null, 3, 3, 40], 'x4');
      const o4 = run(x4, sd.apply(x4, { training: true }) as st.Variable, st.ones([5, 3, 3, 40])).dataSync() as Float32Array;
      let keptMaps = 0;
      for (let b = 0; b < 5; b++)
        for (let c = 0; c < 40; c++) {
          const vals = [];
          for (let p = 0; p < 9; p++) vals.push(o4[(b * 9 + p) * 40 + c]);
          assert.ok(vals.every((v) => v === vals[0]), `feature map (${b}, ${c}) is not uniform`);
          if (vals[0] !== 0) keptMaps++;
        }
      assert.ok(keptMaps > 100 - 43 && keptMaps < 100 + 43, `kept ${keptMaps} of 200 maps`);
      const e = catchError(() => new SpatialDropout2D({ rate: 0.5, name: 'sd_rank' }).apply(T.tensor('float32', [null, 3, 4])));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /sd_rank.*rank 4/);
    });

    it('Dropout rejects a rate outside [0, 1) and a noiseShape that does not fit', () => {
      for (const rate of [1, -0.1, NaN]) {
        const e = catchError(() => new Dropout({ rate }));
        assert.equal(e.code, 'ERR_ST_ARG');
        assert.match(e.message, /rate must be a number in \[0, 1\)/);
      }
      const e2 = catchError(() => new Dropout({ rate: 0.5, noiseShape: [null, 3], name: 'drop_ns' }).apply(T.tensor('float32', [null, 4])));
      assert.equal(e2.code, 'ERR_ST_SHAPE');
      assert.match(e2.message, /drop_ns.*\[\?,3\].*\[\?,4\]/);
    });

    it('Dropout round-trips its config and has no parameters', () => {
      const layer = new Dropout({ rate: 0.25, noiseShape: [null, 1, 8], seed: 3 });
      layer.computeOutputShape([null, 4, 8]);
      assert.equal(layer.countParams(), 0);
      const copy = new Dropout(JSON.parse(JSON.stringify(layer.getConfig())));
      assert.deepEqual(copy.getConfig(), layer.getConfig());
    });

    it('GaussianNoise adds N(0, stddev²) noise in training only, fresh on each call', () => {
      const layer = new GaussianNoise({ stddev: 0.5 });
      const x = T.tensor('float64', [null, M], 'x');
      const xv = makeTensor(uniform(new Rng(4), N * M), [N, M]);
      const base = f64(xv);
      assertClose(f64(run(x, layer.apply(x, { training: false }) as st.Variable, xv)), base, 'inference', 0, 0);
      const f = st.fn([x], layer.apply(x, { training: true }) as st.Variable);
      const noises = [0, 1].map(() => {
        const d = f64(f.sync(xv)).map((v, i) => v - base[i]);
        const mean = d.reduce((a, b) => a + b, 0) / d.length;
        const variance = d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length;
        // mean: sd 0.005; variance 0.25: sd 0.0035
        assert.ok(Math.abs(mean) < 0.03, `noise mean ${mean}`);
        assert.ok(Math.abs(variance - 0.25) < 0.021, `noise variance ${variance}`);
        return d;
      });
      assert.ok(noises[0].some((v, i) => v !== noises[1][i]), 'a second call draws new noise');
      f.dispose();
      assert.equal(new GaussianNoise(layer.getConfig()).stddev, 0.5);
    });

    it('GaussianDropout multiplies by N(1, rate/(1-rate)) noise in training only', () => {
      const layer = new GaussianDropout({ rate: 0.2 });
      const x = T.tensor('float64', [null, M], 'x');
      const y = f64(run(x, layer.apply(x, { training: true }) as st.Variable, st.ones([N, M], 'float64')));
      const mean = y.reduce((a, b) => a + b, 0) / y.length;
      const variance = y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length;
      // variance 0.25: mean's sd 0.005, variance's sd 0.0035
      assert.ok(Math.abs(mean - 1) < 0.03, `mean ${mean}`);
      assert.ok(Math.abs(variance - 0.25) < 0.021, `variance ${variance}`);
      const same = f64(run(x, layer.apply(x) as st.Variable, st.ones([2, M], 'float64')));
      assert.ok(same.every((v) => v === 1), 'identity at inference');
    });
  });
});

