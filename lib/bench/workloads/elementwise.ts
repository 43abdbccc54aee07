// Elementwise chain tanh(x·a + b) over a float32 vector (a, b scalars).  Memory-bound: the peers
// spend most of the time allocating and touching fresh buffers.
// symtensor: the library's idiom, a compiled st.fn([x], T.tanh(x.mul(a).add(b))) whose program is
// one fused instruction; 'symtensor-eager' runs the three eager ops.
// Timed, for every implementation: computing y into a fresh tensor/array the caller holds (and,
// for JS, disposing it and the eager temporaries).  Reading y's values back into JS is not timed
// anywhere: numpy's and PyTorch's results are already host arrays and nothing reads them.
// Target: at least 10x faster than tfjs-cpu.
import { Case, Libs, Workload } from '../harness';

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
          setup({ st }: Libs) {
            const { T } = st;
            const xs = T.vector('x');
            const f = st.fn([xs], T.tanh(xs.mul(A).add(B)), { name: 'tanh_affine' });
            const x = st.randomNormal([size], { seed: 3 });
            return {
              run: () => f.sync(x).dispose(),
              details() {
                // untimed checks: one fused instruction, and the eager chain's values
                const y = f.sync(x);
                const e1 = st.mul(x, A), e2 = st.add(e1, B), e3 = st.tanh(e2);
                const a = y.dataSync(), b = e3.dataSync();
                let maxDiff = 0;
                for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                [y, e1, e2, e3].forEach((t) => t.dispose());
                const instrs = f.program()?.instrs.map((i: { label: string }) => i.label) ?? [];
                const out: Record<string, unknown> = { instructions: instrs, maxDiffVsEager: maxDiff };
                if (instrs.length !== 1) out.warning = `expected one fused instruction, got ${instrs.length}: ${instrs.join(', ')}`;
                if (!(maxDiff <= 1e-6)) out.warning = `compiled and eager results differ by ${maxDiff}`;
                return out;
              },
              dispose() {
                f.dispose();
                x.dispose();
              },
            };
          },
        },
        'symtensor-eager': {
          setup({ st }: Libs) {
            const x = st.randomNormal([size], { seed: 3 });
            return {
              run() {
                const t1 = st.mul(x, A);
                const t2 = st.add(t1, B);
                const y = st.tanh(t2);
                t1.dispose();
                t2.dispose();
                y.dispose();
              },
              dispose: () => x.dispose(),
            };
          },
        },
        'tfjs-wasm': tfjsChain(size, 5),
        'tfjs-cpu': tfjsChain(size, size >= 1e7 ? 3 : 5),
      },
      py: {
        numpy: { kind: 'tanh_affine', size, a: A, b: B },
        torch: { kind: 'tanh_affine', size, a: A, b: B },
      },
      targets: [{ peer: 'tfjs-cpu', min: 10 }],
    }));
  },
};

function tfjsChain(size: number, reps: number) {
  return {
    reps,
    warmup: 1,
    setup({ tf }: Libs) {
      const x = tf.randomNormal([size], 0, 1, 'float32', 3);
      const a = tf.scalar(A);
      const b = tf.scalar(B);
      return {
        run() {
          // cpu and wasm kernels run synchronously in Node: y is computed when tanh returns
          const t1 = tf.mul(x, a);
          const t2 = tf.add(t1, b);
          const y = tf.tanh(t2);
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
