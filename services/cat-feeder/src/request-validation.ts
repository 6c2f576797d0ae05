// Every boundary validates (ARCHITECTURE.md rule 5): a bad request is refused with
// INVALID_ARGUMENT naming the field, before anything reaches the log.
import { catfeederV1 } from '@catmesh/proto';
import { invalidArgument } from '@catmesh/runtime';

/** Keys are UTF-8 text; the limit keeps one entry well inside a Raft message. */
export const MAX_KEY_BYTES = 4096;
export const MAX_VALUE_BYTES = 1024 * 1024;

export function checkKey(key: string, field = 'key'): void {
  if (key.length === 0) throw invalidArgument(field, 'must not be empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw invalidArgument(field, `must be at most ${MAX_KEY_BYTES} bytes`);
  }
}

export function checkValue(value: Uint8Array, field = 'value'): void {
  if (value.byteLength > MAX_VALUE_BYTES) {
    throw invalidArgument(field, `must be at most ${MAX_VALUE_BYTES} bytes`);
  }
}

export function checkRequestId(requestId: catfeederV1.RequestId | undefined): void {
  if (requestId === undefined) return;
  if (requestId.clientId.length === 0) {
    throw invalidArgument('request_id.client_id', 'must not be empty when request_id is set');
  }
  if (requestId.sequence < 1) {
    throw invalidArgument('request_id.sequence', 'must be at least 1');
  }
}

export type ReadMode = 'linearizable' | 'lease' | 'stale';

export function readModeOf(consistency: catfeederV1.Consistency): ReadMode {
  switch (consistency) {
    case catfeederV1.Consistency.CONSISTENCY_UNSPECIFIED:
    case catfeederV1.Consistency.CONSISTENCY_LINEARIZABLE:
      return 'linearizable';
    case catfeederV1.Consistency.CONSISTENCY_LEASE:
      return 'lease';
    case catfeederV1.Consistency.CONSISTENCY_STALE:
      return 'stale';
    default:
      throw invalidArgument('consistency', `unknown value ${String(consistency)}`);
  }
}
