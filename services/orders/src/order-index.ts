// What listing and recovery need to know about every order, in memory, fed change by change from
// the bucket's watch (order-index-feed.ts). It does no I/O: a change goes in, queries come out.
//
//   - every order, and its id in creation order overall and per state (a page is a binary search
//     and `pageSize` steps, whatever the number of orders);
//   - the orders recovery may have to drive on: not terminal, or with events in the outbox;
//   - the idempotency claims (`idem.*`) that still exist, so their expiry touches only them.
import type { ordersV1 } from '@catmesh/proto';
import { decodeRecord, isTerminal, type StoredOrder } from './order-record.js';
import { SortedIds } from './sorted-ids.js';

type Order = ordersV1.Order;
type OrderState = ordersV1.OrderState;

/** One change of one key, at the bucket revision (stream sequence) that made it. */
export type KeyChange =
  | {
      readonly kind: 'put';
      readonly key: string;
      readonly revision: number;
      readonly value: unknown;
    }
  | {
      readonly kind: 'delete';
      readonly key: string;
      readonly revision: number;
      /** When the delete was made (the marker's age decides when it is purged). */
      readonly atMs: number;
    };

export const ORDER_PREFIX = 'order.';
export const CLAIM_PREFIX = 'idem.';

/** A delete marker still in the bucket: the key, the revision of the delete and its time. */
export interface MarkerEntry {
  readonly key: string;
  readonly revision: number;
  readonly atMs: number;
}

/** A claim key and the revision it was written at (its delete compares against it). */
export interface ClaimEntry {
  readonly key: string;
  readonly orderId: string;
  readonly revision: number;
}

export class OrderIndex {
  readonly #orders = new Map<string, Order>();
  readonly #all = new SortedIds();
  readonly #byState = new Map<OrderState, SortedIds>();
  /** Orders recovery may have to move on (not terminal, or with unpublished events). */
  readonly #unfinished = new Set<string>();
  readonly #claims = new Map<string, ClaimEntry>();
  /** Delete markers in the bucket, oldest first (deletes arrive in revision order). */
  readonly #markers = new Map<string, MarkerEntry>();
  #revision = 0;

  /** The highest bucket revision applied: every change up to it is in the index. */
  get revision(): number {
    return this.#revision;
  }

  get orderCount(): number {
    return this.#orders.size;
  }

  /** Applies one change; a change at or below the applied revision (a redelivery) is ignored. */
  apply(change: KeyChange): void {
    if (change.revision <= this.#revision) return;
    this.#revision = change.revision;
    // Re-inserted, so the map stays in the order the deletes were made.
    this.#markers.delete(change.key);
    if (change.kind === 'delete')
      this.#markers.set(change.key, {
        key: change.key,
        revision: change.revision,
        atMs: change.atMs,
      });
    if (change.key.startsWith(ORDER_PREFIX)) this.#applyOrder(change);
    else if (change.key.startsWith(CLAIM_PREFIX)) this.#applyClaim(change);
  }

  /** Up to `pageSize` orders older than `after` ('' for the newest), newest first. */
  page(query: { pageSize: number; after: string; state: OrderState | undefined }): {
    orders: Order[];
    nextPageToken: string;
  } {
    const ids = query.state === undefined ? this.#all : this.#byState.get(query.state);
    if (!ids) return { orders: [], nextPageToken: '' };
    const { ids: page, more } = ids.newestBefore(query.after, query.pageSize);
    return {
      orders: page.map((id) => this.#orders.get(id)!),
      nextPageToken: more ? page.at(-1)! : '',
    };
  }

  /** Ids of the orders recovery may have to drive on. */
  unfinishedIds(): string[] {
    return [...this.#unfinished];
  }

  order(id: string): Order | undefined {
    return this.#orders.get(id);
  }

  isUnfinished(id: string): boolean {
    return this.#unfinished.has(id);
  }

  claims(): ClaimEntry[] {
    return [...this.#claims.values()];
  }

  /** Up to `limit` delete markers made before `beforeMs`, oldest first. */
  markersBefore(beforeMs: number, limit: number): MarkerEntry[] {
    const due: MarkerEntry[] = [];
    for (const marker of this.#markers.values()) {
      if (marker.atMs >= beforeMs || due.length === limit) break;
      due.push(marker);
    }
    return due;
  }

  /**
   * A marker this process purged: a purge reaches no watch, so the index is told. Only that
   * marker: a later write of the key (a newer entry) stays.
   */
  markerPurged(marker: MarkerEntry): void {
    if (this.#markers.get(marker.key)?.revision === marker.revision)
      this.#markers.delete(marker.key);
  }

  #applyOrder(change: KeyChange): void {
    const id = change.key.slice(ORDER_PREFIX.length);
    const before = this.#orders.get(id);
    if (before) this.#stateIds(before.state).remove(id);
    if (change.kind === 'delete') {
      this.#orders.delete(id);
      this.#all.remove(id);
      this.#unfinished.delete(id);
      return;
    }
    const record = decodeRecord(change.value as StoredOrder);
    this.#orders.set(id, record.order);
    if (!before) this.#all.add(id);
    this.#stateIds(record.order.state).add(id);
    if (isTerminal(record.order.state) && record.outbox.length === 0) this.#unfinished.delete(id);
    else this.#unfinished.add(id);
  }

  #applyClaim(change: KeyChange): void {
    if (change.kind === 'delete') {
      this.#claims.delete(change.key);
      return;
    }
    const orderId = (change.value as { orderId?: unknown }).orderId;
    if (typeof orderId !== 'string') return;
    this.#claims.set(change.key, { key: change.key, orderId, revision: change.revision });
  }

  #stateIds(state: OrderState): SortedIds {
    let ids = this.#byState.get(state);
    if (!ids) {
      ids = new SortedIds();
      this.#byState.set(state, ids);
    }
    return ids;
  }
}
