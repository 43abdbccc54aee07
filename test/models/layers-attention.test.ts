// Attention layers: shapes and parameter counts from Keras's formulas, values against plain-loop
// attention written here in float64 (masked pairs left out of the softmax), gradients against
// finite differences, the causal mask by perturbation, dropout's statistics, configs and errors.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as st from '../../lib/index';
import {
  Attention, MultiHeadAttention, PositionalEmbedding, SinePositionEncoding,
} from '../../lib/models/layers/attention';
import { layerClass } from '../../lib/models/layer';
import { catchError } from '../support/check';
import { assertClose, checkGrad, f64, makeTensor, uniform } from '../support/fd';
import { collectingContext, runOnce } from '../support/models';
import { Rng } from '../support/reference';

const { T } = st;

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const at = (shape: number[], ...idx: number[]) => idx.reduce((acc, v, i) => acc * shape[i] + v, 0);

/** A float64 input of the given shape with values in [-1, 1). */
function input(rng: Rng, shape: number[], lo = -1, hi = 1) {
  return { shape, value: uniform(rng, size(shape), lo, hi) };
}

/** Which (query step, value step) pairs of sample b may attend. */
type Allowed = (b: number, i: number, j: number) => boolean;
const all: Allowed = () => true;

/**
 * softmax over the allowed entries only (the others weigh exactly 0), shifted by the maximum; a
 * row with nothing allowed attends uniformly (as Keras's -1e9 scores do in float32).
 */
function softmaxAllowed(scores: number[], ok: boolean[]): number[] {
  if (!ok.some(Boolean)) return scores.map(() => 1 / scores.length);
  const use = ok;
  const m = Math.max(...scores.filter((_, j) => use[j]));
  const e = scores.map((s, j) => (use[j] ? Math.exp(s - m) : 0));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

interface MhaWeights {
  wq: number[]; bq: number[]; wk: number[]; bk: number[]; wv: number[]; bv: number[]; wo: number[]; bo: number[];
}

/**
 * Multi-head attention by the paper's formulas, one loop per sum: per head h,
 * Q = q·Wq[:,h,:] + bq[h], K, V likewise, P = softmax(Q·Kᵀ/√keyDim) over allowed pairs,
 * y = Σ_h (P·V)·Wo[h] + bo.  Returns y [B, Tq, O] and P [B, H, Tq, Tv].
 */
function referenceMha(
  q: number[], v: number[], k: number[], [B, Tq, Tv, Dq, Dv, Dk]: number[], [H, K, Vd, O]: number[], w: MhaWeights, allowed: Allowed,
): { y: number[]; p: number[] } {
  const proj = (x: number[], T_: number, D: number, W: number[], bias: number[], S: number) => {
    const out = new Array(B * T_ * H * S).fill(0);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T_; t++)
        for (let h = 0; h < H; h++)
          for (let c = 0; c < S; c++) {
            let acc = bias[h * S + c];
            for (let d = 0; d < D; d++) acc += x[at([B, T_, D], b, t, d)] * W[at([D, H, S], d, h, c)];
            out[at([B, T_, H, S], b, t, h, c)] = acc;
          }
    return out;
  };
  const Q = proj(q, Tq, Dq, w.wq, w.bq, K), Kp = proj(k, Tv, Dk, w.wk, w.bk, K), V = proj(v, Tv, Dv, w.wv, w.bv, Vd);
  const p = new Array(B * H * Tq * Tv).fill(0);
  const y = new Array(B * Tq * O).fill(0);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Tq; i++) {
      const heads = new Array(H * Vd).fill(0);
      for (let h = 0; h < H; h++) {
        const s: number[] = [];
        for (let j = 0; j < Tv; j++) {
          let acc = 0;
          for (let c = 0; c < K; c++) acc += Q[at([B, Tq, H, K], b, i, h, c)] * Kp[at([B, Tv, H, K], b, j, h, c)];
          s.push(acc / Math.sqrt(K));
        }
        const pr = softmaxAllowed(s, s.map((_, j) => allowed(b, i, j)));
        pr.forEach((val, j) => (p[at([B, H, Tq, Tv], b, h, i, j)] = val));
        for (let e = 0; e < Vd; e++) for (let j = 0; j < Tv; j++) heads[h * Vd + e] += pr[j] * V[at([B, Tv, H, Vd], b, j, h, e)];
      }
      for (let o = 0; o < O; o++) {
        let acc = w.bo[o];
        for (let he = 0; he < H * Vd; he++) acc += heads[he] * w.wo[he * O + o];
        y[at([B, Tq, O], b, i, o)] = acc;
      }
    }
  return { y, p };
}

/** Random weights for an MHA layer, set on it in Keras's order; returns them as plain arrays. */
function setMhaWeights(layer: MultiHeadAttention, rng: Rng): MhaWeights {
  const vals = layer.weights.map((w) => uniform(rng, size(w.type.shape as number[]), -0.8, 0.8));
  layer.setWeights(vals.map((v, i) => makeTensor(v, layer.weights[i].type.shape as number[])));
  const [wq, bq, wk, bk, wv, bv, wo, bo] = vals;
  return { wq, bq, wk, bk, wv, bv, wo, bo };
}

