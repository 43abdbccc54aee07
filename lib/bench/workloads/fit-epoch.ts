// One training epoch on Fashion-MNIST (60,000 images, shuffled; models and loops in fit-model.ts):
// the MLP 784-512-512-10 at batch 128 and the CNN conv32-pool-conv64-pool-dense128-dense10 at
// batch 64, both with Adam (lr 1e-3) and sparse categorical cross-entropy.
//   fit-epoch/mlp, fit-epoch/cnn: symtensor's `model.fit(x, y, { epochs: 1, batchSize, verbose: 0 })`
//     (its steps run with `await`, on a worker thread) against PyTorch (2 threads,
//     OMP_WAIT_POLICY=PASSIVE; a plain loop over torch.randperm, batches by index_select) and
//     TensorFlow.js (tf.layers, its model.fit);
//   fit-epoch/mlp-graph, fit-epoch/cnn-graph: the same step written by hand with T ops and one st.fn
//     doing the same work per batch as fit's step (gather the batch's rows from the whole data set
//     by index, forward, loss, backward, Adam, and the epoch's running mean of the loss), called
//     with `await f(...)` ('symtensor-async': fit's runner) and with `f.sync` ('symtensor').  The
//     model layer's cost (modelLayerCost, the target) is fit / the hand-written step with the same
//     (async) runner, from interleaved calls (PAIRED), since the two cases' medians are measured
//     minutes apart (their ratio is kept as modelLayerCostMedians).  The same calls' ratio of
//     process CPU time (modelLayerCostCpu), fit / the f.sync step (fitVsHandSync) and await /
//     f.sync by hand (asyncRunnerCost) are reported for reading: the last is the runner's cost,
//     not the model layer's.
// The table's times are per epoch.  A call that trains only part of an epoch is timed with
// `inner` = that fraction: the harness divides a sample by its calls, so the sample becomes the
// time of a whole epoch.  Full run: symtensor and PyTorch train whole epochs (469 and 938 steps);
// --quick: 100 steps, scaled, for both alike.  TensorFlow.js always trains a few steps, scaled
// (an epoch would take minutes to hours there).  Each round's untimed warm-up call trains
// WARMUP_STEPS steps (it compiles the programs and touches the data), not a whole epoch.
// Targets: model.fit <= 1.05x the hand-written steps' time (paired, same runner); <= 0.7x (MLP)
// and <= 0.4x (CNN) PyTorch's time; >= 100x faster than TensorFlow.js's fastest backend.  The CNN
// also reports its time against a GEMM bound: its FLOPs (fit-model.ts's stepFlops, about 1 GFLOP a
// step) at symtensor's SGEMM rate at n=1024.
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
 * The model layer's cost is measured in interleaved groups: a model.fit call, the same steps by
 * hand with `await f` and with `f.sync`, back to back, the order rotating from group to group,
 * `groups` times (in the model.fit runner's details, after timing; see pairedCost).  Unlike the
 * ratio of the two cases' medians, measured minutes apart, the calls of a group see the same load.
 */
// Many groups: on a loaded machine one group's ratio can be off by 20-40%, and only the median of
// many comes close.  Calls long enough that fit's fixed cost per call (about 3 ms here) stays
// within 1% of a call on an idle machine (MLP steps about 4 ms, CNN steps about 19 ms).
const PAIRED: Record<'quick' | 'full', Record<Net, { steps: number; groups: number }>> = {
  quick: { mlp: { steps: 25, groups: 5 }, cnn: { steps: 12, groups: 5 } },
  full: { mlp: { steps: 100, groups: 15 }, cnn: { steps: 25, groups: 15 } },
};
/** Steps of the short calls of each group (they measure fit's fixed cost per call). */
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

/** What the rows of the workload measure (printed under the table, kept in the JSON). */
const NOTES = [
  'fit rows: model.fit(x, y, { epochs: 1, batchSize, verbose: 0 }); each step is one `await` of the cached compiled step (a worker thread), gathering the batch rows natively from the whole data set; the call also checks the data, snapshots the weights and builds its callbacks',
  'by-hand rows: one st.fn doing what fit\'s step does per batch (gather the rows from the whole data set by index, forward, loss, backward, Adam, the running mean of the loss); symtensor-async calls it with `await f(...)` (fit\'s runner), symtensor with `f.sync`',
  'modelLayerCost = fit / by hand with the same runner (await), wall time of interleaved calls (median of the groups): the target.  modelLayerCostCpu = the same calls\' ratio of process CPU time (less moved by load).  fitVsHandSync = fit / by hand with f.sync and asyncRunnerCost = by hand await / f.sync (same calls), for reading: their difference is the async runner\'s cost, not the model layer\'s',
];

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
    label: `${LABEL[net]}, model.fit${scaled}`,
    flops: epochFlops(net),
    timing,
    requires: [graphId, ...(net === 'cnn' ? [SGEMM_ID] : [])],
    notes: NOTES,
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
      { metric: 'modelLayerCost', max: 1.05, text: 'model.fit <= 1.05x the same steps by hand, same (await) runner (interleaved calls)', unit: 'x' },
      { metric: 'timeVsTorch', max: net === 'mlp' ? 0.7 : 0.4, text: `epoch time <= ${net === 'mlp' ? 0.7 : 0.4}x PyTorch (PASSIVE)`, unit: 'x' },
      { metric: 'speedupVsTfjs', min: 100, text: 'epoch >= 100x faster than tfjs (fastest backend, scaled)', unit: 'x' },
    ],
  };
  const graphCase: Case = {
    id: graphId,
    workload: 'fit-epoch',
    label: `${LABEL[net]}, same step by hand${scaled}`,
    flops: epochFlops(net),
    timing,
    requires: [id, ...(net === 'cnn' ? [SGEMM_ID] : [])],
    impls: {
      symtensor: { inner: share, setup: ({ st }) => graphRunner(st, net, steps, quick, false) },
      'symtensor-async': { inner: share, setup: ({ st }) => graphRunner(st, net, steps, quick, true) },
    },
    metrics: (r, all) => ({
      timeVsTorch: ms(r, 'symtensor-async') / ms(all[id], 'torch'),
      timeVsTorchSync: ms(r, 'symtensor') / ms(all[id], 'torch'),
      asyncRunnerCostMedians: ms(r, 'symtensor-async') / ms(r, 'symtensor'),
      ...(net === 'cnn' ? { gemmBoundSgemm1024: gemmBound(net, ms(r, 'symtensor-async'), all) } : {}),
    }),
  };
  return [fitCase, graphCase];
}

