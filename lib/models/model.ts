// Model (Keras's functional model) and Sequential: a graph of layers with compile / fit /
// evaluate / predict, summary and saving.
import { DType } from '../dtype';
import { SymtensorError, argError } from '../errors';
import { CompiledFunction, fn } from '../compile/function';
import { SharedVariable } from '../graph/shared';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';
import { Tensor } from '../tensor/tensor';
import { DataArgs, checkFeatureShapes, sampleCount, toTensors } from './data-args';
import { InputLayer, graphNodes, input, inputTensorOf, runGraphMasked } from './functional';
import { CallContext, KerasTensor, Layer, LayerArgs, Mask, Node, Shape, classNameOf as classNameOfLayer, registerLayer, statefulLayers } from './layer';
import { EvaluateOptions, FitOptions, checkStatefulBatch, clearStepCache, evaluateLoop, fitLoop, predictLoop } from './loops';
import { CompileArgs, CompiledModel, inferenceGraph, targetPlaceholder } from './training';
import { summaryText } from './summary';
import { checkOptions } from './options';
import { saveModelTo, saveWeightsTo, loadWeightsFrom } from './saving';
import { DataSource, FitDatasetOptions, fitDatasetLoop } from './dataset-loop';
import type { History } from './callbacks';
import { isDistributed } from '../tensor/distributed/index';

/**
 * The arguments of a functional model: its input placeholders (from `st.input()`), its outputs, and optionally a name.
 */
export interface ModelArgs {
  inputs: KerasTensor | KerasTensor[];
  outputs: KerasTensor | KerasTensor[];
  name?: string;
  trainable?: boolean;
}

/**
 * A functional model: layers applied to `st.input()` placeholders, with any number of inputs and
 * outputs and shared layers.
 * @example
 *   const x = st.input({ shape: [784] });
 *   const h = st.layers.dense({ units: 64, activation: 'relu' }).apply(x);
 *   const model = st.model({ inputs: x, outputs: st.layers.dense({ units: 10 }).apply(h) });
 */
export class Model extends Layer {
  inputs: KerasTensor[] = [];
  outputs: KerasTensor[] = [];
  protected nodes: Node[] = [];
  /** Set by callbacks (or by you) to stop fit after the current batch. */
  stopTraining = false;
  /** @internal The log keys of the most recent trainOnBatch/testOnBatch program. */
  lastStepKeys: string[] = [];
  /** @internal The training configuration, after compile(). */
  compiled: CompiledModel | null = null;
  private directCache = new Map<string, { f: CompiledFunction<Tensor[]>; keys: string[] }>();

  constructor(args?: ModelArgs, layerArgs: LayerArgs = {}) {
    super({ ...layerArgs, name: args?.name ?? layerArgs.name, trainable: args?.trainable ?? layerArgs.trainable });
    if (args) this.setGraph(args.inputs, args.outputs);
  }

  /** @internal */
  protected setGraph(inputs: KerasTensor | KerasTensor[], outputs: KerasTensor | KerasTensor[]): void {
    const ins = Array.isArray(inputs) ? inputs : [inputs];
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    if (ins.length === 0 || outs.length === 0) throw argError(this.name, 'a model needs at least one input and one output');
    ins.forEach((t, i) => {
      if (!(t instanceof KerasTensor) || !(t.node?.layer instanceof InputLayer))
        throw argError(this.name, `input ${i} must come from st.input(), got ${t instanceof KerasTensor ? `the output of ${t.node.layer.name}` : String(t)}`);
    });
    this.nodes = graphNodes(ins, outs, this.name);
    this.inputs = ins;
    this.outputs = outs;
    this.built = true;
    this.compiled = null;
    this.directCache.clear();
  }

  /** The layers in the order they run (input layers first). */
  get layers(): Layer[] {
    const seen = new Set<Layer>();
    const out: Layer[] = [];
    for (const t of this.inputs) if (!seen.has(t.node.layer)) seen.add(t.node.layer), out.push(t.node.layer);
    for (const n of this.nodes) if (!seen.has(n.layer)) seen.add(n.layer), out.push(n.layer);
    return out;
  }

