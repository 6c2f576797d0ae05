// The experiment library applies to a cluster as it is: the real kubectl applies k8s/experiments/
// to the fake API server serving the chart's CRD, and `kubectl get` shows the CRD's columns.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  requires,
  startFakeApiServer,
  type CustomResourceDefinition,
  type FakeApiServer,
} from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPERIMENT_GROUP,
  EXPERIMENT_KIND,
  EXPERIMENT_PLURAL,
  experimentCrd,
  readLibrary,
  type ChaosExperiment,
} from '../src/index.js';

const KUBECTL = fileURLToPath(new URL('../../../.tools/bin/kubectl', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../../../k8s/experiments/', import.meta.url));
const library = (await readLibrary(LIBRARY)).map((entry) => entry.experiment);

let server: FakeApiServer;
let kubeconfig: string;

beforeAll(async () => {
  server = await startFakeApiServer({
    crds: [experimentCrd() as unknown as CustomResourceDefinition],
  });
  kubeconfig = await server.kubeconfig('admin');
});

afterAll(async () => {
  await server?.close();
});

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(KUBECTL, ['--kubeconfig', kubeconfig, ...args]);
  return stdout;
}

function nameOf(experiment: ChaosExperiment): string {
  return experiment.metadata.name;
}

describe(
  'the experiment library with the real kubectl',
  requires(existsSync(KUBECTL) ? undefined : `no kubectl binary at ${KUBECTL} (make setup)`),
  () => {
    it('applies every library experiment as it is, and again unchanged', async () => {
      const created = await kubectl('apply', '-f', LIBRARY);
      for (const experiment of library) {
        expect(created).toContain(`chaosexperiment.catmesh.dev/${nameOf(experiment)} created`);
      }
      const again = await kubectl('apply', '-f', LIBRARY);
      expect(again.trim().split('\n')).toHaveLength(library.length);
      expect(again).not.toMatch(/created|configured/);
    });

    it('lists experiments by short name with the CRD printer columns', async () => {
      const [first] = library;
      if (first === undefined) throw new Error('the experiment library is empty');
      server.store.replaceStatus(
        {
          group: EXPERIMENT_GROUP,
          version: 'v1alpha1',
          plural: EXPERIMENT_PLURAL,
          kind: EXPERIMENT_KIND,
          statusSubresource: true,
        },
        'default',
        nameOf(first),
        {
          status: {
            phase: 'Finished',
            targetSummary: '1/1',
            fault: 'latency 200ms',
            verdict: 'held',
          },
        },
      );
      const [header = '', ...rows] = (await kubectl('get', 'cx')).trim().split('\n');
      expect(header.split(/\s+/)).toEqual(['NAME', 'PHASE', 'TARGETS', 'FAULT', 'VERDICT', 'AGE']);
      expect(rows.map((row) => row.split(/\s+/)[0]).sort()).toEqual(library.map(nameOf).sort());
      const row = rows.find((line) => line.startsWith(`${nameOf(first)} `)) ?? '';
      expect(row).toMatch(/\sFinished\s+1\/1\s+latency 200ms\s+held\s+\d+s$/);
    });

    it('deletes what it applied', async () => {
      await kubectl('delete', '-f', LIBRARY);
      expect(await kubectl('get', 'chaosexperiments', '-o', 'name')).toBe('');
    });
  },
);
