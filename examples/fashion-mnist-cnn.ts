// Keras style: a small CNN on Fashion-MNIST, saved and loaded back.
// Run: npx tsx examples/fashion-mnist-cnn.ts     (EPOCHS=n to change the number of epochs)
import * as os from 'node:os';
import * as path from 'node:path';
import * as st from 'symtensor';

async function main() {
  st.setRandomSeed(7);
  const { train, test } = await st.data.loadFashionMnist({ channels: true });
  const model = new st.Sequential([
    st.layers.input({ shape: [28, 28, 1] }),
    st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
    st.layers.maxPooling2d({ poolSize: 2 }),
    st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    st.layers.maxPooling2d({ poolSize: 2 }),
    st.layers.flatten(),
    st.layers.dense({ units: 128, activation: 'relu' }),
    st.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(train.x, train.y, { epochs: Number(process.env.EPOCHS ?? 3), batchSize: 64 });
  const dir = path.join(os.tmpdir(), 'symtensor-fashion-cnn');
  await model.save(dir);
  const loaded = await st.loadModel(dir);
  const [, accuracy] = (await loaded.evaluate(test.x, test.y, { batchSize: 500 })) as number[];
  console.log(`saved to ${dir}; the loaded model's test accuracy is ${(accuracy * 100).toFixed(1)}%`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
