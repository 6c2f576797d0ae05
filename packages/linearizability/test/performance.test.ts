// A sanity check that realistic histories are checked in reasonable time. Nothing here asserts a
// speed (the machine may be busy); the times are printed, and the test timeout is a safety net.
import { describe, expect, it } from 'vitest';
import { createPrng } from '@catmesh/faults';
import { checkKvHistory, type History, type HistoryEvent } from '../src/index.js';
import { randomHistory } from './random-history.js';

const options = {
  operations: 4000,
  processes: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8'],
  keys: ['cat.state', 'bowl', 'door', 'food.stock'],
  values: ['hungry', 'full', 'asleep', 'out', 'in'],
  corrupt: 0,
  failUnapplied: 0.02,
  info: 0.005,
  lie: 0,
  pending: 0,
};

function timed<T>(label: string, run: () => T): T {
  const started = performance.now();
  const value = run();
  console.log(`${label}: ${(performance.now() - started).toFixed(0)} ms`);
  return value;
}

describe('performance sanity', () => {
  it('checks a few thousand operations over several keys', { timeout: 120_000 }, () => {
    const history = randomHistory(createPrng(42).next, options);
    const result = timed(`${history.events.length} events, linearizable`, () =>
      checkKvHistory(history, { timeoutMs: 100_000 }),
    );
    expect(result.verdict).toBe('ok');
    expect(result.keys).toHaveLength(4);
    expect(result.keys.reduce((n, k) => n + k.operations, 0)).toBe(4000);
  });

  it('finds one stale read at the end of a long history', { timeout: 120_000 }, () => {
    const history = randomHistory(createPrng(7).next, options);
    const last = history.events.at(-1)!.time;
    // Two writes, one after the other, then a read that returns the first: a value that was
    // really written, but overwritten before the read began (stale, not merely unknown).
    const put = (id: string, time: number, value: string): HistoryEvent[] => [
      { type: 'invoke', process: 'w', id, time, op: { f: 'put', key: 'cat.state', value } },
      { type: 'ok', process: 'w', id, time: time + 1, result: {} },
    ];
    const tampered: History = {
      events: [
        ...history.events,
        ...put('w1', last + 1, 'old'),
        ...put('w2', last + 3, 'new'),
        {
          type: 'invoke',
          process: 'r',
          id: 'r',
          time: last + 5,
          op: { f: 'get', key: 'cat.state' },
        },
        { type: 'ok', process: 'r', id: 'r', time: last + 6, result: { value: 'old' } },
      ],
    };
    const result = timed(`${tampered.events.length} events, one stale read`, () =>
      checkKvHistory(tampered, { timeoutMs: 100_000 }),
    );
    expect(result.verdict).toBe('illegal');
    expect(result.failure!.culprit.id).toBe('r');
  });
});
