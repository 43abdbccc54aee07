// The Keras Layer: weights created once in build(), a symbolic call() over T ops, and the
// bookkeeping of the functional API (each application of a layer to KerasTensors is a Node).
// A layer never runs kernels: models trace call() into graphs and compile them with fn().
import { DType, isDType } from '../dtype';
import { SymtensorError, argError, fmtShape, fmtValue } from '../errors';
import { SharedVariable, shared } from '../graph/shared';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';
import type { Tensor } from '../tensor/tensor';
import type { TensorData } from '../tensor/convert';
import { Constraint, getConstraint } from './constraints';
import { Initializer, getInitializer } from './initializers';
import { Regularizer, getRegularizer } from './regularizers';

/** A shape with the batch dimension first; null where unknown until run time. */
export type Shape = (number | null)[];

/** What call() receives besides its inputs. */
export interface CallContext {
  /** True in training steps (dropout drops, batch normalization uses and updates batch statistics). */
  readonly training: boolean;
  /** A new value for a non-trainable state variable, applied after the step (batch-norm moving averages). */
  addUpdate(variable: SharedVariable, value: Variable): void;
  /** A scalar added to the training loss (activity regularization and similar). */
  addLoss(loss: Variable): void;
  /**
   * A new value for a state that advances in every mode, inference included (a stateful recurrent
   * layer's states, as Keras carries them through fit, evaluate and predict).  Every compiled
   * step of a model (fit, evaluate, predict and the …OnBatch methods) applies these after the
   * step; unlike addUpdate's values they are never averaged over MPI ranks (each rank keeps its
   * own states).  Contexts without it take such updates through addUpdate (training only).
   */
  addStateUpdate?(variable: SharedVariable, value: Variable): void;
}

/** A layer whose states carry over from one call to the next (Keras's stateful recurrent layers). */
export interface StatefulLayer extends Layer {
  readonly stateful: boolean;
  /** The state variables ([batchSize, size] each), null until built. */
  readonly states: SharedVariable[] | null;
  /** Sets the states to zeros (or to the given values). */
  resetStates(values?: (Tensor | TensorData)[]): void;
}

/** @internal Every built stateful layer under `root` (itself included, nested layers searched), once each. */
export function statefulLayers(root: Layer): StatefulLayer[] {
  const out: StatefulLayer[] = [];
  const seen = new Set<Layer>();
  const stack: Layer[] = [root];
  while (stack.length) {
    const l = stack.pop()!;
    if (seen.has(l)) continue;
    seen.add(l);
    const c = l as Partial<StatefulLayer>;
    if (c.stateful === true && Array.isArray(c.states) && typeof c.resetStates === 'function') out.push(l as StatefulLayer);
    stack.push(...l.subLayers().slice().reverse());
  }
  return out;
}

/**
 * A Keras mask: [batch, steps] bool, true at the steps to use; null where a value has none.
 * Layers such as `embedding({ maskZero: true })` and `masking()` produce one; layers with
 * `supportsMasking` receive it in `call` and pass it on through `computeMask`.
 */
export type Mask = Variable | null;

/** A context for tracing outside training: updates and losses are dropped. */
export function inferenceContext(): CallContext {
  return { training: false, addUpdate() {}, addLoss() {} };
}

/** The options every layer takes (Keras's base Layer arguments, in camelCase). */
export interface LayerArgs {
  name?: string;
  /** False freezes every weight of the layer (the optimizer leaves them alone). */
  trainable?: boolean;
  /** The input shape without the batch dimension, for a layer that starts a Sequential model. */
  inputShape?: Shape;
  /** A fixed batch size for that input. */
  batchSize?: number;
  /** The dtype of the layer's weights (default float32). */
  dtype?: DType;
}

/** How a layer's weight is made and trained: its initializer, regularizer, constraint, trainability and dtype. */
export interface WeightOptions {
  initializer?: string | Initializer | { className: string; config?: Record<string, unknown> };
  regularizer?: string | Regularizer | { className: string; config?: Record<string, unknown> } | null;
  constraint?: string | Constraint | { className: string; config?: Record<string, unknown> } | null;
  trainable?: boolean;
  dtype?: DType;
}

