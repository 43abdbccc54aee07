// erf and erfc for the reference evaluator, from their series and continued fraction.
//
// Near the middle of its range (|x| < 2) erf is summed in exact fixed-point arithmetic (BigInt,
// 2^-FRAC_BITS units), with 2/√π computed the same way from Machin's formula for π, so the one
// rounding is the final conversion to a double: the result is within half an ulp plus 2^-110.
// Double arithmetic there (exp(-x²) times a positive series) drifts by several ulp, more than
// a careful native erf does.  For |x| >= 2, erfc is below 0.005 and 1 - erfc is exact to half an
// ulp whatever erfc's last bits are.

const FRAC_BITS = 128;
const ONE = 1n << BigInt(FRAC_BITS);

/** atan(1/k) in fixed point: Σ (-1)^n / ((2n+1) k^(2n+1)). */
function atanInv(k: bigint): bigint {
  const k2 = k * k;
  let power = ONE / k; // 1 / k^(2n+1)
  let sum = 0n;
  for (let n = 0n; power !== 0n; n++) {
    const term = power / (2n * n + 1n);
    sum += n % 2n === 0n ? term : -term;
    power /= k2;
  }
  return sum;
}

/** floor(√v) for v >= 0 (Newton's method on integers). */
function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt(Math.ceil(v.toString(2).length / 2));
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

let twoOverSqrtPi: bigint | null = null;

/** 2/√π in fixed point, computed once: π = 16 atan(1/5) - 4 atan(1/239) (Machin). */
function twoOverSqrtPiFixed(): bigint {
  if (twoOverSqrtPi === null) {
    const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
    const sqrtPi = isqrt(pi * ONE); // √(π·2^F)·2^(F/2) = √π·2^F
    twoOverSqrtPi = (2n * ONE * ONE) / sqrtPi;
  }
  return twoOverSqrtPi;
}

/** A finite nonzero double as m·2^e with m a 53-bit integer (exact). */
function decompose(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { m: frac, e: -1074 } : { m: frac | (1n << 52n), e: biased - 1075 };
}

/** Shifts v left by s bits (right, truncating, for negative s). */
function shift(v: bigint, s: number): bigint {
  return s >= 0 ? v << BigInt(s) : v >> BigInt(-s);
}

/**
 * erf(x) for 0 < x < 2: x · (2/√π) · Σ (-1)^n x^(2n) / (n! (2n+1)), in fixed point.  The largest
 * term is about 11 (x = 2, n = 4), so cancellation costs a few of the 128 bits.
 */
function erfSmall(x: number): number {
  const { m, e } = decompose(x);
  const x2 = shift(m * m, 2 * e + FRAC_BITS); // x² in fixed point
  let power = ONE; // x^(2n) / n!
  let sum = ONE;
  for (let n = 1n; ; n++) {
    power = (power * x2) / (ONE * n);
    if (power === 0n) break;
    const term = power / (2n * n + 1n);
    sum += n % 2n === 0n ? term : -term;
  }
  // erf = m·2^e · C · S with C and S in 2^-F units: one rounding in Number(), then exact scalings
  const product = m * twoOverSqrtPiFixed() * sum;
  return Number(product) * 2 ** (-2 * FRAC_BITS) * 2 ** e;
}

/** erfc(x) for x >= 2 by its continued fraction (modified Lentz). */
function erfcTail(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = f;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    d = 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-17) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The error function; odd, keeps the sign of zero, ±1 at ±∞. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return x;
  if (!Number.isFinite(x)) return x > 0 ? 1 : -1;
  const ax = Math.abs(x);
  const r = ax < 2 ? erfSmall(ax) : 1 - erfcTail(ax);
  return x < 0 ? -r : r;
}

/** 1 - erf(x), keeping its relative accuracy in the right tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (!Number.isFinite(x)) return x > 0 ? 0 : 2;
  if (x >= 2) return erfcTail(x);
  if (x <= -2) return 2 - erfcTail(-x);
  return 1 - erf(x);
}
