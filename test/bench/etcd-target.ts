// etcd 3.4 as a benchmark target: 3 members on loopback (fsync on, its default), driven with
// @grpc/grpc-js through etcd's own rpc.proto (shipped in the etcd3 npm package) loaded by
// @grpc/proto-loader, so that both targets see the same client library.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  type CallOptions,
  type Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { freePort } from '@catmesh/testkit';
import { UsageError } from './bench-flags.js';
import { OWN_CONNECTION, pollUntil, unary, type KvTarget } from './kv-target.js';
import { removeOnExit, ServerProcess, unexpectedExit } from './server-process.js';

type Callback<T> = (error: ServiceError | null, response?: T) => void;

interface EtcdKvClient extends Client {
  Put(
    request: { key: Buffer; value: Buffer },
    options: Partial<CallOptions>,
    callback: Callback<object>,
  ): ClientUnaryCall;
  Range(
    request: { key: Buffer; serializable: boolean },
    options: Partial<CallOptions>,
    callback: Callback<object>,
  ): ClientUnaryCall;
}

/** uint64 fields arrive as decimal strings (`longs: String`): member ids do not fit a double. */
export interface EtcdStatusResponse {
  header: { memberId: string; revision: string } | null;
  leader: string;
  raftTerm: string;
  raftAppliedIndex: string;
}

interface EtcdMaintenanceClient extends Client {
  Status(
    request: object,
    options: Partial<CallOptions>,
    callback: Callback<EtcdStatusResponse>,
  ): ClientUnaryCall;
  Snapshot(request: object, options: Partial<CallOptions>): ClientReadableStream<{ blob: Buffer }>;
}

interface EtcdMember {
  ID: string;
  peerURLs: string[];
}

interface EtcdClusterClient extends Client {
  MemberList(
    request: object,
    options: Partial<CallOptions>,
    callback: Callback<{ members: EtcdMember[] }>,
  ): ClientUnaryCall;
  MemberRemove(
    request: { ID: string },
    options: Partial<CallOptions>,
    callback: Callback<object>,
  ): ClientUnaryCall;
  MemberAdd(
    request: { peerURLs: string[] },
    options: Partial<CallOptions>,
    callback: Callback<object>,
  ): ClientUnaryCall;
}

export interface EtcdOptions {
  /** etcd's rpc.proto, e.g. node_modules/etcd3/proto/rpc.proto. */
  readonly protoFile: string;
  readonly channelsPerMember: number;
  readonly size?: number;
  /**
   * Member i runs as uid (and gid) `memberUids[i]` with its data directory owned by it, so that
   * netfilter can match its sockets (`meta skuid`) to cut it off from its peers.
   */
  readonly memberUids?: readonly number[];
}

/** An etcd cluster with what the scale benchmark needs beyond a KvTarget. */
export interface EtcdTarget extends KvTarget {
  status(member: number, timeoutMs: number): Promise<EtcdStatusResponse>;
  /** The port `members[member]` listens on for its peers (Raft). */
  peerPort(member: number): number;
  /**
   * Maintenance.Snapshot from `members[member]` streamed into `file` and fsynced, as
   * `etcdctl snapshot save` does; returns its size in bytes.
   */
  snapshot(member: number, file: string, timeoutMs: number): Promise<number>;
  /**
   * Replaces a killed member by an empty one at the same address, the way etcd documents
   * (a wiped member cannot rejoin under its old id): MemberRemove, MemberAdd, then a start with
   * an empty data directory and `--initial-cluster-state=existing`.
   */
  replace(member: number, timeoutMs: number): Promise<void>;
}

function serviceConstructor(ns: GrpcObject, name: string): ServiceClientConstructor {
  const ctor = ns[name];
  if (typeof ctor !== 'function') throw new Error(`etcdserverpb.${name} is not in rpc.proto`);
  return ctor;
}

