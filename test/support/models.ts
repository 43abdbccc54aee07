// Helpers for the model tests: a call context that records what layers add, a graph compiled and
// run once, a layer applied to a float64 input of unknown batch size, seeded layer data, and
// comparisons of shared variables' values.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import type { CallContext, Layer } from '../../lib/models/layer';
import { f64 } from './fd';
import type { Rng } from './reference';

/** The number of elements of a shape. */
export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** n values drawn uniformly from [-1, 1). */
export const randoms = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform(-1, 1));

/** A context that keeps what a call adds: the state updates and the losses. */
export function collectingContext(training: boolean): { ctx: CallContext; updates: [st.SharedVariable, st.Variable][]; losses: st.Variable[] } {
  const updates: [st.SharedVariable, st.Variable][] = [];
  const losses: st.Variable[] = [];
  const ctx: CallContext = { training, addUpdate: (v, value) => updates.push([v, value]), addLoss: (l) => losses.push(l) };
  return { ctx, updates, losses };
}

/** Compiles the one-input graph x → y, runs it once on a value and frees the program. */
export function runOnce(x: st.Variable, y: st.Variable, value: st.Tensor): st.Tensor {
  const f = st.fn([x], y);
  const out = f.sync(value);
  f.dispose();
  return out;
}

/** Applies the layer to a float64 input of unknown batch size and runs it on `x` of shape `xs`. */
export function runLayer(layer: Layer, x: ArrayLike<number>, xs: number[]): { y: Float64Array; shape: number[]; static: (number | null)[] } {
  const v = st.T.tensor('float64', [null, ...xs.slice(1)], 'x');
  const out = layer.apply(v) as st.Variable;
  const t = runOnce(v, out, st.tensor(Float64Array.from(x), { shape: xs, dtype: 'float64' }));
  const res = { y: f64(t), shape: t.shape.slice(), static: out.type.shape.slice() };
  t.dispose();
  return res;
}

/** A shared variable's values as plain numbers. */
export const sharedValues = (v: st.SharedVariable): number[] => {
  const t = v.get();
  const out = Array.from(t.dataSync() as ArrayLike<number>);
  t.dispose();
  return out;
};

/** Asserts got ≈ exp elementwise, to `tol` relative (absolute below 1). */
export function closeTo(got: number[], exp: number[], what: string, tol: number): void {
  assert.equal(got.length, exp.length, `${what}: length`);
  for (let i = 0; i < exp.length; i++)
    assert.ok(Math.abs(got[i] - exp[i]) <= tol * Math.max(1, Math.abs(exp[i])), `${what}[${i}]: got ${got[i]}, expected ${exp[i]}`);
}
