/**
 * The datasets namespace (`st.datasets`): ready-made datasets as train/test tensors.
 * @example
 *   const { train, test } = st.datasets.shapes();                       // generated, no files
 *   const fashion = await st.datasets.fashionMnist({ channels: true });  // Debian's copy by default
 *   const digits = await st.datasets.mnist({ download: true });         // fetched once, sha256-checked
 */
export { shapes, SHAPES_CLASSES } from './shapes';
export { mnist, fashionMnist } from './mnist';
