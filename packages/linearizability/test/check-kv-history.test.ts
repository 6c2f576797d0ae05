import { describe, expect, it } from 'vitest';
import { checkKvHistory, HistoryError, type History } from '../src/index.js';
import { cas, del, get, history, put } from './history-builder.js';

const verdict = (h: History): string => checkKvHistory(h).verdict;

describe('linearizable histories', () => {
  it('accepts the empty history and reads of the initial (absent) value', () => {
    expect(checkKvHistory({ events: [] })).toEqual({ verdict: 'ok', keys: [] });
    expect(
      verdict(history([get('p1', 0, 1, 'x', null), cas('p1', 2, 3, 'x', null, 'a', true)])),
    ).toBe('ok');
  });

  it('accepts concurrent writes seen in either order', () => {
    const writes = [put('p1', 0, 10, 'x', 'a'), put('p2', 2, 12, 'x', 'b')];
    expect(verdict(history([...writes, get('p3', 20, 30, 'x', 'a')]))).toBe('ok');
    expect(verdict(history([...writes, get('p3', 20, 30, 'x', 'b')]))).toBe('ok');
    // Two readers may even disagree while the writes are in flight, as long as they then settle.
    expect(
      verdict(
        history([
          ...writes,
          get('p3', 1, 11, 'x', 'a'),
          get('p4', 1, 11, 'x', 'b'),
          get('p3', 15, 16, 'x', 'b'),
        ]),
      ),
    ).toBe('ok');
  });

  it('accepts a read overlapping a write returning the old or the new value', () => {
    const before = [put('p1', 0, 10, 'x', 'a'), put('p1', 15, 40, 'x', 'b')];
    expect(verdict(history([...before, get('p2', 20, 30, 'x', 'a')]))).toBe('ok');
    expect(verdict(history([...before, get('p2', 20, 30, 'x', 'b')]))).toBe('ok');
  });

  it('treats operations that touch (return = invoke) as concurrent', () => {
    expect(verdict(history([put('p1', 0, 10, 'x', 'a'), get('p2', 10, 20, 'x', null)]))).toBe('ok');
    expect(verdict(history([put('p1', 0, 10, 'x', 'a'), get('p2', 11, 20, 'x', null)]))).toBe(
      'illegal',
    );
  });

  it('follows cas and delete', () => {
    const h = history([
      put('p1', 0, 10, 'x', 'a'),
      cas('p2', 11, 20, 'x', 'a', 'b', true),
      cas('p3', 12, 22, 'x', 'a', 'c', false),
      get('p1', 25, 30, 'x', 'b'),
      del('p2', 31, 35, 'x'),
      get('p3', 36, 40, 'x', null),
    ]);
    const result = checkKvHistory(h);
    expect(result.verdict).toBe('ok');
    expect(result.keys).toEqual([
      { key: 'x', verdict: 'ok', operations: 6, linearization: [0, 1, 2, 3, 4, 5] },
    ]);
  });
});

