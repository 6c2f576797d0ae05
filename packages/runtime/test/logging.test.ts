import { trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { installTestTracing } from '@catmesh/testkit';
import { captureLogs } from './support/log-capture.js';

const tracing = installTestTracing();
afterAll(() => tracing.shutdown());

describe('createLogger', () => {
  it('writes JSON lines with service, instance, level word and time', () => {
    const logs = captureLogs('info');
    logs.logger.info({ sku: 'kibble' }, 'stock read');
    const [line] = logs.lines();
    expect(line).toMatchObject({
      level: 'info',
      service: 'test',
      instance: 'test-1',
      sku: 'kibble',
      msg: 'stock read',
    });
    expect(Date.parse(String(line!.time))).not.toBeNaN();
    expect(line).not.toHaveProperty('trace_id');
  });

  it('adds trace_id and span_id of the active span', () => {
    const logs = captureLogs('info');
    trace.getTracer('test').startActiveSpan('work', (active) => {
      logs.logger.info('inside');
      active.end();
    });
    const [line] = logs.lines();
    const recorded = tracing
      .spans()
      .find((s) => s.name === 'work' && s.spanContext().spanId === line!.span_id);
    expect(recorded).toBeDefined();
    expect(line!.trace_id).toBe(recorded!.spanContext().traceId);
    expect(line!.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('drops lines below the configured level', () => {
    const logs = captureLogs('warn');
    logs.logger.info('quiet');
    logs.logger.warn('loud');
    expect(logs.lines().map((line) => line.msg)).toEqual(['loud']);
  });
});