/** One weight of a layer with what applies to it during training. */
export interface LayerWeight {
  readonly name: string;
  readonly variable: SharedVariable;
  readonly trainable: boolean;
  readonly regularizer: Regularizer | null;
  readonly constraint: Constraint | null;
}

/** One application of a layer in a functional graph. */
export class Node {
  constructor(
    readonly layer: Layer,
    readonly inputs: KerasTensor[],
    readonly outputs: KerasTensor[],
    /** The layer was given a list (call receives an array even for one input). */
    readonly listInput = false,
  ) {}
}

/**
 * A symbolic placeholder of the functional API: the shape and dtype a layer's output will have,
 * and the node that produces it.  Model inputs come from `st.input()`.
 */
export class KerasTensor {
  /** @internal Set once the producing node exists. */
  node!: Node;
  /** The shape of the Keras mask this value carries ([batch, steps]), null when it carries none. */
  maskShape: Shape | null = null;
  constructor(
    readonly shape: Shape,
    readonly dtype: DType,
    /** Which output of its node this is. */
    readonly index: number,
    readonly name: string,
  ) {}
  /** The rank, batch axis included. */
  get ndim(): number {
    return this.shape.length;
  }
  /** `KerasTensor(name, shape=…, dtype=…)`. */
  toString(): string {
    return `KerasTensor(${this.name}, shape=${fmtShape(this.shape)}, dtype=${this.dtype})`;
  }
}

// ---- names and the registry of layer classes (for loading saved models) ----
const nameCounts = new Map<string, number>();

/** Keras's automatic layer names: dense, dense_1, dense_2 … per base name. */
export function uniqueName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

