// Keras style: an MLP on Fashion-MNIST (Debian: apt install dataset-fashion-mnist).
// Run: npx tsx examples/fashion-mnist-mlp.ts     (EPOCHS=n to change the number of epochs)
import * as st from 'symtensor';

async function main() {
  st.setRandomSeed(42);
  const { train, test } = await st.data.loadFashionMnist({ flatten: true });
  const model = new st.Sequential([
    st.layers.input({ shape: [784] }),
    st.layers.dense({ units: 256, activation: 'relu' }),
    st.layers.dropout({ rate: 0.2 }),
    st.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  model.summary();
  await model.fit(train.x, train.y, { epochs: Number(process.env.EPOCHS ?? 5), batchSize: 64, validationSplit: 0.1 });
  const [loss, accuracy] = (await model.evaluate(test.x, test.y, { batchSize: 1000 })) as number[];
  console.log(`test loss ${loss.toFixed(4)}, test accuracy ${(accuracy * 100).toFixed(1)}%`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
