// The data module: IDX, .npy and CSV files built byte by byte in the tests, MNIST-style datasets
// from small files written here, and the real Fashion-MNIST where Debian's package is installed.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as st from '../../lib/index';
import * as data from '../../lib/data/index';
import { expectError } from '../support/check';

type DType = 'float32' | 'float64' | 'int32' | 'bool';

function expectExact(t: st.Tensor, dtype: DType, shape: number[], values: ArrayLike<number>, what: string): void {
  assert.ok(t instanceof st.Tensor, `${what}: not a Tensor`);
  assert.equal(t.dtype, dtype, `${what}: dtype`);
  assert.deepEqual(t.shape, shape, `${what}: shape`);
  const got = t.dataSync();
  assert.equal(got.length, values.length, `${what}: element count`);
  for (let i = 0; i < values.length; i++) assert.ok(Object.is(got[i], values[i]), `${what}[${i}]: got ${got[i]}, expected ${values[i]}`);
}

async function rejects(p: Promise<unknown>, code: string, patterns: (string | RegExp)[]): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof st.SymtensorError, `expected a SymtensorError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const s of patterns) {
    if (typeof s === 'string') assert.ok(caught.message.includes(s), `message ${JSON.stringify(caught.message)} should include ${JSON.stringify(s)}`);
    else assert.match(caught.message, s);
  }
}

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'symtensor-data-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------------
// IDX

/** An IDX file as the format describes it: 0, 0, type byte, rank, big-endian u32 dims, big-endian data. */
function idxBytes(typeByte: number, dims: number[], body: number[] | Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = typeByte;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(body)]);
}

describe('data: IDX files', () => {
  // uint8 [2,3]: bytes 0, 1, 127, 128, 254, 255
  const u8 = idxBytes(0x08, [2, 3], [0, 1, 127, 128, 254, 255]);
  // int16 [3], big-endian: -2 = ff fe, 300 = 01 2c, -32768 = 80 00
  const i16 = idxBytes(0x0b, [3], [0xff, 0xfe, 0x01, 0x2c, 0x80, 0x00]);
  // int32 [1,2]: -1 = ff ff ff ff, 16909060 = 01 02 03 04
  const i32 = idxBytes(0x0c, [1, 2], [0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04]);
  // float32 [2]: 1.5 = 3f c0 00 00, -0 = 80 00 00 00
  const f32 = idxBytes(0x0d, [2], [0x3f, 0xc0, 0, 0, 0x80, 0, 0, 0]);
  // float64 []: 0.1 = 3f b9 99 99 99 99 99 9a
  const f64 = idxBytes(0x0e, [], [0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]);
  // int8 [2]: -128, 5
  const i8 = idxBytes(0x09, [2], [0x80, 0x05]);

  it('parseIdx reads every element type exactly', () => {
    const a = data.parseIdx(u8);
    assert.equal(a.type, 'uint8');
    assert.deepEqual(a.shape, [2, 3]);
    assert.ok(a.data instanceof Uint8Array);
    assert.deepEqual([...a.data], [0, 1, 127, 128, 254, 255]);
    assert.deepEqual([...data.parseIdx(i16).data], [-2, 300, -32768]);
    assert.deepEqual([...data.parseIdx(i32).data], [-1, 16909060]);
    const f = data.parseIdx(f32);
    assert.equal(f.type, 'float32');
    assert.ok(Object.is(f.data[0], 1.5) && Object.is(f.data[1], -0));
    const d = data.parseIdx(f64);
    assert.deepEqual(d.shape, []);
    assert.equal(d.data[0], 0.1);
    assert.deepEqual([...data.parseIdx(i8).data], [-128, 5]);
  });

  it('readIdx reads plain and gzipped files to the same tensors; integer files are int32', async () => {
    const plain = path.join(tmp, 'a-idx2-ubyte');
    const gz = path.join(tmp, 'a-idx2-ubyte.gz');
    const gzOddName = path.join(tmp, 'gz-without-extension');
    fs.writeFileSync(plain, u8);
    fs.writeFileSync(gz, zlib.gzipSync(u8));
    fs.writeFileSync(gzOddName, zlib.gzipSync(u8));
    for (const p of [plain, gz, gzOddName]) {
      expectExact(await data.readIdx(p), 'int32', [2, 3], [0, 1, 127, 128, 254, 255], `readIdx ${path.basename(p)}`);
      expectExact(data.readIdxSync(p), 'int32', [2, 3], [0, 1, 127, 128, 254, 255], `readIdxSync ${path.basename(p)}`);
    }
    const raw = await data.readIdxArray(gz);
    assert.deepEqual(raw.shape, [2, 3]);
    assert.deepEqual([...data.readIdxArraySync(gz).data], [0, 1, 127, 128, 254, 255]);
    // float files keep their type; i16 widens
    const pf = path.join(tmp, 'f-idx1');
    fs.writeFileSync(pf, zlib.gzipSync(f32));
    expectExact(await data.readIdx(pf), 'float32', [2], [1.5, -0], 'float32 file');
    fs.writeFileSync(pf, f64);
    expectExact(await data.readIdx(pf), 'float64', [], [0.1], 'float64 file');
    fs.writeFileSync(pf, i16);
    expectExact(await data.readIdx(pf), 'int32', [3], [-2, 300, -32768], 'int16 file');
  });

  it('dtype and scale options: bytes to float32 in [0, 1]', async () => {
    const p = path.join(tmp, 'u8-idx');
    fs.writeFileSync(p, u8);
    const bytes = [0, 1, 127, 128, 254, 255];
    expectExact(await data.readIdx(p, { dtype: 'float32', scale: 1 / 255 }), 'float32', [2, 3], bytes.map((b) => Math.fround(b * (1 / 255))), 'scaled');
    expectExact(await data.readIdx(p, { dtype: 'float64', scale: 2 }), 'float64', [2, 3], bytes.map((b) => b * 2), 'float64 x2');
    expectExact(data.idxToTensor(data.parseIdx(i16), { dtype: 'float32', scale: 0.5 }), 'float32', [3], [-1, 150, -16384], 'int16 scaled');
    expectExact(data.idxToTensor(data.parseIdx(u8), { dtype: 'bool' }), 'bool', [2, 3], [0, 1, 1, 1, 1, 1], 'bool');
    await rejects(data.readIdx(p, { scale: 0.5 }), 'ERR_ST_ARG', ['readIdx', 'scale needs a float dtype', 'int32']);
    await rejects(data.readIdx(p, { dtype: 'float32', scale: NaN }), 'ERR_ST_ARG', ['scale must be a finite number']);
    expectError(() => data.idxToTensor(data.parseIdx(f32), { dtype: 'int32' }), 'ERR_ST_ARG', ['float32 IDX file cannot become int32']);
  });

  const malformed: [string, Buffer, RegExp | string][] = [
    ['empty', Buffer.alloc(0), 'fewer than the 4-byte magic'],
    ['bad magic', Buffer.from([1, 0, 8, 1, 0, 0, 0, 0]), 'must start with two zero bytes, got 0x01 0x00'],
    ['unknown type byte', idxBytes(0x0a, [1], [0]), /unknown IDX type byte 0x0a \(valid: 0x08 uint8, .*0x0e float64\)/],
    ['truncated dimensions', idxBytes(0x08, [2, 3], []).subarray(0, 9), 'rank 2 needs 12 header bytes, the file has 9'],
    ['truncated data', idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5]), 'shape [2,3] of uint8 needs 6 data bytes, the file has 5 (truncated?)'],
    ['trailing data', idxBytes(0x0c, [1], [0, 0, 0, 1, 9]), 'shape [1] of int32 needs 4 data bytes, the file has 5 (trailing bytes)'],
    ['gzipped bytes to parseIdx', zlib.gzipSync(u8), 'decompress it first'],
  ];
  for (const [what, bytes, pattern] of malformed) {
    it(`malformed: ${what}`, () => {
      expectError(() => data.parseIdx(bytes, 'x.idx'), 'ERR_ST_LOAD', ['parseIdx', 'x.idx', pattern]);
    });
  }

  it('file errors name the file and the function called', async () => {
    const missing = path.join(tmp, 'nope-idx3-ubyte.gz');
    await rejects(data.readIdx(missing), 'ERR_ST_LOAD', [/^readIdx: /, missing, 'no such file']);
    expectError(() => data.readIdxArraySync(missing), 'ERR_ST_LOAD', ['readIdxArraySync', 'no such file']);
    const corrupt = path.join(tmp, 'corrupt.gz');
    fs.writeFileSync(corrupt, Buffer.concat([zlib.gzipSync(u8).subarray(0, 12), Buffer.from('garbage!garbage!')]));
    await rejects(data.readIdx(corrupt), 'ERR_ST_LOAD', [/^readIdx: /, corrupt, 'corrupt gzip data']);
    const bad = path.join(tmp, 'bad-idx');
    fs.writeFileSync(bad, idxBytes(0x08, [4], [1]));
    await rejects(data.readIdx(bad), 'ERR_ST_LOAD', [/^readIdx: /, bad, 'needs 4 data bytes, the file has 1']);
    await rejects(data.readIdx(42 as unknown as string), 'ERR_ST_ARG', ['path must be a non-empty string']);
  });
});

// ------------------------------------------------------------------------------------------------
// MNIST-style datasets

/** Writes a small MNIST-style dataset: train 3 images, test 2, of 2×3 pixels. */
function writeTinyDataset(dir: string, opts: { gzip?: boolean; trainLabels?: number[]; skip?: string } = {}): { train: number[][]; test: number[][] } {
  fs.mkdirSync(dir, { recursive: true });
  const train = [[0, 255, 51, 102, 153, 204], [1, 2, 3, 4, 5, 6], [250, 251, 252, 253, 254, 255]];
  const test = [[9, 8, 7, 6, 5, 4], [128, 0, 128, 0, 128, 0]];
  const files: [string, Buffer][] = [
    ['train-images-idx3-ubyte', idxBytes(0x08, [3, 2, 3], train.flat())],
    ['train-labels-idx1-ubyte', idxBytes(0x08, [opts.trainLabels?.length ?? 3], opts.trainLabels ?? [9, 0, 4])],
    ['t10k-images-idx3-ubyte', idxBytes(0x08, [2, 2, 3], test.flat())],
    ['t10k-labels-idx1-ubyte', idxBytes(0x08, [2], [1, 7])],
  ];
  files.forEach(([name, bytes], i) => {
    if (name === opts.skip) return;
    // alternate gzipped and plain files unless told otherwise: both kinds are found
    const gz = opts.gzip ?? i % 2 === 0;
    fs.writeFileSync(path.join(dir, gz ? name + '.gz' : name), gz ? zlib.gzipSync(bytes) : bytes);
  });
  return { train, test };
}

const scaled = (rows: number[][]) => rows.flat().map((b) => Math.fround(b / 255));

describe('data: MNIST-style datasets from a directory', () => {
  it('loadMnist: images float32 x/255 in [n, rows, cols], labels int32', async () => {
    const dir = path.join(tmp, 'mnist');
    const { train, test } = writeTinyDataset(dir);
    const d = await data.loadMnist({ dir });
    expectExact(d.train.x, 'float32', [3, 2, 3], scaled(train), 'train.x');
    expectExact(d.train.y, 'int32', [3], [9, 0, 4], 'train.y');
    expectExact(d.test.x, 'float32', [2, 2, 3], scaled(test), 'test.x');
    expectExact(d.test.y, 'int32', [2], [1, 7], 'test.y');
  });

  it('flatten and channels shape the images; the Sync twin gives the same', async () => {
    const dir = path.join(tmp, 'mnist-shapes');
    const { train, test } = writeTinyDataset(dir, { gzip: true });
    const flat = await data.loadMnist({ dir, flatten: true });
    expectExact(flat.train.x, 'float32', [3, 6], scaled(train), 'flatten');
    const ch = data.loadMnistSync({ dir, channels: true });
    expectExact(ch.test.x, 'float32', [2, 2, 3, 1], scaled(test), 'channels');
    expectExact(ch.train.y, 'int32', [3], [9, 0, 4], 'sync labels');
  });

  it('a missing file is an error naming the directory and the file', async () => {
    const dir = path.join(tmp, 'mnist-partial');
    writeTinyDataset(dir, { skip: 't10k-labels-idx1-ubyte' });
    await rejects(data.loadMnist({ dir }), 'ERR_ST_LOAD', ['loadMnist', 'MNIST not found', dir, 'missing t10k-labels-idx1-ubyte[.gz]']);
  });

  it('inconsistent files are errors naming the file', async () => {
    const dir1 = path.join(tmp, 'mnist-count');
    writeTinyDataset(dir1, { trainLabels: [1, 2] });
    await rejects(data.loadMnist({ dir: dir1 }), 'ERR_ST_LOAD', ['train-labels-idx1-ubyte', '2 labels for 3 images']);
    const dir2 = path.join(tmp, 'mnist-label');
    writeTinyDataset(dir2, { trainLabels: [1, 12, 3] });
    await rejects(data.loadMnist({ dir: dir2 }), 'ERR_ST_LOAD', ['label 12 at index 1 is outside 0..9']);
    const dir3 = path.join(tmp, 'mnist-type');
    writeTinyDataset(dir3, { gzip: false });
    fs.writeFileSync(path.join(dir3, 't10k-images-idx3-ubyte'), idxBytes(0x0d, [1, 1, 1], [0, 0, 0, 0]));
    await rejects(data.loadMnist({ dir: dir3 }), 'ERR_ST_LOAD', ['t10k-images-idx3-ubyte', 'expected uint8 images of shape [n, rows, cols], got float32 [1,1,1]']);
  });

  it('bad options', async () => {
    await rejects(data.loadMnist({ dir: tmp, flatten: true, channels: true }), 'ERR_ST_ARG', ['flatten and channels cannot both be set']);
    await rejects(data.loadMnist({} as { dir: string }), 'ERR_ST_ARG', ['options.dir is required']);
    await rejects(data.loadFashionMnist({ flaten: true } as unknown as { flatten: boolean }), 'ERR_ST_ARG', ['unknown option "flaten"', 'valid: dir, flatten, channels']);
    await rejects(data.loadFashionMnist({ flatten: 'yes' } as unknown as { flatten: boolean }), 'ERR_ST_ARG', ['flatten must be a boolean']);
  });

  it('loadFashionMnist: a missing dataset says where it looked and which package to install', async () => {
    const dir = path.join(tmp, 'no-such-dir');
    await rejects(data.loadFashionMnist({ dir }), 'ERR_ST_LOAD', ['Fashion-MNIST not found', `${dir}: no such directory`, 'dataset-fashion-mnist', 'SYMTENSOR_DATA_DIR']);
    expectError(() => data.loadFashionMnistSync({ dir }), 'ERR_ST_LOAD', ['loadFashionMnistSync', 'dataset-fashion-mnist']);
  });

  it('loadFashionMnist looks in $SYMTENSOR_DATA_DIR first', async () => {
    const root = path.join(tmp, 'datadir');
    const { train } = writeTinyDataset(path.join(root, 'fashion-mnist'));
    const saved = process.env.SYMTENSOR_DATA_DIR;
    process.env.SYMTENSOR_DATA_DIR = root;
    try {
      const d = await data.loadFashionMnist({ flatten: true });
      expectExact(d.train.x, 'float32', [3, 6], scaled(train), 'from SYMTENSOR_DATA_DIR/fashion-mnist');
    } finally {
      if (saved === undefined) delete process.env.SYMTENSOR_DATA_DIR;
      else process.env.SYMTENSOR_DATA_DIR = saved;
    }
  });
});

describe('data: the real Fashion-MNIST (Debian package dataset-fashion-mnist)', function () {
  const dir = data.FASHION_MNIST_SYSTEM_DIR;
  const files = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
  const present = files.every((f) => fs.existsSync(path.join(dir, f)));
  let d: data.ImageDataset | undefined;

  before(async function () {
    if (!present) {
      console.log(`      skipped: Fashion-MNIST is not installed in ${dir} (apt-get install dataset-fashion-mnist)`);
      this.skip();
    }
    d = await data.loadFashionMnist({ dir });
  });
  after(() => {
    for (const t of d ? [d.train.x, d.train.y, d.test.x, d.test.y] : []) t.dispose();
  });

  it('60000 training and 10000 test images of 28x28, float32; labels int32', () => {
    assert.deepEqual(d!.train.x.shape, [60000, 28, 28]);
    assert.deepEqual(d!.train.y.shape, [60000]);
    assert.deepEqual(d!.test.x.shape, [10000, 28, 28]);
    assert.deepEqual(d!.test.y.shape, [10000]);
    assert.equal(d!.train.x.dtype, 'float32');
    assert.equal(d!.test.y.dtype, 'int32');
  });

  it('labels: exactly 6000 per class in train and 1000 in test', () => {
    for (const [split, per] of [[d!.train, 6000], [d!.test, 1000]] as const) {
      const hist = new Array(10).fill(0);
      for (const v of split.y.dataSync()) hist[v]++;
      assert.deepEqual(hist, new Array(10).fill(per));
    }
  });

  it('test images equal the file bytes / 255, decoded independently here', () => {
    const raw = zlib.gunzipSync(fs.readFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz')));
    assert.equal(raw.readUInt32BE(0), 0x803);
    const x = d!.test.x.dataSync();
    assert.equal(x.length, raw.length - 16);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < x.length; i++) {
      if (x[i] !== Math.fround(raw[16 + i] / 255)) assert.fail(`test.x flat[${i}] = ${x[i]}, byte ${raw[16 + i]}`);
      min = Math.min(min, x[i]);
      max = Math.max(max, x[i]);
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
    const labels = zlib.gunzipSync(fs.readFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz')));
    assert.deepEqual([...d!.test.y.dataSync()], [...labels.subarray(8)]);
  });

  it('training images: values in [0, 1]; the first thousands equal the file bytes / 255', () => {
    assert.equal(st.min(d!.train.x).item(), 0);
    assert.equal(st.max(d!.train.x).item(), 1);
    // the start of the file, inflated here from a prefix of the compressed bytes (flushing what is complete)
    const gz = fs.readFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'));
    const head = zlib.gunzipSync(gz.subarray(0, 1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const n = Math.floor((head.length - 16) / 784);
    assert.ok(n > 1000, `only ${n} images in the inflated prefix`);
    const x = d!.train.x.slice([0, 0, 0], [n, 28, 28]).dataSync();
    for (let i = 0; i < x.length; i++) if (x[i] !== Math.fround(head[16 + i] / 255)) assert.fail(`train.x flat[${i}] = ${x[i]}, byte ${head[16 + i]}`);
  });
});

// ------------------------------------------------------------------------------------------------
// .npy

/** A .npy file as numpy writes version 1.0: magic, 1, 0, u16 LE length, the header padded to 64. */
function npyBytes(dict: string, body: Uint8Array, version = 1): Buffer {
  const prefix = version === 1 ? 10 : 12;
  const padded = dict + ' '.repeat(64 - ((prefix + dict.length + 1) % 64)) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from('\x93NUMPY', 'latin1').copy(head);
  head[6] = version;
  if (version === 1) head.writeUInt16LE(padded.length, 8);
  else head.writeUInt32LE(padded.length, 8);
  return Buffer.concat([head, Buffer.from(padded, 'latin1'), body]);
}

function leF32(v: number[]): Uint8Array {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeFloatLE(x, 4 * i));
  return b;
}

describe('data: .npy files', () => {
  it('a hand-built float32 file decodes, and encodeNpy writes exactly its bytes', () => {
    const bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", leF32([1, -2.5, 0, 3, 1e-3, -0]));
    assert.equal(bytes.length, 128 + 24, 'numpy pads the header so the data starts at byte 128');
    expectExact(data.parseNpy(bytes), 'float32', [2, 3], [1, -2.5, 0, 3, Math.fround(1e-3), -0], 'parseNpy');
    const t = st.tensor(new Float32Array([1, -2.5, 0, 3, 1e-3, -0]), { shape: [2, 3] });
    assert.equal(data.encodeNpy(t).toString('hex'), bytes.toString('hex'));
  });

  it('hand-built files of other dtypes, scalars, 1-tuples and version 2.0', () => {
    const i64 = Buffer.alloc(16);
    i64.writeBigInt64LE(-7n, 0);
    i64.writeBigInt64LE(2147483647n, 8);
    expectExact(data.parseNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", i64)), 'int32', [2], [-7, 2147483647], 'int64');
    expectExact(data.parseNpy(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", new Uint8Array([0, 200, 255]))), 'int32', [3], [0, 200, 255], 'uint8');
    expectExact(data.parseNpy(npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (1, 2), }", new Uint8Array([1, 0]))), 'bool', [1, 2], [1, 0], 'bool');
    const f64 = Buffer.alloc(8);
    f64.writeDoubleLE(0.1);
    expectExact(data.parseNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f64)), 'float64', [], [0.1], 'scalar');
    expectExact(data.parseNpy(npyBytes('{"descr": "<f4", "fortran_order": False, "shape": (1,)}', leF32([4]), 2)), 'float32', [1], [4], 'version 2.0, double quotes');
    expectExact(data.parseNpy(npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (0, 5), }", new Uint8Array(0))), 'int32', [0, 5], [], 'empty');
  });

  it('round trips every dtype through a file (async and sync)', async () => {
    const cases: [st.Tensor, DType, number[], number[]][] = [
      [st.tensor(new Float32Array([NaN, -0, Infinity, 1e-45])), 'float32', [4], [NaN, -0, Infinity, Math.fround(1e-45)]],
      [st.tensor(new Float64Array([1 / 3, -1e300]), { shape: [2, 1] }), 'float64', [2, 1], [1 / 3, -1e300]],
      [st.tensor(new Int32Array([-2147483648, 2147483647, 0]), { shape: [1, 3, 1] }), 'int32', [1, 3, 1], [-2147483648, 2147483647, 0]],
      [st.tensor([true, false, true]), 'bool', [3], [1, 0, 1]],
      [st.tensor(5, { dtype: 'int32' }), 'int32', [], [5]],
      [st.zeros([2, 0], 'float64'), 'float64', [2, 0], []],
    ];
    const f = path.join(tmp, 'x.npy');
    for (const [t, dtype, shape, values] of cases) {
      await data.writeNpy(f, t);
      expectExact(await data.readNpy(f), dtype, shape, values, `${dtype} ${JSON.stringify(shape)} async`);
      data.writeNpySync(f, t);
      expectExact(data.readNpySync(f), dtype, shape, values, `${dtype} ${JSON.stringify(shape)} sync`);
    }
  });

  const bad: [string, () => Buffer, string, string[]][] = [
    ['Fortran order', () => npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", leF32([1, 2, 3, 4])), 'ERR_ST_VALUE', ['Fortran-order', 'np.ascontiguousarray']],
    ['big-endian', () => npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", leF32([1])), 'ERR_ST_DTYPE', ['">f4" is not supported', "a.astype('<f4')"]],
    ['an unsupported dtype', () => npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", leF32([1, 2])), 'ERR_ST_DTYPE', ['"<c8" is not supported', 'readable: <f4, <f8, <i4, |b1, |u1']],
    ['bad magic', () => Buffer.from('not a numpy file at all'), 'ERR_ST_LOAD', ['not a .npy file']],
    ['version 9', () => {
      const b = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", leF32([1]));
      b[6] = 9;
      return b;
    }, 'ERR_ST_LOAD', ['unsupported .npy version 9.0']],
    ['truncated data', () => npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", leF32([1, 2])), 'ERR_ST_LOAD', ['shape [3] of <f4 needs 12 data bytes, the file has 8 (truncated?)']],
    ['header past the end', () => npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(0)).subarray(0, 40), 'ERR_ST_LOAD', ['runs past the end of the file']],
    ['no shape', () => npyBytes("{'descr': '<f4', 'fortran_order': False, }", leF32([1])), 'ERR_ST_LOAD', ["no 'shape' tuple"]],
    ['a malformed shape', () => npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", leF32([1, 2])), 'ERR_ST_LOAD', ['shape must be a tuple of non-negative integers']],
    ['an int64 outside int32', () => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(-(2n ** 40n));
      return npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", b);
    }, 'ERR_ST_VALUE', ['value -1099511627776 at flat index 0 does not fit int32']],
  ];
  for (const [what, make, code, patterns] of bad) {
    it(`malformed: ${what}`, () => {
      expectError(() => data.parseNpy(make(), 'm.npy'), code, ['parseNpy', 'm.npy', ...patterns]);
    });
  }

  it('file errors name the file', async () => {
    const missing = path.join(tmp, 'missing.npy');
    await rejects(data.readNpy(missing), 'ERR_ST_LOAD', [/^readNpy: /, missing, 'no such file']);
    await rejects(data.writeNpy(path.join(tmp, 'no', 'dir.npy'), st.tensor([1])), 'ERR_ST_LOAD', [/^writeNpy: /, 'no such file or directory']);
    await rejects(data.writeNpy(path.join(tmp, 'y.npy'), [1] as unknown as st.Tensor), 'ERR_ST_ARG', [/^writeNpy: /, 'expected a Tensor']);
    const f = path.join(tmp, 'fortran.npy');
    fs.writeFileSync(f, npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", leF32([1])));
    await rejects(data.readNpy(f), 'ERR_ST_VALUE', [/^readNpy: /, f, 'Fortran-order']);
  });

  describe('with numpy (when Debian\'s python3 has it)', () => {
    const py = process.env.SYMTENSOR_TEST_PYTHON || '/usr/bin/python3';
    const probe = fs.existsSync(py) ? spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' }) : null;
    const available = probe !== null && probe.status === 0;

    it('numpy loads our files and we load numpy\'s', function () {
      if (!available) {
        console.log(`      skipped: ${py} cannot import numpy`);
        this.skip();
      }
      const ours = ['f4', 'f8', 'i4', 'b1'].map((k) => path.join(tmp, `ours-${k}.npy`));
      data.writeNpySync(ours[0], st.tensor([[1.5, -2], [3, 4.25]]));
      data.writeNpySync(ours[1], st.tensor(new Float64Array([0.1, 1e-300, -7]), { shape: [3, 1, 1] }));
      data.writeNpySync(ours[2], st.tensor(-12, { dtype: 'int32' }));
      data.writeNpySync(ours[3], st.tensor([true, false]));
      const theirs = path.join(tmp, 'theirs');
      const script = `
