// Errors of symbolic graphs: clear SymtensorErrors that name the op, the shapes, the variables, and
// the line in this file where the failing node was built.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as st from '../../lib/index';
import { catchError } from '../support/check';

const { T } = st;
type Tensor = st.Tensor;
const FILE = path.basename(__filename);

/** "errors-graph.test.ts:<line>" of the caller's line. */
function here(): string {
  const frame = (new Error().stack ?? '').split('\n')[2] ?? '';
  const m = new RegExp(`${FILE.replace(/\./g, '\\.')}:(\\d+)`).exec(frame);
  assert.ok(m, `could not find ${FILE} in ${frame}`);
  return `${FILE}:${m[1]}:`;
}


async function catchAsync(p: Promise<unknown>): Promise<st.SymtensorError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof st.SymtensorError, `expected a SymtensorError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the promise to reject');
}

function check(err: st.SymtensorError, code: string, parts: (string | RegExp)[]): void {
  assert.equal(err.code, code, `code of: ${err.message}`);
  assert.ok(err instanceof Error);
  for (const p of parts) {
    if (typeof p === 'string') assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} should include ${JSON.stringify(p)}`);
    else assert.match(err.message, p);
  }
}

const f32 = (shape: (number | null)[], name: string) => T.tensor('float32', shape, name);

describe('graph errors: building ops (thrown at the line that builds them)', () => {
  it('T.add of incompatible static shapes names add, both shapes, both variables and this line', () => {
    const a = f32([2, 3], 'alpha'), b = f32([4, 3], 'beta');
    const [at, err] = [here(), catchError(() => T.add(a, b))];
    check(err, 'ERR_ST_SHAPE', ['add', '[2,3]', '[4,3]', 'alpha', 'beta', at]);
    assert.equal(err.op, 'add');
    assert.ok(err.where?.includes(at), `where ${err.where} should include ${at}`);
  });

  it('the same through a method, with a broadcast that cannot work ([2,3] + [2])', () => {
    const a = f32([2, 3], 'lhs'), b = f32([2], 'rhs');
    const [at, err] = [here(), catchError(() => a.mul(b))];
    check(err, 'ERR_ST_SHAPE', ['mul', '[2,3]', '[2]', 'lhs', 'rhs', at]);
  });

  it('T.dot with mismatched inner dimensions names both matrices and both sizes', () => {
    const A = f32([3, 4], 'Amat'), B = f32([5, 6], 'Bmat');
    const [at, err] = [here(), catchError(() => T.dot(A, B))];
    check(err, 'ERR_ST_SHAPE', ['matmul', '[3,4]', '[5,6]', 'Amat', 'Bmat', /4 and 5/, at]);
  });

  it('T.dot of a matrix and a vector with mismatched sizes names the vector as the user wrote it', () => {
    const A = f32([3, 4], 'Amat'), v = f32([5], 'vec');
    const [at, err] = [here(), catchError(() => T.dot(A, v))];
    check(err, 'ERR_ST_SHAPE', ['[3,4]', 'Amat', at]);
    assert.ok(/\bvec\b/.test(err.message), `message should name the vector "vec": ${err.message}`);
  });

  it('other shape errors: concat, reshape, conv2d channels, ifelse branches', () => {
    let at: string, err: st.SymtensorError;
    [at, err] = [here(), catchError(() => T.concat([f32([2, 3], 'p'), f32([2, 4], 'q')], 0))];
    check(err, 'ERR_ST_SHAPE', ['concat', '[2,3]', '[2,4]', at]);
    [at, err] = [here(), catchError(() => T.reshape(f32([2, 3], 'r'), [4]))];
    check(err, 'ERR_ST_SHAPE', ['reshape', '[2,3]', '[4]', 'r [2,3]', at]);
    [at, err] = [here(), catchError(() => T.conv2d(f32([null, 5, 5, 3], 'img'), f32([3, 3, 2, 4], 'flt')))];
    check(err, 'ERR_ST_SHAPE', ['conv2d', 'img', 'flt', '3 channels', at]);
    [at, err] = [here(), catchError(() => T.ifelse(T.scalar('c'), f32([3], 'then'), f32([4], 'else')))];
    check(err, 'ERR_ST_SHAPE', ['ifelse', '[3]', '[4]', at]);
    [at, err] = [here(), catchError(() => T.ifelse(f32([3], 'cond'), f32([3], 'x'), f32([3], 'y')))];
    check(err, 'ERR_ST_SHAPE', ['ifelse', 'condition', '[3]', at]);
  });

  it('argument and dtype errors: axis out of range, float indices, unknown dtype', () => {
    let at: string, err: st.SymtensorError;
    [at, err] = [here(), catchError(() => T.softmax(T.matrix('m'), 3))];
    check(err, 'ERR_ST_ARG', ['softmax', 'axis 3', 'rank 2', at]);
    [at, err] = [here(), catchError(() => T.sum(T.matrix('m'), 2))];
    check(err, 'ERR_ST_ARG', ['sum', 'axis 2', at]);
    err = catchError(() => T.tensor('float16' as st.DType, 2));
    check(err, 'ERR_ST_DTYPE', ['float16']);
  });

  it('gather with float indices is a dtype error, as in the eager op', () => {
    const eagerErr = catchError(() => st.gather(st.ones([3]), st.tensor([0, 1])));
    const [at, err] = [here(), catchError(() => T.gather(T.vector('vals'), T.vector('fidx')))];
    check(err, eagerErr.code, ['gather', 'int32', 'float32', 'fidx', at]);
    assert.equal(err.code, 'ERR_ST_DTYPE');
  });

  it('grad of a non-scalar or non-float cost', () => {
    const x = T.matrix('x');
    check(catchError(() => st.grad(x.mul(2), x)), 'ERR_ST_SHAPE', ['grad', 'scalar', '[?,?]', 'T.sum']);
    check(catchError(() => st.grad(T.sum(x, 0), x)), 'ERR_ST_SHAPE', ['grad', 'scalar']);
    const iv = T.ivector('iv');
    check(catchError(() => st.grad(iv.sum(), iv)), 'ERR_ST_DTYPE', ['grad', 'int32']);
    const y = T.vector('unusedY');
    check(catchError(() => st.grad(x.sum(), y)), 'ERR_ST_ARG', ['unusedY']);
  });
});

