import { describe, expect, it } from 'vitest';
import { judgeHypothesis } from '../src/report/hypothesis.js';
import { operationReport, percentile } from '../src/report/operation-stats.js';
import { raftReport } from '../src/report/raft-report.js';
import type { RaftSample } from '../src/observe/raft-observer.js';
import type { OperationSample } from '../src/workload/operation-log.js';

const windows = {
  before: { start: 0, end: 5_000 },
  during: { start: 5_000, end: 10_000 },
  after: { start: 10_000, end: 15_000 },
};

/** One operation every 100 ms; `shape(at)` says how it went. */
function samples(shape: (at: number) => { ok: boolean; latencyMs: number }): OperationSample[] {
  return Array.from({ length: 150 }, (_, i) => ({ at: i * 100, ...shape(i * 100) }));
}

describe('the report figures', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
  });

  it('measures each window, the first failure, the next success and the recovery', () => {
    // Fails from 6 s to 8.5 s; slow (300 ms) until 11 s; fast again after.
    const log = samples((at) =>
      at >= 6_000 && at < 8_500
        ? { ok: false, latencyMs: 1_000 }
        : { ok: true, latencyMs: at >= 5_000 && at < 11_000 ? 300 : 10 },
    );
    const report = operationReport('orders', 'PlaceOrder', log, {
      windows,
      firstFaultAt: 5_000,
      probes: [{ sli: 'orders.p99Ms', atMost: 100 }],
    });
    expect(report.windows.before).toMatchObject({ total: 50, ok: 50, successRatio: 1, p50Ms: 10 });
    expect(report.windows.during).toMatchObject({
      total: 50,
      failed: 25,
      successRatio: 0.5,
      p99Ms: 300,
    });
    expect(report.timeToFirstFailureMs).toBe(1_000);
    expect(report.timeToFirstSuccessMs).toBe(2_500);
    // The second from 11 s on is the first in which p99 <= 100 ms holds, and it stays so.
    expect(report.timeToRecoveryMs).toBe(1_000);
    expect(report.series).toHaveLength(15);
    expect(report.series[7]).toMatchObject({ ok: 0, failed: 10 });
  });

  it('says an operation never recovered when its last second is still bad', () => {
    const log = samples((at) => ({ ok: at < 5_000, latencyMs: 10 }));
    const report = operationReport('orders', 'PlaceOrder', log, {
      windows,
      firstFaultAt: 5_000,
      probes: [],
    });
    expect(report.timeToRecoveryMs).toBeNull();
    expect(report.timeToFirstSuccessMs).toBeNull();
    const verdict = judgeHypothesis([{ sli: 'orders.successRatio', atLeast: 0.99 }], [report]);
    expect(verdict.verdict).toBe('violated');
    expect(verdict.probes[0]!.windows.before).toEqual({ value: 1, holds: true });
  });

  it('judges the hypothesis window by window', () => {
    const steady = operationReport(
      'orders',
      'PlaceOrder',
      samples(() => ({ ok: true, latencyMs: 10 })),
      { windows, firstFaultAt: 5_000, probes: [] },
    );
    const probe = { sli: 'orders.p50Ms', atMost: 50 } as const;
    expect(judgeHypothesis([probe], [steady]).verdict).toBe('held');
    const slowDuring = operationReport(
      'orders',
      'PlaceOrder',
      samples((at) => ({ ok: true, latencyMs: at >= 5_000 && at < 10_000 ? 200 : 10 })),
      { windows, firstFaultAt: 5_000, probes: [probe] },
    );
    expect(judgeHypothesis([probe], [slowDuring]).verdict).toBe('recovered');
    const slowBefore = operationReport(
      'orders',
      'PlaceOrder',
      samples(() => ({ ok: true, latencyMs: 200 })),
      { windows, firstFaultAt: 5_000, probes: [probe] },
    );
    expect(judgeHypothesis([probe], [slowBefore]).verdict).toBe('inconclusive');
  });

  it('finds each change of leader and the gap without one', () => {
    const sample = (
      at: number,
      leader: string | null,
      term: number,
      commit: number,
    ): RaftSample => ({
      at,
      leader,
      term,
      replicas: {
        'cat-feeder-1': {
          role: leader === 'cat-feeder-1' ? 'leader' : 'follower',
          term,
          commitIndex: commit,
        },
      },
      unreachable: [],
    });
    const raft = raftReport(
      [
        sample(0, 'cat-feeder-1', 2, 10),
        sample(4_800, 'cat-feeder-1', 2, 20),
        sample(5_000, null, 2, 20),
        sample(5_600, null, 3, 20),
        sample(5_800, 'cat-feeder-2', 3, 20),
        sample(9_000, 'cat-feeder-2', 3, 25),
        sample(12_000, 'cat-feeder-2', 3, 40),
      ],
      windows,
    )!;
    expect(raft.leaderChanges).toBe(1);
    expect(raft.elections[0]).toEqual({
      lostAt: 4_800,
      electedAt: 5_800,
      gapMs: 1_000,
      from: 'cat-feeder-1',
      to: 'cat-feeder-2',
      term: 3,
    });
    expect(raft.leaderTimeline.map((s) => s.leader)).toEqual([
      'cat-feeder-1',
      null,
      'cat-feeder-2',
    ]);
    expect(raft.commitProgress['cat-feeder-1']).toEqual({ before: 10, during: 5, after: 0 });
  });
});
