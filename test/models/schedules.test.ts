// Learning-rate schedules: value(step) against Keras 3's closed forms written here, and the symbolic
// call(step), compiled, against value(step) at ordinary steps and at every edge (staircase
// boundaries, cycle restarts, the end of warmup, the end of decay).
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import {
  CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay, PolynomialDecay, scheduleFromConfig, schedules,
} from '../../lib/models/schedules';
import { expectError } from '../support/check';

const { T } = st;
type Tensor = st.Tensor;

const near = (got: number, exp: number, what: string, tol: number) =>
  assert.ok(Math.abs(got - exp) <= tol * Math.max(Math.abs(exp), 1e-3), `${what}: got ${got}, expected ${exp}`);

/** value(step) against the closed form at every step listed. */
function checkValues(s: LearningRateSchedule, closedForm: (step: number) => number, steps: number[]): void {
  for (const step of steps) near(s.value(step), closedForm(step), `value(${step})`, 1e-12);
}

/** call(step) compiled on a float64 and a float32 scalar step agrees with value(step). */
function checkSymbolic(s: LearningRateSchedule, steps: number[]): void {
  for (const dtype of ['float64', 'float32'] as const) {
    const step = T.scalar('step', dtype);
    const out = s.call(step);
    assert.equal(out.dtype, dtype, 'computed in the step\'s dtype');
    const f = st.fn([step], out);
    for (const k of steps) near((f.sync(k) as Tensor).item() as number, s.value(k), `${dtype} call(${k})`, dtype === 'float64' ? 1e-12 : 2e-6);
  }
}

