// Lowering: a FunctionGraph specialized to concrete input shapes becomes a Program description —
// instructions over slots, with a memory plan — that the native executor runs in one call.
import { DType, DTYPE_CODE } from '../dtype';
import { SymtensorError, fmtShape } from '../errors';
import { NativeBuffer } from '../native';
import { Op as NativeOp, SLOT } from '../ops.generated';
import { Emitter, Val } from '../tensor/emitter';
import { OutSpec } from '../tensor/tensor';
import { castAttrs } from '../tensor/elementwise';
import { sizeOf, stridesOf } from '../tensor/shape-util';
import { Apply, Constant, Variable } from '../graph/variable';
import { IfElse } from '../graph/ops/control';
import { SharedVariable } from '../graph/shared';
import { FunctionGraph } from '../graph/fgraph';
import { planMemory } from './memory-plan';
import { typeError } from './specialize';
import { branchOwnership, inPlaceUpdates } from './placement';
import { overlapAllreduces } from './overlap';
import './scan-lower'; // installs the native loop for Scan nodes

export { SLOT };

export class Slot implements Val {
  constructor(
    readonly id: number,
    readonly shape: number[],
    readonly dtype: DType,
    public kind: number,
    /** Storage group (temps that alias one buffer share it). */
    readonly group: number,
    readonly bound: NativeBuffer | null = null,
  ) {}
  /** The values, where specialization knows them (VarType.known). */
  known?: number[];
  /** The size of the slot's data in bytes. */
  get bytes(): number {
    return sizeOf(this.shape) * (this.dtype === 'float64' ? 8 : this.dtype === 'bool' ? 1 : 4);
  }
}

/** One instruction of a lowered program: opcode, slot ids and attributes. */
export interface Instr {
  opcode: number;
  inputs: number[];
  outputs: number[];
  iattr: number[];
  fattr: number[];
  /** The graph node it computes (for errors and profiles) and a label. */
  node: Apply | null;
  label: string;
}

/**
 * A lowered program, as f.program() shows it: slots, instructions, the memory plan and the bindings of inputs, outputs and shared variables.
 */
export interface ProgramDesc {
  slots: Slot[];
  instrs: Instr[];
  copies: [number, number][];
  arenaBytes: number;
  offsets: Map<number, number>;
  /** Output slot ids in the function's output order. */
  outputSlots: number[];
  inputSlots: number[];
  /** The shared variable or constant each bound slot holds. */
  boundVars: [number, Variable][];
}

/** Records instructions instead of running them. */
class Recorder implements Emitter<Slot> {
  slots: Slot[] = [];
  instrs: Instr[] = [];
  node: Apply | null = null;
  /** When set, the next instruction writes its outputs here: in-place updates. */
  into: Slot[] | null = null;
  private nextGroup = 0;

  slot(shape: number[], dtype: DType, kind: number, bound: NativeBuffer | null = null, group?: number): Slot {
    const s = new Slot(this.slots.length, shape.slice(), dtype, kind, group ?? this.nextGroup++, bound);
    this.slots.push(s);
    return s;
  }
  emit(op: string, opcode: number, inputs: Slot[], outs: OutSpec[], iattr: number[] = [], fattr: number[] = []): Slot[] {
    const into = this.into;
    this.into = null;
    const o = into && outs.length === into.length ? into : outs.map((spec) => this.slot(spec.shape, spec.dtype, SLOT.temp));
    this.instrs.push({ opcode, inputs: inputs.map((s) => s.id), outputs: o.map((s) => s.id), iattr: iattr.slice(), fattr: fattr.slice(), node: this.node, label: op });
    return o;
  }
  view(v: Slot, shape: number[], op: string): Slot {
    if (v.kind === SLOT.temp) return this.slot(shape, v.dtype, SLOT.temp, null, v.group);
    // inputs and bound buffers cannot alias arena memory: copy
    return this.emit(op, NativeOp.COPY, [v], [{ dtype: v.dtype, shape }], [0, ...stridesOf(shape)])[0];
  }
  release(): void {}
  /** dst = src converted to dst's dtype. */
  copy(src: Slot, dst: Slot, label: string): void {
    const { iattr, fattr } = castAttrs(src.dtype, dst.dtype);
    this.instrs.push({ opcode: NativeOp.ELEMWISE, inputs: [src.id], outputs: [dst.id], iattr, fattr, node: this.node, label });
  }
}

/**
 * Lowers a specialized graph.  inputs: the function's inputs (INPUT slots, in order); outputs
 * and updates ([shared, value]) as in fn().
 */
