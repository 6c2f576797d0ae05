// Between the core's Message and the generated catmesh.raft.v1.Message. The core's wire shape
// already matches the proto field for field; only bytes become Buffer views (no copies).
import type { raftV1 } from '@catmesh/proto';
import { fromWire, toWire, type Message, type WireEntry } from '../core/index.js';

const view = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const entryToProto = (e: WireEntry): raftV1.Entry => ({ ...e, data: view(e.data) });

export function messageToProto(m: Message): raftV1.Message {
  const wire = toWire(m);
  return {
    ...wire,
    entries: wire.entries.map(entryToProto),
    context: view(wire.context),
    snapshot: wire.snapshot && {
      metadata: wire.snapshot.metadata && {
        index: wire.snapshot.metadata.index,
        term: wire.snapshot.metadata.term,
        confState: wire.snapshot.metadata.confState && {
          voters: [...wire.snapshot.metadata.confState.voters],
          learners: [...wire.snapshot.metadata.confState.learners],
        },
      },
      data: view(wire.snapshot.data),
    },
  };
}

/** Throws WireMessageError for a message the core cannot take (unknown type, missing snapshot). */
export function messageFromProto(m: raftV1.Message): Message {
  return fromWire(m);
}
