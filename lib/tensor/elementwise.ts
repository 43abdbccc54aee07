// Elementwise ops.  Every one lowers to the native ELEMWISE bytecode (one micro-op here; the graph
// compiler fuses chains into longer programs).  Numbers stay numbers: they become CONST micro-ops.
import { DType, DTYPE_CODE, floatOf, isDType, isFloat, upcast } from '../dtype';
import { argError, dtypeError, fmtValue } from '../errors';
import { EW, EwCode, Op } from '../ops.generated';
import { broadcastPair, broadcastShapes } from './shape-util';
import { Tensor, TensorLike } from './tensor';
import { Emitter, Val, eager } from './emitter';
import { EwAttrs, EwBuilder } from './ew-builder';
import { asTensor } from './creation';
import * as composites from './composites';
import { eagerOps } from './eager-ops';

/** A tensor, or a plain number that takes the dtype of the tensors it meets (numpy's weak scalars). */
type Arg = Tensor | number;

function asArg(op: string, x: TensorLike): Arg {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  return asTensor(op, x);
}

/** The dtype a number takes next to tensors of dtype `other`. */
export function weakType(v: number, other: DType | undefined): DType {
  if (other === undefined) return 'float32';
  if (isFloat(other)) return other;
  return Number.isInteger(v) ? 'int32' : 'float32';
}

/** Runs one micro-op over args (tensors broadcast; numbers inlined) computing in ctype. */
export function ewCall(op: string, code: EwCode, args: Arg[], ctype: DType, outDtype: DType, p0 = 0, p1 = 0): Tensor {
  let anyTensor = false;
  for (let i = 0; i < args.length; i++) if (args[i] instanceof Tensor) anyTensor = true;
  if (!anyTensor) {
    args = args.map((a) => asTensor(op, a, ctype === 'bool' ? 'int32' : ctype));
  }
  return ewCallWith(eager, op, code, args, ctype, outDtype, p0, p1);
}

/** The ELEMWISE attributes of one micro-op over tensors (inputs, in order) and inlined numbers. */
export function ewProgram(code: EwCode, args: (Val | number)[], ctype: DType, p0 = 0, p1 = 0): EwAttrs {
  const b = new EwBuilder(ctype);
  const tensorRegs = args.map((a) => (typeof a === 'number' ? null : b.input()));
  const regs = args.map((a, i) => tensorRegs[i] ?? b.constant(a as number));
  b.output(b.op(code, regs, p0, p1));
  return b.build();
}

/**
 * The attributes of ewProgram's one-micro-op programs, built once per signature: what the built
 * program depends on besides the numbers themselves (micro-op, compute dtype, argument count and
 * which arguments are numbers).  Numbers and p0/p1 only fill fattr slots (each number is a CONST
 * whose p0 is fattr[2k], in argument order; the op's p0/p1 are the last two), so an entry keeps
 * the fattr of its last call and copies it only when one of those values differs.
 */
interface EwSignature {
  iattr: number[];
  fattr: number[];
}

/** At most this many signatures are kept (far more than the ops × dtypes × number patterns). */
const EW_CACHE_LIMIT = 1024;
const ewCache = new Map<number, EwSignature>();

/** A number naming the signature of (code, args, ctype), or -1 where none is cached. */
function ewSignatureKey(code: number, args: readonly (Val | number)[], ctype: DType): number {
  const n = args.length;
  const ct = DTYPE_CODE[ctype === 'bool' ? 'int32' : ctype];
  if (n > 3 || ct === undefined || !Number.isInteger(code) || code < 0 || code >= 4096) return -1;
  let mask = 0;
  for (let i = 0; i < n; i++) if (typeof args[i] === 'number') mask |= 1 << i;
  return ((code * 4 + ct) * 4 + n) * 8 + mask;
}

