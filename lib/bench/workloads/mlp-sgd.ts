// One SGD training step of the MLP in mlp-model.ts (784-512-512-10, batch 128, lr 0.01).
// symtensor: one compiled st.fn with the SGD updates, called with f.sync (the 'symtensor' column)
// and with await f(...) (the 'symtensor-async' column).  Timed: the step; the returned loss is
// disposed unread (the peers do not read theirs either).
// A second case times the step's matrix products on their own (eager st.matmul, the same shapes
// and transposes): the step cannot be faster than that, so step / GEMMs is its distance from the
// bound.
// Targets: step <= 0.8x PyTorch's time (OMP_WAIT_POLICY=PASSIVE); step <= 1.3x its GEMMs.
import { performance } from 'node:perf_hooks';
import { Case, CaseResults, Libs, Workload, isTiming, median, ms } from '../harness';
import { BATCH, mlpFlops, pySpec, stMlp, stepGemms, tfMlp } from './mlp-model';

const STEP_FLOPS = mlpFlops(BATCH, true);

export const mlpSgd: Workload = {
  name: 'mlp-sgd',
  description: 'MLP 784-512-512-10 training step, batch 128, softmax cross-entropy, SGD',
  cases({ quick }) {
    const gemms: Case = {
      id: 'mlp-sgd/gemms',
      workload: 'mlp-sgd',
      label: `MLP step's 8 GEMMs (bound)`,
      flops: STEP_FLOPS,
      impls: { symtensor: { setup: ({ st }) => stGemms(st) } },
      py: { numpy: pySpec('mlp_gemms', BATCH) },
    };
    const step: Case = {
      id: 'mlp-sgd/b128',
      workload: 'mlp-sgd',
      label: 'MLP SGD step b128',
      flops: STEP_FLOPS,
      requires: ['mlp-sgd/gemms', 'sgemm/n=1024'],
      impls: {
        symtensor: { setup: ({ st }) => stStep(st, false, quick) },
        'symtensor-async': { setup: ({ st }) => stStep(st, true, quick) },
        'tfjs-wasm': tfjsStep('sgd', 5),
        'tfjs-cpu': tfjsStep('sgd', 3),
      },
      py: {
        numpy: pySpec('mlp_sgd', BATCH, { lr: 0.01 }),
        torch: pySpec('mlp_sgd', BATCH, { lr: 0.01 }),
        'torch-default': pySpec('mlp_sgd', BATCH, { lr: 0.01 }),
      },
      metrics: (r, all) => trainMetrics(r, all, 'mlp-sgd/gemms'),
      targets: [
        { metric: 'timeVsTorch', max: 0.8, text: 'step time <= 0.8x PyTorch (PASSIVE)', unit: 'x' },
        { metric: 'gemmBound', max: 1.3, text: 'step time <= 1.3x its GEMMs alone', unit: 'x' },
      ],
    };
    return [gemms, step];
  },
};

