// The global seed (Keras's keras.utils.set_random_seed): one 32-bit state from which every
// unseeded initializer, dropout layer and random stream of the model API takes its seed.  Seeds
// come from a Weyl sequence passed through a bit mixer (splitmix's idea on 32-bit integers), so
// consecutive seeds look unrelated although the state only counts.
import { randomBytes } from 'node:crypto';
import { argError, fmtValue } from '../errors';

const GOLDEN = 0x9e3779b9;

/** A 32-bit integer scrambled so that nearby inputs give unrelated outputs (murmur3's finalizer). */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seed (any safe non-negative integer) folded to 32 bits, its high bits mixed into the low ones. */
function fold(seed: number): number {
  const lo = seed % 2 ** 32;
  const hi = Math.floor(seed / 2 ** 32);
  return (lo ^ mix32((hi + GOLDEN) | 0)) >>> 0;
}

function checkSeed(op: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER)
    throw argError(op, `seed must be a non-negative integer (at most 2^53 - 1), got ${fmtValue(seed)}`);
  return seed;
}

// Without setRandomSeed the sequence starts at an unpredictable point.
let state = randomBytes(4).readUInt32LE(0);

/**
 * Seeds the model API's randomness (Keras's keras.utils.set_random_seed): after it, weight
 * initializers without their own seed, dropout and other layers that draw random numbers produce
 * the same values on every run, as long as the model is built in the same order.
 * @example
 *   setRandomSeed(42);
 *   const w1 = initializers.glorotUniform().call([784, 10]);
 *   setRandomSeed(42);
 *   const w2 = initializers.glorotUniform().call([784, 10]); // the same values as w1
 */
export function setRandomSeed(seed: number): void {
  state = fold(checkSeed('setRandomSeed', seed));
}

/**
 * The next seed of the global sequence: an integer in [0, 2^32), accepted as the `seed` of
 * st.randomNormal / st.randomUniform and of st.randomStreams.  Deterministic after setRandomSeed.
 */
export function nextSeed(): number {
  state = (state + GOLDEN) >>> 0;
  return mix32(state);
}

/**
 * A seed derived from `seed` and `salt`: the same pair always gives the same result, different
 * salts give unrelated seeds.  For an object that needs several independent draws from one seed.
 * @example const second = deriveSeed(userSeed, 1);
 */
export function deriveSeed(seed: number, salt: number): number {
  checkSeed('deriveSeed', seed);
  checkSeed('deriveSeed', salt);
  return mix32((fold(seed) + Math.imul(fold(salt) + 1, GOLDEN)) | 0);
}

/** A user-given seed option: undefined/null for none, else a valid seed (errors name `op`). */
export function optionalSeed(op: string, seed: unknown): number | undefined {
  if (seed === undefined || seed === null) return undefined;
  return checkSeed(op, seed);
}