/** Compiles inputs → outputs, runs once on float64 values and returns the outputs as arrays. */
function runAll(vars: st.Variable[], outs: st.Variable[], values: { shape: number[]; value: number[] }[]): Float64Array[] {
  const f = st.fn(vars, outs);
  const res = f.sync(...values.map((x) => makeTensor(x.value, x.shape))) as st.Tensor[];
  f.dispose();
  return res.map(f64);
}

/** d(Σ y·R)/dw by st.grad against central differences, perturbing each shared weight in place. */
function checkWeightGrads(label: string, xs: st.Variable[], y: st.Variable, values: st.Tensor[], weights: st.SharedVariable[], rng: Rng): void {
  const probe = st.fn(xs, y);
  const shape = (probe.sync(...values) as st.Tensor).shape;
  probe.dispose();
  const r = T.constant(makeTensor(uniform(rng, size(shape), 0.5, 1.5).map((v, i) => (i % 2 ? -v : v)), shape));
  const cost = T.sum(T.mul(y, r));
  const gradFn = st.fn(xs, st.grad(cost, weights));
  const costFn = st.fn(xs, cost);
  const analytic = (gradFn.sync(...values) as st.Tensor[]).map(f64);
  const eps = 1e-6;
  weights.forEach((w, n) => {
    const base = f64(w.get());
    const ws = w.type.shape as number[];
    const numeric = base.map((b0, j) => {
      const costAt = (val: number) => {
        const copy = Float64Array.from(base);
        copy[j] = val;
        w.set(makeTensor(copy, ws));
        return (costFn.sync(...values) as st.Tensor).dataSync()[0] as number;
      };
      return (costAt(b0 + eps) - costAt(b0 - eps)) / (2 * eps);
    });
    w.set(makeTensor(base, ws));
    assertClose(analytic[n], numeric, `${label}: d/d${w.name}`, 1e-6, 1e-7);
  });
  gradFn.dispose();
  costFn.dispose();
}

