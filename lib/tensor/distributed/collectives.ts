// The eager collectives: each is one native instruction (ALLREDUCE, BROADCAST, ALLGATHER) run on
// the tensor's buffer, so the data goes from native memory to MPI without passing through JS.
import { DType, DTYPE_CODE } from '../../dtype';
import { SymtensorError, argError, dtypeError, fmtShape, fmtValue } from '../../errors';
import { Op as NativeOp, MAX_DIMS } from '../../ops.generated';
import { Tensor, execOp } from '../tensor';
import { fromBuffer } from '../creation';
import { mpiAddon, requireWorld, worldSize } from './world';

/** How allreduce combines the ranks' values. */
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';

/** The ALLREDUCE instruction's op codes (native/ops.def). */
export const REDUCE_OP_CODE: Readonly<Record<ReduceOp, number>> = { sum: 0, mean: 1, max: 2, min: 3 };

/** Options of allreduce. */
export interface AllreduceOptions {
  /** How the values are combined: 'sum' (the default), 'mean', 'max' or 'min'. */
  op?: ReduceOp;
}

/** Options of broadcast. */
export interface BroadcastOptions {
  /** The rank whose value every rank receives; 0 by default. */
  root?: number;
}

/** The dtypes allreduce takes. */
const REDUCIBLE: readonly DType[] = ['float32', 'float64', 'int32'];

/** One eager call reduces a tensor in pieces of at most this many bytes (one MPI call each). */
const EAGER_BUCKET_BYTES = 2 ** 30;

/** The tensor argument of a collective: a live Tensor. */
function checkTensor(op: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw argError(op, `expected a Tensor, got ${fmtValue(t)}`);
  t.buffer(op); // throws ERR_ST_DISPOSED naming op
  return t;
}

function checkOptions(op: string, opts: unknown, keys: readonly string[]): Record<string, unknown> {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw argError(op, `options must be an object, got ${fmtValue(opts)}`);
  for (const k of Object.keys(opts)) if (!keys.includes(k)) throw argError(op, `unknown option '${k}'; valid options: ${keys.join(', ')}`);
  return opts as Record<string, unknown>;
}

/** The reduce op named in options, checked against the tensor's dtype. */
export function checkReduceOp(op: string, value: unknown, dtype: DType | null): ReduceOp {
  const rop = value ?? 'sum';
  if (typeof rop !== 'string' || !(rop in REDUCE_OP_CODE))
    throw argError(op, `unknown op ${fmtValue(rop)}; valid ops: ${Object.keys(REDUCE_OP_CODE).join(', ')}`);
  if (dtype !== null && !REDUCIBLE.includes(dtype)) throw dtypeError(op, `cannot reduce a ${dtype} tensor; allreduce takes ${REDUCIBLE.join(', ')}`);
  if (dtype === 'int32' && rop === 'mean') throw dtypeError(op, `op 'mean' needs a float tensor, got int32 (cast it, or use 'sum')`);
  return rop as ReduceOp;
}

/**
 * The elementwise reduction of `t` over every rank (a new tensor of t's shape and dtype): each
 * rank passes a tensor of the same shape and gets the same result.  Outside MPI, a copy.
 * @example const g = st.distributed.allreduce(localGrad, { op: 'mean' });
 */
export function allreduce(t: Tensor, opts?: AllreduceOptions): Tensor {
  const op = 'st.distributed.allreduce';
  const x = checkTensor(op, t);
  const o = checkOptions(op, opts, ['op']);
  const rop = checkReduceOp(op, o.op, x.dtype);
  requireWorld(op);
  return execOp(op, NativeOp.ALLREDUCE, [x], [{ dtype: x.dtype, shape: x.shape.slice() }], [REDUCE_OP_CODE[rop], EAGER_BUCKET_BYTES])[0];
}

