import type { ReplicaRoles } from '../mesh/replica-roles.js';

// The cat-feeder group seen from outside, a few times a second: who leads, in which term, and
// where each replica is. The report turns it into leader changes and election gaps.

export interface RaftSample {
  /** Milliseconds since the run started. */
  readonly at: number;
  /** The leader of the highest term, null when none claims it. */
  readonly leader: string | null;
  readonly term: number;
  /** Each replica that answered: its role, term and commit index. */
  readonly replicas: Readonly<Record<string, { role: string; term: number; commitIndex: number }>>;
  readonly unreachable: readonly string[];
}

export interface RaftObserver {
  readonly samples: readonly RaftSample[];
  stop(): Promise<void>;
}

export function observeRaft(roles: ReplicaRoles, clock: () => number, everyMs = 200): RaftObserver {
  const samples: RaftSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = clock();
      // A short deadline: a paused or cut-off replica must not stall the timeline.
      const view = await roles.view(Math.min(everyMs * 2, 500));
      const replicas: Record<string, { role: string; term: number; commitIndex: number }> = {};
      for (const [name, status] of view.replicas) {
        replicas[name] = { role: status.role, term: status.term, commitIndex: status.commitIndex };
      }
      samples.push({
        at: started,
        leader: view.leader?.instance ?? null,
        term: view.leader?.term ?? Math.max(0, ...[...view.replicas.values()].map((s) => s.term)),
        replicas,
        unreachable: [...view.unreachable.keys()],
      });
      const wait = everyMs - (clock() - started);
      if (wait > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
