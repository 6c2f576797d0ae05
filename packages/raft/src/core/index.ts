// The pure Raft core: no I/O, no clock, no ambient randomness (ARCHITECTURE.md rule 2).
export { NONE } from './types.js';
export type {
  ConfState,
  Entry,
  EntryType,
  HardState,
  NodeId,
  Snapshot,
  SnapshotMetadata,
} from './types.js';

export { RaftConfigError } from './config.js';
export type { PersistedState, RaftConfig, ReadOnlyMode } from './config.js';

export { RaftNode } from './raft-node.js';
export type {
  ConfChangeResult,
  PeerStatus,
  ForwardResult,
  ProposeBatchResult,
  ProposeRejection,
  ProposeResult,
  RaftStatus,
  ReadIndexResult,
  StepRejectionReason,
  StepResult,
  TransferResult,
} from './raft-node.js';

export type { ReadState, Ready, Role, SoftState } from './ready.js';

export { RaftInvariantError } from './raft-log.js';
export type { ProgressState } from './progress.js';

export {
  ConfChangeDecodeError,
  applyConfChange,
  decodeConfChangeEntry,
  encodeConfChangeEntry,
} from './conf-change.js';
export type {
  ConfChange,
  ConfChangeEntry,
  ConfChangeOutcome,
  ConfChangeType,
} from './conf-change.js';

export {
  TRANSFER_CONTEXT,
  WIRE_ENTRY_TYPE,
  WIRE_MESSAGE_TYPE,
  WireMessageError,
  fromWire,
  toWire,
} from './message.js';
export type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  MessageType,
  ProposeMessage,
  ReadIndexMessage,
  ReadIndexResponseMessage,
  SnapshotMessage,
  TimeoutNowMessage,
  VoteMessage,
  VoteResponseMessage,
  WireEntry,
  WireMessage,
  WireSnapshot,
} from './message.js';
