// st.fn: updates, givens, output forms, sync vs async, input conversion, shapes, shared variables.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

const { T } = st;
type Tensor = st.Tensor;

const data = (t: Tensor | Tensor[]) => Array.from((t as Tensor).dataSync() as ArrayLike<number>);
const close = (a: ArrayLike<number>, e: ArrayLike<number>, what: string, tol = 1e-5) => {
  assert.equal(a.length, e.length, `${what}: length`);
  for (let i = 0; i < e.length; i++) assert.ok(Math.abs(a[i] - e[i]) <= tol * (1 + Math.abs(e[i])), `${what}: [${i}] got ${a[i]}, expected ${e[i]}`);
};
function expectError(f: () => unknown, code: string, parts: (string | RegExp)[]): st.SymtensorError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, `expected a ${code} error, nothing was thrown`);
  assert.ok(caught instanceof st.SymtensorError, `expected a SymtensorError, got ${String(caught)}`);
  assert.equal(caught.code, code, `code of: ${caught.message}`);
  for (const p of parts) {
    if (typeof p === 'string') assert.ok(caught.message.includes(p), `message ${JSON.stringify(caught.message)} should include ${JSON.stringify(p)}`);
    else assert.match(caught.message, p);
  }
  return caught;
}

describe('graph: fn updates', () => {
  it('outputs are computed from the old values, updates applied after', () => {
    const w = st.shared(st.tensor([1, 2, 3]), 'w');
    const f = st.fn([], [w.mul(1), w.sum()], { updates: [[w, w.add(10)]] });
    const [o, s] = f.sync() as Tensor[];
    assert.deepEqual(data(o), [1, 2, 3]);
    assert.deepEqual(data(s), [6]);
    assert.deepEqual(data(w.get()), [11, 12, 13]);
    const [o2] = f.sync() as Tensor[];
    assert.deepEqual(data(o2), [11, 12, 13]);
    assert.deepEqual(data(w.get()), [21, 22, 23]);
  });

  it('a shared variable itself as an output returns its value before the update', () => {
    const w = st.shared(st.tensor([5, 6]), 'w');
    const f = st.fn([], w, { updates: [[w, w.mul(2)]] });
    const before = f.sync() as Tensor;
    assert.deepEqual(data(before), [5, 6]);
    assert.deepEqual(data(w.get()), [10, 12]);
    // the returned tensor is a copy: the next update does not change it
    f.sync();
    assert.deepEqual(data(before), [5, 6]);
    assert.deepEqual(data(w.get()), [20, 24]);
  });

  it('swapping two shared variables through updates uses the old values of both', () => {
    const a = st.shared(st.tensor([1, 2]), 'a'), b = st.shared(st.tensor([3, 4]), 'b');
    const swap = st.fn([], [], { updates: [[a, b], [b, a]] });
    swap.sync();
    assert.deepEqual(data(a.get()), [3, 4]);
    assert.deepEqual(data(b.get()), [1, 2]);
    swap.sync();
    assert.deepEqual(data(a.get()), [1, 2]);
    assert.deepEqual(data(b.get()), [3, 4]);
  });

  it('swapping through expressions (a <- b + 0, b <- a * 1) uses the old values', () => {
    const a = st.shared(st.tensor([1, 2]), 'a'), b = st.shared(st.tensor([3, 4]), 'b');
    const swap = st.fn([], [], { updates: [[a, b.add(0)], [b, a.mul(1)]] });
    swap.sync();
    assert.deepEqual(data(a.get()), [3, 4]);
    assert.deepEqual(data(b.get()), [1, 2]);
  });

  it('each update reads every shared variable before any is written (Fibonacci step)', () => {
    const x = st.shared(st.tensor(0), 'x'), y = st.shared(st.tensor(1), 'y');
    const step = st.fn([], x, { updates: [[x, y], [y, x.add(y)]] });
    const seq: number[] = [];
    for (let i = 0; i < 8; i++) seq.push((step.sync() as Tensor).item() as number);
    assert.deepEqual(seq, [0, 1, 1, 2, 3, 5, 8, 13]);
  });

  it('an output that is also the update expression, and one expression updating two variables', () => {
    const w = st.shared(st.tensor([1, 2]), 'w');
    const f = st.fn([], w.add(1), { updates: [[w, w.add(1)]] });
    assert.deepEqual(data(f.sync()), [2, 3]);
    assert.deepEqual(data(w.get()), [2, 3]);
    assert.deepEqual(data(f.sync()), [3, 4]);
    const a = st.shared(st.tensor([1]), 'a'), b = st.shared(st.tensor([5]), 'b');
    const e = a.add(b);
    const g = st.fn([], e, { updates: [[a, e], [b, e]] });
    assert.deepEqual(data(g.sync()), [6]);
    assert.deepEqual(data(a.get()), [6]);
    assert.deepEqual(data(b.get()), [6]);
    assert.deepEqual(data(g.sync()), [12]);
  });

  it('updates given as a Map, with numbers and tensors as new values', () => {
    const c = st.shared(st.tensor(3), 'c');
    const v = st.shared(st.zeros([2]), 'v');
    const f = st.fn([], c.add(1), { updates: new Map<st.SharedVariable, st.Variable | Tensor | number>([[c, 7], [v, st.tensor([4, 5])]]) });
    assert.deepEqual(data(f.sync()), [4]);
    assert.deepEqual(data(c.get()), [7]);
    assert.deepEqual(data(v.get()), [4, 5]);
  });

  it('an int32 counter', () => {
    const n = st.shared(st.tensor(0, { dtype: 'int32' }), 'n');
    const inc = st.fn([], n, { updates: [[n, n.add(1)]] });
    for (let i = 0; i < 5; i++) assert.equal((inc.sync() as Tensor).item(), i);
    assert.equal(n.get().dtype, 'int32');
    assert.equal(n.get().item(), 5);
  });

  it('a training step: the cost is from the old weights and the weights move downhill', () => {
    const X = T.matrix('X'), y = T.vector('y');
    const w = st.shared(st.tensor([0.5, -0.5]), 'w');
    const cost = T.mean(T.square(T.dot(X, w).sub(y)));
    const gw = st.grad(cost, w);
    const train = st.fn([X, y], cost, { updates: [[w, w.sub(gw.mul(0.1))]] });
    const eval_ = st.fn([X, y], cost);
    const Xd = st.tensor([[1, 2], [3, 1], [0, 1]]), yd = st.tensor([1, 2, 3]);
    const before = (eval_.sync(Xd, yd) as Tensor).item() as number;
    const c1 = (train.sync(Xd, yd) as Tensor).item() as number;
    assert.ok(Math.abs(c1 - before) < 1e-6, `training cost ${c1} must be the cost before the step (${before})`);
    const after = (eval_.sync(Xd, yd) as Tensor).item() as number;
    assert.ok(after < before, `cost must decrease: ${before} -> ${after}`);
    // the step is w - 0.1 * 2/n X^T (Xw - y)
    const w0 = [0.5, -0.5], Xa = [[1, 2], [3, 1], [0, 1]], ya = [1, 2, 3];
    const r = Xa.map((row, i) => row[0] * w0[0] + row[1] * w0[1] - ya[i]);
    const g = [0, 1].map((j) => (2 / 3) * Xa.reduce((s, row, i) => s + row[j] * r[i], 0));
    close(data(w.get()), [w0[0] - 0.1 * g[0], w0[1] - 0.1 * g[1]], 'w after one step');
  });
});

