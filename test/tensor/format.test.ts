import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import * as st from '../../lib/index';

describe('toString / inspect', () => {
  it('scalars', () => {
    assert.equal(st.tensor(3.5).toString(), 'tensor(3.5)');
    assert.equal(st.tensor(3).toString(), 'tensor(3.)');
    assert.equal(st.tensor(-7, { dtype: 'int32' }).toString(), 'tensor(-7, dtype=int32)');
    assert.equal(st.tensor(true).toString(), 'tensor(true, dtype=bool)');
    assert.equal(st.tensor(0.25, { dtype: 'float64' }).toString(), 'tensor(0.25, dtype=float64)');
  });

  it('vectors: aligned columns, integers with a trailing dot, special values', () => {
    assert.equal(st.tensor([1, 2.5, -3]).toString(), 'tensor([  1, 2.5,  -3])');
    assert.equal(st.tensor([1, 2, 30]).toString(), 'tensor([ 1.,  2., 30.])');
    assert.equal(st.tensor([true, false]).toString(), 'tensor([ true, false], dtype=bool)');
    assert.equal(st.tensor([NaN, Infinity, -Infinity, 1]).toString(), 'tensor([ nan,  inf, -inf,    1])');
    assert.equal(st.tensor([0.5, 1e-5], { dtype: 'float64' }).toString(), 'tensor([      0.5, 1.0000e-5], dtype=float64)');
    assert.equal(st.tensor([0.123456, 100.5], { dtype: 'float64' }).toString(), 'tensor([0.1235,  100.5], dtype=float64)');
  });

  it('matrices and higher ranks, numpy layout', () => {
    assert.equal(st.tensor([[1, 22], [333, 4]], { dtype: 'int32' }).toString(), 'tensor([[  1,  22],\n        [333,   4]], dtype=int32)');
    assert.equal(st.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], { dtype: 'int32' }).toString(), 'tensor([[[1, 2],\n         [3, 4]],\n\n        [[5, 6],\n         [7, 8]]], dtype=int32)');
    assert.equal(st.tensor([[true], [false]]).toString(), 'tensor([[ true],\n        [false]], dtype=bool)');
  });

  it('empty tensors show their shape', () => {
    assert.equal(st.zeros([0, 3]).toString(), 'tensor([], shape=[0,3])');
    assert.equal(st.zeros([0], 'int32').toString(), 'tensor([], shape=[0], dtype=int32)');
  });

  it('large tensors are summarized with "..."', () => {
    assert.equal(st.arange(2000).toString(), 'tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.])');
    const s = st.zeros([100, 100], 'int32').toString();
    const row = '[0, 0, 0, ..., 0, 0, 0]';
    const pad = ' '.repeat(8);
    const want = `tensor([${row},\n${pad}${row},\n${pad}${row},\n${pad}...,\n${pad}${row},\n${pad}${row},\n${pad}${row}], dtype=int32)`;
    assert.equal(s, want);
    // 1000 elements are still printed in full
    const full = st.zeros([1000], 'int32').toString();
    assert.ok(!full.includes('...'));
    assert.equal(full.split(',').length, 1000 + 1);
  });

  it('inspect uses toString; disposed tensors print as disposed', () => {
    const t = st.tensor([1, 2]);
    assert.equal(inspect(t), t.toString());
    assert.equal(`${t}`, 'tensor([1., 2.])');
    t.dispose();
    assert.equal(t.toString(), 'tensor(<disposed>, shape=[2], dtype=float32)');
  });
});
