// Composition root of an orders replica: config, telemetry, the order store and stream, the
// inventory and cat-feeder clients, gRPC, the fulfilment consumer, recovery and the hunger timer.
// Replicas keep no state of their own; run as many as you like against one NATS.
import { startFaultAdmin } from '@catmesh/faults';
import { inventoryV1, ordersV1 } from '@catmesh/proto';
import {
  connectNats,
  createClient,
  GrpcServer,
  JsonBucket,
  loadConfigOrExit,
  serveService,
  startServiceProcess,
} from '@catmesh/runtime';
import { CatFeederClient } from './cat-feeder-client.js';
import { CatHunger } from './cat-hunger.js';
import { ClaimExpiry } from './claim-expiry.js';
import { ordersConfigSchema } from './config.js';
import { startFulfilment } from './fulfilment-consumer.js';
import type { OrderDeps } from './order-deps.js';
import { ensureOrdersStream } from './order-events.js';
import { OrderIndexFeed } from './order-index-feed.js';
import { recoverOrders } from './order-recovery.js';
import { createOrderService } from './order-service.js';
import { OrderStore } from './order-store.js';
import { createOrdersMetrics } from './orders-metrics.js';
import { startPeriodic } from './periodic-task.js';

const ORDERS_BUCKET = 'orders';

const config = loadConfigOrExit(ordersConfigSchema(), process.env);
const base = startServiceProcess(config);
const { logger, registry } = base;
const { traffic, shutdownStep } = await startFaultAdmin({ config, logger, registry });

const nats = await connectNats({
  servers: config.natsUrl,
  name: config.instanceId,
  logger,
  traffic,
});
const bucket = await JsonBucket.open(nats.connection, ORDERS_BUCKET, {
  replicas: config.natsReplicas,
  trafficGate: nats.trafficGate,
});
await ensureOrdersStream(nats, config.natsReplicas);

const inventory = createClient(inventoryV1.InventoryServiceClient, config.inventoryEndpoint, {
  registry,
  idempotent: ['reserve', 'commit', 'release'],
  defaultDeadlineMs: config.inventoryDeadlineMs,
  traffic,
});
const catFeeder =
  config.catFeederEndpoints && config.catFeederEndpoints.length > 0
    ? new CatFeederClient({ endpoints: config.catFeederEndpoints, registry, traffic })
    : undefined;
const hunger =
  catFeeder && new CatHunger({ bucket, catFeeder, hungerAfterMs: config.hungerAfterMs, logger });
if (!catFeeder) logger.warn('CATMESH_CATFEEDER_ENDPOINTS is not set: orders will not feed the cat');

// Built before serving: pages and recovery read it (a full listing of the bucket, once).
const index = new OrderIndexFeed({ kv: bucket.kv, connection: nats.connection, logger });
await index.start();
const store = new OrderStore(bucket);
const deps: OrderDeps = {
  store,
  index,
  nats,
  inventory,
  inventoryDeadlineMs: config.inventoryDeadlineMs,
  ...(catFeeder && hunger && { feeder: { client: catFeeder, hunger } }),
  fulfilTimeoutMs: config.fulfilTimeoutMs,
  logger,
  metrics: createOrdersMetrics(registry),
};

const server = new GrpcServer({
  host: config.grpcHost,
  port: config.grpcPort,
  logger,
  registry,
  ...(traffic.gate && { trafficGate: traffic.gate }),
});
server.addService(ordersV1.OrderServiceService, createOrderService(deps));

await startFulfilment(deps);
const recovery = startPeriodic(
  'order recovery',
  config.recoveryEveryMs,
  async () => {
    await recoverOrders(deps, config.recoveryAfterMs);
  },
  logger,
);
const claimExpiry = new ClaimExpiry(deps, config.idempotencyRetentionMs);
const expiry = startPeriodic(
  'claim expiry',
  config.recoveryEveryMs,
  async () => {
    await claimExpiry.run();
  },
  logger,
);
const hungerTimer =
  hunger && startPeriodic('cat hunger', config.hungerCheckMs, () => hunger.check(), logger);

const { port } = await serveService({
  ...base,
  config,
  server,
  // Background work stops first: it would otherwise start calls while everything drains.
  beforeGrpcDrain: [
    { name: 'recovery: stop', run: () => recovery.stop() },
    { name: 'claim expiry: stop', run: () => expiry.stop() },
    { name: 'hunger timer: stop', run: async () => await hungerTimer?.stop() },
  ],
  // Draining stops the fulfilment consumer first, so its last acks still go out.
  drainNats: async () => {
    await index.stop();
    await nats.drain();
    inventory.close();
    catFeeder?.close();
  },
  lastSteps: [shutdownStep],
});
logger.info(
  {
    port,
    inventory: config.inventoryEndpoint,
    catFeeder: config.catFeederEndpoints ?? [],
    hungerAfterMs: config.hungerAfterMs,
  },
  'orders serving',
);
