// Helpers for the rewrite tests: compile a graph with and without a rewrite, inspect the
// optimized graph, and compare results exactly or within a tolerance.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { FusedElemwise } from '../../lib/compile/rewrites/fusion';

export const { T } = st;
export type Fn = st.CompiledFunction;

/** Runs f synchronously and always returns a list of outputs. */
export function run(f: Fn, ...args: unknown[]): st.Tensor[] {
  const r = f.sync(...(args as never[]));
  return Array.isArray(r) ? r : [r];
}

/** Op names of the optimized graph's nodes, in topological order. */
export function opNames(f: Fn): string[] {
  return f.graph.nodes().map((n) => n.op.name);
}

/** How many nodes of the optimized graph have this op name. */
export function countOps(f: Fn, name: string): number {
  return opNames(f).filter((n) => n === name).length;
}

/** How many replacements the named rewrite made. */
export function fired(f: Fn, rewrite: string): number {
  return f.graph.history.filter((h) => h.rewrite === rewrite).length;
}

/** The fused nodes of the optimized graph. */
export function fusedNodes(f: Fn): { op: FusedElemwise; inputs: st.Variable[] }[] {
  return f.graph.nodes().filter((n) => n.op instanceof FusedElemwise) as never;
}

/** A graph summary for assertion messages. */
export function graphText(f: Fn): string {
  return st.debugprint(f, { print: false });
}

/**
 * The same outputs compiled twice: `opt` with the normal pipeline (minus `also`), `ref` with
 * `rewrite` excluded as well.
 */
export function withAndWithout(
  inputs: st.Variable[],
  outputs: st.Variable | st.Variable[],
  rewrite: string,
  also: string[] = [],
): { opt: Fn; ref: Fn } {
  return {
    opt: st.fn(inputs, outputs, { excludeRewrites: also }),
    ref: st.fn(inputs, outputs, { excludeRewrites: [rewrite, ...also] }),
  };
}

function fmt(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

function checkMeta(actual: st.Tensor, expected: st.Tensor, what: string): [ArrayLike<number>, ArrayLike<number>] {
  assert.ok(actual instanceof st.Tensor, `${what}: not a tensor`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  return [actual.dataSync() as ArrayLike<number>, expected.dataSync() as ArrayLike<number>];
}

/** Bit-for-bit equal values (NaN equals NaN; the sign of zero counts). */
export function assertSame(actual: st.Tensor, expected: st.Tensor, what: string): void {
  const [a, e] = checkMeta(actual, expected, what);
  const bad: string[] = [];
  for (let i = 0; i < e.length && bad.length < 6; i++) if (!Object.is(a[i], e[i])) bad.push(`[${i}] got ${fmt(a[i])}, expected ${fmt(e[i])}`);
  assert.ok(!bad.length, `${what}: ${bad.join('; ')}`);
}

/** Equal within atol + rtol·|e|; NaN must meet NaN and infinities must be equal. */
export function assertClose(actual: st.Tensor, expected: st.Tensor, what: string, rtol = 1e-6, atol = 1e-6): void {
  const [a, e] = checkMeta(actual, expected, what);
  const bad: string[] = [];
  for (let i = 0; i < e.length && bad.length < 6; i++) {
    const x = a[i], y = e[i];
    const ok = Number.isNaN(y) ? Number.isNaN(x) : !Number.isFinite(y) || !Number.isFinite(x) ? x === y : Math.abs(x - y) <= atol + rtol * Math.abs(y);
    if (!ok) bad.push(`[${i}] got ${fmt(x)}, expected ${fmt(y)}`);
  }
  assert.ok(!bad.length, `${what}: ${bad.join('; ')}`);
}

/** Every value finite. */
export function assertFinite(t: st.Tensor, what: string): void {
  const d = t.dataSync() as ArrayLike<number>;
  for (let i = 0; i < d.length; i++) assert.ok(Number.isFinite(d[i]), `${what}: [${i}] is ${d[i]}`);
}

/** Deterministic values in [lo, hi). */
export function randomData(n: number, seed: number, lo = -3, hi = 3): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(lo + ((s >>> 8) / (1 << 24)) * (hi - lo));
  }
  return out;
}

/** A float tensor of the given shape holding randomData. */
export function randomTensor(shape: number[], seed: number, lo = -3, hi = 3, dtype: 'float32' | 'float64' = 'float32'): st.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = randomData(n, seed, lo, hi);
  return st.tensor(dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data), { shape, dtype });
}

/** The thrown error, or null when f returns normally. */
export function errorOf(f: () => unknown): Error | null {
  try {
    f();
    return null;
  } catch (e) {
    return e as Error;
  }
}
