// @catmesh/faults: one fault model (ARCHITECTURE.md rule 3), nemesis schedules, the `netfilter`
// mechanism for local runs (network namespaces, nftables, tc netem, kill, pause) and the `app`
// mechanism (faults inside catmesh's own transports).

// The fault model.
export type {
  DirectedCut,
  Fault,
  FaultKind,
  KillFault,
  LatencyFault,
  LossFault,
  NetworkFault,
  PartitionDirection,
  PartitionFault,
  PartitionLink,
  PauseFault,
  ProcessFault,
} from './model.js';
export { describeFault, faultKinds, faultNodes, isNetworkFault, partitionCuts } from './model.js';
export type { ValidateFaultOptions } from './validate-fault.js';
export { validateFault } from './validate-fault.js';
export { FaultConflictError, FaultValidationError, UnsupportedFaultError } from './errors.js';
// A fault's synchronous revert when this process ends, for mechanisms outside this package.
export { cleanupAtExit } from './exit-guard.js';

// What every mechanism offers.
export type { AppliedFault, FaultEvent, FaultInjector, RevertReason } from './injector.js';

// Schedules (nemesis generators).
export type { Prng } from './schedule/prng.js';
export { createPrng } from './schedule/prng.js';
export type { NemesisKind, NemesisOptions, Range, TargetCount } from './schedule/nemesis.js';
export { nemesisTimeline } from './schedule/nemesis.js';
export type {
  IsolateLeader,
  PlannedFault,
  PlayedFault,
  PlayTimelineOptions,
  Timeline,
  TimelineEntry,
} from './schedule/timeline.js';
export { playTimeline, resolvePlannedFault } from './schedule/timeline.js';

// The netfilter mechanism: a local network of namespaces, the injector, stale cleanup.
export type { NetworkTarget } from './netfilter/network-target.js';
export type { LocalHost, LocalNetworkOptions } from './netfilter/local-network.js';
export { LocalNetwork } from './netfilter/local-network.js';
export { networkNamespaceProblem } from './netfilter/namespace-support.js';
export type { NetfilterInjectorOptions } from './netfilter/netfilter-injector.js';
export { createNetfilterInjector } from './netfilter/netfilter-injector.js';
export type { NetemSupport } from './netfilter/netem.js';
export { netemSupport } from './netfilter/netem.js';
export type { StaleCleanupOptions, StaleCleanupReport } from './netfilter/cleanup-stale.js';
export { cleanupStale } from './netfilter/cleanup-stale.js';
export { CommandError } from './netfilter/run-command.js';

// The app mechanism: faults inside catmesh's own transports (gRPC, NATS, Raft), held by each
// process in a table with absolute expiries, applied through catmesh.faults.v1.FaultAdminService.
export type {
  AppFault,
  AppFaultEffect,
  AppFaultKind,
  LatencyDistribution,
  PeerSelector,
} from './app/app-fault.js';
export { APP_FAULT_KINDS } from './app/app-fault.js';
export { validateAppFault } from './app/validate-app-fault.js';
export type { ActiveAppFault, FaultEnd, FaultTableOptions } from './app/fault-table.js';
export { FaultTable } from './app/fault-table.js';
export type { AppTrafficGateOptions } from './app/app-traffic-gate.js';
export { AppTrafficGate, FAULT_SPAN_EVENT } from './app/app-traffic-gate.js';
export type { FaultMetrics } from './app/fault-metrics.js';
export { createFaultMetrics } from './app/fault-metrics.js';
export { createFaultAdminService } from './app/fault-admin-service.js';
export type { RaftFaultFilter, RaftFaultVerdict } from './app/raft-fault-filter.js';
export { raftFaultFilter } from './app/raft-fault-filter.js';
export type { FaultAdmin, FaultAdminOptions } from './app/start-fault-admin.js';
export { startFaultAdmin } from './app/start-fault-admin.js';

// Processes: the supervisor kill and pause faults act through.
export type {
  ProcessExit,
  ProcessSpec,
  ProcessState,
  ProcessStatus,
  ProcessSupervisorOptions,
} from './process/process-supervisor.js';
export { ProcessSupervisor } from './process/process-supervisor.js';
