// T.scan and its short forms (T.map, T.reduce, T.foldl, T.foldr): Theano's symbolic loops.  The
// step function is called once, on stand-ins for one step's values; the graph it returns becomes
// the body of a Scan op (lib/graph/ops/scan.ts) that compiled functions run as a native loop.
import { argError, checkOptionKeys, dtypeError, fmtShape, fmtValue, shapeError } from '../errors';
import { Tensor } from '../tensor/tensor';
import type { NestedArray } from '../tensor/convert';
import { Constant, InputVariable, Variable, applyOp, peekNextId } from './variable';
import { SliceSpec, subtensor } from './indexing';
import { DimShuffle } from './ops/shape';
import { applyOp1 } from './variable';
import { Scan, ScanSpec, SeqSpec, StateSpec } from './ops/scan';
import { cloneWith } from './ops/scan-grad';
import { RandomDraw } from './random';
import { SharedVariable } from './shared';
import { toposort } from './traverse';
import * as T from './T';

/** A value a loop takes: a Variable, or what a constant is made of (number, boolean, Tensor, nested array). */
type Value = Variable | number | boolean | Tensor | NestedArray;

/** A sequence: a variable iterated over its first axis, or one with taps (offsets, default [0]). */
export type SequenceArg = Value | { input: Value; taps?: number[] };

/**
 * One output of the step: an initial value (fed back as the previous value, tap -1), null (an output
 * that is not fed back), or an initial value with taps (negative offsets: [-1, -2] passes the two
 * previous values; the initial value then holds that many rows, oldest first).
 */
export type OutputInfo = Value | null | { initial: Value; taps?: number[] };

/** The options of T.scan (Theano's scan arguments, in camelCase). */
export interface ScanOptions {
  /** Variables iterated over their first axis; the step gets one row of each per step. */
  sequences?: SequenceArg | SequenceArg[];
  /** Per output of the step (see OutputInfo); none: every output is per step, none fed back. */
  outputsInfo?: OutputInfo | OutputInfo[];
  /** Values passed unchanged to every step (shared variables and other outer variables the step uses are added by themselves). */
  nonSequences?: Value | Value[];
  /** The number of steps: a number or an int32 scalar computed from shapes; default: the sequences' length. */
  nSteps?: number | Variable;
  /** Iterate the sequences from the last row to the first (outputs still in step order). */
  goBackwards?: boolean;
  /** Backpropagation through the last this-many iterations only (truncated BPTT); -1 (default): all. */
  truncateGradient?: number;
  name?: string;
}

/** Updates a scan asks of the function that runs it (always empty: random draws inside a step are not supported). */
export type ScanUpdates = [SharedVariable, Variable][];

/** What scan returns for a step returning R: one output, or one per returned value. */
export type ScanOutputs<R> = R extends Variable ? Variable : Variable[];

const OP = 'scan';
const toVar = (v: Value, what: string): Variable => {
  if (v instanceof Variable) return v;
  if (v === null || v === undefined) throw argError(OP, `${what} is ${String(v)}`);
  return T.constant(v as number);
};
const list = <X>(v: X | X[] | undefined): X[] => (v === undefined ? [] : Array.isArray(v) && !(v.length && typeof v[0] === 'number') ? v : [v as X]);
const checkTaps = (taps: unknown, what: string, negative: boolean): number[] => {
  if (!Array.isArray(taps) || !taps.length || taps.some((k) => !Number.isInteger(k) || (negative && k >= 0)) || new Set(taps).size !== taps.length)
    throw argError(OP, `${what} taps must be a non-empty list of distinct ${negative ? 'negative ' : ''}integers, got ${fmtValue(taps)}`);
  return taps as number[];
};
const expand = (v: Variable) => applyOp1(new DimShuffle(['x', ...v.staticShape.map((_, i) => i)]), [v]);
const placeholder = (t: Variable['type'], name: string) => new InputVariable({ dtype: t.dtype, shape: t.shape, known: t.known }, null, 0, name);

interface Built {
  outputs: Variable[];
  single: boolean;
}

