// Algebraic rewrites (x*1, x+0, x-0, x/1, neg(neg x), log(exp x), x-x): each fires where it is
// valid, leaves the numbers unchanged, and stays away from the cases where it would be wrong.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { T, assertClose, assertSame, countOps, graphText as show, fired, randomTensor, run, withAndWithout } from './helpers';

// Structure is checked with fusion off, so the remaining elementwise nodes keep their names.
const NO_FUSION = ['elementwiseFusion'];

const special = () => st.tensor([[1.5, -2.25, 0], [Infinity, -Infinity, NaN]]);

describe('compile: algebraic rewrites', () => {
  describe('mulIdentity (x*1, 1*x)', () => {
    it('removes the multiplication and keeps every value, NaN and infinities included', () => {
      const x = T.matrix('x');
      const outs = [T.tanh(x.mul(1)), T.exp(T.mul(1, x)), T.neg(x.mul(T.constant([[1]])))];
      const { opt, ref } = withAndWithout([x], outs, 'mulIdentity', NO_FUSION);
      assert.equal(countOps(opt, 'mul'), 0, show(opt));
      assert.equal(countOps(ref, 'mul'), 3, show(ref));
      assert.equal(fired(opt, 'mulIdentity'), 3);
      const xv = special();
      const a = run(opt, xv), b = run(ref, xv);
      const eager = [st.tanh(xv), st.exp(xv), st.neg(xv)];
      for (let i = 0; i < 3; i++) {
        assertSame(a[i], b[i], `output ${i} vs rewrite excluded`);
        assertSame(a[i], eager[i], `output ${i} vs eager`);
      }
    });

    it('keeps -0 (x*1 is exact for signed zeros)', () => {
      const v = T.vector('v');
      const { opt, ref } = withAndWithout([v], T.neg(v.mul(1)), 'mulIdentity');
      const xv = st.tensor([-0, 0, 2]);
      assertSame(run(opt, xv)[0], run(ref, xv)[0], 'neg(x*1)');
      assertSame(run(opt, xv)[0], st.neg(xv), 'vs eager');
    });

    it('does not fire when the 1 broadcasts x to a larger rank', () => {
      const v = T.vector('v');
      const f = st.fn([v], v.mul(T.constant([[1]])), { excludeRewrites: NO_FUSION });
      assert.equal(countOps(f, 'mul'), 1, show(f));
      assert.equal(fired(f, 'mulIdentity'), 0);
      const [r] = run(f, [1, 2, 3]);
      assert.deepEqual(r.shape, [1, 3]);
      assertSame(r, st.tensor([[1, 2, 3]]), 'v * [[1]]');
    });

    it('does not fire when the 1 changes the dtype (int32 * float32 1)', () => {
      const v = T.ivector('v');
      const f = st.fn([v], v.mul(T.constant(1, undefined, 'float32')), { excludeRewrites: NO_FUSION });
      assert.equal(fired(f, 'mulIdentity'), 0, show(f));
      const [r] = run(f, [1, -2, 7]);
      assert.equal(r.dtype, 'float32');
      assertSame(r, st.tensor([1, -2, 7]), 'int * 1.0');
    });

    it('does not fire for a multiplier other than 1', () => {
      const v = T.vector('v');
      const f = st.fn([v], v.mul(T.constant([1.0000001])), { excludeRewrites: NO_FUSION });
      assert.equal(fired(f, 'mulIdentity'), 0, show(f));
    });
  });

  describe('addIdentity (x+(-0), (-0)+x)', () => {
    it('removes the addition; values equal the unoptimized ones', () => {
      const x = T.matrix('x');
      const outs = [T.sigmoid(x.add(-0)), T.square(T.add(-0, x))];
      const { opt, ref } = withAndWithout([x], outs, 'addIdentity', NO_FUSION);
      assert.equal(countOps(opt, 'add'), 0, show(opt));
      assert.equal(countOps(ref, 'add'), 2);
      assert.equal(fired(opt, 'addIdentity'), 2);
      const xv = special();
      const a = run(opt, xv), b = run(ref, xv);
      assertSame(a[0], b[0], 'sigmoid(x+(-0))');
      assertSame(a[1], b[1], 'square((-0)+x)');
      assertSame(a[0], st.sigmoid(xv), 'sigmoid vs eager');
      assertSame(a[1], st.square(xv), 'square vs eager');
    });

    it('does not fire when the 0 broadcasts x to a larger rank', () => {
      const v = T.vector('v');
      const f = st.fn([v], T.add(T.constant([[0], [0]]), v), { excludeRewrites: NO_FUSION });
      assert.equal(fired(f, 'addIdentity'), 0, show(f));
      assertSame(run(f, [1, 2])[0], st.tensor([[1, 2], [1, 2]]), '[[0],[0]] + v');
    });

    // IEEE: -0 + 0 is +0, so x+0 -> x would not be exact; only x+(-0) is rewritten.
    it('keeps the sign of zero: (-0) + 0 is +0', () => {
      const v = T.vector('v');
      const { opt, ref } = withAndWithout([v], T.reciprocal(v.add(0)), 'addIdentity');
      assert.equal(fired(opt, 'addIdentity'), 0, show(opt));
      const xv = st.tensor([-0, 2]);
      const eager = st.reciprocal(st.add(xv, 0));
      assertSame(run(ref, xv)[0], eager, 'rewrite excluded vs eager');
      assertSame(run(opt, xv)[0], eager, '1/(x+0) with the rewrite (expected +Infinity for x = -0)');
    });
  });

  describe('subIdentity (x-0)', () => {
    it('removes the subtraction, exact for -0 too', () => {
      const v = T.vector('v');
      const { opt, ref } = withAndWithout([v], T.reciprocal(v.sub(0)), 'subIdentity', NO_FUSION);
      assert.equal(countOps(opt, 'sub'), 0, show(opt));
      assert.equal(fired(opt, 'subIdentity'), 1);
      const xv = st.tensor([-0, 0, 3, NaN, -Infinity]);
      assertSame(run(opt, xv)[0], run(ref, xv)[0], 'vs rewrite excluded');
      assertSame(run(opt, xv)[0], st.reciprocal(xv), 'vs eager');
    });

    it('does not rewrite 0-x (subtraction does not commute)', () => {
      const v = T.vector('v');
      const f = st.fn([v], T.sub(0, v), { excludeRewrites: NO_FUSION });
      assert.equal(fired(f, 'subIdentity'), 0, show(f));
      assertSame(run(f, [1, -2])[0], st.tensor([-1, 2]), '0 - v');
    });
  });

  describe('divIdentity (x/1)', () => {
    it('removes the division', () => {
      const x = T.matrix('x');
      const { opt, ref } = withAndWithout([x], T.exp(x.div(1)), 'divIdentity', NO_FUSION);
      assert.equal(countOps(opt, 'div'), 0, show(opt));
      assert.equal(fired(opt, 'divIdentity'), 1);
      const xv = special();
      assertSame(run(opt, xv)[0], run(ref, xv)[0], 'vs rewrite excluded');
      assertSame(run(opt, xv)[0], st.exp(xv), 'vs eager');
    });

    it('does not rewrite 1/x, nor int/1 (whose result is float32)', () => {
      const v = T.vector('v');
      const f = st.fn([v], T.div(1, v), { excludeRewrites: NO_FUSION });
      assert.equal(fired(f, 'divIdentity'), 0, show(f));
      assertSame(run(f, [2, 4])[0], st.tensor([0.5, 0.25]), '1/v');
      const iv = T.ivector('iv');
      const g = st.fn([iv], iv.div(1), { excludeRewrites: NO_FUSION });
      assert.equal(fired(g, 'divIdentity'), 0, show(g));
      const [r] = run(g, [3, -4]);
      assert.equal(r.dtype, 'float32');
      assertSame(r, st.tensor([3, -4]), 'int / 1');
    });
  });

  describe('negNeg', () => {
    it('neg(neg(x)) -> x and neg(neg(neg(x))) -> neg(x)', () => {
      const x = T.matrix('x'), y = T.matrix('y');
      const outs = [T.exp(T.neg(T.neg(x))), T.neg(T.neg(T.neg(y)))];
      const { opt, ref } = withAndWithout([x, y], outs, 'negNeg', NO_FUSION);
      assert.equal(countOps(opt, 'neg'), 1, show(opt));
      assert.equal(countOps(ref, 'neg'), 5, show(ref));
      assert.equal(fired(opt, 'negNeg'), 2);
      const xv = st.tensor([[-0, 0, 1], [NaN, Infinity, -2]]);
      const a = run(opt, xv, xv), b = run(ref, xv, xv);
      assertSame(a[0], b[0], 'exp(--x)');
      assertSame(a[1], b[1], '---x');
      assertSame(a[0], st.exp(xv), 'exp vs eager');
      assertSame(a[1], st.neg(xv), 'neg vs eager');
    });
  });

  describe('castSame', () => {
    it('drops a cast to the dtype its input has and keeps real conversions', () => {
      const x = T.matrix('x'), i = T.imatrix('i');
      const outs = [T.exp(T.cast(x, 'float32')), T.cast(T.cast(i, 'int32'), 'float32'), T.cast(x, 'int32')];
      const { opt, ref } = withAndWithout([x, i], outs, 'castSame', NO_FUSION);
      assert.equal(countOps(opt, 'cast'), 2, show(opt));
      assert.equal(countOps(ref, 'cast'), 4, show(ref));
      assert.equal(fired(opt, 'castSame'), 2);
      const xv = st.tensor([[-0, 1.5, -2.7], [NaN, Infinity, 3]]);
      const iv = st.tensor([[1, -2, 3], [4, 5, -6]], { dtype: 'int32' });
      const a = run(opt, xv, iv), b = run(ref, xv, iv);
      a.forEach((t, k) => assertSame(t, b[k], `output ${k}`));
      assertSame(a[0], st.exp(xv), 'exp vs eager');
    });
  });

  describe('logExp (log(exp x) -> x)', () => {
    it('removes both nodes; values match the unoptimized form within rounding', () => {
      const x = T.matrix('x');
      const { opt, ref } = withAndWithout([x], T.tanh(T.log(T.exp(x))), 'logExp', NO_FUSION);
      assert.deepEqual(opt.graph.nodes().map((n) => n.op.name), ['tanh'], show(opt));
      assert.equal(fired(opt, 'logExp'), 1);
      const xv = randomTensor([4, 5], 1, -8, 8);
      assertClose(run(opt, xv)[0], run(ref, xv)[0], 'vs rewrite excluded', 1e-5, 1e-6);
      assertSame(run(opt, xv)[0], st.tanh(xv), 'vs eager tanh(x)');
    });

    it('is exact where exp overflows: log(exp(100)) is 100, not Infinity', () => {
      const v = T.vector('v');
      const { opt, ref } = withAndWithout([v], T.log(T.exp(v)), 'logExp');
      const xv = st.tensor([100, -Infinity, Infinity, NaN]);
      assertSame(run(opt, xv)[0], xv, 'rewritten');
      const unopt = run(ref, xv)[0].dataSync();
      assert.equal(unopt[0], Infinity, 'the unoptimized form overflows');
    });

    it('leaves exp(log x) alone (NaN for x < 0, not x)', () => {
      const v = T.vector('v');
      const f = st.fn([v], T.exp(T.log(v)), { excludeRewrites: NO_FUSION });
      assert.deepEqual(f.graph.nodes().map((n) => n.op.name), ['log', 'exp'], show(f));
      const xv = st.tensor([-1, 0, 2]);
      const [r] = run(f, xv);
      assert.ok(Number.isNaN(r.dataSync()[0]), 'exp(log(-1)) is NaN');
      assertSame(r, st.exp(st.log(xv)), 'vs eager');
    });

    it('does not fire on int32 x (log(exp(int)) is float32)', () => {
      const v = T.ivector('v');
      const f = st.fn([v], T.log(T.exp(v)), { excludeRewrites: NO_FUSION });
      assert.equal(fired(f, 'logExp'), 0, show(f));
      const [r] = run(f, [1, 2]);
      assert.equal(r.dtype, 'float32');
      assertClose(r, st.tensor([1, 2]), 'log(exp(int))', 1e-6, 1e-6);
    });
  });

  describe('subSelf (x - x -> 0)', () => {
    it('gives zeros of the run-time shape of x', () => {
      const x = T.matrix('x');
      const { opt, ref } = withAndWithout([x], x.sub(x), 'subSelf', NO_FUSION);
      assert.equal(countOps(opt, 'sub'), 0, show(opt));
      assert.equal(fired(opt, 'subSelf'), 1);
      const xv = randomTensor([3, 4], 2);
      const [r] = run(opt, xv);
      assertSame(r, run(ref, xv)[0], 'vs rewrite excluded');
      assertSame(r, st.sub(xv, xv), 'vs eager');
      // another shape through the same function
      assertSame(run(opt, randomTensor([1, 7], 3))[0], st.zeros([1, 7]), 'shape [1,7]');
    });

    it('int32: x - x is int32 zeros', () => {
      const v = T.ivector('v');
      const f = st.fn([v], v.sub(v));
      assert.equal(fired(f, 'subSelf'), 1);
      const [r] = run(f, [5, -3]);
      assertSame(r, st.zeros([2], 'int32'), 'int x - x');
    });

    it('x - x is 0 even for NaN and infinities (the documented Theano behaviour)', () => {
      const v = T.vector('v');
      const f = st.fn([v], v.sub(v));
      assertSame(run(f, [NaN, Infinity, 1])[0], st.tensor([0, 0, 0]), 'x - x');
    });

    it('does not fire on x - y', () => {
      const x = T.vector('x'), y = T.vector('y');
      const f = st.fn([x, y], x.sub(y), { excludeRewrites: NO_FUSION });
      assert.equal(fired(f, 'subSelf'), 0);
      assertSame(run(f, [1, 2], [1, 3])[0], st.tensor([0, -1]), 'x - y');
    });
  });
});
