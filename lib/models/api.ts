// The public namespaces of the model layer (st.optimizers, st.losses …): each holds its module's
// camelCase factories (st.optimizers.adam({...})) next to its classes and resolvers
// (st.optimizers.Adam, st.optimizers.getOptimizer).  The classes and resolvers are named one by
// one: a module's other exports are helpers for the library itself, not for users
// (test/models/api-surface.test.ts holds the expected lists).
import * as activationsModule from './activations';
import * as callbacksModule from './callbacks';
import * as constraintsModule from './constraints';
import * as initializersModule from './initializers';
import * as lossesModule from './losses';
import * as metricsModule from './metrics';
import * as optimizersModule from './optimizers';
import * as regularizersModule from './regularizers';
import * as schedulesModule from './schedules';

/** A frozen namespace: the named exports of `mod` (which must all exist) and the factories. */
function merge<M extends object, K extends keyof M, F extends object>(mod: M, names: readonly K[], factories: F): Readonly<Pick<M, K> & F> {
  const picked = {} as Pick<M, K>;
  for (const k of names) {
    if (!(k in mod)) throw new Error(`models/api: the module has no export ${String(k)}`);
    picked[k] = mod[k];
  }
  return Object.freeze({ ...picked, ...factories });
}

const { optimizers: optimizerFactories, ...optimizerRest } = optimizersModule;
/**
 * `st.optimizers`: the optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion) as
 * classes and as camelCase factories, and `getOptimizer` to resolve a name or a saved config.
 * @example model.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-3 }), loss: 'mse' })
 * @namespace
 */
export const optimizers = merge(optimizerRest, ['Optimizer', 'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'Nadam', 'Lion', 'getOptimizer'] as const, optimizerFactories);
const { schedules: scheduleFactories, ...scheduleRest } = schedulesModule;
/**
 * `st.schedules`: learning-rate schedules (exponential, cosine, piecewise-constant and polynomial decay),
 * given to an optimizer's `learningRate` in place of a number.
 * @example st.optimizers.sgd({ learningRate: st.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.9 }) })
 * @namespace
 */
export const schedules = merge(scheduleRest, ['LearningRateSchedule', 'ExponentialDecay', 'CosineDecay', 'PiecewiseConstantDecay', 'PolynomialDecay'] as const, scheduleFactories);
const { losses: lossFactories, ...lossRest } = lossesModule;
/**
 * `st.losses`: the loss classes, their camelCase factories (and Keras's short aliases such as `mse`)
 * and `getLoss` to resolve a name, a function or a saved config.
 * @example model.compile({ optimizer: 'adam', loss: st.losses.sparseCategoricalCrossentropy({ fromLogits: true }) })
 * @namespace
 */
export const losses = merge(lossRest, [
  'Loss', 'MeanSquaredError', 'MeanAbsoluteError', 'MeanAbsolutePercentageError', 'MeanSquaredLogarithmicError', 'Huber',
  'LogCosh', 'BinaryCrossentropy', 'CategoricalCrossentropy', 'SparseCategoricalCrossentropy', 'KLDivergence', 'Poisson',
  'Hinge', 'SquaredHinge', 'CategoricalHinge', 'CosineSimilarity', 'getLoss',
] as const, lossFactories);
const { metrics: metricFactories, ...metricRest } = metricsModule;
/**
 * `st.metrics`: the metric classes (stateful, reset per epoch), their camelCase factories and `getMetric`.
 * @example model.compile({ optimizer: 'adam', loss: 'mse', metrics: [st.metrics.meanAbsoluteError()] })
 * @namespace
 */
export const metrics = merge(metricRest, [
  'Metric', 'Mean', 'MeanMetricWrapper', 'BinaryAccuracy', 'CategoricalAccuracy', 'SparseCategoricalAccuracy',
  'TopKCategoricalAccuracy', 'SparseTopKCategoricalAccuracy', 'MeanSquaredError', 'MeanAbsoluteError', 'RootMeanSquaredError',
  'Precision', 'Recall', 'AUC', 'FBetaScore', 'F1Score', 'accuracy', 'getMetric',
] as const, metricFactories);
const { callbacks: callbackFactories, ...callbackRest } = callbacksModule;
/**
 * `st.callbacks`: training callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, CSVLogger …) as
 * classes and camelCase factories; `Callback` is the base class for your own.
 * @example await model.fit(x, y, { epochs: 50, callbacks: [st.callbacks.earlyStopping({ patience: 3 })] })
 * @namespace
 */
export const callbacks = merge(callbackRest, [
  'Callback', 'CallbackList', 'History', 'ProgbarLogger', 'EarlyStopping', 'ModelCheckpoint', 'ReduceLROnPlateau',
  'LearningRateScheduler', 'CSVLogger', 'TerminateOnNaN', 'LambdaCallback',
] as const, callbackFactories);
const { initializers: initializerFactories, ...initializerRest } = initializersModule;
/**
 * `st.initializers`: weight initializers (zeros, ones, glorotUniform, heNormal, orthogonal …) as classes and
 * camelCase factories, and `getInitializer` to resolve a name or a saved config.
 * @example st.layers.dense({ units: 10, kernelInitializer: st.initializers.heNormal({ seed: 1 }) })
 * @namespace
 */
export const initializers = merge(initializerRest, [
  'Initializer', 'Zeros', 'Ones', 'Constant', 'Identity', 'RandomNormal', 'RandomUniform', 'TruncatedNormal', 'VarianceScaling',
  'GlorotUniform', 'GlorotNormal', 'HeUniform', 'HeNormal', 'LecunUniform', 'LecunNormal', 'Orthogonal', 'getInitializer',
] as const, initializerFactories);
const { regularizers: regularizerFactories, ...regularizerRest } = regularizersModule;
/**
 * `st.regularizers`: weight penalties (l1, l2, l1l2) added to the training loss.
 * @example st.layers.dense({ units: 10, kernelRegularizer: st.regularizers.l2({ l2: 1e-4 }) })
 * @namespace
 */
export const regularizers = merge(regularizerRest, ['Regularizer', 'L1', 'L2', 'L1L2', 'getRegularizer'] as const, regularizerFactories);
const { constraints: constraintFactories, ...constraintRest } = constraintsModule;
/**
 * `st.constraints`: projections applied to a weight after each optimizer step (maxNorm, nonNeg, unitNorm,
 * minMaxNorm).
 * @example st.layers.dense({ units: 10, kernelConstraint: st.constraints.maxNorm({ maxValue: 2 }) })
 * @namespace
 */
export const constraints = merge(constraintRest, ['Constraint', 'MaxNorm', 'MinMaxNorm', 'NonNeg', 'UnitNorm', 'getConstraint'] as const, constraintFactories);
const { activations: activationFactories, ...activationRest } = activationsModule;
/**
 * `st.activations`: the activation functions layers accept by name (`activation: 'relu'`), as symbolic
 * functions of a Variable, and `getActivation` to resolve a name.
 * @namespace
 */
export const activations = merge(activationRest, [
  'linear', 'relu', 'relu6', 'leakyRelu', 'elu', 'selu', 'gelu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'logSoftmax',
  'softplus', 'softsign', 'silu', 'hardSilu', 'mish', 'exponential', 'getActivation',
] as const, activationFactories);
