// The models, data and training loops of the fit-epoch workload (not a workload itself).
//
// Two networks trained on Fashion-MNIST's 60,000 training images with Adam (lr 1e-3, Keras's
// defaults otherwise) and sparse categorical cross-entropy of a softmax output:
//   mlp: dense 784-512-512-10 (ReLU), batch 128 (469 steps an epoch);
//   cnn: conv 3x3x32 (ReLU) - maxpool 2 - conv 3x3x64 (ReLU) - maxpool 2 - flatten - dense 128
//        (ReLU) - dense 10, batch 64 (938 steps an epoch).
// symtensor trains them two ways: `model.fit` of a Sequential model, and the same step written by
// hand (shared weights, T ops, st.grad, the Adam updates of st.optimizers.adam().getUpdates, the
// images and labels as shared variables and each batch gathered by an int32 index vector, and
// the epoch's running mean of the loss), which is what the model layer builds, so the ratio of
// the two (called the same way: `await f(...)`, as fit calls its step) is the model layer's own
// cost.
// TensorFlow.js trains the same Sequential model with its own model.fit.  The PyTorch version is
// bench/peers/torch_bench.py's fit_epoch.

import { epochOrder } from '../../data/batches';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export type Net = 'mlp' | 'cnn';

/** Training images in Fashion-MNIST. */
export const N_TRAIN = 60000;
export const BATCH: Record<Net, number> = { mlp: 128, cnn: 64 };
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
export const MLP_SIZES = [784, 512, 512, 10];
/** The CNN's layers: [kernel, channels out] of the two convolutions, then the dense widths. */
export const CNN = { conv: [[3, 32], [3, 64]] as [number, number][], dense: [128, 10] };

export const stepsPerEpoch = (net: Net) => Math.ceil(N_TRAIN / BATCH[net]);

/**
 * Floating-point operations of one training step's products (convolutions and GEMMs), from the
 * layer shapes: forward 2·(multiply-adds); the weight gradient as many; the input gradient as many
 * for every layer but the first (its input is the data).  Pooling, activations and the optimizer
 * are not counted.
 */
export function stepFlops(net: Net): number {
  const b = BATCH[net];
  const layers: number[] = []; // forward FLOPs of each layer, in order
  if (net === 'mlp') {
    MLP_SIZES.slice(1).forEach((fout, i) => layers.push(2 * b * MLP_SIZES[i] * fout));
  } else {
    let side = 28;
    let cin = 1;
    for (const [k, cout] of CNN.conv) {
      side = side - k + 1; // 'valid'
      layers.push(2 * b * side * side * cout * k * k * cin);
      side = Math.floor(side / 2); // max pool 2
      cin = cout;
    }
    let fin = side * side * cin;
    for (const fout of CNN.dense) {
      layers.push(2 * b * fin * fout);
      fin = fout;
    }
  }
  return layers.reduce((a, f, i) => a + (i === 0 ? 2 : 3) * f, 0);
}

// ---- data ----

let cache: { net: Net; data: Promise<{ x: Any; y: Any }> } | null = null;

/**
 * Fashion-MNIST's training split as symtensor tensors, [60000, 784] for the MLP or [60000, 28, 28, 1]
 * for the CNN, loaded once per layout (the previous layout's tensors are freed: cases run one after
 * another).  Rejects with st.data's message, which says where it looked, when the files are absent.
 */
export function fashionTrain(st: Any, net: Net): Promise<{ x: Any; y: Any }> {
  if (cache?.net !== net) {
    const old = cache;
    old?.data.then((d) => (d.x.dispose(), d.y.dispose()), () => {});
    const data = st.data.loadFashionMnist(net === 'mlp' ? { flatten: true } : { channels: true })
      .then((d: Any) => (d.test.x.dispose(), d.test.y.dispose(), d.train));
    cache = { net, data };
  }
  return cache!.data;
}

// ---- symtensor: model.fit ----

