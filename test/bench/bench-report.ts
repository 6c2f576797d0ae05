// The benchmark's figures as Markdown tables (readable on a terminal too) and the full report
// with the machine, versions and method they depend on.
import type { BenchOptions, Placement } from './bench-options.js';
import type { ClosedLoopResult } from './closed-loop.js';
import { FAILOVER, type FailoverResult } from './failover.js';
import type { TargetName } from './kv-target.js';
import type { MachineInfo, MachineLoad } from './machine-info.js';
import { markdownTable as table } from './markdown-table.js';

export type Op = 'put' | 'get';

/** One measurement: a target, an operation, a placement, a number of clients, in one round. */
export interface Cell {
  readonly target: TargetName;
  readonly op: Op;
  readonly placement: Placement;
  readonly clients: number;
  readonly round: number;
  readonly result: ClosedLoopResult;
  readonly load: MachineLoad;
}

/**
 * The rounds of one cell: the round with the median throughput (its figures and machine load
 * kept together, as measured), and the range of the throughput and of the p99 over all rounds.
 */
export interface CellSummary {
  readonly target: TargetName;
  readonly op: Op;
  readonly placement: Placement;
  readonly clients: number;
  readonly rounds: number;
  readonly median: ClosedLoopResult;
  readonly load: MachineLoad;
  readonly minOpsPerSecond: number;
  readonly maxOpsPerSecond: number;
  readonly minP99Ms: number;
  readonly maxP99Ms: number;
}

export interface Failover {
  readonly target: TargetName;
  readonly run: number;
  readonly result: FailoverResult;
}

export interface IdleCpu {
  readonly target: TargetName;
  /** % of one core used by the cluster's 3 members while nothing was sent to them. */
  readonly percent: number;
  readonly overMs: number;
}

export interface RunContext {
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly command: string;
  readonly startedAt: Date;
  readonly loadAtStart: string;
  readonly loadAtEnd: string;
  readonly idle: readonly IdleCpu[];
  /** Targets that could not be measured (completely), with the reason. */
  readonly failures: readonly { target: TargetName; error: string }[];
}

export const OP_LABEL: Record<Op, string> = { put: 'put', get: 'linearizable get' };

export const count = (n: number) => Math.round(n).toLocaleString('en-US');
export const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const maybeMs = (n: number | undefined) => (n === undefined ? 'not within the run' : count(n));

/** Groups the rounds of each cell, in the order the cells were first measured. */
export function summarizeCells(cells: readonly Cell[]): CellSummary[] {
  const groups = new Map<string, Cell[]>();
  for (const cell of cells) {
    const id = `${cell.target}/${cell.op}/${cell.placement}/${cell.clients}`;
    groups.set(id, [...(groups.get(id) ?? []), cell]);
  }
  const summaries = [...groups.values()].map((rounds) => {
    const byThroughput = [...rounds].sort((a, b) => a.result.opsPerSecond - b.result.opsPerSecond);
    const first = byThroughput[0]!;
    const median = byThroughput[Math.floor((byThroughput.length - 1) / 2)]!;
    const p99s = rounds.map((r) => r.result.p99Ms);
    return {
      target: first.target,
      op: first.op,
      placement: first.placement,
      clients: first.clients,
      rounds: rounds.length,
      median: median.result,
      load: median.load,
      minOpsPerSecond: first.result.opsPerSecond,
      maxOpsPerSecond: byThroughput[byThroughput.length - 1]!.result.opsPerSecond,
      minP99Ms: Math.min(...p99s),
      maxP99Ms: Math.max(...p99s),
    };
  });
  // Each target's cells together, operations and client counts in the order measured.
  const targetOrder = [...new Set(summaries.map((s) => s.target))];
  return summaries.sort((a, b) => targetOrder.indexOf(a.target) - targetOrder.indexOf(b.target));
}

/** How many rounds every cell had; undefined when they differ (a target failed part way). */
function roundCount(summaries: readonly CellSummary[]): number | undefined {
  const counts = new Set(summaries.map((s) => s.rounds));
  return counts.size === 1 ? [...counts][0] : undefined;
}

