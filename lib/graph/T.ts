/**
 * The symbolic namespace (Theano's T): variables and every op, building graph nodes whose shapes
 * and dtypes are checked here, at the line that builds them.
 * @example const X = T.matrix('X'); const y = T.tanh(T.dot(X, W).add(b));
 */
import { DType, isDType } from '../dtype';
import { argError, dtypeError, fmtShape, fmtValue, shapeError } from '../errors';
import { arange as arangeTensor, indexTensor, tensor } from '../tensor/creation';
import { NestedArray } from '../tensor/convert';
import { EwName, checkNum } from '../tensor/elementwise';
import * as composites from '../tensor/composites';
import type { OpSet } from '../tensor/composites';
import type { ReduceOp } from '../tensor/reduction';
import type { Conv2dOptions, Pool2dOptions } from '../tensor/nn';
import { MAX_RANK, normAxes, normAxis, squeezeAxes } from '../tensor/shape-util';
import { Tensor } from '../tensor/tensor';
import { Constant, Dim, InputVariable, Variable, applyOp1, applyOp } from './variable';
import { ew } from './ops/elemwise';
import { ArgReduce, Reduce } from './ops/reduce';
import { MatMul } from './ops/linalg';
import {
  BroadcastTo, Cast, Concat, DimShuffle, DotUnflatten, ExpectDim, Flatten2D, Gather, OneHot, Pad, Reshape, Slice, StridedSlice,
  Tile, Transpose,
} from './ops/shape';
import { Conv2d, Conv2dGradFilter, Conv2dGradInput, Pool2d, Pool2dGrad, Softmax } from './ops/nn';
import { IfElse, StopGradient } from './ops/control';
import { CrossEntropySoftmax, labelsFit } from './ops/loss';
import { Alloc, Arange, ReshapeTo } from './ops/shape-values';
import { ShapeArg, parseShape } from './symbolic-shape';
import { Index, SliceSpec, dynamicSlice, incSubtensor, setSubtensor } from './indexing';

/** Anything a T op takes: variables, numbers (weak scalars), eager tensors and nested arrays (constants). */
export type VarLike = Variable | number | boolean | Tensor | NestedArray;

/** A constant from a number, array or eager tensor. */
export function constant(value: number | boolean | Tensor | NestedArray, name?: string, dtype?: DType): Constant {
  // a private copy: disposing the caller's tensor later must not affect the graph
  const t = value instanceof Tensor ? value.cast(dtype ?? value.dtype) : tensor(value as NestedArray, dtype ? { dtype } : {});
  return new Constant(t, name);
}

function asVar(x: VarLike): Variable {
  if (x instanceof Variable) return x;
  return constant(x as NestedArray);
}

/** Numbers stay numbers (weak scalars); everything else becomes a variable. */
function asArg(x: VarLike): Variable | number {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  return asVar(x);
}

// ---- variables ----
function checkDtype(op: string, d: unknown): DType {
  if (!isDType(d)) throw dtypeError(op, `unknown dtype ${fmtValue(d)} (use float32, float64, int32 or bool)`);
  return d;
}

/**
 * A symbolic input of dtype and rank (or shape, with null for unknown dims).
 * @example T.tensor('float32', [null, 28, 28, 1], 'images')
 */
export function tensorVar(dtype: DType, ndimOrShape: number | Dim[], name?: string): InputVariable {
  checkDtype('T.tensor', dtype);
  // the rank is checked before an array of that length is made
  if (typeof ndimOrShape === 'number' ? !Number.isInteger(ndimOrShape) || ndimOrShape < 0 : !Array.isArray(ndimOrShape))
    throw argError('T.tensor', `expected a rank (a non-negative integer) or a shape array, got ${fmtValue(ndimOrShape)}`);
  const rank = typeof ndimOrShape === 'number' ? ndimOrShape : ndimOrShape.length;
  if (rank > MAX_RANK) throw shapeError('T.tensor', `rank ${rank} is above the maximum ${MAX_RANK}`);
  const shape = typeof ndimOrShape === 'number' ? new Array<Dim>(ndimOrShape).fill(null) : ndimOrShape.slice();
  for (const d of shape) if (d !== null && (typeof d !== 'number' || !Number.isInteger(d) || d < 0)) throw shapeError('T.tensor', `bad shape ${fmtValue(ndimOrShape)}`);
  return new InputVariable({ dtype, shape }, null, 0, name);
}
export { tensorVar as tensor };

