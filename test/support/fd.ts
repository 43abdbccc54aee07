// Finite-difference gradient checks for symbolic graphs (the verify_grad idea): the outputs of a
// graph are projected onto fixed random tensors, cost = sum_k sum(out_k * R_k), and st.grad of that
// cost is compared with central differences of the same compiled cost.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Rng } from './reference';

const { T } = st;

export type FloatDType = 'float32' | 'float64';

/** One input of a checked graph. */
export interface GradInput {
  shape: number[];
  value: ArrayLike<number>;
  /** Default float64. */
  dtype?: 'float32' | 'float64' | 'int32' | 'bool';
  name?: string;
  /** Passed to the graph but not differentiated (labels, indices, conditions). */
  fixed?: boolean;
}

export interface CheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Relative tolerance (default 1e-6). */
  rtol?: number;
  /** Absolute tolerance (default 1e-7). */
  atol?: number;
  /** Passed to st.grad. */
  consider?: 'raise' | 'zero' | 'ignore';
  /** Declare the inputs with unknown (null) dims instead of their concrete shapes. */
  unknownDims?: boolean;
  /** Seed of the projection tensors. */
  seed?: number;
  /** Options for st.fn (both the cost and the gradient functions). */
  fnOpts?: st.FnOptions;
}

export interface CheckResult {
  /** The analytic gradient of each differentiated input (flat). */
  analytic: Float64Array[];
  /** The central differences (flat). */
  numeric: Float64Array[];
  /** The largest |analytic - numeric| / max(1, |numeric|) seen. */
  maxErr: number;
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Uniform values in [lo, hi). */
export function uniform(rng: Rng, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** Uniform values in [lo, hi) at least `margin` away from every point in `kinks`. */
export function awayFrom(rng: Rng, n: number, lo: number, hi: number, kinks: number[], margin = 0.1): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const v = rng.uniform(lo, hi);
    if (kinks.every((k) => Math.abs(v - k) >= margin)) out.push(v);
  }
  return out;
}

/** Values with magnitude in [lo, hi) and a random sign. */
export function signedMagnitude(rng: Rng, n: number, lo = 0.5, hi = 1.5): number[] {
  return Array.from({ length: n }, () => (rng.bool() ? 1 : -1) * rng.uniform(lo, hi));
}

/** n distinct values, pairwise at least `gap` apart, in random order (no ties for max/min). */
export function distinct(rng: Rng, n: number, gap = 0.2, start = -1): number[] {
  const vals = Array.from({ length: n }, (_, i) => start + i * gap + rng.uniform(0, gap / 4));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [vals[i], vals[j]] = [vals[j], vals[i]];
  }
  return vals;
}

/** For each flat index of `outShape`, the flat index of the element of `inShape` broadcast to it. */
export function broadcastIndex(outShape: number[], inShape: number[]): number[] {
  const lead = outShape.length - inShape.length;
  const n = sizeOf(outShape);
  const res = new Array<number>(n);
  for (let f = 0; f < n; f++) {
    let rem = f;
    let idx = 0;
    let stride = 1;
    for (let a = outShape.length - 1; a >= 0; a--) {
      const c = rem % outShape[a];
      rem = Math.floor(rem / outShape[a]);
      const ia = a - lead;
      if (ia >= 0) {
        if (inShape[ia] !== 1) idx += c * stride;
        stride *= inShape[ia];
      }
    }
    res[f] = idx;
  }
  return res;
}

export function f64(t: st.Tensor): Float64Array {
  return Float64Array.from(t.dataSync() as ArrayLike<number>);
}

export function makeTensor(value: ArrayLike<number>, shape: number[], dtype: GradInput['dtype'] = 'float64'): st.Tensor {
  switch (dtype) {
    case 'float64':
      return st.tensor(Float64Array.from(value), { shape, dtype });
    case 'float32':
      return st.tensor(Float32Array.from(value), { shape, dtype });
    case 'int32':
      return st.tensor(Int32Array.from(value), { shape, dtype });
    case 'bool':
      return st.tensor(Uint8Array.from(value), { shape, dtype });
  }
}

