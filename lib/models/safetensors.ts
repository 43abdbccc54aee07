// The safetensors weight format (Hugging Face's): an 8-byte little-endian header length N, N bytes
// of JSON naming each tensor's dtype, shape and byte range, then the raw little-endian data.
// Files written here are read by Python's `safetensors` and the reverse; nothing is executed on load.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { DType } from '../dtype';
import { SymtensorError, SymtensorErrorCode, argError, fmtShape, fmtValue } from '../errors';
import { Tensor } from '../tensor/tensor';
import { fromBuffer, tensor } from '../tensor/creation';
import { checkShape, sizeOf } from '../tensor/shape-util';

/** Tensors by name, as stored in a weights file. */
export interface NamedTensors {
  [name: string]: Tensor;
}

/** What a safetensors file holds: its tensors and the string metadata of its header. */
export interface Safetensors {
  tensors: NamedTensors;
  metadata: Record<string, string>;
}

/** The reference reader refuses larger headers (a guard against reading a huge bogus length). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

/** Our dtypes as the format names them. */
const WRITE_NAME: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/**
 * The dtypes this reader takes: the format's name → bytes per element, the dtype it becomes and how
 * its bytes turn into that dtype's values.  Narrower types widen exactly (F16/BF16 → float32,
 * 8/16-bit integers → int32); 64-bit and unsigned 32-bit integers become int32 when every value fits.
 */
interface ReadDType {
  bytes: number;
  dtype: DType;
  /** Converts little-endian bytes (already copied, aligned) to values; absent = the bytes are the values. */
  convert?: (b: Uint8Array, n: number, fail: (i: number, v: bigint | number) => never) => Float32Array | Int32Array;
}

function intsFrom(read: (v: DataView, i: number) => number): ReadDType['convert'] {
  return (b, n) => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = read(v, i);
    return out;
  };
}

function wideIntsFrom(read: (v: DataView, i: number) => bigint | number): ReadDType['convert'] {
  return (b, n, fail) => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const x = read(v, i);
      if (x < -2147483648 || x > 2147483647) fail(i, x);
      out[i] = Number(x);
    }
    return out;
  };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const READ_DTYPES: Record<string, ReadDType> = {
  F64: { bytes: 8, dtype: 'float64' },
  F32: { bytes: 4, dtype: 'float32' },
  I32: { bytes: 4, dtype: 'int32' },
  BOOL: { bytes: 1, dtype: 'bool' },
  F16: {
    bytes: 2,
    dtype: 'float32',
    convert: (b, n) => {
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(2 * i, true));
      return out;
    },
  },
  BF16: {
    bytes: 2,
    dtype: 'float32',
    convert: (b, n) => {
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      return out;
    },
  },
  I8: { bytes: 1, dtype: 'int32', convert: intsFrom((v, i) => v.getInt8(i)) },
  U8: { bytes: 1, dtype: 'int32', convert: intsFrom((v, i) => v.getUint8(i)) },
  I16: { bytes: 2, dtype: 'int32', convert: intsFrom((v, i) => v.getInt16(2 * i, true)) },
  U16: { bytes: 2, dtype: 'int32', convert: intsFrom((v, i) => v.getUint16(2 * i, true)) },
  U32: { bytes: 4, dtype: 'int32', convert: wideIntsFrom((v, i) => v.getUint32(4 * i, true)) },
  I64: { bytes: 8, dtype: 'int32', convert: wideIntsFrom((v, i) => v.getBigInt64(8 * i, true)) },
  U64: { bytes: 8, dtype: 'int32', convert: wideIntsFrom((v, i) => v.getBigUint64(8 * i, true)) },
};

/** Dtypes of the format that have no symtensor counterpart (named apart from typos in messages). */
const UNSUPPORTED = ['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64'];

/**
 * The reference writer's order: larger dtypes first (so every tensor starts aligned to its element
 * size), then by name in byte order.
 */
const WRITE_RANK: Record<DType, number> = { float64: 0, float32: 1, int32: 2, bool: 3 };

