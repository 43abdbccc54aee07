// The training step compile() builds (what fit runs once per batch) carries no identity casts:
// every `cast` instruction in its program changes a dtype.  Its outputs, the running means of the
// loss and the metrics after one batch, match a float64 computation written here.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as T from '../../lib/graph/T';
import type { CompiledModel } from '../../lib/models/training';

const X = [[0.5, -1, 2], [1.5, 0.25, -0.5], [-1, 1, 1], [0, -2, 0.5]];
const LABELS = [0, 1, 1, 0];
const W = [[0.2, -0.3], [0.1, 0.4], [-0.5, 0.25]];
const B = [0.05, -0.1];

function model(outputs: 1 | 2): st.Model {
  st.setRandomSeed(3);
  const inp = st.input({ shape: [3] });
  const heads = Array.from({ length: outputs }, (_, i) => st.layers.dense({ units: 2, activation: 'softmax', name: `head${i}` }).apply(inp));
  const m = new st.Model({ inputs: inp, outputs: outputs === 1 ? heads[0] : heads });
  const w = st.tensor(W.flat(), { shape: [3, 2] });
  const b = st.tensor(B);
  m.setWeights(heads.flatMap(() => [w, b]));
  m.compile({
    optimizer: 'adam',
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
    ...(outputs === 2 ? { lossWeights: [1, 0.5] } : {}),
  });
  return m;
}

/** The compiled training step of `m` for float32 features and int32 labels, as fit builds it. */
function trainStep(m: st.Model, outputs: number) {
  const cm = (m as unknown as { compiled: CompiledModel }).compiled;
  const x = T.tensor('float32', [null, 3], 'x');
  const ys = Array.from({ length: outputs }, (_, i) => T.tensor('int32', [null], `y${i}`));
  const batch = T.scalar('batchSize', 'float32');
  const step = cm.buildStep(true, [x], ys, ys.map(() => null), batch);
  const f = st.fn([x, ...ys, batch], step.outputs, { updates: step.updates, onUnusedInput: 'ignore' });
  return { f, keys: step.keys };
}

/** Mean sparse cross-entropy and accuracy of softmax(X W + B) in float64. */
function reference(): { loss: number; accuracy: number } {
  let loss = 0;
  let hits = 0;
  X.forEach((row, n) => {
    const z = [0, 1].map((j) => B[j] + row.reduce((a, v, k) => a + v * W[k][j], 0));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    loss += lse - z[LABELS[n]];
    if ((z[1] > z[0] ? 1 : 0) === LABELS[n]) hits++;
  });
  return { loss: loss / X.length, accuracy: hits / X.length };
}

describe('models/training step program', () => {
  for (const outputs of [1, 2] as const) {
    it(`${outputs} output${outputs > 1 ? 's' : ''}: no cast instruction keeps its dtype, and the logs after one batch match float64`, () => {
      const m = model(outputs);
      const { f, keys } = trainStep(m, outputs);
      const y = st.tensor(Int32Array.from(LABELS));
      const outs = f.sync(st.tensor(X.flat(), { shape: [4, 3] }), ...Array.from({ length: outputs }, () => y), 4);
      const prog = f.program()!;
      const identity = prog.instrs.filter((ins) => ins.label === 'cast' && prog.slots[ins.inputs[0]].dtype === prog.slots[ins.outputs[0]].dtype);
      assert.deepEqual(identity.map((ins) => `${ins.label} ${prog.slots[ins.inputs[0]].dtype}`), []);
      const ref = reference();
      const logs = Object.fromEntries(keys.map((k, i) => [k, outs[i].item()]));
      if (outputs === 1) {
        assert.deepEqual(keys, ['loss', 'accuracy']);
        assert.ok(Math.abs(logs.loss - ref.loss) < 1e-5, `loss ${logs.loss} vs ${ref.loss}`);
        assert.equal(logs.accuracy, ref.accuracy);
      } else {
        assert.deepEqual(keys, ['loss', 'head0_loss', 'head1_loss', 'head0_accuracy', 'head1_accuracy']);
        assert.ok(Math.abs(logs.loss - 1.5 * ref.loss) < 1e-5, `loss ${logs.loss} vs ${1.5 * ref.loss}`);
        for (const k of ['head0_loss', 'head1_loss']) assert.ok(Math.abs(logs[k] - ref.loss) < 1e-5, `${k} ${logs[k]} vs ${ref.loss}`);
        for (const k of ['head0_accuracy', 'head1_accuracy']) assert.equal(logs[k], ref.accuracy);
      }
      f.dispose();
    });
  }
});