/** The keys of ScanOptions: a misspelt one (`outputInfo`) is an error listing them. */
const SCAN_OPTIONS = ['sequences', 'outputsInfo', 'nonSequences', 'nSteps', 'goBackwards', 'truncateGradient', 'name'];

function build(fn: (...args: Variable[]) => unknown, opts: ScanOptions, last: boolean): Built {
  checkOptionKeys(opts?.name ?? OP, opts, SCAN_OPTIONS);
  const name = opts.name ?? OP;
  if (typeof fn !== 'function') throw argError(name, `the step must be a function, got ${fmtValue(fn)}`);
  if (opts.truncateGradient !== undefined && opts.truncateGradient !== -1 && !(Number.isInteger(opts.truncateGradient) && opts.truncateGradient > 0))
    throw argError(name, `truncateGradient must be -1 or a positive integer, got ${fmtValue(opts.truncateGradient)}`);
  const backwards = !!opts.goBackwards;

  // sequences: one step input per (sequence, tap)
  const seqs: { outer: Variable; spec: SeqSpec; inner: Variable }[] = [];
  list(opts.sequences as SequenceArg | SequenceArg[]).forEach((arg, i) => {
    const withTaps = arg !== null && typeof arg === 'object' && !(arg instanceof Variable) && !(arg instanceof Tensor) && !Array.isArray(arg);
    const x = toVar(withTaps ? (arg as { input: Value }).input : (arg as Value), `sequence ${i}`);
    const taps = withTaps ? checkTaps((arg as { taps?: number[] }).taps ?? [0], `sequence ${i}`, false) : [0];
    if (x.ndim < 1) throw shapeError(name, `sequence ${i} (${x.describe()}) must have at least one axis to iterate over`);
    const lo = Math.min(...taps);
    const row = { dtype: x.dtype, shape: x.staticShape.slice(1) };
    for (const k of taps) seqs.push({ outer: x, spec: { offset: k - lo, fromEnd: backwards }, inner: placeholder(row, `${x.name ?? `seq${i}`}[t${k >= 0 ? '+' : ''}${k}]`) });
  });

  // outputs: the fed-back ones become states
  const infos = opts.outputsInfo === undefined ? null : list(opts.outputsInfo as OutputInfo | OutputInfo[]);
  const states: { index: number; init: Variable; spec: StateSpec; inner: Variable[] }[] = [];
  (infos ?? []).forEach((info, i) => {
    if (info === null) return;
    const withTaps = typeof info === 'object' && !(info instanceof Variable) && !(info instanceof Tensor) && !Array.isArray(info);
    const init = toVar(withTaps ? (info as { initial: Value }).initial : (info as Value), `the initial value of output ${i}`);
    const taps = withTaps ? checkTaps((info as { taps?: number[] }).taps ?? [-1], `output ${i}`, true) : [-1];
    const m = -Math.min(...taps);
    const single = taps.length === 1 && taps[0] === -1 && !withTaps;
    if (!single && (init.ndim < 1 || (init.staticShape[0] !== null && init.staticShape[0] !== m)))
      throw shapeError(name, `output ${i} reads taps ${taps.join(', ')}: its initial value must hold ${m} rows (oldest first), got ${init.describe()}`);
    const rowType = { dtype: init.dtype, shape: single ? init.staticShape : init.staticShape.slice(1) };
    const inner = taps.map((k) => placeholder(rowType, `out${i}[t${k}]`));
    const mode = last && m === 1 ? 'last' : 'all';
    states.push({ index: i, init: single ? expand(init) : init, spec: { taps, mode }, inner });
  });
  const nonSeqs = list(opts.nonSequences as Value | Value[]).map((v, i) => toVar(v, `non-sequence ${i}`));
  const nonSeqInner = nonSeqs.map((v, i) => placeholder(v.type, v.name ?? `nonSeq${i}`));

  let nSteps: Variable | null = null;
  if (opts.nSteps !== undefined) {
    if (typeof opts.nSteps === 'number') {
      if (!Number.isInteger(opts.nSteps) || opts.nSteps < 0) throw argError(name, `nSteps must be a non-negative integer, got ${fmtValue(opts.nSteps)}`);
      nSteps = T.constant(opts.nSteps, undefined, 'int32');
    } else if (opts.nSteps instanceof Variable && opts.nSteps.dtype === 'int32' && opts.nSteps.ndim === 0) nSteps = opts.nSteps;
    else throw dtypeError(name, `nSteps must be a number or an int32 scalar, got ${opts.nSteps instanceof Variable ? opts.nSteps.describe() : fmtValue(opts.nSteps)}`);
  }
  if (!seqs.length && !nSteps) throw argError(name, 'give sequences or nSteps: nothing sets the number of steps');

  // the step, once, on stand-ins
  const mark = peekNextId();
  const args = [...seqs.map((q) => q.inner), ...states.flatMap((s) => s.inner), ...nonSeqInner];
  const ret = fn(...args);
  const single = !Array.isArray(ret);
  const returned = (single ? [ret] : (ret as unknown[])).map((v, i) => {
    if (v instanceof Variable) return v;
    if (typeof v === 'number' || typeof v === 'boolean' || v instanceof Tensor) return T.constant(v as number);
    throw argError(name, `the step returned ${fmtValue(v)} as output ${i}; return variables (updates from the step are not supported)`);
  });
  if (infos && infos.length !== returned.length)
    throw argError(name, `outputsInfo has ${infos.length} entries but the step returned ${returned.length} output${returned.length === 1 ? '' : 's'}`);
  for (const s of states) {
    const out = returned[s.index], want = s.inner[0];
    if (out.dtype !== want.dtype)
      throw dtypeError(name, `output ${s.index} of the step is ${out.dtype} but its initial value is ${want.dtype}; cast one of them (T.cast)`);
    if (out.ndim !== want.ndim || out.staticShape.some((d, k) => d !== null && want.staticShape[k] !== null && d !== want.staticShape[k]))
      throw shapeError(name, `output ${s.index} of the step has shape ${fmtShape(out.staticShape)} but its initial value has rows of ${fmtShape(want.staticShape)}`);
  }
  const stateIdx = new Set(states.map((s) => s.index));
  const perStepIdx = returned.map((_, i) => i).filter((i) => !stateIdx.has(i));
  let innerOutputs = [...states.map((s) => returned[s.index]), ...perStepIdx.map((i) => returned[i])];

  // outer values the step uses (shared variables, inputs, loop-invariant expressions) become
  // non-sequences: computed once, outside the loop
  const own = new Set(args);
  const order = toposort(innerOutputs, (v) => own.has(v));
  const variant = new Set<Variable>(args);
  for (const node of order) {
    if (node.outputs[0].id >= mark && node.op instanceof RandomDraw)
      throw argError(name, 'random draws inside the step are not supported yet; draw the whole sequence outside the scan and pass it as a sequence');
    if (node.inputs.some((v) => variant.has(v))) node.outputs.forEach((o) => variant.add(o));
  }
  const hoisted = new Map<Variable, Variable>();
  const hoist = (v: Variable) => {
    if (variant.has(v) || v instanceof Constant || hoisted.has(v)) return;
    hoisted.set(v, placeholder(v.type, v.name ?? `free${hoisted.size}`));
  };
  for (const node of order) if (variant.has(node.outputs[0])) node.inputs.forEach(hoist);
  innerOutputs.forEach(hoist);
  if (hoisted.size) innerOutputs = cloneWith(innerOutputs, new Map(hoisted));

  const spec: ScanSpec = {
    seqs: seqs.map((q) => q.spec),
    states: states.map((s) => s.spec),
    nPerStep: perStepIdx.length,
    nNonSeqs: nonSeqs.length + hoisted.size,
    hasNSteps: nSteps !== null,
    reverse: false,
    truncateGradient: opts.truncateGradient ?? -1,
    name,
  };
  const op = new Scan(spec, [...args, ...hoisted.values()], innerOutputs);
  const outs = applyOp(op, [...(nSteps ? [nSteps] : []), ...seqs.map((q) => q.outer), ...states.map((s) => s.init), ...nonSeqs, ...hoisted.keys()]);
  const result: Variable[] = new Array(returned.length);
  states.forEach((s, r) => {
    const m = -Math.min(...s.spec.taps);
    const v = s.spec.mode === 'last' ? outs[r] : subtensor(outs[r], [new SliceSpec(m, null)]);
    result[s.index] = last && s.spec.mode !== 'last' ? subtensor(v, [-1]) : v;
  });
  perStepIdx.forEach((i, y) => (result[i] = last ? subtensor(outs[states.length + y], [-1]) : outs[states.length + y]));
  return { outputs: result, single };
}

