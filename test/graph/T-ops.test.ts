// Every T op, compiled with st.fn, against the eager op of the same name: same dtype, shape and
// numbers, for fixed shapes, partly known shapes and unknown dims; and build-time inference.
//
// This file checks graph plumbing (shape and dtype inference, lowering, fusion, memory planning,
// the program cache), not numbers: the eager ops and the compiled ones share each op's definition
// and kernel, so an op that computes the wrong function (erf's opcode pointing at tanh, say) is
// wrong in both and passes here.  The numbers are checked against the plain-TS reference
// evaluator in test/tensor/*.test.ts.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { T_ALIASES, exportsOfKind } from '../support/exports';
import { rng } from '../support/rng';

const { T } = st;
type DType = st.DType;
type Variable = st.Variable;
type Tensor = st.Tensor;
type Dim = st.Dim;

// ---- deterministic random inputs ----

type Gen =
  | 'real' | 'pos' | 'nonzero' | 'near1' | 'unit' | 'special' | 'ints' | 'prob'
  | 'int' | 'posint' | 'nzint' | 'smallexp' | 'bool' | `index:${number}`;

interface Spec {
  shape: number[];
  dtype?: DType;
  gen?: Gen;
  /** Axes that stay known in the 'unknown' and 'partial' declarations. */
  keep?: number[];
}

function defaultDtype(g: Gen): DType {
  if (g === 'bool') return 'bool';
  if (g === 'int' || g === 'posint' || g === 'nzint' || g === 'smallexp' || g.startsWith('index:')) return 'int32';
  return 'float32';
}

function makeData(spec: Spec, r: () => number): Tensor {
  const g: Gen = spec.gen ?? 'real';
  const dtype = spec.dtype ?? defaultDtype(g);
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const last = spec.shape[spec.shape.length - 1] ?? 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (g) {
      case 'real': v = r() * 4 - 2; break;
      case 'pos': v = 0.1 + r() * 2.9; break;
      case 'nonzero': v = (0.5 + r() * 1.5) * (r() < 0.5 ? -1 : 1); break;
      case 'near1': v = 0.6 + r() * 0.8; break;
      case 'unit': v = 0.05 + r() * 0.9; break;
      case 'special': v = [NaN, Infinity, -Infinity, 0, -1.5, 2.25][Math.floor(r() * 6)]; break;
      case 'ints': v = Math.floor(r() * 5) - 2; break; // floats with ties
      case 'prob': v = 0.05 + r(); break; // normalized below
      case 'int': v = Math.floor(r() * 11) - 5; break;
      case 'posint': v = 1 + Math.floor(r() * 5); break;
      case 'nzint': v = (1 + Math.floor(r() * 5)) * (r() < 0.5 ? -1 : 1); break;
      case 'smallexp': v = Math.floor(r() * 4); break;
      case 'bool': v = r() < 0.5 ? 1 : 0; break;
      default: v = Math.floor(r() * Number(g.slice(6)));
    }
    out.push(v);
  }
  if (g === 'prob') {
    for (let i = 0; i < n; i += last) {
      let s = 0;
      for (let k = 0; k < last; k++) s += out[i + k];
      for (let k = 0; k < last; k++) out[i + k] /= s;
    }
  }
  if (dtype === 'bool') return st.tensor(Uint8Array.from(out), { shape: spec.shape, dtype });
  return st.tensor(out, { shape: spec.shape, dtype });
}

// ---- the cases ----
type Out = Variable | Variable[];
type EOut = Tensor | Tensor[];
interface Case {
  name: string;
  /** The T/eager function this case exercises (for the coverage check). */
  op: string;
  inputs: Spec[];
  sym: (...v: Variable[]) => Out;
  eager: (...t: Tensor[]) => EOut;
  tol?: { rtol: number; atol: number };
  /** Declarations to try; default all three. */
  variants?: Variant[];
}
type Variant = 'fixed' | 'partial' | 'unknown';

const cases: Case[] = [];
const S = (shape: number[], gen?: Gen, dtype?: DType, keep?: number[]): Spec => ({ shape, gen, dtype, keep });
const TT = T as unknown as Record<string, (...a: unknown[]) => Variable>;
const EE = st as unknown as Record<string, (...a: unknown[]) => Tensor>;

// unary elementwise
const unaryGen: Record<string, Gen> = { log: 'pos', sqrt: 'pos', rsqrt: 'pos', log1p: 'pos', reciprocal: 'nonzero' };
const UNARY = [
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh',
  'sigmoid', 'relu', 'selu', 'gelu', 'softplus', 'erf', 'floor', 'ceil', 'round', 'isNaN', 'isFinite', 'logicalNot',
];
for (const op of UNARY) {
  cases.push({ name: `${op} float32`, op, inputs: [S([3, 4], unaryGen[op] ?? 'real')], sym: (x) => TT[op](x), eager: (x) => EE[op](x) });
}
for (const op of ['exp', 'tanh', 'sigmoid', 'log', 'softplus', 'gelu', 'erf', 'sqrt', 'selu', 'neg']) {
  cases.push({ name: `${op} float64`, op, inputs: [S([2, 5], unaryGen[op] ?? 'real', 'float64')], sym: (x) => TT[op](x), eager: (x) => EE[op](x) });
}
for (const op of ['neg', 'abs', 'sign', 'square', 'relu', 'floor', 'ceil', 'round', 'exp', 'sigmoid', 'isFinite', 'logicalNot']) {
  cases.push({ name: `${op} int32`, op, inputs: [S([3, 4], 'int')], sym: (x) => TT[op](x), eager: (x) => EE[op](x) });
}
for (const op of ['logicalNot', 'neg', 'abs']) {
  cases.push({ name: `${op} bool`, op, inputs: [S([5], 'bool')], sym: (x) => TT[op](x), eager: (x) => EE[op](x) });
}
for (const op of ['isNaN', 'isFinite', 'abs', 'relu', 'sign']) {
  cases.push({ name: `${op} on NaN/±Inf`, op, inputs: [S([12], 'special')], sym: (x) => TT[op](x), eager: (x) => EE[op](x) });
}
cases.push(
  { name: 'leakyRelu default alpha', op: 'leakyRelu', inputs: [S([3, 4])], sym: (x) => T.leakyRelu(x), eager: (x) => st.leakyRelu(x) },
  { name: 'leakyRelu alpha 0.1', op: 'leakyRelu', inputs: [S([3, 4])], sym: (x) => T.leakyRelu(x, 0.1), eager: (x) => st.leakyRelu(x, 0.1) },
  { name: 'elu alpha 0.5', op: 'elu', inputs: [S([3, 4])], sym: (x) => T.elu(x, 0.5), eager: (x) => st.elu(x, 0.5) },
  { name: 'elu default', op: 'elu', inputs: [S([3, 4], 'real', 'float64')], sym: (x) => T.elu(x), eager: (x) => st.elu(x) },
  { name: 'clip float32', op: 'clip', inputs: [S([3, 4])], sym: (x) => T.clip(x, -0.5, 0.75), eager: (x) => st.clip(x, -0.5, 0.75) },
  { name: 'clip int32', op: 'clip', inputs: [S([3, 4], 'int')], sym: (x) => T.clip(x, -2, 3), eager: (x) => st.clip(x, -2, 3) },
  { name: 'clip int32 with fractional bounds', op: 'clip', inputs: [S([3, 4], 'int')], sym: (x) => T.clip(x, -2.5, 3), eager: (x) => st.clip(x, -2.5, 3) },
);

