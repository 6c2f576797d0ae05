// The public API of @catmesh/netpol.
export type {
  Cluster,
  ContainerPort,
  Direction,
  Endpoint,
  IpBlock,
  Labels,
  LabelSelector,
  NetworkPolicy,
  Pod,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  Protocol,
} from './model.js';
export { labelSelectorMatches } from './label-selector.js';
export { ManifestError, parseManifests, type ManifestSource } from './manifests.js';
export {
  evaluateConnection,
  type ConnectionVerdict,
  type SideVerdict,
  type TargetPort,
} from './evaluate.js';
export {
  allowedEdges,
  computeMatrix,
  edgeName,
  EXTERNAL,
  type AllowMatrix,
  type DnsVerdict,
  type MatrixCell,
  type MatrixColumn,
  type MatrixOptions,
} from './matrix.js';
export { formatMatrix, NOT_MODELLED } from './render-matrix.js';
export {
  PARTITION_LABEL,
  PARTITION_PEER_LABEL,
  PartitionError,
  partitionPolicy,
  policyManifest,
  type PodPartition,
} from './partition.js';
export {
  compareWithGraph,
  parseServiceGraph,
  type GraphComparison,
  type GraphEdge,
} from './service-graph.js';
export {
  CATMESH_CONVENTIONS,
  compareWithObserved,
  observedEdges,
  parseTraceDump,
  type EdgeConventions,
  type ObservedComparison,
  type ObservedEdges,
  type ObservedSpan,
  type SpanKind,
} from './observed-edges.js';
