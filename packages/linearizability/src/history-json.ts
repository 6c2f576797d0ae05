import {
  HistoryError,
  type History,
  type HistoryEvent,
  type KvOperation,
  type KvResult,
  type TimeUnit,
} from './history.js';
import { historyOperations } from './history-operations.js';

const FORMAT = 'catmesh.kv-history';
const VERSION = 1;
const TIME_UNITS: readonly TimeUnit[] = ['ns', 'us', 'ms', 's'];

/** One JSON document: `{ format, version, timeUnit?, events }`, one event per line. */
export function serializeHistory(history: History): string {
  const events = history.events.map((event) => '    ' + JSON.stringify(eventJson(event)));
  const unit =
    history.timeUnit === undefined ? '' : `  "timeUnit": ${JSON.stringify(history.timeUnit)},\n`;
  return (
    `{\n  "format": "${FORMAT}",\n  "version": ${VERSION},\n${unit}  "events": [\n` +
    events.join(',\n') +
    (events.length > 0 ? '\n' : '') +
    '  ]\n}\n'
  );
}

/**
 * Reads a history written by `serializeHistory` (or by hand), checking every event and the
 * history as a whole; throws a HistoryError naming the first problem.
 */
export function parseHistory(text: string): History {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new HistoryError(`not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(document)) throw new HistoryError('a history must be a JSON object');
  if (document.format !== FORMAT) {
    throw new HistoryError(`"format" must be "${FORMAT}", got ${JSON.stringify(document.format)}`);
  }
  if (document.version !== VERSION) {
    throw new HistoryError(
      `"version" ${JSON.stringify(document.version)} is not supported (this reader knows ${VERSION})`,
    );
  }
  const { timeUnit, events } = document;
  if (timeUnit !== undefined && !TIME_UNITS.includes(timeUnit as TimeUnit)) {
    throw new HistoryError(
      `"timeUnit" must be one of ${TIME_UNITS.join(', ')}, got ${JSON.stringify(timeUnit)}`,
    );
  }
  if (!Array.isArray(events)) throw new HistoryError('"events" must be an array');
  const history: History = {
    events: events.map((event: unknown, index) => decodeEvent(event, index)),
    ...(timeUnit === undefined ? {} : { timeUnit: timeUnit as TimeUnit }),
  };
  historyOperations(history);
  return history;
}

function eventJson(event: HistoryEvent): Record<string, unknown> {
  const base = { type: event.type, process: event.process, id: event.id, time: event.time };
  switch (event.type) {
    case 'invoke':
      return { ...base, op: event.op };
    case 'ok':
      return { ...base, result: event.result };
    case 'fail':
    case 'info':
      return event.error === undefined ? base : { ...base, error: event.error };
  }
}

function decodeEvent(value: unknown, index: number): HistoryEvent {
  const fail = (problem: string): never => {
    throw new HistoryError(`event ${index}: ${problem}`);
  };
  if (!isObject(value)) return fail('must be an object');
  const { type, process, id, time } = value;
  if (!isId(process)) return fail('"process" must be a string or an integer');
  if (!isId(id)) return fail('"id" must be a string or an integer');
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    return fail('"time" must be a finite number');
  }
  const base = { process, id, time };
  switch (type) {
    case 'invoke':
      return { type, ...base, op: decodeOperation(value.op, fail) };
    case 'ok':
      if (!isObject(value.result)) return fail('"result" of an ok must be an object');
      return { type, ...base, result: value.result as KvResult };
    case 'fail':
    case 'info': {
      const { error } = value;
      if (error !== undefined && typeof error !== 'string') {
        return fail('"error" must be a string');
      }
      return error === undefined ? { type, ...base } : { type, ...base, error };
    }
    default:
      return fail(
        `"type" must be invoke, ok, fail or info, got ${JSON.stringify(type) ?? 'nothing'}`,
      );
  }
}

function decodeOperation(value: unknown, fail: (problem: string) => never): KvOperation {
  if (!isObject(value)) return fail('"op" of an invoke must be an object');
  const { f, key } = value;
  if (typeof key !== 'string') return fail('"op.key" must be a string');
  const text = (field: string): string => {
    const v = value[field];
    return typeof v === 'string' ? v : fail(`"op.${field}" of a ${String(f)} must be a string`);
  };
  switch (f) {
    case 'get':
    case 'delete':
      return { f, key };
    case 'put':
      return { f, key, value: text('value') };
    case 'cas': {
      const { expected } = value;
      if (expected !== null && typeof expected !== 'string') {
        return fail('"op.expected" of a cas must be a string or null');
      }
      return { f, key, expected, value: text('value') };
    }
    default:
      return fail(`"op.f" must be get, put, cas or delete, got ${JSON.stringify(f) ?? 'nothing'}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is string | number {
  return typeof value === 'string' || Number.isSafeInteger(value);
}
