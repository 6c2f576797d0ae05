// The history format: what clients of a key/value store saw, event by event, in the style of
// Jepsen. Every operation is an `invoke` followed by at most one completion:
//   ok   - it happened, with this result;
//   fail - it definitely did not happen (e.g. rejected before reaching the store);
//   info - the outcome is unknown (timeout, connection lost): it may have taken effect at any
//          point after its invocation, or never.
// An operation still pending when the history ends counts as `info`.

export type ProcessId = string | number;
export type OperationId = string | number;

export type KvOperation =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: string }
  /** Compare-and-set: `expected: null` means "only if the key is absent". */
  | {
      readonly f: 'cas';
      readonly key: string;
      readonly expected: string | null;
      readonly value: string;
    }
  | { readonly f: 'delete'; readonly key: string };

export interface GetResult {
  /** null: the key was absent. */
  readonly value: string | null;
}
export interface CasResult {
  /** false: the current value was not `expected`, nothing was written. */
  readonly ok: boolean;
}
/** put and delete return nothing but their acknowledgement. */
export type EmptyResult = Readonly<Record<string, never>>;
export type KvResult = GetResult | CasResult | EmptyResult;

/** The result an `ok` completion of operation O carries. */
export type ResultOf<O extends KvOperation> = O extends { f: 'get' }
  ? GetResult
  : O extends { f: 'cas' }
    ? CasResult
    : EmptyResult;

interface EventBase {
  readonly process: ProcessId;
  /** Identifies the operation: its invoke and its completion carry the same id. */
  readonly id: OperationId;
  /** A reading of one monotonic clock shared by all processes of the history. */
  readonly time: number;
}
export interface InvokeEvent extends EventBase {
  readonly type: 'invoke';
  readonly op: KvOperation;
}
export interface OkEvent extends EventBase {
  readonly type: 'ok';
  readonly result: KvResult;
}
export interface FailEvent extends EventBase {
  readonly type: 'fail';
  readonly error?: string;
}
export interface InfoEvent extends EventBase {
  readonly type: 'info';
  readonly error?: string;
}
export type HistoryEvent = InvokeEvent | OkEvent | FailEvent | InfoEvent;
export type CompletionEvent = OkEvent | FailEvent | InfoEvent;

/** Unit of `time`, used only to display times; the checker needs only their order. */
export type TimeUnit = 'ns' | 'us' | 'ms' | 's';

export interface History {
  /** In time order (non-decreasing `time`). */
  readonly events: readonly HistoryEvent[];
  readonly timeUnit?: TimeUnit;
}

/** One operation of a history: its invoke paired with its completion. */
export interface KvOperationRecord {
  readonly id: OperationId;
  readonly process: ProcessId;
  readonly op: KvOperation;
  /** 'info' also for an operation still pending when the history ends. */
  readonly outcome: 'ok' | 'fail' | 'info';
  /** Present exactly when outcome is 'ok'. */
  readonly result?: KvResult;
  readonly invokedAt: number;
  /** When the client learnt the outcome; absent for an operation still pending at the end. */
  readonly completedAt?: number;
  readonly error?: string;
}

/** A history that is not well formed; the message names the event and the problem. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}
