import {
  ErrorCode,
  NatsError,
  connect,
  type NatsConnection,
  type PubAck,
  type StreamInfo,
} from 'nats';
import type { Logger } from 'pino';
import { watchConnection } from './connection-status.js';
import { sleep } from '../async/with-deadline.js';
import { drain } from './drain.js';
import { NatsConnectError } from './errors.js';
import { jetstreamPublish, type NatsJetStreamPublishOptions } from './jetstream-publish.js';
import {
  startConsumer,
  type NatsConsumerOptions,
  type NatsDurableConsumer,
} from './jetstream-consumer.js';
import type { NatsKit } from './kit.js';
import { formatCallerIdentity } from '../traffic/caller-identity.js';
import type { TrafficGate, TrafficHooks } from '../traffic/traffic-gate.js';
import type { NatsPayload } from './payload.js';
import { publish, type NatsPublishOptions } from './publish.js';
import { ensureStream, type NatsStreamConfig } from './stream.js';
import {
  subscribe,
  type NatsMessageHandler,
  type NatsSubscribeOptions,
  type NatsSubscription,
} from './subscribe.js';

export interface ConnectNatsOptions {
  /** Server URLs, e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  /** Client name, shown by the server in its connection list. */
  readonly name: string;
  readonly logger: Logger;
  /**
   * How long the first connect keeps trying while no server accepts, so that a service started
   * before NATS waits for it instead of crashing (default 10 000 ms; 0 means one attempt).
   */
  readonly connectWaitMs?: number;
  /** Wait between reconnect attempts to the same server, after the first connect (default 1000 ms). */
  readonly reconnectWaitMs?: number;
  /** Random extra wait per reconnect attempt, so clients do not reconnect in lockstep (default 500 ms). */
  readonly reconnectJitterMs?: number;
  /** Default bound on publish and jetstreamPublish (default 2000 ms). */
  readonly publishTimeoutMs?: number;
  /** Bound on JetStream management requests: streams, consumers (default 5000 ms). */
  readonly requestTimeoutMs?: number;
  /**
   * Interval of the client's pings; two unanswered pings mark the connection stale and start a
   * reconnect. This is how a paused or partitioned server is noticed (default 10 000 ms).
   */
  readonly pingIntervalMs?: number;
  /**
   * This process's identity, sent in the `catmesh-caller` header of every message, and the
   * traffic gate that publishes and deliveries pass (the `app` fault mechanism).
   */
  readonly traffic?: TrafficHooks;
}

/** A NATS connection with trace propagation, bounded publishes and logging. */
export interface NatsClient {
  /** The underlying nats.js connection, for what the kit does not cover (e.g. Key/Value). */
  readonly connection: NatsConnection;
  /** Whether the client is connected, as of its last status event. */
  isConnected(): boolean;
  /** Core publish; resolves once the server has the message. See publish.ts. */
  publish(subject: string, payload: NatsPayload, options?: NatsPublishOptions): Promise<void>;
  subscribe(
    subject: string,
    handler: NatsMessageHandler,
    options?: NatsSubscribeOptions,
  ): NatsSubscription;
  jetstreamPublish(
    subject: string,
    payload: NatsPayload,
    options?: NatsJetStreamPublishOptions,
  ): Promise<PubAck>;
  ensureStream(config: NatsStreamConfig): Promise<StreamInfo>;
  /** Starts a durable JetStream consumer. See jetstream-consumer.ts. */
  consume(options: NatsConsumerOptions): Promise<NatsDurableConsumer>;
  /** The traffic gate given to connectNats, for the Key/Value buckets opened on this client. */
  readonly trafficGate: TrafficGate | undefined;
  /** Graceful shutdown within `timeoutMs` (default 10 000 ms); never rejects. */
  drain(timeoutMs?: number): Promise<void>;
}

const DEFAULTS = {
  connectWaitMs: 10_000,
  reconnectWaitMs: 1_000,
  reconnectJitterMs: 500,
  publishTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
  pingIntervalMs: 10_000,
  drainTimeoutMs: 10_000,
};

