// One training epoch on Fashion-MNIST (60,000 images, shuffled; models and loops in fit-model.ts):
// the MLP 784-512-512-10 at batch 128 and the CNN conv32-pool-conv64-pool-dense128-dense10 at
// batch 64, both with Adam (lr 1e-3) and sparse categorical cross-entropy.
//   fit-epoch/mlp, fit-epoch/cnn: symtensor's `model.fit(x, y, { epochs: 1, batchSize, verbose: 0 })`
//     against PyTorch (2 threads, OMP_WAIT_POLICY=PASSIVE; a plain loop over torch.randperm, batches
//     by index_select) and TensorFlow.js (tf.layers, its model.fit);
//   fit-epoch/mlp-graph, fit-epoch/cnn-graph: the same step written by hand with T ops and one st.fn
//     (what the model layer builds), called with f.sync.  The model layer's cost (modelLayerCost)
//     is fit / by hand from alternating pairs of calls (PAIRED), since the two cases' medians are
//     measured minutes apart (their ratio is kept as modelLayerCostMedians).
// The table's times are per epoch.  A call that trains only part of an epoch is timed with
// `inner` = that fraction: the harness divides a sample by its calls, so the sample becomes the
// time of a whole epoch.  Full run: symtensor and PyTorch train whole epochs (469 and 938 steps);
// --quick: 100 steps, scaled, for both alike.  TensorFlow.js always trains a few steps, scaled
// (an epoch would take minutes to hours there).  Each round's untimed warm-up call trains
// WARMUP_STEPS steps (it compiles the programs and touches the data), not a whole epoch.
// Targets: model.fit <= 1.05x the hand-written steps' time (paired); <= 0.7x (MLP) and <= 0.4x (CNN)
// PyTorch's time; >= 100x faster than TensorFlow.js's fastest backend.  The CNN also reports its
// time against a GEMM bound: its FLOPs (fit-model.ts's stepFlops, about 1 GFLOP a step) at
// symtensor's SGEMM rate at n=1024.
import { performance } from 'node:perf_hooks';
import type { Case, CaseResults, Impl, Libs, PySpec, Runner, Workload } from '../harness';
import { isTiming, median, ms } from '../harness';
import {
  ADAM, BATCH, CNN, MLP_SIZES, N_TRAIN, Net, StGraph, fashionTrain, stGraph, stModel, stepFlops, stepsPerEpoch, tfModel, tfSubset,
} from './fit-model';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Steps of a --quick call (symtensor and PyTorch alike). */
const QUICK_STEPS = 100;
/** Steps of the warm-up call that starts each round. */
const WARMUP_STEPS = 3;
/** Steps a TensorFlow.js call trains, by backend (cpu trains the CNN at a minute or more a step). */
const TFJS_STEPS: Record<Net, { wasm: number; cpu: number }> = { mlp: { wasm: 10, cpu: 2 }, cnn: { wasm: 0, cpu: 1 } };
/** Rows of the TensorFlow.js warm-up call (one small batch: it only has to run every kernel once). */
const TFJS_WARMUP_ROWS = 16;
/**
 * The model layer's cost is measured in pairs: model.fit calls and the same steps by hand, back to
 * back, alternating which goes first, `pairs` times (in the model.fit runner's details, after
 * timing; see pairedCost).  Unlike the ratio of the two cases' medians, measured minutes apart,
 * both halves of a pair see the same machine load.
 */
const PAIRED: Record<'quick' | 'full', Record<Net, { steps: number; pairs: number }>> = {
  quick: { mlp: { steps: 50, pairs: 3 }, cnn: { steps: 25, pairs: 3 } },
  full: { mlp: { steps: 200, pairs: 5 }, cnn: { steps: 100, pairs: 5 } },
};
/** Steps of the short calls of each pair (they measure fit's fixed cost per call). */
const PAIRED_SMALL = 2;
/** Steps of the profiled copy of the hand-written step (after 3 untimed ones). */
const PROFILE_STEPS = { quick: 10, full: 30 };

/** The case whose SGEMM rate gives the CNN's GEMM bound. */
const SGEMM_ID = 'sgemm/n=1024';
const LABEL: Record<Net, string> = { mlp: 'MLP epoch', cnn: 'CNN epoch' };
const epochFlops = (net: Net) => (stepFlops(net) * N_TRAIN) / BATCH[net];

export const fitEpoch: Workload = {
  name: 'fit-epoch',
  description: 'one training epoch of Fashion-MNIST: model.fit vs the step by hand, PyTorch and TensorFlow.js',
  cases({ quick }) {
    return (['mlp', 'cnn'] as Net[]).flatMap((net) => netCases(net, quick));
  },
};

