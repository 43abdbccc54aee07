// Keras's recurrent layers on T.scan: SimpleRNN, LSTM and GRU (each an RNN over its cell), the
// generic RNN for custom cells, and Masking.  A layer is one scan: the input-side products for every
// step are one GEMM before the loop, and each step is the recurrent GEMM plus elementwise work.
// In training the step also keeps its recurrent GEMM's result as an extra state, so the backward
// loop reads it instead of computing the product again.
//
// Masks: a Keras mask, [batch, steps] bool, reaches the layer with its input (from
// embedding({ maskZero: true }) or masking() earlier in the model), or as an extra input (bool, or
// 0/1): at a masked step the states carry over and the output repeats the previous one (Keras's
// rule).  `sequenceMask` and `tokenMask` compute it from padded inputs for hand-written graphs.
import { DType, isFloat } from '../../dtype';
import { SymtensorError, argError, dtypeError, fmtShape, fmtValue, shapeError } from '../../errors';
import { RandomStreams, randomStreams } from '../../graph/random';
import { SharedVariable, shared } from '../../graph/shared';
import * as T from '../../graph/T';
import { Variable } from '../../graph/variable';
import { tensor as tensorOf, zeros as zerosTensor } from '../../tensor/creation';
import type { Tensor } from '../../tensor/tensor';
import type { TensorData } from '../../tensor/convert';
import { ActivationFn, activationName, getActivation } from '../activations';
import { Constraint } from '../constraints';
import { Initializer, getInitializer } from '../initializers';
import { CallContext, Layer, LayerArgs, Mask, Shape, layerClass, classNameOf, registerLayer, single } from '../layer';
import { Regularizer } from '../regularizers';
import { nextSeed, optionalSeed } from '../seed';
import {
  ConstraintId, InitializerId, RegularizerId, addActivityLoss, asDtype, boolOption, checkLayerOptions, constraintConfig, initializerConfig,
  numberOption, optConstraint, optRegularizer, positiveInt, regularizerConfig,
} from './core';

type V = Variable;

// ---- masks ----

/**
 * Keras's Masking rule as a mask: [batch, steps] bool, true at the steps where some feature of x
 * ([batch, steps, features]) differs from maskValue.
 * @example lstm.apply([x, st.layers.sequenceMask(x, 0)])
 */
export function sequenceMask(x: Variable, maskValue = 0): Variable {
  if (!(x instanceof Variable) || x.ndim < 3) throw shapeError('sequenceMask', `expects [batch, steps, features...], got ${x instanceof Variable ? fmtShape(x.type.shape) : fmtValue(x)}`);
  return T.any(T.notEqual(x, maskValue), [...Array(x.ndim - 2).keys()].map((k) => k + 2));
}

/**
 * Keras's Embedding maskZero rule as a mask: true where the token id is not 0 (ids [batch, steps]).
 * @example gru.apply([embedding.apply(ids), st.layers.tokenMask(ids)])
 */
export function tokenMask(ids: Variable): Variable {
  if (!(ids instanceof Variable) || ids.ndim !== 2) throw shapeError('tokenMask', `expects token ids [batch, steps], got ${ids instanceof Variable ? fmtShape(ids.type.shape) : fmtValue(ids)}`);
  return T.notEqual(ids, 0);
}

export interface MaskingArgs extends LayerArgs {
  /** Steps whose features all equal this value are masked (default 0). */
  maskValue?: number;
  /** Also return the mask as a second output: [output, mask] (to hand it on explicitly). */
  returnMask?: boolean;
}

/**
 * Keras's Masking: zeroes the steps of [batch, steps, features] whose features all equal maskValue,
 * and its output carries the mask (true at the other steps) to the layers after it: recurrent
 * layers skip the masked steps, global pooling ignores them.  With `returnMask` the layer also
 * returns the mask as a value, [output, mask].
 * @example
 *   const model = new st.Sequential([st.layers.input({ shape: [10, 3] }), st.layers.masking(), st.layers.lstm({ units: 8 })]);
 */
export class Masking extends Layer {
  readonly maskValue: number;
  readonly returnMask: boolean;
  /** A new mask replaces the one the input carries. */
  override supportsMasking = true;
  constructor(args: MaskingArgs = {}) {
    const o = checkLayerOptions('Masking', args, ['maskValue', 'returnMask']);
    super(args);
    this.maskValue = numberOption(this.name, 'maskValue', o.maskValue, 0);
    this.returnMask = boolOption(this.name, 'returnMask', o.returnMask, false);
  }
  /** The [batch, steps] bool mask of the input (for the output; with returnMask, none for the mask output). */
  override computeMask(inputs: V | V[]): Mask | Mask[] {
    const mask = sequenceMask(single(this, inputs), this.maskValue);
    return this.returnMask ? [mask, null] : mask;
  }
  call(inputs: V | V[]): V | V[] {
    const x = single(this, inputs);
    if (x.ndim < 3) throw shapeError(this.name, `Masking expects [batch, steps, features], got ${fmtShape(x.type.shape)}`);
    const mask = sequenceMask(x, this.maskValue);
    const y = T.where(T.expandDims(mask, -1), x, T.zerosLike(x));
    return this.returnMask ? [y, mask] : y;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maskValue: this.maskValue, returnMask: this.returnMask };
  }
}
registerLayer('Masking', Masking);
/** Zeroes the steps whose features all equal `maskValue` (Keras's Masking); see {@link Masking}. */
export const masking = (o: MaskingArgs = {}) => new Masking(o);

