// Optimizers as symbolic update builders: each one compiled into a training step on a fixed
// problem and compared, step by step, with Keras 3's update formulas written here in float64 loops.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import {
  Adadelta, Adagrad, Adam, AdamW, Adamax, Lion, Nadam, Optimizer, RMSprop, SGD, getOptimizer, optimizers,
} from '../../lib/models/optimizers';
import { ExponentialDecay, PiecewiseConstantDecay } from '../../lib/models/schedules';
import { expectError } from '../support/check';
import { closeTo as close, sharedValues as values } from '../support/models';

const { T } = st;
type Tensor = st.Tensor;
type Float = 'float32' | 'float64';


// ---- the problem: loss = sum(a w²/2 + c w) + sum(d b²/2 - e b), so grad w = a w + c, grad b = d b - e ----
const W0 = [0.5, -1.25, 2], A = [1, 2, 0.5], C = [0.3, -0.2, 0.1];
const B0 = [0.75, -0.5, 1.5, 0.25], D = [0.5, 1, 2, 1.5], E = [1, 0.5, 0.25, 2];
const gradsOf = (p: number[][]): number[][] => [p[0].map((w, i) => A[i] * w + C[i]), p[1].map((b, i) => D[i] * b - E[i])];

interface Problem {
  w: st.SharedVariable;
  b: st.SharedVariable;
  loss: st.Variable;
}
function problem(dtype: Float = 'float32', names: [string, string] = ['w', 'b']): Problem {
  const w = st.shared(st.tensor(W0, { dtype }), names[0]);
  const b = st.shared(st.tensor(B0, { shape: [2, 2], dtype }), names[1]);
  const k = (x: number[], shape: number[]) => T.constant(st.tensor(x, { shape, dtype }));
  const lw = T.add(T.mul(T.mul(w, w), k(A.map((x) => x / 2), [3])), T.mul(w, k(C, [3])));
  const lb = T.sub(T.mul(T.mul(b, b), k(D.map((x) => x / 2), [2, 2])), T.mul(b, k(E, [2, 2])));
  return { w, b, loss: T.add(T.sum(lw), T.sum(lb)) };
}

/** One training step compiled from an optimizer. */
function compileStep(opt: Optimizer, pr: Problem): st.CompiledFunction {
  const params = [pr.w, pr.b];
  return st.fn([], pr.loss, { updates: opt.getUpdates(params, st.grad(pr.loss, params)) });
}

// ---- Keras 3's update rules in float64 ----
/** Per-optimizer reference: updates params (and its slots) in place from the step's gradients. */
interface Ref {
  slots: Record<string, number[][]>;
  step(p: number[][], g: number[][], lr: number, t: number): void;
}
/** A slot per param, filled with `init` on first use. */
function slotsOf(names: string[]): Record<string, number[][]> {
  return Object.fromEntries(names.map((n) => [n, []]));
}
function ensure(slots: Record<string, number[][]>, p: number[][], init: Record<string, number> = {}): void {
  for (const [n, s] of Object.entries(slots)) p.forEach((x, k) => (s[k] ??= x.map(() => init[n] ?? 0)));
}

function sgdRef(momentum = 0, nesterov = false): Ref {
  const slots = slotsOf(['momentum']);
  return {
    slots,
    step(p, g, lr) {
      ensure(slots, p);
      p.forEach((x, k) => x.forEach((_, i) => {
        if (momentum === 0) return void (x[i] -= lr * g[k][i]);
        const m = (slots.momentum[k][i] = momentum * slots.momentum[k][i] - lr * g[k][i]);
        x[i] += nesterov ? momentum * m - lr * g[k][i] : m;
      }));
    },
  };
}

function adamRef(b1 = 0.9, b2 = 0.999, eps = 1e-7, amsgrad = false): Ref {
  const slots = slotsOf(['m', 'v', 'vHat']);
  return {
    slots,
    step(p, g, lr, t) {
      ensure(slots, p);
      const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      p.forEach((x, k) => x.forEach((_, i) => {
        const gi = g[k][i];
        const m = (slots.m[k][i] = b1 * slots.m[k][i] + (1 - b1) * gi);
        let v = (slots.v[k][i] = b2 * slots.v[k][i] + (1 - b2) * gi * gi);
        if (amsgrad) v = slots.vHat[k][i] = Math.max(slots.vHat[k][i], v);
        x[i] -= (m * alpha) / (Math.sqrt(v) + eps);
      }));
    },
  };
}

