// Elementwise ops.  Every one lowers to the native ELEMWISE bytecode (one micro-op here; the graph
// compiler fuses chains into longer programs).  Numbers stay numbers: they become CONST micro-ops.
import { DType, DTYPE_CODE, floatOf, isDType, isFloat, upcast } from '../dtype';
import { argError, dtypeError } from '../errors';
import { EW, EwCode, Op } from '../ops.generated';
import { broadcastShapes } from './shape-util';
import { Tensor, TensorLike } from './tensor';
import { Emitter, Val, eager } from './emitter';
import { tensor } from './creation';

/** A tensor, or a plain number that takes the dtype of the tensors it meets (numpy's weak scalars). */
type Arg = Tensor | number;

function asArg(op: string, x: TensorLike): Arg {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  return tensor(x as never);
}

/** The dtype a number takes next to tensors of dtype `other`. */
function weakType(v: number, other: DType | undefined): DType {
  if (other === undefined) return 'float32';
  if (isFloat(other)) return other;
  return Number.isInteger(v) ? 'int32' : 'float32';
}

function argTypes(args: Arg[]): DType[] {
  const tensorTypes = args.filter((a): a is Tensor => a instanceof Tensor).map((t) => t.dtype);
  const strongest = tensorTypes.length ? tensorTypes.reduce(upcast) : undefined;
  return args.map((a) => (a instanceof Tensor ? a.dtype : weakType(a, strongest)));
}

/** Runs one micro-op over args (tensors broadcast; numbers inlined) computing in ctype. */
export function ewCall(op: string, code: EwCode, args: Arg[], ctype: DType, outDtype: DType, p0 = 0, p1 = 0): Tensor {
  if (!args.some((a) => a instanceof Tensor)) {
    args = args.map((a) => tensor(a as number, { dtype: ctype === 'bool' ? 'int32' : ctype }));
  }
  return ewCallWith(eager, op, code, args, ctype, outDtype, p0, p1);
}

/** The ELEMWISE attributes of one micro-op over nTensors inputs and inlined numbers. */
export function ewProgram(code: EwCode, args: (Val | number)[], ctype: DType, p0 = 0, p1 = 0): { iattr: number[]; fattr: number[] } {
  const nTensors = args.filter((a) => typeof a !== 'number').length;
  const ops: number[] = [];
  const fattr: number[] = [];
  let next = nTensors;
  let ti = 0;
  const regs = args.map((a) => {
    if (typeof a !== 'number') return ti++;
    ops.push(EW.CONST, next, 0, 0, 0);
    fattr.push(a, 0);
    return next++;
  });
  ops.push(code, next, regs[0] ?? 0, regs[1] ?? 0, regs[2] ?? 0);
  fattr.push(p0, p1);
  const ctypeCode = ctype === 'bool' ? DTYPE_CODE.int32 : DTYPE_CODE[ctype];
  return { iattr: [ctypeCode, ops.length / 5, ...ops, next], fattr };
}

export function ewCallWith<V extends Val>(em: Emitter<V>, op: string, code: EwCode, args: (V | number)[], ctype: DType, outDtype: DType, p0 = 0, p1 = 0): V {
  const tensors = args.filter((a): a is V => typeof a !== 'number');
  const outShape = broadcastShapes(op, ...tensors.map((t) => t.shape));
  const { iattr, fattr } = ewProgram(code, args, ctype, p0, p1);
  return em.emit(op, Op.ELEMWISE, tensors, [{ dtype: outDtype, shape: outShape }], iattr, fattr)[0];
}

/** Compute dtype for ints/bools when a float is not needed. */
const intOr = (d: DType): DType => (d === 'bool' ? 'int32' : d);

// ---- unary ----
function unaryFloat(name: string, code: EwCode) {
  return (x: TensorLike): Tensor => {
    const a = asArg(name, x);
    const d = floatOf(argTypes([a])[0]);
    return ewCall(name, code, [a], d, d);
  };
}
function unaryKeep(name: string, code: EwCode) {
  return (x: TensorLike): Tensor => {
    const a = asArg(name, x);
    const d = intOr(argTypes([a])[0]);
    return ewCall(name, code, [a], d, d);
  };
}
function unaryPredicate(name: string, code: EwCode) {
  return (x: TensorLike): Tensor => {
    const a = asArg(name, x);
    const d = argTypes([a])[0];
    return ewCall(name, code, [a], isFloat(d) ? d : 'int32', 'bool');
  };
}

export const neg = unaryKeep('neg', EW.NEG);
export const abs = unaryKeep('abs', EW.ABS);
export const sign = unaryKeep('sign', EW.SIGN);
export const square = unaryKeep('square', EW.SQUARE);
export const relu = unaryKeep('relu', EW.RELU);
export const floor = unaryKeep('floor', EW.FLOOR);
export const ceil = unaryKeep('ceil', EW.CEIL);
export const round = unaryKeep('round', EW.ROUND);
export const exp = unaryFloat('exp', EW.EXP);
export const expm1 = unaryFloat('expm1', EW.EXPM1);
export const log = unaryFloat('log', EW.LOG);
export const log1p = unaryFloat('log1p', EW.LOG1P);
export const sqrt = unaryFloat('sqrt', EW.SQRT);
export const rsqrt = unaryFloat('rsqrt', EW.RSQRT);
export const reciprocal = unaryFloat('reciprocal', EW.RECIPROCAL);
export const sin = unaryFloat('sin', EW.SIN);
export const cos = unaryFloat('cos', EW.COS);
export const tanh = unaryFloat('tanh', EW.TANH);
export const sigmoid = unaryFloat('sigmoid', EW.SIGMOID);
export const selu = unaryFloat('selu', EW.SELU);
export const gelu = unaryFloat('gelu', EW.GELU);
export const softplus = unaryFloat('softplus', EW.SOFTPLUS);
export const isNaN = unaryPredicate('isNaN', EW.ISNAN);
export const isFinite = unaryPredicate('isFinite', EW.ISFINITE);
export const logicalNot = unaryPredicate('logicalNot', EW.LOGICAL_NOT);

