import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { DType, DTYPES, Ref, Rng } from '../support/reference';
import { Tol, expectTensor, fromSt, toSt, valueClose } from '../support/check';
import { exportsOfKind } from '../support/exports';

type UnaryFn = (x: st.TensorLike) => st.Tensor;
type BinaryFn = (a: st.TensorLike, b: st.TensorLike) => st.Tensor;

// The op lists are the package's exports filed as unary/binary (test/support/exports.ts), so an
// exported elementwise op cannot be left out; one the reference does not know fails below by name.
const UNARY_OPS = exportsOfKind(st, 'unary') as R.UnaryOp[];
const BINARY_OPS = exportsOfKind(st, 'binary') as R.BinaryOp[];

const stUnary = (op: R.UnaryOp): UnaryFn => (st as unknown as Record<string, UnaryFn>)[op];
const stBinary = (op: R.BinaryOp): BinaryFn => (st as unknown as Record<string, BinaryFn>)[op];

/** Shapes every unary op runs on: scalar, empty, vector, matrix, rank 3/4. */
const UNARY_SHAPES = [[], [0], [0, 3], [7], [3, 4], [2, 3, 4], [2, 1, 3, 2]];

// Special float inputs that have an unambiguous answer for each op.  relu(NaN) and gelu(±inf)
// are left out: the op definitions do not settle them.
function specialsFor(op: R.UnaryOp): number[] {
  const all = [NaN, Infinity, -Infinity, 0, -0];
  if (op === 'relu') return [Infinity, -Infinity, 0, -0];
  if (op === 'gelu') return [NaN, 0, -0];
  return all;
}

function tolFor(op: string, d: DType): Tol {
  // gelu's erf near its tails loses a few bits in any double implementation
  if (op === 'gelu' && d === 'float64') return { rtol: 1e-10, atol: 1e-14 };
  return {};
}

function randomInput(rng: Rng, op: R.UnaryOp, shape: number[], d: DType, special: boolean): Ref {
  const r = R.randomRef(rng, shape, d, { lo: -4, hi: 4 });
  if (special && R.isFloatType(d)) {
    const sp = specialsFor(op);
    for (let i = 0; i < r.data.length; i++) if (rng.next() < 0.2) r.data[i] = rng.pick(sp);
  }
  return r;
}

