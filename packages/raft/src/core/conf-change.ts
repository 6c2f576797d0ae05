// Single-server membership changes (dissertation §4.1) and the bytes of a conf-change entry.
//
// A configuration takes effect on a server as soon as its entry is in the server's log, committed
// or not (§4.1), and reverts if the entry is truncated. Each conf-change entry therefore carries
// the whole resulting ConfState, so the configuration at any log position is the ConfState of the
// last conf-change entry at or before it (or the snapshot's), without replaying changes.
import type { ConfState, NodeId } from './types.js';

export type ConfChangeType = 'add-voter' | 'add-learner' | 'promote-learner' | 'remove';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly node: NodeId;
  /** Opaque to Raft, e.g. the new member's address; handed back in the committed entry. */
  readonly context?: Uint8Array;
}

/** What a conf-change entry says: the change (absent for the bootstrap entry) and its result. */
export interface ConfChangeEntry {
  readonly change: ConfChange | undefined;
  readonly confState: ConfState;
}

export type ConfChangeOutcome =
  | { readonly ok: true; readonly confState: ConfState }
  | { readonly ok: false; readonly detail: string };

function sorted(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}

/** The membership after `change`, or why the change is not allowed from `current`. */
export function applyConfChange(current: ConfState, change: ConfChange): ConfChangeOutcome {
  const { node } = change;
  if (!Number.isSafeInteger(node) || node <= 0) {
    return { ok: false, detail: `node: ${node} is not a valid node id` };
  }
  const voters = new Set(current.voters);
  const learners = new Set(current.learners);
  switch (change.type) {
    case 'add-voter':
      if (voters.has(node)) return { ok: false, detail: `node ${node} is already a voter` };
      // Adding an existing learner as a voter is a promotion.
      learners.delete(node);
      voters.add(node);
      break;
    case 'add-learner':
      if (voters.has(node)) return { ok: false, detail: `node ${node} is a voter` };
      if (learners.has(node)) return { ok: false, detail: `node ${node} is already a learner` };
      learners.add(node);
      break;
    case 'promote-learner':
      if (!learners.has(node)) return { ok: false, detail: `node ${node} is not a learner` };
      learners.delete(node);
      voters.add(node);
      break;
    case 'remove':
      if (voters.has(node)) {
        if (voters.size === 1) return { ok: false, detail: `node ${node} is the last voter` };
        voters.delete(node);
      } else if (!learners.delete(node)) {
        return { ok: false, detail: `node ${node} is not a member` };
      }
      break;
  }
  return { ok: true, confState: { voters: sorted(voters), learners: sorted(learners) } };
}

// Encoding: version byte, change type byte (0 = bootstrap), then unsigned LEB128 varints:
// node, voter count, voters..., learner count, learners...; the rest is the change's context.
const FORMAT_VERSION = 1;
const TYPE_CODES: Record<ConfChangeType, number> = {
  'add-voter': 1,
  'add-learner': 2,
  'promote-learner': 3,
  remove: 4,
};
const TYPES_BY_CODE: ReadonlyMap<number, ConfChangeType> = new Map(
  Object.entries(TYPE_CODES).map(([t, c]) => [c, t as ConfChangeType]),
);

function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

export function encodeConfChangeEntry(entry: ConfChangeEntry): Uint8Array {
  const head: number[] = [FORMAT_VERSION, entry.change ? TYPE_CODES[entry.change.type] : 0];
  pushVarint(head, entry.change?.node ?? 0);
  pushVarint(head, entry.confState.voters.length);
  for (const v of entry.confState.voters) pushVarint(head, v);
  pushVarint(head, entry.confState.learners.length);
  for (const l of entry.confState.learners) pushVarint(head, l);
  const context = entry.change?.context ?? new Uint8Array(0);
  const out = new Uint8Array(head.length + context.byteLength);
  out.set(head, 0);
  out.set(context, head.length);
  return out;
}

/** Thrown when a conf-change entry's bytes are not in the format above. */
export class ConfChangeDecodeError extends Error {
  override readonly name = 'ConfChangeDecodeError';
}

export function decodeConfChangeEntry(data: Uint8Array): ConfChangeEntry {
  let pos = 0;
  const byte = (): number => {
    const b = data[pos++];
    if (b === undefined) throw new ConfChangeDecodeError('conf-change entry is truncated');
    return b;
  };
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new ConfChangeDecodeError('conf-change varint is too long');
    }
  };
  const list = (): NodeId[] => {
    const n = varint();
    const ids: NodeId[] = [];
    for (let i = 0; i < n; i++) ids.push(varint());
    return ids;
  };
  const version = byte();
  if (version !== FORMAT_VERSION) {
    throw new ConfChangeDecodeError(`conf-change entry has unknown format version ${version}`);
  }
  const code = byte();
  const node = varint();
  const voters = list();
  const learners = list();
  const context = data.slice(pos);
  if (code === 0) return { change: undefined, confState: { voters, learners } };
  const type = TYPES_BY_CODE.get(code);
  if (type === undefined) throw new ConfChangeDecodeError(`unknown conf change type ${code}`);
  return { change: { type, node, context }, confState: { voters, learners } };
}
