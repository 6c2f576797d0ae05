// An order as stored in Key/Value: the order itself, and the events of its state changes that
// are not yet known to be on the ORDERS stream (a transactional outbox in the same document, so
// a crash between the state change and its publish loses nothing: recovery publishes them).
import { ordersV1 } from '@catmesh/proto';

const { OrderState } = ordersV1;
type OrderState = ordersV1.OrderState;

export interface OutboxEvent {
  readonly state: OrderState;
  readonly previousState: OrderState;
  readonly atMs: number;
}

export interface OrderRecord {
  readonly order: ordersV1.Order;
  /** Oldest first. */
  readonly outbox: readonly OutboxEvent[];
}

/** The JSON form: protobuf JSON for the order (enum names, not numbers, for `nats kv get`). */
export interface StoredOrder {
  readonly order: unknown;
  readonly outbox: readonly { state: string; previousState: string; atMs: number }[];
}

export function encodeRecord(record: OrderRecord): StoredOrder {
  return {
    order: ordersV1.Order.toJSON(record.order),
    outbox: record.outbox.map((e) => ({
      state: ordersV1.orderStateToJSON(e.state),
      previousState: ordersV1.orderStateToJSON(e.previousState),
      atMs: e.atMs,
    })),
  };
}

export function decodeRecord(stored: StoredOrder): OrderRecord {
  return {
    order: ordersV1.Order.fromJSON(stored.order),
    outbox: stored.outbox.map((e) => ({
      state: ordersV1.orderStateFromJSON(e.state),
      previousState: ordersV1.orderStateFromJSON(e.previousState),
      atMs: e.atMs,
    })),
  };
}

export const TERMINAL_STATES: ReadonlySet<OrderState> = new Set([
  OrderState.ORDER_STATE_FULFILLED,
  OrderState.ORDER_STATE_REJECTED,
  OrderState.ORDER_STATE_FAILED,
]);

export function isTerminal(state: OrderState): boolean {
  return TERMINAL_STATES.has(state);
}

/** A new order: PENDING, its creation waiting in the outbox. */
export function newOrderRecord(
  order: Omit<ordersV1.Order, 'state' | 'failureReason'>,
): OrderRecord {
  return {
    order: { ...order, state: OrderState.ORDER_STATE_PENDING, failureReason: '' },
    outbox: [
      {
        state: OrderState.ORDER_STATE_PENDING,
        previousState: OrderState.ORDER_STATE_UNSPECIFIED,
        atMs: order.createdAtUnixMs,
      },
    ],
  };
}

/** The moves an order can make; anything else is a bug in the caller. */
const NEXT: ReadonlyMap<OrderState, ReadonlySet<OrderState>> = new Map<
  OrderState,
  ReadonlySet<OrderState>
>([
  [
    OrderState.ORDER_STATE_PENDING,
    new Set([
      OrderState.ORDER_STATE_RESERVED,
      OrderState.ORDER_STATE_REJECTED,
      OrderState.ORDER_STATE_FAILED,
    ]),
  ],
  [
    OrderState.ORDER_STATE_RESERVED,
    new Set([OrderState.ORDER_STATE_FULFILLED, OrderState.ORDER_STATE_FAILED]),
  ],
]);

export function withState(
  record: OrderRecord,
  to: OrderState,
  atMs: number,
  failureReason = '',
): OrderRecord {
  const from = record.order.state;
  if (!NEXT.get(from)?.has(to)) {
    throw new Error(
      `order ${record.order.id}: no move from ${ordersV1.orderStateToJSON(from)} to ${ordersV1.orderStateToJSON(to)}`,
    );
  }
  return {
    order: { ...record.order, state: to, failureReason, updatedAtUnixMs: atMs },
    outbox: [...record.outbox, { state: to, previousState: from, atMs }],
  };
}

/** `record` without the outbox events in `published` (matched by state: one event per state). */
export function withoutPublished(
  record: OrderRecord,
  published: readonly OutboxEvent[],
): OrderRecord {
  const done = new Set(published.map((e) => e.state));
  return { ...record, outbox: record.outbox.filter((e) => !done.has(e.state)) };
}
