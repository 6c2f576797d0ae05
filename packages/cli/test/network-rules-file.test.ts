// What catmesh up hands the dashboard's network-rules panel: the chart of this checkout as the
// real helm renders it, or, without helm, no file (not an old one) and the reason.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests } from '@catmesh/netpol';
import { requires } from '@catmesh/testkit';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/local-mesh/mesh-instances.js';
import { renderNetworkRules } from '../src/local-mesh/network-rules-file.js';
import { StateDir } from '../src/local-mesh/state-dir.js';

const HELM = `${REPO_ROOT}.tools/bin/helm`;

describe(
  "the chart rendered for the dashboard's network rules",
  requires(existsSync(HELM) ? undefined : `${HELM} is missing: run make setup`),
  () => {
    let state: StateDir;
    beforeEach(async () => {
      state = new StateDir(await mkdtemp(join(tmpdir(), 'network-rules-file-')));
    });
    afterEach(() => rm(state.root, { recursive: true, force: true }));

    it("writes the chart's manifests, its NetworkPolicies among them, without the test hooks", async () => {
      expect(await renderNetworkRules(state)).toBeUndefined();
      const text = await readFile(state.networkRules, 'utf8');
      const cluster = parseManifests([{ name: state.networkRules, text }], 'default');
      expect(cluster.policies.length).toBeGreaterThan(5);
      expect(cluster.pods.map((pod) => pod.workload)).toEqual(
        expect.arrayContaining(['orders', 'inventory', 'cat-feeder', 'dashboard']),
      );
      expect(cluster.pods.map((pod) => pod.workload)).not.toContain('test-place-order');
    });

    it('says why when helm is not there, and leaves no older file behind', async () => {
      await writeFile(state.networkRules, 'old rules');
      const why = await renderNetworkRules(state, join(state.root, 'no-helm'));
      expect(why).toBe(`${join(state.root, 'no-helm')} is missing (make setup unpacks it)`);
      expect(existsSync(state.networkRules)).toBe(false);
    });
  },
);
