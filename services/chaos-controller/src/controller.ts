// The controller process's work, in the order the issue fixes:
//
// 1. Before anything else, partitions past their expiry are healed (the sweeper, once): they are
//    what a crashed controller can leave behind for longer than a step.
// 2. The sweeper goes on in the background on every replica; it only ends what has expired, so
//    two replicas sweeping at once is harmless.
// 3. Leader election on the Lease; only the holder reconciles. On taking the lease it first
//    ends every run its predecessor left Running (reverting their faults), then reconciles each
//    experiment as the informer reports it, and every resync period all of them again. On
//    losing the lease, every run here is stopped (its faults reverted) before the lease can be
//    taken by anyone else.
import type { Logger } from '@catmesh/runtime';
import { ExperimentApi } from './experiment-api.js';
import { ownerReferenceOf, type ExperimentResource } from './experiment-resource.js';
import { KubernetesMesh } from './kubernetes-mesh.js';
import type { KubeApis } from './kube-apis.js';
import { runLeaderElection } from './leader-lease.js';
import { ListWatch } from './list-watch.js';
import { runPartitionSweeper, sweepPartitions, type SweepResult } from './partition-sweeper.js';
import { Reconciler } from './reconciler.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  readonly apis: KubeApis;
  /** The namespace it watches and acts in: its own. */
  readonly namespace: string;
  /** Unique per replica (the pod name): the Lease holder and the Events' reportingInstance. */
  readonly identity: string;
  readonly leaseName: string;
  /** Label selector of the mesh's pods. */
  readonly meshSelector: string;
  readonly logger: Logger;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly sweepIntervalMs?: number;
  readonly resyncIntervalMs?: number;
  /** Whether this replica holds the lease now: for metrics and logs. */
  readonly onLeadership?: (leading: boolean) => void;
}

/** Runs until `signal` aborts; every run it started is stopped and reverted before it resolves. */
export async function runController(
  options: ControllerOptions,
  signal: AbortSignal,
): Promise<void> {
  const { apis, namespace, logger } = options;
  const partitionApis = { core: apis.core, networking: apis.networking, namespace };
  const logSweep = (result: SweepResult): void => {
    for (const partition of result.expired) {
      logger.warn(partition, 'healed an expired networkpolicy partition');
    }
    for (const orphan of result.orphaned) {
      logger.warn(orphan, 'removed a partition label whose policies were gone');
    }
  };
  try {
    logSweep(await sweepPartitions({ ...partitionApis, now: Date.now() }));
  } catch (error) {
    // The API may not answer yet; the loop below tries again.
    logger.warn({ err: error }, 'the first partition sweep failed');
  }
  const sweeper = runPartitionSweeper({
    ...partitionApis,
    intervalMs: options.sweepIntervalMs ?? 5_000,
    signal,
    onSweep: logSweep,
    onError: (error) => logger.warn({ err: error }, 'partition sweep failed'),
  });

  const api = new ExperimentApi(apis, namespace, options.identity);
  let leading: Promise<void> = Promise.resolve();
  await runLeaderElection(
    { api: apis.coordination, logger },
    {
      namespace,
      name: options.leaseName,
      identity: options.identity,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
      releaseOnStop: true,
    },
    {
      onStartedLeading: (leaderSignal) => {
        options.onLeadership?.(true);
        logger.info({ identity: options.identity }, 'leading: reconciling experiments');
        leading = lead(options, api, leaderSignal).catch((error: unknown) =>
          logger.error({ err: error }, 'leading failed'),
        );
      },
      onStoppedLeading: async () => {
        await leading;
        options.onLeadership?.(false);
        logger.info({ identity: options.identity }, 'stopped leading');
      },
      onNewLeader: (identity) => logger.info({ leader: identity }, 'lease holder'),
    },
    signal,
  );
  await sweeper;
}

async function lead(
  options: ControllerOptions,
  api: ExperimentApi,
  signal: AbortSignal,
): Promise<void> {
  const { apis, namespace, logger } = options;
  const reconciler = new Reconciler({
    api,
    logger,
    meshFor: (resource: ExperimentResource) =>
      new KubernetesMesh({
        core: apis.core,
        networking: apis.networking,
        namespace,
        podSelector: options.meshSelector,
        owner: ownerReferenceOf(resource),
      }),
  });
  const informer: ListWatch<ExperimentResource> = new ListWatch<ExperimentResource>({
    path: api.path,
    list: () => api.list(),
    watch: apis.watch,
    onChange: (key) => queue.add(key),
    onError: (error) => logger.warn({ err: error }, 'experiment watch failed; retrying'),
  });
  const queue = new WorkQueue(
    (key) => reconciler.reconcile(informer.get(key)),
    (key, error) => logger.warn({ err: error, key }, 'reconcile failed; retrying'),
  );
  // Runs a predecessor left behind come first: their faults are reverted before anything new
  // starts (a new run could select the very pods they still hold).
  try {
    for (const item of (await api.list()).items) {
      const phase = item.status?.phase;
      if (phase === 'Running' || phase === 'Recovering') await reconciler.reconcile(item);
    }
  } catch (error) {
    // The informer's reconciles retry each one with back-off.
    logger.warn({ err: error }, 'recovering interrupted runs failed; retrying through the queue');
  }
  const watching = informer.run(signal);
  const resync = setInterval(() => {
    for (const key of informer.keys()) queue.add(key);
  }, options.resyncIntervalMs ?? 30_000);
  try {
    await watching;
  } finally {
    clearInterval(resync);
    queue.stop();
    await reconciler.stopAll();
  }
}