function rmspropRef(rho = 0.9, momentum = 0, eps = 1e-7, centered = false): Ref {
  const slots = slotsOf(['velocity', 'momentum', 'averageGradient']);
  return {
    slots,
    step(p, g, lr) {
      ensure(slots, p);
      p.forEach((x, k) => x.forEach((_, i) => {
        const gi = g[k][i];
        const v = (slots.velocity[k][i] = rho * slots.velocity[k][i] + (1 - rho) * gi * gi);
        let den = v + eps;
        if (centered) {
          const a = (slots.averageGradient[k][i] = rho * slots.averageGradient[k][i] + (1 - rho) * gi);
          den = v - a * a + eps;
        }
        const inc = (lr * gi) / Math.sqrt(den);
        if (momentum > 0) x[i] -= slots.momentum[k][i] = momentum * slots.momentum[k][i] + inc;
        else x[i] -= inc;
      }));
    },
  };
}

function adagradRef(init = 0.1, eps = 1e-7): Ref {
  const slots = slotsOf(['accumulator']);
  return {
    slots,
    step(p, g, lr) {
      ensure(slots, p, { accumulator: init });
      p.forEach((x, k) => x.forEach((_, i) => {
        const acc = (slots.accumulator[k][i] += g[k][i] ** 2);
        x[i] -= (lr * g[k][i]) / Math.sqrt(acc + eps);
      }));
    },
  };
}

function adadeltaRef(rho = 0.95, eps = 1e-7): Ref {
  const slots = slotsOf(['accumulatedGrad', 'accumulatedDeltaVar']);
  return {
    slots,
    step(p, g, lr) {
      ensure(slots, p);
      p.forEach((x, k) => x.forEach((_, i) => {
        const gi = g[k][i];
        const ag = (slots.accumulatedGrad[k][i] = rho * slots.accumulatedGrad[k][i] + (1 - rho) * gi * gi);
        const d = (-Math.sqrt(slots.accumulatedDeltaVar[k][i] + eps) * gi) / Math.sqrt(ag + eps);
        slots.accumulatedDeltaVar[k][i] = rho * slots.accumulatedDeltaVar[k][i] + (1 - rho) * d * d;
        x[i] += lr * d;
      }));
    },
  };
}

function adamaxRef(b1 = 0.9, b2 = 0.999, eps = 1e-7): Ref {
  const slots = slotsOf(['m', 'u']);
  return {
    slots,
    step(p, g, lr, t) {
      ensure(slots, p);
      p.forEach((x, k) => x.forEach((_, i) => {
        const m = (slots.m[k][i] = b1 * slots.m[k][i] + (1 - b1) * g[k][i]);
        const u = (slots.u[k][i] = Math.max(b2 * slots.u[k][i], Math.abs(g[k][i])));
        x[i] -= (lr * m) / ((1 - b1 ** t) * (u + eps));
      }));
    },
  };
}

function nadamRef(b1 = 0.9, b2 = 0.999, eps = 1e-7): Ref & { uProduct: () => number } {
  const slots = slotsOf(['m', 'v']);
  let prod = 1;
  return {
    slots,
    uProduct: () => prod,
    step(p, g, lr, t) {
      ensure(slots, p);
      const uT = b1 * (1 - 0.5 * 0.96 ** t), uT1 = b1 * (1 - 0.5 * 0.96 ** (t + 1));
      prod *= uT;
      const prod1 = prod * uT1;
      p.forEach((x, k) => x.forEach((_, i) => {
        const gi = g[k][i];
        const m = (slots.m[k][i] = b1 * slots.m[k][i] + (1 - b1) * gi);
        const v = (slots.v[k][i] = b2 * slots.v[k][i] + (1 - b2) * gi * gi);
        const mHat = (uT1 * m) / (1 - prod1) + ((1 - uT) * gi) / (1 - prod);
        const vHat = v / (1 - b2 ** t);
        x[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }));
    },
  };
}

function lionRef(b1 = 0.9, b2 = 0.99): Ref {
  const slots = slotsOf(['m']);
  return {
    slots,
    step(p, g, lr) {
      ensure(slots, p);
      p.forEach((x, k) => x.forEach((_, i) => {
        x[i] -= lr * Math.sign(b1 * slots.m[k][i] + (1 - b1) * g[k][i]);
        slots.m[k][i] = b2 * slots.m[k][i] + (1 - b2) * g[k][i];
      }));
    },
  };
}

// ---- gradient transforms of the base optimizer (Keras's clipping and decoupled weight decay) ----
const norm = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0));
const clipValueRef = (c: number) => (g: number[][]) => g.map((x) => x.map((v) => Math.min(Math.max(v, -c), c)));
const clipNormRef = (c: number) => (g: number[][]) => g.map((x) => x.map((v) => (v * c) / Math.max(norm(x), c)));
const globalClipRef = (c: number) => (g: number[][]) => {
  const n = norm(g.flat());
  return g.map((x) => x.map((v) => (v * c) / Math.max(n, c)));
};

