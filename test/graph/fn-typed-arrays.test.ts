// Typed arrays passed to a compiled function carry a dtype: narrowing one is a downcast.
import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';

const { T } = st;

describe('graph: fn with typed-array inputs', () => {
  it('a Float64Array for a float32 input is an error naming the input unless allowInputDowncast', () => {
    const x = T.vector('xs');
    const f = st.fn([x], x.mul(2));
    assert.throws(() => f.sync(new Float64Array([1, 2])), (e: st.SymtensorError) => e.code === 'ERR_ST_DTYPE' && /xs/.test(e.message) && /Float64Array/.test(e.message));
    const g = st.fn([x], x.mul(2), { allowInputDowncast: true });
    assert.deepEqual((g.sync(new Float64Array([1, 2])) as st.Tensor).arraySync(), [2, 4]);
  });

  it('lossless typed arrays and plain arrays are accepted', () => {
    const x = T.vector('x', 'float64');
    const f = st.fn([x], x.add(1));
    assert.deepEqual((f.sync(new Float32Array([1, 2])) as st.Tensor).arraySync(), [2, 3]);
    assert.deepEqual((f.sync(new Int32Array([1, 2])) as st.Tensor).arraySync(), [2, 3]);
    assert.deepEqual((f.sync([0.5, 1.5]) as st.Tensor).arraySync(), [1.5, 2.5]);
    const i = T.ivector('i');
    assert.throws(() => st.fn([i], i.add(1)).sync(new Float32Array([1])), /allowInputDowncast/);
  });
});
