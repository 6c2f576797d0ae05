import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createNetfilterInjector,
  describeFault,
  nemesisTimeline,
  networkNamespaceProblem,
  playTimeline,
  type FaultEvent,
} from '@catmesh/faults';
import { createHistoryRecorder, historyOperations, type History } from '@catmesh/linearizability';
import {
  CheckUsageError,
  nemesisNames,
  resolveCheckOptions,
  type CheckOptions,
  type ResolvedCheckOptions,
} from './check-options.js';
import { catFeederDriver } from './cluster/cat-feeder-driver.js';
import { Cluster } from './cluster/cluster.js';
import { etcdDriver } from './cluster/etcd-driver.js';
import type { TargetDriver } from './cluster/target.js';
import type { CheckReport } from './report/check-report.js';
import { formatReport } from './report/print-report.js';
import { writeRunFiles } from './report/write-run-files.js';
import { waitForConvergence, type ConvergenceResult } from './verdict/convergence.js';
import { powerLossRestartAndRead, type FinalReads } from './verdict/durability.js';
import { FaultLog } from './verdict/fault-log.js';
import { judge } from './verdict/judge.js';
import { operationStats } from './verdict/operation-stats.js';
import { runClients } from './workload/clients.js';
import { Workload } from './workload/workload.js';

// A Jepsen-style check from start to end: a cluster of the target in network namespaces, clients
// recording a history while a seeded nemesis breaks things, then heal and verdicts:
//   linearizable - the history (reads included) has a valid linearization;
//   convergence  - every member ends with the same state;
//   durability   - after every member lost power at once (kill -9 plus a rollback of what was
//                  not fsynced) and a restart, each key's value is explained by the writes
//                  (acknowledged or unknown) and no acknowledged write is lost;
//   crashes      - no member exited on its own.

/** Where a check writes; the CLI's CliIo fits. */
export interface CheckIo {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
  /** The caller's environment: members' processes get its PATH (to find node, etcd, ip). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stops the run; faults are reverted and the cluster removed before runCheck rejects. */
  readonly signal?: AbortSignal;
}

export interface CheckRun {
  /** 0 every check passed, 1 a check failed or could not decide, 2 the run could not be made. */
  readonly exitCode: 0 | 1 | 2;
  /** Absent when the run could not be made (usage error, missing target, no root). */
  readonly report?: CheckReport;
}

/** How long the cluster may take to elect a leader, converge, or come back after the crash. */
const SETTLE_MS = 30_000;

