// A real cat-feeder cluster for tests: N replica processes (the built dist/main.js) on loopback,
// each with its own data directory, that a test can kill -9, restart and wipe.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { freePort } from '@catmesh/testkit';
import { vi } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface ReplicaProcess {
  readonly id: number;
  readonly address: string;
  /** Where peers reach it (CATMESH_PEERS): its own port with `ownRaftPort`, else `address`. */
  readonly peerAddress: string;
  readonly metricsPort: number;
  /** The fault admin API (catmesh.faults.v1.FaultAdminService). */
  readonly adminPort: number;
  readonly dataDir: string;
  readonly client: catfeederV1.CatFeederServiceClient;
  readonly admin: catfeederV1.CatFeederAdminServiceClient;
  process: ChildProcess | undefined;
  /** The last lines the process wrote, for failure messages. */
  output: string[];
}

export interface ClusterOptions {
  readonly size?: number;
  readonly snapshotEntries?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Raft on a port of its own (CATMESH_RAFT_PORT), apart from the clients' gRPC port. */
  readonly ownRaftPort?: boolean;
}

export class Cluster {
  private constructor(
    readonly replicas: ReplicaProcess[],
    private readonly root: string,
    private readonly env: Record<string, string>,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`make build\` first`);
    const size = options.size ?? 3;
    const root = await mkdtemp(join(tmpdir(), 'catmesh-cf-'));
    const replicas: ReplicaProcess[] = [];
    for (let id = 1; id <= size; id++) {
      const address = `127.0.0.1:${await freePort()}`;
      replicas.push({
        id,
        address,
        peerAddress: options.ownRaftPort ? `127.0.0.1:${await freePort()}` : address,
        metricsPort: await freePort(),
        adminPort: await freePort(),
        dataDir: join(root, `replica-${id}`),
        client: new catfeederV1.CatFeederServiceClient(address, credentials.createInsecure()),
        admin: new catfeederV1.CatFeederAdminServiceClient(address, credentials.createInsecure()),
        process: undefined,
        output: [],
      });
    }
    const env = {
      CATMESH_PEERS: replicas.map((r) => `${r.id}=${r.peerAddress}`).join(','),
      CATMESH_SNAPSHOT_ENTRIES: String(options.snapshotEntries ?? 10_000),
      CATMESH_GRPC_HOST: '127.0.0.1',
      CATMESH_LOG_LEVEL: 'info',
      OTEL_SDK_DISABLED: 'true',
      ...options.env,
    };
    const cluster = new Cluster(replicas, root, env);
    for (const r of replicas) cluster.launch(r);
    return cluster;
  }

  replica(id: number): ReplicaProcess {
    const r = this.replicas.find((x) => x.id === id);
    if (!r) throw new Error(`no replica ${id}`);
    return r;
  }

  /** Starts a replica's process again (same id, address and data directory); `env` overrides. */
  launch(r: ReplicaProcess, env: Readonly<Record<string, string>> = {}): void {
    // A smaller young generation keeps an idle replica's memory low (V8's default reserves 32 MB).
    const child = spawn(process.execPath, ['--max-semi-space-size=8', MAIN], {
      env: {
        ...process.env,
        ...this.env,
        CATMESH_NODE_ID: String(r.id),
        CATMESH_GRPC_PORT: r.address.split(':')[1],
        CATMESH_METRICS_PORT: String(r.metricsPort),
        CATMESH_ADMIN_PORT: String(r.adminPort),
        ...(r.peerAddress !== r.address && { CATMESH_RAFT_PORT: r.peerAddress.split(':')[1] }),
        CATMESH_DATA_DIR: r.dataDir,
        CATMESH_INSTANCE_ID: `cat-feeder-${r.id}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      r.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (r.output.length > 200) r.output.splice(0, r.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    r.process = child;
  }

  /** kill -9: no shutdown, nothing flushed beyond what was fsynced. */
  async kill(r: ReplicaProcess): Promise<void> {
    const child = r.process;
    r.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(r: ReplicaProcess): Promise<number | null> {
    const child = r.process;
    r.process = undefined;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    return exited;
  }

  async wipe(r: ReplicaProcess): Promise<void> {
    await rm(r.dataDir, { recursive: true, force: true });
  }

  async status(r: ReplicaProcess): Promise<catfeederV1.StatusResponse> {
    return unary((cb) => r.client.status({}, new Metadata(), { deadline: Date.now() + 2000 }, cb));
  }

  /** Waits until every running replica agrees on one leader; returns it. */
  async waitForLeader(timeoutMs = 30_000): Promise<ReplicaProcess> {
    return vi.waitFor(
      async () => {
        const running = this.replicas.filter((r) => r.process);
        const statuses = await Promise.all(
          running.map((r) =>
            this.status(r).catch((error: unknown) => {
              throw new Error(`replica ${r.id}: ${String(error)}\n${this.describe()}`);
            }),
          ),
        );
        const leaders = new Set(statuses.map((s) => s.leaderId));
        const leaderId = statuses[0]?.leaderId ?? 0;
        if (leaders.size !== 1 || leaderId === 0) {
          throw new Error(`no agreed leader: ${[...leaders].join(',')}\n${this.describe()}`);
        }
        const leader = running.find((r) => r.id === leaderId);
        if (!leader) throw new Error(`leader ${leaderId} is not running\n${this.describe()}`);
        return leader;
      },
      { timeout: timeoutMs },
    );
  }

  describe(): string {
    return this.replicas
      .map(
        (r) =>
          `--- replica ${r.id} (${r.process ? 'running' : 'stopped'}):\n${r.output.slice(-15).join('\n')}`,
      )
      .join('\n');
  }

  async shutdown(): Promise<void> {
    for (const r of this.replicas) {
      r.client.close();
      r.admin.close();
    }
    await Promise.all(this.replicas.map((r) => this.kill(r)));
    await rm(this.root, { recursive: true, force: true });
  }
}

export function unary<T>(
  call: (cb: (error: ServiceError | null, value: T) => void) => unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    call((error, value) => (error ? reject(error) : resolve(value)));
  });
}
