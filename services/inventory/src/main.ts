// Composition root of an inventory replica: config, telemetry, the Key/Value store, gRPC.
// Replicas keep no state of their own; run as many as you like against one NATS.
import { startFaultAdmin } from '@catmesh/faults';
import { inventoryV1 } from '@catmesh/proto';
import {
  connectNats,
  GrpcServer,
  JsonBucket,
  loadConfigOrExit,
  serveService,
  startServiceProcess,
} from '@catmesh/runtime';
import { inventoryConfigSchema } from './config.js';
import { createInventoryMetrics } from './inventory-metrics.js';
import { createInventoryService } from './inventory-service.js';
import { InventoryStore } from './inventory-store.js';
import { seedStock } from './seed-stock.js';

const INVENTORY_BUCKET = 'inventory';

const config = loadConfigOrExit(inventoryConfigSchema(), process.env);
const base = startServiceProcess(config);
const { logger, registry } = base;
const metrics = createInventoryMetrics(registry, logger);
const { traffic, shutdownStep } = await startFaultAdmin({ config, logger, registry });

const nats = await connectNats({
  servers: config.natsUrl,
  name: config.instanceId,
  logger,
  traffic,
});
const bucket = await JsonBucket.open(nats.connection, INVENTORY_BUCKET, {
  replicas: config.kvReplicas,
  trafficGate: nats.trafficGate,
});
const store = new InventoryStore(bucket, {
  compactAt: config.compactAt,
  observer: metrics.observer,
});
if (config.seed) await seedStock(store, config.seed, logger);
const stockWatch = await metrics.watchStock(bucket);

const server = new GrpcServer({
  host: config.grpcHost,
  port: config.grpcPort,
  logger,
  registry,
  ...(traffic.gate && { trafficGate: traffic.gate }),
});
server.addService(inventoryV1.InventoryServiceService, createInventoryService(store));

const { port } = await serveService({
  ...base,
  config,
  server,
  drainNats: async () => {
    await stockWatch.stop();
    await store.idle();
    await nats.drain();
  },
  lastSteps: [shutdownStep],
});
logger.info({ port, bucket: INVENTORY_BUCKET }, 'inventory serving');
