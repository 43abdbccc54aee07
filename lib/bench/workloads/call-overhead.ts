// Call overhead: a compiled function of one tiny op, f = st.fn([x], x.add(1)) on a [4] float32
// input.  'symtensor' is f.sync(x), 'symtensor-async' is await f(x) (calls in sequence),
// 'symtensor-eager' the eager st.add(x, 1); the peers run their own x + 1.  Each call's result is
// disposed (JS) or dropped (Python) unread.  Reported: median over samples of 100 calls (20,000
// sync calls), of 20 calls (2,000 async calls).
// Target: f.sync(x) <= 5 µs.
import { Libs, Workload, ms } from '../harness';

const SIZE = 4;

export const callOverhead: Workload = {
  name: 'call-overhead',
  description: 'µs per call of a compiled one-op function on a [4] float32 input',
  cases() {
    return [{
      id: 'call-overhead/add1',
      workload: 'call-overhead',
      label: 'call overhead x.add(1), [4]',
      timing: { inner: 100, reps: 200, warmup: 2000, maxCaseMs: 20000 },
      impls: {
        symtensor: {
          setup({ st }: Libs) {
            const x = st.T.vector('x');
            const f = st.fn([x], x.add(1));
            const xv = st.tensor(Array.from({ length: SIZE }, (_, i) => i));
            return { run: () => f.sync(xv).dispose(), dispose: () => (f.dispose(), xv.dispose()) };
          },
        },
        'symtensor-async': {
          inner: 20,
          reps: 100,
          warmup: 200,
          setup({ st }: Libs) {
            const x = st.T.vector('x');
            const f = st.fn([x], x.add(1));
            const xv = st.tensor(Array.from({ length: SIZE }, (_, i) => i));
            return { run: async () => (await f(xv)).dispose(), dispose: () => (f.dispose(), xv.dispose()) };
          },
        },
        'symtensor-eager': {
          setup({ st }: Libs) {
            const xv = st.tensor(Array.from({ length: SIZE }, (_, i) => i));
            return { run: () => st.add(xv, 1).dispose(), dispose: () => xv.dispose() };
          },
        },
        'tfjs-wasm': tfjsAdd(),
        'tfjs-cpu': tfjsAdd(),
      },
      py: {
        numpy: { kind: 'call_overhead', size: SIZE },
        torch: { kind: 'call_overhead', size: SIZE },
      },
      metrics: (r) => ({ syncUs: ms(r, 'symtensor') * 1000, asyncUs: ms(r, 'symtensor-async') * 1000 }),
      targets: [{ metric: 'syncUs', max: 5, text: 'f.sync(x) <= 5 µs', unit: 'µs' }],
    }];
  },
};

function tfjsAdd() {
  return {
    setup({ tf }: Libs) {
      const x = tf.tensor1d(Array.from({ length: SIZE }, (_, i) => i), 'float32');
      return { run: () => tf.add(x, 1).dispose(), dispose: () => x.dispose() };
    },
  };
}
