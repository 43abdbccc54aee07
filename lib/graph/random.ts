// Random streams inside graphs (Theano's RandomStreams).  A stream's state — [seed, call number] —
// is a float64 shared variable; every draw reads it, and every compiled function that draws from
// the stream advances the call number by one per call (an update fn() adds by itself).  Each draw
// of a stream owns a disjoint range of Philox counters, so draws never repeat one another, and
// element i of a draw depends only on (seed, call, draw, i): any thread count gives the same bits.
import { DType, isDType } from '../dtype';
import { argError, checkOptionKeys, dtypeError, fmtValue, shapeError } from '../errors';
import { Op as NativeOp } from '../ops.generated';
import type { Emitter, Val } from '../tensor/emitter';
import { tensor } from '../tensor/creation';
import { Apply, Constant, Dim, Op, VarType, Variable, applyOp1 } from './variable';
import { ShapeArg, parseShape } from './symbolic-shape';
import { knownInts } from './ops/shape-values';
import { SharedVariable, shared } from './shared';
import { toposort } from './traverse';
import { ew } from './ops/elemwise';
import { Cast } from './ops/shape';

/** Elements each draw may use: draw k of a stream reads Philox counters from k·2^36 on. */
const DRAW_SPAN = 2 ** 36;
const MAX_DRAWS = Math.floor(Number.MAX_SAFE_INTEGER / DRAW_SPAN);

/** A draw from a stream: uniform in [p0, p1) or normal(p0, p1); shaped statically or by an int32 shape vector. */
export class RandomDraw extends Op {
  readonly name: string;
  constructor(
    readonly dist: 'uniform' | 'normal',
    readonly p0: number,
    readonly p1: number,
    readonly dtype: DType,
    /** The static shape, or null when the shape is the value of the second input (x.shape …). */
    readonly shape: number[] | null,
    /** First Philox counter of this draw. */
    readonly offset: number,
  ) {
    super();
    this.name = dist === 'uniform' ? 'randomUniform' : 'randomNormal';
  }
  override props() {
    return [this.dist, this.p0, this.p1, this.dtype, this.shape, this.offset];
  }
  infer([state, dims]: VarType[]): VarType[] {
    if (state.dtype !== 'float64' || state.shape.length !== 1 || (state.shape[0] !== null && state.shape[0] !== 2))
      throw dtypeError(this.name, 'the stream state must be a float64 vector of 2 elements');
    if (this.shape) return [{ dtype: this.dtype, shape: this.shape.slice() }];
    const shape: Dim[] = dims.known?.slice() ?? new Array<Dim>(dims.shape[0] ?? 0).fill(null);
    if (shape.some((d) => d !== null && !(Number.isInteger(d) && d >= 0))) throw shapeError(this.name, `bad shape [${shape.join(', ')}]`);
    return [{ dtype: this.dtype, shape }];
  }
  lower<V extends Val>(em: Emitter<V>, [state, dims]: V[]): V[] {
    const shape = this.shape ?? knownInts(this.name, dims);
    const op = this.dist === 'uniform' ? NativeOp.RANDOM_UNIFORM : NativeOp.RANDOM_NORMAL;
    return em.emit(this.name, op, [state], [{ dtype: this.dtype, shape }], [this.offset], [this.p0, this.p1]);
  }
  /** Draws are constants to the gradient. */
  override grad(node: Apply): (Variable | null)[] {
    return node.inputs.map(() => null);
  }
}

export type { ShapeArg };

function checkNumber(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw argError(op, `${what} must be a finite number, got ${fmtValue(v)}`);
  return v;
}

/**
 * Theano's RandomStreams: symbolic draws whose numbers change on every call of a compiled
 * function and replay exactly after `seed(n)`.
 * @example
 *   const rs = st.randomStreams(42);
 *   const x = T.matrix('x');
 *   const dropped = x.mul(rs.uniform(x.shape).greater(0.5)).div(0.5);
 */
export class RandomStreams {
  /** [seed, call number], advanced by every call of a function that draws from this stream. */
  readonly state: SharedVariable;
  private draws = 0;

  constructor(seed = 0) {
    this.state = shared(tensor([RandomStreams.checkSeed(seed), 0], { dtype: 'float64' }), 'randomStreams.state');
  }

  private static checkSeed(seed: number): number {
    if (!Number.isSafeInteger(seed) || seed < 0) throw argError('randomStreams', `seed must be a non-negative integer up to 2^53 - 1, got ${fmtValue(seed)}`);
    return seed;
  }

  /** Restarts the stream: the calls that follow draw the same numbers as after the first seeding with n. */
  seed(n: number): void {
    this.state.set(tensor([RandomStreams.checkSeed(n), 0], { dtype: 'float64' }));
  }