/** x > 0 ? x : alpha * x */
export function leakyRelu(x: TensorLike, alpha = 0.2): Tensor {
  const a = asArg('leakyRelu', x);
  const d = floatOf(argTypes([a])[0]);
  return ewCall('leakyRelu', EW.LEAKY_RELU, [a], d, d, checkNum('leakyRelu', 'alpha', alpha));
}

/** x > 0 ? x : alpha * (exp(x) - 1) */
export function elu(x: TensorLike, alpha = 1): Tensor {
  const a = asArg('elu', x);
  const d = floatOf(argTypes([a])[0]);
  return ewCall('elu', EW.ELU, [a], d, d, checkNum('elu', 'alpha', alpha));
}

/** Limits every element to [min, max]. */
export function clip(x: TensorLike, min: number, max: number): Tensor {
  checkNum('clip', 'min', min);
  checkNum('clip', 'max', max);
  if (min > max) throw argError('clip', `min (${min}) is greater than max (${max})`);
  const a = asArg('clip', x);
  let d = intOr(argTypes([a])[0]);
  if (d === 'int32' && (!Number.isInteger(min) || !Number.isInteger(max))) d = 'float32';
  return ewCall('clip', EW.CLIP, [a], d, d, min, max);
}

function checkNum(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw argError(op, `${name} must be a number, got ${String(v)}`);
  return v;
}

// ---- binary ----
function binary(name: string, code: EwCode, kind: 'arith' | 'div' | 'compare' | 'logical') {
  return (x: TensorLike, y: TensorLike): Tensor => {
    const args = [asArg(name, x), asArg(name, y)];
    const [da, db] = argTypes(args);
    const up = upcast(da, db);
    switch (kind) {
      case 'arith':
        return ewCall(name, code, args, up, up);
      case 'div': {
        const d = up === 'int32' ? 'float32' : up;
        return ewCall(name, code, args, d, d);
      }
      case 'compare':
        return ewCall(name, code, args, up, 'bool');
      case 'logical':
        return ewCall(name, code, args, isFloat(up) ? up : 'int32', 'bool');
    }
  };
}

export const add = binary('add', EW.ADD, 'arith');
export const sub = binary('sub', EW.SUB, 'arith');
export const mul = binary('mul', EW.MUL, 'arith');
export const div = binary('div', EW.DIV, 'div');
export const pow = binary('pow', EW.POW, 'arith');
export const maximum = binary('maximum', EW.MAXIMUM, 'arith');
export const minimum = binary('minimum', EW.MINIMUM, 'arith');
export const mod = binary('mod', EW.MOD, 'arith');
export const equal = binary('equal', EW.EQUAL, 'compare');
export const notEqual = binary('notEqual', EW.NOT_EQUAL, 'compare');
export const less = binary('less', EW.LESS, 'compare');
export const lessEqual = binary('lessEqual', EW.LESS_EQUAL, 'compare');
export const greater = binary('greater', EW.GREATER, 'compare');
export const greaterEqual = binary('greaterEqual', EW.GREATER_EQUAL, 'compare');
export const logicalAnd = binary('logicalAnd', EW.LOGICAL_AND, 'logical');
export const logicalOr = binary('logicalOr', EW.LOGICAL_OR, 'logical');

/** cond ? a : b, elementwise with broadcasting (cond: nonzero is true). */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const args = [asArg('where', cond), asArg('where', a), asArg('where', b)];
  const [dc, da, db] = argTypes(args);
  const out = da === 'bool' && db === 'bool' ? 'bool' : upcast(da, db);
  let ctype: DType = out === 'bool' ? 'int32' : out;
  if (isFloat(dc) && !isFloat(ctype)) ctype = dc; // a fractional condition must not truncate to 0
  return ewCall('where', EW.WHERE, args, ctype, out);
}

/** Converts to another dtype (float -> int truncates toward zero; -> bool is != 0). */
export function cast(x: TensorLike, dtype: DType): Tensor {
  if (!isDType(dtype)) throw dtypeError('cast', `unknown dtype ${JSON.stringify(dtype)} (use float32, float64, int32 or bool)`);
  const a = asArg('cast', x);
  return castWith(eager, a instanceof Tensor ? a : tensor(a), dtype);
}

/** The compute dtype of a cast from one dtype to another. */
export function castCtype(from: DType, to: DType): DType {
  return from === 'float64' || to === 'float64' ? 'float64' : from === 'float32' || to === 'float32' ? 'float32' : 'int32';
}

export function castWith<V extends Val>(em: Emitter<V>, x: V, dtype: DType): V {
  return ewCallWith(em, 'cast', EW.IDENTITY, [x], castCtype(x.dtype, dtype), dtype);
}