// ---- cells ----

/** One step of a built-in cell, from its projected input. */
interface StepParts {
  output: V;
  states: V[];
  /** Products of the step worth storing for the backward loop (kept as extra states in training). */
  saved: V[];
}

/** Column block k (of width n) of the last axis of a 2-D value. */
const cols = (x: V, k: number, n: number) => T.slice(x, [0, k * n], [-1, n]);

/** Options shared by the built-in cells: activations, initializers, regularizers, constraints and dropout. */
interface CellWeightArgs {
  units: number;
  activation?: string | ActivationFn | null;
  useBias?: boolean;
  kernelInitializer?: InitializerId;
  recurrentInitializer?: InitializerId;
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId;
  recurrentRegularizer?: RegularizerId;
  biasRegularizer?: RegularizerId;
  kernelConstraint?: ConstraintId;
  recurrentConstraint?: ConstraintId;
  biasConstraint?: ConstraintId;
  /** Fraction of the inputs dropped in training (one mask per sequence, shared by the steps). */
  dropout?: number;
  /** Fraction of the previous output dropped in the recurrent product in training (one mask per sequence). */
  recurrentDropout?: number;
  /** Seed of the dropout masks' random stream. */
  seed?: number | null;
}

const CELL_OPTIONS = ['units', 'activation', 'useBias', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer', 'kernelRegularizer',
  'recurrentRegularizer', 'biasRegularizer', 'kernelConstraint', 'recurrentConstraint', 'biasConstraint', 'dropout', 'recurrentDropout', 'seed'];

/**
 * The common part of the built-in cells (Keras's SimpleRNNCell, LSTMCell, GRUCell): a kernel
 * [inputDim, k·units], a recurrent kernel [units, k·units] and a bias.  Called directly, a cell
 * takes [x, ...states] ([batch, features] and [batch, units] each) and returns
 * [output, ...newStates]; dropout applies only inside an RNN layer, which draws the masks.
 */
export abstract class RecurrentCell extends Layer {
  readonly units: number;
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly recurrentInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly recurrentRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  readonly recurrentConstraint: Constraint | null;
  readonly biasConstraint: Constraint | null;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly seed: number | null;
  kernel!: SharedVariable;
  recurrentKernel!: SharedVariable;
  bias: SharedVariable | null = null;
  /** Blocks of units in the kernels (1, 4 or 3). */
  protected abstract readonly gates: number;
  /** Sizes of the states, output first. */
  abstract readonly stateSize: number[];

  constructor(cls: string, args: CellWeightArgs & LayerArgs, extra: string[] = []) {
    const o = checkLayerOptions(cls, args, [...CELL_OPTIONS, ...extra]);
    super(args);
    this.units = positiveInt(this.name, 'units', o.units);
    this.activation = getActivation((o.activation === undefined ? 'tanh' : o.activation) as CellWeightArgs['activation']);
    this.useBias = boolOption(this.name, 'useBias', o.useBias, true);
    this.kernelInitializer = getInitializer((o.kernelInitializer ?? 'glorotUniform') as InitializerId);
    this.recurrentInitializer = getInitializer((o.recurrentInitializer ?? 'orthogonal') as InitializerId);
    this.biasInitializer = getInitializer((o.biasInitializer ?? 'zeros') as InitializerId);
    this.kernelRegularizer = optRegularizer(o.kernelRegularizer);
    this.recurrentRegularizer = optRegularizer(o.recurrentRegularizer);
    this.biasRegularizer = optRegularizer(o.biasRegularizer);
    this.kernelConstraint = optConstraint(o.kernelConstraint);
    this.recurrentConstraint = optConstraint(o.recurrentConstraint);
    this.biasConstraint = optConstraint(o.biasConstraint);
    this.dropout = numberOption(this.name, 'dropout', o.dropout, 0, 0, 1, true);
    this.recurrentDropout = numberOption(this.name, 'recurrentDropout', o.recurrentDropout, 0, 0, 1, true);
    this.seed = optionalSeed(this.name, o.seed) ?? null;
  }

  /** Width of the cell's output (its units). */
  get outputSize(): number {
    return this.units;
  }