  /** The layer with this name (or at this index). */
  getLayer(nameOrIndex: string | number): Layer {
    const ls = this.layers;
    const l = typeof nameOrIndex === 'number' ? ls[nameOrIndex] : ls.find((x) => x.name === nameOrIndex);
    if (!l) throw argError(`${this.name}.getLayer`, `no layer ${typeof nameOrIndex === 'number' ? `at index ${nameOrIndex}` : `named '${nameOrIndex}'`} (layers: ${ls.map((x) => x.name).join(', ')})`);
    return l;
  }

  /** @internal */
  graphNodes(): Node[] {
    return this.nodes;
  }

  override subLayers(): Layer[] {
    return this.layers;
  }

  /** The names of the input layers, in order. */
  inputNames(): string[] {
    return this.inputs.map((t) => t.node.layer.name);
  }
  /** The names of the outputs (their layers' names, suffixed by position where one layer gives several). */
  outputNames(): string[] {
    const names = this.outputs.map((t) => t.node.layer.name);
    return names.map((n, i) => (names.indexOf(n) !== i || names.lastIndexOf(n) !== i ? `${n}_${i}` : n));
  }
  /** The shapes of the inputs, batch axis (null) first. */
  inputShapes(): Shape[] {
    return this.inputs.map((t) => t.shape.slice());
  }
  /** The dtypes of the inputs. */
  inputDtypes(): DType[] {
    return this.inputs.map((t) => t.dtype);
  }

  call(inputs: Variable | Variable[], ctx: CallContext): Variable | Variable[] {
    const outs = this.runLayers(inputs, ctx).outputs;
    return outs.length === 1 ? outs[0] : outs;
  }

  /**
   * The forward pass with the Keras mask each output carries (null where none): a sequence
   * output's mask weights its loss and metrics in the training and test steps, as in Keras.
   * A subclass that overrides `call` computes its own outputs, which carry no mask.
   */
  callMasked(inputs: Variable | Variable[], ctx: CallContext): { outputs: Variable[]; masks: Mask[] } {
    if (this.call !== Model.prototype.call) {
      const out = this.call(inputs, ctx);
      const outputs = Array.isArray(out) ? out : [out];
      return { outputs, masks: outputs.map(() => null) };
    }
    return this.runLayers(inputs, ctx);
  }

  private runLayers(inputs: Variable | Variable[], ctx: CallContext): { outputs: Variable[]; masks: Mask[] } {
    const vals = Array.isArray(inputs) ? inputs : [inputs];
    if (vals.length !== this.inputs.length) throw argError(this.name, `expects ${this.inputs.length} inputs, got ${vals.length}`);
    return runGraphMasked(this.inputs, this.outputs, this.nodes, vals, ctx);
  }

  /**
   * Sets the states of every stateful layer of the model (nested models and wrappers included)
   * back to zeros, as Keras's model.reset_states().  Stateful recurrent layers carry their final
   * states from one batch to the next in every call (fit, evaluate, predict, the …OnBatch
   * methods); call this between independent sequences.  A model without stateful layers is left
   * as it is.
   * @example
   *   for (const chunk of chunks) await model.predictOnBatch(chunk); // one long sequence, in pieces
   *   model.resetStates();                                         // the next sequence starts fresh
   */
  resetStates(): void {
    for (const l of statefulLayers(this)) l.resetStates();
  }

  /** @internal The batch size the stateful layers' states were built for, and the first such layer; null without any. */
  statefulBatch(): { batchSize: number; layer: string } | null {
    for (const l of statefulLayers(this)) {
      const d = l.states?.[0]?.type.shape[0];
      if (typeof d === 'number') return { batchSize: d, layer: l.name };
    }
    return null;
  }

  override build(inputShape: Shape | Shape[]): void {
    void inputShape;
    this.built = true;
  }

  /** Configures training: optimizer, loss(es), metrics. */
  compile(args: CompileArgs): void {
    this.requireGraph('compile');
    this.compiled = new CompiledModel(this, args);
    this.directCache.clear();
    // the steps of the previous configuration are freed now rather than at the next fit
    clearStepCache(this);
  }

