// @catmesh/chaos: chaos experiments as data. The ChaosExperiment format and its JSON Schema (one
// source for local files and the CRD), the planner that resolves targets against a live
// mesh, the run loop with its own workload, and the report (JSON, terminal, HTML).

// The experiment format.
export type {
  ChaosExperiment,
  Consistency,
  DurationText,
  ExperimentMetadata,
  ExperimentSpec,
  FaultKind,
  FaultSpec,
  Mechanism,
  NetworkMechanism,
  OperationName,
  Probe,
  Selector,
  SliName,
  StepSpec,
  SteadyStateSpec,
  WorkloadSpec,
} from './experiment/experiment-types.js';
export {
  EXPERIMENT_API_VERSION,
  EXPERIMENT_KIND,
  MECHANISMS,
} from './experiment/experiment-types.js';
export { experimentSchema } from './experiment/experiment-schema.js';
export {
  EXPERIMENT_GROUP,
  EXPERIMENT_PLURAL,
  EXPERIMENT_VERSION,
  experimentCrd,
  experimentCrdYaml,
  experimentOpenApiSchema,
} from './experiment/experiment-crd.js';
export type {
  ExperimentCondition,
  ExperimentPhase,
  ExperimentStatus,
  TargetRecord,
  TargetState,
} from './experiment/experiment-status.js';
export { EXPERIMENT_PHASES, TARGET_STATES } from './experiment/experiment-status.js';
export type { ExperimentIssue } from './experiment/parse-experiment.js';
export {
  ExperimentError,
  MECHANISM_KINDS,
  parseExperiment,
  validateExperiment,
} from './experiment/parse-experiment.js';
export type { LibraryEntry } from './experiment/experiment-files.js';
export { readExperimentFile, readLibrary } from './experiment/experiment-files.js';
export { formatDuration, parseDuration } from './experiment/duration.js';

// The mesh an experiment runs against (injected by whoever runs the mesh).
export type {
  MeshAccess,
  MeshInstance,
  NetworkFaults,
  NetworkPartitionRequest,
  ProcessFaultKind,
  ProcessFaultRecord,
  ProcessFaultRequest,
  ProcessFaults,
} from './mesh/mesh-access.js';
export { FaultAdmins } from './drivers/fault-admin.js';

// Planning and running.
export type { ExperimentPlan, PlanOptions, TimedStep } from './plan/plan-experiment.js';
export { planExperiment } from './plan/plan-experiment.js';
export { describePlan, describeStep } from './plan/describe-plan.js';
export { SelectorError } from './plan/resolve-step.js';
export type { Preflight } from './run/preflight.js';
export { preflight, PreflightError } from './run/preflight.js';
export type { RunEvent, RunOptions, RunResult } from './run/run-experiment.js';
export { runExperiment } from './run/run-experiment.js';
export type { RunPhase, RunProgress, StepProgress, StepState } from './run/run-progress.js';
export {
  parseRunProgress,
  PROGRESS_FILE,
  RUN_PHASES,
  RunProgressJournal,
  STEP_STATES,
} from './run/run-progress.js';

// The report.
export type {
  ChaosReport,
  HypothesisVerdict,
  OperationReport,
  RaftReport,
  StepRecord,
  WindowName,
  WindowStats,
} from './report/report-types.js';
export { assertValidReport, reportSchema } from './report/report-schema.js';
export { renderReportHtml } from './report/render-report-html.js';
export { renderSummary } from './report/render-summary.js';

// For runners of experiments elsewhere (the controller): a sleep that a stop cuts short.
export { abortableSleep } from './async/abortable-sleep.js';
