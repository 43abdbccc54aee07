// The models a job can name: the built-in mlp and cnn, or a module exporting a function that
// returns a (compiled, or to be compiled) model.
import * as path from 'node:path';
import type * as St from '../index';
import { CliError } from './errors';
import type { Job } from './job';

/** What a model module's function receives. */
export interface ModelContext {
  /** The symtensor package (use it rather than importing another copy). */
  st: typeof St;
  /** One sample's shape (without the batch axis). */
  inputShape: number[];
  numClasses: number;
  /** The job being run. */
  job: Job;
}

/** Whether the job's model wants image-shaped input ([28, 28, 1]) rather than flat rows. */
export function wantsChannels(job: Job): boolean {
  return job.model.builtin === 'cnn' || (job.model.module !== undefined && job.data.name !== 'files');
}

function builtin(st: typeof St, job: Job, inputShape: number[], numClasses: number): St.Model {
  const m = job.model;
  const L = st.layers;
  const layers: St.layers.Layer[] = [];
  if (m.builtin === 'cnn') {
    if (inputShape.length !== 3) throw new CliError(`the cnn model needs images shaped [height, width, channels], but the data has samples of shape [${inputShape.join(', ')}]`);
    for (const filters of m.filters ?? [16, 32]) {
      layers.push(L.conv2d({ filters, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }));
    }
    layers.push(L.flatten());
    for (const units of m.units ?? [64]) layers.push(L.dense({ units, activation: 'relu' }));
  } else {
    if (inputShape.length !== 1) layers.push(L.flatten());
    for (const units of m.units ?? [128]) layers.push(L.dense({ units, activation: 'relu' }));
  }
  if (m.dropout) layers.push(L.dropout({ rate: m.dropout }));
  layers.push(L.dense({ units: numClasses, activation: 'softmax' }));
  return new st.Sequential([L.input({ shape: inputShape }), ...layers], { name: m.builtin });
}

function optimizerOf(st: typeof St, job: Job) {
  const lr = job.fit.learningRate;
  const o = st.optimizers as unknown as Record<string, (a: { learningRate: number }) => unknown>;
  return o[job.fit.optimizer]({ learningRate: lr });
}

/**
 * Builds and compiles the job's model.  Call st.setRandomSeed(job.seed) first: the weights'
 * initial values then depend only on the seed.  A module's function may return an uncompiled
 * model; it is then compiled with the job's optimizer, sparse categorical cross-entropy and accuracy.
 */
export async function buildModel(st: typeof St, job: Job, inputShape: number[], numClasses: number, lrGiven: boolean): Promise<St.Model> {
  let model: St.Model;
  if (job.model.builtin) model = builtin(st, job, inputShape, numClasses);
  else {
    const file = job.model.module!;
    let mod: Record<string, unknown>;
    try {
      mod = require(path.resolve(file));
    } catch (e) {
      throw new CliError(`cannot load the model module ${file}: ${(e as Error).message}`);
    }
    const name = job.model.export;
    const f = name ? mod[name] : (mod.default ?? mod.createModel ?? mod);
    if (typeof f !== 'function') throw new CliError(`the model module ${file} exports no function${name ? ` named ${name}` : ' (default or createModel)'}`);
    const made = await (f as (c: ModelContext) => unknown)({ st, inputShape, numClasses, job });
    if (!(made instanceof st.Model)) throw new CliError(`the model module ${file}: its function returned ${made === null ? 'null' : typeof made}, not a model`);
    model = made;
  }
  if (!model.compiled) model.compile({ optimizer: optimizerOf(st, job) as never, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  else if (lrGiven) model.optimizer!.setLearningRate(job.fit.learningRate);
  return model;
}
