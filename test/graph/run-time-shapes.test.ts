// Shapes known only at run time: one broadcasting rule for every op (an unknown dim that is 1 at
// run time and would be stretched is refused, naming the node; declared 1s broadcast, with the
// right gradients), split with a -1 part on an unknown axis, and second derivatives through pooling.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as st from '../../lib/index';
import { Op } from '../../lib/graph/variable';
import { Rng } from '../support/reference';
import { checkGrad, distinct, uniform } from '../support/fd';
import { catchError } from '../support/check';

const { T } = st;
type Tensor = st.Tensor;


/** Asserts the error names the op, says to declare the dim as 1 and points at this file. */
function refusesBroadcast(f: () => unknown, op: string): void {
  const e = catchError(f);
  assert.equal(e.code, 'ERR_ST_SHAPE');
  assert.match(e.message, new RegExp(`^${op}: `));
  assert.match(e.message, /declare that dimension as 1/);
  assert.match(e.message, /run-time-shapes\.test\.ts/);
}

const data = (shape: number[], seed: number): Tensor => {
  const rng = new Rng(seed);
  return st.tensor(uniform(rng, shape.reduce((a, b) => a * b, 1)), { shape, dtype: 'float64' });
};

describe('run-time broadcasting: one rule for every op', () => {
  it('matmul batch dims: a run-time 1 against 4 is refused (forward and gradient)', () => {
    const a = T.tensor('float64', [null, null, null], 'a'), b = T.tensor('float64', [null, null, null], 'b');
    const f = st.fn([a, b], st.grad(T.sum(T.matmul(a, b)), a));
    refusesBroadcast(() => f.sync(data([1, 2, 3], 1), data([4, 3, 5], 2)), 'matmul');
    refusesBroadcast(() => f.sync(data([4, 2, 3], 1), data([1, 3, 5], 2)), 'matmul');
    // equal batch dims still work
    assert.deepEqual((f.sync(data([4, 2, 3], 1), data([4, 3, 5], 2)) as Tensor).shape, [4, 2, 3]);
  });

  it('matmul batch dims declared 1 broadcast, and the gradient sums over the batch', () => {
    const a = T.tensor('float64', [1, null, null], 'a'), b = T.tensor('float64', [null, null, null], 'b');
    const bv = data([4, 3, 5], 2);
    const ga = st.fn([a, b], st.grad(T.sum(T.matmul(a, b)), a)).sync(data([1, 2, 3], 1), bv) as Tensor;
    assert.deepEqual(ga.shape, [1, 2, 3]);
    // d/da[0,i,k] sum(a·b) = sum over batch and columns of b[n,k,j]
    const bs = bv.dataSync() as Float64Array;
    const want: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 3; k++) {
        let s = 0;
        for (let n = 0; n < 4; n++) for (let j = 0; j < 5; j++) s += bs[(n * 3 + k) * 5 + j];
        want.push(s);
      }
    Array.from(ga.dataSync()).forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12, `[${i}] ${g} vs ${want[i]}`));
  });

  it('broadcastTo: an unknown dim that is 1 at run time is refused', () => {
    const x = T.tensor('float64', [null, null], 'x');
    const f = st.fn([x], st.grad(T.sum(T.broadcastTo(x, [3, 4])), x));
    refusesBroadcast(() => f.sync(data([3, 1], 1)), 'broadcastTo');
    const ok = T.tensor('float64', [null, 1], 'ok');
    const g = st.fn([ok], st.grad(T.sum(T.broadcastTo(ok, [3, 4])), ok)).sync(data([3, 1], 1)) as Tensor;
    assert.deepEqual(Array.from(g.dataSync()), [4, 4, 4]);
  });

  it('fused softmax cross-entropy: labels or logits with a run-time 1 are refused', () => {
    const y = T.tensor('float64', [null, null], 'y'), z = T.tensor('float64', [null, null], 'z');
    const loss = T.sum(T.categoricalCrossentropy(y, T.softmax(z)));
    assert.ok(st.fn([y, z], loss).graph.nodes().some((n) => n.op.name === 'crossEntropySoftmax'), 'the fused op is used');
    const f = st.fn([y, z], st.grad(loss, [y, z]));
    refusesBroadcast(() => f.sync(data([1, 5], 1), data([4, 5], 2)), 'crossEntropySoftmax');
    refusesBroadcast(() => f.sync(data([4, 5], 1), data([1, 5], 2)), 'crossEntropySoftmax');
  });

  it('fused elementwise chains keep the rule', () => {
    const a = T.tensor('float64', [null, null], 'a'), b = T.tensor('float64', [null, null], 'b');
    const f = st.fn([a, b], T.tanh(T.mul(T.add(a, b), 2)));
    assert.ok(f.graph.nodes().some((n) => n.op.name === 'fused'), 'the chain is fused');
    refusesBroadcast(() => f.sync(data([3, 1], 1), data([3, 4], 2)), 'add');
  });

  it('every op whose shape rule broadcasts declares which input axes do', () => {
    // the op classes of lib/graph/ops and the rewrites: one whose infer calls broadcastDims must
    // override broadcastTargets, or specialize could not check it
    const dirs = [path.join(__dirname, '../../lib/graph/ops'), path.join(__dirname, '../../lib/compile/rewrites')];
    const undeclared: string[] = [];
    let broadcasting = 0;
    for (const dir of dirs)
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
        const mod = require(path.join(dir, file)) as Record<string, unknown>;
        for (const [name, cls] of Object.entries(mod)) {
          if (typeof cls !== 'function' || !(cls.prototype instanceof Op)) continue;
          const infer = String((cls.prototype as { infer: unknown }).infer);
          if (!/broadcastDims|new MatMul\(/.test(infer)) continue;
          broadcasting++;
          if ((cls.prototype as Op).broadcastTargets === Op.prototype.broadcastTargets) undeclared.push(`${file}: ${name}`);
        }
      }
    assert.ok(broadcasting >= 6, `found only ${broadcasting} broadcasting ops`);
    assert.deepEqual(undeclared, []);
  });
});

