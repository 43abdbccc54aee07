// A two-layer MLP trained by minibatch SGD, Theano style: the whole data set lives in shared
// variables (copied to native memory once), and each step's batch is chosen inside the graph by
// `givens` that gather the batch's rows, so a step passes only the row indices.
// Run: npx tsx examples/minibatch-mlp.ts
import * as st from 'symtensor';

const { T } = st;
const N = 2000; // samples
const FEATS = 16;
const HIDDEN = 32;
const CLASSES = 3;
const BATCH = 100;
const EPOCHS = 20;

/** Three classes separated by two random hyperplanes (which side of each) plus a little noise. */
function makeData(): { X: st.Tensor; labels: st.Tensor } {
  const X = st.randomNormal([N, FEATS], { seed: 1 });
  const planes = st.randomNormal([FEATS, 2], { seed: 2 });
  const side = st.matmul(X, planes).greater(0).cast('int32'); // [N, 2] of 0/1
  const [a, b] = st.split(side, [1, 1], 1);
  const labels = st.minimum(a.add(b), CLASSES - 1).reshape([N]); // 0, 1 or 2
  return { X, labels };
}

const { X, labels } = makeData();
const data = st.shared(X, 'data');
const targets = st.shared(st.oneHot(labels, CLASSES), 'targets');

// The model, written for any batch: x is [batch, FEATS], y is [batch, CLASSES].
const x = T.matrix('x');
const y = T.matrix('y');
const W1 = st.shared(st.randomNormal([FEATS, HIDDEN], { stddev: 0.3, seed: 3 }), 'W1');
const b1 = st.shared(st.zeros([HIDDEN]), 'b1');
const W2 = st.shared(st.randomNormal([HIDDEN, CLASSES], { stddev: 0.3, seed: 4 }), 'W2');
const b2 = st.shared(st.zeros([CLASSES]), 'b2');
const hidden = T.tanh(T.dot(x, W1).add(b1));
const probs = T.softmax(T.dot(hidden, W2).add(b2));
const cost = T.mean(T.categoricalCrossentropy(y, probs));
const params = [W1, b1, W2, b2];
const grads = st.grad(cost, params);
const lr = 0.5;

// One step: the batch's rows are an input; givens put the gathered rows in place of x and y.
const rows = T.ivector('rows');
const trainStep = st.fn([rows], cost, {
  givens: [[x, T.gather(data, rows)], [y, T.gather(targets, rows)]],
  updates: params.map((p, i) => [p, p.sub(grads[i].mul(lr))] as [st.SharedVariable, st.Variable]),
  name: 'trainStep',
});
const accuracy = st.fn([], T.mean(T.equal(T.argmax(probs, 1), T.argmax(y, 1)).cast('float32')), {
  givens: [[x, data], [y, targets]],
  name: 'accuracy',
});

/** A shuffled order of 0..n-1 from a small deterministic generator (the same run every time). */
function permutation(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

const before = Number((accuracy.sync() as st.Tensor).item());
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  const order = permutation(N, epoch);
  let total = 0;
  for (let start = 0; start < N; start += BATCH) {
    total += Number((trainStep.sync(st.tensor(order.subarray(start, start + BATCH))) as st.Tensor).item());
  }
  console.log(`epoch ${epoch}: mean cost ${(total / (N / BATCH)).toFixed(4)}`);
}
const after = Number((accuracy.sync() as st.Tensor).item());
console.log(`accuracy ${(before * 100).toFixed(1)}% before training, ${(after * 100).toFixed(1)}% after`);
if (!(after > 0.9)) {
  console.error('expected the MLP to fit the three classes (accuracy > 90%)');
  process.exit(1);
}
