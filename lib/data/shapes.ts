// A built-in image dataset generated in code: 28×28 grey images of simple drawn shapes (8 classes)
// at random positions and sizes, with random brightness and Gaussian noise.  The same seed gives
// the same bytes on every machine (the generator uses only 32-bit integer arithmetic and
// Math.sqrt/log/cos, which are correctly rounded or deterministic in V8), so it serves as the
// network-free dataset of examples, tests and the command line's default job.
import { argError, fmtValue } from '../errors';
import { tensor } from '../tensor/creation';
import type { ImageDataset, Split } from './datasets';

/** The class names of the shapes dataset, by label. */
export const SHAPES_CLASSES: readonly string[] = ['disc', 'ring', 'square', 'frame', 'triangle', 'plus', 'cross', 'bar'];

/** Options of the shapes dataset. */
export interface ShapesOptions {
  /** Training images (default 6000). */
  trainSize?: number;
  /** Test images (default 1000). */
  testSize?: number;
  /** Seed of the generator (default 1); train and test draw from unrelated streams of it. */
  seed?: number;
  /** Standard deviation of the Gaussian pixel noise, before clipping to [0, 1] (default 0.15). */
  noise?: number;
  /** [n, 784] instead of [n, 28, 28, 1]. */
  flatten?: boolean;
  /** [n, 28, 28, 1] (channels last, the default) or [n, 28, 28] when false. */
  channels?: boolean;
}

const SIZE = 28;

/** mulberry32: a small 32-bit generator, here for its exact reproducibility in plain JS. */
function generator(seed: number): { next(): number; int(n: number): number; normal(): number } {
  // the seed is scrambled first, so nearby seeds start far apart on the generator's cycle
  let a = Math.imul(seed ^ (seed >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a = (a ^ (a >>> 16)) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

/** Is pixel centre (px, py) inside shape `label` centred at (cx, cy) with half-size r and stroke w? */
function inside(label: number, px: number, py: number, cx: number, cy: number, r: number, w: number): boolean {
  const dx = px - cx;
  const dy = py - cy;
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  const d = Math.sqrt(dx * dx + dy * dy);
  switch (label) {
    case 0: // disc
      return d <= r;
    case 1: // ring
      return d <= r && d >= r - w;
    case 2: // square
      return ax <= r && ay <= r;
    case 3: // frame
      return ax <= r && ay <= r && (ax >= r - w || ay >= r - w);
    case 4: // triangle, apex up: |dx| grows from 0 at the top to r at the bottom
      return dy >= -r && dy <= r && ax <= (dy + r) / 2;
    case 5: // plus
      return (ax <= w / 2 && ay <= r) || (ay <= w / 2 && ax <= r);
    case 6: // cross (the two diagonals)
      return ax <= r && ay <= r && Math.abs(ax - ay) <= w * 0.75;
    default: // bar: a horizontal stroke
      return ax <= r && ay <= w / 2;
  }
}

/**
 * Draws `n` images of the shapes dataset with a generator seeded by `seed`: pixels float32 in
 * [0, 1], row-major 28×28 per image, and labels 0..7 (SHAPES_CLASSES).
 * @example const { pixels, labels } = drawShapes(4, 7, 0.15)  // pixels.length === 4 * 784
 */
export function drawShapes(n: number, seed: number, noise = 0.15): { pixels: Float32Array; labels: Int32Array } {
  const op = 'drawShapes';
  if (!Number.isInteger(n) || n < 0) throw argError(op, `n must be a non-negative integer, got ${fmtValue(n)}`);
  if (!Number.isInteger(seed) || seed < 0) throw argError(op, `seed must be a non-negative integer, got ${fmtValue(seed)}`);
  if (typeof noise !== 'number' || !(noise >= 0) || !Number.isFinite(noise)) throw argError(op, `noise must be a finite number >= 0, got ${fmtValue(noise)}`);
  const rng = generator(seed);
  const pixels = new Float32Array(n * SIZE * SIZE);
  const labels = new Int32Array(n);
  const classes = SHAPES_CLASSES.length;
  for (let i = 0; i < n; i++) {
    const label = rng.int(classes);
    labels[i] = label;
    const r = 5 + rng.next() * 6; // half-size 5..11 pixels
    const w = 2 + rng.next() * 1.5; // stroke 2..3.5 pixels
    const margin = r + 1;
    const cx = margin + rng.next() * (SIZE - 1 - 2 * margin);
    const cy = margin + rng.next() * (SIZE - 1 - 2 * margin);
    const ink = 0.6 + rng.next() * 0.4;
    const base = i * SIZE * SIZE;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        let v = inside(label, x, y, cx, cy, r, w) ? ink : 0;
        if (noise > 0) v += noise * rng.normal();
        pixels[base + y * SIZE + x] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return { pixels, labels };
}

function checkCount(op: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < 1) throw argError(op, `${name} must be a positive integer, got ${fmtValue(v)}`);
  return v as number;
}

/**
 * The shapes dataset: 28×28 images of 8 drawn shapes (SHAPES_CLASSES) with noise, generated from
 * `seed` — nothing is read from disk or the network.  Images float32 in [0, 1] shaped [n, 28, 28, 1]
 * (or [n, 784] with `flatten`, [n, 28, 28] with `channels: false`), labels int32 [n].
 * @example const { train, test } = st.data.shapes({ trainSize: 2000, seed: 3 })
 */
export function shapes(opts: ShapesOptions = {}): ImageDataset {
  const op = 'shapes';
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw argError(op, `options must be an object, got ${fmtValue(opts)}`);
  const valid = ['trainSize', 'testSize', 'seed', 'noise', 'flatten', 'channels'];
  const extra = Object.keys(opts).filter((k) => !valid.includes(k));
  if (extra.length) throw argError(op, `unknown option ${extra.map((k) => JSON.stringify(k)).join(', ')} (valid: ${valid.join(', ')})`);
  const trainSize = checkCount(op, 'trainSize', opts.trainSize, 6000);
  const testSize = checkCount(op, 'testSize', opts.testSize, 1000);
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 31) throw argError(op, `seed must be an integer in [0, 2^31), got ${fmtValue(seed)}`);
  const noise = opts.noise ?? 0.15;
  if (typeof noise !== 'number' || !(noise >= 0 && noise <= 1)) throw argError(op, `noise must be a number in [0, 1], got ${fmtValue(noise)}`);
  const flatten = opts.flatten ?? false;
  const channels = opts.channels ?? !flatten;
  if (typeof flatten !== 'boolean' || typeof channels !== 'boolean') throw argError(op, 'flatten and channels must be booleans');
  if (flatten && channels) throw argError(op, 'flatten and channels cannot both be set ([n, 784] or [n, 28, 28, 1])');
  const split = (n: number, s: number): Split => {
    const { pixels, labels } = drawShapes(n, s, noise);
    const shape = flatten ? [n, SIZE * SIZE] : channels ? [n, SIZE, SIZE, 1] : [n, SIZE, SIZE];
    return { x: tensor(pixels, { shape, dtype: 'float32' }), y: tensor(labels, { shape: [n], dtype: 'int32' }) };
  };
  // the two splits come from seeds 2s+1 and 2s+2: distinct for every seed, never overlapping
  return { train: split(trainSize, 2 * seed + 1), test: split(testSize, 2 * seed + 2) };
}
