import { readFile } from 'node:fs/promises';
import {
  Server,
  ServerCredentials,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type MethodDefinition,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { descriptorSetPath as catmeshDescriptorSetPath, healthV1 } from '@catmesh/proto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { grpcServerMetrics, type GrpcRedMetrics } from '../metrics/grpc-metrics.js';
import { formatHostPort, listenError } from '../net/listen-error.js';
import type { TrafficGate } from '../traffic/traffic-gate.js';
import { guardHandler } from './handler-guard.js';
import { HealthCheckService } from './health-check-service.js';
import { describeRpc, serviceNameOf } from './rpc-method.js';
import { serverCallObserver } from './server-call-observer.js';
import { serverTrafficInterceptor, type RequestSizer } from './server-traffic-interceptor.js';

const { SERVING, NOT_SERVING } = healthV1.HealthCheckResponse_ServingStatus;

const HEALTH_SERVICE = 'grpc.health.v1.Health';
const REFLECTION_SERVICES = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];

/** A handler may be async; a rejection becomes the call's status (see guardHandler). */
type Async<H> = H extends (...args: infer A) => void ? (...args: A) => void | Promise<void> : never;

/** The handler grpc-js calls for one method definition, by its call type. */
export type HandlerFor<M> =
  M extends MethodDefinition<infer Req, infer Res>
    ? M['requestStream'] extends true
      ? M['responseStream'] extends true
        ? Async<handleBidiStreamingCall<Req, Res>>
        : Async<handleClientStreamingCall<Req, Res>>
      : M['responseStream'] extends true
        ? Async<handleServerStreamingCall<Req, Res>>
        : Async<handleUnaryCall<Req, Res>>
    : never;

/** An implementation of every method of a ts-proto service definition. */
export type ServiceImplementation<S extends ServiceDefinition> = {
  readonly [K in keyof S]: HandlerFor<S[K]>;
};

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 lets the OS choose; `listen()` returns the port bound. */
  readonly port: number;
  readonly logger: Logger;
  /** The process's metrics registry; the server's RED metrics are recorded into it. */
  readonly registry: Registry;
  /**
   * Server reflection, from a binary FileDescriptorSet: every catmesh API by default. Only the
   * services actually added to this server (and health) are listed. `false` turns it off.
   */
  readonly reflection?: { readonly descriptorSetPath: string } | false;
  /** grpc-js server options (channel arguments, extra interceptors). */
  readonly serverOptions?: ServerOptions;
  /**
   * The traffic gate of the `app` fault mechanism: every call to the services added (but
   * health, reflection and the Raft peer stream) passes it. None on the fault admin server, so
   * that a partition never cuts the chaos driver off.
   */
  readonly trafficGate?: TrafficGate;
}

/** Raft messages are gated one by one by the Raft transport, not as one long gRPC stream. */
const UNGATED_SERVICES: ReadonlySet<string> = new Set(['catmesh.raft.v1.RaftPeerService']);

/** Where the server listens once `listen()` has resolved. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * A grpc-js server with what every catmesh service needs: every handler traced, measured and
 * logged; grpc.health.v1 with per-service status; reflection; a clear error when it cannot
 * listen; and a drain that waits for calls in flight, then forces.
 */
export class GrpcServer {
  readonly #options: GrpcServerOptions;
  readonly #server: Server;
  readonly #health = new HealthCheckService();
  readonly #metrics: GrpcRedMetrics;
  readonly #services: string[] = [];
  /** Request encoders of the gated methods, by path; filled by addService. */
  readonly #gatedMethods = new Map<string, RequestSizer>();
  #address: ListenAddress | undefined;
  #drained: Promise<'graceful' | 'forced'> | undefined;

