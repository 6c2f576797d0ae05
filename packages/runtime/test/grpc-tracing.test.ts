import { credentials, status } from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { catfeederV1, inventoryV1, raftV1 } from '@catmesh/proto';
import { installTestTracing } from '@catmesh/testkit';
import {
  callUnary,
  createClient,
  createMetricsRegistry,
  GrpcServer,
  type Registry,
} from '@catmesh/runtime';
import { captureLogs } from './support/log-capture.js';
import {
  inventory,
  startInventoryServer,
  stock,
  type RunningServer,
} from './support/inventory-server.js';

const tracing = installTestTracing();
const logs = captureLogs('info');
let running: RunningServer;
let registry: Registry;
/** The span active inside the last getStock handler, and the log line it wrote. */
let handlerSpanId: string | undefined;

beforeAll(async () => {
  registry = createMetricsRegistry();
  running = await startInventoryServer(
    inventory({
      getStock: (call, callback) => {
        handlerSpanId = trace.getActiveSpan()?.spanContext().spanId;
        logs.logger.info('handler ran');
        // Work the handler starts (a NATS publish, a downstream call) nests under its span.
        trace.getTracer('test').startActiveSpan('handler work', (span) => {
          span.end();
          if (call.request.sku === 'missing')
            callback({ code: status.NOT_FOUND, details: 'no such sku' });
          else if (call.request.sku === 'broken')
            callback({ code: status.INTERNAL, details: 'disk on fire' });
          else callback(null, stock(call.request.sku));
        });
      },
    }),
    { registry, logger: logs.logger },
  );
});
afterAll(async () => {
  await running.stop();
  await tracing.shutdown();
});
afterEach(() => tracing.reset());

const byKind = (spans: ReadableSpan[], kind: SpanKind) => spans.filter((s) => s.kind === kind);

describe('gRPC tracing', () => {
  it('a call makes a CLIENT span and a SERVER span in one trace, the server a child of the client', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, { registry });
    await trace.getTracer('test').startActiveSpan('caller', async (span) => {
      await callUnary(client, 'getStock', { sku: 'kibble' });
      span.end();
    });
    client.close();

    const spans = await tracing.waitForSpans(
      (s) => byKind(s, SpanKind.SERVER).length === 1 && byKind(s, SpanKind.CLIENT).length === 1,
    );
    const clientSpan = byKind(spans, SpanKind.CLIENT)[0]!;
    const serverSpan = byKind(spans, SpanKind.SERVER)[0]!;
    const callerSpan = spans.find(
      (s) => s.name === 'caller' && s.spanContext().spanId === clientSpan.parentSpanContext?.spanId,
    );

    expect(callerSpan).toBeDefined();
    expect(clientSpan.name).toBe('catmesh.inventory.v1.InventoryService/GetStock');
    expect(serverSpan.name).toBe('catmesh.inventory.v1.InventoryService/GetStock');
    expect(serverSpan.spanContext().traceId).toBe(clientSpan.spanContext().traceId);
    expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
    expect(serverSpan.parentSpanContext?.isRemote).toBe(true);

    const [, port] = running.address.split(':');
    expect(clientSpan.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'catmesh.inventory.v1.InventoryService',
      'rpc.method': 'GetStock',
      'rpc.grpc.status_code': 0,
      'server.address': '127.0.0.1',
      'server.port': Number(port),
    });
    expect(serverSpan.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'catmesh.inventory.v1.InventoryService',
      'rpc.method': 'GetStock',
      'rpc.grpc.status_code': 0,
      'network.peer.address': '127.0.0.1',
    });
    expect(clientSpan.status.code).toBe(SpanStatusCode.UNSET);
    expect(serverSpan.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('the handler runs inside the server span: its spans and log lines nest under it', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, { registry });
    await callUnary(client, 'getStock', { sku: 'kibble' });
    client.close();

    const spans = await tracing.waitForSpans(
      (s) => byKind(s, SpanKind.SERVER).length === 1 && s.some((x) => x.name === 'handler work'),
    );
    const serverSpan = byKind(spans, SpanKind.SERVER)[0]!;
    const work = spans.find((s) => s.name === 'handler work')!;
    expect(handlerSpanId).toBe(serverSpan.spanContext().spanId);
    expect(work.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);

    const handlerLine = logs.lines().findLast((line) => line.msg === 'handler ran');
    expect(handlerLine).toMatchObject({
      trace_id: serverSpan.spanContext().traceId,
      span_id: serverSpan.spanContext().spanId,
    });
    const accessLine = logs.lines().findLast((line) => line.msg === 'rpc handled');
    expect(accessLine).toMatchObject({
      rpc: 'catmesh.inventory.v1.InventoryService/GetStock',
      grpc_code: 'OK',
      trace_id: serverSpan.spanContext().traceId,
    });
  });

  it('errors set the status: any non-OK on the client, server faults only on the server', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, { registry });
    await expect(callUnary(client, 'getStock', { sku: 'missing' })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    await expect(callUnary(client, 'getStock', { sku: 'broken' })).rejects.toMatchObject({
      code: status.INTERNAL,
    });
    client.close();

    const spans = await tracing.waitForSpans(
      (s) => byKind(s, SpanKind.SERVER).length === 2 && byKind(s, SpanKind.CLIENT).length === 2,
    );
    const statusOf = (kind: SpanKind, code: number) =>
      spans.find((s) => s.kind === kind && s.attributes['rpc.grpc.status_code'] === code)!.status;
    expect(statusOf(SpanKind.CLIENT, status.NOT_FOUND)).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'no such sku',
    });
    expect(statusOf(SpanKind.CLIENT, status.INTERNAL)).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'disk on fire',
    });
    expect(statusOf(SpanKind.SERVER, status.NOT_FOUND).code).toBe(SpanStatusCode.UNSET);
    expect(statusOf(SpanKind.SERVER, status.INTERNAL)).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'disk on fire',
    });
  });

  it('a plain grpc-js client without trace context still gets a SERVER span, as a root', async () => {
    const plain = new inventoryV1.InventoryServiceClient(
      running.address,
      credentials.createInsecure(),
    );
    await new Promise<void>((resolve, reject) =>
      plain.getStock({ sku: 'kibble' }, (error) => (error ? reject(error) : resolve())),
    );
    plain.close();
    const [serverSpan] = byKind(
      await tracing.waitForSpans((s) => byKind(s, SpanKind.SERVER).length === 1),
      SpanKind.SERVER,
    );
    expect(serverSpan!.parentSpanContext).toBeUndefined();
  });
});

