// Orders in the `orders` Key/Value bucket, changed only by compare-and-set.
//
// Keys:
//   order.<order id>           an OrderRecord (order-record.ts)
//   idem.<base64url of key>    the request an idempotency key was first used for, and its order id
//                              (a claim: deleted by claim-expiry.ts once the retry window of a
//                              final order is over)
//
// PlaceOrder creates the idempotency record FIRST, with `create`, so of two concurrent requests
// with one key exactly one wins and both go on with the winner's order id; the order itself is
// then created from that record, by whichever request gets there (`create` again), so a crash
// between the two writes is repaired by the client's retry.
import type { ordersV1 } from '@catmesh/proto';
import type { JsonBucket } from '@catmesh/runtime';
import {
  decodeRecord,
  encodeRecord,
  isTerminal,
  newOrderRecord,
  withoutPublished,
  withState,
  type OrderRecord,
  type OutboxEvent,
  type StoredOrder,
} from './order-record.js';

/** What an idempotency key was first used for. */
export interface IdempotencyRecord {
  readonly orderId: string;
  readonly customer: string;
  readonly sku: string;
  readonly quantity: number;
  readonly createdAtMs: number;
}

const orderKey = (id: string) => `order.${id}`;
const idempotencyKey = (key: string) => `idem.${Buffer.from(key).toString('base64url')}`;
const ORDER_KEYS = 'order.>';

/** Terminal orders never change: this many are kept in memory to spare listing and recovery. */
const TERMINAL_CACHE_SIZE = 50_000;

export class OrderStore {
  readonly #bucket: JsonBucket;
  readonly #terminal = new Map<string, ordersV1.Order>();
  /** The highest bucket revision this process wrote: pages wait for the index to reach it. */
  #writtenRevision = 0;
  readonly #onWritten = (revision: number) => {
    if (revision > this.#writtenRevision) this.#writtenRevision = revision;
  };

  constructor(bucket: JsonBucket) {
    this.#bucket = bucket;
  }

  /** The record `key` was first used for: `fresh` if this call created it. */
  async claimIdempotencyKey(key: string, fresh: IdempotencyRecord): Promise<IdempotencyRecord> {
    for (;;) {
      const existing = await this.#bucket.get<IdempotencyRecord>(idempotencyKey(key));
      if (existing) return existing.value;
      const written = await this.#bucket.create(idempotencyKey(key), fresh);
      if (written !== 'exists') {
        this.#onWritten(written);
        return fresh;
      }
    }
  }

  /** The order an idempotency record names, created PENDING if it does not exist yet. */
  async ensureOrder(
    idempotency: IdempotencyRecord,
    key: string,
  ): Promise<{ record: OrderRecord; created: boolean }> {
    const fresh = newOrderRecord({
      id: idempotency.orderId,
      idempotencyKey: key,
      customer: idempotency.customer,
      sku: idempotency.sku,
      quantity: idempotency.quantity,
      createdAtUnixMs: idempotency.createdAtMs,
      updatedAtUnixMs: idempotency.createdAtMs,
    });
    for (;;) {
      const existing = await this.get(idempotency.orderId);
      if (existing) return { record: existing, created: false };
      const written = await this.#bucket.create(orderKey(idempotency.orderId), encodeRecord(fresh));
      if (written !== 'exists') {
        this.#onWritten(written);
        return { record: fresh, created: true };
      }
    }
  }

  async get(id: string): Promise<OrderRecord | undefined> {
    const cached = this.#terminal.get(id);
    if (cached) return { order: cached, outbox: [] };
    const stored = await this.#bucket.get<StoredOrder>(orderKey(id));
    if (!stored) return undefined;
    const record = decodeRecord(stored.value);
    this.#remember(record);
    return record;
  }

  /**
   * Moves the order from `from` to `to`. Returns the record as it is afterwards and whether this
   * call moved it; an order no longer in `from` (someone else moved it) is returned as it is.
   */
  async transition(
    id: string,
    from: ordersV1.OrderState,
    to: ordersV1.OrderState,
    failureReason = '',
  ): Promise<{ record: OrderRecord; moved: boolean }> {
    return this.#bucket.compareAndSet<StoredOrder, { record: OrderRecord; moved: boolean }>(
      orderKey(id),
      (current) => {
        if (!current) throw new Error(`order ${id} is not stored`);
        const record = decodeRecord(current.value);
        if (record.order.state !== from) return { result: { record, moved: false } };
        const next = withState(record, to, Date.now(), failureReason);
        return { write: encodeRecord(next), result: { record: next, moved: true } };
      },
      { onWritten: this.#onWritten },
    );
  }

  /** Drops events known to be on the stream from the order's outbox. */
  async markPublished(id: string, published: readonly OutboxEvent[]): Promise<void> {
    const next = await this.#bucket.compareAndSet<StoredOrder, OrderRecord | undefined>(
      orderKey(id),
      (current) => {
        if (!current) return { result: undefined };
        const record = withoutPublished(decodeRecord(current.value), published);
        return { write: encodeRecord(record), result: record };
      },
      { onWritten: this.#onWritten },
    );
    if (next) this.#remember(next);
  }

  get writtenRevision(): number {
    return this.#writtenRevision;
  }

  /**
   * Deletes an idempotency claim, only if it is still the write at `revision` (claims are only
   * ever created, so this guards against nothing but a confused caller).
   */
  async deleteClaim(key: string, revision: number): Promise<void> {
    await this.#bucket.delete(key, revision);
  }

  /** Removes the delete marker `key` got at `revision` (each is one message per deleted key). */
  async purgeMarker(key: string, revision: number): Promise<void> {
    await this.#bucket.purgeMarker(key, revision);
  }

  /** Every order id, newest first (ids start with their creation time): a full scan. */
  async listIds(): Promise<string[]> {
    const keys = await this.#bucket.keys(ORDER_KEYS);
    return keys
      .map((key) => key.slice('order.'.length))
      .sort((x, y) => (x < y ? 1 : x > y ? -1 : 0));
  }

  #remember(record: OrderRecord): void {
    if (!isTerminal(record.order.state) || record.outbox.length > 0) return;
    this.#terminal.set(record.order.id, record.order);
    if (this.#terminal.size > TERMINAL_CACHE_SIZE) {
      const oldest = this.#terminal.keys().next();
      if (!oldest.done) this.#terminal.delete(oldest.value);
    }
  }
}
