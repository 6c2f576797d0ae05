import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import type { LocalHost } from '@catmesh/faults';
import { catfeederV1 } from '@catmesh/proto';
import type { PlantedStorageBug } from '@catmesh/raft/storage';
import type { ReadConsistency } from '../check-options.js';
import { grpcCode, neverSent, reconnectQuickly, unary } from './grpc-errors.js';
import type { MemberApi, TargetDriver } from './target.js';

// cat-feeder, the Raft key/value store of this repository, run from its build output.

const GRPC_PORT = 7101;
const METRICS_PORT = 9101;

/** services/cat-feeder/dist/main.js of this checkout (src/ and dist/ sit at the same depth). */
export const defaultCatFeederMain = fileURLToPath(
  new URL('../../../../services/cat-feeder/dist/main.js', import.meta.url),
);

const consistencies: Record<ReadConsistency, catfeederV1.Consistency> = {
  linearizable: catfeederV1.Consistency.CONSISTENCY_LINEARIZABLE,
  lease: catfeederV1.Consistency.CONSISTENCY_LEASE,
  stale: catfeederV1.Consistency.CONSISTENCY_STALE,
};

/** Replica ids are 1..n in host order, so host i+1 is replica i+1. */
const replicaId = (hosts: readonly LocalHost[], host: LocalHost): number => hosts.indexOf(host) + 1;

const journalOf = (host: LocalHost, dataDir: string): string =>
  join(dataDir, `${host.name}-power-loss-journal`);

/**
 * `path` is the PATH the replicas' processes get; `plantedBug` runs them with a storage bug
 * planted on purpose (tests that show the durability check catches it).
 */
export function catFeederDriver(
  main: string = defaultCatFeederMain,
  path: string | undefined = undefined,
  plantedBug: PlantedStorageBug | undefined = undefined,
): TargetDriver {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: build cat-feeder first (npx tsc -b tsconfig.build.json)`);
  }
  return {
    name: 'cat-feeder',
    processSpec(host, hosts, dataDir) {
      const peers = hosts.map((h) => `${replicaId(hosts, h)}=${h.address}:${GRPC_PORT}`);
      return {
        command: process.execPath,
        // A smaller young generation keeps a replica's memory low (as the service's own tests do).
        args: ['--max-semi-space-size=8', main],
        netns: host.netns,
        env: {
          PATH: path,
          CATMESH_NODE_ID: String(replicaId(hosts, host)),
          CATMESH_INSTANCE_ID: `cat-feeder-${host.name}`,
          CATMESH_PEERS: peers.join(','),
          CATMESH_DATA_DIR: join(dataDir, host.name),
          CATMESH_GRPC_HOST: host.address,
          CATMESH_GRPC_PORT: String(GRPC_PORT),
          CATMESH_METRICS_PORT: String(METRICS_PORT),
          CATMESH_LOG_LEVEL: 'warn',
          OTEL_SDK_DISABLED: 'true',
          // Undo journal of what is not fsynced, so the durability check can cut the power.
          CATMESH_TEST_MODE: '1',
          CATMESH_TEST_POWER_LOSS_JOURNAL: journalOf(host, dataDir),
          ...(plantedBug ? { CATMESH_TEST_PLANTED_STORAGE_BUG: plantedBug } : {}),
        },
      };
    },
    powerLossJournal: journalOf,
    connect(host, hosts) {
      return catFeederMemberApi(`${host.address}:${GRPC_PORT}`, (id) => hosts[id - 1]?.name);
    },
    writeNotApplied: catFeederWriteNotApplied,
  };
}

/** Whether a cat-feeder write's error proves the write had no effect (see TargetDriver). */
export function catFeederWriteNotApplied(error: unknown): boolean {
  // FAILED_PRECONDITION on a write means its request id is too old for the server to tell
  // whether it applied: unknown, not failed.
  return grpcCode(error) === status.INVALID_ARGUMENT || neverSent(error);
}

/** A client of the cat-feeder replica at `address`; `hostOfReplica` names a replica id. */
export function catFeederMemberApi(
  address: string,
  hostOfReplica: (id: number) => string | undefined,
): MemberApi {
  const client = new catfeederV1.CatFeederServiceClient(
    address,
    credentials.createInsecure(),
    reconnectQuickly,
  );
  const text = (value: Buffer | undefined): string | null =>
    value === undefined ? null : value.toString('utf8');
  return {
    async get(key, consistency, timeoutMs) {
      const response = await unary<catfeederV1.GetResponse>(
        (deadline, cb) =>
          client.get(
            { key, consistency: consistencies[consistency] },
            new Metadata(),
            { deadline },
            cb,
          ),
        timeoutMs,
      );
      return text(response.kv?.value);
    },
    async put(key, value, id, timeoutMs) {
      await unary<catfeederV1.PutResponse>(
        (deadline, cb) =>
          client.put(
            {
              key,
              value: Buffer.from(value),
              requestId: { clientId: id.client, sequence: id.sequence },
            },
            new Metadata(),
            { deadline },
            cb,
          ),
        timeoutMs,
      );
    },
    async cas(key, expected, value, id, timeoutMs) {
      const response = await unary<catfeederV1.CompareAndSwapResponse>(
        (deadline, cb) =>
          client.compareAndSwap(
            {
              key,
              expected:
                expected === null
                  ? { $case: 'expectedAbsent', value: true }
                  : { $case: 'expectedValue', value: Buffer.from(expected) },
              newValue: Buffer.from(value),
              requestId: { clientId: id.client, sequence: id.sequence },
            },
            new Metadata(),
            { deadline },
            cb,
          ),
        timeoutMs,
      );
      return response.succeeded;
    },
    async leader(timeoutMs) {
      const response = await unary<catfeederV1.StatusResponse>(
        (deadline, cb) => client.status({}, new Metadata(), { deadline }, cb),
        timeoutMs,
      );
      return response.leaderId === 0 ? undefined : hostOfReplica(response.leaderId);
    },
    async localState(timeoutMs) {
      const response = await unary<catfeederV1.RangeResponse>(
        (deadline, cb) =>
          client.range(
            { prefix: '', consistency: catfeederV1.Consistency.CONSISTENCY_STALE, limit: 0 },
            new Metadata(),
            { deadline },
            cb,
          ),
        timeoutMs,
      );
      return new Map(response.kvs.map((kv) => [kv.key, kv.value.toString('utf8')]));
    },
    close: () => client.close(),
  };
}
