/**
 * Learning-rate schedules (Keras 3's keras.optimizers.schedules): functions of the training step.
 *
 * A schedule is evaluated twice over: `call(step)` builds it as a graph on a symbolic step, so an
 * optimizer evaluates it inside the compiled training step (from its `iterations` variable) and
 * nothing runs in JS per step; `value(step)` evaluates the same formula in plain float64 JS, for
 * callbacks, logging and tests.  `call` computes in the step's dtype (int steps become float32).
 * @example
 *   const lr = st.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1000, decayRate: 0.96 });
 *   const opt = new st.optimizers.SGD({ learningRate: lr });
 */
import { isFloat } from '../dtype';
import { argError, fmtValue } from '../errors';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';
import { NameTable, STRICT_OPTIONS, boolValue as bool, checkOptions, finiteNumber } from './options';

/** A schedule's serialized form (getConfig / scheduleFromConfig). */
export interface ScheduleConfig {
  className: string;
  config: Record<string, unknown>;
}

/** The step as a float variable (Keras casts the step to the schedule's float dtype). */
function floatStep(op: string, step: Variable): Variable {
  if (!(step instanceof Variable)) throw argError(op, `step must be a symbolic variable, got ${fmtValue(step)}`);
  return isFloat(step.dtype) ? step : T.cast(step, 'float32');
}

function checkStep(op: string, step: number): number {
  if (typeof step !== 'number' || !Number.isFinite(step) || step < 0) throw argError(op, `step must be a finite number >= 0, got ${fmtValue(step)}`);
  return step;
}

/** Checks an options object: known keys only, required ones present. */
function checkKeys(op: string, opts: unknown, valid: string[], required: string[]): Record<string, unknown> {
  const o = checkOptions(op, opts, valid, { ...STRICT_OPTIONS, optional: false });
  for (const k of required) if (o[k] === undefined) throw argError(op, `option ${k} is required`);
  return o;
}


/** A finite number, optionally bounded below (strictly when `above`). */
function num(op: string, name: string, v: unknown, { min, above }: { min?: number; above?: number } = {}): number {
  finiteNumber(op, name, v);
  if (min !== undefined && (v as number) < min) throw argError(op, `${name} must be >= ${min}, got ${v}`);
  if (above !== undefined && (v as number) <= above) throw argError(op, `${name} must be > ${above}, got ${v}`);
  return v as number;
}

/** Base of the schedules: a learning rate as a function of the (0-based) optimizer step. */
export abstract class LearningRateSchedule {
  /** The learning rate at a symbolic step, as a graph (computed in the step's float dtype). */
  abstract call(step: Variable): Variable;
  /** The learning rate at a step, in plain float64 JS. */
  abstract value(step: number): number;
  /** The class name and options, JSON-able (scheduleFromConfig reverses it). */
  abstract getConfig(): ScheduleConfig;
}

/**
 * The base of the decays from initialLearningRate over decaySteps: checks the options (those two
 * required, then the subclass's `own`, `required` among them) and reads the two.
 */
abstract class Decay extends LearningRateSchedule {
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  constructor(op: string, opts: unknown, own: string[], required: string[] = []) {
    super();
    const o = checkKeys(op, opts, ['initialLearningRate', 'decaySteps', ...own], ['initialLearningRate', 'decaySteps', ...required]);
    this.initialLearningRate = num(op, 'initialLearningRate', o.initialLearningRate);
    this.decaySteps = num(op, 'decaySteps', o.decaySteps, { above: 0 });
  }
}

/** The options of ExponentialDecay. */
export interface ExponentialDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in whole intervals (floor(step / decaySteps)); default false. */
  staircase?: boolean;
}

/**
 * `initialLearningRate * decayRate ^ (step / decaySteps)`, the exponent floored when `staircase`.
 * @example new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.5, staircase: true })
 */
export class ExponentialDecay extends Decay {
  readonly decayRate: number;
  readonly staircase: boolean;

  constructor(opts: ExponentialDecayOptions) {
    const op = 'ExponentialDecay';
    super(op, opts, ['decayRate', 'staircase'], ['decayRate']);
    const o = opts as unknown as Record<string, unknown>;
    this.decayRate = num(op, 'decayRate', o.decayRate, { min: 0 });
    this.staircase = bool(op, 'staircase', o.staircase ?? false);
  }

  call(step: Variable): Variable {
    let p = T.div(floatStep('ExponentialDecay.call', step), this.decaySteps);
    if (this.staircase) p = T.floor(p);
    return T.mul(T.pow(this.decayRate, p), this.initialLearningRate);
  }

  value(step: number): number {
    let p = checkStep('ExponentialDecay.value', step) / this.decaySteps;
    if (this.staircase) p = Math.floor(p);
    return this.initialLearningRate * Math.pow(this.decayRate, p);
  }

  getConfig(): ScheduleConfig {
    const { initialLearningRate, decaySteps, decayRate, staircase } = this;
    return { className: 'ExponentialDecay', config: { initialLearningRate, decaySteps, decayRate, staircase } };
  }
}

