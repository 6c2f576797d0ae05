// One order is one trace across real processes: `catmesh up` with traces sent to a stand-in
// collector, an order placed through the CLI, and the span tree from PlaceOrder to every
// cat-feeder replica applying `cat.state = full`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatmeshProcess,
  freePortBase,
  requireBuiltCli,
  runCatmesh,
  tempStateDir,
  repoRoot,
  userEnv,
} from './support/local-mesh.js';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

describe('catmesh up: one order, one trace', () => {
  let receiver: OtlpReceiver;
  let stateDir: string;
  let runner: CatmeshProcess | undefined;

  beforeAll(async () => {
    requireBuiltCli();
    receiver = await startOtlpReceiver();
    stateDir = await tempStateDir();
  });

  afterAll(async () => {
    if (runner && runner.child.exitCode === null) runner.child.kill('SIGINT');
    await runner?.exited;
    await runCatmesh(['down', '--state-dir', stateDir]);
    await rm(stateDir, { recursive: true, force: true });
    await receiver?.close();
  });

  it('links PlaceOrder, inventory, the JetStream event, fulfilment and the Raft commit on every replica', async () => {
    const plan = await freePortBase();
    runner = new CatmeshProcess(
      [
        'up',
        '--state-dir',
        stateDir,
        '--port-base',
        String(plan.base),
        '--no-loadgen',
        '--no-dashboard',
      ],
      userEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      }),
    );
    await runner.waitForReady();

    const placed = await runCatmesh([
      'order',
      'place',
      '--sku',
      'kibble',
      '--quantity',
      '1',
      '--wait',
      '--orders-endpoint',
      `127.0.0.1:${plan.orders.main}`,
    ]);
    expect(placed.code, placed.stderr).toBe(0);

    const isPlaceOrder = (s: ReceivedSpan) =>
      s.serviceName === 'orders' && s.kind === SERVER && s.name.endsWith('OrderService/PlaceOrder');
    const spans = await receiver.waitForSpans((all) => {
      const root = all.find(isPlaceOrder);
      return (
        root !== undefined &&
        all.filter((s) => s.traceId === root.traceId && s.name === 'catfeeder.apply').length >= 3
      );
    }, 30_000);
    const root = spans.find(isPlaceOrder)!;
    const trace = spans.filter((s) => s.traceId === root.traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    /** The chain of (service, kind) from a span up to the root of its trace. */
    const ancestry = (span: ReceivedSpan): string[] => {
      const chain: string[] = [];
      for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId)) {
        chain.push(`${s.serviceName}:${s.name}`);
      }
      return chain;
    };

    // Reserving stock: orders calls inventory inside PlaceOrder.
    const reserve = trace.find(
      (s) => s.serviceName === 'inventory' && s.kind === SERVER && s.name.endsWith('/Reserve'),
    );
    expect(reserve && ancestry(reserve).at(-1)).toBe(`orders:${root.name}`);

    // The event, its consumer, the cat-feeder write, and its commit on every replica.
    const apply = trace.filter((s) => s.name === 'catfeeder.apply');
    expect(new Set(apply.map((s) => s.attributes['catfeeder.member'])).size).toBe(3);
    const chain = ancestry(apply[0]!);
    expect(chain.at(-1)).toBe(`orders:${root.name}`);
    const kinds = chain.map((link) => trace.find((s) => `${s.serviceName}:${s.name}` === link)!);
    expect(kinds.some((s) => s.kind === PRODUCER && s.serviceName === 'orders')).toBe(true);
    expect(kinds.some((s) => s.kind === CONSUMER && s.serviceName === 'orders')).toBe(true);
    expect(kinds.some((s) => s.kind === CLIENT && s.name.endsWith('CatFeederService/Put'))).toBe(
      true,
    );
    expect(chain).toContain('cat-feeder:catfeeder.propose');
    // Every replica's apply hangs off the same propose span, on the leader.
    expect(new Set(apply.map((s) => s.parentSpanId)).size).toBe(1);
  });

  it('uses no edge the chart’s NetworkPolicies would block (`catmesh netpol check --observed`)', async () => {
    const helm = join(repoRoot, '.tools/bin/helm');
    expect(existsSync(helm), 'run make setup: .tools/bin/helm is missing').toBe(true);
    const manifests = join(stateDir, 'rendered.yaml');
    const dump = join(stateDir, 'traces.jsonl');
    await writeFile(
      manifests,
      execFileSync(helm, ['template', 'catmesh', join(repoRoot, 'helm/catmesh')], {
        encoding: 'utf8',
      }),
    );
    await writeFile(dump, receiver.dump());
    const checked = await runCatmesh(['netpol', 'check', manifests, '--observed', dump]);
    expect(checked.stderr).toBe('');
    expect(checked.stdout).not.toContain('used but not allowed');
    expect(checked.stdout).toMatch(/every edge used in \d+ spans is allowed/);
    // The trace showed the calls of an order: they are allowed, hence not "never used".
    for (const edge of [
      'orders -> inventory:grpc',
      'orders -> nats:client',
      'orders -> cat-feeder:grpc',
    ]) {
      expect(checked.stdout).not.toContain(`allowed but never used: ${edge}\n`);
    }
    expect(checked.code, checked.stderr).toBe(0);
  });
});
