// The programs of one compiled function: one native Program per set of input shapes, lowered
// from the optimized graph on first use, kept (at most MAX_PROGRAMS) and freed when evicted.
import { SymtensorError, SymtensorErrorCode, fmtShape } from '../errors';
import { native, NativeProgram } from '../native';
import { Tensor } from '../tensor/tensor';
import { Variable, VarType } from '../graph/variable';
import { BuiltGraph } from './function-graph';
import { ProgramDesc, lower, nativeDesc, specialize } from './lower';
import { debugLevel, formatProgram } from './debug';

const MAX_PROGRAMS = 16;

/** A native program for one set of input shapes. */
export interface Compiled {
  desc: ProgramDesc;
  prog: NativeProgram;
  /** Async calls accepted and not finished; an evicted program is freed when they are. */
  pending: number;
  evicted: boolean;
  /** Position of each function output in the native result (ascending slot order). */
  order: number[];
}

export class ProgramCache {
  private readonly cache = new Map<string, Compiled>();
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
    const key = args.map((t) => t.shape.join(',')).join(';');
    let c = this.cache.get(key);
    if (!c) {
      c = this.compile(args);
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

  private compile(args: Tensor[]): Compiled {
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
    if (debugLevel() >= 1) process.stderr.write(formatProgram(this.name, desc));
    const prog = native.createProgram(nativeDesc(desc));
    if (this.profile || debugLevel() >= 2) native.setProgramProfile(prog, true);
    const sorted = desc.outputSlots.slice().sort((a, b) => a - b);
    return { desc, prog, order: desc.outputSlots.map((id) => sorted.indexOf(id)), pending: 0, evicted: false };
  }

  /** Marks a program unused; it is freed now or when its last pending async call finishes. */
  private evict(c: Compiled): void {
    c.evicted = true;
    if (c.pending === 0) native.disposeProgram(c.prog);
  }

  /** An async call of c finished. */
  finished(c: Compiled): void {
    if (--c.pending === 0 && c.evicted) native.disposeProgram(c.prog);
  }

  /** Frees every program (those running asynchronously when their calls finish). */
  dispose(): void {
    this.disposed = true;
    for (const c of this.cache.values()) this.evict(c);
    this.cache.clear();
  }

  /** The native outputs as tensors, in the function's output order. */
  wrap(c: Compiled, outs: ReturnType<typeof native.runProgram>): Tensor[] {
    return c.order.map((pos, k) => {
      const s = c.desc.slots[c.desc.outputSlots[k]];
      return Tensor.fromNative(outs[pos], s.shape, s.dtype);
    });
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
    throw new SymtensorError(code, node?.op.name ?? this.name, `${String(err.message ?? e).replace(/^\w+: /, '')}${shapeText}${where}`, { shapes, where: node?.trace });
  }
}
