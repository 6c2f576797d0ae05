// The checker against the definition: a history is linearizable if some subset of its
// operations of unknown outcome, together with all its acknowledged operations, can be put in
// one order that respects real time (a before b whenever a returned before b was invoked) and in
// which every acknowledged result is what a single key/value store would have returned. This
// file decides that by enumerating every such order, on many small random histories.
import { describe, expect, it } from 'vitest';
import { createPrng } from '@catmesh/faults';
import {
  checkKvHistory,
  serializeHistory,
  type History,
  type HistoryEvent,
  type KvOperation,
  type KvResult,
  type OperationId,
} from '../src/index.js';
import { randomHistory, type RandomHistoryOptions } from './random-history.js';

interface Op {
  readonly id: OperationId;
  readonly op: KvOperation;
  readonly result: KvResult | undefined; // undefined: outcome unknown
  readonly call: number;
  readonly ret: number;
}

/** Independent of the package: pairs events by id, drops failed operations. */
function operationsOf(history: History): Op[] {
  const invokes = new Map<OperationId, HistoryEvent & { type: 'invoke' }>();
  const done = new Map<OperationId, HistoryEvent>();
  for (const event of history.events) {
    if (event.type === 'invoke') invokes.set(event.id, event);
    else done.set(event.id, event);
  }
  const ops: Op[] = [];
  for (const [id, invoke] of invokes) {
    const end = done.get(id);
    if (end?.type === 'fail') continue;
    ops.push(
      end?.type === 'ok'
        ? { id, op: invoke.op, result: end.result, call: invoke.time, ret: end.time }
        : { id, op: invoke.op, result: undefined, call: invoke.time, ret: Infinity },
    );
  }
  return ops;
}

/** Runs `order` against a fresh store; false as soon as a result differs. */
function legal(order: readonly Op[]): boolean {
  const store = new Map<string, string>();
  for (const { op, result } of order) {
    const current = store.get(op.key) ?? null;
    switch (op.f) {
      case 'get':
        if (result !== undefined && (result as { value: string | null }).value !== current) {
          return false;
        }
        break;
      case 'put':
        store.set(op.key, op.value);
        break;
      case 'delete':
        store.delete(op.key);
        break;
      case 'cas': {
        const matches = current === op.expected;
        if (result !== undefined && (result as { ok: boolean }).ok !== matches) return false;
        if (matches) store.set(op.key, op.value);
        break;
      }
    }
  }
  return true;
}

function respectsRealTime(order: readonly Op[]): boolean {
  return order.every((later, j) =>
    order.slice(0, j).every((earlier) => !(later.ret < earlier.call)),
  );
}

/** Every permutation of every allowed subset, checked in full: no pruning, no cleverness. */
function bruteForceLinearizable(history: History): boolean {
  const ops = operationsOf(history);
  const known = ops.filter((o) => o.result !== undefined);
  const unknown = ops.filter((o) => o.result === undefined);
  for (let mask = 0; mask < 1 << unknown.length; mask++) {
    const chosen = [...known, ...unknown.filter((_, i) => mask & (1 << i))];
    for (const order of permutations(chosen)) {
      if (respectsRealTime(order) && legal(order)) return true;
    }
  }
  return false;
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i]!, ...tail];
  }
}

/** The prefix (or whole order) the checker reports must itself be valid. */
function assertValidPrefix(history: History, prefix: readonly OperationId[]): void {
  const ops = operationsOf(history);
  const byId = new Map(ops.map((o) => [o.id, o]));
  const order = prefix.map((id) => byId.get(id)!);
  expect(legal(order)).toBe(true);
  const placed = new Set<OperationId>();
  for (const op of order) {
    // Everything (on the same key) that returned before this one was invoked is placed already.
    for (const other of ops) {
      if (other.ret < op.call && other.op.key === op.op.key)
        expect(placed.has(other.id)).toBe(true);
    }
    placed.add(op.id);
  }
}

function crossCheck(
  histories: number,
  options: (random: () => number) => RandomHistoryOptions,
): { ok: number; illegal: number } {
  const counts = { ok: 0, illegal: 0 };
  for (let seed = 1; seed <= histories; seed++) {
    const random = createPrng(seed).next;
    const history = randomHistory(random, options(random));
    const expected = bruteForceLinearizable(history) ? 'ok' : 'illegal';
    const result = checkKvHistory(history);
    // With no time at all, only contradictions visible in real time decide: never wrongly.
    const quick = checkKvHistory(history, { timeoutMs: 0 }).verdict;
    if (result.verdict !== expected || (quick !== 'unknown' && quick !== expected)) {
      throw new Error(
        `seed ${seed}: checker says ${result.verdict} (${quick} with no time), brute force says ${expected}\n${serializeHistory(history)}`,
      );
    }
    counts[expected]++;
    if (result.failure !== undefined) {
      assertValidPrefix(
        history,
        result.failure.linearized.map((r) => r.id),
      );
      expect(result.failure.next).toContain(result.failure.culprit);
    }
    for (const key of result.keys) {
      if (key.linearization !== undefined) assertValidPrefix(history, key.linearization);
    }
  }
  console.log(`brute-force cross-check: ${counts.ok} linearizable, ${counts.illegal} not`);
  return counts;
}

describe('cross-check against brute force', () => {
  it('agrees with enumeration of all orders on random small histories', () => {
    const histories = 5000;
    const counts = crossCheck(histories, (random) => ({
      operations: 2 + Math.floor(random() * 6),
      processes: random() < 0.5 ? ['p1', 'p2'] : ['p1', 'p2', 'p3'],
      keys: random() < 0.5 ? ['x'] : ['x', 'y'],
      values: ['a', 'b', 'c'],
      corrupt: 0.3,
      failUnapplied: 0.7,
      info: 0.12,
      lie: 0.06,
      pending: 0.03,
    }));
    // Both kinds must be well represented, or the comparison proves little.
    expect(counts.ok).toBeGreaterThan(histories / 5);
    expect(counts.illegal).toBeGreaterThan(histories / 5);
  });

  it('agrees on histories full of unknown outcomes with the same effect', () => {
    // Few values and many info operations: what the search's reductions for them rely on.
    const histories = 3000;
    const counts = crossCheck(histories, (random) => ({
      operations: 3 + Math.floor(random() * 5),
      processes: ['p1', 'p2', 'p3'],
      keys: ['x'],
      values: ['a', 'b'],
      corrupt: 0.25,
      failUnapplied: 0.3,
      info: 0.4,
      lie: 0.03,
      pending: 0.1,
    }));
    expect(counts.ok).toBeGreaterThan(histories / 5);
    expect(counts.illegal).toBeGreaterThan(histories / 10);
  });
});
