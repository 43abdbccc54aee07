// In-memory datasets as async iterables of batches: seeded shuffling (the order of epoch e depends
// only on the seed and e, so a run can resume mid-epoch), a train/validation split, and prefetch
// of the next batches while the current one is being used.
import { SymtensorError, argError, fmtShape, fmtValue } from '../errors';
import { tensor } from '../tensor/creation';
import type { Tensor } from '../tensor/tensor';
import type { TypedArray } from '../dtype';

/** One batch: inputs and targets (fresh tensors owned by the receiver), and its index in the epoch. */
export interface DataBatch {
  xs: Tensor;
  ys: Tensor;
  /** The batch's number within its epoch, from 0. */
  index: number;
}

/** How a dataset is cut into batches. */
export interface BatchOptions {
  /** Samples per batch (default 32). */
  batchSize?: number;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling (default 0); the order of epoch e is a function of (seed, e) alone. */
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropRemainder?: boolean;
  /** Batches prepared ahead of the one being used (default 1; 0 prepares each on demand). */
  prefetch?: number;
}

/** A 32-bit integer scrambled (murmur3's finalizer). */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * The sample order of epoch `epoch` for `n` samples shuffled with `seed`: a Fisher-Yates
 * permutation driven by xorshift32 from a seed mixed from (seed, epoch).
 * @example epochOrder(5, 42, 0)  // a permutation of 0..4, the same on every call
 */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let s = mix32((mix32(seed >>> 0) + Math.imul((epoch >>> 0) + 1, 0x9e3779b9)) >>> 0) || 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

function positiveInt(op: string, name: string, v: unknown, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < min) throw argError(op, `${name} must be an integer >= ${min}, got ${fmtValue(v)}`);
  return v as number;
}

/** Rows of a tensor kept as one typed array, to copy batches out of. */
interface Rows {
  data: TypedArray;
  shape: number[];
  per: number;
  dtype: Tensor['dtype'];
}

function rowsOf(t: Tensor): Rows {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { data: t.dataSync(), shape: t.shape.slice(), per, dtype: t.dtype };
}

function gather(r: Rows, order: Int32Array, from: number, to: number): Tensor {
  const n = to - from;
  const Ctor = r.data.constructor as { new (n: number): TypedArray };
  const out = new Ctor(n * r.per);
  for (let k = 0; k < n; k++) {
    const row = order[from + k];
    out.set(r.data.subarray(row * r.per, (row + 1) * r.per) as never, k * r.per);
  }
  return tensor(out, { shape: [n, ...r.shape.slice(1)], dtype: r.dtype });
}

/**
 * Samples x (and targets y) held in memory, cut into batches on demand.  Every batch is a copy of
 * its rows, so the dataset's own tensors are read once and may be disposed after construction.
 * @example
 *   const ds = new st.data.ArrayDataset(train.x, train.y);
 *   const { train: tr, validation } = ds.split(0.1);
 *   const batches = tr.batches({ batchSize: 64, seed: 7 });
 *   await model.fitDataset(batches, { epochs: 3 });   // each pass is the next epoch
 */
export class ArrayDataset {
  /** Number of samples. */
  readonly size: number;
  private readonly x: Rows;
  private readonly y: Rows;
  private readonly rows: Int32Array;

  constructor(x: Tensor, y: Tensor, rows?: Int32Array) {
    const op = 'ArrayDataset';
    if (!x || typeof (x as Tensor).dataSync !== 'function' || !y || typeof (y as Tensor).dataSync !== 'function') throw argError(op, 'expects two tensors, x and y');
    if (x.shape.length === 0 || y.shape.length === 0) throw new SymtensorError('ERR_ST_SHAPE', op, `x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} must both have a batch axis`);
    if (x.shape[0] !== y.shape[0]) throw new SymtensorError('ERR_ST_SHAPE', op, `x has ${x.shape[0]} samples (shape ${fmtShape(x.shape)}) but y has ${y.shape[0]} (shape ${fmtShape(y.shape)})`);
    this.x = rowsOf(x);
    this.y = rowsOf(y);
    this.rows = rows ?? Int32Array.from({ length: x.shape[0] }, (_, i) => i);
    this.size = this.rows.length;
  }

  private sub(rows: Int32Array): ArrayDataset {
    const d = Object.create(ArrayDataset.prototype) as ArrayDataset;
    Object.assign(d, { x: this.x, y: this.y, rows, size: rows.length });
    return d;
  }

  /**
   * Keras's validationSplit: the last `fraction` of the samples (before any shuffling) as a
   * validation set, the rest for training.
   */
  split(fraction: number): { train: ArrayDataset; validation: ArrayDataset } {
    const op = 'ArrayDataset.split';
    if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) throw argError(op, `fraction must be in (0, 1), got ${fmtValue(fraction)}`);
    const nTrain = Math.floor(this.size * (1 - fraction));
    if (nTrain === 0 || nTrain === this.size) throw argError(op, `a split of ${fraction} of ${this.size} samples leaves ${nTrain === 0 ? 'no training' : 'no validation'} samples`);
    return { train: this.sub(this.rows.slice(0, nTrain)), validation: this.sub(this.rows.slice(nTrain)) };
  }

  /** All samples, in order, as two tensors. */
  tensors(): { x: Tensor; y: Tensor } {
    return { x: gather(this.x, this.rows, 0, this.size), y: gather(this.y, this.rows, 0, this.size) };
  }

  /** The dataset cut into batches, per epoch (see BatchOptions). */
  batches(opts: BatchOptions = {}): BatchStream {
    return new BatchStream(this.x, this.y, this.rows, opts);
  }
}

