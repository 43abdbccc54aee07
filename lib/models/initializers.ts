// Weight initializers with Keras 3's semantics.  They run eagerly (a layer's build() turns the
// returned tensor into a shared variable), draw from the native counter-based generator, and are
// deterministic given a seed: an initializer with a seed returns the same tensor on every call;
// one without takes a fresh seed from the global sequence (lib/models/seed.ts) on each call.
import { DType, isDType } from '../dtype';
import { SymtensorError, argError, dtypeError, fmtShape, fmtValue, shapeError } from '../errors';
import { eye, full, randomNormal, randomUniform, tensor } from '../tensor/creation';
import { checkShape, sizeOf } from '../tensor/shape-util';
import { Tensor } from '../tensor/tensor';
import { ClassConfig, checkOptions, factoryResolver, nameKey, numberOr as num } from './options';
import { deriveSeed, nextSeed, optionalSeed } from './seed';

/** What getConfig returns and getInitializer accepts: Keras's class name and constructor options. */
export interface InitializerConfig {
  className: string;
  config: Record<string, unknown>;
}

/**
 * Makes a tensor of a given shape, the starting value of a weight (Keras's Initializer).
 * Subclasses implement call(); getConfig() gives what getInitializer() needs to rebuild them.
 */
export abstract class Initializer {
  /** Keras's class name ('GlorotUniform' …), used in configs. */
  abstract readonly className: string;
  /** A new tensor of `shape` and `dtype` (float32 by default). */
  abstract call(shape: number[], dtype?: DType): Tensor;
  /** The constructor options, camelCase; JSON-serializable. */
  protected params(): Record<string, unknown> {
    return {};
  }
  /** The class name and options, as getInitializer() takes them back (what saved models store). */
  getConfig(): InitializerConfig {
    return { className: this.className, config: this.params() };
  }
  /**
   * A new tensor, with a seed for this draw only (initializers without randomness ignore it).
   * @example const w = st.initializers.heNormal().apply([784, 512], { seed: 1 });
   */
  apply(shape: number[], opts: { seed?: number; dtype?: DType } = {}): Tensor {
    const config = this.params();
    if (opts.seed === undefined || !('seed' in config)) return this.call(shape, opts.dtype);
    return getInitializer({ className: this.className, config: { ...config, seed: opts.seed } }).call(shape, opts.dtype);
  }
}

// ---- option checks ----
/** The shape and dtype of a call, checked; random initializers need a float dtype. */
function callArgs(op: string, shape: unknown, dtype: unknown, floatOnly: boolean): [number[], DType] {
  const s = checkShape(op, shape);
  const d = dtype ?? 'float32';
  if (!isDType(d)) throw dtypeError(op, `unknown dtype ${fmtValue(d)} (use float32, float64, int32 or bool)`);
  if (floatOnly && d !== 'float32' && d !== 'float64') throw dtypeError(op, `random values need a float dtype (float32 or float64), got ${d}`);
  return [s, d];
}

// ---- constants ----
/** All zeros (Keras's Zeros). */
export class Zeros extends Initializer {
  readonly className = 'Zeros';
  constructor(opts: Record<string, never> = {}) {
    super();
    checkOptions('Zeros', opts, []);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, false);
    return full(s, 0, d);
  }
}

/** All ones (Keras's Ones). */
export class Ones extends Initializer {
  readonly className = 'Ones';
  constructor(opts: Record<string, never> = {}) {
    super();
    checkOptions('Ones', opts, []);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, false);
    return full(s, 1, d);
  }
}

/** Every element `value` (Keras's Constant, default 0). */
export class Constant extends Initializer {
  readonly className = 'Constant';
  readonly value: number;
  constructor(opts: { value?: number } = {}) {
    super();
    const o = checkOptions('Constant', opts, ['value']);
    this.value = num('Constant', 'value', o.value, 0);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, false);
    return full(s, this.value, d);
  }
  protected override params() {
    return { value: this.value };
  }
}

