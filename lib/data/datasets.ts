// Fashion-MNIST and MNIST from their IDX files: images as float32 in [0, 1], labels as int32.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SymtensorError, argError, fmtShape, fmtValue } from '../errors';
import { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/creation';
import { IdxArray, readIdxArray, readIdxArraySync } from './idx';

/** Where Debian's dataset-fashion-mnist package puts the files. */
export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's class names, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** The four files of MNIST-style datasets (each may also be stored without .gz). */
const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
type FileKey = keyof typeof FILES;

/** How the images are shaped. */
export interface ImageDatasetOptions {
  /** [n, 784] instead of [n, 28, 28]. */
  flatten?: boolean;
  /** [n, 28, 28, 1] (channels last, for conv2d) instead of [n, 28, 28]. */
  channels?: boolean;
}

/** A split: images x (float32) and labels y (int32 [n], values 0..9). */
export interface Split {
  x: Tensor;
  y: Tensor;
}

/** A dataset's training and test splits. */
export interface ImageDataset {
  train: Split;
  test: Split;
}

function checkOptions(op: string, opts: unknown): { dir?: string; flatten: boolean; channels: boolean } {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw argError(op, `options must be an object ({ dir, flatten, channels }), got ${fmtValue(opts)}`);
  const { dir, flatten = false, channels = false, ...rest } = opts as { dir?: unknown; flatten?: unknown; channels?: unknown };
  const extra = Object.keys(rest);
  if (extra.length) throw argError(op, `unknown option${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} (valid: dir, flatten, channels)`);
  if (dir !== undefined && (typeof dir !== 'string' || dir === '')) throw argError(op, `dir must be a non-empty string, got ${fmtValue(dir)}`);
  if (typeof flatten !== 'boolean') throw argError(op, `flatten must be a boolean, got ${fmtValue(flatten)}`);
  if (typeof channels !== 'boolean') throw argError(op, `channels must be a boolean, got ${fmtValue(channels)}`);
  if (flatten && channels) throw argError(op, 'flatten and channels cannot both be set ([n, 784] or [n, 28, 28, 1])');
  return { dir: dir as string | undefined, flatten, channels };
}

/** The path of each file in `dir` (the .gz or the plain one), or the names missing there. */
function findFiles(dir: string): { paths: Record<FileKey, string> } | { missing: string[] } {
  const paths = {} as Record<FileKey, string>;
  const missing: string[] = [];
  for (const key of Object.keys(FILES) as FileKey[]) {
    const base = path.join(dir, FILES[key]);
    const found = [base + '.gz', base].find((p) => fs.existsSync(p));
    if (found) paths[key] = found;
    else missing.push(`${FILES[key]}[.gz]`);
  }
  return missing.length ? { missing } : { paths };
}

/** Directories to look in for Fashion-MNIST, in order. */
function fashionDirs(dir: string | undefined): string[] {
  if (dir !== undefined) return [dir];
  const env = process.env.SYMTENSOR_DATA_DIR;
  const dirs = env ? [path.join(env, 'fashion-mnist'), env] : [];
  return [...dirs, FASHION_MNIST_SYSTEM_DIR];
}

function locate(op: string, dirs: string[], what: string, howToGet: string): Record<FileKey, string> {
  const tried: string[] = [];
  for (const d of dirs) {
    const r = findFiles(d);
    if ('paths' in r) return r.paths;
    tried.push(`  ${d}: ${fs.existsSync(d) ? `missing ${r.missing.join(', ')}` : 'no such directory'}`);
  }
  throw new SymtensorError('ERR_ST_LOAD', op, `${what} not found. Looked in:\n${tried.join('\n')}\n${howToGet}`);
}

const FASHION_HOW =
  'To fix: install Debian\'s dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), ' +
  'or download the four files from github.com/zalandoresearch/fashion-mnist into a directory and pass ' +
  '{ dir } or set SYMTENSOR_DATA_DIR.';

/** Checks one split's images and labels and makes its tensors. */
function toSplit(op: string, images: IdxArray, labels: IdxArray, where: { images: string; labels: string }, opts: ImageDatasetOptions): Split {
  const bad = (file: string, msg: string) => new SymtensorError('ERR_ST_LOAD', op, `${file}: ${msg}`);
  if (images.type !== 'uint8' || images.shape.length !== 3)
    throw bad(where.images, `expected uint8 images of shape [n, rows, cols], got ${images.type} ${fmtShape(images.shape)}`);
  if (labels.type !== 'uint8' || labels.shape.length !== 1) throw bad(where.labels, `expected uint8 labels of shape [n], got ${labels.type} ${fmtShape(labels.shape)}`);
  const [n, rows, cols] = images.shape;
  if (labels.shape[0] !== n) throw bad(where.labels, `${labels.shape[0]} labels for ${n} images in ${where.images}`);
  const lab = labels.data as Uint8Array;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (lab[i] > 9) throw bad(where.labels, `label ${lab[i]} at index ${i} is outside 0..9`);
    y[i] = lab[i];
  }
  // x / 255 rounded once to float32, through a table of the 256 byte values
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) table[b] = b / 255;
  const src = images.data as Uint8Array;
  const x = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) x[i] = table[src[i]];
  const shape = opts.flatten ? [n, rows * cols] : opts.channels ? [n, rows, cols, 1] : [n, rows, cols];
  return { x: tensor(x, { shape, dtype: 'float32' }), y: tensor(y, { shape: [n], dtype: 'int32' }) };
}

