// The edges real traffic used, read from traces: an OTLP/JSON dump (what a collector's file
// exporter or catmesh's test receiver writes, one export per line) or Jaeger's HTTP API (its
// JSON). Each call leaves a client span in the caller and a server span, its child, in the
// callee; messages on NATS leave producer and consumer spans; and every service that exported a
// span reached the trace collector.
import { allowedEdges, edgeName, type AllowMatrix } from './matrix.js';
import type { GraphEdge } from './service-graph.js';

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** A span as far as edges need it. */
export interface ObservedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly service: string;
  readonly kind: SpanKind;
  readonly messagingSystem?: string;
}

/** How the mesh's calls map onto workloads and named ports. */
export interface EdgeConventions {
  /** The port a gRPC call between workloads reaches... */
  readonly grpcPort: string;
  /** ...but the one replicas of one workload call each other on (cat-feeder: `raft`). */
  readonly peerPorts: Readonly<Record<string, string>>;
  /** Where messages go: NATS's workload and port. */
  readonly broker: { readonly workload: string; readonly port: string };
  /** Where spans go: the collector's workload and port. */
  readonly collector: { readonly workload: string; readonly port: string };
}

export const CATMESH_CONVENTIONS: EdgeConventions = {
  grpcPort: 'grpc',
  peerPorts: { 'cat-feeder': 'raft' },
  broker: { workload: 'nats', port: 'client' },
  collector: { workload: 'jaeger', port: 'otlp-http' },
};

const OTLP_KINDS: Readonly<Record<number, SpanKind>> = {
  1: 'internal',
  2: 'server',
  3: 'client',
  4: 'producer',
  5: 'consumer',
};

type Json = Record<string, unknown>;

/** A string attribute of an OTLP attribute list. */
function attribute(list: unknown, key: string): string | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = (list as { key?: string; value?: Json }[]).find((a) => a.key === key);
  const value = entry?.value?.['stringValue'];
  return typeof value === 'string' ? value : undefined;
}

/** Spans of an OTLP/JSON export (`{"resourceSpans": [...]}`). */
function otlpSpans(payload: Json): ObservedSpan[] {
  const out: ObservedSpan[] = [];
  for (const resource of (payload['resourceSpans'] as Json[] | undefined) ?? []) {
    const service =
      attribute((resource['resource'] as Json | undefined)?.['attributes'], 'service.name') ?? '';
    for (const scope of (resource['scopeSpans'] as Json[] | undefined) ?? []) {
      for (const span of (scope['spans'] as Json[] | undefined) ?? []) {
        const messaging = attribute(span['attributes'], 'messaging.system');
        const parent = span['parentSpanId'];
        out.push({
          traceId: String(span['traceId']),
          spanId: String(span['spanId']),
          ...(typeof parent === 'string' && parent !== '' && { parentSpanId: parent }),
          service,
          kind: OTLP_KINDS[Number(span['kind'])] ?? 'internal',
          ...(typeof messaging === 'string' && { messagingSystem: messaging }),
        });
      }
    }
  }
  return out;
}

/** Spans of a Jaeger API answer (`{"data": [{"spans": [...], "processes": {...}}]}`). */
function jaegerSpans(payload: Json): ObservedSpan[] {
  const out: ObservedSpan[] = [];
  for (const trace of (payload['data'] as Json[] | undefined) ?? []) {
    const processes = (trace['processes'] as Record<string, { serviceName?: string }>) ?? {};
    for (const span of (trace['spans'] as Json[] | undefined) ?? []) {
      const tags = (span['tags'] as { key: string; value: unknown }[] | undefined) ?? [];
      const tag = (key: string) => tags.find((t) => t.key === key)?.value;
      const parent = ((span['references'] as Json[] | undefined) ?? []).find(
        (r) => r['refType'] === 'CHILD_OF',
      );
      const spanKind = tag('span.kind');
      const kind = (typeof spanKind === 'string' ? spanKind : 'internal') as SpanKind;
      const messaging = tag('messaging.system');
      out.push({
        traceId: String(span['traceID']),
        spanId: String(span['spanID']),
        ...(parent && { parentSpanId: String(parent['spanID']) }),
        service: processes[String(span['processID'])]?.serviceName ?? '',
        kind: Object.values(OTLP_KINDS).includes(kind) ? kind : 'internal',
        ...(typeof messaging === 'string' && { messagingSystem: messaging }),
      });
    }
  }
  return out;
}