describe('elementwise: unary ops', () => {
  it('every exported unary op has a reference implementation', () => {
    assert.ok(UNARY_OPS.length >= 28, `only ${UNARY_OPS.length} unary exports found: ${UNARY_OPS}`);
    assert.deepEqual(UNARY_OPS.filter((op) => !Object.prototype.hasOwnProperty.call(R.UNARY_KIND, op)), [], 'exported unary ops the reference lacks');
  });

  for (const op of UNARY_OPS) {
    it(`${op}: every dtype and shape matches the reference (dtype, shape, values)`, () => {
      const rng = new Rng(op.length * 7919 + op.charCodeAt(0));
      for (const d of DTYPES) {
        for (const shape of UNARY_SHAPES) {
          for (const special of [false, true]) {
            const x = randomInput(rng, op, shape, d, special);
            const expected = R.unary(op, x);
            const got = stUnary(op)(toSt(x));
            expectTensor(got, expected, `${op}(${d} [${shape}]${special ? ' with specials' : ''})`, tolFor(op, d));
          }
        }
      }
    });
  }

  it('result dtypes follow the table (keep / float / predicate)', () => {
    for (const op of UNARY_OPS) {
      for (const d of DTYPES) {
        const got = stUnary(op)(st.ones([2], d));
        assert.equal(got.dtype, R.unaryDtype(op, d), `${op}(${d})`);
      }
    }
    // spot checks of the table itself
    assert.equal(R.unaryDtype('neg', 'bool'), 'int32');
    assert.equal(R.unaryDtype('exp', 'int32'), 'float32');
    assert.equal(R.unaryDtype('isNaN', 'float64'), 'bool');
  });

  it('plain numbers and nested arrays are accepted and become float32', () => {
    expectTensor(st.exp(1), R.unary('exp', R.scalar(1)), 'exp(1)');
    expectTensor(st.neg(3), R.make([], 'float32', [-3]), 'neg(3)');
    expectTensor(st.abs([[-1, 2], [3, -4]]), R.make([2, 2], 'float32', [1, 2, 3, 4]), 'abs(nested)');
    expectTensor(st.logicalNot([true, false]), R.make([2], 'bool', [0, 1]), 'logicalNot([true,false])');
  });

  it('leakyRelu and elu take alpha (defaults 0.2 and 1)', () => {
    const rng = new Rng(11);
    for (const d of ['float32', 'float64'] as DType[]) {
      const x = R.randomRef(rng, [4, 5], d);
      expectTensor(st.leakyRelu(toSt(x)), R.unary('leakyRelu', x), 'leakyRelu default');
      expectTensor(st.leakyRelu(toSt(x), 0.01), R.unary('leakyRelu', x, 0.01), 'leakyRelu 0.01');
      expectTensor(st.elu(toSt(x)), R.unary('elu', x), 'elu default');
      expectTensor(st.elu(toSt(x), 0.5), R.unary('elu', x, 0.5), 'elu 0.5');
      expectTensor(toSt(x).leakyRelu(0.3), R.unary('leakyRelu', x, 0.3), 'Tensor.leakyRelu');
      expectTensor(toSt(x).elu(2), R.unary('elu', x, 2), 'Tensor.elu');
    }
    // known values
    assert.deepEqual(Array.from(st.leakyRelu(st.tensor([-10, 0, 5]), 0.1).dataSync()), [-1, 0, 5]);
    assert.ok(Math.abs((st.elu(st.tensor(-1, { dtype: 'float64' })).item() as number) - (Math.exp(-1) - 1)) < 1e-15);
  });

  it('round is half-to-even, like numpy', () => {
    const xs = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 0.49999997, -0.4, 1.4999999, 2.6, -2.6];
    const want = [-4, -2, -2, -0, 0, 2, 2, 4, 4, 0, -0, 1, 3, -3];
    for (const d of ['float32', 'float64'] as DType[]) {
      const got = st.round(st.tensor(xs, { dtype: d })).dataSync();
      xs.forEach((x, i) => {
        const xin = d === 'float32' ? Math.fround(x) : x;
        const w = d === 'float32' && x === 0.49999997 ? 0 : want[i];
        assert.equal(got[i], w, `round(${xin}) ${d}`);
        assert.equal(R.roundHalfEven(xin), w, `reference round(${xin})`);
      });
    }
  });

  it('keeps the sign of zero where IEEE defines it', () => {
    const cases: [string, (t: st.Tensor) => st.Tensor, number, number][] = [
      ['neg(0)', (t) => st.neg(t), 0, -0],
      ['neg(-0)', (t) => st.neg(t), -0, 0],
      ['abs(-0)', (t) => st.abs(t), -0, 0],
      ['floor(-0)', (t) => st.floor(t), -0, -0],
      ['ceil(-0.5)', (t) => st.ceil(t), -0.5, -0],
      ['round(-0.5)', (t) => st.round(t), -0.5, -0],
      ['round(-0.25)', (t) => st.round(t), -0.25, -0],
      ['sqrt(-0)', (t) => st.sqrt(t), -0, -0],
      ['mul(-0, 3)', (t) => st.mul(t, 3), -0, -0],
      ['mul(-2, 0)', (t) => st.mul(t, 0), -2, -0],
      ['sub(0, 0)', (t) => st.sub(t, 0), 0, 0],
      ['add(-0, -0)', (t) => st.add(t, t), -0, -0],
      ['reciprocal(-0)', (t) => st.reciprocal(t), -0, -Infinity],
      ['reciprocal(0)', (t) => st.reciprocal(t), 0, Infinity],
      ['div(1, -0)', (t) => st.div(1, t), -0, -Infinity],
      ['div(-1, 0)', (t) => st.div(-1, t), 0, -Infinity],
      ['sin(-0)', (t) => st.sin(t), -0, -0],
      ['tanh(-0)', (t) => st.tanh(t), -0, -0],
    ];
    const z = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
    const bad: string[] = [];
    for (const d of ['float32', 'float64'] as DType[]) {
      for (const [name, f, x, want] of cases) {
        const got = f(st.tensor(x, { dtype: d })).item() as number;
        if (!Object.is(got, want)) bad.push(`${name} ${d}: got ${z(got)}, expected ${z(want)}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('known values of the activations (independent of the reference)', () => {
    const v = (t: st.Tensor) => Array.from(t.dataSync());
    const near = (a: number[], b: number[], tol: number, what: string) =>
      a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol, `${what}[${i}]: ${x} vs ${b[i]}`));
    const x = st.tensor([-2, -1, 0, 1, 2], { dtype: 'float64' });
    near(v(st.sigmoid(x)), [0.11920292202211755, 0.2689414213699951, 0.5, 0.7310585786300049, 0.8807970779778823], 1e-15, 'sigmoid');
    near(v(st.gelu(x)), [-0.04550026389635842, -0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416], 1e-15, 'gelu');
    near(v(st.softplus(x)), [0.1269280110429725, 0.31326168751822286, 0.6931471805599453, 1.3132616875182228, 2.1269280110429727], 1e-15, 'softplus');
    near(v(st.selu(x)), [-1.520166468595695, -1.1113307378125625, 0, 1.0507009873554805, 2.101401974710961], 1e-14, 'selu');
    near(v(st.erf(x)), [-0.9953222650189527, -0.8427007929497149, 0, 0.8427007929497149, 0.9953222650189527], 1e-15, 'erf');
    near(v(st.erf(st.tensor([0.5, -3, 1e-8], { dtype: 'float64' }))), [0.5204998778130465, -0.9999779095030014, 1.1283791670955126e-8], 1e-16, 'erf');
    // large magnitudes stay finite and saturate
    const big = st.tensor([-1000, 1000], { dtype: 'float32' });
    assert.deepEqual(v(st.sigmoid(big)), [0, 1]);
    assert.deepEqual(v(st.softplus(big)), [0, 1000]);
    assert.deepEqual(v(st.tanh(big)), [-1, 1]);
  });
});

/** Inputs for a binary op so that the result is defined (int pow: exponent >= 0; int mod: divisor != 0). */
function binaryInputs(rng: Rng, op: R.BinaryOp, sa: number[], da: DType, sb: number[], db: DType): [Ref, Ref] {
  const up = R.UPCAST[da][db];
  const intCompute = up === 'int32';
  let a: Ref;
  let b: Ref;
  if (op === 'pow' && intCompute) {
    a = R.randomRef(rng, sa, da, { ilo: -6, ihi: 6 });
    b = R.randomRef(rng, sb, db, { ilo: 0, ihi: 5 });
  } else {
    const special = R.BINARY_KIND[op] === 'arith' || R.BINARY_KIND[op] === 'div' ? 0.12 : 0.2;
    a = R.randomRef(rng, sa, da, { special });
    b = R.randomRef(rng, sb, db, { special });
  }
  if (op === 'mod') {
    // int divisors must not be 0; an infinite float divisor is left out (implementations differ)
    b.data = b.data.map((v) => (intCompute && v === 0 ? (db === 'bool' ? 1 : 3) : Number.isFinite(v) || Number.isNaN(v) ? v : 2));
    if (intCompute && db === 'bool') b.data = b.data.map(() => 1);
  }
  if (R.BINARY_KIND[op] === 'compare' || op === 'maximum' || op === 'minimum') {
    // make ties common: draw some b values from a
    if (a.data.length && da === db) b.data = b.data.map((v) => (rng.next() < 0.3 ? rng.pick(a.data) : v));
  }
  return [a, b];
}

function binTol(op: R.BinaryOp, d: DType): Tol {
  if (op === 'mod') return d === 'float32' ? { atol: 1e-5 } : d === 'float64' ? { atol: 1e-13 } : {};
  return {};
}

describe('elementwise: binary ops', () => {
  it('every exported binary op has a reference implementation', () => {
    assert.ok(BINARY_OPS.length >= 16, `only ${BINARY_OPS.length} binary exports found: ${BINARY_OPS}`);
    assert.deepEqual(BINARY_OPS.filter((op) => !Object.prototype.hasOwnProperty.call(R.BINARY_KIND, op)), [], 'exported binary ops the reference lacks');
  });

  for (const op of BINARY_OPS) {
    it(`${op}: all 16 dtype pairs with broadcasting, 0-d and empty shapes`, () => {
      const rng = new Rng(1000 + op.length * 31 + op.charCodeAt(1));
      const fixed: [number[], number[]][] = [
        [[], []],
        [[], [2, 3]],
        [[3, 1], [1, 4]],
        [[0, 3], [3]],
        [[2, 0, 1], [1, 5]],
        [[4], [2, 3, 4]],
      ];
      for (const da of DTYPES) {
        for (const db of DTYPES) {
          const pairs = [...fixed, R.broadcastPair(rng), R.broadcastPair(rng)];
          for (const [sa, sb] of pairs) {
            const [a, b] = binaryInputs(rng, op, sa, da, sb, db);
            const expected = R.binary(op, a, b);
            const got = stBinary(op)(toSt(a), toSt(b));
            expectTensor(got, expected, `${op}(${da} [${sa}], ${db} [${sb}])`, binTol(op, expected.dtype));
          }
        }
      }
    });
  }

  it('result dtypes follow the table for every pair', () => {
    for (const op of BINARY_OPS) {
      for (const da of DTYPES) {
        for (const db of DTYPES) {
          const got = stBinary(op)(st.ones([1], da), st.ones([1], db));
          assert.equal(got.dtype, R.binaryDtype(op, da, db), `${op}(${da}, ${db})`);
        }
      }
    }
    // the table itself, independently of the code above
    assert.equal(R.binaryDtype('add', 'bool', 'bool'), 'int32');
    assert.equal(R.binaryDtype('add', 'int32', 'float32'), 'float32');
    assert.equal(R.binaryDtype('mul', 'float32', 'float64'), 'float64');
    assert.equal(R.binaryDtype('div', 'int32', 'int32'), 'float32');
    assert.equal(R.binaryDtype('div', 'int32', 'float64'), 'float64');
    assert.equal(R.binaryDtype('less', 'float64', 'int32'), 'bool');
  });

  it('plain numbers are weak: they take the dtype of the tensor they meet', () => {
    const rng = new Rng(5);
    const ops: R.BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'less', 'equal', 'logicalAnd'];
    for (const op of ops) {
      for (const d of DTYPES) {
        for (const num of [2, -3, 0.5, 2.75]) {
          const x = R.randomRef(rng, [2, 3], d, { ilo: 1, ihi: 5, lo: 0.5, hi: 3 });
          if (op === 'pow' && num === -3) x.data = x.data.map(() => 1); // int base with a negative exponent: only ±1 is exact
          const e1 = R.binary(op, x, num);
          expectTensor(stBinary(op)(toSt(x), num), e1, `${op}(${d}, ${num})`, binTol(op, e1.dtype));
          if (op !== 'mod') {
            const e2 = R.binary(op, num, x);
            expectTensor(stBinary(op)(num, toSt(x)), e2, `${op}(${num}, ${d})`, binTol(op, e2.dtype));
          }
        }
      }
    }
    // the weak rule spelled out
    assert.equal(st.add(st.ones([2], 'int32'), 2).dtype, 'int32');
    assert.equal(st.add(st.ones([2], 'int32'), 2.5).dtype, 'float32');
    assert.equal(st.add(st.ones([2], 'float64'), 2.5).dtype, 'float64');
    assert.equal(st.mul(st.ones([2], 'bool'), 3).dtype, 'int32');
    assert.equal(st.add(1, 2).dtype, 'float32');
    assert.deepEqual(Array.from(st.add(st.tensor([1, 2], { dtype: 'int32' }), 2.5).dataSync()), [3.5, 4.5]);
    assert.equal(st.add(2, 3).item(), 5);
    assert.equal(st.less(2, 3).item(), true);
    assert.equal(st.add(st.ones([2], 'int32'), true).dtype, 'int32');
    // non-finite numbers are not integers: they make int tensors float32
    expectTensor(st.add(st.tensor([1, 2], { dtype: 'int32' }), Infinity), R.make([2], 'float32', [Infinity, Infinity]), 'int32 + Infinity');
    expectTensor(st.mul(st.tensor([1, 2], { dtype: 'int32' }), NaN), R.make([2], 'float32', [NaN, NaN]), 'int32 * NaN');
    expectTensor(st.maximum(st.tensor([1, -2], { dtype: 'float64' }), -Infinity), R.make([2], 'float64', [1, -2]), 'maximum with -Infinity');
  });

  it('nested arrays and booleans are accepted as operands', () => {
    expectTensor(st.add([1, 2, 3], [[10], [20]]), R.make([2, 3], 'float32', [11, 12, 13, 21, 22, 23]), 'add(nested)');
    expectTensor(st.logicalOr([true, false, false], [false, false, true]), R.make([3], 'bool', [1, 0, 1]), 'logicalOr');
    expectTensor(st.mul(new Int32Array([1, 2, 3]), 2), R.make([3], 'int32', [2, 4, 6]), 'mul(Int32Array, 2)');
  });

  it('int32 arithmetic wraps like int32 and mod takes the sign of the divisor', () => {
    const i32 = (xs: number[]) => st.tensor(xs, { dtype: 'int32' });
    assert.deepEqual(Array.from(st.add(i32([2147483647]), i32([1])).dataSync()), [-2147483648]);
    assert.deepEqual(Array.from(st.mul(i32([65536]), i32([65536])).dataSync()), [0]);
    assert.deepEqual(Array.from(st.sub(i32([-2147483648]), i32([1])).dataSync()), [2147483647]);
    assert.deepEqual(Array.from(st.mod(i32([7, -7, 7, -7, 6]), i32([3, 3, -3, -3, 3])).dataSync()), [1, 2, -2, -1, 0]);
    const fm = st.mod(st.tensor([7.5, -7.5, 7.5, -7.5], { dtype: 'float64' }), st.tensor([2, 2, -2, -2], { dtype: 'float64' }));
    assert.deepEqual(Array.from(fm.dataSync()), [1.5, 0.5, -0.5, -1.5]);
    assert.deepEqual(Array.from(st.pow(i32([2, 3, -2, 5]), i32([10, 3, 3, 0])).dataSync()), [1024, 27, -8, 1]);
    assert.deepEqual(Array.from(st.div(i32([7, -7, 1]), i32([2, 2, 0])).dataSync()), [3.5, -3.5, Infinity]);
  });

  it('maximum/minimum propagate NaN, like numpy', () => {
    for (const d of ['float32', 'float64'] as DType[]) {
      const a = st.tensor([NaN, 1, NaN, -Infinity], { dtype: d });
      const b = st.tensor([1, NaN, NaN, 2], { dtype: d });
      const mx = Array.from(st.maximum(a, b).dataSync());
      const mn = Array.from(st.minimum(a, b).dataSync());
      assert.ok(mx.slice(0, 3).every(Number.isNaN), `maximum ${d}: ${mx}`);
      assert.ok(mn.slice(0, 3).every(Number.isNaN), `minimum ${d}: ${mn}`);
      assert.equal(mx[3], 2);
      assert.equal(mn[3], -Infinity);
    }
  });

  it('pow follows C for the special cases', () => {
    const xs = [1, 1, -1, -1, 0, -0, 0, 2, 0.5, NaN, -8];
    const ys = [NaN, Infinity, Infinity, -Infinity, -1, -1, 0, -Infinity, -Infinity, 0, 1 / 3];
    const want = [1, 1, 1, 1, Infinity, -Infinity, 1, 0, Infinity, 1, NaN];
    for (const d of ['float32', 'float64'] as DType[]) {
      const got = st.pow(st.tensor(xs, { dtype: d }), st.tensor(ys, { dtype: d })).dataSync();
      want.forEach((w, i) => assert.ok(valueClose(got[i], w, d), `pow(${xs[i]}, ${ys[i]}) ${d}: got ${got[i]}, expected ${w}`));
    }
  });

  it('comparisons treat NaN as unordered', () => {
    const a = st.tensor([NaN, NaN, 1], { dtype: 'float64' });
    const b = st.tensor([NaN, 1, 1], { dtype: 'float64' });
    assert.deepEqual(st.equal(a, b).arraySync(), [false, false, true]);
    assert.deepEqual(st.notEqual(a, b).arraySync(), [true, true, false]);
    assert.deepEqual(st.less(a, b).arraySync(), [false, false, false]);
    assert.deepEqual(st.greaterEqual(a, b).arraySync(), [false, false, true]);
    // NaN is a nonzero value for the logical ops
    assert.deepEqual(st.logicalAnd(a, b).arraySync(), [true, true, true]);
    assert.deepEqual(st.logicalNot(st.tensor([NaN, 0, -0, 2])).arraySync(), [false, true, true, false]);
  });

  it('incompatible shapes throw a shape error naming the op and both shapes', () => {
    for (const op of BINARY_OPS) {
      let err: unknown;
      try {
        stBinary(op)(st.ones([2, 3]), st.ones([4, 3]));
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof st.SymtensorError, `${op}: expected a SymtensorError`);
      assert.equal((err as st.SymtensorError).code, 'ERR_ST_SHAPE');
      assert.match((err as Error).message, new RegExp(`^${op}:`));
      assert.ok((err as Error).message.includes('[2,3]') && (err as Error).message.includes('[4,3]'), (err as Error).message);
    }
  });
});

describe('elementwise: where, cast, clip', () => {
  it('where: every dtype triple, broadcasting, numbers', () => {
    const rng = new Rng(77);
    for (const dc of DTYPES) {
      for (const da of DTYPES) {
        for (const db of DTYPES) {
          const [s1, s2] = R.broadcastPair(rng, 3);
          const s3 = rng.bool() ? s1 : [];
          const c = R.randomRef(rng, s1, dc, { special: 0.2, ilo: -1, ihi: 1, lo: -1, hi: 1 });
          if (R.isFloatType(dc)) c.data = c.data.map((v) => (rng.next() < 0.3 ? 0 : v));
          const a = R.randomRef(rng, s2, da, { special: 0.1 });
          const b = R.randomRef(rng, s3, db, { special: 0.1 });
          expectTensor(st.where(toSt(c), toSt(a), toSt(b)), R.where(c, a, b), `where(${dc} [${s1}], ${da} [${s2}], ${db} [${s3}])`);
        }
        const c = R.randomRef(rng, [3, 4], dc);
        const a = R.randomRef(rng, [4], da);
        expectTensor(st.where(toSt(c), toSt(a), 7), R.where(c, a, 7), `where(${dc}, ${da}, 7)`);
        expectTensor(st.where(toSt(c), 0.5, toSt(a)), R.where(c, 0.5, a), `where(${dc}, 0.5, ${da})`);
        expectTensor(toSt(c).where(toSt(a), -1), R.where(c, a, -1), `Tensor.where(${dc}, ${da}, -1)`);
      }
    }
    assert.equal(st.where(st.tensor([true]), st.tensor([true]), st.tensor([false])).dtype, 'bool');
    // a fractional float condition is true
    assert.deepEqual(st.where(st.tensor([0.25, 0, -0.5]), st.tensor([1, 1, 1], { dtype: 'int32' }), st.tensor([2, 2, 2], { dtype: 'int32' })).arraySync(), [1, 2, 1]);
  });

  it('where passes int32 values through exactly, whatever the condition dtype', () => {
    const big = st.tensor([16777217, -16777219, 2147483647], { dtype: 'int32' });
    const other = st.tensor([0, 0, 0], { dtype: 'int32' });
    for (const cd of DTYPES) {
      const cond = st.ones([3], cd);
      const got = st.where(cond, big, other);
      assert.equal(got.dtype, 'int32');
      assert.deepEqual(Array.from(got.dataSync()), [16777217, -16777219, 2147483647], `condition ${cd}`);
    }
  });

  it('cast: every dtype pair', () => {
    const rng = new Rng(99);
    for (const from of DTYPES) {
      for (const to of DTYPES) {
        for (const shape of [[], [0, 2], [3, 5]]) {
          const x = R.randomRef(rng, shape, from, { lo: -1e3, hi: 1e3 });
          if (R.isFloatType(from) && to !== 'int32') {
            for (let i = 0; i < x.data.length; i++) if (rng.next() < 0.2) x.data[i] = rng.pick([NaN, Infinity, -Infinity, 0, -0]);
          }
          expectTensor(st.cast(toSt(x), to), R.cast(x, to), `cast ${from} [${shape}] -> ${to}`);
          expectTensor(toSt(x).cast(to), R.cast(x, to), `Tensor.cast ${from} -> ${to}`);
        }
      }
    }
  });

  it('cast: truncation toward zero, float32 rounding, bool is != 0', () => {
    assert.deepEqual(Array.from(st.cast(st.tensor([1.9, -1.9, 0.5, -0.5, 2147483520], { dtype: 'float64' }), 'int32').dataSync()), [1, -1, 0, 0, 2147483520]);
    assert.deepEqual(Array.from(st.cast(st.tensor([16777217, -16777217], { dtype: 'int32' }), 'float32').dataSync()), [16777216, -16777216]);
    assert.deepEqual(Array.from(st.cast(st.tensor([16777217, 2147483647], { dtype: 'int32' }), 'float64').dataSync()), [16777217, 2147483647]);
    assert.deepEqual(st.cast(st.tensor([0, -0, NaN, 0.1, -3]), 'bool').arraySync(), [false, false, true, true, true]);
    assert.deepEqual(Array.from(st.cast(st.tensor([true, false]), 'float64').dataSync()), [1, 0]);
    assert.deepEqual(Array.from(st.cast(st.tensor([0.1], { dtype: 'float64' }), 'float32').dataSync()), [Math.fround(0.1)]);
    // float64 values beyond float32's range overflow to infinity / underflow to zero
    assert.deepEqual(Array.from(st.cast(st.tensor([1e300, -1e300, 1e-300, 3.5e38], { dtype: 'float64' }), 'float32').dataSync()), [Infinity, -Infinity, 0, Infinity]);
  });

  it('clip: every dtype, integer and fractional bounds', () => {
    const rng = new Rng(3);
    for (const d of DTYPES) {
      for (const [lo, hi] of [[-1, 2], [-1.5, 2.5], [0, 0], [-Infinity, 1]] as [number, number][]) {
        const x = R.randomRef(rng, [4, 6], d, { special: 0 });
        if (R.isFloatType(d)) x.data[0] = Infinity, (x.data[1] = -Infinity);
        const expected = R.clip(x, lo, hi);
        const got = st.clip(toSt(x), lo, hi);
        expectTensor(got, expected, `clip(${d}, ${lo}, ${hi})`);
        expectTensor(toSt(x).clip(lo, hi), expected, `Tensor.clip(${d}, ${lo}, ${hi})`);
      }
    }
    assert.equal(st.clip(st.ones([2], 'int32'), 0, 5).dtype, 'int32');
    assert.equal(st.clip(st.ones([2], 'int32'), 0, 5.5).dtype, 'float32');
    assert.equal(st.clip(st.ones([2], 'bool'), 0, 5).dtype, 'int32');
  });

  it('isNaN / isFinite / logicalNot on every dtype', () => {
    for (const d of DTYPES) {
      const x = R.make([6], d, d === 'bool' ? [0, 1, 1, 0, 1, 0] : R.isFloatType(d) ? [NaN, Infinity, -Infinity, 0, -0, 2.5] : [0, 1, -1, 7, 0, 3]);
      for (const op of ['isNaN', 'isFinite', 'logicalNot'] as R.UnaryOp[]) expectTensor(stUnary(op)(toSt(x)), R.unary(op, x), `${op}(${d})`);
    }
    assert.deepEqual(st.isNaN(st.tensor([NaN, 1, Infinity])).arraySync(), [true, false, false]);
    assert.deepEqual(st.isFinite(st.tensor([NaN, 1, -Infinity])).arraySync(), [false, true, false]);
  });

  it('Tensor methods give the same results as the functions', () => {
    const rng = new Rng(8);
    const x = R.randomRef(rng, [3, 4], 'float64', { lo: 0.1, hi: 3 });
    const y = R.randomRef(rng, [4], 'float64', { lo: 0.1, hi: 3 });
    const tx = toSt(x);
    const ty = toSt(y);
    const methods = tx as unknown as Record<string, (...a: unknown[]) => st.Tensor>;
    for (const op of UNARY_OPS) expectTensor(methods[op].call(tx), R.unary(op, x), `Tensor.${op}`, tolFor(op, 'float64'));
    for (const op of BINARY_OPS) expectTensor(methods[op].call(tx, ty), R.binary(op, x, y), `Tensor.${op}`);
  });

  it('large broadcasts (strided inputs across threads) match the reference', () => {
    const rng = new Rng(22);
    const cases: [number[], number[]][] = [
      [[64, 1, 129], [1, 33, 129]],
      [[64, 33, 1], [129]],
      [[1], [97, 1031]],
      [[97, 1, 1031], [97, 5, 1]],
    ];
    for (const d of ['float32', 'int32'] as DType[]) {
      for (const [sa, sb] of cases) {
        const a = R.randomRef(rng, sa, d);
        const b = R.randomRef(rng, sb, d);
        expectTensor(st.sub(toSt(a), toSt(b)), R.binary('sub', a, b), `sub ${d} [${sa}] [${sb}]`);
        expectTensor(st.greater(toSt(a), toSt(b)), R.binary('greater', a, b), `greater ${d} [${sa}] [${sb}]`);
        const c = R.randomRef(rng, sb, 'bool');
        expectTensor(st.where(toSt(c), toSt(a), toSt(b)), R.where(c, a, b), `where ${d} [${sb}] [${sa}] [${sb}]`);
      }
    }
  });

  it('large tensors (multi-threaded paths) match the reference', () => {
    const rng = new Rng(21);
    for (const d of ['float32', 'float64', 'int32'] as DType[]) {
      const a = R.randomRef(rng, [301, 257], d, { lo: 0.1, hi: 4, ilo: 1, ihi: 50 });
      const b = R.randomRef(rng, [257], d, { lo: 0.1, hi: 4, ilo: 1, ihi: 50 });
      expectTensor(st.add(toSt(a), toSt(b)), R.binary('add', a, b), `add large ${d}`);
      expectTensor(st.div(toSt(a), toSt(b)), R.binary('div', a, b), `div large ${d}`);
      expectTensor(st.exp(st.neg(toSt(a))), R.unary('exp', R.unary('neg', a)), `exp(-x) large ${d}`);
      expectTensor(st.mod(toSt(a), toSt(b)), R.binary('mod', a, b), `mod large ${d}`, binTol('mod', d));
    }
  });
});

/** One unit in the last place of e, for dtype d (subnormal spacing at the bottom). */
function ulp(e: number, d: DType): number {
  const a = Math.abs(e);
  if (d === 'float32') return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
  return a < 2 ** -1022 ? 2 ** -1074 : 2 ** (Math.floor(Math.log2(a)) - 52);
}

describe('elementwise: accuracy over wide input ranges', () => {
  // x drawn log-uniformly in magnitude, so tiny, huge, overflowing and underflowing inputs all occur
  const ranges: [R.UnaryOp, (rng: Rng) => number][] = [
    ['exp', (r) => r.uniform(-104, 89)],
    ['expm1', (r) => (r.bool() ? r.uniform(-30, 89) : (r.bool() ? 1 : -1) * Math.exp(r.uniform(-69, 0)))],
    ['log', (r) => Math.exp(r.uniform(-103, 88))],
    ['log1p', (r) => (r.bool() ? Math.exp(r.uniform(-69, 88)) : -Math.exp(r.uniform(-69, -0.0001)))],
    ['sqrt', (r) => Math.exp(r.uniform(-103, 88))],
    ['rsqrt', (r) => Math.exp(r.uniform(-87, 88))],
    ['reciprocal', (r) => (r.bool() ? 1 : -1) * Math.exp(r.uniform(-85, 88))],
    ['sin', (r) => (r.bool() ? 1 : -1) * Math.exp(r.uniform(-69, 18))],
    ['cos', (r) => (r.bool() ? 1 : -1) * Math.exp(r.uniform(-69, 18))],
    ['tanh', (r) => (r.bool() ? 1 : -1) * Math.exp(r.uniform(-69, 4))],
    ['sigmoid', (r) => r.uniform(-100, 100)],
    ['gelu', (r) => r.uniform(-15, 15)],
    ['erf', (r) => (r.bool() ? 1 : -1) * Math.exp(r.uniform(-69, 2))],
    ['softplus', (r) => r.uniform(-100, 100)],
    ['selu', (r) => r.uniform(-90, 50)],
    ['elu', (r) => r.uniform(-90, 50)],
  ];
  for (const d of ['float32', 'float64'] as DType[]) {
    it(`${d}: every transcendental op stays within a few ulp`, () => {
      const rng = new Rng(d === 'float32' ? 32 : 64);
      const bad: string[] = [];
      for (const [op, draw] of ranges) {
        const x = R.make([4000], d, Array.from({ length: 4000 }, () => draw(rng)));
        const e = R.unary(op, x);
        const got = stUnary(op)(toSt(x)).dataSync();
        // the reference erf loses a few bits in double; allow that for gelu
        const maxUlp = d === 'float64' && op === 'gelu' ? 5000 : 4;
        let worst = 0;
        let where = '';
        for (let i = 0; i < got.length; i++) {
          const ev = e.data[i];
          const gv = got[i];
          if (Object.is(ev, gv) || (ev === gv) || (Number.isNaN(ev) && Number.isNaN(gv))) continue;
          const err = !Number.isFinite(ev) || !Number.isFinite(gv) ? Infinity : Math.abs(gv - ev) / ulp(ev, d);
          if (!(err <= worst)) (worst = err), (where = `x=${x.data[i]}: got ${gv}, expected ${ev}`);
        }
        if (worst > maxUlp) bad.push(`${op}: ${worst.toPrecision(3)} ulp (${where})`);
      }
      assert.deepEqual(bad, []);
    });
  }
});

describe('reference self-checks', () => {
  it('erf/erfc agree with known values', () => {
    const known: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
    ];
    for (const [x, e] of known) {
      assert.ok(Math.abs(R.erf(x) - e) < 2e-16, `erf(${x}) = ${R.erf(x)}`);
      assert.ok(Math.abs(R.erf(-x) + e) < 2e-16, `erf(-${x})`);
    }
    assert.ok(Math.abs(R.erfc(3) / 2.209049699858544e-5 - 1) < 1e-13, `erfc(3) = ${R.erfc(3)}`);
    assert.ok(Math.abs(R.erfc(5) / 1.5374597944280349e-12 - 1) < 1e-13, `erfc(5) = ${R.erfc(5)}`);
    // the ends and the middle of the range: odd, signed zero, ±1 at ±∞, slope 2/√π at 0
    assert.deepEqual([R.erf(Infinity), R.erf(-Infinity), R.erfc(Infinity), R.erfc(-Infinity)], [1, -1, 0, 2]);
    assert.ok(Object.is(R.erf(-0), -0) && Object.is(R.erf(0), 0));
    assert.ok(Number.isNaN(R.erf(NaN)));
    assert.equal(R.erf(1e-10), 1.1283791670955126e-10);
    assert.equal(R.erf(0.1), 0.1124629160182849);
  });

  it('the reference binary ops reproduce hand-computed values', () => {
    const r = R.binary('mod', R.make([4], 'int32', [-7, 7, -7, 7]), R.make([4], 'int32', [3, -3, -3, 3]));
    assert.deepEqual(r.data, [2, -2, -1, 1]);
    const w = R.binary('add', R.make([2, 1], 'float32', [1, 2]), R.make([3], 'float32', [10, 20, 30]));
    assert.deepEqual(w.shape, [2, 3]);
    assert.deepEqual(w.data, [11, 21, 31, 12, 22, 32]);
    const c = fromSt(st.tensor([1, 2]));
    assert.deepEqual(c, { shape: [2], dtype: 'float32', data: [1, 2] });
  });
});
