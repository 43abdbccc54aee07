// Keras's attention layers: Attention (dot-product or additive "concat" scores of a query sequence
// against a key sequence, weighting a value sequence), MultiHeadAttention (per-head projections,
// scaled dot-product attention, an output projection, with Keras 3's weight shapes), and position
// information for token sequences: PositionalEmbedding (learned token + position embeddings) and
// SinePositionEncoding (fixed sinusoids).
//
// Masks: the Keras masks the query, value and key carry (from embedding({ maskZero: true }) or
// masking() before them) are used as Keras uses them, and a mask may also be an extra input:
// [query, value, key, mask], where mask is [batch, Tv] (a padding mask over the value/key steps)
// or [batch, Tq, Tv] (which value steps each query step may attend to); true or nonzero = attend.
// A causal mask is a constructor option (Keras takes it as a call argument).
import { DType } from '../../dtype';
import { argError, dtypeError, fmtShape, fmtValue, shapeError } from '../../errors';
import { RandomStreams, randomStreams } from '../../graph/random';
import { SharedVariable } from '../../graph/shared';
import * as T from '../../graph/T';
import { Variable } from '../../graph/variable';
import { Initializer, getInitializer } from '../initializers';
import { CallContext, Layer, LayerArgs, Mask, Shape, formatShapes, registerLayer } from '../layer';
import { Constraint } from '../constraints';
import { Regularizer } from '../regularizers';
import { nextSeed, optionalSeed } from '../seed';
import {
  ConstraintId, InitializerId, KernelBiasArgs, RegularizerId, addActivityLoss, asDtype, boolOption, checkLayerOptions, constraintConfig, initializerConfig,
  numberOption, optConstraint, optRegularizer, positiveInt, regularizerConfig,
} from './core';

/** The score given to masked pairs (Keras's value for float32 and float64): softmax weighs them ~0. */
const MASKED_SCORE = -1e9;

// ---- inputs shared by Attention and MultiHeadAttention ----

interface Parts<V> {
  query: V;
  value: V;
  key: V;
  mask: V | null;
}

const INPUT_FORMS = '[query, value], [query, value, key] or [query, value, key, mask]';

/**
 * The query, value, key and mask shapes of a call, checked: three [batch, steps, features]
 * sequences (key defaults to value, and key and value have the same steps), and a mask of
 * [batch, Tv] or [batch, Tq, Tv].
 */
function attentionShapes(layer: string, shapes: Shape | Shape[]): Parts<Shape> {
  const list = shapes as unknown[];
  if (!Array.isArray(list) || list.length < 2 || list.length > 4 || !list.every(Array.isArray))
    throw argError(layer, `expects a list of inputs ${INPUT_FORMS}, got ${Array.isArray(list) && list.every(Array.isArray) ? `${list.length} input(s) ${formatShapes(list as Shape[])}` : `input shape ${fmtValue(shapes)}`}`);
  const s = list as Shape[];
  const p: Parts<Shape> = { query: s[0], value: s[1], key: s[2] ?? s[1], mask: s[3] ?? null };
  const all = formatShapes(s);
  for (const what of ['query', 'value', 'key'] as const)
    if (p[what].length !== 3) throw shapeError(layer, `the ${what} must be [batch, steps, features], got ${fmtShape(p[what])} (inputs ${all})`);
  const same = (a: number | null, b: number | null) => a === null || b === null || a === b;
  const batches = [p.query[0], p.value[0], p.key[0], ...(p.mask ? [p.mask[0]] : [])];
  if (!batches.every((b) => same(b, batches[0]) && batches.every((c) => same(b, c)))) throw shapeError(layer, `the inputs have different batch sizes: ${all}`);
  if (!same(p.key[1], p.value[1])) throw shapeError(layer, `the key and the value must have the same number of steps, got key ${fmtShape(p.key)} and value ${fmtShape(p.value)}`);
  if (p.mask) {
    const m = p.mask;
    const tv = p.key[1] ?? p.value[1];
    const ok = (m.length === 2 && same(m[1], tv)) || (m.length === 3 && same(m[1], p.query[1]) && same(m[2], tv));
    if (!ok)
      throw shapeError(layer, `the mask must be [batch, Tv] = ${fmtShape([p.query[0], tv])} or [batch, Tq, Tv] = ${fmtShape([p.query[0], p.query[1], tv])} (query ${fmtShape(p.query)}, value ${fmtShape(p.value)}), got ${fmtShape(m)}`);
  }
  return p;
}