/**
 * The spans of a trace dump: OTLP/JSON exports (one JSON document, or one per line) or a Jaeger
 * API answer. Throws naming the line when a line is not JSON or neither format.
 */
export function parseTraceDump(text: string, source: string): ObservedSpan[] {
  const trimmed = text.trim();
  const documents: { line: number; value: unknown }[] = [];
  try {
    documents.push({ line: 1, value: JSON.parse(trimmed) });
  } catch {
    for (const [i, line] of trimmed.split('\n').entries()) {
      if (line.trim() === '') continue;
      try {
        documents.push({ line: i + 1, value: JSON.parse(line) });
      } catch {
        throw new Error(`${source}, line ${i + 1}: not JSON`);
      }
    }
  }
  return documents.flatMap(({ line, value }) => {
    const payload = (value ?? {}) as Json;
    if (Array.isArray(payload['resourceSpans'])) return otlpSpans(payload);
    if (Array.isArray(payload['data'])) return jaegerSpans(payload);
    throw new Error(
      `${source}, line ${line}: neither an OTLP/JSON export (resourceSpans) nor a Jaeger API answer (data)`,
    );
  });
}

export interface ObservedEdges {
  /** Between workloads (and to NATS and the collector). */
  readonly edges: readonly GraphEdge[];
  /** Services in the traces that are not workloads of the manifests (e.g. the catmesh CLI). */
  readonly outsideServices: readonly string[];
}

/** The edges the spans show, between the `workloads` given; other services are listed apart. */
export function observedEdges(
  spans: readonly ObservedSpan[],
  workloads: ReadonlySet<string>,
  conventions: EdgeConventions = CATMESH_CONVENTIONS,
): ObservedEdges {
  const byId = new Map(spans.map((s) => [`${s.traceId}/${s.spanId}`, s]));
  const edges = new Map<string, GraphEdge>();
  const outside = new Set<string>();
  const add = (edge: GraphEdge) => {
    if (!workloads.has(edge.from)) outside.add(edge.from);
    else if (!workloads.has(edge.to)) outside.add(edge.to);
    else edges.set(edgeName(edge), edge);
  };
  for (const span of spans) {
    add({
      from: span.service,
      to: conventions.collector.workload,
      port: conventions.collector.port,
    });
    if (span.messagingSystem === 'nats' && (span.kind === 'producer' || span.kind === 'consumer')) {
      add({ from: span.service, to: conventions.broker.workload, port: conventions.broker.port });
    }
    const parent = span.parentSpanId && byId.get(`${span.traceId}/${span.parentSpanId}`);
    if (span.kind !== 'server' || !parent || parent.kind !== 'client') continue;
    const to = span.service;
    const port =
      parent.service === to
        ? (conventions.peerPorts[to] ?? conventions.grpcPort)
        : conventions.grpcPort;
    add({ from: parent.service, to, port });
  }
  return { edges: [...edges.values()], outsideServices: [...outside].sort() };
}

export interface ObservedComparison {
  /** Traffic the policies would block: the dangerous difference. */
  readonly usedNotAllowed: readonly string[];
  /** Allowed and never seen: candidates for tightening (or calls the traces did not cover). */
  readonly allowedNotUsed: readonly string[];
  readonly outsideServices: readonly string[];
}

export function compareWithObserved(
  matrix: AllowMatrix,
  observed: ObservedEdges,
): ObservedComparison {
  const allowed = allowedEdges(matrix);
  const used = new Set(observed.edges.map(edgeName));
  return {
    usedNotAllowed: [...used].filter((e) => !allowed.has(e)).sort(),
    allowedNotUsed: [...allowed].filter((e) => !used.has(e)).sort(),
    outsideServices: observed.outsideServices,
  };
}
