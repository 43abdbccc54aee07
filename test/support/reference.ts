// Reference implementations of every public symtensor op, written as plain loops over
// `{ shape, dtype, data }` values.  Nothing here calls symtensor: these are the test oracles.
//
// Numbers are held as JS doubles.  A float32 value is a double that Math.fround leaves unchanged,
// int32 values are integers in the int32 range, bool values are 0 or 1.

import { erf, erfc } from './erf';

export { erf, erfc };

export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export interface Ref {
  shape: number[];
  dtype: DType;
  data: number[];
}

// ------------------------------------------------------------------------------------------------
// dtype rules (the result dtype of each op for each input dtype), written out as tables.

type DTable = Record<DType, Record<DType, DType>>;

/** The dtype both operands of an arithmetic op are computed in. */
export const UPCAST: DTable = {
  float32: { float32: 'float32', float64: 'float64', int32: 'float32', bool: 'float32' },
  float64: { float32: 'float64', float64: 'float64', int32: 'float64', bool: 'float64' },
  int32: { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'int32' },
  bool: { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'int32' },
};

/** Result dtype of add/sub/mul/pow/maximum/minimum/mod. */
export const ARITH_DTYPE: DTable = UPCAST;

/** Result dtype of div: integer quotients become float32. */
export const DIV_DTYPE: DTable = {
  float32: { float32: 'float32', float64: 'float64', int32: 'float32', bool: 'float32' },
  float64: { float32: 'float64', float64: 'float64', int32: 'float64', bool: 'float64' },
  int32: { float32: 'float32', float64: 'float64', int32: 'float32', bool: 'float32' },
  bool: { float32: 'float32', float64: 'float64', int32: 'float32', bool: 'float32' },
};

/** Comparisons and logical ops always give bool. */
export const BOOL_DTYPE: DTable = {
  float32: { float32: 'bool', float64: 'bool', int32: 'bool', bool: 'bool' },
  float64: { float32: 'bool', float64: 'bool', int32: 'bool', bool: 'bool' },
  int32: { float32: 'bool', float64: 'bool', int32: 'bool', bool: 'bool' },
  bool: { float32: 'bool', float64: 'bool', int32: 'bool', bool: 'bool' },
};

/** Unary ops that keep the dtype (bool counts as int32). */
export const KEEP_DTYPE: Record<DType, DType> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'int32' };
/** Unary math functions: ints and bools give float32. */
export const FLOAT_DTYPE: Record<DType, DType> = { float32: 'float32', float64: 'float64', int32: 'float32', bool: 'float32' };
/** Predicates give bool. */
export const PRED_DTYPE: Record<DType, DType> = { float32: 'bool', float64: 'bool', int32: 'bool', bool: 'bool' };

export type UnaryOp =
  | 'neg' | 'abs' | 'sign' | 'exp' | 'expm1' | 'log' | 'log1p' | 'sqrt' | 'rsqrt' | 'square' | 'reciprocal'
  | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu' | 'leakyRelu' | 'elu' | 'selu' | 'gelu' | 'softplus' | 'erf'
  | 'floor' | 'ceil' | 'round' | 'isNaN' | 'isFinite' | 'logicalNot';

export const UNARY_KIND: Record<UnaryOp, 'keep' | 'float' | 'pred'> = {
  neg: 'keep', abs: 'keep', sign: 'keep', square: 'keep', relu: 'keep', floor: 'keep', ceil: 'keep', round: 'keep',
  exp: 'float', expm1: 'float', log: 'float', log1p: 'float', sqrt: 'float', rsqrt: 'float', reciprocal: 'float',
  sin: 'float', cos: 'float', tanh: 'float', sigmoid: 'float', selu: 'float', gelu: 'float', softplus: 'float',
  erf: 'float', leakyRelu: 'float', elu: 'float',
  isNaN: 'pred', isFinite: 'pred', logicalNot: 'pred',
};

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'mod'
  | 'equal' | 'notEqual' | 'less' | 'lessEqual' | 'greater' | 'greaterEqual' | 'logicalAnd' | 'logicalOr';

export const BINARY_KIND: Record<BinaryOp, 'arith' | 'div' | 'compare' | 'logical'> = {
  add: 'arith', sub: 'arith', mul: 'arith', pow: 'arith', maximum: 'arith', minimum: 'arith', mod: 'arith',
  div: 'div',
  equal: 'compare', notEqual: 'compare', less: 'compare', lessEqual: 'compare', greater: 'compare', greaterEqual: 'compare',
  logicalAnd: 'logical', logicalOr: 'logical',
};

export const BINARY_DTYPE: Record<'arith' | 'div' | 'compare' | 'logical', DTable> = {
  arith: ARITH_DTYPE,
  div: DIV_DTYPE,
  compare: BOOL_DTYPE,
  logical: BOOL_DTYPE,
};

/** Result dtype of the reductions for each input dtype. */
export const REDUCE_DTYPE: Record<string, Record<DType, DType>> = {
  sum: KEEP_DTYPE, prod: KEEP_DTYPE, max: KEEP_DTYPE, min: KEEP_DTYPE,
  mean: FLOAT_DTYPE, variance: FLOAT_DTYPE, std: FLOAT_DTYPE, logSumExp: FLOAT_DTYPE,
  all: PRED_DTYPE, any: PRED_DTYPE,
  argmax: { float32: 'int32', float64: 'int32', int32: 'int32', bool: 'int32' },
  argmin: { float32: 'int32', float64: 'int32', int32: 'int32', bool: 'int32' },
};

export function isFloatType(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

// ------------------------------------------------------------------------------------------------
// basics

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s: number[] = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx: number[] = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    idx[d] = n ? i % n : 0;
    i = n ? Math.floor(i / n) : 0;
  }
  return idx;
}

function ravel(idx: readonly number[], strides: readonly number[]): number {
  let o = 0;
  for (let d = 0; d < idx.length; d++) o += idx[d] * strides[d];
  return o;
}

/** Converts a double to an element of dtype d (float -> int truncates toward zero; bool is != 0). */
export function store(d: DType, v: number): number {
  switch (d) {
    case 'float32':
      return Math.fround(v);
    case 'float64':
      return v;
    case 'int32':
      return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
    case 'bool':
      return v !== 0 ? 1 : 0; // NaN counts as true
  }
}

