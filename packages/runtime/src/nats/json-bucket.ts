// JSON documents in a JetStream Key/Value bucket, changed only by compare-and-set on the
// revision, so any number of replicas of a stateless service can share them without locks.
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, NatsError, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import type { TrafficGate } from '../traffic/traffic-gate.js';
import { admitOutbound } from './traffic-path.js';

/** JetStream's "wrong last sequence": someone wrote the key since we read it. */
const WRONG_LAST_SEQUENCE = 10071;

export interface Versioned<T> {
  readonly value: T;
  /** The bucket's sequence of this write; `update` expects it. */
  readonly revision: number;
}

/** What one attempt of a compare-and-set decided: an answer, and maybe a new value to write. */
export type CasStep<T, R> = { readonly result: R } | { readonly write: T; readonly result: R };

export interface CasOptions {
  /** Attempts before giving up with ContentionError. */
  readonly maxAttempts?: number;
  /** Called on every lost race, for metrics. */
  readonly onConflict?: () => void;
  /** Called with the revision of the write, when one landed (for read-your-writes). */
  readonly onWritten?: (revision: number) => void;
  /**
   * Stops the retries once aborted (the caller has gone: its deadline passed, it cancelled): it
   * is checked before every read and every write, and it ends a backoff at once. The loop then
   * throws `signal.reason`; it has written nothing (a write that lands ends the loop). A Key/Value
   * request already sent is not taken back: the attempt it belongs to finishes first.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Too many lost races in a row on one key. */
export class ContentionError extends Error {
  override readonly name = 'ContentionError';
}

/** The code of the NatsError a fault's rejection raises (nats.js has none for it). */
const FAULT_REJECTED = 'FAULT_REJECTED';

const DEFAULT_MAX_ATTEMPTS = 200;
const BASE_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 100;

export interface OpenBucketOptions {
  readonly replicas?: number;
  /** Per-request bound on Key/Value operations. */
  readonly timeoutMs?: number;
  /** The process's traffic gate (NatsClient.trafficGate): every operation passes it. */
  readonly trafficGate?: TrafficGate | undefined;
}

export class JsonBucket {
  private constructor(
    readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly name: string,
    private readonly timeoutMs: number,
    private readonly gate: TrafficGate | undefined,
  ) {}

  /**
   * Opens (creating it if need be) a bucket whose reads go to the stream leader: `allow_direct`
   * reads may be answered by a lagging replica, and the protocols built on this bucket reason
   * about what a read did not see.
   */
  static async open(
    nc: NatsConnection,
    bucket: string,
    options: OpenBucketOptions = {},
  ): Promise<JsonBucket> {
    const timeout = options.timeoutMs ?? 5_000;
    const kv = await nc.jetstream({ timeout }).views.kv(bucket, {
      history: 1,
      allow_direct: false,
      replicas: options.replicas ?? 1,
      timeout,
    });
    const jsm = await nc.jetstreamManager({ timeout });
    return new JsonBucket(kv, jsm, bucket, timeout, options.trafficGate);
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    if (this.gate?.armed) await this.admit(this.gate, 'get', key, 0);
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { value: entry.json<T>(), revision: entry.revision };
  }

  /** Creates `key`; 'exists' when it is already there. */
  async create<T>(key: string, value: T): Promise<number | 'exists'> {
    const data = encode(value);
    if (this.gate?.armed) await this.admit(this.gate, 'create', key, data.byteLength);
    try {
      return await this.kv.create(key, data);
    } catch (err) {
      if (isWrongLastSequence(err)) return 'exists';
      throw err;
    }
  }

  /** Replaces `key` if it is still at `revision`; 'conflict' when it is not. */
  async update<T>(key: string, value: T, revision: number): Promise<number | 'conflict'> {
    const data = encode(value);
    if (this.gate?.armed) await this.admit(this.gate, 'update', key, data.byteLength);
    try {
      return await this.kv.update(key, data, revision);
    } catch (err) {
      if (isWrongLastSequence(err)) return 'conflict';
      throw err;
    }
  }

  /** Deletes `key` if it is still at `revision` (it leaves a delete marker); 'conflict' if not. */
  async delete(key: string, revision: number): Promise<'deleted' | 'conflict'> {
    if (this.gate?.armed) await this.admit(this.gate, 'delete', key, 0);
    try {
      await this.kv.delete(key, { previousSeq: revision });
      return 'deleted';
    } catch (err) {
      if (isWrongLastSequence(err)) return 'conflict';
      throw err;
    }
  }

  /**
   * Removes the delete marker `key` got at `revision`, with anything older of that key, and
   * never a later write (the key created again since): one stream purge up to the marker.
   */
  async purgeMarker(key: string, revision: number): Promise<void> {
    if (this.gate?.armed) await this.admit(this.gate, 'purge', key, 0);
    await this.jsm.streams.purge(`KV_${this.name}`, {
      filter: `$KV.${this.name}.${key}`,
      seq: revision + 1,
    });
  }

  /** Every key matching `filter` (a subject filter such as `order.>`). */
  async keys(filter: string): Promise<string[]> {
    if (this.gate?.armed) await this.admit(this.gate, 'keys', filter, 0);
    const keys: string[] = [];
    for await (const key of await this.kv.keys(filter)) keys.push(key);
    return keys;
  }

  /**
   * Read-decide-write on one key until the write lands on the revision it read: `step` sees the
   * current value (undefined when absent) and either answers without writing or returns the
   * value to write. A lost race backs off (random, exponential) and runs `step` again, until
   * `maxAttempts` or until `signal` aborts. `step` must not write anything itself: abandoning
   * the loop between attempts is safe only because an attempt that lost wrote nothing.
   */
  async compareAndSet<T, R>(
    key: string,
    step: (current: Versioned<T> | undefined) => Promise<CasStep<T, R>> | CasStep<T, R>,
    options: CasOptions = {},
  ): Promise<R> {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const { signal } = options;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const current = await this.get<T>(key);
      const decision = await step(current);
      if (!('write' in decision)) return decision.result;
      signal?.throwIfAborted();
      const written = current
        ? await this.update(key, decision.write, current.revision)
        : await this.create(key, decision.write);
      if (written !== 'exists' && written !== 'conflict') {
        options.onWritten?.(written);
        return decision.result;
      }
      options.onConflict?.();
      if (attempt >= maxAttempts) {
        throw new ContentionError(`${key}: still contended after ${attempt} attempts`);
      }
      const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(attempt, 10));
      await backoff(Math.random() * ceiling, signal);
    }
  }

  /** A Key/Value operation through the traffic gate; it fails as nats.js fails a timeout. */
  private admit(gate: TrafficGate, op: string, key: string, bytes: number): Promise<void> {
    const operation = `kv ${this.name} ${op} ${key}`;
    return admitOutbound(gate, {
      operation,
      bytes,
      span: undefined,
      timeoutMs: this.timeoutMs,
      timedOut: () => NatsError.errorForCode(ErrorCode.Timeout),
      rejected: (reason) => new NatsError(`${operation}: ${reason}`, FAULT_REJECTED),
    });
  }
}

/** Waits `ms`, or until `signal` aborts: then rejects with its reason, as throwIfAborted does. */
async function backoff(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms);
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    // node:timers rejects with its own AbortError; the caller expects the signal's reason.
    signal.throwIfAborted();
    throw err;
  }
}

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function isWrongLastSequence(err: unknown): boolean {
  return err instanceof NatsError && err.api_error?.err_code === WRONG_LAST_SEQUENCE;
}