describe('models: learning-rate schedules', () => {
  it('ExponentialDecay: smooth and staircase', () => {
    const smooth = new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    checkValues(smooth, (k) => 0.1 * Math.pow(0.5, k / 10), [0, 1, 5, 10, 15, 1000]);
    checkSymbolic(smooth, [0, 1, 5, 10, 15, 100]);
    const stairs = schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    checkValues(stairs, (k) => 0.1 * Math.pow(0.5, Math.floor(k / 10)), [0, 9, 10, 11, 19, 20, 35]);
    assert.equal(stairs.value(9), 0.1);
    assert.equal(stairs.value(10), 0.05);
    checkSymbolic(stairs, [0, 9, 10, 11, 19, 20, 35]);
  });

  it('CosineDecay without warmup: cosine to alpha, then flat', () => {
    const s = new CosineDecay({ initialLearningRate: 0.2, decaySteps: 100, alpha: 0.1 });
    const form = (k: number) => 0.2 * (0.9 * 0.5 * (1 + Math.cos((Math.PI * Math.min(k, 100)) / 100)) + 0.1);
    checkValues(s, form, [0, 1, 25, 50, 99, 100, 101, 500]);
    near(s.value(50), 0.2 * 0.55, 'half way', 1e-12);
    near(s.value(100), 0.02, 'end', 1e-12);
    near(s.value(300), 0.02, 'past the end', 1e-12);
    checkSymbolic(s, [0, 1, 25, 50, 99, 100, 101, 500]);
    checkSymbolic(schedules.cosineDecay({ initialLearningRate: 1, decaySteps: 7 }), [0, 3, 7, 8]);
  });

  it('CosineDecay with warmup: linear from the initial rate to warmupTarget, then cosine from it', () => {
    const s = new CosineDecay({ initialLearningRate: 0.01, warmupTarget: 0.5, warmupSteps: 10, decaySteps: 40, alpha: 0.2 });
    const form = (k: number) => {
      if (k < 10) return 0.01 + ((0.5 - 0.01) * k) / 10;
      const d = Math.min(k, 50) - 10;
      return 0.5 * (0.8 * 0.5 * (1 + Math.cos((Math.PI * d) / 40)) + 0.2);
    };
    const steps = [0, 1, 5, 9, 10, 11, 30, 49, 50, 51, 200];
    checkValues(s, form, steps);
    near(s.value(5), 0.255, 'mid-warmup', 1e-12);
    near(s.value(10), 0.5, 'end of warmup', 1e-12);
    near(s.value(50), 0.1, 'end of decay', 1e-12);
    checkSymbolic(s, steps);
    // warmupTarget with no warmup steps decays from the target at once
    const noWarm = new CosineDecay({ initialLearningRate: 0.01, warmupTarget: 0.5, decaySteps: 40 });
    checkValues(noWarm, (k) => 0.5 * 0.5 * (1 + Math.cos((Math.PI * Math.min(k, 40)) / 40)), [0, 20, 40, 41]);
    checkSymbolic(noWarm, [0, 20, 40, 41]);
  });

  it('PiecewiseConstantDecay: values[i] up to and including boundaries[i]', () => {
    const s = new PiecewiseConstantDecay({ boundaries: [10, 20, 30], values: [1, 0.5, 0.25, 0.125] });
    const table: [number, number][] = [[0, 1], [9, 1], [10, 1], [10.5, 0.5], [11, 0.5], [20, 0.5], [21, 0.25], [30, 0.25], [31, 0.125], [1e6, 0.125]];
    for (const [k, v] of table) assert.equal(s.value(k), v, `value(${k})`);
    checkSymbolic(s, table.map(([k]) => k));
    const one = schedules.piecewiseConstantDecay({ boundaries: [5], values: [3, 4] });
    checkSymbolic(one, [0, 5, 6]);
    assert.deepEqual([one.value(5), one.value(6)], [3, 4]);
  });

  it('PolynomialDecay: clamped at decaySteps, or cycling to the next multiple', () => {
    const s = new PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 2 });
    const form = (k: number) => 0.09 * Math.pow(1 - Math.min(k, 10) / 10, 2) + 0.01;
    checkValues(s, form, [0, 1, 5, 10, 11, 100]);
    near(s.value(5), 0.0325, 'half way', 1e-12);
    checkSymbolic(s, [0, 1, 5, 10, 11, 100]);
    const c = new PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, cycle: true });
    const cform = (k: number) => {
      const period = 10 * (k === 0 ? 1 : Math.ceil(k / 10));
      return (0.1 - 1e-4) * (1 - k / period) + 1e-4;
    };
    const steps = [0, 1, 9, 10, 11, 20, 21, 35];
    checkValues(c, cform, steps);
    near(c.value(10), 1e-4, 'end of the first period', 1e-12);
    near(c.value(11), (0.1 - 1e-4) * (1 - 11 / 20) + 1e-4, 'the second period is twice as long', 1e-12);
    checkSymbolic(c, steps);
    checkSymbolic(schedules.polynomialDecay({ initialLearningRate: 1, decaySteps: 4, power: 0.5 }), [0, 2, 4, 6]);
  });

  it('an int32 step is read as float32', () => {
    const s = new ExponentialDecay({ initialLearningRate: 1, decaySteps: 4, decayRate: 0.5 });
    const step = T.scalar('i', 'int32');
    const out = s.call(step);
    assert.equal(out.dtype, 'float32');
    near((st.fn([step], out).sync(6) as Tensor).item() as number, Math.pow(0.5, 1.5), 'call(6)', 1e-6);
  });

  it('getConfig survives JSON and scheduleFromConfig rebuilds the schedule', () => {
    const all: LearningRateSchedule[] = [
      new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true }),
      new CosineDecay({ initialLearningRate: 0, warmupTarget: 0.1, warmupSteps: 5, decaySteps: 50, alpha: 0.01 }),
      new CosineDecay({ initialLearningRate: 0.3, decaySteps: 50 }),
      new PiecewiseConstantDecay({ boundaries: [3, 6], values: [0.3, 0.2, 0.1] }),
      new PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, power: 3, cycle: true }),
    ];
    for (const s of all) {
      const back = scheduleFromConfig(JSON.parse(JSON.stringify(s.getConfig())));
      assert.equal(back.constructor, s.constructor);
      assert.deepEqual(back.getConfig(), s.getConfig());
      for (const k of [0, 4, 7, 60]) assert.equal(back.value(k), s.value(k));
    }
    assert.deepEqual(all[2].getConfig(), { className: 'CosineDecay', config: { initialLearningRate: 0.3, decaySteps: 50, alpha: 0, warmupTarget: null, warmupSteps: 0 } });
    assert.ok(scheduleFromConfig({ className: 'polynomial_decay', config: { initialLearningRate: 1, decaySteps: 2 } }) instanceof PolynomialDecay);
  });

  it('bad options throw naming the schedule and the option', () => {
    expectError(() => new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10 } as never), 'ERR_ST_ARG', ['ExponentialDecay', 'decayRate', 'required']);
    expectError(() => new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 }), 'ERR_ST_ARG', ['decaySteps', '> 0']);
    expectError(() => new CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmup: 3 } as never), 'ERR_ST_ARG', ['CosineDecay', 'unknown option "warmup"', 'warmupSteps', 'warmupTarget']);
    expectError(() => new PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, cycle: 'yes' as never }), 'ERR_ST_ARG', ['cycle', 'true or false']);
    expectError(() => new PiecewiseConstantDecay({ boundaries: [1, 2], values: [1, 2] }), 'ERR_ST_ARG', ['one more entry than boundaries', '2 values for 2 boundaries']);
    expectError(() => new PiecewiseConstantDecay({ boundaries: [5, 2], values: [1, 2, 3] }), 'ERR_ST_ARG', ['non-decreasing', '[5,2]']);
    expectError(() => new PiecewiseConstantDecay({ boundaries: [1], values: [1, NaN] }), 'ERR_ST_ARG', ['values[1]', 'NaN']);
    expectError(() => new ExponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 0.5 }).value(-1), 'ERR_ST_ARG', ['ExponentialDecay.value', 'step']);
    expectError(() => scheduleFromConfig({ className: 'StepDecay', config: {} }), 'ERR_ST_ARG', [
      'unknown schedule "StepDecay"', 'ExponentialDecay, CosineDecay, PiecewiseConstantDecay, PolynomialDecay',
    ]);
  });
});
