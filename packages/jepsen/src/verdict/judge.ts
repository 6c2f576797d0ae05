import type { CheckResult, History } from '@catmesh/linearizability';
import { checkKvHistory } from '@catmesh/linearizability';
import type { CheckVerdict } from '../report/check-report.js';
import type { ConvergenceResult } from './convergence.js';
import { writesAndFinalReads, type FinalReads } from './durability.js';

// From what a run saw to the four verdicts, and the history worth drawing.

export interface RunOutcome {
  /** The clients' operations. */
  readonly mainHistory: History;
  /** The same, then the final reads after the crash of every member. */
  readonly fullHistory: History;
  readonly convergence: ConvergenceResult;
  /** The final reads, or why the cluster could not be read after the crash. */
  readonly finalReads: FinalReads | string;
  /** Members that exited on their own. */
  readonly crashes: readonly string[];
  /** Keys the workload used. */
  readonly keys: number;
}

export interface Judgement {
  readonly checks: readonly CheckVerdict[];
  /** The history that failed a check, with its result; the run's own when none did. */
  readonly drawn: { readonly history: History; readonly result: CheckResult };
}

/** Runs the linearizability checker (synchronously, within `checkTimeoutMs` per history). */
export function judge(outcome: RunOutcome, checkTimeoutMs: number): Judgement {
  const linear = checkKvHistory(outcome.mainHistory, { timeoutMs: checkTimeoutMs });
  const durabilityHistory = writesAndFinalReads(outcome.fullHistory);
  const durability: Durability =
    typeof outcome.finalReads === 'string'
      ? { error: outcome.finalReads }
      : {
          reads: outcome.finalReads,
          result: checkKvHistory(durabilityHistory, { timeoutMs: checkTimeoutMs }),
        };
  const { crashes } = outcome;
  const checks: CheckVerdict[] = [
    historyVerdict('linearizable', linear, `${linear.keys.length} keys`, checkTimeoutMs),
    convergenceVerdict(outcome.convergence),
    durabilityVerdict(durability, outcome.keys, checkTimeoutMs),
    {
      name: 'crashes',
      passed: crashes.length === 0,
      verdict: crashes.length === 0 ? 'ok' : 'failed',
      detail: crashes.length === 0 ? 'no member exited on its own' : crashes.join('; '),
    },
  ];
  const drawn =
    linear.verdict === 'ok' && 'result' in durability && durability.result.verdict !== 'ok'
      ? { history: durabilityHistory, result: durability.result }
      : { history: outcome.mainHistory, result: linear };
  return { checks, drawn };
}

function historyVerdict(
  name: 'linearizable' | 'durability',
  result: CheckResult,
  what: string,
  checkTimeoutMs: number,
): CheckVerdict {
  const operations = result.keys.reduce((n, k) => n + k.operations, 0);
  const undecided = result.keys.filter((k) => k.verdict === 'unknown').map((k) => k.key);
  const detail =
    `${what}, ${operations} operations` +
    (undecided.length === 0
      ? ''
      : `; the checker's ${checkTimeoutMs / 1000}s budget ran out on ${undecided.join(', ')}`) +
    (result.failure ? `; impossible operation on ${result.failure.key}` : '');
  return {
    name,
    passed: result.verdict === 'ok',
    verdict: result.verdict,
    detail,
    ...(result.failure === undefined ? {} : { failure: result.failure }),
  };
}

function convergenceVerdict(result: ConvergenceResult): CheckVerdict {
  const members = Object.entries(result.hashes);
  const waited = `${(result.waitedMs / 1000).toFixed(1)}s`;
  return {
    name: 'convergence',
    passed: result.passed,
    verdict: result.passed ? 'ok' : 'failed',
    detail: result.passed
      ? `all ${members.length} members hold state ${members[0]?.[1] ?? ''} (after ${waited})`
      : `members still differ after ${waited}: ${members.map(([m, h]) => `${m} ${h}`).join(', ')}`,
  };
}

/** The final reads and their check, or why the cluster could not be read after the crash. */
type Durability = { error: string } | { reads: FinalReads; result: CheckResult };

function durabilityVerdict(
  durability: Durability,
  keys: number,
  checkTimeoutMs: number,
): CheckVerdict {
  if ('error' in durability) {
    return {
      name: 'durability',
      passed: false,
      verdict: 'failed',
      detail: `after every member lost power (or was killed) at once: ${durability.error}`,
    };
  }
  const { reads, result } = durability;
  const verdict = historyVerdict(
    'durability',
    result,
    `${reads.crash} of every member, restart, ${keys} keys read; writes + final reads`,
    checkTimeoutMs,
  );
  if (reads.unread.length === 0) return verdict;
  return {
    ...verdict,
    passed: false,
    verdict: 'failed',
    detail: `${verdict.detail}; could not read ${reads.unread.join(', ')} after the restart`,
  };
}