/** The inputs of a call as Variables: sequences in the layer's dtype, the mask as bool. */
function attentionInputs(layer: Layer, inputs: Variable | Variable[]): Parts<Variable> {
  if (!Array.isArray(inputs)) throw argError(layer.name, `expects a list of inputs ${INPUT_FORMS}, got one input ${fmtShape(inputs.type.shape)}`);
  attentionShapes(layer.name, inputs.map((v) => v.type.shape.slice()));
  const [q, v, k, m] = inputs;
  for (const [what, x] of [['query', q], ['value', v], ['key', k]] as const)
    if (x && x.dtype !== 'float32' && x.dtype !== 'float64') throw dtypeError(layer.name, `the ${what} must be float32 or float64, got ${x.describe()}`);
  const value = asDtype(v, layer.dtype);
  return {
    query: asDtype(q, layer.dtype),
    value,
    key: k ? asDtype(k, layer.dtype) : value,
    mask: m ? (m.dtype === 'bool' ? m : T.notEqual(m, 0)) : null,
  };
}

/**
 * The Keras masks carried by the inputs ([batch, steps] each: query, value, key) folded into the
 * call's attention mask: the value's mask always (Keras's value mask), the key's and the query's
 * too where `queryAndKey` (Keras's MultiHeadAttention).  Returns the parts with that mask and the
 * query's mask (for the output).
 */
function withKerasMasks(layer: string, p: Parts<Variable>, mask: Mask | Mask[] | undefined, queryAndKey: boolean): { parts: Parts<Variable>; queryMask: Variable | null } {
  const list = Array.isArray(mask) ? mask : [mask ?? null];
  const seqs = [['query', p.query], ['value', p.value], ['key', p.key]] as const;
  const [qm, vm, km] = seqs.map(([what, x], i) => {
    const m = list[i] ?? null;
    if (!m) return null;
    const [mb, ms] = m.type.shape, [xb, xs] = x.type.shape;
    if (m.ndim !== 2 || (mb !== null && xb !== null && mb !== xb) || (ms !== null && xs !== null && ms !== xs))
      throw shapeError(layer, `the mask carried by the ${what} must be [batch, steps] = ${fmtShape([xb, xs])}, got ${fmtShape(m.type.shape)}`);
    return m.dtype === 'bool' ? m : T.notEqual(m, 0);
  });
  const terms: Variable[] = [];
  if (p.mask) terms.push(p.mask.ndim === 2 ? T.expandDims(p.mask, 1) : p.mask);
  if (vm) terms.push(T.expandDims(vm, 1));
  if (queryAndKey && km) terms.push(T.expandDims(km, 1));
  if (queryAndKey && qm) terms.push(T.expandDims(qm, 2));
  const combined = terms.length ? terms.reduce((a, b) => T.logicalAnd(a, b)) : null;
  return { parts: { ...p, mask: combined }, queryMask: qm };
}

/** The static size of axis i of x, else its run-time size. */
function dim(x: Variable, i: number): number | Variable {
  return x.type.shape[i] ?? x.shape[i];
}

/**
 * [Tq, Tv] bool: query step i may attend to value steps j <= i (Keras's causal mask; with Tq != Tv
 * the same rule on the indices).
 */
function causalMask(query: Variable, key: Variable): Variable {
  const rows = T.expandDims(T.arange(dim(query, 1)), 1);
  const cols = T.expandDims(T.arange(dim(key, 1)), 0);
  return T.greaterEqual(rows, cols);
}

/**
 * The pairs a query step may attend to, broadcastable to [batch, Tq, Tv] (null for all): the mask
 * input ([batch, Tv] spread over the query steps) and, if asked, the causal mask.
 */
function attendMask(p: Parts<Variable>, causal: boolean): Variable | null {
  const given = p.mask ? (p.mask.ndim === 2 ? T.expandDims(p.mask, 1) : p.mask) : null;
  if (!causal) return given;
  const c = causalMask(p.query, p.key);
  return given ? T.logicalAnd(given, c) : c;
}