/** `gain` times the identity matrix; 2-D shapes only, which may be non-square (Keras's Identity). */
export class Identity extends Initializer {
  readonly className = 'Identity';
  readonly gain: number;
  constructor(opts: { gain?: number } = {}) {
    super();
    const o = checkOptions('Identity', opts, ['gain']);
    this.gain = num('Identity', 'gain', o.gain, 1);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, false);
    if (s.length !== 2) throw shapeError(this.className, `needs a 2-D shape, got ${fmtShape(s)}`, [s]);
    if (this.gain === 1) return eye(s[0], s[1], { dtype: d });
    const values = new Float64Array(sizeOf(s));
    for (let i = 0; i < Math.min(s[0], s[1]); i++) values[i * s[1] + i] = this.gain;
    return tensor(values, { shape: s, dtype: 'float64' }).cast(d);
  }
  protected override params() {
    return { gain: this.gain };
  }
}

// ---- random ----
/** Normal values (Keras's RandomNormal: mean 0, stddev 0.05). */
export class RandomNormal extends Initializer {
  readonly className = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;
  readonly seed: number | undefined;
  constructor(opts: { mean?: number; stddev?: number; seed?: number | null } = {}) {
    super();
    const o = checkOptions('RandomNormal', opts, ['mean', 'stddev', 'seed']);
    this.mean = num('RandomNormal', 'mean', o.mean, 0);
    this.stddev = num('RandomNormal', 'stddev', o.stddev, 0.05);
    if (this.stddev < 0) throw argError('RandomNormal', `stddev must be >= 0, got ${this.stddev}`);
    this.seed = optionalSeed('RandomNormal', o.seed);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, true);
    return randomNormal(s, { mean: this.mean, stddev: this.stddev, dtype: d, seed: this.seed ?? nextSeed() });
  }
  protected override params() {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed ?? null };
  }
}

/** Uniform values in [minval, maxval) (Keras's RandomUniform: -0.05 to 0.05). */
export class RandomUniform extends Initializer {
  readonly className = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;
  readonly seed: number | undefined;
  constructor(opts: { minval?: number; maxval?: number; seed?: number | null } = {}) {
    super();
    const o = checkOptions('RandomUniform', opts, ['minval', 'maxval', 'seed']);
    this.minval = num('RandomUniform', 'minval', o.minval, -0.05);
    this.maxval = num('RandomUniform', 'maxval', o.maxval, 0.05);
    if (this.minval > this.maxval) throw argError('RandomUniform', `minval (${this.minval}) must not exceed maxval (${this.maxval})`);
    this.seed = optionalSeed('RandomUniform', o.seed);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, true);
    return randomUniform(s, { low: this.minval, high: this.maxval, dtype: d, seed: this.seed ?? nextSeed() });
  }
  protected override params() {
    return { minval: this.minval, maxval: this.maxval, seed: this.seed ?? null };
  }
}

/**
 * Normal values with those more than 2 stddev from the mean drawn again, so every value lies in
 * [mean - 2 stddev, mean + 2 stddev].  Each redraw round uses a seed derived from the first, so
 * the result depends only on the seed.
 */
function truncatedNormal(shape: number[], mean: number, stddev: number, dtype: DType, seed: number): Tensor {
  const n = sizeOf(shape);
  const first = randomNormal([n], { dtype: 'float64', seed });
  const z = Float64Array.from(first.dataSync() as Float64Array);
  first.dispose();
  let redo: number[] = [];
  for (let i = 0; i < n; i++) if (!(Math.abs(z[i]) <= 2)) redo.push(i);
  // about 4.6% of the values go to each next round, so a handful of rounds finish any size
  for (let round = 1; redo.length; round++) {
    const again = randomNormal([redo.length], { dtype: 'float64', seed: deriveSeed(seed, round) });
    const fresh = again.dataSync() as Float64Array;
    const still: number[] = [];
    for (let j = 0; j < redo.length; j++) {
      if (Math.abs(fresh[j]) <= 2) z[redo[j]] = fresh[j];
      else still.push(redo[j]);
    }
    again.dispose();
    redo = still;
  }
  for (let i = 0; i < n; i++) z[i] = mean + stddev * z[i];
  return tensor(z, { shape, dtype });
}

