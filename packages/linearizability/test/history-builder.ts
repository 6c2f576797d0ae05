// Hand-made histories for tests: each operation given as (process, invoke time, completion time,
// operation, outcome), turned into the events a recorder would have produced.
import type {
  History,
  HistoryEvent,
  KvOperation,
  KvResult,
  ProcessId,
  TimeUnit,
} from '../src/index.js';

export interface OperationSpec {
  readonly process: ProcessId;
  readonly from: number;
  /** Completion time; undefined leaves the operation pending at the end. */
  readonly to: number | undefined;
  readonly op: KvOperation;
  readonly outcome: { type: 'ok'; result: KvResult } | { type: 'fail' } | { type: 'info' };
}

type Outcome = 'ok' | 'fail' | 'info';

const completion = (outcome: Outcome, result: KvResult): OperationSpec['outcome'] =>
  outcome === 'ok' ? { type: 'ok', result } : { type: outcome };

export function get(
  process: ProcessId,
  from: number,
  to: number | undefined,
  key: string,
  value: string | null,
  outcome: Outcome = 'ok',
): OperationSpec {
  return { process, from, to, op: { f: 'get', key }, outcome: completion(outcome, { value }) };
}

export function put(
  process: ProcessId,
  from: number,
  to: number | undefined,
  key: string,
  value: string,
  outcome: Outcome = 'ok',
): OperationSpec {
  return { process, from, to, op: { f: 'put', key, value }, outcome: completion(outcome, {}) };
}

export function cas(
  process: ProcessId,
  from: number,
  to: number | undefined,
  key: string,
  expected: string | null,
  value: string,
  ok: boolean,
  outcome: Outcome = 'ok',
): OperationSpec {
  return {
    process,
    from,
    to,
    op: { f: 'cas', key, expected, value },
    outcome: completion(outcome, { ok }),
  };
}

export function del(
  process: ProcessId,
  from: number,
  to: number | undefined,
  key: string,
  outcome: Outcome = 'ok',
): OperationSpec {
  return { process, from, to, op: { f: 'delete', key }, outcome: completion(outcome, {}) };
}

export function history(specs: readonly OperationSpec[], timeUnit?: TimeUnit): History {
  const timed: { time: number; completes: boolean; event: HistoryEvent }[] = [];
  specs.forEach((spec, id) => {
    const base = { process: spec.process, id };
    timed.push({
      time: spec.from,
      completes: false,
      event: { type: 'invoke', ...base, time: spec.from, op: spec.op },
    });
    if (spec.to !== undefined) {
      const time = spec.to;
      const event: HistoryEvent =
        spec.outcome.type === 'ok'
          ? { type: 'ok', ...base, time, result: spec.outcome.result }
          : { type: spec.outcome.type, ...base, time };
      timed.push({ time, completes: true, event });
    }
  });
  // At equal times a completion goes first, so a process may invoke again at the same instant.
  timed.sort((a, b) => a.time - b.time || Number(b.completes) - Number(a.completes));
  const events = timed.map((t) => t.event);
  return timeUnit === undefined ? { events } : { events, timeUnit };
}
