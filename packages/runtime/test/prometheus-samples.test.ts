import { describe, expect, it } from 'vitest';
import { samplesOf } from '../src/index.js';

// The text exposition format 0.0.4: https://prometheus.io/docs/instrumenting/exposition_formats/
describe('samplesOf', () => {
  const page = [
    '# HELP grpc_server_handled_total Calls answered.',
    '# TYPE grpc_server_handled_total counter',
    'grpc_server_handled_total{grpc_method="Put",grpc_code="OK"} 12',
    'grpc_server_handled_total{grpc_method="Put",grpc_code="UNAVAILABLE"} 3 1700000000000',
    'grpc_server_handled_total_other{grpc_code="OK"} 99',
    'process_cpu_seconds_total 1.5',
    'up{note="a \\"quoted\\" line\\nand a second"} 1',
  ].join('\n');

  it('reads the samples of one metric with their labels, timestamps and comments left out', () => {
    expect(samplesOf(page, 'grpc_server_handled_total')).toEqual([
      { labels: { grpc_method: 'Put', grpc_code: 'OK' }, value: 12 },
      { labels: { grpc_method: 'Put', grpc_code: 'UNAVAILABLE' }, value: 3 },
    ]);
    expect(samplesOf(page, 'process_cpu_seconds_total')).toEqual([{ labels: {}, value: 1.5 }]);
  });

  it('unescapes label values, and finds nothing for a metric that is not there', () => {
    expect(samplesOf(page, 'up')).toEqual([
      { labels: { note: 'a "quoted" line\nand a second' }, value: 1 },
    ]);
    expect(samplesOf(page, 'missing')).toEqual([]);
  });
});
