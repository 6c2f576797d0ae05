import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  installTestTracing,
  startNatsServer,
  type NatsServer,
  type TestTracing,
} from '@catmesh/testkit';
import { headers as natsHeaders } from 'nats';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectNats, type NatsClient, type NatsMsg } from '../src/nats/index.js';
import { LEVEL, captureLogs } from './nats-log-capture.js';

// Two clients, as two services would have: trace context must cross the server in the headers.
let tracing: TestTracing;
let server: NatsServer;
let producer: NatsClient;
let consumer: NatsClient;
const logs = captureLogs();
const tracer = trace.getTracer('nats-pubsub-test');

beforeAll(async () => {
  tracing = installTestTracing();
  server = await startNatsServer();
  producer = await connectNats({ servers: server.url, name: 'producer', logger: logs.logger });
  consumer = await connectNats({ servers: server.url, name: 'consumer', logger: logs.logger });
});

afterAll(async () => {
  await producer?.drain(5_000);
  await consumer?.drain(5_000);
  await server?.dispose();
  await tracing?.shutdown();
});

beforeEach(() => tracing.reset());

/** Subscribes on the consumer and waits until the server knows, so a publish cannot overtake it. */
async function subscribed(...args: Parameters<NatsClient['subscribe']>) {
  const subscription = consumer.subscribe(...args);
  await consumer.connection.flush();
  return subscription;
}

describe('core publish/subscribe', () => {
  it('carries one trace from the publisher, through the headers, into the handler', async () => {
    let seen: { headerKeys: string[]; traceparent: string | undefined } | undefined;
    const subscription = await subscribed('orders.created', (msg) => {
      tracer.startActiveSpan('reserve stock', (span) => span.end());
      seen = {
        headerKeys: msg.headers?.keys() ?? [],
        traceparent: msg.headers?.get('traceparent'),
      };
    });

    const parent = await tracer.startActiveSpan('place order', async (span) => {
      await producer.publish('orders.created', '{"order":1}');
      span.end();
      return span.spanContext();
    });

    const spans = await tracing.waitForSpans((all) => all.some((s) => s.name === 'reserve stock'));
    const publish = spans.find((s) => s.name === 'publish orders.created');
    const process = spans.find((s) => s.name === 'process orders.created');
    const work = spans.find((s) => s.name === 'reserve stock');
    expect(publish && process && work).toBeTruthy();

    expect(publish!.kind).toBe(SpanKind.PRODUCER);
    expect(publish!.spanContext().traceId).toBe(parent.traceId);
    expect(publish!.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(publish!.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.destination.name': 'orders.created',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.message.body.size': 11,
      'server.address': '127.0.0.1',
      'server.port': server.port,
    });

    const producerContext = publish!.spanContext();
    expect(process!.kind).toBe(SpanKind.CONSUMER);
    expect(process!.spanContext().traceId).toBe(parent.traceId);
    expect(process!.parentSpanContext?.spanId).toBe(producerContext.spanId);
    expect(process!.links.map((link) => link.context.spanId)).toEqual([producerContext.spanId]);
    expect(process!.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.destination.name': 'orders.created',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.body.size': 11,
    });
    expect(process!.status.code).toBe(SpanStatusCode.UNSET);

    expect(work!.parentSpanContext?.spanId).toBe(process!.spanContext().spanId);

    expect(seen?.headerKeys).toContain('traceparent');
    expect(seen?.traceparent).toBe(`00-${parent.traceId}-${producerContext.spanId}-01`);
    await subscription.drain();
  });

  it('records and logs handler failures, and keeps delivering', async () => {
    const handled: string[] = [];
    const subscription = await subscribed('jobs.run', async (msg) => {
      const body = msg.string();
      if (body === 'throws') throw new TypeError('bad job');
      await Promise.resolve();
      if (body === 'rejects') throw new RangeError('bad range');
      handled.push(body);
    });

    await producer.publish('jobs.run', 'throws');
    await producer.publish('jobs.run', 'rejects');
    await producer.publish('jobs.run', 'fine');
    await expect
      .poll(() => handled, { message: 'the message after the failures is handled' })
      .toContain('fine');

    const spans = await tracing.waitForSpans(
      (all) => all.filter((s) => s.name === 'process jobs.run').length === 3,
    );
    const failed = spans.filter((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failed.map((s) => s.attributes['error.type']).sort()).toEqual([
      'RangeError',
      'TypeError',
    ]);
    for (const span of failed) {
      expect(span.events.map((event) => event.name)).toContain('exception');
    }
    const errorLogs = logs.lines.filter(
      (line) => line.level === LEVEL.error && line.msg === 'NATS message handler failed',
    );
    expect(errorLogs.map((line) => (line.err as { message: string }).message).sort()).toEqual([
      'bad job',
      'bad range',
    ]);
    await subscription.drain();
  });

  it('starts a new trace for a message without trace context, whatever context subscribed', async () => {
    let subscription: Awaited<ReturnType<typeof subscribed>> | undefined;
    // Subscribing inside a span: that span must not become the parent of every delivery.
    await tracer.startActiveSpan('service start-up', async (span) => {
      subscription = await subscribed('plain.events', () => undefined);
      span.end();
    });
    producer.connection.publish('plain.events', 'no headers');

    const spans = await tracing.waitForSpans((all) =>
      all.some((s) => s.name === 'process plain.events'),
    );
    const process = spans.find((s) => s.name === 'process plain.events')!;
    expect(process.parentSpanContext).toBeUndefined();
    expect(process.links).toEqual([]);
    await subscription!.drain();
  });

  it('continues a trace whose producer wrote the header with other capitals', async () => {
    const subscription = await subscribed('foreign.events', () => undefined);
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const spanId = 'b7ad6b7169203331';
    const headers = natsHeaders();
    headers.set('Traceparent', `00-${traceId}-${spanId}-01`);
    producer.connection.publish('foreign.events', 'from elsewhere', { headers });

    const spans = await tracing.waitForSpans((all) =>
      all.some((s) => s.name === 'process foreign.events'),
    );
    const process = spans.find((s) => s.name === 'process foreign.events')!;
    expect(process.spanContext().traceId).toBe(traceId);
    expect(process.parentSpanContext?.spanId).toBe(spanId);
    await subscription.drain();
  });

  it('names spans of a wildcard subscription after the pattern and reports the queue group', async () => {
    const subscription = await subscribed('shipments.*', () => undefined, { queue: 'shippers' });
    await producer.publish('shipments.eu', 'parcel');

    const spans = await tracing.waitForSpans((all) =>
      all.some((s) => s.name === 'process shipments.*'),
    );
    expect(spans.find((s) => s.name === 'process shipments.*')!.attributes).toMatchObject({
      'messaging.destination.name': 'shipments.eu',
      'messaging.destination.template': 'shipments.*',
      'messaging.consumer.group.name': 'shippers',
    });
    await subscription.drain();
  });

  it('drain lets the message being handled finish', async () => {
    let release: () => void = () => undefined;
    const finished: string[] = [];
    const started: string[] = [];
    const subscription = await subscribed('slow.work', async (msg: NatsMsg) => {
      started.push(msg.string());
      await new Promise<void>((resolve) => (release = resolve));
      finished.push(msg.string());
    });
    await producer.publish('slow.work', 'in flight');
    await expect.poll(() => started, { message: 'the handler has started' }).toHaveLength(1);

    const drained = subscription.drain();
    setTimeout(() => release(), 50);
    await drained;
    expect(finished).toEqual(['in flight']);
  });
});
