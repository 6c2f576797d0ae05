// ListOrders: newest first, in pages, optionally one state only.
import type { ordersV1 } from '@catmesh/proto';
import type { OrderStore } from './order-store.js';

/** Orders read at once while filling a page. */
const READ_BATCH = 32;

export interface OrdersPage {
  readonly orders: ordersV1.Order[];
  /** The last id of this page when more ids follow it; '' otherwise. */
  readonly nextPageToken: string;
}

/**
 * One page of orders older than `after` (an order id; '' for the newest). Ids start with their
 * creation time, so id order is creation order. Listing the ids costs one pass over the bucket's
 * keys; terminal orders come from the store's memory after their first read.
 */
export async function listOrders(
  store: OrderStore,
  query: { pageSize: number; after: string; state: ordersV1.OrderState | undefined },
): Promise<OrdersPage> {
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
