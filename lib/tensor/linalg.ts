// matmul (batched, broadcasting batch dims), dot, outer.
import { upcast } from '../dtype';
import { argError, fmtShape, shapeError } from '../errors';
import { Op } from '../ops.generated';
import { broadcastShapes, sizeOf } from './shape-util';
import { Tensor, TensorLike } from './tensor';
import { castWith, mul } from './elementwise';
import { Emitter, Val, eager } from './emitter';
import { reshape, transpose } from './shape-ops';
import { tensor } from './creation';

function asTensor(x: TensorLike): Tensor {
  return x instanceof Tensor ? x : tensor(x as never);
}

/**
 * Matrix product of the last two axes, batched over the others (numpy broadcasting).  A 1-D
 * operand is a row (a) or column (b) vector and its axis is dropped from the result.
 * @example st.matmul(x, w); st.matmul(q, k, false, true)
 */
export function matmul(x: TensorLike, y: TensorLike, transposeA = false, transposeB = false): Tensor {
  return matmulWith(eager, asTensor(x), asTensor(y), transposeA, transposeB);
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
 * numpy's dot: vector·vector is a scalar, matrix·matrix a matmul, and N-D·M-D sums over the last
 * axis of x and the second-to-last of y.
 */
export function dot(x: TensorLike, y: TensorLike): Tensor {
  const op = 'dot';
  const a = asTensor(x);
  const b = asTensor(y);
  if (a.rank === 0 || b.rank === 0) return mul(a, b);
  if (b.rank <= 2) return matmul(a, b);
  // general case: contract a's last axis with b's second-to-last
  const k = a.shape[a.rank - 1];
  if (b.shape[b.rank - 2] !== k) throw shapeError(op, `cannot contract ${fmtShape(a.shape)} with ${fmtShape(b.shape)} (${k} vs ${b.shape[b.rank - 2]})`, [a.shape, b.shape]);
  const perm = [b.rank - 2, ...[...Array(b.rank).keys()].filter((i) => i !== b.rank - 2)];
  const bt = transpose(b, perm);
  const b2 = reshape(bt, [k, sizeOf(bt.shape) / (k || 1)]);
  const a2 = reshape(a, [sizeOf(a.shape) / (k || 1), k]);
  const r = matmul(a2, b2);
  const out = reshape(r, [...a.shape.slice(0, -1), ...b.shape.slice(0, -2), b.shape[b.rank - 1]]);
  for (const t of [bt, b2, a2, r]) t.dispose();
  return out;
}

/** Outer product of two vectors (inputs are flattened). */
export function outer(x: TensorLike, y: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(y);
  if (a.rank > 1 || b.rank > 1) throw argError('outer', `expects vectors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const col = reshape(a, [a.size, 1]);
  const row = reshape(b, [1, b.size]);
  const out = mul(col, row);
  col.dispose();
  row.dispose();
  return out;
}
