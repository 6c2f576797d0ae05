// The experiment's status through one run, as pure transitions: accepted with its targets
// resolved (Pending), then moved by the run's events (Injected, Recovered, Failed), then finished
// with the report's verdict or failed with a reason. The controller writes each result through
// the status subresource; keeping the transitions here keeps them testable without a server.
import type {
  ChaosReport,
  ExperimentPlan,
  ExperimentStatus,
  MeshInstance,
  Preflight,
  RunEvent,
  TargetRecord,
} from '@catmesh/chaos';
import { setCondition, type ConditionChange } from './conditions.js';

export interface StatusContext {
  readonly generation: number;
  readonly now: Date;
}

/** The run is accepted: every step's targets as preflight resolved them, none touched yet. */
export function acceptedStatus(
  plan: ExperimentPlan,
  checked: Preflight,
  runId: string,
  context: StatusContext,
): ExperimentStatus {
  const leader = checked.group?.leader?.instance;
  const targets = plan.steps.flatMap((timed, index) =>
    (checked.steps[index]?.targets ?? []).map((instance): TargetRecord => ({
      step: timed.spec.name,
      pod: instance.name,
      ...ipOf(instance),
      ...(instance.service === 'cat-feeder' &&
        leader !== undefined && { role: instance.name === leader ? 'leader' : 'follower' }),
      state: 'Pending',
    })),
  );
  const kinds = [...new Set(plan.steps.map((timed) => timed.spec.fault.kind))];
  return withConditions(
    {
      phase: 'Running',
      startedAt: context.now.toISOString(),
      runId,
      fault: kinds.join('+'),
      targets,
      targetSummary: summaryOf(targets),
    },
    context,
    [
      {
        type: 'Accepted',
        status: 'True',
        reason: 'TargetsResolved',
        message: acceptedMessage(targets),
      },
      { type: 'Injected', status: 'False', reason: 'NotYet', message: 'no fault is in force yet' },
      { type: 'Complete', status: 'False', reason: 'Running', message: 'the run is under way' },
    ],
  );
}

/** One event of the run, reflected in the status. */
export function statusAfterEvent(
  status: ExperimentStatus,
  event: RunEvent,
  instances: readonly MeshInstance[],
  context: StatusContext,
): ExperimentStatus {
  const now = context.now.toISOString();
  const targets = status.targets ?? [];
  switch (event.type) {
    case 'phase':
      return event.phase === 'after' ? { ...status, phase: 'Recovering' } : status;
    case 'applied': {
      // The step resolved its targets again when it started (a role may have moved since
      // preflight): these are the pods that hold the fault.
      const byName = new Map(instances.map((instance) => [instance.name, instance]));
      const planned = targets.filter((t) => t.step === event.step);
      const applied = event.targets.map((pod): TargetRecord => ({
        ...planned.find((t) => t.pod === pod),
        step: event.step,
        pod,
        ...(byName.has(pod) && ipOf(byName.get(pod)!)),
        state: 'Injected',
        injectedAt: now,
        expiresAt: new Date(event.expiresAt).toISOString(),
      }));
      return injectedCondition(
        replaceStep(status, event.step, applied),
        context,
        `${event.step}: ${event.description}`,
      );
    }
    case 'reverted': {
      const recovered = targets
        .filter((t) => t.step === event.step)
        .map((t): TargetRecord =>
          t.state === 'Injected' ? { ...t, state: 'Recovered', recoveredAt: now } : t,
        );
      return injectedCondition(replaceStep(status, event.step, recovered), context);
    }
    case 'step-failed': {
      const failed = targets
        .filter((t) => t.step === event.step)
        .map((t): TargetRecord => ({ ...t, state: 'Failed', message: event.error }));
      return injectedCondition(replaceStep(status, event.step, failed), context);
    }
  }
}

/** The run is over and its report stored. */
export function finishedStatus(
  status: ExperimentStatus,
  report: ChaosReport,
  reportConfigMap: string,
  context: StatusContext,
): ExperimentStatus {
  const verdict = report.hypothesis.verdict;
  return withConditions(
    {
      ...status,
      phase: 'Finished',
      finishedAt: context.now.toISOString(),
      verdict,
      summary: report.findings.join(' ') || `hypothesis ${verdict}`,
      reportConfigMap,
      targetSummary: summaryOf(status.targets ?? []),
    },
    context,
    [
      {
        type: 'Injected',
        status: 'False',
        reason: 'Recovered',
        message: 'every fault is reverted',
      },
      {
        type: 'Complete',
        status: 'True',
        reason: 'Finished',
        message: `hypothesis ${verdict}; the report is in ConfigMap ${reportConfigMap}`,
      },
    ],
  );
}