/**
 * Theano's scan: a loop as one graph node.  `fn` is called once with, in order, a row of each
 * sequence (one per tap), the previous values of each fed-back output (one per tap), and the
 * non-sequences; it returns the step's outputs.  Each output comes back stacked over the steps
 * ([nSteps, ...]; initial values left out).  Compiled, the loop runs natively, its outputs written
 * in place; `st.grad` differentiates through it (backwards through the steps).
 * @example
 * // cumulative sum of the rows of x
 * const [sums] = T.scan((row, acc) => acc.add(row), { sequences: x, outputsInfo: T.zerosLike(x.get([0])) });
 * // a tanh RNN over time-major inputs xs [steps, batch, in]
 * const [hs] = T.scan((x, h) => T.tanh(T.dot(x, Wx).add(T.dot(h, Wh)).add(b)), { sequences: xs, outputsInfo: h0 });
 */
export function scan<R extends Variable | Variable[]>(fn: (...args: Variable[]) => R, opts: ScanOptions = {}): [ScanOutputs<R>, ScanUpdates] {
  const { outputs, single } = build(fn as (...a: Variable[]) => unknown, opts, false);
  return [(single ? outputs[0] : outputs) as ScanOutputs<R>, []];
}

/** Options of T.map, T.reduce, T.foldl and T.foldr. */
export interface LoopOptions {
  goBackwards?: boolean;
  name?: string;
}

