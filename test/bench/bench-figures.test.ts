// The arithmetic behind the benchmark's figures; the benchmark itself needs real clusters and
// minutes, so it runs on demand, not here.
import { describe, expect, it } from 'vitest';
import { UsageError } from './bench-flags.js';
import { parseBenchOptions } from './bench-options.js';
import {
  markdownReport,
  medianNote,
  ratioTable,
  resultsTable,
  summarizeCells,
  type Cell,
} from './bench-report.js';
import { percentile } from './closed-loop.js';
import { FAILOVER, judgeRecovery } from './failover.js';
import { machineCpuPercent, parseProcStat } from './machine-info.js';

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
    p99Ms = 0,
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
      p99Ms,
      clientCpuPercent: 0,
      serverCpuPercent: 0,
      serverCpuMsPerOp: 1000 / opsPerSecond,
    },
    load: { loadAverage: round, cpuPercent: 10 * round },
  });

  it('keeps the median round whole and the range of all rounds', () => {
    const [summary] = summarizeCells([cell(1, 300), cell(2, 100), cell(3, 200)]);
    expect(summary!.median.opsPerSecond).toBe(200);
    expect(summary!.median.p50Ms).toBe(0.2);
    expect([summary!.minOpsPerSecond, summary!.maxOpsPerSecond]).toEqual([100, 300]);
  });

  it("spans the p99 of every round, and keeps the median round's own p99 and machine load", () => {
    // The median round by ops/s (200, round 3) has neither the lowest nor the highest p99.
    const [summary] = summarizeCells([
      cell(1, 300, 'etcd', 'leader', 9),
      cell(2, 100, 'etcd', 'leader', 1.5),
      cell(3, 200, 'etcd', 'leader', 4),
    ]);
    expect(summary!.rounds).toBe(3);
    expect(summary!.median.p99Ms).toBe(4);
    expect([summary!.minP99Ms, summary!.maxP99Ms]).toEqual([1.5, 9]);
    expect(summary!.load).toEqual({ loadAverage: 3, cpuPercent: 30 });

    const [header, , row] = resultsTable([summary!]).split('\n');
    expect(header).toMatch(
      /ops\/s range \(3 rounds\).*p99 ms range \(3 rounds\).*load 1m.*machine CPU/,
    );
    expect(row).toMatch(/100 – 300 .*\| +4\.00 \| +1\.50 – 9\.00 \|.*\| +3\.00 \| +30% \|$/);
    expect(medianNote([summary!])).toMatch(/^Each row is the median of its 3 rounds/);
  });

  it('says which cells had fewer rounds when a target stopped part way', () => {
    const summaries = summarizeCells([cell(1, 100), cell(2, 200), cell(1, 50, 'cat-feeder')]);
    expect(summaries.map((s) => s.rounds)).toEqual([2, 1]);
    const [header] = resultsTable(summaries).split('\n');
    expect(header).toMatch(/\| rounds \|.*\| ops\/s range \|.*\| p99 ms range \|/);
    expect(medianNote(summaries)).toContain('the `rounds` column');
  });

  it('writes a report whose tables, charts and method show CPU per request and machine load', () => {
    const summaries = summarizeCells([cell(1, 100), cell(2, 200), cell(1, 50, 'cat-feeder')]);
    const report = markdownReport(
      {
        machine: {
          cpus: 2,
          cpuModel: 'test CPU',
          kernel: '6.0',
          memoryGiB: 1,
          node: 'v20',
          etcd: 'etcd 3.4',
          gitCommit: 'abc',
          dataFilesystem: '/tmp (ext4)',
        },
        options: parseBenchOptions(['--rounds', '2']),
        command: 'bench',
        startedAt: new Date(0),
        loadAtStart: '0.10',
        loadAtEnd: '0.20',
        idle: [],
        failures: [],
      },
      summaries,
      [],
      { throughput: 'b-throughput.svg', p99: 'b-p99.svg' },
    );
    expect(report).toContain('](b-throughput.svg)');
    expect(report).toContain('](b-p99.svg)');
    expect(report).toMatch(/server CPU ms\/op \|.*\| machine CPU \|/);
    expect(report).toMatch(/\| ops\/s \| +p50 \| +p99 \| CPU\/op \|/);
    expect(report).toContain('user + system time');
    expect(report).toContain('`/proc/<pid>/stat`');
  });

  it('shows no ranges for a single round', () => {
    const [header] = resultsTable(summarizeCells([cell(1, 100)])).split('\n');
    expect(header).not.toContain('range');
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

describe('machine CPU from /proc/stat', () => {
  const stat = (user: number, system: number, idle: number, iowait: number, steal: number) =>
    `cpu  ${user} 0 ${system} ${idle} ${iowait} 0 0 ${steal} 0 0\ncpu0 1 0 0 0 0 0 0 0 0 0\n` +
    'cpu1 1 0 0 0 0 0 0 0 0 0\nintr 12345\n';

  it('counts every busy tick, steal included, in % of one core', () => {
    const before = parseProcStat(stat(1000, 500, 3000, 100, 0));
    expect(before).toEqual({ busy: 1500, total: 4600, cpus: 2 });
    // 200 ticks passed on 2 cores: 60 user + 20 system + 20 steal busy, 90 idle + 10 iowait.
    const after = parseProcStat(stat(1060, 520, 3090, 110, 20));
    expect(machineCpuPercent(before, after)).toBeCloseTo(100);
    expect(machineCpuPercent(before, before)).toBe(0);
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
      '--placements: expected some of leader, spread, got "all"',
    );
    expect(() => parseBenchOptions(['--nope'])).toThrow(UsageError);
  });
});
