// Job files of `symtensor train`: the schema (zod), loading .json/.js/.ts files, resolving their
// relative paths against the file's folder, and applying the command line's overrides.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { CliError, usageError } from './errors';

export const BUILTIN_MODELS = ['mlp', 'cnn'] as const;
export const DATASETS = ['shapes', 'fashion-mnist', 'mnist', 'files'] as const;
export const CHECKPOINT_UNITS = ['steps', 'epochs'] as const;

const posInt = z.number().int().min(1);

/** A data file pair: x and y as .npy files, or one CSV with a label column. */
const filesSplit = z.union([
  z.strictObject({ x: z.string().min(1), y: z.string().min(1) }),
  z.strictObject({ csv: z.string().min(1), labelColumn: z.union([z.string(), z.number().int()]) }),
], { error: 'expected { x: "x.npy", y: "y.npy" } or { csv: "file.csv", labelColumn: "label" }' });

const modelSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { builtin: v } : v),
  z.strictObject({
    /** A built-in model. */
    builtin: z.enum(BUILTIN_MODELS).optional(),
    /** A module (.js, or .ts under tsx) exporting a function that returns a model. */
    module: z.string().min(1).optional(),
    /** The export of `module` to call (default: the default export, else `createModel`). */
    export: z.string().min(1).optional(),
    /** Hidden units of the built-in models' dense layers. */
    units: z.array(posInt).optional(),
    /** Filters of the built-in cnn's convolutions. */
    filters: z.array(posInt).min(1).optional(),
    /** Dropout rate before the last layer of the built-in models (default 0). */
    dropout: z.number().min(0).lt(1).optional(),
  }).refine((m) => (m.builtin === undefined) !== (m.module === undefined), { error: 'give exactly one of "builtin" (mlp, cnn) and "module"' }),
);

const dataSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  z.strictObject({
    name: z.enum(DATASETS),
    /** mnist / fashion-mnist: the folder with the IDX files. */
    dir: z.string().min(1).optional(),
    /** mnist: fetch missing files into dir (or the cache) from url, checking sha256. */
    download: z.boolean().optional(),
    url: z.string().min(1).optional(),
    /** shapes: sizes, seed and noise of the generated dataset. */
    trainSize: posInt.optional(),
    testSize: posInt.optional(),
    seed: z.number().int().min(0).optional(),
    noise: z.number().min(0).max(1).optional(),
    /** files: the training and (optional) test data. */
    train: filesSplit.optional(),
    test: filesSplit.optional(),
  }).refine((d) => d.name !== 'files' || d.train !== undefined, { error: 'data "files" needs a "train" entry', path: ['train'] }),
);

const fitSchema = z.strictObject({
  epochs: posInt.default(5),
  batchSize: posInt.default(64),
  learningRate: z.number().positive().default(0.003),
  optimizer: z.enum(['adam', 'sgd', 'rmsprop', 'adamw', 'nadam', 'adamax', 'adagrad']).default('adam'),
  /** The last fraction of the training samples, held out for validation (0: none). */
  validationSplit: z.number().min(0).lt(1).default(0.1),
  shuffle: z.boolean().default(true),
});

const checkpointSchema = z.strictObject({
  every: posInt,
  unit: z.enum(CHECKPOINT_UNITS).default('epochs'),
  keep: posInt.default(3),
});

export const jobSchema = z.strictObject({
  model: modelSchema.default({ builtin: 'cnn' }),
  data: dataSchema.default({ name: 'shapes' }),
  fit: fitSchema.default(fitSchema.parse({})),
  /** The output folder (default runs/<job name>, relative to the working directory). */
  out: z.string().min(1).optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  threads: posInt.optional(),
  checkpoint: checkpointSchema.optional(),
  /** Steps between the per-step lines of metrics.jsonl (default 50). */
  metricsEvery: posInt.default(50),
});

/** A job file after validation and defaults. */
export type JobFile = z.infer<typeof jobSchema>;

/** A job ready to run: every path absolute. */
export interface Job extends Omit<JobFile, 'out' | 'checkpoint'> {
  out: string;
  checkpoint: { every: number; unit: 'steps' | 'epochs'; keep: number } | null;
  /** The job's name (its file's base name, or "<data>-<model>"). */
  name: string;
  /** Where the job came from (a file, or "built-in default"). */
  source: string;
}

/** Overrides from the command line (already checked by the argument parser). */
export interface JobOverrides {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  out?: string;
  seed?: number;
  threads?: number;
  data?: string;
  model?: string;
  checkpointEvery?: number;
  checkpointUnit?: 'steps' | 'epochs';
  keep?: number;
}

