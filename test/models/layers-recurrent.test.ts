// Recurrent layers: shapes and parameter counts from Keras's formulas, values against plain float64
// loops written from the published equations, gradients against finite differences, masks,
// states, dropout, the wrappers, configs and errors.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import {
  GRU, GRUCell, LSTM, LSTMCell, Masking, RNN, SimpleRNN, SimpleRNNCell, gru, lstm, rnn, sequenceMask, simpleRNN, tokenMask,
} from '../../lib/models/layers/recurrent';
import { Bidirectional, TimeDistributed } from '../../lib/models/layers/wrappers';
import { StackedRNNCells, stackedRNNCells } from '../../lib/models/layers/stacked-cells';
import { Dense } from '../../lib/models/layers/core';
import { Layer } from '../../lib/models/layer';
import { catchError } from '../support/check';
import { assertClose, f64, makeTensor, uniform } from '../support/fd';
import { collectingContext } from '../support/models';
import { Rng } from '../support/reference';

const { T } = st;
type V = st.Variable;
type Mat = number[][];

// ---- plain float64 references (Keras's equations) ----
const sig = (v: number) => 1 / (1 + Math.exp(-v));
/** Row vector times matrix. */
const vm = (v: number[], m: Mat) => m[0].map((_, j) => v.reduce((s, vi, i) => s + vi * m[i][j], 0));
const reshape2 = (flat: number[], r: number, c: number): Mat => Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c));

interface Weights { k: Mat; r: Mat; b: number[] | Mat | null }
interface RefOpts { back?: boolean; mask?: number[][]; init?: number[][][] }
type StepFn = (x: number[], states: number[][]) => number[][];

/** Runs a step function over x [B][S][F]: outputs in processing order [B][S][u] and final states. */
function runRef(x: number[][][], step: StepFn, nStates: number, units: number, o: RefOpts = {}) {
  const B = x.length, S = x[0].length;
  const ys: number[][][] = [], finals: number[][][] = Array.from({ length: nStates }, () => []);
  for (let n = 0; n < B; n++) {
    let states = Array.from({ length: nStates }, (_, s) => o.init?.[s][n].slice() ?? new Array(units).fill(0));
    const row: number[][] = [];
    for (let i = 0; i < S; i++) {
      const t = o.back ? S - 1 - i : i;
      if (!o.mask || o.mask[n][t]) states = step(x[n][t], states);
      row.push(states[0].slice());
    }
    ys.push(row);
    states.forEach((s, k) => finals[k].push(s));
  }
  return { ys, finals };
}

const lstmStep = (w: Weights, u: number): StepFn => (x, [h, c]) => {
  const g = vm(x, w.k).map((v, j) => v + vm(h, w.r)[j] + (w.b as number[])[j]);
  const gate = (k: number) => g.slice(k * u, (k + 1) * u);
  const i = gate(0).map(sig), f = gate(1).map(sig), cc = gate(2).map(Math.tanh), o = gate(3).map(sig);
  const c2 = c.map((cv, j) => f[j] * cv + i[j] * cc[j]);
  return [c2.map((cv, j) => o[j] * Math.tanh(cv)), c2];
};

const gruStep = (w: Weights, u: number, resetAfter: boolean): StepFn => (x, [h]) => {
  const bIn = resetAfter ? (w.b as Mat)[0] : (w.b as number[]);
  const xz = vm(x, w.k).map((v, j) => v + bIn[j]);
  const rk = (a: number, n: number) => w.r.map((row) => row.slice(a, a + n));
  let z: number[], r: number[], hh: number[];
  if (resetAfter) {
    const m = vm(h, w.r).map((v, j) => v + (w.b as Mat)[1][j]);
    z = xz.slice(0, u).map((v, j) => sig(v + m[j]));
    r = xz.slice(u, 2 * u).map((v, j) => sig(v + m[u + j]));
    hh = xz.slice(2 * u).map((v, j) => Math.tanh(v + r[j] * m[2 * u + j]));
  } else {
    const m = vm(h, rk(0, 2 * u));
    z = xz.slice(0, u).map((v, j) => sig(v + m[j]));
    r = xz.slice(u, 2 * u).map((v, j) => sig(v + m[u + j]));
    const mh = vm(h.map((hv, j) => r[j] * hv), rk(2 * u, u));
    hh = xz.slice(2 * u).map((v, j) => Math.tanh(v + mh[j]));
  }
  return [h.map((hv, j) => z[j] * hv + (1 - z[j]) * hh[j])];
};