interface Case {
  /** The learning rate at a 0-based iteration count (as the optimizer reads it). */
  lr: number | ((iter: number) => number);
  clip?: (g: number[][]) => number[][];
  weightDecay?: number;
  steps?: number;
  /** Slots of the optimizer checked against the reference's (same names). */
  slots?: string[];
}

/**
 * Runs `steps` compiled steps and the reference side by side, comparing both params (and the
 * named slots) after every step.  Float32 runs read the learning rate as float32 (Keras keeps it in
 * a float32 variable); float64 runs must agree to float64 rounding.
 */
function runCase(make: () => Optimizer, ref: Ref, c: Case, dtype: Float): void {
  const pr = problem(dtype);
  const opt = make();
  const f = compileStep(opt, pr);
  const p = [W0.slice(), B0.slice()];
  const tol = dtype === 'float64' ? 1e-11 : 2e-6;
  const steps = c.steps ?? 4;
  const slotVars = (name: string) => opt.variables().filter((v) => v.name?.startsWith(`${opt.name}/${name}/`));
  for (let t = 1; t <= steps; t++) {
    f.sync();
    const lr = typeof c.lr === 'number' ? Math.fround(c.lr) : c.lr(t - 1);
    let g = gradsOf(p);
    if (c.clip) g = c.clip(g);
    if (c.weightDecay) p.forEach((x) => x.forEach((v, i) => (x[i] = v - v * c.weightDecay! * lr)));
    ref.step(p, g, lr, t);
    close(values(pr.w), p[0], `${dtype} step ${t} w`, tol);
    close(values(pr.b), p[1], `${dtype} step ${t} b`, tol);
    for (const s of c.slots ?? []) {
      const vs = slotVars(s);
      assert.equal(vs.length, 2, `slot ${s}: ${opt.variables().map((v) => v.name).join(', ')}`);
      vs.forEach((v, k) => close(values(v), ref.slots[s][k], `${dtype} step ${t} slot ${v.name}`, tol));
    }
  }
  assert.deepEqual(values(opt.iterations), [steps]);
}

const both = (make: () => Optimizer, ref: () => Ref, c: Case) => {
  for (const dtype of ['float64', 'float32'] as const) runCase(make, ref(), c, dtype);
};