  constructor(options: GrpcServerOptions) {
    this.#options = options;
    this.#metrics = grpcServerMetrics(options.registry);
    const observer = serverCallObserver({
      metrics: this.#metrics,
      logger: options.logger,
      quietServices: new Set([HEALTH_SERVICE, ...REFLECTION_SERVICES]),
    });
    // grpc-js runs the first interceptor nearest the network: the observer sees every call,
    // the traffic gate's drops and rejections too.
    const gate = options.trafficGate;
    this.#server = new Server({
      ...options.serverOptions,
      interceptors: [
        observer,
        ...(gate ? [serverTrafficInterceptor(gate, this.#gatedMethods)] : []),
        ...(options.serverOptions?.interceptors ?? []),
      ],
    });
    this.#server.addService(healthV1.HealthService, this.#health.implementation);
  }

  /**
   * Adds a service; call before `listen()`. Each handler is guarded (see guardHandler); the
   * service gets its own health status, NOT_SERVING until `setServing()`.
   */
  addService<S extends ServiceDefinition>(
    definition: S,
    implementation: ServiceImplementation<S>,
  ): void {
    if (this.#address) throw new Error('GrpcServer.addService: add services before listen()');
    const service = serviceNameOf(definition);
    const guarded: UntypedServiceImplementation = {};
    for (const [key, method] of Object.entries(definition)) {
      const handler = (implementation as Record<string, unknown>)[key];
      if (typeof handler !== 'function') {
        throw new Error(`GrpcServer.addService: ${service} has no handler for "${key}"`);
      }
      guarded[key] = guardHandler(method, handler as () => unknown, this.#options.logger);
      this.#metrics.initialize(describeRpc(method));
      if (!UNGATED_SERVICES.has(service)) {
        const encode = (method as MethodDefinition<unknown, unknown>).requestSerialize;
        this.#gatedMethods.set(method.path, (message) => encode(message).length);
      }
    }
    this.#server.addService(definition, guarded);
    this.#services.push(service);
    this.#health.register(service);
  }

  /**
   * Binds and starts serving calls. Health stays NOT_SERVING: call `setServing()` once the
   * service's own dependencies are ready. Rejects with an error naming host:port when the
   * address is taken or not permitted.
   */
  async listen(): Promise<ListenAddress> {
    if (this.#address) throw new Error('GrpcServer.listen: already listening');
    const { host, port, reflection } = this.#options;
    if (reflection !== false) {
      const descriptors = await readFile(reflection?.descriptorSetPath ?? catmeshDescriptorSetPath);
      new ReflectionService(loadFileDescriptorSetFromBuffer(descriptors), {
        services: [...this.#services, HEALTH_SERVICE],
      }).addToServer(this.#server);
    }
    const boundPort = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(
        formatHostPort(host, port),
        ServerCredentials.createInsecure(),
        (error, bound) =>
          error ? reject(listenError('gRPC server', host, port, error)) : resolve(bound),
      );
    });
    this.#address = { host, port: boundPort };
    this.#options.logger.info(
      { address: formatHostPort(host, boundPort), services: this.#services },
      'gRPC server listening',
    );
    return this.#address;
  }

  /** Reports SERVING for `service`, or for the whole server and every service when omitted. */
  setServing(service?: string): void {
    this.#setStatus(SERVING, service);
  }

  /** Reports NOT_SERVING for `service`, or for the whole server and every service when omitted. */
  setNotServing(service?: string): void {
    this.#setStatus(NOT_SERVING, service);
  }

  /** Whether health reports SERVING for `service` ("" or omitted: the whole server). */
  isServing(service = ''): boolean {
    return this.#health.status(service) === SERVING;
  }

  /**
   * Stops taking calls and waits for those in flight; after `timeoutMs` cancels what is left.
   * Reports NOT_SERVING first and ends health Watch streams, which would otherwise never end.
   */
  drain(timeoutMs: number): Promise<'graceful' | 'forced'> {
    this.#drained ??= new Promise((resolve) => {
      this.setNotServing();
      this.#health.endWatches();
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve('forced');
      }, timeoutMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve('graceful');
      });
    });
    return this.#drained;
  }

  #setStatus(status: healthV1.HealthCheckResponse_ServingStatus, service?: string): void {
    if (service === undefined) {
      this.#health.setAll(status);
      return;
    }
    if (this.#health.status(service) === undefined) {
      throw new Error(`GrpcServer: no service "${service}" was added`);
    }
    this.#health.set(service, status);
  }
}
