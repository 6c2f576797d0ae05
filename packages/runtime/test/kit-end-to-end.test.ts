// The whole kit at once, as a service uses it: a gRPC call whose handler publishes on NATS, a
// consumer that processes the message, one trace across all four spans, RED metrics that
// promtool accepts, and health going NOT_SERVING when shutdown begins.
import { spawnSync } from 'node:child_process';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { healthV1, inventoryV1 } from '@catmesh/proto';
import {
  callUnary,
  connectNats,
  createClient,
  createMetricsRegistry,
  installShutdownHandler,
  standardShutdownSteps,
  startMetricsHttpServer,
  type NatsClient,
} from '@catmesh/runtime';
import {
  installTestTracing,
  startNatsServer,
  type NatsServer,
  type TestTracing,
} from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from './support/log-capture.js';
import { inventory, startInventoryServer, stock } from './support/inventory-server.js';

describe('the runtime kit end to end', () => {
  let tracing: TestTracing;
  let nats: NatsServer;
  let publisher: NatsClient;
  let consumer: NatsClient;

  beforeAll(async () => {
    tracing = installTestTracing();
    nats = await startNatsServer();
    const { logger } = captureLogs('silent');
    publisher = await connectNats({ servers: nats.url, name: 'publisher', logger });
    consumer = await connectNats({ servers: nats.url, name: 'consumer', logger });
  });

  afterAll(async () => {
    await publisher?.drain();
    await consumer?.drain();
    await nats?.dispose();
    await tracing?.shutdown();
  });

  it('one call that publishes is ONE trace: client → server → producer → consumer', async () => {
    const registry = createMetricsRegistry();
    const processed: string[] = [];
    consumer.subscribe('stock.checked', (message) => {
      processed.push(message.string());
    });
    await consumer.connection.flush();
    const running = await startInventoryServer(
      inventory({
        getStock: async (call, callback) => {
          await publisher.publish('stock.checked', call.request.sku);
          callback(null, stock(call.request.sku));
        },
      }),
      { registry },
    );
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, { registry });
    const http = await startMetricsHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      isReady: () => running.server.isServing(),
    });

    const response = await callUnary(client, 'getStock', { sku: 'kibble' });
    expect(response.stock?.sku).toBe('kibble');

    const spans = await tracing.waitForSpans((all) =>
      all.some((s) => s.kind === SpanKind.CONSUMER),
    );
    const one = (kind: SpanKind): ReadableSpan => {
      const matching = spans.filter((s) => s.kind === kind);
      expect(matching, `exactly one ${SpanKind[kind]} span`).toHaveLength(1);
      return matching[0]!;
    };
    const clientSpan = one(SpanKind.CLIENT);
    const serverSpan = one(SpanKind.SERVER);
    const producer = one(SpanKind.PRODUCER);
    const consumerSpan = one(SpanKind.CONSUMER);
    const traceIds = new Set(
      [clientSpan, serverSpan, producer, consumerSpan].map((s) => s.spanContext().traceId),
    );
    expect(traceIds.size).toBe(1);
    expect(clientSpan.parentSpanContext).toBeUndefined();
    expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
    expect(producer.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
    expect(consumerSpan.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(processed).toEqual(['kibble']);

    // RED metrics for that call, on both sides, in an exposition promtool accepts.
    const exposition = await fetch(`http://127.0.0.1:${http.port}/metrics`).then((r) => r.text());
    const sample = (metric: string) =>
      exposition
        .split('\n')
        .find(
          (line) =>
            line.startsWith(`${metric}{`) &&
            line.includes('grpc_service="catmesh.inventory.v1.InventoryService"') &&
            line.includes('grpc_method="GetStock"') &&
            line.includes('grpc_code="OK"'),
        );
    expect(sample('grpc_server_handled_total')).toMatch(/ 1$/);
    expect(sample('grpc_client_handled_total')).toMatch(/ 1$/);
    expect(exposition).toMatch(/^grpc_server_handling_seconds_bucket\{/m);
    const promtool = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: exposition });
    expect(promtool.status, promtool.stderr.toString()).toBe(0);

    // Health: SERVING now; NOT_SERVING as soon as shutdown starts, while calls still drain.
    const health = createClient(healthV1.HealthClient, running.address, { registry });
    const check = async () => (await callUnary(health, 'check', { service: '' })).status;
    expect(await check()).toBe(healthV1.HealthCheckResponse_ServingStatus.SERVING);
    let exitCode: number | undefined;
    const statusDuringShutdown: healthV1.HealthCheckResponse_ServingStatus[] = [];
    const shutdown = installShutdownHandler({
      graceMs: 10_000,
      logger: running.logger,
      signals: [],
      exit: (code) => {
        exitCode = code;
      },
      steps: [
        ...standardShutdownSteps({
          grpc: running.server,
          beforeGrpcDrain: [
            {
              name: 'observe health',
              run: async () => void statusDuringShutdown.push(await check()),
            },
          ],
          grpcDrainMs: 5000,
          drainNats: () => publisher.drain(),
          telemetry: { shutdown: () => Promise.resolve() },
          logger: running.logger,
        }),
        { name: 'http: close', run: () => http.close() },
      ],
    });
    await shutdown.shutdown('end of test');
    expect(statusDuringShutdown).toEqual([healthV1.HealthCheckResponse_ServingStatus.NOT_SERVING]);
    expect(exitCode).toBe(0);
    client.close();
    health.close();
  });
});
