// The data the command line trains on: the generated shapes dataset, batch streams with seeded
// shuffling and resumable epochs, and MNIST downloaded from a local HTTP server with sha256 checks.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as st from '../../lib/index';

const root = path.join(__dirname, '..', '..');

describe('data: shapes (generated)', () => {
  it('is deterministic per seed, in [0, 1], with labels 0..7, and train and test differ', () => {
    const a = st.data.shapes({ trainSize: 50, testSize: 20, seed: 3 });
    const b = st.data.shapes({ trainSize: 50, testSize: 20, seed: 3 });
    const c = st.data.shapes({ trainSize: 50, testSize: 20, seed: 4 });
    assert.deepEqual(a.train.x.shape, [50, 28, 28, 1]);
    assert.deepEqual(a.test.y.shape, [20]);
    assert.equal(a.train.y.dtype, 'int32');
    const ax = a.train.x.dataSync();
    assert.ok(Buffer.from(ax.buffer).equals(Buffer.from(b.train.x.dataSync().buffer)), 'same seed, same pixels');
    assert.ok(!Buffer.from(ax.buffer).equals(Buffer.from(c.train.x.dataSync().buffer)), 'another seed, other pixels');
    for (const v of ax) assert.ok(v >= 0 && v <= 1);
    for (const v of a.train.y.dataSync()) assert.ok(Number.isInteger(v) && v >= 0 && v < 8);
    assert.ok(!Buffer.from(a.test.x.dataSync().buffer).equals(Buffer.from(ax.subarray(0, 20 * 784).buffer.slice(0, 20 * 784 * 4))));
  });

  it('without noise an image holds only 0 and its ink level, and a disc is symmetric about its centre', () => {
    const { pixels, labels } = st.data.drawShapes(200, 9, 0);
    let checked = 0;
    for (let i = 0; i < 200; i++) {
      const img = pixels.subarray(i * 784, (i + 1) * 784);
      const levels = new Set(img);
      assert.equal(levels.size, 2, `image ${i} has levels ${[...levels].join(', ')}`);
      const ink = Math.max(...levels);
      assert.ok(ink >= 0.6 && ink <= 1);
      if (labels[i] !== 0) continue;
      // a disc: the lit pixels' bounding box is as wide as it is tall (within a pixel), and its area is about pi r^2
      let [x0, x1, y0, y1, n] = [28, -1, 28, -1, 0];
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) if (img[y * 28 + x] > 0) (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y)), n++;
      const w = x1 - x0 + 1, h = y1 - y0 + 1;
      assert.ok(Math.abs(w - h) <= 1, `disc ${i}: ${w}x${h}`);
      const r = w / 2;
      assert.ok(Math.abs(n - Math.PI * r * r) < 0.25 * Math.PI * r * r, `disc ${i}: ${n} pixels for radius ${r}`);
      checked++;
    }
    assert.ok(checked > 10);
  });

  it('rejects bad options by name', () => {
    assert.throws(() => st.data.shapes({ trainSize: 0 }), (e: st.SymtensorError) => e.code === 'ERR_ST_ARG' && /trainSize/.test(e.message));
    assert.throws(() => st.data.shapes({ size: 3 } as never), (e: st.SymtensorError) => e.code === 'ERR_ST_ARG' && /unknown option "size".*valid: trainSize/.test(e.message));
  });
});

describe('data: ArrayDataset batches', () => {
  const n = 23;
  // row i of x is [i, 100 + i]; y is i
  const x = st.tensor(Float32Array.from({ length: n * 2 }, (_, k) => (k % 2 ? 100 : 0) + Math.floor(k / 2)), { shape: [n, 2] });
  const y = st.tensor(Int32Array.from({ length: n }, (_, i) => i), { shape: [n], dtype: 'int32' });

  async function collect(it: AsyncIterable<st.data.DataBatch>): Promise<number[][]> {
    const out: number[][] = [];
    for await (const b of it) {
      const xv = b.xs.dataSync();
      const yv = Array.from(b.ys.dataSync());
      yv.forEach((r, k) => {
        assert.equal(xv[2 * k], r);
        assert.equal(xv[2 * k + 1], 100 + r);
      });
      out.push(yv);
    }
    return out;
  }

  it('each epoch serves every row once, in an order fixed by (seed, epoch)', async () => {
    const ds = new st.data.ArrayDataset(x, y);
    const s = ds.batches({ batchSize: 5, seed: 7 });
    assert.equal(s.batchesPerEpoch, 5);
    const e0 = await collect(s.epoch(0));
    const e1 = await collect(s.epoch(1));
    assert.deepEqual(e0.map((b) => b.length), [5, 5, 5, 5, 3]);
    assert.deepEqual(e0.flat().sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    assert.notDeepEqual(e0.flat(), e1.flat());
    assert.deepEqual(await collect(ds.batches({ batchSize: 5, seed: 7 }).epoch(1)), e1);
    assert.notDeepEqual(await collect(ds.batches({ batchSize: 5, seed: 8 }).epoch(1)), e1);
    // resuming at batch 3 gives the epoch's last two batches
    assert.deepEqual(await collect(s.epoch(1, { startBatch: 3 })), e1.slice(3));
    // prefetch changes nothing but timing; the stream itself runs epoch 0, then 1
    assert.deepEqual(await collect(ds.batches({ batchSize: 5, seed: 7, prefetch: 0 }).epoch(0)), e0);
    const it = ds.batches({ batchSize: 5, seed: 7, prefetch: 3 });
    assert.deepEqual(await collect(it), e0);
    assert.deepEqual(await collect(it), e1);
    assert.deepEqual(await collect(ds.batches({ batchSize: 5, shuffle: false })), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19], [20, 21, 22]]);
    assert.deepEqual((await collect(ds.batches({ batchSize: 5, dropRemainder: true }))).map((b) => b.length), [5, 5, 5, 5]);
  });

  it('split holds out the last fraction, before shuffling', async () => {
    const { train, validation } = new st.data.ArrayDataset(x, y).split(0.2);
    assert.equal(train.size, 18);
    assert.deepEqual(Array.from(validation.tensors().y.dataSync()), [18, 19, 20, 21, 22]);
    assert.deepEqual((await collect(train.batches({ batchSize: 100, seed: 1 })))[0].sort((a, b) => a - b), Array.from({ length: 18 }, (_, i) => i));
  });

  it('fitDataset trains from a batch stream', async () => {
    st.setRandomSeed(2);
    const m = new st.Sequential([st.layers.input({ shape: [2] }), st.layers.dense({ units: 1 })]);
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const h = await m.fitDataset(new st.data.ArrayDataset(x, y.cast('float32')).batches({ batchSize: 8 }), { epochs: 2, verbose: 0 });
    assert.equal(h.history.loss.length, 2);
  });
});

