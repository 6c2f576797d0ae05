// Leader election on a coordination.k8s.io/v1 Lease, so that of several controller replicas only
// the holder acts (Leases: "Leader election",
// https://kubernetes.io/docs/concepts/architecture/leases/#leader-election). client-node has none;
// this follows client-go's tools/leaderelection (LeaseLock, LeaseDuration, RenewDeadline,
// RetryPeriod, ReleaseOnCancel), with one change: a leader that sees another holder stops at once
// instead of at its renew deadline.
//
// Safety rests on two things only: optimistic concurrency (every write carries the
// resourceVersion it read) and time measured locally on a monotonic clock. A candidate never
// compares the record's renewTime with its own wall clock (the clocks of two machines disagree);
// it waits leaseDuration from the moment *it* saw the record change. The leader stops
// renewDeadline after *sending* its last successful renewal, which a follower can only have seen
// later; renewDeadline < leaseDuration is the margin, and it holds as long as both replicas'
// clocks run at the same rate.
import { setTimeout as delay } from 'node:timers/promises';
import {
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type CoordinationV1Api,
  type V1Lease,
} from '@kubernetes/client-node';
import type { Logger } from '@catmesh/runtime';
import { statusCodeOf } from './kube-apis.js';

/** The calls the election makes: RBAC needs get, create and update on leases, nothing more. */
export type LeaseApi = Pick<
  CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

export interface LeaseElectionDeps {
  readonly api: LeaseApi;
  readonly logger: Logger;
}

export interface LeaseElectionOptions {
  readonly namespace: string;
  readonly name: string;
  /** Unique per replica (the pod name): written as holderIdentity. */
  readonly identity: string;
  /**
   * How long a candidate waits after it last saw the lease change before taking it. A whole
   * number of seconds, because the Lease stores leaseDurationSeconds and rounding it either way
   * would break the margin below renewDeadlineMs or wait longer than asked.
   */
  readonly leaseDurationMs: number;
  /** The leader stops leading when it has not renewed for this long; less than leaseDurationMs. */
  readonly renewDeadlineMs: number;
  /** The pause between attempts to acquire or renew; less than renewDeadlineMs, so a leader gets a retry. */
  readonly retryPeriodMs: number;
  /**
   * On stop, hand the lease over at once (client-go's ReleaseOnCancel), or leave it to expire
   * as a crash would. Releasing is only safe because the work guarded by the lease has stopped
   * by then: see `onStoppedLeading`.
   */
  readonly releaseOnStop: boolean;
}

export interface LeaseElectionCallbacks {
  /**
   * This replica holds the lease until `signal` aborts. Called again, with a new signal, each
   * time leadership is regained.
   */
  onStartedLeading(signal: AbortSignal): void;
  /**
   * Leadership ended (lost, not renewed in time, or stopped). Awaited before the lease is
   * released or taken again, so the guarded work can finish stopping first.
   */
  onStoppedLeading(): void | Promise<void>;
  /** A holder was seen, this replica or another: for logs and status, never for decisions. */
  onNewLeader?(identity: string): void;
}

/**
 * Campaigns for the lease until `signal` aborts, then stops leading, releases the lease when
 * `releaseOnStop` says so, and resolves. API errors are logged and retried every retry period.
 * An attempt in flight when `signal` aborts is let finish (it is bounded by renewDeadlineMs), so
 * the release is written against the latest version of the lease. A callback that throws rejects
 * the returned promise, after its leadership signal aborted and without a release.
 */
export async function runLeaderElection(
  deps: LeaseElectionDeps,
  options: LeaseElectionOptions,
  callbacks: LeaseElectionCallbacks,
  signal: AbortSignal,
): Promise<void> {
  checkOptions(options);
  await new LeaseElector(deps, options, callbacks).run(signal);
}

function checkOptions(options: LeaseElectionOptions): void {
  for (const key of ['namespace', 'name', 'identity'] as const) {
    // An empty identity would read as "nobody holds the lease".
    if (options[key] === '') throw new Error(`leader election: ${key} must not be empty`);
  }
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = options;
  if (
    !Number.isSafeInteger(leaseDurationMs) ||
    leaseDurationMs <= 0 ||
    leaseDurationMs % 1000 !== 0
  ) {
    throw new Error(
      `leader election: leaseDurationMs must be a positive whole number of seconds, got ${leaseDurationMs}`,
    );
  }
  if (!(renewDeadlineMs > 0 && renewDeadlineMs < leaseDurationMs)) {
    throw new Error(
      `leader election: renewDeadlineMs must be positive and less than leaseDurationMs (${leaseDurationMs}), got ${renewDeadlineMs}`,
    );
  }
  if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs)) {
    throw new Error(
      `leader election: retryPeriodMs must be positive and less than renewDeadlineMs (${renewDeadlineMs}), got ${retryPeriodMs}`,
    );
  }
}