describe('split with a -1 part on an unknown axis', () => {
  const row = st.tensor([[0, 1, 2, 3, 4, 5, 6]]);
  const pieces = (sizes: number[], x: Tensor, shape: (number | null)[]) => {
    const v = T.tensor('float32', shape, 'x');
    const out = st.fn([v], T.split(v, sizes, 1)).sync(x) as Tensor[];
    return out.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
  };
  const eager = (sizes: number[], x: Tensor) => st.split(x, sizes, 1).map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));

  it('[2, -1, 1] of 7 columns gives widths 2, 4, 1, as eager does', () => {
    const want = [
      { shape: [1, 2], values: [0, 1] },
      { shape: [1, 4], values: [2, 3, 4, 5] },
      { shape: [1, 1], values: [6] },
    ];
    assert.deepEqual(eager([2, -1, 1], row), want);
    assert.deepEqual(pieces([2, -1, 1], row, [1, null]), want);
    assert.deepEqual(pieces([2, -1, 1], row, [null, null]), want);
  });

  it('-1 first, last and alone; zero-width parts', () => {
    for (const sizes of [[-1, 3], [3, -1], [-1], [1, 2, -1, 2, 1], [0, -1, 0], [2, -1, 5]]) {
      assert.deepEqual(pieces(sizes, row, [1, null]), eager(sizes, row), `sizes ${JSON.stringify(sizes)}`);
    }
  });

  it('sizes that do not fit the run-time axis are an error naming split', () => {
    const v = T.tensor('float32', [1, null], 'x');
    const f = st.fn([v], T.split(v, [2, -1, 1], 1));
    const e = catchError(() => f.sync(st.tensor([[0, 1]])));
    assert.match(e.message, /^split: .*at least 3/);
    // exactly the known sizes leaves an empty -1 part
    assert.deepEqual((f.sync(st.tensor([[0, 1, 2]])) as Tensor[]).map((t) => t.shape), [[1, 2], [1, 0], [1, 1]]);
  });

  it('the gradient of the pieces lands where they came from', () => {
    const v = T.tensor('float64', [1, null], 'x');
    const [a, b, c] = T.split(v, [2, -1, 1], 1);
    const cost = T.add(T.add(T.sum(a), T.mul(T.sum(b), 2)), T.mul(T.sum(c), 3));
    const g = st.fn([v], st.grad(cost, v)).sync(st.tensor([[0, 1, 2, 3, 4, 5, 6]], { dtype: 'float64' })) as Tensor;
    assert.deepEqual(Array.from(g.dataSync()), [1, 1, 2, 2, 2, 2, 3]);
  });
});

describe('second derivatives through pooling (float64 finite differences)', () => {
  const cases: { label: string; opts: st.Pool2dOptions }[] = [
    { label: 'size 2', opts: { poolSize: 2 } },
    { label: 'size 3, stride 1, same', opts: { poolSize: 3, strides: 1, padding: 'same' } },
    { label: 'size 3, stride 2, same', opts: { poolSize: 3, strides: 2, padding: 'same' } },
  ];
  for (const op of ['maxPool2d', 'avgPool2d'] as const) {
    cases.forEach((c, k) => {
      it(`${op} ${c.label}: grad of grad`, () => {
        const rng = new Rng(4200 + k);
        const x = distinct(rng, 32, 0.1, -1.5);
        // the first derivative of a smooth function of the pooled values, differentiated again
        checkGrad(`${op} ${c.label}`, [{ name: 'x', shape: [1, 4, 4, 2], value: x }], (v) =>
          st.grad(T.sum(T.square(T.sin(T[op](T.tanh(v), c.opts)))), v),
        );
      });
      it(`${op} ${c.label}: the gradient is linear in dy (d/ddy of ${op}Grad)`, () => {
        const rng = new Rng(4300 + k);
        const x = T.tensor('float64', [1, 4, 4, 2], 'x');
        const pooled = T[op](x, c.opts);
        const shape = pooled.staticShape as number[];
        const n = shape.reduce((a, b) => a * b, 1);
        const xv = st.tensor(distinct(rng, 32, 0.1, -1.5), { shape: [1, 4, 4, 2], dtype: 'float64' });
        checkGrad(`${op}Grad in dy, ${c.label}`, [{ name: 'dy', shape, value: uniform(rng, n) }], (dy) =>
          st.grad(T.sum(T.mul(T[op](x, c.opts), dy)), x),
          { fnOpts: { givens: [[x, T.constant(xv)]] } },
        );
      });
    });
  }
});
