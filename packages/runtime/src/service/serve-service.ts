// The first and last lines of every service's main.ts, so that each gets logging, tracing,
// metrics, health and a clean shutdown the same way (ARCHITECTURE.md rules 6 and 7).
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ServiceConfig } from '../config/service-config.js';
import type { GrpcServer, ListenAddress } from '../grpc/grpc-server.js';
import { createLogger } from '../logging/create-logger.js';
import { createMetricsRegistry } from '../metrics/create-registry.js';
import { startMetricsHttpServer } from '../metrics/metrics-http-server.js';
import { installShutdownHandler, type ShutdownStep } from '../shutdown/install-shutdown-handler.js';
import { standardShutdownSteps } from '../shutdown/standard-shutdown-steps.js';
import { startTelemetry, telemetryConfigOf, type Telemetry } from '../telemetry/start-telemetry.js';

/** What a service process has before it builds anything of its own. */
export interface ServiceProcess {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  /** The process's metrics registry: every metric of the service registers here. */
  readonly registry: Registry;
}

/** Logger, tracing and metrics registry, from the common service config. */
export function startServiceProcess(config: ServiceConfig): ServiceProcess {
  return {
    logger: createLogger({
      service: config.serviceName,
      instance: config.instanceId,
      level: config.logLevel,
    }),
    telemetry: startTelemetry(telemetryConfigOf(config)),
    registry: createMetricsRegistry(),
  };
}

export interface ServeServiceOptions extends ServiceProcess {
  readonly config: ServiceConfig;
  /** The service's gRPC server, with its services added. */
  readonly server: GrpcServer;
  /** Steps between NOT_SERVING and the gRPC drain: background work that must stop first. */
  readonly beforeGrpcDrain?: readonly ShutdownStep[];
  /** Drains the service's NATS connection (after the gRPC calls that publish have finished). */
  readonly drainNats?: () => Promise<void>;
  /**
   * Steps after the telemetry flush, before the HTTP listener closes: what must outlive the
   * service's own work (the fault admin API, so that a driver can see the process go).
   */
  readonly lastSteps?: readonly ShutdownStep[];
}

/**
 * Serves `/metrics`, `/healthz` and `/readyz`, installs the shutdown handler (NOT_SERVING, the
 * service's own stops, gRPC drain with half the grace period, NATS drain, telemetry flush, the
 * last steps, then the HTTP listener), binds the gRPC server and reports SERVING. Resolves with the bound port.
 */
export async function serveService(options: ServeServiceOptions): Promise<ListenAddress> {
  const { config, server, logger } = options;
  const http = await startMetricsHttpServer({
    host: config.grpcHost,
    port: config.metricsPort,
    registry: options.registry,
    isReady: () => server.isServing(),
  });
  installShutdownHandler({
    graceMs: config.shutdownGraceMs,
    logger,
    steps: [
      ...standardShutdownSteps({
        grpc: server,
        grpcDrainMs: Math.floor(config.shutdownGraceMs / 2),
        ...(options.beforeGrpcDrain ? { beforeGrpcDrain: options.beforeGrpcDrain } : {}),
        ...(options.drainNats ? { drainNats: options.drainNats } : {}),
        telemetry: options.telemetry,
        logger,
      }),
      ...(options.lastSteps ?? []),
      { name: 'http: close', run: () => http.close() },
    ],
  });
  const address = await server.listen();
  server.setServing();
  return address;
}
