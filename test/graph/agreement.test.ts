// Every op that exists both eagerly (st.*) and symbolically (T.*) follows one definition: on the same
// inputs the eager result and the compiled symbolic result have the same shape, dtype and values,
// and an input the eager op rejects is rejected by the symbolic op too.  The op list is read from
// the two namespaces, so an op added to both without cases here fails the coverage test.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { METHOD_NAMES } from '../../lib/tensor/method-list';
import { rng } from '../support/rng';

const { T } = st;
type DType = st.DType;
type Tensor = st.Tensor;
type Variable = st.Variable;
type Side = 'eager' | 'sym';
type AnyFn = (...a: unknown[]) => unknown;

const EE = st as unknown as Record<string, unknown>;
const TT = T as unknown as Record<string, unknown>;

/** Functions in both namespaces that are not the same op, and why. */
const NOT_OPS: Record<string, string> = {
  tensor: 'st.tensor makes a value from data; T.tensor declares a symbolic input',
  // checked against plain loops in test/graph/symbolic-shapes.test.ts
  zeros: 'T.zeros takes a symbolic shape, st.zeros a number array',
  ones: 'T.ones takes a symbolic shape, st.ones a number array',
  full: 'T.full takes a symbolic shape, st.full a number array',
  zerosLike: 'T.zerosLike follows a variable\'s run-time shape',
  onesLike: 'T.onesLike follows a variable\'s run-time shape',
  arange: 'T.arange takes int32 scalar bounds known from shapes',
};

// ---- inputs ----
type Gen = 'real' | 'pos' | 'nonzero' | 'ints' | 'special' | 'int' | 'posint' | 'nzint' | 'small' | 'bool' | 'unit' | `index:${number}`;
interface In {
  shape: number[];
  dtype: DType;
  gen: Gen;
}
const f32 = (shape: number[], gen: Gen = 'real'): In => ({ shape, dtype: 'float32', gen });
const f64 = (shape: number[], gen: Gen = 'real'): In => ({ shape, dtype: 'float64', gen });
const i32 = (shape: number[], gen: Gen = 'int'): In => ({ shape, dtype: 'int32', gen });
const bool = (shape: number[]): In => ({ shape, dtype: 'bool', gen: 'bool' });


function value(g: Gen, r: () => number): number {
  switch (g) {
    case 'real': return r() * 4 - 2;
    case 'pos': return 0.1 + r() * 2.9;
    case 'unit': return 0.05 + r() * 0.9;
    case 'nonzero': return (0.5 + r() * 1.5) * (r() < 0.5 ? -1 : 1);
    case 'ints': return Math.floor(r() * 5) - 2; // integral floats: ties and zeros
    case 'special': return [NaN, Infinity, -Infinity, 0, -0, -1.5, 2.25][Math.floor(r() * 7)];
    case 'int': return Math.floor(r() * 11) - 5;
    case 'posint': return 1 + Math.floor(r() * 5);
    case 'nzint': return (1 + Math.floor(r() * 5)) * (r() < 0.5 ? -1 : 1);
    case 'small': return Math.floor(r() * 4);
    case 'bool': return r() < 0.5 ? 1 : 0;
    default: return Math.floor(r() * Number(g.slice(6)));
  }
}

function makeInput(spec: In, r: () => number): Tensor {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, () => value(spec.gen, r));
  if (spec.dtype === 'bool') return st.tensor(Uint8Array.from(data), { shape: spec.shape, dtype: 'bool' });
  return st.tensor(data, { shape: spec.shape, dtype: spec.dtype });
}

// ---- cases ----
interface Case {
  inputs: In[];
  /** The call's arguments from the inputs (tensors or variables); default: the inputs. */
  args?: (xs: unknown[], side: Side) => unknown[];
  /** Only with every dim declared (the op needs static sizes, e.g. split into a count of parts). */
  fixedOnly?: boolean;
}
const C = (inputs: In[], args?: Case['args'], extra: Partial<Case> = {}): Case => ({ inputs, args, ...extra });
/** The inputs followed by fixed trailing arguments. */
const withArgs = (inputs: In[], ...rest: unknown[]): Case => C(inputs, (xs) => [...xs, ...rest]);

