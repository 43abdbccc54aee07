// Adam and AdamW compile their update to one ADAM_UPDATE instruction per parameter, written over the
// parameter and its moments in place; the values follow Keras 3's formulas, written here as plain
// float64 loops.  amsgrad keeps the elementwise form.  The graph op checks its operands.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { AdamUpdate, adamUpdate } from '../../lib/graph/ops/optim';
import { Adam, AdamW, Optimizer } from '../../lib/models/optimizers';
import { SLOT } from '../../lib/ops.generated';
import { expectError } from '../support/check';
import { closeTo as close, sharedValues as values } from '../support/models';

const { T } = st;
type Float = 'float32' | 'float64';


// ---- the problem: loss = sum(a p²/2 + c p) per parameter, so grad p = a p + c ----
/** Deterministic values in [lo, hi) (a linear congruential sequence). */
function series(n: number, seed: number, lo: number, hi: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

interface Param {
  shape: number[];
  p0: number[];
  a: number[];
  c: number[];
}
// sizes around the vector widths, and one large enough to be split across threads
const PARAMS: Param[] = [[3], [2, 2], [5, 7], [33], [131075]].map((shape, k) => {
  const n = shape.reduce((x, y) => x * y, 1);
  return { shape, p0: series(n, 11 + k, -2, 2), a: series(n, 101 + k, 0.25, 2), c: series(n, 1001 + k, -0.5, 0.5) };
});

function problem(dtype: Float) {
  const vars = PARAMS.map((q, k) => st.shared(st.tensor(q.p0, { shape: q.shape, dtype }), `p${k}`));
  const k = (x: number[], shape: number[]) => T.constant(st.tensor(x, { shape, dtype }));
  const terms = vars.map((p, i) => T.sum(T.add(T.mul(T.mul(p, p), k(PARAMS[i].a.map((x) => x / 2), PARAMS[i].shape)), T.mul(p, k(PARAMS[i].c, PARAMS[i].shape)))));
  const loss = terms.reduce((x, y) => T.add(x, y));
  return { vars, loss };
}

/** Keras 3's Adam (and AdamW's decay before it), in float64: updates p, m, v, vHat in place. */
function referenceStep(p: number[][], m: number[][], v: number[][], vHat: number[][], o: { lr: number; t: number; b1: number; b2: number; eps: number; amsgrad: boolean; wd: number }): void {
  const alpha = (o.lr * Math.sqrt(1 - o.b2 ** o.t)) / (1 - o.b1 ** o.t);
  p.forEach((x, k) => {
    for (let i = 0; i < x.length; i++) {
      const g = PARAMS[k].a[i] * x[i] + PARAMS[k].c[i]; // at the parameter before the step
      const pd = o.wd ? x[i] - x[i] * o.wd * o.lr : x[i];
      m[k][i] = m[k][i] + (g - m[k][i]) * (1 - o.b1);
      v[k][i] = v[k][i] + (g * g - v[k][i]) * (1 - o.b2);
      const vUse = o.amsgrad ? (vHat[k][i] = Math.max(vHat[k][i], v[k][i])) : v[k][i];
      x[i] = pd - (m[k][i] * alpha) / (Math.sqrt(vUse) + o.eps);
    }
  });
}

interface Run {
  opt: Optimizer;
  dtype: Float;
  lr: number;
  b1?: number;
  b2?: number;
  eps?: number;
  amsgrad?: boolean;
  wd?: number;
  steps?: number;
}

/** Compiles one training step, runs it beside the reference and compares params and moments. */
function run(c: Run): st.CompiledFunction {
  const { vars, loss } = problem(c.dtype);
  const f = st.fn([], loss, { updates: c.opt.getUpdates(vars, st.grad(loss, vars)) });
  const p = PARAMS.map((q) => q.p0.slice());
  const zeros = () => PARAMS.map((q) => q.p0.map(() => 0));
  const m = zeros(), v = zeros(), vHat = zeros();
  // float32: where a gradient is near zero, m / sqrt(v) magnifies the rounding of g itself (the
  // kernel alone is checked to float32 rounding in native/test/test_optim.cc)
  const tol = c.dtype === 'float64' ? 1e-12 : 2e-4;
  const slot = (name: string) => c.opt.variables().filter((x) => x.name?.startsWith(`${c.opt.name}/${name}/`));
  for (let t = 1; t <= (c.steps ?? 4); t++) {
    f.sync();
    // the learning rate is a float32 variable (Keras's), read as float32 in every dtype
    referenceStep(p, m, v, vHat, { lr: Math.fround(c.lr), t, b1: c.b1 ?? 0.9, b2: c.b2 ?? 0.999, eps: c.eps ?? 1e-7, amsgrad: !!c.amsgrad, wd: c.wd ?? 0 });
    vars.forEach((x, k) => close(values(x), p[k], `${c.dtype} step ${t} p${k}`, tol));
    slot('m').forEach((x, k) => close(values(x), m[k], `${c.dtype} step ${t} ${x.name}`, tol));
    slot('v').forEach((x, k) => close(values(x), v[k], `${c.dtype} step ${t} ${x.name}`, tol));
  }
  return f;
}

/** The ADAM_UPDATE instructions of f's program, with the shared variables their outputs are bound to. */
function adamInstrs(f: st.CompiledFunction): { outputs: (string | null)[] }[] {
  const prog = f.program()!;
  const bound = new Map(prog.boundVars.map(([id, v]) => [id, v.name ?? '?']));
  return prog.instrs
    .filter((ins) => ins.label === 'adamUpdate')
    .map((ins) => ({ outputs: ins.outputs.map((id) => (prog.slots[id].kind === SLOT.bound ? bound.get(id)! : null)) }));
}

describe('models: Adam through the ADAM_UPDATE kernel', () => {
  it('Adam matches Keras 3 formulas step by step in float64, updating p, m, v in place', () => {
    const f = run({ opt: new Adam({ learningRate: 0.05 }), dtype: 'float64', lr: 0.05, steps: 5 });
    assert.deepEqual(adamInstrs(f).map((x) => x.outputs), PARAMS.map((_, k) => [`p${k}`, `adam/m/p${k}`, `adam/v/p${k}`]));
  });

  it('Adam with other betas and epsilon, in float64 and float32', () => {
    for (const dtype of ['float64', 'float32'] as const)
      run({ opt: new Adam({ learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 1e-3 }), dtype, lr: 0.1, b1: 0.8, b2: 0.9, eps: 1e-3 });
  });

  it('AdamW decays the parameter by weightDecay * lr, then takes the same kernel step', () => {
    const f = run({ opt: new AdamW({ learningRate: 0.1, weightDecay: 0.05 }), dtype: 'float64', lr: 0.1, wd: 0.05 });
    assert.equal(adamInstrs(f).length, PARAMS.length);
    run({ opt: new AdamW({ learningRate: 0.01 }), dtype: 'float32', lr: 0.01, wd: 0.004 });
  });

  it('amsgrad keeps the elementwise form and its own rule', () => {
    const f = run({ opt: new Adam({ learningRate: 0.3, beta2: 0.5, amsgrad: true }), dtype: 'float64', lr: 0.3, b2: 0.5, amsgrad: true, steps: 5 });
    assert.equal(adamInstrs(f).length, 0);
  });
});

describe('graph: adamUpdate op', () => {
  const x = (dtype: Float, shape: number[]) => T.tensor(dtype, shape);
  const cfg = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

  it('returns three outputs of p type and evaluates one step', () => {
    const [p, g, m, v] = [[1, -2], [0.5, 0.25], [0.1, -0.1], [0.04, 0.01]].map((d) => T.constant(st.tensor(d, { dtype: 'float64' })));
    const alpha = T.constant(st.tensor(0.01, { dtype: 'float64' }));
    const out = adamUpdate(p, g, m, v, alpha, cfg);
    const f = st.fn([], [out.param, out.m, out.v]);
    const [pn, mn, vn] = (f.sync() as st.Tensor[]).map((t) => Array.from(t.dataSync() as ArrayLike<number>));
    const me = [0.1 + (0.5 - 0.1) * 0.1, -0.1 + (0.25 + 0.1) * 0.1];
    const ve = [0.04 + (0.25 - 0.04) * 0.001, 0.01 + (0.0625 - 0.01) * 0.001];
    close(mn, me, 'm', 1e-15);
    close(vn, ve, 'v', 1e-15);
    close(pn, [1 - (me[0] * 0.01) / (Math.sqrt(ve[0]) + 1e-7), -2 - (me[1] * 0.01) / (Math.sqrt(ve[1]) + 1e-7)], 'p', 1e-15);
  });

  it('checks dtypes, shapes, the scalar alpha and the hyperparameters', () => {
    const p = x('float32', [3, 4]);
    const a = x('float32', []);
    expectError(() => adamUpdate(p, x('float64', [3, 4]), x('float32', [3, 4]), x('float32', [3, 4]), a, cfg), 'ERR_ST_DTYPE', ['adamUpdate', 'g is float64 but p is float32']);
    expectError(() => adamUpdate(p, x('float32', [3, 4]), x('float32', [4, 3]), x('float32', [3, 4]), a, cfg), 'ERR_ST_SHAPE', ['adamUpdate', 'm has shape [4,3] but p has shape [3,4]']);
    expectError(() => adamUpdate(p, x('float32', [3, 4]), x('float32', [3, 4]), x('float32', [3]), a, cfg), 'ERR_ST_SHAPE', ['v has shape [3]']);
    expectError(() => adamUpdate(p, p, p, p, x('float32', [1]), cfg), 'ERR_ST_SHAPE', ['alpha must be a scalar, got shape [1]']);
    expectError(() => adamUpdate(p, p, p, p, x('float64', []), cfg), 'ERR_ST_DTYPE', ['alpha is float64 but p is float32']);
    const i = x('int32' as Float, [2]);
    expectError(() => adamUpdate(i, i, i, i, x('int32' as Float, []), cfg), 'ERR_ST_DTYPE', ['p must be float32 or float64, got int32']);
    expectError(() => adamUpdate(p, p, p, p, a, { ...cfg, beta2: NaN }), 'ERR_ST_ARG', ['adamUpdate', 'beta2 must be a finite number']);
    expectError(() => adamUpdate(p, p, 3 as unknown as st.Variable, p, a, cfg), 'ERR_ST_ARG', ['m must be a Variable']);
  });

  it('has no gradient, and asking for one names it', () => {
    const p = st.shared(st.tensor([1, 2], { dtype: 'float64' }), 'p');
    const g = x('float64', [2]);
    const out = adamUpdate(p, g, T.zerosLike(p), T.zerosLike(p), T.constant(st.tensor(0.1, { dtype: 'float64' })), cfg);
    expectError(() => st.grad(T.sum(out.param), [g]), 'ERR_ST_ARG', ['adamUpdate', 'has no gradient']);
    assert.ok(out.param.owner?.op instanceof AdamUpdate);
  });
});
