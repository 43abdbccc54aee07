// T.allreduce: one ALLREDUCE instruction over several tensors (bucketed natively), and its
// gradient.  Every rank builds and runs the same graph, so every rank makes the same collective
// calls in the same order.
//
// A collective's result depends on the other processes, not only on its inputs: it must never be
// computed at compile time.  Each ALLREDUCE node therefore also takes the world token, the output
// of a node with no inputs, which no rewrite folds; so an allreduce of constants is still reduced
// when the program runs.  The token costs one one-element FILL per program (equal tokens merge).
import { argError, dtypeError, fmtValue } from '../../errors';
import { Op as NativeOp } from '../../ops.generated';
import type { Emitter, Val } from '../../tensor/emitter';
import { REDUCE_OP_CODE, ReduceOp, checkReduceOp } from '../../tensor/distributed/collectives';
import { checkReduction, requireWorld } from '../../tensor/distributed/world';
import { Apply, Op, VarType, Variable, applyOp, applyOp1 } from '../variable';
import { ew } from './elemwise';


/** Options of T.allreduce. */
export interface AllreduceGraphOptions {
  /** How values are combined across ranks: 'sum' (default), 'mean', 'max', 'min'. */
  op?: ReduceOp;
  /** Largest collective call in bytes: tensors are packed into buckets of at most this size (default 25 MiB). */
  bucketBytes?: number;
  /**
   * Overlap the reduction with the computation after it (default true): in a compiled function the
   * tensors are grouped into buckets in the order the program produces them, each bucket's
   * reduction starts as soon as its last tensor exists and is waited for only where a result is
   * first read (in training: the backward pass of the earlier layers runs while the later layers'
   * gradients travel).  The first bucket of each dtype holds at most 1 MiB, so it leaves early.
   * false: one blocking instruction where the node stands.
   */
  overlap?: boolean;
}

/** Stands for the world the collectives run in: an int32 scalar computed at run time, never folded. */
export class WorldToken extends Op {
  readonly name = 'worldToken';
  infer(): VarType[] {
    return [{ dtype: 'int32', shape: [] }];
  }
  lower<V extends Val>(em: Emitter<V>): V[] {
    return em.emit(this.name, NativeOp.FILL, [], [{ dtype: 'int32', shape: [] }], [], [0]);
  }
  override grad(): (Variable | null)[] {
    return [];
  }
}

/** ALLREDUCE over inputs 1..n (input 0 is the world token); n outputs of the inputs' types. */
export class Allreduce extends Op {
  readonly name = 'allreduce';
  constructor(
    readonly op: ReduceOp,
    readonly bucketBytes: number,
    readonly overlap = true,
  ) {
    super();
  }
  override props(): unknown {
    return { op: this.op, bucketBytes: this.bucketBytes, overlap: this.overlap };
  }
  infer([token, ...xs]: VarType[]): VarType[] {
    if (token.dtype !== 'int32' || token.shape.length !== 0) throw argError(this.name, 'input 0 must be the world token');
    xs.forEach((x, i) => {
      try {
        checkReduceOp(this.name, this.op, x.dtype);
      } catch (e) {
        throw dtypeError(this.name, `tensor ${i}: ${(e as Error).message.replace(/^allreduce: /, '')}`);
      }
    });
    return xs.map((x) => ({ dtype: x.dtype, shape: x.shape.slice() }));
  }
  lower<V extends Val>(em: Emitter<V>, [, ...xs]: V[]): V[] {
    requireWorld('T.allreduce');
    return em.emit(this.name, NativeOp.ALLREDUCE, xs, xs.map((x) => ({ dtype: x.dtype, shape: x.shape.slice() })), [REDUCE_OP_CODE[this.op], this.bucketBytes]);
  }
  /**
   * Each rank's loss depends on every rank's input through the reduction, so the gradient for an
   * input is the sum over ranks of the output gradients, taken through the reduction:
   * sum: allreduce-sum(g); mean: allreduce-mean(g) (each input counts 1/size); max/min: the
   * allreduce-sum of g where this rank's input is the extreme (every tied rank receives it), else 0.
   */
  override grad(node: Apply, gOut: (Variable | null)[]): (Variable | null)[] {
    const xs = node.inputs.slice(1);
    const live = gOut.flatMap((g, i) => (g ? [i] : []));
    const grads: (Variable | null)[] = [null, ...xs.map(() => null)];
    if (!live.length) return grads;
    const wireOp: ReduceOp = this.op === 'mean' ? 'mean' : 'sum';
    const reduced = applyOp(new Allreduce(wireOp, this.bucketBytes, this.overlap), [worldToken(), ...live.map((i) => gOut[i]!)]);
    live.forEach((i, k) => {
      if (this.op === 'sum' || this.op === 'mean') grads[1 + i] = reduced[k];
      else grads[1 + i] = ew('where', [ew('equal', [xs[i], node.outputs[i]]), reduced[k], 0]);
    });
    return grads;
  }
}

