// convEpilogue: act(conv2d(x, w) + bias) -> one CONV2D_BIAS_ACT instruction, with the bits of the
// unfused program, in inference and in a training step's forward pass.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { Op as NativeOp } from '../../lib/ops.generated';
import { T, assertClose, assertSame, fired, graphText as show, opNames, randomTensor, run, withAndWithout } from './helpers';
import { checkGrad } from '../support/fd';
import { Rng } from '../support/reference';

type Act = 'relu' | 'sigmoid' | 'tanh' | null;
type Pad = 'valid' | 'same';

function opcodes(f: st.CompiledFunction): number[] {
  return f.program()!.instrs.map((i) => i.opcode);
}

const actOf = (act: Act, v: number): number =>
  act === 'relu' ? Math.max(v, 0) : act === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : act === 'tanh' ? Math.tanh(v) : v;

/** act(conv2d(x, w) + b) by plain loops in float64 (TensorFlow's 'same' padding: the extra pad at the end). */
function reference(x: st.Tensor, w: st.Tensor, b: st.Tensor, stride: number, padding: Pad, act: Act): st.Tensor {
  const [n, h, wd, c] = x.shape, [kh, kw, , f] = w.shape;
  const xs = x.dataSync() as ArrayLike<number>, ws = w.dataSync() as ArrayLike<number>, bs = b.dataSync() as ArrayLike<number>;
  const axis = (size: number, k: number): [number, number] => {
    if (padding === 'valid') return [Math.floor((size - k) / stride) + 1, 0];
    const o = Math.ceil(size / stride);
    return [o, Math.floor(Math.max((o - 1) * stride + k - size, 0) / 2)];
  };
  const [oh, pt] = axis(h, kh), [ow, pl] = axis(wd, kw);
  const out = new Float64Array(n * oh * ow * f);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++)
        for (let o = 0; o < f; o++) {
          let s = 0;
          for (let p = 0; p < kh; p++)
            for (let q = 0; q < kw; q++) {
              const ih = y * stride - pt + p, iw = z * stride - pl + q;
              if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
              for (let ch = 0; ch < c; ch++) s += xs[((i * h + ih) * wd + iw) * c + ch] * ws[((p * kw + q) * c + ch) * f + o];
            }
          out[((i * oh + y) * ow + z) * f + o] = actOf(act, s + bs[o]);
        }
  return st.tensor(out, { shape: [n, oh, ow, f], dtype: 'float64' });
}

