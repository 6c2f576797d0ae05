// `catmesh chaos` as a user meets it beyond the library: bad experiment files are refused with
// the field named and nothing applied; a run killed with -9 leaves no fault behind past its
// expiry; the HTML report renders in a real browser with data in its charts.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import {
  FaultAdmins,
  parseExperiment,
  parseRunProgress,
  type ChaosReport,
  type MeshInstance,
} from '@catmesh/chaos';
import { ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { chromiumProblem, launchChromium, withEdits, type JsonEdit } from '@catmesh/testkit';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localMeshAccess } from '../src/local-mesh/local-mesh-access.js';
import { StateDir } from '../src/local-mesh/state-dir.js';
import { startChaosMesh, type ChaosMesh } from './support/chaos-mesh.js';
import { CatmeshProcess, requireBuiltCli, runCatmesh, userEnv } from './support/local-mesh.js';

const LIBRARY = fileURLToPath(new URL('../../../k8s/experiments/', import.meta.url));
const SCREENSHOTS = process.env['CATMESH_SCREENSHOT_DIR'];

let mesh: ChaosMesh;
let instances: MeshInstance[];
beforeAll(async () => {
  requireBuiltCli();
  mesh = await startChaosMesh('--no-loadgen', '--no-dashboard');
  instances = [...(await (await localMeshAccess(new StateDir(mesh.stateDir))).instances())];
}, 120_000);
afterAll(async () => {
  await mesh?.stop();
});

/** Every fault every instance holds now, as `instance/id`. */
async function faultsInForce(): Promise<string[]> {
  const admins = new FaultAdmins(instances);
  try {
    const lists = await Promise.all(
      admins.names.map(async (name) =>
        (await admins.list(name)).faults.map((f) => `${name}/${f.fault!.id}`),
      ),
    );
    return lists.flat().sort();
  } finally {
    admins.close();
  }
}

/** A library experiment with values set at paths, written to a temporary file. */
async function experimentFile(name: string, ...edits: JsonEdit[]): Promise<string> {
  const experiment = parseExperiment(await readFile(join(LIBRARY, `${name}.yaml`), 'utf8'), name);
  const file = join(await mkdtemp(join(tmpdir(), 'catmesh-experiment-')), `${name}.yaml`);
  await writeFile(file, stringify(withEdits(experiment, ...edits)));
  return file;
}

const PARTITION_STEP = {
  name: 'cut',
  fault: { kind: 'partition' },
  target: { service: 'inventory' },
  duration: '5s',
};

