import {
  HistoryError,
  type History,
  type HistoryEvent,
  type KvOperation,
  type KvOperationRecord,
  type KvResult,
  type OperationId,
  type ProcessId,
} from './history.js';

interface Pending {
  readonly invoke: HistoryEvent & { type: 'invoke' };
  readonly index: number;
}

/**
 * Pairs each invoke with its completion, rejecting a history that is not well formed: events out
 * of time order, a completion without its invoke, an operation invoked or completed twice, a
 * process running two operations at once, a result that does not fit its operation.
 * Operations are returned in invocation order.
 */
export function historyOperations(history: History): KvOperationRecord[] {
  const records: KvOperationRecord[] = [];
  const slotOf = new Map<OperationId, number>();
  const pending = new Map<OperationId, Pending>();
  const busy = new Map<ProcessId, OperationId>();
  const completedAtEvent = new Map<OperationId, number>();
  let previousTime = -Infinity;

  history.events.forEach((event, index) => {
    const at = `event ${index} (${event.type} of operation ${show(event.id)})`;
    if (event.time < previousTime) {
      throw new HistoryError(
        `${at} has time ${event.time}, earlier than the event before it (${previousTime}): events must be in time order`,
      );
    }
    previousTime = event.time;

    if (event.type === 'invoke') {
      if (slotOf.has(event.id)) {
        throw new HistoryError(`${at}: operation ${show(event.id)} is invoked twice`);
      }
      const running = busy.get(event.process);
      if (running !== undefined) {
        throw new HistoryError(
          `${at}: process ${show(event.process)} invokes operation ${show(event.id)} while its operation ${show(running)} has not completed; a process runs one operation at a time`,
        );
      }
      busy.set(event.process, event.id);
      pending.set(event.id, { invoke: event, index });
      slotOf.set(event.id, records.length);
      records.push({
        id: event.id,
        process: event.process,
        op: event.op,
        outcome: 'info',
        invokedAt: event.time,
      });
      return;
    }

    const open = pending.get(event.id);
    if (open === undefined) {
      const earlier = completedAtEvent.get(event.id);
      throw new HistoryError(
        earlier === undefined
          ? `${at}: an ${event.type} without its invoke (no earlier invoke of operation ${show(event.id)})`
          : `${at}: operation ${show(event.id)} already completed at event ${earlier}`,
      );
    }
    if (open.invoke.process !== event.process) {
      throw new HistoryError(
        `${at}: completed by process ${show(event.process)}, but invoked by process ${show(open.invoke.process)} at event ${open.index}`,
      );
    }
    pending.delete(event.id);
    busy.delete(event.process);
    completedAtEvent.set(event.id, index);

    const base = {
      id: event.id,
      process: event.process,
      op: open.invoke.op,
      invokedAt: open.invoke.time,
      completedAt: event.time,
    };
    let record: KvOperationRecord;
    if (event.type === 'ok') {
      const problem = resultProblem(open.invoke.op, event.result);
      if (problem !== undefined) throw new HistoryError(`${at}: ${problem}`);
      record = { ...base, outcome: 'ok', result: event.result };
    } else {
      record = { ...base, outcome: event.type };
      if (event.error !== undefined) record = { ...record, error: event.error };
    }
    records[slotOf.get(event.id)!] = record;
  });
  return records;
}

function resultProblem(op: KvOperation, result: KvResult): string | undefined {
  const fields = Object.keys(result);
  switch (op.f) {
    case 'get': {
      const value = (result as { value?: unknown }).value;
      return fields.length === 1 && (typeof value === 'string' || value === null)
        ? undefined
        : `the result of a get must be { value: string | null }, got ${JSON.stringify(result)}`;
    }
    case 'cas':
      return fields.length === 1 && typeof (result as { ok?: unknown }).ok === 'boolean'
        ? undefined
        : `the result of a cas must be { ok: boolean }, got ${JSON.stringify(result)}`;
    case 'put':
    case 'delete':
      return fields.length === 0
        ? undefined
        : `the result of a ${op.f} must be {}, got ${JSON.stringify(result)}`;
  }
}

function show(id: ProcessId): string {
  return typeof id === 'string' ? `'${id}'` : String(id);
}
