// Activation functions by name (Keras 3's keras.activations), built from T's ops so that each is
// part of the layer's graph: fused with its neighbours and differentiated like any other op.
import { argError, fmtValue } from '../errors';
import * as T from '../graph/T';
import { Variable } from '../graph/variable';
import { NameTable } from './options';

/** An activation: a symbolic function applied to a layer's output. */
export type ActivationFn = (x: Variable) => Variable;

/** x unchanged. */
export const linear = (x: Variable): Variable => x;
/** max(x, 0). */
export const relu = (x: Variable): Variable => T.relu(x);
/** min(max(x, 0), 6). */
export const relu6 = (x: Variable): Variable => T.clip(x, 0, 6);
/** x for x > 0, negativeSlope · x otherwise (Keras 3's default slope 0.2). */
export const leakyRelu = (x: Variable, negativeSlope = 0.2): Variable => T.leakyRelu(x, negativeSlope);
/** x for x > 0, alpha · (exp(x) - 1) otherwise. */
export const elu = (x: Variable, alpha = 1): Variable => T.elu(x, alpha);
/** scale · elu(x, alpha) with the self-normalizing constants (alpha ≈ 1.6733, scale ≈ 1.0507). */
export const selu = (x: Variable): Variable => T.selu(x);
/** x · Φ(x) = 0.5 x (1 + erf(x / √2)), the exact form (Keras 3's default approximate = false). */
export const gelu = (x: Variable): Variable => T.gelu(x);
/** 1 / (1 + exp(-x)). */
export const sigmoid = (x: Variable): Variable => T.sigmoid(x);
/** relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (Keras 3's definition). */
export const hardSigmoid = (x: Variable): Variable => T.div(relu6(T.add(x, 3)), 6);
/** tanh(x). */
export const tanh = (x: Variable): Variable => T.tanh(x);
/** exp(x) / sum(exp(x)) over the last axis. */
export const softmax = (x: Variable): Variable => T.softmax(x, -1);
/** log(softmax(x)) over the last axis, computed stably. */
export const logSoftmax = (x: Variable): Variable => T.logSoftmax(x, -1);
/** log(1 + exp(x)), stable for large |x|. */
export const softplus = (x: Variable): Variable => T.softplus(x);
/** x / (1 + |x|). */
export const softsign = (x: Variable): Variable => T.div(x, T.add(T.abs(x), 1));
/** x · sigmoid(x) (also called swish). */
export const silu = (x: Variable): Variable => T.mul(x, T.sigmoid(x));
/** x · hardSigmoid(x) (also called hard swish). */
export const hardSilu = (x: Variable): Variable => T.mul(x, hardSigmoid(x));
/** x · tanh(softplus(x)). */
export const mish = (x: Variable): Variable => T.mul(x, T.tanh(T.softplus(x)));
/** exp(x). */
export const exponential = (x: Variable): Variable => T.exp(x);

/**
 * Every activation by its canonical (camelCase) name.  swish and hardSwish are the same functions
 * as silu and hardSilu.
 * @example const y = activations.gelu(T.dot(x, w));
 */
export const activations = {
  linear, relu, relu6, leakyRelu, elu, selu, gelu, sigmoid, hardSigmoid, tanh, softmax, logSoftmax, softplus, softsign,
  silu,
  /** Another name of silu. */
  swish: silu,
  hardSilu,
  /** Another name of hardSilu. */
  hardSwish: hardSilu,
  mish, exponential,
} as const satisfies Record<string, ActivationFn>;

const TABLE = activations as Record<string, ActivationFn>;
/** Case and underscores ignored: 'leaky_relu', 'leakyRelu' and 'LeakyReLU' meet. */
const NAMES = new NameTable(Object.keys(TABLE));

/**
 * An activation from a name (camelCase or Keras's snake_case: 'relu', 'leakyRelu', 'leaky_relu',
 * 'hard_sigmoid' …), a function (returned as it is), or null/undefined for linear.
 * @example st.layers.dense({ units: 10, activation: 'softmax' }) // resolved by getActivation
 */
export function getActivation(id: string | ActivationFn | null | undefined): ActivationFn {
  if (id === null || id === undefined) return linear;
  if (typeof id === 'function') return id;
  if (typeof id !== 'string') throw argError('getActivation', `expected an activation name or function, got ${fmtValue(id)}`);
  return TABLE[NAMES.get('getActivation', 'activation', id)];
}

/**
 * The name of a built-in activation, for a layer's config (the canonical name: swish gives 'silu',
 * hardSwish 'hardSilu').  A function of the user's own has no name getActivation() could resolve
 * later, so it is an error that says so.
 */
export function activationName(fn: ActivationFn): string {
  for (const [name, f] of Object.entries(TABLE)) if (f === fn) return name;
  throw argError('activationName', `${fmtValue(fn)} is not a built-in activation, so it cannot be saved by name; valid names: ${NAMES.names.join(', ')}`);
}
