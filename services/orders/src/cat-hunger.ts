// Hunger returns on a timer: a fed cat goes back to `hungry` CATMESH_HUNGER_AFTER after its last
// feeding. The last feeding is recorded in the orders bucket (not in a process's memory), so the
// timer survives the replica that fed the cat; every replica checks it, and the swap back is a
// compare-and-swap on the revision the feeding wrote, so only the newest feeding is ever undone,
// and only once.
import type { Logger } from '@catmesh/runtime';
import type { CatFeederClient } from './cat-feeder-client.js';
import type { JsonBucket } from '@catmesh/runtime';
import { inNewTrace } from './traced.js';

const FEEDING_KEY = 'cat.feeding';

interface FeedingRecord {
  /** cat-feeder's revision of the `full` write. */
  readonly modRevision: number;
  readonly fedAtMs: number;
  /** Set once the cat has been made hungry again (or a newer write made that moot). */
  readonly settledAtMs?: number;
}

export interface CatHungerOptions {
  readonly bucket: JsonBucket;
  readonly catFeeder: CatFeederClient;
  readonly hungerAfterMs: number;
  readonly logger: Logger;
}

export class CatHunger {
  readonly #options: CatHungerOptions;

  constructor(options: CatHungerOptions) {
    this.#options = options;
  }

  /** Remembers a feeding, unless a newer one is already remembered. */
  async recordFeeding(modRevision: number): Promise<void> {
    await this.#options.bucket.compareAndSet<FeedingRecord, undefined>(FEEDING_KEY, (current) =>
      current && current.value.modRevision >= modRevision
        ? { result: undefined }
        : { write: { modRevision, fedAtMs: Date.now() }, result: undefined },
    );
  }

  /** Makes the cat hungry if its last feeding is old enough. */
  async check(): Promise<void> {
    const { bucket, catFeeder, hungerAfterMs, logger } = this.#options;
    const feeding = await bucket.get<FeedingRecord>(FEEDING_KEY);
    if (!feeding || feeding.value.settledAtMs !== undefined) return;
    if (Date.now() < feeding.value.fedAtMs + hungerAfterMs) return;
    const { modRevision } = feeding.value;
    await inNewTrace('cat hunger', { 'catfeeder.fed_revision': modRevision }, async () => {
      const swapped = await catFeeder.makeHungry(modRevision);
      if (swapped) logger.info({ fedRevision: modRevision }, 'the cat is hungry again');
      else logger.info({ fedRevision: modRevision }, 'cat.state changed since; left as it is');
    });
    await bucket.compareAndSet<FeedingRecord, undefined>(FEEDING_KEY, (current) =>
      current?.value.modRevision === modRevision && current.value.settledAtMs === undefined
        ? { write: { ...current.value, settledAtMs: Date.now() }, result: undefined }
        : { result: undefined },
    );
  }
}
