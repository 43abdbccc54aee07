/**
 * Optimizers (Keras 3's keras.optimizers) as builders of symbolic updates.
 *
 * A training step is one compiled program, `st.fn(inputs, loss, { updates })`, so an optimizer runs
 * nothing itself: `getUpdates(params, grads)` returns the `[sharedVariable, newValue]` pairs of one
 * step, new values of the parameters and of the optimizer's state.  The state (iteration count,
 * learning rate, moments) lives in shared variables, so it persists natively between calls, is
 * shared by every step compiled from the same optimizer, and can be saved (`variables()`).
 *
 * One step follows Keras 3's `apply`: gradients are clipped (clipNorm | globalClipNorm |
 * clipValue), decoupled weight decay shrinks each parameter (`p <- p - p * weightDecay * lr`),
 * then each optimizer's own update runs on the decayed parameter, and `iterations` grows by one.
 * The learning rate is read at the step's start: a schedule is evaluated at the old `iterations`
 * (0 on the first step), inside the compiled program.
 *
 * `iterations` is a float64 scalar (Keras: int64), so it counts exactly up to 2^53 steps: a float32
 * counter would stop growing at 2^24 (16.7M steps) and freeze schedules and bias corrections there.
 * Per-step scalars (schedules, bias corrections) are computed in float64 and cast to each
 * parameter's dtype; a plain learning rate is a float32 scalar shared variable, as in Keras.
 * @example
 *   const opt = new Adam({ learningRate: 1e-3 });
 *   const train = st.fn([x, y], loss, { updates: opt.getUpdates(params, st.grad(loss, params)) });
 */
import { DType, isFloat } from '../dtype';
import { argError, dtypeError, fmtShape, fmtValue, shapeError } from '../errors';
import { grad } from '../graph/grad';
import { adamUpdate } from '../graph/ops/optim';
import * as T from '../graph/T';
import { SharedVariable, shared } from '../graph/shared';
import { Variable } from '../graph/variable';
import { full } from '../tensor/creation';
import { STRICT_OPTIONS, boolValue, checkOptions as checkKeys, finiteNumber } from './options';
import { LearningRateSchedule, ScheduleConfig, scheduleFromConfig } from './schedules';

/** A fixed learning rate (settable later with setLearningRate) or a schedule of the step. */
export type LearningRate = number | LearningRateSchedule;

/** The options every optimizer takes (Keras 3's base optimizer arguments, in camelCase). */
export interface OptimizerOptions {
  /** A number, or a schedule evaluated at each step (a schedule's getConfig() form is accepted too). */
  learningRate?: LearningRate | ScheduleConfig;
  /** Rescales each gradient whose L2 norm exceeds this to that norm. */
  clipNorm?: number | null;
  /** Clips each gradient elementwise to [-clipValue, clipValue]. */
  clipValue?: number | null;
  /** Rescales all gradients together when their global L2 norm exceeds this. */
  globalClipNorm?: number | null;
  /** Decoupled weight decay: each step first does `p <- p - p * weightDecay * lr`. */
  weightDecay?: number | null;
  /** Prefix of the state variables' names. */
  name?: string;
}

/** What one parameter's update sees (everything in the parameter's dtype except `step`). */
interface StepInput {
  /** The parameter after weight decay. */
  param: Variable;
  /** Its clipped gradient. */
  grad: Variable;
  slots: Record<string, SharedVariable>;
  lr: Variable;
  /** Keras's local_step: iterations + 1, float64. */
  step: Variable;
  /** A per-step scalar cast to the parameter's dtype. */
  cast(x: Variable): Variable;
}

/** New values of the parameter and of the slots that change. */
interface StepOutput {
  param: Variable;
  slots: Record<string, Variable>;
}

/** A per-weight state an optimizer keeps (Adam's moments …): its name and initial value. */
interface SlotSpec {
  name: string;
  init: number;
}

const COMMON_KEYS = ['learningRate', 'clipNorm', 'clipValue', 'globalClipNorm', 'weightDecay', 'name'];

/** Option checks shared by the optimizers. */
class Opts {
  constructor(
    readonly op: string,
    readonly o: Record<string, unknown>,
  ) {}

