// Saving a model: model.json (architecture + training configuration), weights.safetensors and
// optimizer.safetensors (the optimizer's state, so training resumes exactly).  Each file is
// written atomically (temp file + rename); model.json is written last.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SymtensorError, fmtShape } from '../errors';
import type { SharedVariable } from '../graph/shared';
import type { Tensor } from '../tensor/tensor';
import { Loss } from './losses';
import { Metric } from './metrics';
import { classNameOf } from './layer';
import type { Model } from './model';
import { NamedTensors, loadSafetensors, saveSafetensors, writeFileAtomic } from './safetensors';

export const FORMAT = 'symtensor-model';
export const FORMAT_VERSION = 1;

/** Variables by their names; names must be unique (they key the safetensors file). */
export function byName(op: string, vars: SharedVariable[]): Map<string, SharedVariable> {
  const m = new Map<string, SharedVariable>();
  for (const v of vars) {
    const name = v.name ?? '';
    if (!name) throw new SymtensorError('ERR_ST_ARG', op, 'a weight has no name');
    if (m.has(name) && m.get(name) !== v) throw new SymtensorError('ERR_ST_ARG', op, `two weights are named '${name}': give the layers unique names`);
    m.set(name, v);
  }
  return m;
}

function tensorsOf(vars: Map<string, SharedVariable>): { tensors: NamedTensors; free: Tensor[] } {
  const tensors: NamedTensors = {};
  const free: Tensor[] = [];
  for (const [name, v] of vars) {
    const t = v.get();
    tensors[name] = t;
    free.push(t);
  }
  return { tensors, free };
}

function serializeId(x: unknown): unknown {
  if (typeof x === 'string') return x;
  if (x instanceof Loss || x instanceof Metric) return x.getConfig();
  if (typeof x === 'function') return { className: 'function', name: (x as { name?: string }).name ?? '' };
  if (Array.isArray(x)) return x.map(serializeId);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, serializeId(v)]));
  return x;
}

/** The JSON written as model.json. */
export function modelJson(model: Model): Record<string, unknown> {
  const c = model.compiled;
  return {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    className: classNameOf(model),
    config: model.getConfig(),
    weights: [...byName(`${model.name}.save`, model.weights).keys()],
    trainingConfig: c
      ? {
          optimizer: c.optimizer.getConfig(),
          loss: serializeId(c.lossIds.length === 1 ? c.lossIds[0] : c.lossIds),
          metrics: serializeId(c.metricIds),
          lossWeights: c.lossWeights,
        }
      : null,
  };
}

export async function saveModelTo(model: Model, dir: string): Promise<void> {
  const op = `${model.name}.save`;
  if (typeof dir !== 'string' || !dir) throw new SymtensorError('ERR_ST_ARG', op, 'expects a directory path');
  const json = JSON.stringify(modelJson(model), null, 1);
  await fs.promises.mkdir(dir, { recursive: true });
  const w = tensorsOf(byName(op, model.weights));
  try {
    await saveSafetensors(path.join(dir, 'weights.safetensors'), w.tensors, { format: 'pt' });
  } finally {
    for (const t of w.free) t.dispose();
  }
  if (model.compiled) {
    // a model not trained yet has no optimizer slots: save them as loading makes them (their
    // initial values), so that the state saved always matches the one loading builds
    model.compiled.optimizer.build(model.trainableWeights);
    const o = tensorsOf(byName(op, model.compiled.optimizer.variables()));
    try {
      await saveSafetensors(path.join(dir, 'optimizer.safetensors'), o.tensors, {});
    } finally {
      for (const t of o.free) t.dispose();
    }
  }
  await writeFileAtomic(path.join(dir, 'model.json'), json);
}

export async function saveWeightsTo(model: Model, file: string): Promise<void> {
  const w = tensorsOf(byName(`${model.name}.saveWeights`, model.weights));
  try {
    await saveSafetensors(file, w.tensors, { format: 'pt' });
  } finally {
    for (const t of w.free) t.dispose();
  }
}

/**
 * Sets variables from named tensors, all or nothing: every name, shape and dtype is checked
 * before the first value changes.
 */
export function assignAll(op: string, source: string, vars: Map<string, SharedVariable>, tensors: NamedTensors, what: string): void {
  const missing = [...vars.keys()].filter((k) => !(k in tensors));
  const extra = Object.keys(tensors).filter((k) => !vars.has(k));
  if (missing.length || extra.length)
    throw new SymtensorError('ERR_ST_ARG', op, `${source} does not match the model's ${what}:${missing.length ? ` missing ${missing.join(', ')}` : ''}${extra.length ? `${missing.length ? ';' : ''} unexpected ${extra.join(', ')}` : ''}`);
  for (const [name, v] of vars) {
    const t = tensors[name];
    if (t.dtype !== v.dtype || t.shape.length !== v.type.shape.length || t.shape.some((d, i) => d !== v.type.shape[i]))
      throw new SymtensorError('ERR_ST_SHAPE', op, `${source}: '${name}' is ${fmtShape(t.shape)} ${t.dtype} but the model's weight is ${fmtShape(v.type.shape)} ${v.dtype}`);
  }
  for (const [name, v] of vars) v.set(tensors[name]);
}

export async function loadWeightsFrom(model: Model, file: string): Promise<void> {
  const op = `${model.name}.loadWeights`;
  const st = await loadSafetensors(file);
  try {
    assignAll(op, file, byName(op, model.weights), st.tensors, 'weights');
  } finally {
    for (const t of Object.values(st.tensors)) t.dispose();
  }
}
