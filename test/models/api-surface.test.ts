// The public namespaces (st.losses, st.metrics, st.optimizers …) hold exactly what a user should
// call: Keras's classes, camelCase factories and resolvers, and none of the helpers their modules
// export for the library's own use.  The expected names are written out here, so that a helper
// that starts leaking (or a public name that disappears) fails this test by name.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

/** Names in `actual` but not `expected` (leaks) and the reverse (missing), for a readable failure. */
function diff(actual: string[], expected: string[]): { leaked: string[]; missing: string[] } {
  return { leaked: actual.filter((k) => !expected.includes(k)).sort(), missing: expected.filter((k) => !actual.includes(k)).sort() };
}

const EXPECTED: Record<string, string[]> = {
  losses: [
    'Loss', 'MeanSquaredError', 'MeanAbsoluteError', 'MeanAbsolutePercentageError', 'MeanSquaredLogarithmicError', 'Huber', 'LogCosh',
    'BinaryCrossentropy', 'CategoricalCrossentropy', 'SparseCategoricalCrossentropy', 'KLDivergence', 'Poisson', 'Hinge', 'SquaredHinge',
    'CategoricalHinge', 'CosineSimilarity', 'getLoss',
    'meanSquaredError', 'meanAbsoluteError', 'meanAbsolutePercentageError', 'meanSquaredLogarithmicError', 'huber', 'logCosh',
    'binaryCrossentropy', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'klDivergence', 'poisson', 'hinge', 'squaredHinge',
    'categoricalHinge', 'cosineSimilarity', 'mse', 'mae', 'mape', 'msle', 'kld', 'kullbackLeiblerDivergence',
  ],
  metrics: [
    'Metric', 'Mean', 'MeanMetricWrapper', 'BinaryAccuracy', 'CategoricalAccuracy', 'SparseCategoricalAccuracy', 'TopKCategoricalAccuracy',
    'SparseTopKCategoricalAccuracy', 'MeanSquaredError', 'MeanAbsoluteError', 'RootMeanSquaredError', 'Precision', 'Recall', 'AUC',
    'FBetaScore', 'F1Score', 'accuracy', 'getMetric',
    'binaryAccuracy', 'categoricalAccuracy', 'sparseCategoricalAccuracy', 'topKCategoricalAccuracy', 'sparseTopKCategoricalAccuracy',
    'precision', 'recall', 'auc', 'f1Score', 'f1', 'fbetaScore', 'meanSquaredError', 'meanAbsoluteError', 'rootMeanSquaredError', 'mse',
    'mae', 'rmse', 'mean',
  ],
  optimizers: [
    'Optimizer', 'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'Nadam', 'Lion', 'getOptimizer',
    'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'nadam', 'lion',
  ],
  schedules: [
    'LearningRateSchedule', 'ExponentialDecay', 'CosineDecay', 'PiecewiseConstantDecay', 'PolynomialDecay',
    'exponentialDecay', 'cosineDecay', 'piecewiseConstantDecay', 'polynomialDecay',
  ],
  callbacks: [
    'Callback', 'CallbackList', 'History', 'ProgbarLogger', 'EarlyStopping', 'ModelCheckpoint', 'ReduceLROnPlateau', 'LearningRateScheduler',
    'CSVLogger', 'TerminateOnNaN', 'LambdaCallback',
    'history', 'progbarLogger', 'earlyStopping', 'modelCheckpoint', 'reduceLROnPlateau', 'learningRateScheduler', 'csvLogger',
    'terminateOnNaN', 'lambdaCallback',
  ],
  initializers: [
    'Initializer', 'Zeros', 'Ones', 'Constant', 'Identity', 'RandomNormal', 'RandomUniform', 'TruncatedNormal', 'VarianceScaling',
    'GlorotUniform', 'GlorotNormal', 'HeUniform', 'HeNormal', 'LecunUniform', 'LecunNormal', 'Orthogonal', 'getInitializer',
    'zeros', 'ones', 'constant', 'identity', 'randomNormal', 'randomUniform', 'truncatedNormal', 'varianceScaling', 'glorotUniform',
    'glorotNormal', 'heUniform', 'heNormal', 'lecunUniform', 'lecunNormal', 'orthogonal',
  ],
  regularizers: ['Regularizer', 'L1', 'L2', 'L1L2', 'getRegularizer', 'l1', 'l2', 'l1l2'],
  constraints: ['Constraint', 'MaxNorm', 'MinMaxNorm', 'NonNeg', 'UnitNorm', 'getConstraint', 'maxNorm', 'minMaxNorm', 'nonNeg', 'unitNorm'],
  activations: [
    'linear', 'relu', 'relu6', 'leakyRelu', 'elu', 'selu', 'gelu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'logSoftmax', 'softplus',
    'softsign', 'silu', 'swish', 'hardSilu', 'hardSwish', 'mish', 'exponential', 'getActivation',
  ],
  datasets: ['shapes', 'SHAPES_CLASSES', 'mnist', 'fashionMnist'],
};

