// The ELEMWISE program builder: register numbering, inlining, checks, and programs it builds run
// natively with the values plain loops give.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { EwBuilder, ewAttrs, ewProgramOf, ewSubstitute } from '../../lib/tensor/ew-builder';
import { execOp } from '../../lib/tensor/tensor';
import { EW, Op } from '../../lib/ops.generated';
import { expectError } from '../support/check';

describe('elementwise program builder', () => {
  it('numbers inputs first and ops in the order added, whenever the inputs were asked for', () => {
    const b = new EwBuilder('float32');
    const x = b.input();
    const two = b.constant(2);
    const y = b.input(); // asked for after an op: still register 1
    b.output(b.op(EW.ADD, [b.op(EW.MUL, [x, two]), y]));
    assert.deepEqual(b.program(), {
      nIn: 2,
      ops: [[EW.CONST, 2, 0, 0, 0], [EW.MUL, 3, 0, 2, 0], [EW.ADD, 4, 3, 1, 0]],
      params: [[2, 0], [0, 0], [0, 0]],
      outs: [4],
    });
    // iattr: [ctype f32 = 0, n_ops, ops…, out regs]; fattr: (p0, p1) per op
    assert.deepEqual(b.build(), { iattr: [0, 3, EW.CONST, 2, 0, 0, 0, EW.MUL, 3, 0, 2, 0, EW.ADD, 4, 3, 1, 0, 4], fattr: [2, 0, 0, 0, 0, 0] });
  });

  it('bool programs compute in int32; float64 keeps its code', () => {
    const b = new EwBuilder('bool');
    b.output(b.op(EW.LOGICAL_NOT, [b.input()]));
    assert.equal(b.build().iattr[0], 2);
    const d = new EwBuilder('float64');
    d.output(d.op(EW.NEG, [d.input()]));
    assert.equal(d.build().iattr[0], 1);
  });

  it('inline replays a program on other registers and returns its outputs', () => {
    const inner = new EwBuilder('float32');
    const a = inner.input(), c = inner.input();
    inner.output(inner.op(EW.SUB, [a, c]));
    inner.output(inner.op(EW.MUL, [a, a]));
    const outer = new EwBuilder('float32');
    const x = outer.input(), y = outer.input();
    const [diff, sq] = outer.inline(inner.program(), [y, x]); // swapped: y - x, y * y
    outer.output(outer.op(EW.ADD, [diff, sq]));
    assert.deepEqual(outer.program().ops, [[EW.SUB, 2, 1, 0, 0], [EW.MUL, 3, 1, 1, 0], [EW.ADD, 4, 2, 3, 0]]);
  });

  it('rejects wrong arities, foreign registers and programs without outputs', () => {
    const b = new EwBuilder('float32');
    const x = b.input();
    expectError(() => b.op(EW.ADD, [x]), 'ERR_ST_INTERNAL', ['add takes 2']);
    const other = new EwBuilder('float32');
    expectError(() => b.op(EW.NEG, [other.input()]), 'ERR_ST_INTERNAL', ['another program']);
    expectError(() => b.output(other.input()), 'ERR_ST_INTERNAL', ['another program']);
    expectError(() => b.build(), 'ERR_ST_INTERNAL', ['without outputs']);
    expectError(() => b.inline(other.program(), [x]), 'ERR_ST_INTERNAL', ['inlining']);
  });

  it('a built two-output program runs natively as plain loops compute it', () => {
    // out0 = where(x > 0, x * 0.5 + y, -y), out1 = (x - y)^2, both in float64
    const b = new EwBuilder('float64');
    const x = b.input(), y = b.input();
    const pos = b.op(EW.GREATER, [x, b.constant(0)]);
    const lin = b.op(EW.ADD, [b.op(EW.MUL, [x, b.constant(0.5)]), y]);
    b.output(b.op(EW.WHERE, [pos, lin, b.op(EW.NEG, [y])]));
    const d = b.op(EW.SUB, [x, y]);
    b.output(b.op(EW.SQUARE, [d]));
    const { iattr, fattr } = b.build();
    const xs = [-1.5, 0, 2, 3.25, -0.5, 7], ys = [1, 2, -3];
    const xt = st.tensor(xs, { shape: [2, 3], dtype: 'float64' }), yt = st.tensor(ys, { dtype: 'float64' });
    const [o0, o1] = execOp('test', Op.ELEMWISE, [xt, yt], [{ dtype: 'float64', shape: [2, 3] }, { dtype: 'float32', shape: [2, 3] }], iattr, fattr);
    const e0 = xs.map((v, i) => (v > 0 ? v * 0.5 + ys[i % 3] : -ys[i % 3]));
    const e1 = xs.map((v, i) => Math.fround((v - ys[i % 3]) ** 2));
    assert.deepEqual(Array.from(o0.dataSync()), e0);
    assert.deepEqual(Array.from(o1.dataSync()), e1);
  });

  it('ewAttrs lays out a numbered program', () => {
    assert.deepEqual(ewAttrs({ nIn: 1, ops: [[EW.EXP, 1, 0, 0, 0]], params: [[0, 0]], outs: [1, 0] }, 'int32'), {
      iattr: [2, 1, EW.EXP, 1, 0, 0, 0, 1, 0],
      fattr: [0, 0],
    });
  });
  it('ewProgramOf reads back what ewAttrs wrote', () => {
    const b = new EwBuilder('float64');
    const x = b.input(), y = b.input();
    b.output(b.op(EW.CLIP, [b.op(EW.SUB, [x, y])], -1, 1));
    b.output(b.op(EW.MUL, [x, b.constant(0.5)]));
    const prog = b.program();
    assert.deepEqual(ewProgramOf(b.build(), 2), prog);
  });

  it('ewSubstitute computes chosen inputs inside the program, once per key, with the values of separate runs', () => {
    // outer(p, q, p) = (p - q) * p, with p = x * 3 + 1 inlined (its key given twice) and q kept
    const ob = new EwBuilder('float32');
    const [p1, q, p2] = [ob.input(), ob.input(), ob.input()];
    ob.output(ob.op(EW.MUL, [ob.op(EW.SUB, [p1, q]), p2]));
    const ib = new EwBuilder('float32');
    ib.output(ib.op(EW.ADD, [ib.op(EW.MUL, [ib.input(), ib.constant(3)]), ib.constant(1)]));
    const key = {};
    const inner = { attrs: ib.build(), nIn: 1, key };
    const fused = ewSubstitute('float32', ob.build(), 3, [inner, null, inner]);
    // inputs of the result: p's input (x), then q
    const xs = [0.5, -2, 3, 1.25], qs = [1, 2, -3, 0.75];
    const [r] = execOp('test', Op.ELEMWISE, [st.tensor(xs), st.tensor(qs)], [{ dtype: 'float32', shape: [4] }], fused.iattr, fused.fattr);
    const want = xs.map((x, i) => { const p = Math.fround(Math.fround(x * 3) + 1); return Math.fround(Math.fround(p - qs[i]) * p); });
    assert.deepEqual(Array.from(r.dataSync()), want);
    // one copy of the inner program (two constants, MUL, ADD), then the outer's two micro-ops
    assert.equal(fused.iattr[1], 4 + 2);
  });
});
