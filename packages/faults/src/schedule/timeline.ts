import { setTimeout as sleep } from 'node:timers/promises';
import type { Fault } from '../model.js';

/**
 * Isolate whichever node leads when the fault starts, which no schedule can know in advance.
 * Resolved at run time by `resolvePlannedFault`; `fallback` (drawn from the seed) is isolated when
 * no leader is known, so the run stays reproducible.
 */
export interface IsolateLeader {
  readonly kind: 'isolate-leader';
  readonly nodes: readonly string[];
  readonly fallback: string;
  readonly durationMs: number;
}

export type PlannedFault = Fault | IsolateLeader;

/** A fault and when it starts, in milliseconds from the start of the run. */
export interface TimelineEntry {
  readonly startMs: number;
  readonly fault: PlannedFault;
}

export type Timeline = readonly TimelineEntry[];

/** The concrete fault for a planned one, given the current leader (if any). */
export function resolvePlannedFault(planned: PlannedFault, leader: string | undefined): Fault {
  if (planned.kind !== 'isolate-leader') return planned;
  const node = leader !== undefined && planned.nodes.includes(leader) ? leader : planned.fallback;
  return {
    kind: 'partition',
    groups: [[node], planned.nodes.filter((n) => n !== node)],
    direction: 'both',
    durationMs: planned.durationMs,
  };
}

export interface PlayTimelineOptions {
  /** Applies one fault, e.g. `injector.apply`; the injector reverts it when its duration ends. */
  readonly apply: (fault: Fault) => Promise<unknown>;
  /** Asked when an `isolate-leader` entry starts. */
  readonly leader?: () => string | undefined | Promise<string | undefined>;
  /** Stops the schedule (rejecting with the abort reason); applied faults still expire. */
  readonly signal?: AbortSignal;
}

export interface PlayedFault {
  readonly entry: TimelineEntry;
  readonly fault: Fault;
  /** Epoch milliseconds at which it was applied. */
  readonly appliedAt: number;
}

/** Applies each entry at its start time (relative to now) and resolves once all are applied. */
export async function playTimeline(
  timeline: Timeline,
  options: PlayTimelineOptions,
): Promise<PlayedFault[]> {
  const start = Date.now();
  const played: PlayedFault[] = [];
  for (const entry of [...timeline].sort((a, b) => a.startMs - b.startMs)) {
    const wait = start + entry.startMs - Date.now();
    if (wait > 0) {
      await sleep(wait, undefined, { signal: options.signal }).catch((error: unknown) => {
        // Reject with the caller's reason rather than the timer's generic AbortError.
        options.signal?.throwIfAborted();
        throw error;
      });
    }
    options.signal?.throwIfAborted();
    const leader = entry.fault.kind === 'isolate-leader' ? await options.leader?.() : undefined;
    const fault = resolvePlannedFault(entry.fault, leader);
    await options.apply(fault);
    played.push({ entry, fault, appliedAt: Date.now() });
  }
  return played;
}