  /** Option key as a finite number in [lo, hi] (or [lo, hi) with hiOpen), dflt when absent. */
  num(key: string, dflt: number, lo = -Infinity, hi = Infinity, hiOpen = false): number {
    const v = finiteNumber(this.op, key, this.o[key] ?? dflt);
    if (v < lo || v > hi || (hiOpen && v === hi)) throw argError(this.op, `${key} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
    return v;
  }

  /** A positive number, or undefined when absent or null. */
  positive(key: string): number | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw argError(this.op, `${key} must be a finite number > 0, got ${fmtValue(v)}`);
    return v;
  }

  /** Option key as a boolean, dflt when absent. */
  bool(key: string, dflt: boolean): boolean {
    return boolValue(this.op, key, this.o[key] ?? dflt);
  }
}

function checkOptions(op: string, opts: unknown, own: string[]): Opts {
  return new Opts(op, checkKeys(op, opts, [...COMMON_KEYS, ...own], STRICT_OPTIONS));
}

function castTo(x: Variable, dtype: DType): Variable {
  return x.dtype === dtype ? x : T.cast(x, dtype);
}

/**
 * The base of all optimizers: learning rate, clipping, weight decay, the iteration count and the
 * per-parameter state; subclasses define only their slots and their update of one parameter.
 */
export abstract class Optimizer {
  /** Prefix of the state variables' names, e.g. 'adam'. */
  readonly name: string;
  /** Steps applied so far (Keras's `iterations`): a float64 scalar shared variable, 0 at first. */
  readonly iterations: SharedVariable;
  readonly clipNorm: number | undefined;
  readonly clipValue: number | undefined;
  readonly globalClipNorm: number | undefined;
  readonly weightDecay: number | undefined;
  /** The class name getConfig reports ('Adam'). */
  protected abstract readonly className: string;
  private readonly schedule: LearningRateSchedule | null;
  private readonly lrVar: SharedVariable | null;
  /** The number last given for the learning rate (getConfig reports it while the variable holds it). */
  private lrNumber = 0;
  private readonly state = new Map<SharedVariable, Record<string, SharedVariable>>();
  private readonly usedNames = new Set<string>();
  /** Optimizer-wide state beyond iterations and the learning rate (Nadam's product of momenta). */
  protected readonly globals: SharedVariable[] = [];

  protected constructor(defaultName: string, opts: Opts, defaults: { learningRate: number; weightDecay?: number }) {
    const op = opts.op;
    const o = opts.o;
    const name = o.name ?? defaultName;
    if (typeof name !== 'string' || !name) throw argError(op, `name must be a non-empty string, got ${fmtValue(name)}`);
    this.name = name;
    this.clipNorm = opts.positive('clipNorm');
    this.clipValue = opts.positive('clipValue');
    this.globalClipNorm = opts.positive('globalClipNorm');
    const clips = ['clipNorm', 'clipValue', 'globalClipNorm'].filter((k) => this[k as 'clipNorm'] !== undefined);
    // Keras applies only the first of them; setting two would silently ignore one
    if (clips.length > 1) throw argError(op, `only one of clipNorm, clipValue and globalClipNorm can be set; got ${clips.join(' and ')}`);
    const noDecay = (o.weightDecay === undefined || o.weightDecay === null) && defaults.weightDecay === undefined;
    this.weightDecay = noDecay ? undefined : opts.num('weightDecay', defaults.weightDecay ?? 0, 0);
    let lr = o.learningRate ?? defaults.learningRate;
    // a schedule's getConfig() form, as getOptimizer passes it from a saved config
    if (lr !== null && typeof lr === 'object' && !(lr instanceof LearningRateSchedule) && 'className' in lr) lr = scheduleFromConfig(lr as ScheduleConfig);
    this.iterations = shared(0, `${name}/iterations`, { dtype: 'float64' });
    if (lr instanceof LearningRateSchedule) {
      this.schedule = lr;
      this.lrVar = null;
    } else {
      this.lrNumber = opts.num('learningRate', lr as number, 0);
      this.schedule = null;
      this.lrVar = shared(this.lrNumber, `${name}/learningRate`, { dtype: 'float32' });
    }
  }

  /** The per-parameter state variables, by slot name, each initialized to `init`. */
  protected abstract slotSpecs(): SlotSpec[];
  /** One parameter's update (Keras's update_step). */
  protected abstract updateStep(s: StepInput): StepOutput;
  /** The subclass's own options for getConfig. */
  protected abstract ownConfig(): Record<string, unknown>;
  /** Updates of optimizer-wide state made once per step, before the parameters' updates. */
  protected beginStep(_step: Variable): [SharedVariable, Variable][] {
    return [];
  }

  /**
   * Creates the state variables of params not seen before (getUpdates does it too).  Call it to
   * restore saved state (variables()) before compiling a step.
   */
  build(params: SharedVariable[]): void {
    const op = `${this.className}.build`;
    if (!Array.isArray(params)) throw argError(op, `params must be an array of shared variables, got ${fmtValue(params)}`);
    params.forEach((p: unknown, i) => {
      if (!(p instanceof SharedVariable)) throw argError(op, `params[${i}] must be a shared variable (st.shared), got ${p instanceof Variable ? p.describe() : fmtValue(p)}`);
      if (!isFloat(p.dtype)) throw dtypeError(op, `params[${i}] (${p.describe()}) must be float32 or float64 to be trained`);
    });
    for (const p of params) {
      if (this.state.has(p)) continue;
      const pname = this.uniqueName(p.name ?? `param${this.state.size}`);
      const slots: Record<string, SharedVariable> = {};
      for (const { name, init } of this.slotSpecs()) {
        const t = full(p.staticShape as number[], init, p.dtype);
        slots[name] = shared(t, `${this.name}/${name}/${pname}`);
        t.dispose();
      }
      this.state.set(p, slots);
    }
  }

  private uniqueName(base: string): string {
    let n = base;
    for (let k = 1; this.usedNames.has(n); k++) n = `${base}_${k}`;
    this.usedNames.add(n);
    return n;
  }

  /**
   * The updates of one step: new values of each param and of the optimizer's state, iterations + 1
   * included.  grads[i] is the gradient of params[i]; a null gradient leaves its param (and its
   * state) unchanged, as Keras skips missing gradients.  Call once per compiled training step; state
   * is created on first sight of a param and shared by every step built from this optimizer.
   * The cost form differentiates for you: `getUpdates(cost, params)`.
   * @example st.fn([x, y], loss, { updates: opt.getUpdates(params, st.grad(loss, params)) })
   * @example st.fn([x, y], loss, { updates: st.optimizers.adam().getUpdates(loss, params) })
   */
  getUpdates(params: SharedVariable[], grads: (Variable | null)[]): [SharedVariable, Variable][];
  getUpdates(cost: Variable, params: SharedVariable[]): [SharedVariable, Variable][];
  getUpdates(a: SharedVariable[] | Variable, b: (Variable | null)[] | SharedVariable[]): [SharedVariable, Variable][] {
    if (a instanceof Variable) {
      const op = `${this.name}.getUpdates`;
      if (a.ndim !== 0) throw shapeError(op, `the cost must be a scalar, got ${a.describe()}`);
      if (!Array.isArray(b) || b.length === 0 || !b.every((p) => p instanceof SharedVariable)) throw argError(op, 'getUpdates(cost, params): params must be a non-empty array of shared variables');
      const params = b as SharedVariable[];
      return this.getUpdates(params, grad(a, params));
    }
    return this.updatesFor(a, b as (Variable | null)[]);
  }

  private updatesFor(params: SharedVariable[], grads: (Variable | null)[]): [SharedVariable, Variable][] {
    const op = `${this.className}.getUpdates`;
    this.build(params);
    if (!Array.isArray(grads) || grads.length !== params.length)
      throw argError(op, `expected one gradient per param (${params.length}), got ${Array.isArray(grads) ? grads.length : fmtValue(grads)}`);
    const seen = new Set<SharedVariable>();
    const live: { p: SharedVariable; g: Variable }[] = [];
    params.forEach((p, i) => {
      if (seen.has(p)) throw argError(op, `params[${i}] (${p.describe()}) is listed twice`);
      seen.add(p);
      const g = grads[i];
      if (g === null) return;
      if (!(g instanceof Variable)) throw argError(op, `grads[${i}] (for ${p.describe()}) must be a symbolic variable or null, got ${fmtValue(g)}`);
      if (!isFloat(g.dtype)) throw dtypeError(op, `grads[${i}] (${g.describe()}) for ${p.describe()} must be float32 or float64`);
      if (g.ndim !== p.ndim || g.staticShape.some((d, k) => d !== null && d !== p.staticShape[k]))
        throw shapeError(op, `grads[${i}] has shape ${fmtShape(g.staticShape)} but its param ${p.describe()} has ${fmtShape(p.staticShape)}`);
      live.push({ p, g: castTo(g, p.dtype) });
    });
    const clipped = this.clip(live.map((l) => l.g));
    const lrBase = this.learningRateRaw();
    const step = T.add(this.iterations, 1);
    const updates: [SharedVariable, Variable][] = this.beginStep(step);
    live.forEach(({ p }, i) => {
      const cast = (x: Variable) => castTo(x, p.dtype);
      const lr = cast(lrBase);
      const param = this.weightDecay ? T.sub(p, T.mul(T.mul(p, this.weightDecay), lr)) : p;
      const slots = this.state.get(p)!;
      const out = this.updateStep({ param, grad: clipped[i], slots, lr, step, cast });
      updates.push([p, cast(out.param)]);
      for (const { name } of this.slotSpecs()) if (out.slots[name]) updates.push([slots[name], cast(out.slots[name])]);
    });
    updates.push([this.iterations, step]);
    return updates;
  }

  /**
   * Keras's clipping: clipNorm rescales each gradient g to g * c / max(||g||, c); globalClipNorm
   * scales all by c / max(N, c) with N the L2 norm of all gradients together; clipValue clips each
   * element to [-c, c].
   */
  private clip(gs: Variable[]): Variable[] {
    if (this.clipNorm !== undefined) {
      const c = this.clipNorm;
      return gs.map((g) => T.div(T.mul(g, c), T.maximum(T.sqrt(T.sum(T.square(g))), c)));
    }
    if (this.globalClipNorm !== undefined && gs.length) {
      const c = this.globalClipNorm;
      const squares = gs.map((g) => castTo(T.sum(T.square(g)), 'float64'));
      const norm = T.sqrt(squares.reduce((a, b) => T.add(a, b)));
      const scale = T.div(c, T.maximum(norm, c));
      return gs.map((g) => T.mul(g, castTo(scale, g.dtype)));
    }
    if (this.clipValue !== undefined) {
      const c = this.clipValue;
      return gs.map((g) => T.clip(g, -c, c));
    }
    return gs;
  }

  /** The learning rate in its own dtype: the float32 variable, or the schedule at iterations (float64). */
  private learningRateRaw(): Variable {
    return this.schedule ? this.schedule.call(this.iterations) : this.lrVar!;
  }

  /** The current learning rate as a float32 symbolic scalar (a schedule evaluated at `iterations`). */
  learningRateVar(): Variable {
    return castTo(this.learningRateRaw(), 'float32');
  }

  /** The current learning rate: the variable's value, or the schedule at the current iteration count. */
  getLearningRate(): number {
    if (this.schedule) return this.schedule.value(this.readScalar(this.iterations));
    const v = this.readScalar(this.lrVar!);
    return Math.fround(this.lrNumber) === v ? this.lrNumber : v;
  }

  /**
   * Changes a plain learning rate for later calls of steps already compiled (it is a shared
   * variable they read).  Throws when the learning rate is a schedule.
   */
  setLearningRate(lr: number): void {
    const op = `${this.className}.setLearningRate`;
    if (!this.lrVar) throw argError(op, `the learning rate of ${this.name} is a schedule (${this.schedule!.getConfig().className}); it cannot be set`);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw argError(op, `lr must be a finite number >= 0, got ${fmtValue(lr)}`);
    this.lrVar.set(lr);
    this.lrNumber = lr;
  }

  private readScalar(v: SharedVariable): number {
    const t = v.get();
    const x = t.item() as number;
    t.dispose();
    return x;
  }

  /**
   * Every state variable, in a fixed order: iterations, the learning rate (unless a schedule),
   * optimizer-wide state, then each param's slots in the order params were first seen.  Names
   * are unique: '<name>/iterations', '<name>/learningRate', '<name>/<slot>/<paramName>'.
   */
  variables(): SharedVariable[] {
    const out = [this.iterations];
    if (this.lrVar) out.push(this.lrVar);
    out.push(...this.globals);
    const specs = this.slotSpecs();
    for (const slots of this.state.values()) for (const { name } of specs) out.push(slots[name]);
    return out;
  }

  /** The class name and options, JSON-able; getOptimizer rebuilds an equal optimizer from it. */
  getConfig(): { className: string; config: Record<string, unknown> } {
    const orNull = (x: number | undefined) => x ?? null;
    return {
      className: this.className,
      config: {
        name: this.name,
        learningRate: this.schedule ? this.schedule.getConfig() : this.getLearningRate(),
        weightDecay: orNull(this.weightDecay),
        clipNorm: orNull(this.clipNorm),
        clipValue: orNull(this.clipValue),
        globalClipNorm: orNull(this.globalClipNorm),
        ...this.ownConfig(),
      },
    };
  }
}

export interface SGDOptions extends OptimizerOptions {
  /** Default 0 (plain gradient descent). */
  momentum?: number;
  /** Default false. */
  nesterov?: boolean;
}

/**
 * Gradient descent with optional (Nesterov) momentum; learningRate defaults to 0.01.
 * Without momentum `p <- p - lr g`; with it `m <- mu m - lr g`, then `p <- p + m`, or with
 * nesterov `p <- p + mu m - lr g` (the new m).
 */
export class SGD extends Optimizer {
  protected readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(opts?: SGDOptions) {
    const o = checkOptions('SGD', opts, ['momentum', 'nesterov']);
    super('SGD', o, { learningRate: 0.01 });
    this.momentum = o.num('momentum', 0, 0, 1);
    this.nesterov = o.bool('nesterov', false);
  }

  protected slotSpecs(): SlotSpec[] {
    return this.momentum !== 0 ? [{ name: 'momentum', init: 0 }] : [];
  }

  protected updateStep({ param, grad, slots, lr }: StepInput): StepOutput {
    if (this.momentum === 0) return { param: T.sub(param, T.mul(grad, lr)), slots: {} };
    const lrG = T.mul(grad, lr);
    const m = T.sub(T.mul(slots.momentum, this.momentum), lrG);
    const p = this.nesterov ? T.add(param, T.sub(T.mul(m, this.momentum), lrG)) : T.add(param, m);
    return { param: p, slots: { momentum: m } };
  }

  protected ownConfig(): Record<string, unknown> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}

export interface AdamOptions extends OptimizerOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7. */
  epsilon?: number;
  /** Keep the running maximum of v (AMSGrad); default false. */
  amsgrad?: boolean;
}

/**
 * Adam (Kingma & Ba), Keras 3's form: with t = iterations + 1,
 * `m <- m + (g - m)(1 - b1)`, `v <- v + (g^2 - v)(1 - b2)`, (amsgrad: `vHat <- max(vHat, v)`, used
 * for v), and `p <- p - m * lr sqrt(1 - b2^t) / (1 - b1^t) / (sqrt(v) + epsilon)`.  Without amsgrad
 * each parameter's step is one native instruction (adamUpdate) that reads p, g, m, v once and
 * writes p, m, v in place.
 */
export class Adam extends Optimizer {
  protected readonly className: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;

  /** `variant` is for subclasses (AdamW): their name in messages, default name and weight decay. */
  constructor(opts?: AdamOptions, variant: { op: string; name: string; weightDecay?: number } = { op: 'Adam', name: 'adam' }) {
    const o = checkOptions(variant.op, opts, ['beta1', 'beta2', 'epsilon', 'amsgrad']);
    super(variant.name, o, { learningRate: 0.001, weightDecay: variant.weightDecay });
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon } = adamBetas(o, 0.999));
    this.amsgrad = o.bool('amsgrad', false);
  }

  protected slotSpecs(): SlotSpec[] {
    const s = [{ name: 'm', init: 0 }, { name: 'v', init: 0 }];
    return this.amsgrad ? [...s, { name: 'vHat', init: 0 }] : s;
  }

  protected updateStep({ param, grad, slots, lr, step, cast }: StepInput): StepOutput {
    const { beta1: b1, beta2: b2 } = this;
    const alpha = T.mul(lr, cast(T.div(T.sqrt(T.sub(1, T.pow(b2, step))), T.sub(1, T.pow(b1, step)))));
    if (!this.amsgrad) {
      // one native pass over p, g, m, v (the formulas below, without vHat)
      const u = adamUpdate(param, grad, slots.m, slots.v, alpha, { beta1: b1, beta2: b2, epsilon: this.epsilon });
      return { param: u.param, slots: { m: u.m, v: u.v } };
    }
    const m = T.add(slots.m, T.mul(T.sub(grad, slots.m), 1 - b1));
    const v = T.add(slots.v, T.mul(T.sub(T.square(grad), slots.v), 1 - b2));
    const out: Record<string, Variable> = { m, v };
    let vUse = v;
    if (this.amsgrad) vUse = out.vHat = T.maximum(slots.vHat, v);
    return { param: T.sub(param, T.div(T.mul(m, alpha), T.add(T.sqrt(vUse), this.epsilon))), slots: out };
  }

  protected ownConfig(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}

function adamBetas(o: Opts, beta2: number): { beta1: number; beta2: number; epsilon: number } {
  return { beta1: o.num('beta1', 0.9, 0, 1, true), beta2: o.num('beta2', beta2, 0, 1, true), epsilon: o.num('epsilon', 1e-7, 0) };
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter): Adam after `p <- p - p * weightDecay * lr`;
 * weightDecay defaults to 0.004.
 */
export class AdamW extends Adam {
  protected override readonly className: string = 'AdamW';
  constructor(opts?: AdamOptions) {
    super(opts, { op: 'AdamW', name: 'adamw', weightDecay: 0.004 });
  }
}

export interface RMSpropOptions extends OptimizerOptions {
  /** Decay of the mean square; default 0.9. */
  rho?: number;
  /** Default 0. */
  momentum?: number;
  /** Default 1e-7. */
  epsilon?: number;
  /** Divide by the variance (mean square minus squared mean) instead of the mean square; default false. */
  centered?: boolean;
}

/**
 * RMSprop (Hinton), Keras 3's form: `v <- rho v + (1 - rho) g^2`; centered: `a <- rho a + (1 - rho) g`
 * and the denominator is `v - a^2 + epsilon`, else `v + epsilon`; `inc = lr g / sqrt(denominator)`;
 * with momentum `mom <- momentum mom + inc`, `p <- p - mom`, else `p <- p - inc`.
 */
export class RMSprop extends Optimizer {
  protected readonly className = 'RMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;

  constructor(opts?: RMSpropOptions) {
    const o = checkOptions('RMSprop', opts, ['rho', 'momentum', 'epsilon', 'centered']);
    super('rmsprop', o, { learningRate: 0.001 });
    this.rho = o.num('rho', 0.9, 0, 1);
    this.momentum = o.num('momentum', 0, 0, 1);
    this.epsilon = o.num('epsilon', 1e-7, 0);
    this.centered = o.bool('centered', false);
  }

  protected slotSpecs(): SlotSpec[] {
    const s = [{ name: 'velocity', init: 0 }];
    if (this.momentum > 0) s.push({ name: 'momentum', init: 0 });
    if (this.centered) s.push({ name: 'averageGradient', init: 0 });
    return s;
  }

  protected updateStep({ param, grad, slots, lr }: StepInput): StepOutput {
    const rho = this.rho;
    const v = T.add(T.mul(slots.velocity, rho), T.mul(T.square(grad), 1 - rho));
    const out: Record<string, Variable> = { velocity: v };
    let den: Variable;
    if (this.centered) {
      const a = (out.averageGradient = T.add(T.mul(slots.averageGradient, rho), T.mul(grad, 1 - rho)));
      den = T.add(T.sub(v, T.square(a)), this.epsilon);
    } else {
      den = T.add(v, this.epsilon);
    }
    const inc = T.div(T.mul(grad, lr), T.sqrt(den));
    if (this.momentum > 0) {
      const mom = (out.momentum = T.add(T.mul(slots.momentum, this.momentum), inc));
      return { param: T.sub(param, mom), slots: out };
    }
    return { param: T.sub(param, inc), slots: out };
  }

  protected ownConfig(): Record<string, unknown> {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

export interface AdagradOptions extends OptimizerOptions {
  /** Starting value of the accumulators; default 0.1. */
  initialAccumulatorValue?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

/** Adagrad: `acc <- acc + g^2`, `p <- p - lr g / sqrt(acc + epsilon)`. */
export class Adagrad extends Optimizer {
  protected readonly className = 'Adagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;

  constructor(opts?: AdagradOptions) {
    const o = checkOptions('Adagrad', opts, ['initialAccumulatorValue', 'epsilon']);
    super('adagrad', o, { learningRate: 0.001 });
    this.initialAccumulatorValue = o.num('initialAccumulatorValue', 0.1, 0);
    this.epsilon = o.num('epsilon', 1e-7, 0);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'accumulator', init: this.initialAccumulatorValue }];
  }

  protected updateStep({ param, grad, slots, lr }: StepInput): StepOutput {
    const acc = T.add(slots.accumulator, T.square(grad));
    return { param: T.sub(param, T.div(T.mul(grad, lr), T.sqrt(T.add(acc, this.epsilon)))), slots: { accumulator: acc } };
  }

  protected ownConfig(): Record<string, unknown> {
    return { initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

export interface AdadeltaOptions extends OptimizerOptions {
  /** Decay of both running averages; default 0.95. */
  rho?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

/**
 * Adadelta (Zeiler), Keras 3's form with rms(x) = sqrt(x + epsilon): `ag <- rho ag + (1 - rho) g^2`,
 * `d = -rms(ad) g / rms(ag)`, `ad <- rho ad + (1 - rho) d^2`, `p <- p + lr d` (learningRate 0.001).
 */
export class Adadelta extends Optimizer {
  protected readonly className = 'Adadelta';
  readonly rho: number;
  readonly epsilon: number;

  constructor(opts?: AdadeltaOptions) {
    const o = checkOptions('Adadelta', opts, ['rho', 'epsilon']);
    super('adadelta', o, { learningRate: 0.001 });
    this.rho = o.num('rho', 0.95, 0, 1);
    this.epsilon = o.num('epsilon', 1e-7, 0);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'accumulatedGrad', init: 0 }, { name: 'accumulatedDeltaVar', init: 0 }];
  }

  protected updateStep({ param, grad, slots, lr }: StepInput): StepOutput {
    const rho = this.rho;
    const rms = (x: Variable) => T.sqrt(T.add(x, this.epsilon));
    const ag = T.add(T.mul(slots.accumulatedGrad, rho), T.mul(T.square(grad), 1 - rho));
    const d = T.neg(T.div(T.mul(rms(slots.accumulatedDeltaVar), grad), rms(ag)));
    const ad = T.add(T.mul(slots.accumulatedDeltaVar, rho), T.mul(T.square(d), 1 - rho));
    return { param: T.add(param, T.mul(d, lr)), slots: { accumulatedGrad: ag, accumulatedDeltaVar: ad } };
  }

  protected ownConfig(): Record<string, unknown> {
    return { rho: this.rho, epsilon: this.epsilon };
  }
}

/**
 * Adamax (Adam with the infinity norm): with t = iterations + 1, `m <- m + (g - m)(1 - b1)`,
 * `u <- max(b2 u, |g|)`, `p <- p - lr m / ((1 - b1^t)(u + epsilon))`.
 */
export class Adamax extends Optimizer {
  protected readonly className = 'Adamax';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(opts?: Omit<AdamOptions, 'amsgrad'>) {
    const o = checkOptions('Adamax', opts, ['beta1', 'beta2', 'epsilon']);
    super('adamax', o, { learningRate: 0.001 });
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon } = adamBetas(o, 0.999));
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'm', init: 0 }, { name: 'u', init: 0 }];
  }

  protected updateStep({ param, grad, slots, lr, step, cast }: StepInput): StepOutput {
    const m = T.add(slots.m, T.mul(T.sub(grad, slots.m), 1 - this.beta1));
    const u = T.maximum(T.mul(slots.u, this.beta2), T.abs(grad));
    const den = T.mul(cast(T.sub(1, T.pow(this.beta1, step))), T.add(u, this.epsilon));
    return { param: T.sub(param, T.div(T.mul(m, lr), den)), slots: { m, u } };
  }

  protected ownConfig(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Nadam (Adam with Nesterov momentum, Dozat), Keras 3's form: with t = iterations + 1 and
 * `mu(t) = b1 (1 - 0.5 * 0.96^t)`, the product P = mu(1)…mu(t) (state 'uProduct', updated first)
 * and P' = P mu(t+1): `m <- m + (g - m)(1 - b1)`, `v <- v + (g^2 - v)(1 - b2)`,
 * `mHat = mu(t+1) m / (1 - P') + (1 - mu(t)) g / (1 - P)`, `vHat = v / (1 - b2^t)`,
 * `p <- p - lr mHat / (sqrt(vHat) + epsilon)`.
 */
export class Nadam extends Optimizer {
  protected readonly className = 'Nadam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** The product of the momentum schedule so far (float64 scalar, 1 at first). */
  readonly uProduct: SharedVariable;
  private uProductNew: Variable | null = null;

  constructor(opts?: Omit<AdamOptions, 'amsgrad'>) {
    const o = checkOptions('Nadam', opts, ['beta1', 'beta2', 'epsilon']);
    super('nadam', o, { learningRate: 0.001 });
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon } = adamBetas(o, 0.999));
    this.uProduct = shared(1, `${this.name}/uProduct`, { dtype: 'float64' });
    this.globals.push(this.uProduct);
  }

  private mu(t: Variable): Variable {
    return T.mul(T.sub(1, T.mul(T.pow(0.96, t), 0.5)), this.beta1);
  }

  protected override beginStep(step: Variable): [SharedVariable, Variable][] {
    this.uProductNew = T.mul(this.uProduct, this.mu(step));
    return [[this.uProduct, this.uProductNew]];
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'm', init: 0 }, { name: 'v', init: 0 }];
  }