describe('catmesh chaos run', () => {
  it.each([
    [
      'an unknown fault kind',
      ['spec.steps[0].fault', { kind: 'meteor' }],
      'spec.steps[0].fault.kind',
    ],
    ['a negative duration', ['spec.steps[0].duration', '-10s'], 'spec.steps[0].duration'],
    [
      'an unknown field',
      ['spec.steps[0].target.servce', 'inventory'],
      'spec.steps[0].target.servce: unknown field',
    ],
    [
      'a selector matching nothing',
      ['spec.steps[0].target', { service: 'billing' }],
      'spec.steps[0].target: matches no instance',
    ],
    [
      'a mechanism this mesh lacks',
      ['spec.steps[0]', { ...PARTITION_STEP, mechanism: 'networkpolicy' }],
      'the networkpolicy mechanism is not available on',
    ],
  ] as const)('refuses %s: exit 2, the field named, nothing applied', async (_, edit, named) => {
    const file = await experimentFile('latency-is-zero', edit);
    const run = await runCatmesh(['chaos', 'run', file, '--state-dir', mesh.stateDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(named);
    expect(run.stderr).toMatch(/nothing was applied/);
    expect(await faultsInForce()).toEqual([]);
  });

  it('leaves no fault behind when it is killed with -9: every process reverts its own at expiry', async () => {
    await mesh.healthy();
    // A long latency step; the run is killed while it is in force.
    const file = await experimentFile(
      'latency-is-zero',
      ['spec.steadyState.before', '1s'],
      ['spec.steps[0].duration', '6s'],
    );
    const run = new CatmeshProcess(['chaos', 'run', file, '--state-dir', mesh.stateDir], userEnv());
    await vi.waitFor(async () => expect((await faultsInForce()).length).toBe(1), {
      timeout: 30_000,
      interval: 100,
    });
    const [held] = await faultsInForce();
    expect(held).toMatch(/^inventory\/latency-is-zero-.*-slow-inventory-inventory$/);
    run.child.kill('SIGKILL');
    await run.exited;
    // Still in force with its expiry, then gone by itself.
    const status = await runCatmesh(['chaos', 'status', '--json', '--state-dir', mesh.stateDir]);
    const rows = status.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { expiresInMs: number });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.expiresInMs).toBeGreaterThan(0);
    // The step's 6 s, plus the backstop second after which the holder reverts it by itself.
    expect(rows[0]!.expiresInMs).toBeLessThanOrEqual(7_000);
    await vi.waitFor(async () => expect(await faultsInForce()).toEqual([]), {
      timeout: 15_000,
      interval: 200,
    });
    // The SLI is back: an order takes far less than the 200 ms the fault added.
    const orders = new ordersV1.OrderServiceClient(
      instances.find((i) => i.service === 'orders')!.address,
      credentials.createInsecure(),
    );
    try {
      await vi.waitFor(
        async () => {
          const started = performance.now();
          await callUnary(
            orders,
            'placeOrder',
            {
              idempotencyKey: `after-kill-${Date.now()}`,
              customer: 'test',
              sku: 'kibble',
              quantity: 1,
            },
            { deadlineMs: 2_000 },
          );
          expect(performance.now() - started).toBeLessThan(200);
        },
        { timeout: 20_000, interval: 200 },
      );
    } finally {
      orders.close();
    }
    expect((await runCatmesh(['chaos', 'status', '--state-dir', mesh.stateDir])).stdout).toContain(
      'no fault in force',
    );
  });

  it('stops on Ctrl-C: reverts what it applied, writes the report anyway, exit 130; chaos stop reverts everything', async () => {
    await mesh.healthy();
    const file = await experimentFile(
      'latency-is-zero',
      ['spec.steadyState.before', '1s'],
      ['spec.steps[0].duration', '60s'],
    );
    const reportDir = await mkdtemp(join(tmpdir(), 'catmesh-chaos-report-'));
    const args = ['chaos', 'run', file, '--report-dir', reportDir, '--state-dir', mesh.stateDir];
    const first = new CatmeshProcess(args, userEnv());
    await vi.waitFor(async () => expect(await faultsInForce()).toHaveLength(1), {
      timeout: 30_000,
      interval: 100,
    });
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(130);
    expect(await faultsInForce()).toEqual([]);
    const report = JSON.parse(
      await readFile(join(reportDir, 'report.json'), 'utf8'),
    ) as ChaosReport;
    expect(report.run.interrupted).toBe(true);
    expect(report.steps[0]!.appliedAt).not.toBeNull();
    // Beside it, what the dashboard followed while it ran: the runner, its phase, the step's end.
    const progress = parseRunProgress(await readFile(join(reportDir, 'progress.json'), 'utf8'));
    expect(progress).toMatchObject({ experiment: 'latency-is-zero', pid: first.child.pid });
    expect(progress.steps[0]!.state).toBe('reverted');

    // `chaos stop` ends a run's faults from another shell; the run's own expiry is not needed.
    const second = new CatmeshProcess(
      [...args.slice(0, 3), '--state-dir', mesh.stateDir],
      userEnv(),
    );
    try {
      await vi.waitFor(async () => expect(await faultsInForce()).toHaveLength(1), {
        timeout: 30_000,
        interval: 100,
      });
      const stop = await runCatmesh(['chaos', 'stop', '--state-dir', mesh.stateDir]);
      expect(stop.code).toBe(0);
      expect(stop.stdout).toContain('reverted 1 fault');
      expect(await faultsInForce()).toEqual([]);
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });

  it('writes an HTML report that renders in Chromium, with data in its charts', async (context) => {
    const problem = chromiumProblem();
    if (problem) {
      if (process.env['CI'] === 'true') throw new Error(problem);
      context.skip(problem);
    }
    await mesh.healthy();
    const { dir, report } = await mesh.run(join(LIBRARY, 'kill-the-leader.yaml'), 0.3);
    expect(report.raft!.leaderChanges).toBeGreaterThanOrEqual(1);
    const browser = await launchChromium();
    try {
      for (const width of [1280, 390]) {
        const page = await browser.newPage({ viewport: { width, height: 800 } });
        const errors: string[] = [];
        page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
        page.on('pageerror', (error) => errors.push(String(error)));
        await page.goto(`file://${join(dir, 'report.html')}`);
        expect(await page.locator('h1').textContent()).toBe('kill-the-leader');
        expect(await page.locator('[data-verdict]').first().textContent()).toBe(
          report.hypothesis.verdict,
        );
        // Each operation has a latency line with points, failures drawn, the fault window shaded.
        for (const name of ['orders', 'catState', 'register']) {
          const section = page.locator(`section[data-operation="${name}"]`);
          const points = await section.locator('polyline.series-p50Ms').getAttribute('points');
          expect(points!.split(' ').length).toBeGreaterThan(5);
          expect(await section.locator('rect.succeeded').count()).toBeGreaterThan(5);
          expect(await section.locator('rect.fault-window').count()).toBeGreaterThan(0);
        }
        expect(await page.locator('rect.leader-span').count()).toBeGreaterThanOrEqual(2);
        expect(errors).toEqual([]);
        if (SCREENSHOTS)
          await page.screenshot({
            path: join(SCREENSHOTS, `chaos-report-${width}.png`),
            fullPage: true,
          });
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
