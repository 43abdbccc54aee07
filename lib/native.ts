// The only file that loads the addon.  It types the addon's surface and, when loading fails,
// explains what was tried and how to fix it.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { SymtensorError, SymtensorErrorCode } from './errors';

/** A native buffer (an N-API external); opaque to JS. */
export type NativeBuffer = { readonly __nativeBuffer: unique symbol };

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
  alloc(dtype: number, numel: number): NativeBuffer;
  fromTyped(dtype: number, data: ArrayBufferView): NativeBuffer;
  read(buf: NativeBuffer): Float32Array | Float64Array | Int32Array | Uint8Array;
  dispose(buf: NativeBuffer): void;
  isDisposed(buf: NativeBuffer): boolean;
  /** memcpy of src into dst (equal dtype and size). */
  copyInto(dst: NativeBuffer, src: NativeBuffer): void;
  /** While pinned, dispose() of the buffer defers freeing its memory. */
  pin(buf: NativeBuffer): void;
  unpin(buf: NativeBuffer): void;
  memory(): { numTensors: number; numBytes: number };
  backendInfo(): { gemm: string; threads: number; simd: string; opCount: number; ewCount: number };
  exec(
    opcode: number,
    inputs: NativeBuffer[],
    inShapes: number[][],
    outDtypes: number[],
    outShapes: number[][],
    iattr: number[],
    fattr: number[],
  ): NativeBuffer[];
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
