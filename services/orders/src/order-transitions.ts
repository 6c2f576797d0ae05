import type { ordersV1 } from '@catmesh/proto';
import type { OrderDeps } from './order-deps.js';
import { publishOrderEvent } from './order-events.js';
import { withoutPublished, type OrderRecord, type OutboxEvent } from './order-record.js';

/**
 * Moves an order from `from` to `to` (compare-and-set; a no-op when someone else moved it
 * first), then publishes its outbox. Returns the order as stored afterwards.
 */
export async function moveOrder(
  deps: OrderDeps,
  id: string,
  from: ordersV1.OrderState,
  to: ordersV1.OrderState,
  failureReason = '',
): Promise<OrderRecord> {
  const { record, moved } = await deps.store.transition(id, from, to, failureReason);
  if (moved) {
    deps.metrics.transition(to);
    deps.logger.info(
      { orderId: id, state: to, previous: from, ...(failureReason && { reason: failureReason }) },
      'order moved',
    );
  }
  return publishOutbox(deps, record);
}

/**
 * Publishes the events waiting in an order's outbox, oldest first, then drops them from it. A
 * failure leaves them there for recovery: the state change itself is already durable.
 */
export async function publishOutbox(deps: OrderDeps, record: OrderRecord): Promise<OrderRecord> {
  if (record.outbox.length === 0) return record;
  const published: OutboxEvent[] = [];
  try {
    for (const event of record.outbox) {
      await publishOrderEvent(deps.nats, record.order, event);
      published.push(event);
    }
  } catch (err) {
    deps.logger.warn(
      { err, orderId: record.order.id },
      'order event not published yet; recovery will publish it',
    );
  }
  if (published.length === 0) return record;
  try {
    await deps.store.markPublished(record.order.id, published);
  } catch (err) {
    // Publishing again is harmless (same message id), so this only costs a duplicate publish.
    deps.logger.warn({ err, orderId: record.order.id }, 'could not clear the outbox');
  }
  return withoutPublished(record, published);
}
