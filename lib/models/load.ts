// st.loadModel(dir): rebuilds a saved model from model.json (layers by registered class name),
// restores its weights and, when it was compiled, its training configuration and optimizer state.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SymtensorError, fmtValue } from '../errors';
import { InputLayer, inputTensorOf } from './functional';
import { KerasTensor, Layer, layerClass } from './layer';
import { Model, Sequential } from './model';
import { loadSafetensors } from './safetensors';
import { FORMAT, assignAll, byName } from './saving';

const op = 'loadModel';

function fail(dir: string, why: string): never {
  throw new SymtensorError('ERR_ST_ARG', op, `${dir} is not a saved symtensor model: ${why}`);
}

type LayerJson = { className: string; config: Record<string, unknown> };

/** A layer (or nested model) from its class name and config. */
export function layerFromConfig(j: LayerJson): Layer {
  if (!j || typeof j !== 'object' || typeof j.className !== 'string') throw new SymtensorError('ERR_ST_ARG', op, `bad layer entry ${fmtValue(j)}`);
  if (j.className === 'Sequential') return sequentialFromConfig(j.config);
  if (j.className === 'Functional') return functionalFromConfig(j.config);
  const Cls = layerClass(j.className);
  return new Cls(j.config);
}

function sequentialFromConfig(c: Record<string, unknown>): Sequential {
  const m = new Sequential([], { name: c.name as string, trainable: c.trainable as boolean });
  const inp = c.input as { shape: (number | null)[]; dtype: string; batchSize: number | null; name: string } | undefined;
  if (inp) m.add(new InputLayer({ shape: inp.shape, inputDtype: inp.dtype as never, batchSize: inp.batchSize ?? undefined, name: inp.name }));
  for (const l of (c.layers as LayerJson[]) ?? []) m.add(layerFromConfig(l));
  return m;
}

function functionalFromConfig(c: Record<string, unknown>): Model {
  const layers = new Map<string, Layer>();
  for (const j of (c.layers as LayerJson[]) ?? []) {
    const l = layerFromConfig(j);
    layers.set(l.name, l);
  }
  const produced = new Map<string, KerasTensor[][]>(); // layer name -> node number -> outputs
  const get = (ref: [string, number, number]): KerasTensor => {
    const [name, node, index] = ref;
    const l = layers.get(name);
    if (!l) throw new SymtensorError('ERR_ST_ARG', op, `the graph refers to a layer '${name}' that is not in the config`);
    if (l instanceof InputLayer && !produced.has(name)) produced.set(name, [[inputTensorOf(l)]]);
    const t = produced.get(name)?.[node]?.[index];
    if (!t) throw new SymtensorError('ERR_ST_ARG', op, `the graph refers to output ${index} of node ${node} of '${name}' before it exists`);
    return t;
  };
  for (const n of (c.nodes as { layer: string; inputs: [string, number, number][]; list: boolean }[]) ?? []) {
    const l = layers.get(n.layer);
    if (!l) throw new SymtensorError('ERR_ST_ARG', op, `a node refers to a layer '${n.layer}' that is not in the config`);
    const ins = n.inputs.map(get);
    const out: KerasTensor | KerasTensor[] = n.list ? l.apply(ins) : l.apply(ins[0]);
    const list = produced.get(l.name) ?? [];
    list.push(Array.isArray(out) ? out : [out]);
    produced.set(l.name, list);
  }
  return new Model({
    inputs: (c.inputs as [string, number, number][]).map(get),
    outputs: (c.outputs as [string, number, number][]).map(get),
    name: c.name as string,
    trainable: c.trainable as boolean,
  });
}

/**
 * Loads a model saved with `model.save(dir)`: architecture, weights, and (when it was compiled)
 * the optimizer with its state, so `fit` continues where it stopped.
 * @example const model = await st.loadModel('./checkpoints/epoch-3');
 */
export async function loadModel(dir: string): Promise<Model> {
  if (typeof dir !== 'string' || !dir) throw new SymtensorError('ERR_ST_ARG', op, 'expects a directory path');
  const jsonPath = path.join(dir, 'model.json');
  let text: string;
  try {
    text = await fs.promises.readFile(jsonPath, 'utf8');
  } catch {
    fail(dir, 'it has no readable model.json');
  }
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text);
  } catch (e) {
    fail(dir, `model.json is not valid JSON (${(e as Error).message})`);
  }
  if (j.format !== FORMAT) fail(dir, `model.json has format ${JSON.stringify(j.format)}, expected "${FORMAT}"`);
  const model = layerFromConfig({ className: j.className as string, config: j.config as Record<string, unknown> });
  if (!(model instanceof Model)) fail(dir, `its class ${String(j.className)} is not a model`);
  const weights = await loadSafetensors(path.join(dir, 'weights.safetensors')).catch((e) => fail(dir, `weights.safetensors: ${(e as Error).message}`));
  try {
    assignAll(op, path.join(dir, 'weights.safetensors'), byName(op, model.weights), weights.tensors, 'weights (the saved config and weights disagree)');
  } finally {
    for (const t of Object.values(weights.tensors)) t.dispose();
  }
  const tc = j.trainingConfig as { optimizer: { className: string; config: Record<string, unknown> }; loss: unknown; metrics: unknown; lossWeights: number[] } | null;
  if (tc) {
    model.compile({ optimizer: tc.optimizer, loss: tc.loss as never, metrics: tc.metrics as never, lossWeights: tc.lossWeights });
    const opt = model.compiled!.optimizer;
    opt.build(model.trainableWeights);
    const file = path.join(dir, 'optimizer.safetensors');
    if (fs.existsSync(file)) {
      const st = await loadSafetensors(file);
      try {
        assignAll(op, file, byName(op, opt.variables()), st.tensors, 'optimizer state');
      } finally {
        for (const t of Object.values(st.tensors)) t.dispose();
      }
    }
  }
  return model;
}
