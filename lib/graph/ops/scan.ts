// Scan: a symbolic loop (Theano's scan).  The op holds the step's graph (the "inner" graph); its
// outer inputs are the step count, the sequences, the initial states and the non-sequences.  A
// compiled program runs the step as a native loop (lib/compile/scan-lower.ts); anywhere else (eager
// constant folding) the step is unrolled here.  The gradient is another Scan, running backwards
// over the stored states (./scan-grad.ts).
import { argError, dtypeError, fmtShape, shapeError, SymtensorError } from '../../errors';
import type { Emitter, Val } from '../../tensor/emitter';
import { concatWith, reshapeWith, sliceWith } from '../../tensor/shape-ops';
import { Apply, Constant, Dim, Op, VarType, Variable } from '../variable';
import { toposort } from '../traverse';

/**
 * One sequence input.  Iteration i reads row `fromEnd ? L - 1 - j - offset : j + offset` of the
 * sequence (length L), where j = i, or N - 1 - i when the scan runs in reverse.
 */
export interface SeqSpec {
  offset: number;
  fromEnd: boolean;
}

/**
 * One recurrent state.  taps: the negative offsets of the earlier values the step reads (-1: the
 * previous one); the initial value holds the first m = -min(taps) rows.  mode 'all' outputs every
 * row, [m + N, ...] (initial rows first); 'last' (taps [-1] only) outputs just the final value and
 * keeps two rows while it runs.
 */
export interface StateSpec {
  taps: number[];
  mode: 'all' | 'last';
}

export interface ScanSpec {
  /** Per sequence input (one inner input each). */
  seqs: SeqSpec[];
  /** Per state (one inner input per tap, one inner output each). */
  states: StateSpec[];
  /** Outputs computed per step and not fed back: [N, ...] each. */
  nPerStep: number;
  nNonSeqs: number;
  /** Whether the first outer input is the step count (an int32 scalar). */
  hasNSteps: boolean;
  /** Iterate with j = N - 1 - i: per-step outputs and sequence rows in reverse. */
  reverse: boolean;
  /** Backpropagate through at most this many steps (-1: all). */
  truncateGradient: number;
  name: string;
}

let nextScanId = 1;

/** Lowering for one kind of emitter (compile installs the native loop); null: not this emitter. */
export type ScanLowerer = <V extends Val>(em: Emitter<V>, inputs: V[], node: Apply) => V[] | null;
let loopLowerer: ScanLowerer | null = null;

/** @internal Installs the program builder's loop lowering (lib/compile/scan-lower.ts). */
export function setScanLowerer(f: ScanLowerer): void {
  loopLowerer = f;
}

export const mOf = (s: StateSpec) => -Math.min(...s.taps);

export class Scan extends Op {
  readonly name: string;
  /** Unique: two scans are never merged, and programs are shared only for the same step graph. */
  readonly id = nextScanId++;
  /** The inner graph's nodes in topological order. */
  readonly order: Apply[];

  constructor(
    readonly spec: ScanSpec,
    /** Sequence rows, then each state's taps (in spec order), then the non-sequences. */
    readonly innerInputs: Variable[],
    /** New state values, then the per-step outputs. */
    readonly innerOutputs: Variable[],
  ) {
    super();
    this.name = 'scan';
    const set = new Set(innerInputs);
    this.order = toposort(innerOutputs, (v) => set.has(v));
    const want = spec.seqs.length + spec.states.reduce((a, s) => a + s.taps.length, 0) + spec.nNonSeqs;
    if (want !== innerInputs.length || innerOutputs.length !== spec.states.length + spec.nPerStep)
      throw new SymtensorError('ERR_ST_INTERNAL', 'scan', 'inner inputs or outputs do not match the spec');
  }

  override props() {
    return [this.id, this.spec.name];
  }

  /** Offsets of each group of outer inputs. */
  get layout() {
    const s = this.spec;
    const seq0 = s.hasNSteps ? 1 : 0;
    const init0 = seq0 + s.seqs.length;
    const nonSeq0 = init0 + s.states.length;
    return { seq0, init0, nonSeq0, nInputs: nonSeq0 + s.nNonSeqs };
  }

  /** Inner input index of state r's first tap. */
  tapBase(r: number): number {
    let k = this.spec.seqs.length;
    for (let q = 0; q < r; q++) k += this.spec.states[q].taps.length;
    return k;
  }

  /** Types of the inner inputs for these outer input types. */
  innerTypes(inputs: VarType[]): VarType[] {
    const { seq0, init0, nonSeq0 } = this.layout;
    const out: VarType[] = [];
    this.spec.seqs.forEach((_, s) => out.push({ dtype: inputs[seq0 + s].dtype, shape: inputs[seq0 + s].shape.slice(1) }));
    this.spec.states.forEach((st, r) => {
      for (let k = 0; k < st.taps.length; k++) out.push({ dtype: inputs[init0 + r].dtype, shape: inputs[init0 + r].shape.slice(1) });
    });
    for (let p = 0; p < this.spec.nNonSeqs; p++) out.push(inputs[nonSeq0 + p]);
    return out;
  }