function netCases(net: Net, quick: boolean): Case[] {
  const steps = quick ? QUICK_STEPS : stepsPerEpoch(net);
  const share = steps / stepsPerEpoch(net);
  const id = `fit-epoch/${net}`;
  const graphId = `${id}-graph`;
  const scaled = quick ? ` [${steps}/${stepsPerEpoch(net)} steps]` : '';
  // one whole-epoch sample a round (three rounds); the warm-up is short (see the header)
  const timing = { reps: 3, warmup: 1 };
  const fitCase: Case = {
    id,
    workload: 'fit-epoch',
    label: `${LABEL[net]}, fit${scaled}`,
    flops: epochFlops(net),
    timing,
    requires: [graphId, ...(net === 'cnn' ? [SGEMM_ID] : [])],
    impls: {
      symtensor: { inner: share, setup: ({ st }) => fitRunner(st, net, steps, PAIRED[quick ? 'quick' : 'full'][net]) },
      'tfjs-wasm': net === 'cnn'
        ? { skip: 'tfjs-backend-wasm has no Conv2DBackpropFilter kernel: it cannot train a conv2d' }
        : tfjsImpl(net, TFJS_STEPS[net].wasm, 3),
      'tfjs-cpu': net === 'cnn' && quick
        ? { skip: '--quick: one CNN step takes a minute or more on tfjs-cpu; measured in the full run' }
        : tfjsImpl(net, TFJS_STEPS[net].cpu, net === 'cnn' ? 1 : 2),
    },
    py: {
      torch: torchSpec(net, steps, share),
      'torch-default': { skip: 'whole epochs: only the PASSIVE configuration (torch) is measured' },
    },
    metrics: (r, all) => fitMetrics(net, r, all),
    targets: [
      { metric: 'modelLayerCost', max: 1.05, text: 'model.fit <= 1.05x the same steps by hand (paired calls)', unit: 'x' },
      { metric: 'timeVsTorch', max: net === 'mlp' ? 0.7 : 0.4, text: `epoch time <= ${net === 'mlp' ? 0.7 : 0.4}x PyTorch (PASSIVE)`, unit: 'x' },
      { metric: 'speedupVsTfjs', min: 100, text: 'epoch >= 100x faster than tfjs (fastest backend, scaled)', unit: 'x' },
    ],
  };
  const graphCase: Case = {
    id: graphId,
    workload: 'fit-epoch',
    label: `${LABEL[net]}, by hand${scaled}`,
    flops: epochFlops(net),
    timing,
    requires: [id, ...(net === 'cnn' ? [SGEMM_ID] : [])],
    impls: { symtensor: { inner: share, setup: ({ st }) => graphRunner(st, net, steps, quick) } },
    metrics: (r, all) => ({
      timeVsTorch: ms(r, 'symtensor') / ms(all[id], 'torch'),
      ...(net === 'cnn' ? { gemmBoundSgemm1024: gemmBound(net, ms(r, 'symtensor'), all) } : {}),
    }),
  };
  return [fitCase, graphCase];
}

/** Ratios of the model.fit case (time ratios: below 1, symtensor is faster; speedupVsTfjs above 1). */
function fitMetrics(net: Net, r: CaseResults, all: Record<string, CaseResults>): Record<string, number> {
  const fit = ms(r, 'symtensor');
  const tfjs = [ms(r, 'tfjs-wasm'), ms(r, 'tfjs-cpu')].filter(Number.isFinite);
  const st = r.symtensor;
  type Paired = { ratio: number; fitFixedMsPerCall: number; fitExtraMsPerStep: number };
  const paired = isTiming(st) ? (st.details as { paired?: Paired } | undefined)?.paired : undefined;
  return {
    modelLayerCost: paired?.ratio ?? NaN,
    fitFixedMsPerCall: paired?.fitFixedMsPerCall ?? NaN,
    fitExtraMsPerStep: paired?.fitExtraMsPerStep ?? NaN,
    modelLayerCostMedians: fit / ms(all[`fit-epoch/${net}-graph`], 'symtensor'),
    timeVsTorch: fit / ms(r, 'torch'),
    speedupVsTfjs: tfjs.length ? Math.min(...tfjs) / fit : NaN,
    ...(net === 'cnn' ? { gemmBoundSgemm1024: gemmBound(net, fit, all) } : {}),
  };
}

/** Epoch time / (the epoch's FLOPs at symtensor's SGEMM rate for n=1024). */
function gemmBound(net: Net, epochMs: number, all: Record<string, CaseResults>): number {
  const sg = all[SGEMM_ID]?.symtensor;
  const gflops = isTiming(sg) ? sg.gflops ?? NaN : NaN;
  return epochMs / (epochFlops(net) / (gflops * 1e6));
}

