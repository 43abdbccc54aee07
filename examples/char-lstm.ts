// Keras style: a character-level language model.  An LSTM reads windows of a short text
// (examples/data/river.txt) and learns to predict the next character at every step; then it
// writes new text one character at a time, each fed back as input.
// Run: npx tsx examples/char-lstm.ts     (EPOCHS=n to train longer)
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as st from 'symtensor';

type KT = st.KerasTensor;
const WINDOW = 32; // characters the model reads before each prediction
const EPOCHS = Number(process.env.EPOCHS ?? 6);

const text = readFileSync(path.join(__dirname, 'data', 'river.txt'), 'utf8').replace(/\s+/g, ' ');
const chars = [...new Set(text)].sort();
const index = new Map(chars.map((c, i) => [c, i]));
const ids = [...text].map((c) => index.get(c)!);

/** Windows of WINDOW characters (every 2nd start) and, per position, the character that follows. */
function windows() {
  const x: number[] = [], y: number[] = [];
  let n = 0;
  for (let s = 0; s + WINDOW < ids.length; s += 2, n++) {
    x.push(...ids.slice(s, s + WINDOW));
    y.push(...ids.slice(s + 1, s + WINDOW + 1));
  }
  return { x: st.tensor(x, { shape: [n, WINDOW], dtype: 'int32' }), y: st.tensor(y, { shape: [n, WINDOW], dtype: 'int32' }) };
}

/** A seeded uniform generator in [0, 1). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
}

async function main() {
  st.setRandomSeed(1);
  const tokens = st.input({ shape: [WINDOW], dtype: 'int32' });
  const embedded = st.layers.embedding({ inputDim: chars.length, outputDim: 16 }).apply(tokens) as KT;
  const hidden = st.layers.lstm({ units: 128, returnSequences: true }).apply(embedded) as KT;
  const probs = st.layers.dense({ units: chars.length, activation: 'softmax' }).apply(hidden) as KT;
  const model = st.model({ inputs: tokens, outputs: probs });
  model.compile({ optimizer: st.optimizers.adam({ learningRate: 5e-3 }), loss: 'sparseCategoricalCrossentropy' });
  model.summary();

  const { x, y } = windows();
  const before = (await model.evaluate(x, y, { batchSize: 64, verbose: 0 })) as number;
  const t0 = Date.now();
  await model.fit(x, y, { epochs: EPOCHS, batchSize: 32, verbose: 0 });
  const after = (await model.evaluate(x, y, { batchSize: 64, verbose: 0 })) as number;
  console.log(`${chars.length} characters, ${x.shape[0]} windows; trained ${EPOCHS} epochs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`loss ${before.toFixed(2)} -> ${after.toFixed(2)} (nats per character)`);

  // write: sample each next character from the softmax sharpened by a temperature
  const rand = lcg(7), temperature = 0.5;
  const seed = 'The river ';
  let out = seed;
  const window = [...' '.repeat(WINDOW - seed.length) + seed].map((c) => index.get(c) ?? 0);
  for (let k = 0; k < 240; k++) {
    const p = (await model.predict(st.tensor(window, { shape: [1, WINDOW], dtype: 'int32' }))) as st.Tensor;
    const last = Array.from(p.dataSync() as Float32Array).slice((WINDOW - 1) * chars.length);
    const w = last.map((q) => Math.pow(Math.max(q, 1e-12), 1 / temperature));
    let r = rand() * w.reduce((a, b) => a + b, 0), c = 0;
    while (c < w.length - 1 && (r -= w[c]) > 0) c++;
    out += chars[c];
    window.shift();
    window.push(c);
  }
  console.log(`generated: ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
