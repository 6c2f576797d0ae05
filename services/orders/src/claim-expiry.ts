// Deletes the per-order bookkeeping that is only needed for a while:
//
//   idem.<key>  An idempotency claim maps a client's key to its order, so that a retried
//               PlaceOrder answers the first order instead of placing a second. While the order is
//               not final, the claim is also what ensureOrder re-creates it from. Once the order is
//               final and no outbox event is pending, only a late retry can still need it; after
//               `retentionMs` (CATMESH_IDEMPOTENCY_RETENTION, like Stripe's 24 hours) a retry with
//               that key is a new order, by contract. So the claim is deleted then, not before.
//   markers     A delete leaves a marker message per key; markers older than MARKER_RETENTION_MS
//               are purged too, or the deleted claims would still grow the bucket by one each.
//               The index knows them from the watch, so no pass lists the bucket.
//               Watches broken for longer than a third of that rebuild their index instead of
//               resuming (order-index-feed.ts), so a removed marker is never missed.
//
// The claims to look at come from the index (only those still present): a pass is O(live
// claims), which the retention bounds, not O(all orders).
import { isTerminal } from './order-record.js';
import { MARKER_RETENTION_MS, type OrderIndexFeed } from './order-index-feed.js';
import type { OrderStore } from './order-store.js';

/**
 * Deletes, and marker purges, per pass: a backlog (a first start over a large bucket) is worked
 * off over several passes, one request at a time, so a pass never floods the server.
 */
export const MAX_DELETES_PER_PASS = 1_000;

export interface ClaimExpiryPass {
  readonly deleted: number;
  readonly markersPurged: number;
}

export class ClaimExpiry {
  constructor(
    private readonly deps: { store: OrderStore; index: OrderIndexFeed },
    private readonly retentionMs: number,
    /** Overrides MARKER_RETENTION_MS (the benchmark purges at once). */
    private readonly markerRetentionMs = MARKER_RETENTION_MS,
  ) {}

  async run(now = Date.now()): Promise<ClaimExpiryPass> {
    const { deleted } = await expireClaims(this.deps, this.retentionMs, now);
    return { deleted, markersPurged: await this.#purgeMarkers(now) };
  }

  /** The markers older than the retention, which the index knows (O(markers due), no listing). */
  async #purgeMarkers(now: number): Promise<number> {
    const index = this.deps.index.current;
    if (!index) return 0;
    const due = index.markersBefore(now - this.markerRetentionMs, MAX_DELETES_PER_PASS);
    for (const marker of due) {
      await this.deps.store.purgeMarker(marker.key, marker.revision);
      index.markerPurged(marker);
    }
    return due.length;
  }
}

/** Deletes the claims whose order has been final for `retentionMs`. */
export async function expireClaims(
  deps: { store: OrderStore; index: OrderIndexFeed },
  retentionMs: number,
  now = Date.now(),
): Promise<{ deleted: number }> {
  const index = deps.index.current;
  if (!index) return { deleted: 0 };
  let deleted = 0;
  for (const claim of index.claims()) {
    const order = index.order(claim.orderId);
    // No order yet: PlaceOrder is between its two writes, or crashed there; its retry needs it.
    if (!order || !isTerminal(order.state) || index.isUnfinished(order.id)) continue;
    if (now - order.updatedAtUnixMs < retentionMs) continue;
    await deps.store.deleteClaim(claim.key, claim.revision);
    deleted += 1;
    if (deleted === MAX_DELETES_PER_PASS) break;
  }
  return { deleted };
}
