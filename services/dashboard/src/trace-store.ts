// The traces the dashboard received over OTLP/HTTP (JSON), so that a trace can be seen with
// no Jaeger anywhere: the last few hundred traces, each with its spans, the oldest dropped
// first. Orders are the traces with a PlaceOrder served by orders.
import type { OrderTraceView, TraceSpanNode } from './dashboard-snapshot.js';

/**
 * About two minutes of a loaded mesh (loadgen's orders and reads make some 20 traces a second):
 * well beyond the few seconds a process's batch takes to arrive, so that a trace is not dropped
 * before its last spans come (they would start a partial trace of their own). Some 10 MB.
 */
const MAX_TRACES = 2_000;
const MAX_SPANS_PER_TRACE = 1_000;
const SPAN_KIND_SERVER = 2;

interface StoredSpan {
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly service: string;
  readonly instance: string;
  readonly startMs: number;
  readonly durationMs: number;
}

/** The part of an OTLP/JSON ExportTraceServiceRequest the dashboard reads. */
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: {
      spans?: {
        traceId?: string;
        spanId?: string;
        parentSpanId?: string;
        name?: string;
        kind?: number;
        startTimeUnixNano?: string | number;
        endTimeUnixNano?: string | number;
      }[];
    }[];
  }[];
}

interface StoredTrace {
  readonly spans: StoredSpan[];
  /** When its last span arrived, by the store's clock. */
  lastArrivalMs: number;
}

export class TraceStore {
  /** Insertion order is arrival order: the first key is the oldest trace. */
  readonly #traces = new Map<string, StoredTrace>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes one export; returns how many spans it kept. Throws on a body that is not OTLP/JSON. */
  add(body: unknown): number {
    if (typeof body !== 'object' || body === null) throw new Error('not an OTLP/JSON export');
    let kept = 0;
    for (const resourceSpans of (body as OtlpExport).resourceSpans ?? []) {
      const attributes = new Map(
        (resourceSpans.resource?.attributes ?? []).map(({ key, value }) => [
          key,
          value?.stringValue ?? '',
        ]),
      );
      const service = attributes.get('service.name') ?? '';
      const instance = attributes.get('service.instance.id') ?? service;
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          if (!span.traceId || !span.spanId) continue;
          const start = nanosToMs(span.startTimeUnixNano);
          const end = nanosToMs(span.endTimeUnixNano);
          if (start === undefined || end === undefined) continue;
          const trace = this.#trace(span.traceId);
          if (trace.spans.length >= MAX_SPANS_PER_TRACE) continue;
          trace.lastArrivalMs = this.now();
          trace.spans.push({
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name ?? '',
            kind: span.kind ?? 0,
            service,
            instance,
            startMs: start,
            durationMs: end - start,
          });
          kept += 1;
        }
      }
    }
    return kept;
  }

  /**
   * The newest orders first: traces with orders' PlaceOrder server span that have received no
   * span for `settledForMs`. Each process sends its spans in batches on its own timer, so a
   * trace is whole only once every process it crossed has sent one batch since: listed sooner,
   * an order would show half its tree (the replicas' applies still on their way).
   */
  recentOrders(limit: number, settledForMs = 0): OrderTraceView[] {
    const orders: OrderTraceView[] = [];
    const settledBefore = this.now() - settledForMs;
    for (const [traceId, { spans, lastArrivalMs }] of this.#traces) {
      if (lastArrivalMs > settledBefore) continue;
      const root = spans.find(isPlaceOrder);
      if (!root) continue;
      orders.push({
        traceId,
        startedAtMs: root.startMs,
        durationMs: root.durationMs,
        spans: spans.length,
      });
    }
    return orders.sort((a, b) => b.startedAtMs - a.startedAtMs).slice(0, limit);
  }

  /** The span tree of a trace, roots first by start time; undefined for a trace not held. */
  tree(traceId: string): TraceSpanNode[] | undefined {
    const spans = this.#traces.get(traceId)?.spans;
    if (!spans) return undefined;
    const ids = new Set(spans.map((span) => span.spanId));
    const children = new Map<string, StoredSpan[]>();
    for (const span of spans) {
      // A span whose parent was not received (or was dropped) is shown as a root.
      const parent = ids.has(span.parentSpanId) ? span.parentSpanId : '';
      children.set(parent, [...(children.get(parent) ?? []), span]);
    }
    const build = (parent: string, depth: number): TraceSpanNode[] =>
      (children.get(parent) ?? [])
        .sort((a, b) => a.startMs - b.startMs)
        .map((span) => ({
          name: span.name,
          service: span.service,
          instance: span.instance,
          startMs: span.startMs,
          durationMs: span.durationMs,
          // Depth is bounded by the number of spans; a cycle cannot form from unique ids.
          children: depth < MAX_SPANS_PER_TRACE ? build(span.spanId, depth + 1) : [],
        }));
    return build('', 0);
  }

  #trace(traceId: string): StoredTrace {
    let trace = this.#traces.get(traceId);
    if (!trace) {
      trace = { spans: [], lastArrivalMs: 0 };
      this.#traces.set(traceId, trace);
      if (this.#traces.size > MAX_TRACES) {
        const oldest = this.#traces.keys().next().value;
        if (oldest !== undefined) this.#traces.delete(oldest);
      }
    }
    return trace;
  }
}

function isPlaceOrder(span: StoredSpan): boolean {
  return (
    span.service === 'orders' &&
    span.kind === SPAN_KIND_SERVER &&
    span.name.endsWith('OrderService/PlaceOrder')
  );
}

/** OTLP/JSON writes 64-bit nanoseconds as strings; milliseconds keep microseconds as decimals. */
function nanosToMs(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return Number(BigInt(value) / 1_000n) / 1_000;
  } catch {
    return undefined;
  }
}
