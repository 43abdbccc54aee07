// numpy's .npy format: "\x93NUMPY", a version (1.0: uint16 header length; 2.0/3.0: uint32), a
// Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces
// and a newline, then the data.  Read: little-endian C-order arrays; write: version 1.0 as numpy does.
import * as fs from 'node:fs';
import { endianness } from 'node:os';
import { DType } from '../dtype';
import { SymtensorError, argError, fmtShape, fmtValue } from '../errors';
import { Tensor } from '../tensor/tensor';
import { fromBuffer, tensor } from '../tensor/creation';
import { checkShape, sizeOf } from '../tensor/shape-util';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * The descrs this reader takes → the dtype they become.  Exact ones copy bytes; narrower integers
 * widen to int32; int64/uint32 become int32 when every value fits.
 */
const READ: Record<string, { dtype: DType; bytes: number; read?: (v: DataView, i: number) => number | bigint }> = {
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '|b1': { dtype: 'bool', bytes: 1 },
  '|u1': { dtype: 'int32', bytes: 1, read: (v, i) => v.getUint8(i) },
  '|i1': { dtype: 'int32', bytes: 1, read: (v, i) => v.getInt8(i) },
  '<i2': { dtype: 'int32', bytes: 2, read: (v, i) => v.getInt16(2 * i, true) },
  '<u2': { dtype: 'int32', bytes: 2, read: (v, i) => v.getUint16(2 * i, true) },
  '<u4': { dtype: 'int32', bytes: 4, read: (v, i) => v.getUint32(4 * i, true) },
  '<i8': { dtype: 'int32', bytes: 8, read: (v, i) => v.getBigInt64(8 * i, true) },
};

const WRITE: Record<DType, string> = { float32: '<f4', float64: '<f8', int32: '<i4', bool: '|b1' };

const LITTLE_ENDIAN = endianness() === 'LE';

/** Reverses each `size`-byte element in place (big-endian hosts only). */
function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

/** Values of the header dict: strings, booleans, and tuples of integers. */
type PyValue = string | boolean | number[];

/** Parses the small subset of Python literals numpy writes in a header. */
function parseHeaderDict(text: string, fail: (msg: string) => never): Record<string, PyValue> {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) fail(`expected '${c}' at character ${i} of the header ${fmtValue(text)}`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') fail(`expected a quoted string at character ${i} of the header ${fmtValue(text)}`);
    const end = text.indexOf(q, i + 1);
    if (end < 0) fail('unterminated string in the header');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const value = (): PyValue => {
    ws();
    if (text[i] === "'" || text[i] === '"') return str();
    for (const [word, b] of [['True', true], ['False', false]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return b;
      }
    }
    if (text[i] === '(') {
      i++;
      const dims: number[] = [];
      for (;;) {
        ws();
        if (text[i] === ')') {
          i++;
          return dims;
        }
        const m = /^\d+L?/.exec(text.slice(i));
        if (!m) fail(`shape must be a tuple of non-negative integers, got ${fmtValue(text.slice(i - 1, text.indexOf(')', i) + 1 || undefined))}`);
        dims.push(Number(m[0].replace('L', '')));
        i += m[0].length;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') fail(`malformed shape tuple at character ${i} of the header`);
      }
    }
    return fail(`unexpected value at character ${i} of the header ${fmtValue(text)}`);
  };
  const out: Record<string, PyValue> = Object.create(null);
  expect('{');
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const key = str();
    expect(':');
    out[key] = value();
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(`expected ',' or '}' at character ${i} of the header`);
  }
  return out;
}

/**
 * Parses .npy bytes into a tensor.  Reads versions 1.0, 2.0 and 3.0; little-endian float32, float64,
 * int32, bool and uint8 (as int32), also int8/int16/uint16 (as int32) and int64/uint32 (as int32 when
 * every value fits).  Fortran-order and big-endian arrays are refused with the numpy call that fixes them.
 * @example parseNpy(fs.readFileSync('x.npy'), 'x.npy').shape
 */