describe('graph: fn givens', () => {
  it('replaces an input variable by an expression of another input', () => {
    const x = T.vector('x'), z = T.vector('z');
    const y = x.mul(2).add(1);
    const f = st.fn([z], y, { givens: [[x, z.exp()]] });
    close(data(f.sync([0, 1])), [3, 2 * Math.E + 1], 'givens expression');
  });

  it('replaces an input variable by a shared variable (which keeps its current value)', () => {
    const x = T.vector('x');
    const data_ = st.shared(st.tensor([1, 2, 3]), 'data');
    const f = st.fn([], x.sum(), { givens: [[x, data_]] });
    assert.deepEqual(data(f.sync()), [6]);
    data_.set([4, 5, 6]);
    assert.deepEqual(data(f.sync()), [15]);
  });

  it('replaces a variable by a constant tensor and by a number', () => {
    const x = T.vector('x'), s = T.scalar('s');
    const f = st.fn([], x.mul(s), { givens: new Map<st.Variable, st.Variable | Tensor | number>([[x, st.tensor([1, 2])], [s, 3]]) });
    assert.deepEqual(data(f.sync()), [3, 6]);
  });

  it('replaces an intermediate expression', () => {
    const x = T.vector('x');
    const h = x.exp();
    const y = h.add(1);
    const f = st.fn([x], y, { givens: [[h, x.mul(10)]] });
    assert.deepEqual(data(f.sync([1, 2])), [11, 21]);
  });

  it('Theano-style minibatches: an input replaced by rows of a shared dataset picked by an index input', () => {
    const dataset = st.shared(st.tensor([[1, 2], [3, 4], [5, 6], [7, 8]]), 'dataset');
    const x = T.matrix('x'), rows = T.ivector('rows');
    const f = st.fn([rows], x.sum(1), { givens: [[x, T.gather(dataset, rows)]] });
    assert.deepEqual(data(f.sync(st.tensor([2, 0], { dtype: 'int32' }))), [11, 3]);
    assert.deepEqual(data(f.sync(st.tensor([3], { dtype: 'int32' }))), [15]);
  });

  it('a given with another rank or dtype is an error naming the variable', () => {
    const x = T.vector('x');
    expectError(() => st.fn([], x.sum(), { givens: [[x, st.shared(st.zeros([2, 2]), 'm')]] }), 'ERR_ST_DTYPE', ['x', 'm']);
    expectError(() => st.fn([], x.sum(), { givens: [[x, st.shared(st.zeros([2], 'int32'), 'k')]] }), 'ERR_ST_DTYPE', ['x', 'k', 'int32']);
  });
});

