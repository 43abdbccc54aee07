// Elementwise ops: one Op class for every micro-op, with each op's gradient rule.
import { DType, isFloat } from '../../dtype';
import { argError } from '../../errors';
import { EW_OPS, EwName, ewCallWith, ewTypes, weakDtypesFor } from '../../tensor/elementwise';
import type { Emitter, Val } from '../../tensor/emitter';
import { tensor } from '../../tensor/creation';
import { broadcastDims, elementwiseTargets } from '../dims';
import { Apply, Constant, Op, VarType, Variable, applyOp1 } from '../variable';
import { sumToShape, cast } from './helpers';

export class Elemwise extends Op {
  readonly name: string;
  constructor(
    readonly fn: EwName,
    readonly params: number[],
    readonly ctype: DType,
    readonly out: DType,
  ) {
    super();
    this.name = fn;
  }

  override props() {
    return [this.params, this.ctype, this.out];
  }

  infer(inputs: VarType[]): VarType[] {
    const shape = broadcastDims(this.name, inputs.map((i) => i.shape));
    const known = this.out === 'int32' ? foldKnown(this.fn, inputs, shape) : undefined;
    return [known ? { dtype: this.out, shape, known } : { dtype: this.out, shape }];
  }

  override broadcastTargets(inputs: VarType[], outputs: VarType[]) {
    return elementwiseTargets(inputs, outputs);
  }

  lower<V extends Val>(em: Emitter<V>, inputs: V[]): V[] {
    return [ewCallWith(em, this.name, EW_OPS[this.fn].code, inputs, this.ctype, this.out, this.params[0] ?? 0, this.params[1] ?? 0)];
  }

  override elementwise() {
    return { code: EW_OPS[this.fn].code, p0: this.params[0] ?? 0, p1: this.params[1] ?? 0, ctype: this.ctype };
  }

  override grad(node: Apply, [gz]: (Variable | null)[]): (Variable | null)[] {
    const xs = node.inputs;
    const z = node.outputs[0];
    const none = xs.map(() => null);
    if (!gz || !isFloat(this.out)) return none;
    const g = (rule: Variable | null, i: number) => (rule && isFloat(xs[i].dtype) ? sumToShape(cast(rule, xs[i].dtype), xs[i]) : null);
    const [x, y] = xs;
    const [p0] = this.params;
    switch (this.fn) {
      case 'neg': return [g(ew('neg', [gz]), 0)];
      case 'abs': return [g(ew('mul', [gz, ew('sign', [x])]), 0)];
      case 'exp': return [g(ew('mul', [gz, z]), 0)];
      case 'expm1': return [g(ew('mul', [gz, ew('add', [z, 1])]), 0)];
      case 'log': return [g(ew('div', [gz, x]), 0)];
      case 'log1p': return [g(ew('div', [gz, ew('add', [x, 1])]), 0)];
      case 'sqrt': return [g(ew('div', [ew('mul', [gz, 0.5]), z]), 0)];
      case 'rsqrt': return [g(ew('mul', [gz, ew('mul', [ew('mul', [z, ew('square', [z])]), -0.5])]), 0)];
      case 'square': return [g(ew('mul', [gz, ew('mul', [x, 2])]), 0)];
      case 'reciprocal': return [g(ew('neg', [ew('mul', [gz, ew('square', [z])])]), 0)];
      case 'sin': return [g(ew('mul', [gz, ew('cos', [x])]), 0)];
      case 'cos': return [g(ew('neg', [ew('mul', [gz, ew('sin', [x])])]), 0)];
      case 'tanh': return [g(ew('mul', [gz, ew('sub', [1, ew('square', [z])])]), 0)];
      case 'sigmoid': return [g(ew('mul', [gz, ew('mul', [z, ew('sub', [1, z])])]), 0)];
      // from the output, so the pre-activation keeps one client (the GEMM epilogue can take it)
      case 'relu': return [g(ew('mul', [gz, ew('greater', [z, 0])]), 0)];
      // the slopes are constants in gz's dtype: next to only a bool condition, bare numbers would be float32
      case 'leakyRelu': return [g(ew('mul', [gz, ew('where', [ew('greater', [x, 0]), scalarConstant(1, gz.dtype), scalarConstant(p0, gz.dtype)])]), 0)];
      case 'elu': return [g(ew('where', [ew('greater', [x, 0]), gz, ew('mul', [gz, ew('add', [z, p0])])]), 0)];
      case 'selu': {
        const alpha = 1.6732632423543772, scale = 1.0507009873554805;
        return [g(ew('mul', [gz, ew('where', [ew('greater', [x, 0]), scale, ew('mul', [ew('exp', [x]), scale * alpha])])]), 0)];
      }
      case 'gelu': {
        // d/dx x·Φ(x) = Φ(x) + x·φ(x)
        const cdf = ew('mul', [ew('add', [ew('erf', [ew('mul', [x, Math.SQRT1_2])]), 1]), 0.5]);
        const pdf = ew('mul', [ew('exp', [ew('mul', [ew('square', [x]), -0.5])]), 1 / Math.sqrt(2 * Math.PI)]);
        return [g(ew('mul', [gz, ew('add', [cdf, ew('mul', [x, pdf])])]), 0)];
      }
      case 'erf': return [g(ew('mul', [gz, ew('mul', [ew('exp', [ew('neg', [ew('square', [x])])]), 2 / Math.sqrt(Math.PI)])]), 0)];
      case 'softplus': return [g(ew('mul', [gz, ew('sigmoid', [x])]), 0)];
      case 'clip': return [g(ew('mul', [gz, ew('logicalAnd', [ew('greaterEqual', [x, this.params[0]]), ew('lessEqual', [x, this.params[1]])])]), 0)];
      case 'sign': case 'floor': case 'ceil': case 'round':
        return [g(ew('mul', [gz, 0]), 0)];
      case 'add': return [g(gz, 0), g(gz, 1)];
      case 'sub': return [g(gz, 0), g(ew('neg', [gz]), 1)];
      case 'mul': return [g(ew('mul', [gz, y]), 0), g(ew('mul', [gz, x]), 1)];
      case 'div': return [g(ew('div', [gz, y]), 0), g(ew('neg', [ew('div', [ew('mul', [gz, x]), ew('square', [y])])]), 1)];
      case 'pow': {
        // PyTorch's limits where the formulas give 0 · ∞: d/dx is 0 where y = 0 (x^0 is 1 for
        // every x, 0 included), and d/dy is 0 where x = 0 and y ≥ 0 (0^y stays 0 there, not ln 0)
        const dx = ew('mul', [gz, ew('mul', [y, ew('pow', [x, ew('sub', [y, 1])])])]);
        const yValue = knownScalar(y);
        const dy = ew('mul', [gz, ew('mul', [z, ew('log', [x])])]);
        return [
          g(yValue !== null && yValue !== 0 ? dx : ew('where', [ew('equal', [y, 0]), 0, dx]), 0),
          g(ew('where', [ew('logicalAnd', [ew('equal', [x, 0]), ew('greaterEqual', [y, 0])]), 0, dy]), 1),
        ];
      }
      case 'maximum': return [g(ew('mul', [gz, ew('greaterEqual', [x, y])]), 0), g(ew('mul', [gz, ew('less', [x, y])]), 1)];
      case 'minimum': return [g(ew('mul', [gz, ew('lessEqual', [x, y])]), 0), g(ew('mul', [gz, ew('greater', [x, y])]), 1)];
      case 'mod': return [g(gz, 0), g(ew('neg', [ew('mul', [gz, ew('floor', [ew('div', [x, y])])])]), 1)];
      case 'where': {
        const zero = ew('mul', [gz, 0]);
        return [null, g(ew('where', [x, gz, zero]), 1), g(ew('where', [x, zero, gz]), 2)];
      }
      default:
        return none; // comparisons, logical ops, predicates: no gradient
    }
  }
}

