import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { requires } from '@catmesh/testkit';
import {
  createNetfilterInjector,
  LocalNetwork,
  networkNamespaceProblem,
  ProcessSupervisor,
} from '../src/index.js';
import type { FaultInjector } from '../src/index.js';
import { tsFixture } from './fixtures/ts-fixture.js';

const namespaces = requires(networkNamespaceProblem());

const port = 7000;

/** Sends one line to an echo server; resolves with what came back, or `timeout`/the error. */
function echo(host: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => socket.write('ping\n'));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString().trim());
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

/** The kernel's view of a process: R, S, T (stopped)... or undefined once it is gone. */
function kernelState(pid: number): string | undefined {
  try {
    return /\) (\S) /.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** A stop or continue signal takes effect a moment after kill() returns (on another CPU). */
async function waitForKernelState(pid: number, stopped: boolean): Promise<void> {
  await expect
    .poll(() => kernelState(pid) === 'T', {
      message: stopped ? 'the kernel to stop it' : 'the kernel to run it',
    })
    .toBe(stopped);
}

describe('kill and pause of supervised processes', namespaces, () => {
  let network: LocalNetwork;
  let processes: ProcessSupervisor;
  let injector: FaultInjector;
  const address = (host: string): string => network.host(host).address;

  const startEchoServer = async (host: string): Promise<void> => {
    const { command, args, cwd } = tsFixture('echo-server.ts', ['0.0.0.0', String(port)]);
    await processes.start(host, { command, args, cwd, netns: network.host(host).netns });
    await waitForEcho(host);
  };
  // vi.waitFor, not expect.poll: this also runs in beforeAll, outside any test.
  const waitForEcho = (host: string) =>
    vi.waitFor(
      async () =>
        expect(await echo(address(host), 20_000), `the echo server on ${host}`).toBe('ping'),
      { timeout: 30_000 },
    );

  beforeAll(async () => {
    network = await LocalNetwork.create({ hosts: ['n1', 'n2'], hostAccess: true });
    processes = new ProcessSupervisor();
    injector = createNetfilterInjector({ targets: network.targets(), processes });
    await Promise.all([startEchoServer('n1'), startEchoServer('n2')]);
  });

  afterEach(async () => {
    await injector.revertAll();
  });

  afterAll(async () => {
    await injector?.close();
    await processes?.close();
    await network?.destroy();
  });

  it('runs each process inside its host namespace', () => {
    const { pid, state, incarnation } = processes.status('n1');
    expect(state).toBe('running');
    expect(incarnation).toBe(1);
    expect(
      execFileSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).trim(),
    ).toBe(network.host('n1').netns);
  });

  it('kill -9 stops the server; revert restarts it with the same command line', async () => {
    const before = processes.status('n1');
    const handle = await injector.apply({ kind: 'kill', targets: ['n1'], durationMs: 60_000 });
    const killed = processes.status('n1');
    expect(killed.state).toBe('exited');
    expect(killed.lastExit).toEqual({ code: null, signal: 'SIGKILL', expected: true });
    expect(kernelState(before.pid!)).toBeUndefined();
    // The host is up but nothing listens: refused at once.
    expect(await echo(address('n1'), 20_000)).toBe('ECONNREFUSED');
    expect(await echo(address('n2'), 20_000)).toBe('ping');

    await handle.revert();
    const restarted = processes.status('n1');
    expect(restarted.state).toBe('running');
    expect(restarted.incarnation).toBe(before.incarnation + 1);
    expect(restarted.pid).not.toBe(before.pid);
    await waitForEcho('n1');
  });

  it('restarts after restartAfterMs while the fault is still in force', async () => {
    const before = processes.status('n2').incarnation;
    const handle = await injector.apply({
      kind: 'kill',
      targets: ['n2'],
      restartAfterMs: 300,
      durationMs: 60_000,
    });
    await expect
      .poll(() => processes.status('n2').incarnation, { message: 'the restart' })
      .toBe(before + 1);
    await waitForEcho('n2');
    expect(handle.active).toBe(true);
    await handle.revert();
    expect(processes.status('n2').incarnation).toBe(before + 1); // no second restart
  });

  it('pause freezes the server (requests hang) and resume lets it answer', async () => {
    const { pid } = processes.status('n1');
    const handle = await injector.apply({ kind: 'pause', targets: ['n1'], durationMs: 60_000 });
    expect(processes.status('n1').state).toBe('paused');
    await waitForKernelState(pid!, true);
    // The kernel still completes the handshake (backlog), but nobody reads: no echo comes back.
    expect(await echo(address('n1'), 1_000)).toBe('timeout');
    const waiting = echo(address('n1'), 30_000);

    await handle.revert();
    expect(processes.status('n1').state).toBe('running');
    await waitForKernelState(pid!, false);
    // The request sent while it was frozen is answered once it runs again.
    expect(await waiting).toBe('ping');
  });

  it('a pause expires on its own', async () => {
    const handle = await injector.apply({ kind: 'pause', targets: ['n2'], durationMs: 1_000 });
    expect(processes.status('n2').state).toBe('paused');
    await expect.poll(() => handle.active, { message: 'the pause to expire' }).toBe(false);
    expect(processes.status('n2').state).toBe('running');
    await waitForEcho('n2');
  });

  it('refuses to pause a paused process or kill a dead one', async () => {
    await injector.apply({ kind: 'pause', targets: ['n1'], durationMs: 60_000 });
    await expect(
      injector.apply({ kind: 'pause', targets: ['n1'], durationMs: 60_000 }),
    ).rejects.toThrow(/n1 is paused/);
    await injector.revertAll();
    await injector.apply({ kind: 'kill', targets: ['n2'], durationMs: 60_000 });
    await expect(
      injector.apply({ kind: 'kill', targets: ['n2'], durationMs: 60_000 }),
    ).rejects.toThrow(/n2 is not running/);
    await injector.revertAll();
    await waitForEcho('n2');
  });
});

describe('a run that dies with faults applied', namespaces, () => {
  let network: LocalNetwork;

  beforeAll(async () => {
    network = await LocalNetwork.create({ hosts: ['n1', 'n2'] });
  });
  afterAll(async () => {
    await network?.destroy();
  });

  it.each(['throw', 'signal'])('reverts its faults and ends its processes (%s)', async (mode) => {
    const { command, args, cwd } = tsFixture('crashing-run.ts', [
      mode,
      JSON.stringify(network.targets()),
    ]);
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const ready = await new Promise<{ pid: number }>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) =>
        resolve(JSON.parse(line) as { pid: number }),
      );
      void exited.then(() => reject(new Error(`the run ended before applying faults: ${stderr}`)));
    });
    if (mode === 'signal') {
      await waitForKernelState(ready.pid, true);
      expect(await network.exec('n2', 'nft', ['list', 'tables'])).toContain('table inet');
      child.kill('SIGTERM');
    }
    const exit = await exited;
    if (mode === 'throw') expect(stderr).toContain('the run failed with faults applied');
    else expect(exit.signal).toBe('SIGTERM');
    // The paused process was resumed and killed, not left stopped; no rule is left behind.
    await expect
      .poll(() => kernelState(ready.pid), { message: 'the paused process to be gone' })
      .toBeUndefined();
    expect(await network.exec('n1', 'nft', ['list', 'tables'])).toBe('');
    expect(await network.exec('n2', 'nft', ['list', 'tables'])).toBe('');
  });
});