/** What one attempt learnt: the lease is ours, someone else's, or unknown (no usable answer). */
type Outcome = 'held' | 'lost' | 'unknown';

interface Observed {
  /** The latest lease read or written, whose resourceVersion the next write carries. */
  readonly lease: V1Lease;
  /** The election record's fields, to tell a change from a re-read of the same record. */
  readonly record: string;
  /** Monotonic time at which this record was first seen. */
  readonly at: number;
}

interface Term {
  readonly controller: AbortController;
  /** Monotonic time past which a follower might take the lease. */
  readonly deadline: number;
}

class LeaseElector {
  private observed: Observed | undefined;
  private term: Term | undefined;
  private reportedLeader = '';

  constructor(
    private readonly deps: LeaseElectionDeps,
    private readonly options: LeaseElectionOptions,
    private readonly callbacks: LeaseElectionCallbacks,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        await this.stopIfPastDeadline();
        const startedAt = performance.now();
        // The leader's attempt must end by its deadline; a candidate's just must not hang.
        const budget = this.term ? this.term.deadline - startedAt : this.options.renewDeadlineMs;
        const outcome = await withBudget(budget, (attempt) => this.tryAcquireOrRenew(attempt));
        if (outcome === 'held' && !signal.aborted) this.lead(startedAt);
        if (outcome === 'lost') await this.stopLeading();
        await this.stopIfPastDeadline();
        await pause(this.untilNextAttempt(), signal);
      }
    } finally {
      // Whatever ended the loop, even a throwing callback, the guarded work is told to stop.
      await this.stopLeading();
    }
    if (this.options.releaseOnStop) await this.release();
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Outcome> {
    const { identity } = this.options;
    const observed = this.observed;
    if (this.term !== undefined && observed !== undefined) {
      // The leader's fast path, as in client-go: update the lease it last wrote, one request.
      try {
        this.observe(await this.replace(renewal(observed.lease, this.leaseSeconds()), signal));
        return 'held';
      } catch (error) {
        // A conflict means the lease changed since, a 404 that it is gone: read it and decide.
        const status = statusCodeOf(error);
        if (status !== 409 && status !== 404) return this.failed('renew', error);
      }
    }
    let current: V1Lease;
    try {
      current = await call((o) => this.deps.api.readNamespacedLease(this.target(), o), signal);
    } catch (error) {
      if (statusCodeOf(error) !== 404) return this.failed('read', error);
      // A deleted lease is anyone's to create at once, so a leader stops before it re-creates.
      return this.term === undefined ? this.create(signal) : 'lost';
    }
    this.observe(current);
    const holder = current.spec?.holderIdentity ?? '';
    if (holder !== identity) {
      // A leader that sees another holder has lost the lease, whenever that happened: it stops
      // before it may campaign again.
      if (this.term !== undefined) return 'lost';
      if (holder !== '' && !this.expired()) return 'lost';
    }
    const next =
      holder === identity
        ? renewal(current, this.leaseSeconds())
        : takeover(current, identity, this.leaseSeconds());
    try {
      this.observe(await this.replace(next, signal));
      return 'held';
    } catch (error) {
      // 409 Conflict: another candidate wrote first; the next read says who.
      return this.failed(holder === identity ? 'renew' : 'acquire', error);
    }
  }

  private async create(signal: AbortSignal): Promise<Outcome> {
    const { namespace, name, identity } = this.options;
    const time = new V1MicroTime(Date.now());
    const body: V1Lease = {
      metadata: { name, namespace },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseSeconds(),
        acquireTime: time,
        renewTime: time,
        leaseTransitions: 0,
      },
    };
    try {
      this.observe(
        await call((o) => this.deps.api.createNamespacedLease({ namespace, body }, o), signal),
      );
      return 'held';
    } catch (error) {
      // 409 AlreadyExists: another candidate created it first; the next read says who.
      return this.failed('create', error);
    }
  }

  /** Hands the lease over at once: no holder, and a one-second duration for older candidates. */
  private async release(): Promise<void> {
    const observed = this.observed;
    if (observed === undefined || observed.lease.spec?.holderIdentity !== this.options.identity) {
      return;
    }
    const time = new V1MicroTime(Date.now());
    const body: V1Lease = {
      ...observed.lease,
      spec: {
        ...observed.lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: time,
        renewTime: time,
      },
    };
    try {
      this.observe(
        await withBudget(this.options.renewDeadlineMs, (signal) => this.replace(body, signal)),
      );
    } catch (error) {
      this.deps.logger.warn(
        { err: error, lease: this.describe() },
        'could not release the lease; it passes on when it expires',
      );
    }
  }

  private lead(sentAt: number): void {
    const deadline = sentAt + this.options.renewDeadlineMs;
    if (this.term !== undefined) {
      this.term = { ...this.term, deadline };
      return;
    }
    // A write confirmed later than renewDeadline after it was sent earns no term.
    if (performance.now() >= deadline) return;
    const controller = new AbortController();
    this.term = { controller, deadline };
    this.deps.logger.info({ lease: this.describe() }, 'started leading');
    this.callbacks.onStartedLeading(controller.signal);
  }

  private async stopIfPastDeadline(): Promise<void> {
    if (this.term === undefined || performance.now() < this.term.deadline) return;
    this.deps.logger.warn(
      { lease: this.describe(), renewDeadlineMs: this.options.renewDeadlineMs },
      'could not renew the lease in time; stopping leading',
    );
    await this.stopLeading();
  }

  private async stopLeading(): Promise<void> {
    const term = this.term;
    if (term === undefined) return;
    this.term = undefined;
    term.controller.abort(new Error(`no longer the holder of lease ${this.describe()}`));
    this.deps.logger.info({ lease: this.describe() }, 'stopped leading');
    await this.callbacks.onStoppedLeading();
  }

  /** A leader wakes by its deadline, so it stops on time even when every attempt fails. */
  private untilNextAttempt(): number {
    const { retryPeriodMs } = this.options;
    if (this.term === undefined) return retryPeriodMs;
    return Math.max(0, Math.min(retryPeriodMs, this.term.deadline - performance.now()));
  }

  private observe(lease: V1Lease): void {
    const spec = lease.spec;
    // client-node leaves MicroTime fields as the server's strings on read, and writes a
    // V1MicroTime as its ISO text: JSON compares both the same way.
    const record = JSON.stringify([
      spec?.holderIdentity ?? '',
      spec?.leaseDurationSeconds ?? 0,
      spec?.acquireTime,
      spec?.renewTime,
      spec?.leaseTransitions ?? 0,
    ]);
    this.observed =
      this.observed?.record === record
        ? { ...this.observed, lease }
        : { lease, record, at: performance.now() };
    const holder = spec?.holderIdentity ?? '';
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (holder !== '') this.callbacks.onNewLeader?.(holder);
  }

  /** Whether leaseDurationSeconds of the record, counted from when it was seen here, have passed. */
  private expired(): boolean {
    const observed = this.observed;
    if (observed === undefined) return true;
    const seconds = observed.lease.spec?.leaseDurationSeconds ?? 0;
    return performance.now() >= observed.at + seconds * 1000;
  }

  private replace(body: V1Lease, signal: AbortSignal): Promise<V1Lease> {
    return call((o) => this.deps.api.replaceNamespacedLease({ ...this.target(), body }, o), signal);
  }

  private failed(action: string, error: unknown): Outcome {
    const status = statusCodeOf(error);
    const context = { err: error, lease: this.describe(), status };
    if (status === 409) this.deps.logger.info(context, `${action} lost a race for the lease`);
    else this.deps.logger.warn(context, `${action} of the lease failed; retrying`);
    return 'unknown';
  }

  private leaseSeconds(): number {
    return this.options.leaseDurationMs / 1000;
  }

  private target(): { name: string; namespace: string } {
    return { name: this.options.name, namespace: this.options.namespace };
  }

  private describe(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }
}

