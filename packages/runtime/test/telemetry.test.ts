import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type OtlpProtocol } from '@catmesh/runtime';
import { startOtlpReceiver } from '@catmesh/testkit';

/** An OTLP/HTTP collector stand-in that records every request it gets. */
interface Collector {
  readonly endpoint: string;
  readonly requests: { path: string; contentType: string; body: Buffer }[];
  close(): Promise<void>;
}

async function startCollector(): Promise<Collector> {
  const requests: Collector['requests'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const telemetryConfig = (
  endpoint: string,
  disabled: boolean,
  otlpProtocol: OtlpProtocol = 'http/protobuf',
) => ({
  serviceName: 'telemetry-test',
  serviceVersion: '1.2.3',
  instanceId: 'telemetry-test-7',
  disabled,
  otlpEndpoint: endpoint,
  otlpProtocol,
});

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('startTelemetry', () => {
  it('exports spans as OTLP http/protobuf to <endpoint>/v1/traces, flushed by shutdown', async () => {
    const collector = await startCollector();
    const telemetry = startTelemetry(telemetryConfig(`${collector.endpoint}/`, false));
    expect(telemetry.enabled).toBe(true);

    trace.getTracer('test').startActiveSpan('feed the cat', (span) => {
      expect(span.isRecording()).toBe(true);
      span.end();
    });
    // Batched: nothing is sent before the flush at shutdown.
    await telemetry.shutdown();
    await telemetry.shutdown();

    expect(collector.requests.map((r) => [r.path, r.contentType])).toEqual([
      ['/v1/traces', 'application/x-protobuf'],
    ]);
    const body = collector.requests[0]!.body.toString('latin1');
    for (const text of ['feed the cat', 'telemetry-test', '1.2.3', 'telemetry-test-7']) {
      expect(body).toContain(text);
    }
    await collector.close();
  });

  it('exports OTLP/JSON when OTEL_EXPORTER_OTLP_PROTOCOL is http/json', async () => {
    const receiver = await startOtlpReceiver();
    const telemetry = startTelemetry(telemetryConfig(receiver.endpoint, false, 'http/json'));
    trace.getTracer('test').startActiveSpan('parent', (parent) => {
      trace.getTracer('test').startSpan('child').end();
      parent.end();
    });
    await telemetry.shutdown();
    const spans = receiver.spans();
    const parent = spans.find((s) => s.name === 'parent')!;
    expect(spans.find((s) => s.name === 'child')).toMatchObject({
      traceId: parent.traceId,
      parentSpanId: parent.spanId,
      serviceName: 'telemetry-test',
    });
    await receiver.close();
  });

  it('when disabled starts no SDK and sends nothing, but still propagates context', async () => {
    const collector = await startCollector();
    const telemetry = startTelemetry(telemetryConfig(collector.endpoint, true));
    expect(telemetry.enabled).toBe(false);

    const incoming = propagation.extract(context.active(), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const outgoing: Record<string, string> = {};
    context.with(incoming, () => {
      const span = trace.getTracer('test').startSpan('not recorded');
      expect(span.isRecording()).toBe(false);
      context.with(trace.setSpan(context.active(), span), () => {
        propagation.inject(context.active(), outgoing);
      });
      span.end();
    });
    expect(outgoing.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);

    await telemetry.shutdown();
    expect(collector.requests).toEqual([]);
    await collector.close();
  });
});