export function make(shape: number[], dtype: DType, data?: number[]): Ref {
  const n = sizeOf(shape);
  const d = data ? data.map((v) => store(dtype, v)) : new Array<number>(n).fill(0);
  if (d.length !== n) throw new Error(`reference: ${d.length} values for shape [${shape}]`);
  return { shape: shape.slice(), dtype, data: d };
}

export function scalar(v: number, dtype: DType = 'float32'): Ref {
  return make([], dtype, [v]);
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`reference: axis ${axis} out of range for rank ${rank}`);
  return a;
}

function normAxes(axis: number | number[] | undefined | null, rank: number): number[] {
  if (axis === undefined || axis === null) return [...Array(rank).keys()];
  const list = (Array.isArray(axis) ? axis : [axis]).map((a) => normAxis(a, rank));
  return [...new Set(list)].sort((a, b) => a - b);
}

export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      if (s[i] === out[o] || s[i] === 1) continue;
      if (out[o] === 1) out[o] = s[i];
      else throw new Error(`reference: cannot broadcast [${shapes.map((x) => x.join(',')).join('] [')}]`);
    }
  }
  return out;
}

/** Element offset into `src` for each flat index of `outShape` (numpy broadcasting). */
function broadcastIndex(src: readonly number[], outShape: readonly number[]): number[] {
  const st = stridesOf(src);
  const lead = outShape.length - src.length;
  const n = sizeOf(outShape);
  const res: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, outShape);
    let o = 0;
    for (let d = 0; d < src.length; d++) if (src[d] !== 1) o += idx[d + lead] * st[d];
    res[i] = o;
  }
  return res;
}

// ------------------------------------------------------------------------------------------------
// scalar math

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** Round half to even (numpy's rint); keeps the sign of zero. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  let r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  if (r === 0 && (x < 0 || Object.is(x, -0))) r = -0;
  return r;
}

/** C's pow (Math.pow differs for pow(1, NaN) and pow(-1, ±Infinity)). */
export function cPow(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

/** x mod y with the sign of the divisor (numpy/python). */
export function floorMod(x: number, y: number): number {
  let r = x % y; // fmod for doubles
  if (r !== 0 && !Number.isNaN(r) && r < 0 !== y < 0) r += y;
  return r;
}

function intPow(b: number, e: number): number {
  if (e < 0) {
    if (b === 1) return 1;
    if (b === -1) return e % 2 === 0 ? 1 : -1;
    throw new Error('reference: negative integer exponent is not defined for int32 pow');
  }
  let r = 1;
  for (let i = 0; i < e; i++) r = Math.imul(r, b);
  return r;
}

const FLOAT_UNARY: Record<Exclude<UnaryOp, 'isNaN' | 'isFinite' | 'logicalNot'>, (x: number, p0: number) => number> = {
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  sign: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0),
  exp: (x) => Math.exp(x),
  expm1: (x) => Math.expm1(x),
  log: (x) => Math.log(x),
  log1p: (x) => Math.log1p(x),
  sqrt: (x) => Math.sqrt(x),
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  tanh: (x) => Math.tanh(x),
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (x > 0 ? x : 0),
  leakyRelu: (x, a) => (x > 0 ? x : a * x),
  elu: (x, a) => (x > 0 ? x : a * Math.expm1(x)),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  gelu: (x) => 0.5 * x * erfc(-x / Math.SQRT2),
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  erf: (x) => erf(x),
  floor: (x) => Math.floor(x),
  ceil: (x) => Math.ceil(x),
  round: (x) => roundHalfEven(x),
};

const INT_UNARY: Partial<Record<UnaryOp, (x: number) => number>> = {
  neg: (x) => -x | 0,
  abs: (x) => Math.abs(x) | 0,
  sign: (x) => Math.sign(x) | 0,
  square: (x) => Math.imul(x, x),
  relu: (x) => (x > 0 ? x : 0),
  floor: (x) => x,
  ceil: (x) => x,
  round: (x) => x,
};

/** Applies a binary op to two values already converted to ctype. */
function binaryScalar(op: BinaryOp, a: number, b: number, ctype: DType): number {
  const int = ctype === 'int32';
  switch (op) {
    case 'add': return int ? (a + b) | 0 : a + b;
    case 'sub': return int ? (a - b) | 0 : a - b;
    case 'mul': return int ? Math.imul(a, b) : a * b;
    case 'div': return a / b;
    case 'pow': return int ? intPow(a, b) : cPow(a, b);
    case 'maximum': return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
    case 'minimum': return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
    case 'mod':
      if (int && b === 0) throw new Error('reference: int32 mod by zero is not defined');
      return floorMod(a, b);
    case 'equal': return a === b ? 1 : 0;
    case 'notEqual': return a !== b ? 1 : 0;
    case 'less': return a < b ? 1 : 0;
    case 'lessEqual': return a <= b ? 1 : 0;
    case 'greater': return a > b ? 1 : 0;
    case 'greaterEqual': return a >= b ? 1 : 0;
    case 'logicalAnd': return a !== 0 && b !== 0 ? 1 : 0;
    case 'logicalOr': return a !== 0 || b !== 0 ? 1 : 0;
  }
}

// ------------------------------------------------------------------------------------------------
// elementwise

/** A tensor, or a plain number that takes the dtype of the tensors it meets (a weak scalar). */
export type Arg = Ref | number;

function strongest(args: Arg[]): DType | undefined {
  const ds = args.filter((a): a is Ref => typeof a !== 'number').map((a) => a.dtype);
  if (ds.length === 0) return undefined;
  if (ds.includes('float64')) return 'float64';
  if (ds.includes('float32')) return 'float32';
  return ds.length === 1 ? ds[0] : 'int32';
}

/** The dtype a plain number takes next to tensors whose strongest dtype is `other`. */
export function weakDtype(v: number, other: DType | undefined): DType {
  if (other === undefined) return 'float32';
  if (isFloatType(other)) return other;
  return Number.isInteger(v) ? 'int32' : 'float32';
}