  /** The bias's shape and initial value (the LSTM's unit forget bias, the GRU's two rows). */
  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : inputShape) as Shape;
    const inDim = s[s.length - 1];
    if (s.length < 2 || inDim === null || inDim === undefined) throw shapeError(this.name, `the cell needs inputs [batch, features] with known features, got ${fmtShape(s)}`);
    const n = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [inDim, n], { initializer: this.kernelInitializer, regularizer: this.kernelRegularizer, constraint: this.kernelConstraint });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, n], { initializer: this.recurrentInitializer, regularizer: this.recurrentRegularizer, constraint: this.recurrentConstraint });
    if (this.useBias) this.bias = this.addWeight('bias', this.biasShape(), { initializer: this.biasInitializer, regularizer: this.biasRegularizer, constraint: this.biasConstraint });
    this.built = true;
  }

  /** The input-side products of any number of steps at once: [..., features] → [..., gates·units]. */
  project(x: V): V {
    const inDim = this.kernel.type.shape[0];
    const last = x.type.shape[x.ndim - 1];
    if (last !== null && last !== inDim) throw shapeError(this.name, `the kernel was built for inputs [..., ${inDim}], got ${fmtShape(x.type.shape)}`);
    const n = this.kernel.type.shape[1] as number;
    // one 2-D GEMM over all leading axes: its kernel gradient is then one GEMM too (a batched
    // product would compute one [features, n] block per step and sum them afterwards)
    let z = x.ndim === 2 ? T.matmul(x, this.kernel) : T.matmul(T.reshape(x, [-1, inDim as number]), this.kernel);
    if (x.ndim > 2) z = T.reshape(z, [...x.type.shape.slice(0, -1).map((d, i): number | V => d ?? x.shape[i]), n]);
    const b = this.inputBias();
    return b ? T.add(z, b) : z;
  }
  /** The bias added to the input projection before the loop (null when there is none). */
  protected inputBias(): V | null {
    return this.bias;
  }

  /** @internal The widths of the products a step keeps for the backward loop (StepParts.saved). */
  abstract savedSizes(): number[];

  /** One step from the projected input z [batch, gates·units]; recMask multiplies the previous output in the recurrent product. */
  abstract recur(z: V, states: V[], recMask: V | null): StepParts;

  call(inputs: V | V[]): V[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== 1 + this.stateSize.length)
      throw argError(this.name, `a cell takes [input, ${this.stateSize.map((_, i) => `state${i}`).join(', ')}], got ${list.length} value${list.length === 1 ? '' : 's'}`);
    const [x, ...states] = list.map((v) => asDtype(v, this.dtype));
    states.forEach((h, i) => {
      const d = h.type.shape[h.ndim - 1];
      if (h.ndim !== 2 || (d !== null && d !== this.stateSize[i])) throw shapeError(this.name, `state ${i} must be [batch, ${this.stateSize[i]}], got ${fmtShape(h.type.shape)}`);
    });
    const p = this.recur(this.project(x), states, null);
    return [p.output, ...p.states];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: activationName(this.activation),
      useBias: this.useBias,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      recurrentInitializer: initializerConfig(this.recurrentInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: regularizerConfig(this.kernelRegularizer),
      recurrentRegularizer: regularizerConfig(this.recurrentRegularizer),
      biasRegularizer: regularizerConfig(this.biasRegularizer),
      kernelConstraint: constraintConfig(this.kernelConstraint),
      recurrentConstraint: constraintConfig(this.recurrentConstraint),
      biasConstraint: constraintConfig(this.biasConstraint),
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      seed: this.seed,
    };
  }
}

const masked = (h: V, m: V | null) => (m ? T.mul(h, m) : h);

/** Options of a SimpleRNN cell. */
export type SimpleRNNCellArgs = CellWeightArgs & LayerArgs;

/** Keras's SimpleRNNCell: h = activation(x·kernel + h₋₁·recurrentKernel + bias). */
export class SimpleRNNCell extends RecurrentCell {
  protected readonly gates = 1;
  readonly stateSize: number[];
  constructor(args: SimpleRNNCellArgs) {
    super('SimpleRNNCell', args);
    this.stateSize = [this.units];
  }
  savedSizes(): number[] {
    return [this.units];
  }
  recur(z: V, [h]: V[], rm: V | null): StepParts {
    const g = T.add(z, T.matmul(masked(h, rm), this.recurrentKernel));
    const out = this.activation(g);
    return { output: out, states: [out], saved: [g] };
  }
}
registerLayer('SimpleRNNCell', SimpleRNNCell);

export interface LSTMCellArgs extends CellWeightArgs, LayerArgs {
  /** Default 'sigmoid': the gates' activation. */
  recurrentActivation?: string | ActivationFn | null;
  /** Start the forget gate's bias at 1 (Keras's default true). */
  unitForgetBias?: boolean;
}

/**
 * Keras's LSTMCell, gates in Keras's order i, f, c, o: with g = x·kernel + h₋₁·recurrentKernel + bias,
 * c = σ(g_f)·c₋₁ + σ(g_i)·tanh(g_c), h = σ(g_o)·tanh(c) (σ the recurrent activation, tanh the activation).
 */
