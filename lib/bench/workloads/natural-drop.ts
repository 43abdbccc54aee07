// Code as users write it: the same computations as the other workloads, with every result dropped
// instead of disposed (`f.sync(x)`, `await f(x)`, `st.tanh(...)` whose value nobody keeps).  The
// memory then comes back through the garbage collector — swept from inside later allocations,
// without yielding to the event loop — and the block cache recycles it.  Each case names the
// disposing case it mirrors; its metrics are the time ratios natural / disposing per column.
// 'symtensor' is the f.sync (or eager) variant, 'symtensor-async' the `await f(...)` one,
// 'symtensor-eager' the eager op chain.
// Target: every natural variant within 1.2x of its disposing counterpart.
import { Case, CaseResults, ImplName, Libs, Workload, ms } from '../harness';
import { BATCH, stMlp } from './mlp-model';

const MAX_RATIO = 1.2;

/** natural / disposing time ratios of the columns both cases measured. */
function ratios(r: CaseResults, base: CaseResults | undefined, cols: Partial<Record<ImplName, string>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [impl, metric] of Object.entries(cols) as [ImplName, string][]) out[metric] = ms(r, impl) / ms(base, impl);
  return out;
}

function natural(o: {
  id: string;
  mirrors: string;
  label: string;
  cols: Partial<Record<ImplName, string>>;
  impls: Case['impls'];
  timing?: Case['timing'];
}): Case {
  return {
    id: `natural/${o.id}`,
    workload: 'natural-drop',
    label: `${o.label}, dropped`,
    timing: o.timing,
    impls: o.impls,
    requires: [o.mirrors],
    metrics: (r, all) => ratios(r, all[o.mirrors], o.cols),
    targets: Object.values(o.cols).map((metric) => ({
      metric: metric!,
      max: MAX_RATIO,
      text: `${metric} <= ${MAX_RATIO}x the disposing variant`,
      unit: 'x',
    })),
  };
}

const A = 1.5;
const B = 0.25;

function elementwiseCase(size: number): Case {
  const compiled = (st: Libs['st']) => {
    const { T } = st;
    const xs = T.vector('x');
    const f = st.fn([xs], T.tanh(xs.mul(A).add(B)), { name: 'tanh_affine' });
    const x = st.randomNormal([size], { seed: 3 });
    return { f, x, dispose: () => (f.dispose(), x.dispose()) };
  };
  return natural({
    id: `tanh_affine/size=${size}`,
    mirrors: `tanh_affine/size=${size}`,
    label: `tanh(x*a+b) ${size.toExponential(0).replace('+', '')}`,
    cols: { symtensor: 'syncRatio', 'symtensor-async': 'asyncRatio', 'symtensor-eager': 'eagerRatio' },
    impls: {
      symtensor: {
        setup({ st }: Libs) {
          const c = compiled(st);
          return { run: () => void c.f.sync(c.x), dispose: c.dispose };
        },
      },
      'symtensor-async': {
        setup({ st }: Libs) {
          const c = compiled(st);
          return { run: async () => void (await c.f(c.x)), dispose: c.dispose };
        },
      },
      'symtensor-eager': {
        setup({ st }: Libs) {
          const x = st.randomNormal([size], { seed: 3 });
          return { run: () => void st.tanh(st.add(st.mul(x, A), B)), dispose: () => x.dispose() };
        },
      },
    },
  });
}

