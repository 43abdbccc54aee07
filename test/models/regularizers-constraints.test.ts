// Regularizers and constraints compiled with st.fn, against Keras's formulas evaluated here in
// float64 with plain loops (norms included).
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Constraint, MaxNorm, constraints, getConstraint } from '../../lib/models/constraints';
import { L1L2, L2, Regularizer, getRegularizer, regularizers } from '../../lib/models/regularizers';
import { expectError } from '../support/check';
import { f64 as values } from '../support/fd';
import { size as prod } from '../support/models';

const { T } = st;

/** Deterministic test data with both signs, some zeros and a spread of magnitudes. */
function sample(n: number, salt: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = i % 7 === 3 ? 0 : Math.sin(1.7 * i + salt) * (1 + (i % 5));
  return v;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-12, atol = 1e-15): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]), `${what}: [${i}] got ${actual[i]}, expected ${expected[i]}`);
}

/** The penalty compiled for a float64 input of `shape`, evaluated on w. */
function penaltyOf(reg: Regularizer, w: Float64Array, shape: number[]): number {
  const x = T.tensor('float64', shape, 'w');
  const pen = reg.call(x);
  assert.equal(pen.dtype, 'float64');
  // a penalty whose factors are all 0 is a constant, which does not read the weight
  const out = st.fn([x], pen, { onUnusedInput: 'ignore' }).sync(st.tensor(w, { shape, dtype: 'float64' })) as st.Tensor;
  assert.deepEqual(out.shape, [], 'the penalty is a scalar');
  return values(out)[0];
}

/** The constraint compiled for a float64 input of `shape`, applied to w. */
function project(c: Constraint, w: Float64Array, shape: number[]): Float64Array {
  const x = T.tensor('float64', shape, 'w');
  const out = st.fn([x], c.call(x)).sync(st.tensor(w, { shape, dtype: 'float64' })) as st.Tensor;
  assert.deepEqual(out.shape, shape);
  return values(out);
}

/**
 * For each slice over `axes` (the other axes fixed), its L2 norm, indexed by flat element: plain
 * loops over the row-major layout.
 */
function sliceNorms(w: Float64Array, shape: number[], axes: number[]): Float64Array {
  const key = (flat: number) => {
    let rest = flat, k = '';
    for (let d = shape.length - 1; d >= 0; d--) {
      const i = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      if (!axes.includes(d)) k = `${i},${k}`;
    }
    return k;
  };
  const sums = new Map<string, number>();
  for (let f = 0; f < w.length; f++) sums.set(key(f), (sums.get(key(f)) ?? 0) + w[f] * w[f]);
  return Float64Array.from(w, (_, f) => Math.sqrt(sums.get(key(f))!));
}

const EPS = 1e-7;

