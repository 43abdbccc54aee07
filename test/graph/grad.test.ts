// st.grad checked against finite differences in float64, op by op: each graph's outputs are
// projected onto fixed random tensors and the gradient of that scalar is compared with central
// differences of the same compiled function.  Inputs stay away from the points where an op is
// not differentiable (kinks, ties, discontinuities).
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Rng } from '../support/reference';
import {
  GradInput, assertClose, awayFrom, checkGrad, distinct, f64, makeTensor, numericJacobian, sampleAgainst, signedMagnitude,
  sizeOf, uniform,
} from '../support/fd';

const { T } = st;
type V = st.Variable;

const input = (name: string, shape: number[], value: ArrayLike<number>, extra: Partial<GradInput> = {}): GradInput => ({
  name, shape, value, ...extra,
});

const frac = (q: number) => q - Math.floor(q);
/** x / y stays at least 0.1 away from an integer (mod is discontinuous there). */
const modOk = (x: number, y: number) => frac(x / y) > 0.1 && frac(x / y) < 0.9;

function expectThrows(f: () => unknown, pattern: RegExp): Error {
  let caught: unknown = null;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected an error matching ${pattern}`);
  assert.match((caught as Error).message, pattern);
  return caught as Error;
}

/** Runs a compiled function on float64 arrays and returns its outputs as flat arrays. */
function run(f: st.CompiledFunction, ...args: { shape: number[]; value: ArrayLike<number>; dtype?: GradInput['dtype'] }[]): Float64Array[] {
  const ts = args.map((a) => makeTensor(a.value, a.shape, a.dtype));
  const out = f.sync(...ts);
  const list = Array.isArray(out) ? out : [out];
  const res = list.map(f64);
  list.forEach((t) => t.dispose());
  ts.forEach((t) => t.dispose());
  return res;
}

// ------------------------------------------------------------------------------------------------

interface UnaryCase {
  name: string;
  f: (x: V) => V;
  lo: number;
  hi: number;
  kinks?: number[];
}

const UNARY: UnaryCase[] = [
  { name: 'neg', f: T.neg, lo: -2, hi: 2 },
  { name: 'abs', f: T.abs, lo: -2, hi: 2, kinks: [0] },
  { name: 'exp', f: T.exp, lo: -2, hi: 2 },
  { name: 'expm1', f: T.expm1, lo: -2, hi: 2 },
  { name: 'log', f: T.log, lo: 0.3, hi: 3 },
  { name: 'log1p', f: T.log1p, lo: -0.7, hi: 2 },
  { name: 'sqrt', f: T.sqrt, lo: 0.3, hi: 3 },
  { name: 'rsqrt', f: T.rsqrt, lo: 0.3, hi: 3 },
  { name: 'square', f: T.square, lo: -2, hi: 2 },
  { name: 'reciprocal', f: T.reciprocal, lo: -2, hi: 2, kinks: [0] },
  { name: 'sin', f: T.sin, lo: -3, hi: 3 },
  { name: 'cos', f: T.cos, lo: -3, hi: 3 },
  { name: 'tanh', f: T.tanh, lo: -2, hi: 2 },
  { name: 'sigmoid', f: T.sigmoid, lo: -4, hi: 4 },
  { name: 'relu', f: T.relu, lo: -2, hi: 2, kinks: [0] },
  { name: 'leakyRelu (default alpha)', f: (x) => T.leakyRelu(x), lo: -2, hi: 2, kinks: [0] },
  { name: 'leakyRelu (alpha 0.05)', f: (x) => T.leakyRelu(x, 0.05), lo: -2, hi: 2, kinks: [0] },
  { name: 'elu (default alpha)', f: (x) => T.elu(x), lo: -2, hi: 2, kinks: [0] },
  { name: 'elu (alpha 0.5)', f: (x) => T.elu(x, 0.5), lo: -2, hi: 2, kinks: [0] },
  { name: 'selu', f: T.selu, lo: -2, hi: 2, kinks: [0] },
  { name: 'gelu', f: T.gelu, lo: -3, hi: 3 },
  { name: 'erf', f: T.erf, lo: -2, hi: 2 },
  { name: 'softplus', f: T.softplus, lo: -4, hi: 4 },
  { name: 'clip(-0.5, 0.7)', f: (x) => T.clip(x, -0.5, 0.7), lo: -1.5, hi: 1.5, kinks: [-0.5, 0.7] },
];

function unaryValues(c: UnaryCase, rng: Rng, n: number): number[] {
  return awayFrom(rng, n, c.lo, c.hi, c.kinks ?? [], 0.1);
}

describe('st.grad vs finite differences: unary elementwise ops', () => {
  UNARY.forEach((c, k) => {
    it(c.name, () => {
      const rng = new Rng(100 + k);
      checkGrad(c.name, [input('x', [3, 4], unaryValues(c, rng, 12))], (x) => c.f(x));
      checkGrad(`${c.name} (0-d)`, [input('x', [], unaryValues(c, rng, 1))], (x) => c.f(x));
      // composed with another op, so the incoming gradient is not all ones
      checkGrad(`sum(${c.name}(x) * y, 1)`, [input('x', [2, 5], unaryValues(c, rng, 10)), input('y', [2, 5], uniform(rng, 10))], (x, y) =>
        T.sum(T.mul(c.f(x), y), 1),
      );
    });
  });
});

// ------------------------------------------------------------------------------------------------

interface BinaryCase {
  name: string;
  f: (x: V | number, y: V | number) => V;
  genA: (rng: Rng) => number;
  genB: (rng: Rng) => number;
  ok?: (a: number, b: number) => boolean;
}

const BINARY: BinaryCase[] = [
  { name: 'add', f: T.add, genA: (r) => r.uniform(-2, 2), genB: (r) => r.uniform(-2, 2) },
  { name: 'sub', f: T.sub, genA: (r) => r.uniform(-2, 2), genB: (r) => r.uniform(-2, 2) },
  { name: 'mul', f: T.mul, genA: (r) => r.uniform(-2, 2), genB: (r) => r.uniform(-2, 2) },
  { name: 'div', f: T.div, genA: (r) => r.uniform(-2, 2), genB: (r) => (r.bool() ? 1 : -1) * r.uniform(0.5, 1.5) },
  { name: 'pow', f: T.pow, genA: (r) => r.uniform(0.5, 2), genB: (r) => r.uniform(-2, 2) },
  { name: 'maximum', f: T.maximum, genA: (r) => r.uniform(-2, 2), genB: (r) => r.uniform(-2, 2), ok: (a, b) => Math.abs(a - b) > 0.1 },
  { name: 'minimum', f: T.minimum, genA: (r) => r.uniform(-2, 2), genB: (r) => r.uniform(-2, 2), ok: (a, b) => Math.abs(a - b) > 0.1 },
  { name: 'mod', f: T.mod, genA: (r) => r.uniform(-3, 3), genB: (r) => (r.bool() ? 1 : -1) * r.uniform(0.5, 1.5), ok: modOk },
];

const SHAPE_PAIRS: [number[], number[]][] = [
  [[3, 4], [3, 4]],
  [[3, 4], [4]],
  [[3, 4], [3, 1]],
  [[3, 1], [1, 4]],
  [[4], [2, 3, 4]],
  [[3, 4], []],
  [[], [3, 4]],
];

/** Operands for a binary case: b drawn freely, a drawn so that every pair it meets is admissible. */
function binaryValues(c: BinaryCase, rng: Rng, shapeA: number[], shapeB: number[]): [number[], number[]] {
  const b = Array.from({ length: sizeOf(shapeB) }, () => c.genB(rng));
  const a = sampleAgainst(rng, shapeA, b, shapeB, c.genA, c.ok ?? (() => true));
  return [a, b];
}

describe('st.grad vs finite differences: binary elementwise ops with broadcasting', () => {
  BINARY.forEach((c, k) => {
    it(`${c.name}: broadcast shape pairs`, () => {
      const rng = new Rng(200 + k);
      for (const [sa, sb] of SHAPE_PAIRS) {
        const [a, b] = binaryValues(c, rng, sa, sb);
        checkGrad(`${c.name} [${sa}] with [${sb}]`, [input('a', sa, a), input('b', sb, b)], (x, y) => c.f(x, y));
      }
    });

    it(`${c.name}: with a number on either side`, () => {
      const rng = new Rng(300 + k);
      const cA = 1.3, cB = 0.7; // admissible constants for every case (pow base > 0, divisor != 0)
      const okA = c.ok ?? (() => true);
      const a = sampleAgainst(rng, [3, 4], [cB], [], c.genA, okA);
      checkGrad(`${c.name}(x, ${cB})`, [input('x', [3, 4], a)], (x) => c.f(x, cB));
      const b = sampleAgainst(rng, [3, 4], [cA], [], c.genB, (v, w) => okA(w, v));
      checkGrad(`${c.name}(${cA}, x)`, [input('x', [3, 4], b)], (x) => c.f(cA, x));
    });

    it(`${c.name}: the same variable on both sides, and through methods of a larger graph`, () => {
      const rng = new Rng(400 + k);
      // op(x, x): skipped for mod (x mod x is 0, a discontinuity) and maximum/minimum (always a tie)
      if (!['mod', 'maximum', 'minimum'].includes(c.name)) {
        const x = Array.from({ length: 6 }, () => c.genA(rng)).map((v) => (c.name === 'div' ? Math.abs(v) + 0.3 : v));
        checkGrad(`${c.name}(x, x)`, [input('x', [6], x)], (v) => c.f(v, v));
      }
      const [a, b] = binaryValues(c, rng, [2, 3], [3]);
      checkGrad(`sum(${c.name}(a, b) * exp(a), 0)`, [input('a', [2, 3], a), input('b', [3], b)], (x, y) => T.sum(T.mul(c.f(x, y), T.exp(x)), 0));
    });
  });
});

describe('st.grad vs finite differences: where / switch and cast', () => {
  it('where with a fixed condition, broadcast branches and a number branch', () => {
    const rng = new Rng(500);
    const cond = Array.from({ length: 12 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    checkGrad('where(c, a, b)', [input('c', [3, 4], cond, { dtype: 'bool', fixed: true }), input('a', [3, 4], uniform(rng, 12)), input('b', [3, 4], uniform(rng, 12))], (c, a, b) =>
      T.where(c, a, b),
    );
    checkGrad('where(c, a[4], b[3,1])', [input('c', [3, 4], cond, { dtype: 'bool', fixed: true }), input('a', [4], uniform(rng, 4)), input('b', [3, 1], uniform(rng, 3))], (c, a, b) =>
      T.where(c, a, b),
    );
    checkGrad('where(c, a, 0.5)', [input('c', [3, 4], cond, { dtype: 'bool', fixed: true }), input('a', [3, 4], uniform(rng, 12))], (c, a) => T.where(c, a, 0.5));
    checkGrad('switch(c[4], 2, b[3,4])', [input('c', [4], [1, 0, 0, 1], { dtype: 'bool', fixed: true }), input('b', [3, 4], uniform(rng, 12))], (c, b) =>
      T.switch(c, 2, b),
    );
  });

  it('where with a condition computed from a differentiated input (no gradient through the condition)', () => {
    const rng = new Rng(501);
    const s = awayFrom(rng, 12, -1, 1, [0], 0.1);
    checkGrad(
      'where(s > 0, a * s, sin(b))',
      [input('s', [3, 4], s), input('a', [3, 4], uniform(rng, 12)), input('b', [4], uniform(rng, 4))],
      (sv, a, b) => T.where(T.greater(sv, 0), T.mul(a, sv), T.sin(b)),
    );
  });

  it('cast float64 -> float64 inside a graph', () => {
    const rng = new Rng(502);
    checkGrad('cast(x) * sin(x)', [input('x', [3, 4], uniform(rng, 12, -2, 2))], (x) => T.mul(T.cast(x, 'float64'), T.sin(x)));
    checkGrad('cast(tanh(x))', [input('x', [5], uniform(rng, 5, -2, 2))], (x) => T.cast(T.tanh(x), 'float64'));
  });
});

// ------------------------------------------------------------------------------------------------

const AXES: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, [0, 2], [1, 2], [0, 1, 2]];

describe('st.grad vs finite differences: reductions', () => {
  const cases: { name: string; f: (x: V, axis: number | number[] | undefined, keep: boolean) => V; gen: (rng: Rng) => number[] }[] = [
    { name: 'sum', f: (x, a, k) => T.sum(x, a, k), gen: (r) => uniform(r, 24, -2, 2) },
    { name: 'mean', f: (x, a, k) => T.mean(x, a, k), gen: (r) => uniform(r, 24, -2, 2) },
    { name: 'prod', f: (x, a, k) => T.prod(x, a, k), gen: (r) => signedMagnitude(r, 24, 0.6, 1.4) },
    { name: 'max', f: (x, a, k) => T.max(x, a, k), gen: (r) => distinct(r, 24, 0.2) },
    { name: 'min', f: (x, a, k) => T.min(x, a, k), gen: (r) => distinct(r, 24, 0.2) },
    { name: 'variance', f: (x, a, k) => T.variance(x, a, k), gen: (r) => uniform(r, 24, -2, 2) },
    { name: 'std', f: (x, a, k) => T.std(x, a, k), gen: (r) => uniform(r, 24, -2, 2) },
    { name: 'logSumExp', f: (x, a, k) => T.logSumExp(x, a, k), gen: (r) => uniform(r, 24, -3, 3) },
  ];
  cases.forEach((c, k) => {
    it(`${c.name}: single axes, several axes, all axes, keepDims true and false`, () => {
      const rng = new Rng(600 + k);
      for (const axis of AXES) {
        for (const keep of [false, true]) {
          const x = c.gen(rng);
          checkGrad(`${c.name}(x [2,3,4], axis ${JSON.stringify(axis)}, keepDims ${keep})`, [input('x', [2, 3, 4], x)], (v) => c.f(v, axis, keep));
        }
      }
    });
  });

  it('reductions of 1-D and 0-d inputs and chained reductions', () => {
    const rng = new Rng(650);
    checkGrad('sum(x) of a vector', [input('x', [5], uniform(rng, 5))], (x) => T.sum(x));
    checkGrad('mean(x) of a scalar', [input('x', [], [0.4])], (x) => T.mean(x));
    checkGrad('max(sum(x, 1) * mean(x, 1))', [input('x', [3, 4], uniform(rng, 12))], (x) => T.max(T.mul(T.sum(x, 1), T.mean(x, 1))));
    checkGrad('prod with a negative entry in every row', [input('x', [2, 3], [-0.7, 1.2, 0.9, 1.1, -1.3, -0.8])], (x) => T.prod(x, 1));
    checkGrad('logSumExp(x) of a vector', [input('x', [6], uniform(rng, 6, -3, 3))], (x) => T.logSumExp(x));
  });

  it('prod with exact zeros: the gradient is the product of the other entries', () => {
    // prod is differentiable everywhere, including where an entry is 0
    const x = T.tensor('float64', [3, 3], 'x');
    const g = st.grad(T.sum(T.prod(x, 1)), x);
    const [gv] = run(st.fn([x], g), { shape: [3, 3], value: [0, 2, 3, 1.5, -2, 0.5, 0, 0, 4] });
    assertClose(gv, [6, 0, 0, -1, 0.75, -3, 0, 0, 0], 'grad of prod with zeros', 1e-12, 1e-15);
  });

  it('the mean gradient is 1/n and the max gradient is the argmax indicator', () => {
    const x = T.tensor('float64', [2, 3], 'x');
    const [gm, gx] = [st.grad(T.mean(x), x), st.grad(T.sum(T.max(x, 1)), x)];
    const [m, mx] = run(st.fn([x], [gm, gx]), { shape: [2, 3], value: [1, 5, 2, 7, 3, 4] });
    assertClose(m, [1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6], 'grad of mean', 1e-14, 0);
    assert.deepEqual(Array.from(mx), [0, 1, 0, 1, 0, 0]);
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.grad vs finite differences: matmul, dot, outer', () => {
  const cases: { label: string; a: number[]; b: number[]; ta?: boolean; tb?: boolean }[] = [
    { label: 'plain', a: [3, 4], b: [4, 2] },
    { label: 'transposeA', a: [4, 3], b: [4, 2], ta: true },
    { label: 'transposeB', a: [3, 4], b: [2, 4], tb: true },
    { label: 'transposeA and transposeB', a: [4, 3], b: [2, 4], ta: true, tb: true },
    { label: 'batched', a: [2, 3, 4], b: [2, 4, 2] },
    { label: 'batched with a rank-2 right operand', a: [2, 3, 4], b: [4, 2] },
    { label: 'batched with a rank-2 left operand', a: [3, 4], b: [2, 4, 2] },
    { label: 'batch dims 1 and 2 broadcast', a: [1, 3, 4], b: [2, 4, 2] },
    { label: 'batch dims [2,1] and [3] broadcast, transposeB', a: [2, 1, 2, 3], b: [3, 2, 3], tb: true },
    { label: 'batched, transposeA', a: [2, 4, 3], b: [2, 4, 2], ta: true },
    { label: 'vector @ matrix', a: [4], b: [4, 3] },
    { label: 'matrix @ vector', a: [3, 4], b: [4] },
    { label: 'vector @ vector', a: [5], b: [5] },
    { label: 'vector @ batched matrix', a: [4], b: [2, 4, 3] },
    { label: 'batched matrix @ vector', a: [2, 3, 4], b: [4] },
  ];
  cases.forEach((c, k) => {
    it(`matmul: ${c.label}`, () => {
      const rng = new Rng(700 + k);
      checkGrad(`matmul ${c.label}`, [input('a', c.a, uniform(rng, sizeOf(c.a))), input('b', c.b, uniform(rng, sizeOf(c.b)))], (a, b) =>
        T.matmul(a, b, c.ta ?? false, c.tb ?? false),
      );
    });
  });

  it('matmul of a variable with itself (a @ aᵀ)', () => {
    const rng = new Rng(720);
    checkGrad('a @ aᵀ', [input('a', [3, 4], uniform(rng, 12))], (a) => T.matmul(a, a, false, true));
    checkGrad('aᵀ @ a', [input('a', [3, 4], uniform(rng, 12))], (a) => T.matmul(a, a, true, false));
  });

  it('dot: vector·vector, matrix·vector, vector·matrix, matrix·matrix, scalar', () => {
    const rng = new Rng(730);
    checkGrad('dot(v, v)', [input('u', [5], uniform(rng, 5)), input('v', [5], uniform(rng, 5))], (u, v) => T.dot(u, v));
    checkGrad('dot(M, v)', [input('M', [3, 4], uniform(rng, 12)), input('v', [4], uniform(rng, 4))], (m, v) => T.dot(m, v));
    checkGrad('dot(v, M)', [input('v', [3], uniform(rng, 3)), input('M', [3, 4], uniform(rng, 12))], (v, m) => T.dot(v, m));
    checkGrad('dot(A, B)', [input('A', [2, 3], uniform(rng, 6)), input('B', [3, 4], uniform(rng, 12))], (a, b) => T.dot(a, b));
    checkGrad('dot(s, M)', [input('s', [], [0.7]), input('M', [2, 3], uniform(rng, 6))], (s, m) => T.dot(s, m));
  });

  it('outer', () => {
    const rng = new Rng(740);
    checkGrad('outer(u, v)', [input('u', [3], uniform(rng, 3)), input('v', [4], uniform(rng, 4))], (u, v) => T.outer(u, v));
    checkGrad('outer(u, u)', [input('u', [4], uniform(rng, 4))], (u) => T.outer(u, u));
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.grad vs finite differences: shape ops', () => {
  const rng = new Rng(800);
  const x234 = () => input('x', [2, 3, 4], uniform(rng, 24));
  const x45 = () => input('x', [4, 5], uniform(rng, 20));

  it('reshape and flatten', () => {
    checkGrad('reshape [2,3,4] -> [6,4]', [x234()], (x) => T.reshape(x, [6, 4]));
    checkGrad('reshape [2,3,4] -> [4,-1]', [x234()], (x) => T.reshape(x, [4, -1]));
    checkGrad('reshape to a scalar', [input('x', [1, 1], [0.3])], (x) => T.reshape(x, []));
    checkGrad('flatten', [x234()], (x) => T.flatten(x));
    checkGrad('reshape then matmul', [x234(), input('w', [4, 2], uniform(rng, 8))], (x, w) => T.matmul(T.reshape(x, [6, 4]), w));
  });

  it('transpose / permute', () => {
    checkGrad('transpose (reversed)', [x234()], (x) => T.transpose(x));
    checkGrad('transpose [1,2,0]', [x234()], (x) => T.transpose(x, [1, 2, 0]));
    checkGrad('permute [0,2,1] times a weight', [x234(), input('w', [2, 4, 3], uniform(rng, 24))], (x, w) => T.mul(T.permute(x, [0, 2, 1]), w));
    checkGrad('transpose with a negative axis', [x45()], (x) => T.transpose(x, [-1, 0]));
  });

  it('dimshuffle, expandDims, squeeze', () => {
    checkGrad("dimshuffle [3,1,4] by [2,'x',0]", [input('x', [3, 1, 4], uniform(rng, 12))], (x) => T.dimshuffle(x, [2, 'x', 0]));
    checkGrad("dimshuffle [3,4] by ['x',1,'x',0]", [input('x', [3, 4], uniform(rng, 12))], (x) => T.dimshuffle(x, ['x', 1, 'x', 0]));
    checkGrad("dimshuffle ['x',0] broadcast in an add", [input('v', [4], uniform(rng, 4)), input('m', [3, 4], uniform(rng, 12))], (v, m) =>
      T.mul(T.dimshuffle(v, ['x', 0]), m),
    );
    checkGrad('expandDims axis 1', [input('x', [3, 4], uniform(rng, 12))], (x) => T.expandDims(x, 1));
    checkGrad('expandDims axis -1', [input('x', [3, 4], uniform(rng, 12))], (x) => T.expandDims(x, -1));
    checkGrad('squeeze axis 1', [input('x', [3, 1, 4], uniform(rng, 12))], (x) => T.squeeze(x, 1));
    checkGrad('squeeze all', [input('x', [1, 3, 1, 4], uniform(rng, 12))], (x) => T.squeeze(x));
  });

  it('broadcastTo', () => {
    checkGrad('broadcastTo [4] -> [3,4]', [input('x', [4], uniform(rng, 4))], (x) => T.broadcastTo(x, [3, 4]));
    checkGrad('broadcastTo [3,1] -> [2,3,4]', [input('x', [3, 1], uniform(rng, 3))], (x) => T.broadcastTo(x, [2, 3, 4]));
    checkGrad('broadcastTo a scalar', [input('x', [], [0.2])], (x) => T.broadcastTo(x, [2, 3]));
  });

  it('slice', () => {
    checkGrad('slice [4,5] begin [1,2] size [2,-1]', [x45()], (x) => T.slice(x, [1, 2], [2, -1]));
    checkGrad('slice begin only', [x45()], (x) => T.slice(x, [2, 1]));
    checkGrad('slice a vector', [input('x', [7], uniform(rng, 7))], (x) => T.slice(x, 2, 3));
    checkGrad('two overlapping slices', [x45()], (x) => T.mul(T.slice(x, [0, 0], [3, 4]), T.slice(x, [1, 1], [3, 4])));
  });

  it('stridedSlice, including negative and non-unit strides', () => {
    const cases: [string, number[], (number | null)[], (number | null)[], (number | null)[]][] = [
      ['rows 1..3, every 2nd column', [4, 5], [1, 0], [3, 5], [1, 2]],
      ['reversed on both axes', [4, 5], [null, null], [null, null], [-1, -1]],
      ['negative begin, stride -2', [4, 5], [-1, 4], [null, 0], [-2, -2]],
      ['stride 3 rows, negative end', [4, 5], [0, 1], [4, -1], [3, 1]],
      ['only the first axis given', [4, 5], [1], [null], [2]],
      ['vector reversed with stride -2', [7], [5], [0], [-2]],
      ['vector stride 3 from 1', [7], [1], [null], [3]],
      ['3-D mixed strides', [2, 3, 4], [null, 2, 0], [null, null, 4], [1, -1, 3]],
    ];
    for (const [label, shape, b, e, s] of cases)
      checkGrad(`stridedSlice ${label}`, [input('x', shape, uniform(rng, sizeOf(shape)))], (x) => T.stridedSlice(x, b, e, s));
  });

  it('concat', () => {
    checkGrad('concat axis 0 of three', [input('a', [2, 3], uniform(rng, 6)), input('b', [1, 3], uniform(rng, 3)), input('c', [3, 3], uniform(rng, 9))], (a, b, c) =>
      T.concat([a, b, c], 0),
    );
    checkGrad('concat axis 1', [input('a', [2, 3], uniform(rng, 6)), input('b', [2, 2], uniform(rng, 4))], (a, b) => T.concat([a, b], 1));
    checkGrad('concat axis -1 of 3-D', [input('a', [2, 2, 3], uniform(rng, 12)), input('b', [2, 2, 1], uniform(rng, 4))], (a, b) => T.concat([a, b], -1));
    checkGrad('concat of a variable with itself', [input('a', [2, 3], uniform(rng, 6))], (a) => T.concat([a, T.square(a), a], 1));
  });

  it('stack', () => {
    checkGrad('stack axis 0', [input('a', [2, 3], uniform(rng, 6)), input('b', [2, 3], uniform(rng, 6))], (a, b) => T.stack([a, b], 0));
    checkGrad('stack axis 1', [input('a', [2, 3], uniform(rng, 6)), input('b', [2, 3], uniform(rng, 6))], (a, b) => T.stack([a, b, a], 1));
    checkGrad('stack axis -1', [input('a', [4], uniform(rng, 4)), input('b', [4], uniform(rng, 4))], (a, b) => T.stack([a, b], -1));
  });

  it('split', () => {
    checkGrad('split into 3 equal parts along axis 1', [input('x', [2, 6], uniform(rng, 12))], (x) => T.split(x, 3, 1));
    checkGrad('split sizes [1,-1,2] along axis 0', [input('x', [5, 3], uniform(rng, 15))], (x) => T.split(x, [1, -1, 2], 0));
    checkGrad('split, one part used twice and one unused', [input('x', [6, 2], uniform(rng, 12))], (x) => {
      const [p, , r] = T.split(x, 3, 0);
      return T.mul(T.add(p, r), p);
    });
  });

  it('tile', () => {
    checkGrad('tile [2,3] by [2,2]', [input('x', [2, 3], uniform(rng, 6))], (x) => T.tile(x, [2, 2]));
    checkGrad('tile [2,3] by [3] (fewer reps)', [input('x', [2, 3], uniform(rng, 6))], (x) => T.tile(x, [3]));
    checkGrad('tile [2,3] by [2,1,2] (more reps)', [input('x', [2, 3], uniform(rng, 6))], (x) => T.tile(x, [2, 1, 2]));
  });

  it('pad', () => {
    checkGrad('pad [[1,0],[2,1]] with 0', [input('x', [3, 4], uniform(rng, 12))], (x) => T.pad(x, [[1, 0], [2, 1]]));
    checkGrad('pad [[0,2]] with 0.5', [input('x', [5], uniform(rng, 5))], (x) => T.pad(x, [[0, 2]], 0.5));
    checkGrad('pad 3-D', [input('x', [2, 2, 3], uniform(rng, 12))], (x) => T.pad(x, [[1, 1], [0, 0], [1, 0]]));
  });

  it('gather (gradient with respect to x)', () => {
    checkGrad('gather rows with a repeated index', [input('x', [4, 3], uniform(rng, 12))], (x) => T.gather(x, [2, 0, 2, 3]));
    checkGrad('gather along axis 1 with 2-D indices', [input('x', [4, 3], uniform(rng, 12))], (x) => T.gather(x, [[1, 0], [2, 2]], 1));
    checkGrad('gather of a vector', [input('x', [5], uniform(rng, 5))], (x) => T.gather(x, [4, 4, 1]));
    checkGrad(
      'gather with an int32 index input',
      [input('x', [4, 3], uniform(rng, 12)), input('i', [3], [3, 1, 3], { dtype: 'int32', fixed: true })],
      (x, i) => T.gather(x, i, 0),
    );
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.grad vs finite differences: softmax and logSoftmax', () => {
  for (const op of ['softmax', 'logSoftmax'] as const) {
    it(`${op} over several axes`, () => {
      const rng = new Rng(op.length * 31);
      for (const axis of [-1, 0, 1]) checkGrad(`${op} [3,4] axis ${axis}`, [input('x', [3, 4], uniform(rng, 12, -3, 3))], (x) => T[op](x, axis));
      for (const axis of [0, 1, 2, -2]) checkGrad(`${op} [2,3,4] axis ${axis}`, [input('x', [2, 3, 4], uniform(rng, 24, -3, 3))], (x) => T[op](x, axis));
      checkGrad(`${op} of a vector`, [input('x', [5], uniform(rng, 5, -3, 3))], (x) => T[op](x));
    });
  }

  it('log(softmax(x)) (rewritten to logSoftmax before differentiating)', () => {
    const rng = new Rng(900);
    checkGrad('log(softmax(x))', [input('x', [3, 4], uniform(rng, 12, -3, 3))], (x) => T.log(T.softmax(x)));
    checkGrad('log(softmax(x, 0))', [input('x', [3, 4], uniform(rng, 12, -3, 3))], (x) => T.log(T.softmax(x, 0)));
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.grad vs finite differences: conv2d and pooling', () => {
  const convCases: { label: string; x: number[]; w: number[]; opts: st.Conv2dOptions }[] = [
    { label: 'stride 1, valid', x: [1, 5, 5, 1], w: [3, 3, 1, 2], opts: {} },
    { label: 'stride 1, same', x: [1, 5, 5, 1], w: [3, 3, 1, 2], opts: { padding: 'same' } },
    { label: 'stride 2, valid', x: [1, 5, 5, 1], w: [3, 3, 1, 2], opts: { strides: 2 } },
    { label: 'stride 2, same', x: [1, 5, 5, 1], w: [3, 3, 1, 2], opts: { strides: 2, padding: 'same' } },
    { label: 'stride 2, same, even input', x: [1, 4, 4, 1], w: [3, 3, 1, 2], opts: { strides: 2, padding: 'same' } },
    { label: 'dilation 2, valid', x: [1, 5, 5, 1], w: [2, 2, 1, 2], opts: { dilations: 2 } },
    { label: 'dilation 2, same', x: [1, 5, 5, 1], w: [2, 2, 1, 2], opts: { dilations: 2, padding: 'same' } },
    { label: 'two channels in, three out, strides [1,2], same', x: [1, 4, 4, 2], w: [2, 2, 2, 3], opts: { strides: [1, 2], padding: 'same' } },
    { label: 'batch of 2, padding 1', x: [2, 3, 3, 1], w: [2, 2, 1, 2], opts: { padding: 1 } },
  ];
  convCases.forEach((c, k) => {
    it(`conv2d ${c.label}: input and filter`, () => {
      const rng = new Rng(1000 + k);
      checkGrad(`conv2d ${c.label}`, [input('x', c.x, uniform(rng, sizeOf(c.x))), input('w', c.w, uniform(rng, sizeOf(c.w)))], (x, w) =>
        T.conv2d(x, w, c.opts),
      );
    });
  });

  it('conv2d followed by relu, bias and a sum (filter used twice)', () => {
    const rng = new Rng(1050);
    checkGrad(
      'conv2d chain',
      [input('x', [1, 4, 4, 1], uniform(rng, 16)), input('w', [2, 2, 1, 2], uniform(rng, 8)), input('b', [2], [0.05, -0.03])],
      (x, w, b) => T.sum(T.tanh(T.add(T.conv2d(x, w, { padding: 'same' }), b)), [1, 2]),
    );
  });

  const poolCases: { label: string; opts: st.Pool2dOptions }[] = [
    { label: 'size 2 (stride 2)', opts: { poolSize: 2 } },
    { label: 'size 3, stride 1, valid', opts: { poolSize: 3, strides: 1 } },
    { label: 'size 2, stride 1, same', opts: { poolSize: 2, strides: 1, padding: 'same' } },
    { label: 'size 3, stride 2, same', opts: { poolSize: 3, strides: 2, padding: 'same' } },
    { label: 'size [2,1]', opts: { poolSize: [2, 1] } },
  ];
  for (const op of ['maxPool2d', 'avgPool2d'] as const) {
    poolCases.forEach((c, k) => {
      it(`${op} ${c.label}`, () => {
        const rng = new Rng(1100 + k + (op === 'maxPool2d' ? 0 : 50));
        // distinct values (no ties inside a window) for max pooling
        checkGrad(`${op} ${c.label}`, [input('x', [1, 4, 4, 2], distinct(rng, 32, 0.1, -1.5))], (x) => T[op](x, c.opts));
      });
    });
  }
});

// ------------------------------------------------------------------------------------------------

describe('st.grad vs finite differences: losses', () => {
  const rowsNormalized = (rng: Rng, rows: number, cols: number) => {
    const v = uniform(rng, rows * cols, 0.1, 1);
    for (let r = 0; r < rows; r++) {
      const s = v.slice(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0);
      for (let c = 0; c < cols; c++) v[r * cols + c] /= s;
    }
    return v;
  };

  it('categoricalCrossentropy on probabilities (no softmax)', () => {
    const rng = new Rng(1200);
    checkGrad('cce(y, p)', [input('y', [3, 4], rowsNormalized(rng, 3, 4)), input('p', [3, 4], uniform(rng, 12, 0.1, 1))], (y, p) =>
      T.categoricalCrossentropy(y, p),
    );
  });

  it('categoricalCrossentropy of a softmax (fused path), w.r.t. logits and labels', () => {
    const rng = new Rng(1201);
    checkGrad('cce(y, softmax(z))', [input('y', [3, 4], rowsNormalized(rng, 3, 4)), input('z', [3, 4], uniform(rng, 12, -3, 3))], (y, z) =>
      T.categoricalCrossentropy(y, T.softmax(z)),
    );
    // labels that do not sum to 1, and a 3-D batch
    checkGrad('cce(y, softmax(z)) 3-D, unnormalized labels', [input('y', [2, 2, 3], uniform(rng, 12, 0, 1)), input('z', [2, 2, 3], uniform(rng, 12, -3, 3))], (y, z) =>
      T.categoricalCrossentropy(y, T.softmax(z)),
    );
    // the same loss written out by hand is rewritten to the fused op
    checkGrad('-sum(y * log(softmax(z)), -1)', [input('y', [3, 4], rowsNormalized(rng, 3, 4)), input('z', [3, 4], uniform(rng, 12, -3, 3))], (y, z) =>
      T.neg(T.sum(T.mul(y, T.log(T.softmax(z))), -1)),
    );
  });

  it('categoricalCrossentropy of a softmax (fused path) with labels [4] broadcast over a batch of logits [3,4]', () => {
    const rng = new Rng(1205);
    checkGrad('cce(y [4], softmax(z [3,4]))', [input('y', [4], rowsNormalized(rng, 1, 4)), input('z', [3, 4], uniform(rng, 12, -3, 3))], (y, z) =>
      T.categoricalCrossentropy(y, T.softmax(z)),
    );
  });

  it('categoricalCrossentropy of a softmax (fused path) with labels [3,1] broadcast over the classes', () => {
    const rng = new Rng(1206);
    checkGrad('cce(y [3,1], softmax(z [3,4]))', [input('y', [3, 1], uniform(rng, 3, 0.1, 0.5)), input('z', [3, 4], uniform(rng, 12, -3, 3))], (y, z) =>
      T.categoricalCrossentropy(y, T.softmax(z)),
    );
  });

  it('categoricalCrossentropy of a softmax over a non-last axis (not fused)', () => {
    const rng = new Rng(1202);
    checkGrad('cce(y, softmax(z, 0))', [input('y', [3, 4], rowsNormalized(rng, 3, 4)), input('z', [3, 4], uniform(rng, 12, -3, 3))], (y, z) =>
      T.categoricalCrossentropy(y, T.softmax(z, 0)),
    );
  });

  it('sparseCategoricalCrossentropy (probabilities and fused softmax)', () => {
    const rng = new Rng(1203);
    const labels = input('t', [3], [2, 0, 3], { dtype: 'int32', fixed: true });
    checkGrad('scce(t, p)', [labels, input('p', [3, 4], uniform(rng, 12, 0.1, 1))], (t, p) => T.sparseCategoricalCrossentropy(t, p));
    checkGrad('scce(t, softmax(z))', [labels, input('z', [3, 4], uniform(rng, 12, -3, 3))], (t, z) => T.sparseCategoricalCrossentropy(t, T.softmax(z)));
    checkGrad('mean(scce(t, softmax(z)))', [labels, input('z', [3, 4], uniform(rng, 12, -3, 3))], (t, z) => T.mean(T.sparseCategoricalCrossentropy(t, T.softmax(z))));
    // float labels are cast to int32
    checkGrad('scce(float labels, softmax(z))', [input('t', [3], [1, 1, 0], { fixed: true }), input('z', [3, 4], uniform(rng, 12, -3, 3))], (t, z) =>
      T.sparseCategoricalCrossentropy(t, T.softmax(z)),
    );
  });

  it('binaryCrossentropy (probabilities and fused sigmoid), w.r.t. predictions and labels', () => {
    const rng = new Rng(1204);
    checkGrad('bce(y, p)', [input('y', [3, 4], uniform(rng, 12, 0, 1)), input('p', [3, 4], uniform(rng, 12, 0.1, 0.9))], (y, p) => T.binaryCrossentropy(y, p));
    checkGrad('bce(y, sigmoid(z))', [input('y', [3, 4], uniform(rng, 12, 0, 1)), input('z', [3, 4], uniform(rng, 12, -4, 4))], (y, z) =>
      T.binaryCrossentropy(y, T.sigmoid(z)),
    );
    checkGrad('mean(bce(y, sigmoid(z)))', [input('y', [6], [0, 1, 1, 0, 1, 0], { fixed: true }), input('z', [6], uniform(rng, 6, -4, 4))], (y, z) =>
      T.mean(T.binaryCrossentropy(y, T.sigmoid(z))),
    );
    // written out by hand: the log-sigmoid forms are rewritten to softplus before differentiating
    checkGrad('-(y log σ(z) + (1-y) log(1-σ(z)))', [input('y', [5], uniform(rng, 5, 0, 1)), input('z', [5], uniform(rng, 5, -4, 4))], (y, z) =>
      T.neg(T.add(T.mul(y, T.log(T.sigmoid(z))), T.mul(T.sub(1, y), T.log(T.sub(1, T.sigmoid(z)))))),
    );
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.grad vs finite differences: ifelse', () => {
  for (const cond of [1, 0]) {
    it(`both branches depend on the inputs (condition ${cond ? 'true' : 'false'})`, () => {
      const rng = new Rng(1300 + cond);
      checkGrad(
        `ifelse(${cond}, sin(x) * y, x² + exp(y))`,
        [input('c', [], [cond], { dtype: 'bool', fixed: true }), input('x', [3], uniform(rng, 3)), input('y', [3], uniform(rng, 3))],
        (c, x, y) => T.ifelse(c, T.mul(T.sin(x), y), T.add(T.square(x), T.exp(y))),
      );
    });
    it(`only one branch depends on an input (condition ${cond ? 'true' : 'false'})`, () => {
      const rng = new Rng(1310 + cond);
      checkGrad(
        `ifelse(${cond}, 2x, y) * x`,
        [input('c', [], [cond], { dtype: 'int32', fixed: true }), input('x', [2, 2], uniform(rng, 4)), input('y', [2, 2], uniform(rng, 4))],
        (c, x, y) => T.mul(T.ifelse(c, T.mul(x, 2), y), x),
      );
    });
  }

  it('the condition computed from a differentiated input', () => {
    const rng = new Rng(1320);
    for (const shift of [2, -2]) {
      const x = uniform(rng, 4, -1, 1).map((v) => v + shift);
      checkGrad(`ifelse(sum(x) > 0, tanh(x), x³), x near ${shift}`, [input('x', [4], x)], (v) => T.ifelse(T.greater(T.sum(v), 0), T.tanh(v), T.pow(v, 3)));
    }
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.grad vs finite differences: compositions', () => {
  const mlp = (act: (v: V) => V) => (x: V, yOneHot: V, w1: V, b1: V, w2: V, b2: V) => {
    const h = act(T.add(T.matmul(x, w1), b1));
    return T.mean(T.categoricalCrossentropy(yOneHot, T.softmax(T.add(T.matmul(h, w2), b2))));
  };
  const oneHot = [1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1];
  const mlpInputs = (rng: Rng): GradInput[] => [
    input('X', [5, 3], uniform(rng, 15, -1, 1), { fixed: true }),
    input('Y', [5, 3], oneHot, { fixed: true }),
    input('W1', [3, 4], uniform(rng, 12, -1, 1)),
    input('b1', [4], uniform(rng, 4, -0.2, 0.2)),
    input('W2', [4, 3], uniform(rng, 12, -1, 1)),
    input('b2', [3], uniform(rng, 3, -0.2, 0.2)),
  ];
  const acts: [string, (v: V) => V][] = [['relu', T.relu], ['tanh', T.tanh], ['sigmoid', T.sigmoid]];
  acts.forEach(([name, act], k) => {
    it(`2-layer MLP loss (${name} hidden layer) w.r.t. its weights and biases`, () => {
      const r = checkGrad(`mlp ${name}`, mlpInputs(new Rng(1400 + k)), mlp(act));
      assert.ok(r.analytic.every((g) => g.some((v) => v !== 0)), 'every parameter gets a nonzero gradient');
    });
  });

  it('2-layer MLP loss with inputs of unknown dims', () => {
    checkGrad('mlp tanh, unknown dims', mlpInputs(new Rng(1410)), mlp(T.tanh), { unknownDims: true });
    checkGrad('mlp relu, unknown dims', mlpInputs(new Rng(1411)), mlp(T.relu), { unknownDims: true });
  });

  it('MLP with a sigmoid output and binaryCrossentropy, Theano-style dot + dimshuffle bias', () => {
    const rng = new Rng(1420);
    checkGrad(
      'sigmoid mlp',
      [
        input('X', [4, 3], uniform(rng, 12), { fixed: true }),
        input('y', [4], [1, 0, 0, 1], { fixed: true }),
        input('W', [3, 5], uniform(rng, 15)),
        input('b', [5], uniform(rng, 5, -0.1, 0.1)),
        input('v', [5], uniform(rng, 5)),
        input('c', [], [0.1]),
      ],
      (x, y, w, b, v, c) => {
        const h = T.tanh(T.add(T.dot(x, w), T.dimshuffle(b, ['x', 0])));
        return T.mean(T.binaryCrossentropy(y, T.sigmoid(T.add(T.dot(h, v), c))));
      },
    );
  });

  it('logSumExp of a matmul', () => {
    const rng = new Rng(1430);
    const ins = () => [input('A', [3, 4], uniform(rng, 12)), input('B', [4, 5], uniform(rng, 20))];
    checkGrad('logSumExp(A @ B)', ins(), (a, b) => T.logSumExp(T.matmul(a, b)));
    checkGrad('logSumExp(A @ B, 1)', ins(), (a, b) => T.logSumExp(T.matmul(a, b), 1));
    checkGrad('logSumExp(A @ B, 0, keepDims)', ins(), (a, b) => T.logSumExp(T.matmul(a, b), 0, true));
  });

  it('an expression using a variable many times (gradient accumulation)', () => {
    const rng = new Rng(1440);
    checkGrad(
      'x * sin(x) + exp(x) / (1 + x²) - sum(x) * mean(x)',
      [input('x', [6], uniform(rng, 6, -1.5, 1.5))],
      (x) => T.sub(T.add(T.mul(x, T.sin(x)), T.div(T.exp(x), T.add(1, T.square(x)))), T.mul(T.sum(x), T.mean(x))),
    );
    checkGrad('methods: x.add(y).mul(x).sum()', [input('x', [2, 3], uniform(rng, 6)), input('y', [3], uniform(rng, 3))], (x, y) =>
      T.sum(T.mul(T.add(x, y), x)),
    );
  });

  it('normalization: (x - mean) / std over the last axis', () => {
    const rng = new Rng(1450);
    checkGrad('layer norm', [input('x', [3, 5], uniform(rng, 15, -2, 2)), input('g', [5], uniform(rng, 5, 0.5, 1.5))], (x, g) =>
      T.mul(T.div(T.sub(x, T.mean(x, -1, true)), T.add(T.std(x, -1, true), 1e-3)), g),
    );
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.grad vs finite differences: inputs declared with unknown dims', () => {
  const opts = { unknownDims: true };
  it('elementwise with broadcasting over leading axes, reductions and mean', () => {
    const rng = new Rng(1460);
    checkGrad('a [3,4] * b [4], unknown dims', [input('a', [3, 4], uniform(rng, 12)), input('b', [4], uniform(rng, 4))], (a, b) => T.mul(T.sin(a), b), opts);
    checkGrad('mean(x, 1) and sum, unknown dims', [input('x', [2, 3, 4], uniform(rng, 24))], (x) => T.mul(T.mean(x, 1), T.sum(x, [1])), opts);
    checkGrad('mean of all, unknown dims', [input('x', [3, 4], uniform(rng, 12))], (x) => T.mean(T.exp(x)), opts);
    checkGrad('variance and logSumExp, unknown dims', [input('x', [3, 4], uniform(rng, 12))], (x) => T.add(T.variance(x, 0), T.logSumExp(x, 0)), opts);
    checkGrad('max(x, -1), unknown dims', [input('x', [3, 4], distinct(rng, 12))], (x) => T.max(x, -1), opts);
  });

  it('matmul, softmax, shape ops, conv and pooling', () => {
    const rng = new Rng(1461);
    checkGrad('matmul, unknown dims', [input('a', [2, 3, 4], uniform(rng, 24)), input('b', [4, 2], uniform(rng, 8))], (a, b) => T.matmul(a, b), opts);
    checkGrad('matmul transposeA, unknown dims', [input('a', [4, 3], uniform(rng, 12)), input('b', [4, 2], uniform(rng, 8))], (a, b) => T.matmul(a, b, true), opts);
    checkGrad('softmax, unknown dims', [input('x', [3, 4], uniform(rng, 12))], (x) => T.softmax(x), opts);
    checkGrad('reshape/flatten/slice, unknown dims', [input('x', [3, 4], uniform(rng, 12))], (x) => T.mul(T.slice(T.reshape(x, [2, -1]), [0, 1], [2, 3]), 2), opts);
    checkGrad('concat/transpose, unknown dims', [input('a', [2, 3], uniform(rng, 6)), input('b', [1, 3], uniform(rng, 3))], (a, b) => T.transpose(T.concat([a, b], 0)), opts);
    checkGrad('conv2d, unknown dims', [input('x', [1, 4, 4, 1], uniform(rng, 16)), input('w', [2, 2, 1, 2], uniform(rng, 8))], (x, w) => T.conv2d(x, w, { padding: 'same' }), opts);
    checkGrad('avgPool2d, unknown dims', [input('x', [1, 4, 4, 2], uniform(rng, 32))], (x) => T.avgPool2d(x, { poolSize: 2 }), opts);
    checkGrad('cce of softmax, unknown dims', [input('y', [3, 4], uniform(rng, 12, 0, 1)), input('z', [3, 4], uniform(rng, 12))], (y, z) =>
      T.categoricalCrossentropy(y, T.softmax(z)), opts);
  });
});

// ------------------------------------------------------------------------------------------------

describe('second derivatives', () => {
  it('d/dx sum(grad(sum(x³), x)) = 6x', () => {
    const xs = [-1.5, -0.3, 0.2, 0.8, 2.1];
    for (const cube of [(x: V) => T.pow(x, 3), (x: V) => T.mul(x, T.mul(x, x))]) {
      const x = T.vector('x', 'float64');
      const g = st.grad(T.sum(cube(x)), x);
      const h = st.grad(T.sum(g), x);
      const [gv, hv] = run(st.fn([x], [g, h]), { shape: [5], value: xs });
      assertClose(gv, xs.map((v) => 3 * v * v), 'grad of sum(x³)', 1e-12, 1e-14);
      assertClose(hv, xs.map((v) => 6 * v), 'second derivative of sum(x³)', 1e-12, 1e-14);
    }
  });

  it('tanh and sigmoid: the gradient of the gradient against finite differences', () => {
    const rng = new Rng(1500);
    checkGrad('grad(sum(tanh(x)))', [input('x', [3, 4], uniform(rng, 12, -2, 2))], (x) => st.grad(T.sum(T.tanh(x)), x));
    checkGrad('grad(sum(sigmoid(x)))', [input('x', [3, 4], uniform(rng, 12, -3, 3))], (x) => st.grad(T.sum(T.sigmoid(x)), x));
    checkGrad('grad(sum(tanh(sigmoid(x) * w)))', [input('x', [5], uniform(rng, 5, -2, 2)), input('w', [5], uniform(rng, 5))], (x, w) =>
      st.grad(T.sum(T.tanh(T.mul(T.sigmoid(x), w))), [x, w]),
    );
  });

  it('mul chains: both gradients of x·y·x differentiated again', () => {
    const rng = new Rng(1501);
    checkGrad('grad(sum(x*y*x), [x, y])', [input('x', [3, 4], uniform(rng, 12)), input('y', [4], uniform(rng, 4))], (x, y) =>
      st.grad(T.sum(T.mul(T.mul(x, y), x)), [x, y]),
    );
  });

  it('matmul chains', () => {
    const rng = new Rng(1502);
    checkGrad('grad(sum(tanh(A @ B)), [A, B])', [input('A', [3, 4], uniform(rng, 12)), input('B', [4, 2], uniform(rng, 8))], (a, b) =>
      st.grad(T.sum(T.tanh(T.matmul(a, b))), [a, b]),
    );
    checkGrad('grad(sum(sigmoid(Aᵀ @ B)), A), batched A, shared B', [input('A', [2, 3, 3], uniform(rng, 18)), input('B', [3, 3], uniform(rng, 9))], (a, b) =>
      st.grad(T.sum(T.sigmoid(T.matmul(a, b, true, false))), a),
    );
  });

  it('every unary op: the gradient of its gradient', () => {
    UNARY.forEach((c, k) => {
      const rng = new Rng(1600 + k);
      // the second derivative of relu, clip … is zero, so their gradient graphs may not depend on x
      checkGrad(`grad(sum(${c.name}(x) * w))`, [input('x', [6], unaryValues(c, rng, 6)), input('w', [6], uniform(rng, 6))], (x, w) =>
        st.grad(T.sum(T.mul(c.f(x), w)), x),
      { consider: 'zero' });
    });
  });

  it('every binary op with broadcasting: the gradient of its gradients', () => {
    BINARY.forEach((c, k) => {
      const rng = new Rng(1700 + k);
      const [a, b] = binaryValues(c, rng, [3, 4], [4]);
      checkGrad(`grad(sum(${c.name}(a, b)²), [a, b])`, [input('a', [3, 4], a), input('b', [4], b)], (x, y) =>
        st.grad(T.sum(T.square(c.f(x, y))), [x, y]),
      { consider: 'zero' });
    });
  });

  it('reductions, softmax, logSumExp and the fused cross-entropy', () => {
    const rng = new Rng(1800);
    checkGrad('grad(sum(prod(x, 1)²))', [input('x', [2, 3], signedMagnitude(rng, 6))], (x) => st.grad(T.sum(T.square(T.prod(x, 1))), x));
    checkGrad('grad(sum(max(x, 0)²))', [input('x', [3, 4], distinct(rng, 12))], (x) => st.grad(T.sum(T.square(T.max(x, 0))), x));
    checkGrad('grad(variance(x))', [input('x', [2, 4], uniform(rng, 8))], (x) => st.grad(T.variance(x), x));
    checkGrad('grad(sum(softmax(x) * w))', [input('x', [2, 4], uniform(rng, 8, -2, 2)), input('w', [2, 4], uniform(rng, 8))], (x, w) =>
      st.grad(T.sum(T.mul(T.softmax(x), w)), x),
    );
    checkGrad('grad(sum(logSoftmax(x, 0) * w))', [input('x', [3, 2], uniform(rng, 6, -2, 2)), input('w', [3, 2], uniform(rng, 6))], (x, w) =>
      st.grad(T.sum(T.mul(T.logSoftmax(x, 0), w)), x),
    );
    checkGrad('grad(logSumExp(x))', [input('x', [5], uniform(rng, 5, -2, 2))], (x) => st.grad(T.logSumExp(x), x));
    checkGrad('grad(sum(cce(y, softmax(z))), [z, y])', [input('y', [2, 3], uniform(rng, 6, 0, 1)), input('z', [2, 3], uniform(rng, 6, -2, 2))], (y, z) =>
      st.grad(T.sum(T.categoricalCrossentropy(y, T.softmax(z))), [z, y]),
    );
  });

  describe('shape ops: the gradient graphs differentiated again', () => {
    const rng = new Rng(1850);
    const x = () => input('x', [3, 4], uniform(rng, 12));
    const sq = (f: (v: V) => V) => (v: V) => st.grad(T.sum(T.square(f(v))), v);
    const cases: [string, GradInput, (v: V) => V][] = [
      ['slice', x(), (v) => T.slice(v, [1, 1], [2, 2])],
      ['split', x(), (v) => T.mul(T.split(v, 2, 1)[0], T.split(v, 2, 1)[1])],
      ['concat', x(), (v) => T.concat([v, T.slice(v, [0, 0], [1, 4])], 0)],
      ['stack', x(), (v) => T.stack([v, T.exp(v)], 1)],
      ['tile', x(), (v) => T.tile(v, [2, 1])],
      ['pad', x(), (v) => T.pad(v, [[1, 0], [0, 2]])],
      ['reshape + transpose', x(), (v) => T.transpose(T.reshape(v, [2, 6]))],
      ['dimshuffle', x(), (v) => T.dimshuffle(v, [1, 'x', 0])],
      ['broadcastTo', input('x', [4], uniform(rng, 4)), (v) => T.broadcastTo(v, [3, 4])],
      ['gather', x(), (v) => T.gather(v, [2, 0, 2])],
      ['stridedSlice', x(), (v) => T.stridedSlice(v, [null, 3], [null, null], [2, -2])],
    ];
    for (const [name, inp, f] of cases) it(name, () => checkGrad(`grad of ${name}`, [inp], sq(f)));
  });

  it('conv2d and avgPool2d: the gradient graphs (conv2dGradInput / conv2dGradFilter / avgPool2dGrad) differentiated', () => {
    const rng = new Rng(1900);
    checkGrad(
      'grad(sum(conv2d(x, w)²), [x, w])',
      [input('x', [1, 4, 4, 1], uniform(rng, 16)), input('w', [2, 2, 1, 2], uniform(rng, 8))],
      (x, w) => st.grad(T.sum(T.square(T.conv2d(x, w, { strides: 2, padding: 'same' }))), [x, w]),
    );
    checkGrad('grad(sum(avgPool2d(x)²))', [input('x', [1, 4, 4, 2], uniform(rng, 32))], (x) =>
      st.grad(T.sum(T.square(T.avgPool2d(x, { poolSize: 2, strides: 1 }))), x),
    );
  });

  it('ifelse: the gradient graph differentiated', () => {
    const rng = new Rng(1950);
    for (const cond of [1, 0])
      checkGrad(
        `grad(sum(ifelse(${cond}, x³, sin(x) * y)), [x, y])`,
        [input('c', [], [cond], { dtype: 'bool', fixed: true }), input('x', [3], uniform(rng, 3)), input('y', [3], uniform(rng, 3))],
        (c, x, y) => st.grad(T.sum(T.ifelse(c, T.pow(x, 3), T.mul(T.sin(x), y))), [x, y]),
        { consider: 'zero' },
      );
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.jacobian and st.hessian', () => {
  it('jacobian of a vector function vs finite differences', () => {
    const rng = new Rng(2000);
    const A = uniform(rng, 12);
    const x4 = T.tensor('float64', [4], 'x');
    const y = T.mul(T.tanh(T.matmul(T.constant(makeTensor(A, [3, 4])), x4)), T.sum(T.square(x4)));
    const J = st.jacobian(y, x4);
    assert.deepEqual(J.staticShape, [3, 4]);
    const fJ = st.fn([x4], J);
    const fy = st.fn([x4], y);
    const xv = uniform(rng, 4);
    const [jv] = run(fJ, { shape: [4], value: xv });
    const num = numericJacobian((v) => run(fy, { shape: [4], value: v })[0], xv);
    assertClose(jv, num.flat(), 'jacobian of tanh(A x) * |x|²', 1e-6, 1e-8);
  });

  it('jacobian with respect to a matrix and of an elementwise function', () => {
    const rng = new Rng(2001);
    const W = T.tensor('float64', [3, 4], 'W');
    const v = T.constant(makeTensor(uniform(rng, 4), [4]));
    const y = T.sigmoid(T.matmul(W, v));
    const J = st.jacobian(y, W);
    assert.deepEqual(J.staticShape, [3, 3, 4]);
    const wv = uniform(rng, 12);
    const [jv] = run(st.fn([W], J), { shape: [3, 4], value: wv });
    const fy = st.fn([W], y);
    const num = numericJacobian((w) => run(fy, { shape: [3, 4], value: w })[0], wv);
    assertClose(jv, num.flat(), 'jacobian of sigmoid(W v) w.r.t. W', 1e-6, 1e-8);

    const x = T.tensor('float64', [5], 'x');
    const xv = uniform(rng, 5);
    const [je] = run(st.fn([x], st.jacobian(T.sin(x), x)), { shape: [5], value: xv });
    const diag = xv.flatMap((_, i) => xv.map((u, j) => (i === j ? Math.cos(u) : 0)));
    assertClose(je, diag, 'jacobian of sin(x) is diag(cos x)', 1e-12, 1e-14);
  });

  it('jacobian of a scalar is the gradient', () => {
    const x = T.tensor('float64', [3], 'x');
    const [g] = run(st.fn([x], st.jacobian(T.sum(T.exp(x)), x)), { shape: [3], value: [0.1, -0.2, 0.3] });
    assertClose(g, [0.1, -0.2, 0.3].map(Math.exp), 'jacobian of a scalar', 1e-12, 0);
  });

  it('hessian of xᵀ A x is A + Aᵀ', () => {
    const rng = new Rng(2002);
    const n = 4;
    const A = uniform(rng, n * n, -2, 2);
    const x = T.tensor('float64', [n], 'x');
    const cost = T.dot(x, T.dot(T.constant(makeTensor(A, [n, n])), x));
    const H = st.hessian(cost, x);
    const [hv] = run(st.fn([x], H), { shape: [n], value: uniform(rng, n) });
    const expected = A.map((_, k) => A[k] + A[(k % n) * n + Math.floor(k / n)]);
    assertClose(hv, expected, 'hessian of xᵀAx', 1e-12, 1e-12);
  });

  it('hessian of sum(x³) is diag(6x), and of logSumExp(x) is diag(p) - p pᵀ', () => {
    const xs = [0.3, -1.1, 0.7, 2.0];
    const x = T.tensor('float64', [4], 'x');
    const [h3, hl] = run(st.fn([x], [st.hessian(T.sum(T.pow(x, 3)), x), st.hessian(T.logSumExp(x), x)]), { shape: [4], value: xs });
    assertClose(h3, xs.flatMap((u, i) => xs.map((_, j) => (i === j ? 6 * u : 0))), 'hessian of sum(x³)', 1e-12, 1e-14);
    const e = xs.map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / z);
    assertClose(hl, p.flatMap((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj)), 'hessian of logSumExp', 1e-10, 1e-13);
  });

  it('hessian of a composed function vs finite differences of its gradient', () => {
    const rng = new Rng(2003);
    const x = T.tensor('float64', [4], 'x');
    const cost = T.sum(T.mul(T.tanh(x), T.exp(T.mul(x, T.sum(x)))));
    const g = st.grad(cost, x);
    const xv = uniform(rng, 4, -0.5, 0.5);
    const [hv] = run(st.fn([x], st.hessian(cost, x)), { shape: [4], value: xv });
    const fg = st.fn([x], g);
    const num = numericJacobian((v) => run(fg, { shape: [4], value: v })[0], xv);
    assertClose(hv, num.flat(), 'hessian vs finite differences', 1e-6, 1e-8);
  });
});

// ------------------------------------------------------------------------------------------------

describe('gradient stability', () => {
  const softmaxRows = (z: number[], cols: number) => {
    const out: number[] = [];
    for (let r = 0; r < z.length / cols; r++) {
      const row = z.slice(r * cols, (r + 1) * cols);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      out.push(...e.map((v) => v / s));
    }
    return out;
  };
  const sigmoid = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
  const allFinite = (a: ArrayLike<number>, what: string) => Array.from(a).forEach((v, i) => assert.ok(Number.isFinite(v), `${what}[${i}] is ${v}`));

  const zBig = [1000, -1000, 0, 1000, 999, -1000, -1000, -1000, 1000, 500, -500, 0];
  const yHot = [0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1];

  it('categoricalCrossentropy(y, softmax(z)) with logits of magnitude 1000: finite, gradient softmax(z) - y', () => {
    const z = T.tensor('float64', [4, 3], 'z');
    const y = T.tensor('float64', [4, 3], 'y');
    const loss = T.sum(T.categoricalCrossentropy(y, T.softmax(z)));
    const [lv, gv] = run(st.fn([y, z], [loss, st.grad(loss, z)]), { shape: [4, 3], value: yHot }, { shape: [4, 3], value: zBig });
    allFinite(lv, 'loss');
    allFinite(gv, 'gradient');
    const p = softmaxRows(zBig, 3);
    assertClose(gv, p.map((v, i) => v - yHot[i]), 'gradient of the fused loss', 1e-12, 1e-12);
    // the loss itself: sum over rows of logSumExp(row) - z[label]
    let expected = 0;
    for (let r = 0; r < 4; r++) {
      const row = zBig.slice(r * 3, r * 3 + 3);
      const m = Math.max(...row);
      expected += m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) - row[yHot.slice(r * 3, r * 3 + 3).indexOf(1)];
    }
    assertClose(lv, [expected], 'loss value', 1e-12, 0);
  });

  it('the same loss written as -sum(y * log(softmax(z))) is stable too', () => {
    const z = T.tensor('float64', [4, 3], 'z');
    const y = T.tensor('float64', [4, 3], 'y');
    const loss = T.sum(T.neg(T.sum(T.mul(y, T.log(T.softmax(z))), -1)));
    const [lv, gv] = run(st.fn([y, z], [loss, st.grad(loss, z)]), { shape: [4, 3], value: yHot }, { shape: [4, 3], value: zBig });
    allFinite(lv, 'loss');
    const p = softmaxRows(zBig, 3);
    assertClose(gv, p.map((v, i) => v - yHot[i]), 'gradient of the hand-written loss', 1e-12, 1e-12);
  });

  it('sparseCategoricalCrossentropy with huge logits', () => {
    const z = T.tensor('float64', [4, 3], 'z');
    const t = T.tensor('int32', [4], 't');
    const loss = T.mean(T.sparseCategoricalCrossentropy(t, T.softmax(z)));
    const [gv] = run(st.fn([t, z], st.grad(loss, z)), { shape: [4], value: [1, 0, 2, 2], dtype: 'int32' }, { shape: [4, 3], value: zBig });
    const p = softmaxRows(zBig, 3);
    assertClose(gv, p.map((v, i) => (v - yHot[i]) / 4), 'gradient of the sparse loss', 1e-12, 1e-12);
  });

  it('binaryCrossentropy(y, sigmoid(z)) with z = ±1000: finite, gradient sigmoid(z) - y', () => {
    const zs = [1000, -1000, 1000, -1000, 30, -40];
    const ys = [0, 1, 1, 0, 0.5, 0.25];
    const z = T.tensor('float64', [6], 'z');
    const y = T.tensor('float64', [6], 'y');
    for (const [label, loss] of [
      ['fused', T.sum(T.binaryCrossentropy(y, T.sigmoid(z)))],
      ['hand-written', T.sum(T.neg(T.add(T.mul(y, T.log(T.sigmoid(z))), T.mul(T.sub(1, y), T.log(T.sub(1, T.sigmoid(z)))))))],
    ] as const) {
      const [lv, gv] = run(st.fn([y, z], [loss, st.grad(loss, z)]), { shape: [6], value: ys }, { shape: [6], value: zs });
      allFinite(lv, `${label} loss`);
      allFinite(gv, `${label} gradient`);
      assertClose(gv, zs.map((v, i) => sigmoid(v) - ys[i]), `${label}: gradient`, 1e-12, 1e-12);
      const expected = zs.reduce((acc, v, i) => acc + Math.max(v, 0) - v * ys[i] + Math.log1p(Math.exp(-Math.abs(v))), 0);
      assertClose(lv, [expected], `${label}: loss`, 1e-12, 0);
    }
  });

  it('grad of mean(log(softmax(z))) is finite for large logits', () => {
    const z = T.tensor('float64', [4, 3], 'z');
    const loss = T.mean(T.log(T.softmax(z)));
    const [lv, gv] = run(st.fn([z], [loss, st.grad(loss, z)]), { shape: [4, 3], value: zBig });
    allFinite(lv, 'loss');
    allFinite(gv, 'gradient');
    // d/dz_bj mean(logSoftmax) = (1 - K p_bj) / (B K)
    const p = softmaxRows(zBig, 3);
    assertClose(gv, p.map((v) => (1 - 3 * v) / 12), 'gradient of mean(log(softmax))', 1e-12, 1e-14);
  });

  it('logSumExp of huge values: finite value and gradient softmax(x)', () => {
    const x = T.tensor('float64', [4], 'x');
    const xs = [1000, 999, -1000, 1000];
    const loss = T.logSumExp(x);
    const [lv, gv] = run(st.fn([x], [loss, st.grad(loss, x)]), { shape: [4], value: xs });
    allFinite(lv, 'loss');
    assertClose(gv, softmaxRows(xs, 4), 'gradient of logSumExp', 1e-12, 1e-14);
  });
});

// ------------------------------------------------------------------------------------------------

describe('st.grad options, shared variables and float32', () => {
  it("consider: 'raise' (the default) names the variable the cost does not depend on", () => {
    const x = T.tensor('float64', [3], 'x');
    const unused = T.tensor('float64', [2, 2], 'unusedWeights');
    const cost = T.sum(T.square(x));
    expectThrows(() => st.grad(cost, unused), /unusedWeights/);
    expectThrows(() => st.grad(cost, [x, unused], { consider: 'raise' }), /unusedWeights/);
  });

  it("consider: 'zero' returns zeros shaped like the variable; 'ignore' returns null", () => {
    const x = T.tensor('float64', [3], 'x');
    const u = T.tensor('float64', [2, 2], 'u');
    const cost = T.sum(T.square(x));
    const [gx, gu] = st.grad(cost, [x, u], { consider: 'zero' });
    assert.ok(gu, 'zero gives a variable');
    assert.equal(gu.dtype, 'float64');
    const [gxv, guv] = run(st.fn([x, u], [gx, gu]), { shape: [3], value: [1, 2, 3] }, { shape: [2, 2], value: [5, 6, 7, 8] });
    assert.deepEqual(Array.from(gxv), [2, 4, 6]);
    assert.deepEqual(Array.from(guv), [0, 0, 0, 0]);
    const ug = st.grad(cost, u, { consider: 'zero' });
    const f = st.fn([u], ug);
    const out = f.sync(makeTensor([1, 2, 3, 4], [2, 2])) as st.Tensor;
    assert.deepEqual(out.shape, [2, 2]);

    const [gx2, gu2] = st.grad(cost, [x, u], { consider: 'ignore' });
    assert.ok(gx2);
    assert.equal(gu2, null);
    assert.equal(st.grad(cost, u, { consider: 'ignore' }), null);
  });

  it('a cost of shape [1] or [1,1] is accepted; a cost with more elements is rejected', () => {
    const x = T.tensor('float64', [3], 'x');
    for (const shape of [[1], [1, 1]]) {
      const g = st.grad(T.reshape(T.sum(T.square(x)), shape), x);
      const [gv] = run(st.fn([x], g), { shape: [3], value: [1, -2, 0.5] });
      assertClose(gv, [2, -4, 1], `grad of a cost shaped [${shape}]`, 1e-15, 0);
    }
    expectThrows(() => st.grad(T.square(x), x), /scalar/);
  });

  it('a variable reached only through a non-differentiable path counts as unused', () => {
    const x = T.tensor('float64', [3], 'x');
    const c = T.tensor('float64', [3], 'cond');
    const cost = T.sum(T.where(T.greater(c, 0), x, 0));
    expectThrows(() => st.grad(cost, c), /cond/);
    assert.equal(st.grad(cost, c, { consider: 'ignore' }), null);
  });

  it('gradients with respect to shared variables match finite differences', () => {
    const rng = new Rng(2100);
    const w0 = uniform(rng, 6);
    const b0 = uniform(rng, 2);
    const w = st.shared(makeTensor(w0, [3, 2]), 'w');
    const b = st.shared(makeTensor(b0, [2]), 'b');
    const X = T.tensor('float64', [4, 3], 'X');
    const cost = T.sum(T.square(T.add(T.tanh(T.matmul(X, w)), b)));
    const [gw, gb] = st.grad(cost, [w, b]);
    const xv = uniform(rng, 12);
    const f = st.fn([X], [cost, gw, gb]);
    const [, gwv, gbv] = run(f, { shape: [4, 3], value: xv });
    const fc = st.fn([X], cost);
    const numeric = (sv: st.SharedVariable, base: number[], shape: number[]) =>
      base.map((_, j) => {
        const at = (d: number) => {
          const v = base.slice();
          v[j] += d;
          sv.set(makeTensor(v, shape));
          return run(fc, { shape: [4, 3], value: xv })[0][0];
        };
        const r = (at(1e-6) - at(-1e-6)) / 2e-6;
        sv.set(makeTensor(base, shape));
        return r;
      });
    assertClose(gwv, numeric(w, w0, [3, 2]), 'd cost / d w (shared)', 1e-6, 1e-8);
    assertClose(gbv, numeric(b, b0, [2]), 'd cost / d b (shared)', 1e-6, 1e-8);
  });

  it('a training step with updates uses the gradient of the old value', () => {
    const rng = new Rng(2101);
    const w0 = uniform(rng, 4);
    const w = st.shared(makeTensor(w0, [4]), 'w');
    const x = T.tensor('float64', [4], 'x');
    const cost = T.sum(T.exp(T.mul(w, x)));
    const gw = st.grad(cost, w);
    const step = st.fn([x], [cost, gw], { updates: [[w, T.sub(w, T.mul(gw, 0.1))]] });
    const xv = uniform(rng, 4);
    const [, g] = run(step, { shape: [4], value: xv });
    assertClose(g, w0.map((v, i) => xv[i] * Math.exp(v * xv[i])), 'gradient', 1e-12, 0);
    assertClose(f64(w.get()), w0.map((v, i) => v - 0.1 * g[i]), 'updated w', 1e-12, 1e-15);
  });

  it('float32 gradients agree with float64 at float32 tolerance', () => {
    const rng = new Rng(2200);
    const xv = uniform(rng, 8, -1.5, 1.5);
    const wv = uniform(rng, 12);
    const grads: Float64Array[][] = [];
    for (const dtype of ['float64', 'float32'] as const) {
      const x = T.tensor(dtype, [2, 4], 'x');
      const w = T.tensor(dtype, [4, 3], 'w');
      const h = T.tanh(T.matmul(x, w));
      const cost = T.add(T.mean(T.mul(T.square(x), T.exp(T.sin(x)))), T.logSumExp(h));
      const gs = st.grad(cost, [x, w]);
      gs.forEach((g) => assert.equal(g.dtype, dtype));
      grads.push(run(st.fn([x, w], gs), { shape: [2, 4], value: xv, dtype }, { shape: [4, 3], value: wv, dtype }));
    }
    assertClose(grads[1][0], grads[0][0], 'float32 d/dx', 1e-4, 1e-5);
    assertClose(grads[1][1], grads[0][1], 'float32 d/dw', 1e-4, 1e-5);
  });

  it('float32 gradients against finite differences with a large step', () => {
    const rng = new Rng(2201);
    checkGrad(
      'float32 sigmoid(x) * x',
      [input('x', [6], uniform(rng, 6, -2, 2), { dtype: 'float32' })],
      (x) => T.mul(T.sigmoid(x), x),
      { eps: 1e-2, rtol: 2e-3, atol: 1e-3 },
    );
  });
});
