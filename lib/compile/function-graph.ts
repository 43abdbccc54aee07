// Building a function's graph: the argument checks of fn(), updates and givens, and the optimized
// FunctionGraph that every per-shape program is lowered from.
import { SymtensorError, fmtShape, fmtValue, relabel } from '../errors';
import { Tensor } from '../tensor/tensor';
import { FunctionGraph } from '../graph/fgraph';
import { optimize } from '../graph/rewrite';
import { SharedVariable } from '../graph/shared';
import { toposort } from '../graph/traverse';
import { Constant, InputVariable, Variable, captureTrace, withTrace } from '../graph/variable';
import { randomStateUpdates } from '../graph/random';
import * as T from '../graph/T';
import { PHASES, allRewrites } from './rewrites';

/** What an update or a given may be: an expression, an eager tensor or a number. */
export type ValueLike = Variable | Tensor | number;

/**
 * One update: [sharedVariable, newValue].  A plain array (what `params.map((p, i) => [p, …])`
 * infers to) is accepted too; that it holds exactly a shared variable and a value is checked when
 * the function is built.
 */
export type UpdatePair = readonly [SharedVariable, ValueLike] | readonly ValueLike[];

/** How fn builds its graph: updates, givens, and what to do with unused inputs. */
export interface GraphOptions {
  /** [shared, newValue] pairs applied after the outputs are computed, all from the old values. */
  updates?: Iterable<UpdatePair>;
  /** Variables replaced by other expressions (or values) before compiling. */
  givens?: Iterable<readonly [Variable, ValueLike]>;
  /** 'raise' (default): an input the outputs do not use is an error. */
  onUnusedInput?: 'raise' | 'ignore';
  /** Skip the named rewrites (tests and debugging). */
  excludeRewrites?: string[];
}

/** A function's graph, checked and optimized, with what the callable needs to know about it. */
export interface BuiltGraph {
  inputs: Variable[];
  /** Outputs first, then the new value of each update. */
  fg: FunctionGraph;
  nOutputs: number;
  /** Update targets, in the order their values follow the outputs in fg.outputs. */
  updates: SharedVariable[];
  /** Shared variables the program reads or updates (async calls touching one run in call order). */
  sharedVars: SharedVariable[];
  /** The same graph unoptimized, to name the node the user wrote when a run-time shape fails. */
  unoptimized(): FunctionGraph;
}

/** A value of an update or a given as a graph variable; anything else is an error about `what`. */
function toVariable(op: string, what: string, v: unknown): Variable {
  if (v instanceof Variable) return v;
  if (!(v instanceof Tensor || typeof v === 'number' || typeof v === 'boolean' || Array.isArray(v)))
    throw new SymtensorError('ERR_ST_ARG', op, `${what} must be a symbolic variable, a Tensor or a number, got ${fmtValue(v)}`);
  try {
    return T.constant(v as number);
  } catch (e) {
    if (!(e instanceof SymtensorError)) throw e;
    throw relabel(e, op, `${what}: ${e.message}`);
  }
}

/** A value for a message: a variable by its name, shape and dtype. */
function show(v: unknown): string {
  return v instanceof Variable ? v.describe() : fmtValue(v);
}

function checkInputs(op: string, inputs: Variable[], outList: Variable[]): void {
  if (!Array.isArray(inputs)) throw new SymtensorError('ERR_ST_ARG', op, `inputs must be an array of symbolic variables, got ${show(inputs)}`);
  inputs.forEach((v, i) => {
    if (!(v instanceof Variable)) throw new SymtensorError('ERR_ST_ARG', op, `input ${i} is not a symbolic variable, got ${fmtValue(v)}`);
    if (v instanceof SharedVariable || v instanceof Constant) throw new SymtensorError('ERR_ST_ARG', op, `input ${i} (${v.describe()}) is a ${v instanceof SharedVariable ? 'shared variable' : 'constant'}; shared variables are used implicitly, not passed`);
    if (v.owner) throw new SymtensorError('ERR_ST_ARG', op, `input ${i} (${v.describe()}) is computed from other variables; inputs must be free variables (T.matrix …)`);
    if (inputs.indexOf(v) !== i) throw new SymtensorError('ERR_ST_ARG', op, `input ${v.describe()} is listed twice`);
  });
  outList.forEach((v, i) => {
    if (!(v instanceof Variable)) throw new SymtensorError('ERR_ST_ARG', op, `output ${i} is not a symbolic variable, got ${fmtValue(v)}`);
  });
}

