// `symtensor evaluate | predict | summary | info`: what to do with a saved model, and what this
// install runs on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as St from '../index';
import { loadJobData } from './data';
import { CliError, usageError } from './errors';
import { DATASETS, Job } from './job';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = () => require('../index') as typeof St;

async function openModel(st: typeof St, dir: string): Promise<St.Model> {
  if (!fs.existsSync(dir)) throw new CliError(`model directory ${dir} does not exist`);
  if (!fs.existsSync(path.join(dir, 'model.json'))) {
    const inner = path.join(dir, 'model');
    // a job's output folder holds the model in model/
    if (fs.existsSync(path.join(inner, 'model.json'))) return openModel(st, inner);
    throw new CliError(`${dir} is not a saved model (no model.json); give the folder written by model.save or symtensor train (its model/ folder)`);
  }
  try {
    return await st.loadModel(dir);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

export interface EvaluateFlags {
  data: string;
  dataDir?: string;
  batchSize: number;
  json: boolean;
}

/** Loss and metrics of a saved model on a dataset's test split. */
export async function evaluateCommand(modelDir: string, f: EvaluateFlags): Promise<void> {
  if (!(DATASETS as readonly string[]).includes(f.data) || f.data === 'files') throw usageError(`--data must be one of shapes, fashion-mnist, mnist; got "${f.data}"`);
  const st = lib();
  const model = await openModel(st, modelDir);
  if (!model.compiled) throw new CliError(`${modelDir}: the model was saved without a training configuration (loss), so it cannot be evaluated`);
  const channels = model.inputShapes()[0].length === 4;
  const data = await loadJobData(st, { name: f.data as Job['data']['name'], dir: f.dataDir }, channels);
  const split = data.test ?? data.train;
  let r: Record<string, number>;
  try {
    r = (await model.evaluate(split.x, split.y, { batchSize: f.batchSize, returnDict: true, verbose: 0 })) as Record<string, number>;
  } catch (e) {
    throw new CliError(`evaluating ${modelDir} on ${f.data}: ${(e as Error).message}`);
  }
  if (f.json) process.stdout.write(JSON.stringify({ data: f.data, samples: split.y.shape[0], ...r }) + '\n');
  else process.stdout.write(`${f.data} (${split.y.shape[0]} samples): ${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}\n`);
}

export interface PredictFlags {
  input: string;
  output?: string;
  batchSize: number;
  csvHeader: boolean;
}

/** Reads an input file as a tensor: .npy as stored, .csv as float32 rows. */
async function readInput(st: typeof St, file: string, header: boolean): Promise<St.Tensor> {
  if (!fs.existsSync(file)) throw new CliError(`input file ${file} does not exist`);
  const ext = path.extname(file).toLowerCase();
  try {
    if (ext === '.npy') return await st.data.readNpy(file);
    if (ext === '.csv') return (await st.data.readCsv(file, { header })).x;
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  throw usageError(`--input must be a .npy or .csv file, got ${file}`);
}

/** Predictions of a saved model: one line per sample (class and probability), or a file. */
export async function predictCommand(modelDir: string, f: PredictFlags): Promise<void> {
  if (f.output !== undefined && !/\.(npy|csv)$/i.test(f.output)) throw usageError(`--output must end in .npy or .csv, got ${f.output}`);
  const st = lib();
  const model = await openModel(st, modelDir);
  let x = await readInput(st, f.input, f.csvHeader);
  const want = model.inputShapes()[0];
  const per = want.slice(1);
  if (per.every((d) => d !== null) && x.shape.length >= 1) {
    const size = (per as number[]).reduce((a, b) => a * b, 1);
    const n = x.shape[0];
    // rows of the right size but another layout (flat images, say) take the model's sample shape
    if (x.size === n * size && (x.shape.length !== want.length || x.shape.slice(1).some((d, i) => d !== per[i]))) x = x.reshape([n, ...(per as number[])]);
  }
  const dtype = model.inputDtypes()[0];
  if (x.dtype !== dtype) x = x.cast(dtype);
  let out: St.Tensor;
  try {
    out = (await model.predict(x, { batchSize: f.batchSize, verbose: 0 })) as St.Tensor;
  } catch (e) {
    throw new CliError(`predicting with ${modelDir} on ${f.input}: ${(e as Error).message}`);
  }
  if (Array.isArray(out)) throw new CliError('models with several outputs are not supported by predict');
  if (f.output) {
    const outFile = path.resolve(f.output);
    if (f.output.toLowerCase().endsWith('.npy')) await st.data.writeNpy(outFile, out);
    else {
      const v = out.dataSync();
      const cols = out.size / out.shape[0];
      const lines: string[] = [];
      for (let i = 0; i < out.shape[0]; i++) lines.push(Array.from(v.subarray(i * cols, (i + 1) * cols), (n) => String(n)).join(','));
      fs.writeFileSync(outFile, lines.join('\n') + '\n');
    }
    process.stdout.write(`wrote ${out.shape[0]} predictions (shape [${out.shape.join(', ')}]) to ${outFile}\n`);
    return;
  }
  const v = out.dataSync();
  const cols = out.size / out.shape[0];
  const lines: string[] = [];
  for (let i = 0; i < out.shape[0]; i++) {
    const row = v.subarray(i * cols, (i + 1) * cols);
    if (cols === 1) lines.push(String(row[0]));
    else {
      let best = 0;
      for (let k = 1; k < cols; k++) if (row[k] > row[best]) best = k;
      lines.push(`${best}\t${Number(row[best]).toFixed(4)}`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** Keras's summary of a saved model, with its training configuration. */
export async function summaryCommand(modelDir: string): Promise<void> {
  const st = lib();
  const model = await openModel(st, modelDir);
  model.summary({ print: (s) => process.stdout.write(s + '\n') });
  const c = model.compiled;
  if (c) process.stdout.write(`Optimizer: ${JSON.stringify(c.optimizer.getConfig())}\nLoss: ${c.losses.map((l) => l.name).join(', ')}\nMetrics: ${c.logKeys().slice(1).join(', ') || '-'}\n`);
}

/** The backend, threads and versions of this install. */
export function infoCommand(json: boolean): void {
  const st = lib();
  const b = st.backendInfo();
  const info = {
    symtensor: st.version,
    node: process.versions.node,
    v8: process.versions.v8,
    napi: process.versions.napi,
    platform: `${process.platform}-${process.arch}`,
    cpus: require('node:os').cpus().length as number,
    threads: b.threads,
    gemm: b.gemm,
    simd: b.simd,
    cuda: b.cuda,
    env: Object.fromEntries(['SYMTENSOR_NUM_THREADS', 'SYMTENSOR_BACKEND', 'SYMTENSOR_GEMM', 'OPENBLAS_NUM_THREADS'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
  };
  if (json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
  else for (const [k, v] of Object.entries(info)) process.stdout.write(`${k.padEnd(10)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
}

export interface BenchFlags {
  /** Case ids or workload names (see `npm run bench`'s README); empty: every case. */
  only: string[];
  /** Implementations chosen by --peers (symtensor's always among them). */
  impls: import('../bench/harness').ImplName[];
  /** The JSON file to write. */
  out: string;
  quick: boolean;
  keepOpenblasEnv: boolean;
  /** The command line as given (for re-running without the OpenBLAS overrides, and for the JSON). */
  argv: string[];
}

/**
 * The benchmark suite (the one `npm run bench` runs in a checkout) from the installed package:
 * symtensor beside the peers this machine has, a table on stdout and the numbers in `out`.
 */
export async function benchCommand(f: BenchFlags): Promise<void> {
  const { reexecWithoutOverrides, runBench } = await import('../bench/run');
  reexecWithoutOverrides(f.argv, f.keepOpenblasEnv);
  await runBench({
    only: f.only, impls: f.impls, quick: f.quick, keepEnv: f.keepOpenblasEnv, out: path.resolve(f.out),
    command: ['symtensor', ...f.argv].join(' '),
  });
}