// binary elementwise, with broadcasting
const binGen: Record<string, [Gen, Gen]> = {
  div: ['real', 'nonzero'], pow: ['pos', 'real'], mod: ['real', 'nonzero'], equal: ['ints', 'ints'], notEqual: ['ints', 'ints'],
  less: ['ints', 'ints'], lessEqual: ['ints', 'ints'], greater: ['ints', 'ints'], greaterEqual: ['ints', 'ints'],
  logicalAnd: ['ints', 'ints'], logicalOr: ['ints', 'ints'],
};
const BINARY = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'equal', 'notEqual', 'less', 'lessEqual', 'greater',
  'greaterEqual', 'logicalAnd', 'logicalOr',
];
for (const op of BINARY) {
  const [ga, gb] = binGen[op] ?? ['real', 'real'];
  cases.push({ name: `${op} [3,4]·[4]`, op, inputs: [S([3, 4], ga), S([4], gb)], sym: (a, b) => TT[op](a, b), eager: (a, b) => EE[op](a, b) });
  cases.push({ name: `${op} [3,1]·[1,4]`, op, inputs: [S([3, 1], ga), S([1, 4], gb)], sym: (a, b) => TT[op](a, b), eager: (a, b) => EE[op](a, b) });
  cases.push({ name: `${op} [2,3,4]·[3,1] float64`, op, inputs: [S([2, 3, 4], ga, 'float64'), S([3, 1], gb, 'float64')], sym: (a, b) => TT[op](a, b), eager: (a, b) => EE[op](a, b) });
}
for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'mod', 'equal', 'less', 'greaterEqual']) {
  const g: Gen = op === 'div' || op === 'mod' ? 'nzint' : 'int';
  cases.push({ name: `${op} int32`, op, inputs: [S([3, 4], 'int'), S([3, 4], g)], sym: (a, b) => TT[op](a, b), eager: (a, b) => EE[op](a, b) });
}
cases.push(
  { name: 'pow int32', op: 'pow', inputs: [S([3, 4], 'int'), S([3, 4], 'smallexp')], sym: (a, b) => T.pow(a, b), eager: (a, b) => st.pow(a, b) },
  { name: 'add int32 + float32', op: 'add', inputs: [S([3, 4], 'int'), S([4])], sym: (a, b) => T.add(a, b), eager: (a, b) => st.add(a, b) },
  { name: 'mul float32 * float64', op: 'mul', inputs: [S([3, 4]), S([3, 4], 'real', 'float64')], sym: (a, b) => T.mul(a, b), eager: (a, b) => st.mul(a, b) },
  { name: 'add int32 + weak 2 (stays int32)', op: 'add', inputs: [S([3, 4], 'int')], sym: (a) => T.add(a, 2), eager: (a) => st.add(a, 2) },
  { name: 'mul int32 * weak 2.5', op: 'mul', inputs: [S([3, 4], 'int')], sym: (a) => T.mul(a, 2.5), eager: (a) => st.mul(a, 2.5) },
  { name: 'sub weak number - x', op: 'sub', inputs: [S([3, 4])], sym: (a) => T.sub(1, a), eager: (a) => st.sub(1, a) },
  { name: 'div weak number / x', op: 'div', inputs: [S([3, 4], 'nonzero')], sym: (a) => T.div(1, a), eager: (a) => st.div(1, a) },
  { name: 'pow x^2', op: 'pow', inputs: [S([3, 4])], sym: (a) => T.pow(a, 2), eager: (a) => st.pow(a, 2) },
  { name: 'maximum x, 0.3', op: 'maximum', inputs: [S([3, 4])], sym: (a) => T.maximum(a, 0.3), eager: (a) => st.maximum(a, 0.3) },
  { name: 'add bool + bool', op: 'add', inputs: [S([4], 'bool'), S([4], 'bool')], sym: (a, b) => T.add(a, b), eager: (a, b) => st.add(a, b) },
  { name: 'logicalAnd bool', op: 'logicalAnd', inputs: [S([3, 4], 'bool'), S([4], 'bool')], sym: (a, b) => T.logicalAnd(a, b), eager: (a, b) => st.logicalAnd(a, b) },
  { name: 'logicalOr bool', op: 'logicalOr', inputs: [S([3, 1], 'bool'), S([1, 4], 'bool')], sym: (a, b) => T.logicalOr(a, b), eager: (a, b) => st.logicalOr(a, b) },
  { name: 'equal bool', op: 'equal', inputs: [S([6], 'bool'), S([6], 'bool')], sym: (a, b) => T.equal(a, b), eager: (a, b) => st.equal(a, b) },
  { name: 'where [3,1] ? [3,4] : [4]', op: 'where', inputs: [S([3, 1], 'bool'), S([3, 4]), S([4])], sym: (c, a, b) => T.where(c, a, b), eager: (c, a, b) => st.where(c, a, b) },
  { name: 'where int32 branches', op: 'where', inputs: [S([3, 4], 'bool'), S([3, 4], 'int'), S([3, 4], 'int')], sym: (c, a, b) => T.where(c, a, b), eager: (c, a, b) => st.where(c, a, b) },
  { name: 'where with a number', op: 'where', inputs: [S([3, 4], 'bool'), S([3, 4])], sym: (c, a) => T.where(c, a, 0), eager: (c, a) => st.where(c, a, 0) },
  { name: 'where float condition', op: 'where', inputs: [S([5], 'ints'), S([5]), S([5])], sym: (c, a, b) => T.where(c, a, b), eager: (c, a, b) => st.where(c, a, b) },
);
for (const [from, to, g] of [
  ['float32', 'int32', 'real'], ['int32', 'float32', 'int'], ['float32', 'bool', 'ints'], ['bool', 'float32', 'bool'],
  ['float32', 'float64', 'real'], ['int32', 'bool', 'int'], ['float64', 'float32', 'real'], ['bool', 'int32', 'bool'],
] as [DType, DType, Gen][]) {
  cases.push({ name: `cast ${from} -> ${to}`, op: 'cast', inputs: [S([3, 4], g, from)], sym: (x) => T.cast(x, to), eager: (x) => st.cast(x, to) });
}

