/**
 * The symbolic namespace (Theano's T): variables and every op, building graph nodes whose shapes
 * and dtypes are checked here, at the line that builds them.
 * @example const X = T.matrix('X'); const y = T.tanh(T.dot(X, W).add(b));
 */
import { DType, isDType } from '../dtype';
import { SymtensorError, argError, dtypeError, fmtShape, fmtValue, relabel, shapeError } from '../errors';
import { arange as arangeTensor, asTensor, indexTensor, tensor } from '../tensor/creation';
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
import { errorsNameTheirOp } from './namespace';
import { Index, SliceSpec, dynamicSlice } from './indexing';
import * as indexing from './indexing';
import * as loops from './scan';
import type { LoopOptions, OutputInfo, ScanOptions, ScanOutputs, ScanUpdates, SequenceArg } from './scan';

/** Anything a T op takes: variables, numbers (weak scalars), eager tensors and nested arrays (constants). */
export type VarLike = Variable | number | boolean | Tensor | NestedArray;

/** A constant from a number, array or eager tensor. */
export function constant(value: number | boolean | Tensor | NestedArray, name?: string, dtype?: DType): Constant {
  checkName('constant', name);
  if (dtype !== undefined) checkDtype('constant', dtype);
  if (!isVarLike(value) || value instanceof Variable) throw argError('constant', `value must be a number, boolean, Tensor or nested array, got ${describeArg(value)}`);
  // a private copy: disposing the caller's tensor later must not affect the graph
  const t = reworded('constant', 'value', () => (value instanceof Tensor ? value.cast(dtype ?? value.dtype) : asTensor('constant', value, dtype, 'value')));
  return new Constant(t, name);
}

/** What T ops take where they take a value: a Variable or something a constant is made of. */
function isVarLike(x: unknown): x is VarLike {
  return x instanceof Variable || x instanceof Tensor || typeof x === 'number' || typeof x === 'boolean' || Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** A value for a message: variables by their description, anything else by fmtValue. */
function describeArg(x: unknown): string {
  return x instanceof Variable ? `a Variable (${x.describe()})` : fmtValue(x);
}

/** f(), with a SymtensorError it throws reported as op's, about argument `name`. */
function reworded<R>(op: string, name: string, f: () => R): R {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof SymtensorError)) throw e;
    const detail = e.message.startsWith(`${e.op}: `) ? e.message.slice(e.op.length + 2) : e.message;
    throw relabel(e, op, `${name}: ${detail.startsWith(`${name}: `) ? detail.slice(name.length + 2) : detail}`);
  }
}

/**
 * Argument `name` of T.`op` as a graph variable: a Variable as it is, a number, boolean, eager
 * tensor or nested array as a constant; anything else is an error naming op and the argument.
 * @example checkVar('matmul', 'x', x)
 */
function checkVar(op: string, name: string, x: unknown): Variable {
  if (x instanceof Variable) return x;
  if (!isVarLike(x)) throw argError(op, `${name} must be a Variable, number, boolean, Tensor or nested array, got ${fmtValue(x)}`);
  if (typeof x === 'number' || typeof x === 'boolean') return new Constant(tensor(x));
  return new Constant(reworded(op, name, () => (x instanceof Tensor ? x.cast(x.dtype) : asTensor(op, x, undefined, name))));
}

/** checkVar, but numbers stay numbers (weak scalars) and booleans become 0/1. */
function checkArg(op: string, name: string, x: unknown): Variable | number {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  return checkVar(op, name, x);
}

/** A variable's name: a string, or nothing. */
function checkName(op: string, name: unknown): void {
  if (name !== undefined && name !== null && typeof name !== 'string') throw argError(op, `the name must be a string, got ${fmtValue(name)}`);
}

/** A true/false flag (undefined: the default). */
function checkFlag(op: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') throw argError(op, `${name} must be true or false, got ${fmtValue(v)}`);
}

/** An options object (undefined: the defaults). */
function checkOptions<O extends object>(op: string, opts: O | undefined): O {
  if (opts === undefined) return {} as O;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || opts instanceof Variable || opts instanceof Tensor)
    throw argError(op, `the options must be an object, got ${describeArg(opts)}`);
  return opts;
}

/** An array of integers (or of integers and nulls where `nulls`). */
function checkInts(op: string, name: string, v: unknown, nulls = false): number[] {
  if (!Array.isArray(v) || v.some((e) => !(Number.isSafeInteger(e) || (nulls && e === null))))
    throw argError(op, `${name} must be an array of integers${nulls ? ' (or nulls)' : ''}, got ${fmtValue(v)}`);
  return v.slice();
}

/** An axis argument: an integer, an array of them, or null/undefined (all axes); checked against x's rank. */
function checkAxes(op: string, axis: unknown, rank: number): void {
  if (axis !== undefined && axis !== null) normAxes(op, axis as number | number[], rank);
}

/** Gives a function made by a factory its op's name (errors and stack traces show it). */
function named<F extends (...a: never[]) => unknown>(name: string, f: F): F {
  return Object.defineProperty(f, 'name', { value: name });
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
  return inputVar('T.tensor', dtype, ndimOrShape, name);
}
export { tensorVar as tensor };

