// Methods on Variable mirroring the T functions: x.add(y) ≡ T.add(x, y).
import type { DType } from '../dtype';
import type { Conv2dOptions, Pool2dOptions } from '../tensor/nn';
import { Variable } from './variable';
import * as T from './T';
import { traced } from './traced';

type V = T.VarLike;

declare module './variable' {
  interface Variable {
    neg(): Variable; abs(): Variable; sign(): Variable; exp(): Variable; expm1(): Variable; log(): Variable;
    log1p(): Variable; sqrt(): Variable; rsqrt(): Variable; square(): Variable; reciprocal(): Variable;
    sin(): Variable; cos(): Variable; tanh(): Variable; sigmoid(): Variable; relu(): Variable; selu(): Variable;
    gelu(): Variable; softplus(): Variable; erf(): Variable; floor(): Variable; ceil(): Variable; round(): Variable;
    isNaN(): Variable; isFinite(): Variable; logicalNot(): Variable;
    leakyRelu(alpha?: number): Variable; elu(alpha?: number): Variable; clip(min: number, max: number): Variable;
    add(b: V): Variable; sub(b: V): Variable; mul(b: V): Variable; div(b: V): Variable; pow(b: V): Variable;
    maximum(b: V): Variable; minimum(b: V): Variable; mod(b: V): Variable; equal(b: V): Variable;
    notEqual(b: V): Variable; less(b: V): Variable; lessEqual(b: V): Variable; greater(b: V): Variable;
    greaterEqual(b: V): Variable; logicalAnd(b: V): Variable; logicalOr(b: V): Variable;
    where(a: V, b: V): Variable; cast(dtype: DType): Variable;
    sum(axis?: number | number[] | null, keepDims?: boolean): Variable;
    mean(axis?: number | number[] | null, keepDims?: boolean): Variable;
    prod(axis?: number | number[] | null, keepDims?: boolean): Variable;
    max(axis?: number | number[] | null, keepDims?: boolean): Variable;
    min(axis?: number | number[] | null, keepDims?: boolean): Variable;
    all(axis?: number | number[] | null, keepDims?: boolean): Variable;
    any(axis?: number | number[] | null, keepDims?: boolean): Variable;
    argmax(axis?: number, keepDims?: boolean): Variable; argmin(axis?: number, keepDims?: boolean): Variable;
    variance(axis?: number | number[] | null, keepDims?: boolean): Variable;
    std(axis?: number | number[] | null, keepDims?: boolean): Variable;
    logSumExp(axis?: number | number[] | null, keepDims?: boolean): Variable;
    matmul(b: V, transposeA?: boolean, transposeB?: boolean): Variable; dot(b: V): Variable; outer(b: V): Variable;
    reshape(shape: number[]): Variable; flatten(): Variable; transpose(perm?: number[]): Variable;
    permute(perm: number[]): Variable; dimshuffle(pattern: (number | 'x')[]): Variable;
    expandDims(axis?: number): Variable; squeeze(axis?: number | number[]): Variable;
    broadcastTo(shape: number[]): Variable; slice(begin: number | number[], size?: number | number[]): Variable;
    stridedSlice(begin: (number | null)[], end: (number | null)[], strides?: (number | null)[]): Variable;
    split(numOrSizes: number | number[], axis?: number): Variable[]; tile(reps: number[]): Variable;
    pad(paddings: [number, number][], value?: number): Variable; gather(indices: V, axis?: number): Variable;
    oneHot(depth: number, onValue?: number, offValue?: number): Variable;
    softmax(axis?: number): Variable; logSoftmax(axis?: number): Variable;
    conv2d(filter: V, opts?: Conv2dOptions): Variable; maxPool2d(opts?: Pool2dOptions): Variable;
    avgPool2d(opts?: Pool2dOptions): Variable;
  }
}

const methods = [
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh',
  'sigmoid', 'relu', 'selu', 'gelu', 'softplus', 'erf', 'floor', 'ceil', 'round', 'isNaN', 'isFinite', 'logicalNot',
  'leakyRelu', 'elu', 'clip', 'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'equal', 'notEqual',
  'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd', 'logicalOr', 'where', 'cast', 'sum', 'mean', 'prod',
  'max', 'min', 'all', 'any', 'argmax', 'argmin', 'variance', 'std', 'logSumExp', 'matmul', 'dot', 'outer', 'reshape',
  'flatten', 'transpose', 'permute', 'dimshuffle', 'expandDims', 'squeeze', 'broadcastTo', 'slice', 'stridedSlice',
  'split', 'tile', 'pad', 'gather', 'oneHot', 'softmax', 'logSoftmax', 'conv2d', 'maxPool2d', 'avgPool2d',
] as const;

const table = T as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const m of methods) {
  const raw = table[m];
  if (typeof raw !== 'function') throw new Error(`T.${m} is missing`);
  const f = traced(raw);
  Object.defineProperty(Variable.prototype, m, {
    value: function (this: Variable, ...args: unknown[]) {
      return f(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}
