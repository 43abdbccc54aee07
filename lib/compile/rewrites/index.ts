// The rewrite database: every phase and its rewrites, in the order they run.  Nothing registers
// itself by being imported; a rewrite runs only if it is listed here.
import { PhaseList, Rewrite, GlobalRewrite } from '../../graph/rewrite';
import { stabilizeRules } from '../../graph/stabilize';
import { merge } from './merge';
import { constantFolding } from './constant-folding';
import { addIdentity, castSame, divIdentity, logExp, mulIdentity, negNeg, subIdentity, subSelf } from './algebraic';
import { removeNoopReshape, removeStopGradient, reshapeReshape } from './noop-shape';
import { gemmAccumulate, gemmEpilogue } from './gemm-epilogue';
import { maxPoolGradRelu } from './pool-relu-grad';
import { convEpilogue } from './conv-epilogue';
import { elementwiseFusion } from './fusion';

/** canonicalize → stabilize → specialize → fusion.  Within a phase: whole-graph rewrites first, then local ones in this order. */
export const PHASES: PhaseList[] = [
  {
    phase: 'canonicalize',
    rewrites: [
      merge, constantFolding, mulIdentity, addIdentity, subIdentity, divIdentity, negNeg, logExp, subSelf, castSame,
      removeNoopReshape, reshapeReshape, removeStopGradient,
    ],
  },
  { phase: 'stabilize', rewrites: [...stabilizeRules] },
  { phase: 'specialize', rewrites: [merge, gemmEpilogue, convEpilogue, gemmAccumulate, maxPoolGradRelu] },
  { phase: 'fusion', rewrites: [merge, elementwiseFusion] },
];

/** Every rewrite, once each (for excludeRewrites and tests). */
export function allRewrites(): (Rewrite | GlobalRewrite)[] {
  return [...new Set(PHASES.flatMap((p) => p.rewrites))];
}
