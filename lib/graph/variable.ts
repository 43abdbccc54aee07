// The graph's nodes: Variable (typed, maybe unknown dims), Apply (op + inputs + outputs) and Op.
import { DType } from '../dtype';
import { SymtensorError, fmtShape, fmtValue } from '../errors';
import { packageRoot } from '../native';
import type { Emitter, Val } from '../tensor/emitter';
import type { Tensor } from '../tensor/tensor';
import * as path from 'node:path';

/** A dimension: a number, or null when only known at run time. */
export type Dim = number | null;

/** What a Variable's type is: its dtype and shape (null dims unknown until a call). */
export interface VarType {
  dtype: DType;
  shape: Dim[];
  /**
   * The flat values of a small int32 variable where they are known before it runs (null: an
   * element not known): constants, and values computed from shapes (x.shape and arithmetic on
   * it).  At build time only static dims are known; once a function is specialized to concrete
   * input shapes every shape-derived value is.  Ops whose output shape depends on an input's
   * values (reshape to x.shape, zeros, arange …) read it here.
   */
  known?: Dim[];
}

/** Largest int32 variable whose values are tracked in VarType.known. */
export const MAX_KNOWN = 64;

let nextId = 1;

/** The id the next Variable will get (rewrites use it to tell new nodes from old). */
export function peekNextId(): number {
  return nextId;
}

const libDirs = [path.join(packageRoot, 'lib') + path.sep, path.join(packageRoot, 'dist') + path.sep];

// While a library function builds many nodes for one user call (grad, fn), they all share the
// location of that call: captured once instead of once per node (stack capture dominates otherwise).
let pinnedTrace: string | null = null;

/** Runs f with every node it builds located at `trace` (the user's call that asked for them). */
export function withTrace<R>(trace: string, f: () => R): R {
  const outer = pinnedTrace;
  pinnedTrace = outer ?? trace;
  try {
    return f();
  } finally {
    pinnedTrace = outer;
  }
}

/** The first stack frame outside symtensor: where the user built the node. */
export function captureTrace(): string {
  if (pinnedTrace !== null) return pinnedTrace;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, captureTrace);
  Error.stackTraceLimit = limit;
  const lines = (holder.stack ?? '').split('\n').slice(1);
  for (const line of lines) {
    if (libDirs.some((d) => line.includes(d)) || line.includes('node:internal') || line.includes('node_modules')) continue;
    return line.trim().replace(/^at /, '');
  }
  return 'unknown location';
}

/**
 * `x.shape`: the symbolic shape of x, an int32 vector variable.  Its entries read as int32 scalar
 * variables — `x.shape[0]`, `x.shape.get(0)` (negative axes count from the end), `[...x.shape]` —
 * that are constants where the dim is static, so arithmetic on them folds.  Any T function that
 * takes a shape takes it, or an array mixing numbers and such scalars.
 * @example T.zeros([x.shape[0], 10]); x.reshape([x.shape[0], -1]); T.arange(y.shape[0])
 */
export interface ShapeVariable extends Variable {
  /** The size of axis `axis` of the shaped variable, an int32 scalar. */
  readonly [axis: number]: Variable;
  /** The rank of the shaped variable (a number: ranks are always static). */
  readonly length: number;
  /** The sizes of the axes in order: `const [n, m] = x.shape`. */
  [Symbol.iterator](): IterableIterator<Variable>;
}

let shapeBuilder: ((v: Variable) => ShapeVariable) | null = null;

/** @internal Installs the function that builds `x.shape` (lib/graph/symbolic-shape.ts). */
export function setShapeBuilder(f: (v: Variable) => ShapeVariable): void {
  shapeBuilder = f;
}

/** A symbolic value: the result of an Apply, a graph input, a constant or a shared variable. */
export class Variable {
  readonly id = nextId++;
  readonly dtype: DType;
  /**
   * The shape as far as it is known while the graph is built: a number per known dim, null where
   * the size is only known when a compiled function runs.  (`x.shape` is the symbolic shape: an
   * int32 vector variable; see lib/graph/symbolic-shape.ts.)
   */
  readonly staticShape: Dim[];
  /** See VarType.known: values known before the variable is computed (small int32 values only). */
  readonly known: Dim[] | undefined;
  /** The node that computes this variable (null for inputs, constants and shared variables). */
  readonly owner: Apply | null;
  /** Which output of the owner this is. */
  readonly index: number;
  name: string | undefined;
  /** Where the user created it. */
  readonly trace: string;

  constructor(type: VarType, owner: Apply | null = null, index = 0, name?: string, trace?: string) {
    this.dtype = type.dtype;
    this.staticShape = type.shape.slice();
    this.known = type.known && type.dtype === 'int32' && type.known.length <= MAX_KNOWN && type.known.some((k) => k !== null) ? type.known.slice() : undefined;
    this.owner = owner;
    this.index = index;
    this.name = name;
    this.trace = trace ?? captureTrace();
  }

  /** The symbolic shape (see ShapeVariable); `staticShape` is what is known while building. */
  get shape(): ShapeVariable {
    if (!shapeBuilder) throw new SymtensorError('ERR_ST_INTERNAL', 'shape', 'symbolic shapes are not loaded');
    return shapeBuilder(this);
  }

  /** The rank (always known while building). */
  get ndim(): number {
    return this.staticShape.length;
  }

  /** The dtype and static shape (and known values) as one object. */
  get type(): VarType {
    return this.known ? { dtype: this.dtype, shape: this.staticShape, known: this.known } : { dtype: this.dtype, shape: this.staticShape };
  }

