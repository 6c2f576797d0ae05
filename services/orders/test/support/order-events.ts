// Reads what is on the ORDERS stream, straight from JetStream.
import type { NatsConnection } from 'nats';
import { ordersV1 } from '@catmesh/proto';
import { MESSAGE_TYPE_HEADER, ORDERS_STREAM } from '../../src/order-events.js';

export interface StoredEvent {
  readonly subject: string;
  readonly msgId: string | undefined;
  readonly messageType: string | undefined;
  readonly event: ordersV1.OrderEvent;
}

/** Every event about `orderId` on the stream, in stream order. */
export async function orderEventsOf(nc: NatsConnection, orderId: string): Promise<StoredEvent[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(ORDERS_STREAM);
  const events: StoredEvent[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(ORDERS_STREAM, { seq });
    const event = ordersV1.OrderEvent.decode(msg.data);
    if (event.order?.id !== orderId) continue;
    events.push({
      subject: msg.subject,
      msgId: msg.header.get('Nats-Msg-Id') || undefined,
      messageType: msg.header.get(MESSAGE_TYPE_HEADER) || undefined,
      event,
    });
  }
  return events;
}
