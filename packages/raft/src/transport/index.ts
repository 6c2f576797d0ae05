// The public API of the Raft peer transport (re-exported by the package index).
export type {
  PeerStatus,
  RaftTransport,
  ReceiveHandler,
  SnapshotOutcome,
  SnapshotReportHandler,
  TransportStatus,
} from './transport.js';
export { ClusterIdMismatchError } from './cluster-handshake.js';
export type { FaultVerdict, TransportDirection, TransportFaultFilter } from './fault-filter.js';
export type { ReconnectBackoff } from './reconnect-backoff.js';
export type { PeerTransportOptions } from './peer-transport.js';
export { GrpcRaftTransport } from './grpc-transport.js';
export type { GrpcRaftTransportOptions } from './grpc-transport.js';
export {
  createRaftPeerService,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_SNAPSHOT_BYTES,
  raftPeerServerOptions,
} from './grpc-peer-service.js';
export type {
  BatchReceiver,
  RaftPeerService,
  RaftPeerServiceOptions,
} from './grpc-peer-service.js';
export { InMemoryRaftNetwork, InMemoryRaftTransport } from './in-memory-transport.js';
export type {
  InMemoryRaftNetworkOptions,
  InMemoryTransportOptions,
} from './in-memory-transport.js';
export { messageFromProto, messageToProto } from './message-codec.js';
