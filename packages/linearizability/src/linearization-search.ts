// Wing & Gong's search for a linearization, with Lowe's memoisation, as in Porcupine: walk the
// call/return entries in time order; linearize any pending call whose step the model allows, lift
// it (and its return) out of the list and start again from the front; on reaching a return whose
// call is still pending, undo the last choice. A (set of linearized operations, model state) pair
// seen before leads where it led before, so it is not explored twice.
//
// Operations of unknown outcome (which never return) are what makes this search explode: each
// may be linearized at any point, so a dead end is re-explored for every subset of them. Four
// reductions, all sound because such an operation is never required (the search is done once
// every operation of known outcome is linearized):
// - subsumption: a configuration that has used a superset of the unknown operations of one seen
//   before, with the same known operations and state, can do nothing the earlier one could not;
// - symmetry: unknown operations with the same effect are interchangeable, so they are only
//   linearized in invocation order;
// - overwriting: an unknown operation that overwrites the state (a put) right after another
//   unknown operation makes that one pointless, so that sequence is left to the one without it;
// - purpose: unknown operations are tried only when no known one can go on, and only towards a
//   state from which a known one can.

export const ILLEGAL: unique symbol = Symbol('illegal');

export interface SearchModel<S, Op> {
  readonly init: S;
  /** The state after `op`, or ILLEGAL when `op` (with its observed result) cannot happen in `state`. */
  step(state: S, op: Op): S | typeof ILLEGAL;
  /** Equal states, and only those, have equal keys. */
  key(state: S): string;
  /** Operations with the same effect key (and unknown outcome) are interchangeable. */
  effect(op: Op): string;
  /** Whether the state after `op` (of unknown outcome) does not depend on the state before. */
  overwrites(op: Op): boolean;
}

export interface TimedOperation {
  readonly call: number;
  /** Infinity for an operation whose outcome is unknown: it may take effect at any later point. */
  readonly ret: number;
}

/** Where the search got furthest before every way on failed. */
export interface DeepestPoint<S> {
  /** Indexes of the operations of the longest linearizable prefix, in order. */
  readonly order: readonly number[];
  readonly state: S;
  /** The operation whose return was reached while it was still pending: it had to come next. */
  readonly blocked: number;
  /** Every operation that could have come next (pending calls before that return), `blocked` included. */
  readonly candidates: readonly number[];
}

export type SearchOutcome<S> =
  | { readonly kind: 'linearizable'; readonly order: readonly number[] }
  | { readonly kind: 'illegal'; readonly deepest: DeepestPoint<S> }
  | { readonly kind: 'timeout' };

const NIL = -1;
const HEAD = 0;

