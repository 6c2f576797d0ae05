// The mesh's declared calls (the chart's `serviceGraph` value) against what the policies allow.
import { parse } from 'yaml';
import { ManifestError } from './manifests.js';
import { allowedEdges, edgeName, type AllowMatrix } from './matrix.js';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly port: string;
  /** A workload without which the call is not made (the chart renders nothing for it then). */
  readonly onlyWith?: string;
}

const EDGE_FIELDS = ['from', 'to', 'port', 'onlyWith'] as const;

/** The `serviceGraph` list of a values file; `source` names the file in messages. */
export function parseServiceGraph(text: string, source: string): GraphEdge[] {
  let values: unknown;
  try {
    values = parse(text);
  } catch (error) {
    throw new ManifestError(`${source}: not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const graph = (values as { serviceGraph?: unknown } | null)?.serviceGraph;
  if (!Array.isArray(graph)) throw new ManifestError(`${source}: serviceGraph: expected a list`);
  return graph.map((entry: unknown, i) => {
    const at = `${source}: serviceGraph[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new ManifestError(`${at}: not an edge`);
    const edge = entry as Record<string, unknown>;
    for (const key of Object.keys(edge)) {
      if (!(EDGE_FIELDS as readonly string[]).includes(key)) {
        throw new ManifestError(`${at}.${key}: unknown field (known: ${EDGE_FIELDS.join(', ')})`);
      }
    }
    for (const key of EDGE_FIELDS) {
      if (key === 'onlyWith' && edge[key] === undefined) continue;
      if (typeof edge[key] !== 'string' || edge[key] === '') {
        throw new ManifestError(`${at}.${key}: expected a non-empty string`);
      }
    }
    const onlyWith = edge['onlyWith'] as string | undefined;
    return {
      from: edge['from'] as string,
      to: edge['to'] as string,
      port: edge['port'] as string,
      ...(onlyWith !== undefined && { onlyWith }),
    };
  });
}

export interface GraphComparison {
  /** Allowed by the policies, not declared: a hole. */
  readonly allowedNotDeclared: readonly string[];
  /** Declared, not allowed: a call the mesh makes that the policies break. */
  readonly declaredNotAllowed: readonly string[];
  /**
   * Declared edges of workloads these manifests do not deploy (its ends, or its `onlyWith`):
   * out of the comparison.
   */
  readonly notDeployed: readonly string[];
}

export function compareWithGraph(
  matrix: AllowMatrix,
  graph: readonly GraphEdge[],
): GraphComparison {
  // Every source row is a deployed workload, or traffic from outside the cluster.
  const deployed = new Set(matrix.sources);
  const inScope = (edge: GraphEdge) =>
    deployed.has(edge.from) &&
    deployed.has(edge.to) &&
    (edge.onlyWith === undefined || deployed.has(edge.onlyWith));
  const declared = new Set(graph.filter(inScope).map(edgeName));
  const allowed = allowedEdges(matrix);
  return {
    allowedNotDeclared: [...allowed].filter((e) => !declared.has(e)),
    declaredNotAllowed: [...declared].filter((e) => !allowed.has(e)),
    notDeployed: graph.filter((e) => !inScope(e)).map(edgeName),
  };
}