/**
 * Losses seen by a runner, for the JSON: training must make the loss go down.  model.fit reports
 * the mean over the call's batches (Keras's log); the hand-written loop the last batch's loss.
 */
function lossDetails(first: number, last: number, what: 'epochMean' | 'lastBatch'): Record<string, unknown> {
  const out: Record<string, unknown> = { loss: what, lossWarmup: first, lossLast: last };
  if (!Number.isFinite(last) || !(last < first)) out.warning = `loss did not go down (${first} -> ${last})`;
  return out;
}

/**
 * symtensor's model.fit: the first call of a round is the warm-up (WARMUP_STEPS), then epochs;
 * details add the paired comparison with the hand-written step (PAIRED).
 */
async function fitRunner(st: Any, net: Net, steps: number, paired: { steps: number; pairs: number }): Promise<Runner> {
  const data = await fashionTrain(st, net);
  const model = stModel(st, net);
  const fit = async (n: number) => {
    const h = await model.fit(data.x, data.y, {
      epochs: 1, batchSize: BATCH[net], verbose: 0, ...(n < stepsPerEpoch(net) ? { stepsPerEpoch: n } : {}),
    });
    return h.history.loss[0] as number;
  };
  let calls = 0;
  let first = NaN;
  let last = NaN;
  return {
    run: async () => {
      if (calls++ === 0) first = await fit(WARMUP_STEPS);
      else last = await fit(steps);
    },
    details: async () => ({ ...lossDetails(first, last, 'epochMean'), paired: await pairedCost(st, net, data, fit, paired) }),
    dispose() {
      for (const v of [...model.weights, ...model.optimizer.variables()]) v.dispose();
    },
  };
}

/**
 * model.fit calls against the same steps by hand, in alternating pairs (see PAIRED).  The ratio
 * of the `o.steps`-step calls is the model layer's cost; fit's fixed cost per call (data checks,
 * the weight snapshot it restores on failure, the epoch order; its step is compiled on the first
 * call only and cached on the model) weighs more there than in an epoch, so it errs against fit.  The
 * pairs' differences at PAIRED_SMALL and `o.steps` steps also split fit's extra time into a cost
 * per call and a cost per step (medians; noisy on a busy machine, for reading, not for targets).
 */
async function pairedCost(st: Any, net: Net, data: { x: Any; y: Any }, fit: (n: number) => Promise<number>, o: { steps: number; pairs: number }) {
  const g = stGraph(st, net, data, 2);
  try {
    g.train(WARMUP_STEPS);
    const timeFit = async (n: number) => {
      const t0 = performance.now();
      await fit(n);
      return performance.now() - t0;
    };
    const timeHand = (n: number) => {
      const t0 = performance.now();
      g.train(n);
      return performance.now() - t0;
    };
    const rows: { ratio: number; fixedMs: number; extraMsPerStep: number; fitMs: number; handMs: number }[] = [];
    for (let i = 0; i < o.pairs; i++) {
      const t: Record<string, number> = {};
      for (const n of [PAIRED_SMALL, o.steps]) {
        // alternate which goes first, so that a change of load between the two favours neither
        if (i % 2 === 0) {
          t[`fit${n}`] = await timeFit(n);
          t[`hand${n}`] = timeHand(n);
        } else {
          t[`hand${n}`] = timeHand(n);
          t[`fit${n}`] = await timeFit(n);
        }
      }
      const dSmall = t[`fit${PAIRED_SMALL}`] - t[`hand${PAIRED_SMALL}`];
      const dLong = t[`fit${o.steps}`] - t[`hand${o.steps}`];
      const extraMsPerStep = (dLong - dSmall) / (o.steps - PAIRED_SMALL);
      rows.push({
        ratio: t[`fit${o.steps}`] / t[`hand${o.steps}`],
        fixedMs: dSmall - PAIRED_SMALL * extraMsPerStep,
        extraMsPerStep,
        fitMs: t[`fit${o.steps}`],
        handMs: t[`hand${o.steps}`],
      });
    }
    const med = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]));
    return {
      steps: o.steps, smallSteps: PAIRED_SMALL, pairs: o.pairs, ratio: med('ratio'),
      fitFixedMsPerCall: med('fixedMs'), fitExtraMsPerStep: med('extraMsPerStep'), handMsPerStep: med('handMs') / o.steps, rows,
    };
  } finally {
    g.dispose();
  }
}

