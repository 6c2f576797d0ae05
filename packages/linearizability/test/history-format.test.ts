import { describe, expect, it } from 'vitest';
import {
  createHistoryRecorder,
  historyOperations,
  HistoryError,
  parseHistory,
  serializeHistory,
  type History,
  type HistoryEvent,
} from '../src/index.js';

function fakeClock(): { now: () => number; advance: (by: number) => void } {
  let time = 1_000;
  return {
    now: () => time,
    advance: (by) => {
      time += by;
    },
  };
}

function json(events: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ format: 'catmesh.kv-history', version: 1, ...extra, events });
}

const invoke = (process: string, id: number, time: number): HistoryEvent => ({
  type: 'invoke',
  process,
  id,
  time,
  op: { f: 'put', key: 'x', value: 'a' },
});

describe('history recorder', () => {
  it('records invocations and completions with the injected clock', () => {
    const clock = fakeClock();
    const recorder = createHistoryRecorder({ now: clock.now, timeUnit: 'ms' });
    const put = recorder.invoke('p1', { f: 'put', key: 'cat.state', value: 'full' });
    clock.advance(5);
    const get = recorder.invoke('p2', { f: 'get', key: 'cat.state' });
    clock.advance(2);
    put.ok();
    get.ok({ value: 'full' });
    clock.advance(1);
    recorder
      .invoke('p1', { f: 'cas', key: 'cat.state', expected: 'full', value: 'hungry' })
      .info('timeout');
    recorder.invoke('p2', { f: 'delete', key: 'cat.state' }).fail('not leader');
    recorder.invoke('p3', { f: 'get', key: 'cat.state' }); // still pending at the end

    const history = recorder.history();
    expect(history.timeUnit).toBe('ms');
    expect(history.events.map((e) => [e.type, e.process, e.time])).toEqual([
      ['invoke', 'p1', 1000],
      ['invoke', 'p2', 1005],
      ['ok', 'p1', 1007],
      ['ok', 'p2', 1007],
      ['invoke', 'p1', 1008],
      ['info', 'p1', 1008],
      ['invoke', 'p2', 1008],
      ['fail', 'p2', 1008],
      ['invoke', 'p3', 1008],
    ]);
    const records = historyOperations(history);
    expect(records.map((r) => r.outcome)).toEqual(['ok', 'ok', 'info', 'fail', 'info']);
    expect(records[1]).toMatchObject({
      result: { value: 'full' },
      invokedAt: 1005,
      completedAt: 1007,
    });
    expect(records[2]).toMatchObject({ error: 'timeout', completedAt: 1008 });
    expect(records[4]!.completedAt).toBeUndefined();
  });

  it('refuses a second operation on a busy process and a second completion', () => {
    const recorder = createHistoryRecorder({ now: () => 0 });
    const first = recorder.invoke('p1', { f: 'get', key: 'x' });
    expect(() => recorder.invoke('p1', { f: 'get', key: 'x' })).toThrow(/one operation at a time/);
    first.ok({ value: null });
    expect(() => first.info()).toThrow(/already completed/);
    expect(() => recorder.invoke('p1', { f: 'get', key: 'x' })).not.toThrow();
  });

  it('refuses a clock that goes backwards', () => {
    const readings = [5, 3];
    const recorder = createHistoryRecorder({ now: () => readings.shift()! });
    const op = recorder.invoke('p1', { f: 'get', key: 'x' });
    expect(() => op.ok({ value: null })).toThrow(/went backwards/);
  });
});