/**
 * softmax over the last axis with masked scores replaced by -1e9 (a fully masked row attends
 * uniformly).  The softmax kernel subtracts each row's maximum, so large scores do not overflow.
 */
function maskedSoftmax(scores: Variable, mask: Variable | null): Variable {
  return T.softmax(mask ? T.where(mask, scores, MASKED_SCORE) : scores, -1);
}

/** Inverted dropout of the attention weights in training. */
function dropWeights(stream: RandomStreams, rate: number, w: Variable, ctx: CallContext): Variable {
  if (!ctx.training || rate === 0) return w;
  return T.mul(w, stream.dropoutMask(w.shape, rate, w.dtype as 'float32' | 'float64'));
}

/** A seed option and the random stream made from it (default: the next global seed). */
function seededStream(name: string, seed: unknown): [number | null, RandomStreams] {
  const s = optionalSeed(name, seed) ?? null;
  return [s, randomStreams(s ?? nextSeed())];
}

// ---- Attention ----

/** The options of Attention (Keras's, in camelCase). */
export interface AttentionArgs extends LayerArgs {
  /** Multiply the scores by a learned scalar `scale` (default false). */
  useScale?: boolean;
  /** 'dot' (Luong: query · key) or 'concat' (Bahdanau: sum(tanh(query + key))). Default 'dot'. */
  scoreMode?: 'dot' | 'concat';
  /** Dropout rate of the attention weights in training, in [0, 1) (default 0). */
  dropout?: number;
  /** Seed of the dropout stream (default: the next global seed). */
  seed?: number | null;
  /** Query step i attends only to value steps j <= i (Keras's useCausalMask call argument). */
  useCausalMask?: boolean;
  /** Return [output, weights], the weights [batch, Tq, Tv] before dropout (Keras's returnAttentionScores). */
  returnAttentionScores?: boolean;
}

/**
 * Dot-product attention (Keras's Attention, Luong-style; 'concat' gives Bahdanau-style scores).
 * Inputs [query, value], [query, value, key] (key defaults to value) or [query, value, key, mask]:
 * query [batch, Tq, dim], value [batch, Tv, dv], key [batch, Tv, dim]; the output is
 * softmax(scores) · value, [batch, Tq, dv].  The mask is [batch, Tv] (padding of the value steps)
 * or [batch, Tq, Tv], true or nonzero where attending is allowed.  Keras masks carried by the inputs
 * work as in Keras: the value's masks value steps, the query's zeroes the outputs of masked query
 * steps and travels on with the output.
 * Weights: `scale` (useScale) and `concat_score_weight` (scoreMode 'concat'), scalars starting at 1.
 * @example const context = new Attention({ useCausalMask: true }).apply([query, value]);
 */
export class Attention extends Layer {
  /** The query's and the value's Keras masks are used (value steps masked, masked query outputs zeroed). */
  override supportsMasking = true;
  readonly useScale: boolean;
  readonly scoreMode: 'dot' | 'concat';
  readonly dropout: number;
  readonly seed: number | null;
  readonly useCausalMask: boolean;
  readonly returnAttentionScores: boolean;
  /** The dropout stream. */
  readonly stream: RandomStreams;
  scale: SharedVariable | null = null;
  concatScoreWeight: SharedVariable | null = null;

  constructor(args: AttentionArgs = {}) {
    const o = checkLayerOptions('Attention', args, ['useScale', 'scoreMode', 'dropout', 'seed', 'useCausalMask', 'returnAttentionScores']);
    super(args);
    this.useScale = boolOption(this.name, 'useScale', o.useScale, false);
    const mode = o.scoreMode ?? 'dot';
    if (mode !== 'dot' && mode !== 'concat') throw argError(this.name, `scoreMode must be 'dot' or 'concat', got ${fmtValue(mode)}`);
    this.scoreMode = mode;
    this.dropout = numberOption(this.name, 'dropout', o.dropout, 0, 0, 1, true);
    this.useCausalMask = boolOption(this.name, 'useCausalMask', o.useCausalMask, false);
    this.returnAttentionScores = boolOption(this.name, 'returnAttentionScores', o.returnAttentionScores, false);
    [this.seed, this.stream] = seededStream(this.name, o.seed);
  }

