import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalNetwork, ProcessSupervisor, type ProcessExit } from '@catmesh/faults';
import { rollBackUnsynced } from '@catmesh/raft/storage';
import type { MemberApi, TargetDriver } from './target.js';

// A cluster of the target: one member process per host, each inside its own network namespace on
// a bridge that this process reaches too (LocalNetwork with hostAccess), supervised so that kill
// and pause faults act on the real processes.

export interface ClusterOptions {
  readonly driver: TargetDriver;
  readonly nodes: number;
  /** A member exited without the supervisor causing it. */
  readonly onUnexpectedExit?: (member: string, exit: ProcessExit) => void;
}

export class Cluster {
  private constructor(
    readonly driver: TargetDriver,
    readonly network: LocalNetwork,
    readonly processes: ProcessSupervisor,
    private readonly apis: ReadonlyMap<string, MemberApi>,
    private readonly dataDir: string,
  ) {}

  /** Builds the network and starts every member; on failure removes whatever it made. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const names = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    const dataDir = await mkdtemp(join(tmpdir(), `catmesh-jepsen-${options.driver.name}-`));
    let network: LocalNetwork | undefined;
    const processes = new ProcessSupervisor({
      onExit: (name, exit) => {
        if (!exit.expected) options.onUnexpectedExit?.(name, exit);
      },
    });
    try {
      network = await LocalNetwork.create({ hosts: names, hostAccess: true });
      const hosts = network.hosts;
      for (const host of hosts) {
        await processes.start(host.name, options.driver.processSpec(host, hosts, dataDir));
      }
      const apis = new Map(hosts.map((h) => [h.name, options.driver.connect(h, hosts)]));
      return new Cluster(options.driver, network, processes, apis, dataDir);
    } catch (error) {
      await processes.close();
      await network?.destroy();
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  get members(): readonly string[] {
    return this.network.hosts.map((h) => h.name);
  }

  member(name: string): MemberApi {
    const api = this.apis.get(name);
    if (!api) throw new Error(`no member ${name}`);
    return api;
  }

  /**
   * The leader most members name (each asked with a short deadline), or undefined when none
   * answers with one. During a partition an isolated old leader may still believe it leads; the
   * majority's view wins.
   */
  async leader(timeoutMs = 500): Promise<string | undefined> {
    const views = await Promise.all(
      this.members.map((m) =>
        this.member(m)
          .leader(timeoutMs)
          .catch(() => undefined),
      ),
    );
    const votes = new Map<string, number>();
    for (const view of views) if (view !== undefined) votes.set(view, (votes.get(view) ?? 0) + 1);
    return [...votes].sort((a, b) => b[1] - a[1])[0]?.[0];
  }

  /** Waits until every member answers and names the same leader; returns it. */
  async waitForLeader(timeoutMs: number, signal?: AbortSignal): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      signal?.throwIfAborted();
      const views = await Promise.all(
        this.members.map((m) =>
          this.member(m)
            .leader(1_000)
            .then(
              (leader) => leader ?? 'none',
              (error: unknown) => `error (${(error as Error).message})`,
            ),
        ),
      );
      const agreed = new Set(views);
      const [leader] = agreed;
      if (agreed.size === 1 && leader !== undefined && this.members.includes(leader)) return leader;
      last = this.members.map((m, i) => `${m}: ${views[i]}`).join(', ');
      if (Date.now() > deadline) {
        throw new Error(`the ${this.driver.name} members agreed on no leader in time: ${last}`);
      }
      await sleep(200);
    }
  }

  /** A digest of the member's whole key space (sorted key=value), read locally. */
  async stateHash(member: string, timeoutMs = 2_000): Promise<string> {
    const state = await this.member(member).localState(timeoutMs);
    const hash = createHash('sha256');
    for (const key of [...state.keys()].sort()) {
      hash.update(`${JSON.stringify(key)}=${JSON.stringify(state.get(key))}\n`);
    }
    return `${hash.digest('hex').slice(0, 16)} (${state.size} keys)`;
  }

  /**
   * Every member loses power at once, then starts again: kill -9, and where the target keeps a
   * power-loss journal, everything not fsynced is rolled back first (without one, as for etcd,
   * only the kill: the page cache survives it). Says which it was.
   */
  async powerLossAndRestartAll(): Promise<'power loss' | 'kill -9'> {
    await Promise.all(this.members.map((m) => this.processes.kill(m, 'SIGKILL')));
    const lose = this.loseUnsynced();
    if (lose) for (const m of this.members) await lose(m);
    for (const m of this.members) await this.processes.restart(m);
    return lose ? 'power loss' : 'kill -9';
  }

  /**
   * What a power loss does to `member` once it is dead: its writes not fsynced are rolled back.
   * Undefined for a target without power-loss journals (etcd).
   */
  loseUnsynced(): ((member: string) => Promise<void>) | undefined {
    const journal = this.driver.powerLossJournal;
    if (!journal) return undefined;
    return async (member) => {
      const host = this.network.hosts.find((h) => h.name === member);
      if (!host) throw new Error(`no member ${member}`);
      await rollBackUnsynced(journal(host, this.dataDir));
    };
  }

  /** The tail of each member's output, for the report. */
  logs(): Map<string, string> {
    return new Map(this.members.map((m) => [m, this.processes.output(m)]));
  }

  /** Stops everything and removes the namespaces and the data. */
  async destroy(): Promise<void> {
    for (const api of this.apis.values()) api.close();
    await this.processes.close();
    await this.network.destroy();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
