// cat-feeder side by side with etcd 3.4: the same closed-loop gRPC client (@grpc/grpc-js) drives a
// 3-member cluster of each, on this machine, with fsync on. Puts and linearizable gets at several
// client counts, sent to the leader and spread over the members, then the time to recover from a
// kill -9 of the leader. Prints Markdown tables and, with --out, writes the report (machine,
// versions, command, method, figures) and its two SVG charts beside it; with --json, every
// round's figures and their summaries.
//
//   node --conditions=@catmesh/source --import tsx test/bench/catfeeder-vs-etcd.ts \
//     [--duration 5s] [--clients 1,16,64,256] [--out docs/benchmarks.md]   (--help for all)
//
// etcd comes from the system (`./scripts/setup-system.sh bench`); its rpc.proto from the etcd3
// npm package, or from CATMESH_BENCH_ETCD3_DIR (a directory holding etcd3's proto/rpc.proto).
// cat-feeder runs from services/cat-feeder/dist (`npx tsc -b tsconfig.build.json`).
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname } from 'node:path';
import { chartFiles, chartSvg } from './bench-charts.js';
import { runBench } from './bench-flags.js';
import { parseBenchOptions, USAGE, type BenchOptions, type Placement } from './bench-options.js';
import {
  failoverTable,
  markdownReport,
  medianNote,
  ratioTable,
  resultsTable,
  summarizeCells,
  type Cell,
  type Failover,
  type IdleCpu,
  type Op,
  type RunContext,
} from './bench-report.js';
import { startCatFeeder } from './catfeeder-target.js';
import { runClosedLoop } from './closed-loop.js';
import { checkEtcdInstalled, etcdProtoFile, startEtcd } from './etcd-target.js';
import { FAILOVER, measureFailover } from './failover.js';
import type { KvTarget, TargetName } from './kv-target.js';
import { describeMachine, loadAverage, watchMachine } from './machine-info.js';

/** Deadline of one request in the steady-state cells: a safety net, far above any latency seen. */
const REQUEST_TIMEOUT_MS = 5000;
const LEADER_TIMEOUT_MS = 30_000;
const PRELOAD_CLIENTS = 16;
const IDLE_MS = 2000;
const OPS: readonly Op[] = ['put', 'get'];

async function startTarget(
  name: TargetName,
  options: BenchOptions,
  protoFile: string | undefined,
): Promise<KvTarget> {
  if (name === 'etcd') {
    return startEtcd({ protoFile: protoFile!, channelsPerMember: options.channelsPerMember });
  }
  return startCatFeeder({ channelsPerMember: options.channelsPerMember });
}

const key = (index: number) => `bench/key-${String(index).padStart(6, '0')}`;

/** Writes every key once, so that gets read a value. */
async function preload(target: KvTarget, options: BenchOptions, value: Buffer): Promise<void> {
  const leader = await target.waitForLeader(LEADER_TIMEOUT_MS);
  let next = 0;
  await Promise.all(
    Array.from({ length: PRELOAD_CLIENTS }, async (_, client) => {
      for (let i = next++; i < options.keys; i = next++) {
        const channel = client % options.channelsPerMember;
        await target.put(leader, channel, key(i), value, REQUEST_TIMEOUT_MS);
      }
    }),
  );
}

const serverCpuSeconds = (target: KvTarget) =>
  target.members.reduce((sum, m) => sum + m.cpuSeconds(), 0);

/** CPU used by each cluster doing nothing: the cost of keeping both up during the run. */
async function measureIdleCpu(targets: readonly KvTarget[]): Promise<IdleCpu[]> {
  const before = targets.map(serverCpuSeconds);
  await sleep(IDLE_MS);
  return targets.map((t, i) => ({
    target: t.name,
    percent: ((serverCpuSeconds(t) - before[i]!) / (IDLE_MS / 1000)) * 100,
    overMs: IDLE_MS,
  }));
}

