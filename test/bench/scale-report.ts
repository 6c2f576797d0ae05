// The scale benchmark's figures as Markdown tables, each figure the median of the runs with
// their range, and the report around them (machine, versions, command, method).
import type { TargetName } from './kv-target.js';
import type { MachineInfo } from './machine-info.js';
import {
  emptyCatchUpLimitMs,
  PARTITION,
  type Group,
  type KeysRun,
  type Loaded,
  type PartitionRun,
  type ValueCell,
} from './scale-measure.js';
import type { ScaleOptions } from './scale-options.js';
import { SNAPSHOT_ENTRIES } from './scale-systems.js';
import { markdownTable as table } from './markdown-table.js';

export interface KeysResult {
  readonly target: TargetName;
  readonly keys: number;
  readonly loaded: Loaded;
  readonly runs: readonly KeysRun[];
}

export interface ScaleResults {
  readonly values: readonly (ValueCell & { target: TargetName })[];
  readonly keys: readonly KeysResult[];
  readonly partitions: readonly (PartitionRun & { target: TargetName })[];
  /** Targets or sections that could not be measured, with the reason. */
  readonly notMeasured: readonly string[];
  /** Runs left out because of what an earlier run found (not a failure of the benchmark). */
  readonly skipped: readonly string[];
}