/** One input of each dtype (floats drawn from gen). */
function unaryCases(gen: Gen = 'real', ...rest: unknown[]): Case[] {
  return [
    withArgs([f32([3, 4], gen)], ...rest),
    withArgs([f64([2, 3], gen)], ...rest),
    withArgs([i32([3, 4], gen === 'pos' ? 'posint' : 'int')], ...rest),
    withArgs([bool([5])], ...rest),
    withArgs([f32([7], 'special')], ...rest),
  ];
}

/** Pairs of dtypes, broadcasting shapes and weak numbers (b drawn from gb). */
function binaryCases(ga: Gen = 'real', gb: Gen = 'real', intB: Gen = 'int'): Case[] {
  return [
    C([f32([3, 4], ga), f32([4], gb)]),
    C([f32([3, 1], ga), f64([1, 4], gb)]),
    C([i32([3, 4]), i32([3, 4], intB)]),
    C([i32([2, 3]), f32([3], gb)]),
    C([bool([4]), bool([4])]),
    C([bool([2, 3]), i32([3], intB)]),
    C([f64([2, 3], ga), bool([3])]),
    C([f32([3], 'special'), f32([3], 'special')]),
    withArgs([f32([3, 2], ga)], 2),
    withArgs([i32([5])], 2),
    withArgs([i32([5])], 2.5),
    withArgs([bool([4])], 3),
    C([i32([4], intB)], ([x]) => [3, x]),
    C([f32([2, 2], gb)], ([x]) => [1.5, x]),
    C([f32([3, 4]), f32([2, 4])]), // does not broadcast: both reject
  ];
}

const REDUCE_AXES: [unknown[], In][] = [
  [[], f32([3, 4, 5])],
  [[1], f32([3, 4, 5])],
  [[[0, 2], true], f32([3, 4, 5])],
  [[-1], f64([2, 3])],
  [[0], i32([3, 4])],
  [[null, true], i32([2, 3])],
  [[1], bool([3, 4])],
  [[], bool([2, 3])],
  [[0], f32([4, 3], 'special')],
  [[3], f32([2, 3])], // axis out of range: both reject
];
const reduceCases = (posGen: Gen = 'real'): Case[] =>
  REDUCE_AXES.map(([rest, spec]) => withArgs([spec.dtype === 'float32' && spec.gen === 'real' ? { ...spec, gen: posGen } : spec], ...rest));

const UNARY_GEN: Record<string, Gen> = { log: 'pos', log1p: 'pos', sqrt: 'pos', rsqrt: 'pos', reciprocal: 'nonzero' };
const UNARY = [
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh',
  'sigmoid', 'relu', 'selu', 'gelu', 'softplus', 'erf', 'floor', 'ceil', 'round', 'isNaN', 'isFinite', 'logicalNot',
];
const BINARY_GEN: Record<string, [Gen, Gen, Gen]> = {
  div: ['real', 'nonzero', 'nzint'], mod: ['real', 'nonzero', 'nzint'], pow: ['pos', 'real', 'small'],
  equal: ['ints', 'ints', 'int'], notEqual: ['ints', 'ints', 'int'], less: ['ints', 'ints', 'int'], lessEqual: ['ints', 'ints', 'int'],
  greater: ['ints', 'ints', 'int'], greaterEqual: ['ints', 'ints', 'int'], logicalAnd: ['ints', 'ints', 'int'], logicalOr: ['ints', 'ints', 'int'],
};
const BINARY = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'equal', 'notEqual', 'less', 'lessEqual', 'greater',
  'greaterEqual', 'logicalAnd', 'logicalOr',
];
const DTYPES: DType[] = ['float32', 'float64', 'int32', 'bool'];
const conv = (shape: number[], dtype: DType = 'float32'): In => ({ shape, dtype, gen: dtype === 'bool' ? 'bool' : dtype === 'int32' ? 'int' : 'real' });

