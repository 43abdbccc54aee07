// The names Theano users type: typed constructors, short aliases, T.nnet, varargs dimshuffle,
// x.eval(), and clear errors for names T does not have.
import { strict as assert } from 'node:assert';
import * as util from 'node:util';
import * as st from '../../lib/index';
import { compiledFor } from '../../lib/compile/eval';
import { T_ALIASES } from '../support/exports';
import { catchError } from '../support/check';

const { T } = st;
type Tensor = st.Tensor;

const TT = T as unknown as Record<string, unknown>;


describe('Theano names', () => {
  it('typed constructors declare the dtype and rank their names say', () => {
    const want: Record<string, [st.DType, number]> = {
      fscalar: ['float32', 0], fvector: ['float32', 1], fmatrix: ['float32', 2], ftensor3: ['float32', 3], ftensor4: ['float32', 4],
      dscalar: ['float64', 0], dvector: ['float64', 1], dmatrix: ['float64', 2], dtensor3: ['float64', 3], dtensor4: ['float64', 4],
      iscalar: ['int32', 0], ivector: ['int32', 1], imatrix: ['int32', 2],
      // Theano's int64: int32 is symtensor's widest integer
      lscalar: ['int32', 0], lvector: ['int32', 1], lmatrix: ['int32', 2],
    };
    for (const [name, [dtype, rank]] of Object.entries(want)) {
      const v = (TT[name] as (n: string) => st.Variable)('v');
      assert.equal(v.dtype, dtype, name);
      assert.deepEqual(v.staticShape, new Array(rank).fill(null), name);
      assert.equal(v.name, 'v', name);
    }
  });

  it('T.scalars / vectors / matrices make several named inputs', () => {
    const [a, b] = T.scalars('a', 'b');
    assert.deepEqual([a.name, b.name, a.ndim, a.dtype], ['a', 'b', 0, 'float32']);
    assert.deepEqual(T.vectors('x, y z').map((v) => [v.name, v.ndim]), [['x', 1], ['y', 1], ['z', 1]]);
    assert.deepEqual(T.matrices('m', 'n').map((v) => v.ndim), [2, 2]);
    assert.notEqual(a, b);
    assert.equal(catchError(() => T.scalars()).code, 'ERR_ST_ARG');
  });

  it('each alias is the very same function as its canonical name', () => {
    for (const [alias, canonical] of Object.entries(T_ALIASES)) {
      assert.equal(typeof TT[alias], 'function', alias);
      assert.equal(TT[alias], TT[canonical], `T.${alias} is T.${canonical}`);
    }
  });

  it('the aliases compute what their names say', () => {
    const x = T.vector('x'), y = T.vector('y');
    const f = st.fn([x, y], [T.eq(x, y), T.neq(x, y), T.lt(x, y), T.gt(x, y), T.le(x, y), T.ge(x, y), T.sqr(x), T.concatenate([x, y])]);
    const out = (f.sync([1, 2, 3], [2, 2, 2]) as Tensor[]).map((t) => Array.from(t.dataSync()));
    assert.deepEqual(out, [[0, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 4, 9], [1, 2, 3, 2, 2, 2]]);
  });

  it('dimshuffle takes the pattern as an array or as separate arguments', () => {
    const x = T.matrix('x');
    const a = x.dimshuffle(0, 'x', 1), b = x.dimshuffle([0, 'x', 1]), c = T.dimshuffle(x, 1, 0);
    assert.equal(a.owner!.op.key(), b.owner!.op.key());
    assert.deepEqual([a.ndim, c.owner!.op.key()], [3, T.dimshuffle(x, [1, 0]).owner!.op.key()]);
    const v = st.fn([x], a).sync([[1, 2], [3, 4]]) as Tensor;
    assert.deepEqual(v.shape, [2, 1, 2]);
    assert.equal(catchError(() => x.dimshuffle([0], 1)).code, 'ERR_ST_ARG');
  });

  it('T.nnet holds the same functions under Theano names', () => {
    const names: Record<string, string> = {
      sigmoid: 'sigmoid', softmax: 'softmax', logSoftmax: 'logSoftmax', logsoftmax: 'logSoftmax', relu: 'relu', elu: 'elu',
      selu: 'selu', softplus: 'softplus', conv2d: 'conv2d', categoricalCrossentropy: 'categoricalCrossentropy',
      binaryCrossentropy: 'binaryCrossentropy', sparseCategoricalCrossentropy: 'sparseCategoricalCrossentropy',
    };
    const nnet = T.nnet as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(nnet).sort(), Object.keys(names).sort());
    for (const [k, canonical] of Object.entries(names)) assert.equal(nnet[k], TT[canonical], `T.nnet.${k}`);
    assert.ok(Object.isFrozen(T.nnet));
  });

  it('categoricalCrossentropy given one-hot labels as yPred says the order is (yTrue, yPred)', () => {
    const p = T.softmax(T.matrix('z')), labels = T.ivector('y');
    const e = catchError(() => T.nnet.categoricalCrossentropy(p, T.oneHot(labels, 3)));
    assert.match(e.message, /yTrue, yPred/);
    assert.match(e.message, /Theano/);
  });
});