function argDtypes(args: Arg[]): DType[] {
  const s = strongest(args);
  return args.map((a) => (typeof a === 'number' ? weakDtype(a, s) : a.dtype));
}

function asRef(a: Arg, d: DType): Ref {
  return typeof a === 'number' ? make([], d, [a]) : a;
}

/** Evaluates f over broadcast inputs, converting each input to ctype first and the result to out. */
function mapN(inputs: Ref[], ctype: DType, out: DType, f: (v: number[]) => number): Ref {
  const shape = broadcastShapes(...inputs.map((t) => t.shape));
  const idx = inputs.map((t) => broadcastIndex(t.shape, shape));
  const n = sizeOf(shape);
  const data: number[] = new Array(n);
  const vals: number[] = new Array(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) vals[k] = store(ctype, inputs[k].data[idx[k][i]]);
    data[i] = store(out, store(ctype, f(vals)));
  }
  return { shape, dtype: out, data };
}

export function unaryDtype(op: UnaryOp, d: DType): DType {
  const kind = UNARY_KIND[op];
  return kind === 'keep' ? KEEP_DTYPE[d] : kind === 'float' ? FLOAT_DTYPE[d] : PRED_DTYPE[d];
}

/** Any unary op; p0 is the alpha of leakyRelu (default 0.2) and elu (default 1). */
export function unary(op: UnaryOp, x: Arg, p0?: number): Ref {
  const [d] = argDtypes([x]);
  const t = asRef(x, d);
  const out = unaryDtype(op, d);
  const kind = UNARY_KIND[op];
  const ctype: DType = kind === 'pred' ? (isFloatType(d) ? d : 'int32') : out;
  const alpha = p0 ?? (op === 'leakyRelu' ? 0.2 : 1);
  if (kind === 'pred') {
    const fp = op === 'isNaN' ? (v: number) => (Number.isNaN(v) ? 1 : 0) : op === 'isFinite' ? (v: number) => (Number.isFinite(v) ? 1 : 0) : (v: number) => (v === 0 ? 1 : 0);
    return mapN([t], ctype, out, ([v]) => fp(v));
  }
  const f = FLOAT_UNARY[op as keyof typeof FLOAT_UNARY];
  if (ctype === 'int32') {
    const fi = INT_UNARY[op];
    if (!fi) throw new Error(`reference: ${op} has no int32 form`);
    return mapN([t], ctype, out, ([v]) => fi(v));
  }
  return mapN([t], ctype, out, ([v]) => f(v, alpha));
}

export function clipDtype(d: DType, min: number, max: number): DType {
  const k = KEEP_DTYPE[d];
  return k === 'int32' && (!Number.isInteger(min) || !Number.isInteger(max)) ? 'float32' : k;
}

export function clip(x: Arg, min: number, max: number): Ref {
  const [d] = argDtypes([x]);
  const out = clipDtype(d, min, max);
  const lo = store(out, min);
  const hi = store(out, max);
  return mapN([asRef(x, d)], out, out, ([v]) => (v < lo ? lo : v > hi ? hi : v));
}

export function binaryDtype(op: BinaryOp, a: DType, b: DType): DType {
  return BINARY_DTYPE[BINARY_KIND[op]][a][b];
}

export function binary(op: BinaryOp, a: Arg, b: Arg): Ref {
  const [da, db] = argDtypes([a, b]);
  const kind = BINARY_KIND[op];
  const out = binaryDtype(op, da, db);
  const up = UPCAST[da][db];
  const ctype: DType = kind === 'div' ? out : kind === 'logical' && !isFloatType(up) ? 'int32' : up;
  return mapN([asRef(a, da), asRef(b, db)], ctype, out, ([x, y]) => binaryScalar(op, x, y, ctype));
}

export function whereDtype(a: DType, b: DType): DType {
  return a === 'bool' && b === 'bool' ? 'bool' : UPCAST[a][b];
}

export function where(cond: Arg, a: Arg, b: Arg): Ref {
  const [dc, da, db] = argDtypes([cond, a, b]);
  const out = whereDtype(da, db);
  let ctype: DType = out === 'bool' ? 'int32' : out;
  if (isFloatType(dc) && !isFloatType(ctype)) ctype = dc;
  return mapN([asRef(cond, dc), asRef(a, da), asRef(b, db)], ctype, out, ([c, x, y]) => (c !== 0 ? x : y));
}

export function cast(x: Arg, dtype: DType): Ref {
  const [d] = argDtypes([x]);
  const ctype: DType = d === 'float64' || dtype === 'float64' ? 'float64' : d === 'float32' || dtype === 'float32' ? 'float32' : 'int32';
  return mapN([asRef(x, d)], ctype, dtype, ([v]) => v);
}

// ------------------------------------------------------------------------------------------------
// reductions

export type ReduceOp = 'sum' | 'mean' | 'prod' | 'max' | 'min' | 'all' | 'any' | 'variance' | 'std' | 'logSumExp';

function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Groups the elements of x by their position in the reduced output. */
function groups(x: Ref, axes: number[]): { buckets: number[][] } {
  const rank = x.shape.length;
  const red = x.shape.map((_, i) => axes.includes(i));
  const keep = x.shape.map((d, i) => (red[i] ? 1 : d));
  const ks = stridesOf(keep);
  const buckets: number[][] = Array.from({ length: sizeOf(keep) }, () => []);
  const idx: number[] = new Array(rank).fill(0);
  let o = 0;
  for (let i = 0; i < x.data.length; i++) {
    buckets[o].push(x.data[i]);
    // advance the multi-index (an odometer), keeping o the output offset
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      if (!red[d]) o += ks[d];
      if (idx[d] < x.shape[d]) break;
      if (!red[d]) o -= ks[d] * x.shape[d];
      idx[d] = 0;
    }
  }
  return { buckets };
}

function sumExact(vs: number[]): number {
  // Neumaier summation: the reference sum is as close to exact as we can cheaply get
  let s = 0;
  let c = 0;
  for (const v of vs) {
    const t = s + v;
    if (Math.abs(s) >= Math.abs(v)) c += s - t + v;
    else c += v - t + s;
    s = t;
  }
  return Number.isFinite(s) ? s + c : s;
}