/**
 * Connects to NATS, waiting up to `connectWaitMs` for a server to accept; rejects with a
 * NatsConnectError naming the servers and the cause after that. Once connected, the client
 * reconnects on its own, forever, with a bounded, jittered wait between attempts.
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsClient> {
  const logger = options.logger;
  const nc = await connectWithWait(options);
  logger.info({ server: nc.getServer(), name: options.name }, 'NATS connected');

  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  const kit: NatsKit = {
    nc,
    js: nc.jetstream({ timeout: requestTimeoutMs }),
    logger,
    status: watchConnection(nc, logger),
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs,
    requestTimeoutMs,
    caller: options.traffic && formatCallerIdentity(options.traffic.self),
    gate: options.traffic?.gate,
    subscriptions: new Set(),
    consumers: new Set(),
  };
  return {
    connection: nc,
    isConnected: () => kit.status.connected(),
    trafficGate: kit.gate,
    publish: (subject, payload, publishOptions) => publish(kit, subject, payload, publishOptions),
    subscribe: (subject, handler, subscribeOptions) =>
      subscribe(kit, subject, handler, subscribeOptions),
    jetstreamPublish: (subject, payload, publishOptions) =>
      jetstreamPublish(kit, subject, payload, publishOptions),
    ensureStream: (config) => ensureStream(kit, config),
    consume: (consumerOptions) => startConsumer(kit, consumerOptions),
    drain: (timeoutMs = DEFAULTS.drainTimeoutMs) => drain(kit, timeoutMs),
  };
}

async function connectWithWait(options: ConnectNatsOptions): Promise<NatsConnection> {
  const servers = typeof options.servers === 'string' ? [options.servers] : [...options.servers];
  const connectWaitMs = options.connectWaitMs ?? DEFAULTS.connectWaitMs;
  const reconnectWaitMs = options.reconnectWaitMs ?? DEFAULTS.reconnectWaitMs;
  const startedAt = Date.now();
  const deadline = startedAt + connectWaitMs;
  let retryDelayMs = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect({
        servers,
        name: options.name,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: reconnectWaitMs,
        reconnectJitter: options.reconnectJitterMs ?? DEFAULTS.reconnectJitterMs,
        pingInterval: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
        maxPingOut: 2,
        // Per attempt: enough for a slow handshake, never much past our own deadline.
        timeout: Math.max(1_000, Math.min(20_000, deadline - Date.now())),
      });
    } catch (err) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0 || !worthRetrying(err)) {
        throw new NatsConnectError(servers, describe(err), Date.now() - startedAt, { cause: err });
      }
      if (attempt === 1) {
        options.logger.warn(
          { servers, reason: describe(err), waitMs: connectWaitMs },
          'NATS not reachable yet; waiting for it',
        );
      }
      // Retry until the deadline, then once more at it: the wait is never cut short.
      await sleep(Math.min(retryDelayMs, remainingMs));
      retryDelayMs = Math.min(retryDelayMs * 2, reconnectWaitMs);
    }
  }
}

/** nats.js error codes (strings, not its enum) that waiting cannot cure. */
const HOPELESS = new Set<string>([ErrorCode.InvalidOption, ErrorCode.Tls]);

const DESCRIPTIONS = new Map<string, string>([
  [ErrorCode.ConnectionRefused, 'connection refused'],
  [ErrorCode.ConnectionTimeout, 'timed out'],
  [ErrorCode.Timeout, 'timed out'],
]);

/** Failures that waiting can cure (server not up yet, DNS not there yet), not wrong credentials. */
function worthRetrying(err: unknown): boolean {
  if (!(err instanceof NatsError)) return true;
  return !(err.isAuthError() || err.isPermissionError() || HOPELESS.has(err.code));
}

function describe(err: unknown): string {
  if (err instanceof NatsError) return DESCRIPTIONS.get(err.code) ?? err.message;
  return err instanceof Error ? err.message : String(err);
}
