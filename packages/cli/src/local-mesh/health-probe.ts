import { credentials } from '@grpc/grpc-js';
import { healthV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { isServiceError } from '../cli-errors.js';
import type { HealthCheck } from './instance-spec.js';

/** SERVING and NOT_SERVING as the instance says; `down` when it cannot be asked at all. */
export type Health = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'down';

const ServingStatus = healthV1.HealthCheckResponse_ServingStatus;

/**
 * Asks instances whether they serve. One gRPC client per address, kept between probes, with
 * reconnection backoff capped low: while an instance starts, its first connection attempts
 * fail, and grpc-js' default backoff (up to two minutes) would notice it late.
 */
export class HealthProber {
  readonly #clients = new Map<string, healthV1.HealthClient>();

  async probe(check: HealthCheck, timeoutMs: number): Promise<Health> {
    return check.kind === 'grpc'
      ? this.#probeGrpc(check.address, timeoutMs)
      : probeHttp(check.url, timeoutMs);
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  async #probeGrpc(address: string, timeoutMs: number): Promise<Health> {
    let client = this.#clients.get(address);
    if (!client) {
      client = new healthV1.HealthClient(address, credentials.createInsecure(), {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.min_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 500,
      });
      this.#clients.set(address, client);
    }
    try {
      const { status } = await callUnary(
        client,
        'check',
        { service: '' },
        { deadlineMs: timeoutMs },
      );
      switch (status) {
        case ServingStatus.SERVING:
          return 'SERVING';
        case ServingStatus.NOT_SERVING:
          return 'NOT_SERVING';
        default:
          return 'UNKNOWN';
      }
    } catch (error) {
      if (isServiceError(error)) return 'down';
      throw error;
    }
  }
}

async function probeHttp(url: string, timeoutMs: number): Promise<Health> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok ? 'SERVING' : 'NOT_SERVING';
  } catch {
    return 'down';
  }
}