/** Normal values redrawn beyond 2 stddev (Keras's TruncatedNormal: mean 0, stddev 0.05). */
export class TruncatedNormal extends Initializer {
  readonly className = 'TruncatedNormal';
  readonly mean: number;
  readonly stddev: number;
  readonly seed: number | undefined;
  constructor(opts: { mean?: number; stddev?: number; seed?: number | null } = {}) {
    super();
    const o = checkOptions('TruncatedNormal', opts, ['mean', 'stddev', 'seed']);
    this.mean = num('TruncatedNormal', 'mean', o.mean, 0);
    this.stddev = num('TruncatedNormal', 'stddev', o.stddev, 0.05);
    if (this.stddev < 0) throw argError('TruncatedNormal', `stddev must be >= 0, got ${this.stddev}`);
    this.seed = optionalSeed('TruncatedNormal', o.seed);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, true);
    return truncatedNormal(s, this.mean, this.stddev, d, this.seed ?? nextSeed());
  }
  protected override params() {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed ?? null };
  }
}

/**
 * Fan-in and fan-out of a weight shape, by Keras's rules: a dense kernel [in, out]; a convolution
 * kernel [...receptive field, in, out] (channels-last, e.g. conv2d's [kh, kw, cin, cout]) counts
 * each input and output channel once per receptive-field position; a vector counts its length for
 * both, a scalar 1.
 * @example computeFans([3, 3, 16, 32]) // { fanIn: 144, fanOut: 288 }
 */
export function computeFans(shape: number[]): { fanIn: number; fanOut: number } {
  const s = checkShape('computeFans', shape);
  if (s.length === 0) return { fanIn: 1, fanOut: 1 };
  if (s.length === 1) return { fanIn: s[0], fanOut: s[0] };
  const receptive = sizeOf(s.slice(0, -2));
  return { fanIn: s[s.length - 2] * receptive, fanOut: s[s.length - 1] * receptive };
}

/** Which fan VarianceScaling divides by: fanIn, fanOut or their mean. */
export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
/** VarianceScaling's distributions (the truncated normal is redrawn beyond 2 stddev). */
export type ScalingDistribution = 'truncatedNormal' | 'untruncatedNormal' | 'uniform';

const MODES: Record<string, FanMode> = { fanin: 'fanIn', fanout: 'fanOut', fanavg: 'fanAvg' };
// 'normal' is tfjs's and Keras 2's name for the truncated normal
const DISTRIBUTIONS: Record<string, ScalingDistribution> = {
  truncatednormal: 'truncatedNormal', normal: 'truncatedNormal', untruncatednormal: 'untruncatedNormal', uniform: 'uniform',
};

function pick<V>(op: string, what: string, v: unknown, table: Record<string, V>, valid: string[]): V {
  const hit = typeof v === 'string' ? table[nameKey(v)] : undefined;
  if (hit === undefined) throw argError(op, `unknown ${what} ${fmtValue(v)}; valid: ${valid.join(', ')}`);
  return hit;
}

/** The stddev of a standard normal truncated to [-2, 2] (Keras's constant). */
const TRUNCATED_STDDEV = 0.87962566103423978;

/**
 * Values whose variance is scale / n, n the fan-in, fan-out or their mean (Keras's
 * VarianceScaling): uniform in [-limit, limit] with limit = sqrt(3 scale / n), or normal with
 * stddev sqrt(scale / n) (the truncated normal is widened by 1/0.8796 so its variance is still
 * scale / n).  Defaults: scale 1, mode 'fanIn', distribution 'truncatedNormal'; snake_case names
 * ('fan_avg', 'truncated_normal') are accepted too.
 * @example new VarianceScaling({ scale: 2, mode: 'fanIn', distribution: 'uniform' }).call([256, 128])
 */
export class VarianceScaling extends Initializer {
  readonly className: string = 'VarianceScaling';
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: ScalingDistribution;
  readonly seed: number | undefined;
  constructor(opts: { scale?: number; mode?: string; distribution?: string; seed?: number | null } = {}, op = 'VarianceScaling') {
    super();
    const o = checkOptions(op, opts, ['scale', 'mode', 'distribution', 'seed']);
    this.scale = num(op, 'scale', o.scale, 1);
    if (!(this.scale > 0)) throw argError(op, `scale must be positive, got ${this.scale}`);
    this.mode = o.mode === undefined ? 'fanIn' : pick(op, 'mode', o.mode, MODES, ['fanIn', 'fanOut', 'fanAvg']);
    this.distribution = o.distribution === undefined ? 'truncatedNormal'
      : pick(op, 'distribution', o.distribution, DISTRIBUTIONS, ['truncatedNormal', 'untruncatedNormal', 'uniform']);
    this.seed = optionalSeed(op, o.seed);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, true);
    const { fanIn, fanOut } = computeFans(s);
    const n = this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
    const scale = this.scale / Math.max(1, n);
    const seed = this.seed ?? nextSeed();
    if (this.distribution === 'truncatedNormal') return truncatedNormal(s, 0, Math.sqrt(scale) / TRUNCATED_STDDEV, d, seed);
    if (this.distribution === 'untruncatedNormal') return randomNormal(s, { mean: 0, stddev: Math.sqrt(scale), dtype: d, seed });
    const limit = Math.sqrt(3 * scale);
    return randomUniform(s, { low: -limit, high: limit, dtype: d, seed });
  }
  protected override params(): Record<string, unknown> {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed ?? null };
  }
}