const CASES: Record<string, Case[]> = {
  ...Object.fromEntries(UNARY.map((op) => [op, unaryCases(UNARY_GEN[op] ?? 'real')])),
  ...Object.fromEntries(BINARY.map((op) => [op, binaryCases(...(BINARY_GEN[op] ?? ['real', 'real', 'int']))])),
  leakyRelu: [...unaryCases('real'), ...unaryCases('real', 0.1)],
  elu: [...unaryCases('real'), ...unaryCases('real', 0.5)],
  clip: [...unaryCases('real', -0.5, 0.75), ...unaryCases('real', -2, 3), withArgs([i32([6])], -2.5, 3), withArgs([f32([3])], 1, 0)],
  where: [
    C([bool([3, 1]), f32([3, 4]), f32([4])]),
    C([bool([3, 4]), i32([3, 4]), i32([3, 4])]),
    C([bool([4]), bool([4]), bool([4])]),
    C([bool([2, 3]), bool([3]), f64([2, 1])]),
    C([f32([5], 'ints'), f32([5]), f32([5])]),
    C([f32([6], 'unit'), i32([6]), i32([6])]), // fractional float condition with int branches
    C([i32([5]), f32([5]), i32([5])]),
    C([bool([3, 4]), f32([3, 4])], ([c, a]) => [c, a, 0]),
    C([f32([4], 'ints'), i32([4])], ([c, a]) => [c, 7, a]),
    C([bool([3]), f32([4]), f32([4])]), // does not broadcast
  ],
  cast: DTYPES.flatMap((from) =>
    DTYPES.map((to) => withArgs([{ shape: [3, 4], dtype: from, gen: from === 'bool' ? 'bool' : from === 'int32' ? 'int' : 'special' }], to)),
  ),
  sum: reduceCases(),
  mean: reduceCases(),
  prod: reduceCases(),
  max: reduceCases(),
  min: reduceCases(),
  all: reduceCases('ints'),
  any: reduceCases('ints'),
  variance: reduceCases(),
  std: reduceCases(),
  logSumExp: [...reduceCases(), withArgs([f32([2, 3])], [])],
  argmax: [
    withArgs([f32([3, 5])], 1), C([f32([3, 5])]), withArgs([i32([4, 6])], 1), withArgs([f64([3, 4])], 0, true),
    withArgs([bool([3, 4])], -1), C([f32([2, 3], 'special')]), withArgs([f32([3, 0])], 1), withArgs([f32([3])], 1),
  ],
  argmin: [
    withArgs([f32([3, 5])], 0), C([i32([4, 6])]), withArgs([bool([3, 4])], 1, true), withArgs([f32([2, 0])], 1),
  ],
  matmul: [
    C([f32([3, 4]), f32([4, 5])]),
    withArgs([f32([4, 3]), f32([4, 5])], true),
    withArgs([f32([3, 4]), f32([5, 4])], false, true),
    withArgs([f64([4, 3]), f64([5, 4])], true, true),
    C([f32([2, 3, 4]), f32([4, 5])]),
    C([f32([4]), f32([4, 5])]),
    C([f32([3, 4]), f32([4])]),
    C([f32([4]), f32([4])]),
    C([i32([3, 4]), i32([4, 2])]),
    C([bool([3, 4]), bool([4, 2])]),
    C([i32([3, 4]), f64([4, 2])]),
    C([f32([3, 4]), f32([5, 2])]), // inner dims differ
    C([f32([]), f32([3, 4])]), // rank 0
  ],
  dot: [
    C([f32([6]), f32([6])]),
    C([f32([3, 4]), f32([4])]),
    C([f32([4]), f32([4, 5])]),
    C([f32([3, 4]), f32([4, 5])]),
    C([f32([]), f32([3, 4])]),
    C([f32([2, 3, 4]), f32([4, 5])]),
    C([f32([2, 3, 4]), f32([2, 4, 5])]),
    C([f32([4]), f32([2, 4, 3])]),
    C([i32([5]), i32([5])]),
    C([bool([5]), bool([5])]),
    C([i32([2, 3]), f64([3, 2])]),
    C([f32([3]), f32([4])]), // lengths differ
    C([f32([2, 3]), f32([2, 4, 5])]), // cannot contract
  ],
  outer: [
    C([f32([3]), f32([4])]),
    C([f32([2, 2]), f32([3])]),
    C([f32([]), i32([2])]),
    C([i32([3]), bool([2])]),
    C([bool([2]), bool([3])]),
    C([f64([0]), f32([3])]),
  ],
  reshape: [
    withArgs([f32([3, 4])], [2, 6]), withArgs([i32([2, 3, 2])], [-1, 3]), withArgs([bool([1])], []),
    withArgs([f32([3, 4])], [5, -1]), withArgs([f32([3, 4])], [-1, -1]),
  ],
  flatten: [C([f32([2, 3, 4])]), C([i32([])]), C([bool([2, 2])])],
  transpose: [C([f32([2, 3, 4])]), withArgs([i32([2, 3, 4])], [1, 0, 2]), withArgs([bool([2, 3])], [1, -2]), withArgs([f32([2, 3])], [0, 0])],
  permute: [withArgs([f32([2, 3, 4])], [2, 0, 1]), withArgs([bool([2, 3, 4])], [1, 2, 0]), withArgs([i32([3, 2])], [1, 0]), withArgs([f32([2, 3])], [0])],
  dimshuffle: [
    withArgs([f32([3, 1, 4])], [2, 'x', 0]), withArgs([i32([3])], ['x', 0, 'x']), withArgs([bool([2, 3])], [1, 0]),
    withArgs([f32([2, 3])], [0]), withArgs([f32([2, 3])], [0, 0, 1]),
  ],
  expandDims: [withArgs([f32([3, 4])], 1), withArgs([i32([3, 4])], -1), C([bool([2])]), withArgs([f32([3])], 3)],
  squeeze: [withArgs([f32([3, 1, 4])], 1), C([i32([1, 3, 1])]), withArgs([bool([1, 2, 1])], [0, 2]), withArgs([f32([3, 2])], 1)],
  broadcastTo: [withArgs([f32([3, 1])], [2, 3, 4]), withArgs([i32([4])], [3, 4]), withArgs([bool([])], [2]), withArgs([f32([3])], [4])],
  slice: [
    withArgs([f32([4, 5])], [1, 2], [2, -1]), withArgs([i32([6])], 2), withArgs([bool([3, 4])], [-2, 1], [2, 2]),
    withArgs([f32([4])], [3], [2]),
  ],
  stridedSlice: [
    withArgs([f32([6, 5])], [1, null], [null, 4], [2, 1]), withArgs([i32([6])], [null], [null], [-1]),
    withArgs([bool([5, 2])], [-1], [0], [-2]), withArgs([f32([4])], [0], [4], [0]),
  ],
  concat: [
    C([f32([2, 3]), f32([4, 3])], (xs) => [xs, 0]),
    C([f32([2, 3]), i32([2, 1]), f64([2, 2])], (xs) => [xs, 1]),
    C([i32([2]), bool([3])], (xs) => [xs]),
    C([bool([2, 2]), bool([1, 2])], (xs) => [xs, -2]),
    C([f32([2, 3]), f32([2, 4])], (xs) => [xs, 0]), // shapes differ off the axis
  ],
  stack: [
    C([f32([2, 3]), f32([2, 3]), f32([2, 3])], (xs) => [xs, 1]),
    C([i32([3]), f32([3])], (xs) => [xs]),
    C([bool([2]), bool([2])], (xs) => [xs, -1]),
    C([f32([2, 3]), f32([3, 2])], (xs) => [xs]), // shapes differ
  ],
  split: [
    C([f32([6, 4])], ([x]) => [x, 3, 0], { fixedOnly: true }),
    withArgs([f32([2, 4])], [1, 3], 1),
    withArgs([i32([5])], [2, -1]),
    withArgs([f32([1, 7])], [2, -1, 1], 1), // the -1 part in the middle of an unknown axis
    withArgs([bool([2, 6])], [4, 2], -1),
    C([f32([5])], ([x]) => [x, 2], { fixedOnly: true }), // 5 does not split in 2
    withArgs([f32([4])], [1, 2]), // sizes do not add up
  ],
  tile: [withArgs([f32([2, 3])], [2, 1]), withArgs([i32([2, 3])], [2, 1, 2]), withArgs([bool([3])], [2]), withArgs([f32([2])], [-1])],
  pad: [
    withArgs([f32([2, 3])], [[1, 0], [2, 1]], 0.5), withArgs([i32([3])], [[2, 2]]), withArgs([bool([2])], [[1, 1]], 1),
    withArgs([f32([2])], [[1, 1], [0, 0]]),
  ],
  gather: [
    C([f32([5, 3]), i32([4], 'index:5')]),
    C([f32([3, 4]), i32([2, 2], 'index:4')], ([x, i]) => [x, i, 1]),
    C([i32([6]), i32([3], 'index:6')]),
    C([bool([4, 2]), i32([3], 'index:4')]),
    C([f32([4]), f32([2], 'ints')]), // float indices
    C([f32([4]), bool([2])]), // bool indices
  ],
  oneHot: [
    withArgs([i32([4], 'index:5')], 5),
    withArgs([i32([2, 3], 'index:4')], 4, 2, -1),
    withArgs([i32([3], 'index:3')], 3, 1, 0, 'int32'),
    withArgs([f32([3], 'ints')], 3), // float indices
  ],
  softmax: [
    C([f32([3, 5])]), withArgs([f32([3, 5])], 0), C([f64([2, 4])]), C([i32([2, 3])]), C([bool([2, 3])]), C([f32([2, 3], 'special')]),
    C([f32([])]), withArgs([f32([3])], 1),
  ],
  logSoftmax: [C([f32([3, 5])]), withArgs([f32([2, 3, 4])], 1), C([f64([2, 4])]), C([i32([2, 3])]), C([bool([4])]), C([f32([])])],
  conv2d: [
    C([conv([2, 6, 6, 3]), conv([3, 3, 3, 4])]),
    withArgs([conv([2, 7, 6, 3]), conv([3, 3, 3, 2])], { padding: 'same', strides: 2 }),
    withArgs([conv([1, 7, 7, 2], 'float64'), conv([2, 2, 2, 3], 'float64')], { dilations: 2, padding: 1 }),
    C([conv([1, 4, 4, 2], 'int32'), conv([2, 2, 2, 2], 'int32')]),
    C([conv([1, 4, 4, 2], 'int32'), conv([2, 2, 2, 2])]),
    C([conv([1, 4, 4, 1], 'bool'), conv([2, 2, 1, 1])]),
    C([conv([1, 4, 4, 2]), conv([2, 2, 2, 2], 'float64')]), // float32 with float64
    C([conv([1, 4, 4, 2]), conv([2, 2, 3, 2])]), // channels differ
  ],
  // st's third argument is the shape of the result; T's is a variable of that shape
  conv2dGradInput: [
    C([conv([2, 4, 4, 2]), conv([3, 3, 3, 2]), conv([2, 6, 6, 3])], ([dy, w, x], s) => [dy, w, s === 'eager' ? (x as Tensor).shape : x]),
    C([conv([1, 3, 3, 2], 'float64'), conv([2, 2, 2, 2], 'float64'), conv([1, 3, 3, 2], 'float64')], ([dy, w, x], s) => [dy, w, s === 'eager' ? (x as Tensor).shape : x, { padding: 'same' }]),
    C([conv([1, 2, 2, 2], 'int32'), conv([3, 3, 1, 2], 'int32'), conv([1, 4, 4, 1])], ([dy, w, x], s) => [dy, w, s === 'eager' ? (x as Tensor).shape : x]),
    C([conv([1, 2, 2, 1], 'bool'), conv([2, 2, 1, 1], 'bool'), conv([1, 3, 3, 1], 'bool')], ([dy, w, x], s) => [dy, w, s === 'eager' ? (x as Tensor).shape : x]),
    C([conv([1, 3, 3, 2]), conv([3, 3, 1, 2]), conv([1, 4, 4, 1])], ([dy, w, x], s) => [dy, w, s === 'eager' ? (x as Tensor).shape : x]), // dy does not fit
  ],
  conv2dGradFilter: [
    C([conv([2, 5, 5, 3]), conv([2, 5, 5, 2]), conv([3, 3, 3, 2])], ([x, dy, w], s) => [x, dy, s === 'eager' ? (w as Tensor).shape : w, { padding: 'same' }]),
    C([conv([1, 4, 4, 1], 'int32'), conv([1, 3, 3, 2], 'int32'), conv([2, 2, 1, 2])], ([x, dy, w], s) => [x, dy, s === 'eager' ? (w as Tensor).shape : w]),
    C([conv([1, 3, 3, 1], 'bool'), conv([1, 2, 2, 1], 'bool'), conv([2, 2, 1, 1], 'bool')], ([x, dy, w], s) => [x, dy, s === 'eager' ? (w as Tensor).shape : w]),
    C([conv([1, 4, 4, 1]), conv([1, 2, 2, 2]), conv([2, 2, 1, 2])], ([x, dy, w], s) => [x, dy, s === 'eager' ? (w as Tensor).shape : w]), // dy does not fit
  ],
  maxPool2d: [
    withArgs([conv([2, 6, 6, 3])], { poolSize: 2 }),
    withArgs([conv([1, 5, 5, 2])], { poolSize: 3, strides: 1, padding: 'same' }),
    withArgs([conv([1, 4, 4, 2], 'float64')], { poolSize: 2 }),
    withArgs([conv([1, 4, 4, 2], 'int32')], { poolSize: 2 }),
    withArgs([conv([1, 4, 4, 1], 'bool')], { poolSize: 2 }),
    withArgs([conv([4, 4, 2])], { poolSize: 2 }), // not 4-D
  ],
  avgPool2d: [
    withArgs([conv([2, 6, 6, 3])], { poolSize: 3, strides: 2 }),
    withArgs([conv([1, 5, 5, 2], 'float64')], { poolSize: 2, padding: 'same' }),
    withArgs([conv([1, 4, 4, 2], 'int32')], { poolSize: 2 }),
    withArgs([conv([1, 4, 4, 1], 'bool')], { poolSize: 2 }),
    withArgs([conv([1, 1, 4, 1])], { poolSize: 2 }), // window does not fit
  ],
  maxPool2dGrad: [
    withArgs([conv([2, 4, 4, 2]), conv([2, 2, 2, 2])], { poolSize: 2 }),
    withArgs([conv([1, 4, 4, 1], 'float64'), conv([1, 2, 2, 1], 'float64')], { poolSize: 2 }),
    withArgs([conv([1, 4, 4, 1], 'int32'), conv([1, 2, 2, 1], 'int32')], { poolSize: 2 }),
    withArgs([conv([1, 2, 2, 1], 'bool'), conv([1, 1, 1, 1], 'bool')], { poolSize: 2 }),
    withArgs([conv([1, 2, 2, 1], 'int32'), conv([1, 1, 1, 1], 'float64')], { poolSize: 2 }), // float32 (from int32) with float64
    withArgs([conv([1, 4, 4, 1]), conv([1, 3, 3, 1])], { poolSize: 2 }), // dy does not fit
  ],
  // st takes (dy, inputShape); T takes (x, dy), x giving the shape
  avgPool2dGrad: [
    C([conv([2, 4, 4, 2]), conv([2, 2, 2, 2])], ([x, dy], s) => (s === 'eager' ? [dy, (x as Tensor).shape, { poolSize: 2 }] : [x, dy, { poolSize: 2 }])),
    C([conv([1, 4, 4, 1]), conv([1, 2, 2, 1], 'int32')], ([x, dy], s) => (s === 'eager' ? [dy, (x as Tensor).shape, { poolSize: 2 }] : [x, dy, { poolSize: 2 }])),
    C([conv([1, 2, 2, 1], 'bool'), conv([1, 1, 1, 1], 'bool')], ([x, dy], s) => (s === 'eager' ? [dy, (x as Tensor).shape, { poolSize: 2 }] : [x, dy, { poolSize: 2 }])),
    C([conv([1, 4, 4, 1]), conv([1, 3, 3, 1])], ([x, dy], s) => (s === 'eager' ? [dy, (x as Tensor).shape, { poolSize: 2 }] : [x, dy, { poolSize: 2 }])), // dy does not fit
  ],
};