describe('models: regularizers', () => {
  const shape = [4, 6];
  const w = sample(24, 0.3);
  let sumAbs = 0, sumSq = 0;
  for (const x of w) (sumAbs += Math.abs(x)), (sumSq += x * x);

  it('l1: l1 · Σ|w| (default 0.01)', () => {
    close([penaltyOf(regularizers.l1(), w, shape)], [0.01 * sumAbs], 'l1 default');
    close([penaltyOf(regularizers.l1({ l1: 0.3 }), w, shape)], [0.3 * sumAbs], 'l1 0.3');
  });
  it('l2: l2 · Σw² (default 0.01)', () => {
    close([penaltyOf(regularizers.l2(), w, shape)], [0.01 * sumSq], 'l2 default');
    close([penaltyOf(regularizers.l2({ l2: 2 }), w, [2, 3, 4])], [2 * sumSq], 'l2 rank 3');
  });
  it('l1l2: both terms; Keras 3 defaults are 0 for both', () => {
    close([penaltyOf(regularizers.l1l2({ l1: 0.1, l2: 0.2 }), w, shape)], [0.1 * sumAbs + 0.2 * sumSq], 'l1l2');
    close([penaltyOf(regularizers.l1l2({ l2: 0.5 }), w, shape)], [0.5 * sumSq], 'l1l2 l2 only');
    assert.deepEqual(regularizers.l1l2().getConfig(), { className: 'L1L2', config: { l1: 0, l2: 0 } });
    assert.equal(penaltyOf(regularizers.l1l2(), w, shape), 0);
  });
  it('the penalty keeps a float32 weight float32 and works on a shared variable', () => {
    const v = st.shared(st.tensor(Float32Array.from(w), { shape }), 'kernel');
    const pen = regularizers.l2({ l2: 0.25 }).call(v);
    assert.equal(pen.dtype, 'float32');
    const out = st.fn([], pen).sync() as st.Tensor;
    let expected = 0;
    for (const x of Float32Array.from(w)) expected += x * x;
    close(values(out), [0.25 * expected], 'float32 shared', 1e-6);
  });
  it('names, configs and errors', () => {
    assert.ok(getRegularizer('l2') instanceof L2);
    for (const name of ['l1l2', 'l1_l2', 'L1L2']) assert.ok(getRegularizer(name) instanceof L1L2, name);
    const r = getRegularizer({ className: 'L1L2', config: { l1: 0.5, l2: 0.25 } });
    assert.deepEqual(r.getConfig(), { className: 'L1L2', config: { l1: 0.5, l2: 0.25 } });
    assert.deepEqual(getRegularizer(regularizers.l1().getConfig()).getConfig(), { className: 'L1', config: { l1: 0.01 } });
    expectError(() => getRegularizer('l3'), 'ERR_ST_ARG', ['getRegularizer', '"l3"', 'l1', 'l2', 'l1l2']);
    expectError(() => regularizers.l2({ l2: -1 }), 'ERR_ST_ARG', ['L2', 'l2', '-1']);
    expectError(() => regularizers.l1({ l2: 1 } as never), 'ERR_ST_ARG', ['L1', '"l2"']);
    expectError(() => regularizers.l1().call(st.tensor([1]) as never), 'ERR_ST_ARG', ['L1', 'Variable']);
    expectError(() => regularizers.l1().call(T.ivector('idx')), 'ERR_ST_DTYPE', ['L1', 'idx', 'int32']);
  });
});

