export type {
  CasResult,
  CompletionEvent,
  EmptyResult,
  FailEvent,
  GetResult,
  History,
  HistoryEvent,
  InfoEvent,
  InvokeEvent,
  KvOperation,
  KvOperationRecord,
  KvResult,
  OkEvent,
  OperationId,
  ProcessId,
  ResultOf,
  TimeUnit,
} from './history.js';
export { HistoryError } from './history.js';
export { historyOperations } from './history-operations.js';
export type {
  HistoryRecorder,
  HistoryRecorderOptions,
  PendingOperation,
} from './history-recorder.js';
export { createHistoryRecorder } from './history-recorder.js';
export { parseHistory, serializeHistory } from './history-json.js';
export type {
  CheckOptions,
  CheckResult,
  KeyVerdict,
  LinearizabilityFailure,
  Verdict,
} from './check-kv-history.js';
export { checkKvHistory } from './check-kv-history.js';
export type { RenderOptions } from './render-history-html.js';
export { renderHistoryHtml } from './render-history-html.js';