describe('non-linearizable histories', () => {
  it('finds a stale read after a completed write, and says why', () => {
    const h = history([
      put('p1', 0, 10, 'x', 'a'),
      put('p1', 20, 30, 'x', 'b'),
      get('p2', 40, 50, 'x', 'a'),
    ]);
    const result = checkKvHistory(h);
    expect(result.verdict).toBe('illegal');
    const failure = result.failure!;
    expect(failure.key).toBe('x');
    expect(failure.linearized.map((r) => r.id)).toEqual([0, 1]);
    expect(failure.valueAfter).toBe('b');
    expect(failure.next.map((r) => r.id)).toEqual([2]);
    expect(failure.culprit.id).toBe(2);
    expect(failure.related.map((r) => r.id)).toEqual([1]);
    expect(failure.explanation).toBe(
      "Read of key x by process p2 (t=40–50) returned 'a', but 'b' was written by process p1 " +
        '(put, t=20–30) and acknowledged at t=30, before the read began at t=40; every operation ' +
        "that wrote 'a' had completed before that write began, so the read could not return 'a'.",
    );
  });

  it('finds a read of a value never written', () => {
    const result = checkKvHistory(
      history([put('p1', 0, 10, 'x', 'a'), get('p2', 5, 15, 'x', 'z')]),
    );
    expect(result.verdict).toBe('illegal');
    expect(result.failure!.culprit.id).toBe(1);
    expect(result.failure!.explanation).toMatch(
      /returned 'z', but no operation in the history wrote 'z'/,
    );
  });

  it('finds two reads that see concurrent writes in opposite orders', () => {
    // Both writes are still in flight while the reads happen, so each reader alone is fine.
    const h = history([
      put('p1', 0, 100, 'x', 'a'),
      put('p2', 0, 100, 'x', 'b'),
      get('p3', 20, 30, 'x', 'a'),
      get('p3', 40, 50, 'x', 'b'),
      get('p4', 20, 30, 'x', 'b'),
      get('p4', 40, 50, 'x', 'a'),
    ]);
    const result = checkKvHistory(h);
    expect(result.verdict).toBe('illegal');
    expect(result.failure!.culprit.op.f).toBe('get');
    expect(result.failure!.explanation).toMatch(/^No order of the 6 operations on key x agrees/);
    const oneReader = (reader: string): History => ({
      events: h.events.filter(
        (e) => e.process === 'p1' || e.process === 'p2' || e.process === reader,
      ),
    });
    expect(verdict(oneReader('p3'))).toBe('ok');
    expect(verdict(oneReader('p4'))).toBe('ok');
  });

  it('finds a cas that succeeds on a stale value', () => {
    const h = history([
      put('p1', 0, 10, 'x', 'a'),
      put('p1', 20, 30, 'x', 'b'),
      cas('p2', 40, 50, 'x', 'a', 'c', true),
    ]);
    const result = checkKvHistory(h);
    expect(result.verdict).toBe('illegal');
    expect(result.failure!.culprit.op.f).toBe('cas');
    expect(result.failure!.explanation).toMatch(
      /^Compare-and-set of key x from 'a' to 'c' by process p2 \(t=40–50\) succeeded, but 'b' was written/,
    );
  });

  it('finds a cas that fails although the value matched', () => {
    const h = history([put('p1', 0, 10, 'x', 'a'), cas('p2', 20, 30, 'x', 'a', 'b', false)]);
    expect(verdict(h)).toBe('illegal');
    expect(checkKvHistory(h).failure!.explanation).toMatch(/failed, but 'a' was written/);
  });

  it('cites a read, not only a write, as proof that a value was overwritten', () => {
    const h = history([
      put('p1', 0, 10, 'x', 'a'),
      put('p2', 5, 100, 'x', 'b'),
      get('p3', 20, 30, 'x', 'b'),
      get('p3', 40, 50, 'x', 'a'),
    ]);
    const failure = checkKvHistory(h).failure!;
    expect(failure.culprit.id).toBe(3);
    expect(failure.related.map((r) => r.id)).toEqual([2]);
    expect(failure.explanation).toMatch(/process p3 \(get, t=20–30\) had already read 'b'/);
  });

  it('finds a read of a deleted key', () => {
    const h = history([
      put('p1', 0, 10, 'x', 'a'),
      del('p1', 20, 30, 'x'),
      get('p2', 40, 50, 'x', 'a'),
    ]);
    expect(checkKvHistory(h).failure!.explanation).toMatch(/key x was deleted by process p1/);
  });
});

describe('operations of unknown outcome', () => {
  const base = [put('p1', 0, 10, 'x', 'a'), put('p2', 20, 30, 'x', 'b', 'info')];

  it('may or may not be seen', () => {
    expect(verdict(history([...base, get('p3', 40, 50, 'x', 'b')]))).toBe('ok');
    expect(verdict(history([...base, get('p3', 40, 50, 'x', 'a')]))).toBe('ok');
    // ...but once seen, it stays seen.
    expect(
      verdict(history([...base, get('p3', 40, 50, 'x', 'b'), get('p3', 60, 70, 'x', 'a')])),
    ).toBe('illegal');
  });

  it('may take effect long after the client gave up', () => {
    const h = history([...base, get('p3', 40, 50, 'x', 'a'), get('p3', 1000, 1010, 'x', 'b')]);
    expect(verdict(h)).toBe('ok');
  });

  it('cannot explain a read that happened before it was invoked', () => {
    const h = history([get('p1', 0, 5, 'x', 'b'), put('p2', 10, 20, 'x', 'b', 'info')]);
    const result = checkKvHistory(h);
    expect(result.verdict).toBe('illegal');
    expect(result.failure!.explanation).toMatch(
      /the only operations that wrote 'b' began after it had ended, the first being process p2 \(put, invoked at t=10, outcome unknown\)/,
    );
  });

  it('counts an operation still pending at the end of the history as unknown', () => {
    expect(verdict(history([put('p1', 0, undefined, 'x', 'a'), get('p2', 5, 10, 'x', 'a')]))).toBe(
      'ok',
    );
    expect(verdict(history([put('p1', 0, undefined, 'x', 'a'), get('p2', 5, 10, 'x', null)]))).toBe(
      'ok',
    );
  });

  it('applies a cas of unknown outcome only where it would have succeeded', () => {
    const start = [put('p1', 0, 10, 'x', 'a'), cas('p2', 20, 30, 'x', 'a', 'b', false, 'info')];
    expect(verdict(history([...start, get('p3', 40, 50, 'x', 'b')]))).toBe('ok');
    expect(verdict(history([...start, get('p3', 40, 50, 'x', 'a')]))).toBe('ok');
    const wrongExpectation = [
      put('p1', 0, 10, 'x', 'a'),
      cas('p2', 20, 30, 'x', 'z', 'b', false, 'info'),
    ];
    expect(verdict(history([...wrongExpectation, get('p3', 40, 50, 'x', 'b')]))).toBe('illegal');
  });

  it('ignores failed operations: they did not happen', () => {
    const start = [put('p1', 0, 10, 'x', 'a'), put('p2', 20, 30, 'x', 'b', 'fail')];
    expect(verdict(history([...start, get('p3', 40, 50, 'x', 'a')]))).toBe('ok');
    expect(verdict(history([...start, get('p3', 40, 50, 'x', 'b')]))).toBe('illegal');
  });

  it('ignores reads of unknown outcome', () => {
    const h = history([
      put('p1', 0, 10, 'x', 'a'),
      get('p2', 20, 30, 'x', 'never-written', 'info'),
    ]);
    expect(verdict(h)).toBe('ok');
  });
});

