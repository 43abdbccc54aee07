// The programs of one compiled function: one native Program per set of input shapes, lowered
// from the optimized graph on first use, kept (at most MAX_PROGRAMS) and freed when evicted.
// Lowered programs are also kept process-wide by the graph's structure and the input shapes, so a
// model built twice is lowered once; functions whose parameters are bound to the same buffers
// share the native program as well.
import { DType } from '../dtype';
import { SymtensorError, SymtensorErrorCode, fmtShape } from '../errors';
import { native, NativeBuffer, NativeProgram } from '../native';
import { Tensor } from '../tensor/tensor';
import { Constant, Variable, VarType } from '../graph/variable';
import { SharedVariable } from '../graph/shared';
import { BuiltGraph } from './function-graph';
import { Instr, ProgramDesc, Slot, lower, nativeDesc } from './lower';
import { specialize } from './specialize';
import { Structure, structureOf } from './structure';
import { debugLevel, formatProgram } from './debug';

const MAX_PROGRAMS = 16;

/** A native program and the functions using it (freed when the last one lets go). */
interface SharedNative {
  prog: NativeProgram;
  /** What its bound slots hold (see bindingKey). */
  binding: string;
  users: number;
}

/**
 * A lowered program, for every function of one structure and one set of input shapes: held by
 * the functions that use it, dropped from the process-wide map when none does.  It refers to no
 * function's graph or buffers: instructions carry node positions, bound slots parameter indices.
 */
interface Lowered {
  desc: ProgramDesc;
  /** Per instruction, the position of its node in the structure's node order (-1: none). */
  nodeAt: number[];
  /** Bound slots: [slot id, index of the parameter it holds]. */
  bindings: [number, number][];
  /** The native program shared by functions bound to the same buffers (not profiled ones). */
  shared: SharedNative | null;
}

const lowered = new Map<string, WeakRef<Lowered>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (lowered.get(key)?.deref() === undefined) lowered.delete(key);
});

/**
 * Counts since the process started (tests check reuse with them): `functions` built by fn()
 * (graph built and optimized), programs `lowered` for a structure and input shapes, lowerings
 * `reused` process-wide, native programs shared.
 */
export const programCacheStats = { functions: 0, lowered: 0, reused: 0, nativeShared: 0 };

/** A native program for one set of input shapes. */
export interface Compiled {
  desc: ProgramDesc;
  prog: NativeProgram;
  /** Async calls accepted and not finished; an evicted program is freed when they are. */
  pending: number;
  evicted: boolean;
  /** Position of each function output in the native result (ascending slot order). */
  order: number[];
  /** Each function output's shape and dtype, in output order. */
  outShapes: number[][];
  outDtypes: DType[];
  /** The argument shapes it was made for (get() compares them before building any key). */
  argShapes: number[][];
  /** The lowered program this one is bound from (kept alive by it). */
  source: Lowered;
  /** Set when the native program is shared with other functions. */
  shared: SharedNative | null;
}

export class ProgramCache {
  private readonly cache = new Map<string, Compiled>();
  private structure: Structure | null = null;
  /** The most recently used program (for profile() and program()). */
  last: Compiled | null = null;
  disposed = false;

  constructor(
    private readonly name: string,
    private readonly built: BuiltGraph,
    private readonly profile: boolean,
  ) {}

  /** The program for these argument shapes, compiled on first use. */
  get(args: Tensor[]): Compiled {
    if (this.disposed) throw new SymtensorError('ERR_ST_DISPOSED', this.name, 'function is disposed');
    // a loop calls with the same shapes again and again: compare numbers, build no key
    const last = this.last;
    if (last !== null && sameShapes(last.argShapes, args)) return last;
    const key = args.map((t) => t.shape.join(',')).join(';');
    let c = this.cache.get(key);
    if (!c) {
      c = this.compile(args, key);
      if (this.cache.size >= MAX_PROGRAMS) {
        const [k0, old] = this.cache.entries().next().value as [string, Compiled];
        this.cache.delete(k0);
        this.evict(old);
      }
      this.cache.set(key, c);
    }
    this.last = c;
    return c;
  }

