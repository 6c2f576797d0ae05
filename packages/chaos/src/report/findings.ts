// The report's first lines: what happened, in sentences a person reads before any chart.
import type { ChaosReport, OperationReport, StepEffect, StepRecord } from './report-types.js';

type Parts = Omit<ChaosReport, 'findings'>;

export function findings(report: Parts): string[] {
  const lines: string[] = [];
  const { hypothesis, linearizability, raft, shop } = report;
  if (report.run.interrupted)
    lines.push('The run was stopped before its end; the figures cover what ran.');
  const failedSteps = report.steps.filter((step) => step.error !== undefined);
  for (const step of failedSteps)
    lines.push(`Step ${step.name} could not be applied: ${step.error}.`);
  for (const step of report.steps) {
    if (step.effect) lines.push(stepSentence(step, step.effect));
  }
  lines.push(hypothesisSentence(report));
  for (const op of report.operations) {
    const sentence = operationSentence(op);
    if (sentence) lines.push(sentence);
  }
  if (raft) {
    if (raft.elections.length === 0) {
      lines.push('The cat-feeder leader did not change.');
    } else {
      const gaps = raft.elections.map((e) => e.gapMs);
      lines.push(
        `The cat-feeder leader changed ${raft.elections.length} time${raft.elections.length === 1 ? '' : 's'} ` +
          `(${raft.elections.map((e) => `${e.from ?? 'none'} → ${e.to} in term ${e.term}`).join('; ')}); ` +
          `the longest time without a known leader was ${Math.max(...gaps)} ms.`,
      );
    }
  }
  if (linearizability) {
    lines.push(
      linearizability.verdict === 'ok'
        ? `The ${linearizability.consistency} register history (${linearizability.operations} operations) is linearizable.`
        : linearizability.verdict === 'illegal'
          ? `The ${linearizability.consistency} register history is NOT linearizable: ${linearizability.explanation ?? 'see the explanation file'}`
          : `The linearizability check of the ${linearizability.consistency} register history ran out of time (unknown).`,
    );
  }
  if (shop) {
    const broken = shop.invariants.filter((check) => !check.holds);
    lines.push(
      broken.length === 0
        ? `The shop's invariants held: ${shop.ordersPlaced} orders, none lost or stuck, stock conserved, nothing oversold.`
        : `The shop's invariants broke: ${broken.map((check) => `${check.name} (${check.detail})`).join('; ')}.`,
    );
  }
  if (hypothesis.probes.length === 0 && report.operations.length === 0)
    lines.push('The experiment ran no workload.');
  return lines;
}

function hypothesisSentence(report: Parts): string {
  switch (report.hypothesis.verdict) {
    case 'held':
      return 'The steady-state hypothesis held throughout: the fault was tolerated.';
    case 'recovered':
      return 'The steady-state hypothesis broke during the fault and held again after it.';
    case 'violated':
      return 'The steady-state hypothesis broke and had not recovered by the end of the run.';
    case 'inconclusive':
      return 'The steady state did not hold before the first fault, so the experiment proves nothing (inconclusive).';
  }
}

function operationSentence(op: OperationReport): string | undefined {
  const { before, during, after } = op.windows;
  if (during.total === 0) return undefined;
  const pct = (ratio: number | null): string =>
    ratio === null ? 'n/a' : `${(ratio * 100).toFixed(1)}%`;
  const ms = (value: number | null): string => (value === null ? 'n/a' : `${Math.round(value)} ms`);
  let sentence =
    `${op.label}: ${pct(before.successRatio)} succeeded before, ${pct(during.successRatio)} during and ${pct(after.successRatio)} after the fault; ` +
    `p50 ${ms(before.p50Ms)} → ${ms(during.p50Ms)} → ${ms(after.p50Ms)}, p99 ${ms(before.p99Ms)} → ${ms(during.p99Ms)} → ${ms(after.p99Ms)}.`;
  if (op.timeToFirstFailureMs !== null) {
    sentence += ` The first failure came ${ms(op.timeToFirstFailureMs)} after the fault`;
    sentence +=
      op.timeToFirstSuccessMs === null
        ? ', with no success after it.'
        : `, the next success ${ms(op.timeToFirstSuccessMs)} later.`;
  }
  return sentence;
}

/** One step in one sentence: what the leader did while the fault held, and what users saw. */
function stepSentence(step: StepRecord, effect: StepEffect): string {
  const parts: string[] = [];
  const leader = effect.leaderAtApply;
  const [first] = effect.elections;
  if (leader && first) {
    const after = Math.round(Math.max(0, first.electedAt - (step.appliedAt ?? first.electedAt)));
    const committed = effect.commits[leader.name];
    parts.push(
      `${leader.name} lost the lead` +
        (committed === undefined
          ? ''
          : ` and committed ${committed} entries while the fault held`) +
        `; ${first.to} led term ${first.term} ${after} ms after the fault began, ` +
        `after ${first.gapMs} ms without a leader` +
        (effect.elections.length > 1 ? ` (${effect.elections.length} leader changes in all)` : ''),
    );
  } else if (leader) {
    const committed = effect.commits[leader.name];
    parts.push(
      `${leader.name} stayed leader in term ${leader.term}` +
        (committed === undefined ? '' : ` and committed ${committed} entries`),
    );
  } else if (Object.keys(effect.commits).length > 0) {
    parts.push('the cat-feeder group had no known leader when it began');
  }
  for (const op of effect.operations) {
    const total = op.ok + op.failed;
    if (total > 0) parts.push(`${op.label}: ${op.ok} of ${total} succeeded`);
  }
  const what = parts.length > 0 ? parts.join('; ') : 'no workload ran while it held';
  return `During ${step.name} (${step.description}): ${what}.`;
}