  /** The optimizer given to compile(). */
  get optimizer(): CompiledModel['optimizer'] | null {
    return this.compiled?.optimizer ?? null;
  }

  /**
   * Trains for a number of epochs; resolves to the History once done.  Runs off the event loop.
   *
   * Under MPI (`mpirun -np N node train.js`) fit is data-parallel by itself, Horovod's way:
   * `batchSize` is the GLOBAL batch, split evenly among the ranks (it must be a multiple of N);
   * every rank walks the same epoch order (rank 0's seed) and takes its contiguous share of each
   * batch; rank 0's weights and optimizer state are broadcast at the start; each step sums the
   * ranks' gradients (weighted so the result is the single-process mean over the global batch),
   * their loss and metric accumulators, and averages batch-norm statistics inside the one
   * compiled program, so weights, logs and callback decisions agree on every rank.  Only rank 0
   * prints progress (unless `verbose` is given) and ModelCheckpoint / CSVLogger write only there.
   * Every rank must call fit with the same arguments and the same data (each rank reads its rows
   * by index), and callbacks must not stop training on one rank alone; `model.save` writes on
   * whichever rank calls it (call it on rank 0).  Batch normalization uses each rank's share for
   * its batch statistics (not synchronized) and averages the moving statistics over the ranks.
   * Stateful recurrent layers keep their states per rank (each rank's share of a batch must then
   * be the batch size the layers were built for: batchSize = that size × the ranks).
   * @example
   *   // mpirun -np 2 node train.js: each rank runs 32 of the 64 samples of every step
   *   await model.fit(x, y, { epochs: 5, batchSize: 64 });
   */
  async fit(x: DataArgs, y: DataArgs, opts: FitOptions = {}): Promise<History> {
    this.requireGraph('fit', x);
    return fitLoop(this, x, y, opts);
  }

  /**
   * Trains on batches from an (async) iterable of {xs, ys} — data that does not fit in memory.
   * Under MPI each rank's iterable gives that rank's share of every global batch, and every rank
   * must give the same number of batches (each step is a collective).
   */
  async fitDataset(data: DataSource, opts: FitDatasetOptions = {}): Promise<History> {
    this.requireGraph('fitDataset');
    return fitDatasetLoop(this, data, opts);
  }

  /**
   * Loss (and metrics) over the data.  Under MPI each rank evaluates its share of every batch and
   * the sums are reduced across ranks, so every rank returns the whole data's result (every rank
   * must call it).  Stateful layers advance their states here too (batches as in predict).
   */
  async evaluate(x: DataArgs, y: DataArgs, opts: EvaluateOptions = {}): Promise<number | number[] | Record<string, number>> {
    this.requireGraph('evaluate', x);
    return evaluateLoop(this, x, y, opts);
  }

  /**
   * Outputs for every sample, in batches (one tensor per output).  Under MPI each rank predicts all
   * of its `x` by itself (no collective).  A model with stateful layers runs batches of exactly the
   * batch size they were built for (the default then; another batchSize, or a sample count that
   * is not a multiple of it, throws), and each batch continues from the previous one's states, as
   * in Keras; `resetStates()` starts over.
   */
  async predict(x: DataArgs, opts: { batchSize?: number; verbose?: 0 | 1 | 2 | 'auto' } = {}): Promise<Tensor | Tensor[]> {
    this.requireGraph('predict', x);
    return predictLoop(this, x, opts);
  }

  /**
   * One training step on one batch; returns the loss (and metrics).  Under MPI this is a
   * collective step: every rank calls it with its own share of the global batch, and the ranks'
   * gradients and metrics are combined as fit does.
   */
  async trainOnBatch(x: DataArgs, y: DataArgs, opts: { sampleWeight?: DataArgs; resetMetrics?: boolean } = {}): Promise<number | number[]> {
    return this.onBatch('train', x, y, opts);
  }

