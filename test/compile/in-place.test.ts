// Updates computed by an elementwise program are written straight into the shared variable's
// buffer (no temporary, no copy), after every other instruction has read the old value.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

const { T } = st;

function sgd(lr: number) {
  const x = T.matrix('x');
  const w = st.shared(st.randomNormal([4, 3], { seed: 1 }), 'w');
  const b = st.shared(st.zeros([3]), 'b');
  const loss = T.mean(T.square(T.dot(x, w).add(b)));
  const [gw, gb] = st.grad(loss, [w, b]);
  return { x, w, b, loss, gw, gb, updates: [[w, w.sub(gw.mul(lr))], [b, b.sub(gb.mul(lr))]] as [st.SharedVariable, st.Variable][] };
}

describe('compile: in-place updates', () => {
  it('SGD updates write the shared buffers directly and match the copying form', () => {
    const a = sgd(0.1);
    const f = st.fn([a.x], a.loss, { updates: a.updates });
    // the same, with the new values also returned: they then need their own buffers and copies
    const c = sgd(0.1);
    const g = st.fn([c.x], [c.loss, c.updates[0][1], c.updates[1][1]], { updates: c.updates });
    const xv = st.randomNormal([5, 4], { seed: 2 });
    for (let i = 0; i < 5; i++) {
      const l1 = f.sync(xv) as st.Tensor;
      const [l2] = g.sync(xv) as st.Tensor[];
      assert.equal(l1.item(), l2.item());
    }
    assert.deepEqual(a.w.get().dataSync(), c.w.get().dataSync());
    assert.deepEqual(a.b.get().dataSync(), c.b.get().dataSync());
    assert.equal(f.program()!.copies.length, 0, 'no copies: written in place');
    assert.equal(g.program()!.copies.length, 2, 'copies when the new values are also outputs');
  });

  it('an update reading another variable that is updated in place keeps the old value (swap)', () => {
    const p = st.shared(st.tensor([1, 2]), 'p');
    const q = st.shared(st.tensor([10, 20]), 'q');
    const f = st.fn([], [], { updates: [[p, q.mul(1).add(0.5)], [q, p.mul(2)]] });
    f.sync();
    assert.deepEqual(Array.from(p.get().dataSync()), [10.5, 20.5]);
    assert.deepEqual(Array.from(q.get().dataSync()), [2, 4]);
  });
});
