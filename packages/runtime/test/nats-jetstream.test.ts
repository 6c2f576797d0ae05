import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  installTestTracing,
  startNatsServer,
  type NatsServer,
  type TestTracing,
} from '@catmesh/testkit';
import { NatsError, type JetStreamManager } from 'nats';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  NatsUnavailableError,
  connectNats,
  type NatsClient,
  type NatsJsMsg,
} from '../src/nats/index.js';
import { LEVEL, captureLogs } from './nats-log-capture.js';

let tracing: TestTracing;
let server: NatsServer;
let producer: NatsClient;
let worker: NatsClient;
let jsm: JetStreamManager;
const logs = captureLogs();
const tracer = trace.getTracer('nats-jetstream-test');

beforeAll(async () => {
  tracing = installTestTracing();
  server = await startNatsServer();
  producer = await connectNats({ servers: server.url, name: 'producer', logger: logs.logger });
  worker = await connectNats({ servers: server.url, name: 'worker', logger: logs.logger });
  jsm = await producer.connection.jetstreamManager();
});

afterAll(async () => {
  await producer?.drain(5_000);
  await worker?.drain(5_000);
  await server?.dispose();
  await tracing?.shutdown();
});

beforeEach(() => tracing.reset());

describe('JetStream', () => {
  it('ensureStream creates a stream once and updates it in place', async () => {
    const created = await producer.ensureStream({ name: 'ORDERS', subjects: ['orders.>'] });
    const again = await producer.ensureStream({ name: 'ORDERS', subjects: ['orders.>'] });
    expect(again.created).toBe(created.created);

    const updated = await worker.ensureStream({
      name: 'ORDERS',
      subjects: ['orders.>', 'refunds.>'],
      max_msgs: 1_000,
    });
    expect(updated.created).toBe(created.created);
    expect(updated.config.subjects).toEqual(['orders.>', 'refunds.>']);
    expect(updated.config.max_msgs).toBe(1_000);
  });

  it('stores a message published twice with the same msgID once', async () => {
    await producer.ensureStream({ name: 'DEDUPE', subjects: ['dedupe.>'] });
    const first = await producer.jetstreamPublish('dedupe.order', 'order 7', { msgID: 'order-7' });
    const retry = await producer.jetstreamPublish('dedupe.order', 'order 7', { msgID: 'order-7' });

    expect(first.duplicate).toBe(false);
    expect(retry.duplicate).toBe(true);
    expect(retry.seq).toBe(first.seq);
    expect((await jsm.streams.info('DEDUPE')).state.messages).toBe(1);

    const spans = await tracing.waitForSpans(
      (all) => all.filter((s) => s.name === 'publish dedupe.order').length === 2,
    );
    for (const span of spans) {
      expect(span.attributes).toMatchObject({
        'messaging.system': 'nats',
        'messaging.operation.type': 'send',
        'messaging.message.id': 'order-7',
      });
    }
  });

  it('passes expectations through, and their failure is not mistaken for an outage', async () => {
    await producer.ensureStream({ name: 'LEDGER', subjects: ['ledger.>'] });
    const ack = await producer.jetstreamPublish('ledger.entry', 'one', {
      expect: { streamName: 'LEDGER' },
    });
    const stale = producer.jetstreamPublish('ledger.entry', 'two', {
      expect: { lastSequence: ack.seq - 1 },
    });
    await expect(stale).rejects.toBeInstanceOf(NatsError);
    await expect(stale).rejects.not.toBeInstanceOf(NatsUnavailableError);
    await expect(stale).rejects.toThrow(/wrong last sequence/);
    expect((await jsm.streams.info('LEDGER')).state.messages).toBe(1);
  });

  it('rejects a publish no stream captures with a clear error', async () => {
    await expect(
      producer.jetstreamPublish('nowhere.at.all', 'lost', { timeoutMs: 2_000 }),
    ).rejects.toThrow(
      /^jetstream publish to nowhere\.at\.all failed: no JetStream stream answered/,
    );
  });

  it('consumes in the producer trace, acks on success and redelivers after a throw', async () => {
    await producer.ensureStream({ name: 'PAYMENTS', subjects: ['payments.>'] });
    const deliveries: Array<{ body: string; attempt: number }> = [];
    const consumer = await worker.consume({
      stream: 'PAYMENTS',
      durable: 'payments-worker',
      nakDelayMs: 100,
      handler: (msg) => {
        const body = msg.string();
        deliveries.push({ body, attempt: msg.info.redeliveryCount });
        if (body === 'flaky' && msg.info.redeliveryCount === 1) {
          throw new Error('card network hiccup');
        }
      },
    });

    await tracer.startActiveSpan('checkout', async (span) => {
      await producer.jetstreamPublish('payments.captured', 'steady', { msgID: 'pay-1' });
      await producer.jetstreamPublish('payments.captured', 'flaky', { msgID: 'pay-2' });
      span.end();
    });

    await expect
      .poll(() => deliveries, { message: 'two messages, one delivered twice' })
      .toHaveLength(3);
    expect(deliveries).toEqual([
      { body: 'steady', attempt: 1 },
      { body: 'flaky', attempt: 1 },
      { body: 'flaky', attempt: 2 },
    ]);
    // Acked: nothing left pending or awaiting an ack on the durable consumer.
    await expect
      .poll(() => jsm.consumers.info('PAYMENTS', 'payments-worker'), {
        message: 'every message acked',
      })
      .toMatchObject({ num_pending: 0, num_ack_pending: 0 });

    const spans = await tracing.waitForSpans(
      (all) => all.filter((s) => s.name === 'process payments.captured').length === 3,
    );
    const publishes = spans.filter((s) => s.name === 'publish payments.captured');
    const flakyPublish = publishes.find((s) => s.attributes['messaging.message.id'] === 'pay-2')!;
    const flakyProcesses = spans.filter(
      (s) =>
        s.name === 'process payments.captured' && s.attributes['messaging.message.id'] === 'pay-2',
    );
    expect(flakyProcesses.map((s) => s.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    for (const process of flakyProcesses) {
      expect(process.parentSpanContext?.spanId).toBe(flakyPublish.spanContext().spanId);
      expect(process.spanContext().traceId).toBe(flakyPublish.spanContext().traceId);
      expect(process.attributes['messaging.consumer.group.name']).toBe('payments-worker');
    }
    expect(
      logs.lines.some(
        (line) =>
          line.level === LEVEL.error &&
          line.durable === 'payments-worker' &&
          (line.err as { message: string } | undefined)?.message === 'card network hiccup',
      ),
    ).toBe(true);

    await consumer.stop();
  });

  it('a durable consumer that is stopped and started again resumes where it left off', async () => {
    await producer.ensureStream({ name: 'AUDIT', subjects: ['audit.>'] });
    const seen: string[] = [];
    // Long ack waits: a message stranded by the stopped consumer would come back only after
    // them, far beyond what the test waits for.
    const options = {
      stream: 'AUDIT',
      durable: 'auditor',
      ackWaitMs: 120_000,
      handler: (msg: NatsJsMsg) => void seen.push(msg.string()),
    };
    const first = await worker.consume(options);
    await producer.jetstreamPublish('audit.log', 'a');
    await expect.poll(() => seen, { message: 'the first message' }).toHaveLength(1);
    await first.stop();

    await producer.jetstreamPublish('audit.log', 'b');
    const second = await worker.consume({ ...options, ackWaitMs: 90_000 });
    await expect
      .poll(() => seen, { message: 'the message published while stopped' })
      .toHaveLength(2);
    expect(seen).toEqual(['a', 'b']);
    expect((await jsm.consumers.info('AUDIT', 'auditor')).config.ack_wait).toBe(90_000 * 1e6);
    await second.stop();
  });
  it('stopping finishes the message in hand and gives the fetched ones back at once', async () => {
    await producer.ensureStream({ name: 'JOBS', subjects: ['jobs.>'] });
    const options = { stream: 'JOBS', durable: 'job-runner', ackWaitMs: 120_000 };
    let release: () => void = () => undefined;
    const firstSeen: string[] = [];
    const first = await worker.consume({
      ...options,
      handler: async (msg) => {
        firstSeen.push(msg.string());
        await new Promise<void>((resolve) => (release = resolve));
      },
    });
    for (const job of ['j1', 'j2', 'j3']) await producer.jetstreamPublish('jobs.run', job);
    // All three delivered to the first runner: one in its handler, two fetched ahead.
    await expect
      .poll(
        async () => {
          const info = await jsm.consumers.info('JOBS', 'job-runner');
          return firstSeen.length === 1 && info.num_ack_pending === 3;
        },
        { message: 'the first runner holds every job' },
      )
      .toBe(true);

    const stopped = first.stop();
    release();
    await stopped;

    const secondSeen: string[] = [];
    const second = await producer.consume({
      ...options,
      handler: (msg) => void secondSeen.push(msg.string()),
    });
    // Nak'ed, not left to the 120 s ack wait.
    await expect
      .poll(() => secondSeen, { message: 'the fetched jobs reach the second runner' })
      .toHaveLength(2);
    expect(firstSeen).toEqual(['j1']);
    expect(secondSeen).toEqual(['j2', 'j3']);
    await expect
      .poll(() => jsm.consumers.info('JOBS', 'job-runner'), { message: 'every job acked' })
      .toMatchObject({ num_pending: 0, num_ack_pending: 0 });
    await second.stop();
  });
});