/** The options of CosineDecay. */
export interface CosineDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  /** The floor, as a fraction of the decayed-from rate; default 0. */
  alpha?: number;
  /** When given, the rate first rises linearly from initialLearningRate to this over warmupSteps. */
  warmupTarget?: number | null;
  /** Length of the warmup (used only with warmupTarget); default 0. */
  warmupSteps?: number;
}

/**
 * Cosine decay (SGDR without restarts), with Keras 3's optional linear warmup.
 *
 * Without warmupTarget: `lr(s) = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(s, D) / D)) + alpha)`
 * with D = decaySteps.  With warmupTarget W over warmupSteps S (s clamped to D + S): for s < S,
 * `initial + (W - initial) * s / S`; afterwards the cosine above from W, at step s - S.
 * @example new CosineDecay({ initialLearningRate: 0, warmupTarget: 1e-3, warmupSteps: 100, decaySteps: 1000 })
 */
export class CosineDecay extends Decay {
  readonly alpha: number;
  readonly warmupTarget: number | null;
  readonly warmupSteps: number;

  constructor(opts: CosineDecayOptions) {
    const op = 'CosineDecay';
    super(op, opts, ['alpha', 'warmupTarget', 'warmupSteps']);
    const o = opts as unknown as Record<string, unknown>;
    this.alpha = num(op, 'alpha', o.alpha ?? 0);
    this.warmupTarget = o.warmupTarget === undefined || o.warmupTarget === null ? null : num(op, 'warmupTarget', o.warmupTarget);
    this.warmupSteps = num(op, 'warmupSteps', o.warmupSteps ?? 0, { min: 0 });
  }

  call(step: Variable): Variable {
    const s = floatStep('CosineDecay.call', step);
    const decay = (x: Variable, from: number) => {
      const cosine = T.mul(T.add(T.cos(T.mul(x, Math.PI / this.decaySteps)), 1), 0.5);
      return T.mul(T.add(T.mul(cosine, 1 - this.alpha), this.alpha), from);
    };
    if (this.warmupTarget === null) return decay(T.minimum(s, this.decaySteps), this.initialLearningRate);
    const S = this.warmupSteps, W = this.warmupTarget, init = this.initialLearningRate;
    const c = T.minimum(s, this.decaySteps + S);
    if (S === 0) return decay(c, W);
    const warm = T.add(T.mul(c, (W - init) / S), init);
    return T.where(T.less(c, S), warm, decay(T.sub(c, S), W));
  }

  value(step: number): number {
    checkStep('CosineDecay.value', step);
    const decay = (x: number, from: number) => from * ((1 - this.alpha) * 0.5 * (1 + Math.cos((Math.PI * x) / this.decaySteps)) + this.alpha);
    if (this.warmupTarget === null) return decay(Math.min(step, this.decaySteps), this.initialLearningRate);
    const S = this.warmupSteps, W = this.warmupTarget, init = this.initialLearningRate;
    const c = Math.min(step, this.decaySteps + S);
    return c < S ? init + ((W - init) * c) / S : decay(c - S, W);
  }

  getConfig(): ScheduleConfig {
    const { initialLearningRate, decaySteps, alpha, warmupTarget, warmupSteps } = this;
    return { className: 'CosineDecay', config: { initialLearningRate, decaySteps, alpha, warmupTarget, warmupSteps } };
  }
}

/** The options of PiecewiseConstantDecay. */
export interface PiecewiseConstantDecayOptions {
  /** Non-decreasing step boundaries. */
  boundaries: number[];
  /** One more value than boundaries. */
  values: number[];
}

/**
 * A step function: `values[0]` while step <= boundaries[0], `values[i+1]` while
 * boundaries[i] < step <= boundaries[i+1], and the last value after the last boundary.
 * @example new PiecewiseConstantDecay({ boundaries: [1000, 2000], values: [1e-2, 1e-3, 1e-4] })
 */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  readonly boundaries: number[];
  readonly values: number[];

  constructor(opts: PiecewiseConstantDecayOptions) {
    super();
    const op = 'PiecewiseConstantDecay';
    const o = checkKeys(op, opts, ['boundaries', 'values'], ['boundaries', 'values']);
    if (!Array.isArray(o.boundaries)) throw argError(op, `boundaries must be an array of numbers, got ${fmtValue(o.boundaries)}`);
    if (!Array.isArray(o.values)) throw argError(op, `values must be an array of numbers, got ${fmtValue(o.values)}`);
    this.boundaries = o.boundaries.map((b, i) => num(op, `boundaries[${i}]`, b));
    this.values = o.values.map((v, i) => num(op, `values[${i}]`, v));
    if (this.values.length !== this.boundaries.length + 1)
      throw argError(op, `values must have one more entry than boundaries; got ${this.values.length} values for ${this.boundaries.length} boundaries`);
    for (let i = 1; i < this.boundaries.length; i++)
      if (this.boundaries[i] < this.boundaries[i - 1]) throw argError(op, `boundaries must be non-decreasing; got ${fmtValue(this.boundaries)}`);
  }

  call(step: Variable): Variable {
    const s = floatStep('PiecewiseConstantDecay.call', step);
    const n = this.boundaries.length;
    let out: Variable = T.constant(this.values[n], undefined, s.dtype);
    for (let i = n - 1; i >= 0; i--) out = T.where(T.lessEqual(s, this.boundaries[i]), this.values[i], out);
    return out;
  }

  value(step: number): number {
    checkStep('PiecewiseConstantDecay.value', step);
    const i = this.boundaries.findIndex((b) => step <= b);
    return this.values[i < 0 ? this.boundaries.length : i];
  }

  getConfig(): ScheduleConfig {
    return { className: 'PiecewiseConstantDecay', config: { boundaries: this.boundaries.slice(), values: this.values.slice() } };
  }
}