export class LSTMCell extends RecurrentCell {
  protected readonly gates = 4;
  readonly stateSize: number[];
  readonly recurrentActivation: ActivationFn;
  readonly unitForgetBias: boolean;
  constructor(args: LSTMCellArgs) {
    super('LSTMCell', args, ['recurrentActivation', 'unitForgetBias']);
    this.stateSize = [this.units, this.units];
    this.recurrentActivation = getActivation((args.recurrentActivation === undefined ? 'sigmoid' : args.recurrentActivation) as LSTMCellArgs['recurrentActivation']);
    this.unitForgetBias = boolOption(this.name, 'unitForgetBias', args.unitForgetBias, true);
  }
  override build(inputShape: Shape | Shape[]): void {
    super.build(inputShape);
    if (!this.bias || !this.unitForgetBias) return;
    // Keras's unit forget bias: the forget block starts at 1, the others as biasInitializer made them
    const t = this.bias.get();
    const v = Array.from(t.dataSync() as ArrayLike<number>);
    t.dispose();
    for (let k = this.units; k < 2 * this.units; k++) v[k] = 1;
    this.bias.set(tensorOf(v, { dtype: this.dtype }));
  }
  savedSizes(): number[] {
    return [4 * this.units];
  }
  recur(z: V, [h, c]: V[], rm: V | null): StepParts {
    const u = this.units, act = this.activation, ract = this.recurrentActivation;
    const g = T.add(z, T.matmul(masked(h, rm), this.recurrentKernel));
    const i = ract(cols(g, 0, u)), f = ract(cols(g, 1, u)), cc = act(cols(g, 2, u)), o = ract(cols(g, 3, u));
    const c2 = T.add(T.mul(f, c), T.mul(i, cc));
    const h2 = T.mul(o, act(c2));
    return { output: h2, states: [h2, c2], saved: [g] };
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), recurrentActivation: activationName(this.recurrentActivation), unitForgetBias: this.unitForgetBias };
  }
}
registerLayer('LSTMCell', LSTMCell);


export interface GRUCellArgs extends CellWeightArgs, LayerArgs {
  recurrentActivation?: string | ActivationFn | null;
  /** Apply the reset gate after the recurrent product (Keras's default true; bias [2, 3·units]). */
  resetAfter?: boolean;
}

/**
 * Keras's GRUCell, gates in Keras's order z, r, h: z = σ(x_z + h₋₁U_z), r = σ(x_r + h₋₁U_r),
 * ĥ = tanh(x_h + r·(h₋₁U_h + b_h)) with resetAfter (else tanh(x_h + (r·h₋₁)U_h)),
 * h = z·h₋₁ + (1 − z)·ĥ.  With resetAfter the bias is [2, 3·units]: input bias, recurrent bias.
 */
export class GRUCell extends RecurrentCell {
  protected readonly gates = 3;
  readonly stateSize: number[];
  readonly recurrentActivation: ActivationFn;
  readonly resetAfter: boolean;
  constructor(args: GRUCellArgs) {
    super('GRUCell', args, ['recurrentActivation', 'resetAfter']);
    this.stateSize = [this.units];
    this.recurrentActivation = getActivation((args.recurrentActivation === undefined ? 'sigmoid' : args.recurrentActivation) as GRUCellArgs['recurrentActivation']);
    this.resetAfter = boolOption(this.name, 'resetAfter', args.resetAfter, true);
  }
  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }
  /** The part of the bias added to the input projection (with resetAfter, the input half). */
  protected override inputBias(): V | null {
    return this.bias && this.resetAfter ? this.bias.get([0]) : this.bias;
  }
  savedSizes(): number[] {
    return this.resetAfter ? [3 * this.units] : [2 * this.units, this.units];
  }
  recur(z: V, [h]: V[], rm: V | null): StepParts {
    const u = this.units, act = this.activation, ract = this.recurrentActivation;
    const hr = masked(h, rm);
    let zg: V, r: V, hh: V;
    const saved: V[] = [];
    if (this.resetAfter) {
      let m = T.matmul(hr, this.recurrentKernel);
      if (this.bias) m = T.add(m, this.bias.get([1]));
      saved.push(m);
      zg = ract(T.add(cols(z, 0, u), cols(m, 0, u)));
      r = ract(T.add(cols(z, 1, u), cols(m, 1, u)));
      hh = act(T.add(cols(z, 2, u), T.mul(r, cols(m, 2, u))));
    } else {
      const m = T.matmul(hr, T.slice(this.recurrentKernel, [0, 0], [-1, 2 * u]));
      saved.push(m);
      zg = ract(T.add(cols(z, 0, u), cols(m, 0, u)));
      r = ract(T.add(cols(z, 1, u), cols(m, 1, u)));
      const mh = T.matmul(T.mul(r, hr), T.slice(this.recurrentKernel, [0, 2 * u], [-1, u]));
      saved.push(mh);
      hh = act(T.add(cols(z, 2, u), mh));
    }
    const h2 = T.add(T.mul(zg, h), T.mul(T.sub(1, zg), hh));
    return { output: h2, states: [h2], saved };
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), recurrentActivation: activationName(this.recurrentActivation), resetAfter: this.resetAfter };
  }
}
registerLayer('GRUCell', GRUCell);

