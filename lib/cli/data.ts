// The data a job names, loaded as train/test tensors, with errors that say which file is missing.
import * as fs from 'node:fs';
import type * as St from '../index';
import { CliError } from './errors';
import type { Job } from './job';

/** Train and test splits: images or feature rows in x, integer labels in y. */
export interface JobData {
  train: { x: St.Tensor; y: St.Tensor };
  test: { x: St.Tensor; y: St.Tensor } | null;
  /** Number of classes (max label + 1 over both splits). */
  numClasses: number;
  /** Class names, when the dataset has them. */
  classes?: readonly string[];
  /** A one-line description for logs. */
  description: string;
}

type Split = { x: St.Tensor; y: St.Tensor };

function need(file: string, what: string): void {
  if (!fs.existsSync(file)) throw new CliError(`${what} ${file} does not exist`);
}

async function readSplit(st: typeof St, s: NonNullable<Job['data']['train']>, what: string): Promise<Split> {
  if ('x' in s) {
    need(s.x, `${what} x file`);
    need(s.y, `${what} y file`);
    const read = async (f: string) => (f.toLowerCase().endsWith('.csv') ? (await st.data.readCsv(f, { header: false })).x : st.data.readNpy(f));
    const x = await read(s.x);
    let y = await read(s.y);
    if (y.shape.length === 2 && y.shape[1] === 1) y = y.reshape([y.shape[0]]);
    if (y.dtype !== 'int32') y = y.cast('int32');
    return { x, y };
  }
  need(s.csv, `${what} CSV file`);
  const c = await st.data.readCsv(s.csv, { labelColumn: s.labelColumn });
  if (!c.y) throw new CliError(`${s.csv}: no label column ${JSON.stringify(s.labelColumn)}`);
  return { x: c.x, y: c.y.dtype === 'int32' ? c.y : c.y.cast('int32') };
}

function classCount(...ys: St.Tensor[]): number {
  let max = -1;
  for (const y of ys) {
    const v = y.dataSync();
    for (let i = 0; i < v.length; i++) if (Number(v[i]) > max) max = Number(v[i]);
  }
  return max + 1;
}

/**
 * Loads the job's data.  `channels` shapes image datasets as [n, 28, 28, 1] (for a cnn) rather
 * than [n, 784].  Any failure is a CliError naming what is missing.
 */
export async function loadJobData(st: typeof St, d: Job['data'], channels: boolean): Promise<JobData> {
  const shape = channels ? { channels: true } : { flatten: true };
  try {
    switch (d.name) {
      case 'shapes': {
        const ds = st.data.shapes({ trainSize: d.trainSize, testSize: d.testSize, seed: d.seed, noise: d.noise, ...(channels ? {} : { flatten: true }) });
        return { ...ds, numClasses: st.data.SHAPES_CLASSES.length, classes: st.data.SHAPES_CLASSES, description: `shapes (generated: ${ds.train.y.shape[0]} train, ${ds.test.y.shape[0]} test, ${st.data.SHAPES_CLASSES.length} classes)` };
      }
      case 'fashion-mnist': {
        const ds = await st.data.loadFashionMnist({ ...(d.dir ? { dir: d.dir } : {}), ...shape });
        return { ...ds, numClasses: 10, classes: st.data.FASHION_MNIST_CLASSES, description: 'Fashion-MNIST (60000 train, 10000 test)' };
      }
      case 'mnist': {
        const ds = await st.data.mnist({ dir: d.dir, download: d.download, url: d.url, ...shape });
        return { ...ds, numClasses: 10, description: `MNIST (${ds.train.y.shape[0]} train, ${ds.test.y.shape[0]} test)` };
      }
      case 'files': {
        const train = await readSplit(st, d.train!, 'train');
        const test = d.test ? await readSplit(st, d.test, 'test') : null;
        return { train, test, numClasses: classCount(train.y, ...(test ? [test.y] : [])), description: `files (${train.y.shape[0]} train${test ? `, ${test.y.shape[0]} test` : ''})` };
      }
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot load the data (${d.name}): ${(e as Error).message}`);
  }
}