/** The zod issues as lines naming each key path. */
export function formatIssues(err: z.ZodError, file: string): string {
  const lines = err.issues.map((i) => {
    const at = i.path.length ? i.path.map(String).join('.') : '(top level)';
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => `  ${i.path.length ? at + '.' : ''}${k}: unknown key`).join('\n');
    }
    return `  ${at}: ${i.message}`;
  });
  return `invalid job file ${file}:\n${lines.join('\n')}`;
}

/** Reads a job file's raw value: JSON, or a module exporting the job (or a function returning it). */
async function readRaw(file: string): Promise<unknown> {
  if (!fs.existsSync(file)) throw usageError(`job file ${file} does not exist`);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') {
    const text = fs.readFileSync(file, 'utf8');
    try {
      return JSON.parse(text);
    } catch (e) {
      throw usageError(`job file ${file} is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts'].includes(ext)) throw usageError(`job file ${file}: expected a .json, .js or .ts file`);
  let mod: Record<string, unknown>;
  try {
    mod = require(path.resolve(file));
  } catch (e) {
    const hint = ext.endsWith('ts') ? ' (a .ts job file needs a TypeScript loader: run with node --import tsx)' : '';
    throw new CliError(`cannot load job file ${file}${hint}: ${(e as Error).message}`);
  }
  let job = mod && typeof mod === 'object' && 'default' in mod ? mod.default : mod && 'job' in mod ? mod.job : mod;
  if (typeof job === 'function') job = await (job as () => unknown)();
  return job;
}

const abs = (base: string, p: string | undefined) => (p === undefined ? undefined : path.resolve(base, p));

/**
 * Loads and validates a job (from `file`, or the built-in default job when undefined), resolves its
 * paths and applies the overrides.  A bad file throws a usage error listing every bad key path.
 */
export async function loadJob(file: string | undefined, over: JobOverrides = {}): Promise<Job> {
  const raw = file === undefined ? {} : await readRaw(file);
  const parsed = jobSchema.safeParse(raw ?? {});
  if (!parsed.success) throw usageError(formatIssues(parsed.error, file ?? 'built-in default'));
  const j = parsed.data;
  const base = file === undefined ? process.cwd() : path.dirname(path.resolve(file));
  const data = { ...j.data, dir: abs(base, j.data.dir) };
  const split = (s: typeof j.data.train) => (s === undefined ? undefined : 'x' in s ? { x: path.resolve(base, s.x), y: path.resolve(base, s.y) } : { ...s, csv: path.resolve(base, s.csv) });
  data.train = split(j.data.train);
  data.test = split(j.data.test);
  const model = { ...j.model, module: abs(base, j.model.module) };
  if (over.data !== undefined) {
    if (!(DATASETS as readonly string[]).includes(over.data) || over.data === 'files') throw usageError(`--data must be one of shapes, fashion-mnist, mnist; got "${over.data}"`);
    data.name = over.data as Job['data']['name'];
  }
  if (over.model !== undefined) {
    if (!(BUILTIN_MODELS as readonly string[]).includes(over.model)) throw usageError(`--model must be one of ${BUILTIN_MODELS.join(', ')}; got "${over.model}"`);
    model.builtin = over.model as 'mlp' | 'cnn';
    model.module = undefined;
  }
  const fit = { ...j.fit };
  if (over.epochs !== undefined) fit.epochs = over.epochs;
  if (over.batchSize !== undefined) fit.batchSize = over.batchSize;
  if (over.lr !== undefined) fit.learningRate = over.lr;
  let checkpoint = j.checkpoint ?? null;
  if (over.checkpointEvery !== undefined) checkpoint = { every: over.checkpointEvery, unit: over.checkpointUnit ?? checkpoint?.unit ?? 'epochs', keep: over.keep ?? checkpoint?.keep ?? 3 };
  else if (checkpoint && (over.checkpointUnit || over.keep)) checkpoint = { ...checkpoint, unit: over.checkpointUnit ?? checkpoint.unit, keep: over.keep ?? checkpoint.keep };
  const name = file === undefined ? `${data.name}-${model.builtin ?? 'model'}` : path.basename(file).replace(/\.[^.]+$/, '');
  const out = over.out !== undefined ? path.resolve(over.out) : j.out !== undefined ? path.resolve(base, j.out) : path.resolve('runs', name);
  return {
    ...j,
    model,
    data,
    fit,
    out,
    seed: over.seed ?? j.seed,
    threads: over.threads ?? j.threads,
    checkpoint,
    name,
    source: file === undefined ? 'built-in default' : path.resolve(file),
  };
}
