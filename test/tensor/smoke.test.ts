import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

describe('smoke', () => {
  it('fills, computes and reads back', () => {
    const t = st.full([2, 2], 3);
    assert.deepEqual(t.arraySync(), [[3, 3], [3, 3]]);
    const s = st.sum(st.add(t, st.tensor([[1, 2], [3, 4]])), 1);
    assert.deepEqual(s.arraySync(), [9, 13]);
    assert.equal(st.matmul(t, st.eye(2)).dtype, 'float32');
    assert.deepEqual(st.matmul(t, st.eye(2)).arraySync(), [[3, 3], [3, 3]]);
  });
});
