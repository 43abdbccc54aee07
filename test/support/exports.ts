// What each export of the package is, and so which test checks it against which oracle.  The
// op-by-op tests take their lists from here (filtered by what the package really exports), and
// test/tensor/api.test.ts fails, naming it, on any export that has no entry: an op cannot be
// exported without being checked against the reference evaluator.

export type ExportKind =
  /** elementwise of one tensor: test/tensor/elementwise.test.ts against R.unary */
  | 'unary'
  /** elementwise of two tensors: test/tensor/elementwise.test.ts against R.binary */
  | 'binary'
  /** where, cast, clip: test/tensor/elementwise.test.ts against R.where, R.cast, R.clip */
  | 'elementwise'
  /** test/tensor/reduction.test.ts against R.reduce */
  | 'reduce'
  /** test/tensor/reduction.test.ts against R.argReduce */
  | 'argReduce'
  /** test/tensor/linalg.test.ts, shape-ops.test.ts, nn.test.ts against R.<same name> */
  | 'linalg' | 'shape' | 'nn'
  /** creation.test.ts: literal values (arange, linspace, eye also against R.<same name>) */
  | 'creation'
  /** creation.test.ts and rng.test.ts: moments, ranges, seeds */
  | 'random'
  /** symbolic graphs: test/graph */
  | 'graph'
  /** classes, the version and process-wide information */
  | 'runtime'
  /** Keras-style models and their parts: test/models */
  | 'models'
  /** dataset loaders: test/data */
  | 'data';

export const EXPORT_KIND: Record<string, ExportKind> = {
  neg: 'unary', abs: 'unary', sign: 'unary', exp: 'unary', expm1: 'unary', log: 'unary', log1p: 'unary', sqrt: 'unary',
  rsqrt: 'unary', square: 'unary', reciprocal: 'unary', sin: 'unary', cos: 'unary', tanh: 'unary', sigmoid: 'unary',
  relu: 'unary', leakyRelu: 'unary', elu: 'unary', selu: 'unary', gelu: 'unary', softplus: 'unary', erf: 'unary',
  floor: 'unary', ceil: 'unary', round: 'unary', isNaN: 'unary', isFinite: 'unary', logicalNot: 'unary',

  add: 'binary', sub: 'binary', mul: 'binary', div: 'binary', pow: 'binary', maximum: 'binary', minimum: 'binary',
  mod: 'binary', equal: 'binary', notEqual: 'binary', less: 'binary', lessEqual: 'binary', greater: 'binary',
  greaterEqual: 'binary', logicalAnd: 'binary', logicalOr: 'binary',

  where: 'elementwise', cast: 'elementwise', clip: 'elementwise',

  sum: 'reduce', mean: 'reduce', prod: 'reduce', max: 'reduce', min: 'reduce', variance: 'reduce', std: 'reduce',
  logSumExp: 'reduce', all: 'reduce', any: 'reduce',
  argmax: 'argReduce', argmin: 'argReduce',

  matmul: 'linalg', dot: 'linalg', outer: 'linalg',

  reshape: 'shape', transpose: 'shape', permute: 'shape', expandDims: 'shape', squeeze: 'shape', flatten: 'shape',
  slice: 'shape', stridedSlice: 'shape', concat: 'shape', stack: 'shape', split: 'shape', tile: 'shape', pad: 'shape',
  gather: 'shape', oneHot: 'shape', broadcastTo: 'shape', dimshuffle: 'shape',

  softmax: 'nn', logSoftmax: 'nn', conv2d: 'nn', conv2dGradInput: 'nn', conv2dGradFilter: 'nn', maxPool2d: 'nn',
  avgPool2d: 'nn', maxPool2dGrad: 'nn', avgPool2dGrad: 'nn',

  tensor: 'creation', fromBuffer: 'creation', zeros: 'creation', ones: 'creation', full: 'creation',
  zerosLike: 'creation', onesLike: 'creation', arange: 'creation', linspace: 'creation', eye: 'creation',
  randomUniform: 'random', randomNormal: 'random',

  T: 'graph', Variable: 'graph', Constant: 'graph', Apply: 'graph', Op: 'graph', shared: 'graph',
  SharedVariable: 'graph', grad: 'graph', jacobian: 'graph', hessian: 'graph', randomStreams: 'graph',
  RandomStreams: 'graph', SliceSpec: 'graph', fn: 'graph', debugprint: 'graph', toDot: 'graph',

  Tensor: 'runtime', distributed: 'runtime', SymtensorError: 'runtime', version: 'runtime', memory: 'runtime', backendInfo: 'runtime',

  layers: 'models', Model: 'models', Sequential: 'models', model: 'models', input: 'models', KerasTensor: 'models',
  loadModel: 'models', setRandomSeed: 'models', optimizers: 'models', schedules: 'models', losses: 'models',
  metrics: 'models', callbacks: 'models', initializers: 'models', regularizers: 'models', constraints: 'models',
  activations: 'models', saveSafetensors: 'models', loadSafetensors: 'models', encodeSafetensors: 'models',
  decodeSafetensors: 'models',
  data: 'data', datasets: 'data',
};

/** T's second names (Theano's, mostly) -> the T function each is, the very same function object. */
export const T_ALIASES: Record<string, string> = {
  eq: 'equal', neq: 'notEqual', lt: 'less', gt: 'greater', le: 'lessEqual', ge: 'greaterEqual', sqr: 'square',
  concatenate: 'concat', lscalar: 'iscalar', lvector: 'ivector', lmatrix: 'imatrix', switch: 'where', fill: 'full',
};

/** The reference function a 'linalg' | 'shape' | 'nn' export is checked against, where its name differs. */
export const REFERENCE_NAME: Record<string, string> = { permute: 'transpose' };

/** The names `mod` exports that the table files under `kind`, in the module's own order. */
export function exportsOfKind(mod: object, kind: ExportKind): string[] {
  return Object.keys(mod).filter((k) => EXPORT_KIND[k] === kind);
}

/** The names `mod` exports that the table does not know. */
export function unclassifiedExports(mod: object): string[] {
  return Object.keys(mod).filter((k) => !Object.prototype.hasOwnProperty.call(EXPORT_KIND, k));
}
