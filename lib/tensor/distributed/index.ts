/**
 * Data-parallel collectives over MPI: `st.distributed`.  Under an MPI launcher (mpirun) init()
 * joins the world; everywhere else everything works as a world of one process (rank 0, size 1),
 * so one script runs alone or on many processes unchanged.  Compiled programs reduce through
 * `T.allreduce`; the eager functions here serve setup and bookkeeping (broadcasting initial
 * weights, averaging metrics).
 *
 * As everywhere in MPI, every rank must make the same collective calls in the same order: run the
 * same graph on every rank, and do not let two programs that contain collectives (or an eager
 * collective and such a program) run at the same time, e.g. two async calls left unawaited.
 * @example
 * st.distributed.init();
 * const w = st.distributed.broadcast(w0, { root: 0 });
 * const meanLoss = st.distributed.allreduce(st.tensor([loss]), { op: 'mean' });
 * @module
 */
import { allgather, allreduce, barrier, broadcast } from './collectives';
import { init, isDistributed, worldRank, worldSize } from './world';

export type { ReduceOp, AllreduceOptions, BroadcastOptions } from './collectives';
export type { DistributedOptions } from './world';
export { allgather, allreduce, barrier, broadcast } from './collectives';
export { init, isDistributed, worldRank, worldSize } from './world';

/**
 * The namespace exposed as `st.distributed`: init, rank (getter), size (getter), allreduce,
 * broadcast, allgather, barrier, isDistributed.
 * @example if (st.distributed.rank === 0) console.log(`training on ${st.distributed.size} processes`);
 */
export const distributed = {
  /** Joins the MPI world under a launcher; a no-op elsewhere. */
  init,
  /** This process's rank (0 outside MPI). */
  get rank(): number {
    return worldRank();
  },
  /** The number of processes (1 outside MPI). */
  get size(): number {
    return worldSize();
  },
  /** Reduces a tensor across the ranks (sum, mean, max, min). */
  allreduce,
  /** Rank root's tensor, on every rank. */
  broadcast,
  /** Every rank's tensor stacked along a new first axis. */
  allgather,
  /** Waits until every rank reaches it. */
  barrier,
  /** True when initialized under a launcher with more than one process. */
  isDistributed,
};