  /** The loss (and metrics) of one batch, without training. */
  async testOnBatch(x: DataArgs, y: DataArgs, opts: { sampleWeight?: DataArgs; resetMetrics?: boolean } = {}): Promise<number | number[]> {
    return this.onBatch('test', x, y, opts);
  }

  /** Outputs of one batch. */
  async predictOnBatch(x: DataArgs): Promise<Tensor | Tensor[]> {
    this.requireGraph('predictOnBatch', x);
    const op = `${this.name}.predictOnBatch`;
    const xi = toTensors(op, 'x', x, this.inputNames(), this.inputShapes(), this.inputDtypes());
    let outs: Tensor[];
    try {
      checkFeatureShapes(op, 'x', xi.tensors, this.inputNames(), this.inputShapes());
      checkStatefulBatch(op, this, xi.tensors[0]?.shape[0] ?? 0);
      let entry = this.directCache.get('predict');
      if (!entry) {
        const xs = this.inputs.map((t, i) => T.tensor(t.dtype, t.shape.slice(), this.inputNames()[i]));
        // a stateful layer's states advance in inference too
        const g = inferenceGraph(this, xs);
        entry = { f: fn(xs, g.outputs, { updates: g.updates, name: `${this.name}.predict`, onUnusedInput: 'ignore' }), keys: [] };
        this.directCache.set('predict', entry);
      }
      outs = await entry.f(...xi.tensors);
    } finally {
      for (const t of xi.owned) t.dispose();
    }
    return outs.length === 1 ? outs[0] : outs;
  }

  /** @internal One step of training or testing on a batch given directly. */
  async onBatch(mode: 'train' | 'test', x: DataArgs, y: DataArgs, opts: { sampleWeight?: DataArgs; resetMetrics?: boolean }, reset = opts.resetMetrics ?? true): Promise<number | number[]> {
    const op = `${this.name}.${mode}OnBatch`;
    this.requireGraph(`${mode}OnBatch`, x);
    if (!this.compiled) throw new SymtensorError('ERR_ST_ARG', op, 'the model is not compiled: call model.compile({ optimizer, loss }) first');
    const xi = toTensors(op, 'x', x, this.inputNames(), this.inputShapes(), this.inputDtypes());
    const yi = toTensors(op, 'y', y, this.outputNames(), this.outputs.map((o) => o.shape), this.outputNames().map(() => null));
    const sw = opts.sampleWeight !== undefined ? toTensors(op, 'sampleWeight', opts.sampleWeight, ['sampleWeight'], [[null]], ['float32']) : null;
    try {
      checkFeatureShapes(op, 'x', xi.tensors, this.inputNames(), this.inputShapes());
      const n = sampleCount(op, [
        { what: 'x', tensors: xi.tensors, names: this.inputNames() },
        { what: 'y', tensors: yi.tensors, names: this.outputNames() },
      ]);
      checkStatefulBatch(op, this, n);
      const key = `${mode}|${isDistributed() ? 'mpi' : ''}|${yi.tensors.map((t) => `${t.dtype}${t.shape.length}`).join(',')}|${sw ? 'w' : ''}`;
      let entry = this.directCache.get(key);
      if (!entry) {
        const xs = this.inputs.map((t, i) => T.tensor(t.dtype, t.shape.slice(), this.inputNames()[i]));
        const ys = yi.tensors.map((t, i) => targetPlaceholder(`${this.outputNames()[i]}_target`, t));
        const swv = sw ? T.vector('sampleWeight', 'float32') : null;
        const batch = T.scalar('batchSize', 'float32');
        const step = this.compiled.buildStep(mode === 'train', xs, ys, this.outputs.map(() => swv), batch);
        const inputs = [...xs, ...ys, ...(swv ? [swv] : []), batch];
        entry = { f: fn(inputs, step.outputs, { updates: step.updates, name: `${this.name}.${mode}Step` }), keys: step.keys };
        this.directCache.set(key, entry);
      }
      if (reset) this.compiled.resetMetrics();
      this.lastStepKeys = entry.keys;
      const outs = await entry.f(...xi.tensors, ...yi.tensors, ...(sw ? sw.tensors : []), n);
      const vals = outs.map((t) => Number(t.dataSync()[0]));
      for (const t of outs) t.dispose();
      return vals.length === 1 ? vals[0] : vals;
    } finally {
      for (const t of [...xi.owned, ...yi.owned, ...(sw?.owned ?? [])]) t.dispose();
    }
  }

