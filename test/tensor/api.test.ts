import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { EXPORT_KIND, REFERENCE_NAME, exportsOfKind, unclassifiedExports } from '../support/exports';

const FUNCTIONS = [
  'tensor', 'fromBuffer', 'zeros', 'ones', 'full', 'zerosLike', 'onesLike', 'arange', 'linspace', 'eye', 'randomUniform', 'randomNormal',
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'relu',
  'leakyRelu', 'elu', 'selu', 'gelu', 'softplus', 'erf', 'floor', 'ceil', 'round', 'clip', 'isNaN', 'isFinite', 'logicalNot',
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual',
  'logicalAnd', 'logicalOr', 'where', 'cast',
  'sum', 'mean', 'prod', 'max', 'min', 'argmax', 'argmin', 'variance', 'std', 'logSumExp', 'all', 'any',
  'matmul', 'dot', 'outer',
  'reshape', 'transpose', 'permute', 'expandDims', 'squeeze', 'flatten', 'slice', 'stridedSlice', 'concat', 'stack', 'split', 'tile', 'pad',
  'gather', 'oneHot', 'broadcastTo',
  'softmax', 'logSoftmax', 'conv2d', 'conv2dGradInput', 'conv2dGradFilter', 'maxPool2d', 'avgPool2d', 'maxPool2dGrad', 'avgPool2dGrad',
  'memory', 'backendInfo',
];

/**
 * Which GEMM the loaded addon must report: SYMTENSOR_EXPECT_GEMM ('openblas' or 'builtin', set by
 * CI, where OpenBLAS is installed) or else what CMake found when it configured the loaded build
 * (the CMakeCache.txt next to its Release folder); null for a prebuild with no expectation set.
 */
function expectedGemm(): { gemm: 'openblas' | 'builtin'; why: string } | null {
  const env = process.env.SYMTENSOR_EXPECT_GEMM;
  if (env) {
    assert.ok(env === 'openblas' || env === 'builtin', `SYMTENSOR_EXPECT_GEMM must be openblas or builtin, not ${env}`);
    return { gemm: env, why: `SYMTENSOR_EXPECT_GEMM=${env}` };
  }
  const report = process.report.getReport() as unknown as { sharedObjects: string[] };
  const addon = report.sharedObjects.find((f) => path.basename(f) === 'symtensor.node');
  assert.ok(addon, `no symtensor.node among the loaded shared objects`);
  const cache = path.join(path.dirname(path.dirname(fs.realpathSync(addon))), 'CMakeCache.txt');
  if (!fs.existsSync(cache)) return null;
  const text = fs.readFileSync(cache, 'utf8');
  const setting = (name: string) => new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm').exec(text)?.[1] ?? '';
  const found = setting('SYMTENSOR_NO_BLAS') !== 'ON' && !/NOTFOUND|^$/.test(setting('OPENBLAS_LIB')) && !/NOTFOUND|^$/.test(setting('OPENBLAS_INCLUDE_DIR'));
  return { gemm: found ? 'openblas' : 'builtin', why: `${cache} says OpenBLAS was ${found ? '' : 'not '}found` };
}

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

  it('every export is filed in test/support/exports.ts, and the table names nothing the package lacks', () => {
    assert.deepEqual(unclassifiedExports(st), [], 'exports with no entry in EXPORT_KIND (say which test checks them)');
    const api = st as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(EXPORT_KIND).filter((k) => !(k in api)), [], 'EXPORT_KIND entries the package does not export');
  });

  it('every exported linalg, shape and nn op has a reference implementation of the same name', () => {
    const ref = R as unknown as Record<string, unknown>;
    const ops = [...exportsOfKind(st, 'linalg'), ...exportsOfKind(st, 'shape'), ...exportsOfKind(st, 'nn')];
    assert.ok(ops.length >= 28, `only ${ops.length} linalg/shape/nn exports found`);
    assert.deepEqual(ops.filter((op) => typeof ref[REFERENCE_NAME[op] ?? op] !== 'function'), [], 'exported ops the reference lacks');
    const reductions = exportsOfKind(st, 'reduce');
    assert.deepEqual(reductions.filter((op) => !(op in R.REDUCE_DTYPE)), [], 'exported reductions the reference lacks');
  });

  it('backendInfo describes the native backend', () => {
    const info = st.backendInfo();
    assert.equal(typeof info.gemm, 'string');
    assert.ok(Number.isInteger(info.threads) && info.threads >= 1);
    assert.equal(typeof info.simd, 'string');
    assert.ok(info.simd.length > 0);
    assert.equal(info.cuda, false);
    assert.equal(info.version, st.version);
  });

  it('backendInfo().gemm names the GEMM the loaded build was configured with', function () {
    const expected = expectedGemm();
    if (!expected) this.skip(); // a prebuild, and no SYMTENSOR_EXPECT_GEMM: nothing says which GEMM it should have
    const gemm = st.backendInfo().gemm;
    if (expected.gemm === 'builtin') assert.equal(gemm, 'builtin', `expected the built-in GEMM (${expected.why})`);
    else assert.match(gemm, /^openblas \S/, `expected OpenBLAS (${expected.why}); a build that fell back to the built-in GEMM fails here`);
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
    // st.f(x, ...) ≡ x.f(...) for every elementwise op and reduction the package exports
    const kinds = ['unary', 'binary', 'elementwise', 'reduce', 'argReduce'] as const;
    const ops = kinds.flatMap((k) => exportsOfKind(st, k));
    assert.deepEqual(ops.filter((m) => typeof proto[m] !== 'function'), [], 'exported ops with no Tensor method');
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