  protected updateStep({ param, grad, slots, lr, step, cast }: StepInput): StepOutput {
    const { beta1: b1, beta2: b2 } = this;
    const uT = this.mu(step), uT1 = this.mu(T.add(step, 1));
    const P = this.uProductNew!, P1 = T.mul(P, uT1);
    const m = T.add(slots.m, T.mul(T.sub(grad, slots.m), 1 - b1));
    const v = T.add(slots.v, T.mul(T.sub(T.square(grad), slots.v), 1 - b2));
    const mHat = T.add(T.mul(m, cast(T.div(uT1, T.sub(1, P1)))), T.mul(grad, cast(T.div(T.sub(1, uT), T.sub(1, P)))));
    const vHat = T.div(v, cast(T.sub(1, T.pow(b2, step))));
    return { param: T.sub(param, T.div(T.mul(mHat, lr), T.add(T.sqrt(vHat), this.epsilon))), slots: { m, v } };
  }

  protected ownConfig(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

export interface LionOptions extends OptimizerOptions {
  /** Interpolation of the update direction; default 0.9, in (0, 1]. */
  beta1?: number;
  /** Decay of the momentum; default 0.99. */
  beta2?: number;
}

/**
 * Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms"):
 * `p <- p - lr sign(b1 m + (1 - b1) g)`, then `m <- b2 m + (1 - b2) g`.
 */
export class Lion extends Optimizer {
  protected readonly className = 'Lion';
  readonly beta1: number;
  readonly beta2: number;

  constructor(opts?: LionOptions) {
    const o = checkOptions('Lion', opts, ['beta1', 'beta2']);
    super('lion', o, { learningRate: 0.001 });
    this.beta1 = o.num('beta1', 0.9, 0, 1);
    if (this.beta1 === 0) throw argError('Lion', 'beta1 must be in (0, 1], got 0');
    this.beta2 = o.num('beta2', 0.99, 0, 1);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'm', init: 0 }];
  }

