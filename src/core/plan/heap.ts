/** A binary min-heap of numbers under a comparison (smallest first). */
export class Heap {
  private items: number[] = [];
  constructor(private readonly before: (a: number, b: number) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent]!;
      if (this.before(value, above) >= 0) break;
      items[i] = above;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      // Sift `last` down from the root, moving smaller children up into the hole.
      const n = items.length;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = -1;
        let smallest = last;
        if (l < n && this.before(items[l]!, smallest) < 0) {
          m = l;
          smallest = items[l]!;
        }
        if (r < n && this.before(items[r]!, smallest) < 0) {
          m = r;
          smallest = items[r]!;
        }
        if (m < 0) break;
        items[i] = smallest;
        i = m;
      }
      items[i] = last;
    }
    return top;
  }
}

/**
 * Indices 0..capacity-1 by descending `first`, then descending `second`, then ascending index:
 * a total order compared inline on typed arrays, with no comparison callback (a callback shared by
 * differently ordered heaps is a slow megamorphic call; `Heap` is for the rarely used ones).
 */
export class ReadyHeap {
  private readonly items: Int32Array;
  private count = 0;
  constructor(
    capacity: number,
    private readonly first: Float64Array,
    private readonly second: Float64Array,
  ) {
    this.items = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  private before(a: number, b: number): boolean {
    const fa = this.first[a]!;
    const fb = this.first[b]!;
    if (fa !== fb) return fa > fb;
    const sa = this.second[a]!;
    const sb = this.second[b]!;
    return sa !== sb ? sa > sb : a < b;
  }

  push(value: number): void {
    const items = this.items;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent]!;
      if (!this.before(value, above)) break;
      items[i] = above;
      i = parent;
    }
    items[i] = value;
  }

  /** The first index in the order; only while `size > 0`. */
  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const n = --this.count;
    if (n > 0) {
      const last = items[n]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && this.before(items[l + 1]!, items[l]!) ? l + 1 : l;
        if (!this.before(items[c]!, last)) break;
        items[i] = items[c]!;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }
}
