// elementwiseFusion (chains of elementwise nodes -> one ELEMWISE program) and gemmEpilogue
// (act(matmul(a, b) + bias) -> one MATMUL_BIAS_ACT instruction).
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { EW, Op as NativeOp } from '../../lib/ops.generated';
import { FusedElemwise } from '../../lib/compile/rewrites/fusion';
import { T, assertClose, assertSame, countOps, graphText as show, fired, fusedNodes, opNames, randomTensor, run, withAndWithout } from './helpers';

function opcodes(f: st.CompiledFunction): number[] {
  return f.program()!.instrs.map((i) => i.opcode);
}

describe('compile: elementwiseFusion', () => {
  it('tanh(x*a + b) is one fused node and one ELEMWISE instruction', () => {
    const x = T.matrix('x'), a = T.matrix('a'), b = T.matrix('b');
    const { opt, ref } = withAndWithout([x, a, b], T.tanh(x.mul(a).add(b)), 'elementwiseFusion');
    const fused = fusedNodes(opt);
    assert.equal(opt.graph.nodes().length, 1, show(opt));
    assert.equal(fused.length, 1);
    assert.match(fused[0].op.label(), /^fused\{tanh\(add\(mul\(i\d,i\d\),i\d\)\)\}$/);
    assert.deepEqual(fused[0].inputs.map((v) => v.name).sort(), ['a', 'b', 'x']);
    assert.equal(fired(opt, 'elementwiseFusion'), 2);
    assert.deepEqual(opNames(ref), ['mul', 'add', 'tanh']);
    const xv = randomTensor([5, 7], 1), av = randomTensor([5, 7], 2), bv = randomTensor([5, 7], 3);
    const [r] = run(opt, xv, av, bv);
    assert.deepEqual(opcodes(opt), [NativeOp.ELEMWISE], 'one ELEMWISE instruction');
    assert.equal(opt.program()!.instrs[0].label, fused[0].op.label());
    const [unfused] = run(ref, xv, av, bv);
    assert.equal(opcodes(ref).length, 3, 'three instructions without fusion');
    assertClose(r, unfused, 'vs fusion excluded', 1e-6, 1e-7);
    assertClose(r, st.tanh(st.add(st.mul(xv, av), bv)), 'vs eager', 1e-6, 1e-7);
  });

  it('with broadcasting operands and inlined scalar constants', () => {
    const x = T.matrix('x'), a = T.vector('a');
    const out = T.tanh(x.mul(a).add(0.5)).mul(2);
    const { opt, ref } = withAndWithout([x, a], out, 'elementwiseFusion');
    const fused = fusedNodes(opt);
    assert.equal(opt.graph.nodes().length, 1, show(opt));
    assert.deepEqual(fused[0].inputs.map((v) => v.name).sort(), ['a', 'x'], 'constants are inlined, not inputs');
    assert.match(fused[0].op.label(), /^fused\{mul\(tanh\(add\(mul\(i\d,i\d\),0\.5\)\),2\)\}$/);
    const xv = randomTensor([4, 3], 4), av = st.tensor([1, -2, 0.5]);
    const [r] = run(opt, xv, av);
    assert.deepEqual(opcodes(opt), [NativeOp.ELEMWISE]);
    assertClose(r, run(ref, xv, av)[0], 'vs fusion excluded', 1e-6, 1e-7);
    assertClose(r, st.mul(st.tanh(st.add(st.mul(xv, av), 0.5)), 2), 'vs eager', 1e-6, 1e-7);
  });

  it('float64 chains, special values included', () => {
    const x = T.vector('x', 'float64'), y = T.vector('y', 'float64');
    const out = T.sqrt(T.exp(x.sub(y)).add(1)).div(y);
    const { opt, ref } = withAndWithout([x, y], out, 'elementwiseFusion');
    assert.equal(fusedNodes(opt).length, 1, show(opt));
    const xv = st.tensor([0, 1, -700, 710, NaN, Infinity], { dtype: 'float64' });
    const yv = st.tensor([1, -0, 2, 0.5, 1, 3], { dtype: 'float64' });
    const [r] = run(opt, xv, yv);
    assert.equal(r.dtype, 'float64');
    assertClose(r, run(ref, xv, yv)[0], 'vs fusion excluded', 1e-14, 0);
    assertClose(r, st.div(st.sqrt(st.add(st.exp(st.sub(xv, yv)), 1)), yv), 'vs eager', 1e-14, 0);
  });

  it('a lone node with a scalar constant becomes a one-input program', () => {
    const v = T.vector('v');
    const f = st.fn([v], v.mul(3));
    const [fused] = fusedNodes(f);
    assert.ok(fused, show(f));
    assert.equal(fused.inputs.length, 1);
    assert.ok(!fused.inputs.some((i) => i instanceof st.Constant));
    assertSame(run(f, [1, -2])[0], st.tensor([3, -6]), 'v * 3');
  });

  it('does not fuse a producer that is also a graph output', () => {
    const x = T.vector('x');
    const e = T.exp(x);
    const f = st.fn([x], [e, T.tanh(e)]);
    assert.deepEqual(opNames(f), ['exp', 'tanh'], show(f));
    const xv = st.tensor([0.5, -1, 2]);
    const [a, b] = run(f, xv);
    assert.equal(f.program()!.instrs.length, 2);
    assertSame(a, st.exp(xv), 'exp');
    assertSame(b, st.tanh(st.exp(xv)), 'tanh(exp)');
  });

  it('does not fuse a producer with two clients into either (no recomputation)', () => {
    const x = T.matrix('x');
    const e = T.exp(x);
    const f = st.fn([x], [T.tanh(e), T.sigmoid(e).mul(e.sum())]);
    assert.equal(countOps(f, 'exp'), 1, show(f));
    for (const n of fusedNodes(f)) assert.ok(!n.op.prog.ops.some((o) => o[0] === EW.EXP), `${n.op.label()} recomputes exp`);
    const xv = randomTensor([3, 4], 5);
    const [a, b] = run(f, xv);
    const ex = st.exp(xv);
    assertSame(a, st.tanh(ex), 'tanh(exp)');
    assertClose(b, st.mul(st.sigmoid(ex), st.sum(ex)), 'sigmoid(exp) * sum', 1e-6, 1e-6);
  });

  it('when both clients end up in one program, the shared producer is computed once', () => {
    const x = T.vector('x');
    const e = T.exp(x);
    const { opt, ref } = withAndWithout([x], T.tanh(e).add(T.sigmoid(e)), 'elementwiseFusion');
    const fused = fusedNodes(opt);
    assert.equal(opt.graph.nodes().length, 1, show(opt));
    assert.equal(fused[0].op.prog.ops.filter((o) => o[0] === EW.EXP).length, 1, 'one EXP micro-op');
    const xv = randomTensor([9], 6);
    assertClose(run(opt, xv)[0], run(ref, xv)[0], 'vs excluded', 1e-6, 1e-7);
    assertClose(run(opt, xv)[0], st.add(st.tanh(st.exp(xv)), st.sigmoid(st.exp(xv))), 'vs eager', 1e-6, 1e-7);
  });

  it('does not fuse across compute dtypes (float32 producer, float64 consumer)', () => {
    const x = T.vector('x'), y = T.vector('y', 'float64');
    const f = st.fn([x, y], T.exp(x).add(y));
    assert.equal(countOps(f, 'exp'), 1, show(f));
    const xv = st.tensor([0.1, 2]), yv = st.tensor([1, 2], { dtype: 'float64' });
    const [r] = run(f, xv, yv);
    assert.equal(r.dtype, 'float64');
    assertSame(r, st.add(st.exp(xv), yv), 'exp(x32) + y64');
  });

  it('does not fuse through non-elementwise nodes (reduction, softmax)', () => {
    const x = T.matrix('x');
    const f = st.fn([x], T.exp(T.softmax(x.mul(2))).sum(1).add(1));
    const names = opNames(f);
    assert.deepEqual(names, ['fused', 'softmax', 'exp', 'sum', 'fused'], show(f));
    const xv = randomTensor([3, 4], 7);
    assertClose(run(f, xv)[0], st.add(st.sum(st.exp(st.softmax(st.mul(xv, 2))), 1), 1), 'vs eager', 1e-6, 1e-6);
  });

  it('compare/select chains (bool intermediates) keep their values', () => {
    const x = T.vector('x');
    const out = T.where(x.greater(0), x.mul(2), T.neg(x)).add(x.less(-1));
    const { opt, ref } = withAndWithout([x], out, 'elementwiseFusion');
    assert.equal(opt.graph.nodes().length, 1, show(opt));
    assert.ok(opt.graph.nodes()[0].op instanceof FusedElemwise);
    const xv = st.tensor([-3, -1, -0.5, 0, 0.5, 4, NaN]);
    assertSame(run(opt, xv)[0], run(ref, xv)[0], 'vs excluded');
    assertSame(run(opt, xv)[0], st.add(st.where(st.greater(xv, 0), st.mul(xv, 2), st.neg(xv)), st.less(xv, -1)), 'vs eager');
  });
});