// ---- the RNN layer ----

/** A custom cell: any layer with `stateSize` whose call maps [x, ...states] to [output, ...newStates]. */
export interface CellLike extends Layer {
  /** The size of each state (a number for one state). */
  readonly stateSize: number | number[];
  /** The size of the output (default: the first state's). */
  readonly outputSize?: number;
}

export interface RNNOptions extends LayerArgs {
  /** Return the output of every step, [batch, steps, units], instead of the last one. */
  returnSequences?: boolean;
  /** Also return the final states: [output, ...states]. */
  returnState?: boolean;
  /** Process the steps from the last to the first (a sequence output then runs in that order, as in Keras). */
  goBackwards?: boolean;
  /** Carry the final states of a batch over as the next batch's initial states (needs a fixed batchSize). */
  stateful?: boolean;
  /** With a mask and returnSequences: zeros at masked steps instead of the previous output. */
  zeroOutputForMask?: boolean;
  /** Keras's unroll: only false (the loop always runs as one native scan). */
  unroll?: boolean;
}

export interface RNNArgs extends RNNOptions {
  /** The cell: a layer instance or its {className, config}. */
  cell: CellLike | { className: string; config?: Record<string, unknown> };
  /** Penalty on the output, divided by the batch size. */
  activityRegularizer?: RegularizerId;
}

const RNN_OPTIONS = ['returnSequences', 'returnState', 'goBackwards', 'stateful', 'zeroOutputForMask', 'unroll'];

/** The parts of an RNN layer's call: the input (time-major), the mask and the initial states. */
interface CallParts {
  x: V;
  mask: V | null;
  initial: V[] | null;
}

/**
 * Keras's RNN: runs a cell over the steps of [batch, steps, features] as one T.scan.  Inputs: x,
 * [x, mask], [x, ...initialStates] or [x, mask, ...initialStates]; the mask is [batch, steps],
 * true/1 at the steps to process (a lone extra input of a one-state layer is a mask when it is
 * bool, else an initial state).  A Keras mask carried by x (from embedding({ maskZero: true }) or
 * masking()) works as the mask input (both together: a step runs where both allow it).  Output:
 * the last step's output, [batch, units], or every step's with returnSequences (which then carries
 * the mask on); with returnState, [output, ...finalStates].  A stateful layer's states advance in
 * every call, training or not, until resetStates().
 * @example
 *   const layer = st.layers.rnn({ cell: new MinimalCell({ units: 8 }), returnSequences: true });
 */
export class RNN extends Layer {
  /** A Keras mask on the input marks the steps to skip. */
  override supportsMasking = true;
  readonly cell: CellLike;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly stateful: boolean;
  readonly zeroOutputForMask: boolean;
  readonly activityRegularizer: Regularizer | null;
  /** The stateful layer's states ([batchSize, size] each), null until built. */
  states: SharedVariable[] | null = null;
  private readonly streams: { input: RandomStreams | null; recurrent: RandomStreams | null } = { input: null, recurrent: null };

  constructor(args: RNNArgs | (RNNOptions & { activityRegularizer?: RegularizerId }), cellFactory?: (name: string) => CellLike, cellOptions: string[] = []) {
    const own = cellFactory ? [...RNN_OPTIONS, 'activityRegularizer', ...cellOptions] : [...RNN_OPTIONS, 'cell', 'activityRegularizer'];
    const o = checkLayerOptions(new.target.name, args, own);
    super(args);
    this.returnSequences = boolOption(this.name, 'returnSequences', o.returnSequences, false);
    this.returnState = boolOption(this.name, 'returnState', o.returnState, false);
    this.goBackwards = boolOption(this.name, 'goBackwards', o.goBackwards, false);
    this.stateful = boolOption(this.name, 'stateful', o.stateful, false);
    this.zeroOutputForMask = boolOption(this.name, 'zeroOutputForMask', o.zeroOutputForMask, false);
    if (boolOption(this.name, 'unroll', o.unroll, false)) throw argError(this.name, 'unroll is not supported: the loop always runs as one native scan (leave unroll false)');
    this.activityRegularizer = optRegularizer(o.activityRegularizer);
    this.cell = cellFactory ? cellFactory(`${this.name}/${snake(new.target.name)}_cell`) : makeCell(this.name, o.cell);
    const ss = this.stateSizes;
    if (!ss.length || ss.some((d) => !Number.isInteger(d) || d <= 0)) throw argError(this.name, `the cell's stateSize must be a positive integer or a non-empty list of them, got ${fmtValue(this.cell.stateSize)}`);
    if (this.cell instanceof RecurrentCell) {
      const seed = this.cell.seed ?? undefined;
      if (this.cell.dropout > 0) this.streams.input = randomStreams(seed ?? nextSeed());
      if (this.cell.recurrentDropout > 0) this.streams.recurrent = randomStreams(seed === undefined ? nextSeed() : seed + 1);
    }
  }

