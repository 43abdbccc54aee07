// The process's place in the world: rank and size, and init(), which loads the MPI addon only
// when an MPI launcher started this process.  Everything else in lib/tensor/distributed reads the world
// from here; with no launcher it is a world of one (rank 0, size 1) and MPI is never loaded.
import { SymtensorError, argError, fmtValue } from '../../errors';
import { MpiAddon, loadMpiAddon, native } from '../../native';

/** Environment variables a launcher sets in every process it starts (Open MPI, PMIx, MPICH's PMI). */
const LAUNCHER_VARS = ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_RANK', 'PMI_SIZE'] as const;

/** @internal The world as init() found it. */
export interface WorldState {
  initialized: boolean;
  rank: number;
  size: number;
  mpi: MpiAddon | null;
  threadLevel: string | null;
}

const state: WorldState = { initialized: false, rank: 0, size: 1, mpi: null, threadLevel: null };

/** The launcher variable that says this process runs under an MPI launcher, e.g. 'OMPI_COMM_WORLD_SIZE=2', or null. */
export function launcherVariable(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const v of LAUNCHER_VARS) if (env[v] !== undefined && env[v] !== '') return `${v}=${env[v]}`;
  return null;
}

/** Bytes per gradient bucket when none are given: PyTorch DDP's default (25 MiB). */
const DEFAULT_BUCKET_BYTES = 25 * 2 ** 20;

/** Options of st.distributed.init: how model.fit reduces the gradients across ranks. */
export interface DistributedOptions {
  /** Largest collective call in bytes; gradients are packed into buckets of at most this size (default 25 MiB). */
  bucketBytes?: number;
  /**
   * Reduce each bucket while the backward pass goes on computing the earlier layers' gradients
   * (default true); false: one blocking reduction after the backward pass.
   */
  overlap?: boolean;
}

const reduction: Required<DistributedOptions> = { bucketBytes: DEFAULT_BUCKET_BYTES, overlap: true };
let reductionSet = false;

/**
 * @internal The bucket size and overlap of a gradient reduction (init's options, T.allreduce's),
 * checked, with their defaults filled in.
 */
export function checkReduction(fn: string, { bucketBytes = DEFAULT_BUCKET_BYTES, overlap = true }: DistributedOptions): Required<DistributedOptions> {
  if (typeof bucketBytes !== 'number' || !Number.isInteger(bucketBytes) || bucketBytes < 8 || bucketBytes > 2 ** 40)
    throw argError(fn, `bucketBytes must be an integer in [8, 2^40], got ${fmtValue(bucketBytes)}`);
  if (typeof overlap !== 'boolean') throw argError(fn, `overlap must be a boolean, got ${fmtValue(overlap)}`);
  return { bucketBytes, overlap };
}

function checkOptions(options: unknown): Required<DistributedOptions> {
  const fn = 'st.distributed.init';
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw argError(fn, `options must be an object, got ${fmtValue(options)}`);
  for (const k of Object.keys(options)) if (k !== 'bucketBytes' && k !== 'overlap') throw argError(fn, `unknown option '${k}'; valid options: bucketBytes, overlap`);
  return checkReduction(fn, options as DistributedOptions);
}

/**
 * Joins the world (idempotent).  Outside a launcher: nothing to join, rank 0 of 1, and MPI is not
 * loaded.  Under mpirun (or another launcher): loads symtensor_mpi.node, initializes MPI and
 * registers its collectives with the native runtime, so compiled programs' allreduce instructions
 * and the eager collectives span every process.  `options` say how model.fit reduces gradients;
 * they are fixed by the first call that gives them (compiled training steps are cached).
 * @example st.distributed.init({ bucketBytes: 4 * 2 ** 20 });
 */
export function init(options: DistributedOptions = {}): void {
  const want = checkOptions(options);
  if (Object.keys(options).length) {
    if (reductionSet && (want.bucketBytes !== reduction.bucketBytes || want.overlap !== reduction.overlap))
      throw new SymtensorError('ERR_ST_ARG', 'st.distributed.init', `the gradient reduction was already set to ${JSON.stringify(reduction)}; it cannot change to ${JSON.stringify(want)}`);
    Object.assign(reduction, want);
    reductionSet = true;
  }
  if (!state.initialized) Object.assign(state, joinWorld(process.env, loadMpiAddon));
}

/** @internal How model.fit reduces gradients (init's options). */
export function gradientReduction(): Required<DistributedOptions> {
  return { ...reduction };
}

/**
 * @internal What init() does, given the environment and the addon loader (tests pass a loader that
 * finds nothing): the world to record, after loading and initializing MPI when a launcher is there.
 */
export function joinWorld(env: NodeJS.ProcessEnv, load: typeof loadMpiAddon): WorldState {
  const launcher = launcherVariable(env);
  if (!launcher) return { initialized: true, rank: 0, size: 1, mpi: null, threadLevel: null };
  const found = load();
  if (!('addon' in found))
    throw new SymtensorError(
      'ERR_ST_LOAD',
      'st.distributed.init',
      `this process runs under an MPI launcher (${launcher}) but symtensor was built without MPI: ` +
        `no symtensor_mpi.node could be loaded.\nLooked in:\n${found.tried.join('\n')}\n` +
        `To fix: install an MPI with its headers (Debian/Ubuntu: apt-get install libopenmpi-dev openmpi-bin) and ` +
        `rebuild symtensor from source (\`SYMTENSOR_BUILD_FROM_SOURCE=1 npm rebuild symtensor\`); CMake builds the MPI ` +
        `addon when it finds MPI.  Prebuilt binaries do not include it.`,
    );
  const mpi = found.addon;
  let info: ReturnType<MpiAddon['init']>;
  try {
    info = mpi.init();
    native.setCollectives(info.table);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    throw new SymtensorError(err.code === 'ERR_ST_ARG' ? 'ERR_ST_ARG' : 'ERR_ST_INTERNAL', 'st.distributed.init', String(err.message ?? e));
  }
  // A rank that fails must not leave the others waiting in a collective: it exits without
  // finalizing (MPI_Finalize would wait for them), and the launcher, seeing a process end early,
  // ends the job; the failing rank's own error message still reaches the output.  A normal end
  // finalizes MPI (the addon also does at exit, should this handler not run).
  process.once('exit', (code) => {
    if (code !== 0) mpi.skipFinalize();
    else mpi.finalize();
  });
  return { initialized: true, rank: info.rank, size: info.size, mpi, threadLevel: info.threadLevel };
}

/** True once init() ran. */
export function isInitialized(): boolean {
  return state.initialized;
}

/** This process's rank: 0 before init() and outside MPI. */
export function worldRank(): number {
  return state.rank;
}

/** The number of processes: 1 before init() and outside MPI. */
export function worldSize(): number {
  return state.size;
}

/** True when init() ran and the world has more than one process. */
export function isDistributed(): boolean {
  return state.initialized && state.size > 1;
}

/** The thread level MPI provides ('MPI_THREAD_SERIALIZED' …), or null when MPI is not loaded. */
export function mpiThreadLevel(): string | null {
  return state.threadLevel;
}

/**
 * Refuses a collective under a launcher before init(): it would silently act on this process
 * alone while the other ranks expect to take part.
 */
export function requireWorld(op: string): void {
  if (state.initialized) return;
  const launcher = launcherVariable();
  if (launcher)
    throw new SymtensorError('ERR_ST_ARG', op, `this process runs under an MPI launcher (${launcher}): call st.distributed.init() before any collective`);
}

/** @internal The MPI addon once init() loaded it. */
export function mpiAddon(): MpiAddon | null {
  return state.mpi;
}