  /** Checks the shapes of a call: query and key features must agree. */
  private checkShapes(shapes: Shape | Shape[]): void {
    const p = attentionShapes(this.name, shapes);
    const dq = p.query[2], dk = p.key[2];
    if (dq !== null && dk !== null && dq !== dk)
      throw shapeError(this.name, `the query and the key must have the same number of features for '${this.scoreMode}' scores, got query ${fmtShape(p.query)} and key ${fmtShape(p.key)}`);
  }

  override build(inputShape: Shape | Shape[]): void {
    this.checkShapes(inputShape);
    if (this.useScale) this.scale = this.addWeight('scale', [], { initializer: 'ones' });
    if (this.scoreMode === 'concat') this.concatScoreWeight = this.addWeight('concat_score_weight', [], { initializer: 'ones' });
    this.built = true;
  }

  /** [batch, Tq, Tv] scores of every query step against every key step. */
  private scores(query: Variable, key: Variable): Variable {
    if (this.scoreMode === 'dot') {
      const s = T.matmul(query, key, false, true);
      return this.scale ? T.mul(s, this.scale) : s;
    }
    // [batch, Tq, 1, dim] + [batch, 1, Tv, dim], summed over the features after tanh
    let sum = T.add(T.expandDims(query, 2), T.expandDims(key, 1));
    if (this.scale) sum = T.mul(sum, this.scale);
    return T.mul(T.sum(T.tanh(sum), -1), this.concatScoreWeight!);
  }

  /** The query's mask for the output (none for the scores). */
  override computeMask(_inputs: Variable | Variable[], mask: Mask | Mask[]): Mask | Mask[] {
    const q = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    return this.returnAttentionScores ? [q, null] : q;
  }

  call(inputs: Variable | Variable[], ctx: CallContext, kerasMask?: Mask | Mask[]): Variable | Variable[] {
    const { parts: p, queryMask } = withKerasMasks(this.name, attentionInputs(this, inputs), kerasMask, false);
    this.checkShapes([p.query, p.value, p.key].map((v) => v.type.shape.slice()));
    const weights = maskedSoftmax(this.scores(p.query, p.key), attendMask(p, this.useCausalMask));
    let out = T.matmul(dropWeights(this.stream, this.dropout, weights, ctx), p.value);
    // Keras zeroes the outputs of masked query steps
    if (queryMask) out = T.mul(out, T.cast(T.expandDims(queryMask, -1), out.dtype));
    return this.returnAttentionScores ? [out, weights] : out;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      useScale: this.useScale,
      scoreMode: this.scoreMode,
      dropout: this.dropout,
      seed: this.seed,
      useCausalMask: this.useCausalMask,
      returnAttentionScores: this.returnAttentionScores,
    };
  }
}
registerLayer('Attention', Attention);
/** @example st.layers.attention({ useScale: true }).apply([query, value]) */
export const attention = (o: AttentionArgs = {}) => new Attention(o);

// ---- MultiHeadAttention ----

/** The options of MultiHeadAttention (Keras's, in camelCase). */
export interface MultiHeadAttentionArgs extends LayerArgs, KernelBiasArgs {
  /** Number of attention heads. */
  numHeads: number;
  /** Size of each head's query and key projections. */
  keyDim: number;
  /** Size of each head's value projection (default keyDim). */
  valueDim?: number | null;
  /** Dropout rate of the attention weights in training, in [0, 1) (default 0). */
  dropout?: number;
  /** Biases on the four projections (default true). */
  useBias?: boolean;
  /** Features of the output (default: the query's); an integer or a one-element array. */
  outputShape?: number | number[] | null;
  /** Only the default (null, or [1]: attention over the sequence axis) is supported. */
  attentionAxes?: number | number[] | null;
  /** A penalty on the outputs of the four projections (as Keras passes it to its sublayers). */
  activityRegularizer?: RegularizerId;
  /** Seed of the dropout stream (default: the next global seed). */
  seed?: number | null;
  /** Query step i attends only to key steps j <= i (Keras's useCausalMask call argument). */
  useCausalMask?: boolean;
  /** Return [output, weights], the weights [batch, numHeads, Tq, Tv] before dropout. */
  returnAttentionScores?: boolean;
}

