// Leader election on a Lease against the fake API server, through the real client-node client.
// The semantics come from Leases: "Leader election"
// (https://kubernetes.io/docs/concepts/architecture/leases/#leader-election) and client-go's
// tools/leaderelection. Timings are short, but no test asserts that something happens fast: the
// bounds asserted are lower bounds (a slow machine only makes things later) or order, and the
// waits are vi.waitFor with generous timeouts.
//
// Why the safety checks are sound in one process: both candidates share one monotonic clock and
// one event loop, so "both clocks run at the same rate", the condition client-go's guarantee
// rests on, holds by construction. The checks compare the candidates' beliefs with the holder of
// record in the server's store, read synchronously, never with wall-clock time.
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@catmesh/runtime';
import { builtInType, startFakeApiServer, type FakeApiServer } from '@catmesh/testkit';
import {
  runLeaderElection,
  type LeaseApi,
  type LeaseElectionOptions,
} from '../src/leader-lease.js';

const LEASES = builtInType('coordination.k8s.io', 'leases');
const NAMESPACE = 'default';
const LEASE = 'chaos-controller';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
// Safety nets for a loaded machine, never performance assertions.
const PATIENCE = { timeout: 30_000, interval: 20 };
const logger = createLogger({ service: 'chaos-controller', instance: 'test', level: 'silent' });

const SHORT: Omit<LeaseElectionOptions, 'identity'> = {
  namespace: NAMESPACE,
  name: LEASE,
  leaseDurationMs: 2000,
  renewDeadlineMs: 1000,
  retryPeriodMs: 200,
  releaseOnStop: true,
};

let server: FakeApiServer;
let kubeconfig: string;
let running: Candidate[];
let stopWatching: () => void;
let writes: LeaseWrite[];

beforeEach(async () => {
  server = await startFakeApiServer();
  kubeconfig = await server.kubeconfig('admin');
  running = [];
  writes = [];
  stopWatching = server.store.watch({
    type: LEASES,
    namespace: NAMESPACE,
    resourceVersion: undefined,
    selector: () => true,
    onEvent: ({ object }) => {
      const spec = object.spec as LeaseRecord;
      writes.push({
        at: performance.now(),
        lease: object.metadata.name,
        holder: spec.holderIdentity ?? '',
        transitions: spec.leaseTransitions ?? 0,
      });
    },
  });
});

afterEach(async () => {
  await Promise.all(running.map((candidate) => candidate.stop()));
  stopWatching();
  await server.close();
});

/** The Lease spec as stored: MicroTimes are the strings the server keeps. */
interface LeaseRecord {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** One write to a Lease as the store committed it, timed on the candidates' clock. */
interface LeaseWrite {
  readonly at: number;
  readonly lease: string;
  readonly holder: string;
  readonly transitions: number;
}

function recordOf(name = LEASE): LeaseRecord {
  return server.store.get(LEASES, NAMESPACE, name).spec as LeaseRecord;
}

function apiClient(): CoordinationV1Api {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  return config.makeApiClient(CoordinationV1Api);
}

interface Candidate {
  readonly identity: string;
  leading: boolean;
  /** One signal per term, in order. */
  readonly terms: AbortSignal[];
  readonly startedAt: number[];
  readonly stoppedAt: number[];
  readonly newLeaders: string[];
  /** Set if runLeaderElection settled before stop() was called. */
  settledEarly: boolean;
  stop(): Promise<void>;
}

/**
 * Never two leaders, and a leader is always the holder of record. Checked at every start and
 * sampled every few milliseconds: the store is read in the same tick as the candidates' flags,
 * so the check itself cannot race.
 */
class SafetyMonitor {
  readonly violations: string[] = [];
  private readonly sampler: NodeJS.Timeout;

  constructor(
    private readonly candidates: readonly Candidate[],
    private readonly name = LEASE,
  ) {
    this.sampler = setInterval(() => this.check('sample'), 5);
  }

