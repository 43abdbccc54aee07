// The only file that loads the addon.  It types the addon's surface and, when loading fails,
// explains what was tried and how to fix it.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SymtensorError, SymtensorErrorCode } from './errors';

/** A buffer of native memory (an N-API external); opaque to JS. */
export type NativeHandle = { readonly __nativeBuffer: unique symbol };

/**
 * A tensor's data as the addon takes and returns it: a native buffer, or — for a result of at
 * most 64 bytes — a typed array whose memory V8 owns.  The addon returns those as views of a
 * staging area: a synchronous call's is overwritten by the next call, so Tensor.fromNative copies
 * them at once (into arrays that small V8 keeps inside its heap, so a dropped result is plain JS
 * garbage; a one-element result keeps just its value); an async run's is its own, so its views
 * are kept as they are.
 */
export type NativeBuffer = NativeHandle | Float32Array | Float64Array | Int32Array | Uint8Array;

/** A compiled program (an N-API external); opaque to JS. */
export type NativeProgram = { readonly __nativeProgram: unique symbol };

export interface ProgramDescription {
  slots: { dtype: number; shape: number[]; kind: number; offset: number }[];
  bound: (NativeBuffer | null)[];
  arenaBytes: number;
  instrs: { opcode: number; inputs: number[]; outputs: number[]; iattr: number[]; fattr: number[] }[];
  copies: [number, number][];
}

/**
 * What the addon throws (and hands to runProgramAsync's callback): an Error whose `.code` is one of
 * native/ops.def's codes, with the failing instruction's name and index when a program failed.
 */
export interface NativeError extends Error {
  code: SymtensorErrorCode;
  op?: string;
  instr?: number;
}

export interface NativeAddon {
  createProgram(desc: ProgramDescription): NativeProgram;
  runProgram(prog: NativeProgram, inputs: NativeBuffer[]): NativeBuffer[];
  runProgramAsync(prog: NativeProgram, inputs: NativeBuffer[], cb: (err: NativeError | null, outs?: NativeBuffer[]) => void): void;
  disposeProgram(prog: NativeProgram): void;
  setProgramProfile(prog: NativeProgram, on: boolean): void;
  programProfile(prog: NativeProgram): { ns: Float64Array; counts: Float64Array };
  alloc(dtype: number, numel: number): NativeHandle;
  fromTyped(dtype: number, data: ArrayBufferView): NativeHandle;
  read(buf: NativeBuffer): Float32Array | Float64Array | Int32Array | Uint8Array;
  dispose(buf: NativeBuffer): void;
  isDisposed(buf: NativeBuffer): boolean;
  /** memcpy of src into dst (equal dtype and size). */
  copyInto(dst: NativeBuffer, src: NativeBuffer): void;
  /** While pinned, dispose() of the buffer defers freeing its memory. */
  pin(buf: NativeBuffer): void;
  unpin(buf: NativeBuffer): void;
  memory(): { numTensors: number; numBytes: number };
  /**
   * Registers a function that runs a young-generation collection (or removes it: null).
   * Allocations call it, then free what it found dead, once the native memory held has grown
   * enough since the last time to hold dropped results.
   */
  setCollector(fn: (() => void) | null): void;
  backendInfo(): { gemm: string; threads: number; simd: string; opCount: number; ewCount: number };
  exec(
    opcode: number,
    inputs: NativeBuffer[],
    inShapes: number[][],
    outDtypes: number[],
    outShapes: number[][],
    iattr: number[],
    fattr: number[],
    /** ELEMWISE only: existing buffers to write outputs into (null: a new one). */
    into?: (NativeBuffer | null)[],
  ): NativeBuffer[];
  /**
   * Registers the collectives table of the MPI addon (an External from MpiAddon.init) for the
   * ALLREDUCE / BROADCAST / ALLGATHER instructions, or removes it (null): a world of one.
   */
  setCollectives(table: CollectivesTable | null): void;
}

/** The collectives table the MPI addon hands to the main addon (an N-API external); opaque to JS. */
export type CollectivesTable = { readonly __collectivesTable: unique symbol };

/** The optional MPI addon (symtensor_mpi.node), built only where CMake found MPI. */
export interface MpiAddon {
  /** Initializes MPI once per process (idempotent) and describes the world. */
  init(): { rank: number; size: number; threadLevel: string; library: string; version: string; table: CollectivesTable };
  barrier(): void;
  /** MPI_Finalize, when this addon initialized MPI and it is not finalized yet. */
  finalize(): void;
  /** Leaves MPI unfinalized at exit (a failing process: the launcher then ends the job). */
  skipFinalize(): void;
  collectivesVersion: number;
}

export const packageRoot = path.join(__dirname, '..');

function load(): NativeAddon {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
  try {
    return nodeGypBuild(packageRoot) as NativeAddon;
  } catch (e) {
    const tried: string[] = [];
    for (const dir of ['build/Release', 'build/Debug', `prebuilds/${process.platform}-${process.arch}`]) {
      const full = path.join(packageRoot, dir);
      const files = fs.existsSync(full) ? fs.readdirSync(full).filter((f) => f.endsWith('.node')) : [];
      tried.push(`  ${dir}: ${files.length ? files.join(', ') : 'nothing there'}`);
    }
    const cause = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new SymtensorError(
      'ERR_ST_LOAD',
      'load',
      `could not load the symtensor native addon (${cause}).\nLooked in:\n${tried.join('\n')}\n` +
        `To fix: build it from source with \`npm rebuild symtensor\` (needs cmake and a C++17 compiler; ` +
        `on Debian/Ubuntu: apt-get install cmake g++ libopenblas-dev), or install on ` +
        `${process.platform}-${process.arch} with Node >= 20 where a prebuild exists.`,
    );
  }
}

export const native: NativeAddon = load();

/**
 * V8's gc() function, taken from a fresh context so that the main one's globals stay as they
 * are: --expose-gc is on only while that context is made, unless it was on already.
 */
function v8Gc(): ((options?: { type?: 'minor' | 'major' }) => void) | null {
  try {
    const probe = runInNewContext('typeof gc === "function" ? gc : null') as ReturnType<typeof v8Gc>;
    if (probe) return probe;
    setFlagsFromString('--expose-gc');
    try {
      return runInNewContext('gc') as ReturnType<typeof v8Gc>;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  } catch {
    return null;
  }
}

// A dropped result's wrapper is a young object, and a scavenge (typically a fraction of a
// millisecond) clears its weak reference; waiting for the collections V8 paces by JS heap
// pressure alone would let hundreds of MB of dropped results pile up, cold, in the meantime.
// Where no gc() can be had, the addon waits for V8's own collections.
const minorGc = v8Gc();
if (minorGc) native.setCollector(() => minorGc({ type: 'minor' }));

/**
 * Loads the MPI addon from where the main addon's build puts it (build/Release, build/Debug,
 * prebuilds/<platform>-<arch>), or says where it looked and why nothing loaded.  Only
 * st.distributed.init() under an MPI launcher calls it, so libmpi is never loaded otherwise.
 */
export function loadMpiAddon(): { addon: MpiAddon } | { tried: string[] } {
  const tried: string[] = [];
  for (const dir of ['build/Release', 'build/Debug', `prebuilds/${process.platform}-${process.arch}`]) {
    const file = path.join(packageRoot, dir, 'symtensor_mpi.node');
    if (!fs.existsSync(file)) {
      tried.push(`  ${dir}/symtensor_mpi.node: not there`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return { addon: require(file) as MpiAddon };
    } catch (e) {
      tried.push(`  ${dir}/symtensor_mpi.node: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  return { tried };
}
