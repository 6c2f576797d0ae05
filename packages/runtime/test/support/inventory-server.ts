import { status } from '@grpc/grpc-js';
import { inventoryV1 } from '@catmesh/proto';
import {
  createMetricsRegistry,
  GrpcServer,
  type Logger,
  type Registry,
  type ServiceImplementation,
} from '@catmesh/runtime';
import { captureLogs } from './log-capture.js';

type InventoryImplementation = ServiceImplementation<typeof inventoryV1.InventoryServiceService>;

/** An InventoryService whose unlisted methods answer UNIMPLEMENTED. */
export function inventory(handlers: Partial<InventoryImplementation>): InventoryImplementation {
  const unimplemented = (_call: unknown, callback: (error: { code: number }) => void) =>
    callback({ code: status.UNIMPLEMENTED });
  return {
    getStock: unimplemented,
    restock: unimplemented,
    reserve: unimplemented,
    release: unimplemented,
    commit: unimplemented,
    ...handlers,
  };
}

export function stock(sku: string, available = 7): inventoryV1.GetStockResponse {
  return { stock: { sku, available, reserved: 0, committed: 0 } };
}

export interface RunningServer {
  readonly server: GrpcServer;
  /** `127.0.0.1:<port>`, for clients. */
  readonly address: string;
  readonly registry: Registry;
  readonly logger: Logger;
  stop(): Promise<void>;
}

/** A kit GrpcServer with an InventoryService on a free loopback port, SERVING. */
export async function startInventoryServer(
  implementation: InventoryImplementation,
  options: { registry?: Registry; logger?: Logger } = {},
): Promise<RunningServer> {
  const registry = options.registry ?? createMetricsRegistry();
  const logger = options.logger ?? captureLogs('silent').logger;
  const server = new GrpcServer({ host: '127.0.0.1', port: 0, logger, registry });
  server.addService(inventoryV1.InventoryServiceService, implementation);
  const { port } = await server.listen();
  server.setServing();
  return {
    server,
    address: `127.0.0.1:${port}`,
    registry,
    logger,
    stop: async () => {
      await server.drain(5000);
    },
  };
}