describe('models: optimizers follow Keras 3 update rules', () => {
  it('SGD: plain, momentum, nesterov', () => {
    both(() => new SGD({ learningRate: 0.1 }), () => sgdRef(), { lr: 0.1 });
    both(() => new SGD({ learningRate: 0.1, momentum: 0.9 }), () => sgdRef(0.9), { lr: 0.1, slots: ['momentum'] });
    both(() => new SGD({ learningRate: 0.1, momentum: 0.8, nesterov: true }), () => sgdRef(0.8, true), { lr: 0.1, slots: ['momentum'] });
  });

  it('Adam with defaults, with other betas, and with amsgrad', () => {
    both(() => new Adam(), () => adamRef(), { lr: 0.001, slots: ['m', 'v'] });
    both(() => new Adam({ learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 1e-3 }), () => adamRef(0.8, 0.9, 1e-3), { lr: 0.1, steps: 5 });
    // gradients shrink along the way, so v falls and vHat keeps its maximum
    both(() => new Adam({ learningRate: 0.3, beta2: 0.5, amsgrad: true }), () => adamRef(0.9, 0.5, 1e-7, true), { lr: 0.3, slots: ['m', 'v', 'vHat'], steps: 5 });
  });

  it('AdamW decays weights by weightDecay * lr before the Adam step (default 0.004)', () => {
    both(() => new AdamW({ learningRate: 0.1 }), () => adamRef(), { lr: 0.1, weightDecay: 0.004 });
    both(() => new AdamW({ learningRate: 0.1, weightDecay: 0.5 }), () => adamRef(), { lr: 0.1, weightDecay: 0.5 });
  });

  it('RMSprop: plain, momentum, centered', () => {
    both(() => new RMSprop({ learningRate: 0.05 }), () => rmspropRef(), { lr: 0.05, slots: ['velocity'] });
    both(() => new RMSprop({ learningRate: 0.05, momentum: 0.5, rho: 0.8 }), () => rmspropRef(0.8, 0.5), { lr: 0.05, slots: ['velocity', 'momentum'] });
    both(() => new RMSprop({ learningRate: 0.05, centered: true, momentum: 0.3 }), () => rmspropRef(0.9, 0.3, 1e-7, true), { lr: 0.05, slots: ['velocity', 'momentum', 'averageGradient'] });
  });

  it('Adagrad (accumulators start at initialAccumulatorValue)', () => {
    both(() => new Adagrad({ learningRate: 0.1 }), () => adagradRef(), { lr: 0.1, slots: ['accumulator'] });
    both(() => new Adagrad({ learningRate: 0.1, initialAccumulatorValue: 2, epsilon: 0.01 }), () => adagradRef(2, 0.01), { lr: 0.1 });
  });

  it('Adadelta', () => {
    both(() => new Adadelta({ learningRate: 1 }), () => adadeltaRef(), { lr: 1, slots: ['accumulatedGrad', 'accumulatedDeltaVar'] });
    both(() => new Adadelta({ learningRate: 20, rho: 0.5, epsilon: 1e-4 }), () => adadeltaRef(0.5, 1e-4), { lr: 20 });
  });

  it('Adamax', () => {
    both(() => new Adamax({ learningRate: 0.1 }), () => adamaxRef(), { lr: 0.1, slots: ['m', 'u'] });
  });

  it('Nadam, with its product of momentum factors', () => {
    const ref = nadamRef();
    const opt = new Nadam({ learningRate: 0.1 });
    runCase(() => opt, ref, { lr: 0.1, slots: ['m', 'v'] }, 'float64');
    close(values(opt.uProduct), [ref.uProduct()], 'uProduct', 1e-14);
    both(() => new Nadam({ learningRate: 0.1, beta1: 0.5, beta2: 0.9 }), () => nadamRef(0.5, 0.9), { lr: 0.1 });
  });

  it('Lion', () => {
    both(() => new Lion({ learningRate: 0.1 }), () => lionRef(), { lr: 0.1, slots: ['m'] });
    both(() => new Lion({ learningRate: 0.05, beta1: 0.5, beta2: 0.9 }), () => lionRef(0.5, 0.9), { lr: 0.05 });
  });
});

