// The ORDERS stream: one OrderEvent per state change of an order, on `orders.<state>`
// (orders.pending, orders.reserved, orders.fulfilled, orders.rejected, orders.failed).
//
// Payload: the protobuf encoding of catmesh.orders.v1.OrderEvent (header
// `catmesh-message-type: catmesh.orders.v1.OrderEvent`); the trace context of the change travels
// in the `traceparent` header. The message id is `<order id>:<state>`, so JetStream drops a second
// publish of the same change within its duplicate window: publishing is at-least-once (see the
// outbox in order-record.ts), storing is once.
import { nanos } from 'nats';
import { ordersV1 } from '@catmesh/proto';
import type { NatsClient } from '@catmesh/runtime';
import type { OutboxEvent } from './order-record.js';

export const ORDERS_STREAM = 'ORDERS';
export const MESSAGE_TYPE_HEADER = 'catmesh-message-type';
const MESSAGE_TYPE = 'catmesh.orders.v1.OrderEvent';

const STATE_WORDS: ReadonlyMap<ordersV1.OrderState, string> = new Map([
  [ordersV1.OrderState.ORDER_STATE_PENDING, 'pending'],
  [ordersV1.OrderState.ORDER_STATE_RESERVED, 'reserved'],
  [ordersV1.OrderState.ORDER_STATE_FULFILLED, 'fulfilled'],
  [ordersV1.OrderState.ORDER_STATE_REJECTED, 'rejected'],
  [ordersV1.OrderState.ORDER_STATE_FAILED, 'failed'],
]);

/** `orders.reserved` for RESERVED, and so on. */
export function subjectOf(state: ordersV1.OrderState): string {
  const word = STATE_WORDS.get(state);
  if (word === undefined) throw new Error(`no subject for order state ${state}`);
  return `orders.${word}`;
}

/** Creates or updates the stream (every replica does at start; the same config each time). */
export async function ensureOrdersStream(nats: NatsClient, replicas: number): Promise<void> {
  await nats.ensureStream({
    name: ORDERS_STREAM,
    subjects: ['orders.>'],
    num_replicas: replicas,
    max_age: nanos(7 * 24 * 3_600_000),
    duplicate_window: nanos(2 * 60_000),
  });
}

/** Publishes the event of one change of `order` (its state as of that change). */
export async function publishOrderEvent(
  nats: NatsClient,
  order: ordersV1.Order,
  event: OutboxEvent,
): Promise<void> {
  const payload = ordersV1.OrderEvent.encode({
    order: {
      ...order,
      state: event.state,
      updatedAtUnixMs: event.atMs,
      // Published late (from the outbox), an earlier change must not carry a later reason.
      failureReason: event.state === order.state ? order.failureReason : '',
    },
    previousState: event.previousState,
  }).finish();
  await nats.jetstreamPublish(subjectOf(event.state), payload, {
    msgID: `${order.id}:${subjectOf(event.state).slice('orders.'.length)}`,
    headers: { [MESSAGE_TYPE_HEADER]: MESSAGE_TYPE },
  });
}

export function decodeOrderEvent(data: Uint8Array): ordersV1.OrderEvent {
  return ordersV1.OrderEvent.decode(data);
}
