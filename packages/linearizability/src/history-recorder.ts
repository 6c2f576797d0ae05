import type {
  EmptyResult,
  History,
  HistoryEvent,
  KvOperation,
  ProcessId,
  ResultOf,
  TimeUnit,
} from './history.js';

export interface HistoryRecorderOptions {
  /** A monotonic clock shared by every process recorded, e.g. `() => performance.now()`. */
  readonly now: () => number;
  readonly timeUnit?: TimeUnit;
}

/** An invoked operation, waiting for exactly one of ok / fail / info. */
export interface PendingOperation<O extends KvOperation = KvOperation> {
  readonly id: number;
  /** It happened, with this result (put and delete take none). */
  ok(...result: ResultOf<O> extends EmptyResult ? [] : [ResultOf<O>]): void;
  /** It definitely did not happen. */
  fail(error?: string): void;
  /** Its outcome is unknown: it may have happened at any point since its invocation, or never. */
  info(error?: string): void;
}

export interface HistoryRecorder {
  invoke<O extends KvOperation>(process: ProcessId, op: O): PendingOperation<O>;
  /** A snapshot of what was recorded so far; operations still pending count as `info`. */
  history(): History;
}

/**
 * Records a history as the operations happen. Misuse that would make the history malformed (a
 * process with two operations in flight, completing an operation twice) throws at once, where the
 * bug is, rather than later in the checker.
 */
export function createHistoryRecorder(options: HistoryRecorderOptions): HistoryRecorder {
  const events: HistoryEvent[] = [];
  const busy = new Set<ProcessId>();
  let nextId = 1;
  let lastTime = -Infinity;

  const stamp = (): number => {
    const time = options.now();
    if (!Number.isFinite(time)) throw new Error(`history clock returned ${time}`);
    // A monotonic clock never goes back; if one does, the history would be misordered.
    if (time < lastTime) {
      throw new Error(
        `history clock went backwards (${time} after ${lastTime}): use a monotonic clock`,
      );
    }
    lastTime = time;
    return time;
  };

  return {
    invoke<O extends KvOperation>(process: ProcessId, op: O): PendingOperation<O> {
      if (busy.has(process)) {
        throw new Error(
          `process ${String(process)} already has an operation in flight; a process runs one operation at a time`,
        );
      }
      const id = nextId++;
      busy.add(process);
      events.push({ type: 'invoke', process, id, time: stamp(), op });
      let done = false;
      const complete = (event: (time: number) => HistoryEvent): void => {
        if (done)
          throw new Error(`operation ${id} of process ${String(process)} already completed`);
        done = true;
        busy.delete(process);
        events.push(event(stamp()));
      };
      return {
        id,
        ok: (...result) => {
          complete((time) => ({ type: 'ok', process, id, time, result: result[0] ?? {} }));
        },
        fail: (error) => {
          complete((time) => ({
            type: 'fail',
            process,
            id,
            time,
            ...(error === undefined ? {} : { error }),
          }));
        },
        info: (error) => {
          complete((time) => ({
            type: 'info',
            process,
            id,
            time,
            ...(error === undefined ? {} : { error }),
          }));
        },
      };
    },
    history: () => ({
      events: [...events],
      ...(options.timeUnit === undefined ? {} : { timeUnit: options.timeUnit }),
    }),
  };
}