async function loadFrom(op: string, paths: Record<FileKey, string>, opts: ImageDatasetOptions): Promise<ImageDataset> {
  const read = async (p: string) => {
    try {
      return await readIdxArray(p);
    } catch (e) {
      throw e instanceof SymtensorError ? new SymtensorError(e.code, op, e.message.replace(/^\w+: /, '')) : e;
    }
  };
  // the four files decompress concurrently on libuv's threads
  const [tri, trl, tei, tel] = await Promise.all([read(paths.trainImages), read(paths.trainLabels), read(paths.testImages), read(paths.testLabels)]);
  return {
    train: toSplit(op, tri, trl, { images: paths.trainImages, labels: paths.trainLabels }, opts),
    test: toSplit(op, tei, tel, { images: paths.testImages, labels: paths.testLabels }, opts),
  };
}

function loadFromSync(op: string, paths: Record<FileKey, string>, opts: ImageDatasetOptions): ImageDataset {
  const read = (p: string) => {
    try {
      return readIdxArraySync(p);
    } catch (e) {
      throw e instanceof SymtensorError ? new SymtensorError(e.code, op, e.message.replace(/^\w+: /, '')) : e;
    }
  };
  return {
    train: toSplit(op, read(paths.trainImages), read(paths.trainLabels), { images: paths.trainImages, labels: paths.trainLabels }, opts),
    test: toSplit(op, read(paths.testImages), read(paths.testLabels), { images: paths.testImages, labels: paths.testLabels }, opts),
  };
}

/**
 * Fashion-MNIST (60000 training and 10000 test images of 28×28, 10 classes: FASHION_MNIST_CLASSES):
 * images float32 scaled to [0, 1] with shape [n, 28, 28] ([n, 784] with `flatten`, [n, 28, 28, 1] with
 * `channels`), labels int32 [n].  Looks in `dir` when given, else in $SYMTENSOR_DATA_DIR/fashion-mnist,
 * $SYMTENSOR_DATA_DIR, and Debian's dataset-fashion-mnist location; the files may be gzipped or not.
 * A missing dataset is an error listing the places tried and how to install it.
 * @example const { train, test } = await st.data.loadFashionMnist({ channels: true })
 */
export async function loadFashionMnist(opts: { dir?: string } & ImageDatasetOptions = {}): Promise<ImageDataset> {
  const op = 'loadFashionMnist';
  const o = checkOptions(op, opts);
  return loadFrom(op, locate(op, fashionDirs(o.dir), 'Fashion-MNIST', FASHION_HOW), o);
}

/** Same as loadFashionMnist, blocking. */
export function loadFashionMnistSync(opts: { dir?: string } & ImageDatasetOptions = {}): ImageDataset {
  const op = 'loadFashionMnistSync';
  const o = checkOptions(op, opts);
  return loadFromSync(op, locate(op, fashionDirs(o.dir), 'Fashion-MNIST', FASHION_HOW), o);
}

const MNIST_HOW = 'To fix: put the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in that directory.';

function mnistDir(op: string, opts: unknown): { dir: string; flatten: boolean; channels: boolean } {
  const o = checkOptions(op, opts ?? {});
  if (o.dir === undefined) throw argError(op, 'options.dir is required: the directory holding the MNIST files (no copy of MNIST is bundled)');
  return o as { dir: string; flatten: boolean; channels: boolean };
}

/**
 * MNIST from the directory `dir` holding its four IDX files (same names and layout as
 * Fashion-MNIST, gzipped or not); the same shapes and scaling as loadFashionMnist.
 * @example const { train } = await st.data.loadMnist({ dir: 'data/mnist', flatten: true })
 */
export async function loadMnist(opts: { dir: string } & ImageDatasetOptions): Promise<ImageDataset> {
  const op = 'loadMnist';
  const o = mnistDir(op, opts);
  return loadFrom(op, locate(op, [o.dir], 'MNIST', MNIST_HOW), o);
}

/** Same as loadMnist, blocking. */
export function loadMnistSync(opts: { dir: string } & ImageDatasetOptions): ImageDataset {
  const op = 'loadMnistSync';
  const o = mnistDir(op, opts);
  return loadFromSync(op, locate(op, [o.dir], 'MNIST', MNIST_HOW), o);
}