describe('x.eval()', () => {
  it('evaluates with values by input name, Map or pairs, and without inputs', () => {
    const x = T.scalar('x'), y = T.vector('y');
    const z = T.add(T.mul(y, x), 1);
    assert.deepEqual(Array.from(z.eval({ x: 2, y: [1, 2] }).dataSync()), [3, 5]);
    assert.deepEqual(Array.from(z.eval(new Map<st.Variable, st.ArgValue>([[x, 3], [y, [1, 2]]])).dataSync()), [4, 7]);
    assert.deepEqual(Array.from(z.eval([[x, 1], [y, [0, 5]]]).dataSync()), [1, 6]);
    assert.deepEqual(Array.from(T.mul(T.constant([1, 2]), 3).eval().dataSync()), [3, 6]);
    assert.equal(x.eval({ x: 5 }).item(), 5);
    const w = st.shared(st.tensor([1, 2]), 'w');
    assert.deepEqual(Array.from(w.mul(2).eval().dataSync()), [2, 4]);
  });

  it('compiles once per variable: later calls reuse the function', () => {
    const x = T.vector('x');
    const z = T.tanh(x);
    assert.equal(compiledFor(z), undefined);
    const a = z.eval({ x: [0.5, 1] });
    const f = compiledFor(z);
    assert.ok(f);
    const b = z.eval({ x: [0.5, 1, 2] });
    assert.equal(compiledFor(z), f);
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()).slice(0, 2));
    assert.equal(b.shape[0], 3);
  });

  it('names missing and unexpected inputs', () => {
    const x = T.scalar('x'), y = T.scalar('y');
    const z = T.add(x, y);
    assert.match(catchError(() => z.eval({ x: 1 })).message, /^eval: no value given for y/);
    assert.match(catchError(() => z.eval({ x: 1, y: 2, q: 3 })).message, /q, which this value does not depend on/);
    assert.match(catchError(() => T.add(T.scalar(), 1).eval({})).message, /no name of its own/);
  });
});

describe('names T does not have', () => {
  it('a misspelled name is an error listing the closest names', () => {
    const e = catchError(() => (TT.tanhh as () => void)());
    assert.equal(e.code, 'ERR_ST_ARG');
    assert.match(e.message, /T has no "tanhh"; did you mean T\.tanh/);
    assert.match(catchError(() => TT.categorical_crossentropy).message, /did you mean T\.categoricalCrossentropy/);
    assert.match(catchError(() => TT.Matrix).message, /did you mean T\.matrix/);
    assert.match(catchError(() => (T.nnet as unknown as Record<string, unknown>).binary_crossentropy).message, /did you mean T\.nnet\.binaryCrossentropy/);
    assert.match(catchError(() => TT.zzzzqqqq).message, /T has no "zzzzqqqq"; see Object\.keys\(T\)/);
  });

  it('the strict T still behaves as a plain frozen object for tools', async () => {
    assert.ok(Object.keys(T).includes('tanh') && Object.keys(T).length > 100);
    assert.ok(Object.isFrozen(T));
    assert.equal('nope' in T, false);
    assert.equal(TT.then, undefined);
    assert.equal(await Promise.resolve(T), T); // resolution probes .then
    assert.match(util.inspect(T), /tanh/);
    assert.equal(typeof JSON.stringify(Object.keys(T)), 'string');
    assert.equal(TT[Symbol.iterator as unknown as string], undefined);
    assert.equal(String(Object.prototype.toString.call(T)), '[object Object]');
    assert.equal(T.tanh, T.tanh);
  });
});
