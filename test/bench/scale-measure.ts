// The scale benchmark's measurements on one running system: put cost by value size, loading many
// keys, snapshot, restart and catch-up of a member, and a follower cut off under load.
import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';
import { pollUntil } from './kv-target.js';
import { phase, startLoad, type PhaseFigures } from './scale-load.js';
import type { ScaleSystem, SnapshotResult } from './scale-systems.js';

const LEADER_TIMEOUT_MS = 60_000;
const PUT_TIMEOUT_MS = 10_000;
/** A read or put under a fault: short, so that a client cut off fails fast and tries again. */
const FAULT_REQUEST_TIMEOUT_MS = 1000;
const POLL_MS = 20;
/** Generous: catching up a million keys on two shared cores takes minutes, not hours. */
const CATCH_UP_TIMEOUT_MS = 15 * 60_000;
/**
 * How long an empty member is given to catch up before it is reported as not catching up: 30 s,
 * plus 60 s per million keys (etcd took well under that here; a stuck member would waste it).
 */
export const emptyCatchUpLimitMs = (keys: number) => 30_000 + keys * 0.06;
export const PARTITION = {
  beforeMs: 5000,
  afterMs: 10_000,
  catchUpTimeoutMs: 60_000,
} as const;

export const key = (index: number) => `scale/key-${String(index).padStart(7, '0')}`;

const serverCpuSeconds = (system: ScaleSystem) =>
  system.target.members.reduce((sum, m) => sum + m.cpuSeconds(), 0);

export interface ValueCell {
  readonly valueBytes: number;
  readonly clients: number;
  readonly run: number;
  readonly result: ClosedLoopResult;
}

export async function measureValueCell(
  system: ScaleSystem,
  cell: { valueBytes: number; clients: number; run: number; keys: number; channels: number },
  timing: { warmupMs: number; durationMs: number },
): Promise<ValueCell> {
  const value = randomBytes(cell.valueBytes);
  const leader = await system.target.waitForLeader(LEADER_TIMEOUT_MS);
  const result = await runClosedLoop({
    clients: cell.clients,
    warmupMs: timing.warmupMs,
    durationMs: timing.durationMs,
    serverCpuSeconds: () => serverCpuSeconds(system),
    request: (client) =>
      system.target.put(
        leader,
        client % cell.channels,
        key(randomInt(cell.keys)),
        value,
        PUT_TIMEOUT_MS,
      ),
  });
  return { valueBytes: cell.valueBytes, clients: cell.clients, run: cell.run, result };
}

export interface Loaded {
  readonly ms: number;
  /** Puts that failed (a leader change, a deadline) and were sent again. */
  readonly retries: number;
  /** After loading and after every member applied it all, in bytes, by member. */
  readonly rssBytes: readonly number[];
  readonly leader: number;
}

/** Writes keys 0..keys-1 once, from `clients` concurrent clients, to the leader. */
export async function load(
  system: ScaleSystem,
  keys: number,
  clients: number,
  channels: number,
): Promise<Loaded> {
  const value = randomBytes(64);
  let leader = await system.target.waitForLeader(LEADER_TIMEOUT_MS);
  let next = 0;
  let retries = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = next++; i < keys; i = next++) {
        for (;;) {
          try {
            await system.target.put(leader, client % channels, key(i), value, PUT_TIMEOUT_MS);
            break;
          } catch {
            retries++;
            leader = await system.target.waitForLeader(LEADER_TIMEOUT_MS);
          }
        }
      }
    }),
  );
  const ms = performance.now() - started;
  leader = await waitAllApplied(system);
  return { ms, retries, rssBytes: system.target.members.map((m) => m.rssBytes()), leader };
}

/** Waits until every member has applied what the leader had; returns the leader. */
async function waitAllApplied(system: ScaleSystem): Promise<number> {
  const leader = await system.target.waitForLeader(LEADER_TIMEOUT_MS);
  const { applied } = await system.progress(leader);
  await pollUntil(
    CATCH_UP_TIMEOUT_MS,
    100,
    async () => {
      for (let m = 0; m < system.target.members.length; m++) {
        if ((await system.progress(m)).applied < applied) throw new Error(`member ${m + 1} behind`);
      }
    },
    () => undefined,
  );
  return leader;
}

export interface KeysRun {
  readonly run: number;
  readonly snapshot: SnapshotResult;
  /** kill -9 of a follower, start on its data, until a linearizable get through it succeeds. */
  readonly restartMs: number;
  readonly restartedRssBytes: number;
  /** A follower started empty, until its applied index reached the leader's; undefined: not within emptyCatchUpLimitMs. */
  readonly catchUpMs: number | undefined;
  /** Its applied index and the leader's when it caught up or the limit passed. */
  readonly catchUpApplied: readonly [member: number, leader: number];
  readonly caughtUpRssBytes: number;
  /** Whether the leader's term changed while the empty member caught up (an election). */
  readonly catchUpTermChanged: boolean;
}

const followerOf = (leader: number) => (leader + 1) % 3;