/** ewProgram's attributes through the signature cache; the arrays are shared: read them only. */
function ewProgramShared(code: EwCode, args: readonly (Val | number)[], ctype: DType, p0: number, p1: number): EwAttrs {
  const key = ewSignatureKey(code, args, ctype);
  if (key < 0) return ewProgram(code, args as (Val | number)[], ctype, p0, p1);
  const hit = ewCache.get(key);
  if (hit === undefined) {
    const built = ewProgram(code, args as (Val | number)[], ctype, p0, p1);
    if (ewCache.size >= EW_CACHE_LIMIT) ewCache.clear();
    ewCache.set(key, { iattr: built.iattr, fattr: built.fattr });
    return built;
  }
  let fattr = hit.fattr;
  let k = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a !== 'number') continue;
    if (!Object.is(fattr[k], a)) {
      if (fattr === hit.fattr) fattr = fattr.slice();
      fattr[k] = a;
    }
    k += 2;
  }
  if (!Object.is(fattr[k], p0) || !Object.is(fattr[k + 1], p1)) {
    if (fattr === hit.fattr) fattr = fattr.slice();
    fattr[k] = p0;
    fattr[k + 1] = p1;
  }
  hit.fattr = fattr;
  return hit;
}

export function ewCallWith<V extends Val>(em: Emitter<V>, op: string, code: EwCode, args: (V | number)[], ctype: DType, outDtype: DType, p0 = 0, p1 = 0): V {
  let nT = 0;
  for (let i = 0; i < args.length; i++) if (typeof args[i] !== 'number') nT++;
  const tensors = new Array<V>(nT);
  nT = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a !== 'number') tensors[nT++] = a;
  }
  const outShape =
    nT === 1 ? tensors[0].shape.slice() : nT === 2 ? broadcastPair(op, tensors[0].shape, tensors[1].shape) : broadcastShapes(op, ...tensors.map((t) => t.shape));
  const attrs = ewProgramShared(code, args, ctype, p0, p1);
  // the eager emitter reads the attributes at once; a recorded program owns its own copies
  const shared = em === (eager as unknown as Emitter<V>);
  const iattr = shared ? attrs.iattr : attrs.iattr.slice();
  const fattr = shared ? attrs.fattr : attrs.fattr.slice();
  return em.emit(op, Op.ELEMWISE, tensors, [{ dtype: outDtype, shape: outShape }], iattr, fattr)[0];
}

/** How an op's result dtype follows from its inputs' (shared with the symbolic ops). */
export type EwKind = 'float' | 'keep' | 'pred' | 'arith' | 'div' | 'compare' | 'logical' | 'where';

/** The params of an op that has none (one shared array rather than a new one per call). */
const NO_PARAMS: readonly number[] = Object.freeze([]);

