// PlaceOrder: one order per idempotency key, created PENDING, then its stock reserved.
import { invalidArgument } from '@catmesh/runtime';
import type { ordersV1 } from '@catmesh/proto';
import type { OrderDeps } from './order-deps.js';
import { newOrderId } from './order-ids.js';
import { publishOutbox } from './order-transitions.js';
import { reserveStock } from './reserve-stock.js';

/**
 * Places an order, or finds the one placed before with the same idempotency key and carries it
 * on from where it is (so a retry after a timeout or a crash completes the first attempt).
 * The request must already be validated. `signal` says when the caller has gone: the Reserve
 * downstream is then cancelled (see reserveStock).
 */
export async function placeOrder(
  deps: OrderDeps,
  request: ordersV1.PlaceOrderRequest,
  signal?: AbortSignal,
): Promise<ordersV1.Order> {
  const { idempotencyKey, customer, sku, quantity } = request;
  const fresh = { orderId: newOrderId(), customer, sku, quantity, createdAtMs: Date.now() };
  const first = await deps.store.claimIdempotencyKey(idempotencyKey, fresh);
  if (first.customer !== customer || first.sku !== sku || first.quantity !== quantity) {
    throw invalidArgument(
      'idempotency_key',
      `already used for order ${first.orderId} with another customer, sku or quantity`,
    );
  }
  const { record, created } = await deps.store.ensureOrder(first, idempotencyKey);
  if (created) deps.metrics.transition(record.order.state);
  const published = await publishOutbox(deps, record);
  return (await reserveStock(deps, published, signal)).order;
}
