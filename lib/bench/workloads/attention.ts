// Forward and backward of a multi-head self-attention block (batch 32, length 128, width 256,
// 8 heads of 32): the loss mean(y²) and the gradients of every weight, no update.  symtensor:
// st.layers.multiHeadAttention called on [x, x] in training mode and st.grad, one st.fn.
// PyTorch: nn.MultiheadAttention(256, 8, batch_first=True) with backward().
// Target: time <= 1.0x PyTorch's (OMP_WAIT_POLICY=PASSIVE).
import { Case, Workload, ms } from '../harness';
import * as attention from '../../models/layers/attention';

const BATCH = 32, LENGTH = 128, WIDTH = 256, HEADS = 8;
// projections q, k, v, out: 4 GEMMs of [B·L, W] x [W, W]; scores and weighting: 2 batched GEMMs of
// [L, d] x [d, L] per head; backward twice the forward
const FORWARD = 4 * 2 * BATCH * LENGTH * WIDTH * WIDTH + 2 * 2 * BATCH * HEADS * LENGTH * LENGTH * (WIDTH / HEADS);
const FLOPS = 3 * FORWARD;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function stAttention(st: Any) {
  const { T } = st;
  const mha = st.layers.multiHeadAttention ?? attention.multiHeadAttention;
  st.setRandomSeed?.(1);
  const layer = mha({ numHeads: HEADS, keyDim: WIDTH / HEADS });
  const x = T.tensor('float32', [BATCH, LENGTH, WIDTH], 'x');
  layer.ensureBuilt([[BATCH, LENGTH, WIDTH], [BATCH, LENGTH, WIDTH]]);
  const y = layer.call([x, x], { training: true, addUpdate() {}, addLoss() {} });
  const loss = T.mean(T.square(y));
  const params = layer.trainableWeights;
  const grads = st.grad(loss, params);
  const f = st.fn([x], [loss, ...grads], { name: 'attentionStep' });
  const xv = st.randomNormal([BATCH, LENGTH, WIDTH], { seed: 3 });
  return {
    run: () => f.sync(xv).forEach((t: Any) => t.dispose()),
    details: () => ({ instructions: f.program()?.instrs.length }),
    dispose() {
      f.dispose();
      xv.dispose();
      for (const p of params) p.dispose();
    },
  };
}

export const attentionBlock: Workload = {
  name: 'attention',
  description: `multi-head self-attention, batch ${BATCH}, length ${LENGTH}, width ${WIDTH}, ${HEADS} heads: forward + backward (vs PyTorch's nn.MultiheadAttention)`,
  cases() {
    const spec = { kind: 'mha_fwd_bwd', batch: BATCH, length: LENGTH, width: WIDTH, heads: HEADS };
    const c: Case = {
      id: 'attention/b32-l128-w256-h8',
      workload: 'attention',
      label: `MHA fwd+bwd b${BATCH} l${LENGTH} w${WIDTH} h${HEADS}`,
      flops: FLOPS,
      impls: { symtensor: { setup: ({ st }) => stAttention(st) } },
      py: { torch: spec, 'torch-default': spec },
      metrics: (r) => ({ timeVsTorch: ms(r, 'symtensor') / ms(r, 'torch') }),
      targets: [{ metric: 'timeVsTorch', max: 1.0, text: 'time <= 1.0x PyTorch (PASSIVE)', unit: 'x' }],
    };
    return [c];
  },
};
