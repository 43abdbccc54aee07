// One training step of an LSTM layer (batch 64, 100 steps, 128 inputs, 256 units, every step's
// output, loss = mean(y²)): forward, backward and Adam (lr 0.001, PyTorch's formula).  symtensor:
// st.layers.lstm called in training mode, st.grad and one st.fn with Adam as updates (one native
// scan forwards, one backwards).  PyTorch: nn.LSTM with torch.optim.Adam.
// Target: time <= 1.0x PyTorch's (OMP_WAIT_POLICY=PASSIVE).
import { Case, Workload, ms } from '../harness';
import { ADAM } from './mlp-model';
import * as recurrent from '../../models/layers/recurrent';

const BATCH = 64, STEPS = 100, INPUTS = 128, UNITS = 256;
// GEMMs: input projection (forward, weight gradient), recurrent product (forward, input gradient, weight gradient)
const FLOPS = 2 * 2 * BATCH * STEPS * INPUTS * 4 * UNITS + 3 * 2 * BATCH * STEPS * UNITS * 4 * UNITS;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function stLstm(st: Any) {
  const { T } = st;
  const lstm = st.layers.lstm ?? recurrent.lstm;
  st.setRandomSeed?.(1);
  const layer = lstm({ units: UNITS, returnSequences: true });
  const x = T.tensor('float32', [BATCH, STEPS, INPUTS], 'x');
  const ctx = { training: true, addUpdate() {}, addLoss() {} };
  layer.ensureBuilt([BATCH, STEPS, INPUTS]);
  const y = layer.call(x, ctx);
  const loss = T.mean(T.square(y));
  const params = layer.trainableWeights;
  const grads = st.grad(loss, params);
  // Adam as PyTorch computes it: p -= lr/(1-β1ᵗ) · m / (sqrt(v)/sqrt(1-β2ᵗ) + eps)
  const { lr, beta1, beta2, eps } = ADAM;
  const t = st.shared(st.tensor(0), 't');
  const extra: Any[] = [t];
  const t1 = t.add(1);
  const stepSize = T.div(lr, T.sub(1, T.pow(beta1, t1)));
  const bc2 = T.sqrt(T.sub(1, T.pow(beta2, t1)));
  const updates: [Any, Any][] = [[t, t1]];
  params.forEach((p: Any, i: number) => {
    const g = grads[i];
    const m = st.shared(st.zeros(p.type.shape), `m_${p.name}`);
    const v = st.shared(st.zeros(p.type.shape), `v_${p.name}`);
    extra.push(m, v);
    const m1 = m.mul(beta1).add(g.mul(1 - beta1));
    const v1 = v.mul(beta2).add(g.square().mul(1 - beta2));
    updates.push([m, m1], [v, v1], [p, p.sub(m1.mul(stepSize).div(T.sqrt(v1).div(bc2).add(eps)))]);
  });
  const f = st.fn([x], loss, { updates, name: 'lstmStep' });
  const xv = st.randomNormal([BATCH, STEPS, INPUTS], { seed: 3 });
  return {
    run: () => f.sync(xv).dispose(),
    details: () => ({ instructions: f.program()?.instrs.length }),
    dispose() {
      f.dispose();
      xv.dispose();
      for (const p of [...params, ...extra]) p.dispose();
    },
  };
}

export const lstmTrain: Workload = {
  name: 'lstm',
  description: `LSTM layer, ${STEPS} steps, batch ${BATCH}, ${INPUTS} inputs, ${UNITS} units: forward + backward + Adam (vs PyTorch's nn.LSTM)`,
  cases() {
    const spec = { kind: 'lstm_adam', steps: STEPS, batch: BATCH, inputs: INPUTS, units: UNITS, ...ADAM };
    const c: Case = {
      id: 'lstm/t100-b64-i128-h256',
      workload: 'lstm',
      label: `LSTM Adam step ${STEPS} steps b${BATCH} i${INPUTS} h${UNITS}`,
      flops: FLOPS,
      impls: { symtensor: { setup: ({ st }) => stLstm(st) } },
      py: { torch: spec, 'torch-default': spec },
      metrics: (r) => ({ timeVsTorch: ms(r, 'symtensor') / ms(r, 'torch') }),
      targets: [{ metric: 'timeVsTorch', max: 1.0, text: 'time <= 1.0x PyTorch (PASSIVE)', unit: 'x' }],
    };
    return [c];
  },
};
