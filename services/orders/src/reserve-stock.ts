// PENDING → RESERVED, REJECTED or FAILED: ask inventory to set the order's units aside.
import { status, type ServiceError } from '@grpc/grpc-js';
import { inventoryV1, ordersV1 } from '@catmesh/proto';
import { callUnary, RpcStatusError } from '@catmesh/runtime';
import type { OrderDeps } from './order-deps.js';
import type { OrderRecord } from './order-record.js';
import { moveOrder } from './order-transitions.js';

const { OrderState } = ordersV1;

/**
 * Reserves the order's stock and records the outcome. Reserve is idempotent by order id, so this
 * is safe to run again for the same order (a client's retry, recovery after a crash): inventory
 * answers what it decided the first time. When inventory cannot be reached the order stays
 * PENDING and this throws UNAVAILABLE; recovery tries again later.
 *
 * `signal` (from the PlaceOrder call, serverCallSignal) cancels the Reserve once nobody waits for
 * the order any more, so inventory stops working on it too; the order stays PENDING, as after any
 * failed Reserve, and this rejects with the signal's reason.
 *
 * An unknown SKU REJECTS the order (reason `unknown sku`) rather than refusing the request: the
 * order exists by then, and every order that exists ends in a terminal state.
 */
export async function reserveStock(
  deps: OrderDeps,
  record: OrderRecord,
  signal?: AbortSignal,
): Promise<OrderRecord> {
  const { id, sku, quantity, state } = record.order;
  if (state !== OrderState.ORDER_STATE_PENDING) return record;
  const pending = OrderState.ORDER_STATE_PENDING;
  let response: inventoryV1.ReserveResponse;
  try {
    response = await callUnary(
      deps.inventory,
      'reserve',
      { orderId: id, sku, quantity },
      { deadlineMs: deps.inventoryDeadlineMs, signal },
    );
  } catch (error) {
    const { code, details } = error as Partial<ServiceError>;
    if (code === status.NOT_FOUND) {
      return moveOrder(deps, id, pending, OrderState.ORDER_STATE_REJECTED, `unknown sku ${sku}`);
    }
    if (code === status.INVALID_ARGUMENT || code === status.FAILED_PRECONDITION) {
      return moveOrder(
        deps,
        id,
        pending,
        OrderState.ORDER_STATE_FAILED,
        `inventory refused the reservation: ${details ?? ''}`,
      );
    }
    // The caller has gone (its signal cancelled the Reserve): answer with the signal's reason.
    signal?.throwIfAborted();
    throw new RpcStatusError(
      status.UNAVAILABLE,
      `inventory: ${details ?? String(error)}; order ${id} stays PENDING and will be retried`,
    );
  }
  if (response.outcome === inventoryV1.ReserveOutcome.RESERVE_OUTCOME_RESERVED) {
    return moveOrder(deps, id, pending, OrderState.ORDER_STATE_RESERVED);
  }
  if (response.outcome === inventoryV1.ReserveOutcome.RESERVE_OUTCOME_OUT_OF_STOCK) {
    return moveOrder(deps, id, pending, OrderState.ORDER_STATE_REJECTED, 'out of stock');
  }
  throw new Error(`inventory answered Reserve with outcome ${response.outcome}`);
}
