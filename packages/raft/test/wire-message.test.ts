import { raftV1 } from '@catmesh/proto';
import { describe, expect, it } from 'vitest';
import {
  WIRE_MESSAGE_TYPE,
  WireMessageError,
  fromWire,
  toWire,
  type Message,
  type WireMessage,
} from '../src/core/index.js';
import { bytes } from './support/memory-cluster.js';

const env = { from: 3, to: 5, term: 42 };
const entries = [
  { term: 41, index: 7, type: 'normal' as const, data: bytes('cmd') },
  { term: 42, index: 8, type: 'conf-change' as const, data: new Uint8Array([1, 2, 3]) },
];

/** One message of every type the core sends, with every field it uses set. */
const messages: Message[] = [
  { type: 'append', ...env, index: 6, logTerm: 40, entries, commit: 5 },
  { type: 'append', ...env, index: 0, logTerm: 0, entries: [], commit: 0 },
  { type: 'append-response', ...env, index: 9, reject: true, rejectHint: 4, rejectHintTerm: 39 },
  { type: 'append-response', ...env, index: 9, reject: false, rejectHint: 0, rejectHintTerm: 0 },
  { type: 'vote', ...env, index: 10, logTerm: 41, transfer: false },
  { type: 'vote', ...env, index: 10, logTerm: 41, transfer: true },
  { type: 'pre-vote', ...env, index: 10, logTerm: 41, transfer: false },
  { type: 'vote-response', ...env, reject: true },
  { type: 'pre-vote-response', ...env, reject: false },
  { type: 'heartbeat', ...env, commit: 12, index: 77 },
  { type: 'heartbeat-response', ...env, index: 77, lostLog: false },
  { type: 'heartbeat-response', ...env, index: 78, lostLog: true },
  {
    type: 'snapshot',
    ...env,
    snapshot: {
      metadata: { index: 100, term: 40, confState: { voters: [1, 3, 5], learners: [7] } },
      data: bytes('state'),
    },
  },
  { type: 'timeout-now', ...env },
  { type: 'read-index', ...env, context: bytes('req-1') },
  { type: 'read-index-response', ...env, index: 12, context: bytes('req-1') },
  {
    type: 'propose',
    ...env,
    entries: [{ term: 0, index: 0, type: 'normal', data: bytes('forwarded cmd') }],
  },
];

/** What a transport does: the flat wire shape into the generated protobuf type and back. */
function throughProtobuf(w: WireMessage): WireMessage {
  const proto = raftV1.Message.fromPartial({
    ...w,
    entries: w.entries.map((e) => ({ ...e, data: Buffer.from(e.data) })),
    snapshot:
      w.snapshot === undefined
        ? undefined
        : {
            metadata: w.snapshot.metadata && {
              ...w.snapshot.metadata,
              confState: w.snapshot.metadata.confState && {
                voters: [...w.snapshot.metadata.confState.voters],
                learners: [...w.snapshot.metadata.confState.learners],
              },
            },
            data: Buffer.from(w.snapshot.data),
          },
    context: Buffer.from(w.context),
  });
  return raftV1.Message.decode(raftV1.Message.encode(proto).finish());
}

/** Byte arrays as plain arrays, so Buffer and Uint8Array compare equal. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

describe('wire format (catmesh.raft.v1.Message)', () => {
  it('every core message survives toWire, protobuf encoding, decoding and fromWire unchanged', () => {
    for (const m of messages) {
      const back = fromWire(throughProtobuf(toWire(m)));
      expect(plain(back), m.type).toEqual(plain(m));
    }
  });

  it('uses the proto enum numbers for message and entry types', () => {
    expect(WIRE_MESSAGE_TYPE.append).toBe(raftV1.MessageType.MESSAGE_TYPE_APPEND);
    expect(WIRE_MESSAGE_TYPE['read-index-response']).toBe(
      raftV1.MessageType.MESSAGE_TYPE_READ_INDEX_RESPONSE,
    );
    expect(WIRE_MESSAGE_TYPE['timeout-now']).toBe(raftV1.MessageType.MESSAGE_TYPE_TIMEOUT_NOW);
    expect(toWire(messages[0]!).entries.map((e) => e.type)).toEqual([
      raftV1.EntryType.ENTRY_TYPE_NORMAL,
      raftV1.EntryType.ENTRY_TYPE_CONF_CHANGE,
    ]);
  });

  it('refuses wire messages the core cannot take', () => {
    const base = toWire({ type: 'timeout-now', ...env });
    expect(() => fromWire({ ...base, type: raftV1.MessageType.MESSAGE_TYPE_UNSPECIFIED })).toThrow(
      WireMessageError,
    );
    expect(() => fromWire({ ...base, type: 99 })).toThrow(
      /type: 99 is not a Raft core message type/,
    );
    expect(() => fromWire({ ...base, type: WIRE_MESSAGE_TYPE.snapshot })).toThrow(
      /snapshot: missing/,
    );
    const badEntry = {
      ...toWire(messages[0]!),
      entries: [{ term: 1, index: 1, type: 0, data: new Uint8Array() }],
    };
    expect(() => fromWire(badEntry)).toThrow(/unknown entry type 0/);
  });
});
