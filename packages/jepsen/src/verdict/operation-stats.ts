import type { KvOperationRecord } from '@catmesh/linearizability';

// Counts of operations by kind and outcome, and availability: the share of attempted operations
// that succeeded, during faults and outside them.

export type Outcome = 'ok' | 'fail' | 'info';
export type OperationCounts = Record<string, Record<Outcome, number>>;

export interface Availability {
  readonly ok: number;
  readonly attempted: number;
  /** ok / attempted, undefined when nothing was attempted. */
  readonly ratio: number | undefined;
}

export interface OperationStats {
  /** By operation (`get`, `put`, `cas`) and outcome. */
  readonly counts: OperationCounts;
  readonly total: number;
  readonly duringFaults: Availability;
  readonly outsideFaults: Availability;
}

/** `inFault` says whether an operation invoked at a time ran during a fault. */
export function operationStats(
  records: readonly KvOperationRecord[],
  inFault: (time: number) => boolean,
): OperationStats {
  const counts: OperationCounts = {};
  const during = { ok: 0, attempted: 0 };
  const outside = { ok: 0, attempted: 0 };
  for (const record of records) {
    const byOutcome = (counts[record.op.f] ??= { ok: 0, fail: 0, info: 0 });
    byOutcome[record.outcome]++;
    const bucket = inFault(record.invokedAt) ? during : outside;
    bucket.attempted++;
    if (record.outcome === 'ok') bucket.ok++;
  }
  const availability = ({ ok, attempted }: { ok: number; attempted: number }): Availability => ({
    ok,
    attempted,
    ratio: attempted === 0 ? undefined : ok / attempted,
  });
  return {
    counts,
    total: records.length,
    duringFaults: availability(during),
    outsideFaults: availability(outside),
  };
}