describe('graph errors: st.fn', () => {
  it('wrong number of arguments names every input and the count given', async () => {
    const X = T.matrix('X'), y = T.vector('y');
    const f = st.fn([X, y], T.dot(X, y));
    const err = catchError(() => f.sync(st.ones([2, 2])));
    check(err, 'ERR_ST_ARG', ['expected 2 arguments', 'X [?,?] float32', 'y [?] float32', 'got 1']);
    check(catchError(() => f.sync(st.ones([2, 2]), st.ones([2]), st.ones([2]))), 'ERR_ST_ARG', ['expected 2 arguments', 'got 3']);
    check(await catchAsync(f(st.ones([2, 2]))), 'ERR_ST_ARG', ['expected 2 arguments', 'got 1']);
  });

  it('an unused input is an error unless onUnusedInput: ignore', () => {
    const x = T.vector('x'), lonely = T.vector('lonely');
    const err = catchError(() => st.fn([x, lonely], x.mul(2)));
    check(err, 'ERR_ST_ARG', ['input 1', 'lonely', 'not used', "onUnusedInput: 'ignore'"]);
    assert.ok(err.stack?.includes(FILE), 'the stack points at the st.fn call in this file');
    const f = st.fn([x, lonely], x.mul(2), { onUnusedInput: 'ignore' });
    assert.deepEqual(Array.from((f.sync([1], [2]) as Tensor).dataSync()), [2]);
  });

  it('an output depending on a variable that is not an input names that variable', () => {
    const x = T.vector('x'), missing = T.vector('missingVar');
    const err = catchError(() => st.fn([x], x.add(missing)));
    check(err, 'ERR_ST_ARG', ['missingVar', 'not among the inputs']);
    // also when reached only through an update
    const w = st.shared(st.zeros([2]), 'w');
    check(catchError(() => st.fn([x], x.sum(), { updates: [[w, missing]] })), 'ERR_ST_ARG', ['missingVar']);
  });

  it('inputs must be free, distinct symbolic variables', () => {
    const a = T.matrix('a');
    const w = st.shared(st.zeros([2]), 'wsh');
    check(catchError(() => st.fn([a, a], a.sum())), 'ERR_ST_ARG', ['a [?,?]', 'twice']);
    check(catchError(() => st.fn([a.mul(2)], a.sum())), 'ERR_ST_ARG', ['input 0', 'computed']);
    check(catchError(() => st.fn([w], w.sum())), 'ERR_ST_ARG', ['wsh', 'shared variable']);
    check(catchError(() => st.fn([st.ones([2]) as unknown as st.Variable], a.sum())), 'ERR_ST_ARG', ['input 0', 'not a symbolic variable']);
    check(catchError(() => st.fn([a], 3 as unknown as st.Variable)), 'ERR_ST_ARG', ['output 0']);
  });

  it('a non-shared variable in updates names it', () => {
    const x = T.vector('plainVar');
    const w = st.shared(st.zeros([2]), 'w');
    check(catchError(() => st.fn([x], x.sum(), { updates: [[x as unknown as st.SharedVariable, x.mul(2)]] })), 'ERR_ST_ARG', ['plainVar', 'not a shared variable']);
    check(catchError(() => st.fn([], [], { updates: [[w.add(1) as unknown as st.SharedVariable, w]] })), 'ERR_ST_ARG', ['not a shared variable']);
    check(catchError(() => st.fn([], [], { updates: [[w, w], [w, w.add(1)]] })), 'ERR_ST_ARG', ['w [2]', 'twice']);
  });

  it('an update of another shape or dtype names the shared variable and both types', () => {
    const w = st.shared(st.zeros([3]), 'weights');
    check(catchError(() => st.fn([], [], { updates: [[w, w.sum()]] })), 'ERR_ST_SHAPE', ['weights', '[3]', '[]']);
    check(catchError(() => st.fn([], [], { updates: [[w, T.concat([w, w])]] })), 'ERR_ST_SHAPE', ['weights', '[3]', '[6]']);
    check(catchError(() => st.fn([], [], { updates: [[w, w.cast('float64')]] })), 'ERR_ST_DTYPE', ['weights', 'float64', 'float32', 'T.cast']);
    check(catchError(() => st.fn([], [], { updates: [[w, w.cast('int32')]] })), 'ERR_ST_DTYPE', ['weights', 'int32']);
  });

  it('an update whose unknown dims turn out wrong at run time names the shared variable and shapes; nothing changes', () => {
    const w = st.shared(st.tensor([1, 2, 3]), 'weights');
    const x = T.vector('x');
    const f = st.fn([x], x.sum(), { updates: [[w, x]] });
    const err = catchError(() => f.sync([5, 6, 7, 8]));
    check(err, 'ERR_ST_SHAPE', ['weights', '[3]', '[4]']);
    assert.deepEqual(Array.from(w.get().dataSync()), [1, 2, 3]);
    f.sync([7, 8, 9]);
    assert.deepEqual(Array.from(w.get().dataSync()), [7, 8, 9]);
  });
});

