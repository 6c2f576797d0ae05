import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTelemetry, type OtlpProtocol } from '@catmesh/runtime';
import { freePort, startOtlpReceiver } from '@catmesh/testkit';

/** An OTLP/HTTP collector stand-in that records every request it gets. */
interface Collector {
  readonly endpoint: string;
  readonly requests: { path: string; contentType: string; body: Buffer }[];
  close(): Promise<void>;
}

/** On a port of its own, or on `port`. */
async function startCollector(port = 0): Promise<Collector> {
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
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * An OTLP/JSON receiver that takes connections but answers no export until `answer()`: a
 * collector that hangs. From then on it answers every export, the held ones first.
 */
async function startHangingReceiver() {
  const held: ServerResponse[] = [];
  let answering = false;
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      if (answering) response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else held.push(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Every export it was sent, answered or not. */
    bodies,
    answer() {
      answering = true;
      for (const response of held.splice(0)) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const telemetryConfig = (
  endpoint: string,
  disabled: boolean,
  otlpProtocol: OtlpProtocol = 'http/protobuf',
  otlpDashboardEndpoint?: string,
) => ({
  serviceName: 'telemetry-test',
  serviceVersion: '1.2.3',
  instanceId: 'telemetry-test-7',
  disabled,
  otlpEndpoint: endpoint,
  otlpProtocol,
  ...(otlpDashboardEndpoint !== undefined && { otlpDashboardEndpoint }),
});

/** Ends one span named `name` and returns its trace id. */
function oneSpan(name: string): string {
  return trace.getTracer('test').startActiveSpan(name, (span) => {
    span.end();
    return span.spanContext().traceId;
  });
}

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

  describe('with CATMESH_OTLP_DASHBOARD_ENDPOINT', () => {
    it('sends every span to both receivers: protobuf to the standard one, OTLP/JSON to the dashboard', async () => {
      const jaeger = await startCollector();
      const dashboard = await startOtlpReceiver();
      const telemetry = startTelemetry(
        telemetryConfig(jaeger.endpoint, false, 'http/protobuf', `${dashboard.endpoint}/`),
      );
      const traceId = oneSpan('feed the cat');
      await telemetry.shutdown();

      expect(jaeger.requests.map((r) => [r.path, r.contentType])).toEqual([
        ['/v1/traces', 'application/x-protobuf'],
      ]);
      const protobuf = jaeger.requests[0]!.body;
      expect(protobuf.includes(Buffer.from(traceId, 'hex'))).toBe(true);
      expect(protobuf.toString('latin1')).toContain('feed the cat');
      expect(dashboard.spans()).toEqual([
        expect.objectContaining({ traceId, name: 'feed the cat', serviceName: 'telemetry-test' }),
      ]);
      await Promise.all([jaeger.close(), dashboard.close()]);
    });

    it('names the dashboard once when it is the standard endpoint too: each span arrives once', async () => {
      const dashboard = await startOtlpReceiver();
      const telemetry = startTelemetry(
        telemetryConfig(dashboard.endpoint, false, 'http/json', dashboard.endpoint),
      );
      oneSpan('feed the cat');
      await telemetry.shutdown();
      expect(dashboard.spans().map((span) => span.name)).toEqual(['feed the cat']);
      await dashboard.close();
    });

    describe('one receiver down or hanging', () => {
      // Batches leave every 50 ms instead of every 5 s, so that an export happens before shutdown.
      beforeEach(() => {
        process.env['OTEL_BSP_SCHEDULE_DELAY'] = '50';
      });
      afterEach(() => {
        delete process.env['OTEL_BSP_SCHEDULE_DELAY'];
      });

      it('a Jaeger that refuses connections does not keep the spans from the dashboard', async () => {
        // Nothing listens there (yet): connections are refused.
        const port = await freePort();
        const dashboard = await startOtlpReceiver();
        const telemetry = startTelemetry(
          telemetryConfig(`http://127.0.0.1:${port}`, false, 'http/protobuf', dashboard.endpoint),
        );
        const traceId = oneSpan('while jaeger is down');
        // Long before the exporter to Jaeger gives up its retries (about 10 s).
        await dashboard.waitForSpans((spans) => spans.some((s) => s.traceId === traceId), 5_000);
        // Jaeger comes up: its exporter's next retry delivers, and shutdown ends.
        const jaeger = await startCollector(port);
        await telemetry.shutdown();
        expect(jaeger.requests.some((r) => r.body.includes(Buffer.from(traceId, 'hex')))).toBe(
          true,
        );
        await Promise.all([jaeger.close(), dashboard.close()]);
      });

      it('a dashboard that never answers does not hold up the export to Jaeger', async () => {
        const jaeger = await startCollector();
        const dashboard = await startHangingReceiver();
        const telemetry = startTelemetry(
          telemetryConfig(jaeger.endpoint, false, 'http/protobuf', dashboard.endpoint),
        );
        const first = oneSpan('first');
        await expect.poll(() => dashboard.bodies.length, { timeout: 5_000 }).toBeGreaterThan(0);
        // The dashboard holds the first export unanswered; Jaeger has it, and gets the next too.
        const second = oneSpan('second');
        for (const traceId of [first, second]) {
          await expect
            .poll(() => jaeger.requests.some((r) => r.body.includes(Buffer.from(traceId, 'hex'))), {
              timeout: 5_000,
            })
            .toBe(true);
        }
        dashboard.answer();
        await telemetry.shutdown();
        // Once it answers, the dashboard gets every span too.
        const received = dashboard.bodies.join('\n');
        expect(received).toContain(first);
        expect(received).toContain(second);
        await Promise.all([jaeger.close(), dashboard.close()]);
      });
    });
  });
});
