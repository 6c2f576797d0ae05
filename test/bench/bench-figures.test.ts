// The arithmetic behind the benchmark's figures; the benchmark itself needs real clusters and
// minutes, so it runs on demand, not here.
import { describe, expect, it } from 'vitest';
import { parseBenchOptions, UsageError } from './bench-options.js';
import { ratioTable, summarizeCells, type Cell } from './bench-report.js';
import { percentile } from './closed-loop.js';
import { FAILOVER, judgeRecovery } from './failover.js';

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile(Float64Array.of(7), 99)).toBe(7);
    expect(percentile(new Float64Array(0), 50)).toBe(0);
  });
});

describe('judgeRecovery', () => {
  const killedAt = 10_000;
  const stopAt = killedAt + FAILOVER.afterMs;
  /** One success every `everyMs` over [from, to). */
  const steady = (from: number, to: number, everyMs: number) =>
    Array.from({ length: Math.ceil((to - from) / everyMs) }, (_, i) => from + i * everyMs);

  it('finds the first window back at half the baseline throughput', () => {
    // 1000 puts/s before the kill, nothing for 800 ms, 100 puts/s, then 600 puts/s from +1500.
    const successes = [
      ...steady(killedAt - 3000, killedAt, 1),
      ...steady(killedAt + 800, killedAt + 1500, 10),
      ...steady(killedAt + 1500, stopAt, 1000 / 600),
    ];
    const recovery = judgeRecovery(successes, killedAt, stopAt);
    expect(recovery.baselineOpsPerSecond).toBe(1000);
    // The first window that holds 125 puts starts a little before +1500 (it includes the tail
    // of the 100 puts/s stretch), never before the outage ends.
    expect(recovery.halfThroughputAt! - killedAt).toBeGreaterThan(1300);
    expect(recovery.halfThroughputAt! - killedAt).toBeLessThanOrEqual(1500);
    expect(recovery.timeline.slice(0, 3)).toEqual([0, 0, 0]);
    expect(recovery.timeline[4]).toBe(100);
    expect(recovery.timeline.length).toBe(FAILOVER.afterMs / FAILOVER.recoveryWindowMs);
  });

  it('reports no recovery when throughput never comes back', () => {
    const successes = [
      ...steady(killedAt - 3000, killedAt, 1),
      ...steady(killedAt + 500, stopAt, 10),
    ];
    expect(judgeRecovery(successes, killedAt, stopAt).halfThroughputAt).toBeUndefined();
  });
});

describe('summarizeCells', () => {
  const cell = (
    round: number,
    opsPerSecond: number,
    target: Cell['target'] = 'etcd',
    placement: Cell['placement'] = 'leader',
  ): Cell => ({
    target,
    op: 'put',
    placement,
    clients: 16,
    round,
    result: {
      completed: opsPerSecond,
      errors: 0,
      opsPerSecond,
      p50Ms: opsPerSecond / 1000,
      p99Ms: 0,
      clientCpuPercent: 0,
      serverCpuPercent: 0,
      serverCpuMsPerOp: 1000 / opsPerSecond,
    },
  });

  it('keeps the median round whole and the range of all rounds', () => {
    const [summary] = summarizeCells([cell(1, 300), cell(2, 100), cell(3, 200)]);
    expect(summary!.median.opsPerSecond).toBe(200);
    expect(summary!.median.p50Ms).toBe(0.2);
    expect([summary!.minOpsPerSecond, summary!.maxOpsPerSecond]).toEqual([100, 300]);
  });

  it('keeps each placement separate, and compares cat-feeder with etcd placement by placement', () => {
    const summaries = summarizeCells([
      cell(1, 100, 'etcd', 'leader'),
      cell(1, 50, 'etcd', 'spread'),
      cell(1, 200, 'cat-feeder', 'leader'),
      cell(1, 25, 'cat-feeder', 'spread'),
    ]);
    expect(summaries.map((s) => [s.target, s.placement, s.median.opsPerSecond])).toEqual([
      ['etcd', 'leader', 100],
      ['etcd', 'spread', 50],
      ['cat-feeder', 'leader', 200],
      ['cat-feeder', 'spread', 25],
    ]);
    const rows = ratioTable(summaries)!.split('\n').slice(2);
    // ops/s, p50 (here ops/s / 1000) and CPU per op (here 1000 / ops/s), per placement.
    expect(rows[0]).toMatch(
      /put\s+\|\s+leader\s+\|\s+16\s+\|\s+2\.00×\s+\|\s+2\.00×\s+\|.*\|\s+0\.50×/,
    );
    expect(rows[1]).toMatch(
      /put\s+\|\s+spread\s+\|\s+16\s+\|\s+0\.50×\s+\|\s+0\.50×\s+\|.*\|\s+2\.00×/,
    );
  });

  it('keeps each target separate, in the order measured', () => {
    const summaries = summarizeCells([cell(1, 1, 'cat-feeder'), cell(1, 2), cell(2, 3)]);
    expect(summaries.map((s) => [s.target, s.median.opsPerSecond])).toEqual([
      ['cat-feeder', 1],
      ['etcd', 2],
    ]);
  });
});

describe('parseBenchOptions', () => {
  it('reads durations and lists', () => {
    const options = parseBenchOptions([
      '--duration',
      '500ms',
      '--clients',
      '1, 4',
      '--warmup',
      '2s',
    ]);
    expect(options.durationMs).toBe(500);
    expect(options.warmupMs).toBe(2000);
    expect(options.clients).toEqual([1, 4]);
    expect(options.targets).toEqual(['etcd', 'cat-feeder']);
    expect(options.placements).toEqual(['leader', 'spread']);
    expect(parseBenchOptions(['--placements', 'spread']).placements).toEqual(['spread']);
  });

  it('refuses bad values with the flag named', () => {
    expect(() => parseBenchOptions(['--clients', '0'])).toThrow(/--clients/);
    expect(() => parseBenchOptions(['--duration', 'soon'])).toThrow(/--duration/);
    expect(() => parseBenchOptions(['--warmup', '2'])).toThrow(
      '--warmup: expected a duration with its unit, such as 500ms, 5s or 2m, got "2"',
    );
    expect(() => parseBenchOptions(['--targets', 'zookeeper'])).toThrow(UsageError);
    expect(() => parseBenchOptions(['--placements', 'leader,all'])).toThrow(
      '--placements: expected leader and/or spread, got "all"',
    );
    expect(() => parseBenchOptions(['--nope'])).toThrow(UsageError);
  });
});
