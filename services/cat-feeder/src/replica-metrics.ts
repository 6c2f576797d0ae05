// Prometheus metrics of a cat-feeder replica: what Raft is doing, seen from this replica.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FsyncTarget } from '@catmesh/raft/storage';
import type { ReplicaObserver } from './replica.js';

const ROLES = ['follower', 'pre-candidate', 'candidate', 'leader'] as const;

export interface ReplicaMetrics {
  readonly observer: ReplicaObserver;
  /** Storage's fsync hook. */
  readonly onFsync: (target: FsyncTarget, seconds: number) => void;
  /** Measures one proposal from the request to its apply. */
  readonly proposalTimer: () => () => void;
}

/** The replica's indexes, read at scrape time. */
export interface ReplicaProgress {
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
}

export function createReplicaMetrics(
  registry: Registry,
  progress: () => ReplicaProgress | undefined,
): ReplicaMetrics {
  /** A gauge read from the replica at scrape time (absent until the replica exists). */
  const progressGauge = (name: string, help: string, read: (p: ReplicaProgress) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const p = progress();
        if (p) this.set(read(p));
      },
    });
  progressGauge('catfeeder_raft_term', 'Current Raft term of this replica.', (p) => p.term);
  const role = new Gauge({
    name: 'catfeeder_raft_role',
    help: 'Raft role of this replica: 1 for the role it holds, 0 for the others.',
    labelNames: ['role'],
    registers: [registry],
  });
  const isLeader = new Gauge({
    name: 'catfeeder_raft_is_leader',
    help: '1 when this replica is the leader.',
    registers: [registry],
  });
  const leaderChanges = new Counter({
    name: 'catfeeder_raft_leader_changes_total',
    help: 'Times this replica saw the leader change (including to none).',
    registers: [registry],
  });
  progressGauge(
    'catfeeder_raft_commit_index',
    'Highest log index known to be committed.',
    (p) => p.commit,
  );
  progressGauge(
    'catfeeder_raft_applied_index',
    'Highest log index applied to the key/value state.',
    (p) => p.applied,
  );
  progressGauge('catfeeder_raft_apply_lag_entries', 'Committed entries not yet applied.', (p) =>
    Math.max(0, p.commit - p.applied),
  );
  const proposals = new Counter({
    name: 'catfeeder_raft_proposals_total',
    help: 'Commands this replica proposed as leader.',
    registers: [registry],
  });
  const forwards = new Counter({
    name: 'catfeeder_raft_forwarded_writes_total',
    help: 'Writes this replica sent to the leader over Raft as a follower (retries count again).',
    registers: [registry],
  });
  const proposalDuration = new Histogram({
    name: 'catfeeder_proposal_duration_seconds',
    help: 'Time from a write request on this replica (leader, or follower forwarding it) to its apply here.',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const fsyncDuration = new Histogram({
    name: 'catfeeder_wal_fsync_duration_seconds',
    help: 'Latency of WAL, snapshot and directory fsyncs.',
    labelNames: ['target'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const snapshotsTaken = new Counter({
    name: 'catfeeder_snapshots_taken_total',
    help: 'Snapshots this replica took of its own state.',
    registers: [registry],
  });
  const snapshotsInstalled = new Counter({
    name: 'catfeeder_snapshots_installed_total',
    help: 'Snapshots this replica installed from the leader.',
    registers: [registry],
  });
  const messagesRejected = new Counter({
    name: 'catfeeder_raft_messages_rejected_total',
    help: 'Raft messages this replica refused: from outside its configuration, or malformed.',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const r of ROLES) role.set({ role: r }, 0);
  let lastLeader: number | undefined;

  return {
    observer: {
      roleChanged: (current, leader) => {
        for (const r of ROLES) role.set({ role: r }, r === current ? 1 : 0);
        isLeader.set(current === 'leader' ? 1 : 0);
        if (lastLeader !== undefined && leader !== lastLeader) leaderChanges.inc();
        lastLeader = leader;
      },
      proposed: (size) => proposals.inc(size),
      forwarded: (size) => forwards.inc(size),
      snapshotTaken: () => snapshotsTaken.inc(),
      snapshotInstalled: () => snapshotsInstalled.inc(),
      messageRejected: (reason) => messagesRejected.inc({ reason }),
    },
    onFsync: (target, seconds) => fsyncDuration.observe({ target }, seconds),
    proposalTimer: () => proposalDuration.startTimer(),
  };
}