function callOverheadCase(): Case {
  const make = (st: Libs['st']) => {
    const x = st.T.vector('x');
    const f = st.fn([x], x.add(1));
    const xv = st.tensor([0, 1, 2, 3]);
    return { f, xv, dispose: () => (f.dispose(), xv.dispose()) };
  };
  return natural({
    id: 'call-overhead/add1',
    mirrors: 'call-overhead/add1',
    label: 'call overhead x.add(1), [4]',
    timing: { inner: 100, reps: 200, warmup: 2000, maxCaseMs: 20000 },
    cols: { symtensor: 'syncRatio', 'symtensor-async': 'asyncRatio', 'symtensor-eager': 'eagerRatio' },
    impls: {
      symtensor: {
        setup({ st }: Libs) {
          const c = make(st);
          return { run: () => void c.f.sync(c.xv), dispose: c.dispose };
        },
      },
      'symtensor-async': {
        inner: 20,
        reps: 100,
        warmup: 200,
        setup({ st }: Libs) {
          const c = make(st);
          return { run: async () => void (await c.f(c.xv)), dispose: c.dispose };
        },
      },
      'symtensor-eager': {
        setup({ st }: Libs) {
          const xv = st.tensor([0, 1, 2, 3]);
          return { run: () => void st.add(xv, 1), dispose: () => xv.dispose() };
        },
      },
    },
  });
}

function mlpStepCase(optimizer: 'sgd' | 'adam'): Case {
  const id = `mlp-${optimizer}/b${BATCH}`;
  const step = (async: boolean) => ({
    setup({ st }: Libs) {
      const m = stMlp(st, { batch: BATCH, optimizer });
      return {
        run: async ? async () => void (await m.step(m.x, m.y)) : () => void m.step.sync(m.x, m.y),
        dispose: () => m.dispose(),
      };
    },
  });
  return natural({
    id,
    mirrors: id,
    label: `MLP ${optimizer === 'sgd' ? 'SGD' : 'Adam'} step b${BATCH}`,
    cols: { symtensor: 'syncRatio', 'symtensor-async': 'asyncRatio' },
    impls: { symtensor: step(false), 'symtensor-async': step(true) },
  });
}

function mlpInferCase(batch: number): Case {
  return natural({
    id: `mlp-infer/b${batch}`,
    mirrors: `mlp-infer/b${batch}`,
    label: `MLP inference b${batch}`,
    cols: { symtensor: 'syncRatio' },
    impls: {
      symtensor: {
        setup({ st }: Libs) {
          const m = stMlp(st, { batch });
          return { run: () => void m.predict.sync(m.x), dispose: () => m.dispose() };
        },
      },
    },
  });
}

function eagerCase(o: { id: string; label: string; make: (st: Libs['st']) => { run: () => unknown; dispose: () => void } }): Case {
  return natural({
    id: o.id,
    mirrors: o.id,
    label: o.label,
    cols: { symtensor: 'syncRatio' },
    impls: { symtensor: { setup: ({ st }: Libs) => o.make(st) } },
  });
}

export const naturalDrop: Workload = {
  name: 'natural-drop',
  description: 'the other workloads with results dropped instead of disposed (sync, async, eager)',
  cases({ quick }) {
    const cases: Case[] = [elementwiseCase(1e6)];
    if (!quick) cases.push(elementwiseCase(1e7));
    cases.push(callOverheadCase(), mlpStepCase('sgd'), mlpInferCase(1), mlpInferCase(1024));
    if (quick) return cases;
    cases.push(
      mlpStepCase('adam'),
      eagerCase({
        id: 'sgemm/n=1024',
        label: 'SGEMM n=1024',
        make(st) {
          const a = st.randomNormal([1024, 1024], { seed: 1 });
          const b = st.randomNormal([1024, 1024], { seed: 2 });
          return { run: () => void st.matmul(a, b), dispose: () => (a.dispose(), b.dispose()) };
        },
      }),
      eagerCase({
        id: 'conv2d/64x28x28x32-3x3x64-same',
        label: 'conv2d 64x28x28x32 * 3x3x32x64',
        make(st) {
          const x = st.randomNormal([64, 28, 28, 32], { seed: 4 });
          const w = st.randomNormal([3, 3, 32, 64], { seed: 5, stddev: 0.1 });
          return { run: () => void st.conv2d(x, w, { strides: 1, padding: 'same' }), dispose: () => (x.dispose(), w.dispose()) };
        },
      }),
    );
    return cases;
  },
};
