// The order-pipeline benchmark's figures as Markdown tables (readable on a terminal too), and the
// report with the machine, versions and method they depend on.
import type { MachineInfo } from './machine-info.js';
import { markdownTable as table } from './markdown-table.js';
import type { PipelineOptions, Tracing } from './order-pipeline-options.js';
import type { StepResult } from './pipeline-step.js';
import type { SearchResult } from './rate-search.js';
import type { OrderAudit } from './shop-client.js';

/** One search of one tracing mode, on a mesh of its own. */
export interface Search {
  readonly tracing: Tracing;
  readonly run: number;
  /** Where the mesh sent its spans, as its manifest says. */
  readonly traces: { readonly enabled: boolean; readonly endpoint?: string };
  /** % of one core the idle mesh used before the first step. */
  readonly idleCpuPercent: number;
  readonly result: SearchResult<StepResult>;
  /** Orders not FULFILLED once the search was over. */
  readonly audit: OrderAudit;
  /** The order traces the dashboard's receiver held at the end, and their median span count. */
  readonly received: { readonly orderTraces: number; readonly spansPerTrace: number };
}

export interface PipelineContext {
  readonly machine: MachineInfo;
  readonly natsServer: string;
  readonly options: PipelineOptions;
  readonly command: string;
  readonly startedAt: Date;
  readonly wallMs: number;
  readonly loadAtStart: string;
  readonly loadAtEnd: string;
}

