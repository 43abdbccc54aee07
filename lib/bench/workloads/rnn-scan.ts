// A tanh RNN over 100 steps (batch 64, 256 units), forward and backward: symtensor's T.scan (one
// compiled program, the loop and its reverse run natively) against PyTorch's Python loop with
// autograd.  h_t = tanh(x_t Wx + h_{t-1} Wh + b), loss = mean(h^2) over every step; timed: the
// loss and the gradients of Wx, Wh and b.
// Target: time <= 1.0x PyTorch's (OMP_WAIT_POLICY=PASSIVE).
import { Case, Workload, ms } from '../harness';

const STEPS = 100, BATCH = 64, UNITS = 256;
// forward 2 GEMMs per step, backward 4 (dx, dh, dWx, dWh)
const FLOPS = STEPS * 6 * 2 * BATCH * UNITS * UNITS;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function stRnn(st: Any) {
  const { T } = st;
  const x = T.tensor3('x'), h0 = T.matrix('h0');
  const Wx = st.shared(st.randomNormal([UNITS, UNITS], { seed: 1 }).mul(0.05), 'Wx');
  const Wh = st.shared(st.randomNormal([UNITS, UNITS], { seed: 2 }).mul(0.05), 'Wh');
  const b = st.shared(st.zeros([UNITS]), 'b');
  const [hs] = T.scan((xt: Any, h: Any) => T.tanh(T.dot(xt, Wx).add(T.dot(h, Wh)).add(b)), { sequences: x, outputsInfo: h0 });
  const loss = T.mean(T.square(hs));
  const f = st.fn([x, h0], [loss, ...st.grad(loss, [Wx, Wh, b])], { name: 'rnnStep' });
  const xv = st.randomNormal([STEPS, BATCH, UNITS], { seed: 3 });
  const hv = st.zeros([BATCH, UNITS]);
  return {
    run: () => f.sync(xv, hv).forEach((t: Any) => t.dispose()),
    details: () => ({ instructions: f.program()?.instrs.length }),
    dispose() {
      f.dispose();
      for (const t of [xv, hv, Wx, Wh, b]) t.dispose();
    },
  };
}

export const rnnScan: Workload = {
  name: 'rnn-scan',
  description: `tanh RNN, ${STEPS} steps, batch ${BATCH}, ${UNITS} units: forward + backward (T.scan vs PyTorch's loop)`,
  cases() {
    const spec = { kind: 'rnn_scan', steps: STEPS, batch: BATCH, units: UNITS };
    const c: Case = {
      id: 'rnn-scan/t100-b64-h256',
      workload: 'rnn-scan',
      label: `RNN fwd+bwd ${STEPS} steps b${BATCH} h${UNITS}`,
      flops: FLOPS,
      impls: { symtensor: { setup: ({ st }) => stRnn(st) } },
      py: { torch: spec, 'torch-default': spec },
      metrics: (r) => ({ timeVsTorch: ms(r, 'symtensor') / ms(r, 'torch') }),
      targets: [{ metric: 'timeVsTorch', max: 1.0, text: 'time <= 1.0x PyTorch (PASSIVE)', unit: 'x' }],
    };
    return [c];
  },
};
