// JsonBucket.compareAndSet against a real JetStream Key/Value bucket: lost races are retried,
// and a caller's AbortSignal stops the retries, also in the middle of a backoff.
import type * as timers from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startNatsServer, type NatsServer } from '@catmesh/testkit';
import { JsonBucket } from '../src/nats/json-bucket.js';

// The backoff between attempts is a node:timers sleep of at most 100 ms. A test holds it, so
// that only an abort can end it: then the loop ending proves the abort ended the wait.
const backoff = vi.hoisted(() => ({ held: false, waits: 0 }));
vi.mock('node:timers/promises', async (importOriginal) => {
  const real = await importOriginal<typeof timers>();
  const setTimeout = (ms?: number, value?: unknown, options?: { signal?: AbortSignal }) => {
    if (!backoff.held) return real.setTimeout(ms, value, options);
    backoff.waits += 1;
    return new Promise((_, reject) => {
      const signal = options?.signal;
      const abort = () => reject(new Error('held backoff aborted', { cause: signal?.reason }));
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  };
  return { ...real, setTimeout };
});

/** vi.waitFor's safety net on a loaded machine (its default is 1 s). */
const EVENTUALLY = { timeout: 30_000, interval: 10 };

interface Counter {
  readonly n: number;
}

let nats: NatsServer;
let nc: NatsConnection;
let bucket: JsonBucket;
let keys = 0;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  bucket = await JsonBucket.open(nc, 'json-bucket-test');
});
afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

/** A fresh key holding `{ n: 0 }`. */
async function freshKey(): Promise<string> {
  const key = `counter.${++keys}`;
  await bucket.create<Counter>(key, { n: 0 });
  return key;
}

/** Another writer's change of `key` (not a compare-and-set): whoever read before it has lost. */
async function competingWrite(key: string, n: number): Promise<void> {
  await bucket.kv.put(key, new TextEncoder().encode(JSON.stringify({ n })));
}

const valueOf = async (key: string) => (await bucket.get<Counter>(key))?.value;

describe('compareAndSet', () => {
  it('retries lost races until its write lands on the revision it read', async () => {
    const key = await freshKey();
    let attempts = 0;
    let conflicts = 0;
    let writtenAt = 0;
    const result = await bucket.compareAndSet<Counter, string>(
      key,
      async (current) => {
        attempts += 1;
        if (attempts <= 2) await competingWrite(key, -attempts);
        return { write: { n: (current?.value.n ?? 0) + 100 }, result: `after ${attempts}` };
      },
      { onConflict: () => (conflicts += 1), onWritten: (revision) => (writtenAt = revision) },
    );
    expect({ result, attempts, conflicts }).toEqual({
      result: 'after 3',
      attempts: 3,
      conflicts: 2,
    });
    // Read at the competitor's last write (-2), written on top of it.
    expect(await valueOf(key)).toEqual({ n: 98 });
    expect((await bucket.get<Counter>(key))!.revision).toBe(writtenAt);
  });

  it('with a signal aborted already, reads and writes nothing and rejects with its reason', async () => {
    const key = await freshKey();
    const reason = new Error('the caller has gone');
    let attempts = 0;
    const cas = bucket.compareAndSet<Counter, undefined>(
      key,
      () => {
        attempts += 1;
        return { write: { n: 1 }, result: undefined };
      },
      { signal: AbortSignal.abort(reason) },
    );
    await expect(cas).rejects.toBe(reason);
    expect(attempts).toBe(0);
    expect(await valueOf(key)).toEqual({ n: 0 });
  });

  it('stops retrying once the signal aborts: no write after it, no attempt after it', async () => {
    const key = await freshKey();
    const controller = new AbortController();
    const reason = new Error('deadline exceeded');
    let attempts = 0;
    let conflicts = 0;
    const cas = bucket.compareAndSet<Counter, undefined>(
      key,
      async () => {
        attempts += 1;
        // Every attempt loses; the caller gives up while the third one decides.
        await competingWrite(key, -attempts);
        if (attempts === 3) controller.abort(reason);
        return { write: { n: 100 + attempts }, result: undefined };
      },
      { signal: controller.signal, onConflict: () => (conflicts += 1) },
    );
    await expect(cas).rejects.toBe(reason);
    expect({ attempts, conflicts }).toEqual({ attempts: 3, conflicts: 2 });
    // The third attempt's write was never sent: the competitor's write is the last one.
    expect(await valueOf(key)).toEqual({ n: -3 });
  });

  it('an abort during the backoff ends the wait at once, without another attempt', async () => {
    const key = await freshKey();
    const controller = new AbortController();
    const reason = new Error('cancelled');
    let attempts = 0;
    backoff.held = true;
    backoff.waits = 0;
    try {
      const cas = bucket.compareAndSet<Counter, undefined>(
        key,
        async () => {
          attempts += 1;
          await competingWrite(key, -attempts);
          return { write: { n: 100 }, result: undefined };
        },
        { signal: controller.signal },
      );
      // The first attempt lost and the loop waits: a wait that never ends by itself.
      await vi.waitFor(() => expect(backoff.waits).toBe(1), EVENTUALLY);
      controller.abort(reason);
      await expect(cas).rejects.toBe(reason);
      expect(attempts).toBe(1);
      expect(backoff.waits).toBe(1);
    } finally {
      backoff.held = false;
    }
  });
});
