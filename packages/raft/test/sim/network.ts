// A simulated network between replicas: per-message delay, loss, duplication, reordering, and
// blocked links (symmetric partitions are two one-way blocks). Like the gRPC stream a real
// transport keeps per peer, a link is FIFO, except for the messages picked for reordering (a
// reconnect, a retry) and long delays. Messages due at the same tick are delivered in a random
// order across links.
import type { Message, NodeId } from '../../src/core/index.js';
import type { Prng } from '@catmesh/faults';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  drop: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Usual delay range in ticks (inclusive). */
  minDelay: number;
  maxDelay: number;
  /** Probability of a long delay (up to longDelay ticks): reorders across heartbeats. */
  longDelayChance: number;
  longDelay: number;
  /** Probability that a message ignores its link's order. */
  reorder: number;
}

interface InFlight {
  readonly m: Message;
  readonly seq: number;
  readonly fifo: boolean;
}

export type DropReason = 'partition' | 'loss';

export class SimNetwork {
  private readonly queue = new Map<number, InFlight[]>();
  /** Per link, the delivery tick of its latest FIFO message. */
  private readonly linkTail = new Map<string, number>();
  private seq = 0;
  /** Blocked directed links, as "from>to". */
  private readonly blocked = new Set<string>();
  sent = 0;
  dropped = 0;

  constructor(
    private readonly prng: Prng,
    public faults: NetworkFaults,
  ) {}

  linkUp(from: NodeId, to: NodeId): boolean {
    return !this.blocked.has(`${from}>${to}`);
  }

  block(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Cuts every link between the two groups, both ways. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.block(x, y);
        this.block(y, x);
      }
    }
  }

  /** Restores every link to and from `id`. */
  reconnect(id: NodeId): void {
    for (const link of [...this.blocked]) {
      const [from, to] = link.split('>');
      if (Number(from) === id || Number(to) === id) this.blocked.delete(link);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }

  describeBlocked(): string {
    return [...this.blocked].sort().join(' ');
  }

  /**
   * Queues a message for delivery, or returns why it was dropped at once. A blocked link drops
   * it (the transport would see the connection down); otherwise it may be lost in flight.
   */
  send(m: Message, now: number): DropReason | undefined {
    this.sent++;
    if (!this.linkUp(m.from, m.to)) {
      this.dropped++;
      return 'partition';
    }
    if (this.prng.chance(this.faults.drop)) {
      this.dropped++;
      return 'loss';
    }
    this.schedule(m, now);
    if (this.prng.chance(this.faults.duplicate)) this.schedule(m, now);
    return undefined;
  }

  private schedule(m: Message, now: number): void {
    const f = this.faults;
    const long = this.prng.chance(f.longDelayChance);
    const delay = long
      ? this.prng.int(f.maxDelay + 1, f.longDelay)
      : this.prng.int(f.minDelay, f.maxDelay);
    let at = now + Math.max(1, delay);
    const fifo = !long && !this.prng.chance(f.reorder);
    if (fifo) {
      const link = `${m.from}>${m.to}`;
      at = Math.max(at, this.linkTail.get(link) ?? 0);
      this.linkTail.set(link, at);
    }
    let bucket = this.queue.get(at);
    if (bucket === undefined) {
      bucket = [];
      this.queue.set(at, bucket);
    }
    bucket.push({ m, seq: this.seq++, fifo });
  }

  /** Messages due at `now` (random order across links, FIFO within one); cut links drop theirs. */
  takeDue(now: number): { deliver: Message[]; cut: Message[] } {
    const due = this.queue.get(now);
    if (due === undefined) return { deliver: [], cut: [] };
    this.queue.delete(now);
    const bucket = this.prng.shuffle(due);
    // Put each link's FIFO messages back in send order, in the slots the shuffle gave them.
    const slots = new Map<string, number[]>();
    bucket.forEach((x, i) => {
      if (!x.fifo) return;
      const link = `${x.m.from}>${x.m.to}`;
      const list = slots.get(link);
      if (list === undefined) slots.set(link, [i]);
      else list.push(i);
    });
    for (const positions of slots.values()) {
      const inOrder = positions.map((i) => bucket[i]!).sort((a, b) => a.seq - b.seq);
      positions.forEach((pos, k) => (bucket[pos] = inOrder[k]!));
    }
    const deliver: Message[] = [];
    const cut: Message[] = [];
    for (const { m } of bucket) {
      if (this.linkUp(m.from, m.to)) deliver.push(m);
      else cut.push(m);
    }
    this.dropped += cut.length;
    return { deliver, cut };
  }
}
