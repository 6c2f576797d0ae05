import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  status,
  type CallOptions,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { LocalHost } from '@catmesh/faults';
import { grpcCode, neverSent, reconnectQuickly, unary } from './grpc-errors.js';
import type { MemberApi, TargetDriver } from './target.js';

// etcd 3.4, the reference: driven through its own rpc.proto with the same gRPC library as
// cat-feeder. Enum values are always sent as numbers: the etcd3 package's proto spells their
// names differently from etcd's documentation (`Value`, not `VALUE`), so a name would silently
// select nothing or the wrong field.

const CLIENT_PORT = 2379;
const PEER_PORT = 2380;

/** Compare.CompareResult and Compare.CompareTarget, by number. */
const EQUAL = 0;
const TARGET_CREATE = 1;
const TARGET_VALUE = 3;

type Callback<T> = (error: ServiceError | null, response?: T) => void;

interface KeyValue {
  key: Buffer;
  value: Buffer;
}
interface RangeResponse {
  kvs: KeyValue[];
}
interface TxnResponse {
  succeeded: boolean;
}
/** uint64 fields arrive as decimal strings (`longs: String`): member ids do not fit a double. */
interface StatusResponse {
  header: { memberId: string } | null;
  leader: string;
}

interface KvClient extends Client {
  Range(request: object, options: Partial<CallOptions>, callback: Callback<RangeResponse>): void;
  Put(request: object, options: Partial<CallOptions>, callback: Callback<object>): void;
  Txn(request: object, options: Partial<CallOptions>, callback: Callback<TxnResponse>): void;
}
interface MaintenanceClient extends Client {
  Status(request: object, options: Partial<CallOptions>, callback: Callback<StatusResponse>): void;
}