function reduceValues(op: ReduceOp, vs: number[], dtype: DType): number {
  const float = isFloatType(dtype);
  const n = vs.length;
  switch (op) {
    case 'sum':
      return float ? sumExact(vs) : vs.reduce((s, v) => (s + v) | 0, 0);
    case 'prod':
      return float ? vs.reduce((s, v) => s * v, 1) : vs.reduce((s, v) => Math.imul(s, v), 1);
    case 'mean':
      return n ? sumExact(vs) / n : NaN;
    case 'max':
      if (vs.some((v) => Number.isNaN(v))) return NaN;
      return vs.reduce((m, v) => (v > m ? v : m), float ? -Infinity : -2147483648);
    case 'min':
      if (vs.some((v) => Number.isNaN(v))) return NaN;
      return vs.reduce((m, v) => (v < m ? v : m), float ? Infinity : 2147483647);
    case 'all':
      return vs.every((v) => v !== 0) ? 1 : 0;
    case 'any':
      return vs.some((v) => v !== 0) ? 1 : 0;
    case 'variance':
    case 'std': {
      if (!n) return NaN;
      const m = sumExact(vs) / n;
      const v = sumExact(vs.map((x) => (x - m) * (x - m))) / n;
      return op === 'std' ? Math.sqrt(v) : v;
    }
    case 'logSumExp': {
      let m = -Infinity;
      for (const v of vs) if (v > m || Number.isNaN(v)) m = v;
      const shift = Number.isFinite(m) ? m : 0;
      return Math.log(sumExact(vs.map((v) => Math.exp(v - shift)))) + shift;
    }
  }
}

export function reduce(op: ReduceOp, x: Ref, axis?: number | number[] | null, keepDims = false): Ref {
  const axes = normAxes(axis, x.shape.length);
  const out = REDUCE_DTYPE[op][x.dtype];
  // the dtype the values are reduced in
  const inType: DType = op === 'all' || op === 'any' ? 'bool' : out;
  const src = cast(x, inType);
  const { buckets } = groups(src, axes);
  return {
    shape: reducedShape(x.shape, axes, keepDims),
    dtype: out,
    data: buckets.map((b) => store(out, reduceValues(op, b, inType))),
  };
}

/** argmax/argmin: first occurrence wins; the first NaN wins over everything.  No axis: flattened. */
export function argReduce(op: 'argmax' | 'argmin', x: Ref, axis?: number, keepDims = false): Ref {
  let t = x;
  let keep = keepDims;
  let allOnes = false; // no axis with keepDims (numpy): every axis kept with length 1
  if (axis === undefined || axis === null) {
    t = { ...x, shape: [x.data.length] };
    axis = 0;
    keep = false;
    allOnes = keepDims;
  }
  const a = normAxis(axis, t.shape.length);
  if (t.shape[a] === 0) throw new Error('reference: arg-reduction of an empty axis');
  const { buckets } = groups(t, [a]);
  const better = op === 'argmax' ? (v: number, m: number) => v > m : (v: number, m: number) => v < m;
  const data = buckets.map((b) => {
    const nan = b.findIndex((v) => Number.isNaN(v));
    if (nan >= 0) return nan;
    let k = 0;
    for (let i = 1; i < b.length; i++) if (better(b[i], b[k])) k = i;
    return k;
  });
  return { shape: allOnes ? x.shape.map(() => 1) : reducedShape(t.shape, [a], keep), dtype: 'int32', data };
}

// ------------------------------------------------------------------------------------------------
// linear algebra

/** Batched matrix product with numpy broadcasting of batch dims; 1-D operands are vectors. */
export function matmul(a: Ref, b: Ref, transposeA = false, transposeB = false): Ref {
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error('reference: matmul of a scalar');
  const dtype = UPCAST[a.dtype][b.dtype];
  const vecA = a.shape.length === 1;
  const vecB = b.shape.length === 1;
  const as = vecA ? [1, a.shape[0]] : a.shape;
  const bs = vecB ? [b.shape[0], 1] : b.shape;
  const ta = vecA ? false : transposeA;
  const tb = vecB ? false : transposeB;
  const ra = as.length;
  const rb = bs.length;
  const m = ta ? as[ra - 1] : as[ra - 2];
  const k = ta ? as[ra - 2] : as[ra - 1];
  const kb = tb ? bs[rb - 1] : bs[rb - 2];
  const n = tb ? bs[rb - 2] : bs[rb - 1];
  if (k !== kb) throw new Error(`reference: matmul inner dims ${k} vs ${kb}`);
  const batch = broadcastShapes(as.slice(0, -2), bs.slice(0, -2));
  const aIdx = broadcastIndex(as.slice(0, -2), batch);
  const bIdx = broadcastIndex(bs.slice(0, -2), batch);
  const nb = sizeOf(batch);
  const ca = cast(a, dtype).data;
  const cb = cast(b, dtype).data;
  const sa0 = as[ra - 2] * as[ra - 1];
  const sb0 = bs[rb - 2] * bs[rb - 1];
  const data: number[] = [];
  for (let t = 0; t < nb; t++) {
    const ao = aIdx[t] * sa0;
    const bo = bIdx[t] * sb0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = ca[ao + (ta ? p * m + i : i * k + p)];
          const y = cb[bo + (tb ? j * k + p : p * n + j)];
          s = dtype === 'int32' ? (s + Math.imul(x, y)) | 0 : s + x * y;
        }
        data.push(store(dtype, s));
      }
    }
  }
  const shape = [...batch, ...(vecA ? [] : [m]), ...(vecB ? [] : [n])];
  return { shape, dtype, data };
}

