// Errors the storage reports to its caller.

/**
 * Data on disk failed its checksum (or made no sense) somewhere a crash can't explain: a WAL
 * record with intact records of later batches after it, a sealed segment, a snapshot file.
 * Nothing from the damaged record is ever returned; the storage refuses to open instead.
 */
export class StorageCorruptionError extends Error {
  override readonly name = 'StorageCorruptionError';

  constructor(
    /** Absolute path of the damaged file. */
    readonly file: string,
    /** Byte offset in `file` where the damage was found. */
    readonly offset: number,
    /** What is wrong there. */
    readonly detail: string,
  ) {
    super(`corrupt raft storage: ${file} at byte ${offset}: ${detail}`);
  }
}