/** What a row of the results table is: which round of how many. */
export function medianNote(summaries: readonly CellSummary[]): string {
  const n = roundCount(summaries);
  if (n === 1) return 'Every cell was measured in one round.';
  const rounds = n === undefined ? 'its rounds (the `rounds` column)' : `its ${n} rounds`;
  return (
    `Each row is the median of ${rounds}: the round with the median ops/s (the lower middle ` +
    "one for an even number), with that same round's latencies, errors, CPU and machine load; " +
    'the ranges span all the rounds.'
  );
}

export function resultsTable(summaries: readonly CellSummary[]): string {
  const n = roundCount(summaries);
  const ranges = n !== 1;
  const over = n === undefined ? '' : ` (${n} rounds)`;
  const percent = (p: number) => `${p.toFixed(0)}%`;
  return table(
    3,
    [
      'target',
      'op',
      'to',
      'clients',
      ...(n === undefined ? ['rounds'] : []),
      'ops/s',
      ...(ranges ? [`ops/s range${over}`] : []),
      'p50 ms',
      'p99 ms',
      ...(ranges ? [`p99 ms range${over}`] : []),
      'errors',
      'client CPU',
      'server CPU',
      'server CPU ms/op',
      'load 1m',
      'machine CPU',
    ],
    summaries.map((s) => {
      const r = s.median;
      return [
        s.target,
        OP_LABEL[s.op],
        s.placement,
        String(s.clients),
        ...(n === undefined ? [String(s.rounds)] : []),
        count(r.opsPerSecond),
        ...(ranges ? [`${count(s.minOpsPerSecond)} – ${count(s.maxOpsPerSecond)}`] : []),
        ms(r.p50Ms),
        ms(r.p99Ms),
        ...(ranges ? [`${ms(s.minP99Ms)} – ${ms(s.maxP99Ms)}`] : []),
        String(r.errors),
        percent(r.clientCpuPercent),
        percent(r.serverCpuPercent),
        r.serverCpuMsPerOp.toFixed(2),
        s.load.loadAverage.toFixed(2),
        percent(s.load.cpuPercent),
      ];
    }),
  );
}

/** cat-feeder divided by etcd, for each cell both measured. */
export function ratioTable(summaries: readonly CellSummary[]): string | undefined {
  const rows: string[][] = [];
  for (const cf of summaries.filter((c) => c.target === 'cat-feeder')) {
    const etcd = summaries.find(
      (c) =>
        c.target === 'etcd' &&
        c.op === cf.op &&
        c.placement === cf.placement &&
        c.clients === cf.clients,
    );
    if (!etcd) continue;
    rows.push([
      OP_LABEL[cf.op],
      cf.placement,
      String(cf.clients),
      ratio(cf.median.opsPerSecond, etcd.median.opsPerSecond),
      ratio(cf.median.p50Ms, etcd.median.p50Ms),
      ratio(cf.median.p99Ms, etcd.median.p99Ms),
      ratio(cf.median.serverCpuMsPerOp, etcd.median.serverCpuMsPerOp),
    ]);
  }
  if (rows.length === 0) return undefined;
  return table(2, ['op', 'to', 'clients', 'ops/s', 'p50', 'p99', 'CPU/op'], rows);
}

export function failoverTable(failovers: readonly Failover[]): string {
  const sorted = [...failovers].sort((a, b) => a.target.localeCompare(b.target) || a.run - b.run);
  return table(
    4,
    [
      'target',
      'run',
      'killed',
      'new leader',
      'puts/s before',
      'leader agreed ms',
      'first put ok ms',
      '≥ 50% puts/s ms',
      'failed requests',
    ],
    sorted.map(({ target, run, result: r }) => [
      target,
      String(run),
      `member ${r.killedMember + 1}`,
      r.newLeader === undefined ? 'none' : `member ${r.newLeader + 1}`,
      count(r.baselineOpsPerSecond),
      maybeMs(r.leaderAgreedMs),
      maybeMs(r.firstSuccessMs),
      maybeMs(r.halfThroughputMs),
      String(r.errors),
    ]),
  );
}

