// A Scan in a compiled program: the step's optimized graph lowered once as the body of a native
// LOOP.  The body's inputs are VIEW slots that the loop points, before every step, at the current
// row of each sequence and at the earlier rows of each state; the instructions computing the
// step's outputs write straight into the row of the stacked result (or of a two-row buffer, for a
// state whose final value alone is kept).  The program never returns to JavaScript between steps.
import { DType } from '../dtype';
import { SymtensorError } from '../errors';
import { NativeBuffer } from '../native';
import { Op as NativeOp, SLOT } from '../ops.generated';
import type { Emitter, Val } from '../tensor/emitter';
import { castAttrs } from '../tensor/elementwise';
import { sizeOf } from '../tensor/shape-util';
import { Apply, Constant, Variable, VarType } from '../graph/variable';
import { FunctionGraph } from '../graph/fgraph';
import { optimize } from '../graph/rewrite';
import { IfElse } from '../graph/ops/control';
import { Scan, mOf, setScanLowerer } from '../graph/ops/scan';
import { PHASES } from './rewrites';
import type { Instr, Slot } from './lower';

/** What the loop needs of the program builder's recorder (lower.ts). */
interface Recorder extends Emitter<Slot> {
  slots: Slot[];
  instrs: Instr[];
  node: Apply | null;
  slot(shape: number[], dtype: DType, kind: number, bound?: NativeBuffer | null, group?: number): Slot;
}

const isRecorder = (em: unknown): em is Recorder =>
  typeof em === 'object' && em !== null && Array.isArray((em as Recorder).instrs) && Array.isArray((em as Recorder).slots) && typeof (em as Recorder).slot === 'function';

const bytesOf = (dtype: DType) => (dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4);

/** The step's graph, optimized once per Scan op (like any function's graph). */
const optimized = new WeakMap<Scan, FunctionGraph>();
function stepGraph(op: Scan): FunctionGraph {
  let fg = optimized.get(op);
  if (!fg) {
    fg = optimize(new FunctionGraph(op.innerInputs, op.innerOutputs), PHASES);
    for (const n of fg.nodes())
      if (n.op instanceof IfElse) throw new SymtensorError('ERR_ST_ARG', op.spec.name, `ifelse inside a scan step is not supported yet (use T.where) (node built at ${n.trace})`);
    optimized.set(op, fg);
  }
  return fg;
}

/** Concrete types of the step's variables, from the outer slots' types. */
function stepTypes(op: Scan, fg: FunctionGraph, inputs: Slot[]): Map<Variable, VarType> {
  const inner = op.innerTypes(inputs.map((s) => ({ dtype: s.dtype, shape: s.shape, known: s.known })));
  const types = new Map<Variable, VarType>();
  fg.inputs.forEach((v, i) => types.set(v, inner[i]));
  const typeOf = (v: Variable) => types.get(v) ?? v.type;
  for (const node of fg.nodes()) {
    const outs = node.op.infer(node.inputs.map(typeOf));
    node.outputs.forEach((o, k) => types.set(o, outs[k]));
  }
  return types;
}

