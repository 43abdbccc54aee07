// Specialization: the concrete type of every variable for one set of input shapes, with the
// run-time checks that need them (shapes that do not fit, broadcasting the graph did not declare).
import { DType } from '../dtype';
import { SymtensorError, SymtensorErrorCode, fmtShape } from '../errors';
import { Apply, Variable, VarType } from '../graph/variable';
import { FunctionGraph } from '../graph/fgraph';

export function typeError(node: Apply, msg: string, code: SymtensorErrorCode = 'ERR_ST_SHAPE'): SymtensorError {
  return new SymtensorError(code, node.op.name, `${msg} (node built at ${node.trace})`, { where: node.trace });
}

/** A variable's type for one set of input shapes: every dim known (and maybe its values). */
export interface SpecializedType {
  dtype: DType;
  shape: number[];
  known?: (number | null)[];
}

/**
 * Rejects an input axis declared unknown that is 1 at run time and broadcast to a larger size, for
 * any op that broadcasts (Op.broadcastTargets): gradients, built before shapes are known, sum over
 * broadcast axes only where the graph declares them 1.
 */
function checkRuntimeBroadcast(node: Apply, ins: VarType[], outs: VarType[]): void {
  const targets = node.op.broadcastTargets(ins, outs);
  if (!targets) return;
  node.inputs.forEach((v, i) => {
    const t = targets[i];
    if (!t) return;
    v.staticShape.forEach((d, k) => {
      const to = t[k];
      if (d === null && ins[i].shape[k] === 1 && to !== null && to !== 1)
        throw typeError(node, `input ${i} (${v.describe()}) has size 1 on axis ${k} at run time and would broadcast to ${to}; declare that dimension as 1 to broadcast`);
    });
  });
}

/**
 * Concrete types of every variable for the given input shapes; throws naming the node (and where
 * the user built it) when run-time shapes do not fit.
 */
export function specialize(fg: FunctionGraph, inputTypes: Map<Variable, VarType>): Map<Variable, SpecializedType> {
  const types = new Map<Variable, SpecializedType>();
  for (const [v, t] of inputTypes) types.set(v, { dtype: t.dtype, shape: t.shape as number[] });
  const typeOf = (v: Variable) => {
    let t = types.get(v);
    if (!t) {
      if (v.owner) throw new SymtensorError('ERR_ST_INTERNAL', 'specialize', `no type for ${v.describe()}`);
      t = { ...v.type, shape: v.staticShape as number[] }; // constants and shared variables have static shapes
      types.set(v, t);
    }
    return t;
  };
  for (const node of fg.nodes()) {
    const ins = node.inputs.map(typeOf);
    let outs: VarType[];
    try {
      outs = node.op.infer(ins);
    } catch (e) {
      const msg = e instanceof Error ? e.message.replace(/^\w+: /, '') : String(e);
      // keep the kind of error the op reported (a dtype or argument error stays one)
      const code = e instanceof SymtensorError ? e.code : 'ERR_ST_SHAPE';
      throw typeError(node, `${msg}; run-time input shapes ${ins.map((t) => fmtShape(t.shape)).join(', ')}`, code);
    }
    checkRuntimeBroadcast(node, ins, outs);
    node.outputs.forEach((o, k) => {
      const shape = outs[k].shape;
      if (shape.some((d) => d === null)) {
        const byValue = ins.findIndex((t) => t.known !== undefined && t.known.some((d) => d === null));
        if (byValue >= 0)
          throw typeError(node, `its output shape depends on ${node.inputs[byValue].describe()}, whose value is only known when the function runs; sizes must be computed from shapes (x.shape) and constants`);
        throw typeError(node, `could not determine the output shape`);
      }
      o.staticShape.forEach((d, j) => {
        if (d !== null && d !== shape[j]) throw typeError(node, `output has shape ${fmtShape(shape)} at run time but ${fmtShape(o.staticShape)} was inferred`);
      });
      const known = outs[k].known;
      types.set(o, known ? { dtype: outs[k].dtype, shape: shape as number[], known } : { dtype: outs[k].dtype, shape: shape as number[] });
    });
  }
  return types;
}

