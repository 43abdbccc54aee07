// Memory planning: temporaries whose lifetimes do not overlap share arena bytes.
export interface Interval {
  /** Storage group id. */
  id: number;
  bytes: number;
  /** First instruction that writes it and last that reads it (inclusive). */
  start: number;
  end: number;
}

const ALIGN = 64;

/**
 * Assigns byte offsets (64-aligned) so that no two intervals alive at the same time overlap.
 * Largest first, each at the lowest offset that fits: simple and within a few percent of optimal
 * for the chain-shaped graphs of training steps.
 */
export function planMemory(intervals: Interval[]): { offsets: Map<number, number>; arenaBytes: number } {
  const placed: { start: number; end: number; lo: number; hi: number }[] = [];
  const offsets = new Map<number, number>();
  let arena = 0;
  const order = intervals.slice().sort((a, b) => b.bytes - a.bytes || a.start - b.start);
  for (const iv of order) {
    const size = Math.max(ALIGN, Math.ceil(iv.bytes / ALIGN) * ALIGN);
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