/** Every elementwise op: its micro-op and dtype rule. */
export const EW_OPS = {
  neg: { code: EW.NEG, kind: 'keep' },
  abs: { code: EW.ABS, kind: 'keep' },
  sign: { code: EW.SIGN, kind: 'keep' },
  square: { code: EW.SQUARE, kind: 'keep' },
  relu: { code: EW.RELU, kind: 'keep' },
  floor: { code: EW.FLOOR, kind: 'keep' },
  ceil: { code: EW.CEIL, kind: 'keep' },
  round: { code: EW.ROUND, kind: 'keep' },
  clip: { code: EW.CLIP, kind: 'keep' },
  exp: { code: EW.EXP, kind: 'float' },
  expm1: { code: EW.EXPM1, kind: 'float' },
  log: { code: EW.LOG, kind: 'float' },
  log1p: { code: EW.LOG1P, kind: 'float' },
  sqrt: { code: EW.SQRT, kind: 'float' },
  rsqrt: { code: EW.RSQRT, kind: 'float' },
  reciprocal: { code: EW.RECIPROCAL, kind: 'float' },
  sin: { code: EW.SIN, kind: 'float' },
  cos: { code: EW.COS, kind: 'float' },
  tanh: { code: EW.TANH, kind: 'float' },
  sigmoid: { code: EW.SIGMOID, kind: 'float' },
  leakyRelu: { code: EW.LEAKY_RELU, kind: 'float' },
  elu: { code: EW.ELU, kind: 'float' },
  selu: { code: EW.SELU, kind: 'float' },
  gelu: { code: EW.GELU, kind: 'float' },
  softplus: { code: EW.SOFTPLUS, kind: 'float' },
  erf: { code: EW.ERF, kind: 'float' },
  isNaN: { code: EW.ISNAN, kind: 'pred' },
  isFinite: { code: EW.ISFINITE, kind: 'pred' },
  logicalNot: { code: EW.LOGICAL_NOT, kind: 'pred' },
  add: { code: EW.ADD, kind: 'arith' },
  sub: { code: EW.SUB, kind: 'arith' },
  mul: { code: EW.MUL, kind: 'arith' },
  div: { code: EW.DIV, kind: 'div' },
  pow: { code: EW.POW, kind: 'arith' },
  maximum: { code: EW.MAXIMUM, kind: 'arith' },
  minimum: { code: EW.MINIMUM, kind: 'arith' },
  mod: { code: EW.MOD, kind: 'arith' },
  equal: { code: EW.EQUAL, kind: 'compare' },
  notEqual: { code: EW.NOT_EQUAL, kind: 'compare' },
  less: { code: EW.LESS, kind: 'compare' },
  lessEqual: { code: EW.LESS_EQUAL, kind: 'compare' },
  greater: { code: EW.GREATER, kind: 'compare' },
  greaterEqual: { code: EW.GREATER_EQUAL, kind: 'compare' },
  logicalAnd: { code: EW.LOGICAL_AND, kind: 'logical' },
  logicalOr: { code: EW.LOGICAL_OR, kind: 'logical' },
  where: { code: EW.WHERE, kind: 'where' },
} as const satisfies Record<string, { code: EwCode; kind: EwKind }>;

export type EwName = keyof typeof EW_OPS;

/** Compute dtype and result dtype of op `name` over inputs of `dtypes` (params: clip bounds). */
export function ewTypes(name: EwName, dtypes: DType[], params: readonly number[] = NO_PARAMS): { ctype: DType; out: DType } {
  const kind: EwKind = EW_OPS[name].kind;
  switch (kind) {
    case 'float': {
      const d = floatOf(dtypes[0]);
      return { ctype: d, out: d };
    }
    case 'keep': {
      let d: DType = dtypes[0] === 'bool' ? 'int32' : dtypes[0];
      if (d === 'int32') for (const p of params) if (!Number.isInteger(p)) d = 'float32';
      return { ctype: d, out: d };
    }
    case 'pred':
      return { ctype: isFloat(dtypes[0]) ? dtypes[0] : 'int32', out: 'bool' };
    case 'arith': {
      const up = upcast(dtypes[0], dtypes[1]);
      return { ctype: up, out: up };
    }
    case 'div': {
      const up = upcast(dtypes[0], dtypes[1]);
      const d = up === 'int32' ? 'float32' : up;
      return { ctype: d, out: d };
    }
    case 'compare':
      return { ctype: upcast(dtypes[0], dtypes[1]), out: 'bool' };
    case 'logical': {
      const up = upcast(dtypes[0], dtypes[1]);
      return { ctype: isFloat(up) ? up : 'int32', out: 'bool' };
    }
    case 'where': {
      const [dc, da, db] = dtypes;
      const out: DType = da === 'bool' && db === 'bool' ? 'bool' : upcast(da, db);
      // a float condition with int branches is turned into bool by the caller (whereCondition)
      void dc;
      return { ctype: out === 'bool' ? 'int32' : out, out };
    }
  }
}

/** The dtypes of args, numbers taking the dtype of the tensors they meet (numpy's weak scalars). */
export function weakDtypes(args: readonly ({ readonly dtype: DType } | number)[]): DType[] {
  // loops rather than filter/map/reduce: this runs on every eager elementwise call
  let strongest: DType | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a !== 'number') strongest = strongest === undefined ? a.dtype : upcast(strongest, a.dtype);
  }
  const out = new Array<DType>(args.length);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    out[i] = typeof a !== 'number' ? a.dtype : weakType(a, strongest);
  }
  return out;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * The dtypes of op `name`'s args (weakDtypes), for a number that would become an int32 it cannot
 * hold: comparisons compare it exactly (as float64, which holds every int32 and the number);
 * every other op throws, as NumPy 2 does, rather than compute with a wrapped or clamped value.
 */
