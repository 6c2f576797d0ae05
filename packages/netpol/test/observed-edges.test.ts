// Edges read from traces, in both dump formats, and compared with what policies allow.
import { describe, expect, it } from 'vitest';
import {
  compareWithObserved,
  computeMatrix,
  observedEdges,
  parseManifests,
  parseTraceDump,
} from '../src/index.js';

const kv = (key: string, value: string) => ({ key, value: { stringValue: value } });
const span = (id: string, parent: string, kind: number, attributes: unknown[] = []) => ({
  traceId: 't1',
  spanId: id,
  parentSpanId: parent,
  name: id,
  kind,
  startTimeUnixNano: '1',
  endTimeUnixNano: '2',
  attributes,
});
const resource = (service: string, spans: unknown[]) => ({
  resource: { attributes: [kv('service.name', service)] },
  scopeSpans: [{ spans }],
});

// orders (server 1) calls inventory (client 2 -> server 3) and publishes (producer 4); inventory
// calls orders back (client 5 -> server 6), which no policy below allows.
const otlpDump = [
  {
    resourceSpans: [
      resource('orders', [
        span('1', '', 2),
        span('2', '1', 3),
        span('4', '1', 4, [kv('messaging.system', 'nats')]),
      ]),
    ],
  },
  { resourceSpans: [resource('inventory', [span('3', '2', 2), span('5', '3', 3)])] },
  { resourceSpans: [resource('orders', [span('6', '5', 2)]), resource('catmesh', [])] },
]
  .map((e) => JSON.stringify(e))
  .join('\n');

const jaegerDump = JSON.stringify({
  data: [
    {
      traceID: 't1',
      processes: { p1: { serviceName: 'orders' }, p2: { serviceName: 'inventory' } },
      spans: [
        {
          traceID: 't1',
          spanID: 'a',
          processID: 'p1',
          tags: [{ key: 'span.kind', value: 'client' }],
        },
        {
          traceID: 't1',
          spanID: 'b',
          processID: 'p2',
          references: [{ refType: 'CHILD_OF', spanID: 'a' }],
          tags: [{ key: 'span.kind', value: 'server' }],
        },
      ],
    },
  ],
});

const workloads = new Set(['orders', 'inventory', 'nats', 'jaeger']);

describe('edges from traces', () => {
  it('reads calls, messages and exports from an OTLP/JSON dump', () => {
    const { edges, outsideServices } = observedEdges(parseTraceDump(otlpDump, 'dump'), workloads);
    expect(edges.map((e) => `${e.from} -> ${e.to}:${e.port}`).sort()).toEqual([
      'inventory -> jaeger:otlp-http',
      'inventory -> orders:grpc',
      'orders -> inventory:grpc',
      'orders -> jaeger:otlp-http',
      'orders -> nats:client',
    ]);
    expect(outsideServices).toEqual([]);
  });

  it('reads a Jaeger API answer the same way', () => {
    const { edges } = observedEdges(parseTraceDump(jaegerDump, 'jaeger'), workloads);
    expect(edges.map((e) => `${e.from} -> ${e.to}:${e.port}`)).toContain(
      'orders -> inventory:grpc',
    );
  });

  it('names a line that is neither format', () => {
    expect(() => parseTraceDump('{"resourceSpans":[]}\n{"spans":[]}', 'dump.jsonl')).toThrow(
      'dump.jsonl, line 2: neither an OTLP/JSON export',
    );
    expect(() => parseTraceDump('{"resourceSpans":[]}\nnope', 'dump.jsonl')).toThrow(
      'dump.jsonl, line 2: not JSON',
    );
  });

  it('an edge used but not allowed is the one the policies would break', () => {
    const pod = (name: string, port: string, number: number) => `---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  template:
    metadata: { labels: { app.kubernetes.io/name: ${name} } }
    spec: { containers: [{ name: c, ports: [{ name: ${port}, containerPort: ${number} }] }] }
`;
    const manifests = `${pod('orders', 'grpc', 7301)}${pod('inventory', 'grpc', 7201)}${pod('nats', 'client', 4222)}${pod('jaeger', 'otlp-http', 4318)}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: to-inventory }
spec:
  podSelector: { matchLabels: { app.kubernetes.io/name: inventory } }
  ingress: [{ from: [{ podSelector: { matchLabels: { app.kubernetes.io/name: orders } } }] }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: to-orders }
spec:
  podSelector: { matchLabels: { app.kubernetes.io/name: orders } }
  ingress: []
`;
    const cluster = parseManifests([{ name: 'm', text: manifests }], 'default');
    const matrix = computeMatrix(cluster, {
      externalAddress: '203.0.113.10',
      dns: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    });
    const spans = parseTraceDump(otlpDump, 'dump');
    const result = compareWithObserved(matrix, observedEdges(spans, new Set(matrix.sources)));
    expect(result.usedNotAllowed).toEqual(['inventory -> orders:grpc']);
    expect(result.allowedNotUsed).not.toContain('orders -> inventory:grpc');
  });
});
