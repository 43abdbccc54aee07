// Repeated eager instructions run as one-instruction Programs.
//
// native.exec reads and checks every shape and attribute of an instruction on every call; a
// Program checks them once, when it is created, and a run reads only its input buffers (the
// route compiled functions take).  An eager instruction seen a second time with the same
// signature (opcode, input and output dtypes and shapes, every attribute, bit for bit) becomes a
// cached Program, used from the third call on.  Calls that are not cached go through execOp, so
// a signature is cached only once it has passed every check; a failing run falls back to execOp,
// which gives the error exactly as an uncached call would.  A signature seen once costs no
// allocation (only its hash is remembered): a stream of ever-new numbers stays cheap.

import { DTYPE_CODE } from '../dtype';
import { NativeBuffer, NativeProgram, ProgramDescription, native } from '../native';
import { Op, SLOT } from '../ops.generated';
import { EMPTY_BUF, NO_ATTRS, OutSpec, REUSE_MIN_ELEMENTS, Tensor, execElemwise, execOp } from './tensor';
import { sizeOf } from './shape-util';

/** Opcodes without side effects whose outputs depend only on the instruction and the input data. */
const PURE_OPS: ReadonlySet<number> = new Set([Op.ELEMWISE, Op.COPY, Op.CONCAT, Op.PAD, Op.REDUCE, Op.ARGREDUCE, Op.MATMUL, Op.SOFTMAX, Op.LOG_SOFTMAX]);

/** Signatures longer than this (in numbers) are not cached. */
const KEY_MAX = 256;
/** At most this many Programs are kept; the oldest goes first. */
const CACHE_LIMIT = 256;
/** At most this many hashes of signatures seen once are remembered; the oldest goes first. */
const SEEN_LIMIT = 1024;

/** The signature being looked up, as float64s; compared bit for bit through the int32 view. */
const keyF = new Float64Array(KEY_MAX);
const keyI = new Int32Array(keyF.buffer);

interface CachedInstr {
  /** The signature's bits (int32 words). */
  key: Int32Array;
  /** Its Program; null when creating it failed (the signature then always takes execOp). */
  prog: NativeProgram | null;
}

/** Cached Programs by signature hash, oldest first (a Map iterates in insertion order). */
const cache = new Map<number, CachedInstr>();
/** Hashes of signatures run once, oldest first. */
const seen = new Set<number>();

/** How many numbers of the signature keyF holds. */
let keyLen = 0;

/** Appends v to the signature; false when it is not a number or the signature is too long. */
function put(v: unknown): boolean {
  if (typeof v !== 'number' || keyLen >= KEY_MAX) return false;
  keyF[keyLen++] = v;
  return true;
}

function putShape(shape: readonly number[]): boolean {
  if (!Array.isArray(shape) || !put(shape.length)) return false;
  for (let d = 0; d < shape.length; d++) if (!put(shape[d])) return false;
  return true;
}

/** Writes the signature into keyF; its length in numbers, or -1 when it cannot be cached. */
function writeKey(opcode: number, inputs: Tensor[], outs: OutSpec[], iattr: number[], fattr: number[]): number {
  keyLen = 0;
  if (!put(opcode) || !put(inputs.length) || !put(outs.length) || !put(iattr.length) || !put(fattr.length)) return -1;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (!put(DTYPE_CODE[t.dtype]) || !putShape(t.shape)) return -1;
  }
  for (let i = 0; i < outs.length; i++) {
    const o = outs[i];
    if (!put(DTYPE_CODE[o.dtype]) || !putShape(o.shape)) return -1;
  }
  for (let i = 0; i < iattr.length; i++) if (!put(iattr[i])) return -1;
  for (let i = 0; i < fattr.length; i++) if (!put(fattr[i])) return -1;
  return keyLen;
}

/** FNV-1a over the signature's int32 words. */
function hashKey(len: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < 2 * len; i++) h = Math.imul(h ^ keyI[i], 16777619);
  return h;
}

function sameKey(key: Int32Array, len: number): boolean {
  if (key.length !== 2 * len) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== keyI[i]) return false;
  return true;
}

/** Remembers that the signature of hash h ran once. */
function markSeen(h: number): void {
  if (seen.size >= SEEN_LIMIT) seen.delete(seen.values().next().value!);
  seen.add(h);
}