/**
 * The first half of an overlapped bucket (made by the lowering, never by users): packs its inputs
 * (one dtype; input 0 is the world token) into one vector and starts its reduction on the
 * communication thread.  The vector is the handle AllreduceWait takes.
 */
export class AllreduceStart extends Op {
  readonly name = 'allreduceStart';
  constructor(
    readonly op: ReduceOp,
    readonly bucketBytes: number,
  ) {
    super();
  }
  override props(): unknown {
    return { op: this.op, bucketBytes: this.bucketBytes };
  }
  infer([, ...xs]: VarType[]): VarType[] {
    let total: number | null = 0;
    for (const x of xs) {
      const n = x.shape.every((d) => d !== null) ? (x.shape as number[]).reduce((a, d) => a * d, 1) : null;
      total = total === null || n === null ? null : total + n;
    }
    return [{ dtype: xs[0].dtype, shape: [total] }];
  }
  lower<V extends Val>(em: Emitter<V>, [, ...xs]: V[]): V[] {
    const total = xs.reduce((n, x) => n + x.shape.reduce((a, d) => a * d, 1), 0);
    return em.emit(this.name, NativeOp.ALLREDUCE_START, xs, [{ dtype: xs[0].dtype, shape: [total] }], [REDUCE_OP_CODE[this.op], this.bucketBytes]);
  }
}

/** The second half: waits for the bucket's reduction and unpacks it into tensors of the given shapes. */
export class AllreduceWait extends Op {
  readonly name = 'allreduceWait';
  constructor(
    readonly op: ReduceOp,
    readonly shapes: number[][],
  ) {
    super();
  }
  override props(): unknown {
    return { op: this.op, shapes: this.shapes };
  }
  infer([packed]: VarType[]): VarType[] {
    return this.shapes.map((shape) => ({ dtype: packed.dtype, shape: shape.slice() }));
  }
  lower<V extends Val>(em: Emitter<V>, [packed]: V[]): V[] {
    return em.emit(this.name, NativeOp.ALLREDUCE_WAIT, [packed], this.shapes.map((shape) => ({ dtype: packed.dtype, shape: shape.slice() })), [REDUCE_OP_CODE[this.op]]);
  }
}

/** The world token (a fresh node; merging keeps one per graph). */
export function worldToken(): Variable {
  return applyOp1(new WorldToken(), []);
}

/**
 * The elementwise reduction of each variable over every process of the world (data-parallel
 * training: the allreduce of the gradients).  The variables are packed into buckets of at most
 * `bucketBytes`, one collective call each.  With `overlap` (the default) each bucket's reduction
 * starts where the program has computed its last variable and is waited for where a result is
 * first read, so the computation between runs while it travels; otherwise one blocking instruction.
 * Outside MPI (a world of one) the outputs equal the inputs.  Differentiable (see Allreduce.grad).
 * @example const [gw, gb] = T.allreduce(st.grad(cost, [w, b]), { op: 'mean' });
 */
export function allreduce(xs: Variable, opts?: AllreduceGraphOptions): Variable;
export function allreduce(xs: Variable[], opts?: AllreduceGraphOptions): Variable[];
export function allreduce(xs: Variable | Variable[], opts?: AllreduceGraphOptions): Variable | Variable[];
export function allreduce(xs: Variable | Variable[], opts: AllreduceGraphOptions = {}): Variable | Variable[] {
  const fn = 'allreduce';
  const list = Array.isArray(xs) ? xs : [xs];
  if (!list.length) throw argError(fn, 'expected a Variable or a non-empty array of Variables, got an empty array');
  list.forEach((x, i) => {
    if (!(x instanceof Variable)) throw argError(fn, `${Array.isArray(xs) ? `xs[${i}]` : 'x'} must be a Variable, got ${fmtValue(x)}`);
  });
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw argError(fn, `options must be an object, got ${fmtValue(opts)}`);
  for (const k of Object.keys(opts)) if (k !== 'op' && k !== 'bucketBytes' && k !== 'overlap') throw argError(fn, `unknown option '${k}'; valid options: op, bucketBytes, overlap`);
  const rop = checkReduceOp(fn, opts.op, null);
  list.forEach((x, i) => {
    try {
      checkReduceOp(fn, rop, x.dtype);
    } catch (e) {
      throw dtypeError(fn, `${Array.isArray(xs) ? `xs[${i}]` : 'x'} (${x.describe()}): ${(e as Error).message.replace(/^allreduce: /, '')}`);
    }
  });
  const { bucketBytes, overlap } = checkReduction(fn, opts);
  const outs = applyOp(new Allreduce(rop, bucketBytes, overlap), [worldToken(), ...list]);
  return Array.isArray(xs) ? outs : outs[0];
}