/** An option that must be iterable (an array or a Map of pairs), or an error naming it. */
function iterate<T>(op: string, name: string, list: Iterable<T>): Iterable<T> {
  if (list === null || typeof list !== 'object' || typeof (list as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function')
    throw new SymtensorError('ERR_ST_ARG', op, `${name} must be an array (or Map) of pairs, got ${fmtValue(list)}`);
  return list;
}

function checkUpdates(op: string, list: Iterable<UpdatePair>): [SharedVariable, Variable][] {
  const updates: [SharedVariable, Variable][] = [];
  const seen = new Set<SharedVariable>();
  let i = 0;
  for (const pair of iterate(op, 'updates', list)) {
    if (!Array.isArray(pair) || pair.length !== 2)
      throw new SymtensorError('ERR_ST_ARG', op, `updates must be [sharedVariable, expression] pairs; update ${i} is ${show(pair)}`);
    const [sv, expr] = pair as [unknown, ValueLike];
    if (!(sv instanceof SharedVariable)) throw new SymtensorError('ERR_ST_ARG', op, `updates: ${show(sv)} (update ${i}) is not a shared variable (only st.shared variables can be updated)`);
    if (seen.has(sv)) throw new SymtensorError('ERR_ST_ARG', op, `updates: ${sv.describe()} is updated twice`);
    let e = toVariable(op, `update of ${sv.describe()}`, expr);
    if (e.dtype !== sv.dtype) {
      if (e instanceof Constant) e = T.cast(e, sv.dtype);
      else throw new SymtensorError('ERR_ST_DTYPE', op, `update of ${sv.describe()}: the new value is ${e.dtype} (cast it with T.cast(expr, '${sv.dtype}'))`);
    }
    if (e.ndim !== sv.ndim || e.staticShape.some((d, i) => d !== null && d !== sv.staticShape[i]))
      throw new SymtensorError('ERR_ST_SHAPE', op, `update of ${sv.describe()}: the new value has shape ${fmtShape(e.staticShape)}`);
    updates.push([sv, e]);
    seen.add(sv);
    i++;
  }
  return updates;
}

function checkGivens(op: string, list: Iterable<readonly [Variable, ValueLike]>): Map<Variable, Variable> {
  const givens = new Map<Variable, Variable>();
  for (const pair of iterate(op, 'givens', list)) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new SymtensorError('ERR_ST_ARG', op, `givens must be [variable, replacement] pairs, got ${show(pair)}`);
    const [k, v] = pair as [unknown, ValueLike];
    if (!(k instanceof Variable)) throw new SymtensorError('ERR_ST_ARG', op, `givens keys must be symbolic variables, got ${show(k)}`);
    if (givens.has(k)) throw new SymtensorError('ERR_ST_ARG', op, `givens: ${k.describe()} is given twice`);
    const rep = toVariable(op, `givens: the replacement of ${k.describe()}`, v);
    if (rep.dtype !== k.dtype || rep.ndim !== k.ndim) throw new SymtensorError('ERR_ST_DTYPE', op, `givens: ${k.describe()} cannot be replaced by ${rep.describe()}`);
    // the graph was checked with k's static dims: a replacement must not contradict them
    const clash = k.staticShape.findIndex((d, i) => d !== null && rep.staticShape[i] !== null && rep.staticShape[i] !== d);
    if (clash >= 0)
      throw new SymtensorError('ERR_ST_SHAPE', op, `givens: ${k.describe()} has shape ${fmtShape(k.staticShape)} but its replacement ${rep.describe()} has ${fmtShape(rep.staticShape)} (axis ${clash} differs)`);
    givens.set(k, rep);
  }
  return givens;
}

/** Every free variable the outputs need must be an input, a given, a shared variable or a constant. */
function checkFreeVariables(op: string, inputs: Variable[], roots: Variable[], givens: Map<Variable, Variable>, onUnused: 'raise' | 'ignore'): void {
  const used = new Set<Variable>();
  const free = (v: Variable) => {
    if (!v.owner) used.add(v);
  };
  roots.forEach(free);
  for (const node of toposort(roots.concat([...givens.values()]))) node.inputs.forEach((v) => free(givens.get(v) ?? v));
  const inputSet = new Set(inputs);
  for (const v of used) {
    if (v instanceof InputVariable && !inputSet.has(v) && !givens.has(v))
      throw new SymtensorError('ERR_ST_ARG', op, `the outputs depend on ${v.describe()}, which is not among the inputs`);
  }
  if (onUnused === 'raise') {
    inputs.forEach((v, i) => {
      if (!used.has(v)) throw new SymtensorError('ERR_ST_ARG', op, `input ${i} (${v.describe()}) is not used by the outputs (pass onUnusedInput: 'ignore' to allow this)`);
    });
  }
}

/**
 * Checks fn()'s arguments, applies givens, adds the updates random streams need, and optimizes.
 * Throws a SymtensorError naming the argument at fault.
 */
export function buildFunctionGraph(op: string, inputs: Variable[], outputs: Variable[], opts: GraphOptions): BuiltGraph {
  // nodes built here and by the rewrites are located at the user's fn() call (rewrites then hand
  // each replacement the location of the node it replaces)
  return withTrace(captureTrace(), () => build(op, inputs, outputs, opts));
}

function build(op: string, inputs: Variable[], outputs: Variable[], opts: GraphOptions): BuiltGraph {
  checkInputs(op, inputs, outputs);
  const updates = checkUpdates(op, opts.updates ?? []);
  const givens = checkGivens(op, opts.givens ?? []);
  const roots = [...outputs, ...updates.map(([, e]) => e)].map((v) => givens.get(v) ?? v);
  checkFreeVariables(op, inputs, roots, givens, opts.onUnusedInput ?? 'raise');
  // random draws advance their stream's counter on every call, unless the user updates it
  updates.push(...randomStateUpdates(roots, new Set(updates.map(([sv]) => sv))));

  const known = allRewrites().map((r) => r.name);
  for (const r of opts.excludeRewrites ?? [])
    if (!known.includes(r)) throw new SymtensorError('ERR_ST_ARG', op, `excludeRewrites: no rewrite is named ${fmtValue(r)} (known: ${known.join(', ')})`);
  const allOutputs = [...outputs, ...updates.map(([, e]) => e)];
  const fg = optimize(new FunctionGraph(inputs, allOutputs, givens), PHASES, new Set(opts.excludeRewrites ?? []));
  const touched = [...fg.nodes().flatMap((n) => n.inputs), ...fg.outputs, ...updates.map(([sv]) => sv)];
  return {
    inputs,
    fg,
    nOutputs: outputs.length,
    updates: updates.map(([sv]) => sv),
    sharedVars: [...new Set(touched.filter((v): v is SharedVariable => v instanceof SharedVariable))],
    unoptimized: () => new FunctionGraph(inputs, allOutputs, givens),
  };
}