  /** @internal Copies of every weight and optimizer variable; the function puts them back. */
  snapshot(): { restore(): void; release(): void } {
    const vars: SharedVariable[] = [...this.weights, ...(this.compiled?.optimizer.variables() ?? [])];
    const copies = vars.map((v) => v.get());
    const release = () => {
      for (const c of copies) if (!c.isDisposed) c.dispose();
    };
    return {
      restore: () => {
        vars.forEach((v, i) => {
          if (!v.isDisposed) v.set(copies[i]);
        });
        release();
      },
      release,
    };
  }

  /** Prints Keras's summary table (and returns it). */
  summary(opts: { lineLength?: number; print?: (line: string) => void } = {}): string {
    this.requireGraph('summary');
    checkOptions(`${this.name}.summary`, opts, ['lineLength', 'print'], { nullIsEmpty: false });
    const text = summaryText(this, opts.lineLength);
    (opts.print ?? console.log)(text);
    return text;
  }

  /** Writes model.json (architecture, training config), weights.safetensors and the optimizer state to a directory. */
  async save(dir: string): Promise<void> {
    this.requireGraph('save');
    await saveModelTo(this, dir);
  }

  /** Writes the weights alone to a safetensors file. */
  async saveWeights(path: string): Promise<void> {
    this.requireGraph('saveWeights');
    await saveWeightsTo(this, path);
  }

  /** Reads weights written by saveWeights (or a saved model's weights.safetensors); all or nothing. */
  async loadWeights(path: string): Promise<void> {
    this.requireGraph('loadWeights');
    await loadWeightsFrom(this, path);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...functionalConfig(this) };
  }

  /** @internal Ensures the graph exists (Sequential builds it from the data's shape if needed). */
  protected requireGraph(what: string, _x?: DataArgs): void {
    if (this.outputs.length === 0) throw new SymtensorError('ERR_ST_ARG', `${this.name}.${what}`, 'the model has no layers graph yet');
  }
}
registerLayer('Functional', Model as never);

/**
 * The functional graph as JSON: the layers with their configs, then the nodes in the order they
 * run, each naming its inputs as [layer name, node number within this model, output index].
 */
export function functionalConfig(m: Model): Record<string, unknown> {
  const nodeNo = new Map<Node, number>();
  const perLayer = new Map<Layer, number>();
  const number = (n: Node) => {
    const k = perLayer.get(n.layer) ?? 0;
    perLayer.set(n.layer, k + 1);
    nodeNo.set(n, k);
  };
  m.inputs.forEach((t) => number(t.node));
  m.graphNodes().forEach(number);
  const ref = (t: KerasTensor): [string, number, number] => [t.node.layer.name, nodeNo.get(t.node)!, t.index];
  return {
    layers: m.layers.map((l) => ({ className: classNameOfLayer(l), config: l.getConfig() })),
    nodes: m.graphNodes().map((n) => ({ layer: n.layer.name, inputs: n.inputs.map(ref), list: n.listInput })),
    inputs: m.inputs.map(ref),
    outputs: m.outputs.map(ref),
  };
}

/**
 * A plain stack of layers, each taking the previous one's output.
 * @example
 *   const model = new st.Sequential([
 *     st.layers.input({ shape: [784] }),
 *     st.layers.dense({ units: 10, activation: 'softmax' }),
 *   ]);
 */
export class Sequential extends Model {
  private stack: Layer[] = [];
  private inputLayer: InputLayer | null = null;

