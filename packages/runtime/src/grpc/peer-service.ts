import type { PeerIdentity } from '../traffic/traffic-gate.js';

// API packages whose service name differs from the package name.
const SERVICE_OF_PACKAGE: Readonly<Record<string, string>> = { catfeeder: 'cat-feeder' };

/**
 * The catmesh service behind a gRPC service name: `catmesh.inventory.v1.InventoryService` →
 * `inventory`, `catmesh.catfeeder.v1.CatFeederService` → `cat-feeder`; "" outside catmesh.
 */
export function catmeshServiceOf(grpcServiceName: string): string {
  const [root, api] = grpcServiceName.split('.');
  if (root !== 'catmesh' || api === undefined) return '';
  return SERVICE_OF_PACKAGE[api] ?? api;
}

/** The identity of the server a client talks to, from its service name and what the caller knows. */
export function serverIdentity(
  grpcServiceName: string,
  known: Partial<PeerIdentity> = {},
): PeerIdentity {
  return {
    service: known.service ?? catmeshServiceOf(grpcServiceName),
    instance: known.instance ?? '',
    raftId: known.raftId ?? 0,
  };
}