/** A VarianceScaling with fixed settings, whose config is only its seed (Glorot, He, LeCun). */
abstract class ScalingPreset extends VarianceScaling {
  constructor(op: string, opts: { seed?: number | null } | undefined, scale: number, mode: FanMode, distribution: ScalingDistribution) {
    const o = checkOptions(op, opts, ['seed']);
    super({ scale, mode, distribution, seed: o.seed as number | null | undefined }, op);
  }
  protected override params(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

/** Uniform in ±sqrt(6 / (fanIn + fanOut)) (Keras's default kernel initializer). */
export class GlorotUniform extends ScalingPreset {
  override readonly className = 'GlorotUniform';
  constructor(opts: { seed?: number | null } = {}) {
    super('GlorotUniform', opts, 1, 'fanAvg', 'uniform');
  }
}
/** Truncated normal with stddev sqrt(2 / (fanIn + fanOut)). */
export class GlorotNormal extends ScalingPreset {
  override readonly className = 'GlorotNormal';
  constructor(opts: { seed?: number | null } = {}) {
    super('GlorotNormal', opts, 1, 'fanAvg', 'truncatedNormal');
  }
}
/** Uniform in ±sqrt(6 / fanIn), for ReLU networks. */
export class HeUniform extends ScalingPreset {
  override readonly className = 'HeUniform';
  constructor(opts: { seed?: number | null } = {}) {
    super('HeUniform', opts, 2, 'fanIn', 'uniform');
  }
}
/** Truncated normal with stddev sqrt(2 / fanIn), for ReLU networks. */
export class HeNormal extends ScalingPreset {
  override readonly className = 'HeNormal';
  constructor(opts: { seed?: number | null } = {}) {
    super('HeNormal', opts, 2, 'fanIn', 'truncatedNormal');
  }
}
/** Uniform in ±sqrt(3 / fanIn), for SELU networks. */
export class LecunUniform extends ScalingPreset {
  override readonly className = 'LecunUniform';
  constructor(opts: { seed?: number | null } = {}) {
    super('LecunUniform', opts, 1, 'fanIn', 'uniform');
  }
}
/** Truncated normal with stddev sqrt(1 / fanIn), for SELU networks. */
export class LecunNormal extends ScalingPreset {
  override readonly className = 'LecunNormal';
  constructor(opts: { seed?: number | null } = {}) {
    super('LecunNormal', opts, 1, 'fanIn', 'truncatedNormal');
  }
}

/**
 * Q of the QR decomposition of an m×k normal matrix (m >= k), as k columns, by modified
 * Gram-Schmidt with a second pass where cancellation was large ("twice is enough").  Gram-Schmidt
 * gives R a positive diagonal, so Q is already the sign-corrected factor Keras asks for.
 */
function orthonormalColumns(op: string, a: Float64Array, m: number, k: number): Float64Array[] {
  const q: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = a[i * k + j];
    let before = norm(v);
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let r = 0;
        for (let i = 0; i < m; i++) r += u[i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= r * u[i];
      }
      const after = norm(v);
      if (after > 0.5 * before) break;
      before = after;
    }
    const len = norm(v);
    if (!(len > 0)) throw new SymtensorError('ERR_ST_INTERNAL', op, `the normal draw was rank-deficient at column ${j}`);
    for (let i = 0; i < m; i++) v[i] /= len;
    q.push(v);
  }
  return q;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * A (semi-)orthogonal matrix times `gain` (Keras's Orthogonal): the shape is read as
 * [prod(shape[:-1]), shape[-1]]; its rows are orthonormal when there are fewer rows than columns,
 * else its columns.  Needs rank >= 2.
 */
export class Orthogonal extends Initializer {
  readonly className = 'Orthogonal';
  readonly gain: number;
  readonly seed: number | undefined;
  constructor(opts: { gain?: number; seed?: number | null } = {}) {
    super();
    const o = checkOptions('Orthogonal', opts, ['gain', 'seed']);
    this.gain = num('Orthogonal', 'gain', o.gain, 1);
    this.seed = optionalSeed('Orthogonal', o.seed);
  }
  call(shape: number[], dtype?: DType): Tensor {
    const [s, d] = callArgs(this.className, shape, dtype, true);
    if (s.length < 2) throw shapeError(this.className, `needs a shape of rank 2 or more, got ${fmtShape(s)}`, [s]);
    const rows = sizeOf(s.slice(0, -1)), cols = s[s.length - 1];
    const seed = this.seed ?? nextSeed();
    if (rows === 0 || cols === 0) return full(s, 0, d);
    const m = Math.max(rows, cols), k = Math.min(rows, cols);
    const draw = randomNormal([m, k], { dtype: 'float64', seed });
    const q = orthonormalColumns(this.className, draw.dataSync() as Float64Array, m, k);
    draw.dispose();
    const out = new Float64Array(rows * cols);
    // tall: out[i, j] = q_j[i]; wide: the transpose, out[i, j] = q_i[j]
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) out[i * cols + j] = this.gain * (rows >= cols ? q[j][i] : q[i][j]);
    return tensor(out, { shape: s, dtype: d });
  }
  protected override params() {
    return { gain: this.gain, seed: this.seed ?? null };
  }
}

// ---- factories and lookup ----
/**
 * The initializers by Keras's names, as factories.
 * @example const init = initializers.heNormal({ seed: 1 }); const w = init.call([3, 3, 16, 32]);
 */
export const initializers = {
  glorotUniform: (opts?: { seed?: number | null }) => new GlorotUniform(opts),
  glorotNormal: (opts?: { seed?: number | null }) => new GlorotNormal(opts),
  heUniform: (opts?: { seed?: number | null }) => new HeUniform(opts),
  heNormal: (opts?: { seed?: number | null }) => new HeNormal(opts),
  lecunUniform: (opts?: { seed?: number | null }) => new LecunUniform(opts),
  lecunNormal: (opts?: { seed?: number | null }) => new LecunNormal(opts),
  zeros: (opts?: Record<string, never>) => new Zeros(opts),
  ones: (opts?: Record<string, never>) => new Ones(opts),
  constant: (opts?: { value?: number }) => new Constant(opts),
  randomNormal: (opts?: { mean?: number; stddev?: number; seed?: number | null }) => new RandomNormal(opts),
  randomUniform: (opts?: { minval?: number; maxval?: number; seed?: number | null }) => new RandomUniform(opts),
  truncatedNormal: (opts?: { mean?: number; stddev?: number; seed?: number | null }) => new TruncatedNormal(opts),
  orthogonal: (opts?: { gain?: number; seed?: number | null }) => new Orthogonal(opts),
  identity: (opts?: { gain?: number }) => new Identity(opts),
  varianceScaling: (opts?: { scale?: number; mode?: string; distribution?: string; seed?: number | null }) => new VarianceScaling(opts),
};

/** Lookup: case and underscores ignored, so 'glorot_uniform', 'glorotUniform' and 'GlorotUniform' meet. */
const resolve = factoryResolver<Initializer>('getInitializer', 'initializer', 'an initializer name, an Initializer', initializers, {
  // Keras's other names for the same classes
  aliases: [['uniform', 'randomUniform'], ['normal', 'randomNormal'], ['zero', 'zeros'], ['one', 'ones'],
    ['orthogonalInitializer', 'orthogonal'], ['identityInitializer', 'identity']],
});

/**
 * An initializer from a name (camelCase or Keras's snake_case: 'glorotUniform', 'glorot_uniform',
 * 'GlorotUniform'), an Initializer (returned as it is) or a config as getConfig() returns it (Keras's
 * `class_name` and snake_case option names are accepted).
 * @example getInitializer('he_normal'); getInitializer({ className: 'RandomNormal', config: { stddev: 0.1 } })
 */
export function getInitializer(id: string | Initializer | ClassConfig): Initializer {
  return id instanceof Initializer ? id : resolve(id);
}
