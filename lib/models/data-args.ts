// What fit/evaluate/predict accept as x, y and sample weights, turned into tensors and checked
// against the model before any step runs.
import { DType } from '../dtype';
import { SymtensorError, argError, fmtShape } from '../errors';
import { tensor } from '../tensor/creation';
import { Tensor } from '../tensor/tensor';
import type { NestedArray, TensorData } from '../tensor/convert';
import type { Shape } from './layer';

/** One input or target: a tensor, nested arrays, or a flat typed array (shaped like the model's input). */
export type DataArg = Tensor | TensorData | NestedArray;
/** One array per model input (or output), or one when the model has one. */
export type DataArgs = DataArg | DataArg[] | Record<string, DataArg>;

const isTyped = (a: unknown): boolean => ArrayBuffer.isView(a) && !(a instanceof DataView);

/** True when `a` is a list of per-input arrays rather than one nested array. */
function isList(a: unknown): a is DataArg[] {
  return Array.isArray(a) && a.length > 0 && a.every((e) => e instanceof Tensor || isTyped(e));
}

/**
 * Tensors for each of `names` (the model's inputs or outputs) from what the user passed.
 * `shapes` are the expected shapes (batch first); flat typed arrays are shaped by them.
 */
export function toTensors(op: string, what: string, arg: DataArgs, names: string[], shapes: Shape[], dtypes: (DType | null)[]): { tensors: Tensor[]; owned: Tensor[] } {
  let items: DataArg[];
  if (arg === undefined || arg === null) throw argError(op, `${what} is missing`);
  if (isList(arg) && (names.length > 1 || arg.length === 1)) items = arg;
  else if (!Array.isArray(arg) && !(arg instanceof Tensor) && !isTyped(arg) && typeof arg === 'object') {
    const rec = arg as Record<string, DataArg>;
    const unknown = Object.keys(rec).filter((k) => !names.includes(k));
    if (unknown.length) throw argError(op, `${what}: no model ${what === 'x' ? 'input' : 'output'} is named ${unknown.join(', ')} (names: ${names.join(', ')})`);
    items = names.map((n) => {
      if (!(n in rec)) throw argError(op, `${what}: missing an entry for '${n}'`);
      return rec[n];
    });
  } else items = [arg as DataArg];
  if (items.length !== names.length)
    throw argError(op, `${what}: the model has ${names.length} ${what === 'x' ? 'inputs' : 'outputs'} (${names.join(', ')}) but ${items.length} arrays were given`);
  const owned: Tensor[] = [];
  const tensors = items.map((item, i) => {
    if (item instanceof Tensor) {
      if (item.isDisposed) throw new SymtensorError('ERR_ST_DISPOSED', op, `${what} for '${names[i]}' is a disposed tensor`);
      return item;
    }
    let t: Tensor;
    if (isTyped(item)) {
      const flat = item as ArrayLike<number>;
      const feat = shapes[i].slice(1);
      if (feat.some((d) => d === null)) throw argError(op, `${what} for '${names[i]}': a flat typed array needs a fully known feature shape, but the model expects ${fmtShape(shapes[i])}; pass a tensor`);
      const per = (feat as number[]).reduce((a, b) => a * b, 1);
      if (per === 0 || flat.length % per !== 0)
        throw new SymtensorError('ERR_ST_SHAPE', op, `${what} for '${names[i]}': ${flat.length} values are not a whole number of samples of shape ${fmtShape(feat)}`);
      t = tensor(item as TensorData, { shape: [flat.length / per, ...(feat as number[])], ...(dtypes[i] ? { dtype: dtypes[i]! } : {}) });
    } else {
      t = tensor(item as TensorData, dtypes[i] ? { dtype: dtypes[i]! } : {});
    }
    owned.push(t);
    return t;
  });
  return { tensors, owned };
}

/** Checks each tensor's feature dims against the expected shapes, naming the layer and both shapes. */
export function checkFeatureShapes(op: string, what: string, tensors: Tensor[], names: string[], shapes: Shape[]): void {
  tensors.forEach((t, i) => {
    const want = shapes[i];
    const ok = t.shape.length === want.length && want.every((d, k) => k === 0 || d === null || d === t.shape[k]);
    if (!ok)
      throw new SymtensorError('ERR_ST_SHAPE', op, `${what} for '${names[i]}' has shape ${fmtShape(t.shape)}, but the layer expects ${fmtShape(want)} (batch first)`);
  });
}

/** The number of samples, the same in every array. */
export function sampleCount(op: string, groups: { what: string; tensors: Tensor[]; names: string[] }[]): number {
  let n: number | null = null;
  let first = '';
  for (const g of groups) {
    g.tensors.forEach((t, i) => {
      if (t.shape.length === 0) throw new SymtensorError('ERR_ST_SHAPE', op, `${g.what} for '${g.names[i]}' is a scalar; expected a batch of samples`);
      const here = `${g.what} '${g.names[i]}' (${t.shape[0]} samples)`;
      if (n === null) {
        n = t.shape[0];
        first = here;
      } else if (t.shape[0] !== n) throw new SymtensorError('ERR_ST_SHAPE', op, `${here} and ${first} differ in length`);
    });
  }
  if (n === null || n === 0) throw argError(op, 'no samples given');
  return n;
}