export const scalar = (name?: string, dtype: DType = 'float32') => tensorVar(dtype, 0, name);
export const vector = (name?: string, dtype: DType = 'float32') => tensorVar(dtype, 1, name);
export const matrix = (name?: string, dtype: DType = 'float32') => tensorVar(dtype, 2, name);
export const tensor3 = (name?: string, dtype: DType = 'float32') => tensorVar(dtype, 3, name);
export const tensor4 = (name?: string, dtype: DType = 'float32') => tensorVar(dtype, 4, name);
// Theano's typed constructors: f float32, d float64, i int32; l (Theano's int64) is int32 here,
// the widest integer dtype symtensor has.
export const iscalar = (name?: string) => tensorVar('int32', 0, name);
export const ivector = (name?: string) => tensorVar('int32', 1, name);
export const imatrix = (name?: string) => tensorVar('int32', 2, name);
export const fscalar = (name?: string) => tensorVar('float32', 0, name);
export const fvector = (name?: string) => tensorVar('float32', 1, name);
export const fmatrix = (name?: string) => tensorVar('float32', 2, name);
export const ftensor3 = (name?: string) => tensorVar('float32', 3, name);
export const ftensor4 = (name?: string) => tensorVar('float32', 4, name);
export const dscalar = (name?: string) => tensorVar('float64', 0, name);
export const dvector = (name?: string) => tensorVar('float64', 1, name);
export const dmatrix = (name?: string) => tensorVar('float64', 2, name);
export const dtensor3 = (name?: string) => tensorVar('float64', 3, name);
export const dtensor4 = (name?: string) => tensorVar('float64', 4, name);
/** Theano's int64 scalar; symtensor's widest integer is int32, so this is T.iscalar. */
export const lscalar = iscalar;
/** Theano's int64 vector; int32 here (see lscalar). */
export const lvector = ivector;
/** Theano's int64 matrix; int32 here (see lscalar). */
export const lmatrix = imatrix;

/** Names as separate arguments, or Theano's one comma- or space-separated string. */
function namesOf(op: string, names: string[]): string[] {
  const list = names.length === 1 ? names[0].split(/[\s,]+/).filter(Boolean) : names;
  if (!list.length || list.some((n) => typeof n !== 'string')) throw argError(op, `expected variable names, got ${fmtValue(names)}`);
  return list;
}
/**
 * Several float32 inputs at once (Theano's scalars/vectors/matrices).
 * @example const [a, b] = T.scalars('a', 'b'); // or T.scalars('a, b')
 */
export const scalars = (...names: string[]) => namesOf('T.scalars', names).map((n) => scalar(n));
/** Several float32 vectors at once (see scalars). */
export const vectors = (...names: string[]) => namesOf('T.vectors', names).map((n) => vector(n));
/** Several float32 matrices at once (see scalars). */
export const matrices = (...names: string[]) => namesOf('T.matrices', names).map((n) => matrix(n));

// ---- elementwise ----
const un = (name: EwName) => (x: VarLike): Variable => ew(name, [asVar(x)]);
const bin = (name: EwName) => (x: VarLike, y: VarLike): Variable => ew(name, [asArg(x), asArg(y)]);