/** The hand-written step: warm-up call first, then epochs; details add a per-instruction profile. */
async function graphRunner(st: Any, net: Net, steps: number, quick: boolean): Promise<Runner> {
  const data = await fashionTrain(st, net);
  const g = stGraph(st, net, data);
  let calls = 0;
  let first = NaN;
  let last = NaN;
  return {
    run() {
      if (calls++ === 0) first = g.train(WARMUP_STEPS, true)!;
      else last = g.train(steps, true)!;
    },
    details: () => ({ ...lossDetails(first, last, 'lastBatch'), ...profileGraph(g, quick ? PROFILE_STEPS.quick : PROFILE_STEPS.full) }),
    dispose: () => g.dispose(),
  };
}

/**
 * Per-instruction times of a profiled copy of the hand-written step (st.fn's profile option, read
 * with f.profile()) over `steps` calls after 3 untimed ones, in the shape run.ts prints.
 */
function profileGraph(g: StGraph, steps: number) {
  const f = g.profiled();
  try {
    for (let s = 0; s < 3; s++) f.sync(g.rows(s)).dispose();
    const before = f.profile();
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) f.sync(g.rows(3 + s)).dispose();
    const wallMs = (performance.now() - t0) / steps;
    const after = f.profile();
    const prog = f.program();
    const shape = (id: number) => `[${prog.slots[id].shape.join(',')}]`;
    const rows = after.map((e: Any, i: number) => ({
      index: e.index,
      op: e.op,
      shapes: `${prog.instrs[i].outputs.map(shape).join(',')} <- ${prog.instrs[i].inputs.map(shape).join(',')}`,
      msPerCall: (e.ms - before[i].ms) / steps,
    }));
    const total = rows.reduce((a: number, e: Any) => a + e.msPerCall, 0);
    const profile = rows.map((e: Any) => ({ ...e, share: e.msPerCall / total })).sort((a: Any, b: Any) => b.msPerCall - a.msPerCall);
    const byKind: Record<string, number> = {};
    for (const e of profile) {
      const kind = e.op.startsWith('fused') ? 'fused elementwise' : e.op.replace(/[[{(].*$/, '');
      byKind[kind] = (byKind[kind] ?? 0) + e.msPerCall;
    }
    return {
      profile,
      profileByKind: Object.fromEntries(Object.entries(byKind).sort((a, b) => b[1] - a[1])),
      profileInstrMs: total,
      profileWallMs: wallMs,
      instructions: prog.instrs.length,
      arenaBytes: prog.arenaBytes,
    };
  } finally {
    f.dispose();
  }
}

/** TensorFlow.js: model.fit over `steps` batches of the data (a seeded random subset), scaled. */
function tfjsImpl(net: Net, steps: number, reps: number): Impl {
  return {
    reps,
    warmup: 1,
    inner: steps / stepsPerEpoch(net),
    async setup({ st, tf }: Libs): Promise<Runner> {
      // the data come through symtensor's loader (loaded even when only tfjs runs)
      const lib = st ?? (await import('../../index'));
      const data = await fashionTrain(lib.data ? lib : lib.default, net);
      const model = tfModel(tf, net);
      const sub = tfSubset(tf, data, steps * BATCH[net], 7);
      const warm = { x: sub.x.slice(0, TFJS_WARMUP_ROWS), y: sub.y.slice(0, TFJS_WARMUP_ROWS) };
      let calls = 0;
      let first = NaN;
      let last = NaN;
      return {
        async run() {
          const warmup = calls++ === 0;
          const d = warmup ? warm : sub;
          const h = await model.fit(d.x, d.y, { epochs: 1, batchSize: BATCH[net], shuffle: true, verbose: 0 });
          if (warmup) first = h.history.loss[0];
          else last = h.history.loss[0];
        },
        details: () => ({ lossWarmup: first, lossLast: last, stepsPerCall: steps }),
        dispose() {
          model.dispose();
          for (const t of [sub.x, sub.y, warm.x, warm.y]) t.dispose();
        },
      };
    },
  };
}

/** PyTorch's fit_epoch spec (bench/peers/torch_bench.py): the same network, optimizer and batches. */
function torchSpec(net: Net, steps: number, share: number): PySpec {
  return {
    kind: 'fit_epoch',
    net,
    ...(net === 'mlp' ? { sizes: MLP_SIZES } : { conv: CNN.conv, dense: CNN.dense, layout: 'channels_last' }),
    batch: BATCH[net],
    steps,
    warmup_steps: WARMUP_STEPS,
    lr: ADAM.lr,
    beta1: ADAM.beta1,
    beta2: ADAM.beta2,
    eps: ADAM.epsilon,
    seed: 1,
    timing: { inner: share },
  };
}
