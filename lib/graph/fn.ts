// fn(): optimize a graph and compile it into native programs, one per set of input shapes.
import { DType, dtypeOfTypedArray } from '../dtype';
import { SymtensorError, fmtShape } from '../errors';
import { native, NativeProgram } from '../native';
import { tensor } from '../tensor/creation';
import { castWith } from '../tensor/elementwise';
import { eager } from '../tensor/emitter';
import { Tensor } from '../tensor/tensor';
import { FunctionGraph } from '../compile/fgraph';
import { optimize, rewriteNames } from '../compile/rewrite';
import { ProgramDesc, lower, nativeDesc, specialize } from '../compile/lower';
import '../compile/rewrites';
import { SharedVariable } from './shared';
import { Constant, InputVariable, Variable, VarType } from './variable';
import { toposort } from './grad';
import * as T from './T';

export interface FnOptions {
  /** [shared, newValue] pairs applied after the outputs are computed, all from the old values. */
  updates?: [SharedVariable, Variable | Tensor | number][] | Map<SharedVariable, Variable | Tensor | number>;
  /** Variables replaced by other expressions (or values) before compiling. */
  givens?: [Variable, Variable | Tensor | number][] | Map<Variable, Variable | Tensor | number>;
  /** Accept inputs of a wider dtype than declared (float64 for float32 …) and convert them. */
  allowInputDowncast?: boolean;
  /** 'raise' (default): an input the outputs do not use is an error. */
  onUnusedInput?: 'raise' | 'ignore';
  name?: string;
  /** Time each instruction; read with f.profile(). */
  profile?: boolean;
  /** Skip the named rewrites (tests and debugging). */
  excludeRewrites?: string[];
}

type Value = Tensor | number | boolean | ArrayLike<unknown> | unknown[];

export interface ProfileEntry {
  index: number;
  op: string;
  ms: number;
  calls: number;
}

/** A compiled function: `await f(...)` runs off the event loop, `f.sync(...)` inline. */
export interface CompiledFunction {
  (...args: Value[]): Promise<Tensor | Tensor[]>;
  sync(...args: Value[]): Tensor | Tensor[];
  readonly name: string;
  /** The optimized graph. */
  readonly graph: FunctionGraph;
  /** Per-instruction timings of the most recently used program (profile: true). */
  profile(): ProfileEntry[];
  /** The lowered program for the most recent input shapes. */
  program(): ProgramDesc | null;
  /** Frees the native programs now. */
  dispose(): void;
}

const LOSSLESS: Record<DType, DType[]> = { bool: [], int32: ['bool'], float32: ['bool'], float64: ['bool', 'int32', 'float32'] };

function toVariable(v: Variable | Tensor | number): Variable {
  return v instanceof Variable ? v : T.constant(v);
}

interface Compiled {
  desc: ProgramDesc;
  prog: NativeProgram;
  /** Async calls accepted and not finished; an evicted program is freed when they are. */
  pending: number;
  evicted: boolean;
  /** Position of each function output in the native result (ascending slot order). */
  order: number[];
}

/**
 * Compiles outputs (and updates) of the symbolic inputs into a callable.
 * @example const train = st.fn([X, y], cost, { updates: [[w, w.sub(gw.mul(0.1))]] });
 */
