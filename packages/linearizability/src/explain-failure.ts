// Turns the point where the search got stuck into one paragraph a person can check by looking at
// the diagram. Where the history itself proves the problem (a read of a value overwritten by a
// write acknowledged before the read began, or never written at all) the paragraph says exactly
// that; otherwise it describes the longest valid order found and the operation that cannot follow.

import type { CasResult, GetResult, KvOperationRecord } from './history.js';
import { operationText, processText, valueText, type TimeFormat } from './describe.js';
import { kvModel, type KvSearchOperation, type KvState } from './kv-model.js';
import { ILLEGAL, type DeepestPoint } from './linearization-search.js';

export interface Explanation {
  /** The operation that cannot be linearized next (an index into the key's operations). */
  readonly culprit: number;
  /** Other operations the text cites. */
  readonly related: readonly number[];
  readonly text: string;
}

/** What an operation saw: the value it read or compared against. */
interface Observation {
  /** Whether a value of the key is consistent with what the operation saw. */
  holds(value: KvState): boolean;
  /** Set when exactly one value fits. */
  readonly fitsOnly?: { readonly value: KvState };
  readonly noun: 'read' | 'cas';
  /** "Read of key x by process p2 (t=40–50) returned 'a'" */
  subject: string;
  /** What an operation must have done to explain the observation: "wrote 'a'". */
  explaining: string;
  /** Why the value the history proves does not fit: "so it could not read 'a'". */
  conclusion: string;
}

interface Write {
  readonly index: number | undefined; // undefined: the initial (absent) state
  readonly value: KvState;
  readonly call: number;
  readonly ret: number;
}

export function explainFailure(
  key: string,
  ops: readonly KvSearchOperation[],
  deepest: DeepestPoint<KvState>,
  time: TimeFormat,
): Explanation {
  const illegalHere = (i: number): boolean => kvModel.step(deepest.state, ops[i]!) === ILLEGAL;
  const culprit = illegalHere(deepest.blocked)
    ? deepest.blocked
    : (deepest.candidates.find(illegalHere) ?? deepest.blocked);
  const reader = ops[culprit]!;
  const observation = observe(key, reader, time);
  if (observation !== undefined) {
    const proven = provenContradiction(key, ops, writesOf(ops), culprit, observation, time);
    if (proven !== undefined) return proven;
  }
  return longestOrderExplanation(key, ops, deepest, culprit, observation, time);
}

/**
 * Looks for a contradiction the history shows by itself (see provenContradiction), in order of
 * invocation; this decides many illegal histories the search could not finish in time.
 */