  /** Types of every inner variable for the given inner input types (Op.infer over the step's graph). */
  inferInner(innerIn: VarType[]): Map<Variable, VarType> {
    const types = new Map<Variable, VarType>();
    this.innerInputs.forEach((v, i) => types.set(v, innerIn[i]));
    const typeOf = (v: Variable) => types.get(v) ?? v.type;
    for (const node of this.order) {
      const outs = node.op.infer(node.inputs.map(typeOf));
      node.outputs.forEach((o, k) => types.set(o, outs[k]));
    }
    return types;
  }

  /** The step count for these input types (null when only known at run time). */
  steps(inputs: VarType[]): number | null {
    const s = this.spec;
    const { seq0 } = this.layout;
    let most: Dim = null;
    let allKnown = true;
    s.seqs.forEach((q, i) => {
      const L = inputs[seq0 + i].shape[0];
      if (L === null) return void (allKnown = false);
      const n = L - q.offset;
      if (n < 0) throw shapeError(s.name, `sequence ${i} has ${L} rows but its taps span ${q.offset + 1}`);
      most = most === null ? n : Math.min(most, n);
    });
    if (!s.hasNSteps) return allKnown ? most : null;
    const k = inputs[0].known?.[0];
    if (k === undefined || k === null) return null;
    if (!Number.isInteger(k) || k < 0) throw argError(s.name, `nSteps must be a non-negative integer, got ${k}`);
    if (most !== null && allKnown && k > most) throw shapeError(s.name, `nSteps is ${k} but the sequences allow only ${most} steps`);
    return k;
  }

  infer(inputs: VarType[]): VarType[] {
    const s = this.spec;
    const { seq0, init0, nonSeq0, nInputs } = this.layout;
    if (inputs.length !== nInputs) throw new SymtensorError('ERR_ST_INTERNAL', s.name, `expected ${nInputs} inputs, got ${inputs.length}`);
    if (s.hasNSteps && (inputs[0].dtype !== 'int32' || inputs[0].shape.length !== 0)) throw dtypeError(s.name, `nSteps must be an int32 scalar, got ${inputs[0].dtype} ${fmtShape(inputs[0].shape)}`);
    const check = (i: number, inner: Variable, what: string, outerShape: Dim[]) => {
      const t = inputs[i];
      if (t.dtype !== inner.dtype) throw dtypeError(s.name, `${what} is ${t.dtype} but the step was built for ${inner.dtype}`);
      if (outerShape.length !== inner.ndim) throw shapeError(s.name, `${what} has shape ${fmtShape(t.shape)}; the step was built for rank ${inner.ndim}`);
    };
    s.seqs.forEach((_, q) => {
      if (inputs[seq0 + q].shape.length < 1) throw shapeError(s.name, `sequence ${q} must have at least one axis, got a scalar`);
      check(seq0 + q, this.innerInputs[q], `sequence ${q}`, inputs[seq0 + q].shape.slice(1));
    });
    s.states.forEach((st, r) => {
      const t = inputs[init0 + r];
      const m = mOf(st);
      if (t.shape.length < 1 || (t.shape[0] !== null && t.shape[0] !== m)) throw shapeError(s.name, `initial value ${r} must have ${m} leading row${m > 1 ? 's' : ''}, got ${fmtShape(t.shape)}`);
      check(init0 + r, this.innerInputs[this.tapBase(r)], `initial value of output ${r}`, t.shape.slice(1));
    });
    for (let p = 0; p < s.nNonSeqs; p++) check(nonSeq0 + p, this.innerInputs[this.innerInputs.length - s.nNonSeqs + p], `non-sequence ${p}`, inputs[nonSeq0 + p].shape);
    const n = this.steps(inputs);
    const types = this.inferInner(this.innerTypes(inputs));
    const outs: VarType[] = [];
    s.states.forEach((st, r) => {
      const init = inputs[init0 + r];
      const got = types.get(this.innerOutputs[r])!;
      const shape = init.shape.slice(1);
      if (got.dtype !== init.dtype) throw dtypeError(s.name, `output ${r} is ${got.dtype} in the step but its initial value is ${init.dtype}`);
      if (got.shape.length !== shape.length || got.shape.some((d, k) => d !== null && shape[k] !== null && d !== shape[k]))
        throw shapeError(s.name, `output ${r} has shape ${fmtShape(got.shape)} in the step but its initial value has rows of ${fmtShape(shape)}`);
      const row = shape.map((d, k) => d ?? got.shape[k]);
      outs.push({ dtype: init.dtype, shape: st.mode === 'last' ? row : [n === null ? null : n + mOf(st), ...row] });
    });
    for (let y = 0; y < s.nPerStep; y++) {
      const t = types.get(this.innerOutputs[s.states.length + y])!;
      outs.push({ dtype: t.dtype, shape: [n, ...t.shape] });
    }
    return outs;
  }