describe('graph: fn outputs and calls', () => {
  const x = T.vector('x');

  it('a single output gives a tensor, an array of outputs gives an array', () => {
    const f1 = st.fn([x], x.mul(2));
    const r1 = f1.sync([1, 2]);
    assert.ok(r1 instanceof st.Tensor);
    const f2 = st.fn([x], [x.mul(2)]);
    const r2 = f2.sync([1, 2]);
    assert.ok(Array.isArray(r2) && r2.length === 1 && r2[0] instanceof st.Tensor);
    const f3 = st.fn([x], [x.mul(2), x.sum(), x.greater(1)]);
    const [a, b, c] = f3.sync([1, 2]) as Tensor[];
    assert.deepEqual(data(a), [2, 4]);
    assert.deepEqual(data(b), [3]);
    assert.deepEqual(b.shape, []);
    assert.equal(c.dtype, 'bool');
    assert.deepEqual(data(c), [0, 1]);
  });

  it('the same variable twice, and an input itself, as outputs: independent tensors', () => {
    const y = x.mul(3);
    const f = st.fn([x], [y, y, x]);
    const [a, b, c] = f.sync([1, 2]) as Tensor[];
    assert.deepEqual(data(a), [3, 6]);
    assert.deepEqual(data(b), [3, 6]);
    assert.deepEqual(data(c), [1, 2]);
    a.dispose();
    assert.deepEqual(data(b), [3, 6]);
  });

  it('an output that is a constant, and an empty output list', () => {
    const f = st.fn([x], [x.sum(), T.constant(st.tensor([7, 8]))]);
    const [s, k] = f.sync([1, 2]) as Tensor[];
    assert.deepEqual(data(s), [3]);
    assert.deepEqual(data(k), [7, 8]);
    const g = st.fn([x], [], { onUnusedInput: 'ignore' });
    assert.deepEqual(g.sync([1]), []);
  });

  it('sync and async give the same results', async () => {
    const X = T.matrix('X'), v = T.vector('v');
    const f = st.fn([X, v], [T.softmax(T.dot(X, v.expandDims(1)).reshape([-1])), X.max(1), T.argmax(X, 0)]);
    const Xd = st.randomNormal([7, 5], { seed: 3 }), vd = st.randomNormal([5], { seed: 4 });
    const s = f.sync(Xd, vd) as Tensor[];
    const a = (await f(Xd, vd)) as Tensor[];
    assert.equal(s.length, a.length);
    s.forEach((t, i) => {
      assert.equal(a[i].dtype, t.dtype);
      assert.deepEqual(a[i].shape, t.shape);
      assert.deepEqual(data(a[i]), data(t));
    });
  });

  it('an async call returns a promise of the same kinds as sync', async () => {
    const f = st.fn([x], x.add(1));
    const p = f([1]);
    assert.ok(p instanceof Promise);
    const r = await p;
    assert.ok(r instanceof st.Tensor);
    assert.deepEqual(data(r), [2]);
  });

  it('name option names the function in errors', () => {
    const f = st.fn([x], x.add(1), { name: 'myStep' });
    assert.equal(f.name, 'myStep');
    expectError(() => f.sync(), 'ERR_ST_ARG', ['myStep', 'expected 1 argument', 'x', 'got 0']);
  });

  it('dispose frees the programs; later calls fail clearly', async () => {
    const f = st.fn([x], x.add(1));
    f.sync([1]);
    f.dispose();
    expectError(() => f.sync([1]), 'ERR_ST_DISPOSED', ['disposed']);
    await assert.rejects(f([1]), (e: st.SymtensorError) => e.code === 'ERR_ST_DISPOSED');
  });
});

