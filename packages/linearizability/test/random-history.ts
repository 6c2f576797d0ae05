// Seeded random histories from a run against a real atomic key/value store: each operation takes
// effect at a random instant between its invocation and its response. Some results can then be
// corrupted and some outcomes lost, so that non-linearizable histories come out too.
import type { History, HistoryEvent, KvOperation, KvResult } from '../src/index.js';

export interface RandomHistoryOptions {
  readonly operations: number;
  readonly processes: readonly string[];
  readonly keys: readonly string[];
  readonly values: readonly string[];
  /** Probability that an acknowledged result is replaced by a wrong one. */
  readonly corrupt: number;
  /** Probability that an operation not yet applied when it completes never is (fail or info). */
  readonly failUnapplied: number;
  /** Probability that an operation is reported as info (after taking effect). */
  readonly info: number;
  /** Probability that an operation that took effect is reported as failed (a lie). */
  readonly lie: number;
  /** Probability that an operation never completes (its process stops). */
  readonly pending: number;
}

export function randomHistory(random: () => number, options: RandomHistoryOptions): History {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const { values, keys, processes } = options;
  const store = new Map<string, string>();
  const events: HistoryEvent[] = [];
  const running = new Map<string, { id: number; op: KvOperation; result?: KvResult }>();
  const stopped = new Set<string>();
  let time = 0;
  let invoked = 0;

  const randomOp = (): KvOperation => {
    const key = pick(keys);
    const r = random();
    if (r < 0.35) return { f: 'get', key };
    if (r < 0.65) return { f: 'put', key, value: pick(values) };
    if (r < 0.85) return { f: 'cas', key, expected: pick([...values, null]), value: pick(values) };
    return { f: 'delete', key };
  };
  const apply = (op: KvOperation): KvResult => {
    const current = store.get(op.key) ?? null;
    switch (op.f) {
      case 'get':
        return { value: current };
      case 'put':
        store.set(op.key, op.value);
        return {};
      case 'delete':
        store.delete(op.key);
        return {};
      case 'cas':
        if (current !== op.expected) return { ok: false };
        store.set(op.key, op.value);
        return { ok: true };
    }
  };
  const corrupt = (op: KvOperation, result: KvResult): KvResult => {
    if (op.f === 'get') return { value: pick([...values, null]) };
    if (op.f === 'cas') return { ok: !(result as { ok: boolean }).ok };
    return result;
  };

  for (;;) {
    const idle = processes.filter((p) => !running.has(p) && !stopped.has(p));
    const busy = [...running.keys()];
    const canInvoke = invoked < options.operations && idle.length > 0;
    if (!canInvoke && busy.length === 0) break;
    time += Math.floor(random() * 3); // sometimes 0: equal times
    const r = random();
    if (canInvoke && (busy.length === 0 || r < 0.4)) {
      const process = pick(idle);
      const op = randomOp();
      const id = invoked++;
      running.set(process, { id, op });
      events.push({ type: 'invoke', process, id, time, op });
    } else if (r < 0.7) {
      const state = running.get(pick(busy))!;
      state.result ??= apply(state.op);
    } else {
      const process = pick(busy);
      const state = running.get(process)!;
      const { id, op } = state;
      running.delete(process);
      const outcome = random();
      if (outcome < options.pending) {
        stopped.add(process);
      } else if (state.result === undefined && random() < options.failUnapplied) {
        // Not applied yet, and the store never will: the truth is fail, or unknown to the client.
        events.push({ type: random() < 0.5 ? 'fail' : 'info', process, id, time });
      } else {
        // Takes effect now if it has not yet.
        const result = (state.result ??= apply(op));
        const report = random();
        if (report < options.info) {
          events.push({ type: 'info', process, id, time });
        } else if (report < options.info + options.lie) {
          events.push({ type: 'fail', process, id, time }); // a lie: it did happen
        } else {
          const reported = random() < options.corrupt ? corrupt(op, result) : result;
          events.push({ type: 'ok', process, id, time, result: reported });
        }
      }
    }
  }
  return { events };
}
