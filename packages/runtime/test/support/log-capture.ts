import type { DestinationStream } from 'pino';
import { createLogger, type Logger, type LogLevel } from '@catmesh/runtime';

/** A real pino logger writing JSON lines into memory, for assertions on what was logged. */
export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line so far, parsed. */
  lines(): Record<string, unknown>[];
}

export function captureLogs(level: LogLevel = 'debug'): CapturedLogs {
  const written: string[] = [];
  const destination: DestinationStream = { write: (line) => void written.push(line) };
  return {
    logger: createLogger({ service: 'test', instance: 'test-1', level }, destination),
    lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
