import { createRequire } from 'node:module';
import { createServer, type Server as NetServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  status,
  type GrpcObject,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthV1, inventoryV1 } from '@catmesh/proto';
import { callUnary, createClient, createMetricsRegistry, GrpcServer } from '@catmesh/runtime';
import { captureLogs } from './support/log-capture.js';
import {
  inventory,
  startInventoryServer,
  stock,
  type RunningServer,
} from './support/inventory-server.js';

const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = healthV1.HealthCheckResponse_ServingStatus;
const INVENTORY = 'catmesh.inventory.v1.InventoryService';

describe('listen', () => {
  let blocker: NetServer;
  let takenPort: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    takenPort = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('fails with an error naming host:port when the port is taken', async () => {
    const server = new GrpcServer({
      host: '127.0.0.1',
      port: takenPort,
      logger: captureLogs('silent').logger,
      registry: createMetricsRegistry(),
    });
    await expect(server.listen()).rejects.toThrow(
      `gRPC server cannot listen on 127.0.0.1:${takenPort}: the address is already in use (EADDRINUSE); another process listens on this port`,
    );
    await server.drain(1000);
  });
});

describe('health', () => {
  let running: RunningServer;
  let health: healthV1.HealthClient;
  beforeAll(async () => {
    running = await startInventoryServer(inventory({}));
    health = new healthV1.HealthClient(running.address, credentials.createInsecure());
  });
  afterAll(async () => {
    health.close();
    await running.stop();
  });

  const check = (service: string) =>
    new Promise<healthV1.HealthCheckResponse>((resolve, reject) =>
      health.check({ service }, (error, response) => (error ? reject(error) : resolve(response))),
    );

  it('Check answers SERVING for the server and each service after start', async () => {
    expect((await check('')).status).toBe(SERVING);
    expect((await check(INVENTORY)).status).toBe(SERVING);
  });

  it('Check answers NOT_FOUND for a service the server does not have', async () => {
    await expect(check('catmesh.orders.v1.OrderService')).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it('status is per service', async () => {
    running.server.setNotServing(INVENTORY);
    expect((await check(INVENTORY)).status).toBe(NOT_SERVING);
    expect((await check('')).status).toBe(SERVING);
    running.server.setServing(INVENTORY);
    expect((await check(INVENTORY)).status).toBe(SERVING);
    expect(() => running.server.setServing('catmesh.orders.v1.OrderService')).toThrow(/no service/);
  });

  it('Watch sends the status now and on every change; an unknown service is SERVICE_UNKNOWN', async () => {
    const seen: number[] = [];
    const unknown: number[] = [];
    const watch = health.watch({ service: '' });
    const watchUnknown = health.watch({ service: 'catmesh.orders.v1.OrderService' });
    const next = (count: number, into: number[]) =>
      new Promise<void>((resolve) => {
        const check = () => (into.length >= count ? resolve() : setTimeout(check, 5));
        check();
      });
    watch.on('data', (response: healthV1.HealthCheckResponse) => seen.push(response.status));
    watchUnknown.on('data', (response: healthV1.HealthCheckResponse) =>
      unknown.push(response.status),
    );
    watch.on('error', () => {});
    watchUnknown.on('error', () => {});
    await next(1, seen);
    running.server.setNotServing();
    await next(2, seen);
    running.server.setNotServing(); // no change, no message
    running.server.setServing();
    await next(3, seen);
    await next(1, unknown);
    watch.cancel();
    watchUnknown.cancel();
    expect(seen).toEqual([SERVING, NOT_SERVING, SERVING]);
    expect(unknown).toEqual([SERVICE_UNKNOWN]);
  });
});

describe('reflection', () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await startInventoryServer(inventory({}));
  });
  afterAll(() => running.stop());

  it('lists the services this server has, from the catmesh descriptor set', async () => {
    // The reflection protocol's own proto, as shipped by @grpc/reflection.
    const reflectionRoot = dirname(
      createRequire(import.meta.url).resolve('@grpc/reflection/package.json'),
    );
    const definition = loadSync(
      join(reflectionRoot, 'build/proto/grpc/reflection/v1/reflection.proto'),
      {
        keepCase: true,
      },
    );
    const grpcV1 = ((loadPackageDefinition(definition).grpc as GrpcObject).reflection as GrpcObject)
      .v1 as GrpcObject;
    const Reflection = grpcV1.ServerReflection as ServiceClientConstructor;
    const client = new Reflection(running.address, credentials.createInsecure());
    const openStream = client.ServerReflectionInfo as () => NodeJS.EventEmitter & {
      write(message: unknown): void;
      end(): void;
    };
    const stream = openStream.call(client);
    const response = await new Promise<{ list_services_response: { service: { name: string }[] } }>(
      (resolve, reject) => {
        stream.once('data', resolve);
        stream.once('error', reject);
        stream.write({ list_services: '*' });
      },
    );
    stream.end();
    client.close();
    const names = response.list_services_response.service.map((s) => s.name).sort();
    expect(names).toEqual(['catmesh.inventory.v1.InventoryService', 'grpc.health.v1.Health']);
  });
});

