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
export const optimizers = merge(optimizerRest, optimizerFactories);
const { schedules: scheduleFactories, ...scheduleRest } = schedulesModule;
export const schedules = merge(scheduleRest, scheduleFactories);
const { losses: lossFactories, ...lossRest } = lossesModule;
export const losses = merge(lossRest, lossFactories);
const { metrics: metricFactories, ...metricRest } = metricsModule;
export const metrics = merge(metricRest, metricFactories);
const { callbacks: callbackFactories, ...callbackRest } = callbacksModule;
export const callbacks = merge(callbackRest, callbackFactories);
const { initializers: initializerFactories, ...initializerRest } = initializersModule;
export const initializers = merge(initializerRest, initializerFactories);
const { regularizers: regularizerFactories, ...regularizerRest } = regularizersModule;
export const regularizers = merge(regularizerRest, regularizerFactories);
const { constraints: constraintFactories, ...constraintRest } = constraintsModule;
export const constraints = merge(constraintRest, constraintFactories);
const { activations: activationFactories, ...activationRest } = activationsModule;
export const activations = merge(activationRest, activationFactories);