export const neg = un('neg');
export const abs = un('abs');
export const sign = un('sign');
export const exp = un('exp');
export const expm1 = un('expm1');
export const log = un('log');
export const log1p = un('log1p');
export const sqrt = un('sqrt');
export const rsqrt = un('rsqrt');
export const square = un('square');
export const reciprocal = un('reciprocal');
export const sin = un('sin');
export const cos = un('cos');
export const tanh = un('tanh');
export const sigmoid = un('sigmoid');
export const relu = un('relu');
export const selu = un('selu');
export const gelu = un('gelu');
export const softplus = un('softplus');
export const erf = un('erf');
export const floor = un('floor');
export const ceil = un('ceil');
export const round = un('round');
export const isNaN = un('isNaN');
export const isFinite = un('isFinite');
export const logicalNot = un('logicalNot');
export const add = bin('add');
export const sub = bin('sub');
export const mul = bin('mul');
export const div = bin('div');
export const pow = bin('pow');
export const maximum = bin('maximum');
export const minimum = bin('minimum');
export const mod = bin('mod');
export const equal = bin('equal');
export const notEqual = bin('notEqual');
export const less = bin('less');
export const lessEqual = bin('lessEqual');
export const greater = bin('greater');
export const greaterEqual = bin('greaterEqual');
export const logicalAnd = bin('logicalAnd');
export const logicalOr = bin('logicalOr');
// Theano's short names for the same functions
export { equal as eq, notEqual as neq, less as lt, greater as gt, lessEqual as le, greaterEqual as ge, square as sqr };

export function leakyRelu(x: VarLike, alpha = 0.2): Variable {
  return ew('leakyRelu', [asVar(x)], [checkNum('leakyRelu', 'alpha', alpha)]);
}
export function elu(x: VarLike, alpha = 1): Variable {
  return ew('elu', [asVar(x)], [checkNum('elu', 'alpha', alpha)]);
}
export function clip(x: VarLike, min: number, max: number): Variable {
  checkNum('clip', 'min', min);
  checkNum('clip', 'max', max);
  if (min > max) throw argError('clip', `min (${min}) is greater than max (${max})`);
  return ew('clip', [asVar(x)], [min, max]);
}

/** cond ? a : b elementwise (Theano's switch; see composites.where). */
export function where(cond: VarLike, a: VarLike, b: VarLike): Variable {
  return composites.where(ops, asArg(cond), asArg(a), asArg(b));
}
export { where as switch };

export function cast(x: VarLike, dtype: DType): Variable {
  const v = asVar(x);
  checkDtype('cast', dtype);
  return applyOp1(new Cast(dtype), [v]);
}

// ---- reductions ----
function reducer(rop: ReduceOp) {
  return (x: VarLike, axis?: number | number[] | null, keepDims = false): Variable => {
    const v = asVar(x);
    return applyOp1(new Reduce(rop, normAxes(rop, axis, v.ndim), keepDims), [v]);
  };
}
export const sum = reducer('sum');
export const mean = reducer('mean');
export const prod = reducer('prod');
export const max = reducer('max');
export const min = reducer('min');
export const all = reducer('all');
export const any = reducer('any');

/** Index of the largest element along axis (of the flattened value when omitted). */
export function argmax(x: VarLike, axis?: number | null, keepDims = false): Variable {
  return composites.argReduce(ops, 'argmax', asVar(x), axis, keepDims);
}
/** Index of the smallest element along axis (of the flattened value when omitted). */
export function argmin(x: VarLike, axis?: number | null, keepDims = false): Variable {
  return composites.argReduce(ops, 'argmin', asVar(x), axis, keepDims);
}

/** Population variance over axes (see composites.variance). */
export function variance(x: VarLike, axis?: number | number[] | null, keepDims = false): Variable {
  return composites.variance(ops, asVar(x), axis, keepDims);
}

/** Population standard deviation over axes. */
export function std(x: VarLike, axis?: number | number[] | null, keepDims = false): Variable {
  return composites.std(ops, asVar(x), axis, keepDims);
}

/** log(sum(exp(x))) over axes, stable: the max is subtracted (and carries no gradient). */
export function logSumExp(x: VarLike, axis?: number | number[] | null, keepDims = false): Variable {
  return composites.logSumExp(ops, asVar(x), axis, keepDims);
}

