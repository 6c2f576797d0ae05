// RESERVED → FULFILLED: commit the stock, feed the cat, record it. Every step is idempotent by
// the order id (Commit, the cat-feeder write's request id, the compare-and-set), so a second
// delivery, another replica or recovery can run this for the same order at the same time.
import { status, type ServiceError } from '@grpc/grpc-js';
import { ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import type { OrderDeps } from './order-deps.js';
import type { OrderRecord } from './order-record.js';
import { moveOrder } from './order-transitions.js';

const { OrderState } = ordersV1;
const RESERVED = OrderState.ORDER_STATE_RESERVED;

/**
 * Fulfils a reserved order. A failure throws (the caller retries: a redelivery, recovery) until
 * the order has been reserved for `fulfilTimeoutMs`; then the order is FAILED, its reservation
 * released if it was not committed yet.
 */
export async function fulfilOrder(deps: OrderDeps, record: OrderRecord): Promise<OrderRecord> {
  const { id } = record.order;
  if (record.order.state !== RESERVED) return record;
  try {
    try {
      await callUnary(deps.inventory, 'commit', { orderId: id }, inventoryCall(deps));
    } catch (error) {
      const { code, details } = error as Partial<ServiceError>;
      if (code !== status.FAILED_PRECONDITION && code !== status.NOT_FOUND) throw error;
      // Released (or lost) behind our back: this order can never be fulfilled.
      return moveOrder(
        deps,
        id,
        RESERVED,
        OrderState.ORDER_STATE_FAILED,
        `stock could not be committed: ${details ?? ''}`,
      );
    }
    await feedTheCat(deps, id);
    return await moveOrder(deps, id, RESERVED, OrderState.ORDER_STATE_FULFILLED);
  } catch (error) {
    if (Date.now() - record.order.updatedAtUnixMs < deps.fulfilTimeoutMs) throw error;
    return giveUp(deps, record, error);
  }
}

async function feedTheCat(deps: OrderDeps, orderId: string): Promise<void> {
  if (!deps.feeder) {
    deps.metrics.feeding('skipped');
    deps.logger.debug({ orderId }, 'no cat-feeder configured; the cat is not fed');
    return;
  }
  const revision = await deps.feeder.client.feed(orderId);
  await deps.feeder.hunger.recordFeeding(revision);
  deps.metrics.feeding('fed');
}

async function giveUp(deps: OrderDeps, record: OrderRecord, cause: unknown): Promise<OrderRecord> {
  const { id } = record.order;
  const why =
    (cause as Partial<ServiceError>).details ??
    (cause instanceof Error ? cause.message : String(cause));
  try {
    await callUnary(deps.inventory, 'release', { orderId: id }, inventoryCall(deps));
  } catch (error) {
    // Committed already: the units are sold, only the feeding failed. Anything else: try later.
    if ((error as Partial<ServiceError>).code !== status.FAILED_PRECONDITION) throw cause;
  }
  return moveOrder(
    deps,
    id,
    RESERVED,
    OrderState.ORDER_STATE_FAILED,
    `not fulfilled within ${deps.fulfilTimeoutMs} ms: ${why}`,
  );
}

function inventoryCall(deps: OrderDeps) {
  return { deadlineMs: deps.inventoryDeadlineMs };
}