export function fn(inputs: Variable[], outputs: Variable | Variable[], opts: FnOptions = {}): CompiledFunction {
  const op = opts.name ? `fn ${opts.name}` : 'fn';
  if (!Array.isArray(inputs)) throw new SymtensorError('ERR_ST_ARG', op, 'inputs must be an array of symbolic variables');
  const outList = Array.isArray(outputs) ? outputs : [outputs];
  inputs.forEach((v, i) => {
    if (!(v instanceof Variable)) throw new SymtensorError('ERR_ST_ARG', op, `input ${i} is not a symbolic variable`);
    if (v instanceof SharedVariable || v instanceof Constant) throw new SymtensorError('ERR_ST_ARG', op, `input ${i} (${v.describe()}) is a ${v instanceof SharedVariable ? 'shared variable' : 'constant'}; shared variables are used implicitly, not passed`);
    if (v.owner) throw new SymtensorError('ERR_ST_ARG', op, `input ${i} (${v.describe()}) is computed from other variables; inputs must be free variables (T.matrix …)`);
    if (inputs.indexOf(v) !== i) throw new SymtensorError('ERR_ST_ARG', op, `input ${v.describe()} is listed twice`);
  });
  outList.forEach((v, i) => {
    if (!(v instanceof Variable)) throw new SymtensorError('ERR_ST_ARG', op, `output ${i} is not a symbolic variable`);
  });

  // updates
  const updList = opts.updates instanceof Map ? [...opts.updates] : opts.updates ?? [];
  const updates: [SharedVariable, Variable][] = [];
  for (const pair of updList) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new SymtensorError('ERR_ST_ARG', op, 'updates must be [sharedVariable, expression] pairs');
    const [sv, expr] = pair as [unknown, Variable | Tensor | number];
    if (!(sv instanceof SharedVariable)) throw new SymtensorError('ERR_ST_ARG', op, `updates: ${sv instanceof Variable ? sv.describe() : String(sv)} is not a shared variable (only st.shared variables can be updated)`);
    if (updates.some(([s]) => s === sv)) throw new SymtensorError('ERR_ST_ARG', op, `updates: ${sv.describe()} is updated twice`);
    let e = toVariable(expr);
    if (e.dtype !== sv.dtype) {
      if (e instanceof Constant) e = T.cast(e, sv.dtype);
      else throw new SymtensorError('ERR_ST_DTYPE', op, `update of ${sv.describe()}: the new value is ${e.dtype} (cast it with T.cast(expr, '${sv.dtype}'))`);
    }
    if (e.ndim !== sv.ndim || e.shape.some((d, i) => d !== null && d !== sv.shape[i]))
      throw new SymtensorError('ERR_ST_SHAPE', op, `update of ${sv.describe()}: the new value has shape ${fmtShape(e.shape)}`);
    updates.push([sv, e]);
  }

  // givens
  const givenList = opts.givens instanceof Map ? [...opts.givens] : opts.givens ?? [];
  const givens = new Map<Variable, Variable>();
  for (const [k, v] of givenList) {
    if (!(k instanceof Variable)) throw new SymtensorError('ERR_ST_ARG', op, 'givens keys must be symbolic variables');
    const rep = toVariable(v);
    if (rep.dtype !== k.dtype || rep.ndim !== k.ndim) throw new SymtensorError('ERR_ST_DTYPE', op, `givens: ${k.describe()} cannot be replaced by ${rep.describe()}`);
    givens.set(k, rep);
  }

  // every free variable the outputs need must be an input, shared or constant
  const roots = [...outList, ...updates.map(([, e]) => e)].map((v) => givens.get(v) ?? v);
  const used = new Set<Variable>();
  const free = (v: Variable) => {
    if (!v.owner) used.add(v);
  };
  roots.forEach(free);
  for (const node of toposort(roots.concat([...givens.values()]))) node.inputs.forEach((v) => free(givens.get(v) ?? v));
  for (const v of used) {
    if (v instanceof InputVariable && !inputs.includes(v) && ![...givens.keys()].includes(v))
      throw new SymtensorError('ERR_ST_ARG', op, `the outputs depend on ${v.describe()}, which is not among the inputs`);
  }
  if ((opts.onUnusedInput ?? 'raise') === 'raise') {
    inputs.forEach((v, i) => {
      if (!used.has(v)) throw new SymtensorError('ERR_ST_ARG', op, `input ${i} (${v.describe()}) is not used by the outputs (pass onUnusedInput: 'ignore' to allow this)`);
    });
  }

  const known = rewriteNames();
  for (const r of opts.excludeRewrites ?? [])
    if (!known.includes(r)) throw new SymtensorError('ERR_ST_ARG', op, `excludeRewrites: no rewrite is named ${JSON.stringify(r)} (known: ${known.join(', ')})`);
  const fg = new FunctionGraph(inputs, [...outList, ...updates.map(([, e]) => e)], givens);
  optimize(fg, new Set(opts.excludeRewrites ?? []));
  const nOut = outList.length;
  // shared variables the program reads or updates: async calls touching one run in call order
  const sharedVars = [...new Set([...fg.nodes().flatMap((n) => n.inputs), ...fg.outputs, ...updates.map(([sv]) => sv)].filter((v): v is SharedVariable => v instanceof SharedVariable))];
  const name = opts.name ?? 'fn';
  const cache = new Map<string, Compiled>();
  let last: Compiled | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;

  const labels = inputs.map((v, i) => `input ${i} (${v.describe()})`);
  const convert = (args: Value[]): Tensor[] => {
    if (args.length !== inputs.length)
      throw new SymtensorError('ERR_ST_ARG', name, `expected ${inputs.length} argument${inputs.length === 1 ? '' : 's'} (${inputs.map((v) => v.describe()).join(', ')}), got ${args.length}`);
    return args.map((a, i) => {
      const v = inputs[i];
      const label = labels[i];
      let t: Tensor;
      if (a instanceof Tensor) {
        t = a;
        if (t.dtype !== v.dtype) {
          if (LOSSLESS[v.dtype].includes(t.dtype) || opts.allowInputDowncast) t = castWith(eager, t, v.dtype);
          else throw new SymtensorError('ERR_ST_DTYPE', name, `${label} got a ${t.dtype} tensor; pass ${v.dtype}, or set allowInputDowncast: true to convert`);
        }
      } else {
        // typed arrays carry a dtype (plain JS numbers and arrays do not): narrowing one is a downcast
        if (ArrayBuffer.isView(a)) {
          const from = dtypeOfTypedArray(a as ArrayBufferView);
          if (from !== v.dtype && !LOSSLESS[v.dtype].includes(from) && !opts.allowInputDowncast)
            throw new SymtensorError('ERR_ST_DTYPE', name, `${label} got a ${a.constructor.name} (${from}); pass ${v.dtype} data, or set allowInputDowncast: true to convert`);
        }
        try {
          t = tensor(a as never, { dtype: v.dtype });
        } catch (e) {
          throw new SymtensorError('ERR_ST_VALUE', name, `${label}: ${(e as Error).message}`);
        }
      }
      if (t.rank !== v.ndim || v.shape.some((d, k) => d !== null && d !== t.shape[k]))
        throw new SymtensorError('ERR_ST_SHAPE', name, `${label} got shape ${fmtShape(t.shape)}`);
      return t;
    });
  };

  const compiledFor = (args: Tensor[]): Compiled => {
    if (disposed) throw new SymtensorError('ERR_ST_DISPOSED', name, 'function is disposed');
    const key = args.map((t) => t.shape.join(',')).join(';');
    let c = cache.get(key);
    if (!c) {
      const inTypes = new Map<Variable, VarType>(inputs.map((v, i) => [v, { dtype: v.dtype, shape: args[i].shape }]));
      let types;
      try {
        types = specialize(fg, inTypes);
      } catch (e) {
        // name the node the user wrote, not the fused one: find the failure in the graph as built
        const raw = new FunctionGraph(inputs, [...outList, ...updates.map(([, ex]) => ex)], givens);
        specialize(raw, inTypes);
        throw e;
      }
      const desc = lower(fg, types, nOut, updates.map(([sv], k) => [sv, k]));
      if (process.env.SYMTENSOR_DEBUG) process.stderr.write(formatProgram(name, desc));
      const prog = native.createProgram(nativeDesc(desc));
      if (opts.profile || debugLevel() >= 2) native.setProgramProfile(prog, true);
      const sorted = desc.outputSlots.slice().sort((a, b) => a - b);
      c = { desc, prog, order: desc.outputSlots.map((id) => sorted.indexOf(id)), pending: 0, evicted: false };
      if (cache.size >= 16) {
        const [k0, old] = cache.entries().next().value as [string, Compiled];
        cache.delete(k0);
        old.evicted = true;
        if (old.pending === 0) native.disposeProgram(old.prog);
      }
      cache.set(key, c);
    }
    last = c;
    return c;
  };

  const wrap = (c: Compiled, outs: ReturnType<typeof native.runProgram>): Tensor | Tensor[] => {
    const ts = c.order.map((pos, k) => {
      const s = c.desc.slots[c.desc.outputSlots[k]];
      return Tensor.fromNative(outs[pos], s.shape, s.dtype);
    });
    return Array.isArray(outputs) ? ts : ts[0];
  };

  const fail = (c: Compiled, e: unknown): never => {
    const err = e as { instr?: number; code?: string; message?: string };
    const ins = typeof err.instr === 'number' ? c.desc.instrs[err.instr] : undefined;
    const node = ins?.node;
    const where = node ? ` (node ${node.op.name} built at ${node.trace})` : '';
    const shapes = ins ? ins.inputs.map((id) => c.desc.slots[id].shape) : undefined;
    const code = (typeof err.code === 'string' && err.code.startsWith('ERR_ST_') ? err.code : 'ERR_ST_INTERNAL') as 'ERR_ST_INTERNAL';
    const shapeText = shapes ? `; input shapes ${shapes.map(fmtShape).join(', ')}` : '';
    throw new SymtensorError(code, node?.op.name ?? name, `${String(err.message ?? e).replace(/^\w+: /, '')}${shapeText}${where}`, { shapes, where: node?.trace });
  };

  const release = (args: Tensor[], given: Value[]) => args.forEach((t, i) => t !== given[i] && t.dispose());

  const sync = (...given: Value[]) => {
    for (const sv of sharedVars)
      if (sv.pendingAsync > 0)
        throw new SymtensorError('ERR_ST_ARG', name, `async calls that use ${sv.describe()} are still running; await them before calling ${name}.sync`);
    const args = convert(given);
    const c = compiledFor(args);
    let outs;
    try {
      outs = native.runProgram(c.prog, args.map((t) => t.buffer(name)));
    } catch (e) {
      release(args, given);
      fail(c, e);
    }
    release(args, given);
    return wrap(c, outs!);
  };

  // Async calls: inputs are converted and their buffers pinned now (a later dispose() cannot free
  // them); the native runs are chained so calls of one function apply their updates in call order.
  const run = (...given: Value[]): Promise<Tensor | Tensor[]> => {
    let args: Tensor[];
    let c: Compiled;
    let bufs: ReturnType<typeof native.runProgram>;
    try {
      args = convert(given);
      c = compiledFor(args);
      bufs = args.map((t) => t.buffer(name));
    } catch (e) {
      return Promise.reject(e);
    }
    bufs.forEach((b) => native.pin(b));
    c.pending++;
    sharedVars.forEach((sv) => sv.pendingAsync++);
    // after this function's earlier calls and every earlier call touching the same shared variables
    const after = Promise.all([queue, ...sharedVars.map((sv) => sv.queue)]);
    const next = after.then(
      () =>
        new Promise<Tensor | Tensor[]>((resolve, reject) => {
          if (disposed) {
            bufs.forEach((b) => native.unpin(b));
            release(args, given);
            sharedVars.forEach((sv) => sv.pendingAsync--);
            if (--c.pending === 0 && c.evicted) native.disposeProgram(c.prog);
            return reject(new SymtensorError('ERR_ST_DISPOSED', name, 'function was disposed before this call ran'));
          }
          const done = () => {
            bufs.forEach((b) => native.unpin(b));
            release(args, given);
            sharedVars.forEach((sv) => sv.pendingAsync--);
            if (--c.pending === 0 && c.evicted) native.disposeProgram(c.prog);
          };
          try {
            native.runProgramAsync(c.prog, bufs, (err, outs) => {
              done();
              if (!err) return resolve(wrap(c, outs!));
              try {
                fail(c, err);
              } catch (e2) {
                reject(e2);
              }
            });
          } catch (e) {
            done();
            reject(e);
          }
        }),
    );
    queue = next.catch(() => undefined);
    sharedVars.forEach((sv) => (sv.queue = queue));
    return next;
  };

  const f = run as unknown as CompiledFunction;
  if (debugLevel() >= 2) profiled.push(new WeakRef(f));
  Object.defineProperty(f, 'name', { value: name });
  Object.assign(f, {
    sync,
    graph: fg,
    program: () => last?.desc ?? null,
    profile(): ProfileEntry[] {
      if (!last) return [];
      const p = native.programProfile(last.prog);
      return last.desc.instrs.map((ins, i) => ({ index: i, op: ins.label, ms: p.ns[i] / 1e6, calls: p.counts[i] }));
    },
    dispose() {
      disposed = true;
      for (const c of cache.values()) {
        c.evicted = true;
        if (c.pending === 0) native.disposeProgram(c.prog);
      }
      cache.clear();
    },
  });
  return f;
}

