// The backstop that ends networkpolicy partitions nobody else ends: a run that died, a controller
// that restarted without its memory, an experiment deleted while its partition held (the garbage
// collector removes the owned policies but not the labels on the pods, and a labelled pod matches
// none of the chart's allow policies: without this it would stay cut off from everything).
import { abortableSleep } from '@catmesh/chaos';
import { PARTITION_LABEL, PARTITION_PEER_LABEL } from '@catmesh/netpol';
import {
  healPartition,
  listPartitions,
  releasePod,
  type PartitionApis,
} from './partition-objects.js';

export interface SweepOptions extends PartitionApis {
  /** Epoch milliseconds. */
  readonly now: number;
}

export interface ExpiredPartition {
  readonly partition: string;
  readonly policies: readonly string[];
  readonly pods: readonly string[];
  /** The annotation as found, when it was not a time: the partition was ended to be safe. */
  readonly malformedExpiry?: string;
}

export interface OrphanedLabel {
  readonly pod: string;
  readonly label: string;
  readonly partition: string;
}

export interface SweepResult {
  /** Partitions past their expiry, ended. */
  readonly expired: readonly ExpiredPartition[];
  /** Partition labels removed from pods whose partition has no policy left. */
  readonly orphaned: readonly OrphanedLabel[];
}

/** Ends the partitions of `namespace` that are past their expiry, and frees orphaned pods. */
export async function sweepPartitions(options: SweepOptions): Promise<SweepResult> {
  const { core, namespace, now } = options;
  // Pods before policies: a partition labels its pods only after its policies exist, so a
  // label seen here has its policies in the list below, unless they were deleted since, in
  // which case the label is an orphan indeed. Listed the other way round, a partition applied
  // between the two reads would look orphaned and be healed at birth.
  const labelled = (
    await Promise.all(
      [PARTITION_LABEL, PARTITION_PEER_LABEL].map(async (label) =>
        (await core.listNamespacedPod({ namespace, labelSelector: label })).items.flatMap((pod) => {
          const partition = pod.metadata?.labels?.[label];
          const name = pod.metadata?.name;
          return partition === undefined || name === undefined
            ? []
            : [{ seen: pod, orphan: { pod: name, label, partition } }];
        }),
      ),
    )
  ).flat();
  const partitions = await listPartitions(options, PARTITION_LABEL);
  const expired: ExpiredPartition[] = [];
  for (const [partition, { policies, expiries }] of partitions) {
    const times = expiries.map((text) => (text === undefined ? NaN : Date.parse(text)));
    // An unreadable expiry (NaN, never later than now) ends the partition at once: one whose
    // end cannot be read would otherwise last for ever.
    if (times.every((time) => time > now)) continue;
    const unreadable = times.findIndex((time) => Number.isNaN(time));
    const pods = await healPartition(options, partition, policies);
    expired.push({
      partition,
      policies,
      pods,
      ...(unreadable >= 0 && { malformedExpiry: expiries[unreadable] ?? '(none)' }),
    });
  }
  const orphans = labelled.filter(({ orphan }) => !partitions.has(orphan.partition));
  await Promise.all(
    orphans.map(({ seen, orphan }) => releasePod(options, seen, orphan.label, orphan.partition)),
  );
  return { expired, orphaned: orphans.map(({ orphan }) => orphan) };
}

export interface SweeperLoopOptions extends PartitionApis {
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  /** After a sweep that ended or freed something. */
  readonly onSweep: (result: SweepResult) => void;
  /** A failed sweep; the next one comes an interval later all the same. */
  readonly onError: (error: unknown) => void;
  readonly now?: () => number;
}

/**
 * Sweeps every `intervalMs` until `signal` aborts, the first an interval from now (the controller
 * has swept once already, before anything else); resolves then.
 */
export async function runPartitionSweeper(options: SweeperLoopOptions): Promise<void> {
  const { signal, intervalMs, onSweep, onError } = options;
  const now = options.now ?? Date.now;
  for (;;) {
    await abortableSleep(intervalMs, signal);
    if (signal.aborted) return;
    try {
      const result = await sweepPartitions({ ...options, now: now() });
      if (result.expired.length > 0 || result.orphaned.length > 0) onSweep(result);
    } catch (error) {
      onError(error);
    }
  }
}
