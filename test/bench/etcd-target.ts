// etcd 3.4 as a benchmark target: 3 members on loopback (fsync on, its default), driven with
// @grpc/grpc-js through etcd's own rpc.proto (shipped in the etcd3 npm package) loaded by
// @grpc/proto-loader, so that both targets see the same client library.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { freePort } from '@catmesh/testkit';
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
interface EtcdStatusResponse {
  header: { memberId: string } | null;
  leader: string;
}

interface EtcdMaintenanceClient extends Client {
  Status(
    request: object,
    options: Partial<CallOptions>,
    callback: Callback<EtcdStatusResponse>,
  ): ClientUnaryCall;
}

export interface EtcdOptions {
  /** etcd's rpc.proto, e.g. node_modules/etcd3/proto/rpc.proto. */
  readonly protoFile: string;
  readonly channelsPerMember: number;
  readonly size?: number;
}

function serviceConstructor(ns: GrpcObject, name: string): ServiceClientConstructor {
  const ctor = ns[name];
  if (typeof ctor !== 'function') throw new Error(`etcdserverpb.${name} is not in rpc.proto`);
  return ctor;
}

export async function startEtcd(options: EtcdOptions): Promise<KvTarget> {
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

  const root = await mkdtemp(join(tmpdir(), 'catmesh-bench-etcd-'));
  const forgetRoot = removeOnExit(root);
  const ports: { client: number; peer: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports.map((p, i) => `m${i + 1}=http://127.0.0.1:${p.peer}`).join(',');

  const spawnMember = (i: number): ServerProcess => {
    const clientUrl = `http://127.0.0.1:${ports[i]!.client}`;
    const peerUrl = `http://127.0.0.1:${ports[i]!.peer}`;
    // On a restart the data directory exists and etcd ignores the --initial-cluster* flags.
    return ServerProcess.spawn(
      `etcd m${i + 1}`,
      'etcd',
      [
        `--name=m${i + 1}`,
        `--data-dir=${join(root, `m${i + 1}`)}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=catmesh-bench',
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=error',
      ],
      {},
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

  const channel = (member: number, index: number): EtcdKvClient => {
    const client = kv[member]?.[index];
    if (!client) throw new Error(`no channel ${index} to etcd member ${member}`);
    return client;
  };

  const killed = new Set<number>();
  const target: KvTarget = {
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
      for (const client of [...kv.flat(), ...maintenance]) client.close();
      await Promise.all(members.map((m) => m.kill()));
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
      forgetRoot();
    },
  };
  return target;
}
