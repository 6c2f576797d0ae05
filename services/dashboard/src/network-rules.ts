// The network-rules panel's source: rendered manifests (`helm template` of the chart, which
// `catmesh up` writes into its state directory), read again whenever the file changes, and their
// allow matrix computed by @catmesh/netpol, the same code as `catmesh netpol matrix`.
import { readFile, stat } from 'node:fs/promises';
import { computeMatrix, EXTERNAL, parseManifests, type AllowMatrix } from '@catmesh/netpol';
import type { NetworkRulesView } from './dashboard-snapshot.js';

/** The matrix is computed for the chart's defaults: cluster DNS in kube-system, as kind has it. */
const MATRIX_OPTIONS = {
  externalAddress: '203.0.113.10',
  dns: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
};

export type NetworkRules = Omit<NetworkRulesView, 'source'>;

export class NetworkRulesFile {
  #read:
    { readonly mtimeMs: number; readonly size: number; readonly rules: NetworkRules } | undefined;

  constructor(readonly file: string) {}

  /** The matrix of the file as it is now; throws naming the problem (the panel shows it). */
  async read(): Promise<NetworkRules> {
    const info = await stat(this.file).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new Error(
        `${this.file} does not exist: catmesh up renders the chart into it with helm`,
      );
    });
    const known = this.#read;
    if (known && known.mtimeMs === info.mtimeMs && known.size === info.size) return known.rules;
    const text = await readFile(this.file, 'utf8');
    const cluster = parseManifests([{ name: this.file, text }], 'default');
    const rules = matrixView(computeMatrix(cluster, MATRIX_OPTIONS), cluster.policies.length);
    this.#read = { mtimeMs: info.mtimeMs, size: info.size, rules };
    return rules;
  }
}

/** Cells by port folded into one cell per pair of workloads: the ports allowed between them. */
export function matrixView(matrix: AllowMatrix, policies: number): NetworkRules {
  const to = [...new Set(matrix.columns.map((column) => column.workload))];
  const from = [...matrix.sources.filter((source) => source !== EXTERNAL), EXTERNAL];
  const allowed = from.map((source) =>
    to.map((target) =>
      matrix.cells
        .filter((cell) => cell.from === source && cell.to === target && cell.verdict.allowed)
        .map((cell) => cell.port),
    ),
  );
  return { from, to, allowed, policies };
}
