import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/service-config.js';

export interface LoggerConfig {
  readonly service: string;
  readonly instance: string;
  readonly level: LogLevel;
}

/**
 * JSON logs, one object per line: `service` and `instance` on every line, the level as a word,
 * an ISO time, and the `trace_id`/`span_id` of the span active when the line is written, so a
 * log line can be found from its trace in Jaeger and the other way round.
 * Writes synchronously to stdout unless given a destination, so nothing is lost at exit and
 * lines keep their order: pino's default stream writes asynchronously, and a write still in
 * flight at process.exit can land after the lines flushed at exit.
 */
export function createLogger(config: LoggerConfig, destination?: DestinationStream): Logger {
  const options = {
    level: config.level,
    base: { service: config.service, instance: config.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: activeSpanFields,
  };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

function activeSpanFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