export function findProvenContradiction(
  key: string,
  ops: readonly KvSearchOperation[],
  time: TimeFormat,
): Explanation | undefined {
  const writes = writesOf(ops);
  const order = ops.map((_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call);
  for (const culprit of order) {
    const observation = observe(key, ops[culprit]!, time);
    const proven = observation && provenContradiction(key, ops, writes, culprit, observation, time);
    if (proven) return proven;
  }
  return undefined;
}

function observe(key: string, op: KvSearchOperation, time: TimeFormat): Observation | undefined {
  const { record } = op;
  if (record.outcome !== 'ok' || record.completedAt === undefined) return undefined;
  const who = `${processText(record.process)} (${time.span(record.invokedAt, record.completedAt)})`;
  if (record.op.f === 'get') {
    const value = (record.result as GetResult).value;
    return {
      noun: 'read',
      holds: (v) => v === value,
      fitsOnly: { value },
      subject: `Read of key ${key} by ${who} returned ${valueText(value)}`,
      explaining: value === null ? `deleted key ${key}` : `wrote ${valueText(value)}`,
      conclusion: `so the read could not return ${valueText(value)}`,
    };
  }
  if (record.op.f === 'cas') {
    const { expected, value } = record.op;
    const cas = `Compare-and-set of key ${key} from ${valueText(expected)} to ${valueText(value)} by ${who}`;
    if ((record.result as CasResult).ok) {
      return {
        noun: 'cas',
        holds: (v) => v === expected,
        fitsOnly: { value: expected },
        subject: `${cas} succeeded`,
        explaining: expected === null ? `deleted key ${key}` : `wrote ${valueText(expected)}`,
        conclusion: `so the value could not be ${valueText(expected)} when the cas ran`,
      };
    }
    return {
      noun: 'cas',
      holds: (v) => v !== expected,
      subject: `${cas} failed`,
      explaining: expected === null ? 'wrote a value' : `wrote anything but ${valueText(expected)}`,
      conclusion: `so the value was still ${valueText(expected)} and the cas should have succeeded`,
    };
  }
  return undefined;
}

/** The values each operation may have left in the key (a failed cas and a get leave none). */
function writesOf(ops: readonly KvSearchOperation[]): Write[] {
  const writes: Write[] = [{ index: undefined, value: null, call: -Infinity, ret: -Infinity }];
  ops.forEach(({ record, call, ret }, index) => {
    const { op } = record;
    const write = (value: KvState): void => {
      writes.push({ index, value, call, ret });
    };
    if (op.f === 'put') write(op.value);
    else if (op.f === 'delete') write(null);
    else if (op.f === 'cas' && (record.result === undefined || (record.result as CasResult).ok)) {
      write(op.value);
    }
  });
  return writes;
}

/**
 * A contradiction visible in the history alone: nothing that could explain the observation began
 * before the operation ended, or a write that does not fit was acknowledged before the operation
 * began and after everything that could explain it had finished.
 */
function provenContradiction(
  key: string,
  ops: readonly KvSearchOperation[],
  writes: readonly Write[],
  culprit: number,
  observation: Observation,
  time: TimeFormat,
): Explanation | undefined {
  const reader = ops[culprit]!;
  // The operation's own write (a cas) comes after what it observed: it explains nothing.
  const fitting = writes.filter((w) => w.index !== culprit && observation.holds(w.value));
  // Operations that touch (one returns as the other is invoked) count as concurrent.
  const explainers = fitting.filter((w) => w.call <= reader.ret);

  if (explainers.length === 0) {
    const later = fitting.reduce<Write | undefined>(
      (first, w) => (first === undefined || w.call < first.call ? w : first),
      undefined,
    );
    if (later?.index === undefined) {
      return {
        culprit,
        related: [],
        text: `${observation.subject}, but no operation in the history ${observation.explaining}, ${observation.conclusion}.`,
      };
    }
    return {
      culprit,
      related: [later.index],
      text: `${observation.subject}, but the only operations that ${observation.explaining} began after it had ended, the first being ${operationText(ops[later.index]!.record, time)}; ${observation.conclusion}.`,
    };
  }

  // Evidence that the value stopped fitting: an operation acknowledged before this one began,
  // which began after everything that could explain the observation had finished, and which
  // wrote or saw a value that does not fit.
  const explained = explainers.reduce((latest, e) => Math.max(latest, e.ret), -Infinity);
  let evidence: { op: KvSearchOperation; index: number } | undefined;
  for (let index = 0; index < ops.length; index++) {
    const op = ops[index]!;
    if (
      op.ret < reader.call &&
      op.call > explained &&
      (evidence === undefined || op.ret > evidence.op.ret) &&
      index !== culprit &&
      contradicts(op.record, observation)
    ) {
      evidence = { op, index };
    }
  }
  if (evidence === undefined) return undefined;

  const { record } = evidence.op;
  const who = operationText(record, time);
  const when = `${time.at(evidence.op.ret)}, before the ${observation.noun} began at ${time.at(reader.call)}`;
  let proof: string;
  let noun: string;
  if (record.op.f === 'get') {
    const value = (record.result as GetResult).value;
    proof = `${who} had already read ${valueText(value)}, finishing at ${when}`;
    noun = 'read';
  } else if (record.op.f === 'cas' && !(record.result as CasResult).ok) {
    proof = `${who} had already found the value was not ${valueText(record.op.expected)}, finishing at ${when}`;
    noun = 'cas';
  } else if (record.op.f === 'delete') {
    proof = `key ${key} was deleted by ${who} and acknowledged at ${when}`;
    noun = 'delete';
  } else {
    proof = `${valueText(record.op.value)} was written by ${who} and acknowledged at ${when}`;
    noun = 'write';
  }
  const before = explainers.every((e) => e.index === undefined)
    ? `the key was absent only at the start, before any write`
    : `every operation that ${observation.explaining} had completed before that ${noun} began`;
  return {
    culprit,
    related: [evidence.index],
    text: `${observation.subject}, but ${proof}; ${before}, ${observation.conclusion}.`,
  };
}

/** Whether an acknowledged operation proves the key held, just after it, a value that does not fit. */
function contradicts(record: KvOperationRecord, observation: Observation): boolean {
  if (record.outcome !== 'ok') return false;
  const { op, result } = record;
  switch (op.f) {
    case 'get':
      return !observation.holds((result as GetResult).value);
    case 'put':
      return !observation.holds(op.value);
    case 'delete':
      return !observation.holds(null);
    case 'cas':
      // A failed cas proves only "not expected": enough when expected is the one value that fits.
      return (result as CasResult).ok
        ? !observation.holds(op.value)
        : observation.fitsOnly !== undefined && observation.fitsOnly.value === op.expected;
  }
}

function longestOrderExplanation(
  key: string,
  ops: readonly KvSearchOperation[],
  deepest: DeepestPoint<KvState>,
  culprit: number,
  observation: Observation | undefined,
  time: TimeFormat,
): Explanation {
  const { order, state } = deepest;
  const lastWriter = [...order].reverse().find((i) => ops[i]!.record.op.f !== 'get');
  const value = state === null ? `key ${key} absent` : `key ${key} holding ${valueText(state)}`;
  const holding =
    lastWriter === undefined
      ? `${value} (its initial state)`
      : `${value}, as set by ${operationText(ops[lastWriter]!.record, time)}`;
  const placed =
    order.length === 0
      ? `No operation can even come first`
      : `The longest valid order found places ${order.length} of them (numbered 1–${order.length} in the diagram)`;
  const stuck =
    kvModel.step(state, ops[culprit]!) === ILLEGAL && observation !== undefined
      ? `${observation.subject}, which does not fit ${state === null ? 'an absent key' : `a value of ${valueText(state)}`}.`
      : `${operationText(ops[culprit]!.record, time)} had to come next, but every way of continuing leads to a contradiction later.`;
  const others = deepest.candidates.length - 1;
  return {
    culprit,
    related: lastWriter === undefined ? [] : [lastWriter],
    text:
      `No order of the ${ops.length} operations on key ${key} agrees with both real time and their results. ` +
      `${placed}, leaving ${holding}; none of the operations that must come next fits. ${stuck}` +
      (others > 0
        ? ` The ${others === 1 ? 'other operation' : `other ${others} operations`} that could have come next lead${others === 1 ? 's' : ''} to a dead end too.`
        : ''),
  };
}
