// Activations compiled with st.fn against their published formulas, evaluated here in float64.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { ActivationFn, activationName, activations, getActivation } from '../../lib/models/activations';
import { expectError } from '../support/check';
import { f64 as values } from '../support/fd';
import { erf } from '../support/erf';

const { T } = st;

// negatives, zero, tiny values, the kinks of relu6 / hard sigmoid, and large magnitudes
const POINTS = [-50, -20, -10, -6, -3.5, -3, -2, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 2, 3, 3.5, 6, 10, 20, 50];

// SELU's constants (Klambauer et al. 2017)
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const relu6 = (x: number) => Math.min(Math.max(x, 0), 6);
const hardSigmoid = (x: number) => relu6(x + 3) / 6;

/** Each elementwise activation by Keras name, with its formula. */
const FORMULAS: [string, (x: number) => number][] = [
  ['linear', (x) => x],
  ['relu', (x) => Math.max(x, 0)],
  ['relu6', relu6],
  ['leaky_relu', (x) => (x > 0 ? x : 0.2 * x)],
  ['elu', (x) => (x > 0 ? x : Math.expm1(x))],
  ['selu', (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x))],
  ['gelu', (x) => 0.5 * x * (1 + erf(x / Math.SQRT2))],
  ['sigmoid', sigmoid],
  ['hard_sigmoid', hardSigmoid],
  ['tanh', Math.tanh],
  ['softplus', softplus],
  ['softsign', (x) => x / (1 + Math.abs(x))],
  ['silu', (x) => x * sigmoid(x)],
  ['swish', (x) => x * sigmoid(x)],
  ['hard_silu', (x) => x * hardSigmoid(x)],
  ['mish', (x) => x * Math.tanh(softplus(x))],
  ['exponential', Math.exp],
];

function run(fn: ActivationFn, input: Float64Array | Float32Array, shape: number[], dtype: 'float32' | 'float64'): st.Tensor {
  const x = T.tensor(dtype, shape, 'x');
  const y = fn(x);
  assert.equal(y.dtype, dtype);
  return st.fn([x], y).sync(st.tensor(input, { shape, dtype })) as st.Tensor;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, inputs: ArrayLike<number>, what: string, rtol: number, atol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]), `${what}(${inputs[i]}): got ${actual[i]}, expected ${expected[i]}`);
}

/** Softmax rows of an r×c matrix, max-shifted, in float64. */
function softmaxRows(v: ArrayLike<number>, r: number, c: number, log: boolean): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, v[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(v[i * c + j] - m);
    for (let j = 0; j < c; j++) out[i * c + j] = log ? v[i * c + j] - m - Math.log(s) : Math.exp(v[i * c + j] - m) / s;
  }
  return out;
}

describe('models: activations', () => {
  for (const [name, formula] of FORMULAS) {
    it(`${name} matches its formula (float64, then float32)`, () => {
      const fn = getActivation(name);
      const x64 = Float64Array.from(POINTS);
      close(values(run(fn, x64, [POINTS.length], 'float64')), Array.from(x64, formula), x64, name, 1e-11, 1e-14);
      const x32 = Float32Array.from(POINTS);
      close(values(run(fn, x32, [POINTS.length], 'float32')), Array.from(x32, formula), x32, `${name} float32`, 1e-5, 1e-6);
    });
  }

  it('leakyRelu and elu take their parameter when called directly', () => {
    const x64 = Float64Array.from(POINTS);
    const lr = (x: st.Variable) => activations.leakyRelu(x, 0.05);
    close(values(run(lr, x64, [POINTS.length], 'float64')), Array.from(x64, (x) => (x > 0 ? x : 0.05 * x)), x64, 'leakyRelu(0.05)', 1e-12, 0);
    const elu = (x: st.Variable) => activations.elu(x, 0.5);
    close(values(run(elu, x64, [POINTS.length], 'float64')), Array.from(x64, (x) => (x > 0 ? x : 0.5 * Math.expm1(x))), x64, 'elu(0.5)', 1e-12, 1e-300);
  });

  for (const [name, log] of [['softmax', false], ['log_softmax', true]] as const) {
    it(`${name} normalizes over the last axis`, () => {
      const r = 3, c = 7;
      const v = Float64Array.from({ length: r * c }, (_, i) => POINTS[i % POINTS.length] * (i % 2 ? 1 : 0.3));
      const fn = getActivation(name);
      close(values(run(fn, v, [r, c], 'float64')), softmaxRows(v, r, c, log), v, name, 1e-11, 1e-14);
      const v32 = Float32Array.from(v);
      close(values(run(fn, v32, [r, c], 'float32')), softmaxRows(v32, r, c, log), v32, `${name} float32`, 1e-5, 1e-6);
    });
  }

  it('resolves camelCase, snake_case and Keras class-like names; null means linear', () => {
    assert.equal(getActivation('leakyRelu'), activations.leakyRelu);
    assert.equal(getActivation('leaky_relu'), activations.leakyRelu);
    assert.equal(getActivation('LeakyReLU'), activations.leakyRelu);
    assert.equal(getActivation('hard_sigmoid'), activations.hardSigmoid);
    assert.equal(getActivation('swish'), activations.silu);
    assert.equal(getActivation('hard_swish'), activations.hardSilu);
    assert.equal(getActivation(null), activations.linear);
    assert.equal(getActivation(undefined), activations.linear);
    const own = (x: st.Variable) => T.mul(x, 2);
    assert.equal(getActivation(own), own);
    const x = T.dvector('x');
    assert.equal(getActivation(null)(x), x);
  });

  it('activationName gives the canonical name of built-ins and refuses functions of the user', () => {
    assert.equal(activationName(getActivation('leaky_relu')), 'leakyRelu');
    assert.equal(activationName(getActivation('swish')), 'silu');
    assert.equal(activationName(getActivation('hard_sigmoid')), 'hardSigmoid');
    assert.equal(activationName(getActivation(null)), 'linear');
    for (const name of Object.keys(activations)) assert.equal(getActivation(activationName(getActivation(name))), getActivation(name), name);
    expectError(() => activationName(function double(x: st.Variable) { return T.mul(x, 2); }), 'ERR_ST_ARG', ['activationName', 'double', 'built-in']);
  });

  it('unknown names are errors listing the valid ones', () => {
    expectError(() => getActivation('relu7'), 'ERR_ST_ARG', ['getActivation', '"relu7"', 'relu', 'leakyRelu', 'gelu', 'softmax', 'mish']);
    expectError(() => getActivation(3 as never), 'ERR_ST_ARG', ['getActivation', '3']);
  });
});