describe('compile: convEpilogue', () => {
  for (const act of ['relu', 'sigmoid', 'tanh', null] as Act[])
    for (const [stride, padding] of [[1, 'valid'], [2, 'same']] as [number, Pad][])
      it(`${act ?? 'no activation'}(conv2d(x, w) + b), stride ${stride}, ${padding}: one CONV2D_BIAS_ACT`, () => {
        const x = T.tensor('float32', [null, 9, 7, 3], 'x'), w = T.tensor('float32', [3, 3, 3, 16], 'w'), b = T.vector('b');
        const lin = T.conv2d(x, w, { strides: stride, padding }).add(b);
        const out = act ? T[act](lin) : lin;
        const { opt, ref } = withAndWithout([x, w, b], out, 'convEpilogue');
        assert.deepEqual(opNames(opt), ['conv2dBiasAct'], show(opt));
        assert.equal(fired(opt, 'convEpilogue'), 1);
        assert.equal(opNames(ref).includes('conv2dBiasAct'), false, show(ref));
        const xv = randomTensor([2, 9, 7, 3], 1, -1, 1), wv = randomTensor([3, 3, 3, 16], 2, -1, 1), bv = randomTensor([16], 3, -1, 1);
        const [r] = run(opt, xv, wv, bv);
        assert.deepEqual(opcodes(opt), [NativeOp.CONV2D_BIAS_ACT]);
        assert.equal(opt.program()!.instrs[0].label, `conv2d+bias${act ? '+' + act : ''}`);
        const [unfused] = run(ref, xv, wv, bv);
        assert.ok(!opcodes(ref).includes(NativeOp.CONV2D_BIAS_ACT) && opcodes(ref).includes(NativeOp.CONV2D));
        assertSame(r, unfused, 'vs the rewrite excluded (bits)');
        assertClose(st.cast(r, 'float64'), reference(xv, wv, bv, stride, padding, act), 'vs loops', 1e-5, 1e-5);
      });

  it('float64, the bias first, one input channel and few filters (the im2col route)', () => {
    const x = T.tensor('float64', [2, 8, 8, 1], 'x'), w = T.tensor('float64', [3, 3, 1, 3], 'w'), b = T.vector('b', 'float64');
    const f = st.fn([x, w, b], T.tanh(b.add(T.conv2d(x, w, { padding: 'same' }))));
    assert.deepEqual(opNames(f), ['conv2dBiasAct'], show(f));
    const xv = randomTensor([2, 8, 8, 1], 4, -2, 2, 'float64'), wv = randomTensor([3, 3, 1, 3], 5, -2, 2, 'float64');
    const bv = randomTensor([3], 6, -1, 1, 'float64');
    assertClose(run(f, xv, wv, bv)[0], reference(xv, wv, bv, 1, 'same', 'tanh'), 'vs loops', 1e-12, 1e-12);
  });

  it('does not fuse past a value with another client, nor a bias that would broadcast', () => {
    const x = T.tensor('float32', [2, 6, 6, 2], 'x'), w = T.tensor('float32', [3, 3, 2, 4], 'w'), b = T.vector('b');
    const cv = T.conv2d(x, w);
    const twoUses = st.fn([x, w, b], [T.relu(cv.add(b)), cv]);
    assert.equal(opNames(twoUses).includes('conv2dBiasAct'), false, show(twoUses));
    const sum = cv.add(b);
    // the sum is an output too: the bias is fused, the activation stays a separate pass
    const sumUsed = st.fn([x, w, b], [T.relu(sum), sum]);
    assert.deepEqual(opNames(sumUsed), ['conv2dBiasAct', 'relu'], show(sumUsed));
    assert.equal((sumUsed.graph.nodes()[0].op as unknown as { act: number }).act, 0);
    const b1 = T.tensor('float32', [1], 'b1');
    const bcast = st.fn([x, w, b1], T.relu(cv.add(b1)));
    assert.equal(opNames(bcast).includes('conv2dBiasAct'), false, show(bcast));
    const b64 = T.vector('b64', 'float64');  // the add runs in float64: not the kernel's arithmetic
    const mixed = st.fn([x, w, b64], T.relu(cv.add(b64)));
    assert.equal(opNames(mixed).includes('conv2dBiasAct'), false, show(mixed));
    // the sum as an output without activation: fires with act none
    const plain = st.fn([x, w, b], cv.add(b));
    assert.deepEqual(opNames(plain), ['conv2dBiasAct'], show(plain));
  });

  it("layers.conv2d with activation 'relu' and 'same' padding compiles to one CONV2D_BIAS_ACT", () => {
    const x = T.tensor('float32', [3, 10, 9, 2], 'x');
    const layer = st.layers.conv2d({ filters: 12, kernelSize: 3, padding: 'same', activation: 'relu' });
    const y = layer.apply(x) as st.Variable;
    const { opt, ref } = withAndWithout([x], y, 'convEpilogue');
    const xv = randomTensor([3, 10, 9, 2], 13, -1, 1);
    const [r] = run(opt, xv), [u] = run(ref, xv);
    assert.deepEqual(opcodes(opt), [NativeOp.CONV2D_BIAS_ACT], show(opt));
    assertSame(r, u, 'vs the rewrite excluded (bits)');
    const [kernel, bias] = layer.getWeights();
    assertClose(st.cast(r, 'float64'), reference(xv, kernel, bias, 1, 'same', 'relu'), 'vs loops', 1e-5, 1e-5);
    const v = Array.from(r.dataSync() as Float32Array);
    assert.ok(v.some((e) => e === 0) && v.some((e) => e > 0.05), 'the ReLU clips some outputs and passes others');
  });

  it('a two-layer conv net: loss and gradients have the bits of the unfused program', () => {
    const x = T.tensor('float32', [4, 11, 11, 3], 'x');
    const w1 = T.tensor('float32', [3, 3, 3, 8], 'w1'), b1 = T.vector('b1');
    const w2 = T.tensor('float32', [3, 3, 8, 16], 'w2'), b2 = T.vector('b2'), r = T.tensor('float32', [4, 5, 5, 16], 'r');
    const h1 = T.relu(T.conv2d(x, w1).add(b1));
    const h2 = T.tanh(T.conv2d(h1, w2, { strides: 2, padding: 'same' }).add(b2));
    const loss = T.sum(T.mul(h2, r));
    const grads = st.grad(loss, [w1, b1, w2, b2]);
    const inputs = [x, w1, b1, w2, b2, r];
    const { opt, ref } = withAndWithout(inputs, [loss, ...grads], 'convEpilogue');
    const vals = [
      randomTensor([4, 11, 11, 3], 7, -1, 1), randomTensor([3, 3, 3, 8], 8, -0.5, 0.5), randomTensor([8], 9, -0.2, 0.2),
      randomTensor([3, 3, 8, 16], 10, -0.3, 0.3), randomTensor([16], 11, -0.2, 0.2), randomTensor([4, 5, 5, 16], 12, -1, 1),
    ];
    const got = run(opt, ...vals), want = run(ref, ...vals);
    assert.equal(opcodes(opt).filter((o) => o === NativeOp.CONV2D_BIAS_ACT).length, 2, 'both layers fused in the training step');
    assert.equal(opcodes(ref).filter((o) => o === NativeOp.CONV2D_BIAS_ACT).length, 0);
    ['loss', 'dw1', 'db1', 'dw2', 'db2'].forEach((name, i) => assertSame(got[i], want[i], name));
    // not vacuous: the ReLU is active and inactive, the gradients are not zero
    const g1 = Array.from(got[1].dataSync() as Float32Array);
    assert.ok(g1.some((v) => Math.abs(v) > 1e-3));
  });

  it('float64 gradients of a fused conv net match finite differences', () => {
    const rng = new Rng(21);
    const vals = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => rng.uniform(lo, hi));
    const shapes = [[2, 6, 5, 2], [3, 3, 2, 4], [4], [2, 2, 4, 3], [3]];
    const values = [vals(120, -1, 1), vals(72, -0.5, 0.5), vals(4, -0.3, 0.3), vals(48, -0.5, 0.5), vals(3, -0.3, 0.3)];
    const net = (x: st.Variable, w1: st.Variable, b1: st.Variable, w2: st.Variable, b2: st.Variable) => {
      const h = T.sigmoid(T.conv2d(x, w1, { padding: 'same' }).add(b1));
      return T.tanh(T.conv2d(h, w2, { strides: 2 }).add(b2));
    };
    // the gradient program runs both convolutions fused
    const vars = shapes.map((sh, i) => T.tensor('float64', sh, `v${i}`));
    const probe = st.fn(vars, st.grad(T.sum(net(...(vars as [st.Variable, st.Variable, st.Variable, st.Variable, st.Variable]))), vars));
    run(probe, ...values.map((v, i) => st.tensor(Float64Array.from(v), { shape: shapes[i], dtype: 'float64' })));
    assert.equal(opcodes(probe).filter((o) => o === NativeOp.CONV2D_BIAS_ACT).length, 2, show(probe));
    probe.dispose();
    const names = ['x', 'w1', 'b1', 'w2', 'b2'];
    const res = checkGrad(
      'conv2dBiasAct net',
      shapes.map((shape, i) => ({ shape, value: values[i], name: names[i] })),
      (x, w1, b1, w2, b2) => net(x, w1, b1, w2, b2),
      { rtol: 1e-6, atol: 1e-8 },
    );
    assert.ok(res.maxErr < 1e-6, `largest error ${res.maxErr}`);
  });
});