/** numpy's dot: scalars multiply; otherwise the last axis of a meets the second-to-last of b (or b's only axis). */
export function dot(a: Ref, b: Ref): Ref {
  if (a.shape.length === 0 || b.shape.length === 0) return binary('mul', a, b);
  const dtype = UPCAST[a.dtype][b.dtype];
  const ka = a.shape[a.shape.length - 1];
  const bAxis = b.shape.length === 1 ? 0 : b.shape.length - 2;
  if (b.shape[bAxis] !== ka) throw new Error('reference: dot inner dims differ');
  const aOuter = a.shape.slice(0, -1);
  const bOuter = b.shape.filter((_, i) => i !== bAxis);
  const ca = cast(a, dtype).data;
  const cb = cast(b, dtype).data;
  const bStr = stridesOf(b.shape);
  const nA = sizeOf(aOuter);
  const nB = sizeOf(bOuter);
  const data: number[] = [];
  for (let i = 0; i < nA; i++) {
    for (let j = 0; j < nB; j++) {
      const bi = unravel(j, bOuter);
      bi.splice(bAxis, 0, 0);
      const bBase = ravel(bi, bStr);
      let s = 0;
      for (let p = 0; p < ka; p++) {
        const x = ca[i * ka + p];
        const y = cb[bBase + p * bStr[bAxis]];
        s = dtype === 'int32' ? (s + Math.imul(x, y)) | 0 : s + x * y;
      }
      data.push(store(dtype, s));
    }
  }
  return { shape: [...aOuter, ...bOuter], dtype, data };
}

export function outer(a: Ref, b: Ref): Ref {
  const dtype = UPCAST[a.dtype][b.dtype];
  const ca = cast(a, dtype).data;
  const cb = cast(b, dtype).data;
  const data: number[] = [];
  for (const x of ca) for (const y of cb) data.push(store(dtype, binaryScalar('mul', x, y, dtype)));
  return { shape: [ca.length, cb.length], dtype, data };
}

// ------------------------------------------------------------------------------------------------
// shape ops

export function reshape(x: Ref, shape: number[]): Ref {
  const n = x.data.length;
  const known = sizeOf(shape.filter((d) => d !== -1));
  const out = shape.map((d) => (d === -1 ? n / known : d));
  if (sizeOf(out) !== n) throw new Error('reference: reshape size mismatch');
  return { shape: out, dtype: x.dtype, data: x.data.slice() };
}

export function flatten(x: Ref): Ref {
  return { shape: [x.data.length], dtype: x.dtype, data: x.data.slice() };
}

export function expandDims(x: Ref, axis = 0): Ref {
  const a = normAxis(axis, x.shape.length + 1);
  const shape = x.shape.slice();
  shape.splice(a, 0, 1);
  return { shape, dtype: x.dtype, data: x.data.slice() };
}

export function squeeze(x: Ref, axis?: number | number[]): Ref {
  const drop = axis === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : (Array.isArray(axis) ? axis : [axis]).map((a) => normAxis(a, x.shape.length));
  return { shape: x.shape.filter((_, i) => !drop.includes(i)), dtype: x.dtype, data: x.data.slice() };
}

export function transpose(x: Ref, perm?: number[]): Ref {
  const r = x.shape.length;
  const p = (perm ?? [...Array(r).keys()].reverse()).map((a) => normAxis(a, r));
  const shape = p.map((a) => x.shape[a]);
  const st = stridesOf(x.shape);
  const n = x.data.length;
  const data: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    let o = 0;
    for (let d = 0; d < r; d++) o += idx[d] * st[p[d]];
    data[i] = x.data[o];
  }
  return { shape, dtype: x.dtype, data };
}

/** Theano's dimshuffle: the listed axes in order (left-out size-1 axes dropped), 'x' a new axis of size 1. */
export function dimshuffle(x: Ref, pattern: (number | 'x')[]): Ref {
  const used = pattern.filter((p): p is number => p !== 'x');
  const dropped = x.shape.map((_, i) => i).filter((i) => !used.includes(i));
  if (dropped.some((i) => x.shape[i] !== 1)) throw new Error('reference: dimshuffle drops an axis of size other than 1');
  const t = transpose(x, [...used, ...dropped]);
  return { shape: pattern.map((p) => (p === 'x' ? 1 : x.shape[p])), dtype: t.dtype, data: t.data };
}

/** Picks out[idx] = x[map(idx)] for every index of shape. */
function gatherBy(x: Ref, shape: number[], map: (idx: number[]) => number): Ref {
  const n = sizeOf(shape);
  const data: number[] = new Array(n);
  for (let i = 0; i < n; i++) data[i] = x.data[map(unravel(i, shape))];
  return { shape, dtype: x.dtype, data };
}

export function broadcastTo(x: Ref, shape: number[]): Ref {
  const b = broadcastShapes(x.shape, shape);
  if (b.join() !== shape.join()) throw new Error('reference: broadcastTo mismatch');
  const idx = broadcastIndex(x.shape, shape);
  return { shape: shape.slice(), dtype: x.dtype, data: idx.map((o) => x.data[o]) };
}

export function slice(x: Ref, begin: number | number[], size?: number | number[]): Ref {
  const b = Array.isArray(begin) ? begin : [begin];
  const sz = size === undefined ? b.map(() => -1) : Array.isArray(size) ? size : [size];
  const starts = x.shape.map((d, i) => (i < b.length ? (b[i] < 0 ? b[i] + d : b[i]) : 0));
  const shape = x.shape.map((d, i) => (i < b.length ? (sz[i] === -1 ? d - starts[i] : sz[i]) : d));
  for (let i = 0; i < shape.length; i++) if (starts[i] < 0 || shape[i] < 0 || starts[i] + shape[i] > x.shape[i]) throw new Error('reference: slice out of bounds');
  const st = stridesOf(x.shape);
  return gatherBy(x, shape, (idx) => ravel(idx.map((v, d) => v + starts[d]), st));
}

/** Python slice semantics: start, step and length of x[b:e:s] on an axis of size dim. */
export function sliceIndices(dim: number, b: number | null | undefined, e: number | null | undefined, s: number): { start: number; len: number } {
  let start: number;
  let stop: number;
  if (s > 0) {
    start = b == null ? 0 : b < 0 ? Math.max(b + dim, 0) : Math.min(b, dim);
    stop = e == null ? dim : e < 0 ? Math.max(e + dim, 0) : Math.min(e, dim);
    return { start, len: stop > start ? Math.floor((stop - start - 1) / s) + 1 : 0 };
  }
  start = b == null ? dim - 1 : b < 0 ? Math.max(b + dim, -1) : Math.min(b, dim - 1);
  stop = e == null ? -1 : e < 0 ? Math.max(e + dim, -1) : Math.min(e, dim - 1);
  return { start, len: start > stop ? Math.floor((start - stop - 1) / -s) + 1 : 0 };
}