// ---- linear algebra ----
/** Batched matrix product; 1-D operands are treated as row/column vectors and dropped from the result. */
export function matmul(x: VarLike, y: VarLike, transposeA = false, transposeB = false): Variable {
  let a = asVar(x), b = asVar(y);
  if (a.ndim === 0 || b.ndim === 0) throw shapeError('matmul', `operands must have rank >= 1, got ${fmtShape(a.staticShape)} and ${fmtShape(b.staticShape)}`);
  const vecA = a.ndim === 1, vecB = b.ndim === 1;
  // check the inner dimensions here, so the message names the operands as the user wrote them
  const ka = vecA ? a.staticShape[0] : a.staticShape[transposeA ? a.ndim - 2 : a.ndim - 1];
  const kb = vecB ? b.staticShape[0] : b.staticShape[transposeB ? b.ndim - 1 : b.ndim - 2];
  if (ka !== null && kb !== null && ka !== kb)
    throw shapeError('matmul', `cannot multiply ${a.describe()}${transposeA ? ' (transposed)' : ''} by ${b.describe()}${transposeB ? ' (transposed)' : ''}: inner dimensions ${ka} and ${kb} differ`);
  if (vecA) (a = dimshuffle(a, ['x', 0])), (transposeA = false);
  if (vecB) (b = dimshuffle(b, [0, 'x'])), (transposeB = false);
  let out = applyOp1(new MatMul(transposeA, transposeB), [a, b]);
  if (vecA) out = squeeze(out, out.ndim - 2);
  if (vecB) out = squeeze(out, out.ndim - 1);
  return out;
}

/** numpy's (and Theano's) dot: vector·vector is a scalar, N-D·M-D contracts x's last axis with y's second-to-last. */
export function dot(x: VarLike, y: VarLike): Variable {
  return composites.dot(ops, asVar(x), asVar(y));
}

/** numpy's outer product: both operands are flattened; out[i, j] = x[i] * y[j]. */
export function outer(x: VarLike, y: VarLike): Variable {
  return composites.outer(ops, asVar(x), asVar(y));
}

// ---- shape ----
/**
 * x with a new shape of the same size: numbers, int32 scalars (x.shape[0]) or a shape vector; one
 * entry may be -1 (inferred).  Static sizes are kept wherever they follow from the entries.
 * @example x.reshape([x.shape[0], -1])
 */
export function reshape(x: VarLike, shape: ShapeArg): Variable {
  const v = asVar(x);
  const p = parseShape('reshape', shape, true);
  if (p.numbers) return applyOp1(new Reshape(p.numbers), [v]);
  return applyOp1(new ReshapeTo(p.owners.map((o) => (o && o.of === v ? o.axis : null))), [v, p.vector()]);
}
export function flatten(x: VarLike): Variable {
  return reshape(x, [-1]);
}
/**
 * Theano's dimshuffle: the pattern lists input axes in their new order, 'x' inserts a size-1 axis.
 * Given as an array or, as in Theano, as separate arguments.
 * @example T.dimshuffle(v, ['x', 0]) // a row; the same as v.dimshuffle('x', 0)
 */
export function dimshuffle(x: VarLike, ...patternArgs: ((number | 'x')[] | number | 'x')[]): Variable {
  const pattern = patternArgs.length === 1 && Array.isArray(patternArgs[0]) ? patternArgs[0] : (patternArgs as (number | 'x')[]);
  if (pattern.some((p) => Array.isArray(p))) throw argError('dimshuffle', 'give the pattern as one array or as separate arguments, not both');
  const v = asVar(x);
  if (pattern.every((p, i) => p === i) && pattern.length === v.ndim) return v;
  return applyOp1(new DimShuffle(pattern.slice()), [v]);
}
export function transpose(x: VarLike, perm?: number[]): Variable {
  const v = asVar(x);
  const p = perm ?? [...Array(v.ndim).keys()].reverse();
  return applyOp1(new Transpose(p.map((a) => normAxis('transpose', a, v.ndim))), [v]);
}
export { transpose as permute };
export function expandDims(x: VarLike, axis = 0): Variable {
  const v = asVar(x);
  const a = normAxis('expandDims', axis, v.ndim + 1);
  const pattern: (number | 'x')[] = [...Array(v.ndim).keys()];
  pattern.splice(a, 0, 'x');
  return dimshuffle(v, pattern);
}
export function squeeze(x: VarLike, axis?: number | number[]): Variable {
  const v = asVar(x);
  const drop = squeezeAxes('squeeze', v.staticShape, axis);
  return dimshuffle(v, [...Array(v.ndim).keys()].filter((i) => !drop.includes(i)));
}
/** x broadcast to a shape (numbers, int32 scalars or a shape vector). */
export function broadcastTo(x: VarLike, shape: ShapeArg): Variable {
  const v = asVar(x);
  const p = parseShape('broadcastTo', shape);
  if (p.numbers) return applyOp1(new BroadcastTo(p.numbers), [v]);
  return add(v, alloc(constant(0, undefined, v.dtype === 'bool' ? 'int32' : v.dtype), p.vector()));
}