describe('history JSON', () => {
  it('round-trips a recorded history', () => {
    const clock = fakeClock();
    const recorder = createHistoryRecorder({ now: clock.now, timeUnit: 'ns' });
    const a = recorder.invoke(7, { f: 'cas', key: 'k', expected: null, value: 'v' });
    clock.advance(3);
    a.ok({ ok: true });
    recorder.invoke(8, { f: 'put', key: 'k', value: 'w"\n<x>' }).info('lost');
    recorder.invoke(9, { f: 'get', key: 'k' }).fail();
    const history = recorder.history();
    const text = serializeHistory(history);
    expect(parseHistory(text)).toEqual(history);
    expect(serializeHistory(parseHistory(text))).toBe(text);
    expect(parseHistory(serializeHistory({ events: [] }))).toEqual({ events: [] });
  });

  const cases: [string, string, RegExp][] = [
    ['not JSON', '{', /not valid JSON/],
    ['wrong format', JSON.stringify({ format: 'x', version: 1, events: [] }), /"format" must be/],
    [
      'unknown version',
      JSON.stringify({ format: 'catmesh.kv-history', version: 2, events: [] }),
      /version/,
    ],
    ['bad time unit', json([], { timeUnit: 'hours' }), /"timeUnit" must be one of/],
    ['events not an array', json(undefined as never), /"events" must be an array/],
    [
      'event type',
      json([{ type: 'done', process: 'p', id: 1, time: 0 }]),
      /event 0: "type" must be invoke, ok, fail or info/,
    ],
    [
      'time',
      json([{ type: 'invoke', process: 'p', id: 1, time: 'noon', op: { f: 'get', key: 'x' } }]),
      /event 0: "time" must be a finite number/,
    ],
    [
      'process',
      json([{ type: 'invoke', process: null, id: 1, time: 0, op: { f: 'get', key: 'x' } }]),
      /event 0: "process" must be/,
    ],
    [
      'operation',
      json([{ type: 'invoke', process: 'p', id: 1, time: 0, op: { f: 'incr', key: 'x' } }]),
      /"op.f" must be get, put, cas or delete/,
    ],
    [
      'put value',
      json([
        { type: 'invoke', process: 'p', id: 1, time: 0, op: { f: 'put', key: 'x', value: 3 } },
      ]),
      /"op.value" of a put must be a string/,
    ],
    [
      'cas expected',
      json([
        {
          type: 'invoke',
          process: 'p',
          id: 1,
          time: 0,
          op: { f: 'cas', key: 'x', expected: 1, value: 'a' },
        },
      ]),
      /"op.expected" of a cas must be a string or null/,
    ],
    [
      'ok without invoke',
      json([{ type: 'ok', process: 'p', id: 1, time: 0, result: {} }]),
      /event 0 \(ok of operation 1\): an ok without its invoke/,
    ],
    [
      'two concurrent operations',
      json([invoke('p1', 1, 0), invoke('p1', 2, 1)]),
      /event 1 .*process 'p1' invokes operation 2 while its operation 1 has not completed/,
    ],
    [
      'invoked twice',
      json([
        invoke('p1', 1, 0),
        { type: 'ok', process: 'p1', id: 1, time: 1, result: {} },
        invoke('p1', 1, 2),
      ]),
      /operation 1 is invoked twice/,
    ],
    [
      'completed twice',
      json([
        invoke('p1', 1, 0),
        { type: 'ok', process: 'p1', id: 1, time: 1, result: {} },
        { type: 'info', process: 'p1', id: 1, time: 2 },
      ]),
      /event 2 .*already completed at event 1/,
    ],
    [
      'completed by another process',
      json([invoke('p1', 1, 0), { type: 'ok', process: 'p2', id: 1, time: 1, result: {} }]),
      /completed by process 'p2', but invoked by process 'p1'/,
    ],
    [
      'out of time order',
      json([invoke('p1', 1, 5), { type: 'ok', process: 'p1', id: 1, time: 4, result: {} }]),
      /has time 4, earlier than the event before it \(5\)/,
    ],
    [
      'result shape',
      json([
        { type: 'invoke', process: 'p', id: 1, time: 0, op: { f: 'get', key: 'x' } },
        { type: 'ok', process: 'p', id: 1, time: 1, result: { ok: true } },
      ]),
      /the result of a get must be \{ value: string \| null \}/,
    ],
    [
      'error type',
      json([invoke('p1', 1, 0), { type: 'info', process: 'p1', id: 1, time: 1, error: 42 }]),
      /"error" must be a string/,
    ],
  ];
  it.each(cases)('rejects a malformed history: %s', (_name, text, message) => {
    expect(() => parseHistory(text)).toThrow(HistoryError);
    expect(() => parseHistory(text)).toThrow(message);
  });

  it('validates histories built in code the same way', () => {
    const history: History = { events: [invoke('p1', 1, 0), invoke('p1', 2, 1)] };
    expect(() => historyOperations(history)).toThrow(/one operation at a time/);
  });
});