export function stridedSlice(x: Ref, begin: (number | null)[], end: (number | null)[], strides?: number[]): Ref {
  const steps = x.shape.map((_, i) => strides?.[i] ?? 1);
  const sl = x.shape.map((d, i) => sliceIndices(d, begin[i], end[i], steps[i]));
  const st = stridesOf(x.shape);
  return gatherBy(x, sl.map((s) => s.len), (idx) => ravel(idx.map((v, d) => sl[d].start + v * steps[d]), st));
}

export function concatDtype(ds: DType[]): DType {
  return ds.reduce((p, q) => (p === q ? p : UPCAST[p][q]));
}

export function concat(xs: Ref[], axis = 0): Ref {
  const a = normAxis(axis, xs[0].shape.length);
  const dtype = concatDtype(xs.map((t) => t.dtype));
  const parts = xs.map((t) => cast(t, dtype));
  const shape = xs[0].shape.slice();
  shape[a] = xs.reduce((s, t) => s + t.shape[a], 0);
  const owner: number[] = []; // part holding each position along the axis
  const local: number[] = [];
  xs.forEach((t, k) => {
    for (let p = 0; p < t.shape[a]; p++) owner.push(k), local.push(p);
  });
  const n = sizeOf(shape);
  const data: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    const k = owner[idx[a]];
    idx[a] = local[idx[a]];
    data[i] = parts[k].data[ravel(idx, stridesOf(xs[k].shape))];
  }
  return { shape, dtype, data };
}

export function stack(xs: Ref[], axis = 0): Ref {
  const a = normAxis(axis, xs[0].shape.length + 1);
  return concat(xs.map((t) => expandDims(t, a)), a);
}

export function split(x: Ref, numOrSizes: number | number[], axis = 0): Ref[] {
  const a = normAxis(axis, x.shape.length);
  const dim = x.shape[a];
  let sizes: number[];
  if (typeof numOrSizes === 'number') sizes = new Array(numOrSizes).fill(dim / numOrSizes);
  else {
    const known = numOrSizes.filter((s) => s !== -1).reduce((p, q) => p + q, 0);
    sizes = numOrSizes.map((s) => (s === -1 ? dim - known : s));
  }
  const out: Ref[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(slice(x, x.shape.map((_, i) => (i === a ? start : 0)), x.shape.map((d, i) => (i === a ? s : d))));
    start += s;
  }
  return out;
}

export function tile(x: Ref, reps: number[]): Ref {
  const rank = Math.max(x.shape.length, reps.length);
  const xs = [...new Array(rank - x.shape.length).fill(1), ...x.shape];
  const rs = [...new Array(rank - reps.length).fill(1), ...reps];
  const shape = xs.map((d, i) => d * rs[i]);
  const st = stridesOf(xs);
  return gatherBy(x, shape, (idx) => ravel(idx.map((v, d) => v % xs[d]), st));
}

export function pad(x: Ref, paddings: [number, number][], value = 0): Ref {
  const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const st = stridesOf(x.shape);
  const fill = store(x.dtype, value);
  const n = sizeOf(shape);
  const data: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape).map((v, d) => v - paddings[d][0]);
    data[i] = idx.every((v, d) => v >= 0 && v < x.shape[d]) ? x.data[ravel(idx, st)] : fill;
  }
  return { shape, dtype: x.dtype, data };
}

/** out = x.shape[:axis] + indices.shape + x.shape[axis+1:]; negative indices count from the end. */
export function gather(x: Ref, indices: Ref, axis = 0): Ref {
  const a = normAxis(axis, x.shape.length);
  const dim = x.shape[a];
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const st = stridesOf(x.shape);
  const ni = indices.shape.length;
  const ist = stridesOf(indices.shape);
  return gatherBy(x, shape, (idx) => {
    let k = indices.data[ravel(idx.slice(a, a + ni), ist)];
    if (k < -dim || k >= dim) throw new Error(`reference: gather index ${k} out of range`);
    if (k < 0) k += dim;
    return ravel([...idx.slice(0, a), k, ...idx.slice(a + ni)], st);
  });
}

export function oneHot(indices: Ref, depth: number, onValue = 1, offValue = 0, dtype: DType = 'float32'): Ref {
  const data: number[] = [];
  for (const k of indices.data) for (let j = 0; j < depth; j++) data.push(store(dtype, j === k ? onValue : offValue));
  return { shape: [...indices.shape, depth], dtype, data };
}

// ------------------------------------------------------------------------------------------------
// nn

function softmaxLike(x: Ref, axis: number, log: boolean): Ref {
  const dtype = FLOAT_DTYPE[x.dtype];
  const t = cast(x, dtype);
  const a = normAxis(axis, t.shape.length);
  const outer = sizeOf(t.shape.slice(0, a));
  const n = t.shape[a];
  const inner = sizeOf(t.shape.slice(a + 1));
  const data: number[] = new Array(t.data.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = (i: number) => (o * n + i) * inner + j;
      let m = -Infinity;
      for (let i = 0; i < n; i++) m = Math.max(m, t.data[at(i)]);
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.exp(t.data[at(i)] - m);
      for (let i = 0; i < n; i++) {
        const v = t.data[at(i)];
        data[at(i)] = store(dtype, log ? v - m - Math.log(s) : Math.exp(v - m) / s);
      }
    }
  }
  return { shape: t.shape.slice(), dtype, data };
}

export function softmax(x: Ref, axis = -1): Ref {
  return softmaxLike(x, axis, false);
}

export function logSoftmax(x: Ref, axis = -1): Ref {
  return softmaxLike(x, axis, true);
}

export type Padding = 'same' | 'valid' | number;

export interface ConvOpts {
  strides?: number | [number, number];
  padding?: Padding;
  dilations?: number | [number, number];
}

export interface PoolOpts {
  poolSize?: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
}

