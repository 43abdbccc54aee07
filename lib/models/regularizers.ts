// Weight regularizers (Keras 3): a symbolic scalar penalty computed from a weight, which the
// model adds to the training loss so that its gradient flows into the weight's update.
import { argError, fmtValue } from '../errors';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';
import { ClassConfig, checkOptions, checkWeight, factoryResolver } from './options';

/**
 * A penalty on a weight's value (Keras's Regularizer).  call() builds the symbolic scalar; the
 * model sums the penalties of every regularized weight into its loss.
 */
export abstract class Regularizer {
  /** Keras's class name ('L1', 'L2', 'L1L2'), used in configs. */
  abstract readonly className: string;
  /** The penalty for weight `w`: a scalar Variable of w's dtype. */
  abstract call(w: Variable): Variable;
  /** The constructor options. */
  protected abstract params(): Record<string, unknown>;
  /** The class name and options, as getRegularizer() takes them back (what saved models store). */
  getConfig(): { className: string; config: Record<string, unknown> } {
    return { className: this.className, config: this.params() };
  }
}

/** A penalty factor: a finite number >= 0, as Keras requires. */
function factor(op: string, what: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw argError(op, `${what} must be a finite number >= 0, got ${fmtValue(v)}`);
  return v;
}

/** l1·Σ|w| + l2·Σw², leaving out a term whose factor is 0 (both 0 gives a constant 0). */
function penalty(w: Variable, l1: number, l2: number): Variable {
  const terms: Variable[] = [];
  if (l1) terms.push(T.mul(T.sum(T.abs(w)), l1));
  if (l2) terms.push(T.mul(T.sum(T.square(w)), l2));
  if (!terms.length) return T.constant(0, undefined, w.dtype);
  return terms.length === 1 ? terms[0] : T.add(terms[0], terms[1]);
}

/** l1 · sum(|w|) (Keras's L1; default l1 = 0.01). */
export class L1 extends Regularizer {
  readonly className = 'L1';
  readonly l1: number;
  constructor(opts: { l1?: number } = {}) {
    super();
    this.l1 = factor('L1', 'l1', checkOptions('L1', opts, ['l1']).l1, 0.01);
  }
  call(w: Variable): Variable {
    return penalty(checkWeight('L1', w), this.l1, 0);
  }
  protected params() {
    return { l1: this.l1 };
  }
}

/** l2 · sum(w²) (Keras's L2, weight decay; default l2 = 0.01). */
export class L2 extends Regularizer {
  readonly className = 'L2';
  readonly l2: number;
  constructor(opts: { l2?: number } = {}) {
    super();
    this.l2 = factor('L2', 'l2', checkOptions('L2', opts, ['l2']).l2, 0.01);
  }
  call(w: Variable): Variable {
    return penalty(checkWeight('L2', w), 0, this.l2);
  }
  protected params() {
    return { l2: this.l2 };
  }
}

/** l1 · sum(|w|) + l2 · sum(w²) (Keras's L1L2; both factors default to 0, as in Keras 3). */
export class L1L2 extends Regularizer {
  readonly className = 'L1L2';
  readonly l1: number;
  readonly l2: number;
  constructor(opts: { l1?: number; l2?: number } = {}) {
    super();
    const o = checkOptions('L1L2', opts, ['l1', 'l2']);
    this.l1 = factor('L1L2', 'l1', o.l1, 0);
    this.l2 = factor('L1L2', 'l2', o.l2, 0);
  }
  call(w: Variable): Variable {
    return penalty(checkWeight('L1L2', w), this.l1, this.l2);
  }
  protected params() {
    return { l1: this.l1, l2: this.l2 };
  }
}

/**
 * The regularizers by Keras's names, as factories.
 * @example st.layers.dense({ units: 10, kernelRegularizer: regularizers.l2({ l2: 1e-4 }) })
 */
export const regularizers = {
  l1: (opts?: { l1?: number }) => new L1(opts),
  l2: (opts?: { l2?: number }) => new L2(opts),
  l1l2: (opts?: { l1?: number; l2?: number }) => new L1L2(opts),
};

/** Case and underscores ignored: 'l1_l2', 'l1l2' and 'L1L2' meet; config keys (l1, l2) are the same in both spellings. */
const resolve = factoryResolver<Regularizer>('getRegularizer', 'regularizer', 'a regularizer name, a Regularizer', regularizers, { camelKeys: false });

/**
 * A regularizer from a name ('l1', 'l2', 'l1l2' or Keras's 'l1_l2', 'L1L2'; default factors), a
 * Regularizer (returned as it is) or a config as getConfig() returns it.
 * @example getRegularizer({ className: 'L2', config: { l2: 1e-4 } })
 */
export function getRegularizer(id: string | Regularizer | ClassConfig): Regularizer {
  return id instanceof Regularizer ? id : resolve(id);
}