/**
 * Batches of an ArrayDataset.  `epoch(e)` iterates epoch e (optionally from a given batch);
 * iterating the stream itself (`for await`, or `model.fitDataset(stream)`) goes through epoch 0,
 * then epoch 1 on the next pass, and so on.
 */
export class BatchStream implements AsyncIterable<DataBatch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropRemainder: boolean;
  readonly prefetch: number;
  /** Batches in each epoch. */
  readonly batchesPerEpoch: number;
  private passes = 0;

  /** @internal */
  constructor(private readonly x: Rows, private readonly y: Rows, private readonly rows: Int32Array, opts: BatchOptions) {
    const op = 'ArrayDataset.batches';
    if (opts === null || typeof opts !== 'object') throw argError(op, `options must be an object, got ${fmtValue(opts)}`);
    const valid = ['batchSize', 'shuffle', 'seed', 'dropRemainder', 'prefetch'];
    const extra = Object.keys(opts).filter((k) => !valid.includes(k));
    if (extra.length) throw argError(op, `unknown option ${extra.map((k) => JSON.stringify(k)).join(', ')} (valid: ${valid.join(', ')})`);
    this.batchSize = positiveInt(op, 'batchSize', opts.batchSize, 32);
    this.seed = positiveInt(op, 'seed', opts.seed, 0, 0);
    this.prefetch = positiveInt(op, 'prefetch', opts.prefetch, 1, 0);
    this.shuffle = opts.shuffle ?? true;
    this.dropRemainder = opts.dropRemainder ?? false;
    if (typeof this.shuffle !== 'boolean' || typeof this.dropRemainder !== 'boolean') throw argError(op, 'shuffle and dropRemainder must be booleans');
    const n = rows.length;
    this.batchesPerEpoch = this.dropRemainder ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    if (this.batchesPerEpoch === 0) throw argError(op, `${n} samples make no batch of ${this.batchSize} with dropRemainder`);
  }

  /** The sample indices of epoch `e`, in the order they are served. */
  order(e: number): Int32Array {
    if (!this.shuffle) return this.rows;
    const p = epochOrder(this.rows.length, this.seed, e);
    const out = new Int32Array(p.length);
    for (let i = 0; i < p.length; i++) out[i] = this.rows[p[i]];
    return out;
  }

  /** Makes batch `b` of an epoch's order. */
  private make(order: Int32Array, b: number): DataBatch {
    const from = b * this.batchSize;
    const to = Math.min(order.length, from + this.batchSize);
    return { xs: gather(this.x, order, from, to), ys: gather(this.y, order, from, to), index: b };
  }

  /**
   * The batches of epoch `e`, starting at batch `startBatch` (to resume an epoch part-way).  With
   * prefetch k, up to k batches after the current one are prepared in the background (on the event
   * loop, while the consumer awaits its native step).
   */
  epoch(e: number, opts: { startBatch?: number } = {}): AsyncIterableIterator<DataBatch> {
    const op = 'BatchStream.epoch';
    const epoch = positiveInt(op, 'epoch', e, 0, 0);
    const start = positiveInt(op, 'startBatch', opts.startBatch, 0, 0);
    if (start > this.batchesPerEpoch) throw argError(op, `startBatch ${start} is past the epoch's ${this.batchesPerEpoch} batches`);
    const order = this.order(epoch);
    const total = this.batchesPerEpoch;
    const ahead = this.prefetch;
    const queue: Promise<DataBatch>[] = [];
    let next = start;
    let closed = false;
    // each batch is produced on a later turn of the event loop, so it overlaps the caller's await
    const fill = () => {
      while (!closed && next < total && queue.length < ahead + 1) {
        const b = next++;
        queue.push(new Promise<DataBatch>((resolve, reject) => setImmediate(() => {
          try {
            resolve(this.make(order, b));
          } catch (err) {
            reject(err);
          }
        })));
      }
    };
    const release = async () => {
      closed = true;
      for (const p of queue.splice(0)) {
        const b = await p.catch(() => null);
        if (b) (b.xs.dispose(), b.ys.dispose());
      }
    };
    const it: AsyncIterableIterator<DataBatch> = {
      next: async () => {
        if (closed) return { done: true, value: undefined };
        if (ahead === 0) {
          if (next >= total) return { done: true, value: undefined };
          return { done: false, value: this.make(order, next++) };
        }
        fill();
        const p = queue.shift();
        if (!p) return { done: true, value: undefined };
        const value = await p;
        fill();
        return { done: false, value };
      },
      return: async () => {
        await release();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  /** The next epoch's batches (epoch 0 on the first pass). */
  [Symbol.asyncIterator](): AsyncIterator<DataBatch> {
    return this.epoch(this.passes++);
  }
}
