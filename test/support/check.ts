// Test helpers: moving values between reference values and symtensor tensors, and comparing them.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import type { DType, Ref } from './reference';

export interface Tol {
  rtol?: number;
  atol?: number;
  /** Require the sign of zeros to match too. */
  signedZero?: boolean;
}

export const DEFAULT_TOL: Record<DType, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-12, atol: 1e-14 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
};

export function typedOf(r: Ref): Float32Array | Float64Array | Int32Array | Uint8Array {
  switch (r.dtype) {
    case 'float32':
      return Float32Array.from(r.data);
    case 'float64':
      return Float64Array.from(r.data);
    case 'int32':
      return Int32Array.from(r.data);
    case 'bool':
      return Uint8Array.from(r.data);
  }
}

/** A symtensor tensor holding the reference value. */
export function toSt(r: Ref): st.Tensor {
  return st.tensor(typedOf(r), { shape: r.shape, dtype: r.dtype });
}

/** A reference value holding the tensor's data. */
export function fromSt(t: st.Tensor): Ref {
  return { shape: t.shape.slice(), dtype: t.dtype, data: Array.from(t.dataSync() as ArrayLike<number>) };
}

function fmt(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/** True when `a` matches `e` for dtype d within tol (NaN matches NaN; infinities must be equal). */
export function valueClose(a: number, e: number, d: DType, tol: Tol = {}): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (Number.isNaN(a)) return false;
  if (!Number.isFinite(e) || !Number.isFinite(a)) return a === e;
  if (tol.signedZero && e === 0) return Object.is(a, e);
  const base = DEFAULT_TOL[d];
  const rtol = tol.rtol ?? base.rtol;
  const atol = tol.atol ?? base.atol;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/** Asserts dtype, shape and values of `actual` against the reference value. */
export function expectTensor(actual: st.Tensor, expected: Ref, what: string, tol: Tol = {}): void {
  assert.ok(actual instanceof st.Tensor, `${what}: expected a Tensor, got ${String(actual)}`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const data = actual.dataSync();
  assert.equal(data.length, expected.data.length, `${what}: element count`);
  const bad: string[] = [];
  for (let i = 0; i < data.length; i++) {
    if (!valueClose(data[i], expected.data[i], expected.dtype, tol)) {
      if (bad.length < 6) bad.push(`[${i}] got ${fmt(data[i])}, expected ${fmt(expected.data[i])}`);
      else break;
    }
  }
  if (bad.length) assert.fail(`${what} (${expected.dtype} [${expected.shape}]): ${bad.join('; ')}`);
}

/** Runs f, expecting a SymtensorError with the given code whose message matches every pattern. */
export function expectError(f: () => unknown, code: string, patterns: (string | RegExp)[] = []): st.SymtensorError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected an error with code ${code}, nothing was thrown`);
  assert.ok(caught instanceof st.SymtensorError, `expected a SymtensorError, got ${String(caught)}`);
  assert.ok(caught instanceof Error, 'SymtensorError must be an Error');
  const err = caught as st.SymtensorError;
  assert.equal(err.code, code, `error code (message: ${err.message})`);
  for (const p of patterns) {
    if (typeof p === 'string') assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should include ${JSON.stringify(p)}`);
    else assert.match(err.message, p);
  }
  return err;
}

/** Sum of products of two equally long arrays, in double. */
export function inner(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'inner: lengths differ');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** The SymtensorError f throws (fails the test when f returns, or throws anything else). */
export function catchError(f: () => unknown): st.SymtensorError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, 'expected an error, nothing was thrown');
  assert.ok(caught instanceof st.SymtensorError, `expected a SymtensorError, got ${String(caught)}`);
  return caught;
}