import sys, json, numpy as np
out = []
for p in sys.argv[1:5]:
    a = np.load(p)
    out.append([a.dtype.str, list(a.shape), a.ravel().tolist(), bool(a.flags.c_contiguous)])
print(json.dumps(out))
d = sys.argv[5]
np.save(d + '-f4.npy', (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5))
np.save(d + '-i8.npy', np.arange(-2, 2))
np.save(d + '-u1.npy', np.array([[0, 255]], dtype=np.uint8))
np.save(d + '-b1.npy', np.array([False, True, True]))
np.save(d + '-f8.npy', np.float64(2.0) ** -1074)
np.save(d + '-fortran.npy', np.asfortranarray(np.ones((2, 3), np.float32)))
`;
      const r = spawnSync(py, ['-c', script, ...ours, theirs], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [
        ['<f4', [2, 2], [1.5, -2, 3, 4.25], true],
        ['<f8', [3, 1, 1], [0.1, 1e-300, -7], true],
        ['<i4', [], [-12], true],
        ['|b1', [2], [true, false], true],
      ]);
      expectExact(data.readNpySync(theirs + '-f4.npy'), 'float32', [2, 3], [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], 'numpy float32');
      expectExact(data.readNpySync(theirs + '-i8.npy'), 'int32', [4], [-2, -1, 0, 1], 'numpy int64');
      expectExact(data.readNpySync(theirs + '-u1.npy'), 'int32', [1, 2], [0, 255], 'numpy uint8');
      expectExact(data.readNpySync(theirs + '-b1.npy'), 'bool', [3], [0, 1, 1], 'numpy bool');
      expectExact(data.readNpySync(theirs + '-f8.npy'), 'float64', [], [2 ** -1074], 'numpy float64 scalar');
      expectError(() => data.readNpySync(theirs + '-fortran.npy'), 'ERR_ST_VALUE', ['Fortran-order']);
    });
  });
});

// ------------------------------------------------------------------------------------------------
// CSV

describe('data: CSV files', () => {
  it('a header and a named integer label column: x float32 without it, y int32', () => {
    const r = data.parseCsv('a,b,label,c\n1,2.5,0,-3\n4,5e-1,2,6\n', { labelColumn: 'label' });
    expectExact(r.x, 'float32', [2, 3], [1, 2.5, -3, 4, 0.5, 6], 'x');
    expectExact(r.y!, 'int32', [2], [0, 2], 'y');
    assert.deepEqual(r.columns, ['a', 'b', 'c']);
    assert.equal(r.labelName, 'label');
    assert.equal(r.classes, undefined);
  });

  it('float labels are float32; text labels become indices into the sorted classes', () => {
    const f = data.parseCsv('x,y\n1,0.5\n2,1\n', { labelColumn: -1 });
    expectExact(f.y!, 'float32', [2], [0.5, 1], 'float labels');
    const c = data.parseCsv('len,species\n1,versicolor\n2,setosa\n3,versicolor\n4,virginica\n', { labelColumn: 'species' });
    assert.deepEqual(c.classes, ['setosa', 'versicolor', 'virginica']);
    expectExact(c.y!, 'int32', [4], [1, 0, 1, 2], 'class indices');
    expectExact(c.x, 'float32', [4, 1], [1, 2, 3, 4], 'x');
  });

  it('no header, another delimiter, label by index; CRLF, BOM, blank lines, quotes, specials', () => {
    const r = data.parseCsv('\ufeff1;2;3\r\n\r\n4;"5";6\r\n', { header: false, delimiter: ';', labelColumn: 0 });
    expectExact(r.x, 'float32', [2, 2], [2, 3, 5, 6], 'x');
    expectExact(r.y!, 'int32', [2], [1, 4], 'y');
    assert.deepEqual(r.columns, ['1', '2']);
    const q = data.parseCsv('"a, the ""first""",b\n" 1 ",nan\n-inf,+2\n');
    assert.deepEqual(q.columns, ['a, the "first"', 'b']);
    expectExact(q.x, 'float32', [2, 2], [1, NaN, -Infinity, 2], 'quoted and special numbers');
    const e = data.parseCsv('a,b\n');
    expectExact(e.x, 'float32', [0, 2], [], 'header only');
    assert.equal(e.y, undefined);
  });

  const errors: [string, string, data.CsvOptions, string, (string | RegExp)[]][] = [
    ['a ragged row', 'a,b\n1,2\n3\n4,5\n', {}, 'ERR_ST_VALUE', ['line 3', '1 fields, expected 2', 'header on line 1']],
    ['a ragged row without header', '1,2\n3,4,5\n', { header: false }, 'ERR_ST_VALUE', ['line 2', '3 fields, expected 2', 'first row']],
    ['a non-numeric cell', 'a,b\n1,2\n3,abc\n', {}, 'ERR_ST_VALUE', ['line 3', 'column "b"', 'not a number: "abc"']],
    ['a hex number', 'a\n0x1f\n', {}, 'ERR_ST_VALUE', ['line 2', 'not a number: "0x1f"']],
    ['a missing value', 'a,b\n1,\n', {}, 'ERR_ST_VALUE', ['line 2', 'column "b"', 'missing value']],
    ['a missing label', 'a,l\n1,x\n2,\n', { labelColumn: 'l' }, 'ERR_ST_VALUE', ['line 3', 'the label is missing']],
    ['an unclosed quote', 'a\n"1\n2\n', {}, 'ERR_ST_VALUE', ['line 2', 'quoted field is not closed']],
    ['text after a closing quote', 'a\n"1"x\n', {}, 'ERR_ST_VALUE', ['line 2', 'after a closing quote']],
    ['an unknown label column', 'a,b\n1,2\n', { labelColumn: 'c' }, 'ERR_ST_ARG', ['labelColumn "c" is not a column', 'columns: "a", "b"']],
    ['a label index out of range', 'a,b\n1,2\n', { labelColumn: 2 }, 'ERR_ST_ARG', ['labelColumn 2 is out of range for 2 columns']],
    ['a label name without header', '1,2\n', { header: false, labelColumn: 'a' }, 'ERR_ST_ARG', ['header is false']],
    ['a bad delimiter', 'a\n', { delimiter: '::' }, 'ERR_ST_ARG', ['delimiter must be one character']],
    ['an unknown option', 'a\n', { labelColum: 'a' } as data.CsvOptions, 'ERR_ST_ARG', ['unknown option "labelColum"', 'valid: header, labelColumn, delimiter']],
    ['an empty file with a header expected', '', {}, 'ERR_ST_VALUE', ['the file is empty']],
  ];
  for (const [what, text, opts, code, patterns] of errors) {
    it(`error: ${what}`, () => {
      expectError(() => data.parseCsv(text, opts, 'd.csv'), code, ['parseCsv', ...patterns]);
    });
  }

  it('readCsv and readCsvSync read files; errors name the file and line', async () => {
    const f = path.join(tmp, 'd.csv');
    fs.writeFileSync(f, 'p,q,y\n1,2,1\n3,4,0\n');
    for (const r of [await data.readCsv(f, { labelColumn: 'y' }), data.readCsvSync(f, { labelColumn: 'y' })]) {
      expectExact(r.x, 'float32', [2, 2], [1, 2, 3, 4], 'x');
      expectExact(r.y!, 'int32', [2], [1, 0], 'y');
    }
    fs.writeFileSync(f, 'p,q\n1,2\n3,four\n');
    await rejects(data.readCsv(f), 'ERR_ST_VALUE', [/^readCsv: /, `${f}, line 3`, 'column "q"']);
    await rejects(data.readCsv(path.join(tmp, 'none.csv')), 'ERR_ST_LOAD', [/^readCsv: /, 'none.csv', 'no such file']);
  });
});
