// The traffic gate over the fault table: what the kit's transports ask about each call and
// message (packages/runtime's TrafficGate).
import type { TrafficDecision, TrafficGate, TrafficRequest } from '@catmesh/runtime';
import type { ActiveAppFault, FaultTable } from './fault-table.js';
import type { FaultMetrics } from './fault-metrics.js';
import { sampleLatencyMs } from './latency-sample.js';
import { faultApplies } from './peer-match.js';

/** The span event each fault that acts on a call or message adds to its span. */
export const FAULT_SPAN_EVENT = 'catmesh.fault';

const DELIVER: TrafficDecision = { action: 'deliver' };
const DROP: TrafficDecision = { action: 'drop' };

export interface AppTrafficGateOptions {
  readonly table: FaultTable;
  readonly metrics?: FaultMetrics;
  /** In [0, 1): decides loss, rejection and jitter. Math.random unless given. */
  readonly random?: () => number;
}

/**
 * Drops, rejects or delays what the faults in force match. Partitions and losses drop (and win
 * over everything else), rejections fail fast; the delays of every latency and bandwidth fault
 * that matches add up. Each fault that acts is counted (ListFaults' `injections`,
 * `catmesh_fault_injections_total`) and adds a `catmesh.fault` event to the call's span.
 */
export class AppTrafficGate implements TrafficGate {
  readonly #table: FaultTable;
  readonly #metrics: FaultMetrics | undefined;
  readonly #random: () => number;

  constructor(options: AppTrafficGateOptions) {
    this.#table = options.table;
    this.#metrics = options.metrics;
    this.#random = options.random ?? Math.random;
  }

  get armed(): boolean {
    return this.#table.active.length > 0;
  }

  decide(request: TrafficRequest): TrafficDecision {
    const active = this.#table.active;
    for (const entry of active) {
      const { effect } = entry.fault;
      if (effect.kind === 'partition' || effect.kind === 'loss' || effect.kind === 'reject') {
        if (!faultApplies(entry.fault, request)) continue;
        if (effect.kind !== 'partition' && this.#random() >= effect.probability) continue;
        this.#injected(entry, request, effect.kind === 'reject' ? 'reject' : 'drop');
        return effect.kind === 'reject'
          ? { action: 'reject', reason: `rejected by fault ${entry.fault.id}` }
          : DROP;
      }
    }
    let delayMs = 0;
    for (const entry of active) {
      const { effect } = entry.fault;
      if (effect.kind !== 'latency' && effect.kind !== 'bandwidth') continue;
      if (!faultApplies(entry.fault, request)) continue;
      const delay =
        effect.kind === 'latency'
          ? sampleLatencyMs(effect.delayMs, effect.jitterMs, effect.distribution, this.#random)
          : this.#linkDelayMs(entry, effect.bytesPerSecond, request.bytes);
      if (delay <= 0) continue;
      delayMs += delay;
      this.#injected(entry, request, 'delay', delay);
    }
    return delayMs > 0 ? { action: 'delay', delayMs } : DELIVER;
  }

  /**
   * A token bucket without burst: the link sends `bytesPerSecond`, so a message waits for what
   * was given to the link before it, then for its own bytes.
   */
  #linkDelayMs(entry: ActiveAppFault, bytesPerSecond: number, bytes: number): number {
    if (bytes <= 0) return 0;
    const now = performance.now();
    entry.linkFreeAt = Math.max(now, entry.linkFreeAt) + (bytes * 1000) / bytesPerSecond;
    return Math.round(entry.linkFreeAt - now);
  }

  #injected(
    entry: ActiveAppFault,
    request: TrafficRequest,
    action: 'drop' | 'reject' | 'delay',
    delayMs = 0,
  ): void {
    const { fault } = entry;
    entry.injections += 1;
    this.#metrics?.injected(fault.effect.kind, request.transport, request.direction);
    request.span?.addEvent(FAULT_SPAN_EVENT, {
      'catmesh.fault.id': fault.id,
      'catmesh.fault.kind': fault.effect.kind,
      'catmesh.fault.experiment': fault.experiment,
      'catmesh.fault.action': action,
      ...(action === 'delay' && { 'catmesh.fault.delay_ms': delayMs }),
    });
  }
}
