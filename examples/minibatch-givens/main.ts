// Theano's minibatch pattern: the training set lives in shared variables (natively, once), the
// compiled step takes only the minibatch index, and `givens` replaces the model's inputs with
// symbolic slices of the shared data — so each step reads its rows inside the native program and
// no data crosses from JavaScript per step.  Logistic regression on synthetic data.
//
//   npx tsx examples/minibatch-givens/main.ts
import * as st from 'symtensor';

const { T } = st;
const N = 2000, FEATS = 10, BATCH = 100, EPOCHS = 20;
const batches = N / BATCH;

// Data: two classes on either side of a hidden hyperplane (no label noise).
const allX = st.randomNormal([N + 500, FEATS], { seed: 11 });
const hidden = st.randomNormal([FEATS], { seed: 12 });
const allY = st.matmul(allX, hidden).greater(0).cast('float32');
const [xTrain, xTest] = st.split(allX, [N, 500]);
const [yTrain, yTest] = st.split(allY, [N, 500]);
const trainX = st.shared(xTrain, 'trainX');
const trainY = st.shared(yTrain, 'trainY');

// The model, written against plain symbolic inputs
const x = T.matrix('x');
const y = T.vector('y');
const w = st.shared(st.zeros([FEATS]), 'w');
const b = st.shared(st.tensor(0), 'b');
const p = T.sigmoid(T.dot(x, w).add(b));
const cost = T.binaryCrossentropy(y, p).mean();
const [gw, gb] = st.grad(cost, [w, b]);

// The step takes an index; givens cut the minibatch from the shared data by a symbolic slice
// (an index past the data is a run-time error naming the slice, never a read outside it).
const index = T.iscalar('index');
const train = st.fn([index], cost, {
  givens: [
    [x, trainX.slice(index.mul(BATCH), BATCH)],
    [y, trainY.get([T.slice(index.mul(BATCH), index.add(1).mul(BATCH))])],
  ],
  updates: [
    [w, w.sub(gw.mul(0.5))],
    [b, b.sub(gb.mul(0.5))],
  ],
  name: 'train',
});
const predict = st.fn([x], p.greater(0.5).cast('float32'), { name: 'predict' });

function accuracy(pred: st.Tensor, labels: st.Tensor): number {
  return Number(pred.equal(labels).cast('float32').mean().item());
}

async function main() {
  console.log(`minibatch givens: ${N} samples in shared variables, batches of ${BATCH}, ${EPOCHS} epochs`);
  const before = accuracy(predict.sync(xTest) as st.Tensor, yTest);
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    let sum = 0;
    for (let i = 0; i < batches; i++) sum += Number(((await train(i)) as st.Tensor).item());
    if (epoch % 5 === 0) console.log(`epoch ${String(epoch).padStart(2)}  mean cost ${(sum / batches).toFixed(4)}`);
  }
  const after = accuracy(predict.sync(xTest) as st.Tensor, yTest);
  try {
    train.sync(batches); // one past the last batch
  } catch (e) {
    console.log(`index ${batches} refused: ${(e as Error).message.split(' (')[0]}`);
  }
  console.log(`held-out accuracy ${(before * 100).toFixed(1)}% before training, ${(after * 100).toFixed(1)}% after`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
