// catmesh.orders.v1.OrderService: validation, then the order's steps; store failures become
// statuses a client can act on.
import { status } from '@grpc/grpc-js';
import { NatsError } from 'nats';
import type { ordersV1 } from '@catmesh/proto';
import { RpcStatusError, serverCallSignal, type ServiceImplementation } from '@catmesh/runtime';
import { ContentionError } from '@catmesh/runtime';
import { listOrders } from './list-orders.js';
import type { OrderDeps } from './order-deps.js';
import { placeOrder } from './place-order.js';
import { checkListOrders, checkOrderId, checkPlaceOrder } from './request-validation.js';

type Implementation = ServiceImplementation<typeof ordersV1.OrderServiceService>;

export function createOrderService(deps: OrderDeps): Implementation {
  return {
    placeOrder: async (call, callback) => {
      checkPlaceOrder(call.request);
      const signal = serverCallSignal(call);
      callback(null, { order: await answering(() => placeOrder(deps, call.request, signal)) });
    },

    getOrder: async (call, callback) => {
      const { id } = call.request;
      checkOrderId(id);
      const record = await answering(() => deps.store.get(id));
      if (!record) throw new RpcStatusError(status.NOT_FOUND, `id: no order ${id}`);
      callback(null, { order: record.order });
    },

    listOrders: async (call, callback) => {
      const { pageSize, state } = checkListOrders(call.request);
      const page = await answering(() =>
        listOrders(deps, { pageSize, state, after: call.request.pageToken }),
      );
      callback(null, page);
    },
  };
}

/**
 * Runs a step; NATS trouble becomes UNAVAILABLE (the client may retry: PlaceOrder with the same
 * idempotency key is safe to repeat) and a lost compare-and-set race, after every retry, ABORTED.
 */
async function answering<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof NatsError) {
      throw new RpcStatusError(status.UNAVAILABLE, `order store (NATS JetStream): ${err.message}`);
    }
    if (err instanceof ContentionError) throw new RpcStatusError(status.ABORTED, err.message);
    throw err;
  }
}
