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
import { requireWorld } from '../../tensor/distributed/world';
import { Apply, Op, VarType, Variable, applyOp, applyOp1 } from '../variable';
import { ew } from './elemwise';

/** Bytes per collective call when none are given: PyTorch DDP's default bucket (25 MiB). */
export const DEFAULT_BUCKET_BYTES = 25 * 2 ** 20;

/** Options of T.allreduce. */
export interface AllreduceGraphOptions {
  /** How values are combined across ranks: 'sum' (default), 'mean', 'max', 'min'. */
  op?: ReduceOp;
  /** Largest collective call in bytes: tensors are packed into buckets of at most this size (default 25 MiB). */
  bucketBytes?: number;
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
  ) {
    super();
  }
  override props(): unknown {
    return { op: this.op, bucketBytes: this.bucketBytes };
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
    const reduced = applyOp(new Allreduce(wireOp, this.bucketBytes), [worldToken(), ...live.map((i) => gOut[i]!)]);
    live.forEach((i, k) => {
      if (this.op === 'sum' || this.op === 'mean') grads[1 + i] = reduced[k];
      else grads[1 + i] = ew('where', [ew('equal', [xs[i], node.outputs[i]]), reduced[k], 0]);
    });
    return grads;
  }
}

/** The world token (a fresh node; merging keeps one per graph). */
export function worldToken(): Variable {
  return applyOp1(new WorldToken(), []);
}

/**
 * The elementwise reduction of each variable over every process of the world (data-parallel
 * training: the allreduce of the gradients).  All variables go into one ALLREDUCE instruction,
 * which packs them into buckets of at most `bucketBytes` and makes one collective call per bucket.
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
  for (const k of Object.keys(opts)) if (k !== 'op' && k !== 'bucketBytes') throw argError(fn, `unknown option '${k}'; valid options: op, bucketBytes`);
  const rop = checkReduceOp(fn, opts.op, null);
  list.forEach((x, i) => {
    try {
      checkReduceOp(fn, rop, x.dtype);
    } catch (e) {
      throw dtypeError(fn, `${Array.isArray(xs) ? `xs[${i}]` : 'x'} (${x.describe()}): ${(e as Error).message.replace(/^allreduce: /, '')}`);
    }
  });
  const bucketBytes = opts.bucketBytes ?? DEFAULT_BUCKET_BYTES;
  if (typeof bucketBytes !== 'number' || !Number.isInteger(bucketBytes) || bucketBytes < 8 || bucketBytes > 2 ** 40)
    throw argError(fn, `bucketBytes must be an integer in [8, 2^40], got ${fmtValue(bucketBytes)}`);
  const outs = applyOp(new Allreduce(rop, bucketBytes), [worldToken(), ...list]);
  return Array.isArray(xs) ? outs : outs[0];
}