describe('models: optimizer clipping, weight decay and learning rates', () => {
  it('clipValue clips each gradient elementwise', () => {
    both(() => new SGD({ learningRate: 0.1, clipValue: 1 }), () => sgdRef(), { lr: 0.1, clip: clipValueRef(1) });
  });

  it('clipNorm rescales each gradient whose norm exceeds it (b is clipped, w is not)', () => {
    const g = gradsOf([W0, B0]);
    assert.ok(norm(g[0]) < 3.2 && norm(g[1]) > 3.2, 'the case clips one gradient and not the other');
    both(() => new SGD({ learningRate: 0.1, clipNorm: 3.2 }), () => sgdRef(), { lr: 0.1, clip: clipNormRef(3.2) });
    both(() => new Adam({ learningRate: 0.1, clipNorm: 1 }), () => adamRef(), { lr: 0.1, clip: clipNormRef(1) });
  });

  it('globalClipNorm rescales all gradients by their joint norm', () => {
    both(() => new SGD({ learningRate: 0.1, globalClipNorm: 2 }), () => sgdRef(), { lr: 0.1, clip: globalClipRef(2) });
    // a bound above the joint norm leaves the gradients alone
    both(() => new SGD({ learningRate: 0.1, globalClipNorm: 100 }), () => sgdRef(), { lr: 0.1 });
  });

  it('weightDecay applies to every optimizer before its step', () => {
    both(() => new SGD({ learningRate: 0.1, momentum: 0.5, weightDecay: 0.2 }), () => sgdRef(0.5), { lr: 0.1, weightDecay: 0.2 });
    both(() => new RMSprop({ learningRate: 0.05, weightDecay: 0.3 }), () => rmspropRef(), { lr: 0.05, weightDecay: 0.3 });
  });

  it('a schedule is evaluated at the iteration count inside the compiled step', () => {
    const sched = () => new ExponentialDecay({ initialLearningRate: 0.2, decaySteps: 2, decayRate: 0.5, staircase: true });
    const lrAt = (it: number) => 0.2 * 0.5 ** Math.floor(it / 2);
    both(() => new SGD({ learningRate: sched() }), () => sgdRef(), { lr: lrAt, steps: 5 });
    both(() => new Adam({ learningRate: sched(), weightDecay: 0.1 }), () => adamRef(), { lr: lrAt, weightDecay: 0.1, steps: 5 });
  });

  it('setLearningRate changes the rate of an already compiled step', () => {
    const pr = problem('float64');
    const opt = new SGD({ learningRate: 0.1 });
    const f = compileStep(opt, pr);
    const lrF = st.fn([], opt.learningRateVar());
    f.sync();
    opt.setLearningRate(0.5);
    assert.equal(opt.getLearningRate(), 0.5);
    assert.equal((lrF.sync() as Tensor).item(), 0.5);
    f.sync();
    const p = [W0.slice(), B0.slice()];
    const ref = sgdRef();
    ref.step(p, gradsOf(p), Math.fround(0.1), 1);
    ref.step(p, gradsOf(p), 0.5, 2);
    close(values(pr.w), p[0], 'w', 1e-12);
    close(values(pr.b), p[1], 'b', 1e-12);
    // the float32 variable holds 0.1 approximately; getLearningRate reports the number given
    opt.setLearningRate(0.1);
    assert.equal(opt.getLearningRate(), 0.1);
    assert.equal(opt.getConfig().config.learningRate, 0.1);
  });

  it('getLearningRate and learningRateVar follow a schedule; setLearningRate refuses it', () => {
    const sched = new PiecewiseConstantDecay({ boundaries: [1, 2], values: [0.5, 0.25, 0.125] });
    const pr = problem('float64');
    const opt = new SGD({ learningRate: sched });
    const f = compileStep(opt, pr);
    const lrF = st.fn([], opt.learningRateVar());
    const seen: number[][] = [];
    for (let i = 0; i < 4; i++) {
      seen.push([opt.getLearningRate(), (lrF.sync() as Tensor).item() as number]);
      f.sync();
    }
    assert.deepEqual(seen, [[0.5, 0.5], [0.5, 0.5], [0.25, 0.25], [0.125, 0.125]]);
    expectError(() => opt.setLearningRate(0.1), 'ERR_ST_ARG', ['setLearningRate', 'schedule', 'PiecewiseConstantDecay']);
  });
});