async function measureCell(
  target: KvTarget,
  options: BenchOptions,
  value: Buffer,
  op: Op,
  placement: Placement,
  clients: number,
  round: number,
): Promise<Cell> {
  const randomKey = () => key(randomInt(options.keys));
  const channel = (client: number) => client % options.channelsPerMember;
  const leader = await target.waitForLeader(LEADER_TIMEOUT_MS);
  const member = (client: number) =>
    placement === 'leader' ? leader : client % target.members.length;
  // Started in the same tick as the closed loop, so that both watch the same measured window.
  const [result, load] = await Promise.all([
    runClosedLoop({
      clients,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      serverCpuSeconds: () => serverCpuSeconds(target),
      request: (client) =>
        op === 'put'
          ? target.put(member(client), channel(client), randomKey(), value, REQUEST_TIMEOUT_MS)
          : target.get(member(client), channel(client), randomKey(), REQUEST_TIMEOUT_MS),
    }),
    watchMachine(options.warmupMs, options.warmupMs + options.durationMs),
  ]);
  console.log(
    `round ${round}: ${target.name} ${op} to ${placement} × ${clients}: ` +
      `${Math.round(result.opsPerSecond)} ops/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
      `p99 ${result.p99Ms.toFixed(2)} ms, ${result.serverCpuMsPerOp.toFixed(2)} ms server CPU/op, ` +
      `${result.errors} errors, load ${load.loadAverage.toFixed(2)}, ` +
      `machine CPU ${load.cpuPercent.toFixed(0)}%`,
  );
  return { target: target.name, op, placement, clients, round, result, load };
}

/** Kills the leader under load, then restarts it and waits for the group to be whole again. */
async function failover(
  target: KvTarget,
  options: BenchOptions,
  value: Buffer,
  run: number,
): Promise<Failover> {
  const result = await measureFailover(target, {
    clients: options.failoverClients,
    channelsPerMember: options.channelsPerMember,
    key: () => key(randomInt(options.keys)),
    value,
  });
  console.log(
    `failover ${run}: ${target.name}: first put ok after ${result.firstSuccessMs?.toFixed(0) ?? '-'} ms; ` +
      `puts/s per ${FAILOVER.recoveryWindowMs} ms from the kill: ${result.timeline.join(' ')}`,
  );
  target.restart(result.killedMember);
  await target.waitForLeader(LEADER_TIMEOUT_MS);
  await sleep(FAILOVER.settleMs);
  return { target: target.name, run, result };
}

/** Alternates which target goes first, so that neither always follows the other. */
const inTurn = <T>(items: readonly T[], turn: number): T[] =>
  turn % 2 === 0 ? [...items] : [...items].reverse();

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  const options = parseBenchOptions(argv);
  const etcd3Dir = process.env['CATMESH_BENCH_ETCD3_DIR'];
  let protoFile: string | undefined;
  if (options.targets.includes('etcd')) {
    checkEtcdInstalled();
    protoFile = etcdProtoFile(etcd3Dir);
  }

  const startedAt = new Date();
  const machine = describeMachine();
  const loadAtStart = loadAverage();
  const command = [
    ...(etcd3Dir === undefined ? [] : [`CATMESH_BENCH_ETCD3_DIR=${etcd3Dir}`]),
    'node --conditions=@catmesh/source --import tsx test/bench/catfeeder-vs-etcd.ts',
    ...argv,
  ].join(' ');
  const value = randomBytes(options.valueBytes);
  const cells: Cell[] = [];
  const failovers: Failover[] = [];
  const failures: { target: TargetName; error: string }[] = [];
  let running: KvTarget[] = [];

  /** A target that fails is reported and dropped; the others go on. */
  const attempt = async (target: KvTarget, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ target: target.name, error: message });
      console.error(`${target.name}: stopped measuring: ${message}`);
      running = running.filter((t) => t !== target);
      await target.shutdown();
    }
  };

  let idle: IdleCpu[] = [];
  try {
    for (const name of options.targets) {
      console.log(`${name}: starting 3 members`);
      try {
        running.push(await startTarget(name, options, protoFile));
      } catch (error) {
        failures.push({
          target: name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    for (const target of [...running]) {
      await attempt(target, () => preload(target, options, value));
    }
    idle = await measureIdleCpu(running);

    let turn = 0;
    for (let round = 1; round <= options.rounds; round++) {
      for (const op of OPS) {
        for (const placement of options.placements) {
          for (const clients of options.clients) {
            for (const target of inTurn(running, turn++)) {
              await attempt(target, async () => {
                cells.push(
                  await measureCell(target, options, value, op, placement, clients, round),
                );
              });
            }
          }
        }
      }
    }
    for (let run = 1; run <= options.failoverRuns; run++) {
      for (const target of inTurn(running, run)) {
        await attempt(target, async () => {
          failovers.push(await failover(target, options, value, run));
        });
      }
    }
  } finally {
    await Promise.all(running.map((t) => t.shutdown()));
  }

  const context: RunContext = {
    machine,
    options,
    command,
    startedAt,
    loadAtStart,
    loadAtEnd: loadAverage(),
    idle,
    failures,
  };
  const summary = summarizeCells(cells);
  console.log(`\n${medianNote(summary)}\n\n${resultsTable(summary)}\n`);
  const ratios = ratioTable(summary);
  if (ratios) console.log(`cat-feeder / etcd:\n\n${ratios}\n`);
  if (failovers.length > 0) {
    console.log(`Failover (ms from the kill):\n\n${failoverTable(failovers)}\n`);
  }

  if (options.json !== undefined) {
    await mkdir(dirname(options.json), { recursive: true });
    await writeFile(
      options.json,
      `${JSON.stringify({ ...context, startedAt: startedAt.toISOString(), cells, summary, failovers }, null, 2)}\n`,
    );
    console.log(`figures written to ${options.json}`);
  }
  if (options.out !== undefined) {
    if (failures.length > 0) {
      const failed = [...new Set(failures.map((f) => f.target))].join(', ');
      console.error(`not writing ${options.out}: ${failed} failed`);
    } else {
      await mkdir(dirname(options.out), { recursive: true });
      const charts = chartFiles(options.out);
      await writeFile(charts.throughput, chartSvg(summary, 'throughput'));
      await writeFile(charts.p99, chartSvg(summary, 'p99'));
      const links = { throughput: basename(charts.throughput), p99: basename(charts.p99) };
      await writeFile(options.out, markdownReport(context, summary, failovers, links));
      console.log(
        `report written to ${options.out}, charts to ${charts.throughput} and ${charts.p99}`,
      );
    }
  }
  return failures.length > 0 ? 1 : 0;
}

await runBench(main);
