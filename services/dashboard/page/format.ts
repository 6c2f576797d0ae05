import type { SourceStatus } from '../src/dashboard-snapshot.js';

export function rate(perSecond: number | undefined): string {
  if (perSecond === undefined) return '–';
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

export function milliseconds(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function clock(atMs: number): string {
  return new Date(atMs).toLocaleTimeString([], { hour12: false });
}

/** `12s`, `3m 05s`; `expired` once past. */
export function remaining(untilMs: number, nowMs: number): string {
  const seconds = Math.ceil((untilMs - nowMs) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
}

/** `inventory /metrics: down (connect ECONNREFUSED 127.0.0.1:9201)`, or `...: up`. */
export function sourceLine(status: SourceStatus): string {
  return status.up ? `${status.source}: up` : `${status.source}: down (${status.reason ?? '?'})`;
}
