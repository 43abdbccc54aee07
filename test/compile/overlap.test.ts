// T.allreduce lowered for overlap: per bucket a start right after the tensor that completes it and
// a wait right before the first reader, checked on the lowered instruction list.  In one process
// the reduction is the identity, so the values must equal the inputs' (and the blocking form's).
// The reductions themselves, across real ranks, are checked in test/distributed/mpi.test.ts.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

const T = st.T;

const labels = (f: { program(): { instrs: { label: string }[] } | null }) => f.program()!.instrs.map((i) => i.label);
const vals = (t: st.Tensor) => Array.from(t.dataSync());

/** A two-layer net and its gradients, last layer first (the order the backward pass makes them). */
function net() {
  const x = T.matrix('x');
  const w1 = st.shared(st.tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i) * 0.3), { shape: [6, 4] }), 'w1');
  const w2 = st.shared(st.tensor(Array.from({ length: 12 }, (_, i) => Math.cos(i) * 0.3), { shape: [4, 3] }), 'w2');
  const cost = T.sum(T.square(T.dot(T.tanh(T.dot(x, w1)), w2)));
  const [g2, g1] = st.grad(cost, [w2, w1]);
  const data = st.tensor(Array.from({ length: 12 }, (_, i) => (i % 5) - 2), { shape: [2, 6] });
  return { x, w1, w2, cost, g1, g2, data };
}

describe('T.allreduce overlapped with the instructions after it', () => {
  it('starts a bucket right after its gradient exists and waits only before the update reads it', () => {
    const { x, w1, w2, cost, g1, g2, data } = net();
    const [r2, r1] = T.allreduce([g2, g1], { op: 'mean', bucketBytes: 40 });
    const f = st.fn([x], [cost, r2, r1]);
    const overlapped = f.sync(data);
    const got = labels(f);
    const starts = got.flatMap((l, i) => (l === 'allreduceStart' ? [i] : []));
    const waits = got.flatMap((l, i) => (l === 'allreduceWait' ? [i] : []));
    assert.equal(starts.length, 2, got.join(' '));
    assert.equal(waits.length, 2, got.join(' '));
    // the last layer's gradient leaves before the first layer's backward matmuls run
    const matmulsBetween = got.slice(starts[0], starts[1]).filter((l) => l === 'matmul').length;
    assert.ok(matmulsBetween >= 1, `no computation between the two starts: ${got.join(' ')}`);
    assert.ok(waits[0] > starts[1], got.join(' '));
    // alone, the reduction is the identity: equal to the gradients without it
    const plain = st.fn([x], [cost, g2, g1]).sync(data);
    plain.forEach((t, i) => assert.deepEqual(vals(overlapped[i]), vals(t)));
    void w1, void w2;
  });

  it('overlap: false keeps one blocking instruction; both forms give the same values, sync and async', async () => {
    const { x, cost, g1, g2, data } = net();
    const fb = st.fn([x], [cost, ...T.allreduce([g2, g1], { overlap: false })]);
    const fo = st.fn([x], [cost, ...T.allreduce([g2, g1])]);
    const a = fb.sync(data), b = fo.sync(data), c = await fo(data);
    assert.deepEqual(labels(fb).filter((l) => l.startsWith('allreduce')), ['allreduce']);
    assert.deepEqual(labels(fo).filter((l) => l.startsWith('allreduce')), ['allreduceStart', 'allreduceWait']);
    a.forEach((t, i) => {
      assert.deepEqual(vals(b[i]), vals(t));
      assert.deepEqual(vals(c[i]), vals(t));
    });
  });

  it('packs tensors per dtype; the first bucket of a dtype holds at most 1 MiB, the rest up to bucketBytes', () => {
    // five 300x300 float32 inputs (360 kB each) and one float64 vector: buckets {a, b}, {c, d, e}, {v}
    const xs = ['a', 'b', 'c', 'd', 'e'].map((n) => T.matrix(n));
    const v = T.vector('v', 'float64');
    const outs = T.allreduce([...xs, v]);
    const f = st.fn([...xs, v], outs);
    const inputs = xs.map((_, k) => st.tensor(Array.from({ length: 9e4 }, (_, i) => ((i * (k + 3)) % 17) - 8), { shape: [300, 300] }));
    const vIn = st.tensor([0.5, -1.25, 3], { dtype: 'float64' });
    const res = f.sync(...inputs, vIn);
    const starts = f.program()!.instrs.filter((i) => i.label === 'allreduceStart');
    assert.equal(starts.length, 3, labels(f).join(' '));
    assert.deepEqual(starts.map((s) => s.inputs.length).sort(), [1, 2, 3]);
    inputs.forEach((t, k) => assert.deepEqual(vals(res[k]), vals(t)));
    assert.deepEqual(vals(res[5]), [0.5, -1.25, 3]);
  });

  it('a reader inside an ifelse branch gets the reduced value; a reduction only a branch needs stays blocking in it', () => {
    const x = T.vector('x'), c = T.scalar('c');
    const [r] = T.allreduce([x.mul(2)]);
    const f = st.fn([x, c], [T.ifelse(c, r.add(1), x.sub(1)), r.mul(3)]);
    const on = f.sync(st.tensor([1, 2]), st.tensor(1));
    assert.deepEqual(on.map(vals), [[3, 5], [6, 12]]);
    const got = labels(f);
    assert.ok(got.indexOf('allreduceWait') < got.indexOf('ifelse'), got.join(' '));
    assert.deepEqual(f.sync(st.tensor([1, 2]), st.tensor(0)).map(vals), [[0, 1], [6, 12]]);
    const g = st.fn([x, c], T.ifelse(c, r.add(1), x.sub(1)));
    assert.deepEqual(vals(g.sync(st.tensor([1, 2]), st.tensor(1))), [3, 5]);
    assert.deepEqual(labels(g).filter((l) => l.startsWith('allreduce')), ['allreduce'], labels(g).join(' '));
  });

  it('refuses an overlap option that is not a boolean', () => {
    assert.throws(() => T.allreduce([T.vector('x')], { overlap: 'yes' as unknown as boolean }), (e: Error & { code?: string }) => e.code === 'ERR_ST_ARG' && /allreduce: overlap must be a boolean, got "yes"/.test(e.message));
  });
});
