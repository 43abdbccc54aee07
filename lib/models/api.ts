// The public namespaces of the model layer (st.optimizers, st.losses …): each holds its module's
// camelCase factories (st.optimizers.adam({...})) next to its classes and resolvers
// (st.optimizers.Adam, st.optimizers.getOptimizer).
import * as activationsModule from './activations';
import * as callbacksModule from './callbacks';
import * as constraintsModule from './constraints';
import * as initializersModule from './initializers';
import * as lossesModule from './losses';
import * as metricsModule from './metrics';
import * as optimizersModule from './optimizers';
import * as regularizersModule from './regularizers';
import * as schedulesModule from './schedules';

function merge<M extends object, F extends object>(mod: M, factories: F): Readonly<Omit<M, 'default'> & F> {
  return Object.freeze({ ...mod, ...factories });
}

const { optimizers: optimizerFactories, ...optimizerRest } = optimizersModule;
/**
 * `st.optimizers`: the optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion) as
 * classes and as camelCase factories, and `getOptimizer` to resolve a name or a saved config.
 * @example model.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-3 }), loss: 'mse' })
 * @namespace
 */
export const optimizers = merge(optimizerRest, optimizerFactories);
const { schedules: scheduleFactories, ...scheduleRest } = schedulesModule;
/**
 * `st.schedules`: learning-rate schedules (exponential, cosine, piecewise-constant and polynomial decay),
 * given to an optimizer's `learningRate` in place of a number.
 * @example st.optimizers.sgd({ learningRate: st.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.9 }) })
 * @namespace
 */
export const schedules = merge(scheduleRest, scheduleFactories);
const { losses: lossFactories, ...lossRest } = lossesModule;
/**
 * `st.losses`: the loss classes, their camelCase factories (and Keras's short aliases such as `mse`)
 * and `getLoss` to resolve a name, a function or a saved config.
 * @example model.compile({ optimizer: 'adam', loss: st.losses.sparseCategoricalCrossentropy({ fromLogits: true }) })
 * @namespace
 */
export const losses = merge(lossRest, lossFactories);
const { metrics: metricFactories, ...metricRest } = metricsModule;
/**
 * `st.metrics`: the metric classes (stateful, reset per epoch), their camelCase factories and `getMetric`.
 * @example model.compile({ optimizer: 'adam', loss: 'mse', metrics: [st.metrics.meanAbsoluteError()] })
 * @namespace
 */
export const metrics = merge(metricRest, metricFactories);
const { callbacks: callbackFactories, ...callbackRest } = callbacksModule;
/**
 * `st.callbacks`: training callbacks (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, CSVLogger …) as
 * classes and camelCase factories; `Callback` is the base class for your own.
 * @example await model.fit(x, y, { epochs: 50, callbacks: [st.callbacks.earlyStopping({ patience: 3 })] })
 * @namespace
 */
export const callbacks = merge(callbackRest, callbackFactories);
const { initializers: initializerFactories, ...initializerRest } = initializersModule;
/**
 * `st.initializers`: weight initializers (zeros, ones, glorotUniform, heNormal, orthogonal …) as classes and
 * camelCase factories, and `getInitializer` to resolve a name or a saved config.
 * @example st.layers.dense({ units: 10, kernelInitializer: st.initializers.heNormal({ seed: 1 }) })
 * @namespace
 */
export const initializers = merge(initializerRest, initializerFactories);
const { regularizers: regularizerFactories, ...regularizerRest } = regularizersModule;
/**
 * `st.regularizers`: weight penalties (l1, l2, l1l2) added to the training loss.
 * @example st.layers.dense({ units: 10, kernelRegularizer: st.regularizers.l2({ l2: 1e-4 }) })
 * @namespace
 */
export const regularizers = merge(regularizerRest, regularizerFactories);
const { constraints: constraintFactories, ...constraintRest } = constraintsModule;
/**
 * `st.constraints`: projections applied to a weight after each optimizer step (maxNorm, nonNeg, unitNorm,
 * minMaxNorm).
 * @example st.layers.dense({ units: 10, kernelConstraint: st.constraints.maxNorm({ maxValue: 2 }) })
 * @namespace
 */
export const constraints = merge(constraintRest, constraintFactories);
const { activations: activationFactories, ...activationRest } = activationsModule;
/**
 * `st.activations`: the activation functions layers accept by name (`activation: 'relu'`), as symbolic
 * functions of a Variable, and `getActivation` to resolve a name.
 * @namespace
 */
export const activations = merge(activationRest, activationFactories);
