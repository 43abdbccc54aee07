// conv2d forward, NHWC input [64,28,28,32], HWIO filter [3,3,32,64], stride 1, 'same' padding
// (a LeNet-sized layer at batch 64).  numpy has no convolution: not measured there; PyTorch runs
// the same sizes in its NCHW layout.  Timed: the output into a fresh tensor, disposed unread.
// Target: at least 10x faster than tfjs-cpu.
import type { Case, Libs, Workload } from '../harness';

const X = [64, 28, 28, 32];
const W = [3, 3, 32, 64];

export const conv2d: Workload = {
  name: 'conv2d',
  description: 'conv2d forward x[64,28,28,32] * w[3,3,32,64], stride 1, padding same',
  cases() {
    const [n, h, wd, cin] = X;
    const [kh, kw, , cout] = W;
    const c: Case = {
      id: 'conv2d/64x28x28x32-3x3x64-same',
      workload: 'conv2d',
      label: 'conv2d 64x28x28x32 * 3x3x32x64',
      flops: 2 * n * h * wd * cout * kh * kw * cin,
      impls: {
        symtensor: {
          setup({ st }) {
            const x = st.randomNormal(X, { seed: 4 });
            const w = st.randomNormal(W, { seed: 5, stddev: 0.1 });
            return {
              run() {
                st.conv2d(x, w, { strides: 1, padding: 'same' }).dispose();
              },
              dispose() {
                x.dispose();
                w.dispose();
              },
            };
          },
        },
        'tfjs-wasm': tfjsConv(5),
        'tfjs-cpu': tfjsConv(3),
      },
      py: {
        numpy: { skip: 'no convolution in numpy' },
        torch: { kind: 'conv2d', x: X, w: W }, // NCHW, PyTorch's own layout (oneDNN)
      },
      targets: [{ peer: 'tfjs-cpu', min: 10 }],
    };
    return [c];
  },
};

function tfjsConv(reps: number) {
  return {
    reps,
    warmup: 1,
    setup({ tf }: Libs) {
      const x = tf.randomNormal(X, 0, 1, 'float32', 4);
      const w = tf.randomNormal(W, 0, 0.1, 'float32', 5);
      return {
        run() {
          tf.conv2d(x, w, 1, 'same').dispose();
        },
        dispose() {
          x.dispose();
          w.dispose();
        },
      };
    },
  };
}
