import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../cluster/cluster.js';

// After the faults are healed, every member must come to hold the same state: poll each one's
// local state digest until all agree twice in a row (a late commit still in flight would show as
// a change between two rounds).

export interface ConvergenceResult {
  readonly passed: boolean;
  /** The last digest (or error) seen per member. */
  readonly hashes: Readonly<Record<string, string>>;
  readonly waitedMs: number;
}

export async function waitForConvergence(
  cluster: Cluster,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ConvergenceResult> {
  const started = performance.now();
  let previous: string | undefined;
  let hashes: Record<string, string> = {};
  for (;;) {
    signal?.throwIfAborted();
    const round = await Promise.all(
      cluster.members.map((m) =>
        cluster.stateHash(m).then(
          (hash) => ({ hash, ok: true }),
          (error: unknown) => ({ hash: `unreadable (${(error as Error).message})`, ok: false }),
        ),
      ),
    );
    hashes = Object.fromEntries(cluster.members.map((m, i) => [m, round[i]!.hash]));
    const distinct = new Set(round.map((r) => r.hash));
    const agreed = round.every((r) => r.ok) && distinct.size === 1 ? round[0]!.hash : undefined;
    const waitedMs = Math.round(performance.now() - started);
    if (agreed !== undefined && agreed === previous) return { passed: true, hashes, waitedMs };
    if (waitedMs > timeoutMs) return { passed: false, hashes, waitedMs };
    previous = agreed;
    await sleep(250);
  }
}