  private compile(args: Tensor[], shapes: string): Compiled {
    const structure = (this.structure ??= structureOf(this.built));
    const key = `${structure.key}|${shapes}`;
    let source = lowered.get(key)?.deref();
    if (source) programCacheStats.reused++;
    else {
      source = this.lowerFor(args, structure);
      lowered.set(key, new WeakRef(source));
      forget.register(source, key);
      programCacheStats.lowered++;
    }
    const boundParams = source.bindings.map(([, p]) => structure.params[p]);
    const desc = bind(source, structure, boundParams.map(parameterBuffer));
    if (debugLevel() >= 1) process.stderr.write(formatProgram(this.name, desc));
    const profiled = this.profile || debugLevel() >= 2;
    let shared: SharedNative | null = null;
    let prog: NativeProgram;
    const binding = profiled ? '' : bindingKey(boundParams);
    if (!profiled && source.shared && source.shared.binding === binding) {
      shared = source.shared;
      shared.users++;
      prog = shared.prog;
      programCacheStats.nativeShared++;
    } else {
      prog = this.create(desc);
      if (profiled) native.setProgramProfile(prog, true);
      else if (!source.shared) shared = source.shared = { prog, binding, users: 1 };
    }
    const sorted = desc.outputSlots.slice().sort((a, b) => a - b);
    const outSlots = desc.outputSlots.map((id) => desc.slots[id]);
    return {
      desc,
      prog,
      order: desc.outputSlots.map((id) => sorted.indexOf(id)),
      outShapes: outSlots.map((s) => s.shape),
      outDtypes: outSlots.map((s) => s.dtype),
      argShapes: args.map((t) => t.shape.slice()),
      pending: 0,
      evicted: false,
      source,
      shared,
    };
  }

  /**
   * The native program of desc.  Creation failures (out of memory for the arena, a slot too large)
   * are reported like run failures: naming the function, the node and the user's line.
   */
  private create(desc: ProgramDesc): NativeProgram {
    try {
      return native.createProgram(nativeDesc(desc));
    } catch (e) {
      this.fail({ desc } as Compiled, e);
    }
  }

  /** Specializes and lowers the graph for these arguments, as a program any function of this structure can bind. */
  private lowerFor(args: Tensor[], structure: Structure): Lowered {
    const { inputs, fg, nOutputs, updates } = this.built;
    const inTypes = new Map<Variable, VarType>(inputs.map((v, i) => [v, { dtype: v.dtype, shape: args[i].shape }]));
    let types;
    try {
      types = specialize(fg, inTypes);
    } catch (e) {
      // name the node the user wrote, not the fused one: find the failure in the graph as built
      specialize(this.built.unoptimized(), inTypes);
      throw e;
    }
    const desc = lower(fg, types, nOutputs, updates.map((sv, k) => [sv, k]));
    const nodePos = new Map(structure.nodes.map((n, i) => [n, i]));
    const paramPos = new Map(structure.params.map((v, i) => [v, i]));
    const bindings = desc.boundVars.map(([id, v]): [number, number] => {
      const p = paramPos.get(v);
      if (p === undefined) throw new SymtensorError('ERR_ST_INTERNAL', 'lower', `bound slot ${id} (${v.describe()}) is no parameter of the graph`);
      return [id, p];
    });
    const slots = desc.slots.slice();
    for (const [id] of bindings) {
      const s = slots[id];
      slots[id] = new Slot(s.id, s.shape, s.dtype, s.kind, s.group, null);
    }
    const instrs: Instr[] = desc.instrs.map((ins) => ({ ...ins, node: null }));
    const nodeAt = desc.instrs.map((ins) => (ins.node ? nodePos.get(ins.node) ?? -1 : -1));
    return { desc: { ...desc, slots, instrs, boundVars: [] }, nodeAt, bindings, shared: null };
  }

  /** Marks a program unused; it is freed now or when its last pending async call finishes. */
  private evict(c: Compiled): void {
    c.evicted = true;
    if (c.pending === 0) release(c);
  }

  /** An async call of c finished. */
  finished(c: Compiled): void {
    if (--c.pending === 0 && c.evicted) release(c);
  }

  /** Frees every program (those running asynchronously when their calls finish). */
  dispose(): void {
    this.disposed = true;
    for (const c of this.cache.values()) this.evict(c);
    this.cache.clear();
  }

