// One Adam training step of the MLP in mlp-model.ts (lr 0.001, β 0.9/0.999, eps 1e-8, PyTorch's
// formula).  symtensor: Adam written with shared m, v and t variables and the compiled step's
// updates.  Timed as in mlp-sgd.ts.  No target: the ratios are reported.
import type { Workload } from '../harness';
import { ADAM, BATCH, mlpFlops, pySpec } from './mlp-model';
import { stStep, tfjsStep, trainMetrics } from './mlp-sgd';

export const mlpAdam: Workload = {
  name: 'mlp-adam',
  description: 'MLP 784-512-512-10 training step, batch 128, softmax cross-entropy, Adam',
  cases({ quick }) {
    const spec = pySpec('mlp_adam', BATCH, ADAM);
    return [{
      id: 'mlp-adam/b128',
      workload: 'mlp-adam',
      label: 'MLP Adam step b128',
      flops: mlpFlops(BATCH, true),
      requires: ['mlp-sgd/gemms', 'sgemm/n=1024'],
      impls: {
        symtensor: { setup: ({ st }) => stStep(st, false, quick, 'adam') },
        'symtensor-async': { setup: ({ st }) => stStep(st, true, quick, 'adam') },
        'tfjs-wasm': tfjsStep('adam', 5),
        'tfjs-cpu': tfjsStep('adam', 3),
      },
      py: { numpy: spec, torch: spec, 'torch-default': spec },
      metrics: (r, all) => trainMetrics(r, all, 'mlp-sgd/gemms'),
    }];
  },
};