  private draw(op: string, dist: 'uniform' | 'normal', shape: ShapeArg, p0: number, p1: number, dtype: DType): Variable {
    if (!isDType(dtype)) throw dtypeError(op, `unknown dtype ${fmtValue(dtype)}`);
    const parsed = parseShape(op, shape);
    if (this.draws >= MAX_DRAWS) throw argError(op, `a stream gives at most ${MAX_DRAWS} draws; create another with st.randomStreams(seed)`);
    const offset = this.draws * DRAW_SPAN;
    this.draws++;
    if (parsed.numbers) return applyOp1(new RandomDraw(dist, p0, p1, dtype, parsed.numbers, offset), [this.state]);
    return applyOp1(new RandomDraw(dist, p0, p1, dtype, null, offset), [this.state, parsed.vector()]);
  }

  /** Uniform samples in [low, high). */
  uniform(shape: ShapeArg, options?: { low?: number; high?: number; dtype?: DType }): Variable {
    const opts = checkOptionKeys('uniform', options, ['low', 'high', 'dtype']) as { low?: number; high?: number; dtype?: DType };
    const low = checkNumber('uniform', 'low', opts.low ?? 0), high = checkNumber('uniform', 'high', opts.high ?? 1);
    if (!(low <= high)) throw argError('uniform', `low (${low}) must not exceed high (${high})`);
    const dtype = opts.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw dtypeError('uniform', `uniform samples need a float dtype, got ${fmtValue(dtype)} (use randint for integers)`);
    return this.draw('uniform', 'uniform', shape, low, high, dtype);
  }

  /** Normal samples with the given mean and standard deviation. */
  normal(shape: ShapeArg, options?: { mean?: number; stddev?: number; dtype?: DType }): Variable {
    const opts = checkOptionKeys('normal', options, ['mean', 'stddev', 'dtype']) as { mean?: number; stddev?: number; dtype?: DType };
    const mean = checkNumber('normal', 'mean', opts.mean ?? 0), stddev = checkNumber('normal', 'stddev', opts.stddev ?? 1);
    if (!(stddev >= 0)) throw argError('normal', `stddev must be >= 0, got ${stddev}`);
    const dtype = opts.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw dtypeError('normal', `normal samples need a float dtype, got ${fmtValue(dtype)}`);
    return this.draw('normal', 'normal', shape, mean, stddev, dtype);
  }

  /** Integers uniform in [low, high), int32. */
  randint(shape: ShapeArg, low: number, high: number): Variable {
    if (!Number.isInteger(low) || !Number.isInteger(high) || !(low < high) || low < -(2 ** 31) || high > 2 ** 31)
      throw argError('randint', `low and high must be int32 integers with low < high, got ${fmtValue(low)} and ${fmtValue(high)}`);
    return this.draw('randint', 'uniform', shape, low, high, 'int32');
  }

  /** 1 with probability p, else 0 (dtype float32 unless given; 'bool' allowed). */
  bernoulli(shape: ShapeArg, p = 0.5, dtype: DType = 'float32'): Variable {
    checkNumber('bernoulli', 'p', p);
    if (p < 0 || p > 1) throw argError('bernoulli', `p must be in [0, 1], got ${p}`);
    if (!isDType(dtype)) throw dtypeError('bernoulli', `unknown dtype ${fmtValue(dtype)}`);
    const hit = ew('less', [this.draw('bernoulli', 'uniform', shape, 0, 1, 'float64'), p]);
    return dtype === 'bool' ? hit : applyOp1(new Cast(dtype), [hit]);
  }

  /**
   * Inverted dropout's mask: 0 with probability `rate`, else 1 / (1 - rate), so `x.mul(mask)` keeps
   * the expected value of x.
   */
  dropoutMask(shape: ShapeArg, rate: number, dtype: 'float32' | 'float64' = 'float32'): Variable {
    checkNumber('dropoutMask', 'rate', rate);
    if (rate < 0 || rate >= 1) throw argError('dropoutMask', `rate must be in [0, 1), got ${rate}`);
    if (dtype !== 'float32' && dtype !== 'float64') throw dtypeError('dropoutMask', `dtype must be 'float32' or 'float64', got ${fmtValue(dtype)}`);
    const keep = this.bernoulli(shape, 1 - rate, dtype);
    return rate === 0 ? keep : ew('mul', [keep, 1 / (1 - rate)]);
  }
}

/**
 * A random stream for symbolic graphs (Theano's RandomStreams).
 * @example const rs = st.randomStreams(1); const noise = rs.normal([64, 10], { stddev: 0.1 });
 */
export function randomStreams(seed = 0): RandomStreams {
  return new RandomStreams(seed);
}

/**
 * The updates that advance the streams the graph draws from (state + [0, 1]), for every stream
 * whose state is not already updated by the caller.
 */
export function randomStateUpdates(roots: Variable[], updated: Set<SharedVariable>): [SharedVariable, Variable][] {
  const states = new Set<SharedVariable>();
  for (const node of toposort(roots)) {
    const s = node.inputs[0];
    if (node.op instanceof RandomDraw && s instanceof SharedVariable && !updated.has(s)) states.add(s);
  }
  return [...states].map((s) => [s, ew('add', [s, new Constant(tensor([0, 1], { dtype: 'float64' }))])]);
}
