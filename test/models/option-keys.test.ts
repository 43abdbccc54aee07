// A misspelt option (`epoch` for `epochs`, `stride` for `strides`) used to be ignored silently:
// the model trained one epoch, the layer kept its default.  Every options object of the model API,
// the layers that lacked a check and T.scan now refuse a key they do not know, naming the function
// and listing the valid keys; and the keys the layers write into their configs still load back.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as st from '../../lib/index';

const { T } = st;

/** Runs f (awaiting a promise) and returns the SymtensorError it throws. */
async function rejects(f: () => unknown): Promise<st.SymtensorError> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof st.SymtensorError, `not a SymtensorError: ${String(e)}`);
    return e;
  }
  assert.fail('expected an error, nothing was thrown');
}

async function expectUnknown(f: () => unknown, op: RegExp, key: string, valid: string[]): Promise<void> {
  const e = await rejects(f);
  assert.equal(e.code, 'ERR_ST_ARG', e.message);
  assert.match(e.op, op, e.message);
  assert.ok(e.message.includes(`unknown option "${key}"`), e.message);
  for (const v of valid) assert.ok(e.message.includes(v), `${e.message} should list ${v}`);
}

function small(): st.Sequential {
  return new st.Sequential([st.layers.input({ shape: [3] }), st.layers.dense({ units: 1 })]);
}

describe('misspelt options are errors, not ignored', () => {
  it('compile, fit, evaluate, predict, fitDataset and summary', async () => {
    const x = st.ones([4, 3]), y = st.ones([4, 1]);
    await expectUnknown(() => small().compile({ optimiser: 'adam', loss: 'mse' } as never), /\.compile$/, 'optimiser', ['optimizer', 'loss', 'metrics']);
    const m = small();
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await expectUnknown(() => m.fit(x, y, { epoch: 3 } as never), /\.fit$/, 'epoch', ['epochs', 'batchSize', 'validationSplit']);
    await expectUnknown(() => m.evaluate(x, y, { batchsize: 2 } as never), /\.evaluate$/, 'batchsize', ['batchSize', 'returnDict']);
    await expectUnknown(() => m.predict(x, { batch: 2 } as never), /\.predict$/, 'batch', ['batchSize', 'verbose']);
    await expectUnknown(() => m.fitDataset([{ xs: x, ys: y }], { epoch: 2 } as never), /\.fitDataset$/, 'epoch', ['epochs', 'batchesPerEpoch']);
    await expectUnknown(() => m.summary({ linelength: 40 } as never), /\.summary$/, 'linelength', ['lineLength', 'print']);
    // null is not an options object
    assert.equal((await rejects(() => m.predict(x, null as never))).code, 'ERR_ST_ARG');
    // the right keys still work: two epochs give two losses
    const h = await m.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0 });
    assert.equal(h.history.loss.length, 2);
    x.dispose();
    y.dispose();
  });

  it('Sequential, st.model, st.input and st.layers.input', async () => {
    await expectUnknown(() => new st.Sequential([], { nam: 'x' } as never), /^Sequential$/, 'nam', ['name', 'trainable']);
    const inp = st.input({ shape: [2] });
    await expectUnknown(() => st.model({ inputs: inp, output: inp } as never), /^model$/, 'output', ['inputs', 'outputs']);
    await expectUnknown(() => st.input({ shape: [2], batchsize: 3 } as never), /^input$/, 'batchsize', ['shape', 'batchSize', 'dtype']);
    await expectUnknown(() => st.layers.input({ shape: [2], dtpye: 'int32' } as never), /^layers\.input$/, 'dtpye', ['shape', 'dtype']);
  });

  it('convolution, pooling and spatial reshaping layers', async () => {
    const cases: [() => unknown, RegExp, string, string[]][] = [
      [() => st.layers.conv2d({ filters: 2, kernelSize: 3, stride: 2 } as never), /^Conv2D$/, 'stride', ['strides', 'dilationRate', 'groups']],
      [() => st.layers.conv1d({ filters: 2, kernelSize: 3, dilation: 2 } as never), /^Conv1D$/, 'dilation', ['dilationRate']],
      [() => st.layers.conv2dTranspose({ filters: 2, kernelSize: 3, outputpadding: 1 } as never), /^Conv2DTranspose$/, 'outputpadding', ['outputPadding']],
      [() => st.layers.depthwiseConv2d({ kernelSize: 3, filters: 4 } as never), /^DepthwiseConv2D$/, 'filters', ['depthMultiplier']],
      [() => st.layers.separableConv2d({ filters: 2, kernelSize: 3, pointwiseInit: 'zeros' } as never), /^SeparableConv2D$/, 'pointwiseInit', ['pointwiseInitializer']],
      [() => st.layers.maxPooling2d({ poolsize: 3 } as never), /^MaxPooling2D$/, 'poolsize', ['poolSize', 'strides']],
      [() => st.layers.averagePooling1d({ pool: 3 } as never), /^AveragePooling1D$/, 'pool', ['poolSize']],
      [() => st.layers.globalMaxPooling2d({ keepDims: true } as never), /^GlobalMaxPooling2D$/, 'keepDims', ['keepdims']],
      [() => st.layers.zeroPadding2d({ pad: 1 } as never), /^ZeroPadding2D$/, 'pad', ['padding']],
      [() => st.layers.upSampling2d({ scale: 2 } as never), /^UpSampling2D$/, 'scale', ['size', 'interpolation']],
    ];
    for (const [f, op, key, valid] of cases) await expectUnknown(f, op, key, valid);
  });

  it("the layers' saved configs still load: a CNN with every checked layer kind round-trips", async () => {
    const m = new st.Sequential([
      st.layers.input({ shape: [8, 8, 2] }),
      st.layers.zeroPadding2d({ padding: 1 }),
      st.layers.conv2d({ filters: 4, kernelSize: 3, strides: 1, activation: 'relu' }),
      st.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }),
      st.layers.separableConv2d({ filters: 3, kernelSize: 3, padding: 'same' }),
      st.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2 }),
      st.layers.maxPooling2d({ poolSize: 2 }),
      st.layers.upSampling2d({ size: 2 }),
      st.layers.averagePooling2d({ poolSize: 2 }),
      st.layers.globalAveragePooling2d({ keepdims: false }),
      st.layers.dense({ units: 2 }),
    ]);
    m.compile({ optimizer: 'adam', loss: 'mse' });
    const x = st.randomNormal([2, 8, 8, 2], { seed: 7 });
    const before = (await m.predict(x)) as st.Tensor;
    const dir = mkdtempSync(join(tmpdir(), 'symtensor-option-keys-'));
    try {
      await m.save(dir);
      const again = await st.loadModel(dir);
      const after = (await again.predict(x)) as st.Tensor;
      assert.deepEqual(Array.from(after.dataSync()), Array.from(before.dataSync()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('T.scan', async () => {
    await expectUnknown(() => T.scan((r: st.Variable, a: st.Variable) => a.add(r), { sequences: T.matrix('x'), outputInfo: T.zeros([3]) } as never), /^scan$/, 'outputInfo', ['outputsInfo', 'nSteps']);
    const x = T.matrix('x');
    const [sums] = T.scan((r: st.Variable, a: st.Variable) => a.add(r), { sequences: x, outputsInfo: T.zeros([3]) });
    assert.deepEqual(st.fn([x], sums as st.Variable).sync([[1, 2, 3], [4, 5, 6]]).arraySync(), [[1, 2, 3], [5, 7, 9]]);
  });
});
