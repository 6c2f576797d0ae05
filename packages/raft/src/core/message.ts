// Raft messages as the core produces and consumes them: one variant per message type, each with
// exactly the fields that type uses. `toWire`/`fromWire` map them to and from the flat shape of
// catmesh.raft.v1.Message (raft.proto) without loss; the transport only converts numbers to the
// generated enum and Uint8Array to Buffer.
import type { Entry, EntryType, NodeId, Snapshot } from './types.js';

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term (for a granted pre-vote: the term the pre-candidate will campaign in). */
  readonly term: number;
}

/** AppendEntries (§5.3): entries following (index, logTerm), plus the leader's commit index. */
export interface AppendMessage extends Envelope {
  readonly type: 'append';
  /** Index of the entry preceding `entries` (prevLogIndex). */
  readonly index: number;
  /** Term of that entry (prevLogTerm). */
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Reply to an append or snapshot. Accepted: `index` is the last index known to match the leader.
 * Rejected: `index` echoes the append's prevLogIndex, and (rejectHint, rejectHintTerm) is the
 * follower's last entry that may still match, so the leader can skip a whole term per probe.
 */
export interface AppendResponseMessage extends Envelope {
  readonly type: 'append-response';
  readonly index: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly rejectHintTerm: number;
}

/** RequestVote (§5.2) or its PreVote probe (dissertation §9.6), with the candidate's last entry. */
export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'pre-vote';
  readonly index: number;
  readonly logTerm: number;
  /**
   * The campaign follows a leadership transfer (TimeoutNow), so voters must not ignore it
   * because they heard from the current leader recently (dissertation §3.10, §4.2.3).
   */
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends Envelope {
  readonly type: 'vote-response' | 'pre-vote-response';
  readonly reject: boolean;
}

/**
 * Leader heartbeat. `commit` is capped at what the follower is known to hold; `index` is the
 * leader's heartbeat round, echoed in the response, which confirms ReadIndex requests and leases.
 */
export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly index: number;
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: 'heartbeat-response';
  /** The heartbeat round being acknowledged. */
  readonly index: number;
  /**
   * The heartbeat's commit index is beyond this replica's log: it lost entries it had
   * acknowledged (its data directory was wiped), and asks the leader to probe it again.
   */
  readonly lostLog: boolean;
}

/** InstallSnapshot (§7): the leader's latest snapshot, for a follower behind its log's start. */
export interface SnapshotMessage extends Envelope {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Leadership transfer: the leader tells an up-to-date target to campaign at once (§3.10). */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeout-now';
}

/** A follower asks the leader for a read index on behalf of a local read (§6.4). */
export interface ReadIndexMessage extends Envelope {
  readonly type: 'read-index';
  readonly context: Uint8Array;
}