describe('keys', () => {
  it('checks each key on its own and names the illegal one', () => {
    const h = history([
      put('p1', 0, 10, 'x', 'a'),
      put('p2', 0, 10, 'y', 'a'),
      put('p1', 20, 30, 'y', 'b'),
      get('p2', 20, 30, 'x', 'a'),
      get('p3', 40, 50, 'y', 'a'),
      get('p3', 60, 70, 'z', null),
    ]);
    const result = checkKvHistory(h);
    expect(result.verdict).toBe('illegal');
    expect(result.keys.map((k) => [k.key, k.verdict, k.operations])).toEqual([
      ['x', 'ok', 2],
      ['y', 'illegal', 3],
      ['z', 'ok', 1],
    ]);
    expect(result.failure!.key).toBe('y');
    expect(result.failure!.explanation).toMatch(/^Read of key y /);
  });

  it('keeps keys independent: a value written to one key does not explain a read of another', () => {
    const h = history([put('p1', 0, 10, 'x', 'a'), get('p2', 20, 30, 'y', 'a')]);
    expect(checkKvHistory(h).failure!.key).toBe('y');
  });

  it('rejects a malformed history', () => {
    const h: History = {
      events: [{ type: 'ok', process: 'p', id: 1, time: 0, result: {} }],
    };
    expect(() => checkKvHistory(h)).toThrow(HistoryError);
  });
});

describe('time budget', () => {
  // Many writes in flight during all the reads, and two readers that see two of them in opposite
  // orders: the search has to try every subset of the writes before it can call this illegal,
  // and no single read contradicts anything that finished before it began.
  function hardHistory(writers: number): History {
    const writes = Array.from({ length: writers }, (_, i) =>
      put(`w${i}`, i, 10_000 + i, 'x', `v${i}`),
    );
    return history([
      ...writes,
      get('r1', 100, 110, 'x', 'v1'),
      get('r1', 200, 210, 'x', 'v2'),
      get('r2', 100, 110, 'x', 'v2'),
      get('r2', 200, 210, 'x', 'v1'),
      put('w0', 20_000, 20_010, 'y', 'fine'),
    ]);
  }

  it('answers unknown, not a wrong verdict, when the budget runs out', () => {
    const started = performance.now();
    const result = checkKvHistory(hardHistory(24), { timeoutMs: 50 });
    console.log(`hard history with a 50 ms budget: ${(performance.now() - started).toFixed(0)} ms`);
    expect(result.verdict).toBe('unknown');
    expect(result.failure).toBeUndefined();
    expect(result.keys.map((k) => [k.key, k.verdict])).toEqual([
      ['x', 'unknown'],
      ['y', 'unknown'],
    ]);
  });

  it('decides the same kind of history when it is small enough', () => {
    expect(checkKvHistory(hardHistory(5), { timeoutMs: 30_000 }).verdict).toBe('illegal');
  });

  it('still calls illegal a contradiction visible in real time when the budget runs out', () => {
    // All the writes finished before the reads began, yet two reads return different values.
    const writes = Array.from({ length: 24 }, (_, i) => put(`w${i}`, i, 1000 + i, 'x', `v${i}`));
    const h = history([
      ...writes,
      get('r', 2000, 2010, 'x', 'v1'),
      get('r', 2020, 2030, 'x', 'v2'),
    ]);
    const result = checkKvHistory(h, { timeoutMs: 50 });
    expect(result.verdict).toBe('illegal');
    const failure = result.failure!;
    expect(failure.linearized).toEqual([]);
    expect(failure.culprit.invokedAt).toBe(2020);
    expect(failure.next).toEqual([failure.culprit]);
    expect(failure.explanation).toMatch(/process r \(get, t=2000–2010\) had already read 'v1'/);
  });
});
