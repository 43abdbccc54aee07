// Child process of the compile-time workload (run by it as `node --import tsx` this file
// '{"kind":"mlp","size":100}' or '{"kind":"chain","size":2500}'): after an untimed warm-up
// compile (so that the JIT's first work does not land on the case), builds the graph, then times
// st.grad, st.fn and the first call separately; then builds the same model again over the same
// shared variables and times st.grad + st.fn + first call of that copy (the program cache's
// case).  Prints one JSON line.
import { performance } from 'node:perf_hooks';
import * as st from '../../index';

const { T } = st;
const { kind, size } = JSON.parse(process.argv[2] ?? '{}') as { kind: 'mlp' | 'chain'; size: number };

const UNITS = 32, BATCH = 16, CLASSES = 10;

/** An MLP of `layers` dense+relu layers of 32 units and its SGD step's cost and updates. */
function mlpGraph(layers: number, params?: st.SharedVariable[]) {
  const X = T.matrix('X'), y = T.ivector('y');
  const ps: st.SharedVariable[] = params ?? [];
  let h: st.Variable = X;
  for (let l = 0; l < layers; l++) {
    if (!params) ps.push(st.shared(st.randomNormal([UNITS, UNITS], { seed: l }).mul(Math.sqrt(2 / UNITS)), `W${l}`), st.shared(st.zeros([UNITS]), `b${l}`));
    h = T.relu(T.dot(h, ps[2 * l]).add(ps[2 * l + 1]));
  }
  if (!params) ps.push(st.shared(st.randomNormal([UNITS, CLASSES], { seed: 99 }).mul(0.1), 'Wo'));
  const cost = T.mean(T.sparseCategoricalCrossentropy(y, T.softmax(T.dot(h, ps[ps.length - 1]))));
  return { inputs: [X, y], cost, params: ps };
}

interface Timed { buildMs: number; gradMs: number; fnMs: number; firstCallMs: number; totalMs: number }

function timeMlp(layers: number, params?: st.SharedVariable[]): Timed & { params: st.SharedVariable[] } {
  const t0 = performance.now();
  const g = mlpGraph(layers, params);
  const t1 = performance.now();
  const gs = st.grad(g.cost, g.params);
  const t2 = performance.now();
  const f = st.fn(g.inputs, g.cost, { updates: g.params.map((p, i) => [p, p.sub(gs[i].mul(0.01))] as [st.SharedVariable, st.Variable]) });
  const t3 = performance.now();
  const x = st.randomNormal([BATCH, UNITS], { seed: 1 });
  const y = st.tensor(Array.from({ length: BATCH }, (_, i) => i % CLASSES), { dtype: 'int32' });
  const loss = f.sync(x, y) as st.Tensor;
  const t4 = performance.now();
  if (!Number.isFinite(loss.dataSync()[0])) throw new Error(`mlp ${layers}: the loss is ${loss.dataSync()[0]}`);
  return { buildMs: t1 - t0, gradMs: t2 - t1, fnMs: t3 - t2, firstCallMs: t4 - t3, totalMs: t4 - t1, params: g.params };
}

function timeChain(ops: number): Timed {
  const t0 = performance.now();
  const x = T.vector('x');
  let y: st.Variable = x;
  for (let i = 0; i < ops; i++) y = i % 2 ? y.add(0.5) : y.mul(1.0001);
  const t1 = performance.now();
  const f = st.fn([x], y);
  const t2 = performance.now();
  const out = (f.sync(st.tensor([1, 2, 3])) as st.Tensor).dataSync();
  const t3 = performance.now();
  // float32, one op at a time, as the fused program computes it
  let want = Math.fround(1);
  for (let i = 0; i < ops; i++) want = Math.fround(i % 2 ? want + 0.5 : want * Math.fround(1.0001));
  if (Math.abs(out[0] - want) > 1e-5 * Math.abs(want)) throw new Error(`chain ${ops}: got ${out[0]}, expected ${want}`);
  return { buildMs: t1 - t0, gradMs: 0, fnMs: t2 - t1, firstCallMs: t3 - t2, totalMs: t3 - t1 };
}

timeMlp(12); // a size no case uses: its program must not serve a measured one from the cache
timeChain(100);
if (kind === 'mlp') {
  const first = timeMlp(size);
  const again = timeMlp(size, first.params);
  const { params: _p, ...timing } = first;
  console.log(JSON.stringify({ ...timing, rebuiltMs: again.totalMs }));
} else {
  console.log(JSON.stringify(timeChain(size)));
}