// reductions
const R = (name: string, op: string, spec: Spec, axis?: number | number[] | null, keep?: boolean): Case => ({
  name, op, inputs: [spec],
  sym: (x) => (axis === undefined ? TT[op](x) : TT[op](x, axis, keep)),
  eager: (x) => (axis === undefined ? EE[op](x) : EE[op](x, axis, keep)),
  tol: { rtol: 2e-5, atol: 2e-5 },
});
cases.push(
  R('sum all', 'sum', S([3, 4, 5])),
  R('sum axis 1', 'sum', S([3, 4, 5]), 1),
  R('sum axes [0,2] keepDims', 'sum', S([3, 4, 5]), [0, 2], true),
  R('sum axis -1 float64', 'sum', S([3, 4, 5], 'real', 'float64'), -1),
  R('sum int32 axis 0', 'sum', S([3, 4], 'int'), 0),
  R('sum bool (counts)', 'sum', S([3, 4], 'bool'), 1),
  R('mean axis -1', 'mean', S([3, 4, 5]), -1),
  R('mean all', 'mean', S([3, 4, 5])),
  R('mean int32', 'mean', S([3, 4], 'int'), 0),
  R('prod axis 0', 'prod', S([3, 4], 'near1'), 0),
  R('prod int32 all', 'prod', S([2, 3], 'nzint')),
  R('max axis 2 keepDims', 'max', S([3, 4, 5]), 2, true),
  R('max int32 axis 1', 'max', S([3, 4], 'int'), 1),
  R('min all', 'min', S([3, 4, 5])),
  R('min axis null', 'min', S([3, 4]), null),
  R('all axis 1', 'all', S([3, 4], 'bool'), 1),
  R('all', 'all', S([3, 4], 'bool')),
  R('any axis 0 keepDims', 'any', S([3, 4], 'bool'), 0, true),
  R('any float', 'any', S([3, 4], 'ints'), 1),
  R('variance axis 1', 'variance', S([3, 5]), 1),
  R('variance all int32', 'variance', S([3, 5], 'int')),
  R('std axis 0 keepDims', 'std', S([3, 5]), 0, true),
  R('logSumExp axis -1', 'logSumExp', S([3, 5]), -1),
  R('logSumExp all', 'logSumExp', S([3, 5])),
  R('logSumExp keepDims float64', 'logSumExp', S([3, 5], 'real', 'float64'), 1, true),
  { name: 'argmax axis 1', op: 'argmax', inputs: [S([3, 5])], sym: (x) => T.argmax(x, 1), eager: (x) => st.argmax(x, 1) },
  { name: 'argmax all', op: 'argmax', inputs: [S([3, 5])], sym: (x) => T.argmax(x), eager: (x) => st.argmax(x) },
  { name: 'argmax ties int32', op: 'argmax', inputs: [S([4, 6], 'int')], sym: (x) => T.argmax(x, 1), eager: (x) => st.argmax(x, 1) },
  { name: 'argmin axis 0 keepDims', op: 'argmin', inputs: [S([3, 5])], sym: (x) => T.argmin(x, 0, true), eager: (x) => st.argmin(x, 0, true) },
);

// linear algebra
const MT = { rtol: 1e-5, atol: 1e-5 };
cases.push(
  { name: 'matmul [3,4]·[4,5]', op: 'matmul', inputs: [S([3, 4]), S([4, 5])], sym: (a, b) => T.matmul(a, b), eager: (a, b) => st.matmul(a, b), tol: MT },
  { name: 'matmul transposeA', op: 'matmul', inputs: [S([4, 3]), S([4, 5])], sym: (a, b) => T.matmul(a, b, true), eager: (a, b) => st.matmul(a, b, true), tol: MT },
  { name: 'matmul transposeB', op: 'matmul', inputs: [S([3, 4]), S([5, 4])], sym: (a, b) => T.matmul(a, b, false, true), eager: (a, b) => st.matmul(a, b, false, true), tol: MT },
  { name: 'matmul both transposed', op: 'matmul', inputs: [S([4, 3]), S([5, 4])], sym: (a, b) => T.matmul(a, b, true, true), eager: (a, b) => st.matmul(a, b, true, true), tol: MT },
  { name: 'matmul batched', op: 'matmul', inputs: [S([2, 3, 4]), S([2, 4, 5])], sym: (a, b) => T.matmul(a, b), eager: (a, b) => st.matmul(a, b), tol: MT },
  { name: 'matmul batch broadcast', op: 'matmul', inputs: [S([2, 3, 4]), S([4, 5])], sym: (a, b) => T.matmul(a, b), eager: (a, b) => st.matmul(a, b), tol: MT },
  { name: 'matmul vector·matrix', op: 'matmul', inputs: [S([4]), S([4, 5])], sym: (a, b) => T.matmul(a, b), eager: (a, b) => st.matmul(a, b), tol: MT },
  { name: 'matmul matrix·vector', op: 'matmul', inputs: [S([3, 4]), S([4])], sym: (a, b) => T.matmul(a, b), eager: (a, b) => st.matmul(a, b), tol: MT },
  { name: 'matmul float64', op: 'matmul', inputs: [S([3, 4], 'real', 'float64'), S([4, 2], 'real', 'float64')], sym: (a, b) => T.matmul(a, b), eager: (a, b) => st.matmul(a, b) },
  { name: 'matmul int32', op: 'matmul', inputs: [S([3, 4], 'int'), S([4, 2], 'int')], sym: (a, b) => T.matmul(a, b), eager: (a, b) => st.matmul(a, b) },
  { name: 'matmul float32·float64', op: 'matmul', inputs: [S([3, 4]), S([4, 2], 'real', 'float64')], sym: (a, b) => T.matmul(a, b), eager: (a, b) => st.matmul(a, b), tol: MT },
  { name: 'dot vector·vector', op: 'dot', inputs: [S([6]), S([6])], sym: (a, b) => T.dot(a, b), eager: (a, b) => st.dot(a, b), tol: MT },
  { name: 'dot matrix·vector', op: 'dot', inputs: [S([3, 4]), S([4])], sym: (a, b) => T.dot(a, b), eager: (a, b) => st.dot(a, b), tol: MT },
  { name: 'dot vector·matrix', op: 'dot', inputs: [S([4]), S([4, 5])], sym: (a, b) => T.dot(a, b), eager: (a, b) => st.dot(a, b), tol: MT },
  { name: 'dot matrix·matrix', op: 'dot', inputs: [S([3, 4]), S([4, 5])], sym: (a, b) => T.dot(a, b), eager: (a, b) => st.dot(a, b), tol: MT },
  { name: 'dot scalar·matrix', op: 'dot', inputs: [S([]), S([3, 4])], sym: (a, b) => T.dot(a, b), eager: (a, b) => st.dot(a, b), tol: MT },
  { name: 'dot 3-D·2-D', op: 'dot', inputs: [S([2, 3, 4]), S([4, 5])], sym: (a, b) => T.dot(a, b), eager: (a, b) => st.dot(a, b), tol: MT },
  // numpy's (and Theano's) dot contracts a's last axis with b's second-to-last: [2,3,4]·[2,4,5] -> [2,3,2,5]
  { name: 'dot 3-D·3-D (numpy semantics)', op: 'dot', inputs: [S([2, 3, 4]), S([2, 4, 5])], sym: (a, b) => T.dot(a, b), eager: (a, b) => st.dot(a, b), tol: MT },
  { name: 'outer', op: 'outer', inputs: [S([3]), S([4])], sym: (a, b) => T.outer(a, b), eager: (a, b) => st.outer(a, b) },
);
// dense layers: act(x·W + b), which the compiler turns into one GEMM with a bias/activation epilogue
for (const act of ['none', 'relu', 'sigmoid', 'tanh'] as const) {
  cases.push({
    name: `dense layer, ${act}`, op: 'matmul', inputs: [S([6, 4]), S([4, 5]), S([5])], tol: MT,
    sym: (x, w, b) => {
      const z = T.dot(x, w).add(b);
      return act === 'none' ? z : TT[act](z);
    },
    eager: (x, w, b) => {
      const z = st.add(st.matmul(x, w), b);
      return act === 'none' ? z : EE[act](z);
    },
  });
}
cases.push(
  {
    name: 'dense layer, bias first and transposed weights', op: 'matmul', inputs: [S([6, 4]), S([5, 4]), S([5])], tol: MT,
    sym: (x, w, b) => T.relu(T.add(b, T.matmul(x, w, false, true))), eager: (x, w, b) => st.relu(st.add(b, st.matmul(x, w, false, true))),
  },
  {
    name: 'dense layer, transposed input', op: 'matmul', inputs: [S([4, 6]), S([4, 5]), S([5])], tol: MT,
    sym: (x, w, b) => T.tanh(T.matmul(x, w, true).add(b)), eager: (x, w, b) => st.tanh(st.add(st.matmul(x, w, true), b)),
  },
  {
    name: 'dense layer, float64', op: 'matmul', inputs: [S([3, 4], 'real', 'float64'), S([4, 2], 'real', 'float64'), S([2], 'real', 'float64')],
    sym: (x, w, b) => T.sigmoid(T.dot(x, w).add(b)), eager: (x, w, b) => st.sigmoid(st.add(st.matmul(x, w), b)),
  },
);