  lower<V extends Val>(em: Emitter<V>, inputs: V[], node: Apply): V[] {
    return loopLowerer?.(em, inputs, node) ?? this.unrolled(em, inputs);
  }

  /** The loop written out step by step (for eager evaluation). */
  private unrolled<V extends Val>(em: Emitter<V>, inputs: V[]): V[] {
    const s = this.spec;
    const { seq0, init0, nonSeq0 } = this.layout;
    const n = this.steps(inputs.map((v) => ({ dtype: v.dtype, shape: v.shape, known: knownOf(v) })));
    if (n === null) throw new SymtensorError('ERR_ST_INTERNAL', s.name, 'the step count is unknown');
    const row = (x: V, r: number): V => {
      const rest = x.shape.slice(1);
      return reshapeWith(em, sliceWith(em, x, [r, ...rest.map(() => 0)], [1, ...rest]), rest);
    };
    const rows: V[][] = s.states.map((_, r) => {
      const init = inputs[init0 + r];
      return Array.from({ length: init.shape[0] }, (_, k) => row(init, k));
    });
    const perStep: V[][] = Array.from({ length: s.nPerStep }, () => []);
    for (let i = 0; i < n; i++) {
      const j = s.reverse ? n - 1 - i : i;
      const vals = new Map<Variable, V>();
      s.seqs.forEach((q, k) => {
        const x = inputs[seq0 + k];
        vals.set(this.innerInputs[k], row(x, q.fromEnd ? x.shape[0] - 1 - j - q.offset : j + q.offset));
      });
      s.states.forEach((st, r) => {
        const b = this.tapBase(r), m = mOf(st);
        st.taps.forEach((tap, k) => vals.set(this.innerInputs[b + k], rows[r][i + m + tap]));
      });
      for (let p = 0; p < s.nNonSeqs; p++) vals.set(this.innerInputs[this.innerInputs.length - s.nNonSeqs + p], inputs[nonSeq0 + p]);
      const get = (v: Variable): V => {
        const x = vals.get(v);
        if (x) return x;
        if (v instanceof Constant) return v.value as unknown as V;
        throw new SymtensorError('ERR_ST_INTERNAL', s.name, `no value for ${v.describe()} in the step`);
      };
      for (const nd of this.order) nd.op.lower(em, nd.inputs.map(get), nd).forEach((o, k) => vals.set(nd.outputs[k], o));
      s.states.forEach((_, r) => rows[r].push(get(this.innerOutputs[r])));
      for (let y = 0; y < s.nPerStep; y++) perStep[y][j] = get(this.innerOutputs[s.states.length + y]);
    }
    // (a state always has its initial rows; per-step outputs of zero steps have nothing to stack)
    const stackRows = (list: V[]): V => concatWith(em, list.map((v) => reshapeWith(em, v, [1, ...v.shape])), 0);
    const outs: V[] = s.states.map((st, r) => (st.mode === 'last' ? rows[r][rows[r].length - 1] : stackRows(rows[r])));
    perStep.forEach((list, y) => {
      if (!list.length) throw new SymtensorError('ERR_ST_ARG', s.name, `output ${s.states.length + y} has no steps to stack outside a compiled function`);
      outs.push(stackRows(list));
    });
    return outs;
  }

  override grad(node: Apply, gOut: (Variable | null)[]): (Variable | null)[] {
    if (!gradBuilder) throw new SymtensorError('ERR_ST_INTERNAL', this.name, 'scan gradients are not loaded');
    return gradBuilder(node, gOut);
  }
}

function knownOf(v: Val): (number | null)[] | undefined {
  if (v.known) return v.known as (number | null)[];
  const t = v as unknown as { dataSync?: () => ArrayLike<number>; dtype: string; shape: number[] };
  if (typeof t.dtype === 'string' && t.dtype === 'int32' && t.shape.length === 0 && typeof t.dataSync === 'function') return [t.dataSync()[0]];
  return undefined;
}

type GradBuilder = (node: Apply, gOut: (Variable | null)[]) => (Variable | null)[];
let gradBuilder: GradBuilder | null = null;

/** @internal Installs the reverse-scan gradient (./scan-grad.ts; kept apart to keep files small). */
export function setScanGrad(f: GradBuilder): void {
  gradBuilder = f;
}
