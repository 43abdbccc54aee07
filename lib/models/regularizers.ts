// Weight regularizers (Keras 3): a symbolic scalar penalty computed from a weight, which the
// model adds to the training loss so that its gradient flows into the weight's update.
import { isFloat } from '../dtype';
import { argError, dtypeError, fmtValue } from '../errors';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';

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
  getConfig(): { className: string; config: Record<string, unknown> } {
    return { className: this.className, config: this.params() };
  }
}

function checkOptions(op: string, opts: unknown, allowed: string[]): Record<string, unknown> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw argError(op, `options must be an object, got ${fmtValue(opts)}`);
  for (const k of Object.keys(opts))
    if (!allowed.includes(k)) throw argError(op, `unknown option ${JSON.stringify(k)}; valid options: ${allowed.join(', ')}`);
  return opts as Record<string, unknown>;
}

/** A penalty factor: a finite number >= 0, as Keras requires. */
function factor(op: string, what: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw argError(op, `${what} must be a finite number >= 0, got ${fmtValue(v)}`);
  return v;
}

function checkWeight(op: string, w: unknown): Variable {
  if (!(w instanceof Variable)) throw argError(op, `expected a symbolic weight (a Variable, e.g. a shared variable), got ${fmtValue(w)}`);
  if (!isFloat(w.dtype)) throw dtypeError(op, `the weight ${w.describe()} must be float32 or float64`);
  return w;
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

type Factory = (opts?: Record<string, unknown>) => Regularizer;
const FACTORIES = regularizers as unknown as Record<string, Factory>;
/** Case and underscores ignored: 'l1_l2', 'l1l2' and 'L1L2' meet. */
const keyOf = (name: string) => name.replace(/_/g, '').toLowerCase();

/**
 * A regularizer from a name ('l1', 'l2', 'l1l2' or Keras's 'l1_l2', 'L1L2'; default factors), a
 * Regularizer (returned as it is) or a config as getConfig() returns it.
 * @example getRegularizer({ className: 'L2', config: { l2: 1e-4 } })
 */
export function getRegularizer(id: string | Regularizer | { className: string; config?: Record<string, unknown> }): Regularizer {
  const op = 'getRegularizer';
  if (id instanceof Regularizer) return id;
  let name: unknown, cfg: unknown;
  if (typeof id === 'string') name = id;
  else if (id !== null && typeof id === 'object' && !Array.isArray(id)) {
    const raw = id as unknown as Record<string, unknown>;
    name = raw.className ?? raw.class_name;
    cfg = raw.config;
    if (typeof name !== 'string') throw argError(op, `a config needs a className string, got ${fmtValue(name)}`);
    if (cfg !== undefined && (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)))
      throw argError(op, `config of ${name} must be an object, got ${fmtValue(cfg)}`);
  } else throw argError(op, `expected a regularizer name, a Regularizer or a { className, config } object, got ${fmtValue(id)}`);
  const hit = Object.keys(FACTORIES).find((n) => keyOf(n) === keyOf(name as string));
  if (!hit) throw argError(op, `unknown regularizer ${JSON.stringify(name)}; valid names: ${Object.keys(FACTORIES).join(', ')}`);
  return FACTORIES[hit](cfg as Record<string, unknown> | undefined);
}
