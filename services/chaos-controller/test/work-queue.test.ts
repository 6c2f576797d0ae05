// The reconcile queue's promises, as client-go's workqueue makes them: a key is never worked on
// twice at once, a change that arrives meanwhile runs it once more afterwards, and a failure
// retries after a back-off.
import { describe, expect, it, vi } from 'vitest';
import { WorkQueue } from '../src/work-queue.js';

describe('the work queue', () => {
  it('never runs one key twice at once, and runs it again for a change that came meanwhile', async () => {
    let active = 0;
    let most = 0;
    const runs: string[] = [];
    let release: () => void = () => undefined;
    const queue = new WorkQueue(
      async (key) => {
        active += 1;
        most = Math.max(most, active);
        runs.push(key);
        if (runs.length === 1) await new Promise<void>((resolve) => (release = resolve));
        active -= 1;
      },
      () => undefined,
    );
    queue.add('a');
    await vi.waitFor(() => expect(runs).toEqual(['a']));
    queue.add('a');
    queue.add('a');
    release();
    await vi.waitFor(() => expect(queue.idle).toBe(true));
    expect(runs).toEqual(['a', 'a']);
    expect(most).toBe(1);
  });

  it('retries a failed key after a back-off that doubles, and stops retrying when stopped', async () => {
    const times: number[] = [];
    const errors: unknown[] = [];
    const queue = new WorkQueue(
      () => {
        times.push(performance.now());
        return Promise.reject(new Error('API down'));
      },
      (_, error) => errors.push(error),
      { initialBackoffMs: 50 },
    );
    queue.add('a');
    await vi.waitFor(() => expect(times.length).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    queue.stop();
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(90);
    expect(String(errors[0])).toContain('API down');
    const count = times.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(times.length).toBe(count);
  });
});
