// The IDX format of MNIST and Fashion-MNIST: 0x00 0x00, a type byte, a rank byte, then one
// big-endian uint32 per dimension and the big-endian data.  Files may be gzipped (detected by their
// magic bytes, not their name).
import * as fs from 'node:fs';
import { gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { DType } from '../dtype';
import { SymtensorError, argError, fmtShape, fmtValue } from '../errors';
import { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/creation';
import { checkShape, sizeOf } from '../tensor/shape-util';

const gunzipAsync = promisify(gunzip);

/** The element types IDX files declare, by their type byte. */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

const IDX_TYPES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

/**
 * An IDX file's contents exactly as stored: its shape, element type and values (in host order).
 * Kept apart from tensors so callers can scale or relabel bytes without an intermediate copy.
 */
export interface IdxArray {
  shape: number[];
  type: IdxType;
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Options for turning IDX values into a tensor. */
export interface IdxTensorOptions {
  /** The tensor's dtype; default int32 for integer files, float32/float64 for float files. */
  dtype?: DType;
  /** Multiplies every value (e.g. 1/255 to scale image bytes to [0, 1]); float dtypes only. */
  scale?: number;
}

function gzipped(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses IDX bytes (already decompressed).  Checks the magic, the type byte, and that the data is
 * exactly as long as the dimensions say; every problem names `source` when given.
 * @example parseIdx(zlib.gunzipSync(fs.readFileSync('train-labels-idx1-ubyte.gz'))).shape  // [60000]
 */
export function parseIdx(bytes: Uint8Array, source?: string): IdxArray {
  const op = 'parseIdx';
  if (!(bytes instanceof Uint8Array)) throw argError(op, `expected the file's bytes as a Buffer or Uint8Array, got ${fmtValue(bytes)}`);
  const bad = (msg: string) => new SymtensorError('ERR_ST_LOAD', op, `${source ? source + ': ' : ''}${msg}`);
  if (bytes.length < 4) throw bad(`not an IDX file: ${bytes.length} bytes, fewer than the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw bad(`not an IDX file: the magic number must start with two zero bytes, got 0x${hex(bytes[0])} 0x${hex(bytes[1])}${gzipped(bytes) ? ' (the data is gzipped: decompress it first, or use readIdx)' : ''}`);
  const kind = IDX_TYPES[bytes[2]];
  if (!kind) throw bad(`unknown IDX type byte 0x${hex(bytes[2])} (valid: ${Object.keys(IDX_TYPES).map((k) => `0x${hex(Number(k))} ${IDX_TYPES[Number(k)].type}`).join(', ')})`);
  const rank = bytes[3];
  const dataStart = 4 + 4 * rank;
  if (bytes.length < dataStart) throw bad(`truncated header: rank ${rank} needs ${dataStart} header bytes, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  try {
    checkShape(op, shape);
  } catch (e) {
    throw bad((e as Error).message.slice(op.length + 2));
  }
  const n = sizeOf(shape);
  const need = n * kind.bytes;
  const have = bytes.length - dataStart;
  if (have !== need)
    throw bad(`shape ${fmtShape(shape)} of ${kind.type} needs ${need} data bytes, the file has ${have}${have < need ? ' (truncated?)' : ' (trailing bytes)'}`);
  return { shape, type: kind.type, data: readBigEndian(view, dataStart, kind.type, n) };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function readBigEndian(view: DataView, at: number, type: IdxType, n: number): IdxArray['data'] {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer, view.byteOffset + at, n).slice();
    case 'int8':
      return new Int8Array(view.buffer, view.byteOffset + at, n).slice();
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}

function readError(op: string, filePath: string, e: unknown): SymtensorError {
  if (e instanceof SymtensorError) return new SymtensorError(e.code, op, e.message.replace(/^\w+: /, ''));
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR' ? `corrupt gzip data (${err.message})` : err.message ?? String(e);
  return new SymtensorError('ERR_ST_LOAD', op, `cannot read ${filePath}: ${why}`);
}

function checkPath(op: string, filePath: unknown): asserts filePath is string {
  if (typeof filePath !== 'string' || filePath === '') throw argError(op, `path must be a non-empty string, got ${fmtValue(filePath)}`);
}

/**
 * Reads an IDX file, gzipped or plain, as its raw values (see IdxArray).  Decompression runs off the
 * event loop.
 * @example const { shape, data } = await readIdxArray('t10k-labels-idx1-ubyte.gz')  // [10000], Uint8Array
 */
export async function readIdxArray(filePath: string): Promise<IdxArray> {
  const op = 'readIdxArray';
  checkPath(op, filePath);
  try {
    let bytes: Uint8Array = await fs.promises.readFile(filePath);
    if (gzipped(bytes)) bytes = await gunzipAsync(bytes);
    return parseIdx(bytes, filePath);
  } catch (e) {
    throw readError(op, filePath, e);
  }
}

/** Same as readIdxArray, blocking. */
export function readIdxArraySync(filePath: string): IdxArray {
  const op = 'readIdxArraySync';
  checkPath(op, filePath);
  try {
    let bytes: Uint8Array = fs.readFileSync(filePath);
    if (gzipped(bytes)) bytes = gunzipSync(bytes);
    return parseIdx(bytes, filePath);
  } catch (e) {
    throw readError(op, filePath, e);
  }
}

/**
 * A tensor of an IDX array's values.  Integer files become int32 and float files keep their type
 * unless `dtype` says otherwise; `scale` multiplies each value (in float64, then rounded once to the
 * dtype), so `{ dtype: 'float32', scale: 1 / 255 }` gives images in [0, 1].
 */
export function idxToTensor(idx: IdxArray, opts: IdxTensorOptions = {}, op = 'idxToTensor'): Tensor {
  const dtype: DType = opts.dtype ?? (idx.type === 'float64' ? 'float64' : idx.type === 'float32' ? 'float32' : 'int32');
  const scale = opts.scale ?? 1;
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw argError(op, `scale must be a finite number, got ${fmtValue(scale)}`);
  if (scale !== 1 && dtype !== 'float32' && dtype !== 'float64') throw argError(op, `scale needs a float dtype, got dtype ${dtype} (pass dtype: 'float32')`);
  const n = idx.data.length;
  if (dtype === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = idx.data[i] ? 1 : 0;
    return tensor(out, { shape: idx.shape, dtype });
  }
  if (dtype === 'int32' && (idx.type === 'float32' || idx.type === 'float64'))
    throw argError(op, `a ${idx.type} IDX file cannot become int32 without losing values; pass dtype: '${idx.type}'`);
  const out = dtype === 'float64' ? new Float64Array(n) : dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
  if (idx.type === 'uint8' && scale !== 1) {
    // one rounding per byte value, then a table lookup: the same values as x*scale per element
    const table = new Float64Array(256);
    for (let b = 0; b < 256; b++) table[b] = b * scale;
    const src = idx.data;
    for (let i = 0; i < n; i++) out[i] = table[src[i]];
  } else if (scale !== 1) {
    for (let i = 0; i < n; i++) out[i] = idx.data[i] * scale;
  } else {
    out.set(idx.data);
  }
  return tensor(out, { shape: idx.shape, dtype });
}

/**
 * Reads an IDX file (gzipped or plain) as a tensor: int32 for integer files unless `dtype` is given,
 * with an optional `scale` (see idxToTensor).  Use readIdxArray for the raw values.
 * @example const x = await readIdx('train-images-idx3-ubyte.gz', { dtype: 'float32', scale: 1 / 255 })  // [60000,28,28]
 */
export async function readIdx(filePath: string, opts: IdxTensorOptions = {}): Promise<Tensor> {
  const op = 'readIdx';
  checkPath(op, filePath);
  let idx: IdxArray;
  try {
    idx = await readIdxArray(filePath);
  } catch (e) {
    throw readError(op, filePath, e);
  }
  return idxToTensor(idx, opts, op);
}

/** Same as readIdx, blocking. */
export function readIdxSync(filePath: string, opts: IdxTensorOptions = {}): Tensor {
  const op = 'readIdxSync';
  checkPath(op, filePath);
  let idx: IdxArray;
  try {
    idx = readIdxArraySync(filePath);
  } catch (e) {
    throw readError(op, filePath, e);
  }
  return idxToTensor(idx, opts, op);
}
