import type { PartitionLink } from '../model.js';
import { createPrng } from './prng.js';
import type { Prng } from './prng.js';
import type { PlannedFault, Timeline, TimelineEntry } from './timeline.js';

// Nemesis generators in the spirit of Jepsen's: each turns a seed into a timeline of faults that
// alternate with quiet (healthy) periods. Pure: the same options give the same timeline.

export type NemesisKind =
  /** Shuffle the nodes, cut them into a minority and a majority. */
  | 'random-halves'
  /** Cut one random node off from all others. */
  | 'isolate-node'
  /** Cut off whichever node leads when the fault starts (see IsolateLeader). */
  | 'isolate-leader'
  /** Every node sees a majority, no two nodes the same one (needs 4 nodes or more). */
  | 'majorities-ring'
  /** Two halves that cannot talk, and one node that talks to both. */
  | 'bridge'
  /** kill -9 some nodes' processes, restart them later. */
  | 'kill'
  /** SIGSTOP some nodes' processes, SIGCONT them later. */
  | 'pause'
  /** Every node loses power at once (kill -9 and what was not fsynced is lost), then restarts. */
  | 'power-loss';

/** How many nodes a kill or pause hits; Jepsen's names (minority: n - majority). */
export type TargetCount = 'one' | 'minority' | 'majority' | 'all';

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface NemesisOptions {
  readonly seed: number | string;
  readonly nodes: readonly string[];
  /** Which nemeses to draw from; each fault picks one of them at random. */
  readonly nemeses: readonly NemesisKind[];
  /** The run's length: every fault has ended by then. */
  readonly totalMs: number;
  /** How long each fault lasts. */
  readonly faultMs: Range;
  /** How long the system stays healthy before each fault. */
  readonly quietMs: Range;
  /** Nodes hit by each kill or pause; `one`. */
  readonly processTargets?: TargetCount;
  /** When a killed process restarts, from the kill; at the end of the fault when omitted. */
  readonly restartAfterMs?: Range;
}

const minimumNodes: Record<NemesisKind, number> = {
  'random-halves': 2,
  'isolate-node': 2,
  'isolate-leader': 2,
  'majorities-ring': 4,
  bridge: 3,
  kill: 1,
  pause: 1,
  'power-loss': 1,
};

/** A timeline of faults drawn from `nemeses`, deterministic for `seed`. */
export function nemesisTimeline(options: NemesisOptions): Timeline {
  checkOptions(options);
  const rng = createPrng(options.seed);
  const entries: TimelineEntry[] = [];
  let t = 0;
  for (;;) {
    const startMs = t + rng.int(options.quietMs.min, options.quietMs.max);
    const durationMs = rng.int(options.faultMs.min, options.faultMs.max);
    if (startMs + durationMs > options.totalMs) break;
    const kind = rng.pick(options.nemeses);
    entries.push({ startMs, fault: makeFault(kind, rng, options, durationMs) });
    t = startMs + durationMs;
  }
  return entries;
}

function makeFault(
  kind: NemesisKind,
  rng: Prng,
  options: NemesisOptions,
  durationMs: number,
): PlannedFault {
  const nodes = options.nodes;
  switch (kind) {
    case 'random-halves': {
      const shuffled = rng.shuffle(nodes);
      const cut = Math.floor(nodes.length / 2);
      return {
        kind: 'partition',
        groups: [shuffled.slice(0, cut), shuffled.slice(cut)],
        direction: 'both',
        durationMs,
      };
    }
    case 'isolate-node': {
      const node = rng.pick(nodes);
      return {
        kind: 'partition',
        groups: [[node], nodes.filter((n) => n !== node)],
        direction: 'both',
        durationMs,
      };
    }
    case 'isolate-leader':
      return { kind: 'isolate-leader', nodes, fallback: rng.pick(nodes), durationMs };
    case 'majorities-ring':
      return {
        kind: 'partition',
        links: majoritiesRing(rng.shuffle(nodes)),
        direction: 'both',
        durationMs,
      };
    case 'bridge': {
      // The first node of the shuffle is the bridge: it stays connected to both sides.
      const rest = rng.shuffle(nodes).slice(1);
      const half = Math.floor(rest.length / 2);
      return {
        kind: 'partition',
        links: [{ from: rest.slice(0, half), to: rest.slice(half) }],
        direction: 'both',
        durationMs,
      };
    }
    case 'kill': {
      const targets = pickTargets(rng, nodes, options.processTargets ?? 'one');
      const restart = options.restartAfterMs;
      return restart === undefined
        ? { kind: 'kill', targets, durationMs }
        : {
            kind: 'kill',
            targets,
            durationMs,
            restartAfterMs: rng.int(
              Math.min(restart.min, durationMs),
              Math.min(restart.max, durationMs),
            ),
          };
    }
    case 'power-loss':
      return { kind: 'kill', targets: [...nodes], durationMs, powerLoss: true };
    case 'pause':
      return {
        kind: 'pause',
        targets: pickTargets(rng, nodes, options.processTargets ?? 'one'),
        durationMs,
      };
  }
}

/**
 * Nodes on a ring each see their neighbours up to distance k, with k the smallest that makes
 * 2k + 1 a majority; the rest of the ring is cut. For n >= 4 every node then sees a majority and
 * no two see the same set.
 */
function majoritiesRing(ring: readonly string[]): PartitionLink[] {
  const n = ring.length;
  const k = Math.ceil(Math.floor(n / 2) / 2);
  const links: PartitionLink[] = [];
  ring.forEach((node, i) => {
    // Each unordered pair once: only partners later on the ring; direction 'both' cuts the pair.
    const hidden = ring.filter((_, j) => j > i && Math.min(j - i, n - (j - i)) > k);
    if (hidden.length > 0) links.push({ from: [node], to: hidden });
  });
  return links;
}

function pickTargets(rng: Prng, nodes: readonly string[], count: TargetCount): string[] {
  const majority = Math.floor(nodes.length / 2) + 1;
  const size = {
    one: 1,
    minority: Math.max(1, nodes.length - majority),
    majority,
    all: nodes.length,
  }[count];
  return rng.shuffle(nodes).slice(0, size);
}

function checkOptions(options: NemesisOptions): void {
  const fail = (field: string, problem: string): never => {
    throw new Error(`nemesis options: ${field}: ${problem}`);
  };
  const { nodes, nemeses } = options;
  if (new Set(nodes).size !== nodes.length) fail('nodes', 'names must be unique');
  if (nemeses.length === 0) fail('nemeses', 'name at least one nemesis');
  for (const kind of nemeses) {
    const needed = minimumNodes[kind];
    if (needed === undefined) fail('nemeses', `unknown nemesis ${JSON.stringify(kind)}`);
    if (nodes.length < needed) fail('nodes', `${kind} needs at least ${needed} nodes`);
  }
  if (!(options.totalMs > 0)) fail('totalMs', 'must be > 0');
  const range = (field: string, r: Range | undefined, min: number): void => {
    if (r === undefined) return;
    if (!Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min < min || r.max < r.min) {
      fail(field, `must be whole milliseconds with ${min} <= min <= max`);
    }
  };
  range('faultMs', options.faultMs, 1);
  range('quietMs', options.quietMs, 0);
  range('restartAfterMs', options.restartAfterMs, 0);
}