/** One projection's weights: kernel [dim, heads, size] and bias [heads, size]. */
interface Projection {
  kernel: SharedVariable;
  bias: SharedVariable | null;
}

/**
 * Multi-head attention (Vaswani et al.; Keras's MultiHeadAttention).  Inputs [query, value],
 * [query, value, key] (key defaults to value) or [query, value, key, mask], each sequence
 * [batch, steps, features]; the mask is [batch, Tv] or [batch, Tq, Tv] (Keras's attentionMask),
 * true or nonzero where attending is allowed; Keras masks carried by the query, value and key join
 * it as in Keras (query step i attends to step j where both are unmasked), and the query's travels
 * on with the output.  Each head projects the query and key to keyDim
 * features and the value to valueDim, attends with softmax(q · kᵀ / √keyDim), and the heads'
 * results are projected together to the output, [batch, Tq, outputShape ?? query features].
 * Weights as in Keras 3: `query/kernel` [queryDim, numHeads, keyDim] and `query/bias`
 * [numHeads, keyDim], the same for `key` and `value` (valueDim), `attention_output/kernel`
 * [numHeads, valueDim, outputDim] and `attention_output/bias` [outputDim].
 * @example
 *   const x = st.input({ shape: [16, 64] });
 *   const y = st.layers.multiHeadAttention({ numHeads: 4, keyDim: 16 }).apply([x, x]); // self-attention
 */
export class MultiHeadAttention extends Layer {
  /** The query's, value's and key's Keras masks become part of the attention mask. */
  override supportsMasking = true;
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly outputShape: number | null;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly activityRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  readonly biasConstraint: Constraint | null;
  readonly seed: number | null;
  readonly useCausalMask: boolean;
  readonly returnAttentionScores: boolean;
  readonly stream: RandomStreams;
  query!: Projection;
  key!: Projection;
  value!: Projection;
  output!: Projection;

  constructor(args: MultiHeadAttentionArgs) {
    const o = checkLayerOptions('MultiHeadAttention', args, ['numHeads', 'keyDim', 'valueDim', 'dropout', 'useBias', 'outputShape', 'attentionAxes',
      'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint',
      'seed', 'useCausalMask', 'returnAttentionScores']);
    super(args);
    this.numHeads = positiveInt(this.name, 'numHeads', o.numHeads);
    this.keyDim = positiveInt(this.name, 'keyDim', o.keyDim);
    this.valueDim = o.valueDim === undefined || o.valueDim === null ? this.keyDim : positiveInt(this.name, 'valueDim', o.valueDim);
    this.dropout = numberOption(this.name, 'dropout', o.dropout, 0, 0, 1, true);
    this.useBias = boolOption(this.name, 'useBias', o.useBias, true);
    const os = o.outputShape;
    const osv = Array.isArray(os) && os.length === 1 ? os[0] : os;
    if (osv !== undefined && osv !== null && !(Number.isInteger(osv) && (osv as number) > 0))
      throw argError(this.name, `outputShape must be a positive integer (the output's features) or null, got ${fmtValue(os)}`);
    this.outputShape = (osv as number | undefined) ?? null;
    const ax = o.attentionAxes;
    const axv = Array.isArray(ax) && ax.length === 1 ? ax[0] : ax;
    if (axv !== undefined && axv !== null && axv !== 1 && axv !== -2)
      throw argError(this.name, `attentionAxes: only attention over the sequence axis is supported (null or [1] for [batch, steps, features] inputs), got ${fmtValue(ax)}`);
    this.kernelInitializer = getInitializer((o.kernelInitializer ?? 'glorotUniform') as InitializerId);
    this.biasInitializer = getInitializer((o.biasInitializer ?? 'zeros') as InitializerId);
    this.kernelRegularizer = optRegularizer(o.kernelRegularizer);
    this.biasRegularizer = optRegularizer(o.biasRegularizer);
    this.activityRegularizer = optRegularizer(o.activityRegularizer);
    this.kernelConstraint = optConstraint(o.kernelConstraint);
    this.biasConstraint = optConstraint(o.biasConstraint);
    this.useCausalMask = boolOption(this.name, 'useCausalMask', o.useCausalMask, false);
    this.returnAttentionScores = boolOption(this.name, 'returnAttentionScores', o.returnAttentionScores, false);
    [this.seed, this.stream] = seededStream(this.name, o.seed);
  }

