/**
 * A FIFO of fixed capacity (a ring buffer). When full, pushing evicts the oldest item: for Raft
 * the newest messages carry the most current terms, commits and heartbeats, and whatever is
 * evicted Raft sends again.
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Appends `item`; returns true when that evicted the oldest one. */
  push(item: T): boolean {
    const evicts = this.size === this.capacity;
    this.items[(this.head + this.size) % this.capacity] = item;
    if (evicts) this.head = (this.head + 1) % this.capacity;
    else this.size += 1;
    return evicts;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size -= 1;
    return item;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}
