// Keras style: a small transformer encoder learns to reverse sequences of digits.
// Token + position embeddings, one encoder block (multi-head self-attention and a feed-forward
// net, each with a residual connection and layer normalization), a softmax over the digits at
// every position.  Run: npx tsx examples/transformer-reverse.ts     (EPOCHS=n to change)
import * as st from 'symtensor';

type KT = st.KerasTensor;
const LENGTH = 8; // digits per sequence
const VOCAB = 10;
const WIDTH = 32;

/** n random digit sequences and their reversals, as int32 tensors [n, LENGTH]. */
function makeData(n: number, seed: number) {
  let s = seed >>> 0;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const seq = Array.from({ length: LENGTH }, () => Math.floor(random() * VOCAB));
    x.push(...seq);
    y.push(...seq.slice().reverse());
  }
  const shape = [n, LENGTH];
  return { x: st.tensor(x, { shape, dtype: 'int32' }), y: st.tensor(y, { shape, dtype: 'int32' }), labels: y };
}

/** A transformer encoder block (post-norm, as in "Attention Is All You Need"). */
function encoderBlock(x: KT, opts: { numHeads: number; ffDim: number }): KT {
  const width = x.shape[x.shape.length - 1] as number;
  const attended = st.layers.multiHeadAttention({ numHeads: opts.numHeads, keyDim: width / opts.numHeads }).apply([x, x]) as KT;
  x = st.layers.layerNormalization().apply(st.layers.add().apply([x, attended]) as KT) as KT;
  const hidden = st.layers.dense({ units: opts.ffDim, activation: 'relu' }).apply(x) as KT;
  const ff = st.layers.dense({ units: width }).apply(hidden) as KT;
  return st.layers.layerNormalization().apply(st.layers.add().apply([x, ff]) as KT) as KT;
}

async function main() {
  st.setRandomSeed(1);
  const tokens = st.input({ shape: [LENGTH], dtype: 'int32' });
  const embedded = st.layers.positionalEmbedding({ sequenceLength: LENGTH, inputDim: VOCAB, outputDim: WIDTH }).apply(tokens) as KT;
  const encoded = encoderBlock(embedded, { numHeads: 4, ffDim: 2 * WIDTH });
  const probs = st.layers.dense({ units: VOCAB, activation: 'softmax' }).apply(encoded) as KT;
  const model = st.model({ inputs: tokens, outputs: probs });
  model.compile({ optimizer: st.optimizers.adam({ learningRate: 3e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  model.summary();

  const train = makeData(2000, 11), test = makeData(500, 12);
  await model.fit(train.x, train.y, { epochs: Number(process.env.EPOCHS ?? 6), batchSize: 32 });

  // held-out token accuracy: the most likely digit at each position against the true reversal
  const p = (await model.predict(test.x)) as st.Tensor;
  const pv = p.dataSync() as Float32Array;
  const predicted = test.labels.map((_, i) => {
    let best = 0;
    for (let c = 1; c < VOCAB; c++) if (pv[i * VOCAB + c] > pv[i * VOCAB + best]) best = c;
    return best;
  });
  const correct = predicted.filter((d, i) => d === test.labels[i]).length;
  const inputs = Array.from(test.x.dataSync());
  for (let n = 0; n < 3; n++) {
    const row = (a: ArrayLike<number>) => Array.from(a).slice(n * LENGTH, (n + 1) * LENGTH).join('');
    console.log(`${row(inputs)} → ${row(predicted)}`);
  }
  console.log(`token accuracy ${((100 * correct) / predicted.length).toFixed(1)}%`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
