// fn(): the callable.  Converts arguments, picks the program for their shapes, and runs it inline
// (f.sync) or on a worker thread (await f), keeping calls that share state in call order.
import { DType, dtypeOfTypedArray } from '../dtype';
import { SymtensorError, argError, checkOptionKeys, fmtShape, fmtValue, reportedAs } from '../errors';
import { native, NativeBuffer } from '../native';
import { asTensor, indexTensor } from '../tensor/creation';
import { castWith } from '../tensor/elementwise';
import { eager } from '../tensor/emitter';
import { Tensor } from '../tensor/tensor';
import { FunctionGraph } from '../graph/fgraph';
import { Variable } from '../graph/variable';
import { BuiltGraph, GraphOptions, UpdatePair, buildFunctionGraph } from './function-graph';
import { ProgramCache, Compiled, programCacheStats } from './programs';
import { ProgramDesc } from './lower';
import { ProfileEntry, debugLevel, profileAtExit } from './debug';

export type { ProfileEntry } from './debug';

/**
 * The options of st.fn.
 * @example const step = st.fn([X, y], cost, { updates: [[w, w.sub(gw.mul(0.1))]], name: 'step' });
 */
export interface FnOptions extends GraphOptions {
  /**
   * [shared, newValue] pairs applied after the outputs are computed, all from the old values: an
   * array (or Map) of pairs, e.g. `params.map((p, i) => [p, p.sub(grads[i].mul(lr))])`.
   */
  updates?: Iterable<UpdatePair>;
  /** Accept inputs of a wider dtype than declared (float64 for float32 …) and convert them. */
  allowInputDowncast?: boolean;
  name?: string;
  /** Time each instruction; read with f.profile(). */
  profile?: boolean;
}

/** Data a tensor can be made from: numbers or booleans, nested arrays of them, typed arrays. */
export type ArgData = number | boolean | ArrayBufferView | readonly ArgData[];

/** What a compiled function takes for each input: a tensor, or data a tensor can be made from. */
export type ArgValue = Tensor | ArgData;

/** One ArgValue per input variable: the argument list of a function compiled from `inputs`. */
export type ArgsOf<I extends readonly Variable[]> = { -readonly [K in keyof I]: ArgValue };

/** One Tensor per output variable: `[a, b]` gives `[Tensor, Tensor]`, a `Variable[]` gives `Tensor[]`. */
export type TensorsOf<O extends readonly Variable[]> = { -readonly [K in keyof O]: Tensor };

/**
 * A compiled function: `await f(...)` runs off the event loop, `f.sync(...)` inline.  `R` is what
 * a call gives (a Tensor, or a tuple of Tensors), `A` its arguments (one per input).
 */
export interface CompiledFunction<R = Tensor | Tensor[], A extends readonly ArgValue[] = ArgValue[]> {
  (...args: A): Promise<R>;
  /** Runs the program inline, on the calling thread. */
  sync(...args: A): R;
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

/** Every key of FnOptions (GraphOptions included): any other key is a misspelling. */
const FN_OPTIONS = ['updates', 'givens', 'onUnusedInput', 'excludeRewrites', 'allowInputDowncast', 'name', 'profile'] as const;

/** fn's options checked up front: a plain object of known keys, each of the right type (undefined: the default). */
function checkFnOptions(opts: unknown): FnOptions {
  const o = checkOptionKeys('fn', opts, FN_OPTIONS);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) throw argError('fn', `name must be a non-empty string, got ${fmtValue(o.name)}`);
  for (const k of ['allowInputDowncast', 'profile'] as const)
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw argError('fn', `${k} must be true or false, got ${fmtValue(o[k])}`);
  if (o.onUnusedInput !== undefined && o.onUnusedInput !== 'raise' && o.onUnusedInput !== 'ignore')
    throw argError('fn', `onUnusedInput must be 'raise' or 'ignore', got ${fmtValue(o.onUnusedInput)}`);
  const ex = o.excludeRewrites;
  if (ex !== undefined && (!Array.isArray(ex) || ex.some((r) => typeof r !== 'string')))
    throw argError('fn', `excludeRewrites must be an array of rewrite names, got ${fmtValue(ex)}`);
  return o as FnOptions;
}

// dtypes an input converts from without losing information
const LOSSLESS: Record<DType, DType[]> = { bool: [], int32: ['bool'], float32: ['bool'], float64: ['bool', 'int32', 'float32'] };

