// The dashboard as a person sees it: a real `catmesh up` mesh (with loadgen), its page in
// Debian's Chromium, and what the page says with every source up, then with inventory killed.
// Screenshots of both states at a laptop's and a phone's width go to the test's temp directory
// and to /tmp/dashboard-shots/ for a person to look at.
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromiumProblem, launchChromium, requires } from '@catmesh/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunnerControlClient } from '../../../packages/cli/src/local-mesh/runner-control-client.js';
import { StateDir } from '../../../packages/cli/src/local-mesh/state-dir.js';
import {
  CatmeshProcess,
  freePortBase,
  requireBuiltCli,
  runCatmesh,
  tempStateDir,
  unbuiltService,
  userEnv,
} from '../../../packages/cli/test/support/local-mesh.js';

/** Generous: a loaded machine starts seven Node processes and elects a leader slowly. */
const SLOW = { timeout: 90_000, interval: 250 };
const SHOTS_FOR_PEOPLE = '/tmp/dashboard-shots';
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const PANEL_HEADINGS = [
  'topology-title',
  'raft-title',
  'slis-title',
  'faults-title',
  'traces-title',
  'sources-title',
];

describe(
  'the dashboard of a catmesh up mesh, in Chromium',
  requires(chromiumProblem() ?? unbuiltService('dashboard')),
  () => {
    let stateDir: string;
    let runner: CatmeshProcess | undefined;
    let browser: Browser;
    let page: Page;
    let url: string;
    let ordersEndpoint: string;
    const consoleErrors: string[] = [];

    beforeAll(async () => {
      requireBuiltCli();
      stateDir = await tempStateDir();
      const plan = await freePortBase();
      // The services send their traces to the dashboard's own OTLP receiver.
      runner = new CatmeshProcess(
        ['up', '--state-dir', stateDir, '--port-base', String(plan.base)],
        userEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${plan.dashboard.main}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          // SLIs over a short window, so that a fault of seconds moves the p50 shown.
          CATMESH_DASHBOARD_SLI_WINDOW: '10s',
        }),
      );
      await runner.waitForReady();
      url = `http://127.0.0.1:${plan.dashboard.main}/`;
      ordersEndpoint = `127.0.0.1:${plan.orders.main}`;
      browser = await launchChromium();
      page = await browser.newPage({ viewport: VIEWPORTS[0] });
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => consoleErrors.push(error.message));
      await page.goto(url);
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      if (runner && runner.child.exitCode === null) runner.child.kill('SIGINT');
      await runner?.exited;
      await runCatmesh(['down', '--state-dir', stateDir]);
      await rm(stateDir, { recursive: true, force: true });
    }, 60_000);

    async function screenshots(state: string): Promise<string[]> {
      const dir = join(stateDir, 'screenshots');
      await mkdir(dir, { recursive: true });
      await mkdir(SHOTS_FOR_PEOPLE, { recursive: true });
      const files: string[] = [];
      for (const viewport of VIEWPORTS) {
        await page.setViewportSize(viewport);
        const file = `dashboard-${state}-${viewport.width}x${viewport.height}.png`;
        await page.screenshot({ path: join(dir, file), fullPage: true });
        await copyFile(join(dir, file), join(SHOTS_FOR_PEOPLE, file));
        files.push(file);
      }
      await page.setViewportSize(VIEWPORTS[0]);
      return files;
    }

    it('prints its URL when the mesh is ready', () => {
      expect(runner!.stdout).toContain(`Dashboard: ${url}`);
    });

    it('shows 3 replicas and exactly one leader', async () => {
      await expect.poll(() => page.locator('#raft tr[data-replica]').count(), SLOW).toBe(3);
      await expect.poll(() => page.locator('#raft td[data-role="leader"]').count(), SLOW).toBe(1);
      await expect
        .poll(() => page.locator('#raft-summary').innerText(), SLOW)
        .toMatch(/^Leader: cat-feeder-\d, term \d+\./);
      // loadgen's orders show in the SLIs and on the topology's loadgen → orders edge.
      await expect.poll(() => page.locator('#sli-success').innerText(), SLOW).toMatch(/%$/);
      await expect.poll(() => page.locator('#cat-state').innerText(), SLOW).toMatch(/hungry|full/);
    });

    it('reaches every panel with Tab', async () => {
      await page.locator('body').focus();
      const reached = new Set<string>();
      for (let press = 0; press < 40 && reached.size < PANEL_HEADINGS.length; press += 1) {
        await page.keyboard.press('Tab');
        const focused = page.locator(':focus');
        // Nothing may be focused for a moment: getAttribute would wait for an element.
        const id =
          (await focused.count()) > 0
            ? ((await focused.getAttribute('id', { timeout: 1_000 }).catch(() => '')) ?? '')
            : '';
        if (PANEL_HEADINGS.includes(id)) reached.add(id);
      }
      expect([...reached].sort()).toEqual([...PANEL_HEADINGS].sort());
    });

    it('takes screenshots of the healthy mesh', async () => {
      const files = await screenshots('healthy');
      expect(files).toHaveLength(2);
    });

    /** The replicas that applied an entry in the span tree the page shows for `traceId`. */
    async function appliedOn(traceId: string): Promise<Set<string>> {
      const button = page.locator(`#orders button[data-trace="${traceId}"]`);
      // The list is drawn again every second: a button may be gone between two looks.
      if ((await button.count()) === 0) return new Set();
      await button.click({ timeout: 5_000 }).catch(() => undefined);
      const tree = page.locator(`#span-tree[data-trace="${traceId}"]`);
      await tree.waitFor({ timeout: 5_000 }).catch(() => undefined);
      const applies = await tree.locator('li[data-span="catfeeder.apply"]').all();
      const instances = await Promise.all(applies.map((li) => li.getAttribute('data-instance')));
      return new Set(instances.filter((name): name is string => name !== null));
    }

    it("lists an order's trace, whose span tree has the apply on every replica", async () => {
      const placed = await runCatmesh([
        ...['order', 'place', '--sku', 'kibble', '--quantity', '1', '--wait', '--timeout', '60s'],
        ...['--orders-endpoint', ordersEndpoint],
      ]);
      expect(placed.code, placed.stderr).toBe(0);
      // loadgen places orders too: any fulfilled order's trace shows the same path.
      await expect
        .poll(async () => {
          const ids = await Promise.all(
            (await page.locator('#orders button[data-trace]').all())
              .slice(0, 6)
              .map((button) => button.getAttribute('data-trace')),
          );
          for (const id of ids) {
            if (id && (await appliedOn(id)).size === 3) return true;
          }
          return false;
        }, SLOW)
        .toBe(true);
      expect(await page.locator('#span-tree').innerText()).toMatch(
        /OrderService\/PlaceOrder — orders — [\d.]+ ms/,
      );
      await screenshots('trace');
    }, 300_000);

    it('marks the orders → inventory edge while inventory answers late, and the p50 rises above the delay', async () => {
      // latency-is-zero, with a delay and a duration that a 10 s SLI window cannot miss.
      const file = join(stateDir, 'slow-inventory.yaml');
      await writeFile(
        file,
        [
          'apiVersion: catmesh.dev/v1alpha1',
          'kind: ChaosExperiment',
          'metadata: { name: dashboard-slow-inventory }',
          'spec:',
          '  description: Inventory answers orders 600 ms late for 15 s.',
          '  workload: { orders: { ratePerSecond: 2, deadline: 5s } }',
          '  steadyState:',
          '    before: 1s',
          '    after: 1s',
          '    hypothesis: [{ sli: orders.successRatio, atLeast: 0.5 }]',
          '  steps:',
          '    - name: slow-inventory',
          '      mechanism: app',
          '      fault: { kind: latency, delay: 600ms }',
          '      target: { service: inventory }',
          '      peers: { service: orders }',
          '      direction: inbound',
          '      transports: [grpc]',
          '      duration: 15s',
        ].join('\n'),
      );
      const run = runCatmesh(['chaos', 'run', file, '--state-dir', stateDir]);
      const edge = page.locator('#topology line[data-edge="orders→inventory"]');
      await expect.poll(() => edge.getAttribute('class'), SLOW).toContain('has-fault');
      await expect
        .poll(() => page.locator('#topology .fault-label').first().textContent(), SLOW)
        .toMatch(/⚡ latency .*600/);
      await expect
        .poll(async () => parseFloat(await page.locator('#sli-p50').innerText()), SLOW)
        .toBeGreaterThan(600);
      await screenshots('latency');
      const finished = await run;
      expect(finished.code, finished.stderr).toBe(0);
      await expect.poll(() => edge.getAttribute('class'), SLOW).not.toContain('has-fault');
    }, 180_000);

    it('shows the new leader and the change in its timeline after the leader is killed', async () => {
      const summary = page.locator('#raft-summary');
      await expect.poll(() => summary.innerText(), SLOW).toMatch(/^Leader: cat-feeder-\d/);
      const leader = /^Leader: (cat-feeder-\d)/.exec(await summary.innerText())![1]!;
      const changes = await page.locator('#raft .timeline li').count();
      const client = await RunnerControlClient.connect(new StateDir(stateDir));
      await client.applyProcessFault({
        id: 'dashboard-kill-leader',
        kind: 'kill',
        instance: leader,
        durationMs: 5_000,
        restartAfterMs: 5_000,
        experiment: 'dashboard-test',
      });
      // Between the two, the summary says there is no leader: wait for another one.
      await expect
        .poll(async () => {
          const now = /^Leader: (cat-feeder-\d)/.exec(await summary.innerText())?.[1];
          return now !== undefined && now !== leader;
        }, SLOW)
        .toBe(true);
      await expect
        .poll(() => page.locator('#raft .timeline li').count(), SLOW)
        .toBeGreaterThan(changes);
      expect(await page.locator('#raft .timeline').innerText()).toContain(leader);
      await screenshots('leader-killed');
    }, 120_000);

    it('says inventory is down, with the reason, and keeps updating the rest', async () => {
      const client = await RunnerControlClient.connect(new StateDir(stateDir));
      await client.applyProcessFault({
        id: 'dashboard-kill-inventory',
        kind: 'kill',
        instance: 'inventory',
        durationMs: 120_000,
        restartAfterMs: 120_000,
        experiment: 'dashboard-test',
      });
      const inventory = page.locator('#sources li[data-instance="inventory"]');
      await expect.poll(() => inventory.innerText(), SLOW).toMatch(/inventory: down \(.+\)/);
      // The Raft panel still follows the replicas: the time it last asked them moves on.
      const asked = await page.locator('#raft-summary').innerText();
      await expect.poll(() => page.locator('#raft-summary').innerText(), SLOW).not.toBe(asked);
      await expect.poll(() => page.locator('#raft td[data-role="leader"]').count(), SLOW).toBe(1);
      await screenshots('inventory-down');
    });

    it('has logged no console errors', () => {
      expect(consoleErrors).toEqual([]);
    });
  },
);
