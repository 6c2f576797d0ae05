// Cutting queued messages into StreamRequests that stay under the gRPC message size limit,
// without encoding every message twice.
import type { raftV1 } from '@catmesh/proto';
import type { BoundedQueue } from './bounded-queue.js';

// Protobuf worst cases: a tag takes 1 byte here, a varint at most 10, a length prefix at most 5
// (fields below 4 GiB). The bounds err high so a batch never exceeds the limit.
const VARINT = 11; // tag + 10-byte varint
const LENGTH_DELIMITED = 6; // tag + 5-byte length prefix
const MESSAGE_FIXED = LENGTH_DELIMITED + 10 * VARINT + 2 + LENGTH_DELIMITED; // wrapper, scalars, reject, context
const ENTRY_FIXED = LENGTH_DELIMITED + 3 * VARINT + LENGTH_DELIMITED;
const SNAPSHOT_FIXED = 4 * LENGTH_DELIMITED + 2 * VARINT + 2 * LENGTH_DELIMITED;
/** What a StreamRequest adds besides its messages: the sender's window. */
export const REQUEST_FIXED = VARINT;

/** An upper bound of the bytes `message` adds to an encoded StreamRequest. */
export function encodedSizeUpperBound(message: raftV1.Message): number {
  let size = MESSAGE_FIXED + message.context.length;
  for (const entry of message.entries) size += ENTRY_FIXED + entry.data.length;
  const snapshot = message.snapshot;
  if (snapshot) {
    const conf = snapshot.metadata?.confState;
    const members = conf ? conf.voters.length + conf.learners.length : 0;
    size += SNAPSHOT_FIXED + members * VARINT + snapshot.data.length;
  }
  return size;
}

/**
 * Takes up to `maxCount` messages from the front of `queue` for one StreamRequest of at most
 * `maxBytes`. The first message is always taken: callers keep larger ones out of the queue.
 */
export function takeBatch(
  queue: BoundedQueue<raftV1.Message>,
  maxCount: number,
  maxBytes: number,
): raftV1.Message[] {
  const batch: raftV1.Message[] = [];
  let bytes = REQUEST_FIXED;
  for (
    let next = queue.peek();
    next !== undefined && batch.length < maxCount;
    next = queue.peek()
  ) {
    const size = encodedSizeUpperBound(next);
    if (batch.length > 0 && bytes + size > maxBytes) break;
    queue.shift();
    batch.push(next);
    bytes += size;
  }
  return batch;
}
