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
        if (l < n && this.before(items[l]!, smallest) < 0) { m = l; smallest = items[l]!; }
        if (r < n && this.before(items[r]!, smallest) < 0) { m = r; smallest = items[r]!; }
        if (m < 0) break;
        items[i] = smallest;
        i = m;
      }
      items[i] = last;
    }
    return top;
  }
}
