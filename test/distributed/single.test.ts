// st.distributed and T.allreduce in a single process (no launcher): a world of one, where MPI is
// never loaded, every collective is the identity, and bad arguments fail with clear errors.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as st from '../../lib/index';
import { distributed as d, allreduce, allgather, broadcast, barrier, init, isDistributed, worldRank, worldSize } from '../../lib/tensor/distributed';
import { joinWorld } from '../../lib/tensor/distributed/world';
import * as T from '../../lib/graph/T';
import { native } from '../../lib/native';
import { Variable } from '../../lib/graph/variable';
import { expectError } from '../support/check';
import { checkGrad } from '../support/fd';

const LAUNCHER_VARS = ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_RANK', 'PMI_SIZE'];

describe('distributed: a single process', () => {
  before(function () {
    const set = LAUNCHER_VARS.filter((v) => process.env[v]);
    if (set.length) {
      console.log(`    skipped: the test process itself runs under an MPI launcher (${set.join(', ')} set)`);
      this.skip();
    }
  });

  it('init() is an idempotent no-op: rank 0 of 1, MPI not loaded', () => {
    assert.equal(worldRank(), 0);
    assert.equal(worldSize(), 1);
    init();
    init();
    assert.equal(d.rank, 0);
    assert.equal(d.size, 1);
    assert.equal(isDistributed(), false);
    assert.equal(d.isDistributed(), false);
    if (process.platform === 'linux') assert.ok(!fs.readFileSync('/proc/self/maps', 'utf8').includes('libmpi'), 'libmpi is mapped');
  });

  it("init's options set how fit reduces gradients, once; bad ones are named", () => {
    expectError(() => init({ bucketSize: 4 } as never), 'ERR_ST_ARG', ["st.distributed.init: unknown option 'bucketSize'; valid options: bucketBytes, overlap"]);
    expectError(() => init({ bucketBytes: 4 }), 'ERR_ST_ARG', ['bucketBytes must be an integer in [8, 2^40], got 4']);
    expectError(() => init({ overlap: 1 as never }), 'ERR_ST_ARG', ['overlap must be a boolean, got 1']);
    init({ bucketBytes: 2 ** 20, overlap: true });
    init({ bucketBytes: 2 ** 20, overlap: true });
    init();
    expectError(() => init({ overlap: false }), 'ERR_ST_ARG', ['the gradient reduction was already set to {"bucketBytes":1048576,"overlap":true}']);
  });

  it('the namespace holds the functions', () => {
    assert.equal(d.allreduce, allreduce);
    assert.equal(d.broadcast, broadcast);
    assert.equal(d.allgather, allgather);
    assert.equal(d.barrier, barrier);
    assert.equal(d.init, init);
  });

  it('allreduce is the identity, into a new tensor, for every op and dtype', () => {
    const cases: [st.DType, number[]][] = [['float32', [1.5, -2, 0, 3e4]], ['float64', [1 / 3, -7, 2 ** -30]], ['int32', [5, -9, 2147483647]]];
    for (const [dtype, values] of cases)
      for (const op of ['sum', 'mean', 'max', 'min'] as const) {
        if (dtype === 'int32' && op === 'mean') continue;
        const x = st.tensor(values, { dtype });
        const y = allreduce(x, { op });
        assert.notEqual(y, x);
        assert.equal(y.dtype, dtype);
        assert.deepEqual(y.shape, [values.length]);
        assert.deepEqual(Array.from(y.dataSync()), Array.from(x.dataSync()), `${dtype} ${op}`);
        x.dispose();
        assert.deepEqual(Array.from(y.dataSync()).length, values.length); // its own buffer
      }
    const m = allreduce(st.tensor([[1, 2], [3, 4]]));
    assert.deepEqual(m.arraySync(), [[1, 2], [3, 4]]);
  });

  it('broadcast copies from root 0; allgather stacks the one rank', () => {
    const x = st.tensor([[1, 2, 3]], { dtype: 'int32' });
    const b = broadcast(x, { root: 0 });
    assert.deepEqual(b.arraySync(), [[1, 2, 3]]);
    assert.deepEqual(broadcast(x).arraySync(), [[1, 2, 3]]);
    const g = allgather(x);
    assert.deepEqual(g.shape, [1, 1, 3]);
    assert.deepEqual(g.arraySync(), [[[1, 2, 3]]]);
    const flags = allgather(st.tensor([true, false]));
    assert.deepEqual(flags.arraySync(), [[true, false]]);
    barrier();
  });

  it('bad arguments name the function and what was wrong', () => {
    const x = st.tensor([1, 2]);
    expectError(() => allreduce(x, { op: 'prod' as 'sum' }), 'ERR_ST_ARG', ['st.distributed.allreduce', 'unknown op "prod"', 'sum, mean, max, min']);
    expectError(() => allreduce([1, 2] as unknown as st.Tensor), 'ERR_ST_ARG', ['st.distributed.allreduce', 'expected a Tensor, got [1,2]']);
    expectError(() => allreduce(st.tensor([1], { dtype: 'int32' }), { op: 'mean' }), 'ERR_ST_DTYPE', ['st.distributed.allreduce', "'mean' needs a float tensor, got int32"]);
    expectError(() => allreduce(st.tensor([true])), 'ERR_ST_DTYPE', ['st.distributed.allreduce', 'cannot reduce a bool tensor', 'float32, float64, int32']);
    expectError(() => allreduce(x, { root: 1 } as never), 'ERR_ST_ARG', ["unknown option 'root'", 'valid options: op']);
    expectError(() => broadcast(x, { root: 1 }), 'ERR_ST_ARG', ['st.distributed.broadcast', 'root must be a rank, an integer in [0, 1)', 'got 1']);
    expectError(() => broadcast(x, { root: 0.5 }), 'ERR_ST_ARG', ['got 0.5']);
    expectError(() => allgather(null as unknown as st.Tensor), 'ERR_ST_ARG', ['st.distributed.allgather', 'expected a Tensor, got null']);
    const gone = st.tensor([1]);
    gone.dispose();
    expectError(() => allreduce(gone), 'ERR_ST_DISPOSED', ['st.distributed.allreduce', 'disposed']);
  });

  it('the main addon accepts only a collectives table from the MPI addon', () => {
    // a plain object, a number, a string, and an External of the wrong kind (a tensor buffer)
    [{}, 42, 'table', st.tensor([1]).buffer('test')].forEach((bad, k) => {
      let caught: { code?: string; message?: string } | undefined;
      try {
        native.setCollectives(bad as never);
      } catch (e) {
        caught = e as typeof caught;
      }
      assert.equal(caught?.code, 'ERR_ST_ARG', `case ${k} refused`);
      assert.ok(caught?.message?.includes('setCollectives: expected the collectives table External'), caught?.message);
    });
    native.setCollectives(null); // none registered: still a world of one
    assert.deepEqual(Array.from(allreduce(st.tensor([3, 4])).dataSync()), [3, 4]);
  });

  it('under a launcher, a build without the MPI addon says so and how to get it', () => {
    const err = expectError(
      () => joinWorld({ OMPI_COMM_WORLD_SIZE: '2' }, () => ({ tried: ['  build/Release/symtensor_mpi.node: not there'] })),
      'ERR_ST_LOAD',
      ['st.distributed.init', 'OMPI_COMM_WORLD_SIZE=2', 'built without MPI', 'build/Release/symtensor_mpi.node: not there', 'libopenmpi-dev', 'rebuild symtensor from source'],
    );
    assert.equal(err.op, 'st.distributed.init');
    assert.equal(worldSize(), 1); // nothing changed
    assert.deepEqual(joinWorld({}, () => assert.fail('no launcher: nothing is loaded')), { initialized: true, rank: 0, size: 1, mpi: null, threadLevel: null });
  });
});

