// An inventory replica in this process, wired like main.ts (store, service, kit GrpcServer)
// against a real NATS, for tests here and in the services that call it.
import { credentials } from '@grpc/grpc-js';
import { inventoryV1 } from '@catmesh/proto';
import {
  connectNats,
  createLogger,
  createMetricsRegistry,
  GrpcServer,
  type NatsClient,
  type Registry,
} from '@catmesh/runtime';
import { createInventoryMetrics } from '../../src/inventory-metrics.js';
import { createInventoryService } from '../../src/inventory-service.js';
import { InventoryStore } from '../../src/inventory-store.js';
import { JsonBucket } from '@catmesh/runtime';

export interface InventoryReplica {
  readonly address: string;
  readonly store: InventoryStore;
  readonly bucket: JsonBucket;
  readonly registry: Registry;
  /** A plain grpc-js client (no kit retries), so a test sees exactly what the server answered. */
  readonly client: inventoryV1.InventoryServiceClient;
  stop(): Promise<void>;
}

export async function startInventoryReplica(
  natsUrl: string,
  options: { compactAt?: number; name?: string; port?: number } = {},
): Promise<InventoryReplica> {
  const name = options.name ?? 'inventory-test';
  const logger = createLogger({ service: 'inventory', instance: name, level: 'silent' });
  const registry = createMetricsRegistry();
  const metrics = createInventoryMetrics(registry, logger);
  const nats: NatsClient = await connectNats({ servers: natsUrl, name, logger });
  const bucket = await JsonBucket.open(nats.connection, 'inventory');
  const store = new InventoryStore(bucket, {
    compactAt: options.compactAt ?? 64,
    observer: metrics.observer,
  });
  const stockWatch = await metrics.watchStock(bucket);
  const server = new GrpcServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    logger,
    registry,
  });
  server.addService(inventoryV1.InventoryServiceService, createInventoryService(store));
  const { port } = await server.listen();
  server.setServing();
  const address = `127.0.0.1:${port}`;
  const client = new inventoryV1.InventoryServiceClient(address, credentials.createInsecure());
  return {
    address,
    store,
    bucket,
    registry,
    client,
    stop: async () => {
      client.close();
      await server.drain(5_000);
      await store.idle();
      await stockWatch.stop();
      await nats.drain();
    },
  };
}