/** Ratios of the model.fit case (time ratios: below 1, symtensor is faster; speedupVsTfjs above 1). */
function fitMetrics(net: Net, r: CaseResults, all: Record<string, CaseResults>): Record<string, number> {
  const fit = ms(r, 'symtensor');
  const tfjs = [ms(r, 'tfjs-wasm'), ms(r, 'tfjs-cpu')].filter(Number.isFinite);
  const st = r.symtensor;
  const paired = isTiming(st) ? (st.details as { paired?: Paired } | undefined)?.paired : undefined;
  return {
    modelLayerCost: paired?.ratio ?? NaN,
    fitVsHandSync: paired?.ratioVsSync ?? NaN,
    asyncRunnerCost: paired?.asyncRunnerCost ?? NaN,
    modelLayerCostCpu: paired?.cpuRatio ?? NaN,
    fitFixedMsPerCall: paired?.fitFixedMsPerCall ?? NaN,
    fitExtraMsPerStep: paired?.fitExtraMsPerStep ?? NaN,
    modelLayerCostMedians: fit / ms(all[`fit-epoch/${net}-graph`], 'symtensor-async'),
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
 * Losses seen by a runner, for the JSON: training must make the loss go down.  Both model.fit and
 * the hand-written step report the mean over the call's batches (Keras's log).
 */
function lossDetails(first: number, last: number): Record<string, unknown> {
  const out: Record<string, unknown> = { loss: 'epochMean', lossWarmup: first, lossLast: last };
  if (!Number.isFinite(last) || !(last < first)) out.warning = `loss did not go down (${first} -> ${last})`;
  return out;
}

/**
 * symtensor's model.fit: the first call of a round is the warm-up (WARMUP_STEPS), then epochs;
 * details add the interleaved comparison with the hand-written step (PAIRED).
 */
async function fitRunner(st: Any, net: Net, steps: number, paired: { steps: number; groups: number }): Promise<Runner> {
  const data = await fashionTrain(st, net);
  const model = stModel(st, net);
  const fit = fitCall(model, net, data);
  let calls = 0;
  let first = NaN;
  let last = NaN;
  return {
    run: async () => {
      if (calls++ === 0) first = await fit(WARMUP_STEPS);
      else last = await fit(steps);
    },
    details: async () => ({ ...lossDetails(first, last), paired: await pairedCost(st, net, data, paired) }),
    dispose: () => disposeModel(model),
  };
}

/** One model.fit call of `n` steps (a whole epoch when n is the epoch's steps); its mean loss. */
function fitCall(model: Any, net: Net, data: { x: Any; y: Any }): (n: number) => Promise<number> {
  return async (n) => {
    const h = await model.fit(data.x, data.y, {
      epochs: 1, batchSize: BATCH[net], verbose: 0, ...(n < stepsPerEpoch(net) ? { stepsPerEpoch: n } : {}),
    });
    return h.history.loss[0] as number;
  };
}

function disposeModel(model: Any): void {
  for (const v of [...model.weights, ...model.optimizer.variables()]) v.dispose();
}

/** The interleaved comparison's medians (see pairedCost). */
interface Paired {
  ratio: number;
  ratioVsSync: number;
  asyncRunnerCost: number;
  cpuRatio: number;
  fitFixedMsPerCall: number;
  fitExtraMsPerStep: number;
}

/**
 * Wall time of one call of `f` (ms), and the process's CPU time in it (ms, every thread): the CPU
 * time moves less with the machine's load than the wall time does, a second view of the same calls.
 */
async function timeMs(f: () => unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/**
 * model.fit calls against the same steps by hand (await f and f.sync) in interleaved groups (see
 * PAIRED).  The ratio of fit's `o.steps`-step calls to the await-by-hand ones (the same runner) is
 * the model layer's cost; fit's fixed cost per call (data checks, the weight snapshot it restores
 * on failure, the epoch order, its callbacks; its step is compiled on the first call only and
 * cached on the model) weighs more there than in an epoch, so it errs against fit.  The groups'
 * differences at PAIRED_SMALL and `o.steps` steps also split fit's extra time into a cost per call
 * and a cost per step (medians; noisy on a busy machine, for reading, not for targets).
 */
async function pairedCost(st: Any, net: Net, data: { x: Any; y: Any }, o: { steps: number; groups: number }) {
  // Three fresh models, one per kind of call, each trained exactly as many steps as the others, so
  // that the three calls of a group run the same workload at the same point of training (the timed
  // model.fit runner's model has trained whole epochs by now, the hand-written step's would not).
  const model = stModel(st, net);
  const fit = fitCall(model, net, data);
  const ga = stGraph(st, net, data, 2);
  const gs = stGraph(st, net, data, 2);
  try {
    await fit(WARMUP_STEPS);
    await ga.trainAsync(WARMUP_STEPS);
    gs.train(WARMUP_STEPS);
    const kinds = {
      fit: (n: number) => timeMs(() => fit(n)),
      hand: (n: number) => timeMs(() => ga.trainAsync(n)),
      sync: (n: number) => timeMs(() => gs.train(n)),
    };
    const names = Object.keys(kinds) as (keyof typeof kinds)[];
    type Row = { ratio: number; ratioVsSync: number; asyncRunnerCost: number; cpuRatio: number; fixedMs: number; extraMsPerStep: number; fitMs: number; handMs: number; syncMs: number };
    const rows: Row[] = [];
    for (let i = 0; i < o.groups; i++) {
      const t: Record<string, number> = {};
      const cpu: Record<string, number> = {};
      // rotate which goes first, so that a change of load within a group favours none of them
      const order = names.map((_, k) => names[(k + i) % names.length]);
      for (const n of [PAIRED_SMALL, o.steps]) {
        for (const k of order) {
          const m = await kinds[k](n);
          t[`${k}${n}`] = m.wall;
          cpu[`${k}${n}`] = m.cpu;
        }
      }
      const dSmall = t[`fit${PAIRED_SMALL}`] - t[`hand${PAIRED_SMALL}`];
      const dLong = t[`fit${o.steps}`] - t[`hand${o.steps}`];
      const extraMsPerStep = (dLong - dSmall) / (o.steps - PAIRED_SMALL);
      rows.push({
        ratio: t[`fit${o.steps}`] / t[`hand${o.steps}`],
        ratioVsSync: t[`fit${o.steps}`] / t[`sync${o.steps}`],
        asyncRunnerCost: t[`hand${o.steps}`] / t[`sync${o.steps}`],
        cpuRatio: cpu[`fit${o.steps}`] / cpu[`hand${o.steps}`],
        fixedMs: dSmall - PAIRED_SMALL * extraMsPerStep,
        extraMsPerStep,
        fitMs: t[`fit${o.steps}`],
        handMs: t[`hand${o.steps}`],
        syncMs: t[`sync${o.steps}`],
      });
    }
    const med = (k: keyof Row) => median(rows.map((r) => r[k]));
    return {
      steps: o.steps, smallSteps: PAIRED_SMALL, groups: o.groups,
      ratio: med('ratio'), ratioVsSync: med('ratioVsSync'), asyncRunnerCost: med('asyncRunnerCost'), cpuRatio: med('cpuRatio'),
      fitFixedMsPerCall: med('fixedMs'), fitExtraMsPerStep: med('extraMsPerStep'),
      fitMsPerStep: med('fitMs') / o.steps, handMsPerStep: med('handMs') / o.steps, syncMsPerStep: med('syncMs') / o.steps, rows,
    };
  } finally {
    ga.dispose();
    gs.dispose();
    disposeModel(model);
  }
}

/**
 * The hand-written step (`await f` when `async`, else f.sync): warm-up call first, then epochs;
 * the f.sync runner's details add a per-instruction profile.
 */
async function graphRunner(st: Any, net: Net, steps: number, quick: boolean, async: boolean): Promise<Runner> {
  const data = await fashionTrain(st, net);
  const g = stGraph(st, net, data);
  const train = async (n: number) => (async ? g.trainAsync(n, true) : g.train(n, true));
  let calls = 0;
  let first = NaN;
  let last = NaN;
  return {
    async run() {
      if (calls++ === 0) first = (await train(WARMUP_STEPS))!;
      else last = (await train(steps))!;
    },
    details: () => ({ ...lossDetails(first, last), ...(async ? {} : profileGraph(g, quick ? PROFILE_STEPS.quick : PROFILE_STEPS.full)) }),
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