function fmtIndex(flat: number, shape: number[]): string {
  const idx: number[] = [];
  let rem = flat;
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift(rem % shape[a]);
    rem = Math.floor(rem / shape[a]);
  }
  return `[${idx.join(',')}]`;
}

function hashLabel(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

function runCost(f: st.CompiledFunction, args: st.Tensor[]): number {
  const out = f.sync(...args) as st.Tensor;
  const v = out.dataSync()[0] as number;
  out.dispose();
  return v;
}

/** Asserts that two flat arrays agree elementwise: |a - e| <= atol + rtol * max(|a|, |e|). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-5, atol = 1e-7): void {
  assert.equal(actual.length, expected.length, `${what}: element count`);
  const bad: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const ok = Number.isFinite(a) && Number.isFinite(e) && Math.abs(a - e) <= atol + rtol * Math.max(Math.abs(a), Math.abs(e));
    if (!ok && bad.length < 6) bad.push(`[${i}] got ${a}, expected ${e}`);
  }
  if (bad.length) assert.fail(`${what}: ${bad.join('; ')}`);
}

/**
 * Checks st.grad of the random projection of build(...inputs) against central differences, for
 * every input not marked fixed.  The graph is built once over float64 (or the given dtype) inputs.
 */
export function checkGrad(
  label: string,
  inputs: GradInput[],
  build: (...vs: st.Variable[]) => st.Variable | st.Variable[],
  opts: CheckOptions = {},
): CheckResult {
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.rtol ?? 1e-6;
  const atol = opts.atol ?? 1e-7;
  const fnOpts: st.FnOptions = { onUnusedInput: 'ignore', ...(opts.fnOpts ?? {}) };
  inputs.forEach((inp, i) => assert.equal(inp.value.length, sizeOf(inp.shape), `${label}: input ${i} has ${inp.value.length} values for shape [${inp.shape}]`));

  const vars = inputs.map((inp, i) =>
    T.tensor(inp.dtype ?? 'float64', opts.unknownDims ? inp.shape.map(() => null) : inp.shape, inp.name ?? `x${i}`),
  );
  const built = build(...vars);
  const outs = Array.isArray(built) ? built : [built];
  const base = inputs.map((inp) => makeTensor(inp.value, inp.shape, inp.dtype));

  // concrete output shapes (dims may be unknown until run time)
  const probe = st.fn(vars, outs, fnOpts);
  const probed = probe.sync(...base) as st.Tensor[];
  probe.dispose();
  const rng = new Rng(opts.seed ?? hashLabel(label));
  const projections = outs.map((o, k) => {
    const t = probed[k];
    assert.ok(o.dtype === 'float64' || o.dtype === 'float32', `${label}: output ${k} is ${o.dtype}, not a float`);
    const vals = f64(t);
    assert.ok(vals.length > 0, `${label}: output ${k} is empty, so the check would prove nothing`);
    vals.forEach((v, i) => assert.ok(Number.isFinite(v), `${label}: output ${k}${fmtIndex(i, t.shape)} is ${v} at the base point`));
    const r = T.constant(makeTensor(uniform(rng, sizeOf(t.shape), 0.5, 1.5).map((v, i) => (i % 2 ? -v : v)), t.shape, o.dtype));
    t.dispose();
    return r;
  });
  let cost: st.Variable | null = null;
  outs.forEach((o, k) => {
    const term = T.sum(T.mul(o, projections[k]));
    cost = cost ? T.add(cost, term) : term;
  });
  const wrtIdx = inputs.flatMap((inp, i) => (inp.fixed ? [] : [i]));
  const grads = st.grad(cost!, wrtIdx.map((i) => vars[i]), { consider: opts.consider });
  grads.forEach((g, k) => {
    const inp = inputs[wrtIdx[k]];
    assert.ok(g, `${label}: no gradient for input ${wrtIdx[k]}`);
    assert.equal(g.dtype, inp.dtype ?? 'float64', `${label}: dtype of the gradient of input ${wrtIdx[k]}`);
    assert.equal(g.ndim, inp.shape.length, `${label}: rank of the gradient of input ${wrtIdx[k]}`);
  });

  const costFn = st.fn(vars, cost!, fnOpts);
  const gradFn = st.fn(vars, grads as st.Variable[], fnOpts);
  try {
    const gts = gradFn.sync(...base) as st.Tensor[];
    const analytic = gts.map((t, k) => {
      assert.deepEqual(t.shape, inputs[wrtIdx[k]].shape, `${label}: shape of the gradient of input ${wrtIdx[k]}`);
      const a = f64(t);
      t.dispose();
      return a;
    });
    const numeric = wrtIdx.map((i) => {
      const inp = inputs[i];
      const vals = Float64Array.from(inp.value);
      const out = new Float64Array(vals.length);
      const args = base.slice();
      for (let j = 0; j < vals.length; j++) {
        const x0 = vals[j];
        vals[j] = x0 + eps;
        args[i] = makeTensor(vals, inp.shape, inp.dtype);
        const cp = runCost(costFn, args);
        args[i].dispose();
        vals[j] = x0 - eps;
        args[i] = makeTensor(vals, inp.shape, inp.dtype);
        const cm = runCost(costFn, args);
        args[i].dispose();
        vals[j] = x0;
        out[j] = (cp - cm) / (2 * eps);
      }
      return out;
    });

    let maxErr = 0;
    const bad: string[] = [];
    wrtIdx.forEach((i, k) => {
      const a = analytic[k], n = numeric[k];
      for (let j = 0; j < a.length; j++) {
        const err = Math.abs(a[j] - n[j]);
        if (Number.isFinite(err)) maxErr = Math.max(maxErr, err / Math.max(1, Math.abs(n[j])));
        const ok = Number.isFinite(a[j]) && err <= atol + rtol * Math.max(Math.abs(a[j]), Math.abs(n[j]));
        if (!ok && bad.length < 6) bad.push(`d/d${vars[i].name}${fmtIndex(j, inputs[i].shape)}: st.grad ${a[j]}, finite differences ${n[j]}`);
      }
    });
    if (bad.length) assert.fail(`${label}: ${bad.join('; ')}`);
    return { analytic, numeric, maxErr };
  } finally {
    costFn.dispose();
    gradFn.dispose();
    base.forEach((t) => t.dispose());
  }
}

/** Central-difference Jacobian of a vector function of a flat vector: rows are outputs. */
export function numericJacobian(f: (x: Float64Array) => Float64Array, x: ArrayLike<number>, eps = 1e-6): number[][] {
  const v = Float64Array.from(x);
  const cols: Float64Array[] = [];
  for (let j = 0; j < v.length; j++) {
    const x0 = v[j];
    v[j] = x0 + eps;
    const p = f(v);
    v[j] = x0 - eps;
    const m = f(v);
    v[j] = x0;
    cols.push(p.map((pv, i) => (pv - m[i]) / (2 * eps)));
  }
  const rows = cols.length ? cols[0].length : 0;
  return Array.from({ length: rows }, (_, i) => cols.map((c) => c[i]));
}

/** The shape two shapes broadcast to (right-aligned). */
export function broadcastShapes(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    return da === 1 ? db : da;
  });
}

/** For each element of a tensor of `shape`, the flat indices of the elements of `other` it meets under broadcasting. */
export function partners(shape: number[], other: number[]): number[][] {
  const out = broadcastShapes(shape, other);
  const ia = broadcastIndex(out, shape), ib = broadcastIndex(out, other);
  const res: number[][] = Array.from({ length: sizeOf(shape) }, () => []);
  ia.forEach((i, f) => res[i].push(ib[f]));
  return res;
}

/**
 * Values for a tensor of `shape`, each drawn from gen until ok(value, w) holds for every element w
 * of `otherValues` (shaped `otherShape`) that it meets under broadcasting.
 */
export function sampleAgainst(
  rng: Rng,
  shape: number[],
  otherValues: ArrayLike<number>,
  otherShape: number[],
  gen: (rng: Rng) => number,
  ok: (v: number, w: number) => boolean,
): number[] {
  return partners(shape, otherShape).map((js) => {
    for (let tries = 0; tries < 10000; tries++) {
      const v = gen(rng);
      if (js.every((j) => ok(v, otherValues[j]))) return v;
    }
    throw new Error('sampleAgainst: no admissible value found');
  });
}