function setup(context: RunContext): string {
  const { machine: m, options: o } = context;
  const seconds = (n: number) => `${n / 1000} s`;
  const placements = o.placements
    .map((p) =>
      p === 'leader'
        ? '`leader`: every request to the leader'
        : '`spread`: logical client i to member i mod 3, as a Service spreads them (a follower ' +
          'forwards a put to the leader, and answers a linearizable get after confirming with it)',
    )
    .join('; ');
  const idle = context.idle
    .map((i) => `${i.target} ${i.percent.toFixed(1)}% (over ${seconds(i.overMs)})`)
    .join(', ');
  return [
    `- Machine: ${m.cpuModel}, nproc ${m.cpus}, ${m.memoryGiB} GiB, Linux ${m.kernel}. ` +
      `**The servers of both targets and the client all run on these same ${m.cpus} cores**, ` +
      `on a machine shared with other work (1-minute load average ${context.loadAtStart} at ` +
      `the start, ${context.loadAtEnd} at the end, and per cell in the results table): compare ` +
      'the two targets with each other, not with figures from dedicated machines.',
    `- Versions: Node.js ${m.node}; ${m.etcd}; catmesh ${m.gitCommit}.`,
    `- Clusters: 3 members each on 127.0.0.1, data directories under ${m.dataFilesystem}, fsync ` +
      'on (etcd by default, cat-feeder with `CATMESH_FSYNC=true`). Raft timing at each ' +
      "system's defaults: etcd heartbeat 100 ms, election timeout 1000 ms; cat-feeder " +
      '`CATMESH_RAFT_TICK`, `CATMESH_RAFT_HEARTBEAT_TICKS` and `CATMESH_RAFT_ELECTION_TICKS` ' +
      'unset. etcd logs at `error`, cat-feeder at `warn` with tracing off ' +
      '(`OTEL_SDK_DISABLED=true`).',
    '- Both clusters stay up for the whole run and the cells alternate between them (which ' +
      'target goes first alternates too), so that both see the same machine load. An idle ' +
      `cluster costs little: ${idle} of one core, measured before the first cell.`,
    `- Client: one Node.js process (the runner, separate from the servers) using ` +
      '`@grpc/grpc-js` for both targets: etcd through its `rpc.proto` (from the `etcd3` npm ' +
      'package) loaded by `@grpc/proto-loader`, cat-feeder through the generated ' +
      `\`catfeederV1.CatFeederServiceClient\`. ${o.channelsPerMember} gRPC connections per ` +
      'member, shared round-robin by the logical clients. Each logical client is a closed loop ' +
      `(send, await the answer, send the next) over ${o.keys} keys chosen uniformly at random, ` +
      `${o.valueBytes}-byte values.`,
    '- Operations: put = etcd `KV.Put` / cat-feeder `Put` (no request id); linearizable get = ' +
      'etcd `KV.Range` with `serializable=false` / cat-feeder `Get` with ' +
      '`CONSISTENCY_LINEARIZABLE` (sent as the number 1). Where they go (the `to` column): ' +
      `${placements}. Every key is written once before the first cell.`,
    `- Each cell: ${seconds(o.warmupMs)} of warm-up, then ${seconds(o.durationMs)} measured; ` +
      'ops/s counts the requests completed in the measured time, p50/p99 are their latencies ' +
      '(nearest rank over every sample). ' +
      (o.rounds > 1
        ? `Every cell was measured in ${o.rounds} rounds; the tables and charts show the round ` +
          'with the median throughput (the lower middle one for an even number), whole, and the ' +
          'ranges of ops/s and p99 over all rounds.'
        : 'Every cell was measured once.'),
    '- CPU is user + system time during the measured time, in % of one core (the machine has ' +
      `${m.cpus * 100}%): client CPU of the runner process (\`process.cpuUsage()\`), server CPU ` +
      "of the target's 3 server processes together (utime + stime from `/proc/<pid>/stat`: the " +
      "leader's and both followers' work). Server CPU ms/op is those 3 processes' user + system " +
      'CPU time in the window divided by the requests completed in it: the cost of a request to ' +
      'the cluster, whatever the throughput.',
    "- Machine load, per cell: load 1m is the machine's 1-minute load average at the end of the " +
      'measured time (an average over about the last minute, so it carries the cells before ' +
      "too); machine CPU is the busy time of all the machine's cores during the measured time, " +
      'from `/proc/stat` (user, nice, system, irq, softirq and steal), in % of one core like the ' +
      'client and server CPU. What it holds beyond client + server CPU was used by other ' +
      "processes: the other target's idle cluster, and whatever else shares the machine. A cell " +
      'whose machine CPU is well above its client + server CPU was measured on a busy machine.',
  ].join('\n');
}