// ---- running ----
type Outcome = { ok: true; out: Tensor[] } | { ok: false; err: unknown };

function attempt(f: () => Tensor | Tensor[]): Outcome {
  try {
    const out = f();
    return { ok: true, out: Array.isArray(out) ? out : [out] };
  } catch (err) {
    return { ok: false, err };
  }
}

function describeErr(e: unknown): string {
  return e instanceof st.SymtensorError ? `${e.code}: ${e.message}` : String(e);
}

// Both sides run the same kernels (the Emitter and the ELEMWISE builder are shared) on the same data
// in the same order, so every dtype is compared bit for bit: floats with Object.is (-0 is not 0),
// NaN matching NaN.  No case needs a tolerance.
function sameValue(a: number, e: number): boolean {
  return Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));
}

function assertSame(got: Tensor, want: Tensor, what: string): void {
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const a = got.dataSync(), e = want.dataSync();
  const bad: string[] = [];
  for (let i = 0; i < e.length && bad.length < 4; i++) if (!sameValue(a[i], e[i])) bad.push(`[${i}] symbolic ${a[i]}, eager ${e[i]}`);
  if (bad.length) assert.fail(`${what}: ${bad.join('; ')}`);
}

type Variant = 'fixed' | 'unknown';

function runCase(op: string, c: Case, seed: number): void {
  const r = rng(seed);
  const data = c.inputs.map((s) => makeInput(s, r));
  const args = c.args ?? ((xs: unknown[]) => xs);
  const label = `${op}(${c.inputs.map((s) => `${s.dtype}[${s.shape}]`).join(', ')})`;
  const eager = attempt(() => (EE[op] as AnyFn)(...args(data, 'eager')) as Tensor | Tensor[]);
  if (!eager.ok) assert.ok(eager.err instanceof st.SymtensorError, `${label}: eager threw a non-SymtensorError: ${describeErr(eager.err)}`);
  const variants: Variant[] = c.fixedOnly ? ['fixed'] : ['fixed', 'unknown'];
  for (const variant of variants) {
    const what = `${label} ${variant} dims`;
    const vars = c.inputs.map((s, i) => T.tensor(s.dtype, variant === 'fixed' ? s.shape : s.shape.map((d) => (d === 1 ? 1 : null)), `x${i}`));
    const sym = attempt(() => {
      const out = (TT[op] as AnyFn)(...args(vars, 'sym')) as Variable | Variable[];
      const f = st.fn(vars, out, { onUnusedInput: 'ignore' });
      try {
        return f.sync(...data);
      } finally {
        f.dispose();
      }
    });
    if (!eager.ok) {
      assert.ok(!sym.ok, `${what}: eager rejects (${describeErr(eager.err)}) but the symbolic op gives ${sym.ok ? sym.out.map((t) => `${t.dtype}[${t.shape}]`).join(', ') : ''}`);
      assert.ok(sym.err instanceof st.SymtensorError, `${what}: symbolic threw a non-SymtensorError: ${describeErr(sym.err)}`);
      assert.equal((sym.err as st.SymtensorError).code, (eager.err as st.SymtensorError).code, `${what}: error codes (eager: ${describeErr(eager.err)}; symbolic: ${describeErr(sym.err)})`);
      continue;
    }
    if (!sym.ok) assert.fail(`${what}: eager gives ${eager.out.map((t) => `${t.dtype}[${t.shape}]`).join(', ')} but the symbolic op throws ${describeErr(sym.err)}`);
    assert.equal(sym.out.length, eager.out.length, `${what}: number of outputs`);
    sym.out.forEach((t, k) => assertSame(t, eager.out[k], `${what} output ${k}`));
  }
}

