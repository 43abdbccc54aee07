// Memory planning: temporaries whose lifetimes do not overlap share arena bytes.
import { Heap } from './heap';

export interface Interval {
  /** Storage group id. */
  id: number;
  bytes: number;
  /** First instruction that writes it and last that reads it (inclusive). */
  start: number;
  end: number;
}

const ALIGN = 64;

/** A free byte range [lo, hi) below the top of the arena. */
interface Hole {
  lo: number;
  hi: number;
}

/**
 * Assigns byte offsets (64-aligned) so that no two intervals alive at the same time overlap.
 * Two planners: a sweep in instruction order (n·log n, any size) and, for programs of up to
 * GREEDY_MAX intervals, largest-first placement (quadratic, but often tighter when small
 * long-lived values would split the sweep's free space); the smaller arena wins.
 */
export function planMemory(intervals: Interval[]): { offsets: Map<number, number>; arenaBytes: number } {
  const sweep = planBySweep(intervals);
  if (intervals.length > GREEDY_MAX) return sweep;
  const greedy = planLargestFirst(intervals);
  return greedy.arenaBytes <= sweep.arenaBytes ? greedy : sweep;
}

/** Above this many intervals only the sweep runs (largest-first costs n² / 2 overlap tests). */
export const GREEDY_MAX = 1024;

const alignedSize = (bytes: number) => Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);

/**
 * Largest first, each at the lowest offset that fits among the blocks already placed that are
 * alive at the same time.
 */
export function planLargestFirst(intervals: Interval[]): { offsets: Map<number, number>; arenaBytes: number } {
  const placed: { start: number; end: number; lo: number; hi: number }[] = [];
  const offsets = new Map<number, number>();
  let arena = 0;
  const order = intervals.slice().sort((a, b) => b.bytes - a.bytes || a.start - b.start);
  for (const iv of order) {
    const size = alignedSize(iv.bytes);
    const live = placed.filter((p) => p.start <= iv.end && iv.start <= p.end).sort((a, b) => a.lo - b.lo);
    let offset = 0;
    for (const p of live) {
      if (offset + size <= p.lo) break;
      offset = Math.max(offset, p.hi);
    }
    placed.push({ start: iv.start, end: iv.end, lo: offset, hi: offset + size });
    offsets.set(iv.id, offset);
    arena = Math.max(arena, offset + size);
  }
  return { offsets, arenaBytes: arena };
}

/**
 * One sweep in instruction order, like an allocator that knows every lifetime: at each start the
 * blocks that died before it are freed (merged with free neighbours, and given back to the top
 * when they reach it), and the new block takes the smallest hole it fits (largest block first
 * among those starting together), else goes on top.  n·log n in the number of intervals, plus
 * the holes scanned per block (few: holes never touch each other).
 */
export function planBySweep(intervals: Interval[]): { offsets: Map<number, number>; arenaBytes: number } {
  const offsets = new Map<number, number>();
  const order = intervals.slice().sort((a, b) => a.start - b.start || b.bytes - a.bytes);
  const live = new Heap<{ end: number; lo: number; hi: number }>((b) => b.end);
  const holes: Hole[] = []; // sorted by lo, never adjacent to each other or to the top
  let top = 0;
  let arena = 0;
  const free = (lo: number, hi: number) => {
    let i = lowerBound(holes, lo);
    if (i > 0 && holes[i - 1].hi === lo) lo = holes[--i].lo, holes.splice(i, 1);
    if (i < holes.length && holes[i].lo === hi) hi = holes[i].hi, holes.splice(i, 1);
    if (hi === top) top = lo;
    else holes.splice(i, 0, { lo, hi });
  };
  for (const iv of order) {
    while (live.size && live.peek()!.end < iv.start) {
      const b = live.pop()!;
      free(b.lo, b.hi);
    }
    const size = alignedSize(iv.bytes);
    let best = -1;
    for (let i = 0; i < holes.length; i++) {
      const room = holes[i].hi - holes[i].lo;
      if (room >= size && (best < 0 || room < holes[best].hi - holes[best].lo)) best = i;
    }
    let lo: number;
    if (best >= 0) {
      lo = holes[best].lo;
      if (holes[best].hi - lo === size) holes.splice(best, 1);
      else holes[best].lo += size;
    } else {
      lo = top;
      top += size;
      arena = Math.max(arena, top);
    }
    live.push({ end: iv.end, lo, hi: lo + size });
    offsets.set(iv.id, lo);
  }
  return { offsets, arenaBytes: arena };
}

/** First index whose hole starts at or after lo. */
function lowerBound(holes: Hole[], lo: number): number {
  let a = 0, b = holes.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (holes[m].lo < lo) a = m + 1;
    else b = m;
  }
  return a;
}