describe('graph: fn inputs', () => {
  it('JS numbers, nested arrays, typed arrays and booleans are converted to the declared dtype', () => {
    const s = T.scalar('s'), v = T.vector('v'), M = T.matrix('M'), iv = T.ivector('iv'), b = T.tensor('bool', [null], 'b');
    const f = st.fn([s, v, M, iv, b], [s.mul(v), T.dot(M, v), iv.add(1), b.logicalNot()]);
    const [sv, mv, i1, nb] = f.sync(2, new Float32Array([1, 2]), [[1, 0], [0, 1], [1, 1]], [3, 4], [true, false]) as Tensor[];
    assert.deepEqual(data(sv), [2, 4]);
    assert.deepEqual(data(mv), [1, 2, 3]);
    assert.equal(i1.dtype, 'int32');
    assert.deepEqual(data(i1), [4, 5]);
    assert.equal(nb.dtype, 'bool');
    assert.deepEqual(data(nb), [0, 1]);
  });

  it('a float64 tensor for a float32 input is an error naming the input unless allowInputDowncast', () => {
    const x = T.vector('xin');
    const f = st.fn([x], x.mul(2));
    const t64 = st.tensor([1.1, 2.2], { dtype: 'float64' });
    const e = expectError(() => f.sync(t64), 'ERR_ST_DTYPE', ['xin', 'float64', 'float32', 'allowInputDowncast']);
    assert.equal(e.op, 'fn');
    const g = st.fn([x], x.mul(2), { allowInputDowncast: true });
    const r = g.sync(t64) as Tensor;
    assert.equal(r.dtype, 'float32');
    close(data(r), [Math.fround(1.1) * 2, Math.fround(2.2) * 2], 'downcast');
  });

  it('lossless conversions need no option: bool to float32, anything to float64', () => {
    const x = T.vector('x'), d = T.tensor('float64', [null], 'd');
    const f = st.fn([x, d], [x.add(0), d.add(0)]);
    const [a, b] = f.sync(st.tensor(Uint8Array.from([1, 0]), { dtype: 'bool', shape: [2] }), st.tensor([1.5, 2.5])) as Tensor[];
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(data(a), [1, 0]);
    assert.equal(b.dtype, 'float64');
    assert.deepEqual(data(b), [1.5, 2.5]);
  });

  it('an int32 tensor for a float32 input needs allowInputDowncast; a float tensor for an int32 input too', () => {
    const x = T.vector('x'), i = T.ivector('i');
    expectError(() => st.fn([x], x.add(0)).sync(st.tensor([1, 2], { dtype: 'int32' })), 'ERR_ST_DTYPE', ['x', 'int32']);
    expectError(() => st.fn([i], i.add(0)).sync(st.tensor([1.5, 2])), 'ERR_ST_DTYPE', ['i', 'float32', 'int32']);
    const r = st.fn([i], i.add(0), { allowInputDowncast: true }).sync(st.tensor([1, 2])) as Tensor;
    assert.equal(r.dtype, 'int32');
    assert.deepEqual(data(r), [1, 2]);
  });

  it('wrong shapes for fixed dims name the input and the shapes', () => {
    const x = T.tensor('float32', [null, 3], 'feat');
    const f = st.fn([x], x.sum(1));
    expectError(() => f.sync(st.ones([2, 4])), 'ERR_ST_SHAPE', ['feat', '[2,4]']);
    expectError(() => f.sync(st.ones([3])), 'ERR_ST_SHAPE', ['feat', '[3]']);
    assert.deepEqual(data(f.sync(st.ones([2, 3]))), [3, 3]);
  });

  it('a bad JS value is an error naming the input', () => {
    const x = T.matrix('mat');
    const f = st.fn([x], x.sum());
    expectError(() => f.sync([[1, 2], [3]]), 'ERR_ST_VALUE', ['mat']);
  });

  it('different batch sizes reuse the function: one program per shape, right results each time', () => {
    const X = T.matrix('X');
    const W = st.shared(st.randomNormal([3, 2], { seed: 5 }), 'W');
    const f = st.fn([X], T.tanh(T.dot(X, W)).sum(1));
    const programs = new Map<number, unknown>();
    for (const n of [4, 1, 9, 4, 1, 9]) {
      const Xd = st.randomNormal([n, 3], { seed: n });
      const r = f.sync(Xd) as Tensor;
      assert.deepEqual(r.shape, [n]);
      close(data(r), data(st.sum(st.tanh(st.matmul(Xd, W.get())), 1)), `batch ${n}`);
      const p = f.program();
      assert.ok(p, 'program()');
      if (programs.has(n)) assert.equal(p, programs.get(n), `batch ${n} must reuse its program`);
      else {
        for (const other of programs.values()) assert.notEqual(p, other, `batch ${n} needs its own program`);
        programs.set(n, p);
      }
    }
    assert.equal(programs.size, 3);
  });

  it('many distinct shapes in turn (more than the program cache holds), then the first again', () => {
    const X = T.matrix('X');
    const f = st.fn([X], X.mul(X).sum(1));
    for (const n of [...Array.from({ length: 24 }, (_, i) => i + 1), 1, 2, 3]) {
      const r = f.sync(st.full([n, 3], 2)) as Tensor;
      assert.deepEqual(r.shape, [n]);
      assert.ok(data(r).every((v) => v === 12), `batch ${n}`);
    }
  });

  it('the input tensors are not changed by a call', () => {
    const x = T.vector('x');
    const f = st.fn([x], x.mul(2).add(x.exp()));
    const t = st.tensor([1, 2, 3]);
    f.sync(t);
    f.sync(t);
    assert.deepEqual(data(t), [1, 2, 3]);
  });
});

