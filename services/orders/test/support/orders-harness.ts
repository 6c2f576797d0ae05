// An orders replica in this process, wired like main.ts against a real NATS and a real
// inventory (its address), for tests.
import { inventoryV1, ordersV1 } from '@catmesh/proto';
import {
  connectNats,
  createClient,
  createLogger,
  createMetricsRegistry,
  GrpcServer,
  type NatsClient,
  type Registry,
} from '@catmesh/runtime';
import { CatFeederClient } from '../../src/cat-feeder-client.js';
import { CatHunger } from '../../src/cat-hunger.js';
import { startFulfilment } from '../../src/fulfilment-consumer.js';
import { JsonBucket } from '@catmesh/runtime';
import type { OrderDeps } from '../../src/order-deps.js';
import { ensureOrdersStream } from '../../src/order-events.js';
import { recoverOrders } from '../../src/order-recovery.js';
import { createOrderService } from '../../src/order-service.js';
import { OrderStore } from '../../src/order-store.js';
import { createOrdersMetrics } from '../../src/orders-metrics.js';
import { startPeriodic, type PeriodicTask } from '../../src/periodic-task.js';

export interface OrdersReplica {
  readonly address: string;
  readonly deps: OrderDeps;
  readonly nats: NatsClient;
  readonly bucket: JsonBucket;
  readonly registry: Registry;
  /** A kit client; PlaceOrder is declared idempotent (it is, by idempotency key). */
  readonly client: ordersV1.OrderServiceClient;
  readonly hunger: CatHunger | undefined;
  stop(): Promise<void>;
}

export interface OrdersReplicaOptions {
  readonly inventoryAddress: string;
  readonly catFeederEndpoints?: readonly string[];
  readonly hungerAfterMs?: number;
  /** Recovery every this often (undefined: no periodic recovery). */
  readonly recoveryEveryMs?: number;
  readonly recoveryAfterMs?: number;
  readonly fulfilTimeoutMs?: number;
  readonly name?: string;
}

export async function startOrdersReplica(
  natsUrl: string,
  options: OrdersReplicaOptions,
): Promise<OrdersReplica> {
  const name = options.name ?? 'orders-test';
  const logger = createLogger({ service: 'orders', instance: name, level: 'silent' });
  const registry = createMetricsRegistry();
  const nats = await connectNats({ servers: natsUrl, name, logger });
  const bucket = await JsonBucket.open(nats.connection, 'orders');
  await ensureOrdersStream(nats, 1);
  const inventory = createClient(inventoryV1.InventoryServiceClient, options.inventoryAddress, {
    registry,
    idempotent: ['reserve', 'commit', 'release'],
    defaultDeadlineMs: 2_000,
  });
  const catFeeder = options.catFeederEndpoints
    ? new CatFeederClient({ endpoints: options.catFeederEndpoints, registry, deadlineMs: 2_000 })
    : undefined;
  const hunger =
    catFeeder &&
    new CatHunger({ bucket, catFeeder, hungerAfterMs: options.hungerAfterMs ?? 60_000, logger });
  const deps: OrderDeps = {
    store: new OrderStore(bucket),
    nats,
    inventory,
    inventoryDeadlineMs: 2_000,
    ...(catFeeder && hunger && { feeder: { client: catFeeder, hunger } }),
    fulfilTimeoutMs: options.fulfilTimeoutMs ?? 300_000,
    logger,
    metrics: createOrdersMetrics(registry),
  };
  const server = new GrpcServer({ host: '127.0.0.1', port: 0, logger, registry });
  server.addService(ordersV1.OrderServiceService, createOrderService(deps));
  const { port } = await server.listen();
  server.setServing();
  await startFulfilment(deps);
  const tasks: PeriodicTask[] = [];
  if (options.recoveryEveryMs !== undefined) {
    const afterMs = options.recoveryAfterMs ?? 0;
    tasks.push(
      startPeriodic(
        'order recovery',
        options.recoveryEveryMs,
        async () => {
          await recoverOrders(deps, afterMs);
        },
        logger,
      ),
    );
  }
  const address = `127.0.0.1:${port}`;
  const client = createClient(ordersV1.OrderServiceClient, address, {
    registry: createMetricsRegistry(),
    idempotent: ['placeOrder', 'getOrder', 'listOrders'],
  });
  return {
    address,
    deps,
    nats,
    bucket,
    registry,
    client,
    hunger,
    stop: async () => {
      client.close();
      await Promise.all(tasks.map((task) => task.stop()));
      await server.drain(5_000);
      await nats.drain();
      inventory.close();
      catFeeder?.close();
    },
  };
}
