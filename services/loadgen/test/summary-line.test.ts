import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@catmesh/runtime';
import { SliRecorder } from '../src/sli-recorder.js';
import { percentile, summaryFields, summaryLine } from '../src/summary-line.js';

describe('summary line', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('says rate, answered share, percentiles and what was skipped, per operation', () => {
    const recorder = new SliRecorder(createMetricsRegistry());
    for (let i = 1; i <= 98; i++) recorder.record('place_order', 'ok', i / 1000);
    recorder.record('place_order', 'rejected', 0.099);
    recorder.record('place_order', 'unavailable', 0.5);
    recorder.skipped('place_order');
    for (let i = 0; i < 50; i++) recorder.record('read_cat_state', 'ok', 0.002);

    const window = recorder.takeWindow();
    expect(summaryLine(window, 10)).toBe(
      'orders 10.0/s ok 99.0% (rejected 1.0%) p50 50ms p99 99ms skipped 1 | cat.state reads 5.0/s ok 100.0% p50 2.0ms p99 2.0ms',
    );
    expect(summaryFields(window, 10)).toMatchObject({
      place_order: { rate: 10, calls: 100, ok: 98, rejected: 1, skipped: 1, p99_ms: 99 },
    });
    // The next window starts empty.
    expect(summaryLine(recorder.takeWindow(), 10)).toBe('no calls');
  });
});
