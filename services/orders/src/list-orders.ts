// ListOrders: newest first, in pages, optionally one state only.
import type { ordersV1 } from '@catmesh/proto';
import type { OrderIndexFeed } from './order-index-feed.js';
import type { OrderStore } from './order-store.js';

/**
 * How long a page waits for the index to reach this process's last write before falling back to
 * a full scan: long enough for a healthy watch (milliseconds), short enough that a broken one
 * costs a slow page rather than a failed one.
 */
export const INDEX_WAIT_MS = 2_000;

/** Orders read at once while filling a page. */
const READ_BATCH = 32;

export interface OrdersPage {
  readonly orders: ordersV1.Order[];
  /** The last id of this page when more ids follow it; '' otherwise. */
  readonly nextPageToken: string;
}

export interface OrdersQuery {
  readonly pageSize: number;
  readonly after: string;
  readonly state: ordersV1.OrderState | undefined;
}

/**
 * One page from the watch-fed index, which must have applied everything this process wrote
 * (read-your-writes for this replica's clients); the full scan when it has not in time.
 */
export async function listOrders(
  deps: { store: OrderStore; index: OrderIndexFeed },
  query: OrdersQuery,
): Promise<OrdersPage> {
  const index = await deps.index.indexAt(deps.store.writtenRevision, INDEX_WAIT_MS);
  if (index) return index.page(query);
  return listOrdersByScan(deps.store, query);
}

/**
 * One page of orders older than `after` (an order id; '' for the newest). Ids start with their
 * creation time, so id order is creation order. Listing the ids costs one pass over the bucket's
 * keys (O(all orders): the fallback, and the benchmark's baseline); terminal orders come from the
 * store's memory after their first read.
 */
export async function listOrdersByScan(store: OrderStore, query: OrdersQuery): Promise<OrdersPage> {
  const ids = (await store.listIds()).filter((id) => query.after === '' || id < query.after);
  const orders: ordersV1.Order[] = [];
  let next = 0;
  while (next < ids.length && orders.length < query.pageSize) {
    const batch = ids.slice(next, next + READ_BATCH);
    const records = await Promise.all(batch.map((id) => store.get(id)));
    for (const record of records) {
      next += 1;
      if (record && (query.state === undefined || record.order.state === query.state)) {
        orders.push(record.order);
        if (orders.length === query.pageSize) break;
      }
    }
  }
  // The page stops at the order it ends with; the next one starts after it.
  return { orders, nextPageToken: next < ids.length ? ids[next - 1]! : '' };
}
