import { strict as assert } from 'node:assert';
import * as st from '../../lib/index';
import * as R from '../support/reference';
import { DType, DTYPES, Ref, Rng } from '../support/reference';
import { expectError, expectTensor, toSt } from '../support/check';

function rand(rng: Rng, shape: number[], d: DType): Ref {
  return R.randomRef(rng, shape, d, { special: 0.1 });
}

describe('shape ops', () => {
  it('reshape (with -1), flatten, expandDims, squeeze on every dtype', () => {
    const rng = new Rng(1);
    for (const d of DTYPES) {
      const x = rand(rng, [2, 3, 4], d);
      const t = toSt(x);
      for (const shape of [[24], [4, 6], [-1, 4], [2, -1, 2], [1, 24, 1], [2, 3, 4]]) {
        expectTensor(st.reshape(t, shape), R.reshape(x, shape), `reshape ${d} -> [${shape}]`);
        expectTensor(t.reshape(shape), R.reshape(x, shape), `Tensor.reshape ${d} -> [${shape}]`);
      }
      expectTensor(st.flatten(t), R.flatten(x), `flatten ${d}`);
      expectTensor(t.flatten(), R.flatten(x), `Tensor.flatten ${d}`);
      for (const axis of [0, 1, 3, -1, -4]) expectTensor(st.expandDims(t, axis), R.expandDims(x, axis), `expandDims ${d} ${axis}`);
      expectTensor(t.expandDims(), R.expandDims(x, 0), 'Tensor.expandDims()');
      const y = rand(rng, [1, 3, 1, 2, 1], d);
      const ty = toSt(y);
      for (const axis of [undefined, 0, 2, -1, [0, 4]] as (number | number[] | undefined)[]) {
        expectTensor(st.squeeze(ty, axis), R.squeeze(y, axis), `squeeze ${d} ${JSON.stringify(axis)}`);
      }
      expectTensor(ty.squeeze(), R.squeeze(y), 'Tensor.squeeze()');
    }
    // scalars and empties
    expectTensor(st.reshape(st.tensor(5), [1, 1]), R.make([1, 1], 'float32', [5]), 'reshape scalar');
    expectTensor(st.reshape(st.tensor([7]), []), R.make([], 'float32', [7]), 'reshape to scalar');
    expectTensor(st.reshape(st.zeros([0, 3]), [3, 0, 5]), R.make([3, 0, 5], 'float32', []), 'reshape empty');
    expectTensor(st.reshape(st.zeros([0, 3]), [-1, 3]), R.make([0, 3], 'float32', []), 'reshape empty with -1');
    expectTensor(st.squeeze(st.tensor([[3]])), R.make([], 'float32', [3]), 'squeeze to scalar');
    expectTensor(st.expandDims(st.tensor(2), 0), R.make([1], 'float32', [2]), 'expandDims scalar');
  });

  it('transpose / permute with default and explicit permutations', () => {
    const rng = new Rng(2);
    for (const d of DTYPES) {
      for (const shape of [[], [5], [3, 4], [2, 3, 4], [2, 1, 3, 2], [0, 3], [2, 0, 3], [3, 2, 2, 2, 2]]) {
        const x = rand(rng, shape, d);
        const t = toSt(x);
        expectTensor(st.transpose(t), R.transpose(x), `transpose ${d} [${shape}]`);
        const perm = [...shape.keys()];
        for (let i = perm.length - 1; i > 0; i--) {
          const j = rng.int(0, i);
          [perm[i], perm[j]] = [perm[j], perm[i]];
        }
        expectTensor(st.transpose(t, perm), R.transpose(x, perm), `transpose ${d} [${shape}] perm ${perm}`);
        expectTensor(t.permute(perm), R.transpose(x, perm), `Tensor.permute ${d} [${shape}]`);
        if (shape.length) expectTensor(st.permute(t, perm.map((p) => p - shape.length)), R.transpose(x, perm), 'negative perm entries');
      }
    }
    // large transposes (tiled paths)
    for (const d of ['float32', 'float64', 'int32', 'bool'] as DType[]) {
      const x = rand(rng, [67, 131], d);
      expectTensor(st.transpose(toSt(x)), R.transpose(x), `transpose large ${d}`);
      const y = rand(rng, [9, 33, 17], d);
      expectTensor(st.transpose(toSt(y), [2, 0, 1]), R.transpose(y, [2, 0, 1]), `transpose 3-D large ${d}`);
    }
    assert.deepEqual(st.transpose(st.tensor([[1, 2, 3], [4, 5, 6]])).arraySync(), [[1, 4], [2, 5], [3, 6]]);
  });

  it('dimshuffle: reorders, inserts size-1 axes and drops size-1 axes', () => {
    const rng = new Rng(21);
    const cases: [number[], (number | 'x')[]][] = [
      [[3, 1, 4], [2, 'x', 0]], [[5], ['x', 0, 'x']], [[2, 3], [1, 0]], [[2, 3], [0, 1]], [[1], []], [[], ['x', 'x']], [[2, 1, 3, 1], [2, 'x', 0]],
    ];
    for (const d of DTYPES) {
      for (const [shape, pattern] of cases) {
        const x = rand(rng, shape, d);
        expectTensor(st.dimshuffle(toSt(x), pattern), R.dimshuffle(x, pattern), `dimshuffle ${d} [${shape}] ${JSON.stringify(pattern)}`);
        expectTensor(toSt(x).dimshuffle(pattern), R.dimshuffle(x, pattern), `Tensor.dimshuffle ${d} [${shape}]`);
      }
    }
    expectError(() => st.dimshuffle(st.ones([2, 3]), [0]), 'ERR_ST_SHAPE', ['dimshuffle', 'size 3']);
    expectError(() => st.dimshuffle(st.ones([2, 3]), [0, 0, 1]), 'ERR_ST_ARG', ['dimshuffle']);
    expectError(() => st.dimshuffle(st.ones([2]), [1]), 'ERR_ST_ARG', ['dimshuffle']);
  });

  it('broadcastTo', () => {
    const rng = new Rng(3);
    for (const d of DTYPES) {
      for (const [s, to] of [[[], [2, 3]], [[3], [2, 3]], [[2, 1], [2, 4]], [[1, 3, 1], [2, 3, 2]], [[1], [0]], [[2, 1], [3, 2, 0]]] as [number[], number[]][]) {
        const x = rand(rng, s, d);
        expectTensor(st.broadcastTo(toSt(x), to), R.broadcastTo(x, to), `broadcastTo ${d} [${s}] -> [${to}]`);
        expectTensor(toSt(x).broadcastTo(to), R.broadcastTo(x, to), `Tensor.broadcastTo ${d}`);
      }
    }
    expectError(() => st.broadcastTo(st.ones([3]), [4]), 'ERR_ST_SHAPE', ['broadcastTo', '[3]', '[4]']);
    expectError(() => st.broadcastTo(st.ones([2, 3]), [3]), 'ERR_ST_SHAPE', ['broadcastTo']);
  });

  it('slice with negative begins, -1 sizes and empty results', () => {
    const rng = new Rng(4);
    for (const d of DTYPES) {
      const x = rand(rng, [4, 5, 3], d);
      const t = toSt(x);
      const cases: [number | number[], (number | number[])?][] = [
        [[1, 2, 0], [2, 3, 3]],
        [[0, 0, 0], [4, 5, 3]],
        [[-2, -3], [2, 2]],
        [[1], [-1]],
        [1],
        [[3, 4, 2], [1, 1, 1]],
        [[2, 5, 0], [2, 0, 3]],
        [[0, 1], [0, -1]],
        [[1, 1, 1], [-1, -1, -1]],
      ];
      for (const [b, s] of cases) {
        expectTensor(st.slice(t, b, s), R.slice(x, b, s), `slice ${d} ${JSON.stringify(b)} ${JSON.stringify(s)}`);
        expectTensor(t.slice(b, s), R.slice(x, b, s), `Tensor.slice ${d}`);
      }
    }
    assert.deepEqual(st.slice(st.tensor([[1, 2, 3], [4, 5, 6]]), [0, 1], [2, 2]).arraySync(), [[2, 3], [5, 6]]);
    expectError(() => st.slice(st.ones([3, 3]), [2, 0], [2, 1]), 'ERR_ST_SHAPE', ['slice', '[3,3]']);
    expectError(() => st.slice(st.ones([3, 3]), [0, 0, 0]), 'ERR_ST_ARG', ['slice']);
  });

  it('stridedSlice follows Python slicing (negative steps, nulls, clamping)', () => {
    const rng = new Rng(5);
    for (const d of DTYPES) {
      const x = rand(rng, [6, 5, 4], d);
      const t = toSt(x);
      const cases: [(number | null)[], (number | null)[], number[]?][] = [
        [[0, 0, 0], [6, 5, 4]],
        [[1, null], [5, null], [2, 1]],
        [[null, null, null], [null, null, null], [-1, -1, -1]],
        [[5, 4, 3], [0, 0, 0], [-2, -3, -1]],
        [[-1, -2], [-7, -10], [-1, -1]],
        [[-100, 100], [100, -100], [1, -1]],
        [[4], [2]],
        [[2, 1, 0], [2, 4, 4], [1, 2, 3]],
        [[0, 0, 3], [6, 5, 10], [4, 7, 1]],
        [[null, 3], [null, 0], [1, -1]],
      ];
      for (const [b, e, s] of cases) {
        expectTensor(st.stridedSlice(t, b, e, s), R.stridedSlice(x, b, e, s), `stridedSlice ${d} ${JSON.stringify([b, e, s])}`);
        expectTensor(t.stridedSlice(b, e, s), R.stridedSlice(x, b, e, s), `Tensor.stridedSlice ${d}`);
      }
    }
    const v = st.arange(10, undefined, 1, 'int32');
    assert.deepEqual(st.stridedSlice(v, [null], [null], [-3]).arraySync(), [9, 6, 3, 0]);
    assert.deepEqual(st.stridedSlice(v, [8], [2], [-2]).arraySync(), [8, 6, 4]);
    assert.deepEqual(st.stridedSlice(v, [-3], [null]).arraySync(), [7, 8, 9]);
    // the reference agrees with Python on the same cases
    assert.deepEqual(R.stridedSlice(R.arange(0, 10, 1, 'int32'), [null], [null], [-3]).data, [9, 6, 3, 0]);
    expectError(() => st.stridedSlice(v, [0], [5], [0]), 'ERR_ST_ARG', ['stridedSlice', 'stride']);
  });

  it('concat and stack promote dtypes and handle empty parts', () => {
    const rng = new Rng(6);
    for (const da of DTYPES) {
      for (const db of DTYPES) {
        const a = rand(rng, [2, 3, 2], da);
        const b = rand(rng, [2, 1, 2], db);
        const c = rand(rng, [2, 0, 2], da);
        expectTensor(st.concat([toSt(a), toSt(b), toSt(c)], 1), R.concat([a, b, c], 1), `concat ${da}+${db} axis 1`);
        expectTensor(st.concat([toSt(c), toSt(a), toSt(b)], -2), R.concat([c, a, b], -2), `concat ${da}+${db} axis -2`);
        const p = rand(rng, [3, 2], da);
        const q = rand(rng, [3, 2], db);
        for (const axis of [0, 1, 2, -1]) {
          expectTensor(st.stack([toSt(p), toSt(q), toSt(p)], axis), R.stack([p, q, p], axis), `stack ${da}+${db} axis ${axis}`);
        }
      }
    }
    expectTensor(st.concat([st.tensor([1, 2]), st.tensor([3])]), R.make([3], 'float32', [1, 2, 3]), 'concat default axis');
    expectTensor(st.stack([st.tensor(1), st.tensor(2)]), R.make([2], 'float32', [1, 2]), 'stack scalars');
    expectTensor(st.concat([[1, 2], [3]]), R.make([3], 'float32', [1, 2, 3]), 'concat nested arrays');
    assert.equal(st.concat([st.ones([1], 'bool'), st.ones([1], 'bool')]).dtype, 'bool');
    assert.equal(st.concat([st.ones([1], 'bool'), st.ones([1], 'int32')]).dtype, 'int32');
    assert.equal(st.concat([st.ones([1], 'int32'), st.ones([1], 'float32'), st.ones([1], 'float64')]).dtype, 'float64');
    const big = [rand(rng, [50, 70], 'float32'), rand(rng, [50, 30], 'float32'), rand(rng, [50, 1], 'float32')];
    expectTensor(st.concat(big.map(toSt), 1), R.concat(big, 1), 'concat large');
    expectError(() => st.concat([st.ones([2, 3]), st.ones([3, 3])], 1), 'ERR_ST_SHAPE', ['concat', '[2,3]', '[3,3]']);
    expectError(() => st.concat([]), 'ERR_ST_ARG', ['concat']);
    expectError(() => st.concat([st.tensor(1), st.tensor(2)]), 'ERR_ST_SHAPE', ['concat', 'scalar']);
    expectError(() => st.stack([st.ones([2]), st.ones([3])]), 'ERR_ST_SHAPE', ['stack', '[2]', '[3]']);
  });

  it('split into equal parts and into sizes (with -1)', () => {
    const rng = new Rng(7);
    for (const d of DTYPES) {
      const x = rand(rng, [6, 4], d);
      const t = toSt(x);
      const cases: [number | number[], number][] = [[3, 0], [2, 1], [[1, 2, 3], 0], [[1, -1], 1], [[0, 4], -1], [1, 0]];
      for (const [n, axis] of cases) {
        const got = st.split(t, n, axis);
        const want = R.split(x, n, axis);
        assert.equal(got.length, want.length, `split count ${JSON.stringify(n)}`);
        got.forEach((g, i) => expectTensor(g, want[i], `split ${d} ${JSON.stringify(n)} axis ${axis} part ${i}`));
        const got2 = t.split(n, axis);
        got2.forEach((g, i) => expectTensor(g, want[i], `Tensor.split part ${i}`));
      }
    }
    expectError(() => st.split(st.ones([5]), 2), 'ERR_ST_SHAPE', ['split', '5']);
    expectError(() => st.split(st.ones([5]), [2, 2]), 'ERR_ST_SHAPE', ['split']);
  });

  it('tile, including reps longer or shorter than the rank and zero reps', () => {
    const rng = new Rng(8);
    for (const d of DTYPES) {
      for (const [s, reps] of [[[3], [2]], [[2, 3], [2, 1]], [[2, 3], [3]], [[2], [2, 2, 2]], [[], [3]], [[2, 2], [0, 2]], [[0, 2], [2, 2]], [[1, 2, 1], [3, 1, 4]]] as [number[], number[]][]) {
        const x = rand(rng, s, d);
        expectTensor(st.tile(toSt(x), reps), R.tile(x, reps), `tile ${d} [${s}] x ${reps}`);
        expectTensor(toSt(x).tile(reps), R.tile(x, reps), `Tensor.tile ${d}`);
      }
    }
    // many repeated axes (more than the copy kernel's rank when interleaved)
    const x = rand(rng, [1, 2, 1, 2, 1, 2, 1, 2, 1, 2], 'int32');
    const reps = [2, 2, 2, 2, 2, 2, 2, 2, 2, 1];
    expectTensor(st.tile(toSt(x), reps), R.tile(x, reps), 'tile with many axes');
    assert.deepEqual(st.tile(st.tensor([1, 2]), [2]).arraySync(), [1, 2, 1, 2]);
  });

  it('pad with a value on every dtype', () => {
    const rng = new Rng(9);
    for (const d of DTYPES) {
      for (const [s, p, v] of [
        [[3], [[1, 2]], 0],
        [[2, 3], [[0, 1], [2, 0]], 5],
        [[2, 0], [[1, 1], [1, 1]], 1],
        [[], [], 0],
        [[1, 2, 2], [[1, 0], [0, 0], [2, 3]], -1],
      ] as [number[], [number, number][], number][]) {
        const x = rand(rng, s, d);
        expectTensor(st.pad(toSt(x), p, v), R.pad(x, p, v), `pad ${d} [${s}] ${JSON.stringify(p)} ${v}`);
        expectTensor(toSt(x).pad(p, v), R.pad(x, p, v), `Tensor.pad ${d}`);
      }
    }
    assert.deepEqual(st.pad(st.tensor([1, 2]), [[1, 1]]).arraySync(), [0, 1, 2, 0]);
    assert.deepEqual(st.pad(st.tensor([1.5], { dtype: 'float64' }), [[0, 1]], 0.25).arraySync(), [1.5, 0.25]);
    expectError(() => st.pad(st.ones([2]), [[1, -1]]), 'ERR_ST_ARG', ['pad']);
    expectError(() => st.pad(st.ones([2, 2]), [[1, 1]]), 'ERR_ST_ARG', ['pad', '[2,2]']);
  });

  it('gather along any axis with negative indices and multi-dimensional index tensors', () => {
    const rng = new Rng(10);
    for (const d of DTYPES) {
      const x = rand(rng, [4, 3, 5], d);
      const t = toSt(x);
      for (const axis of [0, 1, 2, -1]) {
        const dim = x.shape[axis < 0 ? axis + 3 : axis];
        for (const ishape of [[], [2], [2, 3], [0]]) {
          const idx = R.randomRef(rng, ishape, 'int32', { ilo: -dim, ihi: dim - 1 });
          expectTensor(st.gather(t, toSt(idx), axis), R.gather(x, idx, axis), `gather ${d} axis ${axis} idx [${ishape}]`);
          expectTensor(t.gather(toSt(idx), axis), R.gather(x, idx, axis), `Tensor.gather ${d}`);
        }
      }
      // plain arrays of indices
      expectTensor(st.gather(t, [3, 0, -1]), R.gather(x, R.make([3], 'int32', [3, 0, -1])), `gather ${d} with number[]`);
    }
    assert.deepEqual(st.gather(st.tensor([10, 20, 30]), st.tensor([2, 0, -1], { dtype: 'int32' })).arraySync(), [30, 10, 30]);
    // empty inputs
    expectTensor(st.gather(st.zeros([0, 3]), [2, 0], 1), R.make([0, 2], 'float32', []), 'gather from an empty outer dim');
    expectTensor(st.gather(st.zeros([0]), st.zeros([0], 'int32')), R.make([0], 'float32', []), 'gather nothing from nothing');
    const big = rand(rng, [300, 40], 'float64');
    const bigIdx = R.randomRef(rng, [500], 'int32', { ilo: -300, ihi: 299 });
    expectTensor(st.gather(toSt(big), toSt(bigIdx)), R.gather(big, bigIdx), 'gather large');
    expectError(() => st.gather(st.ones([3]), st.tensor([3], { dtype: 'int32' })), 'ERR_ST_INDEX', ['gather', 'index 3', '[3]']);
    expectError(() => st.gather(st.ones([3]), st.tensor([-4], { dtype: 'int32' })), 'ERR_ST_INDEX', ['gather', '-4']);
    expectError(() => st.gather(st.ones([3]), st.tensor([0.5])), 'ERR_ST_DTYPE', ['gather', 'float32']);
  });

  it('oneHot with on/off values, dtypes and out-of-range indices', () => {
    const rng = new Rng(11);
    for (const d of DTYPES) {
      for (const ishape of [[], [5], [2, 3], [0]]) {
        const idx = R.randomRef(rng, ishape, 'int32', { ilo: -1, ihi: 4 });
        expectTensor(st.oneHot(toSt(idx), 4, 1, 0, d), R.oneHot(idx, 4, 1, 0, d), `oneHot ${d} [${ishape}]`);
        expectTensor(st.oneHot(toSt(idx), 3, 5, -2, d), R.oneHot(idx, 3, 5, -2, d), `oneHot ${d} on 5 off -2`);
      }
    }
    expectTensor(st.oneHot([0, 2], 3), R.make([2, 3], 'float32', [1, 0, 0, 0, 0, 1]), 'oneHot defaults');
    expectTensor(st.tensor([1], { dtype: 'int32' }).oneHot(2), R.make([1, 2], 'float32', [0, 1]), 'Tensor.oneHot');
    expectTensor(st.oneHot(st.tensor([1], { dtype: 'int32' }), 0), R.make([1, 0], 'float32', []), 'oneHot depth 0');
    expectError(() => st.oneHot(st.tensor([1.5]), 3), 'ERR_ST_DTYPE', ['oneHot']);
    expectError(() => st.oneHot(st.tensor([1], { dtype: 'int32' }), -1), 'ERR_ST_ARG', ['oneHot', 'depth']);
  });

  it('reshape/squeeze/expandDims/transpose errors', () => {
    expectError(() => st.reshape(st.ones([2, 3]), [4, 2]), 'ERR_ST_SHAPE', ['reshape', '[2,3]', '6', '[4,2]', '8']);
    expectError(() => st.reshape(st.ones([2, 3]), [-1, 4]), 'ERR_ST_SHAPE', ['reshape', '[2,3]']);
    expectError(() => st.reshape(st.ones([2, 3]), [-1, -1]), 'ERR_ST_SHAPE', ['reshape']);
    expectError(() => st.squeeze(st.ones([2, 1]), 0), 'ERR_ST_SHAPE', ['squeeze', '[2,1]']);
    expectError(() => st.expandDims(st.ones([2]), 3), 'ERR_ST_ARG', ['expandDims']);
    expectError(() => st.transpose(st.ones([2, 3]), [0, 0]), 'ERR_ST_ARG', ['transpose']);
    expectError(() => st.transpose(st.ones([2, 3]), [0]), 'ERR_ST_ARG', ['transpose']);
    expectError(() => st.tile(st.ones([2]), [-1]), 'ERR_ST_ARG', ['tile']);
  });
});
