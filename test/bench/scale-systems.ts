// What the scale benchmark does differently on each system, behind one interface: progress (the
// applied Raft index), taking a snapshot, replacing a member by an empty one, and cutting a
// member off from its peers. Everything else goes through KvTarget.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, Metadata } from '@grpc/grpc-js';
import { faultsV1 } from '@catmesh/proto';
import { startCatFeeder, type CatFeederTarget } from './catfeeder-target.js';
import { startEtcd, type EtcdTarget } from './etcd-target.js';
import { unary, type KvTarget, type TargetName } from './kv-target.js';
import { cutOff } from './nft-partition.js';

export interface Progress {
  readonly applied: number;
  readonly term: number;
}

export interface SnapshotResult {
  readonly ms: number;
  /** Size of what was written, where the system says. */
  readonly bytes: number | undefined;
}

export interface ScaleSystem {
  readonly target: KvTarget;
  progress(member: number): Promise<Progress>;
  /** Takes one snapshot on `leader` the way the system does, and times it. */
  snapshot(leader: number, scratchDir: string): Promise<SnapshotResult>;
  /** Starts a killed member again with an empty data directory; returns once it is spawned. */
  startEmpty(member: number): Promise<void>;
  /** Cuts `member` off from the other members (not from clients); returns the heal. */
  cutOff(member: number, forMs: number): Promise<() => Promise<void>>;
  shutdown(): Promise<void>;
}

const STATUS_TIMEOUT_MS = 1000;
const OP_TIMEOUT_MS = 10_000;
/** cat-feeder's default, set explicitly so that the snapshot measurement knows it. */
export const SNAPSHOT_ENTRIES = 10_000;
/** uids of the etcd members, free on this machine's passwd (the processes need no entry). */
const ETCD_UIDS = [47_001, 47_002, 47_003];
/** The keys the snapshot measurement overwrites to reach cat-feeder's snapshot threshold. */
const FILLER_KEYS = 1000;
const FILLER_CLIENTS = 64;

export interface SystemOptions {
  readonly etcdProtoFile: string | undefined;
  readonly channelsPerMember: number;
}

export async function startSystem(name: TargetName, options: SystemOptions): Promise<ScaleSystem> {
  if (name === 'etcd') {
    const target = await startEtcd({
      protoFile: options.etcdProtoFile!,
      channelsPerMember: options.channelsPerMember,
      memberUids: ETCD_UIDS,
    });
    return etcdSystem(target);
  }
  const target = await startCatFeeder({
    channelsPerMember: options.channelsPerMember,
    env: { CATMESH_SNAPSHOT_ENTRIES: String(SNAPSHOT_ENTRIES) },
  });
  return catFeederSystem(target, options.channelsPerMember);
}

function etcdSystem(target: EtcdTarget): ScaleSystem {
  return {
    target,
    async progress(member) {
      const s = await target.status(member, STATUS_TIMEOUT_MS);
      return { applied: Number(s.raftAppliedIndex), term: Number(s.raftTerm) };
    },
    async snapshot(leader, scratchDir) {
      const file = join(scratchDir, 'etcd-snapshot.db');
      const started = performance.now();
      const bytes = await target.snapshot(leader, file, 10 * 60_000);
      const ms = performance.now() - started;
      await rm(file, { force: true });
      return { ms, bytes };
    },
    startEmpty: (member) => target.replace(member, OP_TIMEOUT_MS),
    cutOff(member) {
      const others = [0, 1, 2].filter((m) => m !== member).map((m) => target.peerPort(m));
      const heal = cutOff({
        uid: ETCD_UIDS[member]!,
        ownPeerPort: target.peerPort(member),
        otherPeerPorts: others,
      });
      return Promise.resolve(() => Promise.resolve(heal()));
    },
    shutdown: () => target.shutdown(),
  };
}