function lowerLoop<V extends Val>(em: Emitter<V>, ins: V[], node: Apply): V[] | null {
  if (!isRecorder(em)) return null;
  const rec = em;
  const inputs = ins as unknown as Slot[];
  const op = node.op as Scan;
  const s = op.spec;
  const { seq0, init0, nonSeq0 } = op.layout;
  const n = op.steps(inputs.map((v) => ({ dtype: v.dtype, shape: v.shape, known: v.known })));
  if (n === null) throw new SymtensorError('ERR_ST_SHAPE', s.name, `the number of steps is only known when the function runs; nSteps must be computed from shapes and constants (node built at ${node.trace})`);
  const fg = stepGraph(op);
  const types = stepTypes(op, fg, inputs);
  const label = s.name;

  // buffers: every state's rows ([m + N] or two), every per-step output's [N]
  const outTypes = node.outputs.map((_, k) => ({ dtype: k < s.states.length ? inputs[init0 + k].dtype : (types.get(fg.outputs[k])!.dtype as DType) }));
  const stateBuf = s.states.map((st, r) => {
    const init = inputs[init0 + r];
    const rowShape = init.shape.slice(1);
    return rec.slot([st.mode === 'last' ? 2 : mOf(st) + n, ...rowShape], init.dtype, SLOT.temp);
  });
  const perStepBuf = Array.from({ length: s.nPerStep }, (_, y) => {
    const t = types.get(fg.outputs[s.states.length + y])!;
    return rec.slot([n, ...(t.shape as number[])], outTypes[s.states.length + y].dtype, SLOT.temp);
  });
  const lastOut = s.states.map((st, r) => (st.mode === 'last' ? rec.slot(inputs[init0 + r].shape.slice(1), inputs[init0 + r].dtype, SLOT.temp) : null));

  // views: (view, base, start, step, mod)
  const views: number[][] = [];
  const view = (base: Slot, shape: number[], start: number, step: number, mod = 0): Slot => {
    const v = rec.slot(shape, base.dtype, SLOT.view);
    views.push([v.id, base.id, start, step, mod]);
    return v;
  };
  const slotOf = new Map<Variable, Slot>();
  s.seqs.forEach((q, i) => {
    const x = inputs[seq0 + i];
    const L = x.shape[0];
    const [start, step] = !s.reverse ? (q.fromEnd ? [L - 1 - q.offset, -1] : [q.offset, 1]) : q.fromEnd ? [L - n - q.offset, 1] : [n - 1 + q.offset, -1];
    slotOf.set(fg.inputs[i], view(x, x.shape.slice(1), start, step));
  });
  const stateOut: Slot[] = [];
  s.states.forEach((st, r) => {
    const buf = stateBuf[r], m = mOf(st), b = op.tapBase(r), rowShape = buf.shape.slice(1);
    st.taps.forEach((k, t) => slotOf.set(fg.inputs[b + t], st.mode === 'last' ? view(buf, rowShape, 0, 1, 2) : view(buf, rowShape, m + k, 1)));
    stateOut.push(st.mode === 'last' ? view(buf, rowShape, 1, 1, 2) : view(buf, rowShape, m, 1));
  });
  const perStepOut = perStepBuf.map((buf) => view(buf, buf.shape.slice(1), s.reverse ? n - 1 : 0, s.reverse ? -1 : 1));
  for (let p = 0; p < s.nNonSeqs; p++) slotOf.set(fg.inputs[fg.inputs.length - s.nNonSeqs + p], inputs[nonSeq0 + p]);

  const rowBytes = (sl: Slot) => sizeOf(sl.shape.slice(1)) * bytesOf(sl.dtype);
  const beginCopies = s.states.map((st, r) => [stateBuf[r].id, 0, inputs[init0 + r].id, 0, (st.mode === 'last' ? 1 : mOf(st)) * rowBytes(stateBuf[r])]);
  const endCopies = s.states.flatMap((st, r) => (st.mode === 'last' ? [[lastOut[r]!.id, 0, stateBuf[r].id, (n % 2) * rowBytes(stateBuf[r]), rowBytes(stateBuf[r])]] : []));

  const loopAt = rec.instrs.length;
  const firstBodySlot = rec.slots.length;
  rec.instrs.push({ opcode: NativeOp.LOOP, inputs: [], outputs: [], iattr: [], fattr: [], node, label: `${label}.loop` });

  // the body: the step's nodes, in order
  const constSlot = (c: Constant) => rec.slot(c.staticShape as number[], c.dtype, SLOT.bound, c.value.buffer('fn'));
  const get = (v: Variable): Slot => {
    let sl = slotOf.get(v);
    if (sl) return sl;
    if (v instanceof Constant) sl = constSlot(v);
    else throw new SymtensorError('ERR_ST_INTERNAL', s.name, `no value for ${v.describe()} in the step`);
    slotOf.set(v, sl);
    return sl;
  };
  for (const nd of fg.nodes()) {
    const args = nd.inputs.map(get);
    nd.inputs.forEach((v, i) => {
      const k = types.get(v)?.known ?? v.known;
      if (k && k.every((d) => d !== null) && args[i].kind !== SLOT.view) args[i].known = k as number[];
    });
    rec.node = node;
    nd.op.lower(rec, args, nd).forEach((o, k) => slotOf.set(nd.outputs[k], o));
  }
  // the step's outputs land in their rows: the instruction computing each writes the row itself
  // when nothing else shares its slot, else a copy does
  const targets = [...stateOut, ...perStepOut];
  const groupSize = new Map<number, number>();
  for (const sl of rec.slots) groupSize.set(sl.group, (groupSize.get(sl.group) ?? 0) + 1);
  const retargeted = new Set<number>();
  fg.outputs.forEach((v, k) => {
    const src = get(v), dst = targets[k];
    let writer = -1;
    for (let i = rec.instrs.length - 1; i > loopAt && writer < 0; i--) if (rec.instrs[i].outputs.includes(src.id)) writer = i;
    if (src.kind === SLOT.temp && src.id >= firstBodySlot && groupSize.get(src.group) === 1 && !retargeted.has(src.id) && writer > loopAt && src.dtype === dst.dtype) {
      for (let i = loopAt + 1; i < rec.instrs.length; i++) {
        const ins = rec.instrs[i];
        ins.inputs = ins.inputs.map((id) => (id === src.id ? dst.id : id));
        ins.outputs = ins.outputs.map((id) => (id === src.id ? dst.id : id));
      }
      retargeted.add(src.id);
      slotOf.set(v, dst);
    } else {
      const { iattr, fattr } = castAttrs(src.dtype, dst.dtype);
      rec.instrs.push({ opcode: NativeOp.ELEMWISE, inputs: [src.id], outputs: [dst.id], iattr, fattr, node, label: `${label}.output` });
    }
  });

  // what the body reads from outside stays live until the loop ends (listed on LOOP_END)
  const outer = new Set<number>();
  for (let i = loopAt + 1; i < rec.instrs.length; i++)
    for (const id of [...rec.instrs[i].inputs, ...rec.instrs[i].outputs]) if (id < firstBodySlot && rec.slots[id].kind !== SLOT.view) outer.add(id);
  const bufs = [...stateBuf.map((b) => b.id), ...perStepBuf.map((b) => b.id)];
  const reads = [...new Set([...outer, ...inputs.map((x) => x.id)])].filter((id) => rec.slots[id].kind !== SLOT.view);
  const end = rec.instrs.length;
  rec.instrs[loopAt] = {
    ...rec.instrs[loopAt],
    inputs: reads,
    outputs: bufs,
    iattr: [end, n, views.length, beginCopies.length, ...views.flat(), ...beginCopies.flat()],
  };
  rec.instrs.push({ opcode: NativeOp.LOOP_END, inputs: [...reads, ...bufs], outputs: lastOut.filter((x): x is Slot => x !== null).map((x) => x.id), iattr: [loopAt, endCopies.length, ...endCopies.flat()], fattr: [], node, label: `${label}.end` });
  rec.node = node;
  return s.states.map((st, r) => (st.mode === 'last' ? lastOut[r]! : stateBuf[r])).concat(perStepBuf) as unknown as V[];
}

setScanLowerer(lowerLoop);