/** Ratios shared by the training workloads (time ratios: below 1 means symtensor is faster). */
export function trainMetrics(r: CaseResults, all: Record<string, CaseResults>, gemmId: string): Record<string, number> {
  const st = ms(r, 'symtensor');
  const sg = all['sgemm/n=1024']?.symtensor;
  const gf = isTiming(sg) ? sg.gflops ?? NaN : NaN;
  return {
    timeVsTorch: st / ms(r, 'torch'),
    timeVsTorchDefault: st / ms(r, 'torch-default'),
    timeVsNumpy: st / ms(r, 'numpy'),
    asyncVsSync: ms(r, 'symtensor-async') / st,
    gemmBound: st / ms(all[gemmId], 'symtensor'),
    gemmBoundNumpyGemms: st / ms(all[gemmId], 'numpy'),
    /** against FLOPs / symtensor's SGEMM rate at n=1024 */
    gemmBoundSgemm1024: st / (STEP_FLOPS / (gf * 1e6)),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** The step's GEMMs as eager st.matmul calls (outputs disposed). */
export function stGemms(st: Any) {
  const ops = stepGemms(BATCH).map(([m, k, n, ta, tb], i) => ({
    a: st.randomNormal(ta ? [k, m] : [m, k], { seed: 20 + i }),
    b: st.randomNormal(tb ? [n, k] : [k, n], { seed: 40 + i }),
    ta,
    tb,
  }));
  return {
    run() {
      for (const o of ops) st.matmul(o.a, o.b, o.ta, o.tb).dispose();
    },
    details() {
      // each product on its own (median of 15 samples of 5 calls), to set against the step's profile
      const shapes = ops.map((o, i) => {
        const [m, k, n, ta, tb] = stepGemms(BATCH)[i];
        const samples: number[] = [];
        for (let r = 0; r < 16; r++) {
          const t0 = performance.now();
          for (let q = 0; q < 5; q++) st.matmul(o.a, o.b, o.ta, o.tb).dispose();
          if (r > 0) samples.push((performance.now() - t0) / 5);
        }
        const msPerCall = median(samples);
        return { shape: `${m}x${k}x${n}${ta ? ' A^T' : ''}${tb ? ' B^T' : ''}`, msPerCall, gflops: (2 * m * k * n) / (msPerCall * 1e6) };
      });
      return { shapes };
    },
    dispose() {
      for (const o of ops) o.a.dispose(), o.b.dispose();
    },
  };
}

/** symtensor's compiled training step; `details` profiles a separate, profiled copy of it. */
export function stStep(st: Any, async: boolean, quick: boolean, optimizer: 'sgd' | 'adam' = 'sgd') {
  const m = stMlp(st, { batch: BATCH, optimizer });
  const first = m.step.sync(m.x, m.y);
  const loss0 = first.item();
  first.dispose();
  return {
    run: async
      ? async () => (await m.step(m.x, m.y)).dispose()
      : () => m.step.sync(m.x, m.y).dispose(),
    details() {
      const l = m.step.sync(m.x, m.y);
      const out: Record<string, unknown> = { lossFirst: loss0, lossAfter: l.item() };
      l.dispose();
      if (!Number.isFinite(out.lossAfter as number) || (out.lossAfter as number) >= loss0)
        out.warning = `loss did not go down (${loss0} -> ${out.lossAfter})`;
      if (!async) Object.assign(out, profileStep(st, quick ? 30 : 100, optimizer));
      return out;
    },
    dispose: () => m.dispose(),
  };
}

export interface ProfileRow {
  index: number;
  op: string;
  shapes: string;
  msPerCall: number;
  share: number;
}

/** Per-instruction times of the step (f.profile()), over `steps` calls after warm-up. */
export function profileStep(st: Any, steps: number, optimizer: 'sgd' | 'adam') {
  const m = stMlp(st, { batch: BATCH, optimizer, profile: true });
  try {
    for (let i = 0; i < 10; i++) m.step.sync(m.x, m.y).dispose();
    const before = m.step.profile();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) m.step.sync(m.x, m.y).dispose();
    const wallMs = (performance.now() - t0) / steps;
    const after = m.step.profile();
    const prog = m.step.program();
    const shape = (id: number) => `[${prog.slots[id].shape.join(',')}]`;
    const rows = after.map((e: Any, i: number) => ({
      index: e.index,
      op: e.op,
      shapes: `${prog.instrs[i].outputs.map(shape).join(',')} <- ${prog.instrs[i].inputs.map(shape).join(',')}`,
      msPerCall: (e.ms - before[i].ms) / steps,
    }));
    const total = rows.reduce((a: number, e: Any) => a + e.msPerCall, 0);
    const profile: ProfileRow[] = rows
      .map((e: Any) => ({ ...e, share: e.msPerCall / total }))
      .sort((a: ProfileRow, b: ProfileRow) => b.msPerCall - a.msPerCall);
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
      instructions: prog?.instrs.length,
      arenaBytes: prog?.arenaBytes,
    };
  } finally {
    m.dispose();
  }
}

export function tfjsStep(optimizer: 'sgd' | 'adam', reps: number) {
  return {
    reps,
    warmup: 1,
    setup({ tf }: Libs) {
      const m = tfMlp(tf, { batch: BATCH, optimizer });
      return { run: () => m.step(), dispose: () => m.dispose() };
    },
  };
}