/**
 * Two forms.  `T.slice(x, begin, size)` (≡ `x.slice(begin, size)`): the block of x starting at
 * `begin` with `size` elements per axis (-1: to the end); begins may be int32 scalars computed
 * when the function runs (a begin that leaves no room is a run-time error), sizes must be known
 * from shapes and constants.  `T.slice(start, stop, step)` with a number, null or an int32 scalar
 * first: a slice for x.get([...]) (Python's start:stop:step).  TypeScript picks the slice form for
 * `T.slice(x, 1, 2)` with a variable x and numbers: write `x.slice(1, 2)` there.
 * @example trainX.slice(index.mul(batchSize), batchSize); x.get([T.slice(1, null), 0])
 */
export function slice(start: number | Variable | null, stop?: number | Variable | null, step?: number | null): SliceSpec;
// (the tensor form last: x.slice's method type is taken from it)
export function slice(x: VarLike, begin: number | Variable | (number | Variable)[], size?: number | Variable | (number | Variable)[]): Variable;
export function slice(x: unknown, begin?: unknown, size?: unknown): Variable | SliceSpec {
  if (x === null || x === undefined || typeof x === 'number' || (x instanceof Variable && x.ndim === 0))
    return new SliceSpec(x as number | Variable | null ?? null, (begin ?? null) as number | Variable | null, (size ?? null) as number | null);
  const b = Array.isArray(begin) ? begin.slice() : [begin];
  const s = size === undefined ? b.map(() => -1) : Array.isArray(size) ? size.slice() : [size];
  if (b.some((e) => e instanceof Variable) || s.some((e) => e instanceof Variable)) return dynamicSlice(asVar(x as VarLike), b as (number | Variable)[], s as (number | Variable)[]);
  return applyOp1(new Slice(b as number[], s as number[]), [asVar(x as VarLike)]);
}

export { setSubtensor, incSubtensor };
export type { Index };

/** The symbolic shape of x (x.shape): an int32 vector whose entries are int32 scalars. */
export function shape(x: VarLike) {
  return asVar(x).shape;
}

/** Theano's alloc: a scalar value repeated to a shape (numbers, int32 scalars or a shape vector). */
export function alloc(value: VarLike, shape: ShapeArg): Variable {
  return allocAs('alloc', value, shape);
}
function allocAs(op: string, value: VarLike, shape: ShapeArg): Variable {
  const v = asVar(value);
  if (v.ndim !== 0) throw shapeError(op, `the value must be a scalar, got ${v.describe()}`);
  const p = parseShape(op, shape);
  const vec = p.numbers ? constant(p.numbers, undefined, 'int32') : p.vector();
  return applyOp1(new Alloc(), [v, vec]);
}

