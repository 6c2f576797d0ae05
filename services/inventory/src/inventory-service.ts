// catmesh.inventory.v1.InventoryService: validation, then the store; store failures become
// statuses a client can act on.
import { status } from '@grpc/grpc-js';
import { NatsError } from 'nats';
import { inventoryV1 } from '@catmesh/proto';
import { RpcStatusError, serverCallSignal, type ServiceImplementation } from '@catmesh/runtime';
import { ContentionError } from '@catmesh/runtime';
import type { InventoryStore, ReservationView } from './inventory-store.js';
import { checkId, checkQuantity, checkSku } from './request-validation.js';
import type { EntryState } from './stock-document.js';

const { ReservationState, ReserveOutcome } = inventoryV1;

type Implementation = ServiceImplementation<typeof inventoryV1.InventoryServiceService>;

export function createInventoryService(store: InventoryStore): Implementation {
  return {
    getStock: async (call, callback) => {
      const { sku } = call.request;
      checkSku(sku);
      callback(null, { stock: await answering(() => store.getStock(sku)) });
    },

    restock: async (call, callback) => {
      const { sku, quantity, restockId } = call.request;
      checkSku(sku);
      checkQuantity(quantity);
      checkId(restockId, 'restock_id');
      const signal = serverCallSignal(call);
      callback(null, {
        stock: await answering(() => store.restock(restockId, sku, quantity, { signal })),
      });
    },

    reserve: async (call, callback) => {
      const { orderId, sku, quantity } = call.request;
      checkId(orderId, 'order_id');
      checkSku(sku);
      checkQuantity(quantity);
      const signal = serverCallSignal(call);
      const { reservation, stock } = await answering(() =>
        store.reserve(orderId, sku, quantity, { signal }),
      );
      callback(
        null,
        reservation.state === 'out_of_stock'
          ? { outcome: ReserveOutcome.RESERVE_OUTCOME_OUT_OF_STOCK, stock }
          : {
              outcome: ReserveOutcome.RESERVE_OUTCOME_RESERVED,
              reservation: toReservation(reservation),
              stock,
            },
      );
    },

    release: async (call, callback) => {
      const { orderId } = call.request;
      checkId(orderId, 'order_id');
      const signal = serverCallSignal(call);
      const reservation = await answering(() => store.release(orderId, { signal }));
      callback(null, { reservation: toReservation(reservation) });
    },

    commit: async (call, callback) => {
      const { orderId } = call.request;
      checkId(orderId, 'order_id');
      const signal = serverCallSignal(call);
      const reservation = await answering(() => store.commit(orderId, { signal }));
      callback(null, { reservation: toReservation(reservation) });
    },
  };
}

/**
 * Runs a store operation; NATS trouble becomes UNAVAILABLE (clients retry the idempotent
 * methods on it) and a lost compare-and-set race, after every retry, ABORTED. An operation
 * stopped because its caller has gone rejects with its signal's reason, DEADLINE_EXCEEDED or
 * CANCELLED (serverCallSignal), which passes as it is.
 */
async function answering<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof NatsError) {
      throw new RpcStatusError(status.UNAVAILABLE, `stock store (NATS JetStream): ${err.message}`);
    }
    if (err instanceof ContentionError) throw new RpcStatusError(status.ABORTED, err.message);
    throw err;
  }
}

function toReservation(view: ReservationView): inventoryV1.Reservation {
  return {
    orderId: view.orderId,
    sku: view.sku,
    quantity: view.quantity,
    state: RESERVATION_STATES[view.state],
  };
}

const RESERVATION_STATES: Readonly<Record<EntryState, inventoryV1.ReservationState>> = {
  reserved: ReservationState.RESERVATION_STATE_RESERVED,
  released: ReservationState.RESERVATION_STATE_RELEASED,
  committed: ReservationState.RESERVATION_STATE_COMMITTED,
  // Never sent: a refused reservation is answered as OUT_OF_STOCK without a reservation.
  out_of_stock: ReservationState.RESERVATION_STATE_UNSPECIFIED,
};