  /** The query, value and key feature sizes of a call, which must be known. */
  private featureDims(shapes: Shape | Shape[]): [number, number, number] {
    const p = attentionShapes(this.name, shapes);
    const dims = [p.query[2], p.value[2], p.key[2]];
    if (dims.some((d) => d === null))
      throw shapeError(this.name, `the last axis (features) of the query, value and key must be known to create the weights, got ${formatShapes(shapes as Shape[])}`);
    return dims as [number, number, number];
  }

  private projection(name: string, kernelShape: number[], biasShape: number[]): Projection {
    const kernel = this.addWeight(`${name}/kernel`, kernelShape, { initializer: this.kernelInitializer, regularizer: this.kernelRegularizer, constraint: this.kernelConstraint });
    const bias = this.useBias ? this.addWeight(`${name}/bias`, biasShape, { initializer: this.biasInitializer, regularizer: this.biasRegularizer, constraint: this.biasConstraint }) : null;
    return { kernel, bias };
  }

  override build(inputShape: Shape | Shape[]): void {
    const [dq, dv, dk] = this.featureDims(inputShape);
    const h = this.numHeads;
    this.query = this.projection('query', [dq, h, this.keyDim], [h, this.keyDim]);
    this.key = this.projection('key', [dk, h, this.keyDim], [h, this.keyDim]);
    this.value = this.projection('value', [dv, h, this.valueDim], [h, this.valueDim]);
    const out = this.outputShape ?? dq;
    this.output = this.projection('attention_output', [h, this.valueDim, out], [out]);
    this.built = true;
  }

  /** x [batch, T, dim] projected per head: [batch, heads, T, size] (one GEMM over batch·T rows). */
  private heads(x: Variable, w: Projection, ctx: CallContext): Variable {
    const [d, h, size] = w.kernel.type.shape as number[];
    let y = T.matmul(T.reshape(x, [-1, d]), T.reshape(w.kernel, [d, h * size]));
    if (w.bias) y = T.add(y, T.reshape(w.bias, [h * size]));
    y = T.reshape(y, [dim(x, 0), dim(x, 1), h, size]);
    addActivityLoss(ctx, this.activityRegularizer, y);
    return T.transpose(y, [0, 2, 1, 3]);
  }

  /** The query's mask for the output (none for the scores). */
  override computeMask(_inputs: Variable | Variable[], mask: Mask | Mask[]): Mask | Mask[] {
    const q = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    return this.returnAttentionScores ? [q, null] : q;
  }

  call(inputs: Variable | Variable[], ctx: CallContext, kerasMask?: Mask | Mask[]): Variable | Variable[] {
    const p = withKerasMasks(this.name, attentionInputs(this, inputs), kerasMask, true).parts;
    const [dq, dv, dk] = this.featureDims([p.query, p.value, p.key].map((v) => v.type.shape.slice()));
    const built = [this.query.kernel, this.value.kernel, this.key.kernel].map((k) => k.type.shape[0]);
    if (dq !== built[0] || dv !== built[1] || dk !== built[2])
      throw shapeError(this.name, `was built for query, value and key features ${built.join(', ')}, got ${dq}, ${dv}, ${dk} (inputs ${formatShapes([p.query, p.value, p.key].map((v) => v.type.shape))})`);
    // Keras scales the query, not the scores: the same numbers, a smaller tensor
    const q = T.mul(this.heads(p.query, this.query, ctx), 1 / Math.sqrt(this.keyDim));
    const k = this.heads(p.key, this.key, ctx);
    const v = this.heads(p.value, this.value, ctx);
    const mask = attendMask(p, this.useCausalMask);
    // [batch, heads, Tq, Tv]; the mask gains the heads axis
    const weights = maskedSoftmax(T.matmul(q, k, false, true), mask && mask.ndim === 3 ? T.expandDims(mask, 1) : mask);
    const ctxv = T.matmul(dropWeights(this.stream, this.dropout, weights, ctx), v);
    // [batch, Tq, heads·valueDim] · [heads·valueDim, out]
    const h = this.numHeads, out = this.output.kernel.type.shape[2] as number;
    const flat = T.reshape(T.transpose(ctxv, [0, 2, 1, 3]), [-1, h * this.valueDim]);
    let y = T.matmul(flat, T.reshape(this.output.kernel, [h * this.valueDim, out]));
    if (this.output.bias) y = T.add(y, this.output.bias);
    y = T.reshape(y, [dim(p.query, 0), dim(p.query, 1), out]);
    addActivityLoss(ctx, this.activityRegularizer, y);
    return this.returnAttentionScores ? [y, weights] : y;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropout,
      useBias: this.useBias,
      outputShape: this.outputShape,
      attentionAxes: null,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: regularizerConfig(this.kernelRegularizer),
      biasRegularizer: regularizerConfig(this.biasRegularizer),
      activityRegularizer: regularizerConfig(this.activityRegularizer),
      kernelConstraint: constraintConfig(this.kernelConstraint),
      biasConstraint: constraintConfig(this.biasConstraint),
      seed: this.seed,
      useCausalMask: this.useCausalMask,
      returnAttentionScores: this.returnAttentionScores,
    };
  }
}
registerLayer('MultiHeadAttention', MultiHeadAttention);
/** @example st.layers.multiHeadAttention({ numHeads: 8, keyDim: 32 }).apply([x, x]) */
export const multiHeadAttention = (o: MultiHeadAttentionArgs) => new MultiHeadAttention(o);

