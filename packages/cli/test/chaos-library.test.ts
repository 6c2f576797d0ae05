// Every experiment of the library, in a short form, against a real `catmesh up` mesh: its report
// must show the effect its text promises. The assertions read the report's figures, never logs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChaosReport, OperationReport } from '@catmesh/chaos';
import { readLibrary } from '@catmesh/chaos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaosMesh, type ChaosMesh } from './support/chaos-mesh.js';
import { requireBuiltCli } from './support/local-mesh.js';

const LIBRARY = fileURLToPath(new URL('../../../k8s/experiments/', import.meta.url));

/** The short form: every duration of the timeline times this (fault sizes are never scaled). */
const TIME_SCALE = 0.3;

function op(report: ChaosReport, name: string): OperationReport {
  const found = report.operations.find((o) => o.name === name);
  if (!found) throw new Error(`the report has no ${name} operation`);
  return found;
}

function step(report: ChaosReport, name: string) {
  const found = report.steps.find((s) => s.name === name);
  expect(found, `step ${name}`).toBeDefined();
  expect(found!.error, `step ${name} applied`).toBeUndefined();
  return found!;
}

const shopHolds = (report: ChaosReport): void => {
  for (const check of report.shop!.invariants)
    expect(check, `${check.name}: ${check.detail}`).toMatchObject({ holds: true });
};

/** What each experiment's text promises, checked on its report. */
const promises: Record<string, { timeScale?: number; check: (report: ChaosReport) => void }> = {
  'network-is-reliable': {
    check(report) {
      const orders = op(report, 'orders');
      expect(step(report, 'drop-reserves').injections).toBeGreaterThan(0);
      expect(orders.windows.during.successRatio!).toBeLessThan(orders.windows.before.successRatio!);
      // A lost call says nothing: the caller finds out at its own deadline.
      expect(orders.errors.map((e) => e.error).join('\n')).toMatch(/DEADLINE_EXCEEDED/);
      shopHolds(report);
    },
  },
  'latency-is-zero': {
    check(report) {
      const orders = op(report, 'orders');
      expect(orders.windows.during.p50Ms!).toBeGreaterThan(200);
      // Within the run, not against a fixed figure: a loaded machine is slower before too.
      expect(orders.windows.during.p50Ms!).toBeGreaterThan(orders.windows.before.p50Ms!);
      expect(orders.windows.during.successRatio!).toBeGreaterThanOrEqual(0.95);
    },
  },
  'bandwidth-is-infinite': {
    check(report) {
      const orders = op(report, 'orders');
      expect(step(report, 'thin-link').injections).toBeGreaterThan(0);
      expect(orders.windows.during.p99Ms!).toBeGreaterThan(3 * orders.windows.before.p99Ms!);
    },
  },
  'network-is-secure': {
    check(report) {
      // loadgen's reads were refused; the experiment's own reads all passed.
      expect(step(report, 'refuse-loadgen').injections).toBeGreaterThan(0);
      expect(op(report, 'catState').windows.during.successRatio).toBe(1);
    },
  },
  'topology-doesnt-change': {
    check(report) {
      const orders = op(report, 'orders');
      expect(orders.windows.during.failed).toBeGreaterThan(0);
      expect(orders.timeToFirstFailureMs).not.toBeNull();
      expect(orders.timeToRecoveryMs).not.toBeNull();
      shopHolds(report);
    },
  },
  'there-is-one-administrator': {
    check(report) {
      const orders = op(report, 'orders');
      expect(orders.windows.during.failed).toBeGreaterThan(0);
      expect(orders.timeToRecoveryMs).not.toBeNull();
      shopHolds(report);
    },
  },
  'transport-cost-is-zero': {
    check(report) {
      const register = op(report, 'register');
      // Two delayed messages per commit: the median rises by well over one delay.
      expect(register.windows.during.p50Ms!).toBeGreaterThanOrEqual(
        register.windows.before.p50Ms! + 10,
      );
      expect(report.linearizability?.verdict).toBe('ok');
    },
  },
  'network-is-homogeneous': {
    check(report) {
      const register = op(report, 'register');
      expect(register.windows.during.p99Ms!).toBeGreaterThan(300);
      expect(register.windows.during.p50Ms!).toBeLessThan(300);
    },
  },
  'kill-the-leader': {
    check(report) {
      const killed = step(report, 'kill-leader').targets[0];
      expect(report.raft!.leaderChanges).toBeGreaterThanOrEqual(1);
      expect(report.raft!.elections[0]!.from).toBe(killed);
      expect(report.raft!.elections[0]!.to).not.toBe(killed);
      expect(report.linearizability?.verdict).toBe('ok');
      shopHolds(report);
    },
  },
  'isolate-the-leader': {
    check(report) {
      const isolated = step(report, 'isolate-leader').targets[0]!;
      const raft = report.raft!;
      expect(raft.leaderChanges).toBeGreaterThanOrEqual(1);
      const successor = raft.elections[0]!.to;
      expect(successor).not.toBe(isolated);
      // The minority commits less than the majority while cut off.
      expect(raft.commitProgress[isolated]!.during!).toBeLessThan(
        raft.commitProgress[successor]!.during!,
      );
      expect(report.linearizability?.verdict).toBe('ok');
    },
  },
  'slow-or-dead': {
    check(report) {
      const slow = step(report, 'slow-leader');
      const silent = step(report, 'silent-leader');
      const during = (from: number, to: number) =>
        report.raft!.elections.filter((e) => e.electedAt >= from && e.electedAt <= to);
      expect(during(slow.appliedAt!, slow.revertedAt!)).toEqual([]);
      expect(during(silent.appliedAt!, report.windows.after.end).length).toBeGreaterThanOrEqual(1);
      expect(report.linearizability?.verdict).toBe('ok');
    },
  },
  'stop-the-world': {
    check(report) {
      expect(report.raft!.leaderChanges).toBeGreaterThanOrEqual(1);
      expect(report.linearizability).toMatchObject({ consistency: 'lease', verdict: 'ok' });
    },
  },
  'cap-stale-reads': {
    timeScale: 0.5,
    check(report) {
      expect(report.linearizability).toMatchObject({ consistency: 'stale', verdict: 'illegal' });
      expect(report.linearizability!.explanationFile).toBe('linearizability.html');
    },
  },
  'cap-linearizable-reads': {
    timeScale: 0.5,
    check(report) {
      const register = op(report, 'register');
      expect(report.linearizability).toMatchObject({ consistency: 'linearizable', verdict: 'ok' });
      expect(register.windows.during.successRatio!).toBeLessThan(
        register.windows.before.successRatio!,
      );
    },
  },
};