/** Functions of both namespaces: the ops each must define once. */
function sharedOps(): string[] {
  // `in` first: reading a name T does not have is an error
  return Object.keys(EE).filter((k) => typeof EE[k] === 'function' && k in TT && typeof TT[k] === 'function' && !(k in NOT_OPS)).sort();
}

describe('graph: every op agrees eagerly and symbolically', () => {
  it('every function in both st and T has cases here (or is listed as not an op)', () => {
    const missing = sharedOps().filter((op) => !CASES[op]?.length);
    assert.deepEqual(missing, [], `ops in both st and T without agreement cases: ${missing.join(', ')}`);
    for (const name of Object.keys(NOT_OPS))
      assert.ok(typeof EE[name] === 'function' && typeof TT[name] === 'function', `NOT_OPS lists ${name}, which is not in both namespaces`);
    const stale = Object.keys(CASES).filter((op) => !sharedOps().includes(op));
    assert.deepEqual(stale, [], `cases for names that are not in both namespaces: ${stale.join(', ')}`);
  });

  it('the cases include int32 and bool inputs for every op that takes them eagerly', () => {
    // an op that accepts int32 (bool) inputs eagerly (tried on its first case's shapes) must have a case with one
    const uncovered: string[] = [];
    for (const op of sharedOps()) {
      for (const dtype of ['int32', 'bool'] as DType[]) {
        if ((CASES[op] ?? []).some((c) => c.inputs.some((s) => s.dtype === dtype))) continue;
        const first = CASES[op][0];
        const inputs = first.inputs.map((s) => makeInput({ ...s, dtype, gen: dtype === 'bool' ? 'bool' : 'posint' }, rng(1)));
        if (attempt(() => (EE[op] as AnyFn)(...(first.args ?? ((xs: unknown[]) => xs))(inputs, 'eager')) as Tensor).ok) uncovered.push(`${op} (${dtype})`);
      }
    }
    assert.deepEqual(uncovered, [], `ops that accept these inputs eagerly but have no case with them: ${uncovered.join(', ')}`);
  });

  it('x.op(...args) is op(x, ...args) for every listed method, on tensors and on variables', () => {
    for (const m of METHOD_NAMES) {
      const c = CASES[m][0];
      const data = c.inputs.map((spec) => makeInput(spec, rng(m.length)));
      const args = (c.args ?? ((xs: unknown[]) => xs))(data, 'eager');
      assert.equal(args[0], data[0], `${m}: the first case must take its first input first`);
      const viaMethod = attempt(() => (args[0] as Record<string, AnyFn>)[m](...args.slice(1)) as Tensor | Tensor[]);
      const viaFn = attempt(() => (EE[m] as AnyFn)(...args) as Tensor | Tensor[]);
      assert.ok(viaMethod.ok && viaFn.ok, `${m}: eager method or function threw`);
      viaFn.out.forEach((t, k) => assertSame(viaMethod.out[k], t, `Tensor.${m} output ${k}`));
      const vars = c.inputs.map((spec, i) => T.tensor(spec.dtype, spec.shape, `x${i}`));
      const sargs = (c.args ?? ((xs: unknown[]) => xs))(vars, 'sym');
      const outs = [(sargs[0] as Record<string, AnyFn>)[m](...sargs.slice(1)), (TT[m] as AnyFn)(...sargs)].flat() as Variable[];
      const got = st.fn(vars, outs, { onUnusedInput: 'ignore' }).sync(...data) as Tensor[];
      const half = got.length / 2;
      for (let k = 0; k < half; k++) assertSame(got[k], got[half + k], `Variable.${m} output ${k}`);
    }
  });

  for (const op of Object.keys(CASES).sort()) {
    it(op, () => CASES[op].forEach((c, i) => runCase(op, c, 7919 * (i + 1) + op.length)));
  }
});