// ---- position information ----

/** The options of PositionalEmbedding. */
export interface PositionalEmbeddingArgs extends LayerArgs {
  /** The longest sequence: rows of the position table. */
  sequenceLength: number;
  /** Vocabulary size: token ids lie in [0, inputDim). */
  inputDim: number;
  /** Length of each embedding vector. */
  outputDim: number;
  /** For both tables (default 'uniform', Keras's RandomUniform in [-0.05, 0.05]). */
  embeddingsInitializer?: InitializerId;
}

/**
 * Token and learned position embeddings, added (keras-hub's TokenAndPositionEmbedding; the
 * PositionalEmbedding of Keras's transformer examples): token ids [batch, T] → [batch, T,
 * outputDim] = tokens[id] + positions[t], for T <= sequenceLength.  Weights
 * `token_embeddings/embeddings` [inputDim, outputDim] and `position_embeddings/embeddings`
 * [sequenceLength, outputDim].  Ids outside [0, inputDim) fail when the function runs, as in
 * Embedding; a sequence longer than sequenceLength fails at build time when its length is known,
 * else when the function runs.
 * @example st.layers.positionalEmbedding({ sequenceLength: 8, inputDim: 10, outputDim: 32 }).apply(tokens)
 */
export class PositionalEmbedding extends Layer {
  /** The steps stay where they were, so a mask passes through. */
  override supportsMasking = true;
  readonly sequenceLength: number;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  tokenEmbeddings!: SharedVariable;
  positionEmbeddings!: SharedVariable;

  constructor(args: PositionalEmbeddingArgs) {
    const o = checkLayerOptions('PositionalEmbedding', args, ['sequenceLength', 'inputDim', 'outputDim', 'embeddingsInitializer']);
    super(args);
    this.sequenceLength = positiveInt(this.name, 'sequenceLength', o.sequenceLength);
    this.inputDim = positiveInt(this.name, 'inputDim', o.inputDim);
    this.outputDim = positiveInt(this.name, 'outputDim', o.outputDim);
    this.embeddingsInitializer = getInitializer((o.embeddingsInitializer ?? 'uniform') as InitializerId);
  }

  private checkShape(s: Shape | Shape[]): void {
    if (s.length !== 2 || Array.isArray(s[0]))
      throw shapeError(this.name, `expects token ids [batch, steps], got ${Array.isArray(s[0]) ? `${s.length} inputs ${formatShapes(s as Shape[])}` : fmtShape(s as Shape)}`);
    const t = s[1] as number | null;
    if (t !== null && t > this.sequenceLength)
      throw shapeError(this.name, `the input has ${t} steps but sequenceLength is ${this.sequenceLength} (input ${fmtShape(s as Shape)})`);
  }

