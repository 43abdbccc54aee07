// An Emitter runs (eager) or records (compiled programs) native instructions.  Op semantics are
// written once against it — shapes, dtypes, attribute layouts — so the eager ops and the lowered
// programs compute exactly the same thing.
import { DType } from '../dtype';
import { emitEager } from './exec-cache';
import { Tensor, OutSpec } from './tensor';

/** What an emitter's values expose: eager Tensors and lowering slots both have these. */
export interface Val {
  readonly shape: number[];
  readonly dtype: DType;
  /**
   * Lowering slots of small int32 values known when the program is built (sizes computed from
   * shapes): the flat values.  Eager tensors leave it out (their data is at hand).
   */
  readonly known?: (number | null)[];
}

/**
 * Where op functions write their instructions: run at once on tensors (eager) or recorded into a program (lowering), so each op's instructions are written once.
 */
export interface Emitter<V extends Val> {
  /** Runs or records one instruction; returns its outputs. */
  emit(op: string, opcode: number, inputs: V[], outs: OutSpec[], iattr?: number[], fattr?: number[]): V[];
  /** The same data under another shape of equal size. */
  view(v: V, shape: number[], op: string): V;
  /** Frees a temporary the op made (eager) — never one it was given. */
  release(v: V): void;
}

/** The eager emitter: runs each instruction now. */
export const eager: Emitter<Tensor> = {
  emit: emitEager,
  view: (t, shape, op) => t.view(shape, op),
  release: (t) => t.dispose(),
};