// Integer arithmetic on values known before a program runs (sizes computed from x.shape).
const INT_FOLD: Partial<Record<EwName, (a: number, b: number) => number>> = {
  neg: (a) => -a, abs: (a) => Math.abs(a), add: (a, b) => a + b, sub: (a, b) => a - b,
  mul: (a, b) => Math.imul(a, b), maximum: (a, b) => Math.max(a, b), minimum: (a, b) => Math.min(a, b),
  mod: (a, b) => (b === 0 ? NaN : a - Math.floor(a / b) * b),
};

/** The known values of an int32 elementwise result of scalars and vectors, where its inputs' are. */
function foldKnown(fn: EwName, inputs: VarType[], shape: (number | null)[]): (number | null)[] | undefined {
  const f = INT_FOLD[fn];
  if (!f || shape.length > 1 || inputs.some((i) => !i.known || i.dtype !== 'int32' || i.shape.length > 1)) return undefined;
  const n = shape.length ? shape[0] : 1;
  if (n === null) return undefined;
  const out: (number | null)[] = [];
  for (let k = 0; k < n; k++) {
    const args = inputs.map((i) => i.known![i.known!.length === 1 ? 0 : k] ?? null);
    const v = args.some((a) => a === null) ? null : f(args[0]!, args[1] ?? 0);
    out.push(v === null || !Number.isFinite(v) ? null : v | 0);
  }
  return out;
}

/** The value of a one-element constant, else null. */
function knownScalar(v: Variable): number | null {
  if (!(v instanceof Constant) || v.value.size !== 1 || v.value.isDisposed) return null;
  return Number(v.value.dataSync()[0]);
}

/** A number as a constant of dtype (0-d). */
export function scalarConstant(v: number, dtype: DType): Constant {
  return new Constant(tensor(v, { dtype }));
}

/**
 * Builds an elementwise node; numbers take the dtype of the variables they meet.
 * @example ew('add', [x, 1])
 */
export function ew(name: EwName, args: (Variable | number)[], params: number[] = []): Variable {
  if (!args.some((a) => a instanceof Variable)) throw argError(name, 'needs at least one symbolic operand');
  const dtypes = weakDtypesFor(name, args.map((a) => (a instanceof Variable ? { dtype: a.dtype, shape: [] } : a)));
  const vars = args.map((a, i) => (a instanceof Variable ? a : scalarConstant(a, dtypes[i] === 'bool' ? 'int32' : dtypes[i])));
  const { ctype, out } = ewTypes(name, dtypes, params);
  return applyOp1(new Elemwise(name, params, ctype, out), vars);
}