describe('graph: fn inputs that are not used, or missing', () => {
  it('an unused input is an error unless onUnusedInput: ignore (and must still be passed)', () => {
    const x = T.vector('x'), extra = T.vector('extra');
    expectError(() => st.fn([x, extra], x.sum()), 'ERR_ST_ARG', ['extra', 'not used', 'onUnusedInput']);
    const f = st.fn([x, extra], x.sum(), { onUnusedInput: 'ignore' });
    assert.deepEqual(data(f.sync([1, 2], [9, 9, 9])), [3]);
    expectError(() => f.sync([1, 2]), 'ERR_ST_ARG', ['expected 2 arguments']);
  });

  it('an input used only by an update counts as used', () => {
    const lr = T.scalar('lr');
    const w = st.shared(st.tensor([1, 1]), 'w');
    const f = st.fn([lr], [], { updates: [[w, w.mul(lr)]] });
    f.sync(3);
    assert.deepEqual(data(w.get()), [3, 3]);
  });

  it('an input replaced by givens counts as unused', () => {
    const x = T.vector('x'), z = T.vector('z');
    expectError(() => st.fn([x, z], x.sum(), { givens: [[x, z]] }), 'ERR_ST_ARG', ['x', 'not used']);
    const f = st.fn([x, z], x.sum(), { givens: [[x, z.mul(2)]], onUnusedInput: 'ignore' });
    assert.deepEqual(data(f.sync([100], [1, 2])), [6]);
  });
});