  /** The sizes of the cell's states. */
  get stateSizes(): number[] {
    const s = this.cell.stateSize;
    return Array.isArray(s) ? s.slice() : [s];
  }
  private get outputSize(): number {
    return this.cell.outputSize ?? this.stateSizes[0];
  }
  /** Built-in cells output their first state, so a masked step repeats it without extra state. */
  private get builtin(): boolean {
    return this.cell instanceof RecurrentCell;
  }

  override subLayers(): Layer[] {
    return [this.cell];
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
    const s = shapes[0];
    if (s.length !== 3) throw shapeError(this.name, `${classNameOf(this)} expects inputs [batch, steps, features], got ${fmtShape(s)}`);
    if (s[2] === null) throw shapeError(this.name, `the features axis of the input must be known to build the cell, got ${fmtShape(s)}`);
    this.cell.ensureBuilt([s[0], s[2]]);
    if (this.stateful) {
      const b = s[0] ?? this.batchInputShape?.[0] ?? null;
      if (b === null) throw shapeError(this.name, 'a stateful layer needs a fixed batch size: give batchSize with the input shape (st.input({ shape, batchSize }) or inputShape + batchSize)');
      this.states = this.stateSizes.map((n, i) => shared(zerosTensor([b, n], this.dtype), `${this.name}/state_${i}`));
    }
    this.built = true;
  }

  /**
   * Sets the stateful layer's states to zeros, or to the given values ([batchSize, size] each).
   * @example model.layers[1].resetStates();
   */
  resetStates(values?: (Tensor | TensorData)[]): void {
    if (!this.stateful || !this.states) throw argError(`${this.name}.resetStates`, this.stateful ? 'the layer is not built yet' : 'the layer is not stateful (create it with stateful: true)');
    const st = this.states;
    if (values !== undefined && (!Array.isArray(values) || values.length !== st.length))
      throw argError(`${this.name}.resetStates`, `expected ${st.length} state value${st.length === 1 ? '' : 's'}, got ${Array.isArray(values) ? values.length : fmtValue(values)}`);
    st.forEach((v, i) => {
      if (values) return v.set(values[i]);
      const z = zerosTensor(v.type.shape as number[], v.dtype);
      v.set(z);
      z.dispose();
    });
  }

  /** Splits the call's inputs into x, mask and initial states, checked. */
  private parts(inputs: V | V[]): CallParts {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const n = this.stateSizes.length;
    const k = list.length - 1;
    let mask: V | null = null, initial: V[] | null = null;
    if (k === n + 1) [mask, initial] = [list[1], list.slice(2)];
    else if (k === 1 && n === 1) (list[1].dtype === 'bool' ? (mask = list[1]) : (initial = [list[1]]));
    else if (k === 1) mask = list[1];
    else if (k === n) initial = list.slice(1);
    else if (k !== 0)
      throw argError(this.name, `inputs must be x, [x, mask], [x, ...initialStates] or [x, mask, ...initialStates] (${n} state${n === 1 ? '' : 's'}), got ${list.length} inputs`);
    const x = asDtype(list[0], this.dtype);
    if (x.ndim !== 3) throw shapeError(this.name, `${classNameOf(this)} expects inputs [batch, steps, features], got ${fmtShape(x.type.shape)}`);
    if (mask) {
      const [mb, ms] = mask.type.shape, [xb, xs] = x.type.shape;
      if (mask.ndim !== 2 || (mb !== null && xb !== null && mb !== xb) || (ms !== null && xs !== null && ms !== xs))
        throw shapeError(this.name, `the mask must be [batch, steps] = ${fmtShape([xb, xs])}, got ${fmtShape(mask.type.shape)}`);
      mask = mask.dtype === 'bool' ? mask : T.notEqual(mask, 0);
    }
    if (initial) {
      if (this.stateful) throw argError(this.name, 'a stateful layer starts from its own states; initial states cannot be given (use resetStates(values))');
      initial = initial.map((h, i) => {
        const want = this.stateSizes[i];
        const d = h.type.shape[1];
        if (h.ndim !== 2 || (d !== null && d !== want)) throw shapeError(this.name, `initial state ${i} must be [batch, ${want}], got ${fmtShape(h.type.shape)}`);
        return asDtype(h, this.dtype);
      });
    }
    return { x, mask, initial };
  }

  /** The Keras mask of the output: the input's with returnSequences, none for the last step or the states. */
  override computeMask(_inputs: V | V[], mask: Mask | Mask[]): Mask | Mask[] {
    const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    const out = this.returnSequences ? m : null;
    return this.returnState ? [out, ...this.stateSizes.map(() => null)] : out;
  }

  /** The Keras mask the input carries, checked against x ([batch, steps]); null when none. */
  private carriedMask(x: V, mask: Mask | Mask[] | undefined): V | null {
    const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    if (!m) return null;
    const [mb, ms] = m.type.shape, [xb, xs] = x.type.shape;
    if (m.ndim !== 2 || (mb !== null && xb !== null && mb !== xb) || (ms !== null && xs !== null && ms !== xs))
      throw shapeError(this.name, `the mask carried by the input must be [batch, steps] = ${fmtShape([xb, xs])}, got ${fmtShape(m.type.shape)}`);
    return m.dtype === 'bool' ? m : T.notEqual(m, 0);
  }

