// What one step did while its fault held, measured in the step's own window: the run's before /
// during / after windows merge every step, which hides the difference between two steps of one
// run (a NetworkPolicy partition and a kernel one, say).
import type { RaftSample } from '../observe/raft-observer.js';
import type { OperationSample } from '../workload/operation-log.js';
import { raftReport } from './raft-report.js';
import type { StepEffect, TimeWindow } from './report-types.js';

export interface OperationLogView {
  readonly name: string;
  readonly label: string;
  readonly samples: readonly OperationSample[];
}

export function stepEffect(
  held: TimeWindow,
  samples: readonly RaftSample[],
  logs: readonly OperationLogView[],
): StepEffect {
  const inside = samples.filter((s) => s.at >= held.start && s.at <= held.end);
  // The last sample before the fault says who led when it began.
  const atApply = samples.filter((s) => s.at <= held.start).at(-1) ?? inside[0];
  const commits: Record<string, number> = {};
  for (const name of [...new Set(inside.flatMap((s) => Object.keys(s.replicas)))].sort()) {
    const seen = inside.flatMap((s) => (s.replicas[name] ? [s.replicas[name].commitIndex] : []));
    commits[name] = Math.max(...seen) - Math.min(...seen);
  }
  // Elections are found across the fault's start, so a leader lost at once is still seen.
  const around = atApply === undefined ? inside : [atApply, ...inside.filter((s) => s !== atApply)];
  const window = { start: held.start, end: held.end };
  const elections =
    raftReport(around, { before: window, during: window, after: window })?.elections.filter(
      (e) => e.electedAt >= held.start && e.electedAt <= held.end,
    ) ?? [];
  return {
    leaderAtApply: atApply?.leader == null ? null : { name: atApply.leader, term: atApply.term },
    elections,
    commits,
    operations: logs.map((log) => {
      const started = log.samples.filter((s) => s.at >= held.start && s.at < held.end);
      const ok = started.filter((s) => s.ok).length;
      return { name: log.name, label: log.label, ok, failed: started.length - ok };
    }),
  };
}
