import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as st from '../../lib/index';

const FUNCTIONS = [
  'tensor', 'fromBuffer', 'zeros', 'ones', 'full', 'zerosLike', 'onesLike', 'arange', 'linspace', 'eye', 'randomUniform', 'randomNormal',
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'relu',
  'leakyRelu', 'elu', 'selu', 'gelu', 'softplus', 'floor', 'ceil', 'round', 'clip', 'isNaN', 'isFinite', 'logicalNot',
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual',
  'logicalAnd', 'logicalOr', 'where', 'cast',
  'sum', 'mean', 'prod', 'max', 'min', 'argmax', 'argmin', 'variance', 'std', 'logSumExp', 'all', 'any',
  'matmul', 'dot', 'outer',
  'reshape', 'transpose', 'permute', 'expandDims', 'squeeze', 'flatten', 'slice', 'stridedSlice', 'concat', 'stack', 'split', 'tile', 'pad',
  'gather', 'oneHot', 'broadcastTo',
  'softmax', 'logSoftmax', 'conv2d', 'conv2dGradInput', 'conv2dGradFilter', 'maxPool2d', 'avgPool2d', 'maxPool2dGrad', 'avgPool2dGrad',
  'memory', 'backendInfo',
];

describe('package entry (lib/index)', () => {
  it('exports every documented function, the Tensor and SymtensorError classes and the version', () => {
    const api = st as unknown as Record<string, unknown>;
    for (const name of FUNCTIONS) assert.equal(typeof api[name], 'function', `st.${name}`);
    assert.equal(typeof st.Tensor, 'function');
    assert.equal(typeof st.SymtensorError, 'function');
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.equal(st.version, pkg.version);
    assert.match(st.version, /^\d+\.\d+\.\d+/);
  });

  it('backendInfo describes the native backend', () => {
    const info = st.backendInfo();
    assert.equal(typeof info.gemm, 'string');
    assert.ok(info.gemm === 'builtin' || info.gemm.startsWith('openblas'), info.gemm);
    assert.ok(Number.isInteger(info.threads) && info.threads >= 1);
    assert.equal(typeof info.simd, 'string');
    assert.ok(info.simd.length > 0);
    assert.equal(info.cuda, false);
    assert.equal(info.version, st.version);
  });

  it('memory() returns non-negative counts', () => {
    const m = st.memory();
    assert.ok(Number.isInteger(m.numTensors) && m.numTensors >= 0);
    assert.ok(Number.isInteger(m.numBytes) && m.numBytes >= 0);
    const t = st.zeros([1000]);
    assert.ok(st.memory().numBytes >= 4000);
    t.dispose();
  });

  it('every Tensor method mirrors an st function', () => {
    const methods = [
      'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'relu',
      'leakyRelu', 'elu', 'selu', 'gelu', 'softplus', 'floor', 'ceil', 'round', 'clip', 'isNaN', 'isFinite', 'logicalNot', 'add', 'sub', 'mul',
      'div', 'pow', 'maximum', 'minimum', 'mod', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd', 'logicalOr',
      'where', 'cast', 'sum', 'mean', 'prod', 'max', 'min', 'argmax', 'argmin', 'variance', 'std', 'logSumExp', 'all', 'any', 'matmul', 'dot',
      'outer', 'reshape', 'transpose', 'permute', 'expandDims', 'squeeze', 'flatten', 'slice', 'stridedSlice', 'split', 'tile', 'pad', 'gather',
      'oneHot', 'broadcastTo', 'softmax', 'logSoftmax', 'dispose', 'dataSync', 'data', 'arraySync', 'array', 'item', 'toString',
    ];
    const proto = st.Tensor.prototype as unknown as Record<string, unknown>;
    for (const m of methods) assert.equal(typeof proto[m], 'function', `Tensor.prototype.${m}`);
    const t = st.tensor([[1, 2], [3, 4]]);
    assert.ok(t instanceof st.Tensor);
    assert.deepEqual(t.shape, [2, 2]);
    assert.equal(t.dtype, 'float32');
    assert.equal(t.rank, 2);
    assert.equal(t.size, 4);
  });

  it('the documented example runs', () => {
    const y = st.matmul(st.randomNormal([2, 3], { seed: 1 }), st.ones([3, 4]));
    assert.deepEqual(y.shape, [2, 4]);
    const rows = y.arraySync() as number[][];
    // every column of x·ones is the row sum of x
    for (const r of rows) for (const v of r) assert.ok(Math.abs(v - r[0]) < 1e-6);
    assert.match(y.toString(), /^tensor\(\[\[/);
  });
});
