// The durable JetStream consumer that fulfils reserved orders: one delivery per message across
// every orders replica sharing the durable name; a failure naks the message for redelivery.
import { ordersV1 } from '@catmesh/proto';
import type { NatsDurableConsumer } from '@catmesh/runtime';
import { fulfilOrder } from './fulfil-order.js';
import type { OrderDeps } from './order-deps.js';
import { ORDERS_STREAM, decodeOrderEvent, subjectOf } from './order-events.js';

export const FULFILMENT_CONSUMER = 'orders-fulfilment';

export function startFulfilment(deps: OrderDeps): Promise<NatsDurableConsumer> {
  return deps.nats.consume({
    stream: ORDERS_STREAM,
    durable: FULFILMENT_CONSUMER,
    filterSubject: subjectOf(ordersV1.OrderState.ORDER_STATE_RESERVED),
    handler: async (msg) => {
      let id: string | undefined;
      try {
        id = decodeOrderEvent(msg.data).order?.id;
      } catch (err) {
        // Redelivering a message that cannot be read would fail forever: drop it, loudly.
        deps.logger.error({ err, seq: msg.seq }, 'unreadable order event; dropped');
        return;
      }
      const record = id ? await deps.store.get(id) : undefined;
      if (!record) {
        deps.logger.error(
          { orderId: id, seq: msg.seq },
          'order event for no stored order; dropped',
        );
        return;
      }
      // The stored order, not the event, says where the order is (it may have moved on).
      await fulfilOrder(deps, record);
    },
  });
}
