// T.scan and its short forms against closed forms and plain loops; gradients through scan against
// finite differences of plain float64 loops.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { SymtensorError } from '../../lib/errors';
import type { Variable } from '../../lib/graph/variable';

const { T } = st;
type V = Variable;
const f64 = (x: unknown) => st.tensor(x as number[], 'float64');
const data = (t: st.Tensor) => Array.from(t.dataSync());
const close = (got: number[], want: number[], tol = 1e-9) => {
  assert.equal(got.length, want.length, `length ${got.length} vs ${want.length}`);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= tol * (1 + Math.abs(want[i])), `element ${i}: ${g} vs ${want[i]}`));
};
const opcodes = (f: st.CompiledFunction<unknown>) => f.program()!.instrs.map((i) => i.label);

/** Rows of a deterministic matrix [n, m]. */
const rows = (n: number, m: number, a = 0.37, b = 0.11) => Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, j) => Math.sin(a * (i + 1) + b * (j + 1) * (i + 2))));

describe('T.scan', () => {
  it('cumulative sums, as one native loop whose size does not grow with the steps', () => {
    const x = T.dmatrix('x'), h0 = T.dvector('h0');
    const [sums] = T.scan((row: V, acc: V) => acc.add(row), { sequences: x, outputsInfo: h0 });
    const f = st.fn([x, h0], sums);
    for (const n of [1, 5, 40]) {
      const xv = rows(n, 3), init = [0.5, -1, 2];
      const want: number[] = [];
      const acc = init.slice();
      for (const r of xv) r.forEach((v, j) => want.push((acc[j] += v)));
      const out = f.sync(f64(xv), f64(init));
      assert.deepEqual(out.shape, [n, 3]);
      close(data(out), want);
      assert.equal(opcodes(f).filter((l) => l === 'scan.loop').length, 1);
    }
    // the same program for 5 and 40 steps, up to the step count
    const a = f.sync(f64(rows(5, 3)), f64([0, 0, 0])) && opcodes(f).length;
    const b = f.sync(f64(rows(40, 3)), f64([0, 0, 0])) && opcodes(f).length;
    assert.equal(a, b);
  });

  it('a power series: x^k by nSteps and a polynomial by T.reduce', () => {
    const x = T.dvector('x');
    const [powers] = T.scan((p: V, xx: V) => p.mul(xx), { outputsInfo: T.onesLike(x), nonSequences: x, nSteps: 6 });
    const c = T.dvector('c');
    // Horner from the highest coefficient: acc = acc * x + c_k
    const [poly] = T.foldr((ck: V, acc: V, xx: V) => acc.mul(xx).add(ck), c, T.zerosLike(x), x);
    const f = st.fn([x, c], [powers, poly]);
    const xv = [0.5, -1.25, 2], cv = [1, -2, 0.5, 3];
    const [p, q] = f.sync(f64(xv), f64(cv));
    assert.deepEqual(p.shape, [6, 3]);
    close(data(p), [1, 2, 3, 4, 5, 6].flatMap((k) => xv.map((v) => v ** k)));
    close(data(q), xv.map((v) => cv.reduce((s, ck, k) => s + ck * v ** k, 0)));
  });

  it('a linear recurrence with taps -1 and -2 matches its closed form (Binet)', () => {
    const init = T.dvector('init');
    const [fib] = T.scan((a1: V, a2: V) => a1.add(a2), { outputsInfo: { initial: init, taps: [-2, -1] }, nSteps: 20 });
    const f = st.fn([init], fib);
    const out = data(f.sync(f64([0, 1]))); // F0, F1 given; outputs F2..F21
    const phi = (1 + Math.sqrt(5)) / 2, psi = (1 - Math.sqrt(5)) / 2;
    close(out, Array.from({ length: 20 }, (_, k) => (phi ** (k + 2) - psi ** (k + 2)) / Math.sqrt(5)), 1e-12);
    // a_t = 0.5 a_{t-1} + 0.25 a_{t-3} with a sequence tap too: a plain loop is the oracle
    const x = T.dvector('x');
    const [a] = T.scan((xt: V, xnext: V, a3: V, a1: V) => a1.mul(0.5).add(a3.mul(0.25)).add(xt.mul(xnext)), {
      sequences: { input: x, taps: [0, 1] },
      outputsInfo: { initial: T.constant([1, 2, 3], undefined, 'float64'), taps: [-3, -1] },
    });
    const g = st.fn([x], a);
    const xv = [0.3, -0.2, 0.7, 1.1, -0.5, 0.25];
    const want = [1, 2, 3];
    for (let t = 0; t < xv.length - 1; t++) want.push(0.5 * want[want.length - 1] + 0.25 * want[want.length - 3] + xv[t] * xv[t + 1]);
    close(data(g.sync(f64(xv))), want.slice(3));
  });

  it('goBackwards, T.map, T.reduce, T.foldl and symbolic nSteps', () => {
    const x = T.dmatrix('x');
    const [back] = T.scan((row: V, acc: V) => acc.add(row), { sequences: x, outputsInfo: T.zeros([x.shape[1]], 'float64'), goBackwards: true });
    const [sq] = T.map((row: V) => row.mul(row).sum(), x);
    const [total] = T.reduce((row: V, acc: V) => acc.add(row), x, T.zeros([x.shape[1]], 'float64'));
    const [firstMinusRest] = T.foldl((row: V, acc: V) => row.sub(acc), x, T.zeros([x.shape[1]], 'float64'));
    // symbolic nSteps: one step fewer than x has rows
    const [partial] = T.scan((row: V, acc: V) => acc.add(row), { sequences: x, outputsInfo: T.zeros([x.shape[1]], 'float64'), nSteps: x.shape[0].sub(1) });
    const f = st.fn([x], [back, sq, total, firstMinusRest, partial]);
    for (const n of [4, 7]) {
      const xv = rows(n, 2);
      const [b, s, t, fm, p] = f.sync(f64(xv));
      const acc = [0, 0], wantB: number[] = [];
      for (let i = n - 1; i >= 0; i--) xv[i].forEach((v, j) => wantB.push((acc[j] += v)));
      close(data(b), wantB);
      close(data(s), xv.map((r) => r.reduce((a, v) => a + v * v, 0)));
      close(data(t), [0, 1].map((j) => xv.reduce((a, r) => a + r[j], 0)));
      const fold = [0, 0];
      for (const r of xv) r.forEach((v, j) => (fold[j] = v - fold[j]));
      close(data(fm), fold);
      assert.deepEqual(p.shape, [n - 1, 2]);
      const part = [0, 0], wantP: number[] = [];
      for (const r of xv.slice(0, n - 1)) r.forEach((v, j) => wantP.push((part[j] += v)));
      close(data(p), wantP);
    }
  });

  it('multiple outputs, a per-step output, and shared variables used implicitly', () => {
    const x = T.dvector('x');
    const scale = st.shared(st.tensor(2, 'float64'), 'scale');
    const [[acc, doubled]] = T.scan((v: V, a: V) => [a.add(v), v.mul(scale)], { sequences: x, outputsInfo: [T.constant(0, undefined, 'float64'), null] });
    const f = st.fn([x], [acc, doubled]);
    const [a, d] = f.sync(f64([1, 2, 3]));
    close(data(a), [1, 3, 6]);
    close(data(d), [2, 4, 6]);
    scale.set(st.tensor(-1, 'float64'));
    close(data(f.sync(f64([1, 2, 3]))[1]), [-1, -2, -3]);
  });

  it('runs inside st.fn with updates', () => {
    const x = T.dmatrix('x');
    const total = st.shared(st.tensor([0, 0], 'float64'), 'total');
    const [sums] = T.scan((row: V, acc: V) => acc.add(row), { sequences: x, outputsInfo: T.zeros([2], 'float64') });
    const f = st.fn([x], sums, { updates: [[total, total.add(sums.get([-1]))]] });
    const xv = rows(3, 2);
    f.sync(f64(xv));
    f.sync(f64(xv));
    const col = [0, 1].map((j) => xv.reduce((a, r) => a + r[j], 0));
    close(data(total.get() as st.Tensor), col.map((c) => 2 * c));
  });

  it('a scan of constants is folded before compiling (the step unrolled eagerly)', () => {
    const c = T.constant([1, 2, 3, 4], undefined, 'float64');
    const [sums] = T.scan((v: V, a: V) => a.mul(2).add(v), { sequences: c, outputsInfo: T.constant(0.5, undefined, 'float64') });
    const f = st.fn([], sums);
    close(data(f.sync()), [2, 6, 15, 34]);
    assert.ok(!opcodes(f).includes('scan.loop'));
  });

  it('errors name the argument at fault', () => {
    const x = T.dmatrix('x');
    const fail = (f: () => unknown, code: string, re: RegExp) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof SymtensorError, String(e));
        assert.equal(e.code, code);
        assert.match(e.message, re);
        return;
      }
      assert.fail('no error');
    };
    fail(() => T.scan((a: V) => a.add(1), { outputsInfo: T.dvector('h') }), 'ERR_ST_ARG', /sequences or nSteps/);
    fail(() => T.scan((r: V, a: V) => a.add(r), { sequences: x, outputsInfo: T.fvector('h') }), 'ERR_ST_DTYPE', /output 0 of the step is float64 but its initial value is float32/);
    fail(() => T.scan((r: V, a: V) => [a.add(r), r], { sequences: x, outputsInfo: T.dvector('h') }), 'ERR_ST_ARG', /outputsInfo has 1 entries but the step returned 2 outputs/);
    fail(() => T.scan((r: V, a: V) => a.add(r), { sequences: x, outputsInfo: { initial: T.dmatrix('h'), taps: [1] } }), 'ERR_ST_ARG', /distinct negative integers/);
  });
});

