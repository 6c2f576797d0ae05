import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cleanupAtExit } from '../exit-guard.js';
import type { NetworkTarget } from './network-target.js';
import { ignoreGone, quietIpv6, removeNamespace, removeNamespaceSync } from './namespaces.js';
import { runCommand, runCommandSync } from './run-command.js';
import { defaultFamily, newRunPrefix } from './run-prefix.js';

// A small LAN on one machine: each host is a network namespace with one veth (`eth0`) plugged
// into a bridge. The bridge lives in a namespace of its own, so nothing of the run is visible in
// the root namespace (apart from the optional host-access link), and deleting the namespaces
// removes the bridge, every veth and every rule in them at once.

export interface LocalNetworkOptions {
  /** Host names, e.g. `['n1', 'n2', 'n3']`: lowercase letters, digits and dashes. */
  readonly hosts: readonly string[];
  /** First part of every name the run creates (1-4 lowercase letters or digits); `cmf`. */
  readonly family?: string;
  /**
   * The hosts' /24 (`'10.77.0.0/24'`); host i gets `.i+1`. Default: 10.77.0.0/24, or with
   * `hostAccess` a free 10.77.x.0/24, since then the root namespace routes to it.
   */
  readonly subnet?: string;
  /**
   * Also plug the current (root) namespace into the bridge at `.254`, so this process (a test
   * harness, its clients) reaches the hosts directly. The gateway is not a fault target:
   * partitions cut only between hosts, though loss on a host drops its gateway traffic too.
   */
  readonly hostAccess?: boolean;
  /**
   * With `hostAccess`: `.253`, a second address of the root namespace on the same link, for a
   * server that stands for another machine of the LAN (the chart rehearsal's API server on its
   * control-plane node): the hosts reach it, but it is not their gateway.
   */
  readonly serviceAddress?: boolean;
}

export interface LocalHost extends NetworkTarget {
  readonly netns: string;
  readonly address: string;
}

const hostNamePattern = /^[a-z][a-z0-9-]{0,30}$/;
const hostDevice = 'eth0';

export class LocalNetwork {
  /** The gateway's address in the hosts' subnet when `hostAccess` is on. */
  readonly gatewayAddress: string | undefined;
  /** The root namespace's second address when `serviceAddress` is on. */
  readonly serviceAddress: string | undefined;
  private destroyed = false;
  private readonly unregister: () => void;

  private constructor(
    /** The run prefix every name of this network starts with, e.g. `cmf-2k1x-p7q`. */
    readonly prefix: string,
    readonly hosts: readonly LocalHost[],
    private readonly hostAccess: boolean,
    subnetBase: string,
    serviceAddress: boolean,
  ) {
    this.gatewayAddress = hostAccess ? `${subnetBase}.254` : undefined;
    this.serviceAddress = hostAccess && serviceAddress ? `${subnetBase}.253` : undefined;
    this.unregister = cleanupAtExit(() => this.destroySync());
  }

  /** Builds the network; on failure removes whatever part of it was made. */
  static async create(options: LocalNetworkOptions): Promise<LocalNetwork> {
    const names = options.hosts;
    if (names.length === 0 || names.length > 253) throw new Error('hosts: give 1 to 253 names');
    for (const name of names) {
      if (!hostNamePattern.test(name)) {
        throw new Error(`hosts: ${JSON.stringify(name)} must match ${String(hostNamePattern)}`);
      }
    }
    if (new Set(names).size !== names.length) throw new Error('hosts: names must be unique');
    const prefix = newRunPrefix(options.family ?? defaultFamily);
    const hostAccess = options.hostAccess ?? false;
    const base = options.subnet
      ? subnetBase(options.subnet)
      : hostAccess
        ? await freeSubnetBase()
        : '10.77.0';
    const hosts = names.map((name, i): LocalHost => ({
      name,
      netns: `${prefix}-${name}`,
      device: hostDevice,
      address: `${base}.${i + 1}`,
      addresses: [`${base}.${i + 1}`],
    }));
    const serviceAddress = options.serviceAddress ?? false;
    if (serviceAddress && names.length > 252) {
      throw new Error('hosts: give 1 to 252 names when .253 is the service address');
    }
    const network = new LocalNetwork(prefix, hosts, hostAccess, base, serviceAddress);
    try {
      await network.build();
    } catch (error) {
      await network.destroy();
      throw error;
    }
    return network;
  }

  /** The namespace holding the bridge. */
  get bridgeNetns(): string {
    return this.prefix;
  }

