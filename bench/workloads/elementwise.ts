// Elementwise chain tanh(x·a + b) over a float32 vector (a, b scalars).  Memory-bound: the peers
// spend most of the time allocating and touching fresh buffers.  symtensor runs three eager ops
// for now; a fused path replaces them when it lands.
// Target: at least 10x faster than tfjs-cpu.
import type { Case, Workload } from '../harness';

const SIZES = [1e6, 1e7];
const A = 1.5;
const B = 0.25;

export const elementwise: Workload = {
  name: 'elementwise',
  description: 'tanh(x*a + b), x float32 of 1e6 and 1e7 elements',
  cases({ quick }) {
    const sizes = quick ? SIZES.slice(0, 1) : SIZES;
    return sizes.map((size): Case => ({
      id: `tanh_affine/size=${size}`,
      workload: 'elementwise',
      label: `tanh(x*a+b) ${size.toExponential(0).replace('+', '')}`,
      impls: {
        symtensor: {
          setup({ st }) {
            const x = st.randomNormal([size], { seed: 3 });
            return {
              run() {
                const t1 = st.mul(x, A);
                const t2 = st.add(t1, B);
                const y = st.tanh(t2);
                y.dataSync();
                t1.dispose();
                t2.dispose();
                y.dispose();
              },
              dispose() {
                x.dispose();
              },
            };
          },
        },
        'tfjs-wasm': tfjsChain(size, 5),
        'tfjs-cpu': tfjsChain(size, size >= 1e7 ? 3 : 5),
      },
      numpy: { kind: 'tanh_affine', size, a: A, b: B },
      targets: [{ peer: 'tfjs-cpu', min: 10 }],
    }));
  },
};

function tfjsChain(size: number, reps: number) {
  return {
    reps,
    warmup: 1,
    setup({ tf }: { tf?: any }) {
      const x = tf.randomNormal([size], 0, 1, 'float32', 3);
      const a = tf.scalar(A);
      const b = tf.scalar(B);
      return {
        run() {
          const t1 = tf.mul(x, a);
          const t2 = tf.add(t1, b);
          const y = tf.tanh(t2);
          y.dataSync();
          t1.dispose();
          t2.dispose();
          y.dispose();
        },
        dispose() {
          x.dispose();
          a.dispose();
          b.dispose();
        },
      };
    },
  };
}
