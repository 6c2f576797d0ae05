// The status transitions of one run, without a server: what `kubectl get` and `kubectl describe`
// show at each point. Conditions follow the API conventions (metav1.Condition): a condition's
// lastTransitionTime moves only when its status changes, and each carries observedGeneration.
// https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#typical-status-properties
import {
  planExperiment,
  type ChaosExperiment,
  type MeshInstance,
  type Preflight,
} from '@catmesh/chaos';
import { describe, expect, it } from 'vitest';
import { setCondition } from '../src/conditions.js';
import { acceptedStatus, failedStatus, statusAfterEvent, summaryOf } from '../src/run-status.js';

const experiment: ChaosExperiment = {
  apiVersion: 'catmesh.dev/v1alpha1',
  kind: 'ChaosExperiment',
  metadata: { name: 'slow' },
  spec: {
    description: 'inventory is slow',
    workload: { orders: { ratePerSecond: 1 } },
    steadyState: { before: '1s', after: '1s', hypothesis: [] },
    steps: [
      {
        name: 'slow-inventory',
        mechanism: 'app',
        fault: { kind: 'latency', delay: '200ms' },
        target: { service: 'cat-feeder' },
        duration: '2s',
      },
    ],
  },
};
const replica = (n: number): MeshInstance => ({
  name: `cat-feeder-${n}`,
  service: 'cat-feeder',
  address: `10.0.0.${n}:7101`,
  adminAddress: `10.0.0.${n}:8101`,
});
const replicas = [replica(0), replica(1), replica(2)];
const checked = {
  instances: replicas,
  group: { leader: { instance: 'cat-feeder-1' } },
  steps: [{ targets: replicas, placements: [] }],
} as unknown as Preflight;
const t = (second: number) => ({
  generation: 3,
  now: new Date(Date.UTC(2026, 11, 7, 10, 0, second)),
});

describe('the status of a run', () => {
  const plan = planExperiment(experiment);
  const accepted = acceptedStatus(plan, checked, 'slow-1', t(0));

  it('is accepted with every target Pending, its role from the Raft group, and conditions at the generation', () => {
    expect(accepted).toMatchObject({
      phase: 'Running',
      runId: 'slow-1',
      fault: 'latency',
      targetSummary: '0/3 injected',
      observedGeneration: 3,
    });
    expect(
      accepted.targets?.map((target) => [target.pod, target.ip, target.role, target.state]),
    ).toEqual([
      ['cat-feeder-0', '10.0.0.0', 'follower', 'Pending'],
      ['cat-feeder-1', '10.0.0.1', 'leader', 'Pending'],
      ['cat-feeder-2', '10.0.0.2', 'follower', 'Pending'],
    ]);
    expect(accepted.conditions?.map((c) => [c.type, c.status, c.observedGeneration])).toEqual([
      ['Accepted', 'True', 3],
      ['Injected', 'False', 3],
      ['Complete', 'False', 3],
    ]);
  });

  it('records the pods a step applied to, then their recovery, moving Injected only when it changes', () => {
    const applied = statusAfterEvent(
      accepted,
      {
        type: 'applied',
        step: 'slow-inventory',
        description: 'latency 200ms',
        targets: ['cat-feeder-0', 'cat-feeder-2'],
        expiresAt: Date.UTC(2026, 11, 7, 10, 0, 4),
        at: 1000,
      },
      replicas,
      t(1),
    );
    expect(applied.targetSummary).toBe('2/2 injected');
    expect(applied.targets?.map((target) => [target.pod, target.state, target.expiresAt])).toEqual([
      ['cat-feeder-0', 'Injected', '2026-12-07T10:00:04.000Z'],
      ['cat-feeder-2', 'Injected', '2026-12-07T10:00:04.000Z'],
    ]);
    const injected = applied.conditions?.find((c) => c.type === 'Injected');
    expect(injected).toMatchObject({
      status: 'True',
      lastTransitionTime: '2026-12-07T10:00:01.000Z',
    });
    const after = statusAfterEvent(
      applied,
      { type: 'phase', phase: 'after', at: 3000 },
      replicas,
      t(3),
    );
    expect(after.phase).toBe('Recovering');
    const reverted = statusAfterEvent(
      after,
      { type: 'reverted', step: 'slow-inventory', at: 3000 },
      replicas,
      t(3),
    );
    expect(reverted.targetSummary).toBe('2/2 recovered');
    expect(reverted.conditions?.find((c) => c.type === 'Injected')).toMatchObject({
      status: 'False',
      reason: 'Recovered',
      lastTransitionTime: '2026-12-07T10:00:03.000Z',
    });
  });

  it('fails refused before anything was touched: Accepted False with the reason, nothing injected', () => {
    const failed = failedStatus({}, 'PreflightFailed', 'no pod of service web', t(5));
    expect(failed.phase).toBe('Failed');
    expect(failed.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Accepted', 'False', 'PreflightFailed'],
      ['Injected', 'False', 'NotInjected'],
      ['Complete', 'True', 'PreflightFailed'],
    ]);
  });

  it('fails an interrupted run with its injected targets counted as recovered', () => {
    const applied = statusAfterEvent(
      accepted,
      {
        type: 'applied',
        step: 'slow-inventory',
        description: 'd',
        targets: ['cat-feeder-1'],
        expiresAt: 0,
        at: 0,
      },
      replicas,
      t(1),
    );
    const failed = failedStatus(applied, 'Interrupted', 'the controller stopped', t(9));
    expect(failed.targets?.map((target) => target.state)).toEqual(['Recovered']);
    expect(failed.conditions?.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True' });
    expect(failed.conditions?.find((c) => c.type === 'Complete')).toMatchObject({
      reason: 'Interrupted',
    });
  });
});

describe('conditions and the targets column', () => {
  it('keeps lastTransitionTime while the status stays, and moves it when the status changes', () => {
    const first = setCondition(
      [],
      { type: 'Injected', status: 'True', reason: 'A', message: 'a' },
      1,
      new Date(0),
    );
    const same = setCondition(
      first,
      { type: 'Injected', status: 'True', reason: 'B', message: 'b' },
      2,
      new Date(5000),
    );
    expect(same).toEqual([
      {
        type: 'Injected',
        status: 'True',
        reason: 'B',
        message: 'b',
        lastTransitionTime: new Date(0).toISOString(),
        observedGeneration: 2,
      },
    ]);
    const flipped = setCondition(
      same,
      { type: 'Injected', status: 'False', reason: 'C', message: 'c' },
      2,
      new Date(9000),
    );
    expect(flipped[0]?.lastTransitionTime).toBe(new Date(9000).toISOString());
  });

  it('counts failed and gone targets apart', () => {
    const record = (state: 'Injected' | 'Recovered' | 'Failed' | 'Gone') => ({
      step: 's',
      pod: 'p',
      state,
    });
    expect(summaryOf([record('Recovered'), record('Failed'), record('Gone')])).toBe(
      '1/3 recovered, 1 failed, 1 gone',
    );
    expect(summaryOf([])).toBe('0/0 injected');
  });
});