// shape ops
cases.push(
  { name: 'reshape [3,4] -> [2,6]', op: 'reshape', inputs: [S([3, 4])], sym: (x) => T.reshape(x, [2, 6]), eager: (x) => st.reshape(x, [2, 6]) },
  { name: 'reshape with -1', op: 'reshape', inputs: [S([2, 3, 2])], sym: (x) => T.reshape(x, [-1, 3]), eager: (x) => st.reshape(x, [-1, 3]) },
  { name: 'reshape [1] -> []', op: 'reshape', inputs: [S([1])], sym: (x) => T.reshape(x, []), eager: (x) => st.reshape(x, []) },
  { name: 'reshape int32', op: 'reshape', inputs: [S([2, 6], 'int')], sym: (x) => T.reshape(x, [3, 2, 2]), eager: (x) => st.reshape(x, [3, 2, 2]) },
  { name: 'flatten', op: 'flatten', inputs: [S([2, 3, 4])], sym: (x) => T.flatten(x), eager: (x) => st.flatten(x) },
  { name: 'transpose default', op: 'transpose', inputs: [S([2, 3, 4])], sym: (x) => T.transpose(x), eager: (x) => st.transpose(x) },
  { name: 'transpose perm', op: 'transpose', inputs: [S([2, 3, 4])], sym: (x) => T.transpose(x, [1, 0, 2]), eager: (x) => st.transpose(x, [1, 0, 2]) },
  { name: 'permute bool', op: 'permute', inputs: [S([2, 3, 4], 'bool')], sym: (x) => T.permute(x, [2, 0, 1]), eager: (x) => st.permute(x, [2, 0, 1]) },
  { name: 'expandDims axis 1', op: 'expandDims', inputs: [S([3, 4])], sym: (x) => T.expandDims(x, 1), eager: (x) => st.expandDims(x, 1) },
  { name: 'expandDims axis -1', op: 'expandDims', inputs: [S([3, 4])], sym: (x) => T.expandDims(x, -1), eager: (x) => st.expandDims(x, -1) },
  { name: 'squeeze axis 1', op: 'squeeze', inputs: [S([3, 1, 4])], sym: (x) => T.squeeze(x, 1), eager: (x) => st.squeeze(x, 1) },
  { name: 'squeeze all size-1 axes', op: 'squeeze', inputs: [S([1, 3, 1])], sym: (x) => T.squeeze(x), eager: (x) => st.squeeze(x) },
  { name: 'broadcastTo', op: 'broadcastTo', inputs: [S([3, 1])], sym: (x) => T.broadcastTo(x, [2, 3, 4]), eager: (x) => st.broadcastTo(x, [2, 3, 4]) },
  { name: 'slice 2-D', op: 'slice', inputs: [S([4, 5])], sym: (x) => T.slice(x, [1, 2], [2, -1]), eager: (x) => st.slice(x, [1, 2], [2, -1]) },
  { name: 'slice 1-D begin only', op: 'slice', inputs: [S([6])], sym: (x) => T.slice(x, 2), eager: (x) => st.slice(x, 2) },
  { name: 'stridedSlice', op: 'stridedSlice', inputs: [S([6, 5])], sym: (x) => T.stridedSlice(x, [1, null], [null, 4], [2, 1]), eager: (x) => st.stridedSlice(x, [1, null], [null, 4], [2, 1]) },
  { name: 'stridedSlice reversed', op: 'stridedSlice', inputs: [S([6])], sym: (x) => T.stridedSlice(x, [null], [null], [-1]), eager: (x) => st.stridedSlice(x, [null], [null], [-1]) },
  { name: 'concat axis 0', op: 'concat', inputs: [S([2, 3]), S([4, 3])], sym: (a, b) => T.concat([a, b], 0), eager: (a, b) => st.concat([a, b], 0) },
  { name: 'concat axis 1, three inputs', op: 'concat', inputs: [S([2, 3]), S([2, 1]), S([2, 2])], sym: (a, b, c) => T.concat([a, b, c], 1), eager: (a, b, c) => st.concat([a, b, c], 1) },
  { name: 'concat int32 with float32', op: 'concat', inputs: [S([2, 3], 'int'), S([2, 3])], sym: (a, b) => T.concat([a, b], 0), eager: (a, b) => st.concat([a, b], 0) },
  { name: 'stack axis 1', op: 'stack', inputs: [S([2, 3]), S([2, 3]), S([2, 3])], sym: (a, b, c) => T.stack([a, b, c], 1), eager: (a, b, c) => st.stack([a, b, c], 1) },
  { name: 'split into 3', op: 'split', inputs: [S([6, 4], 'real', undefined, [0])], sym: (x) => T.split(x, 3, 0), eager: (x) => st.split(x, 3, 0) },
  { name: 'split sizes axis 1', op: 'split', inputs: [S([2, 4])], sym: (x) => T.split(x, [1, 3], 1), eager: (x) => st.split(x, [1, 3], 1) },
  { name: 'tile', op: 'tile', inputs: [S([2, 3])], sym: (x) => T.tile(x, [2, 1]), eager: (x) => st.tile(x, [2, 1]) },
  { name: 'tile adding an axis', op: 'tile', inputs: [S([2, 3], 'int')], sym: (x) => T.tile(x, [2, 1, 2]), eager: (x) => st.tile(x, [2, 1, 2]) },
  { name: 'pad', op: 'pad', inputs: [S([2, 3])], sym: (x) => T.pad(x, [[1, 0], [2, 1]], 0.5), eager: (x) => st.pad(x, [[1, 0], [2, 1]], 0.5) },
  { name: 'gather axis 0', op: 'gather', inputs: [S([5, 3]), S([4], 'index:5')], sym: (x, i) => T.gather(x, i), eager: (x, i) => st.gather(x, i) },
  { name: 'gather axis 1 with matrix indices', op: 'gather', inputs: [S([3, 4]), S([2, 2], 'index:4')], sym: (x, i) => T.gather(x, i, 1), eager: (x, i) => st.gather(x, i, 1) },
  { name: 'gather int32 data', op: 'gather', inputs: [S([6], 'int'), S([3], 'index:6')], sym: (x, i) => T.gather(x, i), eager: (x, i) => st.gather(x, i) },
  { name: 'oneHot', op: 'oneHot', inputs: [S([4], 'index:5')], sym: (i) => T.oneHot(i, 5), eager: (i) => st.oneHot(i, 5) },
  { name: 'oneHot on/off values, 2-D', op: 'oneHot', inputs: [S([2, 3], 'index:4')], sym: (i) => T.oneHot(i, 4, 2, -1), eager: (i) => st.oneHot(i, 4, 2, -1) },
  // [3,1,4] with [2,'x',0] is a transpose to [4,1,3] (an independent route to the same values)
  { name: 'dimshuffle', op: 'dimshuffle', inputs: [S([3, 1, 4])], sym: (x) => T.dimshuffle(x, [2, 'x', 0]), eager: (x) => st.transpose(x, [2, 1, 0]) },
);

