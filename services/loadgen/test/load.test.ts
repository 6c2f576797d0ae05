import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { catfeederV1, ordersV1 } from '@catmesh/proto';
import { callUnary, createLogger, createMetricsRegistry } from '@catmesh/runtime';
import { freePort, startNatsServer, type NatsServer } from '@catmesh/testkit';
import {
  startInventoryReplica,
  type InventoryReplica,
} from '../../inventory/test/support/inventory-harness.js';
import {
  startCatFeederDouble,
  type CatFeederDouble,
} from '../../orders/test/support/cat-feeder-double.js';
import {
  startOrdersReplica,
  type OrdersReplica,
} from '../../orders/test/support/orders-harness.js';
import { startLoad } from '../src/load-runner.js';
import { SliRecorder } from '../src/sli-recorder.js';
import { summaryLine } from '../src/summary-line.js';

let nats: NatsServer;
let inventory: InventoryReplica;
let catFeeder: CatFeederDouble;
let orders: OrdersReplica;

beforeAll(async () => {
  nats = await startNatsServer();
  inventory = await startInventoryReplica(nats.url);
  catFeeder = await startCatFeederDouble();
  orders = await startOrdersReplica(nats.url, {
    inventoryAddress: inventory.address,
    catFeederEndpoints: [catFeeder.address],
  });
  await callUnary(inventory.client, 'restock', { sku: 'kibble', quantity: 5, restockId: 'r1' });
});
afterAll(async () => {
  await orders?.stop();
  await inventory?.stop();
  await catFeeder?.stop();
  await nats?.dispose();
});

const countOf = async (
  registry: ReturnType<typeof createMetricsRegistry>,
  labels: Record<string, string>,
) => {
  const metric = await registry.getSingleMetric('loadgen_requests_total')!.get();
  return metric.values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
};

describe('loadgen', () => {
  it('places orders and reads cat.state at its pace, restocks when out, and records the SLIs', async () => {
    const registry = createMetricsRegistry();
    const recorder = new SliRecorder(registry);
    const ordersClient = new ordersV1.OrderServiceClient(
      orders.address,
      credentials.createInsecure(),
    );
    // One reachable replica and one that is not: reads take turns, so half of them fail.
    const catFeeders = [catFeeder.address, `127.0.0.1:${await freePort()}`].map(
      (address) => new catfeederV1.CatFeederServiceClient(address, credentials.createInsecure()),
    );
    const load = startLoad({
      orders: ordersClient,
      catFeeders,
      inventory: inventory.client,
      orderRate: 40,
      readRate: 20,
      concurrency: 8,
      sku: 'kibble',
      restockUnits: 1_000,
      deadlineMs: 2_000,
      runId: 'test-run',
      recorder,
      registry,
      logger: createLogger({ service: 'loadgen', instance: 'test', level: 'silent' }),
    });
    try {
      await vi.waitFor(
        async () => {
          expect(
            await countOf(registry, { operation: 'place_order', outcome: 'rejected' }),
          ).toBeGreaterThan(0);
          expect(
            await countOf(registry, { operation: 'place_order', outcome: 'ok' }),
          ).toBeGreaterThan(10);
          expect(
            await countOf(registry, { operation: 'read_cat_state', outcome: 'ok' }),
          ).toBeGreaterThan(2);
          expect(
            await countOf(registry, { operation: 'read_cat_state', outcome: 'unavailable' }),
          ).toBeGreaterThan(2);
        },
        { timeout: 30_000, interval: 50 },
      );
    } finally {
      await load.stop();
      ordersClient.close();
      for (const client of catFeeders) client.close();
    }
    // Out of stock after 5 orders, then restocked (once per shortage): more than 5 went through.
    const { stock } = await callUnary(inventory.client, 'getStock', { sku: 'kibble' });
    expect(stock!.available + stock!.reserved + stock!.committed).toBeGreaterThan(5);
    expect(summaryLine(recorder.takeWindow(), 1)).toMatch(
      /^orders [\d.]+\/s ok [\d.]+% \(rejected [\d.]+%\) p50 \S+ p99 \S+.* \| cat\.state reads [\d.]+\/s ok [\d.]+% /,
    );
    const text = await registry.metrics();
    expect(text).toMatch(
      /loadgen_request_duration_seconds_bucket\{le="0.1",operation="place_order"\} \d+/,
    );
    // The orders it placed go on to be fulfilled, which feeds the cat.
    await vi.waitFor(() => expect(catFeeder.value('cat.state')).toBe('full'), {
      timeout: 30_000,
      interval: 50,
    });
  });
});
