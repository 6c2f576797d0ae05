// One run of an experiment against a live mesh, start to report:
//
//   preflight → restock → workload + Raft observer start → steady state (before)
//   → steps applied and reverted on their schedule (the fault window) → recovery (after)
//   → workload stops → every fault of the run reverted → orders settle → checks → report
//
// Every fault is applied with an absolute expiry held by whoever enforces it (the target process
// for the app mechanism, the runner for process faults), so a run killed at any point leaves
// nothing behind for longer than its steps' durations. A run that is stopped (its signal aborts)
// reverts what it applied and still reports what ran.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkKvHistory, renderHistoryHtml, serializeHistory } from '@catmesh/linearizability';
import { abortableSleep as sleep } from '../async/abortable-sleep.js';
import { FaultAdmins } from '../drivers/fault-admin.js';
import type { MeshAccess, MeshInstance } from '../mesh/mesh-access.js';
import { ReplicaRoles } from '../mesh/replica-roles.js';
import { observeRaft, type RaftSample } from '../observe/raft-observer.js';
import { describeStep } from '../plan/describe-plan.js';
import type { ExperimentPlan, TimedStep } from '../plan/plan-experiment.js';
import { EXPIRY_BACKSTOP_MS, resolveStep, type Placement } from '../plan/resolve-step.js';
import { findings } from '../report/findings.js';
import { judgeHypothesis } from '../report/hypothesis.js';
import { operationReport } from '../report/operation-stats.js';
import { raftReport } from '../report/raft-report.js';
import { renderReportHtml } from '../report/render-report-html.js';
import { stepEffect, type OperationLogView } from '../report/step-effect.js';
import { assertValidReport } from '../report/report-schema.js';
import {
  REPORT_API_VERSION,
  REPORT_KIND,
  type ChaosReport,
  type LinearizabilityReport,
  type ShopReport,
  type StepRecord,
  type TimeWindow,
  type WindowName,
} from '../report/report-types.js';
import { startWorkload } from '../workload/mesh-workload.js';
import { ShopLedger } from '../workload/shop-ledger.js';
import { preflight, type Preflight } from './preflight.js';

/** How long the linearizability checker may search before answering `unknown`. */
const CHECK_BUDGET_MS = 30_000;

export type RunEvent =
  | { readonly type: 'phase'; readonly phase: WindowName | 'settle' | 'check'; readonly at: number }
  | {
      readonly type: 'applied';
      readonly step: string;
      readonly description: string;
      /** The instances that hold the fault (one side of a partition). */
      readonly targets: readonly string[];
      /** When the holders drop the fault on their own (epoch milliseconds). */
      readonly expiresAt: number;
      readonly at: number;
    }
  | { readonly type: 'reverted'; readonly step: string; readonly at: number }
  | {
      readonly type: 'step-failed';
      readonly step: string;
      readonly error: string;
      readonly at: number;
    };

export interface RunOptions {
  readonly plan: ExperimentPlan;
  /** The file the experiment came from, for the report. */
  readonly source: string;
  readonly mesh: MeshAccess;
  /** Where report.json, report.html and the history go; created if missing. */
  readonly reportDir: string;
  /** Aborting stops the run early: faults are reverted and the report is still written. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RunEvent) => void;
  /**
   * Carried by every fault the run applies, so that whoever outlives the run can revert them by
   * it (the controller keeps it in the experiment's status); unique by default.
   */
  readonly runId?: string;
  /** The preflight of `plan` on `mesh`, when the caller has just run it; else the run does. */
  readonly preflight?: Preflight;
}

export interface RunResult {
  readonly report: ChaosReport;
  readonly files: {
    readonly json: string;
    readonly html: string;
    readonly history?: string;
    readonly explanation?: string;
  };
}

interface StepState {
  readonly timed: TimedStep;
  appliedAt: number | null;
  revertedAt: number | null;
  targets: string[];
  peers: string[] | null;
  placements: Placement[];
  injections: number | null;
  error?: string;
  description: string;
}