const simpleStep = (w: Weights): StepFn => (x, [h]) => [vm(x, w.k).map((v, j) => Math.tanh(v + vm(h, w.r)[j] + (w.b as number[])[j]))];

// ---- helpers ----
const rng0 = new Rng(7);
/** Sets every weight of a layer to small seeded values and returns them as nested arrays. */
function setSmallWeights(layer: Layer, rng: Rng, scale = 0.6): Weights {
  const vals = layer.weights.map((w) => {
    const shape = w.type.shape as number[];
    return { shape, v: uniform(rng, shape.reduce((a, b) => a * b, 1), -scale, scale) };
  });
  layer.setWeights(vals.map(({ shape, v }) => makeTensor(v, shape)));
  const [k, r, b] = vals;
  return {
    k: reshape2(k.v, k.shape[0], k.shape[1]),
    r: reshape2(r.v, r.shape[0], r.shape[1]),
    b: b ? (b.shape.length === 2 ? reshape2(b.v, b.shape[0], b.shape[1]) : b.v) : null,
  };
}
const nested = (flat: number[], B: number, S: number, F: number) => Array.from({ length: B }, (_, n) => reshape2(flat.slice(n * S * F, (n + 1) * S * F), S, F));
const flat = (a: unknown): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a as number]);

/** Applies the layer (float64, unknown batch) and runs it; returns the outputs' values. */
function runLayer(layer: Layer, inputs: { shape: number[]; value: number[]; dtype?: 'float64' | 'bool' }[], training = false): Float64Array[] {
  const vars = inputs.map((inp, i) => T.tensor(inp.dtype ?? 'float64', [null, ...inp.shape.slice(1)], `in${i}`));
  const out = layer.apply(vars.length === 1 ? vars[0] : vars, { training }) as V | V[];
  const f = st.fn(vars, Array.isArray(out) ? out : [out]);
  const res = (f.sync(...inputs.map((inp) => makeTensor(inp.value, inp.shape, inp.dtype ?? 'float64'))) as st.Tensor[]).map(f64);
  f.dispose();
  return res;
}

/**
 * st.grad of sum(y · R) w.r.t. the input and every weight against central differences, with the
 * layer called in training mode (the backward loop reads the stored products) or not.
 */
function checkLayerGrads(label: string, layer: Layer, xShape: number[], rng: Rng, training: boolean, extra?: { shape: number[]; value: number[]; dtype: 'bool' }): void {
  const x = T.tensor('float64', xShape, 'x');
  const m = extra ? T.tensor('bool', extra.shape, 'm') : null;
  const { ctx } = collectingContext(training);
  const out = layer.call(m ? [x, m] : x, ctx);
  const y = Array.isArray(out) ? out[0] : out;
  const xv = makeTensor(uniform(rng, xShape.reduce((a, b) => a * b, 1)), xShape);
  const args = m ? [xv, makeTensor(extra!.value, extra!.shape, 'bool')] : [xv];
  const vars = m ? [x, m] : [x];
  const probe = st.fn(vars, y).sync(...args);
  const r = T.constant(makeTensor(uniform(rng, probe.size, 0.5, 1.5), probe.shape));
  const cost = T.sum(T.mul(y, r));
  const ws = layer.trainableWeights;
  const analytic = (st.fn(vars, st.grad(cost, [x, ...ws])).sync(...args) as st.Tensor[]).map(f64);
  const costFn = st.fn(vars, cost);
  const eval0 = () => (costFn.sync(...args) as st.Tensor).dataSync()[0] as number;
  const eps = 1e-6;
  // the input
  const xb = f64(xv);
  const nx = new Float64Array(xb.length);
  for (let j = 0; j < xb.length; j++) {
    const at = (v: number) => {
      const vals = Float64Array.from(xb);
      vals[j] = v;
      args[0] = makeTensor(vals, xShape);
      return eval0();
    };
    nx[j] = (at(xb[j] + eps) - at(xb[j] - eps)) / (2 * eps);
  }
  args[0] = xv;
  assertClose(analytic[0], nx, `${label}: d/dx`, 1e-6, 1e-8);
  ws.forEach((w, k) => {
    const base = f64(w.get());
    const shape = w.type.shape as number[];
    const num = new Float64Array(base.length);
    for (let j = 0; j < base.length; j++) {
      const at = (v: number) => {
        const vals = Float64Array.from(base);
        vals[j] = v;
        w.set(makeTensor(vals, shape));
        return eval0();
      };
      num[j] = (at(base[j] + eps) - at(base[j] - eps)) / (2 * eps);
    }
    w.set(makeTensor(base, shape));
    assertClose(analytic[k + 1], num, `${label}: d/d${w.name}`, 1e-6, 1e-8);
  });
}

