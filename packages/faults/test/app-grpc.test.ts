// The app mechanism over real gRPC on loopback: a kit server and a kit client, each with its
// own fault table, applied through a real FaultAdminService.
import { status, type ServiceError } from '@grpc/grpc-js';
import { faultsV1, inventoryV1 } from '@catmesh/proto';
import {
  callUnary,
  createClient,
  createLogger,
  createMetricsRegistry,
  GrpcServer,
  type TrafficHooks,
} from '@catmesh/runtime';
import { installTestTracing, type TestTracing } from '@catmesh/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_SPAN_EVENT, startFaultAdmin, type FaultAdmin } from '@catmesh/faults';

const logger = createLogger({ service: 'test', instance: 'test', level: 'silent' });
const config = (serviceName: string, instanceId: string) => ({
  serviceName,
  instanceId,
  grpcHost: '127.0.0.1',
  adminHost: undefined,
  adminPort: 0,
  faultAdmin: 'on' as const,
});

let tracing: TestTracing;
let serverFaults: FaultAdmin;
let clientFaults: FaultAdmin;
let server: GrpcServer;
let adminOfServer: faultsV1.FaultAdminServiceClient;
let adminOfClient: faultsV1.FaultAdminServiceClient;
let inventory: inventoryV1.InventoryServiceClient;
const serverRegistry = createMetricsRegistry();

beforeAll(async () => {
  tracing = installTestTracing();
  serverFaults = await startFaultAdmin({
    config: config('inventory', 'inventory-1'),
    logger,
    registry: serverRegistry,
  });
  clientFaults = await startFaultAdmin({
    config: config('orders', 'orders-1'),
    logger,
    registry: createMetricsRegistry(),
  });
  server = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    registry: serverRegistry,
    ...(serverFaults.traffic.gate && { trafficGate: serverFaults.traffic.gate }),
  });
  server.addService(inventoryV1.InventoryServiceService, {
    getStock: (call, callback) =>
      callback(null, {
        stock: { sku: call.request.sku, available: 1, reserved: 0, committed: 0 },
      }),
    restock: (_c, cb) => cb({ code: status.UNIMPLEMENTED }),
    reserve: (_c, cb) => cb({ code: status.UNIMPLEMENTED }),
    release: (_c, cb) => cb({ code: status.UNIMPLEMENTED }),
    commit: (_c, cb) => cb({ code: status.UNIMPLEMENTED }),
  });
  const { port } = await server.listen();
  server.setServing();
  const admin = (faults: FaultAdmin) =>
    createClient(faultsV1.FaultAdminServiceClient, `127.0.0.1:${faults.address?.port}`, {
      registry: createMetricsRegistry(),
    });
  adminOfServer = admin(serverFaults);
  adminOfClient = admin(clientFaults);
  const traffic: TrafficHooks = clientFaults.traffic;
  inventory = createClient(inventoryV1.InventoryServiceClient, `127.0.0.1:${port}`, {
    registry: createMetricsRegistry(),
    traffic,
    server: { instance: 'inventory-1' },
  });
});

afterEach(async () => {
  await callUnary(adminOfServer, 'revertAll', { experiment: '' });
  await callUnary(adminOfClient, 'revertAll', { experiment: '' });
  tracing.reset();
});

afterAll(async () => {
  inventory.close();
  adminOfServer.close();
  adminOfClient.close();
  await server.drain(2000);
  await serverFaults.shutdownStep.run();
  await clientFaults.shutdownStep.run();
  await tracing.shutdown();
});

function fault(id: string, kind: faultsV1.Fault['kind'], more: Partial<faultsV1.Fault> = {}) {
  return {
    fault: {
      id,
      kind,
      expiresAtUnixMs: Date.now() + 60_000,
      peers: [],
      direction: faultsV1.Direction.DIRECTION_UNSPECIFIED,
      transports: [],
      experiment: 'grpc-test',
      ...more,
    },
  };
}

const getStock = (deadlineMs = 5000) =>
  callUnary(inventory, 'getStock', { sku: 'kibble' }, { deadlineMs });

async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded');
}

describe('the app mechanism over real gRPC', () => {
  it('delays outbound calls by at least the latency, with a span event naming the fault', async () => {
    await callUnary(
      adminOfClient,
      'applyFault',
      fault('slow', { $case: 'latency', value: { delayMs: 300, jitterMs: 0, distribution: 0 } }),
    );
    const started = performance.now();
    await getStock();
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    const spans = await tracing.waitForSpans((all) =>
      all.some((s) => s.events.some((e) => e.name === FAULT_SPAN_EVENT)),
    );
    const event = spans.flatMap((s) => s.events).find((e) => e.name === FAULT_SPAN_EVENT);
    expect(event?.attributes).toMatchObject({
      'catmesh.fault.id': 'slow',
      'catmesh.fault.kind': 'latency',
      'catmesh.fault.experiment': 'grpc-test',
    });
  });

  it('loss makes the caller hit its own deadline', async () => {
    await callUnary(
      adminOfClient,
      'applyFault',
      fault('lossy', { $case: 'loss', value: { probability: 1 } }),
    );
    const error = await failure(getStock(500));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('reject fails at once with UNAVAILABLE', async () => {
    await callUnary(
      adminOfServer,
      'applyFault',
      fault('no', { $case: 'reject', value: { probability: 0 } }),
    );
    const error = await failure(getStock(30_000));
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toContain('no');
  });

  it('partitions inbound calls by the caller identity, and lists and counts it', async () => {
    await callUnary(
      adminOfServer,
      'applyFault',
      fault(
        'cut',
        { $case: 'partition', value: {} },
        {
          direction: faultsV1.Direction.DIRECTION_INBOUND,
          peers: [{ service: 'loadgen', instance: '', raftId: 0 }],
        },
      ),
    );
    await getStock(); // orders is not loadgen
    await callUnary(
      adminOfServer,
      'applyFault',
      fault(
        'cut',
        { $case: 'partition', value: {} },
        {
          direction: faultsV1.Direction.DIRECTION_INBOUND,
          peers: [{ service: 'orders', instance: 'orders-1', raftId: 0 }],
        },
      ),
    );
    expect((await failure(getStock(500))).code).toBe(status.DEADLINE_EXCEEDED);
    const listed = await callUnary(adminOfServer, 'listFaults', {});
    expect(listed.self).toEqual({ service: 'inventory', instance: 'inventory-1', raftId: 0 });
    expect(listed.faults.map((f) => [f.fault?.id, f.injections])).toEqual([['cut', 1]]);
    const metrics = await serverRegistry.metrics();
    expect(metrics).toContain('catmesh_faults_active{kind="partition"} 1');
    expect(metrics).toMatch(
      /catmesh_fault_injections_total\{kind="partition",transport="grpc",direction="inbound"\} 1/,
    );
    // The admin API itself is never behind the gate.
    expect((await callUnary(adminOfServer, 'revertFault', { id: 'cut' })).reverted).toBe(true);
    await getStock();
  });

  it('answers a bad fault with INVALID_ARGUMENT naming the field', async () => {
    const error = await failure(
      callUnary(
        adminOfServer,
        'applyFault',
        fault('old', { $case: 'partition', value: {} }, { expiresAtUnixMs: Date.now() - 1 }),
      ),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^fault\.expires_at_unix_ms: in the past/);
  });
});