// nn
const NT = { rtol: 1e-4, atol: 1e-5 };
cases.push(
  { name: 'softmax last axis', op: 'softmax', inputs: [S([3, 5])], sym: (x) => T.softmax(x), eager: (x) => st.softmax(x) },
  { name: 'softmax axis 0', op: 'softmax', inputs: [S([3, 5])], sym: (x) => T.softmax(x, 0), eager: (x) => st.softmax(x, 0) },
  { name: 'softmax float64', op: 'softmax', inputs: [S([2, 4], 'real', 'float64')], sym: (x) => T.softmax(x), eager: (x) => st.softmax(x) },
  { name: 'logSoftmax', op: 'logSoftmax', inputs: [S([3, 5])], sym: (x) => T.logSoftmax(x), eager: (x) => st.logSoftmax(x) },
  { name: 'logSoftmax axis 1 of 3-D', op: 'logSoftmax', inputs: [S([2, 3, 4])], sym: (x) => T.logSoftmax(x, 1), eager: (x) => st.logSoftmax(x, 1) },
  { name: 'conv2d valid', op: 'conv2d', inputs: [S([2, 6, 6, 3]), S([3, 3, 3, 4])], sym: (x, w) => T.conv2d(x, w), eager: (x, w) => st.conv2d(x, w), tol: NT },
  { name: 'conv2d same, strides 2', op: 'conv2d', inputs: [S([2, 7, 6, 3]), S([3, 3, 3, 2])], sym: (x, w) => T.conv2d(x, w, { padding: 'same', strides: 2 }), eager: (x, w) => st.conv2d(x, w, { padding: 'same', strides: 2 }), tol: NT },
  { name: 'conv2d dilated', op: 'conv2d', inputs: [S([1, 7, 7, 2]), S([2, 2, 2, 3])], sym: (x, w) => T.conv2d(x, w, { dilations: 2, padding: 1 }), eager: (x, w) => st.conv2d(x, w, { dilations: 2, padding: 1 }), tol: NT },
  {
    name: 'conv2dGradInput', op: 'conv2dGradInput', inputs: [S([2, 4, 4, 2]), S([3, 3, 3, 2]), S([2, 6, 6, 3])],
    sym: (dy, w, x) => T.conv2dGradInput(dy, w, x), eager: (dy, w, x) => st.conv2dGradInput(dy, w, x.shape), tol: NT,
  },
  {
    name: 'conv2dGradFilter same', op: 'conv2dGradFilter', inputs: [S([2, 5, 5, 3]), S([2, 5, 5, 2]), S([3, 3, 3, 2])],
    sym: (x, dy, w) => T.conv2dGradFilter(x, dy, w, { padding: 'same' }), eager: (x, dy, w) => st.conv2dGradFilter(x, dy, w.shape, { padding: 'same' }), tol: NT,
  },
  { name: 'maxPool2d', op: 'maxPool2d', inputs: [S([2, 6, 6, 3])], sym: (x) => T.maxPool2d(x, { poolSize: 2 }), eager: (x) => st.maxPool2d(x, { poolSize: 2 }) },
  { name: 'maxPool2d same, strides 1', op: 'maxPool2d', inputs: [S([1, 5, 5, 2])], sym: (x) => T.maxPool2d(x, { poolSize: 3, strides: 1, padding: 'same' }), eager: (x) => st.maxPool2d(x, { poolSize: 3, strides: 1, padding: 'same' }) },
  { name: 'avgPool2d', op: 'avgPool2d', inputs: [S([2, 6, 6, 3])], sym: (x) => T.avgPool2d(x, { poolSize: 3, strides: 2 }), eager: (x) => st.avgPool2d(x, { poolSize: 3, strides: 2 }) },
  { name: 'maxPool2dGrad', op: 'maxPool2dGrad', inputs: [S([2, 4, 4, 2]), S([2, 2, 2, 2])], sym: (x, dy) => T.maxPool2dGrad(x, dy, { poolSize: 2 }), eager: (x, dy) => st.maxPool2dGrad(x, dy, { poolSize: 2 }) },
  { name: 'avgPool2dGrad', op: 'avgPool2dGrad', inputs: [S([2, 4, 4, 2]), S([2, 2, 2, 2])], sym: (x, dy) => T.avgPool2dGrad(x, dy, { poolSize: 2 }), eager: (x, dy) => st.avgPool2dGrad(dy, x.shape, { poolSize: 2 }) },
);

