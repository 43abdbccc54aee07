// A binary heap: the memory planner's live set (by end) and lowering's walks in decreasing
// topological position both need "take the smallest" in log time.

/** Smallest `key` first. */
export class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly key: (x: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  /** The smallest item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (this.key(a[up]) <= this.key(a[i])) break;
      [a[up], a[i]] = [a[i], a[up]];
      i = up;
    }
  }

  /** Removes and returns the smallest item. */
  pop(): T | undefined {
    const a = this.items;
    if (a.length <= 1) return a.pop();
    const top = a[0];
    a[0] = a.pop()!;
    for (let i = 0; ; ) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < a.length && this.key(a[l]) < this.key(a[m])) m = l;
      if (r < a.length && this.key(a[r]) < this.key(a[m])) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i], a[m]];
      i = m;
    }
    return top;
  }
}
