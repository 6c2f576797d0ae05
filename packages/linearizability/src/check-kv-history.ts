import { timeFormat } from './describe.js';
import { explainFailure, findProvenContradiction, type Explanation } from './explain-failure.js';
import type { History, KvOperationRecord, OperationId } from './history.js';
import { historyOperations } from './history-operations.js';
import { kvModel, type KvSearchOperation, type KvState } from './kv-model.js';
import { searchLinearization, type DeepestPoint } from './linearization-search.js';

export type Verdict = 'ok' | 'illegal' | 'unknown';

export interface KeyVerdict {
  readonly key: string;
  readonly verdict: Verdict;
  /** Operations on the key in the history, failed ones included. */
  readonly operations: number;
  /**
   * For an 'ok' key, one valid order (operation ids). Operations of unknown outcome missing from
   * it may as well never have happened.
   */
  readonly linearization?: readonly OperationId[];
}

/** The smallest failing part of an illegal key, as found by the search. */
export interface LinearizabilityFailure {
  readonly key: string;
  /**
   * The longest linearizable prefix found, in its order. Empty when the search ran out of time
   * and the key was decided by a contradiction visible in real time alone (see `explanation`).
   */
  readonly linearized: readonly KvOperationRecord[];
  /** The key's value after that prefix (null: absent). */
  readonly valueAfter: string | null;
  /** The operations that could have come next; none of them could be linearized there. */
  readonly next: readonly KvOperationRecord[];
  /** The operation the explanation is about (one of `next`), e.g. the impossible read. */
  readonly culprit: KvOperationRecord;
  /** Other operations the explanation cites, e.g. the write the read should have seen. */
  readonly related: readonly KvOperationRecord[];
  /** One paragraph of plain English. */
  readonly explanation: string;
}

export interface CheckResult {
  /** illegal if any key is; otherwise unknown if any key ran out of time; otherwise ok. */
  readonly verdict: Verdict;
  /** One per key, in order of first appearance in the history. */
  readonly keys: readonly KeyVerdict[];
  /** For the first illegal key. */
  readonly failure?: LinearizabilityFailure;
}

export interface CheckOptions {
  /**
   * Time budget for the whole check. A key the search has not decided within it is 'unknown',
   * unless the history shows a contradiction in real time alone (then 'illegal'). Default: none,
   * which can mean a very long wait on a hard illegal history with many unknown outcomes.
   */
  readonly timeoutMs?: number;
}

/**
 * Is the history linearizable for a key/value store (each key an independent register)? The
 * search is exponential in the worst case, which is what `timeoutMs` is for. Runs synchronously.
 * Throws a HistoryError when the history is malformed.
 */
export function checkKvHistory(history: History, options: CheckOptions = {}): CheckResult {
  const deadline = performance.now() + (options.timeoutMs ?? Infinity);
  const expired = (): boolean => performance.now() >= deadline;
  const byKey = new Map<string, KvOperationRecord[]>();
  for (const record of historyOperations(history)) {
    const records = byKey.get(record.op.key);
    if (records === undefined) byKey.set(record.op.key, [record]);
    else records.push(record);
  }

  const keys: KeyVerdict[] = [];
  let failure: LinearizabilityFailure | undefined;
  for (const [key, records] of byKey) {
    const operations = records.length;
    const ops = searchOperations(records);
    const outcome = expired()
      ? ({ kind: 'timeout' } as const)
      : searchLinearization(ops, kvModel, expired);
    if (outcome.kind === 'timeout') {
      // Out of time: a contradiction visible in real time alone still decides the key.
      const proven = findProvenContradiction(key, ops, timeFormat(history));
      keys.push({ key, verdict: proven === undefined ? 'unknown' : 'illegal', operations });
      if (proven !== undefined && failure === undefined) {
        failure = describeFailure(key, ops, undefined, proven);
      }
    } else if (outcome.kind === 'linearizable') {
      const linearization = outcome.order.map((i) => ops[i]!.record.id);
      keys.push({ key, verdict: 'ok', operations, linearization });
    } else {
      keys.push({ key, verdict: 'illegal', operations });
      if (failure === undefined) {
        const { deepest } = outcome;
        const explanation = explainFailure(key, ops, deepest, timeFormat(history));
        failure = describeFailure(key, ops, deepest, explanation);
      }
    }
  }

  const verdicts = keys.map((k) => k.verdict);
  const verdict: Verdict = verdicts.includes('illegal')
    ? 'illegal'
    : verdicts.includes('unknown')
      ? 'unknown'
      : 'ok';
  return failure === undefined ? { verdict, keys } : { verdict, keys, failure };
}

/**
 * Without the point where the search got stuck (it ran out of time, and the key was decided by a
 * contradiction visible in real time), the prefix is empty and `next` is just the culprit.
 */
function describeFailure(
  key: string,
  ops: readonly KvSearchOperation[],
  deepest: DeepestPoint<KvState> | undefined,
  explanation: Explanation,
): LinearizabilityFailure {
  const recordOf = (i: number): KvOperationRecord => ops[i]!.record;
  return {
    key,
    linearized: deepest?.order.map(recordOf) ?? [],
    valueAfter: deepest?.state ?? null,
    next: (deepest?.candidates ?? [explanation.culprit]).map(recordOf),
    culprit: recordOf(explanation.culprit),
    related: explanation.related.map(recordOf),
    explanation: explanation.text,
  };
}

/**
 * What the search needs: failed operations did not happen, so they are left out; a read of
 * unknown outcome constrains nothing and changes nothing, so it is left out too; any other
 * operation of unknown outcome returns at +infinity (it may take effect at any later point).
 */
function searchOperations(records: readonly KvOperationRecord[]): KvSearchOperation[] {
  const ops: KvSearchOperation[] = [];
  for (const record of records) {
    if (record.outcome === 'fail') continue;
    if (record.outcome === 'info' && record.op.f === 'get') continue;
    const ret = record.outcome === 'ok' ? record.completedAt! : Infinity;
    ops.push({ record, call: record.invokedAt, ret });
  }
  return ops;
}
