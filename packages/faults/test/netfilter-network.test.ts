import { execFileSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requires } from '@catmesh/testkit';
import {
  cleanupStale,
  createNetfilterInjector,
  FaultValidationError,
  LocalNetwork,
  netemSupport,
  networkNamespaceProblem,
  UnsupportedFaultError,
} from '../src/index.js';
import type { AppliedFault, FaultEvent, FaultInjector } from '../src/index.js';
import { startProbe } from './fixtures/probe-client.js';
import type { Probe } from './fixtures/probe-client.js';

const namespaces = requires(networkNamespaceProblem());

const tcpPort = 7000;
const udpPort = 9000;
// A connection that should work gets a long safety timeout; one that should be cut is expected
// to time out, so a short wait is the assertion (a slow machine cannot make a dropped SYN arrive).
const reachableWithinMs = 20_000;
const cutAfterMs = 1_000;

function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8' });
}

/** Every name in the kernel that still carries one of these prefixes. */
function leftovers(prefixes: readonly string[]): string[] {
  const names = [
    ...sh('ip', ['netns', 'list'])
      .split('\n')
      .map((line) => line.split(' ')[0] ?? ''),
    ...(JSON.parse(sh('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname),
    ...sh('nft', ['list', 'tables']).split('\n'),
  ];
  return names.filter((name) =>
    prefixes.some((p) => name.includes(p) || name.includes(p.replaceAll('-', '_'))),
  );
}

describe('netfilter faults on namespaces joined by a bridge', namespaces, () => {
  let network: LocalNetwork;
  let injector: FaultInjector;
  const probes = new Map<string, Probe>();
  const events: FaultEvent[] = [];
  const probe = (host: string): Probe => probes.get(host)!;
  const address = (host: string): string => network.host(host).address;

  async function reaches(from: string, to: string, expected: boolean): Promise<boolean> {
    const timeout = expected ? reachableWithinMs : cutAfterMs;
    return probe(from).tcpConnects(address(to), tcpPort, timeout);
  }

  async function expectReachability(expected: Record<string, boolean>): Promise<void> {
    const pairs = Object.keys(expected);
    const actual = await Promise.all(
      pairs.map((pair) => {
        const [from = '', to = ''] = pair.split('>');
        return reaches(from, to, expected[pair]!);
      }),
    );
    expect(Object.fromEntries(pairs.map((pair, i) => [pair, actual[i]]))).toEqual(expected);
  }

  const everyone = (reachable: boolean): Record<string, boolean> => ({
    'a>b': reachable,
    'a>c': reachable,
    'b>a': reachable,
    'b>c': reachable,
    'c>a': reachable,
    'c>b': reachable,
  });

  async function udpDelta(to: string, send: () => Promise<void>, settled: () => Promise<boolean>) {
    const before = await probe(to).udpCount(udpPort);
    await send();
    await expect.poll(settled, { message: 'the datagrams to be received or dropped' }).toBe(true);
    return (await probe(to).udpCount(udpPort)) - before;
  }

  beforeAll(async () => {
    network = await LocalNetwork.create({ hosts: ['a', 'b', 'c'] });
    injector = createNetfilterInjector({
      targets: network.targets(),
      onEvent: (event) => events.push(event),
    });
    for (const host of ['a', 'b', 'c']) {
      const p = await startProbe(network, host);
      probes.set(host, p);
      await p.tcpListen(tcpPort);
      await p.udpListen(udpPort);
    }
  });

  afterEach(async () => {
    await injector.revertAll();
  });

  afterAll(async () => {
    for (const p of probes.values()) p.close();
    await injector?.close();
    await network?.destroy();
  });

  it('hosts reach each other over the bridge', async () => {
    expect(network.hosts.map((h) => h.address)).toEqual(['10.77.0.1', '10.77.0.2', '10.77.0.3']);
    await expectReachability(everyone(true));
  });

  it('partitions {a} | {b, c} both ways, and heals on revert', async () => {
    const handle = await injector.apply({
      kind: 'partition',
      groups: [['a'], ['b', 'c']],
      direction: 'both',
      durationMs: 60_000,
    });
    expect(handle.active).toBe(true);
    await expectReachability({
      'a>b': false,
      'a>c': false,
      'b>a': false,
      'c>a': false,
      'b>c': true,
      'c>b': true,
    });
    expect(await handle.droppedPackets()).toBeGreaterThan(0);

    await handle.revert();
    await handle.revert(); // idempotent
    expect(handle.active).toBe(false);
    expect(injector.active()).toEqual([]);
    await expectReachability(everyone(true));
    expect(events.filter((e) => e.id === handle.id).map((e) => e.type)).toEqual([
      'applied',
      'reverted',
    ]);
  });

  it('cuts one direction only: a -> b datagrams are dropped, b -> a ones arrive', async () => {
    const handle = await injector.apply({
      kind: 'partition',
      links: [{ from: ['a'], to: ['b'] }],
      direction: 'one-way',
      durationMs: 60_000,
    });
    const intoB = await udpDelta(
      'b',
      () => probe('a').udpSend(address('b'), udpPort, 20),
      async () => ((await handle.droppedPackets()) ?? 0) >= 20,
    );
    expect(intoB).toBe(0);
    const aBefore = await probe('a').udpCount(udpPort);
    const intoA = await udpDelta(
      'a',
      () => probe('b').udpSend(address('a'), udpPort, 20),
      async () => (await probe('a').udpCount(udpPort)) - aBefore >= 20,
    );
    expect(intoA).toBe(20);
    expect(await handle.droppedPackets()).toBe(20);
    // TCP needs both directions, so it fails either way; c is untouched.
    await expectReachability({ 'a>b': false, 'b>a': false, 'a>c': true, 'c>b': true });
  });

  it('loss 1.0 drops everything to and from the target', async () => {
    const handle = await injector.apply({
      kind: 'loss',
      targets: ['b'],
      probability: 1,
      durationMs: 60_000,
    });
    const received = await udpDelta(
      'b',
      () => probe('a').udpSend(address('b'), udpPort, 50),
      async () => ((await handle.droppedPackets()) ?? 0) >= 50,
    );
    expect(received).toBe(0);
    await expectReachability({ 'a>b': false, 'c>b': false, 'a>c': true });
  });

  it('loss 0.5 drops roughly half of 400 datagrams', async () => {
    const handle = await injector.apply({
      kind: 'loss',
      targets: ['b'],
      probability: 0.5,
      durationMs: 60_000,
    });
    const before = await probe('b').udpCount(udpPort);
    let sent = 0;
    // In batches, waiting until each is fully accounted for (received + dropped), so the receiver
    // never falls far enough behind for its socket buffer to drop datagrams uncounted.
    for (let batch = 0; batch < 8; batch++) {
      await probe('a').udpSend(address('b'), udpPort, 50);
      sent += 50;
      await expect
        .poll(
          async () => {
            const received = (await probe('b').udpCount(udpPort)) - before;
            return received + ((await handle.droppedPackets()) ?? 0);
          },
          { message: 'every datagram received or dropped' },
        )
        .toBeGreaterThanOrEqual(sent);
    }
    const received = (await probe('b').udpCount(udpPort)) - before;
    const dropped = (await handle.droppedPackets()) ?? 0;
    expect(received + dropped).toBe(400);
    expect(dropped / 400).toBeGreaterThan(0.25);
    expect(dropped / 400).toBeLessThan(0.75);
  });

  it('reverts a fault on its own when its duration ends', async () => {
    const handle = await injector.apply({
      kind: 'partition',
      groups: [['a'], ['b']],
      direction: 'both',
      durationMs: 1_500,
    });
    expect(handle.expiresAt - handle.appliedAt).toBe(1_500);
    await expect.poll(() => handle.active, { message: 'the partition to expire' }).toBe(false);
    expect(events.find((e) => e.id === handle.id && e.type === 'reverted')).toMatchObject({
      reason: 'expired',
    });
    expect(await network.exec('b', 'nft', ['list', 'tables'])).toBe('');
    await expectReachability({ 'a>b': true, 'b>a': true });
  });

  it('rejects faults it cannot apply, leaving nothing applied', async () => {
    await expect(
      injector.apply({ kind: 'loss', targets: ['z'], probability: 0.5, durationMs: 1_000 }),
    ).rejects.toThrow(FaultValidationError);
    await expect(
      injector.apply({ kind: 'kill', targets: ['a'], durationMs: 1_000 }),
    ).rejects.toThrow(UnsupportedFaultError);
    expect(injector.active()).toEqual([]);
    expect(await network.exec('a', 'nft', ['list', 'tables'])).toBe('');
  });

  it('latency where the kernel has no netem: a clear UnsupportedFaultError', async (ctx) => {
    const support = await netemSupport();
    if (support.supported) ctx.skip('netem is supported here; the latency test below covers it');
    const applying = injector.apply({
      kind: 'latency',
      targets: ['b'],
      delayMs: 200,
      durationMs: 60_000,
    });
    await expect(applying).rejects.toThrow(UnsupportedFaultError);
    await expect(applying).rejects.toThrow(/netem/);
    expect(injector.active()).toEqual([]);
  });

  it('latency delays the target (tc netem)', async (ctx) => {
    const support = await netemSupport();
    if (!support.supported) {
      ctx.skip(support.reason);
    }
    const handle: AppliedFault = await injector.apply({
      kind: 'latency',
      targets: ['b'],
      delayMs: 300,
      jitterMs: 0,
      durationMs: 60_000,
    });
    const started = Date.now();
    expect(await reaches('a', 'b', true)).toBe(true);
    // A lower bound only: the SYN-ACK leaves b at least 300ms late.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await expect(
      injector.apply({ kind: 'latency', targets: ['b'], delayMs: 5, durationMs: 1_000 }),
    ).rejects.toThrow(/already has a latency fault/);
    await handle.revert();
    expect(await network.exec('b', 'tc', ['qdisc', 'show', 'dev', 'eth0'])).not.toContain('netem');
  });
});

describe('local network lifecycle', namespaces, () => {
  it('gives this process access to the hosts and leaves nothing behind on teardown', async () => {
    const network = await LocalNetwork.create({ hosts: ['n1', 'n2'], hostAccess: true });
    const injector = createNetfilterInjector({ targets: network.targets() });
    const prefixes = [network.prefix];
    try {
      expect(network.gatewayAddress).toMatch(/^10\.77\.\d+\.254$/);
      const probe = await startProbe(network, 'n2');
      await probe.tcpListen(tcpPort);
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: network.host('n2').address, port: tcpPort }, () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
      const handle = await injector.apply({
        kind: 'loss',
        targets: ['n1', 'n2'],
        probability: 0.3,
        durationMs: 60_000,
      });
      expect(handle.active).toBe(true);
      expect(leftovers(prefixes)).toContain(network.prefix); // the host-access link
      probe.close();
    } finally {
      await injector.close();
      await network.destroy();
      await network.destroy(); // idempotent
    }
    expect(leftovers(prefixes)).toEqual([]);
    expect(sh('ip', ['netns', 'list'])).not.toContain(network.prefix);
  });

  it('gives the hosts a service address of the root namespace that is not their gateway', async () => {
    const network = await LocalNetwork.create({
      hosts: ['n1'],
      hostAccess: true,
      serviceAddress: true,
    });
    const server = createServer((socket) => socket.end(socket.remoteAddress ?? ''));
    try {
      expect(network.serviceAddress).toBe(network.gatewayAddress!.replace(/254$/, '253'));
      await new Promise<void>((resolve) => server.listen(0, network.serviceAddress, resolve));
      const { port } = server.address() as AddressInfo;
      const client = `require('net').connect(${port}, '${network.serviceAddress}').pipe(process.stdout)`;
      // Reached from the host's namespace, which it sees as the host's own address calling.
      expect(await network.exec('n1', process.execPath, ['-e', client])).toBe(
        network.host('n1').address,
      );
    } finally {
      server.close();
      await network.destroy();
    }
  });

  it('cleanupStale removes what a dead run left and spares live runs', async () => {
    // A run that died without cleaning up: its owner pid no longer exists.
    const deadPid = Number(sh('sh', ['-c', 'echo $$']).trim());
    const stale = `cmfs-${deadPid.toString(36)}-zzz`;
    const staleTable = `${stale.replaceAll('-', '_')}_f1`;
    sh('ip', ['netns', 'add', `${stale}-n1`]);
    sh('ip', [
      'link',
      'add',
      stale,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      `${stale}-n1`,
    ]);
    sh('nft', ['add', 'table', 'inet', staleTable]);
    const live = await LocalNetwork.create({ hosts: ['n1'], family: 'cmfs' });
    try {
      const report = await cleanupStale('cmfs');
      expect(report.namespaces).toEqual([`${stale}-n1`]);
      expect(report.tables).toEqual([{ netns: undefined, table: staleTable }]);
      expect(leftovers([stale])).toEqual([]);
      // The live run's namespaces are still there.
      expect(sh('ip', ['netns', 'list'])).toContain(live.host('n1').netns);
      expect(await live.exec('n1', 'ip', ['-br', 'addr', 'show', 'eth0'])).toContain('10.77.0.1');
    } finally {
      await live.destroy();
    }
  });
});
