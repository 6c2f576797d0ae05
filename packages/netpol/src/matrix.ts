// The allow matrix: for every source workload (and traffic from outside the cluster), every
// destination workload's every container port, allowed or not.
import { evaluateConnection, type ConnectionVerdict } from './evaluate.js';
import type { Cluster, ContainerPort, Endpoint, Pod } from './model.js';

/** Rows that are not workloads: connections from outside the cluster. */
export const EXTERNAL = 'external';

export interface MatrixColumn {
  readonly workload: string;
  /** The container port's name, or its number when it has none. */
  readonly port: string;
  readonly target: ContainerPort;
}

export interface MatrixCell {
  readonly from: string;
  readonly to: string;
  readonly port: string;
  readonly verdict: ConnectionVerdict;
}

export interface DnsVerdict {
  readonly from: string;
  readonly allowed: boolean;
}

export interface AllowMatrix {
  readonly sources: readonly string[];
  readonly columns: readonly MatrixColumn[];
  /** Row by row, in the order of `sources` and `columns`. */
  readonly cells: readonly MatrixCell[];
  readonly dns: readonly DnsVerdict[];
}

export interface MatrixOptions {
  /** An address outside the cluster that the `external` row connects from. */
  readonly externalAddress: string;
  /** Where the cluster DNS runs: the pods every workload must reach on 53/UDP. */
  readonly dns: { readonly namespace: string; readonly labels: Record<string, string> };
}

/** One pod per workload: every pod of a workload has the same labels and ports. */
function workloads(cluster: Cluster): Pod[] {
  const seen = new Map<string, Pod>();
  for (const pod of cluster.pods) if (!seen.has(pod.workload)) seen.set(pod.workload, pod);
  return [...seen.values()];
}

export function computeMatrix(cluster: Cluster, options: MatrixOptions): AllowMatrix {
  const pods = workloads(cluster);
  const columns: MatrixColumn[] = pods.flatMap((pod) =>
    pod.ports.map((target) => ({
      workload: pod.workload,
      port: target.name ?? String(target.port),
      target,
    })),
  );
  const sources: { name: string; endpoint: Endpoint }[] = [
    ...pods.map((pod) => ({ name: pod.workload, endpoint: { kind: 'pod', pod } as const })),
    {
      name: EXTERNAL,
      endpoint: { kind: 'external', address: options.externalAddress } as const,
    },
  ];
  const cells = sources.flatMap(({ name, endpoint }) =>
    columns.map((column) => {
      const destination = pods.find((p) => p.workload === column.workload)!;
      return {
        from: name,
        to: column.workload,
        port: column.port,
        verdict: evaluateConnection(
          cluster,
          endpoint,
          { kind: 'pod', pod: destination },
          column.target,
        ),
      };
    }),
  );
  const dnsPod: Pod = {
    workload: 'cluster-dns',
    namespace: options.dns.namespace,
    labels: options.dns.labels,
    ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
  };
  const dns = pods.map((pod) => ({
    from: pod.workload,
    allowed: evaluateConnection(
      cluster,
      { kind: 'pod', pod },
      { kind: 'pod', pod: dnsPod },
      { port: 53, protocol: 'UDP' },
    ).allowed,
  }));
  return { sources: sources.map((s) => s.name), columns, cells, dns };
}

/** The allowed edges as `from -> to:port`. */
export function allowedEdges(matrix: AllowMatrix): Set<string> {
  return new Set(matrix.cells.filter((c) => c.verdict.allowed).map(edgeName));
}

export function edgeName(edge: { from: string; to: string; port: string }): string {
  return `${edge.from} -> ${edge.to}:${edge.port}`;
}
