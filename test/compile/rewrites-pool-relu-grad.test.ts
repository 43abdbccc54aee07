// maxPoolGradRelu: mul(maxPool2dGrad(z, dy), greater(z, 0)), z = relu(a) the pooling's input, is
// one MAX_POOL2D_GRAD instruction with its relu mask.  Gradients against plain loops in float64.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Op as NativeOp } from '../../lib/ops.generated';
import { T, assertClose, assertSame, countOps, graphText as show, fired, randomTensor, run } from './helpers';

interface Geom {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  same: boolean;
}

/** TensorFlow-style output size and leading pad of one axis. */
function axis(n: number, k: number, s: number, same: boolean): [number, number] {
  if (!same) return [Math.floor((n - k) / s) + 1, 0];
  const out = Math.ceil(n / s);
  return [out, Math.floor(Math.max((out - 1) * s + k - n, 0) / 2)];
}

/**
 * d sum(maxPool2d(relu(a)) * w) / da from loops: each window's w goes to the first maximal cell of
 * relu(a) in row-major scan order (summed where windows overlap), times (a > 0) there.
 */
function refGrad(a: ArrayLike<number>, [N, H, W, C]: number[], w: ArrayLike<number>, g: Geom): number[] {
  const [OH, pt] = axis(H, g.kh, g.sh, g.same), [OW, pl] = axis(W, g.kw, g.sw, g.same);
  const z = Array.from(a, (v) => Math.max(v, 0));
  const dz = new Array<number>(z.length).fill(0);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++) {
          let arg = -1;
          for (let i = 0; i < g.kh; i++)
            for (let j = 0; j < g.kw; j++) {
              const h = oh * g.sh - pt + i, x = ow * g.sw - pl + j;
              if (h < 0 || h >= H || x < 0 || x >= W) continue;
              const k = ((n * H + h) * W + x) * C + c;
              if (arg < 0 || z[k] > z[arg]) arg = k;
            }
          if (arg >= 0) dz[arg] += w[((n * OH + oh) * OW + ow) * C + c];
        }
  return dz.map((d, k) => (a[k] > 0 ? d : 0));
}

function build(g: Geom, dtype: 'float32' | 'float64') {
  const a = T.tensor4('a', dtype), w = T.tensor4('w', dtype);
  const z = T.relu(a);
  const pooled = T.maxPool2d(z, { poolSize: [g.kh, g.kw], strides: [g.sh, g.sw], padding: g.same ? 'same' : 'valid' });
  const loss = T.sum(T.mul(pooled, w));
  return { a, w, z, loss };
}

/** `hi` near 0 makes many windows all non-positive, so that their winners are masked. */
function check(g: Geom, shape: number[], dtype: 'float32' | 'float64', seed: number, hi = 1) {
  const { a, w, loss } = build(g, dtype);
  const da = st.grad(loss, a);
  const f = st.fn([a, w], da);
  const ref = st.fn([a, w], da, { excludeRewrites: ['maxPoolGradRelu'] });
  assert.equal(fired(f, 'maxPoolGradRelu'), 1, show(f));
  assert.equal(countOps(f, 'maxPool2dGradRelu'), 1, show(f));
  assert.equal(countOps(ref, 'maxPool2dGradRelu'), 0, show(ref));
  const [N, H, W, C] = shape;
  const [OH] = axis(H, g.kh, g.sh, g.same), [OW] = axis(W, g.kw, g.sw, g.same);
  const av = randomTensor(shape, seed, -1, hi, dtype), wv = randomTensor([N, OH, OW, C], seed + 1, -2, 2, dtype);
  const [got] = run(f, av, wv);
  const instrs = f.program()!.instrs.filter((i) => i.opcode === NativeOp.MAX_POOL2D_GRAD);
  assert.deepEqual(instrs.map((i) => i.label), ['maxPool2dGrad+relu']);
  const expected = refGrad(av.dataSync() as ArrayLike<number>, shape, wv.dataSync() as ArrayLike<number>, g);
  const tol = dtype === 'float32' ? 1e-6 : 1e-12;
  assertClose(got, st.tensor(Float64Array.from(expected), { shape, dtype: 'float64' }).cast(dtype), 'vs loops', tol, tol);
  // the unfused mask multiplies the same sums by the same 0 or 1: bit-for-bit the same result
  assertSame(got, run(ref, av, wv)[0], 'vs the rewrite excluded');
}

describe('compile: maxPoolGradRelu', () => {
  it('2x2 / stride 2 pooling (an odd width leaves a column no window covers), float32', () => {
    check({ kh: 2, kw: 2, sh: 2, sw: 2, same: false }, [2, 6, 7, 9], 'float32', 1);
  });

  it('disjoint windows of another shape ([2, 3] / stride [3, 3]), float64', () => {
    check({ kh: 2, kw: 3, sh: 3, sw: 3, same: false }, [1, 8, 9, 5], 'float64', 3, 0.2);
  });

  it('overlapping windows with same padding (3x3 / stride 2): the mask applies after the sums', () => {
    check({ kh: 3, kw: 3, sh: 2, sw: 2, same: true }, [2, 7, 6, 4], 'float32', 5, 0.1);
  });

  it('does not fire when the pooling gradient is also an output', () => {
    const g: Geom = { kh: 2, kw: 2, sh: 2, sw: 2, same: false };
    const { a, w, z, loss } = build(g, 'float32');
    const [da, dz] = st.grad(loss, [a, z]);
    const f = st.fn([a, w], [da, dz]);
    assert.equal(fired(f, 'maxPoolGradRelu'), 0, show(f));
    assert.equal(countOps(f, 'maxPool2dGradRelu'), 0);
    const av = randomTensor([1, 4, 4, 3], 7, -1, 1), wv = randomTensor([1, 2, 2, 3], 8);
    const [gotA] = run(f, av, wv);
    const expected = refGrad(av.dataSync() as ArrayLike<number>, [1, 4, 4, 3], wv.dataSync() as ArrayLike<number>, g);
    assertClose(gotA, st.tensor(Float32Array.from(expected), { shape: [1, 4, 4, 3] }), 'da vs loops', 1e-6, 1e-6);
  });

  it('does not fire when the mask compares something else than the pooling input', () => {
    const a = T.tensor4('a'), w = T.tensor4('w'), b = T.tensor4('b');
    const pooled = T.maxPool2d(a, { poolSize: 2 });
    const gz = st.grad(T.sum(T.mul(pooled, w)), a);
    const f = st.fn([a, w, b], T.mul(gz, T.greater(b, 0)));
    assert.equal(fired(f, 'maxPoolGradRelu'), 0, show(f));
    const av = randomTensor([1, 2, 2, 1], 9), wv = st.tensor([3], { shape: [1, 1, 1, 1] });
    const bv = st.tensor([1, -1, 1, -1], { shape: [1, 2, 2, 1] });
    const data = av.dataSync() as Float32Array;
    let arg = 0;
    for (let i = 1; i < 4; i++) if (data[i] > data[arg]) arg = i;
    const expected = [0, 0, 0, 0];
    expected[arg] = arg % 2 === 0 ? 3 : 0;
    assertClose(run(f, av, wv, bv)[0], st.tensor(expected, { shape: [1, 2, 2, 1] }), 'masked by b', 0, 0);
  });
});