/** The options of PolynomialDecay. */
export interface PolynomialDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  /** Default 1e-4. */
  endLearningRate?: number;
  /** Default 1 (linear). */
  power?: number;
  /** Restart after each decaySteps (the period grows to the next multiple of decaySteps); default false. */
  cycle?: boolean;
}

/**
 * `(initial - end) * (1 - s / D) ^ power + end`.  Without cycle, s = min(step, D) with D =
 * decaySteps; with cycle, D grows to decaySteps * ceil(step / decaySteps) (1 at step 0).
 * @example new PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10000, endLearningRate: 0.01, power: 0.5 })
 */
export class PolynomialDecay extends Decay {
  readonly endLearningRate: number;
  readonly power: number;
  readonly cycle: boolean;

  constructor(opts: PolynomialDecayOptions) {
    const op = 'PolynomialDecay';
    super(op, opts, ['endLearningRate', 'power', 'cycle']);
    const o = opts as unknown as Record<string, unknown>;
    this.endLearningRate = num(op, 'endLearningRate', o.endLearningRate ?? 1e-4);
    this.power = num(op, 'power', o.power ?? 1, { min: 0 });
    this.cycle = bool(op, 'cycle', o.cycle ?? false);
  }

  call(step: Variable): Variable {
    const s = floatStep('PolynomialDecay.call', step);
    let p: Variable;
    if (this.cycle) {
      const multiplier = T.where(T.equal(s, 0), 1, T.ceil(T.div(s, this.decaySteps)));
      p = T.div(s, T.mul(multiplier, this.decaySteps));
    } else {
      p = T.div(T.minimum(s, this.decaySteps), this.decaySteps);
    }
    const d = this.initialLearningRate - this.endLearningRate;
    return T.add(T.mul(T.pow(T.sub(1, p), this.power), d), this.endLearningRate);
  }

  value(step: number): number {
    checkStep('PolynomialDecay.value', step);
    const p = this.cycle ? step / (this.decaySteps * (step === 0 ? 1 : Math.ceil(step / this.decaySteps))) : Math.min(step, this.decaySteps) / this.decaySteps;
    return (this.initialLearningRate - this.endLearningRate) * Math.pow(1 - p, this.power) + this.endLearningRate;
  }

  getConfig(): ScheduleConfig {
    const { initialLearningRate, decaySteps, endLearningRate, power, cycle } = this;
    return { className: 'PolynomialDecay', config: { initialLearningRate, decaySteps, endLearningRate, power, cycle } };
  }
}

/** Factories, Keras's names in camelCase. */
export const schedules = {
  exponentialDecay: (o: ExponentialDecayOptions): ExponentialDecay => new ExponentialDecay(o),
  cosineDecay: (o: CosineDecayOptions): CosineDecay => new CosineDecay(o),
  piecewiseConstantDecay: (o: PiecewiseConstantDecayOptions): PiecewiseConstantDecay => new PiecewiseConstantDecay(o),
  polynomialDecay: (o: PolynomialDecayOptions): PolynomialDecay => new PolynomialDecay(o),
};

const SCHEDULE_CLASSES: Record<string, new (o: never) => LearningRateSchedule> = {
  ExponentialDecay, CosineDecay, PiecewiseConstantDecay, PolynomialDecay,
};
const SCHEDULE_NAMES = new NameTable(Object.keys(SCHEDULE_CLASSES));

/**
 * Rebuilds a schedule from its getConfig() form.  The class name is matched without regard to case
 * or underscores ('ExponentialDecay', 'exponential_decay').
 */
export function scheduleFromConfig(c: ScheduleConfig): LearningRateSchedule {
  const op = 'scheduleFromConfig';
  if (c === null || typeof c !== 'object' || typeof c.className !== 'string')
    throw argError(op, `expected {className, config}, got ${fmtValue(c)}`);
  return new SCHEDULE_CLASSES[SCHEDULE_NAMES.get(op, 'schedule', c.className, (s) => fmtValue(s))]((c.config ?? {}) as never);
}