describe('gRPC tracing of streaming calls', () => {
  let server: GrpcServer;
  let address: string;
  /** Span active in each callback of the bidi handler: at the call and at each message. */
  const bidiSpanIds: (string | undefined)[] = [];

  beforeAll(async () => {
    server = new GrpcServer({ host: '127.0.0.1', port: 0, logger: logs.logger, registry });
    const unimplemented = (_call: unknown, callback: (error: { code: number }) => void) =>
      callback({ code: status.UNIMPLEMENTED });
    server.addService(catfeederV1.CatFeederServiceService, {
      get: unimplemented,
      put: unimplemented,
      delete: unimplemented,
      compareAndSwap: unimplemented,
      range: unimplemented,
      status: unimplemented,
      watch: (call) => {
        call.write({ header: undefined, events: [] });
        call.write({ header: undefined, events: [] });
        call.end();
      },
    });
    server.addService(raftV1.RaftPeerServiceService, {
      stream: (call) => {
        bidiSpanIds.push(trace.getActiveSpan()?.spanContext().spanId);
        let received = 0;
        call.on('data', (request: raftV1.StreamRequest) => {
          bidiSpanIds.push(trace.getActiveSpan()?.spanContext().spanId);
          received += request.messages.length + 1;
          call.write({ received });
        });
        call.on('end', () => call.end());
      },
      installSnapshot: unimplemented,
    });
    address = `127.0.0.1:${(await server.listen()).port}`;
  });
  afterAll(() => server.drain(5000));

  it('server-streaming: one span per call, ended when the stream ends', async () => {
    const client = createClient(catfeederV1.CatFeederServiceClient, address, { registry });
    const messages: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.watch({ prefix: 'cat.', startRevision: 0 });
      stream.on('data', (message) => messages.push(message));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    client.close();
    expect(messages).toHaveLength(2);
    const spans = await tracing.waitForSpans(
      (s) => byKind(s, SpanKind.SERVER).length === 1 && byKind(s, SpanKind.CLIENT).length === 1,
    );
    const serverSpan = byKind(spans, SpanKind.SERVER)[0]!;
    expect(serverSpan.name).toBe('catmesh.catfeeder.v1.CatFeederService/Watch');
    expect(serverSpan.parentSpanContext?.spanId).toBe(
      byKind(spans, SpanKind.CLIENT)[0]!.spanContext().spanId,
    );
  });

  it('bidi streaming: the handler and every message it receives run in the server span', async () => {
    const client = createClient(raftV1.RaftPeerServiceClient, address, { registry });
    const stream = client.stream();
    const acks: number[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (response: raftV1.StreamResponse) => acks.push(response.received));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    stream.write({ messages: [], window: 0 });
    stream.write({ messages: [], window: 0 });
    stream.end();
    await ended;
    client.close();
    expect(acks).toEqual([1, 2]);

    const spans = await tracing.waitForSpans((s) => byKind(s, SpanKind.SERVER).length === 1);
    const serverSpanId = byKind(spans, SpanKind.SERVER)[0]!.spanContext().spanId;
    expect(bidiSpanIds).toEqual([serverSpanId, serverSpanId, serverSpanId]);
  });
});
