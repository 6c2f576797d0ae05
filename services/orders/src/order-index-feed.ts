// Keeps an OrderIndex up to date from the `orders` bucket's watch (a JetStream ordered consumer:
// every change in stream-sequence order, the sequence being the key's revision).
//
// Correctness, in the order things happen:
//   1. Build: a watch that first delivers the last value of every key (DeliverLastPerSubject, one
//      consumer, so it is one consistent listing) and then every later change on the same
//      consumer: no gap and no duplicate between the listing and what follows it. The index is
//      served only once the consumer reported nothing pending (or the bucket was empty).
//   2. Break (NATS restarted or reconnected, the consumer vanished): the watch is re-created from
//      the applied revision + 1, so nothing is missed; a redelivered revision is ignored by the
//      index. The reconnect is acted on at once rather than after the client's missed heartbeats.
//   3. Compaction: with history 1 a superseded value is gone, which is fine (its successor is
//      delivered), but delete markers are removed too once older than MARKER_RETENTION_MS
//      (claim-expiry.ts purges them). A break longer than RELIST_AFTER_BREAK_MS may have missed a
//      removed marker, so then the index is rebuilt from scratch (step 1) and swapped in whole.
//   4. Read-your-writes: `indexAt(revision)` waits until the index has applied a revision, so a
//      page is never served from an index behind what this process wrote.
import { setTimeout as sleep } from 'node:timers/promises';
import { Events, type KV, type KvEntry, type NatsConnection, type QueuedIterator } from 'nats';
import type { Logger } from '@catmesh/runtime';
import { OrderIndex, type KeyChange } from './order-index.js';

/** Delete markers older than this are removed from the bucket (claim-expiry.ts). */
export const MARKER_RETENTION_MS = 30 * 60_000;
/** A break at most this long resumes; a longer one may have missed removed markers. */
export const RELIST_AFTER_BREAK_MS = MARKER_RETENTION_MS / 3;
const RETRY_MS = 200;

export interface OrderIndexFeedOptions {
  readonly kv: KV;
  readonly connection: NatsConnection;
  readonly logger: Logger;
  /** Overrides RELIST_AFTER_BREAK_MS (tests force a rebuild with 0). */
  readonly relistAfterBreakMs?: number;
}

interface Waiter {
  readonly revision: number;
  readonly resolve: (index: OrderIndex) => void;
}

export class OrderIndexFeed {
  readonly #options: OrderIndexFeedOptions;
  /** The index queries see; undefined until the first build completes. */
  #served: OrderIndex | undefined;
  #watch: QueuedIterator<KvEntry> | undefined;
  #waiters: Waiter[] = [];
  #stopped = false;
  #running: Promise<void> = Promise.resolve();
  #ready!: () => void;
  /** When the served index stopped following the bucket; undefined while it follows. */
  #brokeAt: number | undefined;
  /** Builds and rebuilds, for metrics and tests. */
  builds = 0;
  resumes = 0;

  constructor(options: OrderIndexFeedOptions) {
    this.#options = options;
  }

  /** Starts following; resolves once the first index is built. */
  async start(): Promise<void> {
    const ready = new Promise<void>((resolve) => (this.#ready = resolve));
    this.#running = this.#follow();
    void this.#watchReconnects();
    await ready;
  }

  /** The served index once it has applied `revision`, or undefined after `timeoutMs`. */
  async indexAt(revision: number, timeoutMs: number): Promise<OrderIndex | undefined> {
    const served = this.#served;
    if (served && served.revision >= revision) return served;
    let waiter: Waiter | undefined;
    const reached = new Promise<OrderIndex>((resolve) => {
      waiter = { revision, resolve };
      this.#waiters.push(waiter);
    });
    const timer = sleep(timeoutMs, undefined, { ref: false });
    const index = await Promise.race([reached, timer]);
    this.#waiters = this.#waiters.filter((w) => w !== waiter);
    return index;
  }

  /** The served index as it is (recovery works from any consistent state: every step is a CAS). */
  get current(): OrderIndex | undefined {
    return this.#served;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.stop();
    await this.#running;
  }

  async #follow(): Promise<void> {
    const relistAfter = this.#options.relistAfterBreakMs ?? RELIST_AFTER_BREAK_MS;
    while (!this.#stopped) {
      const served = this.#served;
      const resume =
        served !== undefined &&
        this.#brokeAt !== undefined &&
        Date.now() - this.#brokeAt <= relistAfter;
      try {
        if (resume) {
          this.resumes += 1;
          await this.#consume(served, served.revision + 1);
        } else {
          this.builds += 1;
          await this.#consume(new OrderIndex(), undefined);
        }
      } catch (err) {
        if (!this.#stopped) this.#options.logger.warn({ err }, 'order index watch failed');
      }
      // The first failure since the index was live starts the break; retries do not reset it.
      this.#brokeAt ??= Date.now();
      if (!this.#stopped) await sleep(RETRY_MS);
    }
  }

  /** Runs one watch into `index` until it ends; `from` undefined means a fresh listing. */
  async #consume(index: OrderIndex, from: number | undefined): Promise<void> {
    const { kv } = this.#options;
    const fresh = from === undefined;
    const empty = fresh && (await kv.status()).values === 0;
    const watch = await kv.watch({ key: '>', ...(fresh ? {} : { resumeFromRevision: from }) });
    this.#watch = watch;
    if (this.#stopped) watch.stop();
    // A resumed watch is live again from `from` on: the index it feeds needs no rebuild.
    if (!fresh) this.#brokeAt = undefined;
    if (empty || !fresh) this.#serve(index);
    for await (const entry of watch) {
      index.apply(changeOf(entry));
      if (fresh && entry.delta === 0 && this.#served !== index) this.#serve(index);
      if (this.#served === index) this.#release(index);
    }
  }

  #serve(index: OrderIndex): void {
    this.#served = index;
    this.#brokeAt = undefined;
    this.#ready();
    this.#release(index);
  }

  #release(index: OrderIndex): void {
    if (this.#waiters.length === 0) return;
    const due = this.#waiters.filter((w) => w.revision <= index.revision);
    if (due.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.revision > index.revision);
    for (const waiter of due) waiter.resolve(index);
  }

  /** A reconnect means the ordered consumer may be gone: re-create it now, from where we are. */
  async #watchReconnects(): Promise<void> {
    for await (const status of this.#options.connection.status()) {
      if (this.#stopped) return;
      if (status.type === Events.Reconnect) this.#watch?.stop();
    }
  }
}

function changeOf(entry: KvEntry): KeyChange {
  return entry.operation === 'PUT'
    ? { kind: 'put', key: entry.key, revision: entry.revision, value: entry.json<unknown>() }
    : {
        kind: 'delete',
        key: entry.key,
        revision: entry.revision,
        atMs: entry.created.getTime(),
      };
}
