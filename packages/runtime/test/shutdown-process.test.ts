import { credentials, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { healthV1, inventoryV1 } from '@catmesh/proto';
import { freePort } from '@catmesh/testkit';
import { spawnFixture, type FixtureProcess } from './support/spawn-fixture.js';

const { SERVING, NOT_SERVING } = healthV1.HealthCheckResponse_ServingStatus;

let fixture: FixtureProcess | undefined;
afterEach(() => {
  if (fixture?.child.exitCode === null) fixture.child.kill('SIGKILL');
  fixture = undefined;
});

const jsonLines = (lines: string[]) =>
  lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('a service process on SIGTERM', () => {
  it('reports NOT_SERVING, drains the call in flight, and exits 0 within the grace period', async () => {
    const [grpcPort, metricsPort] = [await freePort(), await freePort()];
    fixture = spawnFixture('serving-process', {
      CATMESH_GRPC_HOST: '127.0.0.1',
      CATMESH_GRPC_PORT: String(grpcPort),
      CATMESH_METRICS_PORT: String(metricsPort),
      CATMESH_SHUTDOWN_GRACE: '60s',
      OTEL_SDK_DISABLED: 'true',
    });
    await fixture.waitForLine((line) => line.includes('"msg":"ready"'));
    const address = `127.0.0.1:${grpcPort}`;
    const readyz = async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status;

    const health = new healthV1.HealthClient(address, credentials.createInsecure());
    const statuses: number[] = [];
    const watch = health.watch({ service: '' });
    const watchEnded = new Promise<{ code: number } | undefined>((resolve) => {
      watch.on('data', (response: healthV1.HealthCheckResponse) => statuses.push(response.status));
      watch.on('error', (error: { code: number }) => resolve(error));
      watch.on('end', () => resolve(undefined));
    });
    await expect.poll(() => statuses).toHaveLength(1);
    expect(statuses).toEqual([SERVING]);
    expect(await readyz()).toBe(200);

    // A call in flight: the drain must wait for it.
    const inventory = new inventoryV1.InventoryServiceClient(address, credentials.createInsecure());
    const held = inventory.getStock({ sku: 'kibble' }, () => {});
    const heldResult = new Promise<number>((resolve) =>
      held.on('status', (s: { code: number }) => resolve(s.code)),
    );
    await fixture.waitForLine((line) => line.includes('"msg":"holding call"'));

    fixture.child.kill('SIGTERM');
    await expect.poll(() => statuses).toHaveLength(2);
    expect(statuses).toEqual([SERVING, NOT_SERVING]);
    // The Watch stream is ended by the drain (it would otherwise hold the drain up forever).
    expect(await watchEnded).toBeUndefined();
    await expect.poll(readyz).toBe(503);
    expect(fixture.child.exitCode).toBeNull();

    held.cancel();
    expect(await heldResult).toBe(status.CANCELLED);
    expect(await fixture.exited).toBe(0);
    health.close();
    inventory.close();

    const logs = jsonLines(fixture.stdout());
    expect(logs.filter((line) => line.msg === 'shutdown step').map((line) => line.step)).toEqual([
      'health: NOT_SERVING',
      'grpc: drain',
      'nats: drain',
      'telemetry: flush',
      'http: close',
    ]);
    expect(logs.at(-1)).toMatchObject({ msg: 'shutdown complete', exit_code: 0 });
    expect(fixture.stderr()).toEqual([]);
  });
});
