import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpHttpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type { OtlpProtocol, ServiceConfig } from '../config/service-config.js';

export interface TelemetryConfig {
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly instanceId: string;
  /** OTEL_SDK_DISABLED: no SDK, no spans recorded, nothing exported. */
  readonly disabled: boolean;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the OTLP/HTTP base URL; traces go to `<endpoint>/v1/traces`. */
  readonly otlpEndpoint: string;
  /** OTEL_EXPORTER_OTLP_PROTOCOL: protobuf (the default, what Jaeger expects) or JSON. */
  readonly otlpProtocol: OtlpProtocol;
  /**
   * CATMESH_OTLP_DASHBOARD_ENDPOINT: a second OTLP/HTTP base URL (the dashboard's receiver)
   * that gets every span too, always as OTLP/JSON at `<endpoint>/v1/traces`.
   */
  readonly otlpDashboardEndpoint?: string;
}

export interface Telemetry {
  /** False when the SDK is disabled. */
  readonly enabled: boolean;
  /** Exports the spans still buffered and stops the SDK. Safe to call twice. */
  shutdown(): Promise<void>;
}

/** The telemetry settings of the common service config; OTEL_SERVICE_NAME wins over ours. */
export function telemetryConfigOf(config: ServiceConfig): TelemetryConfig {
  return {
    serviceName: config.otelServiceName ?? config.serviceName,
    serviceVersion: config.serviceVersion,
    instanceId: config.instanceId,
    disabled: config.otelSdkDisabled,
    otlpEndpoint: config.otlpEndpoint,
    otlpProtocol: config.otlpProtocol,
    ...(config.otlpDashboardEndpoint !== undefined && {
      otlpDashboardEndpoint: config.otlpDashboardEndpoint,
    }),
  };
}

/**
 * Starts tracing: spans are batched and exported as OTLP over HTTP, context follows async
 * calls through AsyncLocalStorage and crosses processes as W3C trace-context. With a dashboard
 * endpoint, each span goes to both receivers, each through a batch span processor and exporter
 * of its own: a receiver that is slow or gone holds up its own queue only, never the other's
 * (the OTEL_BSP_* variables tune both). Shutdown flushes both.
 *
 * No auto-instrumentation: it patches `require`, which ESM code never goes through. gRPC is
 * traced by this kit's own client interceptor and server wrapper instead. Metrics and logs are
 * not exported over OTLP (Prometheus scrapes metrics; logs go to stdout), so they are switched
 * off explicitly, or the SDK would start exporting them to the default endpoint on its own.
 */
export function startTelemetry(config: TelemetryConfig): Telemetry {
  const contextManager = new AsyncLocalStorageContextManager();
  const propagator = new W3CTraceContextPropagator();

  if (config.disabled) {
    // The OpenTelemetry spec keeps propagators working when the SDK is disabled: an incoming
    // trace context still reaches outgoing calls and log lines, though nothing is recorded here.
    context.setGlobalContextManager(contextManager.enable());
    propagation.setGlobalPropagator(propagator);
    return { enabled: false, shutdown: () => Promise.resolve() };
  }

  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: config.serviceVersion,
      [ATTR_SERVICE_INSTANCE_ID]: config.instanceId,
    }),
    spanProcessors: spanExportersOf(config).map((exporter) => new BatchSpanProcessor(exporter)),
    contextManager,
    textMapPropagator: propagator,
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () => (stopped ??= sdk.shutdown()),
  };
}

/** The standard endpoint's exporter, then the dashboard's (unless it is the same receiver). */
function spanExportersOf(config: TelemetryConfig): SpanExporter[] {
  const url = tracesUrl(config.otlpEndpoint);
  const exporters: SpanExporter[] = [
    config.otlpProtocol === 'http/json'
      ? new OtlpHttpJsonExporter({ url })
      : new OtlpHttpProtobufExporter({ url }),
  ];
  if (config.otlpDashboardEndpoint !== undefined) {
    const copyUrl = tracesUrl(config.otlpDashboardEndpoint);
    // The dashboard named twice (the only endpoint, and the copy) gets each span once.
    if (copyUrl !== url || config.otlpProtocol !== 'http/json') {
      exporters.push(new OtlpHttpJsonExporter({ url: copyUrl }));
    }
  }
  return exporters;
}

function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