describe('graph errors: at run time (names the op, the shapes and the line that built the node)', () => {
  it('matmul with unknown dims called with [2,3] and [4,5]', async () => {
    const X = T.matrix('X'), W = T.matrix('W');
    const [at, out] = [here(), T.dot(X, W)];
    const f = st.fn([X, W], out);
    const err = catchError(() => f.sync(st.ones([2, 3]), st.ones([4, 5])));
    check(err, 'ERR_ST_SHAPE', ['matmul', '[2,3]', '[4,5]', at]);
    assert.equal(err.op, 'matmul');
    assert.ok(err.where?.includes(at), `where ${err.where} should include ${at}`);
    const errA = await catchAsync(f(st.ones([2, 3]), st.ones([4, 5])));
    check(errA, 'ERR_ST_SHAPE', ['matmul', '[2,3]', '[4,5]', at]);
    // and the function still works for fitting shapes
    assert.deepEqual((f.sync(st.ones([2, 3]), st.ones([3, 5])) as Tensor).shape, [2, 5]);
  });

  it('elementwise ops: shapes that do not broadcast, and an unknown dim that is 1 at run time', () => {
    const a = T.matrix('a'), b = T.matrix('b');
    const [at, out] = [here(), a.add(b)];
    const f = st.fn([a, b], out);
    check(catchError(() => f.sync(st.ones([3, 2]), st.ones([3, 4]))), 'ERR_ST_SHAPE', ['add', '[3,2]', '[3,4]', at]);
    check(catchError(() => f.sync(st.ones([3, 1]), st.ones([3, 4]))), 'ERR_ST_SHAPE', ['add', 'a [?,?]', 'axis 1', 'declare', at]);
  });

  it('reshape to a size that does not fit the run-time input', () => {
    const m = T.matrix('m');
    const [at, out] = [here(), T.reshape(m, [5])];
    const f = st.fn([m], out);
    check(catchError(() => f.sync(st.ones([2, 3]))), 'ERR_ST_SHAPE', ['reshape', '[2,3]', '[5]', at]);
  });

  it('a shape error deep inside a graph names the inner node, not the output', () => {
    const x = T.vector('x'), y = T.vector('y');
    const h = x.exp().add(1);
    const [at, inner] = [here(), h.mul(y)];
    const out = T.tanh(inner).sum();
    const f = st.fn([x, y], out);
    const err = catchError(() => f.sync([1, 2, 3], [1, 2]));
    assert.equal(err.code, 'ERR_ST_SHAPE');
    assert.ok(err.message.includes(at), `message should point at ${at}: ${err.message}`);
    assert.ok(err.message.includes('[3]') && err.message.includes('[2]'), err.message);
  });

  it('a run-time shape error in a dense layer (act(x·W + b)) points at the line of the product', () => {
    const X = T.matrix('X');
    const W = st.shared(st.zeros([4, 5]), 'W'), b = st.shared(st.zeros([5]), 'b');
    const [at, z] = [here(), T.dot(X, W)];
    const out = T.relu(z.add(b));
    const f = st.fn([X], out);
    const err = catchError(() => f.sync(st.ones([2, 3])));
    check(err, 'ERR_ST_SHAPE', ['[2,3]', '[4,5]', at]);
    assert.match(err.message, /matmul/);
  });

  it('gather with an out-of-range index given at run time: ERR_ST_INDEX naming gather and the line', async () => {
    const v = T.vector('v'), idx = T.ivector('idx');
    const [at, out] = [here(), T.gather(v, idx)];
    const f = st.fn([v, idx], out.mul(2));
    const bad = st.tensor([0, 7], { dtype: 'int32' });
    const err = catchError(() => f.sync([1, 2, 3], bad));
    check(err, 'ERR_ST_INDEX', ['gather', '7', at]);
    assert.equal(err.op, 'gather');
    check(await catchAsync(f([1, 2, 3], bad)), 'ERR_ST_INDEX', ['gather', '7', at]);
    check(catchError(() => f.sync([1, 2, 3], st.tensor([-5], { dtype: 'int32' }))), 'ERR_ST_INDEX', ['gather', at]);
    assert.deepEqual(Array.from((f.sync([1, 2, 3], st.tensor([2, 0], { dtype: 'int32' })) as Tensor).dataSync()), [6, 2]);
  });

  it('a failed call leaves shared variables unchanged (sync)', () => {
    const w = st.shared(st.tensor([1, 2, 3]), 'w');
    const idx = T.ivector('idx');
    // the update's value is computed first, then the gather that fails reads it
    const next = w.add(1);
    const f = st.fn([idx], T.gather(next, idx), { updates: [[w, next]] });
    check(catchError(() => f.sync(st.tensor([0, 3], { dtype: 'int32' }))), 'ERR_ST_INDEX', ['gather']);
    assert.deepEqual(Array.from(w.get().dataSync()), [1, 2, 3]);
    assert.deepEqual(Array.from((f.sync(st.tensor([2], { dtype: 'int32' })) as Tensor).dataSync()), [4]);
    assert.deepEqual(Array.from(w.get().dataSync()), [2, 3, 4]);
  });

  it('a failed call leaves shared variables unchanged (async, several shared variables)', async () => {
    const a = st.shared(st.tensor([1, 2]), 'a'), b = st.shared(st.tensor(10), 'b');
    const v = T.vector('v'), idx = T.ivector('idx');
    const f = st.fn([v, idx], T.gather(v, idx).sum(), { updates: [[a, a.mul(2)], [b, b.add(T.sum(v))]] });
    check(await catchAsync(f([1, 2], st.tensor([5], { dtype: 'int32' }))), 'ERR_ST_INDEX', ['gather']);
    assert.deepEqual(Array.from(a.get().dataSync()), [1, 2]);
    assert.equal(b.get().item(), 10);
    await f([1, 2], st.tensor([1], { dtype: 'int32' }));
    assert.deepEqual(Array.from(a.get().dataSync()), [2, 4]);
    assert.equal(b.get().item(), 13);
  });
});