function inputVar(op: string, dtype: DType, ndimOrShape: number | Dim[], name?: string): InputVariable {
  checkDtype(op, dtype);
  checkName(op, name);
  // the rank is checked before an array of that length is made
  if (typeof ndimOrShape === 'number' ? !Number.isInteger(ndimOrShape) || ndimOrShape < 0 : !Array.isArray(ndimOrShape))
    throw argError(op, `expected a rank (a non-negative integer) or a shape array, got ${fmtValue(ndimOrShape)}`);
  const rank = typeof ndimOrShape === 'number' ? ndimOrShape : ndimOrShape.length;
  if (rank > MAX_RANK) throw shapeError(op, `rank ${rank} is above the maximum ${MAX_RANK}`);
  const shape = typeof ndimOrShape === 'number' ? new Array<Dim>(ndimOrShape).fill(null) : ndimOrShape.slice();
  for (const d of shape) if (d !== null && (typeof d !== 'number' || !Number.isInteger(d) || d < 0)) throw shapeError(op, `bad shape ${fmtValue(ndimOrShape)}`);
  return new InputVariable({ dtype, shape }, null, 0, name);
}

/** A symbolic scalar input (rank 0, every dimension unknown until the call), float32 unless dtype says otherwise. */
export const scalar = (name?: string, dtype: DType = 'float32') => inputVar('T.scalar', dtype, 0, name);
/** A symbolic vector input (rank 1, every dimension unknown until the call), float32 unless dtype says otherwise. */
export const vector = (name?: string, dtype: DType = 'float32') => inputVar('T.vector', dtype, 1, name);
/**
 * A symbolic matrix input (rank 2, every dimension unknown until the call), float32 unless dtype says otherwise.
 * @example const X = T.matrix('X'); const f = st.fn([X], T.sum(X));
 */
export const matrix = (name?: string, dtype: DType = 'float32') => inputVar('T.matrix', dtype, 2, name);
/**
 * A symbolic rank-3 tensor input (rank 3, every dimension unknown until the call), float32 unless dtype says otherwise.
 */
export const tensor3 = (name?: string, dtype: DType = 'float32') => inputVar('T.tensor3', dtype, 3, name);
/**
 * A symbolic rank-4 tensor input (rank 4, every dimension unknown until the call), float32 unless dtype says otherwise.
 */
export const tensor4 = (name?: string, dtype: DType = 'float32') => inputVar('T.tensor4', dtype, 4, name);
// Theano's typed constructors: f float32, d float64, i int32; l (Theano's int64) is int32 here,
// the widest integer dtype symtensor has.
/** A symbolic int32 scalar input (Theano's iscalar). */
export const iscalar = (name?: string) => inputVar('T.iscalar', 'int32', 0, name);
/** A symbolic int32 vector input (Theano's ivector). */
export const ivector = (name?: string) => inputVar('T.ivector', 'int32', 1, name);
/** A symbolic int32 matrix input (Theano's imatrix). */
export const imatrix = (name?: string) => inputVar('T.imatrix', 'int32', 2, name);
/** A symbolic float32 scalar input (Theano's fscalar). */
export const fscalar = (name?: string) => inputVar('T.fscalar', 'float32', 0, name);
/** A symbolic float32 vector input (Theano's fvector). */
export const fvector = (name?: string) => inputVar('T.fvector', 'float32', 1, name);
/** A symbolic float32 matrix input (Theano's fmatrix). */
export const fmatrix = (name?: string) => inputVar('T.fmatrix', 'float32', 2, name);
/** A symbolic float32 rank-3 tensor input (Theano's ftensor3). */
export const ftensor3 = (name?: string) => inputVar('T.ftensor3', 'float32', 3, name);
/** A symbolic float32 rank-4 tensor input (Theano's ftensor4). */
export const ftensor4 = (name?: string) => inputVar('T.ftensor4', 'float32', 4, name);
/** A symbolic float64 scalar input (Theano's dscalar). */
export const dscalar = (name?: string) => inputVar('T.dscalar', 'float64', 0, name);
/** A symbolic float64 vector input (Theano's dvector). */
export const dvector = (name?: string) => inputVar('T.dvector', 'float64', 1, name);
/** A symbolic float64 matrix input (Theano's dmatrix). */
export const dmatrix = (name?: string) => inputVar('T.dmatrix', 'float64', 2, name);
/** A symbolic float64 rank-3 tensor input (Theano's dtensor3). */
export const dtensor3 = (name?: string) => inputVar('T.dtensor3', 'float64', 3, name);
/** A symbolic float64 rank-4 tensor input (Theano's dtensor4). */
export const dtensor4 = (name?: string) => inputVar('T.dtensor4', 'float64', 4, name);
/** Theano's int64 scalar; symtensor's widest integer is int32, so this is T.iscalar. */
export const lscalar = iscalar;
/** Theano's int64 vector; int32 here (see lscalar). */
export const lvector = ivector;
/** Theano's int64 matrix; int32 here (see lscalar). */
export const lmatrix = imatrix;

