// The experiments panel's source, over real run directories: a run going on, one whose runner
// died before its report, one that ended with its report (a real one, from a kill-the-leader
// run), and files that are not what they should be.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planExperiment, RunProgressJournal, validateExperiment } from '@catmesh/chaos';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExperimentRuns } from '../src/experiment-runs.js';

const REPORT = new URL('./fixtures/kill-the-leader-report.json', import.meta.url);
const RUNNING_PID = 4242;
const DEAD_PID = 4343;
const isAlive = (pid: number) => pid === RUNNING_PID;

const plan = planExperiment(
  validateExperiment(
    {
      apiVersion: 'catmesh.dev/v1alpha1',
      kind: 'ChaosExperiment',
      metadata: { name: 'isolate-the-leader' },
      spec: {
        description: 'The leader is partitioned from its followers.',
        workload: { catState: { ratePerSecond: 1 } },
        steadyState: {
          before: '5s',
          after: '5s',
          hypothesis: [{ sli: 'catState.successRatio', atLeast: 0.5 }],
        },
        steps: [
          {
            name: 'isolate',
            mechanism: 'app',
            fault: { kind: 'partition' },
            target: { service: 'cat-feeder', role: 'leader' },
            peers: { service: 'cat-feeder' },
            duration: '10s',
          },
        ],
      },
    },
    'test',
  ),
);

describe('the runs of catmesh chaos run, as the experiments panel lists them', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'experiment-runs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A run directory holding the progress of `plan` as of its fault window, by process `pid`. */
  async function progressRun(name: string, pid: number, startedAt: number): Promise<void> {
    await mkdir(join(dir, name));
    const journal = new RunProgressJournal(join(dir, name), plan, () => startedAt);
    journal.record({ type: 'phase', phase: 'during', at: 5_000 });
    await journal.flush();
    const file = join(dir, name, 'progress.json');
    const progress = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...progress, pid }));
  }

  async function reportRun(name: string, text?: string): Promise<void> {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'report.json'), text ?? (await readFile(REPORT, 'utf8')));
    await writeFile(join(dir, name, 'report.html'), '<!doctype html><title>report</title>');
  }

  it('lists nothing, and is up, before the first run made the directory', async () => {
    const runs = new ExperimentRuns(join(dir, 'not-yet'), isAlive);
    expect(await runs.read()).toEqual({ running: [], past: [] });
  });

  it("shows a running run's steps, an abandoned one, and an ended one with its verdicts", async () => {
    await progressRun('isolate-running', RUNNING_PID, Date.parse('2026-12-07T23:30:00Z'));
    await progressRun('isolate-abandoned', DEAD_PID, Date.parse('2026-12-07T23:20:00Z'));
    await reportRun('kill-the-leader-done');
    const { running, past } = await new ExperimentRuns(dir, isAlive).read();
    expect(running).toHaveLength(1);
    expect(running[0]).toMatchObject({
      run: 'isolate-running',
      experiment: 'isolate-the-leader',
      phase: 'during',
      faultWindowAtMs: Date.parse('2026-12-07T23:30:00Z'),
      endsAtMs: Date.parse('2026-12-07T23:30:15Z'),
      steps: [
        { name: 'isolate', state: 'pending', startsAtMs: Date.parse('2026-12-07T23:30:00Z') },
      ],
    });
    // Newest first: the abandoned run started at 23:20, the report's at 23:16.
    expect(past.map((run) => [run.kind, run.run])).toEqual([
      ['abandoned', 'isolate-abandoned'],
      ['report', 'kill-the-leader-done'],
    ]);
    expect(past[1]).toMatchObject({
      experiment: 'kill-the-leader',
      hypothesis: 'violated',
      linearizability: 'ok',
      invariantsHold: true,
      leaderChanges: 1,
      reportPath: '/reports/kill-the-leader-done/report.html',
    });
    expect(past[0]).toMatchObject({ pid: DEAD_PID, phase: 'during' });
  });

  it('reads a report written half again later, and names what is wrong with a whole bad one', async () => {
    const whole = await readFile(REPORT, 'utf8');
    await reportRun('being-written', whole.slice(0, 100));
    await reportRun(
      'other-version',
      JSON.stringify({ ...(JSON.parse(whole) as object), apiVersion: 'v9' }),
    );
    const runs = new ExperimentRuns(dir, isAlive);
    const first = await runs.read();
    expect(first.past.map((run) => [run.kind, run.run])).toEqual([['unreadable', 'other-version']]);
    const unreadable = first.past[0];
    expect(unreadable?.kind === 'unreadable' && unreadable.reason).toMatch(/\/apiVersion/);
    await writeFile(join(dir, 'being-written', 'report.json'), whole);
    expect((await runs.read()).past.map((run) => run.run).sort()).toEqual([
      'being-written',
      'other-version',
    ]);
  });

  it("serves only the report files of runs it listed as ended, never a path of the page's own", async () => {
    await reportRun('kill-the-leader-done');
    await progressRun('isolate-running', RUNNING_PID, Date.now());
    await writeFile(join(dir, 'secret.txt'), 'not for the page');
    const runs = new ExperimentRuns(dir, isAlive);
    expect(await runs.file('kill-the-leader-done', 'report.html')).toBeUndefined();
    await runs.read();
    expect(await runs.file('kill-the-leader-done', 'report.html')).toMatchObject({
      type: 'text/html; charset=utf-8',
    });
    expect(await runs.file('kill-the-leader-done', 'report.json')).toMatchObject({
      type: 'application/json',
    });
    expect(await runs.file('kill-the-leader-done', 'history.json')).toBeUndefined();
    expect(await runs.file('kill-the-leader-done', '../secret.txt')).toBeUndefined();
    expect(await runs.file('..', 'secret.txt')).toBeUndefined();
    expect(await runs.file('isolate-running', 'progress.json')).toBeUndefined();
  });
});