  constructor(layers: (Layer | KerasTensor)[] = [], args: { name?: string; trainable?: boolean } = {}) {
    checkOptions('Sequential', args, ['name', 'trainable'], { nullIsEmpty: false });
    super(undefined, { name: args.name, trainable: args.trainable });
    if (!Array.isArray(layers)) throw argError('Sequential', `expects an array of layers, got ${typeof layers}`);
    for (const l of layers) this.add(l);
  }

  /** Appends a layer (rebuilding the graph when the input shape is known). */
  add(entry: Layer | KerasTensor): void {
    // st.input() placeholders are accepted as the first entry, as Keras accepts keras.Input
    const layer = entry instanceof KerasTensor && entry.node?.layer instanceof InputLayer ? entry.node.layer : entry;
    if (!(layer instanceof Layer)) throw argError(`${this.name}.add`, `expects a layer, got ${layer === null ? 'null' : typeof layer === 'object' ? (layer as object).constructor.name : typeof layer}`);
    if (layer instanceof InputLayer) {
      if (this.inputLayer || this.stack.length) throw argError(`${this.name}.add`, 'an input layer can only come first');
      this.inputLayer = layer;
      return this.relink();
    }
    if (this.stack.includes(layer)) throw argError(`${this.name}.add`, `layer ${layer.name} is already in the model`);
    if (!this.inputLayer && this.stack.length === 0 && layer.batchInputShape) {
      this.inputLayer = new InputLayer({ shape: layer.batchInputShape.slice(1), batchSize: layer.batchInputShape[0] ?? undefined, name: `${layer.name}_input` });
    }
    this.stack.push(layer);
    this.relink();
  }

  /** Removes the last layer. */
  pop(): void {
    if (!this.stack.length) throw argError(`${this.name}.pop`, 'the model has no layers');
    this.stack.pop();
    this.outputs = [];
    this.relink();
  }

  override get layers(): Layer[] {
    return this.stack.slice();
  }

  /** @internal */
  getInputLayer(): InputLayer | null {
    return this.inputLayer;
  }

  /** Builds the graph for inputs of this shape (batch first), as Keras's model.build. */
  override build(inputShape: Shape | Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (!this.inputLayer) this.inputLayer = new InputLayer({ shape: s.slice(1), name: `${this.name}_input` });
    this.relink();
  }

  private relink(): void {
    if (!this.inputLayer || this.stack.length === 0) return;
    let t: KerasTensor = inputTensorOf(this.inputLayer);
    const x = t;
    for (const l of this.stack) {
      const out = l.apply(t);
      if (Array.isArray(out)) throw argError(this.name, `layer ${l.name} returns several outputs; use the functional API (st.model) for it`);
      t = out;
    }
    this.setGraph(x, t);
  }

  protected override requireGraph(what: string, x?: DataArgs): void {
    if (this.stack.length === 0) throw new SymtensorError('ERR_ST_ARG', `${this.name}.${what}`, 'the model has no layers');
    if (this.outputs.length === 0 && x !== undefined) {
      const t = x instanceof Tensor ? x : Array.isArray(x) && x[0] instanceof Tensor ? (x[0] as Tensor) : null;
      if (t) this.build([null, ...t.shape.slice(1)]);
    }
    if (this.outputs.length === 0)
      throw new SymtensorError('ERR_ST_ARG', `${this.name}.${what}`, 'the input shape is unknown: start with st.layers.input({ shape }), give the first layer an inputShape, or call model.build([null, ...shape])');
  }

  override getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      layers: this.stack.map((l) => ({ className: classNameOfLayer(l), config: l.getConfig() })),
      ...(this.inputLayer ? { input: { shape: this.inputLayer.batchInputShape!.slice(1), dtype: this.inputLayer.inputDtype, batchSize: this.inputLayer.batchInputShape![0], name: this.inputLayer.name } } : {}),
    };
  }
}
registerLayer('Sequential', Sequential as never);

/** A functional model (Keras's keras.Model(inputs, outputs)). */
export function model(args: ModelArgs): Model {
  if (args === null || typeof args !== 'object') throw argError('model', 'expects { inputs, outputs }');
  checkOptions('model', args, ['inputs', 'outputs', 'name', 'trainable']);
  return new Model(args);
}

export { input };
