// kill -9 an inventory process while orders are being placed, then start it again: every order
// still ends in a terminal state, and no unit of stock is lost or counted twice.
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inventoryV1, ordersV1 } from '@catmesh/proto';
import { callUnary, createClient, createMetricsRegistry } from '@catmesh/runtime';
import { freePort, startNatsServer, type NatsServer } from '@catmesh/testkit';
import { startCatFeederDouble, type CatFeederDouble } from './support/cat-feeder-double.js';
import { ServiceProcess } from './support/service-process.js';

const { OrderState } = ordersV1;
const STOCK = 40;
const ORDERS = 60;
const CONCURRENCY = 4;
const KILL_AFTER = 15;

let nats: NatsServer;
let catFeeder: CatFeederDouble;
let inventory: ServiceProcess;
let orders: ServiceProcess;
let ordersClient: ordersV1.OrderServiceClient;
let inventoryClient: inventoryV1.InventoryServiceClient;

beforeAll(async () => {
  nats = await startNatsServer();
  catFeeder = await startCatFeederDouble();
  const common = {
    CATMESH_NATS_URL: nats.url,
    CATMESH_GRPC_HOST: '127.0.0.1',
    CATMESH_LOG_LEVEL: 'info',
    OTEL_SDK_DISABLED: 'true',
  };
  const inventoryPort = await freePort();
  inventory = new ServiceProcess('services/inventory', {
    ...common,
    CATMESH_GRPC_PORT: String(inventoryPort),
    CATMESH_METRICS_PORT: String(await freePort()),
    CATMESH_ADMIN_PORT: String(await freePort()),
    CATMESH_INVENTORY_SEED: `kibble=${STOCK}`,
    CATMESH_INVENTORY_COMPACT_AT: '8',
  });
  const ordersPort = await freePort();
  orders = new ServiceProcess('services/orders', {
    ...common,
    CATMESH_GRPC_PORT: String(ordersPort),
    CATMESH_METRICS_PORT: String(await freePort()),
    CATMESH_ADMIN_PORT: String(await freePort()),
    CATMESH_INVENTORY_ENDPOINT: `127.0.0.1:${inventoryPort}`,
    CATMESH_INVENTORY_DEADLINE: '1s',
    CATMESH_CATFEEDER_ENDPOINTS: catFeeder.address,
    CATMESH_RECOVERY_EVERY: '300ms',
    CATMESH_RECOVERY_AFTER: '1s',
  });
  await Promise.all([inventory.start('inventory serving'), orders.start('orders serving')]);
  ordersClient = createClient(ordersV1.OrderServiceClient, `127.0.0.1:${ordersPort}`, {
    registry: createMetricsRegistry(),
  });
  inventoryClient = new inventoryV1.InventoryServiceClient(
    `127.0.0.1:${inventoryPort}`,
    credentials.createInsecure(),
  );
}, 180_000);
afterAll(async () => {
  ordersClient?.close();
  inventoryClient?.close();
  await orders?.kill();
  await inventory?.kill();
  await catFeeder?.stop();
  await nats?.dispose();
});

async function allOrders(): Promise<ordersV1.Order[]> {
  const all: ordersV1.Order[] = [];
  let pageToken = '';
  do {
    const page = await callUnary(ordersClient, 'listOrders', {
      pageSize: 100,
      pageToken,
      state: OrderState.ORDER_STATE_UNSPECIFIED,
    });
    all.push(...page.orders);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return all;
}

describe('an inventory process killed mid-run', () => {
  it('leaves every order terminal and the stock whole', async () => {
    let placed = 0;
    let refused = 0;
    const crashed = vi.waitFor(() => expect(placed).toBeGreaterThanOrEqual(KILL_AFTER), {
      timeout: 60_000,
      interval: 5,
    });
    const crash = crashed.then(async () => {
      await inventory.kill();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await inventory.start('inventory serving');
    });
    let next = 0;
    const customer = async () => {
      while (next < ORDERS) {
        const i = next++;
        try {
          await callUnary(ordersClient, 'placeOrder', {
            idempotencyKey: `crash-${i}`,
            customer: 'ada',
            sku: 'kibble',
            quantity: 1,
          });
        } catch {
          // Inventory was down: the order stays PENDING and recovery carries it on.
          refused += 1;
        }
        placed += 1;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, customer));
    await crash;

    const settled = await vi.waitFor(
      async () => {
        const all = await allOrders();
        const open = all.filter(
          (o) =>
            o.state === OrderState.ORDER_STATE_PENDING ||
            o.state === OrderState.ORDER_STATE_RESERVED,
        );
        if (all.length !== ORDERS || open.length > 0) {
          throw new Error(`${all.length} orders, ${open.length} not terminal`);
        }
        return all;
      },
      { timeout: 180_000, interval: 200 },
    );
    const count = (state: ordersV1.OrderState) => settled.filter((o) => o.state === state).length;
    const { stock } = await callUnary(inventoryClient, 'getStock', { sku: 'kibble' });
    const summary = {
      fulfilled: count(OrderState.ORDER_STATE_FULFILLED),
      rejected: count(OrderState.ORDER_STATE_REJECTED),
      failed: count(OrderState.ORDER_STATE_FAILED),
      stock,
      refused,
    };
    expect(summary, inventory.tail()).toMatchObject({
      fulfilled: STOCK,
      rejected: ORDERS - STOCK,
      failed: 0,
      stock: { available: 0, reserved: 0, committed: STOCK },
    });
    // The restart seeded again (same restock id): it applied once, so still STOCK units in all.
    expect(stock!.available + stock!.reserved + stock!.committed).toBe(STOCK);

    // Both shut down cleanly (SIGTERM: drain, exit 0).
    expect(await orders.stop()).toBe(0);
    expect(await inventory.stop()).toBe(0);
    // Three processes starting, a crash and a recovery on a shared 2-core machine: a safety net.
  }, 300_000);
});
