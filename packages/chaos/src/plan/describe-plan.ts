// Plans and steps in words, for `--dry-run`, the run's progress lines and the report.
import { formatDuration } from '../experiment/duration.js';
import type { FaultSpec, StepSpec } from '../experiment/experiment-types.js';
import type { Preflight } from '../run/preflight.js';
import type { ExperimentPlan } from './plan-experiment.js';
import type { ResolvedStep } from './resolve-step.js';

/** `latency 200ms ± 20ms (normal)` */
export function describeFault(fault: FaultSpec): string {
  switch (fault.kind) {
    case 'latency':
      return `latency ${fault.delay}${fault.jitter ? ` ± ${fault.jitter}` : ''}${fault.distribution ? ` (${fault.distribution})` : ''}`;
    case 'loss':
      return `loss of ${Math.round(fault.probability * 100)}% of calls and messages`;
    case 'reject':
      return `reject ${Math.round((fault.probability ?? 1) * 100)}% of calls with UNAVAILABLE`;
    case 'partition':
      return 'partition';
    case 'bandwidth':
      return `bandwidth limited to ${fault.bytesPerSecond} bytes/s`;
    case 'pause':
      return fault.pauseFor
        ? `pause of the event loop for ${fault.pauseFor}${fault.every ? ` every ${fault.every}` : ''}`
        : 'pause';
    case 'kill':
      return `kill -9${fault.restartAfter ? `, restarted after ${fault.restartAfter}` : ''}`;
  }
}

/** `partition (both ways) of cat-feeder-1 from cat-feeder-2, cat-feeder-3, by app` */
export function describeStep(step: StepSpec, resolved?: ResolvedStep): string {
  const targets = resolved
    ? resolved.targets.map((t) => t.name).join(', ')
    : selectorText(step.target);
  const peers = resolved?.peers
    ? resolved.peers.map((p) => p.name).join(', ')
    : step.peers
      ? selectorText(step.peers)
      : undefined;
  const fault = describeFault(step.fault);
  const how = `by the ${step.mechanism} mechanism`;
  if (step.fault.kind === 'partition') {
    const way = step.partition === 'one-way' ? 'one way, from' : 'both ways, between';
    return `${fault} (${way}) ${targets} and ${peers ?? 'every other instance'}, ${how}`;
  }
  const scope = peers
    ? `, traffic with ${peers}${step.direction && step.direction !== 'both' ? ` (${step.direction})` : ''}`
    : step.direction && step.direction !== 'both'
      ? ` (${step.direction} traffic)`
      : '';
  const transports = step.transports ? ` over ${step.transports.join(', ')}` : '';
  return `${fault} on ${targets}${scope}${transports}, ${how}`;
}

function selectorText(selector: StepSpec['target']): string {
  const parts: string[] = [];
  if (selector.role)
    parts.push(`the ${selector.role}${selector.role === 'follower' ? 's' : ''} of`);
  if (selector.instances) parts.push(selector.instances.join(', '));
  else if (selector.service) parts.push(selector.service);
  if (selector.count !== undefined) parts.push(`(${selector.count} of them)`);
  if (selector.percent !== undefined) parts.push(`(${selector.percent}%)`);
  return parts.join(' ');
}

/** The dry run's text: the timeline, and each step's targets as the mesh stands now. */
export function describePlan(plan: ExperimentPlan, preflight: Preflight): string {
  const { experiment } = plan;
  const lines = [
    `experiment ${experiment.metadata.name}${experiment.spec.lesson ? ` (${experiment.spec.lesson})` : ''}`,
    ...experiment.spec.description
      .trim()
      .split('\n')
      .map((line) => `  ${line}`),
    '',
    `timeline${plan.timeScale === 1 ? '' : ` (time scale ${plan.timeScale})`}:`,
    `  0s          steady state measured for ${formatDuration(plan.beforeMs)}`,
  ];
  plan.steps.forEach((step, i) => {
    const at = formatDuration(plan.beforeMs + step.startMs);
    lines.push(
      `  ${at.padEnd(11)} ${step.spec.name}: ${describeStep(step.spec, preflight.steps[i])} for ${formatDuration(step.durationMs)}`,
    );
    if (step.spec.target.role || step.spec.peers?.role) {
      lines.push(`  ${''.padEnd(11)} (roles resolved again when the step starts)`);
    }
  });
  lines.push(
    `  ${formatDuration(plan.beforeMs + plan.faultWindowMs).padEnd(11)} recovery watched for ${formatDuration(plan.afterMs)}`,
    '',
    'workload:',
    ...Object.entries(plan.workload).map(
      ([name, w]) => `  ${name}: ${(w as { ratePerSecond: number }).ratePerSecond}/s`,
    ),
    '',
    'hypothesis:',
    ...(experiment.spec.steadyState.hypothesis.length === 0
      ? ['  (none: the report only measures)']
      : experiment.spec.steadyState.hypothesis.map(
          (probe) =>
            `  ${probe.sli}${probe.atLeast !== undefined ? ` >= ${probe.atLeast}` : ''}${probe.atMost !== undefined ? ` <= ${probe.atMost}` : ''}`,
        )),
  );
  if (preflight.group?.leader) {
    lines.push(
      '',
      `cat-feeder leader now: ${preflight.group.leader.instance} (term ${preflight.group.leader.term})`,
    );
  }
  return lines.join('\n');
}
