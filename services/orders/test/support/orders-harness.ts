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
import { ClaimExpiry } from '../../src/claim-expiry.js';
import { OrderIndexFeed } from '../../src/order-index-feed.js';
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
  /** Deadline of each inventory call; 2 s unless given. */
  readonly inventoryDeadlineMs?: number;
  readonly catFeederEndpoints?: readonly string[];
  readonly hungerAfterMs?: number;
  /** Recovery every this often (undefined: no periodic recovery). */
  readonly recoveryEveryMs?: number;
  readonly recoveryAfterMs?: number;
  readonly fulfilTimeoutMs?: number;
  readonly name?: string;
  /** Claim expiry every this often (undefined: none), with this retention. */
  readonly claimExpiryEveryMs?: number;
  readonly idempotencyRetentionMs?: number;
  /** NATS address for this replica when not `natsUrl` (a cuttable proxy, say). */
  readonly natsUrlOverride?: string;
  /** A NATS address for the order index's watch alone: its own connection, cut on its own. */
  readonly indexNatsUrl?: string;
}

export async function startOrdersReplica(
  natsUrl: string,
  options: OrdersReplicaOptions,
): Promise<OrdersReplica> {
  const name = options.name ?? 'orders-test';
  const inventoryDeadlineMs = options.inventoryDeadlineMs ?? 2_000;
  const logger = createLogger({ service: 'orders', instance: name, level: 'silent' });
  const registry = createMetricsRegistry();
  const nats = await connectNats({
    servers: options.natsUrlOverride ?? natsUrl,
    name,
    logger,
  });
  const bucket = await JsonBucket.open(nats.connection, 'orders');
  await ensureOrdersStream(nats, 1);
  const inventory = createClient(inventoryV1.InventoryServiceClient, options.inventoryAddress, {
    registry,
    idempotent: ['reserve', 'commit', 'release'],
    defaultDeadlineMs: inventoryDeadlineMs,
  });
  const catFeeder = options.catFeederEndpoints
    ? new CatFeederClient({ endpoints: options.catFeederEndpoints, registry, deadlineMs: 2_000 })
    : undefined;
  const hunger =
    catFeeder &&
    new CatHunger({ bucket, catFeeder, hungerAfterMs: options.hungerAfterMs ?? 60_000, logger });
  const indexNats = options.indexNatsUrl
    ? await connectNats({ servers: options.indexNatsUrl, name: `${name}-index`, logger })
    : undefined;
  const indexBucket = indexNats ? await JsonBucket.open(indexNats.connection, 'orders') : bucket;
  const index = new OrderIndexFeed({
    kv: indexBucket.kv,
    connection: (indexNats ?? nats).connection,
    logger,
  });
  await index.start();
  const deps: OrderDeps = {
    store: new OrderStore(bucket),
    index,
    nats,
    inventory,
    inventoryDeadlineMs,
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
  if (options.claimExpiryEveryMs !== undefined) {
    const expiry = new ClaimExpiry(deps, options.idempotencyRetentionMs ?? 0);
    tasks.push(
      startPeriodic(
        'claim expiry',
        options.claimExpiryEveryMs,
        async () => {
          await expiry.run();
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
      await index.stop();
      await indexNats?.drain();
      await nats.drain();
      inventory.close();
      catFeeder?.close();
    },
  };
}