describe('handlers', () => {
  let running: RunningServer;
  const logs = captureLogs('debug');
  const registry = createMetricsRegistry();
  beforeAll(async () => {
    running = await startInventoryServer(
      inventory({
        getStock: async (call, callback) => {
          await new Promise((resolve) => setImmediate(resolve));
          if (call.request.sku === 'bad')
            throw Object.assign(new Error('sku must not be "bad"'), {
              code: status.INVALID_ARGUMENT,
            });
          if (call.request.sku === 'boom') throw new Error('kibble dispenser jammed');
          callback(null, stock(call.request.sku));
        },
        reserve: () => {
          throw new Error('thrown synchronously');
        },
        release: (_call, callback) => {
          callback(null, { reservation: undefined });
          callback({ code: status.INTERNAL }); // a second answer is ignored
        },
      }),
      { logger: logs.logger, registry },
    );
  });
  afterAll(() => running.stop());

  it('an async handler may reject: a gRPC status error answers as is, anything else is UNKNOWN and logged', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, { registry });
    expect(await callUnary(client, 'getStock', { sku: 'kibble' })).toEqual(stock('kibble'));
    await expect(callUnary(client, 'getStock', { sku: 'bad' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'sku must not be "bad"',
    });
    await expect(callUnary(client, 'getStock', { sku: 'boom' })).rejects.toMatchObject({
      code: status.UNKNOWN,
      details: 'kibble dispenser jammed',
    });
    await expect(
      callUnary(client, 'reserve', { orderId: 'o', sku: 's', quantity: 1 }),
    ).rejects.toMatchObject({
      code: status.UNKNOWN,
      details: 'thrown synchronously',
    });
    expect(await callUnary(client, 'release', { orderId: 'o' })).toEqual({
      reservation: undefined,
    });
    client.close();

    const failures = logs.lines().filter((line) => line.msg === 'rpc handler failed');
    expect(failures.map((line) => (line.err as { message: string }).message)).toEqual([
      'kibble dispenser jammed',
      'thrown synchronously',
    ]);
    expect((failures[0]!.err as { stack: string }).stack).toContain('grpc-server.test.ts');
  });

  it('writes one access log line per call, at warn for server faults', () => {
    const access = logs
      .lines()
      .filter((line) => line.rpc === `${INVENTORY}/GetStock` && typeof line.grpc_code === 'string');
    expect(access.map((line) => [line.level, line.grpc_code])).toEqual([
      ['info', 'OK'],
      ['info', 'InvalidArgument'],
      ['warn', 'Unknown'],
    ]);
    expect(access[0]).toHaveProperty('duration_ms');
    expect(access[0]).toHaveProperty('peer');
  });

  it('addService rejects an implementation missing a method, and services added after listen', () => {
    const server = new GrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger: logs.logger,
      registry: createMetricsRegistry(),
    });
    const incomplete = { ...inventory({}) } as Record<string, unknown>;
    delete incomplete.commit;
    expect(() =>
      server.addService(inventoryV1.InventoryServiceService, incomplete as never),
    ).toThrow(`${INVENTORY} has no handler for "commit"`);
    expect(() =>
      running.server.addService(inventoryV1.InventoryServiceService, inventory({})),
    ).toThrow(/before listen/);
  });
});