describe('gradients through T.scan', () => {
  // h_t = tanh(h_{t-1} W + x_t), cost = sum over t of sum(h_t^2) — plain float64 loops
  const rnnCost = (xv: number[][], h0: number[], W: number[][], backwards = false) => {
    let h = h0.slice(), s = 0;
    const order = backwards ? xv.slice().reverse() : xv;
    for (const r of order) {
      h = r.map((xj, j) => Math.tanh(h.reduce((a, hi, i) => a + hi * W[i][j], 0) + xj));
      s += h.reduce((a, v) => a + v * v, 0);
    }
    return s;
  };
  const fd = (f: (v: number[]) => number, v: number[], eps = 1e-6) =>
    v.map((_, i) => {
      const a = v.slice(), b = v.slice();
      a[i] += eps;
      b[i] -= eps;
      return (f(a) - f(b)) / (2 * eps);
    });
  const unflat = (v: number[], m: number) => Array.from({ length: v.length / m }, (_, i) => v.slice(i * m, i * m + m));

  for (const backwards of [false, true]) {
    it(`a tanh RNN${backwards ? ' (goBackwards)' : ''}: sequence, initial state and weights against finite differences`, () => {
      const x = T.dmatrix('x'), h0 = T.dvector('h0'), W = T.dmatrix('W');
      const [hs] = T.scan((r: V, h: V, w: V) => T.tanh(T.dot(h, w).add(r)), { sequences: x, outputsInfo: h0, nonSequences: W, goBackwards: backwards });
      const cost = T.sum(hs.mul(hs));
      const f = st.fn([x, h0, W], [cost, ...st.grad(cost, [x, h0, W])]);
      const xv = rows(5, 3), hv = [0.3, -0.1, 0.2], Wv = rows(3, 3, 0.9, 0.4).map((r) => r.map((v) => v * 0.6));
      const [c, gx, gh, gw] = f.sync(f64(xv), f64(hv), f64(Wv));
      close(data(c), [rnnCost(xv, hv, Wv, backwards)], 1e-12);
      close(data(gx), fd((v) => rnnCost(unflat(v, 3), hv, Wv, backwards), xv.flat()), 1e-7);
      close(data(gh), fd((v) => rnnCost(xv, v, Wv, backwards), hv), 1e-7);
      close(data(gw), fd((v) => rnnCost(xv, hv, unflat(v, 3), backwards), Wv.flat()), 1e-7);
    });
  }

  it('truncateGradient K: only the last K iterations pass gradients back (truncated BPTT)', () => {
    // h_t = a·h_{t-1} + x_t, cost = Σ_t c_t·h_t.  The backward pass visits iterations n-K … n-1
    // only: with g_t = Σ_{u ≥ t} c_u a^{u-t}, dcost/dx_t = g_t there and 0 before; dcost/da sums
    // g_t·h_{t-1} over the visited iterations; h0 gets nothing when K < n.
    const n = 6, av = 0.7, h0v = 0.4;
    const xv = [0.5, -1, 2, 0.3, -0.7, 1.1], cv = [1, -2, 0.5, 3, -1, 2];
    const x = T.dvector('x'), c = T.dvector('c'), h0 = T.dscalar('h0'), a = T.dscalar('a');
    for (const K of [2, 4, 6, 10]) {
      const [hs] = T.scan((xt: V, h: V, aa: V) => h.mul(aa).add(xt), { sequences: x, outputsInfo: h0, nonSequences: a, truncateGradient: K });
      const cost = T.sum(hs.mul(c));
      const [gx, gh, ga] = st.fn([x, c, h0, a], st.grad(cost, [x, h0, a])).sync(f64(xv), f64(cv), f64(h0v), f64(av));
      const h: number[] = [];
      xv.reduce((prev, xt) => (h.push(prev * av + xt), prev * av + xt), h0v);
      const g = xv.map((_, t) => cv.slice(t).reduce((acc, cu, j) => acc + cu * av ** j, 0));
      const first = Math.max(0, n - K);
      close(data(gx), g.map((gt, t) => (t >= first ? gt : 0)), 1e-12);
      close(data(gh), [first === 0 ? g[0] * av : 0], 1e-12);
      close(data(ga), [g.reduce((acc, gt, t) => (t >= first ? acc + gt * (t === 0 ? h0v : h[t - 1]) : acc), 0)], 1e-12);
    }
  });

  it('taps -1 and -2, a sequence tap, a per-step output and T.reduce', () => {
    // a_t = sin(a_{t-1}) * x_{t+1} + 0.5 a_{t-2} * x_t; y_t = a_t * x_t; cost = sum(a) + sum(y^2) + last(reduce)
    const step = (a2: number, a1: number, xt: number, xn: number) => Math.sin(a1) * xn + 0.5 * a2 * xt;
    const oracle = (xv: number[], init: number[], k: number) => {
      const a = init.slice();
      let s = 0;
      for (let t = 0; t + 1 < xv.length; t++) {
        const v = step(a[a.length - 2], a[a.length - 1], xv[t], xv[t + 1]);
        a.push(v);
        s += v + (v * xv[t]) ** 2;
      }
      let r = 0;
      for (const xi of xv) r = Math.cos(r) * k + xi;
      return s + r;
    };
    const x = T.dvector('x'), init = T.dvector('init'), k = T.dscalar('k');
    const [[a, y]] = T.scan((xt: V, xn: V, a2: V, a1: V) => {
      const v = T.sin(a1).mul(xn).add(a2.mul(xt).mul(0.5));
      return [v, v.mul(xt)];
    }, { sequences: { input: x, taps: [0, 1] }, outputsInfo: [{ initial: init, taps: [-2, -1] }, null] });
    const [r] = T.reduce((xi: V, acc: V, kk: V) => T.cos(acc).mul(kk).add(xi), x, T.constant(0, undefined, 'float64'), k);
    const cost = T.sum(a).add(T.sum(y.mul(y))).add(r);
    const f = st.fn([x, init, k], [cost, ...st.grad(cost, [x, init, k])]);
    const xv = [0.3, -0.6, 0.9, 0.4, -0.2, 0.7], iv = [0.2, -0.4], kv = 0.8;
    const [c, gx, gi, gk] = f.sync(f64(xv), f64(iv), st.tensor(kv, 'float64'));
    close(data(c), [oracle(xv, iv, kv)], 1e-12);
    close(data(gx), fd((v) => oracle(v, iv, kv), xv), 1e-7);
    close(data(gi), fd((v) => oracle(xv, v, kv), iv), 1e-7);
    close(data(gk), fd((v) => oracle(xv, iv, v[0]), [kv]), 1e-7);
  });

  it('a recurrent weight gradient is one product after the backward loop (batched states, truncated or not)', () => {
    // h_t = tanh(x_t + h_{t-1}·W), h [2, 3]; cost = Σ_t Σ h_t ⊙ R_t.  dW = Σ_t h_{t-1}ᵀ·dg_t, summed
    // by one GEMM over every step's rows instead of one product and one add per step
    const B = 2, U = 3, S = 5;
    const xv = Array.from({ length: S }, (_, t) => rows(B, U, 0.5 + 0.1 * t, 0.3));
    const rv = Array.from({ length: S }, (_, t) => rows(B, U, 0.2 + 0.05 * t, 0.7));
    const Wv = rows(U, U, 0.9, 0.4).map((r) => r.map((v) => v * 0.6));
    const oracle = (w: number[][], K: number) => {
      // plain loops; truncation: the cost of the last K steps sees W's effect only through them, so
      // differentiate a cost where the state entering step S-K is held fixed at its value
      let h: number[][] = Array.from({ length: B }, () => new Array(U).fill(0));
      let s = 0;
      for (let t = 0; t < S; t++) {
        const wUsed = t >= S - K ? w : Wv;
        h = h.map((hb, b) => hb.map((_, j) => Math.tanh(xv[t][b][j] + hb.reduce((a, hi, i) => a + hi * wUsed[i][j], 0))));
        h.forEach((hb, b) => hb.forEach((v, j) => (s += v * rv[t][b][j])));
      }
      return s;
    };
    const unflat = (v: number[]) => Array.from({ length: U }, (_, i) => v.slice(i * U, i * U + U));
    for (const K of [-1, 2]) {
      const x = T.tensor('float64', [null, B, U], 'x'), r = T.tensor('float64', [null, B, U], 'r'), W = T.dmatrix('W');
      const [hs] = T.scan((xt: V, h: V, w: V) => T.tanh(xt.add(T.matmul(h, w))), { sequences: x, outputsInfo: T.zeros([B, U], 'float64'), nonSequences: W, truncateGradient: K });
      const [gw] = st.grad(T.sum((hs as V).mul(r)), [W]);
      const f = st.fn([x, r, W], gw);
      const got = data(f.sync(f64(xv), f64(rv), f64(Wv)));
      close(got, fd((v) => oracle(unflat(v), K < 0 ? S : K), Wv.flat()), 1e-7);
      // inside the backward loop one product remains (the state's gradient, dg·Wᵀ)
      const labels = opcodes(f);
      const start = labels.findIndex((l) => l.endsWith('.grad.loop')), end = labels.findIndex((l) => l.endsWith('.grad.end'));
      assert.ok(start >= 0 && end > start, labels.join(' '));
      assert.equal(labels.slice(start, end).filter((l) => l.startsWith('matmul') || l.startsWith('gemm')).length, 1, labels.join(' '));
      assert.ok(labels.slice(end).some((l) => l.startsWith('matmul') || l.startsWith('gemm')), labels.join(' '));
    }
  });
});
