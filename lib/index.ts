/**
 * symtensor: tensors on native kernels for Node.js.
 * @example
 *   import * as st from 'symtensor';
 *   const y = st.matmul(st.randomNormal([2, 3], { seed: 1 }), st.ones([3, 4]));
 *   console.log(y.toString());
 */
import { native } from './native';

export { Tensor } from './tensor/tensor';
export type { TensorLike } from './tensor/tensor';
export type { NestedArray, TensorData } from './tensor/convert';
export type { DType, TypedArray } from './dtype';
export { SymtensorError } from './errors';
export type { SymtensorErrorCode } from './errors';
export {
  tensor, fromBuffer, zeros, ones, full, zerosLike, onesLike, arange, linspace, eye, randomUniform, randomNormal,
} from './tensor/creation';
export {
  neg, abs, sign, exp, expm1, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tanh, sigmoid, relu,
  leakyRelu, elu, selu, gelu, softplus, floor, ceil, round, clip, isNaN, isFinite, logicalNot,
  erf, add, sub, mul, div, pow, maximum, minimum, mod, equal, notEqual, less, lessEqual, greater, greaterEqual,
  logicalAnd, logicalOr, where, cast,
} from './tensor/elementwise';
export { sum, mean, prod, max, min, argmax, argmin, variance, std, logSumExp, all, any } from './tensor/reduction';
export { matmul, dot, outer } from './tensor/linalg';
export {
  reshape, transpose, permute, expandDims, squeeze, flatten, slice, stridedSlice, concat, stack, split, tile, pad,
  gather, oneHot, broadcastTo, dimshuffle,
} from './tensor/shape-ops';
export {
  softmax, logSoftmax, conv2d, conv2dGradInput, conv2dGradFilter, maxPool2d, avgPool2d, maxPool2dGrad, avgPool2dGrad,
} from './tensor/nn';
export type { Conv2dOptions, Pool2dOptions, Padding } from './tensor/nn';

// ---- symbolic graphs (Theano) ----
import './graph/methods';
import * as Traw from './graph/T';
import { publicNamespace } from './graph/namespace';
/**
 * The symbolic namespace (see lib/graph/T.ts): every function reports the user's line on error,
 * and a name T does not have is an error listing the closest ones.
 * @namespace
 */
export const T: typeof Traw = publicNamespace(Traw, 'T');
export { Variable, Constant, Apply, Op } from './graph/variable';
export type { Dim, VarType, ShapeVariable } from './graph/variable';
export { SliceSpec } from './graph/indexing';
export type { ScanOptions, ScanUpdates, SequenceArg, OutputInfo, LoopOptions } from './graph/scan';
export type { Index } from './graph/indexing';
export { shared, SharedVariable } from './graph/shared';
export { grad, jacobian, hessian } from './graph/grad';
export type { GradOptions } from './graph/grad';
export { randomStreams, RandomStreams } from './graph/random';
export type { ShapeArg } from './graph/random';
export { fn } from './compile/function';
import './compile/eval';
export type { EvalInputs } from './compile/eval';
export type { CompiledFunction, FnOptions, ProfileEntry, ArgValue, ArgData, ArgsOf, TensorsOf } from './compile/function';
export type { UpdatePair } from './compile/function-graph';
export type { TypedArrayOf, ItemOf } from './tensor/tensor';
export { debugprint, toDot } from './compile/print';

// ---- data-parallel training (MPI) ----
export { distributed } from './tensor/distributed';
export type { ReduceOp, AllreduceOptions, BroadcastOptions, DistributedOptions } from './tensor/distributed';
export type { AllreduceGraphOptions } from './graph/ops/collective';

/** The package version. */
export const version: string = require('../package.json').version;

/** Live native tensors and the bytes they hold (results of at most 64 bytes are held by V8, like any JS value, and are not counted). */
export function memory(): { numTensors: number; numBytes: number } {
  return native.memory();
}

/** What st.backendInfo() reports about the native addon. */
export interface BackendInfo {
  /** 'openblas <version>' or 'builtin'. */
  gemm: string;
  /** Threads of the kernel pool (SYMTENSOR_NUM_THREADS, default: the cores). */
  threads: number;
  /** The SIMD level the kernels were built for. */
  simd: string;
  cuda: boolean;
  version: string;
}

/** What the native addon links and runs with. */
export function backendInfo(): BackendInfo {
  const info = native.backendInfo();
  return { gemm: info.gemm, threads: info.threads, simd: info.simd, cuda: false, version };
}

// ---- models (Keras) ----
/**
 * st.layers: every built-in layer as a camelCase factory (`st.layers.dense({...})`) and as its class, plus the Layer base class and registerLayer for custom layers.
 */
export * as layers from './models/layers';
export { Model, Sequential, model, input } from './models/model';
export type { ModelArgs } from './models/model';
export { KerasTensor } from './models/layer';
export { loadModel } from './models/load';
export type { FitOptions, EvaluateOptions } from './models/loops';
export type { CompileArgs } from './models/training';
export { setRandomSeed } from './models/seed';
export { optimizers, schedules, losses, metrics, callbacks, initializers, regularizers, constraints, activations } from './models/api';
/** st.data: file loaders (IDX, .npy, CSV), ready-made datasets and batching, returning tensors. */
export * as data from './data';
/** st.datasets: ready-made datasets as train/test tensors (generated shapes, MNIST, Fashion-MNIST). */
export * as datasets from './data/datasets-api';
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors } from './models/safetensors';
export type { NamedTensors, Safetensors } from './models/safetensors';