/** A tensor of `shape` (numbers, int32 scalars or x.shape) filled with value (numpy's full). */
export function full(shape: ShapeArg, value: number | boolean | Variable, dtype?: DType): Variable {
  return fullAs('full', shape, value, dtype);
}
function fullAs(op: string, shape: ShapeArg, value: number | boolean | Variable, dtype?: DType): Variable {
  const d = dtype ?? (value instanceof Variable ? value.dtype : typeof value === 'boolean' ? 'bool' : 'float32');
  checkDtype(op, d);
  if (!(value instanceof Variable) && typeof value !== 'number' && typeof value !== 'boolean') throw argError(op, `value must be a number, boolean or scalar variable, got ${fmtValue(value)}`);
  const v = value instanceof Variable ? cast(value, d) : constant(Number(value), undefined, d);
  return allocAs(op, v, shape);
}
export { full as fill };
/** Zeros of a shape (numbers, int32 scalars or x.shape). @example T.zeros([x.shape[0], 10]) */
export function zeros(shape: ShapeArg, dtype: DType = 'float32'): Variable {
  return fullAs('zeros', shape, 0, dtype);
}
/** Ones of a shape (numbers, int32 scalars or x.shape). */
export function ones(shape: ShapeArg, dtype: DType = 'float32'): Variable {
  return fullAs('ones', shape, 1, dtype);
}
/** Zeros shaped like x (its run-time shape), of x's dtype unless given. */
export function zerosLike(x: VarLike, dtype?: DType): Variable {
  const v = asVar(x);
  return fullAs('zerosLike', v.shape, 0, dtype ?? v.dtype);
}
/** Ones shaped like x (its run-time shape), of x's dtype unless given. */
export function onesLike(x: VarLike, dtype?: DType): Variable {
  const v = asVar(x);
  return fullAs('onesLike', v.shape, 1, dtype ?? v.dtype);
}

/**
 * numpy's arange(start, stop, step): bounds are numbers or int32 scalars whose values follow
 * from shapes and constants (T.arange(y.shape[0])).  int32 unless every bound is a number and
 * one is not an integer (then float32), or dtype says otherwise.
 */
export function arange(start: number | Variable, stop?: number | Variable, step: number | Variable = 1, dtype?: DType): Variable {
  if (stop === undefined) [start, stop] = [0, start];
  const args = [start, stop, step];
  for (const a of args) if (!(a instanceof Variable) && (typeof a !== 'number' || !Number.isFinite(a))) throw argError('arange', `bounds must be finite numbers or int32 scalars, got ${fmtValue(a)}`);
  const allInt = args.every((a) => a instanceof Variable || Number.isInteger(a));
  const d = checkDtype('arange', dtype ?? (allInt ? 'int32' : 'float32'));
  if (args.every((a) => typeof a === 'number')) {
    const [a, b, c] = args as number[];
    return new Constant(arangeTensor(a, b, c, d));
  }
  if (!allInt) throw argError('arange', `with symbolic bounds the numbers must be integers, got ${fmtValue(args.filter((a) => typeof a === 'number'))}`);
  const vars = args.map((a) => (a instanceof Variable ? a : constant(a, undefined, 'int32')));
  for (const v of vars) if (v.dtype !== 'int32' || v.ndim !== 0) throw dtypeError('arange', `symbolic bounds must be int32 scalars, got ${v.describe()}`);
  return applyOp1(new Arange(d), vars);
}
export function stridedSlice(x: VarLike, begin: (number | null)[], end: (number | null)[], strides: (number | null)[] = []): Variable {
  return applyOp1(new StridedSlice(begin.slice(), end.slice(), strides.slice()), [asVar(x)]);
}
export function concat(xs: VarLike[], axis = 0): Variable {
  if (!Array.isArray(xs) || !xs.length) throw argError('concat', 'expected a non-empty array of tensors');
  const vs = xs.map(asVar);
  return applyOp1(new Concat(normAxis('concat', axis, vs[0].ndim)), vs);
}
export { concat as concatenate };
/** Joins values of one shape along a new axis (see composites.stack). */
export function stack(xs: VarLike[], axis = 0): Variable {
  if (!Array.isArray(xs) || !xs.length) throw argError('stack', 'expected a non-empty array of tensors');
  return composites.stack(ops, xs.map(asVar), axis);
}
/** Splits into equal parts or parts of the given sizes along axis (see composites.split). */
export function split(x: VarLike, numOrSizes: number | number[], axis = 0): Variable[] {
  return composites.split(ops, asVar(x), numOrSizes, axis);
}
export function tile(x: VarLike, reps: number[]): Variable {
  return applyOp1(new Tile(reps.slice()), [asVar(x)]);
}
export function pad(x: VarLike, paddings: [number, number][], value = 0): Variable {
  return applyOp1(new Pad(paddings.map((p) => [p[0], p[1]] as [number, number]), value), [asVar(x)]);
}
/** Indices as a constant, by eager gather's rule (int32 tensors, or JS integers in int32's range). */
function indexConstant(op: string, indices: VarLike): Constant {
  const t = indexTensor(op, indices);
  return t === indices ? constant(t) : new Constant(t);
}
export function gather(x: VarLike, indices: VarLike, axis = 0): Variable {
  const idx = indices instanceof Variable ? indices : indexConstant('gather', indices);
  return applyOp1(new Gather(axis), [asVar(x), idx]);
}
export function oneHot(indices: VarLike, depth: number, onValue = 1, offValue = 0, dtype: DType = 'float32'): Variable {
  const idx = indices instanceof Variable ? indices : indexConstant('oneHot', indices);
  if (!Number.isInteger(depth) || depth < 0) throw argError('oneHot', `depth must be a non-negative integer, got ${depth}`);
  return applyOp1(new OneHot(depth, onValue, offValue, dtype), [idx]);
}

