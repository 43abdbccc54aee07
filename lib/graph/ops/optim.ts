// Optimizer updates as single graph nodes.  Adam's step written with elementwise ops fuses into one
// program that the elementwise VM runs one micro-op at a time over blocks; AdamUpdate is one
// ADAM_UPDATE instruction that streams p, g, m, v once and writes p, m, v in the same pass (in place
// over the shared variables when the program's updates allow it).
import { SymtensorError, argError, dtypeError, fmtShape, fmtValue, shapeError } from '../../errors';
import { Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { Apply, Op, VarType, Variable, applyOp } from '../variable';

/** The hyperparameters of one Adam update (Keras's names). */
export interface AdamUpdateConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
}

const OPERANDS = ['p', 'g', 'm', 'v'] as const;

/**
 * One Adam step (Keras's form) on (p, g, m, v, alpha), with outputs (p', m', v'):
 * `m' = m + (g - m)(1 - beta1)`, `v' = v + (g² - v)(1 - beta2)`, `p' = p - m'·alpha / (sqrt(v') + epsilon)`.
 * alpha is the step's scalar `lr · sqrt(1 - beta2^t) / (1 - beta1^t)`, computed in the graph, so
 * learning-rate schedules and bias corrections stay ordinary graph values.  Not differentiable: it
 * is the end of a training step, not part of a loss.
 */
export class AdamUpdate extends Op {
  readonly name = 'adamUpdate';
  constructor(
    readonly beta1: number,
    readonly beta2: number,
    readonly epsilon: number,
  ) {
    super();
  }
  override props(): unknown {
    return [this.beta1, this.beta2, this.epsilon];
  }
  infer(inputs: VarType[]): VarType[] {
    if (inputs.length !== 5) throw argError(this.name, `expected 5 inputs (p, g, m, v, alpha), got ${inputs.length}`);
    const [p, , , , alpha] = inputs;
    if (p.dtype !== 'float32' && p.dtype !== 'float64') throw dtypeError(this.name, `p must be float32 or float64, got ${p.dtype}`);
    for (let i = 1; i < 4; i++) {
      const t = inputs[i];
      if (t.dtype !== p.dtype) throw dtypeError(this.name, `${OPERANDS[i]} is ${t.dtype} but p is ${p.dtype} (p, g, m, v and alpha share one dtype)`);
      const fits = t.shape.length === p.shape.length && t.shape.every((d, j) => d === null || p.shape[j] === null || d === p.shape[j]);
      if (!fits) throw shapeError(this.name, `${OPERANDS[i]} has shape ${fmtShape(t.shape)} but p has shape ${fmtShape(p.shape)}`);
    }
    if (alpha.dtype !== p.dtype) throw dtypeError(this.name, `alpha is ${alpha.dtype} but p is ${p.dtype} (p, g, m, v and alpha share one dtype)`);
    if (alpha.shape.length !== 0) throw shapeError(this.name, `alpha must be a scalar, got shape ${fmtShape(alpha.shape)}`);
    // unknown dims of p are taken from the others where they know them
    const shape = p.shape.map((d, j) => d ?? inputs.slice(1, 4).find((t) => t.shape[j] !== null)?.shape[j] ?? null);
    return [0, 1, 2].map(() => ({ dtype: p.dtype, shape: shape.slice() }));
  }
  lower<V extends Val>(em: Emitter<V>, inputs: V[]): V[] {
    const [p] = inputs;
    for (let i = 1; i < 4; i++)
      if (inputs[i].shape.length !== p.shape.length || inputs[i].shape.some((d, j) => d !== p.shape[j]))
        throw shapeError(this.name, `${OPERANDS[i]} has shape ${fmtShape(inputs[i].shape)} but p has shape ${fmtShape(p.shape)} at run time`);
    const out = () => ({ dtype: p.dtype, shape: p.shape.slice() });
    return em.emit(this.name, NativeOp.ADAM_UPDATE, inputs, [out(), out(), out()], [], [this.beta1, this.beta2, this.epsilon]);
  }
  override grad(node: Apply): (Variable | null)[] {
    throw new SymtensorError(
      'ERR_ST_ARG',
      this.name,
      `adamUpdate (an optimizer's update of a parameter and its moments) has no gradient; take gradients of the loss before the update (node built at ${node.trace})`,
    );
  }
}

/**
 * Builds one Adam update of parameter p with gradient g and moments m, v: returns the new
 * `{ param, m, v }`.  All operands share p's dtype (float32 or float64) and shape; alpha is a
 * scalar of that dtype (the bias-corrected step size).
 * @example
 *   const alpha = T.mul(lr, T.div(T.sqrt(T.sub(1, T.pow(0.999, t))), T.sub(1, T.pow(0.9, t))));
 *   const { param, m: m1, v: v1 } = adamUpdate(p, g, m, v, alpha, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
 */
export function adamUpdate(p: Variable, g: Variable, m: Variable, v: Variable, alpha: Variable, config: AdamUpdateConfig): { param: Variable; m: Variable; v: Variable } {
  const operands = { p, g, m, v, alpha };
  for (const [name, x] of Object.entries(operands))
    if (!(x instanceof Variable)) throw argError('adamUpdate', `${name} must be a Variable, got ${fmtValue(x)}`);
  for (const key of ['beta1', 'beta2', 'epsilon'] as const) {
    const x = config?.[key];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw argError('adamUpdate', `${key} must be a finite number, got ${fmtValue(x)}`);
  }
  const [param, m1, v1] = applyOp(new AdamUpdate(config.beta1, config.beta2, config.epsilon), [p, g, m, v, alpha]);
  return { param, m: m1, v: v1 };
}