function snakeCase(s: string): string {
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** A layer class that can be rebuilt from its config (what registerLayer takes). */
type LayerClass = new (config: any) => Layer;
const registry = new Map<string, LayerClass>();

/**
 * Registers a layer class under a name so saved models that use it can be loaded.  Built-in layers
 * register themselves; custom layers call this once.
 * @example st.layers.registerLayer('MyDense', MyDense);
 */
export function registerLayer(className: string, cls: LayerClass): void {
  if (typeof className !== 'string' || !className) throw argError('registerLayer', 'the class name must be a non-empty string');
  if (typeof cls !== 'function') throw argError('registerLayer', `${className}: expected a layer class`);
  registry.set(className, cls);
}

/** The registered class for a saved layer's class name. */
export function layerClass(className: string): LayerClass {
  const cls = registry.get(className);
  if (!cls) {
    throw new SymtensorError(
      'ERR_ST_ARG',
      'loadModel',
      `unknown layer class '${className}'; register custom layers with st.layers.registerLayer('${className}', ${className}) before loading (registered: ${[...registry.keys()].sort().join(', ')})`,
    );
  }
  return cls;
}

/** The registered name of a layer's class (its constructor name unless registered otherwise). */
export function classNameOf(layer: Layer): string {
  for (const [name, cls] of registry) if (cls === layer.constructor) return name;
  return layer.constructor.name;
}

function shapesOf(x: KerasTensor | KerasTensor[]): Shape | Shape[] {
  return Array.isArray(x) ? x.map((t) => t.shape.slice()) : x.shape.slice();
}

function checkShapeArg(op: string, s: unknown): Shape {
  if (!Array.isArray(s) || s.some((d) => d !== null && !(Number.isInteger(d) && d >= 0)))
    throw argError(op, `a shape must be an array of non-negative integers (or null for unknown), got ${fmtValue(s)}`);
  return s as Shape;
}

/**
 * The base of every layer.  Subclasses create weights in `build(inputShape)` with `addWeight` and
 * compute outputs in `call(inputs, ctx)` with any `T` ops (gradients come from the ops).  Output
 * shapes are inferred by tracing `call` on placeholders unless `computeOutputShape` is overridden.
 * @example
 *   class Scale extends st.layers.Layer {
 *     w!: st.SharedVariable;
 *     build(shape) { this.w = this.addWeight('w', [shape[shape.length - 1]!], { initializer: 'ones' }); }
 *     call(x) { return x.mul(this.w); }
 *   }
 */
export abstract class Layer {
  name: string;
  /** Layers own weights only after build(). */
  built = false;
  /** The weights' dtype. */
  readonly dtype: DType;
  /** For a first layer: the input shape without the batch dimension. */
  readonly batchInputShape: Shape | null;
  /** @internal Every application of this layer in a functional graph. */
  readonly inboundNodes: Node[] = [];
  /**
   * Whether the layer accepts inputs that carry a Keras mask (Keras's supports_masking).  A layer
   * without it refuses a masked input; one with it receives the mask as call's third argument and
   * says what mask its outputs carry with `computeMask` (by default the input's).
   */
  supportsMasking = false;
  private _trainable: boolean;
  private readonly _weights: LayerWeight[] = [];
  private readonly _args: LayerArgs;

  constructor(args: LayerArgs = {}) {
    if (args === null || typeof args !== 'object') throw argError(this.constructor.name, `options must be an object, got ${String(args)}`);
    this._args = args;
    this.name = args.name ?? uniqueName(snakeCase(this.constructor.name));
    this._trainable = args.trainable ?? true;
    if (args.dtype !== undefined && !isDType(args.dtype)) throw argError(this.name, `unknown dtype '${String(args.dtype)}'`);
    this.dtype = args.dtype ?? 'float32';
    this.batchInputShape = args.inputShape ? [args.batchSize ?? null, ...checkShapeArg(this.name, args.inputShape)] : null;
  }

  /** Whether the optimizer may change this layer's weights. */
  get trainable(): boolean {
    return this._trainable;
  }
  /** False freezes the layer's weights: the optimizer leaves them alone. */
  set trainable(v: boolean) {
    this._trainable = v;
  }

  /** Creates the weights for inputs of this shape (batch first).  Called once, before the first call. */
  build(_inputShape: Shape | Shape[]): void {
    this.built = true;
  }

  /**
   * The layer's computation on symbolic inputs.  `mask` is the Keras mask the inputs carry (one
   * per input for a list; given only when some input carries one, and only to layers with
   * `supportsMasking`).
   */
  abstract call(inputs: Variable | Variable[], ctx: CallContext, mask?: Mask | Mask[]): Variable | Variable[];

  /**
   * The Keras mask of the outputs for these inputs and input masks (Keras's compute_mask): one
   * mask, or one per output for a layer with several outputs (a single mask then belongs to the
   * first output).  The default passes the (first) input's mask on when the layer supports
   * masking and gives none otherwise; layers that make masks (embedding with maskZero, masking)
   * or drop them (those that collapse the steps axis) override it.
   * @example
   *   class MeanOverSteps extends st.layers.Layer {
   *     supportsMasking = true;
   *     computeMask() { return null; } // the steps axis is gone
   *     call(x) { return T.mean(x, 1); }
   *   }
   */
  computeMask(inputs: Variable | Variable[], mask: Mask | Mask[]): Mask | Mask[] {
    void inputs;
    if (!this.supportsMasking) return null;
    return Array.isArray(mask) ? (mask[0] ?? null) : mask;
  }

  /**
   * The output shape for an input shape.  By default it is inferred by tracing call() on
   * placeholders, so most layers need not say.
   */
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const out = this.traceCall(inputShape, inputDtypes(inputShape, this.dtype));
    return Array.isArray(out) ? out.map((v) => v.type.shape.slice()) : out.type.shape.slice();
  }

  /** @internal Builds if needed and calls on fresh placeholders of these shapes. */
  traceCall(inputShape: Shape | Shape[], dtypes: DType | DType[]): Variable | Variable[] {
    this.ensureBuilt(inputShape);
    const mk = (s: Shape, d: DType) => T.tensor(d, s.slice(), 'input');
    const placeholders = isShapeList(inputShape)
      ? inputShape.map((s, i) => mk(s, (dtypes as DType[])[i]))
      : mk(inputShape as Shape, dtypes as DType);
    return this.call(placeholders, inferenceContext());
  }

  /** @internal */
  ensureBuilt(inputShape: Shape | Shape[]): void {
    if (this.built) return;
    try {
      this.build(inputShape);
    } catch (e) {
      if (e instanceof SymtensorError) throw e;
      throw new SymtensorError('ERR_ST_ARG', this.name, `build failed for input shape ${fmtAny(inputShape)}: ${(e as Error).message}`);
    }
    this.built = true;
  }

  /**
   * Applies the layer.  On KerasTensors (from `st.input()` or other layers) it records a node of
   * the functional graph and returns the output placeholders; on symbolic Variables it calls the
   * layer directly (in inference mode unless `training`), so layers can be used inside hand-written
   * T graphs; `mask` then gives the Keras mask of the input (one per input for a list), as Keras's
   * `layer(x, mask=…)`.
   */
  apply(inputs: KerasTensor): KerasTensor;
  apply(inputs: KerasTensor[]): KerasTensor | KerasTensor[];
  apply(inputs: Variable | Variable[], opts?: { training?: boolean; mask?: Mask | Mask[] }): Variable | Variable[];
  apply(inputs: KerasTensor | KerasTensor[] | Variable | Variable[], opts: { training?: boolean; mask?: Mask | Mask[] } = {}): unknown {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length === 0) throw argError(this.name, 'apply() needs at least one input');
    if (list.every((x) => x instanceof Variable)) {
      const vars = list as Variable[];
      const shape = Array.isArray(inputs) ? vars.map((v) => v.type.shape.slice()) : vars[0].type.shape.slice();
      this.ensureBuilt(shape);
      const ctx: CallContext = { training: opts.training ?? false, addUpdate() {}, addLoss() {} };
      const masks = opts.mask === undefined ? [] : Array.isArray(opts.mask) ? opts.mask : [opts.mask];
      if (masks.some((m) => m !== null && !(m instanceof Variable)))
        throw argError(this.name, `apply(): mask must be a symbolic bool Variable [batch, steps] (or null), got ${masks.map(describeArg).join(', ')}`);
      const given = masks.some((m) => m);
      if (given && !this.supportsMasking) throw argError(this.name, `${classNameOf(this)} does not support masking, but apply() was given a mask`);
      return this.call(Array.isArray(inputs) ? vars : vars[0], ctx, given ? opts.mask : undefined);
    }
    if (!list.every((x) => x instanceof KerasTensor)) {
      throw argError(this.name, `apply() takes KerasTensors (from st.input() or other layers) or symbolic Variables, got ${list.map(describeArg).join(', ')}`);
    }
    const kts = list as KerasTensor[];
    const inShape = Array.isArray(inputs) ? shapesOf(kts) : kts[0].shape.slice();
    const wrap = (e: unknown) => {
      if (!(e instanceof SymtensorError)) return e;
      return new SymtensorError(e.code, this.name, `cannot be applied to input shape ${fmtAny(inShape)}: ${e.message}`);
    };
    try {
      this.ensureBuilt(inShape);
    } catch (e) {
      throw wrap(e);
    }
    checkMaskSupport(this, kts);
    let outVars: Variable[];
    let outMasks: Mask[];
    let multi: boolean;
    try {
      const mk = (s: Shape, d: DType) => T.tensor(d, s.slice(), 'input');
      const vals = kts.map((k) => mk(k.shape, k.dtype));
      const masks = kts.map((k) => (k.maskShape ? mk(k.maskShape, 'bool') : null));
      const arg = Array.isArray(inputs) ? vals : vals[0];
      const maskArg = masks.some((m) => m) ? (Array.isArray(inputs) ? masks : masks[0]) : undefined;
      const out = this.call(arg, inferenceContext(), maskArg);
      multi = Array.isArray(out);
      outVars = Array.isArray(out) ? out : [out];
      outMasks = outputMasks(this, outVars.length, this.computeMask(arg, maskArg ?? (Array.isArray(inputs) ? masks : null)));
    } catch (e) {
      throw wrap(e);
    }
    const outs = outVars.map((v, i) => new KerasTensor(v.type.shape.slice(), v.dtype, i, multi ? `${this.name}/out${i}` : `${this.name}/out`));
    outs.forEach((o, i) => (o.maskShape = outMasks[i] ? outMasks[i]!.type.shape.slice() : null));
    const node = new Node(this, kts, outs, Array.isArray(inputs));
    for (const o of outs) o.node = node;
    this.inboundNodes.push(node);
    return multi ? outs : outs[0];
  }

  /**
   * Creates a weight: a shared variable initialized now, named `<layer>/<name>`.
   * Call it from build().
   */
  addWeight(name: string, shape: number[], opts: WeightOptions = {}): SharedVariable {
    if (typeof name !== 'string' || !name) throw argError(`${this.name}.addWeight`, 'a weight needs a name');
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
      throw argError(`${this.name}.addWeight`, `weight '${name}' needs a static shape of non-negative integers, got ${fmtValue(shape)}`);
    if (this._weights.some((w) => w.name === name)) throw argError(`${this.name}.addWeight`, `the layer already has a weight named '${name}'`);
    const init = getInitializer(opts.initializer ?? 'glorotUniform');
    const value = init.call(shape, opts.dtype ?? this.dtype);
    const variable = shared(value, `${this.name}/${name}`);
    value.dispose();
    this._weights.push({
      name,
      variable,
      trainable: opts.trainable ?? true,
      regularizer: opts.regularizer ? getRegularizer(opts.regularizer) : null,
      constraint: opts.constraint ? getConstraint(opts.constraint) : null,
    });
    return variable;
  }

  /** @internal This layer's own weights (sub-layers add theirs through `subLayers`). */
  ownWeights(): LayerWeight[] {
    return this._weights;
  }

  /** Layers nested in this one (models, wrappers); their weights belong to this layer too. */
  subLayers(): Layer[] {
    return [];
  }

  /** Every weight with its training attributes, own first, then sub-layers', without repeats. */
  weightEntries(): (LayerWeight & { layerTrainable: boolean })[] {
    const out: (LayerWeight & { layerTrainable: boolean })[] = [];
    const seen = new Set<SharedVariable>();
    const visit = (layer: Layer, parentTrainable: boolean) => {
      const lt = parentTrainable && layer.trainable;
      for (const w of layer.ownWeights()) {
        if (seen.has(w.variable)) continue;
        seen.add(w.variable);
        out.push({ ...w, layerTrainable: lt });
      }
      for (const s of layer.subLayers()) visit(s, lt);
    };
    visit(this, true);
    return out;
  }

  /** All weights (trainable first, as Keras orders them). */
  get weights(): SharedVariable[] {
    return [...this.trainableWeights, ...this.nonTrainableWeights];
  }
  /** Weights the optimizer updates. */
  get trainableWeights(): SharedVariable[] {
    return this.weightEntries()
      .filter((w) => w.trainable && w.layerTrainable)
      .map((w) => w.variable);
  }
  /** Weights it does not (frozen layers, batch-norm moving statistics). */
  get nonTrainableWeights(): SharedVariable[] {
    return this.weightEntries()
      .filter((w) => !(w.trainable && w.layerTrainable))
      .map((w) => w.variable);
  }

  /** Number of scalars in the weights. */
  countParams(): number {
    if (!this.built) throw new SymtensorError('ERR_ST_ARG', `${this.name}.countParams`, 'the layer is not built yet: call it on an input (or give the model an input shape) first');
    return this.weights.reduce((n, w) => n + w.type.shape.reduce<number>((a, d) => a * (d as number), 1), 0);
  }

  /** Copies of the weights' values, in `weights` order. */
  getWeights(): Tensor[] {
    return this.weights.map((w) => w.get());
  }

  /** Sets the weights' values, in `weights` order; shapes must match. */
  setWeights(values: (Tensor | TensorData)[]): void {
    const ws = this.weights;
    if (!Array.isArray(values) || values.length !== ws.length)
      throw argError(`${this.name}.setWeights`, `expected ${ws.length} arrays (${ws.map((w) => `${w.name} ${fmtShape(w.type.shape)}`).join(', ')}), got ${Array.isArray(values) ? values.length : typeof values}`);
    // check every shape before changing any, so a failed call changes nothing
    const ts = values.map((v, i) => {
      const shape = (v as Tensor).shape;
      if (shape && (shape.length !== ws[i].type.shape.length || shape.some((d, k) => d !== ws[i].type.shape[k])))
        throw argError(`${this.name}.setWeights`, `${ws[i].name} is ${fmtShape(ws[i].type.shape)}; got ${fmtShape(shape)}`);
      return v;
    });
    ts.forEach((v, i) => ws[i].set(v));
  }

  /** The constructor options that recreate this layer (without weights); JSON-able. */
  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: this.dtype };
    if (this.batchInputShape) {
      c.inputShape = this.batchInputShape.slice(1);
      if (this.batchInputShape[0] !== null) c.batchSize = this.batchInputShape[0];
    }
    return c;
  }

  /** @internal The options the layer was made with. */
  protected get args(): LayerArgs {
    return this._args;
  }

  /** `ClassName(layerName)`. */
  toString(): string {
    return `${classNameOf(this)}(${this.name})`;
  }
}