/** Whether t's rank and shape fit what v's static shape fixes (null dims fit any size). */
function fitsStatic(t: Tensor, v: Variable): boolean {
  const dims = v.staticShape;
  if (t.rank !== dims.length) return false;
  for (let k = 0; k < dims.length; k++) if (dims[k] !== null && dims[k] !== t.shape[k]) return false;
  return true;
}

/**
 * Converts call arguments to tensors of the inputs' dtypes, checking count, dtype and static dims.
 * When no argument needs converting it returns the given array itself, so a loop calling with
 * tensors of the right dtypes allocates nothing here.
 */
function argumentConverter(name: string, inputs: readonly Variable[], allowDowncast: boolean): (args: ArgValue[]) => Tensor[] {
  const labels = inputs.map((v, i) => `input ${i} (${v.describe()})`);
  const one = (a: ArgValue, i: number): Tensor => {
    const v = inputs[i];
    const label = labels[i];
    let t: Tensor;
    if (a instanceof Tensor) {
      t = a;
      if (t.dtype !== v.dtype) {
        if (LOSSLESS[v.dtype].includes(t.dtype) || allowDowncast) t = castWith(eager, t, v.dtype);
        else throw new SymtensorError('ERR_ST_DTYPE', name, `${label} got a ${t.dtype} tensor; pass ${v.dtype}, or set allowInputDowncast: true to convert`);
      }
    } else {
      // typed arrays carry a dtype (plain JS numbers and arrays do not): narrowing one is a downcast
      if (ArrayBuffer.isView(a)) {
        const from = dtypeOfTypedArray(a as ArrayBufferView);
        if (from !== v.dtype && !LOSSLESS[v.dtype].includes(from) && !allowDowncast)
          throw new SymtensorError('ERR_ST_DTYPE', name, `${label} got a ${a.constructor.name} (${from}); pass ${v.dtype} data, or set allowInputDowncast: true to convert`);
      }
      // plain JS numbers for an int32 input must be exact (as indices must): 1.5 or 2^32 would
      // otherwise become another number silently
      const exact = v.dtype === 'int32' && !allowDowncast && !ArrayBuffer.isView(a);
      t = exact ? indexTensor(name, a, label) : asTensor(name, a, v.dtype, label);
    }
    if (!fitsStatic(t, v)) throw new SymtensorError('ERR_ST_SHAPE', name, `${label} got shape ${fmtShape(t.shape)}`);
    return t;
  };
  return (args) => {
    if (args.length !== inputs.length)
      throw new SymtensorError('ERR_ST_ARG', name, `expected ${inputs.length} argument${inputs.length === 1 ? '' : 's'} (${inputs.map((v) => v.describe()).join(', ')}), got ${args.length}`);
    let out: ArgValue[] = args;
    for (let i = 0; i < args.length; i++) {
      const t = one(args[i], i);
      if (t === args[i]) continue;
      if (out === args) out = args.slice();
      out[i] = t;
    }
    return out as Tensor[];
  };
}

/**
 * Compiles outputs (and updates) of the symbolic inputs into a callable: one native program per
 * set of input shapes.  One output gives a Tensor, an array of outputs a tuple of Tensors (one
 * per output, so `const [a, b] = f.sync(x)` needs no cast); the call takes one argument per input.
 * @example const train = st.fn([X, y], cost, { updates: [[w, w.sub(gw.mul(0.1))]] });
 * @example const [loss, acc] = await st.fn([X, y], [cost, accuracy])(xb, yb);
 */
