// The eager instance of the OpSet composites are written against (lib/tensor/composites.ts): each
// primitive runs now.  Entries look their function up when called, so this module may load before
// the op modules it reads (they import it back).
import * as ew from './elementwise';
import * as red from './reduction';
import * as la from './linalg';
import * as sh from './shape-ops';
import { fmtShape, shapeError } from '../errors';
import { eager } from './emitter';
import { sizeOf } from './shape-util';
import type { OpSet } from './composites';
import type { Tensor } from './tensor';

export const eagerOps: OpSet<Tensor> = {
  cast: (x, dtype) => ew.cast(x, dtype),
  add: (a, b) => ew.add(a, b),
  sub: (a, b) => ew.sub(a, b),
  mul: (a, b) => ew.mul(a, b),
  notEqual: (a, b) => ew.notEqual(a, b),
  exp: (x) => ew.exp(x),
  log: (x) => ew.log(x),
  sqrt: (x) => ew.sqrt(x),
  isFinite: (x) => ew.isFinite(x),
  select: (c, a, b) => ew.applyEw('where', [c, a, b]),
  sum: (x, axes, keepDims) => red.reduceWith(eager, 'sum', x, axes, keepDims),
  mean: (x, axes, keepDims) => red.reduceWith(eager, 'mean', x, axes, keepDims),
  max: (x, axes, keepDims) => red.reduceWith(eager, 'max', x, axes, keepDims),
  argReduce: (which, x, axis, keepDims) => red.argReduceWith(eager, which, x, axis, keepDims),
  matmul: (a, b) => la.matmul(a, b),
  reshape: (x, shape) => sh.reshape(x, shape),
  transpose: (x, perm) => sh.transpose(x, perm),
  expandDims: (x, axis) => sh.expandDims(x, axis),
  squeeze: (x, axes) => sh.squeeze(x, axes),
  concat: (xs, axis) => sh.concat(xs, axis),
  slice: (x, begin, size) => sh.slice(x, begin, size),
  stridedSlice: (x, begin, end) => sh.stridedSlice(x, begin, end),
  flatten2d: (x, split) => x.view([sizeOf(x.shape.slice(0, split)), sizeOf(x.shape.slice(split))], 'dot'),
  dotUnflatten: (r, a, b) => r.view([...a.shape.slice(0, -1), ...b.shape.slice(0, -2), b.shape[b.rank - 1]], 'dot'),
  expectDim: (x, axis, size, op, atLeast) => {
    if (atLeast ? x.shape[axis] < size : x.shape[axis] !== size)
      throw shapeError(op, `axis ${axis} of ${fmtShape(x.shape)} has size ${x.shape[axis]}, not ${atLeast ? 'at least ' : ''}${size}`, [x.shape]);
    return x;
  },
  stopGradient: (x) => x,
  release: (t) => t.dispose(),
};