export async function startEtcd(options: EtcdOptions): Promise<EtcdTarget> {
  const size = options.size ?? 3;
  // Enum values are never sent by name (etcd3's proto spells them differently from etcd's docs);
  // this benchmark sends none, and `enums: Number` keeps any it receives numeric.
  const definition = loadSync(options.protoFile, {
    longs: String,
    enums: Number,
    defaults: true,
  });
  const ns = loadPackageDefinition(definition)['etcdserverpb'] as GrpcObject | undefined;
  if (ns === undefined) throw new Error(`${options.protoFile} has no package etcdserverpb`);
  const KvClient = serviceConstructor(ns, 'KV');
  const MaintenanceClient = serviceConstructor(ns, 'Maintenance');
  const ClusterClient = serviceConstructor(ns, 'Cluster');

  const root = await mkdtemp(join(tmpdir(), 'catmesh-bench-etcd-'));
  const forgetRoot = removeOnExit(root);
  const ports: { client: number; peer: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports.map((p, i) => `m${i + 1}=http://127.0.0.1:${p.peer}`).join(',');
  const dataDir = (i: number) => join(root, `m${i + 1}`);
  const uids = options.memberUids;
  /** A member running as its own uid needs a data directory it owns, under a root it can enter. */
  const prepareDataDir = async (i: number) => {
    const uid = uids?.[i];
    if (uid === undefined) return;
    await mkdir(dataDir(i), { mode: 0o700 });
    await chown(dataDir(i), uid, uid);
  };
  if (uids !== undefined) {
    await chmod(root, 0o711);
    for (let i = 0; i < size; i++) await prepareDataDir(i);
  }

  const spawnMember = (i: number, state: 'new' | 'existing' = 'new'): ServerProcess => {
    const clientUrl = `http://127.0.0.1:${ports[i]!.client}`;
    const peerUrl = `http://127.0.0.1:${ports[i]!.peer}`;
    // On a restart the data directory exists and etcd ignores the --initial-cluster* flags.
    return ServerProcess.spawn(
      `etcd m${i + 1}`,
      'etcd',
      [
        `--name=m${i + 1}`,
        `--data-dir=${dataDir(i)}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-state=${state}`,
        '--initial-cluster-token=catmesh-bench',
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=error',
      ],
      {},
      uids?.[i],
    );
  };
  const members = ports.map((_, i) => spawnMember(i));

  const addresses = ports.map((p) => `127.0.0.1:${p.client}`);
  const kv = addresses.map((address) =>
    Array.from(
      { length: options.channelsPerMember },
      () =>
        new KvClient(
          address,
          credentials.createInsecure(),
          OWN_CONNECTION,
        ) as unknown as EtcdKvClient,
    ),
  );
  const maintenance = addresses.map(
    (address) =>
      new MaintenanceClient(
        address,
        credentials.createInsecure(),
      ) as unknown as EtcdMaintenanceClient,
  );

  const cluster = addresses.map(
    (address) =>
      new ClusterClient(address, credentials.createInsecure()) as unknown as EtcdClusterClient,
  );

  const channel = (member: number, index: number): EtcdKvClient => {
    const client = kv[member]?.[index];
    if (!client) throw new Error(`no channel ${index} to etcd member ${member}`);
    return client;
  };

  const killed = new Set<number>();
  const target: EtcdTarget = {
    name: 'etcd',
    members,

    async waitForLeader(timeoutMs) {
      return pollUntil(
        timeoutMs,
        50,
        async () => {
          const running = members.flatMap((m, i) => (m.running ? [i] : []));
          const statuses = await Promise.all(
            running.map((i) =>
              unary<EtcdStatusResponse>(500, (o, cb) => maintenance[i]!.Status({}, o, cb)),
            ),
          );
          const leaders = new Set(statuses.map((s) => s.leader));
          const [leaderId] = leaders;
          if (leaders.size !== 1 || leaderId === undefined || leaderId === '0') {
            throw new Error(`etcd members name different leaders: ${[...leaders].join(', ')}`);
          }
          const index = statuses.findIndex((s) => s.header?.memberId === leaderId);
          const leader = running[index];
          if (leader === undefined) throw new Error(`etcd leader ${leaderId} is not running`);
          return leader;
        },
        () => unexpectedExit(members, killed),
      );
    },

    async put(member, index, key, value, timeoutMs) {
      await unary(timeoutMs, (o, cb) =>
        channel(member, index).Put({ key: Buffer.from(key), value }, o, cb),
      );
    },

    async get(member, index, key, timeoutMs) {
      // serializable=false: a linearizable read (ReadIndex through the leader).
      await unary(timeoutMs, (o, cb) =>
        channel(member, index).Range({ key: Buffer.from(key), serializable: false }, o, cb),
      );
    },

    status(member, timeoutMs) {
      return unary<EtcdStatusResponse>(timeoutMs, (o, cb) =>
        maintenance[member]!.Status({}, o, cb),
      );
    },

    peerPort: (member) => ports[member]!.peer,

    async snapshot(member, file, timeoutMs) {
      const stream = maintenance[member]!.Snapshot({}, { deadline: Date.now() + timeoutMs });
      const handle = await open(file, 'w');
      let bytes = 0;
      try {
        for await (const chunk of stream as AsyncIterable<{ blob: Buffer }>) {
          await handle.write(chunk.blob);
          bytes += chunk.blob.length;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      return bytes;
    },

    async replace(member, timeoutMs) {
      if (members[member]?.running !== false) throw new Error(`member ${member} is running`);
      const via = members.findIndex((m) => m.running);
      const peerUrl = `http://127.0.0.1:${ports[member]!.peer}`;
      const { members: list } = await unary<{ members: EtcdMember[] }>(timeoutMs, (o, cb) =>
        cluster[via]!.MemberList({}, o, cb),
      );
      const old = list.find((m) => m.peerURLs.includes(peerUrl));
      // Both are refused ("unhealthy cluster") while etcd's strict reconfiguration check finds a
      // member not connected for its 5 s health interval; they are retried until it passes.
      const retried = (call: () => Promise<unknown>) =>
        pollUntil(timeoutMs, 200, call, () => undefined);
      if (old !== undefined) {
        await retried(() =>
          unary(timeoutMs, (o, cb) => cluster[via]!.MemberRemove({ ID: old.ID }, o, cb)),
        );
      }
      await retried(() =>
        unary(timeoutMs, (o, cb) => cluster[via]!.MemberAdd({ peerURLs: [peerUrl] }, o, cb)),
      );
      await rm(dataDir(member), { recursive: true, force: true, maxRetries: 3 });
      await prepareDataDir(member);
      members[member] = spawnMember(member, 'existing');
      killed.delete(member);
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
      for (const client of [...kv.flat(), ...maintenance, ...cluster]) client.close();
      await Promise.all(members.map((m) => m.kill()));
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
      forgetRoot();
    },
  };
  return target;
}

/** etcd's rpc.proto in `etcd3Dir`, else in the etcd3 package installed in the repository. */
export function etcdProtoFile(etcd3Dir: string | undefined): string {
  const dir =
    etcd3Dir ??
    (() => {
      try {
        return dirname(createRequire(import.meta.url).resolve('etcd3/package.json'));
      } catch {
        return undefined;
      }
    })();
  const file = dir === undefined ? undefined : join(dir, 'proto', 'rpc.proto');
  if (file === undefined || !existsSync(file)) {
    throw new UsageError(
      "etcd's rpc.proto not found: install the etcd3 npm package (npm install -D etcd3) or set " +
        'CATMESH_BENCH_ETCD3_DIR to a directory holding proto/rpc.proto' +
        (file === undefined ? '' : ` (looked for ${file})`),
    );
  }
  return file;
}

export function checkEtcdInstalled(): void {
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new UsageError('etcd is not installed: run ./scripts/setup-system.sh bench');
  }
}
