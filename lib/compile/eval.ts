// x.eval(): Theano's quick check of a symbolic value.  Compiles once per variable and set of
// inputs (kept while the variable lives), then runs synchronously.
import { SymtensorError, argError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { InputVariable, Variable } from '../graph/variable';
import { toposort } from '../graph/traverse';
import { ArgValue, CompiledFunction, fn } from './function';

/** Values for the inputs a variable depends on: by input name, as a Map, or as [input, value] pairs. */
export type EvalInputs = Record<string, ArgValue> | Map<Variable, ArgValue> | [Variable, ArgValue][];

declare module '../graph/variable' {
  interface Variable {
    /**
     * The value of this variable for the given input values (Theano's eval): the function is
     * compiled on first use and cached with the variable.
     * @example T.add(x, 1).eval({ x: 2 }) // a tensor holding 3
     */
    eval(inputs?: EvalInputs): Tensor;
  }
}

const cache = new WeakMap<Variable, Map<string, CompiledFunction<Tensor>>>();

/** The graph inputs (not constants or shared variables) v is computed from, in a fixed order. */
function freeInputs(v: Variable): Variable[] {
  if (v instanceof InputVariable) return [v];
  const seen = new Set<Variable>();
  for (const node of toposort([v])) for (const i of node.inputs) if (i instanceof InputVariable) seen.add(i);
  return [...seen].sort((a, b) => a.id - b.id);
}

/** Each free input's value, found by identity (Map, pairs) or by name (object). */
function valuesFor(op: string, inputs: Variable[], given: EvalInputs | undefined): ArgValue[] {
  const byVar = given instanceof Map ? given : Array.isArray(given) ? new Map(given) : null;
  const byName = !byVar && given ? given : {};
  if (!byVar && given !== undefined && (typeof given !== 'object' || given === null)) throw argError(op, 'inputs must be an object keyed by input name, a Map or [input, value] pairs');
  const names = inputs.map((v) => v.name);
  const missing: string[] = [];
  const values = inputs.map((v) => {
    if (byVar) {
      if (!byVar.has(v)) missing.push(v.describe());
      return byVar.get(v) as ArgValue;
    }
    if (v.name === undefined || names.filter((n) => n === v.name).length > 1)
      throw argError(op, `input ${v.describe()} has no name of its own: pass its value in a Map or as [input, value] pairs`);
    if (!Object.prototype.hasOwnProperty.call(byName, v.name)) missing.push(v.describe());
    return (byName as Record<string, ArgValue>)[v.name];
  });
  if (missing.length) throw new SymtensorError('ERR_ST_ARG', op, `no value given for ${missing.join(', ')}`);
  if (!byVar) {
    const extra = Object.keys(byName).filter((k) => !names.includes(k));
    if (extra.length) throw argError(op, `values given for ${extra.join(', ')}, which this value does not depend on (it depends on ${names.join(', ') || 'no inputs'})`);
  }
  return values;
}

/** The function eval compiled for v (undefined before its first eval). */
export function compiledFor(v: Variable): CompiledFunction<Tensor> | undefined {
  const fs = cache.get(v);
  return fs ? fs.values().next().value : undefined;
}

function evalVariable(this: Variable, given?: EvalInputs): Tensor {
  const op = 'eval';
  const inputs = freeInputs(this);
  const values = valuesFor(op, inputs, given);
  let byInputs = cache.get(this);
  if (!byInputs) cache.set(this, (byInputs = new Map()));
  const key = inputs.map((v) => v.id).join(',');
  let f = byInputs.get(key);
  if (!f) byInputs.set(key, (f = fn(inputs, this, { name: op })));
  return f.sync(...values);
}

Object.defineProperty(Variable.prototype, 'eval', { value: evalVariable, writable: true, configurable: true });
