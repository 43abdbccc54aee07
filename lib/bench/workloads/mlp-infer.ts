// MLP inference: class probabilities (softmax of the logits) of the MLP in mlp-model.ts for a batch
// of 1 and of 1024.  symtensor: a compiled st.fn called with f.sync; PyTorch under torch.no_grad().
// Timed: computing the probabilities into a fresh tensor/array the caller holds; it is disposed
// (JS) or dropped (Python) unread.
// Targets: batch 1 under 0.05 ms per call.
import { Case, Libs, Workload, ms } from '../harness';
import { mlpFlops, pySpec, stMlp, tfMlp } from './mlp-model';

export const mlpInfer: Workload = {
  name: 'mlp-infer',
  description: 'MLP 784-512-512-10 forward pass with softmax, batch 1 and 1024',
  cases() {
    return [1, 1024].map((batch): Case => {
      const spec = pySpec('mlp_infer', batch);
      return {
        id: `mlp-infer/b${batch}`,
        workload: 'mlp-infer',
        label: `MLP inference b${batch}`,
        flops: mlpFlops(batch, false),
        impls: {
          symtensor: {
            setup({ st }: Libs) {
              const m = stMlp(st, { batch });
              return {
                run: () => m.predict.sync(m.x).dispose(),
                details: () => ({ instructions: m.predict.program()?.instrs.map((i: { label: string }) => i.label) }),
                dispose: () => m.dispose(),
              };
            },
          },
          'tfjs-wasm': tfjsInfer(batch, 5),
          'tfjs-cpu': tfjsInfer(batch, batch > 1 ? 3 : 5),
        },
        py: { numpy: spec, torch: spec, 'torch-default': spec },
        metrics: (r) => ({
          ms: ms(r, 'symtensor'),
          timeVsTorch: ms(r, 'symtensor') / ms(r, 'torch'),
          timeVsNumpy: ms(r, 'symtensor') / ms(r, 'numpy'),
        }),
        targets: batch === 1 ? [{ metric: 'ms', max: 0.05, text: 'batch-1 call < 0.05 ms', unit: 'ms' }] : [],
      };
    });
  },
};

function tfjsInfer(batch: number, reps: number) {
  return {
    reps,
    warmup: 1,
    setup({ tf }: Libs) {
      const m = tfMlp(tf, { batch });
      return { run: () => m.predict().dispose(), dispose: () => m.dispose() };
    },
  };
}