const LITTLE_ENDIAN = endianness() === 'LE';

/** Reverses each `size`-byte element in place (only on big-endian hosts). */
function swapBytes(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

function where(source: string | undefined): string {
  return source ? `${source}: ` : '';
}

/**
 * Serializes tensors (float32, float64, int32, bool) to safetensors bytes, laid out as the reference
 * writer does: tensors by dtype size then name, contiguous, the JSON header padded with spaces to a
 * multiple of 8 bytes.  `metadata` is stored as the header's `__metadata__` (omitted when empty).
 * @example fs.writeFileSync('w.safetensors', encodeSafetensors({ kernel: w, bias: b }, { format: 'pt' }))
 */
export function encodeSafetensors(tensors: NamedTensors, metadata: Record<string, string> = {}): Buffer {
  return encode('encodeSafetensors', tensors, metadata);
}

function encode(op: string, tensors: NamedTensors, metadata: Record<string, string>): Buffer {
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors) || tensors instanceof Tensor)
    throw argError(op, `tensors must be an object mapping names to tensors, got ${fmtValue(tensors)}`);
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    throw argError(op, `metadata must be an object of strings, got ${fmtValue(metadata)}`);
  for (const [k, v] of Object.entries(metadata))
    if (typeof v !== 'string') throw argError(op, `metadata[${JSON.stringify(k)}] must be a string (the format stores only strings), got ${fmtValue(v)}`);

  const entries = Object.keys(tensors).map((name) => {
    const t = tensors[name];
    if (!(t instanceof Tensor)) throw argError(op, `tensors[${JSON.stringify(name)}] must be a Tensor, got ${fmtValue(t)}`);
    if (name === METADATA_KEY) throw argError(op, `"${METADATA_KEY}" is reserved for the header's metadata and cannot name a tensor`);
    if (t.isDisposed) throw new SymtensorError('ERR_ST_DISPOSED', op, `tensor "${name}" ${fmtShape(t.shape)} ${t.dtype} is disposed`);
    return { name, key: Buffer.from(name, 'utf8'), t };
  });
  entries.sort((a, b) => WRITE_RANK[a.t.dtype] - WRITE_RANK[b.t.dtype] || Buffer.compare(a.key, b.key));

  // no prototype: a tensor may be named "__proto__"
  const header: Record<string, unknown> = Object.create(null);
  const metaKeys = Object.keys(metadata).sort();
  if (metaKeys.length) header[METADATA_KEY] = Object.fromEntries(metaKeys.map((k) => [k, metadata[k]]));
  let offset = 0;
  const datas: Uint8Array[] = [];
  for (const { name, t } of entries) {
    const data = t.dataSync();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (!LITTLE_ENDIAN) swapBytes(bytes, data.BYTES_PER_ELEMENT);
    datas.push(bytes);
    header[name] = { dtype: WRITE_NAME[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const headerLen = jsonBytes + ((8 - (jsonBytes % 8)) % 8);
  let out: Buffer;
  try {
    out = Buffer.allocUnsafe(8 + headerLen + offset);
  } catch (e) {
    throw new SymtensorError('ERR_ST_ALLOC', op, `cannot allocate ${8 + headerLen + offset} bytes for the file (${(e as Error).message})`);
  }
  out.writeBigUInt64LE(BigInt(headerLen), 0);
  out.write(json, 8, 'utf8');
  let at = 8 + headerLen;
  for (const d of datas) {
    out.set(d, at);
    at += d.byteLength;
  }
  return out;
}

/**
 * Parses safetensors bytes.  Checks everything before trusting it: the header length, the JSON, each
 * tensor's dtype and shape, that its byte range holds exactly shape × itemsize bytes, and that the
 * ranges tile the data from 0 to the end without gaps or overlap (the reference reader's rule).
 * Every problem is a SymtensorError naming `source` (when given) and the tensor.  F16/BF16 are read
 * as float32, 8/16-bit integers as int32, 64-bit integers as int32 when every value fits.
 * @example const { tensors, metadata } = decodeSafetensors(fs.readFileSync('w.safetensors'), 'w.safetensors')
 */
export function decodeSafetensors(bytes: Uint8Array, source?: string): Safetensors {
  return decode('decodeSafetensors', bytes, source);
}

function decode(op: string, bytes: Uint8Array, source: string | undefined): Safetensors {
  if (!(bytes instanceof Uint8Array)) throw argError(op, `expected the file's bytes as a Buffer or Uint8Array, got ${fmtValue(bytes)}`);
  const at = where(source);
  const bad = (msg: string, code: SymtensorErrorCode = 'ERR_ST_LOAD') => new SymtensorError(code, op, `${at}${msg}`);
  if (bytes.byteLength < 8) throw bad(`not a safetensors file: ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw bad(`header length ${n64} is above the format's limit of ${MAX_HEADER_BYTES} bytes (corrupt or not a safetensors file)`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength) throw bad(`header length ${n} runs past the end of the file (${bytes.byteLength} bytes; truncated?)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw bad('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw bad(`the header does not start with '{' (got ${fmtValue(text.slice(0, 16))}): not a safetensors file`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw bad(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad('the header must be a JSON object');

  const meta: [string, string][] = [];
  const infos: { name: string; info: ReadDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`"${METADATA_KEY}" must be an object of strings, got ${fmtValue(raw)}`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw bad(`"${METADATA_KEY}" entry ${JSON.stringify(k)} must be a string, got ${fmtValue(v)}`);
        meta.push([k, v]);
      }
      continue;
    }
    const t = `tensor ${JSON.stringify(name)}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`${t}: expected {dtype, shape, data_offsets}, got ${fmtValue(raw)}`);
    const { dtype, shape, data_offsets: offs } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') throw bad(`${t}: dtype must be a string, got ${fmtValue(dtype)}`);
    const info = READ_DTYPES[dtype];
    if (!info) {
      const valid = Object.keys(READ_DTYPES).join(', ');
      throw bad(UNSUPPORTED.includes(dtype) ? `${t}: dtype ${dtype} is not supported (readable: ${valid})` : `${t}: unknown dtype ${fmtValue(dtype)} (valid: ${valid})`, 'ERR_ST_DTYPE');
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`${t}: shape must be an array of non-negative integers, got ${fmtValue(shape)}`);
    try {
      checkShape(op, shape);
    } catch (e) {
      throw bad(`${t}: ${(e as Error).message.slice(op.length + 2)}`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0))
      throw bad(`${t}: data_offsets must be [begin, end] of non-negative integers, got ${fmtValue(offs)}`);
    const [begin, end] = offs as number[];
    if (end < begin) throw bad(`${t}: data_offsets [${begin}, ${end}] end before they begin`);
    const need = sizeOf(shape) * info.bytes;
    if (end - begin !== need)
      throw bad(`${t}: shape ${fmtShape(shape)} of ${dtype} needs ${need} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    infos.push({ name, info, shape, begin, end });
  }

  // the ranges must tile [0, data length) exactly, as the reference reader requires
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const byStart = infos.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expect = 0;
  let prev: string | null = null;
  for (const x of byStart) {
    const t = `tensor ${JSON.stringify(x.name)}`;
    if (x.end > dataLen) throw bad(`${t}: data_offsets [${x.begin}, ${x.end}] run past the end of the data (${dataLen} bytes; truncated?)`);
    if (x.begin < expect) throw bad(`${t}: data_offsets [${x.begin}, ${x.end}] overlap tensor ${JSON.stringify(prev)}, which ends at ${expect}`);
    if (x.begin > expect) throw bad(`${t}: data_offsets [${x.begin}, ${x.end}] leave a gap after byte ${expect} (the format stores tensors contiguously)`);
    expect = x.end;
    prev = x.name;
  }
  if (expect !== dataLen) throw bad(`${dataLen - expect} bytes after the last tensor's data (ends at ${expect}, data is ${dataLen} bytes)`);

  const out: [string, Tensor][] = [];
  for (const { name, info, shape, begin, end } of infos) {
    let raw = bytes.subarray(dataStart + begin, dataStart + end);
    const count = sizeOf(shape);
    const fail = (i: number, v: bigint | number): never => {
      throw bad(`tensor ${JSON.stringify(name)}: value ${v} at flat index ${i} does not fit int32 (read as int32 from ${Object.keys(READ_DTYPES).find((k) => READ_DTYPES[k] === info)})`, 'ERR_ST_VALUE');
    };
    if (info.convert) {
      out.push([name, tensor(info.convert(raw, count, fail), { shape, dtype: info.dtype })]);
    } else {
      if (!LITTLE_ENDIAN && info.bytes > 1) {
        raw = new Uint8Array(raw);
        swapBytes(raw, info.bytes);
      }
      out.push([name, fromBuffer(raw, shape, info.dtype)]);
    }
  }
  return { tensors: Object.fromEntries(out), metadata: Object.fromEntries(meta) };
}

/**
 * Writes `data` to `path` so that readers see the old file or the new one, never a partial one: the
 * bytes go to a temporary file in the same directory, are flushed to disk (fsync), then renamed over
 * the target.  A symlink is followed (the file it points to is replaced) and an existing file keeps
 * its permissions.  On failure the temporary file is removed and the old file is left as it was.
 * @example await writeFileAtomic('config.json', JSON.stringify(config))
 */
export async function writeFileAtomic(filePath: string, data: string | Uint8Array): Promise<void> {
  const op = 'writeFileAtomic';
  if (typeof filePath !== 'string' || filePath === '') throw argError(op, `path must be a non-empty string, got ${fmtValue(filePath)}`);
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw argError(op, `data must be a string or Uint8Array, got ${fmtValue(data)}`);
  const target = await fs.promises.realpath(filePath).catch(() => path.resolve(filePath));
  const mode = await fs.promises.stat(target).then((s) => s.mode & 0o7777, () => 0o644);
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(tmp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.rename(tmp, target);
  } catch (e) {
    await handle?.close().catch(() => {});
    await fs.promises.rm(tmp, { force: true }).catch(() => {});
    throw new SymtensorError('ERR_ST_LOAD', op, `cannot write ${filePath}: ${(e as Error).message ?? String(e)} (the previous file, if any, is unchanged)`);
  }
  // make the rename itself durable; not every platform can open a directory, which is harmless
  try {
    const d = await fs.promises.open(dir, 'r');
    await d.sync().finally(() => d.close());
  } catch {
    /* best effort */
  }
}

/**
 * Saves tensors to a safetensors file, atomically (see writeFileAtomic).
 * @example await saveSafetensors('model.safetensors', { 'dense/kernel': w, 'dense/bias': b })
 */
export async function saveSafetensors(filePath: string, tensors: NamedTensors, metadata: Record<string, string> = {}): Promise<void> {
  const bytes = encode('saveSafetensors', tensors, metadata);
  await writeFileAtomic(filePath, bytes);
}

/**
 * Loads a safetensors file (see decodeSafetensors for what is checked and how dtypes are read).
 * @example const { tensors } = await loadSafetensors('model.safetensors'); tensors['dense/kernel'].shape
 */
export async function loadSafetensors(filePath: string): Promise<Safetensors> {
  const op = 'loadSafetensors';
  if (typeof filePath !== 'string' || filePath === '') throw argError(op, `path must be a non-empty string, got ${fmtValue(filePath)}`);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(filePath);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SymtensorError('ERR_ST_LOAD', op, `cannot read ${filePath}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  return decode(op, bytes, filePath);
}

/** Same as loadSafetensors, blocking. */
export function loadSafetensorsSync(filePath: string): Safetensors {
  const op = 'loadSafetensorsSync';
  if (typeof filePath !== 'string' || filePath === '') throw argError(op, `path must be a non-empty string, got ${fmtValue(filePath)}`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(filePath);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SymtensorError('ERR_ST_LOAD', op, `cannot read ${filePath}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  return decode(op, bytes, filePath);
}