export interface ScaleContext {
  readonly machine: MachineInfo;
  readonly options: ScaleOptions;
  readonly command: string;
  readonly startedAt: Date;
  readonly wallSeconds: number;
  readonly loadAtStart: string;
  readonly loadAtEnd: string;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : count(n));
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0);
const sizeLabel = (bytes: number) =>
  bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`;

/** The median (the lower middle one for an even count) and the range, as "median (min – max)". */
export function stat(values: readonly number[], format: (n: number) => string): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  const median = format(sorted[Math.floor((sorted.length - 1) / 2)]!);
  if (sorted.length === 1) return median;
  return `${median} (${format(sorted[0]!)} – ${format(sorted[sorted.length - 1]!)})`;
}

const groupBy = <T>(items: readonly T[], id: (item: T) => string): T[][] => {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(id(item), [...(groups.get(id(item)) ?? []), item]);
  return [...groups.values()];
};

export function valuesTable(cells: ScaleResults['values']): string {
  const groups = groupBy(cells, (c) => `${c.target}/${c.valueBytes}/${c.clients}`);
  return table(
    2,
    ['target', 'value', 'clients', 'puts/s', 'p50 ms', 'p99 ms', 'server CPU ms/op', 'errors'],
    groups.map((runs) => {
      const r = runs.map((c) => c.result);
      return [
        runs[0]!.target,
        sizeLabel(runs[0]!.valueBytes),
        String(runs[0]!.clients),
        stat(
          r.map((x) => x.opsPerSecond),
          count,
        ),
        stat(
          r.map((x) => x.p50Ms),
          ms,
        ),
        stat(
          r.map((x) => x.p99Ms),
          ms,
        ),
        stat(
          r.map((x) => x.serverCpuMsPerOp),
          (n) => n.toFixed(2),
        ),
        String(r.reduce((sum, x) => sum + x.errors, 0)),
      ];
    }),
  );
}

export function loadTable(keys: readonly KeysResult[]): string {
  return table(
    2,
    ['target', 'keys', 'load s', 'puts/s', 'retried puts', 'RSS MiB after loading (leader first)'],
    keys.map((k) => {
      const order = [k.loaded.leader, ...[0, 1, 2].filter((m) => m !== k.loaded.leader)];
      return [
        k.target,
        count(k.keys),
        (k.loaded.ms / 1000).toFixed(1),
        count(k.keys / (k.loaded.ms / 1000)),
        String(k.loaded.retries),
        order.map((m) => mib(k.loaded.rssBytes[m] ?? 0)).join(' / '),
      ];
    }),
  );
}

/** The catch-up times, and how many runs did not catch up (with how far the last one got). */
function caughtUp(runs: readonly KeysRun[], keys: number): string {
  const times = runs.flatMap((r) => (r.catchUpMs === undefined ? [] : [r.catchUpMs]));
  const stuck = runs.filter((r) => r.catchUpMs === undefined);
  const last = stuck[stuck.length - 1];
  if (last === undefined) return stat(times, ms);
  const not =
    `${stuck.length} of ${runs.length} runs not within ${emptyCatchUpLimitMs(keys) / 1000} s ` +
    `(applied ${count(last.catchUpApplied[0])} of ${count(last.catchUpApplied[1])})`;
  return times.length === 0 ? not : `${stat(times, ms)}; ${not}`;
}

export function keysTable(keys: readonly KeysResult[]): string {
  return table(
    2,
    [
      'target',
      'keys',
      'snapshot ms',
      'snapshot MiB',
      'restart → read ms',
      'RSS MiB restarted',
      'empty → caught up ms',
      'RSS MiB caught up',
      'elections while catching up',
    ],
    keys.map((k) => {
      const sizes = k.runs.flatMap((r) =>
        r.snapshot.bytes === undefined ? [] : [r.snapshot.bytes],
      );
      return [
        k.target,
        count(k.keys),
        stat(
          k.runs.map((r) => r.snapshot.ms),
          ms,
        ),
        sizes.length === 0 ? 'n/a' : stat(sizes, mib),
        stat(
          k.runs.map((r) => r.restartMs),
          ms,
        ),
        stat(
          k.runs.map((r) => r.restartedRssBytes),
          mib,
        ),
        caughtUp(k.runs, k.keys),
        stat(
          k.runs.map((r) => r.caughtUpRssBytes),
          mib,
        ),
        `${k.runs.filter((r) => r.catchUpTermChanged).length} of ${k.runs.length} runs`,
      ];
    }),
  );
}

export function partitionTable(runs: ScaleResults['partitions']): string {
  const rows: string[][] = [];
  for (const byTarget of groupBy(runs, (r) => r.target)) {
    for (const group of ['spread', 'leader'] as const satisfies readonly Group[]) {
      for (const when of ['before', 'during', 'after'] as const) {
        const f = byTarget.map((r) => r.phases[group][when]);
        rows.push([
          byTarget[0]!.target,
          group,
          when,
          stat(
            f.map((x) => x.opsPerSecond),
            count,
          ),
          stat(
            f.map((x) => x.p50Ms),
            ms,
          ),
          stat(
            f.map((x) => x.p99Ms),
            ms,
          ),
          stat(
            f.map((x) => x.errors),
            count,
          ),
        ]);
      }
    }
  }
  return table(
    3,
    ['target', 'clients to', 'phase', 'puts/s', 'p50 ms', 'p99 ms', 'failed puts'],
    rows,
  );
}

export function catchUpTable(runs: ScaleResults['partitions']): string {
  return table(
    1,
    [
      'target',
      'entries behind at heal',
      'caught up ms after heal',
      'not caught up',
      'leader term changed',
    ],
    groupBy(runs, (r) => r.target).map((byTarget) => {
      const caught = byTarget.flatMap((r) => (r.catchUpMs === undefined ? [] : [r.catchUpMs]));
      return [
        byTarget[0]!.target,
        stat(
          byTarget.map((r) => r.behindAtHeal),
          count,
        ),
        stat(caught, ms),
        `${byTarget.length - caught.length} of ${byTarget.length} runs`,
        `${byTarget.filter((r) => r.termChanged).length} of ${byTarget.length} runs`,
      ];
    }),
  );
}

/** Every table the results have, with a title line, for the terminal and the report. */
export function tables(results: ScaleResults): [string, string][] {
  const out: [string, string][] = [];
  if (results.values.length > 0)
    out.push(['Put cost by value size (to the leader)', valuesTable(results.values)]);
  if (results.keys.length > 0) {
    out.push(['Loading the keys', loadTable(results.keys)]);
    out.push(['Snapshot, restart and catch-up by key count', keysTable(results.keys)]);
  }
  if (results.partitions.length > 0) {
    out.push(['Puts while a follower is cut off', partitionTable(results.partitions)]);
    out.push(['The cut-off follower catching up', catchUpTable(results.partitions)]);
  }
  return out;
}

function method(context: ScaleContext, skipped: readonly string[]): string[] {
  const { machine: m, options: o } = context;
  const s = (n: number) => `${n / 1000} s`;
  return [
    '## Setup',
    [
      `- Machine: ${m.cpuModel}, nproc ${m.cpus}, ${m.memoryGiB} GiB, Linux ${m.kernel}. **Servers ` +
        `and client share these ${m.cpus} cores** with other work (1-minute load average ` +
        `${context.loadAtStart} at the start, ${context.loadAtEnd} at the end): compare the two ` +
        'systems with each other, not with figures from dedicated machines.',
      `- Versions: Node.js ${m.node}; ${m.etcd}; catmesh ${m.gitCommit}.`,
      `- Clusters: 3 members on 127.0.0.1, data under ${m.dataFilesystem}, fsync on, each ` +
        "system's Raft timing defaults (etcd 3.4: pre-vote off, `--snapshot-count` 100000; " +
        `cat-feeder: pre-vote and check-quorum on, \`CATMESH_SNAPSHOT_ENTRIES=${SNAPSHOT_ENTRIES}\` ` +
        '(its default, set explicitly)). etcd members run as uids of their own (for the partition), ' +
        'otherwise as in `catfeeder-vs-etcd.ts`.',
      '- Client: one Node.js process with `@grpc/grpc-js` for both (etcd through its `rpc.proto`), ' +
        '8 connections per member. Puts are single `KV.Put` / `Put` requests for both systems: no ' +
        'etcd `Txn` batching, since cat-feeder has no batch write. Linearizable gets are `Range` ' +
        'with `serializable=false` / `Get` with `CONSISTENCY_LINEARIZABLE`.',
      `- Every measurement was made in ${o.runs} run(s); a figure is the median of the runs ` +
        '(the lower middle one for an even count) with the range of all runs in brackets. Nothing ' +
        'here is asserted; the figures are what this machine did.',
    ].join('\n'),
    '## Method',
    [
      `- **Value size**: closed-loop put clients (${o.clients.join(', ')}) to the leader over ` +
        `${o.smallKeys} keys, values of ${o.valueSizes.map(sizeLabel).join(', ')}; ${s(o.warmupMs)} ` +
        `warm-up, ${s(o.durationMs)} measured; server CPU ms/op is the 3 servers' CPU time ` +
        '(/proc/PID/stat) in the window over the puts completed in it. Both clusters are up at ' +
        'once and the cells alternate between them.',
      `- **Key count** (${o.smallKeys.toLocaleString('en-US')} and ${o.largeKeys.toLocaleString('en-US')} ` +
        `keys, 64-byte values): a fresh cluster of one system at a time is loaded by ` +
        `${o.preloadClients} concurrent put clients to the leader (a failed put is sent again after ` +
        "looking the leader up); then every member must have applied it all, and each member's " +
        'RSS (VmRSS of /proc/PID/status) is read once. **Loading is done once per system and key ' +
        `count**, not ${o.runs} times (it is the slow part); the measurements below it are repeated ` +
        'on the loaded cluster:',
      '  - *Snapshot*: etcd: the Maintenance `Snapshot` RPC against the leader, streamed into a ' +
        'file and fsynced (what `etcdctl snapshot save` does), until the file is synced. etcd needs ' +
        'no snapshot to compact its Raft log, its state being its bbolt file; this is its backup. ' +
        `cat-feeder has no snapshot API: a replica snapshots after ${SNAPSHOT_ENTRIES} applied ` +
        'entries; the runner overwrites filler keys (1,000 of them, beside the loaded ones) until the ' +
        "leader is one entry short, then times one more put from its sending until the leader's " +
        '`catfeeder_snapshots_taken_total` goes up (polled every 10 ms; it counts after the ' +
        'snapshot file is saved and the WAL compacted). The followers snapshot at the same index on ' +
        'the same cores.',
      '  - *Restart*: kill -9 of a follower, start on its data, until a linearizable get through ' +
        'it succeeds (1 s deadline, retried every 20 ms); its RSS then.',
      '  - *Empty member catching up*: kill -9 of a follower and its data directory removed. ' +
        'cat-feeder: started again with the same id and nothing else, as its README says a replica ' +
        "that lost its data may (the leader is to send its snapshot, then the log's tail). etcd: " +
        'an empty member cannot come back under its old id as a new member (with ' +
        '`--initial-cluster-state=new` it stops: "member … has already been bootstrapped"; with ' +
        '`existing` it started and caught up in a manual check with 50 keys, after forcing an ' +
        "election, but etcd's docs do not offer that), so etcd's documented replacement is used: " +
        '`MemberRemove`, `MemberAdd` with the same peer URL, a start with ' +
        '`--initial-cluster-state=existing` (the remove and add are not in the time). Timed from ' +
        'the start of the process until its applied index (etcd `raftAppliedIndex`) reached the ' +
        "leader's, polled every 100 ms, with no load meanwhile. A member still behind after 30 s " +
        'plus 60 s per million keys is reported as not caught up, and the remaining runs on that ' +
        'cluster are not made (it is left degraded).',
      `- **Partition** (${s(o.partitionMs)}): a fresh cluster with ${o.smallKeys} keys; two groups ` +
        `of ${o.partitionClients} closed-loop put clients at once, 1 s deadline per put: *spread* ` +
        '(client i to member i mod 3, so a third of them to the member cut off) and *leader*. After ' +
        `${s(PARTITION.beforeMs)} a follower is cut off from both peers (clients still reach it), ` +
        `for ${s(o.partitionMs)}, then healed. cat-feeder: its fault admin API (ApplyFault, a ` +
        'partition of both directions with raft_id selectors on all three replicas; RevertFault to ' +
        'heal), which drops Raft messages and forwarded requests. etcd: an nftables table on ' +
        "loopback that drops the member's peer port both ways and, by conntrack mark set from " +
        "the member's uid, its connections to the others' peer ports; the table is deleted to " +
        'heal (and on any exit). Phases: *before* is the 5 s before the cut, *during* the cut, ' +
        `*after* the ${s(PARTITION.afterMs)} from the heal. Caught up: the follower's applied index ` +
        `reached the leader's (polled every 100 ms, at most ${s(PARTITION.catchUpTimeoutMs)}).`,
    ].join('\n'),
    '## Not measured',
    [
      "- Reads by value size or key count, Watch, Range over many keys, compaction of etcd's " +
        'history (etcd keeps every revision until compacted; cat-feeder keeps only the latest ' +
        'value), disk usage, and anything on more than one machine.',
      "- etcd's own Raft snapshots (every 100,000 entries by default) were not timed: etcd has no " +
        'API for them.',
      ...(context.options.sections.length === 3
        ? []
        : [
            '- Sections not run: ' +
              (['values', 'keys', 'partition'] as const)
                .filter((x) => !o.sections.includes(x))
                .join(', ') +
              '.',
          ]),
      ...skipped.map((line) => `- ${line}.`),
    ].join('\n'),
  ];
}

export function markdownReport(context: ScaleContext, results: ScaleResults): string {
  const sections = [
    "# How cat-feeder's cost grows with the work, beside etcd 3.4",
    `Measured on ${context.startedAt.toISOString()} (${Math.round(context.wallSeconds / 60)} min) with:\n\n` +
      `\`\`\`sh\n${context.command}\n\`\`\``,
    ...method(context, results.skipped),
  ];
  if (results.notMeasured.length > 0) {
    sections.push('## Failed', results.notMeasured.map((n) => `- ${n}`).join('\n'));
  }
  for (const [title, body] of tables(results)) sections.push(`## ${title}`, body);
  return `${sections.join('\n\n')}\n`;
}