export function weakDtypesFor(name: EwName, args: ({ readonly dtype: DType } | number)[]): DType[] {
  const dtypes = weakDtypes(args);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a !== 'number' || dtypes[i] !== 'int32' || (a >= INT32_MIN && a <= INT32_MAX)) continue;
    if (EW_OPS[name].kind === 'compare') dtypes[i] = 'float64';
    else throw argError(name, `the number ${a} does not fit int32, the dtype it takes next to int32 or bool operands (int32 holds ${INT32_MIN} to ${INT32_MAX}); cast the tensor to 'float64' or pass the number as a float tensor`);
  }
  return dtypes;
}

/** Runs elementwise op `name` eagerly over tensors and weak numbers, with its dtype rule. */
export function applyEw(name: EwName, args: Arg[], params: readonly number[] = NO_PARAMS): Tensor {
  const { ctype, out } = ewTypes(name, weakDtypesFor(name, args), params);
  return ewCall(name, EW_OPS[name].code, args, ctype, out, params[0] ?? 0, params[1] ?? 0);
}

function unary(name: EwName) {
  return (x: TensorLike): Tensor => applyEw(name, [asArg(name, x)]);
}
function binary(name: EwName) {
  return (x: TensorLike, y: TensorLike): Tensor => applyEw(name, [asArg(name, x), asArg(name, y)]);
}

/** Elementwise negation, -x. */
export const neg = unary('neg');
/**
 * Elementwise absolute value |x|.
 * @example st.abs([-1, 2]).arraySync()  // [1, 2]
 */
export const abs = unary('abs');
/** Elementwise sign: -1, 0 or 1. */
export const sign = unary('sign');
/** Elementwise x². */
export const square = unary('square');
/** Elementwise max(x, 0). */
export const relu = unary('relu');
/** Elementwise floor. */
export const floor = unary('floor');
/** Elementwise ceiling. */
export const ceil = unary('ceil');
/** Elementwise rounding to the nearest integer, halves to even. */
export const round = unary('round');
/** Elementwise e^x. */
export const exp = unary('exp');
/** Elementwise e^x - 1, accurate for small x. */
export const expm1 = unary('expm1');
/** Elementwise natural logarithm. */
export const log = unary('log');
/** Elementwise log(1 + x), accurate for small x. */
export const log1p = unary('log1p');
/** Elementwise square root. */
export const sqrt = unary('sqrt');
/** Elementwise 1 / sqrt(x). */
export const rsqrt = unary('rsqrt');
/** Elementwise 1 / x. */
export const reciprocal = unary('reciprocal');
/** Elementwise sine. */
export const sin = unary('sin');
/** Elementwise cosine. */
export const cos = unary('cos');
/** Elementwise hyperbolic tangent. */
export const tanh = unary('tanh');
/** Elementwise logistic sigmoid 1 / (1 + e^-x). */
export const sigmoid = unary('sigmoid');
/** Elementwise scaled exponential linear unit (Klambauer et al.'s fixed scale and alpha). */
export const selu = unary('selu');
/** Elementwise Gaussian error linear unit, x·Φ(x). */
export const gelu = unary('gelu');
/** Elementwise log(1 + e^x), computed stably. */
export const softplus = unary('softplus');
/** Elementwise Gauss error function. */
export const erf = unary('erf');
/** Elementwise test for NaN (a bool result). */
export const isNaN = unary('isNaN');
/** Elementwise test for a finite value (a bool result). */
export const isFinite = unary('isFinite');
/** Elementwise logical not of a bool tensor. */
export const logicalNot = unary('logicalNot');

export function checkNum(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw argError(op, `${name} must be a number, got ${fmtValue(v)}`);
  return v;
}

/** x > 0 ? x : alpha * x */
export function leakyRelu(x: TensorLike, alpha = 0.2): Tensor {
  return applyEw('leakyRelu', [asArg('leakyRelu', x)], [checkNum('leakyRelu', 'alpha', alpha)]);
}