export interface ReadIndexResponseMessage extends Envelope {
  readonly type: 'read-index-response';
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * A follower hands commands to the leader, which appends them as if proposed there (etcd's
 * MsgProp). Only `data` of the entries counts: the leader gives them its own index and term.
 * Nothing answers it: the proposer learns the outcome by applying the committed entry, and
 * proposes again (idempotently) if that does not happen.
 */
export interface ProposeMessage extends Envelope {
  readonly type: 'propose';
  readonly entries: readonly Entry[];
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage
  | ProposeMessage;

export type MessageType = Message['type'];

/** Numbers of catmesh.raft.v1.MessageType (raft.proto) for the core's message types. */
export const WIRE_MESSAGE_TYPE = {
  append: 1,
  'append-response': 2,
  vote: 3,
  'vote-response': 4,
  'pre-vote': 5,
  'pre-vote-response': 6,
  heartbeat: 7,
  'heartbeat-response': 8,
  snapshot: 9,
  'timeout-now': 10,
  'read-index': 11,
  'read-index-response': 12,
  propose: 13,
} as const satisfies Record<MessageType, number>;

/** Numbers of catmesh.raft.v1.EntryType. */
export const WIRE_ENTRY_TYPE = { normal: 1, 'conf-change': 2 } as const satisfies Record<
  EntryType,
  number
>;

/** The `context` of a vote request that follows TimeoutNow (etcd uses the same convention). */
export const TRANSFER_CONTEXT: Uint8Array = new TextEncoder().encode('CampaignTransfer');

export interface WireEntry {
  readonly term: number;
  readonly index: number;
  readonly type: number;
  readonly data: Uint8Array;
}

export interface WireSnapshot {
  readonly metadata:
    | {
        readonly index: number;
        readonly term: number;
        readonly confState:
          { readonly voters: readonly number[]; readonly learners: readonly number[] } | undefined;
      }
    | undefined;
  readonly data: Uint8Array;
}

/** The flat shape of catmesh.raft.v1.Message: every field present, unused ones zero/empty. */
export interface WireMessage {
  readonly type: number;
  readonly from: number;
  readonly to: number;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly WireEntry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly rejectHintTerm: number;
  readonly snapshot?: WireSnapshot | undefined;
  readonly context: Uint8Array;
}

/** A wire message the core cannot take: unknown type, missing snapshot, bad entry type. */
export class WireMessageError extends Error {
  override readonly name = 'WireMessageError';
}

const EMPTY = new Uint8Array(0);

function wireEntry(e: Entry): WireEntry {
  return { term: e.term, index: e.index, type: WIRE_ENTRY_TYPE[e.type], data: e.data };
}

function entryFromWire(e: WireEntry): Entry {
  const type: EntryType | undefined =
    e.type === WIRE_ENTRY_TYPE.normal
      ? 'normal'
      : e.type === WIRE_ENTRY_TYPE['conf-change']
        ? 'conf-change'
        : undefined;
  if (type === undefined)
    throw new WireMessageError(`entries[].type: unknown entry type ${e.type}`);
  return { term: e.term, index: e.index, type, data: e.data };
}

function snapshotFromWire(s: WireSnapshot | undefined): Snapshot {
  if (s?.metadata === undefined) throw new WireMessageError('snapshot: missing snapshot metadata');
  const cs = s.metadata.confState ?? { voters: [], learners: [] };
  return {
    metadata: {
      index: s.metadata.index,
      term: s.metadata.term,
      confState: { voters: [...cs.voters], learners: [...cs.learners] },
    },
    data: s.data,
  };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The core message as the flat proto shape. */
export function toWire(m: Message): WireMessage {
  const base = {
    type: WIRE_MESSAGE_TYPE[m.type],
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: 0,
    index: 0,
    entries: [] as WireEntry[],
    commit: 0,
    reject: false,
    rejectHint: 0,
    rejectHintTerm: 0,
    context: EMPTY,
  };
  switch (m.type) {
    case 'append':
      return {
        ...base,
        index: m.index,
        logTerm: m.logTerm,
        entries: m.entries.map(wireEntry),
        commit: m.commit,
      };
    case 'append-response':
      return {
        ...base,
        index: m.index,
        reject: m.reject,
        rejectHint: m.rejectHint,
        rejectHintTerm: m.rejectHintTerm,
      };
    case 'vote':
    case 'pre-vote':
      return {
        ...base,
        index: m.index,
        logTerm: m.logTerm,
        context: m.transfer ? TRANSFER_CONTEXT : EMPTY,
      };
    case 'vote-response':
    case 'pre-vote-response':
      return { ...base, reject: m.reject };
    case 'heartbeat':
      return { ...base, commit: m.commit, index: m.index };
    case 'heartbeat-response':
      return { ...base, index: m.index, reject: m.lostLog };
    case 'snapshot':
      return {
        ...base,
        snapshot: {
          metadata: {
            index: m.snapshot.metadata.index,
            term: m.snapshot.metadata.term,
            confState: {
              voters: [...m.snapshot.metadata.confState.voters],
              learners: [...m.snapshot.metadata.confState.learners],
            },
          },
          data: m.snapshot.data,
        },
      };
    case 'timeout-now':
      return base;
    case 'read-index':
      return { ...base, context: m.context };
    case 'read-index-response':
      return { ...base, index: m.index, context: m.context };
    case 'propose':
      return { ...base, entries: m.entries.map(wireEntry) };
  }
}

/**
 * The core message for a flat proto message. Throws WireMessageError for a type the core does
 * not know or a malformed message.
 */
export function fromWire(w: WireMessage): Message {
  const env = { from: w.from, to: w.to, term: w.term };
  switch (w.type) {
    case WIRE_MESSAGE_TYPE.append:
      return {
        type: 'append',
        ...env,
        index: w.index,
        logTerm: w.logTerm,
        entries: w.entries.map(entryFromWire),
        commit: w.commit,
      };
    case WIRE_MESSAGE_TYPE['append-response']:
      return {
        type: 'append-response',
        ...env,
        index: w.index,
        reject: w.reject,
        rejectHint: w.rejectHint,
        rejectHintTerm: w.rejectHintTerm,
      };
    case WIRE_MESSAGE_TYPE.vote:
    case WIRE_MESSAGE_TYPE['pre-vote']:
      return {
        type: w.type === WIRE_MESSAGE_TYPE.vote ? 'vote' : 'pre-vote',
        ...env,
        index: w.index,
        logTerm: w.logTerm,
        transfer: bytesEqual(w.context, TRANSFER_CONTEXT),
      };
    case WIRE_MESSAGE_TYPE['vote-response']:
    case WIRE_MESSAGE_TYPE['pre-vote-response']:
      return {
        type: w.type === WIRE_MESSAGE_TYPE['vote-response'] ? 'vote-response' : 'pre-vote-response',
        ...env,
        reject: w.reject,
      };
    case WIRE_MESSAGE_TYPE.heartbeat:
      return { type: 'heartbeat', ...env, commit: w.commit, index: w.index };
    case WIRE_MESSAGE_TYPE['heartbeat-response']:
      return { type: 'heartbeat-response', ...env, index: w.index, lostLog: w.reject };
    case WIRE_MESSAGE_TYPE.snapshot:
      return { type: 'snapshot', ...env, snapshot: snapshotFromWire(w.snapshot) };
    case WIRE_MESSAGE_TYPE['timeout-now']:
      return { type: 'timeout-now', ...env };
    case WIRE_MESSAGE_TYPE['read-index']:
      return { type: 'read-index', ...env, context: w.context };
    case WIRE_MESSAGE_TYPE['read-index-response']:
      return { type: 'read-index-response', ...env, index: w.index, context: w.context };
    case WIRE_MESSAGE_TYPE.propose:
      return { type: 'propose', ...env, entries: w.entries.map(entryFromWire) };
    default:
      throw new WireMessageError(`type: ${w.type} is not a Raft core message type`);
  }
}
