// SGEMM: C = A·B for square float32 matrices with normal random entries.  Timed: the product into
// a fresh matrix, disposed (JS) or dropped (Python) unread.
// Target: symtensor reaches at least 0.9x numpy's GFLOP/s (same OpenBLAS) from n = 1024 up.
import type { Case, Libs, Workload } from '../harness';

const SIZES = [256, 512, 1024, 2048];

export const sgemm: Workload = {
  name: 'sgemm',
  description: 'float32 matrix product n×n · n×n (GFLOP/s = 2n³ / time)',
  cases({ quick }) {
    const sizes = quick ? SIZES.filter((n) => n <= 1024) : SIZES;
    return sizes.map((n): Case => ({
      id: `sgemm/n=${n}`,
      workload: 'sgemm',
      label: `SGEMM n=${n}`,
      flops: 2 * n ** 3,
      impls: {
        symtensor: {
          setup({ st }) {
            const a = st.randomNormal([n, n], { seed: 1 });
            const b = st.randomNormal([n, n], { seed: 2 });
            return {
              run() {
                st.matmul(a, b).dispose();
              },
              dispose() {
                a.dispose();
                b.dispose();
              },
            };
          },
        },
        'tfjs-wasm': tfjsMatMul(n),
        // Pure-JS matmul runs at well under 1 GFLOP/s: n=2048 would take about half a minute a call.
        'tfjs-cpu': n >= 2048 ? { skip: 'too slow (~30 s per call)' } : { ...tfjsMatMul(n), reps: n >= 1024 ? 3 : 5, warmup: 1 },
      },
      py: { numpy: { kind: 'sgemm', n }, torch: { kind: 'sgemm', n } },
      targets: n >= 1024 ? [{ peer: 'numpy', min: 0.9 }] : [],
    }));
  },
};

function tfjsMatMul(n: number) {
  return {
    setup({ tf }: Libs) {
      const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
      const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
      return {
        run() {
          tf.matMul(a, b).dispose();
        },
        dispose() {
          a.dispose();
          b.dispose();
        },
      };
    },
  };
}