describe('distributed: T.allreduce in a single process', () => {
  it('compiles to one instruction over mixed dtypes and runs as the identity', () => {
    const x = T.vector('x'), y = T.matrix('y', 'float64'), k = T.vector('k', 'int32');
    const outs = T.allreduce([x, y, k], { bucketBytes: 12 });
    const f = st.fn([x, y, k], outs);
    const [ox, oy, ok] = f.sync(st.tensor([1, 2, 3, 4, 5]), st.tensor([[0.5, 1.5], [2.5, 3.5]], { dtype: 'float64' }), st.tensor([7, -7], { dtype: 'int32' })) as st.Tensor[];
    assert.deepEqual(Array.from(ox.dataSync()), [1, 2, 3, 4, 5]);
    assert.deepEqual(oy.arraySync(), [[0.5, 1.5], [2.5, 3.5]]);
    assert.equal(oy.dtype, 'float64');
    assert.deepEqual(Array.from(ok.dataSync()), [7, -7]);
    const reductions = f.graph.nodes().filter((n) => n.op.name === 'allreduce');
    assert.equal(reductions.length, 1, 'one allreduce node for all three');
  });

  it('is not folded away when its input is a constant', () => {
    const c = T.constant([1, 2, 3]);
    const x = T.vector('x');
    const f = st.fn([x], [T.allreduce(c, { op: 'max' }).mul(2), x.add(1)]);
    assert.equal(f.graph.nodes().filter((n) => n.op.name === 'allreduce').length, 1, 'the allreduce of a constant stays in the graph');
    const [r] = f.sync(st.tensor([0])) as st.Tensor[];
    assert.deepEqual(Array.from(r.dataSync()), [2, 4, 6]);
  });

  it('a single variable gives a single variable', () => {
    const x = T.vector('x');
    const y = T.allreduce(x, { op: 'mean' });
    assert.ok(y instanceof Variable);
    assert.equal(y.dtype, 'float32');
  });

  it('gradients match finite differences (sum, mean, max, min)', () => {
    for (const op of ['sum', 'mean', 'max', 'min'] as const)
      checkGrad(`allreduce ${op}`, [{ shape: [2, 3], value: [0.3, -0.7, 1.1, 0.2, -1.4, 0.9] }, { shape: [4], value: [0.5, -0.25, 2, 1] }], (a, b) => {
        const [ra, rb] = T.allreduce([a, b], { op, bucketBytes: 16 }) as Variable[];
        return [T.tanh(ra), rb.mul(rb)];
      });
  });

  it('bad arguments are refused where the graph is built', () => {
    const x = T.vector('x');
    expectError(() => T.allreduce([]), 'ERR_ST_ARG', ['allreduce', 'non-empty array']);
    expectError(() => T.allreduce([x, 3 as unknown as Variable]), 'ERR_ST_ARG', ['allreduce', 'xs[1] must be a Variable, got 3']);
    expectError(() => T.allreduce(x, { op: 'avg' as 'mean' }), 'ERR_ST_ARG', ['unknown op "avg"', 'sum, mean, max, min']);
    expectError(() => T.allreduce(x, { bucketBytes: 4 }), 'ERR_ST_ARG', ['bucketBytes must be an integer in [8, 2^40], got 4']);
    expectError(() => T.allreduce(x, { bucketBytes: 100.5 }), 'ERR_ST_ARG', ['got 100.5']);
    expectError(() => T.allreduce(x, { bucket: 64 } as never), 'ERR_ST_ARG', ["unknown option 'bucket'", 'op, bucketBytes']);
    expectError(() => T.allreduce([x, T.vector('n', 'int32')], { op: 'mean' }), 'ERR_ST_DTYPE', ['xs[1]', "'mean' needs a float tensor, got int32"]);
    expectError(() => T.allreduce(T.vector('b', 'bool')), 'ERR_ST_DTYPE', ['cannot reduce a bool tensor']);
  });
});