  /**
   * The native outputs as tensors, in the function's output order.  `staged`: small results are
   * views of a staging area the program's next sync run overwrites (an async run's are its own).
   */
  wrap(c: Compiled, outs: NativeBuffer[], staged: boolean): Tensor[] {
    const n = c.order.length;
    const r = new Array<Tensor>(n);
    for (let k = 0; k < n; k++) r[k] = Tensor.fromNative(outs[c.order[k]], c.outShapes[k], c.outDtypes[k], staged);
    return r;
  }

  /** The first output as a tensor: what a function of one output gives, with no array around it. */
  wrapFirst(c: Compiled, outs: NativeBuffer[], staged: boolean): Tensor {
    return Tensor.fromNative(outs[c.order[0]], c.outShapes[0], c.outDtypes[0], staged);
  }

  /** A native run-time error, reported against the graph node the failing instruction computes. */
  fail(c: Compiled, e: unknown): never {
    const err = e as { instr?: number; code?: string; message?: string };
    const ins = typeof err.instr === 'number' ? c.desc.instrs[err.instr] : undefined;
    const node = ins?.node;
    const where = node ? ` (node ${node.op.name} built at ${node.trace})` : '';
    const shapes = ins ? ins.inputs.map((id) => c.desc.slots[id].shape) : undefined;
    const code = (typeof err.code === 'string' && err.code.startsWith('ERR_ST_') ? err.code : 'ERR_ST_INTERNAL') as SymtensorErrorCode;
    const shapeText = shapes ? `; input shapes ${shapes.map(fmtShape).join(', ')}` : '';
    // the function's name leads, so an error from a node deep in the graph still says which call failed
    const fnText = node && node.op.name !== this.name ? ` in ${this.name}` : '';
    throw new SymtensorError(code, node?.op.name ?? this.name, `${String(err.message ?? e).replace(/^\w+: /, '')}${shapeText}${fnText}${where}`, { shapes, where: node?.trace });
  }
}

/** Whether the arguments have exactly these shapes. */
function sameShapes(shapes: number[][], args: Tensor[]): boolean {
  if (shapes.length !== args.length) return false;
  for (let i = 0; i < shapes.length; i++) {
    const want = shapes[i];
    const got = args[i].shape;
    if (want.length !== got.length) return false;
    for (let k = 0; k < want.length; k++) if (want[k] !== got[k]) return false;
  }
  return true;
}

/** Frees c's native program, or leaves it to the other functions sharing it. */
function release(c: Compiled): void {
  const sh = c.shared;
  if (sh && --sh.users > 0) return;
  if (sh && c.source.shared === sh) c.source.shared = null;
  native.disposeProgram(c.prog);
}

/**
 * What a program's bound slots hold: shared variables by identity (programs update them), small
 * constants by value (a model built twice makes new constants of the same values), others by
 * identity.
 */
function bindingKey(params: Variable[]): string {
  return params.map((v) => (v instanceof Constant && v.value.size <= 64 ? `c${v.dtype}[${v.staticShape}]${Array.from(v.value.dataSync(), (x) => (Object.is(x, -0) ? '-0' : String(x))).join(',')}` : `#${v.id}`)).join(';');
}

/** The buffer lowering binds for a shared variable or constant. */
function parameterBuffer(v: Variable): NativeBuffer {
  if (v instanceof SharedVariable) return v.storage.buffer('fn');
  if (v instanceof Constant) return v.value.buffer('fn');
  throw new SymtensorError('ERR_ST_INTERNAL', 'lower', `no value for ${v.describe()}`);
}

/** A function's copy of a lowered program: its buffers in the bound slots, its nodes in the instructions. */
function bind(source: Lowered, structure: Structure, buffers: NativeBuffer[]): ProgramDesc {
  const { nodes, params } = structure;
  const slots = source.desc.slots.slice();
  source.bindings.forEach(([id], j) => {
    const s = slots[id];
    slots[id] = new Slot(s.id, s.shape, s.dtype, s.kind, s.group, buffers[j]);
  });
  const instrs = source.desc.instrs.map((ins, i) => ({ ...ins, node: source.nodeAt[i] >= 0 ? nodes[source.nodeAt[i]] : null }));
  const boundVars = source.bindings.map(([id, p]): [number, Variable] => [id, params[p]]);
  return { ...source.desc, slots, instrs, boundVars };
}