// losses (no eager twin: compared with the formula written with eager ops)
const LT = { rtol: 1e-5, atol: 1e-5 };
cases.push(
  {
    name: 'categoricalCrossentropy of a softmax', op: 'categoricalCrossentropy', inputs: [S([4, 5], 'prob'), S([4, 5])],
    sym: (y, z) => T.categoricalCrossentropy(y, T.softmax(z)), eager: (y, z) => st.neg(st.sum(st.mul(y, st.logSoftmax(z)), -1)), tol: LT,
  },
  {
    name: 'categoricalCrossentropy of probabilities', op: 'categoricalCrossentropy', inputs: [S([4, 5], 'prob'), S([4, 5], 'prob')],
    sym: (y, p) => T.categoricalCrossentropy(y, p), eager: (y, p) => st.neg(st.sum(st.mul(y, st.log(p)), -1)), tol: LT,
  },
  {
    name: 'sparseCategoricalCrossentropy', op: 'sparseCategoricalCrossentropy', inputs: [S([4], 'index:5'), S([4, 5], 'real', undefined, [1])],
    sym: (y, z) => T.sparseCategoricalCrossentropy(y, T.softmax(z)), eager: (y, z) => st.neg(st.sum(st.mul(st.oneHot(y, 5), st.logSoftmax(z)), -1)), tol: LT,
  },
  {
    name: 'binaryCrossentropy of a sigmoid', op: 'binaryCrossentropy', inputs: [S([6], 'unit'), S([6])],
    sym: (y, z) => T.binaryCrossentropy(y, T.sigmoid(z)),
    eager: (y, z) => { const p = st.sigmoid(z); return st.neg(st.add(st.mul(y, st.log(p)), st.mul(st.sub(1, y), st.log(st.sub(1, p))))); },
    tol: LT,
  },
  {
    name: 'binaryCrossentropy of probabilities', op: 'binaryCrossentropy', inputs: [S([2, 3], 'unit'), S([2, 3], 'unit')],
    sym: (y, p) => T.binaryCrossentropy(y, p),
    eager: (y, p) => st.neg(st.add(st.mul(y, st.log(p)), st.mul(st.sub(1, y), st.log(st.sub(1, p))))), tol: LT,
  },
  { name: 'stopGradient is the identity', op: 'stopGradient', inputs: [S([3, 4])], sym: (x) => T.stopGradient(x), eager: (x) => st.mul(x, 1) },
  { name: 'ifelse true', op: 'ifelse', inputs: [S([], 'posint'), S([3]), S([3])], sym: (c, a, b) => T.ifelse(c, a, b), eager: (c, a, b) => (c.item() ? st.mul(a, 1) : st.mul(b, 1)) },
  { name: 'ifelse false, mixed dtypes', op: 'ifelse', inputs: [S([], 'bool', 'int32'), S([3], 'int'), S([3])], sym: (c, a, b) => T.ifelse(T.mul(c, 0), a, b), eager: (_c, _a, b) => st.cast(b, 'float32') },
);

/** numpy's rule, written out: trailing dims are equal or one of them is 1. */
function broadcastable(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i], y = b[b.length - i];
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

// ---- running one case ----
function declare(spec: Spec, variant: Variant, name: string): Variable {
  const dtype = spec.dtype ?? defaultDtype(spec.gen ?? 'real');
  const shape: Dim[] = spec.shape.map((d, i) => {
    if (variant === 'fixed' || spec.keep?.includes(i) || d === 1) return d;
    if (variant === 'partial' && i === 0) return d;
    return null;
  });
  return T.tensor(dtype, shape, name);
}

function close(a: number, e: number, dtype: DType, tol?: { rtol: number; atol: number }): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e) || !Number.isFinite(a)) return a === e;
  if (dtype === 'int32' || dtype === 'bool') return a === e;
  const t = tol ?? (dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-6 });
  return Math.abs(a - e) <= t.atol + t.rtol * Math.abs(e);
}

