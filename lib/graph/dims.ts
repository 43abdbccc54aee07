// Shape inference with unknown (null) dimensions.  Unknown dims are checked at run time, when the
// function is specialized for concrete input shapes.
import { shapeError, fmtShape } from '../errors';
import type { Dim } from './variable';

/** numpy broadcasting where null means "unknown, assumed to fit" (never assumed to be 1). */
export function broadcastDims(op: string, shapes: Dim[][]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let known: number | null = null;
    let unknown = false;
    for (const s of shapes) {
      const d = s[i - rank + s.length];
      if (d === undefined || d === 1) continue;
      if (d === null) unknown = true;
      else if (known === null) known = d;
      else if (known !== d) throw shapeError(op, `shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together`);
    }
    out.push(known !== null ? known : unknown ? null : 1);
  }
  return out;
}

/**
 * The sizes an input of rank `rank` is stretched to when broadcast (right-aligned) to `target`,
 * one per input axis (null where target has no axis).
 */
export function alignRight(rank: number, target: readonly Dim[]): Dim[] {
  return [...Array(rank).keys()].map((k) => target[k - rank + target.length] ?? null);
}

/** broadcastTargets of an elementwise op: every input stretched to the (first) output's shape. */
export function elementwiseTargets(inputs: { shape: Dim[] }[], outputs: { shape: Dim[] }[]): Dim[][] {
  return inputs.map((i) => alignRight(i.shape.length, outputs[0].shape));
}

export function isKnown(shape: Dim[]): shape is number[] {
  return shape.every((d) => d !== null);
}

export function prodDims(dims: Dim[]): Dim {
  let n = 1;
  for (const d of dims) {
    if (d === 0) return 0;
    if (d === null) return null;
    n *= d;
  }
  return n;
}