/**
 * Experiments that cut the network outside the processes (networkpolicy, netfilter): `catmesh
 * up` has no such network, so test/chart/chart-rehearsal.test.ts runs them and checks their
 * promises in the chart rehearsal.
 */
const RUN_IN_THE_CHART_REHEARSAL = ['a-networkpolicy-is-not-a-partition'];

let mesh: ChaosMesh;
beforeAll(async () => {
  requireBuiltCli();
  mesh = await startChaosMesh('--no-dashboard');
}, 120_000);
afterAll(async () => {
  await mesh?.stop();
});

describe('the experiment library', async () => {
  const entries = await readLibrary(LIBRARY);

  it('has a promise checked here for every experiment, and nothing else', () => {
    expect(entries.map((e) => e.experiment.metadata.name).sort()).toEqual(
      [...Object.keys(promises), ...RUN_IN_THE_CHART_REHEARSAL].sort(),
    );
    const needsNetwork = entries
      .filter((e) =>
        e.experiment.spec.steps.some((s) => ['networkpolicy', 'netfilter'].includes(s.mechanism)),
      )
      .map((e) => e.experiment.metadata.name);
    expect(needsNetwork.sort()).toEqual([...RUN_IN_THE_CHART_REHEARSAL].sort());
  });

  for (const { file, experiment } of entries) {
    if (RUN_IN_THE_CHART_REHEARSAL.includes(experiment.metadata.name)) continue;
    const name = experiment.metadata.name;
    it(`${name}: the report shows what the experiment promises`, { timeout: 180_000 }, async () => {
      const promise = promises[name];
      if (!promise) throw new Error(`no promise is checked for ${name}`);
      await mesh.healthy();
      const { report, dir } = await mesh.run(file, promise.timeScale ?? TIME_SCALE);
      expect(report.run.interrupted).toBe(false);
      expect(existsSync(join(dir, 'report.html'))).toBe(true);
      promise.check(report);
    });
  }
});
