// Preflight against a mesh whose process mechanism can do only some kinds: a step of another kind
// is refused before anything is applied, with the mechanism that can do it instead.
import { describe, expect, it } from 'vitest';
import {
  planExperiment,
  preflight,
  PreflightError,
  validateExperiment,
  type MeshAccess,
  type ProcessFaultKind,
} from '../src/index.js';

function plan(kind: 'kill' | 'pause') {
  return planExperiment(
    validateExperiment(
      {
        apiVersion: 'catmesh.dev/v1alpha1',
        kind: 'ChaosExperiment',
        metadata: { name: `process-${kind}` },
        spec: {
          description: 'One inventory process killed or paused while stock is read.',
          workload: { stock: { ratePerSecond: 1 } },
          steadyState: {
            before: '1s',
            after: '1s',
            hypothesis: [{ sli: 'stock.successRatio', atLeast: 0.5 }],
          },
          steps: [
            {
              name: `${kind}-inventory`,
              mechanism: 'process',
              fault: { kind },
              target: { service: 'inventory' },
              duration: '1s',
            },
          ],
        },
      },
      'test',
    ),
  );
}

function mesh(kinds: readonly ProcessFaultKind[]): MeshAccess {
  const unused = (): never => {
    throw new Error('preflight applies nothing');
  };
  return {
    description: 'the test mesh',
    instances: () =>
      Promise.resolve([{ name: 'inventory-0', service: 'inventory', address: '127.0.0.1:1' }]),
    processFaults: { kinds, apply: unused, list: unused, revert: unused, revertAll: unused },
  };
}

describe('preflight of process steps', () => {
  it('refuses a kind the mesh cannot do to a process, naming the mechanism that can', async () => {
    const refused = preflight(plan('pause'), mesh(['kill']));
    await expect(refused).rejects.toBeInstanceOf(PreflightError);
    await expect(refused).rejects.toThrow(
      'spec.steps[0] (pause-inventory): the process mechanism cannot pause on the test mesh (it can: kill); use mechanism: app',
    );
  });

  it('refuses a kill, with no alternative to name, where only pause is possible', async () => {
    await expect(preflight(plan('kill'), mesh(['pause']))).rejects.toThrow(
      /^spec\.steps\[0\] \(kill-inventory\): the process mechanism cannot kill on the test mesh \(it can: pause\)$/,
    );
  });

  it('accepts the kinds the mesh can do', async () => {
    const checked = await preflight(plan('pause'), mesh(['kill', 'pause']));
    expect(checked.steps[0]?.placements).toMatchObject([
      { mechanism: 'process', request: { kind: 'pause', instance: 'inventory-0' } },
    ]);
  });
});