  /** "X [?,784] float32" for messages. */
  describe(): string {
    return `${this.name ?? (this.owner ? this.owner.op.name : 'variable')} ${fmtShape(this.staticShape)} ${this.dtype}`;
  }

  /** `Variable(name shape dtype)`. */
  toString(): string {
    return `Variable(${this.describe()})`;
  }
}

/** A fixed value in a graph. */
export class Constant extends Variable {
  readonly value: Tensor;
  constructor(value: Tensor, name?: string) {
    super({ dtype: value.dtype, shape: value.shape, known: value.dtype === 'int32' && value.size <= MAX_KNOWN ? Array.from(value.dataSync()) : undefined }, null, 0, name);
    this.value = value;
  }
}

/** Marker for graph inputs created with T.matrix() etc. */
export class InputVariable extends Variable {}

/** One application of an Op to input variables. */
export class Apply {
  readonly outputs: Variable[];
  constructor(
    readonly op: Op,
    readonly inputs: Variable[],
    outTypes: VarType[],
    /** Where the user built it (rewrites hand the replaced node's location to their results). */
    public trace: string,
  ) {
    this.outputs = outTypes.map((t, i) => new Variable(t, this, i, undefined, trace));
  }
}

/**
 * An operation: shape/dtype inference, gradient (built from symbolic ops), and lowering to native
 * instructions.  Subclasses keep all three on one screen.
 */
export abstract class Op {
  abstract readonly name: string;

  /** Attributes that, with the inputs, determine the result (merging compares them). */
  props(): unknown {
    return null;
  }

  /** Identity for merging and printing. */
  key(): string {
    const p = this.props();
    return p === null ? this.name : `${this.name}${JSON.stringify(p, keyReplacer)}`;
  }

  /** Output types; dims may be null.  Throws a SymtensorError when the inputs do not fit. */
  abstract infer(inputs: VarType[]): VarType[];

  /**
   * Which input axes broadcast, given the run-time input and output types: for each input, the
   * size each of its axes is stretched to (null where that axis is not stretched), or null for an
   * input (or the whole op) that never broadcasts.  specialize rejects an axis declared unknown
   * that is 1 at run time and stretched to a larger size, for every op alike: gradients sum over
   * an input's broadcast axes only where the graph says they have size 1.
   */
  broadcastTargets(_inputs: VarType[], _outputs: VarType[]): (Dim[] | null)[] | null {
    return null;
  }

  /** Gradients w.r.t. each input given the outputs' gradients (null: no gradient flows). */
  grad(node: Apply, gOut: (Variable | null)[]): (Variable | null)[] {
    throw new SymtensorError('ERR_ST_ARG', this.name, `${this.name} is not differentiable (node built at ${node.trace})`);
  }

  /** Emits native instructions for concrete inputs. */
  abstract lower<V extends Val>(em: Emitter<V>, inputs: V[], node: Apply): V[];

  /** For elementwise ops: how fusion encodes this op (see compile/fusion). */
  elementwise(): { code: number; p0: number; p1: number; ctype: DType } | null {
    return null;
  }

  /** The input whose buffer the output may be written over (in-place updates), or null. */
  inPlaceInput(): number | null {
    return null;
  }

  /** True when the output may be computed later or not at all (ifelse branches). */
  get lazy(): boolean {
    return false;
  }
}

/** JSON keeps NaN, ±Infinity and -0 apart (plain JSON writes null, null and 0). */
function keyReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${Object.is(v, -0) ? '-0' : v}` : v;
}

function describeInputs(inputs: Variable[]): string {
  return inputs.map((v) => v.describe()).join(', ');
}

/**
 * Applies op to inputs: infers output types (throwing here, at the user's line, when they do not
 * fit) and returns the outputs.
 */
export function applyOp(op: Op, inputs: Variable[]): Variable[] {
  checkApply('applyOp', op, inputs);
  return apply(op, inputs);
}

/** applyOp for an op with one output: that output. */
export function applyOp1(op: Op, inputs: Variable[]): Variable {
  checkApply('applyOp1', op, inputs);
  return apply(op, inputs)[0];
}

/** The arguments of applyOp: an Op and an array of Variables (user code may build nodes itself). */
function checkApply(fn: string, op: unknown, inputs: unknown): void {
  if (!(op instanceof Op)) throw new SymtensorError('ERR_ST_ARG', fn, `op must be an Op, got ${op instanceof Variable ? `a Variable (${op.describe()})` : fmtValue(op)}`);
  if (!Array.isArray(inputs)) throw new SymtensorError('ERR_ST_ARG', fn, `inputs must be an array of Variables, got ${inputs instanceof Variable ? `a Variable (${inputs.describe()})` : fmtValue(inputs)}`);
  for (let i = 0; i < inputs.length; i++)
    if (!(inputs[i] instanceof Variable)) throw new SymtensorError('ERR_ST_ARG', fn, `inputs[${i}] of ${op.name} must be a Variable, got ${fmtValue(inputs[i])}`);
}

function apply(op: Op, inputs: Variable[]): Variable[] {
  let types: VarType[];
  try {
    types = op.infer(inputs.map((v) => v.type));
  } catch (e) {
    if (e instanceof SymtensorError && !e.where) {
      const where = captureTrace();
      throw new SymtensorError(e.code, e.op, `${e.message.replace(/^\w+: /, '')} (inputs: ${describeInputs(inputs)}; at ${where})`, { shapes: e.shapes, where });
    }
    throw e;
  }
  return new Apply(op, inputs, types, captureTrace()).outputs;
}