describe('data: mnist download (local HTTP server)', function () {
  const shared = path.join(root, '..', 'shared', 'datasets', 'mnist');
  let server: http.Server;
  let base: string;
  let tamper = '';
  let cache: string;
  // the training images are not in the shared folder: 60000 blank images stand in for them
  const fakeImages = (() => {
    const head = Buffer.alloc(16);
    head.writeUInt32BE(0x803, 0);
    head.writeUInt32BE(60000, 4);
    head.writeUInt32BE(28, 8);
    head.writeUInt32BE(28, 12);
    return zlib.gzipSync(Buffer.concat([head, Buffer.alloc(60000 * 784)]));
  })();
  // sha256 of the shared .gz files, as listed in that folder's README
  const sums: Record<string, string> = {
    't10k-images-idx3-ubyte.gz': '167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b',
    't10k-labels-idx1-ubyte.gz': 'fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c',
    'train-labels-idx1-ubyte.gz': 'ec02e7948609e5754d47881c09b8afdd8dfa60600b9e5388c8c54a67069ec772',
    'train-images-idx3-ubyte.gz': createHash('sha256').update(fakeImages).digest('hex'),
  };

  before(async function () {
    if (!fs.existsSync(path.join(shared, 't10k-images-idx3-ubyte.gz'))) this.skip();
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'symtensor-mnist-'));
    server = http.createServer((req, res) => {
      const name = path.basename(req.url ?? '');
      let body: Buffer | null = name === 'train-images-idx3-ubyte.gz' ? fakeImages : fs.existsSync(path.join(shared, name)) ? fs.readFileSync(path.join(shared, name)) : null;
      if (!body) return res.writeHead(404).end();
      if (name === tamper) (body = Buffer.from(body)), (body[body.length - 1] ^= 1);
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mnist/`;
  });
  after(() => {
    server?.close();
    if (cache) fs.rmSync(cache, { recursive: true, force: true });
  });

  it('a file whose sha256 does not match is refused and not stored', async () => {
    tamper = 't10k-labels-idx1-ubyte.gz';
    const dir = path.join(cache, 'tampered');
    await assert.rejects(st.data.mnist({ dir, download: true, url: base, sha256: sums }), (e: st.SymtensorError) => e.code === 'ERR_ST_LOAD' && /t10k-labels-idx1-ubyte\.gz: sha256 [0-9a-f]{64} does not match the expected fc6073/.test(e.message));
    assert.ok(!fs.existsSync(path.join(dir, 't10k-labels-idx1-ubyte.gz')));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('download')), []);
    tamper = '';
    // the published checksums are those of the original archives, which these re-compressed copies are not
    await assert.rejects(st.data.mnist({ dir: path.join(cache, 'published'), download: true, url: base }), /sha256 .* does not match the expected/);
  });

  it('downloads into the cache folder, checks every file, and then reads it locally', async () => {
    const ds = await st.data.mnist({ cacheDir: path.join(cache, 'c'), download: true, url: base, sha256: sums });
    assert.deepEqual(ds.test.x.shape, [10000, 28, 28]);
    assert.deepEqual(Array.from(ds.test.y.dataSync().subarray(0, 8)), [7, 2, 1, 0, 4, 1, 4, 9]);
    assert.deepEqual(Array.from(ds.train.y.dataSync().subarray(0, 8)), [5, 0, 4, 1, 9, 2, 1, 3]);
    const counts = new Array(10).fill(0);
    for (const v of ds.test.y.dataSync()) counts[v]++;
    assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    server.close();
    // the server is gone: the cached files are used without any request
    const again = await st.data.mnist({ dir: path.join(cache, 'c'), flatten: true });
    assert.deepEqual(again.test.x.shape, [10000, 784]);
  });
});
