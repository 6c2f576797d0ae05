import { Counter, Gauge, type Registry } from 'prom-client';
import type { TrafficDirection, TrafficTransport } from '@catmesh/runtime';
import { APP_FAULT_KINDS, type AppFaultKind } from './app-fault.js';

/** What a pause counts as: it acts on the whole process, not on a transport or a direction. */
export const PAUSE_TRANSPORT = 'event-loop';
export const PAUSE_DIRECTION = 'none';

export interface FaultMetrics {
  injected(
    kind: AppFaultKind,
    transport: TrafficTransport | typeof PAUSE_TRANSPORT,
    direction: TrafficDirection | typeof PAUSE_DIRECTION,
  ): void;
}

/**
 * `catmesh_faults_active{kind}` (`activeByKind` read at scrape time, every kind present) and
 * `catmesh_fault_injections_total{kind,transport,direction}`, in the process's registry.
 */
export function createFaultMetrics(
  registry: Registry,
  activeByKind: () => ReadonlyMap<AppFaultKind, number>,
): FaultMetrics {
  new Gauge({
    name: 'catmesh_faults_active',
    help: 'Faults of the app mechanism in force in this process, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const counts = activeByKind();
      for (const kind of APP_FAULT_KINDS) this.set({ kind }, counts.get(kind) ?? 0);
    },
  });
  const injections = new Counter({
    name: 'catmesh_fault_injections_total',
    help: 'Calls, messages and pauses a fault of the app mechanism acted on.',
    labelNames: ['kind', 'transport', 'direction'],
    registers: [registry],
  });
  return {
    injected: (kind, transport, direction) => injections.inc({ kind, transport, direction }),
  };
}
