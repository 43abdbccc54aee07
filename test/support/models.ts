// Helpers for the model tests: a call context that records what layers add, a graph compiled and
// run once, a layer applied to a float64 input of unknown batch size, and seeded layer data.
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