  override build(inputShape: Shape | Shape[]): void {
    this.checkShape(inputShape);
    const init = this.embeddingsInitializer;
    this.tokenEmbeddings = this.addWeight('token_embeddings/embeddings', [this.inputDim, this.outputDim], { initializer: init });
    this.positionEmbeddings = this.addWeight('position_embeddings/embeddings', [this.sequenceLength, this.outputDim], { initializer: init });
    this.built = true;
  }

  call(inputs: Variable | Variable[]): Variable {
    if (Array.isArray(inputs) && inputs.length !== 1) throw argError(this.name, `expects one input (token ids [batch, steps]), got ${inputs.length}`);
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    this.checkShape(x.type.shape);
    if (x.dtype === 'bool') throw dtypeError(this.name, `token ids must be int32 (or float, truncated), got bool ${fmtShape(x.type.shape)}`);
    const idx = asDtype(x, 'int32');
    // a negative id is moved below -inputDim, where gather's run-time check rejects it
    const tokens = T.gather(this.tokenEmbeddings, T.where(T.less(idx, 0), T.sub(idx, this.inputDim), idx), 0);
    const steps = dim(x, 1);
    const positions = steps === this.sequenceLength ? this.positionEmbeddings : T.slice(this.positionEmbeddings, [0, 0], [steps, this.outputDim]);
    return T.add(tokens, positions);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      sequenceLength: this.sequenceLength,
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: initializerConfig(this.embeddingsInitializer),
    };
  }
}
registerLayer('PositionalEmbedding', PositionalEmbedding);
/** @example st.layers.positionalEmbedding({ sequenceLength: 128, inputDim: 5000, outputDim: 64 }) */
export const positionalEmbedding = (o: PositionalEmbeddingArgs) => new PositionalEmbedding(o);

/** The options of SinePositionEncoding. */
export interface SinePositionEncodingArgs extends LayerArgs {
  /** The longest wavelength of the sinusoids (default 10000). */
  maxWavelength?: number;
}

/**
 * The fixed sinusoidal position encoding of Vaswani et al. (keras-hub's SinePositionEncoding):
 * for an input [batch, T, d] it returns an array of the same shape whose row t holds
 * sin(t·w_i) at even features i and cos(t·w_i) at odd ones, w_i = maxWavelength^(-2⌊i/2⌋/d).
 * Add it to token embeddings; it has no weights.
 * @example const h = st.layers.add().apply([emb, st.layers.sinePositionEncoding().apply(emb)]);
 */
export class SinePositionEncoding extends Layer {
  readonly maxWavelength: number;
  constructor(args: SinePositionEncodingArgs = {}) {
    const o = checkLayerOptions('SinePositionEncoding', args, ['maxWavelength']);
    super(args);
    this.maxWavelength = numberOption(this.name, 'maxWavelength', o.maxWavelength, 10000, Number.MIN_VALUE);
  }

  call(inputs: Variable | Variable[]): Variable {
    if (Array.isArray(inputs) && inputs.length !== 1) throw argError(this.name, `expects one input [batch, steps, features], got ${inputs.length}`);
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const d = x.type.shape[2];
    if (x.ndim !== 3 || d === null) throw shapeError(this.name, `expects [batch, steps, features] with known features, got ${fmtShape(x.type.shape)}`);
    const dtype: DType = x.dtype === 'float64' ? 'float64' : this.dtype;
    const rates = Array.from({ length: d }, (_, i) => this.maxWavelength ** (-(2 * Math.floor(i / 2)) / d));
    const isCos = Array.from({ length: d }, (_, i) => i % 2);
    const angles = T.mul(T.expandDims(T.cast(T.arange(dim(x, 1)), dtype), 1), T.constant(rates, undefined, dtype));
    const odd = T.constant(isCos, undefined, dtype);
    const enc = T.add(T.mul(T.sin(angles), T.sub(1, odd)), T.mul(T.cos(angles), odd));
    return T.broadcastTo(enc, x.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxWavelength: this.maxWavelength };
  }
}
registerLayer('SinePositionEncoding', SinePositionEncoding);
/** @example st.layers.sinePositionEncoding({ maxWavelength: 10000 }) */
export const sinePositionEncoding = (o: SinePositionEncodingArgs = {}) => new SinePositionEncoding(o);
