// matmul (batched, broadcasting batch dims), dot, outer.
import { upcast } from '../dtype';
import { argError, fmtShape, fmtValue, reportedAs, shapeError } from '../errors';
import { Op } from '../ops.generated';
import { broadcastShapes } from './shape-util';
import { Tensor, TensorLike } from './tensor';
import { castWith } from './elementwise';
import { Emitter, Val, eager } from './emitter';
import * as composites from './composites';
import { eagerOps } from './eager-ops';
import { asTensor } from './creation';

/**
 * Matrix product of the last two axes, batched over the others (numpy broadcasting).  A 1-D
 * operand is a row (a) or column (b) vector and its axis is dropped from the result.
 * @example st.matmul(x, w); st.matmul(q, k, false, true)
 */
export function matmul(x: TensorLike, y: TensorLike, transposeA = false, transposeB = false): Tensor {
  checkFlag('matmul', 'transposeA', transposeA);
  checkFlag('matmul', 'transposeB', transposeB);
  return matmulWith(eager, asTensor('matmul', x, undefined, 'a'), asTensor('matmul', y, undefined, 'b'), transposeA, transposeB);
}

/** A true/false argument: anything else (1, 'yes') is an error rather than a guess. */
function checkFlag(op: string, name: string, v: unknown): void {
  if (typeof v !== 'boolean') throw argError(op, `${name} must be true or false, got ${fmtValue(v)}`);
}

export function matmulWith<V extends Val>(em: Emitter<V>, origA: V, origB: V, transposeA = false, transposeB = false): V {
  const op = 'matmul';
  let a = origA;
  let b = origB;
  if (a.shape.length === 0 || b.shape.length === 0) throw shapeError(op, `operands must have rank >= 1, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`, [a.shape, b.shape]);
  const vecA = a.shape.length === 1, vecB = b.shape.length === 1;
  if (vecA) (a = em.view(a, [1, a.shape[0]], op)), (transposeA = false);
  if (vecB) (b = em.view(b, [b.shape[0], 1], op)), (transposeB = false);
  const ra = a.shape.length, rb = b.shape.length;
  const [m, ka] = transposeA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transposeB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (ka !== kb)
    throw shapeError(op, `cannot multiply ${fmtShape(origA.shape)}${transposeA ? 'ᵀ' : ''} by ${fmtShape(origB.shape)}${transposeB ? 'ᵀ' : ''} (inner dimensions ${ka} and ${kb})`, [origA.shape, origB.shape]);
  const batch = broadcastShapes(op, a.shape.slice(0, -2), b.shape.slice(0, -2));
  const dtype = upcast(a.dtype, b.dtype);
  const ca = a.dtype === dtype ? a : castWith(em, a, dtype);
  const cb = b.dtype === dtype ? b : castWith(em, b, dtype);
  const out = em.emit(op, Op.MATMUL, [ca, cb], [{ dtype, shape: [...batch, m, n] }], [transposeA ? 1 : 0, transposeB ? 1 : 0])[0];
  for (const [t, o] of [[ca, a], [cb, b], [a, origA], [b, origB]] as const) if (t !== o) em.release(t);
  if (!vecA && !vecB) return out;
  const res = em.view(out, [...batch, ...(vecA ? [] : [m]), ...(vecB ? [] : [n])], op);
  em.release(out);
  return res;
}

/**
 * numpy's dot (see composites.dot): vector·vector is a scalar, N-D·M-D contracts a's last axis with
 * b's second-to-last.  Its errors name dot (the matmul inside is a detail).
 */
export function dot(x: TensorLike, y: TensorLike): Tensor {
  return reportedAs('dot', () => composites.dot(eagerOps, asTensor('dot', x, undefined, 'a'), asTensor('dot', y, undefined, 'b')));
}

/** numpy's outer product: both operands are flattened; out[i, j] = x[i] * y[j]. */
export function outer(x: TensorLike, y: TensorLike): Tensor {
  return composites.outer(eagerOps, asTensor('outer', x, undefined, 'a'), asTensor('outer', y, undefined, 'b'));
}