/** The Sequential model, compiled with Adam and sparse categorical cross-entropy. */
export function stModel(st: Any, net: Net): Any {
  const L = st.layers;
  const layers = net === 'mlp'
    ? [
      L.input({ shape: [MLP_SIZES[0]] }),
      ...MLP_SIZES.slice(1).map((units, i) => L.dense({ units, activation: i < MLP_SIZES.length - 2 ? 'relu' : 'softmax' })),
    ]
    : [
      L.input({ shape: [28, 28, 1] }),
      ...CNN.conv.flatMap(([k, filters]) => [L.conv2d({ filters, kernelSize: k, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 })]),
      L.flatten(),
      ...CNN.dense.map((units, i) => L.dense({ units, activation: i < CNN.dense.length - 1 ? 'relu' : 'softmax' })),
    ];
  const model = new st.Sequential(layers);
  model.compile({
    optimizer: st.optimizers.adam({ learningRate: ADAM.lr, beta1: ADAM.beta1, beta2: ADAM.beta2, epsilon: ADAM.epsilon }),
    loss: 'sparseCategoricalCrossentropy',
  });
  return model;
}

// ---- symtensor: the same step by hand ----

export interface StGraph {
  /**
   * Trains the first `steps` batches of a freshly shuffled epoch with `f.sync`; returns the mean
   * loss over those batches (the step's running mean, as fit's history reports it) when `readLoss`.
   */
  train(steps: number, readLoss?: boolean): number | null;
  /** The same with `await f(...)`: each step runs on a worker thread, as model.fit runs its steps. */
  trainAsync(steps: number, readLoss?: boolean): Promise<number | null>;
  /** A second compiled copy of the step with per-instruction timing (st.fn's profile option). */
  profiled(): Any;
  /** The int32 row indices of batch `s` of the current order. */
  rows(s: number): Int32Array;
  dispose(): void;
}

/** Glorot-uniform weights and zero biases, as the layers initialise theirs. */
function glorot(st: Any, shape: number[], fanIn: number, fanOut: number, seed: number, name: string): Any {
  const k = Math.sqrt(6 / (fanIn + fanOut));
  const t = st.randomUniform(shape, { low: -k, high: k, seed });
  const v = st.shared(t, name);
  t.dispose();
  return v;
}

/**
 * The hand-written training step: the data as shared variables, one st.fn taking the batch's row
 * indices (gathered natively from the whole data set, as fit's step gathers them), the forward
 * pass in T ops, st.grad, the optimizer's updates, and the epoch's running mean of the loss kept
 * in two shared scalars (sum of batch loss x batch size, and samples), which is the loss
 * accumulation fit's step does for its history.  Its output is that running mean.
 */
