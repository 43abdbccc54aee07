/**
 * Datasets and file loaders that return tensors: IDX (MNIST, Fashion-MNIST), numpy's .npy, and
 * numeric CSV.  Every reader has a blocking `…Sync` twin.
 * @example
 *   const { train, test } = await st.data.loadFashionMnist({ channels: true });  // x [60000,28,28,1] float32, y [60000] int32
 */
export { parseIdx, readIdx, readIdxSync, readIdxArray, readIdxArraySync, idxToTensor } from './idx';
export type { IdxArray, IdxType, IdxTensorOptions } from './idx';
export {
  loadFashionMnist, loadFashionMnistSync, loadMnist, loadMnistSync, FASHION_MNIST_CLASSES, FASHION_MNIST_SYSTEM_DIR,
} from './datasets';
export type { ImageDataset, ImageDatasetOptions, Split } from './datasets';
export { parseNpy, encodeNpy, readNpy, readNpySync, writeNpy, writeNpySync } from './npy';
export { parseCsv, readCsv, readCsvSync } from './csv';
export type { CsvData, CsvOptions } from './csv';
export { shapes, drawShapes, SHAPES_CLASSES } from './shapes';
export type { ShapesOptions } from './shapes';
export { ArrayDataset, BatchStream, epochOrder } from './batches';
export type { BatchOptions, DataBatch } from './batches';
export { mnist, fashionMnist, MNIST_SHA256, MNIST_DEFAULT_URL } from './mnist';
export type { MnistOptions } from './mnist';
