// The fault model (ARCHITECTURE.md rule 3): a fault is plain data. Every mechanism (`app`,
// `netfilter`, `networkpolicy`) receives the same shapes, so an experiment, a schedule or a
// Jepsen-style test describes *what* breaks without saying *how*.
//
// Targets are node names (a replica, a service instance); a mechanism maps them to its own
// handles (a network namespace and its addresses, a supervised process, a pod).

/** Every fault ends: the side that applied it reverts it when `durationMs` has passed. */
interface FaultBase {
  readonly durationMs: number;
}

/**
 * Cut traffic between nodes. Give either `groups` or `links`:
 * - `groups`: disjoint sets of nodes; traffic between nodes of different groups is cut. With
 *   `direction: 'one-way'`, only packets from an earlier group to a later one are dropped
 *   (`[[a], [b, c]]` one-way: a cannot reach b or c, but hears from them).
 * - `links`: explicit cuts; packets from every node of `from` to every node of `to` are dropped,
 *   and with `direction: 'both'` the reverse direction too. This expresses overlapping views such
 *   as Jepsen's majorities ring, which groups cannot.
 */
export interface PartitionFault extends FaultBase {
  readonly kind: 'partition';
  readonly groups?: readonly (readonly string[])[];
  readonly links?: readonly PartitionLink[];
  readonly direction: PartitionDirection;
}

export type PartitionDirection = 'both' | 'one-way';

export interface PartitionLink {
  readonly from: readonly string[];
  readonly to: readonly string[];
}

/** Delay every packet the targets send by `delayMs` ± `jitterMs`. */
export interface LatencyFault extends FaultBase {
  readonly kind: 'latency';
  readonly targets: readonly string[];
  readonly delayMs: number;
  readonly jitterMs?: number;
}

/**
 * Drop each packet the targets send or receive with `probability` (in (0, 1]); each direction is
 * drawn independently, so a packet between two lossy targets crosses two coin flips.
 */
export interface LossFault extends FaultBase {
  readonly kind: 'loss';
  readonly targets: readonly string[];
  readonly probability: number;
}

/**
 * Kill the targets' processes with SIGKILL (no shutdown hooks run, like a power cut). They start
 * again after `restartAfterMs` when given, otherwise when the fault ends.
 */
export interface KillFault extends FaultBase {
  readonly kind: 'kill';
  readonly targets: readonly string[];
  readonly restartAfterMs?: number;
  /**
   * A power loss, not just a kill: what the process wrote but did not fsync is lost too, which
   * the injector plays by rolling back the process's power-loss journal before the restart.
   */
  readonly powerLoss?: boolean;
}

/** Freeze the targets' processes (SIGSTOP) until the fault ends (SIGCONT): a long GC pause. */
export interface PauseFault extends FaultBase {
  readonly kind: 'pause';
  readonly targets: readonly string[];
}

export type Fault = PartitionFault | LatencyFault | LossFault | KillFault | PauseFault;

export type FaultKind = Fault['kind'];

export const faultKinds: readonly FaultKind[] = ['partition', 'latency', 'loss', 'kill', 'pause'];

/** Faults that act on the network, as opposed to on processes. */
export type NetworkFault = PartitionFault | LatencyFault | LossFault;
export type ProcessFault = KillFault | PauseFault;

export function isNetworkFault(fault: Fault): fault is NetworkFault {
  return fault.kind === 'partition' || fault.kind === 'latency' || fault.kind === 'loss';
}

/** A directed cut: packets from `from` to `to` are dropped. */
export interface DirectedCut {
  readonly from: string;
  readonly to: string;
}

/**
 * The partition as the list of directed node pairs whose packets are dropped, without duplicates,
 * in a stable order. Every mechanism enforces exactly this set.
 */
export function partitionCuts(fault: PartitionFault): DirectedCut[] {
  const seen = new Set<string>();
  const cuts: DirectedCut[] = [];
  const add = (from: string, to: string): void => {
    const key = `${from}\u0000${to}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    cuts.push({ from, to });
  };
  const both = fault.direction === 'both';
  const groups = fault.groups ?? [];
  groups.forEach((earlier, i) => {
    for (const later of groups.slice(i + 1)) {
      for (const a of earlier) {
        for (const b of later) {
          add(a, b);
          if (both) add(b, a);
        }
      }
    }
  });
  for (const link of fault.links ?? []) {
    for (const a of link.from) {
      for (const b of link.to) {
        add(a, b);
        if (both) add(b, a);
      }
    }
  }
  return cuts;
}

/** Every node a fault names, in order of first mention. */
export function faultNodes(fault: Fault): string[] {
  if (fault.kind !== 'partition') return [...fault.targets];
  const nodes = new Set<string>();
  for (const group of fault.groups ?? []) for (const node of group) nodes.add(node);
  for (const link of fault.links ?? []) {
    for (const node of link.from) nodes.add(node);
    for (const node of link.to) nodes.add(node);
  }
  return [...nodes];
}

/** One line for logs and reports, e.g. `partition {n1} | {n2, n3} both for 5000ms`. */
export function describeFault(fault: Fault): string {
  const set = (nodes: readonly string[]): string => `{${nodes.join(', ')}}`;
  const span = `for ${fault.durationMs}ms`;
  switch (fault.kind) {
    case 'partition': {
      const parts: string[] = [];
      if (fault.groups) parts.push(fault.groups.map(set).join(' | '));
      for (const link of fault.links ?? []) parts.push(`${set(link.from)} -> ${set(link.to)}`);
      return `partition ${parts.join(', ')} ${fault.direction} ${span}`;
    }
    case 'latency':
      return `latency ${set(fault.targets)} ${fault.delayMs}ms ± ${fault.jitterMs ?? 0}ms ${span}`;
    case 'loss':
      return `loss ${set(fault.targets)} p=${fault.probability} ${span}`;
    case 'kill': {
      const what = fault.powerLoss === true ? 'power loss' : 'kill';
      return fault.restartAfterMs === undefined
        ? `${what} ${set(fault.targets)} ${span}`
        : `${what} ${set(fault.targets)} restart after ${fault.restartAfterMs}ms ${span}`;
    }
    case 'pause':
      return `pause ${set(fault.targets)} ${span}`;
  }
}
