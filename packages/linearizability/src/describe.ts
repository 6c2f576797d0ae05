// Words for values, operations and times, shared by the explanations and the HTML rendering so
// that a person reads the same thing in both.

import type { History, KvOperation, KvOperationRecord, ProcessId } from './history.js';

/** A value as prose: 'a', or "nothing" for an absent key. */
export function valueText(value: string | null): string {
  return value === null ? 'nothing' : quote(value);
}

/** A value as a short label: 'a', or "absent"; long values are cut. */
export function valueLabel(value: string | null, max = 24): string {
  if (value === null) return 'absent';
  return quote(value.length > max ? value.slice(0, max - 1) + '…' : value);
}

function quote(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) && !value.includes("'")
    ? `'${value}'`
    : JSON.stringify(value);
}

export function processText(process: ProcessId): string {
  return `process ${String(process)}`;
}

/** The operation as a label: `put 'a'`, `cas 'a'→'b'`. */
export function operationLabel(op: KvOperation): string {
  switch (op.f) {
    case 'get':
    case 'delete':
      return op.f;
    case 'put':
      return `put ${valueLabel(op.value)}`;
    case 'cas':
      return `cas ${valueLabel(op.expected, 12)}→${valueLabel(op.value, 12)}`;
  }
}

/** What came back, as a label: `→ 'a'`, `→ failed`, `unknown`. */
export function outcomeLabel(record: KvOperationRecord): string {
  if (record.outcome === 'fail') return 'did not happen';
  if (record.outcome === 'info') return 'outcome unknown';
  const { op, result } = record;
  if (op.f === 'get') return `→ ${valueLabel((result as { value: string | null }).value)}`;
  if (op.f === 'cas') return (result as { ok: boolean }).ok ? '→ ok' : '→ failed';
  return '→ ok';
}

export interface TimeFormat {
  /** "t=12.5 ms" */
  at(time: number): string;
  /** "t=12.5–14 ms" */
  span(from: number, to: number): string;
}

/** Times relative to the history's first event, in its unit when known (shown in ms or s). */
export function timeFormat(history: History): TimeFormat {
  const origin = history.events[0]?.time ?? 0;
  const unit = history.timeUnit;
  const scale = unit === undefined || unit === 's' ? 1 : { ns: 1e-6, us: 1e-3, ms: 1 }[unit];
  const suffix = unit === undefined ? '' : unit === 's' ? ' s' : ' ms';
  const show = (time: number): string => String(Math.round((time - origin) * scale * 1000) / 1000);
  return {
    at: (time) => `t=${show(time)}${suffix}`,
    span: (from, to) => `t=${show(from)}–${show(to)}${suffix}`,
  };
}

/** "process p2 (put, t=40–50)": who did what, when. */
export function operationText(record: KvOperationRecord, time: TimeFormat): string {
  const span =
    record.outcome === 'ok' && record.completedAt !== undefined
      ? time.span(record.invokedAt, record.completedAt)
      : `invoked at ${time.at(record.invokedAt)}, outcome unknown`;
  return `${processText(record.process)} (${record.op.f}, ${span})`;
}
