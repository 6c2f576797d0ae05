// `catmesh up` end to end, as a user runs it: the built executable, real services, real NATS.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { inventoryV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { requires } from '@catmesh/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CatmeshProcess,
  freePortBase,
  interrupt,
  meshProcesses,
  requireBuiltCli,
  runCatmesh,
  tempStateDir,
  unbuiltService,
} from './support/local-mesh.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // A failed test must not leave a mesh behind for the next one (or the machine).
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts `catmesh up` and waits for it to say the mesh is ready. */
async function up(stateDir: string, base: number, ...more: string[]): Promise<CatmeshProcess> {
  const runner = new CatmeshProcess([
    'up',
    '--state-dir',
    stateDir,
    '--port-base',
    String(base),
    ...more,
  ]);
  cleanups.push(async () => {
    if (runner.child.exitCode === null) runner.child.kill('SIGINT');
    await runner.exited;
    await runCatmesh(['down', '--state-dir', stateDir]);
  });
  await runner.waitForReady();
  return runner;
}

beforeAll(() => requireBuiltCli());

describe('catmesh up', () => {
  it('runs the mesh: an order feeds the cat, status sees every instance, Ctrl-C leaves nothing, and the next up finds the order', async () => {
    const stateDir = await tempStateDir();
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const plan = await freePortBase();
    const endpoints = ['--endpoints', plan.catFeeders.map((r) => `127.0.0.1:${r.main}`).join(',')];
    const orders = ['--orders-endpoint', `127.0.0.1:${plan.orders.main}`];

    const first = await up(stateDir, plan.base, '--no-loadgen');
    expect(first.stdout).toContain(`127.0.0.1:${plan.orders.main}`);
    expect(first.stdout).toContain(
      `catmesh order place --sku kibble --quantity 2 ${orders.join(' ')}`,
    );
    // A new mesh's cat starts hungry.
    expect(await runCatmesh(['kv', 'get', 'cat.state', ...endpoints])).toMatchObject({
      code: 0,
      stdout: 'hungry\n',
    });

    const placed = await runCatmesh([
      'order',
      'place',
      '--sku',
      'kibble',
      '--quantity',
      '2',
      '--wait',
      '--timeout',
      '30s',
      ...orders,
    ]);
    expect(placed).toMatchObject({ code: 0, stderr: '' });
    const [orderId, state] = placed.stdout.trim().split(' ');
    expect(state).toBe('FULFILLED');
    await expect
      .poll(async () => (await runCatmesh(['kv', 'get', 'cat.state', ...endpoints])).stdout)
      .toBe('full\n');

    const status = await runCatmesh(['status', '--state-dir', stateDir, '--json']);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    const instances = status.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(instances.map((instance) => instance['name'])).toEqual([
      'nats',
      'cat-feeder-1',
      'cat-feeder-2',
      'cat-feeder-3',
      'inventory',
      'orders',
      'dashboard',
    ]);
    for (const instance of instances) {
      expect(instance['health']).toBe('SERVING');
      expect(typeof instance['pid']).toBe('number');
    }
    const roles = instances.flatMap((instance) => {
      const raft = instance['raft'] as { role: string } | null;
      return raft ? [raft.role] : [];
    });
    expect(roles.filter((role) => role === 'leader')).toHaveLength(1);
    const orderStatus = instances.find((instance) => instance['name'] === 'orders')!;
    expect(typeof orderStatus['requests_per_second']).toBe('number');
    expect(typeof orderStatus['errors_per_second']).toBe('number');

    expect(await interrupt(first)).toBe(0);
    expect(first.stdout).toContain('catmesh: stopped');
    // Nothing is left: every instance and the watchdog are gone by the time the runner exits.
    expect(await meshProcesses(stateDir)).toEqual([]);
    expect(await readdir(join(stateDir, 'run'))).toEqual([]);

    // What is left to look at: status says down, the logs are there (raw: these are not a TTY).
    const stopped = await runCatmesh(['status', '--state-dir', stateDir]);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toMatch(/^runner: not running/);
    expect(stopped.stdout).toMatch(/^orders +down +- +/m);
    const ordersLog = await runCatmesh(['logs', 'orders', '--state-dir', stateDir, '--tail', '3']);
    const lines = ordersLog.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ instance: 'orders' });
    const allLogs = await runCatmesh(['logs', '--state-dir', stateDir, '--tail', '1']);
    expect(allLogs.stdout).toMatch(/^nats {9}\| \[\d+\] /m);
    expect(allLogs.stdout).toMatch(/^cat-feeder-2 \| \{"level":/m);

    // The same state directory: the order is still there, and the seed stock was not added twice.
    const second = await up(stateDir, plan.base, '--no-loadgen');
    const listed = await runCatmesh(['order', 'list', '--json', ...orders]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`"id":"${orderId}"`);
    expect(await availableStock(`127.0.0.1:${plan.inventory.main}`, 'kibble')).toBe(1000 - 2);
    expect(await interrupt(second)).toBe(0);
    expect(await meshProcesses(stateDir)).toEqual([]);
  });

  it(
    'starts loadgen too, whose orders reach the orders service',
    requires(unbuiltService('loadgen')),
    async () => {
      const stateDir = await tempStateDir();
      cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
      const plan = await freePortBase();
      const runner = await up(stateDir, plan.base);
      await expect
        .poll(async () => {
          const status = await runCatmesh(['status', '--state-dir', stateDir, '--json']);
          const orders = status.stdout.split('\n').find((line) => line.includes('"name":"orders"'));
          const loadgen = status.stdout.includes(
            '"name":"loadgen","service":"loadgen","health":"SERVING"',
          );
          return (
            loadgen &&
            orders !== undefined &&
            (JSON.parse(orders) as { requests_per_second: number }).requests_per_second > 0
          );
        })
        .toBe(true);
      expect(await interrupt(runner)).toBe(0);
      expect(await meshProcesses(stateDir)).toEqual([]);
    },
  );
});

async function availableStock(address: string, sku: string): Promise<number | undefined> {
  const client = new inventoryV1.InventoryServiceClient(address, credentials.createInsecure());
  try {
    const { stock } = await callUnary(client, 'getStock', { sku }, { deadlineMs: 5000 });
    return stock?.available;
  } finally {
    client.close();
  }
}