describe('graph: shared variables', () => {
  it('get() returns a copy of the value; set() replaces it for the next call', () => {
    const w = st.shared(st.tensor([[1, 2], [3, 4]]), 'w');
    assert.equal(w.dtype, 'float32');
    assert.deepEqual(w.staticShape, [2, 2]);
    const f = st.fn([], w.sum());
    assert.deepEqual(data(f.sync()), [10]);
    const g = w.get();
    w.set(st.tensor([[0, 0], [0, 1]]));
    assert.deepEqual(data(g), [1, 2, 3, 4], 'an earlier get() is not changed by set()');
    assert.deepEqual(data(f.sync()), [1]);
    w.set([[2, 2], [2, 2]]);
    assert.deepEqual(data(f.sync()), [8]);
    g.dispose();
    assert.deepEqual(data(w.get()), [2, 2, 2, 2], 'disposing a get() result leaves the variable alone');
  });

  it('shared() copies its initial value', () => {
    const t = st.tensor([1, 2]);
    const w = st.shared(t, 'w');
    t.dispose();
    assert.deepEqual(data(w.get()), [1, 2]);
    const w2 = st.shared([1, 2, 3], 'w2', { dtype: 'int32' });
    assert.equal(w2.dtype, 'int32');
  });

  it('set() checks shape and dtype, naming the variable', () => {
    const w = st.shared(st.zeros([2, 3]), 'weights');
    expectError(() => w.set(st.zeros([3, 2])), 'ERR_ST_SHAPE', ['weights', '[2,3]', '[3,2]']);
    expectError(() => w.set(st.zeros([6])), 'ERR_ST_SHAPE', ['weights', '[6]']);
    expectError(() => w.set(st.zeros([2, 3], 'float64')), 'ERR_ST_SHAPE', ['weights', 'float64']);
    expectError(() => w.set([[1, 2]]), 'ERR_ST_SHAPE', ['weights', '[1,2]']);
    assert.deepEqual(data(w.get()), [0, 0, 0, 0, 0, 0], 'a failed set() leaves the value alone');
  });

  it('set() between async calls is seen by the next call', async () => {
    const w = st.shared(st.tensor([1, 2]), 'w');
    const f = st.fn([], w.sum());
    assert.deepEqual(data(await f()), [3]);
    w.set([10, 20]);
    assert.deepEqual(data(await f()), [30]);
  });

  it('one shared variable used by two functions sees the other function\'s updates', () => {
    const w = st.shared(st.tensor([1]), 'w');
    const inc = st.fn([], [], { updates: [[w, w.add(1)]] });
    const read = st.fn([], w.mul(10));
    inc.sync();
    inc.sync();
    assert.deepEqual(data(read.sync()), [30]);
  });
});