/** etcd's rpc.proto as shipped in the etcd3 npm package, or undefined when it is not installed. */
export function defaultEtcdProto(): string | undefined {
  try {
    const file = join(
      dirname(createRequire(import.meta.url).resolve('etcd3/package.json')),
      'proto',
      'rpc.proto',
    );
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

export interface EtcdDriverOptions {
  readonly protoFile?: string;
  readonly binary?: string;
  /** The PATH the members' processes get. */
  readonly path?: string | undefined;
}

export function etcdDriver(options: EtcdDriverOptions = {}): TargetDriver {
  const binary = options.binary ?? 'etcd';
  try {
    execFileSync(binary, ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error(
      `cannot run ${binary}: install etcd 3.4 (Debian: apt-get install etcd-server etcd-client, ` +
        'or ./scripts/setup-system.sh jepsen)',
    );
  }
  const protoFile = options.protoFile ?? defaultEtcdProto();
  if (protoFile === undefined || !existsSync(protoFile)) {
    throw new Error(
      `etcd's rpc.proto not found${protoFile === undefined ? '' : ` at ${protoFile}`}: ` +
        'install the etcd3 npm package (npm install -D etcd3) or pass its proto/rpc.proto',
    );
  }
  const definition = loadSync(protoFile, {
    longs: String,
    enums: Number,
    defaults: true,
    includeDirs: [dirname(protoFile)],
  });
  const ns = loadPackageDefinition(definition)['etcdserverpb'] as GrpcObject | undefined;
  if (ns === undefined) throw new Error(`${protoFile} has no package etcdserverpb`);
  const service = (name: string): ServiceClientConstructor => {
    const ctor = ns[name];
    if (typeof ctor !== 'function') throw new Error(`etcdserverpb.${name} is not in ${protoFile}`);
    return ctor;
  };
  const KvService = service('KV');
  const MaintenanceService = service('Maintenance');
  // Member ids are etcd's own (derived from names and URLs); learnt from each member's answers.
  const hostOfMember = new Map<string, string>();

  return {
    name: 'etcd',
    processSpec(host, hosts, dataDir) {
      const peerUrl = (h: LocalHost) => `http://${h.address}:${PEER_PORT}`;
      const clientUrl = `http://${host.address}:${CLIENT_PORT}`;
      return {
        command: binary,
        // On a restart the data directory exists and etcd ignores the --initial-cluster* flags.
        args: [
          `--name=${host.name}`,
          `--data-dir=${join(dataDir, host.name)}`,
          `--listen-client-urls=${clientUrl}`,
          `--advertise-client-urls=${clientUrl}`,
          `--listen-peer-urls=${peerUrl(host)}`,
          `--initial-advertise-peer-urls=${peerUrl(host)}`,
          `--initial-cluster=${hosts.map((h) => `${h.name}=${peerUrl(h)}`).join(',')}`,
          '--initial-cluster-state=new',
          '--initial-cluster-token=catmesh-jepsen',
          '--logger=zap',
          '--log-outputs=stderr',
          '--log-level=warn',
        ],
        netns: host.netns,
        env: { PATH: options.path },
      };
    },
    connect(host) {
      const address = `${host.address}:${CLIENT_PORT}`;
      const kv = new KvService(
        address,
        credentials.createInsecure(),
        reconnectQuickly,
      ) as unknown as KvClient;
      const maintenance = new MaintenanceService(
        address,
        credentials.createInsecure(),
        reconnectQuickly,
      ) as unknown as MaintenanceClient;
      return etcdMember(host, kv, maintenance, hostOfMember);
    },
    writeNotApplied(error) {
      const code = grpcCode(error);
      return (
        code === status.INVALID_ARGUMENT || code === status.FAILED_PRECONDITION || neverSent(error)
      );
    },
  };
}

function etcdMember(
  host: LocalHost,
  kv: KvClient,
  maintenance: MaintenanceClient,
  hostOfMember: Map<string, string>,
): MemberApi {
  const put = (key: string, value: string) => ({
    requestPut: { key: Buffer.from(key), value: Buffer.from(value) },
  });
  return {
    async get(key, consistency, timeoutMs) {
      const response = await unary<RangeResponse>(
        (deadline, cb) =>
          kv.Range(
            { key: Buffer.from(key), serializable: consistency === 'stale' },
            { deadline },
            cb,
          ),
        timeoutMs,
      );
      const found = response.kvs[0];
      return found === undefined ? null : found.value.toString('utf8');
    },
    async put(key, value, _id, timeoutMs) {
      await unary<object>(
        (deadline, cb) =>
          kv.Put({ key: Buffer.from(key), value: Buffer.from(value) }, { deadline }, cb),
        timeoutMs,
      );
    },
    async cas(key, expected, value, _id, timeoutMs) {
      // Absent: the key's create revision is 0. Otherwise: its value equals `expected`.
      const compare =
        expected === null
          ? { result: EQUAL, target: TARGET_CREATE, key: Buffer.from(key), createRevision: '0' }
          : {
              result: EQUAL,
              target: TARGET_VALUE,
              key: Buffer.from(key),
              value: Buffer.from(expected),
            };
      const response = await unary<TxnResponse>(
        (deadline, cb) =>
          kv.Txn({ compare: [compare], success: [put(key, value)], failure: [] }, { deadline }, cb),
        timeoutMs,
      );
      return response.succeeded;
    },
    async leader(timeoutMs) {
      const response = await unary<StatusResponse>(
        (deadline, cb) => maintenance.Status({}, { deadline }, cb),
        timeoutMs,
      );
      if (response.header !== null) hostOfMember.set(response.header.memberId, host.name);
      return response.leader === '0' ? undefined : hostOfMember.get(response.leader);
    },
    async localState(timeoutMs) {
      // key "\0" with range_end "\0" is every key; serializable: this member's own state.
      const response = await unary<RangeResponse>(
        (deadline, cb) =>
          kv.Range(
            { key: Buffer.from([0]), rangeEnd: Buffer.from([0]), serializable: true },
            { deadline },
            cb,
          ),
        timeoutMs,
      );
      return new Map(
        response.kvs.map((entry) => [entry.key.toString('utf8'), entry.value.toString('utf8')]),
      );
    },
    close() {
      kv.close();
      maintenance.close();
    },
  };
}