/** Names as separate arguments, or Theano's one comma- or space-separated string. */
function namesOf(op: string, names: string[]): string[] {
  if (!names.length || names.some((n) => typeof n !== 'string')) throw argError(op, `expected variable names (strings), got ${fmtValue(names)}`);
  const list = names.length === 1 ? names[0].split(/[\s,]+/).filter(Boolean) : names;
  if (!list.length) throw argError(op, `expected variable names, got ${fmtValue(names)}`);
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
const un = (name: EwName) => named(name, (x: VarLike): Variable => ew(name, [checkVar(name, 'x', x)]));
const bin = (name: EwName) => named(name, (x: VarLike, y: VarLike): Variable => ew(name, [checkArg(name, 'x', x), checkArg(name, 'y', y)]));

/** Elementwise negation, -x. */
export const neg = un('neg');
/** Elementwise absolute value |x|. */
export const abs = un('abs');
/** Elementwise sign: -1, 0 or 1. */
export const sign = un('sign');
/** Elementwise e^x. */
export const exp = un('exp');
/** Elementwise e^x - 1, accurate for small x. */
export const expm1 = un('expm1');
/** Elementwise natural logarithm. */
export const log = un('log');
/** Elementwise log(1 + x), accurate for small x. */
export const log1p = un('log1p');
/** Elementwise square root. */
export const sqrt = un('sqrt');
/** Elementwise 1 / sqrt(x). */
export const rsqrt = un('rsqrt');
/** Elementwise x². */
export const square = un('square');
/** Elementwise 1 / x. */
export const reciprocal = un('reciprocal');
/** Elementwise sine. */
export const sin = un('sin');
/** Elementwise cosine. */
export const cos = un('cos');
/** Elementwise hyperbolic tangent. */
export const tanh = un('tanh');
/** Elementwise logistic sigmoid 1 / (1 + e^-x). */
export const sigmoid = un('sigmoid');
/** Elementwise max(x, 0). */
export const relu = un('relu');
/** Elementwise scaled exponential linear unit (Klambauer et al.'s fixed scale and alpha). */
export const selu = un('selu');
/** Elementwise Gaussian error linear unit, x·Φ(x). */
export const gelu = un('gelu');
/** Elementwise log(1 + e^x), computed stably. */
export const softplus = un('softplus');
/** Elementwise Gauss error function. */
export const erf = un('erf');
/** Elementwise floor. */
export const floor = un('floor');
/** Elementwise ceiling. */
export const ceil = un('ceil');
/** Elementwise rounding to the nearest integer, halves to even. */
export const round = un('round');
/** Elementwise test for NaN (a bool result). */
export const isNaN = un('isNaN');
/** Elementwise test for a finite value (a bool result). */
export const isFinite = un('isFinite');
/** Elementwise logical not of a bool value. */
export const logicalNot = un('logicalNot');
/** x + y, elementwise with numpy broadcasting. */
export const add = bin('add');
/** x - y, elementwise with broadcasting. */
export const sub = bin('sub');
/** x · y, elementwise with broadcasting. */
export const mul = bin('mul');
/** x / y, elementwise with broadcasting (true division; integers give a float result). */
export const div = bin('div');
/** x to the power y, elementwise with broadcasting. */
export const pow = bin('pow');
/** The larger of x and y, elementwise with broadcasting. */
export const maximum = bin('maximum');
/** The smaller of x and y, elementwise with broadcasting. */
export const minimum = bin('minimum');
/** x modulo y with the sign of y (Python's %), elementwise with broadcasting. */
export const mod = bin('mod');
/** x == y, elementwise with broadcasting (a bool result). */
export const equal = bin('equal');
/** x != y, elementwise with broadcasting (a bool result). */
export const notEqual = bin('notEqual');
/** x < y, elementwise with broadcasting (a bool result). */
export const less = bin('less');
/** x <= y, elementwise with broadcasting (a bool result). */
export const lessEqual = bin('lessEqual');
/** x > y, elementwise with broadcasting (a bool result). */
export const greater = bin('greater');
/** x >= y, elementwise with broadcasting (a bool result). */
export const greaterEqual = bin('greaterEqual');
/** x && y for bool values, elementwise with broadcasting. */
export const logicalAnd = bin('logicalAnd');
/** x || y for bool values, elementwise with broadcasting. */
export const logicalOr = bin('logicalOr');
// Theano's short names for the same functions
export { equal as eq, notEqual as neq, less as lt, greater as gt, lessEqual as le, greaterEqual as ge, square as sqr };

/** Elementwise x for x > 0, alpha·x otherwise. */
export function leakyRelu(x: VarLike, alpha = 0.2): Variable {
  return ew('leakyRelu', [checkVar('leakyRelu', 'x', x)], [checkNum('leakyRelu', 'alpha', alpha)]);
}
/** Elementwise exponential linear unit: x for x > 0, alpha·(e^x - 1) otherwise. */
export function elu(x: VarLike, alpha = 1): Variable {
  return ew('elu', [checkVar('elu', 'x', x)], [checkNum('elu', 'alpha', alpha)]);
}
/** x limited to [min, max], elementwise (min must not exceed max). */
export function clip(x: VarLike, min: number, max: number): Variable {
  const v = checkVar('clip', 'x', x);
  checkNum('clip', 'min', min);
  checkNum('clip', 'max', max);
  if (min > max) throw argError('clip', `min (${min}) is greater than max (${max})`);
  return ew('clip', [v], [min, max]);
}

/** cond ? a : b elementwise (Theano's switch; see composites.where). */
export function where(cond: VarLike, a: VarLike, b: VarLike): Variable {
  return composites.where(ops, checkArg('where', 'cond', cond), checkArg('where', 'a', a), checkArg('where', 'b', b));
}
export { where as switch };

/** x converted to dtype (float to integer truncates toward zero). */
export function cast(x: VarLike, dtype: DType): Variable {
  const v = checkVar('cast', 'x', x);
  checkDtype('cast', dtype);
  return applyOp1(new Cast(dtype), [v]);
}

// ---- reductions ----
function reducer(rop: ReduceOp) {
  return named(rop, (x: VarLike, axis?: number | number[] | null, keepDims = false): Variable => {
    const v = checkVar(rop, 'x', x);
    checkFlag(rop, 'keepDims', keepDims);
    return applyOp1(new Reduce(rop, normAxes(rop, axis, v.ndim), keepDims), [v]);
  });
}
/** The sum over axis (one axis, several, or all when omitted or null); keepDims keeps the reduced axes as size 1. */
export const sum = reducer('sum');
/** The mean over axis (all axes when omitted); keepDims keeps the reduced axes as size 1. */
export const mean = reducer('mean');
/** The product over axis (all axes when omitted); keepDims keeps the reduced axes as size 1. */
export const prod = reducer('prod');
/** The largest element over axis (all axes when omitted); keepDims keeps the reduced axes as size 1. */
export const max = reducer('max');
/** The smallest element over axis (all axes when omitted); keepDims keeps the reduced axes as size 1. */
export const min = reducer('min');
/** Whether every element over axis is true (all axes when omitted). */
export const all = reducer('all');
/** Whether any element over axis is true (all axes when omitted). */
export const any = reducer('any');

/** Index of the largest element along axis (of the flattened value when omitted). */
export function argmax(x: VarLike, axis?: number | null, keepDims = false): Variable {
  const v = checkVar('argmax', 'x', x);
  checkFlag('argmax', 'keepDims', keepDims);
  return composites.argReduce(ops, 'argmax', v, axis, keepDims);
}
/** Index of the smallest element along axis (of the flattened value when omitted). */
export function argmin(x: VarLike, axis?: number | null, keepDims = false): Variable {
  const v = checkVar('argmin', 'x', x);
  checkFlag('argmin', 'keepDims', keepDims);
  return composites.argReduce(ops, 'argmin', v, axis, keepDims);
}

/** Population variance over axes (see composites.variance). */
export function variance(x: VarLike, axis?: number | number[] | null, keepDims = false): Variable {
  const v = checkVar('variance', 'x', x);
  checkAxes('variance', axis, v.ndim);
  checkFlag('variance', 'keepDims', keepDims);
  return composites.variance(ops, v, axis, keepDims);
}

/** Population standard deviation over axes. */
export function std(x: VarLike, axis?: number | number[] | null, keepDims = false): Variable {
  const v = checkVar('std', 'x', x);
  checkAxes('std', axis, v.ndim);
  checkFlag('std', 'keepDims', keepDims);
  return composites.std(ops, v, axis, keepDims);
}

/** log(sum(exp(x))) over axes, stable: the max is subtracted (and carries no gradient). */
export function logSumExp(x: VarLike, axis?: number | number[] | null, keepDims = false): Variable {
  const v = checkVar('logSumExp', 'x', x);
  checkAxes('logSumExp', axis, v.ndim);
  checkFlag('logSumExp', 'keepDims', keepDims);
  return composites.logSumExp(ops, v, axis, keepDims);
}

// ---- linear algebra ----
/** Batched matrix product; 1-D operands are treated as row/column vectors and dropped from the result. */
export function matmul(x: VarLike, y: VarLike, transposeA = false, transposeB = false): Variable {
  let a = checkVar('matmul', 'x', x), b = checkVar('matmul', 'y', y);
  checkFlag('matmul', 'transposeA', transposeA);
  checkFlag('matmul', 'transposeB', transposeB);
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
  return composites.dot(ops, checkVar('dot', 'x', x), checkVar('dot', 'y', y));
}

/** numpy's outer product: both operands are flattened; out[i, j] = x[i] * y[j]. */
export function outer(x: VarLike, y: VarLike): Variable {
  return composites.outer(ops, checkVar('outer', 'x', x), checkVar('outer', 'y', y));
}

// ---- shape ----
/**
 * x with a new shape of the same size: numbers, int32 scalars (x.shape[0]) or a shape vector; one
 * entry may be -1 (inferred).  Static sizes are kept wherever they follow from the entries.
 * @example x.reshape([x.shape[0], -1])
 */
export function reshape(x: VarLike, shape: ShapeArg): Variable {
  const v = checkVar('reshape', 'x', x);
  const p = parseShape('reshape', shape, true);
  if (p.numbers) return applyOp1(new Reshape(p.numbers), [v]);
  return applyOp1(new ReshapeTo(p.owners.map((o) => (o && o.of === v ? o.axis : null))), [v, p.vector()]);
}
/** x as a vector of all its elements, in row-major order. */
export function flatten(x: VarLike): Variable {
  return reshape(checkVar('flatten', 'x', x), [-1]);
}
/**
 * Theano's dimshuffle: the pattern lists input axes in their new order, 'x' inserts a size-1 axis.
 * Given as an array or, as in Theano, as separate arguments.
 * @example T.dimshuffle(v, ['x', 0]) // a row; the same as v.dimshuffle('x', 0)
 */
export function dimshuffle(x: VarLike, ...patternArgs: ((number | 'x')[] | number | 'x')[]): Variable {
  const pattern = patternArgs.length === 1 && Array.isArray(patternArgs[0]) ? patternArgs[0] : (patternArgs as (number | 'x')[]);
  if (pattern.some((p) => Array.isArray(p))) throw argError('dimshuffle', 'give the pattern as one array or as separate arguments, not both');
  if (pattern.some((p) => p !== 'x' && !Number.isInteger(p))) throw argError('dimshuffle', `the pattern must list axes (integers) and 'x', got ${fmtValue(pattern)}`);
  const v = checkVar('dimshuffle', 'x', x);
  if (pattern.every((p, i) => p === i) && pattern.length === v.ndim) return v;
  return applyOp1(new DimShuffle(pattern.slice()), [v]);
}
/** x with its axes permuted by perm (reversed when omitted). */
export function transpose(x: VarLike, perm?: number[]): Variable {
  const v = checkVar('transpose', 'x', x);
  if (perm !== undefined && !Array.isArray(perm)) throw argError('transpose', `perm must be an array of axes, got ${fmtValue(perm)}`);
  const p = perm ?? [...Array(v.ndim).keys()].reverse();
  return applyOp1(new Transpose(p.map((a) => normAxis('transpose', a, v.ndim))), [v]);
}
export { transpose as permute };
/** x with a new axis of size 1 inserted at axis. */
export function expandDims(x: VarLike, axis = 0): Variable {
  const v = checkVar('expandDims', 'x', x);
  const a = normAxis('expandDims', axis, v.ndim + 1);
  const pattern: (number | 'x')[] = [...Array(v.ndim).keys()];
  pattern.splice(a, 0, 'x');
  return dimshuffle(v, pattern);
}
/** x without the given size-1 axes (every size-1 axis when omitted). */
export function squeeze(x: VarLike, axis?: number | number[]): Variable {
  const v = checkVar('squeeze', 'x', x);
  const drop = squeezeAxes('squeeze', v.staticShape, axis);
  return dimshuffle(v, [...Array(v.ndim).keys()].filter((i) => !drop.includes(i)));
}
/** x broadcast to a shape (numbers, int32 scalars or a shape vector). */
export function broadcastTo(x: VarLike, shape: ShapeArg): Variable {
  const v = checkVar('broadcastTo', 'x', x);
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
  if (x === null || x === undefined || typeof x === 'number' || (x instanceof Variable && x.ndim === 0 && !Array.isArray(begin)))
    return new SliceSpec(x as number | Variable | null ?? null, (begin ?? null) as number | Variable | null, (size ?? null) as number | null);
  const v = checkVar('slice', 'x', x);
  const b = Array.isArray(begin) ? begin.slice() : [begin];
  const s = size === undefined ? b.map(() => -1) : Array.isArray(size) ? size.slice() : [size];
  const entry = (e: unknown) => Number.isSafeInteger(e) || (e instanceof Variable && e.dtype === 'int32' && e.ndim === 0);
  if (!b.every(entry)) throw argError('slice', `begin must be an integer, an int32 scalar or an array of them, got ${describeArg(begin)}`);
  if (!s.every(entry)) throw argError('slice', `size must be an integer, an int32 scalar or an array of them, got ${describeArg(size)}`);
  if (b.some((e) => e instanceof Variable) || s.some((e) => e instanceof Variable)) return dynamicSlice(v, b as (number | Variable)[], s as (number | Variable)[]);
  return applyOp1(new Slice(b as number[], s as number[]), [v]);
}

/** The replacement of set/incSubtensor: a Variable, or a value made a constant of sub's dtype. */
function updateValue(op: string, sub: unknown, y: unknown): [Variable, Variable] {
  if (!(sub instanceof Variable)) throw argError(op, `the first argument must be a subtensor built with x.get([...]) or x.slice(...), got ${fmtValue(sub)}`);
  if (y instanceof Variable) return [sub, y];
  if (!isVarLike(y)) throw argError(op, `y must be a Variable, number, boolean, Tensor or nested array, got ${fmtValue(y)}`);
  return [sub, new Constant(reworded(op, 'y', () => (y instanceof Tensor ? tensor(y, { dtype: sub.dtype }) : asTensor(op, y, sub.dtype, 'y'))))];
}

/**
 * Theano's set_subtensor: x (the variable `sub` was indexed from) with that subtensor replaced by y.
 * @example const x2 = T.setSubtensor(x.get([T.slice(0, 2)]), T.zeros([2, 3]))
 */
export function setSubtensor(sub: Variable, y: Variable | number): Variable {
  return indexing.setSubtensor(...updateValue('setSubtensor', sub, y));
}

/**
 * Theano's inc_subtensor: x with y added to the subtensor `sub` (repeated index positions add up).
 * @example T.incSubtensor(w.get([idx]), delta)
 */
export function incSubtensor(sub: Variable, y: Variable | number): Variable {
  return indexing.incSubtensor(...updateValue('incSubtensor', sub, y));
}
export type { Index };

/** The symbolic shape of x (x.shape): an int32 vector whose entries are int32 scalars. */
export function shape(x: VarLike) {
  return checkVar('shape', 'x', x).shape;
}

/** Theano's alloc: a scalar value repeated to a shape (numbers, int32 scalars or a shape vector). */
export function alloc(value: VarLike, shape: ShapeArg): Variable {
  return allocAs('alloc', value, shape);
}
function allocAs(op: string, value: VarLike, shape: ShapeArg): Variable {
  const v = checkVar(op, 'value', value);
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
  const v = checkVar('zerosLike', 'x', x);
  return fullAs('zerosLike', v.shape, 0, dtype ?? v.dtype);
}
/** Ones shaped like x (its run-time shape), of x's dtype unless given. */
export function onesLike(x: VarLike, dtype?: DType): Variable {
  const v = checkVar('onesLike', 'x', x);
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
/** Elements from begin to end (exclusive) with strides, per axis; null takes the axis's default bound. */
export function stridedSlice(x: VarLike, begin: (number | null)[], end: (number | null)[], strides: (number | null)[] = []): Variable {
  const v = checkVar('stridedSlice', 'x', x);
  const op = 'stridedSlice';
  return applyOp1(new StridedSlice(checkInts(op, 'begin', begin, true), checkInts(op, 'end', end, true), checkInts(op, 'strides', strides, true)), [v]);
}
/** The inputs joined along axis; their other dimensions must agree. */
export function concat(xs: VarLike[], axis = 0): Variable {
  if (!Array.isArray(xs) || !xs.length) throw argError('concat', 'expected a non-empty array of tensors');
  const vs = xs.map((x, i) => checkVar('concat', `xs[${i}]`, x));
  return applyOp1(new Concat(normAxis('concat', axis, vs[0].ndim)), vs);
}
export { concat as concatenate };
/** Joins values of one shape along a new axis (see composites.stack). */
export function stack(xs: VarLike[], axis = 0): Variable {
  if (!Array.isArray(xs) || !xs.length) throw argError('stack', 'expected a non-empty array of tensors');
  return composites.stack(ops, xs.map((x, i) => checkVar('stack', `xs[${i}]`, x)), axis);
}
/** Splits into equal parts or parts of the given sizes along axis (see composites.split). */
export function split(x: VarLike, numOrSizes: number | number[], axis = 0): Variable[] {
  const v = checkVar('split', 'x', x);
  if (!Number.isSafeInteger(numOrSizes) && !(Array.isArray(numOrSizes) && numOrSizes.every((n) => Number.isSafeInteger(n))))
    throw argError('split', `expected a number of parts or an array of sizes (integers), got ${fmtValue(numOrSizes)}`);
  return composites.split(ops, v, numOrSizes, axis);
}
/** x repeated reps[i] times along each axis i. */
export function tile(x: VarLike, reps: number[]): Variable {
  const v = checkVar('tile', 'x', x);
  return applyOp1(new Tile(checkInts('tile', 'reps', reps)), [v]);
}
/** x padded with value: paddings[i] = [before, after] for axis i. */
export function pad(x: VarLike, paddings: [number, number][], value = 0): Variable {
  const v = checkVar('pad', 'x', x);
  if (!Array.isArray(paddings) || paddings.some((p) => !Array.isArray(p) || p.length !== 2 || !p.every((n) => Number.isSafeInteger(n))))
    throw argError('pad', `paddings must be an array of [before, after] pairs of integers, one per axis, got ${fmtValue(paddings)}`);
  checkNum('pad', 'value', value);
  return applyOp1(new Pad(paddings.map((p) => [p[0], p[1]] as [number, number]), value), [v]);
}
/** Indices as a constant, by eager gather's rule (int32 tensors, or JS integers in int32's range). */
function indexConstant(op: string, indices: VarLike): Constant {
  const t = indexTensor(op, indices);
  return t === indices ? constant(t) : new Constant(t);
}
/** The slices of x at the given indices along axis (an int32 Variable, or integers as a constant). */
export function gather(x: VarLike, indices: VarLike, axis = 0): Variable {
  const v = checkVar('gather', 'x', x);
  const idx = indices instanceof Variable ? indices : indexConstant('gather', indices);
  return applyOp1(new Gather(axis), [v, idx]);
}
/** One-hot rows: a new last axis of size depth, onValue at each index and offValue elsewhere. */
export function oneHot(indices: VarLike, depth: number, onValue = 1, offValue = 0, dtype: DType = 'float32'): Variable {
  const idx = indices instanceof Variable ? indices : indexConstant('oneHot', indices);
  if (!Number.isInteger(depth) || depth < 0) throw argError('oneHot', `depth must be a non-negative integer, got ${fmtValue(depth)}`);
  checkNum('oneHot', 'onValue', onValue);
  checkNum('oneHot', 'offValue', offValue);
  checkDtype('oneHot', dtype);
  return applyOp1(new OneHot(depth, onValue, offValue, dtype), [idx]);
}

// ---- nn ----
/** exp(x) normalized to sum to 1 along axis (the last by default), computed stably. */
export function softmax(x: VarLike, axis = -1): Variable {
  return applyOp1(new Softmax(false, axis), [checkVar('softmax', 'x', x)]);
}
/** log(softmax(x)) along axis, computed stably. */
export function logSoftmax(x: VarLike, axis = -1): Variable {
  return applyOp1(new Softmax(true, axis), [checkVar('logSoftmax', 'x', x)]);
}
/**
 * 2-D convolution (cross-correlation) of NHWC input x with an HWIO filter; see Conv2dOptions for strides, padding and dilations.
 */
export function conv2d(x: VarLike, filter: VarLike, opts: Conv2dOptions = {}): Variable {
  const op = 'conv2d';
  return applyOp1(new Conv2d({ ...checkOptions(op, opts) }), [checkVar(op, 'x', x), checkVar(op, 'filter', filter)]);
}
/** conv2d's input gradient; `like` supplies the input's shape. */
export function conv2dGradInput(dy: VarLike, filter: VarLike, like: Variable, opts: Conv2dOptions = {}): Variable {
  const op = 'conv2dGradInput';
  return applyOp1(new Conv2dGradInput({ ...checkOptions(op, opts) }), [checkVar(op, 'dy', dy), checkVar(op, 'filter', filter), checkVar(op, 'like', like)]);
}
/** conv2d's filter gradient; `like` supplies the filter's shape. */
export function conv2dGradFilter(x: VarLike, dy: VarLike, like: Variable, opts: Conv2dOptions = {}): Variable {
  const op = 'conv2dGradFilter';
  return applyOp1(new Conv2dGradFilter({ ...checkOptions(op, opts) }), [checkVar(op, 'x', x), checkVar(op, 'dy', dy), checkVar(op, 'like', like)]);
}
/** 2-D max pooling of NHWC input x; see Pool2dOptions. */
export function maxPool2d(x: VarLike, opts: Pool2dOptions = {}): Variable {
  return applyOp1(new Pool2d(true, { ...checkOptions('maxPool2d', opts) }), [checkVar('maxPool2d', 'x', x)]);
}
/** 2-D average pooling of NHWC input x; see Pool2dOptions. */
export function avgPool2d(x: VarLike, opts: Pool2dOptions = {}): Variable {
  return applyOp1(new Pool2d(false, { ...checkOptions('avgPool2d', opts) }), [checkVar('avgPool2d', 'x', x)]);
}
/** maxPool2d's input gradient, given its input x and the output gradient dy. */
export function maxPool2dGrad(x: VarLike, dy: VarLike, opts: Pool2dOptions = {}): Variable {
  const op = 'maxPool2dGrad';
  return applyOp1(new Pool2dGrad(true, { ...checkOptions(op, opts) }), [checkVar(op, 'x', x), checkVar(op, 'dy', dy)]);
}
/** avgPool2d's input gradient, given its input x and the output gradient dy. */
export function avgPool2dGrad(x: VarLike, dy: VarLike, opts: Pool2dOptions = {}): Variable {
  const op = 'avgPool2dGrad';
  return applyOp1(new Pool2dGrad(false, { ...checkOptions(op, opts) }), [checkVar(op, 'x', x), checkVar(op, 'dy', dy)]);
}

// ---- control ----
/** Lazy if: only the taken branch is computed.  cond must hold one element. */
export function ifelse(cond: VarLike, a: VarLike, b: VarLike): Variable {
  return applyOp1(new IfElse(), [checkVar('ifelse', 'cond', cond), checkVar('ifelse', 'a', a), checkVar('ifelse', 'b', b)]);
}
/** x, with no gradient flowing through it. */
export function stopGradient(x: VarLike): Variable {
  return applyOp1(new StopGradient(), [checkVar('stopGradient', 'x', x)]);
}

// ---- losses: (yTrue, yPred), Keras's order ----
/**
 * -sum(yTrue * log(yPred)) over the last axis.  When yPred is a softmax, the loss is computed
 * from its logits with one fused, stable op (and a stable gradient).
 */
export function categoricalCrossentropy(yTrue: VarLike, yPred: VarLike): Variable {
  const t = checkVar('categoricalCrossentropy', 'yTrue', yTrue), p = checkVar('categoricalCrossentropy', 'yPred', yPred);
  if (p.owner?.op instanceof OneHot)
    throw argError('categoricalCrossentropy', `yPred is one-hot labels: losses take (yTrue, yPred), labels first (Theano's categorical_crossentropy took the predictions first)`);
  if (p.owner?.op instanceof Softmax && p.owner.op.name === 'softmax' && normAxis('softmax', p.owner.op.axis, p.ndim) === p.ndim - 1 && labelsFit(t, p))
    return applyOp1(new CrossEntropySoftmax(), [p.owner.inputs[0], t]);
  return neg(sum(mul(t, log(p)), -1));
}

/**
 * Theano's T.nnet names for the same functions.  The losses keep symtensor's (yTrue, yPred) order
 * (Theano's categorical_crossentropy took the predictions first).
 * @namespace
 */
export const nnet = Object.freeze({
  sigmoid,
  /** T.softmax. */
  softmax,
  /** T.logSoftmax. */
  logSoftmax,
  /** T.logSoftmax, under Theano's spelling. */
  logsoftmax: logSoftmax,
  relu,
  /** T.elu. */
  elu,
  selu, softplus,
  /** T.conv2d. */
  conv2d,
  /** T.categoricalCrossentropy, (yTrue, yPred) order. */
  categoricalCrossentropy,
  /** T.binaryCrossentropy, (yTrue, yPred) order. */
  binaryCrossentropy,
  /** T.sparseCategoricalCrossentropy, (yTrue, yPred) order. */
  sparseCategoricalCrossentropy,
});

/** categoricalCrossentropy with integer class labels. */
export function sparseCategoricalCrossentropy(yTrue: VarLike, yPred: VarLike): Variable {
  const p = checkVar('sparseCategoricalCrossentropy', 'yPred', yPred);
  let t = checkVar('sparseCategoricalCrossentropy', 'yTrue', yTrue);
  if (p.ndim === 0) throw shapeError('sparseCategoricalCrossentropy', `yPred must have a class axis, got ${p.describe()}`);
  const depth = p.staticShape[p.ndim - 1];
  if (depth === null) throw shapeError('sparseCategoricalCrossentropy', `the number of classes (last axis of ${fmtShape(p.staticShape)}) must be known`);
  if (t.dtype !== 'int32') t = cast(t, 'int32');
  return categoricalCrossentropy(oneHot(t, depth, 1, 0, p.dtype), p);
}

/** Elementwise -(y log p + (1 - y) log(1 - p)) (stable when p is a sigmoid). */
export function binaryCrossentropy(yTrue: VarLike, yPred: VarLike): Variable {
  const y = checkVar('binaryCrossentropy', 'yTrue', yTrue), p = checkVar('binaryCrossentropy', 'yPred', yPred);
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

// a user's Op reports its own errors (T.applyOp(new MyOp(), [x]) names MyOp)
errorsNameTheirOp(applyOp, applyOp1);
export { applyOp, applyOp1 };
export type { ScanOptions, ScanUpdates, SequenceArg, OutputInfo, LoopOptions } from './scan';

// ---- loops (lib/graph/scan.ts), with their options checked here ----
/**
 * A loop's step function: the current sequence elements, previous outputs and non-sequences in, the new outputs out.
 */
type Step<R> = (...args: Variable[]) => R;

/** A loop's options object; its name, if any, is a string (errors in the loop are reported under it). */
function loopOptions<O extends { name?: string }>(op: string, opts: O | undefined): O {
  const o = checkOptions(op, opts);
  if (o.name !== undefined && typeof o.name !== 'string') throw argError(op, `the name must be a string, got ${fmtValue(o.name)}`);
  return o;
}

/**
 * Theano's scan: the step runs once per row of the sequences (or nSteps times), fed back its
 * previous outputs; see ScanOptions.
 * @example const [hs] = T.scan((x, h) => T.tanh(T.dot(x, Wx).add(T.dot(h, Wh))), { sequences: xs, outputsInfo: h0 });
 */
export function scan<R extends Variable | Variable[]>(fn: Step<R>, opts: ScanOptions = {}): [ScanOutputs<R>, ScanUpdates] {
  return loops.scan(fn, loopOptions('scan', opts));
}
/**
 * fn applied to each row of the sequences (Theano's map): the results stacked.
 * @example const [squares] = T.map((v) => v.mul(v), x);
 */
export function map<R extends Variable | Variable[]>(fn: Step<R>, sequences: SequenceArg | SequenceArg[], nonSequences?: VarLike | VarLike[], opts: LoopOptions = {}): [ScanOutputs<R>, ScanUpdates] {
  return loops.map(fn, sequences, nonSequences, loopOptions('map', opts));
}
/**
 * The final value of each output of a scan (Theano's reduce).
 * @example const [total] = T.reduce((v, acc) => acc.add(v), x, T.zerosLike(x.get([0])));
 */
export function reduce<R extends Variable | Variable[]>(fn: Step<R>, sequences: SequenceArg | SequenceArg[], outputsInfo: OutputInfo | OutputInfo[], nonSequences?: VarLike | VarLike[], opts: LoopOptions = {}): [ScanOutputs<R>, ScanUpdates] {
  return loops.reduce(fn, sequences, outputsInfo, nonSequences, loopOptions('reduce', opts));
}
/** reduce from the first row to the last (Theano's foldl). */
export function foldl<R extends Variable | Variable[]>(fn: Step<R>, sequences: SequenceArg | SequenceArg[], outputsInfo: OutputInfo | OutputInfo[], nonSequences?: VarLike | VarLike[], opts: { name?: string } = {}): [ScanOutputs<R>, ScanUpdates] {
  return loops.foldl(fn, sequences, outputsInfo, nonSequences, loopOptions('foldl', opts));
}
/** reduce from the last row to the first (Theano's foldr). */
export function foldr<R extends Variable | Variable[]>(fn: Step<R>, sequences: SequenceArg | SequenceArg[], outputsInfo: OutputInfo | OutputInfo[], nonSequences?: VarLike | VarLike[], opts: { name?: string } = {}): [ScanOutputs<R>, ScanUpdates] {
  return loops.foldr(fn, sequences, outputsInfo, nonSequences, loopOptions('foldr', opts));
}
/**
 * The elementwise reduction of each variable over every MPI process (data-parallel training), the
 * variables packed into buckets of at most `bucketBytes`; outside MPI the outputs equal the inputs.
 * Options: `op` ('sum' | 'mean' | 'max' | 'min'), `bucketBytes`, `overlap` (default true: each
 * bucket starts where its last variable is computed and is waited for where it is first read).
 * @example const [gw, gb] = T.allreduce(st.grad(cost, [w, b]), { op: 'mean' });
 */
export { allreduce } from './ops/collective';
