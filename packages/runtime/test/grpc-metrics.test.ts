import { spawnSync } from 'node:child_process';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryV1 } from '@catmesh/proto';
import {
  callUnary,
  createClient,
  createMetricsRegistry,
  startMetricsHttpServer,
  type MetricsHttpServer,
} from '@catmesh/runtime';
import {
  inventory,
  startInventoryServer,
  stock,
  type RunningServer,
} from './support/inventory-server.js';

const registry = createMetricsRegistry();
let running: RunningServer;
let http: MetricsHttpServer;
let exposition: string;

const service = 'catmesh.inventory.v1.InventoryService';

beforeAll(async () => {
  // One registry for the process, as in a service that is both a server and a client.
  running = await startInventoryServer(
    inventory({
      getStock: (call, callback) =>
        call.request.sku === 'missing'
          ? callback({ code: status.NOT_FOUND, details: 'no such sku' })
          : callback(null, stock(call.request.sku)),
    }),
    { registry },
  );
  http = await startMetricsHttpServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    isReady: () => running.server.isServing(),
  });

  const client = createClient(inventoryV1.InventoryServiceClient, running.address, { registry });
  for (let i = 0; i < 3; i++) await callUnary(client, 'getStock', { sku: 'kibble' });
  for (let i = 0; i < 2; i++) {
    await expect(callUnary(client, 'getStock', { sku: 'missing' })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  }
  await expect(callUnary(client, 'commit', { orderId: 'o-1' })).rejects.toMatchObject({
    code: status.UNIMPLEMENTED,
  });
  client.close();

  const response = await fetch(`http://127.0.0.1:${http.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  exposition = await response.text();
});

afterAll(async () => {
  await http.close();
  await running.stop();
});

/** The value of one sample, found by metric name and exact label set. */
function sample(name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(',');
  for (const line of exposition.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    if (match[2]!.split(',').sort().join(',') === wanted) return Number(match[3]);
  }
  return undefined;
}

describe('gRPC RED metrics on /metrics', () => {
  for (const side of ['server', 'client'] as const) {
    it(`${side}: started, handled by code, and the handling-time histogram`, () => {
      const getStock = { grpc_service: service, grpc_method: 'GetStock', grpc_type: 'unary' };
      const commit = { grpc_service: service, grpc_method: 'Commit', grpc_type: 'unary' };
      expect(sample(`grpc_${side}_started_total`, getStock)).toBe(5);
      expect(sample(`grpc_${side}_handled_total`, { ...getStock, grpc_code: 'OK' })).toBe(3);
      expect(sample(`grpc_${side}_handled_total`, { ...getStock, grpc_code: 'NotFound' })).toBe(2);
      expect(sample(`grpc_${side}_started_total`, commit)).toBe(1);
      expect(sample(`grpc_${side}_handled_total`, { ...commit, grpc_code: 'Unimplemented' })).toBe(
        1,
      );
      expect(sample(`grpc_${side}_handling_seconds_count`, getStock)).toBe(5);
      expect(sample(`grpc_${side}_handling_seconds_bucket`, { ...getStock, le: '+Inf' })).toBe(5);
      expect(exposition).toContain(`# TYPE grpc_${side}_handling_seconds histogram`);
      expect(exposition).toContain(`# HELP grpc_${side}_handled_total `);
    });
  }

  it('server methods exist at zero before their first call', () => {
    const restock = { grpc_service: service, grpc_method: 'Restock', grpc_type: 'unary' };
    expect(sample('grpc_server_started_total', restock)).toBe(0);
  });

  it('includes the default process metrics', () => {
    expect(exposition).toMatch(/^process_cpu_seconds_total \d/m);
    expect(exposition).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it('is a valid exposition by `promtool check metrics`, without lint findings', () => {
    const result = spawnSync('/usr/bin/promtool', ['check', 'metrics'], {
      input: exposition,
      encoding: 'utf8',
    });
    expect(result.error).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the HTTP listener', () => {
  it('/healthz is 200 while the process runs; /readyz follows health', async () => {
    expect((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${http.port}/readyz`)).status).toBe(200);
    running.server.setNotServing();
    expect((await fetch(`http://127.0.0.1:${http.port}/readyz`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status).toBe(200);
    running.server.setServing();
    expect((await fetch(`http://127.0.0.1:${http.port}/readyz`)).status).toBe(200);
  });

  it('answers 404 elsewhere and 405 to anything but GET', async () => {
    expect((await fetch(`http://127.0.0.1:${http.port}/nope`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${http.port}/metrics`, { method: 'POST' })).status).toBe(
      405,
    );
  });

  it('fails to start on a taken port with an error naming it', async () => {
    await expect(
      startMetricsHttpServer({ host: '127.0.0.1', port: http.port, registry, isReady: () => true }),
    ).rejects.toThrow(
      `metrics HTTP server cannot listen on 127.0.0.1:${http.port}: the address is already in use (EADDRINUSE)`,
    );
  });
});