export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const { plan, mesh, signal } = options;
  const { experiment } = plan;
  const checked = options.preflight ?? (await preflight(plan, mesh));
  const instances = checked.instances;
  const runId = options.runId ?? `${experiment.metadata.name}-${Date.now().toString(36)}`;
  const startedAt = new Date();
  const t0 = performance.now();
  const clock = (): number => performance.now() - t0;
  const emit = (event: RunEvent): void => options.onEvent?.(event);
  const admins = new FaultAdmins(instances);
  const replicas = instances.filter((instance) => instance.service === 'cat-feeder');
  const roles = replicas.length > 0 ? new ReplicaRoles(replicas) : undefined;
  const ledger = plan.workload.orders
    ? new ShopLedger(instances, plan.workload.orders.sku)
    : undefined;
  const states: StepState[] = plan.steps.map((timed) => ({
    timed,
    appliedAt: null,
    revertedAt: null,
    targets: [],
    peers: null,
    placements: [],
    injections: null,
    description: describeStep(timed.spec),
  }));
  try {
    if (ledger && plan.workload.orders) {
      const { ratePerSecond, quantity } = plan.workload.orders;
      const seconds = (plan.beforeMs + plan.faultWindowMs + plan.afterMs) / 1000;
      await ledger.open(Math.ceil(ratePerSecond * seconds * quantity * 1.5) + 10, runId);
    }
    const workload = startWorkload({
      plan: plan.workload,
      instances,
      runId,
      seed: plan.seed,
      clock,
    });
    const observer = roles && observeRaft(roles, clock);
    emit({ type: 'phase', phase: 'before', at: clock() });
    await sleep(plan.beforeMs, signal);
    const faultStart = clock();
    emit({ type: 'phase', phase: 'during', at: faultStart });
    await Promise.all(
      states.map((state) =>
        runStep(state, faultStart, {
          plan,
          mesh,
          admins,
          roles,
          instances,
          runId,
          clock,
          emit,
          signal,
        }),
      ),
    );
    const faultEnd = clock();
    emit({ type: 'phase', phase: 'after', at: faultEnd });
    await sleep(plan.afterMs, signal);
    const end = clock();
    await workload.stop();
    await observer?.stop();
    await revertRun(mesh, admins, runId);

    emit({ type: 'phase', phase: 'settle', at: clock() });
    const shop: ShopReport | null = ledger
      ? await ledger.close(
          workload.placedOrders,
          `chaos-${runId}`,
          startedAt.getTime() - 1_000,
          plan.settleMs,
        )
      : null;

    emit({ type: 'phase', phase: 'check', at: clock() });
    await mkdir(options.reportDir, { recursive: true });
    const windows: Record<WindowName, TimeWindow> = {
      before: { start: 0, end: faultStart },
      during: { start: faultStart, end: faultEnd },
      after: { start: faultEnd, end },
    };
    const firstFaultAt = Math.min(...states.map((s) => s.appliedAt ?? Infinity), faultEnd);
    const probes = experiment.spec.steadyState.hypothesis;
    const operations = workload.logs.map((log) =>
      operationReport(log.name, log.label, log.samples, {
        windows,
        firstFaultAt: Number.isFinite(firstFaultAt) ? firstFaultAt : faultStart,
        probes: probes.filter((probe) => probe.sli.startsWith(`${log.name}.`)),
      }),
    );
    const files: { json: string; html: string; history?: string; explanation?: string } = {
      json: join(options.reportDir, 'report.json'),
      html: join(options.reportDir, 'report.html'),
    };
    let linearizability: LinearizabilityReport | null = null;
    const history = workload.history();
    if (history && workload.consistency) {
      files.history = join(options.reportDir, 'history.json');
      await writeFile(files.history, serializeHistory(history));
      const result = checkKvHistory(history, { timeoutMs: CHECK_BUDGET_MS });
      if (result.verdict === 'illegal') {
        files.explanation = join(options.reportDir, 'linearizability.html');
        await writeFile(
          files.explanation,
          renderHistoryHtml(history, {
            result,
            title: `${experiment.metadata.name}: ${workload.consistency} reads`,
            ...(result.failure && { key: result.failure.key }),
          }),
        );
      }
      linearizability = {
        consistency: workload.consistency,
        verdict: result.verdict,
        operations: history.events.filter((event) => event.type === 'invoke').length,
        keys: result.keys.length,
        ...(result.failure && { explanation: result.failure.explanation }),
        historyFile: 'history.json',
        ...(files.explanation && { explanationFile: 'linearizability.html' }),
      };
    }
    const parts = {
      apiVersion: REPORT_API_VERSION,
      kind: REPORT_KIND,
      experiment: {
        name: experiment.metadata.name,
        description: experiment.spec.description.trim(),
        lesson: experiment.spec.lesson ?? null,
        source: options.source,
      },
      run: {
        id: runId,
        startedAt: startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        timeScale: plan.timeScale,
        interrupted: signal?.aborted ?? false,
        mesh: mesh.description,
      },
      windows: roundWindows(windows),
      steps: states.map(stepRecord(faultStart, observer?.samples ?? [], workload.logs)),
      operations,
      raft: observer ? raftReport(observer.samples, windows) : null,
      linearizability,
      shop,
      hypothesis: judgeHypothesis(probes, operations),
    } satisfies Omit<ChaosReport, 'findings'>;
    const report: ChaosReport = { ...parts, findings: findings(parts) };
    assertValidReport(report);
    await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(files.html, renderReportHtml(report));
    return { report, files };
  } finally {
    // Whatever happened above, nothing of this run stays in force (their expiries would end them
    // anyway; this ends them now).
    await revertRun(mesh, admins, runId).catch(() => undefined);
    admins.close();
    roles?.close();
    ledger?.closeClients();
  }
}

