// The cat-feeder group's story from the observer's samples: who led when, each change of leader
// and the gap without one (an election), and how far each replica's commit index moved in each
// window (a replica cut off in a minority commits nothing).
import type { RaftSample } from '../observe/raft-observer.js';
import type { Election, LeaderSpan, RaftReport, TimeWindow, WindowName } from './report-types.js';

export function raftReport(
  samples: readonly RaftSample[],
  windows: Readonly<Record<WindowName, TimeWindow>>,
): RaftReport | null {
  if (samples.length === 0) return null;
  const spans: { start: number; end: number; leader: string | null; term: number }[] = [];
  for (const sample of samples) {
    const last = spans.at(-1);
    if (
      last &&
      last.leader === sample.leader &&
      (sample.leader === null || last.term === sample.term)
    ) {
      last.end = sample.at;
    } else {
      if (last) last.end = sample.at;
      spans.push({ start: sample.at, end: sample.at, leader: sample.leader, term: sample.term });
    }
  }
  const elections: Election[] = [];
  let previous: { leader: string; term: number; lastSeen: number } | undefined;
  for (const sample of samples) {
    if (sample.leader === null) continue;
    if (previous && (previous.leader !== sample.leader || previous.term !== sample.term)) {
      elections.push({
        lostAt: previous.lastSeen,
        electedAt: sample.at,
        gapMs: Math.round(sample.at - previous.lastSeen),
        from: previous.leader,
        to: sample.leader,
        term: sample.term,
      });
    }
    previous = { leader: sample.leader, term: sample.term, lastSeen: sample.at };
  }
  const names = [...new Set(samples.flatMap((sample) => Object.keys(sample.replicas)))].sort();
  const commitProgress: Record<string, Record<WindowName, number | null>> = {};
  for (const name of names) {
    const progress = (window: TimeWindow): number | null => {
      const seen = samples
        .filter((s) => s.at >= window.start && s.at < window.end && s.replicas[name])
        .map((s) => s.replicas[name]!.commitIndex);
      return seen.length === 0 ? null : Math.max(...seen) - Math.min(...seen);
    };
    commitProgress[name] = {
      before: progress(windows.before),
      during: progress(windows.during),
      after: progress(windows.after),
    };
  }
  return {
    leaderTimeline: spans.map((span): LeaderSpan => ({
      ...span,
      start: Math.round(span.start),
      end: Math.round(span.end),
    })),
    leaderChanges: elections.length,
    elections,
    commitProgress,
  };
}
