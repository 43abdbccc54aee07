// The graph machinery the package exports for extension and declaration: st.Op, st.Apply,
// T.applyOp / T.applyOp1 (a user-defined op in a compiled function, with its gradient), and the
// variable constructors (T.tensor4, T.tensor3, T.tensorVar, T.switch).  Numbers are compared with
// closed forms and the reference evaluator, never with the library's own eager ops.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { Rng } from '../support/reference';
import { expectTensor, toSt } from '../support/check';

const { T } = st;
type Variable = st.Variable;
/** What Op.lower is handed: runs (eager) or records (compiled programs) native instructions. */
type Emitter = Parameters<st.Op['lower']>[0];

/**
 * x·tanh(x), written as a user would: inference here, the gradient as a graph of T ops, and
 * lowering by reusing the instructions of the built-in tanh and mul nodes (float32 only).
 */
class XTanh extends st.Op {
  readonly name = 'xTanh';
  private readonly tanhOp = T.tanh(T.vector()).owner!.op;
  private readonly mulOp = T.mul(T.vector(), T.vector()).owner!.op;

  infer(inputs: { dtype: st.DType; shape: st.Dim[] }[]) {
    if (inputs.length !== 1) throw new st.SymtensorError('ERR_ST_ARG', this.name, `takes one input, got ${inputs.length}`);
    if (inputs[0].dtype !== 'float32') throw new st.SymtensorError('ERR_ST_DTYPE', this.name, `needs float32, got ${inputs[0].dtype}`);
    return [{ dtype: inputs[0].dtype, shape: inputs[0].shape.slice() }];
  }

  lower<V extends { readonly shape: number[]; readonly dtype: st.DType }>(em: Emitter, inputs: V[], node: st.Apply): V[] {
    const [t] = this.tanhOp.lower(em, inputs, node);
    const [y] = this.mulOp.lower(em, [inputs[0], t], node);
    em.release(t);
    return [y as V];
  }

  override grad(node: st.Apply, [gz]: (Variable | null)[]): (Variable | null)[] {
    if (!gz) return [null];
    const x = node.inputs[0];
    const t = T.tanh(x);
    // d/dx x·tanh(x) = tanh(x) + x·(1 - tanh²(x))
    return [T.mul(gz, T.add(t, T.mul(x, T.sub(1, T.square(t)))))];
  }
}

describe('graph: exported machinery (Op, Apply, applyOp, variable constructors)', () => {
  it('T.applyOp builds an st.Apply node of a user-defined st.Op, with inferred types', () => {
    const x = T.tensor4('x');
    const op = new XTanh();
    const outs = T.applyOp(op, [x]);
    assert.equal(outs.length, 1);
    const [y] = outs;
    assert.ok(y instanceof st.Variable);
    assert.ok(y.owner instanceof st.Apply, 'the output is owned by an Apply node');
    assert.ok(y.owner.op instanceof st.Op);
    assert.equal(y.owner.op, op);
    assert.deepEqual(y.owner.inputs, [x]);
    assert.deepEqual(y.owner.outputs, [y]);
    assert.equal(y.dtype, 'float32');
    assert.deepEqual(y.staticShape, [null, null, null, null]);
    const z = T.applyOp1(op, [T.tensor('float32', [2, 3])]);
    assert.ok(z.owner instanceof st.Apply);
    assert.deepEqual(z.staticShape, [2, 3]);
  });

  it('an inference error of a user op is thrown by applyOp, naming the op and where it was applied', () => {
    let err: unknown;
    try {
      T.applyOp(new XTanh(), [T.tensor4('x', 'float64')]);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof st.SymtensorError, `expected a SymtensorError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_ST_DTYPE');
    assert.match(err.message, /^xTanh: needs float32, got float64/);
    assert.match(err.where ?? '', /public-api\.test\.ts/);
  });

  it('a user op compiles and runs: values against x·tanh(x), gradient against its closed form', () => {
    const rng = new Rng(31);
    const x = T.tensor4('x');
    const y = T.applyOp1(new XTanh(), [x]);
    const [gx] = st.grad(T.sum(y), [x]);
    const f = st.fn([x], [y.add(0.5), gx]);
    const xr = R.randomRef(rng, [2, 3, 4, 5], 'float32', { lo: -3, hi: 3 });
    const [yv, gv] = f.sync(toSt(xr)) as st.Tensor[];
    const tanh = xr.data.map(Math.tanh);
    expectTensor(yv, R.make(xr.shape, 'float32', xr.data.map((v, i) => v * tanh[i] + 0.5)), 'x·tanh(x) + 0.5');
    expectTensor(gv, R.make(xr.shape, 'float32', xr.data.map((v, i) => tanh[i] + v * (1 - tanh[i] * tanh[i]))), 'gradient of x·tanh(x)', { rtol: 1e-5, atol: 1e-5 });
    f.dispose();
  });

  it('T.tensor4 declares a rank-4 input for conv2d/pooling graphs', () => {
    const rng = new Rng(32);
    const x = T.tensor4('x');
    assert.equal(x.ndim, 4);
    assert.equal(x.dtype, 'float32');
    assert.equal(x.name, 'x');
    assert.equal(T.tensor4('y', 'float64').dtype, 'float64');
    const w = T.tensor4('w');
    const f = st.fn([x, w], T.maxPool2d(T.conv2d(x, w, { padding: 'same' }), { poolSize: 2 }));
    const xr = R.randomRef(rng, [2, 6, 6, 3], 'float32');
    const wr = R.randomRef(rng, [3, 3, 3, 4], 'float32');
    const expected = R.maxPool2d(R.conv2d(xr, wr, { padding: 'same' }), { poolSize: 2 });
    expectTensor(f.sync(toSt(xr), toSt(wr)) as st.Tensor, expected, 'maxPool2d(conv2d(tensor4, tensor4))', { rtol: 1e-4, atol: 1e-5 });
    f.dispose();
  });

  it('the other constructors: T.tensor3, T.tensorVar (T.tensor), and T.switch (T.where)', () => {
    const t3 = T.tensor3('t', 'int32');
    assert.deepEqual([t3.ndim, t3.dtype, t3.name], [3, 'int32', 't']);
    const tv = T.tensorVar('float64', [2, null], 'v');
    assert.deepEqual([tv.staticShape, tv.dtype], [[2, null], 'float64']);
    const c = T.vector('c', 'bool'), a = T.vector('a'), b = T.vector('b');
    const sw = T.switch(c, a, b);
    assert.equal(sw.owner!.op.key(), T.where(c, a, b).owner!.op.key(), 'T.switch builds the node T.where builds');
    const f = st.fn([c, a, b], sw);
    const got = f.sync(st.tensor([true, false, true]), st.tensor([1, 2, 3]), st.tensor([10, 20, 30])) as st.Tensor;
    assert.deepEqual(Array.from(got.dataSync()), [1, 20, 3]);
    f.dispose();
  });
});
