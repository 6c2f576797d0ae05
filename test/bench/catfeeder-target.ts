// cat-feeder as a benchmark target: 3 replica processes (the built dist/main.js) on loopback with
// fsync on, driven through the generated grpc-js client of catmesh.catfeeder.v1.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { freePort } from '@catmesh/testkit';
import { OWN_CONNECTION, pollUntil, unary, type KvTarget } from './kv-target.js';
import { removeOnExit, ServerProcess, unexpectedExit } from './server-process.js';

const MAIN = fileURLToPath(new URL('../../services/cat-feeder/dist/main.js', import.meta.url));

export interface CatFeederOptions {
  readonly channelsPerMember: number;
  readonly size?: number;
  /** `off` starts the replicas without the fault gate (CATMESH_FAULT_ADMIN), for the overhead cell. */
  readonly faultAdmin?: 'on' | 'off';
  /** Each replica writes a V8 CPU profile (replica-N.cpuprofile) here when it is stopped. */
  readonly profileDir?: string;
  /** More settings for every replica (e.g. CATMESH_SNAPSHOT_ENTRIES), over the defaults here. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A cat-feeder cluster with what the scale benchmark needs beyond a KvTarget. */
export interface CatFeederTarget extends KvTarget {
  /** `members[member]`'s Status (its applied index, snapshot index, term, leader). */
  status(member: number, timeoutMs: number): Promise<catfeederV1.StatusResponse>;
  /** host:port of `members[member]`'s fault admin API (catmesh.faults.v1.FaultAdminService). */
  adminAddress(member: number): string;
  /** URL of `members[member]`'s Prometheus metrics. */
  metricsUrl(member: number): string;
  /** Removes a killed member's data directory: it restarts with its id and nothing else. */
  wipe(member: number): Promise<void>;
}

export async function startCatFeeder(options: CatFeederOptions): Promise<CatFeederTarget> {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: build it with \`npx tsc -b tsconfig.build.json\``);
  }
  const size = options.size ?? 3;
  const root = await mkdtemp(join(tmpdir(), 'catmesh-bench-cf-'));
  const forgetRoot = removeOnExit(root);
  const ports: { grpc: number; metrics: number; admin: number }[] = [];
  for (let i = 0; i < size; i++) {
    ports.push({ grpc: await freePort(), metrics: await freePort(), admin: await freePort() });
  }
  // Replica ids are 1..size, so replica id n is members[n - 1].
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p.grpc}`).join(',');
  const dataDir = (i: number) => join(root, `replica-${i + 1}`);

  const profileFlags = (i: number) =>
    options.profileDir === undefined
      ? []
      : [
          '--cpu-prof',
          `--cpu-prof-dir=${options.profileDir}`,
          `--cpu-prof-name=replica-${i + 1}.cpuprofile`,
        ];
  const spawnMember = (i: number): ServerProcess =>
    ServerProcess.spawn(`cat-feeder ${i + 1}`, process.execPath, [...profileFlags(i), MAIN], {
      CATMESH_NODE_ID: String(i + 1),
      CATMESH_PEERS: peers,
      CATMESH_DATA_DIR: dataDir(i),
      CATMESH_GRPC_HOST: '127.0.0.1',
      CATMESH_GRPC_PORT: String(ports[i]!.grpc),
      CATMESH_METRICS_PORT: String(ports[i]!.metrics),
      CATMESH_ADMIN_PORT: String(ports[i]!.admin),
      CATMESH_FAULT_ADMIN: options.faultAdmin ?? 'on',
      CATMESH_INSTANCE_ID: `cat-feeder-${i + 1}`,
      CATMESH_FSYNC: 'true',
      CATMESH_LOG_LEVEL: 'warn',
      OTEL_SDK_DISABLED: 'true',
      ...options.env,
    });
  const members = ports.map((_, i) => spawnMember(i));

  const clients = ports.map((p) =>
    Array.from(
      { length: options.channelsPerMember },
      () =>
        new catfeederV1.CatFeederServiceClient(
          `127.0.0.1:${p.grpc}`,
          credentials.createInsecure(),
          OWN_CONNECTION,
        ),
    ),
  );
  const channel = (member: number, index: number): catfeederV1.CatFeederServiceClient => {
    const client = clients[member]?.[index];
    if (!client) throw new Error(`no channel ${index} to cat-feeder replica ${member + 1}`);
    return client;
  };

  const killed = new Set<number>();
  const target: CatFeederTarget = {
    name: 'cat-feeder',
    members,

    async waitForLeader(timeoutMs) {
      return pollUntil(
        timeoutMs,
        50,
        async () => {
          const running = members.flatMap((m, i) => (m.running ? [i] : []));
          const statuses = await Promise.all(
            running.map((i) =>
              unary<catfeederV1.StatusResponse>(500, (o, cb) =>
                channel(i, 0).status({}, new Metadata(), o, cb),
              ),
            ),
          );
          const leaders = new Set(statuses.map((s) => s.leaderId));
          const [leaderId] = leaders;
          if (leaders.size !== 1 || leaderId === undefined || leaderId === 0) {
            throw new Error(
              `cat-feeder replicas name different leaders: ${[...leaders].join(', ')}`,
            );
          }
          const leader = leaderId - 1;
          if (!running.includes(leader))
            throw new Error(`cat-feeder leader ${leaderId} is not running`);
          return leader;
        },
        () => unexpectedExit(members, killed),
      );
    },

    async put(member, index, key, value, timeoutMs) {
      // No request_id: etcd de-duplicates nothing either, so neither pays for it.
      await unary(timeoutMs, (o, cb) =>
        channel(member, index).put({ key, value, requestId: undefined }, new Metadata(), o, cb),
      );
    },

    async get(member, index, key, timeoutMs) {
      await unary(timeoutMs, (o, cb) =>
        channel(member, index).get(
          // The generated enum member is the number 1 at run time, not a name.
          { key, consistency: catfeederV1.Consistency.CONSISTENCY_LINEARIZABLE },
          new Metadata(),
          o,
          cb,
        ),
      );
    },

    status(member, timeoutMs) {
      return unary<catfeederV1.StatusResponse>(timeoutMs, (o, cb) =>
        channel(member, 0).status({}, new Metadata(), o, cb),
      );
    },

    adminAddress: (member) => `127.0.0.1:${ports[member]!.admin}`,
    metricsUrl: (member) => `http://127.0.0.1:${ports[member]!.metrics}/metrics`,

    async wipe(member) {
      if (members[member]?.running !== false) throw new Error(`member ${member} is running`);
      await rm(dataDir(member), { recursive: true, force: true, maxRetries: 3 });
    },

    async kill(member) {
      killed.add(member);
      await members[member]?.kill();
    },

    restart(member) {
      if (members[member]?.running !== false) throw new Error(`member ${member} is running`);
      members[member] = spawnMember(member);
      killed.delete(member);
    },

    async shutdown() {
      for (const client of clients.flat()) client.close();
      // A profiled replica must exit on its own to write its profile.
      await Promise.all(
        members.map((m) => (options.profileDir === undefined ? m.kill() : m.stop())),
      );
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
      forgetRoot();
    },
  };
  return target;
}
