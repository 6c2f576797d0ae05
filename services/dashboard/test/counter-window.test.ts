import { describe, expect, it } from 'vitest';
import { CounterWindow, histogramQuantile } from '../src/counter-window.js';
import { LoadgenSlis } from '../src/instance-metrics.js';

const scrape = (atMs: number, values: Record<string, number>) => ({
  atMs,
  values: new Map(Object.entries(values)),
});

describe('a counter window', () => {
  it('measures the increase over the window, from the last scrape at or before its start', () => {
    const window = new CounterWindow(10_000);
    window.add(scrape(0, { calls: 0 }));
    window.add(scrape(5_000, { calls: 50 }));
    window.add(scrape(12_000, { calls: 120 }));
    window.add(scrape(16_000, { calls: 200 }));
    // Window [6000, 16000]: the baseline is the scrape at 5000.
    expect(window.delta()).toEqual({ seconds: 11, increases: new Map([['calls', 150]]) });
  });

  it('starts again at a counter reset (a restarted process) rather than going negative', () => {
    const window = new CounterWindow(60_000);
    window.add(scrape(0, { calls: 500 }));
    window.add(scrape(1_000, { calls: 510 }));
    window.add(scrape(2_000, { calls: 3 }));
    expect(window.delta()).toBeUndefined();
    window.add(scrape(3_000, { calls: 13 }));
    expect(window.delta()).toEqual({ seconds: 1, increases: new Map([['calls', 10]]) });
  });
});

describe('histogram quantiles', () => {
  const buckets = new Map([
    [0.01, 10],
    [0.1, 90],
    [1, 100],
    [Infinity, 100],
  ]);

  it('interpolates inside the bucket the rank falls in, as histogram_quantile does', () => {
    // Rank 50 of 100: 40 of the 80 observations of (0.01, 0.1].
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.055, 10);
    // Rank 99: 9 of the 10 observations of (0.1, 1].
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.91, 10);
  });

  it('says nothing without observations, and the highest finite bound for the +Inf bucket', () => {
    expect(histogramQuantile(0.5, new Map([[Infinity, 0]]))).toBeUndefined();
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [0.1, 1],
          [Infinity, 10],
        ]),
      ),
    ).toBe(0.1);
  });
});

describe("loadgen's SLIs", () => {
  const page = (ok: number, rejected: number, unavailable: number, fast: number, slow: number) =>
    [
      `loadgen_requests_total{operation="place_order",outcome="ok"} ${ok}`,
      `loadgen_requests_total{operation="place_order",outcome="rejected"} ${rejected}`,
      `loadgen_requests_total{operation="place_order",outcome="unavailable"} ${unavailable}`,
      `loadgen_requests_total{operation="read_cat_state",outcome="ok"} 999`,
      `loadgen_request_duration_seconds_bucket{le="0.01",operation="place_order"} ${fast}`,
      `loadgen_request_duration_seconds_bucket{le="0.5",operation="place_order"} ${fast + slow}`,
      `loadgen_request_duration_seconds_bucket{le="+Inf",operation="place_order"} ${fast + slow}`,
      `loadgen_request_duration_seconds_bucket{le="0.01",operation="read_cat_state"} 999`,
    ].join('\n');
  const source = { source: 'loadgen /metrics', up: true };

  it('count a rejected order (out of stock) as answered, and take quantiles over the window only', () => {
    const slis = new LoadgenSlis(60_000);
    slis.add(0, page(1000, 0, 0, 1000, 0));
    slis.add(30_000, page(1070, 10, 20, 1000, 100));
    const view = slis.view(source);
    expect(view).toMatchObject({ orders: 100, orderSuccessRatio: 0.8, windowSeconds: 60 });
    // Every order of the window took between 10 and 500 ms: the 1000 fast ones came before it.
    expect(view.placeOrderP50Ms).toBeGreaterThan(10);
    expect(view.placeOrderP99Ms).toBeLessThanOrEqual(500);
  });

  it('has no ratio or quantiles before two scrapes', () => {
    const slis = new LoadgenSlis(60_000);
    slis.add(0, page(5, 0, 0, 5, 0));
    expect(slis.view(source)).toEqual({ source, windowSeconds: 60, orders: 0 });
  });
});