describe('models: optimizer state', () => {
  it('variables(): iterations, learning rate, then each param\'s slots, with unique names', () => {
    const pr = problem('float32');
    const opt = new Adam();
    compileStep(opt, pr);
    assert.deepEqual(opt.variables().map((v) => v.name), ['adam/iterations', 'adam/learningRate', 'adam/m/w', 'adam/v/w', 'adam/m/b', 'adam/v/b']);
    assert.deepEqual(opt.variables().map((v) => v.dtype), ['float64', 'float32', 'float32', 'float32', 'float32', 'float32']);
    assert.deepEqual(values(opt.iterations), [0]);
    // same-named and unnamed params get distinct names, in order of first sight
    const k1 = st.shared(st.zeros([2]), 'kernel'), k2 = st.shared(st.zeros([2]), 'kernel'), anon = st.shared(st.zeros([1]));
    const nad = new Nadam({ name: 'opt' });
    nad.build([k1, k2, anon]);
    assert.deepEqual(nad.variables().map((v) => v.name), [
      'opt/iterations', 'opt/learningRate', 'opt/uProduct', 'opt/m/kernel', 'opt/v/kernel', 'opt/m/kernel_1', 'opt/v/kernel_1', 'opt/m/param2', 'opt/v/param2',
    ]);
    const sched = new SGD({ learningRate: new ExponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 0.5 }), momentum: 0.5 });
    sched.build([k1]);
    assert.deepEqual(sched.variables().map((v) => v.name), ['SGD/iterations', 'SGD/momentum/kernel']);
  });

  it('two steps built from one optimizer share its state', () => {
    const pr = problem('float64');
    const opt = new Adam({ learningRate: 0.1 });
    const f1 = compileStep(opt, pr), f2 = compileStep(opt, pr);
    assert.equal(opt.variables().length, 6);
    const p = [W0.slice(), B0.slice()];
    const ref = adamRef();
    for (let t = 1; t <= 4; t++) {
      (t % 2 ? f1 : f2).sync();
      ref.step(p, gradsOf(p), Math.fround(0.1), t);
    }
    close(values(pr.w), p[0], 'w', 1e-11);
    close(values(pr.b), p[1], 'b', 1e-11);
    assert.deepEqual(values(opt.iterations), [4]);
  });

  it('a null gradient leaves its param unchanged', () => {
    const pr = problem('float64');
    const opt = new SGD({ learningRate: 0.1 });
    const [gw] = st.grad(pr.loss, [pr.w]);
    const f = st.fn([], pr.loss, { updates: opt.getUpdates([pr.w, pr.b], [gw, null]) });
    f.sync();
    close(values(pr.w), W0.map((w, i) => w - Math.fround(0.1) * (A[i] * w + C[i])), 'w', 1e-12);
    assert.deepEqual(values(pr.b), B0);
  });
});

