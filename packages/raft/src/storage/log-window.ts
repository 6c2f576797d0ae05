// The shape of the log as the WAL's records change it, shared by replay (which keeps whole
// entries) and the writer (which keeps only terms, to validate appends and decide snapshots), so
// that both apply the same rules.

/** Items for the consecutive indexes (base, base + items.length]. */
export class LogWindow<T> {
  private items: T[] = [];

  constructor(private firstMissing: number) {}

  /** The index just before the first item held (entries at or below it are not held). */
  get base(): number {
    return this.firstMissing;
  }

  get lastIndex(): number {
    return this.firstMissing + this.items.length;
  }

  /** The item at `index`, if held. */
  at(index: number): T | undefined {
    return index > this.firstMissing ? this.items[index - this.firstMissing - 1] : undefined;
  }

  /**
   * Appends `item` at `index`, first dropping every item at or after `index` (a conflicting
   * suffix being overwritten). `index` may be at most lastIndex + 1.
   */
  append(index: number, item: T): void {
    if (index > this.lastIndex + 1) {
      throw new RangeError(`log append at ${index} leaves a gap after ${this.lastIndex}`);
    }
    if (index <= this.firstMissing) {
      // Overwrites reach below what is held (replay of a compacted log): start afresh there.
      this.items = [];
      this.firstMissing = index - 1;
    } else {
      this.items.length = index - this.firstMissing - 1;
    }
    this.items.push(item);
  }

  /** Drops the items at or below `index`, keeping the ones after it. */
  dropThrough(index: number): void {
    if (index <= this.firstMissing) return;
    this.items.splice(0, Math.min(index - this.firstMissing, this.items.length));
    this.firstMissing = index;
  }

  /** Drops everything: the log now ends at `index`. */
  reset(index: number): void {
    this.items = [];
    this.firstMissing = index;
  }

  values(): readonly T[] {
    return this.items;
  }
}