export async function measureKeysRun(
  system: ScaleSystem,
  run: number,
  keys: number,
  scratchDir: string,
): Promise<KeysRun> {
  const { target } = system;
  const snapshot = await system.snapshot(await target.waitForLeader(LEADER_TIMEOUT_MS), scratchDir);

  let follower = followerOf(await waitAllApplied(system));
  await target.kill(follower);
  let started = performance.now();
  target.restart(follower);
  await pollUntil(
    CATCH_UP_TIMEOUT_MS,
    POLL_MS,
    () => target.get(follower, 0, key(0), FAULT_REQUEST_TIMEOUT_MS),
    () =>
      target.members[follower]!.running ? undefined : target.members[follower]!.describeExit(),
  );
  const restartMs = performance.now() - started;
  const restartedRssBytes = target.members[follower]!.rssBytes();

  const leader = await waitAllApplied(system);
  follower = followerOf(leader);
  const termBefore = (await system.progress(leader)).term;
  await target.kill(follower);
  await system.startEmpty(follower);
  started = performance.now();
  let catchUpApplied: [number, number] = [0, 0];
  let catchUpMs: number | undefined;
  try {
    await pollUntil(
      emptyCatchUpLimitMs(keys),
      POLL_MS * 5,
      async () => {
        const { applied } = await system.progress(leader);
        catchUpApplied = [(await system.progress(follower)).applied, applied];
        if (catchUpApplied[0] < applied) throw new Error(`member ${follower + 1} is behind`);
      },
      () =>
        target.members[follower]!.running ? undefined : target.members[follower]!.describeExit(),
    );
    catchUpMs = performance.now() - started;
  } catch (error) {
    if (!target.members[follower]!.running) throw error;
    // Still behind at the limit: reported so; the caller stops measuring this cluster.
  }
  // The old leader's term shows an election even if it lost; a stuck member names no leader.
  const termAfter = (await system.progress(leader)).term;
  return {
    run,
    snapshot,
    restartMs,
    restartedRssBytes,
    catchUpMs,
    catchUpApplied,
    caughtUpRssBytes: target.members[follower]!.rssBytes(),
    catchUpTermChanged: termAfter !== termBefore,
  };
}

export type Group = 'spread' | 'leader';

export interface PartitionRun {
  readonly run: number;
  readonly cutMember: number;
  /** Entries the cut member was behind the leader when healed. */
  readonly behindAtHeal: number;
  /** From the heal until its applied index reached the leader's; undefined: not within the limit. */
  readonly catchUpMs: number | undefined;
  readonly termChanged: boolean;
  readonly phases: Record<Group, Record<'before' | 'during' | 'after', PhaseFigures>>;
}

/**
 * Two groups of closed-loop put clients at once: `spread` (client i to member i mod 3, so a
 * third of them talk to the member that will be cut off) and `leader`. After PARTITION.beforeMs
 * a follower is cut off from its peers for `partitionMs`, then healed; load goes on until it has
 * caught up and PARTITION.afterMs have passed since the heal.
 */
export async function measurePartitionRun(
  system: ScaleSystem,
  options: { run: number; partitionMs: number; clients: number; keys: number; channels: number },
): Promise<PartitionRun> {
  const { target } = system;
  const value = randomBytes(64);
  const leader = await waitAllApplied(system);
  const cut = followerOf(leader);
  const termBefore = (await system.progress(leader)).term;
  const put = (member: number, client: number) =>
    target.put(
      member,
      client % options.channels,
      key(randomInt(options.keys)),
      value,
      FAULT_REQUEST_TIMEOUT_MS,
    );
  const loads = {
    spread: startLoad(options.clients, (c) => put(c % 3, c)),
    leader: startLoad(options.clients, (c) => put(leader, c)),
  };
  let cutAt = 0;
  let healedAt = 0;
  let behindAtHeal = 0;
  let catchUpMs: number | undefined;
  try {
    await sleep(PARTITION.beforeMs);
    const heal = await system.cutOff(cut, options.partitionMs);
    cutAt = performance.now();
    try {
      await sleep(options.partitionMs);
    } finally {
      await heal();
      healedAt = performance.now();
    }
    behindAtHeal = await lag(system, leader, cut);
    try {
      await pollUntil(
        PARTITION.catchUpTimeoutMs,
        POLL_MS * 5,
        async () => {
          const behind = await lag(
            system,
            await target.waitForLeader(FAULT_REQUEST_TIMEOUT_MS),
            cut,
          );
          if (behind > 0) throw new Error(`${behind} entries behind`);
        },
        () => undefined,
      );
      catchUpMs = performance.now() - healedAt;
    } catch {
      // Not caught up within the limit: reported as such.
    }
    const left = healedAt + PARTITION.afterMs - performance.now();
    if (left > 0) await sleep(left);
  } finally {
    await Promise.all([loads.spread.stop(), loads.leader.stop()]);
  }
  const termAfter = (await system.progress(await target.waitForLeader(LEADER_TIMEOUT_MS))).term;
  const phasesOf = (group: Group) => ({
    before: phase(loads[group].samples, cutAt - PARTITION.beforeMs, cutAt),
    during: phase(loads[group].samples, cutAt, healedAt),
    after: phase(loads[group].samples, healedAt, healedAt + PARTITION.afterMs),
  });
  return {
    run: options.run,
    cutMember: cut,
    behindAtHeal,
    catchUpMs,
    termChanged: termAfter !== termBefore,
    phases: { spread: phasesOf('spread'), leader: phasesOf('leader') },
  };
}

/** How many entries `member` has applied fewer than `leader` (read first). */
async function lag(system: ScaleSystem, leader: number, member: number): Promise<number> {
  const { applied } = await system.progress(leader);
  return Math.max(0, applied - (await system.progress(member)).applied);
}
