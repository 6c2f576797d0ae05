import { setTimeout as sleep } from 'node:timers/promises';
import type { History, HistoryEvent, HistoryRecorder, OperationId } from '@catmesh/linearizability';
import type { Cluster } from '../cluster/cluster.js';
import { describeError } from '../cluster/grpc-errors.js';

// Durability: after every member loses power at once (kill -9, then what was not fsynced is
// rolled back from each member's power-loss journal; a target without one, etcd, gets the kill
// only) and a restart, each key must still hold a value the history explains. The final linearizable reads are recorded after everything else
// (as process `final`), and the writes plus those reads are checked for linearizability: an
// acknowledged write that was lost, or a value nobody wrote, makes that history illegal.

export const FINAL_PROCESS = 'final';

export interface FinalReads {
  /** What the members went through before the reads. */
  readonly crash: 'power loss' | 'kill -9';
  /** Keys no member could read before the deadline. */
  readonly unread: readonly string[];
}

/** Cuts every member's power and restarts it, then reads each key linearizably into the history. */
export async function powerLossRestartAndRead(
  cluster: Cluster,
  keys: readonly string[],
  recorder: HistoryRecorder,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<FinalReads> {
  const crash = await cluster.powerLossAndRestartAll();
  await cluster.waitForLeader(timeoutMs, signal);
  const deadline = performance.now() + timeoutMs;
  const unread: string[] = [];
  let attempt = 0;
  for (const key of keys) {
    for (;;) {
      signal?.throwIfAborted();
      const member = cluster.members[attempt % cluster.members.length]!;
      const pending = recorder.invoke(FINAL_PROCESS, { f: 'get', key });
      try {
        const value = await cluster.member(member).get(key, 'linearizable', 2_000);
        pending.ok({ value });
        break;
      } catch (error) {
        pending.fail(`${member}: ${describeError(error)}`);
        attempt++;
        if (performance.now() > deadline) {
          unread.push(key);
          break;
        }
        await sleep(200);
      }
    }
  }
  return { crash, unread };
}

/** The history's writes (every operation but a read) and the final reads, in order. */
export function writesAndFinalReads(history: History): History {
  const dropped = new Set<OperationId>();
  for (const event of history.events) {
    if (event.type === 'invoke' && event.op.f === 'get' && event.process !== FINAL_PROCESS) {
      dropped.add(event.id);
    }
  }
  const events: HistoryEvent[] = history.events.filter((e) => !dropped.has(e.id));
  return { ...history, events };
}
