// A simulated replica's disk, with the power-loss semantics of the real storage on
// PowerLossJournalFs (src/storage/power-loss-journal.ts): what a Ready hands over is written at
// once but durable only when the fsync after it returns (one WAL, so an fsync covers every write
// before it), and a power loss keeps what was durable plus, maybe, some of the batches written
// after it (the disk may have got to them before it lost power). A WAL batch is whole or absent,
// so a batch is never half kept.
import type { Entry, HardState, Snapshot } from '../../src/core/index.js';
import { InvariantViolation } from './checker.js';

export interface StoredState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

/** What one Ready asks to persist. */
export interface DiskBatch {
  readonly hardState?: HardState | undefined;
  readonly snapshot?: Snapshot | undefined;
  readonly entries: readonly Entry[];
}

export class SimDisk {
  /** What a restart finds. */
  readonly durable: StoredState;
  private unsynced: DiskBatch[] = [];

  constructor(
    private readonly node: number,
    hardState: HardState,
  ) {
    this.durable = { hardState, snapshot: undefined, entries: [] };
  }

  get unsyncedBatches(): number {
    return this.unsynced.length;
  }

  write(batch: DiskBatch): void {
    this.unsynced.push(batch);
  }

  /** The fsync returned: everything written so far is durable. */
  sync(): void {
    for (const batch of this.unsynced) this.apply(batch);
    this.unsynced = [];
  }

  /** Power is lost: the first `kept` unsynced batches reached the disk, the rest are gone. */
  powerLoss(kept: number): void {
    for (const batch of this.unsynced.slice(0, kept)) this.apply(batch);
    this.unsynced = [];
  }

  /** A snapshot of applied state replaces the log up to it (written and fsynced at once). */
  compact(snapshot: Snapshot): void {
    this.sync();
    const s = this.durable;
    s.snapshot = snapshot;
    const drop = s.entries.findIndex((e) => e.index > snapshot.metadata.index);
    s.entries = drop < 0 ? [] : s.entries.slice(drop);
  }

  private apply(batch: DiskBatch): void {
    const s = this.durable;
    if (batch.snapshot !== undefined) {
      s.snapshot = batch.snapshot;
      s.entries = [];
    }
    const first = batch.entries[0];
    if (first !== undefined) {
      const base = s.entries[0]?.index ?? (s.snapshot?.metadata.index ?? 0) + 1;
      const keep = first.index - base;
      if (keep < 0 || keep > s.entries.length) {
        throw new InvariantViolation(
          'storage',
          `node ${this.node}: Ready entries start at ${first.index}, storage holds ${base}..${base + s.entries.length - 1}`,
        );
      }
      s.entries.length = keep;
      for (const e of batch.entries) s.entries.push(e);
    }
    if (batch.hardState !== undefined) s.hardState = batch.hardState;
  }
}