function sameTensor(actual: Tensor, expected: Tensor, what: string, tol?: { rtol: number; atol: number }): void {
  assert.ok(actual instanceof st.Tensor, `${what}: not a Tensor`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync(), e = expected.dataSync();
  const bad: string[] = [];
  for (let i = 0; i < e.length && bad.length < 5; i++) if (!close(a[i], e[i], expected.dtype, tol)) bad.push(`[${i}] got ${a[i]}, expected ${e[i]}`);
  if (bad.length) assert.fail(`${what}: ${bad.join('; ')}`);
}

function staticShapeFits(v: Variable, actual: number[], variant: Variant, what: string): void {
  assert.equal(v.ndim, actual.length, `${what}: inferred rank of ${v.describe()} vs actual ${JSON.stringify(actual)}`);
  if (variant === 'fixed') assert.deepEqual(v.staticShape, actual, `${what}: with every input dim known the inferred shape must be exact`);
  else v.staticShape.forEach((d, i) => assert.ok(d === null || d === actual[i], `${what}: inferred ${JSON.stringify(v.staticShape)} contradicts actual ${JSON.stringify(actual)}`));
}

function runCase(c: Case, seed: number): void {
  const r = rng(seed);
  const data = c.inputs.map((s) => makeData(s, r));
  const expected = c.eager(...data);
  const exp = Array.isArray(expected) ? expected : [expected];
  const variants = c.variants ?? (['fixed', 'partial', 'unknown'] as Variant[]);
  const seen = new Set<string>();
  for (const variant of variants) {
    const vars = c.inputs.map((s, i) => declare(s, variant, `in${i}`));
    const key = vars.map((v) => JSON.stringify(v.staticShape)).join(';');
    if (seen.has(key)) continue; // 'partial' equals another declaration for rank <= 1
    seen.add(key);
    const what = `${c.name} (${variant}: ${vars.map((v) => v.describe()).join(', ')})`;
    const out = c.sym(...vars);
    const outs = Array.isArray(out) ? out : [out];
    assert.equal(outs.length, exp.length, `${what}: number of outputs`);
    outs.forEach((o, k) => {
      assert.equal(o.dtype, exp[k].dtype, `${what}: inferred dtype of output ${k}`);
      staticShapeFits(o, exp[k].shape, variant, `${what} output ${k}`);
    });
    const f = st.fn(vars, out);
    const got = f.sync(...data);
    const gots = Array.isArray(got) ? got : [got];
    assert.equal(Array.isArray(got), Array.isArray(out), `${what}: array output iff array given`);
    gots.forEach((g, k) => sameTensor(g, exp[k], `${what} output ${k}`, c.tol));
    f.dispose();
  }
}

describe('graph: T ops compiled vs eager ops', () => {
  cases.forEach((c, i) => {
    it(c.name, () => runCase(c, 1000 + i));
  });

  it('the cases cover every op T exports', () => {
    // T's exports that build no op node: they are checked in test/graph/public-api.test.ts
    const notOps = new Set([
      'constant', 'tensor', 'tensorVar', 'scalar', 'vector', 'matrix', 'tensor3', 'tensor4', 'iscalar', 'ivector', 'imatrix',
      'applyOp', 'applyOp1', 'fscalar', 'fvector', 'fmatrix', 'ftensor3', 'ftensor4', 'dscalar', 'dvector', 'dmatrix',
      'dtensor3', 'dtensor4', 'scalars', 'vectors', 'matrices', 'nnet',
    ]);
    // a second name is the very same function as its canonical one, which the cases cover
    for (const [alias, canonical] of Object.entries(T_ALIASES)) assert.equal(TT[alias], TT[canonical], `T.${alias} is T.${canonical}`);
    // symbolic shapes and indexing: checked against plain loops and finite differences in
    // test/graph/symbolic-shapes.test.ts (their sizes come from shapes, not from eager twins)
    for (const k of ['shape', 'alloc', 'full', 'zeros', 'ones', 'zerosLike', 'onesLike', 'arange', 'setSubtensor', 'incSubtensor']) notOps.add(k);
    // symbolic loops: test/graph/scan.test.ts
    for (const k of ['scan', 'map', 'reduce', 'foldl', 'foldr']) notOps.add(k);
    notOps.add('allreduce'); // a collective: tested in test/distributed
    const ops = Object.keys(T).filter((k) => !notOps.has(k) && !(k in T_ALIASES));
    assert.ok(ops.length >= 90, `only ${ops.length} T ops found`);
    assert.deepEqual(ops.filter((name) => !cases.some((c) => c.op === name)), [], 'T ops no case exercises');
    // and every elementwise op the eager side exports has its T twin
    const eagerEw = [...exportsOfKind(st, 'unary'), ...exportsOfKind(st, 'binary'), ...exportsOfKind(st, 'elementwise')];
    assert.deepEqual(eagerEw.filter((name) => !ops.includes(name)), [], 'eager elementwise ops with no T twin');
  });

  it('methods build the same nodes as the T functions', () => {
    const x = T.matrix('x'), y = T.matrix('y');
    const key = (v: Variable) => `${v.owner!.op.key()}(${v.owner!.inputs.map((i) => i.id).join(',')})`;
    const V = x as unknown as Record<string, (...a: unknown[]) => Variable>;
    for (const m of UNARY) assert.equal(key(V[m]()), key(TT[m](x)), m);
    for (const m of BINARY) assert.equal(key(V[m](y)), key(TT[m](x, y)), m);
    assert.equal(key(x.sum(1, true)), key(T.sum(x, 1, true)));
    assert.equal(key(x.matmul(y, true)), key(T.matmul(x, y, true)));
    assert.equal(key(x.softmax(0)), key(T.softmax(x, 0)));
    assert.equal(key(x.clip(0, 1)), key(T.clip(x, 0, 1)));
  });

  it('the same function gives right results for several input shapes', () => {
    const x = T.matrix('x'), v = T.vector('v');
    const f = st.fn([x, v], T.softmax(x.mul(v)).sum(0));
    const r = rng(7);
    for (const [m, n] of [[2, 3], [5, 3], [1, 7], [2, 3]]) {
      const xd = makeData(S([m, n]), r), vd = makeData(S([n]), r);
      sameTensor(f.sync(xd, vd) as Tensor, st.sum(st.softmax(st.mul(xd, vd)), 0), `[${m},${n}]`);
    }
  });

  it('random expression graphs with shared subexpressions and several outputs match eager evaluation', () => {
    // exercises fusion of chains with several clients and the memory plan's buffer reuse
    const r = rng(4242);
    const pick = <X>(xs: X[]): X => xs[Math.floor(r() * xs.length)];
    const unary: [(v: Variable) => Variable, (t: Tensor) => Tensor][] = [
      [T.tanh, st.tanh], [T.sigmoid, st.sigmoid], [T.neg, st.neg], [T.abs, st.abs], [T.sin, st.sin], [T.relu, st.relu],
      [(v) => T.square(T.tanh(v)), (t) => st.square(st.tanh(t))],
      [(v) => T.softmax(v), (t) => st.softmax(t)],
    ];
    const binary: [(a: Variable, b: Variable) => Variable, (a: Tensor, b: Tensor) => Tensor][] = [
      [T.add, st.add], [T.sub, st.sub], [T.mul, st.mul], [T.maximum, st.maximum], [T.minimum, st.minimum],
    ];
    const Wd = makeData(S([5, 5]), r);
    const W = st.shared(Wd, 'W');
    for (let g = 0; g < 25; g++) {
      for (const variant of ['fixed', 'unknown'] as Variant[]) {
        const specs = [S([4, 5]), S([4, 5]), S([5]), S([4, 1])];
        const inputs = specs.map((s, i) => declare(s, variant, `x${i}`));
        const vals = specs.map((s) => makeData(s, r));
        const pool: [Variable, Tensor][] = inputs.map((v, i) => [v, vals[i]]);
        for (let k = 0; k < 14; k++) {
          const kind = r();
          const [a, ea] = pick(pool);
          if (kind < 0.35) {
            const [f, e] = pick(unary);
            if (a.ndim === 0) continue;
            pool.push([f(a), e(ea)]);
          } else if (kind < 0.8) {
            const [b, eb] = pick(pool);
            const [f, e] = pick(binary);
            if (!broadcastable(ea.shape, eb.shape)) continue;
            pool.push([f(a, b), e(ea, eb)]);
          } else if (kind < 0.9 && a.ndim === 2 && ea.shape[1] === 5) {
            pool.push([T.dot(a, W), st.matmul(ea, Wd)]);
          } else if (a.ndim === 2) {
            pool.push(r() < 0.5 ? [T.sum(a, 1, true), st.sum(ea, 1, true)] : [T.mean(a, 0), st.mean(ea, 0)]);
          }
        }
        const computed = pool.slice(4);
        const outs = [computed[computed.length - 1], pick(computed), pick(computed)].filter((o) => o);
        const f = st.fn(inputs, outs.map(([v]) => v), { onUnusedInput: 'ignore' });
        const got = f.sync(...vals) as Tensor[];
        got.forEach((t, i) => sameTensor(t, outs[i][1], `graph ${g} (${variant}) output ${i}`, { rtol: 1e-4, atol: 1e-5 }));
        f.dispose();
      }
    }
  });

  it('int32 inputs declared with T.ivector/T.imatrix', () => {
    const a = T.imatrix('a'), b = T.ivector('b');
    const f = st.fn([a, b], [a.add(b), a.mul(b).sum(1), a.greater(b)]);
    const ad = st.tensor([[1, -2, 3], [4, 5, -6]], { dtype: 'int32' }), bd = st.tensor([2, 0, -1], { dtype: 'int32' });
    const [s, p, g] = f.sync(ad, bd) as Tensor[];
    sameTensor(s, st.add(ad, bd), 'add');
    sameTensor(p, st.sum(st.mul(ad, bd), 1), 'mul-sum');
    sameTensor(g, st.greater(ad, bd), 'greater');
  });
});

describe('graph: build-time shape and dtype inference', () => {
  const f32 = (shape: Dim[], name?: string) => T.tensor('float32', shape, name);
  const expectType = (v: Variable, shape: Dim[], dtype: DType) => {
    assert.deepEqual(v.staticShape, shape, `shape of ${v.describe()}`);
    assert.equal(v.dtype, dtype, `dtype of ${v.describe()}`);
  };

  it('matmul and dot', () => {
    expectType(T.dot(f32([3, 4]), f32([4, 5])), [3, 5], 'float32');
    expectType(T.dot(T.matrix('X'), f32([4, 5])), [null, 5], 'float32');
    expectType(T.dot(f32([3, 4]), T.vector()), [3], 'float32');
    expectType(T.dot(T.vector(), T.vector()), [], 'float32');
    expectType(T.matmul(f32([4, 3]), f32([4, 5]), true), [3, 5], 'float32');
    expectType(T.matmul(f32([null, 3, 4]), f32([4, 5])), [null, 3, 5], 'float32');
    expectType(T.matmul(f32([2, 3, 4]), T.tensor('float64', [2, 4, null])), [2, 3, null], 'float64');
    expectType(T.outer(f32([3]), f32([null])), [3, null], 'float32');
  });

  it('elementwise broadcasting and dtypes', () => {
    expectType(T.add(f32([null, 1]), f32([1, 5])), [null, 5], 'float32');
    expectType(T.add(T.matrix(), T.vector()), [null, null], 'float32');
    expectType(T.add(f32([3, null]), f32([4])), [3, 4], 'float32');
    expectType(T.mul(f32([2, 1, 4]), f32([3, 1])), [2, 3, 4], 'float32');
    expectType(T.add(T.imatrix(), T.ivector()), [null, null], 'int32');
    expectType(T.add(T.imatrix(), T.vector()), [null, null], 'float32');
    expectType(T.add(T.ivector(), 2), [null], 'int32');
    expectType(T.div(T.ivector(), T.ivector()), [null], 'float32');
    expectType(T.exp(T.ivector()), [null], 'float32');
    expectType(T.less(T.vector(), 0), [null], 'bool');
    expectType(T.logicalAnd(T.tensor('bool', [3]), T.tensor('bool', [3])), [3], 'bool');
    expectType(T.add(T.vector(), T.tensor('float64', [null])), [null], 'float64');
    expectType(T.where(T.tensor('bool', [null, 1]), f32([1, 4]), 0), [null, 4], 'float32');
    expectType(T.cast(f32([2, null]), 'int32'), [2, null], 'int32');
    expectType(T.neg(T.tensor('bool', [2])), [2], 'int32');
  });

  it('reductions', () => {
    expectType(T.sum(f32([2, null, 4]), 1, true), [2, 1, 4], 'float32');
    expectType(T.sum(f32([2, null, 4]), [0, 2]), [null], 'float32');
    expectType(T.mean(T.imatrix()), [], 'float32');
    expectType(T.sum(T.tensor('bool', [null, 3]), 0), [3], 'int32');
    expectType(T.max(f32([null, 3]), -1), [null], 'float32');
    expectType(T.argmax(f32([null, 10]), 1), [null], 'int32');
    expectType(T.argmax(f32([5, 10])), [], 'int32');
    expectType(T.all(T.tensor('bool', [4, null]), 1, true), [4, 1], 'bool');
    expectType(T.variance(T.imatrix(), 1), [null], 'float32');
    expectType(T.logSumExp(f32([3, 7]), -1), [3], 'float32');
  });

  it('shape ops', () => {
    expectType(T.reshape(f32([2, null]), [-1]), [null], 'float32');
    expectType(T.reshape(f32([2, 3]), [-1, 2]), [3, 2], 'float32');
    expectType(T.flatten(f32([2, 3, 4])), [24], 'float32');
    expectType(T.transpose(f32([2, null, 4])), [4, null, 2], 'float32');
    expectType(T.expandDims(f32([null, 3]), 1), [null, 1, 3], 'float32');
    expectType(T.squeeze(f32([null, 1, 3]), 1), [null, 3], 'float32');
    expectType(T.concat([f32([2, null]), f32([3, null])], 0), [5, null], 'float32');
    expectType(T.concat([f32([2, null]), f32([null, 4])], 0), [null, 4], 'float32');
    expectType(T.stack([f32([2, 3]), f32([2, 3])], 0), [2, 2, 3], 'float32');
    expectType(T.slice(f32([5, 6]), [1, 2], [3, -1]), [3, 4], 'float32');
    expectType(T.tile(f32([null, 3]), [2, 2]), [null, 6], 'float32');
    expectType(T.pad(f32([null, 3]), [[1, 1], [0, 2]]), [null, 5], 'float32');
    expectType(T.gather(f32([10, 4]), T.ivector()), [null, 4], 'float32');
    expectType(T.gather(f32([null, 4]), T.tensor('int32', [2, 3]), 1), [null, 2, 3], 'float32');
    expectType(T.oneHot(T.ivector(), 7), [null, 7], 'float32');
    expectType(T.broadcastTo(f32([null, 1]), [3, 4]), [3, 4], 'float32');
    expectType(T.dimshuffle(T.vector(), ['x', 0]), [1, null], 'float32');
    const parts = T.split(f32([6, null]), 3, 0);
    assert.equal(parts.length, 3);
    parts.forEach((p) => expectType(p, [2, null], 'float32'));
  });

  it('nn ops and losses', () => {
    expectType(T.conv2d(f32([null, 28, 28, 1]), f32([3, 3, 1, 8]), { padding: 'same' }), [null, 28, 28, 8], 'float32');
    expectType(T.conv2d(f32([null, 28, 28, 1]), f32([5, 5, 1, 4])), [null, 24, 24, 4], 'float32');
    expectType(T.conv2d(f32([2, null, null, 3]), f32([3, 3, 3, 4])), [2, null, null, 4], 'float32');
    expectType(T.maxPool2d(f32([null, 28, 28, 8]), { poolSize: 2 }), [null, 14, 14, 8], 'float32');
    expectType(T.softmax(f32([null, 10])), [null, 10], 'float32');
    expectType(T.logSoftmax(T.tensor('float64', [2, null])), [2, null], 'float64');
    expectType(T.categoricalCrossentropy(f32([null, 10]), T.softmax(f32([null, 10]))), [null], 'float32');
    expectType(T.sparseCategoricalCrossentropy(T.ivector(), T.softmax(f32([null, 10]))), [null], 'float32');
    expectType(T.binaryCrossentropy(T.vector(), T.sigmoid(T.vector())), [null], 'float32');
    expectType(T.ifelse(T.scalar(), f32([3, null]), f32([null, 4])), [null, null], 'float32');
    expectType(T.ifelse(T.scalar(), f32([3, 4]), f32([3, 4])), [3, 4], 'float32');
  });

  it('gradients have the shapes and dtypes of their variables', () => {
    const X = T.matrix('X');
    const W = st.shared(st.zeros([4, 3]), 'W'), b = st.shared(st.zeros([3]), 'b');
    const cost = T.mean(T.square(T.dot(X, W).add(b)));
    const [gW, gb] = st.grad(cost, [W, b]);
    expectType(gb, [3], 'float32');
    assert.equal(gW.dtype, 'float32');
    assert.equal(gW.ndim, 2);
    gW.staticShape.forEach((d, i) => assert.ok(d === null || d === [4, 3][i], `gW shape ${JSON.stringify(gW.staticShape)}`));
  });
});