interface StepContext {
  readonly plan: ExperimentPlan;
  readonly mesh: MeshAccess;
  readonly admins: FaultAdmins;
  readonly roles: ReplicaRoles | undefined;
  readonly instances: readonly MeshInstance[];
  readonly runId: string;
  readonly clock: () => number;
  readonly emit: (event: RunEvent) => void;
  readonly signal: AbortSignal | undefined;
}

/** Waits for the step's start, applies it everywhere (or nowhere), waits its duration, reverts. */
async function runStep(state: StepState, faultStart: number, context: StepContext): Promise<void> {
  const { timed } = state;
  const { clock, emit, signal, admins, mesh } = context;
  await sleep(faultStart + timed.startMs - clock(), signal);
  if (signal?.aborted) return;
  const name = timed.spec.name;
  try {
    const group = context.roles ? await context.roles.view() : undefined;
    const now = Date.now();
    const resolved = resolveStep(timed.spec, timed.index, timed.durationMs, {
      instances: context.instances,
      ...(group && { group }),
      seed: context.plan.seed,
      runId: context.runId,
      now,
    });
    state.targets = resolved.targets.map((t) => t.name);
    state.peers = resolved.peers ? resolved.peers.map((p) => p.name) : null;
    state.description = describeStep(timed.spec, resolved);
    const applied: Placement[] = [];
    try {
      // In parallel: the two sides of a partition should start together.
      await Promise.all(
        resolved.placements.map(async (placement) => {
          await applyPlacement(placement, admins, mesh);
          applied.push(placement);
        }),
      );
    } catch (error) {
      await Promise.all(
        applied.map((p) => revertPlacement(p, admins, mesh).catch(() => undefined)),
      );
      throw error;
    }
    state.placements = applied;
    state.appliedAt = clock();
    emit({
      type: 'applied',
      step: name,
      description: state.description,
      targets: state.targets,
      expiresAt: now + timed.durationMs + EXPIRY_BACKSTOP_MS,
      at: state.appliedAt,
    });
  } catch (error) {
    state.error = (error as Error).message;
    emit({ type: 'step-failed', step: name, error: state.error, at: clock() });
    return;
  }
  await sleep(timed.durationMs - (clock() - state.appliedAt), signal);
  state.injections = await countInjections(state.placements, admins);
  await Promise.all(
    state.placements.map((p) => revertPlacement(p, admins, mesh).catch(() => undefined)),
  );
  state.revertedAt = clock();
  emit({ type: 'reverted', step: name, at: state.revertedAt });
}