/**
 * Rank `root`'s value of `t` on every rank (a new tensor).  Every rank passes a tensor of the same
 * shape and dtype; the others' values are overwritten.
 * @example const w = st.distributed.broadcast(initialWeights, { root: 0 });
 */
export function broadcast(t: Tensor, opts?: BroadcastOptions): Tensor {
  const op = 'st.distributed.broadcast';
  const x = checkTensor(op, t);
  const o = checkOptions(op, opts, ['root']);
  const root = o.root ?? 0;
  const size = worldSize();
  if (typeof root !== 'number' || !Number.isInteger(root) || root < 0 || root >= size)
    throw argError(op, `root must be a rank, an integer in [0, ${size}) for this world of ${size} process${size === 1 ? '' : 'es'}, got ${fmtValue(root)}`);
  requireWorld(op);
  return execOp(op, NativeOp.BROADCAST, [x], [{ dtype: x.dtype, shape: x.shape.slice() }], [root])[0];
}

/** "[2,3] float32" for each distinct signature, with the ranks that passed it. */
function describeSignatures(sigs: string[]): string {
  const byRank = new Map<string, number[]>();
  sigs.forEach((s, r) => byRank.set(s, [...(byRank.get(s) ?? []), r]));
  return [...byRank].map(([s, ranks]) => `${s} on rank${ranks.length > 1 ? 's' : ''} ${ranks.join(', ')}`).join('; ');
}

/**
 * Every rank's `t`, stacked in rank order along a new first axis: [size, ...t.shape].  Every rank
 * must pass the same shape and dtype; this is checked first (the shapes are gathered), and a
 * mismatch throws the same error on every rank, naming the ranks and what each passed.
 * @example const all = st.distributed.allgather(st.tensor([loss])); // [size, 1]
 */
export function allgather(t: Tensor): Tensor {
  const op = 'st.distributed.allgather';
  const x = checkTensor(op, t);
  requireWorld(op);
  const size = worldSize();
  if (size > 1) {
    // [dtype code, rank, dims…] per process, float64 so every dim is exact
    const sig = new Float64Array(2 + MAX_DIMS).fill(-1);
    sig[0] = DTYPE_CODE[x.dtype];
    sig[1] = x.rank;
    x.shape.forEach((d, i) => (sig[2 + i] = d));
    const mine = fromBuffer(sig, [sig.length], 'float64');
    const gathered = execOp(op, NativeOp.ALLGATHER, [mine], [{ dtype: 'float64', shape: [size, sig.length] }])[0];
    const all = gathered.dataSync() as Float64Array;
    mine.dispose();
    gathered.dispose();
    const dtypes = Object.keys(DTYPE_CODE) as DType[];
    const sigs: string[] = [];
    let sameDtype = true;
    for (let r = 0; r < size; r++) {
      const row = all.subarray(r * sig.length, (r + 1) * sig.length);
      sameDtype &&= row[0] === sig[0];
      sigs.push(`${fmtShape(Array.from(row.subarray(2, 2 + row[1])))} ${dtypes.find((d) => DTYPE_CODE[d] === row[0]) ?? 'unknown dtype'}`);
    }
    if (sigs.some((s) => s !== sigs[0]))
      throw new SymtensorError(sameDtype ? 'ERR_ST_SHAPE' : 'ERR_ST_DTYPE', op, `every rank must pass the same shape and dtype, got ${describeSignatures(sigs)}`, {
        shapes: [x.shape],
      });
  }
  return execOp(op, NativeOp.ALLGATHER, [x], [{ dtype: x.dtype, shape: [size, ...x.shape] }])[0];
}

/** Blocks until every rank called barrier().  Outside MPI, returns at once. */
export function barrier(): void {
  const op = 'st.distributed.barrier';
  requireWorld(op);
  const mpi = mpiAddon();
  if (!mpi || worldSize() === 1) return;
  try {
    mpi.barrier();
  } catch (e) {
    throw new SymtensorError('ERR_ST_INTERNAL', op, String((e as Error).message ?? e));
  }
}

