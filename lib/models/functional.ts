// The functional graph: input placeholders, the DAG of layer applications recorded by
// Layer.apply, and running it symbolically (each layer's call on T variables).
import { DType, isDType } from '../dtype';
import { SymtensorError, argError, fmtShape, fmtValue } from '../errors';
import { Variable } from '../graph/variable';
import { CallContext, KerasTensor, Layer, LayerArgs, Mask, Node, Shape, outputMasks, registerLayer, single } from './layer';
import { checkOptions } from './options';

/** The arguments of st.input: the shape and dtype of a model input. */
export interface InputArgs {
  /** The shape without the batch dimension; null for dims known only at run time. */
  shape: Shape;
  /** A fixed batch size (default: any). */
  batchSize?: number;
  dtype?: DType;
  name?: string;
}

/** The keys of InputArgs. */
export const INPUT_OPTIONS = ['shape', 'batchSize', 'dtype', 'name'];

/** The layer behind `st.input()`: it holds the model's input shape and passes values through. */
export class InputLayer extends Layer {
  readonly inputDtype: DType;
  constructor(args: LayerArgs & { shape?: Shape; inputDtype?: DType }) {
    const shape = args.shape ?? args.inputShape;
    if (!shape) throw argError('InputLayer', 'needs a shape (without the batch dimension)');
    super({ ...args, inputShape: shape, name: args.name });
    this.inputDtype = args.inputDtype ?? args.dtype ?? 'float32';
    this.built = true;
  }
  call(x: Variable | Variable[]): Variable {
    return single(this, x);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), inputDtype: this.inputDtype };
  }
}
registerLayer('InputLayer', InputLayer);

/**
 * A model input: a placeholder with a batch dimension of any size in front of `shape`.
 * @example const x = st.input({ shape: [784] });
 */
export function input(args: InputArgs): KerasTensor {
  if (args === null || typeof args !== 'object' || !Array.isArray(args.shape))
    throw argError('input', `expects { shape: [...] } (the shape without the batch dimension), got ${fmtValue(args)}`);
  checkOptions('input', args, INPUT_OPTIONS);
  if (args.dtype !== undefined && !isDType(args.dtype)) throw argError('input', `unknown dtype '${String(args.dtype)}'`);
  const layer = new InputLayer({ shape: args.shape, batchSize: args.batchSize, inputDtype: args.dtype, name: args.name ?? undefined });
  return inputTensorOf(layer);
}

/** @internal The placeholder an InputLayer produces (one node, no inputs). */
export function inputTensorOf(layer: InputLayer): KerasTensor {
  if (layer.inboundNodes.length) return layer.inboundNodes[0].outputs[0];
  const kt = new KerasTensor(layer.batchInputShape!.slice(), layer.inputDtype, 0, layer.name);
  const node = new Node(layer, [], [kt]);
  kt.node = node;
  layer.inboundNodes.push(node);
  return kt;
}

/** Nodes between the inputs and the outputs, in an order where each node follows its inputs'. */
export function graphNodes(inputs: KerasTensor[], outputs: KerasTensor[], owner: string): Node[] {
  const order: Node[] = [];
  const state = new Map<Node, 'visiting' | 'done'>();
  const inputSet = new Set(inputs);
  for (const out of outputs) {
    if (!(out instanceof KerasTensor)) throw argError(owner, `outputs must be KerasTensors (from layers applied to st.input()), got ${String(out)}`);
    const stack: [Node, number][] = [[out.node, 0]];
    if (state.get(out.node) === 'done') continue;
    state.set(out.node, 'visiting');
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      if (i < node.inputs.length) {
        top[1]++;
        const t = node.inputs[i];
        if (inputSet.has(t)) continue;
        const s = state.get(t.node);
        if (s === 'done') continue;
        if (s === 'visiting') throw argError(owner, `the layer graph has a cycle through ${t.node.layer.name}`);
        state.set(t.node, 'visiting');
        stack.push([t.node, 0]);
      } else {
        stack.pop();
        state.set(node, 'done');
        if (node.inputs.length === 0 && !inputSet.has(node.outputs[0])) {
          throw argError(owner, `output depends on input '${node.layer.name}' ${fmtShape(node.outputs[0].shape)}, which is not among the model's inputs (${inputs.map((t) => t.name).join(', ')})`);
        }
        if (node.inputs.length) order.push(node);
      }
    }
  }
  return order;
}

/**
 * Runs the graph on symbolic values for the inputs: each node's layer is called in order, with the
 * Keras masks its inputs carry (computed again here by each layer's computeMask, as recorded when
 * the graph was built).  Returns the outputs' variables.
 */
export function runGraph(inputs: KerasTensor[], outputs: KerasTensor[], nodes: Node[], values: Variable[], ctx: CallContext): Variable[] {
  return runGraphMasked(inputs, outputs, nodes, values, ctx).outputs;
}

/**
 * runGraph that also gives the Keras mask each output carries (null where none): the training
 * step weights a sequence output's loss and metrics by it, as Keras does.
 */
export function runGraphMasked(inputs: KerasTensor[], outputs: KerasTensor[], nodes: Node[], values: Variable[], ctx: CallContext): { outputs: Variable[]; masks: Mask[] } {
  const env = new Map<KerasTensor, Variable>();
  const masks = new Map<KerasTensor, Variable>();
  inputs.forEach((t, i) => env.set(t, values[i]));
  for (const node of nodes) {
    const layer = node.layer;
    const args = node.inputs.map((t) => {
      const v = env.get(t);
      if (!v) throw new SymtensorError('ERR_ST_ARG', layer.name, `input ${t.name} has no value (is it a model input?)`);
      return v;
    });
    const inMasks: Mask[] = node.inputs.map((t) => masks.get(t) ?? null);
    const anyMask = inMasks.some((m) => m);
    if (anyMask && !layer.supportsMasking) throw new SymtensorError('ERR_ST_ARG', layer.name, `${layer.constructor.name} does not support masking, but its input carries a mask`);
    const single1 = !node.listInput;
    const arg = single1 ? args[0] : args;
    const maskArg = anyMask ? (single1 ? inMasks[0] : inMasks) : undefined;
    const out = layer.call(arg, ctx, maskArg);
    const outs = Array.isArray(out) ? out : [out];
    if (outs.length !== node.outputs.length)
      throw new SymtensorError('ERR_ST_ARG', layer.name, `call returned ${outs.length} outputs where ${node.outputs.length} were traced`);
    node.outputs.forEach((t, i) => env.set(t, outs[i]));
    // only masks recorded when the graph was built travel on (a layer cannot start one at run time)
    if (node.outputs.some((t) => t.maskShape)) {
      const outMasks = outputMasks(layer, outs.length, layer.computeMask(arg, maskArg ?? (single1 ? null : inMasks)));
      node.outputs.forEach((t, i) => {
        const m = outMasks[i];
        if (t.maskShape && m) masks.set(t, m);
      });
    }
  }
  const outs = outputs.map((t) => {
    const v = env.get(t);
    if (!v) throw new SymtensorError('ERR_ST_ARG', 'model', `output ${t.name} was not computed`);
    return v;
  });
  return { outputs: outs, masks: outputs.map((t) => masks.get(t) ?? null) };
}
