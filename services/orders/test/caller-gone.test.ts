// A PlaceOrder whose caller has gone cancels the Reserve it is waiting on, so that inventory stops
// working for nobody too (inventory's side: services/inventory/test/caller-gone.test.ts). The
// order stays PENDING, as after any Reserve that failed, for a retry or recovery to carry on.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inventoryV1, ordersV1 } from '@catmesh/proto';
import {
  callUnary,
  createLogger,
  createMetricsRegistry,
  GrpcServer,
  serverCallSignal,
  type ServiceImplementation,
} from '@catmesh/runtime';
import { startNatsServer, type NatsServer } from '@catmesh/testkit';
import { startOrdersReplica, type OrdersReplica } from './support/orders-harness.js';

/** vi.waitFor's safety net on a loaded machine (its default is 1 s). */
const EVENTUALLY = { timeout: 30_000, interval: 10 };
/** Far beyond EVENTUALLY: no inventory call ends by its deadline within a test. */
const INVENTORY_DEADLINE_MS = 120_000;

type Inventory = ServiceImplementation<typeof inventoryV1.InventoryServiceService>;

let nats: NatsServer;
let inventory: GrpcServer;
let orders: OrdersReplica;
/** The signal of every Reserve the stand-in inventory has started, by order id. */
const reserves = new Map<string, AbortSignal>();

beforeAll(async () => {
  nats = await startNatsServer();
  const unimplemented = (_call: unknown, callback: (error: { code: number }) => void) =>
    callback({ code: status.UNIMPLEMENTED });
  const stuck: Inventory = {
    getStock: unimplemented,
    restock: unimplemented,
    release: unimplemented,
    commit: unimplemented,
    // An inventory too busy to answer: it works on a Reserve until its caller goes.
    reserve: async (call) => {
      const signal = serverCallSignal(call);
      reserves.set(call.request.orderId, signal);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw signal.reason;
    },
  };
  const logger = createLogger({ service: 'inventory', instance: 'stuck', level: 'silent' });
  inventory = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    registry: createMetricsRegistry(),
  });
  inventory.addService(inventoryV1.InventoryServiceService, stuck);
  const { port } = await inventory.listen();
  inventory.setServing();
  orders = await startOrdersReplica(nats.url, {
    inventoryAddress: `127.0.0.1:${port}`,
    inventoryDeadlineMs: INVENTORY_DEADLINE_MS,
  });
});
afterAll(async () => {
  await orders?.stop();
  await inventory?.drain(5_000);
  await nats?.dispose();
});

describe('a PlaceOrder whose caller has gone', () => {
  it('cancels the Reserve it waits on and leaves the order PENDING', async () => {
    const controller = new AbortController();
    const call = callUnary(
      orders.client,
      'placeOrder',
      { idempotencyKey: 'gone-1', customer: 'ada', sku: 'kibble', quantity: 1 },
      { signal: controller.signal, deadlineMs: INVENTORY_DEADLINE_MS },
    ).catch((error: unknown) => error);
    await vi.waitFor(() => expect(reserves.size).toBe(1), EVENTUALLY);
    const [orderId, reserve] = [...reserves][0]!;
    expect(reserve.aborted).toBe(false);

    controller.abort();
    expect(await call).toMatchObject({ code: status.CANCELLED });
    // Long before the Reserve's own deadline: orders passed the cancel on.
    await vi.waitFor(() => expect(reserve.aborted).toBe(true), EVENTUALLY);
    expect(reserve.reason).toMatchObject({ code: status.CANCELLED });

    const record = await orders.deps.store.get(orderId);
    expect(record?.order.state).toBe(ordersV1.OrderState.ORDER_STATE_PENDING);
  });
});