function failoverSection(context: RunContext, failovers: readonly Failover[]): string[] {
  const seconds = (n: number) => `${n / 1000} s`;
  const timelines = [...failovers]
    .sort((a, b) => a.target.localeCompare(b.target) || a.run - b.run)
    .map((f) => `- ${f.target}, run ${f.run}: ${f.result.timeline.map(Math.round).join(' ')}`)
    .join('\n');
  return [
    '## Failover',
    `${context.options.failoverClients} closed-loop put clients send to the leader, which is ` +
      `killed with SIGKILL after ${seconds(FAILOVER.beforeMs)} of load. Each request has a ` +
      `${seconds(FAILOVER.requestTimeoutMs)} deadline; a failed request moves its client to the ` +
      'next member, where it stays while its requests succeed (both systems forward writes from ' +
      'any member to the leader). Times are from the kill: until the surviving members agree on ' +
      'a new leader (polled every 50 ms), until the first put sent after the kill succeeds, and ' +
      `until the first ${FAILOVER.recoveryWindowMs} ms window with at least half the puts/s of ` +
      `the ${seconds(FAILOVER.baselineMs)} before the kill. The first put's time depends on ` +
      "the client's deadline as well as on the servers: a put sent while there is no leader " +
      'may wait for its full deadline before its client moves on. Load stops ' +
      `${seconds(FAILOVER.afterMs)} after the kill; the killed member is then restarted on its ` +
      `data and the group given ${seconds(FAILOVER.settleMs)} to settle before the next run.`,
    failoverTable(failovers),
    `Puts/s in each ${FAILOVER.recoveryWindowMs} ms window from the kill:`,
    timelines,
  ];
}

/** The report's charts: paths relative to the report, one per figure charted. */
export interface ChartLinks {
  readonly throughput: string;
  readonly p99: string;
}

/** Written by hand from profiles: the benchmark measures, that page explains. */
const WHERE_IT_GOES =
  "Where a cat-feeder request's CPU goes, and what bounds the cells below 1×: " +
  '[`catfeeder-profile.md`](catfeeder-profile.md) (from `test/bench/profile-catfeeder.ts`).';

export function markdownReport(
  context: RunContext,
  summaries: readonly CellSummary[],
  failovers: readonly Failover[],
  charts: ChartLinks,
): string {
  const sections = [
    '# cat-feeder vs etcd 3.4',
    `Measured on ${context.startedAt.toISOString()} with:\n\n\`\`\`sh\n${context.command}\n\`\`\``,
    '## Setup',
    setup(context),
  ];
  if (context.failures.length > 0) {
    sections.push(
      '## Not measured',
      context.failures.map((f) => `- ${f.target}: ${f.error.split('\n')[0]}`).join('\n'),
    );
  }
  sections.push(
    '## Throughput and latency',
    medianNote(summaries),
    resultsTable(summaries),
    `![Throughput (ops/s) against concurrent clients, etcd and cat-feeder](${encodeURI(charts.throughput)})`,
    `![p99 latency (ms) against concurrent clients, etcd and cat-feeder](${encodeURI(charts.p99)})`,
  );
  const ratios = ratioTable(summaries);
  if (ratios) {
    sections.push(
      '## cat-feeder / etcd',
      "Per cell, cat-feeder's median round divided by etcd's: above 1× means more throughput " +
        '(ops/s), or higher latency (p50, p99) or more server CPU per request (CPU/op, user + ' +
        'system time of the 3 server processes), than etcd.',
      ratios,
      WHERE_IT_GOES,
    );
  }
  if (failovers.length > 0) sections.push(...failoverSection(context, failovers));
  return `${sections.join('\n\n')}\n`;
}
