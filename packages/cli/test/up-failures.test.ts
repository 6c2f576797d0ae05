// `catmesh up` when things go wrong: its runner killed with kill -9 (watchdog and pid files),
// a port already taken, a service that dies at start, nats-server missing, a second runner.
import { createServer, type Server } from 'node:net';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandLineOf } from '../src/local-mesh/process-identity.js';
import {
  CatmeshProcess,
  freePortBase,
  meshProcesses,
  pidFromFile,
  requireBuiltCli,
  runCatmesh,
  tempStateDir,
  userEnv,
} from './support/local-mesh.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => requireBuiltCli());

/** A state directory removed after the test, with `catmesh down` first in case a mesh is left. */
async function stateDirForTest(): Promise<string> {
  const stateDir = await tempStateDir();
  cleanups.push(async () => {
    await runCatmesh(['down', '--state-dir', stateDir]);
    await rm(stateDir, { recursive: true, force: true });
  });
  return stateDir;
}

function upArgs(stateDir: string, base: number): string[] {
  return [
    'up',
    '--state-dir',
    stateDir,
    '--port-base',
    String(base),
    '--no-loadgen',
    '--no-dashboard',
  ];
}

async function startMesh(stateDir: string, base: number): Promise<CatmeshProcess> {
  const runner = new CatmeshProcess(upArgs(stateDir, base));
  cleanups.push(async () => {
    if (runner.child.exitCode === null) runner.child.kill('SIGKILL');
    await runner.exited;
  });
  await runner.waitForReady();
  return runner;
}

/** Running: not gone, and not a zombie waiting for its new parent (pid 1) to reap it. */
async function isAlive(pid: number): Promise<boolean> {
  return (await commandLineOf(pid)) !== undefined;
}

describe('catmesh up, when its runner is killed with kill -9', () => {
  it('has its watchdog stop the instances it left, and refuses a second runner while it runs', async () => {
    const stateDir = await stateDirForTest();
    const { base } = await freePortBase();
    const runner = await startMesh(stateDir, base);

    const second = await runCatmesh(upArgs(stateDir, base));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `catmesh: a mesh is already running from ${stateDir} (runner pid ${runner.pid})`,
    );

    const instances = (await meshProcesses(stateDir)).filter((p) => p.pid !== runner.pid);
    expect(instances.length).toBeGreaterThanOrEqual(6);
    runner.child.kill('SIGKILL');
    await runner.exited;
    await expect.poll(() => meshProcesses(stateDir)).toEqual([]);
    const watchdogLog = await readFile(join(stateDir, 'logs', 'watchdog.log'), 'utf8');
    expect(watchdogLog).toContain('the runner is gone without stopping its mesh');
    expect(watchdogLog).toContain('"msg":"stopped orders"');
  });

  it('leaves pid files from which the next up, or catmesh down, stops the orphans (watchdog killed too)', async () => {
    const stateDir = await stateDirForTest();
    const { base } = await freePortBase();
    const killRunnerAndWatchdog = async (runner: CatmeshProcess): Promise<number[]> => {
      process.kill(await pidFromFile(stateDir, 'watchdog'), 'SIGKILL');
      runner.child.kill('SIGKILL');
      await runner.exited;
      const pids = await Promise.all(
        ['nats', 'cat-feeder-1', 'orders'].map((name) => pidFromFile(stateDir, name)),
      );
      // Orphans now: nothing of catmesh is left to stop them.
      for (const pid of pids) expect(await isAlive(pid)).toBe(true);
      return pids;
    };

    const orphans = await killRunnerAndWatchdog(await startMesh(stateDir, base));
    const next = await startMesh(stateDir, base);
    expect(next.stdout).toMatch(
      /catmesh: stopped 6 processes an earlier catmesh up left running: .*orders \(pid \d+\)/,
    );
    for (const pid of orphans) expect(await isAlive(pid)).toBe(false);

    const again = await killRunnerAndWatchdog(next);
    const down = await runCatmesh(['down', '--state-dir', stateDir]);
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(down.stdout).toMatch(
      /no runner was alive; stopped what it left: .*nats \(pid \d+, stopped\)/,
    );
    for (const pid of again) expect(await isAlive(pid)).toBe(false);
    expect(await meshProcesses(stateDir)).toEqual([]);
  });
});

describe('catmesh down', () => {
  it('stops a running mesh from another shell: the runner stops every instance and exits 0', async () => {
    const stateDir = await stateDirForTest();
    const { base } = await freePortBase();
    const runner = await startMesh(stateDir, base);
    const down = await runCatmesh(['down', '--state-dir', stateDir]);
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(down.stdout).toContain(
      `catmesh: the mesh of ${stateDir} is stopped (runner pid ${runner.pid})`,
    );
    expect(await runner.exited).toBe(0);
    expect(runner.stdout).toContain('catmesh: SIGTERM: stopping the mesh');
    expect(await meshProcesses(stateDir)).toEqual([]);
  });
});

describe('catmesh up refuses to start', () => {
  it('when a port of the plan is taken, naming the port, its instance and the process holding it', async () => {
    const stateDir = await stateDirForTest();
    const plan = await freePortBase();
    const taken = plan.catFeeders[1]!.main;
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(taken, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => holder.close(resolve)));

    const run = await runCatmesh(upArgs(stateDir, plan.base));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `port ${taken} (cat-feeder-2 gRPC) is in use by ${process.execPath}`,
    );
    expect(run.stderr).toContain(`(pid ${process.pid})`);
    expect(run.stderr).toContain('--port-base');
    expect(await meshProcesses(stateDir)).toEqual([]);
  });

  it('when nats-server is not installed, saying how to install it', async () => {
    const stateDir = await stateDirForTest();
    const { base } = await freePortBase();
    const run = await runCatmesh(upArgs(stateDir, base), userEnv({ PATH: '/nonexistent' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nats-server is not installed: apt-get install nats-server');
    expect(run.stderr).toContain('brew install nats-server');
  });
});

describe('catmesh up, when an instance dies while starting', () => {
  it('stops everything, shows the last lines of its log and exits 1', async () => {
    const stateDir = await stateDirForTest();
    const { base } = await freePortBase();
    // A file where cat-feeder-2's data directory should be: it cannot open its storage.
    await mkdir(join(stateDir, 'data'), { recursive: true });
    await writeFile(join(stateDir, 'data', 'cat-feeder-2'), 'not a directory');

    const run = await runCatmesh(upArgs(stateDir, base));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'catmesh: the mesh did not start: cat-feeder-2 exited with code 1',
    );
    expect(run.stderr).toContain(`lines of ${join(stateDir, 'logs', 'cat-feeder-2.log')}:`);
    expect(run.stderr).toContain('cannot open storage');
    expect(await meshProcesses(stateDir)).toEqual([]);
  });
});
