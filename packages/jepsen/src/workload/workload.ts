import { createPrng, type Prng } from '@catmesh/faults';
import type { KvOperation } from '@catmesh/linearizability';

// The operations the clients run: random get / put / cas over a few keys. Every written value is
// unique in the run, so a read names the write it saw. Keys are retired after `opsPerKey`
// operations and replaced by fresh ones: the checker's work grows with each key's history (most
// of all with its writes of unknown outcome), so short per-key histories keep long runs checkable.

export interface WorkloadOptions {
  readonly seed: number | string;
  /** Keys in use at once. */
  readonly keys: number;
  readonly opsPerKey: number;
  /** Starts every key's name; `jepsen/` unless given. A store that outlives runs needs its own. */
  readonly keyPrefix?: string;
}

/** Share of each kind of operation; the rest are puts. */
const GET_SHARE = 0.5;
const CAS_SHARE = 0.2;

export class Workload {
  private readonly prng: Prng;
  private readonly active: { key: string; used: number }[] = [];
  private readonly all: string[] = [];
  private keysMade = 0;
  private valuesMade = 0;
  /** The latest value each key was seen to hold, the expectation of the next cas. */
  private readonly lastSeen = new Map<string, string | null>();

  constructor(private readonly options: WorkloadOptions) {
    this.prng = createPrng(`${String(options.seed)}/workload`);
    for (let i = 0; i < options.keys; i++) this.active.push({ key: this.newKey(), used: 0 });
  }

  /** Every key that has been in use, in order. */
  get keys(): readonly string[] {
    return this.all;
  }

  next(): KvOperation {
    const slot = this.prng.pick(this.active);
    const { key } = slot;
    if (++slot.used >= this.options.opsPerKey) {
      slot.key = this.newKey();
      slot.used = 0;
    }
    const roll = this.prng.next();
    if (roll < GET_SHARE) return { f: 'get', key };
    const value = `v${++this.valuesMade}`;
    if (roll < GET_SHARE + CAS_SHARE) {
      return { f: 'cas', key, expected: this.lastSeen.get(key) ?? null, value };
    }
    return { f: 'put', key, value };
  }

  /** What an acknowledged operation showed the key to hold afterwards. */
  observe(key: string, value: string | null): void {
    this.lastSeen.set(key, value);
  }

  private newKey(): string {
    const key = `${this.options.keyPrefix ?? 'jepsen/'}k${++this.keysMade}`;
    this.all.push(key);
    return key;
  }
}