/** x > 0 ? x : alpha * (exp(x) - 1) */
export function elu(x: TensorLike, alpha = 1): Tensor {
  return applyEw('elu', [asArg('elu', x)], [checkNum('elu', 'alpha', alpha)]);
}

/** Limits every element to [min, max]. */
export function clip(x: TensorLike, min: number, max: number): Tensor {
  checkNum('clip', 'min', min);
  checkNum('clip', 'max', max);
  if (min > max) throw argError('clip', `min (${min}) is greater than max (${max})`);
  return applyEw('clip', [asArg('clip', x)], [min, max]);
}

/**
 * x + y, elementwise with numpy broadcasting; numbers are weak scalars that keep the tensor's dtype.
 * @example st.add(st.ones([2, 3]), st.tensor([1, 2, 3]))  // rows [2, 3, 4]
 */
export const add = binary('add');
/** x - y, elementwise with broadcasting. */
export const sub = binary('sub');
/** x · y, elementwise with broadcasting. */
export const mul = binary('mul');
/** x / y, elementwise with broadcasting (true division; integers give a float result). */
export const div = binary('div');
/** x to the power y, elementwise with broadcasting. */
export const pow = binary('pow');
/** The larger of x and y, elementwise with broadcasting. */
export const maximum = binary('maximum');
/** The smaller of x and y, elementwise with broadcasting. */
export const minimum = binary('minimum');
/** x modulo y with the sign of y (Python's %), elementwise with broadcasting. */
export const mod = binary('mod');
/** x == y, elementwise with broadcasting (a bool result). */
export const equal = binary('equal');
/** x != y, elementwise with broadcasting (a bool result). */
export const notEqual = binary('notEqual');
/** x < y, elementwise with broadcasting (a bool result). */
export const less = binary('less');
/** x <= y, elementwise with broadcasting (a bool result). */
export const lessEqual = binary('lessEqual');
/** x > y, elementwise with broadcasting (a bool result). */
export const greater = binary('greater');
/** x >= y, elementwise with broadcasting (a bool result). */
export const greaterEqual = binary('greaterEqual');
/** x && y for bool tensors, elementwise with broadcasting. */
export const logicalAnd = binary('logicalAnd');
/** x || y for bool tensors, elementwise with broadcasting. */
export const logicalOr = binary('logicalOr');

/** cond ? a : b, elementwise with broadcasting (see composites.where). */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  return composites.where(eagerOps, asArg('where', cond), asArg('where', a), asArg('where', b));
}

/** True when where's condition is float but its branches compute in int32. */
export function whereNeedsBoolCondition(dtypes: DType[]): boolean {
  return isFloat(dtypes[0]) && !isFloat(ewTypes('where', dtypes).ctype);
}

/** Converts to another dtype (float -> int truncates toward zero; -> bool is != 0). */
export function cast(x: TensorLike, dtype: DType): Tensor {
  if (!isDType(dtype)) throw dtypeError('cast', `unknown dtype ${fmtValue(dtype)} (use float32, float64, int32 or bool)`);
  const a = asArg('cast', x);
  return castWith(eager, a instanceof Tensor ? a : asTensor('cast', a), dtype);
}

/** The compute dtype of a cast from one dtype to another. */
export function castCtype(from: DType, to: DType): DType {
  return from === 'float64' || to === 'float64' ? 'float64' : from === 'float32' || to === 'float32' ? 'float32' : 'int32';
}

/** The ELEMWISE attributes of converting a value of dtype `from` to `to` (a copy when equal). */
export function castAttrs(from: DType, to: DType): EwAttrs {
  return ewProgram(EW.IDENTITY, [{ dtype: from, shape: [] }], castCtype(from, to));
}

export function castWith<V extends Val>(em: Emitter<V>, x: V, dtype: DType): V {
  return ewCallWith(em, 'cast', EW.IDENTITY, [x], castCtype(x.dtype, dtype), dtype);
}
