import type { ChangeEvent } from './kv-store.js';

/** A watch asked for revisions the hub no longer remembers. */
export class RevisionCompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly oldestAvailable: number,
  ) {
    super(
      `revision ${requested} is no longer available: watch history starts at revision ${oldestAvailable}`,
    );
  }
}

export interface Watcher {
  readonly prefix: string;
  /** Receives batches of events in revision order, each batch for one or more revisions. */
  readonly deliver: (events: readonly ChangeEvent[]) => void;
}

export interface WatchHandle {
  cancel(): void;
}

/**
 * Fans applied changes out to watchers and remembers a bounded history, so a
 * watch can start from a past revision. History begins where this replica's
 * state did (a restored snapshot's revision + 1): older revisions are reported
 * as compacted, never silently skipped.
 */
export class WatchHub {
  private readonly history: ChangeEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private firstRevision: number;

  constructor(
    startRevision: number,
    private readonly maxHistory = 10_000,
  ) {
    this.firstRevision = startRevision + 1;
  }

  /** The state jumped to a snapshot: history before it is gone. */
  reset(revision: number): void {
    this.history.length = 0;
    this.firstRevision = revision + 1;
  }

  publish(events: readonly ChangeEvent[]): void {
    if (events.length === 0) return;
    this.history.push(...events);
    // Trimmed in chunks of a quarter of the limit, so a busy store does not shift the whole
    // history on every write.
    if (this.history.length > this.maxHistory * 1.25) {
      this.history.splice(0, this.history.length - this.maxHistory);
      this.firstRevision = this.history[0]!.kv.modRevision;
    }
    for (const watcher of this.watchers) {
      const matching = events.filter((e) => e.kv.key.startsWith(watcher.prefix));
      if (matching.length > 0) watcher.deliver(matching);
    }
  }

  /**
   * Starts a watch. `fromRevision` 0 means "changes after now"; otherwise every
   * remembered change at or after it is delivered first, then live changes.
   */
  watch(watcher: Watcher, fromRevision: number): WatchHandle {
    if (fromRevision > 0) {
      if (fromRevision < this.firstRevision) {
        throw new RevisionCompactedError(fromRevision, this.firstRevision);
      }
      const backlog = this.history.filter(
        (e) => e.kv.modRevision >= fromRevision && e.kv.key.startsWith(watcher.prefix),
      );
      if (backlog.length > 0) watcher.deliver(backlog);
    }
    this.watchers.add(watcher);
    return { cancel: () => this.watchers.delete(watcher) };
  }

  get watcherCount(): number {
    return this.watchers.size;
  }
}
