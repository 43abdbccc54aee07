// The GEMM epilogue (MATMUL_BIAS_ACT) computes act(x·w + b) with the elementwise VM's arithmetic:
// a compiled act(x·w + b) has exactly the bits of the same expression run eagerly op by op
// (MATMUL, then ELEMWISE add, then ELEMWISE act), in float32 and float64.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Op as NativeOp } from '../../lib/ops.generated';
import { T, randomTensor } from './helpers';

type Act = 'relu' | 'sigmoid' | 'tanh';

function bits(t: st.Tensor): Uint8Array {
  const d = t.dataSync() as Float32Array | Float64Array;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
}

/** Indices where the two tensors' bit patterns differ (NaN payloads included). */
function differing(a: st.Tensor, b: st.Tensor): number[] {
  const x = bits(a), y = bits(b);
  assert.equal(x.length, y.length);
  const size = a.dtype === 'float64' ? 8 : 4, out: number[] = [];
  for (let i = 0; i < x.length; i += size) if (x.subarray(i, i + size).some((v, j) => v !== y[i + j])) out.push(i / size);
  return out;
}

describe('compile: the GEMM epilogue has the bits of the unfused expression', () => {
  for (const dtype of ['float32', 'float64'] as const)
    for (const act of ['relu', 'sigmoid', 'tanh'] as Act[])
      it(`${act}(x·w + b), ${dtype}`, () => {
        const x = T.matrix('x', dtype), w = T.matrix('w', dtype), b = T.vector('b', dtype);
        const f = st.fn([x, w, b], T[act](T.dot(x, w).add(b)));
        // K = 300 spans several GEMM blocks: a bias added before the product would round differently
        const xv = randomTensor([33, 300], 21, -2, 2, dtype), wv = randomTensor([300, 17], 22, -2, 2, dtype);
        const bias = Array.from({ length: 17 }, (_, j) => (j === 0 ? NaN : j === 1 ? -1e4 : j === 2 ? 1e4 : (j - 8) * 0.37));
        const bv = st.tensor(bias, { dtype });
        const fused = f.sync(xv, wv, bv) as st.Tensor;
        assert.deepEqual(
          f.program()!.instrs.map((i) => i.opcode),
          [NativeOp.MATMUL_BIAS_ACT],
          'the expression compiles to one MATMUL_BIAS_ACT instruction',
        );
        const unfused = st[act](st.add(st.matmul(xv, wv), bv));
        assert.equal(fused.dtype, dtype);
        assert.deepEqual(differing(fused, unfused), [], 'elements whose bits differ');
        // the comparison is not vacuous: the values span the activation's range
        const v = Array.from(fused.dataSync() as Float32Array | Float64Array);
        assert.ok(v.some((e) => Number.isNaN(e)) && new Set(v).size > 100);
      });
});
