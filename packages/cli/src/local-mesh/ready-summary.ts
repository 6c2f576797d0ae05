import { formatTable } from '../text-table.js';
import type { TraceExport } from './instance-environment.js';
import type { InstanceSpec } from './instance-spec.js';
import { address, MESH_HOST, SEED_STOCK } from './mesh-instances.js';
import { DEFAULT_PORT_BASE } from './port-plan.js';
import { DEFAULT_STATE_DIR, type StateDir } from './state-dir.js';

export interface ReadySummaryInput {
  readonly instances: readonly InstanceSpec[];
  readonly pids: ReadonlyMap<string, number>;
  readonly state: StateDir;
  /** The --state-dir as given, to repeat in the commands shown. */
  readonly stateDirArgument: string;
  readonly portBase: number;
  readonly traces: TraceExport;
  readonly elapsedMs: number;
}

/** The line a script (or a test) waits for before using the mesh. */
export const READY_LINE_START = 'catmesh: the mesh is ready';

/** What `catmesh up` prints once everything serves: where each instance is and what to try. */
export function readySummary(input: ReadySummaryInput): string {
  const { instances, pids, state, traces } = input;
  const rows = instances.map((spec) => [
    spec.name,
    String(pids.get(spec.name) ?? '-'),
    spec.service === 'nats'
      ? `nats://${address(spec.ports)}`
      : spec.service === 'dashboard'
        ? pageUrl(spec)
        : address(spec.ports),
    spec.metricsUrl ?? `http://${MESH_HOST}:${spec.ports.metrics}/ (monitoring)`,
  ]);
  const seconds = (input.elapsedMs / 1000).toFixed(1);
  return [
    `${READY_LINE_START} (${seconds}s). Ctrl-C here, or \`catmesh down${stateFlag(input)}\` from another shell, stops it.`,
    '',
    formatTable([['INSTANCE', 'PID', 'ADDRESS', 'METRICS'], ...rows]).trimEnd(),
    ...dashboardLines(instances),
    '',
    'Try (from the repository: npx catmesh ...):',
    ...tryCommands(input).map((line) => `  ${line}`),
    '',
    `Stock: ${Object.entries(SEED_STOCK)
      .map(([sku, units]) => `${sku} ${units}`)
      .join(', ')} (restocked once ever, so restarts add none)`,
    `State: ${state.root} (kept across runs; --fresh starts over)`,
    `Logs:  ${state.logsDir}/<instance>.log`,
    `Control: ${state.runnerControl} (kill and pause faults; crashed instances restart by themselves)`,
    ...tracesLines(
      traces,
      instances.some((spec) => spec.service === 'dashboard'),
    ),
    '',
  ].join('\n');
}

/** The dashboard's page (HTTP on its main port). */
function pageUrl(spec: InstanceSpec): string {
  return `http://${address(spec.ports)}/`;
}

function dashboardLines(instances: readonly InstanceSpec[]): string[] {
  const dashboard = instances.find((spec) => spec.service === 'dashboard');
  return dashboard
    ? ['', `Dashboard: ${pageUrl(dashboard)} (topology, Raft roles and terms, faults, SLIs, live)`]
    : [];
}

function stateFlag({ stateDirArgument }: ReadySummaryInput): string {
  return stateDirArgument === DEFAULT_STATE_DIR ? '' : ` --state-dir ${stateDirArgument}`;
}

function tryCommands(input: ReadySummaryInput): string[] {
  const { instances, portBase } = input;
  const moved = portBase !== DEFAULT_PORT_BASE;
  const replicas = instances.filter((spec) => spec.service === 'cat-feeder');
  const orders = instances.find((spec) => spec.service === 'orders');
  const endpoints = moved
    ? ` --endpoints ${replicas.map((spec) => address(spec.ports)).join(',')}`
    : '';
  const ordersFlag = moved && orders ? ` --orders-endpoint ${address(orders.ports)}` : '';
  const sku = Object.keys(SEED_STOCK)[0] ?? 'kibble';
  const state = stateFlag(input);
  const commands: [string, string][] = [
    [`catmesh kv get cat.state${endpoints}`, 'hungry, or full'],
  ];
  if (orders) {
    commands.push(
      [`catmesh order place --sku ${sku} --quantity 2${ordersFlag}`, 'feeds the cat'],
      [`catmesh order list${ordersFlag}`, 'newest first'],
    );
  }
  commands.push(
    [`catmesh status${state}`, 'health, Raft roles and terms, request rates'],
    [
      `catmesh logs --follow${state}`,
      `every instance; or one: catmesh logs ${orders ? 'orders' : 'nats'}`,
    ],
  );
  const width = Math.max(...commands.map(([command]) => command.length));
  return commands.map(([command, note]) => `${command.padEnd(width)}  # ${note}`);
}

/** How to run Jaeger and send the traces there (too, with a dashboard: it links to Jaeger). */
function jaegerHowTo(dashboard: boolean): string[] {
  return [
    '  docker run --rm -p 16686:16686 -p 4318:4318 jaegertracing/jaeger:latest',
    dashboard
      ? '  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 CATMESH_DASHBOARD_JAEGER_URL=http://localhost:16686 catmesh up'
      : '  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 catmesh up   # then http://localhost:16686',
  ];
}

/** Whether the dashboard links each order to a Jaeger UI, and how to get the links if not. */
function linksLine(traces: TraceExport): string {
  return traces.jaegerUi
    ? `  The dashboard links each order to its trace in Jaeger's UI at ${traces.jaegerUi} (CATMESH_DASHBOARD_JAEGER_URL).`
    : "  The dashboard links to no Jaeger UI: set CATMESH_DASHBOARD_JAEGER_URL to the UI's URL (e.g. http://localhost:16686) for a link on each order.";
}

function tracesLines(traces: TraceExport, dashboard: boolean): string[] {
  if (traces.toDashboard) {
    return [
      `Traces: to the dashboard's own OTLP receiver (${traces.endpoint}), one span tree per order there. For Jaeger as well, with a link on each order:`,
      ...jaegerHowTo(true),
      ...(traces.jaegerUi
        ? [
            `  (CATMESH_DASHBOARD_JAEGER_URL=${traces.jaegerUi} is set, but no trace goes to a Jaeger without OTEL_EXPORTER_OTLP_ENDPOINT: its links find nothing.)`,
          ]
        : []),
    ];
  }
  if (traces.enabled && traces.dashboardCopy) {
    return [
      `Traces: exported over OTLP to ${traces.endpoint}, and a copy of each span to the dashboard's receiver (${traces.dashboardCopy}) for its list of orders.`,
      linksLine(traces),
    ];
  }
  if (traces.enabled) {
    return [
      `Traces: exported over OTLP to ${traces.endpoint} (no dashboard in this mesh; a Jaeger shows them on its port 16686)`,
    ];
  }
  return [
    'Traces: off (OTEL_SDK_DISABLED=true). To see every order as one trace in Jaeger:',
    ...jaegerHowTo(dashboard),
  ];
}
