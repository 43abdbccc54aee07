// Errors of the graph-level st functions (fn, shared, grad, jacobian, hessian, randomStreams,
// debugprint, toDot) and of the eager composites built from other functions (std, dot): bad
// arguments are checked at the entry, the error is a SymtensorError whose op is the function the
// user called, and its message names the argument, the value and, for shared variables, the
// variable.  Option objects list the valid keys when one is misspelled.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { debugprint, toDot } from '../../lib/compile/print';
import { catchError } from '../support/check';

const { T } = st;

function check(err: st.SymtensorError, code: string, op: string, parts: string[]): void {
  assert.ok(err instanceof st.SymtensorError, `not a SymtensorError: ${String(err)}`);
  assert.equal(err.code, code, `code of: ${err.message}`);
  assert.equal(err.op, op, `op of: ${err.message}`);
  assert.ok(err.message.startsWith(`${op}: `), `message ${JSON.stringify(err.message)} should start with ${op}:`);
  for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should include ${JSON.stringify(p)}`);
}

describe('st errors: eager composites name themselves', () => {
  it('st.std reports its axis errors as std, keeping the inner detail', () => {
    check(catchError(() => st.std(st.ones([2, 2]), 'abc' as never)), 'ERR_ST_ARG', 'std', ['axis must be an integer', '"abc"']);
    check(catchError(() => st.std(st.ones([2, 2]), 5)), 'ERR_ST_ARG', 'std', ['axis 5 is out of range for a tensor of rank 2']);
    check(catchError(() => st.std(null as never)), 'ERR_ST_VALUE', 'std', ['null']);
  });

  it('st.dot reports a shape mismatch as dot, with both shapes', () => {
    check(catchError(() => st.dot(st.ones([2, 3]), st.ones([2, 2]))), 'ERR_ST_SHAPE', 'dot', ['[2,3]', '[2,2]']);
    check(catchError(() => st.dot(st.ones([17]), st.ones([2, 2]))), 'ERR_ST_SHAPE', 'dot', ['[17]']);
    check(catchError(() => st.dot(st.ones([2, 2]), Symbol('s') as never)), 'ERR_ST_VALUE', 'dot', ['b: ', 'Symbol(s)']);
  });

  it('st.matmul takes true/false flags only', () => {
    check(catchError(() => st.matmul(st.ones([2, 2]), st.ones([2, 2]), 'abc' as never)), 'ERR_ST_ARG', 'matmul', ['transposeA must be true or false', '"abc"']);
    check(catchError(() => st.matmul(st.ones([2, 2]), st.ones([2, 2]), false, 1 as never)), 'ERR_ST_ARG', 'matmul', ['transposeB must be true or false', '1']);
  });

  it('the checked functions still compute: std and dot against plain loops', () => {
    const x = [1, 2, 4, 7, 0, -3];
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    assert.ok(Math.abs(st.std(st.tensor(x, { dtype: 'float64' })).item() - sd) < 1e-12);
    const a = [[1, 2], [3, 4]], b = [[5, 6], [7, 8]];
    const want = [0, 1].flatMap((i) => [0, 1].map((j) => a[i][0] * b[0][j] + a[i][1] * b[1][j]));
    assert.deepEqual(Array.from(st.dot(a, b).dataSync()), want);
  });
});

describe('st errors: st.shared', () => {
  it('a value no tensor can be made from is an error about the value of the named variable', () => {
    check(catchError(() => st.shared('abc' as never, 'w')), 'ERR_ST_VALUE', 'shared', ['the value of w', '"abc"']);
    check(catchError(() => st.shared([[1], [1, 2]], 'w')), 'ERR_ST_VALUE', 'shared', ['the value of w', 'ragged']);
    check(catchError(() => st.shared(T.matrix('m') as never)), 'ERR_ST_VALUE', 'shared', ['value: ', 'Variable']);
  });

  it('a disposed tensor, a bad name and bad options are named', () => {
    const t = st.ones([2]);
    t.dispose();
    check(catchError(() => st.shared(t, 'w')), 'ERR_ST_DISPOSED', 'shared', ['value of w', 'disposed']);
    check(catchError(() => st.shared([1, 2], 42 as never)), 'ERR_ST_ARG', 'shared', ['the name must be a string', '42']);
    check(catchError(() => st.shared([1, 2], 'w', null as never)), 'ERR_ST_ARG', 'shared', ['options must be an object', 'null']);
    check(catchError(() => st.shared([1, 2], 'w', { dtyp: 'float64' } as never)), 'ERR_ST_ARG', 'shared', ['unknown option "dtyp"', 'valid: dtype']);
    check(catchError(() => st.shared([1, 2], 'w', { dtype: 'float16' as never })), 'ERR_ST_DTYPE', 'shared', ['unknown dtype "float16"', 'float32', 'int32']);
  });

  it('good calls still make a private copy of the value in the asked dtype', () => {
    const src = st.tensor([1.5, -2], { dtype: 'float32' });
    const w = st.shared(src, 'w', { dtype: 'float64' });
    src.dispose();
    assert.equal(w.dtype, 'float64');
    assert.deepEqual(Array.from(w.get().dataSync()), [1.5, -2]);
    assert.equal(st.shared([1, 2], null as never).name, undefined);
  });
});

describe('st errors: st.fn', () => {
  const x = T.vector('x');
  const w = st.shared(st.zeros([3]), 'w');
  const n = st.shared(st.tensor(0, { dtype: 'int32' }), 'n');

  it('inputs and outputs must be symbolic variables', () => {
    check(catchError(() => st.fn(x as never, T.sum(x))), 'ERR_ST_ARG', 'fn', ['inputs must be an array of symbolic variables', 'x [?] float32']);
    check(catchError(() => st.fn([x, 'y'] as never, T.sum(x))), 'ERR_ST_ARG', 'fn', ['input 1 is not a symbolic variable', '"y"']);
    check(catchError(() => st.fn([x], [T.sum(x), st.ones([2])] as never)), 'ERR_ST_ARG', 'fn', ['output 1 is not a symbolic variable', 'a Tensor']);
    check(catchError(() => st.fn([x], 3 as never)), 'ERR_ST_ARG', 'fn', ['output 0 is not a symbolic variable', '3']);
  });

  it('options: not an object, unknown keys (listed with the valid ones), wrong types', () => {
    check(catchError(() => st.fn([x], T.sum(x), null as never)), 'ERR_ST_ARG', 'fn', ['options must be an object', 'null']);
    check(catchError(() => st.fn([x], T.sum(x), { update: [] } as never)), 'ERR_ST_ARG', 'fn', ['unknown option "update"', 'updates', 'givens', 'allowInputDowncast']);
    check(catchError(() => st.fn([x], T.sum(x), { name: 7 } as never)), 'ERR_ST_ARG', 'fn', ['name must be a non-empty string', '7']);
    check(catchError(() => st.fn([x], T.sum(x), { profile: 'yes' } as never)), 'ERR_ST_ARG', 'fn', ['profile must be true or false', '"yes"']);
    check(catchError(() => st.fn([x], T.sum(x), { onUnusedInput: 'warn' } as never)), 'ERR_ST_ARG', 'fn', ["onUnusedInput must be 'raise' or 'ignore'", '"warn"']);
    check(catchError(() => st.fn([x], T.sum(x), { excludeRewrites: 'fusion' } as never)), 'ERR_ST_ARG', 'fn', ['excludeRewrites must be an array', '"fusion"']);
  });

  it('updates: pairs of a shared variable and a value of its shape and dtype, the variable named', () => {
    check(catchError(() => st.fn([x], T.sum(x), { updates: 'w' as never })), 'ERR_ST_ARG', 'fn', ['updates must be an array (or Map) of pairs', '"w"']);
    check(catchError(() => st.fn([x], T.sum(x), { updates: [[w]] as never })), 'ERR_ST_ARG', 'fn', ['[sharedVariable, expression] pairs', 'update 0']);
    check(catchError(() => st.fn([x], T.sum(x), { updates: [[x, x]] })), 'ERR_ST_ARG', 'fn', ['x [?] float32 (update 0) is not a shared variable']);
    check(catchError(() => st.fn([x], T.sum(x), { updates: [[Symbol('s'), x]] as never })), 'ERR_ST_ARG', 'fn', ['Symbol(s) (update 0) is not a shared variable']);
    check(catchError(() => st.fn([x], T.sum(x), { updates: [[w, T.zeros([4])]] })), 'ERR_ST_SHAPE', 'fn', ['update of w [3] float32', 'shape [4]']);
    check(catchError(() => st.fn([x], T.sum(x), { updates: [[n, x.get(0)]] })), 'ERR_ST_DTYPE', 'fn', ['update of n [] int32', 'float32', "T.cast(expr, 'int32')"]);
    check(catchError(() => st.fn([x], T.sum(x), { updates: [[w, 'abc']] as never })), 'ERR_ST_ARG', 'fn', ['update of w [3] float32 must be a symbolic variable, a Tensor or a number', '"abc"']);
    check(catchError(() => st.fn([x], T.sum(x), { updates: [[w, [[1], [1, 2]]]] as never })), 'ERR_ST_VALUE', 'fn', ['update of w [3] float32', 'ragged']);
    check(catchError(() => st.fn([x], T.sum(x), { name: 'step', updates: [[w, x], [w, x]] })), 'ERR_ST_ARG', 'fn step', ['w [3] float32 is updated twice']);
  });

  it('givens: pairs of a variable and a replacement of its type', () => {
    const y = T.vector('y');
    check(catchError(() => st.fn([x], T.sum(y), { givens: 5 as never })), 'ERR_ST_ARG', 'fn', ['givens must be an array (or Map) of pairs', '5']);
    check(catchError(() => st.fn([x], T.sum(y), { givens: [['y', x]] as never })), 'ERR_ST_ARG', 'fn', ['givens keys must be symbolic variables', '"y"']);
    check(catchError(() => st.fn([x], T.sum(y), { givens: [[y, {}]] as never })), 'ERR_ST_ARG', 'fn', ['the replacement of y [?] float32', 'an object']);
    check(catchError(() => st.fn([x], T.sum(y), { givens: [[y, T.matrix('m')]] })), 'ERR_ST_DTYPE', 'fn', ['y [?] float32 cannot be replaced by m [?,?] float32']);
    check(catchError(() => st.fn([x], T.sum(y), { givens: [[y, x], [y, x.mul(2)]] })), 'ERR_ST_ARG', 'fn', ['y [?] float32 is given twice']);
  });

  it('a well-formed call with every option still compiles and applies its update', () => {
    const v = st.shared(st.tensor([1, 2, 3], { dtype: 'float64' }), 'v');
    const xd = T.vector('xd', 'float64');
    const f = st.fn([xd], T.sum(xd.mul(v)), { updates: [[v, v.add(xd)]], givens: [], name: 'step', profile: false, allowInputDowncast: true, onUnusedInput: 'raise', excludeRewrites: [] });
    const out = f.sync([1, 1, 1]);
    assert.equal(out.item(), 1 + 2 + 3);
    assert.deepEqual(Array.from(v.get().dataSync()), [2, 3, 4]);
  });
});

describe('st errors: grad, jacobian and hessian', () => {
  const x = T.vector('x', 'float64');
  const c = T.sum(x.mul(x));

  it('grad: a non-variable cost or wrt, and bad options', () => {
    check(catchError(() => st.grad('c' as never, x)), 'ERR_ST_ARG', 'grad', ['cost must be a symbolic variable', '"c"']);
    check(catchError(() => st.grad(c, [x, 3] as never)), 'ERR_ST_ARG', 'grad', ['wrt[1] is 3']);
    check(catchError(() => st.grad(c, x, { consider: 'warn' } as never)), 'ERR_ST_ARG', 'grad', ["consider must be one of 'raise', 'zero', 'ignore'", '"warn"']);
    check(catchError(() => st.grad(c, x, { considr: 'zero' } as never)), 'ERR_ST_ARG', 'grad', ['unknown option "considr"', 'valid: consider']);
  });

  it('jacobian: y and x must be float variables, y a scalar or a vector of known length', () => {
    check(catchError(() => st.jacobian(st.ones([2]) as never, x)), 'ERR_ST_ARG', 'jacobian', ['y must be a symbolic variable', 'a Tensor']);
    check(catchError(() => st.jacobian(x, null as never)), 'ERR_ST_ARG', 'jacobian', ['x must be a symbolic variable', 'null']);
    check(catchError(() => st.jacobian(T.vector('i', 'int32'), x)), 'ERR_ST_DTYPE', 'jacobian', ['y must be float32 or float64', 'i [?] int32']);
    check(catchError(() => st.jacobian(x, x)), 'ERR_ST_SHAPE', 'jacobian', ['vector of known length', 'x [?] float64']);
    check(catchError(() => st.jacobian(T.matrix('m'), T.matrix('m2'))), 'ERR_ST_SHAPE', 'jacobian', ['m [?,?] float32']);
    check(catchError(() => st.jacobian(c, x, { consider: 'ignore' })), 'ERR_ST_ARG', 'jacobian', ["consider: 'ignore'"]);
    check(catchError(() => st.jacobian(c, x, 'zero' as never)), 'ERR_ST_ARG', 'jacobian', ['options must be an object', '"zero"']);
    // grad's "does not depend on" inside is jacobian's
    check(catchError(() => st.jacobian(T.sum(T.vector('z', 'float64')), x)), 'ERR_ST_ARG', 'jacobian', ['does not depend on x [?] float64']);
  });

  it('hessian: cost a float scalar variable, x a vector of known length', () => {
    const v = T.tensor('float64', [3], 'v');
    check(catchError(() => st.hessian(1 as never, v)), 'ERR_ST_ARG', 'hessian', ['cost must be a symbolic variable', '1']);
    check(catchError(() => st.hessian(v, v)), 'ERR_ST_SHAPE', 'hessian', ['cost must be a scalar', 'v [3] float64']);
    check(catchError(() => st.hessian(T.sum(v), T.matrix('m'))), 'ERR_ST_SHAPE', 'hessian', ['x must be a vector of known length', 'm [?,?] float32']);
    check(catchError(() => st.hessian(T.sum(v), 'x' as never)), 'ERR_ST_ARG', 'hessian', ['x must be a symbolic variable', '"x"']);
    check(catchError(() => st.hessian(T.sum(v), v, { foo: 1 } as never)), 'ERR_ST_ARG', 'hessian', ['unknown option "foo"']);
  });

  it('good calls still differentiate: the Hessian of sum(v³) is diag(6v)', () => {
    const v = T.tensor('float64', [3], 'v');
    const H = st.hessian(T.sum(v.mul(v).mul(v)), v);
    const vals = [0.5, -1, 2];
    const got = Array.from(st.fn([v], H).sync(vals).dataSync());
    const want = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => (i === j ? 6 * vals[i] : 0)));
    got.forEach((g, k) => assert.ok(Math.abs(g - want[k]) < 1e-12, `H[${k}] = ${g}, want ${want[k]}`));
  });
});

describe('st errors: randomStreams, debugprint, toDot', () => {
  it('randomStreams: a seed that is no safe non-negative integer, and draw options', () => {
    check(catchError(() => st.randomStreams(Symbol('s') as never)), 'ERR_ST_ARG', 'randomStreams', ['seed must be a non-negative integer', 'Symbol(s)']);
    check(catchError(() => st.randomStreams(2 ** 53)), 'ERR_ST_ARG', 'randomStreams', ['seed must be', '9007199254740992']);
    check(catchError(() => st.randomStreams(-1)), 'ERR_ST_ARG', 'randomStreams', ['-1']);
    const rs = st.randomStreams(1);
    check(catchError(() => rs.uniform([2], null as never)), 'ERR_ST_ARG', 'uniform', ['options must be an object', 'null']);
    check(catchError(() => rs.normal([2], { std: 1 } as never)), 'ERR_ST_ARG', 'normal', ['unknown option "std"', 'mean, stddev, dtype']);
    check(catchError(() => rs.randint([2], Symbol('a') as never, 3)), 'ERR_ST_ARG', 'randint', ['Symbol(a)']);
    check(catchError(() => rs.bernoulli([2], 0.5, 'float16' as never)), 'ERR_ST_DTYPE', 'bernoulli', ['unknown dtype "float16"']);
  });

  it('debugprint and toDot: only a compiled function, debugprint with known options', () => {
    const x = T.vector('x');
    const f = st.fn([x], T.exp(x));
    check(catchError(() => debugprint(null as never)), 'ERR_ST_ARG', 'debugprint', ['expected a compiled function (made by st.fn)', 'null']);
    check(catchError(() => debugprint(x as never)), 'ERR_ST_ARG', 'debugprint', ['a Variable (x [?] float32)']);
    check(catchError(() => debugprint(f, { print: 'no' } as never)), 'ERR_ST_ARG', 'debugprint', ['print must be true or false', '"no"']);
    check(catchError(() => debugprint(f, { quiet: true } as never)), 'ERR_ST_ARG', 'debugprint', ['unknown option "quiet"', 'valid: print']);
    check(catchError(() => toDot((() => 1) as never)), 'ERR_ST_ARG', 'toDot', ['expected a compiled function', 'a function']);
    assert.match(debugprint(f, { print: false }), /exp/);
    assert.match(toDot(f), /^digraph "fn" \{/);
  });
});

describe('st errors: option objects of the eager creation and nn functions', () => {
  const x4 = () => st.ones([1, 4, 4, 2]);
  const w4 = () => st.ones([3, 3, 2, 2]);
  const cases: [string, (o: unknown) => unknown, string][] = [
    ['randomNormal', (o) => st.randomNormal([2], o as never), 'mean, stddev, dtype, seed'],
    ['randomUniform', (o) => st.randomUniform([2], o as never), 'low, high, dtype, seed'],
    ['conv2d', (o) => st.conv2d(x4(), w4(), o as never), 'strides, padding, dilations'],
    ['maxPool2d', (o) => st.maxPool2d(x4(), o as never), 'poolSize, strides, padding'],
    ['avgPool2d', (o) => st.avgPool2d(x4(), o as never), 'poolSize, strides, padding'],
    ['conv2d', (o) => T.conv2d(T.tensor4('x'), T.tensor4('w'), o as never), 'strides, padding, dilations'],
    ['maxPool2d', (o) => T.maxPool2d(T.tensor4('x'), o as never), 'poolSize, strides, padding'],
    ['tensor', (o) => st.tensor([1, 2], o as never), 'shape, dtype'],
  ];

  it('null or a non-object, and a misspelled key (listed with the valid ones), are errors naming the function', () => {
    for (const [op, call, valid] of cases) {
      if (op !== 'tensor') check(catchError(() => call(null)), 'ERR_ST_ARG', op, ['must be an object', 'null']);
      if (op !== 'tensor') check(catchError(() => call(7)), 'ERR_ST_ARG', op, ['must be an object', '7']);
      check(catchError(() => call({ strde: 1 })), 'ERR_ST_ARG', op, ['unknown option "strde"', `valid: ${valid}`]);
    }
  });

  it('the random functions take numbers for their bounds', () => {
    check(catchError(() => st.randomNormal([2], { mean: '1' as never })), 'ERR_ST_ARG', 'randomNormal', ['mean must be a number', '"1"']);
    check(catchError(() => st.randomNormal([2], { stddev: null as never })), 'ERR_ST_ARG', 'randomNormal', ['stddev must be a number', 'null']);
    check(catchError(() => st.randomUniform([2], { high: [1] as never })), 'ERR_ST_ARG', 'randomUniform', ['high must be a number']);
  });

  it('well-formed options still work: samples in range, the conv and pool shapes', () => {
    const u = st.randomUniform([1000], { low: 2, high: 3, seed: 4, dtype: 'float64' });
    assert.equal(u.dtype, 'float64');
    assert.ok(Array.from(u.dataSync()).every((v) => v >= 2 && v < 3));
    assert.deepEqual(st.conv2d(x4(), w4(), { strides: 1, padding: 'same', dilations: 1 }).shape, [1, 4, 4, 2]);
    assert.deepEqual(st.maxPool2d(x4(), { poolSize: 2, strides: 2, padding: 'valid' }).shape, [1, 2, 2, 2]);
    assert.deepEqual(Array.from(st.tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'int32' }).dataSync()), [1, 2, 3, 4]);
  });
});