  protected updateStep({ param, grad, slots, lr }: StepInput): StepOutput {
    const dir = T.sign(T.add(T.mul(slots.m, this.beta1), T.mul(grad, 1 - this.beta1)));
    const m = T.add(T.mul(slots.m, this.beta2), T.mul(grad, 1 - this.beta2));
    return { param: T.sub(param, T.mul(dir, lr)), slots: { m } };
  }

  protected ownConfig(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2 };
  }
}

/** Factories with Keras's names in camelCase. */
export const optimizers = {
  sgd: (opts?: SGDOptions): SGD => new SGD(opts),
  adam: (opts?: AdamOptions): Adam => new Adam(opts),
  adamw: (opts?: AdamOptions): AdamW => new AdamW(opts),
  rmsprop: (opts?: RMSpropOptions): RMSprop => new RMSprop(opts),
  adagrad: (opts?: AdagradOptions): Adagrad => new Adagrad(opts),
  adadelta: (opts?: AdadeltaOptions): Adadelta => new Adadelta(opts),
  adamax: (opts?: Omit<AdamOptions, 'amsgrad'>): Adamax => new Adamax(opts),
  nadam: (opts?: Omit<AdamOptions, 'amsgrad'>): Nadam => new Nadam(opts),
  lion: (opts?: LionOptions): Lion => new Lion(opts),
};