describe('recurrent layers', () => {
  describe('shapes and parameter counts (Keras)', () => {
    const count = (layer: Layer, shape: (number | null)[]) => (layer.computeOutputShape(shape), layer.countParams());
    it('LSTM, GRU and SimpleRNN have Keras\'s parameter counts and weight shapes', () => {
      // LSTM: 4(d·u + u² + u); 128 → 256 as in the benchmark
      assert.equal(count(lstm({ units: 256 }), [null, 100, 128]), 4 * (128 * 256 + 256 * 256 + 256));
      assert.equal(count(lstm({ units: 256 }), [null, 100, 128]), 394240);
      // GRU: 3(d·u + u² + 2u) with resetAfter, 3(d·u + u² + u) without
      assert.equal(count(gru({ units: 32 }), [null, 10, 16]), 4800);
      assert.equal(count(gru({ units: 32, resetAfter: false }), [null, 10, 16]), 4704);
      // SimpleRNN: d·u + u² + u
      assert.equal(count(simpleRNN({ units: 32 }), [null, 10, 16]), 16 * 32 + 32 * 32 + 32);
      const l = lstm({ units: 4 });
      l.computeOutputShape([null, 3, 5]);
      assert.deepEqual(l.weights.map((w) => [w.name.split('/').pop(), w.type.shape]), [['kernel', [5, 16]], ['recurrent_kernel', [4, 16]], ['bias', [16]]]);
      const g = gru({ units: 4 });
      g.computeOutputShape([null, 3, 5]);
      assert.deepEqual(g.weights.map((w) => w.type.shape), [[5, 12], [4, 12], [2, 12]]);
    });

    it('the LSTM bias starts with ones in the forget block (unitForgetBias)', () => {
      const l = lstm({ units: 3 });
      l.computeOutputShape([null, 2, 2]);
      assert.deepEqual(Array.from(l.weights[2].get().dataSync() as Float32Array), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
      const l2 = lstm({ units: 3, unitForgetBias: false });
      l2.computeOutputShape([null, 2, 2]);
      assert.deepEqual(Array.from(l2.weights[2].get().dataSync() as Float32Array), new Array(12).fill(0));
    });

    it('output shapes follow returnSequences and returnState; wrappers double or keep the params', () => {
      assert.deepEqual(lstm({ units: 6 }).computeOutputShape([null, 7, 5]), [null, 6]);
      assert.deepEqual(lstm({ units: 6, returnSequences: true }).computeOutputShape([null, 7, 5]), [null, 7, 6]);
      assert.deepEqual(lstm({ units: 6, returnState: true }).computeOutputShape([null, 7, 5]), [[null, 6], [null, 6], [null, 6]]);
      assert.deepEqual(gru({ units: 6, returnState: true, returnSequences: true }).computeOutputShape([4, 7, 5]), [[4, 7, 6], [4, 6]]);
      const bi = new Bidirectional({ layer: lstm({ units: 6, returnSequences: true }) });
      assert.deepEqual(bi.computeOutputShape([null, 7, 5]), [null, 7, 12]);
      assert.equal(bi.countParams(), 2 * 4 * (5 * 6 + 36 + 6));
      const sum = new Bidirectional({ layer: gru({ units: 6 }), mergeMode: 'sum' });
      assert.deepEqual(sum.computeOutputShape([null, 7, 5]), [null, 6]);
      const td = new TimeDistributed({ layer: new Dense({ units: 3 }) });
      assert.deepEqual(td.computeOutputShape([null, 7, 5]), [null, 7, 3]);
      assert.equal(td.countParams(), 5 * 3 + 3);
    });
  });

  describe('forward values against plain loops (float64)', () => {
    const B = 2, S = 4, F = 3, U = 3;
    const rng = new Rng(21);
    const xv = uniform(rng, B * S * F);
    const xs = nested(xv, B, S, F);

    it('LSTM: every step, the final states, and backwards', () => {
      for (const back of [false, true]) {
        const layer = lstm({ units: U, returnSequences: true, returnState: true, goBackwards: back, dtype: 'float64' });
        layer.computeOutputShape([null, S, F]);
        const w = setSmallWeights(layer, rng);
        const [y, h, c] = runLayer(layer, [{ shape: [B, S, F], value: xv }]);
        const ref = runRef(xs, lstmStep(w, U), 2, U, { back });
        assertClose(y, flat(ref.ys), `lstm y back=${back}`, 1e-12, 1e-12);
        assertClose(h, flat(ref.finals[0]), 'lstm h', 1e-12, 1e-12);
        assertClose(c, flat(ref.finals[1]), 'lstm c', 1e-12, 1e-12);
      }
    });

    it('GRU with and without resetAfter; SimpleRNN', () => {
      for (const resetAfter of [true, false]) {
        const layer = gru({ units: U, returnSequences: true, resetAfter, dtype: 'float64' });
        layer.computeOutputShape([null, S, F]);
        const w = setSmallWeights(layer, rng);
        const [y] = runLayer(layer, [{ shape: [B, S, F], value: xv }]);
        assertClose(y, flat(runRef(xs, gruStep(w, U, resetAfter), 1, U).ys), `gru resetAfter=${resetAfter}`, 1e-12, 1e-12);
      }
      const s = simpleRNN({ units: U, dtype: 'float64' });
      s.computeOutputShape([null, S, F]);
      const w = setSmallWeights(s, rng);
      const [y] = runLayer(s, [{ shape: [B, S, F], value: xv }]);
      assertClose(y, flat(runRef(xs, simpleStep(w), 1, U).ys.map((r) => r[S - 1])), 'simple rnn last', 1e-12, 1e-12);
    });

    it('a mask keeps the states and repeats the output at masked steps; initial states are used', () => {
      const mask = [[1, 0, 1, 1], [1, 1, 0, 0]];
      const layer = lstm({ units: U, returnSequences: true, returnState: true, dtype: 'float64' });
      layer.computeOutputShape([null, S, F]);
      const w = setSmallWeights(layer, rng);
      const init = [uniform(rng, B * U), uniform(rng, B * U)];
      const [y, h, c] = runLayer(layer, [
        { shape: [B, S, F], value: xv }, { shape: [B, S], value: flat(mask), dtype: 'bool' },
        { shape: [B, U], value: init[0] }, { shape: [B, U], value: init[1] },
      ]);
      const ref = runRef(xs, lstmStep(w, U), 2, U, { mask, init: init.map((v) => reshape2(v, B, U)) });
      assertClose(y, flat(ref.ys), 'masked lstm y', 1e-12, 1e-12);
      assertClose(h, flat(ref.finals[0]), 'masked lstm h', 1e-12, 1e-12);
      assertClose(c, flat(ref.finals[1]), 'masked lstm c', 1e-12, 1e-12);
      // the same numbers in training mode (the step then also keeps its recurrent products)
      const [yt] = runLayer(layer, [{ shape: [B, S, F], value: xv }, { shape: [B, S], value: flat(mask), dtype: 'bool' }, { shape: [B, U], value: init[0] }, { shape: [B, U], value: init[1] }], true);
      assertClose(yt, flat(ref.ys), 'masked lstm y (training)', 1e-12, 1e-12);
      // a GRU with a 0/1 float mask (one state: a float lone extra input would be a state, so it is bool here)
      const g = gru({ units: U, returnSequences: true, zeroOutputForMask: true, dtype: 'float64' });
      g.computeOutputShape([null, S, F]);
      const wg = setSmallWeights(g, rng);
      const [yg] = runLayer(g, [{ shape: [B, S, F], value: xv }, { shape: [B, S], value: flat(mask), dtype: 'bool' }]);
      const rg = runRef(xs, gruStep(wg, U, true), 1, U, { mask });
      assertClose(yg, flat(rg.ys.map((row, n) => row.map((v, t) => (mask[n][t] ? v : v.map(() => 0))))), 'gru zeroOutputForMask', 1e-12, 1e-12);
    });

    it('Masking zeroes padded steps and its mask (sequenceMask, tokenMask) matches the padding', () => {
      const x = T.tensor('float64', [null, 3, 2], 'x');
      const [y, m] = new Masking({ maskValue: -1, returnMask: true }).apply(x) as V[];
      const ids = T.tensor('int32', [null, 4], 'ids');
      const f = st.fn([x, ids], [y, m, sequenceMask(x, -1), tokenMask(ids)]);
      const [yv, mv, sv, tv] = f.sync(makeTensor([1, -1, -1, -1, 0, 2, -1, -1, -1, -1, 3, -1], [2, 3, 2]), makeTensor([5, 0, 2, 0, 0, 0, 1, 7], [2, 4], 'int32')) as st.Tensor[];
      assert.deepEqual(Array.from(f64(yv)), [1, -1, 0, 0, 0, 2, 0, 0, 0, 0, 3, -1]);
      assert.deepEqual(Array.from(mv.dataSync() as Uint8Array), [1, 0, 1, 0, 0, 1]);
      assert.deepEqual(Array.from(sv.dataSync() as Uint8Array), [1, 0, 1, 0, 0, 1]);
      assert.deepEqual(Array.from(tv.dataSync() as Uint8Array), [1, 0, 1, 0, 0, 0, 1, 1]);
    });

    it('Bidirectional merges the forward and the re-reversed backward outputs', () => {
      const bi = new Bidirectional({ layer: gru({ units: U, returnSequences: true, dtype: 'float64' }), mergeMode: 'concat', dtype: 'float64' });
      bi.computeOutputShape([null, S, F]);
      const wf = setSmallWeights(bi.forwardLayer, rng), wb = setSmallWeights(bi.backwardLayer, rng);
      const [y] = runLayer(bi, [{ shape: [B, S, F], value: xv }]);
      const f = runRef(xs, gruStep(wf, U, true), 1, U), b = runRef(xs, gruStep(wb, U, true), 1, U, { back: true });
      const want = f.ys.map((row, n) => row.map((v, t) => [...v, ...b.ys[n][S - 1 - t]]));
      assertClose(y, flat(want), 'bidirectional concat', 1e-12, 1e-12);
      const ave = new Bidirectional({ layer: simpleRNN({ units: U, dtype: 'float64' }), mergeMode: 'ave', dtype: 'float64' });
      ave.computeOutputShape([null, S, F]);
      const sf = setSmallWeights(ave.forwardLayer, rng), sb = setSmallWeights(ave.backwardLayer, rng);
      const [ya] = runLayer(ave, [{ shape: [B, S, F], value: xv }]);
      const lf = runRef(xs, simpleStep(sf), 1, U).finals[0], lb = runRef(xs, simpleStep(sb), 1, U, { back: true }).finals[0];
      assertClose(ya, flat(lf.map((v, n) => v.map((a, j) => (a + lb[n][j]) / 2))), 'bidirectional ave', 1e-12, 1e-12);
    });

    it('TimeDistributed applies the same dense layer to every step', () => {
      const d = new Dense({ units: 2, dtype: 'float64' });
      const td = new TimeDistributed({ layer: d, dtype: 'float64' });
      td.computeOutputShape([null, S, F]);
      const k = uniform(rng, F * 2), b = uniform(rng, 2);
      d.setWeights([makeTensor(k, [F, 2]), makeTensor(b, [2])]);
      const [y] = runLayer(td, [{ shape: [B, S, F], value: xv }]);
      assertClose(y, flat(xs.map((row) => row.map((v) => vm(v, reshape2(k, F, 2)).map((a, j) => a + b[j])))), 'time distributed', 1e-12, 1e-12);
    });

    it('a custom cell through rnn(): a leaky accumulator', () => {
      class Leaky extends Layer {
        readonly stateSize = 2;
        call(inputs: V | V[]): V[] {
          const [x, h] = inputs as V[];
          const h2 = T.add(T.mul(h, 0.5), x);
          return [T.mul(h2, 2), h2];
        }
      }
      const layer = rnn({ cell: new Leaky({ dtype: 'float64' }), returnSequences: true, dtype: 'float64' });
      const x2 = uniform(rng, B * S * 2);
      const mask = [[1, 1, 0, 1], [0, 1, 1, 1]];
      const [y] = runLayer(layer, [{ shape: [B, S, 2], value: x2 }, { shape: [B, S], value: flat(mask), dtype: 'bool' }]);
      const want: number[] = [];
      nested(x2, B, S, 2).forEach((row, n) => {
        let h = [0, 0], out = [0, 0];
        row.forEach((v, t) => {
          if (mask[n][t]) (h = h.map((a, j) => a * 0.5 + v[j])), (out = h.map((a) => 2 * a));
          want.push(...out);
        });
      });
      assertClose(y, want, 'custom cell', 1e-12, 1e-12);
    });
  });

  describe('gradients (float64 finite differences)', function () {
    this.timeout(60000);
    it('LSTM in training mode (stored products) and inference mode, masked', () => {
      const rng = new Rng(31);
      const layer = lstm({ units: 2, returnSequences: true, dtype: 'float64' });
      layer.computeOutputShape([null, 3, 2]);
      setSmallWeights(layer, rng, 0.8);
      const mask = { shape: [2, 3], value: [1, 0, 1, 1, 1, 1], dtype: 'bool' as const };
      checkLayerGrads('lstm train', layer, [2, 3, 2], rng, true, mask);
      checkLayerGrads('lstm infer', layer, [2, 3, 2], rng, false);
    });

    it('GRU (both reset modes) and SimpleRNN going backwards', () => {
      const rng = new Rng(32);
      for (const resetAfter of [true, false]) {
        const layer = gru({ units: 2, resetAfter, dtype: 'float64' });
        layer.computeOutputShape([null, 3, 2]);
        setSmallWeights(layer, rng, 0.8);
        checkLayerGrads(`gru resetAfter=${resetAfter}`, layer, [2, 3, 2], rng, true);
      }
      const s = simpleRNN({ units: 2, goBackwards: true, returnSequences: true, dtype: 'float64' });
      s.computeOutputShape([null, 3, 2]);
      setSmallWeights(s, rng, 0.8);
      checkLayerGrads('simple rnn', s, [2, 3, 2], rng, true);
    });
  });

  describe('training behaviour, states and configs', () => {
    it('dropout acts only in training, with fresh masks per call', () => {
      const layer = lstm({ units: 3, dropout: 0.5, recurrentDropout: 0.5, returnSequences: true, seed: 3 });
      const x = T.tensor('float32', [null, 4, 3], 'x');
      const plain = lstm({ units: 3, returnSequences: true });
      plain.computeOutputShape([null, 4, 3]);
      layer.computeOutputShape([null, 4, 3]);
      plain.setWeights(layer.getWeights());
      const xv = makeTensor(uniform(rng0, 24), [2, 4, 3], 'float32');
      const inf = f64(st.fn([x], layer.apply(x) as V).sync(xv));
      assertClose(inf, f64(st.fn([x], plain.apply(x) as V).sync(xv)), 'inference ignores dropout', 1e-6, 1e-7);
      const { ctx } = collectingContext(true);
      const ft = st.fn([x], layer.call(x, ctx) as V);
      const a = f64(ft.sync(xv)), b = f64(ft.sync(xv));
      assert.ok(a.some((v, i) => Math.abs(v - inf[i]) > 1e-4), 'training output differs from inference');
      assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-4), 'two training calls draw different masks');
    });

    it('a stateful layer continues from its last states until resetStates()', () => {
      const rng = new Rng(41);
      const B = 2, S = 3, F = 2, U = 2;
      const layer = gru({ units: U, stateful: true, dtype: 'float64', inputShape: [S, F], batchSize: B });
      layer.computeOutputShape([B, S, F]);
      const w = setSmallWeights(layer, rng);
      const x = T.tensor('float64', [B, S, F], 'x');
      const { ctx, updates } = collectingContext(false);
      const y = layer.call(x, ctx) as V;
      assert.equal(updates.length, 1);
      const f = st.fn([x], y, { updates });
      const x1 = uniform(rng, B * S * F), x2 = uniform(rng, B * S * F);
      f.sync(makeTensor(x1, [B, S, F]));
      const y2 = f64(f.sync(makeTensor(x2, [B, S, F])));
      // the reference: both chunks as one sequence of 6 steps
      const joined = nested(x1, B, S, F).map((r, n) => [...r, ...nested(x2, B, S, F)[n]]);
      assertClose(y2, flat(runRef(joined, gruStep(w, U, true), 1, U).finals[0]), 'stateful continues', 1e-12, 1e-12);
      layer.resetStates();
      const y3 = f64(f.sync(makeTensor(x2, [B, S, F])));
      assertClose(y3, flat(runRef(nested(x2, B, S, F), gruStep(w, U, true), 1, U).finals[0]), 'after resetStates', 1e-12, 1e-12);
    });

    it('getConfig recreates each layer with the same shapes and parameter counts', () => {
      const layers: Layer[] = [
        lstm({ units: 5, returnSequences: true, unitForgetBias: false, recurrentDropout: 0.1 }),
        gru({ units: 4, resetAfter: false, goBackwards: true }),
        simpleRNN({ units: 3, returnState: true, activation: 'relu' }),
        new Bidirectional({ layer: lstm({ units: 3, returnSequences: true }), mergeMode: 'mul' }),
        new TimeDistributed({ layer: new Dense({ units: 2, activation: 'relu' }) }),
        new RNN({ cell: new LSTMCell({ units: 3 }) }),
      ];
      for (const l of layers) {
        const shape = l.computeOutputShape([null, 6, 4]);
        const cfg = JSON.parse(JSON.stringify(l.getConfig()));
        const Cls = l.constructor as new (c: unknown) => Layer;
        const copy = new Cls({ ...cfg, name: `${cfg.name}_copy` });
        assert.deepEqual(copy.computeOutputShape([null, 6, 4]), shape, l.name);
        assert.equal(copy.countParams(), l.countParams(), l.name);
      }
      const g = new GRU(JSON.parse(JSON.stringify(gru({ units: 4, resetAfter: false }).getConfig())));
      assert.equal(g.cell instanceof GRUCell && g.cell.resetAfter, false);
      assert.ok(new LSTM({ units: 2 }).cell instanceof LSTMCell && new SimpleRNN({ units: 2 }).cell !== null);
    });

    it('rejects bad inputs and options with messages naming the layer', () => {
      let e = catchError(() => lstm({ units: 3 }).computeOutputShape([null, 4]));
      assert.equal(e.code, 'ERR_ST_SHAPE');
      assert.match(e.message, /lstm.*\[batch, steps, features\]/);
      e = catchError(() => lstm({ units: 3, unit: 2 } as never));
      assert.equal(e.code, 'ERR_ST_ARG');
      assert.match(e.message, /unknown option "unit".*units/);
      e = catchError(() => gru({ units: 3, unroll: true }));
      assert.match(e.message, /unroll is not supported/);
      e = catchError(() => gru({ units: 3, stateful: true }).computeOutputShape([null, 4, 2]));
      assert.match(e.message, /fixed batch size/);
      const l = lstm({ units: 3 });
      const x = T.tensor('float32', [null, 4, 2]);
      e = catchError(() => l.apply([x, T.tensor('bool', [null, 5])]));
      assert.match(e.message, /lstm_\d+: the mask must be \[batch, steps\] = \[\?,4\], got \[\?,5\]/);
      e = catchError(() => l.apply([x, T.tensor('float32', [null, 3]), T.tensor('float32', [null, 3]), T.tensor('float32', [null, 3]), x]));
      assert.match(e.message, /inputs must be x, \[x, mask\]/);
      e = catchError(() => new Bidirectional({ layer: new Dense({ units: 2 }) as never }));
      assert.match(e.message, /wraps a recurrent layer/);
      e = catchError(() => lstm({ units: 3, dropout: 1 }));
      assert.match(e.message, /dropout must be a number in \[0, 1\)/);
    });
  });

  describe('stateful layers in inference', () => {
    it('two inference calls on the halves of a sequence equal one call on the whole; resetStates starts over', () => {
      const rng = new Rng(43);
      const B = 2, H = 3, F = 2, U = 3;
      const model = new st.Sequential([st.layers.input({ shape: [H, F], batchSize: B, dtype: 'float64' }), lstm({ units: U, stateful: true, dtype: 'float64' })]);
      const layer = model.layers[0] as LSTM;
      const w = setSmallWeights(layer, rng);
      // an inference context that takes the states' updates, as predict's does
      const x = T.tensor('float64', [B, H, F], 'x');
      const updates: [st.SharedVariable, V][] = [];
      const dropped: [st.SharedVariable, V][] = [];
      const ctx = { training: false, addUpdate: (v: st.SharedVariable, e: V) => dropped.push([v, e]), addLoss() {}, addStateUpdate: (v: st.SharedVariable, e: V) => updates.push([v, e]) };
      const y = model.call(x, ctx) as V;
      assert.equal(updates.length, 2);
      assert.equal(dropped.length, 0);
      const f = st.fn([x], y, { updates });
      const whole = uniform(rng, B * 2 * H * F);
      const wholeNested = nested(whole, B, 2 * H, F);
      const half = (k: number) => flat(wholeNested.map((row) => row.slice(k * H, (k + 1) * H)));
      const y1 = f64(f.sync(makeTensor(half(0), [B, H, F])));
      const y2 = f64(f.sync(makeTensor(half(1), [B, H, F])));
      const ref = runRef(wholeNested, lstmStep(w, U), 2, U);
      assertClose(y2, flat(ref.finals[0]), 'second half continues the first', 1e-12, 1e-12);
      assertClose(y1, flat(runRef(nested(half(0), B, H, F), lstmStep(w, U), 2, U).finals[0]), 'first half', 1e-12, 1e-12);
      layer.resetStates();
      const y3 = f64(f.sync(makeTensor(half(0), [B, H, F])));
      assertClose(y3, y1, 'resetStates restores the first result', 0, 0);
      f.dispose();
    });
  });

  describe('stacked cells', () => {
    const B = 2, S = 4, F = 3;
    const rng = new Rng(47);
    const xv = uniform(rng, B * S * F);
    const xs = nested(xv, B, S, F);

    it('counts the sum of the cells\' parameters and applies the cells in sequence at every step', () => {
      const c1 = new LSTMCell({ units: 4, dtype: 'float64' }), c2 = new GRUCell({ units: 3, dtype: 'float64' });
      const cell = stackedRNNCells({ cells: [c1, c2], dtype: 'float64' });
      const layer = rnn({ cell, returnSequences: true, returnState: true, dtype: 'float64' });
      assert.deepEqual(layer.computeOutputShape([null, S, F]), [[null, S, 3], [null, 4], [null, 4], [null, 3]]);
      assert.equal(layer.countParams(), 4 * (F * 4 + 16 + 4) + 3 * (4 * 3 + 9 + 2 * 3));
      assert.deepEqual(cell.stateSize, [4, 4, 3]);
      const w1 = setSmallWeights(c1, rng), w2 = setSmallWeights(c2, rng);
      const [y, h1, k1, h2] = runLayer(layer, [{ shape: [B, S, F], value: xv }]);
      // reference: per step, the LSTM cell on x, then the GRU cell on its output
      const s1 = lstmStep(w1, 4), s2 = gruStep(w2, 3, true);
      const wantY: number[] = [], finals: number[][] = [[], [], []];
      xs.forEach((row) => {
        let a = [new Array(4).fill(0), new Array(4).fill(0)], b = [new Array(3).fill(0)];
        row.forEach((x) => {
          a = s1(x, a);
          b = s2(a[0], b);
          wantY.push(...b[0]);
        });
        finals[0].push(...a[0]);
        finals[1].push(...a[1]);
        finals[2].push(...b[0]);
      });
      assertClose(y, wantY, 'stacked output', 1e-12, 1e-12);
      assertClose(h1, finals[0], 'first cell h', 1e-12, 1e-12);
      assertClose(k1, finals[1], 'first cell c', 1e-12, 1e-12);
      assertClose(h2, finals[2], 'second cell h', 1e-12, 1e-12);
    });

    it('round-trips its config and refuses bad cells', () => {
      const cell = new StackedRNNCells({ cells: [new SimpleRNNCell({ units: 2 }), new LSTMCell({ units: 5 })] });
      const again = new StackedRNNCells(JSON.parse(JSON.stringify(cell.getConfig())));
      assert.deepEqual(again.stateSize, [2, 5, 5]);
      assert.equal(again.outputSize, 5);
      const layer = new RNN(JSON.parse(JSON.stringify(rnn({ cell: again }).getConfig())));
      assert.deepEqual(layer.computeOutputShape([null, 3, 4]), [null, 5]);
      assert.equal(layer.countParams(), 4 * 2 + 4 + 2 + 4 * (2 * 5 + 25 + 5));
      let e = catchError(() => stackedRNNCells({ cells: [] }));
      assert.equal(e.code, 'ERR_ST_ARG');
      assert.match(e.message, /stacked_rnn_cells(_\d+)?: cells must be a non-empty list/);
      e = catchError(() => stackedRNNCells({ cells: [new Dense({ units: 2 }) as never] }));
      assert.match(e.message, /has no stateSize/);
      e = catchError(() => stackedRNNCells({ cells: [new LSTMCell({ units: 2, dropout: 0.5 })] }));
      assert.match(e.message, /dropout inside stacked cells is not supported/);
      const c = new GRUCell({ units: 2 });
      e = catchError(() => stackedRNNCells({ cells: [c, c] }));
      assert.match(e.message, /the same cell instance appears twice/);
    });
  });
});