function debugLevel(): number {
  return Number(process.env.SYMTENSOR_DEBUG ?? 0) || 0;
}

// SYMTENSOR_DEBUG=2: per-instruction timings of every compiled function, printed at exit.
const profiled: WeakRef<CompiledFunction>[] = [];
process.once('exit', () => {
  for (const ref of profiled) {
    const f = ref.deref();
    if (!f) continue;
    const rows = f.profile().filter((r) => r.calls > 0);
    if (!rows.length) continue;
    const total = rows.reduce((a, r) => a + r.ms, 0);
    process.stderr.write(`[symtensor] profile of ${f.name} (${total.toFixed(3)} ms in ${rows[0].calls} calls)\n`);
    for (const r of rows.sort((a, b) => b.ms - a.ms))
      process.stderr.write(`  ${String(r.index).padStart(3)} ${r.op.padEnd(28)} ${(r.ms / r.calls).toFixed(4)} ms/call  ${((100 * r.ms) / total).toFixed(1)}%\n`);
  }
});

/** One instruction a line, for SYMTENSOR_DEBUG. */
export function formatProgram(name: string, d: ProgramDesc): string {
  const kind = ['in', 'bound', 'tmp', 'out'];
  const s = (id: number) => `${kind[d.slots[id].kind]}${id}${fmtShape(d.slots[id].shape)}`;
  const lines = d.instrs.map((ins, i) => `  ${String(i).padStart(3)} ${ins.label.padEnd(24)} ${ins.outputs.map(s).join(', ')} <- ${ins.inputs.map(s).join(', ')}`);
  const copies = d.copies.map(([dst, src]) => `      update ${s(dst)} <- ${s(src)}`);
  return `[symtensor] program ${name}: ${d.instrs.length} instructions, arena ${d.arenaBytes} bytes\n${[...lines, ...copies].join('\n')}\n`;
}