  check(when: string): void {
    const leaders = this.candidates.filter((candidate) => candidate.leading);
    if (leaders.length > 1) {
      this.violations.push(`${when}: ${leaders.map((l) => l.identity).join(' and ')} lead at once`);
    }
    for (const leader of leaders) {
      const holder = recordOf(this.name).holderIdentity;
      if (holder !== leader.identity) {
        this.violations.push(`${when}: ${leader.identity} leads but the holder is ${holder}`);
      }
    }
  }

  close(): void {
    clearInterval(this.sampler);
  }
}

function startCandidate(
  identity: string,
  options: Partial<LeaseElectionOptions> = {},
  api: LeaseApi = apiClient(),
  monitor?: SafetyMonitor,
): Candidate {
  const controller = new AbortController();
  const candidate: Candidate = {
    identity,
    leading: false,
    terms: [],
    startedAt: [],
    stoppedAt: [],
    newLeaders: [],
    settledEarly: false,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
  const done = runLeaderElection(
    { api, logger },
    { ...SHORT, identity, ...options },
    {
      onStartedLeading: (signal) => {
        candidate.leading = true;
        candidate.terms.push(signal);
        candidate.startedAt.push(performance.now());
        monitor?.check(`${identity} started leading`);
      },
      onStoppedLeading: () => {
        candidate.leading = false;
        candidate.stoppedAt.push(performance.now());
      },
      onNewLeader: (leader) => candidate.newLeaders.push(leader),
    },
    controller.signal,
  ).finally(() => {
    if (!controller.signal.aborted) candidate.settledEarly = true;
  });
  running.push(candidate);
  return candidate;
}

/** A client whose requests, once cut, are never answered: the API black-holed for one replica. */
function cuttable(api: LeaseApi): { readonly api: LeaseApi; cut(): void } {
  let cut = false;
  const never = new Promise<never>(() => undefined);
  return {
    api: {
      readNamespacedLease: (...args) => (cut ? never : api.readNamespacedLease(...args)),
      createNamespacedLease: (...args) => (cut ? never : api.createNamespacedLease(...args)),
      replaceNamespacedLease: (...args) => (cut ? never : api.replaceNamespacedLease(...args)),
    },
    cut: () => (cut = true),
  };
}

function writesTo(name = LEASE): LeaseWrite[] {
  return writes.filter((write) => write.lease === name);
}

describe('runLeaderElection', () => {
  it('acquires a free lease, renews it, and releases it on stop', async () => {
    const a = startCandidate('a');
    await vi.waitFor(() => expect(a.leading).toBe(true), PATIENCE);
    const first = recordOf();
    expect(first).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 2 });
    expect(first.acquireTime).toMatch(MICRO_TIME);
    expect(first.renewTime).toMatch(MICRO_TIME);
    // Renewing is not a transition: leaseTransitions counts changes of holder.
    expect(first.leaseTransitions).toBe(0);

    await vi.waitFor(() => expect(recordOf().renewTime! > first.renewTime!).toBe(true), PATIENCE);
    expect(recordOf()).toMatchObject({
      holderIdentity: 'a',
      acquireTime: first.acquireTime,
      leaseTransitions: 0,
    });
    expect(a.newLeaders).toEqual(['a']);

    await a.stop();
    expect(a.terms).toHaveLength(1);
    expect(a.terms[0]!.aborted).toBe(true);
    expect(a.stoppedAt).toHaveLength(1);
    // Released: no holder and a one-second duration, so a successor need not wait.
    expect(recordOf()).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(a.settledEarly).toBe(false);
  });

  it('lets one of two candidates lead and hands over at once when the leader releases', async () => {
    // A lease of five minutes: the follower can only take over within the test's patience if the
    // release hands the lease over, not by waiting for it to expire.
    const options = { leaseDurationMs: 300_000 };
    const candidates: Candidate[] = [];
    const monitor = new SafetyMonitor(candidates);
    try {
      candidates.push(
        startCandidate('a', options, apiClient(), monitor),
        startCandidate('b', options, apiClient(), monitor),
      );
      await vi.waitFor(() => expect(candidates.some((c) => c.leading)).toBe(true), PATIENCE);
      const leader = candidates.find((c) => c.leading)!;
      const follower = candidates.find((c) => c !== leader)!;
      // Both raced to create the lease; exactly one create won (409 AlreadyExists for the other).
      expect(recordOf()).toMatchObject({ holderIdentity: leader.identity, leaseTransitions: 0 });
      // Let several renewals happen while the follower keeps trying.
      const renewals = writesTo().length;
      await vi.waitFor(() => expect(writesTo().length).toBeGreaterThan(renewals + 3), PATIENCE);
      expect(follower.leading).toBe(false);
      expect(follower.newLeaders).toContain(leader.identity);

      await leader.stop();
      await vi.waitFor(() => expect(follower.leading).toBe(true), PATIENCE);
      const released = writesTo().findLast((w) => w.holder === '')!;
      const takeover = writesTo().find((w) => w.holder === follower.identity)!;
      expect(takeover.at - released.at).toBeLessThan(300_000);
      expect(recordOf()).toMatchObject({ holderIdentity: follower.identity, leaseTransitions: 1 });
      expect(follower.startedAt[0]!).toBeGreaterThan(leader.stoppedAt[0]!);
    } finally {
      monitor.close();
    }
    expect(monitor.violations).toEqual([]);
  });

  it('replaces a leader that vanished without releasing only after the lease duration', async () => {
    const candidates: Candidate[] = [];
    const monitor = new SafetyMonitor(candidates);
    try {
      const a = startCandidate('a', { releaseOnStop: false }, apiClient(), monitor);
      candidates.push(a);
      await vi.waitFor(() => expect(a.leading).toBe(true), PATIENCE);
      const b = startCandidate('b', {}, apiClient(), monitor);
      candidates.push(b);
      await vi.waitFor(() => expect(b.newLeaders).toEqual(['a']), PATIENCE);

      // A crash, as far as the lease can tell: a stops writing and hands nothing over.
      await a.stop();
      expect(recordOf().holderIdentity).toBe('a');
      await vi.waitFor(() => expect(b.leading).toBe(true), PATIENCE);

      // b saw a's last renewal no earlier than the store committed it, and waits the lease's
      // duration from that sighting: its takeover commits at least that long after.
      const lastRenewal = writesTo().findLast((w) => w.holder === 'a')!;
      const takeover = writesTo().find((w) => w.holder === 'b')!;
      expect(takeover.at - lastRenewal.at).toBeGreaterThanOrEqual(SHORT.leaseDurationMs);
      expect(recordOf()).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
      expect(b.newLeaders).toEqual(['a', 'b']);
    } finally {
      monitor.close();
    }
    expect(monitor.violations).toEqual([]);
  });

  it('stops a leader that cannot reach the API before anyone can take over', async () => {
    const candidates: Candidate[] = [];
    const monitor = new SafetyMonitor(candidates);
    try {
      const link = cuttable(apiClient());
      const a = startCandidate('a', {}, link.api, monitor);
      candidates.push(a);
      await vi.waitFor(() => expect(a.leading).toBe(true), PATIENCE);
      const b = startCandidate('b', {}, apiClient(), monitor);
      candidates.push(b);
      await vi.waitFor(() => expect(b.newLeaders).toEqual(['a']), PATIENCE);

      link.cut();
      await vi.waitFor(() => expect(a.stoppedAt).toHaveLength(1), PATIENCE);
      expect(a.terms[0]!.aborted).toBe(true);
      await vi.waitFor(() => expect(b.leading).toBe(true), PATIENCE);

      // a stopped on its own clock, without an answer from the API, and before b's takeover.
      const takeover = writesTo().find((w) => w.holder === 'b')!;
      expect(a.stoppedAt[0]!).toBeLessThan(takeover.at);
      expect(a.leading).toBe(false);
      expect(recordOf()).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
      expect(a.settledEarly).toBe(false);
    } finally {
      monitor.close();
    }
    expect(monitor.violations).toEqual([]);
  });

  it('keeps campaigning through API errors and leads again when the API is back', async () => {
    const a = startCandidate('a');
    await vi.waitFor(() => expect(a.leading).toBe(true), PATIENCE);
    // Every request now fails with 503 ServiceUnavailable.
    const outage = server.interrupt();
    await vi.waitFor(() => expect(a.leading).toBe(false), PATIENCE);
    expect(a.terms[0]!.aborted).toBe(true);

    outage.resume();
    await vi.waitFor(() => expect(a.terms).toHaveLength(2), PATIENCE);
    expect(a.leading).toBe(true);
    expect(a.terms[1]!.aborted).toBe(false);
    // The record never left a: regaining it is a renewal, not a transition.
    expect(recordOf()).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
    expect(a.settledEarly).toBe(false);
  });

  it("judges expiry by its own sighting of the record, never by the record's renewTime", async () => {
    // Written by holders whose clocks are far off: one says it renewed in 2000, one in 2100.
    // A candidate comparing renewTime with its own clock would take the first at once and the
    // second never; both must be taken after the lease duration from the candidate's sighting.
    const skewed = { past: '2000-01-01T00:00:00.000000Z', future: '2100-01-01T00:00:00.000000Z' };
    for (const [name, renewTime] of Object.entries(skewed)) {
      server.store.create(LEASES, NAMESPACE, {
        metadata: { name },
        spec: {
          holderIdentity: 'ghost',
          leaseDurationSeconds: 2,
          acquireTime: renewTime,
          renewTime,
          leaseTransitions: 0,
        },
      });
    }
    const startedAt = performance.now();
    const past = startCandidate('a', { name: 'past' });
    const future = startCandidate('b', { name: 'future' });
    await vi.waitFor(() => expect(past.leading && future.leading).toBe(true), PATIENCE);

    for (const name of Object.keys(skewed)) {
      const takeover = writesTo(name).find((w) => w.holder !== 'ghost')!;
      expect(takeover.at - startedAt).toBeGreaterThanOrEqual(2000);
      expect(recordOf(name).leaseTransitions).toBe(1);
    }
  });

  it.each([
    [{ namespace: '' }, 'namespace'],
    [{ name: '' }, 'name'],
    [{ identity: '' }, 'identity'],
    [{ leaseDurationMs: 0 }, 'leaseDurationMs'],
    [{ leaseDurationMs: Number.NaN }, 'leaseDurationMs'],
    // The Lease stores whole seconds.
    [{ leaseDurationMs: 1500 }, 'leaseDurationMs'],
    [{ renewDeadlineMs: 0 }, 'renewDeadlineMs'],
    [{ renewDeadlineMs: 2000 }, 'renewDeadlineMs'],
    [{ retryPeriodMs: -1 }, 'retryPeriodMs'],
    [{ retryPeriodMs: 1000 }, 'retryPeriodMs'],
  ] as const)('refuses %o, naming %s, before calling the API', async (bad, option) => {
    const calls: string[] = [];
    const untouched: LeaseApi = {
      readNamespacedLease: () => Promise.reject(new Error(String(calls.push('read')))),
      createNamespacedLease: () => Promise.reject(new Error(String(calls.push('create')))),
      replaceNamespacedLease: () => Promise.reject(new Error(String(calls.push('replace')))),
    };
    const callbacks = { onStartedLeading: vi.fn(), onStoppedLeading: vi.fn() };
    const run = runLeaderElection(
      { api: untouched, logger },
      { ...SHORT, identity: 'a', ...bad },
      callbacks,
      new AbortController().signal,
    );
    await expect(run).rejects.toThrow(new RegExp(`\\b${option}\\b`));
    expect(calls).toEqual([]);
    expect(callbacks.onStartedLeading).not.toHaveBeenCalled();
  });
});
