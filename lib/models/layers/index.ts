// st.layers: every built-in layer as a camelCase factory and as its class, plus the base class
// and registry for custom layers.
import { argError, fmtValue } from '../../errors';
import { INPUT_OPTIONS, InputLayer } from '../functional';
import { checkOptions } from '../options';
import type { Shape } from '../layer';
import type { DType } from '../../dtype';

export {
  Dense, Activation, Flatten, Reshape, Permute, Embedding, Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D,
  GaussianNoise, GaussianDropout, dense, activation, flatten, reshape, permute, embedding, dropout, spatialDropout1d,
  spatialDropout2d, spatialDropout3d, gaussianNoise, gaussianDropout,
} from './core';
export { Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, add, subtract, multiply, average, maximum, minimum, concatenate } from './merge';
export { BatchNormalization, LayerNormalization, batchNormalization, layerNormalization } from './normalization';
export { Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, conv1d, conv2d, conv2dTranspose, depthwiseConv2d, separableConv2d } from './conv';
export {
  MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
  GlobalMaxPooling2D, maxPooling1d, maxPooling2d, averagePooling1d, averagePooling2d, globalAveragePooling1d, globalAveragePooling2d,
  globalMaxPooling1d, globalMaxPooling2d,
} from './pooling';
export { ZeroPadding2D, UpSampling2D, zeroPadding2d, upSampling2d } from './reshaping';
export {
  Attention, MultiHeadAttention, PositionalEmbedding, SinePositionEncoding, attention, multiHeadAttention, positionalEmbedding, sinePositionEncoding,
} from './attention';
export type { AttentionArgs, MultiHeadAttentionArgs, PositionalEmbeddingArgs, SinePositionEncodingArgs } from './attention';
export {
  SimpleRNN, LSTM, GRU, RNN, SimpleRNNCell, LSTMCell, GRUCell, RecurrentCell, Masking, simpleRNN, lstm, gru, rnn, masking, sequenceMask, tokenMask,
} from './recurrent';
export type { SimpleRNNArgs, LSTMArgs, GRUArgs, RNNArgs, RNNOptions, CellLike, SimpleRNNCellArgs, LSTMCellArgs, GRUCellArgs, MaskingArgs } from './recurrent';
export { StackedRNNCells, stackedRNNCells } from './stacked-cells';
export type { StackedRNNCellsArgs } from './stacked-cells';
export { Bidirectional, TimeDistributed, bidirectional, timeDistributed } from './wrappers';
export type { BidirectionalArgs, TimeDistributedArgs, MergeMode } from './wrappers';
export { Layer, KerasTensor, registerLayer } from '../layer';
export type { CallContext, LayerArgs, Mask, Shape, WeightOptions } from '../layer';
export { InputLayer } from '../functional';

/**
 * An input layer, to start a Sequential model: `st.layers.input({ shape: [28, 28, 1] })`.
 * (For functional models use `st.input()`, which returns the placeholder to apply layers to.)
 */
export function input(args: { shape: Shape; batchSize?: number; dtype?: DType; name?: string }): InputLayer {
  if (args === null || typeof args !== 'object' || !Array.isArray(args.shape)) throw argError('layers.input', `expects { shape: [...] }, got ${fmtValue(args)}`);
  checkOptions('layers.input', args, INPUT_OPTIONS);
  return new InputLayer({ shape: args.shape, batchSize: args.batchSize, inputDtype: args.dtype, name: args.name });
}
