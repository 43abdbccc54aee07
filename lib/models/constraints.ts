// Weight constraints (Keras 3): a projection applied to a weight after each optimizer update,
// built as a symbolic expression of the updated value so that it runs inside the training step.
import { argError, fmtValue } from '../errors';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';
import { normAxes } from '../tensor/shape-util';
import { ClassConfig, checkOptions, checkWeight, factoryResolver, numberOr as num } from './options';

/** Keras's backend.epsilon(): keeps the norm divisions finite for all-zero slices. */
const EPSILON = 1e-7;

/**
 * A projection of a weight's value (Keras's Constraint).  The optimizer replaces each constrained
 * weight's update `w ← u` by `w ← constraint.call(u)`.
 */
export abstract class Constraint {
  /** Keras's class name ('MaxNorm' …), used in configs. */
  abstract readonly className: string;
  /** The projected value of `w` (same shape and dtype). */
  abstract call(w: Variable): Variable;
  /** The constructor options. */
  protected params(): Record<string, unknown> {
    return {};
  }
  /** The class name and options, as getConstraint() takes them back (what saved models store). */
  getConfig(): { className: string; config: Record<string, unknown> } {
    return { className: this.className, config: this.params() };
  }
}

function axisOption(op: string, v: unknown): number | number[] {
  if (v === undefined) return 0;
  const ok = (a: unknown) => typeof a === 'number' && Number.isInteger(a);
  if (ok(v)) return v as number;
  if (Array.isArray(v) && v.length > 0 && v.every(ok)) return v.slice() as number[];
  throw argError(op, `axis must be an integer or a non-empty array of integers, got ${fmtValue(v)}`);
}

/** The L2 norms of w over `axis`, kept as size-1 axes so they broadcast against w. */
function norms(op: string, w: Variable, axis: number | number[]): Variable {
  return T.sqrt(T.sum(T.square(w), normAxes(op, axis, w.ndim), true));
}

/**
 * Scales each slice over `axis` whose L2 norm exceeds maxValue back to norm maxValue (Keras's
 * MaxNorm; defaults maxValue 2, axis 0: for a dense kernel [in, out], each unit's incoming
 * weights; for a conv2d kernel [kh, kw, cin, cout] use axis [0, 1, 2]).
 */
export class MaxNorm extends Constraint {
  readonly className = 'MaxNorm';
  readonly maxValue: number;
  readonly axis: number | number[];
  constructor(opts: { maxValue?: number; axis?: number | number[] } = {}) {
    super();
    const o = checkOptions('MaxNorm', opts, ['maxValue', 'axis']);
    this.maxValue = num('MaxNorm', 'maxValue', o.maxValue, 2);
    if (this.maxValue < 0) throw argError('MaxNorm', `maxValue must be >= 0, got ${this.maxValue}`);
    this.axis = axisOption('MaxNorm', o.axis);
  }
  call(w: Variable): Variable {
    checkWeight('MaxNorm', w);
    const n = norms('MaxNorm', w, this.axis);
    return T.mul(w, T.div(T.clip(n, 0, this.maxValue), T.add(n, EPSILON)));
  }
  protected override params() {
    return { maxValue: this.maxValue, axis: this.axis };
  }
}

/** Negative entries set to 0 (Keras's NonNeg). */
export class NonNeg extends Constraint {
  readonly className = 'NonNeg';
  constructor(opts: Record<string, never> = {}) {
    super();
    checkOptions('NonNeg', opts, []);
  }
  call(w: Variable): Variable {
    checkWeight('NonNeg', w);
    return T.mul(w, T.cast(T.greaterEqual(w, 0), w.dtype));
  }
}

/** Each slice over `axis` divided by its L2 norm (Keras's UnitNorm; default axis 0). */
export class UnitNorm extends Constraint {
  readonly className = 'UnitNorm';
  readonly axis: number | number[];
  constructor(opts: { axis?: number | number[] } = {}) {
    super();
    this.axis = axisOption('UnitNorm', checkOptions('UnitNorm', opts, ['axis']).axis);
  }
  call(w: Variable): Variable {
    checkWeight('UnitNorm', w);
    return T.div(w, T.add(norms('UnitNorm', w, this.axis), EPSILON));
  }
  protected override params() {
    return { axis: this.axis };
  }
}

/**
 * Moves each slice's L2 norm over `axis` toward [minValue, maxValue]: the new norm is
 * rate · clip(norm, minValue, maxValue) + (1 - rate) · norm (Keras's MinMaxNorm; defaults
 * minValue 0, maxValue 1, rate 1 = strict, axis 0).
 */
export class MinMaxNorm extends Constraint {
  readonly className = 'MinMaxNorm';
  readonly minValue: number;
  readonly maxValue: number;
  readonly rate: number;
  readonly axis: number | number[];
  constructor(opts: { minValue?: number; maxValue?: number; rate?: number; axis?: number | number[] } = {}) {
    super();
    const op = 'MinMaxNorm';
    const o = checkOptions(op, opts, ['minValue', 'maxValue', 'rate', 'axis']);
    this.minValue = num(op, 'minValue', o.minValue, 0);
    this.maxValue = num(op, 'maxValue', o.maxValue, 1);
    this.rate = num(op, 'rate', o.rate, 1);
    if (this.minValue < 0 || this.minValue > this.maxValue)
      throw argError(op, `need 0 <= minValue <= maxValue, got minValue ${this.minValue} and maxValue ${this.maxValue}`);
    if (this.rate < 0 || this.rate > 1) throw argError(op, `rate must be in [0, 1], got ${this.rate}`);
    this.axis = axisOption(op, o.axis);
  }
  call(w: Variable): Variable {
    checkWeight('MinMaxNorm', w);
    const n = norms('MinMaxNorm', w, this.axis);
    const desired = T.add(T.mul(T.clip(n, this.minValue, this.maxValue), this.rate), T.mul(n, 1 - this.rate));
    return T.mul(w, T.div(desired, T.add(n, EPSILON)));
  }
  protected override params() {
    return { minValue: this.minValue, maxValue: this.maxValue, rate: this.rate, axis: this.axis };
  }
}

/**
 * The constraints by Keras's names, as factories.
 * @example st.layers.dense({ units: 64, kernelConstraint: constraints.maxNorm({ maxValue: 3 }) })
 */
export const constraints = {
  maxNorm: (opts?: { maxValue?: number; axis?: number | number[] }) => new MaxNorm(opts),
  nonNeg: (opts?: Record<string, never>) => new NonNeg(opts),
  unitNorm: (opts?: { axis?: number | number[] }) => new UnitNorm(opts),
  minMaxNorm: (opts?: { minValue?: number; maxValue?: number; rate?: number; axis?: number | number[] }) => new MinMaxNorm(opts),
};

/** Case and underscores ignored: 'max_norm', 'maxNorm' and 'MaxNorm' meet. */
const resolve = factoryResolver<Constraint>('getConstraint', 'constraint', 'a constraint name, a Constraint', constraints);

/**
 * A constraint from a name ('maxNorm', 'nonNeg', 'unitNorm', 'minMaxNorm' or Keras's snake_case
 * and class names; default options), a Constraint (returned as it is) or a config as getConfig()
 * returns it (Keras's snake_case option names such as max_value are accepted).
 * @example getConstraint({ className: 'MaxNorm', config: { maxValue: 3, axis: [0, 1, 2] } })
 */
export function getConstraint(id: string | Constraint | ClassConfig): Constraint {
  return id instanceof Constraint ? id : resolve(id);
}
