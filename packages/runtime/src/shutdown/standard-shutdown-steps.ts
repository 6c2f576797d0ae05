import type { Logger } from 'pino';
import type { ShutdownStep } from './install-shutdown-handler.js';

export interface StandardShutdownParts {
  /** The service's gRPC server (a GrpcServer). */
  readonly grpc: {
    setNotServing(): void;
    drain(timeoutMs: number): Promise<'graceful' | 'forced'>;
  };
  /**
   * Steps between NOT_SERVING and the gRPC drain: whatever must stop before calls can drain
   * (e.g. a Raft replica, whose peers' long-lived streams would hold the drain open).
   */
  readonly beforeGrpcDrain?: readonly ShutdownStep[];
  /** How long calls in flight get to finish before they are cancelled. */
  readonly grpcDrainMs: number;
  /** Drains the NATS connection (flushes what was published, stops subscriptions). */
  readonly drainNats?: () => Promise<void>;
  readonly telemetry: { shutdown(): Promise<void> };
  readonly logger: Logger;
}

/**
 * The shutdown order of ARCHITECTURE.md rule 7: report NOT_SERVING (so load balancers and
 * health watchers stop sending), drain gRPC (calls in flight finish), drain NATS (messages those
 * calls published are flushed), then flush telemetry (the spans of all of the above).
 */
export function standardShutdownSteps(parts: StandardShutdownParts): ShutdownStep[] {
  return [
    { name: 'health: NOT_SERVING', run: () => parts.grpc.setNotServing() },
    ...(parts.beforeGrpcDrain ?? []),
    {
      name: 'grpc: drain',
      run: async () => {
        const outcome = await parts.grpc.drain(parts.grpcDrainMs);
        if (outcome === 'forced') {
          parts.logger.warn(
            { drain_ms: parts.grpcDrainMs },
            'gRPC calls still in flight after the drain period were cancelled',
          );
        }
      },
    },
    ...(parts.drainNats ? [{ name: 'nats: drain', run: parts.drainNats }] : []),
    { name: 'telemetry: flush', run: () => parts.telemetry.shutdown() },
  ];
}