export function fn<const I extends readonly Variable[]>(inputs: I, outputs: Variable, opts?: FnOptions): CompiledFunction<Tensor, ArgsOf<I>>;
export function fn<const I extends readonly Variable[], const O extends readonly Variable[]>(inputs: I, outputs: O, opts?: FnOptions): CompiledFunction<TensorsOf<O>, ArgsOf<I>>;
export function fn(inputs: readonly Variable[], outputs: Variable | readonly Variable[], opts?: FnOptions): CompiledFunction;
export function fn(inputs: readonly Variable[], outputs: Variable | readonly Variable[], options?: FnOptions): CompiledFunction {
  const opts = checkFnOptions(options);
  const name = opts.name ?? 'fn';
  const op = opts.name ? `fn ${opts.name}` : 'fn';
  const outList = Array.isArray(outputs) ? (outputs as Variable[]) : [outputs as Variable];
  // errors of the steps inside (constants made from update values, casts, rewrites) are fn's
  const built: BuiltGraph = reportedAs(op, () => buildFunctionGraph(op, inputs as Variable[], outList, opts));
  programCacheStats.functions++;
  const programs = new ProgramCache(name, built, !!opts.profile);
  const convert = argumentConverter(name, inputs, !!opts.allowInputDowncast);
  const { sharedVars } = built;
  const single = !Array.isArray(outputs);
  // converted copies of the caller's values are ours to free
  const release = (args: Tensor[], given: ArgValue[]) => {
    if (args === given) return;
    for (let i = 0; i < args.length; i++) if (args[i] !== given[i]) args[i].dispose();
  };
  let queue: Promise<unknown> = Promise.resolve();
  const checkShared = () => {
    for (let i = 0; i < sharedVars.length; i++) {
      const sv = sharedVars[i];
      if (sv.isDisposed) throw new SymtensorError('ERR_ST_DISPOSED', name, `shared variable ${sv.describe()} was disposed`);
    }
  };
  // sync runs pass their input buffers in this array, emptied after each run so that it keeps
  // nothing alive (the addon reads it during the call and keeps no reference)
  const syncBufs: (NativeBuffer | undefined)[] = new Array(inputs.length).fill(undefined);

  const sync = (...given: ArgValue[]) => {
    for (let i = 0; i < sharedVars.length; i++) {
      const sv = sharedVars[i];
      if (sv.pendingAsync > 0)
        throw new SymtensorError('ERR_ST_ARG', name, `async calls that use ${sv.describe()} are still running; await them before calling ${name}.sync`);
    }
    checkShared();
    const args = convert(given);
    let c: Compiled, outs;
    try {
      c = programs.get(args);
      try {
        for (let i = 0; i < args.length; i++) syncBufs[i] = args[i].buffer(name);
        outs = native.runProgram(c.prog, syncBufs as NativeBuffer[]);
      } catch (e) {
        programs.fail(c, e);
      } finally {
        syncBufs.fill(undefined);
      }
    } finally {
      release(args, given);
    }
    return single ? programs.wrapFirst(c, outs!, true) : programs.wrap(c, outs!, true);
  };

  // Async calls: inputs are converted and their buffers pinned now (a later dispose() cannot free
  // them); the native runs are chained so calls of one function apply their updates in call order.
  const run = (...given: ArgValue[]): Promise<Tensor | Tensor[]> => {
    let args: Tensor[], c: Compiled;
    const bufs = new Array<NativeBuffer>(inputs.length);
    try {
      checkShared();
      args = convert(given);
      c = programs.get(args);
      for (let i = 0; i < args.length; i++) bufs[i] = args[i].buffer(name);
    } catch (e) {
      return Promise.reject(e);
    }
    for (let i = 0; i < bufs.length; i++) native.pin(bufs[i]);
    c.pending++;
    for (let i = 0; i < sharedVars.length; i++) sharedVars[i].pendingAsync++;
    const done = () => {
      for (let i = 0; i < bufs.length; i++) native.unpin(bufs[i]);
      release(args, given);
      for (let i = 0; i < sharedVars.length; i++) sharedVars[i].pendingAsync--;
      programs.finished(c);
    };
    // after this function's earlier calls and every earlier call touching the same shared variables
    // (when this function made the last call on each of them, its own queue already orders it)
    const own = sharedVars.every((sv) => sv.queue === queue);
    const after = own ? queue : Promise.all([queue, ...sharedVars.map((sv) => sv.queue)]);
    const next = after.then(
      () =>
        new Promise<Tensor | Tensor[]>((resolve, reject) => {
          if (programs.disposed) {
            done();
            return reject(new SymtensorError('ERR_ST_DISPOSED', name, 'function was disposed before this call ran'));
          }
          try {
            native.runProgramAsync(c.prog, bufs, (err, outs) => {
              done();
              if (!err) return resolve(single ? programs.wrapFirst(c, outs!, false) : programs.wrap(c, outs!, false));
              try {
                programs.fail(c, err);
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
    // the queue waits for the run, not its result: holding the result would keep it alive until the next call
    queue = next.then(
      () => undefined,
      () => undefined,
    );
    for (let i = 0; i < sharedVars.length; i++) sharedVars[i].queue = queue;
    return next;
  };

  const f = run as unknown as CompiledFunction;
  Object.defineProperty(f, 'name', { value: name });
  Object.assign(f, {
    sync,
    graph: built.fg,
    program: () => programs.last?.desc ?? null,
    profile(): ProfileEntry[] {
      const last = programs.last;
      if (!last) return [];
      const p = native.programProfile(last.prog);
      return last.desc.instrs.map((ins, i) => ({ index: i, op: ins.label, ms: p.ns[i] / 1e6, calls: p.counts[i] }));
    },
    dispose: () => programs.dispose(),
  });
  if (debugLevel() >= 2) profileAtExit(f);
  return f;
}
