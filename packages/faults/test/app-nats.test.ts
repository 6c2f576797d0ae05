// The app mechanism on the NATS kit against a real nats-server: publish and delivery dropped and
// delayed by faults in the publisher's and the subscriber's own tables.
import { faultsV1 } from '@catmesh/proto';
import { connectNats, createLogger, NatsUnavailableError, type NatsClient } from '@catmesh/runtime';
import { startNatsServer, type NatsServer } from '@catmesh/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultTable, AppTrafficGate } from '@catmesh/faults';

const logger = createLogger({ service: 'test', instance: 'test', level: 'silent' });
let server: NatsServer;
let producer: NatsClient;
let consumer: NatsClient;
const producerTable = new FaultTable();
const consumerTable = new FaultTable();

beforeAll(async () => {
  server = await startNatsServer();
  producer = await connectNats({
    servers: server.url,
    name: 'producer',
    logger,
    traffic: {
      self: { service: 'orders', instance: 'orders-1', raftId: 0 },
      gate: new AppTrafficGate({ table: producerTable }),
    },
  });
  consumer = await connectNats({
    servers: server.url,
    name: 'consumer',
    logger,
    traffic: {
      self: { service: 'inventory', instance: 'inventory-1', raftId: 0 },
      gate: new AppTrafficGate({ table: consumerTable }),
    },
  });
});

afterEach(() => {
  producerTable.revertAll();
  consumerTable.revertAll();
});

afterAll(async () => {
  await producer.drain();
  await consumer.drain();
  await server.stop();
});

function fault(id: string, kind: faultsV1.Fault['kind'], more: Partial<faultsV1.Fault> = {}) {
  return {
    id,
    kind,
    expiresAtUnixMs: Date.now() + 60_000,
    peers: [],
    direction: faultsV1.Direction.DIRECTION_UNSPECIFIED,
    transports: [faultsV1.Transport.TRANSPORT_NATS],
    experiment: 'nats-test',
    ...more,
  };
}

describe('the app mechanism on NATS', () => {
  it('drops deliveries from a partitioned publisher, and delivers again once reverted', async () => {
    const received: string[] = [];
    const sub = consumer.subscribe('app.drop', (msg) => {
      received.push(new TextDecoder().decode(msg.data));
    });
    await consumer.connection.flush();
    consumerTable.apply(
      fault(
        'cut',
        { $case: 'partition', value: {} },
        {
          direction: faultsV1.Direction.DIRECTION_INBOUND,
          peers: [{ service: 'orders', instance: '', raftId: 0 }],
        },
      ),
    );
    await producer.publish('app.drop', 'lost');
    await expect.poll(() => consumerTable.active[0]?.injections, { timeout: 10_000 }).toBe(1);
    consumerTable.revert('cut');
    await producer.publish('app.drop', 'kept');
    await expect.poll(() => received, { timeout: 10_000 }).toEqual(['kept']);
    await sub.drain();
  });

  it('fails a dropped publish as a timeout, after its own timeout', async () => {
    producerTable.apply(fault('lossy', { $case: 'loss', value: { probability: 1 } }));
    const started = performance.now();
    await expect(producer.publish('app.loss', 'x', { timeoutMs: 300 })).rejects.toBeInstanceOf(
      NatsUnavailableError,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('delays a publish by at least the latency', async () => {
    producerTable.apply(
      fault('slow', { $case: 'latency', value: { delayMs: 250, jitterMs: 0, distribution: 0 } }),
    );
    const started = performance.now();
    await producer.publish('app.slow', 'x');
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('rejects a publish at once', async () => {
    producerTable.apply(fault('no', { $case: 'reject', value: { probability: 1 } }));
    await expect(producer.publish('app.reject', 'x', { timeoutMs: 60_000 })).rejects.toThrow(
      /rejected by fault no/,
    );
  });
});
