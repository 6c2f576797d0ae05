import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

const tracer = trace.getTracer('@catmesh/orders');

/**
 * Runs background work (recovery, the hunger timer) in a span of its own trace: no request
 * caused it, so it must not join whichever trace happens to be active.
 */
export function inNewTrace<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.INTERNAL, attributes, root: true },
    ROOT_CONTEXT,
    async (span) => {
      try {
        return await work();
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}