function pairOf(v: number | [number, number] | undefined, dflt: number): [number, number] {
  return v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
}

/** TensorFlow's output size and leading pad for one spatial axis. */
export function convAxis(inSize: number, k: number, stride: number, dil: number, padding: Padding): { out: number; pad: number } {
  const span = (k - 1) * dil + 1;
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + span - inSize, 0);
    return { out, pad: Math.floor(total / 2) };
  }
  const p = padding === 'valid' ? 0 : padding;
  return { out: Math.floor((inSize + 2 * p - span) / stride) + 1, pad: p };
}

interface Geom {
  n: number; h: number; w: number; c: number;
  kh: number; kw: number; f: number;
  oh: number; ow: number;
  sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
}

function convGeom(xShape: number[], fShape: number[], opts: ConvOpts): Geom {
  const [n, h, w, c] = xShape;
  const [kh, kw, , f] = fShape;
  const [sh, sw] = pairOf(opts.strides, 1);
  const [dh, dw] = pairOf(opts.dilations, 1);
  const ax = convAxis(h, kh, sh, dh, opts.padding ?? 'valid');
  const aw = convAxis(w, kw, sw, dw, opts.padding ?? 'valid');
  return { n, h, w, c, kh, kw, f, oh: ax.out, ow: aw.out, sh, sw, dh, dw, pt: ax.pad, pl: aw.pad };
}

function convDtype(a: Ref, b: Ref): DType {
  const da = FLOAT_DTYPE[a.dtype];
  const db = FLOAT_DTYPE[b.dtype];
  if (da !== db) throw new Error('reference: conv needs operands of one float dtype');
  return da;
}

/** Visits every (output cell, filter tap) pair whose input cell is in bounds. */
function convTaps(g: Geom, visit: (b: number, oy: number, ox: number, ky: number, kx: number, iy: number, ix: number) => void): void {
  for (let b = 0; b < g.n; b++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            visit(b, oy, ox, ky, kx, iy, ix);
          }
        }
}

/** NHWC input, [kh, kw, in, out] filter. */
export function conv2d(x: Ref, w: Ref, opts: ConvOpts = {}): Ref {
  const dtype = convDtype(x, w);
  const g = convGeom(x.shape, w.shape, opts);
  const acc = new Array<number>(g.n * g.oh * g.ow * g.f).fill(0);
  const xd = cast(x, dtype).data;
  const wd = cast(w, dtype).data;
  convTaps(g, (b, oy, ox, ky, kx, iy, ix) => {
    const ob = ((b * g.oh + oy) * g.ow + ox) * g.f;
    const xb = ((b * g.h + iy) * g.w + ix) * g.c;
    const wb = (ky * g.kw + kx) * g.c * g.f;
    for (let ci = 0; ci < g.c; ci++) for (let fo = 0; fo < g.f; fo++) acc[ob + fo] += xd[xb + ci] * wd[wb + ci * g.f + fo];
  });
  return { shape: [g.n, g.oh, g.ow, g.f], dtype, data: acc.map((v) => store(dtype, v)) };
}

export function conv2dGradInput(dy: Ref, w: Ref, inputShape: number[], opts: ConvOpts = {}): Ref {
  const dtype = convDtype(dy, w);
  const g = convGeom(inputShape, w.shape, opts);
  const acc = new Array<number>(sizeOf(inputShape)).fill(0);
  const dd = cast(dy, dtype).data;
  const wd = cast(w, dtype).data;
  convTaps(g, (b, oy, ox, ky, kx, iy, ix) => {
    const ob = ((b * g.oh + oy) * g.ow + ox) * g.f;
    const xb = ((b * g.h + iy) * g.w + ix) * g.c;
    const wb = (ky * g.kw + kx) * g.c * g.f;
    for (let ci = 0; ci < g.c; ci++) for (let fo = 0; fo < g.f; fo++) acc[xb + ci] += dd[ob + fo] * wd[wb + ci * g.f + fo];
  });
  return { shape: inputShape.slice(), dtype, data: acc.map((v) => store(dtype, v)) };
}

export function conv2dGradFilter(x: Ref, dy: Ref, filterShape: number[], opts: ConvOpts = {}): Ref {
  const dtype = convDtype(x, dy);
  const g = convGeom(x.shape, filterShape, opts);
  const acc = new Array<number>(sizeOf(filterShape)).fill(0);
  const xd = cast(x, dtype).data;
  const dd = cast(dy, dtype).data;
  convTaps(g, (b, oy, ox, ky, kx, iy, ix) => {
    const ob = ((b * g.oh + oy) * g.ow + ox) * g.f;
    const xb = ((b * g.h + iy) * g.w + ix) * g.c;
    const wb = (ky * g.kw + kx) * g.c * g.f;
    for (let ci = 0; ci < g.c; ci++) for (let fo = 0; fo < g.f; fo++) acc[wb + ci * g.f + fo] += xd[xb + ci] * dd[ob + fo];
  });
  return { shape: filterShape.slice(), dtype, data: acc.map((v) => store(dtype, v)) };
}

function poolGeom(xShape: number[], opts: PoolOpts): Geom {
  const [kh, kw] = pairOf(opts.poolSize, 2);
  const [sh, sw] = pairOf(opts.strides ?? [kh, kw], 1);
  const [n, h, w, c] = xShape;
  const ax = convAxis(h, kh, sh, 1, opts.padding ?? 'valid');
  const aw = convAxis(w, kw, sw, 1, opts.padding ?? 'valid');
  return { n, h, w, c, kh, kw, f: c, oh: ax.out, ow: aw.out, sh, sw, dh: 1, dw: 1, pt: ax.pad, pl: aw.pad };
}

/** In-bounds input offsets (scan order: window rows, then columns) of output cell (b, oy, ox), channel 0. */
function window(g: Geom, b: number, oy: number, ox: number): number[] {
  const cells: number[] = [];
  for (let ky = 0; ky < g.kh; ky++) {
    const iy = oy * g.sh - g.pt + ky;
    if (iy < 0 || iy >= g.h) continue;
    for (let kx = 0; kx < g.kw; kx++) {
      const ix = ox * g.sw - g.pl + kx;
      if (ix < 0 || ix >= g.w) continue;
      cells.push(((b * g.h + iy) * g.w + ix) * g.c);
    }
  }
  return cells;
}