const VALID = Object.keys(optimizers);

function byName(op: string, name: string, config?: Record<string, unknown>): Optimizer {
  const key = name.replace(/[_-]/g, '').toLowerCase() as keyof typeof optimizers;
  if (!VALID.includes(key)) throw argError(op, `unknown optimizer ${fmtValue(name)}; valid names: ${VALID.join(', ')}`);
  return optimizers[key](config as never);
}

/**
 * An optimizer from a name ('adam', 'Adam', 'RMSprop' — case and underscores do not matter, with
 * default options), an optimizer (returned as is) or a getConfig() object.
 * @example getOptimizer({ className: 'SGD', config: { learningRate: 0.1, momentum: 0.9 } })
 */
export function getOptimizer(id: string | Optimizer | { className: string; config?: Record<string, unknown> }): Optimizer {
  const op = 'getOptimizer';
  if (id instanceof Optimizer) return id;
  if (typeof id === 'string') return byName(op, id);
  if (id !== null && typeof id === 'object' && typeof id.className === 'string') {
    if (id.config !== undefined && (id.config === null || typeof id.config !== 'object' || Array.isArray(id.config)))
      throw argError(op, `config of ${id.className} must be an options object, got ${fmtValue(id.config)}`);
    return byName(op, id.className, id.config);
  }
  throw argError(op, `expected an optimizer name (${VALID.join(', ')}), an Optimizer or {className, config}, got ${fmtValue(id)}`);
}