/** @internal Throws when a layer without supportsMasking gets a masked input (as Keras 2 did). */
export function checkMaskSupport(layer: Layer, inputs: KerasTensor[]): void {
  if (layer.supportsMasking) return;
  const masked = inputs.find((k) => k.maskShape);
  if (!masked) return;
  throw new SymtensorError(
    'ERR_ST_ARG',
    layer.name,
    `${classNameOf(layer)} does not support masking, but its input ${masked.name} ${fmtShape(masked.shape)} carries a mask ${fmtShape(masked.maskShape!)} (from ${masked.node.layer.name}). ` +
      'Put it after a layer that consumes or drops the mask (a recurrent layer without returnSequences, a global pooling layer), or remove the mask (maskZero: false, no masking layer)',
  );
}

/** @internal The per-output masks of computeMask's answer, checked. */
export function outputMasks(layer: Layer, nOut: number, m: Mask | Mask[]): Mask[] {
  const list = Array.isArray(m) ? m : [m];
  if (list.length > nOut) throw new SymtensorError('ERR_ST_ARG', layer.name, `computeMask returned ${list.length} masks for ${nOut} output${nOut === 1 ? '' : 's'}`);
  const out: Mask[] = [];
  for (let i = 0; i < nOut; i++) {
    const v = list[i] ?? null;
    if (v !== null && !(v instanceof Variable)) throw new SymtensorError('ERR_ST_ARG', layer.name, `computeMask must return symbolic bool masks (or null), got ${describeArg(v)}`);
    out.push(v === null ? null : v.dtype === 'bool' ? v : T.notEqual(v, 0));
  }
  return out;
}

function isShapeList(s: Shape | Shape[]): s is Shape[] {
  return s.length > 0 && Array.isArray(s[0]);
}

function inputDtypes(shape: Shape | Shape[], d: DType): DType | DType[] {
  return isShapeList(shape) ? shape.map(() => d) : d;
}

function fmtAny(s: Shape | Shape[]): string {
  return isShapeList(s) ? `[${s.map((x) => fmtShape(x)).join(', ')}]` : fmtShape(s as Shape);
}

function describeArg(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/** @internal For layers that take exactly one input. */
export function single(layer: Layer, x: Variable | Variable[]): Variable {
  if (Array.isArray(x)) {
    if (x.length !== 1) throw argError(layer.name, `expects one input, got ${x.length}`);
    return x[0];
  }
  return x;
}

/** @internal For layers that take several inputs. */
export function several(layer: Layer, x: Variable | Variable[], min = 2): Variable[] {
  if (!Array.isArray(x) || x.length < min) throw argError(layer.name, `expects a list of at least ${min} inputs`);
  return x;
}

export { fmtAny as formatShapes };