export function parseNpy(bytes: Uint8Array, source?: string): Tensor {
  const op = 'parseNpy';
  if (!(bytes instanceof Uint8Array)) throw argError(op, `expected the file's bytes as a Buffer or Uint8Array, got ${fmtValue(bytes)}`);
  const fail = (msg: string, code: 'ERR_ST_LOAD' | 'ERR_ST_DTYPE' | 'ERR_ST_VALUE' = 'ERR_ST_LOAD'): never => {
    throw new SymtensorError(code, op, `${source ? source + ': ' : ''}${msg}`);
  };
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) fail('not a .npy file (it does not start with "\\x93NUMPY")');
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3) fail(`unsupported .npy version ${major}.${minor} (readable: 1.0, 2.0, 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail('truncated header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes; truncated?)`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenBytes, dataStart));
  const header = parseHeaderDict(text, fail);
  const { descr, fortran_order: fortran, shape } = header;
  if (typeof descr !== 'string') fail(`the header has no 'descr' string: ${fmtValue(text.trim())}`);
  if (typeof fortran !== 'boolean') fail(`the header has no 'fortran_order' boolean: ${fmtValue(text.trim())}`);
  if (!Array.isArray(shape)) fail(`the header has no 'shape' tuple: ${fmtValue(text.trim())}`);
  const d = descr as string;
  const dims = shape as number[];
  if (fortran) fail(`Fortran-order (column-major) arrays are not supported; save a C-order copy (np.save(path, np.ascontiguousarray(a)))`, 'ERR_ST_VALUE');
  const info = READ[d];
  if (!info) {
    const hint = d.startsWith('>') ? ` (big-endian: save a little-endian copy with a.astype('<${d.slice(1)}'))` : '';
    fail(`dtype ${fmtValue(d)} is not supported${hint}; readable: ${Object.keys(READ).join(', ')}`, 'ERR_ST_DTYPE');
  }
  try {
    checkShape(op, dims);
  } catch (e) {
    fail((e as Error).message.slice(op.length + 2));
  }
  const n = sizeOf(dims);
  const need = n * info.bytes;
  const have = bytes.length - dataStart;
  if (have !== need) fail(`shape ${fmtShape(dims)} of ${d} needs ${need} data bytes, the file has ${have}${have < need ? ' (truncated?)' : ' (trailing bytes)'}`);
  const raw = bytes.subarray(dataStart);
  if (!info.read) {
    if (LITTLE_ENDIAN || info.bytes === 1) return fromBuffer(raw, dims, info.dtype);
    const copy = new Uint8Array(raw);
    swapBytes(copy, info.bytes);
    return fromBuffer(copy, dims, info.dtype);
  }
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = info.read(v, i);
    if (x < -2147483648 || x > 2147483647) fail(`value ${x} at flat index ${i} does not fit int32 (read as int32 from ${d})`, 'ERR_ST_VALUE');
    out[i] = Number(x);
  }
  return tensor(out, { shape: dims, dtype: 'int32' });
}

/**
 * The .npy bytes of a tensor: version 1.0 (2.0 when the header needs it), the header padded so the
 * data starts on a 64-byte boundary, as numpy writes it.
 */
export function encodeNpy(t: Tensor): Buffer {
  const op = 'encodeNpy';
  if (!(t instanceof Tensor)) throw argError(op, `expected a Tensor, got ${fmtValue(t)}`);
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  const dict = `{'descr': '${WRITE[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // numpy: pad with spaces, then '\n', so magic + version + length + header is a multiple of 64
  const padded = (prefix: number) => dict + ' '.repeat(64 - ((prefix + dict.length + 1) % 64)) + '\n';
  const v1 = padded(10).length <= 65535;
  const prefix = v1 ? 10 : 12;
  const header = padded(prefix);
  const data = t.dataSync();
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (!LITTLE_ENDIAN && data.BYTES_PER_ELEMENT > 1) swapBytes(bytes, data.BYTES_PER_ELEMENT);
  const out = Buffer.alloc(prefix + header.length + bytes.byteLength);
  out.set(MAGIC, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  if (v1) out.writeUInt16LE(header.length, 8);
  else out.writeUInt32LE(header.length, 8);
  out.write(header, prefix, 'latin1');
  out.set(bytes, prefix + header.length);
  return out;
}

function ioError(op: string, filePath: string, verb: string, e: unknown): SymtensorError {
  if (e instanceof SymtensorError) return new SymtensorError(e.code, op, e.message.replace(/^\w+: /, ''));
  const err = e as NodeJS.ErrnoException;
  return new SymtensorError('ERR_ST_LOAD', op, `cannot ${verb} ${filePath}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message ?? String(e)}`);
}

function checkPath(op: string, filePath: unknown): asserts filePath is string {
  if (typeof filePath !== 'string' || filePath === '') throw argError(op, `path must be a non-empty string, got ${fmtValue(filePath)}`);
}

/**
 * Reads a .npy file (see parseNpy for the dtypes taken).
 * @example const x = await readNpy('features.npy')
 */
export async function readNpy(filePath: string): Promise<Tensor> {
  const op = 'readNpy';
  checkPath(op, filePath);
  try {
    return parseNpy(await fs.promises.readFile(filePath), filePath);
  } catch (e) {
    throw ioError(op, filePath, 'read', e);
  }
}

/** Same as readNpy, blocking. */
export function readNpySync(filePath: string): Tensor {
  const op = 'readNpySync';
  checkPath(op, filePath);
  try {
    return parseNpy(fs.readFileSync(filePath), filePath);
  } catch (e) {
    throw ioError(op, filePath, 'read', e);
  }
}

/**
 * Writes a tensor as a .npy file numpy loads with np.load (float32 → '<f4', float64 → '<f8',
 * int32 → '<i4', bool → '|b1').
 * @example await writeNpy('pred.npy', model.predict(x))
 */
export async function writeNpy(filePath: string, t: Tensor): Promise<void> {
  const op = 'writeNpy';
  checkPath(op, filePath);
  let bytes: Buffer;
  try {
    bytes = encodeNpy(t);
    await fs.promises.writeFile(filePath, bytes);
  } catch (e) {
    throw ioError(op, filePath, 'write', e);
  }
}

/** Same as writeNpy, blocking. */
export function writeNpySync(filePath: string, t: Tensor): void {
  const op = 'writeNpySync';
  checkPath(op, filePath);
  try {
    fs.writeFileSync(filePath, encodeNpy(t));
  } catch (e) {
    throw ioError(op, filePath, 'write', e);
  }
}
