import type { AllowMatrix } from './matrix.js';

/** What the matrix leaves out; printed with it, so nobody reads more into it than it says. */
export const NOT_MODELLED = [
  'node traffic: connections from and to a pod’s own node (kubelet probes, port-forward) are always allowed',
  'host networking: pods with hostNetwork bypass NetworkPolicies',
  'Service address rewriting: the matrix is pod to pod, on container ports, not on Service ports',
  'established connections: a policy is checked when a connection is set up; one already open keeps flowing',
  'pod addresses: an ipBlock is matched against addresses outside the cluster only',
  'loopback: a pod reaching itself is always allowed; a workload’s row to itself means its other pods',
] as const;

/**
 * One row per source, one column per destination workload; a cell lists the ports the source
 * may connect to, `all` when that is every port, `·` when none.
 */
export function formatMatrix(matrix: AllowMatrix): string {
  const destinations = [...new Set(matrix.columns.map((c) => c.workload))];
  const rows = matrix.sources.map((from) => [
    from,
    ...destinations.map((to) => {
      const cells = matrix.cells.filter((c) => c.from === from && c.to === to);
      const allowed = cells.filter((c) => c.verdict.allowed).map((c) => c.port);
      if (allowed.length === 0) return '·';
      return allowed.length === cells.length && cells.length > 1 ? 'all' : allowed.join(',');
    }),
  ]);
  const dns = new Map(matrix.dns.map((d) => [d.from, d.allowed ? 'yes' : 'no']));
  const table = [
    ['FROM \\ TO', ...destinations, 'DNS'],
    ...rows.map((row) => [...row, dns.get(row[0]!) ?? '-']),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const lines = table.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return [...lines, '', 'Not modelled:', ...NOT_MODELLED.map((line) => `  - ${line}`), ''].join(
    '\n',
  );
}
