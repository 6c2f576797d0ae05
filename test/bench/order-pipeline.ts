// The order pipeline through the whole mesh (orders → inventory over gRPC, the order events on
// NATS JetStream, fulfilment → inventory and the cat-feeder Raft group): the highest rate of
// PlaceOrder it sustains, with tracing off and with every span recorded and exported, each on a
// fresh `catmesh up` mesh, the two modes alternating. What observability costs, in orders/s and
// in CPU per order.
//
//   node --conditions=@catmesh/source --import tsx test/bench/order-pipeline.ts \
//     [--runs 3] [--out docs/order-pipeline.md] [--json FILE]   (--help: every option)
//
// The method (open loop, what passes, the search) is in the report's Setup, from
// order-pipeline-report.ts; the services run from their built dist/ (make build).
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from './bench-flags.js';
import { LocalMesh } from './local-mesh-process.js';
import { describeMachine, loadAverage } from './machine-info.js';
import {
  parsePipelineOptions,
  USAGE,
  type PipelineOptions,
  type Tracing,
} from './order-pipeline-options.js';
import { figures, fullReport, median, type Search } from './order-pipeline-report.js';
import { measureStep } from './pipeline-step.js';
import { searchSustainedRate } from './rate-search.js';
import { Shop } from './shop-client.js';

/** The idle mesh is measured this long before the first step: the dashboard polls, Raft beats. */
const IDLE_MS = 2_000;

function parseOrExit(argv: readonly string[]): PipelineOptions {
  if (argv.includes('--help')) {
    console.log(USAGE);
    process.exit(0);
  }
  try {
    return parsePipelineOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`order-pipeline: ${error.message} (--help for the options)`);
    process.exit(2);
  }
}

function natsServerVersion(): string {
  try {
    return execFileSync('nats-server', ['--version']).toString().trim();
  } catch {
    return 'nats-server not found';
  }
}

async function idleCpuPercent(mesh: LocalMesh): Promise<number> {
  const total = () => [...mesh.cpuSeconds().values()].reduce((a, b) => a + b, 0);
  const before = total();
  await sleep(IDLE_MS);
  return ((total() - before) * 1000 * 100) / IDLE_MS;
}

async function search(options: PipelineOptions, tracing: Tracing, run: number): Promise<Search> {
  const mesh = await LocalMesh.start({ portBase: options.portBase, tracing: tracing === 'on' });
  const shop = new Shop(mesh.addressOf('orders'), mesh.addressOf('inventory'));
  try {
    const idle = await idleCpuPercent(mesh);
    let step = 0;
    const result = await searchSustainedRate(options.search, async (rate) => {
      const r = await measureStep(mesh, shop, `s${++step}`, rate, options.step);
      console.log(
        `tracing ${tracing}, run ${run}, ${rate}/s: ok ${r.okPerSecond.toFixed(1)}/s, ` +
          `fulfilled ${r.fulfilledPerSecond.toFixed(1)}/s, ` +
          `p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms, ` +
          `mesh CPU ${r.meshCpuPercent.toFixed(0)}%: ${r.passed ? 'pass' : r.verdict}`,
      );
      return r;
    });
    const traces = await mesh.orderTraces();
    return {
      tracing,
      run,
      traces: mesh.manifest.traces,
      idleCpuPercent: idle,
      result,
      audit: await shop.audit(),
      received: {
        orderTraces: traces.length,
        spansPerTrace: traces.length === 0 ? 0 : median(traces.map((t) => t.spans)),
      },
    };
  } finally {
    shop.close();
    await mesh.stop();
  }
}

const options = parseOrExit(process.argv.slice(2));
const startedAt = new Date();
const loadAtStart = loadAverage();
const searches: Search[] = [];
for (let run = 1; run <= options.runs; run++) {
  // Which mode goes first alternates too: neither always meets the machine fresher.
  const modes = run % 2 === 1 ? options.tracing : [...options.tracing].reverse();
  for (const tracing of modes) searches.push(await search(options, tracing, run));
}
const context = {
  machine: describeMachine(),
  natsServer: natsServerVersion(),
  options,
  command: [
    'node --conditions=@catmesh/source --import tsx test/bench/order-pipeline.ts',
    ...process.argv.slice(2),
  ].join(' '),
  startedAt,
  wallMs: Date.now() - startedAt.getTime(),
  loadAtStart,
  loadAtEnd: loadAverage(),
};
console.log(`\n${figures(searches, options.tracing)}`);
console.log(`\n${(context.wallMs / 1000).toFixed(0)} s in all`);
if (options.out) await writeFile(options.out, fullReport(context, searches));
if (options.json) {
  await writeFile(options.json, `${JSON.stringify({ ...context, searches }, null, 2)}\n`);
}
