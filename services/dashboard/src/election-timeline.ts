// The Raft panel's timeline: leader changes derived from polls of every replica's Status. A
// replica may still believe it leads an old term after the group moved on (a partitioned old
// leader), so the leader is the one of the highest term any replica reports.
import type { ElectionEvent } from './dashboard-snapshot.js';

/** What one replica said about itself in one poll. */
export interface ReplicaRoleReport {
  readonly id: number;
  readonly role: string;
  readonly term: number;
}

interface Leadership {
  readonly id: number;
  readonly term: number;
}

/** Enough to see the last failovers of a session; older events fall off. */
const MAX_EVENTS = 40;

export class ElectionTimeline {
  readonly #events: ElectionEvent[] = [];
  #leader: Leadership | undefined;
  /** The leader before the current gap, and when the gap began. */
  #lost: { readonly leader: Leadership; readonly atMs: number } | undefined;

  /** One poll at `atMs`: the replicas that answered (the others are left out). */
  observe(atMs: number, reports: readonly ReplicaRoleReport[]): void {
    const leader = leaderOf(reports);
    const current = this.#leader;
    if (leader && (leader.id !== current?.id || leader.term !== current.term)) {
      const previous = current ?? this.#lost?.leader;
      this.#push({
        kind: 'leader',
        atMs,
        term: leader.term,
        leaderId: leader.id,
        ...(previous && { previousLeaderId: previous.id }),
        ...(this.#lost && { gapMs: atMs - this.#lost.atMs }),
      });
      this.#leader = leader;
      this.#lost = undefined;
    } else if (!leader && current) {
      this.#push({ kind: 'no-leader', atMs, term: current.term, previousLeaderId: current.id });
      this.#lost = { leader: current, atMs };
      this.#leader = undefined;
    }
  }

  /** Oldest first. */
  get events(): readonly ElectionEvent[] {
    return this.#events;
  }

  #push(event: ElectionEvent): void {
    this.#events.push(event);
    if (this.#events.length > MAX_EVENTS) this.#events.shift();
  }
}

/** The replica that says it leads the highest term, if any does. */
export function leaderOf(reports: readonly ReplicaRoleReport[]): Leadership | undefined {
  let leader: Leadership | undefined;
  for (const { id, role, term } of reports) {
    if (role === 'leader' && (!leader || term > leader.term)) leader = { id, term };
  }
  return leader;
}