// ---- nn ----
export function softmax(x: VarLike, axis = -1): Variable {
  return applyOp1(new Softmax(false, axis), [asVar(x)]);
}
export function logSoftmax(x: VarLike, axis = -1): Variable {
  return applyOp1(new Softmax(true, axis), [asVar(x)]);
}
export function conv2d(x: VarLike, filter: VarLike, opts: Conv2dOptions = {}): Variable {
  return applyOp1(new Conv2d({ ...opts }), [asVar(x), asVar(filter)]);
}
/** conv2d's input gradient; `like` supplies the input's shape. */
export function conv2dGradInput(dy: VarLike, filter: VarLike, like: Variable, opts: Conv2dOptions = {}): Variable {
  return applyOp1(new Conv2dGradInput({ ...opts }), [asVar(dy), asVar(filter), like]);
}
/** conv2d's filter gradient; `like` supplies the filter's shape. */
export function conv2dGradFilter(x: VarLike, dy: VarLike, like: Variable, opts: Conv2dOptions = {}): Variable {
  return applyOp1(new Conv2dGradFilter({ ...opts }), [asVar(x), asVar(dy), like]);
}
export function maxPool2d(x: VarLike, opts: Pool2dOptions = {}): Variable {
  return applyOp1(new Pool2d(true, { ...opts }), [asVar(x)]);
}
export function avgPool2d(x: VarLike, opts: Pool2dOptions = {}): Variable {
  return applyOp1(new Pool2d(false, { ...opts }), [asVar(x)]);
}
export function maxPool2dGrad(x: VarLike, dy: VarLike, opts: Pool2dOptions = {}): Variable {
  return applyOp1(new Pool2dGrad(true, { ...opts }), [asVar(x), asVar(dy)]);
}
export function avgPool2dGrad(x: VarLike, dy: VarLike, opts: Pool2dOptions = {}): Variable {
  return applyOp1(new Pool2dGrad(false, { ...opts }), [asVar(x), asVar(dy)]);
}

// ---- control ----
/** Lazy if: only the taken branch is computed.  cond must hold one element. */
export function ifelse(cond: VarLike, a: VarLike, b: VarLike): Variable {
  return applyOp1(new IfElse(), [asVar(cond), asVar(a), asVar(b)]);
}
/** x, with no gradient flowing through it. */
export function stopGradient(x: VarLike): Variable {
  return applyOp1(new StopGradient(), [asVar(x)]);
}

// ---- losses: (yTrue, yPred), Keras's order ----
/**
 * -sum(yTrue * log(yPred)) over the last axis.  When yPred is a softmax, the loss is computed
 * from its logits with one fused, stable op (and a stable gradient).
 */
export function categoricalCrossentropy(yTrue: VarLike, yPred: VarLike): Variable {
  const t = asVar(yTrue), p = asVar(yPred);
  if (p.owner?.op instanceof OneHot)
    throw argError('categoricalCrossentropy', `yPred is one-hot labels: losses take (yTrue, yPred), labels first (Theano's categorical_crossentropy took the predictions first)`);
  if (p.owner?.op instanceof Softmax && p.owner.op.name === 'softmax' && normAxis('softmax', p.owner.op.axis, p.ndim) === p.ndim - 1 && labelsFit(t, p))
    return applyOp1(new CrossEntropySoftmax(), [p.owner.inputs[0], t]);
  return neg(sum(mul(t, log(p)), -1));
}