describe('models/layers/attention', () => {
  describe('MultiHeadAttention', () => {
    it("has Keras 3's weights: MHA(8 heads, keyDim 32) on width 256 has 263,168 parameters", () => {
      const layer = new MultiHeadAttention({ numHeads: 8, keyDim: 32 });
      assert.deepEqual(layer.computeOutputShape([[null, 10, 256], [null, 12, 256]]), [null, 10, 256]);
      // query, key, value: kernel [256, 8, 32] + bias [8, 32]; output: kernel [8, 32, 256] + bias [256]
      assert.equal(layer.countParams(), 3 * (256 * 8 * 32 + 8 * 32) + (8 * 32 * 256 + 256));
      assert.equal(layer.countParams(), 263168);
      assert.deepEqual(layer.weights.map((w) => [w.name, w.type.shape]), [
        [`${layer.name}/query/kernel`, [256, 8, 32]], [`${layer.name}/query/bias`, [8, 32]],
        [`${layer.name}/key/kernel`, [256, 8, 32]], [`${layer.name}/key/bias`, [8, 32]],
        [`${layer.name}/value/kernel`, [256, 8, 32]], [`${layer.name}/value/bias`, [8, 32]],
        [`${layer.name}/attention_output/kernel`, [8, 32, 256]], [`${layer.name}/attention_output/bias`, [256]],
      ]);
    });

    it('sizes the projections from valueDim, outputShape and the key/value widths; useBias false drops the biases', () => {
      const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 4, valueDim: 3, outputShape: 7 });
      assert.deepEqual(layer.computeOutputShape([[null, 5, 10], [null, 6, 11], [null, 6, 9]]), [null, 5, 7]);
      assert.equal(layer.countParams(), (10 * 2 * 4 + 8) + (9 * 2 * 4 + 8) + (11 * 2 * 3 + 6) + (2 * 3 * 7 + 7));
      const noBias = new MultiHeadAttention({ numHeads: 3, keyDim: 2, useBias: false });
      noBias.computeOutputShape([[4, 5, 6], [4, 5, 6]]);
      assert.equal(noBias.countParams(), 3 * (6 * 3 * 2) + 3 * 2 * 6);
      assert.equal(noBias.weights.length, 4);
    });

    it('computes attention as the reference loops do, with a separate key and a [batch, Tq, Tv] mask', () => {
      const rng = new Rng(3);
      const dims = [2, 3, 4, 5, 6, 4]; // B, Tq, Tv, Dq, Dv, Dk
      const [B, Tq, Tv, Dq, Dv, Dk] = dims;
      const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 2, outputShape: 4, dtype: 'float64', returnAttentionScores: true });
      const q = T.tensor('float64', [null, Tq, Dq], 'q'), v = T.tensor('float64', [null, Tv, Dv], 'v'), k = T.tensor('float64', [null, Tv, Dk], 'k');
      const m = T.tensor('float64', [null, Tq, Tv], 'mask');
      const [y, p] = layer.apply([q, v, k, m]) as st.Variable[];
      assert.deepEqual(y.type.shape, [null, Tq, 4]);
      assert.deepEqual(p.type.shape, [null, 2, Tq, Tv]);
      const w = setMhaWeights(layer, rng);
      const xq = input(rng, [B, Tq, Dq]), xv = input(rng, [B, Tv, Dv]), xk = input(rng, [B, Tv, Dk]);
      // every query step keeps at least one key step; row (1, 2) has none (it attends uniformly)
      const maskVals = Array.from({ length: B * Tq * Tv }, (_, n) => (n % 3 === 1 ? 0 : 1));
      for (let j = 0; j < Tv; j++) maskVals[at([B, Tq, Tv], 1, 2, j)] = 0;
      const allowed: Allowed = (b, i, j) => maskVals[at([B, Tq, Tv], b, i, j)] !== 0;
      const [yv, pv] = runAll([q, v, k, m], [y, p], [xq, xv, xk, { shape: [B, Tq, Tv], value: maskVals }]);
      const ref = referenceMha(xq.value, xv.value, xk.value, dims, [2, 3, 2, 4], w, allowed);
      assertClose(pv, ref.p, 'attention weights', 1e-12, 1e-12);
      assertClose(yv, ref.y, 'output', 1e-12, 1e-12);
      // and without a mask every pair attends
      const plain = layer.apply([q, v, k]) as st.Variable[];
      const [y2] = runAll([q, v, k], [plain[0]], [xq, xv, xk]);
      assertClose(y2, referenceMha(xq.value, xv.value, xk.value, dims, [2, 3, 2, 4], w, all).y, 'output without a mask', 1e-12, 1e-12);
    });

    it('takes a [batch, Tv] padding mask (bool) for the value steps', () => {
      const rng = new Rng(4);
      const dims = [2, 3, 4, 4, 4, 4];
      const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 2, dtype: 'float64' });
      const q = T.tensor('float64', [null, 3, 4], 'q'), v = T.tensor('float64', [null, 4, 4], 'v');
      const pad = T.tensor('bool', [null, 4], 'pad');
      const y = layer.apply([q, v, v, pad]) as st.Variable;
      const w = setMhaWeights(layer, rng);
      const xq = input(rng, [2, 3, 4]), xv = input(rng, [2, 4, 4]);
      const keep = [1, 1, 0, 0, 1, 1, 1, 0]; // sample 0 has 2 real steps, sample 1 has 3
      const f = st.fn([q, v, pad], y);
      const out = f64(f.sync(makeTensor(xq.value, [2, 3, 4]), makeTensor(xv.value, [2, 4, 4]), makeTensor(keep, [2, 4], 'bool')) as st.Tensor);
      f.dispose();
      const ref = referenceMha(xq.value, xv.value, xv.value, dims, [2, 2, 2, 4], w, (b, _i, j) => keep[b * 4 + j] === 1);
      assertClose(out, ref.y, 'padded output', 1e-12, 1e-12);
    });

    it('with useCausalMask, output step t does not depend on inputs after t (perturbation)', () => {
      const rng = new Rng(5);
      const [B, L, D] = [2, 6, 4];
      const make = (causal: boolean) => {
        const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 3, dtype: 'float64', useCausalMask: causal });
        const x = T.tensor('float64', [null, null, D], 'x');
        const y = layer.apply([x, x]) as st.Variable;
        setMhaWeights(layer, new Rng(9));
        return st.fn([x], y);
      };
      const causal = make(true), free = make(false);
      const base = uniform(rng, B * L * D);
      const run = (f: st.CompiledFunction, vals: number[]) => f64(f.sync(makeTensor(vals, [B, L, D])) as st.Tensor);
      const y0 = run(causal, base), z0 = run(free, base);
      for (let s = 1; s < L; s++) {
        const moved = base.slice();
        for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) moved[at([B, L, D], b, s, d)] += 0.7 + 0.1 * d;
        const y1 = run(causal, moved), z1 = run(free, moved);
        const change = (a: Float64Array, c: Float64Array, t: number) => {
          let mx = 0;
          for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) mx = Math.max(mx, Math.abs(a[at([B, L, D], b, t, d)] - c[at([B, L, D], b, t, d)]));
          return mx;
        };
        for (let t = 0; t < L; t++) {
          if (t < s) assert.ok(change(y0, y1, t) <= 1e-13, `causal: output ${t} changed by ${change(y0, y1, t)} when input ${s} moved`);
          else assert.ok(change(y0, y1, t) > 1e-4, `causal: output ${t} should depend on input ${s}`);
          // without the mask, every output sees every input (so the check above can fail)
          assert.ok(change(z0, z1, t) > 1e-4, `non-causal: output ${t} should depend on input ${s}`);
        }
      }
      causal.dispose();
      free.dispose();
    });

    it('has gradients w.r.t. query, value and key that match finite differences (causal, float64)', () => {
      const rng = new Rng(6);
      const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 2, valueDim: 3, dtype: 'float64', useCausalMask: true });
      layer.computeOutputShape([[2, 3, 4], [2, 3, 5], [2, 3, 3]]);
      setMhaWeights(layer, rng);
      checkGrad('MHA inputs', [input(rng, [2, 3, 4]), input(rng, [2, 3, 5]), input(rng, [2, 3, 3])], (q, v, k) => layer.apply([q, v, k]) as st.Variable, { unknownDims: false });
    });

    it('has gradients w.r.t. its query kernel, value bias and output kernel that match finite differences', () => {
      const rng = new Rng(7);
      const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 2, dtype: 'float64' });
      const q = T.tensor('float64', [null, 3, 3], 'q'), v = T.tensor('float64', [null, 4, 3], 'v');
      const y = layer.apply([q, v]) as st.Variable;
      setMhaWeights(layer, rng);
      const vals = [makeTensor(uniform(rng, 2 * 9), [2, 3, 3]), makeTensor(uniform(rng, 2 * 12), [2, 4, 3])];
      checkWeightGrads('MHA weights', [q, v], y, vals, [layer.query.kernel, layer.value.bias!, layer.output.kernel], rng);
    });

    it('drops attention weights only in training, drawing a new mask each call', () => {
      const layer = new MultiHeadAttention({ numHeads: 1, keyDim: 2, dropout: 0.5, seed: 3, dtype: 'float64' });
      const x = T.tensor('float64', [null, 6, 3], 'x');
      const inferY = layer.apply([x, x]) as st.Variable;
      const trainY = layer.apply([x, x], { training: true }) as st.Variable;
      setMhaWeights(layer, new Rng(8));
      const xv = makeTensor(uniform(new Rng(9), 4 * 18), [4, 6, 3]);
      const fi = st.fn([x], inferY), ft = st.fn([x], trainY);
      const a = f64(fi.sync(xv) as st.Tensor), b = f64(fi.sync(xv) as st.Tensor);
      assertClose(a, b, 'inference is deterministic', 0, 0);
      const c = f64(ft.sync(xv) as st.Tensor), d = f64(ft.sync(xv) as st.Tensor);
      assert.ok(c.some((val, i) => Math.abs(val - a[i]) > 1e-6), 'training output equals inference output');
      assert.ok(c.some((val, i) => Math.abs(val - d[i]) > 1e-6), 'two training calls drew the same mask');
      fi.dispose();
      ft.dispose();
    });

    it('adds the activity penalty of its four projections (Keras passes it to each), divided by the batch size', () => {
      const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 2, dtype: 'float64', activityRegularizer: { className: 'L2', config: { l2: 0.5 } } });
      const x = T.tensor('float64', [null, 3, 4], 'x');
      layer.computeOutputShape([[null, 3, 4], [null, 3, 4]]);
      const w = setMhaWeights(layer, new Rng(17));
      const { ctx, losses } = collectingContext(true);
      const y = layer.call([x, x], ctx) as st.Variable;
      assert.equal(losses.length, 4);
      const xv = input(new Rng(18), [2, 3, 4]);
      const [yv, total] = runAll([x], [y, losses.reduce((a, b) => T.add(a, b))], [xv]);
      // the projections by loops: x·W + b per head, over every (sample, step)
      let sumSq = 0;
      for (const [W, bias] of [[w.wq, w.bq], [w.wk, w.bk], [w.wv, w.bv]])
        for (let n = 0; n < 6; n++)
          for (let c = 0; c < 4; c++) {
            let acc = bias[c];
            for (let d = 0; d < 4; d++) acc += xv.value[n * 4 + d] * W[d * 4 + c];
            sumSq += acc * acc;
          }
      for (const v of yv) sumSq += v * v;
      assertClose(total, [(0.5 * sumSq) / 2], 'activity penalty', 1e-12, 1e-12);
    });

    it('round-trips its config', () => {
      const layer = new MultiHeadAttention({ numHeads: 4, keyDim: 8, valueDim: 6, dropout: 0.1, outputShape: [12], useBias: false, seed: 5, useCausalMask: true, kernelInitializer: 'heNormal' });
      layer.computeOutputShape([[null, 7, 16], [null, 9, 10]]);
      const config = JSON.parse(JSON.stringify(layer.getConfig()));
      assert.equal(config.numHeads, 4);
      assert.equal(config.outputShape, 12);
      assert.equal(config.useCausalMask, true);
      assert.deepEqual(config.kernelInitializer.className, 'HeNormal');
      const copy = new MultiHeadAttention(config);
      assert.deepEqual(copy.computeOutputShape([[null, 7, 16], [null, 9, 10]]), [null, 7, 12]);
      assert.equal(copy.countParams(), layer.countParams());
      assert.deepEqual(JSON.parse(JSON.stringify(copy.getConfig())), config);
      assert.equal(layerClass('MultiHeadAttention'), MultiHeadAttention);
    });

    it('rejects inputs that do not fit, naming the layer', () => {
      const mk = () => new MultiHeadAttention({ numHeads: 2, keyDim: 4, name: 'mha_err' });
      let e = catchError(() => mk().computeOutputShape([null, 5, 8]));
      assert.equal(e.code, 'ERR_ST_ARG');
      assert.match(e.message, /mha_err.*\[query, value\]/);
      e = catchError(() => mk().computeOutputShape([[null, 8], [null, 5, 8]]));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /mha_err.*query must be \[batch, steps, features\], got \[\?,8\]/);
      e = catchError(() => mk().computeOutputShape([[null, 5, 8], [null, 6, 8], [null, 7, 8]]));
      assert.match(e.message, /mha_err.*same number of steps.*key \[\?,7,8\].*value \[\?,6,8\]/);
      e = catchError(() => mk().computeOutputShape([[null, 5, null], [null, 6, 8]]));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /mha_err.*features.*must be known/);
      e = catchError(() => mk().computeOutputShape([[2, 5, 8], [3, 6, 8]]));
      assert.match(e.message, /mha_err.*different batch sizes/);
      e = catchError(() => mk().computeOutputShape([[null, 5, 8], [null, 6, 8], [null, 6, 8], [null, 5, 5]]));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /mha_err.*mask must be \[batch, Tv\] = \[\?,6\] or \[batch, Tq, Tv\] = \[\?,5,6\].*got \[\?,5,5\]/);
      // a built layer applied to other widths
      const built = mk();
      built.computeOutputShape([[null, 5, 8], [null, 6, 8]]);
      e = catchError(() => built.apply([T.tensor('float32', [null, 5, 9]), T.tensor('float32', [null, 6, 8])]));
      assert.match(e.message, /mha_err.*built for query, value and key features 8, 8, 8, got 9, 8, 8/);
      e = catchError(() => new MultiHeadAttention({ numHeads: 2, keyDim: 4, attentionAxes: [2] }));
      assert.equal(e.code, 'ERR_ST_ARG');
      assert.match(e.message, /attentionAxes.*only attention over the sequence axis/);
      e = catchError(() => new MultiHeadAttention({ numHeads: 0, keyDim: 4 }));
      assert.match(e.message, /numHeads must be a positive integer, got 0/);
      e = catchError(() => new MultiHeadAttention({ numHeads: 2, keyDim: 4, keyDims: 3 } as never));
      assert.match(e.message, /unknown option "keyDims".*keyDim/);
    });
  });

  describe('Attention', () => {
    /** Keras's Attention by its formulas, with the masked pairs left out of the softmax. */
    function referenceAttention(q: number[], v: number[], k: number[], [B, Tq, Tv, D, Dv]: number[], mode: 'dot' | 'concat', scale: number, cw: number, allowed: Allowed) {
      const out = new Array(B * Tq * Dv).fill(0);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < Tq; i++) {
          const s: number[] = [];
          for (let j = 0; j < Tv; j++) {
            let acc = 0;
            for (let d = 0; d < D; d++) {
              const qd = q[at([B, Tq, D], b, i, d)], kd = k[at([B, Tv, D], b, j, d)];
              acc += mode === 'dot' ? qd * kd : Math.tanh(scale * (qd + kd));
            }
            s.push(mode === 'dot' ? scale * acc : cw * acc);
          }
          const p = softmaxAllowed(s, s.map((_, j) => allowed(b, i, j)));
          for (let e = 0; e < Dv; e++) for (let j = 0; j < Tv; j++) out[at([B, Tq, Dv], b, i, e)] += p[j] * v[at([B, Tv, Dv], b, j, e)];
        }
      return out;
    }

    const dims = [2, 3, 4, 3, 2]; // B, Tq, Tv, D, Dv
    for (const [mode, useScale] of [['dot', false], ['dot', true], ['concat', false], ['concat', true]] as const) {
      it(`computes ${mode} scores${useScale ? ' with a learned scale' : ''} as the reference does (key given, causal)`, () => {
        const rng = new Rng(mode === 'dot' ? 11 : 12);
        const [B, Tq, Tv, D, Dv] = dims;
        const layer = new Attention({ scoreMode: mode, useScale, useCausalMask: true, dtype: 'float64' });
        const q = T.tensor('float64', [null, Tq, D], 'q'), v = T.tensor('float64', [null, Tv, Dv], 'v'), k = T.tensor('float64', [null, Tv, D], 'k');
        const y = layer.apply([q, v, k]) as st.Variable;
        assert.deepEqual(y.type.shape, [null, Tq, Dv]);
        const expectedWeights = (useScale ? 1 : 0) + (mode === 'concat' ? 1 : 0);
        assert.equal(layer.countParams(), expectedWeights);
        const scale = useScale ? 1.7 : 1, cw = 0.6;
        if (layer.scale) layer.scale.set(st.tensor(scale, { dtype: 'float64' }));
        if (layer.concatScoreWeight) layer.concatScoreWeight.set(st.tensor(cw, { dtype: 'float64' }));
        const xq = input(rng, [B, Tq, D]), xv = input(rng, [B, Tv, Dv]), xk = input(rng, [B, Tv, D]);
        const [out] = runAll([q, v, k], [y], [xq, xv, xk]);
        const ref = referenceAttention(xq.value, xv.value, xk.value, dims, mode, scale, mode === 'concat' ? cw : 1, (_b, i, j) => j <= i);
        assertClose(out, ref, `${mode} attention`, 1e-12, 1e-12);
      });
    }

    it('uses value as key when no key is given, and takes a [batch, Tv] padding mask', () => {
      const rng = new Rng(13);
      const [B, Tq, Tv, D] = [2, 3, 4, 3];
      const layer = new Attention({ dtype: 'float64', returnAttentionScores: true });
      const q = T.tensor('float64', [null, Tq, D], 'q'), v = T.tensor('float64', [null, Tv, D], 'v'), m = T.tensor('int32', [null, Tv], 'm');
      const [y, p] = layer.apply([q, v, v, m]) as st.Variable[];
      assert.deepEqual(p.type.shape, [null, Tq, Tv]);
      const keep = [1, 0, 1, 1, 1, 1, 0, 0];
      const xq = input(rng, [B, Tq, D]), xv = input(rng, [B, Tv, D]);
      const f = st.fn([q, v, m], [y, p]);
      const [yv, pv] = (f.sync(makeTensor(xq.value, [B, Tq, D]), makeTensor(xv.value, [B, Tv, D]), makeTensor(keep, [B, Tv], 'int32')) as st.Tensor[]).map(f64);
      f.dispose();
      const allowed: Allowed = (b, _i, j) => keep[b * Tv + j] === 1;
      assertClose(yv, referenceAttention(xq.value, xv.value, xv.value, [B, Tq, Tv, D, D], 'dot', 1, 1, allowed), 'masked output', 1e-12, 1e-12);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < Tq; i++)
          for (let j = 0; j < Tv; j++) if (!allowed(b, i, j)) assert.equal(pv[at([B, Tq, Tv], b, i, j)], 0, `weight (${b}, ${i}, ${j}) of a padded step`);
      // two inputs: the value is the key
      const two = layer.apply([q, v]) as st.Variable[];
      const [y2] = runAll([q, v], [two[0]], [xq, xv]);
      assertClose(y2, referenceAttention(xq.value, xv.value, xv.value, [B, Tq, Tv, D, D], 'dot', 1, 1, all), 'self-keyed output', 1e-12, 1e-12);
    });

    it('stays finite for large scores (the softmax is shifted by its maximum)', () => {
      const layer = new Attention({ dtype: 'float32' });
      const q = T.tensor('float32', [1, 2, 2], 'q'), v = T.tensor('float32', [1, 3, 2], 'v');
      const y = layer.apply([q, v]) as st.Variable;
      const qv = [300, 0, -300, 0], vv = [1, 2, 3, 4, 5, 6];
      const f = st.fn([q, v], y);
      const out = f64(f.sync(st.tensor(qv, { shape: [1, 2, 2] }), st.tensor(vv, { shape: [1, 3, 2] })) as st.Tensor);
      f.dispose();
      // scores 300·v[j][0] = 300, 900, 1500 (and their negatives): exp overflows float32 unless shifted
      assertClose(out, referenceAttention(qv, vv, vv, [1, 2, 3, 2, 2], 'dot', 1, 1, all), 'large scores', 1e-6, 1e-6);
      assert.deepEqual(Array.from(out), [5, 6, 1, 2]);
    });

    it('has gradients w.r.t. its inputs and scalar weights that match finite differences', () => {
      const rng = new Rng(14);
      const layer = new Attention({ scoreMode: 'concat', useScale: true, dtype: 'float64' });
      layer.computeOutputShape([[2, 2, 3], [2, 3, 2], [2, 3, 3]]);
      layer.scale!.set(st.tensor(0.8, { dtype: 'float64' }));
      layer.concatScoreWeight!.set(st.tensor(1.3, { dtype: 'float64' }));
      checkGrad('Attention inputs', [input(rng, [2, 2, 3]), input(rng, [2, 3, 2]), input(rng, [2, 3, 3])], (q, v, k) => layer.apply([q, v, k]) as st.Variable);
      const q = T.tensor('float64', [2, 2, 3], 'q'), v = T.tensor('float64', [2, 3, 2], 'v'), k = T.tensor('float64', [2, 3, 3], 'k');
      const y = layer.apply([q, v, k]) as st.Variable;
      const values = [makeTensor(uniform(rng, 12), [2, 2, 3]), makeTensor(uniform(rng, 12), [2, 3, 2]), makeTensor(uniform(rng, 18), [2, 3, 3])];
      checkWeightGrads('Attention weights', [q, v, k], y, values, [layer.scale!, layer.concatScoreWeight!], rng);
    });

    it('drops attention weights in training as inverted dropout (mean kept), not at inference', () => {
      const [B, L] = [64, 8];
      const layer = new Attention({ dropout: 0.5, seed: 21, dtype: 'float64' });
      const q = T.tensor('float64', [null, L, 2], 'q'), v = T.tensor('float64', [null, L, 1], 'v');
      const rng = new Rng(15);
      const qv = makeTensor(uniform(rng, B * L * 2), [B, L, 2]), ones = makeTensor(new Array(B * L).fill(1), [B, L, 1]);
      // the query is also the key
      const train = st.fn([q, v], layer.apply([q, v, q], { training: true }) as st.Variable);
      const infer = st.fn([q, v], layer.apply([q, v, q]) as st.Variable);
      // with value 1 the output is the sum of the (kept, rescaled) weights of its row
      const inf = f64(infer.sync(qv, ones) as st.Tensor);
      assertClose(inf, new Array(B * L).fill(1), 'inference sums', 1e-12, 1e-12);
      const tr = f64(train.sync(qv, ones) as st.Tensor);
      const mean = tr.reduce((a, b) => a + b, 0) / tr.length;
      assert.ok(Math.abs(mean - 1) < 0.08, `the mean of the dropped weights' sums is ${mean}, not about 1`);
      assert.ok(tr.filter((s) => Math.abs(s - 1) > 1e-3).length > tr.length / 2, 'most rows should have dropped weights');
      train.dispose();
      infer.dispose();
    });

    it('round-trips its config and rejects bad inputs naming the layer', () => {
      const layer = new Attention({ useScale: true, scoreMode: 'concat', dropout: 0.2, seed: 4, useCausalMask: true, name: 'att_cfg' });
      layer.computeOutputShape([[null, 3, 4], [null, 5, 4]]);
      const config = JSON.parse(JSON.stringify(layer.getConfig()));
      assert.deepEqual({ ...config, name: undefined, dtype: undefined, trainable: undefined }, {
        name: undefined, dtype: undefined, trainable: undefined, useScale: true, scoreMode: 'concat', dropout: 0.2, seed: 4, useCausalMask: true, returnAttentionScores: false,
      });
      const copy = new Attention(config);
      assert.deepEqual(copy.computeOutputShape([[null, 3, 4], [null, 5, 4]]), [null, 3, 4]);
      assert.equal(copy.countParams(), 2);
      let e = catchError(() => new Attention({ name: 'att_bad' }).computeOutputShape([[null, 3, 4], [null, 5, 6]]));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /att_bad.*query and the key must have the same number of features.*query \[\?,3,4\] and key \[\?,5,6\]/);
      e = catchError(() => new Attention({ name: 'att_one' }).apply(T.tensor('float32', [null, 3, 4])));
      assert.equal(e.code, 'ERR_ST_ARG');
      assert.match(e.message, /att_one.*expects a list of inputs/);
      e = catchError(() => new Attention({ scoreMode: 'additive' as never }));
      assert.match(e.message, /scoreMode must be 'dot' or 'concat', got "additive"/);
      e = catchError(() => new Attention({ dropout: 1 }));
      assert.match(e.message, /dropout must be a number in \[0, 1\)/);
    });
  });

  describe('PositionalEmbedding', () => {
    it('adds learned position vectors to token vectors (parameters: (vocab + length) · width)', () => {
      const layer = new PositionalEmbedding({ sequenceLength: 6, inputDim: 5, outputDim: 3, dtype: 'float64' });
      const x = T.tensor('int32', [null, null], 'ids');
      const y = layer.apply(x) as st.Variable;
      assert.deepEqual(y.type.shape, [null, null, 3]);
      assert.equal(layer.countParams(), 5 * 3 + 6 * 3);
      assert.deepEqual(layer.weights.map((w) => [w.name, w.type.shape]), [
        [`${layer.name}/token_embeddings/embeddings`, [5, 3]], [`${layer.name}/position_embeddings/embeddings`, [6, 3]],
      ]);
      const rng = new Rng(16);
      const tok = uniform(rng, 15), pos = uniform(rng, 18);
      layer.setWeights([makeTensor(tok, [5, 3]), makeTensor(pos, [6, 3])]);
      const f = st.fn([x], y);
      for (const L of [4, 6]) {
        const ids = Array.from({ length: 2 * L }, (_, n) => (n * 3 + 1) % 5);
        const out = f64(f.sync(st.tensor(ids, { shape: [2, L], dtype: 'int32' })) as st.Tensor);
        const expected: number[] = [];
        for (let n = 0; n < 2 * L; n++) for (let d = 0; d < 3; d++) expected.push(tok[ids[n] * 3 + d] + pos[(n % L) * 3 + d]);
        assertClose(out, expected, `length ${L}`, 1e-15, 0);
      }
      f.dispose();
    });

    it('rejects sequences longer than sequenceLength and inputs that are not [batch, steps]', () => {
      let e = catchError(() => new PositionalEmbedding({ sequenceLength: 4, inputDim: 5, outputDim: 3, name: 'pe_long' }).computeOutputShape([null, 5]));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /pe_long.*5 steps but sequenceLength is 4/);
      e = catchError(() => new PositionalEmbedding({ sequenceLength: 4, inputDim: 5, outputDim: 3, name: 'pe_rank' }).computeOutputShape([null, 4, 2]));
      assert.match(e.message, /pe_rank.*token ids \[batch, steps\], got \[\?,4,2\]/);
      const layer = new PositionalEmbedding({ sequenceLength: 4, inputDim: 5, outputDim: 3, embeddingsInitializer: 'ones' });
      const copy = new PositionalEmbedding(JSON.parse(JSON.stringify(layer.getConfig())));
      assert.deepEqual(copy.computeOutputShape([null, 3]), [null, 3, 3]);
      assert.equal(copy.countParams(), 27);
      assert.deepEqual(Array.from(copy.tokenEmbeddings.get().dataSync()), new Array(15).fill(1));
    });

    it('fails when the function runs on a sequence longer than sequenceLength (length unknown while building)', () => {
      const x = T.tensor('int32', [null, null], 'ids');
      const f = st.fn([x], new PositionalEmbedding({ sequenceLength: 4, inputDim: 5, outputDim: 3 }).apply(x) as st.Variable);
      assert.deepEqual((f.sync(st.tensor([1, 2, 3, 4], { shape: [1, 4], dtype: 'int32' })) as st.Tensor).shape, [1, 4, 3]);
      const e = catchError(() => f.sync(st.tensor([1, 2, 3, 4, 0], { shape: [1, 5], dtype: 'int32' })));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /5 elements does not fit/);
      f.dispose();
    });
  });

  describe('in a saved model', () => {
    it('reloads a functional model with every attention layer and a mask input, giving the same outputs', async () => {
      st.setRandomSeed(5);
      const tokens = st.input({ shape: [6], dtype: 'int32' }), pad = st.input({ shape: [6], dtype: 'bool' });
      const e = new PositionalEmbedding({ sequenceLength: 6, inputDim: 10, outputDim: 8 }).apply(tokens) as st.KerasTensor;
      const h = st.layers.add().apply([e, new SinePositionEncoding().apply(e) as st.KerasTensor]) as st.KerasTensor;
      const a = new MultiHeadAttention({ numHeads: 2, keyDim: 4, useCausalMask: true }).apply([h, h, h, pad]) as st.KerasTensor;
      const out = new Attention({ useScale: true, scoreMode: 'concat' }).apply([a, h]) as st.KerasTensor;
      const model = st.model({ inputs: [tokens, pad], outputs: out });
      const x = st.tensor([1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1], { shape: [2, 6], dtype: 'int32' });
      const p = st.tensor([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1], { shape: [2, 6], dtype: 'bool' });
      const before = f64((await model.predict([x, p])) as st.Tensor);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-attention-'));
      try {
        await model.save(dir);
        const loaded = await st.loadModel(dir);
        assert.deepEqual(loaded.layers.map((l) => l.constructor.name).filter((n) => n !== 'InputLayer' && n !== 'Add'),
          ['PositionalEmbedding', 'SinePositionEncoding', 'MultiHeadAttention', 'Attention']);
        assertClose(f64((await loaded.predict([x, p])) as st.Tensor), before, 'reloaded outputs', 0, 0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('SinePositionEncoding', () => {
    it('returns sin(t·w_i) at even and cos(t·w_i) at odd features, w_i = maxWavelength^(-2⌊i/2⌋/d)', () => {
      const layer = new SinePositionEncoding({ maxWavelength: 100 });
      const x = T.tensor('float64', [null, null, 6], 'x');
      const y = layer.apply(x) as st.Variable;
      const out = runOnce(x, y, makeTensor(new Array(2 * 5 * 6).fill(0.5), [2, 5, 6]));
      assert.deepEqual(out.shape, [2, 5, 6]);
      const expected: number[] = [];
      for (let b = 0; b < 2; b++)
        for (let t = 0; t < 5; t++)
          for (let i = 0; i < 6; i++) {
            const angle = t / 100 ** ((2 * Math.floor(i / 2)) / 6);
            expected.push(i % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
          }
      assertClose(f64(out), expected, 'encoding', 1e-12, 1e-12);
      assert.equal(new SinePositionEncoding(layer.getConfig()).maxWavelength, 100);
    });
  });
});