const ms = (n: number) => (n < 10 ? n.toFixed(1) : n.toFixed(0));
const percent = (n: number) => `${n.toFixed(0)}%`;
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** The middle value (the lower middle one for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function errorList(errors: Readonly<Record<string, number>>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '0' : entries.map(([code, n]) => `${code} ${n}`).join(', ');
}

/** Every step of every search, in the order measured. */
export function stepsTable(searches: readonly Search[]): string {
  return table(
    4,
    [
      'tracing',
      'run',
      'step',
      'verdict',
      'offered/s',
      'ok/s',
      'ok %',
      'fulfilled/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'mesh CPU',
      'CPU ms/order',
      'drain s',
      'driver CPU',
      'machine CPU',
    ],
    searches.flatMap((s) =>
      s.result.steps.map(({ rate, phase, result: r }, i) => [
        s.tracing,
        String(s.run),
        `${i + 1} (${phase})`,
        r.passed ? 'pass' : r.verdict,
        String(rate),
        r.okPerSecond.toFixed(1),
        r.offered === 0 ? 'n/a' : ((r.ok / r.offered) * 100).toFixed(1),
        r.fulfilledPerSecond.toFixed(1),
        ms(r.p50Ms),
        ms(r.p99Ms),
        errorList(r.errors),
        percent(r.meshCpuPercent),
        r.meshCpuMsPerOrder.toFixed(1),
        r.drainMs === undefined ? 'not drained' : (r.drainMs / 1000).toFixed(1),
        percent(r.driverCpuPercent),
        percent(r.machineCpuPercent),
      ]),
    ),
  );
}

/** The step of a search at its sustained rate, if any passed. */
function sustainedStep(search: Search): StepResult | undefined {
  const { sustained, steps } = search.result;
  return steps.find((step) => step.rate === sustained && step.result.passed)?.result;
}

/** The search with the median sustained rate of each mode, and the range over all searches. */
function summaries(searches: readonly Search[], modes: readonly Tracing[]) {
  return modes.flatMap((tracing) => {
    const mine = searches.filter((s) => s.tracing === tracing);
    if (mine.length === 0) return [];
    const rates = mine.map((s) => s.result.sustained);
    const middle = median(rates);
    const search = mine.find((s) => s.result.sustained === middle)!;
    return [
      {
        tracing,
        searches: mine,
        median: middle,
        min: Math.min(...rates),
        max: Math.max(...rates),
        search,
        at: sustainedStep(search),
      },
    ];
  });
}

export function summaryTable(searches: readonly Search[], modes: readonly Tracing[]): string {
  const runs = Math.max(...modes.map((m) => searches.filter((s) => s.tracing === m).length));
  return table(
    1,
    [
      'tracing',
      'sustained orders/s (median)',
      `range (${runs} runs)`,
      'p50 ms',
      'p99 ms',
      'mesh CPU',
      'CPU ms/order',
      'above idle',
      'idle mesh CPU',
    ],
    summaries(searches, modes).map((s) => [
      s.tracing,
      String(s.median),
      `${s.min} – ${s.max}`,
      s.at ? ms(s.at.p50Ms) : 'n/a',
      s.at ? ms(s.at.p99Ms) : 'n/a',
      s.at ? percent(s.at.meshCpuPercent) : 'n/a',
      s.at ? s.at.meshCpuMsPerOrder.toFixed(1) : 'n/a',
      s.at ? cpuMsAboveIdle(s.search, s.at).toFixed(1) : 'n/a',
      percent(median(s.searches.map((x) => x.idleCpuPercent))),
    ]),
  );
}

/** Tracing on against off, in words: the sustained rates' medians. */
export function costLine(searches: readonly Search[]): string | undefined {
  const [off, on] = (['off', 'on'] as const).map((m) => summaries(searches, [m])[0]);
  if (!off || !on || off.median === 0) return undefined;
  const change = (on.median / off.median - 1) * 100;
  const words = change <= 0 ? `${(-change).toFixed(0)}% fewer` : `${change.toFixed(0)}% more`;
  return (
    `Tracing on sustains ${on.median} orders/s (median), tracing off ${off.median}: ` +
    `${ratio(on.median, off.median)}, ${words} with every span recorded and exported.`
  );
}

/**
 * Mesh CPU per order beyond what the idle mesh of the same search uses (the dashboard's polling,
 * Raft heartbeats): the work the orders themselves cost.
 */
function cpuMsAboveIdle(search: Search, step: StepResult): number {
  if (step.ok === 0) return 0;
  return ((step.meshCpuPercent - search.idleCpuPercent) * 10) / step.okPerSecond;
}

/**
 * Rates every search of both modes measured (the ramp is the same for all): what one order
 * costs with tracing on and off at the same offered load, medians over the runs.
 */
export function equalRateTable(searches: readonly Search[]): string | undefined {
  const off = searches.filter((s) => s.tracing === 'off');
  const on = searches.filter((s) => s.tracing === 'on');
  if (off.length === 0 || on.length === 0) return undefined;
  const all = [...off, ...on];
  const rates = [...new Set(all[0]!.result.steps.map((s) => s.rate))]
    .filter((rate) => all.every((s) => s.result.steps.some((step) => step.rate === rate)))
    .sort((a, b) => a - b);
  if (rates.length === 0) return undefined;
  const at = (
    mine: readonly Search[],
    rate: number,
    figure: (s: Search, r: StepResult) => number,
  ) =>
    median(mine.map((s) => figure(s, s.result.steps.find((step) => step.rate === rate)!.result)));
  const passed = (mine: readonly Search[], rate: number) =>
    `${mine.filter((s) => s.result.steps.some((step) => step.rate === rate && step.result.passed)).length}/${mine.length}`;
  return table(
    0,
    [
      'offered/s',
      'CPU ms/order off',
      'on',
      'on / off',
      'above idle off',
      'on',
      'on / off',
      'p50 ms off',
      'on',
      'p99 ms off',
      'on',
      'passed off',
      'on',
    ],
    rates.map((rate) => {
      const [cpuOff, cpuOn] = [off, on].map((m) => at(m, rate, (_, r) => r.meshCpuMsPerOrder));
      const [idleOff, idleOn] = [off, on].map((m) => at(m, rate, cpuMsAboveIdle));
      return [
        String(rate),
        cpuOff!.toFixed(1),
        cpuOn!.toFixed(1),
        ratio(cpuOn!, cpuOff!),
        idleOff!.toFixed(1),
        idleOn!.toFixed(1),
        ratio(idleOn!, idleOff!),
        ms(at(off, rate, (_, r) => r.p50Ms)),
        ms(at(on, rate, (_, r) => r.p50Ms)),
        ms(at(off, rate, (_, r) => r.p99Ms)),
        ms(at(on, rate, (_, r) => r.p99Ms)),
        passed(off, rate),
        passed(on, rate),
      ];
    }),
  );
}

/**
 * Where the CPU goes, per instance, at the highest rate every search of both modes passed:
 * who pays for the spans (each service recording and exporting, the dashboard receiving).
 */
export function instanceCpuTable(searches: readonly Search[]): string | undefined {
  const off = searches.filter((s) => s.tracing === 'off');
  const on = searches.filter((s) => s.tracing === 'on');
  if (off.length === 0 || on.length === 0) return undefined;
  const passedEverywhere = (rate: number) =>
    [...off, ...on].every((s) =>
      s.result.steps.some((step) => step.rate === rate && step.result.passed),
    );
  const rate = Math.max(
    0,
    ...off[0]!.result.steps.map((s) => s.rate).filter((r) => passedEverywhere(r)),
  );
  if (rate === 0) return undefined;
  const cpu = (mine: readonly Search[], name: string) =>
    median(
      mine.map(
        (s) => s.result.steps.find((step) => step.rate === rate)!.result.cpuPercent[name] ?? 0,
      ),
    );
  const names = Object.keys(off[0]!.result.steps[0]!.result.cpuPercent);
  const rows = names.map((name) => {
    const [a, b] = [cpu(off, name), cpu(on, name)];
    return [name, percent(a), percent(b), `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(0)}`];
  });
  return [
    `At ${rate} orders/s (median of each mode's runs), % of one core:`,
    '',
    table(1, ['instance', 'tracing off', 'tracing on', 'difference'], rows),
  ].join('\n');
}

export function auditTable(searches: readonly Search[]): string {
  return table(
    2,
    [
      'tracing',
      'run',
      'answered RESERVED',
      'pending',
      'reserved',
      'rejected',
      'failed',
      'released after ok',
      'stock conserved',
      'order traces at the dashboard',
      'spans per trace',
    ],
    searches.map((s) => {
      const steps = s.result.steps.map((step) => step.result);
      return [
        s.tracing,
        String(s.run),
        String(steps.reduce((n, r) => n + r.placedOk, 0)),
        String(s.audit.pending),
        String(s.audit.reserved),
        String(s.audit.rejected),
        String(s.audit.failed),
        String(steps.reduce((n, r) => n + r.uncommitted, 0)),
        steps.every((r) => r.stockConserved) ? 'yes' : 'no',
        String(s.received.orderTraces),
        String(s.received.spansPerTrace),
      ];
    }),
  );
}

/** The figures as printed on the terminal. */
export function figures(searches: readonly Search[], modes: readonly Tracing[]): string {
  const sections = [
    '## Sustained rate',
    summaryTable(searches, modes),
    costLine(searches),
    '## Same offered rate, tracing off and on',
    equalRateTable(searches),
    '## CPU by instance',
    instanceCpuTable(searches),
    '## Every step',
    stepsTable(searches),
    "## The shop's books",
    auditTable(searches),
  ];
  // A section whose table has nothing to show (one mode only) goes with its heading.
  const kept: string[] = [];
  for (let i = 0; i < sections.length; i++) {
    const text = sections[i];
    if (text === undefined) {
      if (kept.at(-1)?.startsWith('## ')) kept.pop();
      continue;
    }
    kept.push(text);
  }
  return kept.join('\n\n');
}

/** What the meshes' manifests say about their traces, per mode. */
function tracesSaid(searches: readonly Search[]): string {
  const said = new Set(
    searches.map(
      ({ tracing, traces }) =>
        `${tracing}: ${traces.enabled ? `spans to ${traces.endpoint ?? '?'}` : 'no spans'}`,
    ),
  );
  return [...said].join('; ');
}

function setup(context: PipelineContext, searches: readonly Search[]): string {
  const { machine: m, options: o } = context;
  const s = (n: number) => `${n / 1000} s`;
  const step = o.step;
  return [
    `- Machine: ${m.cpuModel}, nproc ${m.cpus}, ${m.memoryGiB} GiB, Linux ${m.kernel}. ` +
      `**The whole mesh (7 processes), the driver and whatever else runs on the machine share ` +
      `these ${m.cpus} cores** (1-minute load average ${context.loadAtStart} at the start, ` +
      `${context.loadAtEnd} at the end; the machine CPU column shows each step's neighbours): ` +
      'compare tracing off with on, not with figures from dedicated machines.',
    `- Versions: Node.js ${m.node}; ${context.natsServer}; catmesh ${m.gitCommit} (the services ` +
      'run from their built `dist/`).',
    '- The mesh: `catmesh up --fresh --no-loadgen` with a state directory under ' +
      `${m.dataFilesystem} and \`--port-base ${o.portBase}\`: nats-server with JetStream, three ` +
      'cat-feeder replicas, inventory, orders and the dashboard, every service at its defaults ' +
      '(logs at `info`). A fresh mesh for each search; the modes alternate (off first in odd ' +
      'runs, on first in even ones), so that both see the same machine.',
    '- Tracing on: no `OTEL_*` variable, so `catmesh up` points every service at the ' +
      "dashboard's OTLP/HTTP JSON receiver (`OTEL_EXPORTER_OTLP_ENDPOINT`, " +
      '`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, `OTEL_BSP_SCHEDULE_DELAY=500`): every service ' +
      'records every span (the driver sends no trace context, so orders starts each trace and ' +
      'samples it, always) and a batch span processor exports them every 500 ms. Tracing off: ' +
      '`OTEL_SDK_DISABLED=true` for every service (no SDK, nothing recorded). The dashboard ' +
      "runs in both modes and polls every instance in both. The meshes' `mesh.json` said: " +
      `${tracesSaid(searches)}.`,
    '- Driver: one Node.js process beside the mesh, PlaceOrder through the generated ' +
      '`ordersV1.OrderServiceClient` (one connection, no retries), open loop: orders are sent on ' +
      "a fixed schedule (loadgen's pacer), never waiting for answers, and each latency counts " +
      "from the order's scheduled time. One unit per order, a unique idempotency key each, " +
      `spread round-robin over ${step.skus} SKUs of the step's own, restocked just before it; ` +
      `a ${s(step.deadlineMs)} deadline.`,
    `- A step: ${s(step.warmupMs)} of load, then ${s(step.durationMs)} measured. Offered/s is the ` +
      'rate; ok/s counts the orders scheduled in the measured window that PlaceOrder answered ' +
      'RESERVED; p50/p99 are nearest rank over every order of the window (failed ones ' +
      'included; with a few hundred orders in a window, the p99 is among its slowest few); errors ' +
      'are the others, by gRPC status or order state. Fulfilled/s is the units of the ' +
      "step's SKUs committed during the window (GetStock as it opens and closes): the orders " +
      'fulfilment got through, behind PlaceOrder. After the load the step waits (up to ' +
      `${s(o.step.cooldownMs)}) until fulfilment has committed every reservation of its SKUs ` +
      '(drain s), so that no step inherits the backlog of the one before.',
    `- A step passes when at least ${step.minOkPercent}% of its orders were answered RESERVED, ` +
      `their p99 is below ${step.maxP99Ms} ms, and fulfilled/s is at least ` +
      `${step.minFulfilledPercent}% of ok/s: a rate whose orders pile up in RESERVED, the ` +
      'backlog growing for as long as the load lasts, is not sustained, whatever PlaceOrder ' +
      'answers.',
    `- The search: ${o.search.start} orders/s, then ×${o.search.factor} each step until one ` +
      `fails (at most ${o.search.maxRate}/s), then ${o.search.refine} bisection steps between the ` +
      'last rate that passed and the first that failed. The sustained rate is the highest that ' +
      `passed. ${o.runs} searches per mode; the summary shows the median search (the lower ` +
      'middle one for an even number) and the range.',
    "- CPU: user + system time of the mesh's 7 instance processes (`/proc/<pid>/stat`) during " +
      'the measured window, in % of one core (the machine has ' +
      `${m.cpus * 100}%); CPU ms/order is that time divided by the window's orders answered ` +
      'RESERVED (their fulfilment runs in the same window, the steady state). Above idle first ' +
      'takes away what the same mesh used while idle, over 2 s before its first step (the ' +
      "dashboard's polling, Raft heartbeats): what the orders themselves cost. The driver's CPU " +
      "and the whole machine's (`/proc/stat`) are beside it.",
    '- The books: after each step, the stock of its SKUs must add up (available + reserved + ' +
      'committed = restocked) and every order answered RESERVED must have been committed ' +
      '(released after ok counts those released instead). After each search, ListOrders counts ' +
      'the orders that are not FULFILLED, by state: PENDING ones come from calls that timed out ' +
      '(orders recovers them after 30 s), RESERVED ones are waiting for fulfilment, FAILED and ' +
      "REJECTED ones are orders the shop gave up on. Last, the dashboard's snapshot lists the " +
      'newest order traces its receiver holds whole (15 at most) with their spans: none with ' +
      'tracing off.',
  ].join('\n');
}

export function fullReport(context: PipelineContext, searches: readonly Search[]): string {
  const minutes = (context.wallMs / 60_000).toFixed(1);
  return [
    '# The order pipeline, tracing off and on',
    '',
    `Measured on ${context.startedAt.toISOString()} (${minutes} min) with:`,
    '',
    '```sh',
    context.command,
    '```',
    '',
    '## Setup',
    '',
    setup(context, searches),
    '',
    figures(searches, context.options.tracing),
    '',
  ].join('\n');
}
