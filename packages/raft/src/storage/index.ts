// Durable storage for the Raft core: a checksummed write-ahead log with group commit, atomic
// snapshot files, crash recovery and compaction.

export { RaftStorage, DEFAULT_WAL_SEGMENT_SIZE } from './raft-storage.js';
export type {
  OpenedStorage,
  RaftStorageOptions,
  SaveRequest,
  StorageStats,
} from './raft-storage.js';
export type { StoredState, RecoveryReport, TornTailNotice } from './recovery.js';
export type { FsyncObserver, FsyncTarget } from './durable-fs.js';
export { StorageCorruptionError } from './errors.js';
export type { PlantedStorageBug } from './durable-fs.js';
export type { StorageFile, StorageFs } from './storage-fs.js';
export { PowerLossJournalFs, rollBackUnsynced } from './power-loss-journal.js';
export type { RollBackReport } from './power-loss-journal.js';
export { checkClusterId } from './cluster-id-file.js';
