import { Metadata } from '@grpc/grpc-js';

// The experiment's own identity on the wire (the `catmesh-caller` entry the app mechanism
// matches peers by), so that a fault can tell the experiment's traffic from the mesh's.

export const CALLER_KEY = 'catmesh-caller';
export const CHAOS_SERVICE = 'chaos';

export function chaosCallerMetadata(): Metadata {
  const metadata = new Metadata();
  metadata.set(CALLER_KEY, `service=${CHAOS_SERVICE};instance=chaos-${process.pid};raft=0`);
  return metadata;
}

/** Channel options for a mesh whose instances die and come back (grpc-js backs off to 2 min). */
export const RECONNECT_QUICKLY = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
} as const;
