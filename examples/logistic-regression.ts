// Theano's logistic-regression tutorial, written with symtensor's symbolic API: a symbolic
// expression for the cost, its gradient by st.grad, and one compiled native program per step.
import * as st from 'symtensor';

const { T } = st;
const N = 1000; // samples
const FEATS = 20; // features
const STEPS = 1500;

// Data: points on either side of a hidden hyperplane, with 5% of the labels flipped.
const X = st.randomNormal([N, FEATS], { seed: 1 });
const hidden = st.randomNormal([FEATS], { seed: 2 });
const flip = st.randomUniform([N], { seed: 3 }).less(0.05);
const clean = st.matmul(X, hidden).greater(0);
const Y = st.logicalAnd(clean, flip.logicalNot()).logicalOr(st.logicalAnd(clean.logicalNot(), flip)).cast('float32');
const split = 800;
const [Xtrain, Xtest] = st.split(X, [split, N - split]);
const [Ytrain, Ytest] = st.split(Y, [split, N - split]);

// The model: p(y = 1 | x) = sigmoid(x·w + b)
const x = T.matrix('x');
const y = T.vector('y');
const w = st.shared(st.randomNormal([FEATS], { stddev: 0.01, seed: 4 }), 'w');
const b = st.shared(st.tensor(0), 'b');
const p1 = T.sigmoid(T.dot(x, w).add(b));
const prediction = p1.greater(0.5);
const xent = T.binaryCrossentropy(y, p1);
const cost = xent.mean().add(w.square().sum().mul(0.001)); // with an L2 penalty
const [gw, gb] = st.grad(cost, [w, b]);

const train = st.fn([x, y], [prediction, xent.mean()], {
  updates: [
    [w, w.sub(gw.mul(0.5))],
    [b, b.sub(gb.mul(0.5))],
  ],
  name: 'train',
});
const predict = st.fn([x], prediction, { name: 'predict' });

function accuracy(pred: st.Tensor, labels: st.Tensor): number {
  return Number(pred.cast('float32').equal(labels).cast('float32').mean().item());
}

async function main() {
  console.log(`symtensor ${st.version} (${st.backendInfo().gemm}, ${st.backendInfo().threads} threads)`);
  console.log(`logistic regression: ${split} training samples, ${FEATS} features, ${STEPS} steps\n`);
  for (let i = 0; i <= STEPS; i++) {
    const [, c] = (await train(Xtrain, Ytrain)) as st.Tensor[];
    if (i % 250 === 0) console.log(`step ${String(i).padStart(4)}  cost ${Number(c.item()).toFixed(4)}`);
  }
  const trainAcc = accuracy(predict.sync(Xtrain) as st.Tensor, Ytrain);
  const testAcc = accuracy(predict.sync(Xtest) as st.Tensor, Ytest);
  console.log(`\ntraining accuracy ${(trainAcc * 100).toFixed(1)}%`);
  console.log(`held-out accuracy ${(testAcc * 100).toFixed(1)}%  (labels have 5% noise)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
