import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** Spans recorded in memory, for asserting on the shape of a trace. */
export interface TestTracing {
  /** Every finished span so far. */
  spans(): ReadableSpan[];
  /** Waits until `predicate` holds over the finished spans (spans end asynchronously). */
  waitForSpans(
    predicate: (spans: ReadableSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReadableSpan[]>;
  reset(): void;
  shutdown(): Promise<void>;
}

/**
 * Registers a global tracer provider that records into memory, with the same
 * context manager and W3C propagator the runtime kit uses in production.
 */
export function installTestTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register({
    contextManager: new AsyncLocalStorageContextManager(),
    propagator: new W3CTraceContextPropagator(),
  });
  return {
    spans: () => exporter.getFinishedSpans(),
    waitForSpans: async (predicate, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const spans = exporter.getFinishedSpans();
        if (predicate(spans)) return spans;
        if (Date.now() > deadline) {
          const names = spans.map((s) => `${s.name} (${s.kind})`).join(', ');
          throw new Error(
            `spans did not reach the expected shape within ${timeoutMs} ms; have: ${names}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    reset: () => exporter.reset(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
