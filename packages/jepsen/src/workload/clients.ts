import { setTimeout as sleep } from 'node:timers/promises';
import type { HistoryRecorder, KvOperation, PendingOperation } from '@catmesh/linearizability';
import type { ReadConsistency } from '../check-options.js';
import { describeError } from '../cluster/grpc-errors.js';
import type { MemberApi, WriteId } from '../cluster/target.js';
import type { Workload } from './workload.js';

// The logical clients: each runs one operation at a time and records it (invoke, then ok, fail
// or info). A client's home member is assigned round-robin; after a failed operation it tries the
// next member, and the next, and goes home again after a success, the way a client with a list
// of endpoints fails over. Clients stuck behind a partition thus show up as unavailability rather
// than vanish from the minority, whose reads are what a CAP demonstration needs.

export interface ClientsOptions {
  readonly members: readonly string[];
  readonly member: (name: string) => MemberApi;
  readonly writeNotApplied: (error: unknown) => boolean;
  readonly recorder: HistoryRecorder;
  readonly workload: Workload;
  readonly clients: number;
  readonly durationMs: number;
  /** Operations per second over all clients, at most. */
  readonly rate: number;
  readonly opTimeoutMs: number;
  readonly readConsistency: ReadConsistency;
  /** Makes the write ids unique to this run. */
  readonly runId: string;
  readonly signal?: AbortSignal;
}

export async function runClients(options: ClientsOptions): Promise<void> {
  const end = performance.now() + options.durationMs;
  // Each client starts an operation at most once per interval, the clients staggered.
  const interval = (options.clients * 1000) / options.rate;
  await Promise.all(
    Array.from({ length: options.clients }, (_, i) =>
      runClient(options, i, end, interval, (interval * i) / options.clients),
    ),
  );
}

async function runClient(
  options: ClientsOptions,
  index: number,
  end: number,
  interval: number,
  offset: number,
): Promise<void> {
  const { members, clients } = options;
  // The history's process id; an operation of unknown outcome may still be in flight, so the
  // client goes on as a new process (as in Jepsen), keeping each process's operations sequential.
  let process = index;
  let sequence = 0;
  let failuresInARow = 0;
  let next = performance.now() + offset;
  const writer = `jepsen-${options.runId}-c${index}`;
  while (!options.signal?.aborted) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() >= end || options.signal?.aborted) return;
    next = Math.max(next + interval, performance.now());

    const member = members[(index + failuresInARow) % members.length]!;
    const op = options.workload.next();
    const pending = options.recorder.invoke(process, op);
    const id: WriteId = { client: writer, sequence: ++sequence };
    try {
      await perform(options, options.member(member), op, pending, id);
      failuresInARow = 0;
    } catch (error) {
      const why = `${member}: ${describeError(error)}`;
      if (op.f === 'get' || options.writeNotApplied(error)) {
        pending.fail(why);
      } else {
        pending.info(why);
        process += clients;
      }
      failuresInARow++;
    }
  }
}

async function perform(
  options: ClientsOptions,
  api: MemberApi,
  op: KvOperation,
  pending: PendingOperation,
  id: WriteId,
): Promise<void> {
  const { opTimeoutMs: timeout, workload } = options;
  switch (op.f) {
    case 'get': {
      const value = await api.get(op.key, options.readConsistency, timeout);
      pending.ok({ value });
      workload.observe(op.key, value);
      return;
    }
    case 'put':
      await api.put(op.key, op.value, id, timeout);
      pending.ok({});
      workload.observe(op.key, op.value);
      return;
    case 'cas': {
      const ok = await api.cas(op.key, op.expected, op.value, id, timeout);
      pending.ok({ ok });
      if (ok) workload.observe(op.key, op.value);
      return;
    }
    case 'delete':
      throw new Error('the workload issues no deletes');
  }
}