/** `expired` is polled every few thousand steps; when it says so the search gives up. */
export function searchLinearization<S, Op extends TimedOperation>(
  ops: readonly Op[],
  model: SearchModel<S, Op>,
  expired: () => boolean,
): SearchOutcome<S> {
  const n = ops.length;
  // Entries in time order; at equal times calls come first, so touching operations count as
  // concurrent (neither is known to have finished before the other began).
  const entries: { time: number; isCall: boolean; op: number }[] = [];
  ops.forEach((op, index) => {
    entries.push(
      { time: op.call, isCall: true, op: index },
      { time: op.ret, isCall: false, op: index },
    );
  });
  entries.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall));

  // A doubly linked list over nodes 1..2n (node 0 is the head), in flat arrays.
  const size = 2 * n + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const opOf = new Int32Array(size);
  const returnOf = new Int32Array(size).fill(NIL); // for a call node: its return node
  const returnNode = new Int32Array(n);
  entries.forEach((entry, i) => {
    const node = i + 1;
    opOf[node] = entry.op;
    if (!entry.isCall) returnNode[entry.op] = node;
  });
  entries.forEach((entry, i) => {
    if (entry.isCall) returnOf[i + 1] = returnNode[entry.op]!;
  });
  for (let node = 0; node < size; node++) {
    next[node] = node + 1 < size ? node + 1 : NIL;
    prev[node] = node - 1;
  }

  const lift = (call: number): void => {
    const ret = returnOf[call]!;
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!;
    next[prev[ret]!] = next[ret]!;
    if (next[ret] !== NIL) prev[next[ret]!] = prev[ret]!;
  };
  const unlift = (call: number): void => {
    const ret = returnOf[call]!;
    next[prev[ret]!] = ret;
    if (next[ret] !== NIL) prev[next[ret]!] = ret;
    next[prev[call]!] = call;
    prev[next[call]!] = call;
  };

  const words = Math.ceil(n / 32);
  const linearized = new Uint32Array(words);
  const unknownMask = new Uint32Array(words);
  ops.forEach((op, i) => {
    if (op.ret === Infinity) unknownMask[i >>> 5]! |= 1 << (i & 31);
  });
  const isSet = (bits: Uint32Array, i: number): boolean => (bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  const twinBefore = earlierTwins(ops, model);

  // The hash covers the known operations only, so that configurations differing in unknown ones
  // meet in one bucket, where subsumption is checked.
  const zobrist = zobristKeys(n);
  let hash = 0;
  const toggle = (op: number): void => {
    linearized[op >>> 5]! ^= 1 << (op & 31);
    if (ops[op]!.ret !== Infinity) hash ^= zobrist[op]!;
  };
  const cache = new Map<number, { bits: Uint32Array; state: string }[]>();
  const subsumed = (stateKey: string): boolean =>
    cache
      .get(hash)
      ?.some((c) => c.state === stateKey && subsumes(c.bits, linearized, unknownMask)) ?? false;
  const remember = (stateKey: string): void => {
    const bucket = cache.get(hash);
    const entry = { bits: linearized.slice(), state: stateKey };
    if (bucket === undefined) cache.set(hash, [entry]);
    else bucket.push(entry);
  };

  const stackCalls: number[] = [];
  const stackStates: S[] = [];
  let state = model.init;
  let deepest: DeepestPoint<S> | undefined;
  let steps = 0;
  let unknownPlaced = 0;
  let node = next[HEAD]!;

  // Done when every operation with a known outcome is linearized: those of unknown outcome left
  // over may as well never have happened.
  const known = ops.filter((op) => op.ret !== Infinity).length;
  // At each point, operations of known outcome are tried before those of unknown outcome, so that
  // configurations using fewer unknown operations are seen first and subsume the others. Unknown
  // operations are tried only towards states from which a known one can make progress.
  let towards: ReadonlySet<string> | undefined; // undefined: trying known operations
  const stackTowards: (ReadonlySet<string> | undefined)[] = [];
  const unknownOnTop = (): boolean => {
    const top = stackCalls.at(-1);
    return top !== undefined && ops[opOf[top]!]!.ret === Infinity;
  };
  /**
   * The states (keys) reachable from here through unknown operations invoked before `ret` that
   * lead on, through more of them, to a state where a known operation invoked before `ret` can
   * step to a configuration not seen yet. Reachability ignores that each operation can be used
   * only once: an over-approximation, so nothing that could succeed is cut.
   */
  const worthReaching = (ret: number): ReadonlySet<string> => {
    const unknownOps: number[] = [];
    const knownOps: number[] = [];
    for (let c = next[HEAD]!; c !== ret; c = next[c]!) {
      const op = opOf[c]!;
      (ops[op]!.ret === Infinity ? unknownOps : knownOps).push(op);
    }
    if (unknownOps.length === 0) return new Set();
    const states = new Map<string, S>([[model.key(state), state]]);
    const into = new Map<string, Set<string>>(); // state key -> keys of states that lead to it
    const queue: S[] = [state];
    for (let from = queue.pop(); from !== undefined; from = queue.pop()) {
      const fromKey = model.key(from);
      for (const op of unknownOps) {
        const to = model.step(from, ops[op]!);
        if (to === ILLEGAL) continue;
        const toKey = model.key(to);
        if (!into.has(toKey)) into.set(toKey, new Set());
        into.get(toKey)!.add(fromKey);
        if (!states.has(toKey)) {
          states.set(toKey, to);
          queue.push(to);
        }
      }
    }
    const progress = (from: S): boolean =>
      knownOps.some((op) => {
        const to = model.step(from, ops[op]!);
        if (to === ILLEGAL) return false;
        toggle(op);
        const fresh = !subsumed(model.key(to));
        toggle(op);
        return fresh;
      });
    const worth = new Set<string>();
    const pending = [...states].filter(([, s]) => progress(s)).map(([key]) => key);
    for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
      if (worth.has(key)) continue;
      worth.add(key);
      for (const before of into.get(key) ?? []) pending.push(before);
    }
    return worth;
  };

  while (stackCalls.length - unknownPlaced < known) {
    if ((++steps & 4095) === 0 && expired()) return { kind: 'timeout' };
    const ret = returnOf[node]!;
    if (ret !== NIL) {
      const op = opOf[node]!;
      const unknown = ops[op]!.ret === Infinity;
      const twin = twinBefore[op]!;
      let after =
        unknown === (towards !== undefined) &&
        (twin === NIL || isSet(linearized, twin)) &&
        !(unknown && model.overwrites(ops[op]!) && unknownOnTop())
          ? model.step(state, ops[op]!)
          : ILLEGAL;
      if (after !== ILLEGAL && towards !== undefined && !towards.has(model.key(after))) {
        after = ILLEGAL;
      }
      if (after !== ILLEGAL) {
        toggle(op);
        const stateKey = model.key(after);
        if (!subsumed(stateKey)) {
          remember(stateKey);
          stackCalls.push(node);
          stackStates.push(state);
          stackTowards.push(towards);
          if (unknown) unknownPlaced++;
          state = after;
          lift(node);
          towards = undefined;
          node = next[HEAD]!;
          continue;
        }
        toggle(op);
      }
      node = next[node]!;
      continue;
    }

    // A return whose call is still pending: that operation had to be linearized by now. Before
    // giving up here, try the operations of unknown outcome invoked before it, if any can help.
    if (towards === undefined) {
      const worth = worthReaching(node);
      if (worth.size > 0) {
        towards = worth;
        node = next[HEAD]!;
        continue;
      }
    }
    if (deepest === undefined || stackCalls.length > deepest.order.length) {
      const candidates: number[] = [];
      for (let c = next[HEAD]!; c !== node; c = next[c]!) candidates.push(opOf[c]!);
      deepest = {
        order: stackCalls.map((call) => opOf[call]!),
        state,
        blocked: opOf[node]!,
        candidates,
      };
    }
    const call = stackCalls.pop();
    if (call === undefined) return { kind: 'illegal', deepest };
    state = stackStates.pop()!;
    towards = stackTowards.pop();
    if (ops[opOf[call]!]!.ret === Infinity) unknownPlaced--;
    toggle(opOf[call]!);
    unlift(call);
    node = next[call]!;
  }
  return { kind: 'linearizable', order: stackCalls.map((call) => opOf[call]!) };
}