describe('compile: gemmEpilogue', () => {
  const xv = randomTensor([5, 4], 11), wv = randomTensor([4, 3], 12), bv = st.tensor([0.5, -1, 2]);

  for (const act of ['tanh', 'relu', 'sigmoid', null] as const) {
    it(`${act ? `${act}(x·w + b)` : 'x·w + b'} is one matmulBiasAct node (MATMUL_BIAS_ACT)`, () => {
      const x = T.matrix('x'), w = T.matrix('w'), b = T.vector('b');
      const lin = T.dot(x, w).add(b);
      const out = act ? T[act](lin) : lin;
      const { opt, ref } = withAndWithout([x, w, b], out, 'gemmEpilogue');
      assert.deepEqual(opNames(opt), ['matmulBiasAct'], show(opt));
      assert.equal(fired(opt, 'gemmEpilogue'), 1);
      assert.equal(countOps(ref, 'matmul'), 1, show(ref));
      assert.equal(countOps(ref, 'matmulBiasAct'), 0, show(ref));
      const eagerLin = st.add(st.matmul(xv, wv), bv);
      const eager = act ? st[act](eagerLin) : eagerLin;
      const expected = run(ref, xv, wv, bv)[0];
      assertClose(expected, eager, 'excluded vs eager', 1e-6, 1e-6);
      const [r] = run(opt, xv, wv, bv);
      assert.deepEqual(opcodes(opt), [NativeOp.MATMUL_BIAS_ACT]);
      assertClose(r, expected, 'vs rewrite excluded', 1e-5, 1e-6);
      assertClose(r, eager, 'vs eager', 1e-5, 1e-6);
    });
  }

  it('bias first, transposed operands', () => {
    const x = T.matrix('x'), xt = T.matrix('xt'), wt = T.matrix('wt'), b = T.vector('b');
    const outs = [T.relu(b.add(T.matmul(x, wt, false, true))), T.tanh(T.matmul(xt, wt, true, true).add(b))];
    const f = st.fn([x, xt, wt, b], outs);
    assert.deepEqual(opNames(f), ['matmulBiasAct', 'matmulBiasAct'], show(f));
    const [a, c] = run(f, xv, st.transpose(xv), st.transpose(wv), bv);
    const lin = st.add(st.matmul(xv, wv), bv);
    assertClose(a, st.relu(lin), 'relu(b + x·wtᵀ)', 1e-5, 1e-6);
    assertClose(c, st.tanh(lin), 'tanh(xtᵀ·wtᵀ + b)', 1e-5, 1e-6);
  });

  it('does not fire on a batched (3-D) matmul', () => {
    const x = T.tensor3('x'), w = T.matrix('w'), b = T.vector('b');
    const f = st.fn([x, w, b], T.tanh(T.matmul(x, w).add(b)));
    assert.equal(fired(f, 'gemmEpilogue'), 0, show(f));
    const x3 = randomTensor([2, 5, 4], 13);
    assertClose(run(f, x3, wv, bv)[0], st.tanh(st.add(st.matmul(x3, wv), bv)), 'vs eager', 1e-6, 1e-6);
  });

  it('does not fire with a 2-D bias, nor on a matrix-vector product', () => {
    const x = T.matrix('x'), w = T.matrix('w'), v = T.vector('v'), b2 = T.tensor('float32', [1, null], 'b2'), s = T.vector('s');
    const f = st.fn([x, w, b2, v, s], [T.dot(x, w).add(b2), T.tanh(T.dot(x, v).add(s))]);
    assert.equal(fired(f, 'gemmEpilogue'), 0, show(f));
    assert.equal(countOps(f, 'matmulBiasAct'), 0);
    const b2v = randomTensor([1, 3], 14), vv = randomTensor([4], 15), sv = randomTensor([5], 16);
    const [a, c] = run(f, xv, wv, b2v, vv, sv);
    assertClose(a, st.add(st.matmul(xv, wv), b2v), 'x·w + [1,3] bias', 1e-6, 1e-6);
    assertClose(c, st.tanh(st.add(st.matmul(xv, vv), sv)), 'tanh(x·v + s)', 1e-6, 1e-6);
  });

  it('does not fire when the product has another client', () => {
    const x = T.matrix('x'), w = T.matrix('w'), b = T.vector('b');
    const mm = T.dot(x, w);
    const f = st.fn([x, w, b], [T.tanh(mm.add(b)), mm]);
    assert.equal(fired(f, 'gemmEpilogue'), 0, show(f));
    assert.equal(countOps(f, 'matmul'), 1);
    const [a, c] = run(f, xv, wv, bv);
    assertClose(c, st.matmul(xv, wv), 'x·w', 1e-6, 1e-6);
    assertClose(a, st.tanh(st.add(st.matmul(xv, wv), bv)), 'tanh(x·w + b)', 1e-6, 1e-6);
  });

  it('leaves the activation out when the sum has two clients', () => {
    const x = T.matrix('x'), w = T.matrix('w'), b = T.vector('b');
    const lin = T.dot(x, w).add(b);
    const f = st.fn([x, w, b], [T.relu(lin), T.tanh(lin)]);
    const mba = f.graph.nodes().filter((n) => n.op.name === 'matmulBiasAct');
    assert.equal(mba.length, 1, show(f));
    assert.equal((mba[0].op as unknown as { act: number }).act, 0, 'no activation folded in');
  });

  // A static bias of shape [1] broadcasts over any n in add(); MatMulBiasAct.infer only
  // accepts bias.shape[0] === n, so the rewritten function fails for n != 1.
  it('a bias of static shape [1] (broadcast) still works', () => {
    const x = T.matrix('x'), w = T.matrix('w'), b1 = T.tensor('float32', [1], 'b1');
    const out = T.dot(x, w).add(b1);
    const ref = st.fn([x, w, b1], out, { excludeRewrites: ['gemmEpilogue'] });
    const one = st.tensor([0.5]);
    const expected = run(ref, xv, wv, one)[0];
    assertClose(expected, st.add(st.matmul(xv, wv), one), 'excluded vs eager', 1e-6, 1e-6);
    const f = st.fn([x, w, b1], out);
    assertClose(run(f, xv, wv, one)[0], expected, 'with gemmEpilogue', 1e-5, 1e-6);
  });

  // matmul upcasts int32·float32 to float32, but MatMulBiasAct.lower emits a.dtype (int32).
  it('mixed int32 · float32 operands (the product is float32)', () => {
    const xi = T.imatrix('xi'), w = T.matrix('w'), b = T.vector('b');
    const out = T.dot(xi, w).add(b);
    assert.equal(out.dtype, 'float32');
    const xiv = st.tensor([[1, 2, 3, 4], [-1, 0, 2, 5]], { dtype: 'int32' });
    const ref = st.fn([xi, w, b], out, { excludeRewrites: ['gemmEpilogue'] });
    const expected = run(ref, xiv, wv, bv)[0];
    assertClose(expected, st.add(st.matmul(st.cast(xiv, 'float32'), wv), bv), 'excluded vs eager', 1e-6, 1e-6);
    const f = st.fn([xi, w, b], out);
    assertClose(run(f, xiv, wv, bv)[0], expected, 'with gemmEpilogue', 1e-5, 1e-6);
  });
});
