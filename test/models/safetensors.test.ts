// The safetensors format: byte layout against files built by hand from the format's description,
// round trips, every kind of corrupt input, and atomic writes.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as st from '../../lib/index';
import {
  decodeSafetensors, encodeSafetensors, loadSafetensors, loadSafetensorsSync, saveSafetensors, writeFileAtomic,
} from '../../lib/models/safetensors';
import { expectError } from '../support/check';

type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** Asserts a tensor's dtype, shape and values exactly (NaN matches NaN, -0 only -0). */
function expectExact(t: st.Tensor, dtype: DType, shape: number[], values: number[], what: string): void {
  assert.ok(t instanceof st.Tensor, `${what}: not a Tensor`);
  assert.equal(t.dtype, dtype, `${what}: dtype`);
  assert.deepEqual(t.shape, shape, `${what}: shape`);
  const got = Array.from(t.dataSync() as ArrayLike<number>);
  assert.equal(got.length, values.length, `${what}: element count`);
  for (let i = 0; i < values.length; i++) assert.ok(Object.is(got[i], values[i]), `${what}[${i}]: got ${got[i]}, expected ${values[i]}`);
}

/** Builds a file the way the format describes it: u64 LE length, the header text, the data bytes. */
function buildFile(headerJson: string, data: Uint8Array, pad = true): Buffer {
  let h = Buffer.from(headerJson, 'utf8');
  if (pad && h.length % 8) h = Buffer.concat([h, Buffer.alloc(8 - (h.length % 8), 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

/** Little-endian bytes of values written one by one through a DataView. */
function le(kind: 'f32' | 'f64' | 'i32' | 'u8' | 'f16bits' | 'i64', values: (number | bigint)[]): Uint8Array {
  const size = { f32: 4, f64: 8, i32: 4, u8: 1, f16bits: 2, i64: 8 }[kind];
  const v = new DataView(new ArrayBuffer(size * values.length));
  values.forEach((x, i) => {
    if (kind === 'f32') v.setFloat32(i * 4, x as number, true);
    else if (kind === 'f64') v.setFloat64(i * 8, x as number, true);
    else if (kind === 'i32') v.setInt32(i * 4, x as number, true);
    else if (kind === 'u8') v.setUint8(i, x as number);
    else if (kind === 'f16bits') v.setUint16(i * 2, x as number, true);
    else v.setBigInt64(i * 8, BigInt(x), true);
  });
  return new Uint8Array(v.buffer);
}

const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);

/** A complete, valid header for one F32 tensor of `n` values. */
const oneF32 = (n: number, extra = '') => `{"w":{"dtype":"F32","shape":[${n}],"data_offsets":[0,${4 * n}]}${extra}}`;

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'symtensor-st-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('safetensors: the byte layout', () => {
  // The expected file is written out here from the format: header keys in the reference writer's
  // order (__metadata__, then larger dtypes first, ties by name), offsets contiguous from 0, the
  // header padded with spaces to a multiple of 8.
  const header =
    '{"__metadata__":{"format":"pt","note":"é"},' +
    '"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
    '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
    '"b":{"dtype":"F32","shape":[0,3],"data_offsets":[16,16]},' +
    '"k":{"dtype":"I32","shape":[2,1],"data_offsets":[16,24]},' +
    '"flag":{"dtype":"BOOL","shape":[3],"data_offsets":[24,27]}}';
  const data = cat(le('f64', [-0.1]), le('f32', [1.5, -2]), le('i32', [7, -2147483648]), le('u8', [1, 0, 1]));
  const file = buildFile(header, data);

  it('the hand-built file is what the test means it to be', () => {
    // the padding rule checked on the built bytes themselves: N is a multiple of 8, spaces fill it
    const n = Number(file.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    assert.equal(n, Math.ceil(Buffer.byteLength(header) / 8) * 8);
    assert.equal(file.subarray(8 + Buffer.byteLength(header), 8 + n).toString(), ' '.repeat(n - Buffer.byteLength(header)));
    assert.equal(file.length, 8 + n + 27);
  });

  it('decodes the hand-built file to the values written into it', () => {
    const { tensors, metadata } = decodeSafetensors(file, 'hand.safetensors');
    assert.deepEqual(Object.keys(tensors).sort(), ['a', 'b', 'flag', 'k', 's']);
    assert.deepEqual(metadata, { format: 'pt', note: 'é' });
    expectExact(tensors.s, 'float64', [], [-0.1], 's');
    expectExact(tensors.a, 'float32', [2], [1.5, -2], 'a');
    expectExact(tensors.b, 'float32', [0, 3], [], 'b');
    expectExact(tensors.k, 'int32', [2, 1], [7, -2147483648], 'k');
    expectExact(tensors.flag, 'bool', [3], [1, 0, 1], 'flag');
  });

  it('encodes the same tensors to exactly those bytes, whatever order they are given in', () => {
    const tensors = {
      flag: st.tensor([true, false, true]),
      k: st.tensor([[7], [-2147483648]], { dtype: 'int32' }),
      b: st.zeros([0, 3]),
      a: st.tensor([1.5, -2]),
      s: st.tensor(-0.1, { dtype: 'float64' }),
    };
    const out = encodeSafetensors(tensors, { note: 'é', format: 'pt' });
    assert.ok(Buffer.isBuffer(out));
    assert.equal(out.toString('hex'), file.toString('hex'));
  });

  it('a file without metadata has no __metadata__ key; names sort in byte order', () => {
    // 'B' (0x42) < '_' (0x5f) < 'a' (0x61) < 'é' (0xc3 0xa9 in UTF-8)
    const out = encodeSafetensors({ 'é': st.tensor([1]), a: st.tensor([2]), _x: st.tensor([3]), B: st.tensor([4]) });
    const want = buildFile(
      '{"B":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"_x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"é":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}',
      le('f32', [4, 3, 2, 1]),
    );
    assert.equal(out.toString('hex'), want.toString('hex'));
  });

  it('reads tensors stored in any order, with an unpadded header', () => {
    const h = '{"z":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]},"y":{"dtype":"F64","shape":[1],"data_offsets":[1,9]}}';
    const { tensors, metadata } = decodeSafetensors(buildFile(h, cat(le('u8', [1]), le('f64', [3.25])), false));
    expectExact(tensors.z, 'bool', [1], [1], 'z');
    expectExact(tensors.y, 'float64', [1], [3.25], 'y (unaligned offset 1)');
    assert.deepEqual(metadata, {});
  });

  it('widens F16, BF16, U8, I8, I16 and I64 values exactly', () => {
    // F16 bit patterns: 1.0 = 0x3c00, -2.5 = 0xc100, 65504 = 0x7bff, smallest subnormal 0x0001 = 2^-24, +inf 0x7c00
    // BF16 bit patterns are the top 16 bits of float32: 1.0 = 0x3f80, -3.0 = 0xc040
    const h =
      '{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},"g":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]},' +
      '"u":{"dtype":"U8","shape":[2],"data_offsets":[14,16]},"i":{"dtype":"I8","shape":[2],"data_offsets":[16,18]},' +
      '"s":{"dtype":"I16","shape":[1],"data_offsets":[18,20]},"l":{"dtype":"I64","shape":[2],"data_offsets":[20,36]}}';
    const data = cat(
      le('f16bits', [0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00]),
      le('f16bits', [0x3f80, 0xc040]),
      le('u8', [255, 0]),
      le('u8', [0x80, 0x7f]),
      le('f16bits', [0x8000]),
      le('i64', [-5n, 2147483647n]),
    );
    const { tensors } = decodeSafetensors(buildFile(h, data));
    expectExact(tensors.h, 'float32', [5], [1, -2.5, 65504, 2 ** -24, Infinity], 'F16');
    expectExact(tensors.g, 'float32', [2], [1, -3], 'BF16');
    expectExact(tensors.u, 'int32', [2], [255, 0], 'U8');
    expectExact(tensors.i, 'int32', [2], [-128, 127], 'I8');
    expectExact(tensors.s, 'int32', [1], [-32768], 'I16');
    expectExact(tensors.l, 'int32', [2], [-5, 2147483647], 'I64');
  });

  it('an I64 value outside int32 is an error naming the tensor and index', () => {
    const h = '{"big":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}';
    expectError(() => decodeSafetensors(buildFile(h, le('i64', [1n, 2147483648n])), 'm.st'), 'ERR_ST_VALUE', ['m.st', '"big"', '2147483648', 'index 1', 'int32']);
  });
});

describe('safetensors: round trips', () => {
  const cases: [string, st.Tensor, DType, number[], number[]][] = [
    ['float32 specials', st.tensor(new Float32Array([NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38])), 'float32', [6], [NaN, -0, Infinity, -Infinity, Math.fround(1e-45), 3.4028234663852886e38]],
    ['float64', st.tensor(new Float64Array([0.1, -1e-310, 1e308, NaN, 1 / 3, -0]), { shape: [2, 3] }), 'float64', [2, 3], [0.1, -1e-310, 1e308, NaN, 1 / 3, -0]],
    ['int32 extremes', st.tensor(new Int32Array([2147483647, -2147483648, 0, -1]), { shape: [2, 1, 2] }), 'int32', [2, 1, 2], [2147483647, -2147483648, 0, -1]],
    ['bool', st.tensor([[true, false], [false, true]]), 'bool', [2, 2], [1, 0, 0, 1]],
    ['float32 scalar', st.tensor(2.5), 'float32', [], [2.5]],
    ['int32 scalar', st.tensor(-9, { dtype: 'int32' }), 'int32', [], [-9]],
    ['empty float64', st.zeros([0], 'float64'), 'float64', [0], []],
    ['empty bool [3,0]', st.zeros([3, 0], 'bool'), 'bool', [3, 0], []],
  ];
  for (const [what, t, dtype, shape, values] of cases) {
    it(what, () => {
      const { tensors } = decodeSafetensors(encodeSafetensors({ [what]: t }));
      expectExact(tensors[what], dtype, shape, values, what);
    });
  }

  it('many tensors at once keep their names, with metadata; unusual names survive', () => {
    const names = ['layer/0/kernel', 'layer.0.bias', '__proto__', 'constructor', '日本', ''];
    const input: Record<string, st.Tensor> = {};
    names.forEach((n, i) => Object.defineProperty(input, n, { value: st.tensor([i, i + 0.5]), enumerable: true }));
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors(input, { a: '1', b: '{"json": true}' }));
    assert.deepEqual(Object.keys(tensors).sort(), names.slice().sort());
    names.forEach((n, i) => expectExact(tensors[n], 'float32', [2], [i, i + 0.5], n));
    assert.deepEqual(metadata, { a: '1', b: '{"json": true}' });
  });

  it('every data range starts on a multiple of its element size (larger dtypes first)', () => {
    const out = encodeSafetensors({ a: st.tensor([true]), b: st.tensor([1], { dtype: 'float64' }), c: st.tensor([1]), d: st.tensor([1], { dtype: 'int32' }) });
    const n = Number(out.readBigUInt64LE(0));
    const hdr = JSON.parse(out.subarray(8, 8 + n).toString()) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    assert.deepEqual(Object.keys(hdr), ['b', 'c', 'd', 'a']);
    assert.deepEqual(Object.values(hdr).map((e) => e.data_offsets), [[0, 8], [8, 12], [12, 16], [16, 17]]);
  });
});

describe('safetensors: corrupt input is a clear error', () => {
  const goodData = le('f32', [1, 2]);
  const cases: [string, () => Buffer, string, (string | RegExp)[]][] = [
    ['fewer than 8 bytes', () => Buffer.alloc(5), 'ERR_ST_LOAD', ['5 bytes', '8-byte header length']],
    ['header length past the end', () => {
      const b = buildFile(oneF32(2), goodData);
      b.writeBigUInt64LE(BigInt(b.length), 0);
      return b;
    }, 'ERR_ST_LOAD', ['runs past the end', 'truncated']],
    ['a huge header length', () => {
      const b = buildFile(oneF32(2), goodData);
      b.writeBigUInt64LE(2n ** 63n, 0);
      return b;
    }, 'ERR_ST_LOAD', ['above the format\'s limit']],
    ['bad JSON', () => buildFile('{"w":{"dtype":"F32",', goodData), 'ERR_ST_LOAD', ['not valid JSON']],
    ['a header that is not an object', () => buildFile('[1,2]', goodData), 'ERR_ST_LOAD', ["start with '{'"]],
    ['truncated data', () => buildFile(oneF32(2), goodData).subarray(0, -3), 'ERR_ST_LOAD', ['"w"', 'run past the end of the data', 'truncated']],
    ['offsets out of range', () => buildFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', goodData), 'ERR_ST_LOAD', ['"w"', '[4, 12]', 'past the end']],
    ['overlapping offsets', () => buildFile('{"p":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"q":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', goodData), 'ERR_ST_LOAD', ['"q"', 'overlap', '"p"']],
    ['a gap between tensors', () => buildFile('{"p":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', goodData), 'ERR_ST_LOAD', ['"p"', 'gap']],
    ['bytes after the last tensor', () => buildFile(oneF32(1), goodData), 'ERR_ST_LOAD', ['4 bytes after the last tensor']],
    ['shape and byte range disagree', () => buildFile('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', goodData), 'ERR_ST_LOAD', ['"w"', 'shape [3] of F32 needs 12 bytes', 'hold 8']],
    ['end before begin', () => buildFile('{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', goodData), 'ERR_ST_LOAD', ['"w"', 'end before']],
    ['an unknown dtype', () => buildFile('{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}', goodData), 'ERR_ST_DTYPE', ['"w"', 'unknown dtype "F33"', 'F32', 'BOOL']],
    ['an unsupported dtype', () => buildFile('{"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}', goodData), 'ERR_ST_DTYPE', ['"w"', 'F8_E4M3 is not supported']],
    ['a negative shape', () => buildFile('{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', goodData), 'ERR_ST_LOAD', ['"w"', 'non-negative integers']],
    ['a missing data_offsets', () => buildFile('{"w":{"dtype":"F32","shape":[2]}}', goodData), 'ERR_ST_LOAD', ['"w"', 'data_offsets must be']],
    ['non-string metadata', () => buildFile(`{"__metadata__":{"epoch":3},${oneF32(2).slice(1)}`, goodData), 'ERR_ST_LOAD', ['__metadata__', '"epoch"', 'must be a string']],
    ['invalid UTF-8 in the header', () => buildFile('{"w\udfff":1}', goodData), 'ERR_ST_LOAD', ['not valid UTF-8']],
  ];
  for (const [what, make, code, patterns] of cases) {
    it(what, () => {
      const bytes = make();
      if (what.startsWith('invalid UTF-8')) {
        // Buffer.from replaced the lone surrogate with EF BF BD; put a bare continuation byte there instead
        const i = bytes.indexOf(Buffer.from([0xef, 0xbf, 0xbd]));
        assert.ok(i > 0);
        bytes[i] = 0x80;
      }
      expectError(() => decodeSafetensors(bytes, 'bad.safetensors'), code, ['decodeSafetensors', 'bad.safetensors', ...patterns]);
    });
  }

  it('the source is optional in messages', () => {
    const err = expectError(() => decodeSafetensors(Buffer.alloc(3)), 'ERR_ST_LOAD', ['not a safetensors file']);
    assert.ok(!err.message.includes('undefined'), err.message);
  });

  it('a non-byte argument is an argument error', () => {
    expectError(() => decodeSafetensors('abc' as unknown as Uint8Array), 'ERR_ST_ARG', ['Buffer or Uint8Array']);
  });
});

describe('safetensors: bad arguments to the writer', () => {
  it('a value that is not a tensor', () => {
    expectError(() => encodeSafetensors({ w: [1, 2] as unknown as st.Tensor }), 'ERR_ST_ARG', ['tensors["w"]', 'must be a Tensor']);
  });
  it('the reserved name __metadata__', () => {
    expectError(() => encodeSafetensors({ __metadata__: st.tensor([1]) }), 'ERR_ST_ARG', ['__metadata__', 'reserved']);
  });
  it('a disposed tensor', () => {
    const t = st.tensor([1, 2]);
    t.dispose();
    expectError(() => encodeSafetensors({ gone: t }), 'ERR_ST_DISPOSED', ['"gone"', 'disposed']);
  });
  it('metadata that is not all strings', () => {
    expectError(() => encodeSafetensors({ w: st.tensor([1]) }, { epoch: 3 as unknown as string }), 'ERR_ST_ARG', ['metadata["epoch"]', 'must be a string']);
  });
  it('a tensor instead of an object of tensors', () => {
    expectError(() => encodeSafetensors(st.tensor([1]) as unknown as Record<string, st.Tensor>), 'ERR_ST_ARG', ['object mapping names to tensors']);
  });
});

async function rejects(p: Promise<unknown>, code: string, patterns: string[]): Promise<st.SymtensorError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof st.SymtensorError, `expected a SymtensorError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const s of patterns) assert.ok(caught.message.includes(s), `message ${JSON.stringify(caught.message)} should include ${JSON.stringify(s)}`);
  return caught;
}

describe('safetensors: files and atomic writes', () => {
  it('save then load (async and sync) gives the tensors and metadata back; no temporary file remains', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'ok-'));
    const file = path.join(dir, 'model.safetensors');
    await saveSafetensors(file, { w: st.tensor([[1, 2], [3, 4]]), n: st.tensor([5], { dtype: 'int32' }) }, { epoch: '3' });
    assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
    for (const loaded of [await loadSafetensors(file), loadSafetensorsSync(file)]) {
      expectExact(loaded.tensors.w, 'float32', [2, 2], [1, 2, 3, 4], 'w');
      expectExact(loaded.tensors.n, 'int32', [1], [5], 'n');
      assert.deepEqual(loaded.metadata, { epoch: '3' });
    }
    // overwriting replaces the content
    await saveSafetensors(file, { v: st.tensor([9]) });
    assert.deepEqual(Object.keys((await loadSafetensors(file)).tensors), ['v']);
    assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
  });

  it('a failed save leaves the old file as it was', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'keep-'));
    const file = path.join(dir, 'model.safetensors');
    await saveSafetensors(file, { w: st.tensor([1, 2, 3]) });
    const before = fs.readFileSync(file);
    const gone = st.tensor([1]);
    gone.dispose();
    await assert.rejects(saveSafetensors(file, { w: gone }), (e: st.SymtensorError) => e.code === 'ERR_ST_DISPOSED');
    assert.ok(fs.readFileSync(file).equals(before));
    assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
  });

  it('writeFileAtomic: a rename that fails (the target is a non-empty directory) removes the temporary file', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'fail-'));
    const target = path.join(dir, 'weights');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inside'), 'kept');
    await rejects(writeFileAtomic(target, 'new content'), 'ERR_ST_LOAD', ['writeFileAtomic', 'cannot write', target, 'unchanged']);
    assert.deepEqual(fs.readdirSync(dir), ['weights']);
    assert.equal(fs.readFileSync(path.join(target, 'inside'), 'utf8'), 'kept');
  });

  it('writeFileAtomic: a missing directory is an error; strings and bytes are written exactly', async () => {
    await rejects(writeFileAtomic(path.join(tmp, 'no', 'such', 'f'), 'x'), 'ERR_ST_LOAD', ['cannot write', 'ENOENT']);
    const f = path.join(tmp, 'text.json');
    await writeFileAtomic(f, '{"é": 1}');
    assert.equal(fs.readFileSync(f, 'utf8'), '{"é": 1}');
    await writeFileAtomic(f, new Uint8Array([0, 255, 7]));
    assert.deepEqual([...fs.readFileSync(f)], [0, 255, 7]);
  });

  it('writeFileAtomic: replaces the file a symlink points to and keeps an existing file\'s permissions', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'link-'));
    const real = path.join(dir, 'real.bin');
    const link = path.join(dir, 'link.bin');
    fs.writeFileSync(real, 'old');
    fs.chmodSync(real, 0o600);
    fs.symlinkSync('real.bin', link);
    await writeFileAtomic(link, 'new');
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is still a link');
    assert.equal(fs.readFileSync(real, 'utf8'), 'new');
    assert.equal(fs.statSync(real).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['link.bin', 'real.bin']);
  });

  it('loading a missing or corrupt file names it', async () => {
    const missing = path.join(tmp, 'missing.safetensors');
    await rejects(loadSafetensors(missing), 'ERR_ST_LOAD', ['loadSafetensors', missing, 'no such file']);
    const bad = path.join(tmp, 'bad.safetensors');
    fs.writeFileSync(bad, buildFile(oneF32(3), le('f32', [1])));
    await rejects(loadSafetensors(bad), 'ERR_ST_LOAD', ['loadSafetensors', bad, '"w"']);
  });
});

describe('safetensors: Python interoperability (when Python has the safetensors package)', () => {
  // Debian's Python by default; SYMTENSOR_TEST_PYTHON picks another interpreter (a virtualenv)
  const py = process.env.SYMTENSOR_TEST_PYTHON || '/usr/bin/python3';
  const probe = fs.existsSync(py) ? spawnSync(py, ['-c', 'import numpy, safetensors.numpy'], { encoding: 'utf8' }) : null;
  const available = probe !== null && probe.status === 0;

  it('Python reads our file and writes one we read', function () {
    if (!available) {
      console.log(`      skipped: ${py} cannot import numpy and safetensors (${probe ? probe.stderr.trim().split('\n').pop() : 'no python3'})`);
      this.skip();
    }
    const ours = path.join(tmp, 'ours.safetensors');
    const theirs = path.join(tmp, 'theirs.safetensors');
    fs.writeFileSync(ours, encodeSafetensors({ a: st.tensor([[1.5, -2], [3, 4]]), b: st.tensor([7, -8], { dtype: 'int32' }), c: st.tensor([true, false]) }, { k: 'v' }));
    const script = `
import sys, json, numpy as np
from safetensors.numpy import load_file, save_file
from safetensors import safe_open
t = load_file(sys.argv[1])
with safe_open(sys.argv[1], framework="np") as f: meta = f.metadata()
print(json.dumps({k: [str(v.dtype), list(v.shape), v.ravel().tolist()] for k, v in sorted(t.items())}))
print(json.dumps(meta))
save_file({"x": np.arange(6, dtype=np.float64).reshape(2, 3) / 4, "y": np.array([True, False, True])}, sys.argv[2], metadata={"from": "py"})
`;
    const r = spawnSync(py, ['-c', script, ours, theirs], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [tensorsLine, metaLine] = r.stdout.trim().split('\n');
    assert.deepEqual(JSON.parse(tensorsLine), { a: ['float32', [2, 2], [1.5, -2, 3, 4]], b: ['int32', [2], [7, -8]], c: ['bool', [2], [true, false]] });
    assert.deepEqual(JSON.parse(metaLine), { k: 'v' });
    const back = loadSafetensorsSync(theirs);
    expectExact(back.tensors.x, 'float64', [2, 3], [0, 0.25, 0.5, 0.75, 1, 1.25], 'x from Python');
    expectExact(back.tensors.y, 'bool', [3], [1, 0, 1], 'y from Python');
    assert.deepEqual(back.metadata, { from: 'py' });
  });

  it('the reference writer produces exactly our bytes', function () {
    if (!available) {
      console.log(`      skipped: ${py} cannot import numpy and safetensors`);
      this.skip();
    }
    const theirs = path.join(tmp, 'reference.safetensors');
    const script = `
import sys, numpy as np
from safetensors.numpy import save_file
save_file({"flag": np.array([True, False]), "k": np.array([[7], [-9]], dtype=np.int32), "e": np.zeros((0, 3), np.float32),
           "a": np.array([1.5, -2], np.float32), "s": np.array(-0.1), "\u00e9": np.array([1], np.float32), "B": np.array([2], np.float32)},
          sys.argv[1], metadata={"format": "np"})
`;
    const r = spawnSync(py, ['-c', script, theirs], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ours = encodeSafetensors(
      { flag: st.tensor([true, false]), k: st.tensor([[7], [-9]], { dtype: 'int32' }), e: st.zeros([0, 3]), a: st.tensor([1.5, -2]), s: st.tensor(-0.1, { dtype: 'float64' }), 'é': st.tensor([1]), B: st.tensor([2]) },
      { format: 'np' },
    );
    assert.equal(ours.toString('hex'), fs.readFileSync(theirs).toString('hex'));
  });
});
