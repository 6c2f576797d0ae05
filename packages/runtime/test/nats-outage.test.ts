import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import { freePort, startNatsServer, type NatsServer } from '@catmesh/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NatsConnectError,
  NatsUnavailableError,
  connectNats,
  type NatsClient,
} from '../src/nats/index.js';
import { LEVEL, captureLogs } from './nats-log-capture.js';

// What NATS failing looks like to a service: the server stops, comes back, never came up, or
// stops answering. Elapsed times are only checked against the configured timeouts with generous
// slack (a hang would be caught, slowness would not fail the test).
const SLACK_MS = 5_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(options?: { port: number }): Promise<NatsServer> {
  const server = await startNatsServer(options);
  cleanups.push(() => server.dispose());
  return server;
}

async function connectTo(url: string, name: string, logs = captureLogs()): Promise<NatsClient> {
  const client = await connectNats({
    servers: url,
    name,
    logger: logs.logger,
    reconnectWaitMs: 200,
    reconnectJitterMs: 100,
  });
  cleanups.push(() => client.drain(2_000));
  return client;
}

/** Runs `work` and returns its rejection (failing if it resolves) and how long it took. */
async function rejection(work: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  const error = await work().then(
    () => new Error('expected a rejection, but it resolved'),
    (err: Error) => err,
  );
  return { error, ms: Date.now() - started };
}

describe('connecting', () => {
  it('fails with a clear error after the configured wait when nothing listens', async () => {
    const port = await freePort();
    const logs = captureLogs();
    const { error, ms } = await rejection(() =>
      connectNats({
        servers: `nats://127.0.0.1:${port}`,
        name: 'nobody-home',
        logger: logs.logger,
        connectWaitMs: 1_500,
      }),
    );
    expect(error).toBeInstanceOf(NatsConnectError);
    expect(error.message).toMatch(
      new RegExp(
        `^cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}: connection refused \\(gave up after \\d+ ms\\)$`,
      ),
    );
    // It waited for the server rather than failing at once, and it did give up.
    expect(ms).toBeGreaterThanOrEqual(1_500 - 50);
    expect(ms).toBeLessThan(1_500 + SLACK_MS);
    expect(logs.lines.some((line) => line.msg === 'NATS not reachable yet; waiting for it')).toBe(
      true,
    );
  });

  it('waits for a server that starts after the service', async () => {
    const port = await freePort();
    const logs = captureLogs();
    const connecting = connectNats({
      servers: `nats://127.0.0.1:${port}`,
      name: 'early-bird',
      logger: logs.logger,
      connectWaitMs: 30_000,
    });
    let settled = false;
    void connecting.then(
      () => (settled = true),
      () => (settled = true),
    );
    // It found nothing listening, said so, and is still waiting (not failed, not connected).
    await expect
      .poll(() => logs.lines.map((line) => line.msg))
      .toContain('NATS not reachable yet; waiting for it');
    expect(settled).toBe(false);

    await startServer({ port });
    const client = await connecting;
    cleanups.push(() => client.drain(2_000));
    expect(client.isConnected()).toBe(true);
    // The connection it waited for carries messages.
    const greetings: string[] = [];
    client.subscribe('greetings', (msg) => void greetings.push(msg.string()));
    await client.connection.flush();
    await client.publish('greetings', 'hello');
    await expect.poll(() => greetings).toEqual(['hello']);
  });
});