/**
 * Theano's T.nnet names for the same functions.  The losses keep symtensor's (yTrue, yPred) order
 * (Theano's categorical_crossentropy took the predictions first).
 */
export const nnet = Object.freeze({
  sigmoid, softmax, logSoftmax, logsoftmax: logSoftmax, relu, elu, selu, softplus, conv2d,
  categoricalCrossentropy, binaryCrossentropy, sparseCategoricalCrossentropy,
});

/** categoricalCrossentropy with integer class labels. */
export function sparseCategoricalCrossentropy(yTrue: VarLike, yPred: VarLike): Variable {
  const p = asVar(yPred);
  const depth = p.staticShape[p.ndim - 1];
  if (depth === null) throw shapeError('sparseCategoricalCrossentropy', `the number of classes (last axis of ${fmtShape(p.staticShape)}) must be known`);
  let t = asVar(yTrue);
  if (t.dtype !== 'int32') t = cast(t, 'int32');
  return categoricalCrossentropy(oneHot(t, depth, 1, 0, p.dtype), p);
}

/** Elementwise -(y log p + (1 - y) log(1 - p)) (stable when p is a sigmoid). */
export function binaryCrossentropy(yTrue: VarLike, yPred: VarLike): Variable {
  const y = asVar(yTrue), p = asVar(yPred);
  if (p.owner?.op.name === 'sigmoid') {
    // log σ(z) = -softplus(-z), log(1 - σ(z)) = -softplus(z)
    const z = p.owner.inputs[0];
    return add(mul(y, softplus(neg(z))), mul(sub(1, y), softplus(z)));
  }
  return neg(add(mul(y, log(p)), mul(sub(1, y), log(sub(1, p)))));
}

// ---- the primitives the composites (lib/tensor/composites.ts) are built from ----
const ops: OpSet<Variable> = {
  cast: (x, dtype) => cast(x, dtype),
  add: (a, b) => add(a, b),
  sub: (a, b) => sub(a, b),
  mul: (a, b) => mul(a, b),
  notEqual: (a, b) => notEqual(a, b),
  exp: (x) => exp(x),
  log: (x) => log(x),
  sqrt: (x) => sqrt(x),
  isFinite: (x) => isFinite(x),
  select: (c, a, b) => ew('where', [c, a, b]),
  sum: (x, axes, keepDims) => applyOp1(new Reduce('sum', axes, keepDims), [x]),
  mean: (x, axes, keepDims) => applyOp1(new Reduce('mean', axes, keepDims), [x]),
  max: (x, axes, keepDims) => applyOp1(new Reduce('max', axes, keepDims), [x]),
  argReduce: (which, x, axis, keepDims) => applyOp1(new ArgReduce(which, axis, keepDims), [x]),
  matmul: (a, b) => matmul(a, b),
  reshape: (x, shape) => reshape(x, shape),
  transpose: (x, perm) => transpose(x, perm),
  expandDims: (x, axis) => expandDims(x, axis),
  squeeze: (x, axes) => squeeze(x, axes),
  concat: (xs, axis) => concat(xs, axis),
  slice: (x, begin, size) => slice(x, begin, size) as Variable,
  stridedSlice: (x, begin, end) => stridedSlice(x, begin, end),
  flatten2d: (x, at) => applyOp1(new Flatten2D(at), [x]),
  dotUnflatten: (r, a, b) => applyOp1(new DotUnflatten(), [r, a, b]),
  expectDim: (x, axis, size, op, atLeast) => applyOp1(new ExpectDim(axis, size, op, atLeast ?? false), [x]),
  stopGradient: (x) => stopGradient(x),
  release: () => {},
};

export { applyOp, applyOp1 };
export { scan, map, reduce, foldl, foldr } from './scan';
export type { ScanOptions, ScanUpdates, SequenceArg, OutputInfo, LoopOptions } from './scan';
