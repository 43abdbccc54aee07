import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import { expectError } from '../support/check';
import { lastJson, runChild } from '../support/child';

describe('errors', () => {
  it('are Errors and SymtensorErrors carrying code, op and shapes', () => {
    const err = expectError(() => st.add(st.ones([2, 3]), st.ones([4, 3])), 'ERR_ST_SHAPE', ['add', '[2,3]', '[4,3]', 'broadcast']);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'SymtensorError');
    assert.equal(err.op, 'add');
    assert.match(err.message, /^add: /);
    assert.deepEqual(err.shapes, [[2, 3], [4, 3]]);
    assert.ok(typeof err.stack === 'string' && err.stack.includes('SymtensorError'));
  });

  it('shape mismatches in add, matmul, concat and reshape', () => {
    expectError(() => st.mul(st.ones([3]), st.ones([2])), 'ERR_ST_SHAPE', ['mul', '[3]', '[2]']);
    const m = expectError(() => st.matmul(st.ones([2, 3]), st.ones([4, 5])), 'ERR_ST_SHAPE', ['matmul', '[2,3]', '[4,5]', '3', '4']);
    assert.equal(m.op, 'matmul');
    expectError(() => st.concat([st.ones([2, 3]), st.ones([2, 4])], 0), 'ERR_ST_SHAPE', ['concat', '[2,3]', '[2,4]']);
    expectError(() => st.concat([st.ones([2, 3]), st.ones([2, 3, 1])], 0), 'ERR_ST_SHAPE', ['concat', '[2,3,1]']);
    expectError(() => st.reshape(st.ones([2, 3]), [5]), 'ERR_ST_SHAPE', ['reshape', '[2,3]', '[5]']);
    expectError(() => st.where(st.ones([2], 'bool'), st.ones([3]), 0), 'ERR_ST_SHAPE', ['where', '[2]', '[3]']);
  });

  it('bad axes', () => {
    expectError(() => st.sum(st.ones([2, 3]), 5), 'ERR_ST_ARG', ['sum', 'axis 5', 'rank 2']);
    expectError(() => st.softmax(st.ones([2, 3]), -3), 'ERR_ST_ARG', ['softmax', 'axis -3', 'rank 2']);
    expectError(() => st.concat([st.ones([2]), st.ones([2])], 1), 'ERR_ST_ARG', ['concat', 'axis 1']);
    expectError(() => st.gather(st.ones([2]), [0], 1), 'ERR_ST_ARG', ['gather', 'axis 1']);
    expectError(() => st.split(st.ones([2]), 1, 3), 'ERR_ST_ARG', ['split', 'axis 3']);
  });

  it('wrong dtypes', () => {
    expectError(() => st.gather(st.ones([3]), st.tensor([0, 1])), 'ERR_ST_DTYPE', ['gather', 'int32', 'float32']);
    expectError(() => st.conv2d(st.ones([1, 3, 3, 1]), st.ones([2, 2, 1, 1], 'float64')), 'ERR_ST_DTYPE', ['conv2d', 'float32', 'float64']);
    expectError(() => st.conv2dGradFilter(st.ones([1, 3, 3, 1], 'float64'), st.ones([1, 2, 2, 1]), [2, 2, 1, 1]), 'ERR_ST_DTYPE', ['conv2dGradFilter']);
    // the message names the dtypes the caller passed
    expectError(() => st.conv2d(st.ones([1, 3, 3, 1], 'int32'), st.ones([2, 2, 1, 1], 'float64')), 'ERR_ST_DTYPE', ['conv2d', 'int32', 'float64']);
    expectError(() => st.zeros([2], 'float16' as st.DType), 'ERR_ST_DTYPE', ['float16']);
    expectError(() => st.cast(st.ones([2]), 'int8' as st.DType), 'ERR_ST_DTYPE', ['cast', 'int8']);
    expectError(() => st.tensor([1], { dtype: 'uint8' as st.DType }), 'ERR_ST_DTYPE', ['tensor', 'uint8']);
  });

  it('disposed tensors: ERR_ST_DISPOSED naming the op', () => {
    const t = st.ones([2]);
    t.dispose();
    const e1 = expectError(() => st.add(t, 1), 'ERR_ST_DISPOSED', ['add', 'disposed', '[2]', 'float32']);
    assert.equal(e1.op, 'add');
    expectError(() => t.dataSync(), 'ERR_ST_DISPOSED', ['dataSync']);
    expectError(() => t.reshape([1, 2]), 'ERR_ST_DISPOSED', ['reshape']);
    expectError(() => st.matmul(t, st.ones([2])), 'ERR_ST_DISPOSED', ['matmul']);
    expectError(() => st.sum(t), 'ERR_ST_DISPOSED', ['sum']);
    const one = st.tensor(1);
    one.dispose();
    expectError(() => one.item(), 'ERR_ST_DISPOSED', ['disposed']);
  });

  it('bad values passed to tensor()', () => {
    expectError(() => st.tensor([[1, 2], [3]]), 'ERR_ST_VALUE', ['tensor', 'ragged']);
    expectError(() => st.tensor([[1, 2], 3] as unknown as number[][]), 'ERR_ST_VALUE', ['tensor', 'ragged']);
    expectError(() => st.tensor([1, [2]] as unknown as number[]), 'ERR_ST_VALUE', ['tensor']);
    expectError(() => st.tensor([1, 'a'] as unknown as number[]), 'ERR_ST_VALUE', ['tensor', 'at [1]', 'string', '"a"']);
    expectError(() => st.tensor([[1, 2], [3, null]] as unknown as number[][]), 'ERR_ST_VALUE', ['tensor', 'at [1][1]', 'null']);
    expectError(() => st.tensor([{}] as unknown as number[]), 'ERR_ST_VALUE', ['tensor', 'object']);
    expectError(() => st.tensor([new Float32Array(2), new Float32Array(3)] as unknown as number[][]), 'ERR_ST_VALUE', ['tensor', 'ragged', 'length 3']);
    expectError(() => st.tensor(null as unknown as number), 'ERR_ST_VALUE', ['tensor', 'null']);
    expectError(() => st.tensor(undefined as unknown as number), 'ERR_ST_VALUE', ['tensor', 'undefined']);
  });

  it('negative and absurd sizes', () => {
    expectError(() => st.zeros([-1]), 'ERR_ST_SHAPE', ['[-1]']);
    expectError(() => st.ones([2, 1.5]), 'ERR_ST_SHAPE', ['[2,1.5]']);
    expectError(() => st.zeros([1e9, 1e9]), 'ERR_ST_ALLOC', ['[1000000000,1000000000]']);
    expectError(() => st.randomNormal([1e9, 1e9]), 'ERR_ST_ALLOC', ['randomNormal']);
    expectError(() => st.zeros(new Array(17).fill(1)), 'ERR_ST_SHAPE', ['rank 17']);
    expectError(() => st.zeros('3' as unknown as number[]), 'ERR_ST_ARG', ['shape']);
  });

  it('the op named in a size error is the one the user called', () => {
    expectError(() => st.zeros([-1]), 'ERR_ST_SHAPE', [/^zeros: /]);
    expectError(() => st.ones([1e9, 1e9]), 'ERR_ST_ALLOC', [/^ones: /]);
  });

  it('allocation failure at 2**40 elements fails cleanly with ERR_ST_ALLOC', () => {
    const r = runChild(`
      const out = {};
      try { st.zeros([2 ** 40]); out.result = 'allocated'; } catch (e) { out.code = e.code; out.message = e.message; out.isErr = e instanceof st.SymtensorError; }
      out.after = Array.from(st.add(st.ones([2]), 1).dataSync());
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = lastJson<{ code?: string; message?: string; isErr?: boolean; after: number[] }>(r);
    assert.equal(out.code, 'ERR_ST_ALLOC', JSON.stringify(out));
    assert.equal(out.isErr, true);
    assert.match(out.message ?? '', /^zeros: .*1099511627776 elements of float32 \(4398046511104 bytes\)/);
    assert.deepEqual(out.after, [2, 2]);
  });

  it('index errors from the kernels: ERR_ST_INDEX with the op, the index and the shapes', () => {
    const e = expectError(() => st.gather(st.ones([4, 2]), st.tensor([1, 4], { dtype: 'int32' })), 'ERR_ST_INDEX', ['gather', 'index 4', '[4,2]', 'int32']);
    assert.equal(e.op, 'gather');
    expectError(() => st.gather(st.ones([4, 2]), st.tensor([-5], { dtype: 'int32' }), 0), 'ERR_ST_INDEX', ['gather', '-5']);
    expectError(() => st.gather(st.ones([4, 2]), st.tensor([2], { dtype: 'int32' }), 1), 'ERR_ST_INDEX', ['gather', 'index 2']);
  });

  it('bad conv/pool arguments', () => {
    expectError(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([2, 2, 1, 1]), { padding: 'full' as st.Padding }), 'ERR_ST_ARG', ['conv2d', 'padding', '"full"']);
    expectError(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([2, 2, 1, 1]), { padding: 1.5 }), 'ERR_ST_ARG', ['conv2d', 'padding']);
    expectError(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([2, 2, 1, 1]), { dilations: [1, 0] }), 'ERR_ST_ARG', ['conv2d', 'dilations']);
    expectError(() => st.conv2d(st.ones([1, 4, 4, 2]), st.ones([2, 2, 1, 1])), 'ERR_ST_SHAPE', ['conv2d', '2 channels', '1']);
    expectError(() => st.conv2d(st.ones([1, 2, 2, 1]), st.ones([3, 3, 1, 1])), 'ERR_ST_SHAPE', ['conv2d', 'does not fit']);
    expectError(() => st.maxPool2d(st.ones([1, 4, 4, 1]), { strides: [1, -1] }), 'ERR_ST_ARG', ['maxPool2d', 'strides']);
  });

  it('other argument errors', () => {
    expectError(() => st.clip(st.ones([2]), 3, 1), 'ERR_ST_ARG', ['clip', 'min (3)', 'max (1)']);
    expectError(() => st.clip(st.ones([2]), NaN, 1), 'ERR_ST_ARG', ['clip', 'min']);
    expectError(() => st.leakyRelu(st.ones([2]), 'a' as unknown as number), 'ERR_ST_ARG', ['leakyRelu', 'alpha']);
    expectError(() => st.stridedSlice(st.ones([3]), [0, 0], [1, 1]), 'ERR_ST_ARG', ['stridedSlice', 'rank 1']);
    expectError(() => st.split(st.ones([6]), [2, -1, -1]), 'ERR_ST_SHAPE', ['split']);
  });

  it('the process survives errors and keeps working', () => {
    for (let i = 0; i < 50; i++) {
      expectError(() => st.gather(st.ones([2]), st.tensor([5], { dtype: 'int32' })), 'ERR_ST_INDEX', ['gather', 'index 5']);
    }
    assert.deepEqual(Array.from(st.add(st.tensor([1, 2]), 1).dataSync()), [2, 3]);
  });

  it('int32 mod by zero and INT_MIN % -1 do not crash the process: mod gives 0, the rest wraps', () => {
    // run in a child: a trapping integer division would kill the process (SIGFPE), not throw
    const r = runChild(`
      const i32 = (xs) => st.tensor(xs, { dtype: 'int32' });
      const v = (t) => Array.from(t.dataSync());
      const out = {
        modZero: v(st.mod(i32([5, -5, 0, -2147483648]), i32([0, 0, 0, 0]))),
        modMinusOne: v(st.mod(i32([-2147483648, 7, -7, 2147483647]), i32([-1, -1, -1, -1]))),
        mulMin: v(st.mul(i32([-2147483648]), i32([-1]))),
        negMin: v(st.neg(i32([-2147483648]))),
        absMin: v(st.abs(i32([-2147483648]))),
      };
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr.slice(0, 500)}`);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const out = lastJson<Record<string, number[]>>(r);
    // x mod 0 is defined as 0 (the kernel's rule: no trap, no error); x mod -1 is 0 mathematically
    assert.deepEqual(out.modZero, [0, 0, 0, 0]);
    assert.deepEqual(out.modMinusOne, [0, 0, 0, 0]);
    // int32 arithmetic wraps: -INT_MIN is INT_MIN again (2^31 mod 2^32, read as int32)
    assert.deepEqual(out.mulMin, [-2147483648]);
    assert.deepEqual(out.negMin, [-2147483648]);
    assert.deepEqual(out.absMin, [-2147483648]);
  });
});