describe('while the server is down', () => {
  it('publishes reject within their timeout, and the kit recovers by itself', async () => {
    const server = await startServer();
    const logs = captureLogs();
    const producer = await connectTo(server.url, 'producer', logs);
    const consumer = await connectTo(server.url, 'consumer');
    await producer.ensureStream({ name: 'EVENTS', subjects: ['events.>'] });

    const pings: string[] = [];
    consumer.subscribe('pings', (msg) => void pings.push(msg.string()));
    const events: string[] = [];
    await consumer.consume({
      stream: 'EVENTS',
      durable: 'event-reader',
      handler: (msg) => void events.push(msg.string()),
    });
    await consumer.connection.flush();
    await producer.publish('pings', 'before');
    await expect.poll(() => pings, { message: 'delivery before the outage' }).toContain('before');

    await server.stop();

    const core = await rejection(() => producer.publish('pings', 'during', { timeoutMs: 1_500 }));
    expect(core.error).toBeInstanceOf(NatsUnavailableError);
    expect(core.error.message).toMatch(/^publish to pings failed: NATS disconnected/);
    expect(core.ms).toBeLessThan(1_500 + SLACK_MS);

    const js = await rejection(() =>
      producer.jetstreamPublish('events.created', 'during', { msgID: 'e-1', timeoutMs: 1_500 }),
    );
    expect(js.error).toBeInstanceOf(NatsUnavailableError);
    expect(js.error.message).toBe(
      'jetstream publish to events.created failed: NATS disconnected (timed out after 1500 ms)',
    );
    expect(js.ms).toBeLessThan(1_500 + SLACK_MS);
    expect(producer.isConnected()).toBe(false);
    expect(
      logs.lines.some(
        (line) => line.level === LEVEL.warn && line.msg.startsWith('NATS disconnected'),
      ),
    ).toBe(true);

    await server.start();
    await expect
      .poll(() => producer.isConnected() && consumer.isConnected(), {
        message: 'both clients reconnected on their own',
      })
      .toBe(true);
    expect(logs.lines.some((line) => line.msg === 'NATS reconnected')).toBe(true);

    // The subscription made before the outage still delivers. The client sends it again on
    // reconnecting; a flush (a round trip) makes sure the server has it before the publish, or
    // the message could reach the server first and, core NATS keeping nothing, be lost.
    await consumer.connection.flush();
    await producer.publish('pings', 'after');
    await expect
      .poll(() => pings, { message: 'core delivery after the restart' })
      .toContain('after');

    // JetStream may need a moment after the restart; a retry with the same msgID is safe.
    await expect
      .poll(
        () =>
          producer.jetstreamPublish('events.created', 'after', { msgID: 'e-2' }).then(
            () => true,
            (err: unknown) => {
              if (err instanceof NatsUnavailableError) return false;
              throw err;
            },
          ),
        { message: 'JetStream accepts publishes again' },
      )
      .toBe(true);
    await expect
      .poll(() => events, { message: 'the durable consumer delivers again' })
      .toContain('after');
  });

  it('drain is bounded and closes the connection', async () => {
    const server = await startServer();
    const client = await connectTo(server.url, 'leaving');
    client.subscribe('anything', () => undefined);
    await server.stop();

    const started = Date.now();
    await client.drain(1_000);
    expect(Date.now() - started).toBeLessThan(1_000 + SLACK_MS);
    expect(client.connection.isClosed()).toBe(true);
  });
});

describe('when the server stops answering (paused or partitioned)', () => {
  it('publishes reject at their timeout instead of hanging', async () => {
    const server = await startServer();
    const link = await startFreezableProxy(server.port);
    cleanups.push(() => link.close());
    const client = await connectTo(`nats://127.0.0.1:${link.port}`, 'stranded');
    await client.ensureStream({ name: 'STALLED', subjects: ['stalled.>'] });
    await client.publish('stalled.core', 'warm-up');

    link.freeze();

    const core = await rejection(() =>
      client.publish('stalled.core', 'lost?', { timeoutMs: 1_000 }),
    );
    expect(core.error).toBeInstanceOf(NatsUnavailableError);
    expect(core.error.message).toBe(
      'publish to stalled.core failed: no reply from the NATS server (timed out after 1000 ms)',
    );
    expect(core.ms).toBeGreaterThanOrEqual(1_000 - 50);
    expect(core.ms).toBeLessThan(1_000 + SLACK_MS);

    const js = await rejection(() =>
      client.jetstreamPublish('stalled.js', 'lost?', { msgID: 's-1', timeoutMs: 1_000 }),
    );
    expect(js.error).toBeInstanceOf(NatsUnavailableError);
    expect(js.error.message).toBe(
      'jetstream publish to stalled.js failed: no reply from the NATS server (timed out after 1000 ms)',
    );
    expect(js.ms).toBeLessThan(1_000 + SLACK_MS);
  });
});

/**
 * A TCP relay to the server that can "freeze": it keeps both connections open but drops every
 * byte, which is what a paused server or a network partition looks like to the client (no error,
 * no close, just silence).
 */
async function startFreezableProxy(
  targetPort: number,
): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const address = relay.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no TCP port');
  return {
    port: address.port,
    freeze: () => {
      frozen = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}