  call(inputs: V | V[], ctx: CallContext, kerasMask?: Mask | Mask[]): V | V[] {
    const { x, mask: given, initial } = this.parts(inputs);
    const carried = this.carriedMask(x, kerasMask);
    const mask = given && carried ? T.logicalAnd(given, carried) : (given ?? carried);
    const batch = x.type.shape[0] ?? x.shape[0];
    const zeros = (n: number) => T.zeros([batch, n], this.dtype);
    const init = initial ?? this.states ?? this.stateSizes.map(zeros);
    let xs = T.transpose(x, [1, 0, 2]); // time-major: the scan iterates over axis 0
    const ms = mask ? T.expandDims(T.transpose(mask, [1, 0]), -1) : null; // [steps, batch, 1]
    const cell = this.cell;
    const training = ctx.training;
    // dropout masks, one per sequence (Keras's): inputs before the projection, the recurrent one inside the step
    let recMask: V | null = null;
    if (training && cell instanceof RecurrentCell) {
      const f = x.type.shape[2] as number;
      if (this.streams.input) xs = T.mul(xs, this.streams.input.dropoutMask([batch, f], cell.dropout, this.dtype as 'float32'));
      if (this.streams.recurrent) recMask = this.streams.recurrent.dropoutMask([batch, cell.units], cell.recurrentDropout, this.dtype as 'float32');
    }
    const nStates = init.length;
    const keep = (m: V | null, now: V, before: V) => (m ? T.where(m, now, before) : now);
    let outputs: V[];
    if (cell instanceof RecurrentCell) {
      // the input products of every step: one GEMM before the loop
      const zs = cell.project(xs);
      const savedSizes = training ? cell.savedSizes() : [];
      const step = (...args: V[]) => {
        const z = args[0], m = mask ? args[1] : null;
        const prev = args.slice(mask ? 2 : 1, (mask ? 2 : 1) + nStates);
        const p = cell.recur(z, prev, recMask);
        const next = p.states.map((v, i) => keep(m, v, prev[i]));
        // the output again as a per-step output: stacked without the initial row
        return [...next, ...p.saved.slice(0, savedSizes.length), next[0]];
      };
      const [outs] = T.scan(step, {
        sequences: ms ? [zs, ms] : [zs],
        outputsInfo: [...init, ...savedSizes.map(zeros), null],
        goBackwards: this.goBackwards,
        name: `${this.name}.scan`,
      });
      const list = outs as V[];
      outputs = [list[list.length - 1], ...list.slice(0, nStates)];
    } else {
      const carryOut = !!mask; // a masked step repeats the previous output: carry it as a state
      const step = (...args: V[]) => {
        const xt = args[0], m = mask ? args[1] : null;
        const prev = args.slice(mask ? 2 : 1, (mask ? 2 : 1) + nStates);
        const prevOut = carryOut ? args[(mask ? 2 : 1) + nStates] : null;
        const r = cell.call([xt, ...prev], ctx);
        const list = Array.isArray(r) ? r : [r];
        if (list.length !== 1 + nStates)
          throw argError(this.name, `the cell returned ${list.length} value${list.length === 1 ? '' : 's'}; it must return [output, ...newStates] (${nStates} state${nStates === 1 ? '' : 's'})`);
        const [out, ...next] = list;
        const shown = carryOut ? keep(m, out, prevOut!) : out;
        return [...next.map((v, i) => keep(m, v, prev[i])), ...(carryOut ? [shown] : []), shown];
      };
      const [outs] = T.scan(step, {
        sequences: ms ? [xs, ms] : [xs],
        outputsInfo: [...init, ...(carryOut ? [zeros(this.outputSize)] : []), null],
        goBackwards: this.goBackwards,
        name: `${this.name}.scan`,
      });
      const list = outs as V[];
      outputs = [list[list.length - 1], ...list.slice(0, nStates)];
    }
    const [ys, ...stateSeqs] = outputs;
    const finals = stateSeqs.map((s) => s.get([-1]));
    // Keras carries a stateful layer's states through predict and evaluate too
    if (this.stateful && this.states) this.states.forEach((v, i) => (ctx.addStateUpdate ? ctx.addStateUpdate(v, finals[i]) : ctx.addUpdate(v, finals[i])));
    let y: V;
    if (this.returnSequences) {
      let seq = ys;
      if (ms && this.zeroOutputForMask) seq = T.mul(seq, T.cast(ms, seq.dtype));
      y = T.transpose(seq, [1, 0, 2]);
    } else y = ys.get([-1]);
    addActivityLoss(ctx, this.activityRegularizer, y);
    return this.returnState ? [y, ...finals] : y;
  }

