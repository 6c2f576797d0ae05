// The runner of `catmesh up` as the keeper of its instances: it restarts one that exits, and
// applies and reverts kill and pause faults for whoever asks through its control API. One real
// mesh is shared by the tests of the first block (each start costs seconds); its last test
// stops it.
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HealthProber } from '../src/local-mesh/health-probe.js';
import { address } from '../src/local-mesh/mesh-instances.js';
import type { PortPlan } from '../src/local-mesh/port-plan.js';
import {
  RunnerControlError,
  type InstanceRecord,
  type ProcessFaultRequest,
} from '../src/local-mesh/runner-control-api.js';
import { NoRunnerError, RunnerControlClient } from '../src/local-mesh/runner-control-client.js';
import { readRunnerControlFile } from '../src/local-mesh/runner-control-file.js';
import { StateDir } from '../src/local-mesh/state-dir.js';
import {
  CatmeshProcess,
  freePortBase,
  interrupt,
  meshProcesses,
  requireBuiltCli,
  runCatmesh,
  tempStateDir,
} from './support/local-mesh.js';

/** Generous: a restart is a new Node process joining NATS (or a Raft group) on a busy machine. */
const RECOVERY = { timeout: 60_000, interval: 200 };

const prober = new HealthProber();
afterAll(() => prober.close());

/** Starts `catmesh up` without loadgen on a state directory and ports of its own. */
async function startMesh(): Promise<{ stateDir: string; plan: PortPlan; runner: CatmeshProcess }> {
  requireBuiltCli();
  const stateDir = await tempStateDir();
  const plan = await freePortBase();
  const runner = new CatmeshProcess([
    ...[
      'up',
      '--state-dir',
      stateDir,
      '--port-base',
      String(plan.base),
      '--no-loadgen',
      '--no-dashboard',
    ],
  ]);
  await runner.waitForReady();
  return { stateDir, plan, runner };
}

async function stopMesh(stateDir: string, runner: CatmeshProcess): Promise<void> {
  if (runner.child.exitCode === null) runner.child.kill('SIGINT');
  await runner.exited;
  await runCatmesh(['down', '--state-dir', stateDir]);
  await rm(stateDir, { recursive: true, force: true });
}

