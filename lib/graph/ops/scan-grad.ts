// The gradient of a Scan: another Scan that runs the steps backwards (backpropagation through
// time).  Each backward step differentiates the forward step (its graph, with the stored forward
// states substituted for the recomputed ones), carries the gradients of the states it reads to
// the steps before, and sums the non-sequences' gradients over the steps.
import { backpropagate } from '../grad';
import { SliceSpec, incSubtensor, subtensor } from '../indexing';
import { shapeDim } from '../symbolic-shape';
import { toposort } from '../traverse';
import { Apply, Constant, InputVariable, Variable, applyOp } from '../variable';
import { tensor } from '../../tensor/creation';
import { ew } from './elemwise';
import { zerosLike } from './subtensor';
import { Cast, Concat, DimShuffle, Reshape } from './shape';
import { MatMul } from './linalg';
import { Arange } from './shape-values';
import { Scan, ScanSpec, SeqSpec, StateSpec, mOf, setScanGrad } from './scan';
import { isFloat } from '../../dtype';
import { applyOp1 } from '../variable';

/** A fresh stand-in for a step input of v's type. */
const placeholder = (v: { dtype: Variable['dtype']; staticShape: Variable['staticShape'] }, name: string) =>
  new InputVariable({ dtype: v.dtype, shape: v.staticShape }, null, 0, name);

/** Copies the graph above outputs with the variables in map replaced (map grows with the copies). */
export function cloneWith(outputs: Variable[], map: Map<Variable, Variable>): Variable[] {
  for (const node of toposort(outputs, (v) => map.has(v))) {
    const ins = node.inputs.map((i) => map.get(i) ?? i);
    if (ins.every((v, k) => v === node.inputs[k])) continue;
    const outs = new Apply(node.op, ins, node.outputs.map((o) => o.type), node.trace).outputs;
    node.outputs.forEach((o, k) => map.set(o, outs[k]));
  }
  return outputs.map((o) => map.get(o) ?? o);
}

const intConst = (n: number) => new Constant(tensor(n, { dtype: 'int32' }));
const expand = (v: Variable) => applyOp1(new DimShuffle(['x', ...v.staticShape.map((_, i) => i)]), [v]);
const row = (v: Variable, i: number) => subtensor(v, [i]);