export async function runCheck(input: CheckOptions, io: CheckIo): Promise<CheckRun> {
  const cannot = (problem: string): CheckRun => {
    io.stderr.write(`check: ${problem}\n`);
    return { exitCode: 2 };
  };
  let options: ResolvedCheckOptions;
  try {
    options = resolveCheckOptions(input);
  } catch (error) {
    if (error instanceof CheckUsageError) return cannot(error.message);
    throw error;
  }
  const problem = networkNamespaceProblem();
  if (problem !== undefined) return cannot(`cannot run here: ${problem}`);
  let driver: TargetDriver;
  try {
    driver =
      options.target === 'cat-feeder'
        ? catFeederDriver(options.catFeederMain, io.env['PATH'], options.plantedStorageBug)
        : etcdDriver({
            protoFile: options.etcdProto,
            binary: options.etcdBinary,
            path: io.env['PATH'],
          });
  } catch (error) {
    return cannot((error as Error).message);
  }
  const dir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'catmesh-jepsen-')));
  await mkdir(dir, { recursive: true });
  io.stdout.write(
    `check: ${options.target}, ${options.nodes} members, ${options.clients} clients, ` +
      `${options.durationMs / 1000}s, seed ${options.seed}, ${options.readConsistency} reads, ` +
      `nemesis ${options.nemeses.length === 0 ? 'none' : options.nemeses.join(',')}\n`,
  );

  const crashes: string[] = [];
  let cluster: Cluster;
  try {
    cluster = await Cluster.start({
      driver,
      nodes: options.nodes,
      onUnexpectedExit: (member, exit) =>
        crashes.push(`${member} exited on its own (${exit.signal ?? `code ${exit.code}`})`),
    });
  } catch (error) {
    return cannot(`could not start the cluster: ${(error as Error).message}`);
  }

  // The history's clock starts with the clients' run, so that the times in the history, in the
  // checker's explanation and in the fault log read as offsets into the run.
  let t0 = performance.now();
  const now = () => performance.now() - t0;
  const recorder = createHistoryRecorder({ now, timeUnit: 'ms' });
  const faultLog = new FaultLog(now);
  const workload = new Workload(options);
  const faultErrors: string[] = [];
  let mainHistory: History;
  let convergence: ConvergenceResult;
  let finalReads: FinalReads | string;
  let logs: Map<string, string>;
  try {
    try {
      await cluster.waitForLeader(SETTLE_MS, io.signal);
    } catch (error) {
      return cannot(`${(error as Error).message}\n${tails(cluster.logs())}`);
    }
    t0 = performance.now();
    const elapsed = () => `+${(now() / 1000).toFixed(1)}s`;
    const loseUnsynced = cluster.loseUnsynced();
    const injector = createNetfilterInjector({
      targets: cluster.network.targets(),
      processes: cluster.processes,
      ...(loseUnsynced && { loseUnsynced }),
      onEvent: (event: FaultEvent) => {
        faultLog.record(event);
        if (event.type !== 'revert-failed') {
          io.stdout.write(`${elapsed()} ${event.type} ${describeFault(event.fault)}\n`);
        }
      },
    });
    try {
      const timeline =
        options.nemeses.length === 0
          ? []
          : nemesisTimeline({
              seed: options.seed,
              nodes: cluster.members,
              nemeses: options.nemeses.map((n) => nemesisNames[n]),
              totalMs: options.durationMs,
              faultMs: options.faultMs,
              quietMs: options.quietMs,
            });
      await Promise.all([
        runClients({
          members: cluster.members,
          member: (name) => cluster.member(name),
          writeNotApplied: (error) => driver.writeNotApplied(error),
          recorder,
          workload,
          clients: options.clients,
          durationMs: options.durationMs,
          rate: options.rate,
          opTimeoutMs: options.opTimeoutMs,
          readConsistency: options.readConsistency,
          runId: `${String(options.seed)}-${process.pid}-${Date.now().toString(36)}`,
          signal: io.signal,
        }),
        playTimeline(timeline, {
          // A fault that cannot be applied (its target is down) is reported, not fatal.
          apply: (fault) =>
            injector.apply(fault).catch((error: unknown) => {
              faultErrors.push(`${describeFault(fault)}: ${(error as Error).message}`);
            }),
          leader: () => cluster.leader(),
          signal: io.signal,
        }),
      ]);
    } finally {
      await injector.close();
    }
    mainHistory = recorder.history();
    io.stdout.write(`${elapsed()} clients done, faults healed; waiting for convergence\n`);

    // Heal: a member that died on its own (already counted as a crash) is started again.
    for (const member of cluster.members) {
      if (cluster.processes.status(member).state === 'exited') {
        await cluster.processes.restart(member);
      }
    }
    convergence = await waitForConvergence(cluster, SETTLE_MS, io.signal);
    io.stdout.write(`${elapsed()} every member loses power, restart, final reads\n`);
    try {
      finalReads = await powerLossRestartAndRead(
        cluster,
        workload.keys,
        recorder,
        SETTLE_MS,
        io.signal,
      );
    } catch (error) {
      io.signal?.throwIfAborted();
      finalReads = (error as Error).message;
    }
  } finally {
    logs = cluster.logs();
    await cluster.destroy();
  }

  io.stdout.write(`checking ${historyOperations(mainHistory).length} operations\n`);
  const fullHistory = recorder.history();
  const { checks, drawn } = judge(
    {
      mainHistory,
      fullHistory,
      convergence,
      finalReads,
      crashes,
      keys: workload.keys.length,
    },
    options.checkTimeoutMs,
  );
  const title = `catmesh check: ${options.target}, seed ${String(options.seed)}, ${options.readConsistency} reads`;
  const files = await writeRunFiles(dir, { history: fullHistory, drawn, title, logs });
  const report: CheckReport = {
    passed: checks.every((c) => c.passed),
    options,
    faults: faultLog.all.map((w) => ({
      description: w.description,
      startMs: Math.round(w.start),
      endMs: w.end === undefined ? undefined : Math.round(w.end),
    })),
    faultErrors,
    stats: operationStats(historyOperations(mainHistory), (t) => faultLog.activeAt(t)),
    checks,
    files,
  };
  await writeFile(files.summary, JSON.stringify(report, null, 2) + '\n');
  io.stdout.write(formatReport(report));
  return { exitCode: report.passed ? 0 : 1, report };
}

function tails(logs: Map<string, string>): string {
  return [...logs]
    .map(([member, output]) => `--- ${member}:\n${output.split('\n').slice(-15).join('\n')}`)
    .join('\n');
}