/** The same holder's next record: acquireTime and leaseTransitions stay. */
function renewal(lease: V1Lease, leaseDurationSeconds: number): V1Lease {
  return {
    ...lease,
    spec: { ...lease.spec, leaseDurationSeconds, renewTime: new V1MicroTime(Date.now()) },
  };
}

function takeover(lease: V1Lease, identity: string, leaseDurationSeconds: number): V1Lease {
  const time = new V1MicroTime(Date.now());
  return {
    ...lease,
    spec: {
      ...lease.spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: time,
      renewTime: time,
      leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1,
    },
  };
}

/** Runs `work` with a signal that aborts after `ms`. */
async function withBudget<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${ms} ms`)), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One API call that ends when `signal` aborts: the signal reaches the HTTP request (freeing its
 * connection), and the race settles the call even if a request ignored it.
 */
function call<T>(
  request: (options: ConfigurationOptions) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  const aborted = new Promise<never>((_, reject) => {
    const abort = (): void => reject(signal.reason as Error);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
  const options: ConfigurationOptions = {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal);
          return new Observable(Promise.resolve(context));
        },
        post: (context) => new Observable(Promise.resolve(context)),
      },
    ],
    // Keep the kubeconfig's own middleware (the User-Agent header).
    middlewareMergeStrategy: 'append',
  };
  return Promise.race([request(options), aborted]);
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  // An abort ends the pause early and is not an error: the loop then sees `signal.aborted`.
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