export type FailureReason =
  /** The spec is not a valid experiment (beyond what the CRD schema checks). */
  | 'Invalid'
  /** Valid, but the mesh cannot run it now: no targets, a missing service or mechanism. */
  | 'PreflightFailed'
  /** The controller running it stopped (a restart, a Lease handover); its faults are reverted. */
  | 'Interrupted'
  /** The run itself failed. */
  | 'RunFailed';

/** The experiment ends without a report; nothing of it stays in force. */
export function failedStatus(
  status: ExperimentStatus,
  reason: FailureReason,
  message: string,
  context: StatusContext,
): ExperimentStatus {
  const refused = reason === 'Invalid' || reason === 'PreflightFailed';
  const targets = (status.targets ?? []).map((t): TargetRecord =>
    t.state === 'Injected'
      ? { ...t, state: 'Recovered', recoveredAt: context.now.toISOString() }
      : t,
  );
  return withConditions(
    {
      ...status,
      phase: 'Failed',
      finishedAt: context.now.toISOString(),
      summary: message,
      targets,
      targetSummary: summaryOf(targets),
    },
    context,
    [
      ...(refused ? [{ type: 'Accepted', status: 'False', reason, message } as const] : []),
      {
        type: 'Injected',
        status: 'False',
        reason: refused ? 'NotInjected' : 'Recovered',
        message: refused ? 'nothing was touched' : 'every fault is reverted',
      },
      { type: 'Complete', status: 'True', reason, message },
    ],
  );
}

/** `2/3 injected`, `3/3 recovered`, with the failed and gone counted apart. */
export function summaryOf(targets: readonly TargetRecord[]): string {
  const count = (state: TargetRecord['state']): number =>
    targets.filter((t) => t.state === state).length;
  const injected = count('Injected');
  const recovered = count('Recovered');
  const head =
    injected > 0 || recovered === 0
      ? `${injected}/${targets.length} injected`
      : `${recovered}/${targets.length} recovered`;
  const extra = (['Failed', 'Gone'] as const)
    .filter((state) => count(state) > 0)
    .map((state) => `${count(state)} ${state.toLowerCase()}`);
  return [head, ...extra].join(', ');
}

function replaceStep(
  status: ExperimentStatus,
  step: string,
  records: readonly TargetRecord[],
): ExperimentStatus {
  const targets = [...(status.targets ?? []).filter((t) => t.step !== step), ...records];
  return { ...status, targets, targetSummary: summaryOf(targets) };
}

function injectedCondition(
  status: ExperimentStatus,
  context: StatusContext,
  latest?: string,
): ExperimentStatus {
  const inForce = [
    ...new Set((status.targets ?? []).filter((t) => t.state === 'Injected').map((t) => t.step)),
  ];
  return withConditions(status, context, [
    inForce.length > 0
      ? {
          type: 'Injected',
          status: 'True',
          reason: 'FaultInForce',
          message: latest ?? `in force: ${inForce.join(', ')}`,
        }
      : { type: 'Injected', status: 'False', reason: 'Recovered', message: 'no fault is in force' },
  ]);
}

function withConditions(
  status: ExperimentStatus,
  context: StatusContext,
  changes: readonly ConditionChange[],
): ExperimentStatus {
  let conditions = [...(status.conditions ?? [])];
  for (const change of changes) {
    conditions = setCondition(conditions, change, context.generation, context.now);
  }
  return { ...status, observedGeneration: context.generation, conditions };
}

function acceptedMessage(targets: readonly TargetRecord[]): string {
  const pods = [...new Set(targets.map((t) => t.pod))];
  return pods.length === 0
    ? 'valid; no step selects a pod of its own (partitions cut whole groups)'
    : `targets: ${pods.join(', ')}`;
}

function ipOf(instance: MeshInstance): { ip?: string } {
  const host = instance.address.slice(0, instance.address.lastIndexOf(':'));
  return host === '' ? {} : { ip: host };
}