/** Whether `seen` has the same known operations as `now` and a subset of its unknown ones. */
function subsumes(seen: Uint32Array, now: Uint32Array, unknown: Uint32Array): boolean {
  for (let i = 0; i < seen.length; i++) {
    const s = seen[i]!;
    const c = now[i]!;
    if ((s & ~c) !== 0 || (c & ~s & ~unknown[i]!) !== 0) return false;
  }
  return true;
}

/** For each operation of unknown outcome, the previous one (by invocation) with the same effect. */
function earlierTwins<Op extends TimedOperation>(
  ops: readonly Op[],
  model: SearchModel<unknown, Op>,
): Int32Array {
  const twins = new Int32Array(ops.length).fill(NIL);
  const last = new Map<string, number>();
  const unknown = ops
    .map((op, index) => ({ op, index }))
    .filter(({ op }) => op.ret === Infinity)
    .sort((a, b) => a.op.call - b.op.call || a.index - b.index);
  for (const { op, index } of unknown) {
    const effect = model.effect(op);
    twins[index] = last.get(effect) ?? NIL;
    last.set(effect, index);
  }
  return twins;
}

/** Random 32-bit keys (fixed seed, so runs repeat) whose XOR hashes a set of operations. */
function zobristKeys(n: number): Uint32Array {
  const keys = new Uint32Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys[i] = x >>> 0;
  }
  return keys;
}