describe('models: constraints', () => {
  const shape = [5, 4];
  const w = sample(20, 1.1);
  // a column of tiny entries makes the 1e-7 epsilon visible
  for (let i = 0; i < 5; i++) w[i * 4 + 2] = 2e-7 * (i - 2);

  it('maxNorm: w · clip(norm, 0, maxValue) / (eps + norm), over axis 0 by default', () => {
    const n = sliceNorms(w, shape, [0]);
    assert.ok(n.some((x) => x > 2) && n.some((x) => x < 2), 'the data has norms on both sides of maxValue');
    close(project(constraints.maxNorm(), w, shape), Float64Array.from(w, (x, i) => (x * Math.min(n[i], 2)) / (EPS + n[i])), 'maxNorm default');
    const n1 = sliceNorms(w, shape, [1]);
    close(project(constraints.maxNorm({ maxValue: 3, axis: 1 }), w, shape), Float64Array.from(w, (x, i) => (x * Math.min(n1[i], 3)) / (EPS + n1[i])), 'maxNorm axis 1');
  });

  it('maxNorm over a conv2d kernel [kh, kw, cin, cout] with axis [0, 1, 2]', () => {
    const cshape = [2, 2, 3, 4];
    const k = sample(prod(cshape), 2.5);
    const n = sliceNorms(k, cshape, [0, 1, 2]);
    const out = project(constraints.maxNorm({ maxValue: 4, axis: [0, 1, 2] }), k, cshape);
    close(out, Float64Array.from(k, (x, i) => (x * Math.min(n[i], 4)) / (EPS + n[i])), 'maxNorm conv');
    const after = sliceNorms(out, cshape, [0, 1, 2]);
    assert.ok(after.every((x) => x <= 4 + 1e-9), 'every filter norm is at most maxValue');
  });

  it('nonNeg: negatives become 0, the rest unchanged', () => {
    close(project(constraints.nonNeg(), w, shape), Float64Array.from(w, (x) => (x >= 0 ? x : 0)), 'nonNeg');
  });

  it('unitNorm: w / (eps + norm)', () => {
    const n = sliceNorms(w, shape, [0]);
    close(project(constraints.unitNorm(), w, shape), Float64Array.from(w, (x, i) => x / (EPS + n[i])), 'unitNorm');
    const n1 = sliceNorms(w, shape, [1]);
    close(project(constraints.unitNorm({ axis: -1 }), w, shape), Float64Array.from(w, (x, i) => x / (EPS + n1[i])), 'unitNorm axis -1');
  });

  it('minMaxNorm: desired = rate · clip(norm, min, max) + (1 - rate) · norm', () => {
    for (const [minValue, maxValue, rate] of [[0, 1, 1], [1.5, 3, 1], [1.5, 3, 0.25]]) {
      const n = sliceNorms(w, shape, [0]);
      const expected = Float64Array.from(w, (x, i) => {
        const desired = rate * Math.min(Math.max(n[i], minValue), maxValue) + (1 - rate) * n[i];
        return (x * desired) / (EPS + n[i]);
      });
      const c = minValue === 0 && maxValue === 1 && rate === 1 ? constraints.minMaxNorm() : constraints.minMaxNorm({ minValue, maxValue, rate });
      close(project(c, w, shape), expected, `minMaxNorm(${minValue}, ${maxValue}, ${rate})`);
    }
  });

  it('applied as the update of a shared weight, it projects the stored value', () => {
    const v = st.shared(st.tensor(w, { shape, dtype: 'float64' }), 'kernel');
    const c = constraints.maxNorm({ maxValue: 1 });
    st.fn([], [], { updates: [[v, c.call(v.mul(2))]] }).sync();
    const n = sliceNorms(w.map((x) => 2 * x), shape, [0]);
    close(values(v.get()), Float64Array.from(w, (x, i) => (2 * x * Math.min(n[i], 1)) / (EPS + n[i])), 'updated weight');
  });

  it('names, configs and errors', () => {
    for (const name of ['maxNorm', 'max_norm', 'MaxNorm']) assert.ok(getConstraint(name) instanceof MaxNorm, name);
    assert.equal(getConstraint('non_neg').className, 'NonNeg');
    assert.equal(getConstraint('unit_norm').className, 'UnitNorm');
    assert.deepEqual(getConstraint('min_max_norm').getConfig(), { className: 'MinMaxNorm', config: { minValue: 0, maxValue: 1, rate: 1, axis: 0 } });
    assert.deepEqual(constraints.maxNorm().getConfig(), { className: 'MaxNorm', config: { maxValue: 2, axis: 0 } });
    const keras = getConstraint({ className: 'MaxNorm', config: { max_value: 3, axis: [0, 1, 2] } });
    assert.deepEqual(keras.getConfig(), { className: 'MaxNorm', config: { maxValue: 3, axis: [0, 1, 2] } });
    assert.deepEqual(getConstraint(keras.getConfig()).getConfig(), keras.getConfig());
    expectError(() => getConstraint('maxnorms'), 'ERR_ST_ARG', ['getConstraint', '"maxnorms"', 'maxNorm', 'nonNeg', 'unitNorm', 'minMaxNorm']);
    expectError(() => constraints.maxNorm({ max: 2 } as never), 'ERR_ST_ARG', ['MaxNorm', '"max"', 'maxValue']);
    expectError(() => constraints.minMaxNorm({ minValue: 2, maxValue: 1 }), 'ERR_ST_ARG', ['MinMaxNorm', 'minValue 2', 'maxValue 1']);
    expectError(() => constraints.minMaxNorm({ rate: 1.5 }), 'ERR_ST_ARG', ['MinMaxNorm', 'rate', '1.5']);
    expectError(() => constraints.unitNorm({ axis: 0.5 }), 'ERR_ST_ARG', ['UnitNorm', 'axis', '0.5']);
    expectError(() => constraints.unitNorm({ axis: 2 }).call(T.dmatrix('k')), 'ERR_ST_ARG', ['UnitNorm', 'axis 2', 'rank 2']);
    expectError(() => constraints.nonNeg().call(T.ivector('idx')), 'ERR_ST_DTYPE', ['NonNeg', 'idx', 'int32']);
  });
});
