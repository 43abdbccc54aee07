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

describe('compile: multi-output fusion', () => {
  function adam(exclude: string[]) {
    const x = T.matrix('x');
    const p = st.shared(st.randomNormal([6, 3], { seed: 11 }), 'p');
    const m = st.shared(st.zeros([6, 3]), 'm');
    const v = st.shared(st.zeros([6, 3]), 'v');
    const loss = T.mean(T.square(T.tanh(T.dot(x, p))));
    const g = st.grad(loss, p);
    const m2 = m.mul(0.9).add(g.mul(0.1));
    const v2 = v.mul(0.999).add(g.square().mul(0.001));
    const p2 = p.sub(m2.mul(0.01).div(v2.sqrt().add(1e-8)));
    const f = st.fn([x], loss, { updates: [[m, m2], [v, v2], [p, p2]], excludeRewrites: exclude });
    return { f, p, m, v };
  }

  it("an Adam step is one program with three outputs written in place, equal to the unfused step", () => {
    const a = adam([]), b = adam(['elementwiseFusion']);
    const xv = st.randomNormal([5, 6], { seed: 12 });
    for (let i = 0; i < 4; i++) {
      const la = Number((a.f.sync(xv) as st.Tensor).item()), lb = Number((b.f.sync(xv) as st.Tensor).item());
      assert.ok(Math.abs(la - lb) <= 1e-6 * Math.abs(lb) + 1e-7, `${la} vs ${lb}`);
    }
    for (const k of ['p', 'm', 'v'] as const) {
      const x = a[k].get().dataSync(), y = b[k].get().dataSync();
      for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-5 * Math.abs(y[i]) + 1e-7, `${k}[${i}]: ${x[i]} vs ${y[i]}`);
    }
    const multi = a.f.graph.nodes().filter((n) => n.op.name === 'fused' && n.outputs.length === 3);
    assert.equal(multi.length, 1, st.debugprint(a.f, { print: false }));
    assert.equal(a.f.program()!.copies.length, 0, 'm, v and p are written in place');
  });
});