async function snapshotsTaken(target: CatFeederTarget, member: number): Promise<number> {
  const text = await (await fetch(target.metricsUrl(member))).text();
  const value = /^catfeeder_snapshots_taken_total (\d+)/m.exec(text)?.[1];
  if (value === undefined) throw new Error('catfeeder_snapshots_taken_total is not on /metrics');
  return Number(value);
}

function catFeederSystem(target: CatFeederTarget, channels: number): ScaleSystem {
  const admins = target.members.map(
    (_, i) =>
      new faultsV1.FaultAdminServiceClient(target.adminAddress(i), credentials.createInsecure()),
  );
  const filler = randomBytes(64);
  const fill = async (leader: number, count: number, clients: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(clients, count) }, async (_, client) => {
        for (let i = next++; i < count; i = next++) {
          await target.put(
            leader,
            client % channels,
            `scale/filler-${i % FILLER_KEYS}`,
            filler,
            OP_TIMEOUT_MS,
          );
        }
      }),
    );
  };
  const applyPartition = (member: number, peers: readonly number[], expiresAtUnixMs: number) =>
    unary<faultsV1.ApplyFaultResponse>(STATUS_TIMEOUT_MS, (o, cb) =>
      admins[member]!.applyFault(
        {
          fault: {
            id: 'scale-partition',
            kind: { $case: 'partition', value: {} },
            expiresAtUnixMs,
            // A raft_id selector matches that replica's Raft messages and forwarded requests.
            peers: peers.map((p) => ({ service: 'cat-feeder', instance: '', raftId: p + 1 })),
            direction: faultsV1.Direction.DIRECTION_BOTH,
            transports: [],
            experiment: 'catfeeder-scale',
          },
        },
        new Metadata(),
        o,
        cb,
      ),
    );
  const revert = (member: number) =>
    unary<faultsV1.RevertFaultResponse>(STATUS_TIMEOUT_MS, (o, cb) =>
      admins[member]!.revertFault({ id: 'scale-partition' }, new Metadata(), o, cb),
    );

  return {
    target,
    async shutdown() {
      for (const admin of admins) admin.close();
      await target.shutdown();
    },
    async progress(member) {
      const s = await target.status(member, STATUS_TIMEOUT_MS);
      return { applied: s.appliedIndex, term: s.term };
    },
    /**
     * cat-feeder has no snapshot API: a replica snapshots once SNAPSHOT_ENTRIES entries were
     * applied since its last one. Overwrite filler keys until the leader is one entry short,
     * then time one more put from its sending until the leader's
     * catfeeder_snapshots_taken_total goes up (counted once the snapshot file is saved and the
     * WAL compacted). The followers take theirs at the same index, on the same cores.
     */
    async snapshot(leader) {
      for (;;) {
        const s = await target.status(leader, STATUS_TIMEOUT_MS);
        const remaining = s.snapshotIndex + SNAPSHOT_ENTRIES - s.appliedIndex;
        if (remaining === 1) break;
        if (remaining <= 0)
          await sleep(20); // one is being taken now
        else if (remaining > 2 * FILLER_CLIENTS)
          await fill(leader, remaining - FILLER_CLIENTS, FILLER_CLIENTS);
        else await fill(leader, 1, 1);
      }
      const before = await snapshotsTaken(target, leader);
      const started = performance.now();
      await target.put(leader, 0, 'scale/filler-0', filler, OP_TIMEOUT_MS);
      while ((await snapshotsTaken(target, leader)) === before) await sleep(10);
      return { ms: performance.now() - started, bytes: undefined };
    },
    async startEmpty(member) {
      await target.wipe(member);
      target.restart(member);
    },
    async cutOff(member, forMs) {
      const others = [0, 1, 2].filter((m) => m !== member);
      // Expiry is only a safety net: the heal reverts the faults at once.
      const expires = Date.now() + forMs + 120_000;
      await applyPartition(member, others, expires);
      for (const other of others) await applyPartition(other, [member], expires);
      return async () => {
        for (const m of [member, ...others]) await revert(m);
      };
    },
  };
}
