import { samplesOf } from '@catmesh/runtime';

/** The gRPC calls a server has answered so far, and how many of them failed (not OK). */
export interface CallCounts {
  readonly calls: number;
  readonly errors: number;
}

/**
 * Totals of `grpc_server_handled_total`, health checks left out: `catmesh status` and the
 * runner ask those themselves, and they would drown an idle instance's real traffic.
 */
export function serverCallCounts(text: string): CallCounts {
  let calls = 0;
  let errors = 0;
  for (const { labels, value } of samplesOf(text, 'grpc_server_handled_total')) {
    if (labels['grpc_service'] === 'grpc.health.v1.Health') continue;
    calls += value;
    if (labels['grpc_code'] !== 'OK') errors += value;
  }
  return { calls, errors };
}
