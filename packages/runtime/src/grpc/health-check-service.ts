import { status as grpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import { healthV1 } from '@catmesh/proto';

export type ServingStatus = healthV1.HealthCheckResponse_ServingStatus;
const { NOT_SERVING, SERVICE_UNKNOWN } = healthV1.HealthCheckResponse_ServingStatus;

type Watch = ServerWritableStream<healthV1.HealthCheckRequest, healthV1.HealthCheckResponse>;

/**
 * grpc.health.v1.Health with real per-service status: "" is the server as a whole, and each
 * registered service has its own entry. Everything starts NOT_SERVING; the service's main says
 * when it is ready, because only it knows when its dependencies are.
 */
export class HealthCheckService {
  readonly #statuses = new Map<string, ServingStatus>([['', NOT_SERVING]]);
  readonly #watches = new Map<Watch, string>();

  readonly implementation: healthV1.HealthServer = {
    check: (call, callback) => {
      const status = this.#statuses.get(call.request.service);
      if (status === undefined) {
        callback({
          code: grpcStatus.NOT_FOUND,
          details: `unknown service "${call.request.service}"`,
        });
        return;
      }
      callback(null, { status });
    },
    // Per the health protocol: send the status now and again on every change; an unknown
    // service is SERVICE_UNKNOWN (not an error), since it may be registered later.
    watch: (call) => {
      const service = call.request.service;
      this.#watches.set(call, service);
      const forget = () => this.#watches.delete(call);
      call.once('cancelled', forget);
      call.once('close', forget);
      call.write({ status: this.#statuses.get(service) ?? SERVICE_UNKNOWN });
    },
  };

  /** Adds a service (NOT_SERVING until set otherwise); registering twice changes nothing. */
  register(service: string): void {
    if (!this.#statuses.has(service)) this.set(service, NOT_SERVING);
  }

  /** The status of `service` ("" for the whole server), or undefined if it is not registered. */
  status(service = ''): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const [watch, watched] of this.#watches) {
      if (watched === service) watch.write({ status });
    }
  }

  /** Sets the whole server and every registered service. */
  setAll(status: ServingStatus): void {
    for (const service of [...this.#statuses.keys()]) this.set(service, status);
  }

  /**
   * Ends every Watch stream (status OK). A draining server waits for open calls, and a Watch
   * never ends by itself; watchers have already seen NOT_SERVING and will reconnect elsewhere.
   */
  endWatches(): void {
    for (const watch of [...this.#watches.keys()]) {
      this.#watches.delete(watch);
      watch.end();
    }
  }
}
