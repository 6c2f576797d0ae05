// @catmesh/jepsen: Jepsen-style correctness checks of cat-feeder (and of etcd, the reference): a
// real cluster in network namespaces, clients recording a history, a seeded nemesis, and verdicts
// on linearizability, convergence, durability and crashes.

export type {
  CheckOptions,
  NemesisName,
  ReadConsistency,
  ResolvedCheckOptions,
  TargetName,
} from './check-options.js';
export {
  CheckUsageError,
  checkUsage,
  defaultNemeses,
  nemesisNames,
  parseCheckArgs,
  resolveCheckOptions,
} from './check-options.js';
export type { CheckIo, CheckRun } from './run-check.js';
export { runCheck } from './run-check.js';
export type { CheckName, CheckReport, CheckVerdict, FaultRecord } from './report/check-report.js';
export { formatReport } from './report/print-report.js';
export type { Availability, OperationCounts, OperationStats } from './verdict/operation-stats.js';
export {
  catFeederMemberApi,
  catFeederWriteNotApplied,
  defaultCatFeederMain,
} from './cluster/cat-feeder-driver.js';
export type { MemberApi, WriteId } from './cluster/target.js';
export type { ClientsOptions } from './workload/clients.js';
export { runClients } from './workload/clients.js';
export type { WorkloadOptions } from './workload/workload.js';
export { Workload } from './workload/workload.js';
export { defaultEtcdProto } from './cluster/etcd-driver.js';
