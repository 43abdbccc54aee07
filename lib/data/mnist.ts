// MNIST from a local folder, optionally downloaded first: each missing file is fetched from a
// configurable base URL into the folder (or a cache folder), its sha256 checked before it is
// renamed into place, so a failed or tampered download never leaves a file behind.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SymtensorError, argError, fmtValue } from '../errors';
import { ImageDataset, ImageDatasetOptions, loadFashionMnist, loadMnist } from './datasets';

/** The four MNIST archives and the sha256 of each as published (LeCun's originals, mirrored by many hosts). */
export const MNIST_SHA256: Readonly<Record<string, string>> = {
  'train-images-idx3-ubyte.gz': '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
  'train-labels-idx1-ubyte.gz': '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
  't10k-images-idx3-ubyte.gz': '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
  't10k-labels-idx1-ubyte.gz': 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
};

/** Where `download` fetches from by default (a mirror that serves the original archives). */
export const MNIST_DEFAULT_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/';

export interface MnistOptions extends ImageDatasetOptions {
  /** The folder with the files; with download, where they are stored (default: the cache folder). */
  dir?: string;
  /** Fetch the files that are missing (default false: only local files are read). */
  download?: boolean;
  /** Base URL of the four .gz files (default MNIST_DEFAULT_URL, or $SYMTENSOR_MNIST_URL). */
  url?: string;
  /** The cache folder used when no dir is given (default $SYMTENSOR_DATA_DIR/mnist, else ~/.cache/symtensor/mnist). */
  cacheDir?: string;
  /** Expected sha256 per file name (default MNIST_SHA256); a file without an entry is refused. */
  sha256?: Record<string, string>;
}

function cacheFolder(): string {
  const env = process.env.SYMTENSOR_DATA_DIR;
  return env ? path.join(env, 'mnist') : path.join(os.homedir(), '.cache', 'symtensor', 'mnist');
}

const present = (dir: string, gz: string) => fs.existsSync(path.join(dir, gz)) || fs.existsSync(path.join(dir, gz.replace(/\.gz$/, '')));

async function fetchVerified(op: string, base: string, name: string, dir: string, want: string | undefined): Promise<void> {
  if (!want) throw argError(op, `no sha256 is known for ${name}: pass it in options.sha256`);
  const url = new URL(name, base.endsWith('/') ? base : base + '/').toString();
  let bytes: Buffer;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (e) {
    throw new SymtensorError('ERR_ST_LOAD', op, `cannot download ${url}: ${(e as Error).message}`);
  }
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== want.toLowerCase()) throw new SymtensorError('ERR_ST_LOAD', op, `${url}: sha256 ${got} does not match the expected ${want} (${bytes.length} bytes received); the file was not saved`);
  const tmp = path.join(dir, `.${name}.${process.pid}.download`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, name));
}

/**
 * MNIST (60000 training and 10000 test images of handwritten digits) as float32 images in [0, 1]
 * and int32 labels, shaped as loadMnist shapes them.  Reads `dir`; with `download: true`, first
 * fetches each missing file from `url` into `dir` (or the cache folder), checking its sha256.
 * @example const { train, test } = await st.data.mnist({ download: true, channels: true })
 */
export async function mnist(opts: MnistOptions = {}): Promise<ImageDataset> {
  const op = 'mnist';
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw argError(op, `options must be an object, got ${fmtValue(opts)}`);
  const { dir, download = false, url, cacheDir, sha256, ...shape } = opts;
  if (typeof download !== 'boolean') throw argError(op, `download must be a boolean, got ${fmtValue(download)}`);
  for (const [k, v] of Object.entries({ dir, url, cacheDir })) if (v !== undefined && (typeof v !== 'string' || v === '')) throw argError(op, `${k} must be a non-empty string, got ${fmtValue(v)}`);
  const folder = dir ?? (download ? (cacheDir ?? cacheFolder()) : undefined);
  if (folder === undefined) throw argError(op, 'give options.dir (the folder with the MNIST files), or download: true to fetch them into the cache folder');
  if (download) {
    const missing = Object.keys(MNIST_SHA256).filter((f) => !present(folder, f));
    if (missing.length) {
      fs.mkdirSync(folder, { recursive: true });
      const base = url ?? process.env.SYMTENSOR_MNIST_URL ?? MNIST_DEFAULT_URL;
      const sums = sha256 ?? MNIST_SHA256;
      for (const f of missing) await fetchVerified(op, base, f, folder, sums[f]);
    }
  }
  return loadMnist({ dir: folder, ...shape });
}

/**
 * Fashion-MNIST, found where Debian's dataset-fashion-mnist puts it unless `dir` is given (see
 * loadFashionMnist).
 * @example const { train } = await st.data.fashionMnist({ channels: true })
 */
export async function fashionMnist(opts: { dir?: string } & ImageDatasetOptions = {}): Promise<ImageDataset> {
  return loadFashionMnist(opts);
}