function scanGrad(node: Apply, gOut: (Variable | null)[]): (Variable | null)[] {
  const op = node.op as Scan;
  const s = op.spec;
  const { seq0, init0, nonSeq0 } = op.layout;
  const R = s.states.length;
  // every forward state is needed, not only the last: a scan that keeps only its final states is run again keeping all
  let full = node.outputs.slice(0, R);
  let perStep = node.outputs.slice(R);
  if (s.states.some((st) => st.mode === 'last')) {
    const allSpec: ScanSpec = { ...s, states: s.states.map((st) => ({ ...st, mode: 'all' as const })) };
    const outs = applyOp(new Scan(allSpec, op.innerInputs, op.innerOutputs), node.inputs);
    full = outs.slice(0, R);
    perStep = outs.slice(R);
  }
  const nSteps = R ? ew('sub', [shapeDim(full[0], 0), mOf(s.states[0])]) : shapeDim(perStep[0], 0);
  const rowSpec = (m: number, k: number): SeqSpec => (s.reverse ? { offset: -k, fromEnd: true } : { offset: m + k, fromEnd: false });

  // the backward step's inputs, in Scan's order: sequences, states' taps, non-sequences
  const seqOuter: Variable[] = [], seqSpecs: SeqSpec[] = [], seqInner: Variable[] = [];
  const addSeq = (outer: Variable, spec: SeqSpec, like: { dtype: Variable['dtype']; staticShape: Variable['staticShape'] }, name: string) => {
    const p = placeholder(like, name);
    seqOuter.push(outer), seqSpecs.push(spec), seqInner.push(p);
    return p;
  };
  const map = new Map<Variable, Variable>();
  s.seqs.forEach((q, i) => map.set(op.innerInputs[i], addSeq(node.inputs[seq0 + i], q, op.innerInputs[i], `x${i}`)));
  const newRow: Variable[] = [];
  const gRow: (Variable | null)[] = [];
  s.states.forEach((st, r) => {
    const m = mOf(st), b = op.tapBase(r);
    st.taps.forEach((k, t) => map.set(op.innerInputs[b + t], addSeq(full[r], rowSpec(m, k), op.innerInputs[b + t], `s${r}[${k}]`)));
    newRow.push(addSeq(full[r], rowSpec(m, 0), op.innerOutputs[r], `s${r}`));
    const g = gOut[r];
    gRow.push(g && st.mode === 'all' ? addSeq(g, rowSpec(m, 0), op.innerOutputs[r], `g${r}`) : null);
  });
  const gY: (Variable | null)[] = perStep.map((_, y) => {
    const g = gOut[R + y];
    return g ? addSeq(g, { offset: 0, fromEnd: false }, op.innerOutputs[R + y], `gy${y}`) : null;
  });
  // truncated backpropagation through time (Theano's truncate_gradient = K): only the last K
  // iterations pass gradients back; a per-iteration 0/1 sequence scales each backward step's seeds
  let keep: Variable | null = null;
  if (s.truncateGradient >= 0) {
    const iteration = applyOp1(new Arange('int32'), [intConst(0), nSteps, intConst(1)]);
    const mask = applyOp1(new Cast('float64'), [ew('greaterEqual', [iteration, ew('sub', [nSteps, intConst(s.truncateGradient)])])]);
    keep = addSeq(mask, { offset: 0, fromEnd: false }, { dtype: 'float64', staticShape: [] }, 'keep');
  }
  const kept = (g: Variable) => (keep ? ew('mul', [g, applyOp1(new Cast(g.dtype), [keep])]) : g);

  // carried states: per forward state, the pending gradients of its next m rows; per float
  // non-sequence, the sum of its gradients so far
  const nonSeqInner = op.innerInputs.slice(op.innerInputs.length - s.nNonSeqs);
  const nonSeqOuter = node.inputs.slice(nonSeq0, nonSeq0 + s.nNonSeqs);
  const carry = s.states.map((st, r) => {
    const m = mOf(st);
    const like = op.innerOutputs[r];
    return m === 1 ? placeholder(like, `c${r}`) : new InputVariable({ dtype: like.dtype, shape: [m, ...like.staticShape] }, null, 0, `c${r}`);
  });
  const accIdx = nonSeqInner.map((v, p) => p).filter((p) => isFloat(nonSeqInner[p].dtype));
  const acc = accIdx.map((p) => placeholder(nonSeqInner[p], `a${p}`));
  const nonSeqNew = nonSeqInner.map((v, p) => placeholder(v, `p${p}`));
  nonSeqInner.forEach((v, p) => map.set(v, nonSeqNew[p]));

  // the forward step again, on the backward step's inputs; its gradients from the seeds
  const again = cloneWith(op.innerOutputs, map);
  const seeds: [Variable, Variable][] = [];
  s.states.forEach((st, r) => {
    const c = mOf(st) === 1 ? carry[r] : row(carry[r], mOf(st) - 1);
    const g = gRow[r];
    seeds.push([again[r], kept(g ? ew('add', [g, c]) : c)]);
  });
  gY.forEach((g, y) => g && seeds.push([again[R + y], kept(g)]));
  const wrt = [...s.seqs.map((_, i) => map.get(op.innerInputs[i])!), ...s.states.flatMap((st, r) => st.taps.map((_, t) => map.get(op.innerInputs[op.tapBase(r) + t])!)), ...nonSeqNew];
  const grads = backpropagate(seeds, wrt);
  // read the stored states instead of recomputing them (one map for every gradient, so the parts
  // they share are copied once)
  const stored = new Map<Variable, Variable>(s.states.map((_, r) => [again[r], newRow[r]]));
  const copies = new Map(stored);
  const gradOf = (v: Variable): Variable | null => {
    const g = grads.get(v);
    return g ? cloneWith([g], copies)[0] : null;
  };

  const carryNew = s.states.map((st, r) => {
    const m = mOf(st), b = op.tapBase(r);
    const tapGrad = (k: number) => {
      const t = st.taps.indexOf(k);
      return t < 0 ? null : gradOf(map.get(op.innerInputs[b + t])!);
    };
    if (m === 1) return tapGrad(-1) ?? zerosLike(carry[r]);
    const rows = Array.from({ length: m }, (_, j) => {
      const prev = j >= 1 ? row(carry[r], j - 1) : null;
      const mine = tapGrad(j - m);
      const v = prev && mine ? ew('add', [prev, mine]) : prev ?? mine ?? zerosLike(row(carry[r], 0));
      return expand(v);
    });
    return applyOp1(new Concat(0), rows);
  });
  const seqGradIdx = s.seqs.map((_, i) => i).filter((i) => isFloat(seqInner[i].dtype) && grads.has(wrt[i]));
  const seqGrads = seqGradIdx.map((i) => gradOf(wrt[i])!);
  // a non-sequence whose step gradient is one product A_tᵀ·B_t (a recurrent kernel's) is summed
  // after the loop as one GEMM over every step's rows; the loop only hands out A_t and B_t
  const perStepOut = seqGrads.slice();
  const outIndex = (v: Variable) => {
    const k = perStepOut.indexOf(v);
    return k >= 0 ? k : perStepOut.push(v) - 1;
  };
  const hoisted = new Map<number, [number, number, number, number]>(); // accumulator → rows of A, B; widths of A, B
  const loopAcc: number[] = [];
  const accNew: Variable[] = [];
  accIdx.forEach((p, a) => {
    const g = gradOf(nonSeqNew[p]);
    const prod = g ? productTerms(g) : null;
    if (prod) return void hoisted.set(a, [outIndex(prod[0]), outIndex(prod[1]), prod[2], prod[3]]);
    loopAcc.push(a);
    accNew.push(g ? ew('add', [acc[a], g]) : acc[a]);
  });
  const accLoop = loopAcc.map((a) => acc[a]);

  const states: StateSpec[] = [...carry, ...accLoop].map(() => ({ taps: [-1], mode: 'last' }));
  const spec: ScanSpec = {
    seqs: seqSpecs,
    states,
    nPerStep: perStepOut.length,
    nNonSeqs: s.nNonSeqs,
    hasNSteps: true,
    reverse: !s.reverse,
    truncateGradient: -1,
    name: `${s.name}.grad`,
  };
  const inits = [
    ...s.states.map((st, r) => {
      const g = gOut[r];
      if (st.mode === 'last' && g) return expand(g);
      const z = zerosLike(node.inputs[init0 + r]);
      return mOf(st) === 1 ? z : expand(z);
    }),
    ...loopAcc.map((a) => expand(zerosLike(nonSeqOuter[accIdx[a]]))),
  ];
  const back = new Scan(spec, [...seqInner, ...carry, ...accLoop, ...nonSeqNew], [...carryNew, ...accNew, ...perStepOut]);
  const outs = applyOp(back, [nSteps, ...seqOuter, ...inits, ...nonSeqOuter]);
  const stepOut = (k: number) => outs[R + accLoop.length + k];

  const result: (Variable | null)[] = node.inputs.map(() => null);
  s.states.forEach((st, r) => {
    const m = mOf(st);
    let g = m === 1 ? expand(outs[r]) : outs[r];
    const gFull = gOut[r];
    if (gFull && st.mode === 'all') g = ew('add', [g, subtensor(gFull, [new SliceSpec(0, m)])]);
    result[init0 + r] = g;
  });
  loopAcc.forEach((a, k) => (result[nonSeq0 + accIdx[a]] = outs[R + k]));
  hoisted.forEach(([ka, kb, wa, wb], a) => {
    // Σ_t A_tᵀ·B_t = (A_1; …; A_T)ᵀ·(B_1; …; B_T): the steps' rows stacked
    const rowsOf = (v: Variable, w: number) => applyOp1(new Reshape([-1, w]), [v]);
    result[nonSeq0 + accIdx[a]] = applyOp1(new MatMul(true, false), [rowsOf(stepOut(ka), wa), rowsOf(stepOut(kb), wb)]);
  });
  seqGradIdx.forEach((i, k) => {
    const q = s.seqs[i];
    let g = stepOut(k);
    if (q.fromEnd) g = subtensor(g, [new SliceSpec(null, null, -1)]);
    const x = node.inputs[seq0 + i];
    // the rows the steps read are all of x when one sequence alone sets the step count
    if (!s.hasNSteps && s.seqs.length === 1 && q.offset === 0) return void (result[seq0 + i] = g);
    const L = shapeDim(x, 0);
    const start = q.fromEnd ? ew('sub', [ew('sub', [L, nSteps]), q.offset]) : q.offset;
    const stop = typeof start === 'number' ? ew('add', [nSteps, start]) : ew('add', [start, nSteps]);
    result[seq0 + i] = incSubtensor(subtensor(zerosLike(x), [new SliceSpec(start, stop)]), g);
  });
  return result;
}

/** [A, B, widthA, widthB] when g is the product AᵀB of two matrices of known widths; null otherwise. */
function productTerms(g: Variable): [Variable, Variable, number, number] | null {
  const node = g.owner;
  if (!node || !(node.op instanceof MatMul) || !node.op.transA || node.op.transB) return null;
  const [a, b] = node.inputs;
  const wa = a.staticShape[1], wb = b.staticShape[1];
  if (a.staticShape.length !== 2 || b.staticShape.length !== 2 || wa === null || wb === null) return null;
  if (a.dtype !== g.dtype || b.dtype !== g.dtype) return null;
  return [a, b, wa, wb];
}

setScanGrad(scanGrad);