/**
 * fn applied to each row of the sequences (Theano's map): the results stacked.
 * @example const [squares] = T.map((v) => v.mul(v), x);
 */
export function map<R extends Variable | Variable[]>(fn: (...args: Variable[]) => R, sequences: SequenceArg | SequenceArg[], nonSequences?: Value | Value[], opts: LoopOptions = {}): [ScanOutputs<R>, ScanUpdates] {
  return scan(fn, { sequences, nonSequences, goBackwards: opts.goBackwards, name: opts.name ?? 'map' });
}

/**
 * A scan that returns only the final value of each output (Theano's reduce); the loop keeps just
 * the latest state, not every step's.
 * @example const [total] = T.reduce((v, acc) => acc.add(v), x, T.zerosLike(x.get([0])));
 */
export function reduce<R extends Variable | Variable[]>(fn: (...args: Variable[]) => R, sequences: SequenceArg | SequenceArg[], outputsInfo: OutputInfo | OutputInfo[], nonSequences?: Value | Value[], opts: LoopOptions = {}): [ScanOutputs<R>, ScanUpdates] {
  const { outputs, single } = build(fn as (...a: Variable[]) => unknown, { sequences, outputsInfo, nonSequences, goBackwards: opts.goBackwards, name: opts.name ?? 'reduce' }, true);
  return [(single ? outputs[0] : outputs) as ScanOutputs<R>, []];
}

/** reduce from the first row to the last (Theano's foldl). */
export function foldl<R extends Variable | Variable[]>(fn: (...args: Variable[]) => R, sequences: SequenceArg | SequenceArg[], outputsInfo: OutputInfo | OutputInfo[], nonSequences?: Value | Value[], opts: { name?: string } = {}): [ScanOutputs<R>, ScanUpdates] {
  return reduce(fn, sequences, outputsInfo, nonSequences, { name: opts.name ?? 'foldl' });
}

/** reduce from the last row to the first (Theano's foldr). */
export function foldr<R extends Variable | Variable[]>(fn: (...args: Variable[]) => R, sequences: SequenceArg | SequenceArg[], outputsInfo: OutputInfo | OutputInfo[], nonSequences?: Value | Value[], opts: { name?: string } = {}): [ScanOutputs<R>, ScanUpdates] {
  return reduce(fn, sequences, outputsInfo, nonSequences, { goBackwards: true, name: opts.name ?? 'foldr' });
}