  override getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      ...super.getConfig(),
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      goBackwards: this.goBackwards,
      stateful: this.stateful,
      zeroOutputForMask: this.zeroOutputForMask,
      unroll: false,
      activityRegularizer: regularizerConfig(this.activityRegularizer),
    };
    if (this.constructor === RNN) c.cell = { className: classNameOf(this.cell), config: this.cell.getConfig() };
    return c;
  }
}
registerLayer('RNN', RNN);

function snake(s: string): string {
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** @internal A cell from a layer instance or its saved {className, config}, checked to have a stateSize. */
export function makeCell(layer: string, cell: unknown): CellLike {
  if (cell instanceof Layer) {
    if (!('stateSize' in cell)) throw argError(layer, `the cell ${cell.name} has no stateSize; a cell is a layer with stateSize whose call maps [x, ...states] to [output, ...newStates]`);
    return cell as CellLike;
  }
  if (cell && typeof cell === 'object' && typeof (cell as { className?: unknown }).className === 'string') {
    const { className, config } = cell as { className: string; config?: Record<string, unknown> };
    return makeCell(layer, new (layerClass(className))(config ?? {}));
  }
  throw argError(layer, `needs a cell: a layer with stateSize (e.g. new st.layers.LSTMCell({ units: 8 })) or its {className, config}, got ${fmtValue(cell)}`);
}

/** @example st.layers.rnn({ cell: new st.layers.GRUCell({ units: 16 }), returnSequences: true }) */
export const rnn = (o: RNNArgs) => new RNN(o);

// ---- SimpleRNN, LSTM, GRU ----

/** Options of {@link SimpleRNN}: the cell's and the recurrent layer's. */
export type SimpleRNNArgs = SimpleRNNCellArgs & RNNOptions & { activityRegularizer?: RegularizerId };
/** Options of {@link LSTM}: the cell's and the recurrent layer's. */
export type LSTMArgs = LSTMCellArgs & RNNOptions & { activityRegularizer?: RegularizerId };
/** Options of {@link GRU}: the cell's and the recurrent layer's. */
export type GRUArgs = GRUCellArgs & RNNOptions & { activityRegularizer?: RegularizerId };

/** The cell's options out of a layer's options. */
function cellArgs(args: Record<string, unknown>, names: string[], name: string, dtype: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { name, dtype };
  for (const k of names) if (args[k] !== undefined) out[k] = args[k];
  return out;
}

/** The layer's config: its RNN options and its cell's (without the cell's own name). */
function mergedConfig(layer: RNN): Record<string, unknown> {
  const { name: _n, trainable: _t, dtype: _d, ...cell } = layer.cell.getConfig();
  return { ...RNN.prototype.getConfig.call(layer), ...cell };
}

/** Keras's SimpleRNN: h = tanh(x·kernel + h₋₁·recurrentKernel + bias) over the steps. Params: d·u + u² + u. */
export class SimpleRNN extends RNN {
  constructor(args: SimpleRNNArgs) {
    super(args, (name) => new SimpleRNNCell(cellArgs(args as unknown as Record<string, unknown>, CELL_OPTIONS, name, args?.dtype) as unknown as SimpleRNNCellArgs), CELL_OPTIONS);
  }
  override getConfig(): Record<string, unknown> {
    return mergedConfig(this);
  }
}
registerLayer('SimpleRNN', SimpleRNN);

const LSTM_OPTIONS = [...CELL_OPTIONS, 'recurrentActivation', 'unitForgetBias'];
/**
 * Keras's LSTM (gates i, f, c, o; unitForgetBias).  Params: 4·(d·u + u² + u).
 * @example st.layers.lstm({ units: 64, returnSequences: true })
 */
export class LSTM extends RNN {
  constructor(args: LSTMArgs) {
    super(args, (name) => new LSTMCell(cellArgs(args as unknown as Record<string, unknown>, LSTM_OPTIONS, name, args?.dtype) as unknown as LSTMCellArgs), LSTM_OPTIONS);
  }
  override getConfig(): Record<string, unknown> {
    return mergedConfig(this);
  }
}
registerLayer('LSTM', LSTM);

const GRU_OPTIONS = [...CELL_OPTIONS, 'recurrentActivation', 'resetAfter'];
/** Keras's GRU (gates z, r, h; resetAfter default true).  Params: 3·(d·u + u² + 2u), or 3·(d·u + u² + u) without resetAfter. */
export class GRU extends RNN {
  constructor(args: GRUArgs) {
    super(args, (name) => new GRUCell(cellArgs(args as unknown as Record<string, unknown>, GRU_OPTIONS, name, args?.dtype) as unknown as GRUCellArgs), GRU_OPTIONS);
  }
  override getConfig(): Record<string, unknown> {
    return mergedConfig(this);
  }
}
registerLayer('GRU', GRU);

/** @example st.layers.simpleRNN({ units: 32 }) */
export const simpleRNN = (o: SimpleRNNArgs) => new SimpleRNN(o);
/** @example st.layers.lstm({ units: 64, returnSequences: true }) */
export const lstm = (o: LSTMArgs) => new LSTM(o);
/** @example st.layers.gru({ units: 32 }) */
export const gru = (o: GRUArgs) => new GRU(o);