export function stGraph(st: Any, net: Net, data: { x: Any; y: Any }, seed = 1): StGraph {
  const { T } = st;
  const xs = st.shared(data.x, 'images');
  const ys = st.shared(data.y, 'labels');
  const idx = T.ivector('rows');
  const x = T.gather(xs, idx);
  const params: Any[] = [];
  const weight = (shape: number[], fanIn: number, fanOut: number, name: string) => {
    const w = glorot(st, shape, fanIn, fanOut, seed * 100 + params.length, `${name}/kernel`);
    const b = st.shared(st.zeros([shape[shape.length - 1]]), `${name}/bias`);
    params.push(w, b);
    return [w, b];
  };
  let h = x;
  if (net === 'mlp') {
    MLP_SIZES.slice(1).forEach((fout, i) => {
      const [w, b] = weight([MLP_SIZES[i], fout], MLP_SIZES[i], fout, `dense${i}`);
      h = T.dot(h, w).add(b);
      if (i < MLP_SIZES.length - 2) h = T.relu(h);
    });
  } else {
    let cin = 1;
    CNN.conv.forEach(([k, cout], i) => {
      const [w, b] = weight([k, k, cin, cout], k * k * cin, k * k * cout, `conv${i}`);
      h = T.maxPool2d(T.relu(T.conv2d(h, w).add(b)), { poolSize: 2 });
      cin = cout;
    });
    const [, side] = h.staticShape;
    let fin = side * side * cin;
    h = T.reshape(h, [-1, fin]);
    CNN.dense.forEach((fout, i) => {
      const [w, b] = weight([fin, fout], fin, fout, `dense${i}`);
      h = T.dot(h, w).add(b);
      if (i < CNN.dense.length - 1) h = T.relu(h);
      fin = fout;
    });
  }
  const loss = T.sparseCategoricalCrossentropy(T.gather(ys, idx), T.softmax(h)).mean();
  const opt = st.optimizers.adam({ learningRate: ADAM.lr, beta1: ADAM.beta1, beta2: ADAM.beta2, epsilon: ADAM.epsilon });
  // the epoch's running mean of the loss, weighted by batch size (what fit logs)
  const lossSum = st.shared(0, 'loss/sum', { dtype: 'float32' });
  const seen = st.shared(0, 'loss/samples', { dtype: 'float32' });
  const n = T.cast(idx.shape[0], 'float32');
  const newSum = lossSum.add(loss.mul(n));
  const newSeen = seen.add(n);
  const updates = [...opt.getUpdates(params, st.grad(loss, params)), [lossSum, newSum], [seen, newSeen]];
  const epochLoss = newSum.div(newSeen);
  const step = st.fn([idx], epochLoss, { updates, name: `${net}_step` });
  const batch = BATCH[net];
  let order = epochOrder(N_TRAIN, seed, 0);
  let epoch = 0;
  const rows = (s: number) => order.subarray(s * batch, Math.min(N_TRAIN, (s + 1) * batch));
  const newEpoch = () => {
    order = epochOrder(N_TRAIN, seed, ++epoch);
    lossSum.set(0);
    seen.set(0);
  };
  return {
    train(steps, readLoss = false) {
      newEpoch();
      let last: number | null = null;
      for (let s = 0; s < steps; s++) {
        const l = step.sync(rows(s));
        if (readLoss && s === steps - 1) last = l.item();
        l.dispose();
      }
      return last;
    },
    async trainAsync(steps, readLoss = false) {
      newEpoch();
      let last: number | null = null;
      for (let s = 0; s < steps; s++) {
        const l = await step(rows(s));
        if (readLoss && s === steps - 1) last = l.item();
        l.dispose();
      }
      return last;
    },
    profiled: () => st.fn([idx], epochLoss, { updates, name: `${net}_step_profiled`, profile: true }),
    rows,
    dispose() {
      step.dispose();
      for (const v of [...params, ...opt.variables(), lossSum, seen, xs, ys]) v.dispose();
    },
  };
}

// ---- TensorFlow.js ----

/** The same Sequential model in TensorFlow.js (tf.layers), compiled with tf.train.adam. */
export function tfModel(tf: Any, net: Net): Any {
  const L = tf.layers;
  const layers = net === 'mlp'
    ? MLP_SIZES.slice(1).map((units, i) => L.dense({
      units, activation: i < MLP_SIZES.length - 2 ? 'relu' : 'softmax', ...(i === 0 ? { inputShape: [MLP_SIZES[0]] } : {}),
    }))
    : [
      ...CNN.conv.flatMap(([k, filters], i) => [
        L.conv2d({ filters, kernelSize: k, activation: 'relu', ...(i === 0 ? { inputShape: [28, 28, 1] } : {}) }),
        L.maxPooling2d({ poolSize: 2 }),
      ]),
      L.flatten(),
      ...CNN.dense.map((units, i) => L.dense({ units, activation: i < CNN.dense.length - 1 ? 'relu' : 'softmax' })),
    ];
  const model = tf.sequential({ layers });
  model.compile({ optimizer: tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

/** `rows` rows of the symtensor data (a random subset, seeded) as TensorFlow.js tensors. */
export function tfSubset(tf: Any, data: { x: Any; y: Any }, rows: number, seed: number): { x: Any; y: Any } {
  const pick = epochOrder(N_TRAIN, seed, 0).subarray(0, rows);
  const per = data.x.size / N_TRAIN;
  const X = data.x.dataSync() as Float32Array;
  const Y = data.y.dataSync() as Int32Array;
  const xb = new Float32Array(rows * per);
  const yb = new Float32Array(rows);
  pick.forEach((r, i) => {
    xb.set(X.subarray(r * per, (r + 1) * per), i * per);
    yb[i] = Y[r];
  });
  return { x: tf.tensor(xb, [rows, ...data.x.shape.slice(1)]), y: tf.tensor(yb, [rows]) };
}