/** Helpers the modules behind st.losses, st.metrics, st.callbacks … export for internal use. */
const INTERNAL = [
  'EPSILON', 'dims', 'onesLike', 'nameKey', 'toSnakeCase', 'alignRanks', 'alignLabels', 'alignSparseLabels', 'meanOverSamples', 'reduceLoss',
  'sampleWeightFor', 'lossClassName', 'lossNames', 'LossFunctionWrapper', 'HOOK_NAMES', 'monitorDirection', 'pyFloat', 'computeFans',
  'scheduleFromConfig', 'activationName', 'default',
];

const isClass = (v: unknown) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));

describe('models: the public namespaces', () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`st.${name} holds exactly its public names`, () => {
      const ns = (st as unknown as Record<string, object>)[name];
      assert.ok(ns && typeof ns === 'object', `st.${name} is missing`);
      assert.deepEqual(diff(Object.keys(ns), expected), { leaked: [], missing: [] }, `st.${name}`);
      for (const k of INTERNAL) assert.ok(!(k in ns), `st.${name}.${k} is an internal helper`);
    });
  }

  it('the namespaces of the model layer are frozen, and their entries are classes, functions or (datasets) constants', () => {
    for (const name of Object.keys(EXPECTED)) {
      const ns = (st as unknown as Record<string, Record<string, unknown>>)[name];
      if (name !== 'datasets') assert.ok(Object.isFrozen(ns), `st.${name} is not frozen`);
      for (const [k, v] of Object.entries(ns)) {
        if (name === 'datasets' && k === 'SHAPES_CLASSES') assert.ok(Array.isArray(v) && v.every((c) => typeof c === 'string'), k);
        else assert.equal(typeof v, 'function', `st.${name}.${k}`);
        // Keras's naming: PascalCase for classes, camelCase for functions and factories
        if (typeof v === 'function') assert.equal(isClass(v), /^[A-Z]/.test(k), `st.${name}.${k}: class/function naming`);
      }
    }
  });

  it('the namespaces hand out the modules\' own classes and resolvers (not copies)', () => {
    const loss = st.losses.getLoss('mse');
    assert.ok(loss instanceof st.losses.MeanSquaredError && loss instanceof st.losses.Loss);
    const m = st.metrics.getMetric('mae');
    assert.ok(m instanceof st.metrics.MeanAbsoluteError && m instanceof st.metrics.Metric);
    assert.ok(st.optimizers.getOptimizer('adam') instanceof st.optimizers.Adam);
    assert.ok(st.callbacks.earlyStopping({ patience: 1 }) instanceof st.callbacks.EarlyStopping);
    assert.ok(st.initializers.heNormal() instanceof st.initializers.HeNormal);
  });

  it('st.layers: classes (Layer subclasses, KerasTensor), factories named after a class, and a few listed helpers', () => {
    // A camelCase entry without a class of the same name must be one of these, each documented for users.
    const helpers = ['input', 'registerLayer', 'sequenceMask', 'tokenMask'];
    const ns = st.layers as unknown as Record<string, unknown>;
    const classes = new Map(Object.entries(ns).filter(([, v]) => isClass(v)).map(([k]) => [k.toLowerCase(), k]));
    const bad: string[] = [];
    for (const [k, v] of Object.entries(ns)) {
      if (isClass(v)) {
        const proto = (v as { prototype: object }).prototype;
        if (!(proto instanceof st.layers.Layer) && v !== st.layers.Layer && k !== 'KerasTensor') bad.push(`${k} (a class that is not a Layer)`);
      } else if (typeof v !== 'function') bad.push(`${k} (${typeof v})`);
      else if (!classes.has(k.toLowerCase()) && !helpers.includes(k)) bad.push(`${k} (no class ${k[0].toUpperCase()}${k.slice(1)})`);
    }
    assert.deepEqual(bad, []);
    for (const k of ['dense', 'Dense', 'conv2d', 'lstm', 'Layer', 'registerLayer', 'input']) assert.ok(k in ns, `st.layers.${k}`);
    for (const k of INTERNAL) assert.ok(!(k in ns), `st.layers.${k}`);
  });
});