export function lower(
  fg: FunctionGraph,
  types: Map<Variable, { dtype: DType; shape: number[]; known?: (number | null)[] }>,
  nOutputs: number,
  updates: [SharedVariable, number][],
): ProgramDesc {
  const rec = new Recorder();
  const slotOf = new Map<Variable, Slot>();
  const inputSlots = fg.inputs.map((v) => {
    const t = types.get(v)!;
    const s = rec.slot(t.shape, t.dtype, SLOT.input);
    slotOf.set(v, s);
    return s.id;
  });
  const boundVars: [number, Variable][] = [];
  const get = (v: Variable): Slot => {
    let s = slotOf.get(v);
    if (s) return s;
    if (v instanceof SharedVariable) s = rec.slot(v.staticShape as number[], v.dtype, SLOT.bound, v.storage.buffer('fn'));
    else if (v instanceof Constant) s = rec.slot(v.staticShape as number[], v.dtype, SLOT.bound, v.value.buffer('fn'));
    else throw new SymtensorError('ERR_ST_INTERNAL', 'lower', `no value for ${v.describe()}`);
    slotOf.set(v, s);
    boundVars.push([s.id, v]);
    return s;
  };

  const updateVars = updates.map(([, k]) => fg.outputs[nOutputs + k]);
  const owner = branchOwnership(fg);
  const inPlace = inPlaceUpdates(fg, nOutputs, updates, updateVars, types);
  const nodes = fg.nodes().filter((n) => !inPlace.has(n));
  const lowerNode = (node: Apply) => {
    rec.node = node;
    const ins = node.inputs.map(get);
    node.inputs.forEach((v, i) => {
      const k = types.get(v)?.known ?? v.known;
      if (k && k.every((d) => d !== null)) ins[i].known = k as number[];
    });
    const outs = node.op.lower(rec, ins, node);
    const stand = stands.get(node);
    node.outputs.forEach((o, k) => {
      const want = types.get(o)!;
      if (outs[k].dtype !== want.dtype || outs[k].shape.length !== want.shape.length || outs[k].shape.some((d, j) => d !== want.shape[j]))
        throw typeError(node, `lowered to ${fmtShape(outs[k].shape)} ${outs[k].dtype}, expected ${fmtShape(want.shape)} ${want.dtype}`);
      slotOf.set(o, outs[k]);
      if (stand) slotOf.set(stand[k], outs[k]);
    });
  };
  let stands = new Map<Apply, Variable[]>();
  // the nodes of each branch (index 0: those outside every branch), in topological order
  const branches = new Map<Apply | null, Apply[][]>();
  for (const n of nodes) {
    const o = owner.get(n);
    const lists = branches.get(o?.ifelse ?? null) ?? [[], [], []];
    branches.set(o?.ifelse ?? null, lists);
    lists[o?.branch ?? 0].push(n);
  }
  // reductions overlapped with the instructions after them (top level only)
  const top = branches.get(null);
  if (top) ({ list: top[0], stands } = overlapAllreduces(top[0], fg, types, new Set(owner.keys())));
  // An ifelse is JUMP_IF_FALSE, its then-branch, a copy, JUMP, its else-branch, a copy.  Branches
  // nest as deep as the user's ifelses do: a stack of steps, not recursion.
  type Step = { node: Apply; stage: 'node' | 'then' | 'else'; out?: Slot; jump?: number };
  const steps: Step[] = [];
  const pushBranch = (ie: Apply | null, branch: 0 | 1 | 2, after?: Step) => {
    if (after) steps.push(after);
    const list = branches.get(ie)?.[branch] ?? [];
    for (let i = list.length - 1; i >= 0; i--) steps.push({ node: list[i], stage: 'node' });
  };
  const jump = (opcode: number, node: Apply, inputs: number[]) =>
    rec.instrs.push({ opcode, inputs, outputs: [], iattr: [0], fattr: [], node, label: 'ifelse' }) - 1;
  const beginIfElse = (node: Apply) => {
    const t = types.get(node.outputs[0])!;
    const cond = get(node.inputs[0]);
    const a = types.get(node.inputs[1]) ?? { shape: node.inputs[1].staticShape as number[] };
    const b = types.get(node.inputs[2]) ?? { shape: node.inputs[2].staticShape as number[] };
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
      throw typeError(node, `branches have shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} at run time; they must match`);
    const out = rec.slot(t.shape, t.dtype, SLOT.temp);
    pushBranch(node, 1, { node, stage: 'then', out, jump: jump(NativeOp.JUMP_IF_FALSE, node, [cond.id]) });
  };
  pushBranch(null, 0);
  while (steps.length) {
    const { node, stage, out, jump: at } = steps.pop()!;
    rec.node = node;
    if (stage === 'node') {
      if (node.op instanceof IfElse) beginIfElse(node);
      else lowerNode(node);
    } else if (stage === 'then') {
      rec.copy(get(node.inputs[1]), out!, 'ifelse.then');
      const jEnd = jump(NativeOp.JUMP, node, []);
      rec.instrs[at!].iattr[0] = rec.instrs.length;
      pushBranch(node, 2, { node, stage: 'else', out, jump: jEnd });
    } else {
      rec.copy(get(node.inputs[2]), out!, 'ifelse.else');
      rec.instrs[at!].iattr[0] = rec.instrs.length;
      slotOf.set(node.outputs[0], out!);
    }
  }

  // outputs get OUTPUT slots: a temp that nothing aliases becomes one, anything else is copied
  rec.node = null;
  const groupSize = new Map<number, number>();
  for (const s of rec.slots) groupSize.set(s.group, (groupSize.get(s.group) ?? 0) + 1);
  const taken = new Set<number>();
  const inPlaceVars = new Set([...inPlace.values()].flat());
  const updateSources = new Set(updateVars.filter((_, k) => !inPlaceVars.has(updates[k][0])).map((v) => get(v).group));
  const outputSlots = fg.outputs.slice(0, nOutputs).map((v) => {
    const s = get(v);
    if (s.kind === SLOT.temp && groupSize.get(s.group) === 1 && !taken.has(s.id) && !updateSources.has(s.group) && s.bytes > 0) {
      s.kind = SLOT.output;
      taken.add(s.id);
      return s.id;
    }
    const out = rec.slot(s.shape, s.dtype, SLOT.output);
    rec.copy(s, out, 'output');
    return out.id;
  });
  // in-place updates last: an elementwise program writes the shared buffer directly, after every
  // other instruction has read the old value (and after everything that can fail has run)
  for (const [node, svs] of inPlace) {
    rec.node = node;
    const targets = svs.map(get);
    rec.into = targets;
    const outs = node.op.lower(rec, node.inputs.map(get), node);
    if (outs.some((o, k) => o !== targets[k])) throw new SymtensorError('ERR_ST_INTERNAL', 'lower', `in-place update of ${svs.map((v) => v.describe()).join(', ')} did not write it`);
    node.outputs.forEach((o, k) => slotOf.set(o, outs[k]));
  }
  rec.into = null;
  // updates: the new value must survive until the copies at the end
  const copies: [number, number][] = updates.flatMap(([sv], k): [number, number][] => {
    if (inPlaceVars.has(sv)) return [];
    const got = types.get(updateVars[k])?.shape ?? (updateVars[k].staticShape as number[]);
    if (got.length !== sv.ndim || got.some((d, i) => d !== sv.staticShape[i]))
      throw new SymtensorError('ERR_ST_SHAPE', 'fn', `update of ${sv.describe()}: the new value has shape ${fmtShape(got)} at run time (expression built at ${updateVars[k].trace})`, { where: updateVars[k].trace });
    let src = get(updateVars[k]);
    const dst = get(sv);
    if (src.kind === SLOT.input || src.kind === SLOT.bound) {
      const tmp = rec.slot(src.shape, src.dtype, SLOT.temp);
      rec.copy(src, tmp, `update ${sv.name ?? 'shared'}`);
      src = tmp;
    }
    return [[dst.id, src.id]];
  });

  // liveness of temp groups -> arena offsets
  const first = new Map<number, number>(), last = new Map<number, number>(), bytes = new Map<number, number>();
  const touch = (id: number, at: number) => {
    const s = rec.slots[id];
    if (s.kind !== SLOT.temp) return;
    if (!first.has(s.group)) first.set(s.group, at);
    last.set(s.group, Math.max(last.get(s.group) ?? at, at));
    bytes.set(s.group, Math.max(bytes.get(s.group) ?? 0, s.bytes));
  };
  rec.instrs.forEach((ins, i) => {
    ins.outputs.forEach((id) => touch(id, i));
    ins.inputs.forEach((id) => touch(id, i));
  });
  for (const [, src] of copies) touch(src, rec.instrs.length);
  for (const s of rec.slots) if (s.kind === SLOT.temp && !first.has(s.group)) touch(s.id, 0);
  const { offsets, arenaBytes } = planMemory([...first.keys()].map((g) => ({ id: g, bytes: bytes.get(g)!, start: first.get(g)!, end: last.get(g)! })));
  return { slots: rec.slots, instrs: rec.instrs, copies, arenaBytes, offsets, outputSlots, inputSlots, boundVars };
}

/** The object the native createProgram takes. */
export function nativeDesc(d: ProgramDesc) {
  return {
    slots: d.slots.map((s) => ({ dtype: DTYPE_CODE[s.dtype], shape: s.shape, kind: s.kind, offset: s.kind === SLOT.temp ? d.offsets.get(s.group) ?? 0 : 0 })),
    bound: d.slots.map((s) => (s.kind === SLOT.bound ? s.bound : null)),
    arenaBytes: d.arenaBytes,
    instrs: d.instrs.map((i) => ({ opcode: i.opcode, inputs: i.inputs, outputs: i.outputs, iattr: i.iattr, fattr: i.fattr })),
    copies: d.copies,
  };
}
