// Small graph builders the gradient rules share.
import { DType } from '../../dtype';
import { Variable, applyOp1 } from '../variable';
import { Reduce } from './reduce';
import { Cast, DimShuffle } from './shape';

export function cast(v: Variable, dtype: DType): Variable {
  return v.dtype === dtype ? v : applyOp1(new Cast(dtype), [v]);
}

/**
 * Sums g over the axes along which `like` was broadcast: extra leading axes, and axes where like
 * has a static size of 1 (unknown dims are never assumed to broadcast).
 */
export function sumToShape(g: Variable, like: Variable): Variable {
  const lead = g.ndim - like.ndim;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead) axes.push(i);
    else if (like.staticShape[i - lead] === 1 && g.staticShape[i] !== 1) axes.push(i);
  }
  if (!axes.length) return g;
  const summed = applyOp1(new Reduce('sum', axes, true), [g]);
  if (!lead) return summed;
  // drop the (now size-1) leading axes
  return applyOp1(new DimShuffle([...Array(like.ndim).keys()].map((i) => i + lead)), [summed]);
}