async function applyPlacement(
  placement: Placement,
  admins: FaultAdmins,
  mesh: MeshAccess,
): Promise<void> {
  switch (placement.mechanism) {
    case 'app':
      return admins.apply(placement.instance.name, placement.fault).then(() => undefined);
    case 'process':
      return mesh.processFaults!.apply(placement.request).then(() => undefined);
    case 'network':
      return mesh.networkFaults!.apply(placement.request);
  }
}

async function revertPlacement(
  placement: Placement,
  admins: FaultAdmins,
  mesh: MeshAccess,
): Promise<void> {
  switch (placement.mechanism) {
    case 'app':
      return admins.revert(placement.instance.name, placement.fault.id).then(() => undefined);
    case 'process':
      return mesh.processFaults!.revert(placement.request.id);
    case 'network':
      return mesh.networkFaults!.revert(placement.request.id);
  }
}

/** What the app faults acted on, read from their holders just before they are reverted. */
async function countInjections(
  placements: readonly Placement[],
  admins: FaultAdmins,
): Promise<number | null> {
  const app = placements.filter((p) => p.mechanism === 'app');
  if (app.length === 0) return null;
  const counts = await Promise.all(
    app.map(async (placement) => {
      try {
        const { faults } = await admins.list(placement.instance.name);
        return faults.find((f) => f.fault?.id === placement.fault.id)?.injections ?? 0;
      } catch {
        // A paused or cut-off holder cannot say; its fault still ends on time.
        return 0;
      }
    }),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

/** Every fault this run applied, anywhere, reverted now. */
async function revertRun(mesh: MeshAccess, admins: FaultAdmins, runId: string): Promise<void> {
  await Promise.all([
    ...admins.names.map((name) => admins.revertAll(name, runId).catch(() => undefined)),
    mesh.processFaults?.revertAll(runId).catch(() => undefined),
    mesh.networkFaults?.revertAll(runId).catch(() => undefined),
  ]);
}

function stepRecord(
  faultStart: number,
  samples: readonly RaftSample[],
  logs: readonly OperationLogView[],
) {
  return (state: StepState): StepRecord => ({
    name: state.timed.spec.name,
    mechanism: state.timed.spec.mechanism,
    kind: state.timed.spec.fault.kind,
    description: state.description,
    plannedStart: Math.round(faultStart + state.timed.startMs),
    plannedEnd: Math.round(faultStart + state.timed.startMs + state.timed.durationMs),
    appliedAt: state.appliedAt === null ? null : Math.round(state.appliedAt),
    revertedAt: state.revertedAt === null ? null : Math.round(state.revertedAt),
    targets: state.targets,
    peers: state.peers,
    injections: state.injections,
    effect:
      state.appliedAt === null || state.revertedAt === null
        ? null
        : stepEffect({ start: state.appliedAt, end: state.revertedAt }, samples, logs),
    ...(state.error !== undefined && { error: state.error }),
  });
}

function roundWindows(windows: Record<WindowName, TimeWindow>): Record<WindowName, TimeWindow> {
  const r = (w: TimeWindow): TimeWindow => ({ start: Math.round(w.start), end: Math.round(w.end) });
  return { before: r(windows.before), during: r(windows.during), after: r(windows.after) };
}