function poolEach(g: Geom, visit: (outOffset: number, cells: number[], ch: number) => void): void {
  for (let b = 0; b < g.n; b++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        const cells = window(g, b, oy, ox);
        for (let ch = 0; ch < g.c; ch++) visit(((b * g.oh + oy) * g.ow + ox) * g.c + ch, cells, ch);
      }
}

export function maxPool2d(x: Ref, opts: PoolOpts = {}): Ref {
  const dtype = FLOAT_DTYPE[x.dtype];
  const xd = cast(x, dtype).data;
  const g = poolGeom(x.shape, opts);
  const data = new Array<number>(g.n * g.oh * g.ow * g.c);
  poolEach(g, (o, cells, ch) => {
    let m = -Infinity;
    for (const cell of cells) m = Math.max(m, xd[cell + ch]);
    data[o] = m;
  });
  return { shape: [g.n, g.oh, g.ow, g.c], dtype, data };
}

export function avgPool2d(x: Ref, opts: PoolOpts = {}): Ref {
  const dtype = FLOAT_DTYPE[x.dtype];
  const xd = cast(x, dtype).data;
  const g = poolGeom(x.shape, opts);
  const data = new Array<number>(g.n * g.oh * g.ow * g.c);
  poolEach(g, (o, cells, ch) => {
    let s = 0;
    for (const cell of cells) s += xd[cell + ch];
    data[o] = store(dtype, s / cells.length);
  });
  return { shape: [g.n, g.oh, g.ow, g.c], dtype, data };
}

/** dy of each window goes to the first maximum of the window (scan order). */
export function maxPool2dGrad(x: Ref, dy: Ref, opts: PoolOpts = {}): Ref {
  const dtype = FLOAT_DTYPE[x.dtype];
  const xd = cast(x, dtype).data;
  const dd = cast(dy, dtype).data;
  const g = poolGeom(x.shape, opts);
  const acc = new Array<number>(xd.length).fill(0);
  poolEach(g, (o, cells, ch) => {
    let best = -1;
    for (const cell of cells) if (best < 0 || xd[cell + ch] > xd[best + ch]) best = cell;
    if (best >= 0) acc[best + ch] += dd[o];
  });
  return { shape: x.shape.slice(), dtype, data: acc.map((v) => store(dtype, v)) };
}

/** dy of each window spread evenly over its in-bounds cells. */
export function avgPool2dGrad(dy: Ref, inputShape: number[], opts: PoolOpts = {}): Ref {
  const dtype = FLOAT_DTYPE[dy.dtype];
  const dd = cast(dy, dtype).data;
  const g = poolGeom(inputShape, opts);
  const acc = new Array<number>(sizeOf(inputShape)).fill(0);
  poolEach(g, (o, cells, ch) => {
    for (const cell of cells) acc[cell + ch] += dd[o] / cells.length;
  });
  return { shape: inputShape.slice(), dtype, data: acc.map((v) => store(dtype, v)) };
}

// ------------------------------------------------------------------------------------------------
// creation

export function arange(start: number, stop: number, step: number, dtype: DType = 'float32'): Ref {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return make([n], dtype, Array.from({ length: n }, (_, i) => start + i * step));
}

export function linspace(start: number, stop: number, num: number, dtype: DType = 'float32'): Ref {
  const data = Array.from({ length: num }, (_, i) => (num === 1 ? start : start + ((stop - start) * i) / (num - 1)));
  return make([num], dtype, data);
}

export function eye(n: number, m = n, k = 0, dtype: DType = 'float32'): Ref {
  const data: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) data.push(j - i === k ? 1 : 0);
  return make([n, m], dtype, data);
}

// ------------------------------------------------------------------------------------------------
// seeded random inputs

/** A small seeded generator (xorshift32 with a splitting step on the seed). */
export class Rng {
  private s: number;

  constructor(seed: number) {
    let z = (seed ^ 0x5bd1e995) >>> 0;
    z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0;
    z = Math.imul(z ^ (z >>> 12), 0x297a2d39) >>> 0;
    this.s = (z ^ (z >>> 15)) >>> 0 || 0x9e3779b9;
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return ((this.u32() >>> 5) * 2 ** 26 + (this.u32() >>> 6)) / 2 ** 53;
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** A random shape of the given rank with dims in [lo, hi]. */
  shape(rank: number, lo = 1, hi = 4): number[] {
    return Array.from({ length: rank }, () => this.int(lo, hi));
  }
}

export interface RandomOpts {
  /** Float range (default [-3, 3]). */
  lo?: number;
  hi?: number;
  /** Int range (default [-9, 9]). */
  ilo?: number;
  ihi?: number;
  /** Chance of NaN / ±Infinity / ±0 per float element (default 0). */
  special?: number;
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0];

export function randomRef(rng: Rng, shape: number[], dtype: DType, opts: RandomOpts = {}): Ref {
  const n = sizeOf(shape);
  const data: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') data[i] = rng.bool() ? 1 : 0;
    else if (dtype === 'int32') data[i] = rng.int(opts.ilo ?? -9, opts.ihi ?? 9);
    else if (opts.special && rng.next() < opts.special) data[i] = rng.pick(SPECIALS);
    else data[i] = store(dtype, rng.uniform(opts.lo ?? -3, opts.hi ?? 3));
  }
  return { shape: shape.slice(), dtype, data };
}

/** Two shapes that broadcast together (right-aligned; some dims 1, some leading dims missing). */
export function broadcastPair(rng: Rng, maxRank = 4, allowEmpty = true): [number[], number[]] {
  const rank = rng.int(0, maxRank);
  const full = Array.from({ length: rank }, () => (allowEmpty && rng.next() < 0.08 ? 0 : rng.int(1, 4)));
  const make1 = (): number[] => {
    const drop = rng.int(0, rank);
    return full.slice(drop).map((d) => (rng.next() < 0.3 ? 1 : d));
  };
  return rng.bool() ? [make1(), full.slice()] : [full.slice(), make1()];
}