/** The state letter of /proc/<pid>/stat (R, S, T for stopped...), or undefined once gone. */
async function processState(pid: number): Promise<string | undefined> {
  try {
    const line = await readFile(`/proc/${pid}/stat`, 'utf8');
    return line.slice(line.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** The error a promise rejects with, for a close look. */
async function refusal(promise: Promise<unknown>): Promise<RunnerControlError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RunnerControlError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('catmesh up keeps its instances running and takes process faults', () => {
  let stateDir: string;
  let plan: PortPlan;
  let runner: CatmeshProcess;
  let client: RunnerControlClient;

  beforeAll(async () => {
    ({ stateDir, plan, runner } = await startMesh());
    client = await RunnerControlClient.connect(new StateDir(stateDir));
  }, 120_000);
  afterAll(() => stopMesh(stateDir, runner), 60_000);

  const instance = async (name: string): Promise<InstanceRecord> => {
    const found = (await client.instances()).find((record) => record.name === name);
    if (!found) throw new Error(`no instance ${name}`);
    return found;
  };
  const statusOf = async (name: string): Promise<Record<string, unknown>> => {
    const status = await runCatmesh(['status', '--state-dir', stateDir, '--json']);
    const line = status.stdout.split('\n').find((text) => text.includes(`"name":"${name}"`));
    return JSON.parse(line ?? '{}') as Record<string, unknown>;
  };
  const serving = async (ports: InstanceRecord['ports']): Promise<boolean> =>
    (await prober.probe({ kind: 'grpc', address: address(ports) }, 1_000)) === 'SERVING';
  const fault = (request: Partial<ProcessFaultRequest> & { id: string }): ProcessFaultRequest => ({
    kind: 'pause',
    instance: 'orders',
    durationMs: 60_000,
    ...request,
  });

  it('serves only with the token of runner-control.json (0600), and names the field of a bad request', async () => {
    const file = join(stateDir, 'run', 'runner-control.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const endpoint = (await readRunnerControlFile(new StateDir(stateDir)))!;
    expect(endpoint.pid).toBe(runner.pid);
    const url = `http://127.0.0.1:${endpoint.port}`;
    const call = async (
      method: string,
      path: string,
      options: { token?: string; body?: string } = {},
    ): Promise<{ status: number; body: { error?: string; field?: string } }> => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token ?? endpoint.token}` },
        ...(options.body !== undefined && { body: options.body }),
      });
      return { status: response.status, body: (await response.json()) as { field?: string } };
    };

    const anonymous = await fetch(`${url}/v1/instances`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ field: 'authorization' });
    expect((await call('GET', '/v1/instances', { token: 'guessed' })).status).toBe(401);
    expect((await call('POST', '/v1/process-faults', { token: '', body: '{}' })).status).toBe(401);

    const post = (body: string): ReturnType<typeof call> =>
      call('POST', '/v1/process-faults', { body });
    const ok = { id: 'x1', kind: 'kill', instance: 'orders', durationMs: 1000 };
    const badFields: [Record<string, unknown>, string][] = [
      [{ ...ok, id: undefined }, 'id'],
      [{ ...ok, id: 'has spaces' }, 'id'],
      [{ ...ok, kind: 'partition' }, 'kind'],
      [{ ...ok, instance: '' }, 'instance'],
      [{ ...ok, durationMs: 0 }, 'durationMs'],
      [{ ...ok, durationMs: '5s' }, 'durationMs'],
      [{ ...ok, durationMs: 2 * 24 * 3600 * 1000 }, 'durationMs'],
      [{ ...ok, restartAfterMs: 5000 }, 'restartAfterMs'],
      [{ ...ok, kind: 'pause', restartAfterMs: 10 }, 'restartAfterMs'],
      [{ ...ok, experiment: 7 }, 'experiment'],
      [{ ...ok, instanse: 'orders' }, 'instanse'],
    ];
    for (const [body, field] of badFields) {
      const answer = await post(JSON.stringify(body));
      expect({ body, status: answer.status, field: answer.body.field }).toEqual({
        body,
        status: 400,
        field,
      });
      expect(answer.body.error).toMatch(new RegExp(`^${field}: `));
    }
    expect(await post('not json')).toMatchObject({ status: 400, body: { field: 'body' } });
    expect(await post('[1]')).toMatchObject({ status: 400, body: { field: 'body' } });
    expect(await call('DELETE', '/v1/process-faults?experiment=')).toMatchObject({
      status: 400,
      body: { field: 'experiment' },
    });
    expect(await call('GET', '/v1/instances?verbose=1')).toMatchObject({
      status: 400,
      body: { field: 'verbose' },
    });
    expect(await call('GET', '/v1/nothing')).toMatchObject({
      status: 404,
      body: { field: 'path' },
    });
    expect(await call('PUT', '/v1/instances')).toMatchObject({
      status: 405,
      body: { field: 'method' },
    });

    const unknown = await refusal(client.applyProcessFault(fault({ id: 'x2', instance: 'nope' })));
    expect(unknown).toMatchObject({ status: 404, field: 'instance' });
    expect(unknown.message).toContain('no instance nope in this mesh');
    expect(await refusal(client.revertProcessFault('never-applied'))).toMatchObject({
      status: 404,
      field: 'id',
    });
    // Nothing of that was applied.
    expect(await client.listProcessFaults()).toEqual([]);
    for (const record of await client.instances()) {
      expect(record).toMatchObject({ state: 'running', restarts: 0, lastExit: null });
    }
  });

  it('restarts an instance killed through the API after restartAfterMs; status counts the restart', async () => {
    const before = await instance('inventory');
    expect(before.ports).toEqual(plan.inventory);
    const applied = await client.applyProcessFault({
      id: 'kill-inventory',
      kind: 'kill',
      instance: 'inventory',
      durationMs: 12_000,
      restartAfterMs: 6_000,
      experiment: 'exp-a',
    });
    expect(applied).toMatchObject({
      id: 'kill-inventory',
      kind: 'kill',
      instance: 'inventory',
      experiment: 'exp-a',
      restartAfterMs: 6_000,
    });
    expect(applied.expiresAt - applied.appliedAt).toBe(12_000);

    // While it waits for its restart, it cannot be killed or paused again.
    await expect.poll(async () => (await instance('inventory')).state, RECOVERY).toBe('restarting');
    const again = await refusal(
      client.applyProcessFault({
        ...fault({ id: 'kill-again' }),
        kind: 'kill',
        instance: 'inventory',
      }),
    );
    expect(again).toMatchObject({ status: 409, field: 'instance' });
    expect(again.message).toContain('inventory is not running: it is restarting');
    expect(await refusal(client.applyProcessFault(fault({ id: 'kill-inventory' })))).toMatchObject({
      status: 409,
      field: 'id',
    });

    await expect
      .poll(async () => {
        const now = await instance('inventory');
        return now.state === 'running' && now.pid !== before.pid && (await serving(now.ports));
      }, RECOVERY)
      .toBe(true);
    const after = await instance('inventory');
    expect(after).toMatchObject({ restarts: 1, lastExit: { code: null, signal: 'SIGKILL' } });
    // The fault stays listed until its duration has passed, whatever the restart did.
    const listed = await client.listProcessFaults();
    if (Date.now() < applied.expiresAt) expect(listed.map((f) => f.id)).toEqual(['kill-inventory']);
    await expect.poll(async () => client.listProcessFaults(), RECOVERY).toEqual([]);

    const status = await statusOf('inventory');
    expect(status).toMatchObject({
      health: 'SERVING',
      state: 'running',
      pid: after.pid,
      restarts: 1,
      last_exit: { code: null, signal: 'SIGKILL' },
    });
    expect(runner.stdout).toContain('catmesh: fault kill-inventory: kill inventory for 12s');
    expect(runner.stdout).toContain(
      'catmesh: inventory was killed by SIGKILL; restarting it in 6s (restart 1)',
    );
    expect(runner.stdout).toContain(`catmesh: inventory restarted (pid ${after.pid}, restart 1)`);
    const log = await readFile(join(stateDir, 'logs', 'inventory.log'), 'utf8');
    expect(log).toContain('"msg":"runner: was killed by SIGKILL; restarting it in 6s (restart 1)"');
  });

  it('restarts an instance killed from outside (kill -9) after its backoff', async () => {
    const before = await instance('cat-feeder-3');
    process.kill(before.pid!, 'SIGKILL');
    await expect
      .poll(async () => {
        const now = await instance('cat-feeder-3');
        return now.state === 'running' && now.pid !== before.pid && (await serving(now.ports));
      }, RECOVERY)
      .toBe(true);
    expect(await statusOf('cat-feeder-3')).toMatchObject({
      health: 'SERVING',
      state: 'running',
      restarts: 1,
      last_exit: { signal: 'SIGKILL' },
    });
    expect(runner.stdout).toContain(
      'catmesh: cat-feeder-3 was killed by SIGKILL; restarting it in 250ms (restart 1)',
    );
    // The others were left alone.
    expect((await instance('cat-feeder-1')).restarts).toBe(0);
  });

  it('pauses an instance (SIGSTOP) until the fault expires, and continues it (SIGCONT) by itself', async () => {
    const { pid } = await instance('orders');
    const applied = await client.applyProcessFault(
      fault({ id: 'pause-orders', instance: 'orders', durationMs: 3_000 }),
    );
    await expect.poll(() => processState(pid!), RECOVERY).toBe('T');
    const during = await instance('orders');
    if (Date.now() < applied.expiresAt) {
      expect(during).toMatchObject({ state: 'paused', pausedUntil: applied.expiresAt, pid });
    }
    await expect.poll(() => processState(pid!), RECOVERY).not.toBe('T');
    await expect.poll(async () => (await instance('orders')).state, RECOVERY).toBe('running');
    expect(await client.listProcessFaults()).toEqual([]);
    expect(await processState(pid!)).not.toBeUndefined();
    expect(runner.stdout).toContain('catmesh: fault pause-orders (pause orders) ended: expired');
  });

  it('continues a paused instance when its fault is reverted, alone or by experiment', async () => {
    const { pid } = await instance('cat-feeder-2');
    await client.applyProcessFault(fault({ id: 'p1', instance: 'cat-feeder-2' }));
    await expect.poll(() => processState(pid!), RECOVERY).toBe('T');
    const twice = await refusal(
      client.applyProcessFault(fault({ id: 'p2', instance: 'cat-feeder-2' })),
    );
    expect(twice).toMatchObject({ status: 409, field: 'instance' });
    expect(twice.message).toContain('cat-feeder-2 is already paused');
    const killPaused = await refusal(
      client.applyProcessFault({ ...fault({ id: 'k2', instance: 'cat-feeder-2' }), kind: 'kill' }),
    );
    expect(killPaused).toMatchObject({ status: 409, field: 'instance' });
    expect(await client.revertProcessFault('p1')).toMatchObject({ id: 'p1', kind: 'pause' });
    await expect.poll(() => processState(pid!), RECOVERY).not.toBe('T');

    await client.applyProcessFault(
      fault({ id: 'p3', instance: 'cat-feeder-2', experiment: 'exp-b' }),
    );
    await client.applyProcessFault(fault({ id: 'p4', instance: 'orders', experiment: 'exp-c' }));
    await expect.poll(() => processState(pid!), RECOVERY).toBe('T');
    const reverted = await client.revertProcessFaults({ experiment: 'exp-b' });
    expect(reverted.map((f) => f.id)).toEqual(['p3']);
    await expect.poll(() => processState(pid!), RECOVERY).not.toBe('T');
    expect((await client.listProcessFaults()).map((f) => f.id)).toEqual(['p4']);
    expect((await client.revertProcessFaults()).map((f) => f.id)).toEqual(['p4']);
    expect(await client.listProcessFaults()).toEqual([]);
    await expect.poll(async () => (await instance('orders')).state, RECOVERY).toBe('running');
  });

  it('on Ctrl-C with an instance paused and another waiting for its restart: continues one, restarts nothing, leaves nothing', async () => {
    const paused = (await instance('cat-feeder-1')).pid!;
    await client.applyProcessFault(fault({ id: 'last-pause', instance: 'cat-feeder-1' }));
    await expect.poll(() => processState(paused), RECOVERY).toBe('T');
    await client.applyProcessFault({
      id: 'last-kill',
      kind: 'kill',
      instance: 'orders',
      durationMs: 60_000,
      restartAfterMs: 50_000,
    });
    await expect.poll(async () => (await instance('orders')).state, RECOVERY).toBe('restarting');

    expect(await interrupt(runner)).toBe(0);
    expect(runner.stdout).toContain(
      'catmesh: fault last-pause (pause cat-feeder-1) ended: mesh stopping',
    );
    // Continued, then stopped by SIGTERM like the others (not killed 12 s later).
    expect(runner.stdout).toMatch(/ {2}cat-feeder-1: stopped in/);
    expect(runner.stdout).not.toContain('orders restarted');
    expect(await meshProcesses(stateDir)).toEqual([]);
    expect(await processState(paused)).toBeUndefined();
    await expect(RunnerControlClient.connect(new StateDir(stateDir))).rejects.toThrow(
      NoRunnerError,
    );
    await expect(RunnerControlClient.connect(new StateDir(stateDir))).rejects.toThrow(
      `no \`catmesh up\` is running on ${stateDir}`,
    );
  });
});

describe('catmesh up, killed with kill -9 while an instance is paused', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('has its watchdog continue the paused instance and stop it with the rest', async () => {
    const { stateDir, runner } = await startMesh();
    cleanups.push(() => stopMesh(stateDir, runner));
    const client = await RunnerControlClient.connect(new StateDir(stateDir));
    const orders = (await client.instances()).find((record) => record.name === 'orders')!;
    await client.applyProcessFault({
      id: 'p',
      kind: 'pause',
      instance: 'orders',
      durationMs: 60_000,
    });
    await expect.poll(() => processState(orders.pid!), RECOVERY).toBe('T');

    runner.child.kill('SIGKILL');
    await runner.exited;
    await expect.poll(async () => meshProcesses(stateDir), RECOVERY).toEqual([]);
    const watchdogLog = await readFile(join(stateDir, 'logs', 'watchdog.log'), 'utf8');
    // SIGTERM reached it: it was continued, not left for SIGKILL.
    expect(watchdogLog).toContain('"msg":"stopped orders"');
    await expect(RunnerControlClient.connect(new StateDir(stateDir))).rejects.toThrow(
      NoRunnerError,
    );
  });
});
