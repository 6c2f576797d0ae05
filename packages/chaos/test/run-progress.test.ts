// progress.json: a run's events folded into the document the dashboard reads, written whole at
// each event, and read back only when it is one.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  parseRunProgress,
  planExperiment,
  PROGRESS_FILE,
  RunProgressJournal,
  validateExperiment,
} from '../src/index.js';

const plan = planExperiment(
  validateExperiment(
    {
      apiVersion: 'catmesh.dev/v1alpha1',
      kind: 'ChaosExperiment',
      metadata: { name: 'slow-then-cut' },
      spec: {
        description: 'Inventory answers late, then orders is cut off from it.',
        workload: { orders: { ratePerSecond: 1 } },
        steadyState: {
          before: '10s',
          after: '20s',
          hypothesis: [{ sli: 'orders.successRatio', atLeast: 0.5 }],
        },
        steps: [
          {
            name: 'slow',
            mechanism: 'app',
            fault: { kind: 'latency', delay: '300ms' },
            target: { service: 'inventory' },
            duration: '30s',
          },
          {
            name: 'cut',
            mechanism: 'app',
            fault: { kind: 'partition' },
            target: { service: 'orders' },
            peers: { service: 'inventory' },
            startAfter: '40s',
            duration: '10s',
          },
        ],
      },
    },
    'test',
  ),
);

describe('the run progress journal', () => {
  let dir: string;
  let now: number;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-progress-'));
    now = 1_000_000;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const read = async () => parseRunProgress(await readFile(join(dir, PROGRESS_FILE), 'utf8'));

  it('starts with every step pending and the planned windows', async () => {
    const journal = new RunProgressJournal(dir, plan, () => now);
    await journal.flush();
    const progress = await read();
    expect(progress).toMatchObject({
      experiment: 'slow-then-cut',
      pid: process.pid,
      phase: 'starting',
      beforeMs: 10_000,
      faultWindowMs: 50_000,
      afterMs: 20_000,
    });
    expect(progress.steps.map((step) => [step.name, step.state, step.startMs])).toEqual([
      ['slow', 'pending', 0],
      ['cut', 'pending', 40_000],
    ]);
    expect(progress.steps[1]!.description).toContain('partition');
  });

  it('folds the events in: the fault window opens, a step is applied, reverted, or fails', async () => {
    const journal = new RunProgressJournal(dir, plan, () => now);
    journal.record({ type: 'phase', phase: 'before', at: 0 });
    now += 10_000;
    journal.record({ type: 'phase', phase: 'during', at: 10_000 });
    now += 5;
    journal.record({
      type: 'applied',
      step: 'slow',
      description: 'latency 300ms on inventory',
      targets: ['inventory'],
      expiresAt: now + 35_000,
      at: 10_005,
    });
    now += 30_000;
    journal.record({ type: 'reverted', step: 'slow', at: 40_005 });
    journal.record({
      type: 'step-failed',
      step: 'cut',
      error: 'inventory: UNAVAILABLE',
      at: 50_000,
    });
    await journal.flush();
    const progress = await read();
    expect(progress).toMatchObject({ phase: 'during', faultWindowAt: 1_010_000 });
    expect(progress.steps[0]).toMatchObject({
      state: 'reverted',
      description: 'latency 300ms on inventory',
      targets: ['inventory'],
      appliedAt: 1_010_005,
      revertedAt: 1_040_005,
    });
    expect(progress.steps[1]).toMatchObject({ state: 'failed', error: 'inventory: UNAVAILABLE' });
    // Written whole through a temporary file, which does not stay behind.
    expect(await readdir(dir)).toEqual([PROGRESS_FILE]);
  });

  it('writes the newest state last, however many events come at once', async () => {
    const journal = new RunProgressJournal(dir, plan, () => now);
    for (const phase of ['before', 'during', 'after', 'settle', 'check'] as const) {
      journal.record({ type: 'phase', phase, at: 0 });
    }
    await journal.flush();
    expect((await read()).phase).toBe('check');
  });

  it('refuses what is not a progress document, naming the problem', () => {
    expect(() => parseRunProgress('{"kind":"ChaosRunProgress"')).toThrow(SyntaxError);
    expect(() => parseRunProgress('{"kind":"ChaosReport"}')).toThrow(
      /not a run's progress: .*kind/,
    );
    const journal = new RunProgressJournal(dir, plan, () => now);
    const valid = journal.current();
    expect(parseRunProgress(JSON.stringify(valid))).toEqual(valid);
    expect(() => parseRunProgress(JSON.stringify({ ...valid, phase: 'exploded' }))).toThrow(
      /\/phase must be equal to one of the allowed values/,
    );
    expect(() =>
      parseRunProgress(JSON.stringify({ ...valid, steps: [{ ...valid.steps[0], state: 'x' }] })),
    ).toThrow(/\/steps\/0\/state/);
  });
});
