// The pieces between the clients and the verdicts: the workload, the durability history and the
// availability figures.
import { describe, expect, it } from 'vitest';
import { createHistoryRecorder, historyOperations } from '@catmesh/linearizability';
import { FINAL_PROCESS, writesAndFinalReads } from '../src/verdict/durability.js';
import { operationStats } from '../src/verdict/operation-stats.js';
import { Workload } from '../src/workload/workload.js';

describe('the workload', () => {
  it('writes every value once, and replaces keys after their share of operations', () => {
    const workload = new Workload({ seed: 1, keys: 3, opsPerKey: 50 });
    const ops = Array.from({ length: 3_000 }, () => workload.next());
    const written = ops.flatMap((op) => (op.f === 'put' || op.f === 'cas' ? [op.value] : []));
    expect(new Set(written).size).toBe(written.length);
    const perKey = new Map<string, number>();
    for (const op of ops) perKey.set(op.key, (perKey.get(op.key) ?? 0) + 1);
    expect(Math.max(...perKey.values())).toBeLessThanOrEqual(50);
    // Every key ever used is listed (for the final reads), in the order they were made.
    expect(workload.keys).toEqual(workload.keys.map((_, i) => `jepsen/k${i + 1}`));
    for (const key of perKey.keys()) expect(workload.keys).toContain(key);
    expect(new Set(ops.map((op) => op.f))).toEqual(new Set(['get', 'put', 'cas']));
  });

  it('compares-and-sets against the value last seen', () => {
    const workload = new Workload({ seed: 2, keys: 1, opsPerKey: 1_000 });
    let cas;
    do cas = workload.next();
    while (cas.f !== 'cas');
    expect(cas.expected).toBeNull();
    workload.observe(cas.key, 'v-seen');
    do cas = workload.next();
    while (cas.f !== 'cas');
    expect(cas.expected).toBe('v-seen');
  });

  it('is the same for the same seed', () => {
    const a = new Workload({ seed: 'x', keys: 3, opsPerKey: 10 });
    const b = new Workload({ seed: 'x', keys: 3, opsPerKey: 10 });
    expect(Array.from({ length: 100 }, () => a.next())).toEqual(
      Array.from({ length: 100 }, () => b.next()),
    );
  });
});

describe('the durability history', () => {
  it('keeps the writes and the final reads, and drops the other reads whole', () => {
    let time = 0;
    const recorder = createHistoryRecorder({ now: () => time++ });
    recorder.invoke(1, { f: 'put', key: 'k', value: 'a' }).ok();
    recorder.invoke(2, { f: 'get', key: 'k' }).ok({ value: 'a' });
    recorder.invoke(3, { f: 'cas', key: 'k', expected: 'a', value: 'b' }).info('timeout');
    recorder.invoke(4, { f: 'get', key: 'k' }).fail('unavailable');
    recorder.invoke(FINAL_PROCESS, { f: 'get', key: 'k' }).ok({ value: 'b' });
    const kept = historyOperations(writesAndFinalReads(recorder.history()));
    expect(kept.map((r) => [r.process, r.op.f, r.outcome])).toEqual([
      [1, 'put', 'ok'],
      [3, 'cas', 'info'],
      [FINAL_PROCESS, 'get', 'ok'],
    ]);
  });
});

describe('availability', () => {
  it('splits operations by whether a fault was in force when they began', () => {
    let time = 0;
    const recorder = createHistoryRecorder({ now: () => time });
    const at = (t: number) => (time = t);
    at(0);
    const a = recorder.invoke(1, { f: 'get', key: 'k' });
    at(5);
    a.ok({ value: null });
    at(10);
    const b = recorder.invoke(1, { f: 'put', key: 'k', value: 'v' });
    at(20);
    b.info('timeout');
    at(21);
    const c = recorder.invoke(2, { f: 'get', key: 'k' });
    at(22);
    c.fail('unavailable');
    const stats = operationStats(historyOperations(recorder.history()), (t) => t >= 10);
    expect(stats.total).toBe(3);
    expect(stats.counts).toEqual({
      get: { ok: 1, fail: 1, info: 0 },
      put: { ok: 0, fail: 0, info: 1 },
    });
    expect(stats.outsideFaults).toEqual({ ok: 1, attempted: 1, ratio: 1 });
    expect(stats.duringFaults).toEqual({ ok: 0, attempted: 2, ratio: 0 });
  });
});
