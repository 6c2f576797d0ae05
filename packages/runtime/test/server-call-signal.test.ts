// serverCallSignal: a handler learns that its caller has gone, by cancel or by deadline, and the
// reason it stops with is answered as the status it names, not logged as a fault.
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inventoryV1 } from '@catmesh/proto';
import { callUnary, RpcStatusError, serverCallSignal } from '@catmesh/runtime';
import { captureLogs } from './support/log-capture.js';
import { inventory, startInventoryServer, type RunningServer } from './support/inventory-server.js';

/** vi.waitFor's safety net on a loaded machine (its default is 1 s). */
const EVENTUALLY = { timeout: 30_000, interval: 10 };

/** The signal of every GetStock call the server has started, by SKU. */
const signals = new Map<string, AbortSignal>();
const logs = captureLogs('info');
let running: RunningServer;
let client: inventoryV1.InventoryServiceClient;

beforeAll(async () => {
  running = await startInventoryServer(
    inventory({
      // Works until nobody waits any more, then stops with the signal's reason.
      getStock: async (call) => {
        const signal = serverCallSignal(call);
        signals.set(call.request.sku, signal);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        throw signal.reason;
      },
    }),
    { logger: logs.logger },
  );
  client = new inventoryV1.InventoryServiceClient(running.address, credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await running?.stop();
});

async function statusOf(call: Promise<unknown>): Promise<status> {
  try {
    await call;
  } catch (error) {
    return (error as { code: status }).code;
  }
  throw new Error('the call succeeded');
}

describe('serverCallSignal', () => {
  it('aborts with CANCELLED when the client cancels the call', async () => {
    const controller = new AbortController();
    const { signal: clientSignal } = controller;
    const call = statusOf(
      callUnary(client, 'getStock', { sku: 'cancelled' }, { signal: clientSignal }),
    );
    await vi.waitFor(() => expect(signals.has('cancelled')).toBe(true), EVENTUALLY);
    const signal = signals.get('cancelled')!;
    expect(signal.aborted).toBe(false);

    controller.abort();
    expect(await call).toBe(status.CANCELLED);
    await vi.waitFor(() => expect(signal.aborted).toBe(true), EVENTUALLY);
    expect(signal.reason).toBeInstanceOf(RpcStatusError);
    expect(signal.reason).toMatchObject({ code: status.CANCELLED });
  });

  it('aborts with DEADLINE_EXCEEDED when the server ends the call at its deadline', async () => {
    // The deadline as the server sees it, without the client's own timer (which would cancel
    // the call a moment before the server's, as it does on one machine): a client farther away.
    const metadata = new Metadata();
    metadata.set('grpc-timeout', '1S');
    const call = statusOf(callUnary(client, 'getStock', { sku: 'late' }, { metadata }));
    expect(await call).toBe(status.DEADLINE_EXCEEDED);
    await vi.waitFor(() => expect(signals.get('late')?.aborted).toBe(true), EVENTUALLY);
    expect(signals.get('late')!.reason).toMatchObject({ code: status.DEADLINE_EXCEEDED });
  });

  it('aborts when the client gives up at its deadline', async () => {
    const call = statusOf(callUnary(client, 'getStock', { sku: 'gone' }, { deadlineMs: 2_000 }));
    expect(await call).toBe(status.DEADLINE_EXCEEDED);
    // The client's timer fires before the server's and cancels the call: the server cannot tell
    // that cancel from any other, unless its own deadline has passed by then too.
    await vi.waitFor(() => expect(signals.get('gone')?.aborted).toBe(true), EVENTUALLY);
    expect([status.CANCELLED, status.DEADLINE_EXCEEDED]).toContain(
      (signals.get('gone')!.reason as RpcStatusError).code,
    );
  });

  it('is aborted from the start for a call that has already ended', () => {
    const ended = { cancelled: true, getDeadline: () => Infinity, once: () => undefined };
    const signal = serverCallSignal(ended);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: status.CANCELLED });
  });

  it('a handler that stops with the reason is not logged as a failed handler', async () => {
    await vi.waitFor(() => expect(signals.get('late')?.aborted).toBe(true), EVENTUALLY);
    // The handlers' rejections are handled a few microtasks after the abort.
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.lines().filter((line) => line['msg'] === 'rpc handler failed')).toEqual([]);
  });
});