/** Caches the Program of the instruction whose signature keyF holds (len numbers, hash h). */
function cacheProgram(h: number, len: number, opcode: number, inputs: Tensor[], outs: OutSpec[], iattr: number[], fattr: number[]): void {
  const old = cache.get(h);
  if (old !== undefined) {
    cache.delete(h); // a hash collision: the newer signature takes the place
    if (old.prog !== null) native.disposeProgram(old.prog);
  } else if (cache.size >= CACHE_LIMIT) {
    const [victim, gone] = cache.entries().next().value!;
    cache.delete(victim);
    if (gone.prog !== null) native.disposeProgram(gone.prog);
  }
  const key = keyI.slice(0, 2 * len);
  let prog: NativeProgram | null = null;
  try {
    prog = programOf(opcode, inputs, outs, iattr, fattr);
  } catch {
    // execOp runs this signature from now on (it has just passed execOp's checks)
  }
  cache.set(h, { key, prog });
}

/** The one-instruction Program: inputs in slots 0..n-1, then the outputs. */
function programOf(opcode: number, inputs: Tensor[], outs: OutSpec[], iattr: number[], fattr: number[]): NativeProgram {
  const slots: ProgramDescription['slots'] = [];
  for (const t of inputs) slots.push({ dtype: DTYPE_CODE[t.dtype], shape: t.shape.slice(), kind: SLOT.input, offset: 0 });
  for (const o of outs) slots.push({ dtype: DTYPE_CODE[o.dtype], shape: o.shape.slice(), kind: SLOT.output, offset: 0 });
  const instr = {
    opcode,
    inputs: inputs.map((_, i) => i),
    outputs: outs.map((_, i) => inputs.length + i),
    iattr: iattr.slice(),
    fattr: fattr.slice(),
  };
  return native.createProgram({ slots, bound: slots.map(() => null), arenaBytes: 0, instrs: [instr], copies: [] });
}

/** runProgram's input arrays, one per count, reused (the addon keeps none of them). */
const runArgs: NativeBuffer[][] = [];
let running = false;

/** Runs prog on the inputs' buffers; null when the run failed (the caller then takes execOp). */
function runCached(prog: NativeProgram, op: string, inputs: Tensor[]): NativeBuffer[] | null {
  const n = inputs.length;
  const reuse = !running && n < 16;
  let bufs = reuse ? runArgs[n] : undefined;
  if (bufs === undefined) {
    bufs = new Array<NativeBuffer>(n).fill(EMPTY_BUF);
    if (reuse) runArgs[n] = bufs;
  }
  try {
    for (let i = 0; i < n; i++) bufs[i] = inputs[i].readBuffer(op);
    if (reuse) running = true;
    try {
      return native.runProgram(prog, bufs);
    } catch {
      return null;
    }
  } finally {
    if (reuse) {
      running = false;
      bufs.fill(EMPTY_BUF);
    }
  }
}

/**
 * The eager emitter's emit (./emitter.ts): execOp, or for a pure instruction whose signature was run before, its
 * cached Program (the same instruction, checked once).
 */
export function emitEager(op: string, opcode: number, inputs: Tensor[], outs: OutSpec[], iattr: number[] = NO_ATTRS, fattr: number[] = NO_ATTRS): Tensor[] {
  // large elementwise results may reuse the block of the one before (tensor.ts): the time saved
  // by a cached Program is nothing beside the kernel's there
  if (opcode === Op.ELEMWISE && outs.length === 1 && sizeOf(outs[0].shape) >= REUSE_MIN_ELEMENTS) return [execElemwise(op, inputs, outs[0], iattr, fattr)];
  if (!PURE_OPS.has(opcode)) return execOp(op, opcode, inputs, outs, iattr, fattr);
  const len = writeKey(opcode, inputs, outs, iattr, fattr);
  if (len < 0) return execOp(op, opcode, inputs, outs, iattr, fattr);
  const h = hashKey(len);
  const hit = cache.get(h);
  const same = hit !== undefined && sameKey(hit.key, len);
  if (!same || hit.prog === null) {
    const out = execOp(op, opcode, inputs, outs, iattr, fattr);
    if (same) return out; // its Program could not be made
    // the second run of a signature (that passed execOp's checks both times) caches its Program
    if (seen.delete(h)) cacheProgram(h, writeKey(opcode, inputs, outs, iattr, fattr), opcode, inputs, outs, iattr, fattr);
    else markSeen(h);
    return out;
  }
  const res = runCached(hit.prog, op, inputs);
  if (res === null) return execOp(op, opcode, inputs, outs, iattr, fattr);
  // the addon's fresh result array becomes the tensor array
  const tensors = res as unknown as Tensor[];
  for (let i = 0; i < outs.length; i++) tensors[i] = Tensor.fromNative(res[i], outs[i].shape, outs[i].dtype);
  return tensors;
}