  host(name: string): LocalHost {
    const host = this.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no host ${JSON.stringify(name)} in network ${this.prefix}`);
    return host;
  }

  /** The hosts as targets for the netfilter injector. */
  targets(): readonly NetworkTarget[] {
    return this.hosts;
  }

  /** Starts `command` inside a host's namespace (`ip netns exec`, which execs: same pid). */
  spawn(
    host: string,
    command: string,
    args: readonly string[] = [],
    options: SpawnOptions = {},
  ): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.host(host).netns, command, ...args], options);
  }

  /** Runs a command inside a host's namespace and resolves with its stdout. */
  exec(host: string, command: string, args: readonly string[] = []): Promise<string> {
    return runCommand(command, args, { netns: this.host(host).netns });
  }

  /**
   * Kills every process still inside the hosts' namespaces and deletes the namespaces: the veths
   * and the bridge go with them. Idempotent.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    if (this.hostAccess) await runCommand('ip', ['link', 'del', this.prefix]).catch(ignoreGone);
    for (const netns of this.namespaces()) await removeNamespace(netns);
    this.destroyed = true;
    this.unregister();
  }

  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.hostAccess) {
      try {
        runCommandSync('ip', ['link', 'del', this.prefix]);
      } catch (error) {
        ignoreGone(error);
      }
    }
    for (const netns of this.namespaces()) removeNamespaceSync(netns);
  }

  private namespaces(): string[] {
    return [...this.hosts.map((h) => h.netns), this.bridgeNetns];
  }

  private async build(): Promise<void> {
    const bridgeNs = this.bridgeNetns;
    await runCommand('ip', ['netns', 'add', bridgeNs]);
    await quietIpv6(bridgeNs);
    await runCommand('ip', ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await runCommand('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    for (const [i, host] of this.hosts.entries()) {
      await runCommand('ip', ['netns', 'add', host.netns]);
      await quietIpv6(host.netns);
      // Both ends are created in place (bridge side in the bridge namespace, `eth0` in the host's):
      // no veth ever sits in the root namespace, where a crash could strand it.
      const port = `p${i}`;
      await runCommand('ip', [
        '-n',
        bridgeNs,
        'link',
        'add',
        port,
        'type',
        'veth',
        'peer',
        'name',
        hostDevice,
        'netns',
        host.netns,
      ]);
      await runCommand('ip', ['-n', bridgeNs, 'link', 'set', port, 'master', 'br0', 'up']);
      await runCommand('ip', [
        '-n',
        host.netns,
        'addr',
        'add',
        `${host.address}/24`,
        'dev',
        hostDevice,
      ]);
      await runCommand('ip', ['-n', host.netns, 'link', 'set', hostDevice, 'up']);
      await runCommand('ip', ['-n', host.netns, 'link', 'set', 'lo', 'up']);
    }
    if (this.gatewayAddress !== undefined) {
      const link = this.prefix;
      await runCommand('ip', [
        'link',
        'add',
        link,
        'type',
        'veth',
        'peer',
        'name',
        'gw',
        'netns',
        bridgeNs,
      ]);
      try {
        writeFileSync(`/proc/sys/net/ipv6/conf/${link}/disable_ipv6`, '1');
      } catch {
        // A kernel without IPv6 has nothing to quieten.
      }
      await runCommand('ip', ['-n', bridgeNs, 'link', 'set', 'gw', 'master', 'br0', 'up']);
      await runCommand('ip', ['addr', 'add', `${this.gatewayAddress}/24`, 'dev', link]);
      if (this.serviceAddress !== undefined) {
        await runCommand('ip', ['addr', 'add', `${this.serviceAddress}/32`, 'dev', link]);
      }
      await runCommand('ip', ['link', 'set', link, 'up']);
      await checkSubnetUnshared(this.gatewayAddress, link);
    }
  }
}

function subnetBase(subnet: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet);
  if (!match || match.slice(1).some((part) => Number(part) > 255)) {
    throw new Error(`subnet: ${JSON.stringify(subnet)} must be an IPv4 /24 like 10.77.0.0/24`);
  }
  return `${match[1]}.${match[2]}.${match[3]}`;
}

// Routes of the root namespace as `ip -j route` prints them.
async function rootRoutes(): Promise<{ dst: string; dev?: string }[]> {
  return JSON.parse(await runCommand('ip', ['-j', '-4', 'route', 'show'])) as {
    dst: string;
    dev?: string;
  }[];
}

function ipv4Number(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

// Whether a route destination ("default", "10.0.0.0/8", "10.77.3.0/24", "10.1.2.3") overlaps
// the /24 starting at `base`.
function overlaps(dst: string, base: string): boolean {
  if (dst === 'default') return false;
  const [address = '', bits = '32'] = dst.split('/');
  const length = Math.min(Number(bits), 24);
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return (ipv4Number(address) & mask) >>> 0 === (ipv4Number(`${base}.0`) & mask) >>> 0;
}

async function freeSubnetBase(): Promise<string> {
  const routes = await rootRoutes();
  const start = process.pid % 256;
  for (let i = 0; i < 256; i++) {
    const base = `10.77.${(start + i * 37) % 256}`;
    if (!routes.some((route) => overlaps(route.dst, base))) return base;
  }
  throw new Error('no free 10.77.x.0/24 left in the root namespace; run cleanupStale()');
}

// Two runs can pick the same free subnet at the same moment; the loser sees a second route to it
// and gives up rather than route its packets into the other run's bridge.
async function checkSubnetUnshared(gateway: string, link: string): Promise<void> {
  const base = gateway.split('.').slice(0, 3).join('.');
  const clashing = (await rootRoutes()).filter(
    (route) => overlaps(route.dst, base) && route.dev !== link,
  );
  if (clashing.length > 0) {
    throw new Error(
      `subnet ${base}.0/24 is also routed via ${clashing.map((r) => r.dev ?? r.dst).join(', ')}`,
    );
  }
}
