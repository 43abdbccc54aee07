// The one list of methods that mirror op functions: x.op(...args) ≡ op(x, ...args).  Tensor's
// methods (the st.* functions) and Variable's (the T.* functions) are both installed and typed from
// it, so the two cannot drift apart, and a name missing from either namespace fails to compile.
import { SymtensorError } from '../errors';

/** The op functions that are also methods of Tensor and Variable. */
export const METHOD_NAMES = [
  // elementwise
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh',
  'sigmoid', 'relu', 'selu', 'gelu', 'softplus', 'erf', 'floor', 'ceil', 'round', 'isNaN', 'isFinite', 'logicalNot',
  'leakyRelu', 'elu', 'clip', 'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'equal', 'notEqual',
  'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd', 'logicalOr', 'where', 'cast',
  // reductions
  'sum', 'mean', 'prod', 'max', 'min', 'all', 'any', 'argmax', 'argmin', 'variance', 'std', 'logSumExp',
  // linear algebra
  'matmul', 'dot', 'outer',
  // shape
  'reshape', 'flatten', 'transpose', 'permute', 'dimshuffle', 'expandDims', 'squeeze', 'broadcastTo', 'slice',
  'stridedSlice', 'split', 'tile', 'pad', 'gather', 'oneHot',
  // nn
  'softmax', 'logSoftmax', 'conv2d', 'maxPool2d', 'avgPool2d',
] as const;

/** One of METHOD_NAMES. */
export type MethodName = (typeof METHOD_NAMES)[number];

/** The method form of op function F: its first parameter becomes `this`. */
export type AsMethod<F> = F extends (x: never, ...rest: infer R) => infer O ? (...rest: R) => O : never;

/**
 * The methods a namespace of op functions gives its values (every listed name must be in it).
 * @typeParam NS - the namespace (`typeof T` for Variable, the eager op modules for Tensor)
 */
export type MethodsOf<NS extends { [K in MethodName]: (x: never, ...rest: never[]) => unknown }> = {
  [K in MethodName]: AsMethod<NS[K]>;
};

type Fn = (...args: unknown[]) => unknown;

/**
 * Defines every listed method on proto as a call of the op of the same name with `this` first.
 * `table` is read on a method's first call, so the op modules may finish loading after this runs;
 * `wrap` decorates each op once (the symbolic side records the user's line on errors).
 */
export function installMethods(proto: object, table: () => Record<string, unknown>, wrap: (f: Fn) => Fn = (f) => f): void {
  for (const name of METHOD_NAMES) {
    let op: Fn | null = null;
    Object.defineProperty(proto, name, {
      value: function (this: unknown, ...args: unknown[]) {
        if (!op) {
          const raw = table()[name];
          if (typeof raw !== 'function') throw new SymtensorError('ERR_ST_INTERNAL', name, `no op function ${name} for the method`);
          op = wrap(raw as Fn);
        }
        return op(this, ...args);
      },
      writable: true,
      configurable: true,
    });
  }
}