describe('models: optimizer configs and errors', () => {
  const configured: Optimizer[] = [
    new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, clipNorm: 2 }),
    new Adam({ learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, amsgrad: true, globalClipNorm: 5 }),
    new AdamW({ weightDecay: 0.01, clipValue: 0.5 }),
    new RMSprop({ rho: 0.8, momentum: 0.1, centered: true, name: 'rms' }),
    new Adagrad({ initialAccumulatorValue: 0.5, epsilon: 1e-5 }),
    new Adadelta({ learningRate: 1, rho: 0.9 }),
    new Adamax({ beta2: 0.99 }),
    new Nadam({ learningRate: new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9, staircase: true }) }),
    new Lion({ beta1: 0.95, beta2: 0.98, weightDecay: 0.1 }),
  ];

  it('getConfig survives JSON and getOptimizer rebuilds the same optimizer', () => {
    const classes = [SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion];
    configured.forEach((opt, i) => {
      const cfg = JSON.parse(JSON.stringify(opt.getConfig()));
      const back = getOptimizer(cfg);
      assert.ok(back instanceof classes[i], `${cfg.className} rebuilt as ${back.constructor.name}`);
      assert.deepEqual(back.getConfig(), opt.getConfig());
    });
    assert.deepEqual(configured[1].getConfig(), {
      className: 'Adam',
      config: {
        name: 'adam', learningRate: 0.01, weightDecay: null, clipNorm: null, clipValue: null, globalClipNorm: 5,
        beta1: 0.8, beta2: 0.99, epsilon: 1e-6, amsgrad: true,
      },
    });
    assert.deepEqual(configured[7].getConfig().config.learningRate, {
      className: 'ExponentialDecay', config: { initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9, staircase: true },
    });
  });

  it('defaults are Keras 3\'s', () => {
    const cfg = (o: Optimizer) => o.getConfig().config;
    assert.deepEqual(cfg(optimizers.sgd()), cfg(new SGD({ learningRate: 0.01, momentum: 0, nesterov: false })));
    assert.equal(cfg(optimizers.sgd()).learningRate, 0.01);
    const expect: [Optimizer, Record<string, unknown>][] = [
      [optimizers.adam(), { name: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false, weightDecay: null }],
      [optimizers.adamw(), { name: 'adamw', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false, weightDecay: 0.004 }],
      [optimizers.rmsprop(), { name: 'rmsprop', learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false }],
      [optimizers.adagrad(), { name: 'adagrad', learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 }],
      [optimizers.adadelta(), { name: 'adadelta', learningRate: 0.001, rho: 0.95, epsilon: 1e-7 }],
      [optimizers.adamax(), { name: 'adamax', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }],
      [optimizers.nadam(), { name: 'nadam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }],
      [optimizers.lion(), { name: 'lion', learningRate: 0.001, beta1: 0.9, beta2: 0.99 }],
    ];
    for (const [o, e] of expect) for (const [k, v] of Object.entries(e)) assert.equal(cfg(o)[k], v, `${o.name}.${k}`);
  });

  it('getOptimizer takes names in any case and passes optimizers through', () => {
    assert.ok(getOptimizer('adam') instanceof Adam);
    assert.ok(getOptimizer('Adam') instanceof Adam);
    assert.ok(getOptimizer('RMSprop') instanceof RMSprop);
    assert.ok(getOptimizer('adamw') instanceof AdamW);
    assert.ok(getOptimizer('SGD') instanceof SGD);
    assert.ok(getOptimizer({ className: 'Lion' }) instanceof Lion);
    const o = new Adagrad();
    assert.equal(getOptimizer(o), o);
    expectError(() => getOptimizer('adamm'), 'ERR_ST_ARG', ['getOptimizer', '"adamm"', 'sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam, lion']);
    expectError(() => getOptimizer({ className: 'Foo', config: {} }), 'ERR_ST_ARG', ['"Foo"', 'valid names: sgd, adam']);
    expectError(() => getOptimizer(42 as never), 'ERR_ST_ARG', ['getOptimizer', 'expected an optimizer name']);
  });

  it('bad options throw naming the optimizer and the option', () => {
    expectError(() => new SGD({ lr: 0.1 } as never), 'ERR_ST_ARG', ['SGD', 'unknown option "lr"', 'learningRate', 'momentum', 'nesterov']);
    expectError(() => new SGD({ momentum: 1.5 }), 'ERR_ST_ARG', ['SGD', 'momentum', '1.5']);
    expectError(() => new Adam({ beta1: 1 }), 'ERR_ST_ARG', ['Adam', 'beta1', '[0, 1)']);
    expectError(() => new AdamW({ beta2: -0.1 }), 'ERR_ST_ARG', ['AdamW', 'beta2']);
    expectError(() => new Adam({ learningRate: -1 }), 'ERR_ST_ARG', ['Adam', 'learningRate']);
    expectError(() => new Adam({ amsgrad: 1 as never }), 'ERR_ST_ARG', ['amsgrad', 'true or false']);
    expectError(() => new SGD({ clipNorm: 1, clipValue: 2 }), 'ERR_ST_ARG', ['only one of', 'clipNorm and clipValue']);
    expectError(() => new SGD({ clipNorm: 0 }), 'ERR_ST_ARG', ['clipNorm', '> 0']);
    expectError(() => new Lion({ beta1: 0 }), 'ERR_ST_ARG', ['Lion', 'beta1', '(0, 1]']);
    expectError(() => new RMSprop({ learningRate: { className: 'Nope', config: {} } }), 'ERR_ST_ARG', ['unknown schedule "Nope"', 'ExponentialDecay']);
    expectError(() => new SGD({ learningRate: 0.1 }).setLearningRate(NaN), 'ERR_ST_ARG', ['setLearningRate', 'NaN']);
  });

  it('getUpdates checks params and gradients', () => {
    const pr = problem('float32');
    const opt = new SGD();
    const [gw, gb] = st.grad(pr.loss, [pr.w, pr.b]);
    expectError(() => opt.getUpdates([pr.w, pr.b], [gw]), 'ERR_ST_ARG', ['SGD.getUpdates', 'one gradient per param (2)', 'got 1']);
    expectError(() => opt.getUpdates([pr.w, pr.b], [gb, gw]), 'ERR_ST_SHAPE', ['grads[0]', '[2,2]', 'w [3] float32']);
    expectError(() => opt.getUpdates([pr.w, pr.w], [gw, gw]), 'ERR_ST_ARG', ['params[1]', 'listed twice']);
    expectError(() => opt.getUpdates([T.vector('v') as never], [gw]), 'ERR_ST_ARG', ['params[0]', 'shared variable', 'v [?] float32']);
    const n = st.shared(st.tensor([1, 2], { dtype: 'int32' }), 'n');
    expectError(() => opt.getUpdates([n], [gw]), 'ERR_ST_DTYPE', ['params[0]', 'n [2] int32', 'float32 or float64']);
    expectError(() => opt.getUpdates([pr.w], [[1, 2, 3] as never]), 'ERR_ST_ARG', ['grads[0]', 'symbolic variable or null']);
  });
});
